//! The model configured as each real SPMC where they differ (`FaultConfig::personality`):
//! Hafnium (S-EL2, FF-A v1.3) and OP-TEE (S-EL1). TF-A's EL3 SPMC has its own file, `tf_a_el3.rs`.

mod common;

use common::*;
use ffa_abi::{Status, Uuid, Version};
use ffa_model::function_id::*;
use ffa_model::partition::{HOSTED_PARTITIONS, PARTITION_COUNT};
use ffa_model::{FaultConfig, Personality};

fn hafnium() -> FaultConfig {
    FaultConfig::as_personality(Personality::Hafnium)
}

fn op_tee() -> FaultConfig {
    FaultConfig::as_personality(Personality::OpTee)
}

fn read_u16(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes([bytes[offset], bytes[offset + 1]])
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

#[test]
fn each_personality_has_its_spmc_s_version() {
    assert_eq!(hafnium().spmc_version, (1, 3));
    assert_eq!(op_tee().spmc_version, (1, 1));
    assert_eq!(
        FaultConfig::as_personality(Personality::TfAEl3Spmc).spmc_version,
        (1, 2)
    );
    assert_eq!(
        FaultConfig::as_personality(Personality::Specification),
        FaultConfig::default_config()
    );
}

#[test]
fn hafnium_answers_v1_3_and_refuses_a_version_change_after_other_calls() {
    let mut harness = Harness::new(hafnium());
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0001])[0], 0x1_0003);
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0002])[0], 0x1_0003);
    assert_eq!(harness.world.negotiated_version(), Version::V1_2);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
    // The same version again is accepted; another one is not.
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0002])[0], 0x1_0003);
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0001])[0], u64::MAX);
}

#[test]
fn hafnium_maps_one_page_and_says_so_in_ffa_features() {
    let mut harness = Harness::negotiated(hafnium(), Version::V1_2);
    let reply = harness.call(&[FFA_FEATURES as u64, FFA_RXTX_MAP_64 as u64]);
    expect_success(&reply);
    assert_eq!(reply[2], 1 << 16, "minimum 4 KiB, maximum 1 page");
    let reply = harness.call(&[FFA_RXTX_MAP_64 as u64, TRANSMIT_ADDRESS, RECEIVE_ADDRESS, 2]);
    expect_error(&reply, Status::InvalidParameters);
    harness.map(1);

    // Below v1.2 the maximum is not reported, but still enforced.
    let mut harness = Harness::negotiated(hafnium(), Version::V1_1);
    let reply = harness.call(&[FFA_FEATURES as u64, FFA_RXTX_MAP_64 as u64]);
    assert_eq!(reply[2], 0);
    let reply = harness.call(&[FFA_RXTX_MAP_64 as u64, TRANSMIT_ADDRESS, RECEIVE_ADDRESS, 4]);
    expect_error(&reply, Status::InvalidParameters);
}

#[test]
fn hafnium_gives_48_byte_descriptors_to_v1_1_and_later_callers() {
    for version in [Version::V1_1, Version::V1_2] {
        let mut harness = Harness::negotiated(hafnium(), version);
        harness.map(1);
        let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64]);
        expect_success(&reply);
        assert_eq!(reply[2], PARTITION_COUNT as u64);
        assert_eq!(reply[3], 48, "at {version}");
        let rx = harness.read(RECEIVE_ADDRESS, 48 * PARTITION_COUNT);
        for (index, partition) in HOSTED_PARTITIONS.iter().enumerate() {
            let descriptor = &rx[index * 48..(index + 1) * 48];
            assert_eq!(read_u16(descriptor, 0), partition.id);
            assert_eq!(read_u16(descriptor, 2), partition.execution_context_count);
            assert_eq!(read_u32(descriptor, 4), partition.properties_for(version));
            assert_eq!(&descriptor[8..24], &partition.uuid);
            assert_eq!(&descriptor[24..40], &[0; 16], "no image UUID");
            assert_eq!(
                read_u32(descriptor, 40),
                0x1_0002,
                "the partition's version"
            );
            assert_eq!(read_u32(descriptor, 44), 0);
        }
        expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    }
    // v1.0 callers still get 8-byte descriptors.
    let mut harness = Harness::negotiated(hafnium(), Version::V1_0);
    harness.map(1);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64]);
    expect_success(&reply);
    assert_eq!(reply[3], 0);
}

#[test]
fn hafnium_partition_info_get_regs_reports_48_bytes_two_per_call() {
    let mut harness = Harness::negotiated(hafnium(), Version::V1_2);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET_REGS as u64, 0, 0, 0]);
    assert_eq!(reply[0], FFA_SUCCESS_64 as u64, "{reply:x?}");
    let summary = reply[2];
    assert_eq!(summary & 0xFFFF, PARTITION_COUNT as u64 - 1, "last index");
    assert_eq!(
        (summary >> 16) & 0xFFFF,
        1,
        "current index: two descriptors"
    );
    assert_eq!(summary >> 48, 48, "descriptor size");
    for (slot, partition) in HOSTED_PARTITIONS[..2].iter().enumerate() {
        let registers = &reply[3 + slot * 6..3 + (slot + 1) * 6];
        assert_eq!(registers[0], partition.register_word(Version::V1_2));
        assert_eq!(
            Uuid::from_register_pair([registers[1], registers[2]]),
            partition.uuid()
        );
        assert_eq!(&registers[3..5], &[0, 0], "no image UUID");
        assert_eq!(registers[5], 0x1_0002, "the partition's version");
    }
    assert_eq!(
        &reply[15..18],
        &[0, 0, 0],
        "x15-x17 hold no third descriptor"
    );
    let reply = harness.call(&[FFA_PARTITION_INFO_GET_REGS as u64, 0, 0, 2]);
    assert_eq!((reply[2] >> 16) & 0xFFFF, 3);
    assert_eq!(reply[3], HOSTED_PARTITIONS[2].register_word(Version::V1_2));
    let reply = harness.call(&[FFA_PARTITION_INFO_GET_REGS as u64, 0, 0, 4]);
    assert_eq!((reply[2] >> 16) & 0xFFFF, 5, "the last two");
    assert_eq!(reply[3], HOSTED_PARTITIONS[4].register_word(Version::V1_2));
    assert_eq!(reply[9], HOSTED_PARTITIONS[5].register_word(Version::V1_2));
}

#[test]
fn op_tee_answers_its_own_version_whatever_is_asked_and_never_locks_it() {
    let mut harness = Harness::new(op_tee());
    for requested in [0x1_0000u64, 0x1_0001, 0x1_0002] {
        assert_eq!(harness.call(&[FFA_VERSION as u64, requested])[0], 0x1_0001);
    }
    assert_eq!(harness.world.negotiated_version(), Version::V1_1);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
    // Renegotiation stays possible (OP-TEE must serve a loader and a driver).
    assert_eq!(harness.call(&[FFA_VERSION as u64, 0x1_0000])[0], 0x1_0001);
    assert_eq!(harness.world.negotiated_version(), Version::V1_0);
}

#[test]
fn op_tee_gives_24_byte_descriptors_and_8_at_v1_0() {
    let mut harness = Harness::negotiated(op_tee(), Version::V1_2);
    harness.map(1);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64]);
    expect_success(&reply);
    assert_eq!((reply[2], reply[3]), (PARTITION_COUNT as u64, 24));
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));

    let mut harness = Harness::negotiated(op_tee(), Version::V1_0);
    harness.map(1);
    let reply = harness.call(&[FFA_PARTITION_INFO_GET as u64]);
    expect_success(&reply);
    assert_eq!((reply[2], reply[3]), (PARTITION_COUNT as u64, 0));
    let rx = harness.read(RECEIVE_ADDRESS, 16);
    assert_eq!(read_u16(&rx, 8), HOSTED_PARTITIONS[1].id, "8 bytes apart");
}

#[test]
fn op_tee_answers_an_unknown_uuid_with_a_count_of_zero() {
    let unknown = Uuid::from_words([1, 2, 3, 4]).to_words();
    let mut harness = Harness::negotiated(op_tee(), Version::V1_1);
    let reply = harness.call(&[
        FFA_PARTITION_INFO_GET as u64,
        u64::from(unknown[0]),
        u64::from(unknown[1]),
        u64::from(unknown[2]),
        u64::from(unknown[3]),
        1,
    ]);
    expect_success(&reply);
    assert_eq!(reply[2], 0);
    // Through RX, the (empty) buffer is handed over and must be released.
    harness.map(1);
    let reply = harness.call(&[
        FFA_PARTITION_INFO_GET as u64,
        u64::from(unknown[0]),
        u64::from(unknown[1]),
        u64::from(unknown[2]),
        u64::from(unknown[3]),
    ]);
    expect_success(&reply);
    assert_eq!(reply[2], 0);
    expect_error(
        &harness.call(&[FFA_PARTITION_INFO_GET as u64]),
        Status::Busy,
    );
    expect_success(&harness.call(&[FFA_RX_RELEASE as u64]));
    expect_error(&harness.call(&[FFA_RX_RELEASE as u64]), Status::Denied);

    // The specification's answer (and Hafnium's, and TF-A's): INVALID_PARAMETERS.
    let mut harness = Harness::negotiated(hafnium(), Version::V1_2);
    let reply = harness.call(&[
        FFA_PARTITION_INFO_GET as u64,
        u64::from(unknown[0]),
        u64::from(unknown[1]),
        u64::from(unknown[2]),
        u64::from(unknown[3]),
        1,
    ]);
    expect_error(&reply, Status::InvalidParameters);
}

#[test]
fn op_tee_has_no_v1_2_abis() {
    let mut harness = Harness::negotiated(op_tee(), Version::V1_2);
    for function in [FFA_PARTITION_INFO_GET_REGS, FFA_MSG_SEND_DIRECT_REQ2] {
        let reply = harness.call(&[FFA_FEATURES as u64, function as u64]);
        expect_error(&reply, Status::NotSupported);
    }
}

#[test]
fn personalities_survive_the_configuration_blob() {
    for personality in [
        Personality::Specification,
        Personality::TfAEl3Spmc,
        Personality::Hafnium,
        Personality::OpTee,
    ] {
        let config = FaultConfig::as_personality(personality);
        assert_eq!(FaultConfig::from_bytes(&config.to_bytes()), Ok(config));
    }
}
