//! SMCCC architecture calls and PSCI, the parts the test firmware implements.
//!
//! * `SMCCC_VERSION` → 0x10002 (v1.2).
//! * `SMCCC_ARCH_FEATURES(w1)` → 0 for `SMCCC_VERSION` and `SMCCC_ARCH_FEATURES`,
//!   -1 otherwise.
//! * `PSCI_VERSION` → 0x10001 (v1.1).
//! * `PSCI_CPU_ON`, `PSCI_AFFINITY_INFO` (SMC32 and SMC64), `PSCI_CPU_OFF`:
//!   the cores' power states (see [`crate::power`]).
//! * `PSCI_FEATURES(w1)` → 0 for the implemented PSCI functions and for
//!   `SMCCC_VERSION` (how callers discover SMCCC v1.1+), -1 otherwise.
//! * `PSCI_SYSTEM_OFF` → [`Outcome::SystemOff`] with the status from w1
//!   (a quirk of this test firmware: real firmware ignores x1).
//! * `PSCI_SYSTEM_RESET` → [`Outcome::SystemReset`].
//!
//! Every -1 is returned as a 64-bit register (x0 = `u64::MAX`).

use crate::call::{Call, Reply};
use crate::error_code::SMCCC_NOT_SUPPORTED;
use crate::function_id::{
    PSCI_AFFINITY_INFO_32, PSCI_AFFINITY_INFO_64, PSCI_CPU_OFF, PSCI_CPU_ON_32, PSCI_CPU_ON_64,
    PSCI_FEATURES, PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, PSCI_VERSION, SMCCC_ARCH_FEATURES,
    SMCCC_VERSION,
};
use crate::Outcome;

/// What `SMCCC_VERSION` returns: v1.2.
pub const SMCCC_VERSION_VALUE: u32 = 0x1_0002;
/// What `PSCI_VERSION` returns: v1.1.
pub const PSCI_VERSION_VALUE: u32 = 0x1_0001;

/// The PSCI functions the model implements.
pub const IMPLEMENTED_PSCI_FUNCTIONS: [u32; 9] = [
    PSCI_VERSION,
    PSCI_FEATURES,
    PSCI_SYSTEM_OFF,
    PSCI_SYSTEM_RESET,
    PSCI_CPU_ON_32,
    PSCI_CPU_ON_64,
    PSCI_CPU_OFF,
    PSCI_AFFINITY_INFO_32,
    PSCI_AFFINITY_INFO_64,
];

/// Whether `function_id` is one of the PSCI calls about the cores' power
/// (answered by [`crate::power`] through the secure world's state).
pub(crate) fn is_power_call(function_id: u32) -> bool {
    matches!(
        function_id,
        PSCI_CPU_ON_32
            | PSCI_CPU_ON_64
            | PSCI_CPU_OFF
            | PSCI_AFFINITY_INFO_32
            | PSCI_AFFINITY_INFO_64
    )
}

/// Whether `function_id` is one of the SMCCC or PSCI functions handled here.
pub(crate) fn handles(function_id: u32) -> bool {
    matches!(function_id, SMCCC_VERSION | SMCCC_ARCH_FEATURES)
        || IMPLEMENTED_PSCI_FUNCTIONS.contains(&function_id)
}

fn supported(yes: bool) -> u64 {
    if yes {
        0
    } else {
        SMCCC_NOT_SUPPORTED
    }
}

/// Handle a function for which [`handles`] is true.
pub(crate) fn handle(call: &Call<'_>) -> Outcome {
    let reply = match call.function_id() {
        SMCCC_VERSION => Reply::smccc(u64::from(SMCCC_VERSION_VALUE)),
        SMCCC_ARCH_FEATURES => Reply::smccc(supported(matches!(
            call.word(1),
            SMCCC_VERSION | SMCCC_ARCH_FEATURES
        ))),
        PSCI_VERSION => Reply::smccc(u64::from(PSCI_VERSION_VALUE)),
        PSCI_FEATURES => {
            let queried = call.word(1);
            Reply::smccc(supported(
                queried == SMCCC_VERSION || IMPLEMENTED_PSCI_FUNCTIONS.contains(&queried),
            ))
        }
        PSCI_SYSTEM_OFF => {
            return Outcome::SystemOff {
                status: call.word(1),
            }
        }
        PSCI_SYSTEM_RESET => return Outcome::SystemReset,
        _ => Reply::unknown_function(),
    };
    Outcome::Return(reply.finish(call))
}
