//! Cost of one direct request through the capsule (marshalling, the call, reply decoding and
//! validation) over a null conduit that echoes, side by side with `arm-ffa` encoding the same
//! request and decoding the same response, and with the floor: x0–x7 filled by hand, the
//! call, w0 and w1 checked (and the payload word the other lines check read back).
//!
//! Run with `cargo bench -p capsule-ffa --bench direct_request`. Without `--bench` (as under
//! `cargo test --benches`) it runs a short smoke pass.

use arm_ffa::interface_args::DirectMsgArgs;
use arm_ffa::{Interface, Version as OracleVersion};
use capsule_ffa::conduit::FfaConduit;
use capsule_ffa::messaging::{self, DirectMessage32, DirectMessage64, RetryPolicy};
use ffa_abi::PartitionId;
use ffa_abi::Uuid;

use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use std::hint::black_box;
use std::time::Instant;

const DIRECT_REQUEST_32: u32 = 0x8400_006F;
const DIRECT_REQUEST_64: u32 = 0xC400_006F;
const DIRECT_RESPONSE_32: u64 = 0x8400_0070;
const DIRECT_RESPONSE_64: u64 = 0xC400_0070;

/// Answers every direct request with a direct response carrying the same payload,
/// from the receiver to the sender: the cheapest possible secure world.
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
        let endpoints = arguments.x[1] as u32;
        reply.x[1] = (endpoints.rotate_left(16)) as u64;
        reply
    }
}

/// One candidate: a name and one request of it (given the iteration's index).
type Candidate<'a> = (&'static str, Box<dyn FnMut(u64) + 'a>);

/// `operation` as the timing loop calls it: through its trait object, which
/// the optimizer cannot see through. Every candidate pays the same call;
/// otherwise the optimizer inlines the small ones (the raw-register floor,
/// the bare deferred call) into the loop and calls the others, and the
/// difference is the call, not the candidates.
fn opaque<'o, 'a>(operation: &'o mut Box<dyn FnMut(u64) + 'a>) -> &'o mut (dyn FnMut(u64) + 'a) {
    black_box(&mut **operation)
}

/// Runs every candidate `rounds` times, interleaved (so that a noisy
/// neighbour slows them alike), `iterations` requests a round; returns
/// each one's fastest round in nanoseconds per request, and prints it with
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
            println!("{name:<50} {fastest:>7.1} ns/request (median {median:.1})");
            fastest
        })
        .collect()
}

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let iterations: u64 = if full { 5_000_000 } else { 10_000 };
    let echo = EchoConduit;
    // Both sides reach the conduit the way a board provides it: as a trait object.
    let conduit: &dyn SmcccConduit = black_box(&echo);
    let ffa = FfaConduit::new(conduit);
    let policy = RetryPolicy::DEFAULT;
    let sender = PartitionId::new(0);
    let receiver = PartitionId::new(0x8001);
    let version = OracleVersion(1, 2);

    println!(
        "direct request round trip over an echoing null conduit, {iterations} iterations each, in interleaved rounds (fastest round shown)"
    );
    let mut candidates: Vec<Candidate<'_>> = vec![
        (
            "capsule-ffa DIRECT_REQ 32 (encode+call+check)",
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
            "arm-ffa DIRECT_REQ 32 (to_regs+call+from_regs)",
            Box::new(|index| {
                let request = Interface::MsgSendDirectReq {
                    src_id: 0,
                    dst_id: black_box(0x8001),
                    args: DirectMsgArgs::Args32([index as u32, 2, 3, 4, 5]),
                };
                let mut registers = SmcccRegisters::default();
                request.to_regs(version, &mut registers.x);
                let reply = conduit.call(&registers);
                let decoded = Interface::from_regs(version, &reply.x).expect("valid response");
                match black_box(decoded) {
                    Interface::MsgSendDirectResp {
                        src_id: 0x8001,
                        dst_id: 0,
                        args: DirectMsgArgs::Args32(payload),
                    } => {
                        assert_eq!(payload[0], index as u32)
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }),
        ),
        (
            "capsule-ffa DIRECT_REQ 64 (encode+call+check)",
            Box::new(|index| {
                let message = DirectMessage64::new([index, 2, 3, 4, 5]);
                let reply = messaging::direct_request(
                    &ffa,
                    &policy,
                    sender,
                    black_box(receiver),
                    Uuid::NIL,
                    &message,
                );
                assert_eq!(black_box(reply).map(|reply| reply.payload[0]), Ok(index));
            }),
        ),
        (
            "arm-ffa DIRECT_REQ 64 (to_regs+call+from_regs)",
            Box::new(|index| {
                let mut payload = [0u64; 15];
                payload[..5].copy_from_slice(&[index, 2, 3, 4, 5]);
                let request = Interface::MsgSendDirectReq {
                    src_id: 0,
                    dst_id: black_box(0x8001),
                    args: DirectMsgArgs::Args64(payload),
                };
                let mut registers = SmcccRegisters::default();
                request.to_regs(version, &mut registers.x);
                let reply = conduit.call(&registers);
                let decoded = Interface::from_regs(version, &reply.x).expect("valid response");
                match black_box(decoded) {
                    Interface::MsgSendDirectResp {
                        src_id: 0x8001,
                        dst_id: 0,
                        args: DirectMsgArgs::Args64(payload),
                    } => {
                        assert_eq!(payload[0], index)
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }),
        ),
        (
            "raw registers DIRECT_REQ 32 (x0-x7+call+w0/w1)",
            Box::new(|index| {
                let mut registers = SmcccRegisters::default();
                registers.x[0] = u64::from(DIRECT_REQUEST_32);
                registers.x[1] = u64::from(black_box(0x8001u32));
                registers.x[3] = index & 0xFFFF_FFFF;
                registers.x[4..8].copy_from_slice(&[2, 3, 4, 5]);
                let reply = conduit.call(&registers);
                assert!(
                    reply.x[0] as u32 == DIRECT_RESPONSE_32 as u32
                        && reply.x[1] as u32 == 0x8001_0000,
                    "unexpected {:x?}",
                    &reply.x[..2]
                );
                assert_eq!(black_box(reply.x[3] as u32), index as u32);
            }),
        ),
        (
            "raw registers DIRECT_REQ 64 (x0-x7+call+w0/w1)",
            Box::new(|index| {
                let mut registers = SmcccRegisters::default();
                registers.x[0] = u64::from(DIRECT_REQUEST_64);
                registers.x[1] = u64::from(black_box(0x8001u32));
                registers.x[3] = index;
                registers.x[4..8].copy_from_slice(&[2, 3, 4, 5]);
                let reply = conduit.call(&registers);
                assert!(
                    reply.x[0] as u32 == DIRECT_RESPONSE_64 as u32
                        && reply.x[1] as u32 == 0x8001_0000,
                    "unexpected {:x?}",
                    &reply.x[..2]
                );
                assert_eq!(black_box(reply.x[3]), index);
            }),
        ),
    ];
    let rounds = if full { 25 } else { 1 };
    let results = measure_side_by_side(&mut candidates, rounds, iterations / rounds as u64);
    let [capsule_32, oracle_32, capsule_64, oracle_64, raw_32, raw_64] = results[..] else {
        unreachable!("one result per candidate")
    };
    println!(
        "ratio capsule/arm-ffa: 32-bit {:.2}, 64-bit {:.2}",
        capsule_32 / oracle_32,
        capsule_64 / oracle_64
    );
    println!(
        "ratio capsule/raw registers (goal <= 1.3): 32-bit {:.2}, 64-bit {:.2}",
        capsule_32 / raw_32,
        capsule_64 / raw_64
    );
}
