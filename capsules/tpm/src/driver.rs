//! The TPM CRB-over-FF-A driver: a partition driver on the FF-A bus, bound
//! by the TPM service UUID, that implements the kernel's TPM HIL.
//!
//! A command goes through the CRB in the chip's MMIO window, with an FF-A
//! `START` after every change so that the TPM service looks (Linux's
//! `tpm_crb.c` with the FF-A start method, its 2025 idle support included):
//!
//! ```text
//! Version      GET_INTERFACE_VERSION (first command only): major 1
//! Locality     LOC_CTRL.requestAccess, START(locality request); wait for
//!              LOC_STATE valid+assigned+active and LOC_STS.granted;
//!              first time per locality: check INTF_ID and the buffers
//! Ready        CTRL_REQ.cmdReady, START(command); wait for the bit to clear
//! Execute      CTRL_CANCEL = 0, the command into the command buffer, a
//!              fence, CTRL_START = 1, START(command); wait for CTRL_START
//!              to clear (the command's duration); read the response
//! Idle         CTRL_REQ.goIdle, START(command); wait (a timeout only warns)
//! Relinquish   LOC_CTRL.relinquish, START(locality request); wait for the
//!              locality to go (a timeout only warns), then complete
//! ```
//!
//! Each step is an *act* (register writes and one service call) and a
//! *wait* (a register condition, checked at once and then on the alarm
//! every poll interval, up to the step's deadline: `TIMEOUT_C` = 200 ms, or
//! the command's duration class from Linux's `tpm.h`). Acts and waits run
//! from the driver's deferred call and its alarm, never inside a caller's
//! downcall, and the client is called back from there.
//!
//! A service call the partition answers `BUSY` or `NOT_READY` (the client's
//! own bounded `BUSY` retries included) is tried again on the alarm every
//! [`Timing::busy_retry_ms`] for up to [`Timing::busy_timeout_ms`] (2 s,
//! as Linux). A command still running at its deadline is cancelled
//! (`CTRL_CANCEL`, `START`) and completes with `TIMEOUT`; [`Tpm::cancel`]
//! does the same at once and completes with `CANCEL`. A response that is
//! not one (its size below a header or beyond the response buffer, or the
//! CRB's `tpmSts` error bit) completes with `FAIL`; the driver goes on.
//!
//! The driver binds one partition (as Linux supports one TPM): a second
//! one is refused.

use core::cell::Cell;

use capsule_ffa::bus::{PartitionDriver, PartitionHandle};
use capsule_ffa::Uuid;
use ffa_abi::tpm_service::{self, crb, StartQualifier, TPM_SERVICE_UUID};
use kernel::cells::{OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::mmio_window::MmioWindow;
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::ErrorCode;

use crate::crb::{Buffers, CrbFault, Page};
use crate::service::{self, Carrier, ServiceFailure};
use crate::tpm2::{CommandCode, HEADER_SIZE};

/// The UUIDs the driver binds.
static TPM_UUIDS: [Uuid; 1] = [TPM_SERVICE_UUID];

/// How long the driver waits, and how often it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Timing {
    /// `TIMEOUT_C`: locality, cmdReady, goIdle.
    pub control_ms: u64,
    /// How often a wait looks again.
    pub poll_ms: u64,
    /// How often a busy service call is tried again.
    pub busy_retry_ms: u64,
    /// How long a busy service is tried before the command fails (`BUSY`).
    pub busy_timeout_ms: u64,
}

impl Timing {
    /// Linux's values: 200 ms, 2 s of busy retries; polls every 1 ms, busy
    /// retries every 10 ms.
    pub const LINUX: Timing = Timing {
        control_ms: 200,
        poll_ms: 1,
        busy_retry_ms: 10,
        busy_timeout_ms: 2_000,
    };
}

/// How long a command may run (Linux's duration classes, `tpm.h`).
pub fn duration_ms(command: Option<CommandCode>) -> u64 {
    match command {
        Some(CommandCode::SelfTest | CommandCode::GetRandom) => 2_000,
        Some(_) => 750,
        None => 120_000,
    }
}

/// A step of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Stage {
    /// `GET_INTERFACE_VERSION`.
    Version,
    /// Locality request.
    Locality,
    /// `cmdReady`.
    Ready,
    /// The command runs.
    Execute,
    /// `goIdle`.
    Idle,
    /// Locality relinquish.
    Relinquish,
}

/// Whether a stage's act is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Act,
    Wait,
}

/// What went wrong in the transport, for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum TransportFault {
    /// A service call failed.
    Service(Stage, ServiceFailure),
    /// The service stayed busy past the busy timeout.
    Busy(Stage),
    /// The service implements another major interface version.
    InterfaceVersion(u32),
    /// The CRB is not usable.
    Crb(Stage, CrbFault),
    /// The TPM set `CTRL_STS.tpmSts`: a fatal error.
    TpmError,
    /// A wait passed its deadline.
    Timeout(Stage),
    /// The command was cancelled.
    Cancelled,
}

impl TransportFault {
    /// The error code the client gets.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            TransportFault::Service(..) | TransportFault::InterfaceVersion(_) => {
                ErrorCode::NODEVICE
            }
            TransportFault::Busy(_) => ErrorCode::BUSY,
            TransportFault::Crb(..) | TransportFault::TpmError => ErrorCode::FAIL,
            TransportFault::Timeout(_) => ErrorCode::NOACK,
            TransportFault::Cancelled => ErrorCode::CANCEL,
        }
    }
}

/// Counters for the report and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct Statistics {
    /// Commands completed with a response.
    pub commands: u32,
    /// Commands that failed in the transport.
    pub failures: u32,
    /// Service calls made.
    pub service_calls: u32,
    /// Service calls answered busy or not ready.
    pub busy_answers: u32,
    /// Alarm polls.
    pub polls: u32,
}

/// The driver.
pub struct TpmCrbFfa<'a, A: Alarm<'a>> {
    window: &'a dyn MmioWindow,
    alarm: &'a A,
    timing: Timing,
    deferred_call: DeferredCall,
    handle: OptionalCell<PartitionHandle<'a>>,
    carrier: Cell<Carrier>,
    client: OptionalCell<&'a dyn TpmClient>,
    /// The command's buffer while one is in flight.
    buffer: TakeCell<'static, [u8]>,
    length: Cell<usize>,
    locality: Cell<Locality>,
    stage: Cell<Option<Stage>>,
    step: Cell<Step>,
    deadline: Cell<u64>,
    busy_deadline: Cell<Option<u64>>,
    cancel: Cell<bool>,
    /// The outcome to report once the locality is given back.
    outcome: Cell<Result<usize, TransportFault>>,
    interface_version: Cell<Option<u32>>,
    buffers: [Cell<Option<Buffers>>; tpm_service::LOCALITY_COUNT as usize],
    last_fault: Cell<Option<TransportFault>>,
    statistics: Cell<Statistics>,
}

impl<'a, A: Alarm<'a>> TpmCrbFfa<'a, A> {
    /// A driver reaching the CRB through `window`, timing with `alarm`.
    pub fn new(window: &'a dyn MmioWindow, alarm: &'a A, timing: Timing) -> TpmCrbFfa<'a, A> {
        TpmCrbFfa {
            window,
            alarm,
            timing,
            deferred_call: DeferredCall::new(),
            handle: OptionalCell::empty(),
            carrier: Cell::new(Carrier::DirectRequest32),
            client: OptionalCell::empty(),
            buffer: TakeCell::empty(),
            length: Cell::new(0),
            locality: Cell::new(Locality::ZERO),
            stage: Cell::new(None),
            step: Cell::new(Step::Act),
            deadline: Cell::new(0),
            busy_deadline: Cell::new(None),
            cancel: Cell::new(false),
            outcome: Cell::new(Ok(0)),
            interface_version: Cell::new(None),
            buffers: [const { Cell::new(None) }; tpm_service::LOCALITY_COUNT as usize],
            last_fault: Cell::new(None),
            statistics: Cell::new(Statistics::default()),
        }
    }

    /// The bound partition's handle.
    pub fn handle(&self) -> Option<PartitionHandle<'a>> {
        self.handle.get()
    }

    /// How service calls travel.
    pub fn carrier(&self) -> Carrier {
        self.carrier.get()
    }

    /// The service's interface version, once asked.
    pub fn interface_version(&self) -> Option<u32> {
        self.interface_version.get()
    }

    /// The last transport fault, if any.
    pub fn last_fault(&self) -> Option<TransportFault> {
        self.last_fault.get()
    }

    /// The counters.
    pub fn statistics(&self) -> Statistics {
        self.statistics.get()
    }

    /// Whether a command is in flight.
    pub fn is_busy(&self) -> bool {
        self.stage.get().is_some()
    }

    fn count(&self, update: impl FnOnce(&mut Statistics)) {
        let mut statistics = self.statistics.get();
        update(&mut statistics);
        self.statistics.set(statistics);
    }

    fn page(&self) -> Result<Page<'a>, CrbFault> {
        Page::of(self.window, self.locality.get().value())
    }

    /// One service call; `Ok(None)` when the service is busy and the call
    /// will be tried again from the alarm.
    fn call(
        &self,
        stage: Stage,
        request: &tpm_service::ServiceRequest,
    ) -> Result<Option<tpm_service::ServiceResponse>, TransportFault> {
        let Some(handle) = self.handle.get() else {
            return Err(TransportFault::Service(
                stage,
                ServiceFailure::Ffa(capsule_ffa::ClientError::NotInitialized),
            ));
        };
        self.count(|statistics| statistics.service_calls += 1);
        match service::call(&handle, self.carrier.get(), request) {
            Ok(response) => {
                self.busy_deadline.set(None);
                Ok(Some(response))
            }
            Err(failure) if failure.is_transient() => {
                self.count(|statistics| statistics.busy_answers += 1);
                let now = self.alarm.now();
                let deadline = match self.busy_deadline.get() {
                    Some(deadline) => deadline,
                    None => {
                        defmt::warn!(
                            "tpm: the TPM partition is busy or not ready ({}) at {}; trying again for up to {=u64} ms",
                            failure,
                            stage,
                            self.timing.busy_timeout_ms
                        );
                        let deadline = now + self.alarm.ticks_from_ms(self.timing.busy_timeout_ms);
                        self.busy_deadline.set(Some(deadline));
                        deadline
                    }
                };
                if now >= deadline {
                    self.busy_deadline.set(None);
                    return Err(TransportFault::Busy(stage));
                }
                self.alarm.set_alarm(
                    now,
                    self.alarm.ticks_from_ms(self.timing.busy_retry_ms).max(1),
                );
                Ok(None)
            }
            Err(failure) => Err(TransportFault::Service(stage, failure)),
        }
    }

    /// `START(qualifier)` for the command's locality.
    fn start(&self, stage: Stage, qualifier: StartQualifier) -> Result<bool, TransportFault> {
        let request = tpm_service::start(qualifier, self.locality.get().value());
        self.call(stage, &request)
            .map(|response| response.is_some())
    }

    fn enter(&self, stage: Stage) {
        self.stage.set(Some(stage));
        self.step.set(Step::Act);
    }

    fn wait_for(&self, milliseconds: u64) {
        self.step.set(Step::Wait);
        self.deadline
            .set(self.alarm.now() + self.alarm.ticks_from_ms(milliseconds));
    }

    /// Runs the command as far as it goes now; arms the alarm if it waits.
    fn advance(&self) {
        // Each pass either moves to the next step or returns; a command has
        // at most twelve steps.
        for _ in 0..16 {
            let Some(stage) = self.stage.get() else {
                return;
            };
            let result = match self.step.get() {
                Step::Act => self.act(stage),
                Step::Wait => self.wait(stage),
            };
            match result {
                Ok(true) => continue,
                Ok(false) => return,
                Err(fault) => self.fault(stage, fault),
            }
        }
    }

    /// The act of `stage`; `Ok(true)` if done (now waiting), `Ok(false)` if
    /// it will be tried again from the alarm.
    fn act(&self, stage: Stage) -> Result<bool, TransportFault> {
        let crb_fault = |fault: CrbFault| TransportFault::Crb(stage, fault);
        let access = |error: ErrorCode| TransportFault::Crb(stage, CrbFault::Access(error));
        match stage {
            Stage::Version => {
                let Some(response) = self.call(stage, &tpm_service::get_interface_version())?
                else {
                    return Ok(false);
                };
                let version = response.results[0] as u32;
                if tpm_service::version_major(version) != 1 {
                    return Err(TransportFault::InterfaceVersion(version));
                }
                self.interface_version.set(Some(version));
                defmt::info!(
                    "tpm: TPM service interface v{=u16}.{=u16} over {=str}",
                    tpm_service::version_major(version),
                    tpm_service::version_minor(version),
                    self.carrier.get().name()
                );
                self.enter(Stage::Locality);
                Ok(true)
            }
            Stage::Locality => self.request(
                stage,
                crb::LOC_CTRL,
                crb::loc_ctrl::REQUEST_ACCESS,
                StartQualifier::LocalityRequest,
            ),
            Stage::Ready => self.request(
                stage,
                crb::CTRL_REQ,
                crb::ctrl_req::COMMAND_READY,
                StartQualifier::Command,
            ),
            Stage::Execute => {
                if self.cancel.get() {
                    return Err(TransportFault::Cancelled);
                }
                let page = self.page().map_err(crb_fault)?;
                let buffers = self
                    .buffers_of_locality()
                    .ok_or(crb_fault(CrbFault::NoPage))?;
                let length = self.length.get();
                if length > buffers.command_size {
                    return Err(crb_fault(CrbFault::ResponseSize(length as u32)));
                }
                page.write(crb::CTRL_CANCEL, 0).map_err(access)?;
                let mut command = None;
                self.buffer
                    .map(|buffer| {
                        command = Some(CommandCode::of_command(&buffer[..length]));
                        self.window.write(buffers.command, &buffer[..length])
                    })
                    .unwrap_or(Err(ErrorCode::FAIL))
                    .map_err(access)?;
                self.window.fence();
                page.write(crb::CTRL_START, 1).map_err(access)?;
                if !self.start(stage, StartQualifier::Command)? {
                    return Ok(false);
                }
                self.wait_for(duration_ms(command.flatten()));
                Ok(true)
            }
            Stage::Idle => self.request(
                stage,
                crb::CTRL_REQ,
                crb::ctrl_req::GO_IDLE,
                StartQualifier::Command,
            ),
            Stage::Relinquish => self.request(
                stage,
                crb::LOC_CTRL,
                crb::loc_ctrl::RELINQUISH,
                StartQualifier::LocalityRequest,
            ),
        }
    }

    /// The act of a control step: `value` into `register` of the
    /// locality's page, then `START(qualifier)`, then wait for the TPM
    /// (`TIMEOUT_C`). `Ok(false)` if the service was busy: the act runs again.
    fn request(
        &self,
        stage: Stage,
        register: usize,
        value: u32,
        qualifier: StartQualifier,
    ) -> Result<bool, TransportFault> {
        let page = self
            .page()
            .map_err(|fault| TransportFault::Crb(stage, fault))?;
        page.write(register, value)
            .map_err(|error| TransportFault::Crb(stage, CrbFault::Access(error)))?;
        if !self.start(stage, qualifier)? {
            return Ok(false);
        }
        self.wait_for(self.timing.control_ms);
        Ok(true)
    }

    fn buffers_of_locality(&self) -> Option<Buffers> {
        self.buffers
            .get(usize::from(self.locality.get().value()))
            .and_then(Cell::get)
    }

    /// The wait of `stage`; `Ok(true)` if it is over (moved on).
    fn wait(&self, stage: Stage) -> Result<bool, TransportFault> {
        let crb_fault = |fault: CrbFault| TransportFault::Crb(stage, fault);
        let access = |error: ErrorCode| TransportFault::Crb(stage, CrbFault::Access(error));
        let page = self.page().map_err(crb_fault)?;
        let locality = self.locality.get().value();
        let done = match stage {
            Stage::Version => true,
            Stage::Locality => page.granted(locality).map_err(access)?,
            Stage::Ready | Stage::Idle => {
                let bit = if stage == Stage::Ready {
                    crb::ctrl_req::COMMAND_READY
                } else {
                    crb::ctrl_req::GO_IDLE
                };
                page.read(crb::CTRL_REQ).map_err(access)? & bit == 0
            }
            Stage::Execute => {
                if self.cancel.get() {
                    return Err(TransportFault::Cancelled);
                }
                page.read(crb::CTRL_START).map_err(access)? & 1 == 0
            }
            Stage::Relinquish => page.released(locality).map_err(access)?,
        };
        if done {
            self.finish(stage, &page)?;
            return Ok(true);
        }
        let now = self.alarm.now();
        if now >= self.deadline.get() {
            return match stage {
                Stage::Idle => {
                    defmt::warn!(
                        "tpm: goIdle not acknowledged in time; giving the locality back anyway"
                    );
                    self.enter(Stage::Relinquish);
                    Ok(true)
                }
                Stage::Relinquish => {
                    defmt::warn!("tpm: the locality was not given back in time");
                    self.complete();
                    Ok(false)
                }
                _ => Err(TransportFault::Timeout(stage)),
            };
        }
        self.count(|statistics| statistics.polls += 1);
        self.alarm
            .set_alarm(now, self.alarm.ticks_from_ms(self.timing.poll_ms).max(1));
        Ok(false)
    }

    /// `stage`'s wait is over: what follows.
    fn finish(&self, stage: Stage, page: &Page<'_>) -> Result<(), TransportFault> {
        match stage {
            Stage::Version => self.enter(Stage::Locality),
            Stage::Locality => {
                let index = usize::from(self.locality.get().value());
                if self.buffers[index].get().is_none() {
                    let buffers = page
                        .buffers()
                        .map_err(|fault| TransportFault::Crb(stage, fault))?;
                    defmt::debug!("tpm: locality {=usize}: CRB buffers {}", index, buffers);
                    self.buffers[index].set(Some(buffers));
                }
                self.enter(Stage::Ready);
            }
            Stage::Ready => self.enter(Stage::Execute),
            Stage::Execute => {
                let status = page
                    .read(crb::CTRL_STS)
                    .map_err(|error| TransportFault::Crb(stage, CrbFault::Access(error)))?;
                let outcome = if status & crb::ctrl_sts::ERROR != 0 {
                    Err(TransportFault::TpmError)
                } else {
                    let buffers = self
                        .buffers_of_locality()
                        .ok_or(TransportFault::Crb(stage, CrbFault::NoPage))?;
                    self.buffer
                        .map(|buffer| page.read_response(&buffers, buffer))
                        .unwrap_or(Err(CrbFault::Access(ErrorCode::FAIL)))
                        .map_err(|fault| TransportFault::Crb(stage, fault))
                };
                if let Err(fault) = outcome {
                    self.note(fault);
                }
                self.outcome.set(outcome);
                self.enter(Stage::Idle);
            }
            Stage::Idle => self.enter(Stage::Relinquish),
            Stage::Relinquish => self.complete(),
        }
        Ok(())
    }

    fn note(&self, fault: TransportFault) {
        self.last_fault.set(Some(fault));
        defmt::error!("tpm: command failed: {}", fault);
    }

    /// A fault at `stage`: give the locality back if it was taken, then complete.
    fn fault(&self, stage: Stage, fault: TransportFault) {
        self.note(fault);
        self.outcome.set(Err(fault));
        match (stage, fault) {
            (Stage::Execute, TransportFault::Timeout(_) | TransportFault::Cancelled) => {
                // Tell the TPM to stop, then give the locality back.
                let cancelled = self
                    .page()
                    .is_ok_and(|page| page.write(crb::CTRL_CANCEL, 1).is_ok());
                if cancelled {
                    let _ = self.start(stage, StartQualifier::Command);
                }
                self.enter(Stage::Idle);
            }
            (Stage::Ready | Stage::Execute, _) => self.enter(Stage::Relinquish),
            _ => self.complete(),
        }
    }

    /// Hands the buffer back to the client with the outcome.
    fn complete(&self) {
        self.stage.set(None);
        self.cancel.set(false);
        self.busy_deadline.set(None);
        let outcome = self.outcome.replace(Ok(0));
        match outcome {
            Ok(_) => self.count(|statistics| statistics.commands += 1),
            Err(_) => self.count(|statistics| statistics.failures += 1),
        }
        let Some(buffer) = self.buffer.take() else {
            return;
        };
        let (length, result) = match outcome {
            Ok(length) => (length, Ok(())),
            Err(fault) => (0, Err(fault.error_code())),
        };
        self.client
            .map(|client| client.command_complete(buffer, length, result));
    }
}

impl<'a, A: Alarm<'a>> PartitionDriver<'a> for TpmCrbFfa<'a, A> {
    fn name(&self) -> &'static str {
        "tpm-crb-ffa"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &TPM_UUIDS
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        if let Some(bound) = self.handle.get() {
            defmt::warn!(
                "tpm: a second TPM partition {=u16:#06x} is not used (bound to {=u16:#06x})",
                handle.id().raw(),
                bound.id().raw()
            );
            return Err(ErrorCode::ALREADY);
        }
        if !handle.info().properties.receives_direct_requests()
            && !handle.supports_direct_request_2()
        {
            defmt::error!(
                "tpm: partition {=u16:#06x} receives no direct request",
                handle.id().raw()
            );
            return Err(ErrorCode::NOSUPPORT);
        }
        let carrier = Carrier::for_partition(&handle);
        self.carrier.set(carrier);
        self.handle.set(handle);
        defmt::info!(
            "tpm: TPM service at partition {=u16:#06x}, calls over {=str}, CRB at {=u64:#x} ({=usize} bytes)",
            handle.id().raw(),
            carrier.name(),
            self.window.physical_address(),
            self.window.len()
        );
        Ok(())
    }
}

impl<'a, A: Alarm<'a>> Tpm<'a> for TpmCrbFfa<'a, A> {
    fn set_client(&self, client: &'a dyn TpmClient) {
        self.client.set(client);
    }

    fn is_available(&self) -> bool {
        self.handle.is_some()
            && !matches!(
                self.last_fault.get(),
                Some(
                    TransportFault::InterfaceVersion(_)
                        | TransportFault::Crb(_, CrbFault::NotCrb(_))
                )
            )
    }

    fn maximum_command_size(&self) -> usize {
        self.buffers_of_locality()
            .map_or(crb::DATA_BUFFER_SIZE, |buffers| {
                buffers.command_size.min(buffers.response_size)
            })
    }

    fn send_command(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        locality: Locality,
    ) -> Result<(), (ErrorCode, &'static mut [u8])> {
        if self.handle.is_none() {
            return Err((ErrorCode::NODEVICE, buffer));
        }
        if !self.is_available() {
            return Err((ErrorCode::OFF, buffer));
        }
        if self.is_busy() {
            return Err((ErrorCode::BUSY, buffer));
        }
        if length < HEADER_SIZE || length > buffer.len() || length > crb::DATA_BUFFER_SIZE {
            return Err((ErrorCode::SIZE, buffer));
        }
        self.buffer.replace(buffer);
        self.length.set(length);
        self.locality.set(locality);
        self.cancel.set(false);
        self.outcome.set(Ok(0));
        self.enter(if self.interface_version.get().is_some() {
            Stage::Locality
        } else {
            Stage::Version
        });
        self.deferred_call.set();
        Ok(())
    }

    fn cancel(&self) -> Result<(), ErrorCode> {
        if !self.is_busy() {
            return Err(ErrorCode::ALREADY);
        }
        self.cancel.set(true);
        let _ = self.alarm.disarm();
        self.deferred_call.set();
        Ok(())
    }
}

impl<'a, A: Alarm<'a>> TpmCrbFfa<'a, A> {
    /// Acts on a cancel, then runs the command as far as it goes.
    fn run(&self) {
        if self.cancel.get() {
            match (self.stage.get(), self.step.get()) {
                // Nothing taken yet: done.
                (Some(Stage::Version), _) | (Some(Stage::Locality), Step::Act) => {
                    self.note(TransportFault::Cancelled);
                    self.outcome.set(Err(TransportFault::Cancelled));
                    self.complete();
                    return;
                }
                // The locality is held, the command not given yet: give it back.
                (Some(Stage::Locality | Stage::Ready), _) => {
                    self.note(TransportFault::Cancelled);
                    self.outcome.set(Err(TransportFault::Cancelled));
                    self.cancel.set(false);
                    self.enter(Stage::Relinquish);
                }
                // The command runs: `act`/`wait` stop it through the CRB.
                (Some(Stage::Execute), _) => {}
                // Too late: it completed; the response stands.
                _ => self.cancel.set(false),
            }
        }
        self.advance();
    }
}

impl<'a, A: Alarm<'a>> AlarmClient for TpmCrbFfa<'a, A> {
    fn alarm(&self) {
        self.run();
    }
}

impl<'a, A: Alarm<'a>> DeferredCallClient for TpmCrbFfa<'a, A> {
    fn handle_deferred_call(&self) {
        let _ = self.alarm.disarm();
        self.run();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}
