//! FFA_PARTITION_INFO_GET_REGS (v1.2): partition information in x2..x17.

mod common;

use common::{expect_error, Harness};
use ffa_abi::{Status, Uuid, Version};
use ffa_model::function_id::*;
use ffa_model::partition::{
    AARCH32_PARTITION_UUID, ECHO_PARTITION_UUID, INTERRUPTING_PARTITION_UUID,
    NOTIFIER_PARTITION_UUID, PER_CPU_PARTITION_UUID, SCHEDULING_PARTITION_UUID,
};
use ffa_model::FaultConfig;

fn query(harness: &mut Harness, uuid: Uuid, start: u64, tag: u64) -> [u64; 18] {
    let [low, high] = uuid.to_register_pair();
    harness.call(&[
        FFA_PARTITION_INFO_GET_REGS as u64,
        low,
        high,
        start | tag << 16,
    ])
}

fn v1_2() -> Harness {
    Harness::negotiated(FaultConfig::default_config(), Version::V1_2)
}

#[test]
fn nil_uuid_returns_all_partitions_in_registers() {
    let mut harness = v1_2();
    let result = query(&mut harness, Uuid::NIL, 0, 0);
    assert_eq!(result[0], FFA_SUCCESS_64 as u64);
    assert_eq!(result[1], 0);
    let last = result[2] & 0xFFFF;
    let current = (result[2] >> 16) & 0xFFFF;
    let tag = (result[2] >> 32) & 0xFFFF;
    let size = result[2] >> 48;
    // Five descriptors fit in x3..x17: the sixth and seventh need a second call.
    assert_eq!((last, current, tag, size), (6, 4, 0, 24));
    let uuids = [
        ECHO_PARTITION_UUID,
        AARCH32_PARTITION_UUID,
        INTERRUPTING_PARTITION_UUID,
        NOTIFIER_PARTITION_UUID,
        SCHEDULING_PARTITION_UUID,
    ];
    let words = [
        0x0000_0301_0004_8001u64,
        0x0000_0001_0001_8002,
        0x0000_0301_0001_8003,
        0x0000_010d_0004_8004,
        0x0000_0101_0001_8005,
    ];
    for index in 0..5 {
        let first = 3 + index * 3;
        assert_eq!(result[first], words[index]);
        let [low, high] = uuids[index].to_register_pair();
        assert_eq!((result[first + 1], result[first + 2]), (low, high));
    }
    let rest = query(&mut harness, Uuid::NIL, 5, 0);
    assert_eq!(rest[2] & 0xFFFF_FFFF, 6 | 6 << 16);
    assert_eq!(rest[3], 0x0000_0101_0004_8006);
    let [low, high] = PER_CPU_PARTITION_UUID.to_register_pair();
    assert_eq!((rest[4], rest[5]), (low, high));
    assert_eq!(rest[6], 0x0000_0309_0001_8010);
    let [low, high] = ffa_abi::tpm_service::TPM_SERVICE_UUID.to_register_pair();
    assert_eq!((rest[7], rest[8]), (low, high));
    assert_eq!(&rest[9..], &[0; 9]);
}

#[test]
fn specific_uuid_returns_one_partition_without_uuid() {
    let mut harness = v1_2();
    let mut call = [0u64; 18];
    let [low, high] = INTERRUPTING_PARTITION_UUID.to_register_pair();
    call[0] = FFA_PARTITION_INFO_GET_REGS as u64;
    call[1] = low;
    call[2] = high;
    for (index, value) in call.iter_mut().enumerate().skip(4) {
        *value = 0x7700 + index as u64;
    }
    let result = harness.call_registers(&call);
    assert_eq!(result[0], FFA_SUCCESS_64 as u64);
    assert_eq!(result[2] & 0xFFFF_FFFF, 0, "last index 0, current index 0");
    assert_eq!(result[3], 0x0000_0301_0001_8003);
    assert_eq!((result[4], result[5]), (0, 0));
    assert_eq!(&result[6..], &[0; 12], "x6..x17 are results, zero");
}

#[test]
fn start_index_selects_the_remaining_partitions() {
    let mut harness = v1_2();
    let result = query(&mut harness, Uuid::NIL, 1, 0);
    assert_eq!(result[0], FFA_SUCCESS_64 as u64);
    assert_eq!(result[2] & 0xFFFF_FFFF, 6 | 5 << 16);
    assert_eq!(result[3] & 0xFFFF, 0x8002);
    assert_eq!(result[6] & 0xFFFF, 0x8003);
    assert_eq!(result[12] & 0xFFFF, 0x8005);
    assert_eq!(result[15] & 0xFFFF, 0x8006);
}

#[test]
fn errors() {
    let mut harness = v1_2();
    expect_error(
        &query(&mut harness, Uuid::NIL, 7, 0),
        Status::InvalidParameters,
    );
    expect_error(
        &query(&mut harness, ECHO_PARTITION_UUID, 1, 0),
        Status::InvalidParameters,
    );
    expect_error(&query(&mut harness, Uuid::NIL, 0, 1), Status::Retry);
    let unknown = Uuid::parse("0b9f1c43-8f0e-4a6d-9a7e-2f7c1d5e8a31").unwrap();
    expect_error(
        &query(&mut harness, unknown, 0, 0),
        Status::InvalidParameters,
    );
}

#[test]
fn only_for_v1_2() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_1);
    expect_error(&query(&mut harness, Uuid::NIL, 0, 0), Status::NotSupported);
    let config = FaultConfig {
        spmc_version: (1, 1),
        ..FaultConfig::default_config()
    };
    let mut harness = Harness::negotiated(config, Version::V1_2);
    expect_error(&query(&mut harness, Uuid::NIL, 0, 0), Status::NotSupported);
}

#[test]
fn the_32_bit_function_number_is_not_implemented() {
    let mut harness = v1_2();
    expect_error(&harness.call(&[0x8400_008B]), Status::NotSupported);
}
