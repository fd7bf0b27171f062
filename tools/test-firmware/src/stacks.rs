//! The cores' EL3 stacks: painted when a core starts, measured at power-off.
//!
//! Each core runs on its own [`CORE_STACK_SIZE`] bytes below `__stack_top`
//! (core 0 highest, core N below core N−1: `entry.rs`), so a core that
//! outgrows its stack silently writes into the frames of the next core's,
//! which is how a too-small stack shows itself: another core's saved
//! registers change under it (its core index, say) while it waits in the
//! pen. To make that a clear failure instead, every core paints the unused
//! part of its stack with a pattern when it starts, and at power-off the
//! firmware finds, per core, the deepest word that no longer holds the
//! pattern: a core that reached its last [`GUARD_SIZE`] bytes (or went past
//! them) ends the run with [`STACK_OVERFLOW`](crate::status::STACK_OVERFLOW)
//! and a log line; otherwise the deepest use is logged, to size the stacks
//! by.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

use crate::entry::{CORE_STACK_SIZE, MAXIMUM_CORES};

/// What an unused stack word holds.
const PATTERN: u64 = 0x57ac_57ac_57ac_57ac;
/// The lowest bytes of each stack that a run must never reach.
pub const GUARD_SIZE: usize = 1024;
/// Room left below the painter's own stack pointer (its frame and the
/// calls it makes while painting are above it).
const PAINTER_MARGIN: usize = 256;

extern "C" {
    /// The top of core 0's stack (the linker script).
    static __stack_top: u8;
}

/// Whether each core painted its stack (only those are measured).
static PAINTED: [AtomicBool; MAXIMUM_CORES] = [const { AtomicBool::new(false) }; MAXIMUM_CORES];

/// The highest address of `core`'s stack (exclusive).
fn top(core: usize) -> usize {
    // Taking the address of an extern static is safe; nothing reads it.
    core::ptr::addr_of!(__stack_top) as usize - core * CORE_STACK_SIZE
}

/// The lowest address of `core`'s stack.
fn bottom(core: usize) -> usize {
    top(core) - CORE_STACK_SIZE
}

/// Paints the calling core's stack below its current stack pointer. Call
/// once when the core starts (`core` is the caller's own index).
pub fn paint(core: usize) {
    if core >= MAXIMUM_CORES {
        return;
    }
    let stack_pointer: usize;
    // SAFETY: reading SP has no side effects.
    unsafe { core::arch::asm!("mov {0}, sp", out(reg) stack_pointer, options(nomem, nostack)) };
    let end = stack_pointer.saturating_sub(PAINTER_MARGIN) & !7;
    let mut address = bottom(core);
    while address < end {
        // SAFETY: `address` is an aligned word of this core's own stack,
        // below its stack pointer (AArch64 has no red zone), so nothing of
        // this core lives there; `entry.rs` gives each core its own region.
        unsafe { core::ptr::write_volatile(address as *mut u64, PATTERN) };
        address += 8;
    }
    PAINTED[core].store(true, SeqCst);
}

/// The bytes of `core`'s stack used so far: from its top down to its
/// deepest word that lost the pattern (`None` if it was never painted).
pub fn used(core: usize) -> Option<usize> {
    if !PAINTED.get(core)?.load(SeqCst) {
        return None;
    }
    let mut address = bottom(core);
    while address < top(core) {
        // SAFETY: an aligned word of secure RAM inside the stacks' region;
        // another core may be using it, so it is read atomically (LDAR,
        // valid on the Device memory EL3 sees with its MMU off).
        let word = unsafe { AtomicU64::from_ptr(address as *mut u64) }.load(SeqCst);
        if word != PATTERN {
            break;
        }
        address += 8;
    }
    Some(top(core) - address)
}

/// A core and the bytes of its stack it used.
pub type StackUse = (usize, usize);

/// The deepest use of a painted stack, and the first core that reached its
/// guard (if any).
pub fn deepest() -> (Option<StackUse>, Option<StackUse>) {
    let mut deepest: Option<StackUse> = None;
    let mut overflowed = None;
    for core in 0..MAXIMUM_CORES {
        let Some(bytes) = used(core) else { continue };
        if bytes > CORE_STACK_SIZE - GUARD_SIZE && overflowed.is_none() {
            overflowed = Some((core, bytes));
        }
        if deepest.is_none_or(|(_, most)| bytes > most) {
            deepest = Some((core, bytes));
        }
    }
    (deepest, overflowed)
}
