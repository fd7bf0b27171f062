#![doc = include_str!("../README.md")]
//!
//! ```
//! use armv8a_mmu::sctlr_el1_with_mmu_on;
//!
//! // The RES1 bits boot wrote (0x30d0_0800) survive; M, C, I, SA, SA0 are set.
//! let value = sctlr_el1_with_mmu_on(0x30d0_0800);
//! assert_eq!(value & 0x30d0_0800, 0x30d0_0800);
//! assert_eq!(value & 0b1_1101, 0b1_1101);
//! ```

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod el2;
pub mod stage2;

use aarch64_cpu::registers::SCTLR_EL1;

/// MAIR index of Device-nGnRnE memory.
pub const ATTRIBUTE_DEVICE: u64 = 0;
/// MAIR index of Normal write-back memory.
pub const ATTRIBUTE_NORMAL: u64 = 1;

const DESCRIPTOR_BLOCK: u64 = 0b01;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const PRIVILEGED_EXECUTE_NEVER: u64 = 1 << 53;
const UNPRIVILEGED_EXECUTE_NEVER: u64 = 1 << 54;

/// The level-1 block descriptor for gigabyte `index` of the identity map:
/// the first GiB (devices) Device-nGnRnE and never executable, 1–4 GiB
/// (DRAM) Normal write-back, inner shareable; nothing above (invalid).
pub const fn block_descriptor(index: usize) -> u64 {
    let output_address = (index as u64) << 30;
    match index {
        0 => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | (ATTRIBUTE_DEVICE << 2)
                | PRIVILEGED_EXECUTE_NEVER
                | UNPRIVILEGED_EXECUTE_NEVER
        }
        1..=3 => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | INNER_SHAREABLE
                | (ATTRIBUTE_NORMAL << 2)
                | UNPRIVILEGED_EXECUTE_NEVER
        }
        _ => 0,
    }
}

/// `SCTLR_EL1` with the MMU, the data and instruction caches and stack
/// alignment checks on, and alignment checks off, from `current`, the value
/// the register holds: a read-modify-write, so the RES1 bits (and anything
/// else boot or the firmware set) are kept.
pub fn sctlr_el1_with_mmu_on(current: u64) -> u64 {
    (SCTLR_EL1::M::Enable
        + SCTLR_EL1::C::Cacheable
        + SCTLR_EL1::I::Cacheable
        + SCTLR_EL1::SA::Enable
        + SCTLR_EL1::SA0::Enable
        + SCTLR_EL1::A::Disable)
        .modify(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SCTLR_EL1's RES1 bits (11, 20, 22, 23, 28, 29), as boot writes them.
    const RES1: u64 = 0x30d0_0800;

    #[test]
    fn the_identity_map_is_devices_then_dram() {
        assert_eq!(block_descriptor(0), 0x0060_0000_0000_0401);
        assert_eq!(block_descriptor(1), 0x0040_0000_4000_0705);
        assert_eq!(block_descriptor(3) >> 30 & 0b11, 3);
        assert_eq!(block_descriptor(4), 0, "nothing above 4 GiB");
    }

    #[test]
    fn the_res1_bits_and_what_boot_set_are_kept() {
        // EIS (22) and EOS (11) are RES1 without FEAT_ExS; SPAN (23), nTLSMD
        // (28) and LSMAOE (29) are RES1 without their features; boot or the
        // firmware may also have set, say, EnIA (31): none may be cleared.
        for current in [RES1, RES1 | 1 << 31, 0x0000_0000_0000_0000, u64::MAX] {
            let value = sctlr_el1_with_mmu_on(current);
            let changed = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 12);
            assert_eq!(value & !changed, current & !changed, "{current:#x}");
            assert_eq!(value & changed, 0b1_0000_0001_1101, "{current:#x}");
        }
    }
}
