//! On-target tests: hooks that the QEMU scenarios turn on with board
//! features (`tools/xtask/src/board_scenarios.rs`, the `rpi4-*` scenarios).
//!
//! - `exit-when-settled`: power off once boot is over, with the status
//!   `qemu-virt` uses: 0 if FF-A came up or the firmware has none (always
//!   so far on the Pi: neither the stock firmware nor TF-A's `rpi4` port
//!   has an SPMC), [`components::fatal::EXIT_FFA_ROOT_DOWN`] if the monitor answered FF-A but
//!   the root is not up (1 is a panic, 2 a board set-up failure). Only a
//!   power-off that carries a status shows it (PSCI, or semihosting in
//!   emulation); the PM watchdog's halt does not;
//! - `scenario-panic`: panic after boot (checks the panic path).
//!
//! Without these features nothing here runs, and the board boots and stays
//! up.

use capsule_ffa::boot::{BootClient, BootOutcome};

/// What to do once boot is over (the boot report logged).
struct AfterBoot;

impl BootClient for AfterBoot {
    fn boot_complete(&self, outcome: BootOutcome) {
        if cfg!(feature = "scenario-panic") {
            panic!("scenario-panic: panicking on purpose after boot");
        }
        if cfg!(feature = "exit-when-settled") {
            components::fatal::exit_when_settled(outcome, bcm2711::power::system_off);
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
