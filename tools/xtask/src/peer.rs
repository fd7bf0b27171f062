//! `cargo xtask peer`: real TF-A as the kernel's peer — the EL3 SPMC with our partition, and plain TF-A.
//!
//! [`prepare`] makes everything a real-TF-A boot needs, each piece cached:
//! the build tools (Debian packages), the TF-A source and its two builds
//! ([`crate::tf_a`]), the test partition image (`tools/test-partition`, for
//! `aarch64-unknown-none-softfloat`) and its compiled manifest. Then
//! [`Peer::flash_image`] packs a flash image around a given kernel: with the
//! SPMC, BL32 is the partition and `TOS_FW_CONFIG` its manifest; plain TF-A
//! carries the kernel alone.
//!
//! `cargo xtask peer [--features F]` does this for the kernel built with the
//! given features and prints how to boot each image with `cargo xtask run
//! --tf-a`. `cargo xtask test` runs the same preparation before the real-TF-A
//! scenarios ([`crate::peer_scenarios`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::build::{self, KERNEL_LOAD_ADDRESS};
use crate::error::{Context, Error, Result};
use crate::image::{self, BinaryStart};
use crate::process;
use crate::tf_a::{self, Build, Configuration, SecurePayload};
use crate::workspace::Workspace;

/// The partition package.
pub const PARTITION_PACKAGE: &str = "test-partition";
/// The target the partition is built for: no FP/SIMD, which TF-A does not
/// switch between the worlds by default.
pub const PARTITION_TARGET: &str = "aarch64-unknown-none-softfloat";
/// Where TF-A's BL2 loads BL32 on QEMU (`BL32_BASE`, secure DRAM).
pub const PARTITION_LOAD_ADDRESS: u64 = 0x0e10_0000;
/// The partition manifest source, relative to the workspace root.
pub const MANIFEST_SOURCE: &str = "tools/test-partition/manifest.dts";
/// TF-A loads `TOS_FW_CONFIG` into one 4 KiB page on QEMU.
const MANIFEST_MAXIMUM_SIZE: u64 = 4096;

/// Everything needed to boot the kernel under real TF-A.
#[derive(Debug, Clone)]
pub struct Peer {
    /// TF-A with the SPMD and the EL3 SPMC.
    pub spmc: Build,
    /// TF-A without FF-A.
    pub plain: Build,
    /// The partition image and manifest.
    pub payload: SecurePayload,
}

impl Peer {
    /// The build of `configuration`.
    pub fn build(&self, configuration: Configuration) -> &Build {
        match configuration {
            Configuration::Spmc => &self.spmc,
            Configuration::Plain => &self.plain,
        }
    }

    /// Writes the flash image of `configuration` around the kernel ELF
    /// `kernel` into `directory` (kernel binary, FIP, flash); returns its path.
    pub fn flash_image(
        &self,
        configuration: Configuration,
        kernel: &Path,
        directory: &Path,
    ) -> Result<PathBuf> {
        fs::create_dir_all(directory)
            .with_context(|| format!("cannot create {}", directory.display()))?;
        let kernel_binary = directory.join(format!("{}.bin", build::BOARD_PACKAGE));
        let raw = image::write_binary(kernel, &kernel_binary, BinaryStart::LowestAddress)?;
        if raw.base != KERNEL_LOAD_ADDRESS {
            return Err(Error::new(format!(
                "the kernel image starts at {:#x}; TF-A enters BL33 at {KERNEL_LOAD_ADDRESS:#x}",
                raw.base
            )));
        }
        let payload = (configuration == Configuration::Spmc).then_some(&self.payload);
        tf_a::flash_image(
            self.build(configuration),
            &kernel_binary,
            payload,
            directory,
        )
    }
}

/// Builds (or finds in the cache) everything [`Peer`] holds.
pub fn prepare(workspace: &Workspace) -> Result<Peer> {
    let started = Instant::now();
    tf_a::ensure_build_tools()?;
    let cache = tf_a::cache_root()?;
    let source = tf_a::source(&cache)?;
    let spmc = tf_a::build(&cache, &source, Configuration::Spmc)?;
    let plain = tf_a::build(&cache, &source, Configuration::Plain)?;
    let payload = build_partition(workspace)?;
    let state = |build: &Build| if build.built_now { "built" } else { "cached" };
    println!(
        "real TF-A {}: SPMC build {} ({}), plain build {} ({}); partition {}; ready in {:.1} s",
        source.version,
        state(&spmc),
        spmc.directory.display(),
        state(&plain),
        plain.directory.display(),
        workspace.relative(&payload.image).display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Peer {
        spmc,
        plain,
        payload,
    })
}

/// Builds the partition image and compiles its manifest into `target/xtask/peer/`.
pub fn build_partition(workspace: &Workspace) -> Result<SecurePayload> {
    let mut command = workspace.cargo();
    command.args([
        "build",
        "--release",
        "--target",
        PARTITION_TARGET,
        "--package",
        PARTITION_PACKAGE,
    ]);
    process::run(&mut command)?;
    let elf = workspace
        .target_directory
        .join(PARTITION_TARGET)
        .join("release")
        .join(PARTITION_PACKAGE);
    let directory = workspace.xtask_directory().join("peer");
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let image = directory.join(format!("{PARTITION_PACKAGE}.bin"));
    let raw = image::write_binary(&elf, &image, BinaryStart::LowestAddress)?;
    if raw.base != PARTITION_LOAD_ADDRESS {
        return Err(Error::new(format!(
            "the partition image starts at {:#x}, not at BL32's {PARTITION_LOAD_ADDRESS:#x}",
            raw.base
        )));
    }
    let manifest = directory.join(format!("{PARTITION_PACKAGE}.dtb"));
    process::output(
        Command::new("dtc")
            .args(["-I", "dts", "-O", "dtb", "-o"])
            .arg(&manifest)
            .arg(workspace.root.join(MANIFEST_SOURCE)),
    )?;
    let size = fs::metadata(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?
        .len();
    if size > MANIFEST_MAXIMUM_SIZE {
        return Err(Error::new(format!(
            "the partition manifest is {size} bytes; TF-A loads at most {MANIFEST_MAXIMUM_SIZE}"
        )));
    }
    Ok(SecurePayload { image, manifest })
}

/// `cargo xtask peer`: prepares TF-A and writes both flash images for the
/// kernel built with `features`; prints how to boot them.
pub fn command(workspace: &Workspace, features: &[String]) -> Result<()> {
    let peer = prepare(workspace)?;
    let kernel = build::build_kernel(workspace, features)?;
    let base = workspace.xtask_directory().join("peer");
    let joined = build::join_features(features);
    let feature_option = if joined.is_empty() {
        String::new()
    } else {
        format!(" --features {joined}")
    };
    for (configuration, what) in [
        (
            Configuration::Spmc,
            "TF-A with the EL3 SPMC and the test partition",
        ),
        (Configuration::Plain, "plain TF-A, no FF-A"),
    ] {
        let flash = peer.flash_image(configuration, &kernel, &base.join(configuration.name()))?;
        println!(
            "{what}:\n    {}\n    boot it: cargo xtask run --tf-a {}{feature_option}",
            flash.display(),
            workspace.relative(&flash).display()
        );
    }
    Ok(())
}
