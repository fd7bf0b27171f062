//! The deferred-init queue: probes each component once the layers it needs
//! are ready, and retries it only when one of those layers becomes ready.
//!
//! # The problem
//!
//! Components depend on each other in ways that are only discovered at run
//! time. An FF-A client can only initialise once the layer that carries its
//! calls (the secure monitor at EL3, or an EL2 proxy) answers; that layer may
//! itself wait for firmware, for a shared-memory carve-out, for a timer.
//! Linux handles this with `-EPROBE_DEFER`: a driver that is not ready goes
//! on a list, and every time any driver binds successfully the whole list is
//! probed again. With `n` components registered in the worst order that is
//! `O(n²)` probes, and a component that can never start is re-probed forever
//! without saying what it waits for.
//!
//! # The solution
//!
//! Readiness is made explicit. The board declares named *conditions*
//! ([`InitQueue::declare_condition`]), such as "smc-transport" or
//! "ffa-partition-info". Each component is added as an *entry* with a
//! [`Probe`] and, optionally, the condition it provides once it is ready.
//! A probe answers:
//!
//! - [`ProbeResult::Ready`]: the entry is initialised; the condition it
//!   provides, if any, is signalled;
//! - [`ProbeResult::Defer`]`(set)`: try again once every condition in `set`
//!   has been signalled;
//! - [`ProbeResult::Failed`]`(error)`: give up; the entry's condition is
//!   never signalled by it.
//!
//! An entry is retried only when something it waits on is signalled, so the
//! total number of probe calls is at most the number of entries plus, for
//! each entry, the number of conditions it waited on that were signalled.
//! Anything may signal a condition ([`InitQueue::signal`]): an entry
//! becoming ready, an interrupt handler, a probe. Signalling only records;
//! probes run from [`InitQueue::service`], which the main loop calls (it is a
//! [`LoopService`]), never from inside whoever signalled.
//!
//! Cycles and conditions that nobody signals cannot hang anything: the
//! queue settles with those entries [`EntryState::Waiting`], and
//! [`InitQueue::report_pending`] names each one with the conditions it still
//! waits for. A board deadline ([`InitQueue::expire`]) turns them into
//! [`EntryState::TimedOut`].
//!
//! # Example
//!
//! ```
//! use core::cell::Cell;
//! use kernel::init_queue::{ConditionId, ConditionSet, EntryState, InitQueue, Probe, ProbeResult};
//!
//! /// The layer that carries FF-A calls.
//! struct SecureMonitor {
//!     answered: Cell<bool>,
//! }
//!
//! impl Probe for SecureMonitor {
//!     fn probe(&self) -> ProbeResult {
//!         self.answered.set(true); // e.g. SMCCC_VERSION returned a version
//!         ProbeResult::Ready
//!     }
//! }
//!
//! /// An FF-A client that needs the monitor.
//! struct FfaClient<'m> {
//!     monitor: &'m SecureMonitor,
//!     transport: ConditionId,
//! }
//!
//! impl Probe for FfaClient<'_> {
//!     fn probe(&self) -> ProbeResult {
//!         if self.monitor.answered.get() {
//!             ProbeResult::Ready
//!         } else {
//!             ProbeResult::Defer(ConditionSet::of(self.transport))
//!         }
//!     }
//! }
//!
//! let queue: InitQueue<'_, 4, 4> = InitQueue::new();
//! let transport = queue.declare_condition("smc-transport").unwrap();
//! let monitor = SecureMonitor { answered: Cell::new(false) };
//! let client = FfaClient { monitor: &monitor, transport };
//!
//! // Added in the worst order on purpose: the client first.
//! let client_entry = queue.add("ffa-client", &client, None).unwrap();
//! queue.add("secure-monitor", &monitor, Some(transport)).unwrap();
//!
//! queue.service(); // normally done by the main loop
//! assert_eq!(queue.state(client_entry), EntryState::Ready);
//! assert_eq!(queue.attempts(), 3); // client, monitor, client again
//! assert!(queue.is_settled());
//! ```
//!
//! # Capacity
//!
//! `ENTRIES` and `CONDITIONS` fix the capacity; nothing is allocated. A
//! [`ConditionSet`] is a 64-bit mask, so a queue holds at most 64
//! conditions. For more, give the queue a third parameter, `WORDS`: its
//! condition sets are then [`WideConditionSet<WORDS>`], `64 × WORDS` bits,
//! and its probes implement [`Probe<WORDS>`](Probe). [`ConditionSet`],
//! [`ProbeResult`] and [`EntryState`] are the one-word forms, which is what
//! every queue uses unless it asks otherwise.
//!
//! [`LoopService`]: crate::main_loop::LoopService

use core::cell::Cell;
use core::fmt;

use crate::cells::OptionalCell;
use crate::main_loop::LoopService;
use crate::ErrorCode;

/// Marks the end of a list of waiting entries.
const NO_ENTRY: u16 = u16::MAX;

/// Largest number of entries or conditions a queue can index (`u16` ids,
/// with one value kept as the end-of-list marker).
const MAXIMUM_IDS: usize = u16::MAX as usize;

/// Names a readiness condition declared with [`InitQueue::declare_condition`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub struct ConditionId(u16);

impl ConditionId {
    /// The condition's number: conditions are numbered from 0 in the order
    /// they were declared.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of conditions: a bitmask of `64 × WORDS` bits.
///
/// Most code uses the one-word form, [`ConditionSet`]. A condition whose
/// number does not fit in the set (it can only come from a queue with wider
/// sets) is ignored by [`WideConditionSet::of`] and
/// [`WideConditionSet::with`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WideConditionSet<const WORDS: usize> {
    words: [u64; WORDS],
}

/// A set of up to 64 conditions: what a [`Probe`] defers on.
pub type ConditionSet = WideConditionSet<1>;

impl<const WORDS: usize> WideConditionSet<WORDS> {
    /// How many conditions the set can hold.
    pub const CAPACITY: usize = 64 * WORDS;

    /// The empty set.
    pub const fn empty() -> Self {
        WideConditionSet { words: [0; WORDS] }
    }

    /// The set holding only `condition`.
    pub const fn of(condition: ConditionId) -> Self {
        Self::empty().with(condition)
    }

    /// The set holding the conditions numbered `0..count`.
    const fn first(count: usize) -> Self {
        let mut words = [0; WORDS];
        let mut index = 0;
        while index < WORDS {
            let start = index * 64;
            words[index] = if count >= start + 64 {
                u64::MAX
            } else if count > start {
                (1 << (count - start)) - 1
            } else {
                0
            };
            index += 1;
        }
        WideConditionSet { words }
    }

    /// This set with `condition` added.
    pub const fn with(self, condition: ConditionId) -> Self {
        let mut words = self.words;
        let index = condition.index();
        if index < Self::CAPACITY {
            words[index / 64] |= 1 << (index % 64);
        }
        WideConditionSet { words }
    }

    /// This set with `condition` removed.
    pub const fn without(self, condition: ConditionId) -> Self {
        let mut words = self.words;
        let index = condition.index();
        if index < Self::CAPACITY {
            words[index / 64] &= !(1 << (index % 64));
        }
        WideConditionSet { words }
    }

    /// Whether `condition` is in the set.
    pub const fn contains(self, condition: ConditionId) -> bool {
        let index = condition.index();
        index < Self::CAPACITY && self.words[index / 64] & (1 << (index % 64)) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        let mut index = 0;
        while index < WORDS {
            if self.words[index] != 0 {
                return false;
            }
            index += 1;
        }
        true
    }

    /// How many conditions the set holds.
    pub const fn len(self) -> usize {
        let mut count = 0;
        let mut index = 0;
        while index < WORDS {
            count += self.words[index].count_ones() as usize;
            index += 1;
        }
        count
    }

    /// The conditions in either set.
    pub const fn union(self, other: Self) -> Self {
        let mut words = self.words;
        let mut index = 0;
        while index < WORDS {
            words[index] |= other.words[index];
            index += 1;
        }
        WideConditionSet { words }
    }

    /// The conditions in both sets.
    pub const fn intersection(self, other: Self) -> Self {
        let mut words = self.words;
        let mut index = 0;
        while index < WORDS {
            words[index] &= other.words[index];
            index += 1;
        }
        WideConditionSet { words }
    }

    /// The conditions in this set that are not in `other`.
    pub const fn difference(self, other: Self) -> Self {
        let mut words = self.words;
        let mut index = 0;
        while index < WORDS {
            words[index] &= !other.words[index];
            index += 1;
        }
        WideConditionSet { words }
    }

    /// Whether every condition in this set is also in `other`.
    pub const fn is_subset(self, other: Self) -> bool {
        self.difference(other).is_empty()
    }

    /// The lowest-numbered condition in the set.
    pub const fn lowest(self) -> Option<ConditionId> {
        let mut index = 0;
        while index < WORDS {
            let word = self.words[index];
            if word != 0 {
                return Some(ConditionId(
                    (index * 64) as u16 + word.trailing_zeros() as u16,
                ));
            }
            index += 1;
        }
        None
    }

    /// The conditions in the set, lowest number first.
    pub fn iter(self) -> impl Iterator<Item = ConditionId> {
        let mut remaining = self;
        core::iter::from_fn(move || {
            let next = remaining.lowest()?;
            remaining = remaining.without(next);
            Some(next)
        })
    }
}

impl<const WORDS: usize> Default for WideConditionSet<WORDS> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<const WORDS: usize> FromIterator<ConditionId> for WideConditionSet<WORDS> {
    fn from_iter<I: IntoIterator<Item = ConditionId>>(conditions: I) -> Self {
        conditions
            .into_iter()
            .fold(Self::empty(), |set, condition| set.with(condition))
    }
}

impl<const WORDS: usize> fmt::Debug for WideConditionSet<WORDS> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_set()
            .entries(self.iter().map(ConditionId::index))
            .finish()
    }
}

impl<const WORDS: usize> defmt::Format for WideConditionSet<WORDS> {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(formatter, "{{");
        for (position, condition) in self.iter().enumerate() {
            if position != 0 {
                defmt::write!(formatter, ", ");
            }
            defmt::write!(formatter, "{=u16}", condition.0);
        }
        defmt::write!(formatter, "}}");
    }
}

/// What a probe reports, for a queue whose condition sets are `WORDS` words
/// wide. Most code uses the one-word form, [`ProbeResult`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum WideProbeResult<const WORDS: usize> {
    /// The component is initialised. The condition its entry provides, if
    /// any, is signalled.
    Ready,
    /// The component cannot initialise yet: probe it again once every
    /// condition in the set has been signalled. The set must hold at least
    /// one condition that is not signalled yet; otherwise the probe is
    /// misbehaving and the entry fails with [`ErrorCode::INVAL`].
    Defer(WideConditionSet<WORDS>),
    /// The component cannot initialise, ever. Its entry is not retried.
    Failed(ErrorCode),
}

/// What a [`Probe`] reports.
pub type ProbeResult = WideProbeResult<1>;

/// A component that the queue initialises.
///
/// `WORDS` is the width of the queue's condition sets; leave it out (it is
/// 1) unless the queue has more than 64 conditions.
pub trait Probe<const WORDS: usize = 1> {
    /// Tries to initialise the component.
    ///
    /// Called from [`InitQueue::service`], first once, then again each time
    /// every condition of the previous [`WideProbeResult::Defer`] has been
    /// signalled. A probe may call [`InitQueue::signal`].
    fn probe(&self) -> WideProbeResult<WORDS>;
}

/// Names an entry added with [`InitQueue::add`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub struct EntryId(u16);

impl EntryId {
    /// The entry's number: entries are numbered from 0 in the order they
    /// were added, which is also the order they are probed in.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where an entry is, for a queue whose condition sets are `WORDS` words
/// wide. Most code uses the one-word form, [`EntryState`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum WideEntryState<const WORDS: usize> {
    /// Added, not probed yet.
    NotProbed,
    /// The probe deferred on this set (as the probe returned it). The entry
    /// is probed again once every condition in it has been signalled.
    Waiting(WideConditionSet<WORDS>),
    /// The probe reported ready.
    Ready,
    /// The probe failed, or misbehaved ([`ErrorCode::INVAL`]).
    Failed(ErrorCode),
    /// [`InitQueue::expire`] was called while the entry was waiting; holds
    /// the conditions that were still not signalled then. Never retried.
    TimedOut(WideConditionSet<WORDS>),
}

/// Where an entry is.
pub type EntryState = WideEntryState<1>;

/// Told when the queue settles.
pub trait InitQueueClient {
    /// The queue has just become settled: no entry can be probed until
    /// something new is signalled or added. Called once each time this
    /// happens, at the end of [`InitQueue::service`]. The queue becomes
    /// unsettled when an entry is added or a signal makes an entry
    /// runnable; a queue that never had an entry is never reported.
    fn settled(&self);
}

/// One entry's bookkeeping.
struct EntrySlot<'a, const WORDS: usize> {
    name: Cell<&'static str>,
    probe: Cell<Option<&'a dyn Probe<WORDS>>>,
    provides: Cell<Option<ConditionId>>,
    state: Cell<WideEntryState<WORDS>>,
    /// Whether the entry is due to be probed.
    runnable: Cell<bool>,
    /// The next entry on the same condition's list of waiting entries.
    next_waiter: Cell<u16>,
}

impl<'a, const WORDS: usize> EntrySlot<'a, WORDS> {
    const fn unused() -> Self {
        EntrySlot {
            name: Cell::new(""),
            probe: Cell::new(None),
            provides: Cell::new(None),
            state: Cell::new(WideEntryState::NotProbed),
            runnable: Cell::new(false),
            next_waiter: Cell::new(NO_ENTRY),
        }
    }
}

/// One condition's bookkeeping.
struct ConditionSlot {
    name: Cell<&'static str>,
    /// The first of the waiting entries parked on this condition.
    first_waiter: Cell<u16>,
}

impl ConditionSlot {
    const fn unused() -> Self {
        ConditionSlot {
            name: Cell::new(""),
            first_waiter: Cell::new(NO_ENTRY),
        }
    }
}

/// Formats the names of a set of conditions, comma-separated, for logs.
struct ConditionNames<'q, const WORDS: usize> {
    conditions: &'q [ConditionSlot],
    set: WideConditionSet<WORDS>,
}

impl<const WORDS: usize> defmt::Format for ConditionNames<'_, WORDS> {
    fn format(&self, formatter: defmt::Formatter) {
        for (position, condition) in self.set.iter().enumerate() {
            let name = self
                .conditions
                .get(condition.index())
                .map_or("<undeclared>", |slot| slot.name.get());
            if position != 0 {
                defmt::write!(formatter, ", ");
            }
            defmt::write!(formatter, "{=str}", name);
        }
    }
}

/// How many entries are in each state.
#[derive(Clone, Copy, Default)]
struct StateCounts {
    waiting: usize,
    ready: usize,
    failed: usize,
    timed_out: usize,
}

/// A fixed-capacity queue of components to initialise, each probed when the
/// conditions it waits on have been signalled.
///
/// Holds up to `ENTRIES` entries and up to `CONDITIONS` conditions (at most
/// `64 × WORDS`). Used through `&self`; see the [module documentation](self).
///
/// # Order and cost
///
/// [`InitQueue::service`] always probes the runnable entry that was added
/// first, and keeps going until nothing is runnable, so an entry made
/// runnable during a `service` call (by a signal from another entry's probe)
/// is probed in that same call. An entry parked on a condition is found
/// again through that condition's list, not by scanning: each signal costs
/// time in proportion to the entries waiting on it.
pub struct InitQueue<'a, const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize = 1> {
    entries: [EntrySlot<'a, WORDS>; ENTRIES],
    entry_count: Cell<u16>,
    conditions: [ConditionSlot; CONDITIONS],
    condition_count: Cell<u16>,
    signalled: Cell<WideConditionSet<WORDS>>,
    /// How many entries are runnable.
    runnable_count: Cell<u16>,
    /// No runnable entry has a lower index than this.
    first_runnable: Cell<u16>,
    attempts: Cell<usize>,
    /// Whether the client has been told about the current settled period.
    settled_reported: Cell<bool>,
    /// Whether `service` is running (guards against a probe calling it).
    servicing: Cell<bool>,
    client: OptionalCell<&'a dyn InitQueueClient>,
}

impl<'a, const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize> Default
    for InitQueue<'a, ENTRIES, CONDITIONS, WORDS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize>
    InitQueue<'a, ENTRIES, CONDITIONS, WORDS>
{
    /// How many entries the queue can hold.
    pub const ENTRY_CAPACITY: usize = if ENTRIES < MAXIMUM_IDS {
        ENTRIES
    } else {
        MAXIMUM_IDS
    };

    /// How many conditions the queue can hold: `CONDITIONS`, but no more
    /// than its condition sets can represent (`64 × WORDS`).
    pub const CONDITION_CAPACITY: usize = {
        let representable = if WideConditionSet::<WORDS>::CAPACITY < MAXIMUM_IDS {
            WideConditionSet::<WORDS>::CAPACITY
        } else {
            MAXIMUM_IDS
        };
        if CONDITIONS < representable {
            CONDITIONS
        } else {
            representable
        }
    };

    /// An empty queue.
    pub const fn new() -> Self {
        InitQueue {
            entries: [const { EntrySlot::unused() }; ENTRIES],
            entry_count: Cell::new(0),
            conditions: [const { ConditionSlot::unused() }; CONDITIONS],
            condition_count: Cell::new(0),
            signalled: Cell::new(WideConditionSet::empty()),
            runnable_count: Cell::new(0),
            first_runnable: Cell::new(0),
            attempts: Cell::new(0),
            settled_reported: Cell::new(true),
            servicing: Cell::new(false),
            client: OptionalCell::empty(),
        }
    }

    /// Sets the client told when the queue settles.
    pub fn set_client(&self, client: &'a dyn InitQueueClient) {
        self.client.set(client);
    }

    /// Declares a condition named `name` (for logs) and returns its id.
    ///
    /// Returns `Err(ErrorCode::NOMEM)`, with an error log, when the queue
    /// already holds [`InitQueue::CONDITION_CAPACITY`] conditions.
    pub fn declare_condition(&self, name: &'static str) -> Result<ConditionId, ErrorCode> {
        let count = self.condition_count.get();
        if usize::from(count) >= Self::CONDITION_CAPACITY {
            defmt::error!(
                "init: cannot declare condition {=str}: the queue holds {=usize} conditions at most",
                name,
                Self::CONDITION_CAPACITY
            );
            return Err(ErrorCode::NOMEM);
        }
        let slot = &self.conditions[usize::from(count)];
        slot.name.set(name);
        slot.first_waiter.set(NO_ENTRY);
        self.condition_count.set(count + 1);
        Ok(ConditionId(count))
    }

    /// Adds an entry named `name` (for logs), probed by `probe`, that
    /// signals `provides` when it becomes ready. The entry is runnable at
    /// once: the next [`InitQueue::service`] probes it.
    ///
    /// Returns `Err(ErrorCode::INVAL)` if `provides` was not declared on
    /// this queue, and `Err(ErrorCode::NOMEM)` when the queue already holds
    /// [`InitQueue::ENTRY_CAPACITY`] entries; both with an error log.
    pub fn add(
        &self,
        name: &'static str,
        probe: &'a dyn Probe<WORDS>,
        provides: Option<ConditionId>,
    ) -> Result<EntryId, ErrorCode> {
        if let Some(condition) = provides {
            if !self.is_declared(condition) {
                defmt::error!(
                    "init: cannot add {=str}: it provides condition {=u16}, which this queue never declared",
                    name,
                    condition.0
                );
                return Err(ErrorCode::INVAL);
            }
        }
        let count = self.entry_count.get();
        if usize::from(count) >= Self::ENTRY_CAPACITY {
            defmt::error!(
                "init: cannot add {=str}: the queue holds {=usize} entries at most",
                name,
                Self::ENTRY_CAPACITY
            );
            return Err(ErrorCode::NOMEM);
        }
        let slot = &self.entries[usize::from(count)];
        slot.name.set(name);
        slot.probe.set(Some(probe));
        slot.provides.set(provides);
        slot.state.set(WideEntryState::NotProbed);
        slot.runnable.set(false);
        slot.next_waiter.set(NO_ENTRY);
        self.entry_count.set(count + 1);
        self.make_runnable(count);
        Ok(EntryId(count))
    }

    /// Records that `condition` holds. Entries whose conditions are now all
    /// signalled become runnable; no probe is called here, so this is safe
    /// to call from anywhere, including inside a downcall or a probe.
    /// Signalling a condition twice changes nothing. Signalling a condition
    /// this queue never declared is ignored with an error log.
    pub fn signal(&self, condition: ConditionId) {
        if !self.is_declared(condition) {
            defmt::error!(
                "init: signal of condition {=u16} ignored: this queue never declared it",
                condition.0
            );
            return;
        }
        let signalled = self.signalled.get();
        if signalled.contains(condition) {
            return;
        }
        self.signalled.set(signalled.with(condition));
        defmt::debug!(
            "init: condition {=str} signalled",
            self.condition_name(condition)
        );
        // Every entry parked on this condition either parks on the next
        // condition it still misses or becomes runnable.
        let list = &self.conditions[condition.index()].first_waiter;
        let mut waiter = list.replace(NO_ENTRY);
        while waiter != NO_ENTRY {
            let next = self.entries[usize::from(waiter)]
                .next_waiter
                .replace(NO_ENTRY);
            self.park_or_wake(waiter);
            waiter = next;
        }
    }

    /// Whether `condition` has been signalled (`false` for a condition this
    /// queue never declared).
    pub fn is_signalled(&self, condition: ConditionId) -> bool {
        self.signalled.get().contains(condition)
    }

    /// Every condition signalled so far.
    pub fn signalled(&self) -> WideConditionSet<WORDS> {
        self.signalled.get()
    }

    /// The name `condition` was declared with (`"<undeclared>"` for a
    /// condition this queue never declared).
    pub fn condition_name(&self, condition: ConditionId) -> &'static str {
        if self.is_declared(condition) {
            self.conditions[condition.index()].name.get()
        } else {
            "<undeclared>"
        }
    }

    /// The name `entry` was added with (`"<unknown>"` for an id that is not
    /// from this queue).
    pub fn entry_name(&self, entry: EntryId) -> &'static str {
        if self.is_added(entry) {
            self.entries[entry.index()].name.get()
        } else {
            "<unknown>"
        }
    }

    /// Where `entry` is. An id that is not from this queue reads as
    /// `Failed(ErrorCode::INVAL)`.
    pub fn state(&self, entry: EntryId) -> WideEntryState<WORDS> {
        if self.is_added(entry) {
            self.entries[entry.index()].state.get()
        } else {
            WideEntryState::Failed(ErrorCode::INVAL)
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

    /// Whether some entry is runnable: not probed yet, or waiting on
    /// conditions that have all been signalled since.
    pub fn has_work(&self) -> bool {
        self.runnable_count.get() != 0
    }

    /// Whether nothing is runnable. Every entry is then ready, failed,
    /// timed out, or waiting on a condition that has not been signalled.
    pub fn is_settled(&self) -> bool {
        !self.has_work()
    }

    /// Probes runnable entries, the earliest added first, until none is
    /// runnable. Then, if the queue was not settled before, logs a summary
    /// and tells the client (once).
    ///
    /// A probe that calls `service` again gets an immediate return: the
    /// outer call carries on with whatever that probe made runnable.
    pub fn service(&self) {
        if self.servicing.replace(true) {
            defmt::warn!("init: service() called from inside a probe; ignored");
            return;
        }
        while let Some(index) = self.next_runnable() {
            self.run_entry(index);
        }
        self.servicing.set(false);
        if self.is_settled() && !self.settled_reported.replace(true) {
            let counts = self.counts();
            defmt::info!(
                "init: settled: {=usize} ready, {=usize} failed, {=usize} waiting, {=usize} timed out",
                counts.ready,
                counts.failed,
                counts.waiting,
                counts.timed_out
            );
            self.client.map(|client| client.settled());
        }
    }

    /// The board's deadline has passed: every entry still waiting on a
    /// condition that has not been signalled becomes
    /// [`WideEntryState::TimedOut`] (logged as an error, with the missing
    /// conditions) and is never retried. Entries whose conditions have all
    /// been signalled keep their retry.
    pub fn expire(&self) {
        let signalled = self.signalled.get();
        for index in 0..self.entry_count.get() {
            let entry = &self.entries[usize::from(index)];
            let WideEntryState::Waiting(conditions) = entry.state.get() else {
                continue;
            };
            let missing = conditions.difference(signalled);
            if missing.is_empty() {
                continue;
            }
            entry.state.set(WideEntryState::TimedOut(missing));
            entry.next_waiter.set(NO_ENTRY);
            defmt::error!(
                "init: {=str} timed out waiting on {}",
                entry.name.get(),
                self.names(missing)
            );
        }
        // Only entries waiting on a missing condition are parked, and they
        // have all timed out.
        for condition in &self.conditions[..usize::from(self.condition_count.get())] {
            condition.first_waiter.set(NO_ENTRY);
        }
    }

    /// Logs each waiting entry by name, with the names of the conditions it
    /// waits on that have not been signalled.
    pub fn report_pending(&self) {
        let signalled = self.signalled.get();
        let mut pending = 0usize;
        for index in 0..self.entry_count.get() {
            let entry = &self.entries[usize::from(index)];
            if let WideEntryState::Waiting(conditions) = entry.state.get() {
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
        }
        if pending == 0 {
            defmt::info!("init: no entry is waiting");
        }
    }

    /// Calls `visit` with each entry's id, name and state, in the order the
    /// entries were added.
    pub fn for_each_entry(
        &self,
        mut visit: impl FnMut(EntryId, &'static str, WideEntryState<WORDS>),
    ) {
        for index in 0..self.entry_count.get() {
            let entry = &self.entries[usize::from(index)];
            visit(EntryId(index), entry.name.get(), entry.state.get());
        }
    }

    /// How many times a probe has been called.
    pub fn attempts(&self) -> usize {
        self.attempts.get()
    }

    fn is_declared(&self, condition: ConditionId) -> bool {
        condition.0 < self.condition_count.get()
    }

    fn is_added(&self, entry: EntryId) -> bool {
        entry.0 < self.entry_count.get()
    }

    fn names(&self, set: WideConditionSet<WORDS>) -> ConditionNames<'_, WORDS> {
        ConditionNames {
            conditions: &self.conditions,
            set,
        }
    }

    /// Marks an entry due to be probed.
    fn make_runnable(&self, index: u16) {
        if self.entries[usize::from(index)].runnable.replace(true) {
            return;
        }
        self.runnable_count.set(self.runnable_count.get() + 1);
        if index < self.first_runnable.get() {
            self.first_runnable.set(index);
        }
        self.settled_reported.set(false);
    }

    /// The runnable entry added first.
    fn next_runnable(&self) -> Option<u16> {
        if self.runnable_count.get() == 0 {
            return None;
        }
        let count = self.entry_count.get();
        let mut index = self.first_runnable.get();
        while index < count {
            if self.entries[usize::from(index)].runnable.get() {
                self.first_runnable.set(index);
                return Some(index);
            }
            index += 1;
        }
        // Unreachable while `runnable_count` is right; recover rather than spin.
        self.runnable_count.set(0);
        self.first_runnable.set(count);
        None
    }

    /// Parks a waiting entry on the lowest condition it still misses, or
    /// makes it runnable if it misses none.
    fn park_or_wake(&self, index: u16) {
        let entry = &self.entries[usize::from(index)];
        let WideEntryState::Waiting(conditions) = entry.state.get() else {
            return;
        };
        match conditions.difference(self.signalled.get()).lowest() {
            Some(missing) => self.park(index, missing),
            None => self.make_runnable(index),
        }
    }

    /// Puts a waiting entry on the list of a condition it misses.
    fn park(&self, index: u16, missing: ConditionId) {
        let list = &self.conditions[missing.index()].first_waiter;
        self.entries[usize::from(index)].next_waiter.set(list.get());
        list.set(index);
    }

    /// Probes one runnable entry and files the result.
    fn run_entry(&self, index: u16) {
        let entry = &self.entries[usize::from(index)];
        entry.runnable.set(false);
        self.runnable_count.set(self.runnable_count.get() - 1);
        let Some(probe) = entry.probe.get() else {
            return;
        };
        let name = entry.name.get();
        self.attempts.set(self.attempts.get() + 1);
        match probe.probe() {
            WideProbeResult::Ready => {
                entry.state.set(WideEntryState::Ready);
                defmt::info!("init: {=str} ready", name);
                if let Some(condition) = entry.provides.get() {
                    self.signal(condition);
                }
            }
            WideProbeResult::Failed(error) => {
                entry.state.set(WideEntryState::Failed(error));
                defmt::error!("init: {=str} failed: {}", name, error);
            }
            WideProbeResult::Defer(conditions) => self.defer(index, name, conditions),
        }
    }

    /// Files a deferral, or fails a probe that deferred on nothing it could
    /// ever be woken by.
    fn defer(&self, index: u16, name: &'static str, conditions: WideConditionSet<WORDS>) {
        let entry = &self.entries[usize::from(index)];
        let undeclared = conditions.difference(WideConditionSet::first(usize::from(
            self.condition_count.get(),
        )));
        let missing = conditions.difference(self.signalled.get());
        if !undeclared.is_empty() {
            defmt::error!(
                "init: {=str} deferred on conditions this queue never declared ({}); marked failed",
                name,
                undeclared
            );
            entry.state.set(WideEntryState::Failed(ErrorCode::INVAL));
        } else if conditions.is_empty() {
            defmt::error!(
                "init: {=str} deferred on no condition at all, so nothing could wake it; marked failed",
                name
            );
            entry.state.set(WideEntryState::Failed(ErrorCode::INVAL));
        } else if let Some(first_missing) = missing.lowest() {
            defmt::warn!(
                "init: {=str} deferred, waits on {}",
                name,
                self.names(missing)
            );
            entry.state.set(WideEntryState::Waiting(conditions));
            self.park(index, first_missing);
        } else {
            defmt::error!(
                "init: {=str} deferred on conditions that are all signalled already ({}); marked failed",
                name,
                self.names(conditions)
            );
            entry.state.set(WideEntryState::Failed(ErrorCode::INVAL));
        }
    }

    fn counts(&self) -> StateCounts {
        let mut counts = StateCounts::default();
        self.for_each_entry(|_, _, state| match state {
            WideEntryState::NotProbed => {}
            WideEntryState::Waiting(_) => counts.waiting += 1,
            WideEntryState::Ready => counts.ready += 1,
            WideEntryState::Failed(_) => counts.failed += 1,
            WideEntryState::TimedOut(_) => counts.timed_out += 1,
        });
        counts
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize> LoopService
    for InitQueue<'_, ENTRIES, CONDITIONS, WORDS>
{
    fn has_work(&self) -> bool {
        InitQueue::has_work(self)
    }

    fn service(&self) {
        InitQueue::service(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use std::vec::Vec;

    /// Answers whether a condition is signalled (implemented by queues of
    /// every size, so test probes need not name one).
    trait Oracle {
        fn is_signalled(&self, condition: ConditionId) -> bool;
    }

    impl<const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize> Oracle
        for InitQueue<'_, ENTRIES, CONDITIONS, WORDS>
    {
        fn is_signalled(&self, condition: ConditionId) -> bool {
            InitQueue::is_signalled(self, condition)
        }
    }

    /// The order probes were called in.
    #[derive(Default)]
    struct Journal {
        names: RefCell<Vec<&'static str>>,
    }

    impl Journal {
        fn names(&self) -> Vec<&'static str> {
            self.names.borrow().clone()
        }
    }

    /// Ready (or failed) once every condition it needs is signalled; defers
    /// on all of them until then.
    struct Needs<'q> {
        name: &'static str,
        oracle: &'q dyn Oracle,
        needs: ConditionSet,
        failure: Option<ErrorCode>,
        calls: Cell<usize>,
        journal: Option<&'q Journal>,
    }

    impl<'q> Needs<'q> {
        fn new(name: &'static str, oracle: &'q dyn Oracle, needs: ConditionSet) -> Self {
            Needs {
                name,
                oracle,
                needs,
                failure: None,
                calls: Cell::new(0),
                journal: None,
            }
        }

        fn journalled(mut self, journal: &'q Journal) -> Self {
            self.journal = Some(journal);
            self
        }

        fn failing(mut self, error: ErrorCode) -> Self {
            self.failure = Some(error);
            self
        }
    }

    impl Probe for Needs<'_> {
        fn probe(&self) -> ProbeResult {
            self.calls.set(self.calls.get() + 1);
            if let Some(journal) = self.journal {
                journal.names.borrow_mut().push(self.name);
            }
            if self.needs.iter().all(|c| self.oracle.is_signalled(c)) {
                self.failure.map_or(ProbeResult::Ready, ProbeResult::Failed)
            } else {
                ProbeResult::Defer(self.needs)
            }
        }
    }

    /// Returns a fixed result every time.
    struct Fixed {
        result: ProbeResult,
        calls: Cell<usize>,
    }

    impl Fixed {
        fn new(result: ProbeResult) -> Self {
            Fixed {
                result,
                calls: Cell::new(0),
            }
        }
    }

    impl Probe for Fixed {
        fn probe(&self) -> ProbeResult {
            self.calls.set(self.calls.get() + 1);
            self.result
        }
    }

    /// Counts `settled()` calls.
    #[derive(Default)]
    struct SettledCounter {
        calls: Cell<usize>,
    }

    impl InitQueueClient for SettledCounter {
        fn settled(&self) {
            self.calls.set(self.calls.get() + 1);
        }
    }

    fn states<const E: usize, const C: usize>(
        queue: &InitQueue<'_, E, C>,
    ) -> Vec<(EntryId, &'static str, EntryState)> {
        let mut states = Vec::new();
        queue.for_each_entry(|id, name, state| states.push((id, name, state)));
        states
    }

    #[test]
    fn condition_set_operations() {
        let [a, b, c] = [ConditionId(0), ConditionId(5), ConditionId(63)];
        let set = ConditionSet::of(a).with(c);
        assert!(set.contains(a) && set.contains(c) && !set.contains(b));
        assert!(!set.is_empty() && ConditionSet::empty().is_empty());
        assert_eq!(set.len(), 2);
        assert_eq!(set.union(ConditionSet::of(b)).len(), 3);
        assert_eq!(set.difference(ConditionSet::of(a)), ConditionSet::of(c));
        assert_eq!(
            set.intersection(ConditionSet::of(c).with(b)),
            ConditionSet::of(c)
        );
        assert_eq!(set.without(a).without(c), ConditionSet::default());
        assert!(ConditionSet::of(a).is_subset(set));
        assert_eq!(set.lowest(), Some(a));
        assert_eq!(set.iter().collect::<Vec<_>>(), [a, c]);
        assert_eq!([c, a].into_iter().collect::<ConditionSet>(), set);
        assert_eq!(std::format!("{set:?}"), "{0, 63}");
        // An id wider than the set is ignored rather than aliased.
        assert!(ConditionSet::of(ConditionId(64)).is_empty());
        assert!(!set.contains(ConditionId(64)));

        let wide = WideConditionSet::<3>::of(ConditionId(129)).with(ConditionId(64));
        assert_eq!(WideConditionSet::<3>::CAPACITY, 192);
        assert_eq!(
            wide.iter().map(ConditionId::index).collect::<Vec<_>>(),
            [64, 129]
        );
        assert_eq!(wide.lowest(), Some(ConditionId(64)));
        assert_eq!(WideConditionSet::<3>::first(130).len(), 130);
        assert_eq!(WideConditionSet::<3>::first(64).len(), 64);
        assert_eq!(WideConditionSet::<3>::first(500).len(), 192);
        assert!(WideConditionSet::<3>::first(0).is_empty());
    }

    #[test]
    fn probes_in_registration_order() {
        let journal = Journal::default();
        let queue = InitQueue::<4, 4>::new();
        let probes = ["uart", "timer", "interrupts"]
            .map(|name| Needs::new(name, &queue, ConditionSet::empty()).journalled(&journal));
        for probe in &probes {
            queue.add(probe.name, probe, None).unwrap();
        }
        assert!(queue.has_work() && !queue.is_settled());
        queue.service();
        assert_eq!(journal.names(), ["uart", "timer", "interrupts"]);
        assert_eq!(queue.attempts(), 3);
        assert!(queue.is_settled());
        assert!(states(&queue)
            .iter()
            .all(|(_, _, state)| *state == EntryState::Ready));
    }

    #[test]
    fn deferral_and_retry_on_signal() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let firmware = queue.declare_condition("firmware").unwrap();
        let driver = Needs::new("driver", &queue, ConditionSet::of(firmware));
        let entry = queue.add("driver", &driver, None).unwrap();
        assert_eq!(queue.state(entry), EntryState::NotProbed);

        queue.service();
        assert_eq!(
            queue.state(entry),
            EntryState::Waiting(ConditionSet::of(firmware))
        );
        assert!(queue.is_settled());
        queue.service();
        assert_eq!(driver.calls.get(), 1, "retried without a signal");

        queue.signal(firmware);
        assert_eq!(driver.calls.get(), 1, "signal() must not probe");
        assert!(queue.has_work());
        queue.service();
        assert_eq!(queue.state(entry), EntryState::Ready);
        assert_eq!(driver.calls.get(), 2);
        // Signalling again changes nothing.
        queue.signal(firmware);
        assert!(queue.is_settled());
    }

    /// Entry `i` needs the condition entry `i + 1` provides; the last needs
    /// nothing. Added in that (worst) order.
    fn check_worst_order_chain<const N: usize>() {
        let queue: InitQueue<'_, N, N> = InitQueue::new();
        let conditions: Vec<ConditionId> = (0..N)
            .map(|_| queue.declare_condition("link").unwrap())
            .collect();
        let probes: Vec<Needs<'_>> = (0..N)
            .map(|index| {
                let needs = if index + 1 < N {
                    ConditionSet::of(conditions[index + 1])
                } else {
                    ConditionSet::empty()
                };
                Needs::new("link", &queue, needs)
            })
            .collect();
        for (index, probe) in probes.iter().enumerate() {
            queue.add("link", probe, Some(conditions[index])).unwrap();
        }
        queue.service();
        assert!(states(&queue)
            .iter()
            .all(|(_, _, state)| *state == EntryState::Ready));
        // Bound: entries + signals of conditions waited on (N - 1 of them).
        let bound = N + (N - 1);
        assert!(queue.attempts() <= bound);
        assert_eq!(queue.attempts(), bound);
        assert!(probes[..N - 1].iter().all(|probe| probe.calls.get() == 2));
        assert_eq!(probes[N - 1].calls.get(), 1);
    }

    #[test]
    fn chain_of_dependencies() {
        check_worst_order_chain::<6>();
    }

    #[test]
    fn attempts_bound_for_a_worst_order_chain() {
        check_worst_order_chain::<1>();
        check_worst_order_chain::<2>();
        check_worst_order_chain::<64>();
    }

    #[test]
    fn diamond_of_dependencies() {
        let journal = Journal::default();
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let base = queue.declare_condition("base").unwrap();
        let left = queue.declare_condition("left").unwrap();
        let right = queue.declare_condition("right").unwrap();
        let top_probe =
            Needs::new("top", &queue, ConditionSet::of(left).with(right)).journalled(&journal);
        let left_probe = Needs::new("left", &queue, ConditionSet::of(base)).journalled(&journal);
        let right_probe = Needs::new("right", &queue, ConditionSet::of(base)).journalled(&journal);
        let base_probe = Needs::new("base", &queue, ConditionSet::empty()).journalled(&journal);
        let top = queue.add("top", &top_probe, None).unwrap();
        queue.add("left", &left_probe, Some(left)).unwrap();
        queue.add("right", &right_probe, Some(right)).unwrap();
        queue.add("base", &base_probe, Some(base)).unwrap();

        queue.service();
        assert_eq!(
            journal.names(),
            ["top", "left", "right", "base", "left", "right", "top"]
        );
        assert_eq!(queue.state(top), EntryState::Ready);
        // The top is not retried when only one side is up.
        assert_eq!(top_probe.calls.get(), 2);
        // Bound: 4 entries + top waited on 2 signals + left and right on 1 each.
        assert!(queue.attempts() <= 4 + 2 + 1 + 1);
    }

    #[test]
    fn failure_is_final_and_signals_nothing() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let transport = queue.declare_condition("transport").unwrap();
        let monitor =
            Needs::new("monitor", &queue, ConditionSet::empty()).failing(ErrorCode::NODEVICE);
        let client = Needs::new("client", &queue, ConditionSet::of(transport));
        let client_entry = queue.add("client", &client, None).unwrap();
        let monitor_entry = queue.add("monitor", &monitor, Some(transport)).unwrap();
        queue.service();
        assert_eq!(
            queue.state(monitor_entry),
            EntryState::Failed(ErrorCode::NODEVICE)
        );
        assert!(!queue.is_signalled(transport));
        assert_eq!(
            queue.state(client_entry),
            EntryState::Waiting(ConditionSet::of(transport))
        );
        assert!(queue.is_settled());
        queue.service();
        assert_eq!(queue.attempts(), 2);
        assert_eq!(monitor.calls.get(), 1);
    }

    #[test]
    fn never_signalled_condition_settles() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let never = queue.declare_condition("never").unwrap();
        let waiter = Needs::new("waiter", &queue, ConditionSet::of(never));
        let entry = queue.add("waiter", &waiter, None).unwrap();
        queue.service();
        queue.service();
        assert!(queue.is_settled());
        assert_eq!(
            queue.state(entry),
            EntryState::Waiting(ConditionSet::of(never))
        );
        assert_eq!(queue.attempts(), 1);
        queue.report_pending();
    }

    #[test]
    fn cycle_settles_with_both_waiting() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let a = queue.declare_condition("a").unwrap();
        let b = queue.declare_condition("b").unwrap();
        let needs_b = Needs::new("provides-a", &queue, ConditionSet::of(b));
        let needs_a = Needs::new("provides-b", &queue, ConditionSet::of(a));
        queue.add("provides-a", &needs_b, Some(a)).unwrap();
        queue.add("provides-b", &needs_a, Some(b)).unwrap();
        queue.service();
        assert!(queue.is_settled());
        assert_eq!(queue.attempts(), 2);
        assert_eq!(
            states(&queue),
            [
                (
                    EntryId(0),
                    "provides-a",
                    EntryState::Waiting(ConditionSet::of(b))
                ),
                (
                    EntryId(1),
                    "provides-b",
                    EntryState::Waiting(ConditionSet::of(a))
                ),
            ]
        );
        queue.report_pending();
    }

    #[test]
    fn entry_capacity_overflow_is_an_error() {
        let queue: InitQueue<'_, 2, 2> = InitQueue::new();
        let probe = Fixed::new(ProbeResult::Ready);
        assert_eq!(queue.add("first", &probe, None), Ok(EntryId(0)));
        assert_eq!(queue.add("second", &probe, None), Ok(EntryId(1)));
        assert_eq!(queue.add("third", &probe, None), Err(ErrorCode::NOMEM));
        assert_eq!(queue.entry_count(), 2);

        // A condition this queue never declared cannot be provided.
        let other: InitQueue<'_, 1, 4> = InitQueue::new();
        let foreign = (0..3)
            .map(|_| other.declare_condition("foreign").unwrap())
            .last()
            .unwrap();
        let roomy: InitQueue<'_, 2, 2> = InitQueue::new();
        assert_eq!(roomy.add("x", &probe, Some(foreign)), Err(ErrorCode::INVAL));
        assert_eq!(roomy.entry_count(), 0);
        queue.service();
        assert_eq!(queue.attempts(), 2);
    }

    #[test]
    fn condition_capacity_overflow_is_an_error() {
        let queue: InitQueue<'_, 1, 2> = InitQueue::new();
        assert_eq!(queue.declare_condition("a"), Ok(ConditionId(0)));
        assert_eq!(queue.declare_condition("b"), Ok(ConditionId(1)));
        assert_eq!(queue.declare_condition("c"), Err(ErrorCode::NOMEM));
        assert_eq!(queue.condition_count(), 2);

        // One-word sets hold 64 conditions, whatever CONDITIONS says.
        let narrow: InitQueue<'_, 1, 100> = InitQueue::new();
        assert_eq!(InitQueue::<'_, 1, 100>::CONDITION_CAPACITY, 64);
        for _ in 0..64 {
            narrow.declare_condition("narrow").unwrap();
        }
        assert_eq!(
            narrow.declare_condition("one too many"),
            Err(ErrorCode::NOMEM)
        );

        // Two-word sets hold 128.
        let wide: InitQueue<'_, 1, 100, 2> = InitQueue::new();
        for _ in 0..100 {
            wide.declare_condition("wide").unwrap();
        }
        assert_eq!(
            wide.declare_condition("one too many"),
            Err(ErrorCode::NOMEM)
        );
        assert_eq!(InitQueue::<'_, 1, 200, 2>::CONDITION_CAPACITY, 128);
    }

    #[test]
    fn pending_report_and_entry_listing() {
        let queue: InitQueue<'_, 8, 8> = InitQueue::new();
        let firmware = queue.declare_condition("firmware").unwrap();
        let carveout = queue.declare_condition("carveout").unwrap();
        let ready = Fixed::new(ProbeResult::Ready);
        let broken = Fixed::new(ProbeResult::Failed(ErrorCode::NOSUPPORT));
        let waiter = Needs::new("ffa", &queue, ConditionSet::of(firmware).with(carveout));
        queue.add("uart", &ready, None).unwrap();
        queue.add("ffa", &waiter, None).unwrap();
        queue.add("gpu", &broken, None).unwrap();
        queue.service();
        queue.signal(carveout);
        queue.add("late", &ready, None).unwrap();

        assert_eq!(
            states(&queue),
            [
                (EntryId(0), "uart", EntryState::Ready),
                (
                    EntryId(1),
                    "ffa",
                    EntryState::Waiting(ConditionSet::of(firmware).with(carveout))
                ),
                (EntryId(2), "gpu", EntryState::Failed(ErrorCode::NOSUPPORT)),
                (EntryId(3), "late", EntryState::NotProbed),
            ]
        );
        // What report_pending names for "ffa": only the unsignalled condition.
        let EntryState::Waiting(waits) = queue.state(EntryId(1)) else {
            panic!("ffa is not waiting");
        };
        let missing = waits.difference(queue.signalled());
        assert_eq!(missing, ConditionSet::of(firmware));
        assert_eq!(
            missing
                .iter()
                .map(|c| queue.condition_name(c))
                .collect::<Vec<_>>(),
            ["firmware"]
        );
        assert_eq!(queue.entry_name(EntryId(1)), "ffa");
        queue.report_pending();
    }

    #[test]
    fn misbehaving_probes_fail_instead_of_hanging() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let done = queue.declare_condition("done").unwrap();
        queue.signal(done);
        let other: InitQueue<'_, 1, 8> = InitQueue::new();
        let undeclared = (0..5)
            .map(|_| other.declare_condition("elsewhere").unwrap())
            .last()
            .unwrap();

        let on_nothing = Fixed::new(ProbeResult::Defer(ConditionSet::empty()));
        let on_signalled = Fixed::new(ProbeResult::Defer(ConditionSet::of(done)));
        let on_undeclared = Fixed::new(ProbeResult::Defer(ConditionSet::of(undeclared)));
        let entries = [
            queue.add("on-nothing", &on_nothing, None).unwrap(),
            queue.add("on-signalled", &on_signalled, None).unwrap(),
            queue.add("on-undeclared", &on_undeclared, None).unwrap(),
        ];
        queue.service();
        queue.service();
        assert!(queue.is_settled());
        for entry in entries {
            assert_eq!(queue.state(entry), EntryState::Failed(ErrorCode::INVAL));
        }
        assert_eq!(queue.attempts(), 3);
    }

    #[test]
    fn expire_times_out_waiting_entries_only() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let never = queue.declare_condition("never").unwrap();
        let late = queue.declare_condition("late").unwrap();
        let stuck = Needs::new("stuck", &queue, ConditionSet::of(never).with(late));
        let due = Needs::new("due", &queue, ConditionSet::of(late));
        let done = Fixed::new(ProbeResult::Ready);
        let stuck_entry = queue.add("stuck", &stuck, None).unwrap();
        let due_entry = queue.add("due", &due, None).unwrap();
        let done_entry = queue.add("done", &done, None).unwrap();
        queue.service();
        // "late" arrives just before the deadline; "due" has not been retried.
        queue.signal(late);
        queue.expire();
        assert_eq!(
            queue.state(stuck_entry),
            EntryState::TimedOut(ConditionSet::of(never))
        );
        assert_eq!(queue.state(done_entry), EntryState::Ready);
        assert!(queue.has_work());
        queue.service();
        assert_eq!(queue.state(due_entry), EntryState::Ready);

        // A timed-out entry is never retried, even if its condition shows up.
        queue.signal(never);
        assert!(queue.is_settled());
        queue.service();
        assert_eq!(stuck.calls.get(), 1);
        assert_eq!(
            queue.state(stuck_entry),
            EntryState::TimedOut(ConditionSet::of(never))
        );
        queue.report_pending();
    }

    #[test]
    fn settled_client_told_once_per_settling() {
        let counter = SettledCounter::default();
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        queue.set_client(&counter);
        let firmware = queue.declare_condition("firmware").unwrap();
        let waiter = Needs::new("waiter", &queue, ConditionSet::of(firmware));
        let ready = Fixed::new(ProbeResult::Ready);

        queue.service();
        assert_eq!(counter.calls.get(), 0, "a queue that never had work");
        queue.add("waiter", &waiter, None).unwrap();
        queue.add("ready", &ready, None).unwrap();
        queue.service();
        assert_eq!(counter.calls.get(), 1);
        queue.service();
        assert_eq!(counter.calls.get(), 1);

        queue.signal(firmware);
        assert!(!queue.is_settled());
        queue.service();
        assert_eq!(counter.calls.get(), 2);

        // A signal nobody waits on does not unsettle the queue.
        let spare = queue.declare_condition("spare").unwrap();
        queue.signal(spare);
        queue.service();
        assert_eq!(counter.calls.get(), 2);

        queue.add("another", &ready, None).unwrap();
        queue.service();
        queue.service();
        assert_eq!(counter.calls.get(), 3);
    }

    /// Signals a condition from inside its probe (say, it enabled an
    /// interface that others poll), then reports ready.
    struct Signaller<'q> {
        queue: &'q InitQueue<'q, 4, 4>,
        condition: ConditionId,
    }

    impl Probe for Signaller<'_> {
        fn probe(&self) -> ProbeResult {
            self.queue.signal(self.condition);
            // Calling service from a probe is harmless.
            self.queue.service();
            ProbeResult::Ready
        }
    }

    #[test]
    fn probe_may_signal_and_call_service() {
        let queue: InitQueue<'_, 4, 4> = InitQueue::new();
        let interface = queue.declare_condition("interface").unwrap();
        let user = Needs::new("user", &queue, ConditionSet::of(interface));
        let signaller = Signaller {
            queue: &queue,
            condition: interface,
        };
        let user_entry = queue.add("user", &user, None).unwrap();
        let signaller_entry = queue.add("signaller", &signaller, None).unwrap();
        queue.service();
        assert_eq!(queue.state(signaller_entry), EntryState::Ready);
        assert_eq!(queue.state(user_entry), EntryState::Ready);
        assert_eq!(queue.attempts(), 3);
        assert!(queue.is_settled());
    }

    #[test]
    fn foreign_ids_are_harmless() {
        let big: InitQueue<'_, 4, 4> = InitQueue::new();
        let ready = Fixed::new(ProbeResult::Ready);
        let foreign_entry = (0..3)
            .map(|_| big.add("x", &ready, None).unwrap())
            .last()
            .unwrap();
        let foreign_condition = (0..3)
            .map(|_| big.declare_condition("x").unwrap())
            .last()
            .unwrap();
        let small: InitQueue<'_, 1, 1> = InitQueue::new();
        assert_eq!(
            small.state(foreign_entry),
            EntryState::Failed(ErrorCode::INVAL)
        );
        assert_eq!(small.entry_name(foreign_entry), "<unknown>");
        assert_eq!(small.condition_name(foreign_condition), "<undeclared>");
        small.signal(foreign_condition);
        assert!(!small.is_signalled(foreign_condition));
        assert!(small.signalled().is_empty());
    }

    /// A probe for a queue with two-word condition sets.
    struct WideLink<'q> {
        queue: &'q InitQueue<'q, 100, 100, 2>,
        needs: WideConditionSet<2>,
    }

    impl Probe<2> for WideLink<'_> {
        fn probe(&self) -> WideProbeResult<2> {
            if self.needs.is_subset(self.queue.signalled()) {
                WideProbeResult::Ready
            } else {
                WideProbeResult::Defer(self.needs)
            }
        }
    }

    #[test]
    fn wide_queue_holds_more_than_64_conditions() {
        const N: usize = 100;
        let queue: InitQueue<'_, N, N, 2> = InitQueue::new();
        let conditions: Vec<ConditionId> = (0..N)
            .map(|_| queue.declare_condition("link").unwrap())
            .collect();
        let links: Vec<WideLink<'_>> = (0..N)
            .map(|index| WideLink {
                queue: &queue,
                needs: conditions
                    .get(index + 1)
                    .map_or(WideConditionSet::empty(), |c| WideConditionSet::of(*c)),
            })
            .collect();
        for (index, link) in links.iter().enumerate() {
            queue.add("link", link, Some(conditions[index])).unwrap();
        }
        queue.service();
        assert_eq!(queue.attempts(), 2 * N - 1);
        let mut ready = 0;
        queue.for_each_entry(|_, _, state| ready += usize::from(state == WideEntryState::Ready));
        assert_eq!(ready, N);
        assert_eq!(queue.signalled().len(), N);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const MAXIMUM_ENTRIES: usize = 12;
        const CONDITION_COUNT: usize = 8;

        #[derive(Clone, Debug)]
        struct Node {
            needs: u8,
            provides: Option<u8>,
            fails: bool,
            /// Defer on every needed condition, or only on the missing ones.
            defer_on_all: bool,
        }

        fn node() -> impl Strategy<Value = Node> {
            (
                // Each condition needed with probability 1/4: sparse graphs
                // with chains, diamonds and cycles, as well as dense ones.
                (any::<u8>(), any::<u8>()).prop_map(|(first, second)| first & second),
                prop::option::weighted(0.8, 0..CONDITION_COUNT as u8),
                prop::bool::weighted(0.15),
                any::<bool>(),
            )
                .prop_map(|(needs, provides, fails, defer_on_all)| Node {
                    needs,
                    provides,
                    fails,
                    defer_on_all,
                })
        }

        fn set_of(mask: u8) -> ConditionSet {
            (0..CONDITION_COUNT as u16)
                .filter(|bit| mask & (1 << bit) != 0)
                .map(ConditionId)
                .collect()
        }

        struct GraphProbe<'q> {
            oracle: &'q dyn Oracle,
            node: Node,
            calls: Cell<usize>,
            waited_on: Cell<ConditionSet>,
        }

        impl Probe for GraphProbe<'_> {
            fn probe(&self) -> ProbeResult {
                self.calls.set(self.calls.get() + 1);
                let needs = set_of(self.node.needs);
                let missing: ConditionSet = needs
                    .iter()
                    .filter(|c| !self.oracle.is_signalled(*c))
                    .collect();
                if missing.is_empty() {
                    if self.node.fails {
                        ProbeResult::Failed(ErrorCode::FAIL)
                    } else {
                        ProbeResult::Ready
                    }
                } else {
                    let deferred_on = if self.node.defer_on_all {
                        needs
                    } else {
                        missing
                    };
                    self.waited_on.set(self.waited_on.get().union(deferred_on));
                    ProbeResult::Defer(deferred_on)
                }
            }
        }

        /// The conditions that end up provided: the external ones, plus
        /// those of entries that succeed once theirs are (least fixpoint).
        fn provided(nodes: &[Node], external: u8) -> u8 {
            let mut provided = external;
            loop {
                let before = provided;
                for node in nodes {
                    if !node.fails && node.needs & !provided == 0 {
                        if let Some(condition) = node.provides {
                            provided |= 1 << condition;
                        }
                    }
                }
                if provided == before {
                    return provided;
                }
            }
        }

        proptest! {
            #[test]
            fn random_dependency_graphs(
                nodes in prop::collection::vec(node(), 1..=MAXIMUM_ENTRIES),
                external in any::<u8>(),
                external_first in any::<bool>(),
            ) {
                let queue: InitQueue<'_, MAXIMUM_ENTRIES, CONDITION_COUNT> = InitQueue::new();
                let conditions: Vec<ConditionId> = (0..CONDITION_COUNT)
                    .map(|_| queue.declare_condition("condition").unwrap())
                    .collect();
                let probes: Vec<GraphProbe<'_>> = nodes
                    .iter()
                    .map(|node| GraphProbe {
                        oracle: &queue,
                        node: node.clone(),
                        calls: Cell::new(0),
                        waited_on: Cell::new(ConditionSet::empty()),
                    })
                    .collect();
                let counter = SettledCounter::default();
                queue.set_client(&counter);
                for probe in &probes {
                    let provides = probe.node.provides.map(|c| conditions[usize::from(c)]);
                    queue.add("node", probe, provides).unwrap();
                }
                let signal_external = || {
                    for condition in set_of(external).iter() {
                        queue.signal(condition);
                    }
                };
                if external_first {
                    signal_external();
                }
                queue.service();
                prop_assert!(queue.is_settled());
                signal_external();
                queue.service();
                prop_assert!(queue.is_settled());
                prop_assert!(counter.calls.get() >= 1 && counter.calls.get() <= 2);

                let signalled = queue.signalled();
                let mut bound = nodes.len();
                for probe in &probes {
                    let useful_signals = probe.waited_on.get().intersection(signalled).len();
                    prop_assert!(probe.calls.get() <= 1 + useful_signals);
                    bound += useful_signals;
                }
                prop_assert!(queue.attempts() <= bound);
                prop_assert_eq!(
                    queue.attempts(),
                    probes.iter().map(|probe| probe.calls.get()).sum::<usize>()
                );

                let provided = provided(&nodes, external);
                prop_assert_eq!(signalled, set_of(provided));
                for (index, node) in nodes.iter().enumerate() {
                    let state = queue.state(EntryId(index as u16));
                    if node.needs & !provided == 0 {
                        let expected = if node.fails {
                            EntryState::Failed(ErrorCode::FAIL)
                        } else {
                            EntryState::Ready
                        };
                        prop_assert_eq!(state, expected);
                    } else {
                        prop_assert!(
                            matches!(state, EntryState::Waiting(set) if !set.is_subset(signalled)),
                            "entry {} is {:?}", index, state
                        );
                    }
                }
            }
        }
    }
}
