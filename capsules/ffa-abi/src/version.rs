//! FF-A and SMCCC version numbers: the word `major << 16 | minor`, bit 31 zero.
//!
//! A word with bit 31 set is a (negative) status code, not a version. FF-A
//! has one major version, 1; two sides are compatible when they share it.
//!
//! ```
//! use ffa_abi::Version;
//!
//! assert_eq!(Version::from_raw(0x0001_0002), Ok(Version::V1_2));
//! assert!(Version::from_raw(0x8001_0002).is_err()); // bit 31 must be zero
//! assert_eq!(Version::V1_1.raw(), 0x0001_0001);
//! assert!(Version::V1_0 < Version::V1_2);
//! assert!(Version::V1_2.is_compatible());
//! ```

use core::fmt;

/// An FF-A or SMCCC version: `major << 16 | minor`, bit 31 zero.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    major: u16,
    minor: u16,
}

/// A word that is not a version: bit 31 is set, so it is a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidVersion;

impl Version {
    /// FF-A v1.0.
    pub const V1_0: Version = Version::new(1, 0);
    /// FF-A v1.1.
    pub const V1_1: Version = Version::new(1, 1);
    /// FF-A v1.2.
    pub const V1_2: Version = Version::new(1, 2);

    /// A version from its parts. `major` must be below 0x8000 to encode.
    pub const fn new(major: u16, minor: u16) -> Version {
        Version { major, minor }
    }

    /// Decodes a version word; a word with bit 31 set is an error code, not a version.
    pub const fn from_raw(raw: u32) -> Result<Version, InvalidVersion> {
        if raw & 0x8000_0000 != 0 {
            return Err(InvalidVersion);
        }
        Ok(Version {
            major: (raw >> 16) as u16,
            minor: raw as u16,
        })
    }

    /// The encoded word, `major << 16 | minor` (bit 31 forced to zero).
    pub const fn raw(self) -> u32 {
        ((self.major as u32 & 0x7fff) << 16) | self.minor as u32
    }

    /// The major version (15 bits).
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor version.
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// Whether this is an FF-A version this project speaks: major version 1,
    /// the only one there is.
    pub const fn is_compatible(self) -> bool {
        self.major == 1
    }

    /// Whether a caller of this version can talk to a callee of `other`:
    /// they share the major version.
    pub const fn is_compatible_with(self, other: Version) -> bool {
        self.major == other.major
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.major, self.minor)
    }
}

#[cfg(feature = "defmt")]
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
            assert_eq!(Version::from_raw(version.raw()), Ok(version));
        }
        assert!(Version::new(1, 9) < Version::new(2, 0));
        assert!(Version::V1_2.is_compatible());
        assert!(!Version::new(2, 0).is_compatible());
        assert!(!Version::new(0, 9).is_compatible());
    }
}
