//! Statically allocated, page-aligned memory shared with another world.
//!
//! The secure world (or an EL2 proxy) reads and writes these pages behind the
//! compiler's back, so they are accessed only with volatile copies and never
//! lent out as Rust references. The kernel's identity map makes the physical
//! address the same as the virtual one.
//!
//! ```ignore
//! static RX: SharedPages<4096> = SharedPages::new();
//! let rx: &'static dyn SharedBuffer = &RX;
//! ```

use core::cell::UnsafeCell;
use kernel::hil::shared_memory::SharedBuffer;
use kernel::ErrorCode;

/// `SIZE` bytes aligned to 64 KiB (the largest FF-A buffer alignment).
#[repr(C, align(65536))]
pub struct SharedPages<const SIZE: usize> {
    bytes: UnsafeCell<[u8; SIZE]>,
}

// SAFETY: every access goes through volatile byte copies on a single core;
// no reference to the contents is ever created.
unsafe impl<const SIZE: usize> Sync for SharedPages<SIZE> {}

impl<const SIZE: usize> SharedPages<SIZE> {
    /// Zeroed pages.
    pub const fn new() -> Self {
        SharedPages {
            bytes: UnsafeCell::new([0; SIZE]),
        }
    }

    fn check_range(offset: usize, length: usize) -> Result<(), ErrorCode> {
        match offset.checked_add(length) {
            Some(end) if end <= SIZE => Ok(()),
            _ => Err(ErrorCode::SIZE),
        }
    }
}

impl<const SIZE: usize> Default for SharedPages<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize> SharedBuffer for SharedPages<SIZE> {
    fn physical_address(&self) -> u64 {
        self.bytes.get() as u64
    }

    fn len(&self) -> usize {
        SIZE
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        Self::check_range(offset, destination.len())?;
        let base = self.bytes.get() as *const u8;
        for (index, byte) in destination.iter_mut().enumerate() {
            // SAFETY: `offset + index < SIZE` was checked above, so the
            // pointer stays inside the static array.
            *byte = unsafe { core::ptr::read_volatile(base.add(offset + index)) };
        }
        Ok(())
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        Self::check_range(offset, source.len())?;
        let base = self.bytes.get() as *mut u8;
        for (index, byte) in source.iter().enumerate() {
            // SAFETY: `offset + index < SIZE` was checked above, so the
            // pointer stays inside the static array.
            unsafe { core::ptr::write_volatile(base.add(offset + index), *byte) };
        }
        Ok(())
    }
}
