//! The Arm FF-A (Firmware Framework for A-profile, DEN0077A) client capsule and the FF-A bus.
//!
//! The layers, bottom up:
//!
//! - [`function`], [`error`], [`uuid`], [`partition`]: function IDs, errors, UUIDs and
//!   partition descriptors, the vocabulary of the layers above;
//! - [`conduit`]: typed calls over the raw SMCCC registers, and reply decoding;
//! - [`version`]: `SMCCC_VERSION` and `FFA_VERSION` negotiation;
//! - [`features`]: `FFA_FEATURES` and the RX/TX granule;
//! - [`mailbox`]: the RX/TX buffers, with ownership as guards;
//! - [`discovery`]: `FFA_PARTITION_INFO_GET` and `_GET_REGS`;
//! - [`messaging`]: direct requests, 32/64-bit and `REQ2`, with bounded retries;
//! - [`client`]: the core set-up and the operations, in one capsule;
//! - [`bus`]: the root device, partition devices and partition drivers on the init queue;
//! - [`readiness`]: polls until the secure monitor answers, then signals the init queue;
//! - [`report`]: the boot report;
//! - [`drivers`]: partition drivers (the test firmware's echo partition).
//!
//! A board wires it like this (see each module for details):
//!
//! ```ignore
//! let client = static_init!(FfaClient<'static>, FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT));
//! let monitor_ready = queue.declare_condition("secure-monitor-ready")?;
//! let root_ready = queue.declare_condition("ffa-root-ready")?;
//! let bus = static_init!(FfaBus<'static, 8>, FfaBus::new(client, queue, ConditionSet::of(monitor_ready)));
//! queue.add("arm-ffa", bus, Some(root_ready))?;
//! let echo = static_init!(EchoDriver<'static>, EchoDriver::new());
//! let echo_entry = static_init!(DriverEntry<'static>, DriverEntry::new(bus, echo, root_ready));
//! queue.add("ffa-echo", echo_entry, None)?;
//! let readiness = static_init!(MonitorReadiness<'static, Alarm>, MonitorReadiness::new(
//!     alarm, conduit, queue, monitor_ready, ReadinessConfig::matching(client.config())));
//! alarm.set_alarm_client(readiness);
//! readiness.set_client(board); // board.deadline_expired() calls queue.expire()
//! readiness.start()?;
//! // InitQueueClient::settled() on the board:
//! report::log_boot_report(bus);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bus;
pub mod client;
pub mod conduit;
pub mod discovery;
pub mod drivers;
pub mod error;
pub mod features;
pub mod function;
pub mod mailbox;
pub mod messaging;
pub mod partition;
pub mod readiness;
pub mod report;
pub mod uuid;
pub mod version;

pub use bus::{DriverEntry, FfaBus, PartitionDriver, PartitionHandle};
pub use client::{ClientConfig, FfaClient, Session};
pub use error::{FfaError, FfaStatus};
pub use uuid::Uuid;
