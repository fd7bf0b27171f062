#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! The library holds everything the partition decides; it has no `unsafe`,
//! no heap and no hardware access, so it is unit- and property-tested on the
//! host. The binary (`src/main.rs`, `src/hardware/`) holds only what needs
//! the hardware: the entry code, the SMC conduit, the UART and the static
//! RX/TX pair.
//!
//! - [`abi`]: the register file of one SMC and how answers are read (the
//!   words are `ffa-abi`'s);
//! - [`boot_info`]: the FF-A boot information blob the SPMC passes in x0;
//! - [`descriptor`]: memory transaction descriptors (v1.0 and v1.1+ layouts),
//!   read with every offset and count checked, and the retrieve-request and
//!   relinquish descriptors the partition writes;
//! - [`fragments`]: reassembly of a descriptor the SPMC sends in fragments;
//! - [`pattern`]: the byte patterns the partition checks and writes;
//! - [`protocol`]: the direct-request protocol a normal-world driver uses to
//!   ask for a memory check (documented there), and the echo rule;
//! - [`service`]: the partition's request handling, generic over the SPMC,
//!   the RX/TX pair and physical memory.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod abi;
pub mod boot_info;
mod bytes;
pub mod descriptor;
pub mod fragments;
pub mod pattern;
pub mod protocol;
pub mod service;

#[cfg(test)]
mod fake_spmc;
