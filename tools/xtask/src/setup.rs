//! Set-up run before every command: the pinned Rust toolchain and QEMU.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::process;
use crate::workspace::Workspace;

/// The QEMU program that boots the board.
pub const QEMU_PROGRAM: &str = "qemu-system-aarch64";

/// The Debian package that provides [`QEMU_PROGRAM`].
const QEMU_DEBIAN_PACKAGE: &str = "qemu-system-arm";

/// Installs the toolchain of `rust-toolchain.toml` and makes sure QEMU is there.
pub fn prepare(workspace: &Workspace) -> Result<()> {
    install_toolchain(workspace)?;
    ensure_qemu()
}

/// Runs `rustup toolchain install` in the workspace root.
///
/// Automatic toolchain installation is off on the project's machines, so this
/// is what installs the `aarch64-unknown-none` target and the components that
/// `rust-toolchain.toml` lists. It is quick when everything is present.
fn install_toolchain(workspace: &Workspace) -> Result<()> {
    let mut command = Command::new("rustup");
    command
        .args(["toolchain", "install"])
        .current_dir(&workspace.root)
        // Set by the rustup proxy that started cargo; it would override the
        // toolchain file and skip its targets and components.
        .env_remove("RUSTUP_TOOLCHAIN");
    match command.output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(Error::new(format!(
            "`rustup toolchain install` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("warning: rustup not found; assuming the toolchain of rust-toolchain.toml is installed");
            Ok(())
        }
        Err(error) => Err(Error::new(format!(
            "could not run `rustup toolchain install`: {error}"
        ))),
    }
}

/// Installs QEMU through apt when running as root, otherwise says how to.
fn ensure_qemu() -> Result<()> {
    if find_program(QEMU_PROGRAM).is_some() {
        return Ok(());
    }
    let install = format!(
        "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y {QEMU_DEBIAN_PACKAGE}"
    );
    if !running_as_root() {
        return Err(Error::new(format!(
            "{QEMU_PROGRAM} is not on PATH; install it with:\n    {install}"
        )));
    }
    println!("{QEMU_PROGRAM} is not on PATH; installing {QEMU_DEBIAN_PACKAGE}");
    install_debian_packages(&[QEMU_DEBIAN_PACKAGE])?;
    if find_program(QEMU_PROGRAM).is_none() {
        return Err(Error::new(format!(
            "{QEMU_PROGRAM} is still not on PATH after installing {QEMU_DEBIAN_PACKAGE}"
        )));
    }
    Ok(())
}

/// `apt-get update`, then `apt-get install -y PACKAGES` (as root).
pub fn install_debian_packages(packages: &[&str]) -> Result<()> {
    process::run(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    process::run(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Whether `id -u` says 0.
pub fn running_as_root() -> bool {
    process::output(Command::new("id").arg("-u")).is_ok_and(|user| user.trim() == "0")
}

/// The first executable file called `name` in the directories of `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|directory| directory.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_path() {
        assert!(find_program("sh").is_some_and(|path| path.is_absolute()));
        assert!(find_program("no-such-program-for-xtask").is_none());
    }
}
