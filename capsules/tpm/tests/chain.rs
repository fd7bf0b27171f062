//! The whole chain on the host, against the model: readiness → the FF-A
//! root → the TPM driver (bound by UUID) → the TPM's bring-up → measured
//! boot, on the kernel's init queue, with the model's TPM partition behind
//! the CRB in simulated memory. PCR values are checked against ones
//! computed here, independently, and the log is decoded here byte by byte
//! per the TCG layout.

use std::cell::Cell;

use capsule_ffa::bus::{DriverEntry, FfaBus};
use capsule_ffa::client::{ClientConfig, FfaClient};
use capsule_ffa::version::SupportedVersion;
use capsule_tpm::driver::{Timing, TpmCrbFfa};
use capsule_tpm::measured_boot::{MeasuredBoot, MeasurementFailure, MeasurementState};
use capsule_tpm::mux::{TpmMux, TpmUser};
use capsule_tpm::service::Carrier;
use capsule_tpm::startup::{Absence, StartupConditions, StartupStep, TpmStartup, TpmState};
use capsule_tpm::tpm2;
use ffa_abi::tpm_service::QEMU_VIRT_CRB;
use ffa_abi::Status;
use ffa_model::tpm::config::{MalformedResponse, TpmConfig};
use ffa_model::FaultConfig;
use kernel::hil::image::{LoadedImage, Segment};
use kernel::hil::mmio_window::MmioWindow;
use kernel::hil::time::{Alarm, Time};
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::init_queue::{ConditionSet, EntryId, EntryState, InitQueue, Queue as _};
use kernel::ErrorCode;
use sha2::{Digest, Sha256};
use testbed::{leak, ManualAlarm, Memory, ModelMonitor, SharedPage};

type Queue = InitQueue<'static, 16, 16>;

/// The partitions the model hosts: each one is measured when discovered.
const PARTITIONS: usize = ffa_model::partition::HOSTED_PARTITIONS.len();
/// The events a healthy measured boot extends: the image's two segments,
/// every partition, and the separators of PCRs 0 and 1.
const EXTENDED: usize = 2 + PARTITIONS + 2;

/// A kernel image of two segments, in host memory.
struct FakeImage {
    text: Vec<u8>,
    rodata: Vec<u8>,
}

impl LoadedImage for FakeImage {
    fn segment_count(&self) -> usize {
        2
    }

    fn segment(&self, index: usize) -> Option<Segment> {
        match index {
            0 => Some(Segment {
                name: ".text",
                base: 0x6000_0000,
                length: self.text.len(),
            }),
            1 => Some(Segment {
                name: ".rodata",
                base: 0x6001_0000,
                length: self.rodata.len(),
            }),
            _ => None,
        }
    }

    fn read(&self, index: usize, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let bytes = match index {
            0 => &self.text,
            1 => &self.rodata,
            _ => return Err(ErrorCode::INVAL),
        };
        let source = bytes
            .get(offset..offset + destination.len())
            .ok_or(ErrorCode::SIZE)?;
        destination.copy_from_slice(source);
        Ok(())
    }
}

fn image() -> FakeImage {
    FakeImage {
        text: (0..5000u32).map(|value| (value * 7) as u8).collect(),
        rodata: b"read-only data of the kernel".to_vec(),
    }
}

/// A CRB window that can hide the TPM's completion (CTRL_START stays set).
struct StuckWindow {
    inner: &'static SharedPage,
    stuck: Cell<bool>,
}

impl MmioWindow for StuckWindow {
    fn physical_address(&self) -> u64 {
        self.inner.physical_address()
    }
    fn len(&self) -> usize {
        MmioWindow::len(self.inner)
    }
    fn read_u32(&self, offset: usize) -> Result<u32, ErrorCode> {
        if self.stuck.get() && offset == ffa_abi::tpm_service::crb::CTRL_START {
            return Ok(1);
        }
        self.inner.read_u32(offset)
    }
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), ErrorCode> {
        self.inner.write_u32(offset, value)
    }
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        MmioWindow::read(self.inner, offset, destination)
    }
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        MmioWindow::write(self.inner, offset, source)
    }
    fn fence(&self) {}
}

struct Board {
    monitor: &'static ModelMonitor,
    queue: &'static Queue,
    alarm: &'static ManualAlarm,
    window: &'static StuckWindow,
    driver: &'static TpmCrbFfa<'static, ManualAlarm>,
    console: &'static TpmUser<'static>,
    startup: &'static TpmStartup<'static>,
    measured: &'static MeasuredBoot<'static>,
    monitor_ready: kernel::init_queue::ConditionId,
    tpm_entry: EntryId,
    measured_entry: EntryId,
    settled: &'static Cell<usize>,
}

struct SettleCounter(&'static Cell<usize>);

impl kernel::init_queue::InitQueueClient for SettleCounter {
    fn settled(&self) {
        self.0.set(self.0.get() + 1);
    }
}

fn board(config: FaultConfig, tpm: TpmConfig, client_config: ClientConfig) -> Board {
    let memory = Memory::new();
    let rx = leak(memory.page(0x4010_0000, 4096));
    let tx = leak(memory.page(0x4020_0000, 4096));
    let crb = leak(memory.page(QEMU_VIRT_CRB.base, QEMU_VIRT_CRB.size() as usize));
    let monitor = leak(ModelMonitor::new(config, memory.clone()));
    monitor.world_mut().configure_tpm(tpm);
    let client = leak(FfaClient::new(monitor, rx, tx, client_config));
    let queue: &'static Queue = leak(InitQueue::new());
    let settled = leak(Cell::new(0));
    queue.set_client(leak(SettleCounter(settled)));
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let root_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let root_probed = queue.declare_condition("ffa-root-probed").unwrap();
    let transport_probed = queue.declare_condition("tpm-crb-ffa-probed").unwrap();
    let tpm_ready = queue.declare_condition("tpm-ready").unwrap();
    let tpm_probed = queue.declare_condition("tpm-probed").unwrap();
    let started = queue.declare_condition("tpm-started").unwrap();
    let done = queue.declare_condition("measured-boot-done").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        client,
        queue,
        ConditionSet::of(monitor_ready),
    ));
    bus.signal_on_outcome(root_probed);
    let alarm = leak(ManualAlarm::new());
    let window = leak(StuckWindow {
        inner: crb,
        stuck: Cell::new(false),
    });
    let driver = leak(TpmCrbFfa::new(window, alarm, Timing::LINUX));
    alarm.set_alarm_client(driver);
    kernel::deferred_call::DeferredCallClient::register(driver);
    let mux = leak(TpmMux::new(driver));
    driver.set_client(mux);
    kernel::deferred_call::DeferredCallClient::register(mux);
    let user = || {
        let user: &'static TpmUser<'static> = leak(TpmUser::new(mux));
        user.setup();
        user
    };
    let (startup_tpm, measured_tpm, console) = (user(), user(), user());
    let driver_entry = leak(DriverEntry::new(bus, driver, root_probed));
    driver_entry.signal_on_outcome(transport_probed);
    let startup = leak(TpmStartup::new(
        startup_tpm,
        queue,
        StartupConditions {
            transport_probed,
            started,
            probed: tpm_probed,
        },
        Box::leak(Box::new([0u8; 64])),
    ));
    startup_tpm.set_client(startup);
    let measured = leak(MeasuredBoot::new(
        measured_tpm,
        startup,
        queue,
        tpm_probed,
        done,
        Box::leak(Box::new([0u8; 4096])),
        Box::leak(Box::new([0u8; 512])),
    ));
    measured_tpm.set_client(measured);
    bus.set_discovery_observer(measured);
    // The board measures its image at set-up, long before any TPM.
    measured.measure_image(&image()).unwrap();
    // Worst order on purpose: the dependants first.
    let measured_entry = queue.add("measured-boot", measured, None).unwrap();
    let tpm_entry = queue.add("tpm", startup, Some(tpm_ready)).unwrap();
    let transport_entry = queue.add("tpm-crb-ffa", driver_entry, None).unwrap();
    startup.set_transport_entry(transport_entry);
    queue.add("arm-ffa", bus, Some(root_ready)).unwrap();
    Board {
        monitor,
        queue,
        alarm,
        window,
        driver,
        console,
        startup,
        measured,
        monitor_ready,
        tpm_entry,
        measured_entry,
        settled,
    }
}

impl Board {
    /// The main loop: deferred calls, the queue, the alarm, until idle.
    fn run(&self) {
        for _ in 0..100_000 {
            self.monitor.set_clock_us(self.alarm.now());
            if testbed::deferred::run_pending() > 0 {
                continue;
            }
            if kernel::main_loop::LoopService::has_work(self.queue) {
                kernel::main_loop::LoopService::service(self.queue);
                continue;
            }
            if !self.alarm.fire() {
                return;
            }
        }
        panic!("the board never went idle");
    }

    fn boot(&self) {
        self.run();
        assert_eq!(
            self.monitor.world().tpm().commands(),
            0,
            "nothing before the monitor"
        );
        self.queue.signal(self.monitor_ready);
        self.run();
    }

    fn pcr(&self, index: usize) -> [u8; 32] {
        self.monitor.world().tpm().engine().pcr(index).unwrap()
    }
}

fn extend(pcr: &mut [u8; 32], digest: &[u8]) {
    let mut hasher = Sha256::new();
    hasher.update(*pcr);
    hasher.update(digest);
    *pcr = hasher.finalize().into();
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// One TCG_PCR_EVENT2, decoded here from the bytes (little-endian).
#[derive(Debug)]
struct Decoded {
    pcr: u32,
    event_type: u32,
    digest: [u8; 32],
    data: Vec<u8>,
}

/// Decodes a crypto-agile log per the TCG PC Client PFP layout, refusing
/// anything else (as `tpm2_eventlog` would).
fn decode(log: &[u8]) -> Vec<Decoded> {
    let u32_at = |offset: usize| u32::from_le_bytes(log[offset..offset + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0, "Spec ID event in PCR 0");
    assert_eq!(u32_at(4), 3, "EV_NO_ACTION");
    assert_eq!(&log[8..28], &[0; 20], "zero SHA-1 digest");
    let size = u32_at(28) as usize;
    assert_eq!(size, 33);
    assert_eq!(&log[32..48], b"Spec ID Event03\0");
    assert_eq!(u32_at(48), 0, "platform class: client");
    assert_eq!(
        &log[52..56],
        &[0, 2, 2, 1],
        "spec 2.0 errata 2, uintnSize 1"
    );
    assert_eq!(u32_at(56), 1, "one algorithm");
    assert_eq!(&log[60..64], &[0x0B, 0x00, 0x20, 0x00], "SHA-256, 32 bytes");
    assert_eq!(log[64], 0, "no vendor data");
    let mut offset = 65;
    let mut events = Vec::new();
    while offset < log.len() {
        let pcr = u32_at(offset);
        let event_type = u32_at(offset + 4);
        assert_eq!(u32_at(offset + 8), 1, "one digest");
        assert_eq!(&log[offset + 12..offset + 14], &[0x0B, 0x00]);
        let digest: [u8; 32] = log[offset + 14..offset + 46].try_into().unwrap();
        let size = u32_at(offset + 46) as usize;
        let data = log[offset + 50..offset + 50 + size].to_vec();
        offset += 50 + size;
        events.push(Decoded {
            pcr,
            event_type,
            digest,
            data,
        });
    }
    assert_eq!(offset, log.len(), "no trailing bytes");
    events
}

#[test]
fn measured_boot_extends_in_order_and_the_replay_matches() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig::default(),
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    board.boot();
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
        let board = board(
            FaultConfig::default(),
            TpmConfig {
                late_microseconds: 300_000,
                late_error: error,
                ..TpmConfig::healthy()
            },
            ClientConfig::DEFAULT,
        );
        board.boot();
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
    let board = board(
        FaultConfig::default(),
        TpmConfig {
            late_microseconds: 60_000_000,
            ..TpmConfig::healthy()
        },
        ClientConfig::DEFAULT,
    );
    board.boot();
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
    let board = board(
        FaultConfig::default(),
        TpmConfig {
            absent: true,
            ..TpmConfig::healthy()
        },
        ClientConfig::DEFAULT,
    );
    board.boot();
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

fn board_with_root_down() -> Board {
    let board = board(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default()
        },
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    board.boot();
    board
}

#[test]
fn malformed_responses_are_refused_never_trusted() {
    let _guard = testbed::deferred::exclusive();
    // A PCR_Read whose size field runs past the response buffer.
    let first = board(
        FaultConfig::default(),
        TpmConfig {
            malformed: MalformedResponse::SizeBeyondBuffer,
            malformed_command: 0x17E,
            ..TpmConfig::healthy()
        },
        ClientConfig::DEFAULT,
    );
    first.boot();
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
        let broken = board(
            FaultConfig::default(),
            TpmConfig {
                malformed: kind,
                malformed_command: command,
                ..TpmConfig::healthy()
            },
            ClientConfig::DEFAULT,
        );
        broken.boot();
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

/// Records the completions it gets.
#[derive(Default)]
struct Recorder {
    completions: Cell<Vec<(usize, Result<(), ErrorCode>)>>,
}

impl TpmClient for Recorder {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        let mut completions = self.completions.take();
        completions.push((response_length, result));
        self.completions.set(completions);
        let _ = buffer;
    }
}

#[test]
fn commands_time_out_and_cancel_through_the_crb() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig::default(),
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    board.boot();
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
