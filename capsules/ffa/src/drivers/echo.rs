//! Driver for the test firmware's echo partition: round trips that check the payload comes back.
//!
//! On bind it sends one 32-bit and one 64-bit `FFA_MSG_SEND_DIRECT_REQ`, and a
//! `FFA_MSG_SEND_DIRECT_REQ2` when the partition and the callee support it,
//! and checks each response carries exactly the payload sent. With the
//! bus's split-phase requests (the board gave it an engine) the round trips
//! run one after the other from the response callbacks, while the main
//! loop goes on (serving the interrupts a preempted partition hands back,
//! waiting out yields on the alarm): binding succeeds at once and the
//! results are logged when the last one is in, an error if one failed.
//! Without an engine they run blocking, in bind, which then fails if one
//! failed. Results are kept for the boot report and tests.
//! Given [`MemoryChecks`] (and a page pool), it also runs the memory checks
//! of the same test partition's protocol ([`super::memory_check`]); their
//! outcome does not decide the binding. They make blocking requests, so
//! with split-phase round trips they run at bind, before the driver's own
//! requests start, while no split-phase request holds the vCPU (the echo
//! driver binds first); without an engine they run after the round trips,
//! and only if the driver binds. A driver that does not bind runs none
//! (their results stay `NotRun`): it says so when its round trips fail,
//! and the bus says why when the FF-A root failed (failed, `NODEVICE`) or
//! no partition matched (unbound).
//!
//! Boards add it to the bus with `components::partition_driver`.

use super::memory_check::MemoryChecks;
use crate::bus::{PartitionDriver, PartitionHandle};
use crate::error::ClientError;
use crate::messaging::{
    AnyDirectMessage, DirectMessage, DirectMessage2, DirectMessage32, DirectMessage64,
};
use crate::requests::DirectRequestClient;
use core::cell::Cell;
use ffa_abi::{FunctionId, Uuid};
use kernel::cells::OptionalCell;
use kernel::ErrorCode;

/// UUID of the echo partition in `tools/ffa-model`: `fa791f17-febd-4861-81d0-4b5dae9cb9cb`.
pub const ECHO_PARTITION_UUID: Uuid = Uuid::from_fields(
    0xfa79_1f17,
    0xfebd,
    0x4861,
    [0x81, 0xd0, 0x4b, 0x5d, 0xae, 0x9c, 0xb9, 0xcb],
);

/// UUID of the model's preempting echo partition (it answers `FFA_INTERRUPT`
/// or `FFA_YIELD` before it echoes): `b4399eff-6a76-400b-bfa8-2c063889c6ee`.
pub const PREEMPTED_ECHO_PARTITION_UUID: Uuid = Uuid::from_fields(
    0xb439_9eff,
    0x6a76,
    0x400b,
    [0xbf, 0xa8, 0x2c, 0x06, 0x38, 0x89, 0xc6, 0xee],
);

static ECHO_UUIDS: [Uuid; 1] = [ECHO_PARTITION_UUID];

/// Payload of the 32-bit round trip.
pub const PAYLOAD_32: [u32; 5] = [
    0x4543_484f,
    0xdead_beef,
    0x0000_0001,
    0x8000_0000,
    0xffff_ffff,
];
/// Payload of the 64-bit round trip: every word uses its upper half.
pub const PAYLOAD_64: [u64; 5] = [
    0x0123_4567_89ab_cdef,
    0xfedc_ba98_7654_3210,
    0x8000_0000_0000_0001,
    0xffff_ffff_0000_0000,
    0x0000_0001_0000_0000,
];

/// Payload of the `REQ2` round trip: x4–x17.
pub const fn payload_2() -> [u64; 14] {
    let mut payload = [0u64; 14];
    let mut index = 0;
    while index < 14 {
        payload[index] =
            0x1111_1111_1111_1111u64.wrapping_mul(index as u64 + 1) ^ 0x8000_0000_0000_0000;
        index += 1;
    }
    payload
}

/// The outcome of one round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RoundTrip {
    /// Not attempted yet.
    NotRun,
    /// Not supported by the partition or the negotiated version.
    Skipped,
    /// The payload came back unchanged.
    Passed,
    /// The response payload differed from the request.
    Mismatch,
    /// The request failed.
    Failed(ClientError),
}

impl RoundTrip {
    /// Whether this outcome lets the driver bind.
    pub const fn is_acceptable(self) -> bool {
        matches!(self, RoundTrip::Passed | RoundTrip::Skipped)
    }

    /// Sends `sent` to the partition behind `handle`, if it receives that
    /// kind of message, and checks that it comes back unchanged. A partition
    /// that never receives 32-bit requests fails that round trip: it cannot
    /// be the echo partition.
    fn of<M: DirectMessage>(handle: &PartitionHandle<'_>, sent: M) -> RoundTrip {
        if M::REQUEST != FunctionId::DirectRequest32 && !handle.supports::<M>() {
            return RoundTrip::Skipped;
        }
        match handle.direct_request(&sent) {
            Ok(received) if received == sent => RoundTrip::Passed,
            Ok(_) => RoundTrip::Mismatch,
            Err(error) => RoundTrip::Failed(error),
        }
    }
}

/// The three round trips of one bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct EchoResults {
    /// 32-bit `DIRECT_REQ`.
    pub direct_32: RoundTrip,
    /// 64-bit `DIRECT_REQ`.
    pub direct_64: RoundTrip,
    /// `DIRECT_REQ2`.
    pub direct_2: RoundTrip,
}

impl EchoResults {
    /// Nothing run yet.
    pub const NOT_RUN: EchoResults = EchoResults {
        direct_32: RoundTrip::NotRun,
        direct_64: RoundTrip::NotRun,
        direct_2: RoundTrip::NotRun,
    };

    /// Whether every round trip has an outcome.
    pub const fn complete(&self) -> bool {
        !matches!(self.direct_32, RoundTrip::NotRun)
            && !matches!(self.direct_64, RoundTrip::NotRun)
            && !matches!(self.direct_2, RoundTrip::NotRun)
    }

    /// Whether every round trip passed or was skipped.
    pub const fn all_acceptable(&self) -> bool {
        self.direct_32.is_acceptable()
            && self.direct_64.is_acceptable()
            && self.direct_2.is_acceptable()
    }
}

/// The round trip a split-phase request is out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Direct32,
    Direct64,
    Direct2,
}

/// The echo partition driver.
pub struct EchoDriver<'a> {
    name: &'static str,
    uuids: &'static [Uuid],
    handle: OptionalCell<PartitionHandle<'a>>,
    results: Cell<EchoResults>,
    /// The round trip in flight (split-phase).
    step: OptionalCell<Step>,
    /// The driver itself, as its handle's request client (set by `setup`).
    as_client: OptionalCell<&'a dyn DirectRequestClient>,
    /// A trait object, so that an image whose drivers run no memory checks
    /// links none of their code (nor the memory-sharing client they call).
    memory_checks: OptionalCell<&'a dyn BoundChecks<'a>>,
}

/// Checks a driver runs with its partition once bound ([`MemoryChecks`]).
pub trait BoundChecks<'a> {
    /// Runs them with the partition behind `handle`.
    fn run_with(&self, handle: &PartitionHandle<'a>);
}

impl<'a> BoundChecks<'a> for MemoryChecks<'a> {
    fn run_with(&self, handle: &PartitionHandle<'a>) {
        self.run(handle);
    }
}

impl<'a> EchoDriver<'a> {
    /// A driver for the echo partition, not bound yet.
    pub fn new() -> EchoDriver<'a> {
        Self::for_partitions("ffa-echo", &ECHO_UUIDS)
    }

    /// An echo driver named `name` for any partition whose UUID is in `uuids`
    /// (for example the model's preempting partition, which echoes after
    /// `FFA_INTERRUPT`/`FFA_YIELD` round trips through `FFA_RUN`).
    pub fn for_partitions(name: &'static str, uuids: &'static [Uuid]) -> EchoDriver<'a> {
        EchoDriver {
            name,
            uuids,
            handle: OptionalCell::empty(),
            results: Cell::new(EchoResults::NOT_RUN),
            step: OptionalCell::empty(),
            as_client: OptionalCell::empty(),
            memory_checks: OptionalCell::empty(),
        }
    }

    /// The same driver, also running `checks` (see the module documentation for when).
    pub fn with_memory_checks(self, checks: &'a MemoryChecks<'a>) -> EchoDriver<'a> {
        self.memory_checks.set(checks);
        self
    }

    /// The results of the last bind.
    pub fn results(&self) -> EchoResults {
        self.results.get()
    }

    /// The handle of the bound partition.
    pub fn handle(&self) -> Option<PartitionHandle<'a>> {
        self.handle.get()
    }

    /// Runs the round trips on `handle`.
    pub fn round_trips(handle: &PartitionHandle<'_>) -> EchoResults {
        EchoResults {
            direct_32: RoundTrip::of(handle, DirectMessage32::new(PAYLOAD_32)),
            direct_64: RoundTrip::of(handle, DirectMessage64::new(PAYLOAD_64)),
            direct_2: RoundTrip::of(handle, DirectMessage2::new(payload_2())),
        }
    }
}

impl Default for EchoDriver<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> PartitionDriver<'a> for EchoDriver<'a> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn uuids(&self) -> &'static [Uuid] {
        self.uuids
    }

    fn setup(&'a self) {
        self.as_client.set(self);
    }

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        let split_phase = self
            .as_client
            .get()
            .is_some_and(|client| handle.set_request_client(client).is_ok());
        if split_phase {
            self.handle.set(handle);
            self.results.set(EchoResults::NOT_RUN);
            self.memory_checks.map(|checks| checks.run_with(&handle));
            self.start(Step::Direct32);
            return Ok(());
        }
        let results = Self::round_trips(&handle);
        self.results.set(results);
        self.log_results(&handle, results);
        if results.all_acceptable() {
            self.handle.set(handle);
            self.memory_checks.map(|checks| checks.run_with(&handle));
            Ok(())
        } else {
            if self.memory_checks.is_some() {
                defmt::warn!(
                    "memory-check: not run with partition {=u16:#06x}: {=str} does not bind it (its echo round trips failed)",
                    handle.id().raw(),
                    self.name
                );
            }
            Err(ErrorCode::FAIL)
        }
    }
}

impl EchoDriver<'_> {
    fn log_results(&self, handle: &PartitionHandle<'_>, results: EchoResults) {
        if results.all_acceptable() {
            defmt::info!(
                "{=str}: partition {=u16:#06x}: DIRECT_REQ32 {}, DIRECT_REQ64 {}, DIRECT_REQ2 {}",
                self.name,
                handle.id().raw(),
                results.direct_32,
                results.direct_64,
                results.direct_2
            );
        } else {
            defmt::error!(
                "{=str}: partition {=u16:#06x}: DIRECT_REQ32 {}, DIRECT_REQ64 {}, DIRECT_REQ2 {}",
                self.name,
                handle.id().raw(),
                results.direct_32,
                results.direct_64,
                results.direct_2
            );
        }
    }

    /// Records `outcome` for `step`.
    fn record(&self, step: Step, outcome: RoundTrip) {
        let mut results = self.results.get();
        match step {
            Step::Direct32 => results.direct_32 = outcome,
            Step::Direct64 => results.direct_64 = outcome,
            Step::Direct2 => results.direct_2 = outcome,
        }
        self.results.set(results);
    }

    /// Sends the round trip of `step` (or skips it), and the next ones it skips.
    fn start(&self, first: Step) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        let mut step = Some(first);
        while let Some(current) = step {
            let sent = match current {
                // A partition that never receives 32-bit requests fails
                // that round trip: it cannot be the echo partition.
                Step::Direct32 => handle
                    .send(&DirectMessage32::new(PAYLOAD_32))
                    .map(|()| true),
                Step::Direct64 if handle.supports::<DirectMessage64>() => handle
                    .send(&DirectMessage64::new(PAYLOAD_64))
                    .map(|()| true),
                Step::Direct2 if handle.supports::<DirectMessage2>() => handle
                    .send(&DirectMessage2::new(payload_2()))
                    .map(|()| true),
                _ => Ok(false),
            };
            match sent {
                Ok(true) => {
                    self.step.set(current);
                    return;
                }
                Ok(false) => self.record(current, RoundTrip::Skipped),
                Err(error) => {
                    defmt::error!("{=str}: request not sent: {}", self.name, error);
                    self.record(current, RoundTrip::Failed(ClientError::Unsupported));
                }
            }
            step = Self::after(current);
        }
        self.finish();
    }

    const fn after(step: Step) -> Option<Step> {
        match step {
            Step::Direct32 => Some(Step::Direct64),
            Step::Direct64 => Some(Step::Direct2),
            Step::Direct2 => None,
        }
    }

    fn finish(&self) {
        let results = self.results.get();
        if let Some(handle) = self.handle.get() {
            self.log_results(&handle, results);
        }
    }
}

/// The outcome of a round trip that sent `sent` and got `received`.
fn compare<M: DirectMessage>(
    sent: M,
    received: Result<AnyDirectMessage, ClientError>,
) -> RoundTrip {
    match received {
        Ok(any) => match M::from_any(any) {
            Some(message) if message == sent => RoundTrip::Passed,
            _ => RoundTrip::Mismatch,
        },
        Err(error) => RoundTrip::Failed(error),
    }
}

impl DirectRequestClient for EchoDriver<'_> {
    fn response(&self, _core: usize, result: Result<AnyDirectMessage, ClientError>) {
        let Some(step) = self.step.take() else {
            return;
        };
        let outcome = match step {
            Step::Direct32 => compare(DirectMessage32::new(PAYLOAD_32), result),
            Step::Direct64 => compare(DirectMessage64::new(PAYLOAD_64), result),
            Step::Direct2 => compare(DirectMessage2::new(payload_2()), result),
        };
        self.record(step, outcome);
        match Self::after(step) {
            Some(next) => self.start(next),
            None => self.finish(),
        }
    }
}
