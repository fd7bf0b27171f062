//! Real TF-A for QEMU: Debian's source package, cached builds outside the clone, FIP and flash images.
//!
//! TF-A comes from Debian's `arm-trusted-firmware` source package of the
//! `trixie` suite, fetched with `apt-get source` through an apt
//! configuration of xtask's own (its own `sources.list` with one `deb-src`
//! line, its own lists and cache directories), so the system's apt
//! configuration is untouched. It is built with Debian's cross compiler
//! (`gcc-aarch64-linux-gnu`) for `PLAT=qemu` in two configurations:
//!
//! - [`Configuration::Spmc`]: `SPD=spmd SPMC_AT_EL3=1` — TF-A's SPMD with its
//!   EL3 SPMC, which hosts one S-EL1 secure partition (our
//!   `tools/test-partition`) as BL32, described by a manifest packed as
//!   `TOS_FW_CONFIG`;
//! - [`Configuration::Plain`]: no secure payload dispatcher — no FF-A at all.
//!
//! Only BL1, BL2, BL31 and `fiptool` are built, once per source version and
//! flag set, into `~/.cache/ffa-kernel/tf-a/build/<key>/` (`$XDG_CACHE_HOME`
//! is honoured; `FFA_KERNEL_CACHE` overrides the whole location). The images
//! that change with every scenario — the kernel (BL33) and the partition
//! (BL32) — are packed into a fresh FIP with `fiptool create` for each boot,
//! and the flash image is BL1 followed by the FIP at 256 KiB
//! ([`FIP_OFFSET`]), which is where TF-A's BL1 looks for it on QEMU.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Error, Result};
use crate::process;
use crate::setup::find_program;

/// The Debian source package.
pub const SOURCE_PACKAGE: &str = "arm-trusted-firmware";
/// The Debian suite it comes from.
pub const SUITE: &str = "trixie";
/// The version asked for; if the suite no longer has it, its current one is used.
pub const SOURCE_VERSION: &str = "2.12.1+dfsg-1";
/// The Debian archive.
pub const ARCHIVE: &str = "http://deb.debian.org/debian";
/// The keyring that signs the archive (Debian's `debian-archive-keyring`).
pub const ARCHIVE_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// The cross compiler prefix TF-A is built with.
pub const CROSS_COMPILE: &str = "aarch64-linux-gnu-";
/// Debian packages the build needs: the cross compiler, `dtc` for the
/// partition manifest, a host compiler and `make` for TF-A and its
/// `fiptool`, `dpkg-dev` for `apt-get source` to unpack with.
pub const BUILD_PACKAGES: &[&str] = &[
    "gcc-aarch64-linux-gnu",
    "device-tree-compiler",
    "gcc",
    "libc6-dev",
    "make",
    "dpkg-dev",
    "xz-utils",
];
/// Programs the packages provide, checked before anything is installed.
const BUILD_PROGRAMS: &[&str] = &[
    "aarch64-linux-gnu-gcc",
    "dtc",
    "cc",
    "make",
    "dpkg-source",
    "xz",
];
/// Offset of the FIP in the flash image (`PLAT_QEMU_FIP_BASE`).
pub const FIP_OFFSET: usize = 0x4_0000;
/// Largest flash image: QEMU virt's first flash bank.
pub const FLASH_SIZE: usize = 64 * 1024 * 1024;
/// The files a build keeps in its cache directory.
const ARTIFACTS: &[&str] = &["bl1.bin", "bl2.bin", "bl31.bin", "fiptool"];
/// The file whose presence (and contents) marks a finished build.
const STAMP: &str = "build.stamp";

/// A TF-A build configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Configuration {
    /// SPMD with the EL3 SPMC (`SPD=spmd SPMC_AT_EL3=1`), one S-EL1 partition as BL32.
    Spmc,
    /// No secure payload dispatcher: FF-A absent.
    Plain,
}

impl Configuration {
    /// Short name, used in cache keys and paths.
    pub const fn name(self) -> &'static str {
        match self {
            Configuration::Spmc => "spmc-el3",
            Configuration::Plain => "plain",
        }
    }

    /// The `make` variables of this configuration (without `BUILD_BASE` and the BL32 placeholder).
    pub fn make_variables(self) -> Vec<String> {
        let mut variables: Vec<String> = [
            "PLAT=qemu",
            "QEMU_USE_GIC_DRIVER=QEMU_GICV3",
            "DEBUG=0",
            "LOG_LEVEL=20",
        ]
        .iter()
        .map(|variable| variable.to_string())
        .collect();
        variables.push(format!("CROSS_COMPILE={CROSS_COMPILE}"));
        if self == Configuration::Spmc {
            variables.extend(
                ["SPD=spmd", "SPMC_AT_EL3=1", "SPMD_SPM_AT_SEL2=0"]
                    .iter()
                    .map(|variable| variable.to_string()),
            );
        }
        variables
    }
}

/// The directory xtask caches TF-A in, outside the clone.
pub fn cache_root() -> Result<PathBuf> {
    cache_root_from(
        env::var_os("FFA_KERNEL_CACHE"),
        env::var_os("XDG_CACHE_HOME"),
        env::var_os("HOME"),
    )
}

fn cache_root_from(
    override_directory: Option<std::ffi::OsString>,
    xdg_cache_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf> {
    if let Some(directory) = override_directory.filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(directory).join("tf-a"));
    }
    let base = match xdg_cache_home.filter(|value| !value.is_empty()) {
        Some(directory) => PathBuf::from(directory),
        None => match home.filter(|value| !value.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => {
                let directory = env::temp_dir();
                eprintln!(
                    "warning: neither XDG_CACHE_HOME nor HOME is set; caching TF-A in {}",
                    directory.display()
                );
                directory
            }
        },
    };
    Ok(base.join("ffa-kernel").join("tf-a"))
}

/// 32-bit FNV-1a, for short cache keys.
pub fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// The cache key of a build: the source version, the configuration and a
/// hash of everything else that shapes the binaries (flags, compiler).
pub fn cache_key(source_version: &str, configuration: Configuration, compiler: &str) -> String {
    let description = stamp_text(source_version, configuration, compiler);
    format!(
        "{source_version}-{}-{:08x}",
        configuration.name(),
        fnv1a(&description)
    )
}

fn stamp_text(source_version: &str, configuration: Configuration, compiler: &str) -> String {
    format!(
        "source {SOURCE_PACKAGE} {source_version}\nconfiguration {}\nmake {}\ncompiler {compiler}\n",
        configuration.name(),
        configuration.make_variables().join(" ")
    )
}

/// Makes sure the build programs are there: as root installs the Debian
/// packages, otherwise says how to.
pub fn ensure_build_tools() -> Result<()> {
    let missing: Vec<&str> = BUILD_PROGRAMS
        .iter()
        .copied()
        .filter(|program| find_program(program).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages = BUILD_PACKAGES.join(" ");
    if !crate::setup::running_as_root() {
        return Err(Error::new(format!(
            "building TF-A needs {} (not on PATH); install them with:\n    \
             sudo apt-get update && sudo apt-get install -y {packages}",
            missing.join(", ")
        )));
    }
    println!("missing {}: installing {packages}", missing.join(", "));
    crate::setup::install_debian_packages(BUILD_PACKAGES)?;
    match BUILD_PROGRAMS
        .iter()
        .find(|program| find_program(program).is_none())
    {
        Some(program) => Err(Error::new(format!(
            "{program} is still not on PATH after installing {packages}"
        ))),
        None => Ok(()),
    }
}

/// The `-o` options that give apt a configuration of xtask's own under `directory`.
pub fn apt_options(directory: &Path) -> Vec<String> {
    let path = |name: &str| directory.join(name).to_string_lossy().into_owned();
    vec![
        format!("-oDir::Etc::SourceList={}", path("sources.list")),
        format!("-oDir::Etc::SourceParts={}", path("sources.list.d")),
        format!("-oDir::State::Lists={}", path("lists")),
        format!("-oDir::Cache={}", path("cache")),
        // Downloads land in xtask's cache, which the sandbox user cannot write.
        "-oAPT::Sandbox::User=root".to_string(),
    ]
}

/// The one line of xtask's `sources.list`.
pub fn sources_list() -> String {
    format!("deb-src [signed-by={ARCHIVE_KEYRING}] {ARCHIVE} {SUITE} main\n")
}

/// The unpacked TF-A source tree and its Debian version.
#[derive(Debug, Clone)]
pub struct Source {
    /// The directory with TF-A's top-level `Makefile`.
    pub directory: PathBuf,
    /// The Debian version of the source package.
    pub version: String,
}

/// The TF-A source: from the cache, or fetched with `apt-get source` (once per machine).
pub fn source(cache: &Path) -> Result<Source> {
    let sources = cache.join("source");
    if let Some(found) = cached_source(&sources)? {
        return Ok(found);
    }
    if find_program("apt-get").is_none() {
        return Err(Error::new(
            "fetching TF-A needs apt-get (Debian's source package arm-trusted-firmware)",
        ));
    }
    let apt = cache.join("apt");
    for directory in ["sources.list.d", "lists/partial", "cache/archives/partial"] {
        fs::create_dir_all(apt.join(directory))
            .with_context(|| format!("cannot create {}", apt.join(directory).display()))?;
    }
    fs::write(apt.join("sources.list"), sources_list())
        .with_context(|| format!("cannot write {}", apt.join("sources.list").display()))?;
    let options = apt_options(&apt);
    println!("fetching TF-A: Debian source package {SOURCE_PACKAGE} from {SUITE}");
    process::run(Command::new("apt-get").args(&options).arg("update"))?;
    let staging = sources.join(format!("fetching-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let exact = format!("{SOURCE_PACKAGE}={SOURCE_VERSION}");
    let fetched = process::run(
        Command::new("apt-get")
            .args(&options)
            .args(["source", "--only-source", &exact])
            .current_dir(&staging),
    );
    if let Err(error) = fetched {
        println!(
            "warning: {exact} is not in {SUITE} any more ({error}); using the suite's current version"
        );
        process::run(
            Command::new("apt-get")
                .args(&options)
                .args(["source", "--only-source", SOURCE_PACKAGE])
                .current_dir(&staging),
        )?;
    }
    let version = dsc_version(&staging)?;
    let target = sources.join(&version);
    if unpacked_tree(&target)?.is_some() {
        // Another xtask fetched the same version meanwhile: use that one.
        let _ = fs::remove_dir_all(&staging);
    } else {
        let _ = fs::remove_dir_all(&target);
        fs::rename(&staging, &target)
            .with_context(|| format!("cannot move the source to {}", target.display()))?;
    }
    cached_source(&sources)?
        .filter(|found| found.version == version)
        .ok_or_else(|| {
            Error::new(format!(
                "apt-get source left no TF-A tree in {}",
                target.display()
            ))
        })
}

/// The version in the name of the `.dsc` file in `directory`.
fn dsc_version(directory: &Path) -> Result<String> {
    let prefix = format!("{SOURCE_PACKAGE}_");
    for entry in
        fs::read_dir(directory).with_context(|| format!("cannot list {}", directory.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(version) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".dsc"))
        {
            return Ok(version.to_string());
        }
    }
    Err(Error::new(format!(
        "no {SOURCE_PACKAGE} .dsc file in {}",
        directory.display()
    )))
}

/// A cached source tree, preferring [`SOURCE_VERSION`].
fn cached_source(sources: &Path) -> Result<Option<Source>> {
    let Ok(entries) = fs::read_dir(sources) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let version = entry.file_name().to_string_lossy().into_owned();
        if version.starts_with("fetching-") {
            continue;
        }
        if let Some(directory) = unpacked_tree(&entry.path())? {
            found.push(Source { directory, version });
        }
    }
    found.sort_by(|a, b| a.version.cmp(&b.version));
    let preferred = found
        .iter()
        .position(|source| source.version == SOURCE_VERSION);
    Ok(match preferred {
        Some(index) => Some(found.swap_remove(index)),
        None => found.pop(),
    })
}

/// The unpacked `arm-trusted-firmware-*` directory (with a `Makefile`) in `directory`.
fn unpacked_tree(directory: &Path) -> Result<Option<PathBuf>> {
    let Ok(entries) = fs::read_dir(directory) else {
        return Ok(None);
    };
    for entry in entries {
        let path = entry?.path();
        let is_tree = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(SOURCE_PACKAGE))
            && path.join("Makefile").is_file();
        if is_tree {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// A finished TF-A build: the boot images and `fiptool`.
#[derive(Debug, Clone)]
pub struct Build {
    /// Its configuration.
    pub configuration: Configuration,
    /// The cache directory holding it.
    pub directory: PathBuf,
    /// Whether this call built it (false: found in the cache).
    pub built_now: bool,
}

impl Build {
    /// Path of one of the build's files (`bl1.bin`, `bl2.bin`, `bl31.bin`, `fiptool`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.directory.join(name)
    }
}

/// The cross compiler's version, part of every cache key.
pub fn compiler_version() -> Result<String> {
    let version =
        process::output(Command::new(format!("{CROSS_COMPILE}gcc")).arg("-dumpfullversion"))?;
    Ok(format!("{CROSS_COMPILE}gcc {}", version.trim()))
}

/// The build of `configuration` from the cache, or built now.
pub fn build(cache: &Path, source: &Source, configuration: Configuration) -> Result<Build> {
    let compiler = compiler_version()?;
    let key = cache_key(&source.version, configuration, &compiler);
    let directory = cache.join("build").join(&key);
    let stamp = stamp_text(&source.version, configuration, &compiler);
    let complete = |directory: &Path| {
        fs::read_to_string(directory.join(STAMP)).is_ok_and(|text| text == stamp)
            && ARTIFACTS.iter().all(|name| directory.join(name).is_file())
    };
    if complete(&directory) {
        return Ok(Build {
            configuration,
            directory,
            built_now: false,
        });
    }
    println!(
        "building TF-A {} ({}) into {}",
        source.version,
        configuration.name(),
        directory.display()
    );
    let staging = cache
        .join("build")
        .join(format!("{key}.building-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let objects = staging.join("objects");
    let mut command = Command::new("make");
    command
        .arg("-C")
        .arg(&source.directory)
        .arg(format!("-j{}", jobs()))
        .args(configuration.make_variables())
        .arg(format!("BUILD_BASE={}", objects.display()));
    if configuration == Configuration::Spmc {
        // BL32 (the partition) is packed into the FIP per boot; naming a
        // file here only stops TF-A from building its own test payload.
        let placeholder = staging.join("bl32-placeholder.bin");
        fs::write(&placeholder, [])
            .with_context(|| format!("cannot write {}", placeholder.display()))?;
        command.arg(format!("BL32={}", placeholder.display()));
    }
    command.args(["bl1", "bl2", "bl31", "fiptool"]);
    // A MAKEFLAGS from an outer make or cargo would change TF-A's build.
    command.env_remove("MAKEFLAGS").env_remove("MFLAGS");
    let collected = process::run(&mut command).and_then(|()| {
        let images = objects.join("qemu").join("release");
        for name in ["bl1.bin", "bl2.bin", "bl31.bin"] {
            fs::copy(images.join(name), staging.join(name))
                .with_context(|| format!("cannot copy {}", images.join(name).display()))?;
        }
        let fiptool = source.directory.join("tools/fiptool/fiptool");
        fs::copy(&fiptool, staging.join("fiptool"))
            .with_context(|| format!("cannot copy {}", fiptool.display()))?;
        fs::remove_dir_all(&objects)
            .with_context(|| format!("cannot remove {}", objects.display()))?;
        fs::write(staging.join(STAMP), &stamp)
            .with_context(|| format!("cannot write the stamp in {}", staging.display()))
    });
    if let Err(error) = collected {
        let _ = fs::remove_dir_all(&staging);
        return Err(error);
    }
    if complete(&directory) {
        // Another xtask finished the same build meanwhile: use that one.
        let _ = fs::remove_dir_all(&staging);
    } else {
        let _ = fs::remove_dir_all(&directory);
        fs::rename(&staging, &directory)
            .with_context(|| format!("cannot move the build to {}", directory.display()))?;
    }
    Ok(Build {
        configuration,
        directory,
        built_now: true,
    })
}

fn jobs() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// The secure payload of an SPMC flash image: the partition and its manifest.
#[derive(Debug, Clone)]
pub struct SecurePayload {
    /// The partition's raw image (BL32).
    pub image: PathBuf,
    /// The compiled partition manifest (`TOS_FW_CONFIG`).
    pub manifest: PathBuf,
}

/// Packs a FIP with `fiptool create` and writes the flash image
/// (`BL1`, the FIP at [`FIP_OFFSET`]) into `directory`; returns its path.
pub fn flash_image(
    build: &Build,
    kernel_binary: &Path,
    payload: Option<&SecurePayload>,
    directory: &Path,
) -> Result<PathBuf> {
    fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let fip = directory.join("fip.bin");
    let _ = fs::remove_file(&fip);
    let mut command = Command::new(build.file("fiptool"));
    command
        .arg("create")
        .arg("--tb-fw")
        .arg(build.file("bl2.bin"))
        .arg("--soc-fw")
        .arg(build.file("bl31.bin"));
    match (build.configuration, payload) {
        (Configuration::Spmc, Some(payload)) => {
            command
                .arg("--tos-fw")
                .arg(&payload.image)
                .arg("--tos-fw-config")
                .arg(&payload.manifest);
        }
        (Configuration::Spmc, None) => {
            return Err(Error::new(
                "an SPMC flash image needs the partition and its manifest",
            ))
        }
        (Configuration::Plain, _) => {}
    }
    command.arg("--nt-fw").arg(kernel_binary).arg(&fip);
    process::output(&mut command)?;
    let bl1 = fs::read(build.file("bl1.bin"))
        .with_context(|| format!("cannot read {}", build.file("bl1.bin").display()))?;
    let fip_bytes = fs::read(&fip).with_context(|| format!("cannot read {}", fip.display()))?;
    let flash = assemble_flash(&bl1, &fip_bytes)?;
    let path = directory.join("flash.bin");
    fs::write(&path, flash).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// BL1 at offset 0, zero padding, the FIP at [`FIP_OFFSET`].
pub fn assemble_flash(bl1: &[u8], fip: &[u8]) -> Result<Vec<u8>> {
    if bl1.len() > FIP_OFFSET {
        return Err(Error::new(format!(
            "BL1 is {} bytes, more than the {FIP_OFFSET:#x} bytes before the FIP",
            bl1.len()
        )));
    }
    if FIP_OFFSET + fip.len() > FLASH_SIZE {
        return Err(Error::new(format!(
            "the FIP ({} bytes) does not fit the 64 MiB flash",
            fip.len()
        )));
    }
    let mut flash = bl1.to_vec();
    flash.resize(FIP_OFFSET, 0);
    flash.extend_from_slice(fip);
    Ok(flash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_change_with_version_configuration_and_compiler() {
        let key = cache_key("2.12.1+dfsg-1", Configuration::Spmc, "gcc 12.2.0");
        assert!(key.starts_with("2.12.1+dfsg-1-spmc-el3-"), "{key}");
        assert_eq!(
            key,
            cache_key("2.12.1+dfsg-1", Configuration::Spmc, "gcc 12.2.0")
        );
        assert_ne!(
            key,
            cache_key("2.12.1+dfsg-2", Configuration::Spmc, "gcc 12.2.0")
        );
        assert_ne!(
            key,
            cache_key("2.12.1+dfsg-1", Configuration::Plain, "gcc 12.2.0")
        );
        assert_ne!(
            key,
            cache_key("2.12.1+dfsg-1", Configuration::Spmc, "gcc 13.1.0")
        );
    }

    #[test]
    fn the_spmc_configuration_selects_the_el3_spmc() {
        let spmc = Configuration::Spmc.make_variables().join(" ");
        assert!(spmc.contains("PLAT=qemu"));
        assert!(spmc.contains("SPD=spmd SPMC_AT_EL3=1 SPMD_SPM_AT_SEL2=0"));
        let plain = Configuration::Plain.make_variables().join(" ");
        assert!(!plain.contains("SPD="), "{plain}");
        assert!(plain.contains("CROSS_COMPILE=aarch64-linux-gnu-"));
    }

    #[test]
    fn apt_gets_its_own_configuration() {
        let options = apt_options(Path::new("/c/apt")).join(" ");
        assert!(options.contains("-oDir::Etc::SourceList=/c/apt/sources.list"));
        assert!(options.contains("-oDir::Etc::SourceParts=/c/apt/sources.list.d"));
        assert!(options.contains("-oDir::State::Lists=/c/apt/lists"));
        assert!(options.contains("-oDir::Cache=/c/apt/cache"));
        assert_eq!(
            sources_list(),
            "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] \
             http://deb.debian.org/debian trixie main\n"
        );
    }

    #[test]
    fn the_flash_holds_bl1_then_the_fip_at_256_kib() {
        let flash = assemble_flash(&[1, 2, 3], &[9, 9]).unwrap();
        assert_eq!(flash.len(), FIP_OFFSET + 2);
        assert_eq!(&flash[..4], &[1, 2, 3, 0]);
        assert_eq!(&flash[FIP_OFFSET..], &[9, 9]);
        assert!(assemble_flash(&vec![0; FIP_OFFSET + 1], &[]).is_err());
    }

    #[test]
    fn the_cache_lives_outside_the_clone() {
        let root = |o: Option<&str>, x: Option<&str>, h: Option<&str>| {
            cache_root_from(o.map(Into::into), x.map(Into::into), h.map(Into::into)).unwrap()
        };
        assert_eq!(
            root(None, None, Some("/root")),
            Path::new("/root/.cache/ffa-kernel/tf-a")
        );
        assert_eq!(
            root(None, Some("/x"), Some("/root")),
            Path::new("/x/ffa-kernel/tf-a")
        );
        assert_eq!(
            root(Some("/c"), Some("/x"), Some("/root")),
            Path::new("/c/tf-a")
        );
        assert!(root(None, None, None).ends_with("ffa-kernel/tf-a"));
    }

    #[test]
    fn fnv1a_matches_the_reference() {
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }
}
