//! QEMU: the command lines for the `virt` and `raspi4b` machines and a supervised boot that collects the decoded log.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Context, Result};
use crate::interrupt::{self, InterruptGuard};
use crate::logs::{self, KernelLogFormat, LogLine};
use crate::process;
use crate::script::{Action, Script, ScriptDriver};
use crate::setup::QEMU_PROGRAM;
use crate::terminal::{self, KeyAction, RawMode, Screen};

/// Physical address where QEMU loads the firmware configuration blob
/// (`ffa_model::FaultConfig::to_bytes()`); the test firmware reads it there.
/// It lies in non-secure RAM just below the kernel at 0x6000_0000.
pub const FIRMWARE_CONFIG_ADDRESS: u64 = 0x5FF0_0000;

/// How long QEMU may take to stop after Ctrl-C is passed on before it is killed.
const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// A QEMU run to supervise: the command, the kernel ELF whose defmt table
/// decodes serial 0, and the file serial 1 goes to.
pub trait Invocation {
    /// The QEMU program and its arguments.
    fn command(&self) -> Command;
    /// The kernel ELF (for its defmt table).
    fn kernel(&self) -> &Path;
    /// The file that receives serial 1.
    fn secure_log(&self) -> &Path;
}

/// What to boot on `virt` and where the second serial port's log goes.
#[derive(Debug, Clone)]
pub struct QemuInvocation {
    /// Raw flash image for `-bios`: the test firmware, or TF-A's `flash.bin`.
    pub bios: PathBuf,
    /// The kernel ELF, loaded by physical address through `-device loader`.
    pub kernel: PathBuf,
    /// The firmware configuration blob, loaded at [`FIRMWARE_CONFIG_ADDRESS`].
    pub config_blob: Option<PathBuf>,
    /// File that receives serial 1 (the secure UART).
    pub secure_log: PathBuf,
    /// Cores (`-smp`): with the test firmware every core starts in it, at EL3.
    pub cores: u8,
}

impl Invocation for QemuInvocation {
    fn command(&self) -> Command {
        let mut command = Command::new(QEMU_PROGRAM);
        command.args(self.arguments());
        command
    }

    fn kernel(&self) -> &Path {
        &self.kernel
    }

    fn secure_log(&self) -> &Path {
        &self.secure_log
    }
}

/// What to boot on `raspi4b` (QEMU ≥ 9.0, see [`crate::raspi_qemu`]).
#[derive(Debug, Clone)]
pub struct RaspiInvocation {
    /// The QEMU program that has `raspi4b`.
    pub program: PathBuf,
    /// The kernel ELF (decoding) — its raw image is [`Self::kernel_image`].
    pub kernel: PathBuf,
    /// `kernel8.img`: the raw image, loaded at 0x8_0000.
    pub kernel_image: PathBuf,
    /// The device tree handed to the kernel (or to TF-A), if any.
    pub device_tree: Option<PathBuf>,
    /// TF-A's `rpi4` BL31, its header already filled in as the Pi's
    /// firmware would: booted at 0 on every core, the kernel as BL33.
    pub tf_a: Option<PathBuf>,
    /// File that receives serial 1 (the mini UART; unused by the kernel).
    pub secure_log: PathBuf,
}

/// Where the device tree goes when TF-A boots (BL31 reads its address from
/// its header; it maps the DTB's 2 MiB region).
pub const RASPI_TF_A_DEVICE_TREE_ADDRESS: u64 = 0x0300_0000;

impl RaspiInvocation {
    /// The arguments of the QEMU program.
    ///
    /// Without TF-A the kernel is a raw `-kernel`, which QEMU boots the way
    /// the Pi's firmware and stock armstub do: core 0 at EL2 at 0x8_0000,
    /// x0 = the device tree (or ATAGs without `-dtb`), cores 1–3 in a
    /// spin-table loop. With TF-A nothing goes through `-kernel`: every core
    /// starts at 0 in EL3, in BL31, which enters the kernel at 0x8_0000;
    /// TCG runs single-threaded there, because BL31's pen clears a core's
    /// release word when the core arrives and a slow core would miss its
    /// `CPU_ON` (seen under multi-threaded TCG on a loaded host).
    pub fn arguments(&self) -> Vec<OsString> {
        let mut arguments: Vec<OsString> =
            ["-machine", "raspi4b"].iter().map(OsString::from).collect();
        if self.tf_a.is_some() {
            arguments.extend(["-accel", "tcg,thread=single"].map(OsString::from));
        }
        arguments.extend(
            [
                "-display",
                "none",
                crate::raspi_qemu::NO_AUDIO[0],
                crate::raspi_qemu::NO_AUDIO[1],
                "-monitor",
                "none",
                "-no-reboot",
                "-semihosting",
            ]
            .map(OsString::from),
        );
        let mut loader = |file: &Path, address: u64| {
            arguments.push("-device".into());
            arguments.push(
                format!(
                    "loader,file={},addr={address:#x},force-raw=on",
                    option_value(file)
                )
                .into(),
            );
        };
        match &self.tf_a {
            Some(bl31) => {
                loader(bl31, 0);
                loader(&self.kernel_image, 0x8_0000);
                if let Some(tree) = &self.device_tree {
                    loader(tree, RASPI_TF_A_DEVICE_TREE_ADDRESS);
                }
            }
            None => {
                arguments.push("-kernel".into());
                arguments.push(self.kernel_image.clone().into_os_string());
                if let Some(tree) = &self.device_tree {
                    arguments.push("-dtb".into());
                    arguments.push(tree.clone().into_os_string());
                }
            }
        }
        arguments.push("-serial".into());
        arguments.push("stdio".into());
        arguments.push("-serial".into());
        let mut secure = OsString::from("file:");
        secure.push(&self.secure_log);
        arguments.push(secure);
        arguments
    }
}

impl Invocation for RaspiInvocation {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(self.arguments());
        command
    }

    fn kernel(&self) -> &Path {
        &self.kernel
    }

    fn secure_log(&self) -> &Path {
        &self.secure_log
    }
}

impl QemuInvocation {
    /// The arguments of `qemu-system-aarch64`.
    ///
    /// Serial 0 (the non-secure PL011 that carries the kernel's defmt frames)
    /// goes to QEMU's standard output; serial 1 (the secure UART) to a file.
    pub fn arguments(&self) -> Vec<OsString> {
        let mut arguments: Vec<OsString> = [
            "-machine",
            "virt,secure=on,virtualization=on,gic-version=3",
            "-cpu",
            "max",
            "-m",
            "1G",
            "-display",
            "none",
            "-monitor",
            "none",
            "-no-reboot",
            "-semihosting",
            "-bios",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        arguments.push(self.bios.clone().into_os_string());
        arguments.push("-smp".into());
        arguments.push(self.cores.max(1).to_string().into());
        // `-bios` and `-kernel` together do not put the kernel in RAM: use the
        // generic loader, which loads ELF segments by physical address and
        // leaves the CPU to start in the firmware.
        arguments.push("-device".into());
        arguments.push(format!("loader,file={}", option_value(&self.kernel)).into());
        if let Some(blob) = &self.config_blob {
            arguments.push("-device".into());
            arguments.push(
                format!(
                    "loader,file={},addr={FIRMWARE_CONFIG_ADDRESS:#x},force-raw=on",
                    option_value(blob)
                )
                .into(),
            );
        }
        arguments.push("-serial".into());
        arguments.push("stdio".into());
        arguments.push("-serial".into());
        let mut secure = OsString::from("file:");
        secure.push(&self.secure_log);
        arguments.push(secure);
        arguments
    }
}

/// A path as the value of a QEMU `key=value,...` option: commas are doubled.
fn option_value(path: &Path) -> String {
    path.to_string_lossy().replace(',', ",,")
}

/// How to supervise a boot.
#[derive(Debug, Clone, Copy, Default)]
pub struct BootOptions {
    /// Kill QEMU after this long and report a hang.
    pub timeout: Option<Duration>,
    /// Print log lines as they arrive.
    pub echo: bool,
    /// Survive Ctrl-C (passing it on to QEMU) to report QEMU's status and the last lines.
    pub interactive: bool,
    /// Start QEMU halted with a gdb server on this TCP port (`-S -gdb tcp::PORT`).
    pub gdb_port: Option<u16>,
}

/// What goes to the kernel's UART (QEMU's standard input).
pub enum Input {
    /// Nothing: standard input is `/dev/null`.
    None,
    /// The terminal, key by key (raw mode, a local echo, Ctrl-C stops QEMU).
    Terminal,
    /// A script typed into the console, each step after the console answered the last.
    Script(Box<dyn Script>),
}

/// How long QEMU may take to stop after the script's last command before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How a boot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// QEMU exited with this status (the kernel's PSCI SYSTEM_OFF status under the test firmware).
    Exited(i32),
    /// QEMU was ended by this signal.
    Signalled(i32),
    /// QEMU was still running at the timeout and was killed.
    TimedOut(Duration),
    /// The script's last command was answered, and xtask stopped QEMU.
    ScriptDone,
}

impl Ending {
    /// The exit code for xtask to pass on (128 + signal for a signal, like a shell).
    pub fn exit_code(self) -> i32 {
        match self {
            Ending::Exited(code) => code,
            Ending::Signalled(signal) => 128 + signal,
            Ending::TimedOut(_) => 124,
            Ending::ScriptDone => 0,
        }
    }

    fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(signal)) => Ending::Signalled(signal),
            (None, None) => Ending::Exited(-1),
        }
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Exited(code) => write!(formatter, "exit status {code}"),
            Ending::Signalled(signal) => write!(formatter, "ended by signal {signal}"),
            Ending::TimedOut(limit) => {
                write!(formatter, "still running after {} s: hang", limit.as_secs())
            }
            Ending::ScriptDone => write!(formatter, "stopped after the script's last command"),
        }
    }
}

/// The result of one boot: how it ended, the whole decoded log, how long it took.
#[derive(Debug, Clone)]
pub struct Boot {
    /// How QEMU ended.
    pub ending: Ending,
    /// Decoded kernel lines, secure-world lines and QEMU's messages, in arrival order.
    pub log: Vec<String>,
    /// The kernel's timestamp of each line of `log`, in microseconds (none
    /// for lines that are not kernel frames).
    pub timestamps: Vec<Option<u64>>,
    /// Wall-clock time from start to end.
    pub duration: Duration,
}

/// Kills the child process when dropped, unless it already ended.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Boots QEMU, types `input` into the console, and collects its decoded
/// log until it exits (or times out, or the script is done).
pub fn boot(
    invocation: &dyn Invocation,
    kernel_log: &KernelLogFormat,
    options: BootOptions,
    input: Input,
) -> Result<Boot> {
    let secure_log = invocation.secure_log();
    if let Err(error) = std::fs::remove_file(secure_log) {
        if error.kind() != std::io::ErrorKind::NotFound {
            return Err(error).context(format!("cannot remove {}", secure_log.display()));
        }
    }
    let mut command = invocation.command();
    if let Some(port) = options.gdb_port {
        command.args(["-S", "-gdb", &format!("tcp::{port}")]);
    }
    supervise(command, secure_log, kernel_log, options, input)
}

/// Runs `command` (QEMU, or a stand-in in tests) with serial 0 on its standard
/// output and standard input and serial 1 in the file `secure_log`, types
/// `input`, and collects the decoded log.
fn supervise(
    mut command: Command,
    secure_log: &Path,
    kernel_log: &KernelLogFormat,
    options: BootOptions,
    input: Input,
) -> Result<Boot> {
    let stdin = match input {
        Input::None => Stdio::null(),
        Input::Terminal | Input::Script(_) => Stdio::piped(),
    };
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if options.echo {
        println!("$ {}", process::describe(&command));
    }
    let _interrupt_guard = options.interactive.then(InterruptGuard::install);
    let (mut script, terminal) = match input {
        Input::Script(script) => (Some(ScriptDriver::new(script)), false),
        Input::Terminal => (None, true),
        Input::None => (None, false),
    };
    // Raw mode only while QEMU runs; restored when this returns or unwinds.
    let raw_mode = if terminal { RawMode::enable() } else { None };
    let mut screen = raw_mode.is_some().then(Screen::default);
    let started = Instant::now();
    let mut child = KillOnDrop(command.spawn().with_context(|| {
        format!(
            "could not start {}",
            command.get_program().to_string_lossy()
        )
    })?);
    let serial = child.0.stdout.take().expect("stdout is piped");
    let errors = child.0.stderr.take().expect("stderr is piped");
    let serial_input = child.0.stdin.take();
    let stop_threads = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<LogLine>();
    let (key_sender, keys) = mpsc::channel::<Vec<u8>>();
    let (typed_sender, typed) = mpsc::channel::<Vec<u8>>();
    let mut log = Vec::new();
    let mut timestamps = Vec::new();

    let ending = std::thread::scope(|scope| -> Result<Ending> {
        let kernel_sender = sender.clone();
        scope.spawn(move || read_kernel_log(serial, kernel_log, &kernel_sender));
        let qemu_sender = sender.clone();
        scope.spawn(move || {
            for line in BufReader::new(errors)
                .lines()
                .map_while(std::io::Result::ok)
            {
                let _ = qemu_sender.send(LogLine::untimed(format!("{} {line}", logs::QEMU_PREFIX)));
            }
        });
        let secure_sender = sender;
        let stop = &stop_threads;
        scope.spawn(move || {
            logs::tail_file(secure_log, logs::SECURE_PREFIX, stop, &mut |line| {
                let _ = secure_sender.send(LogLine::untimed(line));
            });
        });
        if let Some(mut serial_input) = serial_input {
            // Writes what is typed to serial 0 until QEMU or xtask is done.
            scope.spawn(move || {
                for bytes in typed.iter() {
                    if serial_input
                        .write_all(&bytes)
                        .and_then(|()| serial_input.flush())
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        if terminal {
            scope.spawn(move || terminal::read_keys(stop, &key_sender));
        } else {
            drop(key_sender);
        }

        let mut collected = Collected {
            log: &mut log,
            timestamps: &mut timestamps,
            screen: screen.as_mut(),
            echo: options.echo,
        };
        let mut kill_at: Option<Instant> = None;
        let mut script_done = false;
        let mut watch = || -> Result<Ending> {
            loop {
                if let Some(status) = child.0.try_wait()? {
                    if script_done {
                        return Ok(Ending::ScriptDone);
                    }
                    return Ok(Ending::from_status(status));
                }
                if let Some(limit) = options.timeout {
                    if started.elapsed() >= limit {
                        child.0.kill()?;
                        child.0.wait()?;
                        return Ok(Ending::TimedOut(limit));
                    }
                }
                let mut interrupted = options.interactive && interrupt::take_interrupt();
                while let Ok(bytes) = keys.try_recv() {
                    let action = match collected.screen.as_mut() {
                        Some(screen) => screen.keys(&bytes),
                        None => KeyAction::Forward(bytes),
                    };
                    match action {
                        KeyAction::Forward(bytes) => {
                            let _ = typed_sender.send(bytes);
                        }
                        KeyAction::Interrupt => interrupted = true,
                    }
                }
                if interrupted && kill_at.is_none() {
                    // The terminal sends Ctrl-C to QEMU too unless it is in
                    // raw mode; pass it on in case only xtask got it, and
                    // kill QEMU if it does not stop.
                    interrupt::forward_interrupt(child.0.id());
                    kill_at = Some(Instant::now() + INTERRUPT_GRACE);
                }
                if let Some(driver) = script.as_mut() {
                    match driver.poll(collected.log) {
                        Action::Wait => {}
                        Action::Type(bytes) => {
                            let _ = typed_sender.send(bytes);
                        }
                        Action::Stop => {
                            script_done = true;
                            interrupt::terminate(child.0.id());
                            kill_at.get_or_insert(Instant::now() + STOP_GRACE);
                        }
                        Action::GiveUp(reason) => {
                            collected.record(LogLine::untimed(reason), None);
                            interrupt::terminate(child.0.id());
                            kill_at.get_or_insert(Instant::now() + STOP_GRACE);
                        }
                    }
                }
                if kill_at.is_some_and(|deadline| Instant::now() >= deadline) {
                    child.0.kill()?;
                }
                match receiver.recv_timeout(Duration::from_millis(10)) {
                    Ok(line) => collected.record(line, script.as_mut()),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                }
            }
        };
        let ending = watch();
        if ending.is_err() {
            // Make sure QEMU is gone, or the readers below would wait for it forever.
            let _ = child.0.kill();
            let _ = child.0.wait();
        }
        // QEMU is gone: its pipes are closed, so the readers finish; the tail
        // reads what is left of the file and stops; so does the key reader.
        stop.store(true, Ordering::Release);
        drop(typed_sender);
        for line in receiver.iter() {
            collected.record(line, None);
        }
        ending
    })?;
    if let Some(screen) = screen.as_mut() {
        screen.finish();
    }
    drop(raw_mode);
    Ok(Boot {
        ending,
        log,
        timestamps,
        duration: started.elapsed(),
    })
}

/// The log as it is collected, and where it is shown.
struct Collected<'c> {
    log: &'c mut Vec<String>,
    timestamps: &'c mut Vec<Option<u64>>,
    /// The terminal, when the console reads it.
    screen: Option<&'c mut Screen>,
    /// Whether to print lines (when there is no screen).
    echo: bool,
}

impl Collected<'_> {
    /// Adds `line`, tells the script about it and shows it.
    fn record(&mut self, line: LogLine, script: Option<&mut ScriptDriver>) {
        if let Some(script) = script {
            script.line(&line.text);
        }
        match self.screen.as_mut() {
            Some(screen) => screen.line(&line.text),
            None if self.echo => println!("{}", line.text),
            None => {}
        }
        self.log.push(line.text);
        self.timestamps.push(line.timestamp_us);
    }
}

/// Reads QEMU's standard output (serial 0) and sends decoded kernel lines.
fn read_kernel_log(
    mut serial: impl Read,
    kernel_log: &KernelLogFormat,
    sender: &mpsc::Sender<LogLine>,
) {
    let mut decoder = kernel_log.decoder();
    let mut send = |line: LogLine| {
        let _ = sender.send(line);
    };
    let mut buffer = [0u8; 4096];
    loop {
        match serial.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => decoder.feed(&buffer[..count], &mut send),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                send(LogLine::untimed(format!(
                    "[xtask] cannot read serial 0: {error}"
                )));
                break;
            }
        }
    }
    decoder.finish(&mut send);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_loads_firmware_kernel_and_blob() {
        let invocation = QemuInvocation {
            bios: PathBuf::from("/t/test-firmware.bin"),
            kernel: PathBuf::from("/t/odd,name/qemu-virt-board"),
            config_blob: Some(PathBuf::from("/t/xtask/config.bin")),
            secure_log: PathBuf::from("/t/xtask/secure.log"),
            cores: 4,
        };
        let arguments: Vec<String> = invocation
            .arguments()
            .into_iter()
            .map(|argument| argument.into_string().unwrap())
            .collect();
        let line = arguments.join(" ");
        assert!(line.starts_with(
            "-machine virt,secure=on,virtualization=on,gic-version=3 -cpu max -m 1G "
        ));
        assert!(line.contains("-no-reboot -semihosting -bios /t/test-firmware.bin -smp 4 "));
        assert!(line.contains("-device loader,file=/t/odd,,name/qemu-virt-board "));
        assert!(
            line.contains("-device loader,file=/t/xtask/config.bin,addr=0x5ff00000,force-raw=on ")
        );
        assert!(line.ends_with("-serial stdio -serial file:/t/xtask/secure.log"));
    }

    #[test]
    fn command_line_without_blob_for_tf_a() {
        let invocation = QemuInvocation {
            bios: PathBuf::from("flash.bin"),
            kernel: PathBuf::from("kernel"),
            config_blob: None,
            secure_log: PathBuf::from("secure.log"),
            cores: 1,
        };
        let loaders = invocation
            .arguments()
            .iter()
            .filter(|argument| argument.to_string_lossy().starts_with("loader,"))
            .count();
        assert_eq!(loaders, 1);
    }

    fn words(arguments: Vec<OsString>) -> String {
        arguments
            .into_iter()
            .map(|argument| argument.into_string().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn raspi_boots_a_raw_kernel_the_linux_way() {
        let invocation = RaspiInvocation {
            program: PathBuf::from("/cache/qemu"),
            kernel: PathBuf::from("/t/raspberrypi4b-board"),
            kernel_image: PathBuf::from("/t/kernel8.img"),
            device_tree: Some(PathBuf::from("/t/pi.dtb")),
            tf_a: None,
            secure_log: PathBuf::from("/t/serial1.log"),
        };
        let line = words(invocation.arguments());
        assert!(line.starts_with("-machine raspi4b -display none -audiodev none,id=noaudio "));
        assert!(line.contains(" -kernel /t/kernel8.img -dtb /t/pi.dtb "));
        assert!(line.ends_with("-serial stdio -serial file:/t/serial1.log"));
        assert!(!line.contains("loader"));
        assert_eq!(invocation.command().get_program(), "/cache/qemu");
    }

    #[test]
    fn raspi_under_tf_a_loads_bl31_kernel_and_tree_single_threaded() {
        let invocation = RaspiInvocation {
            program: PathBuf::from("qemu"),
            kernel: PathBuf::from("k"),
            kernel_image: PathBuf::from("/t/kernel8.img"),
            device_tree: Some(PathBuf::from("/t/pi.dtb")),
            tf_a: Some(PathBuf::from("/t/bl31.bin")),
            secure_log: PathBuf::from("s"),
        };
        let line = words(invocation.arguments());
        assert!(line.starts_with("-machine raspi4b -accel tcg,thread=single "));
        assert!(line.contains("-device loader,file=/t/bl31.bin,addr=0x0,force-raw=on -device loader,file=/t/kernel8.img,addr=0x80000,force-raw=on -device loader,file=/t/pi.dtb,addr=0x3000000,force-raw=on "));
        assert!(!line.contains("-kernel"));
    }

    /// Runs a shell script standing in for QEMU; `$SERIAL0` names a file
    /// with serial 0's bytes, `$SECURE` the secure log it should write.
    fn supervise_script(script: &str, serial0: &[u8], timeout: Duration) -> Boot {
        supervise_typing(script, serial0, timeout, Input::None)
    }

    /// [`supervise_script`], typing `input` into the stand-in's standard input.
    fn supervise_typing(script: &str, serial0: &[u8], timeout: Duration, input: Input) -> Boot {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let directory =
            std::env::temp_dir().join(format!("xtask-supervise-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let serial0_file = directory.join("serial0.bin");
        std::fs::write(&serial0_file, serial0).unwrap();
        let secure_log = directory.join("secure.log");
        let mut command = Command::new("sh");
        command
            .args(["-c", script])
            .env("SERIAL0", &serial0_file)
            .env("SECURE", &secure_log);
        let format = logs::test_support::format();
        let options = BootOptions {
            timeout: Some(timeout),
            ..BootOptions::default()
        };
        let boot = supervise(command, &secure_log, &format, options, input).unwrap();
        std::fs::remove_dir_all(&directory).unwrap();
        boot
    }

    #[test]
    fn collects_kernel_secure_and_qemu_lines_and_the_exit_status() {
        let serial0 = logs::test_support::frame(1, &[]);
        let boot = supervise_script(
            r#"printf '[fw] up\n[fw] off' > "$SECURE"; cat "$SERIAL0"; echo oops >&2; exit 3"#,
            &serial0,
            Duration::from_secs(30),
        );
        assert_eq!(boot.ending, Ending::Exited(3));
        let mut log = boot.log.clone();
        log.sort();
        assert_eq!(
            log,
            [
                "[kernel] INFO main loop (kernel/src/main_loop.rs:42)",
                "[qemu] oops",
                "[secure] [fw] off",
                "[secure] [fw] up",
            ]
        );
    }

    #[test]
    fn a_script_is_typed_after_each_prompt_and_qemu_stopped_after_the_last() {
        let prompt = logs::test_support::frame(6, &[]);
        let mut serial0 = logs::test_support::frame(7, &[]);
        serial0.extend_from_slice(&prompt);
        let typed = std::env::temp_dir().join(format!("xtask-typed-{}", std::process::id()));
        let _ = std::fs::remove_file(&typed);
        // The stand-in prints the boot line and a prompt, then a prompt
        // after each line it reads (6 and 7 bytes), then waits.
        let script = format!(
            r#"cat "$SERIAL0"; head -c 6 >> {typed}; cat "$SERIAL0"; head -c 7 >> {typed}; cat "$SERIAL0"; exec sleep 30"#,
            typed = typed.display()
        );
        let steps = crate::script::AfterBoot::new(crate::script::LineScript::parse(
            "first
second",
        ));
        let boot = supervise_typing(
            &script,
            &serial0,
            Duration::from_secs(20),
            Input::Script(Box::new(steps)),
        );
        assert_eq!(boot.ending, Ending::ScriptDone);
        assert!(
            boot.duration < Duration::from_secs(15),
            "{:?}",
            boot.duration
        );
        assert_eq!(std::fs::read(&typed).unwrap(), b"first\rsecond\r");
        assert_eq!(
            boot.log
                .iter()
                .filter(|line| crate::script::is_prompt(line))
                .count(),
            3
        );
        std::fs::remove_file(&typed).unwrap();
    }

    #[test]
    fn a_hang_is_killed_at_the_timeout() {
        let boot = supervise_script("exec sleep 30", &[], Duration::from_millis(300));
        assert_eq!(boot.ending, Ending::TimedOut(Duration::from_millis(300)));
        assert!(
            boot.duration < Duration::from_secs(10),
            "{:?}",
            boot.duration
        );
    }

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Ending::Exited(3).exit_code(), 3);
        assert_eq!(Ending::Signalled(2).exit_code(), 130);
        assert_eq!(Ending::TimedOut(Duration::from_secs(1)).exit_code(), 124);
        assert_eq!(
            Ending::TimedOut(Duration::from_secs(60)).to_string(),
            "still running after 60 s: hang"
        );
    }
}
