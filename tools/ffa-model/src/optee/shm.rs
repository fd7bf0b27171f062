//! The normal world's memory as OP-TEE sees it: FF-A handles it was given,
//! retrieved on first use and kept until the normal world unregisters them.
//!
//! OP-TEE as the S-EL1 SPMC finds a handle's pages in its own records
//! (`mobj_ffa_get_by_cookie`). The model goes through the relayer instead,
//! as a borrower would: the first use of a handle retrieves it as OP-TEE's
//! partition (`memory_partition::retrieve_into`, so the arguments OP-TEE
//! reads come from memory it retrieved), and keeps its ranges; while it is
//! retrieved the owner's `FFA_MEM_RECLAIM` is `DENIED`, as OP-TEE answers
//! for a handle it has used and not been told to drop (`registered_by_cookie`
//! without `unregistered_by_cookie`). `UNREGISTER_SHM` relinquishes it:
//! `FFA_BUSY` while a thread still uses it, 0 for a handle OP-TEE does not
//! hold (`thread_spmc.c`'s `handle_unregister_shm`).

use crate::memory::NormalWorldMemory;
use crate::memory_descriptor::{
    read_access, read_composite, read_constituent, read_header, Layout,
};
use crate::memory_partition::{self, Retrieval};
use crate::memory_sharing::MemorySharing;
use crate::personality::Personality;
use ffa_abi::Status;

/// Handles OP-TEE holds at once.
pub const OBJECT_CAPACITY: usize = 16;
/// Ranges of one handle OP-TEE takes (a longer list is refused).
pub const RANGES_PER_OBJECT: usize = 8;
/// The largest retrieve response OP-TEE reads (its RX page is larger; the
/// model's ranges limit fits in far less).
const RESPONSE_CAPACITY: usize = 1024;
const PAGE_SIZE: u64 = 4096;

/// One handle OP-TEE holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Object {
    cookie: u64,
    ranges: [(u64, u32); RANGES_PER_OBJECT],
    range_count: usize,
    size: u64,
    /// Threads using it now.
    users: u8,
}

/// What the memory access was refused for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfBounds;

/// The handles OP-TEE holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SharedObjects {
    objects: [Option<Object>; OBJECT_CAPACITY],
}

/// Where OP-TEE's memory requests go: the relayer and the normal world's memory.
pub(crate) struct MemoryView<'w> {
    /// The relayer.
    pub(crate) sharing: &'w mut MemorySharing,
    /// The normal world's memory.
    pub(crate) memory: &'w mut dyn NormalWorldMemory,
    /// Whose rules the relayer applies.
    pub(crate) rules: Personality,
    /// The layout OP-TEE speaks to the relayer.
    pub(crate) layout: Layout,
    /// OP-TEE's own ID.
    pub(crate) own_id: u16,
}

impl SharedObjects {
    pub(crate) const fn new() -> SharedObjects {
        SharedObjects {
            objects: [None; OBJECT_CAPACITY],
        }
    }

    /// Handles held now.
    pub(crate) fn held(&self) -> usize {
        self.objects.iter().flatten().count()
    }

    /// Where `cookie` is held, if it is.
    pub(crate) fn slot(&self, cookie: u64) -> Option<usize> {
        self.objects
            .iter()
            .position(|object| object.is_some_and(|object| object.cookie == cookie))
    }

    /// The held handle `cookie`, retrieving it first if OP-TEE has not used
    /// it yet; `None` if the relayer has no such transaction for OP-TEE.
    pub(crate) fn get(&mut self, view: &mut MemoryView<'_>, cookie: u64) -> Option<usize> {
        if let Some(slot) = self.slot(cookie) {
            return Some(slot);
        }
        let free = self.objects.iter().position(Option::is_none)?;
        let object = retrieve(view, cookie)?;
        self.objects[free] = Some(object);
        Some(free)
    }

    /// The size of the handle in `slot`, in bytes.
    pub(crate) fn size(&self, slot: usize) -> u64 {
        self.objects[slot].map_or(0, |object| object.size)
    }

    /// A thread starts using `slot`.
    pub(crate) fn hold(&mut self, slot: usize) {
        if let Some(object) = self.objects[slot].as_mut() {
            object.users = object.users.saturating_add(1);
        }
    }

    /// A thread stops using the handle `cookie`.
    pub(crate) fn release(&mut self, cookie: u64) {
        if let Some(slot) = self.slot(cookie) {
            if let Some(object) = self.objects[slot].as_mut() {
                object.users = object.users.saturating_sub(1);
            }
        }
    }

    /// The physical address of byte `offset` of `slot`, if `length` bytes
    /// from there stay inside one range.
    fn locate(&self, slot: usize, offset: u64, length: u64) -> Result<u64, OutOfBounds> {
        let object = self.objects[slot].ok_or(OutOfBounds)?;
        let end = offset.checked_add(length).ok_or(OutOfBounds)?;
        if end > object.size {
            return Err(OutOfBounds);
        }
        let mut base = 0u64;
        for &(address, pages) in &object.ranges[..object.range_count] {
            let bytes = u64::from(pages) * PAGE_SIZE;
            if offset >= base && offset < base + bytes {
                let inside = offset - base;
                if inside + length > bytes {
                    return Err(OutOfBounds);
                }
                return Ok(address + inside);
            }
            base += bytes;
        }
        Err(OutOfBounds)
    }

    /// Copies `destination.len()` bytes from byte `offset` of `slot`,
    /// across ranges; refused outside the handle.
    pub(crate) fn read(
        &self,
        memory: &dyn NormalWorldMemory,
        slot: usize,
        offset: u64,
        destination: &mut [u8],
    ) -> Result<(), OutOfBounds> {
        self.in_pieces(slot, offset, destination.len(), |address, range| {
            memory
                .read(address, &mut destination[range])
                .map_err(|_| OutOfBounds)
        })
    }

    /// Copies `source` to byte `offset` of `slot`, across ranges; refused
    /// outside the handle.
    pub(crate) fn write(
        &self,
        memory: &mut dyn NormalWorldMemory,
        slot: usize,
        offset: u64,
        source: &[u8],
    ) -> Result<(), OutOfBounds> {
        self.in_pieces(slot, offset, source.len(), |address, range| {
            memory
                .write(address, &source[range])
                .map_err(|_| OutOfBounds)
        })
    }

    /// Cuts `length` bytes from byte `offset` of `slot` into pieces that do
    /// not cross a page, and hands `act` each piece's address and its range
    /// in the caller's buffer; refused outside the handle.
    fn in_pieces(
        &self,
        slot: usize,
        offset: u64,
        length: usize,
        mut act: impl FnMut(u64, core::ops::Range<usize>) -> Result<(), OutOfBounds>,
    ) -> Result<(), OutOfBounds> {
        let mut done = 0usize;
        while done < length {
            let at = offset + done as u64;
            let in_page = (PAGE_SIZE - at % PAGE_SIZE) as usize;
            let take = in_page.min(length - done);
            act(self.locate(slot, at, take as u64)?, done..done + take)?;
            done += take;
        }
        Ok(())
    }

    /// `UNREGISTER_SHM`: w3 of the answer. 0 once dropped (or if OP-TEE
    /// does not hold it), `FFA_BUSY` while a thread uses it,
    /// `FFA_INVALID_PARAMETERS` if the relayer refuses the relinquish.
    pub(crate) fn unregister(&mut self, view: &mut MemoryView<'_>, cookie: u64) -> u32 {
        let Some(slot) = self.slot(cookie) else {
            return 0;
        };
        if self.objects[slot].is_some_and(|object| object.users > 0) {
            return Status::Busy.code() as u32;
        }
        match relinquish(view, cookie) {
            Ok(()) => {
                self.objects[slot] = None;
                0
            }
            Err(_) => Status::InvalidParameters.code() as u32,
        }
    }

    /// Drops `cookie` from OP-TEE's own side (as `thread_rpc_free` does
    /// before it asks the normal world to free the memory).
    pub(crate) fn drop_own(&mut self, view: &mut MemoryView<'_>, cookie: u64) {
        if let Some(slot) = self.slot(cookie) {
            if relinquish(view, cookie).is_ok() {
                self.objects[slot] = None;
            }
        }
    }
}

/// Retrieves `cookie` as OP-TEE and reads its ranges.
fn retrieve(view: &mut MemoryView<'_>, cookie: u64) -> Option<Object> {
    let (sender, tag) = view.sharing.sender_and_tag(cookie)?;
    let retrieval = Retrieval {
        sender,
        handle: cookie,
        tag,
        transaction_type: 0,
        permissions: 0b10,
    };
    let mut descriptor = [0u8; RESPONSE_CAPACITY];
    let received = memory_partition::retrieve_into(
        view.sharing,
        view.memory,
        view.rules,
        view.own_id,
        view.layout,
        &retrieval,
        &mut descriptor,
    )
    .ok()?;
    let object = read_ranges(
        &descriptor[..received.length],
        view.rules.response_layout(view.layout),
        view.own_id,
        cookie,
    );
    if object.is_none() {
        let _ = relinquish(view, cookie);
    }
    object
}

/// The ranges OP-TEE (`own_id`) was given in a retrieve response.
fn read_ranges(bytes: &[u8], layout: Layout, own_id: u16, cookie: u64) -> Option<Object> {
    let header = read_header(bytes, layout).ok()?;
    let access = (0..header.receiver_count)
        .filter_map(|index| read_access(bytes, &header, index).ok())
        .find(|access| access.receiver == own_id)?;
    let composite = read_composite(bytes, access.composite_offset as usize).ok()?;
    if composite.range_count == 0 || composite.range_count > RANGES_PER_OBJECT {
        return None;
    }
    let mut ranges = [(0u64, 0u32); RANGES_PER_OBJECT];
    let mut size = 0u64;
    for (index, range) in ranges.iter_mut().enumerate().take(composite.range_count) {
        let (address, pages, _) = read_constituent(bytes, &composite, index);
        *range = (address, pages);
        size = size.checked_add(u64::from(pages) * PAGE_SIZE)?;
    }
    Some(Object {
        cookie,
        ranges,
        range_count: composite.range_count,
        size,
        users: 0,
    })
}

fn relinquish(view: &mut MemoryView<'_>, cookie: u64) -> Result<(), Status> {
    let mut descriptor = [0u8; 18];
    descriptor[..8].copy_from_slice(&cookie.to_le_bytes());
    descriptor[12..16].copy_from_slice(&1u32.to_le_bytes());
    descriptor[16..].copy_from_slice(&view.own_id.to_le_bytes());
    view.sharing
        .relinquish(view.memory, view.rules, view.own_id, &descriptor)
}
