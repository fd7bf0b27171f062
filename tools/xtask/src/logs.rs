//! Log display: decodes the kernel's defmt frames and tails the secure world's text log.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use defmt_decoder::{DecodeError, Frame, Locations, StreamDecoder, Table};

use crate::error::{Context, Error, Result};

/// Prefix of kernel log lines (serial 0, defmt).
pub const KERNEL_PREFIX: &str = "[kernel]";
/// Prefix of secure-world log lines (serial 1, plain text).
pub const SECURE_PREFIX: &str = "[secure]";
/// Prefix of lines QEMU wrote to its standard error.
pub const QEMU_PREFIX: &str = "[qemu]";
/// Prefix of plain text found on serial 0 before the first defmt frame.
pub const SERIAL_TEXT_PREFIX: &str = "[serial0]";
/// Start of the line logged when a defmt frame cannot be decoded.
pub const MALFORMED_FRAME_WARNING: &str = "[xtask] warning: malformed defmt frame";

/// How often the secure log file is polled for new text.
const TAIL_INTERVAL: Duration = Duration::from_millis(2);

/// One line of the decoded log, with the kernel's timestamp when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The line as shown (`[kernel] INFO message (file:line)`, `[secure] ...`).
    pub text: String,
    /// The defmt timestamp of a kernel frame, in microseconds since the
    /// generic counter started (none for other lines).
    pub timestamp_us: Option<u64>,
}

impl LogLine {
    /// A line without a timestamp (secure world, QEMU, xtask, firmware text).
    pub fn untimed(text: String) -> LogLine {
        LogLine {
            text,
            timestamp_us: None,
        }
    }
}

/// Microseconds from a defmt timestamp shown as `seconds.micros`
/// (the `{=u64:us}` display hint), or a bare number of microseconds.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    match text.split_once('.') {
        Some((seconds, fraction)) => {
            let seconds: u64 = seconds.trim().parse().ok()?;
            if fraction.is_empty() || fraction.len() > 6 {
                return None;
            }
            let padded = format!("{fraction:0<6}");
            let micros: u64 = padded.parse().ok()?;
            seconds.checked_mul(1_000_000)?.checked_add(micros)
        }
        None => text.trim().parse().ok(),
    }
}

/// The kernel ELF's defmt table and the source locations of its log statements.
pub struct KernelLogFormat {
    table: Table,
    locations: Locations,
    workspace_root: PathBuf,
}

impl KernelLogFormat {
    /// Reads the defmt table (and locations, if the ELF has debug info) from the kernel ELF.
    pub fn load(elf_path: &Path, workspace_root: &Path) -> Result<Self> {
        let elf = std::fs::read(elf_path)
            .with_context(|| format!("cannot read {}", elf_path.display()))?;
        Self::parse(&elf, workspace_root)
            .map_err(|error| error.context(format!("kernel ELF {}", elf_path.display())))
    }

    /// Reads the defmt table and locations from ELF file contents.
    pub fn parse(elf: &[u8], workspace_root: &Path) -> Result<Self> {
        let table = Table::parse(elf)
            .context("cannot read the defmt table")?
            .ok_or_else(|| Error::new("no .defmt section: is the kernel built with defmt?"))?;
        let locations = table.get_locations(elf).unwrap_or_else(|error| {
            eprintln!("warning: no source locations for the kernel log: {error}");
            Locations::new()
        });
        Ok(Self::from_table(table, locations, workspace_root))
    }

    /// Wraps an already parsed table.
    pub fn from_table(table: Table, locations: Locations, workspace_root: &Path) -> Self {
        Self {
            table,
            locations,
            workspace_root: workspace_root.to_path_buf(),
        }
    }

    /// A decoder for one serial byte stream.
    pub fn decoder(&self) -> KernelLogDecoder<'_> {
        KernelLogDecoder {
            format: self,
            stream: self.table.new_stream_decoder(),
            pending: Vec::new(),
            framed: self.table.encoding().can_recover(),
            seen_frame: false,
        }
    }

    /// `[kernel] LEVEL message (file:line)` for a log frame; `[kernel]
    /// message` for console output (`defmt::println!`: no level, and no
    /// location, which would say nothing to a console user).
    fn format_frame(&self, frame: &Frame<'_>) -> LogLine {
        let mut line = String::from(KERNEL_PREFIX);
        if let Some(level) = frame.level() {
            line.push(' ');
            line.push_str(&level.as_str().to_uppercase());
        }
        line.push(' ');
        // Multi-line messages (a panic's, for example) keep the prefix on every line.
        let message = frame.display_message().to_string();
        line.push_str(&message.replace('\n', &format!("\n{KERNEL_PREFIX}   ")));
        let location = frame
            .level()
            .and_then(|_| self.locations.get(&frame.index()));
        if let Some(location) = location {
            let file = location
                .file
                .strip_prefix(&self.workspace_root)
                .unwrap_or(&location.file);
            line.push_str(&format!(" ({}:{})", file.display(), location.line));
        }
        LogLine {
            text: line,
            timestamp_us: frame
                .display_timestamp()
                .and_then(|timestamp| parse_timestamp(&timestamp.to_string())),
        }
    }
}

/// Turns the kernel's serial bytes into log lines, resynchronising after bad frames.
pub struct KernelLogDecoder<'a> {
    format: &'a KernelLogFormat,
    stream: Box<dyn StreamDecoder + Send + Sync + 'a>,
    /// Bytes of the frame being received (rzCOBS: up to the next zero byte).
    pending: Vec<u8>,
    /// Whether frames are zero-delimited (rzCOBS) and so handled one at a time.
    framed: bool,
    /// Whether a frame has been decoded yet; before that, text is expected noise.
    seen_frame: bool,
}

impl KernelLogDecoder<'_> {
    /// Feeds received bytes and passes every completed line to `output`.
    pub fn feed(&mut self, bytes: &[u8], output: &mut impl FnMut(LogLine)) {
        if !self.framed {
            self.stream.received(bytes);
            self.drain_stream(output);
            return;
        }
        for &byte in bytes {
            if byte == 0 {
                let frame = std::mem::take(&mut self.pending);
                if !frame.is_empty() {
                    self.decode_frame(&frame, output);
                }
            } else {
                self.pending.push(byte);
            }
        }
    }

    /// Reports bytes of a frame that never ended; call when the stream closes.
    pub fn finish(&mut self, output: &mut impl FnMut(LogLine)) {
        if !self.pending.is_empty() {
            let length = self.pending.len();
            let pending = std::mem::take(&mut self.pending);
            if looks_like_firmware_text(&pending) {
                // Firmware text after the last frame (TF-A's power-off
                // message), its last line perhaps cut off by QEMU stopping.
                output_text(&pending, output);
                return;
            }
            if self.seen_frame {
                output(LogLine::untimed(format!(
                    "{MALFORMED_FRAME_WARNING}: {length} bytes at the end of the stream without a frame end"
                )));
            } else {
                output(LogLine::untimed(format!(
                    "{SERIAL_TEXT_PREFIX} (ignored {length} bytes that are not defmt frames)"
                )));
            }
        }
    }

    /// Decodes one zero-delimited rzCOBS frame.
    fn decode_frame(&mut self, frame: &[u8], output: &mut impl FnMut(LogLine)) {
        if let Some(line) = self.try_decode(frame) {
            self.seen_frame = true;
            output(line);
            return;
        }
        if !self.seen_frame {
            // Plain text before the first frame (a boot loader's banner, for
            // example) runs into the first frame: show the text and try the
            // bytes after its last line break as a frame.
            if let Some(newline) = frame.iter().rposition(|&byte| byte == b'\n') {
                let (text, rest) = frame.split_at(newline + 1);
                for text_line in String::from_utf8_lossy(text).lines() {
                    let text_line = text_line.trim_end_matches('\r');
                    if !text_line.is_empty() {
                        output(LogLine::untimed(format!(
                            "{SERIAL_TEXT_PREFIX} {text_line}"
                        )));
                    }
                }
                if !rest.is_empty() {
                    self.decode_frame(rest, output);
                }
                return;
            }
            output(LogLine::untimed(format!(
                "{SERIAL_TEXT_PREFIX} (ignored {} bytes before the first defmt frame)",
                frame.len()
            )));
            return;
        }
        // Firmware text between frames (TF-A prints on this UART while the
        // kernel is in an SMC) runs into the next frame: show the text lines
        // and decode what follows them.
        if let Some(split) = self.split_text_prefix(frame) {
            let (text, rest) = frame.split_at(split);
            output_text(text, output);
            if let Some(line) = self.try_decode(rest) {
                output(line);
                return;
            }
        }
        output(LogLine::untimed(format!(
            "{MALFORMED_FRAME_WARNING} ({} bytes) skipped: {}",
            frame.len(),
            hex_preview(frame)
        )));
    }

    /// The length of the shortest run of whole text lines at the start of
    /// `frame` after which the rest decodes as a frame, if any.
    fn split_text_prefix(&mut self, frame: &[u8]) -> Option<usize> {
        frame
            .iter()
            .enumerate()
            .filter(|(_, &byte)| byte == b'\n')
            .map(|(index, _)| index + 1)
            .take_while(|&end| is_text(&frame[..end]))
            .find(|&end| end < frame.len() && self.try_decode(&frame[end..]).is_some())
    }

    /// The formatted frame, or `None` if the bytes are not a valid frame.
    fn try_decode(&mut self, frame: &[u8]) -> Option<LogLine> {
        self.stream.received(frame);
        self.stream.received(&[0]);
        match self.stream.decode() {
            Ok(frame) => Some(self.format.format_frame(&frame)),
            Err(_) => None,
        }
    }

    /// Decodes what the stream decoder holds (raw encoding, no resynchronisation).
    fn drain_stream(&mut self, output: &mut impl FnMut(LogLine)) {
        loop {
            match self.stream.decode() {
                Ok(frame) => output(self.format.format_frame(&frame)),
                Err(DecodeError::UnexpectedEof) => return,
                Err(DecodeError::Malformed) => {
                    output(LogLine::untimed(format!(
                        "{MALFORMED_FRAME_WARNING}: raw encoding cannot resynchronise, rest of the log lost"
                    )));
                    self.framed = true; // Stop feeding the stream decoder.
                    self.seen_frame = true;
                    self.pending.clear();
                    return;
                }
            }
        }
    }
}

/// Whether `bytes` look like firmware text: printable ASCII, tabs and line breaks.
fn is_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&byte| matches!(byte, b' '..=b'~' | b'\t' | b'\r' | b'\n'))
}

/// Whether the bytes left at the end of the stream are firmware text rather
/// than a frame cut short: printable, and either a whole line (with a line
/// break) or words (8 bytes or more with a space), which rzCOBS frames of
/// the kernel's log essentially never are.
fn looks_like_firmware_text(bytes: &[u8]) -> bool {
    is_text(bytes) && (bytes.contains(&b'\n') || (bytes.len() >= 8 && bytes.contains(&b' ')))
}

/// Passes each non-empty line of `text` to `output` as a `[serial0]` line.
fn output_text(text: &[u8], output: &mut impl FnMut(LogLine)) {
    for line in String::from_utf8_lossy(text).lines() {
        let line = line.trim_end_matches('\r');
        if !line.is_empty() {
            output(LogLine::untimed(format!("{SERIAL_TEXT_PREFIX} {line}")));
        }
    }
}

/// The first bytes of a frame in hex, for warnings.
fn hex_preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 16;
    let mut text: Vec<String> = bytes
        .iter()
        .take(SHOWN)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if bytes.len() > SHOWN {
        text.push("..".to_string());
    }
    text.join(" ")
}

/// Splits a growing text stream into lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Adds bytes; passes every completed line (without its line break) to `output`.
    pub fn feed(&mut self, bytes: &[u8], output: &mut impl FnMut(String)) {
        for &byte in bytes {
            if byte == b'\n' {
                let line = std::mem::take(&mut self.partial);
                output(Self::text(&line));
            } else {
                self.partial.push(byte);
            }
        }
    }

    /// Passes an unfinished last line, if any, to `output`.
    pub fn finish(&mut self, output: &mut impl FnMut(String)) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            output(Self::text(&line));
        }
    }

    fn text(line: &[u8]) -> String {
        String::from_utf8_lossy(line)
            .trim_end_matches('\r')
            .to_string()
    }
}

/// Follows a file that another process appends to (`tail -f`), line by line.
///
/// Runs until `stop` is set, then reads what is left and returns. The file
/// may appear only after the tail starts.
pub fn tail_file(path: &Path, prefix: &str, stop: &AtomicBool, output: &mut impl FnMut(String)) {
    let mut splitter = LineSplitter::default();
    let mut prefixed = |line: String| output(format!("{prefix} {line}"));
    let mut file: Option<File> = None;
    let mut buffer = [0u8; 4096];
    loop {
        // Read the stop flag before reading, so nothing written before it was set is missed.
        let stopping = stop.load(Ordering::Acquire);
        if file.is_none() {
            file = File::open(path).ok();
        }
        if let Some(open) = file.as_mut() {
            loop {
                match open.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(count) => splitter.feed(&buffer[..count], &mut prefixed),
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(error) => {
                        prefixed(format!("(cannot read {}: {error})", path.display()));
                        break;
                    }
                }
            }
        }
        if stopping {
            splitter.finish(&mut prefixed);
            return;
        }
        std::thread::sleep(TAIL_INTERVAL);
    }
}

/// Helpers shared by the tests of this module and of `qemu`.
#[cfg(test)]
pub mod test_support {
    use super::*;

    /// rzCOBS-encodes one frame and appends the zero delimiter (the inverse of
    /// the decoder in defmt-decoder; defmt's encoder lives on the target).
    pub fn rzcobs_encode(message: &[u8]) -> Vec<u8> {
        let mut encoded = Vec::new();
        let mut position = 0;
        while position < message.len() {
            let group: Vec<u8> = (0..7)
                .map(|index| message.get(position + index).copied().unwrap_or(0))
                .collect();
            if group.contains(&0) {
                // Seven bytes: the non-zero ones, then a bit mask of the zeros.
                let mut mask = 0u8;
                for (index, &byte) in group.iter().enumerate() {
                    if byte == 0 {
                        mask |= 1 << index;
                    } else {
                        encoded.push(byte);
                    }
                }
                encoded.push(mask);
                position += 7;
                continue;
            }
            let run = message[position..]
                .iter()
                .take_while(|&&byte| byte != 0)
                .count();
            if run >= 134 {
                encoded.extend_from_slice(&message[position..position + 134]);
                encoded.push(0xff);
                position += 134;
            } else {
                // 7..=133 non-zero bytes followed by a zero (or the end).
                encoded.extend_from_slice(&message[position..position + run]);
                encoded.push(0x80 | (run - 7) as u8);
                position += run + 1;
            }
        }
        encoded.push(0);
        encoded
    }

    /// A defmt table with a few log statements, as `Table::parse` would build it.
    pub fn table() -> Table {
        serde_json::from_value(serde_json::json!({
            "timestamp": null,
            "entries": {
                "1": {"string": {"tag": "Info", "string": "main loop"}, "raw_symbol": "a"},
                "2": {"string": {"tag": "Warn", "string": "retrying after {=u32} calls"},
                      "raw_symbol": "b"},
                "3": {"string": {"tag": "Println", "string": "init queue settled"},
                      "raw_symbol": "c"},
                "4": {"string": {"tag": "Error", "string": "{=str}"}, "raw_symbol": "d"},
                "5": {"string": {"tag": "Error", "string": "panicked at a.rs:1:2:\nreason"},
                      "raw_symbol": "e"},
                "6": {"string": {"tag": "Println", "string": "console: ready"},
                      "raw_symbol": "f"},
                "7": {"string": {"tag": "Info", "string": "boot: init queue settled"},
                      "raw_symbol": "g"}
            },
            "bitflags": {},
            "encoding": "Rzcobs"
        }))
        .unwrap()
    }

    pub fn format() -> KernelLogFormat {
        KernelLogFormat::from_table(table(), locations(), Path::new("/work/main"))
    }

    /// Where log statement 1 and console output 3 are.
    fn locations() -> Locations {
        let mut locations = Locations::new();
        for (index, file, line) in [
            (1, "/work/main/kernel/src/main_loop.rs", 42),
            (3, "/work/main/capsules/console/src/console.rs", 7),
        ] {
            locations.insert(
                index,
                defmt_decoder::Location {
                    file: PathBuf::from(file),
                    line,
                    module: "kernel::main_loop".to_string(),
                },
            );
        }
        locations
    }

    /// [`format`] with the kernel's timestamp (`{=u64:us}`): each frame
    /// carries eight bytes of microseconds after its index.
    pub fn timed_format() -> KernelLogFormat {
        let mut json = serde_json::to_value(table()).unwrap();
        json["timestamp"] = serde_json::json!(
            {"string": {"tag": "Timestamp", "string": "{=u64:us}"}, "raw_symbol": "t"}
        );
        let table: Table = serde_json::from_value(json).unwrap();
        KernelLogFormat::from_table(table, locations(), Path::new("/work/main"))
    }

    /// A frame of [`timed_format`]: index, timestamp, arguments.
    pub fn timed_frame(index: u16, microseconds: u64, arguments: &[u8]) -> Vec<u8> {
        let mut message = index.to_le_bytes().to_vec();
        message.extend_from_slice(&microseconds.to_le_bytes());
        message.extend_from_slice(arguments);
        rzcobs_encode(&message)
    }

    /// A frame: 16-bit index, then the arguments.
    pub fn frame(index: u16, arguments: &[u8]) -> Vec<u8> {
        let mut message = index.to_le_bytes().to_vec();
        message.extend_from_slice(arguments);
        rzcobs_encode(&message)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    fn decode_all(format: &KernelLogFormat, bytes: &[u8]) -> Vec<String> {
        let mut decoder = format.decoder();
        let mut lines = Vec::new();
        decoder.feed(bytes, &mut |line| lines.push(line.text));
        decoder.finish(&mut |line| lines.push(line.text));
        lines
    }

    #[test]
    fn encoder_round_trips_long_runs() {
        // A long string argument exercises all three rzCOBS group kinds.
        let text = "x".repeat(300);
        let mut arguments = (text.len() as u32).to_le_bytes().to_vec();
        arguments.extend_from_slice(text.as_bytes());
        let lines = decode_all(&format(), &frame(4, &arguments));
        assert_eq!(lines, [format!("[kernel] ERROR {text}")]);
    }

    #[test]
    fn formats_level_message_and_location() {
        let mut stream = frame(1, &[]);
        stream.extend(frame(2, &7u32.to_le_bytes()));
        stream.extend(frame(3, &[]));
        assert_eq!(
            decode_all(&format(), &stream),
            [
                "[kernel] INFO main loop (kernel/src/main_loop.rs:42)",
                "[kernel] WARN retrying after 7 calls",
                "[kernel] init queue settled",
            ]
        );
    }

    #[test]
    fn timestamps_come_with_kernel_lines_and_console_output_has_no_location() {
        let mut stream = timed_frame(1, 1_234_567, &[]);
        stream.extend(timed_frame(3, 2_000_001, &[]));
        let format = timed_format();
        let mut decoder = format.decoder();
        let mut lines = Vec::new();
        decoder.feed(&stream, &mut |line| lines.push(line));
        assert_eq!(
            lines,
            [
                LogLine {
                    text: "[kernel] INFO main loop (kernel/src/main_loop.rs:42)".into(),
                    timestamp_us: Some(1_234_567)
                },
                LogLine {
                    text: "[kernel] init queue settled".into(),
                    timestamp_us: Some(2_000_001)
                },
            ]
        );
    }

    #[test]
    fn timestamps_parse_from_seconds_or_microseconds() {
        assert_eq!(parse_timestamp("1.234567"), Some(1_234_567));
        assert_eq!(parse_timestamp("0.5"), Some(500_000));
        assert_eq!(parse_timestamp("42"), Some(42));
        assert_eq!(parse_timestamp("1.2345678"), None);
        assert_eq!(parse_timestamp("x.1"), None);
        assert_eq!(parse_timestamp("1."), None);
    }

    #[test]
    fn multi_line_messages_keep_the_prefix() {
        assert_eq!(
            decode_all(&format(), &frame(5, &[])),
            ["[kernel] ERROR panicked at a.rs:1:2:\n[kernel]   reason"]
        );
    }

    #[test]
    fn frames_split_across_reads_are_joined() {
        let format = format();
        let stream = frame(2, &258u32.to_le_bytes());
        let mut decoder = format.decoder();
        let mut lines = Vec::new();
        for byte in &stream {
            decoder.feed(std::slice::from_ref(byte), &mut |line| {
                lines.push(line.text)
            });
        }
        assert_eq!(lines, ["[kernel] WARN retrying after 258 calls"]);
    }

    #[test]
    fn malformed_frames_warn_and_resynchronise() {
        let mut stream = frame(1, &[]);
        stream.extend_from_slice(&[0x13, 0x37, 0x42, 0x00]); // Garbage.
        stream.extend(frame(99, &[])); // Unknown index.
        stream.extend(frame(3, &[]));
        let lines = decode_all(&format(), &stream);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[1].starts_with(MALFORMED_FRAME_WARNING));
        assert!(lines[2].starts_with(MALFORMED_FRAME_WARNING));
        assert_eq!(lines[3], "[kernel] init queue settled");
    }

    #[test]
    fn text_before_the_first_frame_is_shown_as_text() {
        let mut stream = b"NOTICE:  Booting Trusted Firmware\r\nNOTICE:  BL31\r\n".to_vec();
        stream.extend(frame(1, &[]));
        let lines = decode_all(&format(), &stream);
        assert_eq!(
            lines,
            [
                "[serial0] NOTICE:  Booting Trusted Firmware",
                "[serial0] NOTICE:  BL31",
                "[kernel] INFO main loop (kernel/src/main_loop.rs:42)",
            ]
        );
    }

    #[test]
    fn firmware_text_between_and_after_frames_is_shown_as_text() {
        let mut stream = frame(1, &[]);
        stream.extend_from_slice(b"ERROR:   Unknown partition ID (0x8003).\r\nNOTICE:  x\r\n");
        stream.extend(frame(3, &[]));
        stream.extend_from_slice(b"ERROR:   QEMU System Power off: with GPIO.\r\n");
        let lines = decode_all(&format(), &stream);
        assert_eq!(
            lines,
            [
                "[kernel] INFO main loop (kernel/src/main_loop.rs:42)",
                "[serial0] ERROR:   Unknown partition ID (0x8003).",
                "[serial0] NOTICE:  x",
                "[kernel] init queue settled",
                "[serial0] ERROR:   QEMU System Power off: with GPIO.",
            ]
        );
    }

    #[test]
    fn firmware_text_cut_off_at_power_off_is_shown_as_text() {
        // TF-A prints on power-off after the kernel's last frame; QEMU may
        // stop before the line ends.
        let mut stream = frame(3, &[]);
        stream.extend_from_slice(
            b"ERROR:   QEMU System Power off: with GPIO.\r\nPANIC at PC : 0x0000",
        );
        let lines = decode_all(&format(), &stream);
        assert_eq!(
            lines,
            [
                "[kernel] init queue settled",
                "[serial0] ERROR:   QEMU System Power off: with GPIO.",
                "[serial0] PANIC at PC : 0x0000",
            ]
        );
        assert!(lines
            .iter()
            .all(|line| !line.contains(MALFORMED_FRAME_WARNING)));
        // Only a cut-off line, no line break at all.
        let mut stream = frame(3, &[]);
        stream.extend_from_slice(b"PANIC at PC : 0x0000");
        assert_eq!(
            decode_all(&format(), &stream)[1],
            "[serial0] PANIC at PC : 0x0000"
        );
    }

    #[test]
    fn text_followed_by_garbage_is_still_a_malformed_frame() {
        let mut stream = frame(1, &[]);
        stream.extend_from_slice(b"text\n\x13\x37\x00");
        let lines = decode_all(&format(), &stream);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].starts_with(MALFORMED_FRAME_WARNING));
    }

    #[test]
    fn an_unfinished_frame_is_reported_at_the_end() {
        let mut stream = frame(1, &[]);
        stream.extend_from_slice(&[0x21, 0x22]);
        let lines = decode_all(&format(), &stream);
        assert!(lines[1].starts_with(MALFORMED_FRAME_WARNING), "{lines:?}");
    }

    #[test]
    fn splits_lines_and_keeps_the_unfinished_one_for_the_end() {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        splitter.feed(b"one\r\ntw", &mut |line| lines.push(line));
        splitter.feed(b"o\nthree", &mut |line| lines.push(line));
        assert_eq!(lines, ["one", "two"]);
        splitter.finish(&mut |line| lines.push(line));
        assert_eq!(lines, ["one", "two", "three"]);
    }

    #[test]
    fn tails_a_file_until_stopped() {
        let directory = std::env::temp_dir().join(format!("xtask-tail-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("secure.log");
        let _ = std::fs::remove_file(&path);
        let stop = AtomicBool::new(false);
        let mut lines = Vec::new();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::fs::write(&path, "first\nsecond").unwrap();
                std::thread::sleep(Duration::from_millis(50));
                stop.store(true, Ordering::Release);
            });
            tail_file(&path, SECURE_PREFIX, &stop, &mut |line| lines.push(line));
        });
        assert_eq!(lines, ["[secure] first", "[secure] second"]);
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
