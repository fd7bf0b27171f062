//! FF-A without blocking, wired by the components and booted on the host:
//! set-up retried after BUSY, split-phase requests preempted and resumed
//! from the main loop, yields waited on the alarm, notifications through
//! the schedule receiver interrupt, indirect messages both ways (and
//! malformed ones refused), teardown cancelling what is in flight.
//!
//! The host's main loop keeps one clock, the model's: the kernel's alarm
//! follows it, fires when it is due (an interrupt), the interrupts the
//! model raised are delivered to whoever claimed them, then deferred calls
//! run, then the init queue; when nothing is left the clock jumps to the
//! next alarm or secure-timer deadline.

use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;

use capsule_ffa::bus::{PartitionDriver, PartitionHandle, RootState};
use capsule_ffa::drivers::echo::{EchoDriver, RoundTrip};
use capsule_ffa::drivers::notifier::{NotifierDriver, Outcome, NOTIFIER_PARTITION_UUID};
use capsule_ffa::drivers::scheduling::{SchedulingDriver, YIELDS};
use capsule_ffa::error::ClientError;
use capsule_ffa::ffa_abi::function as ids;
use capsule_ffa::ffa_abi::notification::Bitmap;
use capsule_ffa::ffa_abi::test_services::notifier;
use capsule_ffa::ffa_abi::{PartitionId, Uuid};
use capsule_ffa::messaging::{AnyDirectMessage, DirectMessage32};
use capsule_ffa::notifications::{MessageClient, NotificationClient, NotificationService};
use capsule_ffa::readiness::ReadinessConfig;
use capsule_ffa::requests::{DirectRequestClient, RequestState, SplitPhaseRequests};
use capsule_ffa::ClientConfig;
use components::alarm::AlarmMuxComponent;
use components::alarm::VirtualAlarmComponent;
use components::boot::BootComponent;
use components::ffa::{Ffa, FfaComponent};
use components::ffa_async::{AsyncFfa, AsyncFfaComponent, CoreRequestsComponent};
use components::init_queue::InitQueueComponent;
use components::partition_driver::PartitionDriverComponent;
use components::readiness::ReadinessComponent;
use ffa_model::FaultConfig;
use kernel::component::Component;
use kernel::deferred_call::DeferredCall;
use kernel::init_queue::{ConditionSet, EntryState, InitQueue};
use kernel::virtual_alarm::{MuxAlarm, VirtualAlarm};
use kernel::ErrorCode;
use testbed::{leak, HostInterruptLines, ManualAlarm, Memory, ModelCores, ModelMonitor};

const PARTITIONS: usize = 8;
const BINDINGS: usize = 8;
const SRI: u32 = 8;
const DOORBELL: u32 = 130;
const RX_ADDRESS: u64 = 0x6010_0000;
const NOTIFIER: PartitionId = PartitionId::new(0x8004);
type Queue16 = InitQueue<'static, 16, 16>;

fn slot<T>() -> &'static mut MaybeUninit<T> {
    Box::leak(Box::new(MaybeUninit::uninit()))
}

/// Which drivers the board has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drivers {
    /// The notifier and scheduling drivers.
    Shipped { blocking_work: bool },
    /// A test driver on the notifier partition.
    Probe,
}

struct Board {
    cores: Option<&'static ModelCores>,
    queue: &'static Queue16,
    alarm: &'static ManualAlarm,
    monitor: &'static ModelMonitor,
    lines: &'static HostInterruptLines,
    ffa: Ffa<PARTITIONS>,
    async_ffa: AsyncFfa<PARTITIONS, BINDINGS>,
    echo: &'static EchoDriver<'static>,
    notifier: Option<&'static NotifierDriver<'static>>,
    scheduling: Option<&'static SchedulingDriver<'static>>,
    probe: Option<&'static Probe>,
}

fn board(config: FaultConfig, drivers: Drivers) -> Board {
    board_of_cores(config, drivers, 1)
}

/// [`board`] with `count` cores: the secondaries get request engines
/// (their calls reach the model from their core) that the notification
/// service uses for other vCPUs' GETs.
fn board_of_cores(config: FaultConfig, drivers: Drivers, count: usize) -> Board {
    let memory = Memory::new();
    let rx = leak(memory.page(RX_ADDRESS, 4096));
    let tx = leak(memory.page(RX_ADDRESS + 0x1000, 4096));
    // The model's clock moves a little at each reading, as a CPU's does.
    let monitor = leak(ModelMonitor::with_clock_step(config, memory, 20));
    monitor.machine().step_us = 1;
    let alarm = leak(ManualAlarm::new());
    let lines = leak(HostInterruptLines::new());
    let queue: &'static Queue16 = InitQueueComponent::<16, 16>::new().finalize(slot());
    let mux: &'static MuxAlarm<'static, ManualAlarm> =
        AlarmMuxComponent::new(alarm).finalize(slot());
    let virtual_alarm = || -> &'static VirtualAlarm<'static, ManualAlarm> {
        VirtualAlarmComponent::new(mux).finalize(slot())
    };
    let readiness = ReadinessComponent::new(
        queue,
        virtual_alarm(),
        monitor,
        ReadinessConfig::matching(&ClientConfig::DEFAULT),
    )
    .finalize(slot())
    .unwrap();
    let ffa = FfaComponent::<PARTITIONS>::new(
        queue,
        monitor,
        rx,
        tx,
        ClientConfig::DEFAULT,
        ConditionSet::of(readiness.monitor_ready),
    )
    .finalize((slot(), slot()))
    .unwrap();
    let scratch: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let async_ffa =
        AsyncFfaComponent::<_, PARTITIONS, BINDINGS>::new(queue, ffa, mux, lines, scratch)
            .finalize((slot(), slot(), slot(), slot()))
            .unwrap();
    let mut cores = None;
    if count > 1 {
        let model_cores = leak(ModelCores::new(monitor, count));
        let engines = CoreRequestsComponent::<_, _, PARTITIONS, 4>::new(ffa, mux, model_cores)
            .finalize((slot(), slot(), slot()));
        async_ffa.notifications.set_core_engines(engines);
        cores = Some(model_cores);
    }
    let echo = PartitionDriverComponent::new(queue, ffa, EchoDriver::new())
        .finalize((slot(), slot()))
        .unwrap();
    let (mut notifier, mut scheduling, mut probe) = (None, None, None);
    match drivers {
        Drivers::Shipped { blocking_work } => {
            notifier = Some(
                PartitionDriverComponent::new(queue, ffa, NotifierDriver::new(virtual_alarm()))
                    .finalize((slot(), slot()))
                    .unwrap(),
            );
            let make = if blocking_work {
                SchedulingDriver::blocking
            } else {
                SchedulingDriver::new
            };
            scheduling = Some(
                PartitionDriverComponent::new(queue, ffa, make(virtual_alarm(), lines, DOORBELL))
                    .finalize((slot(), slot()))
                    .unwrap(),
            );
        }
        Drivers::Probe => {
            probe = Some(
                PartitionDriverComponent::new(queue, ffa, Probe::default())
                    .finalize((slot(), slot()))
                    .unwrap(),
            );
        }
    }
    BootComponent::new(queue, readiness, ffa, None)
        .finalize(slot())
        .unwrap();
    Board {
        cores,
        queue,
        alarm,
        monitor,
        lines,
        ffa,
        async_ffa,
        echo,
        notifier,
        scheduling,
        probe,
    }
}

impl Board {
    /// The model's clock, which the kernel's alarm follows.
    fn now(&self) -> u64 {
        let now = self.monitor.machine().now_us;
        self.alarm.advance_to(now);
        now
    }

    /// One turn of the host's main loop; `false` once nothing is left to
    /// do and no deadline is ahead.
    fn turn(&self) -> bool {
        let now = self.now();
        if self.alarm.armed_at().is_some_and(|at| at <= now) {
            self.alarm.fire();
            return true;
        }
        if self.cores.is_some_and(|cores| cores.serve() > 0) {
            return true;
        }
        let raised = self.monitor.take_interrupts();
        if !raised.is_empty() {
            self.lines.deliver(&raised);
            return true;
        }
        if DeferredCall::service_next_pending() {
            return true;
        }
        if self.queue.has_work() {
            self.queue.service();
            return true;
        }
        // Idle: time moves to the next deadline.
        let timer = self.monitor.machine().timer_us;
        match (self.alarm.armed_at(), timer) {
            (None, None) => false,
            (Some(alarm), timer) if timer.is_none_or(|timer| alarm <= timer) => {
                let mut machine = self.monitor.machine();
                machine.now_us = machine.now_us.max(alarm);
                true
            }
            _ => self.monitor.expire_secure_timer(),
        }
    }

    /// Runs the main loop until nothing is left to do.
    fn run(&self) {
        for _ in 0..200_000 {
            if !self.turn() {
                return;
            }
        }
        panic!("the board never settled");
    }

    /// Runs the main loop until `done` holds.
    fn run_until(&self, mut done: impl FnMut() -> bool) {
        for _ in 0..200_000 {
            if done() {
                return;
            }
            assert!(self.turn(), "settled before the condition held");
        }
        panic!("the condition never held");
    }

    fn state(&self, name: &str) -> EntryState {
        let mut found = None;
        self.queue.for_each_entry(|_, entry, state| {
            if entry == name {
                found = Some(state);
            }
        });
        found.unwrap_or_else(|| panic!("no entry {name}"))
    }

    fn probe(&self) -> &'static Probe {
        self.probe.expect("a board with the probe driver")
    }
}

/// A driver on the notifier partition that records what it is told.
#[derive(Default)]
struct Probe {
    handle: Cell<Option<PartitionHandle<'static>>>,
    responses: RefCell<Vec<Result<AnyDirectMessage, ClientError>>>,
    notified: RefCell<Vec<(Bitmap, Option<u16>)>>,
    messages: RefCell<Vec<(Vec<u8>, Uuid)>>,
}

static NOTIFIER_UUIDS: [Uuid; 1] = [NOTIFIER_PARTITION_UUID];

impl PartitionDriver<'static> for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &NOTIFIER_UUIDS
    }

    fn bind(&self, handle: PartitionHandle<'static>) -> Result<(), ErrorCode> {
        self.handle.set(Some(handle));
        Ok(())
    }
}

impl DirectRequestClient for Probe {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        self.responses.borrow_mut().push(result);
    }
}

impl NotificationClient for Probe {
    fn notified(&self, partition: PartitionId, bitmap: Bitmap, vcpu: Option<u16>) {
        assert_eq!(partition, NOTIFIER);
        self.notified.borrow_mut().push((bitmap, vcpu));
    }
}

impl MessageClient for Probe {
    fn message(&self, partition: PartitionId, payload: &[u8], service: Uuid) {
        assert_eq!(partition, NOTIFIER);
        self.messages.borrow_mut().push((payload.to_vec(), service));
    }
}

impl Probe {
    fn handle(&self) -> PartitionHandle<'static> {
        self.handle.get().expect("bound")
    }

    fn wire(&'static self) {
        let handle = self.handle();
        handle.set_request_client(self).unwrap();
        handle.set_message_client(self).unwrap();
    }

    /// Asks the notifier for something (split-phase).
    fn ask(&self, words: [u32; 5]) {
        self.handle().send(&DirectMessage32::new(words)).unwrap();
    }

    fn notified(&self) -> Vec<(Bitmap, Option<u16>)> {
        std::mem::take(&mut *self.notified.borrow_mut())
    }
}

fn booted(config: FaultConfig, drivers: Drivers) -> Board {
    let board = board(config, drivers);
    board.run();
    board
}

#[test]
fn the_shipped_drivers_pass_every_step_through_the_sri_and_the_alarm() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(
        FaultConfig::default_config(),
        Drivers::Shipped {
            blocking_work: false,
        },
    );
    assert_eq!(board.ffa.bus.state(), RootState::Ready);
    assert_eq!(board.state("ffa-notifications"), EntryState::Ready);
    assert_eq!(
        board.async_ffa.notifications.schedule_receiver_interrupt(),
        Some(SRI)
    );
    assert!(board.lines.is_claimed(SRI));
    assert!(board.echo.results().all_acceptable());
    assert_eq!(board.echo.results().direct_32, RoundTrip::Passed);

    let notifier = board.notifier.unwrap().results();
    assert_eq!(notifier.steps, [Outcome::Passed; 7], "{notifier:?}");
    assert_eq!(notifier.unexpected, 0);
    let counters = board.async_ffa.notifications.counters();
    assert!(counters.sri >= 5, "{counters:?}");
    assert_eq!(
        counters.messages_received, 2,
        "the echo and the asked-for one"
    );
    assert_eq!(counters.messages_sent, 1);
    assert_eq!(counters.messages_refused, 0);
    assert_eq!(counters.unbound, 0);

    let scheduling = board.scheduling.unwrap();
    let work = scheduling.work_results();
    assert!(work.answered);
    assert!(work.preemptions >= work.doorbells_raised, "{work:?}");
    assert!(work.doorbells_raised >= 4, "{work:?}");
    assert_eq!(work.doorbells_served, work.doorbells_raised);
    assert_eq!(
        work.unserved_resumptions, 0,
        "every FFA_RUN came after the main loop served the interrupt"
    );
    let yields = scheduling.yield_results();
    assert!(yields.answered);
    assert_eq!(yields.yields, YIELDS);
    assert_eq!(yields.early, 0, "{yields:?}");
    let requests = board.async_ffa.requests.counters();
    assert_eq!(requests.sent, requests.answered + requests.failed);
    assert_eq!(requests.failed, 0);
    assert_eq!(requests.yields, u32::from(YIELDS as u16));
    assert!(!board.async_ffa.requests.busy());
}

#[test]
fn the_blocking_helper_livelocks_where_the_split_phase_request_does_not() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(
        FaultConfig::default_config(),
        Drivers::Shipped {
            blocking_work: true,
        },
    );
    let work = board.scheduling.unwrap().work_results();
    assert!(!work.answered, "the resumption bound ended it: {work:?}");
    assert_eq!(work.doorbells_served, 0, "the main loop never ran");
    assert_eq!(work.heartbeats, 0);
}

#[test]
fn busy_at_set_up_is_retried_on_the_alarm_and_the_boot_goes_on() {
    let _guard = testbed::deferred::exclusive();
    let board = board(
        FaultConfig {
            setup_busy_calls: 3,
            ..FaultConfig::default_config()
        },
        Drivers::Probe,
    );
    board.run_until(|| matches!(board.ffa.bus.state(), RootState::Retrying(_)));
    assert!(
        matches!(board.state("arm-ffa"), EntryState::Waiting(_)),
        "the root defers on ffa-root-retry"
    );
    assert!(
        board.alarm.armed_at().is_some(),
        "its back-off is on the alarm"
    );
    board.run();
    assert_eq!(board.ffa.bus.state(), RootState::Ready);
    assert_eq!(board.state("arm-ffa"), EntryState::Ready);
    assert!(board.echo.results().all_acceptable());
    assert_eq!(board.state("probe"), EntryState::Ready);
}

#[test]
fn busy_at_set_up_beyond_the_retry_bound_fails_the_root_cleanly() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(
        FaultConfig {
            setup_busy_calls: u16::MAX,
            ..FaultConfig::default_config()
        },
        Drivers::Probe,
    );
    assert!(matches!(board.ffa.bus.state(), RootState::Failed(_)));
    assert_eq!(
        board.state("probe"),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert_eq!(
        board.state("ffa-echo"),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert!(board.alarm.armed_at().is_none(), "no retry left armed");
}

#[test]
fn global_and_per_vcpu_notifications_reach_the_driver_that_bound_them() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    let handle = probe.handle();
    handle
        .bind_notifications(Bitmap(0b110), false, probe)
        .unwrap();
    handle
        .bind_notifications(Bitmap::of(40), true, probe)
        .unwrap();
    // Each ID once: a second binding of it is refused before any call.
    board.monitor.log().clear();
    assert!(matches!(
        handle.bind_notifications(Bitmap::of(2), false, probe),
        Err(ClientError::InvalidArgument(_))
    ));
    assert!(matches!(
        handle.bind_notifications(Bitmap::EMPTY, false, probe),
        Err(ClientError::InvalidArgument(_))
    ));
    assert!(board.monitor.functions().is_empty());

    probe.ask([notifier::NOTIFY_NOW, 0b110, 0, 0, 0]);
    board.run();
    assert_eq!(probe.notified(), [(Bitmap(0b110), None)]);
    probe.ask([notifier::NOTIFY_NOW, 0, 1 << 8, 1, 0]);
    board.run();
    assert_eq!(probe.notified(), [(Bitmap::of(40), Some(0))]);
    let calls = board.monitor.functions();
    assert!(calls.contains(&ids::FFA_NOTIFICATION_INFO_GET_64));
    assert!(calls.contains(&ids::FFA_NOTIFICATION_GET));

    // From the secure timer, with nothing else happening.
    probe.ask([notifier::NOTIFY_LATER, 0b100, 0, 5_000, 0]);
    board.run();
    assert_eq!(probe.notified(), [(Bitmap(0b100), None)]);

    // Unbound, the ID can no longer be set: the SPMC refuses the
    // partition's SET (DENIED, in the answer's second word).
    handle.unbind_notifications(Bitmap(0b100)).unwrap();
    assert!(matches!(
        handle.unbind_notifications(Bitmap(0b100)),
        Err(ClientError::InvalidArgument(_))
    ));
    probe.ask([notifier::NOTIFY_NOW, 0b100, 0, 0, 0]);
    board.run();
    assert!(probe.notified().is_empty());
    let Some(Ok(AnyDirectMessage::Bits32(answer))) = probe.responses.borrow().last().copied()
    else {
        panic!("no answer");
    };
    assert_eq!(answer.payload[1] as i32, -6, "DENIED");
    assert_eq!(board.async_ffa.notifications.counters().unbound, 0);
    let mut bindings = Vec::new();
    board
        .async_ffa
        .notifications
        .for_each_binding(&mut |binding| bindings.push((binding.bitmap, binding.per_vcpu)));
    assert_eq!(bindings, [(Bitmap(0b010), false), (Bitmap::of(40), true)]);
}

#[test]
fn the_normal_world_sets_a_partition_s_notifications_and_gets_the_answer() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    let handle = probe.handle();
    handle
        .bind_notifications(Bitmap::of(3), false, probe)
        .unwrap();
    board.monitor.log().clear();
    // ID 3 is one the partition bound to us: it sets it back.
    handle.set_notifications(Bitmap::of(3), None).unwrap();
    let set = board.monitor.calls()[0];
    assert_eq!(set.x[0] as u32, ids::FFA_NOTIFICATION_SET);
    assert_eq!(set.x[1], 0x8004, "sender 0 (this side), receiver 0x8004");
    board.run();
    assert_eq!(probe.notified(), [(Bitmap::of(3), None)]);
    assert_eq!(board.async_ffa.notifications.counters().set, 1);
    // An ID the partition did not bind to us: the SPMC refuses it.
    assert!(handle.set_notifications(Bitmap::of(30), None).is_err());
    assert!(matches!(
        handle.set_notifications(Bitmap::EMPTY, None),
        Err(ClientError::InvalidArgument(_))
    ));
}

#[test]
fn indirect_messages_go_both_ways_and_rx_is_released_each_time() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    let handle = probe.handle();
    assert!(handle.supports_indirect_messages());
    board.monitor.log().clear();
    handle.send_message(b"hello, partition").unwrap();
    let send2 = board.monitor.calls()[0];
    assert_eq!(send2.x[0] as u32, ids::FFA_MSG_SEND2);

    // The v1.2 header in TX, with the partition's UUID.
    let tx = board.monitor.memory().read(RX_ADDRESS + 0x1000, 40);
    assert_eq!(&tx[8..12], &40u32.to_le_bytes(), "payload offset");
    assert_eq!(&tx[24..40], NOTIFIER_PARTITION_UUID.as_bytes());
    board.run();
    // The partition echoes it back through our RX.
    assert_eq!(
        probe.messages.borrow().as_slice(),
        [(b"hello, partition".to_vec(), Uuid::NIL)]
    );
    assert_eq!(board.monitor.count(ids::FFA_RX_RELEASE), 1);

    probe.ask([notifier::SEND_MESSAGE, 100, 7, 0, 0]);
    board.run();
    let messages = probe.messages.borrow().clone();
    assert_eq!(messages.len(), 2);
    let expected: Vec<u8> = (0..100u8).map(|i| 7u8.wrapping_add(i)).collect();
    assert_eq!(messages[1].0, expected);
    assert_eq!(board.monitor.count(ids::FFA_RX_RELEASE), 2);
    let counters = board.async_ffa.notifications.counters();
    assert_eq!((counters.messages_received, counters.messages_sent), (2, 1));
}

#[test]
fn a_malformed_message_header_is_refused_and_rx_released() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    // Corruptions of the header the partition wrote, each caught before
    // any byte of the payload is used.
    let corruptions: [(usize, u32); 4] = [
        (0, 1),           // flags
        (4, 8),           // payload offset inside the header
        (16, 0x10_0000),  // payload past the end of RX
        (8, 0x8004_0001), // addressed to another endpoint
    ];
    for (round, (offset, value)) in corruptions.into_iter().enumerate() {
        probe.ask([notifier::SEND_MESSAGE, 16, 1, 0, 0]);
        // Run until the message is in RX and its SRI raised, not taken.
        board.run_until(|| !board.monitor.machine().pending.is_empty());
        board
            .monitor
            .memory()
            .write(RX_ADDRESS + offset as u64, &value.to_le_bytes());
        board.run();
        assert!(probe.messages.borrow().is_empty(), "round {round}");
        let counters = board.async_ffa.notifications.counters();
        assert_eq!(counters.messages_refused, round as u32 + 1);
        assert_eq!(
            board.monitor.count(ids::FFA_RX_RELEASE),
            round + 1,
            "RX given back even so"
        );
    }
    // The next good message arrives.
    probe.ask([notifier::SEND_MESSAGE, 16, 1, 0, 0]);
    board.run();
    assert_eq!(probe.messages.borrow().len(), 1);
}

#[test]
fn a_message_for_a_driver_nobody_registered_is_dropped_and_rx_released() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.handle().set_request_client(probe).unwrap();
    probe.ask([notifier::SEND_MESSAGE, 16, 1, 0, 0]);
    board.run();
    let counters = board.async_ffa.notifications.counters();
    assert_eq!(counters.messages_refused, 1);
    assert_eq!(board.monitor.count(ids::FFA_RX_RELEASE), 1);
}

#[test]
fn teardown_delivers_a_completed_request_once_unbinds_and_releases_the_sri() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    probe
        .handle()
        .bind_notifications(Bitmap::of(1), false, probe)
        .unwrap();
    // A message asked for, and teardown before the deferred call runs.
    probe.ask([notifier::STATISTICS, 0, 0, 0, 0]);
    assert_eq!(probe.handle().request_state(), RequestState::Completed);
    board.ffa.bus.teardown().unwrap();
    board.run();
    assert_eq!(
        probe.responses.borrow().len(),
        1,
        "its outcome, once (it had completed)"
    );
    assert!(!board.lines.is_claimed(SRI));
    assert_eq!(board.monitor.count(ids::FFA_NOTIFICATION_UNBIND), 1);
    assert!(probe.handle().send(&DirectMessage32::new([0; 5])).is_err());
}

#[test]
fn a_preempted_request_cancelled_by_teardown_is_told_once() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    // The notifier's NOTIFY_LATER with a long delay leaves the partition
    // idle; use the engine directly with the model's preempted echo
    // partition instead: it answers FFA_INTERRUPT first.
    let mut preempted = None;
    board.ffa.bus.for_each_device(|slot, device| {
        if device.info.id == PartitionId::new(0x8003) {
            preempted = Some(slot);
        }
    });
    let slot = preempted.expect("the model's preempted echo partition");
    let requests = board.async_ffa.requests;
    requests.set_client(slot, probe);
    let message = DirectMessage32::new([1, 2, 3, 4, 5]);
    use capsule_ffa::messaging::{DirectMessage, Exchange, RetryPolicy, Vcpu};
    requests
        .send(
            slot,
            message.encode(PartitionId::new(0), PartitionId::new(0x8003), Uuid::NIL),
            Exchange::new::<DirectMessage32>(
                &RetryPolicy::DEFAULT,
                PartitionId::new(0),
                PartitionId::new(0x8003),
                Vcpu::BOOT,
            ),
        )
        .unwrap();
    assert!(matches!(
        requests.state(slot),
        RequestState::ResumeAfterInterrupt(_)
    ));
    // While it holds the vCPU, blocking requests are refused, not nested.
    let echo = board.echo.handle().unwrap();
    assert_eq!(
        echo.direct_request(&DirectMessage32::new([0; 5])),
        Err(ClientError::InFlight)
    );
    assert_eq!(
        board.ffa.bus.direct_request_reply(
            PartitionId::new(0x8001),
            Uuid::NIL,
            &DirectMessage32::new([0; 5])
        ),
        Err(ClientError::InFlight)
    );
    let runs = board.monitor.count(ids::FFA_RUN);
    board.ffa.bus.teardown().unwrap();
    board.run();
    assert_eq!(
        probe.responses.borrow().as_slice(),
        [Err(ClientError::Cancelled)]
    );
    assert_eq!(board.monitor.count(ids::FFA_RUN), runs, "never resumed");
    assert!(!requests.busy());
}

#[test]
fn another_vcpu_s_notifications_are_got_on_its_core() {
    let _guard = testbed::deferred::exclusive();
    let board = board_of_cores(FaultConfig::default_config(), Drivers::Probe, 4);
    board.run();
    let probe = board.probe();
    probe.wire();
    let handle = probe.handle();
    handle
        .bind_notifications(Bitmap::of(40), true, probe)
        .unwrap();
    // The notifier sets ID 40 for vCPU 3: the SRI comes to the boot core,
    // INFO_GET lists vCPU 3, and core 3 makes the GET of its vCPU.
    probe.ask([notifier::NOTIFY_NOW, 0, 1 << 8, 1 | 3 << 16, 0]);
    board.run();
    assert_eq!(probe.notified(), [(Bitmap::of(40), Some(3))]);
    let cores = board.cores.unwrap();
    let gets: Vec<(usize, u64)> = cores
        .made()
        .iter()
        .filter(|(_, call)| call.x[0] as u32 == ids::FFA_NOTIFICATION_GET)
        .map(|(core, call)| (*core, call.x[1]))
        .collect();
    assert_eq!(gets, [(3, 3 << 16)], "on core 3, naming vCPU 3");
    assert!(!board.ffa.bus.is_busy());
    // With core 3 offline its vCPU's notifications stay pending (the
    // failed GET is logged) and nothing hangs.
    cores.set_online(3, false);
    probe.ask([notifier::NOTIFY_NOW, 0, 1 << 8, 1 | 3 << 16, 0]);
    board.run();
    assert!(probe.notified().is_empty());
    assert!(!board.ffa.bus.is_busy());
}

#[test]
fn without_an_engine_for_its_core_another_vcpu_s_notifications_stay_pending() {
    let _guard = testbed::deferred::exclusive();
    let board = booted(FaultConfig::default_config(), Drivers::Probe);
    let probe = board.probe();
    probe.wire();
    let handle = probe.handle();
    handle
        .bind_notifications(Bitmap::of(40), true, probe)
        .unwrap();
    board.monitor.log().clear();
    probe.ask([notifier::NOTIFY_NOW, 0, 1 << 8, 1 | 3 << 16, 0]);
    board.run();
    assert!(probe.notified().is_empty());
    assert!(board
        .monitor
        .functions()
        .contains(&ids::FFA_NOTIFICATION_INFO_GET_64));
    assert!(!board
        .monitor
        .functions()
        .contains(&ids::FFA_NOTIFICATION_GET));
}
