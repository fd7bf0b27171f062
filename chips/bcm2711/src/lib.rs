#![doc = include_str!("../README.md")]
//!
//! ## Use
//!
//! ```ignore
//! bcm2711::console::initialise()?;              // before the first log line
//! let platform = bcm2711::platform::Platform::discover(boot.device_tree_address);
//! let chip = kernel::static_init!(Bcm2711, Bcm2711::new());
//! chip.initialise();
//! let conduit = platform.monitor_conduit();    // SMC, HVC, or no monitor
//! ```

#![no_std]

#[cfg(test)]
extern crate std;

#[cfg(target_arch = "aarch64")]
pub mod chip;
#[cfg(target_arch = "aarch64")]
pub mod console;
pub mod gpio;
pub mod memory_map;
pub mod platform;
pub mod power;

#[cfg(target_arch = "aarch64")]
pub use chip::Bcm2711;

// The kernel's defmt frames go to UART0, the console on GPIO 14/15.
#[cfg(target_arch = "aarch64")]
pl011::defmt_global_logger!(memory_map::UART0_BASE);
