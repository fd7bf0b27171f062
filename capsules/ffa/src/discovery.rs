//! Partition discovery: `FFA_PARTITION_INFO_GET` through the RX buffer, or
//! `FFA_PARTITION_INFO_GET_REGS` through registers when the callee offers it.
//!
//! Every descriptor the callee reports is checked before it is read: the
//! descriptor size (w3, or x2\[63:48\] of `_REGS`) must hold at least this
//! version's fields (24 bytes from v1.1; `_REGS` descriptors must also be
//! whole registers), the count must fit the mapped RX buffer (or x3–x17),
//! and the caller's capacity. Larger descriptors (v1.3's 48 bytes, which
//! Hafnium reports) are stepped over by the reported size and read in part.
//! Each descriptor found is handed to a sink, so callers choose where to
//! keep it.
//!
//! ```ignore
//! let mut found = heapless::Vec::<PartitionInfo, 8>::new();
//! discovery::discover(&conduit, &mailbox, &version, &features, Uuid::NIL, 8, &mut |info| {
//!     let _ = found.push(info);
//! })?;
//! ```

use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use crate::features::FeatureSet;
use crate::mailbox::Mailbox;
use crate::partition::{DescriptorLayout, PartitionInfo};
use crate::version::{NegotiatedVersion, SupportedVersion};
use ffa_abi::FunctionId;
use ffa_abi::Status;
use ffa_abi::Uuid;

/// w5 bit 0 of `FFA_PARTITION_INFO_GET` (v1.1+): return the count only.
const COUNT_ONLY: u64 = 1;

/// The registers of `FFA_PARTITION_INFO_GET` for `uuid` (w1–w4); `count_only`
/// sets w5 bit 0 (v1.1+ only).
pub fn encode_partition_info_get(uuid: Uuid, count_only: bool) -> Request {
    partition_info_request(uuid, if count_only { COUNT_ONLY } else { 0 })
}

/// The registers of `FFA_PARTITION_INFO_GET_REGS` for `uuid` from `start` with `tag`.
pub fn encode_partition_info_get_registers(uuid: Uuid, start: u16, tag: u16) -> Request {
    let uuid_registers = uuid.to_register_pair();
    Request::new(FunctionId::PartitionInfoGetRegisters)
        .with(1, uuid_registers[0])
        .with(2, uuid_registers[1])
        .with(3, start as u64 | ((tag as u64) << 16))
}

fn partition_info_request(uuid: Uuid, flags: u64) -> Request {
    let words = uuid.to_words();
    Request::new(FunctionId::PartitionInfoGet)
        .with(1, words[0] as u64)
        .with(2, words[1] as u64)
        .with(3, words[2] as u64)
        .with(4, words[3] as u64)
        .with(5, flags)
}

fn check_capacity(count: u32, capacity: usize) -> Result<(), ClientError> {
    if count as usize > capacity {
        defmt::error!(
            "ffa: {=u32} partitions reported, table holds {=usize}",
            count,
            capacity
        );
        return Err(ClientError::TableFull { capacity });
    }
    Ok(())
}

/// `FFA_PARTITION_INFO_GET` with the count-only flag (v1.1+): how many descriptors match `uuid`.
pub fn count(
    conduit: &FfaConduit<'_>,
    version: &NegotiatedVersion,
    uuid: Uuid,
) -> Result<u32, ClientError> {
    if !version.at_least(SupportedVersion::V1_1) {
        return Err(ClientError::Unsupported);
    }
    let registers = conduit.call_expecting_success(&partition_info_request(uuid, COUNT_ONLY))?;
    Ok(registers.word(2))
}

/// `FFA_PARTITION_INFO_GET` through the RX buffer. Counts first on v1.1+,
/// rejects more than `capacity` descriptors, and always releases RX. A UUID
/// that matches nothing gives `Ok(0)` when the callee answers success with a
/// count of 0 (OP-TEE), or the callee's `INVALID_PARAMETERS` (TF-A, Hafnium).
pub fn partition_info_get(
    conduit: &FfaConduit<'_>,
    mailbox: &Mailbox<'_>,
    version: &NegotiatedVersion,
    uuid: Uuid,
    capacity: usize,
    sink: &mut dyn FnMut(PartitionInfo),
) -> Result<usize, ClientError> {
    if version.at_least(SupportedVersion::V1_1) {
        let expected = count(conduit, version, uuid)?;
        if expected == 0 {
            // A UUID no partition implements: some SPMCs (OP-TEE) answer
            // success with a count of 0 rather than INVALID_PARAMETERS.
            // There is nothing to read, so RX is never asked for.
            return Ok(0);
        }
        check_capacity(expected, capacity)?;
    }
    let layout = DescriptorLayout::for_version(version.supported());
    let (registers, rx) = mailbox.call_filling_rx(conduit, &partition_info_request(uuid, 0))?;
    let count = registers.word(2);
    // From here on RX is ours: every early return drops `rx`, which releases it.
    if count == 0 {
        // No descriptors (v1.0, or the partitions went away since the count):
        // the size field describes nothing, so it is not checked.
        rx.release()?;
        return Ok(0);
    }
    let reported_size = if version.at_least(SupportedVersion::V1_1) {
        registers.word(3)
    } else {
        layout.size() as u32
    };
    let (stride, copied) = layout.accept_reported_size(reported_size)?;
    let total = (count as usize).checked_mul(stride);
    if total.is_none_or(|total| total > rx.len()) {
        defmt::error!(
            "ffa: {=u32} descriptors of {=usize} bytes overflow the {=usize}-byte RX buffer",
            count,
            stride,
            rx.len()
        );
        return Err(ClientError::CountOverflow(count));
    }
    check_capacity(count, capacity)?;
    let mut descriptor = [0u8; DescriptorLayout::MAXIMUM_SIZE];
    for index in 0..count as usize {
        rx.read(index * stride, &mut descriptor[..copied])?;
        sink(layout.decode(&descriptor[..copied], stride));
    }
    rx.release()?;
    Ok(count as usize)
}

/// `FFA_PARTITION_INFO_GET_REGS` (v1.2): discovery without the RX buffer.
pub fn partition_info_get_registers(
    conduit: &FfaConduit<'_>,
    version: &NegotiatedVersion,
    uuid: Uuid,
    capacity: usize,
    sink: &mut dyn FnMut(PartitionInfo),
) -> Result<usize, ClientError> {
    if !version.at_least(SupportedVersion::V1_2) {
        return Err(ClientError::Unsupported);
    }
    let layout = DescriptorLayout::for_version(version.supported());
    let mut start: u16 = 0;
    let mut tag: u16 = 0;
    let mut found = 0usize;
    // Each call returns at least one partition, and at most `capacity` are
    // accepted, so this loop makes at most `capacity + 1` calls.
    for _ in 0..=capacity {
        let request = encode_partition_info_get_registers(uuid, start, tag);
        let registers = conduit.call_expecting_success(&request)?;
        let summary = registers.register(2);
        let last = summary as u16;
        let current = (summary >> 16) as u16;
        let reply_tag = (summary >> 32) as u16;
        let size = (summary >> 48) as u16;
        let registers_each = DescriptorLayout::accept_register_size(size)?;
        let in_this_call = usize::from(current.wrapping_sub(start)) + 1;
        if current < start
            || current > last
            || in_this_call * registers_each > DescriptorLayout::DESCRIPTOR_REGISTERS
        {
            defmt::error!(
                "ffa: PARTITION_INFO_GET_REGS reply out of range: start {=u16} current {=u16} last {=u16} size {=u16}",
                start,
                current,
                last,
                size
            );
            return Err(ClientError::MalformedReply);
        }
        check_capacity(last as u32 + 1, capacity)?;
        for slot in 0..in_this_call {
            let base = 3 + slot * registers_each;
            sink(layout.decode_registers(
                [
                    registers.register(base),
                    registers.register(base + 1),
                    registers.register(base + 2),
                ],
                usize::from(size),
            ));
            found += 1;
        }
        if current == last {
            return Ok(found);
        }
        start = current + 1;
        tag = reply_tag;
    }
    defmt::error!("ffa: PARTITION_INFO_GET_REGS did not finish");
    Err(ClientError::MalformedReply)
}

/// Discovers the partitions matching `uuid` (nil for all), through registers
/// when the callee offers it, otherwise through RX.
pub fn discover(
    conduit: &FfaConduit<'_>,
    mailbox: &Mailbox<'_>,
    version: &NegotiatedVersion,
    features: &FeatureSet,
    uuid: Uuid,
    capacity: usize,
    sink: &mut dyn FnMut(PartitionInfo),
) -> Result<usize, ClientError> {
    if features.partition_info_get_registers {
        let mut emitted = 0usize;
        let mut counting = |info: PartitionInfo| {
            emitted += 1;
            sink(info);
        };
        match partition_info_get_registers(conduit, version, uuid, capacity, &mut counting) {
            // Refused before anything was reported: the RX path gives the same answer.
            Err(ClientError::Status(Status::NotSupported)) if emitted == 0 => {
                defmt::warn!("ffa: PARTITION_INFO_GET_REGS refused; using the RX buffer");
            }
            other => return other,
        }
    }
    partition_info_get(conduit, mailbox, version, uuid, capacity, sink)
}
