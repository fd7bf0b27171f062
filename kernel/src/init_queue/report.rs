//! What the queue reports: the [`Journal`] it tells of each probe's result,
//! [`BootLog`] (the journal that logs them), and condition names for log lines.
//!
//! The queue itself logs only errors. Each step of a normal boot ("X
//! deferred, waits on Y", "X ready", the summary when the queue settles) is
//! told to the queue's journal, so the board decides what its boot log
//! shows, and the queue's bookkeeping costs the same whether it is logged
//! or not. Boards attach [`BootLog`]:
//!
//! ```
//! use kernel::init_queue::{BootLog, InitQueue, Queue};
//!
//! static BOOT_LOG: BootLog = BootLog;
//! let queue: InitQueue<'_, 4, 4> = InitQueue::new();
//! queue.set_journal(&BOOT_LOG);
//! ```

use super::condition::{ConditionId, ConditionSet};
use super::entry::{EntryId, EntryState};
use super::queue::Queue;

/// Told of the queue's progress, as it happens.
pub trait Journal {
    /// `entry` was probed and is now `state` (for [`EntryState::Waiting`],
    /// `queue.missing(set)` is what it still waits on). Called from
    /// [`InitQueue::service`](super::InitQueue::service), after the result
    /// is filed and before the condition a ready entry provides is signalled.
    fn probed(&self, queue: &dyn Queue<'_>, entry: EntryId, state: EntryState);

    /// The queue has just settled (see [`InitQueueClient::settled`](super::InitQueueClient::settled)).
    fn settled(&self, queue: &dyn Queue<'_>);

    /// `condition` has just been signalled, for the first time (by an
    /// entry becoming ready or by [`Queue::signal`]); called before the
    /// entries waiting on it are woken. Does nothing unless overridden.
    fn signalled(&self, queue: &dyn Queue<'_>, condition: ConditionId) {
        let _ = (queue, condition);
    }
}

/// The boot log: one line per probe result, one per condition signalled,
/// and a summary when the queue settles (`cargo xtask run --timeline`
/// draws the boot from these lines).
///
/// ```text
/// init: arm-ffa deferred, waits on secure-monitor-ready
/// init: condition secure-monitor-ready signalled
/// init: arm-ffa ready
/// init: condition ffa-root-ready signalled
/// init: ffa-tpm unbound: nothing to drive
/// init: settled: 3 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound
/// ```
///
/// Failures are not repeated here: the queue always logs them as errors.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootLog;

impl Journal for BootLog {
    fn probed(&self, queue: &dyn Queue<'_>, entry: EntryId, state: EntryState) {
        let name = queue.entry_name(entry);
        match state {
            EntryState::Ready => defmt::info!("init: {=str} ready", name),
            EntryState::Waiting(conditions) => defmt::warn!(
                "init: {=str} deferred, waits on {}",
                name,
                ConditionNames::new(queue, queue.missing(conditions))
            ),
            EntryState::Unbound => defmt::info!("init: {=str} unbound: nothing to drive", name),
            EntryState::NotProbed | EntryState::Failed(_) | EntryState::TimedOut(_) => {}
        }
    }

    fn signalled(&self, queue: &dyn Queue<'_>, condition: ConditionId) {
        defmt::info!(
            "init: condition {=str} signalled",
            queue.condition_name(condition)
        );
    }

    fn settled(&self, queue: &dyn Queue<'_>) {
        let counts = queue.counts();
        defmt::info!(
            "init: settled: {=usize} ready, {=usize} failed, {=usize} waiting, {=usize} timed out, {=usize} unbound",
            counts.ready,
            counts.failed,
            counts.waiting,
            counts.timed_out,
            counts.unbound
        );
    }
}

/// The names of a set of conditions, comma-separated, for a log line.
pub struct ConditionNames<'q, 'a> {
    queue: &'q dyn Queue<'a>,
    set: ConditionSet,
}

impl<'q, 'a> ConditionNames<'q, 'a> {
    /// The names of `set`'s conditions on `queue`.
    pub fn new(queue: &'q dyn Queue<'a>, set: ConditionSet) -> Self {
        ConditionNames { queue, set }
    }
}

impl defmt::Format for ConditionNames<'_, '_> {
    fn format(&self, formatter: defmt::Formatter) {
        for (position, condition) in self.set.iter().enumerate() {
            if position != 0 {
                defmt::write!(formatter, ", ");
            }
            defmt::write!(formatter, "{=str}", self.queue.condition_name(condition));
        }
    }
}
