//! On-target tests: hooks that the QEMU scenarios turn on with board
//! features (`tools/xtask/src/board_scenarios.rs`, the `rpi4-*` scenarios).
//!
//! - `exit-when-settled`: power off once boot is over, with the status
//!   `qemu-virt` uses: 0 if FF-A came up or the firmware has none (always
//!   so far on the Pi: neither the stock firmware nor TF-A's `rpi4` port
//!   has an SPMC), [`EXIT_FFA_ROOT_DOWN`] if the monitor answered FF-A but
//!   the root is not up (1 is a panic, 2 a board set-up failure). Only a
//!   power-off that carries a status shows it (PSCI, or semihosting in
//!   emulation); the PM watchdog's halt does not;
//! - `scenario-panic`: panic after boot (checks the panic path).
//!
//! Without these features nothing here runs, and the board boots and stays
//! up.

use capsule_ffa::boot::{BootClient, BootOutcome};

/// The exit status of a settled boot under `exit-when-settled` whose FF-A
/// root is not up although the monitor answers FF-A (as on `qemu-virt`).
pub const EXIT_FFA_ROOT_DOWN: u32 = 3;

/// What to do once boot is over (the boot report logged).
struct AfterBoot;

impl BootClient for AfterBoot {
    fn boot_complete(&self, outcome: BootOutcome) {
        if cfg!(feature = "scenario-panic") {
            panic!("scenario-panic: panicking on purpose after boot");
        }
        if cfg!(feature = "exit-when-settled") {
            let status = if outcome.is_healthy() {
                0
            } else {
                EXIT_FFA_ROOT_DOWN
            };
            defmt::info!(
                "boot: exit-when-settled, powering off with status {=u32}",
                status
            );
            bcm2711::power::system_off(status);
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
