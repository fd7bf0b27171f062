#![doc = include_str!("../README.md")]
//!
//! ## Use
//!
//! ```ignore
//! let chip = kernel::static_init!(QemuVirt, QemuVirt::new());
//! chip.initialise();
//! ```

#![no_std]

pub mod chip;
pub mod memory_map;
pub mod platform;
pub mod psci;

pub use pl011;

// The kernel's defmt frames go to the non-secure PL011 (QEMU's first `-serial`).
pl011::defmt_global_logger!(memory_map::UART0_BASE);

pub use chip::QemuVirt;
