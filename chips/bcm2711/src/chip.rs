//! The BCM2711 chip: GIC-400 interrupt dispatch and sleep for the main loop,
//! and interrupt lines lent to capsules at run time (as on `virt`: the FF-A
//! schedule receiver interrupt, a partition's doorbell, wherever a Pi
//! firmware has an SPMC). The core is the one every SoC shares
//! (`armv8a_soc::Soc`); this module says where the BCM2711's devices are.

use armv8a::gicv2::GicV2;

use crate::memory_map;

/// Where the BCM2711's devices are: the GIC-400, and UART0 (GPIO 14/15).
pub enum Layout {}

impl armv8a_soc::Layout for Layout {
    type Gic = GicV2<'static>;
    const UART0_BASE: usize = memory_map::UART0_BASE;
    const UART0_INTERRUPT: u32 = memory_map::UART0_INTERRUPT;

    fn gic() -> GicV2<'static> {
        // SAFETY: the GIC-400's distributor and CPU interface are at
        // these addresses on every BCM2711 in low-peripheral mode, and
        // the chip's memory layout maps them as devices.
        unsafe {
            GicV2::new(
                memory_map::GIC_DISTRIBUTOR_BASE,
                memory_map::GIC_CPU_INTERFACE_BASE,
            )
        }
    }
}

/// The BCM2711 SoC: the GIC-400, the EL1 physical timer as the kernel's
/// alarm, and UART0 (GPIO 14/15), on which the defmt log goes out and the
/// console's input comes in. Its `initialise` sets UART0's line before
/// the first log line ([`crate::console::initialise`]).
pub type Bcm2711<'a> = armv8a_soc::Soc<'a, Layout>;
