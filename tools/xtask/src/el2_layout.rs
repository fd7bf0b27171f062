//! The EL2 image check: in a built kernel, every byte EL2 owns or executes
//! lies in the ranges the board's linker script gives EL2, and everything
//! the host may name as a buffer lies outside them.
//!
//! The EL2 runtime (`chips/armv8a/src/el2/runtime.rs`) reports
//! `__el2_text_start..__el2_text_end` and `__el2_data_start..__el2_data_end`
//! to the proxy, which refuses any host buffer overlapping them
//! (`capsules/ffa-proxy/src/memory.rs`). That rule protects EL2 only if the
//! link put EL2's code and state in those ranges: this module checks it on
//! the ELF, from its section headers and symbol table.
//!
//! The rules ([`problems`]):
//!
//! 1. The four symbols exist, each range is non-empty and 4 KiB aligned,
//!    and the two do not overlap.
//! 2. Every allocated section that is executable or read-only lies inside
//!    the text range (EL2 runs code it shares with the kernel, and reads
//!    its read-only data).
//! 3. Every writable allocated section lies entirely inside the data range
//!    (EL2's own) or entirely outside both ranges (the kernel's).
//! 4. EL2's objects lie in the data range: its stack (`armv8a_el2_stack_*`),
//!    the handler slot and the lock that serialises the cores in it, the
//!    flag that makes every core EL2 starts trap the host's SMCs
//!    (`el2::runtime::HANDLER`, `LOCK`, `TRAPPING_SMCS`), its logger state
//!    (`logger::EL2`; the kernel's is its own, and the lock both take is
//!    the kernel's), its translation tables (`el2::memory::EL2_TABLE`, the
//!    host's stage 2 `el2::memory::STAGE2`), the page-state table
//!    (`PAGE_STATES`), and in protected
//!    mode the proxy's state (a `protected_mode::...::SLOT` of the board).
//! 5. Objects the host names as its buffers (the board's `RX_BUFFER`,
//!    `TX_BUFFER`, the bad-host checks' `SCRATCH`) lie outside both ranges.

use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind};

use crate::error::{Context, Result};

/// The page the ranges must be aligned to.
const PAGE: u64 = 4096;

/// A section of the image, as the check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: u64,
    /// Its size in memory.
    pub size: u64,
    /// Whether it is writable.
    pub writable: bool,
    /// Whether it is executable.
    pub executable: bool,
}

/// A symbol of the image: its demangled name, address and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The demangled name, without the hash.
    pub name: String,
    /// Its address.
    pub address: u64,
    /// Its size (0 for labels and linker symbols).
    pub size: u64,
}

/// The allocated sections and the symbols of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    /// Allocated sections (those that take memory at run time).
    pub sections: Vec<Section>,
    /// Symbols with an address.
    pub symbols: Vec<Symbol>,
}

impl Image {
    /// Reads an ELF image.
    pub fn read(elf: &[u8]) -> Result<Image> {
        let file = object::File::parse(elf).context("not an object file")?;
        let mut image = Image::default();
        for section in file.sections() {
            let SectionFlags::Elf { sh_flags } = section.flags() else {
                continue;
            };
            if sh_flags & u64::from(object::elf::SHF_ALLOC) == 0 || section.size() == 0 {
                continue;
            }
            image.sections.push(Section {
                name: section.name().unwrap_or("?").to_string(),
                address: section.address(),
                size: section.size(),
                writable: sh_flags & u64::from(object::elf::SHF_WRITE) != 0,
                executable: sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0
                    || section.kind() == SectionKind::Text,
            });
        }
        for symbol in file.symbols() {
            let Ok(name) = symbol.name() else { continue };
            if name.is_empty() || name.starts_with('$') {
                continue;
            }
            image.symbols.push(Symbol {
                name: demangled(name),
                address: symbol.address(),
                size: symbol.size(),
            });
        }
        Ok(image)
    }

    fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|symbol| symbol.name == name)
    }

    /// Whether the image has the EL2 runtime (protected mode).
    pub fn has_el2_runtime(&self) -> bool {
        self.symbol("armv8a_el2_vectors").is_some()
    }
}

/// `name` demangled, without its hash, nor the `.0`-style suffix LLVM adds
/// to a static it split.
fn demangled(name: &str) -> String {
    let mut text = format!("{:#}", rustc_demangle::demangle(name));
    while let Some((head, tail)) = text.rsplit_once('.') {
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) && !head.is_empty() {
            text.truncate(head.len());
        } else {
            break;
        }
    }
    text
}

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u64,
    end: u64,
}

impl Range {
    fn of(address: u64, size: u64) -> Range {
        Range {
            start: address,
            end: address.saturating_add(size),
        }
    }

    fn contains(&self, other: &Range) -> bool {
        other.start >= self.start && other.end <= self.end
    }

    fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:#x}..{:#x}", self.start, self.end)
    }
}

/// The names of EL2's objects that must lie in its data range (rule 4):
/// exact symbol names, or suffixes of demangled paths.
const EL2_OBJECTS: &[&str] = &[
    "armv8a_el2_stack_bottom",
    "armv8a_el2_stack_top",
    "el2::runtime::HANDLER",
    "el2::runtime::LOCK",
    "el2::runtime::TRAPPING_SMCS",
    "logger::EL2",
    "el2::memory::EL2_TABLE",
    "el2::memory::STAGE2",
    "protected_mode::finalize::PAGE_STATES",
];

/// The host's buffers that must lie outside EL2's ranges (rule 5).
const HOST_BUFFERS: &[&str] = &["::RX_BUFFER", "::TX_BUFFER", "::SCRATCH"];

/// Whether `symbol` (demangled, hash removed) is `pattern` or ends in `::pattern`.
fn names(symbol: &Symbol, pattern: &str) -> bool {
    let name = symbol.name.as_str();
    name == pattern
        || name.ends_with(pattern) && name[..name.len() - pattern.len()].ends_with("::")
        || (pattern.starts_with("::") && name.ends_with(pattern))
}

/// What is wrong with `image`'s EL2 layout, one sentence per problem;
/// empty if it holds. `protected` says whether the proxy's state must be
/// there too (a protected-mode image, with the EL2 runtime).
pub fn problems(image: &Image, protected: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let bound = |name: &str| image.symbol(name).map(|symbol| symbol.address);
    let range = |start: &str, end: &str| match (bound(start), bound(end)) {
        (Some(start), Some(end)) => Some(Range { start, end }),
        _ => None,
    };
    let (Some(text), Some(data)) = (
        range("__el2_text_start", "__el2_text_end"),
        range("__el2_data_start", "__el2_data_end"),
    ) else {
        return vec![
            "the image does not define __el2_text_start/_end and __el2_data_start/_end".to_string(),
        ];
    };
    for (name, range) in [("text", text), ("data", data)] {
        if range.start >= range.end {
            problems.push(format!("the EL2 {name} range {range} is empty"));
        }
        if range.start % PAGE != 0 || range.end % PAGE != 0 {
            problems.push(format!("the EL2 {name} range {range} is not 4 KiB aligned"));
        }
    }
    if text.overlaps(&data) {
        problems.push(format!("the EL2 ranges {text} and {data} overlap"));
    }
    for section in &image.sections {
        let extent = Range::of(section.address, section.size);
        if section.executable || !section.writable {
            if !text.contains(&extent) {
                problems.push(format!(
                    "{} ({extent}) is code or read-only data outside EL2's text range {text}",
                    section.name
                ));
            }
        } else if !data.contains(&extent) && (data.overlaps(&extent) || text.overlaps(&extent)) {
            problems.push(format!(
                "{} ({extent}) straddles EL2's ranges ({text}, {data})",
                section.name
            ));
        }
    }
    for pattern in EL2_OBJECTS {
        let found: Vec<&Symbol> = image
            .symbols
            .iter()
            .filter(|symbol| names(symbol, pattern))
            .collect();
        if found.is_empty() {
            problems.push(format!("EL2's {pattern} is not in the image"));
        }
        for symbol in found {
            let extent = Range::of(symbol.address, symbol.size);
            // The stack's end label is the first byte after it.
            let inside = if symbol.size == 0 {
                symbol.address >= data.start && symbol.address <= data.end
            } else {
                data.contains(&extent)
            };
            if !inside {
                problems.push(format!(
                    "EL2's {} ({extent}) is outside its data range {data}",
                    symbol.name
                ));
            }
        }
    }
    if protected
        && !image.symbols.iter().any(|symbol| {
            symbol.name.contains("protected_mode")
                && symbol.name.ends_with("::SLOT")
                && data.contains(&Range::of(symbol.address, symbol.size.max(1)))
        })
    {
        problems.push(format!(
            "the proxy's state (the board's protected_mode SLOT) is not in EL2's data range {data}"
        ));
    }
    for symbol in &image.symbols {
        if HOST_BUFFERS.iter().any(|pattern| names(symbol, pattern)) {
            let extent = Range::of(symbol.address, symbol.size);
            if text.overlaps(&extent) || data.overlaps(&extent) {
                problems.push(format!(
                    "the host's {} ({extent}) overlaps EL2's ranges ({text}, {data})",
                    symbol.name
                ));
            }
        }
    }
    problems
}

/// Reads the ELF at `path` and checks its EL2 layout, if it has the EL2
/// runtime (protected mode; in direct mode EL2 keeps only a stub of a few
/// instructions and the host is not contained).
pub fn check_file(path: &std::path::Path) -> Result<Vec<String>> {
    let elf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let image = Image::read(&elf)?;
    if !image.has_el2_runtime() {
        return Ok(Vec::new());
    }
    Ok(problems(&image, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn section(name: &str, address: u64, size: u64, writable: bool, executable: bool) -> Section {
        Section {
            name: name.to_string(),
            address,
            size,
            writable,
            executable,
        }
    }

    fn symbol(name: &str, address: u64, size: u64) -> Symbol {
        Symbol {
            name: name.to_string(),
            address,
            size,
        }
    }

    /// An image laid out as `boards/qemu-virt/link.x` does, from `base`:
    /// text pages, EL2 data pages, then the kernel's BSS with the buffers.
    fn image(base: u64, text_pages: u64, data_pages: u64) -> Image {
        let text_end = base + text_pages * PAGE;
        let data_end = text_end + data_pages * PAGE;
        Image {
            sections: vec![
                section(".text", base, text_pages * PAGE - 0x800, false, true),
                section(".rodata", text_end - 0x800, 0x700, false, false),
                section(".el2_data", text_end, 0x10, true, false),
                section(
                    ".el2_bss",
                    text_end + 0x10,
                    data_pages * PAGE - 0x20,
                    true,
                    false,
                ),
                section(".bss", data_end, 0x3_0000, true, false),
            ],
            symbols: vec![
                symbol("__el2_text_start", base, 0),
                symbol("__el2_text_end", text_end, 0),
                symbol("__el2_data_start", text_end, 0),
                symbol("__el2_data_end", data_end, 0),
                symbol("armv8a_el2_vectors", base + 0x800, 0),
                symbol("armv8a_el2_stack_bottom", text_end + 0x10, 0),
                symbol("armv8a_el2_stack_top", text_end + 0x4010, 0),
                symbol("armv8a::el2::runtime::HANDLER", text_end + 0x4020, 8),
                symbol("pl011::logger::EL2", text_end, 16),
                symbol("armv8a::el2::memory::EL2_TABLE", text_end + 0x4040, 8),
                symbol("armv8a::el2::memory::STAGE2", text_end + 0x4048, 8),
                symbol(
                    "qemu_virt_board::protected_mode::finalize::PAGE_STATES",
                    text_end + 0x4050,
                    8,
                ),
                symbol(
                    "qemu_virt_board::protected_mode::finalize::SLOT",
                    text_end + 0x4030,
                    184,
                ),
                symbol("armv8a::el2::runtime::LOCK", text_end + 0x4100, 40),
                symbol("armv8a::el2::runtime::TRAPPING_SMCS", text_end + 0x4130, 1),
                symbol("qemu_virt_board::RX_BUFFER", data_end, 0x1_0000),
                symbol("qemu_virt_board::TX_BUFFER", data_end + 0x1_0000, 0x1_0000),
            ],
        }
    }

    #[test]
    fn names_lose_their_hash_and_split_suffix() {
        assert_eq!(
            demangled("_ZN6armv8a3el27runtime7HANDLER17hfc231fad524e34dfE.0"),
            "armv8a::el2::runtime::HANDLER"
        );
        assert_eq!(demangled("armv8a_el2_stack_top"), "armv8a_el2_stack_top");
    }

    #[test]
    fn a_layout_as_the_linker_script_makes_it_holds() {
        assert_eq!(
            problems(&image(0x6000_0000, 17, 6), true),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_rule_finds_its_breach() {
        let good = image(0x6000_0000, 17, 6);
        let breach = |change: &dyn Fn(&mut Image)| {
            let mut image = good.clone();
            change(&mut image);
            problems(&image, true)
        };
        // The proxy's state among the kernel's data.
        let problems = breach(&|image| image.symbols[12].address = 0x6002_0000);
        assert!(
            problems.iter().any(|p| p.contains("proxy's state")),
            "{problems:?}"
        );
        // The host's RX buffer in EL2's data.
        let problems = breach(&|image| image.symbols[15].address = 0x6001_2000);
        assert!(
            problems.iter().any(|p| p.contains("RX_BUFFER")),
            "{problems:?}"
        );
        // Code past the text range.
        let problems = breach(&|image| image.sections[0].size = 18 * PAGE);
        assert!(problems.iter().any(|p| p.contains(".text")), "{problems:?}");
        // The logger state in the kernel's data.
        let problems = breach(&|image| image.symbols[8].address = 0x6002_0100);
        assert!(
            problems.iter().any(|p| p.contains("logger::EL2")),
            "{problems:?}"
        );
        // The flag that makes new cores trap SMCs among the kernel's data.
        let problems = breach(&|image| image.symbols[14].address = 0x6002_0200);
        assert!(
            problems.iter().any(|p| p.contains("TRAPPING_SMCS")),
            "{problems:?}"
        );
        // No range symbols at all.
        let problems = breach(&|image| image.symbols.retain(|s| !s.name.starts_with("__el2")));
        assert_eq!(problems.len(), 1);
        // A misaligned end.
        let problems = breach(&|image| image.symbols[1].address += 8);
        assert!(
            problems.iter().any(|p| p.contains("aligned")),
            "{problems:?}"
        );
    }

    proptest! {
        /// Any layout the linker script can produce passes; moving any EL2
        /// object out of EL2's data, or any host buffer into EL2's ranges,
        /// is found.
        #[test]
        fn the_check_holds_exactly_when_the_layout_does(
            base_page in 0x4_0000u64..0x8_0000,
            text_pages in 2u64..64,
            data_pages in 6u64..16,
            moved in 0usize..17,
            to_page in 0u64..128,
        ) {
            let good = image(base_page * PAGE, text_pages, data_pages);
            prop_assert_eq!(problems(&good, true), Vec::<String>::new());
            let mut moved_image = good.clone();
            let old = moved_image.symbols[moved].address;
            moved_image.symbols[moved].address = base_page * PAGE + to_page * PAGE;
            let symbol = moved_image.symbols[moved].clone();
            let new = Range::of(symbol.address, symbol.size.max(1));
            let text = Range { start: base_page * PAGE, end: (base_page + text_pages) * PAGE };
            let data = Range { start: text.end, end: text.end + data_pages * PAGE };
            let el2_object = (5..15).contains(&moved);
            let host_buffer = moved >= 15;
            let broken = (el2_object && !data.contains(&new) && !(symbol.size == 0 && symbol.address == data.end))
                || (host_buffer && (text.overlaps(&new) || data.overlaps(&new)));
            let found = !problems(&moved_image, true).is_empty();
            if moved >= 5 && old != symbol.address {
                prop_assert_eq!(found, broken, "moved {} to {:#x}", symbol.name, symbol.address);
            }
        }
    }
}
