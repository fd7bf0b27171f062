//! The `optee` console command group: `optee version`, `optee devices`,
//! `optee invoke <uuid> <command> <a> <b>`.
//!
//! The kernel console (its command-group registry) is not on this branch's
//! main yet; this group is ready for it. It keeps to what a console command
//! group needs: a table of commands with usage and help ([`COMMANDS`]), a
//! `run` that takes the words after the group's name and starts the
//! command, and output through `defmt::println!`. An invocation is
//! split-phase like every TEE call: `run` opens a session to the UUID
//! (REE-kernel login) and returns; the result is printed when OP-TEE
//! answers, and the session is closed. Registering it is one adapter that
//! maps the console's command type onto [`OpteeCommands::run`].
//!
//! `optee invoke` passes `a` and `b` as a value input and reads a value
//! output: the shape of the test pseudo TA's `ADD` (command 0), which
//! answers `a + b`.

use core::cell::Cell;

use ffa_abi::Uuid;
use kernel::cells::OptionalCell;
use kernel::hil::tee::{Login, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError};

use crate::client::OpteeClient;
use crate::driver::{DriverState, EnumerationState, OpteeDriver};

/// One command of the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The word after `optee`.
    pub name: &'static str,
    /// Its arguments.
    pub usage: &'static str,
    /// One line of help.
    pub help: &'static str,
}

/// The group's commands, in the order help lists them.
pub const COMMANDS: [CommandInfo; 3] = [
    CommandInfo {
        name: "version",
        usage: "",
        help: "OP-TEE's partition, API and OS version, build ID and capabilities",
    },
    CommandInfo {
        name: "devices",
        usage: "",
        help: "the trusted applications OP-TEE's device enumeration listed",
    },
    CommandInfo {
        name: "invoke",
        usage: "<uuid> <command> <a> <b>",
        help:
            "open a session to <uuid>, invoke <command> with value (a, b) and a value output, close",
    },
];

/// Why a command did not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CommandError {
    /// No such command in the group.
    UnknownCommand,
    /// Wrong number of words: the usage.
    Usage(&'static str),
    /// A word is not a UUID.
    BadUuid,
    /// Word `index` is not a number (decimal, or hex with `0x`).
    BadNumber(usize),
    /// OP-TEE is not bound, or cannot be driven.
    NotReady,
    /// An invocation is still running.
    Busy,
}

/// Where an invocation from the console is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Idle,
    Opening { command: u32, a: u64, b: u64 },
    Invoking,
    Closing,
}

/// The `optee` command group.
pub struct OpteeCommands<'a> {
    driver: &'a OpteeDriver<'a>,
    tee: &'a OpteeClient<'a>,
    step: Cell<Step>,
    target: OptionalCell<TaUuid>,
}

/// A number in decimal or `0x` hex.
pub fn parse_number(word: &str) -> Option<u64> {
    match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
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

    /// The group's name in the console.
    pub const fn name(&self) -> &'static str {
        "optee"
    }

    /// The commands, for help.
    pub fn commands(&self) -> &'static [CommandInfo] {
        &COMMANDS
    }

    /// Runs the command in `words` (the words after `optee`).
    pub fn run(&self, words: &[&str]) -> Result<(), CommandError> {
        match words {
            ["version"] => {
                self.version();
                Ok(())
            }
            ["devices"] => {
                self.devices();
                Ok(())
            }
            ["invoke", uuid, command, a, b] => self.invoke(uuid, command, a, b),
            ["invoke", ..] => Err(CommandError::Usage(COMMANDS[2].usage)),
            ["version" | "devices", ..] => Err(CommandError::Usage("")),
            _ => Err(CommandError::UnknownCommand),
        }
    }

    fn version(&self) {
        let Some(info) = self.driver.info() else {
            defmt::println!("optee: no OP-TEE bound");
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
                "optee: capabilities {=u32:#x}, {=u8} RPC parameters; state {}",
                capabilities.bits,
                capabilities.rpc_parameters,
                self.driver.state()
            ),
            None => defmt::println!("optee: state {}", self.driver.state()),
        }
    }

    fn devices(&self) {
        match self.driver.enumeration() {
            EnumerationState::Listed(count) => {
                defmt::println!("optee: {=usize} device(s)", count);
                self.driver
                    .for_each_device(|device| defmt::println!("optee:   optee-ta-{}", device));
            }
            other => defmt::println!("optee: devices: {}", other),
        }
    }

    fn invoke(&self, uuid: &str, command: &str, a: &str, b: &str) -> Result<(), CommandError> {
        let ta = Uuid::parse(uuid).ok_or(CommandError::BadUuid)?;
        let command = parse_number(command)
            .and_then(|value| u32::try_from(value).ok())
            .ok_or(CommandError::BadNumber(2))?;
        let a = parse_number(a).ok_or(CommandError::BadNumber(3))?;
        let b = parse_number(b).ok_or(CommandError::BadNumber(4))?;
        if self.driver.state() != DriverState::Ready {
            return Err(CommandError::NotReady);
        }
        if self.step.get() != Step::Idle {
            return Err(CommandError::Busy);
        }
        let ta = TaUuid(*ta.as_bytes());
        self.tee
            .open_session(ta, Login::ReeKernel, kernel::hil::tee::NO_PARAMETERS, None)
            .map_err(|_| CommandError::Busy)?;
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
                defmt::println!("optee: open session failed: {}", error);
                self.step.set(Step::Idle);
                return;
            }
        };
        let mut parameters = kernel::hil::tee::NO_PARAMETERS;
        parameters[0] = Parameter::value_input(a, b);
        parameters[1] = Parameter::value_output();
        match self.tee.invoke(session, command, parameters, None) {
            Ok(()) => self.step.set(Step::Invoking),
            Err((error, _)) => {
                defmt::println!("optee: invoke not started: {}", error);
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
        let (a, b) = parameters[1].values();
        match result {
            Ok(()) => defmt::println!(
                "optee: invoke {=u32}: success, out a={=u64} ({=u64:#x}) b={=u64}",
                session.0,
                a,
                a,
                b
            ),
            Err(error) => defmt::println!("optee: invoke {=u32}: {}", session.0, error),
        }
        self.close(session);
    }

    fn session_closed(&self, _session: SessionId, result: Result<(), TeeError>) {
        if let Err(error) = result {
            defmt::println!("optee: close session failed: {}", error);
        }
        self.step.set(Step::Idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_both_bases() {
        assert_eq!(parse_number("42"), Some(42));
        assert_eq!(parse_number("0x2a"), Some(42));
        assert_eq!(parse_number("x2a"), None);
        assert_eq!(parse_number(""), None);
    }
}
