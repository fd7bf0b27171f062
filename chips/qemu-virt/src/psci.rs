//! PSCI power control over the SMC conduit.
//!
//! `SYSTEM_OFF` carries the exit status in x1. Real PSCI firmware ignores it;
//! the project's QEMU test firmware uses it as QEMU's exit status, which is
//! how test scenarios see a failure.

use armv8a::conduit::SecureMonitorCall;
use kernel::hil::power::SystemPower;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

/// PSCI_VERSION.
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// PSCI SYSTEM_OFF.
pub const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;
/// PSCI SYSTEM_RESET.
pub const PSCI_SYSTEM_RESET: u32 = 0x8400_0009;

/// Powers the system off, reporting `status` (0 = success) where the
/// firmware can. Never returns: if PSCI fails, the core halts.
pub fn system_off(status: u32) -> ! {
    let mut call = SmcccRegisters::with_function(PSCI_SYSTEM_OFF);
    call.x[1] = status as u64;
    let reply = SecureMonitorCall.call(&call);
    defmt::error!("psci: SYSTEM_OFF returned {=u64:#x}; halting", reply.x[0]);
    halt()
}

/// Resets the system. Never returns: if PSCI fails, the core halts.
pub fn system_reset() -> ! {
    let reply = SecureMonitorCall.call(&SmcccRegisters::with_function(PSCI_SYSTEM_RESET));
    defmt::error!("psci: SYSTEM_RESET returned {=u64:#x}; halting", reply.x[0]);
    halt()
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

fn halt() -> ! {
    loop {
        aarch64_cpu::asm::wfe();
    }
}
