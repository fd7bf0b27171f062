//! FF-A and SMCCC function identifiers, their names, and the calling-convention widths.
//!
//! A function identifier goes in w0 of a call. 32-bit calls are
//! `0x8400_00NN`, 64-bit calls `0xC400_00NN`; the same `NN` names the same
//! ABI in both widths. Every identifier exists twice, from one table: as a
//! raw `u32` constant with the specification's name (for matching on w0)
//! and as a [`FunctionId`] variant.
//!
//! ```
//! use ffa_abi::function::{self, CallWidth, FunctionId};
//!
//! assert_eq!(FunctionId::DirectRequest64.raw(), 0xC400_006F);
//! assert_eq!(FunctionId::from_raw(0x8400_0061), Some(FunctionId::Success32));
//! assert_eq!(FunctionId::RxTxMap64.raw(), function::FFA_RXTX_MAP_64);
//! assert_eq!(FunctionId::RxTxMap64.name(), "FFA_RXTX_MAP_64");
//! assert_eq!(FunctionId::RxTxMap64.width(), CallWidth::Bits64);
//! ```

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
    /// `FFA_MSG_WAIT`.
    MessageWait = FFA_MSG_WAIT: 0x8400_006B,
    /// `FFA_YIELD`: the callee gave up its CPU time.
    Yield = FFA_YIELD: 0x8400_006C,
    /// `FFA_RUN`: resumes a preempted or yielded partition.
    Run = FFA_RUN: 0x8400_006D,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 32-bit form.
    DirectRequest32 = FFA_MSG_SEND_DIRECT_REQ_32: 0x8400_006F,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 64-bit form.
    DirectRequest64 = FFA_MSG_SEND_DIRECT_REQ_64: 0xC400_006F,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 32-bit form.
    DirectResponse32 = FFA_MSG_SEND_DIRECT_RESP_32: 0x8400_0070,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 64-bit form.
    DirectResponse64 = FFA_MSG_SEND_DIRECT_RESP_64: 0xC400_0070,
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
    /// `FFA_MEM_RECLAIM`.
    MemoryReclaim = FFA_MEM_RECLAIM: 0x8400_0077,
    /// `FFA_MEM_FRAG_TX`: the next fragment of a memory transaction descriptor.
    MemoryFragmentTransmit = FFA_MEM_FRAG_TX: 0x8400_007B,
    /// `FFA_NOTIFICATION_BIND` (v1.1).
    NotificationBind = FFA_NOTIFICATION_BIND: 0x8400_007F,
    /// `FFA_NOTIFICATION_GET` (v1.1).
    NotificationGet = FFA_NOTIFICATION_GET: 0x8400_0082,
    /// `FFA_RX_ACQUIRE` (v1.1).
    RxAcquire = FFA_RX_ACQUIRE: 0x8400_0084,
    /// `FFA_SPM_ID_GET` (v1.1).
    SpmIdGet = FFA_SPM_ID_GET: 0x8400_0085,
    /// `FFA_MSG_SEND2` (v1.1).
    MessageSend2 = FFA_MSG_SEND2: 0x8400_0086,
    /// `FFA_CONSOLE_LOG`, 64-bit form (v1.2).
    ConsoleLog64 = FFA_CONSOLE_LOG_64: 0xC400_008A,
    /// `FFA_PARTITION_INFO_GET_REGS` (v1.2, 64-bit only).
    PartitionInfoGetRegisters = FFA_PARTITION_INFO_GET_REGS: 0xC400_008B,
    /// `FFA_MSG_SEND_DIRECT_REQ2` (v1.2, 64-bit only).
    DirectRequest2 = FFA_MSG_SEND_DIRECT_REQ2: 0xC400_008D,
    /// `FFA_MSG_SEND_DIRECT_RESP2` (v1.2, 64-bit only).
    DirectResponse2 = FFA_MSG_SEND_DIRECT_RESP2: 0xC400_008E,
}

impl FunctionId {
    /// Whether this is a 32-bit or a 64-bit call.
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
    fn width_follows_bit_30() {
        assert_eq!(FunctionId::Success32.width(), CallWidth::Bits32);
        assert_eq!(FunctionId::Success64.width(), CallWidth::Bits64);
        assert_eq!(FunctionId::DirectResponse2.width(), CallWidth::Bits64);
    }
}
