//! The PSCI relay: how a core the host starts comes up under the proxy, as
//! pKVM's `psci-relay.c` does it.
//!
//! Once the proxy traps the host's SMCs, a `CPU_ON` would otherwise start a
//! core straight at the host's entry point, at EL2, without the trap: that
//! core's SMCs would bypass the proxy. So the proxy takes the 64-bit
//! `CPU_ON` itself:
//!
//! 1. it checks the target (Aff0 of a core EL2 has a stack for, no other
//!    affinity bits: else `INVALID_PARAMETERS`) and the host's entry point
//!    (4-byte aligned, in host memory, outside the proxy's carve-out and
//!    outside everything EL2 owns but the code it shares with the kernel —
//!    never in EL2's data, stacks or the proxy's state, never EL2's own
//!    entry: else `INVALID_ADDRESS`), and refuses a core already being
//!    started through it (`ALREADY_ON`, as pKVM does while its per-CPU
//!    lock is held);
//! 2. it saves the host's entry point and context ID for that core and
//!    asks the monitor to start the core at the EL2 runtime's own entry
//!    (`El2Services::secondary_entry_point`) with the core index as
//!    context; a refusal from the monitor goes back to the host unchanged
//!    and frees the slot;
//! 3. on the new core the runtime sets EL2 up (with the trap) and asks
//!    [`PsciRelay::arrive`], which hands back the saved entry and context:
//!    the host starts there, at EL1, already mediated.
//!
//! The 32-bit `CPU_ON` is refused (`NOT_SUPPORTED`), as pKVM refuses it.
//! Every other PSCI call passes through unchanged (`CPU_OFF`,
//! `AFFINITY_INFO`, `SYSTEM_OFF`, ...). `FFA_SECONDARY_EP_REGISTER` is not
//! PSCI and not the host's: it is a secure-world ABI (a partition, or an
//! S-EL1 SPMC, registering where its execution contexts start on a new
//! core); TF-A refuses it to the normal world and pKVM forwards it
//! untouched. This proxy does not mediate it, so it gets
//! `FFA_ERROR(NOT_SUPPORTED)` like every FF-A function outside its list.

use kernel::hil::hypervisor::{El2Services, HostEntry};
use kernel::hil::smccc::SmcccRegisters;

use crate::memory::{BufferProblem, ProxyLayout};

/// PSCI `CPU_ON`, SMC32.
pub const PSCI_CPU_ON_32: u32 = 0x8400_0003;
/// PSCI `CPU_ON`, SMC64.
pub const PSCI_CPU_ON_64: u32 = 0xC400_0003;
/// Cores the relay can start (the EL2 runtime's stacks).
pub const MAXIMUM_CORES: usize = 8;

/// PSCI `NOT_SUPPORTED`.
const NOT_SUPPORTED: i64 = -1;
/// PSCI `INVALID_PARAMETERS`.
const INVALID_PARAMETERS: i64 = -2;
/// PSCI `ALREADY_ON`.
const ALREADY_ON: i64 = -4;
/// PSCI `INVALID_ADDRESS`.
const INVALID_ADDRESS: i64 = -9;

/// Why the relay answered `CPU_ON` itself, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RelayRefusal {
    /// The 32-bit `CPU_ON`.
    ThirtyTwoBit,
    /// An MPIDR the relay has no core for.
    UnknownCore(u64),
    /// The core is already being started through the relay.
    AlreadyStarting(usize),
    /// The entry point is not 4-byte aligned.
    MisalignedEntryPoint(u64),
    /// The entry point is not the host's to start a core at: outside host
    /// memory, in the proxy's carve-out, or in EL2's own memory.
    EntryPointNotTheHosts(u64, BufferProblem),
    /// The entry point is EL2's own entry for the cores it starts.
    EntryPointIsEl2s(u64),
    /// The EL2 runtime cannot take cores.
    NoEl2Entry,
}

/// What the relay did with a `CPU_ON`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RelayOutcome {
    /// Refused at EL2 with this PSCI status.
    Refused(RelayRefusal),
    /// The monitor accepted: the core comes up through EL2.
    Relayed {
        /// The core.
        core: usize,
        /// The host's entry point there.
        entry: u64,
    },
    /// The monitor refused with this status (passed to the host).
    MonitorRefused(i64),
}

/// The relay's per-core slots: where the host resumes on a core being started.
#[derive(Debug, Default)]
pub struct PsciRelay {
    pending: [Option<HostEntry>; MAXIMUM_CORES],
}

impl PsciRelay {
    /// No core being started.
    pub const fn new() -> PsciRelay {
        PsciRelay {
            pending: [None; MAXIMUM_CORES],
        }
    }

    /// Whether the relay takes `function_id` (the two `CPU_ON`s).
    pub fn handles(function_id: u32) -> bool {
        function_id == PSCI_CPU_ON_64 || function_id == PSCI_CPU_ON_32
    }

    /// The host's `CPU_ON`; `layout` says where its entry point may lie
    /// ([`ProxyLayout::check_host_entry_point`]). Returns the host's
    /// registers and what happened.
    pub fn cpu_on(
        &mut self,
        call: &SmcccRegisters,
        layout: &ProxyLayout,
        el2: &mut dyn El2Services,
    ) -> (SmcccRegisters, RelayOutcome) {
        let answer = |status: i64, outcome: RelayOutcome| {
            let mut reply = *call;
            reply.x[0] = status as u64;
            reply.x[1..4].fill(0);
            (reply, outcome)
        };
        if call.x[0] as u32 == PSCI_CPU_ON_32 {
            return answer(
                NOT_SUPPORTED,
                RelayOutcome::Refused(RelayRefusal::ThirtyTwoBit),
            );
        }
        let (mpidr, entry, context) = (call.x[1], call.x[2], call.x[3]);
        let core = (mpidr & 0xff) as usize;
        if mpidr & !0xff != 0 || core >= MAXIMUM_CORES {
            return answer(
                INVALID_PARAMETERS,
                RelayOutcome::Refused(RelayRefusal::UnknownCore(mpidr)),
            );
        }
        if self.pending[core].is_some() {
            return answer(
                ALREADY_ON,
                RelayOutcome::Refused(RelayRefusal::AlreadyStarting(core)),
            );
        }
        if !entry.is_multiple_of(4) {
            return answer(
                INVALID_ADDRESS,
                RelayOutcome::Refused(RelayRefusal::MisalignedEntryPoint(entry)),
            );
        }
        if let Err(problem) = layout.check_host_entry_point(entry) {
            return answer(
                INVALID_ADDRESS,
                RelayOutcome::Refused(RelayRefusal::EntryPointNotTheHosts(entry, problem)),
            );
        }
        let el2_entry = el2.secondary_entry_point();
        if el2_entry == 0 {
            return answer(
                NOT_SUPPORTED,
                RelayOutcome::Refused(RelayRefusal::NoEl2Entry),
            );
        }
        if entry == el2_entry {
            return answer(
                INVALID_ADDRESS,
                RelayOutcome::Refused(RelayRefusal::EntryPointIsEl2s(entry)),
            );
        }
        self.pending[core] = Some(HostEntry { entry, context });
        let reply = el2.call_monitor(&SmcccRegisters::from_slice(&[
            u64::from(PSCI_CPU_ON_64),
            mpidr,
            el2_entry,
            core as u64,
        ]));
        let status = reply.x[0] as i64;
        if status != 0 {
            self.pending[core] = None;
            return answer(status, RelayOutcome::MonitorRefused(status));
        }
        answer(0, RelayOutcome::Relayed { core, entry })
    }

    /// Core `core` arrived at EL2: where the host resumes on it (once).
    pub fn arrive(&mut self, core: usize) -> Option<HostEntry> {
        self.pending.get_mut(core).and_then(Option::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::hil::hypervisor::{El2Memory, MemoryRange};
    use kernel::ErrorCode;
    use std::vec::Vec;

    /// A monitor that answers `CPU_ON` with a fixed status, and records calls.
    struct Monitor {
        status: i64,
        calls: Vec<[u64; 4]>,
    }

    impl El2Services for Monitor {
        fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
            self.calls
                .push([call.x[0], call.x[1], call.x[2], call.x[3]]);
            SmcccRegisters::from_slice(&[self.status as u64])
        }
        fn copy(&mut self, _: u64, _: u64, _: usize) -> Result<(), ErrorCode> {
            Err(ErrorCode::INVAL)
        }
        fn trap_host_smcs(&mut self) {}
        fn el2_memory(&self) -> El2Memory {
            el2()
        }
        fn secondary_entry_point(&self) -> u64 {
            0x6000_8000
        }
    }

    const HOST: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);
    /// EL2's code (the kernel's too) and its data, as on `virt`.
    const CODE: MemoryRange = MemoryRange::new(0x6000_0000, 0x2_0000);
    const DATA: MemoryRange = MemoryRange::new(0x6002_0000, 0x2_8000);

    fn el2() -> El2Memory {
        El2Memory::from_slots([
            CODE,
            DATA,
            MemoryRange::EMPTY,
            MemoryRange::EMPTY,
            MemoryRange::EMPTY,
            MemoryRange::EMPTY,
        ])
        .with_shared_code(CODE)
    }

    fn cpu_on(relay: &mut PsciRelay, monitor: &mut Monitor, values: &[u64]) -> (i64, RelayOutcome) {
        let layout = ProxyLayout::with_mailbox_in(
            HOST,
            MemoryRange::new(0x5fe0_0000, 0x1_0000),
            monitor.el2_memory(),
        );
        let (reply, outcome) = relay.cpu_on(&SmcccRegisters::from_slice(values), &layout, monitor);
        (reply.x[0] as i64, outcome)
    }

    #[test]
    fn cpu_on_goes_to_the_monitor_with_the_el2_entry_and_the_host_entry_waits() {
        let mut relay = PsciRelay::new();
        let mut monitor = Monitor {
            status: 0,
            calls: Vec::new(),
        };
        let on = u64::from(PSCI_CPU_ON_64);
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 2, 0x6000_0100, 0x22]),
            (
                0,
                RelayOutcome::Relayed {
                    core: 2,
                    entry: 0x6000_0100
                }
            )
        );
        assert_eq!(
            monitor.calls,
            [[on, 2, 0x6000_8000, 2]],
            "the proxy's entry, not the host's"
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 2, 0x6000_0100, 0]).0,
            ALREADY_ON
        );
        assert_eq!(
            relay.arrive(2),
            Some(HostEntry {
                entry: 0x6000_0100,
                context: 0x22
            })
        );
        assert_eq!(relay.arrive(2), None, "once");
        assert_eq!(relay.arrive(3), None);
    }

    #[test]
    fn bad_requests_never_reach_the_monitor() {
        let mut relay = PsciRelay::new();
        let mut monitor = Monitor {
            status: 0,
            calls: Vec::new(),
        };
        let on = u64::from(PSCI_CPU_ON_64);
        assert_eq!(
            cpu_on(
                &mut relay,
                &mut monitor,
                &[u64::from(PSCI_CPU_ON_32), 1, 0x6000_0100, 0]
            )
            .0,
            NOT_SUPPORTED
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 0x100, 0x6000_0100, 0]).0,
            INVALID_PARAMETERS
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 8, 0x6000_0100, 0]).0,
            INVALID_PARAMETERS
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 1, 0x6000_0102, 0]).0,
            INVALID_ADDRESS
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 1, 0x0e00_0000, 0]).0,
            INVALID_ADDRESS,
            "secure memory is not the host's"
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 1, 0x6002_4000, 0]),
            (
                INVALID_ADDRESS,
                RelayOutcome::Refused(RelayRefusal::EntryPointNotTheHosts(
                    0x6002_4000,
                    BufferProblem::InEl2Memory
                ))
            ),
            "EL2's data (its stacks, the proxy's state) is no entry point"
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 1, 0x5fe0_0000, 0]).1,
            RelayOutcome::Refused(RelayRefusal::EntryPointNotTheHosts(
                0x5fe0_0000,
                BufferProblem::InProxyMemory
            )),
            "nor the proxy's mailbox"
        );
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 1, 0x6000_8000, 0]).1,
            RelayOutcome::Refused(RelayRefusal::EntryPointIsEl2s(0x6000_8000)),
            "nor EL2's own entry"
        );
        assert!(monitor.calls.is_empty());
        assert_eq!(
            relay.arrive(1),
            None,
            "a refused CPU_ON leaves nothing pending"
        );
    }

    #[test]
    fn a_monitor_refusal_goes_back_and_frees_the_core() {
        let mut relay = PsciRelay::new();
        let mut monitor = Monitor {
            status: INVALID_PARAMETERS,
            calls: Vec::new(),
        };
        let on = u64::from(PSCI_CPU_ON_64);
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 5, 0x6000_0100, 0]),
            (
                INVALID_PARAMETERS,
                RelayOutcome::MonitorRefused(INVALID_PARAMETERS)
            )
        );
        assert_eq!(relay.arrive(5), None);
        monitor.status = 0;
        assert_eq!(
            cpu_on(&mut relay, &mut monitor, &[on, 5, 0x6000_0100, 0]).0,
            0
        );
    }
}
