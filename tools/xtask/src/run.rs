//! `cargo xtask run`: build, write the firmware configuration, boot QEMU
//! with the terminal (or a script) on the kernel console; optionally halted
//! for gdb, and drawing the boot timeline afterwards.

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use crate::arguments::RunOptions;
use crate::build;
use crate::error::{Context, Error, Result};
use crate::faults::FirmwareSettings;
use crate::logs::KernelLogFormat;
use crate::qemu::{self, BootOptions, Input, QemuInvocation};
use crate::script::{AfterBoot, LineScript, PipeScript};
use crate::terminal;
use crate::timeline::{self, Timeline};
use crate::workspace::Workspace;

/// The gdb server's port, unless something else listens there.
const GDB_PORT: u16 = 1234;

/// Builds and boots; returns the exit code to leave with (QEMU's).
pub fn command(workspace: &Workspace, options: &RunOptions) -> Result<i32> {
    let directory = workspace.xtask_directory().join("run");
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    if let Some(flash) = options.tf_a.as_ref().filter(|flash| !flash.is_file()) {
        return Err(Error::new(format!(
            "TF-A flash image {} not found",
            flash.display()
        )));
    }
    let input = if let Some(path) = &options.script {
        Input::Script(Box::new(AfterBoot::new(LineScript::read(path)?)))
    } else if terminal::stdin_is_terminal() {
        Input::Terminal
    } else if terminal::stdin_is_null() {
        // `< /dev/null` (CI): nothing to type; run until the system stops.
        Input::None
    } else {
        Input::Script(Box::new(AfterBoot::new(PipeScript::from_stdin())))
    };
    if options.timeline.is_some() {
        build::log_ffa_calls();
    }
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
    };
    let kernel_log = KernelLogFormat::load(&kernel, &workspace.root)?;
    if !options.faults.is_empty() {
        let names: Vec<&str> = options
            .faults
            .iter()
            .map(|fault| fault.mode().name)
            .collect();
        println!("injecting faults: {}", names.join(", "));
    }
    let gdb_port = options.gdb.then(free_gdb_port);
    if let Some(port) = gdb_port {
        println!(
            "QEMU starts halted, its gdb server on port {port}. In another terminal:\n  {}",
            gdb_command(&kernel, port)
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
    let boot = qemu::boot(&invocation, &kernel_log, options_for_boot, input)?;
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

/// The command that attaches gdb to QEMU's server with the kernel's symbols.
pub fn gdb_command(kernel: &Path, port: u16) -> String {
    let gdb = ["gdb-multiarch", "aarch64-linux-gnu-gdb"]
        .into_iter()
        .find(|program| on_path(program))
        .unwrap_or("gdb-multiarch");
    let mut command = format!(
        "{gdb} -q {} -ex 'target remote localhost:{port}' -ex 'break qemu_virt_board::main' -ex continue",
        kernel.display()
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
        let command = gdb_command(Path::new("/t/qemu-virt-board"), 4321);
        assert!(
            command.contains(" -q /t/qemu-virt-board -ex 'target remote localhost:4321'"),
            "{command}"
        );
    }

    #[test]
    fn a_gdb_port_is_found() {
        assert_ne!(free_gdb_port(), 0);
    }
}
