#![doc = include_str!("../README.md")]
//!
//! ## Use
//!
//! ```ignore
//! // In the SoC crate:
//! pub enum Layout {}
//! impl armv8a_soc::Layout for Layout {
//!     type Gic = GicV3;
//!     const UART0_BASE: usize = memory_map::UART0_BASE;
//!     const UART0_INTERRUPT: u32 = memory_map::UART0_INTERRUPT;
//!     fn gic() -> GicV3 { GicV3::new(/* its addresses */) }
//! }
//! pub type QemuVirt<'a> = armv8a_soc::Soc<'a, Layout>;
//! // In the board:
//! let chip = kernel::static_init!(QemuVirt, QemuVirt::new());
//! chip.initialise();
//! ```

#![no_std]

use armv8a::interrupt_controller::{self, InterruptController, LendableLines};
use armv8a::timer::{GenericTimer, PHYSICAL_TIMER_INTERRUPT};
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::interrupt::{InterruptClient, InterruptLines};
use kernel::platform::chip::Chip;
use kernel::ErrorCode;
use pl011::Pl011;

/// Interrupt lines capsules may hold at once.
pub const LENT_LINES: usize = 4;

/// Where an SoC's devices are: its GIC, and UART0's address and interrupt.
pub trait Layout {
    /// The interrupt controller.
    type Gic: InterruptController;

    /// UART0's base address.
    const UART0_BASE: usize;

    /// UART0's interrupt ID at the GIC.
    const UART0_INTERRUPT: u32;

    /// The GIC at the SoC's addresses.
    fn gic() -> Self::Gic;
}

/// An SoC with the GIC of layout `L`, the generic timer and a PL011 UART0.
pub struct Soc<'a, L: Layout> {
    /// The interrupt controller.
    pub gic: L::Gic,
    /// The EL1 physical timer, used as the kernel's alarm.
    pub timer: GenericTimer<'a>,
    /// UART0: the defmt log goes out on it, and the console's input comes
    /// in on it.
    pub uart0: Pl011<'a>,
    /// Interrupt lines capsules claimed.
    lent: LendableLines<'a, LENT_LINES>,
}

impl<'a, L: Layout> Soc<'a, L> {
    /// The chip with its devices at the layout's addresses.
    pub fn new() -> Self {
        Soc {
            gic: L::gic(),
            timer: GenericTimer::new(),
            uart0: Pl011::new(L::UART0_BASE),
            // The lines the chip's own drivers use, never lent.
            lent: LendableLines::new(const { &[PHYSICAL_TIMER_INTERRUPT, L::UART0_INTERRUPT] }),
        }
    }

    /// Enables the GIC, the timer interrupt and UART0's interrupt (whose
    /// receive interrupts stay masked at the UART until a client
    /// receives), and registers the devices' deferred calls.
    pub fn initialise(&'static self) {
        self.gic.initialise();
        self.gic.enable_interrupt(PHYSICAL_TIMER_INTERRUPT);
        self.uart0.initialise();
        self.uart0.register();
        self.gic.enable_interrupt(L::UART0_INTERRUPT);
    }
}

impl<L: Layout> Default for Soc<'_, L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: Layout> Chip for Soc<'_, L> {
    fn service_pending_interrupts(&self) {
        interrupt_controller::service_pending_interrupts(&self.gic, |id| {
            if id == PHYSICAL_TIMER_INTERRUPT {
                self.timer.handle_interrupt();
                true
            } else if id == L::UART0_INTERRUPT {
                self.uart0.handle_interrupt();
                true
            } else {
                self.lent.dispatch(id)
            }
        });
    }

    fn has_pending_interrupts(&self) -> bool {
        self.gic.has_pending()
    }

    fn sleep(&self) {
        aarch64_cpu::asm::wfi();
    }
}

impl<'a, L: Layout> InterruptLines<'a> for Soc<'a, L> {
    fn claim(&self, id: u32, client: &'a dyn InterruptClient) -> Result<(), ErrorCode> {
        self.lent.claim(&self.gic, id, client)
    }

    fn release(&self, id: u32) -> Result<(), ErrorCode> {
        self.lent.release(&self.gic, id)
    }
}
