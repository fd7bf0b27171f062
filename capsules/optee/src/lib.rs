#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! Bottom up:
//!
//! - [`abi`]: OP-TEE's direct messages in registers, requests and checked answers;
//! - [`message`]: `struct optee_msg_arg` in the shared argument page;
//! - [`rpc`]: what each RPC asks and what the driver does;
//! - [`driver`]: probe, shared memory, the call slots and their exchanges;
//! - [`client`]: [`OpteeClient`], one capsule's TEE client (the HIL's `Tee`);
//! - [`enumeration`]: device enumeration at probe;
//! - [`self_test`]: checks against the model's test pseudo TA;
//! - [`console`]: the `optee` console command group;
//! - [`report`]: OP-TEE's part of the boot report.
//!
//! Boards wire it with `components::optee`.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod abi;
pub mod client;
pub mod console;
pub mod driver;
pub mod enumeration;
pub mod message;
pub mod report;
pub mod rpc;
pub mod self_test;

pub use client::OpteeClient;
pub use driver::{DriverState, OpteeDriver};
