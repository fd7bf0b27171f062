//! `cargo xtask run`: build, write the firmware configuration, boot QEMU
//! (`virt`, or the Raspberry Pi 4 on `raspi4b`) with the terminal (or a
//! script) on the kernel console; optionally halted for gdb, and drawing
//! the boot timeline afterwards.

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use crate::arguments::RunOptions;
use crate::build::{self, Board};
use crate::error::{Context, Error, Result};
use crate::faults::FirmwareSettings;
use crate::logs::KernelLogFormat;
use crate::qemu::{self, BootOptions, Input, Invocation, QemuInvocation, RaspiInvocation};
use crate::script::{AfterBoot, LineScript, PipeScript};
use crate::terminal;
use crate::timeline::{self, Timeline};
use crate::workspace::Workspace;

/// The gdb server's port, unless something else listens there.
const GDB_PORT: u16 = 1234;

/// The feature every emulated Pi boot gets: power-off ends QEMU with the
/// kernel's status through semihosting (the Pi's watchdog halt has none).
pub const RASPI_EMULATION_FEATURE: &str = "semihosting-exit";

/// Builds and boots; returns the exit code to leave with (QEMU's).
pub fn command(workspace: &Workspace, options: &RunOptions) -> Result<i32> {
    if let Some(flash) = options.tf_a.as_ref().filter(|flash| !flash.is_file()) {
        return Err(Error::new(format!(
            "TF-A flash image {} not found",
            flash.display()
        )));
    }
    let input = console_input(options)?;
    if options.timeline.is_some() {
        build::log_ffa_calls();
    }
    if options.board == Some(Board::RaspberryPi4b) {
        let invocation = raspberry_pi_invocation(workspace, options)?;
        return boot(workspace, options, &invocation, input);
    }
    let directory = workspace.xtask_directory().join("run");
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let kernel = build::build_kernel(workspace, &options.features)?;
    let (bios, config_blob) = match &options.tf_a {
        Some(flash) => (flash.clone(), None),
        None => {
            let (_, firmware) = build::build_firmware(workspace)?;
            let settings = FirmwareSettings {
                faults: &options.faults,
                trace: options.trace,
                enter_normal_world_at_el1: options.enter_normal_world_at_el1,
            };
            let blob = directory.join("firmware-config.bin");
            fs::write(&blob, settings.config_blob()?)
                .with_context(|| format!("cannot write {}", blob.display()))?;
            (firmware, Some(blob))
        }
    };
    let invocation = QemuInvocation {
        bios,
        kernel: kernel.clone(),
        config_blob,
        secure_log: directory.join("secure.log"),
        cores: options.cores,
    };
    if !options.faults.is_empty() {
        let names: Vec<&str> = options
            .faults
            .iter()
            .map(|fault| fault.mode().name)
            .collect();
        println!("injecting faults: {}", names.join(", "));
    }
    boot(workspace, options, &invocation, input)
}

/// What the console reads: `--script`, the terminal, nothing (`< /dev/null`)
/// or the lines piped in.
fn console_input(options: &RunOptions) -> Result<Input> {
    Ok(if let Some(path) = &options.script {
        Input::Script(Box::new(AfterBoot::new(LineScript::read(path)?)))
    } else if terminal::stdin_is_terminal() {
        Input::Terminal
    } else if terminal::stdin_is_null() {
        // `< /dev/null` (CI): nothing to type; run until the system stops.
        Input::None
    } else {
        Input::Script(Box::new(AfterBoot::new(PipeScript::from_stdin())))
    })
}

/// `--board raspberrypi4b`: `kernel8.img` on QEMU's `raspi4b`, booted as
/// the Pi's stock firmware would.
fn raspberry_pi_invocation(workspace: &Workspace, options: &RunOptions) -> Result<RaspiInvocation> {
    let directory = workspace.xtask_directory().join("run-raspberrypi4b");
    let program = crate::raspi_qemu::ensure()?;
    let mut features = options.features.clone();
    features.push(RASPI_EMULATION_FEATURE.to_string());
    let (kernel, kernel_image) =
        crate::raspberry_pi::kernel_image(workspace, &features, &directory)?;
    let device_tree = directory.join("raspberrypi4b.dtb");
    fs::write(&device_tree, crate::raspberry_pi::device_tree()?)
        .with_context(|| format!("cannot write {}", device_tree.display()))?;
    Ok(RaspiInvocation {
        program,
        kernel,
        kernel_image,
        device_tree: Some(device_tree),
        tf_a: None,
        secure_log: directory.join("serial1.log"),
    })
}

/// Boots `invocation` with `input` on the console and the log echoed until
/// QEMU stops (or Ctrl-C); draws the timeline if asked; returns QEMU's status.
fn boot(
    workspace: &Workspace,
    options: &RunOptions,
    invocation: &dyn Invocation,
    input: Input,
) -> Result<i32> {
    let kernel = invocation.kernel();
    let kernel_log = KernelLogFormat::load(kernel, &workspace.root)?;
    let gdb_port = options.gdb.then(free_gdb_port);
    if let Some(port) = gdb_port {
        println!(
            "QEMU starts halted, its gdb server on port {port}. In another terminal:\n  {}",
            gdb_command(kernel, options.board.unwrap_or(Board::QemuVirt), port)
        );
    }
    match &input {
        Input::Terminal => {
            println!("booting QEMU; type help at the console; Ctrl-C stops QEMU")
        }
        _ => println!("booting QEMU; Ctrl-C quits"),
    }
    let options_for_boot = BootOptions {
        timeout: None,
        echo: true,
        interactive: true,
        gdb_port,
    };
    let boot = qemu::boot(invocation, &kernel_log, options_for_boot, input)?;
    eprintln!("QEMU stopped: {}", boot.ending);
    if let Some(path) = &options.timeline {
        let drawn = Timeline::from_log(&boot.log, &boot.timestamps);
        fs::write(path, drawn.to_svg("Boot timeline: cargo xtask run"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "timeline: {} ({})",
            path.display(),
            timeline::summary(&drawn)
        );
    }
    Ok(boot.ending.exit_code())
}

/// [`GDB_PORT`] if free, otherwise a port the system picks.
fn free_gdb_port() -> u16 {
    if TcpListener::bind(("127.0.0.1", GDB_PORT)).is_ok() {
        return GDB_PORT;
    }
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_or(GDB_PORT, |address| address.port())
}

/// The command that attaches gdb to QEMU's server with the kernel's
/// symbols, stopping at `board`'s `main`.
pub fn gdb_command(kernel: &Path, board: Board, port: u16) -> String {
    let gdb = ["gdb-multiarch", "aarch64-linux-gnu-gdb"]
        .into_iter()
        .find(|program| on_path(program))
        .unwrap_or("gdb-multiarch");
    let mut command = format!(
        "{gdb} -q {} -ex 'target remote localhost:{port}' -ex 'break {}::main' -ex continue",
        kernel.display(),
        board.package().replace('-', "_")
    );
    if !on_path(gdb) {
        command.push_str("\n  (not installed: on Debian, `sudo apt-get install gdb-multiarch`)");
    }
    command
}

/// Whether `program` is on the `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|directory| directory.join(program).is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gdb_command_names_the_kernel_and_the_port() {
        let command = gdb_command(Path::new("/t/qemu-virt-board"), Board::QemuVirt, 4321);
        assert!(
            command.contains(
                " -q /t/qemu-virt-board -ex 'target remote localhost:4321' \
                 -ex 'break qemu_virt_board::main'"
            ),
            "{command}"
        );
        let command = gdb_command(Path::new("/t/pi"), Board::RaspberryPi4b, 1);
        assert!(
            command.contains("-ex 'break raspberrypi4b_board::main'"),
            "{command}"
        );
    }

    #[test]
    fn a_gdb_port_is_found() {
        assert_ne!(free_gdb_port(), 0);
    }
}
