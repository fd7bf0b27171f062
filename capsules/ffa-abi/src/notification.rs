//! Notifications (v1.1): the bitmap, the flags of `BIND`, `SET` and `GET`,
//! the framework bits, the interrupt feature IDs and the field layout of
//! `FFA_NOTIFICATION_INFO_GET`'s answer.
//!
//! A notification is a bit of a 64-bit bitmap, so its ID is 0–63; a bitmap
//! travels in two 32-bit registers, bits 0–31 in the first.
//!
//! ```
//! use ffa_abi::notification::{Bitmap, GetFlags};
//!
//! let bitmap = Bitmap::of(33).union(Bitmap::of(1));
//! assert_eq!(bitmap.words(), (0x2, 0x2));
//! assert_eq!(Bitmap::from_words(0x2, 0x2), bitmap);
//! assert_eq!(GetFlags::PARTITIONS.union(GetFlags::SPM_FRAMEWORK).raw(), 0b101);
//! ```

/// `FFA_FEATURES` feature ID of the notification pending interrupt (NPI):
/// the interrupt a partition is told of its notifications by.
pub const FEATURE_NOTIFICATION_PENDING_INTERRUPT: u32 = 1;
/// `FFA_FEATURES` feature ID of the schedule receiver interrupt (SRI): the
/// interrupt that tells the normal world's scheduler some endpoint has
/// notifications pending.
pub const FEATURE_SCHEDULE_RECEIVER_INTERRUPT: u32 = 2;
/// `FFA_FEATURES` feature ID of the managed exit interrupt.
pub const FEATURE_MANAGED_EXIT_INTERRUPT: u32 = 3;

/// Notification IDs run from 0 to this.
pub const LAST_ID: u8 = 63;

/// Bit of the SPM (and the hypervisor) framework bitmap: the receiver's RX
/// buffer holds an indirect message (`FFA_MSG_SEND2`).
pub const FRAMEWORK_RX_BUFFER_FULL: u32 = 1 << 0;

/// A set of notifications: a 64-bit bitmap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Bitmap(pub u64);

impl Bitmap {
    /// No notification.
    pub const EMPTY: Bitmap = Bitmap(0);

    /// Notification `id` alone (`id` is taken modulo 64).
    pub const fn of(id: u8) -> Bitmap {
        Bitmap(1 << (id & 63))
    }

    /// The bitmap whose bits 0–31 are `low` and 32–63 `high`.
    pub const fn from_words(low: u32, high: u32) -> Bitmap {
        Bitmap(low as u64 | (high as u64) << 32)
    }

    /// Bits 0–31 and 32–63, as two registers carry them.
    pub const fn words(self) -> (u32, u32) {
        (self.0 as u32, (self.0 >> 32) as u32)
    }

    /// Both sets.
    pub const fn union(self, other: Bitmap) -> Bitmap {
        Bitmap(self.0 | other.0)
    }

    /// The bits of `self` not in `other`.
    pub const fn without(self, other: Bitmap) -> Bitmap {
        Bitmap(self.0 & !other.0)
    }

    /// The bits in both.
    pub const fn intersection(self, other: Bitmap) -> Bitmap {
        Bitmap(self.0 & other.0)
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether notification `id` is in the set.
    pub const fn contains(self, id: u8) -> bool {
        id <= LAST_ID && self.0 & (1 << id) != 0
    }

    /// The IDs in the set, lowest first.
    pub fn ids(self) -> impl Iterator<Item = u8> {
        (0..=LAST_ID).filter(move |id| self.contains(*id))
    }
}

/// w2 of `FFA_NOTIFICATION_BIND`: bit 0 = per-vCPU notifications.
pub const BIND_PER_VCPU: u32 = 1 << 0;

/// w2 of `FFA_NOTIFICATION_SET`.
pub mod set_flags {
    /// Bit 0: a per-vCPU notification, for the vCPU in bits `[31:16]`.
    pub const PER_VCPU: u32 = 1 << 0;
    /// Bit 1: do not raise the schedule receiver interrupt now (partitions only).
    pub const DELAY_SCHEDULE_RECEIVER_INTERRUPT: u32 = 1 << 1;
    /// Bits `[15:2]` must be zero.
    pub const MUST_BE_ZERO: u32 = 0xFFFC;
    /// Shift of the receiver's vCPU ID (bits `[31:16]`).
    pub const VCPU_SHIFT: u32 = 16;
}

/// w2 of `FFA_NOTIFICATION_GET`: which bitmaps to get (and clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GetFlags(u32);

impl GetFlags {
    /// Bit 0: notifications from partitions (answered in w2/w3).
    pub const PARTITIONS: GetFlags = GetFlags(1 << 0);
    /// Bit 1: notifications from VMs (w4/w5).
    pub const VIRTUAL_MACHINES: GetFlags = GetFlags(1 << 1);
    /// Bit 2: the SPM's framework notifications (w6).
    pub const SPM_FRAMEWORK: GetFlags = GetFlags(1 << 2);
    /// Bit 3: the hypervisor's framework notifications (w7).
    pub const HYPERVISOR_FRAMEWORK: GetFlags = GetFlags(1 << 3);
    /// Bits `[31:4]` must be zero.
    pub const MUST_BE_ZERO: u32 = !0xF;

    /// The flags word `raw`, if its must-be-zero bits are zero.
    pub const fn from_raw(raw: u32) -> Option<GetFlags> {
        if raw & Self::MUST_BE_ZERO == 0 {
            Some(GetFlags(raw))
        } else {
            None
        }
    }

    /// Both.
    pub const fn union(self, other: GetFlags) -> GetFlags {
        GetFlags(self.0 | other.0)
    }

    /// Whether every bitmap of `other` is asked for.
    pub const fn contains(self, other: GetFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags word.
    pub const fn raw(self) -> u32 {
        self.0
    }
}

/// The layout of `FFA_NOTIFICATION_INFO_GET`'s answer: flags in w2/x2, then
/// 16-bit IDs packed from w3/x3 upward, lowest half-word first.
pub mod info {
    /// Bit 0 of the flags: more notifications are pending than the answer lists.
    pub const MORE_PENDING: u64 = 1 << 0;
    /// Shift of the number of ID lists (bits `[11:7]`).
    pub const LIST_COUNT_SHIFT: u32 = 7;
    /// Mask of the number of ID lists, once shifted.
    pub const LIST_COUNT_MASK: u64 = 0x1F;
    /// Shift of list 0's vCPU count; list `i`'s is 2 bits at `12 + 2·i`.
    pub const VCPU_COUNT_SHIFT: u32 = 12;
    /// Mask of one list's vCPU count (0–3), once shifted.
    pub const VCPU_COUNT_MASK: u64 = 0b11;
    /// ID slots of the 32-bit answer: 2 per register in w3–w7.
    pub const SLOTS_32: usize = 10;
    /// ID slots of the 64-bit answer: 4 per register in x3–x7.
    pub const SLOTS_64: usize = 20;
    /// The first register holding IDs.
    pub const FIRST_ID_REGISTER: usize = 3;
}
