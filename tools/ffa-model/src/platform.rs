//! What the secure world needs of the machine it runs on, beyond memory:
//! time, the normal world's interrupts and a secure timer.
//!
//! The EL3 test firmware implements [`Platform`] with the generic timer and
//! the GICv3 (an interrupt made pending through the redistributor or the
//! distributor; the secure physical timer, taken as a FIQ at EL3); host
//! tests implement it with a clock they move and a list of raised
//! interrupts. [`FixedClock`] is the machine of a caller that only has a
//! time: no interrupts, no timer.
//!
//! Partitions use it to be preempted (a partition at work is preempted
//! whenever an interrupt the normal world enabled is pending, as an SPMC
//! preempts a partition for a non-secure interrupt), to raise the schedule
//! receiver interrupt, and to do something later (the secure timer).

/// The machine the secure world runs on.
pub trait Platform {
    /// A monotonic time in microseconds.
    fn now_microseconds(&mut self) -> u64;

    /// Whether an interrupt the normal world enabled is pending on this core
    /// (the normal world has not taken it yet).
    fn non_secure_interrupt_pending(&mut self) -> bool;

    /// Makes interrupt `id` pending for the normal world: an SGI (0–15) on
    /// this core, or an SPI (32 and up).
    fn raise_non_secure_interrupt(&mut self, id: u32);

    /// Arms the secure timer to call [`crate::SecureWorld::secure_timer_expired`]
    /// at `deadline_microseconds` (`None`: disarm it).
    fn set_secure_timer(&mut self, deadline_microseconds: Option<u64>);
}

/// A machine with a fixed time and nothing else: interrupts raised are
/// dropped, none is ever pending, the timer is never armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub u64);

impl Platform for FixedClock {
    fn now_microseconds(&mut self) -> u64 {
        self.0
    }

    fn non_secure_interrupt_pending(&mut self) -> bool {
        false
    }

    fn raise_non_secure_interrupt(&mut self, _id: u32) {}

    fn set_secure_timer(&mut self, _deadline_microseconds: Option<u64>) {}
}
