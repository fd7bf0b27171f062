//! A trusted execution environment's client interface: sessions with
//! trusted applications, and commands invoked on them, split-phase.
//!
//! A capsule that drives a trusted application (a TPM in OP-TEE, a key
//! store, a test TA) holds a [`Tee`] and is its [`TeeClient`]. Each
//! operation returns at once; its outcome arrives through the client,
//! from a deferred call or an alarm, never from inside the call that
//! started it. One operation at a time per [`Tee`] (a second one gets
//! `BUSY`); a cancellation may be asked for while an invocation runs.
//!
//! Parameters follow the GlobalPlatform TEE Client API: up to four, each
//! none, a value (three 64-bit words) or a memory reference. A memory
//! reference names a window (offset, size) of the one buffer the caller
//! lends with the operation; the buffer comes back with the outcome, on
//! success and on failure alike, with output windows holding what the
//! trusted application wrote. An output reference's size comes back as
//! what the TA reports, which may exceed the window (`SHORT_BUFFER`: it says
//! how much is needed; nothing beyond the window is written).
//!
//! ```ignore
//! tee.set_client(&driver);
//! tee.open_session(TA_UUID, Login::ReeKernel, Parameters::NONE, None)?;
//! // later: driver.session_opened(Ok(session), parameters, None)
//! let mut parameters = Parameters::NONE;
//! parameters[0] = Parameter::value_input(2, 3);
//! parameters[1] = Parameter::value_output();
//! tee.invoke(session, ADD, parameters, None)?;
//! // later: driver.command_complete(session, Ok(()), parameters, None): parameters[1] holds 5
//! ```

use crate::ErrorCode;

/// A trusted application's UUID: 16 bytes in RFC 4122 order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaUuid(pub [u8; 16]);

impl defmt::Format for TaUuid {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        let b = &self.0;
        defmt::write!(
            formatter,
            "{=u8:02x}{=u8:02x}{=u8:02x}{=u8:02x}-{=u8:02x}{=u8:02x}-{=u8:02x}{=u8:02x}-{=u8:02x}{=u8:02x}-{=u8:02x}{=u8:02x}{=u8:02x}{=u8:02x}{=u8:02x}{=u8:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15]
        );
    }
}

/// How the client identifies itself when it opens a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Login {
    /// No identity (what Linux's in-kernel device enumeration uses).
    Public,
    /// The normal-world kernel (`TEE_LOGIN_REE_KERNEL`), for kernel clients.
    ReeKernel,
}

/// Which way a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Direction {
    /// The trusted application reads it.
    Input,
    /// The trusted application writes it.
    Output,
    /// Both.
    InOut,
}

impl Direction {
    /// Whether the trusted application reads it.
    pub const fn is_input(self) -> bool {
        matches!(self, Direction::Input | Direction::InOut)
    }

    /// Whether the trusted application writes it.
    pub const fn is_output(self) -> bool {
        matches!(self, Direction::Output | Direction::InOut)
    }
}

/// One parameter of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Parameter {
    /// Unused.
    None,
    /// Three words; outputs come back with what the TA wrote.
    Value {
        /// Which way.
        direction: Direction,
        /// Word a.
        a: u64,
        /// Word b.
        b: u64,
        /// Word c.
        c: u64,
    },
    /// A window of the operation's buffer.
    Memref {
        /// Which way.
        direction: Direction,
        /// Where the window starts in the buffer.
        offset: usize,
        /// Its size; an output's comes back as the TA reports it.
        size: usize,
    },
}

impl Parameter {
    /// A value the trusted application reads.
    pub const fn value_input(a: u64, b: u64) -> Parameter {
        Parameter::Value {
            direction: Direction::Input,
            a,
            b,
            c: 0,
        }
    }

    /// A value the trusted application writes.
    pub const fn value_output() -> Parameter {
        Parameter::Value {
            direction: Direction::Output,
            a: 0,
            b: 0,
            c: 0,
        }
    }

    /// A window of the buffer, `size` bytes at `offset`.
    pub const fn memref(direction: Direction, offset: usize, size: usize) -> Parameter {
        Parameter::Memref {
            direction,
            offset,
            size,
        }
    }

    /// Words a and b of a value (zero for anything else).
    pub const fn values(&self) -> (u64, u64) {
        match *self {
            Parameter::Value { a, b, .. } => (a, b),
            _ => (0, 0),
        }
    }
}

/// The parameters of an operation, four as in the TEE Client API.
pub type Parameters = [Parameter; 4];

/// No parameters.
pub const NO_PARAMETERS: Parameters = [Parameter::None; 4];

/// A session the TEE opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct SessionId(pub u32);

/// Who produced a failure, as the TEE Client API's return origin says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Origin {
    /// The client API (this kernel's driver).
    Api,
    /// The communication between the worlds.
    Communication,
    /// The TEE's core.
    Tee,
    /// The trusted application.
    TrustedApplication,
    /// An origin code the driver does not know.
    Other(u32),
}

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum TeeError {
    /// The TEE answered with a TEE result code (`TEE_ERROR_*`).
    Tee {
        /// The result code.
        code: u32,
        /// Who produced it.
        origin: Origin,
    },
    /// The call did not get through, or its answer could not be used: the
    /// kernel's reason.
    Transport(ErrorCode),
}

/// A TEE's client side, for one user (each capsule gets its own).
pub trait Tee<'a> {
    /// Sets the client told of every outcome.
    fn set_client(&self, client: &'a dyn TeeClient);

    /// Opens a session to trusted application `ta`, logged in as `login`,
    /// passing `parameters` (their memrefs are windows of `buffer`).
    /// `Err` (with the buffer) if it was not started: `BUSY` while an
    /// operation runs, `OFF` without a TEE, `INVAL` for a window outside
    /// the buffer, `NOMEM` when no shared memory is left.
    fn open_session(
        &self,
        ta: TaUuid,
        login: Login,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) -> Result<(), (ErrorCode, Option<&'static mut [u8]>)>;

    /// Invokes `command` of `session` with `parameters`.
    fn invoke(
        &self,
        session: SessionId,
        command: u32,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) -> Result<(), (ErrorCode, Option<&'static mut [u8]>)>;

    /// Closes `session`.
    fn close_session(&self, session: SessionId) -> Result<(), ErrorCode>;

    /// Asks the TEE to cancel this user's invocation in flight on
    /// `session` (the TA may still finish it). `ALREADY` if none runs.
    fn cancel(&self, session: SessionId) -> Result<(), ErrorCode>;
}

/// Told the outcome of [`Tee`] operations.
pub trait TeeClient {
    /// A session opened (or not); the parameters and the buffer come back.
    fn session_opened(
        &self,
        result: Result<SessionId, TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    );

    /// An invocation completed (or not); outputs are in the parameters and
    /// the buffer's output windows.
    fn command_complete(
        &self,
        session: SessionId,
        result: Result<(), TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    );

    /// A session closed (or not).
    fn session_closed(&self, session: SessionId, result: Result<(), TeeError>);

    /// A cancellation was delivered to the TEE (or not).
    fn cancel_sent(&self, session: SessionId, result: Result<(), TeeError>) {
        let _ = (session, result);
    }
}
