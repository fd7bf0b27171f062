//! The kernel's control interface to the EL2 proxy: HVC function IDs, how
//! finalisation status travels in registers, and [`ProxyControl`], the
//! kernel's (EL1) side of the calls.
//!
//! The calls are SMCCC fast calls (HVC64) in the vendor-specific hypervisor
//! service range (owner 6, `0xC600_xxxx`). Every other HVC is answered x0 =
//! -1 (`NOT_SUPPORTED`), as the boot stub answers all of them. The EL2 side
//! is [`El2Proxy`](crate::el2::El2Proxy).
//!
//! | x0 | call | arguments | result |
//! |---|---|---|---|
//! | [`QUERY`] | is the proxy resident? | — | x0 = 0, x1 = [`INTERFACE_MAGIC`], x2 = [`INTERFACE_VERSION`] |
//! | [`START_FINALISATION`] | start finalisation | x1/x2 host memory base/size, x3/x4 carve-out base/size, x5/x6 the host's devices base/size, x7/x8 host memory the firmware shares with the secure world (a TPM's CRB; 0/0: none), x9 the host's cores | x0 = 0, or [`NOT_REQUIRED`] (already started), [`INVALID_PARAMETER`] (bad layout, or a core count of 0 or more than EL2 takes) |
//! | [`FINALISATION_STEP`] | perform the next step | — | x0 = 0, status in x1–x6 |
//! | [`STATUS`] | read the status | — | x0 = 0, status in x1–x6 |
//!
//! Status registers ([`encode_status`], [`decode_status`]): x1 phase (0 not
//! started, 1 in progress, 2 finalised, 3 failed), x2 step number (next or
//! failed), x3 attempts, x4 failure reason, x5 failure detail, x6 version
//! (encoded, or [`NO_VERSION`]).
//!
//! ```
//! use capsule_ffa_proxy::control::{decode_status, encode_status};
//! use capsule_ffa_proxy::FinalisationStatus;
//! use ffa_abi::Version;
//!
//! let status = FinalisationStatus::Finalised { version: Some(Version::V1_2) };
//! let registers = encode_status(&status);
//! assert_eq!(decode_status(&registers), Ok(status));
//! ```

use crate::finalisation::{FailureReason, FinalisationError, FinalisationStatus, FinalisationStep};
use ffa_abi::{Status, Version};
use kernel::hil::hypervisor::MemoryRange;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

/// Is the proxy resident?
pub const QUERY: u32 = 0xC600_0000;
/// Start finalisation.
pub const START_FINALISATION: u32 = 0xC600_0001;
/// Perform the next finalisation step.
pub const FINALISATION_STEP: u32 = 0xC600_0002;
/// Read the finalisation status.
pub const STATUS: u32 = 0xC600_0003;

/// x1 of the [`QUERY`] answer: "FFAPROXY" in ASCII.
pub const INTERFACE_MAGIC: u64 = 0x4646_4150_524F_5859;
/// x2 of the [`QUERY`] answer.
pub const INTERFACE_VERSION: u64 = 1;

/// SMCCC `SUCCESS`.
pub const SUCCESS: u64 = 0;
/// SMCCC `NOT_SUPPORTED` (-1).
pub const NOT_SUPPORTED: u64 = u64::MAX;
/// SMCCC `NOT_REQUIRED` (-2): finalisation was already started.
pub const NOT_REQUIRED: u64 = (-2i64) as u64;
/// SMCCC `INVALID_PARAMETER` (-3): the layout is unusable.
pub const INVALID_PARAMETER: u64 = (-3i64) as u64;

/// x6 when there is no version (FF-A absent, or not known yet).
pub const NO_VERSION: u64 = u64::MAX;

/// Status registers, x0 to x6 of the answer.
pub type StatusRegisters = [u64; 7];

const PHASE_NOT_STARTED: u64 = 0;
const PHASE_IN_PROGRESS: u64 = 1;
const PHASE_FINALISED: u64 = 2;
const PHASE_FAILED: u64 = 3;

const REASON_NONE: u64 = 0;
const REASON_NOT_SUPPORTED: u64 = 1;
const REASON_MONITOR_ERROR: u64 = 2;
const REASON_UNEXPECTED_REPLY: u64 = 3;
const REASON_INCOMPATIBLE_VERSION: u64 = 4;
const REASON_VERSION_REFUSED: u64 = 5;
const REASON_VERSION_ALREADY_FIXED: u64 = 6;

/// Why status registers could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DecodeError {
    /// x0 was not `SUCCESS` (the value is shown).
    CallFailed(u64),
    /// A register holds a value the encoding never produces.
    Malformed,
}

/// x0–x6 of the answer to [`FINALISATION_STEP`] or [`STATUS`].
pub fn encode_status(status: &FinalisationStatus) -> StatusRegisters {
    let mut registers = [SUCCESS, 0, 0, 0, REASON_NONE, 0, NO_VERSION];
    match status {
        FinalisationStatus::NotStarted => registers[1] = PHASE_NOT_STARTED,
        FinalisationStatus::InProgress { next, attempts } => {
            registers[1] = PHASE_IN_PROGRESS;
            registers[2] = u64::from(next.number());
            registers[3] = u64::from(*attempts);
        }
        FinalisationStatus::Finalised { version } => {
            registers[1] = PHASE_FINALISED;
            registers[6] = version.map_or(NO_VERSION, |version| u64::from(version.raw()));
        }
        FinalisationStatus::Failed(error) => {
            registers[1] = PHASE_FAILED;
            registers[2] = u64::from(error.step.number());
            registers[3] = u64::from(error.attempts);
            let (reason, detail) = match error.reason {
                FailureReason::NotSupported => (REASON_NOT_SUPPORTED, 0),
                FailureReason::MonitorError(error) => {
                    (REASON_MONITOR_ERROR, u64::from(error.code() as u32))
                }
                FailureReason::UnexpectedReply(x0) => (REASON_UNEXPECTED_REPLY, u64::from(x0)),
                FailureReason::IncompatibleVersion(version) => {
                    (REASON_INCOMPATIBLE_VERSION, u64::from(version.raw()))
                }
                FailureReason::VersionRefused => (REASON_VERSION_REFUSED, 0),
                FailureReason::VersionAlreadyFixed => (REASON_VERSION_ALREADY_FIXED, 0),
            };
            registers[4] = reason;
            registers[5] = detail;
        }
    }
    registers
}

/// The status from x0–x6 of the answer to [`FINALISATION_STEP`] or [`STATUS`].
pub fn decode_status(registers: &[u64]) -> Result<FinalisationStatus, DecodeError> {
    let register = |index: usize| registers.get(index).copied().ok_or(DecodeError::Malformed);
    let x0 = register(0)?;
    if x0 != SUCCESS {
        return Err(DecodeError::CallFailed(x0));
    }
    let step = || {
        u8::try_from(register(2)?)
            .ok()
            .and_then(FinalisationStep::from_number)
            .ok_or(DecodeError::Malformed)
    };
    let attempts = || u8::try_from(register(3)?).map_err(|_| DecodeError::Malformed);
    let version = |value: u64| -> Result<Version, DecodeError> {
        u32::try_from(value)
            .ok()
            .and_then(|word| Version::from_raw(word).ok())
            .ok_or(DecodeError::Malformed)
    };
    match register(1)? {
        PHASE_NOT_STARTED => Ok(FinalisationStatus::NotStarted),
        PHASE_IN_PROGRESS => Ok(FinalisationStatus::InProgress {
            next: step()?,
            attempts: attempts()?,
        }),
        PHASE_FINALISED => Ok(FinalisationStatus::Finalised {
            version: match register(6)? {
                NO_VERSION => None,
                value => Some(version(value)?),
            },
        }),
        PHASE_FAILED => {
            let detail = register(5)?;
            let narrow = |value: u64| u32::try_from(value).map_err(|_| DecodeError::Malformed);
            let reason = match register(4)? {
                REASON_NOT_SUPPORTED => FailureReason::NotSupported,
                REASON_MONITOR_ERROR => FailureReason::MonitorError(Status::from_code_or_unknown(
                    narrow(detail)? as i32,
                )),
                REASON_UNEXPECTED_REPLY => FailureReason::UnexpectedReply(narrow(detail)?),
                REASON_INCOMPATIBLE_VERSION => FailureReason::IncompatibleVersion(version(detail)?),
                REASON_VERSION_REFUSED => FailureReason::VersionRefused,
                REASON_VERSION_ALREADY_FIXED => FailureReason::VersionAlreadyFixed,
                _ => return Err(DecodeError::Malformed),
            };
            Ok(FinalisationStatus::Failed(FinalisationError {
                step: step()?,
                reason,
                attempts: attempts()?,
            }))
        }
        _ => Err(DecodeError::Malformed),
    }
}

/// Why a control call to the EL2 proxy failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ControlError {
    /// EL2 does not answer the proxy's query (x0 shown): the boot stub is
    /// there, or another image owns EL2.
    NotResident(u64),
    /// Finalisation was already started.
    AlreadyStarted,
    /// EL2 refused the layout (its log line says why).
    InvalidLayout,
    /// EL2's answer could not be decoded.
    Malformed(DecodeError),
}

/// The kernel's (EL1) handle on the resident EL2 proxy: each method is one
/// `HVC` through the conduit it was made with.
#[derive(Clone, Copy)]
pub struct ProxyControl<'a> {
    hypervisor: &'a dyn SmcccConduit,
}

impl<'a> ProxyControl<'a> {
    /// The handle, if the proxy answers the query on `hypervisor` (an `HVC`
    /// conduit to an EL2 the kernel owns).
    pub fn new(hypervisor: &'a dyn SmcccConduit) -> Result<ProxyControl<'a>, ControlError> {
        let control = ProxyControl { hypervisor };
        let reply = control.call(QUERY, &[]);
        if reply[0] != SUCCESS || reply[1] != INTERFACE_MAGIC {
            return Err(ControlError::NotResident(reply[0]));
        }
        Ok(control)
    }

    /// Starts finalisation. `host_memory` is the normal-world memory the
    /// kernel may name as RX/TX buffers (DRAM); `carve_out` is memory the
    /// board reserves for the proxy (the kernel must never use it; its
    /// first two pages become the proxy's TX and RX buffers); `devices` is
    /// what the host's stage 2 maps as device memory; `firmware_shared` is
    /// host memory the firmware shares with the secure world (a TPM's CRB),
    /// which the host may use but never give away; `host_cores` how many
    /// cores the kernel has (told while EL2 still trusts it, as pKVM learns
    /// the CPU count at init: the host's notification bitmap gets a vCPU
    /// per core). EL2 protects host memory from the end of this call on.
    pub fn start_finalisation(
        &self,
        host_memory: MemoryRange,
        carve_out: MemoryRange,
        devices: MemoryRange,
        firmware_shared: MemoryRange,
        host_cores: u16,
    ) -> Result<(), ControlError> {
        let reply = self.call(
            START_FINALISATION,
            &[
                host_memory.base,
                host_memory.size,
                carve_out.base,
                carve_out.size,
                devices.base,
                devices.size,
                firmware_shared.base,
                firmware_shared.size,
                u64::from(host_cores),
            ],
        );
        match reply[0] {
            SUCCESS => Ok(()),
            NOT_REQUIRED => Err(ControlError::AlreadyStarted),
            INVALID_PARAMETER => Err(ControlError::InvalidLayout),
            other => Err(ControlError::NotResident(other)),
        }
    }

    /// Performs the next finalisation step (one `HVC`, at most one call from
    /// EL2 to the monitor) and returns where finalisation is.
    pub fn step(&self) -> Result<FinalisationStatus, ControlError> {
        let reply = self.call(FINALISATION_STEP, &[]);
        decode_status(&reply[..7]).map_err(ControlError::Malformed)
    }

    /// Where finalisation is, without doing anything.
    pub fn status(&self) -> Result<FinalisationStatus, ControlError> {
        let reply = self.call(STATUS, &[]);
        decode_status(&reply[..7]).map_err(ControlError::Malformed)
    }

    fn call(&self, function_id: u32, arguments: &[u64]) -> [u64; 18] {
        let mut call = SmcccRegisters::with_function(function_id);
        for (register, argument) in call.x[1..].iter_mut().zip(arguments) {
            *register = *argument;
        }
        self.hypervisor.call(&call).x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        let reasons = [
            FailureReason::NotSupported,
            FailureReason::MonitorError(Status::Denied),
            FailureReason::MonitorError(Status::Unknown(-77)),
            FailureReason::UnexpectedReply(0x8400_0061),
            FailureReason::IncompatibleVersion(Version::new(2, 0)),
            FailureReason::VersionRefused,
            FailureReason::VersionAlreadyFixed,
        ];
        let mut statuses = std::vec![
            FinalisationStatus::NotStarted,
            FinalisationStatus::InProgress {
                next: FinalisationStep::OpenCheck,
                attempts: 3
            },
            FinalisationStatus::Finalised { version: None },
            FinalisationStatus::Finalised {
                version: Some(Version::V1_0)
            },
        ];
        for (index, reason) in reasons.into_iter().enumerate() {
            statuses.push(FinalisationStatus::Failed(FinalisationError {
                step: FinalisationStep::from_number(index as u8 % 4 + 1).unwrap(),
                reason,
                attempts: 1,
            }));
        }
        for status in statuses {
            assert_eq!(
                decode_status(&encode_status(&status)),
                Ok(status),
                "{status:?}"
            );
        }
    }

    #[test]
    fn garbage_is_rejected_not_trusted() {
        assert_eq!(
            decode_status(&[NOT_SUPPORTED, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::CallFailed(NOT_SUPPORTED))
        );
        assert_eq!(
            decode_status(&[0, 9, 0, 0, 0, 0, 0]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            decode_status(&[0, 1, 5, 0, 0, 0, 0]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            decode_status(&[0, 3, 1, 1, 99, 0, 0]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            decode_status(&[0, 2, 0, 0, 0, 0, 0x8000_0000]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(decode_status(&[0, 1]), Err(DecodeError::Malformed));
    }
}
