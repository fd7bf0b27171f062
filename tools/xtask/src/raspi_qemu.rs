//! A QEMU with the `raspi4b` machine (QEMU ≥ 9.0), beside the system's.
//!
//! The `virt` board runs on the distribution's QEMU (7.2 on Debian
//! bookworm), which has no `raspi4b`. If the system QEMU has the machine it
//! is used; otherwise xtask extracts `qemu-system-aarch64` from Debian
//! bookworm-backports' `qemu-system-arm` package (10.0) into its cache,
//! outside the clone, with an apt configuration of its own (its own
//! `sources.list`, lists and cache: the system's apt state and dpkg's
//! database are untouched) and `dpkg-deb -x` (nothing is installed). The
//! backports package's libraries are a subset of the distribution
//! QEMU's, which `cargo xtask` installs, so the extracted binary runs as is.
//!
//! The extracted binary would try to load the system QEMU's modules (audio,
//! UI) from the compiled-in module directory and abort on the version
//! mismatch; every run passes `-audiodev none,id=noaudio` (harmless on 7.2
//! too) so no module is wanted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Error, Result};
use crate::process;
use crate::setup::{find_program, QEMU_PROGRAM};
use crate::tf_a::{apt_options, ARCHIVE, ARCHIVE_KEYRING};

/// The machine that must be there.
pub const MACHINE: &str = "raspi4b";
/// The Debian suite with a new enough QEMU for bookworm.
pub const SUITE: &str = "bookworm-backports";
/// The package that holds `qemu-system-aarch64`.
pub const PACKAGE: &str = "qemu-system-arm";
/// The option that keeps QEMU from loading audio modules.
pub const NO_AUDIO: [&str; 2] = ["-audiodev", "none,id=noaudio"];

/// Where xtask keeps its QEMU: beside the TF-A cache (`~/.cache/ffa-kernel`).
pub fn cache_directory() -> Result<PathBuf> {
    let tf_a = crate::tf_a::cache_root()?;
    Ok(tf_a
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(tf_a)
        .join("qemu-raspi"))
}

/// Whether `program` lists `raspi4b` among its machines.
fn has_machine(program: &Path) -> bool {
    let mut command = Command::new(program);
    command.args(["-machine", "help"]).args(NO_AUDIO);
    process::output(&mut command).is_ok_and(|machines| lists_machine(&machines))
}

/// Whether QEMU's `-machine help` text names [`MACHINE`].
pub fn lists_machine(machines: &str) -> bool {
    machines
        .lines()
        .any(|line| line.split_whitespace().next() == Some(MACHINE))
}

/// A QEMU with `raspi4b`: the system's if it has the machine, else the
/// cached extraction, fetched first if needed (as root; otherwise says how).
pub fn ensure() -> Result<PathBuf> {
    if let Some(system) = find_program(QEMU_PROGRAM).filter(|program| has_machine(program)) {
        return Ok(system);
    }
    let cache = cache_directory()?;
    let extracted = cache.join("bin").join(QEMU_PROGRAM);
    if extracted.is_file() && has_machine(&extracted) {
        return Ok(extracted);
    }
    if find_program("apt-get").is_none() || find_program("dpkg-deb").is_none() {
        return Err(Error::new(format!(
            "the system's {QEMU_PROGRAM} has no `{MACHINE}` machine (QEMU 9.0 or newer has it), \
             and without apt-get and dpkg-deb xtask cannot fetch one; install QEMU 9.0 or newer"
        )));
    }
    fetch(&cache, &extracted)?;
    if has_machine(&extracted) {
        Ok(extracted)
    } else {
        Err(Error::new(format!(
            "{} has no `{MACHINE}` machine after extraction",
            extracted.display()
        )))
    }
}

/// Downloads [`PACKAGE`] from [`SUITE`] with xtask's own apt configuration
/// and extracts `qemu-system-aarch64` to `destination`.
fn fetch(cache: &Path, destination: &Path) -> Result<()> {
    println!(
        "fetching QEMU with `{MACHINE}`: {PACKAGE} from Debian {SUITE}, extracted into {}",
        cache.display()
    );
    let file = Path::new("usr/bin").join(QEMU_PROGRAM);
    extract_from_debian_package(cache, SUITE, PACKAGE, None, &file, destination)
}

/// Downloads Debian's `package` from `suite` (for `architecture`, or the
/// host's) with an apt configuration of xtask's own under `cache/apt`
/// (its `sources.list`, lists and cache; the system's apt state and dpkg's
/// database are untouched), unpacks it with `dpkg-deb -x` (nothing is
/// installed) and copies `file` (a path inside the package) to `destination`.
pub fn extract_from_debian_package(
    cache: &Path,
    suite: &str,
    package: &str,
    architecture: Option<&str>,
    file: &Path,
    destination: &Path,
) -> Result<()> {
    let apt = cache.join("apt");
    for directory in ["sources.list.d", "lists/partial", "cache/archives/partial"] {
        fs::create_dir_all(apt.join(directory))
            .with_context(|| format!("cannot create {}", apt.join(directory).display()))?;
    }
    fs::write(
        apt.join("sources.list"),
        format!("deb [signed-by={ARCHIVE_KEYRING}] {ARCHIVE} {suite} main\n"),
    )
    .with_context(|| format!("cannot write {}", apt.join("sources.list").display()))?;
    let mut options = apt_options(&apt);
    if let Some(architecture) = architecture {
        // Another architecture's package: its own lists, and no dpkg status
        // (the host's installed packages do not matter for a download).
        options.push(format!("-oAPT::Architecture={architecture}"));
        options.push(format!("-oAPT::Architectures::={architecture}"));
        options.push("-oDir::State::status=/dev/null".to_string());
    }
    process::run(Command::new("apt-get").args(&options).arg("update"))?;
    let staging = cache.join(format!("fetching-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let result = (|| {
        process::run(
            Command::new("apt-get")
                .args(&options)
                .args(["download", &format!("{package}/{suite}")])
                .current_dir(&staging),
        )?;
        let deb = fs::read_dir(&staging)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .find(|path| path.extension().is_some_and(|extension| extension == "deb"))
            .ok_or_else(|| {
                Error::new(format!(
                    "apt-get download left no .deb in {}",
                    staging.display()
                ))
            })?;
        let root = staging.join("root");
        process::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
        let source = root.join(file);
        if let Some(directory) = destination.parent() {
            fs::create_dir_all(directory)
                .with_context(|| format!("cannot create {}", directory.display()))?;
        }
        let temporary = destination.with_extension(format!("new-{}", std::process::id()));
        fs::copy(&source, &temporary)
            .with_context(|| format!("cannot copy {}", source.display()))?;
        fs::rename(&temporary, destination)
            .with_context(|| format!("cannot move it to {}", destination.display()))?;
        Ok(())
    })();
    let _ = fs::remove_dir_all(&staging);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_machine_in_the_help_text() {
        let help = "Supported machines are:\nraspi3b              Raspberry Pi 3B (revision 1.2)\nraspi4b              Raspberry Pi 4B (revision 1.5)\nvirt                 QEMU 10.0 ARM Virtual Machine (alias of virt-10.0)\n";
        assert!(lists_machine(help));
        assert!(!lists_machine(
            "raspi3b    Raspberry Pi 3B\nraspi4bx  not it\n"
        ));
    }

    #[test]
    fn the_cache_lives_beside_tf_a_outside_the_clone() {
        let directory = cache_directory().unwrap();
        assert!(directory.ends_with("ffa-kernel/qemu-raspi") || directory.ends_with("qemu-raspi"));
        let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(!directory.starts_with(workspace.parent().unwrap().parent().unwrap()));
    }
}
