//! Direct requests (32, 64, REQ2), their responses, FFA_INTERRUPT / FFA_YIELD and FFA_RUN.

mod common;

use common::{expect_error, Harness};
use ffa_abi::{Status, Uuid, Version};
use ffa_model::function_id::*;
use ffa_model::partition::{ECHO_PARTITION_UUID, INTERRUPTING_PARTITION_UUID};
use ffa_model::{FaultConfig, Registers};

fn harness_with(config: FaultConfig) -> Harness {
    Harness::negotiated(config, Version::V1_2)
}

fn harness() -> Harness {
    harness_with(FaultConfig::default_config())
}

fn quiet() -> FaultConfig {
    FaultConfig {
        interrupt_count: 0,
        yield_count: 0,
        ..FaultConfig::default_config()
    }
}

fn request(function_id: u32, receiver: u16, payload: [u64; 5]) -> Registers {
    let mut call = [0u64; 18];
    call[0] = function_id as u64;
    call[1] = receiver as u64;
    call[3..8].copy_from_slice(&payload);
    for (index, value) in call.iter_mut().enumerate().skip(8) {
        *value = 0xAA00 + index as u64;
    }
    call
}

fn request2(receiver: u16, uuid: Uuid, payload: [u64; 14]) -> Registers {
    let mut call = [0u64; 18];
    let [low, high] = uuid.to_register_pair();
    call[0] = FFA_MSG_SEND_DIRECT_REQ2 as u64;
    call[1] = receiver as u64;
    call[2] = low;
    call[3] = high;
    call[4..].copy_from_slice(&payload);
    call
}

const WIDE: [u64; 5] = [
    0x1111_2222_3333_4444,
    0xFFFF_FFFF_FFFF_FFFF,
    0,
    0x8000_0000_0000_0001,
    0x0123_4567_89AB_CDEF,
];

fn payload14() -> [u64; 14] {
    core::array::from_fn(|index| 0x0101_0101_0101_0101u64.wrapping_mul(index as u64 + 1))
}

#[test]
fn echo_32_bit_masks_to_words_and_preserves_x8_up() {
    let mut harness = harness();
    let call = request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8001, WIDE);
    let result = harness.call_registers(&call);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(result[1], 0x8001_0000);
    assert_eq!(result[2], 0);
    assert_eq!(
        &result[3..8],
        &[0x3333_4444, 0xFFFF_FFFF, 0, 1, 0x89AB_CDEF]
    );
    assert_eq!(&result[8..], &call[8..]);
}

#[test]
fn echo_64_bit() {
    let mut harness = harness();
    let result = harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8001, WIDE));
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(result[1], 0x8001_0000);
    assert_eq!(&result[3..8], &WIDE);
}

#[test]
fn echo_request2_with_nil_and_explicit_uuid() {
    for uuid in [Uuid::NIL, ECHO_PARTITION_UUID] {
        let mut harness = harness();
        let result = harness.call_registers(&request2(0x8001, uuid, payload14()));
        assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP2 as u64);
        assert_eq!(result[1], 0x8001_0000);
        assert_eq!((result[2], result[3]), (0, 0));
        assert_eq!(&result[4..], &payload14());
    }
}

#[test]
fn aarch32_partition_adds_one_to_each_word() {
    let mut harness = harness();
    let result = harness.call_registers(&request(
        FFA_MSG_SEND_DIRECT_REQ_32,
        0x8002,
        [0, 41, 0xFFFF_FFFF, 0x1_0000_0005, 7],
    ));
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(result[1], 0x8002_0000);
    assert_eq!(&result[3..8], &[1, 42, 0, 6, 8]);
}

#[test]
fn aarch32_partition_rejects_64_bit_forms() {
    let mut harness = harness();
    expect_error(
        &harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8002, WIDE)),
        Status::InvalidParameters,
    );
    expect_error(
        &harness.call_registers(&request2(0x8002, Uuid::NIL, payload14())),
        Status::Denied,
    );
}

#[test]
fn request_validation() {
    let mut harness = harness();
    let mut call = request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8001, [0; 5]);
    call[1] = 0x0001_8001;
    expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    call[1] = 0x8001_8001;
    expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    for receiver in [0x8000u16, 0x8007, 0, 1, 0xFFFF] {
        let call = request(FFA_MSG_SEND_DIRECT_REQ_64, receiver, [0; 5]);
        expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    }
    let mut call = request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8001, [0; 5]);
    call[2] = 0x8000_0000;
    expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    let mut call = request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8001, [0; 5]);
    call[2] = 1;
    expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    // The upper half of w2 does not count for the 32-bit form.
    let mut call = request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8001, [0; 5]);
    call[2] = 0xFFFF_FFFF_0000_0000;
    assert_eq!(
        harness.call_registers(&call)[0],
        FFA_MSG_SEND_DIRECT_RESP_32 as u64
    );
}

#[test]
fn request2_validation() {
    let mut harness = harness();
    expect_error(
        &harness.call_registers(&request2(0x8001, INTERRUPTING_PARTITION_UUID, payload14())),
        Status::InvalidParameters,
    );
    let mut call = request2(0x8001, Uuid::NIL, payload14());
    call[1] = 0x0005_8001;
    expect_error(&harness.call_registers(&call), Status::InvalidParameters);
    expect_error(
        &harness.call_registers(&request2(0x9000, Uuid::NIL, payload14())),
        Status::InvalidParameters,
    );
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_1);
    expect_error(
        &harness.call_registers(&request2(0x8001, Uuid::NIL, payload14())),
        Status::NotSupported,
    );
}

#[test]
fn v1_0_caller_can_message() {
    let mut harness = Harness::negotiated(quiet(), Version::V1_0);
    let result = harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8003, WIDE));
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(&result[3..8], &WIDE);
}

fn run(harness: &mut Harness, target: u64) -> Registers {
    harness.call(&[FFA_RUN as u64, target])
}

#[test]
fn interrupting_partition_is_resumed_with_run() {
    let config = FaultConfig {
        interrupt_count: 2,
        yield_count: 3,
        ..FaultConfig::default_config()
    };
    let mut harness = harness_with(config);
    let mut result = harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8003, WIDE));
    let mut sequence = Vec::new();
    while result[0] == FFA_INTERRUPT as u64 || result[0] == FFA_YIELD as u64 {
        assert_eq!(
            result[1], 0x8003_0000,
            "target information: ID << 16 | vCPU 0"
        );
        assert_eq!(&result[2..8], &[0; 6]);
        sequence.push(result[0] as u32);
        result = run(&mut harness, result[1]);
    }
    assert_eq!(
        sequence,
        [
            FFA_INTERRUPT,
            FFA_INTERRUPT,
            FFA_YIELD,
            FFA_YIELD,
            FFA_YIELD
        ]
    );
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(result[1], 0x8003_0000);
    assert_eq!(&result[3..8], &WIDE);
    // Idle again: a new request starts over.
    let result = harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8003, [1; 5]));
    assert_eq!(result[0], FFA_INTERRUPT as u64);
}

#[test]
fn interrupted_request2_answers_resp2() {
    let mut harness = harness();
    let result =
        harness.call_registers(&request2(0x8003, INTERRUPTING_PARTITION_UUID, payload14()));
    assert_eq!(result[0], FFA_INTERRUPT as u64);
    let result = run(&mut harness, 0x8003_0000);
    assert_eq!(result[0], FFA_YIELD as u64);
    let result = run(&mut harness, 0x8003_0000);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP2 as u64);
    assert_eq!(&result[4..], &payload14());
}

#[test]
fn interrupted_32_bit_request_answers_32_bit() {
    let mut harness = harness();
    assert_eq!(
        harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_32, 0x8003, [9; 5]))[0],
        FFA_INTERRUPT as u64
    );
    run(&mut harness, 0x8003_0000);
    let result = run(&mut harness, 0x8003_0000);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(&result[3..8], &[9; 5]);
}

#[test]
fn preempted_partition_is_busy_but_others_answer() {
    let mut harness = harness();
    assert_eq!(
        harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8003, WIDE))[0],
        FFA_INTERRUPT as u64
    );
    expect_error(
        &harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8003, WIDE)),
        Status::Busy,
    );
    assert_eq!(
        harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8001, WIDE))[0],
        FFA_MSG_SEND_DIRECT_RESP_64 as u64
    );
    assert_eq!(run(&mut harness, 0x8003_0000)[0], FFA_YIELD as u64);
}

#[test]
fn run_errors() {
    let mut harness = harness();
    expect_error(&run(&mut harness, 0x8003_0000), Status::Denied);
    expect_error(&run(&mut harness, 0x8001_0000), Status::Denied);
    // An MP partition's vCPU 3 runs on core 3 only.
    expect_error(&run(&mut harness, 0x8001_0003), Status::InvalidParameters);
    expect_error(
        &harness.call_from(3, &[FFA_RUN as u64, 0x8001_0003]),
        Status::Denied,
    );
    expect_error(&run(&mut harness, 0x8001_0004), Status::InvalidParameters);
    expect_error(&run(&mut harness, 0x8003_0001), Status::InvalidParameters);
    expect_error(&run(&mut harness, 0x9000_0000), Status::InvalidParameters);
    expect_error(&run(&mut harness, 0x0000_0000), Status::InvalidParameters);
}

#[test]
fn no_preemption_when_counts_are_zero() {
    let mut harness = harness_with(quiet());
    let result = harness.call_registers(&request(FFA_MSG_SEND_DIRECT_REQ_64, 0x8003, WIDE));
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(&result[3..8], &WIDE);
}
