//! `cargo xtask size`: section sizes per image and per crate, and the kernel's size budget.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use object::{
    Object, ObjectSection, ObjectSymbol, SectionFlags, SectionIndex, SectionKind, SymbolKind,
};

use crate::build::{self, Board};
use crate::error::{Context, Result};
use crate::workspace::Workspace;

/// Budget for the kernel's `.text` + `.rodata`, in bytes (reported, not enforced).
pub const KERNEL_CODE_BUDGET: u64 = 96 * 1024;

/// Name of the bucket for symbols whose names are not mangled Rust paths
/// (`#[no_mangle]` functions, assembly, C names from compiler-builtins).
const NON_RUST: &str = "[unmangled symbols]";

/// Which of the four reported sections a section's bytes count towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionClass {
    /// Executable code.
    Text,
    /// Read-only data.
    Rodata,
    /// Initialised writable data.
    Data,
    /// Zero-initialised writable data (including stacks reserved in RAM).
    Bss,
}

/// Byte counts of the four section classes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SectionSizes {
    /// `.text`.
    pub text: u64,
    /// `.rodata`.
    pub rodata: u64,
    /// `.data`.
    pub data: u64,
    /// `.bss`.
    pub bss: u64,
}

impl SectionSizes {
    fn add(&mut self, class: SectionClass, size: u64) {
        match class {
            SectionClass::Text => self.text += size,
            SectionClass::Rodata => self.rodata += size,
            SectionClass::Data => self.data += size,
            SectionClass::Bss => self.bss += size,
        }
    }

    /// Flash footprint of code: `.text` + `.rodata`.
    pub fn code(&self) -> u64 {
        self.text + self.rodata
    }
}

/// The class of an allocated section from its kind; `None` for sections not loaded.
pub fn classify(kind: SectionKind, allocated: bool) -> Option<SectionClass> {
    if !allocated {
        return None;
    }
    match kind {
        SectionKind::Text => Some(SectionClass::Text),
        SectionKind::ReadOnlyData
        | SectionKind::ReadOnlyString
        | SectionKind::ReadOnlyDataWithRel => Some(SectionClass::Rodata),
        SectionKind::Data | SectionKind::Tls => Some(SectionClass::Data),
        SectionKind::UninitializedData | SectionKind::UninitializedTls | SectionKind::Common => {
            Some(SectionClass::Bss)
        }
        _ => None,
    }
}

/// The sizes of one image: totals and per crate.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImageSizes {
    /// Sum over the image's sections.
    pub total: SectionSizes,
    /// Sum of symbol sizes per crate (plus buckets for the rest).
    pub per_crate: BTreeMap<String, SectionSizes>,
    /// Bytes from the first loaded section's start to the last one's end
    /// (`.text`, `.rodata`, `.data`: what a raw image holds).
    pub loaded_span: u64,
    /// Bytes of that span between sections: alignment (EL2's page-aligned
    /// ranges), in the raw image but neither code nor data.
    pub alignment_gaps: u64,
}

/// A section counted in the report.
struct CountedSection {
    name: String,
    class: SectionClass,
    size: u64,
    /// Bytes covered by symbols.
    attributed: u64,
}

/// Measures an ELF image.
pub fn measure(elf: &[u8]) -> Result<ImageSizes> {
    let file = object::File::parse(elf).context("not an object file")?;
    let mut sections: HashMap<SectionIndex, CountedSection> = HashMap::new();
    let mut sizes = ImageSizes::default();
    for section in file.sections() {
        let allocated = match section.flags() {
            SectionFlags::Elf { sh_flags } => sh_flags & u64::from(object::elf::SHF_ALLOC) != 0,
            _ => true,
        };
        if let Some(class) = classify(section.kind(), allocated) {
            sizes.total.add(class, section.size());
            let counted = CountedSection {
                name: section.name().unwrap_or("?").to_string(),
                class,
                size: section.size(),
                attributed: 0,
            };
            sections.insert(section.index(), counted);
        }
    }
    let mut loaded: Vec<(u64, u64)> = file
        .sections()
        .filter(|section| {
            matches!(
                sections.get(&section.index()).map(|counted| counted.class),
                Some(SectionClass::Text | SectionClass::Rodata | SectionClass::Data)
            ) && section.size() > 0
        })
        .map(|section| (section.address(), section.size()))
        .collect();
    loaded.sort_unstable();
    (sizes.loaded_span, sizes.alignment_gaps) = span_and_gaps(&loaded);
    let mut seen = HashSet::new();
    for symbol in file.symbols() {
        if symbol.size() == 0 || !matches!(symbol.kind(), SymbolKind::Text | SymbolKind::Data) {
            continue;
        }
        let Some(section) = symbol
            .section_index()
            .and_then(|index| sections.get_mut(&index))
        else {
            continue;
        };
        // Aliases (several names for the same bytes) count once.
        if !seen.insert((symbol.section_index(), symbol.address())) {
            continue;
        }
        let name = symbol.name().unwrap_or("");
        let owner = crate_of_symbol(name).unwrap_or_else(|| NON_RUST.to_string());
        sizes
            .per_crate
            .entry(owner)
            .or_default()
            .add(section.class, symbol.size());
        section.attributed += symbol.size();
    }
    // Bytes no symbol covers (padding, merged strings, unwind tables, stacks),
    // named after their section.
    for section in sections.values() {
        let rest = section.size.saturating_sub(section.attributed);
        if rest > 0 {
            sizes
                .per_crate
                .entry(format!("[{} without symbols]", section.name))
                .or_default()
                .add(section.class, rest);
        }
    }
    Ok(sizes)
}

/// The span of `sections` (address, size; sorted by address) and the bytes
/// between them.
pub fn span_and_gaps(sections: &[(u64, u64)]) -> (u64, u64) {
    let (Some(first), Some(_)) = (sections.first(), sections.last()) else {
        return (0, 0);
    };
    let mut end = first.0;
    let mut gaps = 0;
    for &(address, size) in sections {
        gaps += address.saturating_sub(end);
        end = end.max(address + size);
    }
    (end - first.0, gaps)
}

/// The crate a (mangled) symbol belongs to, taken from its demangled path.
pub fn crate_of_symbol(name: &str) -> Option<String> {
    let demangled = rustc_demangle::try_demangle(name).ok()?;
    crate_of_path(&format!("{demangled:#}"))
}

/// The first path segment of a demangled Rust path; for `<T as Trait>::f`
/// the crate of `T`, or of `Trait` when `T` is a primitive type.
pub fn crate_of_path(path: &str) -> Option<String> {
    let mut rest = path.trim_start();
    loop {
        let before = rest;
        for prefix in ["<", "&", "*", "[", "(", "mut ", "const ", "dyn ", "impl "] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest).trim_start();
        }
        if rest == before {
            break;
        }
    }
    let length = rest
        .find(|character: char| !(character.is_alphanumeric() || character == '_'))
        .unwrap_or(rest.len());
    if length > 0 && rest[length..].starts_with("::") {
        return Some(rest[..length].to_string());
    }
    let (_, trait_path) = path.split_once(" as ")?;
    crate_of_path(trait_path)
}

/// The report line on the kernel's `.text` + `.rodata` against [`KERNEL_CODE_BUDGET`].
pub fn budget_line(code: u64) -> String {
    let kibibytes = |bytes: u64| bytes as f64 / 1024.0;
    let verdict = if code <= KERNEL_CODE_BUDGET {
        format!(
            "within budget, {:.1} KiB left",
            kibibytes(KERNEL_CODE_BUDGET - code)
        )
    } else {
        format!(
            "OVER budget by {:.1} KiB",
            kibibytes(code - KERNEL_CODE_BUDGET)
        )
    };
    format!(
        "kernel .text+.rodata: {code} bytes ({:.1} KiB) of a {} KiB budget: {verdict}",
        kibibytes(code),
        KERNEL_CODE_BUDGET / 1024
    )
}

/// A table with one row per name.
fn table<'a>(title: &str, rows: impl IntoIterator<Item = (&'a str, SectionSizes)>) -> String {
    let mut text = format!(
        "{title:<32} {:>9} {:>9} {:>9} {:>9}\n",
        ".text", ".rodata", ".data", ".bss"
    );
    for (name, sizes) in rows {
        let _ = writeln!(
            text,
            "{name:<32} {:>9} {:>9} {:>9} {:>9}",
            sizes.text, sizes.rodata, sizes.data, sizes.bss
        );
    }
    text
}

/// Per-crate rows, largest `.text`+`.rodata` first.
fn crate_rows(sizes: &ImageSizes) -> Vec<(&str, SectionSizes)> {
    let mut rows: Vec<(&str, SectionSizes)> = sizes
        .per_crate
        .iter()
        .map(|(name, sizes)| (name.as_str(), *sizes))
        .collect();
    rows.sort_by(|left, right| {
        (right.1.code(), right.1.data + right.1.bss)
            .cmp(&(left.1.code(), left.1.data + left.1.bss))
            .then(left.0.cmp(right.0))
    });
    rows
}

fn measure_file(path: &Path) -> Result<ImageSizes> {
    let elf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    measure(&elf).map_err(|error| error.context(path.display()))
}

/// The `virt` board's product image: its default features but the drivers
/// of the test partitions (`test-partition-drivers`), which only the
/// model's and `tools/test-partition`'s partitions answer.
const VIRT_PRODUCT_FEATURES: &[&str] = &["console"];

/// Builds every board's kernel (as `cargo build` does, and `virt` also as
/// a product, without the test-partition drivers) and the test firmware,
/// and prints the report.
pub fn command(workspace: &Workspace) -> Result<()> {
    let mut images = Vec::new();
    let mut budgets = Vec::new();
    // The product build first: the default build after it leaves the
    // default image in place for whatever runs next.
    let product =
        build::build_board_without_defaults(workspace, Board::QemuVirt, VIRT_PRODUCT_FEATURES)?;
    let product_name = format!(
        "{} without the test-partition drivers",
        Board::QemuVirt.name()
    );
    let product_sizes = measure_file(&product)?;
    for board in Board::ALL {
        let elf = build::build_board(workspace, board, &[] as &[&str])?;
        let sizes = measure_file(&elf)?;
        budgets.push((board.name().to_string(), sizes.clone()));
        images.push((format!("kernel ({})", board.name()), sizes));
    }
    budgets.push((product_name.clone(), product_sizes.clone()));
    images.push((format!("kernel ({product_name})"), product_sizes));
    let (firmware_elf, _) = build::build_firmware(workspace)?;
    images.push(("test firmware".to_string(), measure_file(&firmware_elf)?));
    println!();
    print!(
        "{}",
        table(
            "image (bytes)",
            images
                .iter()
                .map(|(name, sizes)| (name.as_str(), sizes.total))
        )
    );
    for (name, sizes) in &images {
        println!();
        print!(
            "{}",
            table(&format!("{name}, per crate"), crate_rows(sizes))
        );
    }
    println!();
    // The kernels' raw images (the test firmware's flash and RAM are apart).
    for (name, sizes) in images.iter().take(budgets.len()) {
        println!(
            "{name}: raw image {} bytes, of which {} alignment gaps between sections (EL2's page-aligned ranges; not counted as .text or .rodata)",
            sizes.loaded_span, sizes.alignment_gaps
        );
    }
    println!();
    for (name, sizes) in &budgets {
        println!("{name}: {}", budget_line(sizes.total.code()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_of_demangled_paths() {
        assert_eq!(
            crate_of_path("kernel::init_queue::InitQueue::run").as_deref(),
            Some("kernel")
        );
        assert_eq!(
            crate_of_path("<capsule_ffa::Client as kernel::Deferred>::handle").as_deref(),
            Some("capsule_ffa")
        );
        assert_eq!(
            crate_of_path("<&mut [u8] as core::fmt::Debug>::fmt").as_deref(),
            Some("core")
        );
        assert_eq!(
            crate_of_path("<qemu_virt::Uart<'_>>::write::{closure#0}").as_deref(),
            Some("qemu_virt")
        );
        assert_eq!(crate_of_path("memcpy"), None);
    }

    #[test]
    fn crates_of_mangled_symbols() {
        // Legacy mangling of kernel::init_queue::run.
        assert_eq!(
            crate_of_symbol("_ZN6kernel10init_queue3run17h0123456789abcdefE").as_deref(),
            Some("kernel")
        );
        // v0 mangling of armv8a::boot.
        assert_eq!(
            crate_of_symbol("_RNvCs1234_6armv8a4boot").as_deref(),
            Some("armv8a")
        );
        assert_eq!(crate_of_symbol("_start"), None);
    }

    #[test]
    fn only_allocated_sections_count() {
        assert_eq!(classify(SectionKind::Text, true), Some(SectionClass::Text));
        assert_eq!(
            classify(SectionKind::ReadOnlyString, true),
            Some(SectionClass::Rodata)
        );
        assert_eq!(
            classify(SectionKind::UninitializedData, true),
            Some(SectionClass::Bss)
        );
        assert_eq!(classify(SectionKind::Other, true), None);
        assert_eq!(classify(SectionKind::Text, false), None);
    }

    #[test]
    fn gaps_between_sections_are_counted_apart() {
        assert_eq!(span_and_gaps(&[]), (0, 0));
        assert_eq!(
            span_and_gaps(&[(0x1000, 0x100), (0x1100, 0x80), (0x2000, 0x10)]),
            (0x1010, 0xe80)
        );
    }

    #[test]
    fn budget_line_says_within_or_over() {
        assert!(budget_line(1024).contains("within budget, 95.0 KiB left"));
        assert!(budget_line(97 * 1024).contains("OVER budget by 1.0 KiB"));
    }

    #[test]
    fn measures_this_test_binary() {
        // The host test executable is an ELF with Rust symbols of this crate.
        let executable = std::env::current_exe().unwrap();
        let sizes = measure_file(&executable).unwrap();
        assert!(sizes.total.text > 0);
        assert!(
            sizes.per_crate.contains_key("xtask"),
            "{:?}",
            sizes.per_crate.keys()
        );
        let attributed_text: u64 = sizes.per_crate.values().map(|sizes| sizes.text).sum();
        assert!(attributed_text >= sizes.total.text);
    }
}
