//! The scheduling partition through the SMC interface: preemptible work
//! resumed with FFA_RUN, and yields with a timeout in w2/w3.

mod common;

use common::Harness;
use ffa_abi::test_services::scheduling;
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::FaultConfig;

const SCHEDULING: u64 = 0x8005;

fn request(harness: &mut Harness, words: &[u64]) -> [u64; 18] {
    let mut call = vec![FFA_MSG_SEND_DIRECT_REQ_64 as u64, SCHEDULING, 0];
    call.extend_from_slice(words);
    harness.call(&call)
}

fn run(harness: &mut Harness) -> [u64; 18] {
    harness.call(&[FFA_RUN as u64, SCHEDULING << 16])
}

#[test]
fn work_is_preempted_by_its_doorbell_until_it_is_served() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    harness.platform.step = 5;
    let reply = request(
        &mut harness,
        &[u64::from(scheduling::WORK), 1_000, 130, 300],
    );
    assert_eq!(reply[0], FFA_INTERRUPT as u64);
    assert_eq!(reply[1], SCHEDULING << 16);
    // Busy while preempted.
    let busy = request(&mut harness, &[u64::from(scheduling::WORK), 1]);
    assert_eq!(busy[2] as u32 as i32, Status::Busy.code());
    // Resumed without serving: preempted again, nothing done.
    assert_eq!(run(&mut harness)[0], FFA_INTERRUPT as u64);
    let mut preemptions = 2;
    let reply = loop {
        harness.platform.serve();
        let reply = run(&mut harness);
        if reply[0] != FFA_INTERRUPT as u64 {
            break reply;
        }
        preemptions += 1;
        assert!(preemptions < 100, "bounded");
    };
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(reply[3], 0);
    assert_eq!(reply[4], preemptions);
    assert!(
        reply[5] >= 4,
        "a doorbell every 300 µs of 1000: {}",
        reply[5]
    );
    assert_eq!(reply[6], 1, "one resumption found it pending");
    assert!(harness.platform.raised.iter().all(|id| *id == 130));
}

#[test]
fn yields_carry_the_timeout_in_nanoseconds() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    let reply = request(
        &mut harness,
        &[u64::from(scheduling::YIELD), 0x0010_0000, 2],
    );
    assert_eq!(reply[0], FFA_YIELD as u64);
    assert_eq!(reply[1], SCHEDULING << 16);
    let nanoseconds = 0x0010_0000_u64 * 1000;
    assert_eq!(
        (reply[2], reply[3]),
        (nanoseconds & 0xFFFF_FFFF, nanoseconds >> 32)
    );
    // Resumed too early, then on time.
    harness.now += 10;
    assert_eq!(run(&mut harness)[0], FFA_YIELD as u64);
    harness.now += 0x0010_0000;
    let reply = run(&mut harness);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!((reply[4], reply[5], reply[6]), (1, 10, 2));
}

#[test]
fn bad_requests_are_answered_not_run() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    let reply = request(&mut harness, &[99]);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(reply[3] as u32 as i32, Status::InvalidParameters.code());
    let reply = request(&mut harness, &[u64::from(scheduling::WORK), 10, 40]);
    assert_eq!(reply[3] as u32 as i32, Status::InvalidParameters.code());
}
