//! Memory transaction descriptors as the relayer reads and writes them:
//! the sender's descriptor (three layouts), retrieve requests, retrieve
//! responses and relinquish descriptors.
//!
//! Written from the specification (DEN0077A v1.0 §5.12, v1.1 chapter 10,
//! DEN0140 for v1.2 and later), independently of the client's builder, so
//! each checks the other:
//!
//! | layout | header | attributes | access descriptor size | access descriptors at |
//! |---|---|---|---|---|
//! | v1.0 | 32 bytes | u8 at 2 (byte 3 reserved) | 16 (implied) | 32 (implied) |
//! | v1.1 | 48 bytes | u16 at 2 | u32 at 24: 16 | u32 at 32 |
//! | v1.2, v1.3 | 48 bytes | u16 at 2 | u32 at 24: 32 (16-byte impdef at 8) | u32 at 32 |
//!
//! Every read is bounds-checked against the bytes given: a broken descriptor
//! is an error, never a read out of range.

use ffa_abi::Version;

/// Header size of the v1.0 layout.
pub(crate) const HEADER_SIZE_V1_0: usize = 32;
/// Header size of the v1.1 and later layouts.
pub(crate) const HEADER_SIZE_V1_1: usize = 48;
/// Size of the composite memory region descriptor's header.
pub(crate) const COMPOSITE_HEADER_SIZE: usize = 16;
/// Size of one constituent.
pub(crate) const CONSTITUENT_SIZE: usize = 16;
/// The page size descriptors count in.
pub(crate) const PAGE_SIZE: u64 = 4096;
/// Memory region attributes bit 6: non-secure (relayer to borrower only).
pub(crate) const ATTRIBUTE_NON_SECURE: u16 = 1 << 6;

/// Which layout a caller of a version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layout {
    /// FF-A v1.0.
    V1_0,
    /// FF-A v1.1 (16-byte access descriptors).
    V1_1,
    /// FF-A v1.2 and later (32-byte access descriptors).
    V1_2,
}

impl Layout {
    /// The layout of a caller that negotiated `version`.
    pub(crate) fn of(version: Version) -> Layout {
        if version <= Version::V1_0 {
            Layout::V1_0
        } else if version == Version::V1_1 {
            Layout::V1_1
        } else {
            Layout::V1_2
        }
    }

    pub(crate) const fn header_size(self) -> usize {
        match self {
            Layout::V1_0 => HEADER_SIZE_V1_0,
            _ => HEADER_SIZE_V1_1,
        }
    }

    pub(crate) const fn access_descriptor_size(self) -> usize {
        match self {
            Layout::V1_2 => 32,
            _ => 16,
        }
    }
}

/// Little-endian reads that fail instead of panicking.
pub(crate) fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(offset..offset.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub(crate) fn read_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(offset..offset.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Why a descriptor cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DescriptorError {
    /// Shorter than a structure it must hold.
    Truncated,
    /// The access descriptor size is smaller than the fields every layout has.
    AccessDescriptorSize,
}

/// A transaction descriptor's header and where its parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) sender: u16,
    pub(crate) attributes: u16,
    /// Byte 3 of a v1.0 header (reserved, must be zero).
    pub(crate) reserved_attribute_byte: u8,
    pub(crate) flags: u32,
    pub(crate) handle: u64,
    pub(crate) tag: u64,
    pub(crate) access_size: usize,
    pub(crate) access_offset: usize,
    pub(crate) receiver_count: usize,
    /// Whether the reserved header bytes are all zero.
    pub(crate) reserved_zero: bool,
}

/// Reads the header of a descriptor in `layout` (only the fields; the
/// caller decides which sizes and offsets it accepts).
pub(crate) fn read_header(bytes: &[u8], layout: Layout) -> Result<Header, DescriptorError> {
    if bytes.len() < layout.header_size() {
        return Err(DescriptorError::Truncated);
    }
    let u16_at = |offset| read_u16(bytes, offset).unwrap_or(0);
    let u32_at = |offset| read_u32(bytes, offset).unwrap_or(0);
    let u64_at = |offset| read_u64(bytes, offset).unwrap_or(0);
    let (attributes, reserved_attribute_byte, access_size, access_offset, reserved_zero) =
        match layout {
            Layout::V1_0 => (
                u16::from(bytes[2]),
                bytes[3],
                16,
                HEADER_SIZE_V1_0,
                u32_at(24) == 0,
            ),
            _ => (
                u16_at(2),
                0,
                u32_at(24) as usize,
                u32_at(32) as usize,
                bytes[36..48].iter().all(|byte| *byte == 0),
            ),
        };
    Ok(Header {
        sender: u16_at(0),
        attributes,
        reserved_attribute_byte,
        flags: u32_at(4),
        handle: u64_at(8),
        tag: u64_at(16),
        access_size,
        access_offset,
        receiver_count: u32_at(28) as usize,
        reserved_zero,
    })
}

/// One endpoint memory access descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) receiver: u16,
    pub(crate) permissions: u8,
    pub(crate) flags: u8,
    pub(crate) composite_offset: u32,
    /// The implementation-defined value (zero when the descriptor is 16 bytes).
    pub(crate) impdef: [u8; 16],
    /// Whether the reserved bytes are zero.
    pub(crate) reserved_zero: bool,
}

/// Reads access descriptor `index` of a descriptor with `header`.
pub(crate) fn read_access(
    bytes: &[u8],
    header: &Header,
    index: usize,
) -> Result<Access, DescriptorError> {
    let start = header
        .access_offset
        .checked_add(
            index
                .checked_mul(header.access_size)
                .ok_or(DescriptorError::Truncated)?,
        )
        .ok_or(DescriptorError::Truncated)?;
    let entry = bytes
        .get(
            start
                ..start
                    .checked_add(header.access_size)
                    .ok_or(DescriptorError::Truncated)?,
        )
        .ok_or(DescriptorError::Truncated)?;
    if entry.len() < 16 {
        return Err(DescriptorError::AccessDescriptorSize);
    }
    let mut impdef = [0u8; 16];
    let reserved_zero = if entry.len() >= 32 {
        impdef.copy_from_slice(&entry[8..24]);
        entry[24..].iter().all(|byte| *byte == 0)
    } else {
        entry[8..].iter().all(|byte| *byte == 0)
    };
    Ok(Access {
        receiver: read_u16(entry, 0).unwrap_or(0),
        permissions: entry[2],
        flags: entry[3],
        composite_offset: read_u32(entry, 4).unwrap_or(0),
        impdef,
        reserved_zero,
    })
}

/// A composite memory region descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Composite {
    pub(crate) total_pages: u32,
    pub(crate) range_count: usize,
    pub(crate) constituents_offset: usize,
    pub(crate) reserved_zero: bool,
}

/// Reads the composite descriptor at `offset` (its constituents must be in `bytes`).
pub(crate) fn read_composite(bytes: &[u8], offset: usize) -> Result<Composite, DescriptorError> {
    let header = bytes
        .get(
            offset
                ..offset
                    .checked_add(COMPOSITE_HEADER_SIZE)
                    .ok_or(DescriptorError::Truncated)?,
        )
        .ok_or(DescriptorError::Truncated)?;
    let range_count = read_u32(header, 4).unwrap_or(0) as usize;
    let constituents_offset = offset + COMPOSITE_HEADER_SIZE;
    let end = range_count
        .checked_mul(CONSTITUENT_SIZE)
        .and_then(|size| size.checked_add(constituents_offset))
        .ok_or(DescriptorError::Truncated)?;
    if end > bytes.len() {
        return Err(DescriptorError::Truncated);
    }
    Ok(Composite {
        total_pages: read_u32(header, 0).unwrap_or(0),
        range_count,
        constituents_offset,
        reserved_zero: read_u64(header, 8) == Some(0),
    })
}

/// Constituent `index` of `composite`: address, page count, reserved word.
pub(crate) fn read_constituent(
    bytes: &[u8],
    composite: &Composite,
    index: usize,
) -> (u64, u32, u32) {
    let at = composite.constituents_offset + index * CONSTITUENT_SIZE;
    (
        read_u64(bytes, at).unwrap_or(0),
        read_u32(bytes, at + 8).unwrap_or(0),
        read_u32(bytes, at + 12).unwrap_or(0),
    )
}

/// A relinquish descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Relinquish {
    pub(crate) handle: u64,
    pub(crate) flags: u32,
    pub(crate) endpoint_count: u32,
    pub(crate) first_endpoint: u16,
}

/// Reads a relinquish descriptor (handle u64, flags u32, count u32, IDs u16...).
pub(crate) fn read_relinquish(bytes: &[u8]) -> Result<Relinquish, DescriptorError> {
    let endpoint_count = read_u32(bytes, 12).ok_or(DescriptorError::Truncated)?;
    Ok(Relinquish {
        handle: read_u64(bytes, 0).ok_or(DescriptorError::Truncated)?,
        flags: read_u32(bytes, 8).ok_or(DescriptorError::Truncated)?,
        endpoint_count,
        first_endpoint: read_u16(bytes, 16).ok_or(DescriptorError::Truncated)?,
    })
}

/// Writes a little-endian value at `offset` of `bytes`, if it fits.
pub(crate) fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
    if let Some(target) = bytes.get_mut(offset..offset + value.len()) {
        target.copy_from_slice(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_lying_descriptors_are_errors_not_panics() {
        assert_eq!(
            read_header(&[0; 31], Layout::V1_0),
            Err(DescriptorError::Truncated)
        );
        let mut bytes = [0u8; 64];
        bytes[24] = 16;
        bytes[28] = 200;
        bytes[32] = 48;
        let header = read_header(&bytes, Layout::V1_1).unwrap();
        assert_eq!(
            read_access(&bytes, &header, 0).map(|access| access.receiver),
            Ok(0)
        );
        assert_eq!(
            read_access(&bytes, &header, 1),
            Err(DescriptorError::Truncated)
        );
        assert_eq!(
            read_access(&bytes, &header, usize::MAX),
            Err(DescriptorError::Truncated)
        );
        assert_eq!(read_composite(&bytes, 60), Err(DescriptorError::Truncated));
        bytes[52] = 0xFF;
        assert_eq!(read_composite(&bytes, 48), Err(DescriptorError::Truncated));
        assert_eq!(read_relinquish(&[0; 17]), Err(DescriptorError::Truncated));
    }
}
