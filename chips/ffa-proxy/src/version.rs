//! FF-A version numbers: `major << 16 | minor`, bit 31 zero.
//!
//! ```
//! use ffa_proxy::Version;
//!
//! assert_eq!(Version::decode(0x0001_0002), Some(Version::V1_2));
//! assert_eq!(Version::decode(0x8001_0002), None); // bit 31 must be zero
//! assert_eq!(Version::V1_1.encode(), 0x0001_0001);
//! assert!(Version::V1_0 < Version::V1_2);
//! ```

/// An FF-A version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    /// The newest version the proxy implements, and the one it asks the
    /// monitor for during finalisation.
    pub const PROXY_HIGHEST: Version = Version::V1_2;

    /// A version from its parts.
    pub const fn new(major: u16, minor: u16) -> Version {
        Version { major, minor }
    }

    /// The register form, `major << 16 | minor` (bit 31 forced to zero).
    pub const fn encode(self) -> u32 {
        ((self.major as u32 & 0x7FFF) << 16) | self.minor as u32
    }

    /// Decodes a register value; `None` when bit 31 is set (not a version).
    pub const fn decode(value: u32) -> Option<Version> {
        if value & (1 << 31) != 0 {
            None
        } else {
            Some(Version::new((value >> 16) as u16, value as u16))
        }
    }

    /// Whether the proxy speaks this major version (only 1 exists).
    pub const fn is_compatible(self) -> bool {
        self.major == 1
    }
}

impl defmt::Format for Version {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(formatter, "v{=u16}.{=u16}", self.major, self.minor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_orders() {
        for version in [
            Version::V1_0,
            Version::V1_1,
            Version::V1_2,
            Version::new(2, 0),
        ] {
            assert_eq!(Version::decode(version.encode()), Some(version));
        }
        assert!(Version::new(1, 9) < Version::new(2, 0));
        assert!(Version::V1_2.is_compatible());
        assert!(!Version::new(2, 0).is_compatible());
        assert!(!Version::new(0, 9).is_compatible());
    }
}
