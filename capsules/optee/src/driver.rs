//! The OP-TEE partition driver: probe, shared memory, and the calls of
//! every user, run slot by slot from a deferred call.
//!
//! ## Probe ([`OpteeDriver::bind`])
//!
//! As Linux's `optee_ffa_probe`: `GET_API_VERSION` (a major other than 1
//! is refused: not driven), `GET_OS_VERSION` (logged with the build ID),
//! `EXCHANGE_CAPABILITIES` (the RPC parameter count OP-TEE wants reserved,
//! the capability bits), then one page of the kernel's page pool shared
//! with OP-TEE (`FFA_MEM_SHARE`, read-write) for the argument structs: cut
//! into one entry per call slot when OP-TEE grants `ARG_OFFSET`, else one
//! entry. If the share is refused (an SPMC or EL2 proxy without
//! `FFA_MEM_SHARE` answers `NOT_SUPPORTED`), OP-TEE's versions are known but
//! it cannot be driven: the driver says so (and, blocking, does not bind;
//! see Messaging). Once probed it enumerates devices ([`crate::enumeration`]) through its own user, holding
//! the bus busy until that is over so the boot report includes them.
//!
//! ## Calls
//!
//! Users ([`crate::client::OpteeClient`], one per capsule) queue one
//! operation each; the driver's deferred call starts queued operations in
//! free call slots (writing the argument struct into the slot's entry, and
//! sharing a bounce region of the pool for memory references), then makes
//! one exchange with OP-TEE per turn for a slot that has one to make:
//!
//! | OP-TEE's answer | the slot |
//! |---|---|
//! | done (w4 = 0) | results read back (and checked), outputs copied to the user's buffer, the bounce region unregistered and reclaimed; the user's callback |
//! | RPC (w4 = 1) | served ([`crate::rpc`]) and resumed, or asleep until the alarm (suspend, a wait-queue wait) or a wake-up from another slot |
//! | interrupt (w4 = 2) | resumed on the next turn (the main loop serves interrupts first) |
//! | w3 = `TEE_ERROR_BUSY` | every OP-TEE thread is taken: tried again when another call ends, or after a back-off, [`MAXIMUM_BUSY_TRIES`] times |
//! | any other w3 | failed with that code (origin: communication) |
//!
//! Every loop is bounded: RPCs and interrupts per call, busy retries, sleep
//! and wait lengths.
//!
//! ## Messaging
//!
//! Every call of OP-TEE's ABI (the probe's, a slot's yielding call or
//! resumption, an `UNREGISTER_SHM`) goes through one function,
//! `OpteeDriver::exchange`, and its answer comes back to one,
//! `OpteeDriver::on_exchange`, which knows what it was for. The driver has
//! at most one exchange in flight (the FF-A bus allows one split-phase
//! request per handle). When the board gave the bus a request engine (as
//! qemu-virt does), an exchange is a split-phase `FFA_MSG_SEND_DIRECT_REQ`
//! ([`PartitionHandle::send`]) and the answer arrives through
//! [`DirectRequestClient::response`], from a deferred call: the probe
//! itself runs that way, so `bind` returns at once (holding the bus busy
//! until the probe is over, so the boot report includes it) and a probe
//! that fails later leaves the driver bound but not driven, said in the log
//! and the report. Without an engine the exchange is the client's blocking
//! direct request, the answer handled at once, and the probe runs inside
//! `bind`, which then fails if the probe does.

use core::cell::Cell;

use capsule_ffa::bus::{PartitionDriver, PartitionHandle};
use capsule_ffa::error::ClientError;
use capsule_ffa::memory::{DataAccess, MemoryFailure, Shared, TransferOptions};
use capsule_ffa::messaging::{AnyDirectMessage, DirectMessage32};
use capsule_ffa::requests::DirectRequestClient;
use ffa_abi::optee::message::{Header, RawParameter, FMEM_NULL_HANDLE, MAXIMUM_PARAMETERS};
use ffa_abi::optee::{attribute, command, login, origin, TeeResult, OPTEE_UUID};
use ffa_abi::{PartitionId, Uuid};
use kernel::cells::{MapCell, OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::page_pool::PAGE_SIZE;
use kernel::hil::tee::{
    Direction, Login, Origin, Parameter, Parameters, SessionId, TaUuid, TeeError,
};
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::page_pool::PagePool;
use kernel::ErrorCode;

use crate::abi::{self, ApiVersion, Capabilities, OsVersion, YieldingOutcome, YieldingReply};
use crate::client::{OpteeClient, Outcome, Request};
use crate::message::{self, ArgumentLayout, Outgoing};
use crate::rpc::{self, RpcAction};

/// Calls in flight at once (each with its entry in the argument page).
pub const CALL_SLOTS: usize = 4;
/// The largest buffer a user's memory references may span.
pub const MAXIMUM_PAYLOAD: usize = 64 * 1024;
/// Shared-memory allocations OP-TEE may hold through RPCs at once.
pub const RPC_ALLOCATIONS: usize = 4;
/// Regions whose reclaim failed, kept to try again.
pub const PENDING_RECLAIMS: usize = 4;
/// Times a region whose reclaim keeps failing is tried again before its
/// pages are given up (they stay out of the pool, logged).
pub const RECLAIM_ATTEMPTS: u8 = 4;
/// RPCs one call may ask for.
pub const MAXIMUM_RPCS_PER_CALL: u16 = 64;
/// Foreign interrupts one call may be preempted by.
pub const MAXIMUM_INTERRUPTS_PER_CALL: u16 = 64;
/// Times a call OP-TEE refused with `TEE_ERROR_BUSY` is tried.
pub const MAXIMUM_BUSY_TRIES: u16 = 8;
/// The longest an RPC suspend sleeps, in milliseconds (longer ones are cut).
pub const MAXIMUM_SLEEP_MS: u64 = 5_000;
/// The longest a wait-queue wait lasts, in milliseconds (0 "forever" included).
pub const MAXIMUM_WAIT_MS: u64 = 5_000;
/// Back-off after `TEE_ERROR_BUSY`, doubling from this, in milliseconds.
pub const BUSY_BACKOFF_MS: u64 = 2;

/// What probing learnt about OP-TEE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct OpteeInfo {
    /// OP-TEE's partition.
    pub partition: PartitionId,
    /// Its FF-A ABI version.
    pub api: ApiVersion,
    /// Its own version and build.
    pub os: OsVersion,
    /// What it exchanged (absent if it refused).
    pub capabilities: Option<Capabilities>,
    /// The argument page's layout (absent until shared).
    pub layout: Option<ArgumentLayout>,
    /// The argument page's memory handle.
    pub argument_handle: Option<u64>,
}

/// Why OP-TEE answered but cannot be driven.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum NotDriven {
    /// A call at probe failed.
    Transport(ClientError),
    /// Its ABI major version is not 1.
    IncompatibleApi(ApiVersion),
    /// `EXCHANGE_CAPABILITIES` failed with this TEE result.
    CapabilitiesRefused(TeeResult),
    /// `EXCHANGE_CAPABILITIES` answered something unusable.
    CapabilitiesMalformed(abi::ReplyError),
    /// The page pool had no page for the argument structs.
    NoMemory(ErrorCode),
    /// Sharing the argument page was refused.
    MemorySharingRefused(ClientError),
}

/// Where the driver is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DriverState {
    /// No OP-TEE bound.
    Unbound,
    /// Bound, the probe's calls under way (split-phase).
    Probing,
    /// Bound: calls can be made.
    Ready,
    /// OP-TEE answered, but cannot be driven.
    NotDriven(NotDriven),
}

/// How device enumeration went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum EnumerationState {
    /// Not started.
    NotRun,
    /// Under way.
    Running,
    /// Done: this many devices listed (possibly 0).
    Listed(usize),
    /// OP-TEE lists more devices than the driver keeps room for.
    TooMany(usize),
    /// It failed.
    Failed(TeeError),
}

/// The most devices the driver keeps.
pub const MAXIMUM_DEVICES: usize = 16;

/// Told when probing (device enumeration included) is over.
pub trait ProbeClient {
    /// The driver's state once probing is over.
    fn probed(&self, state: DriverState);
}

/// What the driver did, for tests and the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct Counters {
    /// Calls started.
    pub calls: u32,
    /// RPCs served.
    pub rpcs: u32,
    /// `TEE_ERROR_BUSY` answers tried again.
    pub busy_retries: u32,
    /// Foreign interrupts resumed after.
    pub interrupts: u32,
    /// Regions shared with OP-TEE (argument page, bounce regions, RPC allocations).
    pub shares: u32,
    /// Regions reclaimed.
    pub reclaims: u32,
    /// Regions given up (their pages stay out of the pool).
    pub abandoned: u32,
}

/// What a slot sends next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    WithArgument,
    Resume(u32),
    /// `UNREGISTER_SHM` of the slot's region being released, then
    /// `FFA_MEM_RECLAIM`, then `After`.
    Unregister(After),
}

/// What follows the release of a slot's region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// The call is over: its outcome goes to the user.
    Complete,
    /// An RPC `SHM_FREE`: answered, and OP-TEE's thread resumed.
    AnswerRpc(u32),
}

/// A call of the probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProbeStep {
    ApiVersion,
    OsVersion,
    Capabilities,
}

/// What the exchange in flight is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Probe(ProbeStep),
    Slot(usize, Next),
    /// `UNREGISTER_SHM` before the kept region in this cell is reclaimed again.
    Retry(usize),
}

/// Where a call slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    /// An exchange is due.
    Ready(Next),
    /// Its exchange is in flight.
    InFlight,
    /// OP-TEE was busy: try again at `until` (or when another call ends).
    BackingOff {
        until: u64,
    },
    /// An RPC suspend: resume `thread` at `until`.
    Sleeping {
        thread: u32,
        until: u64,
    },
    /// A wait-queue wait on `key`: resume `thread` when it is sent, or at `until`.
    Waiting {
        thread: u32,
        key: u32,
        until: u64,
    },
    /// Over; the user's callback is due.
    Completed,
}

/// One call in flight.
struct CallSlot<'a> {
    user: OptionalCell<&'a OpteeClient<'a>>,
    request: OptionalCell<Request>,
    state: Cell<SlotState>,
    outgoing: OptionalCell<Outgoing>,
    /// The user's parameters (windows of the user's buffer).
    parameters: Cell<Parameters>,
    payload: MapCell<Shared<'a>>,
    /// A region on its way back (`Next::Unregister`).
    releasing: MapCell<Shared<'a>>,
    buffer: TakeCell<'static, [u8]>,
    outcome: OptionalCell<Outcome>,
    rpcs: Cell<u16>,
    interrupts: Cell<u16>,
    busy_tries: Cell<u16>,
}

impl CallSlot<'_> {
    const fn new() -> Self {
        CallSlot {
            user: OptionalCell::empty(),
            request: OptionalCell::empty(),
            state: Cell::new(SlotState::Free),
            outgoing: OptionalCell::empty(),
            parameters: Cell::new(kernel::hil::tee::NO_PARAMETERS),
            payload: MapCell::empty(),
            releasing: MapCell::empty(),
            buffer: TakeCell::empty(),
            outcome: OptionalCell::empty(),
            rpcs: Cell::new(0),
            interrupts: Cell::new(0),
            busy_tries: Cell::new(0),
        }
    }
}

/// Memory OP-TEE asked for through an RPC.
struct Allocation<'a> {
    shared: Shared<'a>,
    kind: u64,
}

/// A region whose reclaim failed, and how often it was tried.
struct PendingReclaim<'a> {
    shared: Shared<'a>,
    attempts: u8,
}

/// The OP-TEE driver.
pub struct OpteeDriver<'a> {
    pool: &'a PagePool<'a>,
    alarm: &'a dyn Alarm<'a>,
    deferred_call: DeferredCall,
    handle: OptionalCell<PartitionHandle<'a>>,
    /// The driver itself, as its handle's request client (set by `setup`).
    as_client: OptionalCell<&'a dyn DirectRequestClient>,
    /// Exchanges are split-phase (the bus has a request engine).
    split_phase: Cell<bool>,
    /// The exchange in flight.
    in_flight: OptionalCell<Purpose>,
    /// The probe holds the bus busy.
    probe_work: Cell<bool>,
    state: Cell<DriverState>,
    info: OptionalCell<OpteeInfo>,
    arguments: MapCell<Shared<'a>>,
    slots: [CallSlot<'a>; CALL_SLOTS],
    next_slot: Cell<usize>,
    next_cancel_id: Cell<u32>,
    users: OptionalCell<&'a OpteeClient<'a>>,
    allocations: [MapCell<Allocation<'a>>; RPC_ALLOCATIONS],
    pending_reclaims: [MapCell<PendingReclaim<'a>>; PENDING_RECLAIMS],
    /// A call ended since the kept reclaims were last tried.
    reclaims_due: Cell<bool>,
    /// Kept reclaims to try again this round (bit per cell).
    retry_mask: Cell<u8>,
    /// Probing ended without enumeration: the probe client is still to be told.
    probe_due: Cell<bool>,
    /// Wait-queue keys sent before anyone waited on them (bit per key).
    notifications: [Cell<u64>; 4],
    counters: Cell<Counters>,
    devices: Cell<[TaUuid; MAXIMUM_DEVICES]>,
    enumeration: Cell<EnumerationState>,
    enumerator: OptionalCell<&'a crate::enumeration::Enumeration<'a>>,
    probe_client: OptionalCell<&'a dyn ProbeClient>,
}

static OPTEE_UUIDS: [Uuid; 1] = [OPTEE_UUID];

impl<'a> OpteeDriver<'a> {
    /// A driver sharing pages of `pool`, waiting on `alarm` (its own
    /// virtual alarm: make the driver its client). Register the deferred
    /// call once the driver is in its final place.
    pub fn new(pool: &'a PagePool<'a>, alarm: &'a dyn Alarm<'a>) -> OpteeDriver<'a> {
        OpteeDriver {
            pool,
            alarm,
            deferred_call: DeferredCall::new(),
            handle: OptionalCell::empty(),
            as_client: OptionalCell::empty(),
            split_phase: Cell::new(false),
            in_flight: OptionalCell::empty(),
            probe_work: Cell::new(false),
            state: Cell::new(DriverState::Unbound),
            info: OptionalCell::empty(),
            arguments: MapCell::empty(),
            slots: [const { CallSlot::new() }; CALL_SLOTS],
            next_slot: Cell::new(0),
            next_cancel_id: Cell::new(1),
            users: OptionalCell::empty(),
            allocations: [const { MapCell::empty() }; RPC_ALLOCATIONS],
            pending_reclaims: [const { MapCell::empty() }; PENDING_RECLAIMS],
            reclaims_due: Cell::new(false),
            retry_mask: Cell::new(0),
            probe_due: Cell::new(false),
            notifications: [const { Cell::new(0) }; 4],
            counters: Cell::new(Counters {
                calls: 0,
                rpcs: 0,
                busy_retries: 0,
                interrupts: 0,
                shares: 0,
                reclaims: 0,
                abandoned: 0,
            }),
            devices: Cell::new([TaUuid([0; 16]); MAXIMUM_DEVICES]),
            enumeration: Cell::new(EnumerationState::NotRun),
            enumerator: OptionalCell::empty(),
            probe_client: OptionalCell::empty(),
        }
    }

    /// Sets what enumerates devices once bound (`components::optee` wires it).
    pub fn set_enumeration(&self, enumeration: &'a crate::enumeration::Enumeration<'a>) {
        self.enumerator.set(enumeration);
    }

    /// Sets the client told when probing is over.
    pub fn set_probe_client(&self, client: &'a dyn ProbeClient) {
        self.probe_client.set(client);
    }

    /// Adds a user (each [`OpteeClient`] joins once, at set-up).
    pub(crate) fn add_user(&self, user: &'a OpteeClient<'a>) {
        if let Some(first) = self.users.get() {
            user.set_next(first);
        }
        self.users.set(user);
    }

    /// Where the driver is.
    pub fn state(&self) -> DriverState {
        self.state.get()
    }

    /// What probing learnt (once OP-TEE answered).
    pub fn info(&self) -> Option<OpteeInfo> {
        self.info.get()
    }

    /// How device enumeration went.
    pub fn enumeration(&self) -> EnumerationState {
        self.enumeration.get()
    }

    /// Calls `visit` with each enumerated device.
    pub fn for_each_device(&self, mut visit: impl FnMut(&TaUuid)) {
        if let EnumerationState::Listed(count) = self.enumeration.get() {
            for device in &self.devices.get()[..count.min(MAXIMUM_DEVICES)] {
                visit(device);
            }
        }
    }

    /// What the driver did so far.
    pub fn counters(&self) -> Counters {
        self.counters.get()
    }

    /// Call slots in use.
    pub fn busy_slots(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.state.get() != SlotState::Free)
            .count()
    }

    /// Regions waiting to be reclaimed again, and RPC allocations OP-TEE holds.
    pub fn outstanding_regions(&self) -> (usize, usize) {
        (
            self.pending_reclaims
                .iter()
                .filter(|cell| cell.is_some())
                .count(),
            self.allocations
                .iter()
                .filter(|cell| cell.is_some())
                .count(),
        )
    }

    /// Holds the bus busy (the boot report waits) for work a user of the
    /// driver started (the self-test), until [`OpteeDriver::work_finished`].
    pub fn work_started(&self) {
        self.handle.map(|handle| handle.work_started());
    }

    /// Ends what [`OpteeDriver::work_started`] began.
    pub fn work_finished(&self) {
        self.handle.map(|handle| handle.work_finished());
    }

    /// Whether its exchanges are split-phase (the bus has a request engine).
    pub fn is_split_phase(&self) -> bool {
        self.split_phase.get()
    }

    /// Whether the argument page is shared.
    pub fn has_argument_page(&self) -> bool {
        self.arguments.is_some()
    }

    fn count(&self, update: impl FnOnce(&mut Counters)) {
        let mut counters = self.counters.get();
        update(&mut counters);
        self.counters.set(counters);
    }

    /// Schedules the deferred call.
    pub(crate) fn kick(&self) {
        self.deferred_call.set();
    }

    /// A fresh cancellation ID.
    pub(crate) fn cancel_id(&self) -> u32 {
        let id = self.next_cancel_id.get();
        self.next_cancel_id.set(id.wrapping_add(1).max(1));
        id
    }

    // ---- messaging -----------------------------------------------------------

    /// Sends one call of OP-TEE's ABI (w3–w7) for `purpose`: split-phase
    /// when the bus has a request engine (the answer comes to
    /// [`DirectRequestClient::response`]), else blocking, the answer
    /// handled at once. Either way it ends in `on_exchange`.
    fn exchange(&self, words: [u32; 5], purpose: Purpose) {
        let Some(handle) = self.handle.get() else {
            self.on_exchange(purpose, Err(ClientError::NotInitialized));
            return;
        };
        if self.split_phase.get() {
            // Set first: the answer never comes from inside `send`, but
            // the driver must not start a second exchange meanwhile.
            self.in_flight.set(purpose);
            if let Err(code) = handle.send(&DirectMessage32::new(words)) {
                self.in_flight.clear();
                defmt::warn!("optee: the request engine refused a request: {}", code);
                self.on_exchange(purpose, Err(refusal(code)));
            }
        } else {
            let reply = handle
                .direct_request(&DirectMessage32::new(words))
                .map(|response| response.payload);
            self.on_exchange(purpose, reply);
        }
    }

    /// Whether an exchange may be sent now.
    fn can_exchange(&self) -> bool {
        self.in_flight.is_none()
    }

    /// The answer to the exchange made for `purpose`.
    fn on_exchange(&self, purpose: Purpose, reply: Result<[u32; 5], ClientError>) {
        match purpose {
            Purpose::Probe(step) => self.probe_step(step, reply),
            Purpose::Slot(index, Next::Unregister(after)) => self.unregistered(index, after, reply),
            Purpose::Slot(index, next) => self.on_reply(index, next, reply),
            Purpose::Retry(cell) => self.retried(cell, reply),
        }
    }

    // ---- probe ---------------------------------------------------------------

    fn fail_probe(&self, reason: NotDriven) {
        self.state.set(DriverState::NotDriven(reason));
        self.end_probe();
        self.probe_due.set(true);
        self.kick();
    }

    /// The error `bind` returns for a probe that failed for `reason`.
    fn bind_error(reason: NotDriven) -> ErrorCode {
        match reason {
            NotDriven::Transport(error) => error.into(),
            NotDriven::IncompatibleApi(_) | NotDriven::MemorySharingRefused(_) => {
                ErrorCode::NOSUPPORT
            }
            NotDriven::CapabilitiesRefused(_) | NotDriven::CapabilitiesMalformed(_) => {
                ErrorCode::FAIL
            }
            NotDriven::NoMemory(code) => code,
        }
    }

    /// The probe no longer holds the bus busy.
    fn end_probe(&self) {
        if self.probe_work.replace(false) {
            self.handle.map(|handle| handle.work_finished());
        }
    }

    /// Starts the probe on `handle`: `GET_API_VERSION`, then (from each
    /// answer) `GET_OS_VERSION`, `EXCHANGE_CAPABILITIES` and the argument
    /// page's share.
    fn start_probe(&self, handle: PartitionHandle<'a>) {
        self.handle.set(handle);
        let split_phase = self
            .as_client
            .get()
            .is_some_and(|client| handle.set_request_client(client).is_ok());
        self.split_phase.set(split_phase);
        self.state.set(DriverState::Probing);
        if split_phase {
            handle.work_started();
            self.probe_work.set(true);
        }
        self.exchange(
            abi::request::api_version(),
            Purpose::Probe(ProbeStep::ApiVersion),
        );
    }

    fn probe_step(&self, step: ProbeStep, reply: Result<[u32; 5], ClientError>) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let partition = handle.id();
        let words = match reply {
            Ok(words) => words,
            Err(error) => {
                let call = match step {
                    ProbeStep::ApiVersion => "GET_API_VERSION",
                    ProbeStep::OsVersion => "GET_OS_VERSION",
                    ProbeStep::Capabilities => "EXCHANGE_CAPABILITIES",
                };
                defmt::error!(
                    "optee: partition {=u16:#06x}: {=str} failed: {}",
                    partition.raw(),
                    call,
                    error
                );
                return self.fail_probe(NotDriven::Transport(error));
            }
        };
        match step {
            ProbeStep::ApiVersion => {
                self.info.set(OpteeInfo {
                    partition,
                    api: ApiVersion::decode(words),
                    os: OsVersion {
                        major: 0,
                        minor: 0,
                        build: 0,
                    },
                    capabilities: None,
                    layout: None,
                    argument_handle: None,
                });
                self.exchange(
                    abi::request::os_version(),
                    Purpose::Probe(ProbeStep::OsVersion),
                );
            }
            ProbeStep::OsVersion => self.os_version(partition, OsVersion::decode(words)),
            ProbeStep::Capabilities => self.capabilities(handle, words),
        }
    }

    fn os_version(&self, partition: PartitionId, os: OsVersion) {
        let Some(mut info) = self.info.get() else {
            return;
        };
        info.os = os;
        self.info.set(info);
        let api = info.api;
        if !api.is_compatible() {
            defmt::error!(
                "optee: partition {=u16:#06x} speaks OP-TEE's FF-A ABI v{=u32}.{=u32}: an incompatible major version (the driver speaks v{=u32}.x); not driven",
                partition.raw(),
                api.major,
                api.minor,
                ffa_abi::optee::API_MAJOR
            );
            return self.fail_probe(NotDriven::IncompatibleApi(api));
        }
        if os.build != 0 {
            defmt::info!(
                "optee: partition {=u16:#06x}: API v{=u32}.{=u32}, OP-TEE revision {=u32}.{=u32} (build ID {=u32:#010x})",
                partition.raw(),
                api.major,
                api.minor,
                os.major,
                os.minor,
                os.build
            );
        } else {
            defmt::info!(
                "optee: partition {=u16:#06x}: API v{=u32}.{=u32}, OP-TEE revision {=u32}.{=u32}",
                partition.raw(),
                api.major,
                api.minor,
                os.major,
                os.minor
            );
        }
        self.exchange(
            abi::request::exchange_capabilities(),
            Purpose::Probe(ProbeStep::Capabilities),
        );
    }

    fn capabilities(&self, handle: PartitionHandle<'a>, words: [u32; 5]) {
        let Some(mut info) = self.info.get() else {
            return;
        };
        let capabilities = match Capabilities::decode(words) {
            Ok(Ok(capabilities)) => capabilities,
            Ok(Err(error)) => {
                defmt::error!(
                    "optee: EXCHANGE_CAPABILITIES answered something unusable: {}",
                    error
                );
                return self.fail_probe(NotDriven::CapabilitiesMalformed(error));
            }
            Err(result) => {
                defmt::error!("optee: EXCHANGE_CAPABILITIES refused: {}", result);
                return self.fail_probe(NotDriven::CapabilitiesRefused(result));
            }
        };
        info.capabilities = Some(capabilities);
        self.info.set(info);
        let layout = ArgumentLayout::new(
            PAGE_SIZE,
            capabilities.rpc_parameters,
            capabilities.arg_offset(),
            CALL_SLOTS,
        );
        defmt::info!(
            "optee: capabilities {=u32:#x}{=str}{=str}, {=u8} RPC parameters, {=usize} call slot(s) of {=usize} bytes",
            capabilities.bits,
            if capabilities.arg_offset() { " (arg-offset" } else { " (" },
            if capabilities.bits & ffa_abi::optee::capabilities::ASYNC_NOTIF != 0 {
                ", async-notif)"
            } else {
                ")"
            },
            capabilities.rpc_parameters,
            layout.entries,
            layout.entry_size
        );
        let region = match self.pool.allocate(1) {
            Ok(region) => region,
            Err(error) => {
                defmt::error!("optee: no page for the argument structs: {}", error);
                return self.fail_probe(NotDriven::NoMemory(error));
            }
        };
        // A fresh page from the pool; the structs are written before use.
        if region.write(0, &[0u8; 64]).is_err() {
            defmt::warn!("optee: the argument page could not be cleared");
        }
        match handle.share(region, DataAccess::ReadWrite, &TransferOptions::DEFAULT) {
            Ok(shared) => {
                self.count(|counters| counters.shares += 1);
                info.layout = Some(layout);
                info.argument_handle = Some(shared.handle().0);
                self.info.set(info);
                defmt::info!(
                    "optee: argument page shared with FFA_MEM_SHARE: handle {=u64:#x}",
                    shared.handle().0
                );
                self.arguments.put(shared);
            }
            Err(failure) => {
                let error = failure.error();
                defmt::error!(
                    "optee: OP-TEE cannot be driven: sharing the argument page failed ({}); its versions are known, but every session needs shared memory{=str}",
                    error,
                    if error == ClientError::Status(ffa_abi::Status::NotSupported) {
                        " (the FF-A layer below, an SPMC or an EL2 proxy, does not offer FFA_MEM_SHARE)"
                    } else {
                        ""
                    }
                );
                self.settle_failure(failure);
                return self.fail_probe(NotDriven::MemorySharingRefused(error));
            }
        }
        self.state.set(DriverState::Ready);
        self.enumerate(handle);
        self.end_probe();
    }

    /// Once probed: device enumeration (holding the bus busy until it is
    /// over), or the probe client told at once.
    fn enumerate(&self, handle: PartitionHandle<'a>) {
        match self.enumerator.get() {
            Some(enumeration) => {
                handle.work_started();
                self.enumeration.set(EnumerationState::Running);
                if let Err(error) = enumeration.start() {
                    defmt::warn!("optee: device enumeration could not start: {}", error);
                    self.enumeration
                        .set(EnumerationState::Failed(TeeError::Transport(error)));
                    handle.work_finished();
                    self.probe_due.set(true);
                }
            }
            None => self.probe_due.set(true),
        }
        self.kick();
    }

    /// What the share of a region left: the region back to the pool, or a
    /// stranded transaction kept to reclaim later.
    fn settle_failure(&self, failure: MemoryFailure<'a>) {
        match failure {
            MemoryFailure::Refused { region, .. } => drop(region),
            MemoryFailure::Stranded { lent, .. } => {
                defmt::warn!(
                    "optee: a share failed half-way and its reclaim too; its pages stay out of the pool"
                );
                drop(lent);
                self.count(|counters| {
                    counters.shares += 1;
                    counters.abandoned += 1;
                });
            }
        }
    }

    // ---- shared memory -------------------------------------------------------

    /// Shares a bounce region big enough for `length` bytes, filled from `fill`.
    fn share_region(&self, length: usize, fill: Option<&[u8]>) -> Result<Shared<'a>, ErrorCode> {
        let handle = self.handle.get().ok_or(ErrorCode::OFF)?;
        let pages = length.max(1).div_ceil(PAGE_SIZE);
        let region = self.pool.allocate(pages)?;
        match fill {
            Some(bytes) => region.write(0, bytes)?,
            None => {
                let zeros = [0u8; 64];
                let mut offset = 0;
                while offset < length {
                    let take = (length - offset).min(zeros.len());
                    region.write(offset, &zeros[..take])?;
                    offset += take;
                }
            }
        }
        match handle.share(region, DataAccess::ReadWrite, &TransferOptions::DEFAULT) {
            Ok(shared) => {
                self.count(|counters| counters.shares += 1);
                Ok(shared)
            }
            Err(failure) => {
                let error = failure.error();
                self.settle_failure(failure);
                Err(error.into())
            }
        }
    }

    /// Reclaims `shared` (`UNREGISTER_SHM` answered, or not needed); a
    /// refused reclaim is kept and tried again once another call has ended
    /// (OP-TEE may have been using it), `attempts` counting this one.
    fn reclaim(&self, shared: Shared<'a>, attempts: u8) {
        match shared.reclaim() {
            Ok(region) => {
                self.count(|counters| counters.reclaims += 1);
                drop(region);
            }
            Err(refused) => self.keep_for_later(refused.kept, attempts, refused.error),
        }
    }

    /// Logs what OP-TEE answered `UNREGISTER_SHM` of `handle`.
    fn log_unregistered(handle: u64, reply: Result<[u32; 5], ClientError>) {
        match reply {
            Ok(words) => {
                if let Err(code) = abi::unregistered(words) {
                    defmt::warn!(
                        "optee: UNREGISTER_SHM of {=u64:#x}: OP-TEE answered {=u32:#x} (still in use?)",
                        handle,
                        code
                    );
                }
            }
            Err(error) => defmt::warn!(
                "optee: UNREGISTER_SHM of {=u64:#x} failed: {}",
                handle,
                error
            ),
        }
    }

    /// Slot `index`'s region was unregistered (or that failed): reclaimed,
    /// then the slot goes on as `after` says.
    fn unregistered(&self, index: usize, after: After, reply: Result<[u32; 5], ClientError>) {
        let slot = &self.slots[index];
        if let Some(shared) = slot.releasing.take() {
            let handle = shared.handle().0;
            Self::log_unregistered(handle, reply);
            self.reclaim(shared, 1);
            if let After::AnswerRpc(_) = after {
                defmt::info!(
                    "optee: RPC SHM_FREE: {=u64:#x} unregistered and reclaimed",
                    handle
                );
            }
        }
        match after {
            After::Complete => slot.state.set(SlotState::Completed),
            After::AnswerRpc(thread) => self.answer_rpc(index, thread, TeeResult::SUCCESS, &[]),
        }
    }

    fn keep_for_later(&self, kept: Shared<'a>, attempts: u8, error: ClientError) {
        let handle = kept.handle().0;
        let free = self.pending_reclaims.iter().find(|cell| cell.is_none());
        match free {
            Some(cell) if attempts < RECLAIM_ATTEMPTS => {
                defmt::warn!(
                    "optee: reclaim of {=u64:#x} refused ({}); trying again when another call ends",
                    handle,
                    error
                );
                cell.put(PendingReclaim {
                    shared: kept,
                    attempts,
                });
            }
            _ => {
                defmt::error!(
                    "optee: memory {=u64:#x} could not be reclaimed ({}, {=u8} attempt(s)); its pages stay out of the pool",
                    handle,
                    error,
                    attempts
                );
                self.count(|counters| counters.abandoned += 1);
                drop(kept);
            }
        }
    }

    /// Starts the next kept reclaim's retry (`UNREGISTER_SHM` again, then
    /// the reclaim), once a call has ended; whether it sent one.
    fn retry_next(&self) -> bool {
        if self.reclaims_due.replace(false) {
            let mask = self
                .pending_reclaims
                .iter()
                .enumerate()
                .filter(|(_, cell)| cell.is_some())
                .fold(0u8, |mask, (cell, _)| mask | 1 << cell);
            self.retry_mask.set(mask);
        }
        loop {
            let mask = self.retry_mask.get();
            if mask == 0 {
                return false;
            }
            let cell = mask.trailing_zeros() as usize;
            self.retry_mask.set(mask & !(1 << cell));
            if let Some(handle) =
                self.pending_reclaims[cell].map(|pending| pending.shared.handle().0)
            {
                self.exchange(abi::request::unregister(handle), Purpose::Retry(cell));
                return true;
            }
        }
    }

    /// A kept region's `UNREGISTER_SHM` was answered: reclaimed again.
    fn retried(&self, cell: usize, reply: Result<[u32; 5], ClientError>) {
        let Some(pending) = self.pending_reclaims[cell].take() else {
            return;
        };
        Self::log_unregistered(pending.shared.handle().0, reply);
        self.reclaim(pending.shared, pending.attempts.saturating_add(1));
    }

    // ---- calls ---------------------------------------------------------------

    fn layout(&self) -> Option<ArgumentLayout> {
        self.info.get().and_then(|info| info.layout)
    }

    /// Starts queued requests in free slots.
    fn start_requests(&self) {
        let Some(layout) = self.layout() else {
            return;
        };
        let mut user = self.users.get();
        while let Some(current) = user {
            user = current.next();
            let Some(request) = current.take_request() else {
                continue;
            };
            let free = self.slots[..layout.entries]
                .iter()
                .position(|slot| slot.state.get() == SlotState::Free);
            let Some(index) = free else {
                current.put_back(request);
                continue;
            };
            let buffer = current.take_buffer_for(&request);
            self.start(index, current, request, buffer, &layout);
        }
    }

    fn start(
        &self,
        index: usize,
        user: &'a OpteeClient<'a>,
        request: Request,
        buffer: Option<&'static mut [u8]>,
        layout: &ArgumentLayout,
    ) {
        let slot = &self.slots[index];
        slot.user.set(user);
        slot.request.set(request);
        slot.rpcs.set(0);
        slot.interrupts.set(0);
        slot.busy_tries.set(0);
        slot.outcome.clear();
        if let Some(buffer) = buffer {
            slot.buffer.replace(buffer);
        }
        self.count(|counters| counters.calls += 1);
        let parameters = request.parameters();
        slot.parameters.set(parameters);
        let mut outgoing = Outgoing {
            header: Header::default(),
            parameters: [RawParameter::default(); MAXIMUM_PARAMETERS],
            count: 0,
        };
        match request {
            Request::Open { ta, login, .. } => {
                let (a, b) = ffa_abi::optee::message::uuid_to_values(&Uuid::from_bytes(ta.0));
                outgoing.header.cmd = command::OPEN_SESSION;
                outgoing.header.cancel_id = request.cancel_id();
                outgoing.parameters[0] =
                    RawParameter::value(attribute::META | attribute::VALUE_INPUT, a, b, 0);
                // A kernel client has no client UUID: OP-TEE sets a nil one
                // for public and REE-kernel logins.
                outgoing.parameters[1] = RawParameter::value(
                    attribute::META | attribute::VALUE_INPUT,
                    0,
                    0,
                    u64::from(match login {
                        Login::Public => login::PUBLIC,
                        Login::ReeKernel => login::REE_KERNEL,
                    }),
                );
                outgoing.count = 2;
            }
            Request::Invoke {
                session, command, ..
            } => {
                outgoing.header.cmd = command::INVOKE_COMMAND;
                outgoing.header.func = command;
                outgoing.header.session = session.0;
                outgoing.header.cancel_id = request.cancel_id();
            }
            Request::Close { session } => {
                outgoing.header.cmd = command::CLOSE_SESSION;
                outgoing.header.session = session.0;
            }
            Request::Cancel { session, cancel_id } => {
                outgoing.header.cmd = command::CANCEL;
                outgoing.header.session = session.0;
                outgoing.header.cancel_id = cancel_id;
            }
        }
        if let Err(error) = self.add_parameters(slot, &mut outgoing, &parameters) {
            self.finish_with(index, Err(TeeError::Transport(error)));
            return;
        }
        let written = self.arguments.map_or(Err(ErrorCode::OFF), |arguments| {
            message::write_call(arguments, layout.offset(index), &outgoing, layout)
        });
        if let Err(error) = written {
            self.finish_with(index, Err(TeeError::Transport(error)));
            return;
        }
        slot.outgoing.set(outgoing);
        slot.state.set(SlotState::Ready(Next::WithArgument));
    }

    /// Appends the user's parameters (up to the last one used), sharing a
    /// bounce region for memory references.
    fn add_parameters(
        &self,
        slot: &CallSlot<'a>,
        outgoing: &mut Outgoing,
        parameters: &Parameters,
    ) -> Result<(), ErrorCode> {
        let used = parameters
            .iter()
            .rposition(|parameter| *parameter != Parameter::None)
            .map_or(0, |last| last + 1);
        let needs_memory = parameters[..used]
            .iter()
            .any(|parameter| matches!(parameter, Parameter::Memref { size, .. } if *size > 0));
        let mut handle = FMEM_NULL_HANDLE;
        if needs_memory {
            let shared = slot
                .buffer
                .map(|buffer| self.share_region(buffer.len(), Some(buffer)))
                .unwrap_or(Err(ErrorCode::INVAL))?;
            handle = shared.handle().0;
            slot.payload.put(shared);
        }
        for parameter in &parameters[..used] {
            outgoing.parameters[outgoing.count] = match *parameter {
                Parameter::None => RawParameter::value(attribute::NONE, 0, 0, 0),
                Parameter::Value { direction, a, b, c } => {
                    RawParameter::value(value_attribute(direction), a, b, c)
                }
                Parameter::Memref {
                    direction, size: 0, ..
                } => RawParameter::memory(memory_attribute(direction), 0, 0, FMEM_NULL_HANDLE, 0),
                Parameter::Memref {
                    direction,
                    offset,
                    size,
                } => RawParameter::memory(
                    memory_attribute(direction),
                    offset as u64,
                    size as u64,
                    handle,
                    0,
                ),
            };
            outgoing.count += 1;
        }
        Ok(())
    }

    /// The next slot with an exchange due, round robin.
    fn ready_slot(&self) -> Option<(usize, Next)> {
        let start = self.next_slot.get();
        (0..CALL_SLOTS)
            .map(|step| (start + step) % CALL_SLOTS)
            .find_map(|index| match self.slots[index].state.get() {
                SlotState::Ready(next) => Some((index, next)),
                _ => None,
            })
    }

    fn advance(&self, index: usize, next: Next) {
        self.next_slot.set((index + 1) % CALL_SLOTS);
        let slot = &self.slots[index];
        let (Some(layout), Some(info)) = (self.layout(), self.info.get()) else {
            self.finish_with(index, Err(TeeError::Transport(ErrorCode::OFF)));
            return;
        };
        let words = match next {
            Next::WithArgument => abi::request::with_argument(
                info.argument_handle.unwrap_or(FMEM_NULL_HANDLE),
                layout.offset(index) as u32,
            ),
            Next::Resume(thread) => abi::request::resume(thread),
            Next::Unregister(after) => {
                match slot.releasing.map(|shared| shared.handle().0) {
                    Some(handle) => abi::request::unregister(handle),
                    // Nothing to release after all: go on.
                    None => return self.unregistered(index, after, Ok([0; 5])),
                }
            }
        };
        slot.state.set(SlotState::InFlight);
        self.exchange(words, Purpose::Slot(index, next));
    }

    /// What OP-TEE answered slot `index`'s exchange.
    fn on_reply(&self, index: usize, sent: Next, reply: Result<[u32; 5], ClientError>) {
        let slot = &self.slots[index];
        let words = match reply {
            Ok(words) => words,
            Err(error) => {
                defmt::warn!(
                    "optee: call in slot {=usize}: the direct request failed: {}",
                    index,
                    error
                );
                self.finish_with(index, Err(TeeError::Transport(error.into())));
                return;
            }
        };
        match YieldingReply::decode(words) {
            Ok(YieldingReply::Ran(YieldingOutcome::Done)) => self.done(index),
            Ok(YieldingReply::Ran(YieldingOutcome::Rpc { thread })) => {
                let rpcs = slot.rpcs.get() + 1;
                slot.rpcs.set(rpcs);
                if rpcs > MAXIMUM_RPCS_PER_CALL {
                    defmt::error!(
                        "optee: call in slot {=usize} asked for more than {=u16} RPCs; given up (OP-TEE's thread {=u32} stays suspended)",
                        index,
                        MAXIMUM_RPCS_PER_CALL,
                        thread
                    );
                    self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
                    return;
                }
                self.serve_rpc(index, thread);
            }
            Ok(YieldingReply::Ran(YieldingOutcome::Interrupted { thread })) => {
                let interrupts = slot.interrupts.get() + 1;
                slot.interrupts.set(interrupts);
                self.count(|counters| counters.interrupts += 1);
                if interrupts > MAXIMUM_INTERRUPTS_PER_CALL {
                    defmt::error!(
                        "optee: call in slot {=usize} was interrupted more than {=u16} times; given up",
                        index,
                        MAXIMUM_INTERRUPTS_PER_CALL
                    );
                    self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
                    return;
                }
                slot.state.set(SlotState::Ready(Next::Resume(thread)));
            }
            Ok(YieldingReply::Refused(TeeResult::BUSY)) if sent == Next::WithArgument => {
                self.busy(index)
            }
            Ok(YieldingReply::Refused(result)) => {
                match sent {
                    Next::WithArgument => defmt::warn!(
                        "optee: OP-TEE refused the call in slot {=usize}: {} in w3",
                        index,
                        result
                    ),
                    Next::Resume(thread) => defmt::error!(
                        "optee: OP-TEE refused to resume thread {=u32}: {} in w3",
                        thread,
                        result
                    ),
                    Next::Unregister(_) => {}
                }
                self.finish_with(
                    index,
                    Err(TeeError::Tee {
                        code: result.0,
                        origin: Origin::Communication,
                    }),
                );
            }
            Err(error) => {
                defmt::error!(
                    "optee: call in slot {=usize}: OP-TEE's answer is malformed ({}); given up",
                    index,
                    error
                );
                self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
            }
        }
    }

    fn busy(&self, index: usize) {
        let slot = &self.slots[index];
        let tries = slot.busy_tries.get() + 1;
        slot.busy_tries.set(tries);
        if tries >= MAXIMUM_BUSY_TRIES {
            defmt::error!(
                "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY, the SMC ABI's ETHREAD_LIMIT) after {=u16} tries; the call fails",
                tries
            );
            self.finish_with(
                index,
                Err(TeeError::Tee {
                    code: TeeResult::BUSY.0,
                    origin: Origin::Communication,
                }),
            );
            return;
        }
        self.count(|counters| counters.busy_retries += 1);
        let delay = BUSY_BACKOFF_MS << (tries - 1).min(6);
        defmt::info!(
            "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY); trying again when a call ends or in {=u64} ms ({=u16} of {=u16})",
            delay,
            tries,
            MAXIMUM_BUSY_TRIES
        );
        let until = self.alarm.now() + self.alarm.ticks_from_ms(delay);
        slot.state.set(SlotState::BackingOff { until });
    }

    fn rpc_offset(&self, index: usize) -> Option<usize> {
        let layout = self.layout()?;
        let outgoing = self.slots[index].outgoing.get()?;
        Some(outgoing.rpc_offset(layout.offset(index)))
    }

    fn serve_rpc(&self, index: usize, thread: u32) {
        self.count(|counters| counters.rpcs += 1);
        let (Some(offset), Some(layout)) = (self.rpc_offset(index), self.layout()) else {
            self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
            return;
        };
        let request = self
            .arguments
            .map(|arguments| message::read_rpc(arguments, offset, layout.rpc_parameters));
        let request = match request {
            Some(Ok(request)) => request,
            Some(Err(error)) => {
                defmt::warn!(
                    "optee: an RPC struct OP-TEE wrote is malformed ({}); answered TEE_ERROR_BAD_PARAMETERS",
                    error
                );
                self.answer_rpc(index, thread, TeeResult::BAD_PARAMETERS, &[]);
                return;
            }
            None => {
                self.finish_with(index, Err(TeeError::Transport(ErrorCode::OFF)));
                return;
            }
        };
        let keys = self
            .info
            .get()
            .and_then(|info| info.capabilities)
            .map_or(255, |capabilities| capabilities.notification_keys())
            .min(255);
        match rpc::decide(&request, keys) {
            RpcAction::Answer(result) => self.answer_rpc(index, thread, result, &[]),
            RpcAction::GetTime => {
                let now = self.alarm.now();
                let frequency = self.alarm.frequency().max(1);
                let seconds = now / frequency;
                let nanoseconds =
                    ((now % frequency) as u128 * 1_000_000_000 / frequency as u128) as u64;
                let mut parameter = request.parameters[0];
                parameter.a = seconds;
                parameter.b = nanoseconds;
                self.answer_rpc(index, thread, TeeResult::SUCCESS, &[parameter]);
            }
            RpcAction::Suspend { milliseconds } => {
                let capped = milliseconds.min(MAXIMUM_SLEEP_MS);
                if capped < milliseconds {
                    defmt::warn!(
                        "optee: OP-TEE asked to sleep {=u64} ms; sleeping {=u64} ms",
                        milliseconds,
                        capped
                    );
                }
                let until = self.alarm.now() + self.alarm.ticks_from_ms(capped);
                self.slots[index]
                    .state
                    .set(SlotState::Sleeping { thread, until });
            }
            RpcAction::Send { key } => {
                self.send_notification(key);
                self.answer_rpc(index, thread, TeeResult::SUCCESS, &[]);
            }
            RpcAction::Wait {
                key,
                timeout_milliseconds,
            } => self.wait_notification(index, thread, key, timeout_milliseconds),
            RpcAction::Allocate { kind, size } => self.allocate(index, thread, kind, size),
            RpcAction::Free { kind, handle } => self.free(index, thread, kind, handle),
        }
    }

    /// Writes the answer to slot `index`'s RPC and makes it ready to resume `thread`.
    fn answer_rpc(
        &self,
        index: usize,
        thread: u32,
        result: TeeResult,
        parameters: &[RawParameter],
    ) {
        let Some(offset) = self.rpc_offset(index) else {
            self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
            return;
        };
        let written = self.arguments.map_or(Err(ErrorCode::OFF), |arguments| {
            message::write_rpc_answer(arguments, offset, result, origin::COMMUNICATION, parameters)
        });
        match written {
            Ok(()) => self.slots[index]
                .state
                .set(SlotState::Ready(Next::Resume(thread))),
            Err(error) => self.finish_with(index, Err(TeeError::Transport(error))),
        }
    }

    fn send_notification(&self, key: u32) {
        let waiter =
            self.slots
                .iter()
                .enumerate()
                .find_map(|(index, slot)| match slot.state.get() {
                    SlotState::Waiting {
                        thread,
                        key: waited,
                        ..
                    } if waited == key => Some((index, thread)),
                    _ => None,
                });
        match waiter {
            Some((index, thread)) => self.answer_rpc(index, thread, TeeResult::SUCCESS, &[]),
            None => {
                let cell = &self.notifications[(key / 64) as usize % 4];
                cell.set(cell.get() | 1 << (key % 64));
            }
        }
    }

    fn wait_notification(&self, index: usize, thread: u32, key: u32, timeout_milliseconds: u64) {
        let cell = &self.notifications[(key / 64) as usize % 4];
        let bit = 1 << (key % 64);
        if cell.get() & bit != 0 {
            cell.set(cell.get() & !bit);
            self.answer_rpc(index, thread, TeeResult::SUCCESS, &[]);
            return;
        }
        let taken = self.slots.iter().any(|slot| {
            matches!(slot.state.get(), SlotState::Waiting { key: waited, .. } if waited == key)
        });
        if taken {
            defmt::warn!(
                "optee: two waits on wait-queue key {=u32}; the second is refused",
                key
            );
            self.answer_rpc(index, thread, TeeResult::BAD_PARAMETERS, &[]);
            return;
        }
        let wait = if timeout_milliseconds == 0 {
            MAXIMUM_WAIT_MS
        } else {
            timeout_milliseconds.min(MAXIMUM_WAIT_MS)
        };
        let until = self.alarm.now() + self.alarm.ticks_from_ms(wait);
        self.slots[index]
            .state
            .set(SlotState::Waiting { thread, key, until });
    }

    fn allocate(&self, index: usize, thread: u32, kind: u64, size: u64) {
        let free = self.allocations.iter().find(|cell| cell.is_none());
        let shared = match free {
            Some(_) if size > 0 && size <= MAXIMUM_PAYLOAD as u64 => {
                self.share_region(size as usize, None).ok()
            }
            _ => None,
        };
        let (Some(cell), Some(shared)) = (free, shared) else {
            defmt::warn!(
                "optee: OP-TEE asked for {=u64} bytes of shared memory; none given (TEE_ERROR_OUT_OF_MEMORY)",
                size
            );
            self.answer_rpc(index, thread, TeeResult::OUT_OF_MEMORY, &[]);
            return;
        };
        let handle = shared.handle().0;
        defmt::info!(
            "optee: RPC SHM_ALLOC: {=u64} bytes shared with OP-TEE, handle {=u64:#x}",
            size,
            handle
        );
        cell.put(Allocation { shared, kind });
        let answer = RawParameter::memory(attribute::FMEM_OUTPUT, 0, size, handle, 0);
        self.answer_rpc(index, thread, TeeResult::SUCCESS, &[answer]);
    }

    fn free(&self, index: usize, thread: u32, kind: u64, handle: u64) {
        let cell = self
            .allocations
            .iter()
            .find(|cell| cell.map_or(false, |allocation| allocation.shared.handle().0 == handle));
        let Some(allocation) = cell.and_then(MapCell::take) else {
            defmt::warn!(
                "optee: RPC SHM_FREE of {=u64:#x}, which the driver did not allocate; answered TEE_ERROR_BAD_PARAMETERS",
                handle
            );
            self.answer_rpc(index, thread, TeeResult::BAD_PARAMETERS, &[]);
            return;
        };
        if allocation.kind != kind {
            defmt::warn!(
                "optee: RPC SHM_FREE of {=u64:#x} names type {=u64}, allocated as {=u64}",
                handle,
                kind,
                allocation.kind
            );
        }
        // Linux skips UNREGISTER_SHM for application memory: OP-TEE
        // already dropped it before asking.
        if allocation.kind == ffa_abi::optee::rpc::SHM_TYPE_APPLICATION {
            self.reclaim(allocation.shared, 1);
            defmt::info!("optee: RPC SHM_FREE: {=u64:#x} reclaimed", handle);
            self.answer_rpc(index, thread, TeeResult::SUCCESS, &[]);
        } else {
            let slot = &self.slots[index];
            slot.releasing.put(allocation.shared);
            slot.state
                .set(SlotState::Ready(Next::Unregister(After::AnswerRpc(thread))));
        }
    }

    /// Reads slot `index`'s results back.
    fn done(&self, index: usize) {
        let slot = &self.slots[index];
        // A slot without a request has nobody to answer: treat as a fault.
        let (Some(layout), Some(outgoing), Some(_)) =
            (self.layout(), slot.outgoing.get(), slot.request.get())
        else {
            self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
            return;
        };
        let incoming = self
            .arguments
            .map(|arguments| message::read_result(arguments, layout.offset(index), &outgoing));
        let incoming = match incoming {
            Some(Ok(incoming)) => incoming,
            Some(Err(error)) => {
                defmt::error!(
                    "optee: the results OP-TEE wrote for the call in slot {=usize} are malformed: {}",
                    index,
                    error
                );
                self.finish_with(index, Err(TeeError::Transport(ErrorCode::FAIL)));
                return;
            }
            None => {
                self.finish_with(index, Err(TeeError::Transport(ErrorCode::OFF)));
                return;
            }
        };
        let mut parameters = slot.parameters.get();
        let first = outgoing.count
            - parameters
                .iter()
                .rposition(|parameter| *parameter != Parameter::None)
                .map_or(0, |last| last + 1);
        self.read_outputs(slot, &mut parameters, &incoming.parameters[first..]);
        slot.parameters.set(parameters);
        let result = if incoming.result.is_success() {
            Ok(incoming.session)
        } else {
            Err(TeeError::Tee {
                code: incoming.result.0,
                origin: origin_of(incoming.origin),
            })
        };
        self.finish_with(index, result);
    }

    /// Copies output values and memory references back to the user.
    fn read_outputs(
        &self,
        slot: &CallSlot<'a>,
        parameters: &mut Parameters,
        returned: &[RawParameter],
    ) {
        for (parameter, raw) in parameters.iter_mut().zip(returned) {
            match parameter {
                Parameter::Value { direction, a, b, c } if direction.is_output() => {
                    *a = raw.a;
                    *b = raw.b;
                    *c = raw.c;
                }
                Parameter::Memref {
                    direction,
                    offset,
                    size,
                } if direction.is_output() => {
                    let window = *size;
                    let reported = usize::try_from(raw.memory_size()).unwrap_or(usize::MAX);
                    let copy = reported.min(window);
                    if copy > 0 {
                        slot.payload.map(|payload| {
                            slot.buffer.map(|buffer| {
                                if let Some(destination) = buffer.get_mut(*offset..*offset + copy) {
                                    let _ = payload.read(*offset, destination);
                                }
                            })
                        });
                    }
                    *size = reported;
                }
                _ => {}
            }
        }
    }

    /// Ends slot `index` with `result` (a session ID for open session).
    fn finish_with(&self, index: usize, result: Result<u32, TeeError>) {
        let slot = &self.slots[index];
        let parameters = slot.parameters.get();
        let outcome = match slot.request.get() {
            Some(Request::Open { .. }) => Outcome::Opened(result.map(SessionId), parameters),
            Some(Request::Invoke { session, .. }) => {
                Outcome::Invoked(session, result.map(|_| ()), parameters)
            }
            Some(Request::Close { session }) => Outcome::Closed(session, result.map(|_| ())),
            Some(Request::Cancel { session, .. }) => {
                Outcome::Cancelled(session, result.map(|_| ()))
            }
            None => Outcome::Closed(SessionId(0), result.map(|_| ())),
        };
        slot.outcome.set(outcome);
        // The bounce region goes back before the user hears.
        match slot.payload.take() {
            Some(payload) => {
                slot.releasing.put(payload);
                slot.state
                    .set(SlotState::Ready(Next::Unregister(After::Complete)));
            }
            None => slot.state.set(SlotState::Completed),
        }
        self.reclaims_due.set(true);
        // A call that ends frees an OP-TEE thread: whoever backs off may go now.
        for other in &self.slots {
            if let SlotState::BackingOff { .. } = other.state.get() {
                other.state.set(SlotState::Ready(Next::WithArgument));
            }
        }
    }

    fn deliver(&self) {
        for slot in &self.slots {
            if slot.state.get() != SlotState::Completed {
                continue;
            }
            let (Some(user), Some(outcome)) = (slot.user.take(), slot.outcome.take()) else {
                slot.state.set(SlotState::Free);
                continue;
            };
            let buffer = slot.buffer.take();
            slot.request.clear();
            slot.outgoing.clear();
            slot.state.set(SlotState::Free);
            user.deliver(outcome, buffer);
        }
    }

    /// Deadlines that passed: sleeps and waits end, back-offs retry.
    fn expire(&self) {
        let now = self.alarm.now();
        for (index, slot) in self.slots.iter().enumerate() {
            match slot.state.get() {
                SlotState::Sleeping { thread, until } if until <= now => {
                    self.answer_rpc(index, thread, TeeResult::SUCCESS, &[])
                }
                SlotState::Waiting { thread, key, until } if until <= now => {
                    defmt::warn!(
                        "optee: wait-queue key {=u32} was not sent in time; answered TEE_ERROR_TIMEOUT",
                        key
                    );
                    self.answer_rpc(index, thread, TeeResult::TIMEOUT, &[])
                }
                SlotState::BackingOff { until } if until <= now => {
                    slot.state.set(SlotState::Ready(Next::WithArgument))
                }
                _ => {}
            }
        }
    }

    fn rearm(&self) {
        let earliest = self
            .slots
            .iter()
            .filter_map(|slot| match slot.state.get() {
                SlotState::Sleeping { until, .. }
                | SlotState::Waiting { until, .. }
                | SlotState::BackingOff { until } => Some(until),
                _ => None,
            })
            .min();
        match earliest {
            Some(until) => {
                let now = self.alarm.now();
                self.alarm.set_alarm(now, until.saturating_sub(now));
            }
            None => {
                let _ = self.alarm.disarm();
            }
        }
    }

    fn has_work(&self) -> bool {
        let exchange_due = self.can_exchange()
            && (self.reclaims_due.get()
                || self.retry_mask.get() != 0
                || self
                    .slots
                    .iter()
                    .any(|slot| matches!(slot.state.get(), SlotState::Ready(_))));
        exchange_due
            || self.probe_due.get()
            || self
                .slots
                .iter()
                .any(|slot| slot.state.get() == SlotState::Completed)
            || self.users_waiting()
    }

    fn users_waiting(&self) -> bool {
        let free = self.layout().is_some_and(|layout| {
            self.slots[..layout.entries]
                .iter()
                .any(|slot| slot.state.get() == SlotState::Free)
        });
        let mut user = self.users.get();
        while let Some(current) = user {
            if current.has_request() && free {
                return true;
            }
            user = current.next();
        }
        false
    }

    /// One turn: queued requests start, one exchange (unless one is in
    /// flight), outcomes delivered.
    fn pump(&self) {
        if self.probe_due.replace(false) {
            self.probe_client
                .map(|client| client.probed(self.state.get()));
        }
        self.start_requests();
        if self.can_exchange() && !self.retry_next() {
            if let Some((index, next)) = self.ready_slot() {
                self.advance(index, next);
            }
        }
        self.deliver();
        self.rearm();
        if self.has_work() {
            self.kick();
        }
    }
}

fn value_attribute(direction: Direction) -> u64 {
    match direction {
        Direction::Input => attribute::VALUE_INPUT,
        Direction::Output => attribute::VALUE_OUTPUT,
        Direction::InOut => attribute::VALUE_INOUT,
    }
}

fn memory_attribute(direction: Direction) -> u64 {
    match direction {
        Direction::Input => attribute::FMEM_INPUT,
        Direction::Output => attribute::FMEM_OUTPUT,
        Direction::InOut => attribute::FMEM_INOUT,
    }
}

fn origin_of(code: u32) -> Origin {
    match code {
        origin::API => Origin::Api,
        origin::COMMUNICATION => Origin::Communication,
        origin::TEE => Origin::Tee,
        origin::TRUSTED_APPLICATION => Origin::TrustedApplication,
        other => Origin::Other(other),
    }
}

impl<'a> PartitionDriver<'a> for OpteeDriver<'a> {
    fn name(&self) -> &'static str {
        "optee"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &OPTEE_UUIDS
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        if matches!(self.state.get(), DriverState::Ready | DriverState::Probing) {
            defmt::warn!(
                "optee: already bound; partition {=u16:#06x} is a second OP-TEE, left alone",
                handle.id().raw()
            );
            return Err(ErrorCode::ALREADY);
        }
        self.start_probe(handle);
        match self.state.get() {
            // Blocking, or a split-phase send refused at once.
            DriverState::NotDriven(reason) => Err(Self::bind_error(reason)),
            _ => Ok(()),
        }
    }

    fn setup(&'a self) {
        self.as_client.set(self);
    }
}

impl DirectRequestClient for OpteeDriver<'_> {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let Some(purpose) = self.in_flight.take() else {
            defmt::warn!("optee: a response with no request of the driver's in flight");
            return;
        };
        let reply = match result {
            Ok(AnyDirectMessage::Bits32(message)) => Ok(message.payload),
            // The driver sends 32-bit requests only.
            Ok(_) => Err(ClientError::MalformedReply),
            Err(error) => Err(error),
        };
        self.on_exchange(purpose, reply);
        self.kick();
    }
}

/// The FF-A client's error closest to the request engine's refusal.
fn refusal(code: ErrorCode) -> ClientError {
    match code {
        ErrorCode::BUSY => ClientError::InFlight,
        ErrorCode::OFF => ClientError::NotInitialized,
        ErrorCode::NOSUPPORT => ClientError::Unsupported,
        _ => ClientError::InvalidArgument("the request engine refused the request"),
    }
}

impl OpteeDriver<'_> {
    /// Device enumeration is over (called by [`crate::enumeration`]).
    pub(crate) fn enumerated(&self, state: EnumerationState, devices: &[TaUuid]) {
        let mut kept = [TaUuid([0; 16]); MAXIMUM_DEVICES];
        for (slot, device) in kept.iter_mut().zip(devices) {
            *slot = *device;
        }
        self.devices.set(kept);
        self.enumeration.set(state);
        self.probe_client
            .map(|client| client.probed(self.state.get()));
        if let Some(handle) = self.handle.get() {
            handle.work_finished();
        }
    }
}

impl DeferredCallClient for OpteeDriver<'_> {
    fn handle_deferred_call(&self) {
        self.pump();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl AlarmClient for OpteeDriver<'_> {
    fn alarm(&self) {
        self.expire();
        self.rearm();
        if self.has_work() {
            self.kick();
        }
    }
}
