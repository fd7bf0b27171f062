//! SMC function identifiers: FF-A (DEN0077A), SMCCC architecture calls and PSCI.
//!
//! Functions that exist in both SMC32 and SMC64 forms carry a `_32` / `_64`
//! suffix; functions with a single form have no suffix.

/// Bit 31 of a function ID: set for fast calls.
pub const FAST_CALL_BIT: u32 = 1 << 31;
/// Bit 30 of a function ID: set for the SMC64 calling convention.
pub const SMC64_BIT: u32 = 1 << 30;
/// Bits `[29:24]` of a function ID: the owning entity.
pub const OWNER_MASK: u32 = 0x3F << 24;
/// Owner value (in place) of the Arm architecture calls (SMCCC_*).
pub const OWNER_ARCHITECTURE: u32 = 0 << 24;
/// Owner value (in place) of the standard secure services (PSCI, FF-A).
pub const OWNER_STANDARD_SERVICE: u32 = 4 << 24;
/// Bits `[15:0]` of a function ID: the function number.
pub const FUNCTION_NUMBER_MASK: u32 = 0xFFFF;
/// First function number of the range SMCCC reserves for FF-A.
pub const FFA_FUNCTION_NUMBER_FIRST: u32 = 0x60;
/// Last function number of the range SMCCC reserves for FF-A.
pub const FFA_FUNCTION_NUMBER_LAST: u32 = 0xEF;

const fn ffa_32(number: u32) -> u32 {
    FAST_CALL_BIT | OWNER_STANDARD_SERVICE | number
}

const fn ffa_64(number: u32) -> u32 {
    FAST_CALL_BIT | SMC64_BIT | OWNER_STANDARD_SERVICE | number
}

/// Whether `function_id` uses the SMC64 calling convention.
pub const fn is_64_bit(function_id: u32) -> bool {
    function_id & SMC64_BIT != 0
}

/// Whether `function_id` lies in the FF-A range (fast call, standard service owner,
/// function number 0x60..=0xEF, SMC32 or SMC64, bits `[23:16]` zero).
pub const fn is_ffa(function_id: u32) -> bool {
    let without_width = function_id & !SMC64_BIT;
    let number = function_id & FUNCTION_NUMBER_MASK;
    without_width & 0xFFFF_0000 == FAST_CALL_BIT | OWNER_STANDARD_SERVICE
        && number >= FFA_FUNCTION_NUMBER_FIRST
        && number <= FFA_FUNCTION_NUMBER_LAST
}

/// `FFA_ERROR`: an FF-A call failed; w2 holds the error code.
pub const FFA_ERROR: u32 = ffa_32(0x60);
/// `FFA_SUCCESS` (SMC32 form).
pub const FFA_SUCCESS_32: u32 = ffa_32(0x61);
/// `FFA_SUCCESS` (SMC64 form).
pub const FFA_SUCCESS_64: u32 = ffa_64(0x61);
/// `FFA_INTERRUPT`: the callee was preempted by an interrupt.
pub const FFA_INTERRUPT: u32 = ffa_32(0x62);
/// `FFA_VERSION`.
pub const FFA_VERSION: u32 = ffa_32(0x63);
/// `FFA_FEATURES`.
pub const FFA_FEATURES: u32 = ffa_32(0x64);
/// `FFA_RX_RELEASE`.
pub const FFA_RX_RELEASE: u32 = ffa_32(0x65);
/// `FFA_RXTX_MAP` (SMC32 form).
pub const FFA_RXTX_MAP_32: u32 = ffa_32(0x66);
/// `FFA_RXTX_MAP` (SMC64 form).
pub const FFA_RXTX_MAP_64: u32 = ffa_64(0x66);
/// `FFA_RXTX_UNMAP`.
pub const FFA_RXTX_UNMAP: u32 = ffa_32(0x67);
/// `FFA_PARTITION_INFO_GET`.
pub const FFA_PARTITION_INFO_GET: u32 = ffa_32(0x68);
/// `FFA_ID_GET`.
pub const FFA_ID_GET: u32 = ffa_32(0x69);
/// `FFA_MSG_POLL` (deprecated in v1.1).
pub const FFA_MSG_POLL: u32 = ffa_32(0x6A);
/// `FFA_MSG_WAIT`.
pub const FFA_MSG_WAIT: u32 = ffa_32(0x6B);
/// `FFA_YIELD`.
pub const FFA_YIELD: u32 = ffa_32(0x6C);
/// `FFA_RUN`.
pub const FFA_RUN: u32 = ffa_32(0x6D);
/// `FFA_MSG_SEND` (deprecated in v1.1).
pub const FFA_MSG_SEND: u32 = ffa_32(0x6E);
/// `FFA_MSG_SEND_DIRECT_REQ` (SMC32 form).
pub const FFA_MSG_SEND_DIRECT_REQ_32: u32 = ffa_32(0x6F);
/// `FFA_MSG_SEND_DIRECT_REQ` (SMC64 form).
pub const FFA_MSG_SEND_DIRECT_REQ_64: u32 = ffa_64(0x6F);
/// `FFA_MSG_SEND_DIRECT_RESP` (SMC32 form).
pub const FFA_MSG_SEND_DIRECT_RESP_32: u32 = ffa_32(0x70);
/// `FFA_MSG_SEND_DIRECT_RESP` (SMC64 form).
pub const FFA_MSG_SEND_DIRECT_RESP_64: u32 = ffa_64(0x70);
/// `FFA_MEM_DONATE` (SMC32 form).
pub const FFA_MEM_DONATE_32: u32 = ffa_32(0x71);
/// `FFA_MEM_DONATE` (SMC64 form).
pub const FFA_MEM_DONATE_64: u32 = ffa_64(0x71);
/// `FFA_MEM_LEND` (SMC32 form).
pub const FFA_MEM_LEND_32: u32 = ffa_32(0x72);
/// `FFA_MEM_LEND` (SMC64 form).
pub const FFA_MEM_LEND_64: u32 = ffa_64(0x72);
/// `FFA_MEM_SHARE` (SMC32 form).
pub const FFA_MEM_SHARE_32: u32 = ffa_32(0x73);
/// `FFA_MEM_SHARE` (SMC64 form).
pub const FFA_MEM_SHARE_64: u32 = ffa_64(0x73);
/// `FFA_MEM_RETRIEVE_REQ` (SMC32 form).
pub const FFA_MEM_RETRIEVE_REQ_32: u32 = ffa_32(0x74);
/// `FFA_MEM_RETRIEVE_REQ` (SMC64 form).
pub const FFA_MEM_RETRIEVE_REQ_64: u32 = ffa_64(0x74);
/// `FFA_MEM_RETRIEVE_RESP`.
pub const FFA_MEM_RETRIEVE_RESP: u32 = ffa_32(0x75);
/// `FFA_MEM_RELINQUISH`.
pub const FFA_MEM_RELINQUISH: u32 = ffa_32(0x76);
/// `FFA_MEM_RECLAIM`.
pub const FFA_MEM_RECLAIM: u32 = ffa_32(0x77);
/// `FFA_MEM_OP_PAUSE`.
pub const FFA_MEM_OP_PAUSE: u32 = ffa_32(0x78);
/// `FFA_MEM_OP_RESUME`.
pub const FFA_MEM_OP_RESUME: u32 = ffa_32(0x79);
/// `FFA_MEM_FRAG_RX`.
pub const FFA_MEM_FRAG_RX: u32 = ffa_32(0x7A);
/// `FFA_MEM_FRAG_TX`.
pub const FFA_MEM_FRAG_TX: u32 = ffa_32(0x7B);
/// `FFA_NORMAL_WORLD_RESUME` (v1.1).
pub const FFA_NORMAL_WORLD_RESUME: u32 = ffa_32(0x7C);
/// `FFA_NOTIFICATION_BITMAP_CREATE` (v1.1).
pub const FFA_NOTIFICATION_BITMAP_CREATE: u32 = ffa_32(0x7D);
/// `FFA_NOTIFICATION_BITMAP_DESTROY` (v1.1).
pub const FFA_NOTIFICATION_BITMAP_DESTROY: u32 = ffa_32(0x7E);
/// `FFA_NOTIFICATION_BIND` (v1.1).
pub const FFA_NOTIFICATION_BIND: u32 = ffa_32(0x7F);
/// `FFA_NOTIFICATION_UNBIND` (v1.1).
pub const FFA_NOTIFICATION_UNBIND: u32 = ffa_32(0x80);
/// `FFA_NOTIFICATION_SET` (v1.1).
pub const FFA_NOTIFICATION_SET: u32 = ffa_32(0x81);
/// `FFA_NOTIFICATION_GET` (v1.1).
pub const FFA_NOTIFICATION_GET: u32 = ffa_32(0x82);
/// `FFA_NOTIFICATION_INFO_GET` (v1.1, SMC32 form).
pub const FFA_NOTIFICATION_INFO_GET_32: u32 = ffa_32(0x83);
/// `FFA_NOTIFICATION_INFO_GET` (v1.1, SMC64 form).
pub const FFA_NOTIFICATION_INFO_GET_64: u32 = ffa_64(0x83);
/// `FFA_RX_ACQUIRE` (v1.1).
pub const FFA_RX_ACQUIRE: u32 = ffa_32(0x84);
/// `FFA_SPM_ID_GET` (v1.1).
pub const FFA_SPM_ID_GET: u32 = ffa_32(0x85);
/// `FFA_MSG_SEND2` (v1.1).
pub const FFA_MSG_SEND2: u32 = ffa_32(0x86);
/// `FFA_SECONDARY_EP_REGISTER` (v1.1, SMC32 form).
pub const FFA_SECONDARY_EP_REGISTER_32: u32 = ffa_32(0x87);
/// `FFA_SECONDARY_EP_REGISTER` (v1.1, SMC64 form).
pub const FFA_SECONDARY_EP_REGISTER_64: u32 = ffa_64(0x87);
/// `FFA_MEM_PERM_GET` (v1.1, SMC32 form).
pub const FFA_MEM_PERM_GET_32: u32 = ffa_32(0x88);
/// `FFA_MEM_PERM_GET` (v1.1, SMC64 form).
pub const FFA_MEM_PERM_GET_64: u32 = ffa_64(0x88);
/// `FFA_MEM_PERM_SET` (v1.1, SMC32 form).
pub const FFA_MEM_PERM_SET_32: u32 = ffa_32(0x89);
/// `FFA_MEM_PERM_SET` (v1.1, SMC64 form).
pub const FFA_MEM_PERM_SET_64: u32 = ffa_64(0x89);
/// `FFA_CONSOLE_LOG` (v1.2, SMC32 form).
pub const FFA_CONSOLE_LOG_32: u32 = ffa_32(0x8A);
/// `FFA_CONSOLE_LOG` (v1.2, SMC64 form).
pub const FFA_CONSOLE_LOG_64: u32 = ffa_64(0x8A);
/// `FFA_PARTITION_INFO_GET_REGS` (v1.2, SMC64 only).
pub const FFA_PARTITION_INFO_GET_REGS: u32 = ffa_64(0x8B);
/// `FFA_EL3_INTR_HANDLE` (v1.2).
pub const FFA_EL3_INTR_HANDLE: u32 = ffa_32(0x8C);
/// `FFA_MSG_SEND_DIRECT_REQ2` (v1.2, SMC64 only).
pub const FFA_MSG_SEND_DIRECT_REQ2: u32 = ffa_64(0x8D);
/// `FFA_MSG_SEND_DIRECT_RESP2` (v1.2, SMC64 only).
pub const FFA_MSG_SEND_DIRECT_RESP2: u32 = ffa_64(0x8E);

/// `SMCCC_VERSION`.
pub const SMCCC_VERSION: u32 = 0x8000_0000;
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
