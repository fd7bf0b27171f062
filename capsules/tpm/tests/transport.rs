//! The transport through the whole chain on the host (see `common`):
//! malformed responses refused, the carrier a v1.1 host gets, time-outs
//! and cancellation through the CRB.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_ffa::version::SupportedVersion;
use capsule_tpm::measured_boot::{MeasurementFailure, MeasurementState};
use capsule_tpm::service::Carrier;
use capsule_tpm::tpm2;
use common::*;
use ffa_model::tpm::config::{MalformedResponse, TpmConfig};
use ffa_model::FaultConfig;
use kernel::hil::time::Time;
use kernel::hil::tpm::{Locality, Tpm};
use kernel::init_queue::Queue as _;
use kernel::ErrorCode;
use testbed::leak;

#[test]
fn malformed_responses_are_refused_never_trusted() {
    let _guard = testbed::deferred::exclusive();
    // A PCR_Read whose size field runs past the response buffer.
    let first = booted(TpmConfig {
        malformed: MalformedResponse::SizeBeyondBuffer,
        malformed_command: 0x17E,
        ..TpmConfig::healthy()
    });
    assert_eq!(
        first.measured.state(),
        MeasurementState::Failed(MeasurementFailure::ReadTransport(ErrorCode::FAIL))
    );
    assert_eq!(
        first.measured.extended_count(),
        EXTENDED,
        "the extends were done"
    );
    assert!(first.queue.is_settled());
    // The driver goes on: the next command works.
    assert!(first.driver.is_available());

    for (kind, command, expected) in [
        (MalformedResponse::WrongTag, 0x144, "Malformed"),
        (MalformedResponse::SizeBelowHeader, 0x144, "Transport"),
        (MalformedResponse::FatalError, 0x143, "Transport"),
    ] {
        let _ = &_guard;
        let broken = booted(TpmConfig {
            malformed: kind,
            malformed_command: command,
            ..TpmConfig::healthy()
        });
        let state = broken.startup.state();
        let text = format!("{state:?}");
        assert!(text.contains(expected), "{kind:?}: {text}");
        assert!(matches!(
            broken.measured.state(),
            MeasurementState::Failed(MeasurementFailure::TpmFailed(..))
        ));
    }
}

#[test]
fn a_v1_1_host_calls_the_service_with_64_bit_direct_requests() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig::default(),
        TpmConfig::healthy(),
        ClientConfig {
            requested_version: SupportedVersion::V1_1,
            ..ClientConfig::DEFAULT
        },
    );
    board.boot();
    assert_eq!(board.driver.carrier(), Carrier::DirectRequest64);
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    assert_eq!(
        board
            .monitor
            .count(ffa_abi::function::FFA_MSG_SEND_DIRECT_REQ2),
        0
    );
}

#[test]
fn commands_time_out_and_cancel_through_the_crb() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig::healthy());
    let recorder = leak(Recorder::default());
    board.console.set_client(recorder);

    // The TPM never finishes: the command times out after its duration
    // (PCR_Read: 750 ms), is cancelled through the CRB, and the locality
    // is given back.
    board.window.stuck.set(true);
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let length = tpm2::pcr_read(
        buffer,
        tpm2::PcrSelection::EMPTY.with(tpm2::PcrIndex::new(0).unwrap()),
    )
    .unwrap();
    let before = board.alarm.now();
    assert!(board
        .console
        .send_command(buffer, length, Locality::ZERO)
        .is_ok());
    assert_eq!(
        recorder.completions.take(),
        vec![],
        "never inside the downcall"
    );
    board.run();
    let waited = board.alarm.now() - before;
    assert!((750_000..800_000).contains(&waited), "{waited}");
    assert_eq!(
        recorder.completions.take(),
        vec![(0, Err(ErrorCode::NOACK))]
    );
    assert_eq!(board.monitor.world().tpm().active_locality(), None);

    // Cancelled while it runs.
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let length = tpm2::get_random(buffer, 8).unwrap();
    board
        .console
        .send_command(buffer, length, Locality::ZERO)
        .unwrap();
    testbed::deferred::run_pending();
    assert!(board.driver.is_busy());
    assert_eq!(board.monitor.world().tpm().active_locality(), Some(0));
    assert_eq!(board.console.cancel(), Ok(()));
    board.run();
    assert_eq!(
        recorder.completions.take(),
        vec![(0, Err(ErrorCode::CANCEL))]
    );
    board.window.stuck.set(false);
    assert_eq!(board.console.cancel(), Err(ErrorCode::ALREADY));

    // Cancelled before it started: completes at once, from the deferred call.
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let length = tpm2::get_random(buffer, 8).unwrap();
    board
        .console
        .send_command(buffer, length, Locality::ZERO)
        .unwrap();
    let second: &'static mut [u8] = Box::leak(Box::new([0u8; 64]));
    let (error, _) = board
        .console
        .send_command(second, 12, Locality::ZERO)
        .unwrap_err();
    assert_eq!(error, ErrorCode::BUSY);
    board.console.cancel().unwrap();
    board.run();
    assert_eq!(
        recorder.completions.take(),
        vec![(0, Err(ErrorCode::CANCEL))]
    );

    // And the TPM still answers, from another locality.
    let buffer: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let length = tpm2::get_random(buffer, 8).unwrap();
    board
        .console
        .send_command(buffer, length, Locality::new(2).unwrap())
        .unwrap();
    board.run();
    assert_eq!(recorder.completions.take(), vec![(20, Ok(()))]);
}
