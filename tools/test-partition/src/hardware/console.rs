//! The partition's log on QEMU's secure PL011 (0x0904_0000, the runner's serial 1).
//!
//! Plain text, one line per message, `\r\n` line ends. The UART is the
//! secure world's: TF-A uses it only as its crash console.

use core::fmt::Write;

use pl011_console::Pl011Console;

/// The secure PL011 on QEMU `virt`.
// SAFETY: QEMU virt's secure PL011 is at 0x0904_0000; the partition runs
// with its MMU off, so the accesses are Device-nGnRnE. TF-A uses the UART
// only as its crash console.
const SECURE_UART: Pl011Console = unsafe { Pl011Console::new(0x0904_0000) };

/// Enables the UART's transmitter.
pub fn initialise() {
    SECURE_UART.enable_transmit();
}

/// The secure UART as a [`test_partition::service::Log`].
pub struct Uart;

impl test_partition::service::Log for Uart {
    fn line(&mut self, arguments: core::fmt::Arguments<'_>) {
        let mut uart = SECURE_UART;
        let _ = uart.write_fmt(arguments);
        let _ = uart.write_str("\n");
    }
}

/// Writes a formatted line on the secure UART.
macro_rules! log {
    ($($argument:tt)*) => {
        test_partition::service::Log::line(
            &mut $crate::hardware::console::Uart,
            format_args!($($argument)*),
        )
    };
}
