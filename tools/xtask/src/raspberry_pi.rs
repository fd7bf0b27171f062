//! The Raspberry Pi 4 board: its SD-card folder (`kernel8.img` and
//! `config.txt`), the device tree given to QEMU's `raspi4b`, and its boots.
//!
//! On a real Pi the GPU firmware reads `config.txt`, loads `kernel8.img`
//! at `kernel_address` and hands the kernel its own device tree. QEMU has
//! no firmware: xtask writes a device tree with what the kernel reads of
//! the real one (the cores and their spin-table release words, the memory
//! QEMU gives the kernel), so the same discovery path runs.

use std::fs;
use std::path::{Path, PathBuf};

use vm_fdt::FdtWriter;

use crate::build::{self, Board};
use crate::error::{Context, Error, Result};
use crate::image::{self, BinaryStart};
use crate::workspace::Workspace;

/// The file name the Pi's firmware loads for a 64-bit kernel.
pub const KERNEL_IMAGE: &str = "kernel8.img";
/// The firmware's configuration file.
pub const CONFIG_FILE: &str = "config.txt";
/// Where `cargo xtask image --board raspberrypi4b` writes the SD folder.
pub const SD_FOLDER: &str = "raspberrypi4b-sd";

/// The `config.txt` the kernel needs: 64-bit, loaded at its link address,
/// UART0 (the PL011) on GPIO 14/15 at 115200.
pub fn config_text() -> String {
    format!(
        "\
# config.txt for the FF-A kernel (written by `cargo xtask image --board raspberrypi4b`).
# Boot the cores in AArch64 and load {KERNEL_IMAGE} where the kernel is linked.
arm_64bit=1
kernel={KERNEL_IMAGE}
kernel_address={:#x}
# The console: UART0 (the PL011) on GPIO 14 (TX, pin 8) and 15 (RX, pin 10),
# 115200 8N1 from its 48 MHz clock. disable-bt moves Bluetooth off UART0;
# the overlay is overlays/disable-bt.dtbo from the firmware's boot folder.
enable_uart=1
dtoverlay=disable-bt
init_uart_clock=48000000
init_uart_baud=115200
# The GIC-400 delivers interrupts (the default on a Pi 4).
enable_gic=1
# Uncomment for the EEPROM loader's and start4.elf's own diagnostics on UART0.
#uart_2ndstage=1
# TF-A instead of the stock armstub (see the README): BL31 at 0, PSCI, SMC.
#armstub=bl31.bin
",
        Board::RaspberryPi4b.load_address()
    )
}

/// The device tree QEMU's `raspi4b` hands the kernel: four Cortex-A72
/// cores, 1–3 released through the spin table at 0xe0/0xe8/0xf0 (as the
/// Pi's own tree and QEMU's stub have them), 960 MiB of RAM from 0 (what
/// QEMU leaves the ARM), no `/psci` (no monitor): the stock-firmware boot.
pub fn device_tree() -> Result<Vec<u8>> {
    let fdt_error = |error: vm_fdt::Error| Error::new(format!("writing the device tree: {error}"));
    let mut tree = FdtWriter::new().map_err(fdt_error)?;
    let root = tree.begin_node("").map_err(fdt_error)?;
    tree.property_string("model", "Raspberry Pi 4 Model B (QEMU raspi4b)")
        .map_err(fdt_error)?;
    tree.property_string_list(
        "compatible",
        vec!["raspberrypi,4-model-b".into(), "brcm,bcm2711".into()],
    )
    .map_err(fdt_error)?;
    tree.property_u32("#address-cells", 2).map_err(fdt_error)?;
    tree.property_u32("#size-cells", 1).map_err(fdt_error)?;
    let chosen = tree.begin_node("chosen").map_err(fdt_error)?;
    tree.end_node(chosen).map_err(fdt_error)?;
    let memory = tree.begin_node("memory@0").map_err(fdt_error)?;
    tree.property_string("device_type", "memory")
        .map_err(fdt_error)?;
    tree.property_array_u32("reg", &[0, 0, 0x3c00_0000])
        .map_err(fdt_error)?;
    tree.end_node(memory).map_err(fdt_error)?;
    let cpus = tree.begin_node("cpus").map_err(fdt_error)?;
    tree.property_u32("#address-cells", 1).map_err(fdt_error)?;
    tree.property_u32("#size-cells", 0).map_err(fdt_error)?;
    for core in 0..4u32 {
        let node = tree.begin_node(&format!("cpu@{core}")).map_err(fdt_error)?;
        tree.property_string("device_type", "cpu")
            .map_err(fdt_error)?;
        tree.property_string("compatible", "arm,cortex-a72")
            .map_err(fdt_error)?;
        tree.property_u32("reg", core).map_err(fdt_error)?;
        tree.property_string("enable-method", "spin-table")
            .map_err(fdt_error)?;
        tree.property_array_u32("cpu-release-addr", &[0, 0xd8 + 8 * core])
            .map_err(fdt_error)?;
        tree.end_node(node).map_err(fdt_error)?;
    }
    tree.end_node(cpus).map_err(fdt_error)?;
    tree.end_node(root).map_err(fdt_error)?;
    tree.finish().map_err(fdt_error)
}

/// The Debian suite whose `arm-trusted-firmware` has the `rpi4` BL31 (2.8).
pub const TF_A_SUITE: &str = "bookworm";
/// The package.
pub const TF_A_PACKAGE: &str = "arm-trusted-firmware";
/// The BL31 inside it.
pub const TF_A_BL31: &str = "usr/lib/arm-trusted-firmware/rpi4/bl31.bin";
/// The armstub magic the Pi's GPU firmware looks for at 0xf0 in an armstub,
/// before it writes the device tree's and the kernel's addresses after it.
pub const ARMSTUB_MAGIC: u32 = 0x5afe_570b;
/// Where TF-A's BL31 expects the device tree when xtask fills its header.
pub const TF_A_DEVICE_TREE_ADDRESS: u32 = crate::qemu::RASPI_TF_A_DEVICE_TREE_ADDRESS as u32;

/// TF-A's `rpi4` BL31, from Debian bookworm's `arm-trusted-firmware`
/// (arm64; extracted, not installed), cached beside xtask's QEMU.
pub fn tf_a_bl31() -> Result<PathBuf> {
    let cache = crate::raspi_qemu::cache_directory()?.with_file_name("tf-a-rpi4");
    let bl31 = cache.join("bl31.bin");
    if bl31.is_file() {
        return Ok(bl31);
    }
    println!(
        "fetching TF-A's rpi4 BL31: {TF_A_PACKAGE} (arm64) from Debian {TF_A_SUITE}, extracted into {}",
        cache.display()
    );
    crate::raspi_qemu::extract_from_debian_package(
        &cache,
        TF_A_SUITE,
        TF_A_PACKAGE,
        Some("arm64"),
        Path::new(TF_A_BL31),
        &bl31,
    )?;
    Ok(bl31)
}

/// BL31 with its header filled in as the Pi's GPU firmware fills an armstub's:
/// the magic at 0xf0 cleared, the device tree's address at 0xf8, the
/// kernel's entry at 0xfc (QEMU has no GPU firmware to do it).
pub fn fill_armstub_header(bl31: &[u8], device_tree: u32, kernel: u32) -> Result<Vec<u8>> {
    let word = |offset: usize| {
        bl31.get(offset..offset + 4)
            .map(|bytes| u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    };
    match word(0xf0) {
        Some(ARMSTUB_MAGIC) => {}
        Some(other) => {
            return Err(Error::new(format!(
                "BL31 has {other:#x} at 0xf0, not the armstub magic {ARMSTUB_MAGIC:#x}"
            )))
        }
        None => return Err(Error::new("BL31 is shorter than its armstub header")),
    }
    let mut filled = bl31.to_vec();
    filled[0xf0..0xf4].copy_from_slice(&0u32.to_le_bytes());
    filled[0xf8..0xfc].copy_from_slice(&device_tree.to_le_bytes());
    filled[0xfc..0x100].copy_from_slice(&kernel.to_le_bytes());
    Ok(filled)
}

/// Builds the Pi kernel with `features` and writes its raw image to
/// `directory/kernel8.img`; returns (the ELF, the image).
pub fn kernel_image(
    workspace: &Workspace,
    features: &[impl AsRef<str>],
    directory: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let elf = build::build_board(workspace, Board::RaspberryPi4b, features)?;
    fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let image = directory.join(KERNEL_IMAGE);
    image::write_binary(
        &elf,
        &image,
        BinaryStart::At(Board::RaspberryPi4b.load_address()),
    )?;
    Ok((elf, image))
}

/// `cargo xtask image --board raspberrypi4b`: the SD card's boot folder.
pub fn sd_folder(workspace: &Workspace, features: &[String]) -> Result<PathBuf> {
    let directory = workspace.target_directory.join(SD_FOLDER);
    let (elf, image) = kernel_image(workspace, features, &directory)?;
    fs::write(directory.join(CONFIG_FILE), config_text())
        .with_context(|| format!("cannot write {}", directory.join(CONFIG_FILE).display()))?;
    // The ELF decodes the console's defmt log (`cargo xtask console`).
    fs::copy(&elf, directory.join(Board::RaspberryPi4b.package()))
        .with_context(|| format!("cannot copy {}", elf.display()))?;
    let size = fs::metadata(&image)?.len();
    eprintln!(
        "{KERNEL_IMAGE}: {size} bytes, loaded at {:#x}; copy {KERNEL_IMAGE} and {CONFIG_FILE} \
         onto the SD card's boot partition with the firmware files (README: \"Flash a Raspberry Pi 4\")",
        Board::RaspberryPi4b.load_address()
    );
    Ok(directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_pins_the_load_address_and_the_pl011_console() {
        let text = config_text();
        for line in [
            "arm_64bit=1",
            "kernel=kernel8.img",
            "kernel_address=0x80000",
            "enable_uart=1",
            "dtoverlay=disable-bt",
        ] {
            assert!(text.lines().any(|found| found == line), "{line}");
        }
        assert!(!text.lines().any(|line| line.starts_with("armstub")));
    }

    #[test]
    fn the_armstub_header_is_filled_as_the_gpu_firmware_fills_it() {
        let mut bl31 = vec![0xaa; 0x200];
        bl31[0xf0..0xf4].copy_from_slice(&ARMSTUB_MAGIC.to_le_bytes());
        let filled = fill_armstub_header(&bl31, 0x0300_0000, 0x8_0000).unwrap();
        assert_eq!(&filled[0xf0..0xf4], &[0, 0, 0, 0]);
        assert_eq!(&filled[0xf8..0xfc], &0x0300_0000u32.to_le_bytes());
        assert_eq!(&filled[0xfc..0x100], &0x8_0000u32.to_le_bytes());
        assert_eq!(&filled[..0xf0], &bl31[..0xf0]);
        assert_eq!(&filled[0x100..], &bl31[0x100..]);
        assert!(fill_armstub_header(&[0; 0x200], 0, 0).is_err(), "no magic");
        assert!(fill_armstub_header(&[0; 0x80], 0, 0).is_err(), "too short");
    }

    #[test]
    fn the_device_tree_is_a_valid_blob_with_four_spin_table_cores() {
        let blob = device_tree().unwrap();
        assert_eq!(&blob[..4], &0xd00d_feedu32.to_be_bytes());
        let total = u32::from_be_bytes(blob[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, blob.len());
        let text = String::from_utf8_lossy(&blob);
        assert!(text.contains("spin-table"));
        assert!(text.contains("cpu-release-addr"));
        assert!(!text.contains("psci"));
    }
}
