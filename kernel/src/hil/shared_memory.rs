//! Memory shared with another world: FF-A RX/TX buffers and shared regions.
//!
//! The other side (the secure world, or an EL2 proxy) reads and writes this
//! memory behind the compiler's back, so it is never handed out as `&mut
//! [u8]`. Accesses copy in or out; the chip implements them with volatile
//! accesses on statically allocated, correctly aligned pages, and host tests
//! implement them on simulated memory shared with a model of the other side.
//!
//! ```ignore
//! let mut header = [0u8; 8];
//! rx_buffer.read(0, &mut header)?;
//! tx_buffer.write(0, &descriptor)?;
//! ```

use crate::ErrorCode;

/// A physically contiguous buffer shared with another world.
pub trait SharedBuffer {
    /// The physical address the other world uses for this buffer.
    fn physical_address(&self) -> u64;

    /// Size in bytes.
    fn len(&self) -> usize;

    /// Whether the buffer has zero length.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `destination.len()` bytes starting at `offset` out of the buffer.
    /// Returns `Err(ErrorCode::SIZE)` if the range does not fit.
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode>;

    /// Copies `source` into the buffer starting at `offset`.
    /// Returns `Err(ErrorCode::SIZE)` if the range does not fit.
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode>;
}
