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
//! ([`enable_on_this_core`]).

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Writeable, MAIR_EL1, SCTLR_EL1, TCR_EL1, TTBR0_EL1};
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

/// MAIR index of Device-nGnRnE memory.
const ATTRIBUTE_DEVICE: u64 = 0;
/// MAIR index of Normal write-back memory.
const ATTRIBUTE_NORMAL: u64 = 1;

const DESCRIPTOR_BLOCK: u64 = 0b01;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;

/// What one gigabyte of physical addresses holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gigabyte {
    /// Nothing the kernel uses: not mapped.
    Unmapped,
    /// Device registers: Device-nGnRnE, never executable.
    Devices,
    /// RAM (and the kernel image): Normal write-back, executable at EL1.
    Memory,
}

/// The first 4 GiB of physical addresses, one entry per gigabyte.
pub type MemoryLayout = [Gigabyte; 4];

/// The level-1 block descriptor for gigabyte `index` holding `kind`.
const fn block_descriptor(index: usize, kind: Gigabyte) -> u64 {
    let output_address = (index as u64) << 30;
    match kind {
        Gigabyte::Unmapped => 0,
        Gigabyte::Devices => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | (ATTRIBUTE_DEVICE << 2)
                | PRIVILEGED_EXECUTE_NEVER
                | UNPRIVILEGED_EXECUTE_NEVER
        }
        Gigabyte::Memory => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | INNER_SHAREABLE
                | (ATTRIBUTE_NORMAL << 2)
                | UNPRIVILEGED_EXECUTE_NEVER
        }
    }
}

/// Builds the identity map of `layout` and turns the MMU, data and
/// instruction caches on.
///
/// Called once by the boot code at EL1 with the MMU off.
pub fn enable_identity_map(layout: &MemoryLayout) {
    let table = LEVEL_ONE_TABLE.0.get();
    for index in 0..TABLE_ENTRIES {
        let kind = layout.get(index).copied().unwrap_or(Gigabyte::Unmapped);
        // SAFETY: boot is single-threaded and the MMU is off, so nothing else
        // reads or writes the table; `index` is in bounds.
        unsafe { (*table)[index] = block_descriptor(index, kind) };
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
    SCTLR_EL1.write(
        SCTLR_EL1::M::Enable
            + SCTLR_EL1::C::Cacheable
            + SCTLR_EL1::I::Cacheable
            + SCTLR_EL1::SA::Enable
            + SCTLR_EL1::SA0::Enable
            + SCTLR_EL1::A::Disable,
    );
    barrier::isb(barrier::SY);
}
