//! The SMCCC v1.2 conduit: `SMC #0` or `HVC #0` with x0–x17 in and out.
//!
//! ```ignore
//! let conduit = armv8a::conduit::SecureMonitorCall;
//! let reply = conduit.call(&SmcccRegisters::with_function(0x8000_0000));
//! ```

use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};

macro_rules! smccc_call {
    ($instruction:literal, $arguments:expr) => {{
        let mut x = $arguments.x;
        // SAFETY: an SMCCC v1.2 call preserves every register except x0–x17
        // (passed in/out here) and touches no memory the compiler knows of;
        // shared buffers are accessed only through volatile copies.
        unsafe {
            core::arch::asm!(
                $instruction,
                inout("x0") x[0], inout("x1") x[1], inout("x2") x[2], inout("x3") x[3],
                inout("x4") x[4], inout("x5") x[5], inout("x6") x[6], inout("x7") x[7],
                inout("x8") x[8], inout("x9") x[9], inout("x10") x[10], inout("x11") x[11],
                inout("x12") x[12], inout("x13") x[13], inout("x14") x[14], inout("x15") x[15],
                inout("x16") x[16], inout("x17") x[17],
                options(nostack)
            );
        }
        SmcccRegisters { x }
    }};
}

/// Calls through `SMC #0` (to EL3, or to EL2 when it traps SMCs).
#[derive(Clone, Copy, Debug, Default)]
pub struct SecureMonitorCall;

/// Calls through `HVC #0` (to EL2).
#[derive(Clone, Copy, Debug, Default)]
pub struct HypervisorCall;

/// No secure monitor: every call answers SMCCC `NOT_SUPPORTED` (x0 = -1)
/// without an instruction, as on a board whose firmware left no monitor
/// at EL3 (there an `SMC` is undefined, or jumps to nothing).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMonitor;

impl SmcccConduit for SecureMonitorCall {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        smccc_call!("smc #0", arguments)
    }
}

impl SmcccConduit for NoMonitor {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Absent
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        let mut reply = *arguments;
        reply.x[0] = u64::MAX;
        reply
    }
}

impl SmcccConduit for HypervisorCall {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Hvc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        smccc_call!("hvc #0", arguments)
    }
}
