//! The running kernel image's code and read-only data, from the board's
//! linker symbols, as the kernel's loaded-image HIL: what measured boot
//! hashes.
//!
//! The board's linker script must define `__el2_text_start` (the image's
//! first byte, where `.text` starts), `__text_end`, `__rodata_start` and
//! `__rodata_end` (`boards/qemu-virt/link.x` does). Both segments are
//! read-only while the kernel runs, so their digests are those of the
//! image file's sections, which a verifier can recompute.

use kernel::hil::image::{LoadedImage, Segment};
use kernel::ErrorCode;

extern "C" {
    static __el2_text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
}

/// The kernel's loaded image.
pub struct KernelImage;

impl KernelImage {
    /// `(start, end)` of segment `index`.
    fn bounds(index: usize) -> Option<(usize, usize)> {
        // Only the symbols' addresses are taken (safe): nothing is read.
        let (text_start, text_end, rodata_start, rodata_end) = (
            core::ptr::addr_of!(__el2_text_start) as usize,
            core::ptr::addr_of!(__text_end) as usize,
            core::ptr::addr_of!(__rodata_start) as usize,
            core::ptr::addr_of!(__rodata_end) as usize,
        );
        match index {
            0 => Some((text_start, text_end)),
            1 => Some((rodata_start, rodata_end)),
            _ => None,
        }
    }
}

impl LoadedImage for KernelImage {
    fn segment_count(&self) -> usize {
        2
    }

    fn segment(&self, index: usize) -> Option<Segment> {
        let (start, end) = Self::bounds(index)?;
        Some(Segment {
            name: if index == 0 { ".text" } else { ".rodata" },
            base: start as u64,
            length: end.saturating_sub(start),
        })
    }

    fn read(&self, index: usize, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let (start, end) = Self::bounds(index).ok_or(ErrorCode::INVAL)?;
        let from = start.checked_add(offset).ok_or(ErrorCode::SIZE)?;
        if from
            .checked_add(destination.len())
            .is_none_or(|to| to > end)
        {
            return Err(ErrorCode::SIZE);
        }
        // SAFETY: `[from, from + len)` lies in one of the image's read-only
        // segments (checked above), which the linker placed, the loader
        // filled and nothing writes while the kernel runs; `destination` is
        // a distinct Rust buffer.
        unsafe {
            core::ptr::copy_nonoverlapping(
                from as *const u8,
                destination.as_mut_ptr(),
                destination.len(),
            )
        };
        Ok(())
    }
}
