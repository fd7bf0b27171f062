//! Decision logic of protected mode's resident EL2 FF-A proxy: finalisation, and which host calls are handled, forwarded or refused.
//!
//! In *protected mode* the kernel keeps EL2 for itself: a small resident
//! component (the EL2 runtime in `chips/armv8a/src/el2/`) sits between the
//! kernel at EL1 (the *host*) and the secure monitor at EL3, the way Linux
//! pKVM's FF-A proxy does. This crate is everything that component decides;
//! the runtime only moves registers, traps and copies bytes. It has no
//! `unsafe`, no heap and no hardware access, so every rule is tested on the
//! host, against hand-written monitor replies and against `ffa-model`.
//!
//! Two things happen here:
//!
//! 1. **Finalisation** ([`Proxy::start_finalisation`], then
//!    [`Proxy::finalise_step`] once per kernel request): negotiate
//!    `FFA_VERSION` with the monitor, check `FFA_ID_GET`, check the RX/TX
//!    granule, map the proxy's own RX/TX pair, and finally tell the runtime
//!    to trap the host's SMCs (see [`finalisation`]). One monitor call per
//!    step, so the kernel can spread finalisation over several main-loop
//!    turns.
//! 2. **Mediation** ([`Proxy::handle_host_call`]): once finalised, every SMC
//!    of the host arrives here. FF-A calls are handled at EL2, passed
//!    through, or refused, as [`function::mediation`] says; anything that is
//!    not FF-A (PSCI, SMCCC, vendor calls) is forwarded unchanged (see
//!    [`proxy`]).
//!
//! ```
//! use ffa_proxy::memory::{MemoryError, MemoryRange, ProxyLayout, ProxyMemory};
//! use ffa_proxy::{FinalisationStatus, Proxy, Registers};
//!
//! struct NoMemory;
//! impl ProxyMemory for NoMemory {
//!     fn copy(&mut self, _: u64, _: u64, _: usize) -> Result<(), MemoryError> {
//!         Err(MemoryError)
//!     }
//! }
//!
//! // A monitor that implements FF-A v1.2 and accepts everything.
//! let mut monitor = |call: &Registers| -> Registers {
//!     let mut reply = [0u64; 18];
//!     reply[0] = match call[0] as u32 {
//!         0x8400_0063 => 0x0001_0002,  // FFA_VERSION: v1.2
//!         _ => 0x8400_0061,            // FFA_SUCCESS_32
//!     };
//!     reply
//! };
//! let layout = ProxyLayout::with_mailbox_in(
//!     MemoryRange::new(0x4000_0000, 0x4000_0000),
//!     MemoryRange::new(0x5fe0_0000, 0x1_0000),
//!     [MemoryRange::EMPTY; 2],
//! );
//! let mut proxy = Proxy::new();
//! proxy.start_finalisation(layout).unwrap();
//! let mut status = proxy.status();
//! for _ in 0..8 {
//!     status = proxy.finalise_step(&mut monitor);
//!     if !matches!(status, FinalisationStatus::InProgress { .. }) {
//!         break;
//!     }
//! }
//! assert!(matches!(status, FinalisationStatus::Finalised { .. }));
//!
//! // Before the host negotiates a version, FF-A calls are refused.
//! let mut id_get = [0u64; 18];
//! id_get[0] = 0x8400_0069;
//! let outcome = proxy.handle_host_call(&id_get, &mut NoMemory, &mut monitor);
//! assert_eq!(outcome.reply[0], 0x8400_0060); // FFA_ERROR
//! assert_eq!(outcome.reply[2] as u32 as i32, -2); // INVALID_PARAMETERS
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod control;
pub mod finalisation;
pub mod function;
pub mod memory;
pub mod proxy;
pub mod reply;
pub mod version;

/// An FF-A error status code, as `FFA_ERROR` carries it in w2: the shared
/// `ffa_abi::Status` (`from_code_or_unknown`, `code`, `name`, `is_transient`).
pub use ffa_abi::Status as FfaError;
pub use finalisation::{FailureReason, FinalisationError, FinalisationStatus, FinalisationStep};
pub use proxy::{Disposition, Handled, HostBuffers, HostCallOutcome, Proxy, Refusal, StartError};
pub use version::Version;

/// Number of registers an SMCCC v1.2 call passes in each direction (x0–x17).
pub const REGISTER_COUNT: usize = 18;

/// The registers of one call or reply: x0 to x17.
pub type Registers = [u64; REGISTER_COUNT];

/// The FF-A ID of the non-secure physical endpoint, which the proxy shares
/// with the host: the monitor sees both as endpoint 0.
pub const HOST_ENDPOINT_ID: u16 = 0;
