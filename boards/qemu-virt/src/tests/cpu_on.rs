//! `scenario-cpu-on-invalid`: once boot is over, PSCI `CPU_ON` to cores
//! the firmware does not have (an Aff0 beyond the machine's cores, an MPIDR
//! with Aff1 set) and to a core that is already on; each refusal must be
//! the one PSCI names. In protected mode also `CPU_ON` with entry points
//! the host may not name, which the proxy's PSCI relay refuses with
//! `INVALID_ADDRESS` before the monitor sees them: in EL2's data (where its
//! stacks and the proxy's state are), and EL2's own entry for the cores.

use armv8a::conduit::SecureMonitorCall;
use armv8a::smp::{self, SecondaryCores};
use kernel::hil::cores::{Cores, StartError};

/// PSCI `INVALID_PARAMETERS`.
const INVALID_PARAMETERS: i32 = -2;
/// PSCI `INVALID_ADDRESS`.
#[cfg(feature = "protected-mode")]
const INVALID_ADDRESS: i32 = -9;

/// Makes the calls and logs each verdict, then a summary.
pub fn check_refusals(cores: &SecondaryCores) {
    let mut passed = 0;
    let mut total = 0;
    let mut check = |what: &str, status: i32, expected: i32| {
        total += 1;
        let verdict = if status == expected {
            passed += 1;
            "ok"
        } else {
            "WRONG"
        };
        defmt::info!(
            "smp: CPU_ON({=str}) -> {=i32}, expected {=i32}: {=str}",
            what,
            status,
            expected,
            verdict
        );
    };
    check(
        "MPIDR 0x7, no such core",
        smp::psci_cpu_on_raw(&SecureMonitorCall, 0x7, 7),
        INVALID_PARAMETERS,
    );
    check(
        "MPIDR 0x100, Aff1 set",
        smp::psci_cpu_on_raw(&SecureMonitorCall, 0x100, 0),
        INVALID_PARAMETERS,
    );
    #[cfg(feature = "protected-mode")]
    {
        let memory = armv8a::el2::El2Runtime.memory();
        let shared_code = memory.shared_code();
        match memory.ranges().find(|range| !shared_code.contains(range)) {
            Some(data) => check(
                "core 2, entry in EL2's data",
                smp::psci_cpu_on_at(&SecureMonitorCall, 2, data.base, 0),
                INVALID_ADDRESS,
            ),
            None => check("EL2's data range, not reported", -99, INVALID_ADDRESS),
        }
        check(
            "core 2, entry at EL2's own entry",
            smp::psci_cpu_on_at(
                &SecureMonitorCall,
                2,
                armv8a::el2::El2Runtime.secondary_entry_point(),
                0,
            ),
            INVALID_ADDRESS,
        );
    }
    if cores.online(1).is_some() {
        let again = match cores.start(1) {
            Ok(()) => 0,
            Err(StartError::AlreadyOn) => -4,
            Err(other) => {
                defmt::info!("smp: CPU_ON(core 1) again refused with {}", other);
                -99
            }
        };
        check("core 1 again, already on", again, -4);
    }
    defmt::info!(
        "smp: CPU_ON refusals: {=usize} of {=usize} as PSCI names them",
        passed,
        total
    );
}
