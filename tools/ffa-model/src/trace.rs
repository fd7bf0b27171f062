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

use crate::function_id::*;
use crate::{Outcome, Registers};
use ffa_abi::{FunctionId, ReplyKind, Status};

/// Names of the functions the model answers that are not FF-A (the FF-A
/// names come from the shared table, `ffa_abi::FunctionId::name`).
const OTHER_NAMES: &[(u32, &str)] = &[
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
    if let Some(function) = FunctionId::from_raw(function_id) {
        return function.name();
    }
    OTHER_NAMES
        .iter()
        .find(|(id, _)| *id == function_id)
        .map_or("UNKNOWN", |(_, name)| name)
}

/// The name of an FF-A error code, for example `"NOT_SUPPORTED"`; 0 is
/// `"SUCCESS"`; anything else is `"UNKNOWN"`.
pub fn error_name(code: i32) -> &'static str {
    match Status::from_code_or_unknown(code) {
        Status::Unknown(0) => "SUCCESS",
        Status::Unknown(_) => "UNKNOWN",
        status => status.name(),
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
    Error {
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
    pub fn error(&self) -> Option<Status> {
        match self {
            ResultDescription::Error { code } => match Status::from_code_or_unknown(*code) {
                Status::Unknown(_) => None,
                status => Some(status),
            },
            _ => None,
        }
    }
}

impl fmt::Display for ResultDescription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultDescription::NotSupported => formatter.write_str("NOT_SUPPORTED (-1)"),
            ResultDescription::Error { code } => {
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

/// Describe the registers of a reply, as the shared reply classification
/// ([`ReplyKind`]) reads them.
pub fn describe_result(registers: &Registers) -> ResultDescription {
    match ReplyKind::of(registers[0], registers[2]) {
        ReplyKind::NotSupported => ResultDescription::NotSupported,
        ReplyKind::Error(status) => ResultDescription::Error {
            code: status.code(),
        },
        ReplyKind::Success(_) | ReplyKind::Function(FunctionId::SmcccVersion) => {
            ResultDescription::Function {
                function_id: registers[0] as u32,
                arguments: [registers[1], registers[2], registers[3]],
            }
        }
        ReplyKind::Function(function) => ResultDescription::Function {
            function_id: function.raw(),
            arguments: [registers[1], registers[2], registers[3]],
        },
        ReplyKind::Value(_) => ResultDescription::Value(registers[0]),
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
    /// `PSCI_CPU_ON` released this core at this entry point.
    CpuOn {
        /// The core (Aff0).
        core: usize,
        /// Its entry point.
        entry: u64,
    },
    /// `PSCI_CPU_OFF`: the caller went off.
    CpuOff,
}

impl fmt::Display for OutcomeDescription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutcomeDescription::Return(result) => result.fmt(formatter),
            OutcomeDescription::SystemOff(status) => {
                write!(formatter, "SYSTEM_OFF status={status}")
            }
            OutcomeDescription::SystemReset => formatter.write_str("SYSTEM_RESET"),
            OutcomeDescription::CpuOn { core, entry } => {
                write!(formatter, "SUCCESS: core {core} released at {entry:#x}")
            }
            OutcomeDescription::CpuOff => formatter.write_str("CPU_OFF: core off"),
        }
    }
}

/// Describe an [`Outcome`].
pub fn describe_outcome(outcome: &Outcome) -> OutcomeDescription {
    match outcome {
        Outcome::Return(registers) => OutcomeDescription::Return(describe_result(registers)),
        Outcome::SystemOff { status } => OutcomeDescription::SystemOff(*status),
        Outcome::SystemReset => OutcomeDescription::SystemReset,
        Outcome::CpuOn { release, .. } => OutcomeDescription::CpuOn {
            core: release.core,
            entry: release.entry,
        },
        Outcome::CpuOff => OutcomeDescription::CpuOff,
    }
}
