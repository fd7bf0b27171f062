//! The QEMU `virt` chip: GICv3 interrupt dispatch and sleep for the main loop,
//! and interrupt lines lent to capsules at run time (the FF-A schedule
//! receiver interrupt, a partition's doorbell).

use armv8a::gicv3::GicV3;
use armv8a::interrupt_controller::{self, InterruptController, LendableLines};
use armv8a::timer::{GenericTimer, PHYSICAL_TIMER_INTERRUPT};
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::interrupt::{InterruptClient, InterruptLines};
use kernel::platform::chip::Chip;
use kernel::ErrorCode;
use pl011::Pl011;

use crate::memory_map;

/// Interrupt lines capsules may hold at once.
const LENT_LINES: usize = 4;
/// The lines the chip's own drivers use, never lent.
const RESERVED_LINES: [u32; 2] = [PHYSICAL_TIMER_INTERRUPT, memory_map::UART0_INTERRUPT];

/// The QEMU `virt` SoC.
pub struct QemuVirt<'a> {
    /// The interrupt controller.
    pub gic: GicV3,
    /// The EL1 physical timer, used as the kernel's alarm.
    pub timer: GenericTimer<'a>,
    /// Interrupt lines capsules claimed.
    lent: LendableLines<'a, LENT_LINES>,
    /// The non-secure PL011 (serial 0): the defmt log goes out on it, and
    /// the console's input comes in on it.
    pub uart0: Pl011<'a>,
}

impl<'a> QemuVirt<'a> {
    /// The chip with its devices at their `virt` addresses.
    pub fn new() -> Self {
        QemuVirt {
            gic: GicV3::new(
                memory_map::GIC_DISTRIBUTOR_BASE,
                memory_map::GIC_REDISTRIBUTOR_BASE,
            ),
            timer: GenericTimer::new(),
            lent: LendableLines::new(&RESERVED_LINES),
            uart0: Pl011::new(memory_map::UART0_BASE),
        }
    }

    /// Enables the GIC, the timer interrupt and UART0 (whose receive
    /// interrupts stay masked at the UART until a client receives), and
    /// registers the devices' deferred calls.
    pub fn initialise(&'static self) {
        self.gic.initialise();
        self.gic.enable_interrupt(PHYSICAL_TIMER_INTERRUPT);
        self.uart0.initialise();
        self.uart0.register();
        self.gic.enable_interrupt(memory_map::UART0_INTERRUPT);
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
            memory_map::UART0_INTERRUPT => {
                self.uart0.handle_interrupt();
                true
            }
            other => self.lent.dispatch(other),
        });
    }

    fn has_pending_interrupts(&self) -> bool {
        self.gic.has_pending()
    }

    fn sleep(&self) {
        aarch64_cpu::asm::wfi();
    }
}

impl<'a> InterruptLines<'a> for QemuVirt<'a> {
    fn claim(&self, id: u32, client: &'a dyn InterruptClient) -> Result<(), ErrorCode> {
        self.lent.claim(&self.gic, id, client)
    }

    fn release(&self, id: u32) -> Result<(), ErrorCode> {
        self.lent.release(&self.gic, id)
    }
}
