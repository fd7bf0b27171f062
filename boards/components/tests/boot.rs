//! A whole board wired by the components, booted on the host: the FF-A
//! model as the monitor, a manual alarm, a simulated EL2; in direct mode and
//! in protected mode, in the right order and in the regression order.

use std::cell::Cell;
use std::mem::MaybeUninit;

use capsule_ffa::boot::{BootClient, BootCompletion, BootOutcome};
use capsule_ffa::bus::RootState;
use capsule_ffa::drivers::echo::EchoDriver;
use capsule_ffa::ffa_abi::function::FFA_RXTX_MAP_64;
use capsule_ffa::readiness::ReadinessConfig;
use capsule_ffa::ClientConfig;
use capsule_ffa_proxy::finaliser::{FinaliserConfig, FinaliserState, Order, ProxyFinaliser};
use components::boot::BootComponent;
use components::ffa::{Ffa, FfaComponent};
use components::init_queue::InitQueueComponent;
use components::partition_driver::PartitionDriverComponent;
use components::protected_mode::ProtectedModeComponent;
use components::readiness::ReadinessComponent;
use ffa_model::FaultConfig;
use kernel::component::Component;
use kernel::deferred_call::DeferredCall;
use kernel::hil::hypervisor::{El2Memory, MemoryRange};
use kernel::hil::smccc::SmcccConduit;
use kernel::init_queue::{ConditionSet, EntryState, InitQueue};
use kernel::ErrorCode;
use testbed::{leak, ManualAlarm, Memory, ModelMonitor, SimulatedEl2};

const PARTITIONS: usize = 8;
/// A UUID no partition of the model implements.
static ABSENT_UUIDS: [capsule_ffa::Uuid; 1] = [capsule_ffa::Uuid::from_bytes([0x42; 16])];
type Queue16 = InitQueue<'static, 16, 16>;

/// Static memory for a component, on the heap (the `..._component_static!`
/// macros give each call site one slot; a test builds many boards).
fn slot<T>() -> &'static mut MaybeUninit<T> {
    Box::leak(Box::new(MaybeUninit::uninit()))
}

/// Counts the boots that completed, and keeps the last outcome.
#[derive(Default)]
struct Completions(Cell<usize>, Cell<Option<BootOutcome>>);

impl BootClient for Completions {
    fn boot_complete(&self, outcome: BootOutcome) {
        self.0.set(self.0.get() + 1);
        self.1.set(Some(outcome));
    }
}

/// The board, as `boards/qemu-virt/src/main.rs` wires it.
struct Board {
    queue: &'static Queue16,
    alarm: &'static ManualAlarm,
    monitor: &'static ModelMonitor,
    ffa: Ffa<PARTITIONS>,
    echo: &'static EchoDriver<'static>,
    completion: &'static BootCompletion<'static, PARTITIONS>,
    completions: &'static Completions,
    protected: Option<(&'static SimulatedEl2, &'static ProxyFinaliser<'static>)>,
}

/// Protected mode as a board configures it: EL2 kept or not, and the order.
struct Protected {
    kept_el2: bool,
    order: Order,
}

fn board(protected: Option<Protected>) -> Board {
    board_with(FaultConfig::default_config(), protected)
}

fn board_with(config: FaultConfig, protected: Option<Protected>) -> Board {
    let memory = Memory::new();
    // DRAM from the proxy's carve-out to past the kernel's buffers.
    memory.add_region(0x5fe0_0000, 0x40_0000);
    let rx = leak(memory.page(0x6010_0000, 4096));
    let tx = leak(memory.page(0x6010_1000, 4096));
    let monitor = leak(ModelMonitor::new(config, memory));
    let el2 = leak(SimulatedEl2::new(
        monitor,
        El2Memory::EMPTY
            .with(MemoryRange::new(0x6030_0000, 0x4000))
            .unwrap(),
    ));
    // The kernel's SMC: through EL2 (trapped once the proxy asks), as on hardware.
    let conduit: &'static dyn SmcccConduit = match protected {
        Some(_) => leak(el2.smc()),
        None => monitor,
    };
    let alarm = leak(ManualAlarm::new());

    let queue: &'static Queue16 = InitQueueComponent::<16, 16>::new().finalize(slot());
    let readiness = ReadinessComponent::new(
        queue,
        alarm,
        conduit,
        ReadinessConfig::matching(&ClientConfig::DEFAULT),
    )
    .finalize(slot())
    .unwrap();
    let ffa = FfaComponent::<PARTITIONS>::new(
        queue,
        conduit,
        rx,
        tx,
        ClientConfig::DEFAULT,
        ConditionSet::of(readiness.monitor_ready),
    )
    .finalize((slot(), slot()))
    .unwrap();
    let protected = protected.map(|protected| {
        let finaliser = ProtectedModeComponent::new(
            queue,
            ffa,
            el2,
            el2,
            protected.kept_el2,
            FinaliserConfig {
                host_memory: MemoryRange::new(0x4000_0000, 0x4000_0000),
                carve_out: MemoryRange::new(0x5fe0_0000, 0x1_0000),
                devices: MemoryRange::new(0, 0x4000_0000),
                firmware_shared: MemoryRange::EMPTY,
                order: protected.order,
                host_cores: 1,
            },
        )
        .finalize((slot(), slot(), page_states(1 << 30)))
        .unwrap();
        (&*el2, finaliser)
    });
    let echo = PartitionDriverComponent::new(queue, ffa, EchoDriver::new())
        .finalize((slot(), slot()))
        .unwrap();
    // A driver for a partition the model does not host.
    PartitionDriverComponent::new(
        queue,
        ffa,
        EchoDriver::for_partitions("ffa-absent-echo", &ABSENT_UUIDS),
    )
    .finalize((slot(), slot()))
    .unwrap();
    let completions = leak(Completions::default());
    let completion = BootComponent::new(queue, readiness, ffa, Some(completions))
        .finalize(slot())
        .unwrap();
    Board {
        queue,
        alarm,
        monitor,
        ffa,
        echo,
        completion,
        completions,
        protected,
    }
}

/// The main loop, on the host: interrupts (the alarm), deferred calls, the
/// init queue; until nothing is left to do.
fn run(board: &Board) {
    for _ in 0..10_000 {
        if board.alarm.fire() || DeferredCall::service_next_pending() {
            continue;
        }
        if !board.queue.has_work() {
            return;
        }
        board.queue.service();
    }
    panic!("the board never settled");
}

/// The entry named `name`.
fn state(board: &Board, name: &str) -> EntryState {
    let mut found = None;
    board.queue.for_each_entry(|_, entry, state| {
        if entry == name {
            found = Some(state);
        }
    });
    found.unwrap_or_else(|| panic!("no entry {name}"))
}

#[test]
fn a_direct_mode_board_boots_binds_its_driver_and_reports_once() {
    let _guard = testbed::deferred::exclusive();
    let board = board(None);
    run(&board);
    assert_eq!(board.ffa.bus.state(), RootState::Ready);
    assert_eq!(state(&board, "arm-ffa"), EntryState::Ready);
    assert_eq!(state(&board, "ffa-echo"), EntryState::Ready);
    assert!(board.echo.results().all_acceptable());
    assert!(board.completion.is_complete());
    assert_eq!(board.completions.0.get(), 1);
}

#[test]
fn in_protected_mode_the_root_waits_for_the_proxy_and_the_monitor_sees_only_its_pair() {
    let _guard = testbed::deferred::exclusive();
    let board = board(Some(Protected {
        kept_el2: true,
        order: Order::BeforeFfaRoot,
    }));
    let (el2, finaliser) = board.protected.unwrap();
    assert_eq!(
        board.ffa.bus.prerequisites().len(),
        2,
        "secure-monitor-ready and proxy-finalised"
    );
    run(&board);
    assert_eq!(finaliser.state(), FinaliserState::Finalised);
    assert!(el2.is_trapping());
    assert_eq!(state(&board, "ffa-proxy"), EntryState::Ready);
    assert_eq!(state(&board, "arm-ffa"), EntryState::Ready);
    assert_eq!(state(&board, "ffa-echo"), EntryState::Ready);
    assert!(board.echo.results().all_acceptable());
    assert_eq!(board.completions.0.get(), 1);
    let maps: Vec<u64> = board
        .monitor
        .calls()
        .iter()
        .filter(|call| call.x[0] as u32 == FFA_RXTX_MAP_64)
        .map(|call| call.x[1])
        .collect();
    assert_eq!(maps, [0x5fe0_0000], "only the proxy's own pair");
}

#[test]
fn in_the_regression_order_the_proxy_fails_at_its_mailbox_map_and_nothing_is_trapped() {
    let _guard = testbed::deferred::exclusive();
    let board = board(Some(Protected {
        kept_el2: true,
        order: Order::AfterFfaRoot,
    }));
    let (el2, finaliser) = board.protected.unwrap();
    run(&board);
    assert_eq!(state(&board, "arm-ffa"), EntryState::Ready);
    assert_eq!(finaliser.state(), FinaliserState::Failed);
    assert_eq!(
        state(&board, "ffa-proxy"),
        EntryState::Failed(ErrorCode::FAIL)
    );
    assert!(!el2.is_trapping());
    assert_eq!(board.completions.0.get(), 1);
}

#[test]
fn protected_mode_without_el2_leaves_the_root_waiting_for_the_proxy() {
    let _guard = testbed::deferred::exclusive();
    let board = board(Some(Protected {
        kept_el2: false,
        order: Order::BeforeFfaRoot,
    }));
    run(&board);
    assert_eq!(
        state(&board, "ffa-proxy"),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert!(matches!(state(&board, "arm-ffa"), EntryState::Waiting(_)));
    assert_eq!(board.ffa.bus.state(), RootState::Waiting);
    assert_eq!(
        board.completions.0.get(),
        1,
        "boot is still over, and reported"
    );
}

#[test]
fn a_failed_root_fails_every_driver_the_same_way() {
    let _guard = testbed::deferred::exclusive();
    let board = board_with(
        FaultConfig {
            deny_rxtx_map: true,
            // Not ready at first: the drivers defer before the root fails.
            not_ready_calls: 2,
            ..FaultConfig::default_config()
        },
        None,
    );
    // The first turn probes every entry before the monitor answers.
    board.queue.service();
    assert!(matches!(state(&board, "ffa-echo"), EntryState::Waiting(_)));
    run(&board);
    assert!(matches!(board.ffa.bus.state(), RootState::Failed(_)));
    // Probed before or after the root failed, each driver says the same.
    for driver in ["ffa-echo", "ffa-absent-echo"] {
        assert_eq!(
            state(&board, driver),
            EntryState::Failed(ErrorCode::NODEVICE),
            "{driver}"
        );
    }
}

#[test]
fn a_driver_with_no_partition_is_unbound_not_failed() {
    let _guard = testbed::deferred::exclusive();
    let board = board(None);
    run(&board);
    assert_eq!(state(&board, "ffa-echo"), EntryState::Ready);
    assert!(!matches!(
        state(&board, "ffa-absent-echo"),
        EntryState::Failed(_)
    ));
}

#[test]
fn the_board_is_told_whether_the_ffa_root_came_up() {
    let _guard = testbed::deferred::exclusive();
    let outcome = |config: FaultConfig, protected: Option<Protected>| {
        let board = board_with(config, protected);
        run(&board);
        assert_eq!(board.completions.0.get(), 1);
        board.completions.1.get().unwrap()
    };
    assert_eq!(
        outcome(FaultConfig::default_config(), None),
        BootOutcome::FfaReady
    );
    assert_eq!(
        outcome(
            FaultConfig {
                ffa_absent: true,
                ..FaultConfig::default_config()
            },
            None
        ),
        BootOutcome::FfaAbsent
    );
    let denied = outcome(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default_config()
        },
        None,
    );
    assert!(matches!(
        denied,
        BootOutcome::RootDown(RootState::Failed(_))
    ));
    assert!(!denied.is_healthy());
    // A monitor that never gets ready: readiness gives up at its deadline.
    assert_eq!(
        outcome(
            FaultConfig {
                not_ready_calls: u32::MAX,
                ..FaultConfig::default_config()
            },
            None
        ),
        BootOutcome::TimedOut
    );
    // Protected mode without EL2: the root waits for a proxy that never comes.
    assert_eq!(
        outcome(
            FaultConfig::default_config(),
            Some(Protected {
                kept_el2: false,
                order: Order::BeforeFfaRoot,
            })
        ),
        BootOutcome::RootDown(RootState::Waiting)
    );
}

/// Power control that records instead of switching anything off.
struct RecordingPower;

impl kernel::hil::power::SystemPower for RecordingPower {
    fn power_off(&self, status: u32) -> ! {
        std::panic::panic_any(format!("powered off with status {status}"))
    }

    fn reset(&self) -> ! {
        std::panic::panic_any("reset".to_string())
    }
}

#[test]
fn the_console_component_wires_the_groups_and_commands_reach_the_secure_world() {
    use capsule_console::CommandGroup;
    use components::console::{ConsoleComponent, FfaCommandsComponent, SystemCommandsComponent};
    use testbed::ScriptedUart;

    let _guard = testbed::deferred::exclusive();
    let board = board(None);
    let uart: &'static ScriptedUart = leak(ScriptedUart::new());
    let system = SystemCommandsComponent::new(board.queue, leak(RecordingPower), "test board")
        .finalize(slot());
    let ffa_commands =
        FfaCommandsComponent::new(board.ffa, board.queue, board.alarm).finalize(slot());
    let groups: &'static [&'static dyn CommandGroup] =
        leak([system as &dyn CommandGroup, ffa_commands]);
    let console = ConsoleComponent::new(uart, groups)
        .finalize((slot(), slot()))
        .unwrap();
    assert!(uart.is_receiving(), "the console takes input once started");
    run(&board);
    board.monitor.log().clear();
    uart.type_in(b"ffa ping 0x8001\rinit\rffa discover\r");
    assert_eq!(
        board
            .monitor
            .log()
            .count(capsule_ffa::ffa_abi::function::FFA_MSG_SEND_DIRECT_REQ_32),
        1
    );
    assert!(
        board
            .monitor
            .log()
            .count(capsule_ffa::ffa_abi::function::FFA_PARTITION_INFO_GET_REGS)
            >= 1
    );
    assert_eq!(console.statistics().commands, 3);
    let off = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        uart.type_in(b"poweroff 3\r")
    }));
    let message = off.expect_err("poweroff returns nothing");
    assert_eq!(
        message.downcast_ref::<String>().map(String::as_str),
        Some("powered off with status 3")
    );
}

/// Storage for the proxy's page-state table over `host_memory` bytes.
fn page_states(host_memory: u64) -> &'static [std::sync::atomic::AtomicU8] {
    let bytes = capsule_ffa_proxy::ownership::storage_bytes(host_memory);
    Box::leak(
        (0..bytes)
            .map(|_| std::sync::atomic::AtomicU8::new(0))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}
