//! The firmware's log on the secure PL011 (QEMU's second `-serial`).
//!
//! Plain text, one line per message, so a person can read it next to the
//! kernel's decoded log.
//!
//! ```ignore
//! console::print(format_args!("booting, config {}\n", mode));
//! ```

use core::fmt::Write;

/// The secure PL011 on QEMU `virt`.
const SECURE_UART_BASE: usize = 0x0904_0000;
const DATA_REGISTER: usize = 0x000;
const FLAG_REGISTER: usize = 0x018;
const CONTROL_REGISTER: usize = 0x030;
const TRANSMIT_FIFO_FULL: u32 = 1 << 5;
const SPIN_LIMIT: u32 = 1_000_000;

fn register(offset: usize) -> *mut u32 {
    (SECURE_UART_BASE + offset) as *mut u32
}

/// Enables the UART's transmitter.
pub fn initialise() {
    // SAFETY: the secure PL011 is a device of QEMU virt at this address,
    // used only by the firmware; MMIO is 32-bit aligned.
    unsafe { core::ptr::write_volatile(register(CONTROL_REGISTER), (1 << 0) | (1 << 8)) };
}

fn write_byte(byte: u8) {
    let mut spins = 0;
    // SAFETY: as in `initialise`.
    while unsafe { core::ptr::read_volatile(register(FLAG_REGISTER)) } & TRANSMIT_FIFO_FULL != 0
        && spins < SPIN_LIMIT
    {
        spins += 1;
    }
    // SAFETY: as in `initialise`.
    unsafe { core::ptr::write_volatile(register(DATA_REGISTER), byte as u32) };
}

struct SecureUart;

impl Write for SecureUart {
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

/// Prints formatted text.
pub fn print(arguments: core::fmt::Arguments) {
    let _ = SecureUart.write_fmt(arguments);
}

/// Prints a formatted line on the secure UART.
#[macro_export]
macro_rules! log {
    ($($argument:tt)*) => {
        $crate::console::print(format_args!("{}\n", format_args!($($argument)*)))
    };
}
