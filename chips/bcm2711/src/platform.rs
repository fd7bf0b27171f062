//! What firmware and cores the board has: from the device tree the boot
//! firmware hands over, or, without one, the BCM2711's own table.
//!
//! The `/psci` node decides everything that needs a monitor: with it (TF-A's
//! `rpi4` BL31 adds `method = "smc"`), the kernel's SMCCC conduit is its
//! method and power-off goes through PSCI; without it there is no monitor,
//! the conduit is `armv8a::conduit::NoMonitor` (FF-A absent, no `SMC` ever issued) and
//! power-off uses the watchdog.

#[cfg(target_arch = "aarch64")]
use armv8a::conduit::{HypervisorCall, NoMonitor, SecureMonitorCall};
use armv8a::device_tree::{
    self, CoreDescription, DeviceTreeError, EnableMethod, PlatformDescription, PsciMethod,
};
#[cfg(target_arch = "aarch64")]
use kernel::hil::smccc::SmcccConduit;

use crate::memory_map::{CORE_COUNT, SPIN_TABLE_CORE_1};
use crate::power::{self, PowerMethod};

/// The highest address the kernel maps as memory (the first GiB): a device
/// tree must lie below it.
const MAPPED_MEMORY_END: u64 = 1 << 30;

/// Where the platform description came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Source {
    /// The device tree at this address.
    DeviceTree(u64),
    /// The BCM2711's table: no usable device tree.
    ChipTable,
}

/// What the board has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Platform {
    /// The firmware and the cores.
    pub description: PlatformDescription,
    /// Where that came from.
    pub source: Source,
}

#[cfg(target_arch = "aarch64")]
static SECURE_MONITOR_CALL: SecureMonitorCall = SecureMonitorCall;
#[cfg(target_arch = "aarch64")]
static HYPERVISOR_CALL: HypervisorCall = HypervisorCall;
#[cfg(target_arch = "aarch64")]
static NO_MONITOR: NoMonitor = NoMonitor;

/// The BCM2711 as the stock armstub (and QEMU) leaves it: no monitor, four
/// cores, the secondaries parked on the spin table.
pub fn chip_table() -> PlatformDescription {
    let mut cores = [CoreDescription {
        mpidr: 0,
        enable_method: EnableMethod::Unspecified,
    }; CORE_COUNT];
    for (index, core) in cores.iter_mut().enumerate().skip(1) {
        *core = CoreDescription {
            mpidr: index as u64,
            enable_method: EnableMethod::SpinTable {
                release_address: SPIN_TABLE_CORE_1 + 8 * (index as u64 - 1),
            },
        };
    }
    PlatformDescription::new(None, &cores)
}

impl Platform {
    /// Reads the device tree at `device_tree_address` (the boot firmware's
    /// x0), logs what it found, and sets the power-off method.
    pub fn discover(device_tree_address: u64) -> Platform {
        let parsed = if device_tree_address < MAPPED_MEMORY_END {
            // SAFETY: the first GiB is mapped memory; the boot firmware put
            // a device tree (or ATAGs, or nothing) at its hand-over address
            // and nothing writes it while the kernel reads it.
            unsafe { device_tree::blob_at(device_tree_address) }
                .ok_or(DeviceTreeError::Missing)
                .and_then(device_tree::parse)
        } else {
            Err(DeviceTreeError::Missing)
        };
        let platform = match parsed {
            Ok(description) => Platform {
                description,
                source: Source::DeviceTree(device_tree_address),
            },
            Err(error) => {
                if error == DeviceTreeError::Missing {
                    defmt::info!(
                        "bcm2711: no device tree at {=u64:#x}; using the chip's table",
                        device_tree_address
                    );
                } else {
                    defmt::warn!(
                        "bcm2711: the device tree at {=u64:#x} is unusable ({}); using the chip's table",
                        device_tree_address,
                        error
                    );
                }
                Platform {
                    description: chip_table(),
                    source: Source::ChipTable,
                }
            }
        };
        power::set_method(match platform.description.psci {
            Some(PsciMethod::Smc) => PowerMethod::PsciSmc,
            Some(PsciMethod::Hvc) => PowerMethod::PsciHvc,
            None => PowerMethod::Watchdog,
        });
        match platform.description.psci {
            Some(method) => defmt::info!(
                "bcm2711: PSCI firmware present (method {}); {=usize} cores; power-off through PSCI",
                method,
                platform.description.core_count()
            ),
            None => defmt::info!(
                "bcm2711: no PSCI firmware: no secure monitor, no SMC; {=usize} cores; power-off through the PM watchdog",
                platform.description.core_count()
            ),
        }
        platform
    }

    /// The cores: started through the spin table with the stock firmware
    /// (the device tree's `cpu-release-addr`, or the chip's table), or PSCI
    /// `CPU_ON` under TF-A (its `/psci` switches the cores' enable method).
    #[cfg(target_arch = "aarch64")]
    pub fn cores(&self) -> armv8a::smp::SecondaryCores {
        armv8a::smp::SecondaryCores::new(self.description, self.monitor_conduit(), false)
    }

    /// The SMCCC conduit to the secure monitor: the `/psci` method, or
    /// `NoMonitor` when there is none.
    #[cfg(target_arch = "aarch64")]
    pub fn monitor_conduit(&self) -> &'static dyn SmcccConduit {
        match self.description.psci {
            Some(PsciMethod::Smc) => &SECURE_MONITOR_CALL,
            Some(PsciMethod::Hvc) => &HYPERVISOR_CALL,
            None => &NO_MONITOR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chip_table_parks_cores_1_to_3_on_the_spin_table() {
        let table = chip_table();
        assert_eq!(table.psci, None);
        let releases: std::vec::Vec<EnableMethod> =
            table.cores().map(|core| core.enable_method).collect();
        assert_eq!(
            releases,
            [
                EnableMethod::Unspecified,
                EnableMethod::SpinTable {
                    release_address: 0xe0
                },
                EnableMethod::SpinTable {
                    release_address: 0xe8
                },
                EnableMethod::SpinTable {
                    release_address: 0xf0
                },
            ]
        );
    }
}
