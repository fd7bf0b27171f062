//! Building the replies the proxy gives itself, and reading the monitor's.
//!
//! Replies built at EL2 follow the register conventions of SMCCC v1.2 and
//! of the monitor the host would otherwise talk to: x0–x7 are defined (what
//! is not set is zero) and x8–x17 are the caller's, preserved.
//!
//! ```
//! use ffa_proxy::reply::{self, MonitorReply};
//! use ffa_proxy::FfaError;
//!
//! let call = [7u64; 18];
//! let error = reply::error(&call, FfaError::Denied);
//! assert_eq!(&error[..4], &[0x8400_0060, 0, 0xFFFF_FFFA, 0]);
//! assert_eq!(error[8], 7); // x8–x17 preserved
//! assert_eq!(MonitorReply::classify(&error), MonitorReply::Error(FfaError::Denied));
//! ```

use crate::function::{self, FFA_ERROR, FFA_SUCCESS_32};
use crate::version::Version;
use crate::FfaError;
use crate::{Registers, REGISTER_COUNT};

/// First register a reply built at EL2 preserves from the call.
const FIRST_PRESERVED: usize = 8;

/// x0 of SMCCC `NOT_SUPPORTED` (-1), as firmware returns it for an unknown
/// function and as `FFA_VERSION` returns it.
pub const NOT_SUPPORTED: u64 = u64::MAX;

/// A reply with x0 = `x0`, x1–x7 zero and x8–x17 preserved from `call`.
pub fn with_x0(call: &Registers, x0: u64) -> Registers {
    let mut reply = [0u64; REGISTER_COUNT];
    reply[0] = x0;
    reply[FIRST_PRESERVED..].copy_from_slice(&call[FIRST_PRESERVED..]);
    reply
}

/// `FFA_ERROR` with w2 = `error` (upper half of x2 zero).
pub fn error(call: &Registers, error: FfaError) -> Registers {
    let mut reply = with_x0(call, u64::from(FFA_ERROR));
    reply[2] = u64::from(error.code() as u32);
    reply
}

/// `FFA_SUCCESS_32` with everything else zero.
pub fn success(call: &Registers) -> Registers {
    with_x0(call, u64::from(FFA_SUCCESS_32))
}

/// x0 = -1: how `FFA_VERSION` (and a monitor without FF-A) says `NOT_SUPPORTED`.
pub fn not_supported(call: &Registers) -> Registers {
    with_x0(call, NOT_SUPPORTED)
}

/// `FFA_VERSION`'s answer: x0 = the encoded version.
pub fn version(call: &Registers, version: Version) -> Registers {
    with_x0(call, u64::from(version.raw()))
}

/// A call of the proxy's own to the monitor: `function_id` in x0, then
/// `arguments` from x1; everything else zero.
pub fn call(function_id: u32, arguments: &[u64]) -> Registers {
    let mut registers = [0u64; REGISTER_COUNT];
    registers[0] = u64::from(function_id);
    let count = arguments.len().min(REGISTER_COUNT - 1);
    registers[1..=count].copy_from_slice(&arguments[..count]);
    registers
}

/// What a monitor's reply says, at the level finalisation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorReply {
    /// `FFA_SUCCESS_32` or `FFA_SUCCESS_64`.
    Success,
    /// `FFA_ERROR` with this code.
    Error(FfaError),
    /// x0 = -1 (in 32 or 64 bits): the function is not implemented at all.
    NotSupported,
    /// Anything else: x0 as a 32-bit value (a version, or another function ID).
    Other(u32),
}

impl MonitorReply {
    /// Classifies `reply`.
    pub fn classify(reply: &Registers) -> MonitorReply {
        let x0 = reply[0];
        if function::is_success(x0) {
            MonitorReply::Success
        } else if x0 == u64::from(FFA_ERROR) {
            MonitorReply::Error(FfaError::from_code_or_unknown(reply[2] as u32 as i32))
        } else if x0 as u32 == u32::MAX {
            MonitorReply::NotSupported
        } else {
            MonitorReply::Other(x0 as u32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_replies_define_x0_to_x7_and_preserve_the_rest() {
        let call: Registers = core::array::from_fn(|index| 100 + index as u64);
        for reply in [
            success(&call),
            not_supported(&call),
            version(&call, Version::V1_1),
            error(&call, FfaError::Busy),
        ] {
            assert!(reply[1..8].iter().enumerate().all(|(index, value)| {
                *value == 0 || (index + 1 == 2 && reply[0] == u64::from(FFA_ERROR))
            }));
            assert_eq!(&reply[8..], &call[8..]);
        }
        assert_eq!(version(&call, Version::V1_1)[0], 0x0001_0001);
        assert_eq!(not_supported(&call)[0], u64::MAX);
    }

    #[test]
    fn monitor_replies_are_classified() {
        let mut reply = [0u64; REGISTER_COUNT];
        reply[0] = 0xC400_0061;
        assert_eq!(MonitorReply::classify(&reply), MonitorReply::Success);
        reply[0] = 0xFFFF_FFFF;
        assert_eq!(MonitorReply::classify(&reply), MonitorReply::NotSupported);
        reply[0] = u64::MAX;
        assert_eq!(MonitorReply::classify(&reply), MonitorReply::NotSupported);
        reply[0] = 0x0001_0002;
        assert_eq!(
            MonitorReply::classify(&reply),
            MonitorReply::Other(0x0001_0002)
        );
        reply[0] = u64::from(FFA_ERROR);
        reply[2] = 0xFFFF_FFF6;
        assert_eq!(
            MonitorReply::classify(&reply),
            MonitorReply::Error(FfaError::NotReady)
        );
    }

    #[test]
    fn calls_put_arguments_from_x1() {
        let registers = call(0x8400_0063, &[0x0001_0002]);
        assert_eq!(&registers[..3], &[0x8400_0063, 0x0001_0002, 0]);
    }
}
