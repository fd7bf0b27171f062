//! Reply classification: what x0 (and, for `FFA_ERROR`, w2) of an SMCCC
//! reply says, before any call-specific meaning is read into it.
//!
//! Every caller of FF-A reads replies the same way first: `FFA_SUCCESS`,
//! `FFA_ERROR` with a status, SMCCC's bare `NOT_SUPPORTED` (-1, as firmware
//! answers a function it does not implement), another function ID from the
//! table (`FFA_INTERRUPT`, a direct response, ...), or a plain value (a
//! version, an ID that is not in the table). The function ID is w0: the
//! upper half of x0 is not part of it. The FF-A client, the EL2 proxy and
//! the secure-world model's trace all classify through [`ReplyKind::of`].
//!
//! ```
//! use ffa_abi::{CallWidth, FunctionId, ReplyKind, Status};
//!
//! assert_eq!(ReplyKind::of(0xC400_0061, 0), ReplyKind::Success(CallWidth::Bits64));
//! assert_eq!(ReplyKind::of(0x8400_0060, 0xFFFF_FFFA), ReplyKind::Error(Status::Denied));
//! assert_eq!(ReplyKind::of(u64::MAX, 0), ReplyKind::NotSupported);
//! assert_eq!(ReplyKind::of(0x8400_0062, 0), ReplyKind::Function(FunctionId::Interrupt));
//! assert_eq!(ReplyKind::of(0x0001_0002, 0), ReplyKind::Value(0x0001_0002));
//! ```

use crate::function::{self, CallWidth, FunctionId};
use crate::status::Status;

/// What a reply is, read from x0 (and w2 for `FFA_ERROR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyKind {
    /// `FFA_SUCCESS`, in this width.
    Success(CallWidth),
    /// `FFA_ERROR` with the status in w2. A code that is not negative (not
    /// an error at all) is [`Status::Unknown`] with that code.
    Error(Status),
    /// w0 = -1: SMCCC `NOT_SUPPORTED`, the function is not implemented.
    NotSupported,
    /// Another function ID from the table: `FFA_INTERRUPT`, `FFA_YIELD`, a
    /// direct response, ...
    Function(FunctionId),
    /// Anything else in w0: a version, a value, an ID not in the table.
    Value(u32),
}

impl ReplyKind {
    /// Classifies a reply from its x0 and x2.
    #[inline]
    pub const fn of(x0: u64, x2: u64) -> ReplyKind {
        // The replies that answer most calls are matched here; the rest of
        // the function table is searched out of line, which keeps this
        // small enough to inline into every caller.
        match x0 as u32 {
            u32::MAX => ReplyKind::NotSupported,
            function::FFA_SUCCESS_32 => ReplyKind::Success(CallWidth::Bits32),
            function::FFA_SUCCESS_64 => ReplyKind::Success(CallWidth::Bits64),
            function::FFA_ERROR => ReplyKind::Error(Status::from_code_or_unknown(x2 as u32 as i32)),
            function::FFA_MSG_SEND_DIRECT_RESP_32 => {
                ReplyKind::Function(FunctionId::DirectResponse32)
            }
            function::FFA_MSG_SEND_DIRECT_RESP_64 => {
                ReplyKind::Function(FunctionId::DirectResponse64)
            }
            w0 => ReplyKind::of_other(w0),
        }
    }

    /// Any other w0: a function from the table, or a value.
    #[inline(never)]
    const fn of_other(w0: u32) -> ReplyKind {
        match FunctionId::from_raw(w0) {
            Some(function) => ReplyKind::Function(function),
            None => ReplyKind::Value(w0),
        }
    }

    /// Classifies a reply from its registers (x0 and x2; missing ones read as 0).
    pub fn of_registers(registers: &[u64]) -> ReplyKind {
        let register = |index: usize| registers.get(index).copied().unwrap_or(0);
        ReplyKind::of(register(0), register(2))
    }

    /// Whether this is `FFA_SUCCESS` (either width).
    pub const fn is_success(self) -> bool {
        matches!(self, ReplyKind::Success(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_id_is_w0() {
        assert_eq!(
            ReplyKind::of(0xFFFF_FFFF_8400_0061, 0),
            ReplyKind::Success(CallWidth::Bits32)
        );
        assert_eq!(ReplyKind::of(0xFFFF_FFFF, 0), ReplyKind::NotSupported);
        assert_eq!(ReplyKind::of(0x1_0000_0000, 0), ReplyKind::Value(0));
    }

    #[test]
    fn error_codes_come_from_w2_and_non_errors_are_unknown() {
        assert_eq!(
            ReplyKind::of(0x8400_0060, 0xFFFF_FFF6),
            ReplyKind::Error(Status::NotReady)
        );
        assert_eq!(
            ReplyKind::of(0x8400_0060, 0xDEAD_0000_0000_0005),
            ReplyKind::Error(Status::Unknown(5))
        );
        assert_eq!(
            ReplyKind::of_registers(&[0x8400_0060, 0, 0xFFFF_FFFE]),
            ReplyKind::Error(Status::InvalidParameters)
        );
        assert_eq!(
            ReplyKind::of_registers(&[0x8400_0060]),
            ReplyKind::Error(Status::Unknown(0))
        );
    }

    #[test]
    fn table_functions_and_values() {
        assert_eq!(
            ReplyKind::of(0xC400_008E, 0),
            ReplyKind::Function(FunctionId::DirectResponse2)
        );
        assert_eq!(ReplyKind::of(0x8400_00EF, 0), ReplyKind::Value(0x8400_00EF));
        assert!(ReplyKind::of(0x8400_0061, 0).is_success());
        assert!(!ReplyKind::of(0x8400_0060, 0).is_success());
    }
}
