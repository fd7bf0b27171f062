//! Device enumeration at probe, as Linux's `optee_enumerate_devices`: the
//! trusted applications that want a normal-world driver.
//!
//! Through its own [`OpteeClient`], with the TEE HIL like any other user:
//!
//! 1. open a session to OP-TEE's device-enumeration pseudo TA
//!    (`7011a688-ddde-4053-a5a9-7b3c4ddf13b8`), public login; an OP-TEE
//!    without it (`TEE_ERROR_ITEM_NOT_FOUND`) has no devices;
//! 2. invoke `GET_DEVICES` with an empty output reference: OP-TEE answers
//!    `TEE_ERROR_SHORT_BUFFER` with the size it needs (0: no devices);
//! 3. invoke it again with a buffer that size, and read 16-byte UUIDs;
//! 4. close the session, whatever happened after it opened.
//!
//! The outcome goes to the driver, which keeps the devices for the boot
//! report and the console and tells its probe client. An empty list is a
//! valid answer; a size that is not a whole number of UUIDs is refused.

use core::cell::Cell;

use ffa_abi::optee::{device_pta, TeeResult};
use kernel::cells::TakeCell;
use kernel::hil::tee::{
    Direction, Login, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError,
    NO_PARAMETERS,
};
use kernel::ErrorCode;

use crate::client::OpteeClient;
use crate::driver::{EnumerationState, OpteeDriver, MAXIMUM_DEVICES};

/// Bytes the enumeration buffer needs: [`MAXIMUM_DEVICES`] UUIDs.
pub const BUFFER_SIZE: usize = MAXIMUM_DEVICES * device_pta::UUID_SIZE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Idle,
    Opening,
    Sizing,
    Listing,
    Closing,
}

/// The device enumeration of one driver.
pub struct Enumeration<'a> {
    driver: &'a OpteeDriver<'a>,
    tee: &'a OpteeClient<'a>,
    buffer: TakeCell<'static, [u8]>,
    step: Cell<Step>,
    result: Cell<EnumerationState>,
    devices: Cell<[TaUuid; MAXIMUM_DEVICES]>,
}

impl<'a> Enumeration<'a> {
    /// Enumeration for `driver` through `tee`, reading into `buffer` (at
    /// least [`BUFFER_SIZE`] bytes). Make it `tee`'s client.
    pub fn new(
        driver: &'a OpteeDriver<'a>,
        tee: &'a OpteeClient<'a>,
        buffer: &'static mut [u8],
    ) -> Enumeration<'a> {
        Enumeration {
            driver,
            tee,
            buffer: TakeCell::new(buffer),
            step: Cell::new(Step::Idle),
            result: Cell::new(EnumerationState::NotRun),
            devices: Cell::new([TaUuid([0; 16]); MAXIMUM_DEVICES]),
        }
    }

    /// Starts it (the driver does, once bound).
    pub(crate) fn start(&self) -> Result<(), ErrorCode> {
        if self.step.get() != Step::Idle {
            return Err(ErrorCode::BUSY);
        }
        self.tee
            .open_session(
                TaUuid(*device_pta::UUID.as_bytes()),
                Login::Public,
                NO_PARAMETERS,
                None,
            )
            .map_err(|(error, _)| error)?;
        self.step.set(Step::Opening);
        Ok(())
    }

    fn finish(&self, session: Option<SessionId>, result: EnumerationState) {
        self.result.set(result);
        if let Some(session) = session {
            if self.tee.close_session(session).is_ok() {
                self.step.set(Step::Closing);
                return;
            }
        }
        self.report();
    }

    fn report(&self) {
        self.step.set(Step::Idle);
        let result = self.result.get();
        let devices = self.devices.get();
        match result {
            EnumerationState::Listed(0) => {
                defmt::info!("optee: device enumeration: no devices")
            }
            EnumerationState::Listed(count) => {
                defmt::info!("optee: device enumeration: {=usize} device(s)", count);
                for device in &devices[..count.min(MAXIMUM_DEVICES)] {
                    defmt::info!("optee: device optee-ta-{}", device);
                }
            }
            EnumerationState::TooMany(count) => defmt::warn!(
                "optee: device enumeration: OP-TEE lists {=usize} devices; the driver keeps room for {=usize}: none listed",
                count,
                MAXIMUM_DEVICES
            ),
            EnumerationState::Failed(error) => {
                defmt::warn!("optee: device enumeration failed: {}", error)
            }
            EnumerationState::NotRun | EnumerationState::Running => {}
        }
        let count = match result {
            EnumerationState::Listed(count) => count,
            _ => 0,
        };
        self.driver.enumerated(result, &devices[..count]);
    }

    fn get_devices(&self, session: SessionId, size: usize, buffer: Option<&'static mut [u8]>) {
        let mut parameters = NO_PARAMETERS;
        parameters[0] = Parameter::memref(Direction::Output, 0, size);
        if let Err((error, buffer)) =
            self.tee
                .invoke(session, device_pta::GET_DEVICES, parameters, buffer)
        {
            if let Some(buffer) = buffer {
                self.buffer.replace(buffer);
            }
            self.finish(
                Some(session),
                EnumerationState::Failed(TeeError::Transport(error)),
            );
        }
    }
}

impl TeeClient for Enumeration<'_> {
    fn session_opened(
        &self,
        result: Result<SessionId, TeeError>,
        _parameters: Parameters,
        _buffer: Option<&'static mut [u8]>,
    ) {
        match result {
            Ok(session) => {
                self.step.set(Step::Sizing);
                self.get_devices(session, 0, None);
            }
            // As Linux: an OP-TEE without the pseudo TA has no devices.
            Err(TeeError::Tee { code, .. }) if code == TeeResult::ITEM_NOT_FOUND.0 => {
                defmt::info!("optee: no device-enumeration pseudo TA in this OP-TEE");
                self.finish(None, EnumerationState::Listed(0));
            }
            Err(error) => self.finish(None, EnumerationState::Failed(error)),
        }
    }

    fn command_complete(
        &self,
        session: SessionId,
        result: Result<(), TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) {
        let reported = match parameters[0] {
            Parameter::Memref { size, .. } => size,
            _ => 0,
        };
        let short =
            matches!(result, Err(TeeError::Tee { code, .. }) if code == TeeResult::SHORT_BUFFER.0);
        match (self.step.get(), result) {
            // Nothing to list: success with size 0, or a short buffer of 0.
            (Step::Sizing, Ok(())) if reported == 0 => {
                self.finish(Some(session), EnumerationState::Listed(0))
            }
            (Step::Sizing, Err(_)) if short && reported == 0 => {
                self.finish(Some(session), EnumerationState::Listed(0))
            }
            (Step::Sizing, Err(_)) if short => {
                if !reported.is_multiple_of(device_pta::UUID_SIZE) {
                    defmt::warn!(
                        "optee: the device list OP-TEE announces ({=usize} bytes) is no whole number of UUIDs",
                        reported
                    );
                    self.finish(
                        Some(session),
                        EnumerationState::Failed(TeeError::Transport(ErrorCode::FAIL)),
                    );
                    return;
                }
                let count = reported / device_pta::UUID_SIZE;
                if count > MAXIMUM_DEVICES {
                    self.finish(Some(session), EnumerationState::TooMany(count));
                    return;
                }
                self.step.set(Step::Listing);
                let buffer = self.buffer.take();
                self.get_devices(session, reported, buffer);
            }
            (Step::Listing, Ok(())) => {
                let mut devices = [TaUuid([0; 16]); MAXIMUM_DEVICES];
                let mut count = 0;
                if let Some(bytes) = buffer.as_deref() {
                    let listed = reported.min(bytes.len()) / device_pta::UUID_SIZE;
                    for (index, device) in devices.iter_mut().enumerate().take(listed) {
                        let at = index * device_pta::UUID_SIZE;
                        let mut uuid = [0u8; 16];
                        uuid.copy_from_slice(&bytes[at..at + device_pta::UUID_SIZE]);
                        *device = TaUuid(uuid);
                        count += 1;
                    }
                }
                if let Some(buffer) = buffer {
                    self.buffer.replace(buffer);
                }
                self.devices.set(devices);
                if reported % device_pta::UUID_SIZE != 0 {
                    self.finish(
                        Some(session),
                        EnumerationState::Failed(TeeError::Transport(ErrorCode::FAIL)),
                    );
                } else {
                    self.finish(Some(session), EnumerationState::Listed(count));
                }
            }
            (_, result) => {
                if let Some(buffer) = buffer {
                    self.buffer.replace(buffer);
                }
                let error = match result {
                    Err(error) => error,
                    Ok(()) => TeeError::Transport(ErrorCode::FAIL),
                };
                if let TeeError::Tee { code, .. } = error {
                    if code == TeeResult::STORAGE_NOT_AVAILABLE.0 {
                        defmt::warn!("optee: device enumeration: OP-TEE's secure storage is not available yet");
                    }
                }
                self.finish(Some(session), EnumerationState::Failed(error));
            }
        }
    }

    fn session_closed(&self, _session: SessionId, result: Result<(), TeeError>) {
        if let Err(error) = result {
            defmt::warn!(
                "optee: closing the device-enumeration session failed: {}",
                error
            );
        }
        if self.step.get() == Step::Closing {
            self.report();
        }
    }
}
