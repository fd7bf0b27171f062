//! The defmt global logger: frames go to the non-secure PL011, polled.
//!
//! Frames are rzcobs-encoded (defmt's default); the host runner decodes
//! them with the kernel ELF's string table. Logging works from any context,
//! including early boot and panics, because it writes the UART directly
//! inside a critical section. Timestamps are microseconds since boot from
//! the generic counter.

use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTPCT_EL0};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::memory_map::UART0_BASE;
use crate::pl011::write_bytes_polled;

defmt::timestamp!("{=u64:us}", {
    let frequency = CNTFRQ_EL0.get().max(1);
    ((CNTPCT_EL0.get() as u128 * 1_000_000) / frequency as u128) as u64
});

/// The logger's state, touched only while `TAKEN` is held inside a
/// critical section.
struct LoggerState {
    encoder: UnsafeCell<defmt::Encoder>,
    restore: UnsafeCell<critical_section::RestoreState>,
}

// SAFETY: accessed only between `acquire` and `release`, inside a critical
// section (interrupts masked on a single core), guarded by `TAKEN`.
unsafe impl Sync for LoggerState {}

// Protected mode's EL2 logs through this logger too, so its state lies in
// EL2's data (`.bss.el2.*`/`.data.el2.*`, kept out of what the host may
// name as a buffer by the board's linker script).
#[link_section = ".bss.el2.logger"]
static TAKEN: AtomicBool = AtomicBool::new(false);
#[link_section = ".data.el2.logger"]
static STATE: LoggerState = LoggerState {
    encoder: UnsafeCell::new(defmt::Encoder::new()),
    restore: UnsafeCell::new(critical_section::RestoreState::invalid()),
};

fn write_to_uart(bytes: &[u8]) {
    write_bytes_polled(UART0_BASE, bytes);
}

#[defmt::global_logger]
struct Logger;

// SAFETY: `acquire` enters a critical section and marks the logger taken;
// `write`, `flush` and `release` are only called by defmt between
// `acquire` and `release`, so the state is never accessed concurrently.
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        // SAFETY: paired with the `release` call in `Logger::release`.
        let restore = unsafe { critical_section::acquire() };
        if TAKEN.load(Ordering::Relaxed) {
            // Re-entered (a fault or panic while logging): end the broken
            // frame so the host decoder resynchronises, then start afresh.
            write_to_uart(&[0]);
        }
        TAKEN.store(true, Ordering::Relaxed);
        // SAFETY: we hold the critical section and the `TAKEN` flag.
        unsafe {
            *STATE.restore.get() = restore;
            (*STATE.encoder.get()) = defmt::Encoder::new();
            (*STATE.encoder.get()).start_frame(write_to_uart);
        }
    }

    unsafe fn flush() {}

    unsafe fn release() {
        // SAFETY: defmt calls `release` only after `acquire`, so we hold the
        // critical section and the `TAKEN` flag.
        unsafe {
            (*STATE.encoder.get()).end_frame(write_to_uart);
            TAKEN.store(false, Ordering::Relaxed);
            critical_section::release(*STATE.restore.get());
        }
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: as for `release`.
        unsafe { (*STATE.encoder.get()).write(bytes, write_to_uart) };
    }
}
