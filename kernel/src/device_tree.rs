//! The memory a flattened device tree describes: its `memory` nodes' `reg`
//! ranges, read with every length and offset checked.
//!
//! A board asks this, at boot, where its DRAM is (protected mode's EL2 maps
//! exactly that for the kernel). The tree comes from firmware, so a
//! malformed one is an error with a reason, never a panic or a read out of
//! bounds, and every loop is bounded by the blob's size. (The `fdt` crate
//! panics on malformed trees, which is why this small reader exists.)
//!
//! ```
//! use kernel::device_tree::{memory, DeviceTreeError};
//!
//! assert_eq!(memory(&[0; 8]), Err(DeviceTreeError::BadHeader));
//! ```

/// `memory` ranges a tree may describe that this reader keeps.
pub const MAX_MEMORY_RANGES: usize = 4;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROPERTY: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;

/// Why a tree could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DeviceTreeError {
    /// No device tree magic, or a header whose blocks lie outside the blob.
    BadHeader,
    /// The structure block is malformed (a token, name or property runs
    /// past its end, or an unknown token).
    BadStructure,
    /// `#address-cells` or `#size-cells` is not 1 or 2.
    UnsupportedCells,
    /// No `memory` node with a `reg` range.
    NoMemory,
}

/// The DRAM ranges of a tree, `(base, size)`, in the order it lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryRanges {
    ranges: [(u64, u64); MAX_MEMORY_RANGES],
    count: usize,
}

impl MemoryRanges {
    /// The ranges.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges[..self.count]
    }

    fn push(&mut self, range: (u64, u64)) {
        if self.count < MAX_MEMORY_RANGES && range.1 != 0 {
            self.ranges[self.count] = range;
            self.count += 1;
        }
    }
}

fn be32(blob: &[u8], offset: usize) -> Option<u32> {
    let bytes = blob.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The NUL-terminated string at `offset` of `block`.
fn string(block: &[u8], offset: usize) -> Option<&[u8]> {
    let rest = block.get(offset..)?;
    let length = rest.iter().position(|byte| *byte == 0)?;
    Some(&rest[..length])
}

/// A number of `cells` 32-bit cells at the start of `bytes`.
fn cells(bytes: &[u8], cells: u32) -> Option<u64> {
    match cells {
        1 => be32(bytes, 0).map(u64::from),
        2 => Some(u64::from(be32(bytes, 0)?) << 32 | u64::from(be32(bytes, 4)?)),
        _ => None,
    }
}

/// The `memory` nodes' ranges of the tree in `blob`.
pub fn memory(blob: &[u8]) -> Result<MemoryRanges, DeviceTreeError> {
    let header = |index: usize| be32(blob, index * 4).ok_or(DeviceTreeError::BadHeader);
    if header(0)? != MAGIC {
        return Err(DeviceTreeError::BadHeader);
    }
    let total = header(1)? as usize;
    let structure_offset = header(2)? as usize;
    let strings_offset = header(3)? as usize;
    let strings_size = header(8)? as usize;
    let structure_size = header(9)? as usize;
    let blob = blob.get(..total).ok_or(DeviceTreeError::BadHeader)?;
    let structure = structure_offset
        .checked_add(structure_size)
        .and_then(|end| blob.get(structure_offset..end))
        .ok_or(DeviceTreeError::BadHeader)?;
    let strings = strings_offset
        .checked_add(strings_size)
        .and_then(|end| blob.get(strings_offset..end))
        .ok_or(DeviceTreeError::BadHeader)?;

    let mut ranges = MemoryRanges::default();
    let mut depth = 0usize;
    let mut address_cells = 2;
    let mut size_cells = 1;
    let mut in_memory_node = false;
    let mut offset = 0usize;
    // Every token takes at least 4 bytes: the walk is bounded by the block.
    for _ in 0..=structure.len() / 4 {
        let token = be32(structure, offset).ok_or(DeviceTreeError::BadStructure)?;
        offset += 4;
        match token {
            BEGIN_NODE => {
                let name = string(structure, offset).ok_or(DeviceTreeError::BadStructure)?;
                offset += (name.len() + 1).next_multiple_of(4);
                depth += 1;
                in_memory_node = depth == 2 && (name == b"memory" || name.starts_with(b"memory@"));
            }
            END_NODE => {
                depth = depth.checked_sub(1).ok_or(DeviceTreeError::BadStructure)?;
                in_memory_node = false;
            }
            PROPERTY => {
                let length = be32(structure, offset).ok_or(DeviceTreeError::BadStructure)? as usize;
                let name_offset =
                    be32(structure, offset + 4).ok_or(DeviceTreeError::BadStructure)? as usize;
                let value_start = offset + 8;
                let value = value_start
                    .checked_add(length)
                    .and_then(|end| structure.get(value_start..end))
                    .ok_or(DeviceTreeError::BadStructure)?;
                offset = value_start + length.next_multiple_of(4);
                let name = string(strings, name_offset).ok_or(DeviceTreeError::BadStructure)?;
                if depth == 1 && name == b"#address-cells" {
                    address_cells = be32(value, 0).ok_or(DeviceTreeError::BadStructure)?;
                } else if depth == 1 && name == b"#size-cells" {
                    size_cells = be32(value, 0).ok_or(DeviceTreeError::BadStructure)?;
                } else if in_memory_node && name == b"reg" {
                    if !(1..=2).contains(&address_cells) || !(1..=2).contains(&size_cells) {
                        return Err(DeviceTreeError::UnsupportedCells);
                    }
                    let entry = 4 * (address_cells + size_cells) as usize;
                    for chunk in value.chunks_exact(entry) {
                        let base = cells(chunk, address_cells);
                        let size = cells(&chunk[4 * address_cells as usize..], size_cells);
                        if let (Some(base), Some(size)) = (base, size) {
                            ranges.push((base, size));
                        }
                    }
                }
            }
            NOP => {}
            END => break,
            _ => return Err(DeviceTreeError::BadStructure),
        }
    }
    if ranges.count == 0 {
        return Err(DeviceTreeError::NoMemory);
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A tree with a root (`#address-cells`/`#size-cells` as given), a
    /// `chosen` node and a `memory@` node with `reg`.
    fn tree(address_cells: u32, size_cells: u32, reg: &[u32]) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut name = |text: &str| {
            let offset = strings.len() as u32;
            strings.extend_from_slice(text.as_bytes());
            strings.push(0);
            offset
        };
        let address = name("#address-cells");
        let size = name("#size-cells");
        let reg_name = name("reg");
        let mut structure = Vec::new();
        let word =
            |structure: &mut Vec<u8>, value: u32| structure.extend_from_slice(&value.to_be_bytes());
        let node = |structure: &mut Vec<u8>, text: &str| {
            word(structure, BEGIN_NODE);
            structure.extend_from_slice(text.as_bytes());
            structure.push(0);
            while !structure.len().is_multiple_of(4) {
                structure.push(0);
            }
        };
        let property = |structure: &mut Vec<u8>, name: u32, values: &[u32]| {
            word(structure, PROPERTY);
            word(structure, 4 * values.len() as u32);
            word(structure, name);
            for value in values {
                word(structure, *value);
            }
        };
        node(&mut structure, "");
        property(&mut structure, address, &[address_cells]);
        property(&mut structure, size, &[size_cells]);
        node(&mut structure, "chosen");
        property(&mut structure, reg_name, &[1, 2, 3]);
        word(&mut structure, END_NODE);
        node(&mut structure, "memory@40000000");
        property(&mut structure, reg_name, reg);
        word(&mut structure, END_NODE);
        word(&mut structure, END_NODE);
        word(&mut structure, END);
        let structure_offset = 40u32;
        let strings_offset = structure_offset + structure.len() as u32;
        let total = strings_offset + strings.len() as u32;
        let mut blob = Vec::new();
        for value in [
            MAGIC,
            total,
            structure_offset,
            strings_offset,
            0,
            17,
            16,
            0,
            strings.len() as u32,
            structure.len() as u32,
        ] {
            blob.extend_from_slice(&value.to_be_bytes());
        }
        blob.extend_from_slice(&structure);
        blob.extend_from_slice(&strings);
        blob
    }

    #[test]
    fn qemu_virt_s_memory_is_found() {
        let blob = tree(2, 2, &[0, 0x4000_0000, 0, 0x4000_0000]);
        assert_eq!(
            memory(&blob).unwrap().ranges(),
            &[(0x4000_0000, 0x4000_0000)]
        );
        let blob = tree(1, 1, &[0x4000_0000, 0x1000_0000, 0x8000_0000, 0x1000]);
        assert_eq!(
            memory(&blob).unwrap().ranges(),
            &[(0x4000_0000, 0x1000_0000), (0x8000_0000, 0x1000)]
        );
    }

    #[test]
    fn malformed_trees_are_errors() {
        let good = tree(2, 2, &[0, 0x4000_0000, 0, 0x4000_0000]);
        assert_eq!(memory(&good[..30]), Err(DeviceTreeError::BadHeader));
        assert_eq!(
            memory(&tree(3, 2, &[0, 0, 0x4000_0000, 0, 1])),
            Err(DeviceTreeError::UnsupportedCells)
        );
        assert_eq!(memory(&tree(2, 2, &[])), Err(DeviceTreeError::NoMemory));
        let mut broken = good.clone();
        broken[40..44].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(memory(&broken), Err(DeviceTreeError::BadStructure));
    }

    proptest::proptest! {
        /// Any corruption of a good tree: an answer or an error, never a panic.
        #[test]
        fn corrupted_trees_never_panic(
            changes in proptest::collection::vec((0usize..400, proptest::num::u8::ANY), 0..8),
            cut in 0usize..400,
        ) {
            let mut blob = tree(2, 2, &[0, 0x4000_0000, 0, 0x4000_0000]);
            for (at, value) in changes {
                if let Some(byte) = blob.get_mut(at) {
                    *byte = value;
                }
            }
            blob.truncate(cut.max(4));
            let _ = memory(&blob);
        }
    }
}
