//! EL1 exception vectors: every exception the kernel takes is fatal and
//! produces a readable fault report, but the one a probe expects.
//!
//! The kernel thread runs with IRQs masked and polls the GIC from the main
//! loop, so no exception is expected in normal operation. Each vector saves
//! the general-purpose registers and calls [`armv8a_exception_handler`],
//! which logs the decoded syndrome (see [`crate::fault_report`]) and panics;
//! the board's panic handler powers the system off with a failure status.
//!
//! A probe ([`probe_write`], [`probe_read`]) is an access the kernel makes
//! knowing it may fault (a test scenario checking that protected mode's EL2
//! takes memory away from it): if the probe's own instruction faults, the
//! report is logged as expected and the probe returns it, and the kernel
//! runs on.

use core::arch::global_asm;
use core::cell::UnsafeCell;

use crate::fault_report::{ExceptionKind, FaultReport};

/// Registers saved by the vector code, in stack order.
#[repr(C)]
pub struct ExceptionFrame {
    /// x0 to x30.
    pub general: [u64; 31],
    /// ELR_EL1: the faulting (or preferred return) address.
    pub exception_link: u64,
    /// SPSR_EL1: the interrupted PSTATE.
    pub saved_program_status: u64,
    /// ESR_EL1: the exception syndrome.
    pub syndrome: u64,
    /// FAR_EL1: the faulting virtual address, when valid.
    pub fault_address: u64,
    padding: u64,
}

const _: () = assert!(core::mem::size_of::<ExceptionFrame>() == 288);
const _: () = assert!(core::mem::offset_of!(ExceptionFrame, exception_link) == 248);
const _: () = assert!(core::mem::offset_of!(ExceptionFrame, syndrome) == 264);

/// The fault of the last probe that faulted.
struct ProbeFault(UnsafeCell<Option<FaultReport>>);

// SAFETY: written by the exception handler and read by the probe that
// raised it, on the one core, never at the same time (the probe waits
// for its own instruction's exception to return).
unsafe impl Sync for ProbeFault {}

static PROBE_FAULT: ProbeFault = ProbeFault(UnsafeCell::new(None));

extern "C" {
    fn armv8a_probe_store(address: u64, value: u64) -> u64;
    fn armv8a_probe_load(address: u64) -> ProbeLoad;
    static armv8a_probe_store_access: u8;
    static armv8a_probe_load_access: u8;
    static armv8a_probe_fixup: u8;
}

/// What `armv8a_probe_load` returns in x0 and x1.
#[repr(C)]
struct ProbeLoad {
    /// 0: loaded; 1: faulted.
    status: u64,
    /// The value loaded.
    value: u64,
}

/// Whether `link` is a probe's access instruction.
fn is_probe(link: u64) -> bool {
    link == core::ptr::addr_of!(armv8a_probe_store_access) as u64
        || link == core::ptr::addr_of!(armv8a_probe_load_access) as u64
}

fn take_probe_fault() -> Option<FaultReport> {
    // SAFETY: see `ProbeFault`.
    unsafe { (*PROBE_FAULT.0.get()).take() }
}

/// Writes `value` to `address`, expecting it may fault: `Err` with the
/// fault's report if it did (the kernel runs on), `Ok` if it went through.
pub fn probe_write(address: u64, value: u64) -> Result<(), FaultReport> {
    take_probe_fault();
    // SAFETY: the store may write any memory the kernel's translation
    // allows: callers (test scenarios) name memory the kernel does not use
    // otherwise, or memory it expects to be taken away; a fault is caught
    // by the handler and returns here.
    match unsafe { armv8a_probe_store(address, value) } {
        0 => Ok(()),
        _ => Err(take_probe_fault().unwrap_or(FaultReport::new(
            ExceptionKind::Unknown,
            0,
            0,
            address,
            0,
        ))),
    }
}

/// Reads the 8 bytes at `address`, expecting it may fault: `Err` with the
/// fault's report if it did, the value if not.
pub fn probe_read(address: u64) -> Result<u64, FaultReport> {
    take_probe_fault();
    // SAFETY: a load from memory the kernel's translation maps, or a fault
    // the handler catches and returns from.
    let load = unsafe { armv8a_probe_load(address) };
    match load.status {
        0 => Ok(load.value),
        _ => Err(take_probe_fault().unwrap_or(FaultReport::new(
            ExceptionKind::Unknown,
            0,
            0,
            address,
            0,
        ))),
    }
}

/// Called by the vector code with the vector index and the saved registers.
/// Returns only for a probe's fault (with the return address changed).
#[no_mangle]
extern "C" fn armv8a_exception_handler(kind: u64, frame: &mut ExceptionFrame) {
    let report = FaultReport::new(
        ExceptionKind::from_vector_index(kind),
        frame.syndrome,
        frame.exception_link,
        frame.fault_address,
        frame.saved_program_status,
    );
    if report.kind == ExceptionKind::CurrentElSync && is_probe(frame.exception_link) {
        defmt::warn!("fault: expected by a probe, which returns it; the kernel runs on");
        report.log();
        // SAFETY: see `ProbeFault`.
        unsafe { *PROBE_FAULT.0.get() = Some(report) };
        frame.exception_link = core::ptr::addr_of!(armv8a_probe_fixup) as u64;
        return;
    }
    report.log();
    for (index, pair) in frame.general.chunks(2).enumerate() {
        match pair {
            [first, second] => defmt::error!(
                "  x{=usize:02} {=u64:#018x}  x{=usize:02} {=u64:#018x}",
                index * 2,
                *first,
                index * 2 + 1,
                *second
            ),
            [last] => defmt::error!("  x{=usize:02} {=u64:#018x}", index * 2, *last),
            _ => {}
        }
    }
    panic!("unhandled exception: {}", report.kind.name());
}

// 16 vectors of 128 bytes; each reserves a frame, saves x30 and jumps to
// the common code with the vector index in x30, which saves x0–x29 (the
// `armv8a-asm` fragment every vector shares) and the syndrome registers.
global_asm!(
    r#"
    .section .text.vectors, "ax"
    .balign 2048
    .global armv8a_el1_vectors
armv8a_el1_vectors:
    .set vector_index, 0
    .rept 16
    .balign 128
    sub     sp, sp, #288
    str     x30, [sp, #240]
    mov     x30, #vector_index
    b       armv8a_exception_common
    .set vector_index, vector_index + 1
    .endr

armv8a_exception_common:
"#,
    armv8a_asm::registers!("stp", x0..x29, "sp"),
    r#"
    mov     x0, x30
    mrs     x1, elr_el1
    str     x1, [sp, #248]
    mrs     x1, spsr_el1
    mrs     x2, esr_el1
    stp     x1, x2, [sp, #256]
    mrs     x1, far_el1
    str     x1, [sp, #272]
    mov     x1, sp
    bl      armv8a_exception_handler
    // Only a probe's fault returns: resume where the handler says.
    ldr     x1, [sp, #248]
    msr     elr_el1, x1
"#,
    armv8a_asm::registers!("ldp", x0..x29, "sp"),
    r#"
    ldr     x30, [sp, #240]
    add     sp, sp, #288
    eret

    // The probes: x0 = address (x1 = value to store). x0 = 0 if the access
    // went through (x1 = the value loaded), 1 if it faulted (the handler
    // resumes at the fixup).
    .section .text.armv8a_probe, "ax"
    .global armv8a_probe_store
    .global armv8a_probe_store_access
    .global armv8a_probe_load
    .global armv8a_probe_load_access
    .global armv8a_probe_fixup
armv8a_probe_store:
armv8a_probe_store_access:
    str     x1, [x0]
    mov     x0, #0
    ret
armv8a_probe_load:
    mov     x2, x0
armv8a_probe_load_access:
    ldr     x1, [x2]
    mov     x0, #0
    ret
armv8a_probe_fixup:
    mov     x0, #1
    ret
"#
);

/// An address outside the kernel's identity map (it covers 0–4 GiB).
const UNMAPPED_ADDRESS: usize = 0x10_0000_0000;

/// Reads an unmapped address on purpose, so a test scenario can check the
/// fault report and the panic path end to end. Never returns.
pub fn provoke_translation_fault() -> ! {
    // SAFETY: the read faults (translation fault, level 1) before any value
    // is produced; the exception handler reports it and never returns here.
    let value = unsafe { core::ptr::read_volatile(UNMAPPED_ADDRESS as *const u64) };
    panic!(
        "reading unmapped address {:#x} returned {:#x}",
        UNMAPPED_ADDRESS, value
    );
}
