//! Kernel-owned pages handed out as owned values: a [`PagePool`] over the
//! chip's [`PageMemory`], and the [`Region`]s it allocates.
//!
//! A [`Region`] is a set of pages of one pool that exactly one owner holds.
//! It is not `Clone` or `Copy`: whoever has the value owns the pages, and
//! giving it away (to share it with another world, say) moves it. Dropping a
//! region returns its pages to the pool. A region may be any set of the
//! pool's pages: [`Region::split`] cuts one in two and [`Region::join`]
//! merges two, so a region can consist of several runs of contiguous pages
//! ([`Region::ranges`], the constituents of an FF-A memory descriptor).
//! Byte offsets into a region count across its ranges, in address order.
//!
//! ```
//! use kernel::hil::page_pool::{PageMemory, PAGE_SIZE};
//! use kernel::page_pool::{PagePool, PageRange};
//! # use core::cell::RefCell;
//! # struct Memory(RefCell<Vec<u8>>);
//! # impl PageMemory for Memory {
//! #     fn physical_address(&self) -> u64 { 0x4000_0000 }
//! #     fn page_count(&self) -> usize { self.0.borrow().len() / PAGE_SIZE }
//! #     fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), kernel::ErrorCode> {
//! #         let bytes = self.0.borrow();
//! #         let source = bytes.get(offset..offset + destination.len()).ok_or(kernel::ErrorCode::SIZE)?;
//! #         destination.copy_from_slice(source); Ok(())
//! #     }
//! #     fn write(&self, offset: usize, source: &[u8]) -> Result<(), kernel::ErrorCode> {
//! #         let mut bytes = self.0.borrow_mut();
//! #         bytes.get_mut(offset..offset + source.len()).ok_or(kernel::ErrorCode::SIZE)?.copy_from_slice(source); Ok(())
//! #     }
//! # }
//! # let memory = Memory(RefCell::new(vec![0; 8 * PAGE_SIZE]));
//! let pool = PagePool::new(&memory).unwrap();
//! let region = pool.allocate(3).unwrap();
//! region.write(PAGE_SIZE - 1, &[1, 2]).unwrap(); // across a page boundary
//! let (first, rest) = region.split(1).unwrap();
//! assert_eq!(rest.pages(), 2);
//! let region = first.join(rest).unwrap();
//! assert_eq!(region.ranges().collect::<Vec<_>>(), [PageRange::new(0x4000_0000, 3)]);
//! assert_eq!(pool.free_pages(), 5);
//! drop(region);
//! assert_eq!(pool.free_pages(), 8);
//! ```
//!
//! A region cannot be used once it was given away:
//!
//! ```compile_fail,E0382
//! fn give(region: kernel::page_pool::Region<'_>, sink: impl FnOnce(kernel::page_pool::Region<'_>)) {
//!     sink(region);
//!     let _ = region.write(0, &[1]); // error: use of moved value
//! }
//! ```
//!
//! nor copied to keep a second handle on the same pages:
//!
//! ```compile_fail,E0599
//! fn copy(region: kernel::page_pool::Region<'_>) -> (kernel::page_pool::Region<'_>, kernel::page_pool::Region<'_>) {
//!     (region.clone(), region) // error: `Region` has no method `clone`
//! }
//! ```

use core::cell::Cell;
use core::fmt;

use crate::hil::page_pool::{PageMemory, PAGE_SIZE};
use crate::ErrorCode;

/// The most pages one pool can hand out: 1024 pages, 4 MiB.
pub const MAXIMUM_POOL_PAGES: usize = 1024;

/// The owner of a free page.
const FREE: u16 = 0;
/// The owner of a retired page (given away for good).
const RETIRED: u16 = u16::MAX;

/// A run of contiguous 4 KiB pages at a physical address.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    /// The physical address of the first page (4 KiB aligned).
    pub address: u64,
    /// Number of pages.
    pub pages: u32,
}

impl PageRange {
    /// `pages` pages at `address`.
    pub const fn new(address: u64, pages: u32) -> PageRange {
        PageRange { address, pages }
    }

    /// Size in bytes.
    pub const fn bytes(&self) -> u64 {
        self.pages as u64 * PAGE_SIZE as u64
    }

    /// The first address after the range, or `None` if it wraps.
    pub const fn end(&self) -> Option<u64> {
        self.address.checked_add(self.bytes())
    }
}

impl fmt::Debug for PageRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:#x}+{}p", self.address, self.pages)
    }
}

impl defmt::Format for PageRange {
    fn format(&self, formatter: defmt::Formatter) {
        defmt::write!(
            formatter,
            "{=u64:#x}+{=u32} pages",
            self.address,
            self.pages
        );
    }
}

/// The runs of a region's pages, as page ranges in address order.
#[derive(Clone)]
pub struct Ranges<'p> {
    pool: &'p PagePool<'p>,
    owner: u16,
    next: usize,
}

impl Iterator for Ranges<'_> {
    type Item = PageRange;

    fn next(&mut self) -> Option<PageRange> {
        let (first, end) = self.pool.next_run(self.owner, self.next)?;
        self.next = end;
        Some(PageRange::new(
            self.pool.physical_address() + (first * PAGE_SIZE) as u64,
            (end - first) as u32,
        ))
    }
}

/// The kernel's allocator of [`Region`]s over the chip's [`PageMemory`].
///
/// Each page records which region owns it (a small number per live
/// region), so a region value is only that number and a reference to the
/// pool, however scattered its pages.
pub struct PagePool<'a> {
    memory: &'a dyn PageMemory,
    owners: [Cell<u16>; MAXIMUM_POOL_PAGES],
    pages: usize,
    next_owner: Cell<u16>,
}

impl<'a> PagePool<'a> {
    /// A pool over `memory`, all pages free. `INVAL` if the memory is not
    /// 4 KiB aligned, `SIZE` if it has no pages or more than
    /// [`MAXIMUM_POOL_PAGES`].
    pub fn new(memory: &'a dyn PageMemory) -> Result<PagePool<'a>, ErrorCode> {
        if !memory.physical_address().is_multiple_of(PAGE_SIZE as u64) {
            return Err(ErrorCode::INVAL);
        }
        let pages = memory.page_count();
        if pages == 0 || pages > MAXIMUM_POOL_PAGES {
            return Err(ErrorCode::SIZE);
        }
        Ok(PagePool {
            memory,
            owners: [const { Cell::new(FREE) }; MAXIMUM_POOL_PAGES],
            pages,
            next_owner: Cell::new(1),
        })
    }

    /// Pages in the pool.
    pub fn page_count(&self) -> usize {
        self.pages
    }

    /// Pages not allocated.
    pub fn free_pages(&self) -> usize {
        self.count(FREE)
    }

    /// The longest run of contiguous free pages: the most
    /// [`PagePool::allocate`] can hand out now (0 if none is free).
    pub fn longest_free_run(&self) -> usize {
        let mut longest = 0;
        let mut start = 0;
        while let Some((first, end)) = self.next_run(FREE, start) {
            longest = longest.max(end - first);
            start = end;
        }
        longest
    }

    /// The physical address of the pool's first page.
    pub fn physical_address(&self) -> u64 {
        self.memory.physical_address()
    }

    fn owner(&self, page: usize) -> u16 {
        self.owners[page].get()
    }

    fn count(&self, owner: u16) -> usize {
        self.owners[..self.pages]
            .iter()
            .filter(|cell| cell.get() == owner)
            .count()
    }

    /// The first run of `owner`'s pages at or after `from`: (first, end).
    fn next_run(&self, owner: u16, from: usize) -> Option<(usize, usize)> {
        let first = (from..self.pages).find(|page| self.owner(*page) == owner)?;
        let end = (first..self.pages)
            .find(|page| self.owner(*page) != owner)
            .unwrap_or(self.pages);
        Some((first, end))
    }

    /// An owner number no page has.
    fn fresh_owner(&self) -> Option<u16> {
        for _ in 0..u16::MAX {
            let candidate = self.next_owner.get();
            let next = candidate.wrapping_add(1);
            self.next_owner.set(if next == RETIRED || next == FREE {
                1
            } else {
                next
            });
            if !self.owners[..self.pages]
                .iter()
                .any(|cell| cell.get() == candidate)
            {
                return Some(candidate);
            }
        }
        None
    }

    /// `pages` contiguous free pages, as one region (the first that fit).
    /// `INVAL` for zero pages, `NOMEM` if no run that long is free.
    pub fn allocate(&self, pages: usize) -> Result<Region<'_>, ErrorCode> {
        if pages == 0 {
            return Err(ErrorCode::INVAL);
        }
        let mut start = 0;
        while let Some((first, end)) = self.next_run(FREE, start) {
            if end - first >= pages {
                let owner = self.fresh_owner().ok_or(ErrorCode::NOMEM)?;
                for cell in &self.owners[first..first + pages] {
                    cell.set(owner);
                }
                return Ok(Region { pool: self, owner });
            }
            start = end;
        }
        Err(ErrorCode::NOMEM)
    }

    /// Gives every page of `from` to `to`.
    fn relabel(&self, from: u16, to: u16) {
        for cell in &self.owners[..self.pages] {
            if cell.get() == from {
                cell.set(to);
            }
        }
    }

    /// The byte offset in the pool's memory of every piece of
    /// `[offset, offset + length)` of `owner`'s pages, in order.
    fn spans(
        &self,
        owner: u16,
        offset: usize,
        length: usize,
        mut visit: impl FnMut(usize, usize, usize) -> Result<(), ErrorCode>,
    ) -> Result<(), ErrorCode> {
        let size = self.count(owner) * PAGE_SIZE;
        match offset.checked_add(length) {
            Some(end) if end <= size => {}
            _ => return Err(ErrorCode::SIZE),
        }
        let mut skipped = 0usize;
        let mut done = 0usize;
        let mut page = 0usize;
        while done < length {
            let (first, end) = self.next_run(owner, page).ok_or(ErrorCode::FAIL)?;
            page = end;
            let run_bytes = (end - first) * PAGE_SIZE;
            let position = offset + done;
            if position >= skipped + run_bytes {
                skipped += run_bytes;
                continue;
            }
            let within = position - skipped;
            let piece = (run_bytes - within).min(length - done);
            visit(first * PAGE_SIZE + within, piece, done)?;
            done += piece;
            skipped += run_bytes;
        }
        Ok(())
    }
}

/// Pages of a [`PagePool`] that one owner holds; returned to the pool when dropped.
#[must_use = "dropping a region returns its pages to the pool"]
pub struct Region<'a> {
    pool: &'a PagePool<'a>,
    owner: u16,
}

impl<'a> Region<'a> {
    /// Number of pages.
    pub fn pages(&self) -> usize {
        self.pool.count(self.owner)
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.pages() * PAGE_SIZE
    }

    /// Whether the region has no pages (never: a region has at least one).
    pub fn is_empty(&self) -> bool {
        self.pages() == 0
    }

    /// The runs of contiguous pages, in address order.
    pub fn ranges(&self) -> Ranges<'a> {
        Ranges {
            pool: self.pool,
            owner: self.owner,
            next: 0,
        }
    }

    /// Number of runs of contiguous pages.
    pub fn range_count(&self) -> usize {
        self.ranges().count()
    }

    /// Whether `other` comes from the same pool.
    pub fn same_pool(&self, other: &Region<'_>) -> bool {
        core::ptr::addr_eq(self.pool as *const PagePool<'_>, other.pool)
    }

    /// Copies `destination.len()` bytes from region offset `offset`.
    pub fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let memory = self.pool.memory;
        self.pool
            .spans(self.owner, offset, destination.len(), |at, length, done| {
                memory.read(at, &mut destination[done..done + length])
            })
    }

    /// Copies `source` to region offset `offset`.
    pub fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        let memory = self.pool.memory;
        self.pool
            .spans(self.owner, offset, source.len(), |at, length, done| {
                memory.write(at, &source[done..done + length])
            })
    }

    /// Sets `length` bytes from region offset `offset` to `value`.
    pub fn fill(&self, offset: usize, length: usize, value: u8) -> Result<(), ErrorCode> {
        let block = [value; 256];
        let memory = self.pool.memory;
        self.pool
            .spans(self.owner, offset, length, |at, length, _| {
                let mut written = 0;
                while written < length {
                    let piece = (length - written).min(block.len());
                    memory.write(at + written, &block[..piece])?;
                    written += piece;
                }
                Ok(())
            })
    }

    /// Cuts the region after its first `pages` pages (in address order):
    /// those, and the rest. Gives the region back if `pages` is 0 or not
    /// below its page count, or if the pool has no owner number left.
    pub fn split(self, pages: usize) -> Result<(Region<'a>, Region<'a>), Region<'a>> {
        if pages == 0 || pages >= self.pages() {
            return Err(self);
        }
        let Some(owner) = self.pool.fresh_owner() else {
            return Err(self);
        };
        let mut taken = 0;
        for cell in &self.pool.owners[..self.pool.pages] {
            if taken == pages {
                break;
            }
            if cell.get() == self.owner {
                cell.set(owner);
                taken += 1;
            }
        }
        let first = Region {
            pool: self.pool,
            owner,
        };
        Ok((first, self))
    }

    /// The union of two regions of the same pool (whose pages are disjoint,
    /// since each had one owner). Gives both back if the pools differ.
    pub fn join(self, other: Region<'a>) -> Result<Region<'a>, (Region<'a>, Region<'a>)> {
        if !self.same_pool(&other) {
            return Err((self, other));
        }
        // `other` owns no page afterwards, so dropping it frees nothing.
        self.pool.relabel(other.owner, self.owner);
        Ok(self)
    }

    /// The pages leave the kernel for good (donated to another world, or
    /// lost to it): they stay allocated and are never handed out again.
    pub fn retire(self) {
        self.pool.relabel(self.owner, RETIRED);
    }

    /// Whether physical page `address` is one of the region's pages.
    pub fn contains(&self, address: u64) -> bool {
        let base = self.pool.physical_address();
        if address < base {
            return false;
        }
        let page = ((address - base) / PAGE_SIZE as u64) as usize;
        page < self.pool.pages && self.pool.owner(page) == self.owner
    }
}

impl Drop for Region<'_> {
    fn drop(&mut self) {
        self.pool.relabel(self.owner, FREE);
    }
}

impl fmt::Debug for Region<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.ranges()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::RefCell;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    struct Memory {
        base: u64,
        bytes: RefCell<Vec<u8>>,
    }

    impl Memory {
        fn new(pages: usize) -> Memory {
            Memory {
                base: 0x4000_0000,
                bytes: RefCell::new(vec![0; pages * PAGE_SIZE]),
            }
        }
    }

    impl PageMemory for Memory {
        fn physical_address(&self) -> u64 {
            self.base
        }
        fn page_count(&self) -> usize {
            self.bytes.borrow().len() / PAGE_SIZE
        }
        fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
            let bytes = self.bytes.borrow();
            let source = bytes
                .get(offset..offset + destination.len())
                .ok_or(ErrorCode::SIZE)?;
            destination.copy_from_slice(source);
            Ok(())
        }
        fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
            let mut bytes = self.bytes.borrow_mut();
            bytes
                .get_mut(offset..offset + source.len())
                .ok_or(ErrorCode::SIZE)?
                .copy_from_slice(source);
            Ok(())
        }
    }

    #[test]
    fn the_pool_checks_its_memory() {
        let mut misaligned = Memory::new(1);
        misaligned.base += 8;
        assert_eq!(PagePool::new(&misaligned).err(), Some(ErrorCode::INVAL));
        assert_eq!(PagePool::new(&Memory::new(0)).err(), Some(ErrorCode::SIZE));
        assert_eq!(
            PagePool::new(&Memory::new(MAXIMUM_POOL_PAGES + 1)).err(),
            Some(ErrorCode::SIZE)
        );
    }

    #[test]
    fn allocation_is_first_fit_and_drop_frees() {
        let memory = Memory::new(8);
        let pool = PagePool::new(&memory).unwrap();
        let a = pool.allocate(3).unwrap();
        let b = pool.allocate(2).unwrap();
        assert_eq!(
            b.ranges().collect::<Vec<_>>(),
            [PageRange::new(0x4000_3000, 2)]
        );
        assert_eq!(pool.longest_free_run(), 3);
        drop(a);
        // Free: pages 0-2 and 5-7, two runs of 3.
        assert_eq!(pool.longest_free_run(), 3);
        assert_eq!(pool.allocate(0).err(), Some(ErrorCode::INVAL));
        assert_eq!(pool.allocate(4).err(), Some(ErrorCode::NOMEM));
        let c = pool.allocate(3).unwrap();
        assert_eq!(
            c.ranges().collect::<Vec<_>>(),
            [PageRange::new(0x4000_0000, 3)]
        );
        assert_eq!(pool.free_pages(), 3);
        c.retire();
        drop(b);
        assert_eq!(pool.free_pages(), 5, "retired pages never come back");
        assert_eq!(pool.longest_free_run(), 5);
        let all = pool.allocate(5).unwrap();
        assert_eq!(pool.longest_free_run(), 0);
        drop(all);
    }

    #[test]
    fn scattered_regions_read_and_write_across_ranges() {
        let memory = Memory::new(8);
        let pool = PagePool::new(&memory).unwrap();
        let all = pool.allocate(8).unwrap();
        let mut keep: Option<Region<'_>> = None;
        let mut other: Option<Region<'_>> = None;
        let mut rest = all;
        for index in 0..7 {
            let (page, remainder) = rest.split(1).unwrap();
            rest = remainder;
            let slot = if index % 2 == 0 {
                &mut keep
            } else {
                &mut other
            };
            *slot = Some(match slot.take() {
                Some(region) => region.join(page).unwrap(),
                None => page,
            });
        }
        let keep = keep.unwrap();
        assert_eq!(keep.range_count(), 4);
        assert!(keep.contains(0x4000_2000));
        assert!(!keep.contains(0x4000_1000));
        let data: Vec<u8> = (0..keep.len()).map(|index| (index / 7) as u8).collect();
        keep.write(0, &data).unwrap();
        let mut back = vec![0u8; keep.len()];
        keep.read(0, &mut back).unwrap();
        assert_eq!(back, data);
        // The odd pages were not touched.
        let mut page = vec![1u8; PAGE_SIZE];
        other.as_ref().unwrap().read(0, &mut page).unwrap();
        assert!(page.iter().all(|byte| *byte == 0));
        assert_eq!(keep.write(keep.len() - 1, &[1, 2]), Err(ErrorCode::SIZE));
        keep.fill(PAGE_SIZE - 2, 4, 0xAB).unwrap();
        let mut around = [0u8; 4];
        keep.read(PAGE_SIZE - 2, &mut around).unwrap();
        assert_eq!(around, [0xAB; 4]);
        drop(keep);
        drop(other);
        drop(rest);
        assert_eq!(pool.free_pages(), 8);
    }

    #[test]
    fn regions_of_different_pools_do_not_join() {
        let (first, second) = (Memory::new(1), Memory::new(1));
        let (a, b) = (
            PagePool::new(&first).unwrap(),
            PagePool::new(&second).unwrap(),
        );
        let (x, y) = a
            .allocate(1)
            .unwrap()
            .join(b.allocate(1).unwrap())
            .unwrap_err();
        assert!(x.same_pool(&x) && !x.same_pool(&y));
        let whole = a.allocate(0).err();
        assert_eq!(whole, Some(ErrorCode::INVAL));
        let only = x.split(1).unwrap_err();
        assert_eq!(only.pages(), 1);
    }

    proptest! {
        /// Any sequence of splits and joins keeps every page in exactly one
        /// region, and the ranges describe exactly the region's pages.
        #[test]
        fn splits_and_joins_keep_pages_owned_once(cuts in prop::collection::vec((1usize..6, any::<bool>()), 1..40)) {
            let memory = Memory::new(200);
            let pool = PagePool::new(&memory).unwrap();
            let mut left = pool.allocate(200).unwrap();
            let mut kept: Vec<Region<'_>> = Vec::new();
            for (pages, join) in cuts {
                match left.split(pages) {
                    Ok((piece, rest)) => {
                        left = rest;
                        match (join, kept.pop()) {
                            (true, Some(previous)) => kept.push(previous.join(piece).unwrap()),
                            (_, previous) => { kept.extend(previous); kept.push(piece); }
                        }
                    }
                    Err(whole) => { left = whole; break; }
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for region in kept.iter().chain(core::iter::once(&left)) {
                let mut pages = 0;
                for range in region.ranges() {
                    for page in 0..range.pages as u64 {
                        prop_assert!(seen.insert(range.address + page * PAGE_SIZE as u64));
                        prop_assert!(region.contains(range.address + page * PAGE_SIZE as u64));
                    }
                    pages += range.pages as usize;
                }
                prop_assert_eq!(pages, region.pages());
            }
            prop_assert_eq!(seen.len(), 200);
            prop_assert_eq!(pool.free_pages(), 0);
            drop(kept);
            drop(left);
            prop_assert_eq!(pool.free_pages(), 200);
        }
    }
}
