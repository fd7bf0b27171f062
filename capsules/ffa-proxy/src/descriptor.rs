//! The host's memory transaction descriptors, as the proxy reads them: the
//! validator of `FFA_MEM_SHARE`/`FFA_MEM_LEND` and their fragments.
//!
//! The proxy reads the descriptor only from its own copy (its TX buffer,
//! which the host's stage 2 does not map), never from the host's TX, so
//! what it checks is what the monitor reads. It reads it strictly, so that
//! it and every SPMC agree on which bytes are the constituents:
//!
//! - the layout is the one the host negotiated (v1.0: a 32-byte header,
//!   16-byte access descriptors from offset 32; v1.1+: a 48-byte header
//!   whose access-descriptor array must be at 48, as Hafnium requires,
//!   16-byte descriptors at v1.1, 16 or 32 from v1.2);
//! - the sender is the host (0), the handle field is 0;
//! - 1 to [`MAX_RECEIVERS`] receivers, each a secure endpoint (ID bit 15),
//!   none twice, all naming the same composite descriptor;
//! - the composite descriptor after the access descriptors, 16-byte
//!   aligned, its header inside the first fragment, at least one range, and
//!   the total length exactly composite + 16 + 16 × ranges (TF-A's and
//!   Hafnium's rule);
//! - every fragment ends on a whole constituent (pKVM's rule: the first
//!   after the composite header, the others from their first byte);
//! - every constituent 4 KiB aligned, at least one page, not wrapping; the
//!   pages of all of them add up to the composite's total.
//!
//! Ownership (each page the host's, no overlap, in host memory) is the
//! page-state table's to check (`crate::ownership`).
//!
//! ```
//! use capsule_ffa_proxy::descriptor::{parse_header, Constituent};
//! use ffa_abi::Version;
//!
//! // v1.1 SHARE of one page at 0x4000_1000 to 0x8001 (96 bytes).
//! let mut bytes = [0u8; 96];
//! bytes[2] = 0x2f;
//! bytes[24] = 16; // access descriptor size
//! bytes[28] = 1; // one receiver
//! bytes[32] = 48; // at 48
//! bytes[48..50].copy_from_slice(&0x8001u16.to_le_bytes());
//! bytes[50] = 0x02;
//! bytes[52] = 64; // composite at 64
//! bytes[64] = 1; // 1 page
//! bytes[68] = 1; // 1 range
//! bytes[80..88].copy_from_slice(&0x4000_1000u64.to_le_bytes());
//! bytes[88] = 1;
//! let header = parse_header(Version::V1_1, 96, &mut &bytes[..96]).unwrap();
//! assert_eq!(header.receivers(), &[0x8001]);
//! assert_eq!(header.first_constituent, 80);
//! assert_eq!(
//!     Constituent::read(&mut &bytes[..], 80).unwrap(),
//!     Constituent { address: 0x4000_1000, pages: 1 }
//! );
//! ```

use ffa_abi::Version;

/// The FF-A page.
pub const PAGE_SIZE: u64 = 4096;

/// Bytes of a constituent (address range) descriptor.
pub const CONSTITUENT_SIZE: u32 = 16;

/// Bytes of a composite descriptor's header.
pub const COMPOSITE_HEADER_SIZE: u32 = 16;

/// Receivers one transaction may name (pKVM takes 1; the SPMCs 1 or 2).
pub const MAX_RECEIVERS: usize = 4;

/// Where the proxy reads a descriptor from: its own copy.
pub trait DescriptorBytes {
    /// Reads `destination.len()` bytes at `offset`; `Err` if they are not all there.
    fn read(&mut self, offset: u32, destination: &mut [u8]) -> Result<(), DescriptorProblem>;
}

impl DescriptorBytes for &[u8] {
    fn read(&mut self, offset: u32, destination: &mut [u8]) -> Result<(), DescriptorProblem> {
        let start = offset as usize;
        let bytes = start
            .checked_add(destination.len())
            .and_then(|end| self.get(start..end))
            .ok_or(DescriptorProblem::Unreadable)?;
        destination.copy_from_slice(bytes);
        Ok(())
    }
}

/// Why the proxy refuses a descriptor (`INVALID_PARAMETERS` for the host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DescriptorProblem {
    /// A fragment longer than the total, or a length not a multiple of 16.
    BadLengths {
        /// The total length (w1).
        total: u32,
        /// The fragment's length (w2, or w3 of `FFA_MEM_FRAG_TX`).
        fragment: u32,
    },
    /// The first fragment does not hold the header, the access descriptors
    /// and the composite header.
    FirstFragmentTooShort(u32),
    /// The sender is not the host (0).
    SenderNotHost(u16),
    /// The handle field is not 0.
    HandleNotZero,
    /// The access-descriptor array is not at 48 (v1.1+).
    AccessArrayOffset(u32),
    /// An access-descriptor size the negotiated version does not use.
    AccessDescriptorSize(u32),
    /// No receiver, or more than the proxy takes.
    ReceiverCount(u32),
    /// A receiver that is not a secure endpoint (the host, or another VM).
    ReceiverNotSecure(u16),
    /// The same receiver twice.
    DuplicateReceiver(u16),
    /// Receivers naming different composite descriptors, or none.
    CompositeOffsets,
    /// The composite descriptor overlaps the access descriptors, is not
    /// 16-byte aligned, or its header is not in the first fragment.
    CompositeOffset(u32),
    /// A composite with no range.
    NoRanges,
    /// The total length is not composite + 16 + 16 × ranges.
    TotalLength {
        /// What the ranges make it.
        expected: u64,
        /// What the host said.
        total: u32,
    },
    /// A fragment ends inside a constituent.
    PartialConstituent,
    /// A constituent's address is not 4 KiB aligned.
    ConstituentNotAligned(u64),
    /// A constituent of no page.
    EmptyConstituent(u64),
    /// A constituent that wraps past 2^64.
    ConstituentWraps(u64),
    /// The constituents' pages do not add up to the composite's total.
    PageCount {
        /// The composite's total.
        declared: u32,
        /// The constituents' sum.
        counted: u64,
    },
    /// The proxy could not read its own copy.
    Unreadable,
}

impl DescriptorProblem {
    /// What the problem is, for the log line.
    pub const fn describe(&self) -> &'static str {
        match self {
            DescriptorProblem::BadLengths { .. } => {
                "the fragment is longer than the total, or a length is not a multiple of 16"
            }
            DescriptorProblem::FirstFragmentTooShort(_) => {
                "the first fragment does not hold the header, access descriptors and composite header"
            }
            DescriptorProblem::SenderNotHost(_) => "the sender is not the host (0)",
            DescriptorProblem::HandleNotZero => "the handle field is not 0",
            DescriptorProblem::AccessArrayOffset(_) => "the access descriptors are not at offset 48",
            DescriptorProblem::AccessDescriptorSize(_) => {
                "an access-descriptor size the negotiated version does not use"
            }
            DescriptorProblem::ReceiverCount(_) => "no receiver, or more than 4",
            DescriptorProblem::ReceiverNotSecure(_) => "a receiver is not a secure partition",
            DescriptorProblem::DuplicateReceiver(_) => "a receiver is named twice",
            DescriptorProblem::CompositeOffsets => {
                "the receivers do not name one composite descriptor"
            }
            DescriptorProblem::CompositeOffset(_) => {
                "the composite descriptor is misplaced (overlapping, unaligned, or past the first fragment)"
            }
            DescriptorProblem::NoRanges => "the composite names no range",
            DescriptorProblem::TotalLength { .. } => {
                "the total length does not match the composite's range count"
            }
            DescriptorProblem::PartialConstituent => "a fragment ends inside a constituent",
            DescriptorProblem::ConstituentNotAligned(_) => "a constituent is not 4 KiB aligned",
            DescriptorProblem::EmptyConstituent(_) => "a constituent has no page",
            DescriptorProblem::ConstituentWraps(_) => "a constituent wraps past 2^64",
            DescriptorProblem::PageCount { .. } => {
                "the constituents do not add up to the composite's page count"
            }
            DescriptorProblem::Unreadable => "the proxy could not read its copy",
        }
    }
}

/// The first fragment's header, as the proxy checked it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Header {
    receivers: [u16; MAX_RECEIVERS],
    receiver_count: u8,
    /// Offset of the composite descriptor.
    pub composite_offset: u32,
    /// The composite's total page count.
    pub total_pages: u32,
    /// The composite's range count.
    pub range_count: u32,
    /// Offset of the first constituent (composite + 16).
    pub first_constituent: u32,
}

impl Header {
    /// The receivers' endpoint IDs.
    pub fn receivers(&self) -> &[u16] {
        &self.receivers[..usize::from(self.receiver_count)]
    }
}

fn u16_at(bytes: &mut dyn DescriptorBytes, offset: u32) -> Result<u16, DescriptorProblem> {
    let mut value = [0; 2];
    bytes.read(offset, &mut value)?;
    Ok(u16::from_le_bytes(value))
}

fn u32_at(bytes: &mut dyn DescriptorBytes, offset: u32) -> Result<u32, DescriptorProblem> {
    let mut value = [0; 4];
    bytes.read(offset, &mut value)?;
    Ok(u32::from_le_bytes(value))
}

fn u64_at(bytes: &mut dyn DescriptorBytes, offset: u32) -> Result<u64, DescriptorProblem> {
    let mut value = [0; 8];
    bytes.read(offset, &mut value)?;
    Ok(u64::from_le_bytes(value))
}

/// Checks the lengths of a first fragment or a later one.
pub fn check_lengths(total: u32, fragment: u32) -> Result<(), DescriptorProblem> {
    if fragment == 0
        || fragment > total
        || !total.is_multiple_of(16)
        || !fragment.is_multiple_of(16)
    {
        return Err(DescriptorProblem::BadLengths { total, fragment });
    }
    Ok(())
}

/// Reads and checks the header, access descriptors and composite header of
/// a first fragment of `fragment` bytes (of `total`), in `version`'s layout.
pub fn parse_header(
    version: Version,
    total: u32,
    bytes: &mut dyn DescriptorBytes,
) -> Result<Header, DescriptorProblem> {
    parse_first_fragment(version, total, total, bytes)
}

/// [`parse_header`] for a first fragment shorter than the total.
pub fn parse_first_fragment(
    version: Version,
    total: u32,
    fragment: u32,
    bytes: &mut dyn DescriptorBytes,
) -> Result<Header, DescriptorProblem> {
    check_lengths(total, fragment)?;
    let sender = u16_at(bytes, 0)?;
    if sender != 0 {
        return Err(DescriptorProblem::SenderNotHost(sender));
    }
    if u64_at(bytes, 8)? != 0 {
        return Err(DescriptorProblem::HandleNotZero);
    }
    let count = u32_at(bytes, 28)?;
    let (array, access_size) = if version <= Version::V1_0 {
        (32u32, 16u32)
    } else {
        let size = u32_at(bytes, 24)?;
        let allowed = size == 16 || (size == 32 && version >= Version::V1_2);
        if !allowed {
            return Err(DescriptorProblem::AccessDescriptorSize(size));
        }
        let offset = u32_at(bytes, 32)?;
        if offset != 48 {
            return Err(DescriptorProblem::AccessArrayOffset(offset));
        }
        (48, size)
    };
    if count == 0 || count as usize > MAX_RECEIVERS {
        return Err(DescriptorProblem::ReceiverCount(count));
    }
    let array_end = array + access_size * count;
    if array_end > fragment {
        return Err(DescriptorProblem::FirstFragmentTooShort(fragment));
    }
    let mut receivers = [0u16; MAX_RECEIVERS];
    let mut composite_offset = None;
    for index in 0..count {
        let at = array + access_size * index;
        let receiver = u16_at(bytes, at)?;
        if receiver & 0x8000 == 0 {
            return Err(DescriptorProblem::ReceiverNotSecure(receiver));
        }
        if receivers[..index as usize].contains(&receiver) {
            return Err(DescriptorProblem::DuplicateReceiver(receiver));
        }
        receivers[index as usize] = receiver;
        let offset = u32_at(bytes, at + 4)?;
        if offset == 0 || composite_offset.is_some_and(|first| first != offset) {
            return Err(DescriptorProblem::CompositeOffsets);
        }
        composite_offset = Some(offset);
    }
    let composite_offset = composite_offset.ok_or(DescriptorProblem::CompositeOffsets)?;
    if composite_offset < array_end
        || !composite_offset.is_multiple_of(16)
        || u64::from(composite_offset) + u64::from(COMPOSITE_HEADER_SIZE) > u64::from(fragment)
    {
        return Err(DescriptorProblem::CompositeOffset(composite_offset));
    }
    let total_pages = u32_at(bytes, composite_offset)?;
    let range_count = u32_at(bytes, composite_offset + 4)?;
    if range_count == 0 {
        return Err(DescriptorProblem::NoRanges);
    }
    let first_constituent = composite_offset + COMPOSITE_HEADER_SIZE;
    let expected =
        u64::from(first_constituent) + u64::from(CONSTITUENT_SIZE) * u64::from(range_count);
    if expected != u64::from(total) {
        return Err(DescriptorProblem::TotalLength { expected, total });
    }
    if !(fragment - first_constituent).is_multiple_of(CONSTITUENT_SIZE) {
        return Err(DescriptorProblem::PartialConstituent);
    }
    Ok(Header {
        receivers,
        receiver_count: count as u8,
        composite_offset,
        total_pages,
        range_count,
        first_constituent,
    })
}

/// One address range of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Constituent {
    /// Its first byte.
    pub address: u64,
    /// Its length in 4 KiB pages.
    pub pages: u32,
}

impl Constituent {
    /// Reads and checks the constituent at `offset`: aligned, not empty, not wrapping.
    pub fn read(
        bytes: &mut dyn DescriptorBytes,
        offset: u32,
    ) -> Result<Constituent, DescriptorProblem> {
        let address = u64_at(bytes, offset)?;
        let pages = u32_at(bytes, offset + 8)?;
        if !address.is_multiple_of(PAGE_SIZE) {
            return Err(DescriptorProblem::ConstituentNotAligned(address));
        }
        if pages == 0 {
            return Err(DescriptorProblem::EmptyConstituent(address));
        }
        if address.checked_add(u64::from(pages) * PAGE_SIZE).is_none() {
            return Err(DescriptorProblem::ConstituentWraps(address));
        }
        Ok(Constituent { address, pages })
    }

    /// Its bytes.
    pub fn size(&self) -> u64 {
        u64::from(self.pages) * PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A v1.x SHARE descriptor to `receivers` of `ranges`.
    fn descriptor(version: Version, receivers: &[u16], ranges: &[(u64, u32)]) -> Vec<u8> {
        let (array, size) = match version {
            Version::V1_0 => (32u32, 16u32),
            Version::V1_1 => (48, 16),
            _ => (48, 32),
        };
        let composite = array + size * receivers.len() as u32;
        let total = composite + 16 + 16 * ranges.len() as u32;
        let mut bytes = std::vec![0u8; total as usize];
        bytes[2] = 0x2f;
        bytes[28..32].copy_from_slice(&(receivers.len() as u32).to_le_bytes());
        if version > Version::V1_0 {
            bytes[24..28].copy_from_slice(&size.to_le_bytes());
            bytes[32..36].copy_from_slice(&48u32.to_le_bytes());
        }
        for (index, receiver) in receivers.iter().enumerate() {
            let at = (array + size * index as u32) as usize;
            bytes[at..at + 2].copy_from_slice(&receiver.to_le_bytes());
            bytes[at + 2] = 0x02;
            bytes[at + 4..at + 8].copy_from_slice(&composite.to_le_bytes());
        }
        let pages: u32 = ranges.iter().map(|range| range.1).sum();
        let c = composite as usize;
        bytes[c..c + 4].copy_from_slice(&pages.to_le_bytes());
        bytes[c + 4..c + 8].copy_from_slice(&(ranges.len() as u32).to_le_bytes());
        for (index, (address, pages)) in ranges.iter().enumerate() {
            let at = c + 16 + 16 * index;
            bytes[at..at + 8].copy_from_slice(&address.to_le_bytes());
            bytes[at + 8..at + 12].copy_from_slice(&pages.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn every_layout_reads_the_same_transaction() {
        for (version, first) in [
            (Version::V1_0, 64),
            (Version::V1_1, 80),
            (Version::V1_2, 96),
        ] {
            let bytes = descriptor(
                version,
                &[0x8001, 0x8003],
                &[(0x4000_1000, 2), (0x4001_0000, 1)],
            );
            let header = parse_header(version, bytes.len() as u32, &mut &bytes[..]).unwrap();
            assert_eq!(header.receivers(), &[0x8001, 0x8003]);
            assert_eq!(
                header.first_constituent,
                first + if version == Version::V1_2 { 32 } else { 16 }
            );
            assert_eq!((header.total_pages, header.range_count), (3, 2));
            let second = Constituent::read(&mut &bytes[..], header.first_constituent + 16).unwrap();
            assert_eq!(
                second,
                Constituent {
                    address: 0x4001_0000,
                    pages: 1
                }
            );
        }
    }

    #[test]
    fn each_rule_has_its_refusal() {
        let good = descriptor(Version::V1_1, &[0x8001], &[(0x4000_1000, 1)]);
        let total = good.len() as u32;
        let check = |bytes: &[u8], version: Version| {
            parse_header(version, bytes.len() as u32, &mut &bytes[..])
        };
        let mutate = |at: usize, value: &[u8]| {
            let mut bytes = good.clone();
            bytes[at..at + value.len()].copy_from_slice(value);
            bytes
        };
        assert_eq!(
            check(&mutate(0, &[1, 0]), Version::V1_1),
            Err(DescriptorProblem::SenderNotHost(1))
        );
        assert_eq!(
            check(&mutate(8, &[1]), Version::V1_1),
            Err(DescriptorProblem::HandleNotZero)
        );
        assert_eq!(
            check(&mutate(32, &[64]), Version::V1_1),
            Err(DescriptorProblem::AccessArrayOffset(64))
        );
        assert_eq!(
            check(&mutate(24, &[32]), Version::V1_1),
            Err(DescriptorProblem::AccessDescriptorSize(32))
        );
        assert_eq!(
            check(&mutate(28, &[0]), Version::V1_1),
            Err(DescriptorProblem::ReceiverCount(0))
        );
        assert_eq!(
            check(&mutate(28, &[5]), Version::V1_1),
            Err(DescriptorProblem::ReceiverCount(5))
        );
        assert_eq!(
            check(&mutate(48, &[0, 0]), Version::V1_1),
            Err(DescriptorProblem::ReceiverNotSecure(0))
        );
        assert_eq!(
            check(&mutate(52, &[0]), Version::V1_1),
            Err(DescriptorProblem::CompositeOffsets)
        );
        assert_eq!(
            check(&mutate(52, &[48]), Version::V1_1),
            Err(DescriptorProblem::CompositeOffset(48))
        );
        assert_eq!(
            check(&mutate(68, &[0]), Version::V1_1),
            Err(DescriptorProblem::NoRanges)
        );
        assert_eq!(
            check(&mutate(68, &[2]), Version::V1_1),
            Err(DescriptorProblem::TotalLength {
                expected: 112,
                total
            })
        );
        assert_eq!(
            parse_first_fragment(Version::V1_1, total, 72, &mut &good[..]),
            Err(DescriptorProblem::BadLengths {
                total,
                fragment: 72
            })
        );
        assert_eq!(
            parse_first_fragment(Version::V1_1, total + 16, total, &mut &good[..]),
            Err(DescriptorProblem::TotalLength {
                expected: 96,
                total: total + 16
            })
        );
        let two = descriptor(Version::V1_1, &[0x8001, 0x8001], &[(0x4000_1000, 1)]);
        assert_eq!(
            check(&two, Version::V1_1),
            Err(DescriptorProblem::DuplicateReceiver(0x8001))
        );
        for (address, pages, problem) in [
            (
                0x4000_1800,
                1,
                DescriptorProblem::ConstituentNotAligned(0x4000_1800),
            ),
            (
                0x4000_1000,
                0,
                DescriptorProblem::EmptyConstituent(0x4000_1000),
            ),
            (
                u64::MAX - 0xfff,
                2,
                DescriptorProblem::ConstituentWraps(u64::MAX - 0xfff),
            ),
        ] {
            let bytes = descriptor(Version::V1_1, &[0x8001], &[(address, pages)]);
            assert_eq!(Constituent::read(&mut &bytes[..], 80), Err(problem));
        }
        assert_eq!(
            Constituent::read(&mut &good[..], 90),
            Err(DescriptorProblem::Unreadable)
        );
    }

    proptest::proptest! {
        /// Any well-formed transaction, in any layout, split into any
        /// whole-constituent first fragment: the validator reads back
        /// exactly the receivers and ranges written, and rejects the same
        /// bytes with one header field changed (sender, handle, receiver
        /// count or range count).
        #[test]
        fn well_formed_transactions_read_back_exactly(
            version in 0usize..3,
            receivers in proptest::collection::btree_set(0x8000u16..0x8010, 1..=MAX_RECEIVERS),
            ranges in proptest::collection::vec((0u64..0x10_0000, 1u32..64), 1..12),
            split in 0usize..12,
            broken in 0usize..4,
        ) {
            let version = [Version::V1_0, Version::V1_1, Version::V1_2][version];
            let receivers: Vec<u16> = receivers.into_iter().collect();
            let ranges: Vec<(u64, u32)> = ranges
                .into_iter()
                .map(|(page, pages)| (0x4000_0000 + page * PAGE_SIZE, pages))
                .collect();
            let bytes = descriptor(version, &receivers, &ranges);
            let total = bytes.len() as u32;
            let whole_in_first = 1 + split % ranges.len();
            let first_constituent = total - 16 * ranges.len() as u32;
            let fragment = first_constituent + 16 * whole_in_first as u32;
            let header = parse_first_fragment(version, total, fragment, &mut &bytes[..]).unwrap();
            proptest::prop_assert_eq!(header.receivers(), &receivers[..]);
            proptest::prop_assert_eq!(header.first_constituent, first_constituent);
            proptest::prop_assert_eq!(header.range_count as usize, ranges.len());
            let pages: u32 = ranges.iter().map(|range| range.1).sum();
            proptest::prop_assert_eq!(header.total_pages, pages);
            for (index, (address, pages)) in ranges.iter().enumerate() {
                let read = Constituent::read(&mut &bytes[..], first_constituent + 16 * index as u32).unwrap();
                proptest::prop_assert_eq!(read, Constituent { address: *address, pages: *pages });
            }
            let mut mutated = bytes.clone();
            match broken {
                0 => mutated[0] = 1,
                1 => mutated[15] = 0x80,
                2 => mutated[28] = (MAX_RECEIVERS + 1) as u8,
                _ => mutated[first_constituent as usize - 12] ^= 0x01,
            }
            proptest::prop_assert!(
                parse_first_fragment(version, total, fragment, &mut &mutated[..]).is_err()
            );
        }

        /// Any bytes at all: a problem or a header whose offsets lie inside
        /// the fragment, never a panic.
        #[test]
        fn random_bytes_never_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            total in 0u32..512,
            fragment in 0u32..512,
            version in 0u8..4,
        ) {
            let version = [Version::V1_0, Version::V1_1, Version::V1_2, Version::new(1, 3)][version as usize];
            if let Ok(header) = parse_first_fragment(version, total, fragment, &mut &bytes[..]) {
                proptest::prop_assert!(header.first_constituent <= fragment);
                proptest::prop_assert!(!header.receivers().is_empty());
                proptest::prop_assert!(header.receivers().iter().all(|id| id & 0x8000 != 0));
            }
        }
    }
}
