//! FF-A status codes: what `FFA_ERROR` carries in w2 (DEN0077A table "Error status codes").
//!
//! A reply's code is either one this crate knows or [`Status::Unknown`].
//! [`Status::from_code`] treats 0 and positive values as "not an error";
//! [`Status::from_code_or_unknown`] maps every value to a status.
//!
//! ```
//! use ffa_abi::Status;
//!
//! assert_eq!(Status::from_code(-4), Some(Status::Busy));
//! assert_eq!(Status::from_code(0), None);
//! assert_eq!(Status::from_code_or_unknown(-6), Status::Denied);
//! assert_eq!(Status::Denied.code(), -6);
//! assert_eq!(Status::Denied.name(), "DENIED");
//! assert!(Status::Busy.is_transient());
//! ```

/// An FF-A error status code (DEN0077A; `NOT_READY` is v1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// -1: the ABI or feature is not implemented, or not for this caller.
    NotSupported,
    /// -2: a parameter is invalid, or the call is out of order.
    InvalidParameters,
    /// -3: not enough memory.
    NoMemory,
    /// -4: the target or a resource is busy; try again.
    Busy,
    /// -5: the operation was interrupted.
    Interrupted,
    /// -6: the caller may not perform the operation in the callee's current state.
    Denied,
    /// -7: the operation should be retried.
    Retry,
    /// -8: the operation was aborted.
    Aborted,
    /// -9: there is no data to return.
    NoData,
    /// -10 (v1.2): the callee is not ready yet.
    NotReady,
    /// Any other code.
    Unknown(i32),
}

impl Status {
    /// Every status the specification names, in code order (-1 down to -10).
    pub const KNOWN: [Status; 10] = [
        Status::NotSupported,
        Status::InvalidParameters,
        Status::NoMemory,
        Status::Busy,
        Status::Interrupted,
        Status::Denied,
        Status::Retry,
        Status::Aborted,
        Status::NoData,
        Status::NotReady,
    ];

    /// The status for a raw code, or `None` for 0 (success) and positive values.
    pub const fn from_code(code: i32) -> Option<Status> {
        if code < 0 {
            Some(Status::from_code_or_unknown(code))
        } else {
            None
        }
    }

    /// The status for any raw code (w2 of `FFA_ERROR`): codes this crate
    /// does not know, including 0 and positive values, are [`Status::Unknown`].
    pub const fn from_code_or_unknown(code: i32) -> Status {
        match code {
            -1 => Status::NotSupported,
            -2 => Status::InvalidParameters,
            -3 => Status::NoMemory,
            -4 => Status::Busy,
            -5 => Status::Interrupted,
            -6 => Status::Denied,
            -7 => Status::Retry,
            -8 => Status::Aborted,
            -9 => Status::NoData,
            -10 => Status::NotReady,
            other => Status::Unknown(other),
        }
    }

    /// The raw code, as written to w2 of `FFA_ERROR`.
    pub const fn code(self) -> i32 {
        match self {
            Status::NotSupported => -1,
            Status::InvalidParameters => -2,
            Status::NoMemory => -3,
            Status::Busy => -4,
            Status::Interrupted => -5,
            Status::Denied => -6,
            Status::Retry => -7,
            Status::Aborted => -8,
            Status::NoData => -9,
            Status::NotReady => -10,
            Status::Unknown(code) => code,
        }
    }

    /// The code as w2 of `FFA_ERROR` carries it: the 32-bit two's
    /// complement value, the upper half of x2 zero.
    pub const fn register_value(self) -> u64 {
        self.code() as u32 as u64
    }

    /// The specification's name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Status::NotSupported => "NOT_SUPPORTED",
            Status::InvalidParameters => "INVALID_PARAMETERS",
            Status::NoMemory => "NO_MEMORY",
            Status::Busy => "BUSY",
            Status::Interrupted => "INTERRUPTED",
            Status::Denied => "DENIED",
            Status::Retry => "RETRY",
            Status::Aborted => "ABORTED",
            Status::NoData => "NO_DATA",
            Status::NotReady => "NOT_READY",
            Status::Unknown(_) => "unknown error",
        }
    }

    /// Whether asking again later may succeed (`BUSY`, `RETRY`, `NOT_READY`).
    pub const fn is_transient(self) -> bool {
        matches!(self, Status::Busy | Status::Retry | Status::NotReady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in -12..=1 {
            assert_eq!(Status::from_code_or_unknown(code).code(), code);
        }
        assert_eq!(Status::from_code_or_unknown(-99), Status::Unknown(-99));
        assert_eq!(Status::NotReady.name(), "NOT_READY");
        for (index, status) in Status::KNOWN.into_iter().enumerate() {
            assert_eq!(status.code(), -1 - index as i32);
        }
        assert_eq!(Status::InvalidParameters.register_value(), 0xFFFF_FFFE);
    }

    #[test]
    fn only_negative_codes_are_statuses() {
        assert_eq!(Status::from_code(-4), Some(Status::Busy));
        assert_eq!(Status::from_code(-99), Some(Status::Unknown(-99)));
        assert_eq!(Status::from_code(0), None);
        assert_eq!(Status::from_code(1), None);
    }

    #[test]
    fn only_busy_retry_and_not_ready_are_transient() {
        let transient: std::vec::Vec<Status> = (-10..=-1)
            .map(Status::from_code_or_unknown)
            .filter(|status| status.is_transient())
            .collect();
        assert_eq!(transient, [Status::NotReady, Status::Retry, Status::Busy]);
    }
}
