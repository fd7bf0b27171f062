//! The FF-A boot information blob (DEN0077A v1.1+, "Boot information protocol") the SPMC passes at entry.
//!
//! With `gp-register-num = <0>` in its manifest the partition finds the
//! blob's address in x0. The blob is a 32-byte header followed by
//! descriptors; TF-A's EL3 SPMC writes one, for the partition's own manifest
//! (an FDT), copied into the blob:
//!
//! | offset | header field | | offset | descriptor field |
//! |---|---|---|---|---|
//! | 0 | signature `0x0FFA` (u32) | | 0 | name (16 bytes) |
//! | 4 | version (u32) | | 16 | type (u8): bit 7 implementation-defined, `[5:0]` 0 FDT, 1 HOB |
//! | 8 | blob size (u32) | | 18 | flags (u16): `[1:0]` name format, `[3:2]` content is 0 an address, 1 a value |
//! | 12 | descriptor size (u32) | | 20 | size of the information (u32) |
//! | 16 | descriptor count (u32) | | 24 | content (u64) |
//! | 20 | descriptor offset (u32) | | | |
//!
//! [`BootInfo::parse`] checks every field against the bytes it was given, so
//! a corrupt blob is an error, never a read out of range.

use crate::abi::Version;
use crate::bytes::{u16_at, u32_at, u64_at};

/// The signature in the first word of the blob.
pub const SIGNATURE: u32 = 0x0FFA;
/// Size of the blob header.
pub const HEADER_SIZE: usize = 32;
/// Size of one descriptor as defined by FF-A v1.1 and v1.2.
pub const DESCRIPTOR_SIZE: usize = 32;
/// The largest blob the partition reads (TF-A reserves one 4 KiB page for it).
pub const MAXIMUM_BLOB_SIZE: usize = 4096;
/// Magic number at the start of a flattened device tree (big-endian).
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// Why a boot information blob is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootInfoError {
    /// Fewer bytes than a header.
    Truncated,
    /// The first word is not `0x0FFA`.
    BadSignature(u32),
    /// The version word is not a valid v1.x version.
    BadVersion(u32),
    /// The blob size is smaller than the header, or larger than the bytes given or the maximum.
    BadBlobSize(u32),
    /// The descriptor size is smaller than a v1.1 descriptor.
    BadDescriptorSize(u32),
    /// The descriptors (offset, count, size) do not fit inside the blob.
    DescriptorsOutside {
        /// Offset of the first descriptor.
        offset: u32,
        /// Number of descriptors.
        count: u32,
    },
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInfoError::Truncated => write!(formatter, "shorter than its 32-byte header"),
            BootInfoError::BadSignature(word) => {
                write!(formatter, "signature {word:#x}, not 0xffa")
            }
            BootInfoError::BadVersion(word) => {
                write!(formatter, "version word {word:#x} is not v1.x")
            }
            BootInfoError::BadBlobSize(size) => write!(formatter, "blob size {size} is impossible"),
            BootInfoError::BadDescriptorSize(size) => {
                write!(
                    formatter,
                    "descriptor size {size} is below {DESCRIPTOR_SIZE}"
                )
            }
            BootInfoError::DescriptorsOutside { offset, count } => write!(
                formatter,
                "{count} descriptor(s) at offset {offset} run past the blob"
            ),
        }
    }
}

/// What a boot information descriptor describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InformationKind {
    /// A flattened device tree (standard type 0): the partition manifest.
    DeviceTree,
    /// A UEFI hand-off block list (standard type 1).
    HandOffBlocks,
    /// Another standard type (its 6-bit ID).
    OtherStandard(u8),
    /// An implementation-defined type (its 6-bit ID).
    ImplementationDefined(u8),
}

/// Where a descriptor's information is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// At this physical address.
    Address(u64),
    /// The information is this value.
    Value(u64),
}

/// One boot information descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfoDescriptor {
    /// What it describes.
    pub kind: InformationKind,
    /// Where it is.
    pub content: Content,
    /// Size of the information in bytes.
    pub size: u32,
}

/// A checked boot information blob.
#[derive(Clone, Copy, Debug)]
pub struct BootInfo<'a> {
    /// The version the SPMC wrote (the partition's, from its manifest).
    pub version: Version,
    blob: &'a [u8],
    descriptor_size: usize,
    descriptor_offset: usize,
    descriptor_count: usize,
}

impl<'a> BootInfo<'a> {
    /// The blob size the header at the start of `bytes` claims, checked
    /// against [`MAXIMUM_BLOB_SIZE`]: how many bytes to read before [`BootInfo::parse`].
    pub fn claimed_size(bytes: &[u8]) -> Result<usize, BootInfoError> {
        let signature = u32_at(bytes, 0).ok_or(BootInfoError::Truncated)?;
        if signature != SIGNATURE {
            return Err(BootInfoError::BadSignature(signature));
        }
        let size = u32_at(bytes, 8).ok_or(BootInfoError::Truncated)?;
        if (size as usize) < HEADER_SIZE || size as usize > MAXIMUM_BLOB_SIZE {
            return Err(BootInfoError::BadBlobSize(size));
        }
        Ok(size as usize)
    }

    /// Checks the blob in `bytes` (at least its claimed size).
    pub fn parse(bytes: &'a [u8]) -> Result<BootInfo<'a>, BootInfoError> {
        if bytes.len() < HEADER_SIZE {
            return Err(BootInfoError::Truncated);
        }
        let size = Self::claimed_size(bytes)?;
        if size > bytes.len() {
            return Err(BootInfoError::BadBlobSize(size as u32));
        }
        let blob = &bytes[..size];
        let version_word = u32_at(blob, 4).ok_or(BootInfoError::Truncated)?;
        let version = Version::from_raw(version_word)
            .ok()
            .filter(|version| version.major() == 1)
            .ok_or(BootInfoError::BadVersion(version_word))?;
        let descriptor_size = u32_at(blob, 12).ok_or(BootInfoError::Truncated)?;
        if (descriptor_size as usize) < DESCRIPTOR_SIZE {
            return Err(BootInfoError::BadDescriptorSize(descriptor_size));
        }
        let count = u32_at(blob, 16).ok_or(BootInfoError::Truncated)?;
        let offset = u32_at(blob, 20).ok_or(BootInfoError::Truncated)?;
        let end = u64::from(count) * u64::from(descriptor_size) + u64::from(offset);
        if (offset as usize) < HEADER_SIZE || end > size as u64 {
            return Err(BootInfoError::DescriptorsOutside { offset, count });
        }
        Ok(BootInfo {
            version,
            blob,
            descriptor_size: descriptor_size as usize,
            descriptor_offset: offset as usize,
            descriptor_count: count as usize,
        })
    }

    /// Number of descriptors.
    pub fn descriptor_count(&self) -> usize {
        self.descriptor_count
    }

    /// Size of the whole blob.
    pub fn size(&self) -> usize {
        self.blob.len()
    }

    /// The descriptors, in order.
    pub fn descriptors(&self) -> impl Iterator<Item = BootInfoDescriptor> + 'a {
        let blob = self.blob;
        let (offset, size) = (self.descriptor_offset, self.descriptor_size);
        (0..self.descriptor_count).filter_map(move |index| {
            let start = offset + index * size;
            let kind_byte = *blob.get(start + 16)?;
            let flags = u16_at(blob, start + 18)?;
            let information_size = u32_at(blob, start + 20)?;
            let content = u64_at(blob, start + 24)?;
            let identifier = kind_byte & 0x3F;
            let kind = match (kind_byte & 0x80 != 0, identifier) {
                (true, identifier) => InformationKind::ImplementationDefined(identifier),
                (false, 0) => InformationKind::DeviceTree,
                (false, 1) => InformationKind::HandOffBlocks,
                (false, identifier) => InformationKind::OtherStandard(identifier),
            };
            let content = if (flags >> 2) & 0b11 == 1 {
                Content::Value(content)
            } else {
                Content::Address(content)
            };
            Some(BootInfoDescriptor {
                kind,
                content,
                size: information_size,
            })
        })
    }

    /// The first device tree (the manifest) given by address, if any.
    pub fn manifest(&self) -> Option<(u64, u32)> {
        self.descriptors().find_map(|descriptor| match descriptor {
            BootInfoDescriptor {
                kind: InformationKind::DeviceTree,
                content: Content::Address(address),
                size,
            } => Some((address, size)),
            _ => None,
        })
    }
}

/// Checks a flattened device tree header: the magic, and a total size
/// (big-endian word 1) that fits in `available` bytes. Returns the total size.
pub fn check_device_tree(header: &[u8], available: u32) -> Option<u32> {
    let word = |index: usize| {
        header
            .get(index * 4..index * 4 + 4)
            .map(|bytes| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let total = word(1)?;
    (word(0)? == FDT_MAGIC && total >= 40 && total <= available).then_some(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// A blob as TF-A's EL3 SPMC writes it: one FDT descriptor whose content
    /// (a `manifest_size`-byte manifest) follows the descriptor.
    pub(crate) fn tf_a_blob(base: u64, manifest_size: u32) -> Vec<u8> {
        let mut blob = Vec::new();
        for word in [
            SIGNATURE,
            0x0001_0002,
            (HEADER_SIZE + DESCRIPTOR_SIZE) as u32 + manifest_size,
            DESCRIPTOR_SIZE as u32,
            1,
            HEADER_SIZE as u32,
        ] {
            blob.extend_from_slice(&word.to_le_bytes());
        }
        blob.extend_from_slice(&0u64.to_le_bytes());
        blob.extend_from_slice(&[0; 16]); // name
        blob.push(0); // standard, FDT
        blob.push(0);
        blob.extend_from_slice(&1u16.to_le_bytes()); // name is a UUID, content an address
        blob.extend_from_slice(&manifest_size.to_le_bytes());
        blob.extend_from_slice(&(base + 64).to_le_bytes());
        blob.resize(blob.len() + manifest_size as usize, 0);
        blob
    }

    #[test]
    fn reads_the_blob_tf_a_writes() {
        let blob = tf_a_blob(0x0e03_0000, 443);
        assert_eq!(BootInfo::claimed_size(&blob), Ok(64 + 443));
        let info = BootInfo::parse(&blob).unwrap();
        assert_eq!(info.version, Version::V1_2);
        assert_eq!(info.descriptor_count(), 1);
        assert_eq!(info.size(), 507);
        assert_eq!(info.manifest(), Some((0x0e03_0040, 443)));
    }

    #[test]
    fn rejects_broken_headers() {
        let blob = tf_a_blob(0, 100);
        let mut broken = blob.clone();
        broken[0] = 0xFB;
        assert_eq!(
            BootInfo::parse(&broken).unwrap_err(),
            BootInfoError::BadSignature(0xFFB)
        );
        let mut broken = blob.clone();
        broken[4..8].copy_from_slice(&0x0002_0000u32.to_le_bytes());
        assert!(matches!(
            BootInfo::parse(&broken),
            Err(BootInfoError::BadVersion(_))
        ));
        let mut broken = blob.clone();
        broken[16..20].copy_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            BootInfo::parse(&broken),
            Err(BootInfoError::DescriptorsOutside { count: 100, .. })
        ));
        assert_eq!(
            BootInfo::parse(&blob[..20]).unwrap_err(),
            BootInfoError::Truncated
        );
        assert!(matches!(
            BootInfo::parse(&blob[..100]),
            Err(BootInfoError::BadBlobSize(_))
        ));
    }

    #[test]
    fn device_tree_headers_are_checked() {
        let mut header = [0u8; 40];
        header[0..4].copy_from_slice(&FDT_MAGIC.to_be_bytes());
        header[4..8].copy_from_slice(&443u32.to_be_bytes());
        assert_eq!(check_device_tree(&header, 443), Some(443));
        assert_eq!(check_device_tree(&header, 442), None);
        header[0] = 0;
        assert_eq!(check_device_tree(&header, 443), None);
        assert_eq!(check_device_tree(&header[..4], 443), None);
    }

    proptest! {
        /// Whatever the SPMC hands over, parsing never panics and every
        /// descriptor it yields lies inside the blob.
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(info) = BootInfo::parse(&bytes) {
                prop_assert!(info.size() <= bytes.len());
                prop_assert_eq!(info.descriptors().count(), info.descriptor_count());
            }
        }

        /// Mutating one byte of a valid blob never breaks the parser.
        #[test]
        fn mutated_blobs_parse_or_fail_cleanly(index in 0usize..64, value in any::<u8>(), size in 0u32..200) {
            let mut blob = tf_a_blob(0x1000, size);
            blob[index] = value;
            if let Ok(info) = BootInfo::parse(&blob) {
                for descriptor in info.descriptors() {
                    let _ = descriptor;
                }
                prop_assert!(info.descriptor_count() * DESCRIPTOR_SIZE <= info.size());
            }
        }
    }
}
