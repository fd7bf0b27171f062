//! The two init-queue capabilities this crate uses, implemented for the kernel's queue.
//!
//! Components get the narrowest view of the queue they need: readiness can
//! only [`signal`](ConditionSignal::signal) its condition, and the bus root
//! can only ask whether its prerequisites [are signalled](ConditionStatus::is_signalled)
//! (a probe may defer only on conditions that are not signalled yet).
//!
//! ```
//! use capsule_ffa::conditions::{ConditionSignal, ConditionStatus};
//! use kernel::init_queue::InitQueue;
//!
//! let queue: InitQueue<'_, 4, 4> = InitQueue::new();
//! let ready = queue.declare_condition("secure-monitor-ready").unwrap();
//! let signal: &dyn ConditionSignal = &queue;
//! signal.signal(ready);
//! assert!((&queue as &dyn ConditionStatus).is_signalled(ready));
//! ```

use kernel::init_queue::{ConditionId, ConditionSet, InitQueue};

/// Records that a condition holds.
pub trait ConditionSignal {
    /// Records that `condition` holds (no probe runs from inside this call).
    fn signal(&self, condition: ConditionId);
}

/// Tells whether a condition holds.
pub trait ConditionStatus {
    /// Whether `condition` has been signalled.
    fn is_signalled(&self, condition: ConditionId) -> bool;

    /// The conditions of `set` not signalled yet.
    fn missing(&self, set: ConditionSet) -> ConditionSet {
        set.iter()
            .filter(|condition| !self.is_signalled(*condition))
            .fold(ConditionSet::empty(), ConditionSet::with)
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize> ConditionSignal
    for InitQueue<'_, ENTRIES, CONDITIONS, WORDS>
{
    fn signal(&self, condition: ConditionId) {
        InitQueue::signal(self, condition);
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize, const WORDS: usize> ConditionStatus
    for InitQueue<'_, ENTRIES, CONDITIONS, WORDS>
{
    fn is_signalled(&self, condition: ConditionId) -> bool {
        InitQueue::is_signalled(self, condition)
    }
}
