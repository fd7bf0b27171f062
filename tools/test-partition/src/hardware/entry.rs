//! Entry from the EL3 SPMC, the exception vectors, and halting.
//!
//! The SPMC enters the image's first byte at S-EL1 with the MMU and caches
//! off and every exception masked. The entry code keeps x0 (boot
//! information) and x4 (linear core ID), sets up the stack and the vectors,
//! zeroes the BSS (BL2 loads only the file's bytes) and calls
//! `partition_main`, with the boot fragments of `armv8a-asm` the kernel and
//! the test firmware use. The image is built for
//! `aarch64-unknown-none-softfloat`: it never touches FP/SIMD registers,
//! which TF-A does not switch between the worlds unless built with
//! `CTX_INCLUDE_FPREGS=1`.

use core::arch::{asm, global_asm};

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    mov     x20, x4
"#,
    armv8a_asm::address_of!("x9", "__stack_top"),
    "mov sp, x9\n",
    armv8a_asm::set_vector_base!("vbar_el1", "partition_vectors", "x9"),
    armv8a_asm::zero_bss!("x9", "x10"),
    r#"
    mov     x0, x19
    mov     x1, x20
    bl      partition_main
3:
    wfe
    b       3b

    .section .text.vectors, "ax"
    .balign 2048
partition_vectors:
"#,
    armv8a_asm::unexpected_entries!(
        "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15",
        "partition_vector"
    ),
    r#"
partition_vector:
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    b       partition_exception
"#
);

/// Every exception is fatal: the partition masks interrupts and makes no
/// calls that trap to itself. Logs what happened and halts.
#[no_mangle]
extern "C" fn partition_exception(vector: u64, syndrome: u64, link: u64, fault_address: u64) -> ! {
    const KINDS: [&str; 4] = ["synchronous", "IRQ", "FIQ", "SError"];
    log!(
        "[sp] FATAL: {} exception (vector {vector}): ESR_EL1 {syndrome:#x} (class {:#x}), ELR_EL1 {link:#x}, FAR_EL1 {fault_address:#x}",
        KINDS[(vector % 4) as usize],
        syndrome >> 26
    );
    halt();
}

/// The exception level the partition runs at (CurrentEL `[3:2]`).
pub fn current_exception_level() -> u64 {
    let current: u64;
    // SAFETY: reading CurrentEL has no side effects.
    unsafe { asm!("mrs {}, CurrentEL", out(reg) current, options(nomem, nostack)) };
    (current >> 2) & 0b11
}

/// Stops this core for good (interrupts stay masked).
pub fn halt() -> ! {
    loop {
        // SAFETY: `wfe` only waits.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}
