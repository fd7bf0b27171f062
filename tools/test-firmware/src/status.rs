//! The firmware's own exit statuses.
//!
//! A run normally ends with the kernel's status, passed through PSCI
//! `SYSTEM_OFF` (0, 1 after a panic, 2 after a board set-up failure, 3 when
//! the FF-A root did not come up: the repository's README). When the
//! firmware itself fails it ends the run with one of these instead, from 10
//! up, so a firmware failure is never read as a kernel outcome.

/// The GIC, or a core's redistributor, did not come up.
pub const GIC_FAILED: u32 = 10;
/// An exception at EL3, or one from below that is not an SMC.
pub const FATAL_EXCEPTION: u32 = 11;
/// The firmware panicked.
pub const PANIC: u32 = 12;
/// The model's lock was never released, or an SMC came before the model
/// was installed.
pub const MODEL_UNAVAILABLE: u32 = 13;
/// A core's EL3 stack reached its guard ([`crate::stacks`]).
pub const STACK_OVERFLOW: u32 = 14;
