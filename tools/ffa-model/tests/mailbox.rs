//! FFA_RXTX_MAP (32 and 64), FFA_RXTX_UNMAP, FFA_RX_RELEASE, FFA_RX_ACQUIRE and RX ownership.

mod common;

use common::{
    expect_error, expect_success, Harness, MEMORY_BASE, MEMORY_SIZE, RECEIVE_ADDRESS,
    TRANSMIT_ADDRESS,
};
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::mailbox::{BufferPair, ReceiveOwner};
use ffa_model::FaultConfig;

fn v1_2() -> Harness {
    Harness::negotiated(FaultConfig::default_config(), Version::V1_2)
}

fn map(
    harness: &mut Harness,
    function_id: u32,
    transmit: u64,
    receive: u64,
    pages: u64,
) -> [u64; 18] {
    harness.call(&[function_id as u64, transmit, receive, pages])
}

#[test]
fn map_64_succeeds_and_records_the_pair() {
    let mut harness = v1_2();
    let result = map(
        &mut harness,
        FFA_RXTX_MAP_64,
        TRANSMIT_ADDRESS,
        RECEIVE_ADDRESS,
        2,
    );
    expect_success(&result);
    assert_eq!(&result[1..8], &[0; 7]);
    assert_eq!(
        harness.world.buffer_pair(),
        Some(BufferPair {
            transmit_address: TRANSMIT_ADDRESS,
            receive_address: RECEIVE_ADDRESS,
            page_count: 2
        })
    );
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
}

#[test]
fn map_32_uses_only_the_lower_halves() {
    let mut harness = v1_2();
    let result = map(
        &mut harness,
        FFA_RXTX_MAP_32,
        0xFFFF_FFFF_0000_0000 | TRANSMIT_ADDRESS,
        0x0000_0001_0000_0000 | RECEIVE_ADDRESS,
        0xFFFF_FFFF_0000_0001,
    );
    expect_success(&result);
    let pair = harness.world.buffer_pair().unwrap();
    assert_eq!(pair.transmit_address, TRANSMIT_ADDRESS);
    assert_eq!(pair.receive_address, RECEIVE_ADDRESS);
    assert_eq!(pair.page_count, 1);
}

#[test]
fn map_rejects_invalid_arguments() {
    let last_page = MEMORY_BASE + MEMORY_SIZE as u64 - 0x1000;
    let cases: [(u64, u64, u64, &str); 12] = [
        (TRANSMIT_ADDRESS + 0x800, RECEIVE_ADDRESS, 1, "unaligned TX"),
        (TRANSMIT_ADDRESS, RECEIVE_ADDRESS + 8, 1, "unaligned RX"),
        (TRANSMIT_ADDRESS, RECEIVE_ADDRESS, 0, "zero pages"),
        (
            TRANSMIT_ADDRESS,
            RECEIVE_ADDRESS + 0x1_0000,
            17,
            "more than 16 pages",
        ),
        (
            TRANSMIT_ADDRESS,
            RECEIVE_ADDRESS,
            0x41,
            "page count bits [31:6] set",
        ),
        (TRANSMIT_ADDRESS, TRANSMIT_ADDRESS, 1, "TX equals RX"),
        (TRANSMIT_ADDRESS, TRANSMIT_ADDRESS + 0x1000, 2, "overlap"),
        (
            TRANSMIT_ADDRESS + 0x1000,
            TRANSMIT_ADDRESS,
            2,
            "overlap the other way",
        ),
        (0, RECEIVE_ADDRESS, 1, "zero TX address"),
        (TRANSMIT_ADDRESS, 0x1000_0000, 1, "RX outside memory"),
        (last_page, RECEIVE_ADDRESS, 2, "TX runs past memory"),
        (
            TRANSMIT_ADDRESS,
            0xFFFF_FFFF_FFFF_F000,
            2,
            "RX address overflows",
        ),
    ];
    for (transmit, receive, pages, reason) in cases {
        let mut harness = v1_2();
        let result = map(&mut harness, FFA_RXTX_MAP_64, transmit, receive, pages);
        assert_eq!(
            result[2],
            Status::InvalidParameters.code() as u32 as u64,
            "{reason}"
        );
        expect_error(&result, Status::InvalidParameters);
        assert_eq!(harness.world.buffer_pair(), None, "{reason}");
    }
}

#[test]
fn maximum_page_count_is_accepted() {
    let mut harness = v1_2();
    expect_success(&map(
        &mut harness,
        FFA_RXTX_MAP_64,
        TRANSMIT_ADDRESS,
        RECEIVE_ADDRESS,
        16,
    ));
}

#[test]
fn second_map_is_denied() {
    let mut harness = v1_2();
    harness.map(1);
    expect_error(
        &map(
            &mut harness,
            FFA_RXTX_MAP_64,
            TRANSMIT_ADDRESS + 0x2_0000,
            RECEIVE_ADDRESS + 0x2_0000,
            1,
        ),
        Status::Denied,
    );
    expect_error(
        &map(
            &mut harness,
            FFA_RXTX_MAP_32,
            TRANSMIT_ADDRESS,
            RECEIVE_ADDRESS,
            1,
        ),
        Status::Denied,
    );
}

#[test]
fn unmap_checks_the_id_and_the_mapping() {
    let mut harness = v1_2();
    expect_error(
        &harness.call(&[FFA_RXTX_UNMAP as u64, 0]),
        Status::InvalidParameters,
    );
    harness.map(1);
    expect_error(
        &harness.call(&[FFA_RXTX_UNMAP as u64, 0x0001_0000]),
        Status::InvalidParameters,
    );
    expect_success(&harness.call(&[FFA_RXTX_UNMAP as u64, 0]));
    assert_eq!(harness.world.buffer_pair(), None);
    expect_error(
        &harness.call(&[FFA_RXTX_UNMAP as u64, 0]),
        Status::InvalidParameters,
    );
    // Mapping again works after an unmap.
    harness.map(1);
}

#[test]
fn release_needs_ownership() {
    let mut harness = v1_2();
    expect_error(&harness.call(&[FFA_RX_RELEASE as u64]), Status::Denied);
    harness.map(1);
    expect_error(&harness.call(&[FFA_RX_RELEASE as u64]), Status::Denied);
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Caller);
    expect_error(
        &harness.call(&[FFA_RX_RELEASE as u64, 5]),
        Status::InvalidParameters,
    );
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
    expect_error(&harness.call(&[FFA_RX_RELEASE as u64]), Status::Denied);
}

#[test]
fn unmap_while_owned_resets_ownership() {
    let mut harness = v1_2();
    harness.map(1);
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
    expect_success(&harness.call(&[FFA_RXTX_UNMAP as u64]));
    harness.map(1);
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Producer);
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
}

#[test]
fn acquire_from_v1_1() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    harness.map(1);
    expect_error(
        &harness.call(&[FFA_RX_ACQUIRE as u64]),
        Status::NotSupported,
    );

    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_1);
    expect_error(
        &harness.call(&[FFA_RX_ACQUIRE as u64]),
        Status::InvalidParameters,
    );
    harness.map(1);
    expect_error(
        &harness.call(&[FFA_RX_ACQUIRE as u64, 1]),
        Status::InvalidParameters,
    );
    expect_success(&harness.call(&[FFA_RX_ACQUIRE as u64]));
    assert_eq!(harness.world.receive_owner(), ReceiveOwner::Caller);
    expect_error(&harness.call(&[FFA_RX_ACQUIRE as u64]), Status::Denied);
    // The SPMC may not write an RX buffer the caller acquired.
    expect_error(
        &harness.call(&[FFA_PARTITION_INFO_GET as u64]),
        Status::Busy,
    );
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
}
