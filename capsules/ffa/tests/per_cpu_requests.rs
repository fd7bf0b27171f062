//! Direct requests from every core: one engine per core, the secondaries'
//! calls made on their own core (the model sees them come from there), the
//! vCPU of each request the core's execution context of the partition, at
//! most one request in flight per core, and every failure a secondary can
//! have (offline, stalled, no context for it) reported without a hang.

mod common;

use std::cell::RefCell;

use capsule_ffa::bus::{DriverEntry, FfaBus, PartitionDriver, PartitionHandle};
use capsule_ffa::client::ClientConfig;
use capsule_ffa::drivers::per_cpu::PER_CPU_PARTITION_UUID;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{AnyDirectMessage, DirectMessage, DirectMessage64};
use capsule_ffa::requests::{
    DirectRequestClient, DirectRequests, RequestState, SplitPhaseRequests, CORE_CALL_DEADLINE_US,
    CORE_CALL_POLL_US,
};
use common::{fixture, ids, leak, Fixture, ManualAlarm};
use ffa_abi::test_services::per_cpu;
use ffa_abi::{PartitionId, Uuid};
use ffa_model::FaultConfig;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::time::{Alarm, Time};
use kernel::init_queue::{ConditionSet, InitQueue, Queue};
use kernel::ErrorCode;
use testbed::deferred::{exclusive, run_pending};
use testbed::ModelCores;

const PER_CPU: PartitionId = PartitionId::new(0x8006);
const INTERRUPTING: PartitionId = PartitionId::new(0x8003);
/// The interrupting partition's UUID (the model's 0x8003, UP).
const INTERRUPTING_UUID: Uuid = Uuid::from_fields(
    0xb439_9eff,
    0x6a76,
    0x400b,
    [0xbf, 0xa8, 0x2c, 0x06, 0x38, 0x89, 0xc6, 0xee],
);

/// Binds every partition it is offered and records each outcome with its core.
#[derive(Default)]
struct Probe {
    handles: RefCell<Vec<PartitionHandle<'static>>>,
    outcomes: RefCell<Vec<(usize, Result<AnyDirectMessage, ClientError>)>>,
}

static PROBE_UUIDS: [Uuid; 2] = [PER_CPU_PARTITION_UUID, INTERRUPTING_UUID];

impl PartitionDriver<'static> for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn uuids(&self) -> &'static [Uuid] {
        &PROBE_UUIDS
    }
    fn bind(&self, handle: PartitionHandle<'static>) -> Result<(), ErrorCode> {
        self.handles.borrow_mut().push(handle);
        Ok(())
    }
}

impl DirectRequestClient for Probe {
    fn response(&self, core: usize, result: Result<AnyDirectMessage, ClientError>) {
        self.outcomes.borrow_mut().push((core, result));
    }
}

struct Machine {
    fixture: Fixture,
    cores: &'static ModelCores,
    bus: &'static FfaBus<'static, 8>,
    alarms: Vec<&'static ManualAlarm>,
    engines: Vec<&'static DirectRequests<'static, 8>>,
    probe: &'static Probe,
}

/// A bus over the model with `count` cores, an engine each, and the probe
/// bound to the per-CPU and the interrupting partitions.
fn machine(count: usize, config: FaultConfig) -> Machine {
    let fixture = fixture(config, ClientConfig::DEFAULT);
    let cores = leak(ModelCores::new(fixture.conduit, count));
    let queue: &'static InitQueue<'static, 4, 4> = leak(InitQueue::new());
    let probed = queue.declare_condition("ffa-root-probed").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        fixture.client,
        queue,
        ConditionSet::empty(),
    ));
    bus.signal_on_outcome(probed);
    queue.add("arm-ffa", bus, None).unwrap();
    let mut alarms = Vec::new();
    let mut engines = Vec::new();
    for core in 0..count {
        let alarm = leak(ManualAlarm::new());
        let engine = leak(if core == 0 {
            DirectRequests::<'static, 8>::new(*fixture.client.conduit(), alarm)
        } else {
            DirectRequests::on_core(cores, core, alarm)
        });
        engine.register();
        alarm.set_alarm_client(engine);
        alarms.push(alarm);
        engines.push(engine);
    }
    bus.set_requests(engines[0]);
    let table: Vec<Option<&'static dyn SplitPhaseRequests<'static>>> = engines
        .iter()
        .enumerate()
        .map(|(core, engine)| {
            (core != 0).then_some(*engine as &'static dyn SplitPhaseRequests<'static>)
        })
        .collect();
    bus.set_core_requests(Box::leak(table.into_boxed_slice()));
    let probe = leak(Probe::default());
    let entry = leak(DriverEntry::new(bus, probe, probed));
    queue.add("probe", entry, None).unwrap();
    queue.service();
    assert!(bus.is_ready());
    for handle in probe.handles.borrow().iter() {
        handle.set_request_client(probe).unwrap();
    }
    fixture.conduit.clear_calls();
    Machine {
        fixture,
        cores,
        bus,
        alarms,
        engines,
        probe,
    }
}

fn who_am_i(preemptions: u64) -> DirectMessage64 {
    DirectMessage64::new([u64::from(per_cpu::WHO_AM_I), preemptions, 0, 0, 0])
}

impl Machine {
    fn handle(&self, id: PartitionId) -> PartitionHandle<'static> {
        *self
            .probe
            .handles
            .borrow()
            .iter()
            .find(|handle| handle.id() == id)
            .unwrap()
    }

    /// Runs the machine until `outcomes` have arrived: deferred calls, the
    /// cores making their calls, the alarms that are due. Bounded.
    fn run_until(&self, outcomes: usize) {
        for _ in 0..50_000 {
            if self.probe.outcomes.borrow().len() >= outcomes {
                return;
            }
            run_pending();
            self.cores.serve();
            for alarm in &self.alarms {
                alarm.fire();
            }
        }
        panic!(
            "only {} of {outcomes} outcomes",
            self.probe.outcomes.borrow().len()
        );
    }

    fn outcome_of(&self, core: usize) -> Result<AnyDirectMessage, ClientError> {
        self.probe
            .outcomes
            .borrow()
            .iter()
            .find(|(from, _)| *from == core)
            .map(|(_, outcome)| *outcome)
            .unwrap()
    }
}

/// The per-CPU answer: (status, vCPU, that vCPU's count, contexts).
fn answer(outcome: Result<AnyDirectMessage, ClientError>) -> [u64; 4] {
    let message = DirectMessage64::from_any(outcome.unwrap()).unwrap();
    [
        message.payload[0],
        message.payload[1],
        message.payload[2],
        message.payload[3],
    ]
}

#[test]
fn every_core_reaches_its_own_vcpu_and_resumes_it_from_itself() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    let handle = machine.handle(PER_CPU);
    for core in 0..4 {
        handle.send_on(core, &who_am_i(1)).unwrap();
    }
    assert!(
        machine.probe.outcomes.borrow().is_empty(),
        "never from inside send"
    );
    // Four requests in flight at once, one per core.
    for core in 0..4 {
        assert!(handle.request_state_on(core).is_running() || core == 0);
    }
    assert!(machine.bus.is_busy());
    machine.run_until(4);
    for core in 0..4 {
        assert_eq!(answer(machine.outcome_of(core)), [0, core as u64, 1, 4]);
    }
    // The secondaries' calls were made on their cores: the request, then
    // FFA_RUN of their own vCPU.
    let made = machine.cores.made();
    for core in 1..4usize {
        let calls: Vec<_> = made.iter().filter(|(from, _)| *from == core).collect();
        assert_eq!(calls.len(), 2, "cpu{core}: {calls:x?}");
        assert_eq!(calls[0].1.x[0], u64::from(ids::FFA_MSG_SEND_DIRECT_REQ_64));
        assert_eq!(calls[1].1.x[0], u64::from(ids::FFA_RUN));
        assert_eq!(calls[1].1.x[1], 0x8006_0000 | core as u64);
    }
    // Every call reached the model once: two per core, the boot core's
    // through its conduit.
    let all = machine.fixture.conduit.functions();
    assert_eq!(all.len(), 8, "{all:x?}");
    let counters = machine.bus.request_counters().unwrap();
    assert_eq!((counters.sent, counters.answered), (4, 4));
    assert_eq!(counters.core_calls, 6);
    assert!(!machine.bus.is_busy());
    // Each vCPU keeps its own count.
    machine.probe.outcomes.borrow_mut().clear();
    handle.send_on(2, &who_am_i(0)).unwrap();
    machine.run_until(1);
    assert_eq!(answer(machine.outcome_of(2)), [0, 2, 2, 4]);
}

#[test]
fn a_core_the_partition_has_no_context_for_is_refused_before_any_call() {
    let _guard = exclusive();
    let machine = machine(6, FaultConfig::default_config());
    let handle = machine.handle(PER_CPU);
    assert_eq!(handle.vcpu_on(3), Ok(3));
    assert_eq!(
        handle.vcpu_on(4),
        Err(ClientError::NoExecutionContext {
            partition: PER_CPU,
            core: 4,
            contexts: 4
        })
    );
    assert_eq!(handle.send_on(4, &who_am_i(0)), Err(ErrorCode::INVAL));
    assert_eq!(handle.send_on(5, &who_am_i(0)), Err(ErrorCode::INVAL));
    // No engine at all for a core the board does not have.
    assert_eq!(handle.send_on(6, &who_am_i(0)), Err(ErrorCode::INVAL));
    assert!(!machine.cores.has_posted());
    assert_eq!(machine.cores.serve(), 0);
    assert!(machine.probe.outcomes.borrow().is_empty());
    assert!(!machine.bus.is_busy());
}

#[test]
fn a_up_partition_runs_vcpu_0_from_a_secondary() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    let handle = machine.handle(INTERRUPTING);
    handle
        .send_on(2, &DirectMessage64::new([1, 2, 3, 4, 5]))
        .unwrap();
    machine.run_until(1);
    let reply = DirectMessage64::from_any(machine.outcome_of(2).unwrap()).unwrap();
    assert_eq!(reply.payload, [1, 2, 3, 4, 5]);
    let runs: Vec<u64> = machine
        .cores
        .made()
        .iter()
        .filter(|(core, call)| *core == 2 && call.x[0] == u64::from(ids::FFA_RUN))
        .map(|(_, call)| call.x[1])
        .collect();
    assert!(!runs.is_empty(), "the model's default preempts it");
    assert!(
        runs.iter().all(|target| *target == 0x8003_0000),
        "{runs:x?}"
    );
}

#[test]
fn an_offline_core_fails_the_request_from_the_deferred_call() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    machine.cores.set_online(2, false);
    let handle = machine.handle(PER_CPU);
    handle.send_on(2, &who_am_i(0)).unwrap();
    assert!(machine.probe.outcomes.borrow().is_empty());
    machine.run_until(1);
    assert_eq!(
        machine.outcome_of(2),
        Err(ClientError::Core {
            core: 2,
            code: ErrorCode::OFF
        })
    );
    assert!(!machine.bus.is_busy());
}

#[test]
fn a_stalled_core_times_out_and_its_late_reply_is_dropped() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    machine.cores.set_stalled(3, true);
    let handle = machine.handle(PER_CPU);
    handle.send_on(3, &who_am_i(0)).unwrap();
    let alarm = machine.alarms[3];
    let start = alarm.now();
    // The looks back off: each wait doubles (up to the maximum).
    let mut looks = vec![start];
    for _ in 0..4 {
        assert!(alarm.fire());
        looks.push(alarm.now());
    }
    let waits: Vec<u64> = looks.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let first = alarm.ticks_from_us(CORE_CALL_POLL_US);
    assert_eq!(waits, [first, 2 * first, 4 * first, 8 * first]);
    machine.run_until(1);
    assert_eq!(machine.outcome_of(3), Err(ClientError::CoreTimedOut(3)));
    let waited = alarm.now() - start;
    assert!(
        waited >= alarm.ticks_from_us(CORE_CALL_DEADLINE_US),
        "gave up after {waited} ticks"
    );
    assert_eq!(handle.request_state_on(3), RequestState::Idle);
    // The core comes back and makes the old call late: its reply is
    // dropped, and the next request gets its own answer.
    machine.cores.set_stalled(3, false);
    assert_eq!(machine.cores.serve(), 1);
    machine.probe.outcomes.borrow_mut().clear();
    handle.send_on(3, &who_am_i(0)).unwrap();
    machine.run_until(1);
    assert_eq!(answer(machine.outcome_of(3)), [0, 3, 2, 4]);
}

#[test]
fn one_request_in_flight_per_core_and_the_next_waits_its_turn() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    let per_cpu = machine.handle(PER_CPU);
    let up = machine.handle(INTERRUPTING);
    per_cpu.send_on(1, &who_am_i(2)).unwrap();
    up.send_on(1, &DirectMessage64::new([9, 9, 9, 9, 9]))
        .unwrap();
    assert_eq!(
        per_cpu.send_on(1, &who_am_i(0)),
        Err(ErrorCode::BUSY),
        "one per handle and core"
    );
    // The same handle on another core is another vCPU: accepted.
    per_cpu.send_on(2, &who_am_i(0)).unwrap();
    assert_eq!(up.request_state_on(1), RequestState::Queued);
    machine.run_until(3);
    assert_eq!(answer(machine.outcome_of(1)), [0, 1, 1, 4]);
    assert_eq!(answer(machine.outcome_of(2)), [0, 2, 1, 4]);
    // Core 1 never had two calls at once: every call it made was posted
    // after the reply to the one before was taken (the slot refuses a
    // second), and the UP request came after the per-CPU one was answered.
    let core_1: Vec<u64> = machine
        .cores
        .made()
        .iter()
        .filter(|(core, _)| *core == 1)
        .map(|(_, call)| {
            // FFA_RUN names its target in w1[31:16]; a request its receiver in w1[15:0].
            if call.x[0] == u64::from(ids::FFA_RUN) {
                call.x[1] >> 16 & 0xFFFF
            } else {
                call.x[1] & 0xFFFF
            }
        })
        .collect();
    let first_up = core_1.iter().position(|id| *id == 0x8003).unwrap();
    assert!(core_1[..first_up].iter().all(|id| *id == 0x8006));
    assert!(core_1[first_up..].iter().all(|id| *id == 0x8003));
}

#[test]
fn teardown_cancels_the_requests_of_every_core() {
    let _guard = exclusive();
    let machine = machine(4, FaultConfig::default_config());
    let handle = machine.handle(PER_CPU);
    for core in 1..4 {
        handle.send_on(core, &who_am_i(0)).unwrap();
    }
    assert!(machine.bus.is_busy());
    machine.bus.teardown().unwrap();
    run_pending();
    let outcomes = machine.probe.outcomes.borrow();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes
        .iter()
        .all(|(_, outcome)| *outcome == Err(ClientError::Cancelled)));
    assert!(!machine.bus.is_busy());
    drop(outcomes);
    assert!(machine.engines.iter().all(|engine| !engine.busy()));
}
