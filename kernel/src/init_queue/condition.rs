//! Readiness conditions ([`ConditionId`]) and sets of them ([`ConditionSet`]).
//!
//! A queue numbers its conditions from 0 in the order they are declared, and
//! a set is a 64-bit mask of those numbers: a queue holds at most
//! [`ConditionSet::CAPACITY`] conditions, which is far more than a board
//! declares (each one names a layer, such as "the secure monitor answers").
//!
//! ```
//! use kernel::init_queue::{ConditionSet, InitQueue, Queue};
//!
//! let queue: InitQueue<'_, 1, 4> = InitQueue::new();
//! let monitor = queue.declare_condition("secure-monitor-ready").unwrap();
//! let proxy = queue.declare_condition("proxy-finalised").unwrap();
//! let both = ConditionSet::of(monitor).with(proxy);
//! queue.signal(monitor);
//! assert_eq!(queue.missing(both), ConditionSet::of(proxy));
//! ```

use core::fmt;

/// Names a readiness condition declared with [`Queue::declare_condition`](super::Queue::declare_condition).
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub struct ConditionId(pub(super) u8);

impl ConditionId {
    /// The condition's number: conditions are numbered from 0 in the order
    /// they were declared.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of conditions: what a probe defers on, and what has been signalled.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct ConditionSet(u64);

impl ConditionSet {
    /// How many conditions a set (and so a queue) can hold.
    pub const CAPACITY: usize = 64;

    /// The empty set.
    pub const fn empty() -> Self {
        ConditionSet(0)
    }

    /// The set holding only `condition`.
    pub const fn of(condition: ConditionId) -> Self {
        ConditionSet(1 << condition.0)
    }

    /// This set with `condition` added.
    pub const fn with(self, condition: ConditionId) -> Self {
        ConditionSet(self.0 | 1 << condition.0)
    }

    /// This set with `condition` removed.
    pub const fn without(self, condition: ConditionId) -> Self {
        ConditionSet(self.0 & !(1 << condition.0))
    }

    /// Whether `condition` is in the set.
    pub const fn contains(self, condition: ConditionId) -> bool {
        self.0 & (1 << condition.0) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many conditions the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The conditions in either set.
    pub const fn union(self, other: Self) -> Self {
        ConditionSet(self.0 | other.0)
    }

    /// The conditions in both sets.
    pub const fn intersection(self, other: Self) -> Self {
        ConditionSet(self.0 & other.0)
    }

    /// The conditions in this set that are not in `other`.
    pub const fn difference(self, other: Self) -> Self {
        ConditionSet(self.0 & !other.0)
    }

    /// Whether every condition in this set is also in `other`.
    pub const fn is_subset(self, other: Self) -> bool {
        self.difference(other).is_empty()
    }

    /// The lowest-numbered condition in the set.
    pub const fn lowest(self) -> Option<ConditionId> {
        if self.0 == 0 {
            None
        } else {
            Some(ConditionId(self.0.trailing_zeros() as u8))
        }
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

impl FromIterator<ConditionId> for ConditionSet {
    fn from_iter<I: IntoIterator<Item = ConditionId>>(conditions: I) -> Self {
        conditions
            .into_iter()
            .fold(Self::empty(), |set, condition| set.with(condition))
    }
}

impl fmt::Debug for ConditionSet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_set()
            .entries(self.iter().map(ConditionId::index))
            .finish()
    }
}

impl defmt::Format for ConditionSet {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(formatter, "{{");
        for (position, condition) in self.iter().enumerate() {
            if position != 0 {
                defmt::write!(formatter, ", ");
            }
            defmt::write!(formatter, "{=u8}", condition.0);
        }
        defmt::write!(formatter, "}}");
    }
}
