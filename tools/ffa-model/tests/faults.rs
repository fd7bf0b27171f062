//! Every fault-injection mode of FaultConfig.

mod common;

use common::{expect_error, expect_success, registers, Harness, RECEIVE_ADDRESS, TRANSMIT_ADDRESS};
use ffa_abi::{Status, Version};
use ffa_model::config::{EXTENDED_DESCRIPTOR_SIZE, HUGE_PARTITION_COUNT, WRONG_DESCRIPTOR_SIZE};
use ffa_model::function_id::*;
use ffa_model::partition::HOSTED_PARTITIONS;
use ffa_model::{FaultConfig, Outcome, PartitionInfoFault, ReadinessError};

fn config() -> FaultConfig {
    FaultConfig::default_config()
}

#[test]
fn ffa_absent_answers_every_ffa_function_with_minus_one() {
    let mut harness = Harness::new(FaultConfig {
        ffa_absent: true,
        ..config()
    });
    for id in [
        FFA_VERSION,
        FFA_FEATURES,
        FFA_ID_GET,
        FFA_RXTX_MAP_64,
        FFA_PARTITION_INFO_GET,
        FFA_MSG_SEND_DIRECT_REQ_32,
        FFA_MSG_SEND_DIRECT_REQ2,
        FFA_PARTITION_INFO_GET_REGS,
        FFA_MEM_SHARE_64,
        0x8400_00EF,
    ] {
        let result = harness.call(&[id as u64, 0x1_0002]);
        assert_eq!(result[0], u64::MAX, "{id:#x}");
        assert_eq!(&result[1..4], &[0; 3]);
    }
    assert_eq!(harness.call(&[SMCCC_VERSION as u64])[0], 0x1_0002);
    assert_eq!(
        harness.call(&[PSCI_FEATURES as u64, PSCI_SYSTEM_OFF as u64])[0],
        0
    );
}

#[test]
fn not_ready_for_a_number_of_calls() {
    let mut harness = Harness::new(FaultConfig {
        not_ready_calls: 3,
        ..config()
    });
    for _ in 0..3 {
        expect_error(
            &harness.call(&[FFA_VERSION as u64, 0x1_0002]),
            Status::NotReady,
        );
    }
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0002])[0], 0x1_0002);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
}

#[test]
fn not_ready_answers_other_calls_and_does_not_fix_the_version() {
    let mut harness = Harness::new(FaultConfig {
        not_ready_calls: 2,
        not_ready_error: ReadinessError::Busy,
        ..config()
    });
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::Busy);
    expect_error(
        &harness.call(&[FFA_FEATURES as u64, FFA_VERSION as u64]),
        Status::Busy,
    );
    // SMCCC calls neither wait nor count.
    assert_eq!(harness.call(&[SMCCC_VERSION as u64])[0], 0x1_0002);
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0001])[0], 0x1_0002);
    assert_eq!(harness.world.negotiated_version(), Version::V1_1);
}

#[test]
fn not_ready_for_a_time() {
    let mut harness = Harness::new(FaultConfig {
        not_ready_microseconds: 500,
        ..config()
    });
    harness.now = 10_000;
    expect_error(
        &harness.call(&[FFA_VERSION as u64, 0x1_0002]),
        Status::NotReady,
    );
    harness.now = 10_499;
    for _ in 0..50 {
        expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::NotReady);
    }
    harness.now = 10_500;
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0002])[0], 0x1_0002);
}

#[test]
fn not_ready_ends_at_whichever_limit_comes_first() {
    let mut harness = Harness::new(FaultConfig {
        not_ready_calls: 1000,
        not_ready_microseconds: 100,
        ..config()
    });
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::NotReady);
    harness.now = 100;
    expect_success(&harness.call(&[FFA_ID_GET as u64]));

    let mut harness = Harness::new(FaultConfig {
        not_ready_calls: 1,
        not_ready_microseconds: 1_000_000,
        ..config()
    });
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::NotReady);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
}

#[test]
fn deny_rxtx_map() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            deny_rxtx_map: true,
            ..config()
        },
        Version::V1_2,
    );
    for id in [FFA_RXTX_MAP_32, FFA_RXTX_MAP_64] {
        expect_error(
            &harness.call(&[id as u64, TRANSMIT_ADDRESS, RECEIVE_ADDRESS, 1]),
            Status::Denied,
        );
    }
    assert_eq!(harness.world.buffer_pair(), None);
}

fn partition_info(harness: &mut Harness, flags: u64) -> [u64; 18] {
    harness.call(&[FFA_PARTITION_INFO_GET as u64, 0, 0, 0, 0, flags])
}

fn with_fault(fault: PartitionInfoFault, version: Version) -> Harness {
    let mut harness = Harness::negotiated(
        FaultConfig {
            partition_info_fault: fault,
            ..config()
        },
        version,
    );
    harness.map(1);
    harness
}

#[test]
fn huge_partition_count() {
    for version in [Version::V1_0, Version::V1_2] {
        let mut harness = with_fault(PartitionInfoFault::HugeCount, version);
        let result = partition_info(&mut harness, 0);
        expect_success(&result);
        assert_eq!(result[2], u64::from(HUGE_PARTITION_COUNT));
        let size = if version == Version::V1_0 { 8 } else { 24 };
        assert!(
            result[2] * size > 4096,
            "count x size exceeds the RX buffer"
        );
        // The real descriptors are still there.
        assert_eq!(harness.read(RECEIVE_ADDRESS, 2), vec![0x01, 0x80]);
    }
    let mut harness = with_fault(PartitionInfoFault::HugeCount, Version::V1_1);
    let result = partition_info(&mut harness, 1);
    expect_success(&result);
    assert_eq!(result[2], u64::from(HUGE_PARTITION_COUNT));
}

#[test]
fn wrong_descriptor_size() {
    let mut harness = with_fault(PartitionInfoFault::WrongDescriptorSize, Version::V1_2);
    let result = partition_info(&mut harness, 0);
    expect_success(&result);
    assert_eq!(
        (result[2], result[3]),
        (
            HOSTED_PARTITIONS.len() as u64,
            u64::from(WRONG_DESCRIPTOR_SIZE)
        )
    );
    // Descriptors are still 24 bytes apart.
    assert_eq!(harness.read(RECEIVE_ADDRESS + 24, 2), vec![0x02, 0x80]);
    // v1.0 has no size field to get wrong.
    let mut harness = with_fault(PartitionInfoFault::WrongDescriptorSize, Version::V1_0);
    let result = partition_info(&mut harness, 0);
    assert_eq!((result[2], result[3]), (HOSTED_PARTITIONS.len() as u64, 0));
}

#[test]
fn extended_descriptor_size() {
    let mut harness = with_fault(PartitionInfoFault::ExtendedDescriptorSize, Version::V1_1);
    let result = partition_info(&mut harness, 0);
    expect_success(&result);
    let stride = EXTENDED_DESCRIPTOR_SIZE as usize;
    let count = HOSTED_PARTITIONS.len();
    assert_eq!((result[2], result[3]), (count as u64, stride as u64));
    let bytes = harness.read(RECEIVE_ADDRESS, count * stride);
    for (index, partition) in HOSTED_PARTITIONS.iter().enumerate() {
        let descriptor = &bytes[index * stride..(index + 1) * stride];
        assert_eq!(&descriptor[0..2], &partition.id.to_le_bytes());
        assert_eq!(&descriptor[8..24], &partition.uuid);
        assert_eq!(&descriptor[24..32], &[0; 8], "extension is zero");
    }
}

fn responder(result: &[u64; 18]) -> u64 {
    result[1] >> 16
}

#[test]
fn wrong_responder() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            wrong_responder: true,
            interrupt_count: 0,
            yield_count: 0,
            ..config()
        },
        Version::V1_2,
    );
    for (receiver, impostor) in [(0x8001u64, 0x8002u64), (0x8002, 0x8003), (0x8003, 0x8004)] {
        let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, receiver, 0, 5]);
        assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
        assert_eq!(responder(&result), impostor);
        assert_eq!(result[1] & 0xFFFF, 0, "destination is still the caller");
    }
    let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_64 as u64, 0x8001]);
    assert_eq!(responder(&result), 0x8002);
    let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ2 as u64, 0x8003]);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP2 as u64);
    assert_eq!(responder(&result), 0x8004);
    let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8005]);
    assert_eq!(responder(&result), 0x8006);
    let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8006]);
    assert_eq!(responder(&result), 0x8010, "the next one in the table");
}

#[test]
fn busy_then_retry_storm() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            busy_storm: 2,
            retry_storm: 1,
            ..config()
        },
        Version::V1_2,
    );
    let echo = [FFA_MSG_SEND_DIRECT_REQ_64 as u64, 0x8001, 0, 42];
    // Invalid requests do not consume the storm.
    expect_error(
        &harness.call(&[FFA_MSG_SEND_DIRECT_REQ_64 as u64, 0x9999]),
        Status::InvalidParameters,
    );
    expect_error(&harness.call(&echo), Status::Busy);
    expect_error(
        &harness.call(&[FFA_MSG_SEND_DIRECT_REQ2 as u64, 0x8001]),
        Status::Busy,
    );
    expect_error(
        &harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8002]),
        Status::Retry,
    );
    let result = harness.call(&echo);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(result[3], 42);
}

#[test]
fn retry_storm_alone() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            retry_storm: 2,
            ..config()
        },
        Version::V1_2,
    );
    let echo = [FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8001];
    expect_error(&harness.call(&echo), Status::Retry);
    expect_error(&harness.call(&echo), Status::Retry);
    assert_eq!(harness.call(&echo)[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
}

#[test]
fn interrupt_and_yield_counts_are_configurable() {
    for (interrupts, yields) in [(0u32, 4u32), (3, 0), (1, 1)] {
        let mut harness = Harness::negotiated(
            FaultConfig {
                interrupt_count: interrupts,
                yield_count: yields,
                ..config()
            },
            Version::V1_2,
        );
        let mut result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8003]);
        let (mut seen_interrupts, mut seen_yields) = (0, 0);
        loop {
            match result[0] as u32 {
                FFA_INTERRUPT => seen_interrupts += 1,
                FFA_YIELD => seen_yields += 1,
                _ => break,
            }
            result = harness.call(&[FFA_RUN as u64, result[1]]);
        }
        assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
        assert_eq!((seen_interrupts, seen_yields), (interrupts, yields));
    }
}

#[test]
fn carried_flags_do_not_change_behaviour() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            trace: true,
            enter_normal_world_at_el1: true,
            ..config()
        },
        Version::V1_2,
    );
    assert!(harness.world.config().trace);
    assert!(harness.world.config().enter_normal_world_at_el1);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
    assert_eq!(
        harness.outcome_of(&registers(&[PSCI_SYSTEM_OFF as u64, 1])),
        Outcome::SystemOff { status: 1 }
    );
}

#[test]
fn set_up_answers_busy_for_the_configured_calls_then_works() {
    let mut harness = Harness::negotiated(
        FaultConfig {
            setup_busy_calls: 2,
            ..config()
        },
        Version::V1_2,
    );
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::Busy);
    expect_error(
        &harness.call(&[FFA_FEATURES as u64, FFA_RXTX_MAP_64 as u64]),
        Status::Busy,
    );
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
    expect_success(&harness.call(&[FFA_FEATURES as u64, FFA_RXTX_MAP_64 as u64]));
}
