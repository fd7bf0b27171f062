//! The newest FF-A version the proxy implements (the version word is the shared [`ffa_abi::Version`]).
//!
//! ```
//! use capsule_ffa_proxy::version::PROXY_HIGHEST;
//! use ffa_abi::Version;
//!
//! assert_eq!(PROXY_HIGHEST, Version::V1_2);
//! ```

use ffa_abi::Version;

/// The newest version the proxy implements, and the one it asks the
/// monitor for during finalisation.
pub const PROXY_HIGHEST: Version = Version::V1_2;
