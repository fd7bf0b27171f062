//! The version negotiation state of the normal-world caller (the version word is the shared [`ffa_abi::Version`]).
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

use ffa_abi::Version;

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
        let Ok(requested) = Version::from_raw(requested) else {
            return VersionAnswer::NotSupported;
        };
        if !requested.is_compatible_with(own) {
            return VersionAnswer::Version(own.raw());
        }
        if self.fixed && requested != self.caller_version() {
            return VersionAnswer::NotSupported;
        }
        self.requested = Some(requested);
        VersionAnswer::Version(own.raw())
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
