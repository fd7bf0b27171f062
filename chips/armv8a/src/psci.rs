//! PSCI power control over an SMCCC conduit (the one the device tree's
//! `/psci` node names, or the board's fixed one).
//!
//! `SYSTEM_OFF` carries the exit status in x1. Real PSCI firmware ignores it;
//! the project's QEMU test firmware uses it as QEMU's exit status, which is
//! how test scenarios see a failure.

use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

/// PSCI_VERSION.
pub const PSCI_VERSION: u32 = 0x8400_0000;
/// PSCI SYSTEM_OFF.
pub const PSCI_SYSTEM_OFF: u32 = 0x8400_0008;
/// PSCI SYSTEM_RESET.
pub const PSCI_SYSTEM_RESET: u32 = 0x8400_0009;

/// Powers the system off through `conduit`, reporting `status` (0 =
/// success) where the firmware can. Never returns: if PSCI fails, the core
/// halts.
pub fn system_off(conduit: &dyn SmcccConduit, status: u32) -> ! {
    let mut call = SmcccRegisters::with_function(PSCI_SYSTEM_OFF);
    call.x[1] = u64::from(status);
    let reply = conduit.call(&call);
    defmt::error!("psci: SYSTEM_OFF returned {=u64:#x}; halting", reply.x[0]);
    halt()
}

/// Resets the system through `conduit`. Never returns: if PSCI fails, the
/// core halts.
pub fn system_reset(conduit: &dyn SmcccConduit) -> ! {
    let reply = conduit.call(&SmcccRegisters::with_function(PSCI_SYSTEM_RESET));
    defmt::error!("psci: SYSTEM_RESET returned {=u64:#x}; halting", reply.x[0]);
    halt()
}

/// Masks everything and waits forever.
pub fn halt() -> ! {
    loop {
        aarch64_cpu::asm::wfe();
    }
}
