//! More than one core: the lock every core takes around the model and the
//! console, and the holding pen where secondaries wait for `CPU_ON`.
//!
//! EL3 runs with its MMU off, so every access is Device-nGnRnE, where
//! load/store-exclusive (and so compare-and-swap) is not architecturally
//! guaranteed to work. Both structures therefore use only acquire loads and
//! release stores (`LDAR`/`STLR`, sequentially consistent): the lock is
//! Lamport's bakery (`chips/bakery-lock`), as TF-A uses without coherent
//! memory, and each pen slot has one writer at a time.
//!
//! The pen never lets a core clear its slot on arrival: a `CPU_ON` that
//! came first would be lost (the race TF-A's `rpi` port shows). A slot is
//! cleared only by its own core after it has read the release, and secure
//! RAM is zero at reset, which means "wait".

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};

use crate::entry::MAXIMUM_CORES;
use ffa_model::power::Release;

/// The lock every core takes around the model and the console.
pub type BakeryLock = bakery_lock::BakeryLock<MAXIMUM_CORES>;

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
