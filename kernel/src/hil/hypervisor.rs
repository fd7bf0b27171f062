//! The hypervisor (EL2) interface: between an architecture's EL2 runtime and
//! the capsule that decides what EL2 does with the host's calls.
//!
//! In protected mode the kernel (the *host*, at EL1) keeps EL2 for a small
//! resident component, as Linux pKVM does. The work splits in two:
//!
//! - the chip's EL2 runtime owns the hardware: the vectors, the EL2 stack,
//!   the trap controls, the `SMC` to the secure monitor, and memory as EL2
//!   sees it. It offers these as [`El2Services`];
//! - a capsule owns the decisions: it implements [`HostCallHandler`], and the
//!   runtime calls it for every `HVC` of the host (host call in) and, once
//!   it asked for them with [`El2Services::trap_host_smcs`], for every `SMC`
//!   of the host; the handler answers, calling the monitor itself when it
//!   needs to (monitor call out).
//!
//! The board joins them with [`Hypervisor::install`], once, before anything
//! is trapped: the handler then belongs to EL2 (the board gives up its
//! `&'static mut`), and nothing at EL1 reaches it except through `HVC`.
//!
//! ```
//! use kernel::hil::hypervisor::{El2Services, HostCallHandler, MemoryRange};
//! use kernel::hil::smccc::SmcccRegisters;
//!
//! /// Answers every HVC with 0 and passes every trapped SMC to the monitor.
//! struct PassThrough;
//!
//! impl HostCallHandler for PassThrough {
//!     fn hypervisor_call(
//!         &mut self,
//!         _immediate: u16,
//!         _call: &SmcccRegisters,
//!         _el2: &mut dyn El2Services,
//!     ) -> SmcccRegisters {
//!         SmcccRegisters::from_slice(&[0])
//!     }
//!
//!     fn trapped_smc(
//!         &mut self,
//!         _immediate: u16,
//!         call: &SmcccRegisters,
//!         el2: &mut dyn El2Services,
//!     ) -> SmcccRegisters {
//!         el2.call_monitor(call)
//!     }
//! }
//!
//! let stack = MemoryRange::new(0x6010_0000, 0x4000);
//! assert!(stack.contains(&MemoryRange::new(0x6010_1000, 0x1000)));
//! assert!(!stack.overlaps(&MemoryRange::new(0x6010_4000, 0x1000)));
//! ```

use super::smccc::SmcccRegisters;
use crate::ErrorCode;

/// A range of physical addresses, `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MemoryRange {
    /// First address.
    pub base: u64,
    /// Length in bytes (0: the empty range).
    pub size: u64,
}

impl MemoryRange {
    /// The empty range (an unused slot).
    pub const EMPTY: MemoryRange = MemoryRange::new(0, 0);

    /// The range `[base, base + size)`.
    pub const fn new(base: u64, size: u64) -> MemoryRange {
        MemoryRange { base, size }
    }

    /// The first address after the range, or `None` if it wraps past 2^64.
    pub const fn end(&self) -> Option<u64> {
        self.base.checked_add(self.size)
    }

    /// Whether the range is empty.
    pub const fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Whether `other` lies entirely inside this range (and neither wraps).
    pub const fn contains(&self, other: &MemoryRange) -> bool {
        match (self.end(), other.end()) {
            (Some(end), Some(other_end)) => other.base >= self.base && other_end <= end,
            _ => false,
        }
    }

    /// Whether the two ranges share an address. Empty ranges overlap nothing;
    /// a range that wraps overlaps everything (it is never valid).
    pub const fn overlaps(&self, other: &MemoryRange) -> bool {
        if self.is_empty() || other.is_empty() {
            return false;
        }
        match (self.end(), other.end()) {
            (Some(end), Some(other_end)) => self.base < other_end && other.base < end,
            _ => true,
        }
    }
}

/// Where the host resumes on a core the handler started for it: the entry
/// point and x0 it asked for in its `CPU_ON`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct HostEntry {
    /// The host's entry point (physical address), entered at EL1.
    pub entry: u64,
    /// The host's context ID, its x0 there.
    pub context: u64,
}

/// What the EL2 runtime does for the handler, with EL2's privileges.
pub trait El2Services {
    /// Makes one `SMC #0` from EL2 to the secure monitor (EL2's own calls are
    /// never trapped) and returns its x0–x17.
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters;

    /// Copies `length` bytes from physical `source` to physical
    /// `destination`, as EL2 sees memory. The handler checks the ranges;
    /// the runtime may still refuse (`Err(ErrorCode::INVAL)`), never fault.
    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode>;

    /// From the next return to the host on, every `SMC` of the host traps to
    /// EL2 and reaches [`HostCallHandler::trapped_smc`]. There is no way
    /// back: a host that could untrap itself would not be mediated.
    fn trap_host_smcs(&mut self);

    /// Memory that EL2 itself owns (its stack and state): the host must
    /// never be allowed to name it as a buffer.
    fn el2_memory(&self) -> MemoryRange;

    /// The physical address where a core the handler starts (PSCI `CPU_ON`
    /// to the monitor, on the host's behalf) enters EL2; the runtime then
    /// sets that core's EL2 up and asks [`HostCallHandler::secondary_core_entry`]
    /// where the host resumes. 0: this runtime cannot take cores.
    fn secondary_entry_point(&self) -> u64 {
        0
    }
}

/// Decides what EL2 does with the host's calls. Implemented by a capsule;
/// called by the EL2 runtime, one exception at a time, with everything
/// masked, on the EL2 stack.
pub trait HostCallHandler {
    /// The host made `HVC #immediate` with `call` in x0–x17: the handler's
    /// control interface. Returns the host's x0–x17.
    fn hypervisor_call(
        &mut self,
        immediate: u16,
        call: &SmcccRegisters,
        el2: &mut dyn El2Services,
    ) -> SmcccRegisters;

    /// The host made `SMC #immediate`, trapped (after
    /// [`El2Services::trap_host_smcs`]). Returns the host's x0–x17: the
    /// handler's own answer, or whatever the monitor answered a call it
    /// passed on.
    fn trapped_smc(
        &mut self,
        immediate: u16,
        call: &SmcccRegisters,
        el2: &mut dyn El2Services,
    ) -> SmcccRegisters;

    /// Core `core` entered EL2 at [`El2Services::secondary_entry_point`]
    /// with x0 = `context` (what the handler passed to the monitor), its EL2
    /// set up like the boot core's (traps included). Returns where the host
    /// resumes on it, at EL1; `None` parks the core.
    fn secondary_core_entry(
        &mut self,
        _core: usize,
        _context: u64,
        _el2: &mut dyn El2Services,
    ) -> Option<HostEntry> {
        None
    }
}

/// The EL2 runtime as the board sees it.
pub trait Hypervisor {
    /// Hands `handler` to EL2, which calls it from now on. Once only:
    /// `Err(ErrorCode::ALREADY)` if a handler is installed.
    fn install(&self, handler: &'static mut dyn HostCallHandler) -> Result<(), ErrorCode>;
}
