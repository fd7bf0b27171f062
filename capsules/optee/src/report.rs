//! OP-TEE's part of the boot report: its versions, capabilities, the
//! argument page, the devices found and what the calls did.
//!
//! ```text
//! optee report: partition 0x8001: API v1.0, OP-TEE 4.4 (build ID 0x4d4f444c), capabilities 0x1, 4 RPC parameters, 4 call slot(s), argument page 0x100000000000
//! optee report: devices: 1
//! optee report: device optee-ta-5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001
//! optee report: 5 call(s), 2 RPC(s), 0 busy retries, 0 interrupt(s), 3 region(s) shared, 3 reclaimed, 0 given up
//! ```

use capsule_ffa::boot::ReportSection;

use crate::driver::{DriverState, EnumerationState, OpteeDriver};

impl ReportSection for OpteeDriver<'_> {
    fn log_report(&self) {
        let Some(info) = self.info() else {
            return;
        };
        let capabilities = info.capabilities;
        defmt::info!(
            "optee report: partition {=u16:#06x}: API v{=u32}.{=u32}, OP-TEE {=u32}.{=u32} (build ID {=u32:#010x}), capabilities {=u32:#x}, {=u8} RPC parameters, {=usize} call slot(s), argument page {=u64:#x}",
            info.partition.raw(),
            info.api.major,
            info.api.minor,
            info.os.major,
            info.os.minor,
            info.os.build,
            capabilities.map_or(0, |capabilities| capabilities.bits),
            capabilities.map_or(0, |capabilities| capabilities.rpc_parameters),
            info.layout.map_or(0, |layout| layout.entries),
            info.argument_handle.unwrap_or(0)
        );
        match self.state() {
            DriverState::Ready => {}
            DriverState::NotDriven(reason) => {
                defmt::warn!("optee report: not driven: {}", reason);
                return;
            }
            DriverState::Probing => {
                defmt::warn!("optee report: still probing");
                return;
            }
            DriverState::Unbound => return,
        }
        match self.enumeration() {
            EnumerationState::Listed(count) => {
                defmt::info!("optee report: devices: {=usize}", count);
                self.for_each_device(|device| {
                    defmt::info!("optee report: device optee-ta-{}", device)
                });
            }
            other => defmt::warn!("optee report: devices: {}", other),
        }
        let counters = self.counters();
        defmt::info!(
            "optee report: {=u32} call(s), {=u32} RPC(s), {=u32} busy retries, {=u32} interrupt(s), {=u32} region(s) shared, {=u32} reclaimed, {=u32} given up",
            counters.calls,
            counters.rpcs,
            counters.busy_retries,
            counters.interrupts,
            counters.shares,
            counters.reclaims,
            counters.abandoned
        );
    }
}
