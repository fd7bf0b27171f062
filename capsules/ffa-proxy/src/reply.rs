//! Building the replies the proxy gives itself, and the calls it makes.
//!
//! Replies built at EL2 follow the register conventions of SMCCC v1.2 and
//! of the monitor the host would otherwise talk to: x0–x7 are defined (what
//! is not set is zero) and x8–x17 are the caller's, preserved. The monitor's
//! replies are read with the shared classification, [`ffa_abi::ReplyKind`].
//!
//! ```
//! use capsule_ffa_proxy::reply;
//! use ffa_abi::{ReplyKind, Status};
//!
//! let call = [7u64; 18];
//! let error = reply::error(&call, Status::Denied);
//! assert_eq!(&error[..4], &[0x8400_0060, 0, 0xFFFF_FFFA, 0]);
//! assert_eq!(error[8], 7); // x8–x17 preserved
//! assert_eq!(reply::kind(&error), ReplyKind::Error(Status::Denied));
//! ```

use crate::function::{FFA_ERROR, FFA_SUCCESS_32};
use crate::{Registers, REGISTER_COUNT};
use ffa_abi::{ReplyKind, Status, Version};

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

/// `FFA_ERROR` with w2 = `status` (upper half of x2 zero).
pub fn error(call: &Registers, status: Status) -> Registers {
    let mut reply = with_x0(call, u64::from(FFA_ERROR));
    reply[2] = status.register_value();
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

/// What `reply` is, in the shared classification.
pub const fn kind(reply: &Registers) -> ReplyKind {
    ReplyKind::of(reply[0], reply[2])
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
            error(&call, Status::Busy),
        ] {
            assert!(reply[1..8].iter().enumerate().all(|(index, value)| {
                *value == 0 || (index + 1 == 2 && reply[0] == u64::from(FFA_ERROR))
            }));
            assert_eq!(&reply[8..], &call[8..]);
        }
        assert_eq!(version(&call, Version::V1_1)[0], 0x0001_0001);
        assert_eq!(not_supported(&call)[0], u64::MAX);
        assert_eq!(kind(&not_supported(&call)), ReplyKind::NotSupported);
    }

    #[test]
    fn calls_put_arguments_from_x1() {
        let registers = call(0x8400_0063, &[0x0001_0002]);
        assert_eq!(&registers[..3], &[0x8400_0063, 0x0001_0002, 0]);
    }
}
