//! Who owns each page of host memory, and the transitions between owners
//! the proxy allows: pKVM's page-state machine (`mem_protect.c`), for the
//! pages the host may give to EL2 and to the secure world.
//!
//! ```text
//!                        FFA_RXTX_MAP_64 (host's RX/TX, pinned)
//!                 +------------------------------------------+
//!                 |                                          v
//!   +--------------------+   FFA_RXTX_UNMAP    +-------------------------+
//!   |       Owned        |<--------------------| SharedWithEl2           |
//!   | host: read/write   |                     | host: read/write        |
//!   +--------------------+                     | EL2 writes it (copies)  |
//!     |   ^        |   ^                       +-------------------------+
//!     |   |        |   |  FFA_MEM_RECLAIM, SUCCESS
//!     |   |        |   +------------------------------+
//!     |   |        |  FFA_MEM_SHARE (+ FRAG_TX)       |
//!     |   |        +-------------------------->+-------------------------+
//!     |   |                                    | SharedWithSecure        |
//!     |   | FFA_MEM_RECLAIM, SUCCESS           | host: read/write        |
//!     |   | (mapped back in stage 2)           | partitions may map it   |
//!     |   |                                    +-------------------------+
//!     |   +--------------------------------------------------+
//!     |  FFA_MEM_LEND (+ FRAG_TX): unmapped from stage 2     |
//!     +------------------------------------------->+-------------------------+
//!                                                  | LentToSecure            |
//!                                                  | host: no access (fault) |
//!                                                  +-------------------------+
//!
//!   fixed at finalisation, never transitioned:
//!   El2Code         the kernel text EL2 runs: host read/execute only
//!   El2Private      EL2's data, stack, state, tables and the proxy's RX/TX: no host access
//!   FirmwareShared  what the firmware shares with the secure world (a TPM's CRB):
//!                   host read/write, never the host's to give
//! ```
//!
//! A transaction the monitor refuses goes back the way it came (the arrows
//! back to `Owned`); nothing else moves a page. In particular a page shared
//! with the secure world cannot be lent, mapped as RX/TX, or shared again
//! until it is reclaimed, and a page EL2 holds as RX/TX cannot be given to
//! the secure world: no page is ever owned or borrowed by two parties at
//! once.
//!
//! The table is compact and bounded: two bits per 4 KiB page of host memory
//! (64 KiB for 1 GiB), in storage the board allocates in EL2's private
//! memory; no heap. A change of a range checks every page first and writes
//! only if all pass, so a refused change changes nothing.
//!
//! ```
//! use capsule_ffa_proxy::ownership::{storage_bytes, Ownership, PageState, Transition};
//! use core::sync::atomic::AtomicU8;
//! use kernel::hil::hypervisor::{El2Memory, MemoryRange};
//!
//! let host = MemoryRange::new(0x4000_0000, 0x10_0000);
//! let storage: &'static [AtomicU8] =
//!     Box::leak((0..storage_bytes(host.size)).map(|_| AtomicU8::new(0)).collect());
//! let ownership = Ownership::new(storage, host, MemoryRange::EMPTY, El2Memory::EMPTY).unwrap();
//! let page = MemoryRange::new(0x4000_1000, 0x1000);
//! ownership.apply(page, Transition::LendToSecure).unwrap();
//! assert_eq!(ownership.state(0x4000_1000), Ok(PageState::LentToSecure));
//! assert!(ownership.apply(page, Transition::ShareWithSecure).is_err());
//! ownership.apply(page, Transition::ReclaimLent).unwrap();
//! ```

use core::sync::atomic::{AtomicU8, Ordering};

use kernel::hil::hypervisor::{El2Memory, HostAccess, MemoryRange};

/// The page the table tracks: 4 KiB, FF-A's page.
pub const PAGE_SIZE: u64 = 4096;

/// Pages one byte of storage holds.
const PAGES_PER_BYTE: u64 = 4;

/// Bytes of storage that track `host_memory_size` bytes of host memory.
pub const fn storage_bytes(host_memory_size: u64) -> usize {
    host_memory_size
        .div_ceil(PAGE_SIZE)
        .div_ceil(PAGES_PER_BYTE) as usize
}

/// Who owns a page of host memory, and who else may access it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PageState {
    /// The host's alone (pKVM: host OWNED).
    Owned,
    /// The host's, and EL2 writes it: the host's RX/TX pair, pinned while
    /// mapped (pKVM: host SHARED_OWNED, hyp SHARED_BORROWED).
    SharedWithEl2,
    /// The host's, shared with secure partitions by a transaction (pKVM:
    /// host SHARED_OWNED after `__pkvm_host_share_ffa`).
    SharedWithSecure,
    /// The host's, lent to secure partitions: unmapped from the host's
    /// stage 2 until reclaimed.
    LentToSecure,
    /// Code EL2 runs, shared with the kernel: the host reads and executes it.
    El2Code,
    /// EL2's own: its data, stack, state, tables, the proxy's mailbox.
    El2Private,
    /// Host memory the platform's firmware shares with the secure world (a
    /// TPM's CRB): the host reads and writes it, and so does a partition,
    /// so the host may not give it to anyone else.
    FirmwareShared,
}

impl PageState {
    /// What the host's stage 2 grants for a page in this state.
    pub const fn host_access(self) -> HostAccess {
        match self {
            PageState::Owned
            | PageState::SharedWithEl2
            | PageState::SharedWithSecure
            | PageState::FirmwareShared => HostAccess::ReadWrite,
            PageState::El2Code => HostAccess::ReadExecute,
            PageState::LentToSecure | PageState::El2Private => HostAccess::None,
        }
    }

    /// The state's code in the table (fixed states have none).
    const fn code(self) -> Option<u8> {
        match self {
            PageState::Owned => Some(0),
            PageState::SharedWithEl2 => Some(1),
            PageState::SharedWithSecure => Some(2),
            PageState::LentToSecure => Some(3),
            PageState::El2Code | PageState::El2Private | PageState::FirmwareShared => None,
        }
    }

    const fn from_code(code: u8) -> PageState {
        match code & 0b11 {
            0 => PageState::Owned,
            1 => PageState::SharedWithEl2,
            2 => PageState::SharedWithSecure,
            _ => PageState::LentToSecure,
        }
    }

    /// A short name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            PageState::Owned => "owned by the host",
            PageState::SharedWithEl2 => "the host's RX/TX, shared with EL2",
            PageState::SharedWithSecure => "shared with the secure world",
            PageState::LentToSecure => "lent to the secure world",
            PageState::El2Code => "EL2's code",
            PageState::El2Private => "EL2's private memory",
            PageState::FirmwareShared => "shared with the secure world by the firmware",
        }
    }
}

/// The transitions the proxy makes, and nothing else (pKVM's names in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Transition {
    /// Owned → SharedWithEl2: the host maps its RX/TX (`__pkvm_host_share_hyp`, pinned).
    ShareWithEl2,
    /// SharedWithEl2 → Owned: the host unmaps its RX/TX (`__pkvm_host_unshare_hyp`).
    UnshareFromEl2,
    /// Owned → SharedWithSecure: `FFA_MEM_SHARE` (`__pkvm_host_share_ffa`).
    ShareWithSecure,
    /// SharedWithSecure → Owned: reclaimed, or the share refused (`__pkvm_host_unshare_ffa`).
    ReclaimShared,
    /// Owned → LentToSecure: `FFA_MEM_LEND` (pKVM treats it as a share).
    LendToSecure,
    /// LentToSecure → Owned: reclaimed, or the lend refused.
    ReclaimLent,
}

impl Transition {
    /// The state every page must be in before.
    pub const fn from(self) -> PageState {
        match self {
            Transition::ShareWithEl2 | Transition::ShareWithSecure | Transition::LendToSecure => {
                PageState::Owned
            }
            Transition::UnshareFromEl2 => PageState::SharedWithEl2,
            Transition::ReclaimShared => PageState::SharedWithSecure,
            Transition::ReclaimLent => PageState::LentToSecure,
        }
    }

    /// The state every page is in after.
    pub const fn to(self) -> PageState {
        match self {
            Transition::ShareWithEl2 => PageState::SharedWithEl2,
            Transition::ShareWithSecure => PageState::SharedWithSecure,
            Transition::LendToSecure => PageState::LentToSecure,
            Transition::UnshareFromEl2 | Transition::ReclaimShared | Transition::ReclaimLent => {
                PageState::Owned
            }
        }
    }

    /// The transition that undoes this one.
    pub const fn undo(self) -> Transition {
        match self {
            Transition::ShareWithEl2 => Transition::UnshareFromEl2,
            Transition::UnshareFromEl2 => Transition::ShareWithEl2,
            Transition::ShareWithSecure => Transition::ReclaimShared,
            Transition::ReclaimShared => Transition::ShareWithSecure,
            Transition::LendToSecure => Transition::ReclaimLent,
            Transition::ReclaimLent => Transition::LendToSecure,
        }
    }
}

/// Why a change of ownership was refused (nothing changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum OwnershipError {
    /// The range is empty, not 4 KiB aligned, or wraps past 2^64.
    BadRange,
    /// Some of the range is not host memory (address shown).
    OutsideHostMemory(u64),
    /// A page is not in the state the transition starts from (its address
    /// and state).
    WrongState {
        /// The first page found in the wrong state.
        address: u64,
        /// Its state.
        state: PageState,
    },
}

/// Why the table cannot be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum SetupError {
    /// Host memory is empty, not page aligned, or wraps.
    BadHostMemory,
    /// The storage tracks fewer pages than host memory has.
    StorageTooSmall {
        /// Pages the storage tracks.
        tracked: u64,
        /// Pages of host memory.
        needed: u64,
    },
}

/// The state of every page of host memory.
#[derive(Clone, Copy, Debug)]
pub struct Ownership {
    storage: &'static [AtomicU8],
    host_memory: MemoryRange,
    code: MemoryRange,
    private: El2Memory,
    firmware_shared: MemoryRange,
}

impl PartialEq for Ownership {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self.storage, other.storage)
            && self.host_memory == other.host_memory
            && self.code == other.code
            && self.private == other.private
            && self.firmware_shared == other.firmware_shared
    }
}

impl Eq for Ownership {}

impl Ownership {
    /// Every page of `host_memory` owned by the host, but `code` (the host
    /// may read and execute it) and `private` (EL2's): those never change.
    /// `storage` must hold [`storage_bytes`] of host memory; it is cleared.
    pub fn new(
        storage: &'static [AtomicU8],
        host_memory: MemoryRange,
        code: MemoryRange,
        private: El2Memory,
    ) -> Result<Ownership, SetupError> {
        if host_memory.is_empty()
            || host_memory.end().is_none()
            || !host_memory.base.is_multiple_of(PAGE_SIZE)
            || !host_memory.size.is_multiple_of(PAGE_SIZE)
        {
            return Err(SetupError::BadHostMemory);
        }
        let tracked = storage.len() as u64 * PAGES_PER_BYTE;
        let needed = host_memory.size / PAGE_SIZE;
        if tracked < needed {
            return Err(SetupError::StorageTooSmall { tracked, needed });
        }
        for byte in storage {
            byte.store(0, Ordering::Relaxed);
        }
        Ok(Ownership {
            storage,
            host_memory,
            code,
            private,
            firmware_shared: MemoryRange::EMPTY,
        })
    }

    /// The same table, where the firmware shares `range` with the secure
    /// world: [`PageState::FirmwareShared`], never transitioned.
    pub fn with_firmware_shared(mut self, range: MemoryRange) -> Ownership {
        self.firmware_shared = range;
        self
    }

    /// The host memory the table covers.
    pub fn host_memory(&self) -> MemoryRange {
        self.host_memory
    }

    /// Bytes of storage the table uses.
    pub fn storage_bytes(&self) -> usize {
        storage_bytes(self.host_memory.size)
    }

    /// The state of the page holding `address`; `Err` (the address) if it
    /// is not host memory.
    pub fn state(&self, address: u64) -> Result<PageState, OwnershipError> {
        let page = MemoryRange::new(address - address % PAGE_SIZE, PAGE_SIZE);
        if !self.host_memory.contains(&page) {
            return Err(OwnershipError::OutsideHostMemory(address));
        }
        if self.private.overlaps(&page) {
            return Ok(PageState::El2Private);
        }
        if self.code.overlaps(&page) {
            return Ok(PageState::El2Code);
        }
        if self.firmware_shared.overlaps(&page) {
            return Ok(PageState::FirmwareShared);
        }
        let index = (page.base - self.host_memory.base) / PAGE_SIZE;
        let byte = self.storage[(index / PAGES_PER_BYTE) as usize].load(Ordering::Relaxed);
        Ok(PageState::from_code(byte >> (2 * (index % PAGES_PER_BYTE))))
    }

    fn set(&self, address: u64, state: PageState) {
        let Some(code) = state.code() else { return };
        let index = (address - self.host_memory.base) / PAGE_SIZE;
        let cell = &self.storage[(index / PAGES_PER_BYTE) as usize];
        let shift = 2 * (index % PAGES_PER_BYTE);
        let byte = cell.load(Ordering::Relaxed);
        cell.store(
            (byte & !(0b11 << shift)) | (code << shift),
            Ordering::Relaxed,
        );
    }

    /// Checks that `range` is whole pages of host memory, all in `state`.
    pub fn check(&self, range: MemoryRange, state: PageState) -> Result<(), OwnershipError> {
        let end = range.end().ok_or(OwnershipError::BadRange)?;
        if range.is_empty()
            || !range.base.is_multiple_of(PAGE_SIZE)
            || !range.size.is_multiple_of(PAGE_SIZE)
        {
            return Err(OwnershipError::BadRange);
        }
        if !self.host_memory.contains(&range) {
            let outside = if self
                .host_memory
                .contains(&MemoryRange::new(range.base, PAGE_SIZE))
            {
                self.host_memory.end().unwrap_or(range.base)
            } else {
                range.base
            };
            return Err(OwnershipError::OutsideHostMemory(outside));
        }
        let mut address = range.base;
        while address < end {
            let found = self.state(address)?;
            if found != state {
                return Err(OwnershipError::WrongState {
                    address,
                    state: found,
                });
            }
            address += PAGE_SIZE;
        }
        Ok(())
    }

    /// Makes `transition` on every page of `range`, or on none: if any page
    /// is not in the state it starts from, nothing changes.
    pub fn apply(&self, range: MemoryRange, transition: Transition) -> Result<(), OwnershipError> {
        self.check(range, transition.from())?;
        let mut address = range.base;
        while address < range.base + range.size {
            self.set(address, transition.to());
            address += PAGE_SIZE;
        }
        Ok(())
    }

    /// Pages of host memory in `state`.
    pub fn count(&self, state: PageState) -> u64 {
        let mut count = 0;
        let mut address = self.host_memory.base;
        while address < self.host_memory.base + self.host_memory.size {
            if self.state(address) == Ok(state) {
                count += 1;
            }
            address += PAGE_SIZE;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    const HOST: MemoryRange = MemoryRange::new(0x4000_0000, 0x40_0000);
    const CODE: MemoryRange = MemoryRange::new(0x4010_0000, 0x2_0000);
    const PRIVATE: MemoryRange = MemoryRange::new(0x4012_0000, 0x1_0000);
    const FIRMWARE: MemoryRange = MemoryRange::new(0x4020_0000, 0x5000);

    fn storage(bytes: usize) -> &'static [AtomicU8] {
        Box::leak(
            (0..bytes)
                .map(|_| AtomicU8::new(0xFF))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        )
    }

    fn ownership() -> Ownership {
        Ownership::new(
            storage(storage_bytes(HOST.size)),
            HOST,
            CODE,
            El2Memory::EMPTY.with(PRIVATE).unwrap(),
        )
        .unwrap()
        .with_firmware_shared(FIRMWARE)
    }

    #[test]
    fn every_page_starts_owned_but_el2_s() {
        let table = ownership();
        assert_eq!(table.storage_bytes(), 256);
        assert_eq!(table.state(0x4000_0000), Ok(PageState::Owned));
        assert_eq!(table.state(0x4010_1234), Ok(PageState::El2Code));
        assert_eq!(table.state(0x4012_f000), Ok(PageState::El2Private));
        assert_eq!(table.state(0x4020_4fff), Ok(PageState::FirmwareShared));
        assert_eq!(table.state(0x4020_5000), Ok(PageState::Owned));
        assert_eq!(
            table.state(0x3fff_f000),
            Err(OwnershipError::OutsideHostMemory(0x3fff_f000))
        );
        assert_eq!(table.count(PageState::Owned), 1024 - 32 - 16 - 5);
    }

    #[test]
    fn only_the_allowed_transitions_happen() {
        let table = ownership();
        let page = MemoryRange::new(0x4000_2000, 0x2000);
        for transition in [
            Transition::UnshareFromEl2,
            Transition::ReclaimShared,
            Transition::ReclaimLent,
        ] {
            assert!(matches!(
                table.apply(page, transition),
                Err(OwnershipError::WrongState {
                    state: PageState::Owned,
                    ..
                })
            ));
        }
        table.apply(page, Transition::ShareWithEl2).unwrap();
        for transition in [
            Transition::ShareWithSecure,
            Transition::LendToSecure,
            Transition::ShareWithEl2,
            Transition::ReclaimShared,
        ] {
            assert!(table.apply(page, transition).is_err(), "{transition:?}");
        }
        table.apply(page, Transition::UnshareFromEl2).unwrap();
        assert_eq!(table.count(PageState::Owned), 1024 - 48 - 5);
    }

    #[test]
    fn el2_s_pages_never_move() {
        let table = ownership();
        for range in [
            MemoryRange::new(CODE.base, 0x1000),
            MemoryRange::new(PRIVATE.base + 0x1000, 0x1000),
            MemoryRange::new(CODE.base - 0x1000, 0x2000),
            MemoryRange::new(FIRMWARE.base + 0x1000, 0x1000),
        ] {
            for transition in [
                Transition::ShareWithEl2,
                Transition::ShareWithSecure,
                Transition::LendToSecure,
            ] {
                assert!(table.apply(range, transition).is_err());
            }
        }
        assert_eq!(
            table.apply(
                MemoryRange::new(CODE.base - 0x1000, 0x2000),
                Transition::LendToSecure
            ),
            Err(OwnershipError::WrongState {
                address: CODE.base,
                state: PageState::El2Code
            })
        );
        assert_eq!(table.state(CODE.base - 0x1000), Ok(PageState::Owned));
    }

    #[test]
    fn bad_ranges_and_small_storage_are_refused() {
        let table = ownership();
        for range in [
            MemoryRange::new(0x4000_0800, 0x1000),
            MemoryRange::new(0x4000_0000, 0x800),
            MemoryRange::new(0x4000_0000, 0),
            MemoryRange::new(u64::MAX - 0xfff, 0x2000),
        ] {
            assert_eq!(
                table.apply(range, Transition::ShareWithSecure),
                Err(OwnershipError::BadRange)
            );
        }
        assert_eq!(
            table.apply(
                MemoryRange::new(0x403f_f000, 0x2000),
                Transition::ShareWithSecure
            ),
            Err(OwnershipError::OutsideHostMemory(0x4040_0000))
        );
        assert_eq!(
            Ownership::new(storage(255), HOST, CODE, El2Memory::EMPTY),
            Err(SetupError::StorageTooSmall {
                tracked: 1020,
                needed: 1024
            })
        );
        assert_eq!(
            Ownership::new(
                storage(256),
                MemoryRange::new(0x4000_0800, 0x1000),
                CODE,
                El2Memory::EMPTY
            ),
            Err(SetupError::BadHostMemory)
        );
    }

    /// What a page is in the reference model: the state the table must
    /// report, kept by hand from the transitions that succeeded.
    fn model_state(model: &[PageState], address: u64) -> PageState {
        model[((address - HOST.base) / PAGE_SIZE) as usize]
    }

    const TRANSITIONS: [Transition; 6] = [
        Transition::ShareWithEl2,
        Transition::UnshareFromEl2,
        Transition::ShareWithSecure,
        Transition::ReclaimShared,
        Transition::LendToSecure,
        Transition::ReclaimLent,
    ];

    proptest::proptest! {
        /// Random page states (reached by random transitions on random,
        /// sometimes misaligned or out-of-range, ranges): the table always
        /// agrees with a per-page reference model, so every page is in
        /// exactly one state (one owner, at most one borrower); a
        /// transition happens only from its own starting state, on every
        /// page of the range; a refused one changes no page at all; EL2's
        /// pages never move.
        #[test]
        fn random_transitions_keep_one_owner_per_page(
            steps in proptest::collection::vec(
                (0u64..1100, 0u64..6, 0usize..6, 0u64..3),
                1..120,
            )
        ) {
            let table = ownership();
            let pages = (HOST.size / PAGE_SIZE) as usize;
            let mut model: Vec<PageState> = (0..pages)
                .map(|index| table.state(HOST.base + index as u64 * PAGE_SIZE).unwrap())
                .collect();
            for (first, count, transition, skew) in steps {
                let transition = TRANSITIONS[transition];
                // Mostly whole pages; sometimes misaligned or empty.
                let base = HOST.base + first * PAGE_SIZE + if skew == 2 { 0x800 } else { 0 };
                let size = count * PAGE_SIZE;
                let range = MemoryRange::new(base, size);
                let before: Vec<_> = (0..pages)
                    .map(|index| table.state(HOST.base + index as u64 * PAGE_SIZE))
                    .collect();
                let expected_ok = size != 0
                    && skew != 2
                    && base + size <= HOST.base + HOST.size
                    && (0..count).all(|page| {
                        model_state(&model, base + page * PAGE_SIZE) == transition.from()
                    });
                let result = table.apply(range, transition);
                proptest::prop_assert_eq!(result.is_ok(), expected_ok, "{:?} {:?}", range, result);
                if result.is_ok() {
                    for page in 0..count {
                        let index = ((base - HOST.base) / PAGE_SIZE + page) as usize;
                        model[index] = transition.to();
                    }
                } else {
                    let after: Vec<_> = (0..pages)
                        .map(|index| table.state(HOST.base + index as u64 * PAGE_SIZE))
                        .collect();
                    let changed = before.iter().zip(&after).position(|(was, is)| was != is);
                    proptest::prop_assert_eq!(changed, None, "a refused change changed a page (index)");
                }
                for (index, expected) in model.iter().enumerate() {
                    let address = HOST.base + index as u64 * PAGE_SIZE;
                    let state = table.state(address).unwrap();
                    proptest::prop_assert_eq!(state, *expected, "page {:#x}", address);
                    let page = MemoryRange::new(address, PAGE_SIZE);
                    if CODE.overlaps(&page) {
                        proptest::prop_assert_eq!(state, PageState::El2Code);
                    }
                    if FIRMWARE.overlaps(&page) {
                        proptest::prop_assert_eq!(state, PageState::FirmwareShared);
                    }
                }
            }
            let total: u64 = [
                PageState::Owned,
                PageState::SharedWithEl2,
                PageState::SharedWithSecure,
                PageState::LentToSecure,
                PageState::El2Code,
                PageState::El2Private,
                PageState::FirmwareShared,
            ]
            .iter()
            .map(|state| table.count(*state))
            .sum();
            proptest::prop_assert_eq!(total, pages as u64, "every page counted in exactly one state");
        }
    }
}
