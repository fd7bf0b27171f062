//! FF-A version numbers (the shared `ffa_abi::Version`) and the newest one the proxy implements.
//!
//! ```
//! use ffa_proxy::version::{self, Version};
//!
//! assert_eq!(version::PROXY_HIGHEST, Version::V1_2);
//! assert_eq!(Version::from_raw(0x0001_0002), Ok(version::PROXY_HIGHEST));
//! ```

/// An FF-A version: `major << 16 | minor`, bit 31 zero (shared through `ffa-abi`).
pub use ffa_abi::version::Version;

/// The newest version the proxy implements, and the one it asks the
/// monitor for during finalisation.
pub const PROXY_HIGHEST: Version = Version::V1_2;
