//! Notifications and indirect messages, for the partition drivers: binding
//! notification IDs to a driver's callback, setting a partition's
//! notifications, sending and receiving indirect messages, and the
//! schedule receiver interrupt (SRI) that says something is pending.
//!
//! [`Notifications`] is an init-queue entry after the FF-A root (it waits
//! on the root's outcome, as the drivers do): once the root is up, it
//! claims the SRI that `FFA_FEATURES` reported (feature ID 2) from the
//! chip's interrupt lines ([`InterruptLines`]); without notifications in
//! the session (v1.0, or an SPMC without them) it ends unbound, and with a
//! failed root it fails (`NODEVICE`). When the SRI fires (from the main loop), a deferred call runs:
//!
//! 1. `FFA_NOTIFICATION_INFO_GET` (64-bit if offered), at most
//!    [`MAXIMUM_INFO_ROUNDS`] times while it says more is pending; a list
//!    for this endpoint is retrieved with `FFA_NOTIFICATION_GET` on its
//!    vCPU (this core's for global notifications). The GET of another
//!    vCPU's per-vCPU notifications must be made on that vCPU's core
//!    (the caller names its own vCPU): the board gives the service the
//!    secondary cores' request engines ([`Notifications::set_core_engines`]),
//!    and the GET is made on that core by its engine
//!    ([`SplitPhaseRequests::call_on_core`]), its answer handled when it
//!    comes back; without an engine for that core the list is left pending
//!    (logged). A list for another endpoint is counted;
//! 2. `GET` asks for the partitions' notifications and the SPM's framework
//!    bitmap: each set bit goes to the driver that bound it (global, or
//!    with the vCPU for a per-vCPU binding); a bit nobody bound is logged;
//! 3. the framework's "RX buffer full": the indirect message in RX is read
//!    (its header checked, `crate::indirect`), copied into the board's
//!    scratch buffer, RX released (`FFA_RX_RELEASE`), then handed to the
//!    driver of the partition that sent it.
//!
//! `BITMAP_CREATE`/`BITMAP_DESTROY` are the hypervisor's: this client never
//! makes them. In protected mode the EL2 proxy creates the host's bitmap
//! (see `capsule-ffa-proxy`); directly under an SPMC that needs one
//! (Hafnium, OP-TEE) binding is refused and the driver says so.
//!
//! Drivers reach this through their handle
//! (`PartitionHandle::bind_notifications`, `set_notifications`,
//! `send_message`, `set_message_client`), for their own partition only.

use core::cell::Cell;

use crate::client::{FfaClient, Session};
use crate::conduit::{Reply, ReplyRegisters, Request};
use crate::error::ClientError;
use crate::indirect::{HeaderLayout, MessageHeader};
use crate::messaging::Vcpu;
use crate::notification_info::NotificationInfo;
use crate::partition::PartitionInfo;
use crate::requests::{CoreCallClient, SplitPhaseRequests};
use crate::version::SupportedVersion;
use ffa_abi::notification::{self, set_flags, Bitmap, GetFlags, BIND_PER_VCPU};
use ffa_abi::{indirect, CallWidth, FunctionId, PartitionId, Status, Uuid};
use kernel::cells::{OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::interrupt::{InterruptClient, InterruptLines};
use kernel::hil::smccc::SmcccRegisters;
use kernel::init_queue::{ConditionId, ConditionSet, Probe, ProbeResult, Queue};

/// Most `FFA_NOTIFICATION_INFO_GET` calls per SRI (it may say "more pending").
pub const MAXIMUM_INFO_ROUNDS: usize = 8;

/// Told of a partition's notifications.
pub trait NotificationClient {
    /// `bitmap` arrived from `partition` (`vcpu`: the vCPU of a per-vCPU binding).
    fn notified(&self, partition: PartitionId, bitmap: Bitmap, vcpu: Option<u16>);
}

/// Told of a partition's indirect messages.
pub trait MessageClient {
    /// `payload` arrived from `partition`, for `service` (nil: none named).
    /// The bytes are only valid during the call.
    fn message(&self, partition: PartitionId, payload: &[u8], service: Uuid);
}

/// What the service did, for the boot report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct NotificationCounters {
    /// Schedule receiver interrupts taken.
    pub sri: u32,
    /// `FFA_NOTIFICATION_INFO_GET` calls.
    pub info_rounds: u32,
    /// Notification IDs handed to drivers.
    pub delivered: u32,
    /// Notification IDs pending that nobody bound.
    pub unbound: u32,
    /// Notification IDs this side set for partitions.
    pub set: u32,
    /// Indirect messages handed to drivers.
    pub messages_received: u32,
    /// Indirect messages sent.
    pub messages_sent: u32,
    /// Indirect messages refused (bad header, no driver, too large).
    pub messages_refused: u32,
}

/// A notification binding, as the report shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct BindingSummary {
    /// The sender.
    pub partition: PartitionId,
    /// The IDs.
    pub bitmap: Bitmap,
    /// Per-vCPU or global.
    pub per_vcpu: bool,
}

/// What one `FFA_NOTIFICATION_GET` found pending (the console's `ffa notify get`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct PendingNotifications {
    /// The vCPU the GET was made for.
    pub vcpu: u16,
    /// The partitions' notifications pending (w2/w3), now handed to the
    /// drivers that bound them.
    pub partitions: Bitmap,
    /// The SPM's framework notifications (w6: bit 0, "RX buffer full").
    pub framework: u32,
}

/// Bytes of a received message [`MessageSummary`] keeps.
pub const MESSAGE_HEAD: usize = 32;

/// The last indirect message handed to a driver, as the console shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MessageSummary {
    /// The sender.
    pub sender: PartitionId,
    /// The service the header named (nil: none, or a v1.1 header).
    pub service: Uuid,
    /// Payload bytes.
    pub size: u32,
    /// The payload's first bytes (up to [`MESSAGE_HEAD`]; see [`MessageSummary::head`]).
    head: [u8; MESSAGE_HEAD],
}

impl MessageSummary {
    /// The summary of `payload` from `sender`, for `service`.
    pub fn of(sender: PartitionId, service: Uuid, payload: &[u8]) -> MessageSummary {
        let mut head = [0u8; MESSAGE_HEAD];
        let kept = payload.len().min(MESSAGE_HEAD);
        head[..kept].copy_from_slice(&payload[..kept]);
        MessageSummary {
            sender,
            service,
            size: payload.len() as u32,
            head,
        }
    }

    /// The payload's first bytes (all of it, if at most [`MESSAGE_HEAD`]).
    pub fn head(&self) -> &[u8] {
        &self.head[..(self.size as usize).min(MESSAGE_HEAD)]
    }
}

/// What partition handles need of the service.
pub trait NotificationService<'a> {
    /// Binds `bitmap` of this endpoint's notifications to `partition` as the
    /// sender, delivered to `client`.
    fn bind(
        &self,
        partition: &PartitionInfo,
        bitmap: Bitmap,
        per_vcpu: bool,
        client: &'a dyn NotificationClient,
    ) -> Result<(), ClientError>;

    /// Unbinds `bitmap` (bound to `partition`).
    fn unbind(&self, partition: PartitionId, bitmap: Bitmap) -> Result<(), ClientError>;

    /// Sets `partition`'s notifications `bitmap` (for its `vcpu`, if per-vCPU).
    fn set(
        &self,
        partition: &PartitionInfo,
        bitmap: Bitmap,
        vcpu: Option<u16>,
    ) -> Result<(), ClientError>;

    /// Delivers `partition`'s indirect messages to `client`.
    fn set_message_client(
        &self,
        partition: PartitionId,
        client: &'a dyn MessageClient,
    ) -> Result<(), ClientError>;

    /// Sends `payload` to `partition` as an indirect message.
    fn send_message(&self, partition: &PartitionInfo, payload: &[u8]) -> Result<(), ClientError>;

    /// `FFA_NOTIFICATION_GET` of this endpoint's notifications on this
    /// core's vCPU now (as the SRI would): what was pending is handed to
    /// the drivers that bound it (and an indirect message in RX received),
    /// and returned.
    fn get_pending(&self) -> Result<PendingNotifications, ClientError>;

    /// The last indirect message handed to a driver, if any.
    fn last_message(&self) -> Option<MessageSummary>;

    /// What was done so far.
    fn counters(&self) -> NotificationCounters;

    /// The schedule receiver interrupt claimed, if any.
    fn schedule_receiver_interrupt(&self) -> Option<u32>;

    /// Calls `visit` with every binding.
    fn for_each_binding(&self, visit: &mut dyn FnMut(BindingSummary));

    /// Releases the SRI and unbinds everything (the bus is torn down).
    fn teardown(&self);
}

#[derive(Clone, Copy)]
struct Binding<'a> {
    partition: PartitionId,
    bitmap: Bitmap,
    per_vcpu: bool,
    client: &'a dyn NotificationClient,
}

/// The notification and indirect-message service, with room for `BINDINGS`
/// bindings and message clients.
pub struct Notifications<'a, const BINDINGS: usize> {
    client: &'a FfaClient<'a>,
    lines: &'a dyn InterruptLines<'a>,
    queue: &'a dyn Queue<'a>,
    root_probed: ConditionId,
    vcpu: Vcpu,
    scratch: TakeCell<'a, [u8]>,
    deferred_call: DeferredCall,
    bindings: [OptionalCell<Binding<'a>>; BINDINGS],
    message_clients: [OptionalCell<(PartitionId, &'a dyn MessageClient)>; BINDINGS],
    sri: OptionalCell<u32>,
    counters: Cell<NotificationCounters>,
    last_message: Cell<Option<MessageSummary>>,
    /// The service itself, as the SRI's client (set by [`Notifications::setup`]).
    as_interrupt_client: OptionalCell<&'a dyn InterruptClient>,
    /// The service itself, as the client of calls made on other cores.
    as_core_call_client: OptionalCell<&'a dyn CoreCallClient>,
    /// The secondary cores' request engines, by core index.
    core_engines: OptionalCell<&'a [Option<&'a dyn SplitPhaseRequests<'a>>]>,
}

impl<'a, const BINDINGS: usize> Notifications<'a, BINDINGS> {
    /// The service of `client`, started once `root_probed` (the root's
    /// outcome) is signalled on `queue`, taking the SRI from `lines` (make it the SRI's client by
    /// claiming: done at probe). Indirect messages are copied into
    /// `scratch` (its size is the largest message received). Register the
    /// deferred call once it is in its final place.
    pub fn new(
        client: &'a FfaClient<'a>,
        lines: &'a dyn InterruptLines<'a>,
        queue: &'a dyn Queue<'a>,
        root_probed: ConditionId,
        scratch: &'a mut [u8],
    ) -> Self {
        Notifications {
            client,
            lines,
            queue,
            root_probed,
            vcpu: Vcpu::BOOT,
            scratch: TakeCell::new(scratch),
            deferred_call: DeferredCall::new(),
            bindings: core::array::from_fn(|_| OptionalCell::empty()),
            message_clients: core::array::from_fn(|_| OptionalCell::empty()),
            sri: OptionalCell::empty(),
            counters: Cell::new(NotificationCounters::default()),
            last_message: Cell::new(None),
            as_interrupt_client: OptionalCell::empty(),
            as_core_call_client: OptionalCell::empty(),
            core_engines: OptionalCell::empty(),
        }
    }

    /// Lets the service claim the SRI for itself once it is in its final
    /// place (the component calls it).
    pub fn setup(&'a self) {
        self.as_interrupt_client.set(self);
        self.as_core_call_client.set(self);
    }

    /// The secondary cores' request engines (by core index), which make
    /// the GET of their vCPU's per-vCPU notifications on their core.
    pub fn set_core_engines(&self, engines: &'a [Option<&'a dyn SplitPhaseRequests<'a>>]) {
        self.core_engines.set(engines);
    }

    /// Asks core `vcpu`'s engine to make the GET of its vCPU there; `false`
    /// if there is no engine for that core (or it holds a GET already).
    fn get_on_core(&self, session: Session, vcpu: u16) -> bool {
        let Some(engine) = self
            .core_engines
            .get()
            .and_then(|engines| engines.get(usize::from(vcpu)).copied().flatten())
        else {
            return false;
        };
        let Some(client) = self.as_core_call_client.get() else {
            return false;
        };
        engine
            .call_on_core(Self::get_request(session, vcpu), client)
            .is_ok()
    }

    fn count(&self, update: impl FnOnce(&mut NotificationCounters)) {
        let mut counters = self.counters.get();
        update(&mut counters);
        self.counters.set(counters);
    }

    fn session(&self) -> Result<Session, ClientError> {
        self.client.session().ok_or(ClientError::NotInitialized)
    }

    /// The session, if it has notifications (v1.1 and the callee's `BIND`).
    fn notification_session(&self) -> Result<Session, ClientError> {
        let session = self.session()?;
        if !session.version.at_least(SupportedVersion::V1_1) || !session.features.notifications {
            return Err(ClientError::Unsupported);
        }
        Ok(session)
    }

    fn call(&self, request: &Request) -> Result<Reply, ClientError> {
        self.client.conduit().call(request)
    }

    fn call_success(&self, request: &Request) -> Result<(), ClientError> {
        self.client
            .conduit()
            .call_expecting_success(request)
            .map(|_| ())
    }

    /// Handles what the SRI announced (the deferred call's work).
    pub fn drain(&self) {
        let Ok(session) = self.notification_session() else {
            return;
        };
        let function = if session.features.notification_info_get_64 {
            FunctionId::NotificationInfoGet64
        } else {
            FunctionId::NotificationInfoGet32
        };
        for _ in 0..MAXIMUM_INFO_ROUNDS {
            self.count(|counters| counters.info_rounds += 1);
            let registers = match self.call(&Request::new(function)) {
                Ok(Reply::Success(registers)) => registers,
                Err(ClientError::Status(Status::NoData)) => return,
                Ok(other) => {
                    defmt::warn!(
                        "ffa: NOTIFICATION_INFO_GET answered {=u32:#010x}",
                        other.registers().word(0)
                    );
                    return;
                }
                Err(error) => {
                    defmt::warn!("ffa: NOTIFICATION_INFO_GET failed: {}", error);
                    return;
                }
            };
            let width = if registers.word(0) == FunctionId::Success64.raw() {
                CallWidth::Bits64
            } else {
                CallWidth::Bits32
            };
            let words = core::array::from_fn(|index| registers.register(2 + index));
            let Ok(info) = NotificationInfo::decode(words, width) else {
                return;
            };
            for list in info.lists() {
                if list.endpoint != session.own_id {
                    defmt::debug!(
                        "ffa: endpoint {=u16:#06x} has notifications pending (not this one)",
                        list.endpoint.raw()
                    );
                    continue;
                }
                if list.is_global() {
                    self.get(session, self.vcpu.0);
                }
                for vcpu in list.vcpus() {
                    if *vcpu == self.vcpu.0 {
                        self.get(session, *vcpu);
                    } else if self.get_on_core(session, *vcpu) {
                        defmt::info!(
                            "ffa: per-vCPU notifications pending on vCPU {=u16}: got on cpu{=u16}",
                            *vcpu,
                            *vcpu
                        );
                    } else {
                        defmt::warn!(
                            "ffa: per-vCPU notifications pending on vCPU {=u16}; no engine on cpu{=u16} to get them there: left pending",
                            *vcpu,
                            *vcpu
                        );
                    }
                }
            }
            if !info.more_pending() {
                return;
            }
        }
        defmt::warn!(
            "ffa: notifications still pending after {=usize} NOTIFICATION_INFO_GET calls",
            MAXIMUM_INFO_ROUNDS
        );
    }

    /// `FFA_NOTIFICATION_GET` of this endpoint's partitions' and SPM's
    /// notifications, on `vcpu`.
    fn get_request(session: Session, vcpu: u16) -> Request {
        let flags = GetFlags::PARTITIONS.union(GetFlags::SPM_FRAMEWORK);
        Request::new(FunctionId::NotificationGet)
            .with(1, u64::from(vcpu) << 16 | u64::from(session.own_id.raw()))
            .with(2, u64::from(flags.raw()))
    }

    /// `FFA_NOTIFICATION_GET` on `vcpu` (this core's), and what it returned delivered.
    fn get(&self, session: Session, vcpu: u16) {
        let request = Self::get_request(session, vcpu);
        let answer = self.client.conduit().call_expecting_success(&request);
        self.got(session, vcpu, answer);
    }

    /// What a `GET` on `vcpu` answered, delivered.
    fn got(&self, session: Session, vcpu: u16, answer: Result<ReplyRegisters, ClientError>) {
        match answer {
            Ok(registers) => {
                self.deliver(session, vcpu, &registers);
            }
            Err(error) => defmt::warn!(
                "ffa: NOTIFICATION_GET on vCPU {=u16} failed: {}",
                vcpu,
                error
            ),
        }
    }

    /// What a successful `GET` on `vcpu` returned, delivered; and returned.
    fn deliver(
        &self,
        session: Session,
        vcpu: u16,
        registers: &ReplyRegisters,
    ) -> PendingNotifications {
        let pending = Bitmap::from_words(registers.word(2), registers.word(3));
        let framework = registers.word(6);
        let mut left = pending;
        for slot in self.bindings.iter() {
            let Some(binding) = slot.get() else {
                continue;
            };
            let bits = pending.intersection(binding.bitmap);
            if bits.is_empty() {
                continue;
            }
            left = left.without(bits);
            self.count(|counters| counters.delivered += bits.ids().count() as u32);
            binding
                .client
                .notified(binding.partition, bits, binding.per_vcpu.then_some(vcpu));
        }
        if !left.is_empty() {
            self.count(|counters| counters.unbound += left.ids().count() as u32);
            defmt::warn!(
                "ffa: notifications {=u64:#x} pending that no driver bound; dropped",
                left.0
            );
        }
        if framework & notification::FRAMEWORK_RX_BUFFER_FULL != 0 {
            self.receive_message(session);
        }
        PendingNotifications {
            vcpu,
            partitions: pending,
            framework,
        }
    }

    /// The indirect message in RX: checked, copied, RX released, delivered.
    fn receive_message(&self, session: Session) {
        let refused = |this: &Self| this.count(|counters| counters.messages_refused += 1);
        let conduit = self.client.conduit();
        let rx = match self.client.mailbox().message_in_rx(conduit) {
            Ok(rx) => rx,
            Err(error) => {
                defmt::warn!("ffa: RX buffer full, but it cannot be read: {}", error);
                refused(self);
                return;
            }
        };
        let mut bytes = [0u8; indirect::HEADER_SIZE_V1_2];
        let header_length = bytes.len().min(rx.len());
        let header = rx
            .read(0, &mut bytes[..header_length])
            .and_then(|()| MessageHeader::parse(&bytes, rx.len(), session.own_id));
        let header = match header {
            Ok(header) => header,
            Err(_) => {
                // Logged by the parser; RX is released when the guard drops.
                refused(self);
                return;
            }
        };
        let Some(client) = self.message_client(header.sender) else {
            defmt::warn!(
                "ffa: indirect message from {=u16:#06x}, which no driver receives; dropped",
                header.sender.raw()
            );
            refused(self);
            return;
        };
        let Some(scratch) = self.scratch.take() else {
            refused(self);
            return;
        };
        let size = header.size as usize;
        if size > scratch.len() {
            defmt::warn!(
                "ffa: indirect message of {=usize} bytes from {=u16:#06x} is larger than the {=usize}-byte buffer; dropped",
                size,
                header.sender.raw(),
                scratch.len()
            );
            self.scratch.replace(scratch);
            refused(self);
            return;
        }
        let copied = rx.read(header.offset as usize, &mut scratch[..size]);
        if let Err(error) = rx.release() {
            defmt::warn!("ffa: FFA_RX_RELEASE after a message failed: {}", error);
        }
        match copied {
            Ok(()) => {
                self.count(|counters| counters.messages_received += 1);
                defmt::info!(
                    "ffa: indirect message {=u32} received: {=usize} bytes from {=u16:#06x}",
                    self.counters.get().messages_received,
                    size,
                    header.sender.raw()
                );
                self.last_message.set(Some(MessageSummary::of(
                    header.sender,
                    header.service,
                    &scratch[..size],
                )));
                client.message(header.sender, &scratch[..size], header.service);
            }
            Err(error) => {
                defmt::warn!("ffa: indirect message could not be read: {}", error);
                refused(self);
            }
        }
        self.scratch.replace(scratch);
    }

    fn message_client(&self, partition: PartitionId) -> Option<&'a dyn MessageClient> {
        self.message_clients
            .iter()
            .find_map(|slot| slot.get().filter(|(id, _)| *id == partition))
            .map(|(_, client)| client)
    }

    /// The bits of `bitmap` some binding holds already.
    fn bound(&self, bitmap: Bitmap) -> Bitmap {
        self.bindings.iter().fold(Bitmap::EMPTY, |bound, slot| {
            slot.get().map_or(bound, |binding| {
                bound.union(binding.bitmap.intersection(bitmap))
            })
        })
    }
}

impl<'a, const BINDINGS: usize> NotificationService<'a> for Notifications<'a, BINDINGS> {
    fn bind(
        &self,
        partition: &PartitionInfo,
        bitmap: Bitmap,
        per_vcpu: bool,
        client: &'a dyn NotificationClient,
    ) -> Result<(), ClientError> {
        let session = self.notification_session()?;
        if !partition.properties.notifications() {
            return Err(ClientError::Unsupported);
        }
        if bitmap.is_empty() {
            return Err(ClientError::InvalidArgument("no notification ID to bind"));
        }
        if !self.bound(bitmap).is_empty() {
            return Err(ClientError::InvalidArgument(
                "notification ID bound already",
            ));
        }
        let free = self
            .bindings
            .iter()
            .find(|slot| slot.is_none())
            .ok_or(ClientError::TableFull { capacity: BINDINGS })?;
        let (low, high) = bitmap.words();
        let request = Request::new(FunctionId::NotificationBind)
            .with(
                1,
                u64::from(partition.id.raw()) << 16 | u64::from(session.own_id.raw()),
            )
            .with(
                2,
                if per_vcpu {
                    u64::from(BIND_PER_VCPU)
                } else {
                    0
                },
            )
            .with(3, u64::from(low))
            .with(4, u64::from(high));
        self.call_success(&request).inspect_err(|error| {
            defmt::warn!(
                "ffa: NOTIFICATION_BIND of {=u64:#x} to {=u16:#06x} failed: {}",
                bitmap.0,
                partition.id.raw(),
                error
            )
        })?;
        free.set(Binding {
            partition: partition.id,
            bitmap,
            per_vcpu,
            client,
        });
        Ok(())
    }

    fn unbind(&self, partition: PartitionId, bitmap: Bitmap) -> Result<(), ClientError> {
        let session = self.notification_session()?;
        let owned = self.bindings.iter().fold(Bitmap::EMPTY, |owned, slot| {
            slot.get()
                .filter(|binding| binding.partition == partition)
                .map_or(owned, |binding| owned.union(binding.bitmap))
        });
        if bitmap.is_empty() || !bitmap.without(owned).is_empty() {
            return Err(ClientError::InvalidArgument(
                "notification ID not bound to it",
            ));
        }
        let (low, high) = bitmap.words();
        let request = Request::new(FunctionId::NotificationUnbind)
            .with(
                1,
                u64::from(partition.raw()) << 16 | u64::from(session.own_id.raw()),
            )
            .with(3, u64::from(low))
            .with(4, u64::from(high));
        self.call_success(&request)?;
        for slot in self.bindings.iter() {
            if let Some(mut binding) = slot.get().filter(|binding| binding.partition == partition) {
                binding.bitmap = binding.bitmap.without(bitmap);
                if binding.bitmap.is_empty() {
                    slot.clear();
                } else {
                    slot.set(binding);
                }
            }
        }
        Ok(())
    }

    fn set(
        &self,
        partition: &PartitionInfo,
        bitmap: Bitmap,
        vcpu: Option<u16>,
    ) -> Result<(), ClientError> {
        let session = self.notification_session()?;
        if !partition.properties.notifications() {
            return Err(ClientError::Unsupported);
        }
        if bitmap.is_empty() {
            return Err(ClientError::InvalidArgument("no notification ID to set"));
        }
        let flags = match vcpu {
            Some(vcpu) => set_flags::PER_VCPU | u32::from(vcpu) << set_flags::VCPU_SHIFT,
            None => 0,
        };
        let (low, high) = bitmap.words();
        let request = Request::new(FunctionId::NotificationSet)
            .with(
                1,
                u64::from(session.own_id.raw()) << 16 | u64::from(partition.id.raw()),
            )
            .with(2, u64::from(flags))
            .with(3, u64::from(low))
            .with(4, u64::from(high));
        self.call_success(&request)?;
        self.count(|counters| counters.set += bitmap.ids().count() as u32);
        Ok(())
    }

    fn set_message_client(
        &self,
        partition: PartitionId,
        client: &'a dyn MessageClient,
    ) -> Result<(), ClientError> {
        let slot = self
            .message_clients
            .iter()
            .find(|slot| slot.get().is_none_or(|(id, _)| id == partition))
            .ok_or(ClientError::TableFull { capacity: BINDINGS })?;
        slot.set((partition, client));
        Ok(())
    }

    fn send_message(&self, partition: &PartitionInfo, payload: &[u8]) -> Result<(), ClientError> {
        let session = self.session()?;
        if !session.version.at_least(SupportedVersion::V1_1)
            || !session.features.indirect_messaging
            || !partition.properties.indirect_messaging()
        {
            return Err(ClientError::Unsupported);
        }
        let layout = HeaderLayout::for_version(session.version.supported());
        let header = MessageHeader::new(
            layout,
            session.own_id,
            partition.id,
            payload.len() as u32,
            partition.uuid,
        );
        let mailbox = self.client.mailbox();
        let tx = mailbox.tx()?;
        if layout.size() + payload.len() > tx.len() {
            return Err(ClientError::BufferTooSmall {
                required: layout.size() + payload.len(),
                available: tx.len(),
            });
        }
        tx.write(0, &header.encode()[..layout.size()])?;
        tx.write(layout.size(), payload)?;
        mailbox
            .call_with_tx(
                self.client.conduit(),
                tx,
                &Request::new(FunctionId::MessageSend2),
            )?
            .expect_success()?;
        self.count(|counters| counters.messages_sent += 1);
        Ok(())
    }

    fn get_pending(&self) -> Result<PendingNotifications, ClientError> {
        let session = self.notification_session()?;
        let registers = self
            .client
            .conduit()
            .call_expecting_success(&Self::get_request(session, self.vcpu.0))?;
        Ok(self.deliver(session, self.vcpu.0, &registers))
    }

    fn last_message(&self) -> Option<MessageSummary> {
        self.last_message.get()
    }

    fn counters(&self) -> NotificationCounters {
        self.counters.get()
    }

    fn schedule_receiver_interrupt(&self) -> Option<u32> {
        self.sri.get()
    }

    fn for_each_binding(&self, visit: &mut dyn FnMut(BindingSummary)) {
        for binding in self.bindings.iter().filter_map(OptionalCell::get) {
            visit(BindingSummary {
                partition: binding.partition,
                bitmap: binding.bitmap,
                per_vcpu: binding.per_vcpu,
            });
        }
    }

    fn teardown(&self) {
        if let Some(id) = self.sri.take() {
            let _ = self.lines.release(id);
        }
        for slot in self.bindings.iter() {
            if let Some(binding) = slot.take() {
                let _ = self.unbind_quietly(binding);
            }
        }
    }
}

impl<const BINDINGS: usize> Notifications<'_, BINDINGS> {
    fn unbind_quietly(&self, binding: Binding<'_>) -> Result<(), ClientError> {
        let session = self.session()?;
        let (low, high) = binding.bitmap.words();
        self.call_success(
            &Request::new(FunctionId::NotificationUnbind)
                .with(
                    1,
                    u64::from(binding.partition.raw()) << 16 | u64::from(session.own_id.raw()),
                )
                .with(3, u64::from(low))
                .with(4, u64::from(high)),
        )
    }
}

impl<const BINDINGS: usize> InterruptClient for Notifications<'_, BINDINGS> {
    fn interrupt(&self, _id: u32) {
        self.count(|counters| counters.sri += 1);
        // The SMCs run from the deferred call, after the interrupt is ended.
        self.deferred_call.set();
    }
}

impl<const BINDINGS: usize> CoreCallClient for Notifications<'_, BINDINGS> {
    fn call_done(&self, core: usize, reply: Result<SmcccRegisters, ClientError>) {
        let Ok(session) = self.notification_session() else {
            return;
        };
        let answer = reply.and_then(|raw| Reply::decode(&raw)?.expect_success());
        self.got(session, core as u16, answer);
    }
}

impl<const BINDINGS: usize> DeferredCallClient for Notifications<'static, BINDINGS> {
    fn handle_deferred_call(&self) {
        self.drain();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl<const BINDINGS: usize> Probe for Notifications<'_, BINDINGS> {
    fn probe(&self) -> ProbeResult {
        if !self.queue.is_signalled(self.root_probed) {
            return ProbeResult::Defer(ConditionSet::of(self.root_probed));
        }
        if self.client.session().is_none() {
            defmt::warn!("ffa: notifications not started: the FF-A root is not up");
            return ProbeResult::Failed(kernel::ErrorCode::NODEVICE);
        }
        let Ok(session) = self.notification_session() else {
            defmt::info!("ffa: notifications not offered (v1.0, or the callee has none)");
            return ProbeResult::Unbound;
        };
        let Some(id) = session.features.schedule_receiver_interrupt else {
            defmt::warn!(
                "ffa: notifications without a schedule receiver interrupt: pending ones are not seen"
            );
            return ProbeResult::Ready;
        };
        if self.sri.is_none() {
            let Some(me) = self.as_interrupt_client.get() else {
                defmt::error!("ffa: notifications: set up without its interrupt client");
                return ProbeResult::Failed(kernel::ErrorCode::FAIL);
            };
            if let Err(error) = self.lines.claim(id, me) {
                defmt::error!(
                    "ffa: the schedule receiver interrupt {=u32} cannot be claimed: {}",
                    id,
                    error
                );
                return ProbeResult::Failed(error);
            }
            self.sri.set(id);
        }
        defmt::info!(
            "ffa: notifications: the schedule receiver interrupt is {=u32}",
            id
        );
        ProbeResult::Ready
    }
}
