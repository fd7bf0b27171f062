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
use crate::error::ClientError;
use crate::memory::{DataAccess, Donated, Lent, MemoryFailure, Receiver, Shared, TransferOptions};
use crate::messaging::DirectMessage;
use crate::partition::PartitionInfo;
use crate::version::NegotiatedVersion;
use core::cell::Cell;
use ffa_abi::Uuid;
use ffa_abi::{FunctionId, PartitionId};
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
    /// Set-up and discovery succeeded; partition devices exist.
    Ready,
    /// Set-up or discovery failed.
    Failed(ClientError),
}

/// What partition drivers and handles need from the bus.
pub(crate) trait BusAccess<'a> {
    fn client(&self) -> &'a FfaClient<'a>;
    fn state(&self) -> RootState;
    fn conditions(&self) -> &'a dyn Queue<'a>;
    fn capacity(&self) -> usize;
    fn device(&self, slot: usize) -> Option<PartitionDevice>;
    fn set_device(&self, slot: usize, device: PartitionDevice);
}

/// The FF-A root device and its table of partition devices (at most `PARTITIONS`).
pub struct FfaBus<'a, const PARTITIONS: usize> {
    client: &'a FfaClient<'a>,
    devices: [Cell<Option<PartitionDevice>>; PARTITIONS],
    state: Cell<RootState>,
    conditions: &'a dyn Queue<'a>,
    prerequisites: Cell<ConditionSet>,
    outcome: Cell<Option<ConditionId>>,
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
        }
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

    /// Unmaps the buffers and removes every partition device. Handles drivers
    /// hold stop working (their requests fail with `NotInitialized`); the init
    /// queue does not probe the root again.
    pub fn teardown(&self) -> Result<(), ClientError> {
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
            RootState::Waiting => {}
        }
        let missing = self.conditions.missing(self.prerequisites.get());
        if !missing.is_empty() {
            return ProbeResult::Defer(missing);
        }
        let result = self.set_up();
        self.signal_outcome();
        match result {
            Ok(count) => {
                self.state.set(RootState::Ready);
                defmt::info!("ffa: root ready, {=usize} partition devices", count);
                self.for_each_device(|slot, device| {
                    defmt::info!(
                        "ffa: arm-ffa-{=usize}: partition {=u16:#06x} uuid {}",
                        slot + 1,
                        device.info.id.raw(),
                        device.info.uuid
                    );
                });
                ProbeResult::Ready
            }
            Err(error) => {
                self.state.set(RootState::Failed(error));
                ProbeResult::Failed(error.into())
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
    /// returns the response; [`ClientError::Unsupported`] if the partition
    /// does not receive this kind of message.
    pub fn direct_request<M: DirectMessage>(&self, message: &M) -> Result<M, ClientError> {
        if !self.supports::<M>() {
            defmt::warn!(
                "ffa: partition {=u16:#06x} does not receive {=str}",
                self.info.id.raw(),
                M::REQUEST.name()
            );
            return Err(ClientError::Unsupported);
        }
        self.bus
            .client()
            .direct_request(self.info.id, self.info.uuid, message)
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
    bound: Cell<usize>,
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
            bound: Cell::new(0),
        }
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
        match self.bus.state() {
            RootState::Ready => {}
            RootState::Waiting => {
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
