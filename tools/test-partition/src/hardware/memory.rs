//! Physical memory as the partition reaches it with its MMU off.
//!
//! With the MMU off every access is a secure, Device-nGnRnE access to the
//! physical address. QEMU `virt` makes non-secure DRAM visible to the secure
//! world too, so the partition can read and write what the normal world
//! shares with it; on hardware with a TrustZone address-space controller it
//! would map the region with the NS bit instead. Because a secure access
//! would equally reach secure memory, the service only touches addresses
//! [`PhysicalDram::is_non_secure_dram`] accepts: the normal world must not
//! be able to point the partition at the SPMC's memory.

use test_partition::service::PhysicalMemory;

/// Start of non-secure DRAM on QEMU `virt`.
const NON_SECURE_DRAM_START: u64 = 0x4000_0000;
/// The DRAM the runner gives QEMU (`-m 1G`).
const NON_SECURE_DRAM_SIZE: u64 = 0x4000_0000;

/// Physical memory, accessed byte by byte (Device memory must be accessed aligned).
pub struct PhysicalDram;

impl PhysicalMemory for PhysicalDram {
    fn is_non_secure_dram(&self, address: u64, length: u64) -> bool {
        address >= NON_SECURE_DRAM_START
            && address
                .checked_add(length)
                .is_some_and(|end| end <= NON_SECURE_DRAM_START + NON_SECURE_DRAM_SIZE)
    }

    fn read(&self, address: u64, destination: &mut [u8]) {
        for (index, byte) in destination.iter_mut().enumerate() {
            // SAFETY: the service reads only ranges `is_non_secure_dram`
            // accepted, or the boot information the SPMC pointed it at; both
            // are RAM. Byte accesses are always aligned.
            *byte = unsafe { core::ptr::read_volatile((address as usize + index) as *const u8) };
        }
    }

    fn write(&mut self, address: u64, source: &[u8]) {
        for (index, byte) in source.iter().enumerate() {
            // SAFETY: the service writes only ranges `is_non_secure_dram`
            // accepted, after the SPMC granted it write access to them.
            unsafe { core::ptr::write_volatile((address as usize + index) as *mut u8, *byte) };
        }
    }
}
