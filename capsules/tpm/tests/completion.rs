//! How the driver learns that the TPM is done, through the whole chain on
//! the host (see `common`): the completion notification when the TPM
//! partition offers it (bound, registered, set by the partition, taken
//! through the schedule receiver interrupt and acknowledged with
//! `FINISH_NOTIFIED`), polling on the alarm when it does not.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_tpm::driver::{Completion, PREFERRED_NOTIFICATION_ID};
use capsule_tpm::measured_boot::MeasurementState;
use capsule_tpm::tpm2;
use common::*;
use ffa_abi::function::{FFA_NOTIFICATION_BIND, FFA_NOTIFICATION_GET};
use ffa_model::tpm::config::TpmConfig;
use ffa_model::FaultConfig;
use kernel::hil::time::Time;
use kernel::hil::tpm::{Locality, Tpm};
use testbed::leak;

#[test]
fn an_offered_notification_completes_every_command() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig::healthy());
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    assert_eq!(
        board.driver.completion(),
        Completion::Notified(PREFERRED_NOTIFICATION_ID)
    );
    assert_eq!(
        board.monitor.world().tpm().registered_notification(),
        Some(PREFERRED_NOTIFICATION_ID)
    );
    assert_eq!(board.monitor.count(FFA_NOTIFICATION_BIND), 1);
    let statistics = board.driver.statistics();
    assert!(statistics.commands >= EXTENDED as u32, "{statistics:?}");
    assert_eq!(
        statistics.notifications, statistics.commands,
        "each command's completion came as a notification: {statistics:?}"
    );
    assert_eq!(statistics.polls, 0, "nothing polled: {statistics:?}");
    assert!(board.monitor.count(FFA_NOTIFICATION_GET) >= statistics.commands as usize);

    // A console command later takes the same path.
    let recorder = leak(Recorder::default());
    board.console.set_client(recorder);
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 64]));
    let length = tpm2::get_random(buffer, 8).unwrap();
    board
        .console
        .send_command(buffer, length, Locality::ZERO)
        .unwrap();
    board.run();
    assert_eq!(recorder.completions.take(), vec![(20, Ok(()))]);
    let after = board.driver.statistics();
    assert_eq!(after.notifications, statistics.notifications + 1);
    assert_eq!(after.polls, 0);
}

#[test]
fn without_notifications_a_slow_tpm_is_polled() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig {
        notifications: false,
        background_microseconds: 3_000,
        ..TpmConfig::healthy()
    });
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    assert_eq!(board.driver.completion(), Completion::Polled);
    assert_eq!(board.monitor.world().tpm().registered_notification(), None);
    assert_eq!(
        board.monitor.count(FFA_NOTIFICATION_BIND),
        0,
        "nothing bound for a TPM that does not notify"
    );
    let statistics = board.driver.statistics();
    assert_eq!(statistics.notifications, 0);
    // Each command runs 3 ms, looked at every millisecond.
    assert!(
        statistics.polls >= 2 * statistics.commands,
        "{statistics:?}"
    );
    assert!(board.alarm.now() >= 3_000 * u64::from(statistics.commands));
}

#[test]
fn without_notifications_a_tpm_done_within_start_needs_no_poll() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig {
        notifications: false,
        background_microseconds: 0,
        ..TpmConfig::healthy()
    });
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    assert_eq!(board.driver.completion(), Completion::Polled);
    let statistics = board.driver.statistics();
    assert_eq!(
        (statistics.polls, statistics.notifications),
        (0, 0),
        "the CRB says done when START returns: {statistics:?}"
    );
    assert_eq!(board.alarm.now(), 0, "no time spent waiting");
}

#[test]
fn a_notification_id_held_by_another_sender_is_skipped() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig::default(),
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    // Before the kernel runs, the normal world's ID 16 is bound to the
    // notifier partition (as another driver would hold it): the SPMC
    // answers the TPM driver's BIND of 16 with DENIED.
    let call = |values: &[u64]| {
        let mut registers = [0u64; 18];
        registers[..values.len()].copy_from_slice(values);
        board
            .monitor
            .memory()
            .with(|memory| board.monitor.world_mut().handle(&registers, memory, 0))
    };
    call(&[u64::from(ffa_abi::function::FFA_VERSION), 0x1_0002]);
    let bound = call(&[
        u64::from(FFA_NOTIFICATION_BIND),
        0x8004 << 16,
        0,
        1 << PREFERRED_NOTIFICATION_ID,
    ]);
    assert!(
        matches!(bound, ffa_model::Outcome::Return(reply) if reply[0] == u64::from(ffa_abi::function::FFA_SUCCESS_32)),
        "{bound:?}"
    );
    board.boot();
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    let next = PREFERRED_NOTIFICATION_ID + 1;
    assert_eq!(board.driver.completion(), Completion::Notified(next));
    assert_eq!(
        board.monitor.world().tpm().registered_notification(),
        Some(next)
    );
    assert_eq!(board.monitor.count(FFA_NOTIFICATION_BIND), 2, "16, then 17");
    let statistics = board.driver.statistics();
    assert_eq!(statistics.notifications, statistics.commands);
}
