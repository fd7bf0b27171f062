//! FF-A error codes (w2 of `FFA_ERROR`) and the SMCCC "not supported" return value.

/// The value an SMCCC implementation returns in x0 for a function it does not
/// implement: -1 as a 64-bit register, as real firmware does.
pub const SMCCC_NOT_SUPPORTED: u64 = u64::MAX;

/// An FF-A error code, as carried in w2 of `FFA_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FfaError {
    /// -1: the function or feature is not implemented.
    NotSupported,
    /// -2: a parameter is invalid.
    InvalidParameters,
    /// -3: not enough memory to complete the operation.
    NoMemory,
    /// -4: a resource is in use (for example the RX buffer is not free).
    Busy,
    /// -5: the operation was interrupted.
    Interrupted,
    /// -6: the caller may not perform this operation in the current state.
    Denied,
    /// -7: the operation should be retried.
    Retry,
    /// -8: the operation was aborted.
    Aborted,
    /// -9: there is no data to return.
    NoData,
    /// -10: the callee is not ready yet (v1.2).
    NotReady,
}

impl FfaError {
    /// Every error code, in numeric order (-1 down to -10).
    pub const ALL: [FfaError; 10] = [
        FfaError::NotSupported,
        FfaError::InvalidParameters,
        FfaError::NoMemory,
        FfaError::Busy,
        FfaError::Interrupted,
        FfaError::Denied,
        FfaError::Retry,
        FfaError::Aborted,
        FfaError::NoData,
        FfaError::NotReady,
    ];

    /// The signed 32-bit error code.
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
        }
    }

    /// The error with this code, if it is one.
    pub const fn from_code(code: i32) -> Option<FfaError> {
        match code {
            -1 => Some(FfaError::NotSupported),
            -2 => Some(FfaError::InvalidParameters),
            -3 => Some(FfaError::NoMemory),
            -4 => Some(FfaError::Busy),
            -5 => Some(FfaError::Interrupted),
            -6 => Some(FfaError::Denied),
            -7 => Some(FfaError::Retry),
            -8 => Some(FfaError::Aborted),
            -9 => Some(FfaError::NoData),
            -10 => Some(FfaError::NotReady),
            _ => None,
        }
    }

    /// The specification's name of the error, for example `"INVALID_PARAMETERS"`.
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
        }
    }

    /// The error code as it appears in w2 of `FFA_ERROR`: the 32-bit two's
    /// complement value, upper 32 bits of x2 zero.
    pub const fn register_value(self) -> u64 {
        self.code() as u32 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for error in FfaError::ALL {
            assert_eq!(FfaError::from_code(error.code()), Some(error));
        }
        assert_eq!(FfaError::from_code(0), None);
        assert_eq!(FfaError::from_code(-11), None);
    }

    #[test]
    fn register_value_has_upper_half_zero() {
        assert_eq!(FfaError::InvalidParameters.register_value(), 0xFFFF_FFFE);
        assert_eq!(FfaError::NotReady.register_value(), 0xFFFF_FFF6);
    }
}
