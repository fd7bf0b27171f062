//! The BCM2711 chip: GIC-400 interrupt dispatch and sleep for the main loop.

use armv8a::gicv2::GicV2;
use armv8a::interrupt_controller::{self, InterruptController};
use armv8a::timer::{GenericTimer, PHYSICAL_TIMER_INTERRUPT};
use kernel::platform::chip::Chip;

use crate::memory_map;

/// The BCM2711 SoC.
pub struct Bcm2711<'a> {
    /// The GIC-400.
    pub gic: GicV2<'static>,
    /// The EL1 physical timer, used as the kernel's alarm.
    pub timer: GenericTimer<'a>,
}

impl<'a> Bcm2711<'a> {
    /// The chip with its devices at their BCM2711 addresses.
    pub const fn new() -> Self {
        Bcm2711 {
            // SAFETY: the GIC-400's distributor and CPU interface are at
            // these addresses on every BCM2711 in low-peripheral mode, and
            // the chip's memory layout maps them as devices.
            gic: unsafe {
                GicV2::new(
                    memory_map::GIC_DISTRIBUTOR_BASE,
                    memory_map::GIC_CPU_INTERFACE_BASE,
                )
            },
            timer: GenericTimer::new(),
        }
    }

    /// Enables the GIC and the timer interrupt.
    pub fn initialise(&self) {
        self.gic.initialise();
        self.gic.enable_interrupt(PHYSICAL_TIMER_INTERRUPT);
    }
}

impl Default for Bcm2711<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Chip for Bcm2711<'_> {
    fn service_pending_interrupts(&self) {
        interrupt_controller::service_pending_interrupts(&self.gic, |id| match id {
            PHYSICAL_TIMER_INTERRUPT => {
                self.timer.handle_interrupt();
                true
            }
            _ => false,
        });
    }

    fn has_pending_interrupts(&self) -> bool {
        self.gic.has_pending()
    }

    fn sleep(&self) {
        aarch64_cpu::asm::wfi();
    }
}
