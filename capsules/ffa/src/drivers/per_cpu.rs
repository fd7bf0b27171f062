//! Driver for the model's per-CPU partition: direct requests from every
//! core, each answered by the partition's execution context of that core.
//!
//! Once bound, it asks the partition `WHO_AM_I` from every core the board
//! has online (the boot core included), all at once: each core's request
//! engine holds its own request, so four cores have four requests in
//! flight, one each. A request asks to be preempted [`PREEMPTIONS`] times
//! first, so that each core also resumes its own vCPU with `FFA_RUN`. Every
//! answer must name the vCPU the bus says runs on that core
//! ([`PartitionHandle::vcpu_on`]: the core's own, for this MP partition)
//! and that vCPU's own count of answered requests; after [`ROUNDS`] rounds
//! each core's count must be [`ROUNDS`], whatever the other cores did. A
//! core the partition has no execution context for is refused before any
//! call (and reported), as is a core that is not online.
//!
//! | log line | meaning |
//! |---|---|
//! | `ffa-per-cpu: cpuN: vCPU V answered, its request R` | one answer |
//! | `ffa-per-cpu: partition ...: K of N cores answered from their own vCPU ...` | the summary, once every core is done |
//! | `ffa-per-cpu: cpuN: ...` (warning) | a core that did not pass, and why |

use core::cell::Cell;

use crate::bus::{PartitionDriver, PartitionHandle};
use crate::error::ClientError;
use crate::messaging::{AnyDirectMessage, DirectMessage, DirectMessage64};
use crate::requests::DirectRequestClient;
use ffa_abi::test_services::per_cpu;
use ffa_abi::Uuid;
use kernel::cells::OptionalCell;
use kernel::hil::cores::Cores;
use kernel::ErrorCode;

/// UUID of the model's per-CPU partition: `c2b67ad3-85fe-452b-870b-b8fef632eae3`.
pub const PER_CPU_PARTITION_UUID: Uuid = Uuid::from_fields(
    0xc2b6_7ad3,
    0x85fe,
    0x452b,
    [0x87, 0x0b, 0xb8, 0xfe, 0xf6, 0x32, 0xea, 0xe3],
);

static PER_CPU_UUIDS: [Uuid; 1] = [PER_CPU_PARTITION_UUID];

/// Requests each core makes, one after the other.
pub const ROUNDS: u32 = 2;
/// Preemptions each request asks for before the answer.
pub const PREEMPTIONS: u32 = 1;
/// Most cores the driver follows.
pub const MAXIMUM_CORES: usize = 8;

/// Where one core is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CoreOutcome {
    /// Not asked (the board has no such core).
    NotAsked,
    /// Not online: skipped.
    Offline,
    /// A request is in flight (this round, from 1).
    Waiting(u32),
    /// Every round was answered by the core's own vCPU with its own count.
    Passed {
        /// The vCPU that answered.
        vcpu: u16,
    },
    /// An answer from the wrong vCPU, or with a count that is not that
    /// vCPU's own.
    Wrong {
        /// The vCPU that answered.
        vcpu: u16,
        /// The count it gave.
        count: u32,
    },
    /// The request failed.
    Failed(ClientError),
    /// The request was refused before any call (no execution context for
    /// the core, no engine for it).
    Refused(ErrorCode),
}

impl CoreOutcome {
    const fn is_done(&self) -> bool {
        !matches!(self, CoreOutcome::Waiting(_))
    }
}

/// The per-CPU partition driver.
pub struct PerCpuDriver<'a> {
    cores: &'a dyn Cores,
    me: OptionalCell<&'a PerCpuDriver<'a>>,
    handle: OptionalCell<PartitionHandle<'a>>,
    outcomes: [Cell<CoreOutcome>; MAXIMUM_CORES],
    reported: Cell<bool>,
}

impl<'a> PerCpuDriver<'a> {
    /// A driver asking from every online core of `cores`.
    pub fn new(cores: &'a dyn Cores) -> PerCpuDriver<'a> {
        PerCpuDriver {
            cores,
            me: OptionalCell::empty(),
            handle: OptionalCell::empty(),
            outcomes: [const { Cell::new(CoreOutcome::NotAsked) }; MAXIMUM_CORES],
            reported: Cell::new(false),
        }
    }

    /// Where core `core` is.
    pub fn outcome(&self, core: usize) -> CoreOutcome {
        self.outcomes
            .get(core)
            .map_or(CoreOutcome::NotAsked, Cell::get)
    }

    /// Whether every core asked has its outcome.
    pub fn is_done(&self) -> bool {
        self.outcomes.iter().all(|outcome| outcome.get().is_done())
    }

    fn message() -> DirectMessage64 {
        DirectMessage64::new([
            u64::from(per_cpu::WHO_AM_I),
            u64::from(PREEMPTIONS),
            0,
            0,
            0,
        ])
    }

    /// Asks from core `core` (round `round`); the outcome if it is refused.
    fn ask(&self, handle: &PartitionHandle<'a>, core: usize, round: u32) -> CoreOutcome {
        match handle.send_on(core, &Self::message()) {
            Ok(()) => CoreOutcome::Waiting(round),
            Err(code) => {
                defmt::warn!(
                    "ffa-per-cpu: cpu{=usize}: request refused before any call ({})",
                    core,
                    code
                );
                CoreOutcome::Refused(code)
            }
        }
    }

    fn report_if_done(&self) {
        if self.reported.get() || !self.is_done() {
            return;
        }
        self.reported.set(true);
        let Some(handle) = self.handle.get() else {
            return;
        };
        let (mut asked, mut passed, mut refused, mut failed) = (0usize, 0usize, 0usize, 0usize);
        for (core, outcome) in self.outcomes.iter().enumerate() {
            match outcome.get() {
                CoreOutcome::NotAsked => continue,
                CoreOutcome::Offline => {}
                CoreOutcome::Passed { .. } => passed += 1,
                CoreOutcome::Refused(_) => refused += 1,
                CoreOutcome::Wrong { .. } | CoreOutcome::Failed(_) => failed += 1,
                CoreOutcome::Waiting(_) => {}
            }
            asked += 1;
            if !matches!(outcome.get(), CoreOutcome::Passed { .. }) {
                defmt::warn!("ffa-per-cpu: cpu{=usize}: {}", core, outcome.get());
            }
        }
        defmt::info!(
            "ffa-per-cpu: partition {=u16:#06x} ({=u16} execution contexts): {=usize} of {=usize} cores answered from their own vCPU, {=u32} requests each",
            handle.id().raw(),
            handle.info().execution_contexts().unwrap_or(0),
            passed,
            asked,
            ROUNDS
        );
        if refused + failed > 0 {
            defmt::warn!(
                "ffa-per-cpu: {=usize} cores refused before any call (no execution context, no engine), {=usize} failed or answered wrong",
                refused,
                failed
            );
        }
    }
}

impl<'a> PartitionDriver<'a> for PerCpuDriver<'a> {
    fn name(&self) -> &'static str {
        "ffa-per-cpu"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &PER_CPU_UUIDS
    }

    fn setup(&'a self) {
        self.me.set(self);
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        let me = self.me.get().ok_or(ErrorCode::FAIL)?;
        handle.set_request_client(me)?;
        self.handle.set(handle);
        let boot = self.cores.boot_core();
        let mut sent = 0;
        for (core, outcome) in self.outcomes.iter().enumerate().take(self.cores.count()) {
            if core != boot && self.cores.online(core).is_none() {
                defmt::warn!("ffa-per-cpu: cpu{=usize} is not online: not asked", core);
                outcome.set(CoreOutcome::Offline);
                continue;
            }
            let asked = self.ask(&handle, core, 1);
            sent += usize::from(asked == CoreOutcome::Waiting(1));
            outcome.set(asked);
        }
        if sent == 0 {
            self.report_if_done();
            return Err(ErrorCode::FAIL);
        }
        Ok(())
    }
}

impl DirectRequestClient for PerCpuDriver<'_> {
    fn response(&self, core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let (Some(handle), Some(slot)) = (self.handle.get(), self.outcomes.get(core)) else {
            return;
        };
        let CoreOutcome::Waiting(round) = slot.get() else {
            return;
        };
        let outcome = match result.map(DirectMessage64::from_any) {
            Ok(Some(message)) if message.payload[0] == 0 => {
                let (vcpu, count) = (message.payload[1] as u16, message.payload[2] as u32);
                defmt::info!(
                    "ffa-per-cpu: cpu{=usize}: vCPU {=u16} answered, its request {=u32}",
                    core,
                    vcpu,
                    count
                );
                let own = handle.vcpu_on(core).ok() == Some(vcpu) && count == round;
                if !own {
                    CoreOutcome::Wrong { vcpu, count }
                } else if round < ROUNDS {
                    self.ask(&handle, core, round + 1)
                } else {
                    CoreOutcome::Passed { vcpu }
                }
            }
            Ok(_) => CoreOutcome::Failed(ClientError::MalformedReply),
            Err(error) => CoreOutcome::Failed(error),
        };
        slot.set(outcome);
        self.report_if_done();
    }
}
