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
//! | handled at EL2 | `FFA_VERSION`, `FFA_FEATURES` (filtered), `FFA_RXTX_MAP_64`, `FFA_RXTX_UNMAP`, `FFA_PARTITION_INFO_GET`, `FFA_NOTIFICATION_BIND/UNBIND/SET/GET` (the IDs checked; `GET` carries the indirect message into the host's RX), `FFA_MSG_SEND2` (the message copied into the proxy's TX), `FFA_MEM_SHARE`/`FFA_MEM_LEND` (32/64), `FFA_MEM_FRAG_TX`, `FFA_MEM_RECLAIM` (copied, checked, the pages' ownership moved: `crate::sharing`) |
//! | passed through | `FFA_ID_GET`, `FFA_RX_RELEASE`, `FFA_MSG_SEND_DIRECT_REQ_32/64`, `FFA_RUN`, `FFA_SPM_ID_GET`, `FFA_NOTIFICATION_INFO_GET` (32/64) |
//! | refused (`NOT_SUPPORTED`) | everything else in the FF-A range: the 32-bit `FFA_RXTX_MAP`, `FFA_MEM_DONATE` and the borrower's memory calls, `FFA_NOTIFICATION_BITMAP_CREATE/DESTROY` and `FFA_RX_ACQUIRE` (the hypervisor's calls: the proxy makes the host's bitmap), `FFA_MSG_SEND_DIRECT_REQ2`, `FFA_PARTITION_INFO_GET_REGS`, `FFA_CONSOLE_LOG`, responses and calls only partitions make, unknown numbers |
//!
//! `crate::messages` says what the proxy checks and copies for
//! notifications and indirect messages, and why.
//!
//! A call is FF-A when it is in the range SMCCC gives FF-A
//! ([`in_ffa_range`]: a fast call of the standard secure service owner with
//! function number 0x60–0xEF, in either calling convention, whatever its
//! hint bits hold). Anything else (PSCI, SMCCC architecture calls, TRNG,
//! vendor services) is not FF-A and is forwarded unchanged.
//!
//! ```
//! use capsule_ffa_proxy::function::{self, Mediation};
//!
//! assert_eq!(function::mediation(function::FFA_RXTX_MAP_64), Mediation::HandledAtEl2);
//! assert_eq!(function::mediation(function::FFA_RXTX_MAP_32), Mediation::Refused);
//! assert_eq!(function::mediation(function::FFA_RUN), Mediation::PassedThrough);
//! assert!(!function::in_ffa_range(0x8400_0008)); // PSCI SYSTEM_OFF
//! ```

/// The FF-A function identifiers, as raw constants (`FFA_VERSION`, ...) and
/// as [`FunctionId`], and the SMCCC layout of an identifier, from the shared
/// vocabulary.
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

/// What the proxy does with FF-A call `function_id` (see the table above).
/// A function outside the FF-A range is [`Mediation::PassedThrough`].
pub const fn mediation(function_id: u32) -> Mediation {
    if !in_ffa_range(function_id) {
        return Mediation::PassedThrough;
    }
    match function_id {
        FFA_VERSION
        | FFA_FEATURES
        | FFA_RXTX_MAP_64
        | FFA_RXTX_UNMAP
        | FFA_PARTITION_INFO_GET
        | FFA_NOTIFICATION_BIND
        | FFA_NOTIFICATION_UNBIND
        | FFA_NOTIFICATION_SET
        | FFA_NOTIFICATION_GET
        | FFA_MSG_SEND2
        | FFA_MEM_SHARE_32
        | FFA_MEM_SHARE_64
        | FFA_MEM_LEND_32
        | FFA_MEM_LEND_64
        | FFA_MEM_FRAG_TX
        | FFA_MEM_RECLAIM => Mediation::HandledAtEl2,
        FFA_ID_GET
        | FFA_RX_RELEASE
        | FFA_MSG_SEND_DIRECT_REQ_32
        | FFA_MSG_SEND_DIRECT_REQ_64
        | FFA_RUN
        | FFA_SPM_ID_GET
        | FFA_NOTIFICATION_INFO_GET_32
        | FFA_NOTIFICATION_INFO_GET_64 => Mediation::PassedThrough,
        _ => Mediation::Refused,
    }
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
        other if in_ffa_range(other) => "another FF-A function",
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
    fn handled_passed_through_and_refused_follow_pkvm() {
        let handled = [
            FFA_VERSION,
            FFA_FEATURES,
            FFA_RXTX_MAP_64,
            FFA_RXTX_UNMAP,
            FFA_PARTITION_INFO_GET,
            FFA_NOTIFICATION_BIND,
            FFA_NOTIFICATION_UNBIND,
            FFA_NOTIFICATION_SET,
            FFA_NOTIFICATION_GET,
            FFA_MSG_SEND2,
            FFA_MEM_SHARE_32,
            FFA_MEM_SHARE_64,
            FFA_MEM_LEND_32,
            FFA_MEM_LEND_64,
            FFA_MEM_FRAG_TX,
            FFA_MEM_RECLAIM,
        ];
        let passed_through = [
            FFA_ID_GET,
            FFA_RX_RELEASE,
            FFA_MSG_SEND_DIRECT_REQ_32,
            FFA_MSG_SEND_DIRECT_REQ_64,
            FFA_RUN,
            FFA_SPM_ID_GET,
            FFA_NOTIFICATION_INFO_GET_32,
            FFA_NOTIFICATION_INFO_GET_64,
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
            FFA_MEM_DONATE_32,
            FFA_MEM_DONATE_64,
            FFA_MEM_RETRIEVE_REQ_32,
            FFA_MEM_RETRIEVE_REQ_64,
            FFA_MEM_RETRIEVE_RESP,
            FFA_MEM_RELINQUISH,
            FFA_MEM_OP_PAUSE,
            FFA_MEM_OP_RESUME,
            FFA_MEM_FRAG_RX,
            FFA_NOTIFICATION_BITMAP_CREATE,
            FFA_NOTIFICATION_BITMAP_DESTROY,
            FFA_RX_ACQUIRE,
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
        // and only the IDs listed are not refused.
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
    }
}
