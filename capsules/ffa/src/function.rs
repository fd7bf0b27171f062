//! FF-A and SMCCC function identifiers, and the calling-convention widths.
//!
//! A function identifier goes in w0 of a call. 32-bit calls are
//! `0x8400_00NN`, 64-bit calls `0xC400_00NN`; the same `NN` names the same
//! ABI in both widths. The identifiers are the shared `ffa_abi::function`
//! table, re-exported here.
//!
//! ```
//! use capsule_ffa::function::FunctionId;
//!
//! assert_eq!(FunctionId::DirectRequest64.raw(), 0xC400_006F);
//! assert_eq!(FunctionId::from_raw(0x8400_0061), Some(FunctionId::Success32));
//! ```

/// The register width a call uses (shared through `ffa-abi`).
pub use ffa_abi::function::CallWidth;
/// An FF-A (or SMCCC) function identifier (shared through `ffa-abi`).
pub use ffa_abi::function::FunctionId;
