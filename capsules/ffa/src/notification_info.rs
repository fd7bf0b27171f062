//! The answer of `FFA_NOTIFICATION_INFO_GET`: which endpoints (and which
//! of their vCPUs) have notifications pending.
//!
//! w2/x2 holds the flags: bit 0 "more pending", bits `[11:7]` the number of
//! lists, and 2 bits per list from bit 12: how many vCPU IDs follow the
//! list's endpoint ID. The IDs are 16-bit, packed from w3/x3 upward, lowest
//! half-word first: 2 per register in the 32-bit answer (10 slots), 4 in
//! the 64-bit one (20 slots). A list with no vCPU ID means global
//! notifications are pending for the endpoint.
//!
//! Every one of the slots is read, the last one included (Linux's parser
//! stops one short of it). A count of lists or IDs that does not fit the
//! slots is refused, as malformed. Reserved flag bits are ignored, and so
//! are the upper halves of x2-x7 in a 32-bit answer.
//!
//! ```
//! use capsule_ffa::notification_info::NotificationInfo;
//! use ffa_abi::CallWidth;
//!
//! // The specification's example: (0; 0, 2, 3), (0; 4, 6), (2), (3; 1).
//! let registers = [0x4B200, 0x0003_0002_0000_0000, 0x0002_0006_0004_0000, 0x1_0003, 0, 0];
//! let info = NotificationInfo::decode(registers, CallWidth::Bits64).unwrap();
//! let lists: Vec<_> = info.lists().iter().map(|list| (list.endpoint.raw(), list.vcpus().to_vec())).collect();
//! assert_eq!(lists, [(0, vec![0, 2, 3]), (0, vec![4, 6]), (2, vec![]), (3, vec![1])]);
//! assert!(!info.more_pending());
//! ```

use crate::error::ClientError;
use ffa_abi::notification::info;
use ffa_abi::{CallWidth, PartitionId};

/// One list: an endpoint, and the vCPUs with per-vCPU notifications
/// pending (none: global notifications are pending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PendingList {
    /// The endpoint.
    pub endpoint: PartitionId,
    vcpus: [u16; 3],
    vcpu_count: u8,
}

impl PendingList {
    /// The vCPUs listed (0–3 of them).
    pub fn vcpus(&self) -> &[u16] {
        &self.vcpus[..usize::from(self.vcpu_count)]
    }

    /// Whether it reports global notifications (no vCPU listed).
    pub fn is_global(&self) -> bool {
        self.vcpu_count == 0
    }
}

/// A decoded `FFA_NOTIFICATION_INFO_GET` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationInfo {
    more_pending: bool,
    lists: [PendingList; info::SLOTS_64],
    count: usize,
}

impl NotificationInfo {
    /// Decodes x2–x7 of a successful answer, whose IDs are packed as `width`
    /// says (`FFA_SUCCESS_32`: two per register; `_64`: four).
    pub fn decode(registers: [u64; 6], width: CallWidth) -> Result<NotificationInfo, ClientError> {
        let (slots, per_register, register_bits) = match width {
            CallWidth::Bits32 => (info::SLOTS_32, 2, 32),
            CallWidth::Bits64 => (info::SLOTS_64, 4, 64),
        };
        // A 32-bit answer's registers are its w registers: the upper halves
        // of x2-x7 are not part of it.
        let flags = if register_bits == 32 {
            registers[0] & 0xFFFF_FFFF
        } else {
            registers[0]
        };
        let count = ((flags >> info::LIST_COUNT_SHIFT) & info::LIST_COUNT_MASK) as usize;
        if count > slots {
            defmt::error!(
                "ffa: NOTIFICATION_INFO_GET: {=usize} lists do not fit {=usize} ID slots",
                count,
                slots
            );
            return Err(ClientError::Malformed("more lists than ID slots"));
        }
        let mut ids = [0u16; info::SLOTS_64];
        for (index, id) in ids.iter_mut().enumerate().take(slots) {
            let register = registers[1 + index / per_register];
            let register = if register_bits == 32 {
                register & 0xFFFF_FFFF
            } else {
                register
            };
            *id = (register >> (16 * (index % per_register))) as u16;
        }
        let empty = PendingList {
            endpoint: PartitionId::new(0),
            vcpus: [0; 3],
            vcpu_count: 0,
        };
        let mut lists = [empty; info::SLOTS_64];
        let mut next = 0usize;
        for (list_index, list) in lists.iter_mut().enumerate().take(count) {
            let shift = info::VCPU_COUNT_SHIFT as usize + 2 * list_index;
            let vcpu_count = ((flags >> shift) & info::VCPU_COUNT_MASK) as usize;
            if next + 1 + vcpu_count > slots {
                defmt::error!(
                    "ffa: NOTIFICATION_INFO_GET: list {=usize} runs past the {=usize} ID slots",
                    list_index,
                    slots
                );
                return Err(ClientError::Malformed("lists run past the ID slots"));
            }
            list.endpoint = PartitionId::new(ids[next]);
            list.vcpu_count = vcpu_count as u8;
            list.vcpus[..vcpu_count].copy_from_slice(&ids[next + 1..next + 1 + vcpu_count]);
            next += 1 + vcpu_count;
        }
        Ok(NotificationInfo {
            more_pending: flags & info::MORE_PENDING != 0,
            lists,
            count,
        })
    }

    /// The lists, in the order the answer gives them.
    pub fn lists(&self) -> &[PendingList] {
        &self.lists[..self.count]
    }

    /// Whether more notifications are pending than the answer lists (call again).
    pub fn more_pending(&self) -> bool {
        self.more_pending
    }
}
