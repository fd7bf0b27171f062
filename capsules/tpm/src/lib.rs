#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`tpm2`]: TPM 2.0 commands and strictly parsed responses (pure);
//! - [`event_log`]: the TCG crypto-agile event log, written and read back,
//!   and its replay (pure);
//! - [`service`]: the TPM service over FF-A (DEN0138), one split-phase direct request a call;
//! - [`crb`]: the CRB in the chip's MMIO window, and what is checked in it;
//! - [`driver`]: [`TpmCrbFfa`], the partition driver and the TPM HIL;
//! - [`mux`]: several users of one TPM, each a TPM on the HIL;
//! - [`startup`]: [`TpmStartup`], the TPM's bring-up over the HIL (the `tpm` entry);
//! - [`measured_boot`]: [`MeasuredBoot`], measurement, the log, replay and
//!   verification (the `measured-boot` entry, a boot report section);
//! - [`commands`]: what the console's `tpm` commands do;
//! - [`hex`]: bytes as hexadecimal in log lines.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod commands;
pub mod crb;
pub mod driver;
pub mod event_log;
pub mod hex;
pub mod measured_boot;
pub mod mux;
pub mod service;
pub mod startup;
pub mod tpm2;

pub use driver::TpmCrbFfa;
pub use measured_boot::MeasuredBoot;
pub use startup::TpmStartup;
