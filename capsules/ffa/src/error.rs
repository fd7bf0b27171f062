//! Errors: the FF-A status codes the other side reports, and everything this capsule rejects.
//!
//! [`FfaStatus`] (the shared `ffa_abi::Status`, re-exported) is what came
//! back in w2 of `FFA_ERROR`. [`FfaError`] is the error of every operation in
//! this crate: a status from the other side, or a reply or configuration this
//! capsule refused. It converts to [`kernel::ErrorCode`] for HIL-style callers.
//!
//! ```
//! use capsule_ffa::error::{FfaError, FfaStatus};
//! use kernel::ErrorCode;
//!
//! assert_eq!(FfaStatus::from_code(-4), Some(FfaStatus::Busy));
//! assert_eq!(ErrorCode::from(FfaError::Status(FfaStatus::Busy)), ErrorCode::BUSY);
//! ```

use crate::partition::PartitionId;
use crate::version::{InvalidVersion, Version};
use kernel::ErrorCode;

/// An FF-A error code, as carried in w2 of `FFA_ERROR` (DEN0077A table
/// "Error status codes"); shared with the EL2 proxy through `ffa-abi`.
pub use ffa_abi::Status as FfaStatus;

/// Why an FF-A operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum FfaError {
    /// The other side answered `FFA_ERROR` (or a bare negative code) with this status.
    Status(FfaStatus),
    /// `SMCCC_VERSION` is missing or older than 1.2, so x4–x17 cannot carry FF-A arguments.
    SmcccTooOld {
        /// Reported major version (0 if `SMCCC_VERSION` is not implemented).
        major: u16,
        /// Reported minor version.
        minor: u16,
    },
    /// The callee implements an FF-A major version this capsule does not speak.
    IncompatibleVersion {
        /// The version this capsule requested.
        requested: Version,
        /// The version the callee reported.
        callee: Version,
    },
    /// x0 held a function ID that is not a valid answer to this call.
    UnexpectedFunction(u32),
    /// A reply field is out of range or a must-be-zero field is set.
    MalformedReply,
    /// A direct response came from, or was addressed to, the wrong endpoint.
    WrongResponder {
        /// Endpoint that should have answered.
        expected: PartitionId,
        /// Endpoint that did answer.
        actual: PartitionId,
    },
    /// A buffer is smaller than the callee's minimum or than the data needs.
    BufferTooSmall {
        /// Bytes needed.
        required: usize,
        /// Bytes available.
        available: usize,
    },
    /// A buffer's physical address is not aligned to the callee's granule.
    BufferMisaligned {
        /// The required alignment in bytes.
        alignment: usize,
    },
    /// The callee reported a partition descriptor size this capsule cannot use.
    DescriptorSize(u32),
    /// The callee reported more descriptors than fit in the RX buffer.
    CountOverflow(u32),
    /// More partitions than the fixed-capacity table holds.
    TableFull {
        /// Table capacity.
        capacity: usize,
    },
    /// The callee stayed `BUSY`/`RETRY` for every allowed retry.
    RetriesExhausted,
    /// The callee kept returning `FFA_INTERRUPT`/`FFA_YIELD` past the resumption limit.
    ResumptionsExhausted,
    /// The client has not completed its set-up (or has been torn down).
    NotInitialized,
    /// The operation was already done (buffers mapped, set-up complete).
    AlreadyDone,
    /// The RX buffer is still owned by this side: release it first.
    RxBusy,
    /// The TX buffer is in use.
    TxBusy,
    /// The ABI or partition feature needed is not available at the negotiated version.
    Unsupported,
    /// No partition or driver matches.
    NotFound,
    /// Shared memory access failed.
    Memory(ErrorCode),
}

impl From<InvalidVersion> for FfaError {
    /// A version word with bit 31 set is a malformed reply.
    fn from(_: InvalidVersion) -> FfaError {
        FfaError::MalformedReply
    }
}

/// The Tock error code closest to an FF-A status.
fn status_error_code(status: FfaStatus) -> ErrorCode {
    match status {
        FfaStatus::NotSupported => ErrorCode::NOSUPPORT,
        FfaStatus::InvalidParameters => ErrorCode::INVAL,
        FfaStatus::NoMemory => ErrorCode::NOMEM,
        FfaStatus::Busy | FfaStatus::Retry => ErrorCode::BUSY,
        FfaStatus::Interrupted | FfaStatus::Aborted => ErrorCode::CANCEL,
        // Tock has no "permission denied"; RESERVE ("not reserved for you") is closest.
        FfaStatus::Denied => ErrorCode::RESERVE,
        FfaStatus::NoData => ErrorCode::FAIL,
        FfaStatus::NotReady => ErrorCode::OFF,
        FfaStatus::Unknown(_) => ErrorCode::FAIL,
    }
}

impl From<FfaError> for ErrorCode {
    fn from(error: FfaError) -> ErrorCode {
        match error {
            FfaError::Status(status) => status_error_code(status),
            FfaError::SmcccTooOld { .. } | FfaError::IncompatibleVersion { .. } => {
                ErrorCode::NOSUPPORT
            }
            FfaError::UnexpectedFunction(_)
            | FfaError::MalformedReply
            | FfaError::WrongResponder { .. }
            | FfaError::DescriptorSize(_) => ErrorCode::FAIL,
            FfaError::BufferTooSmall { .. } | FfaError::CountOverflow(_) => ErrorCode::SIZE,
            FfaError::BufferMisaligned { .. } => ErrorCode::INVAL,
            FfaError::TableFull { .. } => ErrorCode::NOMEM,
            FfaError::RetriesExhausted | FfaError::RxBusy | FfaError::TxBusy => ErrorCode::BUSY,
            FfaError::ResumptionsExhausted => ErrorCode::CANCEL,
            FfaError::NotInitialized => ErrorCode::OFF,
            FfaError::AlreadyDone => ErrorCode::ALREADY,
            FfaError::Unsupported => ErrorCode::NOSUPPORT,
            FfaError::NotFound => ErrorCode::NODEVICE,
            FfaError::Memory(code) => code,
        }
    }
}
