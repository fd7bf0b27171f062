//! Driver for the test firmware's echo partition: round trips that check the payload comes back.
//!
//! On bind it sends one 32-bit and one 64-bit `FFA_MSG_SEND_DIRECT_REQ`, and a
//! `FFA_MSG_SEND_DIRECT_REQ2` when the partition and the callee support it,
//! and checks each response carries exactly the payload sent. Results are
//! logged and kept for the boot report and tests. Binding fails if any round
//! trip fails. Given [`MemoryChecks`] (and a page pool), it then also runs
//! the memory checks of the same test partition's protocol
//! ([`super::memory_check`]); their outcome does not decide the binding.
//! A driver that does not bind runs none (their results stay `NotRun`): it
//! says so when its round trips fail, and the bus says why when the FF-A
//! root failed (failed, `NODEVICE`) or no partition matched (unbound).
//!
//! Boards add it to the bus with `components::partition_driver`.

use super::memory_check::MemoryChecks;
use crate::bus::{PartitionDriver, PartitionHandle};
use crate::error::ClientError;
use crate::messaging::{DirectMessage, DirectMessage2, DirectMessage32, DirectMessage64};
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

    /// Whether every round trip passed or was skipped.
    pub const fn all_acceptable(&self) -> bool {
        self.direct_32.is_acceptable()
            && self.direct_64.is_acceptable()
            && self.direct_2.is_acceptable()
    }
}

/// The echo partition driver.
pub struct EchoDriver<'a> {
    name: &'static str,
    uuids: &'static [Uuid],
    handle: OptionalCell<PartitionHandle<'a>>,
    results: Cell<EchoResults>,
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
            memory_checks: OptionalCell::empty(),
        }
    }

    /// The same driver, also running `checks` once the round trips pass.
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

    fn bind(&self, handle: PartitionHandle<'a>) -> Result<(), ErrorCode> {
        let results = Self::round_trips(&handle);
        self.results.set(results);
        defmt::info!(
            "{=str}: partition {=u16:#06x}: DIRECT_REQ32 {}, DIRECT_REQ64 {}, DIRECT_REQ2 {}",
            self.name,
            handle.id().raw(),
            results.direct_32,
            results.direct_64,
            results.direct_2
        );
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
