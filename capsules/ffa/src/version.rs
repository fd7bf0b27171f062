//! SMCCC and FF-A version checks, and FF-A version negotiation.
//!
//! FF-A passes arguments in x0–x17, which needs SMCCC v1.2. The FF-A version
//! is negotiated before any other FF-A call: the caller sends the version it
//! implements, the callee answers with its own, and when the majors match
//! both use the smaller one. The result is a [`NegotiatedVersion`], which
//! only [`negotiate`] can create; everything whose layout depends on the
//! version takes one, so a layout can never be chosen from a guess. The
//! version word itself is the shared [`ffa_abi::Version`].
//!
//! ```
//! use capsule_ffa::version::SupportedVersion;
//! use ffa_abi::Version;
//!
//! assert_eq!(Version::from_raw(0x0001_0002), Ok(Version::new(1, 2)));
//! assert!(Version::from_raw(0x8001_0002).is_err()); // bit 31 set
//! assert_eq!(SupportedVersion::V1_2.version().raw(), 0x0001_0002);
//! ```
//!
//! A negotiated version cannot be made up:
//!
//! ```compile_fail,E0451
//! use capsule_ffa::version::{NegotiatedVersion, SupportedVersion};
//! let forged = NegotiatedVersion { version: SupportedVersion::V1_2 };
//! ```
//!
//! and negotiation needs the proof that SMCCC v1.2 was checked first:
//!
//! ```compile_fail,E0451
//! use capsule_ffa::conduit::FfaConduit;
//! use capsule_ffa::version::{self, Smccc12, SupportedVersion};
//! use ffa_abi::Version;
//! fn skip_the_check(conduit: &FfaConduit<'_>) {
//!     let unchecked = Smccc12 { version: Version::new(1, 2) };
//!     let _ = version::negotiate(conduit, &unchecked, SupportedVersion::V1_2);
//! }
//! ```

use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use ffa_abi::{FunctionId, Status, Version};
use kernel::hil::smccc::SmcccRegisters;

/// The FF-A versions whose layouts this capsule implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, defmt::Format)]
pub enum SupportedVersion {
    /// FF-A v1.0: 8-byte partition descriptors, no UUIDs in discovery.
    V1_0,
    /// FF-A v1.1: 24-byte descriptors with UUIDs, count-only discovery.
    V1_1,
    /// FF-A v1.2: adds `DIRECT_REQ2` and `PARTITION_INFO_GET_REGS`.
    V1_2,
}

impl SupportedVersion {
    /// The newest version this capsule implements.
    pub const NEWEST: SupportedVersion = SupportedVersion::V1_2;

    /// The version number.
    pub const fn version(self) -> Version {
        match self {
            SupportedVersion::V1_0 => Version::new(1, 0),
            SupportedVersion::V1_1 => Version::new(1, 1),
            SupportedVersion::V1_2 => Version::new(1, 2),
        }
    }

    /// The supported version a v1.x number maps to: itself, or the newest
    /// supported one below it for minors this capsule does not know.
    const fn from_minor(minor: u16) -> SupportedVersion {
        match minor {
            0 => SupportedVersion::V1_0,
            1 => SupportedVersion::V1_1,
            _ => SupportedVersion::V1_2,
        }
    }
}

/// Proof that the conduit speaks SMCCC v1.2 or later; only [`check_smccc`] creates one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Smccc12 {
    version: Version,
}

impl Smccc12 {
    /// The SMCCC version the callee reported.
    pub const fn version(&self) -> Version {
        self.version
    }
}

/// The FF-A version both sides agreed on; only [`negotiate`] creates one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct NegotiatedVersion {
    version: SupportedVersion,
}

impl NegotiatedVersion {
    /// The agreed version.
    pub const fn supported(&self) -> SupportedVersion {
        self.version
    }

    /// The agreed version number.
    pub const fn version(&self) -> Version {
        self.version.version()
    }

    /// Whether the agreed version is `minimum` or newer.
    pub fn at_least(&self, minimum: SupportedVersion) -> bool {
        self.version >= minimum
    }
}

/// What an `SMCCC_VERSION` reply means.
pub fn decode_smccc_version(x0: u64) -> Result<Smccc12, ClientError> {
    let word = x0 as u32;
    if word & 0x8000_0000 != 0 {
        // NOT_SUPPORTED: the firmware only implements SMCCC v1.0.
        return Err(ClientError::SmcccTooOld { major: 1, minor: 0 });
    }
    let version = Version::new((word >> 16) as u16, word as u16);
    if version < Version::new(1, 2) {
        return Err(ClientError::SmcccTooOld {
            major: version.major(),
            minor: version.minor(),
        });
    }
    Ok(Smccc12 { version })
}

/// Calls `SMCCC_VERSION` and requires v1.2 or later.
pub fn check_smccc(conduit: &FfaConduit<'_>) -> Result<Smccc12, ClientError> {
    let registers = conduit.call_raw(&Request::new(FunctionId::SmcccVersion));
    let result = decode_smccc_version(registers.x[0]);
    if let Err(ClientError::SmcccTooOld { major, minor }) = result {
        defmt::error!("ffa: SMCCC {=u16}.{=u16} is older than 1.2", major, minor);
    }
    result
}

/// How the callee answered `FFA_VERSION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum VersionAnswer {
    /// The callee's version.
    Version(Version),
    /// A status code: `NOT_SUPPORTED` (FF-A absent), `NOT_READY`, `BUSY`, ...
    Status(Status),
}

/// Decodes an `FFA_VERSION` reply: a version in w0, a bare negative status in
/// w0 (`NOT_SUPPORTED` is -1, often all of x0), or, from some callees while
/// they boot, `FFA_ERROR` with the status in w2.
pub fn decode_version_answer(registers: &SmcccRegisters) -> VersionAnswer {
    let word = registers.x[0] as u32;
    if word == FunctionId::Error.raw() {
        let code = registers.x[2] as u32 as i32;
        return VersionAnswer::Status(Status::from_code(code).unwrap_or(Status::Unknown(code)));
    }
    if word & 0x8000_0000 != 0 {
        VersionAnswer::Status(
            Status::from_code(word as i32).unwrap_or(Status::Unknown(word as i32)),
        )
    } else {
        VersionAnswer::Version(Version::new((word >> 16) as u16, word as u16))
    }
}

/// Sends `FFA_VERSION` with `requested` and returns the answer, undecided.
pub fn query_version(conduit: &FfaConduit<'_>, requested: SupportedVersion) -> VersionAnswer {
    let request = Request::new(FunctionId::Version).with(1, requested.version().raw() as u64);
    decode_version_answer(&conduit.call_raw(&request))
}

/// Chooses the version to use given what the callee reported.
pub fn agree(
    requested: SupportedVersion,
    callee: Version,
) -> Result<NegotiatedVersion, ClientError> {
    if !callee.is_compatible() {
        defmt::error!(
            "ffa: callee speaks FF-A {=u16}.{=u16}, this capsule only v1.x",
            callee.major(),
            callee.minor()
        );
        return Err(ClientError::IncompatibleVersion {
            requested: requested.version(),
            callee,
        });
    }
    let callee_supported = SupportedVersion::from_minor(callee.minor());
    let version = if callee_supported < requested {
        callee_supported
    } else {
        requested
    };
    Ok(NegotiatedVersion { version })
}

/// Negotiates the FF-A version: must come before any other FF-A call.
pub fn negotiate(
    conduit: &FfaConduit<'_>,
    _smccc: &Smccc12,
    requested: SupportedVersion,
) -> Result<NegotiatedVersion, ClientError> {
    match query_version(conduit, requested) {
        VersionAnswer::Version(callee) => {
            let negotiated = agree(requested, callee)?;
            defmt::info!(
                "ffa: requested v{=u16}.{=u16}, callee v{=u16}.{=u16}, using v{=u16}.{=u16}",
                requested.version().major(),
                requested.version().minor(),
                callee.major(),
                callee.minor(),
                negotiated.version().major(),
                negotiated.version().minor()
            );
            Ok(negotiated)
        }
        VersionAnswer::Status(status) => {
            defmt::error!("ffa: FFA_VERSION failed: {}", status);
            Err(ClientError::Status(status))
        }
    }
}
