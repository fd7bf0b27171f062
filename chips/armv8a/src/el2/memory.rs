//! EL2's translation: its own stage-1 MMU, and the host's stage 2.
//!
//! - **EL2's stage 1** ([`armv8a_el2_mmu_on`], from the boot code at EL2,
//!   before it drops to EL1): an identity map with the kernel's attributes
//!   (devices Device-nGnRnE, DRAM Normal write-back inner shareable), data
//!   and instruction caches on, so EL2 and the host see shared memory (the
//!   host's RX/TX, the proxy's copies) the same way. The values come from
//!   `armv8a_mmu::el2`, host-tested; the table is in EL2's data.
//! - **The host's stage 2** ([`protect_host`], when the proxy starts
//!   finalising; [`set_host_access`] afterwards): identity tables from
//!   `armv8a_mmu::stage2` in a fixed pool in EL2's private memory
//!   ([`STAGE2_TABLES`] tables), `VTCR_EL2`/`VTTBR_EL2`, then
//!   `HCR_EL2.VM`. Every change is followed by `TLBI VMALLS12E1IS` (stage 1
//!   and 2 entries of the host, every core in the inner shareable domain),
//!   and every block split is break-before-make.
//!
//! Per core: [`load_on_this_core`] gives a core's EL2 the same stage 1 and
//! (once built) the same stage 2; the boot core runs it from
//! [`armv8a_el2_mmu_on`], and a secondary core's EL2 entry must run it
//! before it enters the host.

use core::cell::UnsafeCell;

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{ReadWriteable, Readable, HCR_EL2};
use armv8a_mmu::stage2::{self, Stage2, Stage2Error, Table, EMPTY_TABLE};
use kernel::hil::hypervisor::{HostAccess, HostMemoryMap, MemoryRange, Stage2Summary};
use kernel::ErrorCode;

/// Tables in the host's stage-2 pool: the root, the level-2 tables of host
/// memory and the level-3 tables of EL2's image, with room to split the
/// 2 MiB blocks of lent pages later. 96 KiB.
pub const STAGE2_TABLES: usize = 24;

/// EL2's level-1 table: four 1 GiB blocks.
#[repr(C, align(4096))]
struct El2Table(UnsafeCell<Table>);

// SAFETY: written only by `armv8a_el2_mmu_on` at EL2 with the MMU off,
// before EL1 runs; afterwards only the MMU reads it.
unsafe impl Sync for El2Table {}

/// In EL2's (initialised) data, so it needs no zeroing before the MMU is on.
#[link_section = ".data.el2.translation"]
static EL2_TABLE: El2Table = El2Table(UnsafeCell::new(EMPTY_TABLE));

/// The host's stage-2 tables and how many are in use.
#[repr(C, align(4096))]
struct Stage2Pool {
    tables: UnsafeCell<[Table; STAGE2_TABLES]>,
    used: UnsafeCell<usize>,
}

// SAFETY: touched only by EL2 (`protect_host`, `set_host_access`), one
// exception at a time with everything masked, never re-entered; the host
// cannot reach it (EL2's private memory, unmapped from its stage 2).
unsafe impl Sync for Stage2Pool {}

#[link_section = ".bss.el2.stage2"]
static STAGE2: Stage2Pool = Stage2Pool {
    tables: UnsafeCell::new([EMPTY_TABLE; STAGE2_TABLES]),
    used: UnsafeCell::new(0),
};

/// Runs `change` on the host's tables (`fresh`: emptied first). Only from
/// EL2's exception handler.
fn with_tables<R>(fresh: bool, change: impl FnOnce(&mut Stage2<'_>) -> R) -> R {
    // SAFETY: see `Stage2Pool`: one EL2 exception at a time, and these are
    // the only references to the pool, living for this call.
    let (tables, used) = unsafe { (&mut *STAGE2.tables.get(), &mut *STAGE2.used.get()) };
    let address = tables.as_ptr() as u64;
    let mut stage2 = if fresh {
        Stage2::new(&mut tables[..], address)
    } else {
        Stage2::from_parts(&mut tables[..], address, *used)
    };
    let result = change(&mut stage2);
    *used = stage2.tables_used();
    result
}

/// `TLBI VMALLS12E1IS` with the barriers around it: no core keeps a stale
/// translation of the host.
fn invalidate_host_translations() {
    barrier::dsb(barrier::ISHST);
    // SAFETY: invalidates TLB entries only; touches no memory.
    unsafe { core::arch::asm!("tlbi vmalls12e1is", options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);
}

const fn access(access: HostAccess) -> stage2::HostAccess {
    match access {
        HostAccess::None => stage2::HostAccess::None,
        HostAccess::ReadExecute => stage2::HostAccess::ReadExecute,
        HostAccess::ReadWrite => stage2::HostAccess::ReadWrite,
        HostAccess::Device => stage2::HostAccess::Device,
    }
}

/// `range` grown to whole 4 KiB pages.
fn whole_pages(range: MemoryRange) -> Option<(u64, u64)> {
    let base = range.base - range.base % stage2::PAGE_SIZE;
    let end = range.end()?.checked_next_multiple_of(stage2::PAGE_SIZE)?;
    Some((base, end - base))
}

fn map(
    tables: &mut Stage2<'_>,
    range: MemoryRange,
    host_access: HostAccess,
) -> Result<(), ErrorCode> {
    if range.is_empty() {
        return Ok(());
    }
    let (base, size) = whole_pages(range).ok_or(ErrorCode::INVAL)?;
    tables
        .map(
            base,
            size,
            access(host_access),
            &mut invalidate_host_translations,
        )
        .map_err(|error| match error {
            Stage2Error::BadRange => ErrorCode::INVAL,
            Stage2Error::OutOfTables { .. } => ErrorCode::NOMEM,
        })
}

/// Whether the host's stage 2 is on.
fn is_on() -> bool {
    HCR_EL2.is_set(HCR_EL2::VM)
}

/// Builds the host's stage 2 from `host` and turns it on (this core).
pub fn protect_host(host: &HostMemoryMap) -> Result<Stage2Summary, ErrorCode> {
    if is_on() {
        return Err(ErrorCode::ALREADY);
    }
    let used = with_tables(true, |tables| -> Result<usize, ErrorCode> {
        map(tables, host.devices, HostAccess::Device)?;
        map(tables, host.memory, HostAccess::ReadWrite)?;
        map(tables, host.shared_code, HostAccess::ReadExecute)?;
        for range in host.private.ranges() {
            map(tables, range, HostAccess::None)?;
        }
        Ok(tables.tables_used())
    })?;
    load_stage2_on_this_core();
    Ok(Stage2Summary {
        tables_used: used as u32,
        tables_total: STAGE2_TABLES as u32,
    })
}

/// Changes what the host may do with `range`.
pub fn set_host_access(range: MemoryRange, host_access: HostAccess) -> Result<(), ErrorCode> {
    if !is_on() {
        return Err(ErrorCode::OFF);
    }
    if range.is_empty()
        || !range.base.is_multiple_of(stage2::PAGE_SIZE)
        || !range.size.is_multiple_of(stage2::PAGE_SIZE)
    {
        return Err(ErrorCode::INVAL);
    }
    with_tables(false, |tables| map(tables, range, host_access))?;
    invalidate_host_translations();
    Ok(())
}

/// Loads the host's stage 2 (built by [`protect_host`]) on this core and
/// turns it on: from the next return to EL1, the host's accesses go through it.
pub fn load_stage2_on_this_core() {
    let root = STAGE2.tables.get() as u64;
    barrier::dsb(barrier::ISHST);
    // SAFETY: VTCR_EL2/VTTBR_EL2 configure the host's stage 2, which is
    // off until HCR_EL2.VM is set below; the tables are complete.
    unsafe {
        core::arch::asm!(
            "msr vtcr_el2, {vtcr}",
            "msr vttbr_el2, {vttbr}",
            "isb",
            vtcr = in(reg) stage2::vtcr_el2(),
            vttbr = in(reg) stage2::vttbr_el2(root),
            options(nostack)
        );
    }
    invalidate_host_translations();
    HCR_EL2.modify(HCR_EL2::VM::Enable);
    barrier::isb(barrier::SY);
}

/// Turns on EL2's stage-1 MMU on this core with the table
/// [`armv8a_el2_mmu_on`] built, and the host's stage 2 if it is built.
pub fn load_on_this_core() {
    let table = EL2_TABLE.0.get() as u64;
    let sctlr: u64;
    // SAFETY: reads SCTLR_EL2; no memory is touched.
    unsafe { core::arch::asm!("mrs {}, sctlr_el2", out(reg) sctlr, options(nomem, nostack)) };
    // SAFETY: the table maps all memory EL2 touches with the attributes the
    // kernel uses; the TLB is invalidated before the MMU goes on, and the
    // code runs at its identity-mapped address, so the next fetch is the same.
    unsafe {
        core::arch::asm!(
            "msr mair_el2, {mair}",
            "msr tcr_el2, {tcr}",
            "msr ttbr0_el2, {table}",
            "dsb ish",
            "tlbi alle2",
            "dsb ish",
            "isb",
            "msr sctlr_el2, {sctlr}",
            "isb",
            mair = in(reg) armv8a_mmu::el2::MAIR,
            tcr = in(reg) armv8a_mmu::el2::tcr_el2(),
            table = in(reg) table,
            sctlr = in(reg) armv8a_mmu::el2::sctlr_el2_with_mmu_on(sctlr),
            options(nostack)
        );
    }
    // SAFETY: reads the pool's count only.
    if unsafe { *STAGE2.used.get() } != 0 {
        load_stage2_on_this_core();
    }
}

/// Called by the boot code at EL2, MMU off, on the EL2 stack, before it
/// drops to EL1: builds EL2's identity map and turns EL2's MMU and caches on.
#[no_mangle]
extern "C" fn armv8a_el2_mmu_on() {
    let table = EL2_TABLE.0.get();
    for index in 0..stage2::ENTRIES {
        // SAFETY: boot, one core, MMU off: nothing else reads or writes the
        // table; `index` is in bounds; aligned 8-byte stores (Device memory
        // allows no other while the MMU is off).
        unsafe {
            core::ptr::write_volatile(
                (table as *mut u64).add(index),
                armv8a_mmu::el2::block_descriptor(index),
            )
        };
    }
    load_on_this_core();
}

/// What the host's stage 2 took, for reports.
pub fn tables_used() -> usize {
    // SAFETY: reads the count only.
    unsafe { *STAGE2.used.get() }
}

const _: () = assert!(core::mem::size_of::<Stage2Pool>() >= STAGE2_TABLES * 4096);
