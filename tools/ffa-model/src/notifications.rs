//! Notifications (`FFA_NOTIFICATION_BITMAP_CREATE/DESTROY`, `BIND`, `UNBIND`,
//! `SET`, `GET`, `INFO_GET`), as the normal world sees them, and the
//! partitions' side of them.
//!
//! The normal world (endpoint 0) has one set of bitmaps: notifications
//! from partitions, global and per vCPU, and the SPM's framework bitmap
//! (bit 0: an indirect message is in its RX buffer). They exist once
//! created:
//!
//! * by `FFA_NOTIFICATION_BITMAP_CREATE(0, vCPUs)` (w1 `[31:16]` must be
//!   zero, the VM ID 0 — the only normal-world endpoint the model knows —,
//!   1 to [`MAXIMUM_VCPUS`] vCPUs; a second create → `DENIED`), as a
//!   hypervisor does for each VM;
//! * or, for [`Personality::Specification`] only, implicitly with
//!   [`IMPLICIT_VCPUS`] vCPUs by the first other notification call, since
//!   a normal world that never creates one has no hypervisor and the SPMC
//!   cannot tell it apart from one. Hafnium and OP-TEE need the create:
//!   without it, `NOT_SUPPORTED` (Hafnium) or `INVALID_PARAMETERS`
//!   (OP-TEE).
//!
//! `BITMAP_DESTROY(0)` with bindings or pending notifications → `DENIED`.
//!
//! `BIND`/`UNBIND` (w1 = sender << 16 | receiver): the receiver must be 0
//! and the sender a partition with the notifications property, else
//! `INVALID_PARAMETERS`; w2 bit 0 = per-vCPU (other bits must be zero;
//! Hafnium refuses per-vCPU with `INVALID_PARAMETERS`, as v1.3 dropped it,
//! OP-TEE with `DENIED`, global only); an empty bitmap is
//! `INVALID_PARAMETERS`; bits bound to another sender or with the other
//! per-vCPU setting → `DENIED`; `UNBIND` of pending bits → `DENIED`, and
//! its w2 must be zero.
//!
//! `SET` (normal world → partition, w1 = 0 << 16 | receiver): the sender
//! must be 0, the receiver a partition with the notifications property;
//! w2 bit 0 per-vCPU with the vCPU in `[31:16]` (below the partition's
//! context count; zero when global), bit 1 (delay the SRI) is for
//! partitions only, bits `[15:2]` must be zero: else `INVALID_PARAMETERS`.
//! Bits the partition did not bind to sender 0 (with that per-vCPU
//! setting) → `DENIED`. The partition handles them at once
//! (`crate::notifier`).
//!
//! `GET` (w1 = vCPU << 16 | receiver): the receiver must be 0, the vCPU
//! below the bitmap's count, w2 `[31:4]` zero, else `INVALID_PARAMETERS`.
//! Bitmaps asked for are returned and cleared: w2/w3 the partitions'
//! notifications (global and this vCPU's), w6 the SPM framework's; VM and
//! hypervisor framework bitmaps are always empty here. Global notifications
//! are retrieved on any vCPU.
//!
//! `INFO_GET` (32- and 64-bit; Hafnium serves only the 64-bit one): lists
//! the normal world's pending notifications not reported by an earlier
//! `INFO_GET` — one list (0) for global ones (and the framework bitmap),
//! lists (0, vCPU…) of up to 3 vCPUs for per-vCPU ones — as many as fit in
//! its 10 or 20 ID slots, with "more pending" set if some did not.
//! Nothing to report → `NO_DATA`. The answer is `FFA_SUCCESS_32` for the
//! 32-bit call, `_64` for the 64-bit one.
//!
//! Partitions set notifications for the normal world
//! ([`Notifications::signal_normal_world`]): the bits must be bound to that
//! partition (else `DENIED`); the SPMC then raises the schedule receiver
//! interrupt, SGI [`SCHEDULE_RECEIVER_INTERRUPT`] (Hafnium's), which
//! `FFA_FEATURES` reports for feature ID 2 from v1.1 on.
//!
//! Every call needs a negotiated v1.1 (else `NOT_SUPPORTED`).

use crate::call::{Call, Reply};
use crate::function_id::*;
use crate::partition_table::PartitionTable;
use crate::personality::Personality;
use crate::platform::Platform;
use crate::NORMAL_WORLD_ENDPOINT_ID;
use ffa_abi::notification::{self, info, set_flags, Bitmap, GetFlags, BIND_PER_VCPU};
use ffa_abi::{Status, Version};

/// The schedule receiver interrupt: SGI 8, as Hafnium has it.
pub const SCHEDULE_RECEIVER_INTERRUPT: u32 = 8;
/// Most vCPUs a normal-world bitmap may have.
pub const MAXIMUM_VCPUS: u16 = 8;
/// vCPUs of a bitmap created implicitly.
pub const IMPLICIT_VCPUS: u16 = 4;
/// Notification IDs.
const IDS: usize = notification::LAST_ID as usize + 1;

/// Whether `function_id` is a notification call.
pub(crate) fn handles(function_id: u32) -> bool {
    matches!(
        function_id,
        FFA_NOTIFICATION_BITMAP_CREATE
            | FFA_NOTIFICATION_BITMAP_DESTROY
            | FFA_NOTIFICATION_BIND
            | FFA_NOTIFICATION_UNBIND
            | FFA_NOTIFICATION_SET
            | FFA_NOTIFICATION_GET
            | FFA_NOTIFICATION_INFO_GET_32
            | FFA_NOTIFICATION_INFO_GET_64
    )
}

/// Whether `personality` offers `function_id` (a notification call) to the normal world.
pub(crate) fn offered(personality: Personality, function_id: u32) -> bool {
    match personality {
        Personality::TfAEl3Spmc => false,
        Personality::Hafnium => function_id != FFA_NOTIFICATION_INFO_GET_32,
        Personality::Specification | Personality::OpTee => true,
    }
}

/// Who may set a notification ID of the normal world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Binding {
    sender: u16,
    per_vcpu: bool,
}

/// The normal world's bitmaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NormalWorldBitmaps {
    vcpu_count: u16,
    bindings: [Option<Binding>; IDS],
    global: u64,
    per_vcpu: [u64; MAXIMUM_VCPUS as usize],
    spm_framework: u32,
    /// Reported by an `INFO_GET` and not retrieved since.
    global_reported: bool,
    /// Per vCPU: reported and not retrieved since.
    vcpus_reported: u16,
}

impl NormalWorldBitmaps {
    const fn new(vcpu_count: u16) -> NormalWorldBitmaps {
        NormalWorldBitmaps {
            vcpu_count,
            bindings: [None; IDS],
            global: 0,
            per_vcpu: [0; MAXIMUM_VCPUS as usize],
            spm_framework: 0,
            global_reported: false,
            vcpus_reported: 0,
        }
    }

    fn anything_pending(&self) -> bool {
        self.global != 0 || self.spm_framework != 0 || self.per_vcpu.iter().any(|bits| *bits != 0)
    }

    fn bindings_of(&self, bitmap: Bitmap) -> impl Iterator<Item = Option<Binding>> + '_ {
        bitmap.ids().map(|id| self.bindings[usize::from(id)])
    }
}

/// What a partition let the normal world set, and what is pending for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PartitionBitmaps {
    /// Global notifications bound to sender 0.
    pub(crate) bound_to_normal_world: u64,
    /// Pending, not yet handled by the partition.
    pub(crate) pending: u64,
}

/// Counters for the notifier's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counters {
    /// Notifications the normal world set for partitions.
    pub(crate) from_normal_world: u32,
    /// Notifications partitions set for the normal world.
    pub(crate) for_normal_world: u32,
}

/// The notification state of the secure world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Notifications {
    normal_world: Option<NormalWorldBitmaps>,
    pub(crate) counters: Counters,
}

/// The success of a call answered in 32-bit registers.
fn success() -> Reply {
    Reply::success_32()
}

impl Notifications {
    pub(crate) const fn new() -> Notifications {
        Notifications {
            normal_world: None,
            counters: Counters {
                from_normal_world: 0,
                for_normal_world: 0,
            },
        }
    }

    /// Whether the normal world's bitmaps exist.
    pub(crate) fn normal_world_enabled(&self) -> bool {
        self.normal_world.is_some()
    }

    /// The normal world's bitmaps, created implicitly where the personality does so.
    fn bitmaps(&mut self, personality: Personality) -> Result<&mut NormalWorldBitmaps, Status> {
        if self.normal_world.is_none() {
            match personality {
                Personality::Specification => {
                    self.normal_world = Some(NormalWorldBitmaps::new(IMPLICIT_VCPUS))
                }
                Personality::Hafnium | Personality::TfAEl3Spmc => return Err(Status::NotSupported),
                Personality::OpTee => return Err(Status::InvalidParameters),
            }
        }
        self.normal_world.as_mut().ok_or(Status::NotSupported)
    }

    /// Handle a call for which [`handles`] is true, from the normal world
    /// on core `core`.
    pub(crate) fn handle(
        &mut self,
        call: &Call<'_>,
        version: Version,
        personality: Personality,
        table: &PartitionTable,
        partitions: &mut [PartitionBitmaps],
        core: usize,
    ) -> Result<Reply, Status> {
        let function_id = call.function_id();
        if version < Version::V1_1 || !offered(personality, function_id) {
            return Err(Status::NotSupported);
        }
        match function_id {
            FFA_NOTIFICATION_BITMAP_CREATE => self.create(call).map(|()| success()),
            FFA_NOTIFICATION_BITMAP_DESTROY => self.destroy(call).map(|()| success()),
            FFA_NOTIFICATION_BIND => self.bind(call, personality, table).map(|()| success()),
            FFA_NOTIFICATION_UNBIND => self.unbind(call, personality, table).map(|()| success()),
            // The dispatcher routes SET through `set_for_partition`, so
            // that the partition handles what it got.
            FFA_NOTIFICATION_SET => self
                .set_for_partition(call, version, personality, table, partitions)
                .map(|_| success()),
            FFA_NOTIFICATION_GET => self.get(call, personality, core),
            _ => self.info_get(call, personality),
        }
    }

    fn create(&mut self, call: &Call<'_>) -> Result<(), Status> {
        let word = call.word(1);
        let vcpus = call.word(2);
        if word >> 16 != 0 || word as u16 != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        if vcpus == 0 || vcpus > u32::from(MAXIMUM_VCPUS) {
            return Err(Status::InvalidParameters);
        }
        if self.normal_world.is_some() {
            return Err(Status::Denied);
        }
        self.normal_world = Some(NormalWorldBitmaps::new(vcpus as u16));
        Ok(())
    }

    fn destroy(&mut self, call: &Call<'_>) -> Result<(), Status> {
        let word = call.word(1);
        if word >> 16 != 0 || word as u16 != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        let bitmaps = self.normal_world.as_ref().ok_or(Status::Denied)?;
        if bitmaps.bindings.iter().any(Option::is_some) || bitmaps.anything_pending() {
            return Err(Status::Denied);
        }
        self.normal_world = None;
        Ok(())
    }

    /// Checks w1 and the bitmap of `BIND`/`UNBIND`: the sender and the bitmap.
    fn binding_arguments(call: &Call<'_>, table: &PartitionTable) -> Result<(u16, Bitmap), Status> {
        let word = call.word(1);
        let sender = (word >> 16) as u16;
        if word as u16 != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        let sender_index = table.find(sender).ok_or(Status::InvalidParameters)?;
        if !table.information_at(sender_index).notifications() {
            return Err(Status::InvalidParameters);
        }
        let bitmap = Bitmap::from_words(call.word(3), call.word(4));
        if bitmap.is_empty() {
            return Err(Status::InvalidParameters);
        }
        Ok((sender, bitmap))
    }

    fn bind(
        &mut self,
        call: &Call<'_>,
        personality: Personality,
        table: &PartitionTable,
    ) -> Result<(), Status> {
        let flags = call.word(2);
        if flags & !BIND_PER_VCPU != 0 {
            return Err(Status::InvalidParameters);
        }
        let per_vcpu = flags & BIND_PER_VCPU != 0;
        if per_vcpu {
            match personality {
                Personality::Hafnium => return Err(Status::InvalidParameters),
                Personality::OpTee => return Err(Status::Denied),
                _ => {}
            }
        }
        let (sender, bitmap) = Self::binding_arguments(call, table)?;
        let bitmaps = self.bitmaps(personality)?;
        let wanted = Binding { sender, per_vcpu };
        if bitmaps
            .bindings_of(bitmap)
            .any(|binding| binding.is_some_and(|binding| binding != wanted))
        {
            return Err(Status::Denied);
        }
        for id in bitmap.ids() {
            bitmaps.bindings[usize::from(id)] = Some(wanted);
        }
        Ok(())
    }

    fn unbind(
        &mut self,
        call: &Call<'_>,
        personality: Personality,
        table: &PartitionTable,
    ) -> Result<(), Status> {
        if call.word(2) != 0 {
            return Err(Status::InvalidParameters);
        }
        let (sender, bitmap) = Self::binding_arguments(call, table)?;
        let bitmaps = self.bitmaps(personality)?;
        if bitmaps
            .bindings_of(bitmap)
            .any(|binding| binding.is_some_and(|binding| binding.sender != sender))
        {
            return Err(Status::Denied);
        }
        let pending = bitmaps
            .per_vcpu
            .iter()
            .fold(bitmaps.global, |all, bits| all | bits);
        if pending & bitmap.0 != 0 {
            return Err(Status::Denied);
        }
        for id in bitmap.ids() {
            bitmaps.bindings[usize::from(id)] = None;
        }
        Ok(())
    }

    /// `SET` from the normal world: the notifications delivered and the
    /// index of the partition they were delivered to.
    fn set(
        call: &Call<'_>,
        table: &PartitionTable,
        partitions: &mut [PartitionBitmaps],
    ) -> Result<(usize, Bitmap), Status> {
        let word = call.word(1);
        if (word >> 16) as u16 != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        let index = table.find(word as u16).ok_or(Status::InvalidParameters)?;
        let information = table.information_at(index);
        if !information.notifications() {
            return Err(Status::InvalidParameters);
        }
        let flags = call.word(2);
        let per_vcpu = flags & set_flags::PER_VCPU != 0;
        let vcpu = (flags >> set_flags::VCPU_SHIFT) as u16;
        if flags & (set_flags::MUST_BE_ZERO | set_flags::DELAY_SCHEDULE_RECEIVER_INTERRUPT) != 0
            || (!per_vcpu && vcpu != 0)
            || (per_vcpu && vcpu >= information.execution_context_count)
        {
            return Err(Status::InvalidParameters);
        }
        let bitmap = Bitmap::from_words(call.word(3), call.word(4));
        if bitmap.is_empty() {
            return Err(Status::InvalidParameters);
        }
        let bitmaps = partitions.get_mut(index).ok_or(Status::InvalidParameters)?;
        // The model's partitions bind global notifications only.
        if per_vcpu || bitmap.without(Bitmap(bitmaps.bound_to_normal_world)) != Bitmap::EMPTY {
            return Err(Status::Denied);
        }
        bitmaps.pending |= bitmap.0;
        Ok((index, bitmap))
    }

    /// `SET` from the normal world, for the dispatcher: which partition got what.
    pub(crate) fn set_for_partition(
        &mut self,
        call: &Call<'_>,
        version: Version,
        personality: Personality,
        table: &PartitionTable,
        partitions: &mut [PartitionBitmaps],
    ) -> Result<(usize, Bitmap), Status> {
        if version < Version::V1_1 || !offered(personality, FFA_NOTIFICATION_SET) {
            return Err(Status::NotSupported);
        }
        let delivered = Self::set(call, table, partitions)?;
        self.counters.from_normal_world = self
            .counters
            .from_normal_world
            .saturating_add(delivered.1.ids().count() as u32);
        Ok(delivered)
    }

    /// `GET` from core `core`: the caller names its own vCPU (the core it
    /// calls on), whose per-vCPU notifications it gets with the global
    /// ones; another core's vCPU is `INVALID_PARAMETERS` (that core must
    /// ask).
    fn get(
        &mut self,
        call: &Call<'_>,
        personality: Personality,
        core: usize,
    ) -> Result<Reply, Status> {
        let word = call.word(1);
        if word as u16 != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        let vcpu = usize::from((word >> 16) as u16);
        if vcpu != core {
            return Err(Status::InvalidParameters);
        }
        let flags = GetFlags::from_raw(call.word(2)).ok_or(Status::InvalidParameters)?;
        let bitmaps = self.bitmaps(personality)?;
        if vcpu >= usize::from(bitmaps.vcpu_count) {
            return Err(Status::InvalidParameters);
        }
        let mut reply = success();
        if flags.contains(GetFlags::PARTITIONS) {
            let (low, high) = Bitmap(bitmaps.global | bitmaps.per_vcpu[vcpu]).words();
            bitmaps.global = 0;
            bitmaps.per_vcpu[vcpu] = 0;
            reply = reply.with(2, u64::from(low)).with(3, u64::from(high));
        }
        if flags.contains(GetFlags::SPM_FRAMEWORK) {
            reply = reply.with(6, u64::from(bitmaps.spm_framework));
            bitmaps.spm_framework = 0;
        }
        if bitmaps.global == 0 && bitmaps.spm_framework == 0 {
            bitmaps.global_reported = false;
        }
        if bitmaps.per_vcpu[vcpu] == 0 {
            bitmaps.vcpus_reported &= !(1 << vcpu);
        }
        Ok(reply)
    }

    fn info_get(&mut self, call: &Call<'_>, personality: Personality) -> Result<Reply, Status> {
        let wide = call.function_id() == FFA_NOTIFICATION_INFO_GET_64;
        let slots = if wide { info::SLOTS_64 } else { info::SLOTS_32 };
        let Ok(bitmaps) = self.bitmaps(personality) else {
            return Err(Status::NoData);
        };
        let mut ids = [0u16; info::SLOTS_64];
        let mut used = 0;
        let mut lists = 0u64;
        let mut flags = 0u64;
        let mut more = false;
        let mut add = |endpoint: u16, vcpus: &[u16], flags: &mut u64| -> bool {
            if used + 1 + vcpus.len() > slots || lists == info::LIST_COUNT_MASK {
                return false;
            }
            ids[used] = endpoint;
            ids[used + 1..used + 1 + vcpus.len()].copy_from_slice(vcpus);
            *flags |= (vcpus.len() as u64) << (info::VCPU_COUNT_SHIFT as u64 + 2 * lists);
            used += 1 + vcpus.len();
            lists += 1;
            true
        };
        if (bitmaps.global != 0 || bitmaps.spm_framework != 0) && !bitmaps.global_reported {
            if add(NORMAL_WORLD_ENDPOINT_ID, &[], &mut flags) {
                bitmaps.global_reported = true;
            } else {
                more = true;
            }
        }
        let mut chunk = [0u16; 3];
        let mut in_chunk = 0;
        let mut chunk_mask = 0u16;
        for vcpu in 0..bitmaps.vcpu_count {
            let unreported = bitmaps.per_vcpu[usize::from(vcpu)] != 0
                && bitmaps.vcpus_reported & (1 << vcpu) == 0;
            if unreported {
                chunk[in_chunk] = vcpu;
                chunk_mask |= 1 << vcpu;
                in_chunk += 1;
            }
            if in_chunk == 3 || (vcpu + 1 == bitmaps.vcpu_count && in_chunk > 0) {
                if add(NORMAL_WORLD_ENDPOINT_ID, &chunk[..in_chunk], &mut flags) {
                    bitmaps.vcpus_reported |= chunk_mask;
                } else {
                    more = true;
                }
                in_chunk = 0;
                chunk_mask = 0;
            }
        }
        if lists == 0 {
            return Err(Status::NoData);
        }
        flags |= lists << info::LIST_COUNT_SHIFT;
        if more {
            flags |= info::MORE_PENDING;
        }
        let mut reply = if wide {
            Reply::ffa(FFA_SUCCESS_64)
        } else {
            Reply::success_32()
        };
        reply = reply.with(2, flags);
        let per_register = if wide { 4 } else { 2 };
        for (register, group) in ids[..slots].chunks(per_register).enumerate() {
            let value = group.iter().enumerate().fold(0u64, |value, (index, id)| {
                value | u64::from(*id) << (16 * index)
            });
            reply = reply.with(info::FIRST_ID_REGISTER + register, value);
        }
        Ok(reply)
    }

    /// A partition (`sender`) sets `bitmap` for the normal world (global,
    /// or for `vcpu`), and raises the schedule receiver interrupt.
    pub(crate) fn signal_normal_world(
        &mut self,
        sender: u16,
        bitmap: Bitmap,
        vcpu: Option<u16>,
        personality: Personality,
        platform: &mut dyn Platform,
    ) -> Result<(), Status> {
        if bitmap.is_empty() {
            return Err(Status::InvalidParameters);
        }
        let bitmaps = self.bitmaps(personality)?;
        let wanted = Binding {
            sender,
            per_vcpu: vcpu.is_some(),
        };
        if bitmaps
            .bindings_of(bitmap)
            .any(|binding| binding != Some(wanted))
        {
            return Err(Status::Denied);
        }
        match vcpu {
            Some(vcpu) if vcpu >= bitmaps.vcpu_count => return Err(Status::InvalidParameters),
            Some(vcpu) => bitmaps.per_vcpu[usize::from(vcpu)] |= bitmap.0,
            None => bitmaps.global |= bitmap.0,
        }
        self.counters.for_normal_world = self
            .counters
            .for_normal_world
            .saturating_add(bitmap.ids().count() as u32);
        platform.raise_non_secure_interrupt(SCHEDULE_RECEIVER_INTERRUPT);
        Ok(())
    }

    /// An indirect message is in the normal world's RX buffer: the SPM's
    /// framework notification, and the schedule receiver interrupt. Without
    /// bitmaps (none created, nor implicit in this personality), nobody can
    /// be told (`false`).
    pub(crate) fn signal_receive_buffer_full(
        &mut self,
        personality: Personality,
        platform: &mut dyn Platform,
    ) -> bool {
        let Ok(bitmaps) = self.bitmaps(personality) else {
            return false;
        };
        bitmaps.spm_framework |= notification::FRAMEWORK_RX_BUFFER_FULL;
        platform.raise_non_secure_interrupt(SCHEDULE_RECEIVER_INTERRUPT);
        true
    }

    /// Whether the RX-full framework notification is still pending (not retrieved with `GET`).
    pub(crate) fn receive_buffer_full_pending(&self) -> bool {
        self.normal_world.is_some_and(|bitmaps| {
            bitmaps.spm_framework & notification::FRAMEWORK_RX_BUFFER_FULL != 0
        })
    }
}
