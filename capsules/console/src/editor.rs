//! The line editor: turns received bytes into lines, one byte at a time.
//!
//! Pure (no hardware, no logging), so every rule is tested on the host:
//!
//! - printable ASCII is typed into a bounded line of `N` characters; a tab
//!   types a space;
//! - backspace (0x08) and DEL (0x7f, what terminals send for the key)
//!   erase the last character; Ctrl-U erases the line; Ctrl-C cancels it;
//! - carriage return, line feed or both end the line (CR LF counts once);
//! - escape sequences (arrow keys, function keys: `ESC [ ... final`,
//!   `ESC O x`, `ESC x`) are swallowed whole, so they never type letters;
//! - anything else (other control bytes, bytes of 0x80 and up: binary
//!   garbage, or UTF-8) is not text: the line is discarded when it ends,
//!   with how many such bytes it held;
//! - a line longer than `N` characters is discarded when it ends (erasing
//!   back to `N` characters before that saves it);
//! - a line during which input was lost ([`LineEditor::mark_lost`]) is
//!   discarded when it ends.
//!
//! ```
//! use capsule_console::editor::{Edit, LineEditor};
//!
//! let mut editor = LineEditor::<16>::new();
//! let mut last = Edit::Continue;
//! for &byte in b"versiox\x7fn\r\n" {
//!     last = match editor.feed(byte) {
//!         Edit::Continue => last,
//!         edit => edit,
//!     };
//! }
//! assert_eq!(last, Edit::Line);
//! assert_eq!(editor.line(), "version");
//! ```

/// What a byte did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The line is still being typed (or the byte was swallowed).
    Continue,
    /// A line was entered; [`LineEditor::line`] has it until the next byte.
    Line,
    /// Enter on a line with nothing but spaces.
    Empty,
    /// A line longer than the editor holds was entered, and discarded.
    TooLong {
        /// How many characters it had.
        length: usize,
    },
    /// A line holding bytes that are not text was entered, and discarded.
    NotText {
        /// How many such bytes it held.
        bytes: usize,
    },
    /// Input was lost while the line was typed; it was discarded.
    Lost,
    /// Ctrl-C: the line was discarded.
    Cancelled,
}

impl Edit {
    /// Whether the byte ended a line (one way or another).
    pub const fn ends_line(self) -> bool {
        !matches!(self, Edit::Continue)
    }
}

/// Where the editor is within an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    None,
    /// After ESC.
    Started,
    /// After `ESC [`, with this many parameter or intermediate bytes.
    ControlSequence(u8),
    /// After `ESC O`: one more byte.
    SingleShift,
}

/// Longest escape sequence swallowed; a longer one is not a key but garbage.
const LONGEST_ESCAPE: u8 = 16;

/// Backspace.
const BACKSPACE: u8 = 0x08;
/// DEL: what the backspace key sends on most terminals.
const DELETE: u8 = 0x7f;
/// Ctrl-C.
const CANCEL: u8 = 0x03;
/// Ctrl-U.
const KILL_LINE: u8 = 0x15;
/// ESC.
const ESCAPE: u8 = 0x1b;

/// A line editor holding at most `N` characters.
#[derive(Clone, Debug)]
pub struct LineEditor<const N: usize> {
    buffer: [u8; N],
    /// Characters stored in `buffer`.
    length: usize,
    /// Characters typed beyond `N` (not stored).
    overflow: usize,
    /// Bytes that were not text, in this line.
    not_text: usize,
    /// Whether input was lost during this line.
    lost: bool,
    escape: Escape,
    /// Whether the previous byte was a carriage return (so a line feed
    /// right after it ends nothing).
    after_carriage_return: bool,
    /// Whether the last byte ended a line, so the next one starts afresh.
    ended: bool,
}

impl<const N: usize> Default for LineEditor<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LineEditor<N> {
    /// How many characters a line may have.
    pub const CAPACITY: usize = N;

    /// An empty editor.
    pub const fn new() -> Self {
        LineEditor {
            buffer: [0; N],
            length: 0,
            overflow: 0,
            not_text: 0,
            lost: false,
            escape: Escape::None,
            after_carriage_return: false,
            ended: false,
        }
    }

    /// The line typed so far, or the one just entered. Always printable
    /// ASCII.
    pub fn line(&self) -> &str {
        // Only bytes 0x20..=0x7e are ever stored, so this cannot fail.
        core::str::from_utf8(&self.buffer[..self.length]).unwrap_or("")
    }

    /// Characters typed into the current line (including those beyond
    /// the capacity).
    pub const fn typed(&self) -> usize {
        self.length + self.overflow
    }

    /// Input was lost (a receive overrun, garbled bytes): the line being
    /// typed is discarded when it ends.
    pub fn mark_lost(&mut self) {
        self.start_if_ended();
        self.lost = true;
    }

    /// Forgets the line being typed.
    pub fn clear(&mut self) {
        self.length = 0;
        self.overflow = 0;
        self.not_text = 0;
        self.lost = false;
        self.escape = Escape::None;
    }

    fn start_if_ended(&mut self) {
        if self.ended {
            self.ended = false;
            self.clear();
        }
    }

    /// Takes one received byte.
    pub fn feed(&mut self, byte: u8) -> Edit {
        let after_carriage_return = core::mem::replace(&mut self.after_carriage_return, false);
        if byte == b'\n' && after_carriage_return {
            // The second half of CR LF: the line it ends has ended already
            // (and stays readable).
            return Edit::Continue;
        }
        self.start_if_ended();
        if self.swallowed_by_escape(byte) {
            return Edit::Continue;
        }
        match byte {
            b'\r' => {
                self.after_carriage_return = true;
                self.end()
            }
            b'\n' => self.end(),
            BACKSPACE | DELETE => {
                if self.overflow > 0 {
                    self.overflow -= 1;
                } else {
                    self.length = self.length.saturating_sub(1);
                }
                Edit::Continue
            }
            KILL_LINE => {
                self.clear();
                Edit::Continue
            }
            CANCEL => {
                self.ended = true;
                Edit::Cancelled
            }
            ESCAPE => {
                self.escape = Escape::Started;
                Edit::Continue
            }
            b'\t' => self.type_character(b' '),
            b' '..=b'~' => self.type_character(byte),
            _ => {
                self.not_text += 1;
                Edit::Continue
            }
        }
    }

    /// Whether `byte` belongs to an escape sequence in progress (and so is
    /// swallowed). A byte that cannot continue the sequence ends it and is
    /// then read as usual.
    fn swallowed_by_escape(&mut self, byte: u8) -> bool {
        match self.escape {
            Escape::None => false,
            Escape::Started => {
                self.escape = match byte {
                    b'[' => Escape::ControlSequence(0),
                    b'O' => Escape::SingleShift,
                    _ => Escape::None,
                };
                // `ESC x` (Alt-x) swallows a printable x; anything else ends the sequence.
                matches!(byte, b' '..=b'~')
            }
            Escape::ControlSequence(count) => match byte {
                0x20..=0x3f if count < LONGEST_ESCAPE => {
                    self.escape = Escape::ControlSequence(count + 1);
                    true
                }
                0x40..=0x7e => {
                    self.escape = Escape::None;
                    true
                }
                _ => {
                    // Not a key: too long, or a byte no sequence holds.
                    self.escape = Escape::None;
                    self.not_text += 1;
                    false
                }
            },
            Escape::SingleShift => {
                self.escape = Escape::None;
                matches!(byte, 0x40..=0x7e)
            }
        }
    }

    fn type_character(&mut self, character: u8) -> Edit {
        if self.length < N && self.overflow == 0 {
            self.buffer[self.length] = character;
            self.length += 1;
        } else {
            self.overflow += 1;
        }
        Edit::Continue
    }

    /// Enter: what the line comes to.
    fn end(&mut self) -> Edit {
        self.ended = true;
        self.escape = Escape::None;
        if self.lost {
            Edit::Lost
        } else if self.not_text > 0 {
            Edit::NotText {
                bytes: self.not_text,
            }
        } else if self.overflow > 0 {
            Edit::TooLong {
                length: self.typed(),
            }
        } else if self.line().trim().is_empty() {
            Edit::Empty
        } else {
            Edit::Line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Feeds `bytes` and returns every edit that ended a line, with the
    /// line for [`Edit::Line`].
    fn type_in<const N: usize>(
        editor: &mut LineEditor<N>,
        bytes: &[u8],
    ) -> Vec<(Edit, std::string::String)> {
        let mut ended = Vec::new();
        for &byte in bytes {
            let edit = editor.feed(byte);
            if edit.ends_line() {
                let line = if edit == Edit::Line {
                    editor.line().into()
                } else {
                    std::string::String::new()
                };
                ended.push((edit, line));
            }
        }
        ended
    }

    fn lines<const N: usize>(bytes: &[u8]) -> Vec<(Edit, std::string::String)> {
        type_in(&mut LineEditor::<N>::new(), bytes)
    }

    #[test]
    fn each_line_ending_ends_one_line() {
        let ended = lines::<32>(b"one\rtwo\nthree\r\nfour\n\r");
        assert_eq!(
            ended,
            [
                (Edit::Line, "one".into()),
                (Edit::Line, "two".into()),
                (Edit::Line, "three".into()),
                (Edit::Line, "four".into()),
                (Edit::Empty, "".into()),
            ]
        );
    }

    #[test]
    fn backspace_and_delete_erase_and_ctrl_u_clears() {
        assert_eq!(
            lines::<32>(b"ffa lisx\x08t\r"),
            [(Edit::Line, "ffa list".into())]
        );
        assert_eq!(
            lines::<32>(b"x\x7f\x7f\x7fhelp\r"),
            [(Edit::Line, "help".into())]
        );
        assert_eq!(
            lines::<32>(b"garbage\x15init\r"),
            [(Edit::Line, "init".into())]
        );
        assert_eq!(lines::<32>(b"  \t \r"), [(Edit::Empty, "".into())]);
    }

    #[test]
    fn ctrl_c_cancels_the_line() {
        assert_eq!(
            lines::<32>(b"reboot\x03help\r"),
            [(Edit::Cancelled, "".into()), (Edit::Line, "help".into())]
        );
    }

    #[test]
    fn escape_sequences_type_nothing() {
        // Up, down, right, left; F5; SS3 F1; Alt-x.
        let ended = lines::<32>(b"in\x1b[A\x1b[B\x1b[C\x1b[D\x1b[15~\x1bOP\x1bxit\r");
        assert_eq!(ended, [(Edit::Line, "init".into())]);
    }

    #[test]
    fn an_overlong_line_is_discarded_unless_erased_back_into_the_buffer() {
        assert_eq!(
            lines::<4>(b"abcdefg\rok\r"),
            [
                (Edit::TooLong { length: 7 }, "".into()),
                (Edit::Line, "ok".into())
            ]
        );
        assert_eq!(
            lines::<4>(b"abcdef\x7f\x7f\r"),
            [(Edit::Line, "abcd".into())]
        );
    }

    #[test]
    fn bytes_that_are_not_text_discard_their_line_only() {
        assert_eq!(
            lines::<16>(b"ver\x00\xffsion\rversion\r"),
            [
                (Edit::NotText { bytes: 2 }, "".into()),
                (Edit::Line, "version".into())
            ]
        );
        // A runaway escape sequence is garbage too.
        let mut runaway = b"\x1b[".to_vec();
        runaway.extend([b'1'; 40]);
        runaway.push(b'\r');
        assert_eq!(
            lines::<64>(&runaway)[0].0,
            Edit::NotText { bytes: 1 },
            "{runaway:?}"
        );
    }

    #[test]
    fn lost_input_discards_the_line_being_typed() {
        let mut editor = LineEditor::<16>::new();
        assert!(type_in(&mut editor, b"ffa pi").is_empty());
        editor.mark_lost();
        assert_eq!(
            type_in(&mut editor, b"ng 0x8001\rhelp\r"),
            [(Edit::Lost, "".into()), (Edit::Line, "help".into())]
        );
    }
}
