//! Driver for the model's notifier partition: notifications both ways and
//! indirect messages, exercised once at bind, without blocking.
//!
//! It binds notifications 1, 2 and 9 of this endpoint (global) and 40
//! (per-vCPU, when the SPMC allows it) to the partition, then runs a script
//! of steps, each started from the callback that ended the previous one,
//! each waiting at most [`STEP_TIMEOUT_MS`] on its alarm:
//!
//! | step | what is done | what must arrive |
//! |---|---|---|
//! | now | `NOTIFY_NOW` {1} (a direct request) | the response, notification 1 (through the SRI) |
//! | per-vCPU | `NOTIFY_NOW` {40} for vCPU N (the board's last core, at most the partition's last context; 0 on one core) | notification 40 on vCPU N (got on core N) |
//! | answer | `FFA_NOTIFICATION_SET` {2} to the partition | notification 2: its answer |
//! | timer | `NOTIFY_LATER` {9} in 20 ms | notification 9, from the partition's secure timer |
//! | echo | an indirect message of 64 bytes (`FFA_MSG_SEND2`) | the same bytes back (RX-full framework notification) |
//! | on request | `SEND_MESSAGE` of 100 bytes | a message with the pattern asked for |
//! | statistics | `STATISTICS` | the partition's counters (logged) |
//!
//! A step the session cannot do (no per-vCPU binding, no indirect
//! messaging) is skipped; without notifications at all (v1.0, TF-A's EL3
//! SPMC, or an SPMC that wants a bitmap the kernel does not create in
//! direct mode) there is nothing to exercise, and the driver says so. The
//! outcome is logged, and an error if a step failed; the driver holds the
//! bus's work open until the script ends, so the boot report comes after.

use core::cell::Cell;

use crate::bus::{PartitionDriver, PartitionHandle};
use crate::error::ClientError;
use crate::messaging::{AnyDirectMessage, DirectMessage, DirectMessage32};
use crate::notifications::{MessageClient, NotificationClient};
use crate::requests::DirectRequestClient;
use ffa_abi::notification::Bitmap;
use ffa_abi::test_services::notifier;
use ffa_abi::{PartitionId, Uuid};
use kernel::cells::OptionalCell;
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::ErrorCode;

/// UUID of the model's notifier partition: `5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd`.
pub const NOTIFIER_PARTITION_UUID: Uuid = Uuid::from_fields(
    0x5b06_cbcc,
    0x7ca5,
    0x40e5,
    [0xb0, 0xed, 0xc9, 0x9b, 0x2d, 0xf0, 0xc2, 0xdd],
);

static NOTIFIER_UUIDS: [Uuid; 1] = [NOTIFIER_PARTITION_UUID];

/// How long a step may wait for what it expects.
pub const STEP_TIMEOUT_MS: u64 = 1_000;
/// The delay the timer step asks for.
pub const TIMER_DELAY_US: u32 = 20_000;
/// Global notifications bound.
pub const GLOBAL: Bitmap = Bitmap(1 << 1 | 1 << 2 | 1 << 9);
/// The per-vCPU notification bound.
pub const PER_VCPU: Bitmap = Bitmap(1 << 40);
/// Bytes of the echoed message.
pub const ECHO_BYTES: usize = 64;
/// Bytes of the message asked for.
pub const REQUESTED_BYTES: usize = 100;
/// The first byte of the pattern asked for.
pub const REQUESTED_FIRST: u8 = 7;

/// The steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Step {
    /// `NOTIFY_NOW` {1}.
    Now,
    /// `NOTIFY_NOW` {40} per-vCPU.
    PerVcpu,
    /// `SET` {2}, answered with {2}.
    Answer,
    /// `NOTIFY_LATER` {9}.
    Timer,
    /// A message echoed.
    Echo,
    /// A message asked for.
    OnRequest,
    /// The partition's counters.
    Statistics,
}

const STEPS: [Step; 7] = [
    Step::Now,
    Step::PerVcpu,
    Step::Answer,
    Step::Timer,
    Step::Echo,
    Step::OnRequest,
    Step::Statistics,
];

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Outcome {
    /// Not run yet.
    NotRun,
    /// Not possible in this session.
    Skipped,
    /// Everything expected arrived.
    Passed,
    /// Something went wrong: what.
    Failed(&'static str),
}

/// The outcomes of the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct NotifierResults {
    /// Per step, in [`Step`] order.
    pub steps: [Outcome; 7],
    /// The partition's counters: messages received, sent, notifications
    /// from this side, for this side.
    pub partition_counters: [u32; 4],
    /// Notifications that arrived without being expected.
    pub unexpected: u32,
}

/// What the current step still waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Waiting {
    response: bool,
    notifications: Bitmap,
    message: Option<(usize, u8)>,
}

impl Waiting {
    fn done(&self) -> bool {
        !self.response && self.notifications.is_empty() && self.message.is_none()
    }
}

/// The notifier partition driver.
pub struct NotifierDriver<'a> {
    alarm: &'a dyn Alarm<'a>,
    handle: OptionalCell<PartitionHandle<'a>>,
    me: OptionalCell<&'a NotifierDriver<'a>>,
    step: OptionalCell<usize>,
    waiting: Cell<Waiting>,
    per_vcpu_bound: Cell<bool>,
    /// The vCPU the per-vCPU notification is set for.
    per_vcpu_target: Cell<u16>,
    results: Cell<NotifierResults>,
    finished: Cell<bool>,
}

impl<'a> NotifierDriver<'a> {
    /// A driver that times its steps out on `alarm` (a virtual alarm of its
    /// own: make the driver its client).
    pub fn new(alarm: &'a dyn Alarm<'a>) -> NotifierDriver<'a> {
        NotifierDriver {
            alarm,
            handle: OptionalCell::empty(),
            me: OptionalCell::empty(),
            step: OptionalCell::empty(),
            waiting: Cell::new(Waiting::default()),
            per_vcpu_bound: Cell::new(false),
            per_vcpu_target: Cell::new(0),
            results: Cell::new(NotifierResults {
                steps: [Outcome::NotRun; 7],
                partition_counters: [0; 4],
                unexpected: 0,
            }),
            finished: Cell::new(false),
        }
    }

    /// The same driver, setting the per-vCPU notification for vCPU `vcpu`
    /// (a board with several cores: its last one, so that it is got on
    /// that core; the partition's last context if it has fewer).
    pub fn with_per_vcpu_on(self, vcpu: u16) -> NotifierDriver<'a> {
        self.per_vcpu_target.set(vcpu);
        self
    }

    /// The outcomes so far.
    pub fn results(&self) -> NotifierResults {
        self.results.get()
    }

    /// Whether the script has ended.
    pub fn finished(&self) -> bool {
        self.finished.get()
    }

    fn record(&self, index: usize, outcome: Outcome) {
        let mut results = self.results.get();
        if let Some(slot) = results.steps.get_mut(index) {
            *slot = outcome;
        }
        self.results.set(results);
    }

    fn request(handle: &PartitionHandle<'_>, words: [u32; 5]) -> Result<(), ErrorCode> {
        handle.send(&DirectMessage32::new(words))
    }

    /// Starts step `index` (skipping those that cannot run), or ends the script.
    fn start(&self, mut index: usize) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let messaging = handle.supports_indirect_messages();
        while let Some(step) = STEPS.get(index).copied() {
            let mut waiting = Waiting::default();
            let started: Result<bool, &'static str> = match step {
                Step::Now => {
                    waiting.response = true;
                    waiting.notifications = Bitmap::of(1);
                    Self::request(&handle, [notifier::NOTIFY_NOW, 1 << 1, 0, 0, 0])
                        .map(|()| true)
                        .map_err(|_| "request not sent")
                }
                Step::PerVcpu if self.per_vcpu_bound.get() => {
                    waiting.response = true;
                    waiting.notifications = PER_VCPU;
                    let (low, high) = PER_VCPU.words();
                    let flags = 1 | u32::from(self.per_vcpu_target.get()) << 16;
                    Self::request(&handle, [notifier::NOTIFY_NOW, low, high, flags, 0])
                        .map(|()| true)
                        .map_err(|_| "request not sent")
                }
                Step::Answer => {
                    waiting.notifications = Bitmap::of(2);
                    handle
                        .set_notifications(Bitmap::of(2), None)
                        .map(|()| true)
                        .map_err(|_| "FFA_NOTIFICATION_SET failed")
                }
                Step::Timer => {
                    waiting.response = true;
                    waiting.notifications = Bitmap::of(9);
                    Self::request(
                        &handle,
                        [notifier::NOTIFY_LATER, 1 << 9, 0, TIMER_DELAY_US, 0],
                    )
                    .map(|()| true)
                    .map_err(|_| "request not sent")
                }
                Step::Echo if messaging => {
                    waiting.message = Some((ECHO_BYTES, 0xA0));
                    let mut payload = [0u8; ECHO_BYTES];
                    fill(&mut payload, 0xA0);
                    handle
                        .send_message(&payload)
                        .map(|()| true)
                        .map_err(|_| "FFA_MSG_SEND2 failed")
                }
                Step::OnRequest if messaging => {
                    waiting.response = true;
                    waiting.message = Some((REQUESTED_BYTES, REQUESTED_FIRST));
                    Self::request(
                        &handle,
                        [
                            notifier::SEND_MESSAGE,
                            REQUESTED_BYTES as u32,
                            u32::from(REQUESTED_FIRST),
                            0,
                            0,
                        ],
                    )
                    .map(|()| true)
                    .map_err(|_| "request not sent")
                }
                Step::Statistics => {
                    waiting.response = true;
                    Self::request(&handle, [notifier::STATISTICS, 0, 0, 0, 0])
                        .map(|()| true)
                        .map_err(|_| "request not sent")
                }
                _ => Ok(false),
            };
            match started {
                Ok(true) => {
                    self.step.set(index);
                    self.waiting.set(waiting);
                    self.alarm
                        .set_alarm(self.alarm.now(), self.alarm.ticks_from_ms(STEP_TIMEOUT_MS));
                    return;
                }
                Ok(false) => self.record(index, Outcome::Skipped),
                Err(reason) => self.record(index, Outcome::Failed(reason)),
            }
            index += 1;
        }
        self.finish(&handle);
    }

    /// The current step got what it waited for, or failed: the next one.
    fn advance(&self, outcome: Option<Outcome>) {
        let Some(index) = self.step.get() else {
            return;
        };
        if outcome.is_none() && !self.waiting.get().done() {
            return;
        }
        let outcome = outcome.unwrap_or(Outcome::Passed);
        self.step.clear();
        let _ = self.alarm.disarm();
        self.record(index, outcome);
        self.start(index + 1);
    }

    fn finish(&self, handle: &PartitionHandle<'_>) {
        if self.finished.replace(true) {
            return;
        }
        let results = self.results.get();
        let [now, per_vcpu, answer, timer, echo, on_request, _] = results.steps;
        let failed = results
            .steps
            .iter()
            .any(|outcome| matches!(outcome, Outcome::Failed(_)));
        if failed {
            defmt::error!(
                "ffa-notify: partition {=u16:#06x}: notifications: now {}, per-vCPU {}, answer to SET {}, timer {}; indirect messages: echo {}, on request {}",
                handle.id().raw(), now, per_vcpu, answer, timer, echo, on_request
            );
        } else {
            defmt::info!(
                "ffa-notify: partition {=u16:#06x}: notifications: now {}, per-vCPU {}, answer to SET {}, timer {}; indirect messages: echo {}, on request {}",
                handle.id().raw(), now, per_vcpu, answer, timer, echo, on_request
            );
        }
        let [received, sent, from_us, for_us] = results.partition_counters;
        defmt::info!(
            "ffa-notify: the partition counts {=u32} messages received, {=u32} sent, {=u32} notifications from this side, {=u32} for it ({=u32} unexpected here)",
            received,
            sent,
            from_us,
            for_us,
            results.unexpected
        );
        handle.work_finished();
    }
}

/// Byte `i` of the pattern from `first` is `first + i` (wrapping).
fn fill(bytes: &mut [u8], first: u8) {
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = first.wrapping_add(index as u8);
    }
}

fn is_pattern(bytes: &[u8], first: u8) -> bool {
    bytes
        .iter()
        .enumerate()
        .all(|(index, byte)| *byte == first.wrapping_add(index as u8))
}

impl<'a> PartitionDriver<'a> for NotifierDriver<'a> {
    fn name(&self) -> &'static str {
        "ffa-notify"
    }

    fn uuids(&self) -> &'static [Uuid] {
        &NOTIFIER_UUIDS
    }

    fn setup(&'a self) {
        self.me.set(self);
        self.alarm.set_alarm_client(self);
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        let Some(me) = self.me.get() else {
            return Err(ErrorCode::FAIL);
        };
        self.handle.set(handle);
        // No context beyond the partition's last.
        let last = handle.info().execution_contexts().unwrap_or(1).max(1) - 1;
        self.per_vcpu_target
            .set(self.per_vcpu_target.get().min(last));
        if let Err(error) = handle.bind_notifications(GLOBAL, false, me) {
            defmt::warn!(
                "ffa-notify: partition {=u16:#06x}: notifications unavailable ({}); nothing to exercise",
                handle.id().raw(),
                error
            );
            return Ok(());
        }
        match handle.bind_notifications(PER_VCPU, true, me) {
            Ok(()) => self.per_vcpu_bound.set(true),
            Err(error) => defmt::info!(
                "ffa-notify: per-vCPU notifications refused ({}); global ones only",
                error
            ),
        }
        let split_phase = handle.set_request_client(me).is_ok();
        let _ = handle.set_message_client(me);
        if !split_phase {
            defmt::warn!("ffa-notify: no split-phase requests on this board; nothing to exercise");
            return Ok(());
        }
        defmt::info!(
            "ffa-notify: partition {=u16:#06x}: bound notifications {=u64:#x} (global){=str}",
            handle.id().raw(),
            GLOBAL.0,
            if self.per_vcpu_bound.get() {
                " and 0x10000000000 (per-vCPU)"
            } else {
                ""
            }
        );
        handle.work_started();
        self.start(0);
        Ok(())
    }
}

impl DirectRequestClient for NotifierDriver<'_> {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let Some(index) = self.step.get() else {
            return;
        };
        let words = match result.map(DirectMessage32::from_any) {
            Ok(Some(message)) => message.payload,
            Ok(None) => return self.advance(Some(Outcome::Failed("wrong response kind"))),
            Err(_) => return self.advance(Some(Outcome::Failed("request failed"))),
        };
        let status = match STEPS.get(index) {
            Some(Step::Now | Step::PerVcpu) => words[0] | words[1],
            _ => words[0],
        };
        if status != 0 {
            return self.advance(Some(Outcome::Failed("the partition answered an error")));
        }
        if STEPS.get(index) == Some(&Step::Statistics) {
            let mut results = self.results.get();
            results.partition_counters = [words[1], words[2], words[3], words[4]];
            self.results.set(results);
        }
        let mut waiting = self.waiting.get();
        waiting.response = false;
        self.waiting.set(waiting);
        self.advance(None);
    }
}

impl NotificationClient for NotifierDriver<'_> {
    fn notified(&self, _partition: PartitionId, bitmap: Bitmap, vcpu: Option<u16>) {
        let mut waiting = self.waiting.get();
        let expected = bitmap.intersection(waiting.notifications);
        let per_vcpu = !expected.intersection(PER_VCPU).is_empty();
        let per_vcpu_ok = if per_vcpu {
            defmt::info!(
                "ffa-notify: per-vCPU notification {=u64:#x} arrived for vCPU {=u16}",
                PER_VCPU.0,
                vcpu.unwrap_or(u16::MAX)
            );
            vcpu == Some(self.per_vcpu_target.get())
        } else {
            vcpu.is_none()
        };
        let unexpected = bitmap.without(expected).ids().count() as u32;
        if unexpected > 0 || !per_vcpu_ok {
            let mut results = self.results.get();
            results.unexpected += unexpected.max(1);
            self.results.set(results);
        }
        if expected.is_empty() {
            return;
        }
        waiting.notifications = waiting.notifications.without(expected);
        self.waiting.set(waiting);
        self.advance(None);
    }
}

impl MessageClient for NotifierDriver<'_> {
    fn message(&self, _partition: PartitionId, payload: &[u8], _service: Uuid) {
        let mut waiting = self.waiting.get();
        let Some((length, first)) = waiting.message else {
            let mut results = self.results.get();
            results.unexpected += 1;
            self.results.set(results);
            return;
        };
        if payload.len() != length || !is_pattern(payload, first) {
            return self.advance(Some(Outcome::Failed("the message differs")));
        }
        waiting.message = None;
        self.waiting.set(waiting);
        self.advance(None);
    }
}

impl AlarmClient for NotifierDriver<'_> {
    fn alarm(&self) {
        if self.step.is_some() {
            defmt::warn!("ffa-notify: a step timed out");
            self.advance(Some(Outcome::Failed("timed out")));
        }
    }
}
