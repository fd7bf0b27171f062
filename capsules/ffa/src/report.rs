//! The boot report: after the init queue settles, one log line for the FF-A
//! session, one per partition device, one per memory transaction made at
//! boot (handle, operation, receiver, pages, state), and, where the board
//! has them, one for the split-phase requests (sent, answered, interrupts
//! served, yields, back-offs) and one for notifications and indirect
//! messages (the SRI, the bindings, what was delivered and sent).
//!
//! [`crate::boot::BootCompletion`] logs it once boot is complete (wired by
//! `components::boot`). The same facts are available as a [`BootReport`]
//! value, for tests and for boards that print them elsewhere.

use crate::bus::{FfaBus, PartitionDevice, RootState};
use crate::client::Session;
use crate::memory::record::{MemoryRecord, RECORDS};
use crate::notifications::{BindingSummary, NotificationCounters};
use crate::partition::{ExecutionState, PartitionKind, PartitionProperties};
use crate::requests::RequestCounters;
use heapless::Vec;

/// Short names of the properties a partition has, for log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertySummary(pub PartitionProperties);

impl defmt::Format for PropertySummary {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        let properties = &self.0;
        defmt::write!(formatter, "{=u32:#x}", properties.raw());
        let flags = [
            (properties.receives_direct_requests(), " direct-receive"),
            (properties.sends_direct_requests(), " direct-send"),
            (properties.indirect_messaging(), " indirect"),
            (properties.notifications(), " notifications"),
            (properties.receives_direct_requests_2(), " req2-receive"),
            (properties.sends_direct_requests_2(), " req2-send"),
            (properties.told_of_vm_creation(), " vm-created"),
            (properties.told_of_vm_destruction(), " vm-destroyed"),
            (properties.supports_live_activation(), " live-activation"),
            (
                properties.requires_cpu_rendezvous_for_live_activation(),
                " cpu-rendezvous",
            ),
            (
                properties.supports_smc64_cpu_cycle_management(),
                " smc64-cpu-cycles",
            ),
        ];
        for (present, name) in flags {
            if present {
                defmt::write!(formatter, "{=str}", name);
            }
        }
        match properties.execution_state() {
            ExecutionState::AArch64 => defmt::write!(formatter, " aarch64"),
            ExecutionState::AArch32 => defmt::write!(formatter, " aarch32"),
            ExecutionState::Unreported => {}
        }
    }
}

/// What a partition ID names, for log lines: `contexts 4`, or the kind of SEPID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindSummary(pub PartitionKind);

impl defmt::Format for KindSummary {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        match self.0 {
            PartitionKind::Endpoint { execution_contexts } => {
                defmt::write!(formatter, "contexts {=u16}", execution_contexts)
            }
            PartitionKind::IndependentPeripheral => {
                defmt::write!(formatter, "SEPID of an independent peripheral device")
            }
            PartitionKind::DependentPeripheral { proxy } => defmt::write!(
                formatter,
                "SEPID of a dependent peripheral device, proxy {=u16:#06x}",
                proxy.raw()
            ),
            PartitionKind::Auxiliary => defmt::write!(formatter, "auxiliary ID"),
        }
    }
}

/// One memory transaction, for log lines: `memory handle 0xfffffffe: share
/// to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1
/// fragment(s): Reclaimed` (the boot report's words; the console's `ffa mem`
/// repeats them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSummary(pub MemoryRecord);

impl defmt::Format for RecordSummary {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        let record = &self.0;
        match record.handle {
            Some(handle) => defmt::write!(
                formatter,
                "memory handle {=u64:#x}: {=str} to {=u16:#06x} ({=u8} receiver(s)), {=u32} pages in {=u32} range(s), {=str} layout, {=u32} fragment(s): {}",
                handle.0,
                record.operation.name(),
                record.receiver.raw(),
                record.receivers,
                record.pages,
                record.ranges,
                record.layout.name(),
                record.fragments,
                record.state
            ),
            None => defmt::write!(
                formatter,
                "memory (no handle): {=str} to {=u16:#06x}, {=u32} pages in {=u32} range(s): {}",
                record.operation.name(),
                record.receiver.raw(),
                record.pages,
                record.ranges,
                record.state
            ),
        }
    }
}

/// Everything the boot report says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootReport<const PARTITIONS: usize> {
    /// The root device's state.
    pub root: RootState,
    /// The session set-up established, if it did.
    pub session: Option<Session>,
    /// The partition devices with their slots.
    pub partitions: Vec<(usize, PartitionDevice), PARTITIONS>,
    /// The split-phase requests (every core's engine), if the board has the engine.
    pub requests: Option<RequestCounters>,
    /// Notifications and indirect messages, if the board has the service:
    /// the SRI, the counters, and the bindings (at most 8 listed).
    pub notifications: Option<(Option<u32>, NotificationCounters, Vec<BindingSummary, 8>)>,
    /// The memory transactions made (the first few).
    pub memory: Vec<MemoryRecord, RECORDS>,
    /// How many memory transactions were made in all.
    pub memory_total: usize,
}

impl<const PARTITIONS: usize> BootReport<PARTITIONS> {
    /// Collects the report from the bus.
    pub fn collect(bus: &FfaBus<'_, PARTITIONS>) -> BootReport<PARTITIONS> {
        let mut partitions = Vec::new();
        bus.for_each_device(|slot, device| {
            // The bus holds at most PARTITIONS devices, so this always fits.
            let _ = partitions.push((slot, *device));
        });
        let notifications = bus.notifications().map(|service| {
            let mut bindings = Vec::new();
            service.for_each_binding(&mut |binding| {
                // More than 8 are summed up in the counters.
                let _ = bindings.push(binding);
            });
            (
                service.schedule_receiver_interrupt(),
                service.counters(),
                bindings,
            )
        });
        let mut memory = Vec::new();
        bus.client().for_each_memory_record(|record| {
            // The client keeps at most RECORDS records, so this always fits.
            let _ = memory.push(*record);
        });
        BootReport {
            root: bus.state(),
            session: bus.client().session(),
            partitions,
            requests: bus.request_counters(),
            notifications,
            memory,
            memory_total: bus.client().memory().log.total(),
        }
    }

    /// Logs the report with `defmt`.
    pub fn log(&self) {
        match self.session {
            Some(session) => defmt::info!(
                "ffa report: root {}, FF-A v{=u16}.{=u16} (SMCCC {=u16}.{=u16}), own ID {=u16:#06x}, RX/TX {=usize} bytes ({=u32} pages), {=usize} partitions",
                self.root,
                session.version.version().major(),
                session.version.version().minor(),
                session.smccc_version.major(),
                session.smccc_version.minor(),
                session.own_id.raw(),
                session.buffers.size,
                session.buffers.pages,
                self.partitions.len()
            ),
            None => defmt::info!("ffa report: root {}, no FF-A session", self.root),
        }
        for (slot, device) in self.partitions.iter() {
            defmt::info!(
                "ffa report: arm-ffa-{=usize}: ID {=u16:#06x} UUID {} {} properties {} driver {=str}",
                slot + 1,
                device.info.id.raw(),
                device.info.uuid,
                KindSummary(device.info.kind),
                PropertySummary(device.info.properties),
                device.driver.unwrap_or("(none)")
            );
        }
        if let Some(requests) = self.requests {
            defmt::info!(
                "ffa report: requests: {=u32} sent, {=u32} answered, {=u32} failed; {=u32} interrupts served, {=u32} yields waited out, {=u32} back-offs; {=u32} calls made on secondary cores",
                requests.sent,
                requests.answered,
                requests.failed,
                requests.interrupts,
                requests.yields,
                requests.backoffs,
                requests.core_calls
            );
        }
        if let Some((sri, counters, bindings)) = &self.notifications {
            match sri {
                Some(id) => defmt::info!(
                    "ffa report: notifications: SRI {=u32}, {=u32} taken, {=u32} INFO_GET; {=u32} delivered, {=u32} unbound, {=u32} set; indirect messages {=u32} received, {=u32} sent, {=u32} dropped",
                    *id,
                    counters.sri,
                    counters.info_rounds,
                    counters.delivered,
                    counters.unbound,
                    counters.set,
                    counters.messages_received,
                    counters.messages_sent,
                    counters.messages_refused
                ),
                None => defmt::info!(
                    "ffa report: notifications: no SRI; {=u32} delivered, {=u32} set; indirect messages {=u32} received, {=u32} sent",
                    counters.delivered,
                    counters.set,
                    counters.messages_received,
                    counters.messages_sent
                ),
            }
            for binding in bindings.iter() {
                defmt::info!(
                    "ffa report: notification binding: {=u64:#x} from {=u16:#06x} ({=str})",
                    binding.bitmap.0,
                    binding.partition.raw(),
                    if binding.per_vcpu {
                        "per-vCPU"
                    } else {
                        "global"
                    }
                );
            }
        }
        if self.session.is_some() {
            defmt::info!(
                "ffa report: {=usize} memory transaction(s)",
                self.memory_total
            );
        }
        for record in self.memory.iter() {
            defmt::info!("ffa report: {}", RecordSummary(*record));
        }
        if self.memory_total > self.memory.len() {
            defmt::info!(
                "ffa report: ... and {=usize} more memory transaction(s)",
                self.memory_total - self.memory.len()
            );
        }
    }
}

/// Collects and logs the boot report.
pub fn log_boot_report<const PARTITIONS: usize>(bus: &FfaBus<'_, PARTITIONS>) {
    BootReport::collect(bus).log();
}
