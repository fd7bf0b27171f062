//! The defmt global logger: frames go to a PL011, polled.
//!
//! Frames are rzcobs-encoded (defmt's default); the host runner decodes
//! them with the kernel ELF's string table. Logging works from any context,
//! including early boot and panics, because it writes the UART directly
//! inside a critical section. Timestamps are microseconds since boot from
//! the generic counter.
//!
//! Several cores may log (the boot core at EL1, any core at EL2 in
//! protected mode): a frame is written under a bakery lock (no exclusives:
//! a core enters EL2 with its MMU off), so frames never interleave. A core
//! that re-enters the logger while it holds it (a fault or panic while
//! logging) ends the broken frame and carries on; a lock not had within its
//! bound is taken anyway rather than hang (a garbled frame beats a silent
//! kernel).
//!
//! Protected mode's EL2 encodes with a state of its own in EL2's private
//! data (`.data.el2.*`, which the host's stage 2 does not map): nothing EL2
//! reads while it logs is the host's to change. The lock is the one thing
//! both share, so it lies in the kernel's memory: a host that held it or
//! scribbled on it could only make EL2 wait out the bound, then log anyway.
//!
//! A chip crate expands [`defmt_global_logger!`](crate::defmt_global_logger)
//! once with the address of the UART its logs go to; the state and the
//! encoding live here.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, Ordering};

use bakery_lock::BakeryLock;

use crate::uart::write_bytes_polled;

/// Cores that may log (MPIDR Aff0 below this).
const CORES: usize = 8;
/// Spins before a core logs without the lock.
const LOCK_SPIN_LIMIT: u64 = 50_000_000;

/// Defines the image's defmt global logger (and timestamp) on the PL011 at
/// `$base`. Expand it exactly once, in the chip crate.
#[macro_export]
macro_rules! defmt_global_logger {
    ($base:expr) => {
        $crate::defmt::timestamp!("{=u64:us}", $crate::logger::timestamp_microseconds());

        #[$crate::defmt::global_logger]
        struct Pl011Logger;

        // SAFETY: every method forwards to `$crate::logger`, whose `acquire`
        // enters a critical section and marks the logger taken; defmt calls
        // `write`, `flush` and `release` only between `acquire` and
        // `release`, so the state is never accessed concurrently.
        unsafe impl $crate::defmt::Logger for Pl011Logger {
            fn acquire() {
                $crate::logger::acquire($base);
            }

            unsafe fn flush() {}

            unsafe fn release() {
                // SAFETY: defmt calls `release` only after `acquire`.
                unsafe { $crate::logger::release($base) };
            }

            unsafe fn write(bytes: &[u8]) {
                // SAFETY: defmt calls `write` only after `acquire`.
                unsafe { $crate::logger::write($base, bytes) };
            }
        }
    };
}

/// Microseconds since the generic counter started.
pub fn timestamp_microseconds() -> u64 {
    use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTPCT_EL0};
    kernel::hil::time::ticks_to_microseconds(CNTPCT_EL0.get(), CNTFRQ_EL0.get())
}

/// An encoder state, touched only by the core that holds `LOCK`, inside a
/// critical section.
struct LoggerState {
    encoder: UnsafeCell<defmt::Encoder>,
    restore: UnsafeCell<critical_section::RestoreState>,
}

// SAFETY: accessed only between `acquire` and `release`, by the core that
// holds `LOCK` (recorded in `OWNER`), with its interrupts masked.
unsafe impl Sync for LoggerState {}

impl LoggerState {
    const fn new() -> LoggerState {
        LoggerState {
            encoder: UnsafeCell::new(defmt::Encoder::new()),
            restore: UnsafeCell::new(critical_section::RestoreState::invalid()),
        }
    }
}

/// Serialises the cores' frames, at EL1 and EL2 alike (see the module's
/// documentation for why it is the kernel's).
static LOCK: BakeryLock<CORES> = BakeryLock::new();
/// The core that holds the logger, plus one (0: nobody).
static OWNER: AtomicU8 = AtomicU8::new(0);
/// The kernel's encoder state, in its own data.
static KERNEL: LoggerState = LoggerState::new();
/// Protected mode's EL2's encoder state, in EL2's private data.
#[link_section = ".data.el2.logger"]
static EL2: LoggerState = LoggerState::new();

/// The state of the exception level running.
///
/// The address goes through an empty `asm!` so that the compiler cannot
/// load from both states and pick one afterwards (it may, for two statics
/// it knows are there): at EL1 that load of EL2's state would fault, since
/// the kernel's stage 2 does not map EL2's memory.
fn state() -> &'static LoggerState {
    let current: u64;
    // SAFETY: reads CurrentEL; no memory is touched.
    unsafe { core::arch::asm!("mrs {}, CurrentEL", out(reg) current, options(nomem, nostack)) };
    let mut chosen: *const LoggerState = if (current >> 2) & 0b11 == 2 {
        &EL2
    } else {
        &KERNEL
    };
    // SAFETY: an empty instruction sequence; the pointer is unchanged.
    unsafe { core::arch::asm!("/* {0} */", inout(reg) chosen, options(nostack, preserves_flags)) };
    // SAFETY: `chosen` is one of the two statics, unchanged by the asm.
    unsafe { &*chosen }
}

/// This core's index (MPIDR Aff0), kept within the lock's table.
fn this_core() -> usize {
    use aarch64_cpu::registers::{Readable, MPIDR_EL1};
    ((MPIDR_EL1.get() & 0xff) as usize).min(CORES - 1)
}

/// Starts a frame on the PL011 at `base` (defmt's `Logger::acquire`).
pub fn acquire(base: usize) {
    let write_to_uart = |bytes: &[u8]| write_bytes_polled(base, bytes);
    // SAFETY: paired with the `critical_section::release` in `release`.
    let restore = unsafe { critical_section::acquire() };
    let core = this_core();
    if usize::from(OWNER.load(Ordering::Acquire)) == core + 1 {
        // Re-entered (a fault or panic while logging): end the broken
        // frame so the host decoder resynchronises, then start afresh.
        write_to_uart(&[0]);
    } else {
        // Not had within the bound: log anyway rather than hang.
        let _ = LOCK.lock_within(core, LOCK_SPIN_LIMIT);
        OWNER.store(core as u8 + 1, Ordering::Release);
    }
    let state = state();
    // SAFETY: we hold the critical section and the lock.
    unsafe {
        *state.restore.get() = restore;
        (*state.encoder.get()) = defmt::Encoder::new();
        (*state.encoder.get()).start_frame(write_to_uart);
    }
}

/// Ends the frame (defmt's `Logger::release`).
///
/// # Safety
///
/// Only after [`acquire`], with the same `base`.
pub unsafe fn release(base: usize) {
    let state = state();
    // SAFETY: the caller called `acquire`, so we hold the critical section
    // and the lock.
    unsafe {
        (*state.encoder.get()).end_frame(|bytes| write_bytes_polled(base, bytes));
        let restore = *state.restore.get();
        OWNER.store(0, Ordering::Release);
        LOCK.unlock(this_core());
        critical_section::release(restore);
    }
}

/// Encodes `bytes` into the frame (defmt's `Logger::write`).
///
/// # Safety
///
/// Only between [`acquire`] and [`release`], with the same `base`.
pub unsafe fn write(base: usize, bytes: &[u8]) {
    // SAFETY: as for `release`.
    unsafe { (*state().encoder.get()).write(bytes, |bytes| write_bytes_polled(base, bytes)) };
}
