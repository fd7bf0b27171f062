//! Partition properties and the partition information descriptor layouts
//! (the partition's ID is the shared [`ffa_abi::PartitionId`]).
//!
//! A descriptor is 8 bytes at v1.0 (ID, execution-context count,
//! properties) and 24 bytes from v1.1 (plus the UUID). The meaning of the
//! property bits also grew with the version, so decoding always takes the
//! [`NegotiatedVersion`](crate::version::NegotiatedVersion)'s layout.
//!
//! ```
//! use capsule_ffa::partition::{ExecutionState, PartitionProperties};
//! use capsule_ffa::version::SupportedVersion;
//!
//! let properties = PartitionProperties::new(0x0000_0701, SupportedVersion::V1_2);
//! assert!(properties.receives_direct_requests());
//! assert!(properties.receives_direct_requests_2());
//! assert_eq!(properties.execution_state(), ExecutionState::AArch64);
//! // The same bits mean nothing at v1.0: bit 8 and up did not exist yet.
//! let old = PartitionProperties::new(0x0000_0701, SupportedVersion::V1_0);
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

/// How the partition ID relates to the partition (bits `[5:4]`, v1.1+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PartitionIdType {
    /// 0: the ID names a PE endpoint.
    PeEndpoint,
    /// 1: the ID names a secure-EL0 partition managed by the SPMC.
    SepidIndependent,
    /// 2: the ID is a SEPID tied to a secure partition's stream ID.
    SepidDependent,
    /// 3: auxiliary ID.
    Auxiliary,
    /// v1.0: not reported.
    Unreported,
}

/// The properties word of a partition descriptor, read according to the negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PartitionProperties {
    raw: u32,
    version: SupportedVersion,
}

impl PartitionProperties {
    /// Properties word `raw` as defined at `version`.
    pub const fn new(raw: u32, version: SupportedVersion) -> PartitionProperties {
        PartitionProperties { raw, version }
    }

    /// The raw word.
    pub const fn raw(&self) -> u32 {
        self.raw
    }

    const fn bit(&self, bit: u32) -> bool {
        self.raw & (1 << bit) != 0
    }

    const fn since_1_1(&self) -> bool {
        !matches!(self.version, SupportedVersion::V1_0)
    }

    const fn since_1_2(&self) -> bool {
        matches!(self.version, SupportedVersion::V1_2)
    }

    /// Bit 0: receives `FFA_MSG_SEND_DIRECT_REQ`.
    pub const fn receives_direct_requests(&self) -> bool {
        self.bit(0)
    }

    /// Bit 1: sends `FFA_MSG_SEND_DIRECT_REQ`.
    pub const fn sends_direct_requests(&self) -> bool {
        self.bit(1)
    }

    /// Bit 2: supports indirect messaging.
    pub const fn indirect_messaging(&self) -> bool {
        self.bit(2)
    }

    /// Bit 3: supports notifications.
    pub const fn notifications(&self) -> bool {
        self.bit(3)
    }

    /// Bits `[5:4]` (v1.1+): the partition ID type.
    pub const fn id_type(&self) -> PartitionIdType {
        if !self.since_1_1() {
            return PartitionIdType::Unreported;
        }
        match (self.raw >> 4) & 0b11 {
            0 => PartitionIdType::PeEndpoint,
            1 => PartitionIdType::SepidIndependent,
            2 => PartitionIdType::SepidDependent,
            _ => PartitionIdType::Auxiliary,
        }
    }

    /// Bit 8 (v1.1+): AArch64 or AArch32 execution state.
    pub const fn execution_state(&self) -> ExecutionState {
        if !self.since_1_1() {
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

    /// Bit 9 (v1.2): receives `FFA_MSG_SEND_DIRECT_REQ2`.
    pub const fn receives_direct_requests_2(&self) -> bool {
        self.since_1_2() && self.bit(9)
    }

    /// Bit 10 (v1.2): sends `FFA_MSG_SEND_DIRECT_REQ2`.
    pub const fn sends_direct_requests_2(&self) -> bool {
        self.since_1_2() && self.bit(10)
    }
}

/// One discovered partition (one descriptor; a partition with several UUIDs has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PartitionInfo {
    /// The partition's endpoint ID.
    pub id: PartitionId,
    /// Number of execution contexts (vCPUs).
    pub execution_contexts: u16,
    /// Properties, read at the negotiated version.
    pub properties: PartitionProperties,
    /// The UUID: nil at v1.0, where descriptors carry none.
    pub uuid: Uuid,
}

/// Partition information descriptor layout for a negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct DescriptorLayout {
    version: SupportedVersion,
}

impl DescriptorLayout {
    /// The largest descriptor this capsule reads (v1.1+).
    pub const MAXIMUM_SIZE: usize = 24;
    /// The smallest descriptor with the fields every version has.
    pub const MINIMUM_SIZE: usize = 8;

    /// The layout at `version`.
    pub const fn for_version(version: SupportedVersion) -> DescriptorLayout {
        DescriptorLayout { version }
    }

    /// Size of this capsule's descriptor at this version.
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

    /// Decodes one descriptor from its first `bytes.len()` bytes (at most 24; missing
    /// fields are zero, so a short v1.1 descriptor has a nil UUID).
    pub fn decode(&self, bytes: &[u8]) -> PartitionInfo {
        let mut full = [0u8; Self::MAXIMUM_SIZE];
        let copied = bytes.len().min(self.size());
        full[..copied].copy_from_slice(&bytes[..copied]);
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&full[8..24]);
        PartitionInfo {
            id: PartitionId::new(u16::from_le_bytes([full[0], full[1]])),
            execution_contexts: u16::from_le_bytes([full[2], full[3]]),
            properties: PartitionProperties::new(
                u32::from_le_bytes([full[4], full[5], full[6], full[7]]),
                self.version,
            ),
            uuid: Uuid::from_bytes(uuid),
        }
    }

    /// Decodes the three registers `FFA_PARTITION_INFO_GET_REGS` uses per partition.
    pub fn decode_registers(&self, registers: [u64; 3]) -> PartitionInfo {
        PartitionInfo {
            id: PartitionId::new(registers[0] as u16),
            execution_contexts: (registers[0] >> 16) as u16,
            properties: PartitionProperties::new((registers[0] >> 32) as u32, self.version),
            uuid: Uuid::from_register_pair([registers[1], registers[2]]),
        }
    }
}
