//! EL2 entry and exit: the vector table, the saved host context, the EL2 stack.
//!
//! The boot code points `VBAR_EL2` at `armv8a_el2_vectors` and SP_EL2 at
//! the top of the 16 KiB EL2 stack before dropping to EL1. Only one vector
//! does real work: *lower EL, AArch64, synchronous* (an HVC, or an SMC
//! trapped by `HCR_EL2.TSC`). It saves the host's x0–x30, ELR/SPSR, q0–q31,
//! FPCR and FPSR in an [`El2Frame`] on the EL2 stack (the Rust handler may
//! use FP/SIMD registers: the target has NEON), calls
//! `armv8a_el2_handle_lower_sync`, restores everything (with whatever x0–x17
//! and ELR the handler wrote) and returns with `eret`.
//!
//! Every other vector means something went wrong (an exception taken at EL2
//! itself, or an interrupt or SError routed to EL2, which this kernel never
//! asks for): it resets the stack and calls `armv8a_el2_fatal`, which logs
//! and powers off. A fault inside that path halts instead of recursing.
//!
//! EL2 runs with its MMU off: every data access is Device-nGnRnE, so the
//! code here and in the handler keeps accesses aligned and uses no
//! exclusives (no atomics).

use core::arch::global_asm;

/// Bytes of the EL2 stack.
pub const STACK_SIZE: usize = 16 * 1024;

/// Size of [`El2Frame`] in bytes.
const FRAME_SIZE: usize = 800;

/// The host's registers, as saved on the EL2 stack by the vector code.
#[repr(C)]
pub struct El2Frame {
    /// x0 to x30.
    pub general: [u64; 31],
    /// ELR_EL2: where `eret` returns to.
    pub exception_link: u64,
    /// SPSR_EL2: the host's PSTATE.
    pub saved_program_status: u64,
    padding: u64,
    /// q0 to q31.
    pub vector: [u128; 32],
    /// FPCR.
    pub floating_point_control: u64,
    /// FPSR.
    pub floating_point_status: u64,
}

const _: () = assert!(core::mem::size_of::<El2Frame>() == FRAME_SIZE);
const _: () = assert!(core::mem::offset_of!(El2Frame, exception_link) == 248);
const _: () = assert!(core::mem::offset_of!(El2Frame, saved_program_status) == 256);
const _: () = assert!(core::mem::offset_of!(El2Frame, vector) == 272);
const _: () = assert!(core::mem::offset_of!(El2Frame, floating_point_control) == 784);

extern "C" {
    /// The lowest address of the EL2 stack (defined below in assembly).
    static armv8a_el2_stack_bottom: u8;
}

/// Bytes after the stack top that belong to EL2 too (the fatal path's guard).
const GUARD_SIZE: usize = 16;

/// The EL2 stack and the guard after it, as a physical range `(base, size)`.
pub fn stack_range() -> (u64, u64) {
    // Taking the address of an extern static is safe; the memory behind it
    // is never read or written from Rust.
    let bottom = core::ptr::addr_of!(armv8a_el2_stack_bottom) as u64;
    (bottom, (STACK_SIZE + GUARD_SIZE) as u64)
}

global_asm!(
    r#"
    .section .bss.armv8a_el2_stack, "aw", %nobits
    .balign 16
    .global armv8a_el2_stack_bottom
armv8a_el2_stack_bottom:
    .space {stack_size}
    .global armv8a_el2_stack_top
armv8a_el2_stack_top:
    .global armv8a_el2_fatal_taken
armv8a_el2_fatal_taken:
    .space {guard_size}

    .section .text.armv8a_el2_vectors, "ax"
    .balign 2048
    .global armv8a_el2_vectors
armv8a_el2_vectors:
    // Current EL with SP_EL0, then current EL with SP_EL2: a fault at EL2.
    .set armv8a_el2_vector_index, 0
    .rept 8
    .balign 128
    mov     x0, #armv8a_el2_vector_index
    b       armv8a_el2_unexpected
    .set armv8a_el2_vector_index, armv8a_el2_vector_index + 1
    .endr
    // Lower EL, AArch64, synchronous: HVC and trapped SMC.
    .balign 128
    b       armv8a_el2_lower_sync
    // Lower EL AArch64 IRQ/FIQ/SError, then lower EL AArch32: never routed here.
    .set armv8a_el2_vector_index, 9
    .rept 7
    .balign 128
    mov     x0, #armv8a_el2_vector_index
    b       armv8a_el2_unexpected
    .set armv8a_el2_vector_index, armv8a_el2_vector_index + 1
    .endr

armv8a_el2_lower_sync:
    sub     sp, sp, #{frame_size}
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x0, elr_el2
    stp     x30, x0, [sp, #240]
    mrs     x0, spsr_el2
    str     x0, [sp, #256]
    add     x0, sp, #272
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    add     x0, sp, #784
    mrs     x1, fpcr
    mrs     x2, fpsr
    stp     x1, x2, [x0]
    mov     x0, sp
    bl      armv8a_el2_handle_lower_sync
    add     x0, sp, #784
    ldp     x1, x2, [x0]
    msr     fpcr, x1
    msr     fpsr, x2
    add     x0, sp, #272
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    ldr     x0, [sp, #256]
    msr     spsr_el2, x0
    ldp     x30, x0, [sp, #240]
    msr     elr_el2, x0
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #{frame_size}
    eret

    // x0 = vector index. Never returns: report once, then halt.
armv8a_el2_unexpected:
    adrp    x9, armv8a_el2_fatal_taken
    add     x9, x9, :lo12:armv8a_el2_fatal_taken
    ldrb    w10, [x9]
    cbnz    w10, armv8a_halt
    mov     w10, #1
    strb    w10, [x9]
    adrp    x9, armv8a_el2_stack_top
    add     x9, x9, :lo12:armv8a_el2_stack_top
    mov     sp, x9
    mrs     x1, esr_el2
    mrs     x2, elr_el2
    mrs     x3, far_el2
    bl      armv8a_el2_fatal
    b       armv8a_halt
"#,
    stack_size = const STACK_SIZE,
    frame_size = const FRAME_SIZE,
    guard_size = const GUARD_SIZE,
);
