//! The console's `ffa` commands: what the FF-A bus holds, and raw calls to
//! the secure world.
//!
//! [`FfaCommands`] is a `capsule_console::CommandGroup` over the bus (a
//! narrow view: the session, the partition devices, the client's discovery
//! and direct requests) and the time HIL (for round-trip times). Listing
//! and `info` read the bus and print each partition in the boot report's
//! words, so their output can be compared with it; `info` adds what the ID
//! names ([`PartitionKind`]: a PE endpoint, or a SEPID, which takes no
//! message) and the properties at the revision they were read (v1.3's
//! bits when the SPMC gave v1.3 descriptors, as Hafnium does); `status`
//! adds the RX/TX size asked for and the one set-up chose. `discover`,
//! `ping` and `send*` call the secure world now. Every call is bounded by the client's
//! retry policy (`BUSY`/`RETRY` retries, `FFA_RUN` resumptions), so a
//! partition that never answers costs a bounded number of calls, and the
//! console gets its prompt back.
//!
//! ```text
//! console> ffa ping 0x8001
//! ffa ping: 0x8001 answered in 62 us: w0=0x84000070 w1=0x80010000 w2=0x0 w3=0x0 w4=0x0 w5=0x0 w6=0x0 w7=0x0
//! console> ffa send2 0x8002 88886b1c-15ad-4435-a3f8-e2919eacb5b7 1
//! error: not supported by partition 0x8002: it does not receive DIRECT_REQ2 (properties bit 9)
//! ```
//!
//! Commands of other FF-A features are groups of their own, registered
//! beside this one: [`memory::MemoryCommands`] (`ffa share`, `ffa lend`,
//! `ffa reclaim`, `ffa memcheck`, `ffa mem`, on scratch regions of the
//! kernel's page pool) coexists with `ffa list` here, and so does
//! [`notifications::NotificationCommands`] (`ffa notify`, `ffa notify
//! bind|unbind|set|get`, `ffa msg`, `ffa msg send|recv`, over the bus's
//! notification service).

pub mod memory;
pub mod notifications;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use capsule_console::words::parse_number;
use ffa_abi::{PartitionId, Uuid};
use kernel::hil::time::Time;
use kernel::init_queue::Queue;

use crate::bus::{FfaBus, PartitionDevice};
use crate::client::RxTxSize;
use crate::client::Session;
use crate::conduit::ReplyRegisters;
use crate::discovery;
use crate::error::ClientError;
use crate::messaging::{DirectMessage, DirectMessage2, DirectMessage32, DirectMessage64};
use crate::partition::{PartitionIdType, PartitionInfo, PartitionKind, PropertiesRevision};
use crate::report::{KindSummary, PropertySummary};
use crate::version::SupportedVersion;

/// Most descriptors `ffa discover` takes from one answer.
const DISCOVERY_CAPACITY: usize = 32;

/// What `ffa info` and `ffa ping` take: a partition ID.
const PARTITION_ID: &str = "a 16-bit partition ID such as 0x8001";
/// A 32-bit payload word.
const WORD_32: &str = "a 32-bit value";
/// A 64-bit payload register.
const WORD_64: &str = "a 64-bit value";
/// A UUID.
const UUID: &str = "a UUID such as fa791f17-febd-4861-81d0-4b5dae9cb9cb";

/// The `ffa` commands, in `help`'s order.
static FFA_COMMANDS: [Command; 9] = [
    Command::new(
        "ffa",
        "",
        "the FF-A session and partitions again, as the boot report (same as ffa status)",
    ),
    Command::new(
        "ffa status",
        "",
        "the boot report again: version, own ID, buffers and their size, readiness, offered ABIs, partitions, drivers",
    ),
    Command::new(
        "ffa list",
        "",
        "the partitions on the FF-A bus: ID, UUID, contexts or kind of ID, properties, bound driver",
    ),
    Command::new(
        "ffa info",
        "<id|uuid>",
        "one partition in full (kind of ID, SEPIDs, v1.3 properties), and which direct requests reach it",
    ),
    Command::new(
        "ffa discover",
        "[--count] [uuid]",
        "asks the SPMC for its partitions now (FFA_PARTITION_INFO_GET), or only their number",
    ),
    Command::new(
        "ffa ping",
        "<id>",
        "a 32-bit direct request with a zero payload: the response and the round-trip time",
    ),
    Command::new(
        "ffa send",
        "<id> <w3> [w4..w7]",
        "a 32-bit direct request (FFA_MSG_SEND_DIRECT_REQ_32); prints every response register",
    ),
    Command::new(
        "ffa send64",
        "<id> <x3> [x4..x7]",
        "a 64-bit direct request (FFA_MSG_SEND_DIRECT_REQ_64); prints every response register",
    ),
    Command::new(
        "ffa send2",
        "<id> <uuid> <x4> [x5..x17]",
        "a DIRECT_REQ2 to the partition's service uuid (v1.2); prints every response register",
    ),
];

/// The `ffa` command group.
pub struct FfaCommands<'a, const PARTITIONS: usize> {
    bus: &'a FfaBus<'a, PARTITIONS>,
    queue: &'a dyn Queue<'a>,
    time: &'a dyn Time,
}

/// How the partition is named on the command line.
#[derive(Clone, Copy)]
enum Selector {
    Id(PartitionId),
    Uuid(Uuid),
}

impl<'a, const PARTITIONS: usize> FfaCommands<'a, PARTITIONS> {
    /// The commands over `bus`, whose readiness conditions are on `queue`;
    /// round trips are timed with `time`.
    pub fn new(
        bus: &'a FfaBus<'a, PARTITIONS>,
        queue: &'a dyn Queue<'a>,
        time: &'a dyn Time,
    ) -> FfaCommands<'a, PARTITIONS> {
        FfaCommands { bus, queue, time }
    }

    /// `ffa` and `ffa status`.
    fn status(&self) {
        let state = self.bus.state();
        match self.bus.client().session() {
            Some(session) => defmt::println!(
                "ffa status: root {}, FF-A v{=u16}.{=u16} (SMCCC {=u16}.{=u16}), own ID {=u16:#06x}, RX/TX {=usize} bytes ({=u32} pages), {=usize} partitions",
                state,
                session.version.version().major(),
                session.version.version().minor(),
                session.smccc_version.major(),
                session.smccc_version.minor(),
                session.own_id.raw(),
                session.buffers.size,
                session.buffers.pages,
                self.bus.device_count()
            ),
            None => defmt::println!("ffa status: root {}, no FF-A session", state),
        }
        let requested = self.bus.client().config().requested_version.version();
        defmt::println!(
            "ffa status: the client asks for v{=u16}.{=u16}; calls go through {}",
            requested.major(),
            requested.minor(),
            self.bus.client().conduit().kind()
        );
        for condition in self.bus.prerequisites().iter() {
            let state = if self.queue.is_signalled(condition) {
                "signalled"
            } else {
                "not signalled yet"
            };
            defmt::println!(
                "ffa status: the root waits on {=str}: {=str}",
                self.queue.condition_name(condition),
                state
            );
        }
        if let Some(condition) = self.bus.outcome_condition() {
            let state = if self.queue.is_signalled(condition) {
                "signalled"
            } else {
                "not signalled yet"
            };
            defmt::println!(
                "ffa status: the root signals {=str} once set up or failed (partition drivers wait on it): {=str}",
                self.queue.condition_name(condition),
                state
            );
        }
        self.rxtx_size();
        if let Some(session) = self.bus.client().session() {
            let features = session.features;
            let offered = [
                (features.direct_request_2, " FFA_MSG_SEND_DIRECT_REQ2"),
                (
                    features.partition_info_get_registers,
                    " FFA_PARTITION_INFO_GET_REGS",
                ),
                (features.memory_share, " FFA_MEM_SHARE"),
                (features.memory_lend, " FFA_MEM_LEND"),
                (features.notifications, " FFA_NOTIFICATION_BIND"),
                (features.indirect_messaging, " FFA_MSG_SEND2"),
            ];
            let count = offered.iter().filter(|(present, _)| *present).count();
            let name = |index: usize| {
                if offered[index].0 {
                    offered[index].1
                } else {
                    ""
                }
            };
            defmt::println!(
                "ffa status: the SPMC offers {=usize} optional ABIs{=str}{=str}{=str}{=str}{=str}{=str}{=str}; RX/TX granule {=usize} bytes",
                count,
                if count > 0 { ":" } else { "" },
                name(0),
                name(1),
                name(2),
                name(3),
                name(4),
                name(5),
                features.rxtx_granule.bytes()
            );
        }
        self.asynchronous_status();
        self.list();
    }

    /// The split-phase requests and the notification service, as the boot
    /// report counts them.
    fn asynchronous_status(&self) {
        if let (Some(requests), Some(counters)) = (self.bus.requests(), self.bus.request_counters())
        {
            defmt::println!(
                "ffa status: requests: {=u32} sent, {=u32} answered, {=u32} failed; {=u32} interrupts served, {=u32} yields waited out, {=u32} back-offs; {=str}",
                counters.sent,
                counters.answered,
                counters.failed,
                counters.interrupts,
                counters.yields,
                counters.backoffs,
                if requests.running() {
                    "one holds the vCPU now"
                } else {
                    "the vCPU is free"
                }
            );
        }
        if let Some(notifications) = self.bus.notifications() {
            let counters = notifications.counters();
            match notifications.schedule_receiver_interrupt() {
                Some(id) => defmt::println!(
                    "ffa status: notifications: SRI {=u32}, {=u32} taken; {=u32} delivered, {=u32} unbound, {=u32} set; indirect messages {=u32} received, {=u32} sent, {=u32} dropped",
                    id,
                    counters.sri,
                    counters.delivered,
                    counters.unbound,
                    counters.set,
                    counters.messages_received,
                    counters.messages_sent,
                    counters.messages_refused
                ),
                None => defmt::println!("ffa status: notifications: no SRI claimed"),
            }
            notifications.for_each_binding(&mut |binding| {
                defmt::println!(
                    "ffa status: notification binding: {=u64:#x} from {=u16:#06x} ({=str})",
                    binding.bitmap.0,
                    binding.partition.raw(),
                    if binding.per_vcpu {
                        "per-vCPU"
                    } else {
                        "global"
                    }
                )
            });
        }
    }

    /// The RX/TX size the board asked for, and the one set-up chose.
    fn rxtx_size(&self) {
        let client = self.bus.client();
        let capacity = client.mailbox().capacity();
        match client.config().rxtx_size {
            RxTxSize::Minimum => defmt::println!(
                "ffa status: RX/TX size asked for: the minimum (the SPMC's granule); the buffers hold {=usize} bytes",
                capacity
            ),
            RxTxSize::AtMost(bytes) => defmt::println!(
                "ffa status: RX/TX size asked for: at most {=usize} bytes; the buffers hold {=usize} bytes",
                bytes,
                capacity
            ),
        }
        let Some(session) = client.session() else {
            defmt::println!("ffa status: RX/TX size chosen: none, not mapped");
            return;
        };
        let buffers = session.buffers;
        let granule = session.features.rxtx_granule.bytes();
        let (maximum, maximum_pages) = match session.features.rxtx_maximum_pages {
            Some(pages) => ("the SPMC maps at most ", pages),
            None => ("the SPMC states no maximum", 0),
        };
        match client.mailbox().refused_pages() {
            Some(refused) => defmt::println!(
                "ffa status: RX/TX size chosen: {=usize} bytes ({=u32} pages): the {=usize}-byte granule, after the SPMC refused {=u32} pages (INVALID_PARAMETERS); {=str}{=u16} pages",
                buffers.size,
                buffers.pages,
                granule,
                refused,
                maximum,
                maximum_pages
            ),
            None if maximum_pages != 0 => defmt::println!(
                "ffa status: RX/TX size chosen: {=usize} bytes ({=u32} pages): granule {=usize} bytes, {=str}{=u16} pages",
                buffers.size,
                buffers.pages,
                granule,
                maximum,
                maximum_pages
            ),
            None => defmt::println!(
                "ffa status: RX/TX size chosen: {=usize} bytes ({=u32} pages): granule {=usize} bytes, {=str}",
                buffers.size,
                buffers.pages,
                granule,
                maximum
            ),
        }
    }

    /// `ffa list`: each partition in the boot report's words.
    fn list(&self) {
        if self.bus.device_count() == 0 {
            defmt::println!("ffa list: no partitions (root {})", self.bus.state());
            return;
        }
        self.bus.for_each_device(print_device);
    }

    /// `ffa info <id|uuid>`.
    fn info<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(1, 1)?;
        let selector = selector(arguments, 0, true)?;
        let session = self.bus.client().session();
        let mut shown = 0usize;
        self.bus.for_each_device(|slot, device| {
            let matches = match selector {
                Selector::Id(id) => device.info.id == id,
                Selector::Uuid(uuid) => device.info.uuid == uuid,
            };
            if !matches {
                return;
            }
            shown += 1;
            print_device(slot, device);
            print_kind(slot, &device.info, self.bus);
            print_properties(slot, &device.info, session.as_ref());
            defmt::println!(
                "arm-ffa-{=usize}: reaches it: DIRECT_REQ_32 {=str}, DIRECT_REQ_64 {=str}, DIRECT_REQ2 {=str}",
                slot + 1,
                yes_or_why(direct_request_obstacle(&device.info)),
                yes_or_why(direct_request_64_obstacle(&device.info)),
                yes_or_why(session.map_or(Some("no FF-A session"), |session| {
                    direct_request_2_obstacle(&session, &device.info)
                }))
            );
            if matches!(device.info.properties.id_type(), PartitionIdType::Unreported) {
                defmt::println!(
                    "arm-ffa-{=usize}: v1.0 descriptors carry no UUID; the bus matched it by asking for the drivers' UUIDs",
                    slot + 1
                );
            }
        });
        if shown == 0 {
            return Err(CommandError::Unknown {
                what: "partition",
                argument: arguments.get(0).unwrap_or(""),
            });
        }
        Ok(())
    }

    /// `ffa discover [--count] [uuid]`.
    fn discover<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(0, 2)?;
        let mut count_only = false;
        let mut uuid = Uuid::NIL;
        for argument in arguments.words() {
            if *argument == "--count" && !count_only {
                count_only = true;
            } else if let (Some(parsed), true) = (Uuid::parse(argument), uuid.is_nil()) {
                uuid = parsed;
            } else {
                return Err(CommandError::BadArgument {
                    argument,
                    expected: "--count or a UUID",
                });
            }
        }
        let session = session_of(self.bus)?;
        let client = self.bus.client();
        if count_only {
            if !session.version.at_least(SupportedVersion::V1_1) {
                return not_supported(
                    "count-only discovery (FFA_PARTITION_INFO_GET, flag 1)",
                    "v1.1",
                    &session,
                );
            }
            return match discovery::count(client.conduit(), &session.version, uuid) {
                Ok(count) => {
                    defmt::println!(
                        "ffa discover: the SPMC counts {=u32} partition descriptors for UUID {} (the bus holds {=usize})",
                        count,
                        uuid,
                        self.bus.device_count()
                    );
                    Ok(())
                }
                Err(error) => failed("ffa discover --count", error),
            };
        }
        let mut found = 0usize;
        let mut known = 0usize;
        let bus = self.bus;
        let result = client.discover(uuid, DISCOVERY_CAPACITY, &mut |info| {
            found += 1;
            let mut on_bus = false;
            bus.for_each_device(|_, device| on_bus |= device.info.id == info.id);
            known += usize::from(on_bus);
            defmt::println!(
                "ffa discover: ID {=u16:#06x} UUID {} {} properties {}{=str}",
                info.id.raw(),
                info.uuid,
                KindSummary(info.kind),
                PropertySummary(info.properties),
                if on_bus { "" } else { " (not on the bus)" }
            );
        });
        match result {
            Ok(_) => {
                defmt::println!(
                    "ffa discover: the SPMC reports {=usize} partition descriptors for UUID {} now ({=usize} of them on the bus, which holds {=usize} from boot)",
                    found,
                    uuid,
                    known,
                    self.bus.device_count()
                );
                Ok(())
            }
            Err(error) => failed("ffa discover", error),
        }
    }

    /// `ffa ping <id>`.
    fn ping<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(1, 1)?;
        let (_, device) = device(self.bus, arguments, 0)?;
        session_of(self.bus)?;
        if let Some(why) = direct_request_obstacle(&device.info) {
            return not_supported_by(device.info.id, why);
        }
        self.exchange(
            "ffa ping",
            device.info,
            Uuid::NIL,
            &DirectMessage32::default(),
        )
    }

    /// `ffa send <id> <w3> [w4..w7]`.
    fn send<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 6)?;
        let (_, device) = device(self.bus, arguments, 0)?;
        let mut payload = [0u64; 5];
        arguments.numbers_into(1, &mut payload, u32::MAX as u64, WORD_32)?;
        session_of(self.bus)?;
        if let Some(why) = direct_request_obstacle(&device.info) {
            return not_supported_by(device.info.id, why);
        }
        let message = DirectMessage32::new(payload.map(|word| word as u32));
        self.exchange("ffa send", device.info, Uuid::NIL, &message)
    }

    /// `ffa send64 <id> <x3> [x4..x7]`.
    fn send64<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 6)?;
        let (_, device) = device(self.bus, arguments, 0)?;
        let mut payload = [0u64; 5];
        arguments.numbers_into(1, &mut payload, u64::MAX, WORD_64)?;
        session_of(self.bus)?;
        if let Some(why) = direct_request_64_obstacle(&device.info) {
            return not_supported_by(device.info.id, why);
        }
        self.exchange(
            "ffa send64",
            device.info,
            Uuid::NIL,
            &DirectMessage64::new(payload),
        )
    }

    /// `ffa send2 <id> <uuid> <x4> [x5..x17]`.
    fn send2<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(3, 16)?;
        let (_, device) = device(self.bus, arguments, 0)?;
        let uuid_argument = arguments.get(1).ok_or(CommandError::Usage)?;
        let uuid = Uuid::parse(uuid_argument).ok_or(CommandError::BadArgument {
            argument: uuid_argument,
            expected: UUID,
        })?;
        let mut payload = [0u64; 14];
        arguments.numbers_into(2, &mut payload, u64::MAX, WORD_64)?;
        let session = session_of(self.bus)?;
        if !session.version.at_least(SupportedVersion::V1_2) {
            return not_supported("FFA_MSG_SEND_DIRECT_REQ2", "v1.2", &session);
        }
        if !session.features.direct_request_2 {
            defmt::println!(
                "error: not supported by the SPMC: it does not offer FFA_MSG_SEND_DIRECT_REQ2"
            );
            return Err(CommandError::Reported);
        }
        if let Some(why) = direct_request_2_obstacle(&session, &device.info) {
            return not_supported_by(device.info.id, why);
        }
        self.exchange(
            "ffa send2",
            device.info,
            uuid,
            &DirectMessage2::new(payload),
        )
    }

    /// Sends `message` to the partition and prints the response registers
    /// and the round-trip time.
    fn exchange<'l, M: DirectMessage>(
        &self,
        command: &'static str,
        info: PartitionInfo,
        service: Uuid,
        message: &M,
    ) -> Result<(), CommandError<'l>> {
        let started = self.time.now();
        let result = self.bus.direct_request_reply(info.id, service, message);
        let microseconds = self.time.ticks_to_us(self.time.now().wrapping_sub(started));
        match result {
            Ok(reply) => {
                print_reply::<M>(command, info.id, microseconds, &reply);
                Ok(())
            }
            Err(error) => {
                defmt::println!(
                    "error: {=str}: partition {=u16:#06x} failed after {=u64} us: {}",
                    command,
                    info.id.raw(),
                    microseconds,
                    error
                );
                Err(CommandError::Reported)
            }
        }
    }
}

/// The session on `bus`, or an error saying FF-A is not set up.
fn session_of<'l, const PARTITIONS: usize>(
    bus: &FfaBus<'_, PARTITIONS>,
) -> Result<Session, CommandError<'l>> {
    bus.client().session().ok_or_else(|| {
        defmt::println!(
            "error: FF-A is not set up (the FF-A root is {}); see ffa status and init",
            bus.state()
        );
        CommandError::Reported
    })
}

/// The partition argument `index` names (an ID or, if `uuids`, a UUID).
fn selector<'l>(
    arguments: &Arguments<'l>,
    index: usize,
    uuids: bool,
) -> Result<Selector, CommandError<'l>> {
    let argument = arguments.get(index).ok_or(CommandError::Usage)?;
    if let Some(number) = parse_number(argument) {
        return u16::try_from(number)
            .map(|raw| Selector::Id(PartitionId::new(raw)))
            .map_err(|_| CommandError::BadNumber {
                argument,
                expected: PARTITION_ID,
            });
    }
    match Uuid::parse(argument) {
        Some(uuid) if uuids => Ok(Selector::Uuid(uuid)),
        _ if uuids => Err(CommandError::BadArgument {
            argument,
            expected: "a partition ID (0x8001) or a UUID",
        }),
        _ => Err(CommandError::BadNumber {
            argument,
            expected: PARTITION_ID,
        }),
    }
}

/// The one device on `bus` with the ID argument `index` names.
fn device<'l, const PARTITIONS: usize>(
    bus: &FfaBus<'_, PARTITIONS>,
    arguments: &Arguments<'l>,
    index: usize,
) -> Result<(usize, PartitionDevice), CommandError<'l>> {
    let Selector::Id(id) = selector(arguments, index, false)? else {
        return Err(CommandError::Usage);
    };
    let mut found = None;
    bus.for_each_device(|slot, device| {
        if found.is_none() && device.info.id == id {
            found = Some((slot, *device));
        }
    });
    found.ok_or(CommandError::Unknown {
        what: "partition",
        argument: arguments.get(index).unwrap_or(""),
    })
}

/// One partition device, in the boot report's words.
fn print_device(slot: usize, device: &PartitionDevice) {
    defmt::println!(
        "arm-ffa-{=usize}: ID {=u16:#06x} UUID {} {} properties {} driver {=str}",
        slot + 1,
        device.info.id.raw(),
        device.info.uuid,
        KindSummary(device.info.kind),
        PropertySummary(device.info.properties),
        device.driver.unwrap_or("(none)")
    );
}

/// What the partition's ID names (`ffa info`): a PE endpoint and its
/// execution contexts, or a SEPID (for a dependent peripheral device, with
/// its proxy partition and where that is on the bus), or an auxiliary ID.
fn print_kind<const PARTITIONS: usize>(
    slot: usize,
    info: &PartitionInfo,
    bus: &FfaBus<'_, PARTITIONS>,
) {
    match info.kind {
        PartitionKind::Endpoint { execution_contexts } => defmt::println!(
            "arm-ffa-{=usize}: kind: a PE endpoint (a partition that runs) with {=u16} execution contexts",
            slot + 1,
            execution_contexts
        ),
        PartitionKind::IndependentPeripheral => defmt::println!(
            "arm-ffa-{=usize}: kind: a SEPID (stream endpoint ID) of an independent peripheral device; it runs nothing, so no message reaches it",
            slot + 1
        ),
        PartitionKind::DependentPeripheral { proxy } => {
            let mut proxy_slot = None;
            bus.for_each_device(|slot, device| {
                if proxy_slot.is_none() && device.info.id == proxy {
                    proxy_slot = Some(slot + 1);
                }
            });
            match proxy_slot {
                Some(proxy_slot) => defmt::println!(
                    "arm-ffa-{=usize}: kind: a SEPID (stream endpoint ID) of a dependent peripheral device, reached through its proxy partition {=u16:#06x} (arm-ffa-{=usize})",
                    slot + 1,
                    proxy.raw(),
                    proxy_slot
                ),
                None => defmt::println!(
                    "arm-ffa-{=usize}: kind: a SEPID (stream endpoint ID) of a dependent peripheral device, reached through its proxy partition {=u16:#06x} (not on the bus)",
                    slot + 1,
                    proxy.raw()
                ),
            }
        }
        PartitionKind::Auxiliary => defmt::println!(
            "arm-ffa-{=usize}: kind: an auxiliary ID; it runs nothing, so no message reaches it",
            slot + 1
        ),
    }
}

/// The properties word (`ffa info`), at the revision it was read: what a
/// PE endpoint does, and from v1.3 (Hafnium's 48-byte descriptors) live
/// activation and the CPU cycle management ABIs.
fn print_properties(slot: usize, info: &PartitionInfo, session: Option<&Session>) {
    let properties = info.properties;
    let revision = properties.revision();
    let (major, minor) = match revision {
        PropertiesRevision::V1_0 => (1u16, 0u16),
        PropertiesRevision::V1_1 => (1, 1),
        PropertiesRevision::V1_2 => (1, 2),
        PropertiesRevision::V1_3 => (1, 3),
    };
    let beyond_session = session
        .is_some_and(|session| PropertiesRevision::from(session.version.supported()) < revision);
    defmt::println!(
        "arm-ffa-{=usize}: properties {=u32:#x} read as FF-A v{=u16}.{=u16} defines them{=str}",
        slot + 1,
        properties.raw(),
        major,
        minor,
        if beyond_session {
            " (the SPMC gave v1.3's 48-byte descriptors, newer than the negotiated version)"
        } else {
            ""
        }
    );
    if !properties.describes_an_endpoint() {
        defmt::println!(
            "arm-ffa-{=usize}: ID type {}, execution state {}; the other bits describe PE endpoints only, so are not read",
            slot + 1,
            properties.id_type(),
            properties.execution_state()
        );
        return;
    }
    defmt::println!(
        "arm-ffa-{=usize}: ID type {}, execution state {}, sends direct requests {=bool}, sends REQ2 {=bool}, indirect messaging {=bool}, notifications {=bool}",
        slot + 1,
        properties.id_type(),
        properties.execution_state(),
        properties.sends_direct_requests(),
        properties.sends_direct_requests_2(),
        properties.indirect_messaging(),
        properties.notifications()
    );
    defmt::println!(
        "arm-ffa-{=usize}: told of VM creation {=bool}, of VM destruction {=bool}",
        slot + 1,
        properties.told_of_vm_creation(),
        properties.told_of_vm_destruction()
    );
    if revision >= PropertiesRevision::V1_3 {
        defmt::println!(
            "arm-ffa-{=usize}: v1.3: live activation {=bool}, needs a CPU rendezvous for it {=bool}, SMC64 CPU cycle management ABIs {=bool}",
            slot + 1,
            properties.supports_live_activation(),
            properties.requires_cpu_rendezvous_for_live_activation(),
            properties.supports_smc64_cpu_cycle_management()
        );
    } else {
        defmt::println!(
            "arm-ffa-{=usize}: v1.3: live activation, CPU rendezvous, SMC64 CPU cycle management: not reported (properties read as v{=u16}.{=u16})",
            slot + 1,
            major,
            minor
        );
    }
}

/// Prints the response of a direct request of kind `M`.
fn print_reply<M: DirectMessage>(
    command: &'static str,
    id: PartitionId,
    microseconds: u64,
    reply: &ReplyRegisters,
) {
    let x = &reply.raw().x;
    match M::REQUEST {
        ffa_abi::FunctionId::DirectRequest32 => defmt::println!(
            "{=str}: {=u16:#06x} answered in {=u64} us: w0={=u32:#x} w1={=u32:#x} w2={=u32:#x} w3={=u32:#x} w4={=u32:#x} w5={=u32:#x} w6={=u32:#x} w7={=u32:#x}",
            command,
            id.raw(),
            microseconds,
            x[0] as u32,
            x[1] as u32,
            x[2] as u32,
            x[3] as u32,
            x[4] as u32,
            x[5] as u32,
            x[6] as u32,
            x[7] as u32
        ),
        _ => {
            // DIRECT_REQ_64 and DIRECT_REQ2: x0 to x7, and for REQ2 the rest of its payload.
            defmt::println!(
                "{=str}: {=u16:#06x} answered in {=u64} us: x0={=u64:#x} x1={=u64:#x} x2={=u64:#x} x3={=u64:#x} x4={=u64:#x} x5={=u64:#x} x6={=u64:#x} x7={=u64:#x}",
                command,
                id.raw(),
                microseconds,
                x[0],
                x[1],
                x[2],
                x[3],
                x[4],
                x[5],
                x[6],
                x[7]
            );
            if M::REQUEST == ffa_abi::FunctionId::DirectRequest2 {
                defmt::println!(
                    "{=str}: x8={=u64:#x} x9={=u64:#x} x10={=u64:#x} x11={=u64:#x} x12={=u64:#x} x13={=u64:#x} x14={=u64:#x} x15={=u64:#x} x16={=u64:#x} x17={=u64:#x}",
                    command,
                    x[8],
                    x[9],
                    x[10],
                    x[11],
                    x[12],
                    x[13],
                    x[14],
                    x[15],
                    x[16],
                    x[17]
                );
            }
        }
    }
}

/// Why the ID takes no message at all, if it names no PE endpoint.
fn not_an_endpoint(info: &PartitionInfo) -> Option<&'static str> {
    match info.kind {
        PartitionKind::Endpoint { .. } => None,
        PartitionKind::IndependentPeripheral => {
            Some("it is a SEPID of a peripheral device, not a partition")
        }
        PartitionKind::DependentPeripheral { .. } => Some(
            "it is a SEPID of a peripheral device, not a partition (message its proxy partition)",
        ),
        PartitionKind::Auxiliary => Some("it is an auxiliary ID, not a partition"),
    }
}

/// Why 32-bit direct requests do not reach the partition, if they do not.
fn direct_request_obstacle(info: &PartitionInfo) -> Option<&'static str> {
    not_an_endpoint(info).or_else(|| {
        (!info.properties.receives_direct_requests())
            .then_some("it does not receive direct requests (properties bit 0)")
    })
}

/// Why 64-bit direct requests do not reach the partition, if they do not.
fn direct_request_64_obstacle(info: &PartitionInfo) -> Option<&'static str> {
    direct_request_obstacle(info).or_else(|| {
        (!info.properties.accepts_64_bit_requests())
            .then_some("it runs in AArch32, so 64-bit direct requests do not reach it")
    })
}

/// Why `DIRECT_REQ2` does not reach the partition in this session, if it does not.
fn direct_request_2_obstacle(session: &Session, info: &PartitionInfo) -> Option<&'static str> {
    if !session.version.at_least(SupportedVersion::V1_2) {
        Some("DIRECT_REQ2 needs FF-A v1.2")
    } else if !session.features.direct_request_2 {
        Some("the SPMC does not offer FFA_MSG_SEND_DIRECT_REQ2")
    } else if let Some(why) = not_an_endpoint(info) {
        Some(why)
    } else if !info.properties.receives_direct_requests_2() {
        Some("it does not receive DIRECT_REQ2 (properties bit 9)")
    } else {
        None
    }
}

/// `"yes"`, or why not.
fn yes_or_why(obstacle: Option<&'static str>) -> &'static str {
    obstacle.unwrap_or("yes")
}

/// The partition cannot take this request.
fn not_supported_by<'l>(id: PartitionId, why: &'static str) -> Result<(), CommandError<'l>> {
    defmt::println!(
        "error: not supported by partition {=u16:#06x}: {=str}",
        id.raw(),
        why
    );
    Err(CommandError::Reported)
}

/// `what` needs FF-A `needs`; the session has less.
fn not_supported<'l>(
    what: &'static str,
    needs: &'static str,
    session: &Session,
) -> Result<(), CommandError<'l>> {
    defmt::println!(
        "error: not supported at the negotiated version: {=str} needs FF-A {=str}, this session negotiated v{=u16}.{=u16}",
        what,
        needs,
        session.version.version().major(),
        session.version.version().minor()
    );
    Err(CommandError::Reported)
}

/// An FF-A operation failed.
fn failed<'l>(what: &'static str, error: ClientError) -> Result<(), CommandError<'l>> {
    defmt::println!("error: {=str} failed: {}", what, error);
    Err(CommandError::Reported)
}

impl<const PARTITIONS: usize> CommandGroup for FfaCommands<'_, PARTITIONS> {
    fn commands(&self) -> &'static [Command] {
        &FFA_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "ffa" | "ffa status" => {
                arguments.expect_count(0, 0)?;
                self.status();
                Ok(())
            }
            "ffa list" => {
                arguments.expect_count(0, 0)?;
                self.list();
                Ok(())
            }
            "ffa info" => self.info(arguments),
            "ffa discover" => self.discover(arguments),
            "ffa ping" => self.ping(arguments),
            "ffa send" => self.send(arguments),
            "ffa send64" => self.send64(arguments),
            "ffa send2" => self.send2(arguments),
            _ => Err(CommandError::Usage),
        }
    }
}
