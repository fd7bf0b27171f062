//! On-target tests: hooks that the QEMU scenarios (`tools/xtask/src/scenarios.rs`)
//! turn on with board features, as Tock boards keep their tests.
//!
//! - `exit-when-settled`: power off once boot is over, so a scenario ends,
//!   with status 0 if FF-A came up (or the monitor has none), or
//!   [`components::fatal::EXIT_FFA_ROOT_DOWN`] if the FF-A root failed, timed out, or never
//!   started although the monitor answers FF-A (1 is a panic or a fatal
//!   exception, 2 a board set-up failure);
//! - `scenario-panic`, `scenario-fault`: panic, or read an unmapped address,
//!   after boot (checks the panic path and the fault report);
//! - `scenario-bad-host-calls` ([`bad_host_calls`]): right after the EL2
//!   proxy is finalised, make the calls a misbehaving host would make and
//!   check each answer; `scenario-el2-overwrite`: the same, with only the
//!   sequence issue 9 reported (a host naming EL2's code as its buffers);
//! - `scenario-cpu-on-invalid` (`cpu_on`): after boot, PSCI `CPU_ON`s that
//!   must be refused (no such core, Aff1 set, a core already on; in
//!   protected mode also entry points in EL2's memory), each checked;
//! - `scenario-host-memory` ([`host_memory`]): right after finalisation,
//!   touch and share memory that is not the kernel's (EL2's code and data,
//!   the proxy's buffers, lent pages) and check the stage-2 faults EL2
//!   injects and the proxy's refusals, then share, reclaim and lend;
//! - `scenario-blocking-client`: the scheduling driver's work request is
//!   made blocking (see `main.rs`), to show the livelock the split-phase
//!   requests avoid;
//! - `ffa-v1-1`, `ffa-v1-0` (not test hooks, but scenarios use them): the
//!   FF-A client asks for v1.1 or v1.0 (see `main.rs`).
//!
//! Without these features nothing here runs, and the board boots and stays
//! up.

#[cfg(any(
    feature = "scenario-bad-host-calls",
    feature = "scenario-el2-overwrite"
))]
mod bad_host_calls;
mod cpu_on;
#[cfg(feature = "scenario-host-memory")]
mod host_memory;

use armv8a::smp::SecondaryCores;
use capsule_ffa::boot::{BootClient, BootOutcome};
use kernel::cells::OptionalCell;

/// What to do once boot is over (the boot report logged).
struct AfterBoot {
    cores: OptionalCell<&'static SecondaryCores>,
}

impl BootClient for AfterBoot {
    fn boot_complete(&self, outcome: BootOutcome) {
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
            components::fatal::exit_when_settled(outcome, qemu_virt::psci::system_off);
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
    #[cfg(any(
        feature = "scenario-bad-host-calls",
        feature = "scenario-el2-overwrite"
    ))]
    finaliser.set_client(&bad_host_calls::CHECKS);
    #[cfg(feature = "scenario-host-memory")]
    finaliser.set_client(&host_memory::CHECKS);
    #[cfg(not(any(
        feature = "scenario-bad-host-calls",
        feature = "scenario-el2-overwrite",
        feature = "scenario-host-memory"
    )))]
    let _ = finaliser;
}
