//! Split-phase direct requests: every state of the engine, against the
//! model (and scripted replies where the model cannot be made to answer so).

mod common;

use std::cell::RefCell;

use capsule_ffa::client::{ClientConfig, FfaClient};
use capsule_ffa::conduit::FfaConduit;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{
    AnyDirectMessage, DirectMessage, DirectMessage32, DirectMessage64, Exchange, RetryPolicy, Vcpu,
};
use capsule_ffa::requests::{
    DirectRequestClient, DirectRequests, RequestState, RequestsIdleClient, SplitPhaseRequests,
    MAXIMUM_YIELD_WAIT_US,
};
use common::{fixture, ids, leak, Fixture, ManualAlarm, ScriptedConduit};
use ffa_abi::test_services::scheduling;
use ffa_abi::PartitionId;
use ffa_model::FaultConfig;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::smccc::SmcccConduit;
use kernel::hil::time::{Alarm, Time};
use kernel::ErrorCode;
use testbed::deferred::{exclusive, run_pending};

const ECHO: PartitionId = PartitionId::new(0x8001);
const INTERRUPTING: PartitionId = PartitionId::new(0x8003);
const SCHEDULING: PartitionId = PartitionId::new(0x8005);

/// Records every outcome it is told.
#[derive(Default)]
struct Recorder {
    outcomes: RefCell<Vec<Result<AnyDirectMessage, ClientError>>>,
}

impl DirectRequestClient for Recorder {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        self.outcomes.borrow_mut().push(result);
    }
}

impl Recorder {
    fn count(&self) -> usize {
        self.outcomes.borrow().len()
    }

    fn last(&self) -> Option<Result<AnyDirectMessage, ClientError>> {
        self.outcomes.borrow().last().copied()
    }
}

#[derive(Default)]
struct Idle(std::cell::Cell<u32>);

impl RequestsIdleClient for Idle {
    fn requests_idle(&self) {
        self.0.set(self.0.get() + 1);
    }
}

struct Engine {
    fixture: Fixture,
    alarm: &'static ManualAlarm,
    engine: &'static DirectRequests<'static, 4>,
    clients: [&'static Recorder; 4],
    idle: &'static Idle,
}

fn engine_over(conduit: &'static dyn SmcccConduit, fixture: Fixture) -> Engine {
    let alarm = leak(ManualAlarm::new());
    let engine = leak(DirectRequests::<'static, 4>::new(
        FfaConduit::new(conduit),
        alarm,
    ));
    engine.register();
    alarm.set_alarm_client(engine);
    let clients = [(); 4].map(|_| leak(Recorder::default()));
    for (slot, client) in clients.iter().enumerate() {
        engine.set_client(slot, *client);
    }
    let idle = leak(Idle::default());
    engine.set_idle_client(idle);
    Engine {
        fixture,
        alarm,
        engine,
        clients,
        idle,
    }
}

fn engine(config: FaultConfig, policy: RetryPolicy) -> Engine {
    let fixture = fixture(
        config,
        ClientConfig {
            retry: policy,
            ..ClientConfig::DEFAULT
        },
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    engine_over(fixture.conduit, fixture)
}

fn exchange<M: DirectMessage>(client: &FfaClient<'_>, receiver: PartitionId) -> Exchange {
    Exchange::new::<M>(
        &client.config().retry,
        PartitionId::new(0),
        receiver,
        Vcpu::BOOT,
    )
}

impl Engine {
    fn send32(
        &self,
        slot: usize,
        receiver: PartitionId,
        payload: [u32; 5],
    ) -> Result<(), ErrorCode> {
        let message = DirectMessage32::new(payload);
        self.engine.send(
            slot,
            message.encode(PartitionId::new(0), receiver, ffa_abi::Uuid::NIL),
            exchange::<DirectMessage32>(self.fixture.client, receiver),
        )
    }

    fn send64(
        &self,
        slot: usize,
        receiver: PartitionId,
        payload: [u64; 5],
    ) -> Result<(), ErrorCode> {
        let message = DirectMessage64::new(payload);
        self.engine.send(
            slot,
            message.encode(PartitionId::new(0), receiver, ffa_abi::Uuid::NIL),
            exchange::<DirectMessage64>(self.fixture.client, receiver),
        )
    }

    /// Fires the alarm, with the model's clock moved to the same instant
    /// (the ManualAlarm and the model each keep a clock).
    fn fire(&self) -> bool {
        if let Some(at) = self.alarm.armed_at() {
            self.fixture.conduit.set_clock_us(at);
        }
        self.alarm.fire()
    }

    fn runs(&self) -> usize {
        self.fixture.conduit.count(ids::FFA_RUN)
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::DEFAULT
}

fn no_preemption() -> FaultConfig {
    FaultConfig {
        interrupt_count: 0,
        yield_count: 0,
        ..FaultConfig::default()
    }
}

#[test]
fn send_returns_at_once_and_the_response_comes_from_the_deferred_call() {
    let _guard = exclusive();
    let engine = engine(no_preemption(), policy());
    engine.send32(0, ECHO, [1, 2, 3, 4, 5]).unwrap();
    // The call was made, but the client is not told inside send.
    assert_eq!(
        engine.fixture.conduit.functions(),
        [ids::FFA_MSG_SEND_DIRECT_REQ_32]
    );
    assert_eq!(engine.engine.state(0), RequestState::Completed);
    assert_eq!(engine.clients[0].count(), 0);
    assert!(engine.engine.busy());
    assert!(!engine.engine.running(), "the vCPU is free again");
    assert_eq!(run_pending(), 1);
    assert_eq!(
        engine.clients[0].last(),
        Some(Ok(AnyDirectMessage::Bits32(DirectMessage32::new([
            1, 2, 3, 4, 5
        ]))))
    );
    assert_eq!(engine.engine.state(0), RequestState::Idle);
    assert_eq!(
        engine.idle.0.get(),
        1,
        "told once that nothing is in flight"
    );
    let counters = engine.engine.counters();
    assert_eq!(
        (counters.sent, counters.answered, counters.failed),
        (1, 1, 0)
    );
}

#[test]
fn one_request_per_handle_and_checked_slots() {
    let _guard = exclusive();
    let engine = engine(FaultConfig::default(), policy());
    engine.send32(0, INTERRUPTING, [7; 5]).unwrap();
    assert_eq!(engine.send32(0, ECHO, [1; 5]), Err(ErrorCode::BUSY));
    assert_eq!(engine.send32(9, ECHO, [1; 5]), Err(ErrorCode::INVAL));
    let lonely = leak(DirectRequests::<'static, 1>::new(
        FfaConduit::new(engine.fixture.conduit),
        engine.alarm,
    ));
    let message = DirectMessage32::new([0; 5]);
    assert_eq!(
        lonely.send(
            0,
            message.encode(PartitionId::new(0), ECHO, ffa_abi::Uuid::NIL),
            exchange::<DirectMessage32>(engine.fixture.client, ECHO),
        ),
        Err(ErrorCode::OFF),
        "no client: nobody to tell"
    );
    run_pending();
}

#[test]
fn an_interrupt_returns_to_the_main_loop_and_ffa_run_comes_from_the_deferred_call() {
    let _guard = exclusive();
    let engine = engine(
        FaultConfig {
            interrupt_count: 2,
            yield_count: 0,
            ..FaultConfig::default()
        },
        policy(),
    );
    engine.send32(0, INTERRUPTING, [9; 5]).unwrap();
    let target = capsule_ffa::messaging::RunTarget {
        endpoint: INTERRUPTING,
        vcpu: 0,
    };
    assert_eq!(
        engine.engine.state(0),
        RequestState::ResumeAfterInterrupt(target)
    );
    assert!(engine.engine.running());
    assert_eq!(engine.runs(), 0, "nothing resumed inside send");
    // One FFA_RUN per deferred call: the main loop serves interrupts between.
    assert!(kernel::deferred_call::DeferredCall::service_next_pending());
    assert_eq!(engine.runs(), 1);
    assert_eq!(
        engine.engine.state(0),
        RequestState::ResumeAfterInterrupt(target)
    );
    assert!(kernel::deferred_call::DeferredCall::service_next_pending());
    assert_eq!(engine.runs(), 2);
    assert_eq!(
        engine.fixture.conduit.calls().last().unwrap().x[1],
        0x8003_0000,
        "the endpoint and vCPU the interrupt named"
    );
    run_pending();
    assert_eq!(engine.clients[0].count(), 1);
    assert!(matches!(engine.clients[0].last(), Some(Ok(_))));
    assert_eq!(engine.engine.counters().interrupts, 2);
}

#[test]
fn a_yield_waits_on_the_alarm_for_its_timeout() {
    let _guard = exclusive();
    let engine = engine(no_preemption(), policy());
    let start = engine.alarm.now();
    engine
        .send64(0, SCHEDULING, [u64::from(scheduling::YIELD), 250, 2, 0, 0])
        .unwrap();
    assert_eq!(
        engine.engine.state(0),
        RequestState::WaitingForYield {
            target: capsule_ffa::messaging::RunTarget {
                endpoint: SCHEDULING,
                vcpu: 0
            },
            until: start + 250
        }
    );
    assert_eq!(engine.alarm.armed_at(), Some(start + 250));
    // Deferred calls and interrupts do not resume it early.
    run_pending();
    assert_eq!(engine.runs(), 0);
    assert!(engine.fire());
    assert_eq!(engine.runs(), 1);
    assert!(engine.fire(), "yielded again");
    assert_eq!(engine.runs(), 2);
    run_pending();
    let Some(Ok(AnyDirectMessage::Bits64(response))) = engine.clients[0].last() else {
        panic!("{:?}", engine.clients[0].last());
    };
    assert_eq!(response.payload[1], 0, "no resumption before the timeout");
    assert_eq!(response.payload[3], 2, "two yields");
    assert_eq!(engine.engine.counters().yields, 2);
}

#[test]
fn a_yield_without_a_timeout_waits_the_board_default_and_a_huge_one_is_capped() {
    let _guard = exclusive();
    let engine = engine(
        no_preemption(),
        RetryPolicy {
            yield_default_us: 777,
            ..RetryPolicy::DEFAULT
        },
    );
    engine
        .send64(0, SCHEDULING, [u64::from(scheduling::YIELD), 0, 1, 0, 0])
        .unwrap();
    assert_eq!(engine.alarm.armed_at(), Some(engine.alarm.now() + 777));
    engine.alarm.fire();
    run_pending();
    engine
        .send64(
            0,
            SCHEDULING,
            [u64::from(scheduling::YIELD), u64::MAX / 1000, 1, 0, 0],
        )
        .unwrap();
    assert_eq!(
        engine.alarm.armed_at(),
        Some(engine.alarm.now() + MAXIMUM_YIELD_WAIT_US)
    );
    engine.alarm.fire();
    run_pending();
    assert_eq!(engine.clients[0].count(), 2);
}

#[test]
fn busy_and_retry_back_off_on_the_alarm_doubling_each_time() {
    let _guard = exclusive();
    let engine = engine(
        FaultConfig {
            busy_storm: 2,
            retry_storm: 1,
            ..no_preemption()
        },
        policy(),
    );
    let start = engine.alarm.now();
    engine.send32(0, ECHO, [5; 5]).unwrap();
    assert_eq!(
        engine.engine.state(0),
        RequestState::BackingOff { until: start + 100 }
    );
    run_pending();
    assert_eq!(
        engine
            .fixture
            .conduit
            .count(ids::FFA_MSG_SEND_DIRECT_REQ_32),
        1
    );
    assert!(engine.alarm.fire());
    assert_eq!(
        engine.engine.state(0),
        RequestState::BackingOff {
            until: start + 100 + 200
        }
    );
    assert!(engine.alarm.fire());
    assert_eq!(
        engine.engine.state(0),
        RequestState::BackingOff {
            until: start + 300 + 400
        }
    );
    assert!(engine.alarm.fire());
    assert_eq!(engine.engine.state(0), RequestState::Completed);
    run_pending();
    assert!(matches!(engine.clients[0].last(), Some(Ok(_))));
    assert_eq!(
        engine
            .fixture
            .conduit
            .count(ids::FFA_MSG_SEND_DIRECT_REQ_32),
        4
    );
    assert_eq!(engine.engine.counters().backoffs, 3);
}

#[test]
fn retries_and_resumptions_are_bounded() {
    let _guard = exclusive();
    let engine = engine(
        FaultConfig {
            busy_storm: 100,
            ..no_preemption()
        },
        RetryPolicy {
            busy_retries: 3,
            ..RetryPolicy::DEFAULT
        },
    );
    engine.send32(0, ECHO, [5; 5]).unwrap();
    for _ in 0..3 {
        assert!(engine.alarm.fire());
    }
    assert!(!engine.alarm.fire(), "no fourth back-off");
    run_pending();
    assert_eq!(
        engine.clients[0].last(),
        Some(Err(ClientError::RetriesExhausted))
    );

    let engine = self::engine(
        FaultConfig {
            interrupt_count: 100,
            yield_count: 0,
            ..FaultConfig::default()
        },
        RetryPolicy {
            resumptions: 4,
            ..RetryPolicy::DEFAULT
        },
    );
    engine.send32(1, INTERRUPTING, [5; 5]).unwrap();
    run_pending();
    assert_eq!(engine.runs(), 4);
    assert_eq!(
        engine.clients[1].last(),
        Some(Err(ClientError::ResumptionsExhausted))
    );
}

#[test]
fn other_handles_wait_while_one_request_holds_the_vcpu_then_go_in_turn() {
    let _guard = exclusive();
    let engine = engine(
        FaultConfig {
            interrupt_count: 1,
            yield_count: 0,
            ..FaultConfig::default()
        },
        policy(),
    );
    engine.send32(0, INTERRUPTING, [1; 5]).unwrap();
    engine.send32(1, ECHO, [2; 5]).unwrap();
    engine.send32(2, ECHO, [3; 5]).unwrap();
    assert_eq!(engine.engine.state(1), RequestState::Queued);
    assert_eq!(engine.engine.state(2), RequestState::Queued);
    assert_eq!(
        engine
            .fixture
            .conduit
            .count(ids::FFA_MSG_SEND_DIRECT_REQ_32),
        1,
        "nothing else reaches the secure world while 0x8003 is preempted"
    );
    run_pending();
    for slot in 0..3 {
        assert_eq!(engine.clients[slot].count(), 1, "slot {slot}");
        assert_eq!(engine.engine.state(slot), RequestState::Idle);
    }
    assert_eq!(
        engine
            .fixture
            .conduit
            .count(ids::FFA_MSG_SEND_DIRECT_REQ_32),
        3
    );
}

#[test]
fn cancelling_completes_every_unfinished_request_once_and_stale_alarms_do_nothing() {
    let _guard = exclusive();
    let engine = engine(no_preemption(), policy());
    engine
        .send64(0, SCHEDULING, [u64::from(scheduling::YIELD), 1000, 1, 0, 0])
        .unwrap();
    engine.send32(1, ECHO, [1; 5]).unwrap();
    assert_eq!(engine.engine.state(1), RequestState::Queued);
    let calls = engine.fixture.conduit.functions().len();
    engine.engine.cancel_all();
    assert_eq!(
        engine.clients[0].count(),
        0,
        "never from inside the downcall"
    );
    run_pending();
    assert_eq!(engine.clients[0].last(), Some(Err(ClientError::Cancelled)));
    assert_eq!(engine.clients[1].last(), Some(Err(ClientError::Cancelled)));
    // The alarm the yield armed was disarmed; firing it by hand is stale.
    engine.alarm.set_alarm(engine.alarm.now(), 1);
    engine.alarm.fire();
    run_pending();
    assert_eq!(
        engine.fixture.conduit.functions().len(),
        calls,
        "no call after cancel"
    );
    assert_eq!(engine.clients[0].count(), 1);
    assert_eq!(engine.clients[1].count(), 1);
    assert!(!engine.engine.busy());
}

/// Replies: a yield with a 1 µs timeout, then an interrupt on the FFA_RUN
/// that resumes it, then the response.
fn yield_then_interrupt() -> Engine {
    let conduit = leak(ScriptedConduit::new(&[
        &[0x8400_006C, 0x8001_0000, 1000, 0],
        &[0x8400_0062, 0x8001_0000],
        &[0x8400_0070, 0x8001_0000, 0, 4, 4, 4, 4, 4],
    ]));
    let fixture = common::fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    engine_over(conduit, fixture)
}

#[test]
fn a_yield_timeout_racing_an_interrupt_resumes_once_per_event() {
    let _guard = exclusive();
    let engine = yield_then_interrupt();
    let conduit_calls = |engine: &Engine| {
        engine
            .engine
            .counters()
            .yields
            .saturating_add(engine.engine.counters().interrupts)
    };
    engine.send32(0, ECHO, [4; 5]).unwrap();
    assert!(matches!(
        engine.engine.state(0),
        RequestState::WaitingForYield { .. }
    ));
    // The timeout expires: FFA_RUN, answered FFA_INTERRUPT.
    assert!(engine.alarm.fire());
    assert!(matches!(
        engine.engine.state(0),
        RequestState::ResumeAfterInterrupt(_)
    ));
    assert_eq!(conduit_calls(&engine), 2);
    // A late alarm (another user of the hardware alarm, or one that raced)
    // must not resume it a second time: only the deferred call does.
    engine.alarm.set_alarm(engine.alarm.now(), 0);
    engine.alarm.fire();
    assert!(matches!(
        engine.engine.state(0),
        RequestState::ResumeAfterInterrupt(_)
    ));
    run_pending();
    assert_eq!(
        engine.clients[0].last(),
        Some(Ok(AnyDirectMessage::Bits32(DirectMessage32::new([4; 5]))))
    );
    assert_eq!(engine.clients[0].count(), 1);
}

#[test]
fn an_interrupt_while_a_yield_waits_does_not_resume_it_early() {
    let _guard = exclusive();
    let engine = engine(no_preemption(), policy());
    engine
        .send64(0, SCHEDULING, [u64::from(scheduling::YIELD), 500, 1, 0, 0])
        .unwrap();
    // Another request's interrupt, and its deferred call, come and go.
    engine.send32(1, ECHO, [1; 5]).unwrap();
    run_pending();
    assert_eq!(engine.runs(), 0);
    assert_eq!(engine.engine.state(1), RequestState::Queued);
    engine.fire();
    run_pending();
    let Some(Ok(AnyDirectMessage::Bits64(response))) = engine.clients[0].last() else {
        panic!();
    };
    assert_eq!(response.payload[1], 0, "not early");
    assert_eq!(engine.clients[1].count(), 1, "then the other one");
}
