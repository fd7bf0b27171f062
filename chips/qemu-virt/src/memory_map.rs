//! Physical addresses of the QEMU `virt` board's devices and memory.

use kernel::device_tree::DeviceTreeError;
use kernel::hil::hypervisor::MemoryRange;

/// GICv3 distributor.
pub const GIC_DISTRIBUTOR_BASE: usize = 0x0800_0000;
/// GICv3 redistributor of core 0.
pub const GIC_REDISTRIBUTOR_BASE: usize = 0x080a_0000;
/// Non-secure PL011 UART (QEMU's first `-serial`).
pub const UART0_BASE: usize = 0x0900_0000;
/// GIC interrupt ID of UART0: SPI 1.
pub const UART0_INTERRUPT: u32 = 33;
/// Start of DRAM; with `-bios`, QEMU keeps the device tree in its first MiB.
pub const DRAM_BASE: usize = 0x4000_0000;
/// Where the kernel image is linked and entered (TF-A's BL33 address).
pub const KERNEL_BASE: usize = 0x6000_0000;

/// What the kernel maps: devices in the first GiB, DRAM above (the runner
/// gives QEMU 1 GiB; the map covers up to 3 GiB of it).
pub const MEMORY_LAYOUT: armv8a::mmu::MemoryLayout = {
    use armv8a::mmu::Gigabyte::{Devices, Memory};
    [Devices, Memory, Memory, Memory]
};
/// The devices the kernel drives (GIC, UARTs, RTC, flash, ...): everything
/// below DRAM, which protected mode's EL2 maps for it as device memory.
pub const DEVICES: MemoryRange = MemoryRange::new(0, DRAM_BASE as u64);
/// DRAM when the device tree cannot say (the runner gives QEMU 1 GiB).
pub const DEFAULT_DRAM: MemoryRange = MemoryRange::new(DRAM_BASE as u64, 1 << 30);
/// The largest device tree read (QEMU's is a few KiB).
const DEVICE_TREE_MAX: usize = 1 << 20;

/// Where the DRAM size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DramSource {
    /// The device tree's memory node.
    DeviceTree,
    /// [`DEFAULT_DRAM`]: the tree could not be read (why).
    Default(DeviceTreeError),
}

/// The DRAM the device tree at `device_tree_address` describes (its first
/// memory range, if it starts at [`DRAM_BASE`]), or [`DEFAULT_DRAM`]. With
/// `-bios`, QEMU keeps the tree at [`DRAM_BASE`], where the firmware may not
/// say (TF-A enters the kernel with x0 = 0): 0 means look there.
pub fn dram(device_tree_address: u64) -> (MemoryRange, DramSource) {
    let address = if device_tree_address == 0 {
        DRAM_BASE as u64
    } else {
        device_tree_address
    };
    match device_tree(address).map(kernel::device_tree::memory) {
        Some(Ok(ranges)) => match ranges.ranges().first() {
            Some(&(base, size)) if base == DRAM_BASE as u64 => {
                (MemoryRange::new(base, size), DramSource::DeviceTree)
            }
            _ => (DEFAULT_DRAM, DramSource::Default(DeviceTreeError::NoMemory)),
        },
        Some(Err(error)) => (DEFAULT_DRAM, DramSource::Default(error)),
        None => (
            DEFAULT_DRAM,
            DramSource::Default(DeviceTreeError::BadHeader),
        ),
    }
}

/// The device tree blob at `address`, if its header is there and sane.
fn device_tree(address: u64) -> Option<&'static [u8]> {
    let dram = DEFAULT_DRAM;
    let header_range = MemoryRange::new(address, 8);
    if !dram.contains(&header_range) || !address.is_multiple_of(8) {
        return None;
    }
    // SAFETY: the 8 bytes lie in DRAM, which the kernel's identity map
    // maps; nothing writes the tree (the kernel never uses that memory).
    let header = unsafe { core::slice::from_raw_parts(address as *const u8, 8) };
    let total = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if total > DEVICE_TREE_MAX || !dram.contains(&MemoryRange::new(address, total as u64)) {
        return None;
    }
    // SAFETY: as above, for the `total` bytes the header claims, checked to
    // lie in DRAM and to be at most 1 MiB.
    Some(unsafe { core::slice::from_raw_parts(address as *const u8, total) })
}
