//! On-target tests: hooks that the QEMU scenarios turn on with board
//! features (`tools/xtask/src/scenarios.rs`, the `rpi4-*` scenarios).
//!
//! - `exit-when-settled`: power off with status 0 once boot is over;
//! - `scenario-panic`: panic after boot (checks the panic path).
//!
//! Without these features nothing here runs, and the board boots and stays
//! up.

use capsule_ffa::boot::BootClient;

/// What to do once boot is over (the boot report logged).
struct AfterBoot;

impl BootClient for AfterBoot {
    fn boot_complete(&self) {
        if cfg!(feature = "scenario-panic") {
            panic!("scenario-panic: panicking on purpose after boot");
        }
        if cfg!(feature = "exit-when-settled") {
            defmt::info!("boot: exit-when-settled, powering off");
            bcm2711::power::system_off(0);
        }
    }
}

static AFTER_BOOT: AfterBoot = AfterBoot;

/// The boot hook, if a scenario feature asks for one.
pub fn boot_hooks() -> Option<&'static dyn BootClient> {
    let wanted = cfg!(any(
        feature = "exit-when-settled",
        feature = "scenario-panic"
    ));
    wanted.then_some(&AFTER_BOOT as &'static dyn BootClient)
}
