//! SMC function identifiers: FF-A (DEN0077A), SMCCC architecture calls and PSCI.
//!
//! The FF-A identifiers are the shared `ffa_abi::function` table,
//! re-exported here; this module adds the SMCCC architecture calls and PSCI.
//! Functions that exist in both SMC32 and SMC64 forms carry a `_32` / `_64`
//! suffix; functions with a single form have no suffix.

/// The FF-A function identifiers (`FFA_VERSION`, ...) and the SMCCC layout
/// of an identifier, from the shared vocabulary.
pub use ffa_abi::function::*;

/// Whether `function_id` uses the SMC64 calling convention.
pub const fn is_64_bit(function_id: u32) -> bool {
    function_id & SMC64 != 0
}

/// Whether `function_id` is a well-formed FF-A call: in the FF-A range
/// ([`in_ffa_range`]: fast call, standard service owner, function number
/// 0x60..=0xEF, SMC32 or SMC64) with bits `[23:16]` zero.
pub const fn is_ffa(function_id: u32) -> bool {
    in_ffa_range(function_id) && function_id & RESERVED_AND_HINT_BITS == 0
}

/// `SMCCC_ARCH_FEATURES`.
pub const SMCCC_ARCH_FEATURES: u32 = 0x8000_0001;
/// `SMCCC_ARCH_SOC_ID`.
pub const SMCCC_ARCH_SOC_ID: u32 = 0x8000_0002;
/// `SMCCC_ARCH_WORKAROUND_1`.
pub const SMCCC_ARCH_WORKAROUND_1: u32 = 0x8000_8000;
/// `SMCCC_ARCH_WORKAROUND_2`.
pub const SMCCC_ARCH_WORKAROUND_2: u32 = 0x8000_7FFF;
/// `SMCCC_ARCH_WORKAROUND_3`.
pub const SMCCC_ARCH_WORKAROUND_3: u32 = 0x8000_3FFF;

/// `PSCI_VERSION`.
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// `PSCI_CPU_SUSPEND` (SMC32 form).
pub const PSCI_CPU_SUSPEND_32: u32 = 0x8400_0001;
/// `PSCI_CPU_SUSPEND` (SMC64 form).
pub const PSCI_CPU_SUSPEND_64: u32 = 0xC400_0001;
/// `PSCI_CPU_OFF`.
pub const PSCI_CPU_OFF: u32 = 0x8400_0002;
/// `PSCI_CPU_ON` (SMC32 form).
pub const PSCI_CPU_ON_32: u32 = 0x8400_0003;
/// `PSCI_CPU_ON` (SMC64 form).
pub const PSCI_CPU_ON_64: u32 = 0xC400_0003;
/// `PSCI_AFFINITY_INFO` (SMC32 form).
pub const PSCI_AFFINITY_INFO_32: u32 = 0x8400_0004;
/// `PSCI_AFFINITY_INFO` (SMC64 form).
pub const PSCI_AFFINITY_INFO_64: u32 = 0xC400_0004;
/// `PSCI_MIGRATE_INFO_TYPE`.
pub const PSCI_MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
/// `PSCI_SYSTEM_OFF`.
pub const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;
/// `PSCI_SYSTEM_RESET`.
pub const PSCI_SYSTEM_RESET: u32 = 0x8400_0009;
/// `PSCI_FEATURES`.
pub const PSCI_FEATURES: u32 = 0x8400_000A;
/// `PSCI_SYSTEM_SUSPEND` (SMC32 form).
pub const PSCI_SYSTEM_SUSPEND_32: u32 = 0x8400_000E;
/// `PSCI_SYSTEM_SUSPEND` (SMC64 form).
pub const PSCI_SYSTEM_SUSPEND_64: u32 = 0xC400_000E;
/// `PSCI_SYSTEM_RESET2` (SMC32 form).
pub const PSCI_SYSTEM_RESET2_32: u32 = 0x8400_0012;
/// `PSCI_SYSTEM_RESET2` (SMC64 form).
pub const PSCI_SYSTEM_RESET2_64: u32 = 0xC400_0012;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffa_range_is_recognised() {
        assert!(is_ffa(FFA_ERROR));
        assert!(is_ffa(FFA_MSG_SEND_DIRECT_RESP2));
        assert!(is_ffa(0x8400_00EF));
        assert!(!is_ffa(0x8400_00F0));
        assert!(!is_ffa(PSCI_SYSTEM_OFF));
        assert!(!is_ffa(SMCCC_VERSION));
        assert!(!is_ffa(0x0400_0063), "yielding calls are not FF-A");
        assert!(!is_ffa(0x8401_0063), "bits [23:16] must be zero");
    }

    #[test]
    fn widths_are_recognised() {
        assert!(is_64_bit(FFA_RXTX_MAP_64));
        assert!(!is_64_bit(FFA_RXTX_MAP_32));
        assert_eq!(FFA_MSG_SEND_DIRECT_REQ2, 0xC400_008D);
        assert_eq!(FFA_PARTITION_INFO_GET_REGS, 0xC400_008B);
    }
}
