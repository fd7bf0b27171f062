//! Protected mode on the QEMU `virt` board: finalises the resident EL2 FF-A proxy over several main-loop turns and gates the FF-A root on it.
//!
//! The order this enforces (see `chips/ffa-proxy/README.md`):
//!
//! 1. [`ProtectedBoot::set_up`] (in `main`, before the main loop) declares
//!    `proxy-finalised` and `proxy-finalisation-ended`, and starts
//!    finalisation: the [`ProxyFinaliser`] makes one HVC step per deferred
//!    call. Deferred calls run before the init queue in every main-loop
//!    turn, so finalisation is over before any probe runs.
//! 2. The `ffa-proxy` init-queue entry ([`ProtectedBoot::add_to_queue`])
//!    reports the outcome: ready (and the queue signals `proxy-finalised`)
//!    or failed, with the step, the monitor's answer and the likely cause
//!    in the log.
//! 3. The FF-A root waits on `secure-monitor-ready` *and* `proxy-finalised`
//!    ([`ProtectedBoot::root_prerequisites`]), so its first SMC is trapped
//!    and mediated by the proxy.
//!
//! With `protected-mode-early-ffa` (the regression scenario only) the
//! seed's bug is made on purpose, deterministically: the root does not wait
//! for `proxy-finalised`, and finalisation starts late, from the `ffa-proxy`
//! entry, after the root (as Linux finalises pKVM at `device_initcall_sync`,
//! after `ffa_init`). The root's own `FFA_RXTX_MAP` then reaches the monitor
//! first, and the proxy's fails with `DENIED`: logged as an error, with the
//! cause, and the entry fails.
//!
//! With `scenario-bad-host-calls`, right after finalisation (in the same
//! deferred call, before anything else can call FF-A) the board makes the
//! calls a misbehaving host would make and checks each of the proxy's answers.

use core::cell::Cell;

use armv8a::el2::{FinalisationStatus, MemoryRange, ProtectedMode, ProtectedModeError};
use armv8a::BootInfo;
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::init_queue::{ConditionId, ConditionSet, EntryId, Probe, ProbeResult, Queue};
use kernel::{static_init, ErrorCode};

/// Normal-world memory the kernel may name as RX/TX buffers: the first GiB
/// of DRAM (the runner gives QEMU 1 GiB).
pub const HOST_MEMORY: MemoryRange =
    MemoryRange::new(qemu_virt::memory_map::DRAM_BASE as u64, 1 << 30);

/// Memory reserved for the proxy (its RX/TX pair is at the start): 64 KiB
/// just below the test firmware's configuration blob (0x5FF0_0000), above
/// the device tree and below the kernel image. The kernel never uses it.
pub const CARVE_OUT: MemoryRange = MemoryRange::new(0x5FE0_0000, 0x1_0000);

/// Most HVC steps finalisation may take: five steps, each retried at most
/// eight times while the monitor is busy. A bound, not an expectation.
const MAXIMUM_STEPS: u32 = 5 * 8;

/// Whether this is the regression build (the root does not wait for the proxy).
const EARLY_FFA: bool = cfg!(feature = "protected-mode-early-ffa");

/// Where the finaliser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FinaliserState {
    /// Not started.
    Idle,
    /// Stepping, one deferred call per step.
    Running,
    /// The monitor answered `BUSY`/`NOT_READY`: waiting for it to be ready
    /// (the `ffa-proxy` entry resumes once the monitor conditions hold).
    Paused,
    /// Done: the host's SMCs trap to EL2.
    Finalised,
    /// Finalisation failed, or could not be driven; already logged.
    Failed,
    /// Protected mode cannot be used on this boot; already logged.
    Unavailable,
}

/// How a step may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pace {
    /// One step per deferred call; a busy monitor pauses finalisation.
    PerTurn,
    /// Inside a probe: steps back to back (bounded), never pausing.
    BackToBack,
}

/// Steps the EL2 proxy's finalisation, one HVC per deferred call, and is
/// the `ffa-proxy` init-queue entry that reports the outcome.
pub struct ProxyFinaliser {
    protected_mode: Option<ProtectedMode>,
    queue: &'static dyn Queue<'static>,
    deferred_call: DeferredCall,
    /// Signalled when stepping stops (finalised, failed or paused): wakes
    /// the entry if it waits.
    stopped: ConditionId,
    /// The conditions that say the monitor answers FF-A: a paused
    /// finalisation resumes once they hold, and in the regression build
    /// finalisation starts only then.
    monitor_ready: Cell<ConditionSet>,
    state: Cell<FinaliserState>,
    steps: Cell<u32>,
}

impl ProxyFinaliser {
    /// Starts finalisation. The first step runs from the next deferred call
    /// (`Pace::PerTurn`) or is up to the caller (`Pace::BackToBack`).
    fn start(&self, pace: Pace) {
        if self.state.get() != FinaliserState::Idle {
            return;
        }
        let Some(protected_mode) = self.protected_mode else {
            self.state.set(FinaliserState::Unavailable);
            return;
        };
        if let Err(error) = protected_mode.start_finalisation(HOST_MEMORY, CARVE_OUT) {
            defmt::error!(
                "protected: EL2 proxy refused to start finalisation: {}",
                error
            );
            self.stop(FinaliserState::Failed);
            return;
        }
        let mailbox = ProtectedMode::mailbox_for(CARVE_OUT);
        defmt::info!(
            "protected: finalising the EL2 proxy (its RX/TX pair: TX {=u64:#x}, RX {=u64:#x})",
            mailbox.transmit,
            mailbox.receive
        );
        self.state.set(FinaliserState::Running);
        if pace == Pace::PerTurn {
            self.deferred_call.set();
        }
    }

    /// Makes one step (one HVC); returns whether to make another.
    fn step(&self, pace: Pace) -> bool {
        let Some(protected_mode) = self.protected_mode else {
            self.stop(FinaliserState::Unavailable);
            return false;
        };
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        match protected_mode.step() {
            Ok(FinalisationStatus::InProgress { next, attempts }) if steps < MAXIMUM_STEPS => {
                if attempts == 0 {
                    defmt::info!(
                        "protected: finalisation HVC {=u32} done, next {}",
                        steps,
                        next
                    );
                    return true;
                }
                if pace == Pace::PerTurn && !self.monitor_ready.get().is_empty() {
                    defmt::warn!(
                        "protected: the monitor is busy or not ready at {}; finalisation pauses until it answers FF-A",
                        next
                    );
                    self.stop(FinaliserState::Paused);
                    return false;
                }
                defmt::warn!(
                    "protected: the monitor is busy or not ready; retrying {} (attempt {=u8})",
                    next,
                    attempts + 1
                );
                true
            }
            Ok(FinalisationStatus::InProgress { next, .. }) => {
                defmt::error!(
                    "protected: EL2 proxy finalisation FAILED: still at {} after {=u32} HVCs",
                    next,
                    steps
                );
                self.stop(FinaliserState::Failed);
                false
            }
            Ok(FinalisationStatus::Finalised { version }) => {
                match version {
                    Some(version) => defmt::info!(
                        "protected: EL2 proxy finalised after {=u32} HVCs: FF-A {} with the monitor; host SMCs now trap to EL2",
                        steps,
                        version
                    ),
                    None => defmt::warn!(
                        "protected: EL2 proxy finalised after {=u32} HVCs without FF-A (the monitor has none); host SMCs trap to EL2",
                        steps
                    ),
                }
                #[cfg(feature = "scenario-bad-host-calls")]
                bad_host_calls::run();
                self.stop(FinaliserState::Finalised);
                false
            }
            Ok(FinalisationStatus::Failed(error)) => {
                defmt::error!("protected: EL2 proxy finalisation FAILED: {}", error);
                defmt::error!("protected: likely cause: {=str}", error.explanation());
                defmt::error!(
                    "protected: host SMCs are NOT trapped: FF-A calls reach the monitor unmediated"
                );
                self.stop(FinaliserState::Failed);
                false
            }
            Ok(FinalisationStatus::NotStarted) => {
                defmt::error!("protected: the EL2 proxy says finalisation never started");
                self.stop(FinaliserState::Failed);
                false
            }
            Err(error) => {
                defmt::error!("protected: EL2 proxy finalisation step failed: {}", error);
                self.stop(FinaliserState::Failed);
                false
            }
        }
    }

    /// Steps back to back until finalisation ends (bounded by `MAXIMUM_STEPS`).
    fn run_to_end(&self) {
        while self.state.get() == FinaliserState::Running && self.step(Pace::BackToBack) {}
    }

    fn stop(&self, state: FinaliserState) {
        self.state.set(state);
        self.queue.signal(self.stopped);
    }

    /// The monitor conditions not signalled yet.
    fn monitor_not_ready(&self) -> ConditionSet {
        self.monitor_ready
            .get()
            .iter()
            .filter(|condition| !self.queue.is_signalled(*condition))
            .fold(ConditionSet::empty(), ConditionSet::with)
    }
}

impl DeferredCallClient for ProxyFinaliser {
    fn handle_deferred_call(&self) {
        if self.state.get() == FinaliserState::Running && self.step(Pace::PerTurn) {
            self.deferred_call.set();
        }
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl Probe for ProxyFinaliser {
    fn probe(&self) -> ProbeResult {
        match self.state.get() {
            FinaliserState::Idle if !EARLY_FFA => self.start(Pace::PerTurn),
            FinaliserState::Idle | FinaliserState::Paused => {
                let missing = self.monitor_not_ready();
                if !missing.is_empty() {
                    return ProbeResult::Defer(missing);
                }
                if self.state.get() == FinaliserState::Idle {
                    // Regression build: finalise late, after the FF-A root probed.
                    defmt::warn!(
                        "protected: regression build: finalising the EL2 proxy now, after the FF-A root has already probed"
                    );
                    self.start(Pace::BackToBack);
                } else {
                    defmt::info!("protected: the monitor answers FF-A now; resuming finalisation");
                    self.state.set(FinaliserState::Running);
                }
                // Within this probe, so the queue cannot settle half-way.
                self.run_to_end();
            }
            _ => {}
        }
        match self.state.get() {
            FinaliserState::Finalised => ProbeResult::Ready,
            FinaliserState::Running if !self.queue.is_signalled(self.stopped) => {
                ProbeResult::Defer(ConditionSet::of(self.stopped))
            }
            FinaliserState::Running | FinaliserState::Failed => {
                ProbeResult::Failed(ErrorCode::FAIL)
            }
            FinaliserState::Paused => ProbeResult::Defer(self.monitor_not_ready()),
            FinaliserState::Unavailable | FinaliserState::Idle => {
                ProbeResult::Failed(ErrorCode::NODEVICE)
            }
        }
    }
}

/// The board's protected-mode wiring: the finaliser and its conditions.
pub struct ProtectedBoot {
    finaliser: &'static ProxyFinaliser,
    queue: &'static dyn Queue<'static>,
    finalised: ConditionId,
}

impl ProtectedBoot {
    /// Declares `proxy-finalised` and `proxy-finaliser-stopped` on `queue`,
    /// creates the finaliser and, except in the regression build, starts
    /// finalisation: its steps run from deferred calls in the first
    /// main-loop turns, before the init queue is first serviced. Call in
    /// `main`, before adding the FF-A root. Returns `Err` only if the queue
    /// is full; an unusable protected mode (entered at EL1, no proxy at EL2)
    /// is logged here and reported by the `ffa-proxy` entry.
    pub fn set_up(
        boot: &BootInfo,
        queue: &'static dyn Queue<'static>,
    ) -> Result<&'static ProtectedBoot, ErrorCode> {
        let finalised = queue.declare_condition("proxy-finalised")?;
        let stopped = queue.declare_condition("proxy-finaliser-stopped")?;
        let protected_mode = match ProtectedMode::new(boot) {
            Ok(protected_mode) => Some(protected_mode),
            Err(ProtectedModeError::EnteredAtEl1) => {
                defmt::error!(
                    "protected: unavailable: the kernel was entered at EL1, so EL2 is not ours; FF-A stays unmediated and the FF-A root will wait"
                );
                None
            }
            Err(error) => {
                defmt::error!("protected: unavailable: no EL2 proxy answers ({})", error);
                None
            }
        };
        let finaliser = static_init!(
            ProxyFinaliser,
            ProxyFinaliser {
                protected_mode,
                queue,
                deferred_call: DeferredCall::new(),
                stopped,
                monitor_ready: Cell::new(ConditionSet::empty()),
                state: Cell::new(if protected_mode.is_some() {
                    FinaliserState::Idle
                } else {
                    FinaliserState::Unavailable
                }),
                steps: Cell::new(0),
            }
        );
        finaliser.register();
        if EARLY_FFA {
            defmt::warn!(
                "protected: REGRESSION BUILD (protected-mode-early-ffa): the FF-A root does not wait for proxy-finalised and the proxy finalises late"
            );
        } else {
            finaliser.start(Pace::PerTurn);
        }
        Ok(static_init!(
            ProtectedBoot,
            ProtectedBoot {
                finaliser,
                queue,
                finalised,
            }
        ))
    }

    /// The FF-A root's prerequisites: `monitor_ready` (the conditions that
    /// say the monitor answers FF-A) plus `proxy-finalised`; in the
    /// regression build, `monitor_ready` alone.
    pub fn root_prerequisites(&self, monitor_ready: ConditionSet) -> ConditionSet {
        if EARLY_FFA {
            monitor_ready
        } else {
            monitor_ready.with(self.finalised)
        }
    }

    /// Adds the `ffa-proxy` entry, which provides `proxy-finalised`; add it
    /// right after the FF-A root. `monitor_ready` is the same set as given
    /// to [`ProtectedBoot::root_prerequisites`]: a finalisation paused by a
    /// busy monitor resumes once it holds, and in the regression build
    /// finalisation starts only then, so the root (added first, waiting on
    /// the same conditions) always probes first.
    pub fn add_to_queue(&self, monitor_ready: ConditionSet) -> Result<EntryId, ErrorCode> {
        self.finaliser.monitor_ready.set(monitor_ready);
        self.queue
            .add("ffa-proxy", self.finaliser, Some(self.finalised))
    }
}

/// The `scenario-bad-host-calls` checks: what a misbehaving host gets from the proxy.
#[cfg(feature = "scenario-bad-host-calls")]
mod bad_host_calls {
    use super::{ProtectedMode, CARVE_OUT};
    use armv8a::conduit::SecureMonitorCall;
    use armv8a::el2::proxy::{function, FfaError};
    use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

    /// A page the checks may name as a host buffer (never written: the
    /// checks make no call that fills RX).
    #[repr(C, align(4096))]
    struct Page([u8; 4096]);

    static SCRATCH: [Page; 2] = [Page([0; 4096]), Page([0; 4096])];

    /// What a check expects back.
    #[derive(Clone, Copy)]
    enum Expected {
        /// `FFA_ERROR` with this error.
        Error(FfaError),
        /// x0 = -1.
        MinusOne,
        /// `FFA_SUCCESS`.
        Success,
        /// A v1.x version in x0.
        Version,
    }

    fn matches(expected: Expected, reply: &[u64; 18]) -> bool {
        match expected {
            Expected::Error(error) => {
                reply[0] == u64::from(function::FFA_ERROR) && reply[2] as u32 as i32 == error.code()
            }
            Expected::MinusOne => reply[0] == u64::MAX,
            Expected::Success => function::is_success(reply[0]),
            Expected::Version => reply[0] >> 16 == 1,
        }
    }

    fn describe(expected: Expected) -> &'static str {
        match expected {
            Expected::Error(error) => error.name(),
            Expected::MinusOne => "NOT_SUPPORTED (x0 = -1)",
            Expected::Success => "FFA_SUCCESS",
            Expected::Version => "a v1.x version",
        }
    }

    /// Makes each call as the host (an SMC, trapped by EL2) and checks the answer.
    pub(super) fn run() {
        let first = &SCRATCH[0] as *const Page as u64;
        let second = &SCRATCH[1] as *const Page as u64;
        let mailbox = ProtectedMode::mailbox_for(CARVE_OUT);
        let map_64 = u64::from(function::FFA_RXTX_MAP_64);
        let checks: [(&str, [u64; 4], Expected); 10] = [
            (
                "FFA_ID_GET before FFA_VERSION",
                [u64::from(function::FFA_ID_GET), 0, 0, 0],
                Expected::Error(FfaError::InvalidParameters),
            ),
            (
                "FFA_VERSION(2.0)",
                [u64::from(function::FFA_VERSION), 0x0002_0000, 0, 0],
                Expected::MinusOne,
            ),
            (
                "FFA_VERSION(1.2)",
                [u64::from(function::FFA_VERSION), 0x0001_0002, 0, 0],
                Expected::Version,
            ),
            (
                "32-bit FFA_RXTX_MAP",
                [u64::from(function::FFA_RXTX_MAP_32), first, second, 1],
                Expected::Error(FfaError::NotSupported),
            ),
            (
                "FFA_RXTX_MAP_64 of the proxy's own RX/TX pages",
                [map_64, mailbox.transmit, mailbox.receive, 1],
                Expected::Error(FfaError::InvalidParameters),
            ),
            (
                "FFA_RXTX_MAP_64 with a misaligned TX buffer",
                [map_64, first + 8, second, 1],
                Expected::Error(FfaError::InvalidParameters),
            ),
            (
                "FFA_RXTX_MAP_64",
                [map_64, first, second, 1],
                Expected::Success,
            ),
            (
                "FFA_RXTX_MAP_64 a second time",
                [map_64, first, second, 1],
                Expected::Error(FfaError::Denied),
            ),
            (
                "FFA_MEM_SHARE_64",
                [u64::from(function::FFA_MEM_SHARE_64), 0x100, 0x100, 0],
                Expected::Error(FfaError::NotSupported),
            ),
            (
                "FFA_RXTX_UNMAP",
                [u64::from(function::FFA_RXTX_UNMAP), 0, 0, 0],
                Expected::Success,
            ),
        ];
        let mut passed = 0usize;
        for (number, (description, registers, expected)) in checks.iter().enumerate() {
            let reply = SecureMonitorCall
                .call(&SmcccRegisters::from_slice(registers))
                .x;
            if matches(*expected, &reply) {
                passed += 1;
                defmt::info!(
                    "protected: bad-host check {=usize}/{=usize}: {=str} -> {=str}: ok",
                    number + 1,
                    checks.len(),
                    *description,
                    describe(*expected)
                );
            } else {
                defmt::error!(
                    "protected: bad-host check {=usize}/{=usize} FAILED: {=str}: expected {=str}, got x0 {=u64:#x} w2 {=u64:#x}",
                    number + 1,
                    checks.len(),
                    *description,
                    describe(*expected),
                    reply[0],
                    reply[2]
                );
            }
        }
        defmt::info!(
            "protected: bad-host checks: {=usize} of {=usize} answered as expected",
            passed,
            checks.len()
        );
    }
}
