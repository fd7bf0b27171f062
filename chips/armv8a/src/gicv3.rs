//! GICv3 as seen from non-secure EL1: distributor, this core's
//! redistributor, and the CPU interface through system registers.
//!
//! Secure firmware (TF-A, or the project's test firmware) wakes the
//! redistributor and assigns interrupts to Group 1 non-secure; the kernel
//! enables Group 1 and the interrupts it uses. Interrupts are taken by
//! polling from the main loop through [`InterruptController`]:
//! `acknowledge` takes the highest-priority pending interrupt and
//! `end_of_interrupt` retires it.
//!
//! ```ignore
//! let gic = GicV3::new(0x0800_0000, 0x080a_0000);
//! gic.initialise();
//! gic.enable_interrupt(30);
//! while let Some(interrupt) = gic.acknowledge() { dispatch(interrupt.id()); gic.end_of_interrupt(interrupt); }
//! ```

use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite};
use tock_registers::{register_bitfields, register_structs};

use crate::interrupt_controller::{Acknowledged, InterruptController, FIRST_SPECIAL_INTERRUPT};

register_bitfields![u32,
    /// GICD_CTLR, non-secure view when security is enabled.
    DistributorControl [
        EnableGroup1 OFFSET(0) NUMBITS(1) [],
        EnableGroup1Affinity OFFSET(1) NUMBITS(1) [],
        AffinityRoutingNonSecure OFFSET(4) NUMBITS(1) [],
        RegisterWritePending OFFSET(31) NUMBITS(1) []
    ]
];

register_structs! {
    /// The distributor registers the kernel touches.
    DistributorRegisters {
        (0x0000 => control: ReadWrite<u32, DistributorControl::Register>),
        (0x0004 => type_register: ReadOnly<u32>),
        (0x0008 => _reserved0),
        (0x0100 => set_enable: [ReadWrite<u32>; 32]),
        (0x0180 => clear_enable: [ReadWrite<u32>; 32]),
        (0x0200 => _reserved1),
        (0x0400 => priority: [ReadWrite<u32>; 255]),
        (0x07fc => _reserved2),
        (0x6100 => routing: [ReadWrite<u64>; 988]),
        (0x7fe0 => @END),
    }
}

register_structs! {
    /// The SGI/PPI frame of a redistributor (RD_base + 64 KiB).
    RedistributorSgiRegisters {
        (0x0000 => _reserved0),
        (0x0100 => set_enable: ReadWrite<u32>),
        (0x0104 => _reserved1),
        (0x0180 => clear_enable: ReadWrite<u32>),
        (0x0184 => _reserved2),
        (0x0400 => priority: [ReadWrite<u32>; 8]),
        (0x0420 => @END),
    }
}

/// Priority given to every enabled interrupt (lower is more urgent).
const DEFAULT_PRIORITY: u8 = 0x80;
/// Offset of the SGI/PPI frame within a redistributor.
const SGI_FRAME_OFFSET: usize = 0x1_0000;

macro_rules! read_system_register {
    ($name:literal) => {{
        let value: u64;
        // SAFETY: reading a GIC CPU-interface system register has no
        // memory effects; the boot code enabled system-register access.
        unsafe { core::arch::asm!(concat!("mrs {0}, ", $name), out(reg) value, options(nomem, nostack)) };
        value
    }};
}

macro_rules! write_system_register {
    ($name:literal, $value:expr) => {{
        let value: u64 = $value;
        // SAFETY: writing a GIC CPU-interface system register only changes
        // interrupt state of this core; the boot code enabled access.
        unsafe { core::arch::asm!(concat!("msr ", $name, ", {0}"), "isb", in(reg) value, options(nostack)) };
    }};
}

/// A GICv3 with one core's redistributor.
pub struct GicV3 {
    distributor: &'static DistributorRegisters,
    redistributor_sgi: &'static RedistributorSgiRegisters,
}

impl GicV3 {
    /// The GIC with its distributor and this core's redistributor at the
    /// given physical (identity-mapped) addresses.
    ///
    /// The caller (a chip crate) must pass the addresses of a real GICv3;
    /// that is why this is the one place where a board's numbers become
    /// MMIO references.
    pub const fn new(distributor_base: usize, redistributor_base: usize) -> Self {
        // SAFETY: the chip crate passes the GICv3 frames of its SoC, which are
        // device memory mapped by the boot identity map and used only here.
        unsafe {
            GicV3 {
                distributor: &*(distributor_base as *const DistributorRegisters),
                redistributor_sgi: &*((redistributor_base + SGI_FRAME_OFFSET)
                    as *const RedistributorSgiRegisters),
            }
        }
    }
}

impl InterruptController for GicV3 {
    fn line_count(&self) -> u32 {
        (((self.distributor.type_register.get() & 0x1f) + 1) * 32).min(FIRST_SPECIAL_INTERRUPT)
    }

    /// Enables Group 1 non-secure interrupts at the distributor and the CPU interface.
    fn initialise(&self) {
        self.distributor.control.modify(
            DistributorControl::AffinityRoutingNonSecure::SET
                + DistributorControl::EnableGroup1Affinity::SET,
        );
        let mut bounded_wait = 100_000u32;
        while self
            .distributor
            .control
            .is_set(DistributorControl::RegisterWritePending)
            && bounded_wait > 0
        {
            bounded_wait -= 1;
        }
        // ICC_SRE_EL1: system register interface on.
        write_system_register!("S3_0_C12_C12_5", 0x7);
        // ICC_PMR_EL1: let every priority through.
        write_system_register!("S3_0_C4_C6_0", 0xff);
        // ICC_BPR1_EL1: no preemption grouping.
        write_system_register!("S3_0_C12_C12_3", 0);
        // ICC_IGRPEN1_EL1: Group 1 on.
        write_system_register!("S3_0_C12_C12_7", 1);
    }

    fn enable_interrupt(&self, id: u32) {
        let (index, shift) = ((id / 4) as usize, (id % 4) * 8);
        if id < 32 {
            let register = &self.redistributor_sgi.priority[index];
            register
                .set((register.get() & !(0xff << shift)) | ((DEFAULT_PRIORITY as u32) << shift));
            self.redistributor_sgi.set_enable.set(1 << id);
        } else if id < FIRST_SPECIAL_INTERRUPT {
            let register = &self.distributor.priority[index];
            register
                .set((register.get() & !(0xff << shift)) | ((DEFAULT_PRIORITY as u32) << shift));
            self.distributor.set_enable[(id / 32) as usize].set(1 << (id % 32));
        } else {
            defmt::error!("gicv3: cannot enable special interrupt ID {=u32}", id);
        }
    }

    fn disable_interrupt(&self, id: u32) {
        if id < 32 {
            self.redistributor_sgi.clear_enable.set(1 << id);
        } else if id < FIRST_SPECIAL_INTERRUPT {
            self.distributor.clear_enable[(id / 32) as usize].set(1 << (id % 32));
        }
    }

    fn has_pending(&self) -> bool {
        // ICC_HPPIR1_EL1.
        (read_system_register!("S3_0_C12_C12_2") as u32 & 0x00ff_ffff) < FIRST_SPECIAL_INTERRUPT
    }

    fn acknowledge(&self) -> Option<Acknowledged> {
        // ICC_IAR1_EL1.
        let raw = read_system_register!("S3_0_C12_C12_0") as u32;
        let id = raw & 0x00ff_ffff;
        (id < FIRST_SPECIAL_INTERRUPT).then(|| Acknowledged::new(id, raw))
    }

    fn end_of_interrupt(&self, interrupt: Acknowledged) {
        // ICC_EOIR1_EL1.
        write_system_register!("S3_0_C12_C12_1", interrupt.raw() as u64);
    }
}
