//! [`ClientError`]: why an operation of the FF-A client failed.
//!
//! It is the error of every operation in this crate: a status the other
//! side reported (an [`ffa_abi::Status`], what w2 of `FFA_ERROR` carries), or
//! a reply or configuration this capsule refused. It converts to
//! [`kernel::ErrorCode`] for HIL-style callers.
//!
//! ```
//! use capsule_ffa::error::ClientError;
//! use ffa_abi::Status;
//! use kernel::ErrorCode;
//!
//! assert_eq!(ErrorCode::from(ClientError::Status(Status::Busy)), ErrorCode::BUSY);
//! ```

use ffa_abi::{InvalidVersion, PartitionId, Status, Version};
use kernel::ErrorCode;

/// Why an operation of the FF-A client failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ClientError {
    /// The other side answered `FFA_ERROR` (or a bare negative code) with this status.
    Status(Status),
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
    /// The request was cancelled before it completed (the FF-A bus was torn down).
    Cancelled,
    /// Another request is in flight on this vCPU (a blocking request cannot
    /// wait for a split-phase one to finish).
    InFlight,
    /// A message from the other side is malformed (an indirect message's
    /// header, a notification answer): the reason, for the log.
    Malformed(&'static str),
    /// A caller's argument is unusable (an empty notification bitmap, an ID
    /// bound already, a message too large): the reason, for the log.
    InvalidArgument(&'static str),
    /// A memory transaction cannot be sent as described.
    Transaction(crate::memory::attributes::TransactionError),
    /// Core `core` could not take a call to make from itself (`OFF`: not
    /// online; `BUSY`: a call of its own still in flight; `INVAL`: no such
    /// secondary core).
    Core {
        /// The core.
        core: usize,
        /// Why.
        code: ErrorCode,
    },
    /// Core `.0` made no reply to a call within the bound.
    CoreTimedOut(usize),
    /// The partition has no execution context for the core a request was
    /// to be made from (an MP partition with fewer contexts than the
    /// core's index, or no context at all).
    NoExecutionContext {
        /// The partition.
        partition: PartitionId,
        /// The core.
        core: usize,
        /// Its execution contexts.
        contexts: u16,
    },
}

impl ClientError {
    /// Whether the other side refused for now (`BUSY`, `RETRY`,
    /// `NOT_READY`): the same call may succeed later.
    pub const fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Status(Status::Busy | Status::Retry | Status::NotReady)
        )
    }
}

impl From<InvalidVersion> for ClientError {
    /// A version word with bit 31 set is a malformed reply.
    fn from(_: InvalidVersion) -> ClientError {
        ClientError::MalformedReply
    }
}

/// The Tock error code closest to an FF-A status.
fn status_error_code(status: Status) -> ErrorCode {
    match status {
        Status::NotSupported => ErrorCode::NOSUPPORT,
        Status::InvalidParameters => ErrorCode::INVAL,
        Status::NoMemory => ErrorCode::NOMEM,
        Status::Busy | Status::Retry => ErrorCode::BUSY,
        Status::Interrupted | Status::Aborted => ErrorCode::CANCEL,
        // Tock has no "permission denied"; RESERVE ("not reserved for you") is closest.
        Status::Denied => ErrorCode::RESERVE,
        Status::NoData => ErrorCode::FAIL,
        Status::NotReady => ErrorCode::OFF,
        Status::Unknown(_) => ErrorCode::FAIL,
    }
}

impl From<ClientError> for ErrorCode {
    fn from(error: ClientError) -> ErrorCode {
        match error {
            ClientError::Status(status) => status_error_code(status),
            ClientError::SmcccTooOld { .. } | ClientError::IncompatibleVersion { .. } => {
                ErrorCode::NOSUPPORT
            }
            ClientError::UnexpectedFunction(_)
            | ClientError::MalformedReply
            | ClientError::WrongResponder { .. }
            | ClientError::DescriptorSize(_) => ErrorCode::FAIL,
            ClientError::BufferTooSmall { .. } | ClientError::CountOverflow(_) => ErrorCode::SIZE,
            ClientError::BufferMisaligned { .. } => ErrorCode::INVAL,
            ClientError::TableFull { .. } => ErrorCode::NOMEM,
            ClientError::RetriesExhausted | ClientError::RxBusy | ClientError::TxBusy => {
                ErrorCode::BUSY
            }
            ClientError::ResumptionsExhausted => ErrorCode::CANCEL,
            ClientError::NotInitialized => ErrorCode::OFF,
            ClientError::AlreadyDone => ErrorCode::ALREADY,
            ClientError::Unsupported => ErrorCode::NOSUPPORT,
            ClientError::NotFound => ErrorCode::NODEVICE,
            ClientError::Memory(code) => code,
            ClientError::Cancelled => ErrorCode::CANCEL,
            ClientError::InFlight => ErrorCode::BUSY,
            ClientError::Malformed(_) => ErrorCode::FAIL,
            ClientError::InvalidArgument(_) => ErrorCode::INVAL,
            ClientError::Transaction(_) => ErrorCode::INVAL,
            ClientError::Core { code, .. } => code,
            ClientError::CoreTimedOut(_) => ErrorCode::FAIL,
            ClientError::NoExecutionContext { .. } => ErrorCode::INVAL,
        }
    }
}
