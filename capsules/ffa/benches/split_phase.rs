//! Cost of a split-phase direct request (`requests::DirectRequests`: `send`
//! makes the call, the response reaches the client from the deferred call)
//! side by side with the blocking helper (`messaging::direct_request`), over
//! the same echoing null conduit, and the cost of the deferred call itself
//! (one `set` and one `service_next_pending`), which the split-phase path
//! pays and the blocking one does not.
//!
//! Run with `cargo bench -p capsule-ffa --bench split_phase`. Without
//! `--bench` (as under `cargo test --benches`) it runs a short smoke pass.

use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

use capsule_ffa::conduit::FfaConduit;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{
    self, AnyDirectMessage, DirectMessage, DirectMessage32, Exchange, RetryPolicy, Vcpu,
};
use capsule_ffa::requests::{DirectRequestClient, DirectRequests, SplitPhaseRequests};
use ffa_abi::{PartitionId, Uuid};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::hil::time::{Alarm, AlarmClient, Time};
use kernel::ErrorCode;

const DIRECT_REQUEST_32: u32 = 0x8400_006F;
const DIRECT_RESPONSE_32: u64 = 0x8400_0070;
const DIRECT_RESPONSE_64: u64 = 0xC400_0070;

/// Answers every direct request with a direct response carrying the same
/// payload, from the receiver to the sender.
struct EchoConduit;

impl SmcccConduit for EchoConduit {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        let mut reply = *arguments;
        reply.x[0] = if arguments.x[0] as u32 == DIRECT_REQUEST_32 {
            DIRECT_RESPONSE_32
        } else {
            DIRECT_RESPONSE_64
        };
        reply.x[1] = (arguments.x[1] as u32).rotate_left(16) as u64;
        reply
    }
}

/// An alarm that is never needed (the echo never yields nor refuses).
struct UnusedAlarm;

impl Time for UnusedAlarm {
    fn frequency(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl<'a> Alarm<'a> for UnusedAlarm {
    fn set_alarm_client(&self, _client: &'a dyn AlarmClient) {}
    fn set_alarm(&self, _reference: u64, _delta: u64) {
        panic!("the echo never makes the engine wait");
    }
    fn get_alarm(&self) -> u64 {
        0
    }
    fn disarm(&self) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn is_armed(&self) -> bool {
        false
    }
}

/// The driver: keeps the first payload word of the last response.
struct Driver {
    last: Cell<u32>,
}

impl DirectRequestClient for Driver {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        match result {
            Ok(AnyDirectMessage::Bits32(message)) => self.last.set(message.payload[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A deferred call that does nothing: the machinery's own cost.
struct Nothing {
    call: DeferredCall,
    runs: Cell<u64>,
}

impl DeferredCallClient for Nothing {
    fn handle_deferred_call(&self) {
        self.runs.set(self.runs.get() + 1);
    }
    fn register(&'static self) {
        self.call.register(self);
    }
}

/// One candidate: a name and one request of it.
type Candidate<'a> = (&'static str, Box<dyn FnMut(u64) + 'a>);

/// `operation` as the timing loop calls it: through its trait object, which
/// the optimizer cannot see through. Every candidate pays the same call;
/// otherwise the optimizer inlines the small ones (the raw-register floor,
/// the bare deferred call) into the loop and calls the others, and the
/// difference is the call, not the candidates.
fn opaque<'o, 'a>(operation: &'o mut Box<dyn FnMut(u64) + 'a>) -> &'o mut (dyn FnMut(u64) + 'a) {
    black_box(&mut **operation)
}

/// Runs every candidate `rounds` times, interleaved, `iterations` a round;
/// returns each one's fastest round (ns per request) and prints it with
/// the median round.
fn measure_side_by_side(
    candidates: &mut [Candidate<'_>],
    rounds: usize,
    iterations: u64,
) -> Vec<f64> {
    let mut samples = vec![Vec::with_capacity(rounds); candidates.len()];
    for (_, operation) in candidates.iter_mut() {
        let operation = opaque(operation);
        for index in 0..iterations / 10 {
            operation(index);
        }
    }
    for _ in 0..rounds {
        for (slot, (_, operation)) in candidates.iter_mut().enumerate() {
            let operation = opaque(operation);
            let start = Instant::now();
            for index in 0..iterations {
                operation(index);
            }
            samples[slot].push(start.elapsed().as_nanos() as f64 / iterations as f64);
        }
    }
    candidates
        .iter()
        .zip(samples.iter_mut())
        .map(|((name, _), samples)| {
            samples.sort_by(f64::total_cmp);
            let fastest = samples[0];
            let median = samples[samples.len() / 2];
            println!("{name:<56} {fastest:>7.1} ns/request (median {median:.1})");
            fastest
        })
        .collect()
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let iterations: u64 = if full { 3_000_000 } else { 10_000 };
    let rounds = if full { 25 } else { 1 };
    let conduit: &'static dyn SmcccConduit = black_box(leak(EchoConduit));
    let ffa = FfaConduit::new(conduit);
    let policy = RetryPolicy::DEFAULT;
    let sender = PartitionId::new(0);
    let receiver = PartitionId::new(0x8001);

    let engine = leak(DirectRequests::<'static, 4>::new(ffa, leak(UnusedAlarm)));
    engine.register();
    let driver = leak(Driver { last: Cell::new(0) });
    engine.set_client(1, driver);
    let nothing = leak(Nothing {
        call: DeferredCall::new(),
        runs: Cell::new(0),
    });
    nothing.register();

    println!(
        "split-phase vs blocking direct request over an echoing null conduit, {} iterations each, in interleaved rounds (fastest round shown)",
        iterations / rounds as u64
    );
    let mut candidates: Vec<Candidate<'_>> = vec![
        (
            "blocking messaging::direct_request (DIRECT_REQ 32)",
            Box::new(|index| {
                let message = DirectMessage32::new([index as u32, 2, 3, 4, 5]);
                let reply = messaging::direct_request(
                    &ffa,
                    &policy,
                    sender,
                    black_box(receiver),
                    Uuid::NIL,
                    &message,
                );
                assert_eq!(
                    black_box(reply).map(|reply| reply.payload[0]),
                    Ok(index as u32)
                );
            }),
        ),
        (
            "split-phase send + deferred call + callback",
            Box::new(|index| {
                let message = DirectMessage32::new([index as u32, 2, 3, 4, 5]);
                let request = message.encode(sender, black_box(receiver), Uuid::NIL);
                let exchange =
                    Exchange::new::<DirectMessage32>(&policy, sender, receiver, Vcpu::BOOT);
                engine.send(1, request, exchange).expect("idle");
                // The main loop's turn: the engine's deferred call, once.
                assert!(DeferredCall::service_next_pending());
                assert_eq!(black_box(driver.last.get()), index as u32);
            }),
        ),
        (
            "deferred call alone (set + service, no work)",
            Box::new(|_| {
                nothing.call.set();
                DeferredCall::service_next_pending();
                black_box(nothing.runs.get());
            }),
        ),
    ];
    let results = measure_side_by_side(&mut candidates, rounds, iterations / rounds as u64);
    let [blocking, split_phase, deferred] = results[..] else {
        unreachable!("one result per candidate")
    };
    println!(
        "ratio split-phase/blocking (goal <= 1.2): {:.2}; without the deferred call's own cost: {:.2}",
        split_phase / blocking,
        (split_phase - deferred) / blocking
    );
}
