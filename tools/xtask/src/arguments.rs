//! Command-line parsing (by hand) and the help texts.

use std::path::PathBuf;

use crate::board_scenarios::{self, BOARD_SCENARIOS};
use crate::build::Board;
use crate::console_scenarios::{self, CONSOLE_SCENARIOS};
use crate::error::{Error, Result};
use crate::faults::{self, Fault};
use crate::peer_scenarios::{self, PEER_SCENARIOS};
use crate::scenarios::{self, SCENARIOS};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `cargo xtask run`.
    Run(RunOptions),
    /// `cargo xtask test`.
    Test(TestOptions),
    /// `cargo xtask image`.
    Image(ImageOptions),
    /// `cargo xtask peer`.
    Peer(ImageOptions),
    /// `cargo xtask size`.
    Size,
    /// `cargo xtask console`.
    Console(ConsoleOptions),
    /// `cargo xtask bench`.
    Bench(BenchOptions),
    /// Print this text and exit successfully.
    Help(String),
}

/// Options of `cargo xtask run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Faults for the test firmware to inject.
    pub faults: Vec<Fault>,
    /// The firmware traces every SMC.
    pub trace: bool,
    /// The firmware enters the normal world at EL1 instead of EL2.
    pub enter_normal_world_at_el1: bool,
    /// Board cargo features.
    pub features: Vec<String>,
    /// Boot this TF-A flash image instead of the test firmware.
    pub tf_a: Option<PathBuf>,
    /// The board to build and boot.
    pub board: Option<Board>,
    /// Cores of the `virt` machine (`-smp`).
    pub cores: u8,
    /// Type this script into the console, then stop.
    pub script: Option<PathBuf>,
    /// Start QEMU halted with a gdb server.
    pub gdb: bool,
    /// Draw the boot timeline into this SVG file.
    pub timeline: Option<PathBuf>,
}

/// Options of `cargo xtask test`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestOptions {
    /// Go on after a failure instead of stopping at the first.
    pub keep_going: bool,
    /// Print every scenario's log as it runs, not only on failure.
    pub verbose: bool,
    /// Only these scenarios (all if empty).
    pub scenarios: Vec<String>,
    /// Skip formatting, clippy and unit tests; run only QEMU scenarios.
    pub scenarios_only: bool,
    /// List the scenarios and exit.
    pub list: bool,
    /// Draw the timeline of the (one) selected scenario into this SVG file.
    pub timeline: Option<PathBuf>,
}

/// Options of `cargo xtask image`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// Board cargo features.
    pub features: Vec<String>,
    /// The board (`virt` if not given).
    pub board: Option<Board>,
}

/// Options of `cargo xtask console`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleOptions {
    /// The serial device (a USB serial adapter: `/dev/ttyUSB0`).
    pub device: PathBuf,
    /// Its baud rate.
    pub baud: u32,
    /// The board whose kernel ELF decodes the log.
    pub board: Board,
    /// The features the kernel on the board was built with.
    pub features: Vec<String>,
}

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchOptions {
    /// Arguments after `--`, passed on to every benchmark.
    pub passed_on: Vec<String>,
}

/// Overview printed by `cargo xtask help`.
pub const MAIN_HELP: &str = "\
Usage: cargo xtask <COMMAND> [OPTIONS]

Commands:
  run     Build the kernel and the test firmware, boot them in QEMU, show the decoded log
  test    Everything CI checks: formatting, clippy, unit tests, QEMU scenarios
  image   Build the board and write the kernel's raw binary (TF-A BL33; the Pi's SD folder)
  console Decode the kernel's defmt log from a serial device (a USB serial adapter)
  peer    Build real TF-A (EL3 SPMC with our test partition, and plain) and flash images for the kernel
  size    Section sizes per image and per crate; kernel .text+.rodata against its budget
  bench   Run the benchmarks
  help    Print this text (`cargo xtask COMMAND --help` for a command's options)

Every command first runs `rustup toolchain install` and makes sure QEMU is installed.
";

const RUN_HELP: &str = "\
Usage: cargo xtask run [--board B] [--cores N] [--fault MODE]... [--trace] [--el1] [--features F]
                       [--tf-a FLASH] [--script FILE] [--gdb] [--timeline SVG]

Builds the kernel image and the test firmware, writes the firmware's configuration
blob and boots QEMU. Kernel (defmt) and secure-world logs are decoded as they come.
Runs until the system powers off or you press Ctrl-C; exits with QEMU's status.
With --board raspberrypi4b it boots kernel8.img in QEMU's raspi4b machine (QEMU 9.0
or newer; xtask extracts Debian bookworm-backports' QEMU 10 into its cache if the
system's QEMU lacks the machine), as the Pi's stock firmware would.

The kernel console (`help` lists its commands) reads the terminal: keys go to the
kernel's UART as typed (raw mode, with a local echo of the line), Ctrl-C stops QEMU.
Lines on a pipe (`echo 'ffa list' | cargo xtask run`) or in --script FILE are typed
one by one, each once the console has answered the last; xtask stops QEMU after the
last one's output.

Options:
  --board B           qemu-virt (default) or raspberrypi4b
  --cores N           Cores of the virt machine (-smp N, default 1)
  --fault MODE        Inject a fault (repeatable; see below)
  --trace             The firmware prints a line for every SMC
  --el1               The firmware enters the normal world at EL1 instead of EL2
  --features F        Board cargo features (comma-separated, repeatable)
  --tf-a FLASH        Boot this TF-A flash image instead of the test firmware
                      (no configuration blob: --fault, --trace and --el1 do not apply)
  --script FILE       Type FILE's lines into the console (# starts a comment), then stop
  --gdb               Start QEMU halted with a gdb server; prints the gdb command to attach
  --timeline SVG      Draw the boot timeline (init-queue lanes, FF-A calls, proxy steps)
                      into SVG once QEMU stops (builds with FF-A calls logged at debug)
  -h, --help          Print this text
";

const TEST_HELP: &str = "\
Usage: cargo xtask test [--keep-going] [--verbose] [--scenarios-only] [--scenario NAME]... [--list]
                        [--timeline SVG]

Runs, in order, stopping at the first failure:
  cargo fmt --all -- --check
  cargo clippy (host packages, all targets) -- -D warnings
  cargo clippy --target aarch64-unknown-none (target packages) --release -- -D warnings
  cargo test
  the QEMU scenarios against the FF-A model, one after another
  the Raspberry Pi 4 scenarios (QEMU raspi4b) and virt on several cores
  real TF-A (as `cargo xtask peer`: cached builds), then the scenarios against it
and ends with a line `N passed, M failed`.

Options:
  --keep-going        Go on after a failure
  --verbose           Show each scenario's log as it runs (always shown on failure)
  --scenarios-only    Skip formatting, clippy and unit tests
  --scenario NAME     Run only this scenario (repeatable)
  --list              List the scenarios and exit
  --timeline SVG      With one --scenario: draw its boot timeline into SVG (built with
                      FF-A calls logged at debug)
  -h, --help          Print this text
";

const IMAGE_HELP: &str = "\
Usage: cargo xtask image [--board B] [--features F]

Builds the board and writes the kernel's raw binary (PT_LOAD segments by physical
address, gaps zero-filled): for qemu-virt, target/qemu-virt-board.bin (from 0x6000_0000,
TF-A's BL33); for raspberrypi4b, the folder target/raspberrypi4b-sd/ with kernel8.img
(from 0x8_0000) and config.txt, ready for the SD card's boot partition. Prints the path.

Options:
  --board B           qemu-virt (default) or raspberrypi4b
  --features F        Board cargo features (comma-separated, repeatable)
  -h, --help          Print this text
";

const PEER_HELP: &str = "\
Usage: cargo xtask peer [--features F]

Prepares real TF-A as the kernel's peer, everything cached: installs the build tools
(Debian: gcc-aarch64-linux-gnu, device-tree-compiler, ...), fetches Debian's
arm-trusted-firmware source package from trixie with an apt configuration of its own,
builds BL1/BL2/BL31 for PLAT=qemu twice (SPD=spmd SPMC_AT_EL3=1, and without an SPD)
into ~/.cache/ffa-kernel/tf-a, builds tools/test-partition and its manifest, then packs
flash images around the kernel built with F and prints how to boot them.

Options:
  --features F        Board cargo features (comma-separated, repeatable)
  -h, --help          Print this text
";

const SIZE_HELP: &str = "\
Usage: cargo xtask size

Builds the kernel and the test firmware and prints .text/.rodata/.data/.bss per image
and per crate, and the kernel's .text+.rodata against its budget (a report, not a test).
";

const CONSOLE_HELP: &str = "\
Usage: cargo xtask console DEVICE [--baud N] [--board B] [--features F]

Opens the serial DEVICE (a USB serial adapter wired to the Pi's GPIO 14/15: /dev/ttyUSB0),
sets it raw at N baud (115200), and decodes the kernel's defmt log with the ELF of the
board built with F (build it with the same features as the image you flashed). Plain text
between frames (the firmware's, TF-A's) shows as [serial0] lines. From a terminal, keys go
to the kernel console as typed (raw mode, with a local echo of the line). Ctrl-C quits.

Options:
  --baud N            Baud rate (default 115200)
  --board B           raspberrypi4b (default) or qemu-virt
  --features F        Board cargo features of the flashed image
  -h, --help          Print this text
";

const BENCH_HELP: &str = "\
Usage: cargo xtask bench [-- ARGS]

Runs every benchmark of the project (cargo bench), passing ARGS on to each.
";

/// Parses the arguments after `cargo xtask`.
pub fn parse(arguments: &[String]) -> Result<Command> {
    let Some((command, rest)) = arguments.split_first() else {
        return Err(usage_error("no command given"));
    };
    let mut options = Options::new(rest);
    match command.as_str() {
        "run" => parse_run(&mut options),
        "test" => parse_test(&mut options),
        "image" => parse_image(&mut options),
        "peer" => parse_peer(&mut options),
        "size" => parse_size(&mut options),
        "console" => parse_console(&mut options),
        "bench" => parse_bench(&mut options),
        "help" | "-h" | "--help" => Ok(Command::Help(MAIN_HELP.to_string())),
        other => Err(usage_error(&format!("unknown command {other:?}"))),
    }
}

fn usage_error(problem: &str) -> Error {
    Error::new(format!("{problem}\n\n{MAIN_HELP}"))
}

/// The full help of `run`, with the fault modes.
pub fn run_help() -> String {
    format!("{RUN_HELP}\n{}", faults::help())
}

fn test_help() -> String {
    let mut text = format!("{TEST_HELP}\nScenarios:\n");
    for scenario in SCENARIOS {
        text.push_str(&format!(
            "  {:<20} {}\n",
            scenario.name, scenario.description
        ));
    }
    text.push_str("\nConsole scenarios (scripts typed into the kernel console):\n");
    for scenario in CONSOLE_SCENARIOS {
        text.push_str(&format!(
            "  {:<26} {}\n",
            scenario.name, scenario.description
        ));
    }
    text.push_str(
        "\nScenarios of the Raspberry Pi 4 (QEMU raspi4b) and of virt on several cores:\n",
    );
    for scenario in BOARD_SCENARIOS {
        text.push_str(&format!(
            "  {:<26} {}\n",
            scenario.name, scenario.description
        ));
    }
    text.push_str(
        "\nScenarios against real TF-A (built by the same steps as `cargo xtask peer`):\n",
    );
    for scenario in PEER_SCENARIOS {
        text.push_str(&format!(
            "  {:<26} {}\n",
            scenario.name, scenario.description
        ));
    }
    text
}

fn parse_run(options: &mut Options<'_>) -> Result<Command> {
    let mut run = RunOptions::default();
    while let Some(option) = options.next_option()? {
        match option.as_str() {
            "--fault" => run.faults.push(Fault::parse(&options.value(&option)?)?),
            "--trace" => run.trace = true,
            "--el1" => run.enter_normal_world_at_el1 = true,
            "--features" => push_features(&mut run.features, &options.value(&option)?),
            "--tf-a" => run.tf_a = Some(PathBuf::from(options.value(&option)?)),
            "--board" => run.board = Some(Board::parse(&options.value(&option)?)?),
            "--cores" => {
                let value = options.value(&option)?;
                run.cores = value
                    .parse()
                    .ok()
                    .filter(|cores| (1..=8).contains(cores))
                    .ok_or_else(|| Error::new(format!("--cores takes 1 to 8, not {value:?}")))?;
            }
            "--script" => run.script = Some(PathBuf::from(options.value(&option)?)),
            "--gdb" => run.gdb = true,
            "--timeline" => run.timeline = Some(PathBuf::from(options.value(&option)?)),
            "-h" | "--help" => return Ok(Command::Help(run_help())),
            _ => return Err(options.unknown(&option, "run")),
        }
    }
    if run.cores == 0 {
        run.cores = 1;
    }
    if run.board == Some(Board::RaspberryPi4b)
        && (run.tf_a.is_some()
            || !run.faults.is_empty()
            || run.trace
            || run.enter_normal_world_at_el1
            || run.cores != 1)
    {
        return Err(Error::new(
            "--fault, --trace, --el1, --cores and --tf-a configure the virt board's firmware; \
             raspberrypi4b boots as the Pi's firmware would (its four cores always)",
        ));
    }
    if run.tf_a.is_some() && (!run.faults.is_empty() || run.trace || run.enter_normal_world_at_el1)
    {
        return Err(Error::new(
            "--fault, --trace and --el1 configure the test firmware; they do not apply with --tf-a",
        ));
    }
    Ok(Command::Run(run))
}

fn parse_test(options: &mut Options<'_>) -> Result<Command> {
    let mut test = TestOptions::default();
    while let Some(option) = options.next_option()? {
        match option.as_str() {
            "--keep-going" => test.keep_going = true,
            "--verbose" | "-v" => test.verbose = true,
            "--scenarios-only" => test.scenarios_only = true,
            "--list" => test.list = true,
            "--timeline" => test.timeline = Some(PathBuf::from(options.value(&option)?)),
            "--scenario" => {
                let name = options.value(&option)?;
                if scenarios::find(&name).is_none()
                    && peer_scenarios::find(&name).is_none()
                    && board_scenarios::find(&name).is_none()
                    && console_scenarios::find(&name).is_none()
                {
                    let names: Vec<&str> = SCENARIOS
                        .iter()
                        .map(|scenario| scenario.name)
                        .chain(BOARD_SCENARIOS.iter().map(|scenario| scenario.name))
                        .chain(CONSOLE_SCENARIOS.iter().map(|scenario| scenario.name))
                        .chain(PEER_SCENARIOS.iter().map(|scenario| scenario.name))
                        .collect();
                    return Err(Error::new(format!(
                        "unknown scenario {name:?}; known scenarios: {}",
                        names.join(", ")
                    )));
                }
                test.scenarios.push(name);
            }
            "-h" | "--help" => return Ok(Command::Help(test_help())),
            _ => return Err(options.unknown(&option, "test")),
        }
    }
    if test.timeline.is_some() && test.scenarios.len() != 1 {
        return Err(Error::new(
            "--timeline draws one scenario: give exactly one --scenario NAME",
        ));
    }
    Ok(Command::Test(test))
}

fn parse_image(options: &mut Options<'_>) -> Result<Command> {
    let mut image = ImageOptions::default();
    while let Some(option) = options.next_option()? {
        match option.as_str() {
            "--features" => push_features(&mut image.features, &options.value(&option)?),
            "--board" => image.board = Some(Board::parse(&options.value(&option)?)?),
            "-h" | "--help" => return Ok(Command::Help(IMAGE_HELP.to_string())),
            _ => return Err(options.unknown(&option, "image")),
        }
    }
    Ok(Command::Image(image))
}

fn parse_peer(options: &mut Options<'_>) -> Result<Command> {
    let mut peer = ImageOptions::default();
    while let Some(option) = options.next_option()? {
        match option.as_str() {
            "--features" => push_features(&mut peer.features, &options.value(&option)?),
            "-h" | "--help" => return Ok(Command::Help(PEER_HELP.to_string())),
            _ => return Err(options.unknown(&option, "peer")),
        }
    }
    Ok(Command::Peer(peer))
}

fn parse_console(options: &mut Options<'_>) -> Result<Command> {
    let mut device = None;
    let mut console = ConsoleOptions {
        device: PathBuf::new(),
        baud: 115_200,
        board: Board::RaspberryPi4b,
        features: Vec::new(),
    };
    loop {
        match options.next_option_or_operand()? {
            None => break,
            Some(Argument::Operand(path)) if device.is_none() => device = Some(PathBuf::from(path)),
            Some(Argument::Operand(extra)) => {
                return Err(Error::new(format!("unexpected argument {extra:?}")))
            }
            Some(Argument::Option(option)) => match option.as_str() {
                "--baud" => {
                    let value = options.value(&option)?;
                    console.baud = value
                        .parse()
                        .map_err(|_| Error::new(format!("--baud takes a number, not {value:?}")))?;
                }
                "--board" => console.board = Board::parse(&options.value(&option)?)?,
                "--features" => push_features(&mut console.features, &options.value(&option)?),
                "-h" | "--help" => return Ok(Command::Help(CONSOLE_HELP.to_string())),
                _ => return Err(options.unknown(&option, "console")),
            },
        }
    }
    console.device = device.ok_or_else(|| {
        Error::new("console needs the serial device, e.g. `cargo xtask console /dev/ttyUSB0`")
    })?;
    Ok(Command::Console(console))
}

fn parse_size(options: &mut Options<'_>) -> Result<Command> {
    match options.next_option()? {
        None => Ok(Command::Size),
        Some(option) if option == "-h" || option == "--help" => {
            Ok(Command::Help(SIZE_HELP.to_string()))
        }
        Some(option) => Err(options.unknown(&option, "size")),
    }
}

fn parse_bench(options: &mut Options<'_>) -> Result<Command> {
    match options.next_option()? {
        None => Ok(Command::Bench(BenchOptions {
            passed_on: options.after_separator.clone(),
        })),
        Some(option) if option == "-h" || option == "--help" => {
            Ok(Command::Help(BENCH_HELP.to_string()))
        }
        Some(option) => Err(options.unknown(&option, "bench")),
    }
}

/// Board features from `--features`: comma- or space-separated.
fn push_features(features: &mut Vec<String>, value: &str) {
    features.extend(
        value
            .split([',', ' '])
            .filter(|feature| !feature.is_empty())
            .map(str::to_string),
    );
}

/// An option or a plain operand (a path).
enum Argument {
    Option(String),
    Operand(String),
}

/// Walks `--name`, `--name value` and `--name=value` options; `--` ends them.
struct Options<'a> {
    remaining: std::slice::Iter<'a, String>,
    /// The value of the last `--name=value` option, until taken by [`Options::value`].
    inline_value: Option<String>,
    /// Everything after `--`.
    after_separator: Vec<String>,
}

impl<'a> Options<'a> {
    fn new(arguments: &'a [String]) -> Self {
        Self {
            remaining: arguments.iter(),
            inline_value: None,
            after_separator: Vec::new(),
        }
    }

    /// The next option's name, or `None` at the end.
    fn next_option(&mut self) -> Result<Option<String>> {
        if let Some(value) = self.inline_value.take() {
            return Err(Error::new(format!("unexpected value {value:?}")));
        }
        let Some(argument) = self.remaining.next() else {
            return Ok(None);
        };
        if argument == "--" {
            self.after_separator = self.remaining.by_ref().cloned().collect();
            return Ok(None);
        }
        if !argument.starts_with('-') {
            return Err(Error::new(format!(
                "unexpected argument {argument:?} (options start with --)"
            )));
        }
        match argument.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                self.inline_value = Some(value.to_string());
                Ok(Some(name.to_string()))
            }
            _ => Ok(Some(argument.clone())),
        }
    }

    /// The next option's name or an operand (an argument without `-`).
    fn next_option_or_operand(&mut self) -> Result<Option<Argument>> {
        if self.inline_value.is_none() {
            if let Some(argument) = self.remaining.clone().next() {
                if !argument.starts_with('-') {
                    self.remaining.next();
                    return Ok(Some(Argument::Operand(argument.clone())));
                }
            }
        }
        Ok(self.next_option()?.map(Argument::Option))
    }

    /// The value of option `name`: after `=` or the next argument.
    fn value(&mut self, name: &str) -> Result<String> {
        if let Some(value) = self.inline_value.take() {
            return Ok(value);
        }
        match self.remaining.next() {
            Some(value) if !value.starts_with("--") => Ok(value.clone()),
            _ => Err(Error::new(format!("{name} needs a value"))),
        }
    }

    fn unknown(&self, option: &str, command: &str) -> Error {
        Error::new(format!(
            "unknown option {option:?} for `{command}` (see `cargo xtask {command} --help`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultKind;

    fn parse_words(line: &str) -> Result<Command> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&words)
    }

    #[test]
    fn run_with_every_option() {
        let command = parse_words(
            "run --fault not-ready --fault=busy-storm=3 --trace --el1 --features a,b --features=c",
        )
        .unwrap();
        assert_eq!(
            command,
            Command::Run(RunOptions {
                faults: vec![
                    Fault::new(FaultKind::NotReady),
                    Fault::with_amount(FaultKind::BusyStorm, 3)
                ],
                trace: true,
                enter_normal_world_at_el1: true,
                features: vec!["a".into(), "b".into(), "c".into()],
                tf_a: None,
                board: None,
                cores: 1,
                ..RunOptions::default()
            })
        );
    }

    #[test]
    fn run_on_the_pi_and_on_four_cores() {
        assert_eq!(
            parse_words("run --board raspberrypi4b").unwrap(),
            Command::Run(RunOptions {
                board: Some(Board::RaspberryPi4b),
                cores: 1,
                ..RunOptions::default()
            })
        );
        let Command::Run(run) = parse_words("run --cores 4").unwrap() else {
            panic!("expected run");
        };
        assert_eq!(run.cores, 4);
        assert!(parse_words("run --cores 9").is_err());
        assert!(parse_words("run --board raspberrypi4b --fault not-ready").is_err());
        assert!(parse_words("run --board pi5").is_err());
    }

    #[test]
    fn console_takes_a_device_and_options() {
        assert_eq!(
            parse_words("console /dev/ttyUSB0 --baud 9600").unwrap(),
            Command::Console(ConsoleOptions {
                device: PathBuf::from("/dev/ttyUSB0"),
                baud: 9600,
                board: Board::RaspberryPi4b,
                features: vec![],
            })
        );
        assert!(parse_words("console").is_err());
        assert!(parse_words("console /dev/a /dev/b").is_err());
        assert!(parse_words("console /dev/a --baud fast").is_err());
    }

    #[test]
    fn run_with_a_script_gdb_and_a_timeline() {
        assert_eq!(
            parse_words("run --script s.txt --gdb --timeline=boot.svg").unwrap(),
            Command::Run(RunOptions {
                script: Some(PathBuf::from("s.txt")),
                gdb: true,
                timeline: Some(PathBuf::from("boot.svg")),
                cores: 1,
                ..RunOptions::default()
            })
        );
        assert!(parse_words("run --script").is_err());
        assert!(parse_words("test --timeline t.svg").is_err());
        assert!(parse_words("test --scenario boot --scenario not-ready --timeline t.svg").is_err());
        assert!(matches!(
            parse_words("test --scenario boot --timeline t.svg").unwrap(),
            Command::Test(TestOptions {
                timeline: Some(_),
                ..
            })
        ));
        assert!(parse_words("test --scenario console-commands").is_ok());
    }

    #[test]
    fn run_with_tf_a_refuses_firmware_options() {
        assert_eq!(
            parse_words("run --tf-a flash.bin").unwrap(),
            Command::Run(RunOptions {
                tf_a: Some(PathBuf::from("flash.bin")),
                cores: 1,
                ..RunOptions::default()
            })
        );
        assert!(parse_words("run --tf-a flash.bin --trace").is_err());
    }

    #[test]
    fn run_help_lists_the_fault_modes() {
        let Command::Help(text) = parse_words("run --help").unwrap() else {
            panic!("expected help");
        };
        assert!(text.contains("interrupt-loop"));
        assert!(text.contains("--tf-a"));
    }

    #[test]
    fn test_options() {
        assert_eq!(
            parse_words("test --keep-going --scenario boot --scenarios-only -v").unwrap(),
            Command::Test(TestOptions {
                keep_going: true,
                verbose: true,
                scenarios: vec!["boot".into()],
                scenarios_only: true,
                list: false,
                timeline: None,
            })
        );
        assert!(parse_words("test --scenario nonsense").is_err());
    }

    #[test]
    fn other_commands() {
        assert_eq!(parse_words("size").unwrap(), Command::Size);
        assert_eq!(
            parse_words("image --features protected-mode").unwrap(),
            Command::Image(ImageOptions {
                features: vec!["protected-mode".into()],
                board: None,
            })
        );
        assert_eq!(
            parse_words("bench -- --quick").unwrap(),
            Command::Bench(BenchOptions {
                passed_on: vec!["--quick".into()]
            })
        );
        assert!(matches!(parse_words("help").unwrap(), Command::Help(_)));
        assert_eq!(
            parse_words("peer --features exit-when-settled").unwrap(),
            Command::Peer(ImageOptions {
                features: vec!["exit-when-settled".into()],
                board: None,
            })
        );
        assert!(parse_words("peer --fault not-ready").is_err());
        assert!(parse_words("test --scenario tf-a-plain").is_ok());
    }

    #[test]
    fn mistakes_are_errors() {
        assert!(parse_words("").is_err());
        assert!(parse_words("frobnicate").is_err());
        assert!(parse_words("run --fault").is_err());
        assert!(parse_words("run --fault --trace").is_err());
        assert!(parse_words("run --fault no-such-mode").is_err());
        assert!(parse_words("run --bogus").is_err());
        assert!(parse_words("run stray").is_err());
        assert!(parse_words("run --trace=yes").is_err());
        assert!(parse_words("size --verbose").is_err());
    }
}
