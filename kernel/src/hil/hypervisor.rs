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

/// How many ranges [`El2Memory`] holds.
pub const EL2_MEMORY_RANGES: usize = 6;

/// Every range of memory EL2 owns or executes: its code and read-only data,
/// its data, BSS and stack, and the handler's state. The host must never be
/// able to name any byte of it as a buffer (EL2 writes into the host's
/// buffers). Unused slots are [`MemoryRange::EMPTY`].
///
/// EL2 runs code it shares with the kernel (the handler is a capsule), so
/// part of its memory may be *shared code*: the kernel's own code, which a
/// core the host starts may be entered in at EL1 (a PSCI `CPU_ON` entry
/// point), though still never named as a buffer. Everything else EL2 owns
/// (its data, stacks, the handler's state) is no place to enter either.
///
/// ```
/// use kernel::hil::hypervisor::{El2Memory, MemoryRange};
///
/// let code = MemoryRange::new(0x6000_0000, 0x2_0000);
/// let data = MemoryRange::new(0x6002_0000, 0x5000);
/// let el2 = El2Memory::EMPTY
///     .with(code)
///     .unwrap()
///     .with(data)
///     .unwrap()
///     .with_shared_code(code);
/// assert!(el2.overlaps(&MemoryRange::new(0x6000_2000, 0x1000)));
/// assert!(!el2.overlaps(&MemoryRange::new(0x6002_5000, 0x1000)));
/// assert_eq!(el2.ranges().count(), 2);
/// // A core may be started in the shared code, never in EL2's data.
/// assert!(el2.host_may_enter(&MemoryRange::new(0x6000_0100, 4)));
/// assert!(!el2.host_may_enter(&MemoryRange::new(0x6002_0100, 4)));
/// assert!(el2.host_may_enter(&MemoryRange::new(0x6100_0000, 4)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct El2Memory {
    slots: [MemoryRange; EL2_MEMORY_RANGES],
    shared_code: MemoryRange,
}

impl El2Memory {
    /// No memory at all.
    pub const EMPTY: El2Memory = El2Memory {
        slots: [MemoryRange::EMPTY; EL2_MEMORY_RANGES],
        shared_code: MemoryRange::EMPTY,
    };

    /// The memory in `slots` (empty ones unused), with no shared code.
    pub const fn from_slots(slots: [MemoryRange; EL2_MEMORY_RANGES]) -> El2Memory {
        El2Memory {
            slots,
            shared_code: MemoryRange::EMPTY,
        }
    }

    /// The same memory, with `code` named as the code EL2 shares with the
    /// kernel (where the host may start a core). A range of this memory
    /// that `code` does not wholly cover stays closed to the host.
    pub const fn with_shared_code(mut self, code: MemoryRange) -> El2Memory {
        self.shared_code = code;
        self
    }

    /// The code EL2 shares with the kernel ([`MemoryRange::EMPTY`] if none
    /// was named).
    pub const fn shared_code(&self) -> MemoryRange {
        self.shared_code
    }

    /// Whether the host may have a core entered in `range` at EL1: it is
    /// outside EL2's memory, or inside the shared code and touching no
    /// range of EL2's memory that is not itself all shared code.
    pub fn host_may_enter(&self, range: &MemoryRange) -> bool {
        if !self.overlaps(range) {
            return true;
        }
        self.shared_code.contains(range)
            && self
                .ranges()
                .filter(|owned| owned.overlaps(range))
                .all(|owned| self.shared_code.contains(&owned))
    }

    /// `range` added in the first unused slot; `None` if every slot is used.
    /// An empty range changes nothing.
    pub const fn with(mut self, range: MemoryRange) -> Option<El2Memory> {
        if range.is_empty() {
            return Some(self);
        }
        let mut index = 0;
        while index < EL2_MEMORY_RANGES {
            if self.slots[index].is_empty() {
                self.slots[index] = range;
                return Some(self);
            }
            index += 1;
        }
        None
    }

    /// The ranges (non-empty ones only).
    pub fn ranges(&self) -> impl Iterator<Item = MemoryRange> + '_ {
        self.slots.iter().copied().filter(|range| !range.is_empty())
    }

    /// Whether `range` shares an address with any of the ranges.
    pub fn overlaps(&self, range: &MemoryRange) -> bool {
        self.ranges().any(|owned| owned.overlaps(range))
    }
}

/// What the host (EL1) may do with a range of its memory: what EL2's
/// stage-2 translation of the host grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum HostAccess {
    /// Nothing: an access raises a stage-2 abort at EL2.
    None,
    /// Normal memory the host may read and execute, never write (the code
    /// EL2 runs, which it shares with the kernel).
    ReadExecute,
    /// Normal memory the host may read and write, never execute.
    ReadWrite,
    /// Device memory the host may read and write.
    Device,
}

/// The host's memory, as EL2 protects it with the host's stage 2: what it
/// maps, and how. Every range comes from the board (its build-time layout
/// and the device tree's memory node) and from EL2's own image, before the
/// host is mediated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct HostMemoryMap {
    /// Devices the host drives (the GIC, the UART, ...): [`HostAccess::Device`].
    pub devices: MemoryRange,
    /// The host's DRAM: [`HostAccess::ReadWrite`], but what follows.
    pub memory: MemoryRange,
    /// The code EL2 runs, shared with the kernel: [`HostAccess::ReadExecute`].
    pub shared_code: MemoryRange,
    /// EL2's own memory (its data, stack, state, tables; the proxy's
    /// buffers): [`HostAccess::None`].
    pub private: El2Memory,
}

/// What building the host's stage 2 took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Stage2Summary {
    /// Translation tables in use.
    pub tables_used: u32,
    /// Translation tables the runtime has (the rest split blocks later).
    pub tables_total: u32,
}

/// A host access the host's stage 2 refused, as EL2 took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Stage2Fault {
    /// The intermediate physical address (= physical: the map is the identity).
    pub ipa: u64,
    /// `ESR_EL2`: the syndrome (data or instruction abort from EL1).
    pub syndrome: u64,
    /// Where the host was (`ELR_EL2`).
    pub host_address: u64,
    /// Whether it was a write.
    pub write: bool,
    /// Whether it was an instruction fetch.
    pub fetch: bool,
}

/// What EL2 does with a host access its stage 2 refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum FaultDecision {
    /// The page is the host's to touch now (the table changed under a
    /// racing access): return and let the host try again.
    Retry,
    /// The host may not touch it: the abort goes to the host's own
    /// exception vector, as if its own translation had faulted.
    Inject,
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

    /// Reads `destination.len()` bytes at physical `source` into the
    /// handler's own memory (to check a header it copied into its own
    /// buffer). The handler checks the range; the runtime may refuse
    /// (`Err(ErrorCode::INVAL)`, the default: a runtime that cannot read).
    fn read(&mut self, source: u64, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let _ = (source, destination);
        Err(ErrorCode::INVAL)
    }

    /// From the next return to the host on, every `SMC` of the host traps to
    /// EL2 and reaches [`HostCallHandler::trapped_smc`]. There is no way
    /// back: a host that could untrap itself would not be mediated.
    fn trap_host_smcs(&mut self);

    /// All the memory EL2 owns or executes (its whole image: vectors, code,
    /// read-only data, data, BSS, stack, and the state it shares with the
    /// kernel's logger), from the board's linker script: the host must never
    /// be allowed to name any of it as a buffer.
    fn el2_memory(&self) -> El2Memory;

    /// The physical address where a core the handler starts (PSCI `CPU_ON`
    /// to the monitor, on the host's behalf) enters EL2 — inside EL2's
    /// image ([`El2Services::el2_memory`]); the runtime then sets that
    /// core's EL2 up and asks [`HostCallHandler::secondary_core_entry`]
    /// where the host resumes. 0: this runtime cannot take cores.
    fn secondary_entry_point(&self) -> u64 {
        0
    }

    /// The range of [`El2Services::el2_memory`] the host may read and
    /// execute (EL2 runs code it shares with the kernel); the rest of EL2's
    /// memory is private. Empty by default (a runtime without such code).
    fn el2_shared_code(&self) -> MemoryRange {
        MemoryRange::EMPTY
    }

    /// Builds the host's stage 2 as `map` says and turns it on: from the
    /// next return to the host on, every host access goes through it. Once
    /// only; the default (a runtime without a stage 2) refuses with
    /// `Err(ErrorCode::NOSUPPORT)`.
    fn protect_host(&mut self, map: &HostMemoryMap) -> Result<Stage2Summary, ErrorCode> {
        let _ = map;
        Err(ErrorCode::NOSUPPORT)
    }

    /// Changes what the host may do with `range` (whole 4 KiB pages of host
    /// memory), with the TLB maintenance it needs. All or nothing:
    /// `Err(ErrorCode::NOMEM)` if the runtime has too few tables to split
    /// the blocks, `Err(ErrorCode::INVAL)` for a bad range; the default (no
    /// stage 2) refuses with `Err(ErrorCode::NOSUPPORT)`.
    fn set_host_access(&mut self, range: MemoryRange, access: HostAccess) -> Result<(), ErrorCode> {
        let _ = (range, access);
        Err(ErrorCode::NOSUPPORT)
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

    /// The host touched memory its stage 2 does not grant it (EL2 reports
    /// the fault before asking). The default injects it.
    fn host_stage2_fault(&mut self, fault: &Stage2Fault) -> FaultDecision {
        let _ = fault;
        FaultDecision::Inject
    }
}

/// The EL2 runtime as the board sees it.
pub trait Hypervisor {
    /// Hands `handler` to EL2, which calls it from now on. Once only:
    /// `Err(ErrorCode::ALREADY)` if a handler is installed.
    fn install(&self, handler: &'static mut dyn HostCallHandler) -> Result<(), ErrorCode>;
}
