//! A fake of TF-A's EL3 SPMC (v2.12) as a partition sees it, for the unit tests of [`crate::service`].
//!
//! It answers the calls the partition makes the way
//! `services/std_svc/spm/el3_spmc/` does, including its checks and error
//! codes: a retrieve request is matched against the stored descriptor by
//! handle, sender, tag, endpoint count, type and receiver (else
//! `INVALID_PARAMETERS`); RX must be released before the next retrieve or
//! `FFA_MEM_FRAG_RX` (else `DENIED`); the response is the stored descriptor
//! with the non-secure bit set in the first fragment, cut to the RX size;
//! `FFA_RX_RELEASE` of an empty RX is `DENIED`; relinquish checks the
//! relinquish descriptor and the retrieve count. Quirks let a test make it
//! misbehave.

use std::string::String;
use std::vec::Vec;

use crate::abi::*;
use crate::descriptor::{DescriptorVersion, MemoryTransaction, ATTRIBUTE_NON_SECURE};
use crate::service::{Log, PhysicalMemory, Spmc};

const INVALID_PARAMETERS: Status = Status::InvalidParameters;
const DENIED: Status = Status::Denied;
const NOT_SUPPORTED: Status = Status::NotSupported;

/// A shared or lent region as the SPMC stores it.
pub(crate) struct StoredTransaction {
    pub(crate) handle: u64,
    pub(crate) descriptor: Vec<u8>,
    pub(crate) retrieved: u32,
}

/// Ways to make the fake misbehave.
#[derive(Default, Clone, Copy)]
pub(crate) struct Quirks {
    /// `FFA_MEM_FRAG_TX` reports this fragment length instead of the real one.
    pub(crate) fragment_length: Option<u32>,
    /// `FFA_MEM_FRAG_TX` names another handle.
    pub(crate) wrong_fragment_handle: bool,
    /// Every call answers `FFA_ERROR(DENIED)`.
    pub(crate) deny_everything: bool,
}

pub(crate) struct FakeSpmc {
    pub(crate) rx: Vec<u8>,
    pub(crate) tx: Vec<u8>,
    pub(crate) rx_full: bool,
    pub(crate) mapped: bool,
    pub(crate) partition_id: PartitionId,
    pub(crate) transactions: Vec<StoredTransaction>,
    pub(crate) calls: Vec<u32>,
    pub(crate) quirks: Quirks,
    next_handle: u64,
}

fn error(status: Status) -> Registers {
    call(FFA_ERROR, &[0, status.register_value()])
}

fn success() -> Registers {
    call(FFA_SUCCESS_32, &[])
}

impl FakeSpmc {
    pub(crate) fn new(rx_pages: usize) -> FakeSpmc {
        FakeSpmc {
            rx: std::vec![0; rx_pages * 4096],
            tx: std::vec![0; rx_pages * 4096],
            rx_full: false,
            mapped: false,
            partition_id: PartitionId::new(0x8001),
            transactions: Vec::new(),
            calls: Vec::new(),
            quirks: Quirks::default(),
            next_handle: 0x1_0000_0000,
        }
    }

    /// Stores `descriptor` as an `FFA_MEM_SHARE`/`LEND` would; returns its handle.
    pub(crate) fn store(&mut self, mut descriptor: Vec<u8>) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        descriptor[8..16].copy_from_slice(&handle.to_le_bytes());
        self.transactions.push(StoredTransaction {
            handle,
            descriptor,
            retrieved: 0,
        });
        handle
    }

    pub(crate) fn retrieved(&self, handle: u64) -> u32 {
        self.transactions
            .iter()
            .find(|stored| stored.handle == handle)
            .map_or(0, |stored| stored.retrieved)
    }

    fn lookup(&mut self, handle: u64) -> Option<&mut StoredTransaction> {
        self.transactions
            .iter_mut()
            .find(|stored| stored.handle == handle)
    }

    fn retrieve(&mut self, registers: &Registers) -> Registers {
        let (total, fragment, address, pages) =
            (registers[1], registers[2], registers[3], registers[4]);
        if address != 0 || pages != 0 || !self.mapped {
            return error(INVALID_PARAMETERS);
        }
        if self.rx_full {
            return error(DENIED);
        }
        if total != fragment {
            return error(INVALID_PARAMETERS);
        }
        let Ok(request) =
            MemoryTransaction::parse(&self.tx[..total as usize], DescriptorVersion::V1_1)
        else {
            return error(INVALID_PARAMETERS);
        };
        if request.attributes & ATTRIBUTE_NON_SECURE != 0 {
            return error(INVALID_PARAMETERS);
        }
        let requested: Vec<PartitionId> =
            request.receivers().map(|access| access.endpoint).collect();
        let (handle, sender, tag, flags, count) = (
            request.handle,
            request.sender,
            request.tag,
            request.flags,
            request.receiver_count(),
        );
        let partition_id = self.partition_id;
        let rx_size = self.rx.len();
        let Some(stored) = self.lookup(handle) else {
            return error(INVALID_PARAMETERS);
        };
        let object = MemoryTransaction::parse(&stored.descriptor, DescriptorVersion::V1_1).unwrap();
        let type_mask = 0b11 << 3;
        if sender != object.sender
            || tag != object.tag
            || count != object.receiver_count()
            || (flags != 0 && flags & type_mask != object.flags & type_mask)
            || object.access_for(partition_id).is_err()
            || requested
                .iter()
                .any(|endpoint| object.access_for(*endpoint).is_err())
        {
            return error(INVALID_PARAMETERS);
        }
        stored.retrieved += 1;
        let copy = stored.descriptor.len().min(rx_size);
        let size = stored.descriptor.len();
        let mut first = stored.descriptor[..copy].to_vec();
        first[2] |= ATTRIBUTE_NON_SECURE as u8;
        self.rx[..copy].copy_from_slice(&first);
        self.rx_full = true;
        call(FFA_MEM_RETRIEVE_RESP, &[size as u64, copy as u64])
    }

    fn fragment(&mut self, registers: &Registers) -> Registers {
        let handle = registers[1] & 0xFFFF_FFFF | (registers[2] & 0xFFFF_FFFF) << 32;
        let (offset, sender) = (registers[3] as usize, registers[4] as u32);
        let rx_size = self.rx.len();
        let quirks = self.quirks;
        let Some(stored) = self.lookup(handle) else {
            return error(INVALID_PARAMETERS);
        };
        let stored_sender = u32::from(u16::from_le_bytes([
            stored.descriptor[0],
            stored.descriptor[1],
        ])) << 16;
        if (sender != 0 && sender != stored_sender) || offset >= stored.descriptor.len() {
            return error(INVALID_PARAMETERS);
        }
        let copy = (stored.descriptor.len() - offset).min(rx_size);
        let bytes = stored.descriptor[offset..offset + copy].to_vec();
        if self.rx_full {
            return error(DENIED);
        }
        self.rx[..copy].copy_from_slice(&bytes);
        self.rx_full = true;
        let answered = if quirks.wrong_fragment_handle {
            handle + 1
        } else {
            handle
        };
        call(
            FFA_MEM_FRAG_TX,
            &[
                answered & 0xFFFF_FFFF,
                answered >> 32,
                u64::from(quirks.fragment_length.unwrap_or(copy as u32)),
                u64::from(sender),
            ],
        )
    }

    fn relinquish(&mut self) -> Registers {
        let handle = u64::from_le_bytes(self.tx[0..8].try_into().unwrap());
        let flags = u32::from_le_bytes(self.tx[8..12].try_into().unwrap());
        let count = u32::from_le_bytes(self.tx[12..16].try_into().unwrap());
        let endpoint = PartitionId::new(u16::from_le_bytes([self.tx[16], self.tx[17]]));
        if flags != 0 || count != 1 || endpoint != self.partition_id || !self.mapped {
            return error(INVALID_PARAMETERS);
        }
        match self.lookup(handle) {
            Some(stored) if stored.retrieved > 0 => {
                stored.retrieved -= 1;
                success()
            }
            _ => error(INVALID_PARAMETERS),
        }
    }
}

impl Spmc for FakeSpmc {
    fn call(&mut self, registers: Registers) -> Registers {
        let function = function(&registers);
        self.calls.push(function);
        if self.quirks.deny_everything {
            return error(DENIED);
        }
        match function {
            FFA_VERSION => call(0x0001_0002, &[]),
            FFA_ID_GET => call(FFA_SUCCESS_32, &[0, u64::from(self.partition_id.raw())]),
            FFA_RXTX_MAP_64 => {
                self.mapped = true;
                success()
            }
            FFA_FEATURES => success(),
            FFA_MEM_RETRIEVE_REQ_64 => self.retrieve(&registers),
            FFA_MEM_FRAG_RX => self.fragment(&registers),
            FFA_RX_RELEASE => {
                if self.rx_full {
                    self.rx_full = false;
                    success()
                } else {
                    error(DENIED)
                }
            }
            FFA_MEM_RELINQUISH => self.relinquish(),
            _ => error(NOT_SUPPORTED),
        }
    }

    fn rx(&self) -> &[u8] {
        &self.rx
    }

    fn tx(&mut self) -> &mut [u8] {
        &mut self.tx
    }

    fn buffer_addresses(&self) -> (u64, u64) {
        (0x0e20_0000, 0x0e20_1000)
    }
}

/// Non-secure DRAM from `base`, backed by a vector.
pub(crate) struct FakeMemory {
    pub(crate) base: u64,
    pub(crate) bytes: Vec<u8>,
}

impl FakeMemory {
    pub(crate) fn new(base: u64, size: usize) -> FakeMemory {
        FakeMemory {
            base,
            bytes: std::vec![0; size],
        }
    }

    pub(crate) fn slice(&mut self, address: u64, length: usize) -> &mut [u8] {
        let start = (address - self.base) as usize;
        &mut self.bytes[start..start + length]
    }
}

impl PhysicalMemory for FakeMemory {
    fn is_non_secure_dram(&self, address: u64, length: u64) -> bool {
        address >= self.base
            && address
                .checked_add(length)
                .is_some_and(|end| end <= self.base + self.bytes.len() as u64)
    }

    fn read(&self, address: u64, destination: &mut [u8]) {
        let start = (address - self.base) as usize;
        destination.copy_from_slice(&self.bytes[start..start + destination.len()]);
    }

    fn write(&mut self, address: u64, source: &[u8]) {
        self.slice(address, source.len()).copy_from_slice(source);
    }
}

/// Keeps the log lines.
#[derive(Default)]
pub(crate) struct RecordingLog(pub(crate) Vec<String>);

impl Log for RecordingLog {
    fn line(&mut self, arguments: core::fmt::Arguments<'_>) {
        self.0.push(std::format!("{arguments}"));
    }
}
