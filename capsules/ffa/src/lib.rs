#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! The layers, bottom up (each module uses only the ones above it in this
//! list, and the shared vocabulary of `ffa-abi`: IDs, statuses, UUIDs,
//! versions, reply classification):
//!
//! - [`error`]: [`ClientError`], why an operation failed;
//! - [`conduit`]: typed calls over the raw SMCCC registers, and reply decoding;
//! - [`version`]: `SMCCC_VERSION` and `FFA_VERSION` negotiation;
//! - [`partition`]: partition properties and descriptor layouts, by version;
//! - [`features`]: `FFA_FEATURES` and the RX/TX granule;
//! - [`mailbox`]: the RX/TX buffers, with ownership as guards;
//! - [`discovery`]: `FFA_PARTITION_INFO_GET` and `_GET_REGS`;
//! - [`messaging`]: direct requests, 32/64-bit and `REQ2`: encoding, and the
//!   state machine of one request (retries, resumptions, back-off);
//! - [`requests`]: split-phase direct requests, one vCPU's engine;
//! - [`notification_info`]: the answer of `FFA_NOTIFICATION_INFO_GET`;
//! - [`indirect`]: indirect message headers, by version;
//! - [`notifications`]: notifications and indirect messages for drivers, and the SRI;
//! - [`client`]: the core set-up and the operations, in one capsule;
//! - [`memory`]: the client's memory operations: sharing, lending and
//!   donating kernel-owned pages, in fragments when needed, and reclaiming
//!   them, with the ownership in types (the client holds its configuration
//!   and state);
//! - [`bus`]: the root device, partition devices and partition drivers on the init queue;
//! - [`readiness`]: polls until the secure monitor answers, then signals the init queue;
//! - [`report`]: the boot report;
//! - [`boot`]: boot completion: readiness and the queue done, the report logged;
//! - [`commands`]: the console's `ffa` commands (a `capsule_console` command group);
//! - [`drivers`]: partition drivers (the echo partitions, the notifier, the
//!   scheduling partition, memory checks).
//!
//! A board does not wire these by hand: `boards/components` has the
//! components that do (`components::ffa`, `components::ffa_async`,
//! `components::partition_driver`, `components::readiness`), and `boards/qemu-virt/src/main.rs` shows them
//! in use.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod boot;
pub mod bus;
pub mod client;
pub mod commands;
pub mod conduit;
pub mod discovery;
pub mod drivers;
pub mod error;
pub mod features;
pub mod indirect;
pub mod mailbox;
pub mod memory;
pub mod messaging;
pub mod notification_info;
pub mod notifications;
pub mod partition;
pub mod per_cpu;
pub mod readiness;
pub mod report;
pub mod requests;
pub mod version;

pub use bus::{
    BusIdleClient, DiscoveryObserver, DriverEntry, FfaBus, PartitionDriver, PartitionHandle,
};
pub use client::{ClientConfig, FfaClient, Session};
pub use error::ClientError;
/// The shared FF-A vocabulary this capsule speaks (IDs, statuses, UUIDs, versions).
pub use ffa_abi::{self, PartitionId, Status, Uuid, Version};
