//! What the main loop needs of an interrupt controller, whichever GIC the
//! SoC has: [`GicV2`](crate::gicv2::GicV2) (GIC-400, Raspberry Pi 4) and
//! [`GicV3`](crate::gicv3::GicV3) (QEMU `virt`) both implement
//! [`InterruptController`], and a chip's `Chip::service_pending_interrupts`
//! is [`service_pending_interrupts`] with its own dispatch.
//!
//! ```ignore
//! fn service_pending_interrupts(&self) {
//!     armv8a::interrupt_controller::service_pending_interrupts(&self.gic, |id| match id {
//!         PHYSICAL_TIMER_INTERRUPT => { self.timer.handle_interrupt(); true }
//!         _ => false,
//!     });
//! }
//! ```

/// Interrupt IDs 1020–1023 are special (1023: spurious, nothing pending).
pub const FIRST_SPECIAL_INTERRUPT: u32 = 1020;

/// Most interrupts handled in one main-loop turn, so that a storm cannot
/// starve deferred calls and the init queue.
pub const INTERRUPTS_PER_TURN: usize = 32;

/// An interrupt the controller has acknowledged and this core now handles.
///
/// Only [`InterruptController::acknowledge`] makes one, and
/// [`InterruptController::end_of_interrupt`] consumes it, so an interrupt
/// is ended exactly once and only after it was acknowledged. It keeps the
/// whole acknowledge value: a GICv2 SGI carries its source core there, and
/// the end-of-interrupt write must echo it.
#[must_use = "an acknowledged interrupt must be ended with end_of_interrupt"]
#[derive(Debug, PartialEq, Eq)]
pub struct Acknowledged {
    raw: u32,
    id: u32,
}

impl Acknowledged {
    /// The interrupt `id`, acknowledged with the register value `raw`.
    pub(crate) const fn new(id: u32, raw: u32) -> Acknowledged {
        Acknowledged { raw, id }
    }

    /// The interrupt ID.
    pub const fn id(&self) -> u32 {
        self.id
    }

    /// The value read from the acknowledge register.
    pub(crate) const fn raw(&self) -> u32 {
        self.raw
    }
}

/// An interrupt controller as the kernel's main loop uses it: interrupts
/// are polled (the kernel runs with IRQs masked), acknowledged, dispatched
/// and ended.
pub trait InterruptController {
    /// Enables the controller for this (the boot) core: the distributor and
    /// this core's CPU interface, every interrupt disabled until
    /// [`enable_interrupt`](Self::enable_interrupt).
    fn initialise(&self);

    /// Enables interrupt `id` (routed to this core) with the default priority.
    fn enable_interrupt(&self, id: u32);

    /// Disables interrupt `id`.
    fn disable_interrupt(&self, id: u32);

    /// Whether an enabled interrupt is pending for this core.
    fn has_pending(&self) -> bool;

    /// Acknowledges the highest-priority pending interrupt, if any.
    fn acknowledge(&self) -> Option<Acknowledged>;

    /// Ends the handling of an acknowledged interrupt.
    fn end_of_interrupt(&self, interrupt: Acknowledged);
}

/// Acknowledges, dispatches and ends what is pending, at most
/// [`INTERRUPTS_PER_TURN`] interrupts. `dispatch` handles one interrupt ID
/// and says whether it knew it; an interrupt nobody knows is logged and
/// disabled, so it cannot storm.
pub fn service_pending_interrupts<C: InterruptController + ?Sized>(
    controller: &C,
    mut dispatch: impl FnMut(u32) -> bool,
) {
    for _ in 0..INTERRUPTS_PER_TURN {
        let Some(interrupt) = controller.acknowledge() else {
            return;
        };
        let id = interrupt.id();
        if !dispatch(id) {
            defmt::warn!("gic: unexpected interrupt {=u32}; disabling it", id);
            controller.disable_interrupt(id);
        }
        controller.end_of_interrupt(interrupt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use std::vec::Vec;

    /// A controller with a queue of pending interrupts that records calls.
    #[derive(Default)]
    struct Recorder {
        pending: RefCell<Vec<u32>>,
        calls: RefCell<Vec<std::string::String>>,
    }

    impl InterruptController for Recorder {
        fn initialise(&self) {}
        fn enable_interrupt(&self, _: u32) {}
        fn disable_interrupt(&self, id: u32) {
            self.calls.borrow_mut().push(std::format!("disable {id}"));
        }
        fn has_pending(&self) -> bool {
            !self.pending.borrow().is_empty()
        }
        fn acknowledge(&self) -> Option<Acknowledged> {
            let mut pending = self.pending.borrow_mut();
            (!pending.is_empty()).then(|| {
                let id = pending.remove(0);
                Acknowledged::new(id, id | 0x400)
            })
        }
        fn end_of_interrupt(&self, interrupt: Acknowledged) {
            self.calls
                .borrow_mut()
                .push(std::format!("end {:#x}", interrupt.raw()));
        }
    }

    #[test]
    fn dispatches_ends_and_disables_unknown_interrupts() {
        let controller = Recorder::default();
        controller.pending.borrow_mut().extend([30, 77, 30]);
        let mut handled = Vec::new();
        service_pending_interrupts(&controller, |id| {
            handled.push(id);
            id == 30
        });
        assert_eq!(handled, [30, 77, 30]);
        assert_eq!(
            *controller.calls.borrow(),
            ["end 0x41e", "disable 77", "end 0x44d", "end 0x41e"]
        );
    }

    #[test]
    fn a_storm_is_cut_at_the_turn_limit() {
        let controller = Recorder::default();
        controller
            .pending
            .borrow_mut()
            .extend(core::iter::repeat_n(30, INTERRUPTS_PER_TURN + 5));
        let mut count = 0;
        service_pending_interrupts(&controller, |_| {
            count += 1;
            true
        });
        assert_eq!(count, INTERRUPTS_PER_TURN);
        assert!(controller.has_pending());
    }
}
