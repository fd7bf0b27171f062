#![doc = include_str!("../README.md")]
//!
//! ## Use
//!
//! ```ignore
//! // In the chip crate, once per image: defmt frames go to this UART.
//! pl011::defmt_global_logger!(memory_map::UART0_BASE);
//! // A driver for capsules (the transmit and receive HILs), its
//! // interrupt dispatched by the chip to `uart.handle_interrupt()`:
//! let uart = static_init!(Pl011, Pl011::new(memory_map::UART0_BASE));
//! uart.initialise();
//! uart.register();
//! ```
//!
//! The line settings (`line`) and the driver's logic also build on the host,
//! where `cargo test -p pl011` runs their tests; the logger is AArch64-only.

#![no_std]

pub mod line;
#[cfg(target_arch = "aarch64")]
pub mod logger;
pub mod uart;

pub use uart::{write_bytes_polled, Pl011};

// What `defmt_global_logger!` names, so the chip crate needs nothing more.
#[doc(hidden)]
pub use {aarch64_cpu, defmt};

#[cfg(test)]
extern crate std;
