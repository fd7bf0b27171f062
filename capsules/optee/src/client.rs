//! A user of the OP-TEE driver: the TEE client HIL
//! ([`kernel::hil::tee::Tee`]) for one capsule.
//!
//! Each capsule that talks to trusted applications gets its own
//! [`OpteeClient`] (a component makes it and joins it to the driver). It
//! holds one operation at a time: the call returns at once, the driver's
//! deferred call starts it when a call slot is free, and the outcome comes
//! back through the capsule's [`TeeClient`] from the driver's deferred call
//! or alarm, never from inside the call that started it. The buffer comes
//! back with the outcome, whatever it is.
//!
//! ```ignore
//! let tee = OpteeClient::new(driver, "tpm");
//! tee.join();               // once, at set-up
//! tee.set_client(&tpm);
//! tee.open_session(TPM_TA, Login::ReeKernel, NO_PARAMETERS, None)?;
//! ```
//!
//! Memory references name windows of the operation's buffer; a window
//! outside the buffer, or a buffer larger than [`MAXIMUM_PAYLOAD`], is
//! refused (`INVAL`, `SIZE`) before anything is sent.

use core::cell::Cell;

use kernel::cells::{OptionalCell, TakeCell};
use kernel::hil::tee::{Login, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError};
use kernel::ErrorCode;

use crate::driver::{DriverState, OpteeDriver, MAXIMUM_PAYLOAD};

/// An operation a user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Open {
        ta: TaUuid,
        login: Login,
        parameters: Parameters,
        cancel_id: u32,
    },
    Invoke {
        session: SessionId,
        command: u32,
        parameters: Parameters,
        cancel_id: u32,
    },
    Close {
        session: SessionId,
    },
    Cancel {
        session: SessionId,
        cancel_id: u32,
    },
}

impl Request {
    /// The user's parameters.
    pub(crate) fn parameters(&self) -> Parameters {
        match *self {
            Request::Open { parameters, .. } | Request::Invoke { parameters, .. } => parameters,
            _ => kernel::hil::tee::NO_PARAMETERS,
        }
    }

    /// The cancellation ID it carries (0: none).
    pub(crate) fn cancel_id(&self) -> u32 {
        match *self {
            Request::Open { cancel_id, .. }
            | Request::Invoke { cancel_id, .. }
            | Request::Cancel { cancel_id, .. } => cancel_id,
            Request::Close { .. } => 0,
        }
    }
}

/// How an operation ended, on its way to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Opened(Result<SessionId, TeeError>, Parameters),
    Invoked(SessionId, Result<(), TeeError>, Parameters),
    Closed(SessionId, Result<(), TeeError>),
    Cancelled(SessionId, Result<(), TeeError>),
}

/// One capsule's view of the OP-TEE driver.
pub struct OpteeClient<'a> {
    driver: &'a OpteeDriver<'a>,
    name: &'static str,
    client: OptionalCell<&'a dyn TeeClient>,
    request: OptionalCell<Request>,
    buffer: TakeCell<'static, [u8]>,
    /// An operation was accepted and its outcome not delivered yet.
    active: Cell<bool>,
    /// The invocation in flight (session, cancellation ID), for `cancel`.
    running: OptionalCell<(SessionId, u32)>,
    cancel: OptionalCell<Request>,
    cancel_active: Cell<bool>,
    next: OptionalCell<&'a OpteeClient<'a>>,
}

impl<'a> OpteeClient<'a> {
    /// A user named `name` (for logs) of `driver`; [`OpteeClient::join`] it once.
    pub fn new(driver: &'a OpteeDriver<'a>, name: &'static str) -> OpteeClient<'a> {
        OpteeClient {
            driver,
            name,
            client: OptionalCell::empty(),
            request: OptionalCell::empty(),
            buffer: TakeCell::empty(),
            active: Cell::new(false),
            running: OptionalCell::empty(),
            cancel: OptionalCell::empty(),
            cancel_active: Cell::new(false),
            next: OptionalCell::empty(),
        }
    }

    /// Joins the driver's users (once it is in its final place).
    pub fn join(&'a self) {
        self.driver.add_user(self);
    }

    /// The user's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether an operation is under way.
    pub fn is_busy(&self) -> bool {
        self.active.get()
    }

    pub(crate) fn set_next(&self, next: &'a OpteeClient<'a>) {
        self.next.set(next);
    }

    pub(crate) fn next(&self) -> Option<&'a OpteeClient<'a>> {
        self.next.get()
    }

    pub(crate) fn has_request(&self) -> bool {
        self.request.is_some() || self.cancel.is_some()
    }

    /// The request to start: the operation first, then a cancellation of
    /// it (which must reach OP-TEE after the invocation it cancels).
    pub(crate) fn take_request(&self) -> Option<Request> {
        self.request.take().or_else(|| self.cancel.take())
    }

    /// A request that found no free slot, kept for the next turn.
    pub(crate) fn put_back(&self, request: Request) {
        match request {
            Request::Cancel { .. } => self.cancel.set(request),
            _ => self.request.set(request),
        }
    }

    /// The buffer of the request being started (none for a cancellation,
    /// which leaves the invocation's buffer where it is).
    pub(crate) fn take_buffer_for(&self, request: &Request) -> Option<&'static mut [u8]> {
        match request {
            Request::Cancel { .. } | Request::Close { .. } => None,
            _ => self.buffer.take(),
        }
    }

    /// Hands `outcome` (and the buffer) to the capsule.
    pub(crate) fn deliver(&self, outcome: Outcome, buffer: Option<&'static mut [u8]>) {
        if let Outcome::Cancelled(session, result) = outcome {
            self.cancel_active.set(false);
            self.client
                .map(|client| client.cancel_sent(session, result));
            return;
        }
        self.active.set(false);
        self.running.clear();
        self.client.map(|client| match outcome {
            Outcome::Opened(result, parameters) => {
                client.session_opened(result, parameters, buffer)
            }
            Outcome::Invoked(session, result, parameters) => {
                client.command_complete(session, result, parameters, buffer)
            }
            Outcome::Closed(session, result) => client.session_closed(session, result),
            Outcome::Cancelled(..) => {}
        });
    }

    fn accept(
        &self,
        request: Request,
        buffer: Option<&'static mut [u8]>,
    ) -> Result<(), (ErrorCode, Option<&'static mut [u8]>)> {
        if self.active.get() {
            return Err((ErrorCode::BUSY, buffer));
        }
        if self.driver.state() != DriverState::Ready {
            return Err((ErrorCode::OFF, buffer));
        }
        if let Err(error) = check_windows(&request.parameters(), buffer.as_deref()) {
            defmt::warn!(
                "optee: {=str}: a memory reference lies outside its buffer, or the buffer is too large ({})",
                self.name,
                error
            );
            return Err((error, buffer));
        }
        if let Some(buffer) = buffer {
            self.buffer.replace(buffer);
        }
        if let Request::Invoke {
            session, cancel_id, ..
        } = request
        {
            self.running.set((session, cancel_id));
        }
        self.active.set(true);
        self.request.set(request);
        self.driver.kick();
        Ok(())
    }
}

/// Checks that every memory reference of `parameters` lies in `buffer`.
fn check_windows(parameters: &Parameters, buffer: Option<&[u8]>) -> Result<(), ErrorCode> {
    let length = buffer.map_or(0, <[u8]>::len);
    if length > MAXIMUM_PAYLOAD {
        return Err(ErrorCode::SIZE);
    }
    for parameter in parameters {
        if let Parameter::Memref { offset, size, .. } = *parameter {
            if size == 0 {
                continue;
            }
            match offset.checked_add(size) {
                Some(end) if end <= length => {}
                _ => return Err(ErrorCode::INVAL),
            }
        }
    }
    Ok(())
}

impl<'a> Tee<'a> for OpteeClient<'a> {
    fn set_client(&self, client: &'a dyn TeeClient) {
        self.client.set(client);
    }

    fn open_session(
        &self,
        ta: TaUuid,
        login: Login,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) -> Result<(), (ErrorCode, Option<&'static mut [u8]>)> {
        let cancel_id = self.driver.cancel_id();
        self.accept(
            Request::Open {
                ta,
                login,
                parameters,
                cancel_id,
            },
            buffer,
        )
    }

    fn invoke(
        &self,
        session: SessionId,
        command: u32,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) -> Result<(), (ErrorCode, Option<&'static mut [u8]>)> {
        let cancel_id = self.driver.cancel_id();
        self.accept(
            Request::Invoke {
                session,
                command,
                parameters,
                cancel_id,
            },
            buffer,
        )
    }

    fn close_session(&self, session: SessionId) -> Result<(), ErrorCode> {
        self.accept(Request::Close { session }, None)
            .map_err(|(error, _)| error)
    }

    fn cancel(&self, session: SessionId) -> Result<(), ErrorCode> {
        let Some((running, cancel_id)) = self.running.get() else {
            return Err(ErrorCode::ALREADY);
        };
        if running != session {
            return Err(ErrorCode::ALREADY);
        }
        if self.cancel_active.get() {
            return Err(ErrorCode::BUSY);
        }
        self.cancel_active.set(true);
        self.cancel.set(Request::Cancel { session, cancel_id });
        self.driver.kick();
        Ok(())
    }
}
