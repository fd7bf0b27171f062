//! Pages the kernel owns and may lend to another world: a statically
//! allocated, page-aligned block of memory, handed out in pages.
//!
//! The chip implements [`PageMemory`] over a static array (with its
//! `unsafe` inside the chip crate); the kernel's
//! [`PagePool`](crate::page_pool::PagePool) hands its pages out as owned
//! [`Region`](crate::page_pool::Region)s. While a region is shared with
//! another world, that world reads and writes it behind the compiler's back,
//! so, as with [`SharedBuffer`](super::shared_memory::SharedBuffer), the
//! memory is never handed out as `&mut [u8]`: accesses copy in or out.
//!
//! ```ignore
//! static POOL_PAGES: StaticPages<64> = StaticPages::new();
//! let memory: &'static dyn PageMemory = &POOL_PAGES;
//! ```

use crate::ErrorCode;

/// The page size every FF-A descriptor counts in, and the pool's granule.
pub const PAGE_SIZE: usize = 4096;

/// A physically contiguous, 4 KiB-aligned block of whole pages the kernel owns.
pub trait PageMemory {
    /// The physical address of the first page (4 KiB aligned).
    fn physical_address(&self) -> u64;

    /// Number of 4 KiB pages.
    fn page_count(&self) -> usize;

    /// Copies `destination.len()` bytes starting at byte `offset` of the block.
    /// Returns `Err(ErrorCode::SIZE)` if the range does not fit.
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode>;

    /// Copies `source` into the block starting at byte `offset`.
    /// Returns `Err(ErrorCode::SIZE)` if the range does not fit.
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode>;
}
