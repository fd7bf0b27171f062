//! The QEMU `virt` chip: GICv3 interrupt dispatch and sleep for the main loop,
//! and interrupt lines lent to capsules at run time (the FF-A schedule
//! receiver interrupt, a partition's doorbell). The core is the one every
//! SoC shares (`armv8a_soc::Soc`); this module says where `virt`'s devices
//! are.

use armv8a::gicv3::GicV3;

use crate::memory_map;

/// Where `virt`'s devices are: the GICv3, and the non-secure PL011
/// (serial 0).
pub enum Layout {}

impl armv8a_soc::Layout for Layout {
    type Gic = GicV3;
    const UART0_BASE: usize = memory_map::UART0_BASE;
    const UART0_INTERRUPT: u32 = memory_map::UART0_INTERRUPT;

    fn gic() -> GicV3 {
        GicV3::new(
            memory_map::GIC_DISTRIBUTOR_BASE,
            memory_map::GIC_REDISTRIBUTOR_BASE,
        )
    }
}

/// The QEMU `virt` SoC: the GICv3, the EL1 physical timer as the kernel's
/// alarm, and the non-secure PL011 (serial 0), on which the defmt log goes
/// out and the console's input comes in.
pub type QemuVirt<'a> = armv8a_soc::Soc<'a, Layout>;
