//! FF-A and SMCCC function identifiers, their names, and the calling-convention widths.
//!
//! A function identifier goes in w0 of a call. 32-bit calls are
//! `0x8400_00NN`, 64-bit calls `0xC400_00NN`; the same `NN` names the same
//! ABI in both widths. Every identifier exists twice, from one table (every
//! FF-A function of DEN0077A v1.2, and `SMCCC_VERSION`): as a raw `u32`
//! constant with the specification's name (for matching on w0) and as a
//! [`FunctionId`] variant.
//!
//! The SMCCC layout of an identifier ([`FAST_CALL`], [`SMC64`],
//! [`OWNER_MASK`], ...) and the range SMCCC gives FF-A ([`in_ffa_range`])
//! are here too.
//!
//! ```
//! use ffa_abi::function::{self, CallWidth, FunctionId};
//!
//! assert_eq!(FunctionId::DirectRequest64.raw(), 0xC400_006F);
//! assert_eq!(FunctionId::from_raw(0x8400_0061), Some(FunctionId::Success32));
//! assert_eq!(FunctionId::RxTxMap64.raw(), function::FFA_RXTX_MAP_64);
//! assert_eq!(FunctionId::RxTxMap64.name(), "FFA_RXTX_MAP_64");
//! assert_eq!(FunctionId::RxTxMap64.width(), CallWidth::Bits64);
//! assert!(function::in_ffa_range(function::FFA_MEM_RETRIEVE_REQ_64));
//! assert!(!function::in_ffa_range(0x8400_0008)); // PSCI SYSTEM_OFF
//! ```

/// Bit 31 of a function ID: set for fast calls.
pub const FAST_CALL: u32 = 1 << 31;
/// Bit 30 of a function ID: set for the SMC64/HVC64 calling convention.
pub const SMC64: u32 = 1 << 30;
/// Bits `[29:24]` of a function ID: the owning entity.
pub const OWNER_MASK: u32 = 0x3F << 24;
/// The Arm architecture calls' owner (`SMCCC_*`), in place.
pub const OWNER_ARCHITECTURE: u32 = 0;
/// The standard secure service owner (PSCI, FF-A), in place.
pub const OWNER_STANDARD_SECURE_SERVICE: u32 = 4 << 24;
/// Bits `[23:16]` of a function ID: zero, except bit 16, which SMCCC v1.3
/// lets a caller set as a hint (its SVE state need not be preserved).
pub const RESERVED_AND_HINT_BITS: u32 = 0xFF << 16;
/// Bit 16 of a function ID: the SMCCC v1.3 SVE hint. A caller sets it to
/// say its SVE state (the upper bits of the vector registers, the predicate
/// registers) need not be preserved; it is not part of the function's
/// identity, so a callee clears it before matching the ID (Hafnium's SMC
/// handler does, as SMCCC v1.3 asks).
pub const SVE_HINT: u32 = 1 << 16;
/// Bits `[15:0]` of a function ID: the function number.
pub const FUNCTION_NUMBER_MASK: u32 = 0xFFFF;
/// First function number SMCCC gives FF-A.
pub const FFA_FIRST_FUNCTION_NUMBER: u32 = 0x60;
/// Last function number SMCCC gives FF-A.
pub const FFA_LAST_FUNCTION_NUMBER: u32 = 0xEF;

/// Whether `function_id` (w0) is in the range SMCCC gives FF-A: a fast call
/// of the standard secure service owner with function number 0x60–0xEF, in
/// either width, whatever bits `[23:16]` hold. (A callee that accepts only
/// well-formed calls also checks [`RESERVED_AND_HINT_BITS`].)
pub const fn in_ffa_range(function_id: u32) -> bool {
    let number = function_id & FUNCTION_NUMBER_MASK;
    function_id & FAST_CALL != 0
        && function_id & OWNER_MASK == OWNER_STANDARD_SECURE_SERVICE
        && number >= FFA_FIRST_FUNCTION_NUMBER
        && number <= FFA_LAST_FUNCTION_NUMBER
}

/// `function_id` (w0) without the SMCCC v1.3 SVE hint ([`SVE_HINT`]): the
/// identifier to match on.
///
/// ```
/// use ffa_abi::function::{self, without_sve_hint};
///
/// assert_eq!(without_sve_hint(0x8401_0063), function::FFA_VERSION);
/// assert_eq!(without_sve_hint(0x8402_0063), 0x8402_0063); // other bits stay
/// ```
pub const fn without_sve_hint(function_id: u32) -> u32 {
    function_id & !SVE_HINT
}

/// The register width a call uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CallWidth {
    /// SMC32/HVC32: arguments and results in w registers.
    Bits32,
    /// SMC64/HVC64: arguments and results in x registers.
    Bits64,
}

macro_rules! function_ids {
    ($($(#[$meta:meta])* $name:ident = $constant:ident: $value:expr,)*) => {
        $($(#[$meta])* pub const $constant: u32 = $value;)*

        /// An FF-A (or SMCCC) function identifier.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum FunctionId {
            $($(#[$meta])* $name,)*
        }

        impl FunctionId {
            /// The raw 32-bit identifier.
            #[inline]
            pub const fn raw(self) -> u32 {
                match self {
                    $(FunctionId::$name => $constant,)*
                }
            }

            /// The function with this raw identifier, if it is in the table.
            pub const fn from_raw(raw: u32) -> Option<FunctionId> {
                match raw {
                    $($constant => Some(FunctionId::$name),)*
                    _ => None,
                }
            }

            /// The specification's name, for logs (`FFA_RXTX_MAP_64`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(FunctionId::$name => stringify!($constant),)*
                }
            }
        }
    };
}

function_ids! {
    /// `SMCCC_VERSION`: the Arm architecture call reporting the SMCCC version (not FF-A).
    SmcccVersion = SMCCC_VERSION: 0x8000_0000,
    /// `FFA_ERROR`: w2 holds the error code.
    Error = FFA_ERROR: 0x8400_0060,
    /// `FFA_SUCCESS`, 32-bit form.
    Success32 = FFA_SUCCESS_32: 0x8400_0061,
    /// `FFA_SUCCESS`, 64-bit form.
    Success64 = FFA_SUCCESS_64: 0xC400_0061,
    /// `FFA_INTERRUPT`: the callee was preempted by an interrupt.
    Interrupt = FFA_INTERRUPT: 0x8400_0062,
    /// `FFA_VERSION`.
    Version = FFA_VERSION: 0x8400_0063,
    /// `FFA_FEATURES`.
    Features = FFA_FEATURES: 0x8400_0064,
    /// `FFA_RX_RELEASE`.
    RxRelease = FFA_RX_RELEASE: 0x8400_0065,
    /// `FFA_RXTX_MAP`, 32-bit form.
    RxTxMap32 = FFA_RXTX_MAP_32: 0x8400_0066,
    /// `FFA_RXTX_MAP`, 64-bit form.
    RxTxMap64 = FFA_RXTX_MAP_64: 0xC400_0066,
    /// `FFA_RXTX_UNMAP`.
    RxTxUnmap = FFA_RXTX_UNMAP: 0x8400_0067,
    /// `FFA_PARTITION_INFO_GET`.
    PartitionInfoGet = FFA_PARTITION_INFO_GET: 0x8400_0068,
    /// `FFA_ID_GET`.
    IdGet = FFA_ID_GET: 0x8400_0069,
    /// `FFA_MSG_POLL` (deprecated in v1.1).
    MessagePoll = FFA_MSG_POLL: 0x8400_006A,
    /// `FFA_MSG_WAIT`.
    MessageWait = FFA_MSG_WAIT: 0x8400_006B,
    /// `FFA_YIELD`: the callee gave up its CPU time.
    Yield = FFA_YIELD: 0x8400_006C,
    /// `FFA_RUN`: resumes a preempted or yielded partition.
    Run = FFA_RUN: 0x8400_006D,
    /// `FFA_MSG_SEND` (deprecated in v1.1).
    MessageSend = FFA_MSG_SEND: 0x8400_006E,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 32-bit form.
    DirectRequest32 = FFA_MSG_SEND_DIRECT_REQ_32: 0x8400_006F,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 64-bit form.
    DirectRequest64 = FFA_MSG_SEND_DIRECT_REQ_64: 0xC400_006F,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 32-bit form.
    DirectResponse32 = FFA_MSG_SEND_DIRECT_RESP_32: 0x8400_0070,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 64-bit form.
    DirectResponse64 = FFA_MSG_SEND_DIRECT_RESP_64: 0xC400_0070,
    /// `FFA_MEM_DONATE`, 32-bit form.
    MemoryDonate32 = FFA_MEM_DONATE_32: 0x8400_0071,
    /// `FFA_MEM_DONATE`, 64-bit form.
    MemoryDonate64 = FFA_MEM_DONATE_64: 0xC400_0071,
    /// `FFA_MEM_LEND`, 32-bit form.
    MemoryLend32 = FFA_MEM_LEND_32: 0x8400_0072,
    /// `FFA_MEM_LEND`, 64-bit form.
    MemoryLend64 = FFA_MEM_LEND_64: 0xC400_0072,
    /// `FFA_MEM_SHARE`, 32-bit form.
    MemoryShare32 = FFA_MEM_SHARE_32: 0x8400_0073,
    /// `FFA_MEM_SHARE`, 64-bit form.
    MemoryShare64 = FFA_MEM_SHARE_64: 0xC400_0073,
    /// `FFA_MEM_RETRIEVE_REQ`, 32-bit form.
    MemoryRetrieveRequest32 = FFA_MEM_RETRIEVE_REQ_32: 0x8400_0074,
    /// `FFA_MEM_RETRIEVE_REQ`, 64-bit form.
    MemoryRetrieveRequest64 = FFA_MEM_RETRIEVE_REQ_64: 0xC400_0074,
    /// `FFA_MEM_RETRIEVE_RESP`.
    MemoryRetrieveResponse = FFA_MEM_RETRIEVE_RESP: 0x8400_0075,
    /// `FFA_MEM_RELINQUISH`.
    MemoryRelinquish = FFA_MEM_RELINQUISH: 0x8400_0076,
    /// `FFA_MEM_RECLAIM`.
    MemoryReclaim = FFA_MEM_RECLAIM: 0x8400_0077,
    /// `FFA_MEM_OP_PAUSE`.
    MemoryOperationPause = FFA_MEM_OP_PAUSE: 0x8400_0078,
    /// `FFA_MEM_OP_RESUME`.
    MemoryOperationResume = FFA_MEM_OP_RESUME: 0x8400_0079,
    /// `FFA_MEM_FRAG_RX`: the next fragment of a memory transaction descriptor, to the receiver.
    MemoryFragmentReceive = FFA_MEM_FRAG_RX: 0x8400_007A,
    /// `FFA_MEM_FRAG_TX`: the next fragment of a memory transaction descriptor.
    MemoryFragmentTransmit = FFA_MEM_FRAG_TX: 0x8400_007B,
    /// `FFA_NORMAL_WORLD_RESUME` (v1.1).
    NormalWorldResume = FFA_NORMAL_WORLD_RESUME: 0x8400_007C,
    /// `FFA_NOTIFICATION_BITMAP_CREATE` (v1.1).
    NotificationBitmapCreate = FFA_NOTIFICATION_BITMAP_CREATE: 0x8400_007D,
    /// `FFA_NOTIFICATION_BITMAP_DESTROY` (v1.1).
    NotificationBitmapDestroy = FFA_NOTIFICATION_BITMAP_DESTROY: 0x8400_007E,
    /// `FFA_NOTIFICATION_BIND` (v1.1).
    NotificationBind = FFA_NOTIFICATION_BIND: 0x8400_007F,
    /// `FFA_NOTIFICATION_UNBIND` (v1.1).
    NotificationUnbind = FFA_NOTIFICATION_UNBIND: 0x8400_0080,
    /// `FFA_NOTIFICATION_SET` (v1.1).
    NotificationSet = FFA_NOTIFICATION_SET: 0x8400_0081,
    /// `FFA_NOTIFICATION_GET` (v1.1).
    NotificationGet = FFA_NOTIFICATION_GET: 0x8400_0082,
    /// `FFA_NOTIFICATION_INFO_GET`, 32-bit form (v1.1).
    NotificationInfoGet32 = FFA_NOTIFICATION_INFO_GET_32: 0x8400_0083,
    /// `FFA_NOTIFICATION_INFO_GET`, 64-bit form (v1.1).
    NotificationInfoGet64 = FFA_NOTIFICATION_INFO_GET_64: 0xC400_0083,
    /// `FFA_RX_ACQUIRE` (v1.1).
    RxAcquire = FFA_RX_ACQUIRE: 0x8400_0084,
    /// `FFA_SPM_ID_GET` (v1.1).
    SpmIdGet = FFA_SPM_ID_GET: 0x8400_0085,
    /// `FFA_MSG_SEND2` (v1.1).
    MessageSend2 = FFA_MSG_SEND2: 0x8400_0086,
    /// `FFA_SECONDARY_EP_REGISTER`, 32-bit form (v1.1).
    SecondaryEntryPointRegister32 = FFA_SECONDARY_EP_REGISTER_32: 0x8400_0087,
    /// `FFA_SECONDARY_EP_REGISTER`, 64-bit form (v1.1).
    SecondaryEntryPointRegister64 = FFA_SECONDARY_EP_REGISTER_64: 0xC400_0087,
    /// `FFA_MEM_PERM_GET`, 32-bit form (v1.1).
    MemoryPermissionGet32 = FFA_MEM_PERM_GET_32: 0x8400_0088,
    /// `FFA_MEM_PERM_GET`, 64-bit form (v1.1).
    MemoryPermissionGet64 = FFA_MEM_PERM_GET_64: 0xC400_0088,
    /// `FFA_MEM_PERM_SET`, 32-bit form (v1.1).
    MemoryPermissionSet32 = FFA_MEM_PERM_SET_32: 0x8400_0089,
    /// `FFA_MEM_PERM_SET`, 64-bit form (v1.1).
    MemoryPermissionSet64 = FFA_MEM_PERM_SET_64: 0xC400_0089,
    /// `FFA_CONSOLE_LOG`, 32-bit form (v1.2).
    ConsoleLog32 = FFA_CONSOLE_LOG_32: 0x8400_008A,
    /// `FFA_CONSOLE_LOG`, 64-bit form (v1.2).
    ConsoleLog64 = FFA_CONSOLE_LOG_64: 0xC400_008A,
    /// `FFA_PARTITION_INFO_GET_REGS` (v1.2, 64-bit only).
    PartitionInfoGetRegisters = FFA_PARTITION_INFO_GET_REGS: 0xC400_008B,
    /// `FFA_EL3_INTR_HANDLE` (v1.2).
    El3InterruptHandle = FFA_EL3_INTR_HANDLE: 0x8400_008C,
    /// `FFA_MSG_SEND_DIRECT_REQ2` (v1.2, 64-bit only).
    DirectRequest2 = FFA_MSG_SEND_DIRECT_REQ2: 0xC400_008D,
    /// `FFA_MSG_SEND_DIRECT_RESP2` (v1.2, 64-bit only).
    DirectResponse2 = FFA_MSG_SEND_DIRECT_RESP2: 0xC400_008E,
}

impl FunctionId {
    /// Whether this is a 32-bit or a 64-bit call.
    #[inline]
    pub const fn width(self) -> CallWidth {
        if self.raw() & 0x4000_0000 != 0 {
            CallWidth::Bits64
        } else {
            CallWidth::Bits32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_identifiers_round_trip_and_names_are_the_constants() {
        for raw in [
            SMCCC_VERSION,
            FFA_ERROR,
            FFA_SUCCESS_64,
            FFA_RXTX_MAP_32,
            FFA_RXTX_MAP_64,
            FFA_MEM_FRAG_TX,
            FFA_MSG_SEND_DIRECT_RESP2,
        ] {
            let function = FunctionId::from_raw(raw).expect("in the table");
            assert_eq!(function.raw(), raw);
        }
        assert_eq!(FunctionId::from_raw(0x8400_0008), None, "PSCI SYSTEM_OFF");
        assert_eq!(FunctionId::SmcccVersion.name(), "SMCCC_VERSION");
        assert_eq!(
            FunctionId::DirectRequest2.name(),
            "FFA_MSG_SEND_DIRECT_REQ2"
        );
    }

    #[test]
    fn the_table_holds_the_ffa_range_and_smccc_version_only() {
        let mut known = 0;
        for number in 0..=0xFFFF {
            for width in [0, SMC64] {
                let raw = FAST_CALL | width | OWNER_STANDARD_SECURE_SERVICE | number;
                if let Some(function) = FunctionId::from_raw(raw) {
                    assert_eq!(function.raw(), raw);
                    assert!(in_ffa_range(raw), "{function:?}");
                    known += 1;
                }
            }
        }
        assert_eq!(
            known, 60,
            "every FF-A v1.2 identifier, in each width it has"
        );
        assert_eq!(
            FunctionId::from_raw(SMCCC_VERSION),
            Some(FunctionId::SmcccVersion)
        );
        assert!(in_ffa_range(0x8401_0063), "bits [23:16] are not looked at");
        assert!(!in_ffa_range(0x8400_00F0));
        assert!(!in_ffa_range(0x0400_0063), "a yielding call");
        assert!(!in_ffa_range(0xC600_0063), "another owner");
    }

    #[test]
    fn width_follows_bit_30() {
        assert_eq!(FunctionId::Success32.width(), CallWidth::Bits32);
        assert_eq!(FunctionId::Success64.width(), CallWidth::Bits64);
        assert_eq!(FunctionId::DirectResponse2.width(), CallWidth::Bits64);
    }
}
