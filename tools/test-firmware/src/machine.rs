//! The machine the model runs on, as [`ffa_model::Platform`]: the generic
//! counter for time, the GICv3 for the normal world's interrupts, and the
//! secure physical timer (PPI 29, Group 0: taken as a FIQ at EL3 while the
//! normal world runs) for the partitions' timers.
//!
//! A `Machine` is the calling core's view: its redistributor, its secure
//! timer.
//!
//! * An interrupt is pending for the normal world when one that is
//!   enabled, Non-secure Group 1 and pending shows in this core's
//!   redistributor (SGIs, PPIs: the pending register reads the latch or
//!   the level of a level-triggered line) or in the distributor (SPIs).
//! * Raising one makes it pending: an SGI or PPI in this core's
//!   redistributor, an SPI in the distributor (EL3's accesses are Secure,
//!   which may set any pending bit).

use crate::gic::{
    sgi_frame, DISTRIBUTOR_BASE, DISTRIBUTOR_ENABLE, DISTRIBUTOR_GROUP, DISTRIBUTOR_PENDING,
    SGI_ENABLE, SGI_GROUP, SGI_PENDING,
};
use ffa_model::Platform;

fn read(address: usize) -> u32 {
    // SAFETY: GICv3 registers of QEMU virt, 32-bit aligned MMIO.
    unsafe { core::ptr::read_volatile(address as *const u32) }
}

fn write(address: usize, value: u32) {
    // SAFETY: GICv3 registers of QEMU virt, 32-bit aligned MMIO.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) }
}

/// The counter and its frequency.
fn counter() -> (u64, u64) {
    let (count, frequency): (u64, u64);
    // SAFETY: reading the generic counter has no side effects.
    unsafe {
        core::arch::asm!("isb", "mrs {0}, cntpct_el0", "mrs {1}, cntfrq_el0", out(reg) count, out(reg) frequency, options(nomem, nostack))
    };
    (count, frequency.max(1))
}

/// Microseconds of the generic counter.
pub fn now_microseconds() -> u64 {
    let (count, frequency) = counter();
    ((count as u128 * 1_000_000) / frequency as u128) as u64
}

/// QEMU `virt` with the GICv3, seen from EL3 on one core.
pub struct Machine {
    /// SPI registers (of 32 interrupts each) the distributor has.
    spi_registers: usize,
    /// The SGI/PPI frame of the calling core's redistributor.
    sgi_frame: usize,
}

impl Machine {
    /// The machine seen from `core` (MPIDR Aff0; the firmware runs no core
    /// the GIC has no redistributor for), with `lines` interrupt lines at
    /// the distributor.
    pub const fn new(lines: u32, core: usize) -> Machine {
        Machine {
            spi_registers: (lines / 32) as usize,
            sgi_frame: sgi_frame(core),
        }
    }
}

impl Machine {
    /// Disables the secure timer (its interrupt line drops).
    pub fn set_secure_timer_off(&mut self) {
        self.set_secure_timer(None);
    }
}

impl Platform for Machine {
    fn now_microseconds(&mut self) -> u64 {
        now_microseconds()
    }

    fn non_secure_interrupt_pending(&mut self) -> bool {
        let private = read(self.sgi_frame + SGI_PENDING)
            & read(self.sgi_frame + SGI_ENABLE)
            & read(self.sgi_frame + SGI_GROUP);
        if private != 0 {
            return true;
        }
        (1..self.spi_registers).any(|index| {
            let offset = 4 * index;
            read(DISTRIBUTOR_BASE + DISTRIBUTOR_PENDING + offset)
                & read(DISTRIBUTOR_BASE + DISTRIBUTOR_ENABLE + offset)
                & read(DISTRIBUTOR_BASE + DISTRIBUTOR_GROUP + offset)
                != 0
        })
    }

    fn raise_non_secure_interrupt(&mut self, id: u32) {
        if id < 32 {
            write(self.sgi_frame + SGI_PENDING, 1 << id);
        } else if ((id / 32) as usize) < self.spi_registers {
            write(
                DISTRIBUTOR_BASE + DISTRIBUTOR_PENDING + 4 * (id / 32) as usize,
                1 << (id % 32),
            );
        }
    }

    fn set_secure_timer(&mut self, deadline_microseconds: Option<u64>) {
        match deadline_microseconds {
            Some(deadline) => {
                let (_, frequency) = counter();
                let compare = ((deadline as u128 * frequency as u128) / 1_000_000) as u64;
                // SAFETY: EL3 programs the secure physical timer, which only
                // it uses; no memory effects.
                unsafe {
                    core::arch::asm!(
                        "msr cntps_cval_el1, {0}",
                        "msr cntps_ctl_el1, {1}",
                        "isb",
                        in(reg) compare,
                        in(reg) 1u64,
                        options(nostack)
                    )
                };
            }
            None => {
                // SAFETY: as above; disabling the timer.
                unsafe { core::arch::asm!("msr cntps_ctl_el1, xzr", "isb", options(nostack)) };
            }
        }
    }
}
