//! The QEMU `virt` chip: GICv3 interrupt dispatch and sleep for the main loop.

use armv8a::gicv3::GicV3;
use armv8a::interrupt_controller::{self, InterruptController};
use armv8a::timer::{GenericTimer, PHYSICAL_TIMER_INTERRUPT};
use kernel::platform::chip::Chip;

use crate::memory_map;

/// The QEMU `virt` SoC.
pub struct QemuVirt<'a> {
    /// The interrupt controller.
    pub gic: GicV3,
    /// The EL1 physical timer, used as the kernel's alarm.
    pub timer: GenericTimer<'a>,
}

impl<'a> QemuVirt<'a> {
    /// The chip with its devices at their `virt` addresses.
    pub const fn new() -> Self {
        QemuVirt {
            gic: GicV3::new(
                memory_map::GIC_DISTRIBUTOR_BASE,
                memory_map::GIC_REDISTRIBUTOR_BASE,
            ),
            timer: GenericTimer::new(),
        }
    }

    /// Enables the GIC and the timer interrupt.
    pub fn initialise(&self) {
        self.gic.initialise();
        self.gic.enable_interrupt(PHYSICAL_TIMER_INTERRUPT);
    }
}

impl Default for QemuVirt<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Chip for QemuVirt<'_> {
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
