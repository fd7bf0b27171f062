//! Boot: from the image entry at EL2 or EL1 to the board's Rust entry at EL1.
//!
//! The image is a drop-in BL33 for standard TF-A on QEMU: entered at its
//! load address with the MMU off, x0 = device tree address (or 0). Entered at
//! EL2, the boot code configures EL2 for an AArch64 EL1 (timer and GIC system
//! register access, no FP/SIMD traps), installs a minimal EL2 stub that
//! answers every HVC with SMCCC `NOT_SUPPORTED` (with the `protected-mode`
//! feature: the EL2 runtime of `crate::el2` and its stack instead, EL2's
//! own MMU turned on and EL2's BSS zeroed, at EL2), and drops to EL1. At
//! EL1 it enables FP/SIMD, sets the stack, zeroes BSS (the kernel's, and
//! EL2's unless protected mode's EL2 did: the board's linker script must
//! define `__el2_bss_start` and `__el2_bss_end`, see `crate::el2`),
//! installs the EL1 exception
//! vectors, turns the MMU and caches on with an identity map, and calls the
//! board's entry named with [`entry!`](crate::entry).

use core::arch::global_asm;

/// What the boot code learnt before calling the board.
#[derive(Clone, Copy, Debug, defmt::Format)]
pub struct BootInfo {
    /// Device tree address handed over in x0 (0 if none).
    pub device_tree_address: u64,
    /// Exception level the image was entered at (1 or 2).
    pub entry_exception_level: u8,
}

impl BootInfo {
    /// Whether the kernel was entered at EL2 and so owns it: only then may
    /// it make `HVC`s to its own EL2 code (protected mode's runtime).
    pub const fn kept_el2(&self) -> bool {
        self.entry_exception_level == 2
    }
}

/// Names the board's entry function, `fn(BootInfo) -> !`, and the chip's
/// [`MemoryLayout`](crate::mmu::MemoryLayout) the boot code maps before
/// calling it.
#[macro_export]
macro_rules! entry {
    ($main:path, $layout:expr) => {
        /// The board entry called by the Armv8-A boot code.
        #[no_mangle]
        pub extern "Rust" fn __armv8a_board_main(boot: $crate::BootInfo) -> ! {
            let main: fn($crate::BootInfo) -> ! = $main;
            main(boot)
        }

        /// What the boot code maps before the board entry runs.
        #[no_mangle]
        pub static __ARMV8A_MEMORY_LAYOUT: $crate::mmu::MemoryLayout = $layout;
    };
}

extern "Rust" {
    fn __armv8a_board_main(boot: BootInfo) -> !;
    static __ARMV8A_MEMORY_LAYOUT: crate::mmu::MemoryLayout;
}

/// Rust side of the boot path, called from the assembly entry at EL1.
#[no_mangle]
extern "C" fn armv8a_rust_start(device_tree_address: u64, entry_exception_level: u64) -> ! {
    // SAFETY: `entry!` defines the static exactly once, with this type.
    crate::mmu::enable_identity_map(unsafe { &__ARMV8A_MEMORY_LAYOUT });
    let boot = BootInfo {
        device_tree_address,
        entry_exception_level: entry_exception_level as u8,
    };
    // SAFETY: `__armv8a_board_main` is defined exactly once by the board
    // through `entry!`, which checks its signature is `fn(BootInfo) -> !`.
    unsafe { __armv8a_board_main(boot) }
}

// The entry points: `_start` (the boot core) and `armv8a_secondary_entry`
// (every other core, from PSCI `CPU_ON` or a spin table). Registers:
// x19 = device tree address (boot core) or core index (secondaries),
// x20 = entry EL. Both leave EL2 the same way (`armv8a_leave_el2`).
global_asm!(
    r#"
    // EL2 set-up for an AArch64 EL1, then `eret` to \target at EL1h with
    // DAIF masked. Clobbers x0-x2.
    .macro armv8a_leave_el2 target, boot
    // EL1 runs AArch64; nothing else is trapped or virtualised.
    mov     x1, #(1 << 31)
    msr     hcr_el2, x1
    // No FP/SIMD traps to EL2 (CPTR_EL2 RES1 bits only, TFP = 0).
    mov     x1, #0x33ff
    msr     cptr_el2, x1
    // EL1 may use the physical counter and timer; no virtual offset.
    mov     x1, #3
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    // GICv3 system registers for EL1, when the CPU has them (a GIC-400
    // system reports none, and the write would be undefined).
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #24, #4
    cbz     x1, 1f
    mov     x1, #0xf
    msr     S3_4_C12_C9_5, x1
    isb
1:
    mrs     x1, midr_el1
    msr     vpidr_el2, x1
    mrs     x1, mpidr_el1
    msr     vmpidr_el2, x1
    msr     vttbr_el2, xzr
    // SCTLR_EL1: RES1 bits, MMU and caches off until Rust turns them on
    // (armv8a_mmu::SCTLR_EL1_MMU_OFF, below 2^32).
    movz    x1, #({sctlr_el1_mmu_off} & 0xffff)
    movk    x1, #({sctlr_el1_mmu_off} >> 16), lsl #16
    msr     sctlr_el1, x1
    // EL2 vectors: protected mode's runtime (crate::el2, with this core's
    // EL2 stack), or the stub.
    .if {protected_mode}
    adrp    x1, armv8a_el2_vectors
    add     x1, x1, :lo12:armv8a_el2_vectors
    msr     vbar_el2, x1
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    mov     x2, #{el2_stack_size}
    adrp    x0, armv8a_el2_stack_top
    add     x0, x0, :lo12:armv8a_el2_stack_top
    msub    x0, x1, x2, x0
    mov     sp, x0
    .if \boot
    // The boot core only (before any other core runs): EL2's own MMU and
    // caches (crate::el2::memory; its table is in EL2's data), then EL2's
    // BSS zeroed with the caches on: nothing of EL2's state is live yet,
    // the stack included, so this core's stack is set again after.
    bl      armv8a_el2_mmu_on
"#,
    armv8a_asm::zero_symbol_range!("x1", "x2", "__el2_bss_start", "__el2_bss_end"),
    r#"
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    mov     x2, #{el2_stack_size}
    adrp    x0, armv8a_el2_stack_top
    add     x0, x0, :lo12:armv8a_el2_stack_top
    msub    x0, x1, x2, x0
    mov     sp, x0
    .endif
    .else
    adrp    x1, armv8a_el2_stub_vectors
    add     x1, x1, :lo12:armv8a_el2_stub_vectors
    msr     vbar_el2, x1
    .endif
    // Drop to EL1h with DAIF masked.
    mov     x1, #0x3c5
    msr     spsr_el2, x1
    adr     x1, \target
    msr     elr_el2, x1
    isb
    eret
    .endm

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2
    cmp     x20, #2
    b.eq    armv8a_from_el2
    cmp     x20, #1
    b.eq    armv8a_at_el1
    b       armv8a_halt

armv8a_from_el2:
    armv8a_leave_el2 armv8a_at_el1, 1

armv8a_at_el1:
    // FP/SIMD: no traps at EL1 and EL0.
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    msr     daifset, #0xf
    adrp    x1, __stack_top
    add     x1, x1, :lo12:__stack_top
    mov     sp, x1
"#,
    armv8a_asm::zero_bss!("x1", "x2"),
    // EL2's BSS (the EL2 stack, the handler slot, EL2's logger state), which
    // the board's linker script keeps apart from the kernel's; protected
    // mode's EL2 zeroed its own already (and runs on it).
    r#"
    .if {protected_mode}
    cmp     x20, #2
    b.eq    7f
    .endif
"#,
    armv8a_asm::zero_symbol_range!("x1", "x2", "__el2_bss_start", "__el2_bss_end"),
    "7:
",
    armv8a_asm::set_vector_base!("vbar_el1", "armv8a_el1_vectors", "x1"),
    r#"
    mov     x0, x19
    mov     x1, x20
    bl      armv8a_rust_start
    b       armv8a_halt

    // A secondary core, at EL2 or EL1, MMU off, x0 = anything (a CPU_ON
    // context ID, or 0 from a spin table): the core index is MPIDR Aff0;
    // a core with Aff1-Aff3 set, or beyond the table, halts.
    .global armv8a_secondary_entry
armv8a_secondary_entry:
    mrs     x1, mpidr_el1
    and     x19, x1, #0xff
    ubfx    x2, x1, #8, #16
    cbnz    x2, armv8a_halt
    ubfx    x2, x1, #32, #8
    cbnz    x2, armv8a_halt
    cmp     x19, #{maximum_cores}
    b.hs    armv8a_halt
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2
    cmp     x20, #2
    b.eq    armv8a_secondary_from_el2
    cmp     x20, #1
    b.eq    armv8a_secondary_at_el1
    b       armv8a_halt

armv8a_secondary_from_el2:
    armv8a_leave_el2 armv8a_secondary_at_el1, 0

armv8a_secondary_at_el1:
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    msr     daifset, #0xf
    // This core's stack: the secondaries' stacks, from the top down.
    adrp    x1, armv8a_secondary_stacks_top
    add     x1, x1, :lo12:armv8a_secondary_stacks_top
    mov     x2, #{secondary_stack_size}
    msub    x1, x19, x2, x1
    mov     sp, x1
"#,
    armv8a_asm::set_vector_base!("vbar_el1", "armv8a_el1_vectors", "x1"),
    r#"
    mov     x0, x19
    mov     x1, x20
    bl      armv8a_secondary_start
    b       armv8a_halt

    .global armv8a_halt
armv8a_halt:
    msr     daifset, #0xf
4:
    wfe
    b       4b

    // Minimal EL2 stub: every exception from EL1 (an HVC) returns
    // SMCCC NOT_SUPPORTED; nothing else is routed to EL2.
    .balign 2048
armv8a_el2_stub_vectors:
    .rept 8
    .balign 128
    b       armv8a_halt
    .endr
    .rept 8
    .balign 128
    movn    x0, #0
    eret
    .endr

    // One stack per core index (the boot core's, index 0, is the board's
    // `__stack_top`; its slot here is unused, so indexes stay simple).
    .section .bss.armv8a_secondary_stacks, "aw", %nobits
    .balign 16
    .space {secondary_stack_size} * {maximum_cores}
    .global armv8a_secondary_stacks_top
armv8a_secondary_stacks_top:
"#,
    protected_mode = const PROTECTED_MODE,
    sctlr_el1_mmu_off = const armv8a_mmu::SCTLR_EL1_MMU_OFF,
    maximum_cores = const crate::device_tree::MAXIMUM_CORES,
    secondary_stack_size = const crate::smp::SECONDARY_STACK_SIZE,
    el2_stack_size = const EL2_STACK_SIZE,
);

/// Bytes of each core's EL2 stack (protected mode's runtime).
#[cfg(feature = "protected-mode")]
const EL2_STACK_SIZE: usize = crate::el2::STACK_SIZE;
#[cfg(not(feature = "protected-mode"))]
const EL2_STACK_SIZE: usize = 0;

const _: () = assert!(armv8a_mmu::SCTLR_EL1_MMU_OFF >> 32 == 0);

/// 1 when the protected-mode EL2 runtime replaces the EL2 stub.
const PROTECTED_MODE: u32 = cfg!(feature = "protected-mode") as u32;
