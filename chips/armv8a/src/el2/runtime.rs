//! The EL2 side of protected mode: decodes each exception from EL1, hands
//! it to the installed handler, and performs what the handler asks.
//!
//! Everything here but [`El2Runtime::install`] runs at EL2, on the EL2
//! stack, with exceptions masked and EL2's MMU on (an identity map,
//! `super::memory`). The decisions come from the handler (a capsule,
//! through `kernel::hil::hypervisor`); this module only moves registers,
//! issues `SMC #0` to the monitor, copies bytes with volatile accesses,
//! sets `HCR_EL2.TSC`, builds and changes the host's stage 2, injects the
//! host's stage-2 aborts, and logs what it cannot hand on.
//!
//! - HVC (EC 0x16): [`HostCallHandler::hypervisor_call`], or x0 = -1 while
//!   no handler is installed (as the boot stub answers).
//! - Trapped SMC (EC 0x17, only once the handler asked for traps):
//!   `ELR_EL2` points at the `SMC` instruction, so it is advanced by 4; the
//!   call goes to [`HostCallHandler::trapped_smc`].
//! - A data or instruction abort from EL1 (EC 0x24/0x20): the host's stage
//!   2 refused an access. Reported (IPA from `HPFAR_EL2`, `ESR_EL2`), then
//!   [`HostCallHandler::host_stage2_fault`] decides: retry, or inject into
//!   the host's synchronous vector.
//! - Any other exception class was never enabled: logged, then power off.
//!
//! Several cores may take exceptions to EL2 at once (each on its own EL2
//! stack): the handler is reached only under one bakery lock, which needs
//! no exclusives (EL2 runs with its MMU off). A core the handler started
//! (its PSCI `CPU_ON` relay) enters at [`armv8a_el2_secondary_start`]: its
//! EL2 is set up like the boot core's (with the SMC trap if the handler
//! asked for it), then the handler says where the host resumes at EL1.
//!
//! EL2's memory, as [`El2Services::el2_memory`] reports it to the handler,
//! is its whole image as the board's linker script lays it out (see
//! `boards/qemu-virt/link.x`): `__el2_text_start` to `__el2_text_end`
//! (all code and read-only data: EL2 runs code it shares with the kernel)
//! and `__el2_data_start` to `__el2_data_end` (EL2's data and BSS: this
//! module's handler slot, the handler's state, the EL2 stack and the
//! logger state, placed in `.data.el2.*`/`.bss.el2.*` input sections).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, CNTHCTL_EL2, CNTVOFF_EL2, CPTR_EL2, ELR_EL1, ESR_EL1,
    ESR_EL2, FAR_EL1, FAR_EL2, HCR_EL2, HPFAR_EL2, ID_AA64PFR0_EL1, MIDR_EL1, MPIDR_EL1, SCTLR_EL1,
    SPSR_EL1, VBAR_EL1, VMPIDR_EL2, VTTBR_EL2,
};
use bakery_lock::BakeryLock;
use kernel::hil::hypervisor::{
    El2Memory, El2Services, FaultDecision, HostAccess, HostCallHandler, HostEntry, HostMemoryMap,
    Hypervisor, MemoryRange, Stage2Fault, Stage2Summary,
};
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters, SMCCC_REGISTER_COUNT};
use kernel::ErrorCode;

use super::memory;
use super::vectors::{self, El2Frame};
use crate::conduit::SecureMonitorCall;

/// ESR_EL2.EC of an HVC from AArch64.
const EXCEPTION_CLASS_HVC64: u64 = 0x16;
/// ESR_EL2.EC of an SMC from AArch64 trapped by `HCR_EL2.TSC`.
const EXCEPTION_CLASS_SMC64: u64 = 0x17;
/// ESR_EL2.EC of an instruction abort from a lower EL (here: the host's stage 2).
const EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER: u64 = 0x20;
/// ESR_EL2.EC of a data abort from a lower EL (here: the host's stage 2).
const EXCEPTION_CLASS_DATA_ABORT_LOWER: u64 = 0x24;
/// ESR.EC of the same abort taken at the current EL, as EL1 sees it injected.
const SAME_EL_OFFSET: u64 = 1;
use crate::fault_report::INJECTED_BY_EL2;
/// PSTATE for the host's exception entry: EL1h, D, A, I, F masked.
const EL1H_MASKED: u64 = 0x3c5;
/// PSCI `SYSTEM_OFF`, for the fatal path.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
/// The status the fatal path powers off with (as a panic does).
const FATAL_STATUS: u64 = 1;
/// x0 of SMCCC `NOT_SUPPORTED` (-1).
const NOT_SUPPORTED: u64 = u64::MAX;

/// The installed handler, owned by EL2 once installed.
struct HandlerSlot(UnsafeCell<Option<&'static mut dyn HostCallHandler>>);

// SAFETY: the slot is written only by `El2Runtime::install`, at EL1 on the
// boot core before any secondary is started, which makes no call to EL2
// while it holds the reference; at EL2 it is read only by
// `with_handler`, under `LOCK`, so no two cores access it at once, and EL2
// runs with every exception masked and never re-enters itself.
unsafe impl Sync for HandlerSlot {}

/// In EL2's data: the host must never name it as a buffer.
#[link_section = ".bss.el2.handler"]
static HANDLER: HandlerSlot = HandlerSlot(UnsafeCell::new(None));
/// Serialises the cores' use of the handler. In EL2's data: a host that
/// could write it could let two cores into the handler at once.
#[link_section = ".bss.el2.handler_lock"]
static LOCK: BakeryLock<{ crate::device_tree::MAXIMUM_CORES }> = BakeryLock::new();
/// Whether the handler asked for the host's SMCs to trap: every core that
/// enters EL2 later sets the trap too. In EL2's data: a host that could
/// clear it would start its next core with its SMCs untrapped.
#[link_section = ".bss.el2.trapping_smcs"]
static TRAPPING_SMCS: AtomicBool = AtomicBool::new(false);

extern "C" {
    /// Where a core started for the handler enters EL2 (vectors.rs).
    fn armv8a_el2_secondary_entry();
}

/// This core's index (MPIDR Aff0).
fn this_core() -> usize {
    (MPIDR_EL1.get() & 0xff) as usize
}

extern "C" {
    /// The first byte of the code and read-only data (board linker script).
    static __el2_text_start: u8;
    /// The first byte after them, page aligned.
    static __el2_text_end: u8;
    /// The first byte of EL2's data, BSS and stack (board linker script).
    static __el2_data_start: u8;
    /// The first byte after them, page aligned.
    static __el2_data_end: u8;
}

/// `[start, end)` between two linker symbols, as a range.
fn symbol_range(start: *const u8, end: *const u8) -> MemoryRange {
    let start = start as u64;
    MemoryRange::new(start, (end as u64).saturating_sub(start))
}

/// EL2's whole image, from the board's linker script.
fn image() -> El2Memory {
    image_and_code().0
}

/// The code and read-only data EL2 runs, shared with the kernel.
fn shared_code() -> MemoryRange {
    image_and_code().1
}

/// EL2's whole image, and the part of it that is its (shared) code.
fn image_and_code() -> (El2Memory, MemoryRange) {
    // Taking the address of an extern static is safe; the memory behind
    // them is never read or written through these pointers.
    let text = symbol_range(
        core::ptr::addr_of!(__el2_text_start),
        core::ptr::addr_of!(__el2_text_end),
    );
    let data = symbol_range(
        core::ptr::addr_of!(__el2_data_start),
        core::ptr::addr_of!(__el2_data_end),
    );
    // The stack is in the data range (its section is `.bss.el2.stack`);
    // named again, so that a linker script that forgot it cannot expose it.
    let (stack_base, stack_size) = vectors::stack_range();
    // The code is the kernel's too (EL2 runs the shared `.text`): a core the
    // host starts may be entered there at EL1, never in EL2's data.
    let image = El2Memory::from_slots([
        text,
        data,
        MemoryRange::new(stack_base, stack_size),
        MemoryRange::EMPTY,
        MemoryRange::EMPTY,
        MemoryRange::EMPTY,
    ])
    .with_shared_code(text);
    (image, text)
}

/// The EL2 runtime, as the board sees it: installs the handler.
#[derive(Clone, Copy, Debug, Default)]
pub struct El2Runtime;

impl El2Runtime {
    /// EL2's memory, as the runtime reports it to the handler (from the
    /// board's linker script); readable at EL1 too (the addresses only).
    pub fn memory(&self) -> El2Memory {
        image()
    }

    /// Where a core the handler starts enters EL2 (what the handler's
    /// `CPU_ON` relay hands the monitor).
    pub fn secondary_entry_point(&self) -> u64 {
        armv8a_el2_secondary_entry as *const () as usize as u64
    }
}

impl Hypervisor for El2Runtime {
    fn install(&self, handler: &'static mut dyn HostCallHandler) -> Result<(), ErrorCode> {
        // SAFETY: see `HandlerSlot`: at EL1, nothing at EL2 runs while this
        // reference lives, and it ends before the function returns.
        let slot = unsafe { &mut *HANDLER.0.get() };
        if slot.is_some() {
            return Err(ErrorCode::ALREADY);
        }
        *slot = Some(handler);
        // The handler's state must be visible to EL2 before its first HVC.
        barrier::dsb(barrier::SY);
        Ok(())
    }
}

/// Runs `operation` on the installed handler, if there is one, under the
/// lock. Call only at EL2.
fn with_handler<R>(operation: impl FnOnce(&mut dyn HostCallHandler) -> R) -> Option<R> {
    let core = this_core();
    if !LOCK.lock(core) {
        defmt::error!("el2: core {=usize} never got the handler's lock", core);
        power_off(FATAL_STATUS);
    }
    // SAFETY: see `HandlerSlot`: the lock is held, and the reference ends
    // before it is released.
    let slot = unsafe { &mut *HANDLER.0.get() };
    let result = slot.as_deref_mut().map(operation);
    LOCK.unlock(core);
    result
}

/// One SMC from EL2 to the monitor (EL2's own SMCs are never trapped).
fn call_monitor(call: &SmcccRegisters) -> SmcccRegisters {
    SecureMonitorCall.call(call)
}

/// What EL2 does for the handler.
struct El2Hardware;

impl El2Services for El2Hardware {
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        call_monitor(call)
    }

    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode> {
        for offset in 0..length as u64 {
            // SAFETY: the handler checked both ranges before asking (the FF-A
            // proxy copies from its own RX buffer, in its carve-out, into the
            // host's recorded RX buffer, which lies in host memory and outside
            // everything EL2 owns). EL2's identity map makes these physical
            // addresses; volatile because the monitor and the host access
            // the same memory behind the compiler's back.
            unsafe {
                let byte = core::ptr::read_volatile((source + offset) as *const u8);
                core::ptr::write_volatile((destination + offset) as *mut u8, byte);
            }
        }
        Ok(())
    }

    fn read(&mut self, source: u64, destination: &mut [u8]) -> Result<(), ErrorCode> {
        for (offset, byte) in destination.iter_mut().enumerate() {
            // SAFETY: the handler checked the range (the proxy reads headers
            // from its own buffers, in its carve-out). EL2's identity map
            // makes this a physical address; volatile because the monitor
            // writes the same memory.
            *byte = unsafe { core::ptr::read_volatile((source + offset as u64) as *const u8) };
        }
        Ok(())
    }

    fn trap_host_smcs(&mut self) {
        // From the next return to EL1 on, every SMC of the host traps here;
        // cores that enter EL2 later trap theirs from the start.
        TRAPPING_SMCS.store(true, Ordering::SeqCst);
        HCR_EL2.modify(HCR_EL2::TSC::EnableTrapEl1SmcToEl2);
        barrier::isb(barrier::SY);
    }

    fn el2_memory(&self) -> El2Memory {
        image()
    }

    fn secondary_entry_point(&self) -> u64 {
        El2Runtime.secondary_entry_point()
    }

    fn el2_shared_code(&self) -> MemoryRange {
        shared_code()
    }

    fn protect_host(&mut self, map: &HostMemoryMap) -> Result<Stage2Summary, ErrorCode> {
        memory::protect_host(map)
    }

    fn set_host_access(&mut self, range: MemoryRange, access: HostAccess) -> Result<(), ErrorCode> {
        memory::set_host_access(range, access)
    }
}

/// EL2 set-up for an AArch64 host at EL1, as the boot core's (boot.rs), with
/// the SMC trap if the handler asked for it.
fn configure_el2_for_the_host() {
    let trap = if TRAPPING_SMCS.load(Ordering::SeqCst) {
        HCR_EL2::TSC::EnableTrapEl1SmcToEl2
    } else {
        HCR_EL2::TSC::DisableTrapEl1SmcToEl2
    };
    HCR_EL2.write(HCR_EL2::RW::EL1IsAarch64 + trap);
    CPTR_EL2.set(0x33ff);
    CNTHCTL_EL2.set(3);
    CNTVOFF_EL2.set(0);
    // ID_AA64PFR0_EL1.GIC, bits 27:24: the GIC system registers exist.
    if (ID_AA64PFR0_EL1.get() >> 24) & 0xf != 0 {
        // SAFETY: ICC_SRE_EL2 exists (the CPU has the GIC system
        // registers); SRE and Enable let EL1 use them.
        unsafe {
            core::arch::asm!("msr S3_4_C12_C9_5, {0}", "isb", in(reg) 0xfu64, options(nostack))
        };
    }
    // SAFETY: VPIDR_EL2 (what EL1 reads as MIDR_EL1) is a plain EL2
    // register; setting it to the real MIDR changes nothing EL1 sees.
    unsafe { core::arch::asm!("msr vpidr_el2, {0}", in(reg) MIDR_EL1.get(), options(nostack)) };
    VMPIDR_EL2.set(MPIDR_EL1.get());
    VTTBR_EL2.set(0);
    SCTLR_EL1.set(armv8a_mmu::SCTLR_EL1_MMU_OFF);
    barrier::isb(barrier::SY);
}

/// Where the host resumes, as the assembly takes it back: x0, x1.
#[repr(C)]
pub struct HostResume {
    /// ELR_EL2: the host's entry point.
    entry: u64,
    /// The host's x0.
    context: u64,
}

/// Called by `armv8a_el2_secondary_entry` on a core the handler started,
/// at EL2 on its own stack, x0 = the context the handler passed. Sets EL2
/// up (its stage-1 MMU and the host's stage 2 included), asks the handler where the host resumes, and returns it for the
/// `eret` (the core parks if the handler has none).
#[no_mangle]
extern "C" fn armv8a_el2_secondary_start(context: u64) -> HostResume {
    configure_el2_for_the_host();
    // EL2's own MMU as on the boot core, and the host's stage 2 (built at
    // finalisation, before any core is started): the host never runs on
    // this core unprotected.
    memory::load_on_this_core();
    let core = this_core();
    defmt::info!(
        "el2: core {=usize}: EL2's MMU on, the host's stage 2 {=str}",
        core,
        if HCR_EL2.is_set(HCR_EL2::VM) {
            "on"
        } else {
            "off"
        }
    );
    match with_handler(|handler| handler.secondary_core_entry(core, context, &mut El2Hardware))
        .flatten()
    {
        Some(HostEntry { entry, context }) => HostResume { entry, context },
        None => {
            defmt::warn!(
                "el2: core {=usize} entered EL2 with nowhere to go; parked",
                core
            );
            loop {
                aarch64_cpu::asm::wfe();
            }
        }
    }
}

/// A host access the stage 2 refused: reported, then retried or injected.
fn host_stage2_fault(frame: &mut El2Frame, syndrome: u64, class: u64) {
    let fault_address = FAR_EL2.get();
    // HPFAR_EL2.FIPA (bits 43:4) holds IPA bits 51:12.
    let page = (HPFAR_EL2.get() >> 4 & 0xFF_FFFF_FFFF) << 12;
    let fault = Stage2Fault {
        ipa: page | (fault_address & 0xFFF),
        syndrome,
        host_address: frame.exception_link,
        write: class == EXCEPTION_CLASS_DATA_ABORT_LOWER && syndrome & (1 << 6) != 0,
        fetch: class == EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER,
    };
    defmt::warn!(
        "el2: host stage-2 fault: {=str} at IPA {=u64:#x}, ESR_EL2 {=u64:#x} (EC {=u64:#x}, fault status {=u64:#x}), host at {=u64:#x}",
        if fault.fetch {
            "instruction fetch"
        } else if fault.write {
            "write"
        } else {
            "read"
        },
        fault.ipa,
        syndrome,
        class,
        syndrome & 0x3F,
        frame.exception_link
    );
    let decision =
        with_handler(|handler| handler.host_stage2_fault(&fault)).unwrap_or(FaultDecision::Inject);
    if decision == FaultDecision::Inject {
        inject_abort(frame, syndrome, class, fault_address);
        defmt::warn!(
            "el2: the abort goes to the host's vector at {=u64:#x}; EL2 runs on",
            frame.exception_link
        );
    }
}

/// Makes the abort EL2 took look, to the host, like an abort of its own:
/// the syndrome as a same-EL abort (marked [`INJECTED_BY_EL2`]), the fault
/// address and return state in the EL1 registers, and the return to the
/// host's synchronous vector with everything masked.
fn inject_abort(frame: &mut El2Frame, syndrome: u64, class: u64, fault_address: u64) {
    let same_el_class = class + SAME_EL_OFFSET;
    let host_syndrome = (syndrome & !(0x3F << 26)) | same_el_class << 26 | INJECTED_BY_EL2;
    ESR_EL1.set(host_syndrome);
    FAR_EL1.set(fault_address);
    ELR_EL1.set(frame.exception_link);
    SPSR_EL1.set(frame.saved_program_status);
    // The vector: from EL1 with SP_EL1 (the kernel's mode) +0x200, with
    // SP_EL0 +0x000, from EL0 +0x400.
    let offset = match frame.saved_program_status & 0xF {
        0b0101 => 0x200,
        0b0100 => 0x000,
        _ => 0x400,
    };
    frame.exception_link = VBAR_EL1.get() + offset;
    frame.saved_program_status = EL1H_MASKED;
}

/// Called by the vector code for every synchronous exception from EL1.
#[no_mangle]
extern "C" fn armv8a_el2_handle_lower_sync(frame: &mut El2Frame) {
    let syndrome = ESR_EL2.get();
    let class = (syndrome >> 26) & 0x3F;
    let immediate = syndrome as u16;
    let mut call = SmcccRegisters::default();
    call.x
        .copy_from_slice(&frame.general[..SMCCC_REGISTER_COUNT]);
    let reply = match class {
        EXCEPTION_CLASS_HVC64 => {
            with_handler(|handler| handler.hypervisor_call(immediate, &call, &mut El2Hardware))
                .unwrap_or_else(|| not_supported(&call))
        }
        EXCEPTION_CLASS_SMC64 => {
            // A trapped SMC: ELR_EL2 points at the SMC itself.
            frame.exception_link += 4;
            // Traps are enabled only by a handler, so one is installed.
            with_handler(|handler| handler.trapped_smc(immediate, &call, &mut El2Hardware))
                .unwrap_or_else(|| call_monitor(&call))
        }
        EXCEPTION_CLASS_INSTRUCTION_ABORT_LOWER | EXCEPTION_CLASS_DATA_ABORT_LOWER => {
            // The host's registers go back as they were.
            host_stage2_fault(frame, syndrome, class);
            return;
        }
        _ => {
            defmt::error!(
                "el2: unexpected exception from EL1: ESR_EL2 {=u64:#x} (EC {=u64:#x}), ELR_EL2 {=u64:#x}",
                syndrome,
                class,
                frame.exception_link
            );
            power_off(FATAL_STATUS)
        }
    };
    frame.general[..SMCCC_REGISTER_COUNT].copy_from_slice(&reply.x);
}

/// x0 = -1, x1–x17 as the caller passed them.
fn not_supported(call: &SmcccRegisters) -> SmcccRegisters {
    let mut reply = *call;
    reply.x[0] = NOT_SUPPORTED;
    reply
}

/// Powers off through PSCI with `status` (the test firmware's exit status);
/// halts if that returns.
fn power_off(status: u64) -> ! {
    call_monitor(&SmcccRegisters::from_slice(&[PSCI_SYSTEM_OFF, status]));
    loop {
        aarch64_cpu::asm::wfe();
    }
}

/// Called by the vector code for an exception EL2 never expects.
#[no_mangle]
extern "C" fn armv8a_el2_fatal(vector: u64, syndrome: u64, link: u64, fault_address: u64) -> ! {
    defmt::error!(
        "el2: fatal exception at EL2: vector {=u64}, ESR_EL2 {=u64:#x} (EC {=u64:#x}), ELR_EL2 {=u64:#x}, FAR_EL2 {=u64:#x}",
        vector,
        syndrome,
        (syndrome >> 26) & 0x3F,
        link,
        fault_address
    );
    power_off(FATAL_STATUS)
}
