//! ELF to raw binary: the loadable segments laid out by physical address, gaps zero-filled.

use std::fs;
use std::path::Path;

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile64, ProgramHeader};
use object::Endianness;

use crate::arguments::ImageOptions;
use crate::build::{self, Board, KERNEL_LOAD_ADDRESS};
use crate::error::{Context, Error, Result};
use crate::workspace::Workspace;

/// Largest raw binary written: the size of QEMU virt's boot flash bank.
pub const MAXIMUM_BINARY_SIZE: u64 = 64 * 1024 * 1024;

/// The file bytes of one `PT_LOAD` segment and where they belong physically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_paddr`: the load address (for `.data`, its copy in flash).
    pub physical_address: u64,
    /// The `p_filesz` bytes of the segment; the zero-initialised rest is not stored.
    pub data: Vec<u8>,
}

/// Where the raw binary starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryStart {
    /// At the lowest physical address of any segment with file bytes.
    LowestAddress,
    /// At this physical address; no segment may lie below it.
    At(u64),
}

/// A raw binary and the physical address of its first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBinary {
    /// Physical address of `bytes[0]`.
    pub base: u64,
    /// The image.
    pub bytes: Vec<u8>,
}

/// The `PT_LOAD` segments of an ELF64 file that carry file bytes.
pub fn load_segments(elf: &[u8]) -> Result<Vec<LoadSegment>> {
    let file = ElfFile64::<Endianness>::parse(elf).context("not an ELF64 file")?;
    let endian = file.endian();
    let mut segments = Vec::new();
    for header in file.elf_program_headers() {
        if header.p_type(endian) != PT_LOAD || header.p_filesz(endian) == 0 {
            continue;
        }
        let data = header
            .data(endian, elf)
            .map_err(|_| Error::new("a PT_LOAD segment lies outside the file"))?;
        segments.push(LoadSegment {
            physical_address: header.p_paddr(endian),
            data: data.to_vec(),
        });
    }
    Ok(segments)
}

/// Lays the segments out by physical address, filling gaps with zeros.
pub fn flatten(segments: &[LoadSegment], start: BinaryStart) -> Result<RawBinary> {
    let lowest = segments
        .iter()
        .map(|segment| segment.physical_address)
        .min()
        .ok_or_else(|| Error::new("the ELF file has no loadable bytes"))?;
    let base = match start {
        BinaryStart::LowestAddress => lowest,
        BinaryStart::At(base) if lowest < base => {
            return Err(Error::new(format!(
                "a segment is loaded at {lowest:#x}, below the image start {base:#x}"
            )))
        }
        BinaryStart::At(base) => base,
    };
    let mut sorted: Vec<&LoadSegment> = segments.iter().collect();
    sorted.sort_by_key(|segment| segment.physical_address);
    let mut bytes = Vec::new();
    for segment in sorted {
        let offset = segment.physical_address - base;
        let end = offset + segment.data.len() as u64;
        if end > MAXIMUM_BINARY_SIZE {
            return Err(Error::new(format!(
                "a segment ends at {:#x}, which makes the binary larger than {} MiB",
                base + end,
                MAXIMUM_BINARY_SIZE / (1024 * 1024)
            )));
        }
        if offset < bytes.len() as u64 {
            return Err(Error::new(format!(
                "segments overlap at physical address {:#x}",
                segment.physical_address
            )));
        }
        bytes.resize(offset as usize, 0);
        bytes.extend_from_slice(&segment.data);
    }
    Ok(RawBinary { base, bytes })
}

/// Converts the ELF file at `elf` to a raw binary written to `binary`.
pub fn write_binary(elf: &Path, binary: &Path, start: BinaryStart) -> Result<RawBinary> {
    let contents = fs::read(elf).with_context(|| format!("cannot read {}", elf.display()))?;
    let raw = load_segments(&contents)
        .and_then(|segments| flatten(&segments, start))
        .map_err(|error| error.context(format!("cannot convert {}", elf.display())))?;
    fs::write(binary, &raw.bytes).with_context(|| format!("cannot write {}", binary.display()))?;
    Ok(raw)
}

/// `cargo xtask image`: builds the board and writes `target/qemu-virt-board.bin`,
/// or the Raspberry Pi 4's SD folder.
pub fn command(workspace: &Workspace, options: &ImageOptions) -> Result<()> {
    if options.board == Some(Board::RaspberryPi4b) {
        let folder = crate::raspberry_pi::sd_folder(workspace, &options.features)?;
        println!("{}", folder.display());
        return Ok(());
    }
    let features = &options.features;
    let elf = build::build_kernel(workspace, features)?;
    let binary = workspace
        .target_directory
        .join(format!("{}.bin", build::BOARD_PACKAGE));
    let raw = write_binary(&elf, &binary, BinaryStart::LowestAddress)?;
    if raw.base != KERNEL_LOAD_ADDRESS {
        eprintln!(
            "warning: the image starts at {:#x}, not at the expected {KERNEL_LOAD_ADDRESS:#x}",
            raw.base
        );
    }
    eprintln!(
        "raw image: {} bytes, load it at physical address {:#x}",
        raw.bytes.len(),
        raw.base
    );
    println!("{}", binary.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(physical_address: u64, data: &[u8]) -> LoadSegment {
        LoadSegment {
            physical_address,
            data: data.to_vec(),
        }
    }

    #[test]
    fn fills_gaps_with_zeros_from_the_lowest_address() {
        let segments = [segment(0x1004, &[5, 6]), segment(0x1000, &[1, 2])];
        let raw = flatten(&segments, BinaryStart::LowestAddress).unwrap();
        assert_eq!(raw.base, 0x1000);
        assert_eq!(raw.bytes, [1, 2, 0, 0, 5, 6]);
    }

    #[test]
    fn starts_at_a_fixed_address() {
        let raw = flatten(&[segment(3, &[9])], BinaryStart::At(0)).unwrap();
        assert_eq!(
            raw,
            RawBinary {
                base: 0,
                bytes: vec![0, 0, 0, 9]
            }
        );
    }

    #[test]
    fn rejects_segments_below_the_start_overlaps_and_nothing() {
        assert!(flatten(&[segment(3, &[9])], BinaryStart::At(4)).is_err());
        let overlapping = [segment(0, &[1, 2, 3]), segment(2, &[4])];
        assert!(flatten(&overlapping, BinaryStart::LowestAddress).is_err());
        assert!(flatten(&[], BinaryStart::LowestAddress).is_err());
    }

    #[test]
    fn rejects_images_larger_than_the_flash() {
        let far = [segment(0, &[1]), segment(MAXIMUM_BINARY_SIZE, &[2])];
        let error = flatten(&far, BinaryStart::LowestAddress).unwrap_err();
        assert!(error.to_string().contains("larger than 64 MiB"));
    }

    /// Program header fields of a test ELF: (type, offset, vaddr, paddr, filesz, memsz).
    type Header = (u32, u64, u64, u64, u64, u64);

    /// A little-endian AArch64 ELF64 executable with the given program headers and payload.
    fn elf_file(headers: &[Header], payload: &[u8]) -> Vec<u8> {
        let mut file = Vec::new();
        file.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        file.extend_from_slice(&[0; 8]);
        file.extend_from_slice(&2u16.to_le_bytes()); // e_type: EXEC
        file.extend_from_slice(&183u16.to_le_bytes()); // e_machine: AArch64
        file.extend_from_slice(&1u32.to_le_bytes()); // e_version
        file.extend_from_slice(&0u64.to_le_bytes()); // e_entry
        file.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        file.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        file.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        file.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        file.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
        file.extend_from_slice(&(headers.len() as u16).to_le_bytes()); // e_phnum
        file.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        file.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        file.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        for &(kind, offset, virtual_address, physical_address, file_size, memory_size) in headers {
            file.extend_from_slice(&kind.to_le_bytes());
            file.extend_from_slice(&5u32.to_le_bytes()); // p_flags
            for value in [
                offset,
                virtual_address,
                physical_address,
                file_size,
                memory_size,
                8,
            ] {
                file.extend_from_slice(&value.to_le_bytes());
            }
        }
        file.extend_from_slice(payload);
        file
    }

    #[test]
    fn converts_an_elf_by_physical_address() {
        // Text at flash 0x0; data runs at RAM 0x4000_0000 but is stored in
        // flash at 0x10; bss has no file bytes; a note segment is ignored.
        let payload_offset = 64 + 4 * 56;
        let headers = [
            (PT_LOAD, payload_offset, 0x0, 0x0, 4, 4),
            (PT_LOAD, payload_offset + 4, 0x4000_0000, 0x10, 2, 2),
            (PT_LOAD, payload_offset + 6, 0x4000_0100, 0x4000_0100, 0, 64),
            (object::elf::PT_NOTE, payload_offset, 0, 0, 4, 4),
        ];
        let elf = elf_file(&headers, &[1, 2, 3, 4, 0xaa, 0xbb]);
        let segments = load_segments(&elf).unwrap();
        assert_eq!(
            segments,
            [segment(0x0, &[1, 2, 3, 4]), segment(0x10, &[0xaa, 0xbb])]
        );
        let raw = flatten(&segments, BinaryStart::At(0)).unwrap();
        let mut expected = vec![1, 2, 3, 4];
        expected.resize(0x10, 0);
        expected.extend_from_slice(&[0xaa, 0xbb]);
        assert_eq!(raw.bytes, expected);
    }

    #[test]
    fn rejects_files_that_are_not_elf() {
        assert!(load_segments(b"MZ not an elf file").is_err());
    }
}
