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
pub mod logger;
pub mod memory_map;
pub mod pl011;
pub mod psci;

pub use chip::QemuVirt;
