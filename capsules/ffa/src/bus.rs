//! The FF-A bus: a root device that sets FF-A up, partition devices as its
//! children, and partition drivers matched to them by UUID.
//!
//! The root ([`FfaBus`]) is an init-queue [`Probe`]: it waits for the board's
//! prerequisite conditions (for example "the secure monitor answers"), then
//! runs the client's core set-up and discovery, records one
//! [`PartitionDevice`] per partition descriptor, and becomes ready; the init
//! queue then signals the condition the board registered it as providing
//! ("ffa-root-ready"). Whether it becomes ready or fails, the root also
//! signals the condition the board gave [`FfaBus::signal_on_outcome`]
//! ("ffa-root-probed"). Each [`PartitionDriver`] is wrapped in a
//! [`DriverEntry`], its own init-queue entry, which defers on that outcome
//! condition and so is probed once the root has succeeded or failed, never
//! before: every driver reports a failed root the same way (failed,
//! `NODEVICE`), whenever it was first probed, and one with no matching
//! partition ends unbound (normal on a real system: not an error). Drivers
//! receive a [`PartitionHandle`]: it reaches their partition only, and only
//! the bus can make one.
//!
//! A transient refusal during set-up or discovery (`BUSY`, `RETRY`,
//! `NOT_READY`) does not fail the root when the board gave it an alarm and
//! a retry condition ([`FfaBus::retry_on`]): the root defers on that
//! condition, the alarm makes the refused step again after the retry
//! policy's back-off (a bounded number of times), and once set-up has an
//! outcome the condition is signalled and the root's next probe reports it.
//!
//! Handles send direct requests split-phase ([`PartitionHandle::send`]:
//! the response through the driver's
//! [`DirectRequestClient`](crate::requests::DirectRequestClient)) when the
//! board gave the bus a request engine ([`FfaBus::set_requests`]); the
//! blocking [`PartitionHandle::direct_request`] stays for boot-time and
//! console use. On a board with several cores, the secondary cores'
//! engines ([`FfaBus::set_core_requests`]) let a driver make a request
//! from any core ([`PartitionHandle::send_on`]): it runs on the
//! partition's execution context for that core ([`crate::per_cpu`]: vCPU 0
//! of a partition with one context, the core's own of one with several; a
//! core the partition has no context for is refused before any call), and
//! no two requests are ever in flight on one core.
//!
//! v1.0 descriptors carry no UUID. As Linux does, such a partition is matched
//! by asking `FFA_PARTITION_INFO_GET` for the driver's UUID and checking
//! whether the partition's ID is among the answers.
//!
//! Boards wire the bus with `components::ffa` (the client, the bus, the
//! root entry) and `components::partition_driver` (one per driver).
//!
//! A driver cannot reach the client (and so other partitions) through its handle:
//!
//! ```compile_fail,E0616
//! use capsule_ffa::bus::PartitionHandle;
//! fn widen<'a>(handle: PartitionHandle<'a>) {
//!     let client = handle.bus.client(); // error: private field of a private trait
//! }
//! ```
//!
//! Nor forge a handle to someone else's partition:
//!
//! ```compile_fail,E0451
//! use capsule_ffa::bus::PartitionHandle;
//! fn forge<'a>(info: capsule_ffa::partition::PartitionInfo) -> PartitionHandle<'a> {
//!     PartitionHandle { bus: todo!(), slot: 0, info }
//! }
//! ```

use crate::client::FfaClient;
use crate::conduit::ReplyRegisters;
use crate::error::ClientError;
use crate::memory::{DataAccess, Donated, Lent, MemoryFailure, Receiver, Shared, TransferOptions};
use crate::messaging::{DirectMessage, Exchange, RetryPolicy, Vcpu};
use crate::notifications::{MessageClient, NotificationClient, NotificationService};
use crate::partition::PartitionInfo;
use crate::per_cpu::{vcpu_on_core, VcpuError};
use crate::requests::{
    DirectRequestClient, RequestState, RequestsIdleClient, SplitPhaseRequests, BOOT_CORE,
};
use crate::version::NegotiatedVersion;
use core::cell::Cell;
use ffa_abi::notification::Bitmap;
use ffa_abi::Uuid;
use ffa_abi::{FunctionId, PartitionId};
use kernel::cells::OptionalCell;
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::init_queue::{ConditionId, ConditionSet, Probe, ProbeResult, Queue};
use kernel::page_pool::Region;
use kernel::ErrorCode;

/// A driver for the partitions that implement one of its UUIDs.
pub trait PartitionDriver<'a> {
    /// The driver's name, for logs and the boot report.
    fn name(&self) -> &'static str;

    /// The partition (service) UUIDs this driver handles.
    fn uuids(&self) -> &'static [Uuid];

    /// Takes charge of the partition behind `handle`. Called from the init
    /// queue, once per matching partition.
    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode>;

    /// Called once the driver is in its final (static) place, before any
    /// bind: a driver that is its own request, notification or message
    /// client keeps a reference to itself here.
    fn setup(&'a self) {}
}

/// Told of every partition the root discovers (measured boot measures
/// their discovery data).
pub trait DiscoveryObserver {
    /// The root discovered `info` as device `arm-ffa-<slot+1>`. Called from
    /// the root's probe, once per device, in discovery order.
    fn partition_discovered(&self, slot: usize, info: &PartitionInfo);
}

/// A partition device: one discovered descriptor, a child of the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PartitionDevice {
    /// What discovery reported (with the UUID filled in once matched, at v1.0).
    pub info: PartitionInfo,
    /// The driver bound to it, if any.
    pub driver: Option<&'static str>,
}

/// Where the root device is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RootState {
    /// Not probed yet, or waiting for the board's prerequisites.
    Waiting,
    /// Set-up was refused for now; it is tried again after a back-off
    /// (this many attempts made so far).
    Retrying(u16),
    /// Set-up and discovery succeeded; partition devices exist.
    Ready,
    /// Set-up or discovery failed.
    Failed(ClientError),
}

/// Told when the bus has no FF-A work under way any more (see [`FfaBus::is_busy`]).
pub trait BusIdleClient {
    /// Set-up is not retrying, no split-phase request is in flight, and no
    /// driver holds work open.
    fn bus_idle(&self);
}

/// What partition drivers and handles need from the bus.
pub(crate) trait BusAccess<'a> {
    fn client(&self) -> &'a FfaClient<'a>;
    fn state(&self) -> RootState;
    fn conditions(&self) -> &'a dyn Queue<'a>;
    fn capacity(&self) -> usize;
    fn device(&self, slot: usize) -> Option<PartitionDevice>;
    fn set_device(&self, slot: usize, device: PartitionDevice);
    fn requests_on(&self, core: usize) -> Option<&'a dyn SplitPhaseRequests<'a>>;
    fn for_each_engine(&self, visit: &mut dyn FnMut(&'a dyn SplitPhaseRequests<'a>));
    fn notifications(&self) -> Option<&'a dyn NotificationService<'a>>;
    fn work_started(&self);
    fn work_finished(&self);
}

/// The FF-A root device and its table of partition devices (at most `PARTITIONS`).
pub struct FfaBus<'a, const PARTITIONS: usize> {
    client: &'a FfaClient<'a>,
    devices: [Cell<Option<PartitionDevice>>; PARTITIONS],
    state: Cell<RootState>,
    conditions: &'a dyn Queue<'a>,
    prerequisites: Cell<ConditionSet>,
    outcome: Cell<Option<ConditionId>>,
    requests: OptionalCell<&'a dyn SplitPhaseRequests<'a>>,
    core_requests: OptionalCell<&'a [Option<&'a dyn SplitPhaseRequests<'a>>]>,
    notifications: OptionalCell<&'a dyn NotificationService<'a>>,
    retry_alarm: OptionalCell<&'a dyn Alarm<'a>>,
    retry_condition: OptionalCell<ConditionId>,
    work: Cell<u16>,
    idle_client: OptionalCell<&'a dyn BusIdleClient>,
    observer: OptionalCell<&'a dyn DiscoveryObserver>,
}

impl<'a, const PARTITIONS: usize> FfaBus<'a, PARTITIONS> {
    /// A root device over `client` that first waits until every condition in
    /// `prerequisites` is signalled on `conditions` (the init queue); an
    /// empty set means probe at once.
    pub fn new(
        client: &'a FfaClient<'a>,
        conditions: &'a dyn Queue<'a>,
        prerequisites: ConditionSet,
    ) -> FfaBus<'a, PARTITIONS> {
        FfaBus {
            client,
            devices: core::array::from_fn(|_| Cell::new(None)),
            state: Cell::new(RootState::Waiting),
            conditions,
            prerequisites: Cell::new(prerequisites),
            outcome: Cell::new(None),
            requests: OptionalCell::empty(),
            core_requests: OptionalCell::empty(),
            notifications: OptionalCell::empty(),
            retry_alarm: OptionalCell::empty(),
            retry_condition: OptionalCell::empty(),
            work: Cell::new(0),
            idle_client: OptionalCell::empty(),
            observer: OptionalCell::empty(),
        }
    }

    /// Tells `observer` of every partition discovered.
    pub fn set_discovery_observer(&self, observer: &'a dyn DiscoveryObserver) {
        self.observer.set(observer);
    }

    /// Sets the client told when the bus has no work under way any more
    /// (boot completion waits for it).
    pub fn set_idle_client(&self, client: &'a dyn BusIdleClient) {
        self.idle_client.set(client);
    }

    fn tell_if_idle(&self) {
        if !self.is_busy() {
            self.idle_client.map(|client| client.bus_idle());
        }
    }

    /// Retries a set-up the callee refused for now on `alarm` (the bus must
    /// be its client), deferring the root on `condition`, which the bus
    /// signals once set-up has an outcome.
    pub fn retry_on(&self, alarm: &'a dyn Alarm<'a>, condition: ConditionId) {
        self.retry_alarm.set(alarm);
        self.retry_condition.set(condition);
    }

    /// The split-phase request engine the handles send through (the boot
    /// core's).
    pub fn set_requests(&self, requests: &'a dyn SplitPhaseRequests<'a>) {
        self.requests.set(requests);
    }

    /// The secondary cores' engines, by core index (the boot core's entry
    /// is ignored: [`FfaBus::set_requests`] gives it; a core without an
    /// engine takes no request).
    pub fn set_core_requests(&self, engines: &'a [Option<&'a dyn SplitPhaseRequests<'a>>]) {
        self.core_requests.set(engines);
    }

    /// Every engine's counters added up (none without an engine).
    pub fn request_counters(&self) -> Option<crate::requests::RequestCounters> {
        let mut total: Option<crate::requests::RequestCounters> = None;
        self.for_each_engine(&mut |engine| {
            let counters = engine.counters();
            let sum = total.get_or_insert_with(Default::default);
            sum.sent += counters.sent;
            sum.answered += counters.answered;
            sum.failed += counters.failed;
            sum.interrupts += counters.interrupts;
            sum.yields += counters.yields;
            sum.backoffs += counters.backoffs;
            sum.core_calls += counters.core_calls;
        });
        total
    }

    /// The engine of core `core`, if the board gave one.
    pub fn requests_on(&self, core: usize) -> Option<&'a dyn SplitPhaseRequests<'a>> {
        if core == BOOT_CORE {
            return self.requests.get();
        }
        self.core_requests
            .get()
            .and_then(|engines| engines.get(core).copied().flatten())
    }

    fn for_each_engine(&self, visit: &mut dyn FnMut(&'a dyn SplitPhaseRequests<'a>)) {
        if let Some(engine) = self.requests.get() {
            visit(engine);
        }
        if let Some(engines) = self.core_requests.get() {
            for (core, engine) in engines.iter().enumerate() {
                if let Some(engine) = engine.filter(|_| core != BOOT_CORE) {
                    visit(engine);
                }
            }
        }
    }

    /// The notification and indirect-message service the handles use.
    pub fn set_notifications(&self, notifications: &'a dyn NotificationService<'a>) {
        self.notifications.set(notifications);
    }

    /// The notification service, if the board gave one.
    pub fn notifications(&self) -> Option<&'a dyn NotificationService<'a>> {
        self.notifications.get()
    }

    /// The split-phase request engine, if the board gave one.
    pub fn requests(&self) -> Option<&'a dyn SplitPhaseRequests<'a>> {
        self.requests.get()
    }

    /// Whether FF-A work is under way that boot should wait for: set-up
    /// retrying, split-phase requests in flight, or work a driver holds
    /// open ([`PartitionHandle::work_started`]).
    pub fn is_busy(&self) -> bool {
        let mut requests_busy = false;
        self.for_each_engine(&mut |engine| requests_busy |= engine.busy());
        matches!(self.state.get(), RootState::Retrying(_)) || requests_busy || self.work.get() > 0
    }

    /// Signals `condition` on the queue once the root's set-up has an
    /// outcome, ready or failed (partition drivers wait on it, so that they
    /// learn either).
    pub fn signal_on_outcome(&self, condition: ConditionId) {
        self.outcome.set(Some(condition));
    }

    /// The condition signalled once the root's set-up has an outcome (see
    /// [`FfaBus::signal_on_outcome`]), if the board gave one.
    pub fn outcome_condition(&self) -> Option<ConditionId> {
        self.outcome.get()
    }

    fn signal_outcome(&self) {
        if let Some(condition) = self.outcome.get() {
            self.conditions.signal(condition);
        }
    }

    /// The conditions the root waits on before it sets FF-A up.
    pub fn prerequisites(&self) -> ConditionSet {
        self.prerequisites.get()
    }

    /// Makes the root also wait on `conditions` (for example the EL2 proxy's
    /// `proxy-finalised`, in protected mode). Call before the root is first
    /// probed: once it has set FF-A up, waiting on more means nothing.
    pub fn require(&self, conditions: ConditionSet) {
        self.prerequisites
            .set(self.prerequisites.get().union(conditions));
    }

    /// The client the bus runs on.
    pub fn client(&self) -> &'a FfaClient<'a> {
        self.client
    }

    /// Sends `message` to `receiver` and returns every register of the
    /// checked response, blocking (the console's `ffa send`, boot-time
    /// tools): [`FfaClient::direct_request_reply`], refused with
    /// [`ClientError::InFlight`] while a split-phase request holds the vCPU,
    /// so that no two requests are ever in flight on it.
    pub fn direct_request_reply<M: DirectMessage>(
        &self,
        receiver: PartitionId,
        service: Uuid,
        message: &M,
    ) -> Result<ReplyRegisters, ClientError> {
        if self.requests().is_some_and(|requests| requests.running()) {
            return Err(ClientError::InFlight);
        }
        self.client.direct_request_reply(receiver, service, message)
    }

    /// The root device's state.
    pub fn state(&self) -> RootState {
        self.state.get()
    }

    /// Whether the root is ready.
    pub fn is_ready(&self) -> bool {
        self.state.get() == RootState::Ready
    }

    /// Calls `visit` with every partition device, in discovery order.
    pub fn for_each_device(&self, mut visit: impl FnMut(usize, &PartitionDevice)) {
        for (slot, cell) in self.devices.iter().enumerate() {
            if let Some(device) = cell.get() {
                visit(slot, &device);
            }
        }
    }

    /// Number of partition devices.
    pub fn device_count(&self) -> usize {
        self.devices
            .iter()
            .filter(|cell| cell.get().is_some())
            .count()
    }

    /// Unmaps the buffers and removes every partition device. Split-phase
    /// requests in flight are cancelled (each driver is told,
    /// [`ClientError::Cancelled`]); handles drivers hold stop working
    /// (their requests fail with `NotInitialized`); the init queue does not
    /// probe the root again.
    pub fn teardown(&self) -> Result<(), ClientError> {
        self.for_each_engine(&mut |engine| engine.cancel_all());
        if let Some(notifications) = self.notifications.get() {
            notifications.teardown();
        }
        for cell in self.devices.iter() {
            cell.set(None);
        }
        self.state.set(RootState::Waiting);
        self.client.teardown()
    }

    fn set_up(&self) -> Result<usize, ClientError> {
        self.client.initialize()?;
        let mut next = 0usize;
        let devices = &self.devices;
        let result = self.client.discover(Uuid::NIL, PARTITIONS, &mut |info| {
            if let Some(cell) = devices.get(next) {
                cell.set(Some(PartitionDevice { info, driver: None }));
                next += 1;
            }
        });
        match result {
            Ok(count) => Ok(count),
            Err(error) if error.is_transient() => {
                // The session stays; discovery is made again later.
                for cell in self.devices.iter() {
                    cell.set(None);
                }
                Err(error)
            }
            Err(error) => {
                defmt::error!("ffa: partition discovery failed: {}", error);
                for cell in self.devices.iter() {
                    cell.set(None);
                }
                if let Err(unmap) = self.client.teardown() {
                    defmt::warn!("ffa: teardown after failed discovery: {}", unmap);
                }
                Err(error)
            }
        }
    }
}

impl<const PARTITIONS: usize> Probe for FfaBus<'_, PARTITIONS> {
    fn probe(&self) -> ProbeResult {
        match self.state.get() {
            RootState::Ready => return ProbeResult::Ready,
            RootState::Failed(error) => return ProbeResult::Failed(error.into()),
            RootState::Retrying(_) => {
                return match self.retry_condition.get() {
                    Some(condition) => ProbeResult::Defer(ConditionSet::of(condition)),
                    None => ProbeResult::Failed(ErrorCode::FAIL),
                }
            }
            RootState::Waiting => {}
        }
        let missing = self.conditions.missing(self.prerequisites.get());
        if !missing.is_empty() {
            return ProbeResult::Defer(missing);
        }
        match self.attempt(0) {
            RootState::Ready => ProbeResult::Ready,
            RootState::Failed(error) => ProbeResult::Failed(error.into()),
            _ => match self.retry_condition.get() {
                Some(condition) => ProbeResult::Defer(ConditionSet::of(condition)),
                None => ProbeResult::Failed(ErrorCode::FAIL),
            },
        }
    }
}

impl<const PARTITIONS: usize> FfaBus<'_, PARTITIONS> {
    /// Set-up attempt number `attempt` (from 0): the state it leaves the root in.
    fn attempt(&self, attempt: u16) -> RootState {
        let state = match self.set_up() {
            Ok(count) => {
                defmt::info!("ffa: root ready, {=usize} partition devices", count);
                self.for_each_device(|slot, device| {
                    defmt::info!(
                        "ffa: arm-ffa-{=usize}: partition {=u16:#06x} uuid {}",
                        slot + 1,
                        device.info.id.raw(),
                        device.info.uuid
                    );
                });
                self.observer.map(|observer| {
                    self.for_each_device(|slot, device| {
                        observer.partition_discovered(slot, &device.info)
                    })
                });
                RootState::Ready
            }
            Err(error) if error.is_transient() => {
                let policy = self.client.config().retry;
                match self.retry_alarm.get() {
                    Some(alarm) if attempt < policy.busy_retries => {
                        let wait_us = policy.backoff.delay_us(attempt);
                        defmt::warn!(
                            "ffa: set-up refused for now ({}); trying again in {=u64} us (retry {=u16} of {=u16})",
                            error,
                            wait_us,
                            attempt + 1,
                            policy.busy_retries
                        );
                        alarm.set_alarm(alarm.now(), alarm.ticks_from_us(wait_us));
                        RootState::Retrying(attempt + 1)
                    }
                    _ => {
                        defmt::error!(
                            "ffa: set-up still refused ({}) after {=u16} retries",
                            error,
                            attempt
                        );
                        RootState::Failed(ClientError::RetriesExhausted)
                    }
                }
            }
            Err(error) => RootState::Failed(error),
        };
        self.state.set(state);
        if !matches!(state, RootState::Retrying(_)) {
            self.signal_outcome();
        }
        state
    }
}

impl<const PARTITIONS: usize> AlarmClient for FfaBus<'_, PARTITIONS> {
    fn alarm(&self) {
        let RootState::Retrying(attempt) = self.state.get() else {
            return;
        };
        if !matches!(self.attempt(attempt), RootState::Retrying(_)) {
            if let Some(condition) = self.retry_condition.get() {
                self.conditions.signal(condition);
            }
        }
    }
}

impl<'a, const PARTITIONS: usize> BusAccess<'a> for FfaBus<'a, PARTITIONS> {
    fn client(&self) -> &'a FfaClient<'a> {
        self.client
    }

    fn state(&self) -> RootState {
        self.state.get()
    }

    fn conditions(&self) -> &'a dyn Queue<'a> {
        self.conditions
    }

    fn capacity(&self) -> usize {
        PARTITIONS
    }

    fn device(&self, slot: usize) -> Option<PartitionDevice> {
        self.devices.get(slot).and_then(Cell::get)
    }

    fn set_device(&self, slot: usize, device: PartitionDevice) {
        if let Some(cell) = self.devices.get(slot) {
            cell.set(Some(device));
        }
    }

    fn requests_on(&self, core: usize) -> Option<&'a dyn SplitPhaseRequests<'a>> {
        FfaBus::requests_on(self, core)
    }

    fn for_each_engine(&self, visit: &mut dyn FnMut(&'a dyn SplitPhaseRequests<'a>)) {
        FfaBus::for_each_engine(self, visit)
    }

    fn notifications(&self) -> Option<&'a dyn NotificationService<'a>> {
        self.notifications.get()
    }

    fn work_started(&self) {
        self.work.set(self.work.get().saturating_add(1));
    }

    fn work_finished(&self) {
        self.work.set(self.work.get().saturating_sub(1));
        self.tell_if_idle();
    }
}

impl<const PARTITIONS: usize> RequestsIdleClient for FfaBus<'_, PARTITIONS> {
    fn requests_idle(&self) {
        self.tell_if_idle();
    }
}

/// A driver's narrow view of its own partition. Only the bus creates one.
#[derive(Clone, Copy)]
pub struct PartitionHandle<'a> {
    bus: &'a dyn BusAccess<'a>,
    slot: usize,
    info: PartitionInfo,
}

impl<'a> PartitionHandle<'a> {
    /// What discovery reported about the partition.
    pub fn info(&self) -> PartitionInfo {
        self.info
    }

    /// The partition's ID.
    pub fn id(&self) -> PartitionId {
        self.info.id
    }

    /// The partition's UUID (the one the driver matched).
    pub fn uuid(&self) -> Uuid {
        self.info.uuid
    }

    /// The device slot on the bus (`arm-ffa-<slot+1>`).
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The negotiated FF-A version.
    pub fn version(&self) -> Option<NegotiatedVersion> {
        self.bus.client().session().map(|session| session.version)
    }

    /// Whether `DIRECT_REQ2` can reach this partition: v1.2, offered by the
    /// callee, and the partition receives it.
    pub fn supports_direct_request_2(&self) -> bool {
        self.bus.client().session().is_some_and(|session| {
            session.offers_direct_request_2() && self.info.properties.receives_direct_requests_2()
        })
    }

    /// Whether indirect messages can reach this partition: v1.1, the
    /// callee offers `FFA_MSG_SEND2`, and the partition has the property.
    pub fn supports_indirect_messages(&self) -> bool {
        self.bus.client().session().is_some_and(|session| {
            session
                .version
                .at_least(crate::version::SupportedVersion::V1_1)
                && session.features.indirect_messaging
                && self.info.properties.indirect_messaging()
        })
    }

    /// Whether 64-bit direct requests can reach this partition.
    pub fn supports_direct_request_64(&self) -> bool {
        self.info.properties.receives_direct_requests()
            && self.info.properties.accepts_64_bit_requests()
    }

    /// Whether messages of kind `M` can reach this partition.
    pub fn supports<M: DirectMessage>(&self) -> bool {
        match M::REQUEST {
            FunctionId::DirectRequest2 => self.supports_direct_request_2(),
            FunctionId::DirectRequest64 => self.supports_direct_request_64(),
            _ => self.info.properties.receives_direct_requests(),
        }
    }

    /// Sends `message` to this partition (to its UUID, for a `REQ2`) and
    /// returns the response, blocking (for boot-time and console use; see
    /// [`crate::messaging::direct_request`]); [`ClientError::Unsupported`]
    /// if the partition does not receive this kind of message,
    /// [`ClientError::InFlight`] while a split-phase request runs on the vCPU.
    pub fn direct_request<M: DirectMessage>(&self, message: &M) -> Result<M, ClientError> {
        self.check_supports::<M>()?;
        if self
            .bus
            .requests_on(BOOT_CORE)
            .is_some_and(|requests| requests.running())
        {
            return Err(ClientError::InFlight);
        }
        self.bus
            .client()
            .direct_request(self.info.id, self.info.uuid, message)
    }

    fn check_supports<M: DirectMessage>(&self) -> Result<(), ClientError> {
        if !self.supports::<M>() {
            defmt::warn!(
                "ffa: partition {=u16:#06x} does not receive {=str}",
                self.info.id.raw(),
                M::REQUEST.name()
            );
            return Err(ClientError::Unsupported);
        }
        Ok(())
    }

    /// Sets the driver told of the outcome of this handle's split-phase
    /// requests, from every core that has an engine. `OFF` if the board
    /// gave the bus no request engine.
    pub fn set_request_client(&self, client: &'a dyn DirectRequestClient) -> Result<(), ErrorCode> {
        self.bus.requests_on(BOOT_CORE).ok_or(ErrorCode::OFF)?;
        self.bus
            .for_each_engine(&mut |engine| engine.set_client(self.slot, client));
        Ok(())
    }

    /// Sends `message` to this partition split-phase, from the boot core:
    /// [`PartitionHandle::send_on`] the boot core.
    pub fn send<M: DirectMessage>(&self, message: &M) -> Result<(), ErrorCode> {
        self.send_on(BOOT_CORE, message)
    }

    /// Sends `message` to this partition split-phase from core `core`, on
    /// the partition's execution context for that core: returns at once,
    /// and the response arrives through the handle's request client (with
    /// the core), never from inside this call. `BUSY` while the handle has
    /// a request in flight on that core; `NOSUPPORT` if the partition does
    /// not receive this kind of message; `INVAL` if the partition has no
    /// execution context for the core (logged) or the core has no engine;
    /// `OFF` without a request engine, a client, or a session.
    pub fn send_on<M: DirectMessage>(&self, core: usize, message: &M) -> Result<(), ErrorCode> {
        self.send_on_with(core, message, &self.retry_policy())
    }

    /// The retry policy requests run under unless the driver gives its own
    /// (the client's, chosen by the board).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.bus.client().config().retry
    }

    /// [`PartitionHandle::send_on`] under `policy` instead of the client's:
    /// for a request whose partition is known to be preempted often (long
    /// work, preempted by every interrupt of this world), so that its
    /// bound on resumptions fits the work.
    pub fn send_on_with<M: DirectMessage>(
        &self,
        core: usize,
        message: &M,
        policy: &RetryPolicy,
    ) -> Result<(), ErrorCode> {
        let requests = self.bus.requests_on(core).ok_or(if core == BOOT_CORE {
            ErrorCode::OFF
        } else {
            ErrorCode::INVAL
        })?;
        self.check_supports::<M>().map_err(ErrorCode::from)?;
        let vcpu = self.vcpu_on(core).map_err(ErrorCode::from)?;
        let client = self.bus.client();
        let session = client.session().ok_or(ErrorCode::OFF)?;
        if M::REQUEST == FunctionId::DirectRequest2 && !session.offers_direct_request_2() {
            return Err(ErrorCode::NOSUPPORT);
        }
        let request = message.encode(session.own_id, self.info.id, self.info.uuid);
        let exchange = Exchange::new::<M>(policy, session.own_id, self.info.id, Vcpu(vcpu));
        requests.send(self.slot, request, exchange)
    }

    /// The partition's execution context (vCPU) that runs requests made
    /// from core `core`; a core it has none for is an error, logged.
    pub fn vcpu_on(&self, core: usize) -> Result<u16, ClientError> {
        vcpu_on_core(&self.info, core).map_err(|error| {
            let contexts = self.info.execution_contexts().unwrap_or(0);
            match error {
                VcpuError::NoContextForCore { .. } => defmt::error!(
                    "ffa: partition {=u16:#06x} has {=u16} execution contexts: none for cpu{=usize}; request refused",
                    self.info.id.raw(),
                    contexts,
                    core
                ),
                other => defmt::error!(
                    "ffa: partition {=u16:#06x}: no execution context for cpu{=usize} ({}); request refused",
                    self.info.id.raw(),
                    core,
                    other
                ),
            }
            ClientError::NoExecutionContext {
                partition: self.info.id,
                core,
                contexts,
            }
        })
    }

    fn notification_service(&self) -> Result<&'a dyn NotificationService<'a>, ClientError> {
        self.bus.notifications().ok_or(ClientError::Unsupported)
    }

    /// Binds this endpoint's notifications `bitmap` to this partition (the
    /// only sender allowed to set them): `client` is told when they arrive.
    /// Per-vCPU ones arrive with their vCPU.
    pub fn bind_notifications(
        &self,
        bitmap: Bitmap,
        per_vcpu: bool,
        client: &'a dyn NotificationClient,
    ) -> Result<(), ClientError> {
        self.notification_service()?
            .bind(&self.info, bitmap, per_vcpu, client)
    }

    /// Gives back notifications `bitmap` bound to this partition.
    pub fn unbind_notifications(&self, bitmap: Bitmap) -> Result<(), ClientError> {
        self.notification_service()?.unbind(self.info.id, bitmap)
    }

    /// Sets this partition's notifications `bitmap` (for its `vcpu`, if
    /// they are per-vCPU).
    pub fn set_notifications(&self, bitmap: Bitmap, vcpu: Option<u16>) -> Result<(), ClientError> {
        self.notification_service()?.set(&self.info, bitmap, vcpu)
    }

    /// Sets the driver told of this partition's indirect messages.
    pub fn set_message_client(&self, client: &'a dyn MessageClient) -> Result<(), ClientError> {
        self.notification_service()?
            .set_message_client(self.info.id, client)
    }

    /// Sends `payload` to this partition as an indirect message
    /// (`FFA_MSG_SEND2`, with the header of the negotiated version; from
    /// v1.2 it names the partition's UUID).
    pub fn send_message(&self, payload: &[u8]) -> Result<(), ClientError> {
        self.notification_service()?
            .send_message(&self.info, payload)
    }

    /// Holds the bus busy (boot completion waits) until the matching
    /// [`PartitionHandle::work_finished`]: for work a driver waits on that
    /// is not a request (a notification, an indirect message).
    pub fn work_started(&self) {
        self.bus.work_started();
    }

    /// Ends what [`PartitionHandle::work_started`] began.
    pub fn work_finished(&self) {
        self.bus.work_finished();
    }

    /// Where this handle's split-phase request (from the boot core) is.
    pub fn request_state(&self) -> RequestState {
        self.request_state_on(BOOT_CORE)
    }

    /// Where this handle's split-phase request from core `core` is.
    pub fn request_state_on(&self, core: usize) -> RequestState {
        self.bus
            .requests_on(core)
            .map_or(RequestState::Idle, |requests| requests.state(self.slot))
    }
}

/// Memory operations: the partition is the only receiver a driver can name.
impl<'a> PartitionHandle<'a> {
    /// Shares `region` with this partition, with `access` to it; the kernel
    /// keeps access (see [`crate::memory`]).
    pub fn share(
        &self,
        region: Region<'a>,
        access: DataAccess,
        options: &TransferOptions,
    ) -> Result<Shared<'a>, MemoryFailure<'a>> {
        let receivers = [Receiver::new(self.info.id, access)];
        self.bus.client().share(region, &receivers, options)
    }

    /// Lends `region` to this partition, with `access` to it; the kernel
    /// has none until it reclaims the region.
    pub fn lend(
        &self,
        region: Region<'a>,
        access: DataAccess,
        options: &TransferOptions,
    ) -> Result<Lent<'a>, MemoryFailure<'a>> {
        let receivers = [Receiver::new(self.info.id, access)];
        self.bus.client().lend(region, &receivers, options)
    }

    /// Donates `region` to this partition: its pages leave the kernel for good.
    pub fn donate(
        &self,
        region: Region<'a>,
        options: &TransferOptions,
    ) -> Result<Donated, MemoryFailure<'a>> {
        let receiver = Receiver::new(self.info.id, DataAccess::Unspecified);
        self.bus.client().donate(region, receiver, options)
    }
}

/// A partition driver's init-queue entry: defers until the root's set-up
/// has an outcome, then binds the driver to every unbound partition it
/// matches. No matching partition: [`ProbeResult::Unbound`]; a failed root:
/// failed, `NODEVICE`.
pub struct DriverEntry<'a> {
    bus: &'a dyn BusAccess<'a>,
    driver: &'a dyn PartitionDriver<'a>,
    root_outcome: ConditionId,
    after: Cell<ConditionSet>,
    bound: Cell<usize>,
    outcome: Cell<Option<ConditionId>>,
}

impl<'a> DriverEntry<'a> {
    /// An entry for `driver` on `bus`; `root_outcome` is the condition the
    /// root signals once its set-up succeeded or failed
    /// ([`FfaBus::signal_on_outcome`]).
    pub fn new<const PARTITIONS: usize>(
        bus: &'a FfaBus<'a, PARTITIONS>,
        driver: &'a dyn PartitionDriver<'a>,
        root_outcome: ConditionId,
    ) -> DriverEntry<'a> {
        DriverEntry {
            bus,
            driver,
            root_outcome,
            after: Cell::new(ConditionSet::empty()),
            bound: Cell::new(0),
            outcome: Cell::new(None),
        }
    }

    /// Makes the entry also wait for `conditions` before it binds (the
    /// board's: for a driver that uses the secondary cores, their
    /// `cpuN-online`).
    pub fn also_after(&self, conditions: ConditionSet) {
        self.after.set(self.after.get().union(conditions));
    }

    /// Signals `condition` once the entry has an outcome: bound, unbound or
    /// failed (what depends on the driver waits on it, so it learns either).
    pub fn signal_on_outcome(&self, condition: ConditionId) {
        self.outcome.set(Some(condition));
    }

    /// How many partitions the driver is bound to.
    pub fn bound(&self) -> usize {
        self.bound.get()
    }

    /// Whether a v1.0 partition with no UUID in its descriptor implements `uuid`:
    /// ask `FFA_PARTITION_INFO_GET` for `uuid` and look for the partition's ID.
    fn provides(&self, id: PartitionId, uuid: Uuid) -> bool {
        let mut found = false;
        let result = self
            .bus
            .client()
            .discover(uuid, self.bus.capacity(), &mut |info| {
                found |= info.id == id
            });
        match result {
            Ok(_) => found,
            Err(error) => {
                defmt::debug!(
                    "ffa: no partition for the driver's UUID {}: {}",
                    uuid,
                    error
                );
                false
            }
        }
    }

    /// The driver UUID this device matches, resolving nil UUIDs (v1.0) on the way.
    fn matching_uuid(&self, device: &PartitionDevice) -> Option<Uuid> {
        let uuids = self.driver.uuids();
        if device.info.uuid.is_nil() {
            uuids
                .iter()
                .copied()
                .find(|uuid| !uuid.is_nil() && self.provides(device.info.id, *uuid))
        } else {
            uuids.iter().copied().find(|uuid| *uuid == device.info.uuid)
        }
    }
}

impl Probe for DriverEntry<'_> {
    fn probe(&self) -> ProbeResult {
        let result = self.bind_matching();
        if !matches!(result, ProbeResult::Defer(_)) {
            if let Some(condition) = self.outcome.get() {
                self.bus.conditions().signal(condition);
            }
        }
        result
    }
}

impl DriverEntry<'_> {
    /// Binds the driver to every unbound partition it matches, once the
    /// root has an outcome.
    fn bind_matching(&self) -> ProbeResult {
        match self.bus.state() {
            RootState::Ready => {}
            RootState::Waiting | RootState::Retrying(_) => {
                if self.bus.conditions().is_signalled(self.root_outcome) {
                    defmt::error!(
                        "ffa: {=str}: the root's outcome is signalled but the root has none",
                        self.driver.name()
                    );
                    return ProbeResult::Failed(ErrorCode::NODEVICE);
                }
                return ProbeResult::Defer(ConditionSet::of(self.root_outcome));
            }
            RootState::Failed(error) => {
                defmt::warn!(
                    "ffa: {=str} not bound: the FF-A root failed ({})",
                    self.driver.name(),
                    error
                );
                return ProbeResult::Failed(ErrorCode::NODEVICE);
            }
        }
        let missing = self.bus.conditions().missing(self.after.get());
        if !missing.is_empty() {
            return ProbeResult::Defer(missing);
        }
        let mut last_error = None;
        for slot in 0..self.bus.capacity() {
            let Some(mut device) = self.bus.device(slot) else {
                continue;
            };
            if device.driver.is_some() {
                continue;
            }
            let Some(uuid) = self.matching_uuid(&device) else {
                continue;
            };
            device.info.uuid = uuid;
            let handle = PartitionHandle {
                bus: self.bus,
                slot,
                info: device.info,
            };
            match self.driver.bind(handle) {
                Ok(()) => {
                    device.driver = Some(self.driver.name());
                    self.bound.set(self.bound.get() + 1);
                    defmt::info!(
                        "ffa: {=str} bound to partition {=u16:#06x}",
                        self.driver.name(),
                        device.info.id.raw()
                    );
                }
                Err(error) => {
                    defmt::error!(
                        "ffa: {=str} failed to bind partition {=u16:#06x}: {}",
                        self.driver.name(),
                        device.info.id.raw(),
                        error
                    );
                    last_error = Some(error);
                }
            }
            self.bus.set_device(slot, device);
        }
        if self.bound.get() > 0 {
            ProbeResult::Ready
        } else if let Some(error) = last_error {
            ProbeResult::Failed(error)
        } else {
            defmt::info!(
                "ffa: {=str} unbound: no partition implements its UUIDs",
                self.driver.name()
            );
            ProbeResult::Unbound
        }
    }
}
