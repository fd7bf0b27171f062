//! The partition's log on QEMU's secure PL011 (0x0904_0000, the runner's serial 1).
//!
//! Plain text, one line per message, `\r\n` line ends. The UART is the
//! secure world's: TF-A uses it only as its crash console.

use core::fmt::Write;

/// The secure PL011 on QEMU `virt`.
const SECURE_UART_BASE: usize = 0x0904_0000;
const DATA_REGISTER: usize = 0x000;
const FLAG_REGISTER: usize = 0x018;
const CONTROL_REGISTER: usize = 0x030;
const TRANSMIT_FIFO_FULL: u32 = 1 << 5;
/// UARTEN and TXE.
const ENABLE_TRANSMIT: u32 = (1 << 0) | (1 << 8);
/// Bound on waiting for room in the transmit FIFO; past it the byte is dropped.
const SPIN_LIMIT: u32 = 1_000_000;

fn register(offset: usize) -> *mut u32 {
    (SECURE_UART_BASE + offset) as *mut u32
}

/// Enables the UART's transmitter.
pub fn initialise() {
    // SAFETY: the secure PL011 is a device of QEMU virt at this address; the
    // partition runs with its MMU off, so the access is Device-nGnRnE, and
    // the register is 32-bit aligned.
    unsafe { core::ptr::write_volatile(register(CONTROL_REGISTER), ENABLE_TRANSMIT) };
}

fn write_byte(byte: u8) {
    let mut spins = 0;
    // SAFETY: as in `initialise`.
    while unsafe { core::ptr::read_volatile(register(FLAG_REGISTER)) } & TRANSMIT_FIFO_FULL != 0 {
        spins += 1;
        if spins >= SPIN_LIMIT {
            return;
        }
    }
    // SAFETY: as in `initialise`.
    unsafe { core::ptr::write_volatile(register(DATA_REGISTER), u32::from(byte)) };
}

/// The secure UART as a `core::fmt::Write` and a [`test_partition::service::Log`].
pub struct Uart;

impl Write for Uart {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for byte in text.bytes() {
            if byte == b'\n' {
                write_byte(b'\r');
            }
            write_byte(byte);
        }
        Ok(())
    }
}

impl test_partition::service::Log for Uart {
    fn line(&mut self, arguments: core::fmt::Arguments<'_>) {
        let _ = self.write_fmt(arguments);
        let _ = self.write_str("\n");
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
