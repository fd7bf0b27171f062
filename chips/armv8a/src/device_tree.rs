//! What the kernel learns from the device tree the firmware hands over:
//! whether a PSCI firmware is there (and through which conduit), and how
//! each core is started (PSCI `CPU_ON`, or a spin table's release address).
//!
//! The reader walks the flattened tree's structure block once, token by
//! token, and reads only what it needs: `/psci`'s `method` and, under
//! `/cpus`, each `cpu` node's `reg`, `enable-method` and
//! `cpu-release-addr`. Every read is bounds-checked and every step moves
//! forward, so a blob that is truncated, corrupted or hostile is an error
//! (never a panic, never a loop); the `FDT_NOP` tokens that firmware and
//! QEMU leave when they edit a tree are skipped. A blob that is absent,
//! malformed or describes more cores than [`MAXIMUM_CORES`] is a
//! [`DeviceTreeError`], and the chip falls back to its own table. (The
//! `dtoolkit` crate read these trees before; its iterators `expect()` on
//! the blob it validated, which linked `core::fmt`'s debug formatting into
//! the kernel, several KiB of a 96 KiB budget. It stays the test oracle:
//! every tree it reads, this reader reads the same.)
//!
//! ```ignore
//! // SAFETY: the firmware put a device tree (or nothing) at `address`.
//! let platform = unsafe { device_tree::blob_at(boot.device_tree_address) }
//!     .ok_or(DeviceTreeError::Missing)
//!     .and_then(device_tree::parse);
//! ```

/// Most cores the kernel describes (and gives stacks to).
pub const MAXIMUM_CORES: usize = 8;

/// The magic number at the start of a flattened device tree (big-endian).
const FDT_MAGIC: u32 = 0xd00d_feed;
/// Largest device tree the kernel reads.
const MAXIMUM_SIZE: usize = 1 << 20;
/// The size of the header (version 17).
const HEADER_SIZE: usize = 40;
/// The structure block's format version the reader knows (17; it reads
/// any tree whose `last_comp_version` says a version-17 reader may).
const FDT_VERSION: u32 = 17;
/// Structure block tokens.
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// `#address-cells` and `#size-cells` where a node does not say.
const DEFAULT_ADDRESS_CELLS: u32 = 2;
const DEFAULT_SIZE_CELLS: u32 = 1;

/// The conduit the `/psci` node names with its `method` property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PsciMethod {
    /// `method = "smc"`.
    Smc,
    /// `method = "hvc"`.
    Hvc,
}

/// How a core is started, from its `enable-method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum EnableMethod {
    /// `enable-method = "psci"`: PSCI `CPU_ON`.
    Psci,
    /// `enable-method = "spin-table"`: write the entry point to
    /// `cpu-release-addr`, then `sev`.
    SpinTable {
        /// The physical address of the core's release word.
        release_address: u64,
    },
    /// No `enable-method` (the boot core, or a board that starts every core
    /// itself), or one the kernel does not know.
    Unspecified,
}

/// One `/cpus/cpu@N` node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct CoreDescription {
    /// Its `reg`: the MPIDR affinity fields.
    pub mpidr: u64,
    /// How it is started.
    pub enable_method: EnableMethod,
}

/// What the device tree says about firmware and cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PlatformDescription {
    /// The PSCI conduit, if a `/psci` node names one.
    pub psci: Option<PsciMethod>,
    cores: [Option<CoreDescription>; MAXIMUM_CORES],
    core_count: usize,
}

impl PlatformDescription {
    /// A description with no PSCI and these cores (a chip's own table).
    pub fn new(psci: Option<PsciMethod>, cores: &[CoreDescription]) -> PlatformDescription {
        let mut description = PlatformDescription {
            psci,
            cores: [None; MAXIMUM_CORES],
            core_count: 0,
        };
        for core in cores.iter().take(MAXIMUM_CORES) {
            description.cores[description.core_count] = Some(*core);
            description.core_count += 1;
        }
        description
    }

    /// The cores, in device-tree order.
    pub fn cores(&self) -> impl Iterator<Item = CoreDescription> + '_ {
        self.cores.iter().flatten().copied()
    }

    /// How many cores are described.
    pub fn core_count(&self) -> usize {
        self.core_count
    }
}

/// Why the device tree could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DeviceTreeError {
    /// No flattened device tree at the address (no FDT magic: none handed
    /// over, or ATAGs).
    Missing,
    /// The blob is malformed (bad header, truncated, bad structure).
    Malformed,
    /// A `/psci` node with a `method` other than `smc` or `hvc`.
    UnknownPsciMethod,
    /// A `cpu` node without a usable `reg`.
    CoreWithoutId,
    /// More cores than [`MAXIMUM_CORES`].
    TooManyCores(usize),
}

/// The device tree blob at physical `address`, if one is there: its magic
/// is checked and its length taken from its header (at most 1 MiB).
///
/// # Safety
///
/// `address` must be 0 or readable memory (identity-mapped) for as long as
/// the returned slice is used, and nothing may write it meanwhile: the
/// firmware's hand-over address.
pub unsafe fn blob_at(address: u64) -> Option<&'static [u8]> {
    if address == 0 || !address.is_multiple_of(4) {
        return None;
    }
    let header = address as *const u32;
    // SAFETY: the caller guarantees the memory is readable; the two header
    // words are 4-byte aligned (checked above).
    let (magic, size) = unsafe {
        (
            u32::from_be(core::ptr::read_volatile(header)),
            u32::from_be(core::ptr::read_volatile(header.add(1))) as usize,
        )
    };
    if magic != FDT_MAGIC || !(40..=MAXIMUM_SIZE).contains(&size) {
        return None;
    }
    // SAFETY: as above, for the `size` bytes the header announces (bounded).
    Some(unsafe { core::slice::from_raw_parts(address as *const u8, size) })
}

/// The big-endian word at `offset` of `bytes`, if it is all there.
fn word_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let word: [u8; 4] = bytes.get(offset..end)?.try_into().ok()?;
    Some(u32::from_be_bytes(word))
}

/// The bytes of `bytes` from `offset` up to (not including) the next NUL,
/// if there is one.
fn string_at(bytes: &[u8], offset: usize) -> Option<&[u8]> {
    let rest = bytes.get(offset..)?;
    let length = rest.iter().position(|&byte| byte == 0)?;
    rest.get(..length)
}

/// The first string of a string-list property value (up to its NUL).
fn first_string(value: &[u8]) -> Option<&[u8]> {
    string_at(value, 0)
}

/// A property value that is exactly one NUL-terminated string.
fn single_string(value: &[u8]) -> Option<&[u8]> {
    let (&0, text) = value.split_last()? else {
        return None;
    };
    (!text.contains(&0)).then_some(text)
}

/// A property value of exactly one 32-bit cell.
fn cell_value(value: &[u8]) -> Option<u32> {
    (value.len() == 4).then(|| word_at(value, 0)).flatten()
}

/// A node's name without its unit address (`cpu@1` is `cpu`).
fn base_name(name: &[u8]) -> &[u8] {
    match name.iter().position(|&byte| byte == b'@') {
        Some(at) => name.get(..at).unwrap_or(name),
        None => name,
    }
}

/// The number in `cells` 32-bit big-endian cells at the start of `value`,
/// if it fits 64 bits.
fn cells_number(value: &[u8], cells: u32) -> Option<u64> {
    let mut number: u64 = 0;
    for index in 0..cells as usize {
        let cell = word_at(value, index.checked_mul(4)?)?;
        if number >> 32 != 0 {
            return None;
        }
        number = (number << 32) | u64::from(cell);
    }
    Some(number)
}

/// What one `cpu` node said.
#[derive(Clone, Copy, Default)]
struct CpuNode<'a> {
    reg: Option<&'a [u8]>,
    enable_method: Option<&'a [u8]>,
    release_address: Option<&'a [u8]>,
}

/// The structure block and the strings block of a checked header.
struct Blocks<'a> {
    structure: &'a [u8],
    strings: &'a [u8],
}

/// Checks the header; the two blocks it names, within the blob.
fn blocks(blob: &[u8]) -> Option<Blocks<'_>> {
    let field = |index: usize| word_at(blob, index * 4).map(|word| word as usize);
    let total = field(1)?;
    let (structure_offset, strings_offset) = (field(2)?, field(3)?);
    let (version, last_compatible) = (field(5)? as u32, field(6)? as u32);
    // The structure block's own size (`size_dt_struct`) is not needed: the
    // walk ends at its FDT_END token, within the blob.
    let strings_size = field(8)?;
    if field(0)? != FDT_MAGIC as usize
        || total > blob.len()
        || total < HEADER_SIZE
        || !(last_compatible..=version).contains(&FDT_VERSION)
    {
        return None;
    }
    let blob = blob.get(..total)?;
    Some(Blocks {
        structure: blob.get(structure_offset..)?,
        strings: blob.get(strings_offset..strings_offset.checked_add(strings_size)?)?,
    })
}

/// Reads the PSCI conduit and the cores out of a device tree blob.
pub fn parse(blob: &[u8]) -> Result<PlatformDescription, DeviceTreeError> {
    use DeviceTreeError::Malformed;
    let Blocks { structure, strings } = blocks(blob).ok_or(Malformed)?;
    // `/psci`: seen (with its `method`, if any); the open nodes the walk
    // reads properties of (`/psci` and `/cpus` at depth 2, a `cpu` node
    // under `/cpus` at depth 3).
    let mut psci: Option<Option<&[u8]>> = None;
    let (mut psci_open, mut cpus_open, mut cpu_open, mut cpus_seen) = (false, false, false, false);
    let (mut address_cells_given, mut size_cells_given) = (None, None);
    let mut description = PlatformDescription::new(None, &[]);
    let mut found = 0usize;
    let mut cpu = CpuNode::default();
    let mut depth = 0usize;
    let mut ended_root = false;
    let mut offset = 0usize;
    loop {
        let token = word_at(structure, offset).ok_or(Malformed)?;
        offset += 4;
        match token {
            FDT_BEGIN_NODE => {
                let name = string_at(structure, offset).ok_or(Malformed)?;
                offset = (offset + name.len() + 1).next_multiple_of(4);
                if ended_root || (depth == 0) != name.is_empty() {
                    return Err(Malformed);
                }
                depth += 1;
                match (depth, base_name(name)) {
                    (2, b"psci") if psci.is_none() => {
                        psci = Some(None);
                        psci_open = true;
                    }
                    (2, b"cpus") if !cpus_seen => {
                        cpus_seen = true;
                        cpus_open = true;
                    }
                    (3, b"cpu") if cpus_open => {
                        cpu = CpuNode::default();
                        cpu_open = true;
                    }
                    _ => {}
                }
            }
            FDT_END_NODE => {
                if depth == 3 && cpu_open {
                    cpu_open = false;
                    found += 1;
                    if found <= MAXIMUM_CORES {
                        let core = read_core(
                            &cpu,
                            address_cells_given.unwrap_or(DEFAULT_ADDRESS_CELLS),
                            size_cells_given.unwrap_or(DEFAULT_SIZE_CELLS),
                        )?;
                        description.cores[description.core_count] = Some(core);
                        description.core_count += 1;
                    }
                }
                if depth == 2 {
                    (psci_open, cpus_open) = (false, false);
                }
                depth = depth.checked_sub(1).ok_or(Malformed)?;
                ended_root |= depth == 0;
            }
            FDT_PROP => {
                let length = word_at(structure, offset).ok_or(Malformed)? as usize;
                let name_offset = word_at(structure, offset + 4).ok_or(Malformed)? as usize;
                let start = offset + 8;
                let value = structure
                    .get(start..start.checked_add(length).ok_or(Malformed)?)
                    .ok_or(Malformed)?;
                let name = string_at(strings, name_offset).ok_or(Malformed)?;
                offset = (start + length).next_multiple_of(4);
                if depth == 0 || ended_root {
                    return Err(Malformed);
                }
                // A name given twice in one node (invalid): the first counts.
                match (depth, name) {
                    (2, b"method") if psci_open => {
                        psci = psci.map(|method| method.or(Some(value)));
                    }
                    (2, b"#address-cells") if cpus_open && address_cells_given.is_none() => {
                        address_cells_given = Some(cell_value(value).ok_or(Malformed)?);
                    }
                    (2, b"#size-cells") if cpus_open && size_cells_given.is_none() => {
                        size_cells_given = Some(cell_value(value).ok_or(Malformed)?);
                    }
                    (3, b"reg") if cpu_open => {
                        cpu.reg.get_or_insert(value);
                    }
                    (3, b"enable-method") if cpu_open => {
                        cpu.enable_method.get_or_insert(value);
                    }
                    (3, b"cpu-release-addr") if cpu_open => {
                        cpu.release_address.get_or_insert(value);
                    }
                    _ => {}
                }
            }
            FDT_NOP => {}
            FDT_END if ended_root => break,
            _ => return Err(Malformed),
        }
    }
    description.psci = match psci {
        None => None,
        Some(method) => match method.and_then(single_string) {
            Some(b"smc") => Some(PsciMethod::Smc),
            Some(b"hvc") => Some(PsciMethod::Hvc),
            _ => return Err(DeviceTreeError::UnknownPsciMethod),
        },
    };
    if found > MAXIMUM_CORES {
        return Err(DeviceTreeError::TooManyCores(found));
    }
    Ok(description)
}

/// One core from its node: `reg`'s first address (in `/cpus`'s
/// `#address-cells`), its enable method and release address.
fn read_core(
    cpu: &CpuNode<'_>,
    address_cells: u32,
    size_cells: u32,
) -> Result<CoreDescription, DeviceTreeError> {
    let entry = (address_cells as usize + size_cells as usize) * 4;
    let mpidr = cpu
        .reg
        .filter(|reg| entry > 0 && !reg.is_empty() && reg.len() % entry == 0)
        .and_then(|reg| cells_number(reg, address_cells))
        .ok_or(DeviceTreeError::CoreWithoutId)?;
    let enable_method = match cpu.enable_method.and_then(first_string) {
        Some(b"psci") => EnableMethod::Psci,
        Some(b"spin-table") => match cpu.release_address.filter(|value| value.len() == 8) {
            Some(value) => EnableMethod::SpinTable {
                release_address: cells_number(value, 2).unwrap_or(0),
            },
            None => EnableMethod::Unspecified,
        },
        _ => EnableMethod::Unspecified,
    };
    Ok(CoreDescription {
        mpidr,
        enable_method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A minimal flattened device tree writer for the tests.
    #[derive(Default)]
    struct Builder {
        structure: Vec<u8>,
        strings: Vec<u8>,
    }

    enum Value<'a> {
        Text(&'a str),
        Cells(&'a [u32]),
    }

    impl Builder {
        fn word(&mut self, value: u32) {
            self.structure.extend_from_slice(&value.to_be_bytes());
        }

        fn pad(&mut self) {
            while !self.structure.len().is_multiple_of(4) {
                self.structure.push(0);
            }
        }

        fn begin(&mut self, name: &str) -> &mut Self {
            self.word(1);
            self.structure.extend_from_slice(name.as_bytes());
            self.structure.push(0);
            self.pad();
            self
        }

        fn property(&mut self, name: &str, value: Value<'_>) -> &mut Self {
            let offset = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            let bytes: Vec<u8> = match value {
                Value::Text(text) => text.bytes().chain([0]).collect(),
                Value::Cells(cells) => cells.iter().flat_map(|cell| cell.to_be_bytes()).collect(),
            };
            self.word(3);
            self.word(bytes.len() as u32);
            self.word(offset);
            self.structure.extend_from_slice(&bytes);
            self.pad();
            self
        }

        fn end(&mut self) -> &mut Self {
            self.word(2);
            self
        }

        fn finish(&mut self) -> Vec<u8> {
            self.word(9);
            let header_size = 40u32;
            let reservations = 16u32;
            let structure_offset = header_size + reservations;
            let strings_offset = structure_offset + self.structure.len() as u32;
            let total = strings_offset + self.strings.len() as u32;
            let mut blob = Vec::new();
            for word in [
                FDT_MAGIC,
                total,
                structure_offset,
                strings_offset,
                header_size,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structure.len() as u32,
            ] {
                blob.extend_from_slice(&word.to_be_bytes());
            }
            blob.extend_from_slice(&[0; 16]);
            blob.extend_from_slice(&self.structure);
            blob.extend_from_slice(&self.strings);
            blob
        }
    }

    /// A Raspberry Pi 4-like tree: four cores on a spin table, maybe `/psci`.
    fn raspberry_pi(psci: Option<&str>, enable_method: &str) -> Vec<u8> {
        let mut tree = Builder::default();
        tree.begin("")
            .property("#address-cells", Value::Cells(&[2]))
            .property("#size-cells", Value::Cells(&[1]));
        if let Some(method) = psci {
            tree.begin("psci")
                .property("compatible", Value::Text("arm,psci-1.0"))
                .property("method", Value::Text(method))
                .end();
        }
        tree.begin("cpus")
            .property("#address-cells", Value::Cells(&[1]))
            .property("#size-cells", Value::Cells(&[0]));
        for core in 0..4u32 {
            let name = std::format!("cpu@{core}");
            tree.begin(&name)
                .property("device_type", Value::Text("cpu"))
                .property("reg", Value::Cells(&[core]))
                .property("enable-method", Value::Text(enable_method))
                .property("cpu-release-addr", Value::Cells(&[0, 0xd8 + 8 * core]))
                .end();
        }
        tree.end().end().finish()
    }

    #[test]
    fn a_stock_pi_tree_has_no_psci_and_a_spin_table() {
        let description = parse(&raspberry_pi(None, "spin-table")).unwrap();
        assert_eq!(description.psci, None);
        assert_eq!(description.core_count(), 4);
        let cores: Vec<CoreDescription> = description.cores().collect();
        assert_eq!(cores[0].mpidr, 0);
        assert_eq!(
            cores[3],
            CoreDescription {
                mpidr: 3,
                enable_method: EnableMethod::SpinTable {
                    release_address: 0xf0
                }
            }
        );
    }

    #[test]
    fn tf_a_adds_psci_with_the_smc_method() {
        let description = parse(&raspberry_pi(Some("smc"), "psci")).unwrap();
        assert_eq!(description.psci, Some(PsciMethod::Smc));
        assert!(description
            .cores()
            .all(|core| core.enable_method == EnableMethod::Psci));
        let hvc = parse(&raspberry_pi(Some("hvc"), "psci")).unwrap();
        assert_eq!(hvc.psci, Some(PsciMethod::Hvc));
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic() {
        assert_eq!(
            parse(&raspberry_pi(Some("smd"), "psci")),
            Err(DeviceTreeError::UnknownPsciMethod)
        );
        let good = raspberry_pi(None, "spin-table");
        assert_eq!(
            parse(&good[..good.len() - 9]),
            Err(DeviceTreeError::Malformed)
        );
        assert_eq!(parse(&[0; 64]), Err(DeviceTreeError::Malformed));
        // Every truncation and every single corrupted byte: an answer, no panic.
        for length in 0..good.len() {
            let _ = parse(&good[..length]);
        }
        for index in 0..good.len() {
            let mut corrupted = good.clone();
            corrupted[index] ^= 0x5a;
            let _ = parse(&corrupted);
        }
    }

    #[test]
    fn nop_tokens_between_nodes_are_skipped() {
        // QEMU's raspi4b replaces the tree's /memory node with FDT_NOPs and
        // adds its own: the cores after them must still be found.
        let mut tree = Builder::default();
        tree.begin("")
            .property("#address-cells", Value::Cells(&[2]));
        for _ in 0..16 {
            tree.word(4);
        }
        tree.begin("cpus")
            .property("#address-cells", Value::Cells(&[1]))
            .property("#size-cells", Value::Cells(&[0]));
        for core in 0..2u32 {
            let name = std::format!("cpu@{core}");
            tree.begin(&name)
                .property("reg", Value::Cells(&[core]))
                .property("enable-method", Value::Text("psci"))
                .end();
        }
        let blob = tree.end().end().finish();
        let description = parse(&blob).unwrap();
        assert_eq!(description.core_count(), 2);
    }

    #[test]
    fn too_many_cores_are_refused() {
        let mut tree = Builder::default();
        tree.begin("").begin("cpus");
        tree.property("#address-cells", Value::Cells(&[1]))
            .property("#size-cells", Value::Cells(&[0]));
        for core in 0..9u32 {
            let name = std::format!("cpu@{core}");
            tree.begin(&name)
                .property("reg", Value::Cells(&[core]))
                .end();
        }
        let blob = tree.end().end().finish();
        assert_eq!(parse(&blob), Err(DeviceTreeError::TooManyCores(9)));
    }

    /// The reader this one replaced, on `dtoolkit`: the oracle.
    fn dtoolkit_parse(blob: &[u8]) -> Result<PlatformDescription, DeviceTreeError> {
        use dtoolkit::fdt::Fdt;
        use dtoolkit::{Node, Property, ToCellInt};
        let tree = Fdt::new(blob).map_err(|_| DeviceTreeError::Malformed)?;
        let psci = match tree.find_node("/psci") {
            None => None,
            Some(node) => match node
                .property("method")
                .map(|method| method.value_as::<&str>())
            {
                Some(Ok("smc")) => Some(PsciMethod::Smc),
                Some(Ok("hvc")) => Some(PsciMethod::Hvc),
                _ => return Err(DeviceTreeError::UnknownPsciMethod),
            },
        };
        let mut description = PlatformDescription::new(psci, &[]);
        let Ok(cpus) = tree.cpus() else {
            return Ok(description);
        };
        let mut found = 0;
        for core in cpus.cpus() {
            found += 1;
            if found > MAXIMUM_CORES {
                continue;
            }
            let mpidr = core
                .ids()
                .ok()
                .and_then(|mut ids| ids.next())
                .and_then(|id| id.to_int::<u64>().ok())
                .ok_or(DeviceTreeError::CoreWithoutId)?;
            let method = core.enable_method().and_then(|mut methods| methods.next());
            let enable_method = match method {
                Some("psci") => EnableMethod::Psci,
                Some("spin-table") => match core.cpu_release_addr() {
                    Ok(Some(release_address)) => EnableMethod::SpinTable { release_address },
                    _ => EnableMethod::Unspecified,
                },
                _ => EnableMethod::Unspecified,
            };
            description.cores[description.core_count] = Some(CoreDescription {
                mpidr,
                enable_method,
            });
            description.core_count += 1;
        }
        if found > MAXIMUM_CORES {
            return Err(DeviceTreeError::TooManyCores(found));
        }
        Ok(description)
    }

    /// A tree with `/psci` (if a method is given) and `cores` cores under
    /// `/cpus` with the given cell counts, an unrelated node with a child
    /// first, and a child node inside the first core.
    fn generated(
        psci: Option<&str>,
        cores: u32,
        address_cells: u32,
        enable_method: &str,
        nops: usize,
    ) -> Vec<u8> {
        let mut tree = Builder::default();
        tree.begin("")
            .property("#address-cells", Value::Cells(&[2]))
            .begin("soc@0")
            .property("ranges", Value::Cells(&[]))
            .begin("serial@fe201000")
            .property("reg", Value::Cells(&[0xfe20_1000, 0x200]))
            .end()
            .end();
        for _ in 0..nops {
            tree.word(4);
        }
        if let Some(method) = psci {
            tree.begin("psci")
                .property("method", Value::Text(method))
                .end();
        }
        tree.begin("cpus")
            .property("#address-cells", Value::Cells(&[address_cells]))
            .property("#size-cells", Value::Cells(&[0]));
        for core in 0..cores {
            let name = std::format!("cpu@{core}");
            let reg: Vec<u32> = (0..address_cells)
                .map(|cell| if cell + 1 == address_cells { core } else { 0 })
                .collect();
            tree.begin(&name)
                .property("reg", Value::Cells(&reg))
                .property("enable-method", Value::Text(enable_method))
                .property("cpu-release-addr", Value::Cells(&[0, 0xd8 + 8 * core]));
            if core == 0 {
                tree.begin("l2-cache")
                    .property("reg", Value::Cells(&[9]))
                    .end();
            }
            tree.end();
        }
        tree.end().end().finish()
    }

    #[test]
    fn a_core_with_a_child_node_is_still_read() {
        let description = parse(&generated(Some("smc"), 2, 1, "psci", 0)).unwrap();
        assert_eq!(description.core_count(), 2);
        assert_eq!(
            description,
            dtoolkit_parse(&generated(Some("smc"), 2, 1, "psci", 0)).unwrap()
        );
    }

    #[test]
    fn the_raspberry_pi_trees_read_as_dtoolkit_reads_them() {
        for blob in [
            raspberry_pi(None, "spin-table"),
            raspberry_pi(Some("smc"), "psci"),
            raspberry_pi(Some("hvc"), "psci"),
            raspberry_pi(Some("smd"), "psci"),
            raspberry_pi(None, "brand-new"),
        ] {
            assert_eq!(parse(&blob), dtoolkit_parse(&blob));
        }
    }

    #[test]
    fn every_single_flip_agrees() {
        let blob = generated(Some("smc"), 2, 2, "spin-table", 0);
        for index in 0..blob.len() {
            for mask in [1u8, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0xff] {
                let mut corrupted = blob.clone();
                corrupted[index] ^= mask;
                if let Ok(reference) = dtoolkit_parse(&corrupted) {
                    assert_eq!(parse(&corrupted), Ok(reference), "byte {index} ^ {mask:#x}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Every generated tree, and every corruption of one that dtoolkit
        /// still reads, reads the same; nothing panics.
        #[test]
        fn reads_what_dtoolkit_reads(
            psci in proptest::option::of(proptest::sample::select(std::vec!["smc", "hvc", "sm", ""])),
            cores in 0u32..11,
            address_cells in 1u32..3,
            enable_method in proptest::sample::select(std::vec!["psci", "spin-table", "x"]),
            nops in 0usize..3,
            flips in proptest::collection::vec((proptest::num::usize::ANY, 1u8..=255), 0..3),
            cut in proptest::option::of(proptest::num::usize::ANY),
        ) {
            let mut blob = generated(psci, cores, address_cells, enable_method, nops);
            let intact = blob.clone();
            proptest::prop_assert_eq!(parse(&intact), dtoolkit_parse(&intact));
            for (index, mask) in flips {
                let length = blob.len();
                blob[index % length] ^= mask;
            }
            if let Some(cut) = cut {
                blob.truncate(cut % (blob.len() + 1));
            }
            let ours = parse(&blob);
            if let Ok(reference) = dtoolkit_parse(&blob) {
                proptest::prop_assert_eq!(ours, Ok(reference));
            }
        }
    }

    #[test]
    fn a_chip_table_stands_in_for_a_missing_tree() {
        let table = PlatformDescription::new(
            None,
            &[CoreDescription {
                mpidr: 0,
                enable_method: EnableMethod::Unspecified,
            }],
        );
        assert_eq!(table.core_count(), 1);
    }
}
