#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - At EL2, [`el2::El2Proxy`] is the runtime's `HostCallHandler`; the
//!   decisions are in [`Proxy`]:
//!   1. **Finalisation** ([`Proxy::start_finalisation`], then
//!      [`Proxy::finalise_step`] once per kernel request): negotiate
//!      `FFA_VERSION` with the monitor and nothing else (other calls would
//!      fix endpoint 0's version before the host asks for its own), check
//!      that no FF-A client came first, and trap the host's SMCs (see
//!      [`finalisation`]). One monitor call per step, so the kernel can
//!      spread finalisation over several main-loop turns.
//!   2. **Mediation** ([`Proxy::handle_host_call`]): once finalised, every
//!      SMC of the host arrives here. FF-A calls are handled at EL2, passed
//!      through, or refused, as [`function::mediation`] says; anything that
//!      is not FF-A (PSCI, SMCCC, vendor calls) is forwarded unchanged (see
//!      [`proxy`]; notifications and indirect messages in [`messages`];
//!      memory transactions in [`sharing`], checked by [`descriptor`], with
//!      each page's owner in [`ownership`]). A host access the stage 2
//!      refuses is decided by [`Proxy::host_stage2_fault`].
//! - At EL1, [`finaliser::ProxyFinaliser`] drives finalisation through the
//!   control interface ([`control`]), one `HVC` per deferred call, and is
//!   the init-queue entry that provides `proxy-finalised`.
//!
//! `boards/components` (`components::protected_mode`) wires both sides.
//!
//! ```
//! use capsule_ffa_proxy::memory::ProxyLayout;
//! use capsule_ffa_proxy::{FinalisationStatus, Proxy};
//! use kernel::hil::hypervisor::{El2Memory, El2Services, MemoryRange};
//! use kernel::hil::smccc::SmcccRegisters;
//! use kernel::ErrorCode;
//!
//! /// A monitor that implements FF-A v1.2 and accepts everything.
//! struct Monitor;
//! impl El2Services for Monitor {
//!     fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
//!         let x0 = match call.x[0] as u32 {
//!             0x8400_0063 => 0x0001_0002, // FFA_VERSION: v1.2
//!             _ => 0x8400_0061,           // FFA_SUCCESS_32
//!         };
//!         SmcccRegisters::from_slice(&[x0])
//!     }
//!     fn copy(&mut self, _: u64, _: u64, _: usize) -> Result<(), ErrorCode> {
//!         Err(ErrorCode::INVAL)
//!     }
//!     fn trap_host_smcs(&mut self) {}
//!     fn el2_memory(&self) -> El2Memory {
//!         El2Memory::EMPTY
//!     }
//! }
//!
//! let layout = ProxyLayout::with_mailbox_in(
//!     MemoryRange::new(0x4000_0000, 0x4000_0000),
//!     MemoryRange::new(0x5fe0_0000, 0x1_0000),
//!     El2Memory::EMPTY,
//! );
//! let mut proxy = Proxy::new();
//! proxy.start_finalisation(layout, 1).unwrap();
//! let mut status = proxy.status();
//! for _ in 0..8 {
//!     status = proxy.finalise_step(&mut Monitor);
//!     if !matches!(status, FinalisationStatus::InProgress { .. }) {
//!         break;
//!     }
//! }
//! assert!(matches!(status, FinalisationStatus::Finalised { .. }));
//!
//! // Before the host negotiates a version, FF-A calls are refused.
//! let mut id_get = [0u64; 18];
//! id_get[0] = 0x8400_0069;
//! let outcome = proxy.handle_host_call(&id_get, &mut Monitor);
//! assert_eq!(outcome.reply[0], 0x8400_0060); // FFA_ERROR
//! assert_eq!(outcome.reply[2] as u32 as i32, -2); // INVALID_PARAMETERS
//! ```

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod control;
pub mod descriptor;
pub mod el2;
pub mod finalisation;
pub mod finaliser;
pub mod function;
pub mod memory;
pub mod messages;
pub mod ownership;
pub mod proxy;
pub mod psci_relay;
pub mod reply;
pub mod sharing;
pub mod version;

pub use finalisation::{FailureReason, FinalisationError, FinalisationStatus, FinalisationStep};
pub use proxy::{
    Disposition, Handled, HostBuffers, HostCallOutcome, Proxy, Refusal, SetUpProblem, StartError,
};

/// Number of registers an SMCCC v1.2 call passes in each direction (x0–x17).
pub const REGISTER_COUNT: usize = 18;

/// The registers of one call or reply: x0 to x17.
pub type Registers = [u64; REGISTER_COUNT];
