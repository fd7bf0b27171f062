//! The finaliser at EL1, end to end on the host: the init queue, deferred
//! calls, `HVC`s to the EL2 proxy (a simulated EL2) and the FF-A model as
//! the monitor, as on QEMU.

use std::cell::Cell;

use capsule_ffa_proxy::control;
use capsule_ffa_proxy::el2::El2Proxy;
use capsule_ffa_proxy::finaliser::{
    El2Access, FinaliserClient, FinaliserConditions, FinaliserConfig, FinaliserState, Order,
    ProxyFinaliser,
};
use ffa_abi::function::{FFA_ERROR, FFA_ID_GET, FFA_RXTX_MAP_64, FFA_VERSION};
use ffa_model::FaultConfig;
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::hypervisor::{El2Memory, MemoryRange};
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
use kernel::init_queue::{ConditionId, ConditionSet, EntryId, EntryState, InitQueue, Queue};
use kernel::ErrorCode;
use testbed::{leak, Memory, ModelMonitor, ScriptedConduit, SimulatedEl2};

const HOST_MEMORY: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);
const CARVE_OUT: MemoryRange = MemoryRange::new(0x5fe0_0000, 0x1_0000);
const EL2_STACK: MemoryRange = MemoryRange::new(0x6010_0000, 0x4000);
const KERNEL_TRANSMIT: u64 = 0x6020_0000;
const KERNEL_RECEIVE: u64 = 0x6020_1000;

type TestQueue = InitQueue<'static, 4, 8>;

/// Counts finalisations.
#[derive(Default)]
struct Told(Cell<usize>);

impl FinaliserClient for Told {
    fn finalised(&self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A board: the queue, a simulated EL2 over the model, the finaliser.
struct Board {
    queue: &'static TestQueue,
    el2: &'static SimulatedEl2,
    finaliser: &'static ProxyFinaliser<'static>,
    monitor_ready: ConditionId,
    finalised: ConditionId,
    entry: EntryId,
    told: &'static Told,
}

/// The memory the model and EL2 share: from the carve-out up to past the
/// kernel's buffers.
fn memory() -> Memory {
    let memory = Memory::new();
    memory.add_region(0x5fe0_0000, 0x60_0000);
    memory
}

fn board(config: FaultConfig, access: Option<&'static dyn SmcccConduit>, order: Order) -> Board {
    let queue: &'static TestQueue = leak(InitQueue::new());
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let finalised = queue.declare_condition("proxy-finalised").unwrap();
    let stopped = queue.declare_condition("proxy-finaliser-stopped").unwrap();
    let monitor = leak(ModelMonitor::new(config, memory()));
    let el2 = leak(SimulatedEl2::with_handler(
        El2Proxy::new(),
        monitor,
        El2Memory::EMPTY.with(EL2_STACK).unwrap(),
    ));
    let access = match access {
        Some(conduit) => El2Access::Owned(conduit),
        None => El2Access::Owned(el2),
    };
    let finaliser = leak(ProxyFinaliser::new(
        access,
        queue,
        FinaliserConditions { finalised, stopped },
        FinaliserConfig {
            host_memory: HOST_MEMORY,
            carve_out: CARVE_OUT,
            devices: MemoryRange::new(0, 0x4000_0000),
            firmware_shared: MemoryRange::EMPTY,
            order,
            host_cores: 1,
        },
    ));
    finaliser.register();
    let told = leak(Told::default());
    finaliser.set_client(told);
    finaliser.set_monitor_ready(ConditionSet::of(monitor_ready));
    let entry = queue.add("ffa-proxy", finaliser, Some(finalised)).unwrap();
    Board {
        queue,
        el2,
        finaliser,
        monitor_ready,
        finalised,
        entry,
        told,
    }
}

/// The main loop, without interrupts: deferred calls first, then the queue.
fn run(queue: &TestQueue) {
    loop {
        if DeferredCall::service_next_pending() {
            continue;
        }
        if !queue.has_work() {
            return;
        }
        queue.service();
    }
}

#[test]
fn finalisation_runs_from_deferred_calls_before_the_queue_and_then_smcs_trap() {
    let _guard = testbed::deferred::exclusive();
    let board = board(FaultConfig::default_config(), None, Order::BeforeFfaRoot);
    board.finaliser.start();
    assert_eq!(board.finaliser.state(), FinaliserState::Running);
    assert!(!board.el2.is_trapping());
    run(board.queue);
    assert_eq!(board.finaliser.state(), FinaliserState::Finalised);
    assert_eq!(
        board.finaliser.steps(),
        3,
        "three HVCs: the version, the open check, the trap"
    );
    assert_eq!(board.queue.state(board.entry), EntryState::Ready);
    assert!(board.queue.is_signalled(board.finalised));
    assert!(board.el2.is_trapping());
    assert_eq!(board.told.0.get(), 1);
    // The monitor saw the version negotiated and nothing else: the proxy's
    // pair comes with the host's.
    assert_eq!(board.el2.monitor().functions(), [FFA_VERSION, FFA_VERSION]);
    assert_eq!(board.el2.monitor().world().buffer_pair(), None);
    // The kernel's SMCs now reach the proxy: FF-A before FFA_VERSION is refused.
    let reply = board
        .el2
        .smc()
        .call(&SmcccRegisters::with_function(0x8400_0069));
    assert_eq!(reply.x[0], u64::from(FFA_ERROR));
    // The FF-A root waits for the monitor and for the proxy.
    assert_eq!(
        board
            .finaliser
            .root_prerequisites(ConditionSet::of(board.monitor_ready)),
        ConditionSet::of(board.monitor_ready).with(board.finalised)
    );
}

#[test]
fn a_busy_monitor_pauses_finalisation_until_it_answers() {
    let _guard = testbed::deferred::exclusive();
    let config = FaultConfig {
        not_ready_calls: 1,
        ..FaultConfig::default_config()
    };
    let board = board(config, None, Order::BeforeFfaRoot);
    board.finaliser.start();
    run(board.queue);
    assert_eq!(board.finaliser.state(), FinaliserState::Paused);
    assert_eq!(
        board.queue.state(board.entry),
        EntryState::Waiting(ConditionSet::of(board.monitor_ready))
    );
    // Readiness sees the monitor answer.
    board.queue.signal(board.monitor_ready);
    run(board.queue);
    assert_eq!(board.finaliser.state(), FinaliserState::Finalised);
    assert_eq!(board.finaliser.steps(), 4, "step 1 once more");
    assert_eq!(board.queue.state(board.entry), EntryState::Ready);
}

#[test]
fn a_kernel_entered_at_el1_makes_no_hvc_and_the_entry_fails() {
    let _guard = testbed::deferred::exclusive();
    let board = board(FaultConfig::default_config(), None, Order::BeforeFfaRoot);
    let queue: &'static TestQueue = leak(InitQueue::new());
    let finalised = queue.declare_condition("proxy-finalised").unwrap();
    let stopped = queue.declare_condition("proxy-finaliser-stopped").unwrap();
    let finaliser = leak(ProxyFinaliser::new(
        El2Access::EnteredAtEl1,
        queue,
        FinaliserConditions { finalised, stopped },
        FinaliserConfig {
            host_memory: HOST_MEMORY,
            carve_out: CARVE_OUT,
            devices: MemoryRange::new(0, 0x4000_0000),
            firmware_shared: MemoryRange::EMPTY,
            order: Order::BeforeFfaRoot,
            host_cores: 1,
        },
    ));
    finaliser.register();
    let entry = queue.add("ffa-proxy", finaliser, Some(finalised)).unwrap();
    finaliser.start();
    run(queue);
    assert_eq!(finaliser.state(), FinaliserState::Unavailable);
    assert_eq!(queue.state(entry), EntryState::Failed(ErrorCode::NODEVICE));
    assert!(!queue.is_signalled(finalised));
    assert!(
        board.el2.monitor().calls().is_empty(),
        "nothing reached EL3"
    );
}

#[test]
fn without_a_resident_proxy_the_entry_fails() {
    let _guard = testbed::deferred::exclusive();
    // EL2 answers every HVC with -1, as the boot stub does.
    let stub: &'static ScriptedConduit = leak(ScriptedConduit::new(&[]));
    let board = board(
        FaultConfig::default_config(),
        Some(stub),
        Order::BeforeFfaRoot,
    );
    board.finaliser.start();
    run(board.queue);
    assert_eq!(board.finaliser.state(), FinaliserState::Unavailable);
    assert_eq!(
        board.queue.state(board.entry),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert_eq!(stub.functions(), [control::QUERY], "only the query");
}

#[test]
fn finalising_after_the_ffa_client_made_its_calls_fails_at_the_open_check() {
    let _guard = testbed::deferred::exclusive();
    let board = board(FaultConfig::default_config(), None, Order::AfterFfaRoot);
    board.finaliser.start();
    // The regression order: nothing happens until the monitor is ready, and
    // the root does not wait for the proxy.
    assert_eq!(board.finaliser.state(), FinaliserState::Idle);
    assert_eq!(
        board
            .finaliser
            .root_prerequisites(ConditionSet::of(board.monitor_ready)),
        ConditionSet::of(board.monitor_ready)
    );
    run(board.queue);
    assert_eq!(board.finaliser.steps(), 0);
    // The FF-A root probes first: its SMCs reach the monitor unmediated.
    let smc = board.el2.smc();
    smc.call(&SmcccRegisters::from_slice(&[
        u64::from(FFA_VERSION),
        0x0001_0002,
    ]));
    smc.call(&SmcccRegisters::with_function(FFA_ID_GET));
    let map = smc.call(&SmcccRegisters::from_slice(&[
        u64::from(FFA_RXTX_MAP_64),
        KERNEL_TRANSMIT,
        KERNEL_RECEIVE,
        1,
    ]));
    assert_ne!(map.x[0], u64::from(FFA_ERROR), "the kernel's map succeeded");
    board.queue.signal(board.monitor_ready);
    run(board.queue);
    assert_eq!(board.finaliser.state(), FinaliserState::Failed);
    assert_eq!(
        board.queue.state(board.entry),
        EntryState::Failed(ErrorCode::FAIL)
    );
    assert!(!board.el2.is_trapping(), "nothing is trapped");
    assert_eq!(board.told.0.get(), 0);
    // The open check found the version fixed by the client's calls.
    let last = *board.el2.monitor().calls().last().unwrap();
    assert_eq!((last.x[0] as u32, last.x[1]), (FFA_VERSION, 0x0001_0000));
}
