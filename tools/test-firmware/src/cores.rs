//! More than one core: the lock every core takes around the model and the
//! console, and the holding pen where secondaries wait for `CPU_ON`.
//!
//! EL3 runs with its MMU off, so every access is Device-nGnRnE, where
//! load/store-exclusive (and so compare-and-swap) is not architecturally
//! guaranteed to work. Both structures therefore use only acquire loads and
//! release stores (`LDAR`/`STLR`, sequentially consistent): the lock is
//! Lamport's bakery, as TF-A uses without coherent memory, and each pen
//! slot has one writer at a time.
//!
//! The pen never lets a core clear its slot on arrival: a `CPU_ON` that
//! came first would be lost (the race TF-A's `rpi` port shows). A slot is
//! cleared only by its own core after it has read the release, and secure
//! RAM is zero at reset, which means "wait".

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};

use crate::entry::MAXIMUM_CORES;
use ffa_model::power::Release;

/// Spins before a core gives up on the lock: far longer than any holder
/// keeps it (one model call or one log line), so reaching it means a
/// firmware bug, which ends the run rather than hang it.
const LOCK_SPIN_LIMIT: u64 = 1 << 32;

/// Lamport's bakery lock for [`MAXIMUM_CORES`] cores.
pub struct BakeryLock {
    choosing: [AtomicBool; MAXIMUM_CORES],
    ticket: [AtomicU32; MAXIMUM_CORES],
}

impl BakeryLock {
    /// An unlocked lock (all zero: valid in `.bss` and in fresh secure RAM).
    pub const fn new() -> BakeryLock {
        BakeryLock {
            choosing: [const { AtomicBool::new(false) }; MAXIMUM_CORES],
            ticket: [const { AtomicU32::new(0) }; MAXIMUM_CORES],
        }
    }

    /// Takes the lock for `core`; `false` if it was not had within the limit.
    pub fn lock(&self, core: usize) -> bool {
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
        for other in (0..MAXIMUM_CORES).filter(|&other| other != core) {
            while self.choosing[other].load(SeqCst) {
                spins += 1;
                if spins > LOCK_SPIN_LIMIT {
                    return false;
                }
            }
            loop {
                let theirs = self.ticket[other].load(SeqCst);
                if theirs == 0 || (theirs, other) > (mine, core) {
                    break;
                }
                spins += 1;
                if spins > LOCK_SPIN_LIMIT {
                    return false;
                }
            }
        }
        true
    }

    /// Releases the lock held by `core`.
    pub fn unlock(&self, core: usize) {
        self.ticket[core].store(0, SeqCst);
    }
}

/// Slot state: waiting (also the reset value).
const WAIT: u32 = 0;
/// Slot state: released by `CPU_ON`.
const GO: u32 = 1;

/// One core's place in the holding pen.
struct PenSlot {
    state: AtomicU32,
    entry: AtomicU64,
    context: AtomicU64,
}

/// Where the secondaries wait.
static PEN: [PenSlot; MAXIMUM_CORES] = [const {
    PenSlot {
        state: AtomicU32::new(WAIT),
        entry: AtomicU64::new(0),
        context: AtomicU64::new(0),
    }
}; MAXIMUM_CORES];

/// Releases a core (the model has marked it on-pending): its entry and
/// context first, then the state, then an event to wake it from `wfe`.
pub fn release(release: &Release) {
    let slot = &PEN[release.core];
    slot.entry.store(release.entry, SeqCst);
    slot.context.store(release.context, SeqCst);
    slot.state.store(GO, SeqCst);
    aarch64_cpu::asm::barrier::dsb(aarch64_cpu::asm::barrier::SY);
    aarch64_cpu::asm::sev();
}

/// Waits in `wfe` until `core` is released; returns (entry, context) and
/// clears the slot for the next `CPU_OFF`/`CPU_ON`.
pub fn wait(core: usize) -> (u64, u64) {
    let slot = &PEN[core];
    while slot.state.load(SeqCst) != GO {
        aarch64_cpu::asm::wfe();
    }
    let taken = (slot.entry.load(SeqCst), slot.context.load(SeqCst));
    slot.state.store(WAIT, SeqCst);
    taken
}
