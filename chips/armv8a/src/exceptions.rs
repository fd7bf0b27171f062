//! EL1 exception vectors: every exception the kernel takes is fatal and
//! produces a readable fault report.
//!
//! The kernel thread runs with IRQs masked and polls the GIC from the main
//! loop, so no exception is expected in normal operation. Each vector saves
//! the general-purpose registers and calls [`armv8a_exception_handler`],
//! which logs the decoded syndrome (see [`crate::fault_report`]) and panics;
//! the board's panic handler powers the system off with a failure status.

use core::arch::global_asm;

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

/// Called by the vector code with the vector index and the saved registers.
#[no_mangle]
extern "C" fn armv8a_exception_handler(kind: u64, frame: &ExceptionFrame) -> ! {
    let report = FaultReport::new(
        ExceptionKind::from_vector_index(kind),
        frame.syndrome,
        frame.exception_link,
        frame.fault_address,
        frame.saved_program_status,
    );
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
    b       armv8a_halt
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
