//! The cores of the `virt` machine, from the device tree QEMU writes at the
//! start of DRAM: one `/cpus/cpu@N` node per `-smp` core. With secure
//! firmware QEMU emulates no PSCI and names no `enable-method`; the
//! firmware (the test firmware, or TF-A) implements PSCI behind `SMC`, so
//! every secondary is started with `CPU_ON` through the monitor conduit.

use armv8a::conduit::SecureMonitorCall;
use armv8a::device_tree::{
    self, CoreDescription, DeviceTreeError, EnableMethod, PlatformDescription,
};
use armv8a::smp::SecondaryCores;

use crate::memory_map::DRAM_BASE;

static SECURE_MONITOR_CALL: SecureMonitorCall = SecureMonitorCall;

/// The machine's cores, read from the device tree at `device_tree_address`
/// (the firmware's x0; 0, as standard TF-A hands over, means QEMU's tree at
/// the start of DRAM). Without a usable tree: the boot core alone.
pub fn cores(device_tree_address: u64) -> SecondaryCores {
    let address = if device_tree_address == 0 {
        DRAM_BASE as u64
    } else {
        device_tree_address
    };
    // SAFETY: QEMU writes its device tree at the start of DRAM (mapped
    // memory) and nothing writes it while the kernel runs; any other x0
    // is the firmware's hand-over address.
    let parsed = unsafe { device_tree::blob_at(address) }
        .ok_or(DeviceTreeError::Missing)
        .and_then(device_tree::parse);
    let description = match parsed {
        Ok(description) if description.core_count() > 0 => description,
        other => {
            if let Err(error) = other {
                defmt::warn!(
                    "qemu-virt: no usable device tree at {=u64:#x} ({}); the boot core alone",
                    address,
                    error
                );
            }
            PlatformDescription::new(
                None,
                &[CoreDescription {
                    mpidr: 0,
                    enable_method: EnableMethod::Unspecified,
                }],
            )
        }
    };
    defmt::info!(
        "qemu-virt: {=usize} core(s) in the device tree; secondaries start with PSCI CPU_ON",
        description.core_count()
    );
    SecondaryCores::new(description, &SECURE_MONITOR_CALL, true)
}
