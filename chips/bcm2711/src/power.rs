//! Power-off and reset: PSCI when a PSCI firmware is there (TF-A's `rpi4`
//! BL31), otherwise the power management block's watchdog, as Linux's
//! `bcm2835_wdt` and TF-A's `rpi3_system_off` do it.
//!
//! - Reset: arm the watchdog with a short timeout and request a full reset
//!   (`RSTC.WRCFG = FULL_RESET`).
//! - Halt: first mark partition 63 in `RSTS` (the boot firmware then halts
//!   instead of booting), then reset the same way. The Pi cannot cut its
//!   own power; QEMU treats partition 63 as a power-off request.
//!
//! Every write to the block carries its password (0x5a in bits 31:24).
//! [`Power`] offers both as the kernel's `SystemPower`.
//! Neither path carries a status; with the `semihosting-exit` feature
//! (emulation only) power-off ends QEMU through semihosting with it.

use core::sync::atomic::{AtomicU8, Ordering};

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    /// The power management block's watchdog registers.
    WatchdogRegisters {
        (0x00 => _reserved0),
        (0x1c => reset_control: ReadWrite<u32>),
        (0x20 => reset_status: ReadWrite<u32>),
        (0x24 => watchdog: ReadWrite<u32>),
        (0x28 => @END),
    }
}

/// The block's password, in bits 31:24 of every write.
const PASSWORD: u32 = 0x5a00_0000;
/// `RSTC.WRCFG`: the reset the watchdog triggers.
const RESET_CONFIGURATION_MASK: u32 = 0x30;
/// `RSTC.WRCFG = FULL_RESET`.
const FULL_RESET: u32 = 0x20;
/// `RSTS` partition bits (0, 2, 4, ..., 10) all set: partition 63 = halt.
const HALT_PARTITION: u32 = 0x555;
/// Watchdog timeout in 16 µs ticks (as Linux's restart: about 150 µs).
const RESET_TIMEOUT_TICKS: u32 = 10;

/// How the board powers off, as discovered from the device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum PowerMethod {
    /// The power management block's watchdog (no PSCI firmware).
    Watchdog,
    /// PSCI through `SMC` (TF-A's `rpi4` BL31).
    PsciSmc,
    /// PSCI through `HVC`.
    PsciHvc,
}

impl PowerMethod {
    const fn code(self) -> u8 {
        match self {
            PowerMethod::Watchdog => 0,
            PowerMethod::PsciSmc => 1,
            PowerMethod::PsciHvc => 2,
        }
    }

    const fn from_code(code: u8) -> PowerMethod {
        match code {
            1 => PowerMethod::PsciSmc,
            2 => PowerMethod::PsciHvc,
            _ => PowerMethod::Watchdog,
        }
    }
}

/// The method in use; the watchdog until discovery says otherwise, so a
/// panic before discovery never issues an `SMC` without a monitor.
static METHOD: AtomicU8 = AtomicU8::new(0);

/// Sets how the board powers off.
pub fn set_method(method: PowerMethod) {
    METHOD.store(method.code(), Ordering::Relaxed);
}

/// How the board powers off.
pub fn method() -> PowerMethod {
    PowerMethod::from_code(METHOD.load(Ordering::Relaxed))
}

/// The `RSTS` word that marks partition 63, keeping the other bits.
pub const fn halt_status(current: u32) -> u32 {
    PASSWORD | (current & 0x00ff_ffff & !HALT_PARTITION) | HALT_PARTITION
}

/// The `RSTC` word that requests a full reset, keeping the other bits.
pub const fn full_reset_control(current: u32) -> u32 {
    PASSWORD | (current & 0x00ff_ffff & !RESET_CONFIGURATION_MASK) | FULL_RESET
}

/// Resets through the watchdog; with `halt`, tells the boot firmware to
/// halt rather than boot again.
///
/// # Safety
///
/// The power management block must be at `base`, as device memory.
pub unsafe fn watchdog_reset(base: usize, halt: bool) {
    // SAFETY: the caller guarantees the block at `base`.
    let registers = unsafe { &*(base as *const WatchdogRegisters) };
    if halt {
        registers
            .reset_status
            .set(halt_status(registers.reset_status.get()));
    }
    registers.watchdog.set(PASSWORD | RESET_TIMEOUT_TICKS);
    registers
        .reset_control
        .set(full_reset_control(registers.reset_control.get()));
}

#[cfg(target_arch = "aarch64")]
mod control {
    use armv8a::conduit::{HypervisorCall, SecureMonitorCall};

    use super::{method, watchdog_reset, PowerMethod};
    use crate::memory_map::POWER_MANAGEMENT_BASE;

    /// Powers off with `status` (0: success). Never returns.
    pub fn system_off(status: u32) -> ! {
        if cfg!(feature = "semihosting-exit") {
            defmt::info!("power: off with status {=u32} (semihosting exit)", status);
            armv8a::semihosting::exit(status);
        }
        match method() {
            PowerMethod::PsciSmc => armv8a::psci::system_off(&SecureMonitorCall, status),
            PowerMethod::PsciHvc => armv8a::psci::system_off(&HypervisorCall, status),
            PowerMethod::Watchdog => {
                defmt::info!(
                    "power: halting through the PM watchdog (partition 63; status {=u32} is not carried)",
                    status
                );
                // SAFETY: the BCM2711's power management block.
                unsafe { watchdog_reset(POWER_MANAGEMENT_BASE, true) };
                armv8a::psci::halt()
            }
        }
    }

    /// Resets the board. Never returns.
    pub fn system_reset() -> ! {
        match method() {
            PowerMethod::PsciSmc => armv8a::psci::system_reset(&SecureMonitorCall),
            PowerMethod::PsciHvc => armv8a::psci::system_reset(&HypervisorCall),
            PowerMethod::Watchdog => {
                defmt::info!("power: resetting through the PM watchdog");
                // SAFETY: the BCM2711's power management block.
                unsafe { watchdog_reset(POWER_MANAGEMENT_BASE, false) };
                armv8a::psci::halt()
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
pub use control::{system_off, system_reset};

/// The board's power control as the kernel's
/// [`SystemPower`](kernel::hil::power::SystemPower) (the console's
/// `poweroff` and `reboot`): PSCI when the device tree names a PSCI
/// firmware, otherwise the PM watchdog ([`method`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Power;

#[cfg(target_arch = "aarch64")]
impl kernel::hil::power::SystemPower for Power {
    fn power_off(&self, status: u32) -> ! {
        system_off(status)
    }

    fn reset(&self) -> ! {
        system_reset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halt_marks_partition_63_with_the_password() {
        assert_eq!(halt_status(0), 0x5a00_0555);
        // Other status bits stay; a password read back is not reused.
        assert_eq!(halt_status(0xff00_1aaa), 0x5a00_1fff);
    }

    #[test]
    fn reset_requests_a_full_reset_with_the_password() {
        assert_eq!(full_reset_control(0), 0x5a00_0020);
        assert_eq!(full_reset_control(0x0000_0131), 0x5a00_0121);
    }

    #[test]
    fn the_method_starts_as_the_watchdog() {
        assert_eq!(PowerMethod::from_code(0), PowerMethod::Watchdog);
        for method in [
            PowerMethod::Watchdog,
            PowerMethod::PsciSmc,
            PowerMethod::PsciHvc,
        ] {
            assert_eq!(PowerMethod::from_code(method.code()), method);
        }
    }
}
