//! Protected mode: the kernel keeps EL2 for a resident runtime, and a
//! capsule installed by the board decides what it does (the kernel's
//! hypervisor HIL, `kernel::hil::hypervisor`).
//!
//! With the `protected-mode` feature the boot code installs this module's
//! EL2 vectors and stack instead of the EL2 stub, then drops to EL1 as
//! usual. EL2 then traps nothing, and answers every `HVC` with x0 = -1,
//! until the board installs a handler ([`El2Runtime`], which implements
//! `kernel::hil::hypervisor::Hypervisor`; `components::protected_mode`
//! installs the FF-A proxy capsule). From then on the handler is EL2's: the
//! kernel's HVCs reach it and, once it asks for it
//! (`El2Services::trap_host_smcs`), so do the kernel's SMCs.
//!
//! The layers:
//!
//! - `vectors` (assembly): vector table, context save/restore, EL2 stack;
//! - `runtime` (EL2 Rust): decodes each exception from EL1, calls the
//!   installed handler, and provides its `El2Services`: `SMC` to the
//!   monitor, volatile copies, `HCR_EL2.TSC`, EL2's own memory.
//!
//! The kernel reaches the handler with `HVC #0` through
//! [`HypervisorCall`](crate::conduit::HypervisorCall), and only if it was
//! entered at EL2 ([`BootInfo::kept_el2`](crate::BootInfo::kept_el2)).
//!
//! - `memory`: EL2's own stage-1 MMU (turned on by the boot code at EL2,
//!   an identity map with the kernel's attributes, caches on) and the
//!   host's stage 2 (built when the handler asks, at finalisation: EL2's
//!   data, stack, tables and the handler's buffers unmapped from the host,
//!   EL2's code read/execute only), with its TLB maintenance.
//!
//! A host access the stage 2 refuses is a stage-2 abort at EL2: the
//! runtime reports it (IPA, ESR), asks the handler whether to retry, and
//! otherwise injects it into the host as an abort of its own (ISS bit 7,
//! S1PTW, marks it: `crate::fault_report` says so). EL2 runs on.
//!
//! # Limits
//!
//! One core: EL2 handles one exception at a time. Another core's EL2 entry
//! must call [`memory::load_on_this_core`] before it enters the host (the
//! same stage 1, and the stage 2 once built).

pub mod memory;
mod runtime;
mod vectors;

pub use runtime::El2Runtime;
pub use vectors::STACK_SIZE;
