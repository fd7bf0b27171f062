//! The console's `ffa notify` and `ffa msg` commands against the FF-A
//! model's notifier partition (0x8004): what each one calls, what reaches
//! the console's bindings through the SRI, and each error (bad number, bad
//! argument, unknown partition, a partition without notifications, a
//! driver's binding, a split-phase request holding the vCPU, no service,
//! an older version) refused before any call.

mod common;

use std::cell::RefCell;

use capsule_console::command::CommandError;
use capsule_ffa::bus::FfaBus;
use capsule_ffa::client::ClientConfig;
use capsule_ffa::commands::notifications::{message_payload, NotificationCommands};
use capsule_ffa::conduit::Request;
use capsule_ffa::messaging::Exchange;
use capsule_ffa::notifications::{
    MessageClient, NotificationClient, NotificationService, Notifications,
};
use capsule_ffa::requests::{
    CoreCallClient, DirectRequestClient, RequestCounters, RequestState, SplitPhaseRequests,
};
use common::{fixture, ids, leak, run_line, Fixture};
use ffa_abi::notification::Bitmap;
use ffa_abi::{PartitionId, Uuid};
use ffa_model::FaultConfig;
use kernel::deferred_call::DeferredCallClient;
use kernel::init_queue::{ConditionSet, InitQueue, Queue};
use kernel::ErrorCode;
use proptest::prelude::*;
use testbed::deferred::{exclusive, run_pending};
use testbed::HostInterruptLines;

const NOTIFIER: PartitionId = PartitionId::new(0x8004);

/// A driver's stand-in: it takes 0x8004's messages and a binding of its own.
#[derive(Default)]
struct Driver {
    messages: RefCell<Vec<Vec<u8>>>,
    notified: RefCell<Vec<Bitmap>>,
}

impl NotificationClient for Driver {
    fn notified(&self, _partition: PartitionId, bitmap: Bitmap, _vcpu: Option<u16>) {
        self.notified.borrow_mut().push(bitmap);
    }
}

impl MessageClient for Driver {
    fn message(&self, _partition: PartitionId, payload: &[u8], _service: Uuid) {
        self.messages.borrow_mut().push(payload.to_vec());
    }
}

/// An engine whose request holds the vCPU (started, never answered).
struct Holding;

impl<'a> SplitPhaseRequests<'a> for Holding {
    fn set_client(&self, _slot: usize, _client: &'a dyn DirectRequestClient) {}
    fn send(&self, _slot: usize, _request: Request, _exchange: Exchange) -> Result<(), ErrorCode> {
        Err(ErrorCode::BUSY)
    }
    fn state(&self, _slot: usize) -> RequestState {
        RequestState::Idle
    }
    fn cancel_all(&self) {}
    fn busy(&self) -> bool {
        true
    }
    fn running(&self) -> bool {
        true
    }
    fn counters(&self) -> RequestCounters {
        RequestCounters::default()
    }
    fn call_on_core(
        &self,
        _call: Request,
        _client: &'a dyn CoreCallClient,
    ) -> Result<(), ErrorCode> {
        Err(ErrorCode::BUSY)
    }
}

struct Board {
    fixture: Fixture,
    bus: &'static FfaBus<'static, 8>,
    lines: &'static HostInterruptLines,
    service: &'static Notifications<'static, 8>,
    commands: &'static NotificationCommands<'static, 8>,
    driver: &'static Driver,
}

/// The commands over a bus whose root has set FF-A up, with the
/// notification service started after it (its SRI claimed); a driver's
/// stand-in takes 0x8004's messages. Without the service on the bus if
/// not `with_service`.
fn board(config: FaultConfig, with_service: bool) -> Board {
    let fixture = fixture(config, ClientConfig::DEFAULT);
    let queue: &'static InitQueue<'static, 4, 4> = leak(InitQueue::new());
    let probed = queue.declare_condition("ffa-root-probed").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        fixture.client,
        queue,
        ConditionSet::empty(),
    ));
    bus.signal_on_outcome(probed);
    queue.add("arm-ffa", bus, None).unwrap();
    let lines = leak(HostInterruptLines::new());
    let scratch: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
    let service = leak(Notifications::<'static, 8>::new(
        fixture.client,
        lines,
        queue,
        probed,
        scratch,
    ));
    service.setup();
    service.register();
    if with_service {
        bus.set_notifications(service);
        queue.add("ffa-notifications", service, None).unwrap();
    }
    while queue.has_work() {
        queue.service();
    }
    assert!(bus.is_ready(), "root {:?}", bus.state());
    let driver = leak(Driver::default());
    if with_service {
        service.set_message_client(NOTIFIER, driver).unwrap();
    }
    let commands = leak(NotificationCommands::new(bus));
    commands.setup();
    fixture.conduit.log().clear();
    Board {
        fixture,
        bus,
        lines,
        service,
        commands,
        driver,
    }
}

impl Board {
    fn run(&self, line: &'static str) -> Result<(), CommandError<'static>> {
        run_line(&[self.commands], line)
    }

    fn calls(&self, id: u32) -> usize {
        self.fixture.conduit.log().count(id)
    }

    fn no_calls(&self) -> bool {
        self.fixture.conduit.log().functions().is_empty()
    }

    /// The SRIs the model raised, taken as the kernel takes them.
    fn take_interrupts(&self) {
        for _ in 0..16 {
            let raised = self.fixture.conduit.take_interrupts();
            if raised.is_empty() {
                return;
            }
            self.lines.deliver(&raised);
            run_pending();
        }
    }
}

#[test]
fn status_and_messages_read_the_service_without_calling_the_secure_world() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    for line in ["ffa notify", "ffa msg", "ffa msg recv"] {
        assert_eq!(board.run(line), Ok(()), "{line}");
    }
    assert!(
        board.no_calls(),
        "{:?}",
        board.fixture.conduit.log().functions()
    );
}

#[test]
fn a_notification_bound_at_the_console_comes_back_through_the_sri() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa notify bind 0x8004 5"), Ok(()));
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_BIND), 1);
    // The notifier answers a SET with the same IDs, for the normal world.
    assert_eq!(board.run("ffa notify set 0x8004 5"), Ok(()));
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_SET), 1);
    assert_eq!(board.commands.received(), 0, "not before the SRI is taken");
    board.take_interrupts();
    assert_eq!(board.commands.received(), 1);
    assert_eq!(board.service.counters().set, 1);
    assert_eq!(board.service.counters().delivered, 1);
    assert_eq!(board.run("ffa notify"), Ok(()));
    // Bound already: refused before any call.
    let before = board.fixture.conduit.log().functions().len();
    assert_eq!(
        board.run("ffa notify bind 0x8004 5"),
        Err(CommandError::Reported)
    );
    assert_eq!(board.fixture.conduit.log().functions().len(), before);
    assert_eq!(board.run("ffa notify unbind 0x8004 5"), Ok(()));
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_UNBIND), 1);
    // Not bound any more.
    assert_eq!(
        board.run("ffa notify unbind 0x8004 5"),
        Err(CommandError::Reported)
    );
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_UNBIND), 1);
}

#[test]
fn get_takes_what_is_pending_and_hands_it_to_whoever_bound_it() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa notify get"), Ok(()));
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_GET), 1);
    assert_eq!(board.run("ffa notify bind 0x8004 7 --per-vcpu"), Ok(()));
    assert_eq!(board.run("ffa notify bind 0x8004 6"), Ok(()));
    assert_eq!(board.run("ffa notify set 0x8004 6"), Ok(()));
    // Before the SRI is taken, the console's GET finds it.
    let _ = board.fixture.conduit.take_interrupts();
    let pending = board.service.get_pending().unwrap();
    assert_eq!(pending.partitions, Bitmap::of(6));
    assert_eq!(board.commands.received(), 1);
    assert_eq!(board.run("ffa notify get"), Ok(()));
    assert_eq!(board.commands.received(), 1, "nothing pending any more");
}

#[test]
fn a_driver_s_binding_is_not_the_console_s_to_unbind() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    let mut notifier = None;
    board.bus.for_each_device(|_, device| {
        if device.info.id == NOTIFIER {
            notifier = Some(device.info);
        }
    });
    board
        .service
        .bind(&notifier.unwrap(), Bitmap::of(1), false, board.driver)
        .unwrap();
    board.fixture.conduit.log().clear();
    assert_eq!(
        board.run("ffa notify unbind 0x8004 1"),
        Err(CommandError::Reported)
    );
    assert_eq!(
        board.run("ffa notify bind 0x8004 1"),
        Err(CommandError::Reported)
    );
    assert!(board.no_calls());
    // The driver still gets what it bound.
    assert_eq!(board.run("ffa notify set 0x8004 1"), Ok(()));
    board.take_interrupts();
    assert_eq!(*board.driver.notified.borrow(), [Bitmap::of(1)]);
    assert_eq!(board.commands.received(), 0);
}

#[test]
fn what_the_model_refuses_is_reported_after_its_call() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    // The notifier lets the normal world set its IDs 0-15 only.
    assert_eq!(
        board.run("ffa notify set 0x8004 20"),
        Err(CommandError::Reported)
    );
    assert_eq!(board.calls(ids::FFA_NOTIFICATION_SET), 1);
}

#[test]
fn messages_go_with_the_negotiated_header_and_the_echo_is_shown() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa msg send 0x8004 hello  world"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MSG_SEND2), 1);
    board.take_interrupts();
    assert_eq!(board.driver.messages.borrow().len(), 1);
    assert_eq!(board.driver.messages.borrow()[0], b"hello world");
    let last = board.service.last_message().unwrap();
    assert_eq!((last.sender, last.size), (NOTIFIER, 11));
    assert_eq!(last.head(), b"hello world");
    assert_eq!(board.run("ffa msg send 0x8004 0x00ff10"), Ok(()));
    board.take_interrupts();
    assert_eq!(board.driver.messages.borrow()[1], [0x00, 0xff, 0x10]);
    assert_eq!(board.run("ffa msg"), Ok(()));
    let counters = board.service.counters();
    assert_eq!((counters.messages_sent, counters.messages_received), (2, 2));
}

#[test]
fn bad_input_is_refused_before_any_call() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    for (line, bad_number) in [
        ("ffa notify bind 0x8004 64", true),
        ("ffa notify bind 0x8004 five", true),
        ("ffa notify set 0x8004 1 0x10000", true),
        ("ffa notify unbind 0x8004 -1", true),
        ("ffa notify bind banana 1", true),
        ("ffa notify bind 0x8004 1 --global", false),
        ("ffa msg send 0x8004 0x123", false),
        ("ffa msg send 0x8004 0xzz", false),
        ("ffa msg send 0x8004 0x", false),
        ("ffa msg send 0x8004 0x41 more", false),
    ] {
        let result = board.run(line);
        if bad_number {
            assert!(
                matches!(result, Err(CommandError::BadNumber { .. })),
                "{line}: {result:?}"
            );
        } else {
            assert!(
                matches!(result, Err(CommandError::BadArgument { .. })),
                "{line}: {result:?}"
            );
        }
    }
    for line in [
        "ffa notify bind 0x8004",
        "ffa notify set",
        "ffa notify get now",
        "ffa msg send 0x8004",
        "ffa msg recv all",
        "ffa notify bogus",
    ] {
        assert_eq!(board.run(line), Err(CommandError::Usage), "{line}");
    }
    assert!(matches!(
        board.run("ffa notify set 0x9999 1"),
        Err(CommandError::Unknown {
            argument: "0x9999",
            ..
        })
    ));
    // The echo partition takes no notifications, and no indirect messages.
    assert_eq!(
        board.run("ffa notify bind 0x8001 1"),
        Err(CommandError::Reported)
    );
    assert_eq!(
        board.run("ffa msg send 0x8001 hi"),
        Err(CommandError::Reported)
    );
    // The notifier has 4 execution contexts.
    assert_eq!(
        board.run("ffa notify set 0x8004 1 4"),
        Err(CommandError::Reported)
    );
    let long: &'static str = leak(format!("ffa msg send 0x8004 {}", "x".repeat(300)));
    assert_eq!(board.run(long), Err(CommandError::Reported));
    assert!(
        board.no_calls(),
        "{:?}",
        board.fixture.conduit.log().functions()
    );
}

#[test]
fn the_console_holds_a_bounded_number_of_bindings() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    for line in [
        "ffa notify bind 0x8004 10",
        "ffa notify bind 0x8004 11",
        "ffa notify bind 0x8004 12",
        "ffa notify bind 0x8004 13",
    ] {
        assert_eq!(board.run(line), Ok(()), "{line}");
    }
    board.fixture.conduit.log().clear();
    assert_eq!(
        board.run("ffa notify bind 0x8004 14"),
        Err(CommandError::Reported)
    );
    assert!(board.no_calls());
}

#[test]
fn a_split_phase_request_holding_the_vcpu_stops_every_call() {
    let _guard = exclusive();
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa notify bind 0x8004 5"), Ok(()));
    board.bus.set_requests(leak(Holding));
    board.fixture.conduit.log().clear();
    for line in [
        "ffa notify bind 0x8004 6",
        "ffa notify unbind 0x8004 5",
        "ffa notify set 0x8004 5",
        "ffa notify get",
        "ffa msg send 0x8004 hi",
    ] {
        assert_eq!(board.run(line), Err(CommandError::Reported), "{line}");
    }
    // What reads the service still runs.
    assert_eq!(board.run("ffa notify"), Ok(()));
    assert_eq!(board.run("ffa msg"), Ok(()));
    assert!(board.no_calls());
}

#[test]
fn without_a_service_or_at_v1_0_the_commands_say_why() {
    let _guard = exclusive();
    let none = board(FaultConfig::default(), false);
    for line in [
        "ffa notify",
        "ffa notify get",
        "ffa msg",
        "ffa msg send 0x8004 hi",
    ] {
        assert_eq!(none.run(line), Err(CommandError::Reported), "{line}");
    }
    assert!(none.no_calls());
    let v1_0 = board(
        FaultConfig {
            spmc_version: (1, 0),
            ..FaultConfig::default()
        },
        true,
    );
    assert_eq!(v1_0.run("ffa notify"), Ok(()));
    for line in [
        "ffa notify get",
        "ffa notify set 0x8004 1",
        "ffa msg send 0x8004 hi",
    ] {
        assert_eq!(v1_0.run(line), Err(CommandError::Reported), "{line}");
    }
    assert!(v1_0.no_calls());
}

proptest! {
    /// Any words parse to an error or to a payload that fits, the same way twice;
    /// hex bytes come back as typed.
    #[test]
    fn payloads_never_panic_and_hex_round_trips(
        words in proptest::collection::vec("[ -~]{0,12}", 1..6),
        bytes in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut first = [0u8; 64];
        let mut second = [0u8; 64];
        let once = message_payload(&words, &mut first);
        let again = message_payload(&words, &mut second);
        prop_assert_eq!(once, again);
        if let Ok(length) = once {
            prop_assert!(length <= first.len());
            prop_assert_eq!(first, second);
        }
        let hex: String = std::iter::once("0x".to_string())
            .chain(bytes.iter().map(|byte| format!("{byte:02X}")))
            .collect();
        let mut payload = [0u8; 64];
        let length = message_payload(&[hex.as_str()], &mut payload).unwrap();
        prop_assert_eq!(&payload[..length], bytes.as_slice());
    }
}
