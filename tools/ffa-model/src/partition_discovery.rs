//! Partition discovery: `FFA_PARTITION_INFO_GET` (RX buffer) and `FFA_PARTITION_INFO_GET_REGS` (registers).
//!
//! `FFA_PARTITION_INFO_GET` (w1–w4 = UUID as little-endian words, w5 = flags):
//! 1. Flags: a v1.0 caller must pass w5 = 0; later callers may set only bit 0
//!    (count only) → else `INVALID_PARAMETERS`.
//! 2. The nil UUID matches every partition; a UUID matching none is
//!    unrecognised → `INVALID_PARAMETERS` (the specification's rule, also what
//!    TF-A's and Hafnium's SPMCs do).
//! 3. Count only: `FFA_SUCCESS_32`, w2 = count, w3 = 0; the RX buffer is untouched.
//! 4. No RX buffer mapped, or the caller still owns it → `BUSY`.
//! 5. count × descriptor size larger than the RX buffer → `NO_MEMORY`.
//! 6. The descriptors go to the start of the RX buffer (8 bytes each for v1.0,
//!    24 from v1.1; the UUID field is filled only when the query used the nil
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
//!   | tag 0 `[47:32]` | descriptor size 24 `[63:48]`, then up to five partitions
//!   from x3, three registers each: ID | contexts << 16 | properties << 32,
//!   UUID low, UUID high (UUID only for nil-UUID queries). Unused registers
//!   up to x17 are zero.

use crate::call::{Call, Reply};
use crate::config::{
    FaultConfig, PartitionInfoFault, EXTENDED_DESCRIPTOR_SIZE, HUGE_PARTITION_COUNT,
    WRONG_DESCRIPTOR_SIZE,
};
use crate::function_id::FFA_SUCCESS_64;
use crate::mailbox::Mailbox;
use crate::memory::NormalWorldMemory;
use crate::partition::{descriptor_size, DESCRIPTOR_SIZE_V1_1};
use crate::partition_table::PartitionTable;
use ffa_abi::Status;
use ffa_abi::Uuid;
use ffa_abi::Version;

/// Most partitions `FFA_PARTITION_INFO_GET_REGS` returns in one call (x3–x17).
pub(crate) const PARTITIONS_PER_REGISTER_CALL: usize = 5;

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
    let count = table.matching(uuid).count();
    if count == 0 {
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
    let size = descriptor_size(version);
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
    let mut descriptor = [0u8; EXTENDED_DESCRIPTOR_SIZE as usize];
    for (index, information) in table.matching(uuid).enumerate() {
        descriptor.fill(0);
        let information = if config.tf_a_el3_spmc {
            crate::tf_a_el3::as_described(information)
        } else {
            *information
        };
        information.encode_descriptor(version, uuid.is_nil(), &mut descriptor);
        let address = pair.receive_address + (index * stride) as u64;
        memory
            .write(address, &descriptor[..stride])
            .map_err(|_| Status::Aborted)?;
    }
    mailbox.hand_receive_buffer_to_caller();
    Ok((reported_count, reported_size))
}

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
    let last = count - 1;
    let current = last.min(start + PARTITIONS_PER_REGISTER_CALL - 1);
    let summary = last as u64 | (current as u64) << 16 | (DESCRIPTOR_SIZE_V1_1 as u64) << 48;
    let mut reply = Reply::ffa(FFA_SUCCESS_64)
        .with_extended_results()
        .with(2, summary);
    for (slot, information) in table
        .matching(uuid)
        .skip(start)
        .take(current - start + 1)
        .enumerate()
    {
        let [low, high] = if uuid.is_nil() {
            information.uuid().to_register_pair()
        } else {
            [0, 0]
        };
        let first = 3 + slot * 3;
        reply = reply
            .with(first, information.register_word(version))
            .with(first + 1, low)
            .with(first + 2, high);
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
