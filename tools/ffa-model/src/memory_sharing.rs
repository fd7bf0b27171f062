//! Memory management: the relayer of `FFA_MEM_SHARE`, `FFA_MEM_LEND`,
//! `FFA_MEM_DONATE` (32 and 64), `FFA_MEM_FRAG_TX`, `FFA_MEM_RECLAIM`
//! from the normal world, and of `FFA_MEM_RETRIEVE_REQ`/`RETRIEVE_RESP`,
//! `FFA_MEM_FRAG_RX` and `FFA_MEM_RELINQUISH` from the hosted partitions.
//!
//! A transaction's life:
//!
//! ```text
//!  SHARE/LEND/DONATE(total, fragment)            RETRIEVE_REQ (a receiver)        RECLAIM
//!  ---> Receiving --FRAG_TX...--> Complete --------> retrieved += 1 ------RELINQUISH--> (none held) ---> freed
//!          |  (error: dropped)       |  donate: retrieved ---> Donated (the receiver owns the pages)
//!          '--------- RECLAIM of an incomplete handle: INVALID_PARAMETERS
//! ```
//!
//! The normal world's descriptor (read from its TX buffer in its negotiated
//! version's layout, in fragments) is checked when complete: the header,
//! every access descriptor (receivers must be hosted partitions, no
//! duplicates, not the sender), the composite and its constituents (aligned,
//! non-empty, not overlapping each other, page counts adding up, the exact
//! length), and the sender's ownership of every page: backed by non-secure
//! memory, not its RX/TX pair, not already in a live transaction (so a page
//! cannot be shared twice, nor shared after it was donated). Where SPMCs
//! differ the model follows [`crate::Personality`] (see `memory_rules.rs`);
//! it can inject one fault ([`crate::MemoryFault`]), after letting a given
//! number of the calls it would hit through.
//!
//! Capacity: [`MAXIMUM_TRANSACTIONS`] live transactions,
//! [`CONSTITUENT_CAPACITY`] constituents between them, a descriptor of at
//! most [`DESCRIPTOR_CAPACITY`] bytes, and one descriptor arriving in
//! fragments at a time (`BUSY` for another); beyond them `NO_MEMORY`.
//! From the normal world, `FFA_MEM_RETRIEVE_REQ`, `FFA_MEM_RELINQUISH` and
//! `FFA_MEM_FRAG_RX` answer `NOT_SUPPORTED` (it is never a borrower here:
//! every receiver is a hosted partition; retrieval by a hypervisor is not
//! modelled), as do `FFA_MEM_OP_PAUSE`/`RESUME` (no time slicing) and
//! `FFA_MEM_PERM_GET`/`SET` (partition-only ABIs); under TF-A's rules a
//! normal-world `FFA_MEM_RETRIEVE_REQ` is `INVALID_PARAMETERS`, as there.

use crate::call::{Call, Reply};
use crate::config::FaultConfig;
use crate::function_id::*;
use crate::mailbox::{BufferPair, Mailbox};
use crate::memory::NormalWorldMemory;
use crate::memory_descriptor::{
    put, read_access, read_composite, read_constituent, read_header, read_relinquish, Composite,
    Layout, ATTRIBUTE_NON_SECURE, COMPOSITE_HEADER_SIZE, CONSTITUENT_SIZE, PAGE_SIZE,
};
use crate::memory_rules::{FragmentRule, MemoryFault};
use crate::partition_table::PartitionTable;
use crate::personality::Personality;
use ffa_abi::{Status, Version};

/// Live transactions the model holds at most.
pub const MAXIMUM_TRANSACTIONS: usize = 16;
/// Receivers of one transaction the model holds at most.
pub const MAXIMUM_RECEIVERS: usize = 4;
/// Constituents of all live transactions together.
pub const CONSTITUENT_CAPACITY: usize = 512;
/// The largest descriptor the model takes.
pub const DESCRIPTOR_CAPACITY: usize = 8192;

/// Whether `function_id` is a memory-management call.
pub(crate) fn handles(function_id: u32) -> bool {
    matches!(
        function_id,
        FFA_MEM_DONATE_32
            | FFA_MEM_DONATE_64
            | FFA_MEM_LEND_32
            | FFA_MEM_LEND_64
            | FFA_MEM_SHARE_32
            | FFA_MEM_SHARE_64
            | FFA_MEM_RETRIEVE_REQ_32
            | FFA_MEM_RETRIEVE_REQ_64
            | FFA_MEM_RETRIEVE_RESP
            | FFA_MEM_RELINQUISH
            | FFA_MEM_RECLAIM
            | FFA_MEM_OP_PAUSE
            | FFA_MEM_OP_RESUME
            | FFA_MEM_FRAG_RX
            | FFA_MEM_FRAG_TX
            | FFA_MEM_PERM_GET_32
            | FFA_MEM_PERM_GET_64
            | FFA_MEM_PERM_SET_32
            | FFA_MEM_PERM_SET_64
    )
}

/// `FFA_FEATURES` for the memory-management IDs the normal world may call
/// (from v1.0), under `rules`; `None` for any other ID.
pub(crate) fn features(rules: Personality, queried: u32) -> Option<Reply> {
    match queried {
        FFA_MEM_DONATE_32 | FFA_MEM_DONATE_64 if !rules.offers_donate() => {
            Some(Reply::error(Status::NotSupported))
        }
        FFA_MEM_DONATE_32 | FFA_MEM_DONATE_64 | FFA_MEM_LEND_32 | FFA_MEM_LEND_64
        | FFA_MEM_SHARE_32 | FFA_MEM_SHARE_64 | FFA_MEM_FRAG_TX | FFA_MEM_RECLAIM => {
            // w2 bit 0 clear: no dynamically allocated buffers, TX only.
            Some(Reply::success_32())
        }
        _ if handles(queried) => Some(Reply::error(Status::NotSupported)),
        _ => None,
    }
}

/// Share, lend or donate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionType {
    /// `FFA_MEM_SHARE`.
    Share,
    /// `FFA_MEM_LEND`.
    Lend,
    /// `FFA_MEM_DONATE`.
    Donate,
}

impl TransactionType {
    /// The value of flags `[4:3]` (1, 2, 3).
    pub const fn code(self) -> u32 {
        match self {
            TransactionType::Share => 1,
            TransactionType::Lend => 2,
            TransactionType::Donate => 3,
        }
    }

    fn of(function_id: u32) -> Option<TransactionType> {
        match function_id {
            FFA_MEM_SHARE_32 | FFA_MEM_SHARE_64 => Some(TransactionType::Share),
            FFA_MEM_LEND_32 | FFA_MEM_LEND_64 => Some(TransactionType::Lend),
            FFA_MEM_DONATE_32 | FFA_MEM_DONATE_64 => Some(TransactionType::Donate),
            _ => None,
        }
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Fragments are still arriving.
    Receiving,
    /// Complete: receivers may retrieve it, the owner may reclaim it.
    Complete,
    /// Donated and retrieved: the receiver owns the pages.
    Donated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Constituent {
    address: u64,
    pages: u32,
}

impl Constituent {
    const NONE: Constituent = Constituent {
        address: 0,
        pages: 0,
    };

    fn end(&self) -> u64 {
        self.address + u64::from(self.pages) * PAGE_SIZE
    }

    fn overlaps(&self, address: u64, end: u64) -> bool {
        self.address < end && address < self.end()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReceiverState {
    id: u16,
    permissions: u8,
    impdef: [u8; 16],
    retrieved: u16,
}

impl ReceiverState {
    const NONE: ReceiverState = ReceiverState {
        id: 0,
        permissions: 0,
        impdef: [0; 16],
        retrieved: 0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transaction {
    handle: u64,
    phase: Phase,
    kind: TransactionType,
    layout: Layout,
    sender: u16,
    attributes: u16,
    flags: u32,
    tag: u64,
    receivers: [ReceiverState; MAXIMUM_RECEIVERS],
    receiver_count: usize,
    first: usize,
    count: usize,
    total_pages: u32,
    total: usize,
    filled: usize,
    fragments: u32,
    zeroed: bool,
}

/// What a test can see of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionInfo {
    /// The handle.
    pub handle: u64,
    /// Share, lend or donate.
    pub kind: TransactionType,
    /// Where it stands.
    pub phase: Phase,
    /// Receivers' IDs and how many times each retrieved it without relinquishing.
    pub receivers: [(u16, u16); MAXIMUM_RECEIVERS],
    /// Number of receivers.
    pub receiver_count: usize,
    /// Total pages.
    pub total_pages: u32,
    /// Number of constituents.
    pub constituents: usize,
    /// Descriptor fragments received.
    pub fragments: u32,
}

/// The relayer's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemorySharing {
    transactions: [Option<Transaction>; MAXIMUM_TRANSACTIONS],
    constituents: [Constituent; CONSTITUENT_CAPACITY],
    assembly: [u8; DESCRIPTOR_CAPACITY],
    assembling: bool,
    serial: u64,
    fault: MemoryFault,
    /// Calls the fault lets through before it fires.
    fault_after: u8,
}

/// What the complete-descriptor check found.
struct Checked {
    header_sender: u16,
    attributes: u16,
    flags: u32,
    tag: u64,
    receivers: [ReceiverState; MAXIMUM_RECEIVERS],
    receiver_count: usize,
    composite: Composite,
}

impl MemorySharing {
    pub(crate) const fn new(config: &FaultConfig) -> MemorySharing {
        MemorySharing {
            transactions: [None; MAXIMUM_TRANSACTIONS],
            constituents: [Constituent::NONE; CONSTITUENT_CAPACITY],
            assembly: [0; DESCRIPTOR_CAPACITY],
            assembling: false,
            serial: 0,
            fault: config.memory_fault,
            fault_after: config.memory_fault_after,
        }
    }

    /// Makes this relayer what [`MemorySharing::new`] makes, in place:
    /// element by element, so no second relayer (most of a secure world's
    /// size) is built on the stack first.
    pub(crate) fn reset(&mut self, config: &FaultConfig) {
        self.transactions.fill(None);
        self.constituents.fill(Constituent::NONE);
        self.assembly.fill(0);
        self.assembling = false;
        self.serial = 0;
        self.fault = config.memory_fault;
        self.fault_after = config.memory_fault_after;
    }

    /// The live transactions, for tests.
    pub(crate) fn transactions(&self) -> impl Iterator<Item = TransactionInfo> + '_ {
        self.transactions.iter().flatten().map(|transaction| {
            let mut receivers = [(0, 0); MAXIMUM_RECEIVERS];
            for (slot, receiver) in receivers
                .iter_mut()
                .zip(&transaction.receivers[..transaction.receiver_count])
            {
                *slot = (receiver.id, receiver.retrieved);
            }
            TransactionInfo {
                handle: transaction.handle,
                kind: transaction.kind,
                phase: transaction.phase,
                receivers,
                receiver_count: transaction.receiver_count,
                total_pages: transaction.total_pages,
                constituents: transaction.count,
                fragments: transaction.fragments,
            }
        })
    }

    /// The sender and tag of the complete transaction `handle`: what an
    /// SPMC that is also a borrower (OP-TEE's) knows without being told.
    pub(crate) fn sender_and_tag(&self, handle: u64) -> Option<(u16, u64)> {
        let transaction = self.transactions[self.find(handle)?]?;
        (transaction.phase == Phase::Complete).then_some((transaction.sender, transaction.tag))
    }

    /// Injects the configured fault if it is `fault`, has let through the
    /// calls it was told to, and has not fired yet.
    fn fire(&mut self, fault: MemoryFault) -> bool {
        if self.fault != fault || fault == MemoryFault::None {
            return false;
        }
        if self.fault_after > 0 {
            self.fault_after -= 1;
            return false;
        }
        self.fault = MemoryFault::None;
        true
    }

    fn find(&self, handle: u64) -> Option<usize> {
        self.transactions
            .iter()
            .position(|slot| slot.is_some_and(|transaction| transaction.handle == handle))
    }

    fn drop_slot(&mut self, slot: usize) {
        if let Some(transaction) = self.transactions[slot].take() {
            if transaction.phase == Phase::Receiving {
                self.assembling = false;
            }
        }
    }

    /// Handles a memory-management call from the normal world.
    pub(crate) fn handle(
        &mut self,
        call: &Call<'_>,
        memory: &mut dyn NormalWorldMemory,
        mailbox: &Mailbox,
        partitions: &PartitionTable,
        config: &FaultConfig,
        version: Version,
    ) -> Reply {
        let rules = config.personality;
        let function_id = call.function_id();
        let result = if let Some(kind) = TransactionType::of(function_id) {
            self.send(kind, call, memory, mailbox, partitions, rules, version)
        } else {
            match function_id {
                FFA_MEM_FRAG_TX => self.fragment(call, memory, mailbox, partitions, rules, version),
                FFA_MEM_RECLAIM => self
                    .reclaim(call, memory, rules)
                    .map(|()| Reply::success_32()),
                FFA_MEM_RETRIEVE_REQ_32 | FFA_MEM_RETRIEVE_REQ_64
                    if rules == Personality::TfAEl3Spmc =>
                {
                    Err(Status::InvalidParameters)
                }
                _ => Err(Status::NotSupported),
            }
        };
        result.unwrap_or_else(Reply::error)
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        kind: TransactionType,
        call: &Call<'_>,
        memory: &mut dyn NormalWorldMemory,
        mailbox: &Mailbox,
        partitions: &PartitionTable,
        rules: Personality,
        version: Version,
    ) -> Result<Reply, Status> {
        if kind == TransactionType::Donate && !rules.offers_donate() {
            return Err(Status::NotSupported);
        }
        if !rules.accepts_caller(version) {
            return Err(Status::InvalidParameters);
        }
        // No dynamically allocated buffers: the descriptor is in TX.
        if call.register(3) != 0 || call.word(4) != 0 {
            return Err(Status::InvalidParameters);
        }
        let pair = mailbox.pair().ok_or(Status::InvalidParameters)?;
        let total = call.word(1) as usize;
        let length = call.word(2) as usize;
        if length == 0 || length > total || length as u64 > pair.size() {
            return Err(Status::InvalidParameters);
        }
        if rules == Personality::Hafnium
            && (!total.is_multiple_of(16) || !length.is_multiple_of(16))
        {
            return Err(Status::InvalidParameters);
        }
        if total > DESCRIPTOR_CAPACITY
            || (rules == Personality::TfAEl3Spmc && !total.is_multiple_of(16))
        {
            return Err(Status::NoMemory);
        }
        if self.assembling {
            return Err(Status::Busy);
        }
        let slot = self
            .transactions
            .iter()
            .position(Option::is_none)
            .ok_or(Status::NoMemory)?;
        if self.fire(MemoryFault::NoMemory) {
            return Err(Status::NoMemory);
        }
        if self.fire(MemoryFault::BadAttributes) {
            return Err(Status::InvalidParameters);
        }
        let layout = Layout::of(version);
        memory
            .read(pair.transmit_address, &mut self.assembly[..length])
            .map_err(|_| Status::InvalidParameters)?;
        let header =
            read_header(&self.assembly[..length], layout).map_err(|_| Status::InvalidParameters)?;
        if layout != Layout::V1_0
            && (!rules.access_size_ok(layout, header.access_size)
                || !rules.access_offset_ok(header.access_offset))
        {
            return Err(Status::InvalidParameters);
        }
        if header.receiver_count == 0 || header.receiver_count > rules.maximum_receivers() {
            return Err(Status::InvalidParameters);
        }
        let composite_end = read_access(&self.assembly[..length], &header, 0)
            .ok()
            .map(|access| access.composite_offset as usize + COMPOSITE_HEADER_SIZE);
        if length < total
            && rules.composite_in_first_fragment()
            && composite_end.is_none_or(|end| end > length)
        {
            return Err(Status::InvalidParameters);
        }
        let handle = rules.handle(self.serial, slot);
        self.serial += 1;
        let mut transaction = Transaction {
            handle,
            phase: Phase::Receiving,
            kind,
            layout,
            sender: header.sender,
            attributes: 0,
            flags: 0,
            tag: 0,
            receivers: [ReceiverState::NONE; MAXIMUM_RECEIVERS],
            receiver_count: 0,
            first: 0,
            count: 0,
            total_pages: 0,
            total,
            filled: length,
            fragments: 1,
            zeroed: false,
        };
        if length == total {
            self.transactions[slot] = Some(transaction);
            self.assembling = true;
            return self.complete(slot, memory, mailbox, partitions, rules);
        }
        if rules.fragment_rule() == FragmentRule::ConsumedPrefix {
            transaction.filled = consumed_prefix(length, composite_end);
        }
        let filled = transaction.filled;
        self.transactions[slot] = Some(transaction);
        self.assembling = true;
        Ok(fragment_answer(
            handle,
            filled,
            rules.fragment_answer_w4(true, header.sender),
        ))
    }

    fn fragment(
        &mut self,
        call: &Call<'_>,
        memory: &mut dyn NormalWorldMemory,
        mailbox: &Mailbox,
        partitions: &PartitionTable,
        rules: Personality,
        version: Version,
    ) -> Result<Reply, Status> {
        let handle = u64::from(call.word(1)) | u64::from(call.word(2)) << 32;
        let length = call.word(3) as usize;
        let slot = self.find(handle).ok_or(Status::InvalidParameters)?;
        let Some(mut transaction) = self.transactions[slot] else {
            return Err(Status::InvalidParameters);
        };
        if transaction.phase != Phase::Receiving || !rules.accepts_caller(version) {
            return Err(Status::InvalidParameters);
        }
        if rules == Personality::TfAEl3Spmc && call.word(4) != u32::from(transaction.sender) << 16 {
            return Err(Status::InvalidParameters);
        }
        // From here on, an error drops the transaction (as TF-A and Hafnium do).
        let result = (|| {
            if self.fire(MemoryFault::AbortedFragment) {
                return Err(Status::Aborted);
            }
            let pair: BufferPair = mailbox.pair().ok_or(Status::InvalidParameters)?;
            let remaining = transaction.total - transaction.filled;
            if length == 0 || length as u64 > pair.size() || length > remaining {
                return Err(Status::InvalidParameters);
            }
            if rules.fragment_rule() == FragmentRule::WholeConstituents
                && !length.is_multiple_of(CONSTITUENT_SIZE)
            {
                return Err(Status::InvalidParameters);
            }
            transaction.fragments += 1;
            if transaction.fragments > rules.maximum_fragments() {
                return Err(Status::NoMemory);
            }
            let start = transaction.filled;
            memory
                .read(
                    pair.transmit_address,
                    &mut self.assembly[start..start + length],
                )
                .map_err(|_| Status::InvalidParameters)?;
            transaction.filled = start + length;
            if rules.fragment_rule() == FragmentRule::ConsumedPrefix
                && transaction.filled < transaction.total
            {
                let header = read_header(&self.assembly, transaction.layout)
                    .map_err(|_| Status::InvalidParameters)?;
                let composite_end = read_access(&self.assembly, &header, 0)
                    .ok()
                    .map(|access| access.composite_offset as usize + COMPOSITE_HEADER_SIZE);
                transaction.filled = consumed_prefix(transaction.filled, composite_end).max(start);
            }
            Ok(())
        })();
        if let Err(error) = result {
            self.drop_slot(slot);
            return Err(error);
        }
        let filled = transaction.filled;
        self.transactions[slot] = Some(transaction);
        if filled < transaction.total {
            return Ok(fragment_answer(
                handle,
                filled,
                rules.fragment_answer_w4(false, transaction.sender),
            ));
        }
        self.complete(slot, memory, mailbox, partitions, rules)
    }

    /// The descriptor of the transaction in `slot` is complete: check it,
    /// store it, answer `FFA_SUCCESS` with the handle (or drop it).
    fn complete(
        &mut self,
        slot: usize,
        memory: &mut dyn NormalWorldMemory,
        mailbox: &Mailbox,
        partitions: &PartitionTable,
        rules: Personality,
    ) -> Result<Reply, Status> {
        let result = self.check_and_store(slot, memory, mailbox, partitions, rules);
        self.assembling = false;
        match result {
            Ok(handle) => Ok(Reply::success_32()
                .with(2, handle & 0xFFFF_FFFF)
                .with(3, handle >> 32)),
            Err(error) => {
                self.transactions[slot] = None;
                Err(error)
            }
        }
    }

    fn check_and_store(
        &mut self,
        slot: usize,
        memory: &mut dyn NormalWorldMemory,
        mailbox: &Mailbox,
        partitions: &PartitionTable,
        rules: Personality,
    ) -> Result<u64, Status> {
        let mut transaction = self.transactions[slot].ok_or(Status::InvalidParameters)?;
        let bytes = &self.assembly[..transaction.total];
        let checked = check_descriptor(
            bytes,
            transaction.layout,
            transaction.kind,
            partitions,
            rules,
        )?;
        let composite = checked.composite;
        // The constituents: each well formed, none overlapping another.
        let mut summed = 0u64;
        for index in 0..composite.range_count {
            let (address, pages, reserved) = read_constituent(bytes, &composite, index);
            if pages == 0 || reserved != 0 {
                return Err(Status::InvalidParameters);
            }
            if address % PAGE_SIZE != 0 && !rules.accepts_misaligned() {
                return Err(Status::InvalidParameters);
            }
            let end = address
                .checked_add(u64::from(pages) * PAGE_SIZE)
                .ok_or(Status::InvalidParameters)?;
            for other in 0..index {
                let (other_address, other_pages, _) = read_constituent(bytes, &composite, other);
                let other = Constituent {
                    address: other_address,
                    pages: other_pages,
                };
                if other.overlaps(address, end) {
                    return Err(Status::InvalidParameters);
                }
            }
            summed += u64::from(pages);
        }
        if summed != u64::from(composite.total_pages) {
            return Err(Status::InvalidParameters);
        }
        // The sender's ownership of every page.
        let pair = mailbox.pair();
        for index in 0..composite.range_count {
            let (address, pages, _) = read_constituent(bytes, &composite, index);
            let range = Constituent { address, pages };
            if !backed(memory, &range) {
                return Err(rules.not_owned());
            }
            if let Some(pair) = pair {
                for buffer in [pair.transmit_address, pair.receive_address] {
                    if range.overlaps(buffer, buffer + pair.size()) {
                        return Err(rules.not_owned());
                    }
                }
            }
            for other in self.transactions.iter().flatten() {
                if other.phase == Phase::Receiving {
                    continue;
                }
                let theirs = &self.constituents[other.first..other.first + other.count];
                if theirs
                    .iter()
                    .any(|held| held.overlaps(range.address, range.end()))
                {
                    return Err(rules.not_owned());
                }
            }
        }
        let first = self
            .free_constituents(composite.range_count)
            .ok_or(Status::NoMemory)?;
        for index in 0..composite.range_count {
            let (address, pages, _) = read_constituent(bytes, &composite, index);
            self.constituents[first + index] = Constituent { address, pages };
        }
        transaction.phase = Phase::Complete;
        transaction.sender = checked.header_sender;
        transaction.attributes = checked.attributes;
        transaction.flags = checked.flags;
        transaction.tag = checked.tag;
        transaction.receivers = checked.receivers;
        transaction.receiver_count = checked.receiver_count;
        transaction.first = first;
        transaction.count = composite.range_count;
        transaction.total_pages = composite.total_pages;
        self.transactions[slot] = Some(transaction);
        Ok(transaction.handle)
    }

    /// The first run of `count` free entries of the constituent pool.
    fn free_constituents(&self, count: usize) -> Option<usize> {
        let mut start = 0;
        'search: loop {
            if start + count > CONSTITUENT_CAPACITY {
                return None;
            }
            for transaction in self.transactions.iter().flatten() {
                if transaction.phase == Phase::Receiving || transaction.count == 0 {
                    continue;
                }
                let (first, end) = (transaction.first, transaction.first + transaction.count);
                if first < start + count && start < end {
                    start = end;
                    continue 'search;
                }
            }
            return Some(start);
        }
    }

    fn reclaim(
        &mut self,
        call: &Call<'_>,
        memory: &mut dyn NormalWorldMemory,
        rules: Personality,
    ) -> Result<(), Status> {
        let handle = u64::from(call.word(1)) | u64::from(call.word(2)) << 32;
        let rest_zero = (4..8).all(|index| call.word(index) == 0);
        let zero = rules.reclaim_flags(call.word(3), rest_zero)?;
        let slot = self.find(handle).ok_or(Status::InvalidParameters)?;
        let transaction = self.transactions[slot].ok_or(Status::InvalidParameters)?;
        if transaction.phase != Phase::Complete {
            // Still arriving, or donated and retrieved: not the caller's to reclaim.
            return Err(Status::InvalidParameters);
        }
        if transaction.receivers[..transaction.receiver_count]
            .iter()
            .any(|receiver| receiver.retrieved > 0)
        {
            return Err(Status::Denied);
        }
        if self.fire(MemoryFault::DeniedReclaim) {
            return Err(Status::Denied);
        }
        if zero {
            self.zero(&transaction, memory);
        }
        self.transactions[slot] = None;
        Ok(())
    }

    fn zero(&self, transaction: &Transaction, memory: &mut dyn NormalWorldMemory) {
        let zeros = [0u8; 256];
        for range in &self.constituents[transaction.first..transaction.first + transaction.count] {
            let mut address = range.address;
            while address < range.end() {
                let _ = memory.write(address, &zeros);
                address += zeros.len() as u64;
            }
        }
    }

    // ---- the borrower's side: hosted partitions ------------------------------

    /// `FFA_MEM_RETRIEVE_REQ` from hosted partition `borrower`, whose
    /// request (in `layout`) is `request`: the first fragment of the
    /// response goes to `rx`. Returns (total length, fragment length).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn retrieve(
        &mut self,
        memory: &mut dyn NormalWorldMemory,
        rules: Personality,
        borrower: u16,
        layout: Layout,
        request: &[u8],
        rx: &mut [u8],
    ) -> Result<(usize, usize), Status> {
        let header = read_header(request, layout).map_err(|_| Status::InvalidParameters)?;
        if request.len() != header.access_offset + header.receiver_count * header.access_size
            || header.receiver_count == 0
            || (layout != Layout::V1_0
                && (header.access_offset != 48 || !matches!(header.access_size, 16 | 32)))
        {
            return Err(Status::InvalidParameters);
        }
        let slot = self.find(header.handle).ok_or(Status::InvalidParameters)?;
        let mut transaction = self.transactions[slot].ok_or(Status::InvalidParameters)?;
        match transaction.phase {
            Phase::Receiving => return Err(Status::InvalidParameters),
            Phase::Donated => return Err(Status::Denied),
            Phase::Complete => {}
        }
        if header.sender != transaction.sender || header.tag != transaction.tag {
            return Err(Status::InvalidParameters);
        }
        let requested_type = (header.flags >> 3) & 0b11;
        let share = transaction.kind == TransactionType::Share;
        if (requested_type != 0 && requested_type != transaction.kind.code())
            || header.flags >> 10 != 0
            || (share && header.flags & 0b101 != 0)
        {
            return Err(Status::InvalidParameters);
        }
        if header.attributes & ATTRIBUTE_NON_SECURE != 0
            || (header.attributes != 0 && header.attributes != transaction.attributes)
        {
            return Err(Status::InvalidParameters);
        }
        let access = (0..header.receiver_count)
            .filter_map(|index| read_access(request, &header, index).ok())
            .find(|access| access.receiver == borrower)
            .ok_or(Status::InvalidParameters)?;
        if access.composite_offset != 0 {
            return Err(Status::InvalidParameters);
        }
        let receiver = transaction.receivers[..transaction.receiver_count]
            .iter()
            .position(|receiver| receiver.id == borrower)
            .ok_or(Status::InvalidParameters)?;
        let granted = transaction.receivers[receiver].permissions & 0b11;
        let wanted = access.permissions & 0b11;
        let instruction = (access.permissions >> 2) & 0b11;
        if wanted == 0b11 || instruction == 0b11 {
            return Err(Status::InvalidParameters);
        }
        if (granted == 1 && wanted == 2) || (share && instruction == 2) {
            return Err(Status::Denied);
        }
        if layout == Layout::V1_2
            && transaction.layout == Layout::V1_2
            && header.access_size == 32
            && access.impdef != transaction.receivers[receiver].impdef
        {
            return Err(Status::InvalidParameters);
        }
        let retrieved = &mut transaction.receivers[receiver].retrieved;
        *retrieved = retrieved.checked_add(1).ok_or(Status::NoMemory)?;
        if !share && transaction.flags & 1 != 0 && !transaction.zeroed {
            self.zero(&transaction, memory);
            transaction.zeroed = true;
        }
        if transaction.kind == TransactionType::Donate {
            transaction.phase = Phase::Donated;
        }
        self.transactions[slot] = Some(transaction);
        let response = rules.response_layout(layout);
        let total = self.response_length(&transaction, response);
        let length = total.min(rx.len());
        self.write_response(&transaction, response, 0, length, rx);
        Ok((total, length))
    }

    /// `FFA_MEM_FRAG_RX` from `borrower`: the response bytes from `offset`
    /// into `rx`; returns their length.
    pub(crate) fn fragment_to_borrower(
        &self,
        rules: Personality,
        borrower: u16,
        layout: Layout,
        handle: u64,
        offset: usize,
        rx: &mut [u8],
    ) -> Result<usize, Status> {
        let slot = self.find(handle).ok_or(Status::InvalidParameters)?;
        let transaction = self.transactions[slot].ok_or(Status::InvalidParameters)?;
        let holds = transaction.receivers[..transaction.receiver_count]
            .iter()
            .any(|receiver| receiver.id == borrower && receiver.retrieved > 0);
        if !holds && transaction.phase != Phase::Donated {
            return Err(Status::InvalidParameters);
        }
        let response = rules.response_layout(layout);
        let total = self.response_length(&transaction, response);
        if offset == 0 || offset >= total {
            return Err(Status::InvalidParameters);
        }
        let length = (total - offset).min(rx.len());
        self.write_response(&transaction, response, offset, offset + length, rx);
        Ok(length)
    }

    /// `FFA_MEM_RELINQUISH` from `borrower` with the relinquish descriptor `request`.
    pub(crate) fn relinquish(
        &mut self,
        memory: &mut dyn NormalWorldMemory,
        rules: Personality,
        borrower: u16,
        request: &[u8],
    ) -> Result<(), Status> {
        let relinquish = read_relinquish(request).map_err(|_| Status::InvalidParameters)?;
        if relinquish.endpoint_count != 1 || relinquish.first_endpoint != borrower {
            return Err(Status::InvalidParameters);
        }
        let slot = self
            .find(relinquish.handle)
            .ok_or(Status::InvalidParameters)?;
        let mut transaction = self.transactions[slot].ok_or(Status::InvalidParameters)?;
        if transaction.phase != Phase::Complete {
            return Err(Status::InvalidParameters);
        }
        let zero = rules.relinquish_flags(transaction.kind.code(), relinquish.flags)?;
        let receiver = transaction.receivers[..transaction.receiver_count]
            .iter_mut()
            .find(|receiver| receiver.id == borrower && receiver.retrieved > 0)
            .ok_or(Status::InvalidParameters)?;
        receiver.retrieved -= 1;
        if zero {
            self.zero(&transaction, memory);
        }
        self.transactions[slot] = Some(transaction);
        Ok(())
    }

    fn response_length(&self, transaction: &Transaction, layout: Layout) -> usize {
        layout.header_size()
            + transaction.receiver_count * layout.access_descriptor_size()
            + COMPOSITE_HEADER_SIZE
            + transaction.count * CONSTITUENT_SIZE
    }

    /// Writes bytes `[start, end)` of the retrieve response of `transaction`
    /// in `layout` to `output[0..]`.
    fn write_response(
        &self,
        transaction: &Transaction,
        layout: Layout,
        start: usize,
        end: usize,
        output: &mut [u8],
    ) {
        const FIXED: usize = 48 + MAXIMUM_RECEIVERS * 32 + COMPOSITE_HEADER_SIZE;
        let mut fixed = [0u8; FIXED];
        let access_size = layout.access_descriptor_size();
        let composite = layout.header_size() + transaction.receiver_count * access_size;
        let fixed_length = composite + COMPOSITE_HEADER_SIZE;
        put(&mut fixed, 0, &transaction.sender.to_le_bytes());
        match layout {
            Layout::V1_0 => fixed[2] = transaction.attributes as u8,
            _ => {
                let attributes = transaction.attributes | ATTRIBUTE_NON_SECURE;
                put(&mut fixed, 2, &attributes.to_le_bytes());
                put(&mut fixed, 24, &(access_size as u32).to_le_bytes());
                put(&mut fixed, 32, &(layout.header_size() as u32).to_le_bytes());
            }
        }
        let flags = transaction.kind.code() << 3 | u32::from(transaction.zeroed);
        put(&mut fixed, 4, &flags.to_le_bytes());
        put(&mut fixed, 8, &transaction.handle.to_le_bytes());
        put(&mut fixed, 16, &transaction.tag.to_le_bytes());
        put(
            &mut fixed,
            28,
            &(transaction.receiver_count as u32).to_le_bytes(),
        );
        for (index, receiver) in transaction.receivers[..transaction.receiver_count]
            .iter()
            .enumerate()
        {
            let at = layout.header_size() + index * access_size;
            put(&mut fixed, at, &receiver.id.to_le_bytes());
            // The relayer grants not-executable where the sender left
            // instruction access unspecified.
            let permissions = if receiver.permissions & 0b1100 == 0 {
                receiver.permissions | 0b0100
            } else {
                receiver.permissions
            };
            fixed[at + 2] = permissions;
            put(&mut fixed, at + 4, &(composite as u32).to_le_bytes());
            if layout == Layout::V1_2 {
                put(&mut fixed, at + 8, &receiver.impdef);
            }
        }
        put(
            &mut fixed,
            composite,
            &transaction.total_pages.to_le_bytes(),
        );
        put(
            &mut fixed,
            composite + 4,
            &(transaction.count as u32).to_le_bytes(),
        );
        let mut position = start;
        while position < end {
            let out = position - start;
            if position < fixed_length {
                let take = (fixed_length - position).min(end - position);
                output[out..out + take].copy_from_slice(&fixed[position..position + take]);
                position += take;
                continue;
            }
            let index = (position - fixed_length) / CONSTITUENT_SIZE;
            let within = (position - fixed_length) % CONSTITUENT_SIZE;
            let range = self.constituents[transaction.first + index];
            let mut unit = [0u8; CONSTITUENT_SIZE];
            put(&mut unit, 0, &range.address.to_le_bytes());
            put(&mut unit, 8, &range.pages.to_le_bytes());
            let take = (CONSTITUENT_SIZE - within).min(end - position);
            output[out..out + take].copy_from_slice(&unit[within..within + take]);
            position += take;
        }
    }
}

/// `FFA_MEM_FRAG_RX` with the handle, the offset taken so far and w4.
fn fragment_answer(handle: u64, filled: usize, w4: u64) -> Reply {
    Reply::ffa(FFA_MEM_FRAG_RX)
        .with(1, handle & 0xFFFF_FFFF)
        .with(2, handle >> 32)
        .with(3, filled as u64)
        .with(4, w4)
}

/// The bytes an SPMC that takes whole constituents only acknowledges of
/// `filled`: up to the last whole constituent once the composite header
/// (ending at `composite_end`) is in.
fn consumed_prefix(filled: usize, composite_end: Option<usize>) -> usize {
    match composite_end {
        Some(end) if filled > end => end + (filled - end) / CONSTITUENT_SIZE * CONSTITUENT_SIZE,
        _ => filled,
    }
}

/// Whether every page of `range` is backed by normal-world memory.
fn backed(memory: &dyn NormalWorldMemory, range: &Constituent) -> bool {
    let mut byte = [0u8; 1];
    (0..u64::from(range.pages)).all(|page| {
        let first = range.address + page * PAGE_SIZE;
        memory.read(first, &mut byte).is_ok()
            && memory.read(first + PAGE_SIZE - 1, &mut byte).is_ok()
    })
}

/// Checks a complete sender descriptor's header, access descriptors and
/// composite (the constituents are checked by the caller).
fn check_descriptor(
    bytes: &[u8],
    layout: Layout,
    kind: TransactionType,
    partitions: &PartitionTable,
    rules: Personality,
) -> Result<Checked, Status> {
    let invalid = Status::InvalidParameters;
    let header = read_header(bytes, layout).map_err(|_| invalid)?;
    rules.sender(header.sender)?;
    if header.reserved_attribute_byte != 0 || !header.reserved_zero || header.handle != 0 {
        return Err(invalid);
    }
    let operation = kind.code();
    rules.send_flags(operation, header.flags)?;
    let count = header.receiver_count;
    if count == 0
        || count > rules.maximum_receivers()
        || (kind == TransactionType::Donate && count != 1)
    {
        return Err(invalid);
    }
    if layout != Layout::V1_0
        && (!rules.access_size_ok(layout, header.access_size)
            || !rules.access_offset_ok(header.access_offset))
    {
        return Err(invalid);
    }
    rules.attributes(operation, count, header.attributes)?;
    let mut receivers = [ReceiverState::NONE; MAXIMUM_RECEIVERS];
    let mut composite_offset = 0u32;
    for index in 0..count {
        let access = read_access(bytes, &header, index).map_err(|_| invalid)?;
        if partitions.find(access.receiver).is_none()
            || access.receiver == header.sender
            || receivers[..index]
                .iter()
                .any(|other| other.id == access.receiver)
            || access.flags != 0
            || !access.reserved_zero
            || access.composite_offset == 0
            || (index > 0 && access.composite_offset != composite_offset)
        {
            return Err(invalid);
        }
        rules.permissions(operation, access.permissions)?;
        composite_offset = access.composite_offset;
        receivers[index] = ReceiverState {
            id: access.receiver,
            permissions: access.permissions,
            impdef: access.impdef,
            retrieved: 0,
        };
    }
    // OP-TEE takes a lend only for itself; one for a partition it hosts is
    // DENIED (`thread_spmc.c`: `is_sp_op`, only shares go to partitions).
    if rules == Personality::OpTee
        && kind == TransactionType::Lend
        && receivers[0].id != crate::partition::OPTEE_PARTITION_ID
    {
        return Err(Status::Denied);
    }
    let composite_offset = composite_offset as usize;
    let alignment = if rules == Personality::OpTee { 8 } else { 16 };
    if composite_offset < header.access_offset + count * header.access_size
        || !composite_offset.is_multiple_of(alignment)
    {
        return Err(invalid);
    }
    let composite = read_composite(bytes, composite_offset).map_err(|_| invalid)?;
    if composite.range_count == 0 || !composite.reserved_zero {
        return Err(invalid);
    }
    let described = composite.constituents_offset + composite.range_count * CONSTITUENT_SIZE;
    if rules != Personality::OpTee && described != bytes.len() {
        return Err(invalid);
    }
    Ok(Checked {
        header_sender: header.sender,
        attributes: header.attributes,
        flags: header.flags,
        tag: header.tag,
        receivers,
        receiver_count: count,
        composite,
    })
}
