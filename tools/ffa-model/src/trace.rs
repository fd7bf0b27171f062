//! Names of functions and error codes, and one-line descriptions of calls and results for tracing.
//!
//! The firmware prints a line per SMC, for example with
//! `write!(uart, "{} -> {}", describe_call(&call), describe_outcome(&outcome))`:
//!
//! ```text
//! FFA_VERSION x1=0x10002 x2=0x0 x3=0x0 x4=0x0 -> 0x10002
//! FFA_RXTX_MAP_64 x1=0x40000000 x2=0x40001000 x3=0x1 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0
//! FFA_RX_RELEASE x1=0x0 x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR DENIED (-6)
//! SMCCC_ARCH_SOC_ID x1=0x0 x2=0x0 x3=0x0 x4=0x0 -> NOT_SUPPORTED (-1)
//! ```

use core::fmt;

use crate::error_code::{FfaError, SMCCC_NOT_SUPPORTED};
use crate::function_id::*;
use crate::{Outcome, Registers};

const NAMES: &[(u32, &str)] = &[
    (FFA_ERROR, "FFA_ERROR"),
    (FFA_SUCCESS_32, "FFA_SUCCESS_32"),
    (FFA_SUCCESS_64, "FFA_SUCCESS_64"),
    (FFA_INTERRUPT, "FFA_INTERRUPT"),
    (FFA_VERSION, "FFA_VERSION"),
    (FFA_FEATURES, "FFA_FEATURES"),
    (FFA_RX_RELEASE, "FFA_RX_RELEASE"),
    (FFA_RXTX_MAP_32, "FFA_RXTX_MAP_32"),
    (FFA_RXTX_MAP_64, "FFA_RXTX_MAP_64"),
    (FFA_RXTX_UNMAP, "FFA_RXTX_UNMAP"),
    (FFA_PARTITION_INFO_GET, "FFA_PARTITION_INFO_GET"),
    (FFA_ID_GET, "FFA_ID_GET"),
    (FFA_MSG_POLL, "FFA_MSG_POLL"),
    (FFA_MSG_WAIT, "FFA_MSG_WAIT"),
    (FFA_YIELD, "FFA_YIELD"),
    (FFA_RUN, "FFA_RUN"),
    (FFA_MSG_SEND, "FFA_MSG_SEND"),
    (FFA_MSG_SEND_DIRECT_REQ_32, "FFA_MSG_SEND_DIRECT_REQ_32"),
    (FFA_MSG_SEND_DIRECT_REQ_64, "FFA_MSG_SEND_DIRECT_REQ_64"),
    (FFA_MSG_SEND_DIRECT_RESP_32, "FFA_MSG_SEND_DIRECT_RESP_32"),
    (FFA_MSG_SEND_DIRECT_RESP_64, "FFA_MSG_SEND_DIRECT_RESP_64"),
    (FFA_MEM_DONATE_32, "FFA_MEM_DONATE_32"),
    (FFA_MEM_DONATE_64, "FFA_MEM_DONATE_64"),
    (FFA_MEM_LEND_32, "FFA_MEM_LEND_32"),
    (FFA_MEM_LEND_64, "FFA_MEM_LEND_64"),
    (FFA_MEM_SHARE_32, "FFA_MEM_SHARE_32"),
    (FFA_MEM_SHARE_64, "FFA_MEM_SHARE_64"),
    (FFA_MEM_RETRIEVE_REQ_32, "FFA_MEM_RETRIEVE_REQ_32"),
    (FFA_MEM_RETRIEVE_REQ_64, "FFA_MEM_RETRIEVE_REQ_64"),
    (FFA_MEM_RETRIEVE_RESP, "FFA_MEM_RETRIEVE_RESP"),
    (FFA_MEM_RELINQUISH, "FFA_MEM_RELINQUISH"),
    (FFA_MEM_RECLAIM, "FFA_MEM_RECLAIM"),
    (FFA_MEM_OP_PAUSE, "FFA_MEM_OP_PAUSE"),
    (FFA_MEM_OP_RESUME, "FFA_MEM_OP_RESUME"),
    (FFA_MEM_FRAG_RX, "FFA_MEM_FRAG_RX"),
    (FFA_MEM_FRAG_TX, "FFA_MEM_FRAG_TX"),
    (FFA_NORMAL_WORLD_RESUME, "FFA_NORMAL_WORLD_RESUME"),
    (
        FFA_NOTIFICATION_BITMAP_CREATE,
        "FFA_NOTIFICATION_BITMAP_CREATE",
    ),
    (
        FFA_NOTIFICATION_BITMAP_DESTROY,
        "FFA_NOTIFICATION_BITMAP_DESTROY",
    ),
    (FFA_NOTIFICATION_BIND, "FFA_NOTIFICATION_BIND"),
    (FFA_NOTIFICATION_UNBIND, "FFA_NOTIFICATION_UNBIND"),
    (FFA_NOTIFICATION_SET, "FFA_NOTIFICATION_SET"),
    (FFA_NOTIFICATION_GET, "FFA_NOTIFICATION_GET"),
    (FFA_NOTIFICATION_INFO_GET_32, "FFA_NOTIFICATION_INFO_GET_32"),
    (FFA_NOTIFICATION_INFO_GET_64, "FFA_NOTIFICATION_INFO_GET_64"),
    (FFA_RX_ACQUIRE, "FFA_RX_ACQUIRE"),
    (FFA_SPM_ID_GET, "FFA_SPM_ID_GET"),
    (FFA_MSG_SEND2, "FFA_MSG_SEND2"),
    (FFA_SECONDARY_EP_REGISTER_32, "FFA_SECONDARY_EP_REGISTER_32"),
    (FFA_SECONDARY_EP_REGISTER_64, "FFA_SECONDARY_EP_REGISTER_64"),
    (FFA_MEM_PERM_GET_32, "FFA_MEM_PERM_GET_32"),
    (FFA_MEM_PERM_GET_64, "FFA_MEM_PERM_GET_64"),
    (FFA_MEM_PERM_SET_32, "FFA_MEM_PERM_SET_32"),
    (FFA_MEM_PERM_SET_64, "FFA_MEM_PERM_SET_64"),
    (FFA_CONSOLE_LOG_32, "FFA_CONSOLE_LOG_32"),
    (FFA_CONSOLE_LOG_64, "FFA_CONSOLE_LOG_64"),
    (FFA_PARTITION_INFO_GET_REGS, "FFA_PARTITION_INFO_GET_REGS"),
    (FFA_EL3_INTR_HANDLE, "FFA_EL3_INTR_HANDLE"),
    (FFA_MSG_SEND_DIRECT_REQ2, "FFA_MSG_SEND_DIRECT_REQ2"),
    (FFA_MSG_SEND_DIRECT_RESP2, "FFA_MSG_SEND_DIRECT_RESP2"),
    (SMCCC_VERSION, "SMCCC_VERSION"),
    (SMCCC_ARCH_FEATURES, "SMCCC_ARCH_FEATURES"),
    (SMCCC_ARCH_SOC_ID, "SMCCC_ARCH_SOC_ID"),
    (SMCCC_ARCH_WORKAROUND_1, "SMCCC_ARCH_WORKAROUND_1"),
    (SMCCC_ARCH_WORKAROUND_2, "SMCCC_ARCH_WORKAROUND_2"),
    (SMCCC_ARCH_WORKAROUND_3, "SMCCC_ARCH_WORKAROUND_3"),
    (PSCI_VERSION, "PSCI_VERSION"),
    (PSCI_CPU_SUSPEND_32, "PSCI_CPU_SUSPEND_32"),
    (PSCI_CPU_SUSPEND_64, "PSCI_CPU_SUSPEND_64"),
    (PSCI_CPU_OFF, "PSCI_CPU_OFF"),
    (PSCI_CPU_ON_32, "PSCI_CPU_ON_32"),
    (PSCI_CPU_ON_64, "PSCI_CPU_ON_64"),
    (PSCI_AFFINITY_INFO_32, "PSCI_AFFINITY_INFO_32"),
    (PSCI_AFFINITY_INFO_64, "PSCI_AFFINITY_INFO_64"),
    (PSCI_MIGRATE_INFO_TYPE, "PSCI_MIGRATE_INFO_TYPE"),
    (PSCI_SYSTEM_OFF, "PSCI_SYSTEM_OFF"),
    (PSCI_SYSTEM_RESET, "PSCI_SYSTEM_RESET"),
    (PSCI_FEATURES, "PSCI_FEATURES"),
    (PSCI_SYSTEM_SUSPEND_32, "PSCI_SYSTEM_SUSPEND_32"),
    (PSCI_SYSTEM_SUSPEND_64, "PSCI_SYSTEM_SUSPEND_64"),
    (PSCI_SYSTEM_RESET2_32, "PSCI_SYSTEM_RESET2_32"),
    (PSCI_SYSTEM_RESET2_64, "PSCI_SYSTEM_RESET2_64"),
];

/// The name of an SMC function ID, for example `"FFA_VERSION"`, or `"UNKNOWN"`.
pub fn function_name(function_id: u32) -> &'static str {
    NAMES
        .iter()
        .find(|(id, _)| *id == function_id)
        .map_or("UNKNOWN", |(_, name)| name)
}

/// The name of an FF-A error code, for example `"NOT_SUPPORTED"`; 0 is
/// `"SUCCESS"`; anything else is `"UNKNOWN"`.
pub fn error_name(code: i32) -> &'static str {
    match FfaError::from_code(code) {
        Some(error) => error.name(),
        None if code == 0 => "SUCCESS",
        None => "UNKNOWN",
    }
}

/// A printable description of a call: its function name and x1–x4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallDescription {
    /// The function ID (w0).
    pub function_id: u32,
    /// x1 to x4.
    pub arguments: [u64; 4],
}

impl CallDescription {
    /// The function's name.
    pub fn name(&self) -> &'static str {
        function_name(self.function_id)
    }
}

impl fmt::Display for CallDescription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "UNKNOWN" => write!(formatter, "UNKNOWN(0x{:08x})", self.function_id)?,
            name => formatter.write_str(name)?,
        }
        for (index, value) in self.arguments.iter().enumerate() {
            write!(formatter, " x{}=0x{:x}", index + 1, value)?;
        }
        Ok(())
    }
}

/// Describe the registers of a call.
pub fn describe_call(registers: &Registers) -> CallDescription {
    CallDescription {
        function_id: registers[0] as u32,
        arguments: [registers[1], registers[2], registers[3], registers[4]],
    }
}

/// What a reply register file means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultDescription {
    /// x0 = -1 (64-bit): the function is not supported.
    NotSupported,
    /// `FFA_ERROR` with this code in w2.
    FfaError {
        /// The signed error code.
        code: i32,
    },
    /// x0 is a known FF-A function (`FFA_SUCCESS_32`, `FFA_INTERRUPT`, a
    /// direct response, ...), with x1–x3.
    Function {
        /// The function ID in w0.
        function_id: u32,
        /// x1 to x3.
        arguments: [u64; 3],
    },
    /// x0 is a plain value (a version, 0 for a supported feature, ...).
    Value(u64),
}

impl ResultDescription {
    /// The FF-A error, if the result is `FFA_ERROR` with a known code.
    pub fn error(&self) -> Option<FfaError> {
        match self {
            ResultDescription::FfaError { code } => FfaError::from_code(*code),
            _ => None,
        }
    }
}

impl fmt::Display for ResultDescription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultDescription::NotSupported => formatter.write_str("NOT_SUPPORTED (-1)"),
            ResultDescription::FfaError { code } => {
                write!(formatter, "FFA_ERROR {} ({})", error_name(*code), code)
            }
            ResultDescription::Function {
                function_id,
                arguments,
            } => {
                formatter.write_str(function_name(*function_id))?;
                for (index, value) in arguments.iter().enumerate() {
                    write!(formatter, " x{}=0x{:x}", index + 1, value)?;
                }
                Ok(())
            }
            ResultDescription::Value(value) => write!(formatter, "0x{value:x}"),
        }
    }
}

/// Describe the registers of a reply.
pub fn describe_result(registers: &Registers) -> ResultDescription {
    let x0 = registers[0];
    let w0 = x0 as u32;
    if x0 == SMCCC_NOT_SUPPORTED {
        ResultDescription::NotSupported
    } else if x0 >> 32 == 0 && w0 == FFA_ERROR {
        ResultDescription::FfaError {
            code: registers[2] as u32 as i32,
        }
    } else if x0 >> 32 == 0 && is_ffa(w0) && function_name(w0) != "UNKNOWN" {
        ResultDescription::Function {
            function_id: w0,
            arguments: [registers[1], registers[2], registers[3]],
        }
    } else {
        ResultDescription::Value(x0)
    }
}

/// A printable description of an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeDescription {
    /// The call returns to the caller with this result.
    Return(ResultDescription),
    /// `PSCI_SYSTEM_OFF` with this exit status.
    SystemOff(u32),
    /// `PSCI_SYSTEM_RESET`.
    SystemReset,
}

impl fmt::Display for OutcomeDescription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutcomeDescription::Return(result) => result.fmt(formatter),
            OutcomeDescription::SystemOff(status) => {
                write!(formatter, "SYSTEM_OFF status={status}")
            }
            OutcomeDescription::SystemReset => formatter.write_str("SYSTEM_RESET"),
        }
    }
}

/// Describe an [`Outcome`].
pub fn describe_outcome(outcome: &Outcome) -> OutcomeDescription {
    match outcome {
        Outcome::Return(registers) => OutcomeDescription::Return(describe_result(registers)),
        Outcome::SystemOff { status } => OutcomeDescription::SystemOff(*status),
        Outcome::SystemReset => OutcomeDescription::SystemReset,
    }
}
