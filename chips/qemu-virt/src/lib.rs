//! The QEMU `virt` SoC (Armv8-A, GICv3): memory map, PL011 UART, interrupt
//! dispatch, PSCI power-off and the defmt logger on the non-secure UART.
//!
//! ```ignore
//! let chip = kernel::static_init!(QemuVirt, QemuVirt::new());
//! chip.initialise();
//! ```

#![no_std]

pub mod chip;
pub mod logger;
pub mod memory_map;
pub mod pl011;
pub mod psci;

pub use chip::QemuVirt;
