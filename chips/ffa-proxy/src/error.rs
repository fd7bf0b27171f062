//! FF-A error codes: what `FFA_ERROR` carries in w2.
//!
//! ```
//! use ffa_proxy::FfaError;
//!
//! assert_eq!(FfaError::from_code(-6), FfaError::Denied);
//! assert_eq!(FfaError::Denied.code(), -6);
//! assert_eq!(FfaError::Denied.name(), "DENIED");
//! assert!(FfaError::Busy.is_transient());
//! ```

/// An FF-A error code (DEN0077A; `NOT_READY` is v1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfaError {
    /// -1: the function is not implemented, or not for this caller.
    NotSupported,
    /// -2: a parameter is wrong, or the call is out of order.
    InvalidParameters,
    /// -3: not enough memory.
    NoMemory,
    /// -4: the callee is busy; try again.
    Busy,
    /// -5: interrupted.
    Interrupted,
    /// -6: refused in the callee's current state.
    Denied,
    /// -7: try again.
    Retry,
    /// -8: aborted.
    Aborted,
    /// -9: nothing to return.
    NoData,
    /// -10: the callee is not ready yet (v1.2).
    NotReady,
    /// A code this crate does not know.
    Unknown(i32),
}

impl FfaError {
    /// The error from its code (w2 of `FFA_ERROR`).
    pub const fn from_code(code: i32) -> FfaError {
        match code {
            -1 => FfaError::NotSupported,
            -2 => FfaError::InvalidParameters,
            -3 => FfaError::NoMemory,
            -4 => FfaError::Busy,
            -5 => FfaError::Interrupted,
            -6 => FfaError::Denied,
            -7 => FfaError::Retry,
            -8 => FfaError::Aborted,
            -9 => FfaError::NoData,
            -10 => FfaError::NotReady,
            other => FfaError::Unknown(other),
        }
    }

    /// The code written to w2 of `FFA_ERROR`.
    pub const fn code(self) -> i32 {
        match self {
            FfaError::NotSupported => -1,
            FfaError::InvalidParameters => -2,
            FfaError::NoMemory => -3,
            FfaError::Busy => -4,
            FfaError::Interrupted => -5,
            FfaError::Denied => -6,
            FfaError::Retry => -7,
            FfaError::Aborted => -8,
            FfaError::NoData => -9,
            FfaError::NotReady => -10,
            FfaError::Unknown(code) => code,
        }
    }

    /// The specification's name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            FfaError::NotSupported => "NOT_SUPPORTED",
            FfaError::InvalidParameters => "INVALID_PARAMETERS",
            FfaError::NoMemory => "NO_MEMORY",
            FfaError::Busy => "BUSY",
            FfaError::Interrupted => "INTERRUPTED",
            FfaError::Denied => "DENIED",
            FfaError::Retry => "RETRY",
            FfaError::Aborted => "ABORTED",
            FfaError::NoData => "NO_DATA",
            FfaError::NotReady => "NOT_READY",
            FfaError::Unknown(_) => "unknown error",
        }
    }

    /// Whether asking again later may succeed (`BUSY`, `RETRY`, `NOT_READY`).
    pub const fn is_transient(self) -> bool {
        matches!(self, FfaError::Busy | FfaError::Retry | FfaError::NotReady)
    }
}

impl defmt::Format for FfaError {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            FfaError::Unknown(code) => defmt::write!(formatter, "unknown error {=i32}", *code),
            known => defmt::write!(formatter, "{=str}({=i32})", known.name(), known.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in -12..=1 {
            assert_eq!(FfaError::from_code(code).code(), code);
        }
        assert_eq!(FfaError::from_code(-99), FfaError::Unknown(-99));
        assert_eq!(FfaError::NotReady.name(), "NOT_READY");
    }

    #[test]
    fn only_busy_retry_and_not_ready_are_transient() {
        let transient: std::vec::Vec<FfaError> = (-10..=-1)
            .map(FfaError::from_code)
            .filter(|error| error.is_transient())
            .collect();
        assert_eq!(
            transient,
            [FfaError::NotReady, FfaError::Retry, FfaError::Busy]
        );
    }
}
