//! The firmware's log on the secure PL011 (QEMU's second `-serial`).
//!
//! Plain text, one line per message, so a person can read it next to the
//! kernel's decoded log.
//!
//! ```ignore
//! console::print(format_args!("booting, config {}\n", mode));
//! ```

use core::fmt::Write;

use pl011_console::Pl011Console;

/// The secure PL011 on QEMU `virt`.
// SAFETY: QEMU virt's secure PL011 is at 0x0904_0000; the firmware reaches
// it with the MMU off (device memory) and is the only one writing it while
// it runs.
const SECURE_UART: Pl011Console = unsafe { Pl011Console::new(0x0904_0000) };

/// Enables the UART's transmitter.
pub fn initialise() {
    SECURE_UART.enable_transmit();
}

/// Prints formatted text.
pub fn print(arguments: core::fmt::Arguments) {
    let mut uart = SECURE_UART;
    let _ = uart.write_fmt(arguments);
}

/// Prints a formatted line on the secure UART.
#[macro_export]
macro_rules! log {
    ($($argument:tt)*) => {
        $crate::console::print(format_args!("{}\n", format_args!($($argument)*)))
    };
}
