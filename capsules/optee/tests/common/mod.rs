//! The OP-TEE driver's test fixtures: the FF-A model answering as OP-TEE's
//! SPMC, the client, the bus with the driver on it, a page pool, a manual
//! alarm, and users that record what they are told.

#![allow(dead_code)]

use std::cell::RefCell;

use capsule_ffa::bus::{DriverEntry, FfaBus};
use capsule_ffa::client::{ClientConfig, FfaClient};
use capsule_ffa::requests::DirectRequests;
use capsule_ffa::PartitionDriver;
use capsule_optee::client::OpteeClient;
use capsule_optee::driver::OpteeDriver;
use capsule_optee::enumeration::{self, Enumeration};
use capsule_optee::self_test::{self, SelfTest};
use ffa_abi::optee::test_pta;
use ffa_model::{FaultConfig, OpteeFault, Personality};
use kernel::hil::tee::{
    Direction, Login, Parameter, Parameters, SessionId, TaUuid, Tee, TeeClient, TeeError,
    NO_PARAMETERS,
};
use kernel::hil::time::Alarm;
use kernel::init_queue::{ConditionSet, InitQueue, Queue as _};
use kernel::page_pool::PagePool;
pub use testbed::{leak, ManualAlarm, Memory, ModelMonitor};

/// RX/TX buffers' addresses.
pub const RX_ADDRESS: u64 = 0x4010_0000;
/// TX buffer's address.
pub const TX_ADDRESS: u64 = 0x4020_0000;
/// The page pool's first page.
pub const POOL_BASE: u64 = 0x4100_0000;
/// Pages in the pool.
pub const POOL_PAGES: usize = 32;
/// The model's test pseudo TA.
pub const TEST_PTA: TaUuid = TaUuid(*test_pta::UUID.as_bytes());

type Queue = InitQueue<'static, 8, 8>;

/// A booted system with OP-TEE.
pub struct Optee {
    pub monitor: &'static ModelMonitor,
    pub client: &'static FfaClient<'static>,
    pub bus: &'static FfaBus<'static, 8>,
    pub driver: &'static OpteeDriver<'static>,
    pub pool: &'static PagePool<'static>,
    pub alarm: &'static ManualAlarm,
    /// The split-phase request engine (absent when booted blocking).
    pub requests: Option<(&'static DirectRequests<'static, 8>, &'static ManualAlarm)>,
    pub memory: Memory,
    pub self_test: Option<&'static SelfTest<'static>>,
}

/// A model answering as OP-TEE, with `fault`.
pub fn op_tee(fault: OpteeFault) -> FaultConfig {
    FaultConfig {
        optee_fault: fault,
        ..FaultConfig::as_personality(Personality::OpTee)
    }
}

/// A `'static` buffer of `length` bytes.
pub fn buffer(length: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; length].into_boxed_slice())
}

/// Boots the bus with the OP-TEE driver (and its device enumeration) on
/// `config`'s model, its exchanges split-phase through the bus's request
/// engine (as on the board); with `self_test`, the self-test runs after
/// the probe.
pub fn boot_with(
    config: FaultConfig,
    self_test: bool,
    before: impl FnOnce(&ModelMonitor),
) -> Optee {
    let optee = boot_on(config, self_test, true, before);
    optee.settle();
    optee
}

/// Boots split-phase on `config`'s model, but stops once the init queue
/// has run: deferred calls (the request engine's, the driver's) not run.
pub fn boot_unsettled(config: FaultConfig) -> Optee {
    boot_on(config, false, true, |_| {})
}

/// As [`boot_with`], without a request engine: the driver's exchanges
/// are the client's blocking direct requests.
pub fn boot_blocking_with(
    config: FaultConfig,
    self_test: bool,
    before: impl FnOnce(&ModelMonitor),
) -> Optee {
    let optee = boot_on(config, self_test, false, before);
    optee.settle();
    optee
}

fn boot_on(
    config: FaultConfig,
    self_test: bool,
    split_phase: bool,
    before: impl FnOnce(&ModelMonitor),
) -> Optee {
    let memory = Memory::new();
    let rx = leak(memory.page(RX_ADDRESS, 4096));
    let tx = leak(memory.page(TX_ADDRESS, 4096));
    let monitor = leak(ModelMonitor::new(config, memory.clone()));
    before(monitor);
    let client = leak(FfaClient::new(monitor, rx, tx, ClientConfig::DEFAULT));
    let pool = leak(PagePool::new(leak(memory.pool_pages(POOL_BASE, POOL_PAGES))).unwrap());
    let alarm = leak(ManualAlarm::new());
    let queue: &'static Queue = leak(InitQueue::new());
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let root_probed = queue.declare_condition("ffa-root-probed").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        client,
        queue,
        ConditionSet::of(monitor_ready),
    ));
    bus.signal_on_outcome(root_probed);
    let requests = split_phase.then(|| {
        let engine_alarm = leak(ManualAlarm::new());
        let engine = leak(DirectRequests::<'static, 8>::new(
            *client.conduit(),
            engine_alarm,
        ));
        kernel::deferred_call::DeferredCallClient::register(engine);
        engine_alarm.set_alarm_client(engine);
        engine.set_idle_client(bus);
        bus.set_requests(engine);
        (engine, engine_alarm)
    });
    let driver = leak(OpteeDriver::new(pool, alarm));
    driver.setup();
    kernel::deferred_call::DeferredCallClient::register(driver);
    alarm.set_alarm_client(driver);
    let enumeration_user = leak(OpteeClient::new(driver, "enumeration"));
    enumeration_user.join();
    let enumeration = leak(Enumeration::new(
        driver,
        enumeration_user,
        buffer(enumeration::BUFFER_SIZE),
    ));
    enumeration_user.set_client(enumeration);
    driver.set_enumeration(enumeration);
    let test = self_test.then(|| {
        let user = leak(OpteeClient::new(driver, "self-test"));
        user.join();
        let test = leak(SelfTest::new(driver, user, buffer(self_test::BUFFER_SIZE)));
        user.set_client(test);
        driver.set_probe_client(test);
        test
    });
    queue.add("arm-ffa", bus, None).unwrap();
    queue
        .add(
            "optee",
            leak(DriverEntry::new(bus, driver, root_probed)),
            None,
        )
        .unwrap();
    queue.signal(monitor_ready);
    queue.service();
    Optee {
        monitor,
        client,
        bus,
        driver,
        pool,
        alarm,
        requests,
        memory,
        self_test: test,
    }
}

/// Boots on `config`'s model, without the self-test.
pub fn boot(config: FaultConfig) -> Optee {
    boot_with(config, false, |_| {})
}

impl Optee {
    /// Runs deferred calls, and fires the alarm when nothing else is left,
    /// until there is nothing to do. Returns how many turns it took.
    pub fn settle(&self) -> usize {
        for turn in 0..100_000 {
            if testbed::deferred::run_pending() > 0 {
                continue;
            }
            if self.alarm.fire() {
                continue;
            }
            if self.requests.is_some_and(|(_, alarm)| alarm.fire()) {
                continue;
            }
            return turn;
        }
        panic!("the driver never settled");
    }

    /// A user that records its outcomes.
    pub fn user(&self, name: &'static str) -> (&'static OpteeClient<'static>, &'static Recorder) {
        let user = leak(OpteeClient::new(self.driver, name));
        user.join();
        let recorder = leak(Recorder::default());
        user.set_client(recorder);
        (user, recorder)
    }

    /// A user `name` with a session open to the test pseudo TA (REE-kernel
    /// login, no parameters), its recorder emptied.
    pub fn open_test_session(
        &self,
        name: &'static str,
    ) -> (&'static OpteeClient<'static>, &'static Recorder, SessionId) {
        let (user, recorder) = self.user(name);
        user.open_session(TEST_PTA, Login::ReeKernel, NO_PARAMETERS, None)
            .unwrap();
        self.settle();
        match recorder.take().as_slice() {
            [Event::Opened(Ok(session), ..)] => (user, recorder, *session),
            other => panic!("{other:?}"),
        }
    }

    /// The memory transactions the model holds.
    pub fn transactions(&self) -> usize {
        self.monitor.world().memory_transactions().count()
    }
}

/// The parameters of the test pseudo TA's `FILL`: `length` bytes of
/// `seed`'s pattern into the output window `size` bytes long at `offset` of
/// the buffer.
pub fn fill(offset: usize, size: usize, seed: u64, length: u64) -> Parameters {
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::memref(Direction::Output, offset, size);
    parameters[1] = Parameter::value_input(seed, length);
    parameters
}

/// An outcome a user was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Opened(Result<SessionId, TeeError>, Parameters, Option<Vec<u8>>),
    Completed(SessionId, Result<(), TeeError>, Parameters, Option<Vec<u8>>),
    Closed(SessionId, Result<(), TeeError>),
    CancelSent(SessionId, Result<(), TeeError>),
}

/// A user's client that keeps every outcome (and the buffers).
#[derive(Default)]
pub struct Recorder {
    pub events: RefCell<Vec<Event>>,
    pub buffers: RefCell<Vec<&'static mut [u8]>>,
}

impl Recorder {
    /// The outcomes so far, forgotten.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.borrow_mut())
    }

    /// The last buffer given back.
    pub fn buffer(&self) -> Option<&'static mut [u8]> {
        self.buffers.borrow_mut().pop()
    }

    fn keep(&self, buffer: Option<&'static mut [u8]>) -> Option<Vec<u8>> {
        buffer.map(|buffer| {
            let copy = buffer.to_vec();
            self.buffers.borrow_mut().push(buffer);
            copy
        })
    }
}

impl TeeClient for Recorder {
    fn session_opened(
        &self,
        result: Result<SessionId, TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) {
        let bytes = self.keep(buffer);
        self.events
            .borrow_mut()
            .push(Event::Opened(result, parameters, bytes));
    }

    fn command_complete(
        &self,
        session: SessionId,
        result: Result<(), TeeError>,
        parameters: Parameters,
        buffer: Option<&'static mut [u8]>,
    ) {
        let bytes = self.keep(buffer);
        self.events
            .borrow_mut()
            .push(Event::Completed(session, result, parameters, bytes));
    }

    fn session_closed(&self, session: SessionId, result: Result<(), TeeError>) {
        self.events
            .borrow_mut()
            .push(Event::Closed(session, result));
    }

    fn cancel_sent(&self, session: SessionId, result: Result<(), TeeError>) {
        self.events
            .borrow_mut()
            .push(Event::CancelSent(session, result));
    }
}
