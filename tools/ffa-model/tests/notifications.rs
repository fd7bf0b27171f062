//! Notifications: bitmaps, binding, setting both ways, GET, INFO_GET and
//! the schedule receiver interrupt, per personality.

mod common;

use common::{expect_error, expect_success, Harness};
use ffa_abi::test_services::notifier;
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::notifications::{IMPLICIT_VCPUS, SCHEDULE_RECEIVER_INTERRUPT};
use ffa_model::{FaultConfig, Personality};

const NOTIFIER: u64 = 0x8004;

fn v1_2(config: FaultConfig) -> Harness {
    Harness::negotiated(config, Version::V1_2)
}

fn bind(harness: &mut Harness, sender: u64, flags: u64, bitmap: u64) -> [u64; 18] {
    harness.call(&[
        FFA_NOTIFICATION_BIND as u64,
        sender << 16,
        flags,
        bitmap & 0xFFFF_FFFF,
        bitmap >> 32,
    ])
}

fn notify_now(harness: &mut Harness, bitmap: u64, flags: u64) -> [u64; 18] {
    harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_32 as u64,
        NOTIFIER,
        0,
        u64::from(notifier::NOTIFY_NOW),
        bitmap & 0xFFFF_FFFF,
        bitmap >> 32,
        flags,
    ])
}

fn get(harness: &mut Harness, vcpu: u64, flags: u64) -> [u64; 18] {
    harness.call(&[FFA_NOTIFICATION_GET as u64, vcpu << 16, flags])
}

fn info_get_64(harness: &mut Harness) -> [u64; 18] {
    harness.call(&[FFA_NOTIFICATION_INFO_GET_64 as u64])
}

#[test]
fn a_bound_notification_raises_the_sri_and_is_listed_then_got_once() {
    let mut harness = v1_2(FaultConfig::default_config());
    expect_success(&bind(&mut harness, NOTIFIER, 0, 1 << 33 | 1 << 2));
    assert!(
        harness.world.normal_world_notifications_enabled(),
        "implicit"
    );
    let reply = notify_now(&mut harness, 1 << 33, 0);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!((reply[3], reply[4]), (0, 0), "the SET succeeded");
    assert_eq!(harness.platform.serve(), [SCHEDULE_RECEIVER_INTERRUPT]);
    let info = info_get_64(&mut harness);
    assert_eq!(info[0], FFA_SUCCESS_64 as u64);
    assert_eq!(info[2], 1 << 7, "one list, no vCPU: global");
    assert_eq!(info[3], 0, "endpoint 0");
    expect_error(&info_get_64(&mut harness), Status::NoData);
    let got = get(&mut harness, 0, 0b101);
    expect_success(&got);
    assert_eq!((got[2], got[3], got[6]), (0, 2, 0));
    let got = get(&mut harness, 0, 0b1);
    assert_eq!((got[2], got[3]), (0, 0), "GET clears");
}

#[test]
fn binding_rules() {
    let mut harness = v1_2(FaultConfig::default_config());
    // Not a partition with notifications, an empty bitmap, a foreign receiver, MBZ flags.
    expect_error(&bind(&mut harness, 0x8001, 0, 1), Status::InvalidParameters);
    expect_error(
        &bind(&mut harness, NOTIFIER, 0, 0),
        Status::InvalidParameters,
    );
    expect_error(
        &harness.call(&[FFA_NOTIFICATION_BIND as u64, NOTIFIER << 16 | 5, 0, 1]),
        Status::InvalidParameters,
    );
    expect_error(
        &bind(&mut harness, NOTIFIER, 2, 1),
        Status::InvalidParameters,
    );
    expect_success(&bind(&mut harness, NOTIFIER, 0, 0b11));
    expect_success(&bind(&mut harness, NOTIFIER, 0, 0b1)); // again: the same binding
    expect_error(&bind(&mut harness, NOTIFIER, 1, 0b1), Status::Denied);
    expect_success(&bind(&mut harness, NOTIFIER, 1, 0b100));
    // Pending bits cannot be unbound.
    notify_now(&mut harness, 0b1, 0);
    let unbind = [FFA_NOTIFICATION_UNBIND as u64, NOTIFIER << 16, 0, 0b1];
    expect_error(&harness.call(&unbind), Status::Denied);
    expect_success(&get(&mut harness, 0, 1));
    expect_success(&harness.call(&unbind));
    expect_error(
        &harness.call(&[FFA_NOTIFICATION_UNBIND as u64, NOTIFIER << 16, 1, 0b10]),
        Status::InvalidParameters,
    );
}

#[test]
fn per_vcpu_notifications_are_listed_with_their_vcpus() {
    let mut harness = v1_2(FaultConfig::default_config());
    expect_success(&bind(&mut harness, NOTIFIER, 1, 0xF0));
    for vcpu in 0..IMPLICIT_VCPUS as u64 {
        let reply = notify_now(&mut harness, 1 << (4 + vcpu), 1 | vcpu << 16);
        assert_eq!(reply[4], 0, "vCPU {vcpu}");
    }
    let info = info_get_64(&mut harness);
    // Two lists: (0; 0, 1, 2) and (0; 3).
    assert_eq!(info[2], 2 << 7 | 3 << 12 | 1 << 14);
    assert_eq!(info[3], 2 << 48 | 1 << 32);
    assert_eq!(info[4], 3 << 16);
    // Global notifications are got on any vCPU, per-vCPU ones on theirs,
    // from that vCPU's core only.
    expect_error(&get(&mut harness, 2, 1), Status::InvalidParameters);
    let got = harness.call_from(2, &[FFA_NOTIFICATION_GET as u64, 2 << 16, 1]);
    assert_eq!(got[2], 1 << 6);
    // A vCPU past the bitmap's count.
    expect_error(
        &harness.call_from(4, &[FFA_NOTIFICATION_GET as u64, 4 << 16, 1]),
        Status::InvalidParameters,
    );
    expect_error(&get(&mut harness, 0, 0x10), Status::InvalidParameters);
}

#[test]
fn the_normal_world_sets_and_the_notifier_answers_with_the_same_ids() {
    let mut harness = v1_2(FaultConfig::default_config());
    expect_success(&bind(&mut harness, NOTIFIER, 0, 0b110));
    let set = |harness: &mut Harness, flags: u64, bitmap: u64| {
        harness.call(&[FFA_NOTIFICATION_SET as u64, NOTIFIER, flags, bitmap])
    };
    expect_success(&set(&mut harness, 0, 0b10));
    assert_eq!(harness.platform.serve(), [SCHEDULE_RECEIVER_INTERRUPT]);
    assert_eq!(get(&mut harness, 0, 1)[2], 0b10);
    // Not bound by the partition (it binds 0-15), per-vCPU, delay flag, bad vCPU.
    expect_error(&set(&mut harness, 0, 1 << 20), Status::Denied);
    expect_error(&set(&mut harness, 1, 0b10), Status::Denied);
    expect_error(&set(&mut harness, 2, 0b10), Status::InvalidParameters);
    expect_error(
        &set(&mut harness, 1 | 4 << 16, 0b10),
        Status::InvalidParameters,
    );
    expect_error(&set(&mut harness, 0, 0), Status::InvalidParameters);
    expect_error(
        &harness.call(&[FFA_NOTIFICATION_SET as u64, 0x8001, 0, 1]),
        Status::InvalidParameters,
    );
    let statistics = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_32 as u64,
        NOTIFIER,
        0,
        u64::from(notifier::STATISTICS),
    ]);
    assert_eq!(statistics[6], 1, "one notification from the normal world");
    assert_eq!(statistics[7], 1, "one back");
}

#[test]
fn timed_notifications_come_from_the_secure_timer() {
    let mut harness = v1_2(FaultConfig::default_config());
    expect_success(&bind(&mut harness, NOTIFIER, 0, 1 << 9));
    let reply = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_32 as u64,
        NOTIFIER,
        0,
        u64::from(notifier::NOTIFY_LATER),
        1 << 9,
        0,
        2_000,
    ]);
    assert_eq!(reply[3], 0);
    assert_eq!(harness.platform.timer, Some(2_000));
    assert!(harness.platform.raised.is_empty(), "nothing yet");
    assert!(harness.expire_timer());
    assert_eq!(harness.platform.serve(), [SCHEDULE_RECEIVER_INTERRUPT]);
    assert_eq!(harness.platform.timer, None, "nothing else waits");
    assert_eq!(get(&mut harness, 0, 1)[2], 1 << 9);
}

#[test]
fn bitmap_create_and_destroy() {
    let mut harness = v1_2(FaultConfig::default_config());
    let create = |harness: &mut Harness, vm: u64, vcpus: u64| {
        harness.call(&[FFA_NOTIFICATION_BITMAP_CREATE as u64, vm, vcpus])
    };
    expect_error(&create(&mut harness, 1, 1), Status::InvalidParameters);
    expect_error(&create(&mut harness, 0, 0), Status::InvalidParameters);
    expect_error(&create(&mut harness, 0, 9), Status::InvalidParameters);
    expect_success(&create(&mut harness, 0, 2));
    expect_error(&create(&mut harness, 0, 2), Status::Denied);
    expect_success(&bind(&mut harness, NOTIFIER, 0, 1));
    let destroy = [FFA_NOTIFICATION_BITMAP_DESTROY as u64, 0];
    expect_error(&harness.call(&destroy), Status::Denied);
    expect_success(&harness.call(&[FFA_NOTIFICATION_UNBIND as u64, NOTIFIER << 16, 0, 1]));
    expect_success(&harness.call(&destroy));
    expect_error(&harness.call(&destroy), Status::Denied);
    // Two vCPUs were asked for: vCPU 2 does not exist.
    expect_success(&create(&mut harness, 0, 2));
    expect_error(&get(&mut harness, 2, 1), Status::InvalidParameters);
}

#[test]
fn personalities() {
    // Hafnium: a bitmap must be created; no per-vCPU; INFO_GET 64-bit only.
    let mut harness = v1_2(FaultConfig::as_personality(Personality::Hafnium));
    expect_error(&bind(&mut harness, NOTIFIER, 0, 1), Status::NotSupported);
    expect_success(&harness.call(&[FFA_NOTIFICATION_BITMAP_CREATE as u64, 0, 1]));
    expect_success(&bind(&mut harness, NOTIFIER, 0, 1));
    expect_error(
        &bind(&mut harness, NOTIFIER, 1, 2),
        Status::InvalidParameters,
    );
    expect_error(
        &harness.call(&[FFA_NOTIFICATION_INFO_GET_32 as u64]),
        Status::NotSupported,
    );
    // OP-TEE: global only; no MSG_SEND2.
    let mut harness = v1_2(FaultConfig::as_personality(Personality::OpTee));
    expect_error(
        &bind(&mut harness, NOTIFIER, 0, 1),
        Status::InvalidParameters,
    );
    expect_success(&harness.call(&[FFA_NOTIFICATION_BITMAP_CREATE as u64, 0, 1]));
    expect_error(&bind(&mut harness, NOTIFIER, 1, 1), Status::Denied);
    expect_error(&harness.call(&[FFA_MSG_SEND2 as u64]), Status::NotSupported);
    // v1.0: nothing.
    let mut harness = Harness::negotiated(FaultConfig::default_config(), Version::V1_0);
    expect_error(&bind(&mut harness, NOTIFIER, 0, 1), Status::NotSupported);
}

#[test]
fn info_get_32_packs_two_ids_per_register() {
    let mut harness = v1_2(FaultConfig::default_config());
    expect_success(&bind(&mut harness, NOTIFIER, 1, 0xF));
    expect_success(&bind(&mut harness, NOTIFIER, 0, 0x10));
    notify_now(&mut harness, 0x10, 0);
    for vcpu in 0..4u64 {
        notify_now(&mut harness, 1 << vcpu, 1 | vcpu << 16);
    }
    let info = harness.call(&[FFA_NOTIFICATION_INFO_GET_32 as u64]);
    expect_success(&info);
    // (0), (0; 0, 1, 2), (0; 3): 7 IDs.
    assert_eq!(info[2], 3 << 7 | 3 << 14 | 1 << 16);
    // IDs 0 | 0, 0, 1, 2 | 0, 3, two to a register, the first in the low half.
    assert_eq!(&info[3..8], &[0, 1 << 16, 2, 3, 0]);
}
