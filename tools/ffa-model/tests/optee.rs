//! OP-TEE in the model, in registers: where its direct requests go, its
//! blocking calls, and the yielding calls it refuses before reading any
//! memory, as `optee_os`'s `thread_spmc.c` answers them.

mod common;

use common::*;
use ffa_abi::optee::{capabilities, function, TeeResult};
use ffa_abi::Status;
use ffa_model::function_id::*;
use ffa_model::optee::{BUILD_ID, OS_VERSION, RPC_PARAMETERS};
use ffa_model::{FaultConfig, OpteeFault, Personality};

fn op_tee(fault: OpteeFault) -> Harness {
    let config = FaultConfig {
        optee_fault: fault,
        ..FaultConfig::as_personality(Personality::OpTee)
    };
    let mut harness = Harness::new(config);
    harness.call(&[FFA_VERSION as u64, 0x1_0001]);
    harness
}

/// A 32-bit direct request from the normal world to `receiver` with w3–w7.
fn request(harness: &mut Harness, receiver: u64, words: [u64; 5]) -> ffa_model::Registers {
    let mut call = vec![FFA_MSG_SEND_DIRECT_REQ_32 as u64, receiver, 0];
    call.extend_from_slice(&words);
    harness.call(&call)
}

#[test]
fn blocking_calls_answer_in_the_requests_form_from_op_tees_id() {
    let mut harness = op_tee(OpteeFault::None);
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::GET_API_VERSION), 0, 0, 0, 0],
    );
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(reply[1], 0x8001 << 16, "from OP-TEE, to the normal world");
    assert_eq!(reply[2], 0);
    assert_eq!(&reply[3..5], &[1, 0]);
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::GET_OS_VERSION), 0, 0, 0, 0],
    );
    assert_eq!(
        &reply[3..6],
        &[
            u64::from(OS_VERSION.0),
            u64::from(OS_VERSION.1),
            u64::from(BUILD_ID)
        ]
    );
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::EXCHANGE_CAPABILITIES), 0, 0, 0, 0],
    );
    assert_eq!(
        &reply[3..7],
        &[
            0,
            RPC_PARAMETERS as u64,
            u64::from(capabilities::ARG_OFFSET),
            0
        ]
    );
    // The SPMC's own ID reaches OP-TEE too; a 64-bit request gets a 64-bit answer.
    let reply = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_64 as u64,
        0x8000,
        0,
        u64::from(function::GET_API_VERSION),
    ]);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(reply[1], 0x8000 << 16);
    // Unknown blocking functions: BAD_PARAMETERS in w3; async notifications are not ready.
    let reply = request(&mut harness, 0x8001, [4, 0, 0, 0, 0]);
    assert_eq!(reply[3], u64::from(TeeResult::BAD_PARAMETERS.0));
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::ENABLE_ASYNC_NOTIF), 0, 0, 0, 0],
    );
    assert_eq!(reply[3], u64::from(TeeResult::NOT_IMPLEMENTED.0));
    // Unregistering a handle OP-TEE does not hold is fine.
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::UNREGISTER_SHM), 5, 0, 0, 0],
    );
    assert_eq!(reply[3], 0);
}

#[test]
fn yielding_calls_op_tee_cannot_run_are_refused_in_w3() {
    let mut harness = op_tee(OpteeFault::None);
    // An argument struct in memory OP-TEE was never given.
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::YIELDING_CALL_WITH_ARG), 7, 0, 0, 0],
    );
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(&reply[3..5], &[u64::from(TeeResult::BAD_PARAMETERS.0), 0]);
    // Resuming a thread that waits for nothing.
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::YIELDING_CALL_RESUME), 0, 0, 0, 1],
    );
    assert_eq!(reply[3], u64::from(TeeResult::BAD_PARAMETERS.0));
    // A yielding function that does not exist.
    let reply = request(&mut harness, 0x8001, [0x8000_0007, 0, 0, 0, 0]);
    assert_eq!(reply[3], Status::Denied.code() as u32 as u64);
    assert_eq!(harness.world.optee().suspended_threads, 0);
}

#[test]
fn a_busy_pool_answers_busy_before_anything_else() {
    let mut harness = op_tee(OpteeFault::ThreadsExhausted);
    for _ in 0..3 {
        let reply = request(
            &mut harness,
            0x8001,
            [u64::from(function::YIELDING_CALL_WITH_ARG), 0, 0, 0, 0],
        );
        assert_eq!(reply[3], u64::from(TeeResult::BUSY.0));
    }
    assert_eq!(harness.world.optee().busy_answers, 3);
    let mut harness = op_tee(OpteeFault::ApiMajor2);
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::GET_API_VERSION), 0, 0, 0, 0],
    );
    assert_eq!(reply[3], 2);
}

#[test]
fn framework_messages_and_strangers_are_refused() {
    let mut harness = op_tee(OpteeFault::None);
    // A framework message (w2 bit 31) is the SPMD's business, not the normal world's.
    let reply = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8001, 1 << 31, 0]);
    expect_error(&reply, Status::NotSupported);
    // A sender other than the normal world's endpoint 0.
    let reply = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x0005_8001, 0, 0]);
    expect_error(&reply, Status::InvalidParameters);
    // The echo partition is 0x8002 under OP-TEE's SPMC, and still echoes.
    let reply = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8002, 0, 1, 2]);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(&reply[3..5], &[1, 2]);
}

#[test]
fn without_op_tees_spmc_0x8001_is_the_echo_partition() {
    let mut harness = Harness::negotiated(FaultConfig::default(), ffa_abi::Version::V1_2);
    let reply = request(
        &mut harness,
        0x8001,
        [u64::from(function::GET_OS_VERSION), 9, 9, 9, 9],
    );
    assert_eq!(
        &reply[3..8],
        &[1, 9, 9, 9, 9],
        "echoed, not OP-TEE's answer"
    );
}
