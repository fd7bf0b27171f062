//! Partition properties and the partition information descriptor layouts
//! (the partition's ID is the shared [`ffa_abi::PartitionId`]).
//!
//! A descriptor is 8 bytes at v1.0 (ID, execution-context count,
//! properties), 24 bytes from v1.1 (plus the UUID) and 48 bytes in v1.3's
//! layout (plus the image UUID and the partition's FF-A version), which
//! Hafnium gives every caller from v1.1 on. The callee reports the size it
//! uses; this capsule reads the first 24 bytes of each descriptor and steps
//! by the reported size. The meaning of the property bits grew with the
//! version, so they are read at a [`PropertiesRevision`]: the negotiated
//! version's, or v1.3's when the callee used the v1.3 layout.
//!
//! Property bits (DEN0077A v1.3 table 6.2; the arm-ffa crate's `ffa_v1_3`
//! transcription, Hafnium's `FFA_PARTITION_LIVE_ACTIVATION` and
//! `FFA_PARTITION_CPU_RENDEZVOUS` agree):
//!
//! | bits | meaning | since |
//! |---|---|---|
//! | 0, 1 | receives, sends `FFA_MSG_SEND_DIRECT_REQ` | v1.0 |
//! | 2 | sends and receives indirect messages | v1.0 |
//! | 3 | receives notifications | v1.1 |
//! | 5:4 | ID type: 0 PE endpoint, 1 SEPID of an independent peripheral device, 2 SEPID of a dependent peripheral device, 3 auxiliary ID | v1.1 |
//! | 6, 7 | to be told of each VM created, destroyed by the hypervisor | v1.1 |
//! | 8 | AArch64 (else AArch32) | v1.1 |
//! | 9, 10 | receives, sends `FFA_MSG_SEND_DIRECT_REQ2` | v1.2 |
//! | 11 | can undergo live activation | v1.3 |
//! | 12 | needs a CPU rendezvous to undergo live activation | v1.3 |
//! | 13 | implements the SMC64 CPU cycle management ABIs (AArch64 only) | v1.3 |
//!
//! Bits 3:0, 7:6 and 12:9 describe a PE endpoint only; for a SEPID or an
//! auxiliary ID they are reserved, and so not read. The execution-context
//! field holds the context count of a PE endpoint and, for a dependent
//! peripheral device, the ID of its proxy partition ([`PartitionKind`]).
//!
//! ```
//! use capsule_ffa::partition::{ExecutionState, PartitionProperties, PropertiesRevision};
//!
//! let properties = PartitionProperties::new(0x0000_0701, PropertiesRevision::V1_2);
//! assert!(properties.receives_direct_requests());
//! assert!(properties.receives_direct_requests_2());
//! assert_eq!(properties.execution_state(), ExecutionState::AArch64);
//! // The same bits mean nothing at v1.0: bit 8 and up did not exist yet.
//! let old = PartitionProperties::new(0x0000_0701, PropertiesRevision::V1_0);
//! assert!(!old.receives_direct_requests_2());
//! ```

use crate::error::ClientError;
use crate::version::SupportedVersion;
use ffa_abi::{PartitionId, Uuid};

/// Which instruction set a partition's execution contexts run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ExecutionState {
    /// AArch64: 64-bit direct requests are allowed.
    AArch64,
    /// AArch32: only 32-bit direct requests.
    AArch32,
    /// Not reported (v1.0); treated as AArch64, as Linux does.
    Unreported,
}

/// What a partition ID names (properties bits `[5:4]`, v1.1+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PartitionIdType {
    /// 0: a PE endpoint (a partition that runs).
    PeEndpoint,
    /// 1: a SEPID (stream endpoint ID) of an independent peripheral device.
    IndependentPeripheral,
    /// 2: a SEPID of a dependent peripheral device, reached through a proxy partition.
    DependentPeripheral,
    /// 3: an auxiliary ID.
    Auxiliary,
    /// v1.0: not reported (a PE endpoint).
    Unreported,
}

/// The revision of the property table a descriptor is read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, defmt::Format)]
pub enum PropertiesRevision {
    /// FF-A v1.0: bits 0–2.
    V1_0,
    /// FF-A v1.1: bits 0–8.
    V1_1,
    /// FF-A v1.2: bits 0–10.
    V1_2,
    /// FF-A v1.3: bits 0–13.
    V1_3,
}

impl PropertiesRevision {
    /// The revision for a negotiated `version` whose callee reported
    /// descriptors of `descriptor_size` bytes: v1.3's when the callee used
    /// v1.3's 48-byte layout (from v1.1 on), else the negotiated version's.
    pub const fn of(version: SupportedVersion, descriptor_size: usize) -> PropertiesRevision {
        match version {
            SupportedVersion::V1_0 => PropertiesRevision::V1_0,
            _ if descriptor_size >= DescriptorLayout::V1_3_SIZE => PropertiesRevision::V1_3,
            SupportedVersion::V1_1 => PropertiesRevision::V1_1,
            SupportedVersion::V1_2 => PropertiesRevision::V1_2,
        }
    }
}

impl From<SupportedVersion> for PropertiesRevision {
    fn from(version: SupportedVersion) -> PropertiesRevision {
        match version {
            SupportedVersion::V1_0 => PropertiesRevision::V1_0,
            SupportedVersion::V1_1 => PropertiesRevision::V1_1,
            SupportedVersion::V1_2 => PropertiesRevision::V1_2,
        }
    }
}

/// The properties word of a partition descriptor, read at a revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PartitionProperties {
    raw: u32,
    revision: PropertiesRevision,
}

impl PartitionProperties {
    /// Properties word `raw` as defined at `revision`.
    pub const fn new(raw: u32, revision: PropertiesRevision) -> PartitionProperties {
        PartitionProperties { raw, revision }
    }

    /// The raw word.
    pub const fn raw(&self) -> u32 {
        self.raw
    }

    /// The revision the word is read at.
    pub const fn revision(&self) -> PropertiesRevision {
        self.revision
    }

    const fn bit(&self, bit: u32) -> bool {
        self.raw & (1 << bit) != 0
    }

    const fn since(&self, revision: PropertiesRevision) -> bool {
        self.revision as u8 >= revision as u8
    }

    /// A bit that describes a PE endpoint only, defined since `revision`.
    const fn endpoint_bit(&self, bit: u32, revision: PropertiesRevision) -> bool {
        self.since(revision) && self.describes_an_endpoint() && self.bit(bit)
    }

    /// Whether the ID is a PE endpoint (always so at v1.0).
    pub const fn describes_an_endpoint(&self) -> bool {
        matches!(
            self.id_type(),
            PartitionIdType::PeEndpoint | PartitionIdType::Unreported
        )
    }

    /// Bit 0: receives `FFA_MSG_SEND_DIRECT_REQ`.
    pub const fn receives_direct_requests(&self) -> bool {
        self.endpoint_bit(0, PropertiesRevision::V1_0)
    }

    /// Bit 1: sends `FFA_MSG_SEND_DIRECT_REQ`.
    pub const fn sends_direct_requests(&self) -> bool {
        self.endpoint_bit(1, PropertiesRevision::V1_0)
    }

    /// Bit 2: supports indirect messaging.
    pub const fn indirect_messaging(&self) -> bool {
        self.endpoint_bit(2, PropertiesRevision::V1_0)
    }

    /// Bit 3 (v1.1+): receives notifications.
    pub const fn notifications(&self) -> bool {
        self.endpoint_bit(3, PropertiesRevision::V1_1)
    }

    /// Bits `[5:4]` (v1.1+): what the ID names.
    pub const fn id_type(&self) -> PartitionIdType {
        if !self.since(PropertiesRevision::V1_1) {
            return PartitionIdType::Unreported;
        }
        match (self.raw >> 4) & 0b11 {
            0 => PartitionIdType::PeEndpoint,
            1 => PartitionIdType::IndependentPeripheral,
            2 => PartitionIdType::DependentPeripheral,
            _ => PartitionIdType::Auxiliary,
        }
    }

    /// Bit 6 (v1.1+): the partition is to be told of each VM the hypervisor creates.
    pub const fn told_of_vm_creation(&self) -> bool {
        self.endpoint_bit(6, PropertiesRevision::V1_1)
    }

    /// Bit 7 (v1.1+): the partition is to be told of each VM the hypervisor destroys.
    pub const fn told_of_vm_destruction(&self) -> bool {
        self.endpoint_bit(7, PropertiesRevision::V1_1)
    }

    /// Bit 8 (v1.1+): AArch64 or AArch32 execution state.
    pub const fn execution_state(&self) -> ExecutionState {
        if !self.since(PropertiesRevision::V1_1) {
            ExecutionState::Unreported
        } else if self.bit(8) {
            ExecutionState::AArch64
        } else {
            ExecutionState::AArch32
        }
    }

    /// Whether 64-bit direct requests may be sent to the partition.
    pub const fn accepts_64_bit_requests(&self) -> bool {
        !matches!(self.execution_state(), ExecutionState::AArch32)
    }

    /// Bit 9 (v1.2+): receives `FFA_MSG_SEND_DIRECT_REQ2`.
    pub const fn receives_direct_requests_2(&self) -> bool {
        self.endpoint_bit(9, PropertiesRevision::V1_2)
    }

    /// Bit 10 (v1.2+): sends `FFA_MSG_SEND_DIRECT_REQ2`.
    pub const fn sends_direct_requests_2(&self) -> bool {
        self.endpoint_bit(10, PropertiesRevision::V1_2)
    }

    /// Bit 11 (v1.3+): the partition can undergo live activation.
    pub const fn supports_live_activation(&self) -> bool {
        self.endpoint_bit(11, PropertiesRevision::V1_3)
    }

    /// Bit 12 (v1.3+): live activation needs a rendezvous of every CPU.
    pub const fn requires_cpu_rendezvous_for_live_activation(&self) -> bool {
        self.endpoint_bit(12, PropertiesRevision::V1_3)
    }

    /// Bit 13 (v1.3+, AArch64 partitions): implements the SMC64 forms of
    /// the CPU cycle management ABIs.
    pub const fn supports_smc64_cpu_cycle_management(&self) -> bool {
        self.since(PropertiesRevision::V1_3)
            && matches!(self.execution_state(), ExecutionState::AArch64)
            && self.bit(13)
    }
}

/// What a partition ID names, with what the descriptor says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PartitionKind {
    /// A PE endpoint: a partition that runs, on this many execution contexts.
    Endpoint {
        /// Number of execution contexts (vCPUs).
        execution_contexts: u16,
    },
    /// A SEPID of an independent peripheral device.
    IndependentPeripheral,
    /// A SEPID of a dependent peripheral device, reached through a proxy partition.
    DependentPeripheral {
        /// The proxy partition's ID (the descriptor's execution-context field).
        proxy: PartitionId,
    },
    /// An auxiliary ID.
    Auxiliary,
}

impl PartitionKind {
    /// The kind `properties` describe, with the descriptor's 16-bit
    /// execution-context field `field`.
    pub const fn of(properties: &PartitionProperties, field: u16) -> PartitionKind {
        match properties.id_type() {
            PartitionIdType::PeEndpoint | PartitionIdType::Unreported => PartitionKind::Endpoint {
                execution_contexts: field,
            },
            PartitionIdType::IndependentPeripheral => PartitionKind::IndependentPeripheral,
            PartitionIdType::DependentPeripheral => PartitionKind::DependentPeripheral {
                proxy: PartitionId::new(field),
            },
            PartitionIdType::Auxiliary => PartitionKind::Auxiliary,
        }
    }
}

/// One discovered partition (one descriptor; a partition with several UUIDs has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PartitionInfo {
    /// The partition's (or stream's, or auxiliary) ID.
    pub id: PartitionId,
    /// What the ID names: a PE endpoint with its execution contexts, or a SEPID.
    pub kind: PartitionKind,
    /// Properties, read at the descriptor's revision.
    pub properties: PartitionProperties,
    /// The UUID: nil at v1.0, where descriptors carry none.
    pub uuid: Uuid,
}

impl PartitionInfo {
    /// The number of execution contexts, for a PE endpoint.
    pub const fn execution_contexts(&self) -> Option<u16> {
        match self.kind {
            PartitionKind::Endpoint { execution_contexts } => Some(execution_contexts),
            _ => None,
        }
    }
}

/// Partition information descriptor layout for a negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct DescriptorLayout {
    version: SupportedVersion,
}

impl DescriptorLayout {
    /// The bytes of each descriptor this capsule reads (ID, contexts,
    /// properties, UUID); the rest of a larger descriptor is not read.
    pub const MAXIMUM_SIZE: usize = 24;
    /// The smallest descriptor with the fields every version has.
    pub const MINIMUM_SIZE: usize = 8;
    /// The size of v1.3's descriptor (with the image UUID and the partition's version).
    pub const V1_3_SIZE: usize = 48;
    /// Registers `FFA_PARTITION_INFO_GET_REGS` carries descriptors in (x3–x17).
    pub const DESCRIPTOR_REGISTERS: usize = 15;

    /// The layout at `version`.
    pub const fn for_version(version: SupportedVersion) -> DescriptorLayout {
        DescriptorLayout { version }
    }

    /// Size of this capsule's descriptor at this version (8, or 24 from v1.1).
    pub const fn size(&self) -> usize {
        match self.version {
            SupportedVersion::V1_0 => 8,
            _ => 24,
        }
    }

    /// Checks the size the callee reported (w3) and returns the stride and the number of
    /// bytes to copy from each descriptor: the smaller of the callee's size and ours.
    /// A size below this version's descriptor (24 bytes from v1.1) cannot hold its
    /// fields and is refused; a larger one (a later version) is read in part.
    pub fn accept_reported_size(&self, reported: u32) -> Result<(usize, usize), ClientError> {
        let reported_size = reported as usize;
        if reported_size < self.size() || reported_size > 0x1_0000 {
            defmt::error!(
                "ffa: partition descriptor size {=u32} is unusable",
                reported
            );
            return Err(ClientError::DescriptorSize(reported));
        }
        Ok((reported_size, reported_size.min(self.size())))
    }

    /// Checks the descriptor size `FFA_PARTITION_INFO_GET_REGS` reported
    /// (x2\[63:48\]): whole registers, at least the 24 bytes this capsule
    /// reads, and at least one descriptor per call (at most 120 bytes).
    /// Returns the registers each descriptor takes.
    pub fn accept_register_size(size: u16) -> Result<usize, ClientError> {
        let bytes = usize::from(size);
        if bytes < Self::MAXIMUM_SIZE
            || !bytes.is_multiple_of(8)
            || bytes / 8 > Self::DESCRIPTOR_REGISTERS
        {
            defmt::error!(
                "ffa: PARTITION_INFO_GET_REGS descriptor size {=u16} is unusable (whole registers, 24 to 120 bytes)",
                size
            );
            return Err(ClientError::DescriptorSize(u32::from(size)));
        }
        Ok(bytes / 8)
    }

    /// Decodes one descriptor of `descriptor_size` bytes (as the callee
    /// reported it) from its first `bytes.len()` bytes (at most 24 are
    /// read; missing fields are zero, so a short v1.1 descriptor has a nil UUID).
    pub fn decode(&self, bytes: &[u8], descriptor_size: usize) -> PartitionInfo {
        let mut full = [0u8; Self::MAXIMUM_SIZE];
        let copied = bytes.len().min(self.size());
        full[..copied].copy_from_slice(&bytes[..copied]);
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&full[8..24]);
        let properties = PartitionProperties::new(
            u32::from_le_bytes([full[4], full[5], full[6], full[7]]),
            PropertiesRevision::of(self.version, descriptor_size),
        );
        PartitionInfo {
            id: PartitionId::new(u16::from_le_bytes([full[0], full[1]])),
            kind: PartitionKind::of(&properties, u16::from_le_bytes([full[2], full[3]])),
            properties,
            uuid: Uuid::from_bytes(uuid),
        }
    }

    /// Decodes the first three registers of a descriptor of
    /// `descriptor_size` bytes from `FFA_PARTITION_INFO_GET_REGS` (its
    /// first 24 bytes: ID, contexts and properties; the UUID).
    pub fn decode_registers(&self, registers: [u64; 3], descriptor_size: usize) -> PartitionInfo {
        let mut bytes = [0u8; Self::MAXIMUM_SIZE];
        for (index, register) in registers.iter().enumerate() {
            bytes[index * 8..index * 8 + 8].copy_from_slice(&register.to_le_bytes());
        }
        self.decode(&bytes, descriptor_size)
    }
}
