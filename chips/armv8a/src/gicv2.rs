//! GICv2 (the Arm GIC-400 of the Raspberry Pi 4) as seen from the
//! non-secure kernel: the distributor and this core's CPU interface, both
//! memory-mapped.
//!
//! Unlike the GICv3 there are no redistributors and no system registers:
//! SGI and PPI state (INTIDs 0–31) lives in the distributor registers
//! banked per core, shared interrupts are routed by a byte-wide CPU mask
//! per interrupt (`GICD_ITARGETSR`), SGIs are sent through `GICD_SGIR`,
//! and the acknowledge value of an SGI carries the source core, which the
//! end-of-interrupt write must echo ([`Acknowledged`] keeps it).
//!
//! Secure firmware (the Pi's armstub, or TF-A) puts every interrupt in
//! Group 1 non-secure, and the kernel, non-secure, sees the banked
//! non-secure `GICD_CTLR`/`GICC_CTLR`, whose bit 0 enables Group 1. QEMU's
//! GIC-400 has no security extensions (`GICD_TYPER.SecurityExtn` = 0): then
//! there is one view, interrupts may be in either group (Group 0 after
//! reset, Group 1 once TF-A has set them), and the kernel enables both
//! groups and lets `GICC_IAR` acknowledge both (`AckCtl`). The kernel never
//! touches the group registers (secure-only on hardware).
//!
//! The register logic is written against the register blocks, so host
//! tests run it on blocks in ordinary memory
//! ([`GicV2::from_registers`]).
//!
//! ```ignore
//! // SAFETY: the GIC-400 of the BCM2711 is at these addresses.
//! let gic = unsafe { GicV2::new(0xff84_1000, 0xff84_2000) };
//! gic.initialise();
//! gic.enable_interrupt(30);
//! ```

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

use crate::interrupt_controller::{Acknowledged, InterruptController, FIRST_SPECIAL_INTERRUPT};

register_bitfields![u32,
    /// GICD_SGIR.
    SoftwareInterrupt [
        /// Which cores receive the SGI.
        TargetListFilter OFFSET(24) NUMBITS(2) [
            /// The cores in `CpuTargetList`.
            List = 0,
            /// Every core but this one.
            AllOthers = 1,
            /// This core only.
            ThisCore = 2
        ],
        /// One bit per CPU interface.
        CpuTargetList OFFSET(16) NUMBITS(8) [],
        /// The SGI's interrupt ID (0–15).
        InterruptId OFFSET(0) NUMBITS(4) []
    ],
    /// GICC_IAR, GICC_HPPIR.
    Acknowledge [
        /// For an SGI, the core that sent it.
        SourceCpu OFFSET(10) NUMBITS(3) [],
        /// The interrupt ID (1020–1023: special).
        InterruptId OFFSET(0) NUMBITS(10) []
    ]
];

register_structs! {
    /// The GICv2 distributor (`GICD_*`).
    pub DistributorRegisters {
        (0x000 => control: ReadWrite<u32>),
        (0x004 => type_register: ReadOnly<u32>),
        (0x008 => _reserved0),
        (0x100 => set_enable: [ReadWrite<u32>; 32]),
        (0x180 => clear_enable: [ReadWrite<u32>; 32]),
        (0x200 => _reserved1),
        (0x280 => clear_pending: [ReadWrite<u32>; 32]),
        (0x300 => _reserved2),
        (0x400 => priority: [ReadWrite<u8>; 1020]),
        (0x7fc => _reserved3),
        (0x800 => targets: [ReadWrite<u8>; 1020]),
        (0xbfc => _reserved4),
        (0xf00 => software_interrupt: WriteOnly<u32, SoftwareInterrupt::Register>),
        (0xf04 => _reserved5),
        (0x1000 => @END),
    }
}

register_structs! {
    /// The GICv2 CPU interface (`GICC_*`) of the core that accesses it.
    pub CpuInterfaceRegisters {
        (0x00 => control: ReadWrite<u32>),
        (0x04 => priority_mask: ReadWrite<u32>),
        (0x08 => binary_point: ReadWrite<u32>),
        (0x0c => acknowledge: ReadOnly<u32, Acknowledge::Register>),
        (0x10 => end_of_interrupt: WriteOnly<u32>),
        (0x14 => _reserved0),
        (0x18 => highest_pending: ReadOnly<u32, Acknowledge::Register>),
        (0x1c => @END),
    }
}

/// Priority given to every interrupt (lower is more urgent; the
/// non-secure view implements the top bits only).
pub const DEFAULT_PRIORITY: u8 = 0xa0;
/// `GICD_CTLR`/`GICC_CTLR` bit 0: enable the group this world owns (the
/// non-secure view), or Group 0 (a GIC without security extensions).
const ENABLE: u32 = 1;
/// Without security extensions: `GICD_CTLR` EnableGrp0 | EnableGrp1.
const ENABLE_BOTH_GROUPS: u32 = 0b11;
/// Without security extensions: `GICC_CTLR` EnableGrp0 | EnableGrp1 |
/// AckCtl (`GICC_IAR` acknowledges Group 1 interrupts too).
const ENABLE_BOTH_GROUPS_AND_ACKNOWLEDGE: u32 = 0b111;
/// `GICD_TYPER.SecurityExtn`.
const SECURITY_EXTENSIONS: u32 = 1 << 10;
/// `GICC_PMR`: let every priority through.
const ALL_PRIORITIES: u32 = 0xff;
/// INTIDs 0–15 are SGIs, 16–31 PPIs, both banked per core.
const FIRST_SHARED_INTERRUPT: u32 = 32;
/// The most SGIs (0–15).
const SGI_COUNT: u32 = 16;
/// Most CPU interfaces a GICv2 has (one bit each in a target mask).
pub const MAXIMUM_CORES: usize = 8;

/// Which cores an SGI goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum SgiTargets {
    /// The CPU interfaces whose bits are set (bit i: interface i).
    Cores(u8),
    /// Every core but this one.
    AllOthers,
    /// This core.
    ThisCore,
}

/// A GICv2: its distributor and the CPU interface of the core using it.
pub struct GicV2<'a> {
    distributor: &'a DistributorRegisters,
    cpu_interface: &'a CpuInterfaceRegisters,
}

impl GicV2<'static> {
    /// The GIC whose distributor and CPU interface are at these physical
    /// (identity-mapped) addresses.
    ///
    /// # Safety
    ///
    /// A GICv2 distributor and CPU interface must be at these addresses,
    /// mapped as device memory, for as long as the kernel runs.
    pub const unsafe fn new(distributor_base: usize, cpu_interface_base: usize) -> Self {
        // SAFETY: the caller guarantees the frames are there, as device
        // memory, for the life of the kernel.
        unsafe {
            GicV2::from_registers(
                &*(distributor_base as *const DistributorRegisters),
                &*(cpu_interface_base as *const CpuInterfaceRegisters),
            )
        }
    }
}

impl<'a> GicV2<'a> {
    /// The GIC behind these register blocks.
    pub const fn from_registers(
        distributor: &'a DistributorRegisters,
        cpu_interface: &'a CpuInterfaceRegisters,
    ) -> Self {
        GicV2 {
            distributor,
            cpu_interface,
        }
    }

    /// Whether the GIC implements the security extensions (then the kernel
    /// sees the non-secure view).
    pub fn has_security_extensions(&self) -> bool {
        self.distributor.type_register.get() & SECURITY_EXTENSIONS != 0
    }

    /// The bit of this core's CPU interface in a target mask: the banked,
    /// read-only `GICD_ITARGETSR0` byte 0 tells each core its own.
    pub fn this_core_mask(&self) -> u8 {
        self.distributor.targets[0].get()
    }

    /// Sets this core's banked SGI/PPI state and its CPU interface: PPIs
    /// disabled and cleared, default priorities, every priority let
    /// through, no preemption grouping, the interface enabled. Every core
    /// that takes interrupts calls it (the boot core through
    /// [`InterruptController::initialise`]).
    pub fn initialise_this_core(&self) {
        // SGIs stay enabled (QEMU's and many GICs' SGIs cannot be disabled).
        self.distributor.clear_enable[0].set(!((1 << SGI_COUNT) - 1));
        self.distributor.clear_pending[0].set(!((1 << SGI_COUNT) - 1));
        for id in 0..FIRST_SHARED_INTERRUPT as usize {
            self.distributor.priority[id].set(DEFAULT_PRIORITY);
        }
        self.cpu_interface.priority_mask.set(ALL_PRIORITIES);
        self.cpu_interface.binary_point.set(0);
        self.cpu_interface
            .control
            .set(if self.has_security_extensions() {
                ENABLE
            } else {
                ENABLE_BOTH_GROUPS_AND_ACKNOWLEDGE
            });
    }

    /// Sends SGI `id` (0–15) to `targets`. An ID above 15 is refused.
    pub fn send_sgi(&self, id: u32, targets: SgiTargets) -> Result<(), kernel::ErrorCode> {
        if id >= SGI_COUNT {
            return Err(kernel::ErrorCode::INVAL);
        }
        let filter = match targets {
            SgiTargets::Cores(mask) => {
                SoftwareInterrupt::TargetListFilter::List
                    + SoftwareInterrupt::CpuTargetList.val(mask.into())
            }
            SgiTargets::AllOthers => SoftwareInterrupt::TargetListFilter::AllOthers,
            SgiTargets::ThisCore => SoftwareInterrupt::TargetListFilter::ThisCore,
        };
        self.distributor
            .software_interrupt
            .write(filter + SoftwareInterrupt::InterruptId.val(id));
        Ok(())
    }

    /// Whether `id` names an interrupt this distributor has.
    fn implemented(&self, id: u32) -> bool {
        id < self.line_count()
    }
}

impl InterruptController for GicV2<'_> {
    fn line_count(&self) -> u32 {
        (((self.distributor.type_register.get() & 0x1f) + 1) * 32).min(FIRST_SPECIAL_INTERRUPT)
    }

    fn initialise(&self) {
        self.distributor.control.set(0);
        let lines = self.line_count();
        for word in 1..(lines / 32) as usize {
            self.distributor.clear_enable[word].set(u32::MAX);
            self.distributor.clear_pending[word].set(u32::MAX);
        }
        let this_core = self.this_core_mask();
        for id in FIRST_SHARED_INTERRUPT as usize..lines as usize {
            self.distributor.priority[id].set(DEFAULT_PRIORITY);
            self.distributor.targets[id].set(this_core);
        }
        self.distributor
            .control
            .set(if self.has_security_extensions() {
                ENABLE
            } else {
                ENABLE_BOTH_GROUPS
            });
        self.initialise_this_core();
    }

    fn enable_interrupt(&self, id: u32) {
        if !self.implemented(id) {
            defmt::error!(
                "gicv2: cannot enable interrupt ID {=u32}: not implemented",
                id
            );
            return;
        }
        self.distributor.priority[id as usize].set(DEFAULT_PRIORITY);
        if id >= FIRST_SHARED_INTERRUPT {
            self.distributor.targets[id as usize].set(self.this_core_mask());
        }
        self.distributor.set_enable[(id / 32) as usize].set(1 << (id % 32));
    }

    fn disable_interrupt(&self, id: u32) {
        if self.implemented(id) {
            self.distributor.clear_enable[(id / 32) as usize].set(1 << (id % 32));
        }
    }

    fn has_pending(&self) -> bool {
        self.cpu_interface
            .highest_pending
            .read(Acknowledge::InterruptId)
            < FIRST_SPECIAL_INTERRUPT
    }

    fn acknowledge(&self) -> Option<Acknowledged> {
        let raw = self.cpu_interface.acknowledge.get();
        let id = raw & 0x3ff;
        (id < FIRST_SPECIAL_INTERRUPT).then(|| Acknowledged::new(id, raw))
    }

    fn end_of_interrupt(&self, interrupt: Acknowledged) {
        self.cpu_interface.end_of_interrupt.set(interrupt.raw());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;

    /// A distributor and CPU interface in ordinary memory, all registers
    /// zero but `GICD_TYPER` (224 lines, as the BCM2711's GIC-400 in QEMU)
    /// and this core's target byte.
    struct FakeGic {
        distributor: Box<DistributorRegisters>,
        cpu_interface: Box<CpuInterfaceRegisters>,
    }

    impl FakeGic {
        fn new() -> FakeGic {
            // SAFETY: both register blocks are plain `u8`/`u32` cells, for
            // which all-zero bytes are valid values.
            let fake = unsafe {
                FakeGic {
                    distributor: Box::new(core::mem::zeroed()),
                    cpu_interface: Box::new(core::mem::zeroed()),
                }
            };
            fake.set_distributor(0x004, 0x66);
            fake.set_distributor(0x800, 0x01);
            fake
        }

        fn gic(&self) -> GicV2<'_> {
            GicV2::from_registers(&self.distributor, &self.cpu_interface)
        }

        fn distributor_address(&self, offset: usize) -> *mut u8 {
            let base: *const DistributorRegisters = &*self.distributor;
            base.cast::<u8>().wrapping_add(offset).cast_mut()
        }

        fn distributor_word(&self, offset: usize) -> u32 {
            // SAFETY: `offset` is a 4-byte aligned offset inside the block.
            unsafe { core::ptr::read_volatile(self.distributor_address(offset).cast::<u32>()) }
        }

        fn distributor_byte(&self, offset: usize) -> u8 {
            // SAFETY: `offset` lies inside the block.
            unsafe { core::ptr::read_volatile(self.distributor_address(offset)) }
        }

        fn set_distributor(&self, offset: usize, value: u32) {
            // SAFETY: `offset` is a 4-byte aligned offset inside the block.
            unsafe { core::ptr::write_volatile(self.distributor_address(offset).cast(), value) }
        }

        fn cpu_word(&self, offset: usize) -> u32 {
            let base: *const CpuInterfaceRegisters = &*self.cpu_interface;
            // SAFETY: `offset` is a 4-byte aligned offset inside the block.
            unsafe { core::ptr::read_volatile(base.cast::<u8>().add(offset).cast::<u32>()) }
        }

        fn set_cpu_word(&self, offset: usize, value: u32) {
            let base: *const CpuInterfaceRegisters = &*self.cpu_interface;
            // SAFETY: as in `cpu_word`.
            unsafe {
                core::ptr::write_volatile(base.cast::<u8>().add(offset).cast_mut().cast(), value)
            }
        }
    }

    #[test]
    fn register_offsets_follow_the_architecture() {
        let fake = FakeGic::new();
        assert_eq!(core::mem::size_of::<DistributorRegisters>(), 0x1000);
        assert_eq!(core::mem::size_of::<CpuInterfaceRegisters>(), 0x1c);
        let gic = fake.gic();
        assert_eq!(gic.line_count(), 224);
        assert_eq!(gic.this_core_mask(), 0x01);
    }

    #[test]
    fn the_enables_follow_the_security_extensions() {
        // A real GIC-400 has them: the non-secure view, bit 0 = Group 1.
        let fake = FakeGic::new();
        fake.set_distributor(0x004, 0x66 | (1 << 10));
        fake.gic().initialise();
        assert_eq!(fake.distributor_word(0x000), 1);
        assert_eq!(fake.cpu_word(0x00), 1);
        // QEMU's has none: both groups, and IAR acknowledges Group 1 too.
        let fake = FakeGic::new();
        fake.gic().initialise();
        assert_eq!(fake.distributor_word(0x000), 0b11);
        assert_eq!(fake.cpu_word(0x00), 0b111);
    }

    #[test]
    fn initialise_disables_shared_interrupts_and_routes_them_here() {
        let fake = FakeGic::new();
        fake.gic().initialise();
        // GICC_PMR lets everything through, GICC_BPR 0.
        assert_eq!(fake.cpu_word(0x04), 0xff);
        // ICENABLER/ICPENDR 1..6 cover INTIDs 32..223; word 0 spares SGIs.
        for word in 1..7 {
            assert_eq!(fake.distributor_word(0x180 + 4 * word), u32::MAX);
            assert_eq!(fake.distributor_word(0x280 + 4 * word), u32::MAX);
        }
        assert_eq!(
            fake.distributor_word(0x180 + 4 * 7),
            0,
            "beyond the 224 lines"
        );
        assert_eq!(fake.distributor_word(0x180), 0xffff_0000);
        // Every shared interrupt targets this core, with the default priority.
        assert_eq!(fake.distributor_byte(0x800 + 32), 0x01);
        assert_eq!(fake.distributor_byte(0x800 + 223), 0x01);
        assert_eq!(fake.distributor_byte(0x800 + 224), 0x00);
        assert_eq!(fake.distributor_byte(0x400 + 30), DEFAULT_PRIORITY);
        assert_eq!(fake.distributor_byte(0x400 + 223), DEFAULT_PRIORITY);
    }

    #[test]
    fn enabling_sets_one_bit_and_the_interrupts_byte_only() {
        let fake = FakeGic::new();
        let gic = fake.gic();
        // The PL011 of the BCM2711: SPI 121 = INTID 153.
        gic.enable_interrupt(153);
        assert_eq!(fake.distributor_word(0x100 + 4 * 4), 1 << (153 % 32));
        assert_eq!(fake.distributor_byte(0x400 + 153), DEFAULT_PRIORITY);
        assert_eq!(fake.distributor_byte(0x400 + 152), 0);
        assert_eq!(fake.distributor_byte(0x400 + 154), 0);
        assert_eq!(fake.distributor_byte(0x800 + 153), 0x01);
        // A PPI (the EL1 physical timer) is banked: no target byte written.
        fake.set_distributor(0x800 + 28, 0);
        gic.enable_interrupt(30);
        assert_eq!(fake.distributor_word(0x100), 1 << 30);
        assert_eq!(fake.distributor_byte(0x800 + 30), 0);
        gic.disable_interrupt(153);
        assert_eq!(fake.distributor_word(0x180 + 4 * 4), 1 << (153 % 32));
    }

    #[test]
    fn interrupts_the_distributor_lacks_are_refused() {
        let fake = FakeGic::new();
        let gic = fake.gic();
        gic.enable_interrupt(224);
        gic.enable_interrupt(1023);
        gic.disable_interrupt(500);
        for word in 0..32 {
            assert_eq!(fake.distributor_word(0x100 + 4 * word), 0);
            assert_eq!(fake.distributor_word(0x180 + 4 * word), 0);
        }
    }

    #[test]
    fn acknowledge_decodes_the_id_and_end_echoes_the_source_core() {
        let fake = FakeGic::new();
        let gic = fake.gic();
        // SGI 5 sent by core 2: GICC_IAR = source 2 in [12:10], ID 5.
        fake.set_cpu_word(0x0c, (2 << 10) | 5);
        let interrupt = gic.acknowledge().unwrap();
        assert_eq!(interrupt.id(), 5);
        gic.end_of_interrupt(interrupt);
        assert_eq!(fake.cpu_word(0x10), (2 << 10) | 5);
        // 1023: spurious, nothing to acknowledge.
        fake.set_cpu_word(0x0c, 1023);
        assert_eq!(gic.acknowledge(), None);
    }

    #[test]
    fn pending_is_read_from_the_highest_pending_register() {
        let fake = FakeGic::new();
        let gic = fake.gic();
        fake.set_cpu_word(0x18, 1023);
        assert!(!gic.has_pending());
        fake.set_cpu_word(0x18, (1 << 10) | 30);
        assert!(gic.has_pending());
    }

    #[test]
    fn sgis_encode_filter_targets_and_id() {
        let fake = FakeGic::new();
        let gic = fake.gic();
        gic.send_sgi(5, SgiTargets::Cores(0b0110)).unwrap();
        assert_eq!(fake.distributor_word(0xf00), (0b0110 << 16) | 5);
        gic.send_sgi(15, SgiTargets::AllOthers).unwrap();
        assert_eq!(fake.distributor_word(0xf00), (1 << 24) | 15);
        gic.send_sgi(0, SgiTargets::ThisCore).unwrap();
        assert_eq!(fake.distributor_word(0xf00), 2 << 24);
        assert_eq!(
            gic.send_sgi(16, SgiTargets::ThisCore),
            Err(kernel::ErrorCode::INVAL)
        );
    }

    #[test]
    fn each_core_sets_its_banked_state() {
        let fake = FakeGic::new();
        fake.gic().initialise_this_core();
        assert_eq!(fake.distributor_word(0x180), 0xffff_0000);
        assert_eq!(fake.distributor_word(0x280), 0xffff_0000);
        assert_eq!(fake.distributor_byte(0x400), DEFAULT_PRIORITY);
        assert_eq!(fake.distributor_byte(0x400 + 31), DEFAULT_PRIORITY);
        assert_eq!(fake.distributor_byte(0x400 + 32), 0);
        assert_eq!(
            fake.cpu_word(0x00),
            0b111,
            "no security extensions in the fake"
        );
    }

    #[test]
    fn lent_lines_are_enabled_and_disabled_at_the_distributor() {
        use crate::interrupt_controller::LendableLines;
        use kernel::hil::interrupt::InterruptClient;

        struct Ignore;
        impl InterruptClient for Ignore {
            fn interrupt(&self, _id: u32) {}
        }

        let fake = FakeGic::new();
        let gic = fake.gic();
        // The Pi chip's own lines: the EL1 physical timer and UART0.
        let lines: LendableLines<'_, 4> = LendableLines::new(&[30, 153]);
        assert_eq!(
            lines.claim(&gic, 153, &Ignore),
            Err(kernel::ErrorCode::INVAL)
        );
        assert_eq!(
            lines.claim(&gic, 224, &Ignore),
            Err(kernel::ErrorCode::INVAL),
            "beyond the GIC-400's 224 lines"
        );
        assert_eq!(fake.distributor_word(0x100 + 4 * 4), 0);
        // A doorbell SPI: enabled, routed here, with the default priority.
        lines.claim(&gic, 130, &Ignore).unwrap();
        assert_eq!(fake.distributor_word(0x100 + 4 * 4), 1 << (130 % 32));
        assert_eq!(fake.distributor_byte(0x800 + 130), 0x01);
        assert_eq!(fake.distributor_byte(0x400 + 130), DEFAULT_PRIORITY);
        assert!(lines.dispatch(130));
        lines.release(&gic, 130).unwrap();
        assert_eq!(fake.distributor_word(0x180 + 4 * 4), 1 << (130 % 32));
        assert!(!lines.dispatch(130));
    }
}
