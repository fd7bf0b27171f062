//! SMC function IDs and the proxy's table of what it does with each FF-A call.
//!
//! The FF-A function identifiers themselves are the shared `ffa_abi::function`
//! table, re-exported here; this module adds the SMCCC layout of a function
//! ID, the FF-A range, and the proxy's mediation table.
//!
//! The table follows what Linux pKVM's FF-A proxy does (see the README):
//!
//! | mediation | functions |
//! |---|---|
//! | handled at EL2 | `FFA_VERSION`, `FFA_FEATURES` (filtered), `FFA_RXTX_MAP_64`, `FFA_RXTX_UNMAP`, `FFA_PARTITION_INFO_GET` |
//! | passed through | `FFA_ID_GET`, `FFA_RX_RELEASE`, `FFA_MSG_SEND_DIRECT_REQ_32/64`, `FFA_RUN`, `FFA_SPM_ID_GET` |
//! | refused (`NOT_SUPPORTED`) | everything else in the FF-A range: the 32-bit `FFA_RXTX_MAP`, all memory sharing, notifications, `FFA_MSG_SEND2`, `FFA_MSG_SEND_DIRECT_REQ2`, `FFA_PARTITION_INFO_GET_REGS`, `FFA_CONSOLE_LOG`, responses and calls only partitions make, unknown numbers |
//!
//! A call is in the FF-A range when it is a fast call of the standard
//! secure service owner with function number 0x60–0xEF (the range SMCCC
//! gives FF-A), in either calling convention. Anything else (PSCI, SMCCC
//! architecture calls, TRNG, vendor services) is not FF-A and is forwarded
//! unchanged.
//!
//! ```
//! use ffa_proxy::function::{self, Mediation};
//!
//! assert_eq!(function::mediation(function::FFA_RXTX_MAP_64), Mediation::HandledAtEl2);
//! assert_eq!(function::mediation(function::FFA_RXTX_MAP_32), Mediation::Refused);
//! assert_eq!(function::mediation(function::FFA_RUN), Mediation::PassedThrough);
//! assert!(!function::is_ffa_call(0x8400_0008)); // PSCI SYSTEM_OFF
//! ```

/// Bit 31 of a function ID: set for fast calls.
pub const FAST_CALL: u32 = 1 << 31;
/// Bit 30 of a function ID: set for the SMC64 calling convention.
pub const SMC64: u32 = 1 << 30;
/// Bits `[29:24]` of a function ID: the owning entity.
pub const OWNER_MASK: u32 = 0x3F << 24;
/// The standard secure service owner (PSCI, FF-A), in place.
pub const OWNER_STANDARD_SECURE_SERVICE: u32 = 4 << 24;
/// Bits `[15:0]` of a function ID: the function number.
pub const FUNCTION_NUMBER_MASK: u32 = 0xFFFF;
/// First function number SMCCC gives FF-A.
pub const FFA_FIRST_FUNCTION_NUMBER: u32 = 0x60;
/// Last function number SMCCC gives FF-A.
pub const FFA_LAST_FUNCTION_NUMBER: u32 = 0xEF;

/// The FF-A function identifiers, as raw constants (`FFA_VERSION`, ...) and
/// as [`FunctionId`], shared with the client through `ffa-abi`.
pub use ffa_abi::function::*;

/// `FFA_FEATURES` feature ID 1: the notification pending interrupt.
pub const FEATURE_NOTIFICATION_PENDING_INTERRUPT: u32 = 1;
/// `FFA_FEATURES` feature ID 2: the schedule receiver interrupt.
pub const FEATURE_SCHEDULE_RECEIVER_INTERRUPT: u32 = 2;

/// What the proxy does with an FF-A call once finalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Mediation {
    /// Handled at EL2, possibly with calls of the proxy's own to the monitor.
    HandledAtEl2,
    /// Forwarded to the monitor unchanged; the reply goes back unchanged.
    PassedThrough,
    /// Answered `FFA_ERROR(NOT_SUPPORTED)`: the proxy does not mediate it.
    Refused,
}

/// Whether `function_id` (w0) is in the FF-A range.
pub const fn is_ffa_call(function_id: u32) -> bool {
    let number = function_id & FUNCTION_NUMBER_MASK;
    function_id & FAST_CALL != 0
        && function_id & OWNER_MASK == OWNER_STANDARD_SECURE_SERVICE
        && number >= FFA_FIRST_FUNCTION_NUMBER
        && number <= FFA_LAST_FUNCTION_NUMBER
}

/// What the proxy does with FF-A call `function_id` (see the table above).
/// A function outside the FF-A range is [`Mediation::PassedThrough`].
pub const fn mediation(function_id: u32) -> Mediation {
    if !is_ffa_call(function_id) {
        return Mediation::PassedThrough;
    }
    match function_id {
        FFA_VERSION | FFA_FEATURES | FFA_RXTX_MAP_64 | FFA_RXTX_UNMAP | FFA_PARTITION_INFO_GET => {
            Mediation::HandledAtEl2
        }
        FFA_ID_GET
        | FFA_RX_RELEASE
        | FFA_MSG_SEND_DIRECT_REQ_32
        | FFA_MSG_SEND_DIRECT_REQ_64
        | FFA_RUN
        | FFA_SPM_ID_GET => Mediation::PassedThrough,
        _ => Mediation::Refused,
    }
}

/// Whether `x0` of a reply is `FFA_SUCCESS` (either convention).
pub const fn is_success(x0: u64) -> bool {
    x0 == FFA_SUCCESS_32 as u64 || x0 == FFA_SUCCESS_64 as u64
}

/// The name of `function_id` for logs (FF-A, plus the common SMCCC and PSCI calls).
pub const fn name(function_id: u32) -> &'static str {
    if let Some(function) = FunctionId::from_raw(function_id) {
        return function.name();
    }
    match function_id {
        0x8000_0001 => "SMCCC_ARCH_FEATURES",
        0x8400_0000 => "PSCI_VERSION",
        0x8400_0008 => "PSCI_SYSTEM_OFF",
        0x8400_0009 => "PSCI_SYSTEM_RESET",
        other if is_ffa_call(other) => "another FF-A function",
        _ => "a non-FF-A function",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn ffa_32(number: u32) -> u32 {
        FAST_CALL | OWNER_STANDARD_SECURE_SERVICE | number
    }

    const fn ffa_64(number: u32) -> u32 {
        FAST_CALL | SMC64 | OWNER_STANDARD_SECURE_SERVICE | number
    }

    #[test]
    fn the_ffa_range_is_standard_service_fast_calls_0x60_to_0xef() {
        assert!(is_ffa_call(FFA_VERSION));
        assert!(is_ffa_call(FFA_MSG_SEND_DIRECT_REQ2));
        assert!(is_ffa_call(ffa_32(0xEF)));
        assert!(
            !is_ffa_call(ffa_32(0xF0)),
            "0xF0.. belongs to other standard services"
        );
        assert!(!is_ffa_call(ffa_32(0x5F)), "TRNG and below");
        assert!(!is_ffa_call(0x8400_0008), "PSCI SYSTEM_OFF");
        assert!(!is_ffa_call(0x8000_0000), "SMCCC_VERSION");
        assert!(!is_ffa_call(0x0400_0063), "a yielding call is not FF-A");
        assert!(!is_ffa_call(0xC600_0063), "another owner");
    }

    #[test]
    fn handled_passed_through_and_refused_follow_pkvm() {
        let handled = [
            FFA_VERSION,
            FFA_FEATURES,
            FFA_RXTX_MAP_64,
            FFA_RXTX_UNMAP,
            FFA_PARTITION_INFO_GET,
        ];
        let passed_through = [
            FFA_ID_GET,
            FFA_RX_RELEASE,
            FFA_MSG_SEND_DIRECT_REQ_32,
            FFA_MSG_SEND_DIRECT_REQ_64,
            FFA_RUN,
            FFA_SPM_ID_GET,
        ];
        let refused = [
            FFA_ERROR,
            FFA_SUCCESS_32,
            FFA_INTERRUPT,
            FFA_RXTX_MAP_32,
            FFA_MSG_WAIT,
            FFA_YIELD,
            FFA_MSG_SEND_DIRECT_RESP_32,
            FFA_MSG_SEND_DIRECT_RESP_64,
            FFA_MEM_DONATE_64,
            FFA_MEM_LEND_32,
            FFA_MEM_LEND_64,
            FFA_MEM_SHARE_32,
            FFA_MEM_SHARE_64,
            FFA_MEM_RECLAIM,
            FFA_MEM_FRAG_TX,
            FFA_NOTIFICATION_BIND,
            FFA_NOTIFICATION_GET,
            FFA_RX_ACQUIRE,
            FFA_MSG_SEND2,
            FFA_CONSOLE_LOG_64,
            FFA_PARTITION_INFO_GET_REGS,
            FFA_MSG_SEND_DIRECT_REQ2,
            ffa_64(0x63),
            ffa_32(0xEF),
        ];
        for function in handled {
            assert_eq!(
                mediation(function),
                Mediation::HandledAtEl2,
                "{function:#x}"
            );
        }
        for function in passed_through {
            assert_eq!(
                mediation(function),
                Mediation::PassedThrough,
                "{function:#x}"
            );
        }
        for function in refused {
            assert_eq!(mediation(function), Mediation::Refused, "{function:#x}");
        }
        // Every FF-A number in either convention lands in exactly one class,
        // and only the eleven listed IDs are not refused.
        let mut not_refused = 0;
        for number in FFA_FIRST_FUNCTION_NUMBER..=FFA_LAST_FUNCTION_NUMBER {
            for function in [ffa_32(number), ffa_64(number)] {
                if mediation(function) != Mediation::Refused {
                    not_refused += 1;
                }
            }
        }
        assert_eq!(not_refused, handled.len() + passed_through.len());
    }

    #[test]
    fn names_cover_the_calls_in_logs() {
        assert_eq!(name(FFA_RXTX_MAP_64), "FFA_RXTX_MAP_64");
        assert_eq!(name(0x8400_0008), "PSCI_SYSTEM_OFF");
        assert_eq!(name(ffa_32(0xE0)), "another FF-A function");
        assert_eq!(name(0xC200_0000), "a non-FF-A function");
        assert!(is_success(u64::from(FFA_SUCCESS_64)));
        assert!(!is_success(u64::from(FFA_ERROR)));
    }
}
