//! FF-A version numbers and the version negotiation state of the normal-world caller.
//!
//! Rules modelled (DEN0077A v1.2 §13.2):
//! * `FFA_VERSION` returns the callee's own version whatever the caller asks;
//!   a request with bit 31 set answers `NOT_SUPPORTED` (x0 = -1).
//! * A request with the same major version as the SPMC records the caller's
//!   version; the negotiated version is min(caller, SPMC). A request with a
//!   different major version is answered but not recorded (the caller sees the
//!   mismatch and must stop).
//! * Calls made before any `FFA_VERSION` are allowed and treated as coming from
//!   a v1.0 caller (the base ABI every caller implements).
//! * The version is fixed by the first FF-A call other than `FFA_VERSION`;
//!   afterwards an `FFA_VERSION` asking for a different version answers
//!   `NOT_SUPPORTED`, one asking for the same version succeeds.

use core::fmt;

/// An FF-A version: `major << 16 | minor` with bit 31 zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version (15 bits).
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl Version {
    /// FF-A v1.0.
    pub const V1_0: Version = Version::new(1, 0);
    /// FF-A v1.1.
    pub const V1_1: Version = Version::new(1, 1);
    /// FF-A v1.2.
    pub const V1_2: Version = Version::new(1, 2);

    /// A version from its parts.
    pub const fn new(major: u16, minor: u16) -> Version {
        Version { major, minor }
    }

    /// The register encoding `major << 16 | minor` (bit 31 forced to zero).
    pub const fn encode(self) -> u32 {
        ((self.major as u32 & 0x7FFF) << 16) | self.minor as u32
    }

    /// Decode a register value; `None` when bit 31 is set.
    pub const fn decode(value: u32) -> Option<Version> {
        if value & (1 << 31) != 0 {
            None
        } else {
            Some(Version::new((value >> 16) as u16, value as u16))
        }
    }

    /// Whether a caller of this version can talk to a callee of `other` (same major).
    pub const fn is_compatible_with(self, other: Version) -> bool {
        self.major == other.major
    }
}

impl fmt::Display for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.major, self.minor)
    }
}

/// What `FFA_VERSION` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionAnswer {
    /// x0 = this encoded version.
    Version(u32),
    /// x0 = -1 (`NOT_SUPPORTED`).
    NotSupported,
}

/// The version negotiation state of the normal-world caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiation {
    requested: Option<Version>,
    fixed: bool,
}

impl Negotiation {
    pub(crate) const fn new() -> Negotiation {
        Negotiation {
            requested: None,
            fixed: false,
        }
    }

    /// Handle `FFA_VERSION` with w1 = `requested`, for an SPMC of version `own`.
    pub(crate) fn answer(&mut self, requested: u32, own: Version) -> VersionAnswer {
        let Some(requested) = Version::decode(requested) else {
            return VersionAnswer::NotSupported;
        };
        if !requested.is_compatible_with(own) {
            return VersionAnswer::Version(own.encode());
        }
        if self.fixed && requested != self.caller_version() {
            return VersionAnswer::NotSupported;
        }
        self.requested = Some(requested);
        VersionAnswer::Version(own.encode())
    }

    /// Record that an FF-A call other than `FFA_VERSION` was made: the version is now fixed.
    pub(crate) fn fix(&mut self) {
        self.fixed = true;
    }

    /// The version the caller last asked for, if it ever asked.
    pub(crate) fn requested(&self) -> Option<Version> {
        self.requested
    }

    /// The version the caller asked for, or v1.0 if it never asked.
    pub(crate) fn caller_version(&self) -> Version {
        self.requested.unwrap_or(Version::V1_0)
    }

    /// The version whose rules and layouts apply: min(caller, SPMC).
    pub(crate) fn negotiated(&self, own: Version) -> Version {
        self.caller_version().min(own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        assert_eq!(Version::V1_2.encode(), 0x1_0002);
        assert_eq!(Version::decode(0x1_0001), Some(Version::V1_1));
        assert_eq!(Version::decode(0x8001_0000), None);
    }

    #[test]
    fn ordering_is_major_then_minor() {
        assert!(Version::new(1, 9) < Version::new(2, 0));
        assert_eq!(Version::V1_2.min(Version::V1_0), Version::V1_0);
    }

    #[test]
    fn negotiation_fixes_after_other_calls() {
        let mut negotiation = Negotiation::new();
        assert_eq!(negotiation.caller_version(), Version::V1_0);
        assert_eq!(
            negotiation.answer(0x1_0001, Version::V1_2),
            VersionAnswer::Version(0x1_0002)
        );
        assert_eq!(negotiation.negotiated(Version::V1_2), Version::V1_1);
        negotiation.fix();
        assert_eq!(
            negotiation.answer(0x1_0002, Version::V1_2),
            VersionAnswer::NotSupported
        );
        assert_eq!(
            negotiation.answer(0x1_0001, Version::V1_2),
            VersionAnswer::Version(0x1_0002)
        );
    }
}
