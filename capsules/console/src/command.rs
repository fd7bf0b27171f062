//! Commands, command groups and their errors: how a capsule adds commands
//! to the console.
//!
//! A capsule that offers commands implements [`CommandGroup`]: a static
//! table of [`Command`]s (name, arguments, one line of help) and a `run`
//! that executes one of them. The console matches a line against every
//! group's table (the longest matching name wins, so one group may own
//! `ffa list` while another owns `ffa share`), checks nothing else, and
//! hands the remaining words over as [`Arguments`]. The group prints its
//! output with `defmt::println!` (console output, never filtered by the log
//! level) and returns `Ok(())`, or a [`CommandError`], which the console
//! prints in one consistent form.
//!
//! ```
//! use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
//!
//! struct Uptime;
//!
//! static UPTIME_COMMANDS: [Command; 1] =
//!     [Command::new("uptime", "[scale]", "time since boot, divided by scale")];
//!
//! impl CommandGroup for Uptime {
//!     fn commands(&self) -> &'static [Command] {
//!         &UPTIME_COMMANDS
//!     }
//!
//!     fn run<'l>(&self, _command: &Command, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
//!         arguments.expect_count(0, 1)?;
//!         let scale = arguments.optional_number(0, 1, u64::MAX, "a scale from 1")?;
//!         defmt::println!("uptime: {=u64}", 42 / scale);
//!         Ok(())
//!     }
//! }
//! ```
//!
//! The board lists the groups in the console's component; adding a group
//! touches neither the console nor its parser.

use crate::words::parse_number;

/// One command: its name (one or more words), its arguments and its help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// The words that name it, separated by single spaces (`"ffa send"`).
    pub name: &'static str,
    /// Its arguments, for the usage line (`"<id> <w3> [w4..w7]"`; empty if none).
    pub arguments: &'static str,
    /// One line saying what it does.
    pub help: &'static str,
}

impl Command {
    /// A command named `name` taking `arguments`, described by `help`.
    pub const fn new(name: &'static str, arguments: &'static str, help: &'static str) -> Command {
        Command {
            name,
            arguments,
            help,
        }
    }

    /// The words of its name.
    pub fn name_words(&self) -> impl Iterator<Item = &'static str> {
        self.name.split(' ').filter(|word| !word.is_empty())
    }

    /// Whether it takes arguments at all.
    pub fn takes_arguments(&self) -> bool {
        !self.arguments.is_empty()
    }
}

impl defmt::Format for Command {
    /// The usage: name and arguments.
    fn format(&self, formatter: defmt::Formatter<'_>) {
        if self.takes_arguments() {
            defmt::write!(formatter, "{=str} {=str}", self.name, self.arguments);
        } else {
            defmt::write!(formatter, "{=str}", self.name);
        }
    }
}

/// Why a command did not run, as the console prints it (`error: ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError<'l> {
    /// Too few or too many arguments: the console prints the usage.
    Usage,
    /// An argument is not a number, or not one in range.
    BadNumber {
        /// The argument as typed.
        argument: &'l str,
        /// What was expected (`"a 16-bit partition ID"`).
        expected: &'static str,
    },
    /// An argument is not what the command takes.
    BadArgument {
        /// The argument as typed.
        argument: &'l str,
        /// What was expected (`"a UUID such as fa791f17-febd-4861-81d0-4b5dae9cb9cb"`).
        expected: &'static str,
    },
    /// The argument names nothing known.
    Unknown {
        /// What kind of thing (`"partition"`).
        what: &'static str,
        /// The argument as typed.
        argument: &'l str,
    },
    /// The operation is not supported; why.
    NotSupported(&'static str),
    /// The command failed and has already printed why (`error: ...`).
    Reported,
}

/// The words after a command's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arguments<'l> {
    words: &'l [&'l str],
}

impl<'l> Arguments<'l> {
    /// `words`, as arguments.
    pub const fn new(words: &'l [&'l str]) -> Arguments<'l> {
        Arguments { words }
    }

    /// How many there are.
    pub const fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words.
    pub const fn words(&self) -> &'l [&'l str] {
        self.words
    }

    /// Argument `index`, if given.
    pub fn get(&self, index: usize) -> Option<&'l str> {
        self.words.get(index).copied()
    }

    /// [`CommandError::Usage`] unless there are `minimum` to `maximum` arguments.
    pub fn expect_count(&self, minimum: usize, maximum: usize) -> Result<(), CommandError<'l>> {
        if (minimum..=maximum).contains(&self.len()) {
            Ok(())
        } else {
            Err(CommandError::Usage)
        }
    }

    /// Argument `index` as a number from `minimum` to `maximum` (`expected`
    /// says what, for the error); [`CommandError::Usage`] if missing.
    pub fn number(
        &self,
        index: usize,
        minimum: u64,
        maximum: u64,
        expected: &'static str,
    ) -> Result<u64, CommandError<'l>> {
        let argument = self.get(index).ok_or(CommandError::Usage)?;
        parse_number(argument)
            .filter(|value| (minimum..=maximum).contains(value))
            .ok_or(CommandError::BadNumber { argument, expected })
    }

    /// Like [`Arguments::number`], but `default` if the argument is not given.
    pub fn optional_number(
        &self,
        index: usize,
        default: u64,
        maximum: u64,
        expected: &'static str,
    ) -> Result<u64, CommandError<'l>> {
        match self.get(index) {
            None => Ok(default),
            Some(_) => self.number(index, 0, maximum, expected),
        }
    }

    /// Arguments from `start` on, each a number no larger than `maximum`,
    /// into `values` (at most `values.len()` of them; more is a usage error).
    pub fn numbers_into(
        &self,
        start: usize,
        values: &mut [u64],
        maximum: u64,
        expected: &'static str,
    ) -> Result<usize, CommandError<'l>> {
        let given = self.len().saturating_sub(start);
        if given > values.len() {
            return Err(CommandError::Usage);
        }
        for (offset, value) in values.iter_mut().take(given).enumerate() {
            *value = self.number(start + offset, 0, maximum, expected)?;
        }
        Ok(given)
    }
}

/// A set of commands a capsule offers the console.
pub trait CommandGroup {
    /// The commands, in the order `help` lists them.
    fn commands(&self) -> &'static [Command];

    /// Runs `command` (one of [`CommandGroup::commands`]) with `arguments`.
    /// Output goes out with `defmt::println!`. Called from a deferred call,
    /// never from inside the UART's receive path; a command that waits on
    /// something (the secure world) must bound the wait.
    fn run<'l>(&self, command: &Command, arguments: &Arguments<'l>)
        -> Result<(), CommandError<'l>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_against_their_range() {
        let words = ["0x8001", "0x10000", "x", "7"];
        let arguments = Arguments::new(&words);
        assert_eq!(arguments.number(0, 0, 0xffff, "an ID"), Ok(0x8001));
        assert_eq!(
            arguments.number(1, 0, 0xffff, "an ID"),
            Err(CommandError::BadNumber {
                argument: "0x10000",
                expected: "an ID"
            })
        );
        assert!(matches!(
            arguments.number(2, 0, 9, "a digit"),
            Err(CommandError::BadNumber { argument: "x", .. })
        ));
        assert_eq!(
            arguments.number(4, 0, 9, "a digit"),
            Err(CommandError::Usage)
        );
        assert_eq!(arguments.optional_number(4, 5, 9, "a digit"), Ok(5));
        assert_eq!(arguments.optional_number(3, 5, 9, "a digit"), Ok(7));
    }

    #[test]
    fn lists_of_numbers_fill_a_payload() {
        let words = ["0x8001", "1", "2", "3"];
        let arguments = Arguments::new(&words);
        let mut payload = [0u64; 5];
        assert_eq!(
            arguments.numbers_into(1, &mut payload, u32::MAX as u64, "w"),
            Ok(3)
        );
        assert_eq!(payload, [1, 2, 3, 0, 0]);
        let mut short = [0u64; 2];
        assert_eq!(
            arguments.numbers_into(1, &mut short, u32::MAX as u64, "w"),
            Err(CommandError::Usage)
        );
        assert_eq!(arguments.expect_count(1, 3), Err(CommandError::Usage));
        assert_eq!(arguments.expect_count(4, 4), Ok(()));
    }

    #[test]
    fn a_command_knows_its_words() {
        let command = Command::new("ffa  send", "<id>", "help");
        assert_eq!(
            command.name_words().collect::<std::vec::Vec<_>>(),
            ["ffa", "send"]
        );
        assert!(command.takes_arguments());
        assert!(!Command::new("version", "", "help").takes_arguments());
    }
}
