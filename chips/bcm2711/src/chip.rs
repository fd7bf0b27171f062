//! The BCM2711 chip: GIC-400 interrupt dispatch and sleep for the main loop,
//! and interrupt lines lent to capsules at run time (as on `virt`: the FF-A
//! schedule receiver interrupt, a partition's doorbell, wherever a Pi
//! firmware has an SPMC).

use armv8a::gicv2::GicV2;
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

/// The BCM2711 SoC.
pub struct Bcm2711<'a> {
    /// The GIC-400.
    pub gic: GicV2<'static>,
    /// The EL1 physical timer, used as the kernel's alarm.
    pub timer: GenericTimer<'a>,
    /// UART0 (GPIO 14/15): the defmt log goes out on it, and the console's
    /// input comes in on it.
    pub uart0: Pl011<'a>,
    /// Interrupt lines capsules claimed.
    lent: LendableLines<'a, LENT_LINES>,
}

impl<'a> Bcm2711<'a> {
    /// The chip with its devices at their BCM2711 addresses.
    pub fn new() -> Self {
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
            uart0: Pl011::new(memory_map::UART0_BASE),
            lent: LendableLines::new(&RESERVED_LINES),
        }
    }

    /// Enables the GIC, the timer interrupt and UART0's interrupt (whose
    /// receive interrupts stay masked at the UART until a client
    /// receives), and registers the devices' deferred calls. UART0's line
    /// is set before the first log line ([`crate::console::initialise`]).
    pub fn initialise(&'static self) {
        self.gic.initialise();
        self.gic.enable_interrupt(PHYSICAL_TIMER_INTERRUPT);
        self.uart0.initialise();
        self.uart0.register();
        self.gic.enable_interrupt(memory_map::UART0_INTERRUPT);
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

impl<'a> InterruptLines<'a> for Bcm2711<'a> {
    fn claim(&self, id: u32, client: &'a dyn InterruptClient) -> Result<(), ErrorCode> {
        self.lent.claim(&self.gic, id, client)
    }

    fn release(&self, id: u32) -> Result<(), ErrorCode> {
        self.lent.release(&self.gic, id)
    }
}
