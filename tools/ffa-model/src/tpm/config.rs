//! The TPM partition's faults and their serialised form (the TPM blob),
//! kept apart from the SPMC's [`FaultConfig`](crate::FaultConfig) so that
//! the TPM's faults do not share its fields.
//!
//! The runner places the blob right after the SPMC's (at
//! [`FaultConfig::BLOB_SIZE`](crate::FaultConfig::BLOB_SIZE) from its
//! address); without a valid one the partition is present and healthy.
//! Layout, [`TpmConfig::BLOB_SIZE`] = 32 bytes, little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `b"TPMC"` |
//! | 4 | 2 | format version, 2 |
//! | 6 | 2 | blob size (32) |
//! | 8 | 1 | flags: bit 0 `absent`, bit 1 no completion notifications (`!notifications`), bit 2 `not_crb` |
//! | 9 | 1 | `malformed` kind ([`MalformedResponse`]): 0 none, 1 size beyond the buffer, 2 size below a header, 3 wrong tag, 4 fatal error status |
//! | 10 | 2 | `background_microseconds` (u16) |
//! | 12 | 4 | the error answered while late, as its FF-A code (i32: -4 `BUSY`, -10 `NOT_READY`) |
//! | 16 | 8 | `late_microseconds`: answer that error until this long after the first request (0: never late) |
//! | 24 | 4 | the command code whose first response is malformed |
//! | 28 | 4 | FNV-1a 32-bit hash of bytes 0..28 |

use crate::config::fnv1a;
use ffa_abi::Status;

/// How the response to one command is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedResponse {
    /// Responses are well formed.
    None,
    /// The size field says 0xFFFF_FFF0 bytes: beyond any response buffer.
    SizeBeyondBuffer,
    /// The size field says 4 bytes: less than a header.
    SizeBelowHeader,
    /// The tag is 0x1234.
    WrongTag,
    /// The command is not executed and the CRB's `tpmSts` (fatal error) bit is set.
    FatalError,
}

impl MalformedResponse {
    /// The blob's byte.
    pub const fn encode(self) -> u8 {
        match self {
            MalformedResponse::None => 0,
            MalformedResponse::SizeBeyondBuffer => 1,
            MalformedResponse::SizeBelowHeader => 2,
            MalformedResponse::WrongTag => 3,
            MalformedResponse::FatalError => 4,
        }
    }

    /// The kind `value` names.
    pub const fn decode(value: u8) -> Option<MalformedResponse> {
        Some(match value {
            0 => MalformedResponse::None,
            1 => MalformedResponse::SizeBeyondBuffer,
            2 => MalformedResponse::SizeBelowHeader,
            3 => MalformedResponse::WrongTag,
            4 => MalformedResponse::FatalError,
            _ => return None,
        })
    }
}

/// How long a healthy TPM's command runs: 200 µs, in the background
/// (`START` returns first), as a TPM that takes time does.
pub const HEALTHY_BACKGROUND_MICROSECONDS: u16 = 200;

/// The TPM partition's faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpmConfig {
    /// The partition is not there: discovery does not report it and direct
    /// requests to it are refused as to any unknown partition.
    pub absent: bool,
    /// Answer direct requests with [`TpmConfig::late_error`] until this many
    /// microseconds after the first one (0: never late).
    pub late_microseconds: u64,
    /// `BUSY` or `NOT_READY`.
    pub late_error: Status,
    /// How the first response to [`TpmConfig::malformed_command`] is broken.
    pub malformed: MalformedResponse,
    /// The command code whose first response is broken.
    pub malformed_command: u32,
    /// The partition offers completion notifications (`GET_FEATURE_INFO`,
    /// the notifications property): real services differ (Microsoft's
    /// answers `NOTSUP`; Linux polls whatever the answer).
    pub notifications: bool,
    /// How long a command runs after the `START` that gave it, in the
    /// background ([`HEALTHY_BACKGROUND_MICROSECONDS`] when healthy); 0 for
    /// within `START` (for a caller registered for notifications: at once
    /// after it, in the background).
    pub background_microseconds: u16,
    /// The CRB's interface ID says FIFO (InterfaceType 0), not CRB: a
    /// driver refuses the interface at its first locality, after it may
    /// have registered for notifications.
    pub not_crb: bool,
}

/// Why a TPM blob was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpmConfigError {
    /// Fewer than [`TpmConfig::BLOB_SIZE`] bytes.
    TooShort,
    /// Not `b"TPMC"`.
    BadMagic,
    /// Another format version or size.
    UnsupportedFormat,
    /// The hash does not match.
    BadChecksum,
    /// Unknown flags, kind or error, or reserved bytes not zero.
    InvalidField,
}

const CHECKSUM_OFFSET: usize = 28;
const FLAG_ABSENT: u8 = 1;
const FLAG_NO_NOTIFICATIONS: u8 = 2;
const FLAG_NOT_CRB: u8 = 4;
const FLAGS: u8 = FLAG_ABSENT | FLAG_NO_NOTIFICATIONS | FLAG_NOT_CRB;

impl TpmConfig {
    /// Size of the serialised form.
    pub const BLOB_SIZE: usize = 32;
    /// Magic at its start.
    pub const MAGIC: [u8; 4] = *b"TPMC";
    /// Its format version.
    pub const FORMAT_VERSION: u16 = 2;

    /// A present, healthy TPM.
    pub const fn healthy() -> TpmConfig {
        TpmConfig {
            absent: false,
            late_microseconds: 0,
            late_error: Status::Busy,
            malformed: MalformedResponse::None,
            malformed_command: 0,
            notifications: true,
            background_microseconds: HEALTHY_BACKGROUND_MICROSECONDS,
            not_crb: false,
        }
    }

    /// The serialised form.
    pub fn to_bytes(&self) -> [u8; Self::BLOB_SIZE] {
        let mut bytes = [0u8; Self::BLOB_SIZE];
        bytes[0..4].copy_from_slice(&Self::MAGIC);
        bytes[4..6].copy_from_slice(&Self::FORMAT_VERSION.to_le_bytes());
        bytes[6..8].copy_from_slice(&(Self::BLOB_SIZE as u16).to_le_bytes());
        bytes[8] = if self.absent { FLAG_ABSENT } else { 0 }
            | if self.notifications {
                0
            } else {
                FLAG_NO_NOTIFICATIONS
            }
            | if self.not_crb { FLAG_NOT_CRB } else { 0 };
        bytes[9] = self.malformed.encode();
        bytes[10..12].copy_from_slice(&self.background_microseconds.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.late_error.code().to_le_bytes());
        bytes[16..24].copy_from_slice(&self.late_microseconds.to_le_bytes());
        bytes[24..28].copy_from_slice(&self.malformed_command.to_le_bytes());
        let checksum = fnv1a(&bytes[..CHECKSUM_OFFSET]);
        bytes[CHECKSUM_OFFSET..].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Parses a serialised form (only its first [`Self::BLOB_SIZE`] bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<TpmConfig, TpmConfigError> {
        let bytes = bytes
            .get(..Self::BLOB_SIZE)
            .ok_or(TpmConfigError::TooShort)?;
        if bytes[0..4] != Self::MAGIC {
            return Err(TpmConfigError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        let size = u16::from_le_bytes([bytes[6], bytes[7]]);
        if version != Self::FORMAT_VERSION || usize::from(size) != Self::BLOB_SIZE {
            return Err(TpmConfigError::UnsupportedFormat);
        }
        let word = |offset: usize| {
            u32::from_le_bytes([
                bytes[offset],
                bytes[offset + 1],
                bytes[offset + 2],
                bytes[offset + 3],
            ])
        };
        if word(CHECKSUM_OFFSET) != fnv1a(&bytes[..CHECKSUM_OFFSET]) {
            return Err(TpmConfigError::BadChecksum);
        }
        if bytes[8] & !FLAGS != 0 {
            return Err(TpmConfigError::InvalidField);
        }
        let malformed = MalformedResponse::decode(bytes[9]).ok_or(TpmConfigError::InvalidField)?;
        let late_error = match word(12) as i32 {
            code if code == Status::Busy.code() => Status::Busy,
            code if code == Status::NotReady.code() => Status::NotReady,
            _ => return Err(TpmConfigError::InvalidField),
        };
        let mut late = [0u8; 8];
        late.copy_from_slice(&bytes[16..24]);
        Ok(TpmConfig {
            absent: bytes[8] & FLAG_ABSENT != 0,
            late_microseconds: u64::from_le_bytes(late),
            late_error,
            malformed,
            malformed_command: word(24),
            notifications: bytes[8] & FLAG_NO_NOTIFICATIONS == 0,
            background_microseconds: u16::from_le_bytes([bytes[10], bytes[11]]),
            not_crb: bytes[8] & FLAG_NOT_CRB != 0,
        })
    }
}

impl Default for TpmConfig {
    fn default() -> Self {
        Self::healthy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_are_checked() {
        let config = TpmConfig {
            absent: true,
            late_microseconds: 300_000,
            late_error: Status::NotReady,
            malformed: MalformedResponse::WrongTag,
            malformed_command: 0x17E,
            notifications: false,
            background_microseconds: 3_000,
            not_crb: true,
        };
        let bytes = config.to_bytes();
        assert_eq!(&bytes[0..8], b"TPMC\x02\x00\x20\x00");
        assert_eq!(&bytes[8..12], &[0b111, 3, 0xB8, 0x0B]);
        assert_eq!(TpmConfig::from_bytes(&bytes), Ok(config));
        let mut broken = bytes;
        broken[16] ^= 1;
        assert_eq!(
            TpmConfig::from_bytes(&broken),
            Err(TpmConfigError::BadChecksum)
        );
        assert_eq!(
            TpmConfig::from_bytes(&bytes[..31]),
            Err(TpmConfigError::TooShort)
        );
        assert_eq!(
            TpmConfig::from_bytes(&TpmConfig::healthy().to_bytes()),
            Ok(TpmConfig::healthy())
        );
    }
}
