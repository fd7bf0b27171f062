//! The console's `tpm` commands: the PCRs, the measured-boot log, random
//! bytes from the TPM.
//!
//! ```text
//! console> tpm pcrread 0
//! console: ready
//! tpm pcrread: PCR 0 = 6f0c...e1 (update counter 8)
//! console> tpm random 8
//! console: ready
//! tpm random: 8 bytes: 1f9a0c33d2b7e816
//! ```
//!
//! `tpm pcrread` and `tpm random` send TPM commands through their own user
//! of the TPM mux; the TPM answers later (from the driver's alarm or
//! deferred call), so their output follows the prompt, on lines that start
//! with the command's name. A command while the previous one is still
//! running is refused (`error: not supported: the TPM is busy ...`). `tpm
//! log` prints the event log from memory at once: each event decoded, then
//! the bytes, which `tpm2_eventlog` reads once put back into a file.

use core::cell::Cell;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use kernel::cells::TakeCell;
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::ErrorCode;

use crate::event_log;
use crate::hex::Hex;
use crate::measured_boot::MeasuredBoot;
use crate::tpm2::{self, PcrIndex, PcrSelection, MAXIMUM_PCRS_PER_READ, MAXIMUM_RANDOM, PCR_COUNT};

/// The most bytes `tpm random` asks for.
pub const MAXIMUM_RANDOM_BYTES: u64 = 64;
/// Size of the commands' buffer.
pub const COMMANDS_BUFFER_SIZE: usize = 512;

static TPM_COMMANDS: [Command; 4] = [
    Command::new(
        "tpm",
        "",
        "the TPM and measured boot: state, events, PCRs compared",
    ),
    Command::new(
        "tpm pcrread",
        "[n]",
        "read PCR n of the SHA-256 bank from the TPM (all 24 without n)",
    ),
    Command::new(
        "tpm log",
        "",
        "the measured-boot TCG event log: each event, then its bytes in hex",
    ),
    Command::new("tpm random", "<n>", "n bytes (1-64) from TPM2_GetRandom"),
];

/// What is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Running {
    Idle,
    /// Reading `remaining` PCRs, `asked` now.
    PcrRead {
        asked: PcrSelection,
        remaining: PcrSelection,
    },
    /// Getting `wanted` random bytes, `got` so far.
    Random {
        wanted: usize,
        got: usize,
    },
}

/// The `tpm` command group.
pub struct TpmCommands<'a> {
    tpm: &'a dyn Tpm<'a>,
    measured: &'a MeasuredBoot<'a>,
    buffer: TakeCell<'static, [u8]>,
    running: Cell<Running>,
    random: Cell<[u8; MAXIMUM_RANDOM_BYTES as usize]>,
}

impl<'a> TpmCommands<'a> {
    /// The commands over `tpm` (a user of the TPM mux; make this its
    /// client) and `measured`, with commands built in `buffer`.
    pub fn new(
        tpm: &'a dyn Tpm<'a>,
        measured: &'a MeasuredBoot<'a>,
        buffer: &'static mut [u8],
    ) -> TpmCommands<'a> {
        TpmCommands {
            tpm,
            measured,
            buffer: TakeCell::new(buffer),
            running: Cell::new(Running::Idle),
            random: Cell::new([0; MAXIMUM_RANDOM_BYTES as usize]),
        }
    }

    fn send(
        &self,
        build: impl FnOnce(&mut [u8]) -> Result<usize, tpm2::BufferTooSmall>,
    ) -> Result<(), ErrorCode> {
        let buffer = self.buffer.take().ok_or(ErrorCode::BUSY)?;
        let Ok(length) = build(buffer) else {
            self.buffer.replace(buffer);
            return Err(ErrorCode::SIZE);
        };
        self.tpm
            .send_command(buffer, length, Locality::ZERO)
            .map_err(|(error, buffer)| {
                self.buffer.replace(buffer);
                error
            })
    }

    fn start_read(&self, remaining: PcrSelection) -> Result<(), ErrorCode> {
        let asked = remaining
            .iter()
            .take(MAXIMUM_PCRS_PER_READ)
            .fold(PcrSelection::EMPTY, PcrSelection::with);
        self.running.set(Running::PcrRead { asked, remaining });
        self.send(|buffer| tpm2::pcr_read(buffer, asked))
    }

    fn start_random(&self, wanted: usize, got: usize) -> Result<(), ErrorCode> {
        self.running.set(Running::Random { wanted, got });
        let ask = (wanted - got).min(MAXIMUM_RANDOM) as u16;
        self.send(|buffer| tpm2::get_random(buffer, ask))
    }

    fn status(&self) {
        defmt::println!(
            "tpm: measured boot {}, {=usize} events logged, {=usize} extended, {=usize} lost",
            self.measured.state(),
            self.measured.event_count(),
            self.measured.extended_count(),
            self.measured.dropped()
        );
        if let Some(verification) = self.measured.verification() {
            for pcr in verification.pcrs.iter() {
                let index = usize::from(pcr.index());
                defmt::println!(
                    "tpm: PCR {=u8}: TPM {} replay {=str}",
                    pcr.index(),
                    Hex(&verification.read[index]),
                    if verification.mismatched.contains(pcr) {
                        "DIFFERS"
                    } else {
                        "matches"
                    }
                );
            }
        }
    }

    fn print_log(&self) {
        self.measured.with_log(|log| {
            defmt::println!("tpm log: {=usize} bytes", log.len());
            for event in event_log::events(log) {
                match event {
                    Ok(event) => defmt::println!(
                        "tpm log: event {=usize}: PCR {=u8} {=str} sha256 {} data {}",
                        event.number,
                        event.pcr.index(),
                        event_log::event_type_name(event.event_type),
                        Hex(&event.digest),
                        Hex(event.data)
                    ),
                    Err(error) => defmt::println!("tpm log: unreadable from here on: {}", error),
                }
            }
            for (line, chunk) in log.chunks(32).enumerate() {
                defmt::println!("tpm log: {=usize:04x}: {}", line * 32, Hex(chunk));
            }
        });
    }

    fn refused<'l>(error: ErrorCode) -> CommandError<'l> {
        match error {
            ErrorCode::BUSY => {
                CommandError::NotSupported("the TPM is busy with the previous command")
            }
            ErrorCode::OFF | ErrorCode::NODEVICE => CommandError::NotSupported("there is no TPM"),
            _ => {
                defmt::println!("error: the TPM command could not be sent ({})", error);
                CommandError::Reported
            }
        }
    }
}

impl CommandGroup for TpmCommands<'_> {
    fn commands(&self) -> &'static [Command] {
        &TPM_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "tpm" => {
                arguments.expect_count(0, 0)?;
                self.status();
                Ok(())
            }
            "tpm log" => {
                arguments.expect_count(0, 0)?;
                self.print_log();
                Ok(())
            }
            "tpm pcrread" => {
                arguments.expect_count(0, 1)?;
                let selection = match arguments.get(0) {
                    None => (0..PCR_COUNT as u8)
                        .filter_map(PcrIndex::new)
                        .fold(PcrSelection::EMPTY, PcrSelection::with),
                    Some(_) => {
                        let index =
                            arguments.number(0, 0, PCR_COUNT as u64 - 1, "a PCR from 0 to 23")?;
                        PcrSelection::EMPTY
                            .with(PcrIndex::new(index as u8).ok_or(CommandError::Usage)?)
                    }
                };
                if self.running.get() != Running::Idle {
                    return Err(Self::refused(ErrorCode::BUSY));
                }
                self.start_read(selection).map_err(|error| {
                    self.running.set(Running::Idle);
                    Self::refused(error)
                })
            }
            _ => {
                arguments.expect_count(1, 1)?;
                let wanted =
                    arguments.number(0, 1, MAXIMUM_RANDOM_BYTES, "a count from 1 to 64")?;
                if self.running.get() != Running::Idle {
                    return Err(Self::refused(ErrorCode::BUSY));
                }
                self.start_random(wanted as usize, 0).map_err(|error| {
                    self.running.set(Running::Idle);
                    Self::refused(error)
                })
            }
        }
    }
}

impl TpmClient for TpmCommands<'_> {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        let running = self.running.replace(Running::Idle);
        let response = &buffer[..response_length.min(buffer.len())];
        let next = match (running, result) {
            (_, Err(error)) => {
                defmt::println!("error: the TPM command failed in its transport ({})", error);
                None
            }
            (Running::PcrRead { asked, remaining }, Ok(())) => {
                match tpm2::parse_pcr_read(response, asked) {
                    Ok(values) => {
                        for pcr in values.read.iter() {
                            if let Some(value) = values.get(pcr) {
                                defmt::println!(
                                    "tpm pcrread: PCR {=u8} = {} (update counter {=u32})",
                                    pcr.index(),
                                    Hex(value),
                                    values.update_counter
                                );
                            }
                        }
                        let left = asked.iter().fold(remaining, PcrSelection::without);
                        (!left.is_empty() && !values.read.is_empty()).then_some(Running::PcrRead {
                            asked: PcrSelection::EMPTY,
                            remaining: left,
                        })
                    }
                    Err(error) => {
                        defmt::println!("error: tpm pcrread: {}", error);
                        None
                    }
                }
            }
            (Running::Random { wanted, got }, Ok(())) => {
                let mut bytes = self.random.get();
                match tpm2::parse_get_random(response, wanted - got, &mut bytes[got..wanted]) {
                    Ok(0) => {
                        defmt::println!("error: tpm random: the TPM returned no bytes");
                        None
                    }
                    Ok(count) => {
                        self.random.set(bytes);
                        if got + count < wanted {
                            Some(Running::Random {
                                wanted,
                                got: got + count,
                            })
                        } else {
                            defmt::println!(
                                "tpm random: {=usize} bytes: {}",
                                wanted,
                                Hex(&bytes[..wanted])
                            );
                            None
                        }
                    }
                    Err(error) => {
                        defmt::println!("error: tpm random: {}", error);
                        None
                    }
                }
            }
            (Running::Idle, Ok(())) => None,
        };
        self.buffer.replace(buffer);
        let started = match next {
            Some(Running::PcrRead { remaining, .. }) => self.start_read(remaining),
            Some(Running::Random { wanted, got }) => self.start_random(wanted, got),
            _ => Ok(()),
        };
        if let Err(error) = started {
            self.running.set(Running::Idle);
            defmt::println!("error: the next TPM command could not be sent ({})", error);
        }
    }
}
