//! The queue: [`InitQueue`] (fixed capacity, no allocation), the [`Queue`]
//! trait every user reaches it through, and how entries are woken.
//!
//! An entry parked on a condition is found again through that condition's
//! list of waiters, never by scanning the queue: a signal costs time in
//! proportion to the entries waiting on it, and the number of probe calls is
//! at most the number of entries plus, for each entry, the number of
//! conditions it waited on that were signalled.
//!
//! On the success path (an entry ready, deferred, woken) the queue does
//! bookkeeping only; what is worth a log line is told to the queue's
//! [`Journal`] (a board attaches [`BootLog`](super::BootLog) to log each
//! step). Errors (a full queue, an undeclared condition, a probe that
//! failed or misbehaved, a timeout) are always logged here.

use core::cell::Cell;

use super::condition::{ConditionId, ConditionSet};
use super::entry::{EntryCounts, EntryId, EntrySlot, EntryState, Probe, ProbeResult, NO_ENTRY};
use super::report::{ConditionNames, Journal};
use crate::cells::OptionalCell;
use crate::main_loop::LoopService;
use crate::ErrorCode;

/// Largest number of entries a queue can index (`u16` ids, with one value
/// kept as the end-of-list marker).
const MAXIMUM_ENTRIES: usize = NO_ENTRY as usize;

/// The init queue as its users see it, whatever its capacity: declare,
/// signal and ask about readiness conditions, add the entries that wait on
/// them, and read where each entry is.
///
/// Every [`InitQueue`] implements it, so components hold a
/// `&'a dyn Queue<'a>` and never name the queue's capacity.
pub trait Queue<'a> {
    /// Declares a condition named `name` (for logs) and returns its id.
    ///
    /// Returns `Err(ErrorCode::NOMEM)`, with an error log, when the queue
    /// already holds as many conditions as it can.
    fn declare_condition(&self, name: &'static str) -> Result<ConditionId, ErrorCode>;

    /// Adds an entry named `name` (for logs), probed by `probe`, that
    /// signals `provides` when it becomes ready. The entry is runnable at
    /// once: the next [`InitQueue::service`] probes it.
    ///
    /// Returns `Err(ErrorCode::INVAL)` if `provides` was not declared on
    /// this queue, and `Err(ErrorCode::NOMEM)` when the queue is full; both
    /// with an error log.
    fn add(
        &self,
        name: &'static str,
        probe: &'a dyn Probe,
        provides: Option<ConditionId>,
    ) -> Result<EntryId, ErrorCode>;

    /// Records that `condition` holds. Entries whose conditions are now all
    /// signalled become runnable; no probe is called here, so this is safe
    /// to call from anywhere, including inside a downcall or a probe.
    /// Signalling a condition twice changes nothing. Signalling a condition
    /// this queue never declared is ignored with an error log.
    fn signal(&self, condition: ConditionId);

    /// Every condition signalled so far.
    fn signalled(&self) -> ConditionSet;

    /// Asynchronous work is under way that will signal `condition` (a
    /// probe started a transfer and defers on its outcome): the queue does
    /// not settle until `condition` is signalled, or [`Queue::expire`]
    /// gives up on it. Whoever calls this must signal `condition` in
    /// bounded time, success or failure. A condition already signalled, or
    /// not declared, changes nothing.
    fn expect_signal(&self, condition: ConditionId);

    /// The conditions whose signal is expected ([`Queue::expect_signal`])
    /// and has not come yet.
    fn expected(&self) -> ConditionSet;

    /// Whether `condition` has been signalled (`false` for a condition this
    /// queue never declared).
    fn is_signalled(&self, condition: ConditionId) -> bool {
        self.signalled().contains(condition)
    }

    /// The conditions of `set` not signalled yet: what a probe defers on.
    fn missing(&self, set: ConditionSet) -> ConditionSet {
        set.difference(self.signalled())
    }

    /// The name `condition` was declared with (`"<undeclared>"` for a
    /// condition this queue never declared).
    fn condition_name(&self, condition: ConditionId) -> &'static str;

    /// The name `entry` was added with (`"<unknown>"` for an id that is not
    /// from this queue).
    fn entry_name(&self, entry: EntryId) -> &'static str;

    /// The entry added `index`-th (from 0), if that many were added: with
    /// it, a user of the trait walks every entry in the order they were
    /// added (`(0..).map_while(|index| queue.entry(index))`).
    fn entry(&self, index: usize) -> Option<EntryId>;

    /// The condition `entry` signals when it becomes ready, if any.
    fn provides(&self, entry: EntryId) -> Option<ConditionId>;

    /// Every condition declared so far.
    fn declared(&self) -> ConditionSet;

    /// Where `entry` is. An id that is not from this queue reads as
    /// `Failed(ErrorCode::INVAL)`.
    fn state(&self, entry: EntryId) -> EntryState;

    /// How many entries are in each state.
    fn counts(&self) -> EntryCounts;

    /// Whether nothing is runnable, no work is in flight and no expected
    /// signal is outstanding. Every entry is then ready, failed, timed out,
    /// or waiting on a condition that has not been signalled and that no
    /// work under way will signal.
    fn is_settled(&self) -> bool;

    /// An entry started work that goes on outside the queue and will
    /// signal the condition it waits on (a secondary core coming online):
    /// until the matching [`Queue::end_work`] the queue does not settle, so
    /// boot is not reported complete meanwhile. The work must end (signal,
    /// or give up at its own deadline) and then call `end_work`.
    fn begin_work(&self);

    /// Work begun with [`Queue::begin_work`] has ended; the queue settles
    /// at its next service if nothing else is runnable or in flight.
    fn end_work(&self);

    /// The board's deadline has passed: every entry still waiting on a
    /// condition that has not been signalled becomes
    /// [`EntryState::TimedOut`] (logged as an error, with the missing
    /// conditions) and is never retried. Entries whose conditions have all
    /// been signalled keep their retry.
    /// Expected signals that have not come are given up on (logged).
    fn expire(&self);

    /// Logs each waiting entry by name, with the names of the conditions it
    /// waits on that have not been signalled.
    fn report_pending(&self);

    /// Sets the client told when the queue settles.
    fn set_client(&self, client: &'a dyn InitQueueClient);

    /// Sets the journal told of each probe's result and of each settling
    /// (for example [`BootLog`](super::BootLog), which logs them).
    fn set_journal(&self, journal: &'a dyn Journal);
}

/// Told when the queue settles.
pub trait InitQueueClient {
    /// The queue has just become settled: no entry can be probed until
    /// something new is signalled or added, and no expected signal is
    /// outstanding. Called once each time this happens, at the end of
    /// [`InitQueue::service`]. The queue becomes
    /// unsettled when an entry is added or a signal makes an entry
    /// runnable; a queue that never had an entry is never reported.
    fn settled(&self);
}

/// Why an entry cannot be added.
#[derive(Clone, Copy)]
enum Refusal {
    /// It provides a condition the queue never declared.
    Undeclared(ConditionId),
    /// The queue is full.
    Full,
}

/// A fixed-capacity queue of components to initialise, each probed when the
/// conditions it waits on have been signalled.
///
/// Holds up to `ENTRIES` entries and up to `CONDITIONS` conditions (at most
/// [`ConditionSet::CAPACITY`]). Used through `&self` and the [`Queue`]
/// trait; see the [module documentation](super).
///
/// [`InitQueue::service`] always probes the runnable entry that was added
/// first, and keeps going until nothing is runnable, so an entry made
/// runnable during a `service` call (by a signal from another entry's probe)
/// is probed in that same call.
pub struct InitQueue<'a, const ENTRIES: usize, const CONDITIONS: usize> {
    entries: [EntrySlot<'a>; ENTRIES],
    entry_count: Cell<u16>,
    /// The names conditions were declared with.
    condition_names: [Cell<&'static str>; CONDITIONS],
    /// For each condition a queue can hold, the first waiting entry parked
    /// on it (sized for every condition a set can name, so a condition
    /// from a set always indexes it).
    first_waiters: [Cell<u16>; ConditionSet::CAPACITY],
    condition_count: Cell<u8>,
    /// The conditions declared so far.
    declared: Cell<ConditionSet>,
    signalled: Cell<ConditionSet>,
    /// Conditions that work under way will signal (`expect_signal`).
    expected: Cell<ConditionSet>,
    /// Entries from this one on have never been probed (and are runnable).
    next_unprobed: Cell<u16>,
    /// How many waiting entries have been woken (their `runnable` is set).
    woken_count: Cell<u16>,
    /// While some entry is woken, the first woken entry.
    first_woken: Cell<u16>,
    attempts: Cell<usize>,
    /// Whether the client has been told about the current settled period.
    settled_reported: Cell<bool>,
    /// Work that entries started outside the queue and that has not ended
    /// ([`Queue::begin_work`]): while any is in flight the queue is not settled.
    work_in_flight: Cell<u16>,
    /// Some work ended since the last `service`: the next one re-checks
    /// settling (and so the main loop calls it).
    work_ended: Cell<bool>,
    /// Whether `service` is running (guards against a probe calling it).
    servicing: Cell<bool>,
    client: OptionalCell<&'a dyn InitQueueClient>,
    journal: OptionalCell<&'a dyn Journal>,
}

impl<const ENTRIES: usize, const CONDITIONS: usize> Default for InitQueue<'_, ENTRIES, CONDITIONS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const ENTRIES: usize, const CONDITIONS: usize> InitQueue<'a, ENTRIES, CONDITIONS> {
    /// How many entries the queue can hold.
    pub const ENTRY_CAPACITY: usize = if ENTRIES < MAXIMUM_ENTRIES {
        ENTRIES
    } else {
        MAXIMUM_ENTRIES
    };

    /// How many conditions the queue can hold: `CONDITIONS`, but no more
    /// than a [`ConditionSet`] can represent.
    pub const CONDITION_CAPACITY: usize = if CONDITIONS < ConditionSet::CAPACITY {
        CONDITIONS
    } else {
        ConditionSet::CAPACITY
    };

    /// An empty queue.
    pub const fn new() -> Self {
        InitQueue {
            entries: [const { EntrySlot::unused() }; ENTRIES],
            entry_count: Cell::new(0),
            condition_names: [const { Cell::new("") }; CONDITIONS],
            first_waiters: [const { Cell::new(NO_ENTRY) }; ConditionSet::CAPACITY],
            condition_count: Cell::new(0),
            declared: Cell::new(ConditionSet::empty()),
            signalled: Cell::new(ConditionSet::empty()),
            expected: Cell::new(ConditionSet::empty()),
            next_unprobed: Cell::new(0),
            woken_count: Cell::new(0),
            first_woken: Cell::new(0),
            attempts: Cell::new(0),
            settled_reported: Cell::new(true),
            work_in_flight: Cell::new(0),
            work_ended: Cell::new(false),
            servicing: Cell::new(false),
            client: OptionalCell::empty(),
            journal: OptionalCell::empty(),
        }
    }

    /// How many entries have been added.
    pub fn entry_count(&self) -> usize {
        usize::from(self.entry_count.get())
    }

    /// How many conditions have been declared.
    pub fn condition_count(&self) -> usize {
        usize::from(self.condition_count.get())
    }

    /// Whether some entry is runnable (not probed yet, or waiting on
    /// conditions that have all been signalled since), or work in flight
    /// has ended and settling must be re-checked.
    pub fn has_work(&self) -> bool {
        self.has_runnable() || self.work_ended.get()
    }

    fn has_runnable(&self) -> bool {
        self.next_unprobed.get() < self.entry_count.get() || self.woken_count.get() != 0
    }

    /// Whether the settling is due to be reported: nothing runnable, no
    /// expected signal outstanding, not reported yet (after the last
    /// expected signal came without waking an entry).
    fn settling_due(&self) -> bool {
        !self.settled_reported.get() && self.quiet()
    }

    /// Nothing runnable, no work in flight, no expected signal outstanding.
    fn quiet(&self) -> bool {
        !self.has_runnable() && self.work_in_flight.get() == 0 && self.expected.get().is_empty()
    }

    /// How many times a probe has been called.
    pub fn attempts(&self) -> usize {
        self.attempts.get()
    }

    /// Calls `visit` with each entry's id, name and state, in the order the
    /// entries were added.
    pub fn for_each_entry(&self, mut visit: impl FnMut(EntryId, &'static str, EntryState)) {
        for (index, entry) in self.added().iter().enumerate() {
            visit(EntryId(index as u16), entry.name.get(), entry.state());
        }
    }

    /// Probes runnable entries, the earliest added first, until none is
    /// runnable. Then, if the queue was not settled before and no expected
    /// signal is outstanding, tells the journal and the client (once).
    ///
    /// A probe that calls `service` again gets an immediate return: the
    /// outer call carries on with whatever that probe made runnable.
    pub fn service(&self) {
        if self.servicing.replace(true) {
            defmt::warn!("init: service() called from inside a probe; ignored");
            return;
        }
        while let Some(index) = self.take_next_runnable() {
            self.run_entry(index);
        }
        self.servicing.set(false);
        self.work_ended.set(false);
        if self.quiet() && !self.settled_reported.replace(true) {
            self.journal.map(|journal| journal.settled(self));
            self.client.map(|client| client.settled());
        }
    }

    /// The entries added so far.
    fn added(&self) -> &[EntrySlot<'a>] {
        &self.entries[..self.entry_count()]
    }

    /// The names of the conditions declared so far.
    fn declared_names(&self) -> &[Cell<&'static str>] {
        &self.condition_names[..self.condition_count()]
    }

    fn is_declared(&self, condition: ConditionId) -> bool {
        self.declared.get().contains(condition)
    }

    fn is_added(&self, entry: EntryId) -> bool {
        entry.0 < self.entry_count.get()
    }

    /// The names of `set`'s conditions, for a log line.
    fn names(&self, set: ConditionSet) -> ConditionNames<'_, 'a> {
        ConditionNames::new(self, set)
    }

    /// Marks a waiting entry, all of whose conditions are now signalled,
    /// due to be probed again.
    #[inline]
    fn wake(&self, index: u16) {
        // An entry is parked on one list at a time and taken off it to be
        // woken, so it cannot be woken twice before it runs.
        self.entries[usize::from(index)].runnable.set(true);
        let woken = self.woken_count.get();
        if woken == 0 || index < self.first_woken.get() {
            self.first_woken.set(index);
        }
        self.woken_count.set(woken + 1);
        self.settled_reported.set(false);
    }

    /// Takes the runnable entry added first off the runnable set: the first
    /// woken entry if there is one (it was probed before, so it was added
    /// before every entry never probed), otherwise the first never probed.
    #[inline]
    fn take_next_runnable(&self) -> Option<u16> {
        let woken = self.woken_count.get();
        if woken != 0 {
            let first_woken = self.first_woken.get();
            self.take_woken(first_woken, woken);
            return Some(first_woken);
        }
        let unprobed = self.next_unprobed.get();
        if unprobed >= self.entry_count.get() {
            return None;
        }
        self.next_unprobed.set(unprobed + 1);
        Some(unprobed)
    }

    /// Takes the first woken entry, `first` (one of `woken` woken entries),
    /// off the runnable set, and finds the next first one if any is left.
    #[inline]
    fn take_woken(&self, first: u16, woken: u16) {
        self.entries[usize::from(first)].runnable.set(false);
        self.woken_count.set(woken - 1);
        if woken > 1 {
            let after = usize::from(first) + 1;
            let next = self.added()[after..]
                .iter()
                .position(|entry| entry.runnable.get())
                .map_or(self.entry_count.get(), |offset| (after + offset) as u16);
            self.first_woken.set(next);
        }
    }

    /// Parks a waiting entry on the lowest condition it still misses, or
    /// makes it runnable if it misses none.
    #[inline]
    fn park_or_wake(&self, index: u16) {
        let Some(conditions) = self.entries[usize::from(index)].waiting_on() else {
            return;
        };
        match conditions.difference(self.signalled.get()).lowest() {
            Some(missing) => self.park(index, missing),
            None => self.wake(index),
        }
    }

    /// Puts a waiting entry on the list of a condition it misses.
    #[inline]
    fn park(&self, index: u16, missing: ConditionId) {
        let list = &self.first_waiters[missing.index()];
        self.entries[usize::from(index)]
            .next_waiter
            .set(list.replace(index));
    }

    /// Records that `condition`, which this queue declared, holds, and wakes
    /// (or parks again) every entry parked on it.
    #[inline(always)]
    fn signal_declared(&self, condition: ConditionId) {
        let signalled = self.signalled.get();
        if signalled.contains(condition) {
            return;
        }
        self.signalled.set(signalled.with(condition));
        self.expected.set(self.expected.get().without(condition));
        if let Some(journal) = self.journal.get() {
            journal.signalled(self, condition);
        }
        // Every entry parked on this condition either parks on the next
        // condition it still misses or becomes runnable.
        let mut waiter = self.first_waiters[condition.index()].replace(NO_ENTRY);
        while waiter != NO_ENTRY {
            // Read before `park_or_wake` links the entry anew (or wakes it:
            // a woken entry is on no list, and its stale link is never read).
            let next = self.entries[usize::from(waiter)].next_waiter.get();
            self.park_or_wake(waiter);
            waiter = next;
        }
    }

    /// Probes one entry taken off the runnable set and files the result.
    #[inline]
    fn run_entry(&self, index: u16) {
        let entry = &self.entries[usize::from(index)];
        let probe = entry.probe.get();
        self.attempts.set(self.attempts.get() + 1);
        match probe.probe() {
            ProbeResult::Ready => {
                entry.set_ready();
                self.tell_journal(index);
                if let Some(condition) = entry.provides.get() {
                    // Checked by `add`: the queue declared it.
                    self.signal_declared(condition);
                }
            }
            ProbeResult::Defer(conditions) => {
                match conditions.difference(self.signalled.get()).lowest() {
                    Some(first_missing) if conditions.is_subset(self.declared.get()) => {
                        entry.set_waiting(conditions);
                        self.park(index, first_missing);
                    }
                    _ => self.refuse_deferral(entry, conditions),
                }
                self.tell_journal(index);
            }
            ProbeResult::Failed(error) => {
                Self::failed(entry, error);
                self.tell_journal(index);
            }
            ProbeResult::Unbound => {
                entry.set_unbound();
                self.tell_journal(index);
            }
        }
    }

    /// Tells the journal, if one is attached, where entry `index` is now.
    #[inline]
    fn tell_journal(&self, index: u16) {
        if let Some(journal) = self.journal.get() {
            let entry = EntryId(index);
            journal.probed(self, entry, self.state(entry));
        }
    }

    /// Logs why entry `name` cannot be added; returns the error `add` gives.
    #[cold]
    fn refuse_entry(name: &'static str, refusal: Refusal) -> ErrorCode {
        match refusal {
            Refusal::Undeclared(condition) => {
                defmt::error!(
                    "init: cannot add {=str}: it provides condition {=u8}, which this queue never declared",
                    name,
                    condition.0
                );
                ErrorCode::INVAL
            }
            Refusal::Full => {
                defmt::error!(
                    "init: cannot add {=str}: the queue holds {=usize} entries at most",
                    name,
                    Self::ENTRY_CAPACITY
                );
                ErrorCode::NOMEM
            }
        }
    }

    /// A probe failed: logged here, whatever journal is attached.
    #[cold]
    fn failed(entry: &EntrySlot<'a>, error: ErrorCode) {
        defmt::error!("init: {=str} failed: {}", entry.name.get(), error);
        entry.set_failed(error);
    }

    /// A probe deferred on nothing it could ever be woken by (no condition,
    /// undeclared ones, or only signalled ones): the entry fails.
    #[cold]
    fn refuse_deferral(&self, entry: &EntrySlot<'a>, conditions: ConditionSet) {
        let name = entry.name.get();
        let undeclared = conditions.difference(self.declared.get());
        if !undeclared.is_empty() {
            defmt::error!(
                "init: {=str} deferred on conditions this queue never declared ({}); marked failed",
                name,
                undeclared
            );
        } else if conditions.is_empty() {
            defmt::error!(
                "init: {=str} deferred on no condition at all, so nothing could wake it; marked failed",
                name
            );
        } else {
            defmt::error!(
                "init: {=str} deferred on conditions that are all signalled already ({}); marked failed",
                name,
                self.names(conditions)
            );
        }
        entry.set_failed(ErrorCode::INVAL);
    }
}

impl<'a, const ENTRIES: usize, const CONDITIONS: usize> Queue<'a>
    for InitQueue<'a, ENTRIES, CONDITIONS>
{
    fn declare_condition(&self, name: &'static str) -> Result<ConditionId, ErrorCode> {
        let count = self.condition_count.get();
        if usize::from(count) >= Self::CONDITION_CAPACITY {
            defmt::error!(
                "init: cannot declare condition {=str}: the queue holds {=usize} conditions at most",
                name,
                Self::CONDITION_CAPACITY
            );
            return Err(ErrorCode::NOMEM);
        }
        self.condition_names[usize::from(count)].set(name);
        let condition = ConditionId(count);
        self.declared.set(self.declared.get().with(condition));
        self.condition_count.set(count + 1);
        Ok(condition)
    }

    #[inline]
    fn add(
        &self,
        name: &'static str,
        probe: &'a dyn Probe,
        provides: Option<ConditionId>,
    ) -> Result<EntryId, ErrorCode> {
        if let Some(condition) = provides {
            if !self.is_declared(condition) {
                return Err(Self::refuse_entry(name, Refusal::Undeclared(condition)));
            }
        }
        let count = self.entry_count.get();
        if usize::from(count) >= Self::ENTRY_CAPACITY {
            return Err(Self::refuse_entry(name, Refusal::Full));
        }
        // Slots are used once, in order, so the rest of this one still holds
        // what `EntrySlot::unused` put there: not probed, not woken, not parked.
        let slot = &self.entries[usize::from(count)];
        slot.name.set(name);
        slot.probe.set(probe);
        slot.provides.set(provides);
        // Never probed, so runnable: `take_next_runnable` finds it from `next_unprobed`.
        self.entry_count.set(count + 1);
        self.settled_reported.set(false);
        Ok(EntryId(count))
    }

    fn signal(&self, condition: ConditionId) {
        if !self.is_declared(condition) {
            defmt::error!(
                "init: signal of condition {=u8} ignored: this queue never declared it",
                condition.0
            );
            return;
        }
        self.signal_declared(condition);
    }

    fn signalled(&self) -> ConditionSet {
        self.signalled.get()
    }

    fn expect_signal(&self, condition: ConditionId) {
        if !self.is_declared(condition) {
            defmt::error!(
                "init: expected signal of condition {=u8} ignored: this queue never declared it",
                condition.0
            );
            return;
        }
        if !self.signalled.get().contains(condition) {
            self.expected.set(self.expected.get().with(condition));
            self.settled_reported.set(false);
        }
    }

    fn expected(&self) -> ConditionSet {
        self.expected.get()
    }

    fn condition_name(&self, condition: ConditionId) -> &'static str {
        self.declared_names()
            .get(condition.index())
            .map_or("<undeclared>", Cell::get)
    }

    fn entry_name(&self, entry: EntryId) -> &'static str {
        self.added()
            .get(entry.index())
            .map_or("<unknown>", |slot| slot.name.get())
    }

    fn entry(&self, index: usize) -> Option<EntryId> {
        (index < self.entry_count()).then_some(EntryId(index as u16))
    }

    fn provides(&self, entry: EntryId) -> Option<ConditionId> {
        self.added()
            .get(entry.index())
            .and_then(|slot| slot.provides.get())
    }

    fn declared(&self) -> ConditionSet {
        self.declared.get()
    }

    fn state(&self, entry: EntryId) -> EntryState {
        if self.is_added(entry) {
            self.entries[entry.index()].state()
        } else {
            EntryState::Failed(ErrorCode::INVAL)
        }
    }

    fn counts(&self) -> EntryCounts {
        let mut counts = EntryCounts::default();
        for entry in self.added() {
            counts.count(entry.state());
        }
        counts
    }

    fn is_settled(&self) -> bool {
        self.quiet()
    }

    fn begin_work(&self) {
        self.work_in_flight
            .set(self.work_in_flight.get().saturating_add(1));
        self.settled_reported.set(false);
    }

    fn end_work(&self) {
        match self.work_in_flight.get().checked_sub(1) {
            Some(left) => {
                self.work_in_flight.set(left);
                self.work_ended.set(true);
            }
            None => defmt::error!("init: end_work() without begin_work(); ignored"),
        }
    }

    fn expire(&self) {
        let outstanding = self.expected.replace(ConditionSet::empty());
        if !outstanding.is_empty() {
            defmt::error!(
                "init: gave up on the expected signal of {}",
                self.names(outstanding)
            );
        }
        let signalled = self.signalled.get();
        for entry in self.added() {
            let Some(conditions) = entry.waiting_on() else {
                continue;
            };
            let missing = conditions.difference(signalled);
            if missing.is_empty() {
                continue;
            }
            entry.set_timed_out(missing);
            entry.next_waiter.set(NO_ENTRY);
            defmt::error!(
                "init: {=str} timed out waiting on {}",
                entry.name.get(),
                self.names(missing)
            );
        }
        // Only entries waiting on a missing condition are parked, and they
        // have all timed out.
        for first_waiter in &self.first_waiters {
            first_waiter.set(NO_ENTRY);
        }
    }

    fn report_pending(&self) {
        let signalled = self.signalled.get();
        let mut pending = 0usize;
        for entry in self.added() {
            let Some(conditions) = entry.waiting_on() else {
                continue;
            };
            pending += 1;
            let missing = conditions.difference(signalled);
            if missing.is_empty() {
                defmt::info!("init: {=str} is due to be probed again", entry.name.get());
            } else {
                defmt::warn!(
                    "init: {=str} waits on {}",
                    entry.name.get(),
                    self.names(missing)
                );
            }
        }
        if pending == 0 {
            defmt::info!("init: no entry is waiting");
        }
    }

    fn set_client(&self, client: &'a dyn InitQueueClient) {
        self.client.set(client);
    }

    fn set_journal(&self, journal: &'a dyn Journal) {
        self.journal.set(journal);
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize> LoopService
    for InitQueue<'_, ENTRIES, CONDITIONS>
{
    fn has_work(&self) -> bool {
        InitQueue::has_work(self) || self.settling_due()
    }

    fn service(&self) {
        InitQueue::service(self)
    }
}
