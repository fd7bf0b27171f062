//! Measured boot through the whole chain on the host (see `common`):
//! extends in the order asked, the replay matches PCRs computed here
//! independently, a late or busy TPM, an absent one.

mod common;

use capsule_tpm::measured_boot::{MeasurementFailure, MeasurementState};
use capsule_tpm::service::Carrier;
use capsule_tpm::startup::{Absence, StartupStep, TpmState};
use common::*;
use ffa_abi::Status;
use ffa_model::tpm::config::TpmConfig;
use kernel::hil::time::Time;
use kernel::init_queue::{EntryState, Queue as _};
use kernel::ErrorCode;

#[test]
fn measured_boot_extends_in_order_and_the_replay_matches() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig::healthy());
    assert_eq!(board.driver.last_fault(), None);
    assert_eq!(board.measured.state(), MeasurementState::Verified);
    assert_eq!(board.queue.state(board.measured_entry), EntryState::Ready);
    assert_eq!(board.queue.state(board.tpm_entry), EntryState::Ready);
    assert!(board.queue.is_settled());
    assert_eq!(
        board.settled.get(),
        2,
        "once waiting on the monitor, once after measured boot, none between"
    );
    assert_eq!(board.driver.carrier(), Carrier::DirectRequest2);
    assert_eq!(board.driver.interface_version(), Some(0x0001_0000));
    assert!(matches!(
        board.startup.state(),
        TpmState::Ready {
            manufacturer: Some(0x4646_414D),
            ..
        }
    ));

    // PCR 0: .text, .rodata, separator; PCR 1: each partition, separator.
    let image = image();
    let mut pcr0 = [0u8; 32];
    extend(&mut pcr0, &sha256(&image.text));
    extend(&mut pcr0, &sha256(&image.rodata));
    extend(&mut pcr0, &sha256(&[0; 4]));
    assert_eq!(board.pcr(0), pcr0);
    let mut pcr1 = [0u8; 32];
    for partition in ffa_model::partition::HOSTED_PARTITIONS {
        let mut descriptor = Vec::new();
        descriptor.extend_from_slice(&partition.id.to_le_bytes());
        descriptor.extend_from_slice(&partition.execution_context_count.to_le_bytes());
        descriptor.extend_from_slice(&partition.properties.to_le_bytes());
        descriptor.extend_from_slice(&partition.uuid);
        extend(&mut pcr1, &sha256(&descriptor));
    }
    extend(&mut pcr1, &sha256(&[0; 4]));
    assert_eq!(board.pcr(1), pcr1);
    let verification = board.measured.verification().unwrap();
    assert_eq!(verification.read[0], pcr0);
    assert_eq!(verification.read[1], pcr1);
    assert!(verification.mismatched.is_empty());

    let events = board.measured.with_log(decode).unwrap();
    let kinds: Vec<(u32, u32)> = events
        .iter()
        .map(|event| (event.pcr, event.event_type))
        .collect();
    let mut expected = vec![(0, 0x8000_000A), (0, 0x8000_000A)];
    expected.extend([(1, 0x10); PARTITIONS]);
    expected.extend([(0, 4), (1, 4)]);
    assert_eq!(
        kinds, expected,
        "in the order asked: image at set-up, partitions at discovery, then the separators"
    );
    assert_eq!(events[0].data[0] as usize, b"kernel .text\0".len());
    assert_eq!(&events[0].data[1..14], b"kernel .text\0");
    assert_eq!(&events[0].data[14..22], &0x6000_0000u64.to_le_bytes());
    assert_eq!(&events[0].data[22..30], &5000u64.to_le_bytes());
    for event in &events[2..] {
        assert_eq!(
            event.digest,
            sha256(&event.data),
            "digest of the event data"
        );
    }
    assert_eq!(board.measured.extended_count(), EXTENDED);
}

#[test]
fn a_late_tpm_delays_measurement_and_loses_nothing() {
    for error in [Status::Busy, Status::NotReady] {
        let _guard = testbed::deferred::exclusive();
        let board = booted(TpmConfig {
            late_microseconds: 300_000,
            late_error: error,
            ..TpmConfig::healthy()
        });
        assert_eq!(
            board.measured.state(),
            MeasurementState::Verified,
            "{error:?}"
        );
        assert!(board.alarm.now() >= 300_000, "waited on the alarm");
        let statistics = board.driver.statistics();
        assert!(statistics.busy_answers > 1, "{statistics:?}");
        assert_eq!(board.measured.extended_count(), EXTENDED);
        assert_eq!(
            board.settled.get(),
            2,
            "boot waited for the late TPM: no settling between"
        );
    }
}

#[test]
fn a_tpm_that_stays_busy_fails_after_two_seconds() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig {
        late_microseconds: 60_000_000,
        ..TpmConfig::healthy()
    });
    assert_eq!(
        board.startup.state(),
        TpmState::Failed(
            StartupStep::Startup,
            capsule_tpm::startup::StartupError::Transport(ErrorCode::BUSY)
        )
    );
    let now = board.alarm.now();
    assert!((2_000_000..2_100_000).contains(&now), "{now}");
    assert!(matches!(
        board.measured.state(),
        MeasurementState::Failed(MeasurementFailure::TpmFailed(StartupStep::Startup, _))
    ));
    assert!(board.queue.is_settled());
}

#[test]
fn without_a_tpm_partition_measurement_is_unavailable_and_says_why() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(TpmConfig {
        absent: true,
        ..TpmConfig::healthy()
    });
    assert_eq!(
        board.startup.state(),
        TpmState::Absent(Absence::NoPartition)
    );
    assert_eq!(
        board.measured.state(),
        MeasurementState::Failed(MeasurementFailure::NoTpm(Absence::NoPartition))
    );
    assert_eq!(board.queue.state(board.measured_entry), EntryState::Unbound);
    assert_eq!(
        board.measured.event_count(),
        2 + PARTITIONS - 1,
        "the image and every partition but the TPM's: logged, never extended"
    );
    assert_eq!(board.measured.extended_count(), 0);

    let down = board_with_root_down();
    assert_eq!(down.startup.state(), TpmState::Absent(Absence::FfaDown));
}
