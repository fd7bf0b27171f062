//! The memory transaction descriptor of `FFA_MEM_SHARE`/`LEND`/`DONATE`,
//! in the layout of the negotiated version, written straight into TX.
//!
//! | offset | v1.0 (32-byte header) | v1.1, v1.2, v1.3 (48-byte header) |
//! |---|---|---|
//! | 0 | sender ID (u16) | sender ID (u16) |
//! | 2 | memory region attributes (u8), reserved (u8) | memory region attributes (u16) |
//! | 4 | flags (u32) | flags (u32) |
//! | 8 | handle (u64, 0 when sending) | handle |
//! | 16 | tag (u64) | tag |
//! | 24 | reserved (u32) | endpoint memory access descriptor size (u32): 16, or 32 from v1.2 |
//! | 28 | endpoint memory access descriptor count (u32) | count |
//! | 32 | the descriptors | offset of the descriptors (u32): 48 |
//! | 36 | | reserved (12 bytes) |
//!
//! Each endpoint memory access descriptor is the receiver's ID (u16), its
//! permissions (u8), flags (u8, 0 when sending) and the offset of the
//! composite memory region descriptor (u32); then 8 reserved bytes (v1.0,
//! v1.1), or the 16-byte implementation-defined value and 8 reserved bytes
//! (v1.2 and v1.3, whose memory descriptors are the same). Every receiver
//! points at the one composite descriptor, right after the access
//! descriptors: total page count (u32), range count (u32), 8 reserved bytes,
//! then one 16-byte constituent per range (address u64, page count u32,
//! reserved u32). Every structure is a multiple of 16 bytes, so the
//! descriptor is a sequence of 16-byte units; it is generated unit by unit
//! for any byte range, which is how a fragment is written at TX offset 0
//! without building the whole descriptor anywhere else (units reach TX in
//! bursts of up to 512 bytes, one `SharedBuffer::write` each).
//!
//! The layout follows the negotiated version ([`Layout::of`]); nothing in the
//! descriptor says which it is, so a guessed layout is parsed as garbage.
//!
//! ```
//! use capsule_ffa::memory::attributes::{DataAccess, MemoryType, Operation, Receiver, TransferOptions};
//! use capsule_ffa::memory::descriptor::{Descriptor, Layout};
//! use ffa_abi::PartitionId;
//! use kernel::page_pool::PageRange;
//!
//! let receivers = [Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite)];
//! let ranges = [PageRange::new(0x4000_1000, 1)];
//! let options = TransferOptions::DEFAULT;
//! let descriptor = Descriptor::new(Layout::V1_1, PartitionId::new(0), Operation::Share, &receivers, &options, &ranges[..]).unwrap();
//! assert_eq!(descriptor.total_length(), 96);
//! let mut bytes = [0u8; 96];
//! descriptor.write_range(0, 96, |offset: usize, piece: &[u8]| { bytes[offset..offset + piece.len()].copy_from_slice(piece); Ok(()) }).unwrap();
//! assert_eq!(&bytes[0x30..0x38], &[0x01, 0x80, 0x02, 0x00, 0x40, 0, 0, 0]); // receiver 0x8001 RW, composite at 0x40
//! assert_eq!(&bytes[0x50..0x5C], &[0x00, 0x10, 0x00, 0x40, 0, 0, 0, 0, 1, 0, 0, 0]);
//! ```

use super::attributes::{
    Operation, Receiver, TransactionError, TransferOptions, MAXIMUM_RECEIVERS,
};
use crate::error::ClientError;
use crate::version::{NegotiatedVersion, SupportedVersion};
use ffa_abi::PartitionId;
use kernel::page_pool::{PageRange, Region};

/// The page size descriptors count in.
const PAGE_BYTES: u64 = 4096;
/// Size of a descriptor unit: every structure is a multiple of it.
pub const UNIT: usize = 16;
/// Size of the composite memory region descriptor's header.
pub const COMPOSITE_HEADER_SIZE: usize = 16;
/// Size of one constituent memory region descriptor.
pub const CONSTITUENT_SIZE: usize = 16;
/// Bytes of the largest fixed part: a v1.1+ header, the most receivers with
/// 32-byte access descriptors, and the composite header.
const MAXIMUM_FIXED_SIZE: usize = 48 + MAXIMUM_RECEIVERS * 32 + COMPOSITE_HEADER_SIZE;
/// The write-combining block between unit generation and TX (holds the
/// largest fixed part).
const BURST: usize = 512;
/// The staging block of small descriptors (one receiver, a few ranges).
const SMALL_BURST: usize = 128;
const _: () = assert!(MAXIMUM_FIXED_SIZE <= BURST);

/// Which descriptor layout: the negotiated version decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, defmt::Format)]
pub enum Layout {
    /// FF-A v1.0: 32-byte header, 16-byte access descriptors at offset 32.
    V1_0,
    /// FF-A v1.1: 48-byte header with the access descriptors' size (16) and offset (48).
    V1_1,
    /// FF-A v1.2 and v1.3: as v1.1 with 32-byte access descriptors carrying
    /// a 16-byte implementation-defined value at offset 8.
    V1_2,
}

impl Layout {
    /// The layout of a negotiated version.
    pub const fn of(version: &NegotiatedVersion) -> Layout {
        match version.supported() {
            SupportedVersion::V1_0 => Layout::V1_0,
            SupportedVersion::V1_1 => Layout::V1_1,
            SupportedVersion::V1_2 => Layout::V1_2,
        }
    }

    /// Size of the transaction descriptor's header.
    pub const fn header_size(self) -> usize {
        match self {
            Layout::V1_0 => 32,
            Layout::V1_1 | Layout::V1_2 => 48,
        }
    }

    /// Size of one endpoint memory access descriptor.
    pub const fn access_descriptor_size(self) -> usize {
        match self {
            Layout::V1_0 | Layout::V1_1 => 16,
            Layout::V1_2 => 32,
        }
    }

    /// A name for logs ("v1.0", "v1.1", "v1.2").
    pub const fn name(self) -> &'static str {
        match self {
            Layout::V1_0 => "v1.0",
            Layout::V1_1 => "v1.1",
            Layout::V1_2 => "v1.2",
        }
    }
}

/// The address ranges of a transaction: its constituents, in order.
pub trait Constituents {
    /// The iterator over the ranges.
    type Ranges<'s>: Iterator<Item = PageRange>
    where
        Self: 's;

    /// The ranges, in the order they are described.
    fn ranges(&self) -> Self::Ranges<'_>;
}

impl Constituents for [PageRange] {
    type Ranges<'s> = core::iter::Copied<core::slice::Iter<'s, PageRange>>;

    fn ranges(&self) -> Self::Ranges<'_> {
        self.iter().copied()
    }
}

impl Constituents for Region<'_> {
    type Ranges<'s>
        = kernel::page_pool::Ranges<'s>
    where
        Self: 's;

    fn ranges(&self) -> Self::Ranges<'_> {
        Region::ranges(self)
    }
}

/// A transaction descriptor to send: the header's values, the receivers and
/// the constituents, with the layout's sizes worked out.
pub struct Descriptor<'d, C: Constituents + ?Sized> {
    layout: Layout,
    sender: PartitionId,
    attributes: u16,
    flags: u32,
    tag: u64,
    receivers: &'d [Receiver],
    constituents: &'d C,
    range_count: u32,
    total_pages: u32,
}

impl<'d, C: Constituents + ?Sized> Descriptor<'d, C> {
    /// The descriptor of `operation` from `sender` to `receivers` of the
    /// ranges in `constituents`, in `layout`. Checks what the layout can
    /// hold (counts and lengths in 32 bits, implementation-defined values
    /// only from v1.2) and that every range is whole, non-empty pages; the
    /// operation's rules are [`validate`](super::attributes::validate)'s.
    /// Ranges of one [`Region`] never overlap; a caller describing its own
    /// list of ranges must keep them apart (relayers refuse overlaps).
    pub fn new(
        layout: Layout,
        sender: PartitionId,
        operation: Operation,
        receivers: &'d [Receiver],
        options: &TransferOptions,
        constituents: &'d C,
    ) -> Result<Descriptor<'d, C>, TransactionError> {
        if receivers.is_empty() {
            return Err(TransactionError::NoReceivers);
        }
        if receivers.len() > MAXIMUM_RECEIVERS {
            return Err(TransactionError::TooManyReceivers);
        }
        if layout < Layout::V1_2 && receivers.iter().any(|receiver| receiver.impdef != [0; 16]) {
            return Err(TransactionError::ImpdefNeedsV1_2);
        }
        let mut range_count = 0u64;
        let mut total_pages = 0u64;
        for range in constituents.ranges() {
            // Regions are always whole pages; a caller's own list may not be.
            if range.address % PAGE_BYTES != 0 {
                return Err(TransactionError::Misaligned(range.address));
            }
            if range.pages == 0 {
                return Err(TransactionError::EmptyRegion);
            }
            range_count += 1;
            total_pages += u64::from(range.pages);
        }
        if range_count == 0 || total_pages == 0 {
            return Err(TransactionError::EmptyRegion);
        }
        let memory_type = options
            .memory_type
            .unwrap_or(operation.default_memory_type(receivers.len()));
        let descriptor = Descriptor {
            layout,
            sender,
            attributes: memory_type.bits(),
            flags: u32::from(options.zero_memory),
            tag: options.tag,
            receivers,
            constituents,
            range_count: u32::try_from(range_count).map_err(|_| TransactionError::TooLarge)?,
            total_pages: u32::try_from(total_pages).map_err(|_| TransactionError::TooLarge)?,
        };
        u32::try_from(descriptor.fixed_length() as u64 + range_count * CONSTITUENT_SIZE as u64)
            .map_err(|_| TransactionError::TooLarge)?;
        Ok(descriptor)
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of constituents.
    pub fn range_count(&self) -> u32 {
        self.range_count
    }

    /// Total pages over all constituents.
    pub fn total_pages(&self) -> u32 {
        self.total_pages
    }

    /// Offset of the composite memory region descriptor: right after the
    /// access descriptors (16-byte aligned, as every layout's sizes are).
    pub fn composite_offset(&self) -> usize {
        self.layout.header_size() + self.receivers.len() * self.layout.access_descriptor_size()
    }

    /// The header, the access descriptors and the composite header: what
    /// must arrive before any constituent.
    pub fn fixed_length(&self) -> usize {
        self.composite_offset() + COMPOSITE_HEADER_SIZE
    }

    /// The whole descriptor's length in bytes.
    pub fn total_length(&self) -> usize {
        self.fixed_length() + self.range_count as usize * CONSTITUENT_SIZE
    }

    /// Writes the fixed part into `bytes` (at least [`Self::fixed_length`] long).
    fn fixed_part(&self, bytes: &mut [u8]) {
        // Every field is written as part of a whole 16-byte unit (reserved
        // bytes as zeros), one store each.
        let mut put = |at: usize, unit: u128| {
            if let Some(target) = bytes.get_mut(at..at + UNIT) {
                target.copy_from_slice(&unit.to_le_bytes());
            }
        };
        let sender = u128::from(self.sender.raw());
        let flags = u128::from(self.flags) << 32;
        let tag = u128::from(self.tag);
        let count = u128::from(self.receivers.len() as u32) << 96;
        let access_size = self.layout.access_descriptor_size();
        let header = self.layout.header_size();
        match self.layout {
            Layout::V1_0 => {
                let attributes = u128::from(self.attributes as u8) << 16;
                put(0, sender | attributes | flags);
                put(16, tag | count);
            }
            Layout::V1_1 | Layout::V1_2 => {
                let attributes = u128::from(self.attributes) << 16;
                put(0, sender | attributes | flags);
                put(16, tag | (access_size as u128) << 64 | count);
                put(32, header as u128);
            }
        }
        let composite = self.composite_offset();
        for (index, receiver) in self.receivers.iter().enumerate() {
            let at = header + index * access_size;
            let first = u128::from(receiver.id.raw())
                | u128::from(receiver.permissions.bits()) << 16
                | (composite as u128) << 32;
            if self.layout == Layout::V1_2 {
                let impdef = u128::from_le_bytes(receiver.impdef);
                // The 16-byte value sits at offset 8: half in each unit.
                put(at, first | impdef << 64);
                put(at + UNIT, impdef >> 64);
            } else {
                put(at, first);
            }
        }
        put(
            composite,
            u128::from(self.total_pages) | u128::from(self.range_count) << 32,
        );
    }

    /// Writes descriptor bytes `[start, end)` through `sink`, which receives
    /// each piece with its offset relative to `start` (a fragment goes to TX
    /// offset 0). `end` is clamped to the descriptor's length.
    pub fn write_range<S>(&self, start: usize, end: usize, sink: S) -> Result<(), ClientError>
    where
        S: FnMut(usize, &[u8]) -> Result<(), ClientError>,
    {
        let end = end.min(self.total_length());
        if start >= end {
            return Ok(());
        }
        // A small descriptor (one receiver, a few ranges) needs no more
        // than a small staging block, which is cheaper to set up.
        if end - start <= SMALL_BURST && self.fixed_length() <= SMALL_BURST {
            self.write_through::<SMALL_BURST, S>(start, end, sink)
        } else {
            self.write_through::<BURST, S>(start, end, sink)
        }
    }

    fn write_through<const SIZE: usize, S>(
        &self,
        start: usize,
        end: usize,
        sink: S,
    ) -> Result<(), ClientError>
    where
        S: FnMut(usize, &[u8]) -> Result<(), ClientError>,
    {
        let mut burst = Burst {
            bytes: [0; SIZE],
            length: 0,
            at: 0,
            sink,
        };
        let fixed = self.fixed_length();
        if start < fixed {
            // The fixed part is generated in place in the (zeroed) burst.
            self.fixed_part(&mut burst.bytes[..fixed]);
            let stop = end.min(fixed);
            if start > 0 {
                burst.bytes.copy_within(start..stop, 0);
            }
            burst.length = stop - start;
        }
        let mut position = start.max(fixed);
        if position >= end {
            return burst.flush();
        }
        let unit_of = |range: PageRange| {
            (u128::from(range.address) | u128::from(range.pages) << 64).to_le_bytes()
        };
        let mut ranges = self
            .constituents
            .ranges()
            .skip((position - fixed) / CONSTITUENT_SIZE);
        // A fragment that starts inside a constituent (a relayer that
        // acknowledged part of one) begins with the rest of it.
        let within = (position - fixed) % CONSTITUENT_SIZE;
        if within != 0 {
            let Some(range) = ranges.next() else {
                return burst.flush();
            };
            let take = (CONSTITUENT_SIZE - within).min(end - position);
            burst.put(position - start, &unit_of(range)[within..within + take])?;
            position += take;
        }
        // Whole constituents, each one 16-byte store into the burst.
        while position + CONSTITUENT_SIZE <= end {
            let Some(range) = ranges.next() else {
                break;
            };
            if burst.length + CONSTITUENT_SIZE > SIZE {
                burst.flush()?;
                burst.at = position - start;
            }
            burst.bytes[burst.length..burst.length + CONSTITUENT_SIZE]
                .copy_from_slice(&unit_of(range));
            burst.length += CONSTITUENT_SIZE;
            position += CONSTITUENT_SIZE;
        }
        // A fragment that ends inside a constituent ends with its start.
        if position < end {
            if let Some(range) = ranges.next() {
                burst.put(position - start, &unit_of(range)[..end - position])?;
            }
        }
        burst.flush()
    }
}

/// Collects consecutive pieces and hands them to the sink in one call.
struct Burst<S, const SIZE: usize> {
    bytes: [u8; SIZE],
    length: usize,
    at: usize,
    sink: S,
}

impl<S: FnMut(usize, &[u8]) -> Result<(), ClientError>, const SIZE: usize> Burst<S, SIZE> {
    /// Appends `piece`, which belongs at sink offset `offset` (consecutive
    /// with what the burst holds).
    fn put(&mut self, offset: usize, piece: &[u8]) -> Result<(), ClientError> {
        if self.length + piece.len() > SIZE {
            self.flush()?;
        }
        if self.length == 0 {
            self.at = offset;
        }
        self.bytes[self.length..self.length + piece.len()].copy_from_slice(piece);
        self.length += piece.len();
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        if self.length > 0 {
            (self.sink)(self.at, &self.bytes[..self.length])?;
            self.length = 0;
        }
        Ok(())
    }
}

/// The smallest number of fragments a descriptor of `total` bytes needs
/// with a TX buffer of `tx_size` bytes: ⌈total / tx_size⌉.
pub const fn minimum_fragments(total: usize, tx_size: usize) -> usize {
    total.div_ceil(tx_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::attributes::DataAccess;
    use std::vec;
    use std::vec::Vec;

    fn bytes_of<C: Constituents + ?Sized>(descriptor: &Descriptor<'_, C>) -> Vec<u8> {
        let mut bytes = vec![0xEE; descriptor.total_length()];
        descriptor
            .write_range(0, bytes.len(), |offset: usize, piece: &[u8]| {
                bytes[offset..offset + piece.len()].copy_from_slice(piece);
                Ok(())
            })
            .unwrap();
        bytes
    }

    #[test]
    fn the_three_layouts_match_the_notes_vectors() {
        let receivers = [Receiver::new(
            PartitionId::new(0x8001),
            DataAccess::ReadWrite,
        )];
        let ranges = [PageRange::new(0x4000_1000, 1)];
        let make = |layout| {
            bytes_of(
                &Descriptor::new(
                    layout,
                    PartitionId::new(0),
                    Operation::Share,
                    &receivers,
                    &TransferOptions::DEFAULT,
                    &ranges[..],
                )
                .unwrap(),
            )
        };
        let v1_0 = make(Layout::V1_0);
        assert_eq!(v1_0.len(), 0x50);
        assert_eq!(&v1_0[..4], &[0, 0, 0x2F, 0]);
        assert_eq!(&v1_0[28..32], &[1, 0, 0, 0]);
        assert_eq!(&v1_0[0x20..0x28], &[0x01, 0x80, 0x02, 0, 0x30, 0, 0, 0]);
        assert_eq!(&v1_0[0x30..0x38], &[1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(
            &v1_0[0x40..0x4C],
            &[0, 0x10, 0, 0x40, 0, 0, 0, 0, 1, 0, 0, 0]
        );
        let v1_1 = make(Layout::V1_1);
        assert_eq!(v1_1.len(), 0x60);
        assert_eq!(
            &v1_1[0x18..0x24],
            &[0x10, 0, 0, 0, 1, 0, 0, 0, 0x30, 0, 0, 0]
        );
        let v1_2 = make(Layout::V1_2);
        assert_eq!(v1_2.len(), 0x70);
        assert_eq!(&v1_2[0x18..0x1C], &[0x20, 0, 0, 0]);
        assert_eq!(&v1_2[0x30..0x38], &[0x01, 0x80, 0x02, 0, 0x50, 0, 0, 0]);
        assert!(v1_2[0x38..0x50].iter().all(|byte| *byte == 0));
        assert_eq!(&v1_2[0x60..0x64], &[0, 0x10, 0, 0x40]);
    }

    #[test]
    fn any_byte_range_is_the_same_bytes_as_the_whole() {
        let receivers = [
            Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite).with_impdef([7; 16]),
            Receiver::new(PartitionId::new(0x8002), DataAccess::ReadOnly),
        ];
        let ranges: Vec<PageRange> = (0..40)
            .map(|index| PageRange::new(0x4000_0000 + index * 0x3000, 1 + index as u32 % 3))
            .collect();
        let descriptor = Descriptor::new(
            Layout::V1_2,
            PartitionId::new(0),
            Operation::Lend,
            &receivers,
            &TransferOptions::tagged(0xdead_beef),
            &ranges[..],
        )
        .unwrap();
        let whole = bytes_of(&descriptor);
        for (start, end) in [
            (0, 7),
            (5, 130),
            (131, 140),
            (100, 700),
            (400, 5000),
            (700, 704),
        ] {
            let mut piece = vec![0u8; end.min(whole.len()) - start];
            descriptor
                .write_range(start, end, |offset: usize, bytes: &[u8]| {
                    piece[offset..offset + bytes.len()].copy_from_slice(bytes);
                    Ok(())
                })
                .unwrap();
            assert_eq!(piece, &whole[start..end.min(whole.len())], "{start}..{end}");
        }
    }

    #[test]
    fn what_a_layout_cannot_hold_is_refused() {
        let receivers =
            [Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite).with_impdef([1; 16])];
        let ranges = [PageRange::new(0x4000_0000, 1)];
        let options = TransferOptions::DEFAULT;
        let make = |layout, ranges: &[PageRange]| {
            Descriptor::new(
                layout,
                PartitionId::new(0),
                Operation::Share,
                &receivers,
                &options,
                ranges,
            )
            .map(|_| ())
        };
        assert_eq!(
            make(Layout::V1_1, &ranges),
            Err(TransactionError::ImpdefNeedsV1_2)
        );
        assert_eq!(make(Layout::V1_2, &ranges), Ok(()));
        assert_eq!(make(Layout::V1_2, &[]), Err(TransactionError::EmptyRegion));
        let huge = [PageRange::new(0, u32::MAX), PageRange::new(0, 1)];
        assert_eq!(make(Layout::V1_2, &huge), Err(TransactionError::TooLarge));
        let misaligned = [PageRange::new(0x4000_0800, 1)];
        assert_eq!(
            make(Layout::V1_2, &misaligned),
            Err(TransactionError::Misaligned(0x4000_0800))
        );
        let empty = [PageRange::new(0x4000_0000, 0)];
        assert_eq!(
            make(Layout::V1_2, &empty),
            Err(TransactionError::EmptyRegion)
        );
        assert_eq!(minimum_fragments(4097, 4096), 2);
        assert_eq!(minimum_fragments(4096, 4096), 1);
    }
}
