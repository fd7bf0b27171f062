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

/// The logger's state, touched only while `taken` is held inside a
/// critical section.
struct LoggerState {
    taken: AtomicBool,
    encoder: UnsafeCell<defmt::Encoder>,
    restore: UnsafeCell<critical_section::RestoreState>,
}

// SAFETY: accessed only between `acquire` and `release`, inside a critical
// section (interrupts masked on a single core), guarded by `taken`.
unsafe impl Sync for LoggerState {}

impl LoggerState {
    const fn new() -> LoggerState {
        LoggerState {
            taken: AtomicBool::new(false),
            encoder: UnsafeCell::new(defmt::Encoder::new()),
            restore: UnsafeCell::new(critical_section::RestoreState::invalid()),
        }
    }
}

/// The kernel's state, in its own data.
static KERNEL: LoggerState = LoggerState::new();

/// Protected mode's EL2 logs through this logger too, with a state of its
/// own in EL2's private data (`.data.el2.*`, which the host's stage 2 does
/// not map): nothing EL2 reads while it logs is the host's to change.
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
        let state = state();
        if state.taken.load(Ordering::Relaxed) {
            // Re-entered (a fault or panic while logging): end the broken
            // frame so the host decoder resynchronises, then start afresh.
            write_to_uart(&[0]);
        }
        state.taken.store(true, Ordering::Relaxed);
        // SAFETY: we hold the critical section and the `taken` flag.
        unsafe {
            *state.restore.get() = restore;
            (*state.encoder.get()) = defmt::Encoder::new();
            (*state.encoder.get()).start_frame(write_to_uart);
        }
    }

    unsafe fn flush() {}

    unsafe fn release() {
        let state = state();
        // SAFETY: defmt calls `release` only after `acquire`, so we hold the
        // critical section and the `taken` flag.
        unsafe {
            (*state.encoder.get()).end_frame(write_to_uart);
            state.taken.store(false, Ordering::Relaxed);
            critical_section::release(*state.restore.get());
        }
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: as for `release`.
        unsafe { (*state().encoder.get()).write(bytes, write_to_uart) };
    }
}
