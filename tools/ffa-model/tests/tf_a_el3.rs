//! The model configured as TF-A's EL3 SPMC (`Personality::TfAEl3Spmc`): what the real one answered on QEMU.

mod common;

use common::*;
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::{FaultConfig, Personality};

fn tf_a() -> FaultConfig {
    FaultConfig::as_personality(Personality::TfAEl3Spmc)
}

#[test]
fn version_answers_leave_the_callers_registers() {
    let mut harness = Harness::new(tf_a());
    // Seen on TF-A 2.12.1: FFA_VERSION(1.1) -> x0 = 0x10002, x1 = 0x10001.
    let reply = harness.call(&[FFA_VERSION as u64, 0x1_0001, 0x22, 0x33]);
    assert_eq!(&reply[..4], &[0x1_0002, 0x1_0001, 0x22, 0x33]);
    let reply = harness.call(&[FFA_VERSION as u64, 0x8001_0000]);
    assert_eq!(&reply[..2], &[0xFFFF_FFFF, 0], "a 32-bit -1");
}

#[test]
fn success_answers_leave_the_callers_registers_and_errors_are_sign_extended() {
    let mut harness = Harness::negotiated(tf_a(), Version::V1_2);
    // Seen: FFA_RXTX_MAP_64 -> x1 = TX, x2 = RX, x3 = pages, x4/x5 the caller's.
    let reply = harness.call(&[
        FFA_RXTX_MAP_64 as u64,
        TRANSMIT_ADDRESS,
        RECEIVE_ADDRESS,
        1,
        0xdead,
        0xbeef,
    ]);
    assert_eq!(
        &reply[..6],
        &[
            FFA_SUCCESS_32 as u64,
            TRANSMIT_ADDRESS,
            RECEIVE_ADDRESS,
            1,
            0xdead,
            0xbeef
        ]
    );
    let reply = harness.call(&[FFA_RXTX_MAP_64 as u64, TRANSMIT_ADDRESS, RECEIVE_ADDRESS, 1]);
    assert_eq!(
        &reply[..4],
        &[FFA_ERROR as u64, 0, 0xFFFF_FFFF_FFFF_FFFA, 0]
    );
    // Seen: FFA_FEATURES(FFA_RXTX_MAP_64) with x3 = 0x77 -> x2 = 0 (no maximum), x3 = 0x77.
    let reply = harness.call(&[FFA_FEATURES as u64, FFA_RXTX_MAP_64 as u64, 0, 0x77]);
    assert_eq!(
        &reply[..4],
        &[FFA_SUCCESS_32 as u64, FFA_RXTX_MAP_64 as u64, 0, 0x77]
    );
}

#[test]
fn no_v1_2_messaging_abis() {
    let mut harness = Harness::negotiated(tf_a(), Version::V1_2);
    for function in [
        FFA_MSG_SEND_DIRECT_REQ2,
        FFA_PARTITION_INFO_GET_REGS,
        FFA_MSG_SEND2,
        FFA_NOTIFICATION_BIND,
        FFA_NOTIFICATION_INFO_GET_64,
    ] {
        let reply = harness.call(&[FFA_FEATURES as u64, function as u64]);
        assert_eq!(reply[0], FFA_ERROR as u64);
        let reply = harness.call(&[function as u64, 0x8001]);
        assert_eq!(reply[0], FFA_ERROR as u64);
        assert_eq!(reply[2] as u32 as i32, Status::NotSupported.code());
    }
    harness.map(1);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64, 0, 0, 0, 0, 0, 0x66, 0x77]);
    assert_eq!(
        &reply[..8],
        &[FFA_SUCCESS_32 as u64, 0, 7, 24, 0, 0, 0x66, 0x77]
    );
    let echo = harness.read(RECEIVE_ADDRESS, 8);
    assert_eq!(
        echo,
        [0x01, 0x80, 4, 0, 0x01, 0x01, 0, 0],
        "properties 0x101: no REQ2"
    );
}

#[test]
fn the_version_is_never_fixed() {
    let mut harness = Harness::negotiated(tf_a(), Version::V1_2);
    harness.map(1);
    // The model (and Hafnium) would refuse a different version now.
    let reply = harness.call(&[FFA_VERSION as u64, 0x1_0000]);
    assert_eq!(reply[0], 0x1_0002);
    assert_eq!(harness.world.negotiated_version(), Version::V1_0);
    expect_success(&harness.call(&[FFA_PARTITION_INFO_GET as u64]));
    assert_eq!(harness.read(RECEIVE_ADDRESS, 8)[4..8], [1, 0, 0, 0]);
    let mut without = Harness::new(FaultConfig::default());
    without.call(&[FFA_VERSION as u64, 0x1_0002]);
    without.call(&[FFA_ID_GET as u64]);
    assert_eq!(without.call(&[FFA_VERSION as u64, 0x1_0000])[0], u64::MAX);
}

#[test]
fn a_caller_that_never_negotiated_gets_the_spmc_layouts() {
    let mut harness = Harness::new(tf_a());
    harness.map(1);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64]);
    assert_eq!(reply[3] as u32, 24, "v1.1+ descriptors, not v1.0's 8 bytes");
}
