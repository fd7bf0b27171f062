//! Indirect messages (`FFA_MSG_SEND2`, v1.1): the header in TX and RX, in
//! the layout of the negotiated version, and its checks.
//!
//! The layout is chosen from the negotiated version only
//! ([`HeaderLayout::for_version`]): v1.1's 20-byte header, or from v1.2 the
//! 40-byte one with the receiver's service UUID (`ffa_abi::indirect` has the
//! offsets). A received header is checked before anything of it is used:
//! flags and reserved words zero, the receiver this endpoint, the payload
//! offset at least v1.1's header size, and offset + size within the RX
//! buffer, computed without overflow. The UUID is read only when the
//! offset leaves room for v1.2's header (a v1.1 sender's header has none),
//! as Linux does.
//!
//! ```
//! use capsule_ffa::indirect::{HeaderLayout, MessageHeader};
//! use capsule_ffa::version::SupportedVersion;
//! use ffa_abi::{PartitionId, Uuid};
//!
//! let layout = HeaderLayout::for_version(SupportedVersion::V1_2);
//! let header = MessageHeader::new(layout, PartitionId::new(0), PartitionId::new(0x8004), 5, Uuid::NIL);
//! let bytes = header.encode();
//! assert_eq!(layout.size(), 40);
//! let parsed = MessageHeader::parse(&bytes, 4096, PartitionId::new(0x8004)).unwrap();
//! assert_eq!((parsed.sender.raw(), parsed.size, parsed.offset), (0, 5, 40));
//! // The same header, read by someone else, is refused.
//! assert!(MessageHeader::parse(&bytes, 4096, PartitionId::new(0x8001)).is_err());
//! ```

use crate::error::ClientError;
use crate::version::SupportedVersion;
use ffa_abi::indirect;
use ffa_abi::{PartitionId, Uuid};

/// The header layout of a negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum HeaderLayout {
    /// v1.1: 20 bytes, no UUID.
    V1_1,
    /// v1.2 and later: 40 bytes, with the receiver's service UUID.
    V1_2,
}

impl HeaderLayout {
    /// The layout a session of `version` writes (none at v1.0, which has no
    /// `FFA_MSG_SEND2`).
    pub const fn for_version(version: SupportedVersion) -> HeaderLayout {
        match version {
            SupportedVersion::V1_0 | SupportedVersion::V1_1 => HeaderLayout::V1_1,
            SupportedVersion::V1_2 => HeaderLayout::V1_2,
        }
    }

    /// Bytes of the header (where the payload starts).
    pub const fn size(self) -> usize {
        match self {
            HeaderLayout::V1_1 => indirect::HEADER_SIZE_V1_1,
            HeaderLayout::V1_2 => indirect::HEADER_SIZE_V1_2,
        }
    }
}

/// An indirect message's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MessageHeader {
    /// Where the payload starts, from the buffer's start.
    pub offset: u32,
    /// The sender.
    pub sender: PartitionId,
    /// The receiver.
    pub receiver: PartitionId,
    /// Payload bytes.
    pub size: u32,
    /// The receiver's service (nil: none, or a v1.1 header).
    pub service: Uuid,
}

fn word(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

/// Logs why a received header is refused.
#[cold]
#[inline(never)]
fn refuse(reason: &'static str) -> ClientError {
    defmt::error!("ffa: indirect message refused: {=str}", reason);
    ClientError::Malformed(reason)
}

impl MessageHeader {
    /// The header of a message of `size` bytes from `sender` to `receiver`
    /// (its `service`, from v1.2), with the payload right after it.
    pub fn new(
        layout: HeaderLayout,
        sender: PartitionId,
        receiver: PartitionId,
        size: u32,
        service: Uuid,
    ) -> MessageHeader {
        MessageHeader {
            offset: layout.size() as u32,
            sender,
            receiver,
            size,
            service: match layout {
                HeaderLayout::V1_1 => Uuid::NIL,
                HeaderLayout::V1_2 => service,
            },
        }
    }

    /// The header's bytes (of v1.2's size; a v1.1 header is the first 20).
    pub fn encode(&self) -> [u8; indirect::HEADER_SIZE_V1_2] {
        let mut bytes = [0u8; indirect::HEADER_SIZE_V1_2];
        let endpoints = u32::from(self.sender.raw()) << 16 | u32::from(self.receiver.raw());
        bytes[indirect::PAYLOAD_OFFSET..][..4].copy_from_slice(&self.offset.to_le_bytes());
        bytes[indirect::ENDPOINTS..][..4].copy_from_slice(&endpoints.to_le_bytes());
        bytes[indirect::PAYLOAD_SIZE..][..4].copy_from_slice(&self.size.to_le_bytes());
        if self.offset as usize >= indirect::HEADER_SIZE_V1_2 {
            bytes[indirect::UUID..][..16].copy_from_slice(self.service.as_bytes());
        }
        bytes
    }

    /// Checks and reads a received header: `bytes` are the first 40 bytes
    /// of an RX buffer of `buffer_size` bytes, which `own_id` received.
    pub fn parse(
        bytes: &[u8; indirect::HEADER_SIZE_V1_2],
        buffer_size: usize,
        own_id: PartitionId,
    ) -> Result<MessageHeader, ClientError> {
        if word(bytes, indirect::FLAGS) != 0 || word(bytes, indirect::FLAGS + 4) != 0 {
            return Err(refuse("flags or reserved word not zero"));
        }
        let offset = word(bytes, indirect::PAYLOAD_OFFSET);
        let endpoints = word(bytes, indirect::ENDPOINTS);
        let size = word(bytes, indirect::PAYLOAD_SIZE);
        let receiver = PartitionId::new(endpoints as u16);
        if receiver != own_id {
            return Err(refuse("addressed to another endpoint"));
        }
        if (offset as usize) < indirect::HEADER_SIZE_V1_1 {
            return Err(refuse("payload offset inside the header"));
        }
        let end = u64::from(offset) + u64::from(size);
        if end > buffer_size as u64 {
            return Err(refuse("payload past the end of the RX buffer"));
        }
        let service = if offset as usize >= indirect::HEADER_SIZE_V1_2 {
            if word(bytes, indirect::RESERVED_V1_2) != 0 {
                return Err(refuse("v1.2 reserved word not zero"));
            }
            let mut uuid = [0u8; 16];
            uuid.copy_from_slice(&bytes[indirect::UUID..indirect::UUID + 16]);
            Uuid::from_bytes(uuid)
        } else {
            Uuid::NIL
        };
        Ok(MessageHeader {
            offset,
            sender: PartitionId::new((endpoints >> 16) as u16),
            receiver,
            size,
            service,
        })
    }
}
