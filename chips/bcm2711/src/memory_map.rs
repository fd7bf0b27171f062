//! Physical addresses of the BCM2711 (low-peripheral mode, as the Pi 4's
//! firmware sets it) and the Raspberry Pi 4 board.

/// The power management block (watchdog, reset status).
pub const POWER_MANAGEMENT_BASE: usize = 0xfe10_0000;
/// GPIO function select, pulls.
pub const GPIO_BASE: usize = 0xfe20_0000;
/// UART0, a PL011: the console on GPIO 14/15.
pub const UART0_BASE: usize = 0xfe20_1000;
/// The PL011's reference clock (`init_uart_clock`, the firmware's default).
pub const UART0_CLOCK_HZ: u32 = 48_000_000;
/// The console's baud rate.
pub const CONSOLE_BAUD: u32 = 115_200;
/// UART0's interrupt on the GIC-400: VideoCore peripheral interrupt 57,
/// which the BCM2711 routes to SPI 64 + 57 = 121 (the Pi 4 device tree's
/// `interrupts = <GIC_SPI 121 IRQ_TYPE_LEVEL_HIGH>`), interrupt ID 153.
pub const UART0_INTERRUPT: u32 = 32 + 121;
/// GIC-400 distributor.
pub const GIC_DISTRIBUTOR_BASE: usize = 0xff84_1000;
/// GIC-400 CPU interface.
pub const GIC_CPU_INTERFACE_BASE: usize = 0xff84_2000;
/// Where the firmware loads and enters `kernel8.img` (`kernel_address`).
pub const KERNEL_BASE: usize = 0x8_0000;
/// The spin table's release word of core 1 (core n: `+ 8·(n-1)`), used
/// when no device tree names them (the stock armstub's and QEMU's).
pub const SPIN_TABLE_CORE_1: u64 = 0xe0;
/// Cores of the BCM2711.
pub const CORE_COUNT: usize = 4;

/// What the kernel maps: DRAM in the first GiB (the kernel uses no more,
/// whatever the board's size), the peripherals and the GIC in the fourth.
pub const MEMORY_LAYOUT: armv8a::mmu::MemoryLayout = {
    use armv8a::mmu::Gigabyte::{Devices, Memory, Unmapped};
    [Memory, Unmapped, Unmapped, Devices]
};
