//! What the main loop needs of an interrupt controller, whichever GIC the
//! SoC has: [`GicV2`](crate::gicv2::GicV2) (GIC-400, Raspberry Pi 4) and
//! [`GicV3`](crate::gicv3::GicV3) (QEMU `virt`) both implement
//! [`InterruptController`], and a chip's `Chip::service_pending_interrupts`
//! is [`service_pending_interrupts`] with its own dispatch.
//!
//! A chip lends interrupt lines to capsules at run time (the kernel's
//! `InterruptLines` HIL: the FF-A schedule receiver interrupt, a
//! partition's doorbell) through [`LendableLines`], whichever GIC it has:
//! the lines its own drivers use are reserved, the rest up to the
//! controller's line count may be claimed, enabled at the controller and
//! dispatched to the claiming capsule.
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

use kernel::hil::interrupt::{InterruptClient, LentLines};
use kernel::ErrorCode;

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
    /// Number of interrupt IDs the distributor implements (a multiple of
    /// 32, at most [`FIRST_SPECIAL_INTERRUPT`]).
    fn line_count(&self) -> u32;

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

/// The lines a chip lends to capsules (`kernel::hil::interrupt::InterruptLines`),
/// over its interrupt controller: at most `N` at once, never one of the
/// chip's `reserved` lines (its own drivers': the timer, the console's
/// UART) nor one the controller does not implement.
///
/// The chip implements `InterruptLines` with [`LendableLines::claim`] and
/// [`LendableLines::release`], and ends its dispatch with
/// [`LendableLines::dispatch`] (an interrupt nobody claimed is then
/// disabled by [`service_pending_interrupts`]).
///
/// ```ignore
/// other => self.lent.dispatch(other), // the last arm of the chip's dispatch
/// ```
pub struct LendableLines<'a, const N: usize> {
    lent: LentLines<'a, N>,
    reserved: &'static [u32],
}

impl<'a, const N: usize> LendableLines<'a, N> {
    /// No line lent; `reserved` are never lent.
    pub const fn new(reserved: &'static [u32]) -> Self {
        LendableLines {
            lent: LentLines::new(),
            reserved,
        }
    }

    /// Enables interrupt `id` at `controller` and routes it to `client`:
    /// `INVAL` for a reserved line or one beyond the controller's lines
    /// (special IDs included), `ALREADY` if another client holds it,
    /// `NOMEM` if `N` lines are lent already.
    pub fn claim<C: InterruptController + ?Sized>(
        &self,
        controller: &C,
        id: u32,
        client: &'a dyn InterruptClient,
    ) -> Result<(), ErrorCode> {
        if self.reserved.contains(&id) || id >= controller.line_count().min(FIRST_SPECIAL_INTERRUPT)
        {
            defmt::error!("gic: interrupt {=u32} cannot be lent", id);
            return Err(ErrorCode::INVAL);
        }
        self.lent.claim(id, client)?;
        controller.enable_interrupt(id);
        Ok(())
    }

    /// Disables interrupt `id` at `controller` and forgets its client;
    /// `ALREADY` if it was not lent.
    pub fn release<C: InterruptController + ?Sized>(
        &self,
        controller: &C,
        id: u32,
    ) -> Result<(), ErrorCode> {
        self.lent.release(id)?;
        controller.disable_interrupt(id);
        Ok(())
    }

    /// Tells `id`'s client; `false` if `id` is not lent.
    pub fn dispatch(&self, id: u32) -> bool {
        self.lent.dispatch(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::{Cell, RefCell};
    use std::vec::Vec;

    /// A controller with a queue of pending interrupts that records calls.
    #[derive(Default)]
    struct Recorder {
        pending: RefCell<Vec<u32>>,
        calls: RefCell<Vec<std::string::String>>,
    }

    impl InterruptController for Recorder {
        fn line_count(&self) -> u32 {
            224
        }
        fn initialise(&self) {}
        fn enable_interrupt(&self, id: u32) {
            self.calls.borrow_mut().push(std::format!("enable {id}"));
        }
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

    /// Counts the interrupts it is told of.
    struct Counter(Cell<u32>);

    impl InterruptClient for Counter {
        fn interrupt(&self, _id: u32) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn lent_lines_are_checked_enabled_dispatched_and_disabled() {
        let controller = Recorder::default();
        let client = Counter(Cell::new(0));
        let lines: LendableLines<'_, 2> = LendableLines::new(&[30, 153]);
        // The chip's own lines, lines beyond the distributor's and special IDs.
        for id in [30, 153, 224, 1020, 1023] {
            assert_eq!(lines.claim(&controller, id, &client), Err(ErrorCode::INVAL));
        }
        assert!(controller.calls.borrow().is_empty(), "nothing enabled");
        // A partition's doorbell (SPI 130) and the SRI (SGI 8).
        lines.claim(&controller, 130, &client).unwrap();
        lines.claim(&controller, 8, &client).unwrap();
        assert_eq!(
            lines.claim(&controller, 130, &client),
            Err(ErrorCode::ALREADY)
        );
        assert_eq!(lines.claim(&controller, 9, &client), Err(ErrorCode::NOMEM));
        assert_eq!(*controller.calls.borrow(), ["enable 130", "enable 8"]);

        controller.pending.borrow_mut().extend([130, 8, 77]);
        service_pending_interrupts(&controller, |id| lines.dispatch(id));
        assert_eq!(client.0.get(), 2);

        lines.release(&controller, 130).unwrap();
        assert_eq!(lines.release(&controller, 130), Err(ErrorCode::ALREADY));
        controller.pending.borrow_mut().push(130);
        service_pending_interrupts(&controller, |id| lines.dispatch(id));
        assert_eq!(client.0.get(), 2, "released: no longer the client's");
        assert_eq!(
            controller.calls.borrow()[2..],
            [
                "end 0x482",
                "end 0x408",
                "disable 77",
                "end 0x44d",
                "disable 130",
                "disable 130",
                "end 0x482"
            ]
        );
        // Released lines may be lent again.
        lines.claim(&controller, 9, &client).unwrap();
    }
}
