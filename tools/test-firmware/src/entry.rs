//! Reset entry, EL3 exception vectors and the hand-off to the normal world.
//!
//! Registers are saved in an [`SmcFrame`] on SMC entry; the Rust handler
//! writes the reply into x0–x17 of the frame and the vector code returns to
//! the caller with `eret` (ELR_EL3 already points after the `SMC`).

use core::arch::global_asm;

/// x0–x30 of the normal world, saved on entry to EL3.
#[repr(C)]
pub struct SmcFrame {
    /// General-purpose registers x0 to x30.
    pub registers: [u64; 31],
    padding: u64,
}

extern "C" {
    /// Returns to the normal world at `entry` with PSTATE `program_status`
    /// and x0 = `device_tree`, resetting the EL3 stack first.
    pub fn firmware_enter_normal_world(program_status: u64, entry: u64, device_tree: u64) -> !;
}

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    cbnz    x0, firmware_halt
    adrp    x0, __stack_top
    add     x0, x0, :lo12:__stack_top
    mov     sp, x0
    // No FP/SIMD traps to EL3.
    msr     cptr_el3, xzr
    isb
    // Copy .data from flash to secure RAM, zero .bss.
    adrp    x0, __data_load
    add     x0, x0, :lo12:__data_load
    adrp    x1, __data_start
    add     x1, x1, :lo12:__data_start
    adrp    x2, __data_end
    add     x2, x2, :lo12:__data_end
1:
    cmp     x1, x2
    b.hs    2f
    ldr     x3, [x0], #8
    str     x3, [x1], #8
    b       1b
2:
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
3:
    cmp     x1, x2
    b.hs    4f
    str     xzr, [x1], #8
    b       3b
4:
    adrp    x0, firmware_vectors
    add     x0, x0, :lo12:firmware_vectors
    msr     vbar_el3, x0
    isb
    bl      firmware_main
    b       firmware_halt

    .global firmware_halt
firmware_halt:
    wfe
    b       firmware_halt

    .global firmware_enter_normal_world
firmware_enter_normal_world:
    msr     spsr_el3, x0
    msr     elr_el3, x1
    mov     x0, x2
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    isb
    eret

    .section .text.vectors, "ax"
    .balign 2048
firmware_vectors:
    // Current EL with SP_EL0, then current EL with SP_ELx: fatal.
    .set vector_index, 0
    .rept 8
    .balign 128
    mov     x0, #vector_index
    mrs     x1, esr_el3
    mrs     x2, elr_el3
    mrs     x3, far_el3
    b       firmware_fatal_exception
    .set vector_index, vector_index + 1
    .endr
    // Lower EL, AArch64: synchronous (SMC) handled, the rest fatal.
    .balign 128
    b       firmware_lower_sync
    .set vector_index, 9
    .rept 7
    .balign 128
    mov     x0, #vector_index
    mrs     x1, esr_el3
    mrs     x2, elr_el3
    mrs     x3, far_el3
    b       firmware_fatal_exception
    .set vector_index, vector_index + 1
    .endr

firmware_lower_sync:
    sub     sp, sp, #256
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
    str     x30, [sp, #240]
    mov     x0, sp
    bl      firmware_handle_lower_sync
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
    ldr     x30, [sp, #240]
    add     sp, sp, #256
    eret
"#
);
