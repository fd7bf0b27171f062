//! Simulated normal-world memory: regions of bytes at physical addresses,
//! shared by the model, the capsule under test and a simulated EL2.
//!
//! ```
//! use kernel::hil::shared_memory::SharedBuffer;
//! use testbed::memory::Memory;
//!
//! let memory = Memory::new();
//! let page = memory.page(0x4010_0000, 4096);
//! page.write(8, &[1, 2, 3]).unwrap();
//! assert_eq!(memory.read(0x4010_0008, 3), [1, 2, 3]);
//! assert!(page.write(4095, &[1, 2]).is_err());
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use ffa_model::{MemoryError, NormalWorldMemory};
use kernel::hil::mmio_window::MmioWindow;
use kernel::hil::page_pool::{PageMemory, PAGE_SIZE};
use kernel::hil::shared_memory::SharedBuffer;
use kernel::ErrorCode;

/// Regions of simulated physical memory.
#[derive(Default)]
pub struct Regions {
    regions: Vec<(u64, Vec<u8>)>,
}

impl Regions {
    /// The region and offset holding `[address, address + length)`, if one does.
    fn locate(&self, address: u64, length: usize) -> Option<(usize, usize)> {
        self.regions
            .iter()
            .enumerate()
            .find_map(|(index, (base, bytes))| {
                let offset = usize::try_from(address.checked_sub(*base)?).ok()?;
                (offset.checked_add(length)? <= bytes.len()).then_some((index, offset))
            })
    }

    /// The bytes of `[address, address + length)`, which must lie in one region.
    fn bytes(&mut self, address: u64, length: usize) -> Option<&mut [u8]> {
        let (index, offset) = self.locate(address, length)?;
        Some(&mut self.regions[index].1[offset..offset + length])
    }
}

impl NormalWorldMemory for Regions {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
        let (index, offset) = self.locate(address, destination.len()).ok_or(MemoryError)?;
        destination.copy_from_slice(&self.regions[index].1[offset..offset + destination.len()]);
        Ok(())
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError> {
        self.bytes(address, source.len())
            .ok_or(MemoryError)?
            .copy_from_slice(source);
        Ok(())
    }
}

/// Simulated memory, shared by everything that accesses it.
#[derive(Clone, Default)]
pub struct Memory(Rc<RefCell<Regions>>);

impl Memory {
    /// Memory with no region yet.
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Adds `size` bytes at `base`, filled with `0xEE` (so that untouched
    /// bytes stand out).
    pub fn add_region(&self, base: u64, size: usize) {
        self.0.borrow_mut().regions.push((base, vec![0xEE; size]));
    }

    /// A region of `size` bytes at `base`, as a capsule's shared buffer.
    pub fn page(&self, base: u64, size: usize) -> SharedPage {
        self.add_region(base, size);
        SharedPage {
            memory: self.clone(),
            base,
            length: size,
        }
    }

    /// `pages` 4 KiB pages at `base` (4 KiB aligned), as the chip's page
    /// pool memory the kernel lends from.
    pub fn pool_pages(&self, base: u64, pages: usize) -> PoolPages {
        self.add_region(base, pages * PAGE_SIZE);
        PoolPages {
            page: SharedPage {
                memory: self.clone(),
                base,
                length: pages * PAGE_SIZE,
            },
        }
    }

    /// Overwrites `bytes.len()` bytes at `address` (panics if they are not backed).
    pub fn write(&self, address: u64, bytes: &[u8]) {
        NormalWorldMemory::write(&mut *self.0.borrow_mut(), address, bytes)
            .expect("unbacked write");
    }

    /// `length` bytes at `address` (panics if they are not backed).
    pub fn read(&self, address: u64, length: usize) -> Vec<u8> {
        let mut bytes = vec![0; length];
        NormalWorldMemory::read(&*self.0.borrow(), address, &mut bytes).expect("unbacked read");
        bytes
    }

    /// Copies `length` bytes from `source` to `destination` (as EL2 does).
    pub fn copy(&self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode> {
        let bytes = self.try_read(source, length).ok_or(ErrorCode::INVAL)?;
        let mut regions = self.0.borrow_mut();
        regions
            .bytes(destination, length)
            .ok_or(ErrorCode::INVAL)?
            .copy_from_slice(&bytes);
        Ok(())
    }

    /// `length` bytes at `address`, or `None` if they are not backed.
    pub fn try_read(&self, address: u64, length: usize) -> Option<Vec<u8>> {
        let mut bytes = vec![0; length];
        NormalWorldMemory::read(&*self.0.borrow(), address, &mut bytes).ok()?;
        Some(bytes)
    }

    /// Runs `access` on the regions, as the model's `NormalWorldMemory`.
    pub fn with<R>(&self, access: impl FnOnce(&mut dyn NormalWorldMemory) -> R) -> R {
        access(&mut *self.0.borrow_mut())
    }
}

/// One buffer of simulated memory, as a capsule sees it.
pub struct SharedPage {
    memory: Memory,
    base: u64,
    length: usize,
}

impl SharedPage {
    /// The physical range `[offset, offset + length)` of this page, if it fits.
    fn range(&self, offset: usize, length: usize) -> Result<u64, ErrorCode> {
        match offset.checked_add(length) {
            Some(end) if end <= self.length => Ok(self.base + offset as u64),
            _ => Err(ErrorCode::SIZE),
        }
    }
}

impl SharedBuffer for SharedPage {
    fn physical_address(&self) -> u64 {
        self.base
    }

    fn len(&self) -> usize {
        self.length
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let address = self.range(offset, destination.len())?;
        self.memory
            .with(|memory| memory.read(address, destination))
            .map_err(|_| ErrorCode::FAIL)
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        let address = self.range(offset, source.len())?;
        self.memory
            .with(|memory| memory.write(address, source))
            .map_err(|_| ErrorCode::FAIL)
    }
}

/// The same buffer as a device's MMIO window (a TPM's CRB): 32-bit
/// little-endian registers at aligned offsets, and byte copies.
impl MmioWindow for SharedPage {
    fn physical_address(&self) -> u64 {
        self.base
    }

    fn len(&self) -> usize {
        self.length
    }

    fn read_u32(&self, offset: usize) -> Result<u32, ErrorCode> {
        if !offset.is_multiple_of(4) {
            return Err(ErrorCode::INVAL);
        }
        let mut bytes = [0u8; 4];
        SharedBuffer::read(self, offset, &mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn write_u32(&self, offset: usize, value: u32) -> Result<(), ErrorCode> {
        if !offset.is_multiple_of(4) {
            return Err(ErrorCode::INVAL);
        }
        SharedBuffer::write(self, offset, &value.to_le_bytes())
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        SharedBuffer::read(self, offset, destination)
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        SharedBuffer::write(self, offset, source)
    }

    fn fence(&self) {}
}

/// Pages of simulated memory, as the chip's page pool memory.
pub struct PoolPages {
    page: SharedPage,
}

impl PageMemory for PoolPages {
    fn physical_address(&self) -> u64 {
        self.page.base
    }

    fn page_count(&self) -> usize {
        self.page.length / PAGE_SIZE
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        SharedBuffer::read(&self.page, offset, destination)
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        SharedBuffer::write(&self.page, offset, source)
    }
}
