//! FF-A and SMCCC function identifiers, and the calling-convention widths.
//!
//! A function identifier goes in w0 of a call. 32-bit calls are
//! `0x8400_00NN`, 64-bit calls `0xC400_00NN`; the same `NN` names the same
//! ABI in both widths.
//!
//! ```
//! use capsule_ffa::function::FunctionId;
//!
//! assert_eq!(FunctionId::DirectRequest64.raw(), 0xC400_006F);
//! assert_eq!(FunctionId::from_raw(0x8400_0061), Some(FunctionId::Success32));
//! ```

/// The register width a call uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CallWidth {
    /// SMC32/HVC32: arguments and results in w registers.
    Bits32,
    /// SMC64/HVC64: arguments and results in x registers.
    Bits64,
}

macro_rules! function_ids {
    ($($(#[$meta:meta])* $name:ident = $value:expr,)*) => {
        /// An FF-A function identifier this capsule sends or understands.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
        pub enum FunctionId {
            $($(#[$meta])* $name,)*
        }

        impl FunctionId {
            /// The raw 32-bit identifier.
            pub const fn raw(self) -> u32 {
                match self {
                    $(FunctionId::$name => $value,)*
                }
            }

            /// The function with this raw identifier, if this capsule knows it.
            pub const fn from_raw(raw: u32) -> Option<FunctionId> {
                match raw {
                    $($value => Some(FunctionId::$name),)*
                    _ => None,
                }
            }
        }
    };
}

function_ids! {
    /// `SMCCC_VERSION`: the Arm architecture call reporting the SMCCC version (not FF-A).
    SmcccVersion = 0x8000_0000,
    /// `FFA_ERROR`: w2 holds the error code.
    Error = 0x8400_0060,
    /// `FFA_SUCCESS`, 32-bit form.
    Success32 = 0x8400_0061,
    /// `FFA_SUCCESS`, 64-bit form.
    Success64 = 0xC400_0061,
    /// `FFA_INTERRUPT`: the callee was preempted by an interrupt.
    Interrupt = 0x8400_0062,
    /// `FFA_VERSION`.
    Version = 0x8400_0063,
    /// `FFA_FEATURES`.
    Features = 0x8400_0064,
    /// `FFA_RX_RELEASE`.
    RxRelease = 0x8400_0065,
    /// `FFA_RXTX_MAP`, 32-bit form (never sent by this capsule).
    RxTxMap32 = 0x8400_0066,
    /// `FFA_RXTX_MAP`, 64-bit form.
    RxTxMap64 = 0xC400_0066,
    /// `FFA_RXTX_UNMAP`.
    RxTxUnmap = 0x8400_0067,
    /// `FFA_PARTITION_INFO_GET`.
    PartitionInfoGet = 0x8400_0068,
    /// `FFA_ID_GET`.
    IdGet = 0x8400_0069,
    /// `FFA_MSG_WAIT`.
    MessageWait = 0x8400_006B,
    /// `FFA_YIELD`: the callee gave up its CPU time.
    Yield = 0x8400_006C,
    /// `FFA_RUN`: resumes a preempted or yielded partition.
    Run = 0x8400_006D,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 32-bit form.
    DirectRequest32 = 0x8400_006F,
    /// `FFA_MSG_SEND_DIRECT_REQ`, 64-bit form.
    DirectRequest64 = 0xC400_006F,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 32-bit form.
    DirectResponse32 = 0x8400_0070,
    /// `FFA_MSG_SEND_DIRECT_RESP`, 64-bit form.
    DirectResponse64 = 0xC400_0070,
    /// `FFA_MEM_LEND`, 32-bit form.
    MemoryLend32 = 0x8400_0072,
    /// `FFA_MEM_LEND`, 64-bit form.
    MemoryLend64 = 0xC400_0072,
    /// `FFA_MEM_SHARE`, 32-bit form.
    MemoryShare32 = 0x8400_0073,
    /// `FFA_MEM_SHARE`, 64-bit form.
    MemoryShare64 = 0xC400_0073,
    /// `FFA_NOTIFICATION_BIND` (v1.1).
    NotificationBind = 0x8400_007F,
    /// `FFA_NOTIFICATION_GET` (v1.1).
    NotificationGet = 0x8400_0082,
    /// `FFA_MSG_SEND2` (v1.1).
    MessageSend2 = 0x8400_0086,
    /// `FFA_PARTITION_INFO_GET_REGS` (v1.2, 64-bit only).
    PartitionInfoGetRegisters = 0xC400_008B,
    /// `FFA_MSG_SEND_DIRECT_REQ2` (v1.2, 64-bit only).
    DirectRequest2 = 0xC400_008D,
    /// `FFA_MSG_SEND_DIRECT_RESP2` (v1.2, 64-bit only).
    DirectResponse2 = 0xC400_008E,
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
