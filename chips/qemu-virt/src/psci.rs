//! PSCI power control over the SMC conduit (the test firmware's, or TF-A's).
//!
//! `SYSTEM_OFF` carries the exit status in x1. Real PSCI firmware ignores it;
//! the project's QEMU test firmware uses it as QEMU's exit status, which is
//! how test scenarios see a failure.

use armv8a::conduit::SecureMonitorCall;
use kernel::hil::power::SystemPower;

pub use armv8a::psci::{PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, PSCI_VERSION};

/// Powers the system off, reporting `status` (0 = success) where the
/// firmware can. Never returns: if PSCI fails, the core halts.
pub fn system_off(status: u32) -> ! {
    armv8a::psci::system_off(&SecureMonitorCall, status)
}

/// Resets the system. Never returns: if PSCI fails, the core halts.
pub fn system_reset() -> ! {
    armv8a::psci::system_reset(&SecureMonitorCall)
}

/// PSCI as the kernel's [`SystemPower`] (the console's `poweroff` and
/// `reboot`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Psci;

impl SystemPower for Psci {
    fn power_off(&self, status: u32) -> ! {
        system_off(status)
    }

    fn reset(&self) -> ! {
        system_reset()
    }
}
