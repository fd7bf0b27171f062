#![doc = include_str!("../README.md")]
//!
//! ## Entry
//!
//! A board names its entry point with [`entry!`]; the boot code calls it at
//! EL1 with the MMU and caches on, a stack, zeroed BSS and FP/SIMD enabled:
//!
//! ```ignore
//! armv8a::entry!(main);
//! fn main(boot: armv8a::BootInfo) -> ! { /* wire the board */ }
//! ```

#![no_std]

pub mod boot;
pub mod carve_out;
pub mod conduit;
pub mod critical_section_impl;
#[cfg(feature = "protected-mode")]
pub mod el2;
pub mod exceptions;
pub mod fault_report;
pub mod gicv3;
pub mod image;
pub mod mmu;
pub mod page_pool;
pub mod shared_page;
pub mod timer;

pub use boot::BootInfo;
