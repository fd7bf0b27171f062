//! A statically allocated, page-aligned block of kernel-owned pages, lent
//! to other worlds through the kernel's page pool.
//!
//! The kernel hands these pages out as owned regions
//! (`kernel::page_pool::Region`); while a region is shared with the secure
//! world, that world reads and writes it behind the compiler's back, so the
//! pages are accessed only with volatile copies and never lent out as Rust
//! references. The kernel's identity map makes the physical address the same
//! as the virtual one.
//!
//! ```ignore
//! static POOL: StaticPages<64> = StaticPages::new();
//! let pool = PagePool::new(&POOL)?;
//! ```

use core::cell::UnsafeCell;
use kernel::hil::page_pool::{PageMemory, PAGE_SIZE};
use kernel::ErrorCode;

/// `PAGES` pages of 4 KiB, aligned to 4 KiB.
#[repr(C, align(4096))]
pub struct StaticPages<const PAGES: usize> {
    bytes: UnsafeCell<[[u8; PAGE_SIZE]; PAGES]>,
}

// SAFETY: every access goes through volatile byte copies on a single core;
// no reference to the contents is ever created.
unsafe impl<const PAGES: usize> Sync for StaticPages<PAGES> {}

impl<const PAGES: usize> StaticPages<PAGES> {
    /// Zeroed pages.
    pub const fn new() -> Self {
        StaticPages {
            bytes: UnsafeCell::new([[0; PAGE_SIZE]; PAGES]),
        }
    }

    fn check_range(offset: usize, length: usize) -> Result<(), ErrorCode> {
        match offset.checked_add(length) {
            Some(end) if end <= PAGES * PAGE_SIZE => Ok(()),
            _ => Err(ErrorCode::SIZE),
        }
    }
}

impl<const PAGES: usize> Default for StaticPages<PAGES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const PAGES: usize> PageMemory for StaticPages<PAGES> {
    fn physical_address(&self) -> u64 {
        self.bytes.get() as u64
    }

    fn page_count(&self) -> usize {
        PAGES
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        Self::check_range(offset, destination.len())?;
        let base = self.bytes.get() as *const u8;
        for (index, byte) in destination.iter_mut().enumerate() {
            // SAFETY: `offset + index < PAGES * PAGE_SIZE` was checked
            // above, so the pointer stays inside the static array.
            *byte = unsafe { core::ptr::read_volatile(base.add(offset + index)) };
        }
        Ok(())
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        Self::check_range(offset, source.len())?;
        let base = self.bytes.get() as *mut u8;
        for (index, byte) in source.iter().enumerate() {
            // SAFETY: `offset + index < PAGES * PAGE_SIZE` was checked
            // above, so the pointer stays inside the static array.
            unsafe { core::ptr::write_volatile(base.add(offset + index), *byte) };
        }
        Ok(())
    }
}
