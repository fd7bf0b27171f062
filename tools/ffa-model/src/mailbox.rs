//! The caller's RX/TX buffer pair and who owns the RX buffer.
//!
//! * `FFA_RXTX_MAP` (32 and 64): TX in x1, RX in x2, page count in w3 bits
//!   `[5:0]` (bits `[31:6]` must be zero), in 4 KiB pages, from 1 to the
//!   personality's maximum ([`crate::Personality::maximum_rxtx_pages`];
//!   [`MAXIMUM_PAGE_COUNT`] by default).
//!   Both addresses must be non-zero (the forwarding form with zero addresses
//!   is not supported), 4 KiB aligned, must not overlap and must be backed by
//!   normal-world memory; otherwise `INVALID_PARAMETERS`. A second map while
//!   a pair is mapped answers `DENIED` (checked first).
//! * `FFA_RXTX_UNMAP`: w1 bits `[31:16]` are the ID, which must be 0 (the
//!   non-secure endpoint); no pair mapped → `INVALID_PARAMETERS`.
//! * The RX buffer starts owned by the producer (the SPMC may write it). A
//!   successful `FFA_PARTITION_INFO_GET` hands it to the caller, who owns it
//!   until `FFA_RX_RELEASE`. While the caller owns it, a call that would write
//!   it answers `BUSY`; so does such a call with no pair mapped.
//! * `FFA_RX_RELEASE`: w1 bits `[15:0]` must be 0 (else `INVALID_PARAMETERS`);
//!   releasing a buffer the caller does not own (or with no pair mapped)
//!   answers `DENIED`.
//! * `FFA_RX_ACQUIRE` (v1.1): w1 bits `[15:0]` must be 0; no pair mapped →
//!   `INVALID_PARAMETERS`; already owned by the caller → `DENIED`; otherwise the
//!   caller owns the RX buffer until it releases it.

use crate::memory::NormalWorldMemory;
use ffa_abi::Status;

/// The FF-A translation granule for RX/TX buffers and their page counts.
pub const PAGE_SIZE: u64 = 4096;
/// The largest buffer the model maps by default, in pages (reported by
/// `FFA_FEATURES` for v1.2 callers).
pub const MAXIMUM_PAGE_COUNT: u32 = 16;

/// Who may use the RX buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveOwner {
    /// The producer (the SPMC) may write it: the buffer is free.
    Producer,
    /// The caller owns it until `FFA_RX_RELEASE`.
    Caller,
}

/// A mapped RX/TX buffer pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferPair {
    /// Physical address of the TX buffer (caller → SPMC).
    pub transmit_address: u64,
    /// Physical address of the RX buffer (SPMC → caller).
    pub receive_address: u64,
    /// Size of each buffer in 4 KiB pages.
    pub page_count: u32,
}

impl BufferPair {
    /// Size of each buffer in bytes.
    pub const fn size(&self) -> u64 {
        self.page_count as u64 * PAGE_SIZE
    }
}

/// The caller's mailbox: its buffer pair, if mapped, and RX ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mailbox {
    pair: Option<BufferPair>,
    receive_owner: ReceiveOwner,
}

fn is_backed(memory: &dyn NormalWorldMemory, address: u64, size: u64) -> bool {
    let mut byte = [0u8; 1];
    let mut page = 0;
    while page < size {
        let first = address + page;
        let last = first + PAGE_SIZE - 1;
        if memory.read(first, &mut byte).is_err() || memory.read(last, &mut byte).is_err() {
            return false;
        }
        page += PAGE_SIZE;
    }
    true
}

impl Mailbox {
    pub(crate) const fn new() -> Mailbox {
        Mailbox {
            pair: None,
            receive_owner: ReceiveOwner::Producer,
        }
    }

    pub(crate) fn pair(&self) -> Option<BufferPair> {
        self.pair
    }

    pub(crate) fn receive_owner(&self) -> ReceiveOwner {
        self.receive_owner
    }

    /// `FFA_RXTX_MAP`.
    pub(crate) fn map(
        &mut self,
        transmit_address: u64,
        receive_address: u64,
        page_count_word: u32,
        maximum_pages: u32,
        memory: &dyn NormalWorldMemory,
    ) -> Result<(), Status> {
        if self.pair.is_some() {
            return Err(Status::Denied);
        }
        if page_count_word & !0x3F != 0 {
            return Err(Status::InvalidParameters);
        }
        let page_count = page_count_word;
        if page_count == 0 || page_count > maximum_pages {
            return Err(Status::InvalidParameters);
        }
        let size = u64::from(page_count) * PAGE_SIZE;
        let aligned = |address: u64| address != 0 && address.is_multiple_of(PAGE_SIZE);
        if !aligned(transmit_address) || !aligned(receive_address) {
            return Err(Status::InvalidParameters);
        }
        let (Some(transmit_end), Some(receive_end)) = (
            transmit_address.checked_add(size),
            receive_address.checked_add(size),
        ) else {
            return Err(Status::InvalidParameters);
        };
        if transmit_address < receive_end && receive_address < transmit_end {
            return Err(Status::InvalidParameters);
        }
        if !is_backed(memory, transmit_address, size) || !is_backed(memory, receive_address, size) {
            return Err(Status::InvalidParameters);
        }
        self.pair = Some(BufferPair {
            transmit_address,
            receive_address,
            page_count,
        });
        self.receive_owner = ReceiveOwner::Producer;
        Ok(())
    }

    /// `FFA_RXTX_UNMAP` with w1 = `id_word`.
    pub(crate) fn unmap(&mut self, id_word: u32) -> Result<(), Status> {
        if id_word >> 16 != 0 || self.pair.is_none() {
            return Err(Status::InvalidParameters);
        }
        *self = Mailbox::new();
        Ok(())
    }

    /// `FFA_RX_RELEASE` with w1 = `id_word`.
    pub(crate) fn release(&mut self, id_word: u32) -> Result<(), Status> {
        if id_word & 0xFFFF != 0 {
            return Err(Status::InvalidParameters);
        }
        if self.pair.is_none() || self.receive_owner != ReceiveOwner::Caller {
            return Err(Status::Denied);
        }
        self.receive_owner = ReceiveOwner::Producer;
        Ok(())
    }

    /// `FFA_RX_ACQUIRE` with w1 = `id_word`.
    pub(crate) fn acquire(&mut self, id_word: u32) -> Result<(), Status> {
        if id_word & 0xFFFF != 0 || self.pair.is_none() {
            return Err(Status::InvalidParameters);
        }
        if self.receive_owner == ReceiveOwner::Caller {
            return Err(Status::Denied);
        }
        self.receive_owner = ReceiveOwner::Caller;
        Ok(())
    }

    /// The RX buffer, if the SPMC may write it now (else `BUSY`).
    pub(crate) fn writable_receive_buffer(&self) -> Result<BufferPair, Status> {
        match self.pair {
            Some(pair) if self.receive_owner == ReceiveOwner::Producer => Ok(pair),
            _ => Err(Status::Busy),
        }
    }

    /// The SPMC wrote a message into the RX buffer: the caller owns it now.
    pub(crate) fn hand_receive_buffer_to_caller(&mut self) {
        self.receive_owner = ReceiveOwner::Caller;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryError;

    struct Flat;

    impl NormalWorldMemory for Flat {
        fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
            if (0x4000_0000..0x4010_0000).contains(&address) {
                destination.fill(0);
                Ok(())
            } else {
                Err(MemoryError)
            }
        }
        fn write(&mut self, _address: u64, _source: &[u8]) -> Result<(), MemoryError> {
            Ok(())
        }
    }

    #[test]
    fn map_validates_arguments() {
        let mut mailbox = Mailbox::new();
        let memory = Flat;
        let base = 0x4000_0000;
        assert_eq!(
            mailbox.map(base, base + 0x800, 1, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            mailbox.map(base, base + 0x1000, 2, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            mailbox.map(base, base + 0x2000, 0, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            mailbox.map(base, base + 0x2000, 0x41, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            mailbox.map(base, 0x1000, 1, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::InvalidParameters)
        );
        assert_eq!(
            mailbox.map(base, base + 0x2000, 2, MAXIMUM_PAGE_COUNT, &memory),
            Ok(())
        );
        assert_eq!(
            mailbox.map(base, base + 0x2000, 2, MAXIMUM_PAGE_COUNT, &memory),
            Err(Status::Denied)
        );
    }

    #[test]
    fn ownership_moves() {
        let mut mailbox = Mailbox::new();
        assert_eq!(mailbox.writable_receive_buffer(), Err(Status::Busy));
        mailbox
            .map(0x4000_0000, 0x4000_1000, 1, MAXIMUM_PAGE_COUNT, &Flat)
            .unwrap();
        assert!(mailbox.writable_receive_buffer().is_ok());
        mailbox.hand_receive_buffer_to_caller();
        assert_eq!(mailbox.writable_receive_buffer(), Err(Status::Busy));
        assert_eq!(mailbox.release(0), Ok(()));
        assert_eq!(mailbox.release(0), Err(Status::Denied));
        assert_eq!(mailbox.acquire(0), Ok(()));
        assert_eq!(mailbox.acquire(0), Err(Status::Denied));
        assert_eq!(mailbox.unmap(0x0001_0000), Err(Status::InvalidParameters));
        assert_eq!(mailbox.unmap(0), Ok(()));
        assert_eq!(mailbox.unmap(0), Err(Status::InvalidParameters));
    }
}
