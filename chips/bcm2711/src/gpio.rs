//! GPIO: the console's pins. GPIO 14 (TXD0) and 15 (RXD0) take function
//! ALT0, which connects them to UART0; TX has no pull, RX a pull-up (what
//! Linux sets), through the BCM2711's pull register (the BCM2835's
//! `GPPUD` clock dance does not apply to the Pi 4).

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    /// The GPIO registers the console needs.
    GpioRegisters {
        (0x00 => _function_select0),
        (0x04 => function_select1: ReadWrite<u32>),
        (0x08 => _reserved0),
        (0xe4 => pull_control0: ReadWrite<u32>),
        (0xe8 => @END),
    }
}

/// Function code ALT0 in a 3-bit `GPFSEL` field.
const ALT0: u32 = 0b100;
/// Pull code "none" in a 2-bit pull field (BCM2711 encoding).
const PULL_NONE: u32 = 0b00;
/// Pull code "up" in a 2-bit pull field (BCM2711 encoding).
const PULL_UP: u32 = 0b01;
/// The console's pins.
const TRANSMIT_PIN: u32 = 14;
const RECEIVE_PIN: u32 = 15;

/// The shift of a pin's 3-bit field in `GPFSEL1` (pins 10–19).
const fn function_field(pin: u32) -> u32 {
    (pin - 10) * 3
}

/// The shift of a pin's 2-bit field in `GPIO_PUP_PDN_CNTRL_REG0` (pins 0–15).
const fn pull_field(pin: u32) -> u32 {
    pin * 2
}

/// `GPFSEL1` with GPIO 14 and 15 in ALT0, every other pin unchanged.
pub const fn uart0_function_select(current: u32) -> u32 {
    let (transmit, receive) = (function_field(TRANSMIT_PIN), function_field(RECEIVE_PIN));
    let mask = (0b111 << transmit) | (0b111 << receive);
    (current & !mask) | (ALT0 << transmit) | (ALT0 << receive)
}

/// `GPIO_PUP_PDN_CNTRL_REG0` with no pull on GPIO 14 and a pull-up on 15.
pub const fn uart0_pulls(current: u32) -> u32 {
    let (transmit, receive) = (pull_field(TRANSMIT_PIN), pull_field(RECEIVE_PIN));
    let mask = (0b11 << transmit) | (0b11 << receive);
    (current & !mask) | (PULL_NONE << transmit) | (PULL_UP << receive)
}

/// Connects GPIO 14/15 to UART0.
///
/// # Safety
///
/// The BCM2711's GPIO block must be at `base`, as device memory.
pub unsafe fn select_uart0_pins(base: usize) {
    // SAFETY: the caller guarantees the GPIO block at `base`.
    let registers = unsafe { &*(base as *const GpioRegisters) };
    registers
        .function_select1
        .set(uart0_function_select(registers.function_select1.get()));
    registers
        .pull_control0
        .set(uart0_pulls(registers.pull_control0.get()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_14_and_15_take_alt0_and_nothing_else_changes() {
        // What QEMU reads back after the firmware's defaults (all inputs).
        assert_eq!(uart0_function_select(0), 0x0002_4000);
        // GPIO 10-13 and 16-19 as outputs (001) stay outputs.
        let others = 0b001_001_000_000_001_001_001_001;
        assert_eq!(
            uart0_function_select(others | (0b111 << 12)),
            others | 0x0002_4000
        );
    }

    #[test]
    fn transmit_floats_and_receive_is_pulled_up() {
        assert_eq!(uart0_pulls(0), 0b01 << 30);
        assert_eq!(uart0_pulls(u32::MAX), 0x0fff_ffff | (0b01 << 30));
    }
}
