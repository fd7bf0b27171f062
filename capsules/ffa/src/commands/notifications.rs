//! The console's notification and indirect-message commands: `ffa notify`
//! and `ffa msg`, over the bus's notification service.
//!
//! `ffa notify` shows the service: the schedule receiver interrupt, the
//! counters it keeps, every binding (a driver's, or one made at the
//! console) and what reached the console's own bindings. `ffa notify bind
//! <id> <bit> [--per-vcpu]` binds notification `bit` of this endpoint to
//! the partition as the sender, delivered to the console (which logs each
//! one as it arrives, from the SRI); `ffa notify unbind <id> <bit>` gives
//! back one the console bound (a driver's bindings are the driver's, and
//! refused). `ffa notify set <id> <bit> [vcpu]` sets one of the
//! partition's notifications (`FFA_NOTIFICATION_SET`, this endpoint the
//! sender; for the partition's `vcpu`, per-vCPU). `ffa notify get` makes
//! the `FFA_NOTIFICATION_GET` the SRI's handler makes, on this core's vCPU,
//! and prints what was pending (handed to whoever bound it, as always).
//!
//! `ffa msg send <id> <text|0xhex>` sends an indirect message
//! (`FFA_MSG_SEND2`) with the header of the negotiated version (v1.1's 20
//! bytes, or v1.2's 40 with the partition's UUID); `ffa msg` (or `ffa msg
//! recv`) shows the messages counted and the last one handed to a driver.
//! Received messages are the drivers' (the service hands each to the
//! driver of the partition that sent it); the console only looks.
//!
//! None of these is a direct request, so none needs the vCPU a split-phase
//! request may hold; but each refuses to start while one does, as `ffa
//! send` does, so that a console command never runs in the middle of a
//! driver's exchange (the notifier driver's script answers one
//! notification with the next request). Bad input is refused before any
//! call, as is what the session, the partition or the board lacks.
//!
//! ```text
//! console> ffa notify bind 0x8004 5
//! ffa notify bind: notification 5 (0x20) of this endpoint bound to 0x8004 (global), delivered to the console
//! console> ffa notify set 0x8004 5
//! ffa notify set: notification 5 (0x20) of 0x8004 set (global)
//! ffa notify: notification 0x20 arrived from 0x8004 (global), bound at the console
//! console> ffa msg send 0x8004 hello from the console
//! ffa msg send: 22 bytes to 0x8004 (FFA_MSG_SEND2, v1.2 header of 40 bytes, service 5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd)
//! console> ffa msg
//! ffa msg: indirect messages 3 received, 2 sent, 0 dropped
//! ffa msg: the last received: 22 bytes from 0x8004 for service 00000000-0000-0000-0000-000000000000: "hello from the console"
//! ```

use core::cell::Cell;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use capsule_console::console::LINE_CAPACITY;
use ffa_abi::notification::Bitmap;
use ffa_abi::PartitionId;
use kernel::cells::OptionalCell;

use super::{device, failed, not_an_endpoint, not_supported, not_supported_by, session_of};
use crate::bus::{FfaBus, PartitionDevice};
use crate::client::Session;
use crate::indirect::HeaderLayout;
use crate::notifications::{NotificationClient, NotificationService};
use crate::version::SupportedVersion;

/// Bindings the console makes at most (each one notification ID).
pub const CONSOLE_BINDINGS: usize = 4;
/// Bytes of an indirect message `ffa msg send` sends at most.
pub const MAXIMUM_MESSAGE_BYTES: usize = 256;

/// What `ffa notify` takes: a notification ID.
const NOTIFICATION_ID: &str = "a notification ID from 0 to 63";
/// What `ffa notify set` takes: a vCPU.
const VCPU: &str = "a vCPU ID of the partition";
/// What `ffa msg send` takes as hex.
const HEX: &str = "text, or bytes in hex after 0x (an even number of digits, such as 0x48690a)";

/// The commands, in `help`'s order.
static NOTIFICATION_COMMANDS: [Command; 8] = [
    Command::new(
        "ffa notify",
        "",
        "the notification service: SRI, counters, bindings (a driver's or the console's), what reached the console",
    ),
    Command::new(
        "ffa notify bind",
        "<id> <bit> [--per-vcpu]",
        "binds notification <bit> of this endpoint to partition <id> (FFA_NOTIFICATION_BIND), delivered to the console",
    ),
    Command::new(
        "ffa notify unbind",
        "<id> <bit>",
        "gives back a notification the console bound (FFA_NOTIFICATION_UNBIND)",
    ),
    Command::new(
        "ffa notify set",
        "<id> <bit> [vcpu]",
        "sets notification <bit> of partition <id> (FFA_NOTIFICATION_SET), for its vCPU if given",
    ),
    Command::new(
        "ffa notify get",
        "",
        "FFA_NOTIFICATION_GET on this core's vCPU now: what is pending, handed to whoever bound it",
    ),
    Command::new(
        "ffa msg",
        "",
        "indirect messages: counters, and the last one a driver received (same as ffa msg recv)",
    ),
    Command::new(
        "ffa msg recv",
        "",
        "indirect messages: counters, and the last one a driver received",
    ),
    Command::new(
        "ffa msg send",
        "<id> <text|0xhex>",
        "sends an indirect message (FFA_MSG_SEND2) with the negotiated version's header",
    ),
];

/// One binding made at the console.
#[derive(Clone, Copy)]
struct ConsoleBinding {
    partition: PartitionId,
    bitmap: Bitmap,
}

/// The `ffa notify` and `ffa msg` command group; it is also the client of
/// the notifications bound at the console.
pub struct NotificationCommands<'a, const PARTITIONS: usize> {
    bus: &'a FfaBus<'a, PARTITIONS>,
    /// The group itself, as the client of its bindings (set by [`NotificationCommands::setup`]).
    me: OptionalCell<&'a dyn NotificationClient>,
    bindings: [Cell<Option<ConsoleBinding>>; CONSOLE_BINDINGS],
    /// Notification IDs delivered to the console's bindings.
    received: Cell<u32>,
    /// The last delivery: from whom, which IDs, which vCPU (per-vCPU).
    last: Cell<Option<(PartitionId, Bitmap, Option<u16>)>>,
}

impl<'a, const PARTITIONS: usize> NotificationCommands<'a, PARTITIONS> {
    /// The commands over the notification service of `bus`. Call
    /// [`NotificationCommands::setup`] once it is in its final place.
    pub fn new(bus: &'a FfaBus<'a, PARTITIONS>) -> NotificationCommands<'a, PARTITIONS> {
        NotificationCommands {
            bus,
            me: OptionalCell::empty(),
            bindings: core::array::from_fn(|_| Cell::new(None)),
            received: Cell::new(0),
            last: Cell::new(None),
        }
    }

    /// Makes the group the client of the notifications it binds.
    pub fn setup(&'a self) {
        self.me.set(self);
    }

    /// Notification IDs delivered to the console's bindings so far.
    pub fn received(&self) -> u32 {
        self.received.get()
    }

    /// The service, or an error saying the board has none.
    fn service<'l>(&self) -> Result<&'a dyn NotificationService<'a>, CommandError<'l>> {
        self.bus.notifications().ok_or_else(|| {
            defmt::println!(
                "error: not supported by this board: it has no notification service (no split-phase FF-A)"
            );
            CommandError::Reported
        })
    }

    /// The session, if it has notifications; else why not, printed.
    fn notification_session<'l>(&self) -> Result<Session, CommandError<'l>> {
        let session = session_of(self.bus)?;
        if !session.version.at_least(SupportedVersion::V1_1) {
            not_supported("notifications", "v1.1", &session)?;
        }
        if !session.features.notifications {
            defmt::println!(
                "error: not supported by the SPMC: it does not offer FFA_NOTIFICATION_BIND"
            );
            return Err(CommandError::Reported);
        }
        Ok(session)
    }

    /// Refuses while a split-phase request holds the vCPU.
    fn vcpu_free<'l>(&self, command: &'static str) -> Result<(), CommandError<'l>> {
        if self
            .bus
            .requests()
            .is_some_and(|requests| requests.running())
        {
            defmt::println!(
                "error: {=str}: a split-phase request holds the vCPU; try again once it is answered (ffa status shows it)",
                command
            );
            return Err(CommandError::Reported);
        }
        Ok(())
    }

    /// The partition argument `index` names, if it takes notifications.
    fn notified_partition<'l>(
        &self,
        arguments: &Arguments<'l>,
    ) -> Result<PartitionDevice, CommandError<'l>> {
        let (_, device) = device(self.bus, arguments, 0)?;
        if let Some(why) = not_an_endpoint(&device.info) {
            not_supported_by(device.info.id, why)?;
        }
        if !device.info.properties.notifications() {
            not_supported_by(
                device.info.id,
                "it does not receive notifications (properties bit 3)",
            )?;
        }
        Ok(device)
    }

    /// `ffa notify`.
    fn status<'l>(&self) -> Result<(), CommandError<'l>> {
        let service = self.service()?;
        let session = session_of(self.bus)?;
        if !session.version.at_least(SupportedVersion::V1_1) || !session.features.notifications {
            defmt::println!(
                "ffa notify: notifications not offered in this session (FF-A v{=u16}.{=u16}, FFA_NOTIFICATION_BIND offered {=bool})",
                session.version.version().major(),
                session.version.version().minor(),
                session.features.notifications
            );
            return Ok(());
        }
        let counters = service.counters();
        match service.schedule_receiver_interrupt() {
            Some(id) => defmt::println!(
                "ffa notify: SRI {=u32}, {=u32} taken, {=u32} NOTIFICATION_INFO_GET calls; {=u32} IDs delivered, {=u32} unbound, {=u32} set for partitions",
                id,
                counters.sri,
                counters.info_rounds,
                counters.delivered,
                counters.unbound,
                counters.set
            ),
            None => defmt::println!(
                "ffa notify: no SRI claimed (pending notifications are seen only by ffa notify get); {=u32} IDs delivered, {=u32} unbound, {=u32} set for partitions",
                counters.delivered,
                counters.unbound,
                counters.set
            ),
        }
        let mut count = 0usize;
        service.for_each_binding(&mut |binding| {
            count += 1;
            let at_console = self.bindings.iter().any(|slot| {
                slot.get().is_some_and(|mine| {
                    mine.partition == binding.partition
                        && !mine.bitmap.intersection(binding.bitmap).is_empty()
                })
            });
            defmt::println!(
                "ffa notify: binding {=u64:#x} from {=u16:#06x} ({=str}), {=str}",
                binding.bitmap.0,
                binding.partition.raw(),
                if binding.per_vcpu {
                    "per-vCPU"
                } else {
                    "global"
                },
                if at_console {
                    "bound at the console"
                } else {
                    "a driver's"
                }
            );
        });
        let held = self
            .bindings
            .iter()
            .filter(|slot| slot.get().is_some())
            .count();
        defmt::println!(
            "ffa notify: {=usize} bindings, {=usize} of {=usize} console bindings held; {=u32} IDs reached the console",
            count,
            held,
            CONSOLE_BINDINGS,
            self.received.get()
        );
        if let Some((partition, bitmap, vcpu)) = self.last.get() {
            match vcpu {
                Some(vcpu) => defmt::println!(
                    "ffa notify: the last to reach the console: {=u64:#x} from {=u16:#06x} on vCPU {=u16}",
                    bitmap.0,
                    partition.raw(),
                    vcpu
                ),
                None => defmt::println!(
                    "ffa notify: the last to reach the console: {=u64:#x} from {=u16:#06x} (global)",
                    bitmap.0,
                    partition.raw()
                ),
            }
        }
        Ok(())
    }

    /// `ffa notify bind <id> <bit> [--per-vcpu]`.
    fn bind<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 3)?;
        let bit = arguments.number(1, 0, 63, NOTIFICATION_ID)? as u8;
        let per_vcpu = match arguments.get(2) {
            None => false,
            Some("--per-vcpu") => true,
            Some(argument) => {
                return Err(CommandError::BadArgument {
                    argument,
                    expected: "--per-vcpu",
                })
            }
        };
        let device = self.notified_partition(arguments)?;
        let service = self.service()?;
        self.notification_session()?;
        let bitmap = Bitmap::of(bit);
        let mut bound_by = None;
        service.for_each_binding(&mut |binding| {
            if binding.bitmap.contains(bit) {
                bound_by = Some(binding.partition);
            }
        });
        if let Some(partition) = bound_by {
            defmt::println!(
                "error: ffa notify bind: notification {=u8} is bound already (to {=u16:#06x}); ffa notify shows the bindings",
                bit,
                partition.raw()
            );
            return Err(CommandError::Reported);
        }
        let Some(free) = self.bindings.iter().find(|slot| slot.get().is_none()) else {
            defmt::println!(
                "error: ffa notify bind: the console holds {=usize} bindings already; ffa notify unbind one first",
                CONSOLE_BINDINGS
            );
            return Err(CommandError::Reported);
        };
        let Some(me) = self.me.get() else {
            defmt::println!("error: ffa notify bind: the console's commands were not set up");
            return Err(CommandError::Reported);
        };
        self.vcpu_free("ffa notify bind")?;
        if let Err(error) = service.bind(&device.info, bitmap, per_vcpu, me) {
            return failed("ffa notify bind (FFA_NOTIFICATION_BIND)", error);
        }
        free.set(Some(ConsoleBinding {
            partition: device.info.id,
            bitmap,
        }));
        defmt::println!(
            "ffa notify bind: notification {=u8} ({=u64:#x}) of this endpoint bound to {=u16:#06x} ({=str}), delivered to the console",
            bit,
            bitmap.0,
            device.info.id.raw(),
            if per_vcpu { "per-vCPU" } else { "global" }
        );
        Ok(())
    }

    /// `ffa notify unbind <id> <bit>`.
    fn unbind<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 2)?;
        let bit = arguments.number(1, 0, 63, NOTIFICATION_ID)? as u8;
        let (_, device) = device(self.bus, arguments, 0)?;
        let service = self.service()?;
        let bitmap = Bitmap::of(bit);
        let slot = self.bindings.iter().find(|slot| {
            slot.get().is_some_and(|binding| {
                binding.partition == device.info.id && binding.bitmap == bitmap
            })
        });
        let Some(slot) = slot else {
            let mut driver_s = false;
            service.for_each_binding(&mut |binding| {
                driver_s |= binding.partition == device.info.id && binding.bitmap.contains(bit);
            });
            defmt::println!(
                "error: ffa notify unbind: notification {=u8} from {=u16:#06x} {=str}; only the console's bindings are unbound here (ffa notify shows them)",
                bit,
                device.info.id.raw(),
                if driver_s {
                    "is a driver's binding"
                } else {
                    "is not bound"
                }
            );
            return Err(CommandError::Reported);
        };
        self.notification_session()?;
        self.vcpu_free("ffa notify unbind")?;
        if let Err(error) = service.unbind(device.info.id, bitmap) {
            return failed("ffa notify unbind (FFA_NOTIFICATION_UNBIND)", error);
        }
        slot.set(None);
        defmt::println!(
            "ffa notify unbind: notification {=u8} ({=u64:#x}) from {=u16:#06x} unbound",
            bit,
            bitmap.0,
            device.info.id.raw()
        );
        Ok(())
    }

    /// `ffa notify set <id> <bit> [vcpu]`.
    fn set<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 3)?;
        let bit = arguments.number(1, 0, 63, NOTIFICATION_ID)? as u8;
        let vcpu = match arguments.get(2) {
            None => None,
            Some(_) => Some(arguments.number(2, 0, u64::from(u16::MAX), VCPU)? as u16),
        };
        let device = self.notified_partition(arguments)?;
        if let (Some(vcpu), Some(contexts)) = (vcpu, device.info.execution_contexts()) {
            if vcpu >= contexts {
                defmt::println!(
                    "error: ffa notify set: partition {=u16:#06x} has {=u16} execution contexts, so no vCPU {=u16}",
                    device.info.id.raw(),
                    contexts,
                    vcpu
                );
                return Err(CommandError::Reported);
            }
        }
        let service = self.service()?;
        self.notification_session()?;
        self.vcpu_free("ffa notify set")?;
        let bitmap = Bitmap::of(bit);
        if let Err(error) = service.set(&device.info, bitmap, vcpu) {
            return failed("ffa notify set (FFA_NOTIFICATION_SET)", error);
        }
        match vcpu {
            Some(vcpu) => defmt::println!(
                "ffa notify set: notification {=u8} ({=u64:#x}) of {=u16:#06x} set for its vCPU {=u16}",
                bit,
                bitmap.0,
                device.info.id.raw(),
                vcpu
            ),
            None => defmt::println!(
                "ffa notify set: notification {=u8} ({=u64:#x}) of {=u16:#06x} set (global)",
                bit,
                bitmap.0,
                device.info.id.raw()
            ),
        }
        Ok(())
    }

    /// `ffa notify get`.
    fn get<'l>(&self) -> Result<(), CommandError<'l>> {
        let service = self.service()?;
        self.notification_session()?;
        self.vcpu_free("ffa notify get")?;
        match service.get_pending() {
            Ok(pending) => {
                defmt::println!(
                    "ffa notify get: vCPU {=u16}: partitions' notifications {=u64:#x}, framework {=u32:#x}{=str}",
                    pending.vcpu,
                    pending.partitions.0,
                    pending.framework,
                    if pending.partitions.is_empty() && pending.framework == 0 {
                        " (nothing pending)"
                    } else {
                        " (handed to whoever bound them)"
                    }
                );
                Ok(())
            }
            Err(error) => failed("ffa notify get (FFA_NOTIFICATION_GET)", error),
        }
    }

    /// `ffa msg` and `ffa msg recv`.
    fn messages<'l>(&self) -> Result<(), CommandError<'l>> {
        let service = self.service()?;
        let counters = service.counters();
        defmt::println!(
            "ffa msg: indirect messages {=u32} received, {=u32} sent, {=u32} dropped",
            counters.messages_received,
            counters.messages_sent,
            counters.messages_refused
        );
        let Some(message) = service.last_message() else {
            defmt::println!("ffa msg: no message received yet");
            return Ok(());
        };
        let head = message.head();
        let shown = if head.len() < message.size as usize {
            " (the first bytes)"
        } else {
            ""
        };
        match core::str::from_utf8(head)
            .ok()
            .filter(|text| text.chars().all(|c| c == ' ' || c.is_ascii_graphic()))
        {
            Some(text) => defmt::println!(
                "ffa msg: the last received: {=u32} bytes from {=u16:#06x} for service {}: \"{=str}\"{=str}",
                message.size,
                message.sender.raw(),
                message.service,
                text,
                shown
            ),
            None => defmt::println!(
                "ffa msg: the last received: {=u32} bytes from {=u16:#06x} for service {}: {=[u8]:#04x}{=str}",
                message.size,
                message.sender.raw(),
                message.service,
                head,
                shown
            ),
        }
        Ok(())
    }

    /// `ffa msg send <id> <text|0xhex>`.
    fn send<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        if arguments.len() < 2 {
            return Err(CommandError::Usage);
        }
        let (_, device) = device(self.bus, arguments, 0)?;
        let mut payload = [0u8; LINE_CAPACITY];
        let length = message_payload(&arguments.words()[1..], &mut payload)?;
        if length > MAXIMUM_MESSAGE_BYTES {
            defmt::println!(
                "error: ffa msg send: {=usize} bytes is more than the {=usize} the console sends",
                length,
                MAXIMUM_MESSAGE_BYTES
            );
            return Err(CommandError::Reported);
        }
        let service = self.service()?;
        let session = session_of(self.bus)?;
        if !session.version.at_least(SupportedVersion::V1_1) {
            return not_supported("indirect messages (FFA_MSG_SEND2)", "v1.1", &session);
        }
        if !session.features.indirect_messaging {
            defmt::println!("error: not supported by the SPMC: it does not offer FFA_MSG_SEND2");
            return Err(CommandError::Reported);
        }
        if let Some(why) = not_an_endpoint(&device.info) {
            return not_supported_by(device.info.id, why);
        }
        if !device.info.properties.indirect_messaging() {
            return not_supported_by(
                device.info.id,
                "it does not receive indirect messages (properties bit 2)",
            );
        }
        self.vcpu_free("ffa msg send")?;
        let layout = HeaderLayout::for_version(session.version.supported());
        if let Err(error) = service.send_message(&device.info, &payload[..length]) {
            return failed("ffa msg send (FFA_MSG_SEND2)", error);
        }
        match layout {
            HeaderLayout::V1_1 => defmt::println!(
                "ffa msg send: {=usize} bytes to {=u16:#06x} (FFA_MSG_SEND2, v1.1 header of {=usize} bytes)",
                length,
                device.info.id.raw(),
                layout.size()
            ),
            HeaderLayout::V1_2 => defmt::println!(
                "ffa msg send: {=usize} bytes to {=u16:#06x} (FFA_MSG_SEND2, v1.2 header of {=usize} bytes, service {})",
                length,
                device.info.id.raw(),
                layout.size(),
                device.info.uuid
            ),
        }
        Ok(())
    }
}

/// The payload `words` name, into `payload`: one word of hex bytes after
/// `0x`, or text (the words, one space between each); its length.
pub fn message_payload<'l>(
    words: &[&'l str],
    payload: &mut [u8],
) -> Result<usize, CommandError<'l>> {
    let first = *words.first().ok_or(CommandError::Usage)?;
    if let Some(digits) = first
        .strip_prefix("0x")
        .or_else(|| first.strip_prefix("0X"))
    {
        if words.len() != 1 {
            return Err(CommandError::BadArgument {
                argument: words[1],
                expected: "nothing after the hex bytes",
            });
        }
        let bad = CommandError::BadArgument {
            argument: first,
            expected: HEX,
        };
        if digits.is_empty() || digits.len() % 2 != 0 || digits.len() / 2 > payload.len() {
            return Err(bad);
        }
        for (byte, pair) in payload.iter_mut().zip(digits.as_bytes().chunks(2)) {
            let high = hex_digit(pair[0]).ok_or(bad)?;
            let low = hex_digit(pair[1]).ok_or(bad)?;
            *byte = high << 4 | low;
        }
        return Ok(digits.len() / 2);
    }
    let mut length = 0usize;
    for (index, word) in words.iter().enumerate() {
        let separator = usize::from(index > 0);
        let end = length + separator + word.len();
        if end > payload.len() {
            return Err(CommandError::BadArgument {
                argument: word,
                expected: "a message that fits the console's line",
            });
        }
        if separator == 1 {
            payload[length] = b' ';
        }
        payload[length + separator..end].copy_from_slice(word.as_bytes());
        length = end;
    }
    Ok(length)
}

/// The value of hex digit `digit`.
fn hex_digit(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|value| value as u8)
}

impl<const PARTITIONS: usize> NotificationClient for NotificationCommands<'_, PARTITIONS> {
    fn notified(&self, partition: PartitionId, bitmap: Bitmap, vcpu: Option<u16>) {
        self.received
            .set(self.received.get() + bitmap.ids().count() as u32);
        self.last.set(Some((partition, bitmap, vcpu)));
        match vcpu {
            Some(vcpu) => defmt::println!(
                "ffa notify: notification {=u64:#x} arrived from {=u16:#06x} on vCPU {=u16}, bound at the console",
                bitmap.0,
                partition.raw(),
                vcpu
            ),
            None => defmt::println!(
                "ffa notify: notification {=u64:#x} arrived from {=u16:#06x} (global), bound at the console",
                bitmap.0,
                partition.raw()
            ),
        }
    }
}

impl<const PARTITIONS: usize> CommandGroup for NotificationCommands<'_, PARTITIONS> {
    fn commands(&self) -> &'static [Command] {
        &NOTIFICATION_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "ffa notify" => {
                arguments.expect_count(0, 0)?;
                self.status()
            }
            "ffa notify bind" => self.bind(arguments),
            "ffa notify unbind" => self.unbind(arguments),
            "ffa notify set" => self.set(arguments),
            "ffa notify get" => {
                arguments.expect_count(0, 0)?;
                self.get()
            }
            "ffa msg" | "ffa msg recv" => {
                arguments.expect_count(0, 0)?;
                self.messages()
            }
            "ffa msg send" => self.send(arguments),
            _ => Err(CommandError::Usage),
        }
    }
}
