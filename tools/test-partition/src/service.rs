//! The partition's behaviour: set-up calls, then one answer per message, generic over the hardware.
//!
//! [`Partition`] holds no hardware: the SMC conduit and the RX/TX pair come
//! through [`Spmc`], non-secure memory through [`PhysicalMemory`] and the
//! UART through [`Log`]. The binary implements them over the real thing;
//! the unit tests over a fake EL3 SPMC that behaves as TF-A's does.
//!
//! The binary's main loop is:
//!
//! ```ignore
//! partition.start(boot_info_address)?;          // FFA_VERSION, FFA_ID_GET, FFA_RXTX_MAP, ...
//! let mut next = Next::Call(partition.wait());  // FFA_MSG_WAIT
//! while let Next::Call(call) = next {
//!     let message = spmc.call(call);            // returns with the next request
//!     next = partition.answer(message);         // its response, or FFA_MSG_WAIT
//! }
//! ```

use core::fmt;

use crate::abi::{
    self, call, CallError, PartitionId, Registers, Version, FFA_FEATURES, FFA_ID_GET,
    FFA_MEM_FRAG_RX, FFA_MEM_FRAG_TX, FFA_MEM_RELINQUISH, FFA_MEM_RETRIEVE_REQ_64,
    FFA_MEM_RETRIEVE_RESP, FFA_MSG_SEND_DIRECT_REQ_32, FFA_MSG_SEND_DIRECT_REQ_64,
    FFA_MSG_SEND_DIRECT_RESP_32, FFA_MSG_SEND_DIRECT_RESP_64, FFA_MSG_WAIT, FFA_RXTX_MAP_64,
    FFA_RX_RELEASE, FFA_VERSION,
};
use crate::boot_info::{self, BootInfo};
use crate::descriptor::{
    write_relinquish, DataAccess, DescriptorVersion, MemoryTransaction, Region, RetrieveRequest,
    TransactionType, ENDPOINT_DESCRIPTOR_SIZE_V1_1, ENDPOINT_DESCRIPTOR_SIZE_V1_2,
};
use crate::fragments::Reassembly;
use crate::pattern;
use crate::protocol::{self, Flags, MemoryCheck, Outcome, Report, Request};

/// The FF-A version the partition implements (and its manifest declares).
pub const PARTITION_VERSION: Version = Version::V1_2;
/// At most this many descriptor fragments are accepted for one retrieve.
pub const FRAGMENT_LIMIT: u32 = 64;
/// After this many `FFA_ERROR` answers in a row the partition stops.
pub const ERROR_LIMIT: u32 = 4;
/// Memory is checked and written in pieces of this many bytes.
const CHUNK: usize = 256;

/// The secure monitor as the partition reaches it: SMCs and the RX/TX pair.
pub trait Spmc {
    /// Makes an SMC with x0–x7 and returns x0–x7 of the answer.
    fn call(&mut self, registers: Registers) -> Registers;
    /// The RX buffer (written by the SPMC).
    fn rx(&self) -> &[u8];
    /// The TX buffer (read by the SPMC).
    fn tx(&mut self) -> &mut [u8];
    /// Physical addresses of TX and RX, for `FFA_RXTX_MAP`.
    fn buffer_addresses(&self) -> (u64, u64);
}

/// Physical memory as the partition reaches it.
pub trait PhysicalMemory {
    /// Whether `[address, address + length)` lies in non-secure DRAM: only
    /// such memory may be touched on behalf of a normal-world sender.
    fn is_non_secure_dram(&self, address: u64, length: u64) -> bool;
    /// Copies from physical `address` into `destination`.
    fn read(&self, address: u64, destination: &mut [u8]);
    /// Copies `source` to physical `address`.
    fn write(&mut self, address: u64, source: &[u8]);
}

/// Where the partition's log lines go (its UART); each call is one line.
pub trait Log {
    /// Writes one line.
    fn line(&mut self, arguments: fmt::Arguments<'_>);
}

macro_rules! say {
    ($log:expr, $($argument:tt)*) => {
        $log.line(format_args!($($argument)*))
    };
}

/// What the main loop does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Make this SMC; its answer is the next message.
    Call(Registers),
    /// Stop: the SPMC keeps refusing the partition's calls.
    Halt,
}

/// Why set-up failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// `FFA_VERSION` answered with an incompatible version or an error (raw w0).
    Version(u32),
    /// A set-up call failed.
    Call(&'static str, CallError),
}

impl fmt::Display for StartError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Version(raw) => write!(formatter, "FFA_VERSION answered {raw:#x}"),
            StartError::Call(name, error) => write!(formatter, "{name} failed: {error}"),
        }
    }
}

/// What set-up found out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// The SPMC's FF-A version.
    pub spmc_version: Version,
    /// The version both use.
    pub version: Version,
    /// The partition's own ID.
    pub id: PartitionId,
}

/// The test partition.
pub struct Partition<'a, S: Spmc, M: PhysicalMemory, L: Log> {
    /// The SPMC and the RX/TX pair.
    pub spmc: S,
    /// Physical memory.
    pub memory: M,
    /// The UART.
    pub log: L,
    descriptor: &'a mut [u8],
    id: PartitionId,
    version: Version,
    consecutive_errors: u32,
    served: u64,
}

impl<'a, S: Spmc, M: PhysicalMemory, L: Log> Partition<'a, S, M, L> {
    /// A partition that reassembles descriptors into `descriptor_buffer`.
    pub fn new(spmc: S, memory: M, log: L, descriptor_buffer: &'a mut [u8]) -> Self {
        Partition {
            spmc,
            memory,
            log,
            descriptor: descriptor_buffer,
            id: PartitionId::NORMAL_WORLD,
            version: PARTITION_VERSION,
            consecutive_errors: 0,
            served: 0,
        }
    }

    /// The partition's ID (after [`Partition::start`]).
    pub fn id(&self) -> PartitionId {
        self.id
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Reads the boot information at `boot_info_address` (0: none) and logs what it says.
    pub fn log_boot_info(&mut self, boot_info_address: u64) {
        if boot_info_address == 0 {
            say!(self.log, "[sp] no boot information (x0 = 0)");
            return;
        }
        let mut blob = [0u8; boot_info::MAXIMUM_BLOB_SIZE];
        self.memory
            .read(boot_info_address, &mut blob[..boot_info::HEADER_SIZE]);
        let size = match BootInfo::claimed_size(&blob) {
            Ok(size) => size,
            Err(error) => {
                say!(
                    self.log,
                    "[sp] boot information at {boot_info_address:#x} unusable: {error}"
                );
                return;
            }
        };
        self.memory.read(boot_info_address, &mut blob[..size]);
        let info = match BootInfo::parse(&blob[..size]) {
            Ok(info) => info,
            Err(error) => {
                say!(
                    self.log,
                    "[sp] boot information at {boot_info_address:#x} unusable: {error}"
                );
                return;
            }
        };
        say!(
            self.log,
            "[sp] boot information: FF-A v{}, {} bytes, {} descriptor(s)",
            info.version,
            info.size(),
            info.descriptor_count()
        );
        if let Some((address, size)) = info.manifest() {
            let mut header = [0u8; 8];
            self.memory.read(address, &mut header);
            match boot_info::check_device_tree(&header, size) {
                Some(total) => say!(
                    self.log,
                    "[sp] manifest: device tree at {address:#x}, {total} bytes"
                ),
                None => say!(
                    self.log,
                    "[sp] manifest at {address:#x} is not a device tree of {size} bytes"
                ),
            }
        }
    }

    /// Set-up: `FFA_VERSION`, `FFA_ID_GET`, `FFA_RXTX_MAP_64`, `FFA_FEATURES(FFA_MEM_RETRIEVE_REQ_64)`.
    pub fn start(&mut self) -> Result<Started, StartError> {
        let answer = self
            .spmc
            .call(call(FFA_VERSION, &[u64::from(PARTITION_VERSION.raw())]));
        let raw = answer[0] as u32;
        let spmc_version = Version::from_raw(raw)
            .ok()
            .filter(|version| version.major() == PARTITION_VERSION.major())
            .ok_or(StartError::Version(raw))?;
        self.version = if spmc_version < PARTITION_VERSION {
            spmc_version
        } else {
            PARTITION_VERSION
        };
        let answer = self.spmc.call(call(FFA_ID_GET, &[]));
        abi::expect_success(&answer).map_err(|error| StartError::Call("FFA_ID_GET", error))?;
        self.id = PartitionId::new(answer[2] as u16);
        let (tx, rx) = self.spmc.buffer_addresses();
        let pages = (self.spmc.rx().len() / 4096) as u64;
        let answer = self.spmc.call(call(FFA_RXTX_MAP_64, &[tx, rx, pages]));
        abi::expect_success(&answer).map_err(|error| StartError::Call("FFA_RXTX_MAP_64", error))?;
        say!(
            self.log,
            "[sp] test-partition {:#06x}: SPMC FF-A v{}, using v{}, RX/TX mapped ({} page(s), TX {tx:#x}, RX {rx:#x})",
            self.id.raw(),
            spmc_version,
            self.version,
            pages
        );
        let answer = self
            .spmc
            .call(call(FFA_FEATURES, &[u64::from(FFA_MEM_RETRIEVE_REQ_64)]));
        match abi::expect_success(&answer) {
            Ok(()) => say!(
                self.log,
                "[sp] FFA_MEM_RETRIEVE_REQ_64 offered (properties {:#x})",
                answer[2] as u32
            ),
            Err(error) => say!(
                self.log,
                "[sp] FFA_MEM_RETRIEVE_REQ_64 not offered: {error}"
            ),
        }
        Ok(Started {
            spmc_version,
            version: self.version,
            id: self.id,
        })
    }

    /// The `FFA_MSG_WAIT` call that ends set-up (and any message that needs no answer).
    pub fn wait(&self) -> Registers {
        call(FFA_MSG_WAIT, &[])
    }

    /// Answers one message (x0–x7 as the SPMC delivered it).
    pub fn answer(&mut self, message: Registers) -> Next {
        let function = abi::function(&message);
        if let Some(status) = abi::error_status(&message) {
            self.consecutive_errors += 1;
            say!(
                self.log,
                "[sp] the SPMC answered FFA_ERROR {} ({}) ({} in a row)",
                status.name(),
                status.code(),
                self.consecutive_errors
            );
            if self.consecutive_errors >= ERROR_LIMIT {
                say!(
                    self.log,
                    "[sp] giving up after {ERROR_LIMIT} errors in a row; halting"
                );
                return Next::Halt;
            }
            return Next::Call(self.wait());
        }
        self.consecutive_errors = 0;
        match function {
            FFA_MSG_SEND_DIRECT_REQ_32 | FFA_MSG_SEND_DIRECT_REQ_64 => {
                self.served += 1;
                Next::Call(self.direct_request(&message))
            }
            _ => {
                say!(
                    self.log,
                    "[sp] ignoring {} ({function:#010x}); waiting",
                    abi::answer_name(&message)
                );
                Next::Call(self.wait())
            }
        }
    }

    fn direct_request(&mut self, message: &Registers) -> Registers {
        let source = PartitionId::new((message[1] >> 16) as u16);
        let destination = PartitionId::new(message[1] as u16);
        let wide = abi::function(message) == FFA_MSG_SEND_DIRECT_REQ_64;
        let payload = protocol::payload(message);
        let request = if wide {
            Request::decode_64(&payload)
        } else {
            Request::Echo
        };
        let response_payload = match request {
            Request::Echo => {
                say!(
                    self.log,
                    "[sp] DIRECT_REQ_{} from {:#06x}: echo",
                    if wide { 64 } else { 32 },
                    source.raw()
                );
                payload
            }
            Request::MemoryCheck(check) => {
                let report = self.memory_check(source, &check);
                say!(
                    self.log,
                    "[sp] memory check of handle {:#x}: {} (status {}, {} bytes checked, {} constituent(s), {} fragment(s))",
                    report.handle,
                    report.outcome.name(),
                    report.status,
                    report.bytes_checked,
                    report.constituents,
                    report.fragments
                );
                report.encode()
            }
            Request::Unknown(opcode) => {
                say!(
                    self.log,
                    "[sp] DIRECT_REQ_64 from {:#06x}: unknown command {opcode}",
                    source.raw()
                );
                Report::new(Outcome::UnknownCommand, 0).encode()
            }
        };
        if destination != self.id {
            say!(
                self.log,
                "[sp] request addressed to {:#06x}, not {:#06x}; answering as {:#06x}",
                destination.raw(),
                self.id.raw(),
                self.id.raw()
            );
        }
        let endpoints = u64::from(self.id.raw()) << 16 | u64::from(source.raw());
        let (function, mask) = if wide {
            (FFA_MSG_SEND_DIRECT_RESP_64, u64::MAX)
        } else {
            (FFA_MSG_SEND_DIRECT_RESP_32, u64::from(u32::MAX))
        };
        let mut response = call(function, &[endpoints, 0]);
        for (register, value) in response[3..].iter_mut().zip(response_payload) {
            *register = value & mask;
        }
        response
    }

    /// Retrieve, check, write and relinquish, as [`protocol`] describes.
    fn memory_check(&mut self, sender: PartitionId, check: &MemoryCheck) -> Report {
        let mut report = Report::new(Outcome::Passed, check.handle);
        let flags = check.flags;
        let transaction_type = match (
            flags.has(Flags::EXPECT_SHARE),
            flags.has(Flags::EXPECT_LEND),
        ) {
            (true, false) => TransactionType::Share,
            (false, true) => TransactionType::Lend,
            _ => TransactionType::Unspecified,
        };
        let write_reply = flags.has(Flags::WRITE_REPLY);
        let request = RetrieveRequest {
            sender,
            handle: check.handle,
            tag: check.tag,
            transaction_type,
            receiver: self.id,
            access: if write_reply {
                DataAccess::ReadWrite
            } else {
                DataAccess::ReadOnly
            },
            endpoint_descriptor_size: if self.version >= Version::V1_2 {
                ENDPOINT_DESCRIPTOR_SIZE_V1_2
            } else {
                ENDPOINT_DESCRIPTOR_SIZE_V1_1
            },
        };
        let length = match request.write(self.descriptor_version(), self.spmc.tx()) {
            Ok(length) => length as u64,
            Err(error) => {
                say!(self.log, "[sp] cannot write the retrieve request: {error}");
                report.outcome = Outcome::RetrieveFailed;
                return report;
            }
        };
        say!(
            self.log,
            "[sp] FFA_MEM_RETRIEVE_REQ_64: handle {:#x}, sender {:#06x}, tag {:#x}, type {}, {} access",
            check.handle,
            sender.raw(),
            check.tag,
            transaction_type.name(),
            if write_reply { "read-write" } else { "read-only" }
        );
        let answer = self
            .spmc
            .call(call(FFA_MEM_RETRIEVE_REQ_64, &[length, length, 0, 0]));
        if let Err(error) = abi::expect(&answer, FFA_MEM_RETRIEVE_RESP) {
            say!(self.log, "[sp] FFA_MEM_RETRIEVE_REQ_64 refused: {error}");
            report.outcome = Outcome::RetrieveFailed;
            report.status = error.status_code() as i16;
            return report;
        }
        let total = answer[1] as u32;
        let first_fragment = answer[2] as u32;
        // From here on the memory is retrieved: every path relinquishes it.
        let received = self.receive_descriptor(check.handle, total, first_fragment, &mut report);
        if let Some(length) = received {
            self.check_region(sender, check, transaction_type, length, &mut report);
        }
        self.relinquish(check.handle, &mut report);
        report
    }

    fn descriptor_version(&self) -> DescriptorVersion {
        if self.version >= Version::V1_1 {
            DescriptorVersion::V1_1
        } else {
            DescriptorVersion::V1_0
        }
    }

    /// Collects the descriptor into the descriptor buffer; returns its length.
    fn receive_descriptor(
        &mut self,
        handle: u64,
        total: u32,
        first_fragment: u32,
        report: &mut Report,
    ) -> Option<usize> {
        let Partition {
            spmc,
            log,
            descriptor,
            ..
        } = self;
        let mut reassembly = match Reassembly::start(descriptor, total, FRAGMENT_LIMIT) {
            Ok(reassembly) => reassembly,
            Err(error) => {
                say!(log, "[sp] descriptor refused: {error}");
                report.outcome = Outcome::FragmentFailed;
                let _ = release_rx(spmc, log);
                return None;
            }
        };
        let mut fragment = first_fragment;
        loop {
            let added = reassembly.add(spmc.rx(), fragment);
            report.fragments = reassembly.fragments() as u16;
            if let Err(error) = release_rx(spmc, log) {
                report.outcome = Outcome::RxReleaseFailed;
                report.status = error.status_code() as i16;
                return None;
            }
            if let Err(error) = added {
                say!(log, "[sp] fragment refused: {error}");
                report.outcome = Outcome::FragmentFailed;
                return None;
            }
            if reassembly.is_complete() {
                break;
            }
            let offset = reassembly.received() as u64;
            let answer = spmc.call(call(
                FFA_MEM_FRAG_RX,
                &[handle & 0xFFFF_FFFF, handle >> 32, offset, 0],
            ));
            if let Err(error) = abi::expect(&answer, FFA_MEM_FRAG_TX) {
                say!(
                    log,
                    "[sp] FFA_MEM_FRAG_RX at offset {offset} failed: {error}"
                );
                report.outcome = Outcome::FragmentFailed;
                report.status = error.status_code() as i16;
                return None;
            }
            let answered_handle = (answer[1] & 0xFFFF_FFFF) | (answer[2] & 0xFFFF_FFFF) << 32;
            if answered_handle != handle {
                say!(
                    log,
                    "[sp] FFA_MEM_FRAG_TX for handle {answered_handle:#x}, not {handle:#x}"
                );
                report.outcome = Outcome::FragmentFailed;
                let _ = release_rx(spmc, log);
                return None;
            }
            fragment = answer[3] as u32;
        }
        let fragments = reassembly.fragments();
        let length = reassembly.finish().map(<[u8]>::len)?;
        say!(
            log,
            "[sp] descriptor of handle {handle:#x}: {length} bytes in {fragments} fragment(s)"
        );
        Some(length)
    }

    fn check_region(
        &mut self,
        sender: PartitionId,
        check: &MemoryCheck,
        expected_type: TransactionType,
        length: usize,
        report: &mut Report,
    ) {
        let version = self.descriptor_version();
        let Partition {
            memory,
            log,
            descriptor,
            id,
            ..
        } = self;
        let bytes: &[u8] = &descriptor[..length];
        let described = MemoryTransaction::parse(bytes, version).and_then(|transaction| {
            let access = transaction.access_for(*id)?;
            Ok((transaction, access, transaction.region(&access)?))
        });
        let (transaction, access, region) = match described {
            Ok(described) => described,
            Err(error) => {
                say!(log, "[sp] descriptor unusable: {error}");
                report.outcome = Outcome::BadDescriptor;
                return;
            }
        };
        report.constituents = region.constituent_count() as u32;
        say!(
            log,
            "[sp] {} from {:#06x}: handle {:#x}, tag {:#x}, attributes {:#x}{}, {} receiver(s) ({}-byte descriptors), {} page(s) in {} constituent(s), access {:#x}",
            transaction.transaction_type().name(),
            transaction.sender.raw(),
            transaction.handle,
            transaction.tag,
            transaction.attributes,
            if transaction.is_non_secure() { " (non-secure)" } else { "" },
            transaction.receiver_count(),
            transaction.endpoint_descriptor_size(),
            region.total_pages,
            region.constituent_count(),
            access.permissions
        );
        let mismatch = if transaction.handle != check.handle {
            Some("handle")
        } else if transaction.tag != check.tag {
            Some("tag")
        } else if transaction.sender != sender {
            Some("sender")
        } else if expected_type != TransactionType::Unspecified
            && transaction.transaction_type() != expected_type
        {
            Some("transaction type")
        } else {
            None
        };
        if let Some(field) = mismatch {
            say!(
                log,
                "[sp] the descriptor's {field} is not the one asked for"
            );
            report.outcome = Outcome::BadDescriptor;
            return;
        }
        if let Some(constituent) = region
            .constituents()
            .find(|constituent| !memory.is_non_secure_dram(constituent.address, constituent.size()))
        {
            say!(
                log,
                "[sp] constituent {:#x} ({} pages) is not non-secure DRAM; not touching it",
                constituent.address,
                constituent.page_count
            );
            report.outcome = Outcome::OutsideNonSecureMemory;
            return;
        }
        let write_reply = check.flags.has(Flags::WRITE_REPLY);
        if write_reply && access.data_access() != DataAccess::ReadWrite {
            say!(
                log,
                "[sp] write access not granted (permissions {:#x})",
                access.permissions
            );
            report.outcome = Outcome::NotWritable;
            return;
        }
        let (checked, first_mismatch) = check_pattern(memory, &region, check.check_seed);
        report.bytes_checked = checked;
        if let Some(offset) = first_mismatch {
            report.first_mismatch = offset;
            report.outcome = Outcome::PatternMismatch;
            say!(
                log,
                "[sp] pattern {:#x} differs at region offset {offset:#x}",
                check.check_seed
            );
            return;
        }
        say!(
            log,
            "[sp] {checked} bytes hold pattern {:#x}",
            check.check_seed
        );
        if write_reply {
            write_pattern(memory, &region, check.reply_seed);
            say!(
                log,
                "[sp] wrote pattern {:#x} over {} bytes",
                check.reply_seed,
                region.size()
            );
        }
    }

    fn relinquish(&mut self, handle: u64, report: &mut Report) {
        let id = self.id;
        if let Err(error) = write_relinquish(self.spmc.tx(), handle, id) {
            say!(
                self.log,
                "[sp] cannot write the relinquish descriptor: {error}"
            );
            report.outcome = Outcome::RelinquishFailed;
            return;
        }
        let answer = self.spmc.call(call(FFA_MEM_RELINQUISH, &[]));
        match abi::expect_success(&answer) {
            Ok(()) => say!(
                self.log,
                "[sp] FFA_MEM_RELINQUISH of handle {handle:#x}: done"
            ),
            Err(error) => {
                say!(
                    self.log,
                    "[sp] FFA_MEM_RELINQUISH of handle {handle:#x} failed: {error}"
                );
                if report.outcome == Outcome::Passed {
                    report.outcome = Outcome::RelinquishFailed;
                    report.status = error.status_code() as i16;
                }
            }
        }
    }
}

fn release_rx<S: Spmc, L: Log>(spmc: &mut S, log: &mut L) -> Result<(), CallError> {
    let answer = spmc.call(call(FFA_RX_RELEASE, &[]));
    abi::expect_success(&answer).inspect_err(|error| {
        say!(log, "[sp] FFA_RX_RELEASE failed: {error}");
    })
}

/// Checks `region` against pattern `seed`; returns the bytes checked and the first mismatch.
fn check_pattern<M: PhysicalMemory>(
    memory: &M,
    region: &Region<'_>,
    seed: u64,
) -> (u64, Option<u64>) {
    let mut offset = 0u64;
    let mut chunk = [0u8; CHUNK];
    for constituent in region.constituents() {
        let mut done = 0u64;
        while done < constituent.size() {
            let length = (constituent.size() - done).min(CHUNK as u64) as usize;
            memory.read(constituent.address + done, &mut chunk[..length]);
            if let Some(at) = pattern::first_mismatch(seed, offset, &chunk[..length]) {
                return (at + 1, Some(at));
            }
            offset += length as u64;
            done += length as u64;
        }
    }
    (offset, None)
}

/// Fills `region` with pattern `seed`.
fn write_pattern<M: PhysicalMemory>(memory: &mut M, region: &Region<'_>, seed: u64) {
    let mut offset = 0u64;
    let mut chunk = [0u8; CHUNK];
    for constituent in region.constituents() {
        let mut done = 0u64;
        while done < constituent.size() {
            let length = (constituent.size() - done).min(CHUNK as u64) as usize;
            pattern::fill(seed, offset, &mut chunk[..length]);
            memory.write(constituent.address + done, &chunk[..length]);
            offset += length as u64;
            done += length as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::test_support::transaction;
    use crate::fake_spmc::{FakeMemory, FakeSpmc, Quirks, RecordingLog};
    use crate::protocol::NO_MISMATCH;
    use proptest::prelude::*;
    use std::vec::Vec;

    const BASE: u64 = 0x4000_0000;
    const SHARE: u32 = 1 << 3;
    const LEND: u32 = 2 << 3;

    type TestPartition<'a> = Partition<'a, FakeSpmc, FakeMemory, RecordingLog>;

    fn partition(buffer: &mut [u8], rx_pages: usize) -> TestPartition<'_> {
        let mut partition = Partition::new(
            FakeSpmc::new(rx_pages),
            FakeMemory::new(BASE, 4 << 20),
            RecordingLog::default(),
            buffer,
        );
        let started = partition.start().unwrap();
        assert_eq!(started.id, PartitionId::new(0x8001));
        assert_eq!(started.version, Version::V1_2);
        partition
    }

    fn direct_request_64(payload: [u64; 5]) -> Registers {
        let mut registers = call(FFA_MSG_SEND_DIRECT_REQ_64, &[0x8001, 0]);
        registers[3..].copy_from_slice(&payload);
        registers
    }

    /// Sends a memory check and returns the decoded report.
    fn run_check(partition: &mut TestPartition<'_>, check: MemoryCheck) -> Report {
        let Next::Call(response) = partition.answer(direct_request_64(check.encode())) else {
            panic!("halted");
        };
        assert_eq!(abi::function(&response), FFA_MSG_SEND_DIRECT_RESP_64);
        assert_eq!(response[1], 0x8001_0000);
        Report::decode(&protocol::payload(&response)).expect("a command response")
    }

    fn check(handle: u64, flags: u16) -> MemoryCheck {
        MemoryCheck {
            handle,
            check_seed: 0xC0FFEE,
            reply_seed: 0xBEEF,
            tag: 0x77,
            flags: Flags(flags),
        }
    }

    /// Shares `constituents` (as (page offset from BASE, pages)) filled with the check pattern.
    fn share(
        partition: &mut TestPartition<'_>,
        flags: u32,
        permissions: u8,
        constituents: &[(u64, u32)],
    ) -> u64 {
        let constituents: Vec<(u64, u32)> = constituents
            .iter()
            .map(|(page, count)| (BASE + page * 4096, *count))
            .collect();
        let mut offset = 0;
        for (address, pages) in &constituents {
            let length = *pages as usize * 4096;
            pattern::fill(0xC0FFEE, offset, partition.memory.slice(*address, length));
            offset += length as u64;
        }
        let descriptor = transaction(
            0,
            flags,
            0,
            0x77,
            16,
            &[(0x8001, permissions)],
            &constituents,
        );
        partition.spmc.store(descriptor)
    }

    #[test]
    fn start_makes_the_set_up_calls_and_logs() {
        let mut buffer = [0u8; 4096];
        let partition = partition(&mut buffer, 1);
        assert_eq!(
            partition.spmc.calls,
            [FFA_VERSION, FFA_ID_GET, FFA_RXTX_MAP_64, FFA_FEATURES]
        );
        assert!(partition.log.0[0].contains("test-partition 0x8001: SPMC FF-A v1.2, using v1.2"));
    }

    #[test]
    fn direct_requests_are_echoed_in_their_width() {
        let mut buffer = [0u8; 4096];
        let mut partition = partition(&mut buffer, 1);
        let payload = [0x0123_4567_89ab_cdef, 2, 3, 4, u64::MAX];
        let Next::Call(response) = partition.answer(direct_request_64(payload)) else {
            panic!()
        };
        assert_eq!(
            response,
            [
                u64::from(FFA_MSG_SEND_DIRECT_RESP_64),
                0x8001_0000,
                0,
                payload[0],
                2,
                3,
                4,
                u64::MAX
            ]
        );
        let mut request = call(FFA_MSG_SEND_DIRECT_REQ_32, &[0x0005_8001, 0]);
        request[3..].copy_from_slice(&[0x4543_484f, 0xdead_beef, 1, 0x8000_0000, 0xffff_ffff]);
        let Next::Call(response) = partition.answer(request) else {
            panic!()
        };
        assert_eq!(abi::function(&response), FFA_MSG_SEND_DIRECT_RESP_32);
        assert_eq!(response[1], 0x8001_0005, "answered to the requester");
        assert_eq!(&response[3..], &request[3..]);
        assert_eq!(partition.served(), 2);
        assert!(partition
            .log
            .0
            .iter()
            .any(|line| line == "[sp] DIRECT_REQ_32 from 0x0005: echo"));
    }

    #[test]
    fn a_shared_region_is_checked_answered_and_relinquished() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        let handle = share(&mut partition, SHARE, 2, &[(0, 2), (8, 1)]);
        let report = run_check(
            &mut partition,
            check(handle, Flags::WRITE_REPLY | Flags::EXPECT_SHARE),
        );
        assert_eq!(report.outcome, Outcome::Passed, "{:#?}", partition.log.0);
        assert_eq!(report.bytes_checked, 3 * 4096);
        assert_eq!(report.first_mismatch, NO_MISMATCH);
        assert_eq!(report.constituents, 2);
        assert_eq!(report.fragments, 1);
        // Pattern Q across both constituents, continuing the offset.
        assert_eq!(
            pattern::first_mismatch(0xBEEF, 0, partition.memory.slice(BASE, 8192)),
            None
        );
        assert_eq!(
            pattern::first_mismatch(0xBEEF, 8192, partition.memory.slice(BASE + 8 * 4096, 4096)),
            None
        );
        assert_eq!(partition.spmc.retrieved(handle), 0, "relinquished");
        assert!(!partition.spmc.rx_full, "RX released");
        assert!(partition
            .log
            .0
            .iter()
            .any(|line| line.contains("share from 0x0000") && line.contains("(non-secure)")));
    }

    #[test]
    fn a_large_descriptor_arrives_in_fragments() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        // 300 one-page constituents: 48 + 16 + 16 + 300 * 16 = 4880 bytes > one 4 KiB RX.
        let constituents: Vec<(u64, u32)> = (0..300).map(|page| (page * 2, 1)).collect();
        let handle = share(&mut partition, LEND, 2, &constituents);
        let report = run_check(&mut partition, check(handle, Flags::EXPECT_LEND));
        assert_eq!(report.outcome, Outcome::Passed, "{:#?}", partition.log.0);
        assert_eq!(report.fragments, 2);
        assert_eq!(report.constituents, 300);
        assert_eq!(report.bytes_checked, 300 * 4096);
        assert!(partition.spmc.calls.contains(&FFA_MEM_FRAG_RX));
        assert_eq!(partition.spmc.retrieved(handle), 0);
    }

    #[test]
    fn a_wrong_byte_is_reported_where_it_is_and_nothing_is_written() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        let handle = share(&mut partition, SHARE, 2, &[(0, 1), (4, 1)]);
        partition.memory.slice(BASE + 4 * 4096 + 5, 1)[0] ^= 0xFF;
        let report = run_check(&mut partition, check(handle, Flags::WRITE_REPLY));
        assert_eq!(report.outcome, Outcome::PatternMismatch);
        assert_eq!(report.first_mismatch, 4096 + 5);
        assert_eq!(report.bytes_checked, 4096 + 6);
        assert_eq!(
            pattern::first_mismatch(0xC0FFEE, 0, partition.memory.slice(BASE, 4096)),
            None,
            "not overwritten"
        );
        assert_eq!(partition.spmc.retrieved(handle), 0);
    }

    #[test]
    fn the_spmc_refuses_the_wrong_type_and_unknown_handles() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        let handle = share(&mut partition, SHARE, 2, &[(0, 1)]);
        let report = run_check(&mut partition, check(handle, Flags::EXPECT_LEND));
        assert_eq!(report.outcome, Outcome::RetrieveFailed);
        assert_eq!(report.status, -2);
        let report = run_check(&mut partition, check(handle + 100, 0));
        assert_eq!(report.outcome, Outcome::RetrieveFailed);
        assert!(
            !partition.spmc.calls.contains(&FFA_MEM_RELINQUISH),
            "nothing retrieved, nothing relinquished"
        );
        let mut wrong_tag = check(handle, 0);
        wrong_tag.tag = 1;
        assert_eq!(
            run_check(&mut partition, wrong_tag).outcome,
            Outcome::RetrieveFailed
        );
    }

    #[test]
    fn memory_outside_non_secure_dram_is_not_touched() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        // A constituent in secure memory (the SPMC does not check addresses).
        let descriptor = transaction(0, SHARE, 0, 0x77, 16, &[(0x8001, 2)], &[(0x0e00_0000, 1)]);
        let handle = partition.spmc.store(descriptor);
        let report = run_check(&mut partition, check(handle, Flags::WRITE_REPLY));
        assert_eq!(report.outcome, Outcome::OutsideNonSecureMemory);
        assert_eq!(report.bytes_checked, 0);
        assert_eq!(partition.spmc.retrieved(handle), 0, "relinquished");
    }

    #[test]
    fn a_read_only_grant_refuses_the_reply() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        let handle = share(&mut partition, SHARE, 1, &[(0, 1)]);
        let report = run_check(&mut partition, check(handle, Flags::WRITE_REPLY));
        assert_eq!(report.outcome, Outcome::NotWritable);
        let report = run_check(&mut partition, check(handle, 0));
        assert_eq!(report.outcome, Outcome::Passed, "reading is allowed");
    }

    #[test]
    fn a_misbehaving_spmc_cannot_make_it_loop_or_overflow() {
        let mut buffer = [0u8; 65536];
        let mut partition = partition(&mut buffer, 1);
        let constituents: Vec<(u64, u32)> = (0..300).map(|page| (page, 1)).collect();
        let handle = share(&mut partition, SHARE, 2, &constituents);
        partition.spmc.quirks = Quirks {
            fragment_length: Some(0),
            ..Quirks::default()
        };
        let report = run_check(&mut partition, check(handle, 0));
        assert_eq!(report.outcome, Outcome::FragmentFailed);
        assert_eq!(
            partition.spmc.retrieved(handle),
            0,
            "relinquished after the failure"
        );
        assert!(!partition.spmc.rx_full);

        partition.spmc.quirks = Quirks {
            fragment_length: Some(70_000),
            ..Quirks::default()
        };
        assert_eq!(
            run_check(&mut partition, check(handle, 0)).outcome,
            Outcome::FragmentFailed
        );
        partition.spmc.quirks = Quirks {
            wrong_fragment_handle: true,
            ..Quirks::default()
        };
        assert_eq!(
            run_check(&mut partition, check(handle, 0)).outcome,
            Outcome::FragmentFailed
        );
        assert!(!partition.spmc.rx_full);
    }

    #[test]
    fn a_descriptor_larger_than_the_buffer_is_refused() {
        let mut buffer = [0u8; 1024];
        let mut partition = partition(&mut buffer, 1);
        let constituents: Vec<(u64, u32)> = (0..100).map(|page| (page, 1)).collect();
        let handle = share(&mut partition, SHARE, 2, &constituents);
        let report = run_check(&mut partition, check(handle, 0));
        assert_eq!(report.outcome, Outcome::FragmentFailed);
        assert!(!partition.spmc.rx_full, "RX released");
        assert_eq!(partition.spmc.retrieved(handle), 0);
    }

    #[test]
    fn unknown_commands_and_other_messages() {
        let mut buffer = [0u8; 4096];
        let mut partition = partition(&mut buffer, 1);
        let payload = [(protocol::COMMAND_MAGIC as u64) << 32 | 99, 0, 0, 0, 0];
        let Next::Call(response) = partition.answer(direct_request_64(payload)) else {
            panic!()
        };
        let report = Report::decode(&protocol::payload(&response)).unwrap();
        assert_eq!(report.outcome, Outcome::UnknownCommand);
        assert_eq!(
            partition.answer(call(abi::FFA_INTERRUPT, &[])),
            Next::Call(call(FFA_MSG_WAIT, &[]))
        );
    }

    #[test]
    fn repeated_errors_halt_instead_of_looping() {
        let mut buffer = [0u8; 4096];
        let mut partition = partition(&mut buffer, 1);
        let denied = call(abi::FFA_ERROR, &[0, abi::Status::Denied.register_value()]);
        for _ in 1..ERROR_LIMIT {
            assert_eq!(
                partition.answer(denied),
                Next::Call(call(FFA_MSG_WAIT, &[]))
            );
        }
        assert_eq!(partition.answer(denied), Next::Halt);
    }

    #[test]
    fn set_up_fails_cleanly() {
        let mut buffer = [0u8; 4096];
        let mut spmc = FakeSpmc::new(1);
        spmc.quirks.deny_everything = true;
        let mut partition = Partition::new(
            spmc,
            FakeMemory::new(BASE, 4096),
            RecordingLog::default(),
            &mut buffer[..],
        );
        assert!(matches!(
            partition.start(),
            Err(StartError::Version(abi::FFA_ERROR))
        ));
    }

    #[test]
    fn boot_information_is_read_and_logged() {
        let mut buffer = [0u8; 4096];
        let mut partition = partition(&mut buffer, 1);
        let mut blob = crate::boot_info::tests::tf_a_blob(BASE, 64);
        blob[64..68].copy_from_slice(&boot_info::FDT_MAGIC.to_be_bytes());
        blob[68..72].copy_from_slice(&64u32.to_be_bytes());
        partition
            .memory
            .slice(BASE, blob.len())
            .copy_from_slice(&blob);
        partition.log_boot_info(BASE);
        let log = &partition.log.0;
        assert!(
            log.iter()
                .any(|line| line == "[sp] boot information: FF-A v1.2, 128 bytes, 1 descriptor(s)"),
            "{log:#?}"
        );
        assert!(
            log.iter()
                .any(|line| line == "[sp] manifest: device tree at 0x40000040, 64 bytes"),
            "{log:#?}"
        );
        partition.log_boot_info(0);
        assert!(partition
            .log
            .0
            .last()
            .unwrap()
            .contains("no boot information"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any region layout and RX size: the check passes, pattern Q lands exactly
        /// on the region, and the transaction is relinquished with RX released.
        #[test]
        fn any_region_is_checked_and_answered(
            pages in proptest::collection::btree_set(0u64..400, 1..260),
            rx_pages in 1usize..3,
            lend in any::<bool>(),
        ) {
            let mut buffer = std::vec![0u8; 65536];
            let mut partition = partition(&mut buffer, rx_pages);
            let constituents: Vec<(u64, u32)> = pages.iter().map(|page| (*page, 1)).collect();
            let handle = share(&mut partition, if lend { LEND } else { SHARE }, 2, &constituents);
            let report = run_check(&mut partition, check(handle, Flags::WRITE_REPLY));
            prop_assert_eq!(report.outcome, Outcome::Passed);
            prop_assert_eq!(report.bytes_checked, pages.len() as u64 * 4096);
            let descriptor_size = 48 + 16 + 16 + 16 * pages.len();
            prop_assert_eq!(report.fragments as usize, descriptor_size.div_ceil(rx_pages * 4096));
            for (index, page) in pages.iter().enumerate() {
                let bytes = partition.memory.slice(BASE + page * 4096, 4096).to_vec();
                prop_assert_eq!(pattern::first_mismatch(0xBEEF, index as u64 * 4096, &bytes), None);
            }
            prop_assert_eq!(partition.spmc.retrieved(handle), 0);
            prop_assert!(!partition.spmc.rx_full);
        }
    }
}
