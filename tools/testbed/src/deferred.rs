//! Deferred calls in host tests: one table per process, shared by every
//! test of a binary, so tests that use them run one at a time.
//!
//! ```
//! let _guard = testbed::deferred::exclusive();
//! // ... build components that allocate deferred calls, run them ...
//! testbed::deferred::run_pending();
//! ```

use std::sync::{Mutex, MutexGuard};

use kernel::deferred_call::DeferredCall;

/// Serialises the tests that set or service deferred calls (hold the guard
/// for the whole test), and drops whatever an earlier test left pending.
///
/// A test binary still allocates at most
/// [`MAX_DEFERRED_CALLS`](kernel::deferred_call::MAX_DEFERRED_CALLS) in all.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static EXCLUSIVE: Mutex<()> = Mutex::new(());
    let guard = EXCLUSIVE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    run_pending();
    guard
}

/// Runs deferred calls until none is pending; returns how many ran.
pub fn run_pending() -> usize {
    let mut ran = 0;
    while DeferredCall::service_next_pending() {
        ran += 1;
    }
    ran
}
