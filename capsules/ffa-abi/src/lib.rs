//! The Arm FF-A (DEN0077A) ABI vocabulary: status codes, function identifiers and version numbers.
//!
//! Both of this project's FF-A implementations speak this vocabulary: the
//! client capsule (`capsule-ffa`) and the EL2 proxy's decision logic
//! (`ffa-proxy`). It is plain data with no behaviour beyond encoding and
//! decoding, so it has no `unsafe`, no heap and no dependency of the
//! project's own. The `defmt` feature adds `defmt::Format` to every type.
//!
//! - [`status`]: the error status codes `FFA_ERROR` carries in w2;
//! - [`function`]: the function identifiers that go in w0, with their names;
//! - [`version`]: the `major << 16 | minor` version word.
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
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod function;
pub mod status;
pub mod version;

pub use function::{CallWidth, FunctionId};
pub use status::Status;
pub use version::{InvalidVersion, Version};
