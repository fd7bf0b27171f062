//! FFA_VERSION: the callee's own version, negotiation, and when the version becomes fixed.

mod common;

use common::{expect_error, expect_success, Harness};
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::FaultConfig;

fn spmc(major: u16, minor: u16) -> FaultConfig {
    FaultConfig {
        spmc_version: (major, minor),
        ..FaultConfig::default_config()
    }
}

fn version_call(harness: &mut Harness, requested: u64) -> [u64; 18] {
    harness.call(&[FFA_VERSION as u64, requested])
}

#[test]
fn returns_own_version_whatever_is_asked() {
    for requested in [0x1_0000u64, 0x1_0001, 0x1_0002, 0x1_0005, 0x2_0000, 0] {
        let mut harness = Harness::default_config();
        let result = version_call(&mut harness, requested);
        assert_eq!(result[0], 0x1_0002, "asked {requested:#x}");
        assert_eq!(&result[1..8], &[0; 7]);
    }
}

#[test]
fn bit_31_set_is_not_supported_as_64_bit_minus_one() {
    let mut harness = Harness::default_config();
    assert_eq!(version_call(&mut harness, 0x8001_0002)[0], u64::MAX);
    // Nothing was recorded: the caller is still treated as v1.0.
    assert_eq!(harness.world.caller_version(), Version::V1_0);
}

#[test]
fn negotiated_version_is_the_minimum() {
    let cases = [
        ((1, 2), 0x1_0000, Version::V1_0),
        ((1, 2), 0x1_0001, Version::V1_1),
        ((1, 2), 0x1_0002, Version::V1_2),
        ((1, 2), 0x1_0007, Version::V1_2),
        ((1, 0), 0x1_0002, Version::V1_0),
        ((1, 1), 0x1_0002, Version::V1_1),
    ];
    for ((major, minor), requested, expected) in cases {
        let mut harness = Harness::new(spmc(major, minor));
        let result = version_call(&mut harness, requested);
        assert_eq!(result[0], u64::from(Version::new(major, minor).raw()));
        assert_eq!(harness.world.negotiated_version(), expected);
    }
}

#[test]
fn incompatible_major_is_answered_but_not_recorded() {
    let mut harness = Harness::default_config();
    assert_eq!(version_call(&mut harness, 0x1_0001)[0], 0x1_0002);
    assert_eq!(version_call(&mut harness, 0x2_0000)[0], 0x1_0002);
    assert_eq!(harness.world.caller_version(), Version::V1_1);
}

#[test]
fn calls_before_version_are_treated_as_v1_0_and_fix_the_version() {
    let mut harness = Harness::default_config();
    // v1.0 rules: FFA_SPM_ID_GET does not exist yet.
    expect_error(
        &harness.call(&[FFA_SPM_ID_GET as u64]),
        Status::NotSupported,
    );
    assert_eq!(harness.world.negotiated_version(), Version::V1_0);
    // The version is now fixed at v1.0.
    assert_eq!(version_call(&mut harness, 0x1_0002)[0], u64::MAX);
    assert_eq!(version_call(&mut harness, 0x1_0000)[0], 0x1_0002);
}

#[test]
fn version_can_change_until_another_call_is_made() {
    let mut harness = Harness::default_config();
    version_call(&mut harness, 0x1_0000);
    version_call(&mut harness, 0x1_0002);
    assert_eq!(harness.world.negotiated_version(), Version::V1_2);
    expect_success(&harness.call(&[FFA_ID_GET as u64]));
    assert_eq!(version_call(&mut harness, 0x1_0001)[0], u64::MAX);
    assert_eq!(version_call(&mut harness, 0x1_0002)[0], 0x1_0002);
    assert_eq!(harness.world.negotiated_version(), Version::V1_2);
}

#[test]
fn spmc_v1_0_gives_v1_0_rules_to_a_v1_2_caller() {
    let mut harness = Harness::negotiated(spmc(1, 0), Version::V1_2);
    expect_error(
        &harness.call(&[FFA_SPM_ID_GET as u64]),
        Status::NotSupported,
    );
    expect_error(
        &harness.call(&[FFA_FEATURES as u64, FFA_MSG_SEND_DIRECT_REQ2 as u64]),
        Status::NotSupported,
    );
}

#[test]
fn spmc_with_a_later_minor_reports_it_and_behaves_like_v1_2() {
    let mut harness = Harness::new(spmc(1, 3));
    assert_eq!(version_call(&mut harness, 0x1_0003)[0], 0x1_0003);
    assert_eq!(harness.world.negotiated_version(), Version::new(1, 3));
    expect_success(&harness.call(&[FFA_FEATURES as u64, FFA_MSG_SEND_DIRECT_REQ2 as u64]));
}

#[test]
fn spmc_of_major_2_answers_only_version() {
    let mut harness = Harness::new(spmc(2, 0));
    assert_eq!(version_call(&mut harness, 0x1_0002)[0], 0x2_0000);
    assert_eq!(
        harness.world.caller_version(),
        Version::V1_0,
        "1.2 is incompatible"
    );
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::NotSupported);
    expect_error(
        &harness.call(&[FFA_FEATURES as u64, FFA_VERSION as u64]),
        Status::NotSupported,
    );
    let mut harness = Harness::new(spmc(2, 0));
    assert_eq!(version_call(&mut harness, 0x2_0000)[0], 0x2_0000);
    expect_error(&harness.call(&[FFA_ID_GET as u64]), Status::NotSupported);
}

#[test]
fn version_reply_preserves_x8_to_x17() {
    let mut harness = Harness::default_config();
    let mut call: [u64; 18] = core::array::from_fn(|index| 0x5000 + index as u64);
    call[0] = FFA_VERSION as u64;
    call[1] = 0x1_0002;
    let result = harness.call_registers(&call);
    assert_eq!(&result[..8], &[0x1_0002, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&result[8..], &call[8..]);
}

#[test]
fn the_sve_hint_bit_is_not_part_of_the_function_id() {
    // SMCCC v1.3: a caller may set bit 16 (its SVE state need not be
    // preserved); the callee matches the ID without it, as Hafnium does.
    let mut harness = Harness::default_config();
    let hint = u64::from(ffa_abi::function::SVE_HINT);
    let reply = harness.call(&[FFA_VERSION as u64 | hint, 0x1_0002]);
    assert_eq!(reply[0], 0x1_0002, "{reply:x?}");
    let reply = harness.call(&[FFA_ID_GET as u64 | hint]);
    expect_success(&reply);
    // Other bits of [23:17] still make the ID malformed.
    let reply = harness.call(&[FFA_ID_GET as u64 | 1 << 17]);
    assert_eq!(reply[0], u64::MAX);
}
