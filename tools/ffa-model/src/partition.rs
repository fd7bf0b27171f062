//! The secure partitions the model hosts, their properties and their information descriptors.
//!
//! | ID | UUID | contexts | state | direct messages | behaviour |
//! |---|---|---|---|---|---|
//! | 0x8001 | `fa791f17-febd-4861-81d0-4b5dae9cb9cb` | 4 | AArch64 | REQ 32/64, REQ2 | echoes the payload |
//! | 0x8002 | `88886b1c-15ad-4435-a3f8-e2919eacb5b7` | 1 | AArch32 | REQ 32 only | adds 1 (wrapping) to each 32-bit payload word |
//! | 0x8003 | `b4399eff-6a76-400b-bfa8-2c063889c6ee` | 1 | AArch64 | REQ 32/64, REQ2 | answers `FFA_INTERRUPT` then `FFA_YIELD` a configured number of times, then echoes |
//! | 0x8004 | `5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd` | 4 | AArch64 | REQ 32/64 | the notifier: notifications and indirect messages (`crate::notifier`) |
//! | 0x8005 | `09d90fb6-cd9b-41f4-9613-8aeffa5e310f` | 1 | AArch64 | REQ 32/64 | the scheduling partition: long preemptible work, yields with a timeout (`crate::scheduling`) |
//! | 0x8006 | `c2b67ad3-85fe-452b-870b-b8fef632eae3` | 4 | AArch64 | REQ 32/64 | the per-CPU partition: answers which execution context ran the request and that context's own count (`ffa_abi::test_services::per_cpu`) |
//! | 0x8010 | `17b862a4-1806-4faf-86b3-089a58353861` | 1 | AArch64 | REQ 32/64, REQ2 | the TPM service over FF-A (`crate::tpm`) |
//!
//! Answering as OP-TEE's S-EL1 SPMC ([`crate::Personality::OpTee`]), the
//! table is the one OP-TEE presents: OP-TEE itself first, as the logical
//! partition it runs as beside the SPMC, with the first secure ID that is
//! neither the SPMD's nor the SPMC's (0x8001; the SPMC is 0x8000), its UUID
//! `486178e0-e7f8-11e3-bc5e-0002a5d5c51b`, one context per core and the
//! properties `thread_spmc.c` gives it (direct requests both ways,
//! AArch64); then the partitions it hosts, in the same order, numbered
//! after it (0x8002 to 0x8007; the TPM keeps 0x8010). See
//! [`OP_TEE_PARTITIONS`] and `src/optee/`.
//!
//! A partition with one execution context (UP) runs vCPU 0 on whichever
//! core calls (Hafnium migrates it there); one with several (MP) runs
//! vCPU N on core N only: a direct request from core N runs its vCPU N
//! (none for a core at or beyond its count: `INVALID_PARAMETERS`), and
//! `FFA_RUN` from core N must name vCPU N. Each vCPU of an MP partition is
//! preempted and resumed on its own.
//!
//! Property bits (DEN0077A partition information descriptor): bit 0 direct
//! request receive, 1 direct request send, 2 indirect messaging, 3
//! notifications (v1.1), `[5:4]` ID type (v1.1), 6/7 VM created/destroyed messages,
//! 8 AArch64 execution state (v1.1), 9/10 `DIRECT_REQ2` receive/send (v1.2),
//! 11 live activation, 12 CPU rendezvous for live activation, 13 SMC64 CPU
//! cycle management ABIs (v1.3). Bits a version does not define are cleared
//! in the descriptors given to a caller of that version.
//!
//! Descriptors are 8 bytes for v1.0 callers, 24 from v1.1 (plus the UUID)
//! and 48 in v1.3's layout (plus the image UUID at 24, the partition's FF-A
//! version at 40 and 4 reserved bytes), which Hafnium gives every caller
//! from v1.1 on (see [`crate::Personality`]).

use ffa_abi::Uuid;
use ffa_abi::Version;

/// Partition property bits.
pub mod properties {
    /// Bit 0: receives direct requests (`FFA_MSG_SEND_DIRECT_REQ`).
    pub const DIRECT_REQUEST_RECEIVE: u32 = 1 << 0;
    /// Bit 1: sends direct requests.
    pub const DIRECT_REQUEST_SEND: u32 = 1 << 1;
    /// Bit 2: supports indirect messaging.
    pub const INDIRECT_MESSAGING: u32 = 1 << 2;
    /// Bit 3: supports notifications.
    pub const NOTIFICATIONS: u32 = 1 << 3;
    /// Bits `[5:4]`: partition ID type (v1.1); 0 = PE endpoint ID.
    pub const ID_TYPE_MASK: u32 = 0b11 << 4;
    /// Bit 6: wants VM-created messages.
    pub const VM_CREATED_MESSAGES: u32 = 1 << 6;
    /// Bit 7: wants VM-destroyed messages.
    pub const VM_DESTROYED_MESSAGES: u32 = 1 << 7;
    /// Bit 8: runs in AArch64 execution state (v1.1); clear = AArch32.
    pub const AARCH64_EXECUTION_STATE: u32 = 1 << 8;
    /// Bit 9: receives `FFA_MSG_SEND_DIRECT_REQ2` (v1.2).
    pub const DIRECT_REQUEST2_RECEIVE: u32 = 1 << 9;
    /// Bit 10: sends `FFA_MSG_SEND_DIRECT_REQ2` (v1.2).
    pub const DIRECT_REQUEST2_SEND: u32 = 1 << 10;

    /// Bits defined by FF-A v1.0: 0–2 (bit 3, notifications, came with v1.1;
    /// TF-A's EL3 SPMC masks v1.0 answers with 0x7 too).
    pub const DEFINED_IN_V1_0: u32 = 0b111;
    /// Bits defined by FF-A v1.1.
    pub const DEFINED_IN_V1_1: u32 = 0x1FF;
    /// Bits defined by FF-A v1.2.
    pub const DEFINED_IN_V1_2: u32 = 0x7FF;
    /// Bits defined by FF-A v1.3 (11 live activation, 12 CPU rendezvous,
    /// 13 SMC64 CPU cycle management ABIs).
    pub const DEFINED_IN_V1_3: u32 = 0x3FFF;
}

/// Size of a v1.0 partition information descriptor (ID, context count, properties).
pub const DESCRIPTOR_SIZE_V1_0: usize = 8;
/// Size of a v1.1 / v1.2 partition information descriptor (v1.0 fields plus the UUID).
pub const DESCRIPTOR_SIZE_V1_1: usize = 24;
/// Size of a v1.3 partition information descriptor (v1.1 fields, the image
/// UUID, the partition's FF-A version, 4 reserved bytes).
pub const DESCRIPTOR_SIZE_V1_3: usize = 48;

/// The FF-A version the hosted partitions implement (the v1.3 descriptor's
/// "partition FF-A version" field).
pub const PARTITION_FFA_VERSION: Version = Version::V1_2;

/// A hosted partition, as discovery reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition's FF-A ID.
    pub id: u16,
    /// The partition's UUID, bytes in standard order.
    pub uuid: [u8; 16],
    /// Number of execution contexts (vCPUs).
    pub execution_context_count: u16,
    /// Property bits as defined by v1.2 (see [`properties`]).
    pub properties: u32,
}

impl PartitionInfo {
    /// The UUID as a [`Uuid`].
    pub const fn uuid(&self) -> Uuid {
        Uuid::from_bytes(self.uuid)
    }

    /// Whether the partition sends and receives indirect messages.
    pub const fn indirect_messaging(&self) -> bool {
        self.properties & properties::INDIRECT_MESSAGING != 0
    }

    /// Whether the partition receives (and sends) notifications.
    pub const fn notifications(&self) -> bool {
        self.properties & properties::NOTIFICATIONS != 0
    }

    /// Whether the partition runs in AArch64 state.
    pub const fn is_aarch64(&self) -> bool {
        self.properties & properties::AARCH64_EXECUTION_STATE != 0
    }

    /// The properties as a caller of `version` sees them (undefined bits cleared).
    pub const fn properties_for(&self, version: Version) -> u32 {
        self.properties & defined_properties(version)
    }

    /// Encode the partition information descriptor for a caller of `version`
    /// into `destination` (8 bytes for v1.0, 24 from v1.1). The UUID is
    /// written only when `include_uuid` (the query used the nil UUID);
    /// otherwise that field is zero. Returns the number of bytes written.
    pub fn encode_descriptor(
        &self,
        version: Version,
        include_uuid: bool,
        destination: &mut [u8],
    ) -> usize {
        self.encode_descriptor_of_size(version, include_uuid, descriptor_size(version), destination)
    }

    /// Like [`PartitionInfo::encode_descriptor`], in the layout of `size`
    /// bytes: 8 (v1.0), 24 (v1.1, v1.2) or 48 (v1.3: the image UUID, nil
    /// here, and [`PARTITION_FFA_VERSION`]). Any other size writes the
    /// largest layout that fits and zeroes the rest.
    pub fn encode_descriptor_of_size(
        &self,
        version: Version,
        include_uuid: bool,
        size: usize,
        destination: &mut [u8],
    ) -> usize {
        let descriptor = &mut destination[..size];
        descriptor.fill(0);
        descriptor[0..2].copy_from_slice(&self.id.to_le_bytes());
        descriptor[2..4].copy_from_slice(&self.execution_context_count.to_le_bytes());
        descriptor[4..8].copy_from_slice(&self.properties_for(version).to_le_bytes());
        if size >= DESCRIPTOR_SIZE_V1_1 && include_uuid {
            descriptor[8..24].copy_from_slice(&self.uuid);
        }
        if size >= DESCRIPTOR_SIZE_V1_3 {
            descriptor[40..44].copy_from_slice(&PARTITION_FFA_VERSION.raw().to_le_bytes());
        }
        size
    }

    /// The registers of this partition in `FFA_PARTITION_INFO_GET_REGS` with
    /// descriptors of `size` bytes (24 or 48): the descriptor's bytes as
    /// little-endian 64-bit words, `size / 8` of them (the rest of the array zero).
    pub fn descriptor_registers(
        &self,
        version: Version,
        include_uuid: bool,
        size: usize,
    ) -> [u64; 6] {
        let mut bytes = [0u8; DESCRIPTOR_SIZE_V1_3];
        let size = size.min(DESCRIPTOR_SIZE_V1_3);
        self.encode_descriptor_of_size(version, include_uuid, size, &mut bytes);
        core::array::from_fn(|index| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
            u64::from_le_bytes(word)
        })
    }

    /// The first register of this partition in `FFA_PARTITION_INFO_GET_REGS`:
    /// ID `[15:0]`, execution context count `[31:16]`, properties `[63:32]`.
    pub const fn register_word(&self, version: Version) -> u64 {
        self.id as u64
            | (self.execution_context_count as u64) << 16
            | (self.properties_for(version) as u64) << 32
    }
}

/// The property bits a caller of `version` may see.
pub const fn defined_properties(version: Version) -> u32 {
    if version.major() == 1 && version.minor() == 0 {
        properties::DEFINED_IN_V1_0
    } else if version.major() == 1 && version.minor() == 1 {
        properties::DEFINED_IN_V1_1
    } else if version.major() == 1 && version.minor() == 2 {
        properties::DEFINED_IN_V1_2
    } else {
        properties::DEFINED_IN_V1_3
    }
}

/// The descriptor size the specification gives a caller of `version`
/// (what [`crate::Personality::Specification`] answers).
pub const fn descriptor_size(version: Version) -> usize {
    if version.major() == 1 && version.minor() == 0 {
        DESCRIPTOR_SIZE_V1_0
    } else if version.major() == 1 && version.minor() < 3 {
        DESCRIPTOR_SIZE_V1_1
    } else {
        DESCRIPTOR_SIZE_V1_3
    }
}

const fn uuid_constant(text: &str) -> [u8; 16] {
    match Uuid::parse(text) {
        Some(uuid) => *uuid.as_bytes(),
        None => panic!("invalid UUID constant"),
    }
}

/// ID of the echo partition.
pub const ECHO_PARTITION_ID: u16 = 0x8001;
/// ID of the AArch32-only partition.
pub const AARCH32_PARTITION_ID: u16 = 0x8002;
/// ID of the partition that gets preempted (`FFA_INTERRUPT` / `FFA_YIELD`).
pub const INTERRUPTING_PARTITION_ID: u16 = 0x8003;
/// ID of the notifier partition (notifications and indirect messages).
pub const NOTIFIER_PARTITION_ID: u16 = 0x8004;
/// ID of the scheduling partition (preemptible work, yields with a timeout).
pub const SCHEDULING_PARTITION_ID: u16 = 0x8005;
/// ID of the per-CPU partition (one execution context per core).
pub const PER_CPU_PARTITION_ID: u16 = 0x8006;

/// UUID of the echo partition: `fa791f17-febd-4861-81d0-4b5dae9cb9cb`.
pub const ECHO_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("fa791f17-febd-4861-81d0-4b5dae9cb9cb"));
/// UUID of the AArch32-only partition: `88886b1c-15ad-4435-a3f8-e2919eacb5b7`.
pub const AARCH32_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("88886b1c-15ad-4435-a3f8-e2919eacb5b7"));
/// UUID of the interrupting partition: `b4399eff-6a76-400b-bfa8-2c063889c6ee`.
pub const INTERRUPTING_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("b4399eff-6a76-400b-bfa8-2c063889c6ee"));

/// UUID of the notifier partition: `5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd`.
pub const NOTIFIER_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd"));
/// UUID of the scheduling partition: `09d90fb6-cd9b-41f4-9613-8aeffa5e310f`.
pub const SCHEDULING_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("09d90fb6-cd9b-41f4-9613-8aeffa5e310f"));

/// UUID of the per-CPU partition: `c2b67ad3-85fe-452b-870b-b8fef632eae3`.
pub const PER_CPU_PARTITION_UUID: Uuid =
    Uuid::from_bytes(uuid_constant("c2b67ad3-85fe-452b-870b-b8fef632eae3"));

/// Number of hosted partitions.
pub const PARTITION_COUNT: usize = 7;
/// The most partitions any personality's table has (OP-TEE's: itself and
/// the hosted ones).
pub const MAXIMUM_PARTITION_COUNT: usize = PARTITION_COUNT + 1;

/// OP-TEE's ID as the S-EL1 SPMC presents it: the first secure ID after the SPMC's.
pub const OPTEE_PARTITION_ID: u16 = 0x8001;
/// OP-TEE's contexts: one per core (`CFG_TEE_CORE_NB_CORE`; 4 on QEMU's virt).
pub const OPTEE_CONTEXTS: u16 = 4;

/// Most execution contexts a hosted partition has (the MP ones have one
/// per core of a 4-core machine).
pub const MAXIMUM_EXECUTION_CONTEXTS: usize = 4;

/// The hosted partitions, in the order discovery reports them.
pub const HOSTED_PARTITIONS: [PartitionInfo; PARTITION_COUNT] = [
    PartitionInfo {
        id: ECHO_PARTITION_ID,
        uuid: *ECHO_PARTITION_UUID.as_bytes(),
        execution_context_count: 4,
        properties: properties::DIRECT_REQUEST_RECEIVE
            | properties::AARCH64_EXECUTION_STATE
            | properties::DIRECT_REQUEST2_RECEIVE,
    },
    PartitionInfo {
        id: AARCH32_PARTITION_ID,
        uuid: *AARCH32_PARTITION_UUID.as_bytes(),
        execution_context_count: 1,
        properties: properties::DIRECT_REQUEST_RECEIVE,
    },
    PartitionInfo {
        id: INTERRUPTING_PARTITION_ID,
        uuid: *INTERRUPTING_PARTITION_UUID.as_bytes(),
        execution_context_count: 1,
        properties: properties::DIRECT_REQUEST_RECEIVE
            | properties::AARCH64_EXECUTION_STATE
            | properties::DIRECT_REQUEST2_RECEIVE,
    },
    PartitionInfo {
        id: NOTIFIER_PARTITION_ID,
        uuid: *NOTIFIER_PARTITION_UUID.as_bytes(),
        execution_context_count: 4,
        properties: properties::DIRECT_REQUEST_RECEIVE
            | properties::INDIRECT_MESSAGING
            | properties::NOTIFICATIONS
            | properties::AARCH64_EXECUTION_STATE,
    },
    PartitionInfo {
        id: SCHEDULING_PARTITION_ID,
        uuid: *SCHEDULING_PARTITION_UUID.as_bytes(),
        execution_context_count: 1,
        properties: properties::DIRECT_REQUEST_RECEIVE | properties::AARCH64_EXECUTION_STATE,
    },
    PartitionInfo {
        id: PER_CPU_PARTITION_ID,
        uuid: *PER_CPU_PARTITION_UUID.as_bytes(),
        execution_context_count: MAXIMUM_EXECUTION_CONTEXTS as u16,
        properties: properties::DIRECT_REQUEST_RECEIVE | properties::AARCH64_EXECUTION_STATE,
    },
    crate::tpm::TPM_PARTITION,
];

/// OP-TEE as a partition: what OP-TEE's S-EL1 SPMC reports for itself.
pub const OPTEE_PARTITION: PartitionInfo = PartitionInfo {
    id: OPTEE_PARTITION_ID,
    uuid: *ffa_abi::optee::OPTEE_UUID.as_bytes(),
    execution_context_count: OPTEE_CONTEXTS,
    properties: properties::DIRECT_REQUEST_RECEIVE
        | properties::DIRECT_REQUEST_SEND
        | properties::AARCH64_EXECUTION_STATE,
};

/// The table OP-TEE's S-EL1 SPMC presents: itself, then the hosted
/// partitions, numbered after it.
pub const OP_TEE_PARTITIONS: [PartitionInfo; MAXIMUM_PARTITION_COUNT] = [
    OPTEE_PARTITION,
    renumbered(HOSTED_PARTITIONS[0], 0x8002),
    renumbered(HOSTED_PARTITIONS[1], 0x8003),
    renumbered(HOSTED_PARTITIONS[2], 0x8004),
    renumbered(HOSTED_PARTITIONS[3], 0x8005),
    renumbered(HOSTED_PARTITIONS[4], 0x8006),
    renumbered(HOSTED_PARTITIONS[5], 0x8007),
    // The TPM keeps its ID (0x8010): no other partition has it.
    HOSTED_PARTITIONS[6],
];

const fn renumbered(partition: PartitionInfo, id: u16) -> PartitionInfo {
    PartitionInfo { id, ..partition }
}

/// The partitions a secure world answering as `personality` hosts, in
/// discovery order.
pub const fn partitions_of(personality: crate::Personality) -> &'static [PartitionInfo] {
    match personality {
        crate::Personality::OpTee => &OP_TEE_PARTITIONS,
        _ => &HOSTED_PARTITIONS,
    }
}

/// The echo partition's ID under `personality`.
pub const fn echo_partition_id(personality: crate::Personality) -> u16 {
    match personality {
        crate::Personality::OpTee => OP_TEE_PARTITIONS[1].id,
        _ => ECHO_PARTITION_ID,
    }
}

/// The notifier's ID under `personality` (it sends notifications and
/// messages as this ID).
pub const fn notifier_partition_id(personality: crate::Personality) -> u16 {
    match personality {
        crate::Personality::OpTee => OP_TEE_PARTITIONS[4].id,
        _ => NOTIFIER_PARTITION_ID,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_tee_comes_first_under_its_own_spmc() {
        let table = partitions_of(crate::Personality::OpTee);
        assert_eq!(table[0].id, 0x8001);
        assert_eq!(table[0].uuid(), ffa_abi::optee::OPTEE_UUID);
        assert_eq!(table[0].properties, 0x103);
        let ids: [u16; 8] = core::array::from_fn(|index| table[index].id);
        assert_eq!(
            ids,
            [0x8001, 0x8002, 0x8003, 0x8004, 0x8005, 0x8006, 0x8007, 0x8010]
        );
        assert_eq!(table[1].uuid(), ECHO_PARTITION_UUID);
        assert_eq!(table[4].uuid(), NOTIFIER_PARTITION_UUID);
        assert_eq!(echo_partition_id(crate::Personality::OpTee), 0x8002);
        assert_eq!(notifier_partition_id(crate::Personality::OpTee), 0x8005);
        assert_eq!(
            notifier_partition_id(crate::Personality::Hafnium),
            NOTIFIER_PARTITION_ID
        );
        assert_eq!(
            partitions_of(crate::Personality::Hafnium),
            &HOSTED_PARTITIONS
        );
    }

    #[test]
    fn descriptors_follow_the_version_layout() {
        let echo = HOSTED_PARTITIONS[0];
        let mut buffer = [0xAAu8; 32];
        assert_eq!(echo.encode_descriptor(Version::V1_0, true, &mut buffer), 8);
        assert_eq!(&buffer[..8], &[0x01, 0x80, 4, 0, 0x01, 0, 0, 0]);
        assert_eq!(buffer[8], 0xAA, "v1.0 descriptors are 8 bytes");

        assert_eq!(echo.encode_descriptor(Version::V1_1, true, &mut buffer), 24);
        assert_eq!(&buffer[4..8], &0x101u32.to_le_bytes());
        assert_eq!(&buffer[8..24], &echo.uuid);

        assert_eq!(
            echo.encode_descriptor(Version::V1_2, false, &mut buffer),
            24
        );
        assert_eq!(&buffer[4..8], &0x301u32.to_le_bytes());
        assert_eq!(&buffer[8..24], &[0u8; 16]);
    }

    #[test]
    fn register_word_packs_fields() {
        let partition = HOSTED_PARTITIONS[2];
        assert_eq!(
            partition.register_word(Version::V1_2),
            0x0000_0301_0001_8003
        );
    }

    #[test]
    fn no_partition_has_more_contexts_than_the_table_keeps() {
        for partition in HOSTED_PARTITIONS {
            assert!((1..=MAXIMUM_EXECUTION_CONTEXTS as u16)
                .contains(&partition.execution_context_count));
        }
    }

    #[test]
    fn uuids_are_distinct_and_not_nil() {
        for (index, partition) in HOSTED_PARTITIONS.iter().enumerate() {
            assert!(!partition.uuid().is_nil());
            for other in &HOSTED_PARTITIONS[index + 1..] {
                assert_ne!(partition.uuid, other.uuid);
                assert_ne!(partition.id, other.id);
            }
        }
    }
}
