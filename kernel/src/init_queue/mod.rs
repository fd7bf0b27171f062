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
//! without saying what it waits for. (Starting too early is worse: the
//! [Linux FF-A/pKVM readiness patch](https://lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com/)
//! exists because the FF-A driver probed before pKVM's proxy was finalised.)
//!
//! # The solution
//!
//! Readiness is made explicit. The board declares named *conditions*
//! ([`Queue::declare_condition`]), such as "secure-monitor-ready" or
//! "proxy-finalised". Each component is added as an *entry* with a
//! [`Probe`] and, optionally, the condition it provides once it is ready.
//! A probe answers:
//!
//! - [`ProbeResult::Ready`]: the entry is initialised; the condition it
//!   provides, if any, is signalled;
//! - [`ProbeResult::Defer`]`(set)`: try again once every condition in `set`
//!   has been signalled;
//! - [`ProbeResult::Failed`]`(error)`: give up; the entry's condition is
//!   never signalled by it;
//! - [`ProbeResult::Unbound`]: nothing to drive (a driver whose device is
//!   not in this system): normal, not retried, its condition not signalled.
//!
//! An entry is retried only when something it waits on is signalled, so the
//! total number of probe calls is at most the number of entries plus, for
//! each entry, the number of conditions it waited on that were signalled.
//! Anything may signal a condition ([`Queue::signal`]): an entry becoming
//! ready, an interrupt handler, a probe. Signalling only records; probes run
//! from [`InitQueue::service`], which the main loop calls (it is a
//! [`LoopService`]), never from inside whoever signalled.
//!
//! A probe may start asynchronous work (a transfer that completes from an
//! alarm) and defer on a condition the work signals when it ends, success
//! or failure; it tells the queue with [`Queue::expect_signal`], and the
//! queue does not count as settled while such a signal is outstanding, so
//! whatever waits for the queue to settle (the boot report) waits for the
//! work too, without anyone polling.
//!
//! Cycles and conditions that nobody signals cannot hang anything: the
//! queue settles with those entries [`EntryState::Waiting`], and
//! [`Queue::report_pending`] names each one with the conditions it still
//! waits for. A board deadline ([`Queue::expire`]) turns them into
//! [`EntryState::TimedOut`].
//!
//! Components never name the queue's type: they hold a `&dyn` [`Queue`],
//! the one trait through which conditions are declared, signalled and
//! asked about, and entries added.
//!
//! # Example
//!
//! ```
//! use core::cell::Cell;
//! use kernel::init_queue::{ConditionId, ConditionSet, EntryState, InitQueue, Probe, ProbeResult, Queue};
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
//! # Capacity and cost
//!
//! `ENTRIES` and `CONDITIONS` fix the capacity; nothing is allocated. A
//! [`ConditionSet`] is a 64-bit mask, so a queue holds at most 64
//! conditions. The queue logs only errors; what a board's boot log shows of
//! the normal steps is up to the [`Journal`] it attaches ([`BootLog`]).
//! `cargo bench -p kernel --bench init_queue` compares the queue with a
//! Linux-style retry-everything loop.
//!
//! The modules: [`condition`] (ids and sets), [`entry`] (probes, results,
//! states), [`queue`] (the queue and its trait), [`report`] (the journal
//! and the boot log).
//!
//! [`LoopService`]: crate::main_loop::LoopService

pub mod condition;
pub mod entry;
pub mod queue;
pub mod report;

#[cfg(test)]
mod tests;

pub use condition::{ConditionId, ConditionSet};
pub use entry::{EntryCounts, EntryId, EntryState, Probe, ProbeResult};
pub use queue::{InitQueue, InitQueueClient, Queue};
pub use report::{BootLog, ConditionNames, Journal};
