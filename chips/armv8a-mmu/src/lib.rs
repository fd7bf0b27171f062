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

/// What one gigabyte of physical addresses holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gigabyte {
    /// Nothing the kernel uses: not mapped.
    Unmapped,
    /// Device registers: Device-nGnRnE, never executable.
    Devices,
    /// RAM (and the kernel image): Normal write-back, inner shareable,
    /// executable at EL1.
    Memory,
}

/// The first 4 GiB of physical addresses, one entry per gigabyte: what a
/// chip names so the boot code can build its identity map.
pub type MemoryLayout = [Gigabyte; 4];

/// The level-1 block descriptor for gigabyte `index` of the identity map,
/// holding `kind`: devices Device-nGnRnE and never executable, memory
/// Normal write-back, inner shareable, executable only at EL1; unmapped
/// gigabytes (and anything past the layout) an invalid descriptor.
pub const fn block_descriptor(index: usize, kind: Gigabyte) -> u64 {
    let output_address = (index as u64) << 30;
    match kind {
        Gigabyte::Unmapped => 0,
        Gigabyte::Devices => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | (ATTRIBUTE_DEVICE << 2)
                | PRIVILEGED_EXECUTE_NEVER
                | UNPRIVILEGED_EXECUTE_NEVER
        }
        Gigabyte::Memory => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | INNER_SHAREABLE
                | (ATTRIBUTE_NORMAL << 2)
                | UNPRIVILEGED_EXECUTE_NEVER
        }
    }
}

/// The level-1 descriptor for entry `index` of the identity map of
/// `layout`: entries past the 4 GiB it describes are invalid.
pub const fn layout_descriptor(layout: &MemoryLayout, index: usize) -> u64 {
    if index < layout.len() {
        block_descriptor(index, layout[index])
    } else {
        0
    }
}

/// `SCTLR_EL1` as EL2 leaves it for EL1 before the MMU is on: only the
/// RES1 bits (11, 20, 22, 23, 28, 29), so the MMU, the caches and the
/// alignment checks are off and EL1 runs little-endian. The boot code writes
/// it on every core it drops to EL1, as does the EL2 runtime on a core it
/// starts for the host; [`sctlr_el1_with_mmu_on`] then turns the MMU on
/// from it.
pub const SCTLR_EL1_MMU_OFF: u64 = 0x30d0_0800;

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
    const RES1: u64 = SCTLR_EL1_MMU_OFF;

    /// QEMU `virt`: devices in the first GiB, DRAM above.
    const VIRT: MemoryLayout = [
        Gigabyte::Devices,
        Gigabyte::Memory,
        Gigabyte::Memory,
        Gigabyte::Memory,
    ];
    /// Raspberry Pi 4: DRAM from 0, peripherals in the fourth GiB.
    const PI: MemoryLayout = [
        Gigabyte::Memory,
        Gigabyte::Memory,
        Gigabyte::Unmapped,
        Gigabyte::Devices,
    ];

    #[test]
    fn the_identity_map_is_devices_then_dram() {
        assert_eq!(layout_descriptor(&VIRT, 0), 0x0060_0000_0000_0401);
        assert_eq!(layout_descriptor(&VIRT, 1), 0x0040_0000_4000_0705);
        assert_eq!(layout_descriptor(&VIRT, 3) >> 30 & 0b11, 3);
        assert_eq!(layout_descriptor(&VIRT, 4), 0, "nothing above 4 GiB");
        assert_eq!(layout_descriptor(&VIRT, 511), 0);
    }

    #[test]
    fn each_gigabyte_gets_what_the_layout_names() {
        assert_eq!(layout_descriptor(&PI, 0), 0x0040_0000_0000_0705);
        assert_eq!(layout_descriptor(&PI, 2), 0, "unmapped is invalid");
        assert_eq!(layout_descriptor(&PI, 3), 0x0060_0000_C000_0401);
        for index in 0..4 {
            let descriptor = layout_descriptor(&PI, index);
            if descriptor != 0 {
                assert_eq!(descriptor & 0xFFFF_C000_0000, (index as u64) << 30);
            }
        }
    }

    #[test]
    fn the_mmu_off_value_is_the_res1_bits_alone() {
        let res1 = [11, 20, 22, 23, 28, 29]
            .iter()
            .fold(0u64, |value, bit| value | 1 << bit);
        assert_eq!(SCTLR_EL1_MMU_OFF, res1);
        assert_eq!(
            SCTLR_EL1_MMU_OFF & 0b1_0000_0001_1111,
            0,
            "M, A, C, SA, SA0, I off"
        );
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
