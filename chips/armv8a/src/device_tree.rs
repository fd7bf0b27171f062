//! What the kernel learns from the device tree the firmware hands over:
//! whether a PSCI firmware is there (and through which conduit), and how
//! each core is started (PSCI `CPU_ON`, or a spin table's release address).
//!
//! Parsing uses the `dtoolkit` crate, which validates the whole blob before
//! anything is read from it (so malformed input is an error, never a
//! panic) and skips the `FDT_NOP` tokens that firmware and QEMU leave when
//! they edit a tree; a blob that is absent, malformed or describes more
//! cores than [`MAXIMUM_CORES`] is a [`DeviceTreeError`], and the chip falls
//! back to its own table.
//!
//! ```ignore
//! // SAFETY: the firmware put a device tree (or nothing) at `address`.
//! let platform = unsafe { device_tree::blob_at(boot.device_tree_address) }
//!     .ok_or(DeviceTreeError::Missing)
//!     .and_then(device_tree::parse);
//! ```

use dtoolkit::fdt::Fdt;
use dtoolkit::{Node, Property, ToCellInt};

/// Most cores the kernel describes (and gives stacks to).
pub const MAXIMUM_CORES: usize = 8;

/// The magic number at the start of a flattened device tree (big-endian).
const FDT_MAGIC: u32 = 0xd00d_feed;
/// Largest device tree the kernel reads.
const MAXIMUM_SIZE: usize = 1 << 20;

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

/// Reads the PSCI conduit and the cores out of a device tree blob.
pub fn parse(blob: &[u8]) -> Result<PlatformDescription, DeviceTreeError> {
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
