//! The host's stage-2 translation tables: an identity map of the IPA space
//! the host (EL1) may use, built and changed without touching hardware.
//!
//! Protected mode's EL2 translates every host access twice: the kernel's
//! own stage 1, then this stage 2, which EL2 owns. The map is the identity
//! (IPA = PA) with three kinds of leaves ([`HostAccess`]): read-write
//! (normal memory the host owns, and device memory), read and execute (code
//! the host shares with EL2: it may run it, never write it) and no access
//! (EL2's own memory, and pages the host lent away). A host access the map
//! refuses raises a stage-2 abort at EL2.
//!
//! Tables come from a fixed pool the caller owns (`[Table; N]`, in EL2's
//! private memory on the target); the first table is the level-1 root. A
//! change that needs tables the pool does not have is refused whole before
//! anything is written ([`Stage2Error::OutOfTables`]). Blocks are split
//! on demand (1 GiB at level 1, 2 MiB at level 2, 4 KiB pages at level 3),
//! break-before-make: the old entry is made invalid, the caller's
//! [`TlbMaintenance`] invalidates it, and only then is the table written.
//! Tables are never merged back; a split region stays split.
//!
//! The logic never dereferences an address: tables are found by their
//! index in the pool, from the physical address of the first one
//! (`pool_address`), so the host tests run it with any address.
//!
//! ```
//! use armv8a_mmu::stage2::{HostAccess, Stage2, Table, EMPTY_TABLE};
//!
//! let mut pool: [Table; 4] = [EMPTY_TABLE; 4];
//! let mut tables = Stage2::new(&mut pool, 0x7000_0000);
//! let mut flushes = 0;
//! let mut flush = || flushes += 1;
//! tables.map(0x4000_0000, 0x4000_0000, HostAccess::ReadWrite, &mut flush).unwrap();
//! tables.map(0x6000_0000, 0x1000, HostAccess::None, &mut flush).unwrap();
//! assert_eq!(tables.access(0x6000_0000), HostAccess::None);
//! assert_eq!(tables.access(0x6000_1000), HostAccess::ReadWrite);
//! assert_eq!(tables.tables_used(), 3); // the root, one 2 MiB split, one 4 KiB split
//! ```

/// Entries in a 4 KiB translation table.
pub const ENTRIES: usize = 512;

/// One translation table.
pub type Table = [u64; ENTRIES];

/// A table with every entry invalid.
pub const EMPTY_TABLE: Table = [0; ENTRIES];

/// Bytes of the smallest mapping: a 4 KiB page.
pub const PAGE_SIZE: u64 = 4096;

/// The IPA space the tables translate: 39 bits (512 GiB), from a level-1 root.
pub const IPA_BITS: u32 = 39;

/// What the host may do with an IPA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostAccess {
    /// Nothing: the access raises a stage-2 translation fault at EL2.
    None,
    /// Normal memory, read and execute: code the host shares with EL2. A
    /// write raises a stage-2 permission fault.
    ReadExecute,
    /// Normal memory, read and write, never executed.
    ReadWrite,
    /// Device memory (nGnRE), read and write, never executed.
    Device,
}

/// Why a change of the tables was refused (nothing was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage2Error {
    /// The range is empty, not 4 KiB aligned, wraps, or lies above the IPA space.
    BadRange,
    /// The pool has too few free tables for the splits the change needs.
    OutOfTables {
        /// Tables the change needs.
        needed: usize,
        /// Tables left in the pool.
        free: usize,
    },
}

/// Invalidates the TLB entries of the host's stage 2 between the break and
/// the make of a split (on the target: `TLBI VMALLS12E1IS` and barriers).
pub trait TlbMaintenance {
    /// The entries just made invalid must be gone from every TLB.
    fn invalidate(&mut self);
}

impl<F: FnMut()> TlbMaintenance for F {
    fn invalidate(&mut self) {
        self()
    }
}

const VALID: u64 = 1 << 0;
const TABLE_OR_PAGE: u64 = 1 << 1;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
/// S2AP: read-only.
const S2AP_READ_ONLY: u64 = 0b01 << 6;
/// S2AP: read and write.
const S2AP_READ_WRITE: u64 = 0b11 << 6;
/// MemAttr\[5:2\]: Normal, outer and inner write-back cacheable.
const MEMATTR_NORMAL_WRITE_BACK: u64 = 0b1111 << 2;
/// MemAttr\[5:2\]: Device-nGnRE.
const MEMATTR_DEVICE_NGNRE: u64 = 0b0001 << 2;
/// XN\[1\] (bit 54): never executable at EL1 or EL0.
const EXECUTE_NEVER: u64 = 1 << 54;
/// Bits 47:12 of a descriptor: the output (or next-table) address.
const ADDRESS_MASK: u64 = 0x0000_FFFF_FFFF_F000;
/// The attribute bits a leaf descriptor carries.
const LEAF_ATTRIBUTES: u64 = !ADDRESS_MASK & !(VALID | TABLE_OR_PAGE);

/// Bytes one entry maps at `level` (1, 2 or 3).
const fn entry_size(level: u32) -> u64 {
    1 << (12 + 9 * (3 - level))
}

/// The attributes of a leaf granting `access` (0: invalid).
const fn leaf_attributes(access: HostAccess) -> u64 {
    match access {
        HostAccess::None => 0,
        HostAccess::ReadExecute => {
            ACCESS_FLAG | INNER_SHAREABLE | S2AP_READ_ONLY | MEMATTR_NORMAL_WRITE_BACK
        }
        HostAccess::ReadWrite => {
            ACCESS_FLAG
                | INNER_SHAREABLE
                | S2AP_READ_WRITE
                | MEMATTR_NORMAL_WRITE_BACK
                | EXECUTE_NEVER
        }
        HostAccess::Device => ACCESS_FLAG | S2AP_READ_WRITE | MEMATTR_DEVICE_NGNRE | EXECUTE_NEVER,
    }
}

/// The leaf descriptor mapping `address` at `level` with `access` (0 for
/// [`HostAccess::None`]).
pub const fn leaf_descriptor(address: u64, level: u32, access: HostAccess) -> u64 {
    let attributes = leaf_attributes(access);
    if attributes == 0 {
        return 0;
    }
    let kind = if level == 3 {
        VALID | TABLE_OR_PAGE
    } else {
        VALID
    };
    (address & ADDRESS_MASK) | attributes | kind
}

/// The access a valid leaf descriptor grants.
const fn access_of(descriptor: u64) -> HostAccess {
    if descriptor & VALID == 0 {
        return HostAccess::None;
    }
    let attributes = descriptor & LEAF_ATTRIBUTES;
    if attributes == leaf_attributes(HostAccess::ReadExecute) {
        HostAccess::ReadExecute
    } else if attributes == leaf_attributes(HostAccess::Device) {
        HostAccess::Device
    } else if attributes == leaf_attributes(HostAccess::ReadWrite) {
        HostAccess::ReadWrite
    } else {
        HostAccess::None
    }
}

/// `VTCR_EL2` for these tables: 39-bit IPA from a level-1 root (T0SZ 25,
/// SL0 1), 4 KiB granule, walks inner shareable and write-back cacheable,
/// 40-bit physical addresses, 8-bit VMID; bit 31 is RES1.
pub const fn vtcr_el2() -> u64 {
    let t0sz = 64 - IPA_BITS as u64;
    let start_level_1 = 0b01 << 6;
    let inner_write_back = 0b01 << 8;
    let outer_write_back = 0b01 << 10;
    let inner_shareable = 0b11 << 12;
    let granule_4k = 0b00 << 14;
    let physical_40_bits = 0b010 << 16;
    let res1 = 1 << 31;
    t0sz | start_level_1
        | inner_write_back
        | outer_write_back
        | inner_shareable
        | granule_4k
        | physical_40_bits
        | res1
}

/// `VTTBR_EL2` for a root at `root_address`, VMID 0 (the host).
pub const fn vttbr_el2(root_address: u64) -> u64 {
    root_address & ADDRESS_MASK
}

/// The host's stage-2 tables, in a pool of `N` tables the caller owns.
pub struct Stage2<'t> {
    pool: &'t mut [Table],
    pool_address: u64,
    used: usize,
}

impl<'t> Stage2<'t> {
    /// Empty tables (every IPA: no access) in `pool`, whose first table is
    /// at physical `pool_address` (4 KiB aligned); the first table becomes
    /// the root, and is cleared.
    pub fn new(pool: &'t mut [Table], pool_address: u64) -> Stage2<'t> {
        if let Some(root) = pool.first_mut() {
            *root = EMPTY_TABLE;
        }
        Stage2 {
            pool,
            pool_address,
            used: 1,
        }
    }

    /// The tables in `pool` as an earlier [`Stage2`] left them, `used` of
    /// them in use: how a runtime that keeps only the count between calls
    /// takes them up again.
    pub fn from_parts(pool: &'t mut [Table], pool_address: u64, used: usize) -> Stage2<'t> {
        let used = used.clamp(1, pool.len().max(1));
        Stage2 {
            pool,
            pool_address,
            used,
        }
    }

    /// Tables already in use (the root included).
    pub fn tables_used(&self) -> usize {
        self.used
    }

    /// Tables still free in the pool.
    pub fn tables_free(&self) -> usize {
        self.pool.len().saturating_sub(self.used)
    }

    /// Physical address of the root (for `VTTBR_EL2`).
    pub fn root_address(&self) -> u64 {
        self.pool_address
    }

    /// The access the tables grant at `ipa`.
    pub fn access(&self, ipa: u64) -> HostAccess {
        if ipa >> IPA_BITS != 0 || self.pool.is_empty() {
            return HostAccess::None;
        }
        let mut table = 0usize;
        for level in 1..=3u32 {
            let index = ((ipa / entry_size(level)) % ENTRIES as u64) as usize;
            let descriptor = self.pool[table][index];
            if descriptor & VALID == 0 {
                return HostAccess::None;
            }
            if level < 3 && descriptor & TABLE_OR_PAGE != 0 {
                match self.table_index(descriptor) {
                    Some(next) => table = next,
                    None => return HostAccess::None,
                }
                continue;
            }
            return access_of(descriptor);
        }
        HostAccess::None
    }

    /// Maps `[base, base + size)` with `access`, splitting blocks as it
    /// needs (`tlb` invalidates between break and make). All or nothing: if
    /// the pool cannot hold the splits, nothing is written.
    pub fn map(
        &mut self,
        base: u64,
        size: u64,
        access: HostAccess,
        tlb: &mut dyn TlbMaintenance,
    ) -> Result<(), Stage2Error> {
        let end = base.checked_add(size).ok_or(Stage2Error::BadRange)?;
        if size == 0
            || !base.is_multiple_of(PAGE_SIZE)
            || !size.is_multiple_of(PAGE_SIZE)
            || end > 1 << IPA_BITS
            || self.pool.is_empty()
        {
            return Err(Stage2Error::BadRange);
        }
        let needed = self.walk(0, 1, 0, base, end, access, false, &mut || {});
        if needed > self.tables_free() {
            return Err(Stage2Error::OutOfTables {
                needed,
                free: self.tables_free(),
            });
        }
        self.walk(0, 1, 0, base, end, access, true, tlb);
        Ok(())
    }

    /// The index in the pool of the table a table descriptor points to.
    fn table_index(&self, descriptor: u64) -> Option<usize> {
        let offset = (descriptor & ADDRESS_MASK).checked_sub(self.pool_address)?;
        let index = usize::try_from(offset / PAGE_SIZE).ok()?;
        (offset.is_multiple_of(PAGE_SIZE) && index < self.used).then_some(index)
    }

    /// Maps `[start, end)` (clipped to the table's span) in `table` at
    /// `level`, which maps from `table_base`. If `write`, writes (with `tlb`
    /// between break and make); otherwise only counts the tables the change
    /// would take. Returns that count.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        table: usize,
        level: u32,
        table_base: u64,
        start: u64,
        end: u64,
        access: HostAccess,
        write: bool,
        tlb: &mut dyn TlbMaintenance,
    ) -> usize {
        let size = entry_size(level);
        let span_end = table_base + size * ENTRIES as u64;
        let first = start.max(table_base);
        let last = end.min(span_end);
        let mut needed = 0;
        let mut address = first - (first - table_base) % size;
        while address < last {
            let index = ((address - table_base) / size) as usize;
            let entry_end = address + size;
            let covered = first <= address && entry_end <= last;
            let descriptor = self.pool[table][index];
            let is_table =
                level < 3 && descriptor & (VALID | TABLE_OR_PAGE) == VALID | TABLE_OR_PAGE;
            if covered && !is_table {
                if write {
                    self.pool[table][index] = leaf_descriptor(address, level, access);
                }
            } else if is_table {
                if let Some(next) = self.table_index(descriptor) {
                    needed += self.walk(next, level + 1, address, first, last, access, write, tlb);
                }
            } else if access_of(descriptor) == access {
                // Partly covered, but the block already grants `access`.
            } else {
                // Partly covered: split the block (or the invalid entry).
                needed += 1;
                match write {
                    true => {
                        let next = self.used;
                        self.used += 1;
                        let child_access = access_of(descriptor);
                        let child_size = entry_size(level + 1);
                        for (child, slot) in self.pool[next].iter_mut().enumerate() {
                            *slot = leaf_descriptor(
                                address + child as u64 * child_size,
                                level + 1,
                                child_access,
                            );
                        }
                        // Break, invalidate, make.
                        self.pool[table][index] = 0;
                        tlb.invalidate();
                        self.pool[table][index] = ((self.pool_address + next as u64 * PAGE_SIZE)
                            & ADDRESS_MASK)
                            | VALID
                            | TABLE_OR_PAGE;
                        self.walk(next, level + 1, address, first, last, access, true, tlb);
                    }
                    false => {
                        // The new table's own splits, counted on an
                        // imaginary table full of the block's leaves.
                        needed += splits_below(
                            level + 1,
                            address,
                            first,
                            last,
                            access_of(descriptor),
                            access,
                        );
                    }
                }
            }
            address = entry_end;
        }
        needed
    }
}

/// Tables a fresh table at `level` (from `table_base`, every entry a leaf
/// granting `current`) would need split to map `[first, last)` with `access`.
fn splits_below(
    level: u32,
    table_base: u64,
    first: u64,
    last: u64,
    current: HostAccess,
    access: HostAccess,
) -> usize {
    if level >= 3 || current == access {
        return 0;
    }
    let size = entry_size(level);
    let span_end = table_base + size * ENTRIES as u64;
    let first = first.max(table_base);
    let last = last.min(span_end);
    let mut needed = 0;
    let mut address = first - (first - table_base) % size;
    while address < last {
        let entry_end = address + size;
        if !(first <= address && entry_end <= last) {
            needed += 1 + splits_below(level + 1, address, first, last, current, access);
        }
        address = entry_end;
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const POOL: u64 = 0x7f00_0000;

    fn nothing() -> impl FnMut() {
        || {}
    }

    #[test]
    fn an_identity_map_of_blocks_takes_one_table_per_split() {
        let mut pool = [EMPTY_TABLE; 8];
        let mut tables = Stage2::new(&mut pool, POOL);
        let mut tlb = nothing();
        tables
            .map(0, 0x4000_0000, HostAccess::Device, &mut tlb)
            .unwrap();
        tables
            .map(0x4000_0000, 0x4000_0000, HostAccess::ReadWrite, &mut tlb)
            .unwrap();
        assert_eq!(tables.tables_used(), 1, "two 1 GiB blocks in the root");
        assert_eq!(tables.access(0x0900_0000), HostAccess::Device);
        assert_eq!(tables.access(0x7fff_f000), HostAccess::ReadWrite);
        assert_eq!(tables.access(0x8000_0000), HostAccess::None);
        assert_eq!(pool[0][1], 0x4000_0000 | 0x7fd | EXECUTE_NEVER);
    }

    #[test]
    fn a_page_in_a_block_splits_down_to_level_3() {
        let mut pool = [EMPTY_TABLE; 8];
        let mut flushes = 0;
        let mut tables = Stage2::new(&mut pool, POOL);
        let mut tlb = || flushes += 1;
        tables
            .map(0x4000_0000, 0x4000_0000, HostAccess::ReadWrite, &mut tlb)
            .unwrap();
        tables
            .map(0x6000_3000, 0x2000, HostAccess::None, &mut tlb)
            .unwrap();
        assert_eq!(tables.tables_used(), 3);
        for (ipa, access) in [
            (0x6000_2000, HostAccess::ReadWrite),
            (0x6000_3000, HostAccess::None),
            (0x6000_4000, HostAccess::None),
            (0x6000_5000, HostAccess::ReadWrite),
            (0x5fff_f000, HostAccess::ReadWrite),
            (0x6020_0000, HostAccess::ReadWrite),
        ] {
            assert_eq!(tables.access(ipa), access, "{ipa:#x}");
        }
        // Mapping back needs no table: the region stays split.
        tables
            .map(0x6000_3000, 0x2000, HostAccess::ReadWrite, &mut tlb)
            .unwrap();
        assert_eq!(tables.tables_used(), 3);
        assert_eq!(tables.access(0x6000_4000), HostAccess::ReadWrite);
        assert_eq!(flushes, 2, "one break-before-make per split");
    }

    #[test]
    fn a_change_that_does_not_fit_writes_nothing() {
        let mut pool = [EMPTY_TABLE; 2];
        let mut tables = Stage2::new(&mut pool, POOL);
        let mut tlb = nothing();
        tables
            .map(0x4000_0000, 0x4000_0000, HostAccess::ReadWrite, &mut tlb)
            .unwrap();
        assert_eq!(
            tables.map(0x6000_0000, 0x1000, HostAccess::None, &mut tlb),
            Err(Stage2Error::OutOfTables { needed: 2, free: 1 })
        );
        assert_eq!(tables.access(0x6000_0000), HostAccess::ReadWrite);
        assert_eq!(tables.tables_used(), 1);
        // A 2 MiB-aligned range needs one split only.
        tables
            .map(0x6000_0000, 0x20_0000, HostAccess::ReadExecute, &mut tlb)
            .unwrap();
        assert_eq!(tables.access(0x601f_f000), HostAccess::ReadExecute);
        assert_eq!(tables.access(0x6020_0000), HostAccess::ReadWrite);
    }

    #[test]
    fn bad_ranges_are_refused() {
        let mut pool = [EMPTY_TABLE; 2];
        let mut tables = Stage2::new(&mut pool, POOL);
        let mut tlb = nothing();
        for (base, size) in [
            (0x1000, 0),
            (0x1800, 0x1000),
            (0x1000, 0x800),
            (u64::MAX - 0xfff, 0x2000),
            (1 << IPA_BITS, 0x1000),
        ] {
            assert_eq!(
                tables.map(base, size, HostAccess::ReadWrite, &mut tlb),
                Err(Stage2Error::BadRange),
                "{base:#x}+{size:#x}"
            );
        }
    }

    #[test]
    fn vtcr_says_39_bits_from_level_1() {
        let value = vtcr_el2();
        assert_eq!(value & 0x3f, 25);
        assert_eq!(value >> 6 & 0b11, 1);
        assert_eq!(value >> 16 & 0b111, 0b010);
        assert_eq!(value >> 31 & 1, 1);
        assert_eq!(vttbr_el2(0x6010_0000), 0x6010_0000);
    }

    proptest::proptest! {
        /// Whatever sequence of changes, the tables grant exactly what a
        /// page-by-page model says, and a refused change changes nothing.
        #[test]
        fn tables_agree_with_a_page_model(
            changes in proptest::collection::vec((0u64..1024, 1u64..700, 0u8..4), 1..12),
        ) {
            const BASE: u64 = 0x4000_0000;
            let mut pool = [EMPTY_TABLE; 6];
            let mut tables = Stage2::new(&mut pool, POOL);
            let mut tlb = nothing();
            tables.map(BASE, 0x4000_0000, HostAccess::ReadWrite, &mut tlb).unwrap();
            // The model: 2048 pages from BASE (4 MiB + 4 MiB: two 2 MiB regions and more).
            let mut model = vec![HostAccess::ReadWrite; 2048];
            for (first, count, kind) in changes {
                let access = [HostAccess::None, HostAccess::ReadExecute, HostAccess::ReadWrite, HostAccess::Device][kind as usize];
                let count = count.min(2048 - first).max(1);
                let before: Vec<HostAccess> = (0..2048).map(|page| tables.access(BASE + page * PAGE_SIZE)).collect();
                match tables.map(BASE + first * PAGE_SIZE, count * PAGE_SIZE, access, &mut tlb) {
                    Ok(()) => {
                        for page in first..first + count {
                            model[page as usize] = access;
                        }
                    }
                    Err(Stage2Error::OutOfTables { .. }) => {
                        let after: Vec<HostAccess> = (0..2048).map(|page| tables.access(BASE + page * PAGE_SIZE)).collect();
                        proptest::prop_assert_eq!(before, after);
                    }
                    Err(error) => proptest::prop_assert!(false, "{:?}", error),
                }
                for (page, expected) in model.iter().enumerate() {
                    proptest::prop_assert_eq!(tables.access(BASE + page as u64 * PAGE_SIZE), *expected);
                }
            }
            proptest::prop_assert!(tables.tables_used() <= 6);
        }
    }
}
