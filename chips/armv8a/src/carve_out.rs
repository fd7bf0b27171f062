//! A carve-out: a fixed range of physical DRAM outside the kernel image
//! that firmware describes for a device or another world (a TPM's CRB, as
//! an ACPI TPM2 table or a device-tree node gives it), as the kernel's
//! MMIO-window HIL.
//!
//! The kernel's identity map makes the physical address the virtual one.
//! A window is claimed once, with checks that make its volatile accesses
//! sound: page-aligned, inside DRAM as the identity map maps it (1–4 GiB),
//! clear of the kernel's own image (the linker script's `__el2_text_start`
//! to `__stack_top`), and clear of every window claimed before. The other
//! side reads and writes it behind the compiler's back, so it is only
//! ever accessed with volatile loads and stores, never lent as a reference.
//!
//! ```ignore
//! let crb = CarveOutWindow::claim(0x5FD0_0000, 0x5000)?;
//! let state = crb.read_u32(0x00)?;
//! ```

use core::cell::RefCell;

use aarch64_cpu::asm::barrier;
use critical_section::Mutex;
use kernel::hil::mmio_window::MmioWindow;
use kernel::ErrorCode;

/// DRAM as the identity map maps it (Normal memory): 1 GiB to 4 GiB.
const DRAM: core::ops::Range<u64> = 0x4000_0000..0x1_0000_0000;
/// How many windows can be claimed.
const MAXIMUM_WINDOWS: usize = 4;
/// The page size windows are aligned to.
const PAGE: u64 = 4096;

extern "C" {
    /// The first byte of the kernel image (linker script).
    static __el2_text_start: u8;
    /// The top of the kernel's stack, its image's last section (linker script).
    static __stack_top: u8;
}

/// The windows claimed so far, as `(base, end)`.
static CLAIMED: Mutex<RefCell<[(u64, u64); MAXIMUM_WINDOWS]>> =
    Mutex::new(RefCell::new([(0, 0); MAXIMUM_WINDOWS]));

/// The kernel image's physical range.
fn kernel_image() -> (u64, u64) {
    // Only the symbols' addresses are taken (safe): nothing is read.
    (
        core::ptr::addr_of!(__el2_text_start) as u64,
        core::ptr::addr_of!(__stack_top) as u64,
    )
}

/// A claimed carve-out.
#[derive(Debug)]
pub struct CarveOutWindow {
    base: u64,
    size: usize,
}

impl CarveOutWindow {
    /// Claims `[base, base + size)`. `Err(INVAL)` if it is empty, not
    /// page-aligned, outside DRAM or overlapping the kernel image;
    /// `Err(ALREADY)` if it overlaps a window claimed before; `Err(NOMEM)`
    /// when every slot is used. Each error is logged.
    pub fn claim(base: u64, size: usize) -> Result<CarveOutWindow, ErrorCode> {
        let end = base.checked_add(size as u64).ok_or(ErrorCode::INVAL)?;
        let (image_start, image_end) = kernel_image();
        let valid = size != 0
            && base.is_multiple_of(PAGE)
            && (size as u64).is_multiple_of(PAGE)
            && base >= DRAM.start
            && end <= DRAM.end
            && (end <= image_start || base >= image_end);
        if !valid {
            defmt::error!(
                "carve-out {=u64:#x}+{=usize:#x} refused: not page-aligned DRAM outside the kernel image ({=u64:#x}..{=u64:#x})",
                base,
                size,
                image_start,
                image_end
            );
            return Err(ErrorCode::INVAL);
        }
        critical_section::with(|token| {
            let mut claimed = CLAIMED.borrow_ref_mut(token);
            if claimed
                .iter()
                .any(|&(start, stop)| start < stop && base < stop && start < end)
            {
                defmt::error!(
                    "carve-out {=u64:#x}+{=usize:#x} refused: claimed already",
                    base,
                    size
                );
                return Err(ErrorCode::ALREADY);
            }
            let slot = claimed
                .iter_mut()
                .find(|(start, stop)| start == stop)
                .ok_or(ErrorCode::NOMEM)?;
            *slot = (base, end);
            Ok(CarveOutWindow { base, size })
        })
    }

    fn check(&self, offset: usize, length: usize) -> Result<usize, ErrorCode> {
        match offset.checked_add(length) {
            Some(end) if end <= self.size => Ok(self.base as usize + offset),
            _ => Err(ErrorCode::SIZE),
        }
    }
}

impl MmioWindow for CarveOutWindow {
    fn physical_address(&self) -> u64 {
        self.base
    }

    fn len(&self) -> usize {
        self.size
    }

    fn read_u32(&self, offset: usize) -> Result<u32, ErrorCode> {
        if !offset.is_multiple_of(4) {
            return Err(ErrorCode::INVAL);
        }
        let address = self.check(offset, 4)?;
        // SAFETY: `address` is 4-byte aligned and inside the claimed window,
        // which `claim` checked is identity-mapped DRAM that no Rust object
        // owns (outside the image) and no other window aliases.
        Ok(u32::from_le(unsafe {
            core::ptr::read_volatile(address as *const u32)
        }))
    }

    fn write_u32(&self, offset: usize, value: u32) -> Result<(), ErrorCode> {
        if !offset.is_multiple_of(4) {
            return Err(ErrorCode::INVAL);
        }
        let address = self.check(offset, 4)?;
        // SAFETY: as in `read_u32`.
        unsafe { core::ptr::write_volatile(address as *mut u32, value.to_le()) };
        Ok(())
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let address = self.check(offset, destination.len())?;
        for (index, byte) in destination.iter_mut().enumerate() {
            // SAFETY: `address + index` is inside the window (checked above).
            *byte = unsafe { core::ptr::read_volatile((address + index) as *const u8) };
        }
        Ok(())
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        let address = self.check(offset, source.len())?;
        for (index, byte) in source.iter().enumerate() {
            // SAFETY: `address + index` is inside the window (checked above).
            unsafe { core::ptr::write_volatile((address + index) as *mut u8, *byte) };
        }
        Ok(())
    }

    fn fence(&self) {
        // Every earlier store to the window completes before the SMC that
        // tells the other side to look.
        barrier::dsb(barrier::SY);
    }
}
