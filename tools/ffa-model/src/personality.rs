//! Which real secure world the model answers as, where the SPMCs people run differ.
//!
//! The model's own rules ([`Personality::Specification`]) are written from
//! the specification. Real SPMCs read it differently in places the client
//! must cope with; each personality switches the model to one SPMC's
//! answers there, and keeps the model's rules everywhere else. What each
//! rule is, and where it was read:
//!
//! | rule | specification (model default) | TF-A's EL3 SPMC | Hafnium (S-EL2) | OP-TEE (S-EL1) |
//! |---|---|---|---|---|
//! | own version | v1.2 | v1.2 | v1.3 (`FFA_VERSION_COMPILED`) | v1.1 (`spmc_exchange_version` clamps to v1.0/v1.1) |
//! | version change after other calls | refused | accepted, never fixed | refused (`api_ffa_version`: "Cannot change FF-A version after other FF-A calls") | accepted ("we must be able to renegotiate") |
//! | RX/TX pages accepted / reported by `FFA_FEATURES` (v1.2) | 16 / 16 | 63 / none | 1 / 1 (default `RXTX_MAX_PAGE_COUNT`) | 63 / none (v1.1) |
//! | descriptor size, v1.1+ callers | 24 (48 for v1.3 callers) | 24 | 48: the v1.3 descriptor for every caller from v1.1 | 24 (`sizeof(ffa_partition_info_x)` + UUID) |
//! | `PARTITION_INFO_GET_REGS` | 24-byte descriptors, 5 per call | not implemented | 48-byte descriptors, 2 per call | not implemented (a v1.1 SPMC) |
//! | unknown UUID | `INVALID_PARAMETERS` | `INVALID_PARAMETERS` | `INVALID_PARAMETERS` | success, count 0 (the RX buffer handed over when not count-only) |
//!
//! The rest of TF-A's differences (registers left as the caller passed
//! them, sign-extended errors) are in `tf_a_el3.rs`. All personalities
//! answer `BUSY` to a call that would fill an RX buffer the caller owns and
//! `DENIED` to releasing an RX buffer the caller does not own, as the model
//! does; all clear the SMCCC v1.3 SVE hint (bit 16) before matching a
//! function ID.

use ffa_abi::Version;

use crate::partition::{self, DESCRIPTOR_SIZE_V1_0, DESCRIPTOR_SIZE_V1_1, DESCRIPTOR_SIZE_V1_3};

/// A real secure world the model can answer as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    /// The model's own rules, written from the specification (the default).
    Specification,
    /// TF-A's EL3 SPMC (`SPD=spmd SPMC_AT_EL3=1`), as TF-A 2.12.1 answers.
    TfAEl3Spmc,
    /// Hafnium as the S-EL2 SPMC: FF-A v1.3.
    Hafnium,
    /// OP-TEE as the S-EL1 SPMC: FF-A v1.1.
    OpTee,
}

/// Every personality, in the order of their encoding.
pub const PERSONALITIES: [Personality; 4] = [
    Personality::Specification,
    Personality::TfAEl3Spmc,
    Personality::Hafnium,
    Personality::OpTee,
];

impl Personality {
    /// The value in the configuration blob.
    pub const fn encode(self) -> u32 {
        match self {
            Personality::Specification => 0,
            Personality::TfAEl3Spmc => 1,
            Personality::Hafnium => 2,
            Personality::OpTee => 3,
        }
    }

    /// The personality a blob value names.
    pub const fn decode(value: u32) -> Option<Personality> {
        match value {
            0 => Some(Personality::Specification),
            1 => Some(Personality::TfAEl3Spmc),
            2 => Some(Personality::Hafnium),
            3 => Some(Personality::OpTee),
            _ => None,
        }
    }

    /// A short name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Personality::Specification => "the specification",
            Personality::TfAEl3Spmc => "TF-A's EL3 SPMC",
            Personality::Hafnium => "Hafnium",
            Personality::OpTee => "OP-TEE",
        }
    }

    /// The FF-A version this SPMC implements, `(major, minor)`.
    pub const fn spmc_version(self) -> (u16, u16) {
        match self {
            Personality::Specification | Personality::TfAEl3Spmc => (1, 2),
            Personality::Hafnium => (1, 3),
            Personality::OpTee => (1, 1),
        }
    }

    /// Whether the caller's version is fixed by its first other FF-A call
    /// (a later `FFA_VERSION` asking for another one is refused).
    pub const fn fixes_the_version(self) -> bool {
        matches!(self, Personality::Specification | Personality::Hafnium)
    }

    /// The most pages `FFA_RXTX_MAP` accepts per buffer.
    pub const fn maximum_rxtx_pages(self) -> u32 {
        match self {
            Personality::Specification => 16,
            Personality::Hafnium => 1,
            // Only the 6-bit field limits it.
            Personality::TfAEl3Spmc | Personality::OpTee => 63,
        }
    }

    /// The maximum `FFA_FEATURES(FFA_RXTX_MAP)` reports in w2\[31:16\] to a
    /// caller of `version` (the field exists from v1.2; 0: no maximum stated).
    pub const fn reported_maximum_rxtx_pages(self, version: Version) -> u32 {
        let reports = version.major() == 1 && version.minor() >= 2;
        match self {
            Personality::Specification | Personality::Hafnium if reports => {
                self.maximum_rxtx_pages()
            }
            _ => 0,
        }
    }

    /// The size of the partition information descriptors a caller of
    /// `version` gets.
    pub const fn descriptor_size(self, version: Version) -> usize {
        match self {
            Personality::Specification => partition::descriptor_size(version),
            _ if version.minor() == 0 => DESCRIPTOR_SIZE_V1_0,
            Personality::Hafnium => DESCRIPTOR_SIZE_V1_3,
            Personality::TfAEl3Spmc | Personality::OpTee => DESCRIPTOR_SIZE_V1_1,
        }
    }

    /// Whether a UUID no partition implements is answered with a count of
    /// 0 (OP-TEE) rather than `INVALID_PARAMETERS`.
    pub const fn counts_unknown_uuids_as_zero(self) -> bool {
        matches!(self, Personality::OpTee)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() {
        for personality in PERSONALITIES {
            assert_eq!(Personality::decode(personality.encode()), Some(personality));
        }
        assert_eq!(Personality::decode(4), None);
    }

    #[test]
    fn descriptor_sizes_follow_the_spmc() {
        assert_eq!(Personality::Hafnium.descriptor_size(Version::V1_0), 8);
        assert_eq!(Personality::Hafnium.descriptor_size(Version::V1_1), 48);
        assert_eq!(Personality::OpTee.descriptor_size(Version::V1_1), 24);
        assert_eq!(
            Personality::Specification.descriptor_size(Version::V1_2),
            24
        );
        assert_eq!(
            Personality::Specification.descriptor_size(Version::new(1, 3)),
            48
        );
    }
}
