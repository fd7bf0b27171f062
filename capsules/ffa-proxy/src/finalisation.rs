//! Finalisation: the steps that turn a pass-through EL2 into the FF-A proxy.
//!
//! Until it is finalised the proxy traps nothing: the host's SMCs go straight
//! to the monitor. Finalisation negotiates the version and nothing else, as
//! pKVM does at `hyp_ffa_init`: every other FF-A call fixes the caller's
//! version at an SPMC that follows the specification (Hafnium refuses "to
//! change FF-A version after other FF-A calls have been made"), and endpoint
//! 0's version must stay open for the host's own `FFA_VERSION`, which may
//! ask for an older one. `FFA_ID_GET` and `FFA_FEATURES` come when the host's
//! version is settled, and the proxy's RX/TX pair is mapped when the host
//! maps its own (see [`crate::proxy`]). One step per kernel request (one HVC
//! each), so the kernel can spread it over main-loop turns:
//!
//! 1. `FFA_VERSION(v1.2)`: the monitor's version must have major 1; the
//!    proxy uses min(v1.2, monitor). `NOT_SUPPORTED` means either no FF-A at
//!    all or a monitor that refuses v1.2; step 2 tells them apart.
//! 2. Only after a `NOT_SUPPORTED`: `FFA_ID_GET`. If it answers
//!    `NOT_SUPPORTED` too, the monitor has no FF-A: the proxy finalises
//!    without it (step 4) and answers every FF-A call `NOT_SUPPORTED`, as
//!    the monitor would. Anything else: FF-A is there and refused v1.2 (an
//!    FF-A client fixed another version before the proxy was finalised).
//! 3. `FFA_VERSION(v1.0)`: is endpoint 0's version still open? An SPMC that
//!    fixes the version at the first other call refuses a different one
//!    afterwards; if it refuses v1.0 having accepted v1.2, an FF-A client
//!    has already made FF-A calls as endpoint 0 before the proxy (the order
//!    the [Linux FF-A/pKVM readiness patch](https://lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com/)
//!    fixes): it owns the version and maybe an RX/TX pair at the monitor,
//!    and the proxy cannot mediate it, so finalisation fails. (SPMCs that
//!    never fix the version, TF-A's EL3 SPMC and OP-TEE, accept it; the
//!    host's negotiation sets the version again.)
//! 4. Trap the host's SMCs (`HCR_EL2.TSC`): the runtime does this when
//!    [`FinalisationStatus::Finalised`] comes back.
//!
//! `BUSY`, `RETRY` and `NOT_READY` repeat the step at the next request, up
//! to [`MAXIMUM_ATTEMPTS`] times; any other error fails finalisation for
//! good, with the step and the monitor's answer in the [`FinalisationError`].

use crate::function::{FFA_ID_GET, FFA_VERSION};
use crate::reply;
use crate::version::PROXY_HIGHEST;
use crate::Registers;
use ffa_abi::{ReplyKind, Status, Version};

/// How many times a step is tried while the monitor answers `BUSY`,
/// `RETRY` or `NOT_READY`.
pub const MAXIMUM_ATTEMPTS: u8 = 8;

/// The version step 3 asks for to see whether endpoint 0's version is still open.
pub const OPEN_CHECK_VERSION: Version = Version::V1_0;

/// A step of finalisation, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FinalisationStep {
    /// 1: `FFA_VERSION(v1.2)`.
    Version,
    /// 2: `FFA_ID_GET`, only after step 1 answered `NOT_SUPPORTED`.
    AbsenceCheck,
    /// 3: `FFA_VERSION(v1.0)`: endpoint 0's version is still open.
    OpenCheck,
    /// 4: trap the host's SMCs.
    SmcTrap,
}

impl FinalisationStep {
    /// Number of steps.
    pub const COUNT: u8 = 4;

    /// The step's number, 1 to [`FinalisationStep::COUNT`].
    pub const fn number(self) -> u8 {
        match self {
            FinalisationStep::Version => 1,
            FinalisationStep::AbsenceCheck => 2,
            FinalisationStep::OpenCheck => 3,
            FinalisationStep::SmcTrap => 4,
        }
    }

    /// The step numbered `number`.
    pub const fn from_number(number: u8) -> Option<FinalisationStep> {
        match number {
            1 => Some(FinalisationStep::Version),
            2 => Some(FinalisationStep::AbsenceCheck),
            3 => Some(FinalisationStep::OpenCheck),
            4 => Some(FinalisationStep::SmcTrap),
            _ => None,
        }
    }

    /// What the step does, for logs.
    pub const fn description(self) -> &'static str {
        match self {
            FinalisationStep::Version => "FFA_VERSION negotiation with the monitor",
            FinalisationStep::AbsenceCheck => "FFA_ID_GET: is FF-A there at all?",
            FinalisationStep::OpenCheck => {
                "FFA_VERSION(v1.0): endpoint 0's version is still open (no FF-A client came first)"
            }
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
    /// `FFA_VERSION(v1.0)` was refused after v1.2 was accepted: endpoint 0's
    /// version is fixed already.
    VersionAlreadyFixed,
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
            FailureReason::VersionAlreadyFixed => defmt::write!(
                formatter,
                "the monitor accepted FFA_VERSION({}) but refused FFA_VERSION({}): endpoint 0's version is fixed",
                PROXY_HIGHEST,
                OPEN_CHECK_VERSION
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
        match self.reason {
            FailureReason::VersionAlreadyFixed => {
                "an FF-A client already made FF-A calls as endpoint 0 before the proxy was \
                 finalised (they fixed the version at the monitor, and may have mapped its own \
                 RX/TX pair there), so the proxy cannot mediate it: the FF-A root must wait for \
                 proxy finalisation"
            }
            FailureReason::VersionRefused => {
                "an FF-A client probably fixed another version at the monitor before the proxy \
                 was finalised (the FF-A root must wait for proxy finalisation)"
            }
            FailureReason::MonitorError(error) if error.is_transient() => {
                "the monitor stayed busy or not ready for every attempt"
            }
            FailureReason::IncompatibleVersion(_) => "the proxy speaks FF-A v1.x only",
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
        /// The FF-A version the proxy offers the host at most (min(v1.2,
        /// monitor)); `None` if the monitor has no FF-A (every FF-A call of the
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
    /// Negotiated: the version the proxy offers.
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

fn version_step(monitor: &mut dyn FnMut(&Registers) -> Registers) -> Verdict {
    let reply = monitor(&reply::call(FFA_VERSION, &[u64::from(PROXY_HIGHEST.raw())]));
    match reply::kind(&reply) {
        ReplyKind::NotSupported => {
            Verdict::Advance(FinalisationStep::AbsenceCheck, MonitorVersion::NotSupported)
        }
        ReplyKind::Error(error) if error.is_transient() => Verdict::Transient(error),
        ReplyKind::Error(error) => Verdict::Fail(FailureReason::MonitorError(error)),
        ReplyKind::Success(_) | ReplyKind::Function(_) => {
            Verdict::Fail(FailureReason::UnexpectedReply(reply[0] as u32))
        }
        ReplyKind::Value(value) => match Version::from_raw(value).ok() {
            Some(version) if version.is_compatible() => Verdict::Advance(
                FinalisationStep::OpenCheck,
                MonitorVersion::Negotiated(version.min(PROXY_HIGHEST)),
            ),
            Some(version) => Verdict::Fail(FailureReason::IncompatibleVersion(version)),
            None => Verdict::Fail(FailureReason::UnexpectedReply(value)),
        },
    }
}

fn absence_check_step(
    version: MonitorVersion,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> Verdict {
    let reply = monitor(&reply::call(FFA_ID_GET, &[]));
    match reply::kind(&reply) {
        ReplyKind::NotSupported | ReplyKind::Error(Status::NotSupported) => {
            Verdict::Advance(FinalisationStep::SmcTrap, version)
        }
        ReplyKind::Error(error) if error.is_transient() => Verdict::Transient(error),
        _ => Verdict::Fail(FailureReason::VersionRefused),
    }
}

fn open_check_step(
    version: MonitorVersion,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> Verdict {
    let reply = monitor(&reply::call(
        FFA_VERSION,
        &[u64::from(OPEN_CHECK_VERSION.raw())],
    ));
    match reply::kind(&reply) {
        ReplyKind::Value(value) if Version::from_raw(value).is_ok_and(Version::is_compatible) => {
            Verdict::Advance(FinalisationStep::SmcTrap, version)
        }
        ReplyKind::NotSupported => Verdict::Fail(FailureReason::VersionAlreadyFixed),
        ReplyKind::Error(error) if error.is_transient() => Verdict::Transient(error),
        ReplyKind::Error(error) => Verdict::Fail(FailureReason::MonitorError(error)),
        _ => Verdict::Fail(FailureReason::UnexpectedReply(reply[0] as u32)),
    }
}

/// Performs `progress.next`, making at most one call to `monitor`.
pub(crate) fn run_step(
    progress: Progress,
    monitor: &mut dyn FnMut(&Registers) -> Registers,
) -> StepResult {
    let verdict = match progress.next {
        FinalisationStep::Version => version_step(monitor),
        FinalisationStep::AbsenceCheck => absence_check_step(progress.version, monitor),
        FinalisationStep::OpenCheck => open_check_step(progress.version, monitor),
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
            match run_step(progress, &mut monitor) {
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
        assert_eq!(FinalisationStep::from_number(5), None);
        assert!(FinalisationStep::Version < FinalisationStep::SmcTrap);
    }

    #[test]
    fn a_healthy_monitor_is_asked_for_versions_only() {
        let (result, calls) = run(&[registers(&[0x0001_0002]), registers(&[0x0001_0002])]);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_2)
            }
        );
        let functions: Vec<u32> = calls.iter().map(|call| call[0] as u32).collect();
        assert_eq!(functions, [FFA_VERSION, FFA_VERSION]);
        assert_eq!(calls[0][1], 0x0001_0002);
        assert_eq!(calls[1][1], 0x0001_0000, "the open check asks for v1.0");
    }

    #[test]
    fn only_w0_of_a_version_answer_is_read() {
        // SMC32 results: the upper half of x0 is not part of the answer.
        let (result, _) = run(&[
            registers(&[0xFFFF_FFFF_0001_0002]),
            registers(&[0xDEAD_0000_0001_0002]),
        ]);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_2)
            }
        );
        // A 32-bit -1 (TF-A's SPMD casts its answer to 32 bits) is NOT_SUPPORTED.
        let (result, _) = run(&[
            registers(&[0x0001_0002]),
            registers(&[0x0000_0000_FFFF_FFFF]),
        ]);
        assert!(matches!(
            result,
            StepResult::Failed(FinalisationError {
                reason: FailureReason::VersionAlreadyFixed,
                ..
            })
        ));
    }

    #[test]
    fn an_older_or_newer_monitor_sets_the_version() {
        for (answer, expected) in [(0x0001_0000, Version::V1_0), (0x0001_0005, Version::V1_2)] {
            let (result, _) = run(&[registers(&[answer]), registers(&[answer])]);
            assert_eq!(
                result,
                StepResult::Finalised {
                    version: Some(expected)
                }
            );
        }
    }

    #[test]
    fn a_monitor_without_ffa_finalises_without_it() {
        let (result, calls) = run(&[registers(&[u64::MAX]), registers(&[u64::MAX])]);
        assert_eq!(result, StepResult::Finalised { version: None });
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1][0] as u32, FFA_ID_GET);
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
    fn an_early_client_that_fixed_the_version_fails_the_open_check() {
        let (result, _) = run(&[registers(&[0x0001_0002]), registers(&[u64::MAX])]);
        let StepResult::Failed(failure) = result else {
            panic!("expected a failure, got {result:?}");
        };
        assert_eq!(failure.step, FinalisationStep::OpenCheck);
        assert_eq!(failure.reason, FailureReason::VersionAlreadyFixed);
        assert!(failure
            .explanation()
            .contains("before the proxy was finalised"));
    }

    #[test]
    fn busy_and_not_ready_are_retried_a_bounded_number_of_times() {
        let mut replies = std::vec![error(Status::NotReady), error(Status::Busy)];
        replies.extend([registers(&[0x0001_0001]), registers(&[0x0001_0001])]);
        let (result, calls) = run(&replies);
        assert_eq!(
            result,
            StepResult::Finalised {
                version: Some(Version::V1_1)
            }
        );
        assert_eq!(calls.len(), 4);

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
            failure(&[registers(&[0x8400_0061])]),
            (
                FinalisationStep::Version,
                FailureReason::UnexpectedReply(0x8400_0061)
            )
        );
        assert_eq!(
            failure(&[registers(&[0x0001_0002]), error(Status::Denied)]),
            (
                FinalisationStep::OpenCheck,
                FailureReason::MonitorError(Status::Denied)
            )
        );
        assert_eq!(
            failure(&[registers(&[0x0001_0002]), success(0)]),
            (
                FinalisationStep::OpenCheck,
                FailureReason::UnexpectedReply(0x8400_0061)
            )
        );
    }
}
