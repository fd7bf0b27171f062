//! System power: switch the machine off, or reset it.
//!
//! Chips implement it with their firmware interface (PSCI on Armv8-A);
//! capsules that offer power control to a user (the console's `poweroff`
//! and `reboot`) hold a `&dyn SystemPower`.
//!
//! ```ignore
//! power.power_off(0); // never returns
//! ```

/// Power control of the whole system.
pub trait SystemPower {
    /// Switches the system off, reporting `status` (0 = success) where the
    /// firmware can (QEMU's test firmware makes it QEMU's exit status).
    /// Never returns: if the firmware refuses, the core halts.
    fn power_off(&self, status: u32) -> !;

    /// Resets the system. Never returns: if the firmware refuses, the core
    /// halts.
    fn reset(&self) -> !;
}
