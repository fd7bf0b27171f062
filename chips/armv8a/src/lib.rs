#![doc = include_str!("../README.md")]
//!
//! ## Entry
//!
//! A board names its entry point with `entry!`, and the chip's memory
//! layout; the boot code maps the layout and calls the entry at EL1 with the
//! MMU and caches on, a stack, zeroed BSS and FP/SIMD enabled:
//!
//! ```ignore
//! armv8a::entry!(main, qemu_virt::memory_map::MEMORY_LAYOUT);
//! fn main(boot: armv8a::BootInfo) -> ! { /* wire the board */ }
//! ```

//!
//! ## Host tests
//!
//! The modules with assembly or system-register access build for AArch64
//! only; the rest (the GICv2 driver's register logic, the interrupt
//! controller interface, fault decoding) also builds on the host, where
//! `cargo test -p armv8a` runs their tests.

#![no_std]

#[cfg(test)]
extern crate std;

#[cfg(target_arch = "aarch64")]
pub mod boot;
#[cfg(target_arch = "aarch64")]
pub mod carve_out;
#[cfg(target_arch = "aarch64")]
pub mod conduit;
#[cfg(target_arch = "aarch64")]
pub mod critical_section_impl;
pub mod device_tree;
#[cfg(all(feature = "protected-mode", target_arch = "aarch64"))]
pub mod el2;
#[cfg(target_arch = "aarch64")]
pub mod exceptions;
pub mod fault_report;
pub mod gicv2;
#[cfg(target_arch = "aarch64")]
pub mod gicv3;
#[cfg(target_arch = "aarch64")]
pub mod image;
pub mod interrupt_controller;
pub mod mmu;
pub mod page_pool;
pub mod per_cpu;
#[cfg(target_arch = "aarch64")]
pub mod psci;
#[cfg(target_arch = "aarch64")]
pub mod semihosting;
pub mod shared_page;
#[cfg(target_arch = "aarch64")]
pub mod smp;
#[cfg(target_arch = "aarch64")]
pub mod timer;

#[cfg(target_arch = "aarch64")]
pub use boot::BootInfo;
