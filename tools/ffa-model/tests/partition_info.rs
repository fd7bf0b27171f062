//! FFA_PARTITION_INFO_GET: descriptors in the RX buffer for each version, count-only queries, and errors.

mod common;

use common::{expect_error, expect_success, Harness, RECEIVE_ADDRESS};
use ffa_abi::{Status, Uuid, Version};
use ffa_model::function_id::*;
use ffa_model::mailbox::ReceiveOwner;
use ffa_model::partition::{
    properties, AARCH32_PARTITION_UUID, ECHO_PARTITION_UUID, HOSTED_PARTITIONS,
    INTERRUPTING_PARTITION_UUID, NOTIFIER_PARTITION_UUID, PER_CPU_PARTITION_UUID,
    SCHEDULING_PARTITION_UUID,
};
use ffa_model::FaultConfig;

fn mapped(version: Version) -> Harness {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), version);
    harness.map(1);
    harness
}

fn query(harness: &mut Harness, uuid: Uuid, flags: u64) -> [u64; 18] {
    let [w1, w2, w3, w4] = uuid.to_words();
    harness.call(&[
        FFA_PARTITION_INFO_GET as u64,
        w1 as u64,
        w2 as u64,
        w3 as u64,
        w4 as u64,
        flags,
    ])
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

#[test]
fn nil_uuid_lists_every_partition_with_v1_2_descriptors() {
    let mut harness = mapped(Version::V1_2);
    let result = query(&mut harness, Uuid::NIL, 0);
    expect_success(&result);
    assert_eq!(result[2], 7, "count");
    assert_eq!(result[3], 24, "descriptor size");
    assert_eq!(&result[4..8], &[0; 4]);
    let bytes = harness.read(RECEIVE_ADDRESS, 7 * 24);
    let expected = [
        (0x8001, 4, 0x301, ECHO_PARTITION_UUID),
        (0x8002, 1, 0x001, AARCH32_PARTITION_UUID),
        (0x8003, 1, 0x301, INTERRUPTING_PARTITION_UUID),
        (0x8004, 4, 0x10d, NOTIFIER_PARTITION_UUID),
        (0x8005, 1, 0x101, SCHEDULING_PARTITION_UUID),
        (0x8006, 4, 0x101, PER_CPU_PARTITION_UUID),
        (0x8010, 1, 0x309, ffa_abi::tpm_service::TPM_SERVICE_UUID),
    ];
    for (index, (id, contexts, property_bits, uuid)) in expected.into_iter().enumerate() {
        let descriptor = &bytes[index * 24..index * 24 + 24];
        assert_eq!(u16_at(descriptor, 0), id);
        assert_eq!(u16_at(descriptor, 2), contexts);
        assert_eq!(u32_at(descriptor, 4), property_bits);
        assert_eq!(
            &descriptor[8..24],
            uuid.as_bytes(),
            "UUID bytes in standard order"
        );
    }
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Caller);
    assert_eq!(harness.world.partitions(), &HOSTED_PARTITIONS);
}

#[test]
fn uuid_bytes_in_the_descriptor_match_the_text_form() {
    let mut harness = mapped(Version::V1_1);
    expect_success(&query(&mut harness, Uuid::NIL, 0));
    let bytes = harness.read(RECEIVE_ADDRESS + 8, 16);
    let text = Uuid::from_bytes(bytes.try_into().unwrap()).to_string();
    assert_eq!(text, "fa791f17-febd-4861-81d0-4b5dae9cb9cb");
    assert_eq!(
        harness.read(RECEIVE_ADDRESS + 8, 4),
        vec![0xfa, 0x79, 0x1f, 0x17]
    );
}

#[test]
fn v1_1_descriptors_hide_v1_2_properties() {
    let mut harness = mapped(Version::V1_1);
    let result = query(&mut harness, Uuid::NIL, 0);
    expect_success(&result);
    assert_eq!((result[2], result[3]), (7, 24));
    let bytes = harness.read(RECEIVE_ADDRESS, 168);
    assert_eq!(
        u32_at(&bytes, 4),
        0x101,
        "REQ2 bit cleared, AArch64 bit kept"
    );
    assert_eq!(u32_at(&bytes, 24 + 4), 0x001);
}

#[test]
fn v1_0_descriptors_are_8_bytes_without_size() {
    let mut harness = mapped(Version::V1_0);
    let result = query(&mut harness, Uuid::NIL, 0);
    expect_success(&result);
    assert_eq!(result[2], 7);
    assert_eq!(result[3], 0, "w3 is reserved in v1.0");
    let bytes = harness.read(RECEIVE_ADDRESS, 7 * 8 + 4);
    assert_eq!(&bytes[0..8], &[0x01, 0x80, 4, 0, 0x01, 0, 0, 0]);
    assert_eq!(&bytes[8..16], &[0x02, 0x80, 1, 0, 0x01, 0, 0, 0]);
    assert_eq!(&bytes[16..24], &[0x03, 0x80, 1, 0, 0x01, 0, 0, 0]);
    assert_eq!(
        &bytes[24..32],
        &[0x04, 0x80, 4, 0, 0x05, 0, 0, 0],
        "bit 2 (indirect) is v1.0's, bit 3 (notifications) v1.1's"
    );
    assert_eq!(&bytes[32..40], &[0x05, 0x80, 1, 0, 0x01, 0, 0, 0]);
    assert_eq!(&bytes[40..48], &[0x06, 0x80, 4, 0, 0x01, 0, 0, 0]);
    assert_eq!(&bytes[48..56], &[0x10, 0x80, 1, 0, 0x01, 0, 0, 0]);
    assert_eq!(
        &bytes[56..60],
        &[0xEE; 4],
        "nothing written past the descriptors"
    );
}

#[test]
fn specific_uuid_returns_one_partition_without_its_uuid() {
    for (uuid, id) in [
        (ECHO_PARTITION_UUID, 0x8001u16),
        (AARCH32_PARTITION_UUID, 0x8002),
        (INTERRUPTING_PARTITION_UUID, 0x8003),
    ] {
        let mut harness = mapped(Version::V1_2);
        let result = query(&mut harness, uuid, 0);
        expect_success(&result);
        assert_eq!((result[2], result[3]), (1, 24));
        let bytes = harness.read(RECEIVE_ADDRESS, 24);
        assert_eq!(u16_at(&bytes, 0), id);
        assert_eq!(
            &bytes[8..24],
            &[0; 16],
            "UUID field is MBZ for a non-nil query"
        );
    }
}

#[test]
fn unknown_uuid_is_invalid_parameters() {
    let mut harness = mapped(Version::V1_2);
    let unknown = Uuid::parse("486178e0-e7f8-11e3-bc5e-0002a5d5c51b").unwrap();
    expect_error(&query(&mut harness, unknown, 0), Status::InvalidParameters);
    expect_error(&query(&mut harness, unknown, 1), Status::InvalidParameters);
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
}

#[test]
fn count_only_leaves_the_rx_buffer_alone() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_1);
    // No RX buffer needed.
    let result = query(&mut harness, Uuid::NIL, 1);
    expect_success(&result);
    assert_eq!((result[2], result[3]), (7, 0));
    harness.map(1);
    let result = query(&mut harness, ECHO_PARTITION_UUID, 1);
    expect_success(&result);
    assert_eq!(result[2], 1);
    assert_eq!(harness.read(RECEIVE_ADDRESS, 4), vec![0xEE; 4]);
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
    // Count only works even while the caller owns the buffer.
    expect_success(&query(&mut harness, Uuid::NIL, 0));
    let result = query(&mut harness, Uuid::NIL, 1);
    expect_success(&result);
    assert_eq!(result[2], 7);
}

#[test]
fn flags_are_checked() {
    let mut harness = mapped(Version::V1_0);
    expect_error(
        &query(&mut harness, Uuid::NIL, 1),
        Status::InvalidParameters,
    );
    let mut harness = mapped(Version::V1_2);
    expect_error(
        &query(&mut harness, Uuid::NIL, 2),
        Status::InvalidParameters,
    );
    expect_error(
        &query(&mut harness, Uuid::NIL, 0x8000_0001),
        Status::InvalidParameters,
    );
}

#[test]
fn no_rx_buffer_is_busy() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    expect_error(&query(&mut harness, Uuid::NIL, 0), Status::Busy);
}

#[test]
fn owned_rx_buffer_is_busy_until_released() {
    let mut harness = mapped(Version::V1_2);
    expect_success(&query(&mut harness, Uuid::NIL, 0));
    expect_error(&query(&mut harness, Uuid::NIL, 0), Status::Busy);
    expect_error(&query(&mut harness, ECHO_PARTITION_UUID, 0), Status::Busy);
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    expect_success(&query(&mut harness, Uuid::NIL, 0));
}

#[test]
fn failed_write_is_aborted() {
    let mut harness = mapped(Version::V1_2);
    harness.memory.fail_writes = true;
    expect_error(&query(&mut harness, Uuid::NIL, 0), Status::Aborted);
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
}

#[test]
fn upper_halves_of_uuid_registers_are_ignored() {
    let mut harness = mapped(Version::V1_2);
    let [w1, w2, w3, w4] = ECHO_PARTITION_UUID.to_words();
    let high = 0xABCD_0000_0000_0000u64;
    let result = harness.call(&[
        FFA_PARTITION_INFO_GET as u64,
        high | w1 as u64,
        high | w2 as u64,
        high | w3 as u64,
        high | w4 as u64,
        high,
    ]);
    expect_success(&result);
    assert_eq!(result[2], 1);
}

#[test]
fn property_bits_match_the_table() {
    let echo = HOSTED_PARTITIONS[0];
    assert!(echo.properties & properties::DIRECT_REQUEST_RECEIVE != 0);
    assert!(echo.properties & properties::DIRECT_REQUEST2_RECEIVE != 0);
    assert!(echo.is_aarch64());
    let aarch32 = HOSTED_PARTITIONS[1];
    assert!(!aarch32.is_aarch64());
    assert_eq!(aarch32.properties & properties::DIRECT_REQUEST2_RECEIVE, 0);
    let notifier = HOSTED_PARTITIONS[3];
    assert!(notifier.notifications() && notifier.indirect_messaging());
    for partition in HOSTED_PARTITIONS {
        assert_eq!(
            partition.properties & properties::NOTIFICATIONS != 0,
            partition.id == 0x8004 || partition.id == 0x8010
        );
        assert_eq!(
            partition.properties & properties::ID_TYPE_MASK,
            0,
            "PE endpoint IDs"
        );
    }
}
