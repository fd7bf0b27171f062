//! Line settings: the baud-rate divisors and the 8N1 frame format, for
//! boards whose firmware does not leave the UART configured (or configures
//! it for another clock). QEMU ignores the divisors; a real PL011, such as
//! the Raspberry Pi 4's UART0 on its 48 MHz clock, needs them.
//!
//! ```ignore
//! // SAFETY: the BCM2711's UART0 is at 0xfe20_1000.
//! unsafe { pl011::line::configure(0xfe20_1000, 48_000_000, 115_200) }?;
//! ```

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields![u32,
    /// UARTFR.
    Flags [
        Busy OFFSET(3) NUMBITS(1) []
    ],
    /// UARTLCR_H.
    LineControl [
        WordLength OFFSET(5) NUMBITS(2) [EightBits = 0b11],
        EnableFifos OFFSET(4) NUMBITS(1) []
    ],
    /// UARTCR.
    Control [
        Enable OFFSET(0) NUMBITS(1) [],
        TransmitEnable OFFSET(8) NUMBITS(1) [],
        ReceiveEnable OFFSET(9) NUMBITS(1) []
    ]
];

register_structs! {
    /// The PL011 registers that set the line.
    LineRegisters {
        (0x000 => _data),
        (0x018 => flags: ReadOnly<u32, Flags::Register>),
        (0x01c => _reserved0),
        (0x024 => integer_divisor: ReadWrite<u32>),
        (0x028 => fractional_divisor: ReadWrite<u32>),
        (0x02c => line_control: ReadWrite<u32, LineControl::Register>),
        (0x030 => control: ReadWrite<u32, Control::Register>),
        (0x034 => _reserved1),
        (0x044 => interrupt_clear: WriteOnly<u32>),
        (0x048 => @END),
    }
}

/// Bound on waiting for the transmitter to finish before reprogramming.
const BUSY_SPIN_LIMIT: u32 = 1_000_000;

/// The baud-rate divisor of a PL011: `clock / (16 · baud)` as a 16-bit
/// integer part and a 6-bit fraction (in 64ths, rounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Divisor {
    /// UARTIBRD.
    pub integer: u16,
    /// UARTFBRD.
    pub fraction: u8,
}

impl Divisor {
    /// The divisor for `baud` on a `clock_hz` UART clock, or `None` if the
    /// PL011 cannot divide down to it (integer part 0 or above 65535).
    pub const fn for_rate(clock_hz: u32, baud: u32) -> Option<Divisor> {
        if baud == 0 {
            return None;
        }
        // In 64ths, rounded: 64 · clock / (16 · baud) = 4 · clock / baud.
        let sixty_fourths = (8 * clock_hz as u64 / baud as u64).div_ceil(2);
        let integer = sixty_fourths / 64;
        if integer == 0 || integer > u16::MAX as u64 {
            return None;
        }
        Some(Divisor {
            integer: integer as u16,
            fraction: (sixty_fourths % 64) as u8,
        })
    }

    /// The baud rate this divisor really gives on a `clock_hz` clock.
    pub fn actual_rate(&self, clock_hz: u32) -> u32 {
        let sixty_fourths = self.integer as u64 * 64 + self.fraction as u64;
        (4 * clock_hz as u64 / sixty_fourths) as u32
    }
}

/// Why the line could not be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum LineError {
    /// The clock cannot be divided down to the baud rate.
    UnreachableRate,
}

/// Sets the PL011 at `base` to `baud` (8N1, FIFOs on) on a `clock_hz`
/// UART clock and enables it for transmit and receive, in the order the
/// PL011 requires: disable, wait for the transmitter, divisors, then
/// `UARTLCR_H` (which latches them), then enable.
///
/// # Safety
///
/// A PL011 must be at `base`, mapped as device memory, and nothing may be
/// using it meanwhile.
pub unsafe fn configure(base: usize, clock_hz: u32, baud: u32) -> Result<Divisor, LineError> {
    let divisor = Divisor::for_rate(clock_hz, baud).ok_or(LineError::UnreachableRate)?;
    // SAFETY: the caller guarantees a PL011 at `base`, as device memory.
    let registers = unsafe { &*(base as *const LineRegisters) };
    registers.control.set(0);
    let mut spins = 0;
    while registers.flags.is_set(Flags::Busy) && spins < BUSY_SPIN_LIMIT {
        spins += 1;
    }
    registers.interrupt_clear.set(0x7ff);
    registers.integer_divisor.set(divisor.integer.into());
    registers.fractional_divisor.set(divisor.fraction.into());
    registers
        .line_control
        .write(LineControl::WordLength::EightBits + LineControl::EnableFifos::SET);
    registers
        .control
        .write(Control::Enable::SET + Control::TransmitEnable::SET + Control::ReceiveEnable::SET);
    Ok(divisor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raspberry_pi_uart_clock_gives_115200() {
        // 48 MHz / (16 · 115200) = 26.0417: IBRD 26, FBRD round(0.0417 · 64) = 3.
        let divisor = Divisor::for_rate(48_000_000, 115_200).unwrap();
        assert_eq!(
            divisor,
            Divisor {
                integer: 26,
                fraction: 3
            }
        );
        let actual = divisor.actual_rate(48_000_000);
        assert!((115_100..=115_200).contains(&actual), "{actual}");
    }

    #[test]
    fn exact_and_rounded_fractions() {
        // 3 MHz / (16 · 9375) = 20 exactly.
        assert_eq!(
            Divisor::for_rate(3_000_000, 9_375),
            Some(Divisor {
                integer: 20,
                fraction: 0
            })
        );
        // 24 MHz / (16 · 115200) = 13.0208: fraction 1.33 rounds to 1.
        assert_eq!(
            Divisor::for_rate(24_000_000, 115_200),
            Some(Divisor {
                integer: 13,
                fraction: 1
            })
        );
    }

    #[test]
    fn unreachable_rates_are_refused() {
        assert_eq!(Divisor::for_rate(48_000_000, 0), None);
        assert_eq!(Divisor::for_rate(1_000_000, 4_000_000), None);
        assert_eq!(Divisor::for_rate(u32::MAX, 1), None);
    }
}
