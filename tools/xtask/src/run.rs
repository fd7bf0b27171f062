//! `cargo xtask run`: build, write the firmware configuration, boot QEMU
//! interactively (`virt`, or the Raspberry Pi 4 on `raspi4b`).

use std::fs;

use crate::arguments::RunOptions;
use crate::build::{self, Board};
use crate::error::{Context, Error, Result};
use crate::faults::FirmwareSettings;
use crate::logs::KernelLogFormat;
use crate::qemu::{self, BootOptions, Invocation, QemuInvocation, RaspiInvocation};
use crate::workspace::Workspace;

/// The feature every emulated Pi boot gets: power-off ends QEMU with the
/// kernel's status through semihosting (the Pi's watchdog halt has none).
pub const RASPI_EMULATION_FEATURE: &str = "semihosting-exit";

/// Builds and boots; returns the exit code to leave with (QEMU's).
pub fn command(workspace: &Workspace, options: &RunOptions) -> Result<i32> {
    if options.board == Some(Board::RaspberryPi4b) {
        return run_raspberry_pi(workspace, options);
    }
    let directory = workspace.xtask_directory().join("run");
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    if let Some(flash) = options.tf_a.as_ref().filter(|flash| !flash.is_file()) {
        return Err(Error::new(format!(
            "TF-A flash image {} not found",
            flash.display()
        )));
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
    boot_interactively(workspace, &invocation)
}

/// `cargo xtask run --board raspberrypi4b`: `kernel8.img` on QEMU's `raspi4b`.
fn run_raspberry_pi(workspace: &Workspace, options: &RunOptions) -> Result<i32> {
    let directory = workspace.xtask_directory().join("run-raspberrypi4b");
    let program = crate::raspi_qemu::ensure()?;
    let mut features = options.features.clone();
    features.push(RASPI_EMULATION_FEATURE.to_string());
    let (kernel, kernel_image) =
        crate::raspberry_pi::kernel_image(workspace, &features, &directory)?;
    let device_tree = directory.join("raspberrypi4b.dtb");
    fs::write(&device_tree, crate::raspberry_pi::device_tree()?)
        .with_context(|| format!("cannot write {}", device_tree.display()))?;
    let invocation = RaspiInvocation {
        program,
        kernel,
        kernel_image,
        device_tree: Some(device_tree),
        tf_a: None,
        secure_log: directory.join("serial1.log"),
    };
    boot_interactively(workspace, &invocation)
}

/// Boots with the log echoed until QEMU stops or Ctrl-C; returns QEMU's status.
fn boot_interactively(workspace: &Workspace, invocation: &dyn Invocation) -> Result<i32> {
    let kernel_log = KernelLogFormat::load(invocation.kernel(), &workspace.root)?;
    println!("booting QEMU; Ctrl-C quits");
    let options = BootOptions {
        timeout: None,
        echo: true,
        interactive: true,
    };
    let boot = qemu::boot(invocation, &kernel_log, options)?;
    eprintln!("QEMU stopped: {}", boot.ending);
    Ok(boot.ending.exit_code())
}
