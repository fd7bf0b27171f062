//! Bringing a TPM up, over the TPM HIL (so any transport): the `tpm`
//! init-queue entry.
//!
//! Once the transport's driver has an outcome (its entry signals it), the
//! entry sends `TPM2_Startup(CLEAR)` (`TPM_RC_INITIALIZE` means firmware
//! started it already: fine), `TPM2_SelfTest(full)` (`TPM_RC_TESTING`:
//! still running, fine), `TPM2_GetCapability(TPM_CAP_PCRS)` (the TPM must
//! have a SHA-256 bank, the one measured boot extends) and
//! `TPM2_GetCapability(TPM_PT_MANUFACTURER)`. The commands complete from
//! the transport's callbacks; meanwhile the entry defers on
//! `tpm-started`, which it told the queue to expect
//! (`Queue::expect_signal`), so boot does not count as settled while the
//! TPM is being brought up. Then the entry is ready (the queue signals
//! `tpm-ready`) or failed, and either way it signals `tpm-probed`, which
//! measured boot waits on.
//!
//! Without a transport (no TPM partition, FF-A down) the entry is unbound:
//! a system without a TPM is normal, and [`TpmState::Absent`] says why.

use core::cell::Cell;

use kernel::cells::{OptionalCell, TakeCell};
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::init_queue::{
    ConditionId, ConditionSet, EntryId, EntryState, Probe, ProbeResult, Queue,
};
use kernel::ErrorCode;

use crate::tpm2::{self, Malformed, PcrBanks, ResponseCode, ResponseError};

/// Why there is no TPM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Absence {
    /// No partition implements the TPM service's UUID.
    NoPartition,
    /// The FF-A root is down, so no partition driver could bind.
    FfaDown,
    /// The driver refused the partition it found.
    DriverFailed(ErrorCode),
}

impl Absence {
    /// A line for the boot report.
    pub const fn explanation(&self) -> &'static str {
        match self {
            Absence::NoPartition => {
                "no TPM: no FF-A partition implements the TPM service (UUID 17b862a4-1806-4faf-86b3-089a58353861)"
            }
            Absence::FfaDown => "no TPM: the FF-A root is down, so the TPM partition cannot be reached",
            Absence::DriverFailed(_) => "no TPM: the TPM driver refused the TPM partition it found",
        }
    }
}

/// A step of the bring-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum StartupStep {
    /// `TPM2_Startup(CLEAR)`.
    Startup,
    /// `TPM2_SelfTest(full)`.
    SelfTest,
    /// `TPM2_GetCapability(TPM_CAP_PCRS)`.
    PcrBanks,
    /// `TPM2_GetCapability(TPM_PT_MANUFACTURER)`.
    Manufacturer,
}

/// Why the bring-up failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum StartupError {
    /// The transport failed (its error code).
    Transport(ErrorCode),
    /// The TPM refused (its response code).
    Tpm(ResponseCode),
    /// The response is not one.
    Malformed(Malformed),
    /// The TPM has no SHA-256 PCR bank.
    NoSha256Bank,
}

/// Where the TPM is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum TpmState {
    /// Not probed yet, or waiting for the transport.
    Waiting,
    /// Being brought up.
    Starting(StartupStep),
    /// Up: takes commands.
    Ready {
        /// Its SHA-256 PCRs and banks.
        banks: PcrBanks,
        /// `TPM_PT_MANUFACTURER` (four ASCII characters), if reported.
        manufacturer: Option<u32>,
    },
    /// There is none.
    Absent(Absence),
    /// Bring-up failed at a step.
    Failed(StartupStep, StartupError),
}

/// The conditions the bring-up uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct StartupConditions {
    /// The transport's driver has an outcome (bound, unbound or failed).
    pub transport_probed: ConditionId,
    /// Internal: the bring-up's commands are over.
    pub started: ConditionId,
    /// The bring-up has an outcome, ready or not (measured boot waits on it).
    pub probed: ConditionId,
}

/// Size of the bring-up's command buffer.
pub const STARTUP_BUFFER_SIZE: usize = 64;

/// Brings the TPM up; the `tpm` entry.
pub struct TpmStartup<'a> {
    tpm: &'a dyn Tpm<'a>,
    queue: &'a dyn Queue<'a>,
    conditions: StartupConditions,
    transport_entry: OptionalCell<EntryId>,
    buffer: TakeCell<'static, [u8]>,
    state: Cell<TpmState>,
    banks: Cell<Option<PcrBanks>>,
}

impl<'a> TpmStartup<'a> {
    /// Brings `tpm` up with commands in `buffer`, on `queue`.
    pub fn new(
        tpm: &'a dyn Tpm<'a>,
        queue: &'a dyn Queue<'a>,
        conditions: StartupConditions,
        buffer: &'static mut [u8],
    ) -> TpmStartup<'a> {
        TpmStartup {
            tpm,
            queue,
            conditions,
            transport_entry: OptionalCell::empty(),
            buffer: TakeCell::new(buffer),
            state: Cell::new(TpmState::Waiting),
            banks: Cell::new(None),
        }
    }

    /// The transport driver's entry: why it did not bind explains an absent TPM.
    pub fn set_transport_entry(&self, entry: EntryId) {
        self.transport_entry.set(entry);
    }

    /// Where the TPM is.
    pub fn state(&self) -> TpmState {
        self.state.get()
    }

    /// Whether it takes commands.
    pub fn is_ready(&self) -> bool {
        matches!(self.state.get(), TpmState::Ready { .. })
    }

    fn absence(&self) -> Absence {
        match self
            .transport_entry
            .get()
            .map(|entry| self.queue.state(entry))
        {
            Some(EntryState::Failed(ErrorCode::NODEVICE)) => Absence::FfaDown,
            Some(EntryState::Failed(error)) => Absence::DriverFailed(error),
            _ => Absence::NoPartition,
        }
    }

    fn send(&self, step: StartupStep) -> Result<(), ErrorCode> {
        let buffer = self.buffer.take().ok_or(ErrorCode::BUSY)?;
        let built = match step {
            StartupStep::Startup => tpm2::startup_clear(buffer),
            StartupStep::SelfTest => tpm2::self_test(buffer, true),
            StartupStep::PcrBanks => tpm2::get_capability(buffer, tpm2::CAPABILITY_PCRS, 0, 1),
            StartupStep::Manufacturer => tpm2::get_capability(
                buffer,
                tpm2::CAPABILITY_PROPERTIES,
                tpm2::PROPERTY_MANUFACTURER,
                1,
            ),
        };
        let Ok(length) = built else {
            self.buffer.replace(buffer);
            return Err(ErrorCode::SIZE);
        };
        self.state.set(TpmState::Starting(step));
        self.tpm
            .send_command(buffer, length, Locality::ZERO)
            .map_err(|(error, buffer)| {
                self.buffer.replace(buffer);
                error
            })
    }

    fn fail(&self, step: StartupStep, error: StartupError) {
        defmt::error!("tpm: bring-up failed at {}: {}", step, error);
        self.state.set(TpmState::Failed(step, error));
        self.queue.signal(self.conditions.started);
    }

    /// The next step after `step` succeeded, or the end.
    fn next(&self, step: StartupStep) {
        let next = match step {
            StartupStep::Startup => StartupStep::SelfTest,
            StartupStep::SelfTest => StartupStep::PcrBanks,
            StartupStep::PcrBanks => StartupStep::Manufacturer,
            StartupStep::Manufacturer => {
                self.finish(None);
                return;
            }
        };
        if let Err(error) = self.send(next) {
            self.fail(next, StartupError::Transport(error));
        }
    }

    fn finish(&self, manufacturer: Option<u32>) {
        let Some(banks) = self.banks.get() else {
            return self.fail(StartupStep::PcrBanks, StartupError::NoSha256Bank);
        };
        let name = manufacturer.unwrap_or(0).to_be_bytes();
        defmt::info!(
            "tpm: TPM 2.0 ready: manufacturer {=[u8]:a}, {=u32} PCR bank(s), SHA-256 bank with {=usize} PCRs",
            name,
            banks.banks,
            banks.sha256.map_or(0, |pcrs| pcrs.len())
        );
        self.state.set(TpmState::Ready {
            banks,
            manufacturer,
        });
        self.queue.signal(self.conditions.started);
    }
}

impl TpmClient for TpmStartup<'_> {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        let TpmState::Starting(step) = self.state.get() else {
            self.buffer.replace(buffer);
            return;
        };
        let response = &buffer[..response_length.min(buffer.len())];
        let outcome: Result<Option<u32>, StartupError> = match result {
            Err(error) => Err(StartupError::Transport(error)),
            Ok(()) => {
                let parsed = match step {
                    StartupStep::Startup | StartupStep::SelfTest => {
                        tpm2::parse_empty(response).map(|()| None)
                    }
                    StartupStep::PcrBanks => tpm2::parse_pcr_banks(response).map(|banks| {
                        self.banks.set(banks.sha256.map(|_| banks));
                        None
                    }),
                    StartupStep::Manufacturer => {
                        tpm2::parse_property(response, tpm2::PROPERTY_MANUFACTURER)
                    }
                };
                match parsed {
                    Ok(value) => Ok(value),
                    // Firmware started it already / the self test still runs.
                    Err(ResponseError::Tpm(ResponseCode::INITIALIZE))
                        if step == StartupStep::Startup =>
                    {
                        defmt::info!("tpm: TPM2_Startup: the TPM was started already");
                        Ok(None)
                    }
                    Err(ResponseError::Tpm(ResponseCode::TESTING))
                        if step == StartupStep::SelfTest =>
                    {
                        Ok(None)
                    }
                    Err(ResponseError::Tpm(code)) => Err(StartupError::Tpm(code)),
                    Err(ResponseError::Malformed(malformed)) => {
                        Err(StartupError::Malformed(malformed))
                    }
                }
            }
        };
        self.buffer.replace(buffer);
        match outcome {
            Err(error) => self.fail(step, error),
            Ok(value) if step == StartupStep::Manufacturer => self.finish(value),
            Ok(_) if step == StartupStep::PcrBanks && self.banks.get().is_none() => {
                self.fail(step, StartupError::NoSha256Bank)
            }
            Ok(_) => self.next(step),
        }
    }
}

impl Probe for TpmStartup<'_> {
    fn probe(&self) -> ProbeResult {
        let result = self.probe_state();
        if !matches!(result, ProbeResult::Defer(_)) {
            self.queue.signal(self.conditions.probed);
        }
        result
    }
}

impl TpmStartup<'_> {
    fn probe_state(&self) -> ProbeResult {
        match self.state.get() {
            TpmState::Ready { .. } => return ProbeResult::Ready,
            TpmState::Failed(..) => return ProbeResult::Failed(ErrorCode::FAIL),
            TpmState::Absent(_) => return ProbeResult::Unbound,
            TpmState::Starting(_) => {
                // Woken before the end: keep waiting (the signal is expected).
                return ProbeResult::Defer(ConditionSet::of(self.conditions.started));
            }
            TpmState::Waiting => {}
        }
        let transport = ConditionSet::of(self.conditions.transport_probed);
        if !self.queue.missing(transport).is_empty() {
            return ProbeResult::Defer(transport);
        }
        if !self.tpm.is_available() {
            let absence = self.absence();
            defmt::info!("tpm: {=str}", absence.explanation());
            self.state.set(TpmState::Absent(absence));
            return ProbeResult::Unbound;
        }
        if let Err(error) = self.send(StartupStep::Startup) {
            self.state.set(TpmState::Failed(
                StartupStep::Startup,
                StartupError::Transport(error),
            ));
            defmt::error!("tpm: TPM2_Startup could not be sent: {}", error);
            return ProbeResult::Failed(error);
        }
        self.queue.expect_signal(self.conditions.started);
        ProbeResult::Defer(ConditionSet::of(self.conditions.started))
    }
}
