//! Memory transactions through the proxy: the host's `FFA_MEM_SHARE`,
//! `FFA_MEM_LEND`, `FFA_MEM_FRAG_TX` and `FFA_MEM_RECLAIM`, mediated by
//! page ownership (`crate::ownership`), as pKVM's `ffa.c` mediates them,
//! with LEND that really takes the pages from the host and a reclaim that
//! works with every SPMC.
//!
//! - **Copy, then check.** The host's fragment is copied from its TX into
//!   the proxy's own TX (which the host's stage 2 does not map) before
//!   anything is read; every check reads the proxy's copy, and the monitor
//!   reads the same bytes (`crate::descriptor` says what is checked).
//! - **Pages change hands before the monitor sees them.** Each constituent
//!   must be whole pages of host memory, all owned by the host alone:
//!   shared pages become `SharedWithSecure`, lent ones `LentToSecure` and
//!   leave the host's stage 2 (with TLB maintenance). A constituent that
//!   fails undoes the transaction's earlier ones: a refused transaction
//!   changes nothing. Overlapping constituents fail the same way (the
//!   second finds its pages already given).
//! - **The monitor's refusal undoes it.** `FFA_ERROR` (or -1) from the
//!   monitor gives every page of the transaction back to the host. An
//!   answer that fits no protocol leaves the pages given and unreclaimable
//!   (quarantined): the proxy cannot know whether the monitor holds them.
//! - **Fragments** (`FFA_MEM_FRAG_TX`) are whole constituents, checked and
//!   given as they arrive; one fragmented transaction at a time, tracked by
//!   its handle, the offset the monitor acknowledges checked against the
//!   bytes sent. A fragment the proxy refuses ends the transaction: the
//!   proxy makes the monitor drop it (a fragment longer than any mailbox,
//!   which TF-A's EL3 SPMC and the model refuse by freeing the
//!   transaction) and gives its pages back to the host; since only the
//!   proxy could complete it at the monitor, no partition can retrieve them.
//! - **Reclaim by handle, from the proxy's own record.** Every transaction
//!   the monitor completed is kept with its ranges (bounded: at most
//!   [`MAX_TRANSACTIONS`] transactions and [`MAX_RANGES`] ranges). The host
//!   can reclaim only a handle the proxy recorded for it; the reclaim is
//!   forwarded, and only if the monitor answers `FFA_SUCCESS` do the pages
//!   return (lent ones to the stage 2). pKVM instead asks the SPMC for the
//!   ranges with a hypervisor retrieve request, which only Hafnium answers
//!   (TF-A's EL3 SPMC and OP-TEE refuse it), so its host cannot reclaim
//!   anything under them.
//! - **`FFA_MEM_DONATE` is refused**, as pKVM refuses it: donated pages
//!   leave the host for good, and neither TF-A's EL3 SPMC nor OP-TEE takes
//!   a donation from the normal world.

use kernel::hil::hypervisor::{El2Services, FaultDecision, HostAccess, MemoryRange, Stage2Fault};
use kernel::hil::smccc::SmcccRegisters;

use crate::descriptor::{
    self, Constituent, DescriptorBytes, DescriptorProblem, CONSTITUENT_SIZE, MAX_RECEIVERS,
};
use crate::function::{
    FFA_MEM_FRAG_RX, FFA_MEM_FRAG_TX, FFA_MEM_LEND_32, FFA_MEM_LEND_64, FFA_MEM_RECLAIM,
};
use crate::memory::Mailbox;
use crate::ownership::{Ownership, OwnershipError, PageState, Transition, PAGE_SIZE};
use crate::proxy::HostBuffers;
use crate::reply;
use crate::Registers;
use ffa_abi::{ReplyKind, Status, Version};

/// Transactions the proxy tracks at once (complete or being sent).
pub const MAX_TRANSACTIONS: usize = 16;

/// Address ranges the proxy tracks across all its transactions.
pub const MAX_RANGES: usize = 512;

/// Stage-2 faults at the same address the proxy lets the host retry before
/// it injects the fault anyway (a table that disagrees with the stage 2).
const MAX_RETRIES: u8 = 3;

/// Which operation a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Operation {
    /// `FFA_MEM_SHARE`: the host keeps access.
    Share,
    /// `FFA_MEM_LEND`: the host loses access until it reclaims.
    Lend,
}

impl Operation {
    /// The operation of `function_id` (a SHARE or LEND ID).
    pub const fn of(function_id: u32) -> Operation {
        match function_id {
            FFA_MEM_LEND_32 | FFA_MEM_LEND_64 => Operation::Lend,
            _ => Operation::Share,
        }
    }

    const fn transition(self) -> Transition {
        match self {
            Operation::Share => Transition::ShareWithSecure,
            Operation::Lend => Transition::LendToSecure,
        }
    }

    /// Its name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Share => "share",
            Operation::Lend => "lend",
        }
    }
}

/// Why the proxy refused a memory call, before or instead of the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MemoryRefusal {
    /// w3/w4 name a buffer other than TX (the proxy reads only TX): `INVALID_PARAMETERS`.
    DynamicBuffer,
    /// No host RX/TX pair is mapped: `INVALID_PARAMETERS`.
    NoHostBuffers,
    /// The fragment is longer than the TX buffers: `INVALID_PARAMETERS`.
    FragmentTooLong(u32),
    /// A fragmented transaction is still being sent: `BUSY`.
    TransactionInFlight(u64),
    /// The proxy tracks [`MAX_TRANSACTIONS`] already: `NO_MEMORY`.
    TooManyTransactions,
    /// The proxy tracks [`MAX_RANGES`] ranges already: `NO_MEMORY`.
    TooManyRanges,
    /// Copying the host's fragment failed: `ABORTED`.
    CopyFailed,
    /// The descriptor breaks a rule: `INVALID_PARAMETERS`.
    Descriptor(DescriptorProblem),
    /// Two constituents name the same page: `INVALID_PARAMETERS`.
    Overlap(u64),
    /// A page is not the host's alone, or not host memory: `DENIED`.
    NotOwned(OwnershipError),
    /// The stage 2 could not unmap a lent range (no table to split a block): `NO_MEMORY`.
    Stage2(u64),
    /// No transaction of the host's has this handle: `INVALID_PARAMETERS`.
    UnknownHandle(u64),
    /// `FFA_MEM_FRAG_TX` with w4 naming a sender (only a hypervisor may): `INVALID_PARAMETERS`.
    SenderNamed(u32),
    /// The monitor answered outside the protocol; the pages stay given: `ABORTED`.
    MonitorProtocol(ReplyKind),
}

impl MemoryRefusal {
    /// The FF-A error the host gets.
    pub const fn error(&self) -> Status {
        match self {
            MemoryRefusal::DynamicBuffer
            | MemoryRefusal::NoHostBuffers
            | MemoryRefusal::FragmentTooLong(_)
            | MemoryRefusal::Descriptor(_)
            | MemoryRefusal::Overlap(_)
            | MemoryRefusal::UnknownHandle(_)
            | MemoryRefusal::SenderNamed(_)
            | MemoryRefusal::NotOwned(OwnershipError::BadRange) => Status::InvalidParameters,
            MemoryRefusal::TransactionInFlight(_) => Status::Busy,
            MemoryRefusal::TooManyTransactions
            | MemoryRefusal::TooManyRanges
            | MemoryRefusal::Stage2(_) => Status::NoMemory,
            MemoryRefusal::CopyFailed | MemoryRefusal::MonitorProtocol(_) => Status::Aborted,
            MemoryRefusal::NotOwned(_) => Status::Denied,
        }
    }
}

/// What the proxy did with a memory call it passed to the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MemoryEvent {
    /// A fragment went to the monitor; its pages are given.
    Sent {
        /// Share or lend.
        operation: Operation,
        /// The handle, once the monitor gave one.
        handle: Option<u64>,
        /// Pages given with this fragment.
        pages: u64,
        /// Ranges given with this fragment.
        ranges: u32,
        /// Whether the transaction is complete.
        complete: bool,
    },
    /// The monitor refused; every page of the transaction is the host's again.
    RolledBack {
        /// Share or lend.
        operation: Operation,
        /// Pages given back.
        pages: u64,
        /// What the monitor answered.
        monitor: ReplyKind,
    },
    /// `FFA_MEM_RECLAIM` succeeded: the pages are the host's again.
    Reclaimed {
        /// The handle.
        handle: u64,
        /// Share or lend.
        operation: Operation,
        /// Pages given back.
        pages: u64,
    },
    /// The monitor refused `FFA_MEM_RECLAIM`: the pages stay given.
    ReclaimRefused {
        /// The handle.
        handle: u64,
        /// What the monitor answered.
        monitor: ReplyKind,
    },
}

/// What became of a transaction's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    /// Fragments still to come (or the first one not answered yet).
    Sending {
        total: u32,
        sent: u32,
        declared_pages: u32,
    },
    /// Complete at the monitor: reclaimable by its handle.
    Given,
    /// The monitor answered outside the protocol: never reclaimable.
    Quarantined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    state: SlotState,
    operation: Operation,
    handle: Option<u64>,
    receivers: [u16; MAX_RECEIVERS],
    pages: u64,
}

const FREE_SLOT: Slot = Slot {
    state: SlotState::Free,
    operation: Operation::Share,
    handle: None,
    receivers: [0; MAX_RECEIVERS],
    pages: 0,
};

/// A range given by a transaction: pages from host memory's base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RangeRecord {
    first_page: u32,
    pages: u32,
    slot: u8,
}

const NO_SLOT: u8 = u8::MAX;

const FREE_RANGE: RangeRecord = RangeRecord {
    first_page: 0,
    pages: 0,
    slot: NO_SLOT,
};

/// The proxy's memory transactions and the page-state table they move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sharing {
    ownership: Option<Ownership>,
    slots: [Slot; MAX_TRANSACTIONS],
    ranges: [RangeRecord; MAX_RANGES],
    in_flight: Option<u8>,
    last_fault: u64,
    retries: u8,
}

/// The proxy's TX, as the descriptor validator reads it.
struct ProxyCopy<'e> {
    el2: &'e mut dyn El2Services,
    base: u64,
    length: u32,
}

impl DescriptorBytes for ProxyCopy<'_> {
    fn read(&mut self, offset: u32, destination: &mut [u8]) -> Result<(), DescriptorProblem> {
        let end = u64::from(offset) + destination.len() as u64;
        if end > u64::from(self.length) {
            return Err(DescriptorProblem::Unreadable);
        }
        self.el2
            .read(self.base + u64::from(offset), destination)
            .map_err(|_| DescriptorProblem::Unreadable)
    }
}

fn monitor(el2: &mut dyn El2Services, call: &Registers) -> Registers {
    el2.call_monitor(&SmcccRegisters { x: *call }).x
}

/// The handle of `FFA_SUCCESS` (w2/w3).
fn success_handle(answer: &Registers) -> u64 {
    (answer[2] & 0xFFFF_FFFF) | (answer[3] & 0xFFFF_FFFF) << 32
}

/// The handle of a call or `FFA_MEM_FRAG_RX` (w1/w2).
fn handle_of(registers: &Registers) -> u64 {
    (registers[1] & 0xFFFF_FFFF) | (registers[2] & 0xFFFF_FFFF) << 32
}

/// How the monitor answered a fragment.
#[derive(PartialEq, Eq)]
enum Answer {
    Complete(u64),
    MoreFrom { handle: u64, offset: u32 },
    Refused,
    Other,
}

fn classify(answer: &Registers) -> Answer {
    match reply::kind(answer) {
        ReplyKind::Success(_) => Answer::Complete(success_handle(answer)),
        ReplyKind::Error(_) | ReplyKind::NotSupported => Answer::Refused,
        _ if answer[0] as u32 == FFA_MEM_FRAG_RX => Answer::MoreFrom {
            handle: handle_of(answer),
            offset: answer[3] as u32,
        },
        _ => Answer::Other,
    }
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing::new()
    }
}

impl Sharing {
    /// No table yet: every memory call is refused until [`Sharing::start`].
    pub const fn new() -> Sharing {
        Sharing {
            ownership: None,
            slots: [FREE_SLOT; MAX_TRANSACTIONS],
            ranges: [FREE_RANGE; MAX_RANGES],
            in_flight: None,
            last_fault: 0,
            retries: 0,
        }
    }

    /// Starts tracking pages with `ownership`.
    pub fn start(&mut self, ownership: Ownership) {
        *self = Sharing::new();
        self.ownership = Some(ownership);
    }

    /// The page-state table, once started.
    pub fn ownership(&self) -> Option<&Ownership> {
        self.ownership.as_ref()
    }

    /// Handles of the transactions the host may reclaim.
    pub fn handles(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .filter(|slot| slot.state == SlotState::Given)
            .filter_map(|slot| slot.handle)
    }

    /// Ranges the proxy tracks.
    pub fn ranges_in_use(&self) -> usize {
        self.ranges
            .iter()
            .filter(|range| range.slot != NO_SLOT)
            .count()
    }

    /// The handle of the transaction being sent, if one is.
    pub fn in_flight(&self) -> Option<u64> {
        self.in_flight
            .and_then(|slot| self.slots[usize::from(slot)].handle)
    }

    /// The host maps its RX/TX pair: its pages become EL2's to write.
    pub fn share_mailbox(&self, buffers: &HostBuffers) -> Result<(), OwnershipError> {
        let Some(ownership) = &self.ownership else {
            return Ok(());
        };
        let transmit = MemoryRange::new(buffers.transmit, buffers.size());
        let receive = MemoryRange::new(buffers.receive, buffers.size());
        ownership.apply(transmit, Transition::ShareWithEl2)?;
        if let Err(error) = ownership.apply(receive, Transition::ShareWithEl2) {
            let _ = ownership.apply(transmit, Transition::UnshareFromEl2);
            return Err(error);
        }
        Ok(())
    }

    /// The host's RX/TX pair is unmapped (or its map refused): its pages are the host's alone.
    pub fn unshare_mailbox(&self, buffers: &HostBuffers) {
        if let Some(ownership) = &self.ownership {
            for base in [buffers.transmit, buffers.receive] {
                let _ = ownership.apply(
                    MemoryRange::new(base, buffers.size()),
                    Transition::UnshareFromEl2,
                );
            }
        }
    }

    /// What `FFA_FEATURES` answers for a memory call: the monitor's answer,
    /// without dynamic buffers (w2 bit 0), which the proxy does not take.
    pub fn filter_features(answer: &mut Registers) {
        if reply::kind(answer).is_success() {
            answer[2] &= !1;
        }
    }

    /// A host access its stage 2 refused: retry if the page is the host's to
    /// touch that way now, inject otherwise.
    pub fn fault(&mut self, fault: &Stage2Fault) -> (FaultDecision, Option<PageState>) {
        let state = self
            .ownership
            .as_ref()
            .and_then(|ownership| ownership.state(fault.ipa).ok());
        let allowed = match state.map(PageState::host_access) {
            Some(HostAccess::ReadWrite) => !fault.fetch,
            Some(HostAccess::ReadExecute) => !fault.write,
            _ => false,
        };
        let page = fault.ipa - fault.ipa % PAGE_SIZE;
        if page == self.last_fault {
            self.retries = self.retries.saturating_add(1);
        } else {
            self.last_fault = page;
            self.retries = 0;
        }
        if allowed && self.retries < MAX_RETRIES {
            (FaultDecision::Retry, state)
        } else {
            self.retries = 0;
            (FaultDecision::Inject, state)
        }
    }

    /// The host's `FFA_MEM_SHARE` or `FFA_MEM_LEND`: checked, its pages
    /// given, forwarded from the proxy's TX. Returns the answer for the host.
    pub fn send(
        &mut self,
        function_id: u32,
        call: &Registers,
        version: Version,
        host: Option<HostBuffers>,
        mailbox: Mailbox,
        el2: &mut dyn El2Services,
    ) -> Result<(Registers, MemoryEvent), MemoryRefusal> {
        let operation = Operation::of(function_id);
        let total = call[1] as u32;
        let fragment = call[2] as u32;
        if call[3] != 0 || call[4] != 0 {
            return Err(MemoryRefusal::DynamicBuffer);
        }
        let host = host.ok_or(MemoryRefusal::NoHostBuffers)?;
        if u64::from(fragment) > host.size().min(mailbox.size()) {
            return Err(MemoryRefusal::FragmentTooLong(fragment));
        }
        if let Some(slot) = self.in_flight {
            let handle = self.slots[usize::from(slot)].handle.unwrap_or(0);
            return Err(MemoryRefusal::TransactionInFlight(handle));
        }
        let slot = self
            .slots
            .iter()
            .position(|slot| slot.state == SlotState::Free)
            .ok_or(MemoryRefusal::TooManyTransactions)? as u8;
        el2.copy(mailbox.transmit, host.transmit, fragment as usize)
            .map_err(|_| MemoryRefusal::CopyFailed)?;
        let header = descriptor::parse_first_fragment(
            version,
            total,
            fragment,
            &mut ProxyCopy {
                el2,
                base: mailbox.transmit,
                length: fragment,
            },
        )
        .map_err(MemoryRefusal::Descriptor)?;
        let mut receivers = [0; MAX_RECEIVERS];
        receivers[..header.receivers().len()].copy_from_slice(header.receivers());
        self.slots[usize::from(slot)] = Slot {
            state: SlotState::Sending {
                total,
                sent: 0,
                declared_pages: header.total_pages,
            },
            operation,
            handle: None,
            receivers,
            pages: 0,
        };
        let given = match self.give_fragment(slot, header.first_constituent, fragment, mailbox, el2)
        {
            Ok(given) => given,
            Err(refusal) => {
                self.undo(slot, el2);
                return Err(refusal);
            }
        };
        let call = reply::call(function_id, &[u64::from(total), u64::from(fragment)]);
        self.forward(slot, call, given, el2)
    }

    /// The host's `FFA_MEM_FRAG_TX`: the next fragment of the transaction
    /// being sent, checked, its pages given, forwarded.
    pub fn fragment(
        &mut self,
        call: &Registers,
        host: Option<HostBuffers>,
        mailbox: Mailbox,
        el2: &mut dyn El2Services,
    ) -> Result<(Registers, MemoryEvent), MemoryRefusal> {
        let handle = handle_of(call);
        let slot = self
            .in_flight
            .filter(|slot| self.slots[usize::from(*slot)].handle == Some(handle))
            .ok_or(MemoryRefusal::UnknownHandle(handle))?;
        let result = self.next_fragment(slot, handle, call, host, mailbox, el2);
        let sending = matches!(
            self.slots[usize::from(slot)].state,
            SlotState::Sending { .. }
        );
        if result.is_err() && sending {
            // The host's fragment is refused: the transaction ends here.
            // Only the proxy could complete it at the monitor, so its pages
            // are the host's again, once the monitor has dropped it too.
            self.abort_at_monitor(slot, handle, mailbox, el2);
        }
        result
    }

    /// Ends the incomplete transaction in `slot` at the monitor, which
    /// otherwise keeps its partial descriptor (and, as the model does, may
    /// take no other until it is complete). No ABI aborts a transmission
    /// (pKVM's `FFA_MEM_RECLAIM` of the handle is refused by every SPMC
    /// while it is incomplete), but TF-A's EL3 SPMC and the model drop a
    /// transaction whose fragment they refuse, so the proxy sends one
    /// longer than its mailbox, which no monitor can take. An error answer
    /// gives the pages back to the host; anything else would mean the
    /// monitor took a descriptor it never had: the pages stay given,
    /// quarantined, never reclaimable.
    fn abort_at_monitor(
        &mut self,
        slot: u8,
        handle: u64,
        mailbox: Mailbox,
        el2: &mut dyn El2Services,
    ) {
        let too_long = mailbox.size() + u64::from(CONSTITUENT_SIZE);
        let call = reply::call(
            FFA_MEM_FRAG_TX,
            &[handle & 0xFFFF_FFFF, handle >> 32, too_long, 0],
        );
        let answer = monitor(el2, &call);
        if classify(&answer) == Answer::Refused {
            defmt::info!(
                "el2 proxy: transaction {=u64:#x} ended at the monitor (its over-long fragment refused); its pages are the host's again",
                handle
            );
            self.undo(slot, el2);
        } else {
            defmt::error!(
                "el2 proxy: the monitor took an over-long fragment of {=u64:#x}: its pages stay given, quarantined",
                handle
            );
            self.slots[usize::from(slot)].state = SlotState::Quarantined;
            self.in_flight = None;
        }
    }

    fn next_fragment(
        &mut self,
        slot: u8,
        handle: u64,
        call: &Registers,
        host: Option<HostBuffers>,
        mailbox: Mailbox,
        el2: &mut dyn El2Services,
    ) -> Result<(Registers, MemoryEvent), MemoryRefusal> {
        let length = call[3] as u32;
        let sender = call[4] as u32;
        if sender != 0 {
            return Err(MemoryRefusal::SenderNamed(sender));
        }
        let SlotState::Sending { total, sent, .. } = self.slots[usize::from(slot)].state else {
            return Err(MemoryRefusal::UnknownHandle(handle));
        };
        let host = host.ok_or(MemoryRefusal::NoHostBuffers)?;
        if u64::from(length) > host.size().min(mailbox.size()) {
            return Err(MemoryRefusal::FragmentTooLong(length));
        }
        let remaining = total - sent;
        if length > remaining {
            return Err(MemoryRefusal::Descriptor(DescriptorProblem::BadLengths {
                total: remaining,
                fragment: length,
            }));
        }
        descriptor::check_lengths(remaining, length).map_err(MemoryRefusal::Descriptor)?;
        el2.copy(mailbox.transmit, host.transmit, length as usize)
            .map_err(|_| MemoryRefusal::CopyFailed)?;
        let given = self.give_fragment(slot, 0, length, mailbox, el2)?;
        let call = reply::call(
            FFA_MEM_FRAG_TX,
            &[handle & 0xFFFF_FFFF, handle >> 32, u64::from(length), 0],
        );
        self.forward(slot, call, given, el2)
    }

    /// Gives the constituents of the proxy's TX from `first` to `length`
    /// (the whole fragment's); returns (pages, ranges) given.
    fn give_fragment(
        &mut self,
        slot: u8,
        first: u32,
        length: u32,
        mailbox: Mailbox,
        el2: &mut dyn El2Services,
    ) -> Result<(u64, u32), MemoryRefusal> {
        if !(length - first).is_multiple_of(CONSTITUENT_SIZE) {
            return Err(MemoryRefusal::Descriptor(
                DescriptorProblem::PartialConstituent,
            ));
        }
        let mut pages = 0u64;
        let mut ranges = 0u32;
        let mut offset = first;
        while offset < length {
            let constituent = Constituent::read(
                &mut ProxyCopy {
                    el2,
                    base: mailbox.transmit,
                    length,
                },
                offset,
            )
            .map_err(MemoryRefusal::Descriptor)?;
            self.give(slot, constituent, el2)?;
            pages += u64::from(constituent.pages);
            ranges += 1;
            offset += CONSTITUENT_SIZE;
        }
        let record = &mut self.slots[usize::from(slot)];
        record.pages += pages;
        if let SlotState::Sending {
            total,
            sent,
            declared_pages,
        } = record.state
        {
            let sent = sent + length;
            record.state = SlotState::Sending {
                total,
                sent,
                declared_pages,
            };
            if sent == total && record.pages != u64::from(declared_pages) {
                return Err(MemoryRefusal::Descriptor(DescriptorProblem::PageCount {
                    declared: declared_pages,
                    counted: record.pages,
                }));
            }
        }
        Ok((pages, ranges))
    }

    /// Gives one constituent's pages to the secure world for `slot`.
    fn give(
        &mut self,
        slot: u8,
        constituent: Constituent,
        el2: &mut dyn El2Services,
    ) -> Result<(), MemoryRefusal> {
        let Some(ownership) = self.ownership else {
            return Err(MemoryRefusal::NotOwned(OwnershipError::BadRange));
        };
        let operation = self.slots[usize::from(slot)].operation;
        let record = self
            .ranges
            .iter()
            .position(|range| range.slot == NO_SLOT)
            .ok_or(MemoryRefusal::TooManyRanges)?;
        let range = MemoryRange::new(constituent.address, constituent.size());
        if let Err(error) = ownership.apply(range, operation.transition()) {
            if let OwnershipError::WrongState { address, .. } = error {
                if self.slot_holds(slot, address) {
                    return Err(MemoryRefusal::Overlap(address));
                }
            }
            return Err(MemoryRefusal::NotOwned(error));
        }
        if operation == Operation::Lend {
            if let Err(_error) = el2.set_host_access(range, HostAccess::None) {
                let _ = ownership.apply(range, operation.transition().undo());
                return Err(MemoryRefusal::Stage2(constituent.address));
            }
        }
        let host_base = ownership.host_memory().base;
        self.ranges[record] = RangeRecord {
            first_page: ((constituent.address - host_base) / PAGE_SIZE) as u32,
            pages: constituent.pages,
            slot,
        };
        Ok(())
    }

    /// Whether `slot` already gave the page at `address`.
    fn slot_holds(&self, slot: u8, address: u64) -> bool {
        let Some(ownership) = &self.ownership else {
            return false;
        };
        let page = (address - ownership.host_memory().base) / PAGE_SIZE;
        self.ranges.iter().any(|range| {
            range.slot == slot
                && u64::from(range.first_page) <= page
                && page < u64::from(range.first_page) + u64::from(range.pages)
        })
    }

    /// Sends `call` (the proxy's TX holds its fragment of `length` bytes)
    /// and follows the monitor's answer.
    fn forward(
        &mut self,
        slot: u8,
        call: Registers,
        (pages, ranges): (u64, u32),
        el2: &mut dyn El2Services,
    ) -> Result<(Registers, MemoryEvent), MemoryRefusal> {
        let answer = monitor(el2, &call);
        let record = self.slots[usize::from(slot)];
        let SlotState::Sending { total, sent, .. } = record.state else {
            return Err(MemoryRefusal::UnknownHandle(record.handle.unwrap_or(0)));
        };
        let complete = sent == total;
        let sent_event = |handle: u64, complete: bool| MemoryEvent::Sent {
            operation: record.operation,
            handle: Some(handle),
            pages,
            ranges,
            complete,
        };
        match classify(&answer) {
            Answer::Complete(handle)
                if complete
                    && record.handle.is_none_or(|known| known == handle)
                    && !self.is_known(handle, slot) =>
            {
                let record = &mut self.slots[usize::from(slot)];
                record.state = SlotState::Given;
                record.handle = Some(handle);
                self.in_flight = None;
                Ok((answer, sent_event(handle, true)))
            }
            Answer::MoreFrom { handle, offset }
                if !complete
                    && offset == sent
                    && record.handle.is_none_or(|known| known == handle)
                    && !self.is_known(handle, slot) =>
            {
                self.slots[usize::from(slot)].handle = Some(handle);
                self.in_flight = Some(slot);
                Ok((answer, sent_event(handle, false)))
            }
            Answer::Refused => {
                let pages = record.pages;
                self.undo(slot, el2);
                Ok((
                    answer,
                    MemoryEvent::RolledBack {
                        operation: record.operation,
                        pages,
                        monitor: reply::kind(&answer),
                    },
                ))
            }
            Answer::Complete(_) | Answer::MoreFrom { .. } | Answer::Other => {
                // Whether the monitor holds the pages is unknown: they stay
                // given, and nobody can reclaim them.
                self.slots[usize::from(slot)].state = SlotState::Quarantined;
                if self.in_flight == Some(slot) {
                    self.in_flight = None;
                }
                Err(MemoryRefusal::MonitorProtocol(reply::kind(&answer)))
            }
        }
    }

    /// Whether a slot other than `except` has `handle`.
    fn is_known(&self, handle: u64, except: u8) -> bool {
        self.slots.iter().enumerate().any(|(index, slot)| {
            index != usize::from(except)
                && slot.state != SlotState::Free
                && slot.handle == Some(handle)
        })
    }

    /// Gives every page of `slot` back to the host and frees the slot.
    fn undo(&mut self, slot: u8, el2: &mut dyn El2Services) {
        let operation = self.slots[usize::from(slot)].operation;
        if let Some(ownership) = self.ownership {
            let base = ownership.host_memory().base;
            for record in self.ranges.iter_mut().filter(|range| range.slot == slot) {
                let range = MemoryRange::new(
                    base + u64::from(record.first_page) * PAGE_SIZE,
                    u64::from(record.pages) * PAGE_SIZE,
                );
                if operation == Operation::Lend
                    && el2.set_host_access(range, HostAccess::ReadWrite).is_err()
                {
                    // The pages stay lent (and unmapped): safe, never reused.
                    defmt::error!(
                        "el2 proxy: could not map {=u64:#x}+{=u64:#x} back into the host's stage 2; it stays lent",
                        range.base,
                        range.size
                    );
                    *record = FREE_RANGE;
                    continue;
                }
                let _ = ownership.apply(range, operation.transition().undo());
                *record = FREE_RANGE;
            }
        }
        self.slots[usize::from(slot)] = FREE_SLOT;
        if self.in_flight == Some(slot) {
            self.in_flight = None;
        }
    }

    /// The host's `FFA_MEM_RECLAIM`: forwarded only for a handle of the
    /// host's; the pages come back only if the monitor agrees.
    pub fn reclaim(
        &mut self,
        call: &Registers,
        el2: &mut dyn El2Services,
    ) -> Result<(Registers, MemoryEvent), MemoryRefusal> {
        let handle = handle_of(call);
        let slot = self
            .slots
            .iter()
            .position(|slot| slot.state == SlotState::Given && slot.handle == Some(handle))
            .ok_or(MemoryRefusal::UnknownHandle(handle))? as u8;
        let answer = monitor(
            el2,
            &reply::call(
                FFA_MEM_RECLAIM,
                &[
                    call[1] & 0xFFFF_FFFF,
                    call[2] & 0xFFFF_FFFF,
                    call[3] & 0xFFFF_FFFF,
                ],
            ),
        );
        let kind = reply::kind(&answer);
        if !kind.is_success() {
            return Ok((
                answer,
                MemoryEvent::ReclaimRefused {
                    handle,
                    monitor: kind,
                },
            ));
        }
        let record = self.slots[usize::from(slot)];
        self.undo(slot, el2);
        Ok((
            answer,
            MemoryEvent::Reclaimed {
                handle,
                operation: record.operation,
                pages: record.pages,
            },
        ))
    }
}
