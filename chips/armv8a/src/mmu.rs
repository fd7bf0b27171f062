//! The EL1 MMU: an identity map of the first 4 GiB with 1 GiB blocks and
//! caches on.
//!
//! The chip says what each gigabyte holds (a [`MemoryLayout`], named by the
//! board's [`entry!`](crate::entry)): devices are Device-nGnRnE and never
//! executable, memory is Normal write-back cacheable, inner shareable.
//! QEMU `virt` has its devices in the first GiB and DRAM above; the
//! Raspberry Pi 4 has DRAM from 0 and its peripherals in the fourth GiB.
//! With the MMU on, unaligned accesses and exclusives (atomics) work as on
//! real hardware. Secondary cores turn on the same map
//! ([`enable_on_this_core`]). The values written (the block descriptors,
//! `SCTLR_EL1`'s read-modify-write) come from `armv8a-mmu`, where the host
//! tests them; this module only touches the registers.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, Writeable, MAIR_EL1, SCTLR_EL1, TCR_EL1, TTBR0_EL1};
use armv8a_mmu::{layout_descriptor, sctlr_el1_with_mmu_on};
pub use armv8a_mmu::{Gigabyte, MemoryLayout};
use core::cell::UnsafeCell;

/// Number of entries in a 4 KiB translation table.
const TABLE_ENTRIES: usize = 512;

/// A level-1 translation table: each entry maps 1 GiB.
#[repr(C, align(4096))]
struct TranslationTable(UnsafeCell<[u64; TABLE_ENTRIES]>);

// SAFETY: the table is written once, on the boot core, before the MMU is
// enabled and before anything else runs; afterwards only the MMU reads it.
unsafe impl Sync for TranslationTable {}

static LEVEL_ONE_TABLE: TranslationTable = TranslationTable(UnsafeCell::new([0; TABLE_ENTRIES]));

/// Builds the identity map of `layout` and turns the MMU, data and
/// instruction caches on.
///
/// Called once by the boot code at EL1 with the MMU off.
pub fn enable_identity_map(layout: &MemoryLayout) {
    let table = LEVEL_ONE_TABLE.0.get();
    for index in 0..TABLE_ENTRIES {
        // SAFETY: boot is single-threaded and the MMU is off, so nothing else
        // reads or writes the table; `index` is in bounds.
        unsafe { (*table)[index] = layout_descriptor(layout, index) };
    }
    enable_on_this_core();
}

/// Turns the MMU and caches on with the identity map the boot core built.
///
/// Called by each secondary core at EL1 with its MMU off, after the boot
/// core's [`enable_identity_map`] (the table is only read from then on).
pub fn enable_on_this_core() {
    let table = LEVEL_ONE_TABLE.0.get();

    MAIR_EL1.write(
        MAIR_EL1::Attr0_Device::nonGathering_nonReordering_noEarlyWriteAck
            + MAIR_EL1::Attr1_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr1_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc,
    );
    TTBR0_EL1.set_baddr(table as u64);
    // 39-bit virtual addresses (T0SZ = 25) start the walk at level 1.
    TCR_EL1.write(
        TCR_EL1::TBI0::Used
            + TCR_EL1::IPS::Bits_40
            + TCR_EL1::TG0::KiB_4
            + TCR_EL1::SH0::Inner
            + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::EPD0::EnableTTBR0Walks
            + TCR_EL1::EPD1::DisableTTBR1Walks
            + TCR_EL1::T0SZ.val(25),
    );
    barrier::dsb(barrier::ISHST);
    // SAFETY: invalidates stale EL1 TLB entries before the MMU is enabled;
    // no memory is accessed.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("tlbi vmalle1", options(nostack))
    };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
    // Read-modify-write: the RES1 bits boot set (and whatever else the
    // firmware or boot chose) stay; the value is computed by `armv8a-mmu`,
    // host-tested.
    SCTLR_EL1.set(sctlr_el1_with_mmu_on(SCTLR_EL1.get()));
    barrier::isb(barrier::SY);
}
