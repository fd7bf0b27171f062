//! The secure world as a whole: its state and the dispatch of one SMC.
//!
//! Order of handling:
//! 1. SMCCC and PSCI functions (see [`crate::smccc`]), whatever the FF-A faults.
//! 2. Anything outside the FF-A range, and every FF-A function when
//!    [`FaultConfig::ffa_absent`] is set, answers x0 = -1 (64-bit).
//! 3. While the SPMC is not ready (delayed readiness fault) every FF-A call,
//!    `FFA_VERSION` included, answers `FFA_ERROR` with the configured error.
//! 4. `FFA_VERSION` negotiates (see [`crate::version`]); any other FF-A call
//!    fixes the caller's version. An SPMC whose major version is not 1 answers
//!    every other call `NOT_SUPPORTED`.
//! 5. The FF-A call is handled with the negotiated version min(caller, SPMC),
//!    and as [`FaultConfig::personality`] says where real SPMCs differ (see
//!    [`crate::Personality`]; TF-A's EL3 SPMC in `tf_a_el3.rs`: the version
//!    is never fixed, no v1.2 messaging ABIs, the caller's values left in
//!    reserved registers);
//!    an FF-A function the model does not implement (or that the normal world
//!    may not invoke, such as `FFA_MSG_SEND_DIRECT_RESP` or `FFA_MSG_WAIT`)
//!    answers `FFA_ERROR(NOT_SUPPORTED)`.
//!
//! The machine (time, the normal world's interrupts, the secure timer) is
//! a [`Platform`]: [`SecureWorld::handle_on`] takes one, and
//! [`SecureWorld::handle`] is the same with a [`FixedClock`]. The secure
//! timer's expiry comes in through [`SecureWorld::secure_timer_expired`].
//!
//! `FFA_RX_RELEASE` while the "RX buffer full" framework notification is
//! still pending (not retrieved with `FFA_NOTIFICATION_GET`) answers
//! `DENIED`, as Hafnium does; a release that succeeds lets a partition's
//! waiting indirect message in (see `crate::indirect`).

use crate::call::{Call, Reply};
use crate::config::FaultConfig;
use crate::discovery;
use crate::function_id::{self, *};
use crate::indirect::{IndirectMessaging, Message};
use crate::mailbox::{BufferPair, Mailbox, ReceiveOwner};
use crate::memory::NormalWorldMemory;
use crate::memory_partition;
use crate::memory_sharing::{self, MemorySharing, TransactionInfo};
use crate::messaging::{self, Progress, Storms};
use crate::notifications::{self, Notifications, PartitionBitmaps};
use crate::notifier::{self, Command, Notifier, Timed};
use crate::optee::{OpTee, OpteeSummary};
use crate::partition::{
    notifier_partition_id, partitions_of, properties, PartitionInfo, MAXIMUM_PARTITION_COUNT,
};
use crate::partition_discovery;
use crate::partition_table::PartitionTable;
use crate::partition_table::PendingRequest;
use crate::personality::Personality;
use crate::platform::{FixedClock, Platform};
use crate::power::PowerStates;
use crate::readiness::Readiness;
use crate::smccc;
use crate::tf_a_el3;
use crate::tpm::config::TpmConfig;
use crate::tpm::{TpmPartition, TPM_PARTITION_ID};
use crate::version::Negotiation;
use crate::{Outcome, Registers};
use ffa_abi::notification::Bitmap;
use ffa_abi::Status;
use ffa_abi::Version;

/// The model of the secure world: fixed-size state, no heap.
///
/// `new` is a `const fn`, so firmware can build one in a `static` initialiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecureWorld {
    config: FaultConfig,
    negotiation: Negotiation,
    readiness: Readiness,
    mailbox: Mailbox,
    partitions: PartitionTable,
    storms: Storms,
    memory_sharing: MemorySharing,
    notifications: Notifications,
    power: PowerStates,
    partition_notifications: [PartitionBitmaps; MAXIMUM_PARTITION_COUNT],
    indirect: IndirectMessaging,
    notifier: Notifier,
    setup_busy_answered: u32,
    /// The core the call being handled was made on (MPIDR Aff0).
    current_core: usize,
    optee: OpTee,
    tpm: TpmPartition,
}

/// The notification bitmaps of the hosted partitions at boot (in the table
/// of a secure world answering as `personality`).
const fn boot_partition_notifications(
    personality: Personality,
) -> [PartitionBitmaps; MAXIMUM_PARTITION_COUNT] {
    let hosted = partitions_of(personality);
    let mut bitmaps = [PartitionBitmaps {
        bound_to_normal_world: 0,
        pending: 0,
    }; MAXIMUM_PARTITION_COUNT];
    let mut index = 0;
    while index < hosted.len() {
        if hosted[index].id == notifier_partition_id(personality) {
            bitmaps[index] = Notifier::boot_bitmaps();
        }
        index += 1;
    }
    bitmaps
}

impl SecureWorld {
    /// A freshly booted secure world with the given faults.
    pub const fn new(config: FaultConfig) -> SecureWorld {
        SecureWorld {
            config,
            negotiation: Negotiation::new(),
            readiness: Readiness::new(),
            mailbox: Mailbox::new(),
            partitions: PartitionTable::new(config.personality),
            storms: Storms::new(&config),
            memory_sharing: MemorySharing::new(&config),
            notifications: Notifications::new(),
            partition_notifications: boot_partition_notifications(config.personality),
            indirect: IndirectMessaging::new(),
            notifier: Notifier::new(),
            setup_busy_answered: 0,
            optee: OpTee::new(&config),
            power: PowerStates::new(),
            current_core: 0,
            tpm: TpmPartition::new(TpmConfig::healthy()),
        }
    }

    /// Makes this world what [`SecureWorld::new`] makes with `config`, in
    /// place: a freshly booted secure world, whatever it went through. A
    /// world is tens of KiB (the memory relayer most of it), and
    /// `*world = SecureWorld::new(config)` builds the new one on the stack
    /// before copying it (the test firmware's EL3 stacks are small); this
    /// resets the large parts element by element, the rest field by field.
    pub fn reset(&mut self, config: FaultConfig) {
        // Every field named, so that a new one cannot be forgotten here.
        let SecureWorld {
            config: own_config,
            negotiation,
            readiness,
            mailbox,
            partitions,
            storms,
            memory_sharing,
            notifications,
            power,
            partition_notifications,
            indirect,
            notifier,
            setup_busy_answered,
            current_core,
            optee,
            tpm,
        } = self;
        *own_config = config;
        *negotiation = Negotiation::new();
        *readiness = Readiness::new();
        *mailbox = Mailbox::new();
        partitions.reset(config.personality);
        *storms = Storms::new(&config);
        memory_sharing.reset(&config);
        *notifications = Notifications::new();
        *power = PowerStates::new();
        *partition_notifications = boot_partition_notifications(config.personality);
        *indirect = IndirectMessaging::new();
        *notifier = Notifier::new();
        *setup_busy_answered = 0;
        *current_core = 0;
        *optee = OpTee::new(&config);
        *tpm = TpmPartition::new(TpmConfig::healthy());
    }

    /// The TPM partition gets `config` (its faults; an absent TPM is
    /// neither discovered nor reachable). Call before the first SMC.
    pub fn configure_tpm(&mut self, config: TpmConfig) {
        self.tpm = TpmPartition::new(config);
        if config.absent {
            self.partitions.remove(TPM_PARTITION_ID);
        }
        if !config.notifications {
            self.partitions
                .clear_properties(TPM_PARTITION_ID, properties::NOTIFICATIONS);
        }
    }

    /// Boots the hosted partitions that keep state in normal-world memory
    /// (the TPM's CRB), as an SPMC boots its partitions before the normal
    /// world runs. Returns whether they found their memory (if not, they
    /// try again at their first request).
    pub fn boot_partitions(&mut self, memory: &mut dyn NormalWorldMemory) -> bool {
        self.tpm.config().absent || self.tpm.boot(memory)
    }

    /// The TPM partition (for tests and the firmware's log).
    pub fn tpm(&self) -> &TpmPartition {
        &self.tpm
    }

    /// Sets how many cores the machine has (the firmware counts them).
    pub fn set_core_count(&mut self, count: usize) {
        self.power.set_core_count(count);
    }

    /// The cores' power states.
    pub fn power(&self) -> &PowerStates {
        &self.power
    }

    /// A core released by `CPU_ON` has entered the normal world.
    pub fn core_arrived(&mut self, core: usize) {
        self.power.arrived(core);
    }

    fn handle_power(&mut self, core: usize, call: &Call<'_>) -> Outcome {
        let psci = |code: i32| Outcome::Return(Reply::smccc(code as i64 as u64).finish(call));
        match call.function_id() {
            PSCI_CPU_ON_32 | PSCI_CPU_ON_64 => {
                match self
                    .power
                    .cpu_on(call.register(1), call.register(2), call.register(3))
                {
                    Ok(release) => Outcome::CpuOn {
                        release,
                        reply: Reply::smccc(0).finish(call),
                    },
                    Err(code) => psci(code),
                }
            }
            PSCI_AFFINITY_INFO_32 | PSCI_AFFINITY_INFO_64 => {
                psci(self.power.affinity_info(call.register(1), call.register(2)))
            }
            _ => match self.power.cpu_off(core) {
                Ok(()) => Outcome::CpuOff,
                Err(code) => psci(code),
            },
        }
    }

    /// Handle one SMC with registers `call` (x0..x17), from the boot core
    /// (see [`SecureWorld::handle_from_core`] for the others). `memory` is the
    /// normal world's physical memory (for the RX/TX buffers) and
    /// `now_microseconds` a monotonic time used by the delayed-readiness fault.
    pub fn handle(
        &mut self,
        call: &Registers,
        memory: &mut dyn NormalWorldMemory,
        now_microseconds: u64,
    ) -> Outcome {
        self.handle_on(call, memory, &mut FixedClock(now_microseconds))
    }

    /// Handle one SMC with registers `call` on `platform`, from the boot
    /// core: its time, the normal world's interrupts (partitions are
    /// preempted by them and raise the schedule receiver interrupt) and the
    /// secure timer.
    pub fn handle_on(
        &mut self,
        call: &Registers,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Outcome {
        self.handle_from_core(0, call, memory, platform)
    }

    /// Handle one SMC from `core` (its MPIDR Aff0) on `platform` (that
    /// core's view of the machine): as [`SecureWorld::handle_on`], and
    /// `PSCI_CPU_OFF` turns that core off.
    pub fn handle_from_core(
        &mut self,
        core: usize,
        call: &Registers,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Outcome {
        let now_microseconds = platform.now_microseconds();
        let call = Call::new(call);
        let function_id = call.function_id();
        self.current_core = core;
        if smccc::is_power_call(function_id) {
            return self.handle_power(core, &call);
        }
        if smccc::handles(function_id) {
            return smccc::handle(&call);
        }
        let reply = if !function_id::is_ffa(function_id) || self.config.ffa_absent {
            Reply::unknown_function()
        } else if let Some(error) = self.readiness.check(&self.config, now_microseconds) {
            Reply::error(error)
        } else {
            self.handle_ffa(&call, memory, platform)
        };
        let registers = reply.finish(&call);
        if self.is_tf_a() && function_id::is_ffa(function_id) && !self.config.ffa_absent {
            return Outcome::Return(tf_a_el3::finish(&call, registers));
        }
        Outcome::Return(registers)
    }

    /// The partitions the model hosts.
    pub fn partitions(&self) -> &[PartitionInfo] {
        self.partitions.information()
    }

    /// The configuration the model was created with.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// The SPMC's own FF-A version.
    pub fn spmc_version(&self) -> Version {
        Version::new(self.config.spmc_version.0, self.config.spmc_version.1)
    }

    /// The version the caller asked for (v1.0 if it has not called `FFA_VERSION`).
    pub fn caller_version(&self) -> Version {
        self.negotiation.caller_version()
    }

    /// The version whose rules apply to the caller: min(caller, SPMC).
    pub fn negotiated_version(&self) -> Version {
        if self.is_tf_a() {
            return tf_a_el3::negotiated(self.negotiation.requested(), self.spmc_version());
        }
        self.negotiation.negotiated(self.spmc_version())
    }

    /// The caller's mapped RX/TX buffer pair, if any.
    pub fn buffer_pair(&self) -> Option<BufferPair> {
        self.mailbox.pair()
    }

    /// Who owns the RX buffer (meaningful when a pair is mapped).
    pub fn receive_owner(&self) -> ReceiveOwner {
        self.mailbox.receive_owner()
    }

    /// OP-TEE's state (when the model answers as OP-TEE's SPMC; for tests).
    pub fn optee(&self) -> OpteeSummary {
        self.optee.summary()
    }

    /// The live memory transactions (for tests).
    pub fn memory_transactions(&self) -> impl Iterator<Item = TransactionInfo> + '_ {
        self.memory_sharing.transactions()
    }

    /// Hosted partition `partition` retrieves transaction `handle` (sent by
    /// `sender` with `tag`) asking for the `permissions` byte, as its memory
    /// check would, but keeps it: a test's borrower that holds on. Returns
    /// the response's length and fragments.
    pub fn partition_retrieve(
        &mut self,
        memory: &mut dyn NormalWorldMemory,
        partition: u16,
        handle: u64,
        sender: u16,
        tag: u64,
        permissions: u8,
    ) -> Result<(usize, u16), Status> {
        let mut descriptor = [0u8; memory_sharing::DESCRIPTOR_CAPACITY];
        let retrieval = memory_partition::Retrieval {
            sender,
            handle,
            tag,
            transaction_type: 0,
            permissions,
        };
        memory_partition::retrieve_into(
            &mut self.memory_sharing,
            memory,
            self.config.personality,
            partition,
            memory_partition::partition_layout(&self.config),
            &retrieval,
            &mut descriptor,
        )
        .map(|received| (received.length, received.fragments))
        .map_err(|(_, status)| status)
    }

    /// Hosted partition `partition` relinquishes transaction `handle`.
    pub fn partition_relinquish(
        &mut self,
        memory: &mut dyn NormalWorldMemory,
        partition: u16,
        handle: u64,
    ) -> Result<(), Status> {
        let mut relinquish = [0u8; 18];
        relinquish[..8].copy_from_slice(&handle.to_le_bytes());
        relinquish[12..16].copy_from_slice(&1u32.to_le_bytes());
        relinquish[16..].copy_from_slice(&partition.to_le_bytes());
        self.memory_sharing
            .relinquish(memory, self.config.personality, partition, &relinquish)
    }

    fn is_tf_a(&self) -> bool {
        self.config.personality == Personality::TfAEl3Spmc
    }

    /// The secure timer expired: partitions do what they armed it for (the
    /// notifier's timed notifications), and it is armed for what is next.
    pub fn secure_timer_expired(
        &mut self,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) {
        let now = platform.now_microseconds();
        let due = self.notifier.take_due(now);
        if !due.is_empty() {
            // An ID the normal world did not bind is skipped.
            let _ = self.notify_normal_world(due, None, platform);
        }
        if let Some(id) = self.tpm.expire(now, memory) {
            let notified = self.notifications.signal_normal_world(
                TPM_PARTITION_ID,
                Bitmap::of(id),
                None,
                self.config.personality,
                platform,
            );
            if notified.is_err() {
                self.tpm.notification_failed();
            }
        }
        let version = self.negotiated_version();
        self.indirect.deliver(
            version,
            &mut self.mailbox,
            memory,
            &mut self.notifications,
            self.config.personality,
            platform,
        );
        platform.set_secure_timer(self.next_secure_deadline());
    }

    /// When the secure timer is next wanted: the notifier's timed
    /// notifications, the TPM's background command.
    fn next_secure_deadline(&self) -> Option<u64> {
        match (self.notifier.next_deadline(), self.tpm.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the normal world's notification bitmaps exist.
    pub fn normal_world_notifications_enabled(&self) -> bool {
        self.notifications.normal_world_enabled()
    }

    /// Whether a partition's indirect message waits for the normal world's RX buffer.
    pub fn message_waiting(&self) -> bool {
        self.indirect.has_outbound()
    }

    /// The notifier sets `bitmap` for the normal world, each ID on its own
    /// (an ID the normal world did not bind to it is skipped).
    fn notify_normal_world(
        &mut self,
        bitmap: Bitmap,
        vcpu: Option<u16>,
        platform: &mut dyn Platform,
    ) -> Result<(), Status> {
        let personality = self.config.personality;
        let mut outcome = Ok(());
        for id in bitmap.ids() {
            if let Err(status) = self.notifications.signal_normal_world(
                notifier_partition_id(personality),
                Bitmap::of(id),
                vcpu,
                personality,
                platform,
            ) {
                outcome = Err(status);
            }
        }
        outcome
    }

    /// The notifier answers `pending` (its command).
    fn serve_notifier(
        &mut self,
        index: usize,
        pending: PendingRequest,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Reply {
        let mut payload = pending.payload;
        let response: [u64; 5] = match Command::decode(&pending.payload) {
            Command::NotifyNow { bitmap, vcpu } => {
                let status = self.notify_normal_world(bitmap, vcpu, platform);
                [0, notifier::status_word(status), 0, 0, 0]
            }
            Command::NotifyLater { bitmap, delay_us } => {
                let deadline_us = platform.now_microseconds().saturating_add(delay_us);
                let status = self.notifier.arm(Timed {
                    deadline_us,
                    bitmap,
                });
                platform.set_secure_timer(self.next_secure_deadline());
                [notifier::status_word(status), 0, 0, 0, 0]
            }
            Command::SendMessage { length, first } => {
                let message = Message::pattern(
                    notifier_partition_id(self.config.personality),
                    length,
                    first,
                );
                let status = self.indirect.queue(message);
                let version = self.negotiated_version();
                self.indirect.deliver(
                    version,
                    &mut self.mailbox,
                    memory,
                    &mut self.notifications,
                    self.config.personality,
                    platform,
                );
                [notifier::status_word(status), 0, 0, 0, 0]
            }
            Command::Statistics => {
                Notifier::statistics(self.indirect.counters, self.notifications.counters)
            }
            Command::Unknown => [
                notifier::status_word(Err(Status::InvalidParameters)),
                0,
                0,
                0,
                0,
            ],
        };
        payload[..5].copy_from_slice(&response);
        messaging::respond(&self.partitions, index, &payload, pending, &self.config)
    }

    fn progress(
        &mut self,
        progress: Progress,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Reply {
        match progress {
            Progress::Reply(reply) => reply,
            Progress::Serve { index, pending } => {
                self.serve_notifier(index, pending, memory, platform)
            }
        }
    }

    fn handle_ffa(
        &mut self,
        call: &Call<'_>,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Reply {
        let own = self.spmc_version();
        let function_id = call.function_id();
        if function_id == FFA_VERSION {
            return discovery::version(&mut self.negotiation, own, call);
        }
        let personality = self.config.personality;
        let tf_a = self.is_tf_a();
        if personality.fixes_the_version() {
            self.negotiation.fix();
        }
        if own.major() != 1 || (tf_a && !tf_a_el3::implements(function_id)) {
            return Reply::error(Status::NotSupported);
        }
        let version = self.negotiated_version();
        let set_up = matches!(
            function_id,
            FFA_ID_GET
                | FFA_FEATURES
                | FFA_RXTX_MAP_32
                | FFA_RXTX_MAP_64
                | FFA_PARTITION_INFO_GET
                | FFA_PARTITION_INFO_GET_REGS
        );
        if set_up && self.setup_busy_answered < u32::from(self.config.setup_busy_calls) {
            self.setup_busy_answered += 1;
            return Reply::error(Status::Busy);
        }
        // OP-TEE's own partition, when the model is OP-TEE's SPMC.
        if let Some(reply) =
            self.optee
                .intercept(call, &mut self.memory_sharing, memory, &self.config)
        {
            return reply;
        }
        // The echo partition's memory checks (ffa_abi::memory_check).
        if let Some(reply) =
            memory_partition::intercept(call, &mut self.memory_sharing, memory, &self.config)
        {
            return reply;
        }
        let result = |outcome: Result<(), Status>| match outcome {
            Ok(()) => Reply::success_32(),
            Err(error) => Reply::error(error),
        };
        match function_id {
            FFA_FEATURES => match tf_a
                .then(|| tf_a_el3::features(call))
                .flatten()
                .or_else(|| memory_sharing::features(personality, call.word(1)))
            {
                Some(reply) => reply,
                None => discovery::features(version, personality, call),
            },
            FFA_ID_GET => discovery::id_get(),
            FFA_SPM_ID_GET => discovery::spm_id_get(version),
            FFA_RXTX_MAP_32 | FFA_RXTX_MAP_64 => {
                if self.config.deny_rxtx_map {
                    return Reply::error(Status::Denied);
                }
                result(self.mailbox.map(
                    call.register(1),
                    call.register(2),
                    call.word(3),
                    personality.maximum_rxtx_pages(),
                    memory,
                ))
            }
            FFA_RXTX_UNMAP => result(self.mailbox.unmap(call.word(1))),
            FFA_RX_RELEASE => {
                if self.notifications.receive_buffer_full_pending() {
                    return Reply::error(Status::Denied);
                }
                let released = self.mailbox.release(call.word(1));
                if released.is_ok() {
                    self.indirect.deliver(
                        version,
                        &mut self.mailbox,
                        memory,
                        &mut self.notifications,
                        self.config.personality,
                        platform,
                    );
                }
                result(released)
            }
            FFA_RX_ACQUIRE if version >= Version::V1_1 => {
                result(self.mailbox.acquire(call.word(1)))
            }
            FFA_PARTITION_INFO_GET => partition_discovery::partition_info_get(
                &self.partitions,
                &mut self.mailbox,
                memory,
                &self.config,
                version,
                call,
            ),
            FFA_PARTITION_INFO_GET_REGS => partition_discovery::partition_info_get_registers(
                &self.partitions,
                personality,
                version,
                call,
            ),
            FFA_MSG_SEND_DIRECT_REQ_32 | FFA_MSG_SEND_DIRECT_REQ_64 | FFA_MSG_SEND_DIRECT_REQ2 => {
                if let Some(reply) = self.tpm.intercept(call, version, memory, platform) {
                    // The command it may have started runs on the secure timer.
                    platform.set_secure_timer(self.next_secure_deadline());
                    return reply;
                }
                let progress = messaging::direct_request(
                    &mut self.partitions,
                    &mut self.storms,
                    &self.config,
                    version,
                    call,
                    self.current_core,
                    platform,
                );
                self.progress(progress, memory, platform)
            }
            FFA_RUN => {
                let progress = messaging::run(
                    &mut self.partitions,
                    &self.config,
                    call,
                    self.current_core,
                    platform,
                );
                self.progress(progress, memory, platform)
            }
            FFA_MSG_SEND2 => {
                let received = self.indirect.send2(
                    call,
                    version,
                    personality,
                    &self.partitions,
                    &self.mailbox,
                    memory,
                );
                match received {
                    Ok((index, message)) => {
                        let notifier = notifier_partition_id(personality);
                        if self.partitions.information_at(index).id == notifier {
                            // The notifier sends it back.
                            let echo = Message {
                                partition: notifier,
                                ..message
                            };
                            let _ = self.indirect.queue(echo);
                            self.indirect.deliver(
                                version,
                                &mut self.mailbox,
                                memory,
                                &mut self.notifications,
                                self.config.personality,
                                platform,
                            );
                        }
                        Reply::success_32()
                    }
                    Err(error) => Reply::error(error),
                }
            }
            FFA_NOTIFICATION_SET => {
                let delivered = self.notifications.set_for_partition(
                    call,
                    version,
                    personality,
                    &self.partitions,
                    &mut self.partition_notifications,
                );
                match delivered {
                    Ok((index, bitmap)) => {
                        self.partition_notifications[index].pending = 0;
                        if self.partitions.information_at(index).id
                            == notifier_partition_id(personality)
                        {
                            // The notifier answers with the same IDs.
                            let _ = self.notify_normal_world(bitmap, None, platform);
                        }
                        Reply::success_32()
                    }
                    Err(error) => Reply::error(error),
                }
            }
            _ if memory_sharing::handles(function_id) => self.memory_sharing.handle(
                call,
                memory,
                &self.mailbox,
                &self.partitions,
                &self.config,
                version,
            ),
            _ if notifications::handles(function_id) => {
                match self.notifications.handle(
                    call,
                    version,
                    personality,
                    &self.partitions,
                    &mut self.partition_notifications,
                    self.current_core,
                ) {
                    Ok(reply) => reply,
                    Err(error) => Reply::error(error),
                }
            }
            _ => Reply::error(Status::NotSupported),
        }
    }
}
