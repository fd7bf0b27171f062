//! The FF-A bus on the kernel's init queue: readiness, the root device, partition drivers and the report.

mod common;

use capsule_ffa::bus::{DriverEntry, FfaBus, PartitionDriver, PartitionHandle, RootState};
use capsule_ffa::client::ClientConfig;
use capsule_ffa::drivers::echo::{EchoDriver, EchoResults, RoundTrip, ECHO_PARTITION_UUID};
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{DirectMessage2, DirectMessage32, DirectMessage64};
use capsule_ffa::readiness::{MonitorReadiness, ReadinessClient, ReadinessConfig, ReadinessState};
use capsule_ffa::report::BootReport;
use capsule_ffa::version::SupportedVersion;
use common::{fixture, ids, leak, Fixture, ManualAlarm};
use core::cell::Cell;
use ffa_abi::Uuid;
use ffa_abi::{Status, Version};
use ffa_model::FaultConfig;
use kernel::hil::time::Alarm;
use kernel::init_queue::{ConditionId, ConditionSet, EntryId, EntryState, InitQueue, Queue as _};
use kernel::ErrorCode;

type Queue = InitQueue<'static, 8, 8>;

struct Board {
    fixture: Fixture,
    queue: &'static Queue,
    bus: &'static FfaBus<'static, 8>,
    echo: &'static EchoDriver<'static>,
    root: EntryId,
    echo_entry: EntryId,
    root_ready: ConditionId,
    root_probed: ConditionId,
    monitor_ready: ConditionId,
}

fn board(config: FaultConfig, client_config: ClientConfig) -> Board {
    let fixture = fixture(config, client_config);
    let queue: &'static Queue = leak(InitQueue::new());
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let root_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let root_probed = queue.declare_condition("ffa-root-probed").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        fixture.client,
        queue,
        ConditionSet::of(monitor_ready),
    ));
    bus.signal_on_outcome(root_probed);
    let echo = leak(EchoDriver::new());
    // Drivers first, on purpose: they must wait for the root.
    let echo_entry = queue
        .add(
            "ffa-echo",
            leak(DriverEntry::new(bus, echo, root_probed)),
            None,
        )
        .unwrap();
    let root = queue.add("arm-ffa", bus, Some(root_ready)).unwrap();
    Board {
        fixture,
        queue,
        bus,
        echo,
        root,
        echo_entry,
        root_ready,
        root_probed,
        monitor_ready,
    }
}

#[test]
fn the_root_waits_for_the_monitor_and_drivers_wait_for_the_root() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    board.queue.service();
    assert_eq!(
        board.queue.state(board.root),
        EntryState::Waiting(ConditionSet::of(board.monitor_ready))
    );
    assert_eq!(
        board.queue.state(board.echo_entry),
        EntryState::Waiting(ConditionSet::of(board.root_probed))
    );
    assert!(
        board.fixture.conduit.functions().is_empty(),
        "no FF-A call before the monitor is ready"
    );

    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.queue.state(board.root), EntryState::Ready);
    assert!(board.queue.is_signalled(board.root_ready));
    assert_eq!(board.queue.state(board.echo_entry), EntryState::Ready);
    assert!(board.queue.is_settled());

    assert_eq!(board.bus.state(), RootState::Ready);
    assert_eq!(
        board.bus.device_count(),
        ffa_model::partition::HOSTED_PARTITIONS.len()
    );
    assert_eq!(
        board.echo.results(),
        EchoResults {
            direct_32: RoundTrip::Passed,
            direct_64: RoundTrip::Passed,
            direct_2: RoundTrip::Passed
        }
    );
    let handle = board.echo.handle().unwrap();
    assert_eq!(handle.id().raw(), 0x8001);
    assert_eq!(handle.uuid(), ECHO_PARTITION_UUID);
    assert_eq!(handle.slot(), 0);

    let report = BootReport::collect(board.bus);
    assert_eq!(report.root, RootState::Ready);
    let session = report.session.unwrap();
    assert_eq!(session.version.version(), Version::new(1, 2));
    assert_eq!(
        report.partitions.len(),
        ffa_model::partition::HOSTED_PARTITIONS.len()
    );
    assert_eq!(report.partitions[0].1.driver, Some("ffa-echo"));
    assert_eq!(report.partitions[1].1.driver, None);
    report.log();
}

#[test]
fn the_echo_driver_uses_only_32_and_64_bit_requests_at_v1_1() {
    let board = board(
        FaultConfig::default(),
        ClientConfig {
            requested_version: SupportedVersion::V1_1,
            ..ClientConfig::DEFAULT
        },
    );
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.queue.state(board.echo_entry), EntryState::Ready);
    assert_eq!(board.echo.results().direct_2, RoundTrip::Skipped);
    assert_eq!(board.echo.results().direct_64, RoundTrip::Passed);
    assert_eq!(
        board.fixture.conduit.count(ids::FFA_MSG_SEND_DIRECT_REQ2),
        0
    );
}

#[test]
fn v1_0_partitions_are_matched_by_asking_for_the_driver_uuid() {
    let board = board(
        FaultConfig::default(),
        ClientConfig {
            requested_version: SupportedVersion::V1_0,
            ..ClientConfig::DEFAULT
        },
    );
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.queue.state(board.echo_entry), EntryState::Ready);
    let report = BootReport::collect(board.bus);
    // The echo partition got its UUID from the match; the others stay nil.
    assert_eq!(report.partitions[0].1.info.uuid, ECHO_PARTITION_UUID);
    assert_eq!(report.partitions[0].1.driver, Some("ffa-echo"));
    assert!(report.partitions[1].1.info.uuid.is_nil());
    let results = board.echo.results();
    assert_eq!(results.direct_32, RoundTrip::Passed);
    assert_eq!(
        results.direct_64,
        RoundTrip::Passed,
        "v1.0 partitions are assumed AArch64, as in Linux"
    );
    assert_eq!(results.direct_2, RoundTrip::Skipped);
}

#[test]
fn a_failed_root_fails_its_drivers_and_is_reported() {
    let board = board(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(
        board.queue.state(board.root),
        EntryState::Failed(ErrorCode::RESERVE)
    );
    assert_eq!(
        board.bus.state(),
        RootState::Failed(ClientError::Status(Status::Denied))
    );
    // The driver deferred before the root failed, and learns it.
    assert_eq!(
        board.queue.state(board.echo_entry),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert!(!board.queue.is_signalled(board.root_ready));
    assert!(board.queue.is_signalled(board.root_probed));
    board.queue.report_pending();
    BootReport::collect(board.bus).log();
}

#[test]
fn a_failed_discovery_unmaps_the_buffers() {
    let board = board(
        FaultConfig {
            partition_info_fault: ffa_model::config::PartitionInfoFault::WrongDescriptorSize,
            ..FaultConfig::default()
        },
        ClientConfig {
            requested_version: SupportedVersion::V1_1,
            ..ClientConfig::DEFAULT
        },
    );
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(
        board.bus.state(),
        RootState::Failed(ClientError::DescriptorSize(16))
    );
    assert!(board.fixture.conduit.world().buffer_pair().is_none());
    assert_eq!(board.bus.device_count(), 0);
}

#[test]
fn a_driver_without_a_partition_is_unbound() {
    struct Missing;
    static MISSING: [Uuid; 1] = [Uuid::from_fields(1, 2, 3, [4, 5, 6, 7, 8, 9, 10, 11])];
    impl<'a> PartitionDriver<'a> for Missing {
        fn name(&self) -> &'static str {
            "missing"
        }
        fn uuids(&self) -> &'static [Uuid] {
            &MISSING
        }
        fn bind(&self, _: PartitionHandle<'a>) -> Result<(), ErrorCode> {
            panic!("no partition implements this UUID")
        }
    }
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    let entry = board
        .queue
        .add(
            "missing",
            leak(DriverEntry::new(
                board.bus,
                leak(Missing),
                board.root_probed,
            )),
            None,
        )
        .unwrap();
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.queue.state(entry), EntryState::Unbound);
}

/// A driver that records its handles and tries to talk to its partition only.
struct Recorder {
    handles: Cell<usize>,
    last: Cell<Option<PartitionHandle<'static>>>,
    result: ErrorCode,
    succeed: bool,
}

static AARCH32_UUIDS: [Uuid; 1] = [Uuid::from_fields(
    0x8888_6b1c,
    0x15ad,
    0x4435,
    [0xa3, 0xf8, 0xe2, 0x91, 0x9e, 0xac, 0xb5, 0xb7],
)];

impl PartitionDriver<'static> for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn uuids(&self) -> &'static [Uuid] {
        &AARCH32_UUIDS
    }
    fn bind(&self, handle: PartitionHandle<'static>) -> Result<(), ErrorCode> {
        self.handles.set(self.handles.get() + 1);
        self.last.set(Some(handle));
        if self.succeed {
            Ok(())
        } else {
            Err(self.result)
        }
    }
}

#[test]
fn handles_reach_only_their_partition_and_respect_its_properties() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    let recorder = leak(Recorder {
        handles: Cell::new(0),
        last: Cell::new(None),
        result: ErrorCode::FAIL,
        succeed: true,
    });
    let entry = board
        .queue
        .add(
            "recorder",
            leak(DriverEntry::new(board.bus, recorder, board.root_probed)),
            None,
        )
        .unwrap();
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.queue.state(entry), EntryState::Ready);
    assert_eq!(recorder.handles.get(), 1);
    let handle = recorder.last.get().unwrap();
    assert_eq!(handle.id().raw(), 0x8002);
    assert!(!handle.supports_direct_request_64());
    assert!(!handle.supports_direct_request_2());
    assert_eq!(handle.version().unwrap().version(), Version::new(1, 2));
    board.fixture.conduit.clear_calls();
    assert_eq!(
        handle.direct_request(&DirectMessage64::default()),
        Err(ClientError::Unsupported)
    );
    assert_eq!(
        handle.direct_request(&DirectMessage2::default()),
        Err(ClientError::Unsupported)
    );
    assert!(
        board.fixture.conduit.functions().is_empty(),
        "refused without a call"
    );
    let reply = handle
        .direct_request(&DirectMessage32::new([10, 20, 30, 40, 50]))
        .unwrap();
    assert_eq!(reply.payload, [11, 21, 31, 41, 51]);
    let call = board.fixture.conduit.calls()[0];
    assert_eq!(call.x[1] & 0xffff, 0x8002);
}

#[test]
fn a_driver_whose_bind_fails_reports_its_error_and_leaves_the_device_unbound() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    let recorder = leak(Recorder {
        handles: Cell::new(0),
        last: Cell::new(None),
        result: ErrorCode::BUSY,
        succeed: false,
    });
    let entry = board
        .queue
        .add(
            "recorder",
            leak(DriverEntry::new(board.bus, recorder, board.root_probed)),
            None,
        )
        .unwrap();
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(
        board.queue.state(entry),
        EntryState::Failed(ErrorCode::BUSY)
    );
    let report = BootReport::collect(board.bus);
    assert_eq!(report.partitions[1].1.driver, None);
}

#[test]
fn the_echo_driver_refuses_to_bind_when_the_echo_is_wrong() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    // Corrupt one payload word of every 64-bit direct response.
    board.fixture.conduit.rewrite(|_, mut reply| {
        if reply.x[0] as u32 == ids::FFA_MSG_SEND_DIRECT_RESP_64 {
            reply.x[5] ^= 1;
        }
        reply
    });
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(
        board.queue.state(board.echo_entry),
        EntryState::Failed(ErrorCode::FAIL)
    );
    assert_eq!(board.echo.results().direct_64, RoundTrip::Mismatch);
    assert_eq!(board.echo.results().direct_32, RoundTrip::Passed);
    assert!(board.echo.handle().is_none());
}

#[test]
fn the_bus_can_be_torn_down() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    board.queue.signal(board.monitor_ready);
    board.queue.service();
    assert_eq!(board.bus.teardown(), Ok(()));
    assert_eq!(board.bus.device_count(), 0);
    assert!(board.fixture.conduit.world().buffer_pair().is_none());
}

#[derive(Default)]
struct BoardHooks {
    ready: Cell<Option<Version>>,
    absent: Cell<bool>,
    expired: Cell<bool>,
}

impl ReadinessClient for BoardHooks {
    fn monitor_ready(&self, version: Version) {
        self.ready.set(Some(version));
    }
    fn monitor_absent(&self, _: capsule_ffa::readiness::Absence) {
        self.absent.set(true);
    }
    fn deadline_expired(&self) {
        self.expired.set(true);
    }
}

fn readiness(
    board: &Board,
    config: ReadinessConfig,
) -> (
    &'static ManualAlarm,
    &'static MonitorReadiness<'static, ManualAlarm>,
    &'static BoardHooks,
) {
    let alarm = leak(ManualAlarm::new());
    let readiness = leak(MonitorReadiness::new(
        alarm,
        board.fixture.conduit,
        board.queue,
        board.monitor_ready,
        config,
    ));
    let hooks = leak(BoardHooks::default());
    alarm.set_alarm_client(readiness);
    readiness.set_client(hooks);
    (alarm, readiness, hooks)
}

#[test]
fn readiness_polls_until_the_monitor_answers_then_the_whole_tree_comes_up() {
    let board = board(
        FaultConfig {
            not_ready_calls: 5,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let (alarm, readiness, hooks) = readiness(
        &board,
        ReadinessConfig {
            poll_interval_ms: 10,
            deadline_ms: 1000,
            ..ReadinessConfig::DEFAULT
        },
    );
    board.queue.service();
    assert_eq!(readiness.start(), Ok(()));
    assert_eq!(readiness.start(), Err(ErrorCode::ALREADY));
    assert_eq!(readiness.polls(), 0, "start() does not poll");
    let mut fired = 0;
    while alarm.fire() {
        fired += 1;
        board.queue.service();
        assert!(fired < 100);
    }
    assert_eq!(readiness.polls(), 6);
    assert_eq!(readiness.state(), ReadinessState::Ready(Version::new(1, 2)));
    assert_eq!(hooks.ready.get(), Some(Version::new(1, 2)));
    assert_eq!(
        kernel::hil::time::Time::now(alarm),
        50_000,
        "five 10 ms intervals at 1 MHz"
    );
    assert_eq!(board.queue.state(board.root), EntryState::Ready);
    assert_eq!(board.queue.state(board.echo_entry), EntryState::Ready);
}

#[test]
fn readiness_with_ffa_absent_reports_once_and_never_signals() {
    let board = board(
        FaultConfig {
            ffa_absent: true,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let (alarm, readiness, hooks) = readiness(&board, ReadinessConfig::DEFAULT);
    readiness.start().unwrap();
    assert!(alarm.fire());
    assert!(!alarm.fire(), "polling stopped");
    assert_eq!(
        readiness.state(),
        ReadinessState::Absent(capsule_ffa::readiness::Absence::NotImplemented)
    );
    assert!(hooks.absent.get());
    board.queue.service();
    assert!(!board.queue.is_signalled(board.monitor_ready));
    assert_eq!(
        board.queue.state(board.root),
        EntryState::Waiting(ConditionSet::of(board.monitor_ready))
    );
    board.queue.report_pending();
}

/// A board without a secure monitor: any call through it is a bug.
struct NoMonitor;

impl kernel::hil::smccc::SmcccConduit for NoMonitor {
    fn kind(&self) -> kernel::hil::smccc::ConduitKind {
        kernel::hil::smccc::ConduitKind::Absent
    }
    fn call(
        &self,
        arguments: &kernel::hil::smccc::SmcccRegisters,
    ) -> kernel::hil::smccc::SmcccRegisters {
        panic!("called {:#x} with no monitor to call", arguments.x[0]);
    }
}

#[test]
fn readiness_without_a_monitor_reports_absence_at_once_without_a_call() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    let alarm = leak(ManualAlarm::new());
    let readiness = leak(MonitorReadiness::new(
        alarm,
        leak(NoMonitor),
        board.queue,
        board.monitor_ready,
        ReadinessConfig::DEFAULT,
    ));
    let hooks = leak(BoardHooks::default());
    alarm.set_alarm_client(readiness);
    readiness.set_client(hooks);
    readiness.start().unwrap();
    assert!(alarm.fire());
    assert!(!alarm.fire(), "polling stopped");
    assert_eq!(
        readiness.state(),
        ReadinessState::Absent(capsule_ffa::readiness::Absence::NoMonitor)
    );
    assert!(hooks.absent.get());
    assert!(!board.queue.is_signalled(board.monitor_ready));
}

#[test]
fn readiness_gives_up_at_the_deadline_and_the_board_expires_the_queue() {
    let board = board(
        FaultConfig {
            not_ready_calls: 1_000_000,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let (alarm, readiness, hooks) = readiness(
        &board,
        ReadinessConfig {
            poll_interval_ms: 10,
            deadline_ms: 100,
            ..ReadinessConfig::DEFAULT
        },
    );
    board.queue.service();
    readiness.start().unwrap();
    let mut fired = 0;
    while alarm.fire() {
        fired += 1;
        assert!(fired < 100);
    }
    assert_eq!(readiness.state(), ReadinessState::TimedOut);
    assert_eq!(readiness.polls(), 11);
    assert_eq!(
        readiness.last_observation(),
        capsule_ffa::readiness::Observation::Status(Status::NotReady)
    );
    assert!(hooks.expired.get());
    board.queue.expire();
    assert!(matches!(
        board.queue.state(board.root),
        EntryState::TimedOut(_)
    ));
}

#[test]
fn readiness_accepts_a_busy_monitor_and_an_old_minor() {
    let board = board(
        FaultConfig {
            not_ready_calls: 2,
            not_ready_error: ffa_model::ReadinessError::Busy,
            spmc_version: (1, 1),
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let (alarm, readiness, _) = readiness(&board, ReadinessConfig::DEFAULT);
    readiness.start().unwrap();
    while alarm.fire() {}
    assert_eq!(readiness.state(), ReadinessState::Ready(Version::new(1, 1)));
    board.queue.service();
    assert_eq!(
        board.bus.client().session().unwrap().version.version(),
        Version::new(1, 1)
    );
}

#[test]
fn readiness_reports_an_incompatible_major_as_absent() {
    let board = board(
        FaultConfig {
            spmc_version: (2, 0),
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let (alarm, readiness, hooks) = readiness(&board, ReadinessConfig::DEFAULT);
    readiness.start().unwrap();
    while alarm.fire() {}
    assert_eq!(
        readiness.state(),
        ReadinessState::Absent(capsule_ffa::readiness::Absence::IncompatibleVersion(
            Version::new(2, 0)
        ))
    );
    assert!(hooks.absent.get());
}

#[test]
fn readiness_keeps_polling_while_smccc_is_older_than_1_2() {
    let board = board(FaultConfig::default(), ClientConfig::DEFAULT);
    board.fixture.conduit.rewrite(|call, reply| {
        if call.x[0] as u32 == ids::SMCCC_VERSION {
            kernel::hil::smccc::SmcccRegisters::from_slice(&[0x1_0001])
        } else {
            reply
        }
    });
    let (alarm, readiness, hooks) = readiness(
        &board,
        ReadinessConfig {
            poll_interval_ms: 20,
            deadline_ms: 100,
            ..ReadinessConfig::DEFAULT
        },
    );
    readiness.start().unwrap();
    while alarm.fire() {}
    assert_eq!(readiness.state(), ReadinessState::TimedOut);
    assert_eq!(
        readiness.last_observation(),
        capsule_ffa::readiness::Observation::SmcccTooOld(1, 1)
    );
    assert_eq!(
        board.fixture.conduit.count(ids::FFA_VERSION),
        0,
        "no FF-A call on SMCCC 1.1"
    );
    assert!(hooks.expired.get());
}

#[test]
fn readiness_follows_a_monitor_that_becomes_ready_after_a_delay() {
    let board = board(
        FaultConfig {
            not_ready_microseconds: 35_000,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    let config = ReadinessConfig {
        poll_interval_ms: 10,
        deadline_ms: 1_000,
        ..ReadinessConfig::matching(&ClientConfig::DEFAULT)
    };
    let (alarm, readiness, _) = readiness(&board, config);
    readiness.start().unwrap();
    // The model's clock follows the alarm's (both in microseconds).
    while let Some(at) = alarm.armed_at() {
        board.fixture.conduit.set_clock_us(at);
        alarm.fire();
    }
    assert_eq!(readiness.state(), ReadinessState::Ready(Version::new(1, 2)));
    assert_eq!(
        readiness.polls(),
        5,
        "polls at 0, 10, 20, 30 ms answer NOT_READY; 40 ms is ready"
    );
    board.queue.service();
    assert_eq!(board.queue.state(board.echo_entry), EntryState::Ready);
}
