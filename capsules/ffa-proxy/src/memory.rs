//! Memory as the proxy sees it: its own mailbox, the host's memory, and
//! what the host may name as a buffer.
//!
//! The proxy never dereferences an address itself. It checks, with
//! [`ProxyLayout`], that every range the host names (its RX/TX buffers, and
//! later the memory of its transactions) lies in host memory and outside
//! everything EL2 owns or executes: the proxy's carve-out with its mailbox,
//! and every range of EL2's image ([`El2Memory`]: vectors, code, read-only
//! data, data, BSS, stack and the logger state, from the board's linker
//! script, as the EL2 runtime reports them, never as the host says). Then
//! the EL2 runtime performs the copies ([`El2Services::copy`]). Ranges are
//! the hypervisor HIL's [`MemoryRange`].
//!
//! [`El2Services::copy`]: kernel::hil::hypervisor::El2Services::copy
//!
//! ```
//! use capsule_ffa_proxy::memory::{BufferProblem, ProxyLayout};
//! use kernel::hil::hypervisor::{El2Memory, MemoryRange};
//!
//! // EL2's image: its code from 0x6000_0000, its data and stack after it.
//! let el2 = El2Memory::EMPTY
//!     .with(MemoryRange::new(0x6000_0000, 0x2_0000))
//!     .and_then(|el2| el2.with(MemoryRange::new(0x6002_0000, 0x5000)))
//!     .unwrap();
//! let layout = ProxyLayout::with_mailbox_in(
//!     MemoryRange::new(0x4000_0000, 0x4000_0000),      // host DRAM
//!     MemoryRange::new(0x5fe0_0000, 0x1_0000),         // the proxy's carve-out
//!     el2,
//! );
//! assert_eq!(layout.mailbox.transmit, 0x5fe0_0000);
//! assert_eq!(layout.mailbox.receive, 0x5fe0_1000);
//! assert_eq!(layout.check_host_buffer(0x6020_0000, 0x1000), Ok(()));
//! assert_eq!(
//!     layout.check_host_buffer(0x5fe0_1000, 0x1000),
//!     Err(BufferProblem::InProxyMemory)
//! );
//! assert_eq!(
//!     layout.check_host_buffer(0x6000_2000, 0x1000),
//!     Err(BufferProblem::InEl2Memory)
//! );
//! assert_eq!(
//!     layout.check_host_buffer(0x1000, 0x1000),
//!     Err(BufferProblem::OutsideHostMemory)
//! );
//! ```

use kernel::hil::hypervisor::{El2Memory, MemoryRange};

/// The FF-A page: RX/TX addresses and page counts are in 4 KiB units.
pub const PAGE_SIZE: u64 = 4096;

/// Pages in each of the proxy's own RX and TX buffers.
pub const MAILBOX_PAGES: u32 = 1;

/// Bytes in each of the proxy's own RX and TX buffers.
pub const MAILBOX_BYTES: u64 = MAILBOX_PAGES as u64 * PAGE_SIZE;

/// The proxy's own RX/TX pair, mapped at the monitor during finalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Mailbox {
    /// Physical address of the TX buffer (proxy → monitor).
    pub transmit: u64,
    /// Physical address of the RX buffer (monitor → proxy).
    pub receive: u64,
    /// Size of each buffer in 4 KiB pages.
    pub page_count: u32,
}

impl Mailbox {
    /// Bytes in each buffer.
    pub const fn size(&self) -> u64 {
        self.page_count as u64 * PAGE_SIZE
    }

    /// The TX buffer as a range.
    pub const fn transmit_range(&self) -> MemoryRange {
        MemoryRange::new(self.transmit, self.size())
    }

    /// The RX buffer as a range.
    pub const fn receive_range(&self) -> MemoryRange {
        MemoryRange::new(self.receive, self.size())
    }
}

/// Why a buffer the host named cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum BufferProblem {
    /// Not 4 KiB aligned, or at address 0.
    NotPageAligned,
    /// Not (entirely) in the memory the host may hand out.
    OutsideHostMemory,
    /// Overlaps the proxy's carve-out (its mailbox).
    InProxyMemory,
    /// Overlaps EL2's image: its code, data, stack or state.
    InEl2Memory,
}

/// Why a layout is not usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum LayoutError {
    /// The mailbox buffers are not page aligned, have no pages, or overlap each other.
    BadMailbox,
    /// The mailbox is not inside the host memory range (the monitor only maps
    /// normal-world memory).
    MailboxOutsideMemory,
    /// The carve-out cannot hold the mailbox.
    CarveOutTooSmall,
    /// The carve-out overlaps EL2's memory.
    CarveOutOverlapsEl2Memory,
    /// The memory the firmware shares with the secure world is not whole
    /// pages of host memory, or overlaps EL2's memory or the carve-out.
    BadFirmwareShared,
}

/// Where everything is: what the host may use, and what the proxy and EL2 own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ProxyLayout {
    /// Normal-world memory the host may name as RX/TX buffers (DRAM).
    pub host_memory: MemoryRange,
    /// The proxy's own RX/TX pair.
    pub mailbox: Mailbox,
    /// The proxy's carve-out, holding the mailbox: never accepted from the host.
    pub carve_out: MemoryRange,
    /// Everything EL2 owns or executes (its image, from the linker script,
    /// and the proxy's state): never accepted from the host.
    pub el2: El2Memory,
    /// The part of `el2` the host may read and execute (EL2 runs code it
    /// shares with the kernel); the rest of `el2` is EL2's alone.
    pub el2_code: MemoryRange,
    /// The devices the host drives, mapped for it as device memory.
    pub devices: MemoryRange,
    /// Host memory the platform's firmware shares with the secure world
    /// (a TPM's CRB): the host reads and writes it, a partition does too,
    /// so the host may never give it away, nor make it its RX/TX.
    pub firmware_shared: MemoryRange,
}

/// The mailbox a layout with `carve_out` has (TX at its start, then RX).
pub const fn mailbox_for(carve_out: MemoryRange) -> Mailbox {
    ProxyLayout::with_mailbox_in(MemoryRange::EMPTY, carve_out, El2Memory::EMPTY).mailbox
}

impl ProxyLayout {
    /// A layout with nothing in it (before finalisation starts).
    pub const EMPTY: ProxyLayout = ProxyLayout {
        host_memory: MemoryRange::EMPTY,
        mailbox: Mailbox {
            transmit: 0,
            receive: 0,
            page_count: 0,
        },
        carve_out: MemoryRange::EMPTY,
        el2: El2Memory::EMPTY,
        el2_code: MemoryRange::EMPTY,
        devices: MemoryRange::EMPTY,
        firmware_shared: MemoryRange::EMPTY,
    };

    /// A layout whose mailbox is at the start of `carve_out`: TX first, then
    /// RX, [`MAILBOX_PAGES`] pages each. Check it with [`ProxyLayout::check`].
    pub const fn with_mailbox_in(
        host_memory: MemoryRange,
        carve_out: MemoryRange,
        el2: El2Memory,
    ) -> ProxyLayout {
        ProxyLayout {
            host_memory,
            mailbox: Mailbox {
                transmit: carve_out.base,
                receive: carve_out.base.wrapping_add(MAILBOX_BYTES),
                page_count: MAILBOX_PAGES,
            },
            carve_out,
            el2,
            el2_code: MemoryRange::EMPTY,
            devices: MemoryRange::EMPTY,
            firmware_shared: MemoryRange::EMPTY,
        }
    }

    /// The same layout, where the host may read and execute `code` (a
    /// range of EL2's memory: the code EL2 shares with the kernel).
    pub const fn with_el2_code(mut self, code: MemoryRange) -> ProxyLayout {
        self.el2_code = code;
        self
    }

    /// The same layout, where the host drives the devices in `devices`.
    pub const fn with_devices(mut self, devices: MemoryRange) -> ProxyLayout {
        self.devices = devices;
        self
    }

    /// The same layout, where the firmware shares `range` of host memory
    /// with the secure world (empty: nothing).
    pub const fn with_firmware_shared(mut self, range: MemoryRange) -> ProxyLayout {
        self.firmware_shared = range;
        self
    }

    /// EL2's private memory: every range of EL2's memory but its shared
    /// code, and the carve-out. `None` if it takes more ranges than an
    /// [`El2Memory`] holds.
    pub fn private(&self) -> Option<El2Memory> {
        let mut private = El2Memory::EMPTY;
        for range in self.el2.ranges() {
            if !self.el2_code.contains(&range) {
                private = private.with(range)?;
            }
        }
        private.with(self.carve_out)
    }

    /// Checks the proxy's side of the layout.
    pub fn check(&self) -> Result<(), LayoutError> {
        let transmit = self.mailbox.transmit_range();
        let receive = self.mailbox.receive_range();
        let aligned = |address: u64| address != 0 && address.is_multiple_of(PAGE_SIZE);
        if self.mailbox.page_count == 0
            || !aligned(self.mailbox.transmit)
            || !aligned(self.mailbox.receive)
            || transmit.overlaps(&receive)
            || transmit.end().is_none()
            || receive.end().is_none()
        {
            return Err(LayoutError::BadMailbox);
        }
        if !self.carve_out.contains(&transmit) || !self.carve_out.contains(&receive) {
            return Err(LayoutError::CarveOutTooSmall);
        }
        if !self.host_memory.contains(&transmit) || !self.host_memory.contains(&receive) {
            return Err(LayoutError::MailboxOutsideMemory);
        }
        if self.el2.overlaps(&self.carve_out) {
            return Err(LayoutError::CarveOutOverlapsEl2Memory);
        }
        let shared = self.firmware_shared;
        if !shared.is_empty()
            && (!shared.base.is_multiple_of(PAGE_SIZE)
                || !shared.size.is_multiple_of(PAGE_SIZE)
                || !self.host_memory.contains(&shared)
                || self.el2.overlaps(&shared)
                || self.carve_out.overlaps(&shared))
        {
            return Err(LayoutError::BadFirmwareShared);
        }
        Ok(())
    }

    /// Whether the host may name `[address, address + size)` as an RX or TX buffer.
    pub fn check_host_buffer(&self, address: u64, size: u64) -> Result<(), BufferProblem> {
        if address == 0 || !address.is_multiple_of(PAGE_SIZE) {
            return Err(BufferProblem::NotPageAligned);
        }
        self.check_host_range(&MemoryRange::new(address, size))
    }

    /// Whether the host may name `range` at all (any buffer or memory region
    /// EL2 will write or have the monitor access on the host's behalf): inside
    /// host memory, outside the carve-out and every range of EL2's memory.
    pub fn check_host_range(&self, range: &MemoryRange) -> Result<(), BufferProblem> {
        if !self.host_memory.contains(range) {
            return Err(BufferProblem::OutsideHostMemory);
        }
        let proxy = [
            self.carve_out,
            self.mailbox.transmit_range(),
            self.mailbox.receive_range(),
        ];
        if proxy.iter().any(|owned| owned.overlaps(range)) {
            return Err(BufferProblem::InProxyMemory);
        }
        if self.el2.overlaps(range) {
            return Err(BufferProblem::InEl2Memory);
        }
        Ok(())
    }

    /// Whether the host may have a core entered at `entry` (a PSCI
    /// `CPU_ON` entry point, run at EL1): inside host memory, outside the
    /// carve-out, and outside EL2's memory except the code EL2 shares with
    /// the kernel ([`El2Memory::host_may_enter`]). Alignment is the
    /// caller's to check.
    pub fn check_host_entry_point(&self, entry: u64) -> Result<(), BufferProblem> {
        let instruction = MemoryRange::new(entry, 4);
        if !self.host_memory.contains(&instruction) {
            return Err(BufferProblem::OutsideHostMemory);
        }
        let proxy = [
            self.carve_out,
            self.mailbox.transmit_range(),
            self.mailbox.receive_range(),
        ];
        if proxy.iter().any(|owned| owned.overlaps(&instruction)) {
            return Err(BufferProblem::InProxyMemory);
        }
        if !self.el2.host_may_enter(&instruction) {
            return Err(BufferProblem::InEl2Memory);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);

    #[test]
    fn entry_points_may_be_in_shared_code_but_never_in_el2_data_or_the_carve_out() {
        let code = MemoryRange::new(0x6000_0000, 0x2_0000);
        let data = MemoryRange::new(0x6002_0000, 0x5000);
        let proxy_state = MemoryRange::new(0x6002_1000, 0x200);
        let el2 = El2Memory::from_slots([
            code,
            data,
            proxy_state,
            MemoryRange::EMPTY,
            MemoryRange::EMPTY,
            MemoryRange::EMPTY,
        ])
        .with_shared_code(code);
        let layout =
            ProxyLayout::with_mailbox_in(HOST, MemoryRange::new(0x5fe0_0000, 0x1_0000), el2);
        assert_eq!(layout.check_host_entry_point(0x6000_0100), Ok(()));
        assert_eq!(layout.check_host_entry_point(0x6100_0000), Ok(()));
        assert_eq!(
            layout.check_host_entry_point(0x6002_0000),
            Err(BufferProblem::InEl2Memory)
        );
        assert_eq!(
            layout.check_host_entry_point(0x6002_1100),
            Err(BufferProblem::InEl2Memory),
            "the proxy's own state"
        );
        assert_eq!(
            layout.check_host_entry_point(0x6001_fffe),
            Err(BufferProblem::InEl2Memory),
            "an instruction that straddles code and data"
        );
        assert_eq!(
            layout.check_host_entry_point(0x5fe0_1000),
            Err(BufferProblem::InProxyMemory)
        );
        assert_eq!(
            layout.check_host_entry_point(0x0e00_0000),
            Err(BufferProblem::OutsideHostMemory)
        );
        // Without shared code named, EL2's code is closed too.
        let closed = ProxyLayout {
            el2: El2Memory::from_slots([
                code,
                data,
                MemoryRange::EMPTY,
                MemoryRange::EMPTY,
                MemoryRange::EMPTY,
                MemoryRange::EMPTY,
            ]),
            ..layout
        };
        assert_eq!(
            closed.check_host_entry_point(0x6000_0100),
            Err(BufferProblem::InEl2Memory)
        );
    }

    #[test]
    fn layouts_are_checked() {
        let carve_out = MemoryRange::new(0x5fe0_0000, 0x1_0000);
        let reserved = El2Memory::EMPTY;
        assert_eq!(
            ProxyLayout::with_mailbox_in(HOST, carve_out, reserved).check(),
            Ok(())
        );
        assert_eq!(
            ProxyLayout::with_mailbox_in(HOST, MemoryRange::new(0x5fe0_0000, 0x1000), reserved)
                .check(),
            Err(LayoutError::CarveOutTooSmall)
        );
        assert_eq!(
            ProxyLayout::with_mailbox_in(HOST, MemoryRange::new(0x5fe0_0800, 0x1_0000), reserved)
                .check(),
            Err(LayoutError::BadMailbox)
        );
        assert_eq!(
            ProxyLayout::with_mailbox_in(HOST, MemoryRange::new(0x1000_0000, 0x1_0000), reserved)
                .check(),
            Err(LayoutError::MailboxOutsideMemory)
        );
        assert_eq!(ProxyLayout::EMPTY.check(), Err(LayoutError::BadMailbox));
        let with_crb = |crb: MemoryRange| {
            ProxyLayout::with_mailbox_in(HOST, carve_out, reserved)
                .with_firmware_shared(crb)
                .check()
        };
        assert_eq!(with_crb(MemoryRange::new(0x5fd0_0000, 0x5000)), Ok(()));
        for crb in [
            MemoryRange::new(0x5fd0_0800, 0x5000),
            MemoryRange::new(0x5fdf_f000, 0x2000),
            MemoryRange::new(0x3fff_f000, 0x2000),
        ] {
            assert_eq!(
                with_crb(crb),
                Err(LayoutError::BadFirmwareShared),
                "{crb:?}"
            );
        }
        assert_eq!(
            ProxyLayout::with_mailbox_in(
                HOST,
                carve_out,
                El2Memory::EMPTY
                    .with(MemoryRange::new(0x5fe0_f000, 0x2000))
                    .unwrap()
            )
            .check(),
            Err(LayoutError::CarveOutOverlapsEl2Memory)
        );
    }

    #[test]
    fn host_buffers_stay_out_of_proxy_memory() {
        let stack = MemoryRange::new(0x6010_0000, 0x4000);
        let layout = ProxyLayout::with_mailbox_in(
            HOST,
            MemoryRange::new(0x5fe0_0000, 0x1_0000),
            El2Memory::EMPTY.with(stack).unwrap(),
        );
        assert_eq!(layout.check_host_buffer(0x6000_0000, 0x1000), Ok(()));
        assert_eq!(
            layout.check_host_buffer(0x6010_3000, 0x1000),
            Err(BufferProblem::InEl2Memory)
        );
        assert_eq!(layout.check_host_buffer(0x6010_4000, 0x1000), Ok(()));
        assert_eq!(
            layout.check_host_buffer(0x5fe0_f000, 0x1000),
            Err(BufferProblem::InProxyMemory)
        );
        assert_eq!(
            layout.check_host_buffer(0x6000_0800, 0x1000),
            Err(BufferProblem::NotPageAligned)
        );
        assert_eq!(
            layout.check_host_buffer(0, 0x1000),
            Err(BufferProblem::NotPageAligned)
        );
        assert_eq!(
            layout.check_host_buffer(0x7fff_f000, 0x2000),
            Err(BufferProblem::OutsideHostMemory)
        );
        assert_eq!(
            layout.check_host_buffer(0xFFFF_FFFF_FFFF_F000, 0x2000),
            Err(BufferProblem::OutsideHostMemory)
        );
    }
}
