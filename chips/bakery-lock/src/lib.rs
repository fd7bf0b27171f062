#![doc = include_str!("../README.md")]
//!
//! ```
//! use bakery_lock::BakeryLock;
//!
//! static LOCK: BakeryLock<4> = BakeryLock::new();
//! let core = 2;
//! assert!(LOCK.lock(core));
//! // ... the critical section ...
//! LOCK.unlock(core);
//! ```

#![no_std]

#[cfg(test)]
extern crate std;

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};

/// Spins before a core gives up: far longer than any holder keeps the lock
/// (one call into a model or a proxy), so reaching it means a bug.
pub const SPIN_LIMIT: u64 = 1 << 32;

/// Lamport's bakery lock for `CORES` cores, each naming itself by index.
pub struct BakeryLock<const CORES: usize> {
    choosing: [AtomicBool; CORES],
    ticket: [AtomicU32; CORES],
}

impl<const CORES: usize> BakeryLock<CORES> {
    /// An unlocked lock (all zero: valid in `.bss` and in fresh RAM).
    pub const fn new() -> Self {
        BakeryLock {
            choosing: [const { AtomicBool::new(false) }; CORES],
            ticket: [const { AtomicU32::new(0) }; CORES],
        }
    }

    /// Takes the lock for `core` (below `CORES`); `false` if it was not had
    /// within [`SPIN_LIMIT`] spins, or `core` is out of range.
    pub fn lock(&self, core: usize) -> bool {
        self.lock_within(core, SPIN_LIMIT)
    }

    /// [`lock`](Self::lock) with another spin limit.
    pub fn lock_within(&self, core: usize, limit: u64) -> bool {
        if core >= CORES {
            return false;
        }
        self.choosing[core].store(true, SeqCst);
        let highest = self
            .ticket
            .iter()
            .map(|ticket| ticket.load(SeqCst))
            .max()
            .unwrap_or(0);
        let mine = highest.wrapping_add(1).max(1);
        self.ticket[core].store(mine, SeqCst);
        self.choosing[core].store(false, SeqCst);
        let mut spins = 0u64;
        for other in (0..CORES).filter(|&other| other != core) {
            while self.choosing[other].load(SeqCst) {
                spins += 1;
                if spins > limit {
                    self.ticket[core].store(0, SeqCst);
                    return false;
                }
                core::hint::spin_loop();
            }
            loop {
                let theirs = self.ticket[other].load(SeqCst);
                if theirs == 0 || (theirs, other) > (mine, core) {
                    break;
                }
                spins += 1;
                if spins > limit {
                    self.ticket[core].store(0, SeqCst);
                    return false;
                }
                core::hint::spin_loop();
            }
        }
        true
    }

    /// Releases the lock held by `core`.
    pub fn unlock(&self, core: usize) {
        if let Some(ticket) = self.ticket.get(core) {
            ticket.store(0, SeqCst);
        }
    }
}

impl<const CORES: usize> Default for BakeryLock<CORES> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::vec::Vec;

    #[test]
    fn four_threads_never_overlap() {
        static LOCK: BakeryLock<4> = BakeryLock::new();
        static INSIDE: AtomicBool = AtomicBool::new(false);
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let threads: Vec<_> = (0..4)
            .map(|core| {
                std::thread::spawn(move || {
                    for _ in 0..300 {
                        assert!(LOCK.lock(core));
                        assert!(!INSIDE.swap(true, SeqCst), "two holders at once");
                        // A read-modify-write that would lose updates if unguarded.
                        let value = COUNT.load(SeqCst);
                        COUNT.store(value + 1, SeqCst);
                        INSIDE.store(false, SeqCst);
                        LOCK.unlock(core);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(COUNT.load(SeqCst), 1_200);
    }

    #[test]
    fn a_held_lock_times_out_and_bad_cores_are_refused() {
        let lock: BakeryLock<2> = BakeryLock::new();
        assert!(lock.lock(0));
        assert!(!lock.lock_within(1, 1000), "core 0 holds it");
        lock.unlock(0);
        assert!(
            lock.lock_within(1, 1000),
            "a timed-out waiter left no ticket"
        );
        lock.unlock(1);
        assert!(!lock.lock(2));
    }
}
