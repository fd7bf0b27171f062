//! The proxy at EL1: [`ProxyFinaliser`] steps the EL2 proxy's finalisation,
//! one `HVC` per deferred call, and is the `ffa-proxy` init-queue entry that
//! reports the outcome and provides `proxy-finalised`.
//!
//! The order it enforces (see this crate's README):
//!
//! 1. [`ProxyFinaliser::start`] (at board set-up, before the main loop)
//!    starts finalisation. Each step is one `HVC` from a deferred call;
//!    deferred calls run before the init queue in every main-loop turn, so
//!    finalisation is over before any probe runs.
//! 2. The entry reports the outcome: ready (and the queue signals
//!    `proxy-finalised`) or failed, with the step, the monitor's answer and
//!    the likely cause in the log.
//! 3. The FF-A root waits on the monitor's readiness *and*
//!    `proxy-finalised` ([`ProxyFinaliser::root_prerequisites`]), so its
//!    first `SMC` is trapped and mediated by the proxy.
//!
//! If the monitor answers `BUSY` or `NOT_READY`, finalisation pauses and the
//! entry resumes it once the monitor's readiness conditions hold.
//!
//! [`Order::AfterFfaRoot`] (the regression build only) makes, on purpose
//! and deterministically, the mistake that the
//! [Linux FF-A/pKVM readiness patch](https://lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com/)
//! fixes (there, the FF-A driver probed before pKVM's proxy was finalised):
//! the root does not wait for `proxy-finalised`, and finalisation starts
//! late, from the entry, after the root (as Linux finalises pKVM at
//! `device_initcall_sync`, after `ffa_init`). The root's own calls
//! (`FFA_VERSION`, `FFA_ID_GET`, ..., its own `FFA_RXTX_MAP`) then reach
//! the monitor first and fix endpoint 0's version there, so finalisation's
//! open check (step 3: `FFA_VERSION(v1.0)`) is refused: logged as an error,
//! with the cause, and the entry fails.

use core::cell::Cell;

use kernel::cells::OptionalCell;
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::hypervisor::MemoryRange;
use kernel::hil::smccc::SmcccConduit;
use kernel::init_queue::{ConditionId, ConditionSet, Probe, ProbeResult, Queue};
use kernel::ErrorCode;

use crate::control::{ControlError, ProxyControl};
use crate::finalisation::{FinalisationStatus, FinalisationStep};
use crate::memory;

/// How the kernel reaches EL2, as the board found it at boot.
#[derive(Clone, Copy)]
pub enum El2Access<'a> {
    /// The kernel was entered at EL2 and kept it: `HVC` reaches the proxy
    /// through this conduit.
    Owned(&'a dyn SmcccConduit),
    /// The kernel was entered at EL1: EL2 belongs to someone else, and an
    /// `HVC` would go there. Protected mode is unavailable.
    EnteredAtEl1,
}

/// When finalisation happens relative to the FF-A root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Order {
    /// Before the root probes: the root waits for `proxy-finalised`.
    BeforeFfaRoot,
    /// The regression build: after the root has probed, which makes the
    /// proxy's finalisation fail (see the [module documentation](self)).
    AfterFfaRoot,
}

/// Where the proxy's memory is, and when to finalise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct FinaliserConfig {
    /// Normal-world memory the kernel may name as RX/TX buffers (DRAM).
    pub host_memory: MemoryRange,
    /// Memory reserved for the proxy; its first two pages become the
    /// proxy's TX and RX buffers. The kernel never uses it.
    pub carve_out: MemoryRange,
    /// The devices the kernel drives: its stage 2 maps them as device memory.
    pub devices: MemoryRange,
    /// Host memory the platform's firmware shares with the secure world (a
    /// TPM's CRB; empty: none): the kernel uses it, but may never share,
    /// lend or map it as RX/TX.
    pub firmware_shared: MemoryRange,
    /// When to finalise.
    pub order: Order,
    /// The host's cores (the board's count: the host's notification
    /// bitmap gets a vCPU per core).
    pub host_cores: u16,
}

/// The conditions the finaliser uses on the init queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct FinaliserConditions {
    /// `proxy-finalised`: the finaliser's entry provides it.
    pub finalised: ConditionId,
    /// Signalled when stepping stops (finalised, failed or paused): wakes
    /// the entry if it waits.
    pub stopped: ConditionId,
}

/// Told when the proxy is finalised, in the same deferred call (or probe),
/// before anything else can make a call that EL2 traps.
pub trait FinaliserClient {
    /// The proxy is finalised: from now on the kernel's `SMC`s trap to EL2.
    fn finalised(&self);
}

/// Most `HVC` steps finalisation may take: five steps, each retried at most
/// eight times while the monitor is busy. A bound, not an expectation.
pub const MAXIMUM_STEPS: u32 = FinalisationStep::COUNT as u32 * 8;

/// Where the finaliser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum FinaliserState {
    /// Not started.
    Idle,
    /// Stepping, one deferred call per step.
    Running,
    /// The monitor answered `BUSY`/`NOT_READY`: waiting for it to be ready
    /// (the entry resumes once the monitor's conditions hold).
    Paused,
    /// Done: the kernel's SMCs trap to EL2.
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

/// Steps the EL2 proxy's finalisation, one `HVC` per deferred call, and is
/// the init-queue entry that reports the outcome.
pub struct ProxyFinaliser<'a> {
    access: El2Access<'a>,
    control: OptionalCell<ProxyControl<'a>>,
    queue: &'a dyn Queue<'a>,
    conditions: FinaliserConditions,
    config: FinaliserConfig,
    deferred_call: DeferredCall,
    /// The conditions that say the monitor answers FF-A: a paused
    /// finalisation resumes once they hold, and with
    /// [`Order::AfterFfaRoot`] finalisation starts only then.
    monitor_ready: Cell<ConditionSet>,
    state: Cell<FinaliserState>,
    steps: Cell<u32>,
    client: OptionalCell<&'a dyn FinaliserClient>,
}

impl<'a> ProxyFinaliser<'a> {
    /// A finaliser reaching EL2 through `access`, signalling `conditions`
    /// on `queue`. Nothing happens until [`ProxyFinaliser::start`].
    pub fn new(
        access: El2Access<'a>,
        queue: &'a dyn Queue<'a>,
        conditions: FinaliserConditions,
        config: FinaliserConfig,
    ) -> ProxyFinaliser<'a> {
        ProxyFinaliser {
            access,
            control: OptionalCell::empty(),
            queue,
            conditions,
            config,
            deferred_call: DeferredCall::new(),
            monitor_ready: Cell::new(ConditionSet::empty()),
            state: Cell::new(FinaliserState::Idle),
            steps: Cell::new(0),
            client: OptionalCell::empty(),
        }
    }

    /// Sets the client told when the proxy is finalised.
    pub fn set_client(&self, client: &'a dyn FinaliserClient) {
        self.client.set(client);
    }

    /// Sets the conditions that say the monitor answers FF-A (the same the
    /// FF-A root waits on): a finalisation paused by a busy monitor resumes
    /// once they hold, and with [`Order::AfterFfaRoot`] finalisation starts
    /// only then, so the root (waiting on the same conditions, added first)
    /// always probes first.
    pub fn set_monitor_ready(&self, monitor_ready: ConditionSet) {
        self.monitor_ready.set(monitor_ready);
    }

    /// The FF-A root's prerequisites: `monitor_ready` plus
    /// `proxy-finalised`; with [`Order::AfterFfaRoot`], `monitor_ready` alone.
    pub fn root_prerequisites(&self, monitor_ready: ConditionSet) -> ConditionSet {
        match self.config.order {
            Order::BeforeFfaRoot => monitor_ready.with(self.conditions.finalised),
            Order::AfterFfaRoot => monitor_ready,
        }
    }

    /// Where the finaliser is.
    pub fn state(&self) -> FinaliserState {
        self.state.get()
    }

    /// How many finalisation `HVC`s were made.
    pub fn steps(&self) -> u32 {
        self.steps.get()
    }

    /// Finds the proxy at EL2 (an unusable protected mode is logged here and
    /// reported by the entry) and, unless the order is
    /// [`Order::AfterFfaRoot`], starts finalisation: its steps run from
    /// deferred calls in the first main-loop turns, before the init queue is
    /// first serviced. Call once, after [`DeferredCallClient::register`].
    pub fn start(&self) {
        if self.state.get() != FinaliserState::Idle || self.control.is_some() {
            return;
        }
        let control = match self.access {
            El2Access::Owned(hypervisor) => ProxyControl::new(hypervisor),
            El2Access::EnteredAtEl1 => {
                defmt::error!(
                    "protected: unavailable: the kernel was entered at EL1, so EL2 is not ours; FF-A stays unmediated and the FF-A root will wait"
                );
                self.state.set(FinaliserState::Unavailable);
                return;
            }
        };
        match control {
            Ok(control) => self.control.set(control),
            Err(error) => {
                defmt::error!("protected: unavailable: no EL2 proxy answers ({})", error);
                self.state.set(FinaliserState::Unavailable);
                return;
            }
        }
        match self.config.order {
            Order::BeforeFfaRoot => self.begin(Pace::PerTurn),
            Order::AfterFfaRoot => defmt::warn!(
                "protected: REGRESSION BUILD (protected-mode-early-ffa): the FF-A root does not wait for proxy-finalised and the proxy finalises late"
            ),
        }
    }

    /// Asks EL2 to start finalising. The first step runs from the next
    /// deferred call (`Pace::PerTurn`) or is up to the caller.
    fn begin(&self, pace: Pace) {
        let Some(control) = self.control.get() else {
            self.state.set(FinaliserState::Unavailable);
            return;
        };
        if let Err(error) = control.start_finalisation(
            self.config.host_memory,
            self.config.carve_out,
            self.config.devices,
            self.config.firmware_shared,
            self.config.host_cores,
        ) {
            refused_to_start(error);
            self.stop(FinaliserState::Failed);
            return;
        }
        let mailbox = memory::mailbox_for(self.config.carve_out);
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

    /// Makes one step (one `HVC`); returns whether to make another.
    fn step(&self, pace: Pace) -> bool {
        let Some(control) = self.control.get() else {
            self.stop(FinaliserState::Unavailable);
            return false;
        };
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        match control.step() {
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
                self.client.map(|client| client.finalised());
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

    /// Steps back to back until finalisation ends (bounded by [`MAXIMUM_STEPS`]).
    fn run_to_end(&self) {
        while self.state.get() == FinaliserState::Running && self.step(Pace::BackToBack) {}
    }

    fn stop(&self, state: FinaliserState) {
        self.state.set(state);
        self.queue.signal(self.conditions.stopped);
    }

    /// The monitor's conditions not signalled yet.
    fn monitor_not_ready(&self) -> ConditionSet {
        self.queue.missing(self.monitor_ready.get())
    }
}

/// Logs that EL2 would not start finalisation.
fn refused_to_start(error: ControlError) {
    defmt::error!(
        "protected: EL2 proxy refused to start finalisation: {}",
        error
    );
}

impl DeferredCallClient for ProxyFinaliser<'_> {
    fn handle_deferred_call(&self) {
        if self.state.get() == FinaliserState::Running && self.step(Pace::PerTurn) {
            self.deferred_call.set();
        }
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl Probe for ProxyFinaliser<'_> {
    fn probe(&self) -> ProbeResult {
        match self.state.get() {
            FinaliserState::Idle | FinaliserState::Paused if self.control.is_some() => {
                let missing = self.monitor_not_ready();
                if !missing.is_empty() {
                    return ProbeResult::Defer(missing);
                }
                if self.state.get() == FinaliserState::Idle {
                    // The regression order: finalise late, after the FF-A root probed.
                    defmt::warn!(
                        "protected: regression build: finalising the EL2 proxy now, after the FF-A root has already probed"
                    );
                    self.begin(Pace::BackToBack);
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
            FinaliserState::Running if !self.queue.is_signalled(self.conditions.stopped) => {
                ProbeResult::Defer(ConditionSet::of(self.conditions.stopped))
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
