//! EL2 entry and exit: the vector table, the saved host context, the EL2 stack.
//!
//! The boot code points `VBAR_EL2` at `armv8a_el2_vectors` and SP_EL2 at
//! the top of this core's 16 KiB EL2 stack (one per core index, from
//! `armv8a_el2_stack_top` down) before dropping to EL1. Only one vector
//! does real work: *lower EL, AArch64, synchronous* (an HVC, or an SMC
//! trapped by `HCR_EL2.TSC`). It saves the host's x0–x30, ELR/SPSR, q0–q31,
//! FPCR and FPSR in an [`El2Frame`] on the EL2 stack (the Rust handler may
//! use FP/SIMD registers: the target has NEON; the register blocks are
//! saved and restored by the `armv8a-asm` fragments every vector shares), calls
//! `armv8a_el2_handle_lower_sync`, restores everything (with whatever x0–x17
//! and ELR the handler wrote) and returns with `eret`.
//!
//! Every other vector means something went wrong (an exception taken at EL2
//! itself, or an interrupt or SError routed to EL2, which this kernel never
//! asks for): it resets the stack and calls `armv8a_el2_fatal`, which logs
//! and powers off. A fault inside that path halts instead of recursing.
//!
//! The boot code turns EL2's MMU on (`super::memory`) before EL1 runs, so
//! the handler runs with Normal cacheable memory, as the kernel does.

use core::arch::global_asm;

/// Bytes of each core's EL2 stack.
pub const STACK_SIZE: usize = 16 * 1024;
/// Cores with an EL2 stack.
const CORES: usize = crate::device_tree::MAXIMUM_CORES;

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
const _: () = assert!(core::mem::offset_of!(El2Frame, general) == 0);
const _: () = assert!(armv8a_asm::X0_TO_X29_BYTES == 240);
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

/// Every core's EL2 stack and the guard after them, as a physical range
/// `(base, size)`.
pub fn stack_range() -> (u64, u64) {
    // Taking the address of an extern static is safe; the memory behind it
    // is never read or written from Rust.
    let bottom = core::ptr::addr_of!(armv8a_el2_stack_bottom) as u64;
    (bottom, (CORES * STACK_SIZE + GUARD_SIZE) as u64)
}

global_asm!(
    r#"
    .section .bss.el2.stack, "aw", %nobits
    .balign 16
    .global armv8a_el2_stack_bottom
armv8a_el2_stack_bottom:
    .space {stack_size} * {cores}
    .global armv8a_el2_stack_top
armv8a_el2_stack_top:
    .global armv8a_el2_fatal_taken
armv8a_el2_fatal_taken:
    .space {guard_size}

    .section .text.armv8a_el2_vectors, "ax"
"#,
    armv8a_asm::vector_table_for_lower_sync!(
        "armv8a_el2_vectors",
        "armv8a_el2_lower_sync",
        "armv8a_el2_unexpected"
    ),
    r#"

armv8a_el2_lower_sync:
    sub     sp, sp, #{frame_size}
"#,
    armv8a_asm::registers!("stp", x0..x29, "sp"),
    r#"
    mrs     x0, elr_el2
    stp     x30, x0, [sp, #240]
    mrs     x0, spsr_el2
    str     x0, [sp, #256]
    add     x0, sp, #272
"#,
    armv8a_asm::registers!("stp", q0..q31, "x0"),
    r#"
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
"#,
    armv8a_asm::registers!("ldp", q0..q31, "x0"),
    r#"
    ldr     x0, [sp, #256]
    msr     spsr_el2, x0
    ldp     x30, x0, [sp, #240]
    msr     elr_el2, x0
"#,
    armv8a_asm::registers!("ldp", x0..x29, "sp"),
    r#"
    add     sp, sp, #{frame_size}
    eret

    // A core started for the handler (its CPU_ON relay): MMU off, x0 = the
    // context. Takes this core's EL2 stack and the vectors, lets Rust set
    // EL2 up and say where the host resumes (x0 = entry, x1 = its x0),
    // then enters the host at EL1h with DAIF masked.
    .global armv8a_el2_secondary_entry
armv8a_el2_secondary_entry:
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cmp     x9, #{cores}
    b.hs    armv8a_halt
    mov     x10, #{stack_size}
    adrp    x11, armv8a_el2_stack_top
    add     x11, x11, :lo12:armv8a_el2_stack_top
    msub    x9, x9, x10, x11
    mov     sp, x9
    adrp    x9, armv8a_el2_vectors
    add     x9, x9, :lo12:armv8a_el2_vectors
    msr     vbar_el2, x9
    isb
    bl      armv8a_el2_secondary_start
    msr     elr_el2, x0
    mov     x0, x1
    mov     x1, #0x3c5
    msr     spsr_el2, x1
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    isb
    eret

    // x0 = vector index. Never returns: report once, then halt.
armv8a_el2_unexpected:
    adrp    x9, armv8a_el2_fatal_taken
    add     x9, x9, :lo12:armv8a_el2_fatal_taken
    ldrb    w10, [x9]
    cbnz    w10, armv8a_halt
    mov     w10, #1
    strb    w10, [x9]
    // This core's EL2 stack, from its top.
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    mov     x10, #{stack_size}
    adrp    x11, armv8a_el2_stack_top
    add     x11, x11, :lo12:armv8a_el2_stack_top
    msub    x9, x9, x10, x11
    mov     sp, x9
    mrs     x1, esr_el2
    mrs     x2, elr_el2
    mrs     x3, far_el2
    bl      armv8a_el2_fatal
    b       armv8a_halt
"#,
    stack_size = const STACK_SIZE,
    cores = const CORES,
    frame_size = const FRAME_SIZE,
    guard_size = const GUARD_SIZE,
);
