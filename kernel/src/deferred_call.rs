//! Deferred calls: work a component schedules for itself, run later by the
//! main loop.
//!
//! A callback must never be issued from inside the downcall that caused it
//! (the caller may hold state that the callback would see half-updated). A
//! component that wants to complete an operation "immediately" instead sets
//! its [`DeferredCall`]; the main loop later calls the component's
//! [`DeferredCallClient::handle_deferred_call`] from a clean stack.
//!
//! At most [`MAX_DEFERRED_CALLS`] deferred calls exist in a system. They are
//! allocated while the board is set up; allocating one more panics right
//! there, with a message saying so. [`DeferredCall::verify_setup`] tells the
//! board whether every allocated call was registered.
//!
//! ```
//! use kernel::deferred_call::{DeferredCall, DeferredCallClient};
//! # use core::cell::Cell;
//!
//! struct Timer {
//!     deferred_call: DeferredCall,
//!     fired: Cell<bool>,
//! }
//!
//! impl DeferredCallClient for Timer {
//!     fn handle_deferred_call(&self) {
//!         self.fired.set(true);
//!     }
//!     fn register(&'static self) {
//!         self.deferred_call.register(self);
//!     }
//! }
//!
//! let timer = kernel::static_init!(
//!     Timer,
//!     Timer { deferred_call: DeferredCall::new(), fired: Cell::new(false) }
//! );
//! timer.register();
//! timer.deferred_call.set();
//! assert!(DeferredCall::has_tasks());
//! while DeferredCall::service_next_pending() {}
//! assert!(timer.fired.get());
//! ```

use core::cell::RefCell;

use critical_section::Mutex;

/// How many deferred calls a system can allocate (one bit each in a `u32`).
pub const MAX_DEFERRED_CALLS: usize = 32;

/// A component that receives deferred calls.
pub trait DeferredCallClient {
    /// Runs the work the component deferred. Called by the main loop.
    fn handle_deferred_call(&self);

    /// Registers `self` with the component's [`DeferredCall`]; boards call
    /// this once, during set-up, after the component has its final address.
    fn register(&'static self);
}

/// A registered client.
#[derive(Clone, Copy)]
struct RegisteredClient(&'static dyn DeferredCallClient);

// SAFETY: the kernel runs its main loop on a single thread of execution, and
// clients are only stored (by `register`) and called (by
// `service_next_pending`) from that thread; the critical section only guards
// the bookkeeping against re-entry. A client is never touched from any other
// thread or interrupt context, so the fact that clients are not `Sync` does
// not matter. (Host tests run the kernel on several threads; they serialise
// every test that uses deferred calls, see `tests::exclusive`.)
unsafe impl Send for RegisteredClient {}

/// The global table of deferred calls.
struct Table {
    /// How many handles [`DeferredCall::new`] has allocated.
    allocated: usize,
    /// Bit `i` is set while call `i` is pending.
    pending: u32,
    /// The client registered for each call.
    clients: [Option<RegisteredClient>; MAX_DEFERRED_CALLS],
}

static TABLE: Mutex<RefCell<Table>> = Mutex::new(RefCell::new(Table {
    allocated: 0,
    pending: 0,
    clients: [None; MAX_DEFERRED_CALLS],
}));

/// Runs `operation` on the global table inside a critical section.
fn with_table<R>(operation: impl FnOnce(&mut Table) -> R) -> R {
    critical_section::with(|token| operation(&mut TABLE.borrow_ref_mut(token)))
}

/// A component's handle on one deferred call.
///
/// Allocated with [`DeferredCall::new`] while the board is being set up.
pub struct DeferredCall {
    index: usize,
}

impl DeferredCall {
    /// Allocates the next free deferred call.
    ///
    /// # Panics
    ///
    /// If [`MAX_DEFERRED_CALLS`] calls are already allocated. This happens at
    /// board set-up, deterministically, so it shows up on the first boot.
    #[track_caller]
    #[allow(clippy::new_without_default)] // allocation has a global side effect
    pub fn new() -> Self {
        let index = with_table(|table| {
            let index = table.allocated;
            if index < MAX_DEFERRED_CALLS {
                table.allocated += 1;
            }
            index
        });
        if index >= MAX_DEFERRED_CALLS {
            panic!(
                "DeferredCall::new: all {} deferred calls are allocated; \
                 raise MAX_DEFERRED_CALLS or allocate fewer",
                MAX_DEFERRED_CALLS
            );
        }
        DeferredCall { index }
    }

    /// The number this call was allocated with (its priority: lower indices
    /// are serviced first).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Registers the client that [`DeferredCall::set`] will call back.
    /// Registering again replaces the client.
    pub fn register(&self, client: &'static dyn DeferredCallClient) {
        with_table(|table| table.clients[self.index] = Some(RegisteredClient(client)));
    }

    /// Marks the call pending: the main loop will run the client's
    /// [`DeferredCallClient::handle_deferred_call`] once, however many times
    /// `set` is called before that.
    pub fn set(&self) {
        with_table(|table| table.pending |= 1 << self.index);
    }

    /// Whether the call is pending.
    pub fn is_pending(&self) -> bool {
        with_table(|table| table.pending & (1 << self.index) != 0)
    }

    /// Whether any deferred call is pending.
    pub fn has_tasks() -> bool {
        with_table(|table| table.pending != 0)
    }

    /// Runs the pending call with the lowest index, clearing it first (so the
    /// client may set it again). Returns `false` if nothing was pending.
    ///
    /// A call that was set but never registered is dropped with an error log.
    pub fn service_next_pending() -> bool {
        let next = with_table(|table| {
            if table.pending == 0 {
                return None;
            }
            let index = table.pending.trailing_zeros() as usize;
            table.pending &= !(1 << index);
            Some((index, table.clients[index]))
        });
        match next {
            None => false,
            Some((_, Some(RegisteredClient(client)))) => {
                // Called outside the critical section: the client may set
                // deferred calls, including its own.
                client.handle_deferred_call();
                true
            }
            Some((index, None)) => {
                defmt::error!(
                    "deferred call {=usize} was set but has no registered client; dropped",
                    index
                );
                true
            }
        }
    }

    /// Checks that every allocated deferred call has a registered client.
    /// Logs an error for each one that does not and returns `false` then.
    pub fn verify_setup() -> bool {
        let (allocated, clients) = with_table(|table| (table.allocated, table.clients));
        let mut all_registered = true;
        for (index, client) in clients.iter().enumerate().take(allocated) {
            if client.is_none() {
                defmt::error!(
                    "deferred call {=usize} was allocated but never registered",
                    index
                );
                all_registered = false;
            }
        }
        all_registered
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::cell::Cell;
    use std::sync::{Mutex as StdMutex, MutexGuard};

    static EXCLUSIVE: StdMutex<()> = StdMutex::new(());

    /// Serialises the tests that use the global table and empties it.
    ///
    /// Every test in the crate that allocates, sets or services deferred
    /// calls holds this guard for its whole duration.
    pub(crate) fn exclusive() -> MutexGuard<'static, ()> {
        let guard = EXCLUSIVE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        with_table(|table| {
            table.allocated = 0;
            table.pending = 0;
            table.clients = [None; MAX_DEFERRED_CALLS];
        });
        guard
    }

    /// A client that records the order it was called in.
    pub(crate) struct Recorder {
        pub(crate) call: DeferredCall,
        pub(crate) label: u8,
        pub(crate) log: &'static RecordLog,
        pub(crate) set_again: Cell<bool>,
    }

    /// Labels of the clients called, in order.
    pub(crate) struct RecordLog {
        pub(crate) labels: Cell<[u8; 8]>,
        pub(crate) count: Cell<usize>,
    }

    impl RecordLog {
        pub(crate) const fn new() -> Self {
            RecordLog {
                labels: Cell::new([0; 8]),
                count: Cell::new(0),
            }
        }

        pub(crate) fn recorded(&self) -> std::vec::Vec<u8> {
            self.labels.get()[..self.count.get()].to_vec()
        }
    }

    impl DeferredCallClient for Recorder {
        fn handle_deferred_call(&self) {
            let mut labels = self.log.labels.get();
            labels[self.log.count.get()] = self.label;
            self.log.labels.set(labels);
            self.log.count.set(self.log.count.get() + 1);
            if self.set_again.replace(false) {
                self.call.set();
            }
        }

        fn register(&'static self) {
            self.call.register(self);
        }
    }

    pub(crate) fn recorder(label: u8, log: &'static RecordLog) -> &'static Recorder {
        std::boxed::Box::leak(std::boxed::Box::new(Recorder {
            call: DeferredCall::new(),
            label,
            log,
            set_again: Cell::new(false),
        }))
    }

    pub(crate) fn leaked_log() -> &'static RecordLog {
        std::boxed::Box::leak(std::boxed::Box::new(RecordLog::new()))
    }

    #[test]
    fn services_lowest_index_first_one_at_a_time() {
        let _guard = exclusive();
        let log = leaked_log();
        let first = recorder(1, log);
        let second = recorder(2, log);
        let third = recorder(3, log);
        for client in [first, second, third] {
            client.register();
        }
        assert_eq!(
            (first.call.index(), second.call.index(), third.call.index()),
            (0, 1, 2)
        );
        assert!(!DeferredCall::has_tasks());
        assert!(!DeferredCall::service_next_pending());

        third.call.set();
        first.call.set();
        first.call.set(); // setting twice still runs once
        assert!(first.call.is_pending());
        assert!(!second.call.is_pending());
        assert!(DeferredCall::has_tasks());

        assert!(DeferredCall::service_next_pending());
        assert_eq!(log.recorded(), [1]);
        assert!(!first.call.is_pending());
        assert!(DeferredCall::service_next_pending());
        assert_eq!(log.recorded(), [1, 3]);
        assert!(!DeferredCall::service_next_pending());
        assert!(!DeferredCall::has_tasks());
    }

    #[test]
    fn bit_is_cleared_before_the_client_runs() {
        let _guard = exclusive();
        let log = leaked_log();
        let client = recorder(7, log);
        client.register();
        client.set_again.set(true);
        client.call.set();
        assert!(DeferredCall::service_next_pending());
        // The client set itself again from inside its handler.
        assert!(client.call.is_pending());
        assert!(DeferredCall::service_next_pending());
        assert!(!DeferredCall::service_next_pending());
        assert_eq!(log.recorded(), [7, 7]);
    }

    #[test]
    fn verify_setup_finds_unregistered_calls() {
        let _guard = exclusive();
        assert!(DeferredCall::verify_setup());
        let log = leaked_log();
        let registered = recorder(1, log);
        registered.register();
        let forgotten = DeferredCall::new();
        assert!(!DeferredCall::verify_setup());

        // Setting an unregistered call drops it instead of looping forever.
        forgotten.set();
        assert!(DeferredCall::service_next_pending());
        assert!(!DeferredCall::has_tasks());
        assert!(log.recorded().is_empty());
    }

    #[test]
    fn allocating_past_the_maximum_panics_clearly() {
        let _guard = exclusive();
        let handles: std::vec::Vec<DeferredCall> = (0..MAX_DEFERRED_CALLS)
            .map(|_| DeferredCall::new())
            .collect();
        assert_eq!(handles.last().map(DeferredCall::index), Some(31));
        let overflow = std::panic::catch_unwind(DeferredCall::new);
        let message = overflow
            .err()
            .and_then(|payload| payload.downcast_ref::<std::string::String>().cloned());
        assert!(message
            .as_deref()
            .is_some_and(|text| text.contains("all 32 deferred calls are allocated")));
    }
}
