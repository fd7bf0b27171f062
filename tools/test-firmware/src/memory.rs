//! The normal world's memory as the secure-world model sees it.
//!
//! Only non-secure DRAM is accessible (QEMU `virt`: from 0x4000_0000, at
//! least the 1 GiB the runner gives QEMU); anything else — flash, devices,
//! secure RAM — is refused, as an SPMC refuses buffers outside NS memory.

use ffa_model::{MemoryError, NormalWorldMemory};

/// Start of non-secure DRAM.
const DRAM_START: u64 = 0x4000_0000;
/// Size of DRAM the firmware trusts to exist (`-m 1G` or more).
const DRAM_SIZE: u64 = 0x4000_0000;

/// Non-secure DRAM, accessed with byte-wise volatile copies (EL3 runs with
/// its MMU off, where memory is Device and must be accessed aligned).
pub struct NonSecureDram;

impl NonSecureDram {
    fn check(address: u64, length: usize) -> Result<(), MemoryError> {
        let end = address.checked_add(length as u64).ok_or(MemoryError)?;
        if address >= DRAM_START && end <= DRAM_START + DRAM_SIZE {
            Ok(())
        } else {
            Err(MemoryError)
        }
    }
}

impl NormalWorldMemory for NonSecureDram {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
        Self::check(address, destination.len())?;
        for (index, byte) in destination.iter_mut().enumerate() {
            // SAFETY: the range lies in non-secure DRAM (checked above),
            // which EL3 may always access; byte accesses are aligned.
            *byte = unsafe { core::ptr::read_volatile((address as usize + index) as *const u8) };
        }
        Ok(())
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError> {
        Self::check(address, source.len())?;
        for (index, byte) in source.iter().enumerate() {
            // SAFETY: as in `read`.
            unsafe { core::ptr::write_volatile((address as usize + index) as *mut u8, *byte) };
        }
        Ok(())
    }
}
