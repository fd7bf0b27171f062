//! On-target tests: hooks that the QEMU scenarios (`tools/xtask/src/scenarios.rs`)
//! turn on with board features, as Tock boards keep their tests.
//!
//! - `exit-when-settled`: power off with status 0 once boot is over, so a
//!   scenario ends;
//! - `scenario-panic`, `scenario-fault`: panic, or read an unmapped address,
//!   after boot (checks the panic path and the fault report);
//! - `scenario-bad-host-calls` ([`bad_host_calls`]): right after the EL2
//!   proxy is finalised, make the calls a misbehaving host would make and
//!   check each answer.
//!
//! Without these features nothing here runs, and the board boots and stays
//! up.

#[cfg(feature = "scenario-bad-host-calls")]
mod bad_host_calls;
mod cpu_on;

use armv8a::smp::SecondaryCores;
use capsule_ffa::boot::BootClient;
use kernel::cells::OptionalCell;

/// What to do once boot is over (the boot report logged).
struct AfterBoot {
    cores: OptionalCell<&'static SecondaryCores>,
}

impl BootClient for AfterBoot {
    fn boot_complete(&self) {
        if cfg!(feature = "scenario-cpu-on-invalid") {
            self.cores.map(cpu_on::check_refusals);
        }
        if cfg!(feature = "scenario-fault") {
            armv8a::exceptions::provoke_translation_fault();
        }
        if cfg!(feature = "scenario-panic") {
            panic!("scenario-panic: panicking on purpose after boot");
        }
        if cfg!(feature = "exit-when-settled") {
            defmt::info!("boot: exit-when-settled, powering off");
            qemu_virt::psci::system_off(0);
        }
    }
}

/// The boot hook, if a scenario feature asks for one.
pub fn boot_hooks(cores: &'static SecondaryCores) -> Option<&'static dyn BootClient> {
    let wanted = cfg!(any(
        feature = "exit-when-settled",
        feature = "scenario-fault",
        feature = "scenario-panic",
        feature = "scenario-cpu-on-invalid"
    ));
    wanted.then(|| {
        let hooks = kernel::static_init!(
            AfterBoot,
            AfterBoot {
                cores: OptionalCell::empty()
            }
        );
        hooks.cores.set(cores);
        &*hooks as &'static dyn BootClient
    })
}

/// Attaches the protected-mode hooks a scenario feature asks for.
#[cfg(feature = "protected-mode")]
pub fn protected_mode_hooks(
    finaliser: &'static capsule_ffa_proxy::finaliser::ProxyFinaliser<'static>,
) {
    #[cfg(feature = "scenario-bad-host-calls")]
    finaliser.set_client(&bad_host_calls::CHECKS);
    #[cfg(not(feature = "scenario-bad-host-calls"))]
    let _ = finaliser;
}
