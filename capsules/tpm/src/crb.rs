//! The CRB as the driver sees it: one locality's register page in the
//! chip's MMIO window, the checks of what the TPM put in it, and the
//! response read back.
//!
//! Nothing here trusts the other side: the interface ID must say CRB, the
//! command and response buffers the TPM names must lie inside the window
//! (in its physical address space, as firmware described it) and hold at
//! least a header, and a response's size field must fit its buffer.

use ffa_abi::tpm_service::crb;
use kernel::hil::mmio_window::MmioWindow;
use kernel::ErrorCode;

use crate::tpm2::HEADER_SIZE;

/// Where one locality's command and response buffers are, as window offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Buffers {
    /// Offset of the command buffer.
    pub command: usize,
    /// Its size.
    pub command_size: usize,
    /// Offset of the response buffer.
    pub response: usize,
    /// Its size.
    pub response_size: usize,
}

/// What is wrong with the CRB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CrbFault {
    /// The window does not hold this locality's page.
    NoPage,
    /// The interface ID does not say CRB (its InterfaceType field).
    NotCrb(u32),
    /// A buffer address or size that is not inside the window.
    BufferOutside {
        /// The physical address the TPM gave.
        address: u64,
        /// The size it gave.
        size: u32,
    },
    /// Command and response buffers overlap with different sizes (Linux refuses it too).
    OverlapMismatch,
    /// A response whose size field is below a header or beyond its buffer.
    ResponseSize(u32),
    /// The window refused an access.
    Access(ErrorCode),
}

impl From<ErrorCode> for CrbFault {
    fn from(error: ErrorCode) -> CrbFault {
        CrbFault::Access(error)
    }
}

/// One locality's page of the window.
#[derive(Clone, Copy)]
pub struct Page<'w> {
    window: &'w dyn MmioWindow,
    base: usize,
}

impl<'w> Page<'w> {
    /// Locality `locality`'s page, if the window holds it.
    pub fn of(window: &'w dyn MmioWindow, locality: u8) -> Result<Page<'w>, CrbFault> {
        let base = usize::from(locality) * crb::LOCALITY_STRIDE;
        if base + crb::LOCALITY_STRIDE > window.len() {
            return Err(CrbFault::NoPage);
        }
        Ok(Page { window, base })
    }

    /// The register at `offset`.
    pub fn read(&self, offset: usize) -> Result<u32, ErrorCode> {
        self.window.read_u32(self.base + offset)
    }

    /// Writes the register at `offset`.
    pub fn write(&self, offset: usize, value: u32) -> Result<(), ErrorCode> {
        self.window.write_u32(self.base + offset, value)
    }

    /// Whether this locality is the active one and the registers are valid.
    pub fn granted(&self, locality: u8) -> Result<bool, ErrorCode> {
        let state = self.read(crb::LOC_STATE)?;
        let status = self.read(crb::LOC_STS)?;
        let active = (state & crb::loc_state::ACTIVE_MASK) >> crb::loc_state::ACTIVE_SHIFT;
        Ok(state & crb::loc_state::VALID != 0
            && state & crb::loc_state::ASSIGNED != 0
            && active == u32::from(locality)
            && status & crb::loc_sts::GRANTED != 0)
    }

    /// Whether this locality is no longer the active one.
    pub fn released(&self, locality: u8) -> Result<bool, ErrorCode> {
        let state = self.read(crb::LOC_STATE)?;
        let active = (state & crb::loc_state::ACTIVE_MASK) >> crb::loc_state::ACTIVE_SHIFT;
        Ok(state & crb::loc_state::VALID != 0
            && (state & crb::loc_state::ASSIGNED == 0 || active != u32::from(locality)))
    }

    /// Checks the interface ID and the buffers the TPM names.
    pub fn buffers(&self) -> Result<Buffers, CrbFault> {
        let interface = self.read(crb::INTF_ID)?;
        if interface & crb::intf_id::TYPE_MASK != crb::intf_id::TYPE_CRB {
            return Err(CrbFault::NotCrb(interface));
        }
        let command_size = self.read(crb::CTRL_CMD_SIZE)?;
        let command_address = u64::from(self.read(crb::CTRL_CMD_PA_LOW)?)
            | u64::from(self.read(crb::CTRL_CMD_PA_HIGH)?) << 32;
        let response_size = self.read(crb::CTRL_RSP_SIZE)?;
        let response_address = u64::from(self.read(crb::CTRL_RSP_PA)?)
            | u64::from(self.read(crb::CTRL_RSP_PA + 4)?) << 32;
        let command = self.offset_of(command_address, command_size)?;
        let response = self.offset_of(response_address, response_size)?;
        let overlap = command < response + response_size as usize
            && response < command + command_size as usize;
        if overlap && (command != response || command_size != response_size) {
            return Err(CrbFault::OverlapMismatch);
        }
        Ok(Buffers {
            command,
            command_size: command_size as usize,
            response,
            response_size: response_size as usize,
        })
    }

    /// The window offset of `[address, address + size)`, if it lies in the
    /// window and holds a header.
    fn offset_of(&self, address: u64, size: u32) -> Result<usize, CrbFault> {
        let outside = CrbFault::BufferOutside { address, size };
        let base = self.window.physical_address();
        let offset = address.checked_sub(base).ok_or(outside)?;
        let end = offset.checked_add(u64::from(size)).ok_or(outside)?;
        if (size as usize) < HEADER_SIZE || end > self.window.len() as u64 {
            return Err(outside);
        }
        Ok(offset as usize)
    }

    /// Reads the response in `buffers` into `destination`; returns its length.
    pub fn read_response(
        &self,
        buffers: &Buffers,
        destination: &mut [u8],
    ) -> Result<usize, CrbFault> {
        let mut header = [0u8; HEADER_SIZE];
        self.window.read(buffers.response, &mut header)?;
        let size = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
        let length = size as usize;
        if length < HEADER_SIZE || length > buffers.response_size || length > destination.len() {
            return Err(CrbFault::ResponseSize(size));
        }
        self.window
            .read(buffers.response, &mut destination[..length])?;
        Ok(length)
    }
}
