//! How the driver learns that the TPM is done, through the whole chain on
//! the host (see `common`): the completion notification when the TPM
//! partition offers it (bound, registered, set by the partition, taken
//! through the schedule receiver interrupt and acknowledged with
//! `FINISH_NOTIFIED`), polling on the alarm when it does not; and the
//! registration withdrawn (`UNREGISTER_FROM_NOTIFICATION`, the ID unbound)
//! when the driver gives the TPM up after registering.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_tpm::driver::{Completion, PREFERRED_NOTIFICATION_ID};
use capsule_tpm::measured_boot::MeasurementState;
use capsule_tpm::tpm2;
use common::*;
use ffa_abi::function::{FFA_NOTIFICATION_BIND, FFA_NOTIFICATION_GET, FFA_NOTIFICATION_UNBIND};
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

/// Binds normal-world notification `id` to partition `sender` straight at
/// the model, as another driver would; whether the SPMC took it.
fn bind_elsewhere(board: &Board, sender: u64, id: u8) -> bool {
    let mut registers = [0u64; 18];
    registers[..4].copy_from_slice(&[u64::from(FFA_NOTIFICATION_BIND), sender << 16, 0, 1 << id]);
    let outcome = board
        .monitor
        .memory()
        .with(|memory| board.monitor.world_mut().handle(&registers, memory, 0));
    matches!(outcome, ffa_model::Outcome::Return(reply) if reply[0] == u64::from(ffa_abi::function::FFA_SUCCESS_32))
}

#[test]
fn a_tpm_given_up_after_registering_is_unregistered_and_its_id_unbound() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig::default(),
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    // The CRB's interface ID says FIFO, not CRB: the driver finds out at
    // the first locality it takes, after it registered for notifications.
    board.window.not_crb.set(true);
    board.boot();
    assert!(!board.driver.is_available(), "the TPM is given up");
    assert!(matches!(
        board.driver.last_fault(),
        Some(capsule_tpm::driver::TransportFault::Crb(
            capsule_tpm::driver::Stage::Locality,
            capsule_tpm::crb::CrbFault::NotCrb(_)
        ))
    ));
    assert_eq!(
        board.monitor.count(FFA_NOTIFICATION_BIND),
        1,
        "it had bound an ID and registered"
    );
    // The service no longer sets the driver's notification...
    assert_eq!(board.monitor.world().tpm().registered_notification(), None);
    // ...and the ID is unbound at the SPMC: another sender may have it now.
    assert_eq!(board.monitor.count(FFA_NOTIFICATION_UNBIND), 1);
    assert!(bind_elsewhere(&board, 0x8004, PREFERRED_NOTIFICATION_ID));
    assert_eq!(board.driver.completion(), Completion::Polled);
    assert_ne!(board.measured.state(), MeasurementState::Verified);
    // Nothing else goes to the TPM.
    let statistics = board.driver.statistics();
    let recorder = leak(Recorder::default());
    board.console.set_client(recorder);
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 64]));
    let length = tpm2::get_random(buffer, 8).unwrap();
    assert!(board
        .console
        .send_command(buffer, length, Locality::ZERO)
        .is_err());
    board.run();
    assert_eq!(board.driver.statistics(), statistics);
}

#[test]
fn a_healthy_tpm_keeps_its_registration() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig::healthy());
    assert!(board.driver.is_available());
    assert_eq!(board.monitor.count(FFA_NOTIFICATION_UNBIND), 0);
    assert!(
        !bind_elsewhere(&board, 0x8004, PREFERRED_NOTIFICATION_ID),
        "the TPM driver's ID is still bound"
    );
}
