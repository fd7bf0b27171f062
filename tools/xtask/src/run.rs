//! `cargo xtask run`: build, write the firmware configuration, boot QEMU interactively.

use std::fs;

use crate::arguments::RunOptions;
use crate::build;
use crate::error::{Context, Error, Result};
use crate::faults::FirmwareSettings;
use crate::logs::KernelLogFormat;
use crate::qemu::{self, BootOptions, QemuInvocation};
use crate::workspace::Workspace;

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
    println!("booting QEMU; Ctrl-C quits");
    let options = BootOptions {
        timeout: None,
        echo: true,
        interactive: true,
    };
    let boot = qemu::boot(&invocation, &kernel_log, options)?;
    eprintln!("QEMU stopped: {}", boot.ending);
    Ok(boot.ending.exit_code())
}
