//! The defmt global logger: frames go to a PL011, polled.
//!
//! Frames are rzcobs-encoded (defmt's default); the host runner decodes
//! them with the kernel ELF's string table. Logging works from any context,
//! including early boot and panics, because it writes the UART directly
//! inside a critical section. Timestamps are microseconds since boot from
//! the generic counter.
//!
//! Several cores may log (the boot core at EL1, any core at EL2 in
//! protected mode): a frame is written under a bakery lock (no exclusives,
//! as EL2 runs with its MMU off), so frames never interleave. A core that
//! re-enters the logger while it holds it (a fault or panic while logging)
//! ends the broken frame and carries on; a lock not had within its bound is
//! taken anyway rather than hang (a garbled frame beats a silent kernel).
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

/// The logger's state, touched only by the core that holds `LOCK`, inside
/// a critical section.
struct LoggerState {
    encoder: UnsafeCell<defmt::Encoder>,
    restore: UnsafeCell<critical_section::RestoreState>,
}

// SAFETY: accessed only between `acquire` and `release`, by the core that
// holds `LOCK` (recorded in `OWNER`), with its interrupts masked.
unsafe impl Sync for LoggerState {}

// Protected mode's EL2 logs through this logger too, so its state lies in
// EL2's data (`.bss.el2.*`/`.data.el2.*`, kept out of what the host may
// name as a buffer by the board's linker script).
#[link_section = ".bss.el2.logger_lock"]
static LOCK: BakeryLock<CORES> = BakeryLock::new();
/// The core that holds the logger, plus one (0: nobody).
#[link_section = ".bss.el2.logger_owner"]
static OWNER: AtomicU8 = AtomicU8::new(0);
#[link_section = ".data.el2.logger"]
static STATE: LoggerState = LoggerState {
    encoder: UnsafeCell::new(defmt::Encoder::new()),
    restore: UnsafeCell::new(critical_section::RestoreState::invalid()),
};

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
    // SAFETY: we hold the critical section and the lock.
    unsafe {
        *STATE.restore.get() = restore;
        (*STATE.encoder.get()) = defmt::Encoder::new();
        (*STATE.encoder.get()).start_frame(write_to_uart);
    }
}

/// Ends the frame (defmt's `Logger::release`).
///
/// # Safety
///
/// Only after [`acquire`], with the same `base`.
pub unsafe fn release(base: usize) {
    // SAFETY: the caller called `acquire`, so we hold the critical section
    // and the lock.
    unsafe {
        (*STATE.encoder.get()).end_frame(|bytes| write_bytes_polled(base, bytes));
        let restore = *STATE.restore.get();
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
    unsafe { (*STATE.encoder.get()).write(bytes, |bytes| write_bytes_polled(base, bytes)) };
}
