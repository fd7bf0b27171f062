//! Fault modes of the test firmware and their mapping onto `ffa_model::FaultConfig`.
//!
//! This is the only module that knows the fields of `FaultConfig`: a new fault
//! of the model needs a [`FaultKind`], a row in [`FAULT_MODES`] and a line in
//! [`Fault::apply`].

use ffa_abi::Status;
use ffa_model::tpm::config::{MalformedResponse, TpmConfig};
use ffa_model::{
    FaultConfig, MemoryFault, OpteeFault, PartitionInfoFault, Personality, ReadinessError,
};

use crate::error::{Error, Result};

/// How long the SPMC stays not ready in `not-ready` and `busy-at-boot`, unless given.
pub const DEFAULT_NOT_READY_MICROSECONDS: u64 = 200_000;
/// Length of `busy-storm` and `retry-storm` (direct requests answered BUSY / RETRY), unless given.
pub const DEFAULT_STORM_LENGTH: u64 = 8;
/// Length of `interrupt-loop` and `yield-loop` (per direct request), unless given.
pub const DEFAULT_LOOP_LENGTH: u64 = 100;
/// Set-up calls answered BUSY by `setup-busy`, unless given.
pub const DEFAULT_SETUP_BUSY_CALLS: u64 = 3;

/// A kind of fault the test firmware can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// No FF-A at all.
    FfaAbsent,
    /// The SPMC implements FF-A v1.0.
    SpmcVersion1_0,
    /// The SPMC implements FF-A v1.1.
    SpmcVersion1_1,
    /// The SPMC implements FF-A v2.0 (incompatible major version).
    SpmcVersion2_0,
    /// FF-A calls answer NOT_READY for a while after the first call.
    NotReady,
    /// FF-A calls answer BUSY for a while after the first call.
    BusyAtBoot,
    /// FFA_RXTX_MAP is denied.
    RxtxMapDenied,
    /// FFA_PARTITION_INFO_GET reports a count that overflows the RX buffer.
    PartitionInfoOverflow,
    /// FFA_PARTITION_INFO_GET reports a descriptor size too small for the descriptors.
    PartitionInfoWrongSize,
    /// FFA_PARTITION_INFO_GET uses larger (future-version) descriptors.
    PartitionInfoExtendedSize,
    /// Direct responses come from the wrong partition.
    WrongResponder,
    /// Direct requests answer BUSY several times.
    BusyStorm,
    /// Direct requests answer RETRY several times.
    RetryStorm,
    /// The preempted partition answers FFA_INTERRUPT many times per request.
    InterruptLoop,
    /// The preempted partition answers FFA_YIELD many times per request.
    YieldLoop,
    /// Set-up and discovery calls answer BUSY a few times once the SPMC is ready.
    SetupBusy,
    /// The SPMC behaves as TF-A's EL3 SPMC where it differs from the model.
    TfAEl3Spmc,
    /// The SPMC behaves as Hafnium (FF-A v1.3) where it differs from the model.
    Hafnium,
    /// The SPMC behaves as OP-TEE's S-EL1 SPMC (FF-A v1.1) where it differs from the model.
    OpTee,
    /// The first memory share/lend/donate answers NO_MEMORY.
    MemoryNoMemory,
    /// The first FFA_MEM_RECLAIM answers DENIED.
    MemoryReclaimDenied,
    /// The first FFA_MEM_FRAG_TX answers ABORTED.
    MemoryAbortedFragment,
    /// The first memory share/lend/donate answers INVALID_PARAMETERS (bad attributes).
    MemoryBadAttributes,
    /// OP-TEE (under its own SPMC) answers its first yielding calls TEE_ERROR_BUSY.
    OpteeBusy,
    /// OP-TEE answers every yielding call TEE_ERROR_BUSY (its threads are all taken).
    OpteeThreadsExhausted,
    /// OP-TEE cannot find the memory of any argument struct (TEE_ERROR_BAD_PARAMETERS in w3).
    OpteeBadParameters,
    /// OP-TEE issues an RPC the driver does not know in every yielding call.
    OpteeUnknownRpc,
    /// OP-TEE's FF-A ABI answers major version 2.
    OpteeApiMajor2,
    /// OP-TEE's threads are preempted by foreign interrupts in every yielding call.
    OpteeInterrupts,
    /// OP-TEE's device enumeration lists no device.
    OpteeNoDevices,
    /// The TPM partition is not there.
    TpmAbsent,
    /// The TPM partition answers BUSY for a while after its first request.
    TpmLate,
    /// The TPM partition answers NOT_READY for a while after its first request.
    TpmNotReady,
    /// The TPM's first PCR_Read response claims a size beyond the response buffer.
    TpmMalformedResponse,
    /// The TPM's response to TPM2_Startup carries a tag that is not one.
    TpmMalformedStartup,
    /// The TPM partition offers no completion notifications and its
    /// commands run a given time: the driver polls.
    TpmPolled,
    /// The TPM's CRB reports an interface ID that is not a CRB's: the
    /// driver gives the TPM up after registering for its notifications.
    TpmNotCrb,
}

/// How long the TPM partition answers BUSY or NOT_READY in `tpm-late` and
/// `tpm-not-ready`, unless given.
pub const DEFAULT_TPM_LATE_MICROSECONDS: u64 = 300_000;

/// How long a command of the TPM partition runs in `tpm-polled`, unless given.
pub const DEFAULT_TPM_POLLED_MICROSECONDS: u64 = 3_000;

/// A fault mode as the user names it.
#[derive(Debug, Clone, Copy)]
pub struct FaultMode {
    /// What it injects.
    pub kind: FaultKind,
    /// The name given to `--fault`.
    pub name: &'static str,
    /// One line for `cargo xtask run --help`.
    pub description: &'static str,
    /// For modes that take `=N`: the unit of N and its default.
    pub amount: Option<(&'static str, u64)>,
}

/// Every fault mode, in the order `--help` lists them.
pub const FAULT_MODES: &[FaultMode] = &[
    FaultMode {
        kind: FaultKind::FfaAbsent,
        name: "ffa-absent",
        description: "no FF-A: every FF-A call answers SMCCC NOT_SUPPORTED",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::SpmcVersion1_0,
        name: "spmc-v1.0",
        description: "the SPMC implements FF-A v1.0 (older than the client)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::SpmcVersion1_1,
        name: "spmc-v1.1",
        description: "the SPMC implements FF-A v1.1",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::SpmcVersion2_0,
        name: "spmc-v2.0",
        description: "the SPMC implements FF-A v2.0 (incompatible major version)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::NotReady,
        name: "not-ready",
        description: "FF-A calls answer NOT_READY until N µs after the first call",
        amount: Some(("microseconds", DEFAULT_NOT_READY_MICROSECONDS)),
    },
    FaultMode {
        kind: FaultKind::BusyAtBoot,
        name: "busy-at-boot",
        description: "FF-A calls answer BUSY until N µs after the first call",
        amount: Some(("microseconds", DEFAULT_NOT_READY_MICROSECONDS)),
    },
    FaultMode {
        kind: FaultKind::RxtxMapDenied,
        name: "rxtx-map-denied",
        description: "FFA_RXTX_MAP answers DENIED",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::PartitionInfoOverflow,
        name: "partition-info-overflow",
        description: "FFA_PARTITION_INFO_GET reports a count too large for the RX buffer",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::PartitionInfoWrongSize,
        name: "partition-info-wrong-size",
        description: "FFA_PARTITION_INFO_GET reports 16-byte descriptors but writes 24-byte ones",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::PartitionInfoExtendedSize,
        name: "partition-info-extended-size",
        description: "FFA_PARTITION_INFO_GET uses 32-byte descriptors (legal, future version)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::WrongResponder,
        name: "wrong-responder",
        description: "direct responses name another partition as their source",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::BusyStorm,
        name: "busy-storm",
        description: "the next N direct requests answer BUSY",
        amount: Some(("requests", DEFAULT_STORM_LENGTH)),
    },
    FaultMode {
        kind: FaultKind::RetryStorm,
        name: "retry-storm",
        description: "the next N direct requests (after any busy storm) answer RETRY",
        amount: Some(("requests", DEFAULT_STORM_LENGTH)),
    },
    FaultMode {
        kind: FaultKind::InterruptLoop,
        name: "interrupt-loop",
        description: "partition 0x8003 answers FFA_INTERRUPT N times per direct request",
        amount: Some(("times", DEFAULT_LOOP_LENGTH)),
    },
    FaultMode {
        kind: FaultKind::YieldLoop,
        name: "yield-loop",
        description: "partition 0x8003 answers FFA_YIELD N times per direct request",
        amount: Some(("times", DEFAULT_LOOP_LENGTH)),
    },
    FaultMode {
        kind: FaultKind::SetupBusy,
        name: "setup-busy",
        description: "once ready, the first N set-up and discovery calls (ID_GET, FEATURES, RXTX_MAP, PARTITION_INFO_GET) answer BUSY",
        amount: Some(("calls", DEFAULT_SETUP_BUSY_CALLS)),
    },
    FaultMode {
        kind: FaultKind::TfAEl3Spmc,
        name: "spmc-tf-a-el3",
        description: "answer as TF-A's EL3 SPMC: no REQ2/PARTITION_INFO_GET_REGS, caller's values in reserved registers, version never fixed; TF-A's memory rules (memory transactions from v1.0/v1.1 callers only, no DONATE, handles from 0xffffffc0)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::Hafnium,
        name: "spmc-hafnium",
        description: "answer as Hafnium: FF-A v1.3, 48-byte partition descriptors (also in PARTITION_INFO_GET_REGS), RX/TX of 1 page at most, no version change after other calls; Hafnium's memory rules (strict share attributes, whole-constituent fragments, slot-index handles)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpTee,
        name: "spmc-op-tee",
        description: "answer as OP-TEE's S-EL1 SPMC: FF-A v1.1 whatever is asked, 24-byte descriptors, an unknown UUID counts 0, version never fixed; OP-TEE's memory rules (no DONATE, exact attributes, one receiver, handles with bit 44)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::MemoryNoMemory,
        name: "memory-no-memory",
        description: "the first FFA_MEM_SHARE/LEND/DONATE (after N that go through) answers NO_MEMORY",
        amount: Some(("calls let through first", 0)),
    },
    FaultMode {
        kind: FaultKind::MemoryReclaimDenied,
        name: "memory-reclaim-denied",
        description: "the first FFA_MEM_RECLAIM (after N that go through) answers DENIED, as if a borrower still held the memory",
        amount: Some(("calls let through first", 0)),
    },
    FaultMode {
        kind: FaultKind::MemoryAbortedFragment,
        name: "memory-aborted-fragment",
        description: "the first FFA_MEM_FRAG_TX (after N that go through) answers ABORTED and the transaction is dropped",
        amount: Some(("calls let through first", 0)),
    },
    FaultMode {
        kind: FaultKind::MemoryBadAttributes,
        name: "memory-bad-attributes",
        description: "the first FFA_MEM_SHARE/LEND/DONATE (after N that go through) answers INVALID_PARAMETERS, as for bad memory attributes",
        amount: Some(("calls let through first", 0)),
    },
    FaultMode {
        kind: FaultKind::OpteeBusy,
        name: "optee-busy",
        description: "OP-TEE under its own SPMC (as spmc-op-tee) answers its first 3 yielding calls TEE_ERROR_BUSY: no thread free",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeThreadsExhausted,
        name: "optee-threads-exhausted",
        description: "OP-TEE (as spmc-op-tee) answers every yielding call TEE_ERROR_BUSY: its thread pool never frees (ETHREAD_LIMIT)",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeBadParameters,
        name: "optee-bad-parameters",
        description: "OP-TEE (as spmc-op-tee) cannot find the memory of any argument struct: every yielding call answers TEE_ERROR_BAD_PARAMETERS in w3",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeUnknownRpc,
        name: "optee-unknown-rpc",
        description: "OP-TEE (as spmc-op-tee) asks for an RPC the driver does not know in every yielding call, then goes on",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeApiMajor2,
        name: "optee-api-v2",
        description: "OP-TEE (as spmc-op-tee) reports its FF-A ABI as v2.0, an incompatible major version",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeInterrupts,
        name: "optee-interrupts",
        description: "OP-TEE's threads (as spmc-op-tee) are preempted by normal-world interrupts twice in every yielding call",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::OpteeNoDevices,
        name: "optee-no-devices",
        description: "OP-TEE's device enumeration (as spmc-op-tee) lists no device",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::TpmAbsent,
        name: "tpm-absent",
        description: "no TPM partition: discovery does not report it, measured boot says measurement is unavailable and why",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::TpmLate,
        name: "tpm-late",
        description: "the TPM partition answers BUSY until N µs after its first request; measurements wait and are extended later, in order",
        amount: Some(("microseconds", DEFAULT_TPM_LATE_MICROSECONDS)),
    },
    FaultMode {
        kind: FaultKind::TpmNotReady,
        name: "tpm-not-ready",
        description: "the TPM partition answers NOT_READY until N µs after its first request",
        amount: Some(("microseconds", DEFAULT_TPM_LATE_MICROSECONDS)),
    },
    FaultMode {
        kind: FaultKind::TpmMalformedResponse,
        name: "tpm-malformed-response",
        description: "the TPM's first TPM2_PCR_Read response claims 0xfffffff0 bytes: the driver refuses it, measured boot cannot verify",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::TpmMalformedStartup,
        name: "tpm-malformed-startup",
        description: "the TPM's TPM2_Startup response has the tag 0x1234: the TPM is refused, measurement is unavailable",
        amount: None,
    },
    FaultMode {
        kind: FaultKind::TpmPolled,
        name: "tpm-polled",
        description: "the TPM partition offers no completion notifications (GET_FEATURE_INFO: NOTSUP) and its commands run N µs after START (0: within it): the driver polls the CRB",
        amount: Some(("microseconds, at most 65535", DEFAULT_TPM_POLLED_MICROSECONDS)),
    },
    FaultMode {
        kind: FaultKind::TpmNotCrb,
        name: "tpm-not-crb",
        description: "the TPM's CRB says its interface is FIFO, not CRB: the driver, already registered for completion notifications, gives the TPM up and unregisters (UNREGISTER_FROM_NOTIFICATION, the ID unbound)",
        amount: None,
    },
];

/// One fault to inject: a mode and, for modes that take one, an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What to inject.
    pub kind: FaultKind,
    /// `N` of `MODE=N`; `None` means the mode's default.
    pub amount: Option<u64>,
}

impl Fault {
    /// A fault with the mode's default amount.
    pub const fn new(kind: FaultKind) -> Self {
        Self { kind, amount: None }
    }

    /// A fault with an explicit amount.
    pub const fn with_amount(kind: FaultKind, amount: u64) -> Self {
        Self {
            kind,
            amount: Some(amount),
        }
    }

    /// Parses `MODE` or `MODE=N` as given to `--fault`.
    pub fn parse(text: &str) -> Result<Self> {
        let (name, amount) = match text.split_once('=') {
            Some((name, amount)) => (name, Some(amount)),
            None => (text, None),
        };
        let mode = FAULT_MODES
            .iter()
            .find(|mode| mode.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = FAULT_MODES.iter().map(|mode| mode.name).collect();
                Error::new(format!(
                    "unknown fault mode {name:?}; known modes: {}",
                    names.join(", ")
                ))
            })?;
        let amount = match (amount, mode.amount) {
            (None, _) => None,
            (Some(_), None) => return Err(Error::new(format!("fault mode {name} takes no value"))),
            (Some(amount), Some((unit, _))) => Some(amount.parse::<u64>().map_err(|_| {
                Error::new(format!(
                    "fault mode {name} takes a number of {unit}, not {amount:?}"
                ))
            })?),
        };
        Ok(match amount {
            Some(amount) => Self::with_amount(mode.kind, amount),
            None => Self::new(mode.kind),
        })
    }

    /// The table row of this fault's kind.
    pub fn mode(&self) -> &'static FaultMode {
        FAULT_MODES
            .iter()
            .find(|mode| mode.kind == self.kind)
            .expect("every fault kind has a row in FAULT_MODES")
    }

    /// The amount to use: the given one or the mode's default (0 for modes without).
    fn amount(&self) -> u64 {
        self.amount
            .or(self.mode().amount.map(|(_, default)| default))
            .unwrap_or(0)
    }

    /// The amount as a 32-bit count.
    fn count(&self) -> Result<u32> {
        u32::try_from(self.amount()).map_err(|_| {
            Error::new(format!(
                "the amount of fault mode {} is too large",
                self.mode().name
            ))
        })
    }

    /// Sets `config`'s memory fault to `fault`, letting this fault's amount
    /// of calls through first.
    fn memory(&self, config: &mut FaultConfig, fault: MemoryFault) -> Result<()> {
        config.memory_fault = fault;
        config.memory_fault_after = u8::try_from(self.amount()).map_err(|_| {
            Error::new(format!(
                "fault mode {} lets at most 255 calls through first",
                self.mode().name
            ))
        })?;
        Ok(())
    }

    /// Changes `config` to inject this fault.
    pub fn apply(&self, config: &mut FaultConfig) -> Result<()> {
        match self.kind {
            FaultKind::FfaAbsent => config.ffa_absent = true,
            FaultKind::SpmcVersion1_0 => config.spmc_version = (1, 0),
            FaultKind::SpmcVersion1_1 => config.spmc_version = (1, 1),
            FaultKind::SpmcVersion2_0 => config.spmc_version = (2, 0),
            FaultKind::NotReady | FaultKind::BusyAtBoot => {
                config.not_ready_calls = 0;
                config.not_ready_microseconds = self.amount();
                config.not_ready_error = if self.kind == FaultKind::NotReady {
                    ReadinessError::NotReady
                } else {
                    ReadinessError::Busy
                };
            }
            FaultKind::RxtxMapDenied => config.deny_rxtx_map = true,
            FaultKind::PartitionInfoOverflow => {
                config.partition_info_fault = PartitionInfoFault::HugeCount
            }
            FaultKind::PartitionInfoWrongSize => {
                config.partition_info_fault = PartitionInfoFault::WrongDescriptorSize
            }
            FaultKind::PartitionInfoExtendedSize => {
                config.partition_info_fault = PartitionInfoFault::ExtendedDescriptorSize
            }
            FaultKind::WrongResponder => config.wrong_responder = true,
            FaultKind::BusyStorm => config.busy_storm = self.count()?,
            FaultKind::RetryStorm => config.retry_storm = self.count()?,
            FaultKind::InterruptLoop => config.interrupt_count = self.count()?,
            FaultKind::YieldLoop => config.yield_count = self.count()?,
            FaultKind::SetupBusy => {
                config.setup_busy_calls = u16::try_from(self.count()?).map_err(|_| {
                    Error::new("the amount of fault mode setup-busy is too large (at most 65535)")
                })?
            }
            FaultKind::TfAEl3Spmc => config.personality = Personality::TfAEl3Spmc,
            FaultKind::Hafnium | FaultKind::OpTee => {
                let personality = if self.kind == FaultKind::Hafnium {
                    Personality::Hafnium
                } else {
                    Personality::OpTee
                };
                config.personality = personality;
                config.spmc_version = personality.spmc_version();
            }
            FaultKind::MemoryNoMemory => self.memory(config, MemoryFault::NoMemory)?,
            FaultKind::MemoryReclaimDenied => self.memory(config, MemoryFault::DeniedReclaim)?,
            FaultKind::MemoryAbortedFragment => {
                self.memory(config, MemoryFault::AbortedFragment)?
            }
            FaultKind::MemoryBadAttributes => self.memory(config, MemoryFault::BadAttributes)?,
            FaultKind::OpteeBusy => optee(config, OpteeFault::Busy),
            FaultKind::OpteeThreadsExhausted => optee(config, OpteeFault::ThreadsExhausted),
            FaultKind::OpteeBadParameters => optee(config, OpteeFault::BadParameters),
            FaultKind::OpteeUnknownRpc => optee(config, OpteeFault::UnknownRpc),
            FaultKind::OpteeApiMajor2 => optee(config, OpteeFault::ApiMajor2),
            FaultKind::OpteeInterrupts => optee(config, OpteeFault::Interrupts),
            FaultKind::OpteeNoDevices => optee(config, OpteeFault::NoDevices),
            FaultKind::TpmAbsent
            | FaultKind::TpmLate
            | FaultKind::TpmNotReady
            | FaultKind::TpmMalformedResponse
            | FaultKind::TpmMalformedStartup
            | FaultKind::TpmNotCrb => {}
            FaultKind::TpmPolled => {
                u16::try_from(self.amount()).map_err(|_| {
                    Error::new("the amount of fault mode tpm-polled is too large (at most 65535)")
                })?;
            }
        }
        Ok(())
    }

    /// Changes the TPM partition's `tpm` configuration to inject this fault
    /// (the TPM's faults have a blob of their own).
    pub fn apply_tpm(&self, tpm: &mut TpmConfig) {
        match self.kind {
            FaultKind::TpmAbsent => tpm.absent = true,
            FaultKind::TpmLate | FaultKind::TpmNotReady => {
                tpm.late_microseconds = self.amount();
                tpm.late_error = if self.kind == FaultKind::TpmLate {
                    Status::Busy
                } else {
                    Status::NotReady
                };
            }
            FaultKind::TpmMalformedResponse => {
                tpm.malformed = MalformedResponse::SizeBeyondBuffer;
                tpm.malformed_command = 0x17E;
            }
            FaultKind::TpmMalformedStartup => {
                tpm.malformed = MalformedResponse::WrongTag;
                tpm.malformed_command = 0x144;
            }
            FaultKind::TpmPolled => {
                tpm.notifications = false;
                // Checked in `apply`.
                tpm.background_microseconds = u16::try_from(self.amount()).unwrap_or(u16::MAX);
            }
            FaultKind::TpmNotCrb => tpm.not_crb = true,
            _ => {}
        }
    }
}

/// OP-TEE's `fault`: OP-TEE exists only under its own SPMC, so the model
/// answers as OP-TEE too.
fn optee(config: &mut FaultConfig, fault: OpteeFault) {
    config.personality = Personality::OpTee;
    config.spmc_version = Personality::OpTee.spmc_version();
    config.optee_fault = fault;
}

/// Everything the test firmware's configuration blob says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareSettings<'a> {
    /// Faults to inject, applied in order (a later one wins where two conflict).
    pub faults: &'a [Fault],
    /// The firmware prints a line per SMC on the secure log.
    pub trace: bool,
    /// The firmware enters the normal world at EL1 instead of EL2.
    pub enter_normal_world_at_el1: bool,
}

impl FirmwareSettings<'static> {
    /// No faults, no trace, normal world at EL2.
    pub const HEALTHY: Self = Self {
        faults: &[],
        trace: false,
        enter_normal_world_at_el1: false,
    };
}

impl FirmwareSettings<'_> {
    /// The model configuration these settings stand for.
    pub fn config(&self) -> Result<FaultConfig> {
        let mut config = FaultConfig::default_config();
        for fault in self.faults {
            fault.apply(&mut config)?;
        }
        config.trace = self.trace;
        config.enter_normal_world_at_el1 = self.enter_normal_world_at_el1;
        Ok(config)
    }

    /// The TPM partition's configuration these settings stand for.
    pub fn tpm_config(&self) -> TpmConfig {
        let mut tpm = TpmConfig::healthy();
        for fault in self.faults {
            fault.apply_tpm(&mut tpm);
        }
        tpm
    }

    /// The configuration blobs the firmware reads at
    /// `qemu::FIRMWARE_CONFIG_ADDRESS`: the SPMC's, then the TPM's.
    pub fn config_blob(&self) -> Result<Vec<u8>> {
        let mut blob = self.config()?.to_bytes().to_vec();
        blob.extend_from_slice(&self.tpm_config().to_bytes());
        Ok(blob)
    }
}

/// The fault-mode part of `cargo xtask run --help`.
pub fn help() -> String {
    let mut text = String::from("Fault modes (--fault MODE, repeatable; MODE=N where shown):\n");
    for mode in FAULT_MODES {
        let name = match mode.amount {
            Some(_) => format!("{}[=N]", mode.name),
            None => mode.name.to_string(),
        };
        text.push_str(&format!("  {name:<30} {}", mode.description));
        if let Some((_, default)) = mode.amount {
            text.push_str(&format!(" (default {default})"));
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_uniquely_named_mode() {
        for (index, mode) in FAULT_MODES.iter().enumerate() {
            let same_kind = FAULT_MODES.iter().filter(|other| other.kind == mode.kind);
            assert_eq!(same_kind.count(), 1, "{}", mode.name);
            assert!(FAULT_MODES[..index]
                .iter()
                .all(|other| other.name != mode.name));
            assert_eq!(Fault::parse(mode.name).unwrap().mode().name, mode.name);
        }
    }

    #[test]
    fn parses_names_and_amounts() {
        assert_eq!(
            Fault::parse("busy-storm=3").unwrap(),
            Fault::with_amount(FaultKind::BusyStorm, 3)
        );
        assert_eq!(
            Fault::parse("wrong-responder").unwrap(),
            Fault::new(FaultKind::WrongResponder)
        );
        assert!(Fault::parse("wrong-responder=1").is_err());
        assert!(Fault::parse("busy-storm=many").is_err());
        let error = Fault::parse("no-such-fault").unwrap_err();
        assert!(error.to_string().contains("ffa-absent"), "{error}");
    }

    #[test]
    fn healthy_settings_are_the_model_default() {
        assert_eq!(
            FirmwareSettings::HEALTHY.config().unwrap(),
            FaultConfig::default_config()
        );
        let blob = FirmwareSettings::HEALTHY.config_blob().unwrap();
        assert_eq!(blob[..64], FaultConfig::default_config().to_bytes());
        assert_eq!(blob[64..], TpmConfig::healthy().to_bytes());
    }

    #[test]
    fn faults_and_switches_map_onto_the_config() {
        let faults = [
            Fault::new(FaultKind::SpmcVersion1_0),
            Fault::new(FaultKind::BusyAtBoot),
            Fault::new(FaultKind::PartitionInfoOverflow),
            Fault::with_amount(FaultKind::YieldLoop, 7),
            Fault::new(FaultKind::BusyStorm),
        ];
        let settings = FirmwareSettings {
            faults: &faults,
            trace: true,
            enter_normal_world_at_el1: true,
        };
        let config = settings.config().unwrap();
        assert_eq!(config.spmc_version, (1, 0));
        assert_eq!(config.not_ready_error, ReadinessError::Busy);
        assert_eq!(
            config.not_ready_microseconds,
            DEFAULT_NOT_READY_MICROSECONDS
        );
        assert_eq!(config.partition_info_fault, PartitionInfoFault::HugeCount);
        assert_eq!(config.yield_count, 7);
        assert_eq!(config.busy_storm, DEFAULT_STORM_LENGTH as u32);
        assert!(config.trace && config.enter_normal_world_at_el1);
        let blob = settings.config_blob().unwrap();
        assert_eq!(FaultConfig::from_bytes(&blob), Ok(config));
    }

    #[test]
    fn an_amount_too_large_for_the_model_is_an_error() {
        let faults = [Fault::with_amount(FaultKind::InterruptLoop, u64::MAX)];
        let settings = FirmwareSettings {
            faults: &faults,
            ..FirmwareSettings::HEALTHY
        };
        assert!(settings.config().is_err());
        let faults = [Fault::with_amount(FaultKind::MemoryReclaimDenied, 256)];
        let settings = FirmwareSettings {
            faults: &faults,
            ..FirmwareSettings::HEALTHY
        };
        assert!(settings.config().is_err());
    }

    #[test]
    fn a_memory_fault_lets_its_amount_of_calls_through_first() {
        let faults = [Fault::parse("memory-reclaim-denied=2").unwrap()];
        let settings = FirmwareSettings {
            faults: &faults,
            ..FirmwareSettings::HEALTHY
        };
        let config = settings.config().unwrap();
        assert_eq!(config.memory_fault, MemoryFault::DeniedReclaim);
        assert_eq!(config.memory_fault_after, 2);
        let first = [Fault::new(FaultKind::MemoryNoMemory)];
        let config = FirmwareSettings {
            faults: &first,
            ..FirmwareSettings::HEALTHY
        }
        .config()
        .unwrap();
        assert_eq!(
            (config.memory_fault, config.memory_fault_after),
            (MemoryFault::NoMemory, 0)
        );
    }

    #[test]
    fn help_lists_every_mode() {
        let help = help();
        for mode in FAULT_MODES {
            assert!(help.contains(mode.name), "{}", mode.name);
            assert!(help.contains(mode.description), "{}", mode.name);
        }
    }
}
