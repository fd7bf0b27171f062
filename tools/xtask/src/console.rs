//! `cargo xtask console DEVICE`: the kernel's defmt log from a serial
//! device, decoded as `cargo xtask run` decodes QEMU's serial 0, and the
//! terminal forwarded to the kernel console as `run` forwards it.
//!
//! A USB serial adapter wired to a Raspberry Pi 4's UART0 (GPIO 14/15)
//! shows up as `/dev/ttyUSB0` (or `/dev/ttyACM0`). The console puts it in
//! raw mode at the baud rate (no echo, no line editing, no translation of
//! bytes: defmt frames are binary), reads until Ctrl-C, and decodes with
//! the kernel ELF built for the board; text between frames (the boot
//! firmware's, TF-A's) appears as `[serial0]` lines. When standard input
//! is a terminal it is put in raw mode too and every key goes to the
//! device as typed, with the local echo of [`crate::terminal`] (the kernel
//! cannot echo: its output is defmt frames); Ctrl-C quits.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::arguments::ConsoleOptions;
use crate::build;
use crate::error::{Context, Error, Result};
use crate::interrupt::{self, InterruptGuard};
use crate::logs::{KernelLogFormat, LogLine};
use crate::terminal::{self, KeyAction, RawMode, Screen};
use crate::workspace::Workspace;

/// How long one read waits before checking for Ctrl-C, in milliseconds.
const POLL_INTERVAL_MS: i32 = 100;

/// The termios speed constant of a baud rate.
pub fn speed(baud: u32) -> Result<libc::speed_t> {
    Ok(match baud {
        9_600 => libc::B9600,
        19_200 => libc::B19200,
        38_400 => libc::B38400,
        57_600 => libc::B57600,
        115_200 => libc::B115200,
        230_400 => libc::B230400,
        460_800 => libc::B460800,
        921_600 => libc::B921600,
        other => {
            return Err(Error::new(format!(
                "unsupported baud rate {other} (9600 to 921600, standard rates)"
            )))
        }
    })
}

/// Opens `device` for reading, raw, at `baud`, without becoming its
/// controlling terminal.
pub fn open_raw(device: &Path, baud: u32) -> Result<File> {
    let speed = speed(baud)?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(device)
        .with_context(|| format!("cannot open {}", device.display()))?;
    let descriptor = file.as_raw_fd();
    // SAFETY: `termios` is plain data; tcgetattr fills it for an open
    // descriptor, and the calls below only read and write that structure
    // and the terminal's settings.
    let result = unsafe {
        let mut settings: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(descriptor, &mut settings) != 0 {
            -1
        } else {
            libc::cfmakeraw(&mut settings);
            settings.c_cflag |= libc::CLOCAL | libc::CREAD;
            settings.c_cflag &= !(libc::CSTOPB | libc::CRTSCTS);
            if libc::cfsetispeed(&mut settings, speed) != 0
                || libc::cfsetospeed(&mut settings, speed) != 0
            {
                -1
            } else {
                libc::tcsetattr(descriptor, libc::TCSANOW, &settings)
            }
        }
    };
    if result != 0 {
        return Err(Error::new(format!(
            "cannot set {} to raw {baud} baud: {} (is it a serial device?)",
            device.display(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(file)
}

/// Whether `file` has bytes to read within the poll interval.
fn readable(file: &File) -> Result<bool> {
    let mut poll = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid `pollfd` for an open descriptor.
    let ready = unsafe { libc::poll(&mut poll, 1, POLL_INTERVAL_MS) };
    match ready {
        0 => Ok(false),
        count if count > 0 => Ok(poll.revents & (libc::POLLIN | libc::POLLHUP) != 0),
        _ => {
            let error = std::io::Error::last_os_error();
            if error.kind() == std::io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(error.into())
            }
        }
    }
}

/// Reads `device` (already raw) and passes each decoded line to `output`
/// until `stop` is set or the device closes.
pub fn decode_from(
    mut device: File,
    format: &KernelLogFormat,
    stop: &AtomicBool,
    output: &mut dyn FnMut(String),
) -> Result<()> {
    let mut decoder = format.decoder();
    let mut send = |line: LogLine| output(line.text);
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::Acquire) {
        if !readable(&device)? {
            continue;
        }
        match device.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => decoder.feed(&buffer[..count], &mut send),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            // A pty whose other side closed reports EIO: the device is gone.
            Err(error) if error.raw_os_error() == Some(libc::EIO) => break,
            Err(error) => return Err(error.into()),
        }
    }
    decoder.finish(&mut send);
    Ok(())
}

/// Sends typed `bytes` to `device` (through the local echo on `screen`,
/// if any); returns whether to carry on (false: Ctrl-C, or the device is
/// gone).
pub fn forward_keys(bytes: &[u8], screen: Option<&mut Screen>, device: &mut impl Write) -> bool {
    let action = match screen {
        Some(screen) => screen.keys(bytes),
        None if bytes.contains(&terminal::CTRL_C) => KeyAction::Interrupt,
        None => KeyAction::Forward(bytes.to_vec()),
    };
    match action {
        KeyAction::Forward(bytes) => device
            .write_all(&bytes)
            .and_then(|()| device.flush())
            .is_ok(),
        KeyAction::Interrupt => false,
    }
}

/// `cargo xtask console`.
pub fn command(workspace: &Workspace, options: &ConsoleOptions) -> Result<()> {
    let elf = build::build_board(workspace, options.board, &options.features)?;
    let format = KernelLogFormat::load(&elf, &workspace.root)?;
    let device = open_raw(&options.device, options.baud)?;
    let mut writer = device
        .try_clone()
        .with_context(|| format!("cannot write to {}", options.device.display()))?;
    let typing = terminal::stdin_is_terminal();
    eprintln!(
        "decoding the {} kernel's log from {} at {} baud (8N1, raw){}; Ctrl-C quits",
        options.board.name(),
        options.device.display(),
        options.baud,
        if typing {
            "; keys go to the kernel console"
        } else {
            ""
        }
    );
    let _guard = InterruptGuard::install();
    // Raw mode while the console runs; restored when this returns or unwinds.
    let raw_mode = if typing { RawMode::enable() } else { None };
    let mut screen = raw_mode.is_some().then(Screen::default);
    let stop = AtomicBool::new(false);
    let (line_sender, lines) = mpsc::channel::<String>();
    let (key_sender, keys) = mpsc::channel::<Vec<u8>>();
    let result = std::thread::scope(|scope| {
        let stop = &stop;
        let format = &format;
        let reader = scope.spawn(move || {
            let result = decode_from(device, format, stop, &mut |line| {
                let _ = line_sender.send(line);
            });
            stop.store(true, Ordering::Release);
            result
        });
        if raw_mode.is_some() {
            scope.spawn(move || terminal::read_keys(stop, &key_sender));
        } else {
            drop(key_sender);
        }
        while !stop.load(Ordering::Acquire) {
            if interrupt::take_interrupt() {
                break;
            }
            while let Ok(bytes) = keys.try_recv() {
                if !forward_keys(&bytes, screen.as_mut(), &mut writer) {
                    stop.store(true, Ordering::Release);
                }
            }
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(20)) {
                show(screen.as_mut(), &line);
            }
        }
        stop.store(true, Ordering::Release);
        let result = reader
            .join()
            .unwrap_or_else(|_| Err(Error::new("the reader panicked")));
        for line in lines.try_iter() {
            show(screen.as_mut(), &line);
        }
        result
    });
    if let Some(screen) = screen.as_mut() {
        screen.finish();
    }
    drop(raw_mode);
    result
}

/// Prints a decoded line (above the local echo, if the terminal has one).
fn show(screen: Option<&mut Screen>, line: &str) {
    match screen {
        Some(screen) => screen.line(line),
        None => println!("{line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support;
    use std::ffi::CStr;
    use std::io::Write;
    use std::os::fd::FromRawFd;
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A pseudo-terminal pair: the master (what the Pi's UART would be) and
    /// the path of the slave (what `/dev/ttyUSB0` would be).
    fn pty_pair() -> (File, PathBuf) {
        // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a fresh
        // descriptor, with a buffer large enough for the name.
        unsafe {
            let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(
                master >= 0,
                "posix_openpt: {}",
                std::io::Error::last_os_error()
            );
            assert_eq!(libc::grantpt(master), 0);
            assert_eq!(libc::unlockpt(master), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
            let path = CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
            (File::from_raw_fd(master), PathBuf::from(path))
        }
    }

    #[test]
    fn decodes_frames_written_to_the_other_end_of_a_pty() {
        let (mut uart, device_path) = pty_pair();
        let device = open_raw(&device_path, 115_200).unwrap();
        let format = test_support::format();
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|scope| {
            let stop = &stop;
            let format = &format;
            let reader = scope.spawn(move || {
                decode_from(device, format, stop, &mut |line| {
                    let _ = sender.send(line);
                })
            });
            // Boot firmware text first, then two frames (one with bytes that a
            // cooked terminal would mangle: 0x0d, 0x03, 0x11), split mid-frame.
            let mut bytes = b"Raspberry Pi 4 firmware\r\n".to_vec();
            bytes.extend(test_support::frame(1, &[]));
            bytes.extend(test_support::frame(2, &[0x0d, 0x03, 0x11, 0x00]));
            let (first, second) = bytes.split_at(bytes.len() - 3);
            uart.write_all(first).unwrap();
            uart.flush().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            uart.write_all(second).unwrap();
            let mut lines = Vec::new();
            while lines.len() < 3 {
                lines.push(receiver.recv_timeout(Duration::from_secs(10)).unwrap());
            }
            stop.store(true, Ordering::Release);
            reader.join().unwrap().unwrap();
            assert_eq!(lines[0], "[serial0] Raspberry Pi 4 firmware");
            assert!(lines[1].starts_with("[kernel] INFO main loop"), "{lines:?}");
            assert!(
                lines[2].starts_with("[kernel] WARN retrying after 1114893 calls"),
                "{lines:?}"
            );
        });
    }

    #[test]
    fn keys_reach_the_device_and_ctrl_c_stops() {
        let (mut uart, device_path) = pty_pair();
        let mut device = open_raw(&device_path, 115_200).unwrap();
        assert!(forward_keys(b"ffa list\r", None, &mut device));
        let mut screen = Screen::default();
        assert!(forward_keys(b"init\r", Some(&mut screen), &mut device));
        assert!(!forward_keys(b"\x03", None, &mut device));
        assert!(!forward_keys(b"x\x03", Some(&mut screen), &mut device));
        let mut received = Vec::new();
        let mut buffer = [0u8; 64];
        while received.len() < 14 {
            let count = uart.read(&mut buffer).unwrap();
            received.extend_from_slice(&buffer[..count]);
        }
        assert_eq!(received, b"ffa list\rinit\r");
    }

    #[test]
    fn the_device_is_raw() {
        let (_uart, device_path) = pty_pair();
        let device = open_raw(&device_path, 9_600).unwrap();
        // SAFETY: tcgetattr into a zeroed termios for an open descriptor.
        let settings = unsafe {
            let mut settings: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(device.as_raw_fd(), &mut settings), 0);
            settings
        };
        assert_eq!(
            settings.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG),
            0
        );
        assert_eq!(settings.c_iflag & (libc::ICRNL | libc::IXON), 0);
        // SAFETY: reads the speed out of the structure.
        assert_eq!(unsafe { libc::cfgetispeed(&settings) }, libc::B9600);
    }

    #[test]
    fn bad_devices_and_rates_are_clear_errors() {
        assert!(speed(115_200).is_ok());
        assert!(speed(12_345).is_err());
        let missing = open_raw(Path::new("/nonexistent/ttyUSB9"), 115_200).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/ttyUSB9"));
        let not_a_tty = open_raw(Path::new("/dev/null"), 115_200).unwrap_err();
        assert!(
            not_a_tty.to_string().contains("serial device"),
            "{not_a_tty}"
        );
    }
}
