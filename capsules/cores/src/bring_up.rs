//! The bring-up of the secondary cores: one init-queue entry per core, an
//! alarm that polls for their arrival and their results, bounded waits.

use core::cell::Cell;

use kernel::cells::OptionalCell;
use kernel::hil::cores::{CoreWork, CoreWorkClient, Cores};
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::init_queue::{ConditionId, ConditionSet, Probe, ProbeResult, Queue};
use kernel::ErrorCode;

/// Most cores the bring-up tracks (index = MPIDR Aff0).
pub const MAXIMUM_CORES: usize = 8;

/// How the board wants its cores brought up.
#[derive(Clone, Copy, Debug)]
pub struct BringUpConfig {
    /// How long a started core may take to come online, in milliseconds.
    pub online_deadline_ms: u64,
    /// How long a core may take over its work, in milliseconds.
    pub work_deadline_ms: u64,
    /// How often the alarm looks at the cores, in milliseconds.
    pub poll_interval_ms: u64,
    /// Conditions that must hold before a core is started.
    pub start_after: ConditionSet,
    /// Conditions that must hold before an online core gets its work.
    pub work_after: ConditionSet,
    /// The work each core runs once (none: the core only parks).
    pub work: Option<CoreWork>,
}

impl BringUpConfig {
    /// Start at once, 1 s to come online, no work, polled every millisecond.
    pub const DEFAULT: BringUpConfig = BringUpConfig {
        online_deadline_ms: 1000,
        work_deadline_ms: 1000,
        poll_interval_ms: 1,
        start_after: ConditionSet::empty(),
        work_after: ConditionSet::empty(),
        work: None,
    };
}

/// Where a core is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
enum Phase {
    /// Not started.
    Idle,
    /// Start requested at `since`.
    Starting { since: u64 },
    /// Online, parked.
    Online,
    /// Work posted.
    Working,
    /// Done: online (and its work judged).
    Done,
    /// Refused, lost or failed.
    Failed,
}

/// One core's bookkeeping.
struct CoreSlot {
    phase: Cell<Phase>,
    online: Cell<Option<ConditionId>>,
    work_done: Cell<Option<ConditionId>>,
    /// A `begin_work` is outstanding: the alarm watches this core.
    watched: Cell<bool>,
    deadline: Cell<u64>,
    result: Cell<Option<u64>>,
}

impl CoreSlot {
    const fn new() -> CoreSlot {
        CoreSlot {
            phase: Cell::new(Phase::Idle),
            online: Cell::new(None),
            work_done: Cell::new(None),
            watched: Cell::new(false),
            deadline: Cell::new(0),
            result: Cell::new(None),
        }
    }
}

/// The bring-up of every secondary core.
pub struct CoreBringUp<'a, A: Alarm<'a>> {
    cores: &'a dyn Cores,
    alarm: &'a A,
    queue: &'a dyn Queue<'a>,
    config: BringUpConfig,
    slots: [CoreSlot; MAXIMUM_CORES],
    client: OptionalCell<&'a dyn CoreWorkClient>,
}

impl<'a, A: Alarm<'a>> CoreBringUp<'a, A> {
    /// The bring-up of `cores`' secondaries, polled on `alarm`, signalling on `queue`.
    pub fn new(
        cores: &'a dyn Cores,
        alarm: &'a A,
        queue: &'a dyn Queue<'a>,
        config: BringUpConfig,
    ) -> CoreBringUp<'a, A> {
        CoreBringUp {
            cores,
            alarm,
            queue,
            config,
            slots: [const { CoreSlot::new() }; MAXIMUM_CORES],
            client: OptionalCell::empty(),
        }
    }

    /// Sets who judges the cores' work.
    pub fn set_client(&self, client: &'a dyn CoreWorkClient) {
        self.client.set(client);
    }

    /// The secondary cores (every described core but the boot core).
    pub fn secondaries(&self) -> impl Iterator<Item = usize> + use<'_, 'a, A> {
        let boot = self.cores.boot_core();
        (0..MAXIMUM_CORES).filter(move |&core| core != boot && self.cores.mpidr(core).is_some())
    }

    /// Gives core `core` its conditions (the component declares them).
    pub fn assign(&self, core: usize, online: ConditionId, work_done: ConditionId) {
        if let Some(slot) = self.slots.get(core) {
            slot.online.set(Some(online));
            slot.work_done.set(Some(work_done));
        }
    }

    /// Every secondary's online condition (signalled once the core is
    /// online, or given up at its deadline): for what needs the cores.
    pub fn online_conditions(&self) -> ConditionSet {
        self.slots
            .iter()
            .filter_map(|slot| slot.online.get())
            .fold(ConditionSet::empty(), ConditionSet::with)
    }

    /// Whether core `core` came online (and did its work).
    pub fn is_up(&self, core: usize) -> bool {
        self.slots
            .get(core)
            .is_some_and(|slot| slot.phase.get() == Phase::Done)
    }

    fn watch(&self, slot: &CoreSlot, deadline_ms: u64) {
        let now = self.alarm.now();
        slot.deadline
            .set(now.saturating_add(self.alarm.ticks_from_ms(deadline_ms)));
        slot.watched.set(true);
        self.queue.begin_work();
        if !self.alarm.is_armed() {
            self.alarm.set_alarm(
                now,
                self.alarm
                    .ticks_from_ms(self.config.poll_interval_ms)
                    .max(1),
            );
        }
    }

    fn unwatch(&self, slot: &CoreSlot, condition: Option<ConditionId>) {
        slot.watched.set(false);
        if let Some(condition) = condition {
            self.queue.signal(condition);
        }
        self.queue.end_work();
    }

    /// The probe of core `core`'s entry.
    fn probe(&self, core: usize) -> ProbeResult {
        let Some(slot) = self.slots.get(core) else {
            return ProbeResult::Failed(ErrorCode::INVAL);
        };
        let (Some(online), Some(work_done)) = (slot.online.get(), slot.work_done.get()) else {
            return ProbeResult::Failed(ErrorCode::INVAL);
        };
        loop {
            match slot.phase.get() {
                Phase::Idle => {
                    let missing = self.queue.missing(self.config.start_after);
                    if !missing.is_empty() {
                        return ProbeResult::Defer(missing);
                    }
                    if let Err(error) = self.cores.start(core) {
                        defmt::warn!("cpu{=usize}: start refused: {}", core, error);
                        slot.phase.set(Phase::Failed);
                        return ProbeResult::Failed(ErrorCode::NODEVICE);
                    }
                    slot.phase.set(Phase::Starting {
                        since: self.alarm.now(),
                    });
                    self.watch(slot, self.config.online_deadline_ms);
                    return ProbeResult::Defer(ConditionSet::of(online));
                }
                Phase::Starting { since } => match self.cores.online(core) {
                    Some(report) => {
                        let took = self
                            .alarm
                            .ticks_to_us(self.alarm.now().saturating_sub(since));
                        defmt::info!(
                            "cpu{=usize}: online after {=u64} us: MPIDR {=u64:#x}, entered at EL{=u8}, parked in wfe",
                            core,
                            took,
                            report.mpidr,
                            report.entry_exception_level
                        );
                        slot.phase.set(Phase::Online);
                    }
                    None => {
                        defmt::warn!(
                            "cpu{=usize}: did not come online within {=u64} ms; carrying on without it",
                            core,
                            self.config.online_deadline_ms
                        );
                        slot.phase.set(Phase::Failed);
                        return ProbeResult::Failed(ErrorCode::NODEVICE);
                    }
                },
                Phase::Online => {
                    let Some(work) = self.config.work else {
                        slot.phase.set(Phase::Done);
                        return ProbeResult::Ready;
                    };
                    let missing = self.queue.missing(self.config.work_after);
                    if !missing.is_empty() {
                        return ProbeResult::Defer(missing);
                    }
                    if let Err(error) = self.cores.post(core, work) {
                        defmt::warn!("cpu{=usize}: cannot post its work: {}", core, error);
                        slot.phase.set(Phase::Failed);
                        return ProbeResult::Failed(error);
                    }
                    slot.phase.set(Phase::Working);
                    self.watch(slot, self.config.work_deadline_ms);
                    return ProbeResult::Defer(ConditionSet::of(work_done));
                }
                Phase::Working => {
                    let Some(result) = slot.result.take() else {
                        defmt::warn!(
                            "cpu{=usize}: its work did not finish within {=u64} ms",
                            core,
                            self.config.work_deadline_ms
                        );
                        slot.phase.set(Phase::Failed);
                        return ProbeResult::Failed(ErrorCode::FAIL);
                    };
                    let verdict = self
                        .client
                        .map_or(Ok(()), |client| client.work_done(core, result));
                    return match verdict {
                        Ok(()) => {
                            slot.phase.set(Phase::Done);
                            ProbeResult::Ready
                        }
                        Err(error) => {
                            slot.phase.set(Phase::Failed);
                            ProbeResult::Failed(error)
                        }
                    };
                }
                Phase::Done => return ProbeResult::Ready,
                Phase::Failed => return ProbeResult::Failed(ErrorCode::FAIL),
            }
        }
    }
}

impl<'a, A: Alarm<'a>> AlarmClient for CoreBringUp<'a, A> {
    fn alarm(&self) {
        let now = self.alarm.now();
        let mut still_watching = false;
        for (core, slot) in self.slots.iter().enumerate() {
            if !slot.watched.get() {
                continue;
            }
            match slot.phase.get() {
                Phase::Starting { .. } => {
                    if self.cores.online(core).is_some() {
                        self.unwatch(slot, slot.online.get());
                        continue;
                    }
                    if now >= slot.deadline.get() {
                        self.unwatch(slot, slot.online.get());
                        continue;
                    }
                }
                Phase::Working => {
                    if let Some(result) = self.cores.take_result(core) {
                        slot.result.set(Some(result));
                        self.unwatch(slot, slot.work_done.get());
                        continue;
                    }
                    if now >= slot.deadline.get() {
                        self.unwatch(slot, slot.work_done.get());
                        continue;
                    }
                }
                _ => {
                    self.unwatch(slot, None);
                    continue;
                }
            }
            still_watching = true;
        }
        if still_watching {
            self.alarm.set_alarm(
                now,
                self.alarm
                    .ticks_from_ms(self.config.poll_interval_ms)
                    .max(1),
            );
        }
    }
}

/// The init-queue entry of one core.
pub struct CoreEntry<'a, A: Alarm<'a>> {
    bring_up: OptionalCell<&'a CoreBringUp<'a, A>>,
    core: Cell<usize>,
}

impl<'a, A: Alarm<'a>> CoreEntry<'a, A> {
    /// An entry not yet tied to a core.
    pub const fn new() -> CoreEntry<'a, A> {
        CoreEntry {
            bring_up: OptionalCell::empty(),
            core: Cell::new(0),
        }
    }

    /// Ties the entry to core `core` of `bring_up`.
    pub fn bind(&self, bring_up: &'a CoreBringUp<'a, A>, core: usize) {
        self.bring_up.set(bring_up);
        self.core.set(core);
    }
}

impl<'a, A: Alarm<'a>> Default for CoreEntry<'a, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, A: Alarm<'a>> Probe for CoreEntry<'a, A> {
    fn probe(&self) -> ProbeResult {
        self.bring_up
            .map_or(ProbeResult::Failed(ErrorCode::INVAL), |bring_up| {
                bring_up.probe(self.core.get())
            })
    }
}
