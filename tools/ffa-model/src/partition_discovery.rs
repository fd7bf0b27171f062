//! Partition discovery: `FFA_PARTITION_INFO_GET` (RX buffer) and `FFA_PARTITION_INFO_GET_REGS` (registers).
//!
//! `FFA_PARTITION_INFO_GET` (w1–w4 = UUID as little-endian words, w5 = flags):
//! 1. Flags: a v1.0 caller must pass w5 = 0; later callers may set only bit 0
//!    (count only) → else `INVALID_PARAMETERS`.
//! 2. The nil UUID matches every partition; a UUID matching none is
//!    unrecognised → `INVALID_PARAMETERS` (the specification's rule, also what
//!    TF-A's and Hafnium's SPMCs do; as OP-TEE, a count of 0, and through RX
//!    the empty buffer is handed over, after the `BUSY` check of rule 4).
//! 3. Count only: `FFA_SUCCESS_32`, w2 = count, w3 = 0; the RX buffer is untouched.
//! 4. No RX buffer mapped, or the caller still owns it → `BUSY`.
//! 5. count × descriptor size larger than the RX buffer → `NO_MEMORY`.
//! 6. The descriptors go to the start of the RX buffer (8 bytes each for v1.0,
//!    24 from v1.1, 48 for v1.3 callers and, as Hafnium, for every caller
//!    from v1.1; the UUID field is filled only when the query used the nil
//!    UUID, and is zero otherwise, as the specification defines) and the caller
//!    owns the RX buffer until `FFA_RX_RELEASE`. Reply `FFA_SUCCESS_32`,
//!    w2 = count, w3 = descriptor size (v1.1+; zero for v1.0).
//!
//! `FFA_PARTITION_INFO_GET_REGS` (v1.2, SMC64; x1/x2 = UUID register pair,
//! x3 = start index `[15:0]` | tag `[31:16]`):
//! * negotiated version below v1.2 → `NOT_SUPPORTED`; a non-zero tag → `RETRY`
//!   (tags are not used by this SPMC); unrecognised UUID or start index not
//!   below the count → `INVALID_PARAMETERS`;
//! * reply `FFA_SUCCESS_64` with x2 = last index `[15:0]` | current index `[31:16]`
//!   | tag 0 `[47:32]` | descriptor size `[63:48]`, then the descriptors
//!   from x3, size / 8 registers each (the descriptor's bytes as
//!   little-endian words: ID | contexts << 16 | properties << 32, UUID low,
//!   UUID high, and for 48-byte descriptors the image UUID and the
//!   partition's version), as many as fit x3–x17: five of 24 bytes, or (as
//!   Hafnium, v1.3) two of 48. The UUID only for nil-UUID queries; unused
//!   registers up to x17 are zero.

use crate::call::{Call, Reply};
use crate::config::{
    FaultConfig, PartitionInfoFault, EXTENDED_DESCRIPTOR_SIZE, HUGE_PARTITION_COUNT,
    WRONG_DESCRIPTOR_SIZE,
};
use crate::function_id::FFA_SUCCESS_64;
use crate::mailbox::Mailbox;
use crate::memory::NormalWorldMemory;
use crate::partition::DESCRIPTOR_SIZE_V1_3;
use crate::partition_table::PartitionTable;
use crate::personality::Personality;
use ffa_abi::Status;
use ffa_abi::Uuid;
use ffa_abi::Version;

/// Registers `FFA_PARTITION_INFO_GET_REGS` fills with descriptors (x3–x17).
pub(crate) const DESCRIPTOR_REGISTERS: usize = 15;

/// `FFA_PARTITION_INFO_GET`.
pub(crate) fn partition_info_get(
    table: &PartitionTable,
    mailbox: &mut Mailbox,
    memory: &mut dyn NormalWorldMemory,
    config: &FaultConfig,
    version: Version,
    call: &Call<'_>,
) -> Reply {
    match write_partition_information(table, mailbox, memory, config, version, call) {
        Ok((count, size)) => Reply::success_32()
            .with(2, u64::from(count))
            .with(3, u64::from(size)),
        Err(error) => Reply::error(error),
    }
}

fn write_partition_information(
    table: &PartitionTable,
    mailbox: &mut Mailbox,
    memory: &mut dyn NormalWorldMemory,
    config: &FaultConfig,
    version: Version,
    call: &Call<'_>,
) -> Result<(u32, u32), Status> {
    let uuid = Uuid::from_words([call.word(1), call.word(2), call.word(3), call.word(4)]);
    let flags = call.word(5);
    let allowed_flags = if version == Version::V1_0 { 0 } else { 1 };
    if flags & !allowed_flags != 0 {
        return Err(Status::InvalidParameters);
    }
    let personality = config.personality;
    let count = table.matching(uuid).count();
    if count == 0 && !personality.counts_unknown_uuids_as_zero() {
        return Err(Status::InvalidParameters);
    }
    let fault = config.partition_info_fault;
    let reported_count = if fault == PartitionInfoFault::HugeCount {
        HUGE_PARTITION_COUNT
    } else {
        count as u32
    };
    if flags & 1 != 0 {
        return Ok((reported_count, 0));
    }
    let pair = mailbox.writable_receive_buffer()?;
    let size = personality.descriptor_size(version);
    let (stride, reported_size) = if version == Version::V1_0 {
        (size, 0)
    } else {
        match fault {
            PartitionInfoFault::WrongDescriptorSize => (size, WRONG_DESCRIPTOR_SIZE),
            PartitionInfoFault::ExtendedDescriptorSize => {
                (EXTENDED_DESCRIPTOR_SIZE as usize, EXTENDED_DESCRIPTOR_SIZE)
            }
            _ => (size, size as u32),
        }
    };
    check_fits(count, stride, pair.size())?;
    let mut descriptor = [0u8; MAXIMUM_STRIDE];
    for (index, information) in table.matching(uuid).enumerate() {
        descriptor.fill(0);
        let information = if personality == Personality::TfAEl3Spmc {
            crate::tf_a_el3::as_described(information)
        } else {
            *information
        };
        information.encode_descriptor_of_size(version, uuid.is_nil(), size, &mut descriptor);
        let address = pair.receive_address + (index * stride) as u64;
        memory
            .write(address, &descriptor[..stride])
            .map_err(|_| Status::Aborted)?;
    }
    mailbox.hand_receive_buffer_to_caller();
    Ok((reported_count, reported_size))
}

/// The widest descriptor stride written: the v1.3 descriptor, or the
/// extended-size fault's.
const MAXIMUM_STRIDE: usize = if EXTENDED_DESCRIPTOR_SIZE as usize > DESCRIPTOR_SIZE_V1_3 {
    EXTENDED_DESCRIPTOR_SIZE as usize
} else {
    DESCRIPTOR_SIZE_V1_3
};

/// `NO_MEMORY` unless `count` descriptors `stride` bytes apart fit in `buffer_size` bytes.
fn check_fits(count: usize, stride: usize, buffer_size: u64) -> Result<(), Status> {
    match count.checked_mul(stride) {
        Some(total) if total as u64 <= buffer_size => Ok(()),
        _ => Err(Status::NoMemory),
    }
}

/// `FFA_PARTITION_INFO_GET_REGS`.
pub(crate) fn partition_info_get_registers(
    table: &PartitionTable,
    personality: Personality,
    version: Version,
    call: &Call<'_>,
) -> Reply {
    if version < Version::V1_2 {
        return Reply::error(Status::NotSupported);
    }
    let uuid = Uuid::from_register_pair([call.register(1), call.register(2)]);
    let start = (call.register(3) & 0xFFFF) as usize;
    let tag = (call.register(3) >> 16) & 0xFFFF;
    if tag != 0 {
        return Reply::error(Status::Retry);
    }
    let count = table.matching(uuid).count();
    if count == 0 || start >= count {
        return Reply::error(Status::InvalidParameters);
    }
    let size = personality.descriptor_size(version);
    let registers_each = size / 8;
    let per_call = DESCRIPTOR_REGISTERS / registers_each;
    let last = count - 1;
    let current = last.min(start + per_call - 1);
    let summary = last as u64 | (current as u64) << 16 | (size as u64) << 48;
    let mut reply = Reply::ffa(FFA_SUCCESS_64)
        .with_extended_results()
        .with(2, summary);
    for (slot, information) in table
        .matching(uuid)
        .skip(start)
        .take(current - start + 1)
        .enumerate()
    {
        let words = information.descriptor_registers(version, uuid.is_nil(), size);
        let first = 3 + slot * registers_each;
        for (offset, word) in words[..registers_each].iter().enumerate() {
            reply = reply.with(first + offset, *word);
        }
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_must_fit_the_receive_buffer() {
        assert_eq!(check_fits(3, 24, 4096), Ok(()));
        assert_eq!(check_fits(170, 24, 4096), Ok(()));
        assert_eq!(check_fits(171, 24, 4096), Err(Status::NoMemory));
        assert_eq!(check_fits(513, 8, 4096), Err(Status::NoMemory));
        assert_eq!(check_fits(usize::MAX, 24, u64::MAX), Err(Status::NoMemory));
    }
}
