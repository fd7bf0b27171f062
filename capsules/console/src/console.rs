//! The console capsule: a [`ReceiveClient`] of the UART that edits lines,
//! and runs each line's command from a deferred call.
//!
//! Input arrives through the UART's receive HIL in small chunks. The
//! console feeds the bytes to its [`LineEditor`] as they come; when a line
//! ends, it stops taking input, keeps the rest of the chunk, and sets its
//! deferred call. The main loop then runs the command (never from inside
//! the UART's receive path: a command may make FF-A calls, which the
//! secure world may take its time over), prints `console: ready`, and the
//! console goes on with the rest of the chunk, then lends the UART its
//! buffer again. While a command is pending no input is taken, so input
//! that comes faster than commands run waits in the UART driver's bounded
//! ring (and, when that is full, in the UART's FIFO).
//!
//! Everything the console prints goes out with `defmt::println!`: the same
//! log path as the rest of the kernel (so the runner shows it in order), but
//! console output, not log lines: no level, and no log filter removes it.
//!
//! ```text
//! console: 20 commands; type help
//! console: ready
//! console> ffa list
//! arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo
//! console: ready
//! console> ffa pong
//! error: unknown command 'ffa pong'; help ffa lists the ffa commands
//! console: ready
//! ```

use core::cell::{Cell, RefCell};

use kernel::cells::TakeCell;
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::uart::{Receive, ReceiveClient, ReceiveErrors};
use kernel::ErrorCode;

use crate::command::{Arguments, Command, CommandError, CommandGroup};
use crate::editor::{Edit, LineEditor};
use crate::registry::{lookup, Lookup};
use crate::words::{Words, MAX_WORDS};

/// Characters a command line may have.
pub const LINE_CAPACITY: usize = 384;

/// Bytes the console asks the UART for at a time (the size of the buffer a
/// board gives it).
pub const RECEIVE_BUFFER_SIZE: usize = 32;

/// What the console prints when it is ready for the next line; the runner
/// waits for it before it types a script's next line.
pub const PROMPT: &str = "console: ready";

/// What the console has seen, for the `console` command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct Statistics {
    /// Bytes received.
    pub bytes: u64,
    /// Lines whose command was looked up (known or not).
    pub commands: u32,
    /// Lines longer than [`LINE_CAPACITY`], discarded.
    pub too_long: u32,
    /// Lines holding bytes that are not text, discarded.
    pub not_text: u32,
    /// Bytes that were not text (in those lines).
    pub not_text_bytes: u64,
    /// Lines discarded because input was lost while they were typed.
    pub lost_lines: u32,
    /// Lines cancelled with Ctrl-C.
    pub cancelled: u32,
    /// Receive overruns the UART reported (input lost).
    pub overruns: u32,
    /// Garbled bytes the UART dropped.
    pub garbled: u32,
}

/// Where the console's receive buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not started.
    Stopped,
    /// Lent to the UART.
    Receiving,
    /// Held by the console: bytes `next..end` of it are still to be edited.
    Holding { next: usize, end: usize },
    /// The UART refused it; the console no longer takes input.
    Failed,
}

/// The commands the console itself runs.
static CONSOLE_COMMANDS: [Command; 2] = [
    Command::new(
        "help",
        "[command]",
        "lists the commands, or those whose name starts with the words given",
    ),
    Command::new(
        "console",
        "",
        "what the console received: bytes, lines, discarded lines, lost input",
    ),
];

/// The console.
pub struct Console<'a> {
    uart: &'a dyn Receive<'a>,
    groups: &'a [&'a dyn CommandGroup],
    editor: RefCell<LineEditor<LINE_CAPACITY>>,
    buffer: TakeCell<'static, [u8]>,
    state: Cell<State>,
    /// A line ended; the deferred call handles it.
    ended: Cell<Option<Edit>>,
    statistics: Cell<Statistics>,
    deferred_call: DeferredCall,
}

impl<'a> Console<'a> {
    /// A console reading `uart` through `buffer`, running the commands of
    /// `groups` (searched in order) besides its own `help` and `console`.
    pub fn new(
        uart: &'a dyn Receive<'a>,
        buffer: &'static mut [u8],
        groups: &'a [&'a dyn CommandGroup],
    ) -> Console<'a> {
        Console {
            uart,
            groups,
            editor: RefCell::new(LineEditor::new()),
            buffer: TakeCell::new(buffer),
            state: Cell::new(State::Stopped),
            ended: Cell::new(None),
            statistics: Cell::new(Statistics::default()),
            deferred_call: DeferredCall::new(),
        }
    }

    /// Starts taking input: lends the buffer to the UART and prints the
    /// prompt.
    pub fn start(&self) -> Result<(), ErrorCode> {
        if self.state.get() != State::Stopped {
            return Err(ErrorCode::ALREADY);
        }
        let buffer = self.buffer.take().ok_or(ErrorCode::NOMEM)?;
        self.lend(buffer)?;
        defmt::println!(
            "console: {=usize} commands; type help",
            self.all_groups()
                .map(|group| group.commands().len())
                .sum::<usize>()
        );
        defmt::println!("{=str}", PROMPT);
        Ok(())
    }

    /// What the console has seen so far.
    pub fn statistics(&self) -> Statistics {
        self.statistics.get()
    }

    fn update(&self, change: impl FnOnce(&mut Statistics)) {
        let mut statistics = self.statistics.get();
        change(&mut statistics);
        self.statistics.set(statistics);
    }

    /// The console's own commands, then the board's groups.
    fn all_groups(&self) -> impl Iterator<Item = &dyn CommandGroup> + Clone {
        core::iter::once(self as &dyn CommandGroup).chain(self.groups.iter().copied())
    }

    /// Lends `buffer` to the UART for the next input.
    fn lend(&self, buffer: &'static mut [u8]) -> Result<(), ErrorCode> {
        let length = buffer.len();
        match self.uart.receive_buffer(buffer, length) {
            Ok(()) => {
                self.state.set(State::Receiving);
                Ok(())
            }
            Err((error, buffer)) => {
                self.buffer.replace(buffer);
                self.state.set(State::Failed);
                defmt::println!(
                    "error: the UART refused the console's receive buffer ({}); no more input",
                    error
                );
                Err(error)
            }
        }
    }

    /// Edits the held bytes until a line ends (then the deferred call
    /// handles it) or none is left (then the buffer goes back to the UART).
    fn edit_held_input(&self) {
        let State::Holding { mut next, end } = self.state.get() else {
            return;
        };
        let Some(buffer) = self.buffer.take() else {
            return;
        };
        let mut ended = None;
        {
            let mut editor = self.editor.borrow_mut();
            while next < end {
                let edit = editor.feed(buffer[next]);
                next += 1;
                if edit.ends_line() {
                    ended = Some(edit);
                    break;
                }
            }
        }
        if let Some(edit) = ended {
            self.buffer.replace(buffer);
            self.state.set(State::Holding { next, end });
            self.ended.set(Some(edit));
            self.deferred_call.set();
        } else {
            // Refusal is reported by `lend`; the console then stays quiet.
            let _ = self.lend(buffer);
        }
    }

    /// Handles a line that ended: runs it, or says why it was discarded.
    fn finish_line(&self, edit: Edit) {
        match edit {
            Edit::Continue | Edit::Empty => {}
            Edit::Line => {
                let mut copy = [0u8; LINE_CAPACITY];
                let length = {
                    let editor = self.editor.borrow();
                    let line = editor.line().as_bytes();
                    copy[..line.len()].copy_from_slice(line);
                    line.len()
                };
                // The editor stores printable ASCII only.
                let line = core::str::from_utf8(&copy[..length]).unwrap_or("");
                defmt::println!("console> {=str}", line);
                self.update(|statistics| statistics.commands += 1);
                self.execute(line);
            }
            Edit::TooLong { length } => {
                self.update(|statistics| statistics.too_long += 1);
                defmt::println!(
                    "error: line too long ({=usize} characters, at most {=usize}); discarded",
                    length,
                    LINE_CAPACITY
                );
            }
            Edit::NotText { bytes } => {
                self.update(|statistics| {
                    statistics.not_text += 1;
                    statistics.not_text_bytes += bytes as u64;
                });
                defmt::println!(
                    "error: line discarded: it held {=usize} bytes that are not text (printable ASCII)",
                    bytes
                );
            }
            Edit::Lost => {
                self.update(|statistics| statistics.lost_lines += 1);
                defmt::println!("error: line discarded: input was lost while it was typed");
            }
            Edit::Cancelled => {
                self.update(|statistics| statistics.cancelled += 1);
                defmt::println!("console: line cancelled");
            }
        }
    }

    /// Looks the line's command up and runs it.
    fn execute(&self, line: &str) {
        let Ok(words) = Words::split(line) else {
            defmt::println!(
                "error: too many words (at most {=usize}); discarded",
                MAX_WORDS
            );
            return;
        };
        let words = words.as_slice();
        match lookup(self.all_groups(), words) {
            Lookup::Found {
                group,
                command,
                name_words,
            } => {
                let arguments = Arguments::new(&words[name_words..]);
                if let Err(error) = group.run(command, &arguments) {
                    report(command, error);
                }
            }
            Lookup::UnknownSubcommand { family } => defmt::println!(
                "error: unknown command '{=str}'; help {=str} lists the {=str} commands",
                line,
                family,
                family
            ),
            Lookup::Unknown => defmt::println!(
                "error: unknown command '{=str}'; help lists the commands",
                words.first().copied().unwrap_or("")
            ),
        }
    }

    /// `help [words]`.
    fn help(&self, arguments: &Arguments<'_>) -> Result<(), CommandError<'static>> {
        let prefix = arguments.words();
        let mut shown = 0usize;
        for group in self.all_groups() {
            for command in group.commands() {
                let mut name = command.name_words();
                if prefix.iter().all(|word| name.next() == Some(*word)) {
                    defmt::println!("help: {} - {=str}", command, command.help);
                    shown += 1;
                }
            }
        }
        if shown == 0 {
            defmt::println!(
                "error: no command starts with '{=str}'; help lists the commands",
                prefix.first().copied().unwrap_or("")
            );
            return Err(CommandError::Reported);
        }
        if prefix.is_empty() {
            defmt::println!(
                "help: numbers are decimal or 0x-hexadecimal; backspace edits, Ctrl-U clears the line, Ctrl-C cancels it"
            );
        }
        Ok(())
    }

    /// `console`.
    fn print_statistics(&self) {
        let statistics = self.statistics.get();
        defmt::println!(
            "console: received {=u64} bytes, {=u32} commands; discarded {=u32} too long, {=u32} not text ({=u64} bytes), {=u32} cancelled, {=u32} with lost input; UART: {=u32} overruns, {=u32} garbled bytes",
            statistics.bytes,
            statistics.commands,
            statistics.too_long,
            statistics.not_text,
            statistics.not_text_bytes,
            statistics.cancelled,
            statistics.lost_lines,
            statistics.overruns,
            statistics.garbled
        );
    }
}

/// Prints why `command` did not run.
fn report(command: &Command, error: CommandError<'_>) {
    match error {
        CommandError::Usage => defmt::println!("error: usage: {}", command),
        CommandError::BadNumber { argument, expected } => defmt::println!(
            "error: bad number '{=str}': expected {=str}",
            argument,
            expected
        ),
        CommandError::BadArgument { argument, expected } => defmt::println!(
            "error: bad argument '{=str}': expected {=str}",
            argument,
            expected
        ),
        CommandError::Unknown { what, argument } => {
            defmt::println!("error: unknown {=str} '{=str}'", what, argument)
        }
        CommandError::NotSupported(why) => defmt::println!("error: not supported: {=str}", why),
        CommandError::Reported => {}
    }
}

impl CommandGroup for Console<'_> {
    fn commands(&self) -> &'static [Command] {
        &CONSOLE_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "help" => self.help(arguments),
            _ => {
                arguments.expect_count(0, 0)?;
                self.print_statistics();
                Ok(())
            }
        }
    }
}

impl ReceiveClient for Console<'_> {
    fn received_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        result: Result<(), ErrorCode>,
        errors: ReceiveErrors,
    ) {
        let length = match result {
            Ok(()) => length.min(buffer.len()),
            Err(error) => {
                defmt::println!("error: console input failed ({}); carrying on", error);
                0
            }
        };
        self.update(|statistics| {
            statistics.bytes += length as u64;
            statistics.overruns = statistics.overruns.saturating_add(errors.overruns);
            statistics.garbled = statistics.garbled.saturating_add(errors.garbled);
        });
        if !errors.is_none() {
            defmt::println!(
                "error: input lost ({=u32} receive overruns, {=u32} garbled bytes); the line being typed will be discarded",
                errors.overruns,
                errors.garbled
            );
            self.editor.borrow_mut().mark_lost();
        }
        self.buffer.replace(buffer);
        self.state.set(State::Holding {
            next: 0,
            end: length,
        });
        self.edit_held_input();
    }
}

impl DeferredCallClient for Console<'_> {
    fn handle_deferred_call(&self) {
        if let Some(edit) = self.ended.take() {
            self.finish_line(edit);
            defmt::println!("{=str}", PROMPT);
        }
        self.edit_held_input();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}
