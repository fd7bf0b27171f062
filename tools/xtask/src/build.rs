//! Cross-builds of the kernel image (the board) and the test firmware.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Result;
use crate::image::{self, BinaryStart};
use crate::process;
use crate::workspace::Workspace;

/// The bare-metal target every image is built for.
pub const TARGET: &str = "aarch64-unknown-none";

/// The board package; its binary is the kernel image.
pub const BOARD_PACKAGE: &str = "qemu-virt-board";

/// A board the kernel is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// QEMU's `virt` machine (`boards/qemu-virt`).
    QemuVirt,
    /// The Raspberry Pi 4 Model B (`boards/raspberrypi4b`), on hardware or
    /// QEMU's `raspi4b`.
    RaspberryPi4b,
}

impl Board {
    /// Every board, in the order reports list them.
    pub const ALL: [Board; 2] = [Board::QemuVirt, Board::RaspberryPi4b];

    /// The name `--board` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Board::QemuVirt => "qemu-virt",
            Board::RaspberryPi4b => "raspberrypi4b",
        }
    }

    /// The board's package, whose binary is the kernel image.
    pub const fn package(self) -> &'static str {
        match self {
            Board::QemuVirt => BOARD_PACKAGE,
            Board::RaspberryPi4b => "raspberrypi4b-board",
        }
    }

    /// Where the image is linked and loaded.
    pub const fn load_address(self) -> u64 {
        match self {
            Board::QemuVirt => KERNEL_LOAD_ADDRESS,
            Board::RaspberryPi4b => 0x8_0000,
        }
    }

    /// The board called `name`.
    pub fn parse(name: &str) -> crate::error::Result<Board> {
        Board::ALL
            .into_iter()
            .find(|board| board.name() == name)
            .ok_or_else(|| {
                crate::error::Error::new(format!(
                    "unknown board {name:?}; boards: {}",
                    Board::ALL.map(Board::name).join(", ")
                ))
            })
    }
}

/// The test firmware package (EL3 monitor, SPMD and SPMC model).
pub const FIRMWARE_PACKAGE: &str = "test-firmware";

/// Physical address the kernel image is linked at (lowest loaded address).
pub const KERNEL_LOAD_ADDRESS: u64 = 0x6000_0000;

/// defmt log filter for image builds when `DEFMT_LOG` is not set. It normally
/// is (`.cargo/config.toml` sets it, and `cargo xtask` passes it on); without
/// it defmt keeps only errors, and scenarios read `info` lines.
pub const DEFAULT_DEFMT_LOG: &str = "info";

/// Physical address of the boot flash that QEMU's `-bios` fills.
pub const FIRMWARE_LOAD_ADDRESS: u64 = 0x0;

/// The `DEFMT_LOG` filter that keeps the FF-A client's log of every call
/// (`debug` in its conduit module): what a boot timeline marks.
pub const FFA_CALLS_LOG_FILTER: &str = "capsule_ffa::conduit=debug";

/// Whether kernel builds also log every FF-A call (set once, for `--timeline`).
static LOG_FFA_CALLS: AtomicBool = AtomicBool::new(false);

/// From now on, every kernel image this xtask builds also logs each FF-A
/// call ([`FFA_CALLS_LOG_FILTER`] added to `DEFMT_LOG`), for `--timeline`.
/// A different `DEFMT_LOG` rebuilds the crates that log, and the next
/// normal build rebuilds them again.
pub fn log_ffa_calls() {
    LOG_FFA_CALLS.store(true, Ordering::Relaxed);
}

/// Builds the `virt` kernel image with the given board features; returns the ELF path.
pub fn build_kernel(workspace: &Workspace, features: &[impl AsRef<str>]) -> Result<PathBuf> {
    build_board(workspace, Board::QemuVirt, features)
}

/// Builds `board`'s kernel image with the given features; returns the ELF path.
pub fn build_board(
    workspace: &Workspace,
    board: Board,
    features: &[impl AsRef<str>],
) -> Result<PathBuf> {
    let filter = LOG_FFA_CALLS.load(Ordering::Relaxed).then(|| {
        let base = std::env::var("DEFMT_LOG").unwrap_or_else(|_| DEFAULT_DEFMT_LOG.to_string());
        format!("{base},{FFA_CALLS_LOG_FILTER}")
    });
    build_release(workspace, board.package(), features, filter.as_deref())
}

/// Builds `board`'s kernel image without its default features, with
/// `features` only (for `cargo xtask size`'s product images); returns the
/// ELF path. A later default build rebuilds the board.
pub fn build_board_without_defaults(
    workspace: &Workspace,
    board: Board,
    features: &[impl AsRef<str>],
) -> Result<PathBuf> {
    build_release_with(
        workspace,
        board.package(),
        features,
        DefaultFeatures::Off,
        None,
    )
}

/// Whether a build keeps the package's default features.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DefaultFeatures {
    On,
    Off,
}

/// Builds the test firmware and writes its flash image; returns (ELF, raw binary).
pub fn build_firmware(workspace: &Workspace) -> Result<(PathBuf, PathBuf)> {
    let elf = build_release(workspace, FIRMWARE_PACKAGE, &[] as &[&str], None)?;
    let binary = workspace
        .target_directory
        .join(format!("{FIRMWARE_PACKAGE}.bin"));
    image::write_binary(&elf, &binary, BinaryStart::At(FIRMWARE_LOAD_ADDRESS))?;
    Ok((elf, binary))
}

/// `cargo build --release --target aarch64-unknown-none -p PACKAGE [--features ...]`,
/// with `defmt_log` as `DEFMT_LOG` if given.
fn build_release(
    workspace: &Workspace,
    package: &str,
    features: &[impl AsRef<str>],
    defmt_log: Option<&str>,
) -> Result<PathBuf> {
    build_release_with(workspace, package, features, DefaultFeatures::On, defmt_log)
}

/// [`build_release`], with or without the package's default features.
fn build_release_with(
    workspace: &Workspace,
    package: &str,
    features: &[impl AsRef<str>],
    defaults: DefaultFeatures,
    defmt_log: Option<&str>,
) -> Result<PathBuf> {
    let mut command = workspace.cargo();
    command.args([
        "build",
        "--release",
        "--target",
        TARGET,
        "--package",
        package,
    ]);
    if defaults == DefaultFeatures::Off {
        command.arg("--no-default-features");
    }
    let features = join_features(features);
    if !features.is_empty() {
        command.args(["--features", &features]);
    }
    if let Some(filter) = defmt_log {
        command.env("DEFMT_LOG", filter);
    } else if std::env::var_os("DEFMT_LOG").is_none() {
        command.env("DEFMT_LOG", DEFAULT_DEFMT_LOG);
    }
    process::run(&mut command)?;
    Ok(release_binary(workspace, package))
}

/// Where cargo puts the release binary of `package` for [`TARGET`].
pub fn release_binary(workspace: &Workspace, package: &str) -> PathBuf {
    workspace
        .target_directory
        .join(TARGET)
        .join("release")
        .join(package)
}

/// Features as one comma-separated cargo argument.
pub fn join_features(features: &[impl AsRef<str>]) -> String {
    features
        .iter()
        .map(AsRef::as_ref)
        .filter(|feature| !feature.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_by_name() {
        assert_eq!(Board::parse("raspberrypi4b").unwrap(), Board::RaspberryPi4b);
        assert_eq!(
            Board::parse("qemu-virt").unwrap().package(),
            "qemu-virt-board"
        );
        let error = Board::parse("pi5").unwrap_err().to_string();
        assert!(error.contains("qemu-virt, raspberrypi4b"), "{error}");
        assert_eq!(Board::RaspberryPi4b.load_address(), 0x80000);
    }

    #[test]
    fn features_join_with_commas_and_skip_empty_ones() {
        assert_eq!(join_features(&["a", "", "b"]), "a,b");
        assert_eq!(join_features(&[] as &[&str]), "");
    }
}
