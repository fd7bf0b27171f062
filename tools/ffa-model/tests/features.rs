//! FFA_FEATURES, FFA_ID_GET and FFA_SPM_ID_GET.

mod common;

use common::{expect_error, expect_success, Harness};
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::FaultConfig;

fn features(harness: &mut Harness, id: u32) -> [u64; 18] {
    harness.call(&[FFA_FEATURES as u64, id as u64])
}

const BASE: [u32; 23] = [
    FFA_MEM_SHARE_32,
    FFA_MEM_SHARE_64,
    FFA_MEM_LEND_32,
    FFA_MEM_LEND_64,
    FFA_MEM_DONATE_32,
    FFA_MEM_DONATE_64,
    FFA_MEM_FRAG_TX,
    FFA_MEM_RECLAIM,
    FFA_ERROR,
    FFA_SUCCESS_32,
    FFA_SUCCESS_64,
    FFA_INTERRUPT,
    FFA_VERSION,
    FFA_FEATURES,
    FFA_RX_RELEASE,
    FFA_RXTX_MAP_32,
    FFA_RXTX_MAP_64,
    FFA_RXTX_UNMAP,
    FFA_PARTITION_INFO_GET,
    FFA_ID_GET,
    FFA_RUN,
    FFA_MSG_SEND_DIRECT_REQ_32,
    FFA_MSG_SEND_DIRECT_REQ_64,
];
const FROM_V1_1: [u32; 11] = [
    FFA_SPM_ID_GET,
    FFA_RX_ACQUIRE,
    FFA_MSG_SEND2,
    FFA_NOTIFICATION_BITMAP_CREATE,
    FFA_NOTIFICATION_BITMAP_DESTROY,
    FFA_NOTIFICATION_BIND,
    FFA_NOTIFICATION_UNBIND,
    FFA_NOTIFICATION_SET,
    FFA_NOTIFICATION_GET,
    FFA_NOTIFICATION_INFO_GET_32,
    FFA_NOTIFICATION_INFO_GET_64,
];
const FROM_V1_2: [u32; 2] = [FFA_PARTITION_INFO_GET_REGS, FFA_MSG_SEND_DIRECT_REQ2];
const NEVER: [u32; 13] = [
    FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_SEND_DIRECT_RESP_64,
    FFA_MSG_SEND_DIRECT_RESP2,
    FFA_MSG_WAIT,
    FFA_YIELD,
    FFA_MSG_POLL,
    FFA_MSG_SEND,
    FFA_MEM_RETRIEVE_REQ_64,
    FFA_MEM_RELINQUISH,
    FFA_MEM_FRAG_RX,
    FFA_CONSOLE_LOG_64,
    SMCCC_VERSION,
    PSCI_SYSTEM_OFF,
];

#[test]
fn supported_functions_depend_on_the_negotiated_version() {
    for version in [Version::V1_0, Version::V1_1, Version::V1_2] {
        let mut harness = Harness::negotiated(FaultConfig::default_config(), version);
        for id in BASE {
            expect_success(&features(&mut harness, id));
        }
        for id in FROM_V1_1 {
            let result = features(&mut harness, id);
            if version >= Version::V1_1 {
                expect_success(&result);
            } else {
                expect_error(&result, Status::NotSupported);
            }
        }
        for id in FROM_V1_2 {
            let result = features(&mut harness, id);
            if version >= Version::V1_2 {
                expect_success(&result);
                assert_eq!(result[2], 0);
            } else {
                expect_error(&result, Status::NotSupported);
            }
        }
        for id in NEVER {
            expect_error(&features(&mut harness, id), Status::NotSupported);
        }
    }
}

#[test]
fn rxtx_map_reports_4k_minimum_and_v1_2_maximum() {
    for (version, expected) in [
        (Version::V1_0, 0),
        (Version::V1_1, 0),
        (Version::V1_2, 16 << 16),
    ] {
        let mut harness = Harness::negotiated(FaultConfig::default_config(), version);
        for id in [FFA_RXTX_MAP_32, FFA_RXTX_MAP_64] {
            let result = features(&mut harness, id);
            expect_success(&result);
            assert_eq!(result[2], expected, "{version}");
            assert_eq!(result[2] & 0b11, 0, "minimum size and alignment 4 KiB");
        }
    }
}

#[test]
fn only_the_schedule_receiver_interrupt_is_a_feature_of_the_normal_world() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    for feature in [1u32, 3, 0, 0x100, 0x7FFF_FFFF] {
        expect_error(&features(&mut harness, feature), Status::NotSupported);
    }
    let result = features(&mut harness, 2);
    expect_success(&result);
    assert_eq!(result[2], 8, "SGI 8, as Hafnium");
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    expect_error(&features(&mut harness, 2), Status::NotSupported);
}

#[test]
fn id_get_returns_endpoint_0() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    let result = harness.call(&[FFA_ID_GET as u64]);
    expect_success(&result);
    assert_eq!(&result[1..8], &[0; 7]);
}

#[test]
fn spm_id_get_from_v1_1() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_1);
    let result = harness.call(&[FFA_SPM_ID_GET as u64]);
    expect_success(&result);
    assert_eq!(result[2], 0x8000);
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    expect_error(
        &harness.call(&[FFA_SPM_ID_GET as u64]),
        Status::NotSupported,
    );
}

#[test]
fn unimplemented_ffa_functions_answer_ffa_error() {
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_2);
    for id in [
        FFA_MEM_RETRIEVE_REQ_64,
        FFA_MEM_RELINQUISH,
        FFA_MEM_FRAG_RX,
        FFA_MEM_OP_PAUSE,
        FFA_MSG_WAIT,
        FFA_MSG_SEND_DIRECT_RESP_32,
        FFA_YIELD,
        FFA_ERROR,
        FFA_SUCCESS_32,
        FFA_CONSOLE_LOG_32,
        0x8400_0090,
        0xC400_00EF,
    ] {
        expect_error(&harness.call(&[id as u64]), Status::NotSupported);
    }
}
