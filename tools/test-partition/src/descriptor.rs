//! Memory transaction descriptors as a borrower reads and writes them (DEN0077A "Memory management").
//!
//! A memory transaction descriptor is what the sender of `FFA_MEM_SHARE` or
//! `FFA_MEM_LEND` wrote and the relayer (the SPMC) hands the borrower in its
//! RX buffer as `FFA_MEM_RETRIEVE_RESP`. Two header layouts exist:
//!
//! | field | v1.0 | v1.1 and later |
//! |---|---|---|
//! | sender ID (u16) | 0 | 0 |
//! | memory region attributes | 2 (u8) | 2 (u16) |
//! | flags (u32): `[4:3]` transaction type, 1 share, 2 lend, 3 donate | 4 | 4 |
//! | handle (u64) | 8 | 8 |
//! | tag (u64) | 16 | 16 |
//! | endpoint memory access descriptor size (u32) | — (16) | 24 |
//! | endpoint count (u32) | 28 | 28 |
//! | endpoint descriptors offset (u32) | — (32) | 32 |
//! | header size | 32 | 48 |
//!
//! Each endpoint memory access descriptor (16 bytes to v1.1, 32 in v1.2
//! with an implementation-defined field) starts with the receiver's ID
//! (u16), its permissions (u8: data `[1:0]` 1 read-only, 2 read-write;
//! instruction `[3:2]` 1 not executable, 2 executable), flags (u8) and the
//! offset of the composite memory region descriptor (u32). The composite
//! descriptor holds the total page count (u32) and the number of constituents
//! (u32), 16 bytes, followed by 16-byte constituents: a 4 KiB-aligned
//! address (u64) and a page count (u32).
//!
//! [`MemoryTransaction::parse`] checks every offset, size and count against
//! the bytes it is given before it reads through them, so a broken
//! descriptor is a [`DescriptorError`], never a read out of range. The
//! layout is not self-describing: the caller says which version's it expects.

use crate::abi::PartitionId;
use crate::bytes::{put, u16_at, u32_at, u64_at};

/// The FF-A translation granule the descriptors count pages in.
pub const PAGE_SIZE: u64 = 4096;
/// Size of the v1.0 header.
pub const HEADER_SIZE_V1_0: usize = 32;
/// Size of the v1.1+ header.
pub const HEADER_SIZE_V1_1: usize = 48;
/// Size of an endpoint memory access descriptor up to v1.1 (the fields every version reads).
pub const ENDPOINT_DESCRIPTOR_SIZE_V1_1: u32 = 16;
/// Size of an endpoint memory access descriptor in v1.2 (with the implementation-defined field).
pub const ENDPOINT_DESCRIPTOR_SIZE_V1_2: u32 = 32;
/// Size of the composite memory region descriptor header.
pub const COMPOSITE_HEADER_SIZE: usize = 16;
/// Size of one constituent memory region descriptor.
pub const CONSTITUENT_SIZE: usize = 16;
/// Memory region attributes bit 6: the memory is non-secure (set by the relayer in a retrieve response).
pub const ATTRIBUTE_NON_SECURE: u16 = 1 << 6;

/// Which header layout a descriptor uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorVersion {
    /// FF-A v1.0: 32-byte header, 16-byte endpoint descriptors right after it.
    V1_0,
    /// FF-A v1.1 and later: 48-byte header with the endpoint descriptor size and offset.
    V1_1,
}

/// The transaction type in flags `[4:3]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionType {
    /// 0: not specified (allowed in a retrieve request: any type).
    Unspecified,
    /// 1: `FFA_MEM_SHARE`.
    Share,
    /// 2: `FFA_MEM_LEND`.
    Lend,
    /// 3: `FFA_MEM_DONATE`.
    Donate,
}

impl TransactionType {
    const SHIFT: u32 = 3;
    const MASK: u32 = 0b11 << Self::SHIFT;

    /// The type a flags word carries.
    pub const fn from_flags(flags: u32) -> TransactionType {
        match (flags & Self::MASK) >> Self::SHIFT {
            0 => TransactionType::Unspecified,
            1 => TransactionType::Share,
            2 => TransactionType::Lend,
            _ => TransactionType::Donate,
        }
    }

    /// The flags bits for this type.
    pub const fn flags(self) -> u32 {
        let value = match self {
            TransactionType::Unspecified => 0,
            TransactionType::Share => 1,
            TransactionType::Lend => 2,
            TransactionType::Donate => 3,
        };
        value << Self::SHIFT
    }

    /// A name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            TransactionType::Unspecified => "unspecified",
            TransactionType::Share => "share",
            TransactionType::Lend => "lend",
            TransactionType::Donate => "donate",
        }
    }
}

/// Data access permission in an endpoint memory access descriptor, bits `[1:0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataAccess {
    /// 0: not specified.
    Unspecified,
    /// 1: read-only.
    ReadOnly,
    /// 2: read-write.
    ReadWrite,
    /// 3: reserved.
    Reserved,
}

impl DataAccess {
    /// The data access of a permissions byte.
    pub const fn from_permissions(permissions: u8) -> DataAccess {
        match permissions & 0b11 {
            0 => DataAccess::Unspecified,
            1 => DataAccess::ReadOnly,
            2 => DataAccess::ReadWrite,
            _ => DataAccess::Reserved,
        }
    }

    /// The permission bits `[1:0]` for this access.
    pub const fn bits(self) -> u8 {
        match self {
            DataAccess::Unspecified => 0,
            DataAccess::ReadOnly => 1,
            DataAccess::ReadWrite => 2,
            DataAccess::Reserved => 3,
        }
    }
}

/// Instruction access bits `[3:2]`: not executable.
pub const INSTRUCTION_NOT_EXECUTABLE: u8 = 1 << 2;

/// Why a descriptor cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorError {
    /// The bytes end before a structure that must be there.
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes there are.
        available: usize,
    },
    /// The endpoint count is zero.
    NoReceivers,
    /// The endpoint memory access descriptor size is below 16 bytes.
    BadEndpointDescriptorSize(u32),
    /// The endpoint descriptors start inside the header.
    EndpointDescriptorsOverlapHeader(u32),
    /// No endpoint memory access descriptor names this endpoint.
    ReceiverAbsent(PartitionId),
    /// The composite descriptor starts inside the header or endpoint descriptors.
    CompositeOverlapsEndpoints(u32),
    /// The composite descriptor's total page count is not the sum of its constituents'.
    PageCountMismatch {
        /// The total the composite descriptor states.
        stated: u32,
        /// The sum of the constituents' page counts.
        summed: u64,
    },
    /// A constituent's address is not 4 KiB-aligned.
    Misaligned {
        /// Index of the constituent.
        index: u32,
        /// Its address.
        address: u64,
    },
    /// A constituent has no pages.
    EmptyConstituent(u32),
    /// A constituent's end address overflows 64 bits.
    AddressOverflow(u32),
    /// The buffer given to write a descriptor into is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

impl core::fmt::Display for DescriptorError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DescriptorError::Truncated { needed, available } => write!(
                formatter,
                "truncated: needs {needed} bytes, has {available}"
            ),
            DescriptorError::NoReceivers => write!(formatter, "no endpoint memory access descriptors"),
            DescriptorError::BadEndpointDescriptorSize(size) => {
                write!(formatter, "endpoint memory access descriptor size {size} < 16")
            }
            DescriptorError::EndpointDescriptorsOverlapHeader(offset) => {
                write!(formatter, "endpoint descriptors at offset {offset} overlap the header")
            }
            DescriptorError::ReceiverAbsent(endpoint) => {
                write!(formatter, "no endpoint descriptor for {:#06x}", endpoint.raw())
            }
            DescriptorError::CompositeOverlapsEndpoints(offset) => write!(
                formatter,
                "composite descriptor at offset {offset} overlaps the header or endpoint descriptors"
            ),
            DescriptorError::PageCountMismatch { stated, summed } => write!(
                formatter,
                "total page count {stated} but the constituents hold {summed}"
            ),
            DescriptorError::Misaligned { index, address } => write!(
                formatter,
                "constituent {index} at {address:#x} is not 4 KiB-aligned"
            ),
            DescriptorError::EmptyConstituent(index) => write!(formatter, "constituent {index} has no pages"),
            DescriptorError::AddressOverflow(index) => {
                write!(formatter, "constituent {index} runs past the end of the address space")
            }
            DescriptorError::BufferTooSmall { needed } => {
                write!(formatter, "the buffer holds fewer than the {needed} bytes needed")
            }
        }
    }
}

fn require(available: &[u8], needed: u64) -> Result<(), DescriptorError> {
    if needed > available.len() as u64 {
        Err(DescriptorError::Truncated {
            needed,
            available: available.len(),
        })
    } else {
        Ok(())
    }
}

/// One receiver's endpoint memory access descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointAccess {
    /// The receiver's endpoint ID.
    pub endpoint: PartitionId,
    /// Its permissions byte.
    pub permissions: u8,
    /// Its flags byte.
    pub flags: u8,
    /// Offset of its composite memory region descriptor.
    pub composite_offset: u32,
}

impl EndpointAccess {
    /// The data access the permissions grant.
    pub const fn data_access(&self) -> DataAccess {
        DataAccess::from_permissions(self.permissions)
    }
}

/// A checked memory transaction descriptor.
#[derive(Clone, Copy, Debug)]
pub struct MemoryTransaction<'a> {
    bytes: &'a [u8],
    /// The header layout it was read with.
    pub version: DescriptorVersion,
    /// The sender's endpoint ID.
    pub sender: PartitionId,
    /// Memory region attributes (8 bits in v1.0, 16 from v1.1).
    pub attributes: u16,
    /// Flags.
    pub flags: u32,
    /// The memory handle.
    pub handle: u64,
    /// The sender's tag.
    pub tag: u64,
    endpoint_descriptor_size: u32,
    endpoint_descriptor_offset: u32,
    endpoint_count: u32,
}

impl<'a> MemoryTransaction<'a> {
    /// Checks the header and the endpoint descriptor array of `bytes` in `version`'s layout.
    pub fn parse(
        bytes: &'a [u8],
        version: DescriptorVersion,
    ) -> Result<MemoryTransaction<'a>, DescriptorError> {
        let header_size = match version {
            DescriptorVersion::V1_0 => HEADER_SIZE_V1_0,
            DescriptorVersion::V1_1 => HEADER_SIZE_V1_1,
        };
        require(bytes, header_size as u64)?;
        let read_u16 = |offset| u16_at(bytes, offset).unwrap_or(0);
        let read_u32 = |offset| u32_at(bytes, offset).unwrap_or(0);
        let read_u64 = |offset| u64_at(bytes, offset).unwrap_or(0);
        let (attributes, endpoint_descriptor_size, endpoint_descriptor_offset) = match version {
            DescriptorVersion::V1_0 => (
                u16::from(bytes[2]),
                ENDPOINT_DESCRIPTOR_SIZE_V1_1,
                HEADER_SIZE_V1_0 as u32,
            ),
            DescriptorVersion::V1_1 => (read_u16(2), read_u32(24), read_u32(32)),
        };
        let endpoint_count = read_u32(28);
        if endpoint_count == 0 {
            return Err(DescriptorError::NoReceivers);
        }
        if endpoint_descriptor_size < ENDPOINT_DESCRIPTOR_SIZE_V1_1 {
            return Err(DescriptorError::BadEndpointDescriptorSize(
                endpoint_descriptor_size,
            ));
        }
        if (endpoint_descriptor_offset as usize) < header_size {
            return Err(DescriptorError::EndpointDescriptorsOverlapHeader(
                endpoint_descriptor_offset,
            ));
        }
        let end = u64::from(endpoint_descriptor_offset)
            + u64::from(endpoint_count) * u64::from(endpoint_descriptor_size);
        require(bytes, end)?;
        Ok(MemoryTransaction {
            bytes,
            version,
            sender: PartitionId::new(read_u16(0)),
            attributes,
            flags: read_u32(4),
            handle: read_u64(8),
            tag: read_u64(16),
            endpoint_descriptor_size,
            endpoint_descriptor_offset,
            endpoint_count,
        })
    }

    /// The transaction type the flags carry.
    pub const fn transaction_type(&self) -> TransactionType {
        TransactionType::from_flags(self.flags)
    }

    /// Whether the relayer marked the memory non-secure (attributes bit 6).
    pub const fn is_non_secure(&self) -> bool {
        self.attributes & ATTRIBUTE_NON_SECURE != 0
    }

    /// Number of receivers.
    pub const fn receiver_count(&self) -> u32 {
        self.endpoint_count
    }

    /// Size of each endpoint memory access descriptor.
    pub const fn endpoint_descriptor_size(&self) -> u32 {
        self.endpoint_descriptor_size
    }

    /// The receivers' endpoint memory access descriptors.
    pub fn receivers(&self) -> impl Iterator<Item = EndpointAccess> + 'a {
        let bytes = self.bytes;
        let offset = self.endpoint_descriptor_offset as usize;
        let size = self.endpoint_descriptor_size as usize;
        (0..self.endpoint_count as usize).filter_map(move |index| {
            let start = offset + index * size;
            Some(EndpointAccess {
                endpoint: PartitionId::new(u16_at(bytes, start)?),
                permissions: *bytes.get(start + 2)?,
                flags: *bytes.get(start + 3)?,
                composite_offset: u32_at(bytes, start + 4)?,
            })
        })
    }

    /// The endpoint memory access descriptor naming `endpoint`.
    pub fn access_for(&self, endpoint: PartitionId) -> Result<EndpointAccess, DescriptorError> {
        self.receivers()
            .find(|access| access.endpoint == endpoint)
            .ok_or(DescriptorError::ReceiverAbsent(endpoint))
    }

    /// The checked composite memory region of `access`.
    pub fn region(&self, access: &EndpointAccess) -> Result<Region<'a>, DescriptorError> {
        let endpoints_end = u64::from(self.endpoint_descriptor_offset)
            + u64::from(self.endpoint_count) * u64::from(self.endpoint_descriptor_size);
        let offset = access.composite_offset;
        if u64::from(offset) < endpoints_end {
            return Err(DescriptorError::CompositeOverlapsEndpoints(offset));
        }
        let offset = offset as usize;
        require(self.bytes, offset as u64 + COMPOSITE_HEADER_SIZE as u64)?;
        let total_pages = u32_at(self.bytes, offset).unwrap_or(0);
        let count = u32_at(self.bytes, offset + 4).unwrap_or(0);
        let constituents_start = offset + COMPOSITE_HEADER_SIZE;
        require(
            self.bytes,
            constituents_start as u64 + u64::from(count) * CONSTITUENT_SIZE as u64,
        )?;
        let region = Region {
            constituents: &self.bytes
                [constituents_start..constituents_start + count as usize * CONSTITUENT_SIZE],
            total_pages,
        };
        let mut summed = 0u64;
        for (index, constituent) in region.constituents().enumerate() {
            let index = index as u32;
            if constituent.address % PAGE_SIZE != 0 {
                return Err(DescriptorError::Misaligned {
                    index,
                    address: constituent.address,
                });
            }
            if constituent.page_count == 0 {
                return Err(DescriptorError::EmptyConstituent(index));
            }
            if constituent.end().is_none() {
                return Err(DescriptorError::AddressOverflow(index));
            }
            summed += u64::from(constituent.page_count);
        }
        if summed != u64::from(total_pages) {
            return Err(DescriptorError::PageCountMismatch {
                stated: total_pages,
                summed,
            });
        }
        Ok(region)
    }
}

/// One contiguous range of pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constituent {
    /// Its (intermediate) physical address.
    pub address: u64,
    /// Number of 4 KiB pages.
    pub page_count: u32,
}

impl Constituent {
    /// Size in bytes.
    pub const fn size(&self) -> u64 {
        self.page_count as u64 * PAGE_SIZE
    }

    /// The first address after the range, or `None` if it wraps.
    pub const fn end(&self) -> Option<u64> {
        self.address.checked_add(self.size())
    }
}

/// A checked composite memory region: the constituents of one receiver's memory.
#[derive(Clone, Copy, Debug)]
pub struct Region<'a> {
    constituents: &'a [u8],
    /// The total page count (the sum of the constituents').
    pub total_pages: u32,
}

impl<'a> Region<'a> {
    /// Number of constituents.
    pub fn constituent_count(&self) -> usize {
        self.constituents.len() / CONSTITUENT_SIZE
    }

    /// The constituents, in order.
    pub fn constituents(&self) -> impl Iterator<Item = Constituent> + 'a {
        self.constituents
            .chunks_exact(CONSTITUENT_SIZE)
            .map(|bytes| Constituent {
                address: u64_at(bytes, 0).unwrap_or(0),
                page_count: u32_at(bytes, 8).unwrap_or(0),
            })
    }

    /// Size of the whole region in bytes.
    pub const fn size(&self) -> u64 {
        self.total_pages as u64 * PAGE_SIZE
    }
}

/// What a borrower asks for in `FFA_MEM_RETRIEVE_REQ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrieveRequest {
    /// The sender of the transaction (the relayer checks it).
    pub sender: PartitionId,
    /// The memory handle.
    pub handle: u64,
    /// The sender's tag (the relayer checks it).
    pub tag: u64,
    /// The transaction type expected, or unspecified for any.
    pub transaction_type: TransactionType,
    /// The borrower's own endpoint ID.
    pub receiver: PartitionId,
    /// The data access the borrower asks for.
    pub access: DataAccess,
    /// Size of the endpoint memory access descriptor to write (16 or 32; v1.1+ layout only).
    pub endpoint_descriptor_size: u32,
}

impl RetrieveRequest {
    /// Writes the retrieve request descriptor (one endpoint memory access
    /// descriptor, no composite) in `version`'s layout into `buffer`;
    /// returns its length.
    pub fn write(
        &self,
        version: DescriptorVersion,
        buffer: &mut [u8],
    ) -> Result<usize, DescriptorError> {
        let (header_size, endpoint_size) = match version {
            DescriptorVersion::V1_0 => (HEADER_SIZE_V1_0, ENDPOINT_DESCRIPTOR_SIZE_V1_1),
            DescriptorVersion::V1_1 => (HEADER_SIZE_V1_1, self.endpoint_descriptor_size),
        };
        if endpoint_size < ENDPOINT_DESCRIPTOR_SIZE_V1_1 {
            return Err(DescriptorError::BadEndpointDescriptorSize(endpoint_size));
        }
        let length = header_size + endpoint_size as usize;
        let buffer = buffer
            .get_mut(..length)
            .ok_or(DescriptorError::BufferTooSmall { needed: length })?;
        buffer.fill(0);
        let written = (|| {
            put(buffer, 0, &self.sender.raw().to_le_bytes())?;
            put(buffer, 4, &self.transaction_type.flags().to_le_bytes())?;
            put(buffer, 8, &self.handle.to_le_bytes())?;
            put(buffer, 16, &self.tag.to_le_bytes())?;
            put(buffer, 28, &1u32.to_le_bytes())?;
            if version == DescriptorVersion::V1_1 {
                put(buffer, 24, &endpoint_size.to_le_bytes())?;
                put(buffer, 32, &(header_size as u32).to_le_bytes())?;
            }
            put(buffer, header_size, &self.receiver.raw().to_le_bytes())?;
            let permissions = self.access.bits() | INSTRUCTION_NOT_EXECUTABLE;
            put(buffer, header_size + 2, &[permissions])
        })();
        written.ok_or(DescriptorError::BufferTooSmall { needed: length })?;
        Ok(length)
    }
}

/// Writes the relinquish descriptor (handle, flags 0, one endpoint) into `buffer`; returns its length.
pub fn write_relinquish(
    buffer: &mut [u8],
    handle: u64,
    endpoint: PartitionId,
) -> Result<usize, DescriptorError> {
    const LENGTH: usize = 18;
    let buffer = buffer
        .get_mut(..LENGTH)
        .ok_or(DescriptorError::BufferTooSmall { needed: LENGTH })?;
    buffer.fill(0);
    buffer[0..8].copy_from_slice(&handle.to_le_bytes());
    buffer[12..16].copy_from_slice(&1u32.to_le_bytes());
    buffer[16..18].copy_from_slice(&endpoint.raw().to_le_bytes());
    Ok(LENGTH)
}

/// Builders of descriptors for tests (of this crate and of the fake SPMC).
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use std::vec::Vec;

    /// A v1.1-layout descriptor from one sender to `receivers`, all sharing one composite.
    pub(crate) fn transaction(
        sender: u16,
        flags: u32,
        handle: u64,
        tag: u64,
        endpoint_descriptor_size: u32,
        receivers: &[(u16, u8)],
        constituents: &[(u64, u32)],
    ) -> Vec<u8> {
        let header = HEADER_SIZE_V1_1;
        let composite = header + receivers.len() * endpoint_descriptor_size as usize;
        let mut bytes = std::vec![0u8; composite + COMPOSITE_HEADER_SIZE + constituents.len() * CONSTITUENT_SIZE];
        bytes[0..2].copy_from_slice(&sender.to_le_bytes());
        bytes[2..4].copy_from_slice(&0x2fu16.to_le_bytes()); // normal, write-back, inner shareable
        bytes[4..8].copy_from_slice(&flags.to_le_bytes());
        bytes[8..16].copy_from_slice(&handle.to_le_bytes());
        bytes[16..24].copy_from_slice(&tag.to_le_bytes());
        bytes[24..28].copy_from_slice(&endpoint_descriptor_size.to_le_bytes());
        bytes[28..32].copy_from_slice(&(receivers.len() as u32).to_le_bytes());
        bytes[32..36].copy_from_slice(&(header as u32).to_le_bytes());
        for (index, (endpoint, permissions)) in receivers.iter().enumerate() {
            let start = header + index * endpoint_descriptor_size as usize;
            bytes[start..start + 2].copy_from_slice(&endpoint.to_le_bytes());
            bytes[start + 2] = *permissions;
            bytes[start + 4..start + 8].copy_from_slice(&(composite as u32).to_le_bytes());
        }
        let total: u32 = constituents.iter().map(|(_, pages)| pages).sum();
        bytes[composite..composite + 4].copy_from_slice(&total.to_le_bytes());
        bytes[composite + 4..composite + 8]
            .copy_from_slice(&(constituents.len() as u32).to_le_bytes());
        for (index, (address, pages)) in constituents.iter().enumerate() {
            let start = composite + COMPOSITE_HEADER_SIZE + index * CONSTITUENT_SIZE;
            bytes[start..start + 8].copy_from_slice(&address.to_le_bytes());
            bytes[start + 8..start + 12].copy_from_slice(&pages.to_le_bytes());
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::transaction;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    const SHARE: u32 = 1 << 3;

    #[test]
    fn reads_a_v1_1_share_with_two_receivers() {
        let bytes = transaction(
            0,
            SHARE,
            0x1234,
            7,
            16,
            &[(0x8002, 1), (0x8001, 2 | 4)],
            &[(0x4010_0000, 2), (0x4020_0000, 1)],
        );
        let transaction = MemoryTransaction::parse(&bytes, DescriptorVersion::V1_1).unwrap();
        assert_eq!(transaction.sender, PartitionId::NORMAL_WORLD);
        assert_eq!(transaction.handle, 0x1234);
        assert_eq!(transaction.tag, 7);
        assert_eq!(transaction.transaction_type(), TransactionType::Share);
        assert!(!transaction.is_non_secure());
        assert_eq!(transaction.receiver_count(), 2);
        let access = transaction.access_for(PartitionId::new(0x8001)).unwrap();
        assert_eq!(access.data_access(), DataAccess::ReadWrite);
        let region = transaction.region(&access).unwrap();
        assert_eq!(region.total_pages, 3);
        assert_eq!(region.size(), 3 * 4096);
        let constituents: Vec<Constituent> = region.constituents().collect();
        assert_eq!(
            constituents,
            [
                Constituent {
                    address: 0x4010_0000,
                    page_count: 2
                },
                Constituent {
                    address: 0x4020_0000,
                    page_count: 1
                }
            ]
        );
        assert_eq!(
            transaction
                .access_for(PartitionId::new(0x8003))
                .unwrap_err(),
            DescriptorError::ReceiverAbsent(PartitionId::new(0x8003))
        );
    }

    #[test]
    fn reads_v1_2_endpoint_descriptors_by_their_stated_size() {
        let bytes = transaction(0, SHARE, 1, 0, 32, &[(0x8001, 2)], &[(0x4000_0000, 1)]);
        let transaction = MemoryTransaction::parse(&bytes, DescriptorVersion::V1_1).unwrap();
        assert_eq!(transaction.endpoint_descriptor_size(), 32);
        let region = transaction
            .region(&transaction.access_for(PartitionId::new(0x8001)).unwrap())
            .unwrap();
        assert_eq!(region.constituent_count(), 1);
    }

    #[test]
    fn reads_the_v1_0_layout() {
        // v1.0: 32-byte header, endpoint descriptors at 32, composite after them.
        let mut bytes = std::vec![0u8; 32 + 16 + 16 + 16];
        bytes[2] = 0x2f;
        bytes[4..8].copy_from_slice(&(2u32 << 3).to_le_bytes());
        bytes[8..16].copy_from_slice(&9u64.to_le_bytes());
        bytes[28..32].copy_from_slice(&1u32.to_le_bytes());
        bytes[32..34].copy_from_slice(&0x8001u16.to_le_bytes());
        bytes[34] = 1;
        bytes[36..40].copy_from_slice(&48u32.to_le_bytes());
        bytes[48..52].copy_from_slice(&4u32.to_le_bytes());
        bytes[52..56].copy_from_slice(&1u32.to_le_bytes());
        bytes[64..72].copy_from_slice(&0x4100_0000u64.to_le_bytes());
        bytes[72..76].copy_from_slice(&4u32.to_le_bytes());
        let transaction = MemoryTransaction::parse(&bytes, DescriptorVersion::V1_0).unwrap();
        assert_eq!(transaction.attributes, 0x2f);
        assert_eq!(transaction.transaction_type(), TransactionType::Lend);
        let access = transaction.access_for(PartitionId::new(0x8001)).unwrap();
        assert_eq!(access.data_access(), DataAccess::ReadOnly);
        assert_eq!(transaction.region(&access).unwrap().size(), 4 * 4096);
    }

    #[test]
    fn rejects_inconsistent_descriptors() {
        let good = transaction(0, SHARE, 1, 0, 16, &[(0x8001, 2)], &[(0x4000_0000, 2)]);
        let parse = |bytes: &[u8]| {
            MemoryTransaction::parse(bytes, DescriptorVersion::V1_1)
                .and_then(|transaction| {
                    transaction.region(&transaction.access_for(PartitionId::new(0x8001))?)
                })
                .map(|region| region.total_pages)
        };
        assert_eq!(parse(&good), Ok(2));

        let mut broken = good.clone();
        broken[28..32].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse(&broken), Err(DescriptorError::NoReceivers));

        let mut broken = good.clone();
        broken[24..28].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(
            parse(&broken),
            Err(DescriptorError::BadEndpointDescriptorSize(8))
        );

        let mut broken = good.clone();
        broken[32..36].copy_from_slice(&16u32.to_le_bytes());
        assert_eq!(
            parse(&broken),
            Err(DescriptorError::EndpointDescriptorsOverlapHeader(16))
        );

        let mut broken = good.clone();
        broken[28..32].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            parse(&broken),
            Err(DescriptorError::Truncated { .. })
        ));

        let mut broken = good.clone();
        broken[52..56].copy_from_slice(&50u32.to_le_bytes()); // composite offset inside the EMAD
        assert_eq!(
            parse(&broken),
            Err(DescriptorError::CompositeOverlapsEndpoints(50))
        );

        let mut broken = good.clone();
        broken[64..68].copy_from_slice(&3u32.to_le_bytes()); // total pages
        assert_eq!(
            parse(&broken),
            Err(DescriptorError::PageCountMismatch {
                stated: 3,
                summed: 2
            })
        );

        let mut broken = good.clone();
        broken[68..72].copy_from_slice(&2u32.to_le_bytes()); // two constituents, one present
        assert!(matches!(
            parse(&broken),
            Err(DescriptorError::Truncated { .. })
        ));

        let mut broken = good.clone();
        broken[80..88].copy_from_slice(&0x4000_0800u64.to_le_bytes());
        assert_eq!(
            parse(&broken),
            Err(DescriptorError::Misaligned {
                index: 0,
                address: 0x4000_0800
            })
        );

        let mut broken = good.clone();
        broken[80..88].copy_from_slice(&0xffff_ffff_ffff_f000u64.to_le_bytes());
        assert_eq!(parse(&broken), Err(DescriptorError::AddressOverflow(0)));

        let mut broken = good.clone();
        broken[88..92].copy_from_slice(&0u32.to_le_bytes());
        broken[64..68].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse(&broken), Err(DescriptorError::EmptyConstituent(0)));

        assert!(matches!(
            parse(&good[..40]),
            Err(DescriptorError::Truncated { .. })
        ));
    }

    #[test]
    fn writes_retrieve_requests_in_both_layouts() {
        let request = RetrieveRequest {
            sender: PartitionId::NORMAL_WORLD,
            handle: 0xAABB_CCDD_0000_0001,
            tag: 0x55,
            transaction_type: TransactionType::Lend,
            receiver: PartitionId::new(0x8001),
            access: DataAccess::ReadWrite,
            endpoint_descriptor_size: 32,
        };
        let mut buffer = [0xEEu8; 128];
        let length = request.write(DescriptorVersion::V1_1, &mut buffer).unwrap();
        assert_eq!(length, 80);
        assert_eq!(&buffer[24..36], &[32, 0, 0, 0, 1, 0, 0, 0, 48, 0, 0, 0]);
        assert_eq!(&buffer[48..52], &[0x01, 0x80, 0x06, 0x00]);
        assert_eq!(buffer[80], 0xEE, "nothing written past the descriptor");
        // The request reads back as a descriptor with our endpoint and no composite.
        let parsed = MemoryTransaction::parse(&buffer[..length], DescriptorVersion::V1_1).unwrap();
        assert_eq!(parsed.handle, request.handle);
        assert_eq!(parsed.tag, 0x55);
        assert_eq!(parsed.transaction_type(), TransactionType::Lend);
        assert_eq!(
            parsed
                .access_for(PartitionId::new(0x8001))
                .unwrap()
                .composite_offset,
            0
        );

        let length = request.write(DescriptorVersion::V1_0, &mut buffer).unwrap();
        assert_eq!(length, 48);
        assert_eq!(&buffer[24..32], &[0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&buffer[32..34], &[0x01, 0x80]);

        assert_eq!(
            request.write(DescriptorVersion::V1_1, &mut [0u8; 79]),
            Err(DescriptorError::BufferTooSmall { needed: 80 })
        );
    }

    #[test]
    fn writes_relinquish_descriptors() {
        let mut buffer = [0xFFu8; 20];
        assert_eq!(
            write_relinquish(&mut buffer, 0x0102, PartitionId::new(0x8001)),
            Ok(18)
        );
        assert_eq!(
            &buffer[..18],
            &[2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x80]
        );
        assert!(write_relinquish(&mut [0u8; 17], 1, PartitionId::new(1)).is_err());
    }

    #[test]
    fn transaction_types_round_trip() {
        for kind in [
            TransactionType::Unspecified,
            TransactionType::Share,
            TransactionType::Lend,
            TransactionType::Donate,
        ] {
            assert_eq!(TransactionType::from_flags(kind.flags() | 0x7), kind);
        }
    }

    proptest! {
        /// Whatever lands in RX, parsing never panics, and every constituent of an
        /// accepted region lies inside the descriptor and adds up to the total.
        #[test]
        fn arbitrary_bytes_parse_or_fail_cleanly(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            version_1_0 in any::<bool>(),
            endpoint in any::<u16>(),
        ) {
            let version = if version_1_0 { DescriptorVersion::V1_0 } else { DescriptorVersion::V1_1 };
            if let Ok(transaction) = MemoryTransaction::parse(&bytes, version) {
                prop_assert!(transaction.receivers().count() as u32 == transaction.receiver_count());
                if let Ok(access) = transaction.access_for(PartitionId::new(endpoint)) {
                    if let Ok(region) = transaction.region(&access) {
                        let summed: u64 = region.constituents().map(|c| u64::from(c.page_count)).sum();
                        prop_assert_eq!(summed, u64::from(region.total_pages));
                        prop_assert!(region.constituents().all(|c| c.address % PAGE_SIZE == 0 && c.end().is_some()));
                    }
                }
            }
        }

        /// Valid descriptors with any number of receivers and constituents read back exactly.
        #[test]
        fn generated_descriptors_round_trip(
            receivers in proptest::collection::btree_set(any::<u16>(), 1..6),
            constituents in proptest::collection::vec((0u64..0x10_0000, 1u32..64), 0..40),
            wide in any::<bool>(),
            handle in any::<u64>(),
            tag in any::<u64>(),
        ) {
            let receivers: Vec<(u16, u8)> = receivers.into_iter().map(|id| (id, 2)).collect();
            let constituents: Vec<(u64, u32)> =
                constituents.into_iter().map(|(page, count)| (page * PAGE_SIZE, count)).collect();
            let size = if wide { 32 } else { 16 };
            let bytes = transaction(0, SHARE, handle, tag, size, &receivers, &constituents);
            let transaction = MemoryTransaction::parse(&bytes, DescriptorVersion::V1_1).unwrap();
            prop_assert_eq!(transaction.handle, handle);
            prop_assert_eq!(transaction.tag, tag);
            for (endpoint, _) in &receivers {
                let region = transaction.region(&transaction.access_for(PartitionId::new(*endpoint)).unwrap()).unwrap();
                let read: Vec<(u64, u32)> = region.constituents().map(|c| (c.address, c.page_count)).collect();
                prop_assert_eq!(&read, &constituents);
            }
        }

        /// Truncating a valid descriptor anywhere is an error, never a panic or a shorter region.
        #[test]
        fn truncated_descriptors_are_refused(cut in 0usize..112) {
            let bytes = transaction(0, SHARE, 1, 0, 16, &[(0x8001, 2)], &[(0x4000_0000, 1), (0x4001_0000, 2)]);
            prop_assume!(cut < bytes.len());
            let result = MemoryTransaction::parse(&bytes[..cut], DescriptorVersion::V1_1)
                .and_then(|transaction| transaction.region(&transaction.access_for(PartitionId::new(0x8001))?));
            prop_assert!(result.is_err());
        }
    }
}
