//! Indirect messaging: `FFA_MSG_SEND2` from the normal world to a
//! partition, and a partition's messages into the normal world's RX buffer.
//!
//! `FFA_MSG_SEND2` (v1.1; OP-TEE's SPMC does not offer it), checked in
//! order:
//! 1. w1 `[31:16]` (a hypervisor's VM ID) must be zero, and so w1 `[15:0]`;
//!    w2 must be zero (bit 1, delay the SRI, is for partitions) →
//!    `INVALID_PARAMETERS`;
//! 2. the caller must have mapped its RX/TX pair → `DENIED`;
//! 3. the header in its TX buffer (`ffa_abi::indirect`): flags and
//!    reserved words zero, sender 0, receiver a hosted partition, the
//!    payload offset at least the caller's header size (20 bytes at v1.1,
//!    40 from v1.2), offset + size within the buffer without overflow, and
//!    at v1.2 a UUID that is nil or the receiver's → `INVALID_PARAMETERS`;
//! 4. the receiver must have the indirect-messaging property → `DENIED`;
//! 5. its RX buffer must be free → `BUSY` (the notifier's is busy while its
//!    echo waits for the normal world's RX buffer).
//!
//! A partition's message goes into the normal world's RX buffer when the
//! SPMC may write it (the caller does not own it), with the header of the
//! caller's version (20 bytes at v1.1, 40 with a nil UUID from v1.2), the
//! sender's ID and the receiver 0; the caller then owns the buffer, and the
//! SPM's "RX buffer full" framework notification is set with the schedule
//! receiver interrupt. A message that finds the buffer owned waits (one at
//! a time) and goes in when the caller releases it.

use crate::call::Call;
use crate::mailbox::Mailbox;
use crate::memory::NormalWorldMemory;
use crate::notifications::Notifications;
use crate::partition_table::PartitionTable;
use crate::personality::Personality;
use crate::platform::Platform;
use crate::NORMAL_WORLD_ENDPOINT_ID;
use ffa_abi::indirect;
use ffa_abi::test_services::notifier::MAXIMUM_MESSAGE;
use ffa_abi::{Status, Uuid, Version};

/// A message a partition received, or one waiting for the normal world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Message {
    /// The other end (the sender of a received message, the partition
    /// sending to the normal world otherwise).
    pub(crate) partition: u16,
    /// Payload bytes used.
    pub(crate) length: usize,
    /// The payload.
    pub(crate) bytes: [u8; MAXIMUM_MESSAGE],
}

impl Message {
    /// A message of `length` bytes of the pattern starting at `first`.
    pub(crate) fn pattern(partition: u16, length: usize, first: u8) -> Message {
        let length = length.min(MAXIMUM_MESSAGE);
        let mut bytes = [0u8; MAXIMUM_MESSAGE];
        for (index, byte) in bytes[..length].iter_mut().enumerate() {
            *byte = first.wrapping_add(index as u8);
        }
        Message {
            partition,
            length,
            bytes,
        }
    }
}

/// Counters for the notifier's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counters {
    /// Messages partitions received from the normal world.
    pub(crate) received: u32,
    /// Messages partitions put in the normal world's RX buffer.
    pub(crate) sent: u32,
}

/// Indirect-messaging state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndirectMessaging {
    outbound: Option<Message>,
    pub(crate) counters: Counters,
}

fn read_word(memory: &dyn NormalWorldMemory, address: u64) -> Result<u32, Status> {
    let mut bytes = [0u8; 4];
    memory
        .read(address, &mut bytes)
        .map_err(|_| Status::InvalidParameters)?;
    Ok(u32::from_le_bytes(bytes))
}

/// The header size of a caller of `version`.
pub(crate) const fn header_size(version: Version) -> usize {
    if version.major() == 1 && version.minor() < 2 {
        indirect::HEADER_SIZE_V1_1
    } else {
        indirect::HEADER_SIZE_V1_2
    }
}

impl IndirectMessaging {
    pub(crate) const fn new() -> IndirectMessaging {
        IndirectMessaging {
            outbound: None,
            counters: Counters {
                received: 0,
                sent: 0,
            },
        }
    }

    /// Whether a partition's message waits for the normal world's RX buffer.
    pub(crate) fn has_outbound(&self) -> bool {
        self.outbound.is_some()
    }

    /// `FFA_MSG_SEND2` from the normal world: the index of the receiving
    /// partition and the message it got.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send2(
        &mut self,
        call: &Call<'_>,
        version: Version,
        personality: Personality,
        table: &PartitionTable,
        mailbox: &Mailbox,
        memory: &dyn NormalWorldMemory,
    ) -> Result<(usize, Message), Status> {
        if version < Version::V1_1
            || matches!(personality, Personality::OpTee | Personality::TfAEl3Spmc)
        {
            return Err(Status::NotSupported);
        }
        if call.word(1) != 0 || call.word(2) != 0 {
            return Err(Status::InvalidParameters);
        }
        let pair = mailbox.pair().ok_or(Status::Denied)?;
        let base = pair.transmit_address;
        let buffer = pair.size();
        let word = |offset: usize| read_word(memory, base + offset as u64);
        let flags = word(indirect::FLAGS)?;
        let reserved = word(indirect::FLAGS + 4)?;
        let offset = word(indirect::PAYLOAD_OFFSET)?;
        let endpoints = word(indirect::ENDPOINTS)?;
        let size = word(indirect::PAYLOAD_SIZE)?;
        let sender = (endpoints >> 16) as u16;
        let receiver = endpoints as u16;
        let header = header_size(version);
        if flags != 0 || reserved != 0 || sender != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        let end = u64::from(offset) + u64::from(size);
        if (offset as usize) < header || end > buffer {
            return Err(Status::InvalidParameters);
        }
        let index = table.find(receiver).ok_or(Status::InvalidParameters)?;
        let information = table.information_at(index);
        if header == indirect::HEADER_SIZE_V1_2 {
            if word(indirect::RESERVED_V1_2)? != 0 {
                return Err(Status::InvalidParameters);
            }
            let mut uuid = [0u8; 16];
            memory
                .read(base + indirect::UUID as u64, &mut uuid)
                .map_err(|_| Status::InvalidParameters)?;
            let uuid = Uuid::from_bytes(uuid);
            if !uuid.is_nil() && uuid != information.uuid() {
                return Err(Status::InvalidParameters);
            }
        }
        if !information.indirect_messaging() {
            return Err(Status::Denied);
        }
        if self.outbound.is_some() {
            return Err(Status::Busy);
        }
        let length = (size as usize).min(MAXIMUM_MESSAGE);
        let mut message = Message {
            partition: sender,
            length,
            bytes: [0; MAXIMUM_MESSAGE],
        };
        memory
            .read(base + u64::from(offset), &mut message.bytes[..length])
            .map_err(|_| Status::InvalidParameters)?;
        self.counters.received = self.counters.received.saturating_add(1);
        Ok((index, message))
    }

    /// A partition sends `message` to the normal world: in its RX buffer
    /// now if the SPMC may write it, else when it is released. `BUSY` if
    /// another message already waits.
    pub(crate) fn queue(&mut self, message: Message) -> Result<(), Status> {
        if self.outbound.is_some() {
            return Err(Status::Busy);
        }
        self.outbound = Some(message);
        Ok(())
    }

    /// Puts the waiting message in the normal world's RX buffer if it may be
    /// written now. Returns whether one was delivered.
    pub(crate) fn deliver(
        &mut self,
        version: Version,
        mailbox: &mut Mailbox,
        memory: &mut dyn NormalWorldMemory,
        notifications: &mut Notifications,
        personality: Personality,
        platform: &mut dyn Platform,
    ) -> bool {
        let Some(message) = self.outbound else {
            return false;
        };
        let Ok(pair) = mailbox.writable_receive_buffer() else {
            return false;
        };
        let header = header_size(version);
        if (header + message.length) as u64 > pair.size() {
            // It can never fit: dropped.
            self.outbound = None;
            return false;
        }
        let mut bytes = [0u8; indirect::HEADER_SIZE_V1_2];
        bytes[indirect::PAYLOAD_OFFSET..indirect::PAYLOAD_OFFSET + 4]
            .copy_from_slice(&(header as u32).to_le_bytes());
        let endpoints = u32::from(message.partition) << 16 | u32::from(NORMAL_WORLD_ENDPOINT_ID);
        bytes[indirect::ENDPOINTS..indirect::ENDPOINTS + 4]
            .copy_from_slice(&endpoints.to_le_bytes());
        bytes[indirect::PAYLOAD_SIZE..indirect::PAYLOAD_SIZE + 4]
            .copy_from_slice(&(message.length as u32).to_le_bytes());
        let address = pair.receive_address;
        let written = memory.write(address, &bytes[..header]).is_ok()
            && memory
                .write(address + header as u64, &message.bytes[..message.length])
                .is_ok();
        self.outbound = None;
        if !written {
            return false;
        }
        mailbox.hand_receive_buffer_to_caller();
        self.counters.sent = self.counters.sent.saturating_add(1);
        notifications.signal_receive_buffer_full(personality, platform);
        true
    }
}
