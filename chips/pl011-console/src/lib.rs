#![doc = include_str!("../README.md")]
//!
//! ```no_run
//! use core::fmt::Write;
//! use pl011_console::Pl011Console;
//!
//! // SAFETY: QEMU virt's secure PL011 is at 0x0904_0000, as device memory.
//! const UART: Pl011Console = unsafe { Pl011Console::new(0x0904_0000) };
//! UART.enable_transmit();
//! let mut uart = UART;
//! let _ = writeln!(uart, "[fw] booting");
//! ```

#![no_std]

use core::fmt;

/// UARTDR: the data register.
const DATA_REGISTER: usize = 0x000;
/// UARTFR: the flag register.
const FLAG_REGISTER: usize = 0x018;
/// UARTCR: the control register.
const CONTROL_REGISTER: usize = 0x030;
/// UARTFR.TXFF: the transmit FIFO is full.
const TRANSMIT_FIFO_FULL: u32 = 1 << 5;
/// UARTCR.UARTEN and UARTCR.TXE.
const ENABLE_TRANSMIT: u32 = (1 << 0) | (1 << 8);
/// Bound on polling a full transmit FIFO for one byte; past it the byte is dropped.
pub const SPIN_LIMIT: u32 = 1_000_000;

/// A PL011 used for polled text output.
#[derive(Clone, Copy, Debug)]
pub struct Pl011Console {
    base: usize,
}

impl Pl011Console {
    /// The PL011 whose registers start at `base`.
    ///
    /// # Safety
    ///
    /// A PL011 must be at `base`, mapped as device memory (or reached with
    /// the MMU off), and nothing else may drive its transmitter in a way
    /// these writes would disturb.
    pub const unsafe fn new(base: usize) -> Pl011Console {
        Pl011Console { base }
    }

    fn register(self, offset: usize) -> *mut u32 {
        (self.base + offset) as *mut u32
    }

    /// Enables the UART and its transmitter.
    pub fn enable_transmit(self) {
        // SAFETY: `new`'s contract: a PL011 is at `base`; UARTCR is a
        // 32-bit aligned register of it.
        unsafe { core::ptr::write_volatile(self.register(CONTROL_REGISTER), ENABLE_TRANSMIT) };
    }

    /// Writes one byte once the transmit FIFO has room; drops it if the
    /// FIFO stays full for [`SPIN_LIMIT`] polls.
    pub fn write_byte(self, byte: u8) {
        let mut spins = 0;
        // SAFETY: as in `enable_transmit` (UARTFR).
        while unsafe { core::ptr::read_volatile(self.register(FLAG_REGISTER)) } & TRANSMIT_FIFO_FULL
            != 0
        {
            spins += 1;
            if spins >= SPIN_LIMIT {
                return;
            }
        }
        // SAFETY: as in `enable_transmit` (UARTDR).
        unsafe { core::ptr::write_volatile(self.register(DATA_REGISTER), u32::from(byte)) };
    }
}

/// Calls `put` with each byte of `text`, `\n` becoming `\r\n`.
fn for_each_terminal_byte(text: &str, mut put: impl FnMut(u8)) {
    for byte in text.bytes() {
        if byte == b'\n' {
            put(b'\r');
        }
        put(byte);
    }
}

impl fmt::Write for Pl011Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for_each_terminal_byte(text, |byte| self.write_byte(byte));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_carriage_return_line_feed() {
        let mut bytes = [0u8; 16];
        let mut length = 0;
        for_each_terminal_byte("a\nbc\n", |byte| {
            bytes[length] = byte;
            length += 1;
        });
        assert_eq!(&bytes[..length], b"a\r\nbc\r\n");
    }
}
