//! The proxy at EL2: [`El2Proxy`] is the [`HostCallHandler`] the chip's EL2
//! runtime calls for every `HVC` of the kernel and every trapped `SMC`.
//!
//! - `HVC #0` is the control interface ([`crate::control`]): the
//!   query, start finalisation (with the host memory and carve-out the
//!   kernel names, and the memory EL2 owns, which the kernel does not get
//!   to name: the runtime's [`El2Services::el2_memory`], EL2's whole image
//!   from the linker script, and this handler's own state), one
//!   finalisation step (and, the first time the proxy is finalised,
//!   [`El2Services::trap_host_smcs`]), and the status.
//!   Any other HVC, or an HVC immediate other than 0, gets x0 = -1.
//! - A trapped `SMC #0` goes to [`Proxy::handle_host_call`]; refusals and
//!   the calls handled at EL2 are logged (`el2 proxy: ...`). An SMC
//!   immediate other than 0 gets x0 = -1 without reaching the monitor.
//!   PSCI `CPU_ON` goes to the relay ([`crate::psci_relay`]): the new core
//!   comes up through EL2, where [`HostCallHandler::secondary_core_entry`]
//!   hands it the host's entry point.
//!
//! ```
//! use capsule_ffa_proxy::control;
//! use capsule_ffa_proxy::el2::El2Proxy;
//! use kernel::hil::hypervisor::{El2Memory, El2Services, HostCallHandler};
//! use kernel::hil::smccc::SmcccRegisters;
//! use kernel::ErrorCode;
//!
//! /// An EL2 without a monitor behind it.
//! struct Nothing;
//! impl El2Services for Nothing {
//!     fn call_monitor(&mut self, _: &SmcccRegisters) -> SmcccRegisters {
//!         SmcccRegisters::from_slice(&[u64::MAX])
//!     }
//!     fn copy(&mut self, _: u64, _: u64, _: usize) -> Result<(), ErrorCode> {
//!         Err(ErrorCode::INVAL)
//!     }
//!     fn trap_host_smcs(&mut self) {}
//!     fn el2_memory(&self) -> El2Memory {
//!         El2Memory::EMPTY
//!     }
//! }
//!
//! let mut proxy = El2Proxy::new();
//! let query = SmcccRegisters::with_function(control::QUERY);
//! let answer = proxy.hypervisor_call(0, &query, &mut Nothing);
//! assert_eq!(answer.x[1], control::INTERFACE_MAGIC);
//! ```

use core::sync::atomic::AtomicU8;

use kernel::hil::hypervisor::{
    El2Services, FaultDecision, HostCallHandler, HostEntry, HostMemoryMap, MemoryRange, Stage2Fault,
};
use kernel::hil::smccc::SmcccRegisters;

use crate::control::{self, StatusRegisters};
use crate::function;
use crate::memory::ProxyLayout;
use crate::proxy::{Disposition, Handled, Proxy, StartError};
use crate::psci_relay::{PsciRelay, RelayOutcome};
use crate::{Registers, REGISTER_COUNT};
use ffa_abi::ReplyKind;

/// The EL2 FF-A proxy, as the EL2 runtime's handler.
#[derive(Debug, Default)]
pub struct El2Proxy {
    proxy: Proxy,
    relay: PsciRelay,
}

impl El2Proxy {
    /// A proxy that has not started finalising: it traps nothing. Without
    /// a page-state table it cannot mediate memory sharing (it refuses it);
    /// see [`El2Proxy::with_page_states`].
    pub const fn new() -> El2Proxy {
        El2Proxy {
            proxy: Proxy::new(),
            relay: PsciRelay::new(),
        }
    }

    /// A proxy that tracks the ownership of every page of host memory in
    /// `page_states` (in EL2's private memory: two bits per page,
    /// [`crate::ownership::storage_bytes`]) and mediates memory sharing.
    pub const fn with_page_states(page_states: &'static [AtomicU8]) -> El2Proxy {
        El2Proxy {
            proxy: Proxy::with_page_states(page_states),
            relay: PsciRelay::new(),
        }
    }

    /// The decisions and state.
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }

    /// This handler's own memory, which the host must never name as a buffer.
    fn own_memory(&self) -> MemoryRange {
        MemoryRange::new(
            core::ptr::from_ref(self).addr() as u64,
            core::mem::size_of::<Self>() as u64,
        )
    }

    fn start_finalisation(&mut self, call: &Registers, el2: &mut dyn El2Services) -> u64 {
        let Some(el2_memory) = el2.el2_memory().with(self.own_memory()) else {
            defmt::error!(
                "el2: proxy finalisation refused: no room to record the proxy's own memory"
            );
            return control::INVALID_PARAMETER;
        };
        let layout = ProxyLayout::with_mailbox_in(
            MemoryRange::new(call[1], call[2]),
            MemoryRange::new(call[3], call[4]),
            el2_memory,
        )
        .with_el2_code(el2.el2_shared_code())
        .with_devices(MemoryRange::new(call[5], call[6]))
        .with_firmware_shared(MemoryRange::new(call[7], call[8]));
        let host_cores = call[9] as u16;
        match self.proxy.start_finalisation(layout, host_cores) {
            Ok(()) => {
                if let Err(code) = self.protect_host(&layout, el2) {
                    self.proxy.cancel_start();
                    return code;
                }
                defmt::info!(
                    "el2: proxy finalisation started: mailbox TX {=u64:#x}, RX {=u64:#x} ({=u32} page each); host memory {=u64:#x}+{=u64:#x}",
                    layout.mailbox.transmit,
                    layout.mailbox.receive,
                    layout.mailbox.page_count,
                    layout.host_memory.base,
                    layout.host_memory.size
                );
                for range in layout.el2.ranges() {
                    defmt::info!(
                        "el2: EL2 owns {=u64:#x}+{=u64:#x}: never a host buffer",
                        range.base,
                        range.size
                    );
                }
                if !layout.firmware_shared.is_empty() {
                    defmt::info!(
                        "el2: the firmware shares {=u64:#x}+{=u64:#x} with the secure world: the host's to use, never to give",
                        layout.firmware_shared.base,
                        layout.firmware_shared.size
                    );
                }
                control::SUCCESS
            }
            Err(StartError::AlreadyStarted) => control::NOT_REQUIRED,
            Err(StartError::Layout(error)) => {
                defmt::error!("el2: proxy finalisation refused: bad layout ({})", error);
                control::INVALID_PARAMETER
            }
            Err(StartError::HostCores(cores)) => {
                defmt::error!(
                    "el2: proxy finalisation refused: a host of {=u16} cores (1 to {=usize})",
                    cores,
                    crate::psci_relay::MAXIMUM_CORES
                );
                control::INVALID_PARAMETER
            }
            Err(StartError::Ownership(error)) => {
                defmt::error!(
                    "el2: proxy finalisation refused: the page-state table cannot track host memory ({})",
                    error
                );
                control::INVALID_PARAMETER
            }
            Err(StartError::TooManyPrivateRanges) => {
                defmt::error!(
                    "el2: proxy finalisation refused: EL2's private memory takes too many ranges"
                );
                control::INVALID_PARAMETER
            }
        }
    }

    /// Builds the host's stage 2 from `layout` and turns it on: from the
    /// return of this HVC on, the host reaches neither EL2's private memory
    /// nor the proxy's mailbox, and may only read and execute EL2's code.
    fn protect_host(&mut self, layout: &ProxyLayout, el2: &mut dyn El2Services) -> Result<(), u64> {
        let Some(private) = layout.private() else {
            return Err(control::INVALID_PARAMETER);
        };
        let map = HostMemoryMap {
            devices: layout.devices,
            memory: layout.host_memory,
            shared_code: layout.el2_code,
            private,
        };
        match el2.protect_host(&map) {
            Ok(summary) => {
                defmt::info!(
                    "el2: host stage 2 on: host memory {=u64:#x}+{=u64:#x} read-write, devices {=u64:#x}+{=u64:#x}, EL2's code {=u64:#x}+{=u64:#x} read/execute only; {=u32} of {=u32} tables used",
                    map.memory.base,
                    map.memory.size,
                    map.devices.base,
                    map.devices.size,
                    map.shared_code.base,
                    map.shared_code.size,
                    summary.tables_used,
                    summary.tables_total
                );
                for range in private.ranges() {
                    defmt::info!(
                        "el2: host stage 2: {=u64:#x}+{=u64:#x} is EL2's: unmapped from the host",
                        range.base,
                        range.size
                    );
                }
                if let Some(table) = self.proxy.sharing().ownership() {
                    defmt::info!(
                        "el2: page ownership tracked for {=u64} pages of host memory in {=usize} bytes",
                        table.host_memory().size / crate::ownership::PAGE_SIZE,
                        table.storage_bytes()
                    );
                }
                Ok(())
            }
            Err(error) => {
                defmt::error!(
                    "el2: proxy finalisation refused: the host's stage 2 could not be built ({})",
                    error
                );
                Err(control::INVALID_PARAMETER)
            }
        }
    }

    fn finalisation_step(&mut self, el2: &mut dyn El2Services) -> StatusRegisters {
        let was_finalised = self.proxy.is_finalised();
        let status = self.proxy.finalise_step(el2);
        if self.proxy.is_finalised() && !was_finalised {
            el2.trap_host_smcs();
            defmt::info!("el2: proxy {}; host SMCs now trap to EL2", status);
        }
        control::encode_status(&status)
    }
}

impl HostCallHandler for El2Proxy {
    fn hypervisor_call(
        &mut self,
        immediate: u16,
        call: &SmcccRegisters,
        el2: &mut dyn El2Services,
    ) -> SmcccRegisters {
        let mut answer: StatusRegisters = [control::NOT_SUPPORTED, 0, 0, 0, 0, 0, 0];
        if immediate == 0 {
            match call.x[0] as u32 {
                control::QUERY => answer[..3].copy_from_slice(&[
                    control::SUCCESS,
                    control::INTERFACE_MAGIC,
                    control::INTERFACE_VERSION,
                ]),
                control::START_FINALISATION => answer[0] = self.start_finalisation(&call.x, el2),
                control::FINALISATION_STEP => answer = self.finalisation_step(el2),
                control::STATUS => answer = control::encode_status(&self.proxy.status()),
                _ => {}
            }
        }
        // x0–x7 are results; x8–x17 are preserved.
        let mut reply = *call;
        reply.x[..answer.len()].copy_from_slice(&answer);
        reply.x[answer.len()] = 0;
        reply
    }

    fn trapped_smc(
        &mut self,
        immediate: u16,
        call: &SmcccRegisters,
        el2: &mut dyn El2Services,
    ) -> SmcccRegisters {
        let function_id = function::without_sve_hint(call.x[0] as u32);
        if immediate != 0 {
            defmt::warn!(
                "el2 proxy: SMC #{=u16} ({=str}) refused: SMCCC calls use SMC #0",
                immediate,
                function::name(function_id)
            );
            let mut reply = *call;
            reply.x[0] = control::NOT_SUPPORTED;
            return reply;
        }
        if PsciRelay::handles(function_id) {
            let layout = *self.proxy.layout();
            let (reply, outcome) = self.relay.cpu_on(call, &layout, el2);
            match outcome {
                RelayOutcome::Relayed { core, entry } => defmt::info!(
                    "el2 proxy: CPU_ON relayed: core {=usize} starts at EL2, then the host at {=u64:#x}",
                    core,
                    entry
                ),
                other => defmt::warn!("el2 proxy: CPU_ON refused: {}", other),
            }
            return reply;
        }
        let mut registers: Registers = [0; REGISTER_COUNT];
        registers.copy_from_slice(&call.x);
        let outcome = self.proxy.handle_host_call(&registers, el2);
        match outcome.disposition {
            Disposition::Refused(refusal) => {
                defmt::warn!(
                    "el2 proxy: {=str} from the host refused with {=str}: {}",
                    function::name(function_id),
                    refusal.error().name(),
                    refusal
                );
                if let Some(explanation) = refusal.explanation() {
                    defmt::warn!("el2 proxy: {=str}", explanation);
                }
            }
            Disposition::Handled(
                handled @ Handled::HostBuffersForgotten {
                    monitor: ReplyKind::Error(_) | ReplyKind::NotSupported,
                },
            ) => defmt::warn!("el2 proxy: {}", handled),
            Disposition::Handled(
                handled @ (Handled::VersionNegotiated { .. }
                | Handled::HostBuffersRecorded(_)
                | Handled::HostBuffersForgotten { .. }
                | Handled::PartitionInfoCopied { .. }
                | Handled::MessageDelivered { .. }
                | Handled::MessageSent { .. }),
            ) => defmt::info!("el2 proxy: {}", handled),
            Disposition::Handled(handled @ Handled::MessageDropped(_)) => {
                defmt::warn!("el2 proxy: {}", handled)
            }
            Disposition::Handled(handled @ Handled::Memory(_)) => {
                defmt::info!("el2 proxy: {}", handled)
            }
            Disposition::Handled(handled) => defmt::debug!("el2 proxy: {}", handled),
            Disposition::PassedThrough | Disposition::Forwarded => {}
        }
        SmcccRegisters { x: outcome.reply }
    }

    fn secondary_core_entry(
        &mut self,
        core: usize,
        _context: u64,
        _el2: &mut dyn El2Services,
    ) -> Option<HostEntry> {
        let entry = self.relay.arrive(core);
        match entry {
            Some(entry) => defmt::info!(
                "el2 proxy: core {=usize} up at EL2 (SMCs trapped); entering the host at {=u64:#x}",
                core,
                entry.entry
            ),
            None => defmt::warn!(
                "el2 proxy: core {=usize} entered EL2 without a CPU_ON through the proxy",
                core
            ),
        }
        entry
    }

    fn host_stage2_fault(&mut self, fault: &Stage2Fault) -> FaultDecision {
        let (decision, state) = self.proxy.host_stage2_fault(fault);
        match (decision, state) {
            (FaultDecision::Retry, _) => defmt::debug!(
                "el2 proxy: the host's access to {=u64:#x} is allowed now: retried",
                fault.ipa
            ),
            (FaultDecision::Inject, Some(state)) => {
                defmt::warn!(
                "el2 proxy: the host may not {=str} {=u64:#x} ({=str}): the fault goes to the host",
                if fault.fetch { "execute" } else if fault.write { "write" } else { "read" },
                fault.ipa,
                state.name()
            )
            }
            (FaultDecision::Inject, None) => defmt::warn!(
                "el2 proxy: {=u64:#x} is not host memory: the fault goes to the host",
                fault.ipa
            ),
        }
        decision
    }
}
