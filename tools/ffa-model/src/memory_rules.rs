//! Where SPMCs differ in memory management: the model answers as the SPMC
//! its [`Personality`] names (the same setting that chooses its version and
//! discovery answers, so one setting selects a peer), and the faults it can
//! inject ([`MemoryFault`]).
//!
//! | behaviour | `Specification` (default) | `Hafnium` | `OpTee` | `TfAEl3Spmc` |
//! |---|---|---|---|---|
//! | `FFA_MEM_DONATE` from the normal world | yes | yes | `NOT_SUPPORTED` | `NOT_SUPPORTED` |
//! | callers that may send | any | any | any | v1.0, v1.1 (else `INVALID_PARAMETERS`) |
//! | access descriptor size | 16, or 32 from v1.2 | same | 16..=255, 16-aligned | ≥ 16, 16-aligned |
//! | access descriptors' offset | ≥ header, 16-aligned | exactly 48 | any in range | ≥ 48, 16-aligned |
//! | share attributes | type specified, else `INVALID_PARAMETERS` | Normal WB inner shareable, else `DENIED` | exactly 0x2F, else `INVALID_PARAMETERS` | not checked |
//! | lend (one borrower) / donate attributes | unspecified | unspecified | lend: exactly 0 | not checked |
//! | permissions | data RO/RW (donate: none), instruction unspecified | same | exactly 0x02 | not checked |
//! | send flags | bit 0 (not share) | bit 0 (not share) | ≤ 0xFF | 0 or the type bits |
//! | receivers | ≤ 4 | ≤ 2 | 1 | ≤ 4 |
//! | fragments | whole constituents after the first | same, ≤ 20 | a fragment's partial constituent is not taken (offset acknowledges whole ones) | any byte split |
//! | `FFA_MEM_FRAG_RX` w4 | 0 | sender << 16 on the first answer | 0 | sender << 16 |
//! | handles | counter from 0xffff_fffe | index, bit 63 clear | index \| bit 44 | counter from 0xffff_ffc0 |
//! | pages named twice, not backed, or the caller's RX/TX | `DENIED` | `DENIED` | `INVALID_PARAMETERS` | `INVALID_PARAMETERS` |
//! | descriptor in a buffer named by address (w3/w4 ≠ 0) | `INVALID_PARAMETERS` | `INVALID_PARAMETERS` | `INVALID_PARAMETERS` (real OP-TEE accepts such buffers; not modelled) | `INVALID_PARAMETERS` |
//! | constituent addresses not 4 KiB aligned | `INVALID_PARAMETERS` | same | same | accepted |
//! | reclaim flags | bit 0 zeroes | bit 0 zeroes | w3–w7 must be 0 | w3 must be 0 |
//! | relinquish flags | bit 0 (not share) | same | same | must be 0 |
//! | retrieve response layout | the borrower's | the borrower's | the borrower's | v1.1 for v1.1+ borrowers (as stored) |
//!
//! Read from Hafnium's `ffa_memory.c`, OP-TEE's `thread_spmc.c`, TF-A
//! 2.12.1's `spmc_shared_mem.c` (see `/work/notes/memory-management.md` §4);
//! the model's own answers where the specification leaves a choice.

use crate::memory_descriptor::Layout;
use crate::personality::Personality;
use ffa_abi::{Status, Version};

/// A memory-management fault to inject, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryFault {
    /// None.
    None,
    /// The first `FFA_MEM_SHARE`/`LEND`/`DONATE` answers `NO_MEMORY`.
    NoMemory,
    /// The first `FFA_MEM_RECLAIM` answers `DENIED`, as if a borrower still
    /// held the memory.
    DeniedReclaim,
    /// The first `FFA_MEM_FRAG_TX` answers `ABORTED` and the transaction is dropped.
    AbortedFragment,
    /// The first `FFA_MEM_SHARE`/`LEND`/`DONATE` answers `INVALID_PARAMETERS`
    /// as if its memory region attributes were invalid.
    BadAttributes,
}

impl MemoryFault {
    /// The blob encoding.
    pub const fn encode(self) -> u8 {
        match self {
            MemoryFault::None => 0,
            MemoryFault::NoMemory => 1,
            MemoryFault::DeniedReclaim => 2,
            MemoryFault::AbortedFragment => 3,
            MemoryFault::BadAttributes => 4,
        }
    }

    /// Decodes the blob encoding.
    pub const fn decode(value: u8) -> Option<MemoryFault> {
        Some(match value {
            0 => MemoryFault::None,
            1 => MemoryFault::NoMemory,
            2 => MemoryFault::DeniedReclaim,
            3 => MemoryFault::AbortedFragment,
            4 => MemoryFault::BadAttributes,
            _ => return None,
        })
    }
}

/// How a relayer takes fragments after the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FragmentRule {
    /// Whole constituents only (`INVALID_PARAMETERS` otherwise).
    WholeConstituents,
    /// Takes whole constituents; a partial one is left for the next fragment.
    ConsumedPrefix,
    /// Any byte split.
    ByteStream,
}

/// Memory management as each SPMC does it.
impl Personality {
    /// Whether the normal world may donate.
    pub(crate) const fn offers_donate(self) -> bool {
        matches!(self, Personality::Specification | Personality::Hafnium)
    }

    /// Whether a caller of `version` may send memory.
    pub(crate) fn accepts_caller(self, version: Version) -> bool {
        self != Personality::TfAEl3Spmc || version <= Version::V1_1
    }

    /// Whether access descriptors of `size` bytes are acceptable from a caller using `layout`.
    pub(crate) const fn access_size_ok(self, layout: Layout, size: usize) -> bool {
        match layout {
            Layout::V1_0 => size == 16,
            _ => match self {
                Personality::Specification | Personality::Hafnium => {
                    size == 16 || (size == 32 && matches!(layout, Layout::V1_2))
                }
                Personality::OpTee => size >= 16 && size <= 255 && size.is_multiple_of(16),
                Personality::TfAEl3Spmc => size >= 16 && size.is_multiple_of(16),
            },
        }
    }

    /// Whether access descriptors may start at `offset` (v1.1+ headers).
    pub(crate) const fn access_offset_ok(self, offset: usize) -> bool {
        match self {
            Personality::Hafnium => offset == 48,
            Personality::OpTee => offset >= 48 && offset <= 0xFFFF,
            Personality::Specification | Personality::TfAEl3Spmc => {
                offset >= 48 && offset.is_multiple_of(16)
            }
        }
    }

    /// Checks the attributes of a send (`operation` is 1 share, 2 lend, 3 donate).
    pub(crate) const fn attributes(
        self,
        operation: u32,
        receivers: usize,
        bits: u16,
    ) -> Result<(), Status> {
        if bits & (1 << 6) != 0 || bits >> 7 != 0 {
            return Err(Status::InvalidParameters);
        }
        let memory_type = (bits >> 4) & 0b11;
        let must_specify = operation == 1 || (operation == 2 && receivers > 1);
        match self {
            Personality::TfAEl3Spmc => Ok(()),
            Personality::OpTee => match operation {
                1 if bits != 0x2F => Err(Status::InvalidParameters),
                2 if bits != 0 => Err(Status::InvalidParameters),
                _ => Ok(()),
            },
            Personality::Hafnium if operation == 1 && bits != 0x2F => Err(Status::Denied),
            Personality::Hafnium | Personality::Specification => {
                let reserved = memory_type == 0b11;
                let misplaced = must_specify == (memory_type == 0);
                let stray = memory_type == 0 && bits != 0;
                if reserved || misplaced || stray {
                    Err(Status::InvalidParameters)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks one receiver's permissions byte in a send.
    pub(crate) const fn permissions(self, operation: u32, permissions: u8) -> Result<(), Status> {
        let data = permissions & 0b11;
        let instruction = (permissions >> 2) & 0b11;
        match self {
            Personality::TfAEl3Spmc => Ok(()),
            Personality::OpTee if permissions != 0x02 => Err(Status::InvalidParameters),
            Personality::OpTee => Ok(()),
            Personality::Hafnium | Personality::Specification => {
                let malformed = permissions >> 4 != 0 || instruction != 0 || data == 0b11;
                // Donate leaves data access unspecified; share and lend specify it.
                let misplaced = (operation == 3) != (data == 0);
                if malformed || misplaced {
                    Err(Status::InvalidParameters)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks a send's flags.
    pub(crate) const fn send_flags(self, operation: u32, flags: u32) -> Result<(), Status> {
        let ok = match self {
            Personality::Specification | Personality::Hafnium => {
                flags & !1 == 0 && !(operation == 1 && flags & 1 != 0)
            }
            Personality::OpTee => flags <= 0xFF,
            Personality::TfAEl3Spmc => flags == 0 || flags == operation << 3,
        };
        if ok {
            Ok(())
        } else {
            Err(Status::InvalidParameters)
        }
    }

    /// The most receivers of one transaction.
    pub(crate) const fn maximum_receivers(self) -> usize {
        match self {
            Personality::Hafnium => 2,
            Personality::OpTee => 1,
            _ => 4,
        }
    }

    /// How fragments after the first are taken.
    pub(crate) const fn fragment_rule(self) -> FragmentRule {
        match self {
            Personality::Specification | Personality::Hafnium => FragmentRule::WholeConstituents,
            Personality::OpTee => FragmentRule::ConsumedPrefix,
            Personality::TfAEl3Spmc => FragmentRule::ByteStream,
        }
    }

    /// The most fragments of one descriptor.
    pub(crate) const fn maximum_fragments(self) -> u32 {
        match self {
            Personality::Hafnium => 20,
            _ => u32::MAX,
        }
    }

    /// Whether the first fragment must hold the composite header.
    pub(crate) const fn composite_in_first_fragment(self) -> bool {
        matches!(self, Personality::Specification | Personality::Hafnium)
    }

    /// w4 of `FFA_MEM_FRAG_RX`.
    pub(crate) const fn fragment_answer_w4(self, first: bool, sender: u16) -> u64 {
        match self {
            Personality::Hafnium if first => (sender as u64) << 16,
            Personality::TfAEl3Spmc => (sender as u64) << 16,
            _ => 0,
        }
    }

    /// The handle of the `serial`th transaction (from 0) in `slot`.
    pub(crate) const fn handle(self, serial: u64, slot: usize) -> u64 {
        match self {
            Personality::Specification => 0xFFFF_FFFE + serial,
            Personality::Hafnium => slot as u64,
            Personality::OpTee => slot as u64 | 1 << 44,
            Personality::TfAEl3Spmc => 0xFFFF_FFC0 + serial,
        }
    }

    /// The error for pages the sender does not own exclusively.
    pub(crate) const fn not_owned(self) -> Status {
        match self {
            Personality::Specification | Personality::Hafnium => Status::Denied,
            Personality::OpTee | Personality::TfAEl3Spmc => Status::InvalidParameters,
        }
    }

    /// Whether a constituent address that is not 4 KiB aligned is accepted.
    pub(crate) const fn accepts_misaligned(self) -> bool {
        matches!(self, Personality::TfAEl3Spmc)
    }

    /// Checks a reclaim's w3 (flags) and w4–w7; `Ok(true)` to zero the memory.
    pub(crate) const fn reclaim_flags(self, flags: u32, rest_zero: bool) -> Result<bool, Status> {
        match self {
            Personality::OpTee if flags != 0 || !rest_zero => Err(Status::InvalidParameters),
            Personality::TfAEl3Spmc if flags != 0 => Err(Status::InvalidParameters),
            _ if flags & !1 != 0 => Err(Status::InvalidParameters),
            _ => Ok(flags & 1 != 0),
        }
    }

    /// Checks a relinquish's flags for a transaction of `operation`; `Ok(true)` to zero.
    pub(crate) const fn relinquish_flags(self, operation: u32, flags: u32) -> Result<bool, Status> {
        match self {
            Personality::TfAEl3Spmc if flags != 0 => Err(Status::InvalidParameters),
            _ if flags & !1 != 0 => Err(Status::InvalidParameters),
            _ if operation == 1 && flags & 1 != 0 => Err(Status::InvalidParameters),
            _ => Ok(flags & 1 != 0),
        }
    }

    /// The layout of a retrieve response to a borrower using `layout`.
    pub(crate) const fn response_layout(self, layout: Layout) -> Layout {
        match (self, layout) {
            (Personality::TfAEl3Spmc, Layout::V1_2) => Layout::V1_1,
            _ => layout,
        }
    }

    /// Checks the sender ID of a descriptor from the normal world (ID 0).
    pub(crate) const fn sender(self, sender: u16) -> Result<(), Status> {
        match self {
            Personality::OpTee => Ok(()),
            Personality::TfAEl3Spmc if sender & 0x8000 != 0 => Err(Status::Denied),
            Personality::TfAEl3Spmc => Ok(()),
            _ if sender != 0 => Err(Status::Denied),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fault_encodings_round_trip() {
        for fault in [
            MemoryFault::None,
            MemoryFault::NoMemory,
            MemoryFault::DeniedReclaim,
            MemoryFault::AbortedFragment,
            MemoryFault::BadAttributes,
        ] {
            assert_eq!(MemoryFault::decode(fault.encode()), Some(fault));
        }
        assert_eq!(MemoryFault::decode(5), None);
    }

    #[test]
    fn attributes_per_personality() {
        use Personality::*;
        assert_eq!(Specification.attributes(1, 1, 0x2F), Ok(()));
        assert_eq!(
            Specification.attributes(1, 1, 0x00),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            Specification.attributes(2, 1, 0x2F),
            Err(Status::InvalidParameters)
        );
        assert_eq!(Specification.attributes(2, 2, 0x2F), Ok(()));
        assert_eq!(
            Specification.attributes(1, 1, 0x6F),
            Err(Status::InvalidParameters)
        );
        assert_eq!(Hafnium.attributes(1, 1, 0x2E), Err(Status::Denied));
        assert_eq!(OpTee.attributes(1, 1, 0x2E), Err(Status::InvalidParameters));
        assert_eq!(TfAEl3Spmc.attributes(1, 1, 0x2E), Ok(()));
        assert_eq!(
            TfAEl3Spmc.attributes(1, 1, 0x6F),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            Specification.permissions(1, 0x06),
            Err(Status::InvalidParameters)
        );
        assert_eq!(TfAEl3Spmc.permissions(1, 0x06), Ok(()));
        assert_eq!(Specification.permissions(3, 0x00), Ok(()));
        assert_eq!(
            Specification.send_flags(1, 1),
            Err(Status::InvalidParameters)
        );
        assert_eq!(TfAEl3Spmc.send_flags(1, 0x08), Ok(()));
        assert_eq!(TfAEl3Spmc.send_flags(2, 1), Err(Status::InvalidParameters));
        assert!(!TfAEl3Spmc.accepts_caller(Version::V1_2));
        assert_eq!(OpTee.handle(0, 3), 0x1000_0000_0003);
    }
}
