//! Physical addresses of the QEMU `virt` board's devices and memory.

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
