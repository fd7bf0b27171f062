//! Fault-injection configuration and its fixed-size serialised form (the "blob").
//!
//! Blob layout, [`FaultConfig::BLOB_SIZE`] = 64 bytes, all integers little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"FFAM"` |
//! | 4 | 2 | format version, currently 5 |
//! | 6 | 2 | blob size (64) |
//! | 8 | 2 | SPMC major version |
//! | 10 | 2 | SPMC minor version |
//! | 12 | 4 | flags: bit 0 `ffa_absent`, 1 `deny_rxtx_map`, 2 `wrong_responder`, 3 `trace`, 4 `enter_normal_world_at_el1`; other bits zero |
//! | 16 | 4 | `not_ready_calls` |
//! | 20 | 8 | `not_ready_microseconds` |
//! | 28 | 4 | `not_ready_error` as its FF-A error code (i32: -10 `NOT_READY` or -4 `BUSY`) |
//! | 32 | 4 | `partition_info_fault` (0 none, 1 huge count, 2 wrong descriptor size, 3 extended descriptor size) |
//! | 36 | 4 | `busy_storm` |
//! | 40 | 4 | `retry_storm` |
//! | 44 | 4 | `interrupt_count` |
//! | 48 | 4 | `yield_count` |
//! | 52 | 4 | `personality` ([`Personality`]): 0 the specification, 1 TF-A's EL3 SPMC, 2 Hafnium, 3 OP-TEE; also selects whose memory-management rules apply (see `memory_rules.rs`) |
//! | 56 | 1 | `memory_fault` ([`MemoryFault`]): 0 none, 1 no memory, 2 denied reclaim, 3 aborted fragment, 4 bad attributes |
//! | 57 | 1 | `memory_fault_after`: calls the fault lets through before it fires (0: it fires on the first) |
//! | 58 | 2 | `setup_busy_calls`: set-up calls answered BUSY before the model serves them |
//! | 60 | 4 | FNV-1a 32-bit hash of bytes 0..60 |
//!
//! Format history: 1 (TF-A's EL3 SPMC as flag bit 5, bytes 52..60
//! reserved); 2 (the flag became `personality`); 3 (`memory_fault`); 4
//! (`memory_fault_after`); 5 (`setup_busy_calls`).

pub use crate::memory_rules::MemoryFault;
use crate::personality::Personality;
use ffa_abi::Status;

/// The error the SPMC answers while it is not ready yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessError {
    /// `NOT_READY` (-10, v1.2).
    NotReady,
    /// `BUSY` (-4).
    Busy,
}

impl ReadinessError {
    /// The FF-A error this stands for.
    pub const fn error(self) -> Status {
        match self {
            ReadinessError::NotReady => Status::NotReady,
            ReadinessError::Busy => Status::Busy,
        }
    }
}

/// A fault in the answers to `FFA_PARTITION_INFO_GET` (v1.1 and later callers;
/// v1.0 callers only see [`PartitionInfoFault::HugeCount`], since v1.0 has no size field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionInfoFault {
    /// Correct answers.
    NoFault,
    /// w2 reports [`HUGE_PARTITION_COUNT`] partitions, so count × size exceeds
    /// any RX buffer; the descriptors written are the correct ones.
    HugeCount,
    /// w3 reports [`WRONG_DESCRIPTOR_SIZE`] (16, smaller than the 24-byte v1.1
    /// descriptor) while 24-byte descriptors are written.
    WrongDescriptorSize,
    /// w3 reports [`EXTENDED_DESCRIPTOR_SIZE`] (32) and the descriptors are laid
    /// out 32 bytes apart, the extra 8 bytes zero: legal for a future version,
    /// so a client must stride by w3 and read only the fields it knows.
    ExtendedDescriptorSize,
}

/// The partition count reported by [`PartitionInfoFault::HugeCount`].
pub const HUGE_PARTITION_COUNT: u32 = 0x0100_0000;
/// The descriptor size reported by [`PartitionInfoFault::WrongDescriptorSize`].
pub const WRONG_DESCRIPTOR_SIZE: u32 = 16;
/// The descriptor size used by [`PartitionInfoFault::ExtendedDescriptorSize`].
pub const EXTENDED_DESCRIPTOR_SIZE: u32 = 32;

impl PartitionInfoFault {
    const fn encode(self) -> u32 {
        match self {
            PartitionInfoFault::NoFault => 0,
            PartitionInfoFault::HugeCount => 1,
            PartitionInfoFault::WrongDescriptorSize => 2,
            PartitionInfoFault::ExtendedDescriptorSize => 3,
        }
    }

    const fn decode(value: u32) -> Option<PartitionInfoFault> {
        match value {
            0 => Some(PartitionInfoFault::NoFault),
            1 => Some(PartitionInfoFault::HugeCount),
            2 => Some(PartitionInfoFault::WrongDescriptorSize),
            3 => Some(PartitionInfoFault::ExtendedDescriptorSize),
            _ => None,
        }
    }
}

/// Which faults the model injects, and a few settings carried for the firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultConfig {
    /// Every FF-A function ID answers like an unimplemented SMCCC function
    /// (x0 = -1); SMCCC and PSCI still work.
    pub ffa_absent: bool,
    /// The SPMC's own FF-A version `(major, minor)`, returned by `FFA_VERSION`.
    /// Major must be 1..=0x7FFF. A caller of v1.3 or later gets v1.3's
    /// descriptors; the ABIs stay v1.2's. A major other than 1 answers
    /// `FFA_VERSION` only (every other FF-A call is `NOT_SUPPORTED`).
    pub spmc_version: (u16, u16),
    /// FF-A calls (including `FFA_VERSION`) answer [`FaultConfig::not_ready_error`]
    /// until this many calls have been so answered (0 = no count limit).
    pub not_ready_calls: u32,
    /// ... or until this many microseconds have passed since the first FF-A
    /// call (0 = no time limit). With both limits zero the SPMC is ready at once;
    /// with both set it becomes ready when the first one is reached.
    pub not_ready_microseconds: u64,
    /// The error answered while not ready.
    pub not_ready_error: ReadinessError,
    /// `FFA_RXTX_MAP` answers `DENIED`.
    pub deny_rxtx_map: bool,
    /// Fault in `FFA_PARTITION_INFO_GET` answers.
    pub partition_info_fault: PartitionInfoFault,
    /// Direct responses carry the ID of a different hosted partition than the
    /// one asked (the next one in the table, wrapping) as their source.
    pub wrong_responder: bool,
    /// The next this many direct requests that pass validation answer `BUSY`.
    pub busy_storm: u32,
    /// After the busy storm, the next this many direct requests answer `RETRY`.
    pub retry_storm: u32,
    /// How many times partition 0x8003 answers `FFA_INTERRUPT` to each direct request.
    pub interrupt_count: u32,
    /// How many times partition 0x8003 then answers `FFA_YIELD` before responding.
    pub yield_count: u32,
    /// Once the SPMC is ready, the first this many calls of the normal
    /// world's set-up and discovery (`FFA_ID_GET`, `FFA_FEATURES`,
    /// `FFA_RXTX_MAP`, `FFA_PARTITION_INFO_GET` and `_GET_REGS`) answer
    /// `BUSY`: a transient refusal the client must retry.
    pub setup_busy_calls: u16,
    /// The firmware prints a trace line per SMC (carried only).
    pub trace: bool,
    /// The firmware enters the normal world at EL1 instead of EL2 (carried only).
    pub enter_normal_world_at_el1: bool,
    /// The real SPMC the model answers as where they differ (see
    /// [`Personality`]; TF-A's EL3 SPMC's register conventions are in
    /// `tf_a_el3.rs`), memory management included (`memory_rules.rs`).
    /// [`FaultConfig::as_personality`] also sets its version.
    pub personality: Personality,
    /// A memory-management fault to inject once.
    pub memory_fault: MemoryFault,
    /// How many calls the fault would hit it lets through first (0: it
    /// fires on the first): `DeniedReclaim` with 2 lets two reclaims
    /// succeed and denies the third, say, after a boot's own reclaims.
    pub memory_fault_after: u8,
}

/// Why a blob was rejected by [`FaultConfig::from_bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// Fewer than [`FaultConfig::BLOB_SIZE`] bytes.
    TooShort,
    /// The magic is not `b"FFAM"`.
    BadMagic,
    /// The format version is not [`FaultConfig::FORMAT_VERSION`].
    UnsupportedFormatVersion,
    /// The size field is not [`FaultConfig::BLOB_SIZE`].
    BadSize,
    /// The hash does not match the contents.
    BadChecksum,
    /// The SPMC version is not a valid FF-A version (major 0 or above 0x7FFF).
    InvalidSpmcVersion,
    /// Unknown flag bits are set.
    UnknownFlags,
    /// The readiness error is neither `NOT_READY` nor `BUSY`.
    InvalidReadinessError,
    /// Unknown partition information fault.
    InvalidPartitionInfoFault,
    /// Unknown personality.
    InvalidPersonality,
    /// Unknown memory fault.
    InvalidMemoryFault,
}

const FLAG_FFA_ABSENT: u32 = 1 << 0;
const FLAG_DENY_RXTX_MAP: u32 = 1 << 1;
const FLAG_WRONG_RESPONDER: u32 = 1 << 2;
const FLAG_TRACE: u32 = 1 << 3;
const FLAG_ENTER_NORMAL_WORLD_AT_EL1: u32 = 1 << 4;
const KNOWN_FLAGS: u32 = FLAG_FFA_ABSENT
    | FLAG_DENY_RXTX_MAP
    | FLAG_WRONG_RESPONDER
    | FLAG_TRACE
    | FLAG_ENTER_NORMAL_WORLD_AT_EL1;

const CHECKSUM_OFFSET: usize = 60;

/// FNV-1a, 32-bit (the TPM partition's blob uses it too).
pub(crate) const fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811C_9DC5;
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        index += 1;
    }
    hash
}

fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[offset..offset + 8]);
    u64::from_le_bytes(word)
}

impl FaultConfig {
    /// Size of the serialised form in bytes.
    pub const BLOB_SIZE: usize = 64;
    /// Magic at the start of the serialised form.
    pub const MAGIC: [u8; 4] = *b"FFAM";
    /// Format version of the serialised form.
    pub const FORMAT_VERSION: u16 = 5;

    /// The well-behaved configuration: FF-A v1.2, no faults, partition 0x8003
    /// interrupts once and yields once per request, no trace, normal world at EL2.
    pub const fn default_config() -> FaultConfig {
        FaultConfig {
            ffa_absent: false,
            spmc_version: (1, 2),
            not_ready_calls: 0,
            not_ready_microseconds: 0,
            not_ready_error: ReadinessError::NotReady,
            deny_rxtx_map: false,
            partition_info_fault: PartitionInfoFault::NoFault,
            wrong_responder: false,
            busy_storm: 0,
            retry_storm: 0,
            interrupt_count: 1,
            yield_count: 1,
            setup_busy_calls: 0,
            trace: false,
            enter_normal_world_at_el1: false,
            personality: Personality::Specification,
            memory_fault: MemoryFault::None,
            memory_fault_after: 0,
        }
    }

    /// The well-behaved configuration of an SPMC that answers as
    /// `personality`, with that SPMC's version.
    pub const fn as_personality(personality: Personality) -> FaultConfig {
        FaultConfig {
            spmc_version: personality.spmc_version(),
            personality,
            ..FaultConfig::default_config()
        }
    }

    /// Whether the SPMC version is a valid FF-A version (major 1..=0x7FFF).
    pub const fn has_valid_spmc_version(&self) -> bool {
        self.spmc_version.0 >= 1 && self.spmc_version.0 <= 0x7FFF
    }

    fn flags(&self) -> u32 {
        let mut flags = 0;
        if self.ffa_absent {
            flags |= FLAG_FFA_ABSENT;
        }
        if self.deny_rxtx_map {
            flags |= FLAG_DENY_RXTX_MAP;
        }
        if self.wrong_responder {
            flags |= FLAG_WRONG_RESPONDER;
        }
        if self.trace {
            flags |= FLAG_TRACE;
        }
        if self.enter_normal_world_at_el1 {
            flags |= FLAG_ENTER_NORMAL_WORLD_AT_EL1;
        }
        flags
    }

    /// The serialised form (see the module documentation for the layout).
    pub fn to_bytes(&self) -> [u8; Self::BLOB_SIZE] {
        let mut bytes = [0u8; Self::BLOB_SIZE];
        bytes[0..4].copy_from_slice(&Self::MAGIC);
        bytes[4..6].copy_from_slice(&Self::FORMAT_VERSION.to_le_bytes());
        bytes[6..8].copy_from_slice(&(Self::BLOB_SIZE as u16).to_le_bytes());
        bytes[8..10].copy_from_slice(&self.spmc_version.0.to_le_bytes());
        bytes[10..12].copy_from_slice(&self.spmc_version.1.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.flags().to_le_bytes());
        bytes[16..20].copy_from_slice(&self.not_ready_calls.to_le_bytes());
        bytes[20..28].copy_from_slice(&self.not_ready_microseconds.to_le_bytes());
        bytes[28..32].copy_from_slice(&self.not_ready_error.error().code().to_le_bytes());
        bytes[32..36].copy_from_slice(&self.partition_info_fault.encode().to_le_bytes());
        bytes[36..40].copy_from_slice(&self.busy_storm.to_le_bytes());
        bytes[40..44].copy_from_slice(&self.retry_storm.to_le_bytes());
        bytes[44..48].copy_from_slice(&self.interrupt_count.to_le_bytes());
        bytes[48..52].copy_from_slice(&self.yield_count.to_le_bytes());
        bytes[52..56].copy_from_slice(&self.personality.encode().to_le_bytes());
        bytes[56] = self.memory_fault.encode();
        bytes[57] = self.memory_fault_after;
        bytes[58..60].copy_from_slice(&self.setup_busy_calls.to_le_bytes());
        let checksum = fnv1a(&bytes[..CHECKSUM_OFFSET]);
        bytes[CHECKSUM_OFFSET..].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Parse a serialised form. Only the first [`Self::BLOB_SIZE`] bytes are read;
    /// anything after them is ignored. Rejects a bad magic, format version, size,
    /// checksum, reserved bytes or field value.
    pub fn from_bytes(bytes: &[u8]) -> Result<FaultConfig, ConfigError> {
        if bytes.len() < Self::BLOB_SIZE {
            return Err(ConfigError::TooShort);
        }
        let bytes = &bytes[..Self::BLOB_SIZE];
        if bytes[0..4] != Self::MAGIC {
            return Err(ConfigError::BadMagic);
        }
        if read_u16(bytes, 4) != Self::FORMAT_VERSION {
            return Err(ConfigError::UnsupportedFormatVersion);
        }
        if usize::from(read_u16(bytes, 6)) != Self::BLOB_SIZE {
            return Err(ConfigError::BadSize);
        }
        if read_u32(bytes, CHECKSUM_OFFSET) != fnv1a(&bytes[..CHECKSUM_OFFSET]) {
            return Err(ConfigError::BadChecksum);
        }
        let flags = read_u32(bytes, 12);
        if flags & !KNOWN_FLAGS != 0 {
            return Err(ConfigError::UnknownFlags);
        }
        let not_ready_error = match read_u32(bytes, 28) as i32 {
            code if code == Status::NotReady.code() => ReadinessError::NotReady,
            code if code == Status::Busy.code() => ReadinessError::Busy,
            _ => return Err(ConfigError::InvalidReadinessError),
        };
        let partition_info_fault = PartitionInfoFault::decode(read_u32(bytes, 32))
            .ok_or(ConfigError::InvalidPartitionInfoFault)?;
        let personality =
            Personality::decode(read_u32(bytes, 52)).ok_or(ConfigError::InvalidPersonality)?;
        let memory_fault = MemoryFault::decode(bytes[56]).ok_or(ConfigError::InvalidMemoryFault)?;
        let config = FaultConfig {
            ffa_absent: flags & FLAG_FFA_ABSENT != 0,
            spmc_version: (read_u16(bytes, 8), read_u16(bytes, 10)),
            not_ready_calls: read_u32(bytes, 16),
            not_ready_microseconds: read_u64(bytes, 20),
            not_ready_error,
            deny_rxtx_map: flags & FLAG_DENY_RXTX_MAP != 0,
            partition_info_fault,
            wrong_responder: flags & FLAG_WRONG_RESPONDER != 0,
            busy_storm: read_u32(bytes, 36),
            retry_storm: read_u32(bytes, 40),
            interrupt_count: read_u32(bytes, 44),
            yield_count: read_u32(bytes, 48),
            setup_busy_calls: read_u16(bytes, 58),
            trace: flags & FLAG_TRACE != 0,
            enter_normal_world_at_el1: flags & FLAG_ENTER_NORMAL_WORLD_AT_EL1 != 0,
            personality,
            memory_fault,
            memory_fault_after: bytes[57],
        };
        if !config.has_valid_spmc_version() {
            return Err(ConfigError::InvalidSpmcVersion);
        }
        Ok(config)
    }
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig::default_config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_and_has_the_documented_header() {
        let bytes = FaultConfig::default_config().to_bytes();
        assert_eq!(&bytes[0..4], b"FFAM");
        assert_eq!(&bytes[4..8], &[5, 0, 64, 0]);
        assert_eq!(&bytes[8..12], &[1, 0, 2, 0]);
        assert_eq!(
            FaultConfig::from_bytes(&bytes),
            Ok(FaultConfig::default_config())
        );
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(fnv1a(b""), 0x811C_9DC5);
        assert_eq!(fnv1a(b"a"), 0xE40C_292C);
    }
}
