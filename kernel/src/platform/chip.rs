//! The [`Chip`] trait: interrupt servicing and sleep.

/// A chip as seen by the main loop.
///
/// The kernel thread runs with IRQs masked; interrupts are taken by polling
/// the interrupt controller from the main loop (`wfi` still wakes on a
/// pending interrupt while PSTATE.I is set), so interrupt handlers never run
/// in the middle of a downcall.
pub trait Chip {
    /// Handles every interrupt that is pending now, dispatching each to its driver.
    fn service_pending_interrupts(&self);

    /// Whether an interrupt is pending.
    fn has_pending_interrupts(&self) -> bool;

    /// Sleeps until an interrupt is pending.
    fn sleep(&self);
}
