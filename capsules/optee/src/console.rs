//! The `optee` console command group: `optee version`, `optee devices`,
//! `optee invoke <uuid> <command> <a> <b>`.
//!
//! A `capsule_console` [`CommandGroup`]: the board lists it beside the
//! other groups (`components::optee` builds it). `version` and `devices`
//! print what probing learnt. `invoke` is split-phase like every TEE call:
//! it opens a session to the UUID (REE-kernel login), invokes the command
//! with `a` and `b` as a value input and a value output, prints the result
//! and closes the session. The command returns once the session is asked
//! for, so its result comes after the console's prompt, as soon as OP-TEE
//! has answered (every wait the driver makes for OP-TEE is bounded).
//!
//! ```text
//! console> optee invoke 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001 0 2 3
//! console: ready
//! optee invoke: command 0 of 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001: success, out a=5 (0x5) b=1
//! ```
//!
//! The shape of `invoke` is the test pseudo TA's `ADD` (command 0, which
//! answers `a + b` and `a ^ b`); any TA taking a value in and a value out
//! fits.

use core::cell::Cell;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use ffa_abi::Uuid;
use kernel::cells::OptionalCell;
use kernel::hil::tee::{Login, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError};

use crate::client::OpteeClient;
use crate::driver::{DriverState, EnumerationState, OpteeDriver};

/// The group's commands, in the order help lists them.
static COMMANDS: [Command; 3] = [
    Command::new(
        "optee version",
        "",
        "OP-TEE's partition, API and OS versions, build ID and capabilities",
    ),
    Command::new(
        "optee devices",
        "",
        "the trusted applications OP-TEE's device enumeration listed",
    ),
    Command::new(
        "optee invoke",
        "<uuid> <command> <a> <b>",
        "open a session to <uuid>, invoke <command> with value (a, b) and a value output, close",
    ),
];

/// What `optee invoke` takes as its first argument.
const UUID: &str = "a TA UUID such as 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001";

/// Where an invocation from the console is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Idle,
    Opening { command: u32, a: u64, b: u64 },
    Invoking { command: u32 },
    Closing,
}

/// The `optee` command group.
pub struct OpteeCommands<'a> {
    driver: &'a OpteeDriver<'a>,
    tee: &'a OpteeClient<'a>,
    step: Cell<Step>,
    target: OptionalCell<TaUuid>,
}

impl<'a> OpteeCommands<'a> {
    /// The group for `driver`, invoking through `tee` (make the group its client).
    pub fn new(driver: &'a OpteeDriver<'a>, tee: &'a OpteeClient<'a>) -> OpteeCommands<'a> {
        OpteeCommands {
            driver,
            tee,
            step: Cell::new(Step::Idle),
            target: OptionalCell::empty(),
        }
    }

    /// Whether an invocation is under way.
    pub fn is_busy(&self) -> bool {
        self.step.get() != Step::Idle
    }

    fn version(&self) {
        let Some(info) = self.driver.info() else {
            defmt::println!("optee: no OP-TEE partition is bound");
            return;
        };
        defmt::println!(
            "optee: partition {=u16:#06x}: API v{=u32}.{=u32}, OP-TEE {=u32}.{=u32}, build ID {=u32:#010x}",
            info.partition.raw(),
            info.api.major,
            info.api.minor,
            info.os.major,
            info.os.minor,
            info.os.build
        );
        match info.capabilities {
            Some(capabilities) => defmt::println!(
                "optee: capabilities {=u32:#x}, {=u8} RPC parameters, {=usize} call slot(s); {}",
                capabilities.bits,
                capabilities.rpc_parameters,
                info.layout.map_or(0, |layout| layout.entries),
                self.driver.state()
            ),
            None => defmt::println!("optee: {}", self.driver.state()),
        }
    }

    fn devices(&self) {
        match self.driver.enumeration() {
            EnumerationState::Listed(count) => {
                defmt::println!("optee: {=usize} device(s)", count);
                self.driver
                    .for_each_device(|device| defmt::println!("optee: optee-ta-{}", device));
            }
            other => defmt::println!("optee: devices: {}", other),
        }
    }

    fn invoke<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(4, 4)?;
        let word = arguments.get(0).ok_or(CommandError::Usage)?;
        let ta = Uuid::parse(word).ok_or(CommandError::BadArgument {
            argument: word,
            expected: UUID,
        })?;
        let command = arguments.number(1, 0, u64::from(u32::MAX), "a 32-bit command ID")? as u32;
        let a = arguments.number(2, 0, u64::MAX, "a 64-bit value")?;
        let b = arguments.number(3, 0, u64::MAX, "a 64-bit value")?;
        if self.driver.state() != DriverState::Ready {
            return Err(CommandError::NotSupported(
                "no OP-TEE that can be driven (optee version says why)",
            ));
        }
        if self.is_busy() {
            defmt::println!("error: an optee invoke is still running");
            return Err(CommandError::Reported);
        }
        let ta = TaUuid(*ta.as_bytes());
        if let Err((error, _)) =
            self.tee
                .open_session(ta, Login::ReeKernel, kernel::hil::tee::NO_PARAMETERS, None)
        {
            defmt::println!("error: optee invoke not started: {}", error);
            return Err(CommandError::Reported);
        }
        self.target.set(ta);
        self.step.set(Step::Opening { command, a, b });
        Ok(())
    }

    fn close(&self, session: SessionId) {
        if self.tee.close_session(session).is_ok() {
            self.step.set(Step::Closing);
        } else {
            self.step.set(Step::Idle);
        }
    }
}

impl CommandGroup for OpteeCommands<'_> {
    fn commands(&self) -> &'static [Command] {
        &COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "optee version" => {
                arguments.expect_count(0, 0)?;
                self.version();
                Ok(())
            }
            "optee devices" => {
                arguments.expect_count(0, 0)?;
                self.devices();
                Ok(())
            }
            _ => self.invoke(arguments),
        }
    }
}

impl TeeClient for OpteeCommands<'_> {
    fn session_opened(
        &self,
        result: Result<SessionId, TeeError>,
        _parameters: Parameters,
        _buffer: Option<&'static mut [u8]>,
    ) {
        let Step::Opening { command, a, b } = self.step.get() else {
            return;
        };
        let session = match result {
            Ok(session) => session,
            Err(error) => {
                defmt::println!("optee invoke: open session failed: {}", error);
                self.step.set(Step::Idle);
                return;
            }
        };
        let mut parameters = kernel::hil::tee::NO_PARAMETERS;
        parameters[0] = Parameter::value_input(a, b);
        parameters[1] = Parameter::value_output();
        match self.tee.invoke(session, command, parameters, None) {
            Ok(()) => self.step.set(Step::Invoking { command }),
            Err((error, _)) => {
                defmt::println!("optee invoke: not started: {}", error);
                self.close(session);
            }
        }
    }

    fn command_complete(
        &self,
        session: SessionId,
        result: Result<(), TeeError>,
        parameters: Parameters,
        _buffer: Option<&'static mut [u8]>,
    ) {
        let command = match self.step.get() {
            Step::Invoking { command } => command,
            _ => 0,
        };
        let target = self.target.get().unwrap_or_default();
        let (a, b) = parameters[1].values();
        match result {
            Ok(()) => defmt::println!(
                "optee invoke: command {=u32} of {}: success, out a={=u64} ({=u64:#x}) b={=u64}",
                command,
                target,
                a,
                a,
                b
            ),
            Err(error) => defmt::println!(
                "optee invoke: command {=u32} of {}: {}",
                command,
                target,
                error
            ),
        }
        self.close(session);
    }

    fn session_closed(&self, _session: SessionId, result: Result<(), TeeError>) {
        if let Err(error) = result {
            defmt::println!("optee invoke: close session failed: {}", error);
        }
        self.step.set(Step::Idle);
    }
}
