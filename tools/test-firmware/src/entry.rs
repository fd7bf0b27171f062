//! Reset entry, EL3 exception vectors and the hand-off to the normal world.
//!
//! QEMU starts every core here, at EL3 (`virt` with `secure=on` and
//! `-bios` emulates no PSCI). Each core takes its own EL3 stack
//! ([`CORE_STACK_SIZE`] bytes below `__stack_top` per core index, the
//! MPIDR's Aff0) and the vectors; core 0 copies `.data`, zeroes `.bss` and
//! runs `firmware_main`; the others go to `firmware_secondary_main`, the
//! holding pen, without touching memory core 0 initialises (secure RAM is
//! zero at reset, which is "wait" for the pen). A core whose MPIDR has
//! Aff1–Aff3 set, or an Aff0 of [`MAXIMUM_CORES`] or more, halts.
//!
//! Registers are saved in an [`SmcFrame`] on SMC entry (with the register
//! fragments of `armv8a-asm`, shared with the kernel's vectors); the Rust
//! handler writes the reply into x0–x17 of the frame and the vector code
//! returns to the caller with `eret` (ELR_EL3 already points after the `SMC`).
//!
//! A FIQ from a lower EL (entry 10: the secure timer, while the normal
//! world runs) interrupts arbitrary code: its vector saves x0–x30, q0–q31,
//! FPCR and FPSR, calls the Rust handler, restores them all and returns.

use core::arch::global_asm;

/// x0–x30 of the normal world, saved on entry to EL3.
#[repr(C)]
pub struct SmcFrame {
    /// General-purpose registers x0 to x30.
    pub registers: [u64; 31],
    padding: u64,
}

/// Most cores the firmware runs (each has its stack and pen slot).
pub const MAXIMUM_CORES: usize = 8;
/// Bytes of each core's EL3 stack.
pub const CORE_STACK_SIZE: usize = 64 * 1024;

extern "C" {
    /// Returns to the normal world at `entry` with PSTATE `program_status`
    /// and x0 = `argument` (the device tree, or a `CPU_ON` context ID),
    /// resetting this core's EL3 stack first.
    pub fn firmware_enter_normal_world(program_status: u64, entry: u64, argument: u64) -> !;
    /// Resets this core's EL3 stack and goes back to the holding pen (after
    /// `CPU_OFF`).
    pub fn firmware_return_to_pen() -> !;
}

global_asm!(
    r#"
    // x0 = this core's EL3 stack top (uses x1, x2); halts a core outside the table.
    .macro core_stack_top
    mrs     x1, mpidr_el1
    and     x2, x1, #0xff
    ubfx    x0, x1, #8, #16
    cbnz    x0, firmware_halt
    ubfx    x0, x1, #32, #8
    cbnz    x0, firmware_halt
    cmp     x2, #{maximum_cores}
    b.hs    firmware_halt
    adrp    x0, __stack_top
    add     x0, x0, :lo12:__stack_top
    mov     x1, #{core_stack_size}
    msub    x0, x2, x1, x0
    .endm

    .section .text.boot, "ax"
    .global _start
_start:
    core_stack_top
    mov     sp, x0
    // No FP/SIMD traps to EL3.
    msr     cptr_el3, xzr
    isb
"#,
    armv8a_asm::set_vector_base!("vbar_el3", "firmware_vectors", "x0"),
    r#"
    // x2 = Aff0 (from core_stack_top): the secondaries go to the pen.
    mov     x0, x2
    cbnz    x0, firmware_secondary_main
    // Core 0: copy .data from flash to secure RAM, zero .bss.
"#,
    armv8a_asm::address_of!("x0", "__data_load"),
    armv8a_asm::address_of!("x1", "__data_start"),
    armv8a_asm::address_of!("x2", "__data_end"),
    r#"
1:
    cmp     x1, x2
    b.hs    2f
    ldr     x3, [x0], #8
    str     x3, [x1], #8
    b       1b
2:
"#,
    armv8a_asm::zero_bss!("x1", "x2"),
    r#"
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
    mov     x3, x2
    core_stack_top
    mov     sp, x0
    mov     x0, x3
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    isb
    eret

    .global firmware_return_to_pen
firmware_return_to_pen:
    core_stack_top
    mov     sp, x0
    mov     x0, x2
    b       firmware_secondary_main

    .section .text.vectors, "ax"
"#,
    ".balign 2048\n.global firmware_vectors\nfirmware_vectors:\n",
    armv8a_asm::unexpected_entries!("0, 1, 2, 3, 4, 5, 6, 7", "firmware_unexpected"),
    ".balign 128\nb firmware_lower_sync\n",
    armv8a_asm::unexpected_entries!("9", "firmware_unexpected"),
    ".balign 128\nb firmware_lower_fiq\n",
    armv8a_asm::unexpected_entries!("11, 12, 13, 14, 15", "firmware_unexpected"),
    r#"

    // x0 = vector index: an exception at EL3, or a non-SMC one from below.
firmware_unexpected:
    mrs     x1, esr_el3
    mrs     x2, elr_el3
    mrs     x3, far_el3
    b       firmware_fatal_exception

firmware_lower_sync:
    sub     sp, sp, #256
"#,
    armv8a_asm::registers!("stp", x0..x29, "sp"),
    r#"
    str     x30, [sp, #240]
    mov     x0, sp
    bl      firmware_handle_lower_sync
"#,
    armv8a_asm::registers!("ldp", x0..x29, "sp"),
    r#"
    ldr     x30, [sp, #240]
    add     sp, sp, #256
    eret

    // A FIQ from below: save everything the handler may touch.
firmware_lower_fiq:
    sub     sp, sp, #800
"#,
    armv8a_asm::registers!("stp", x0..x29, "sp"),
    r#"
    str     x30, [sp, #240]
    mrs     x0, fpcr
    mrs     x1, fpsr
    stp     x0, x1, [sp, #248]
    add     x0, sp, #272
"#,
    armv8a_asm::registers!("stp", q0..q31, "x0"),
    r#"
    bl      firmware_handle_lower_fiq
    add     x0, sp, #272
"#,
    armv8a_asm::registers!("ldp", q0..q31, "x0"),
    r#"
    ldp     x0, x1, [sp, #248]
    msr     fpcr, x0
    msr     fpsr, x1
"#,
    armv8a_asm::registers!("ldp", x0..x29, "sp"),
    r#"
    ldr     x30, [sp, #240]
    add     sp, sp, #800
    eret
"#,
    maximum_cores = const MAXIMUM_CORES,
    core_stack_size = const CORE_STACK_SIZE,
);
