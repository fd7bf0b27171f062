//! The terminal while `cargo xtask run` forwards it to the kernel console:
//! raw mode, keys read without blocking the runner, and a local echo of the
//! line being typed beneath the decoded log.
//!
//! The kernel cannot echo keys: its output is defmt frames, which only the
//! runner can show. So the terminal is put in raw mode (no line buffering,
//! no echo, Ctrl-C a key like any other), every key goes to the kernel's
//! UART as it is typed, and the runner shows what was typed on the last
//! line of the screen, `console> ...`, applying the same editing rules as
//! the kernel's line editor (printable characters, backspace/DEL, Ctrl-U;
//! escape sequences show nothing). Log lines are printed above it. Once the
//! kernel takes the line, it prints it (`[kernel] console> ...`) in order
//! with the log. Ctrl-C does not reach the kernel: it stops QEMU, and the
//! terminal is restored however the runner ends (the guard's `Drop` runs
//! on return and on panic; SIGTERM and SIGHUP are caught while it is held).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::script::is_prompt;

/// Ctrl-C, as a raw terminal sends it.
pub const CTRL_C: u8 = 0x03;

/// How often the key reader checks whether it should stop.
const KEY_POLL: Duration = Duration::from_millis(50);

/// What the local echo shows before the line being typed.
const ECHO_PROMPT: &str = "console> ";

/// Whether standard input is a terminal.
pub fn stdin_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}

/// Whether standard input is `/dev/null` (or another character device that
/// is not a terminal): nothing will ever be typed.
pub fn stdin_is_null() -> bool {
    // SAFETY: a zeroed stat is a valid value for fstat to fill.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 and a valid stat pointer; failure is reported.
    let known = unsafe { libc::fstat(libc::STDIN_FILENO, &mut status) } == 0;
    known && (status.st_mode & libc::S_IFMT) == libc::S_IFCHR && !stdin_is_terminal()
}

/// While alive, the terminal on standard input is in raw mode.
pub struct RawMode {
    original: libc::termios,
}

impl RawMode {
    /// Puts the terminal in raw mode (keeping output processing, so `\n`
    /// still starts a new line); `None` if standard input is not a terminal.
    pub fn enable() -> Option<RawMode> {
        // SAFETY: a zeroed termios is a valid value for tcgetattr to fill.
        let mut original: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid termios pointer; failure is reported.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut original) } != 0 {
            return None;
        }
        let mut raw = original;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_iflag &= !(libc::IXON | libc::ICRNL | libc::INLCR | libc::ISTRIP);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: fd 0 and a termios derived from the one tcgetattr filled.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(RawMode { original })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the attributes tcgetattr returned for fd 0.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.original);
        }
    }
}

/// Reads keys from standard input until `stop` is set, sending each chunk.
/// Never blocks for long: it polls, so the runner can end it.
pub fn read_keys(stop: &AtomicBool, keys: &mpsc::Sender<Vec<u8>>) {
    let mut buffer = [0u8; 256];
    while !stop.load(Ordering::Acquire) {
        let mut poll = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a bounded timeout.
        let ready = unsafe { libc::poll(&mut poll, 1, KEY_POLL.as_millis() as libc::c_int) };
        if ready <= 0 {
            continue;
        }
        // SAFETY: reads into a buffer of the given length.
        let count =
            unsafe { libc::read(libc::STDIN_FILENO, buffer.as_mut_ptr().cast(), buffer.len()) };
        if count <= 0 {
            // End of input (or an error): no more keys.
            return;
        }
        if keys.send(buffer[..count as usize].to_vec()).is_err() {
            return;
        }
    }
}

/// Where the local echo is within an escape sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Escape {
    #[default]
    None,
    Started,
    ControlSequence,
    SingleShift,
}

/// What a key asks of the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyAction {
    /// Send these bytes to the kernel.
    Forward(Vec<u8>),
    /// Ctrl-C: stop QEMU.
    Interrupt,
}

/// The log above, the line being typed below.
#[derive(Debug, Default)]
pub struct LocalEcho {
    typed: String,
    escape: Escape,
    /// Whether the console has printed its prompt yet.
    console_ready: bool,
}

impl LocalEcho {
    /// What the last line of the screen shows now.
    pub fn input_line(&self) -> String {
        if self.console_ready {
            format!("{ECHO_PROMPT}{}", self.typed)
        } else {
            self.typed.clone()
        }
    }

    /// How a log line is shown: prompts are not shown (the echo line is
    /// the prompt); anything else goes above the line being typed.
    pub fn show_line(&mut self, line: &str) -> Option<String> {
        if is_prompt(line) {
            self.console_ready = true;
            return None;
        }
        Some(line.to_string())
    }

    /// Takes typed bytes: what to send to the kernel, applying the editing
    /// to the echo; Ctrl-C stops instead.
    pub fn keys(&mut self, bytes: &[u8]) -> KeyAction {
        if bytes.contains(&CTRL_C) {
            return KeyAction::Interrupt;
        }
        for &byte in bytes {
            self.key(byte);
        }
        KeyAction::Forward(bytes.to_vec())
    }

    fn key(&mut self, byte: u8) {
        match self.escape {
            Escape::Started => {
                self.escape = match byte {
                    b'[' => Escape::ControlSequence,
                    b'O' => Escape::SingleShift,
                    _ => Escape::None,
                };
                return;
            }
            Escape::ControlSequence => {
                if (0x40..=0x7e).contains(&byte) || !(0x20..=0x7e).contains(&byte) {
                    self.escape = Escape::None;
                }
                return;
            }
            Escape::SingleShift => {
                self.escape = Escape::None;
                return;
            }
            Escape::None => {}
        }
        match byte {
            0x1b => self.escape = Escape::Started,
            b'\r' | b'\n' => self.typed.clear(),
            0x08 | 0x7f => {
                self.typed.pop();
            }
            0x15 => self.typed.clear(),
            b'\t' => self.typed.push(' '),
            b' '..=b'~' => self.typed.push(byte as char),
            _ => {}
        }
    }
}

/// Prints log lines above the local echo on the terminal.
#[derive(Debug, Default)]
pub struct Screen {
    echo: LocalEcho,
}

impl Screen {
    /// Prints `line` above the line being typed (or, for a prompt, shows
    /// the prompt on the echo line).
    pub fn line(&mut self, line: &str) {
        if let Some(shown) = self.echo.show_line(line) {
            print!("\r\x1b[K{shown}\n");
        }
        self.redraw();
    }

    /// Takes typed bytes (see [`LocalEcho::keys`]) and redraws the echo.
    pub fn keys(&mut self, bytes: &[u8]) -> KeyAction {
        let action = self.echo.keys(bytes);
        self.redraw();
        action
    }

    /// Leaves the echo line empty, ready for the runner's last messages.
    pub fn finish(&mut self) {
        print!("\r\x1b[K");
        let _ = std::io::stdout().flush();
    }

    fn redraw(&self) {
        print!("\r\x1b[K{}", self.echo.input_line());
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_edits_as_the_kernel_does_and_hides_escape_sequences() {
        let mut echo = LocalEcho::default();
        assert_eq!(echo.show_line("[kernel] console: ready"), None);
        assert_eq!(
            echo.keys(b"ffa lisx\x7ft\x1b[A\x1b[1;5C\x1bOP"),
            KeyAction::Forward(b"ffa lisx\x7ft\x1b[A\x1b[1;5C\x1bOP".to_vec())
        );
        assert_eq!(echo.input_line(), "console> ffa list");
        echo.keys(b"\x15init");
        assert_eq!(echo.input_line(), "console> init");
        echo.keys(b"\r");
        assert_eq!(echo.input_line(), "console> ");
    }

    #[test]
    fn ctrl_c_stops_instead_of_reaching_the_kernel() {
        let mut echo = LocalEcho::default();
        assert_eq!(echo.keys(b"ab\x03"), KeyAction::Interrupt);
    }

    #[test]
    fn log_lines_are_shown_and_prompts_become_the_echo_prompt() {
        let mut echo = LocalEcho::default();
        echo.keys(b"early");
        assert_eq!(echo.input_line(), "early");
        assert_eq!(
            echo.show_line("[kernel] INFO boot (x.rs:1)"),
            Some("[kernel] INFO boot (x.rs:1)".into())
        );
        assert_eq!(echo.show_line("[kernel] console: ready"), None);
        assert_eq!(echo.input_line(), "console> early");
    }
}
