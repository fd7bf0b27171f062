//! Secondary cores: their entry, their parking loop, and how the boot core
//! starts them ([`SecondaryCores`], the kernel's `Cores` HIL).
//!
//! A started core enters `armv8a_secondary_entry` (boot.rs) at EL2 or EL1
//! with its MMU off: it takes its own stack (by core index, MPIDR Aff0),
//! leaves EL2 as the boot core did, installs the EL1 vectors, then
//! [`armv8a_secondary_start`] turns on the boot core's identity map, puts
//! its index in `TPIDR_EL1`, reports itself online in its [`PerCpu`] state
//! and parks in `wfe`, waking to serve the work the boot core posts. It
//! never runs the main loop or a capsule: the kernel stays single-threaded.
//!
//! Starting a core is the board's enable method, from the device tree (or
//! the chip's table): PSCI `CPU_ON` (64-bit) through the monitor conduit,
//! or a spin table, where the entry point is written to the core's release
//! word, cleaned to the point of coherency (the parked core reads it with
//! its caches off) and an event is sent.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, Writeable, MPIDR_EL1, TPIDR_EL1};
use kernel::hil::cores::{CoreCalls, CoreReport, CoreWork, Cores, StartError};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::ErrorCode;

use crate::device_tree::{EnableMethod, PlatformDescription, MAXIMUM_CORES};
use crate::per_cpu::PerCpu;

/// Bytes of each secondary core's EL1 stack.
pub const SECONDARY_STACK_SIZE: usize = 16 * 1024;
/// PSCI `CPU_ON`, SMC64.
const PSCI_CPU_ON_64: u32 = 0xC400_0003;

/// Every core's state, by core index.
static PER_CPU: [PerCpu; MAXIMUM_CORES] = [const { PerCpu::new() }; MAXIMUM_CORES];

extern "C" {
    /// Where a started core enters (boot.rs).
    fn armv8a_secondary_entry();
}

/// The physical address where started cores enter (identity map: the
/// symbol's address).
pub fn entry_point() -> u64 {
    armv8a_secondary_entry as *const () as usize as u64
}

/// The calling core's index: MPIDR Aff0.
pub fn this_core() -> usize {
    (MPIDR_EL1.get() & 0xff) as usize
}

/// Rust side of a secondary core's start, at EL1 on its own stack.
#[no_mangle]
extern "C" fn armv8a_secondary_start(core: u64, entry_exception_level: u64) -> ! {
    crate::mmu::enable_on_this_core();
    TPIDR_EL1.set(core);
    let state = &PER_CPU[core as usize];
    state.report_online(MPIDR_EL1.get(), entry_exception_level as u8);
    loop {
        if state.work().serve() || state.calls().serve(call_from_this_core) {
            continue;
        }
        aarch64_cpu::asm::wfe();
    }
}

/// Makes an SMCCC call the boot core posted, from this core, through a
/// conduit of the kind the boot core's conduit is.
fn call_from_this_core(kind: ConduitKind, call: &SmcccRegisters) -> SmcccRegisters {
    match kind {
        ConduitKind::Smc => crate::conduit::SecureMonitorCall.call(call),
        ConduitKind::Hvc => crate::conduit::HypervisorCall.call(call),
        ConduitKind::Absent => crate::conduit::NoMonitor.call(call),
    }
}

/// Wakes cores parked in `wfe` after memory they read has been written.
fn send_event() {
    barrier::dsb(barrier::ISH);
    aarch64_cpu::asm::sev();
}

/// The board's cores, started by their enable method.
pub struct SecondaryCores {
    description: PlatformDescription,
    /// How a core without an `enable-method` is started: PSCI through the
    /// monitor (QEMU `virt` with firmware names none), or not at all.
    psci_by_default: bool,
    conduit: &'static dyn SmcccConduit,
    boot_core: usize,
}

impl SecondaryCores {
    /// The cores of `description`; PSCI calls go through `conduit`. With
    /// `psci_by_default`, cores whose enable method is unspecified are
    /// started with PSCI too.
    pub fn new(
        description: PlatformDescription,
        conduit: &'static dyn SmcccConduit,
        psci_by_default: bool,
    ) -> SecondaryCores {
        SecondaryCores {
            description,
            psci_by_default,
            conduit,
            boot_core: this_core(),
        }
    }

    fn method(&self, core: usize) -> Option<(u64, EnableMethod)> {
        self.description
            .cores()
            .find(|described| (described.mpidr & 0xff) as usize == core)
            .map(|described| (described.mpidr, described.enable_method))
    }

    fn psci_cpu_on(&self, mpidr: u64, core: usize) -> Result<(), StartError> {
        if self.conduit.kind() == ConduitKind::Absent {
            return Err(StartError::NoMethod);
        }
        StartError::from_psci(psci_cpu_on_raw(self.conduit, mpidr, core)).map_or(Ok(()), Err)
    }

    fn release_from_spin_table(release_address: u64) {
        let entry = entry_point();
        let word = release_address as *mut u64;
        // SAFETY: the release word is the firmware's, in memory the kernel
        // maps (the spin table lies in the first page of RAM on the Pi),
        // 8-byte aligned, and read only by the parked core.
        unsafe {
            core::ptr::write_volatile(word, entry.to_le());
            // The parked core reads with its caches off: clean to PoC.
            core::arch::asm!("dc civac, {0}", in(reg) word, options(nostack));
        }
        barrier::dsb(barrier::SY);
        aarch64_cpu::asm::sev();
    }

    /// The cores the board describes, as `(index, MPIDR)`.
    pub fn described(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.description
            .cores()
            .map(|core| ((core.mpidr & 0xff) as usize, core.mpidr))
    }
}

impl Cores for SecondaryCores {
    fn count(&self) -> usize {
        self.description.core_count()
    }

    fn boot_core(&self) -> usize {
        self.boot_core
    }

    fn mpidr(&self, core: usize) -> Option<u64> {
        self.method(core).map(|(mpidr, _)| mpidr)
    }

    fn start(&self, core: usize) -> Result<(), StartError> {
        if core == self.boot_core || core >= MAXIMUM_CORES {
            return Err(StartError::NoSuchCore);
        }
        let (mpidr, method) = self.method(core).ok_or(StartError::NoSuchCore)?;
        match method {
            EnableMethod::Psci => self.psci_cpu_on(mpidr, core),
            EnableMethod::SpinTable { release_address } => {
                Self::release_from_spin_table(release_address);
                Ok(())
            }
            EnableMethod::Unspecified if self.psci_by_default => self.psci_cpu_on(mpidr, core),
            EnableMethod::Unspecified => Err(StartError::NoMethod),
        }
    }

    fn online(&self, core: usize) -> Option<CoreReport> {
        PER_CPU.get(core).and_then(PerCpu::report)
    }

    fn post(&self, core: usize, work: CoreWork) -> Result<(), ErrorCode> {
        if self.online(core).is_none() {
            return Err(ErrorCode::OFF);
        }
        PER_CPU[core].work().post(work)?;
        send_event();
        Ok(())
    }

    fn take_result(&self, core: usize) -> Option<u64> {
        PER_CPU
            .get(core)
            .and_then(|state| state.work().take_result())
    }
}

impl CoreCalls for SecondaryCores {
    fn post_call(&self, core: usize, call: &SmcccRegisters) -> Result<(), ErrorCode> {
        if core == self.boot_core || core >= MAXIMUM_CORES {
            return Err(ErrorCode::INVAL);
        }
        if self.online(core).is_none() {
            return Err(ErrorCode::OFF);
        }
        PER_CPU[core].calls().post(self.conduit.kind(), call)?;
        send_event();
        Ok(())
    }

    fn take_reply(&self, core: usize) -> Option<SmcccRegisters> {
        PER_CPU
            .get(core)
            .and_then(|state| state.calls().take_reply())
    }
}

/// Starts core `core` through PSCI `CPU_ON` with MPIDR `mpidr` exactly as
/// given (a test hook for refused starts: an MPIDR the firmware does not
/// know); returns the PSCI status.
pub fn psci_cpu_on_raw(conduit: &dyn SmcccConduit, mpidr: u64, core: usize) -> i32 {
    psci_cpu_on_at(conduit, mpidr, entry_point(), core as u64)
}

/// PSCI `CPU_ON` with MPIDR `mpidr`, entry point `entry` and context ID
/// `context` exactly as given (a test hook for refused starts: an entry
/// point the caller may not name); returns the PSCI status. A core it does
/// start runs whatever is at `entry`: never call it with an entry that is
/// not meant to be refused.
pub fn psci_cpu_on_at(conduit: &dyn SmcccConduit, mpidr: u64, entry: u64, context: u64) -> i32 {
    let reply = conduit.call(&SmcccRegisters::from_slice(&[
        u64::from(PSCI_CPU_ON_64),
        mpidr,
        entry,
        context,
    ]));
    reply.x[0] as i64 as i32
}
