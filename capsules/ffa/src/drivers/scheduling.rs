//! Driver for the model's scheduling partition: shows that a long request
//! does not stop the kernel, and that yields are waited out.
//!
//! **Preemptible work.** It asks the partition to work for
//! [`WORK_US`] while making the doorbell interrupt the board lent it
//! pending every [`DOORBELL_PERIOD_US`] of work. The partition is preempted
//! (`FFA_INTERRUPT`) whenever an interrupt of this world is pending, and
//! keeps being preempted until the kernel has served it: a client that
//! resumed it at once, without returning to the main loop, would never see
//! the end (the partition counts resumptions that still found an interrupt
//! pending). Meanwhile the driver's own alarm (a heartbeat every
//! [`HEARTBEAT_US`]) measures how late it fires while the request is in
//! flight; the log line gives the count and the worst lateness.
//!
//! **Yields.** It asks the partition to yield [`YIELDS`] times with a
//! timeout of [`YIELD_TIMEOUT_US`]; the partition counts resumptions that
//! came before the timeout (there must be none).
//!
//! The driver holds the bus's work open until both are done.
//!
//! [`SchedulingDriver::blocking`] makes the same work request with the
//! blocking helper instead, as a client that never returns to the main
//! loop would: the doorbell is never served, every `FFA_RUN` finds it
//! pending, and the request ends when the resumption bound is reached (a
//! test build shows that the partition really livelocks such a client).

use core::cell::Cell;

use crate::bus::{PartitionDriver, PartitionHandle};
use crate::error::ClientError;
use crate::messaging::{AnyDirectMessage, DirectMessage, DirectMessage64, RetryPolicy};
use crate::requests::{DirectRequestClient, BOOT_CORE};
use ffa_abi::test_services::scheduling;
use ffa_abi::Uuid;
use kernel::cells::OptionalCell;
use kernel::hil::interrupt::{InterruptClient, InterruptLines};
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::ErrorCode;

/// UUID of the model's scheduling partition: `09d90fb6-cd9b-41f4-9613-8aeffa5e310f`.
pub const SCHEDULING_PARTITION_UUID: Uuid = Uuid::from_fields(
    0x09d9_0fb6,
    0xcd9b,
    0x41f4,
    [0x96, 0x13, 0x8a, 0xef, 0xfa, 0x5e, 0x31, 0x0f],
);

static SCHEDULING_UUIDS: [Uuid; 1] = [SCHEDULING_PARTITION_UUID];

/// How long the partition works.
pub const WORK_US: u32 = 100_000;
/// The doorbell's period, in the partition's work time.
pub const DOORBELL_PERIOD_US: u32 = 25_000;
/// The heartbeat's period.
pub const HEARTBEAT_US: u64 = 5_000;
/// The yields' timeout.
pub const YIELD_TIMEOUT_US: u32 = 2_000;
/// How many times the partition yields.
pub const YIELDS: u32 = 3;
/// How many resumptions the work request may take: the partition is
/// preempted by every interrupt of this world during its [`WORK_US`] of
/// work (the heartbeat alone, every [`HEARTBEAT_US`], makes 20; the
/// doorbells, other cores' replies and notifications more), so the
/// client's default bound (32) would fail it whenever the kernel does
/// anything else meanwhile. Still a bound: a partition that never finishes
/// is given up on.
pub const WORK_RESUMPTIONS: u16 = 256;

/// What the work request showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct WorkResults {
    /// Whether the partition answered.
    pub answered: bool,
    /// Preemptions the partition counted.
    pub preemptions: u32,
    /// Doorbells it raised.
    pub doorbells_raised: u32,
    /// Doorbells this side served.
    pub doorbells_served: u32,
    /// Resumptions that found an interrupt still pending.
    pub unserved_resumptions: u32,
    /// Milliseconds it worked.
    pub worked_ms: u32,
    /// Heartbeats during the request.
    pub heartbeats: u32,
    /// The latest a heartbeat fired, in microseconds.
    pub worst_lateness_us: u64,
}

/// What the yield request showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct YieldResults {
    /// Whether the partition answered.
    pub answered: bool,
    /// Yields it made.
    pub yields: u32,
    /// Resumptions before the timeout.
    pub early: u32,
    /// The shortest wait it saw, in microseconds.
    pub shortest_wait_us: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Blocking mode: waiting (on the alarm) for the vCPU to be free of
    /// split-phase requests, this many tries left.
    WaitingToBlock(u16),
    Work,
    Yield,
    Done,
}

/// The scheduling partition driver.
pub struct SchedulingDriver<'a> {
    alarm: &'a dyn Alarm<'a>,
    lines: &'a dyn InterruptLines<'a>,
    doorbell: u32,
    me: OptionalCell<&'a SchedulingDriver<'a>>,
    handle: OptionalCell<PartitionHandle<'a>>,
    stage: Cell<Stage>,
    doorbell_claimed: Cell<bool>,
    next_heartbeat: Cell<u64>,
    work: Cell<WorkResults>,
    yields: Cell<YieldResults>,
    blocking: bool,
}

impl<'a> SchedulingDriver<'a> {
    /// A driver that beats on `alarm` (a virtual alarm of its own) and
    /// serves the partition's doorbell, interrupt `doorbell` (an SPI the
    /// partition accepts, `test_services::scheduling::DOORBELLS`) from
    /// `lines`.
    pub fn new(
        alarm: &'a dyn Alarm<'a>,
        lines: &'a dyn InterruptLines<'a>,
        doorbell: u32,
    ) -> SchedulingDriver<'a> {
        SchedulingDriver {
            alarm,
            lines,
            doorbell,
            me: OptionalCell::empty(),
            handle: OptionalCell::empty(),
            stage: Cell::new(Stage::Done),
            doorbell_claimed: Cell::new(false),
            next_heartbeat: Cell::new(0),
            work: Cell::new(WorkResults::default()),
            yields: Cell::new(YieldResults::default()),
            blocking: false,
        }
    }

    /// The same driver, making its work request blocking (see the module
    /// documentation): for a test that shows the livelock it avoids.
    pub fn blocking(
        alarm: &'a dyn Alarm<'a>,
        lines: &'a dyn InterruptLines<'a>,
        doorbell: u32,
    ) -> SchedulingDriver<'a> {
        SchedulingDriver {
            blocking: true,
            ..SchedulingDriver::new(alarm, lines, doorbell)
        }
    }

    /// What the work request showed.
    pub fn work_results(&self) -> WorkResults {
        self.work.get()
    }

    /// What the yield request showed.
    pub fn yield_results(&self) -> YieldResults {
        self.yields.get()
    }

    fn heartbeat_from(&self, now: u64) {
        let next = now.saturating_add(self.alarm.ticks_from_us(HEARTBEAT_US));
        self.next_heartbeat.set(next);
        self.alarm.set_alarm(now, next - now);
    }

    fn send_yield(&self, handle: &PartitionHandle<'_>) {
        self.stage.set(Stage::Yield);
        let message = DirectMessage64::new([
            u64::from(scheduling::YIELD),
            u64::from(YIELD_TIMEOUT_US),
            u64::from(YIELDS),
            0,
            0,
        ]);
        if let Err(error) = handle.send(&message) {
            defmt::error!("ffa-scheduling: yield request not sent: {}", error);
            self.done(handle);
        }
    }

    fn done(&self, handle: &PartitionHandle<'_>) {
        self.stage.set(Stage::Done);
        let _ = self.alarm.disarm();
        if self.doorbell_claimed.replace(false) {
            let _ = self.lines.release(self.doorbell);
        }
        handle.work_finished();
    }
}

impl<'a> PartitionDriver<'a> for SchedulingDriver<'a> {
    fn name(&self) -> &'static str {
        "ffa-scheduling"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &SCHEDULING_UUIDS
    }

    fn setup(&'a self) {
        self.me.set(self);
        self.alarm.set_alarm_client(self);
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        let me = self.me.get().ok_or(ErrorCode::FAIL)?;
        if handle.set_request_client(me).is_err() {
            defmt::warn!(
                "ffa-scheduling: no split-phase requests on this board; nothing to exercise"
            );
            return Ok(());
        }
        self.handle.set(handle);
        let doorbell = match self.lines.claim(self.doorbell, me) {
            Ok(()) => {
                self.doorbell_claimed.set(true);
                self.doorbell
            }
            Err(error) => {
                defmt::warn!(
                    "ffa-scheduling: doorbell interrupt {=u32} unavailable ({}); working without it",
                    self.doorbell,
                    error
                );
                0
            }
        };
        let message = DirectMessage64::new([
            u64::from(scheduling::WORK),
            u64::from(WORK_US),
            u64::from(doorbell),
            u64::from(DOORBELL_PERIOD_US),
            0,
        ]);
        if self.blocking {
            // A blocking request may not start while a split-phase one
            // holds the vCPU: wait for the others on the alarm.
            handle.work_started();
            self.stage.set(Stage::WaitingToBlock(BLOCKING_TRIES));
            self.heartbeat_from(self.alarm.now());
            return Ok(());
        }
        let policy = RetryPolicy {
            resumptions: WORK_RESUMPTIONS,
            ..handle.retry_policy()
        };
        handle.send_on_with(BOOT_CORE, &message, &policy)?;
        handle.work_started();
        self.stage.set(Stage::Work);
        self.heartbeat_from(self.alarm.now());
        Ok(())
    }
}

impl DirectRequestClient for SchedulingDriver<'_> {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let words = match result.map(DirectMessage64::from_any) {
            Ok(Some(message)) if message.payload[0] == 0 => Some(message.payload),
            Ok(_) => {
                defmt::error!("ffa-scheduling: the partition refused the request");
                None
            }
            Err(error) => {
                defmt::error!("ffa-scheduling: request failed: {}", error);
                None
            }
        };
        match self.stage.get() {
            Stage::Work => {
                let _ = self.alarm.disarm();
                let mut work = self.work.get();
                if let Some(words) = words {
                    work.answered = true;
                    work.preemptions = words[1] as u32;
                    work.doorbells_raised = words[2] as u32;
                    work.unserved_resumptions = words[3] as u32;
                    work.worked_ms = words[4] as u32;
                    defmt::info!(
                        "ffa-scheduling: {=u32} ms of preemptible work done: {=u32} preemptions, {=u32} of {=u32} doorbells served, {=u32} resumptions found an interrupt pending",
                        work.worked_ms,
                        work.preemptions,
                        work.doorbells_served,
                        work.doorbells_raised,
                        work.unserved_resumptions
                    );
                    if work.heartbeats > 0 {
                        defmt::info!(
                            "ffa-scheduling: the main loop ran during the request: the heartbeat fired {=u32} times (every {=u64} us), at worst {=u64} us late",
                            work.heartbeats,
                            HEARTBEAT_US,
                            work.worst_lateness_us
                        );
                    } else {
                        defmt::error!(
                            "ffa-scheduling: the heartbeat never fired during the request"
                        );
                    }
                }
                self.work.set(work);
                self.send_yield(&handle);
            }
            Stage::Yield => {
                let mut yields = self.yields.get();
                if let Some(words) = words {
                    yields = YieldResults {
                        answered: true,
                        early: words[1] as u32,
                        shortest_wait_us: words[2] as u32,
                        yields: words[3] as u32,
                    };
                    let report = if yields.early == 0 {
                        "none early"
                    } else {
                        "some EARLY"
                    };
                    defmt::info!(
                        "ffa-scheduling: {=u32} yields with a {=u32} us timeout resumed, {=u32} early ({=str}), shortest wait {=u32} us",
                        yields.yields,
                        YIELD_TIMEOUT_US,
                        yields.early,
                        report,
                        yields.shortest_wait_us
                    );
                }
                self.yields.set(yields);
                self.done(&handle);
            }
            Stage::Done | Stage::WaitingToBlock(_) => {}
        }
    }
}

impl SchedulingDriver<'_> {
    /// Blocking mode: the work request, made with the blocking helper.
    fn block(&self, handle: &PartitionHandle<'_>) -> Result<(), ClientError> {
        let doorbell = if self.doorbell_claimed.get() {
            self.doorbell
        } else {
            0
        };
        let message = DirectMessage64::new([
            u64::from(scheduling::WORK),
            u64::from(WORK_US),
            u64::from(doorbell),
            u64::from(DOORBELL_PERIOD_US),
            0,
        ]);
        self.stage.set(Stage::Work);
        self.heartbeat_from(self.alarm.now());
        let outcome = handle.direct_request(&message);
        let work = self.work.get();
        match outcome {
            Ok(_) => defmt::info!(
                "ffa-scheduling: blocking: the work request ended; the heartbeat fired {=u32} times during it",
                work.heartbeats
            ),
            Err(ClientError::InFlight) => return Err(ClientError::InFlight),
            Err(error) => defmt::warn!(
                "ffa-scheduling: blocking: the work request failed ({}): the doorbell was never served, {=u32} of it served and {=u32} heartbeats during the request",
                error,
                work.doorbells_served,
                work.heartbeats
            ),
        }
        self.done(handle);
        Ok(())
    }
}

/// Blocking mode: how many times (every heartbeat) the driver looks for a
/// free vCPU before it gives up.
const BLOCKING_TRIES: u16 = 400;

impl AlarmClient for SchedulingDriver<'_> {
    fn alarm(&self) {
        if let Stage::WaitingToBlock(tries) = self.stage.get() {
            let Some(handle) = self.handle.get() else {
                return;
            };
            if tries == 0 {
                defmt::error!("ffa-scheduling: blocking: the vCPU never came free");
                self.done(&handle);
            } else if self.block(&handle).is_err() {
                self.stage.set(Stage::WaitingToBlock(tries - 1));
                self.heartbeat_from(self.alarm.now());
            }
            return;
        }
        if self.stage.get() != Stage::Work {
            return;
        }
        let now = self.alarm.now();
        let late = self
            .alarm
            .ticks_to_us(now.saturating_sub(self.next_heartbeat.get()));
        let mut work = self.work.get();
        work.heartbeats += 1;
        work.worst_lateness_us = work.worst_lateness_us.max(late);
        self.work.set(work);
        self.heartbeat_from(now);
    }
}

impl InterruptClient for SchedulingDriver<'_> {
    fn interrupt(&self, _id: u32) {
        let mut work = self.work.get();
        work.doorbells_served += 1;
        self.work.set(work);
    }
}
