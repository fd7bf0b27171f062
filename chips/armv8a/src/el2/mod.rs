//! Protected mode: a resident EL2 FF-A proxy between the kernel and the secure monitor, and the kernel's safe handle on it.
//!
//! With the `protected-mode` feature the boot code installs this module's
//! EL2 vectors and stack instead of the EL2 stub, then drops to EL1 as
//! usual. EL2 then passes everything through (nothing is trapped) until the
//! kernel *finalises* it, one HVC per step, through [`ProtectedMode`]:
//!
//! ```ignore
//! let protected = ProtectedMode::new(&boot)?;             // entered at EL2? proxy resident?
//! protected.start_finalisation(host_memory, carve_out)?;  // where things are
//! loop {
//!     match protected.step()? {                            // one HVC, one monitor call
//!         FinalisationStatus::InProgress { .. } => { /* next main-loop turn */ }
//!         FinalisationStatus::Finalised { .. } => break,  // host SMCs now trap to EL2
//!         FinalisationStatus::Failed(error) => { /* log error and error.explanation() */ }
//!         FinalisationStatus::NotStarted => unreachable!(),
//!     }
//! }
//! ```
//!
//! Finalisation negotiates `FFA_VERSION` with the monitor, checks
//! `FFA_ID_GET` and the RX/TX granule, maps the proxy's own RX/TX pair (at
//! the start of `carve_out`), then sets `HCR_EL2.TSC`. From then on the
//! kernel keeps using `SMC #0` ([`ProtectedMode::conduit`] is just
//! [`SecureMonitorCall`]): EL2 traps each one and the proxy decides what
//! reaches the monitor (see the `ffa-proxy` crate for the rules).
//!
//! The layers:
//!
//! - `vectors` (assembly): vector table, context save/restore, EL2 stack;
//! - `runtime` (EL2 Rust): decodes HVC/SMC exceptions, calls the proxy's
//!   decision logic, issues the monitor's SMCs, copies bytes, sets the trap;
//! - this module (EL1 Rust, safe): [`ProtectedMode`], over the HVC conduit.
//!
//! # Limits (QEMU versus real hardware)
//!
//! EL2 runs with its MMU off, so its accesses are Device-nGnRnE and
//! non-cacheable while EL1 runs with caches on over the same identity-mapped
//! memory. QEMU does not model caches, so this is coherent there. Real
//! hardware would need an EL2 stage-1 identity map with the same Normal
//! write-back attributes as EL1 (or cache maintenance: clean+invalidate of
//! the EL2 stack and state after the kernel zeroes BSS, and around each copy
//! into the host's RX buffer). There is no stage-2 translation either: the
//! proxy keeps the host from *naming* EL2 memory as its buffers, but EL1 can
//! still write EL2's memory directly; real isolation needs a host stage-2
//! that unmaps EL2's memory and the carve-out, as pKVM does.

mod runtime;
mod vectors;

/// The proxy's decision logic (function IDs, error codes, status types).
pub use ffa_proxy as proxy;

pub use ffa_proxy::control::DecodeError;
pub use ffa_proxy::memory::{Mailbox, MemoryRange, ProxyLayout};
pub use ffa_proxy::{
    FailureReason, FinalisationError, FinalisationStatus, FinalisationStep, Version,
};
pub use vectors::STACK_SIZE;

use ffa_proxy::control;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

use crate::conduit::{HypervisorCall, SecureMonitorCall};
use crate::BootInfo;

/// Why protected mode cannot be used, or a control call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ProtectedModeError {
    /// The kernel was entered at EL1: EL2 belongs to someone else, and an
    /// HVC would go there.
    EnteredAtEl1,
    /// EL2 does not answer the proxy's query (x0 shown): the stub is
    /// installed, or another image owns EL2.
    NotResident(u64),
    /// Finalisation was already started.
    AlreadyStarted,
    /// EL2 refused the layout (see the EL2 log line for why).
    InvalidLayout,
    /// EL2's answer could not be decoded.
    Malformed(DecodeError),
}

/// The kernel's handle on the resident EL2 proxy.
#[derive(Clone, Copy, Debug)]
pub struct ProtectedMode {
    conduit: HypervisorCall,
}

impl ProtectedMode {
    /// The handle, if the kernel owns EL2 and the proxy answers there.
    pub fn new(boot: &BootInfo) -> Result<ProtectedMode, ProtectedModeError> {
        if boot.entry_exception_level != 2 {
            return Err(ProtectedModeError::EnteredAtEl1);
        }
        let protected = ProtectedMode {
            conduit: HypervisorCall,
        };
        let reply = protected.control(control::QUERY, &[]);
        if reply[0] != control::SUCCESS || reply[1] != control::INTERFACE_MAGIC {
            return Err(ProtectedModeError::NotResident(reply[0]));
        }
        Ok(protected)
    }

    /// The mailbox finalisation will map for a carve-out at `carve_out`.
    pub fn mailbox_for(carve_out: MemoryRange) -> Mailbox {
        ProxyLayout::with_mailbox_in(MemoryRange::EMPTY, carve_out, [MemoryRange::EMPTY; 2]).mailbox
    }

    /// Starts finalisation. `host_memory` is the normal-world memory the
    /// kernel may name as RX/TX buffers (DRAM); `carve_out` is memory the
    /// board reserves for the proxy (the kernel must never use it; its
    /// first two pages become the proxy's TX and RX buffers).
    pub fn start_finalisation(
        &self,
        host_memory: MemoryRange,
        carve_out: MemoryRange,
    ) -> Result<(), ProtectedModeError> {
        let reply = self.control(
            control::START_FINALISATION,
            &[
                host_memory.base,
                host_memory.size,
                carve_out.base,
                carve_out.size,
            ],
        );
        match reply[0] {
            control::SUCCESS => Ok(()),
            control::NOT_REQUIRED => Err(ProtectedModeError::AlreadyStarted),
            control::INVALID_PARAMETER => Err(ProtectedModeError::InvalidLayout),
            other => Err(ProtectedModeError::NotResident(other)),
        }
    }

    /// Performs the next finalisation step (one HVC, at most one call from
    /// EL2 to the monitor) and returns where finalisation is.
    pub fn step(&self) -> Result<FinalisationStatus, ProtectedModeError> {
        let reply = self.control(control::FINALISATION_STEP, &[]);
        control::decode_status(&reply[..7]).map_err(ProtectedModeError::Malformed)
    }

    /// Where finalisation is, without doing anything.
    pub fn status(&self) -> Result<FinalisationStatus, ProtectedModeError> {
        let reply = self.control(control::STATUS, &[]);
        control::decode_status(&reply[..7]).map_err(ProtectedModeError::Malformed)
    }

    /// The conduit FF-A clients use in protected mode: `SMC #0`, which EL2
    /// traps once finalised (before that, it reaches the monitor directly).
    pub fn conduit(&self) -> SecureMonitorCall {
        SecureMonitorCall
    }

    fn control(&self, function_id: u32, arguments: &[u64]) -> [u64; 18] {
        let mut call = SmcccRegisters::with_function(function_id);
        for (register, argument) in call.x[1..].iter_mut().zip(arguments) {
            *register = *argument;
        }
        self.conduit.call(&call).x
    }
}
