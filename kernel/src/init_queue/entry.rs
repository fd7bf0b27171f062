//! Entries: the components a queue initialises ([`Probe`]), what a probe
//! answers ([`ProbeResult`]) and where an entry is ([`EntryState`]).

use core::cell::Cell;

use super::condition::{ConditionId, ConditionSet};
use crate::ErrorCode;

/// Names an entry added with [`Queue::add`](super::Queue::add).
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub struct EntryId(pub(super) u16);

impl EntryId {
    /// The entry's number: entries are numbered from 0 in the order they
    /// were added, which is also the order they are probed in.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a [`Probe`] reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum ProbeResult {
    /// The component is initialised. The condition its entry provides, if
    /// any, is signalled.
    Ready,
    /// The component cannot initialise yet: probe it again once every
    /// condition in the set has been signalled. The set must hold at least
    /// one condition that is not signalled yet; otherwise the probe is
    /// misbehaving and the entry fails with [`ErrorCode::INVAL`].
    Defer(ConditionSet),
    /// The component cannot initialise, ever. Its entry is not retried.
    Failed(ErrorCode),
    /// The component works but has nothing to drive: a driver whose device
    /// is not in this system. Normal, not a failure (logged at info level,
    /// never retried); the condition its entry provides is not signalled.
    Unbound,
}

/// A component that the queue initialises.
pub trait Probe {
    /// Tries to initialise the component.
    ///
    /// Called from [`InitQueue::service`](super::InitQueue::service), first
    /// once, then again each time every condition of the previous
    /// [`ProbeResult::Defer`] has been signalled. A probe may call
    /// [`Queue::signal`](super::Queue::signal).
    fn probe(&self) -> ProbeResult;
}

/// Where an entry is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum EntryState {
    /// Added, not probed yet.
    NotProbed,
    /// The probe deferred on this set (as the probe returned it). The entry
    /// is probed again once every condition in it has been signalled.
    Waiting(ConditionSet),
    /// The probe reported ready.
    Ready,
    /// The probe failed, or misbehaved ([`ErrorCode::INVAL`]).
    Failed(ErrorCode),
    /// The probe found nothing to drive ([`ProbeResult::Unbound`]).
    Unbound,
    /// [`Queue::expire`](super::Queue::expire) was called while the entry
    /// was waiting; holds the conditions that were still not signalled
    /// then. Never retried.
    TimedOut(ConditionSet),
}

/// The probe of a slot no entry was added to (never called: only added
/// entries are probed).
pub(super) struct Unused;

impl Probe for Unused {
    fn probe(&self) -> ProbeResult {
        ProbeResult::Failed(ErrorCode::INVAL)
    }
}

/// Marks the end of a list of waiting entries.
pub(super) const NO_ENTRY: u16 = u16::MAX;

/// An entry's state without its condition set (kept beside it in the
/// slot, so a slot stays small).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    NotProbed,
    Waiting,
    Ready,
    Failed(ErrorCode),
    Unbound,
    TimedOut,
}

/// One entry's bookkeeping.
pub(super) struct EntrySlot<'a> {
    /// The entry's probe ([`Unused`] until the slot is added).
    pub(super) probe: Cell<&'a dyn Probe>,
    pub(super) name: Cell<&'static str>,
    /// With `status` Waiting, what the probe deferred on; with TimedOut,
    /// what was still missing at the deadline.
    conditions: Cell<ConditionSet>,
    status: Cell<Status>,
    pub(super) provides: Cell<Option<ConditionId>>,
    /// Whether the entry was woken: waiting, but all its conditions are
    /// signalled, so it is due to be probed again.
    pub(super) runnable: Cell<bool>,
    /// The next entry on the same condition's list of waiting entries.
    pub(super) next_waiter: Cell<u16>,
}

impl EntrySlot<'_> {
    pub(super) const fn unused() -> Self {
        EntrySlot {
            probe: Cell::new(&Unused),
            name: Cell::new(""),
            conditions: Cell::new(ConditionSet::empty()),
            status: Cell::new(Status::NotProbed),
            provides: Cell::new(None),
            runnable: Cell::new(false),
            next_waiter: Cell::new(NO_ENTRY),
        }
    }

    /// Where the entry is.
    pub(super) fn state(&self) -> EntryState {
        match self.status.get() {
            Status::NotProbed => EntryState::NotProbed,
            Status::Waiting => EntryState::Waiting(self.conditions.get()),
            Status::Ready => EntryState::Ready,
            Status::Failed(error) => EntryState::Failed(error),
            Status::Unbound => EntryState::Unbound,
            Status::TimedOut => EntryState::TimedOut(self.conditions.get()),
        }
    }

    /// What the entry waits on, if it is waiting.
    #[inline]
    pub(super) fn waiting_on(&self) -> Option<ConditionSet> {
        (self.status.get() == Status::Waiting).then(|| self.conditions.get())
    }

    /// The entry is waiting on `conditions`.
    #[inline]
    pub(super) fn set_waiting(&self, conditions: ConditionSet) {
        self.conditions.set(conditions);
        self.status.set(Status::Waiting);
    }

    /// The entry is ready.
    #[inline]
    pub(super) fn set_ready(&self) {
        self.status.set(Status::Ready);
    }

    /// The entry has nothing to drive.
    #[inline]
    pub(super) fn set_unbound(&self) {
        self.status.set(Status::Unbound);
    }

    /// The entry failed with `error`.
    pub(super) fn set_failed(&self, error: ErrorCode) {
        self.status.set(Status::Failed(error));
    }

    /// The entry timed out with `missing` still not signalled.
    pub(super) fn set_timed_out(&self, missing: ConditionSet) {
        self.conditions.set(missing);
        self.status.set(Status::TimedOut);
    }
}

/// How many entries are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct EntryCounts {
    /// Added, never probed.
    pub not_probed: usize,
    /// Waiting on conditions.
    pub waiting: usize,
    /// Ready.
    pub ready: usize,
    /// Failed.
    pub failed: usize,
    /// Timed out.
    pub timed_out: usize,
    /// With nothing to drive.
    pub unbound: usize,
}

impl EntryCounts {
    /// Counts `state` in.
    pub(super) fn count(&mut self, state: EntryState) {
        match state {
            EntryState::NotProbed => self.not_probed += 1,
            EntryState::Waiting(_) => self.waiting += 1,
            EntryState::Ready => self.ready += 1,
            EntryState::Failed(_) => self.failed += 1,
            EntryState::TimedOut(_) => self.timed_out += 1,
            EntryState::Unbound => self.unbound += 1,
        }
    }
}
