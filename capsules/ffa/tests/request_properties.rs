//! Properties of the split-phase request engine against a secure world that
//! answers at random (responses, `FFA_INTERRUPT`, `FFA_YIELD` with random
//! timeouts, `BUSY`, `RETRY`, errors), with sends, deferred calls, alarms
//! and cancellation interleaved at random:
//!
//! - no two requests are ever in flight on the vCPU: the secure world never
//!   sees a direct request while another one it took is unanswered, nor an
//!   `FFA_RUN` when nothing is preempted, nor a call after cancellation;
//! - every accepted `send` gets exactly one callback, never from inside
//!   `send`, with its own response (or an error); a refused one gets none.

mod common;

use std::cell::{Cell, RefCell};

use capsule_ffa::conduit::FfaConduit;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{
    AnyDirectMessage, DirectMessage, DirectMessage32, DirectMessage64, Exchange, RetryPolicy, Vcpu,
};
use capsule_ffa::requests::{DirectRequestClient, DirectRequests, SplitPhaseRequests};
use common::{ids, leak, ManualAlarm};
use ffa_abi::{PartitionId, Uuid};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::hil::time::Alarm;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use testbed::deferred::{exclusive, run_pending};

const SLOTS: usize = 4;
const POLICY: RetryPolicy = RetryPolicy::DEFAULT;
const FFA_ERROR: u64 = 0x8400_0060;
const BUSY: i32 = -4;
const DENIED: i32 = -6;
const RETRY: i32 = -7;

/// What the secure world answers next.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Respond,
    Interrupt,
    Yield { timeout_ns: u32 },
    Busy,
    Retry,
    Deny,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Respond),
        3 => Just(Answer::Interrupt),
        2 => (0u32..3_000_000).prop_map(|timeout_ns| Answer::Yield { timeout_ns }),
        2 => Just(Answer::Busy),
        1 => Just(Answer::Retry),
        1 => Just(Answer::Deny),
    ]
}

/// A secure world of one vCPU that answers from a script and checks that
/// it is called as the specification (and our invariant) allow.
#[derive(Default)]
struct RandomSecureWorld {
    script: RefCell<Vec<Answer>>,
    next: Cell<usize>,
    /// The request taken and not answered yet: its registers, and how often
    /// it was preempted.
    in_flight: Cell<Option<([u64; 8], u16)>>,
    cancelled: Cell<bool>,
    violations: RefCell<Vec<String>>,
}

impl RandomSecureWorld {
    fn reset(&self, script: Vec<Answer>) {
        *self.script.borrow_mut() = script;
        self.next.set(0);
        self.in_flight.set(None);
        self.cancelled.set(false);
        self.violations.borrow_mut().clear();
    }

    fn draw(&self) -> Answer {
        let script = self.script.borrow();
        if script.is_empty() {
            return Answer::Respond;
        }
        let answer = script[self.next.get() % script.len()];
        self.next.set(self.next.get() + 1);
        answer
    }

    fn violation(&self, what: String) {
        self.violations.borrow_mut().push(what);
    }

    /// The response to `request` (its payload echoed back, 32- or 64-bit).
    fn response(request: [u64; 8]) -> SmcccRegisters {
        let mut x = [0u64; 18];
        x[0] = if request[0] == u64::from(ids::FFA_MSG_SEND_DIRECT_REQ_32) {
            u64::from(ids::FFA_MSG_SEND_DIRECT_RESP_32)
        } else {
            u64::from(ids::FFA_MSG_SEND_DIRECT_RESP_64)
        };
        // Sender (the partition) in the upper half, receiver below.
        x[1] = (request[1] & 0xFFFF) << 16 | (request[1] >> 16 & 0xFFFF);
        x[3..8].copy_from_slice(&request[3..8]);
        SmcccRegisters { x }
    }

    fn error(code: i32) -> SmcccRegisters {
        let mut x = [0u64; 18];
        x[0] = FFA_ERROR;
        x[2] = u64::from(code as u32);
        SmcccRegisters { x }
    }

    fn preempt(&self, request: [u64; 8], preemptions: u16, answer: Answer) -> SmcccRegisters {
        let mut x = [0u64; 18];
        let partition = request[1] & 0xFFFF;
        x[1] = partition << 16; // vCPU 0
        match answer {
            Answer::Yield { timeout_ns } => {
                x[0] = u64::from(ids::FFA_YIELD);
                x[2] = u64::from(timeout_ns);
            }
            _ => x[0] = u64::from(ids::FFA_INTERRUPT),
        }
        self.in_flight.set(Some((request, preemptions + 1)));
        SmcccRegisters { x }
    }

    /// Answers a request it took (or the FFA_RUN of a preempted one): the
    /// partition runs until it responds or is preempted again, fewer times
    /// than the policy resumes.
    fn run(&self, request: [u64; 8], preemptions: u16) -> SmcccRegisters {
        match self.draw() {
            answer @ (Answer::Interrupt | Answer::Yield { .. })
                if preemptions + 1 < POLICY.resumptions =>
            {
                self.preempt(request, preemptions, answer)
            }
            _ => {
                self.in_flight.set(None);
                Self::response(request)
            }
        }
    }
}

impl SmcccConduit for RandomSecureWorld {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        let function = arguments.x[0] as u32;
        if self.cancelled.get() {
            self.violation(format!("call {function:#x} after cancellation"));
        }
        let mut request = [0u64; 8];
        request.copy_from_slice(&arguments.x[..8]);
        if function == ids::FFA_MSG_SEND_DIRECT_REQ_32
            || function == ids::FFA_MSG_SEND_DIRECT_REQ_64
        {
            if let Some((taken, _)) = self.in_flight.get() {
                self.violation(format!(
                    "a request {:x?} while {:x?} is in flight",
                    &request[..4],
                    &taken[..4]
                ));
            }
            return match self.draw() {
                Answer::Busy => Self::error(BUSY),
                Answer::Retry => Self::error(RETRY),
                Answer::Deny => Self::error(DENIED),
                _ => self.run(request, 0),
            };
        }
        if function == ids::FFA_RUN {
            return match self.in_flight.get() {
                Some((request, preemptions)) => {
                    if arguments.x[1] != (request[1] & 0xFFFF) << 16 {
                        self.violation(format!("FFA_RUN names {:#x}", arguments.x[1]));
                    }
                    self.run(request, preemptions)
                }
                None => {
                    self.violation("FFA_RUN with nothing preempted".into());
                    Self::error(DENIED)
                }
            };
        }
        self.violation(format!("unexpected call {function:#x}"));
        Self::error(-1)
    }
}

/// One slot's driver: records every outcome, and checks it is never told
/// inside a `send`.
#[derive(Default)]
struct Driver {
    outcomes: RefCell<Vec<Result<AnyDirectMessage, ClientError>>>,
    inside_send: Cell<bool>,
    told_inside_send: Cell<bool>,
}

impl DirectRequestClient for Driver {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        if self.inside_send.get() {
            self.told_inside_send.set(true);
        }
        self.outcomes.borrow_mut().push(result);
    }
}

/// What the test does next.
#[derive(Clone, Copy, Debug)]
enum Step {
    Send { slot: usize, wide: bool },
    DeferredCall,
    Alarm,
    Cancel,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..SLOTS, any::<bool>()).prop_map(|(slot, wide)| Step::Send { slot, wide }),
        5 => Just(Step::DeferredCall),
        4 => Just(Step::Alarm),
        1 => Just(Step::Cancel),
    ]
}

struct Harness {
    world: &'static RandomSecureWorld,
    alarm: &'static ManualAlarm,
    engine: &'static DirectRequests<'static, SLOTS>,
    drivers: [&'static Driver; SLOTS],
}

const RECEIVERS: [PartitionId; SLOTS] = [
    PartitionId::new(0x8001),
    PartitionId::new(0x8002),
    PartitionId::new(0x8003),
    PartitionId::new(0x8004),
];

impl Harness {
    fn new() -> Harness {
        let world = leak(RandomSecureWorld::default());
        let alarm = leak(ManualAlarm::new());
        let engine = leak(DirectRequests::<'static, SLOTS>::new(
            FfaConduit::new(world),
            alarm,
        ));
        engine.register();
        alarm.set_alarm_client(engine);
        let drivers = [(); SLOTS].map(|_| leak(Driver::default()));
        for (slot, driver) in drivers.iter().enumerate() {
            engine.set_client(slot, *driver);
        }
        Harness {
            world,
            alarm,
            engine,
            drivers,
        }
    }

    /// Sends a request whose payload names the send (`tag`) from `slot`.
    fn send(&self, slot: usize, wide: bool, tag: u32) -> Result<(), kernel::ErrorCode> {
        let receiver = RECEIVERS[slot];
        let own = PartitionId::new(0);
        let (request, exchange) = if wide {
            let message = DirectMessage64::new([u64::from(tag), 64, 0, 0, u64::MAX]);
            (
                message.encode(own, receiver, Uuid::NIL),
                Exchange::new::<DirectMessage64>(&POLICY, own, receiver, Vcpu::BOOT),
            )
        } else {
            let message = DirectMessage32::new([tag, 32, 0, 0, u32::MAX]);
            (
                message.encode(own, receiver, Uuid::NIL),
                Exchange::new::<DirectMessage32>(&POLICY, own, receiver, Vcpu::BOOT),
            )
        };
        let driver = self.drivers[slot];
        driver.inside_send.set(true);
        let result = self.engine.send(slot, request, exchange);
        driver.inside_send.set(false);
        result
    }
}

/// The tag an outcome's response carries.
fn tag(outcome: &Result<AnyDirectMessage, ClientError>) -> Option<u32> {
    match outcome {
        Ok(AnyDirectMessage::Bits32(message)) => Some(message.payload[0]),
        Ok(AnyDirectMessage::Bits64(message)) => Some(message.payload[0] as u32),
        Ok(_) => None,
        Err(_) => None,
    }
}

#[test]
fn one_request_in_flight_on_the_vcpu_and_one_callback_per_accepted_send() {
    let _guard = exclusive();
    // One engine for every case: a test binary has a bounded number of
    // deferred calls. Each case starts from an idle engine.
    let harness = Harness::new();
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(answer(), 1..24),
        proptest::collection::vec(step(), 1..48),
    );
    runner
        .run(&strategy, |(script, steps)| {
            harness.world.reset(script);
            for driver in harness.drivers {
                driver.outcomes.borrow_mut().clear();
                driver.told_inside_send.set(false);
            }
            // Per slot, the tags of the sends it accepted, in order.
            let mut accepted: [Vec<Option<u32>>; SLOTS] = Default::default();
            let mut next_tag = 1u32;
            let mut cancelled = false;
            for step in steps {
                match step {
                    Step::Send { slot, wide } => {
                        let tag = next_tag;
                        next_tag += 1;
                        let busy =
                            harness.engine.state(slot) != capsule_ffa::requests::RequestState::Idle;
                        match harness.send(slot, wide, tag) {
                            Ok(()) => {
                                prop_assert!(!busy, "a second request on one handle accepted");
                                accepted[slot].push(Some(tag));
                            }
                            Err(kernel::ErrorCode::BUSY) => prop_assert!(busy),
                            Err(other) => prop_assert!(false, "send refused: {:?}", other),
                        }
                    }
                    Step::DeferredCall => {
                        DeferredCall::service_next_pending();
                    }
                    Step::Alarm => {
                        harness.alarm.fire();
                    }
                    Step::Cancel => {
                        harness.engine.cancel_all();
                        harness.world.cancelled.set(true);
                        cancelled = true;
                        break;
                    }
                }
            }
            // Drain: the main loop runs deferred calls and the alarm until
            // nothing is left (bounded: every path is).
            for _ in 0..100_000 {
                if run_pending() == 0 && !harness.alarm.fire() {
                    break;
                }
            }
            prop_assert!(!harness.engine.busy(), "requests left in flight");
            prop_assert!(!harness.engine.running());
            let violations = harness.world.violations.borrow().clone();
            prop_assert!(violations.is_empty(), "{:?}", violations);
            for (slot, driver) in harness.drivers.iter().enumerate() {
                prop_assert!(!driver.told_inside_send.get(), "told inside send");
                let outcomes = driver.outcomes.borrow();
                prop_assert_eq!(
                    outcomes.len(),
                    accepted[slot].len(),
                    "slot {}: one callback per accepted send",
                    slot
                );
                for (outcome, tag_sent) in outcomes.iter().zip(&accepted[slot]) {
                    match outcome {
                        Ok(_) => prop_assert_eq!(tag(outcome), *tag_sent, "its own response"),
                        Err(ClientError::Cancelled) => prop_assert!(cancelled),
                        Err(
                            ClientError::Status(_)
                            | ClientError::RetriesExhausted
                            | ClientError::ResumptionsExhausted,
                        ) => {}
                        Err(other) => prop_assert!(false, "unexpected {:?}", other),
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
