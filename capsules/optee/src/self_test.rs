//! A round of checks against the model's test pseudo TA
//! ([`ffa_abi::optee::test_pta`]), through the TEE HIL like any capsule:
//! the example of a TEE client, and what the QEMU scenarios look for.
//!
//! Started once probing is over (it is the driver's [`ProbeClient`]), if
//! the board wants it (`optee-self-test`). Each check logs one line, and the
//! round one summary; the bus is held busy meanwhile, so the boot report
//! comes after. Against an OP-TEE without the test PTA the first check
//! fails and the round stops there.
//!
//! | check | what it expects |
//! |---|---|
//! | open | a session to the test PTA, REE-kernel login |
//! | add | 2 + 3 = 5 in a value output |
//! | fill | a 64-byte output memref holding the PTA's pattern |
//! | short buffer | a 16-byte window for 64 bytes: `TEE_ERROR_SHORT_BUFFER`, size 64 |
//! | checksum | the sum of a 100-byte input memref |
//! | wait queue | a wait-queue send, then wait (RPCs answered by the driver) |
//! | sleep | an RPC suspend of 20 ms |
//! | shared memory | an RPC allocation of 6000 bytes, used, freed |
//! | unknown RPC | the driver answers `TEE_ERROR_NOT_IMPLEMENTED` |
//! | bad parameters | a memref where a value is due: `TEE_ERROR_BAD_PARAMETERS` |
//! | cancel | a 500 ms sleep cancelled: `TEE_ERROR_CANCEL` |
//! | bad session | an invocation on a session that is not open: `TEE_ERROR_BAD_PARAMETERS` |
//! | close | the session closes |
//! | unknown TA | opening a TA OP-TEE lacks: `TEE_ERROR_ITEM_NOT_FOUND` |

use core::cell::Cell;

use ffa_abi::optee::{test_pta, TeeResult};
use kernel::cells::{OptionalCell, TakeCell};
use kernel::hil::tee::{
    Direction, Login, Origin, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError,
    NO_PARAMETERS,
};

use crate::client::OpteeClient;
use crate::driver::{DriverState, OpteeDriver, ProbeClient};

/// Bytes the self-test's buffer needs.
pub const BUFFER_SIZE: usize = 256;

/// The checks, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Check {
    /// Open a session.
    Open,
    /// Add two values.
    Add,
    /// Fill an output memref.
    Fill,
    /// Fill a window too small.
    ShortBuffer,
    /// Sum an input memref.
    Checksum,
    /// A wait-queue send and wait.
    WaitQueue,
    /// An RPC sleep.
    Sleep,
    /// RPC shared-memory allocation and free.
    SharedMemory,
    /// An unknown RPC.
    UnknownRpc,
    /// Parameters of the wrong type.
    BadParameters,
    /// A cancelled invocation.
    Cancel,
    /// An invocation on a closed session.
    BadSession,
    /// Close the session.
    Close,
    /// Open an unknown TA.
    UnknownTa,
}

const CHECKS: [Check; 14] = [
    Check::Open,
    Check::Add,
    Check::Fill,
    Check::ShortBuffer,
    Check::Checksum,
    Check::WaitQueue,
    Check::Sleep,
    Check::SharedMemory,
    Check::UnknownRpc,
    Check::BadParameters,
    Check::Cancel,
    Check::BadSession,
    Check::Close,
    Check::UnknownTa,
];

/// The fill check's seed and length.
const FILL_SEED: u64 = 7;
const FILL_LENGTH: usize = 64;
/// The checksum check's length.
const CHECKSUM_LENGTH: usize = 100;
/// The shared-memory check's size.
const SHM_SIZE: u64 = 6000;
/// The seed the test PTA writes into memory it allocated.
const SHM_SEED: u64 = 0x5A;
/// A TA UUID no OP-TEE has.
const UNKNOWN_TA: TaUuid = TaUuid([
    0x0b, 0xad, 0x7a, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1,
]);

/// How the round went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct SelfTestResults {
    /// Checks that passed.
    pub passed: u32,
    /// Checks that failed.
    pub failed: u32,
    /// Whether the round is over.
    pub finished: bool,
    /// The first check that failed.
    pub first_failure: Option<Check>,
}

/// The self-test.
pub struct SelfTest<'a> {
    driver: &'a OpteeDriver<'a>,
    tee: &'a OpteeClient<'a>,
    buffer: TakeCell<'static, [u8]>,
    step: Cell<usize>,
    session: OptionalCell<SessionId>,
    results: Cell<SelfTestResults>,
}

impl<'a> SelfTest<'a> {
    /// A self-test of `driver` through `tee` (make it `tee`'s client and
    /// the driver's probe client), with `buffer` of [`BUFFER_SIZE`] bytes.
    pub fn new(
        driver: &'a OpteeDriver<'a>,
        tee: &'a OpteeClient<'a>,
        buffer: &'static mut [u8],
    ) -> SelfTest<'a> {
        SelfTest {
            driver,
            tee,
            buffer: TakeCell::new(buffer),
            step: Cell::new(0),
            session: OptionalCell::empty(),
            results: Cell::new(SelfTestResults::default()),
        }
    }

    /// How the round went so far.
    pub fn results(&self) -> SelfTestResults {
        self.results.get()
    }

    fn current(&self) -> Option<Check> {
        CHECKS.get(self.step.get()).copied()
    }

    fn record(&self, check: Check, passed: bool, detail: Result<(), TeeError>) {
        let mut results = self.results.get();
        if passed {
            results.passed += 1;
            defmt::info!("optee-self-test: {}: passed", check);
        } else {
            results.failed += 1;
            results.first_failure = results.first_failure.or(Some(check));
            defmt::warn!("optee-self-test: {}: FAILED ({})", check, detail);
        }
        self.results.set(results);
        // Without a session nothing else can run.
        if check == Check::Open && !passed {
            self.step.set(CHECKS.len());
            self.end();
            return;
        }
        self.step.set(self.step.get() + 1);
        self.run();
    }

    fn end(&self) {
        let mut results = self.results.get();
        if results.finished {
            return;
        }
        results.finished = true;
        self.results.set(results);
        defmt::info!(
            "optee-self-test: {=u32} checks: {=u32} passed, {=u32} failed",
            results.passed + results.failed,
            results.passed,
            results.failed
        );
        self.driver.work_finished();
    }

    fn invoke(&self, command: u32, parameters: Parameters, with_buffer: bool) {
        let session = self.session.get().unwrap_or(SessionId(0));
        let buffer = if with_buffer {
            self.buffer.take()
        } else {
            None
        };
        if let Err((error, buffer)) = self.tee.invoke(session, command, parameters, buffer) {
            if let Some(buffer) = buffer {
                self.buffer.replace(buffer);
            }
            if let Some(check) = self.current() {
                self.record(check, false, Err(TeeError::Transport(error)));
            }
        }
    }

    /// Starts the current check.
    fn run(&self) {
        let Some(check) = self.current() else {
            self.end();
            return;
        };
        let mut parameters = NO_PARAMETERS;
        match check {
            Check::Open => {
                let ta = TaUuid(*test_pta::UUID.as_bytes());
                if let Err((error, _)) =
                    self.tee
                        .open_session(ta, Login::ReeKernel, NO_PARAMETERS, None)
                {
                    self.record(check, false, Err(TeeError::Transport(error)));
                }
            }
            Check::Add => {
                parameters[0] = Parameter::value_input(2, 3);
                parameters[1] = Parameter::value_output();
                self.invoke(test_pta::ADD, parameters, false);
            }
            Check::Fill | Check::ShortBuffer => {
                let window = if check == Check::Fill {
                    FILL_LENGTH
                } else {
                    16
                };
                self.buffer.map(|buffer| buffer.fill(0));
                parameters[0] = Parameter::memref(Direction::Output, 0, window);
                parameters[1] = Parameter::value_input(FILL_SEED, FILL_LENGTH as u64);
                self.invoke(test_pta::FILL, parameters, true);
            }
            Check::Checksum => {
                self.buffer.map(|buffer| {
                    for (index, byte) in buffer.iter_mut().enumerate() {
                        *byte = index as u8;
                    }
                });
                parameters[0] = Parameter::memref(Direction::Input, 0, CHECKSUM_LENGTH);
                parameters[1] = Parameter::value_output();
                self.invoke(test_pta::CHECKSUM, parameters, true);
            }
            Check::WaitQueue => {
                parameters[0] = Parameter::value_input(5, 0);
                self.invoke(test_pta::WAIT_QUEUE, parameters, false);
            }
            Check::Sleep | Check::Cancel => {
                let milliseconds = if check == Check::Sleep { 20 } else { 500 };
                parameters[0] = Parameter::value_input(milliseconds, 0);
                self.invoke(test_pta::SLEEP, parameters, false);
                if check == Check::Cancel {
                    if let Some(session) = self.session.get() {
                        if let Err(error) = self.tee.cancel(session) {
                            defmt::warn!(
                                "optee-self-test: the cancellation was not sent: {}",
                                error
                            );
                        }
                    }
                }
            }
            Check::SharedMemory => {
                parameters[0] = Parameter::value_input(SHM_SIZE, 0);
                parameters[1] = Parameter::value_output();
                self.invoke(test_pta::SHM_ROUND_TRIP, parameters, false);
            }
            Check::UnknownRpc => {
                parameters[0] = Parameter::value_output();
                self.invoke(test_pta::UNKNOWN_RPC, parameters, false);
            }
            Check::BadParameters => {
                parameters[0] = Parameter::memref(Direction::Input, 0, 8);
                parameters[1] = Parameter::value_output();
                self.invoke(test_pta::ADD, parameters, true);
            }
            Check::BadSession => {
                let session = self.session.get().unwrap_or(SessionId(0));
                parameters[0] = Parameter::value_input(1, 1);
                parameters[1] = Parameter::value_output();
                if let Err((error, _)) = self.tee.invoke(
                    SessionId(session.0.wrapping_add(1000)),
                    test_pta::ADD,
                    parameters,
                    None,
                ) {
                    self.record(check, false, Err(TeeError::Transport(error)));
                }
            }
            Check::Close => {
                let session = self.session.get().unwrap_or(SessionId(0));
                if let Err(error) = self.tee.close_session(session) {
                    self.record(check, false, Err(TeeError::Transport(error)));
                }
            }
            Check::UnknownTa => {
                if let Err((error, _)) =
                    self.tee
                        .open_session(UNKNOWN_TA, Login::ReeKernel, NO_PARAMETERS, None)
                {
                    self.record(check, false, Err(TeeError::Transport(error)));
                }
            }
        }
    }

    /// Whether `parameters` and `buffer` hold what `check` expects.
    fn judge(
        &self,
        check: Check,
        result: Result<(), TeeError>,
        parameters: &Parameters,
        buffer: Option<&[u8]>,
    ) -> bool {
        let tee_error = |expected: TeeResult| matches!(result, Err(TeeError::Tee { code, .. }) if code == expected.0);
        match check {
            Check::Add => result.is_ok() && parameters[1].values().0 == 5,
            Check::Fill => {
                let size_ok =
                    matches!(parameters[0], Parameter::Memref { size, .. } if size == FILL_LENGTH);
                let bytes_ok = buffer.is_some_and(|bytes| {
                    bytes[..FILL_LENGTH]
                        .iter()
                        .enumerate()
                        .all(|(index, byte)| *byte == test_pta::pattern(FILL_SEED, index as u64))
                });
                result.is_ok() && size_ok && bytes_ok
            }
            Check::ShortBuffer => {
                tee_error(TeeResult::SHORT_BUFFER)
                    && matches!(parameters[0], Parameter::Memref { size, .. } if size == FILL_LENGTH)
            }
            Check::Checksum => {
                let expected: u64 = (0..CHECKSUM_LENGTH as u64).sum();
                result.is_ok() && parameters[1].values() == (expected, CHECKSUM_LENGTH as u64)
            }
            Check::WaitQueue | Check::Sleep => result.is_ok(),
            Check::SharedMemory => {
                let expected = (0..SHM_SIZE).fold(0u64, |sum, index| {
                    sum.wrapping_add(u64::from(test_pta::pattern(SHM_SEED, index)))
                });
                result.is_ok() && parameters[1].values() == (expected, SHM_SIZE)
            }
            Check::UnknownRpc => {
                result.is_ok()
                    && parameters[0].values().0 == u64::from(TeeResult::NOT_IMPLEMENTED.0)
            }
            Check::BadParameters => matches!(
                result,
                Err(TeeError::Tee { code, origin: Origin::TrustedApplication })
                    if code == TeeResult::BAD_PARAMETERS.0
            ),
            Check::Cancel => tee_error(TeeResult::CANCEL),
            Check::BadSession => tee_error(TeeResult::BAD_PARAMETERS),
            Check::Open | Check::Close | Check::UnknownTa => false,
        }
    }
}

impl ProbeClient for SelfTest<'_> {
    fn probed(&self, state: DriverState) {
        if state != DriverState::Ready || self.step.get() != 0 {
            return;
        }
        self.driver.work_started();
        defmt::info!(
            "optee-self-test: starting {=usize} checks against the test pseudo TA",
            CHECKS.len()
        );
        self.run();
    }
}

impl TeeClient for SelfTest<'_> {
    fn session_opened(
        &self,
        result: Result<SessionId, TeeError>,
        _parameters: Parameters,
        _buffer: Option<&'static mut [u8]>,
    ) {
        match self.current() {
            Some(Check::Open) => {
                if let Ok(session) = result {
                    self.session.set(session);
                }
                self.record(Check::Open, result.is_ok(), result.map(|_| ()));
            }
            Some(Check::UnknownTa) => {
                let passed = matches!(result, Err(TeeError::Tee { code, .. }) if code == TeeResult::ITEM_NOT_FOUND.0);
                self.record(Check::UnknownTa, passed, result.map(|_| ()));
            }
            _ => {}
        }
    }

    fn command_complete(
        &self,
        _session: SessionId,
        result: Result<(), TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) {
        let Some(check) = self.current() else {
            return;
        };
        let passed = self.judge(check, result, &parameters, buffer.as_deref());
        if let Some(buffer) = buffer {
            self.buffer.replace(buffer);
        }
        self.record(check, passed, result);
    }

    fn session_closed(&self, _session: SessionId, result: Result<(), TeeError>) {
        if self.current() == Some(Check::Close) {
            self.session.clear();
            self.record(Check::Close, result.is_ok(), result);
        }
    }

    fn cancel_sent(&self, _session: SessionId, result: Result<(), TeeError>) {
        if let Err(error) = result {
            defmt::warn!("optee-self-test: the cancellation failed: {}", error);
        }
    }
}
