#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`status`]: the error status codes `FFA_ERROR` carries in w2;
//! - [`function`]: the function identifiers that go in w0, with their
//!   names, and the SMCCC layout of an identifier;
//! - [`version`]: the `major << 16 | minor` version word;
//! - [`notification`]: notification bitmaps, flags and the `INFO_GET` layout;
//! - [`indirect`]: the indirect message header;
//! - [`test_services`]: the protocols of the model's test partitions;
//! - [`partition`]: endpoint IDs;
//! - [`uuid`]: UUIDs in their register and memory encodings;
//! - [`reply`]: reply classification, the first reading of every reply;
//! - [`memory_check`]: the direct-request protocol of the project's test
//!   partitions (echo, and the memory check), with its byte patterns;
//! - [`tpm_service`]: the TPM service over FF-A (Arm DEN0138) and the CRB
//!   register layout, shared by the kernel's TPM driver and the model's TPM.
//!
//! ```
//! use ffa_abi::{FunctionId, Status, Version};
//!
//! assert_eq!(Status::from_code(-6), Some(Status::Denied));
//! assert_eq!(FunctionId::Version.raw(), ffa_abi::function::FFA_VERSION);
//! assert_eq!(Version::V1_2.raw(), 0x0001_0002);
//! ```

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod function;
pub mod indirect;
pub mod memory_check;
pub mod notification;
pub mod partition;
pub mod reply;
pub mod status;
pub mod test_services;
pub mod tpm_service;
pub mod uuid;
pub mod version;

pub use function::{CallWidth, FunctionId};
pub use partition::PartitionId;
pub use reply::ReplyKind;
pub use status::Status;
pub use uuid::Uuid;
pub use version::{InvalidVersion, Version};
