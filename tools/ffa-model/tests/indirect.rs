//! Indirect messaging: FFA_MSG_SEND2's checks, the notifier's echo into the
//! RX buffer with the RX-full framework notification, RX ownership.

mod common;

use common::{expect_error, expect_success, Harness, RECEIVE_ADDRESS, TRANSMIT_ADDRESS};
use ffa_abi::test_services::notifier;
use ffa_abi::{indirect, Status, Uuid, Version};
use ffa_model::function_id::*;
use ffa_model::mailbox::ReceiveOwner;
use ffa_model::notifications::SCHEDULE_RECEIVER_INTERRUPT;
use ffa_model::partition::NOTIFIER_PARTITION_UUID;
use ffa_model::FaultConfig;

const NOTIFIER: u16 = 0x8004;

fn ready(version: Version) -> Harness {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), version);
    harness.map(1);
    // The bitmaps, so that the RX-full notification can be told.
    expect_success(&harness.call(&[FFA_NOTIFICATION_BITMAP_CREATE as u64, 0, 1]));
    harness
}

/// Writes a message to the notifier in TX, in `header` bytes of header.
fn write_message(harness: &mut Harness, header: usize, payload: &[u8], uuid: Uuid) {
    let mut bytes = vec![0u8; header];
    bytes[indirect::PAYLOAD_OFFSET..][..4].copy_from_slice(&(header as u32).to_le_bytes());
    bytes[indirect::ENDPOINTS..][..4].copy_from_slice(&u32::from(NOTIFIER).to_le_bytes());
    bytes[indirect::PAYLOAD_SIZE..][..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    if header >= indirect::HEADER_SIZE_V1_2 {
        bytes[indirect::UUID..][..16].copy_from_slice(uuid.as_bytes());
    }
    bytes.extend_from_slice(payload);
    harness.write(TRANSMIT_ADDRESS, &bytes);
}

fn send2(harness: &mut Harness) -> [u64; 18] {
    harness.call(&[FFA_MSG_SEND2 as u64])
}

fn read_word(harness: &Harness, offset: usize) -> u32 {
    u32::from_le_bytes(
        harness
            .read(RECEIVE_ADDRESS + offset as u64, 4)
            .try_into()
            .unwrap(),
    )
}

#[test]
fn a_message_comes_back_through_rx_with_the_framework_notification() {
    for (version, header) in [(Version::V1_1, 20usize), (Version::V1_2, 40)] {
        let mut harness = ready(version);
        write_message(
            &mut harness,
            header,
            b"hello, partition",
            NOTIFIER_PARTITION_UUID,
        );
        expect_success(&send2(&mut harness));
        assert_eq!(harness.platform.serve(), [SCHEDULE_RECEIVER_INTERRUPT]);
        assert_eq!(harness.world.receive_owner(), ReceiveOwner::Caller);
        assert_eq!(
            read_word(&harness, indirect::PAYLOAD_OFFSET) as usize,
            header
        );
        assert_eq!(
            read_word(&harness, indirect::ENDPOINTS),
            u32::from(NOTIFIER) << 16
        );
        assert_eq!(read_word(&harness, indirect::PAYLOAD_SIZE), 16);
        assert_eq!(
            harness.read(RECEIVE_ADDRESS + header as u64, 16),
            b"hello, partition"
        );
        // RX cannot be released before the framework notification is got.
        expect_error(&harness.call(&[FFA_RX_RELEASE as u64]), Status::Denied);
        let got = harness.call(&[FFA_NOTIFICATION_GET as u64, 0, 0b100]);
        assert_eq!(got[6], 1, "RX buffer full");
        expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
        assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
    }
}

#[test]
fn a_reply_waits_for_the_rx_buffer_and_blocks_the_next_send() {
    let mut harness = ready(Version::V1_2);
    // The caller owns RX (partition information in it).
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
    write_message(&mut harness, 40, b"one", Uuid::NIL);
    expect_success(&send2(&mut harness));
    assert!(harness.world.message_waiting());
    assert!(harness.platform.raised.is_empty(), "not delivered yet");
    // The notifier's RX is busy until its echo went out.
    expect_error(&send2(&mut harness), Status::Busy);
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    assert!(!harness.world.message_waiting());
    assert_eq!(harness.platform.serve(), [SCHEDULE_RECEIVER_INTERRUPT]);
    assert_eq!(harness.read(RECEIVE_ADDRESS + 40, 3), b"one");
}

#[test]
fn malformed_headers_are_refused() {
    let mut harness = ready(Version::V1_2);
    let mut check = |mutate: &dyn Fn(&mut Harness), expected: Status| {
        write_message(&mut harness, 40, b"x", Uuid::NIL);
        mutate(&mut harness);
        expect_error(&send2(&mut harness), expected);
    };
    let put = |offset: usize, value: u32| {
        move |harness: &mut Harness| {
            harness.write(TRANSMIT_ADDRESS + offset as u64, &value.to_le_bytes())
        }
    };
    check(&put(indirect::FLAGS, 1), Status::InvalidParameters);
    check(&put(4, 1), Status::InvalidParameters);
    check(
        &put(indirect::PAYLOAD_OFFSET, 20),
        Status::InvalidParameters,
    );
    check(
        &put(indirect::PAYLOAD_OFFSET, 4096),
        Status::InvalidParameters,
    );
    check(
        &put(indirect::PAYLOAD_SIZE, 4096 - 39),
        Status::InvalidParameters,
    );
    check(
        &put(indirect::PAYLOAD_SIZE, u32::MAX),
        Status::InvalidParameters,
    );
    check(
        &put(indirect::ENDPOINTS, 1 << 16 | 0x8004),
        Status::InvalidParameters,
    );
    check(&put(indirect::ENDPOINTS, 0x8009), Status::InvalidParameters);
    check(&put(indirect::ENDPOINTS, 0x8001), Status::Denied);
    check(&put(indirect::RESERVED_V1_2, 7), Status::InvalidParameters);
    check(&put(indirect::UUID, 0x1234), Status::InvalidParameters);
    expect_error(
        &harness.call(&[FFA_MSG_SEND2 as u64, 1 << 16]),
        Status::InvalidParameters,
    );
    expect_error(
        &harness.call(&[FFA_MSG_SEND2 as u64, 0, 2]),
        Status::InvalidParameters,
    );
    // A v1.1 caller may use a 20-byte header.
    let mut harness = ready(Version::V1_1);
    write_message(&mut harness, 20, b"x", Uuid::NIL);
    expect_success(&send2(&mut harness));
}

#[test]
fn send2_needs_mapped_buffers_and_v1_1() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    expect_error(&send2(&mut harness), Status::Denied);
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    expect_error(&send2(&mut harness), Status::NotSupported);
}

#[test]
fn the_notifier_sends_a_pattern_on_request() {
    let mut harness = ready(Version::V1_2);
    let reply = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_32 as u64,
        u64::from(NOTIFIER),
        0,
        u64::from(notifier::SEND_MESSAGE),
        5,
        0xFE,
    ]);
    assert_eq!(reply[3], 0);
    assert_eq!(read_word(&harness, indirect::PAYLOAD_SIZE), 5);
    assert_eq!(harness.read(RECEIVE_ADDRESS + 40, 5), [0xFE, 0xFF, 0, 1, 2]);
    let statistics = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_32 as u64,
        u64::from(NOTIFIER),
        0,
        u64::from(notifier::STATISTICS),
    ]);
    assert_eq!((statistics[4], statistics[5]), (0, 1));
}
