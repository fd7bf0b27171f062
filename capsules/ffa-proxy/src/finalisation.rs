//! Finalisation: the steps that turn a pass-through EL2 into the FF-A proxy.
//!
//! Until it is finalised the proxy traps nothing: the host's SMCs go straight
//! to the monitor. Finalisation then runs five steps, one per kernel request
//! (one HVC each), so the kernel can spread it over main-loop turns:
//!
//! 1. `FFA_VERSION(v1.2)`: the monitor's version must have major 1; the
//!    proxy uses min(v1.2, monitor). `NOT_SUPPORTED` means either no FF-A at
//!    all or a monitor that refuses v1.2; step 2 tells them apart.
//! 2. `FFA_ID_GET`: must answer 0, the ID the proxy shares with the host.
//!    (If step 1 answered `NOT_SUPPORTED` and this one does too, the monitor
//!    has no FF-A: the proxy finalises without it and answers every FF-A call
//!    `NOT_SUPPORTED`, as the monitor would.)
//! 3. `FFA_FEATURES(FFA_RXTX_MAP_64)`: the minimum buffer granule must be
//!    4 KiB, and (v1.2) the maximum buffer size must fit the mailbox.
//! 4. `FFA_RXTX_MAP_64` of the proxy's own mailbox. From now on the monitor
//!    writes partition information into the proxy's RX buffer, never into the
//!    host's. If an FF-A client already mapped its own pair (it ran before
//!    finalisation), the monitor answers `DENIED` here.
//! 5. Trap the host's SMCs (`HCR_EL2.TSC`): the runtime does this when
//!    [`FinalisationStatus::Finalised`] comes back.
//!
//! `BUSY`, `RETRY` and `NOT_READY` repeat the step at the next request, up
//! to [`MAXIMUM_ATTEMPTS`] times; any other error fails finalisation for
//! good, with the step and the monitor's answer in the [`FinalisationError`].

use crate::function::{FFA_FEATURES, FFA_ID_GET, FFA_RXTX_MAP_64, FFA_VERSION};
use crate::memory::Mailbox;
use crate::reply;
use crate::version::PROXY_HIGHEST;
use crate::Registers;
use ffa_abi::{PartitionId, ReplyKind, Status, Version};

/// How many times a step is tried while the monitor answers `BUSY`,
/// `RETRY` or `NOT_READY`.
pub const MAXIMUM_ATTEMPTS: u8 = 8;

/// A step of finalisation, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FinalisationStep {
    /// 1: `FFA_VERSION`.
    Version,
    /// 2: `FFA_ID_GET`.
    IdGet,
    /// 3: `FFA_FEATURES(FFA_RXTX_MAP_64)`.
    RxTxFeatures,
    /// 4: `FFA_RXTX_MAP_64` of the proxy's mailbox.
    RxTxMap,
    /// 5: trap the host's SMCs.
    SmcTrap,
}

impl FinalisationStep {
    /// Number of steps.
    pub const COUNT: u8 = 5;

    /// The step's number, 1 to [`FinalisationStep::COUNT`].
    pub const fn number(self) -> u8 {
        match self {
            FinalisationStep::Version => 1,
            FinalisationStep::IdGet => 2,
            FinalisationStep::RxTxFeatures => 3,
            FinalisationStep::RxTxMap => 4,
            FinalisationStep::SmcTrap => 5,
        }
    }

    /// The step numbered `number`.
    pub const fn from_number(number: u8) -> Option<FinalisationStep> {
        match number {
            1 => Some(FinalisationStep::Version),
            2 => Some(FinalisationStep::IdGet),
            3 => Some(FinalisationStep::RxTxFeatures),
            4 => Some(FinalisationStep::RxTxMap),
            5 => Some(FinalisationStep::SmcTrap),
            _ => None,
        }
    }

    /// What the step does, for logs.
    pub const fn description(self) -> &'static str {
        match self {
            FinalisationStep::Version => "FFA_VERSION negotiation with the monitor",
            FinalisationStep::IdGet => "FFA_ID_GET check",
            FinalisationStep::RxTxFeatures => "FFA_FEATURES(FFA_RXTX_MAP_64) granule check",
            FinalisationStep::RxTxMap => "FFA_RXTX_MAP_64 of the proxy's own RX/TX pair",
            FinalisationStep::SmcTrap => "trapping of the host's SMCs (HCR_EL2.TSC)",
        }
    }
}

impl defmt::Format for FinalisationStep {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(
            formatter,
            "step {=u8}/{=u8} ({=str})",
            self.number(),
            FinalisationStep::COUNT,
            self.description()
        );
    }
}

/// Why a step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The monitor answered x0 = -1 (not implemented).
    NotSupported,
    /// The monitor answered `FFA_ERROR` with this code.
    MonitorError(Status),
    /// The monitor answered something this step cannot use (x0 shown).
    UnexpectedReply(u32),
    /// The monitor implements an FF-A major version other than 1.
    IncompatibleVersion(Version),
    /// `FFA_VERSION(v1.2)` was refused although the monitor implements FF-A.
    VersionRefused,
    /// `FFA_ID_GET` answered an ID other than 0.
    UnexpectedEndpointId(u16),
    /// `FFA_FEATURES(FFA_RXTX_MAP_64)` asks for buffers of this granule
    /// (w2\[1:0\]: 1 = 64 KiB, 2 = 16 KiB, 3 = reserved); the proxy has 4 KiB.
    UnsupportedGranule(u32),
    /// The monitor maps at most this many pages, fewer than the mailbox has.
    MailboxTooLarge {
        /// w2\[31:16\] of the `FFA_FEATURES` reply.
        maximum_pages: u16,
    },
}

impl defmt::Format for FailureReason {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            FailureReason::NotSupported => {
                defmt::write!(formatter, "the monitor answered NOT_SUPPORTED (x0 = -1)")
            }
            FailureReason::MonitorError(Status::Unknown(code)) => defmt::write!(
                formatter,
                "the monitor answered FFA_ERROR(unknown error {=i32})",
                *code
            ),
            FailureReason::MonitorError(error) => defmt::write!(
                formatter,
                "the monitor answered FFA_ERROR({=str}({=i32}))",
                error.name(),
                error.code()
            ),
            FailureReason::UnexpectedReply(x0) => {
                defmt::write!(formatter, "the monitor answered x0 = {=u32:#010x}", *x0)
            }
            FailureReason::IncompatibleVersion(version) => {
                defmt::write!(formatter, "the monitor implements FF-A {}", version)
            }
            FailureReason::VersionRefused => defmt::write!(
                formatter,
                "the monitor refused FFA_VERSION({}) but answers other FF-A calls",
                PROXY_HIGHEST
            ),
            FailureReason::UnexpectedEndpointId(id) => {
                defmt::write!(formatter, "FFA_ID_GET answered {=u16:#06x}, not 0", *id)
            }
            FailureReason::UnsupportedGranule(granule) => defmt::write!(
                formatter,
                "the monitor needs RX/TX granule {=u32} (not 4 KiB)",
                *granule
            ),
            FailureReason::MailboxTooLarge { maximum_pages } => defmt::write!(
                formatter,
                "the monitor maps at most {=u16} pages per buffer",
                *maximum_pages
            ),
        }
    }
}

/// A failed finalisation: which step, why, after how many attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalisationError {
    /// The step that failed.
    pub step: FinalisationStep,
    /// What the monitor answered.
    pub reason: FailureReason,
    /// How many times the step was tried.
    pub attempts: u8,
}

impl FinalisationError {
    /// The likely cause, in words, for the log.
    pub fn explanation(&self) -> &'static str {
        match (self.step, self.reason) {
            (FinalisationStep::RxTxMap, FailureReason::MonitorError(Status::Denied)) => {
                "the monitor already holds an RX/TX pair for endpoint 0, which the proxy shares \
                 with the host: an FF-A client mapped its own buffers before the proxy was \
                 finalised (the FF-A root must wait for proxy finalisation)"
            }
            (FinalisationStep::Version, FailureReason::VersionRefused) => {
                "an FF-A client probably negotiated another version with the monitor before the \
                 proxy was finalised (the FF-A root must wait for proxy finalisation)"
            }
            (_, FailureReason::MonitorError(error)) if error.is_transient() => {
                "the monitor stayed busy or not ready for every attempt"
            }
            (_, FailureReason::IncompatibleVersion(_)) => "the proxy speaks FF-A v1.x only",
            (_, FailureReason::UnexpectedEndpointId(_)) => {
                "the non-secure physical FF-A instance must have ID 0, which the proxy shares \
                 with the host"
            }
            (_, FailureReason::UnsupportedGranule(_) | FailureReason::MailboxTooLarge { .. }) => {
                "the proxy's mailbox is one 4 KiB page per buffer"
            }
            _ => "the monitor does not offer what the proxy needs",
        }
    }
}

impl defmt::Format for FinalisationError {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(
            formatter,
            "{} failed after {=u8} attempt(s): {}",
            self.step,
            self.attempts,
            self.reason
        );
    }
}

/// Where finalisation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalisationStatus {
    /// Not started: the proxy passes everything through.
    NotStarted,
    /// Running; `next` is the step the next request performs.
    InProgress {
        /// The step the next request performs.
        next: FinalisationStep,
        /// Attempts already made at `next` (non-zero while the monitor is busy).
        attempts: u8,
    },
    /// Done: the host's SMCs are trapped and mediated.
    Finalised {
        /// The FF-A version the proxy uses with the monitor and offers the
        /// host; `None` if the monitor has no FF-A (every FF-A call of the
        /// host is then answered `NOT_SUPPORTED`).
        version: Option<Version>,
    },
    /// Failed for good: nothing is trapped, calls still go straight to the monitor.
    Failed(FinalisationError),
}

impl defmt::Format for FinalisationStatus {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            FinalisationStatus::NotStarted => defmt::write!(formatter, "not started"),
            FinalisationStatus::InProgress { next, attempts } => defmt::write!(
                formatter,
                "in progress, next {} (attempts so far {=u8})",
                next,
                *attempts
            ),
            FinalisationStatus::Finalised {
                version: Some(version),
            } => {
                defmt::write!(formatter, "finalised with FF-A {}", version)
            }
            FinalisationStatus::Finalised { version: None } => {
                defmt::write!(formatter, "finalised without FF-A (the monitor has none)")
            }
            FinalisationStatus::Failed(error) => defmt::write!(formatter, "failed: {}", error),
        }
    }
}

/// What step 1 learnt about the monitor's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MonitorVersion {
    /// Not asked yet.
    Unknown,
    /// Negotiated: the version the proxy uses.
    Negotiated(Version),
    /// `FFA_VERSION` answered `NOT_SUPPORTED`: no FF-A, or a refusal.
    NotSupported,
}

/// Progress through the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) next: FinalisationStep,
    pub(crate) attempts: u8,
    pub(crate) version: MonitorVersion,
}

impl Progress {
    pub(crate) const START: Progress = Progress {
        next: FinalisationStep::Version,
        attempts: 0,
        version: MonitorVersion::Unknown,
    };
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepResult {
    /// Carry on from this progress.
    Continue(Progress),
    /// All steps done: trap SMCs now.
    Finalised { version: Option<Version> },
    /// Failed for good.
    Failed(FinalisationError),
}

/// How a monitor reply to a step's call ends the step.
enum Verdict {
    /// Go on with `next`, having learnt `version`.
    Advance(FinalisationStep, MonitorVersion),
    /// All steps done.
    Finalised(Option<Version>),
    /// Try the same step again.
    Transient(Status),
    /// Give up.
    Fail(FailureReason),
}

/// Turns a reply that should be `FFA_SUCCESS` into a verdict-to-be.
fn success_or(reply: &Registers) -> Result<(), Verdict> {
    match reply::kind(reply) {
        ReplyKind::Success(_) => Ok(()),
        ReplyKind::Error(error) if error.is_transient() => Err(Verdict::Transient(error)),
        ReplyKind::Error(error) => Err(Verdict::Fail(FailureReason::MonitorError(error))),
        ReplyKind::NotSupported => Err(Verdict::Fail(FailureReason::NotSupported)),
        ReplyKind::Function(_) | ReplyKind::Value(_) => Err(Verdict::Fail(
            FailureReason::UnexpectedReply(reply[0] as u32),
        )),
    }
}

fn version_step(monitor: &mut dyn FnMut(&Registers) -> Registers) -> Verdict {
    let reply = monitor(&reply::call(FFA_VERSION, &[u64::from(PROXY_HIGHEST.raw())]));
    match reply::kind(&reply) {
        ReplyKind::NotSupported => {
            Verdict::Advance(FinalisationStep::IdGet, MonitorVersion::NotSupported)
        }
        ReplyKind::Error(error) if error.is_transient() => Verdict::Transient(error),
        ReplyKind::Error(error) => Verdict::Fail(FailureReason::MonitorError(error)),
        ReplyKind::Success(_) | ReplyKind::Function(_) => {
            Verdict::Fail(FailureReason::UnexpectedReply(reply[0] as u32))
        }
        ReplyKind::Value(value) => match Version::from_raw(value).ok() {
            Some(version) if version.is_compatible() => Verdict::Advance(
                FinalisationStep::IdGet,
                MonitorVersion::Negotiated(version.min(PROXY_HIGHEST)),
            ),
            Some(version) => Verdict::Fail(FailureReason::IncompatibleVersion(version)),
            None => Verdict::Fail(FailureReason::UnexpectedReply(value)),
        },
    }
}

fn id_get_step(
    version: MonitorVersion,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> Verdict {
    let reply = monitor(&reply::call(FFA_ID_GET, &[]));
    if version == MonitorVersion::NotSupported {
        // No FF-A at all, or FF-A that refused our version?
        return match reply::kind(&reply) {
            ReplyKind::NotSupported | ReplyKind::Error(Status::NotSupported) => {
                Verdict::Advance(FinalisationStep::SmcTrap, version)
            }
            _ => Verdict::Fail(FailureReason::VersionRefused),
        };
    }
    if let Err(verdict) = success_or(&reply) {
        return verdict;
    }
    let id = reply[2] as u16;
    if id != PartitionId::NORMAL_WORLD.raw() {
        return Verdict::Fail(FailureReason::UnexpectedEndpointId(id));
    }
    Verdict::Advance(FinalisationStep::RxTxFeatures, version)
}

fn features_step(
    version: MonitorVersion,
    mailbox: &Mailbox,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> Verdict {
    let reply = monitor(&reply::call(FFA_FEATURES, &[u64::from(FFA_RXTX_MAP_64)]));
    if let Err(verdict) = success_or(&reply) {
        return verdict;
    }
    let properties = reply[2] as u32;
    let granule = properties & 0b11;
    if granule != 0 {
        return Verdict::Fail(FailureReason::UnsupportedGranule(granule));
    }
    let maximum_pages = (properties >> 16) as u16;
    let reports_maximum =
        matches!(version, MonitorVersion::Negotiated(version) if version >= Version::V1_2);
    if reports_maximum && maximum_pages != 0 && u32::from(maximum_pages) < mailbox.page_count {
        return Verdict::Fail(FailureReason::MailboxTooLarge { maximum_pages });
    }
    Verdict::Advance(FinalisationStep::RxTxMap, version)
}

fn map_step(
    version: MonitorVersion,
    mailbox: &Mailbox,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> Verdict {
    let reply = monitor(&reply::call(
        FFA_RXTX_MAP_64,
        &[
            mailbox.transmit,
            mailbox.receive,
            u64::from(mailbox.page_count),
        ],
    ));
    if let Err(verdict) = success_or(&reply) {
        return verdict;
    }
    Verdict::Advance(FinalisationStep::SmcTrap, version)
}

/// Performs `progress.next`, making at most one call to `monitor`.
pub(crate) fn run_step(
    progress: Progress,
    mailbox: &Mailbox,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> StepResult {
    let verdict = match progress.next {
        FinalisationStep::Version => version_step(monitor),
        FinalisationStep::IdGet => id_get_step(progress.version, monitor),
        FinalisationStep::RxTxFeatures => features_step(progress.version, mailbox, monitor),
        FinalisationStep::RxTxMap => map_step(progress.version, mailbox, monitor),
        FinalisationStep::SmcTrap => Verdict::Finalised(match progress.version {
            MonitorVersion::Negotiated(version) => Some(version),
            MonitorVersion::Unknown | MonitorVersion::NotSupported => None,
        }),
    };
    let attempts = progress.attempts.saturating_add(1);
    match verdict {
        Verdict::Advance(next, version) => StepResult::Continue(Progress {
            next,
            attempts: 0,
            version,
        }),
        Verdict::Finalised(version) => StepResult::Finalised { version },
        Verdict::Transient(_) if attempts < MAXIMUM_ATTEMPTS => StepResult::Continue(Progress {
            attempts,
            ..progress
        }),
        Verdict::Transient(error) => StepResult::Failed(FinalisationError {
            step: progress.next,
            reason: FailureReason::MonitorError(error),
            attempts,
        }),
        Verdict::Fail(reason) => StepResult::Failed(FinalisationError {
            // Step 2 finds out that step 1's refusal was not "no FF-A".
            step: if reason == FailureReason::VersionRefused {
                FinalisationStep::Version
            } else {
                progress.next
            },
            reason,
            attempts,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::function::{FFA_ERROR, FFA_SUCCESS_32};
    use crate::REGISTER_COUNT;
    use std::vec::Vec;

    const MAILBOX: Mailbox = Mailbox {
        transmit: 0x5fe0_0000,
        receive: 0x5fe0_1000,
        page_count: 1,
    };

    fn registers(values: &[u64]) -> Registers {
        let mut registers = [0u64; REGISTER_COUNT];
        registers[..values.len()].copy_from_slice(values);
        registers
    }

    fn success(w2: u64) -> Registers {
        registers(&[u64::from(FFA_SUCCESS_32), 0, w2])
    }

    fn error(error: Status) -> Registers {
        registers(&[u64::from(FFA_ERROR), 0, u64::from(error.code() as u32)])
    }

    /// Runs steps against scripted replies until finalisation ends; returns
    /// the result and the calls made.
    fn run(replies: &[Registers]) -> (StepResult, Vec<Registers>) {
        let mut calls = Vec::new();
        let mut script = replies.iter();
        let mut monitor = |call: &Registers| {
            calls.push(*call);
            *script
                .next()
                .expect("more monitor calls than scripted replies")
        };
        let mut progress = Progress::START;
        for _ in 0..64 {
            match run_step(progress, &MAILBOX, &mut monitor) {
                StepResult::Continue(next) => progress = next,
                end => return (end, calls),
            }
        }
        panic!("finalisation did not end");
    }

    #[test]
    fn steps_are_numbered_in_order() {
        for number in 1..=FinalisationStep::COUNT {
            let step = FinalisationStep::from_number(number).unwrap();
            assert_eq!(step.number(), number);
        }
        assert_eq!(FinalisationStep::from_number(0), None);
        assert_eq!(FinalisationStep::from_number(6), None);
        assert!(FinalisationStep::Version < FinalisationStep::SmcTrap);
    }

    #[test]
    fn a_healthy_monitor_finalises_in_five_steps_with_one_call_each() {
        let (result, calls) = run(&[
            registers(&[0x0001_0002]),
            success(0),
            success(16 << 16),
            success(0),
        ]);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_2)
            }
        );
        let functions: Vec<u32> = calls.iter().map(|call| call[0] as u32).collect();
        assert_eq!(
            functions,
            [FFA_VERSION, FFA_ID_GET, FFA_FEATURES, FFA_RXTX_MAP_64]
        );
        assert_eq!(calls[0][1], 0x0001_0002);
        assert_eq!(calls[2][1], u64::from(FFA_RXTX_MAP_64));
        assert_eq!(&calls[3][1..4], &[0x5fe0_0000, 0x5fe0_1000, 1]);
    }

    #[test]
    fn an_older_monitor_sets_the_version() {
        let (result, _) = run(&[
            registers(&[0x0001_0000]),
            success(0),
            success(0),
            success(0),
        ]);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_0)
            }
        );
        let (result, _) = run(&[
            registers(&[0x0001_0005]),
            success(0),
            success(0),
            success(0),
        ]);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_2)
            }
        );
    }

    #[test]
    fn a_monitor_without_ffa_finalises_without_it() {
        let (result, calls) = run(&[registers(&[u64::MAX]), registers(&[u64::MAX])]);
        assert_eq!(result, StepResult::Finalised { version: None });
        assert_eq!(calls.len(), 2);
    }

    #[test]
    fn a_refused_version_with_ffa_present_fails_at_step_one() {
        let (result, _) = run(&[registers(&[u64::MAX]), success(0)]);
        assert_eq!(
            result,
            StepResult::Failed(FinalisationError {
                step: FinalisationStep::Version,
                reason: FailureReason::VersionRefused,
                attempts: 1,
            })
        );
    }

    #[test]
    fn an_early_client_makes_the_mailbox_map_fail_with_denied() {
        let (result, _) = run(&[
            registers(&[0x0001_0002]),
            success(0),
            success(0),
            error(Status::Denied),
        ]);
        let StepResult::Failed(failure) = result else {
            panic!("expected a failure, got {result:?}");
        };
        assert_eq!(failure.step, FinalisationStep::RxTxMap);
        assert_eq!(failure.reason, FailureReason::MonitorError(Status::Denied));
        assert!(failure
            .explanation()
            .contains("before the proxy was finalised"));
    }

    #[test]
    fn busy_and_not_ready_are_retried_a_bounded_number_of_times() {
        let mut replies = std::vec![error(Status::NotReady), error(Status::Busy)];
        replies.extend([
            registers(&[0x0001_0001]),
            success(0),
            success(0),
            success(0),
        ]);
        let (result, calls) = run(&replies);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_1)
            }
        );
        assert_eq!(calls.len(), 6);

        let forever = [error(Status::Busy); MAXIMUM_ATTEMPTS as usize];
        let (result, calls) = run(&forever);
        assert_eq!(calls.len(), MAXIMUM_ATTEMPTS as usize);
        assert_eq!(
            result,
            StepResult::Failed(FinalisationError {
                step: FinalisationStep::Version,
                reason: FailureReason::MonitorError(Status::Busy),
                attempts: MAXIMUM_ATTEMPTS,
            })
        );
    }

    #[test]
    fn bad_answers_fail_the_step_that_got_them() {
        let failure = |replies: &[Registers]| match run(replies).0 {
            StepResult::Failed(failure) => (failure.step, failure.reason),
            other => panic!("expected a failure, got {other:?}"),
        };
        assert_eq!(
            failure(&[registers(&[0x0002_0000])]),
            (
                FinalisationStep::Version,
                FailureReason::IncompatibleVersion(Version::new(2, 0))
            )
        );
        assert_eq!(
            failure(&[registers(&[0x0001_0002]), success(5)]),
            (
                FinalisationStep::IdGet,
                FailureReason::UnexpectedEndpointId(5)
            )
        );
        assert_eq!(
            failure(&[registers(&[0x0001_0002]), success(0), success(1)]),
            (
                FinalisationStep::RxTxFeatures,
                FailureReason::UnsupportedGranule(1)
            )
        );
        assert_eq!(
            failure(&[
                registers(&[0x0001_0002]),
                success(0),
                error(Status::NotSupported)
            ]),
            (
                FinalisationStep::RxTxFeatures,
                FailureReason::MonitorError(Status::NotSupported)
            )
        );
        assert_eq!(
            failure(&[registers(&[0x8400_0061])]),
            (
                FinalisationStep::Version,
                FailureReason::UnexpectedReply(0x8400_0061)
            )
        );
        assert_eq!(
            failure(&[registers(&[0x0001_0002]), registers(&[0x1234])]),
            (
                FinalisationStep::IdGet,
                FailureReason::UnexpectedReply(0x1234)
            )
        );
    }

    #[test]
    fn the_maximum_page_count_is_checked_only_at_v1_2() {
        let two_pages = Mailbox {
            page_count: 2,
            ..MAILBOX
        };
        let run_with = |version: u64| {
            let mut replies = [
                registers(&[version]),
                success(0),
                success(1 << 16),
                success(0),
            ]
            .into_iter();
            let mut monitor = |_: &Registers| replies.next().unwrap();
            let mut progress = Progress::START;
            loop {
                match run_step(progress, &two_pages, &mut monitor) {
                    StepResult::Continue(next) => progress = next,
                    end => return end,
                }
            }
        };
        assert_eq!(
            run_with(0x0001_0002),
            StepResult::Failed(FinalisationError {
                step: FinalisationStep::RxTxFeatures,
                reason: FailureReason::MailboxTooLarge { maximum_pages: 1 },
                attempts: 1,
            })
        );
        // A v1.1 monitor's w2[31:16] is reserved: not read.
        assert_eq!(
            run_with(0x0001_0001),
            StepResult::Finalised {
                version: Some(Version::V1_1)
            }
        );
    }
}
