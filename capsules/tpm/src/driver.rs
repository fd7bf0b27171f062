//! The TPM CRB-over-FF-A driver: a partition driver on the FF-A bus, bound
//! by the TPM service UUID, that implements the kernel's TPM HIL.
//!
//! A command goes through the CRB in the chip's MMIO window, with an FF-A
//! `START` after every change so that the TPM service looks (Linux's
//! `tpm_crb.c` with the FF-A start method, its 2025 idle support included):
//!
//! ```text
//! Version      GET_INTERFACE_VERSION (first command only): major 1
//! Features     GET_FEATURE_INFO(notification) (first command only)
//! Register     if offered: bind an FF-A notification ID to the partition,
//!              REGISTER_FOR_NOTIFICATION (first command only)
//!              (undone with UNREGISTER_FROM_NOTIFICATION and the ID
//!              unbound if the driver later gives the TPM up)
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
//! *wait* (a register condition, up to the step's deadline: `TIMEOUT_C` =
//! 200 ms, or the command's duration class from Linux's `tpm.h`). Every
//! service call is a split-phase direct request
//! ([`PartitionHandle::send`]): the act returns at once, and the step goes
//! on from the response, which the request engine delivers from the main
//! loop (the engine backs off `BUSY`/`RETRY` and resumes a preempted
//! partition itself). Nothing here blocks: acts, responses, waits and the
//! client's callback all run from the driver's deferred call, its alarm, or
//! the engine's and the notification service's callbacks.
//!
//! How a wait learns that the TPM is done:
//!
//! - **notifications**, when the service offers them (`GET_FEATURE_INFO`
//!   answers `OK`) and an ID can be bound to the partition: the service
//!   sets the notification when it has completed what a `START` asked; the
//!   driver acknowledges it with `FINISH_NOTIFIED` (the service notifies
//!   again only after that), then looks at the CRB. The alarm only guards
//!   the deadline;
//! - **polling** otherwise (as Linux always does): the CRB is read at once
//!   and then on the alarm every [`Timing::poll_ms`].
//!
//! A service call the partition answers `BUSY` or `NOT_READY` (after the
//! engine's own bounded `BUSY` back-off) is sent again from the alarm every
//! [`Timing::busy_retry_ms`] for up to [`Timing::busy_timeout_ms`] (2 s, as
//! Linux). A command still running at its deadline is cancelled
//! (`CTRL_CANCEL`, `START`); [`Tpm::cancel`] does the same at once. A
//! response that is not one (its size below a header or beyond the
//! response buffer, or the CRB's `tpmSts` error bit) fails; the driver goes
//! on.
//!
//! Tock's [`ErrorCode`] has no time-out code; the kernel keeps Tock's set,
//! and the client sees ([`TransportFault::error_code`]):
//!
//! | what happened | `ErrorCode` |
//! |---|---|
//! | a wait passed its deadline (the TPM did not acknowledge in time) | `NOACK` |
//! | the service stayed busy or not ready past the busy timeout | `BUSY` |
//! | the command was cancelled ([`Tpm::cancel`]) | `CANCEL` |
//! | a response that is not one, the TPM's fatal-error bit, an unusable CRB | `FAIL` |
//! | a service call failed, another major interface version | `NODEVICE` |
//!
//! The driver binds one partition (as Linux supports one TPM): a second
//! one is refused.
//!
//! The bus has no unbind or removal of a driver, so the only time the
//! driver lets the notification path go is a failure after it registered:
//! a CRB found unusable at a locality's first use (its interface ID is not
//! a CRB's) makes the TPM unavailable for good, and the driver then sends
//! `UNREGISTER_FROM_NOTIFICATION` and unbinds the ID, as Linux's
//! `tpm_crb_ffa.c` unregisters on a failure after registering. An ID bound
//! for a registration that never went through (the service stayed busy, or
//! the call could not be sent) is unbound at once.

use core::cell::Cell;

use capsule_ffa::boot::ReportSection;
use capsule_ffa::bus::{PartitionDriver, PartitionHandle};

use capsule_ffa::messaging::AnyDirectMessage;
use capsule_ffa::notifications::NotificationClient;
use capsule_ffa::requests::DirectRequestClient;
use capsule_ffa::{ClientError, PartitionId, Uuid};
use ffa_abi::notification::Bitmap;
use ffa_abi::tpm_service::{
    self, crb, ServiceRequest, ServiceResponse, StartQualifier, FEATURE_NOTIFICATION,
    TPM_SERVICE_UUID,
};
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

/// The notification ID the driver asks for first; if another driver holds
/// it (the SPMC answers `DENIED`, or this side bound it), the next ones.
pub const PREFERRED_NOTIFICATION_ID: u8 = 16;

/// How long the driver waits, and how often it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Timing {
    /// `TIMEOUT_C`: locality, cmdReady, goIdle.
    pub control_ms: u64,
    /// How often a polled wait looks again.
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
    /// `GET_FEATURE_INFO` of completion notifications.
    Features,
    /// `REGISTER_FOR_NOTIFICATION`.
    Register,
    /// Locality request.
    Locality,
    /// `cmdReady`.
    Ready,
    /// The command runs.
    Execute,
    /// `CTRL_CANCEL`: the TPM is told to stop a command.
    Cancel,
    /// `goIdle`.
    Idle,
    /// Locality relinquish.
    Relinquish,
}

/// Where a stage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The act is due.
    Act,
    /// The act's service call is in flight.
    Call,
    /// The service was busy: the act runs again when the alarm fires.
    Retry,
    /// Waiting for the TPM, until the deadline.
    Wait,
}

/// How the driver learns that the TPM has done what a `START` asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Completion {
    /// Not known yet (before the first command).
    Unknown,
    /// Reading the CRB on the alarm.
    Polled,
    /// FF-A notification `id`, bound to the partition and registered with
    /// the service.
    Notified(u8),
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
    /// The error code the client gets (Tock's codes: see the module's table).
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
    /// Alarm polls of the CRB.
    pub polls: u32,
    /// Notifications taken (each acknowledged with `FINISH_NOTIFIED`).
    pub notifications: u32,
}

/// The driver.
pub struct TpmCrbFfa<'a> {
    window: &'a dyn MmioWindow,
    alarm: &'a dyn Alarm<'a>,
    timing: Timing,
    deferred_call: DeferredCall,
    me: OptionalCell<&'a TpmCrbFfa<'a>>,
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
    completion: Cell<Completion>,
    /// The notification ID bound while `REGISTER_FOR_NOTIFICATION` is asked.
    candidate: Cell<Option<u8>>,
    /// A notification came and is not acknowledged yet.
    notified: Cell<bool>,
    /// `FINISH_NOTIFIED` is in flight.
    acknowledging: Cell<bool>,
    /// The registered notification ID to withdraw: the TPM was given up.
    withdraw: Cell<Option<u8>>,
    /// `UNREGISTER_FROM_NOTIFICATION` of this ID is in flight.
    unregistering: Cell<Option<u8>>,
    buffers: [Cell<Option<Buffers>>; tpm_service::LOCALITY_COUNT as usize],
    last_fault: Cell<Option<TransportFault>>,
    statistics: Cell<Statistics>,
}

impl<'a> TpmCrbFfa<'a> {
    /// A driver reaching the CRB through `window`, timing with `alarm` (a
    /// virtual alarm of its own; [`PartitionDriver::setup`] makes the
    /// driver its client).
    pub fn new(window: &'a dyn MmioWindow, alarm: &'a dyn Alarm<'a>, timing: Timing) -> Self {
        TpmCrbFfa {
            window,
            alarm,
            timing,
            deferred_call: DeferredCall::new(),
            me: OptionalCell::empty(),
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
            completion: Cell::new(Completion::Unknown),
            candidate: Cell::new(None),
            notified: Cell::new(false),
            acknowledging: Cell::new(false),
            withdraw: Cell::new(None),
            unregistering: Cell::new(None),
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

    /// How completions are learnt.
    pub fn completion(&self) -> Completion {
        self.completion.get()
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

    fn buffers_of_locality(&self) -> Option<Buffers> {
        self.buffers
            .get(usize::from(self.locality.get().value()))
            .and_then(Cell::get)
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

    /// Hands `request` to the request engine (the response comes to
    /// [`DirectRequestClient::response`]).
    fn send(&self, request: &ServiceRequest) -> Result<(), ServiceFailure> {
        let handle = self
            .handle
            .get()
            .ok_or(ServiceFailure::NotSent(ErrorCode::NODEVICE))?;
        service::send(&handle, self.carrier.get(), request).map_err(ServiceFailure::NotSent)?;
        self.count(|statistics| statistics.service_calls += 1);
        Ok(())
    }

    /// The act of `stage`'s service call: sent, now in flight.
    fn call(&self, stage: Stage, request: &ServiceRequest) -> Result<bool, TransportFault> {
        self.send(request)
            .map_err(|failure| TransportFault::Service(stage, failure))?;
        self.step.set(Step::Call);
        Ok(false)
    }

    /// Runs the command as far as it goes now: until a call is in flight,
    /// a wait goes on, or the command completes.
    fn advance(&self) {
        // Each pass acts, moves to the next step or returns; a command has
        // at most fourteen steps.
        for _ in 0..24 {
            if self.acknowledging.get()
                || self.unregistering.get().is_some()
                || self.step.get() == Step::Call
            {
                return;
            }
            if self.notified.get() {
                // Acknowledged first: the service notifies again only after.
                match self.send(&tpm_service::finish_notified()) {
                    Ok(()) => {
                        self.acknowledging.set(true);
                        return;
                    }
                    Err(failure) => {
                        defmt::warn!("tpm: FINISH_NOTIFIED not sent: {}", failure);
                        self.notified.set(false);
                    }
                }
            }
            if let Some(id) = self.withdraw.take() {
                match self.send(&tpm_service::unregister_from_notification()) {
                    Ok(()) => {
                        self.unregistering.set(Some(id));
                        return;
                    }
                    Err(failure) => {
                        defmt::warn!("tpm: UNREGISTER_FROM_NOTIFICATION not sent: {}", failure);
                        self.unbind(id);
                    }
                }
            }
            let Some(stage) = self.stage.get() else {
                return;
            };
            let result = match self.step.get() {
                Step::Act => self.act(stage),
                Step::Wait => self.wait(stage),
                Step::Call | Step::Retry => return,
            };
            match result {
                Ok(true) => continue,
                Ok(false) => return,
                Err(fault) => self.fault(stage, fault),
            }
        }
    }

    /// The act of `stage`; `Ok(true)` if it moved on without a call,
    /// `Ok(false)` once its call is in flight.
    fn act(&self, stage: Stage) -> Result<bool, TransportFault> {
        let crb_fault = |fault: CrbFault| TransportFault::Crb(stage, fault);
        let access = |error: ErrorCode| crb_fault(CrbFault::Access(error));
        let (register, value, qualifier) = match stage {
            Stage::Version => return self.call(stage, &tpm_service::get_interface_version()),
            Stage::Features => {
                return self.call(stage, &tpm_service::get_feature_info(FEATURE_NOTIFICATION))
            }
            Stage::Register => return self.register(),
            Stage::Locality => (
                crb::LOC_CTRL,
                crb::loc_ctrl::REQUEST_ACCESS,
                StartQualifier::LocalityRequest,
            ),
            Stage::Ready => (
                crb::CTRL_REQ,
                crb::ctrl_req::COMMAND_READY,
                StartQualifier::Command,
            ),
            Stage::Execute => {
                if self.cancel.get() {
                    return Err(TransportFault::Cancelled);
                }
                let buffers = self
                    .buffers_of_locality()
                    .ok_or(crb_fault(CrbFault::NoPage))?;
                let length = self.length.get();
                if length > buffers.command_size {
                    return Err(crb_fault(CrbFault::ResponseSize(length as u32)));
                }
                self.page()
                    .map_err(crb_fault)?
                    .write(crb::CTRL_CANCEL, 0)
                    .map_err(access)?;
                self.buffer
                    .map(|buffer| self.window.write(buffers.command, &buffer[..length]))
                    .unwrap_or(Err(ErrorCode::FAIL))
                    .map_err(access)?;
                self.window.fence();
                (crb::CTRL_START, 1, StartQualifier::Command)
            }
            Stage::Cancel => (crb::CTRL_CANCEL, 1, StartQualifier::Command),
            Stage::Idle => (
                crb::CTRL_REQ,
                crb::ctrl_req::GO_IDLE,
                StartQualifier::Command,
            ),
            Stage::Relinquish => (
                crb::LOC_CTRL,
                crb::loc_ctrl::RELINQUISH,
                StartQualifier::LocalityRequest,
            ),
        };
        self.page()
            .map_err(crb_fault)?
            .write(register, value)
            .map_err(access)?;
        self.call(
            stage,
            &tpm_service::start(qualifier, self.locality.get().value()),
        )
    }

    /// The act of [`Stage::Register`]: binds a free notification ID to the
    /// partition, then asks the service to set it. Without one, polls.
    fn register(&self) -> Result<bool, TransportFault> {
        let (Some(handle), Some(me)) = (self.handle.get(), self.me.get()) else {
            return Err(TransportFault::Service(
                Stage::Register,
                ServiceFailure::NotSent(ErrorCode::NODEVICE),
            ));
        };
        let mut last = ClientError::Unsupported;
        for offset in 0..64u8 {
            let id = (PREFERRED_NOTIFICATION_ID + offset) % 64;
            match handle.bind_notifications(Bitmap::of(id), false, me) {
                Ok(()) => {
                    self.candidate.set(Some(id));
                    return self.call(Stage::Register, &tpm_service::register_for_notification(id));
                }
                // Held by another driver here, or by another endpoint at the SPMC.
                Err(
                    error @ (ClientError::InvalidArgument(_)
                    | ClientError::Status(capsule_ffa::Status::Denied)),
                ) => last = error,
                Err(error) => {
                    last = error;
                    break;
                }
            }
        }
        self.poll_instead(ServiceFailure::Ffa(last));
        self.enter(Stage::Locality);
        Ok(true)
    }

    /// Completion notifications are not to be had: poll.
    fn poll_instead(&self, why: ServiceFailure) {
        self.completion.set(Completion::Polled);
        defmt::info!(
            "tpm: completion notifications unavailable ({}); polling the CRB every {=u64} ms",
            why,
            self.timing.poll_ms
        );
    }

    /// `stage`'s call was answered (not busy): what follows.
    fn answered(
        &self,
        stage: Stage,
        answer: Result<ServiceResponse, ServiceFailure>,
    ) -> Result<(), TransportFault> {
        let failed = |failure| TransportFault::Service(stage, failure);
        match stage {
            Stage::Version => {
                let version = answer.map_err(failed)?.results[0] as u32;
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
                self.enter(Stage::Features);
            }
            Stage::Features => match answer {
                Ok(_) => self.enter(Stage::Register),
                // NOTSUP (or a service without the function): not offered.
                Err(failure @ ServiceFailure::Status(_)) => {
                    self.poll_instead(failure);
                    self.enter(Stage::Locality);
                }
                Err(failure) => return Err(failed(failure)),
            },
            Stage::Register => {
                let id = self.candidate.take().unwrap_or(PREFERRED_NOTIFICATION_ID);
                match answer {
                    Ok(_) => {
                        self.completion.set(Completion::Notified(id));
                        defmt::info!(
                            "tpm: completion notifications: ID {=u8} bound to the TPM partition and registered",
                            id
                        );
                    }
                    Err(failure) => {
                        self.unbind(id);
                        self.poll_instead(failure);
                    }
                }
                self.enter(Stage::Locality);
            }
            // The TPM was told to stop; the locality goes back whatever it says.
            Stage::Cancel => self.enter(Stage::Idle),
            Stage::Execute => {
                answer.map_err(failed)?;
                let command = self
                    .buffer
                    .map(|buffer| CommandCode::of_command(&buffer[..self.length.get()]))
                    .flatten();
                self.wait_for(duration_ms(command));
            }
            Stage::Locality | Stage::Ready | Stage::Idle | Stage::Relinquish => {
                answer.map_err(failed)?;
                self.wait_for(self.timing.control_ms);
            }
        }
        Ok(())
    }

    /// The service was busy or not ready: the act again from the alarm,
    /// until the busy timeout.
    fn back_off(&self, stage: Stage, failure: ServiceFailure) -> Result<(), TransportFault> {
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
        self.step.set(Step::Retry);
        self.alarm.set_alarm(
            now,
            self.alarm.ticks_from_ms(self.timing.busy_retry_ms).max(1),
        );
        Ok(())
    }

    /// The wait of `stage`; `Ok(true)` if it is over (moved on).
    fn wait(&self, stage: Stage) -> Result<bool, TransportFault> {
        let crb_fault = |fault: CrbFault| TransportFault::Crb(stage, fault);
        let access = |error: ErrorCode| crb_fault(CrbFault::Access(error));
        let page = self.page().map_err(crb_fault)?;
        let locality = self.locality.get().value();
        let done = match stage {
            Stage::Locality => page.granted(locality).map_err(access)?,
            Stage::Ready => {
                page.read(crb::CTRL_REQ).map_err(access)? & crb::ctrl_req::COMMAND_READY == 0
            }
            Stage::Idle => page.read(crb::CTRL_REQ).map_err(access)? & crb::ctrl_req::GO_IDLE == 0,
            Stage::Execute => {
                if self.cancel.get() {
                    return Err(TransportFault::Cancelled);
                }
                page.read(crb::CTRL_START).map_err(access)? & 1 == 0
            }
            Stage::Relinquish => page.released(locality).map_err(access)?,
            // No wait: their calls move on.
            Stage::Version | Stage::Features | Stage::Register | Stage::Cancel => true,
        };
        if done {
            self.finish(stage, &page)?;
            return Ok(true);
        }
        let now = self.alarm.now();
        let deadline = self.deadline.get();
        if now >= deadline {
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
        let wait = match self.completion.get() {
            // The notification wakes the wait; the alarm guards the deadline.
            Completion::Notified(_) => deadline - now,
            _ => {
                self.count(|statistics| statistics.polls += 1);
                self.alarm
                    .ticks_from_ms(self.timing.poll_ms)
                    .clamp(1, deadline - now)
            }
        };
        self.alarm.set_alarm(now, wait);
        Ok(false)
    }

    /// `stage`'s wait is over: what follows.
    fn finish(&self, stage: Stage, page: &Page<'_>) -> Result<(), TransportFault> {
        let crb_fault = |fault: CrbFault| TransportFault::Crb(stage, fault);
        match stage {
            Stage::Locality => {
                let index = usize::from(self.locality.get().value());
                if self.buffers[index].get().is_none() {
                    let buffers = page.buffers().map_err(crb_fault)?;
                    defmt::debug!("tpm: locality {=usize}: CRB buffers {}", index, buffers);
                    self.buffers[index].set(Some(buffers));
                }
                self.enter(Stage::Ready);
            }
            Stage::Ready => self.enter(Stage::Execute),
            Stage::Execute => {
                let status = page
                    .read(crb::CTRL_STS)
                    .map_err(|error| crb_fault(CrbFault::Access(error)))?;
                let outcome = if status & crb::ctrl_sts::ERROR != 0 {
                    Err(TransportFault::TpmError)
                } else {
                    let buffers = self
                        .buffers_of_locality()
                        .ok_or(crb_fault(CrbFault::NoPage))?;
                    self.buffer
                        .map(|buffer| page.read_response(&buffers, buffer))
                        .unwrap_or(Err(CrbFault::Access(ErrorCode::FAIL)))
                        .map_err(crb_fault)
                };
                if let Err(fault) = outcome {
                    self.note(fault);
                }
                self.outcome.set(outcome);
                self.enter(Stage::Idle);
            }
            Stage::Idle => self.enter(Stage::Relinquish),
            Stage::Relinquish => self.complete(),
            Stage::Version | Stage::Features | Stage::Register | Stage::Cancel => {}
        }
        Ok(())
    }

    fn note(&self, fault: TransportFault) {
        self.last_fault.set(Some(fault));
        defmt::error!("tpm: command failed: {}", fault);
        self.give_up_notifications();
    }

    /// If the TPM is now unavailable for good while the driver is
    /// registered for its completion notifications, withdraws the
    /// registration: `UNREGISTER_FROM_NOTIFICATION` goes out from
    /// [`Self::advance`] (once no call is in flight), then the ID is unbound.
    fn give_up_notifications(&self) {
        if self.is_available() {
            return;
        }
        if let Completion::Notified(id) = self.completion.get() {
            // Notifications that still come are not waited for any more.
            self.completion.set(Completion::Polled);
            self.notified.set(false);
            self.withdraw.set(Some(id));
        }
    }

    /// Gives notification `id` back to the bus (its FF-A binding to the
    /// partition goes).
    fn unbind(&self, id: u8) {
        if let Some(handle) = self.handle.get() {
            if let Err(error) = handle.unbind_notifications(Bitmap::of(id)) {
                defmt::warn!("tpm: notification {=u8} not unbound: {}", id, error);
            }
        }
    }

    /// A fault at `stage`: stop the TPM and give the locality back if it
    /// was taken, then complete.
    fn fault(&self, stage: Stage, fault: TransportFault) {
        self.note(fault);
        self.outcome.set(Err(fault));
        if stage == Stage::Register {
            // The registration did not go through (busy past the timeout,
            // or not sent): the ID bound for it goes back.
            if let Some(id) = self.candidate.take() {
                self.unbind(id);
            }
        }
        match (stage, fault) {
            (Stage::Execute, TransportFault::Timeout(_) | TransportFault::Cancelled) => {
                self.cancel.set(false);
                self.enter(Stage::Cancel);
            }
            (Stage::Ready | Stage::Execute, _) => self.enter(Stage::Relinquish),
            (Stage::Cancel, _) => self.enter(Stage::Idle),
            _ => self.complete(),
        }
    }

    /// Hands the buffer back to the client with the outcome.
    fn complete(&self) {
        self.stage.set(None);
        self.step.set(Step::Act);
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

    /// Acts on a cancel, then runs the command as far as it goes.
    fn run(&self) {
        if self.cancel.get() && self.step.get() != Step::Call {
            let cancelled = || {
                self.note(TransportFault::Cancelled);
                self.outcome.set(Err(TransportFault::Cancelled));
                self.cancel.set(false);
            };
            match (self.stage.get(), self.step.get()) {
                // Nothing taken yet: done. (A notification ID bound for a
                // registration still being asked is given back.)
                (Some(Stage::Version | Stage::Features | Stage::Register), _)
                | (Some(Stage::Locality), Step::Act | Step::Retry) => {
                    if let Some(id) = self.candidate.take() {
                        self.unbind(id);
                    }
                    cancelled();
                    self.complete();
                    return;
                }
                // The locality is held, the command not given yet: give it back.
                (Some(Stage::Locality | Stage::Ready), _) => {
                    cancelled();
                    self.enter(Stage::Relinquish);
                }
                // The command runs: `act`/`wait` stop it through the CRB.
                (Some(Stage::Execute), _) => {
                    if self.step.get() == Step::Retry {
                        self.step.set(Step::Act);
                    }
                }
                // Too late: it completed; the response stands.
                _ => self.cancel.set(false),
            }
        }
        self.advance();
    }
}

impl<'a> PartitionDriver<'a> for TpmCrbFfa<'a> {
    fn name(&self) -> &'static str {
        "tpm-crb-ffa"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &TPM_UUIDS
    }

    fn setup(&'a self) {
        self.me.set(self);
        self.alarm.set_alarm_client(self);
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
        let me = self.me.get().ok_or(ErrorCode::FAIL)?;
        handle.set_request_client(me).inspect_err(|_| {
            defmt::error!("tpm: this board gives the FF-A bus no split-phase requests");
        })?;
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

impl DirectRequestClient for TpmCrbFfa<'_> {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let answer = service::decode(result);
        if let Some(id) = self.unregistering.take() {
            match answer {
                Ok(_) => defmt::info!(
                    "tpm: the TPM is given up: UNREGISTER_FROM_NOTIFICATION answered OK; notification {=u8} unbound",
                    id
                ),
                Err(failure) => defmt::warn!(
                    "tpm: UNREGISTER_FROM_NOTIFICATION refused ({}); notification {=u8} unbound anyway",
                    failure,
                    id
                ),
            }
            self.unbind(id);
        } else if self.acknowledging.take() {
            self.notified.set(false);
            match answer {
                Ok(_) => self.count(|statistics| statistics.notifications += 1),
                Err(failure) => defmt::warn!("tpm: FINISH_NOTIFIED refused: {}", failure),
            }
        } else if let (Some(stage), Step::Call) = (self.stage.get(), self.step.get()) {
            self.step.set(Step::Act);
            let next = match answer {
                Err(failure) if failure.is_transient() => self.back_off(stage, failure),
                answer => {
                    self.busy_deadline.set(None);
                    self.answered(stage, answer)
                }
            };
            if let Err(fault) = next {
                self.fault(stage, fault);
            }
        }
        self.run();
    }
}

impl NotificationClient for TpmCrbFfa<'_> {
    fn notified(&self, _partition: PartitionId, bitmap: Bitmap, _vcpu: Option<u16>) {
        if let Completion::Notified(id) = self.completion.get() {
            if bitmap.contains(id) {
                self.notified.set(true);
                self.deferred_call.set();
            }
        }
    }
}

impl<'a> Tpm<'a> for TpmCrbFfa<'a> {
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
        self.enter(
            match (self.interface_version.get(), self.completion.get()) {
                (None, _) => Stage::Version,
                (Some(_), Completion::Unknown) => Stage::Features,
                _ => Stage::Locality,
            },
        );
        self.deferred_call.set();
        Ok(())
    }

    fn cancel(&self) -> Result<(), ErrorCode> {
        if !self.is_busy() {
            return Err(ErrorCode::ALREADY);
        }
        self.cancel.set(true);
        self.deferred_call.set();
        Ok(())
    }
}

impl AlarmClient for TpmCrbFfa<'_> {
    fn alarm(&self) {
        if self.step.get() == Step::Retry {
            self.step.set(Step::Act);
        }
        self.run();
    }
}

impl<'a> DeferredCallClient for TpmCrbFfa<'a> {
    fn handle_deferred_call(&self) {
        self.run();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl ReportSection for TpmCrbFfa<'_> {
    fn log_report(&self) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let statistics = self.statistics.get();
        defmt::info!(
            "tpm report: partition {=u16:#06x} over {=str}, completion {}: {=u32} commands, {=u32} failed, {=u32} service calls, {=u32} notifications, {=u32} polls, {=u32} busy answers",
            handle.id().raw(),
            self.carrier.get().name(),
            self.completion.get(),
            statistics.commands,
            statistics.failures,
            statistics.service_calls,
            statistics.notifications,
            statistics.polls,
            statistics.busy_answers
        );
    }
}
