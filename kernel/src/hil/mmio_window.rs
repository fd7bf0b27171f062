//! A window of memory-mapped registers and buffers a device shares with the
//! kernel: 32-bit register accesses and byte copies, at offsets checked
//! against the window.
//!
//! The chip implements it over a physical range it maps (with the `unsafe`
//! volatile accesses inside the chip crate); capsules see offsets only, so
//! they can never reach outside the window. Used for a TPM's CRB (control
//! registers and command/response buffer), which the TPM service in the
//! secure world reads and writes behind the compiler's back.
//!
//! ```ignore
//! window.write_u32(0x08, 1)?;          // LOC_CTRL.requestAccess
//! let state = window.read_u32(0x00)?;  // LOC_STATE
//! window.write(0x80, &command)?;       // the command buffer
//! window.fence();                      // visible before the doorbell
//! ```

use crate::ErrorCode;

/// A window of device registers and buffers.
pub trait MmioWindow {
    /// The physical address of offset 0 (what the device, or firmware's
    /// description of it, calls the window's base).
    fn physical_address(&self) -> u64;

    /// Size in bytes.
    fn len(&self) -> usize;

    /// Whether the window is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the little-endian 32-bit register at `offset` (4-byte aligned).
    /// `Err(SIZE)` outside the window, `Err(INVAL)` if misaligned.
    fn read_u32(&self, offset: usize) -> Result<u32, ErrorCode>;

    /// Writes the little-endian 32-bit register at `offset` (4-byte aligned).
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), ErrorCode>;

    /// Copies `destination.len()` bytes from `offset` out of the window.
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode>;

    /// Copies `source` into the window at `offset`.
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode>;

    /// Orders every earlier write to the window before any later access or
    /// call to the other side (a barrier; a no-op where memory is coherent
    /// by construction, as in host tests).
    fn fence(&self);
}
