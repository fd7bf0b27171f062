//! EL2's own stage-1 MMU: an identity map with the same memory attributes
//! as the kernel's at EL1, so that EL2 and the host see shared pages the
//! same way (Normal write-back, inner shareable), and the register values
//! that turn it on.
//!
//! EL2 (without VHE) has one translation range and one privilege level, so
//! its descriptors differ from EL1's: `AP[1]` is RES1 (set), and bit 54 is
//! the only execute-never bit (EL2 runs code from DRAM: the kernel's text,
//! which it shares). The map is four 1 GiB blocks: the first (devices,
//! among them the UART EL2 logs through) Device-nGnRnE and never
//! executable, then DRAM.
//!
//! ```
//! use armv8a_mmu::el2::{block_descriptor, sctlr_el2_with_mmu_on, tcr_el2};
//!
//! assert_eq!(block_descriptor(1) & (1 << 54), 0, "EL2 executes from DRAM");
//! assert_ne!(block_descriptor(0) & (1 << 54), 0, "never from devices");
//! assert_eq!(tcr_el2() & 0x3f, 25);
//! assert_eq!(sctlr_el2_with_mmu_on(0x30c5_0830) & 0b1_0000_0000_0101, 0b1_0000_0000_0101);
//! ```

use crate::{ATTRIBUTE_DEVICE, ATTRIBUTE_NORMAL};

const DESCRIPTOR_BLOCK: u64 = 0b01;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
/// AP\[1\]: RES1 in the EL2 translation regime; AP\[2\] = 0: read-write.
const AP_RES1: u64 = 1 << 6;
const EXECUTE_NEVER: u64 = 1 << 54;

/// Entries of the level-1 table that map memory (0–4 GiB); the rest are invalid.
pub const MAPPED_GIGABYTES: usize = 4;

/// The level-1 block descriptor for gigabyte `index` of EL2's identity map:
/// the first GiB Device-nGnRnE, never executable; 1–4 GiB Normal
/// write-back, inner shareable, executable; nothing above.
pub const fn block_descriptor(index: usize) -> u64 {
    let output_address = (index as u64) << 30;
    match index {
        0 => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | AP_RES1
                | (ATTRIBUTE_DEVICE << 2)
                | EXECUTE_NEVER
        }
        1..MAPPED_GIGABYTES => {
            output_address
                | DESCRIPTOR_BLOCK
                | ACCESS_FLAG
                | AP_RES1
                | INNER_SHAREABLE
                | (ATTRIBUTE_NORMAL << 2)
        }
        _ => 0,
    }
}

/// `MAIR_EL2`, the same as the kernel's `MAIR_EL1`: attribute 0
/// Device-nGnRnE, attribute 1 Normal write-back (read/write-allocate,
/// non-transient) inner and outer.
pub const MAIR: u64 = 0xFF << (8 * ATTRIBUTE_NORMAL) | 0x00 << (8 * ATTRIBUTE_DEVICE);

/// `TCR_EL2` (without VHE): 39-bit addresses from a level-1 table (T0SZ
/// 25), 4 KiB granule, walks inner shareable and write-back, 40-bit
/// physical addresses; bits 23 and 31 are RES1.
pub const fn tcr_el2() -> u64 {
    let t0sz = 25;
    let inner_write_back = 0b01 << 8;
    let outer_write_back = 0b01 << 10;
    let inner_shareable = 0b11 << 12;
    let physical_40_bits = 0b010 << 16;
    let res1 = (1 << 23) | (1 << 31);
    t0sz | inner_write_back | outer_write_back | inner_shareable | physical_40_bits | res1
}

/// `SCTLR_EL2` with the MMU, the data and instruction caches and stack
/// alignment checks on, alignment checks, WXN and big-endian off, from
/// `current` (a read-modify-write: the RES1 bits stay).
pub const fn sctlr_el2_with_mmu_on(current: u64) -> u64 {
    const M: u64 = 1 << 0;
    const A: u64 = 1 << 1;
    const C: u64 = 1 << 2;
    const SA: u64 = 1 << 3;
    const I: u64 = 1 << 12;
    const WXN: u64 = 1 << 19;
    const EE: u64 = 1 << 25;
    (current & !(A | WXN | EE)) | M | C | SA | I
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_devices_then_executable_dram() {
        assert_eq!(block_descriptor(0), 0x0040_0000_0000_0441);
        assert_eq!(block_descriptor(1), 0x4000_0745);
        assert_eq!(block_descriptor(3) >> 30, 3);
        assert_eq!(block_descriptor(4), 0);
        assert_eq!(MAIR, 0xFF00);
    }

    #[test]
    fn sctlr_keeps_what_it_does_not_own() {
        const RES1: u64 = 0x30c5_0830;
        for current in [RES1, RES1 | 1 << 1 | 1 << 19 | 1 << 25, 0, u64::MAX] {
            let value = sctlr_el2_with_mmu_on(current);
            let owned: u64 = 1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 12 | 1 << 19 | 1 << 25;
            assert_eq!(value & !owned, current & !owned, "{current:#x}");
            assert_eq!(value & owned, 0b1_0000_0000_1101, "{current:#x}");
        }
        assert_eq!(tcr_el2() >> 23 & 1, 1);
        assert_eq!(tcr_el2() >> 31 & 1, 1);
    }
}
