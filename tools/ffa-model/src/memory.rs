//! Access to physical non-secure memory, as the firmware sees it.

/// A normal-world memory access failed (the address range is not backed by memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryError;

/// Physical non-secure memory as the firmware sees it.
///
/// The firmware implements this over its identity view of DRAM (checking the
/// range lies in normal-world DRAM); host tests implement it over a `Vec`.
pub trait NormalWorldMemory {
    /// Copy `destination.len()` bytes starting at physical `address` into `destination`.
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError>;
    /// Copy `source` to physical memory starting at `address`.
    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError>;
}
