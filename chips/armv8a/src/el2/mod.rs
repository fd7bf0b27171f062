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
//! # Limits (QEMU versus real hardware)
//!
//! EL2 runs with its MMU off, so its accesses are Device-nGnRnE and
//! non-cacheable while EL1 runs with caches on over the same identity-mapped
//! memory. QEMU does not model caches, so this is coherent there. Real
//! hardware would need an EL2 stage-1 identity map with the same Normal
//! write-back attributes as EL1 (or cache maintenance: clean+invalidate of
//! the EL2 stack, the installed handler and its state after the kernel
//! writes them, and around each copy into the host's RX buffer). There is no
//! stage-2 translation either: the proxy keeps the host from *naming* EL2
//! memory as its buffers, but EL1 can still write EL2's memory directly;
//! real isolation needs a host stage-2 that unmaps EL2's memory and the
//! carve-out, as pKVM does.

pub mod memory;
mod runtime;
mod vectors;

pub use runtime::El2Runtime;
pub use vectors::STACK_SIZE;
