#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`ErrorCode`] and the cells capsules use for interior mutability;
//! - [`static_init!`] and [`static_buf!`] for heap-free static allocation;
//! - [`component`]: the trait boards build and wire capsules with;
//! - [`deferred_call`]: callbacks are never issued from inside a downcall,
//!   pending work is serviced by the main loop;
//! - [`device_tree`]: the DRAM a flattened device tree describes, read
//!   with every offset checked;
//! - [`hil`]: the traits chips implement and capsules use;
//! - [`init_queue`]: the deferred-init queue that probes each component only
//!   when the readiness conditions it waits on have been signalled;
//! - [`main_loop`]: interrupts, deferred calls, the init queue, then sleep;
//! - [`page_pool`]: kernel-owned pages handed out as owned regions (to share
//!   with another world);
//! - [`virtual_alarm`]: several alarms on one hardware alarm.

#![no_std]

// Host unit tests use `std` (threads, `catch_unwind`, collections).
#[cfg(test)]
extern crate std;

pub mod cells;
pub mod component;
pub mod deferred_call;
pub mod device_tree;
pub mod errorcode;
pub mod hil;
pub mod init_queue;
pub mod main_loop;
pub mod page_pool;
pub mod platform;
pub mod utilities;
pub mod virtual_alarm;

pub use errorcode::ErrorCode;
