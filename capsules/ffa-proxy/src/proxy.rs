//! The proxy: its state, finalisation driver, and the mediation of host calls.
//!
//! Once finalised, [`Proxy::handle_host_call`] receives every SMC of the
//! host (trapped by the runtime) and decides, the way pKVM's proxy does.
//! Function IDs are matched on w0 without the SMCCC v1.3 SVE hint (bit 16),
//! and the monitor's answers are read from w0 (its SMC32 results say
//! nothing in the upper halves):
//!
//! - **Not FF-A** (PSCI, SMCCC, vendor calls): forwarded unchanged.
//! - **Before version negotiation**: every FF-A call but `FFA_VERSION` gets
//!   `FFA_ERROR(INVALID_PARAMETERS)`.
//! - **`FFA_VERSION`**: a major other than 1 gets `NOT_SUPPORTED`. Before
//!   negotiation, the version the host settles on (the one it asks for if
//!   older than the proxy's, else the proxy's) is put to the monitor, whose
//!   endpoint-0 version finalisation left open: if it refuses, so does the
//!   proxy. Then come the calls the proxy makes once the version is settled,
//!   as pKVM does after the host's `FFA_VERSION`: `FFA_ID_GET` (must be 0)
//!   and `FFA_FEATURES(FFA_RXTX_MAP_64)` (4 KiB granule; the maximum, from
//!   v1.2, must hold the proxy's mailbox); if either fails, `NOT_SUPPORTED`
//!   and the host may ask again. After negotiation, an older minor gets
//!   `NOT_SUPPORTED`; the same or a newer one gets the negotiated version.
//! - **`FFA_FEATURES`**: `NOT_SUPPORTED` for a function the proxy refuses and
//!   for the interrupts partitions use (the notification pending and
//!   managed exit interrupts); otherwise forwarded (the schedule receiver
//!   interrupt included: the host is the scheduler).
//! - **`FFA_RXTX_MAP_64`**: the host's pair is checked (page count 1–63,
//!   page-aligned, in host memory, outside the carve-out and every range of
//!   EL2's image, not overlapping) and recorded, and the proxy's own pair is
//!   mapped at the monitor with it (pKVM maps the hypervisor's pair when the
//!   host maps its own); the host's is never forwarded. If the monitor refuses
//!   the proxy's pair, the host gets the monitor's answer. A second map while
//!   one is recorded gets `DENIED`.
//! - **`FFA_RXTX_UNMAP`**: w1 must be 0 and a pair recorded; it is forgotten,
//!   and the proxy's own pair is unmapped at the monitor (pKVM's
//!   `ffa_unmap_hyp_buffers`), so the monitor keeps no RX buffer owned for
//!   a pair the host gave up.
//! - **`FFA_PARTITION_INFO_GET`**: forwarded (the monitor fills the proxy's
//!   RX buffer); on success the descriptors are copied into the host's RX
//!   buffer. The host releases with `FFA_RX_RELEASE`, which is passed through
//!   and releases the proxy's RX buffer, the one the monitor filled.
//! - **Notifications and `FFA_MSG_SEND2`**: the endpoints checked, the
//!   indirect messages copied between the host's buffers and the proxy's,
//!   the host's bitmap made with its mailbox (see `crate::messages`).
//! - **Passed through**: `FFA_ID_GET`, `FFA_RX_RELEASE`,
//!   `FFA_MSG_SEND_DIRECT_REQ_32/64`, `FFA_RUN`, `FFA_SPM_ID_GET`,
//!   `FFA_NOTIFICATION_INFO_GET`.
//! - **Everything else in the FF-A range**: `FFA_ERROR(NOT_SUPPORTED)`.
//!
//! Bad input never panics: each refusal is a [`Refusal`] with its FF-A error,
//! for the runtime to log.

use crate::finalisation::{self, FinalisationError, FinalisationStatus, Progress, StepResult};
use crate::function::{
    self, without_sve_hint, Mediation, FEATURE_NOTIFICATION_PENDING_INTERRUPT, FFA_FEATURES,
    FFA_ID_GET, FFA_MSG_SEND2, FFA_NOTIFICATION_BIND, FFA_NOTIFICATION_GET, FFA_NOTIFICATION_SET,
    FFA_NOTIFICATION_UNBIND, FFA_PARTITION_INFO_GET, FFA_RXTX_MAP_64, FFA_RXTX_UNMAP,
    FFA_RX_RELEASE, FFA_VERSION,
};
use crate::function::{
    FFA_MEM_FRAG_TX, FFA_MEM_LEND_32, FFA_MEM_LEND_64, FFA_MEM_RECLAIM, FFA_MEM_SHARE_32,
    FFA_MEM_SHARE_64,
};
use crate::memory::{BufferProblem, LayoutError, ProxyLayout, PAGE_SIZE};
use crate::messages::{self, Delivery};
use crate::ownership::{self, Ownership, OwnershipError};
use crate::psci_relay;
use crate::reply;
use crate::sharing::{MemoryEvent, MemoryRefusal, Sharing};
use crate::Registers;
use core::sync::atomic::AtomicU8;
use ffa_abi::{PartitionId, ReplyKind, Status, Version};
use kernel::hil::hypervisor::{El2Services, FaultDecision, MemoryRange, Stage2Fault};
use kernel::hil::smccc::SmcccRegisters;

/// Makes one call from EL2 to the monitor.
fn monitor(el2: &mut dyn El2Services, call: &Registers) -> Registers {
    el2.call_monitor(&SmcccRegisters { x: *call }).x
}

/// Largest page count `FFA_RXTX_MAP` can carry (w3\[5:0\]).
pub const MAXIMUM_HOST_PAGES: u32 = 63;

/// Size of a v1.0 partition information descriptor (v1.0 replies carry no size).
pub const VERSION_1_0_DESCRIPTOR_SIZE: u32 = 8;

/// w5 bit 0 of `FFA_PARTITION_INFO_GET` (v1.1+): return the count only.
const COUNT_ONLY: u32 = 1;

/// The host's RX/TX pair, as recorded by `FFA_RXTX_MAP_64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct HostBuffers {
    /// Physical address of the host's TX buffer.
    pub transmit: u64,
    /// Physical address of the host's RX buffer.
    pub receive: u64,
    /// Size of each buffer in 4 KiB pages.
    pub page_count: u32,
}

impl HostBuffers {
    /// Bytes in each buffer.
    pub const fn size(&self) -> u64 {
        self.page_count as u64 * PAGE_SIZE
    }
}

/// Why finalisation could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum StartError {
    /// It was already started (or done).
    AlreadyStarted,
    /// The layout is unusable.
    Layout(LayoutError),
    /// The host's core count is 0, or more than EL2 has cores for.
    HostCores(u16),
    /// The page-state table cannot track host memory.
    Ownership(ownership::SetupError),
    /// EL2's private memory takes more ranges than the proxy records.
    TooManyPrivateRanges,
}

/// What the proxy did with a host call it handled at EL2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The host's first successful `FFA_VERSION`.
    VersionNegotiated {
        /// What the host asked for.
        requested: Version,
        /// What the proxy answered (the version the host must use at most).
        answered: Version,
    },
    /// A later `FFA_VERSION`, answered with the negotiated version.
    VersionAnswered {
        /// What the host asked for.
        requested: Version,
        /// What the proxy answered.
        answered: Version,
    },
    /// `FFA_FEATURES` for something the proxy mediates: forwarded.
    FeaturesForwarded {
        /// The function or feature ID asked about.
        queried: u32,
    },
    /// `FFA_FEATURES` for something the proxy refuses: answered `NOT_SUPPORTED`.
    FeaturesFiltered {
        /// The function or feature ID asked about.
        queried: u32,
    },
    /// `FFA_RXTX_MAP_64`: the host's pair is recorded (and the proxy's own
    /// pair is mapped at the monitor).
    HostBuffersRecorded(HostBuffers),
    /// `FFA_RXTX_UNMAP`: the host's pair is forgotten; what the monitor
    /// answered to the unmapping of the proxy's own pair.
    HostBuffersForgotten {
        /// The monitor's answer to `FFA_RXTX_UNMAP` of the proxy's pair.
        monitor: ReplyKind,
    },
    /// `FFA_PARTITION_INFO_GET`: descriptors copied into the host's RX buffer.
    PartitionInfoCopied {
        /// Descriptors copied.
        count: u32,
        /// Bytes copied.
        bytes: u64,
    },
    /// `FFA_PARTITION_INFO_GET` with nothing to copy (count only, no
    /// partition, or the monitor's error): its reply went back unchanged.
    PartitionInfoAnswered,
    /// A notification call whose endpoints are the host's: passed on.
    NotificationForwarded {
        /// The call.
        function: u32,
    },
    /// `FFA_NOTIFICATION_GET` announced an indirect message: copied into
    /// the host's RX buffer.
    MessageDelivered {
        /// Bytes copied (header and payload).
        bytes: u64,
    },
    /// `FFA_NOTIFICATION_GET` announced an indirect message that did not
    /// pass: released at the monitor, hidden from the host.
    MessageDropped(&'static str),
    /// `FFA_MSG_SEND2`: the host's message copied into the proxy's TX and sent.
    MessageSent {
        /// Bytes copied (header and payload).
        bytes: u64,
        /// What the monitor answered.
        monitor: ReplyKind,
    },
    /// A memory transaction call, mediated (`crate::sharing`).
    Memory(MemoryEvent),
}

impl defmt::Format for Handled {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            Handled::VersionNegotiated { requested, answered } => defmt::write!(
                formatter,
                "host negotiated FF-A: asked {}, answered {}",
                requested,
                answered
            ),
            Handled::VersionAnswered { requested, answered } => defmt::write!(
                formatter,
                "host asked FF-A {} again, answered {}",
                requested,
                answered
            ),
            Handled::FeaturesForwarded { queried } => {
                defmt::write!(formatter, "FFA_FEATURES({=u32:#x}) forwarded", *queried)
            }
            Handled::FeaturesFiltered { queried } => defmt::write!(
                formatter,
                "FFA_FEATURES({=u32:#x}) answered NOT_SUPPORTED (not mediated)",
                *queried
            ),
            Handled::HostBuffersRecorded(buffers) => defmt::write!(
                formatter,
                "host RX/TX recorded at EL2 (TX {=u64:#x}, RX {=u64:#x}, {=u32} page(s)); the monitor has the proxy's pair",
                buffers.transmit,
                buffers.receive,
                buffers.page_count
            ),
            Handled::HostBuffersForgotten {
                monitor: ReplyKind::Success(_),
            } => defmt::write!(
                formatter,
                "host RX/TX forgotten (FFA_RXTX_UNMAP); the proxy's pair unmapped at the monitor"
            ),
            Handled::HostBuffersForgotten { monitor } => defmt::write!(
                formatter,
                "host RX/TX forgotten (FFA_RXTX_UNMAP); the monitor answered {} to the unmapping of the proxy's pair",
                monitor
            ),
            Handled::PartitionInfoCopied { count, bytes } => defmt::write!(
                formatter,
                "FFA_PARTITION_INFO_GET: {=u32} descriptor(s), {=u64} bytes copied from the proxy's RX into the host's RX",
                *count,
                *bytes
            ),
            Handled::PartitionInfoAnswered => {
                defmt::write!(formatter, "FFA_PARTITION_INFO_GET answered without a copy")
            }
            Handled::NotificationForwarded { function } => defmt::write!(
                formatter,
                "{=str} of the host's endpoints passed on",
                function::name(*function)
            ),
            Handled::MessageDelivered { bytes } => defmt::write!(
                formatter,
                "indirect message of {=u64} bytes copied from the proxy's RX into the host's RX",
                *bytes
            ),
            Handled::MessageDropped(reason) => defmt::write!(
                formatter,
                "indirect message in the proxy's RX dropped ({=str}); RX released",
                *reason
            ),
            Handled::MessageSent { bytes, monitor } => defmt::write!(
                formatter,
                "FFA_MSG_SEND2: {=u64} bytes copied from the host's TX into the proxy's TX; the monitor answered {}",
                *bytes,
                *monitor
            ),
            Handled::Memory(event) => format_memory_event(formatter, event),
        }
    }
}

/// Why the proxy refused a host call, and with which FF-A error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The monitor has no FF-A: every FF-A call gets x0 = -1, as the monitor would answer.
    FfaUnavailable,
    /// An FF-A call other than `FFA_VERSION` before the host negotiated a
    /// version: `INVALID_PARAMETERS`.
    VersionNotNegotiated,
    /// A function the proxy does not mediate: `NOT_SUPPORTED`.
    NotMediated,
    /// `FFA_VERSION` with bit 31 set or a major other than 1 (w1 shown): `NOT_SUPPORTED`.
    IncompatibleVersion(u32),
    /// `FFA_VERSION` asking for an older minor after negotiation: `NOT_SUPPORTED`.
    DowngradeAfterNegotiation {
        /// What the host asked for.
        requested: Version,
        /// The negotiated version.
        negotiated: Version,
    },
    /// `FFA_VERSION`: the monitor refused the version the host settles on
    /// (its own request if older than the proxy's): `NOT_SUPPORTED`.
    VersionRefusedByMonitor {
        /// The version put to the monitor.
        requested: Version,
    },
    /// `FFA_VERSION`: a call the proxy makes once the version is settled
    /// found the monitor unusable: `NOT_SUPPORTED` (the host may ask again).
    MonitorSetUpFailed(SetUpProblem),
    /// `FFA_RXTX_MAP_64` with a page count of 0, above 63, or with w3\[31:6\]
    /// set (w3 shown): `INVALID_PARAMETERS`.
    InvalidPageCount(u32),
    /// A buffer that is not 4 KiB aligned (or at 0): `INVALID_PARAMETERS`.
    BufferNotPageAligned(u64),
    /// A buffer outside host memory: `INVALID_PARAMETERS`.
    BufferOutsideHostMemory(u64),
    /// A buffer in the proxy's carve-out: `INVALID_PARAMETERS`.
    BufferInProxyMemory(u64),
    /// A buffer in EL2's image (code, data, stack, state): `INVALID_PARAMETERS`.
    BufferInEl2Memory(u64),
    /// The monitor refused the proxy's own `FFA_RXTX_MAP_64`, made with the
    /// host's map: the host gets the monitor's answer (its error, or
    /// `NOT_SUPPORTED`).
    ProxyMailboxRefused(ReplyKind),
    /// TX and RX overlap: `INVALID_PARAMETERS`.
    BuffersOverlap,
    /// `FFA_RXTX_MAP_64` while a host pair is recorded: `DENIED`.
    AlreadyMapped,
    /// `FFA_RXTX_UNMAP` with nothing recorded: `INVALID_PARAMETERS`.
    NothingMapped,
    /// `FFA_RXTX_UNMAP` with w1 not 0 (w1 shown): `INVALID_PARAMETERS`.
    NonZeroEndpointId(u32),
    /// `FFA_PARTITION_INFO_GET` without a host RX buffer to copy into: `BUSY`.
    NoHostReceiveBuffer,
    /// More partition information than fits both RX buffers: `ABORTED`.
    PartitionInfoTooLarge {
        /// Bytes the monitor reported.
        bytes: u64,
    },
    /// The copy into the host's RX buffer failed: `ABORTED`.
    CopyFailed,
    /// A notification call naming endpoints that are not the host's
    /// (w1 shown, and why): `INVALID_PARAMETERS`.
    ForeignEndpoint(u32, &'static str),
    /// `FFA_MSG_SEND2` naming a sender in w1 (a hypervisor's right; w1
    /// shown): `INVALID_PARAMETERS`.
    SenderNamed(u32),
    /// `FFA_MSG_SEND2` without the host's RX/TX pair: `DENIED`.
    NoHostBuffers,
    /// `FFA_MSG_SEND2` with a message the proxy refuses (why): `INVALID_PARAMETERS`.
    MalformedMessage(&'static str),
    /// `FFA_RXTX_MAP_64` naming pages the host does not own alone (shared
    /// or lent to the secure world, EL2's): `INVALID_PARAMETERS`, as pKVM.
    BufferNotHostOwned(OwnershipError),
    /// A memory transaction call the proxy refuses (`crate::sharing`).
    Memory(MemoryRefusal),
}

impl Refusal {
    /// The FF-A error the host gets.
    pub const fn error(&self) -> Status {
        match self {
            Refusal::FfaUnavailable
            | Refusal::NotMediated
            | Refusal::IncompatibleVersion(_)
            | Refusal::DowngradeAfterNegotiation { .. }
            | Refusal::VersionRefusedByMonitor { .. }
            | Refusal::MonitorSetUpFailed(_) => Status::NotSupported,
            Refusal::ProxyMailboxRefused(ReplyKind::Error(status)) => *status,
            Refusal::ProxyMailboxRefused(_) => Status::NotSupported,
            Refusal::VersionNotNegotiated
            | Refusal::InvalidPageCount(_)
            | Refusal::BufferNotPageAligned(_)
            | Refusal::BufferOutsideHostMemory(_)
            | Refusal::BufferInProxyMemory(_)
            | Refusal::BufferInEl2Memory(_)
            | Refusal::BuffersOverlap
            | Refusal::NothingMapped
            | Refusal::NonZeroEndpointId(_)
            | Refusal::ForeignEndpoint(..)
            | Refusal::SenderNamed(_)
            | Refusal::MalformedMessage(_) => Status::InvalidParameters,
            Refusal::BufferNotHostOwned(_) => Status::InvalidParameters,
            Refusal::Memory(refusal) => refusal.error(),
            Refusal::AlreadyMapped | Refusal::NoHostBuffers => Status::Denied,
            Refusal::NoHostReceiveBuffer => Status::Busy,
            Refusal::PartitionInfoTooLarge { .. } | Refusal::CopyFailed => Status::Aborted,
        }
    }

    /// Whether the reply is x0 = -1 (as `FFA_VERSION` and FF-A-less monitors
    /// answer) rather than `FFA_ERROR`.
    const fn replies_with_minus_one(&self) -> bool {
        matches!(
            self,
            Refusal::FfaUnavailable
                | Refusal::IncompatibleVersion(_)
                | Refusal::DowngradeAfterNegotiation { .. }
                | Refusal::VersionRefusedByMonitor { .. }
                | Refusal::MonitorSetUpFailed(_)
        )
    }

    /// What the refusal means, beyond the facts its log line gives, if
    /// there is more to say.
    pub fn explanation(&self) -> Option<&'static str> {
        Some(match self {
            Refusal::ProxyMailboxRefused(ReplyKind::Error(Status::Denied)) => {
                "the monitor refused the proxy's own RX/TX pair with DENIED: it holds a pair for \
                 endpoint 0 already, or will not map this one; the host's pair is not recorded"
            }
            Refusal::ProxyMailboxRefused(_) => {
                "the monitor refused the proxy's own RX/TX pair (in the carve-out), mapped with \
                 the host's; the host's pair is not recorded"
            }
            Refusal::BufferInEl2Memory(_) => {
                "EL2 would write the host's RX buffer: it may not lie in EL2's own code or data"
            }
            Refusal::MonitorSetUpFailed(_) => {
                "the version is settled, but the monitor does not offer what the proxy needs"
            }
            _ => return None,
        })
    }
}

/// What a call the proxy makes once the host's version is settled found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetUpProblem {
    /// The call (function ID) did not succeed: the monitor's answer.
    CallFailed {
        /// The proxy's call.
        function: u32,
        /// What the monitor answered.
        answer: ReplyKind,
    },
    /// `FFA_ID_GET` answered an ID other than 0.
    UnexpectedEndpointId(u16),
    /// `FFA_FEATURES(FFA_RXTX_MAP_64)` asks for buffers of this granule
    /// (w2\[1:0\]: 1 = 64 KiB, 2 = 16 KiB, 3 = reserved); the proxy has 4 KiB.
    UnsupportedGranule(u32),
    /// The monitor maps at most this many pages, fewer than the proxy's mailbox has.
    MailboxTooLarge {
        /// w2\[31:16\] of the `FFA_FEATURES` reply.
        maximum_pages: u16,
    },
}

impl defmt::Format for SetUpProblem {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            SetUpProblem::CallFailed { function, answer } => defmt::write!(
                formatter,
                "the monitor answered {} to the proxy's {=str}",
                answer,
                function::name(*function)
            ),
            SetUpProblem::UnexpectedEndpointId(id) => {
                defmt::write!(formatter, "FFA_ID_GET answered {=u16:#06x}, not 0", *id)
            }
            SetUpProblem::UnsupportedGranule(granule) => defmt::write!(
                formatter,
                "the monitor needs RX/TX granule {=u32} (not 4 KiB)",
                *granule
            ),
            SetUpProblem::MailboxTooLarge { maximum_pages } => defmt::write!(
                formatter,
                "the monitor maps at most {=u16} pages per buffer",
                *maximum_pages
            ),
        }
    }
}

impl defmt::Format for Refusal {
    fn format(&self, formatter: defmt::Formatter) {
        match self {
            Refusal::FfaUnavailable => defmt::write!(formatter, "the monitor has no FF-A"),
            Refusal::VersionNotNegotiated => {
                defmt::write!(formatter, "FF-A call before FFA_VERSION negotiation")
            }
            Refusal::NotMediated => defmt::write!(formatter, "not mediated by the proxy"),
            Refusal::IncompatibleVersion(requested) => defmt::write!(
                formatter,
                "incompatible version {=u32:#x} requested",
                *requested
            ),
            Refusal::DowngradeAfterNegotiation {
                requested,
                negotiated,
            } => defmt::write!(
                formatter,
                "{} requested after {} was negotiated",
                requested,
                negotiated
            ),
            Refusal::VersionRefusedByMonitor { requested } => {
                defmt::write!(formatter, "the monitor refused FFA_VERSION({})", requested)
            }
            Refusal::MonitorSetUpFailed(problem) => defmt::write!(
                formatter,
                "the version is settled but {}; the host may ask again",
                problem
            ),
            Refusal::InvalidPageCount(word) => {
                defmt::write!(formatter, "invalid page count w3 = {=u32:#x}", *word)
            }
            Refusal::BufferNotPageAligned(address) => {
                defmt::write!(formatter, "buffer {=u64:#x} is not 4 KiB aligned", *address)
            }
            Refusal::BufferOutsideHostMemory(address) => {
                defmt::write!(
                    formatter,
                    "buffer {=u64:#x} is outside host memory",
                    *address
                )
            }
            Refusal::BufferInProxyMemory(address) => defmt::write!(
                formatter,
                "buffer {=u64:#x} overlaps memory the proxy owns",
                *address
            ),
            Refusal::BufferInEl2Memory(address) => defmt::write!(
                formatter,
                "buffer {=u64:#x} overlaps EL2's image (its code, data or stack)",
                *address
            ),
            Refusal::ProxyMailboxRefused(answer) => defmt::write!(
                formatter,
                "the monitor answered {} to the proxy's own FFA_RXTX_MAP_64 (its pair in the carve-out)",
                answer
            ),
            Refusal::BuffersOverlap => defmt::write!(formatter, "TX and RX overlap"),
            Refusal::AlreadyMapped => {
                defmt::write!(formatter, "the host's RX/TX pair is already mapped")
            }
            Refusal::NothingMapped => defmt::write!(formatter, "no host RX/TX pair is mapped"),
            Refusal::NonZeroEndpointId(word) => {
                defmt::write!(formatter, "w1 = {=u32:#x}, must be 0", *word)
            }
            Refusal::NoHostReceiveBuffer => {
                defmt::write!(formatter, "the host has no RX buffer mapped")
            }
            Refusal::PartitionInfoTooLarge { bytes } => defmt::write!(
                formatter,
                "{=u64} bytes of partition information do not fit the RX buffers",
                *bytes
            ),
            Refusal::CopyFailed => {
                defmt::write!(formatter, "copying into the host's RX buffer failed")
            }
            Refusal::ForeignEndpoint(word, reason) => defmt::write!(
                formatter,
                "w1 = {=u32:#x}: {=str}",
                *word,
                *reason
            ),
            Refusal::SenderNamed(word) => defmt::write!(
                formatter,
                "w1 = {=u32:#x} names a sender; only a hypervisor may",
                *word
            ),
            Refusal::NoHostBuffers => defmt::write!(formatter, "the host has no RX/TX pair mapped"),
            Refusal::MalformedMessage(reason) => {
                defmt::write!(formatter, "the message in the host's TX: {=str}", *reason)
            }
            Refusal::BufferNotHostOwned(error) => {
                defmt::write!(formatter, "the buffer's pages: {}", OwnershipText(*error))
            }
            Refusal::Memory(refusal) => format_memory_refusal(formatter, refusal),
        }
    }
}

/// What the proxy did with one host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Not an FF-A call, or the proxy is not finalised: forwarded unchanged.
    Forwarded,
    /// An FF-A call the proxy passes through unchanged.
    PassedThrough,
    /// Handled at EL2.
    Handled(Handled),
    /// Refused with an FF-A error.
    Refused(Refusal),
}

/// The reply for the host and what the proxy did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCallOutcome {
    /// x0–x17 to return to the host.
    pub reply: Registers,
    /// What happened, for logs and tests.
    pub disposition: Disposition,
}

/// The storage of the page-state table (compared by address).
#[derive(Clone, Copy, Debug)]
struct PageStorage(&'static [AtomicU8]);

impl PartialEq for PageStorage {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self.0, other.0)
    }
}

impl Eq for PageStorage {}

/// The proxy's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Finalising(Progress),
    Finalised,
    Failed(FinalisationError),
}

/// The EL2 FF-A proxy's state. One per system; `const`-constructible so the
/// runtime can keep it in a static.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proxy {
    phase: Phase,
    layout: ProxyLayout,
    /// The version used with the monitor and offered to the host (`None`:
    /// the monitor has no FF-A, or finalisation has not got that far).
    version: Option<Version>,
    host_negotiated: bool,
    host_buffers: Option<HostBuffers>,
    /// Whether the proxy's own pair is mapped at the monitor.
    mailbox_mapped: bool,
    /// Whether the proxy made the host's notification bitmap at the monitor.
    host_bitmap: bool,
    /// The host's cores: the vCPUs of the host's notification bitmap.
    host_cores: u16,
    /// Storage for the page-state table (two bits per page of host memory),
    /// in EL2's private memory; without it, memory sharing is refused.
    page_states: Option<PageStorage>,
    /// The memory transactions and the page-state table.
    sharing: Sharing,
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy::new()
    }
}

impl Proxy {
    /// A proxy that passes everything through and has not started finalising.
    pub const fn new() -> Proxy {
        Proxy {
            phase: Phase::Idle,
            layout: ProxyLayout::EMPTY,
            version: None,
            host_negotiated: false,
            host_buffers: None,
            mailbox_mapped: false,
            host_bitmap: false,
            host_cores: 1,
            page_states: None,
            sharing: Sharing::new(),
        }
    }

    /// A proxy that tracks page ownership in `page_states` (two bits per
    /// page of host memory: [`ownership::storage_bytes`]) and mediates
    /// memory sharing.
    pub const fn with_page_states(page_states: &'static [AtomicU8]) -> Proxy {
        let mut proxy = Proxy::new();
        proxy.page_states = Some(PageStorage(page_states));
        proxy
    }

    /// The memory transactions and the page-state table.
    pub fn sharing(&self) -> &Sharing {
        &self.sharing
    }

    /// A host access the stage 2 refused: what EL2 does with it (see
    /// [`Sharing::fault`]), and the page's state.
    pub fn host_stage2_fault(
        &mut self,
        fault: &Stage2Fault,
    ) -> (FaultDecision, Option<ownership::PageState>) {
        self.sharing.fault(fault)
    }

    /// Whether the proxy made the host's notification bitmap at the monitor.
    pub fn host_bitmap(&self) -> bool {
        self.host_bitmap
    }

    /// The host's cores, as finalisation was told (the vCPUs of the host's
    /// notification bitmap).
    pub fn host_cores(&self) -> u16 {
        self.host_cores
    }

    /// Starts finalisation with `layout` (checked) for a host of
    /// `host_cores` cores (1 to [`psci_relay::MAXIMUM_CORES`]: the host's
    /// bitmap gets one vCPU per core). The steps run in
    /// [`Proxy::finalise_step`]. Only once: a second start is refused.
    pub fn start_finalisation(
        &mut self,
        layout: ProxyLayout,
        host_cores: u16,
    ) -> Result<(), StartError> {
        if self.phase != Phase::Idle {
            return Err(StartError::AlreadyStarted);
        }
        layout.check().map_err(StartError::Layout)?;
        if host_cores == 0 || usize::from(host_cores) > psci_relay::MAXIMUM_CORES {
            return Err(StartError::HostCores(host_cores));
        }
        self.host_cores = host_cores;
        if let Some(PageStorage(storage)) = self.page_states {
            let private = layout.private().ok_or(StartError::TooManyPrivateRanges)?;
            let table = Ownership::new(storage, layout.host_memory, layout.el2_code, private)
                .map_err(StartError::Ownership)?
                .with_firmware_shared(layout.firmware_shared);
            self.sharing.start(table);
        }
        self.layout = layout;
        self.phase = Phase::Finalising(Progress::START);
        Ok(())
    }

    /// Takes back a start whose host protection EL2 could not set up: the
    /// proxy is idle again and traps nothing.
    pub fn cancel_start(&mut self) {
        if matches!(self.phase, Phase::Finalising(progress) if progress == Progress::START) {
            self.phase = Phase::Idle;
            self.layout = ProxyLayout::EMPTY;
            self.sharing = Sharing::new();
        }
    }

    /// Performs the next finalisation step (at most one call to the
    /// monitor, through `el2`) and returns where finalisation is. When this
    /// returns [`FinalisationStatus::Finalised`] for the first time, the
    /// host's SMCs must start to trap ([`El2Services::trap_host_smcs`]).
    /// Outside finalisation it does nothing and returns the status.
    pub fn finalise_step(&mut self, el2: &mut dyn El2Services) -> FinalisationStatus {
        if let Phase::Finalising(progress) = self.phase {
            let mut call_monitor = |call: &Registers| monitor(el2, call);
            match finalisation::run_step(progress, &mut call_monitor) {
                StepResult::Continue(next) => self.phase = Phase::Finalising(next),
                StepResult::Finalised { version } => {
                    self.version = version;
                    self.phase = Phase::Finalised;
                }
                StepResult::Failed(error) => self.phase = Phase::Failed(error),
            }
        }
        self.status()
    }

    /// Where finalisation is.
    pub fn status(&self) -> FinalisationStatus {
        match self.phase {
            Phase::Idle => FinalisationStatus::NotStarted,
            Phase::Finalising(progress) => FinalisationStatus::InProgress {
                next: progress.next,
                attempts: progress.attempts,
            },
            Phase::Finalised => FinalisationStatus::Finalised {
                version: self.version,
            },
            Phase::Failed(error) => FinalisationStatus::Failed(error),
        }
    }

    /// Whether the proxy is finalised (the host's SMCs are to be trapped).
    pub fn is_finalised(&self) -> bool {
        self.phase == Phase::Finalised
    }

    /// The layout finalisation started with.
    pub fn layout(&self) -> &ProxyLayout {
        &self.layout
    }

    /// The host's recorded RX/TX pair.
    pub fn host_buffers(&self) -> Option<HostBuffers> {
        self.host_buffers
    }

    /// Whether the proxy's own RX/TX pair is mapped at the monitor.
    pub fn mailbox_mapped(&self) -> bool {
        self.mailbox_mapped
    }

    /// The version the host negotiated, once it has.
    pub fn host_version(&self) -> Option<Version> {
        if self.host_negotiated {
            self.version
        } else {
            None
        }
    }

    /// Handles one SMC of the host: returns the reply and what was done.
    /// `el2` makes the proxy's calls to the monitor and the
    /// partition-information copy.
    pub fn handle_host_call(
        &mut self,
        call: &Registers,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        let function_id = without_sve_hint(call[0] as u32);
        if !self.is_finalised() || !function::in_ffa_range(function_id) {
            return HostCallOutcome {
                reply: monitor(el2, call),
                disposition: Disposition::Forwarded,
            };
        }
        let Some(version) = self.version else {
            return refuse(call, Refusal::FfaUnavailable);
        };
        if function_id != FFA_VERSION && !self.host_negotiated {
            return refuse(call, Refusal::VersionNotNegotiated);
        }
        match function::mediation(function_id) {
            Mediation::PassedThrough => HostCallOutcome {
                reply: monitor(el2, call),
                disposition: Disposition::PassedThrough,
            },
            Mediation::Refused => refuse(call, Refusal::NotMediated),
            Mediation::HandledAtEl2 => match function_id {
                FFA_VERSION => self.version_call(call, version, el2),
                FFA_FEATURES => self.features_call(call, el2),
                FFA_RXTX_MAP_64 => self.map_call(call, el2),
                FFA_RXTX_UNMAP => self.unmap_call(call, el2),
                FFA_PARTITION_INFO_GET => self.partition_info_call(call, version, el2),
                FFA_NOTIFICATION_BIND
                | FFA_NOTIFICATION_UNBIND
                | FFA_NOTIFICATION_SET
                | FFA_NOTIFICATION_GET => self.notification_call(function_id, call, el2),
                FFA_MSG_SEND2 => self.send2_call(call, version, el2),
                FFA_MEM_SHARE_32 | FFA_MEM_SHARE_64 | FFA_MEM_LEND_32 | FFA_MEM_LEND_64
                | FFA_MEM_FRAG_TX | FFA_MEM_RECLAIM => {
                    self.memory_call(function_id, call, version, el2)
                }
                _ => refuse(call, Refusal::NotMediated),
            },
        }
    }

    fn version_call(
        &mut self,
        call: &Registers,
        version: Version,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        let word = call[1] as u32;
        let requested = match Version::from_raw(word).ok() {
            Some(requested) if requested.is_compatible() => requested,
            _ => return refuse(call, Refusal::IncompatibleVersion(word)),
        };
        if self.host_negotiated {
            if requested.minor() < version.minor() {
                return refuse(
                    call,
                    Refusal::DowngradeAfterNegotiation {
                        requested,
                        negotiated: version,
                    },
                );
            }
            return handled(
                reply::version(call, version),
                Handled::VersionAnswered {
                    requested,
                    answered: version,
                },
            );
        }
        // The version the host settles on; the monitor's version for endpoint
        // 0 is still open (finalisation checked it): set it to this one.
        let answered = if requested.minor() < version.minor() {
            requested
        } else {
            version
        };
        let answer = monitor(el2, &reply::call(FFA_VERSION, &[u64::from(answered.raw())]));
        let accepted = matches!(
            reply::kind(&answer),
            ReplyKind::Value(value) if Version::from_raw(value).is_ok_and(Version::is_compatible)
        );
        if !accepted {
            return refuse(
                call,
                Refusal::VersionRefusedByMonitor {
                    requested: answered,
                },
            );
        }
        if let Err(problem) = self.set_up_after_version(answered, el2) {
            return refuse(call, Refusal::MonitorSetUpFailed(problem));
        }
        self.version = Some(answered);
        self.host_negotiated = true;
        handled(
            reply::version(call, answered),
            Handled::VersionNegotiated {
                requested,
                answered,
            },
        )
    }

    /// The calls made once the host's version is settled, as pKVM makes them
    /// after the host's `FFA_VERSION` (not at finalisation: any call but
    /// `FFA_VERSION` fixes the version at the monitor).
    fn set_up_after_version(
        &mut self,
        version: Version,
        el2: &mut dyn El2Services,
    ) -> Result<(), SetUpProblem> {
        let answer = monitor(el2, &reply::call(FFA_ID_GET, &[]));
        success_or_problem(FFA_ID_GET, &answer)?;
        let id = answer[2] as u16;
        if id != PartitionId::NORMAL_WORLD.raw() {
            return Err(SetUpProblem::UnexpectedEndpointId(id));
        }
        let answer = monitor(
            el2,
            &reply::call(FFA_FEATURES, &[u64::from(FFA_RXTX_MAP_64)]),
        );
        success_or_problem(FFA_FEATURES, &answer)?;
        let properties = answer[2] as u32;
        let granule = properties & 0b11;
        if granule != 0 {
            return Err(SetUpProblem::UnsupportedGranule(granule));
        }
        // w2[31:16] states a maximum from v1.2 on (0: none).
        let maximum_pages = (properties >> 16) as u16;
        if version >= Version::V1_2
            && maximum_pages != 0
            && u32::from(maximum_pages) < self.layout.mailbox.page_count
        {
            return Err(SetUpProblem::MailboxTooLarge { maximum_pages });
        }
        Ok(())
    }

    fn map_call(&mut self, call: &Registers, el2: &mut dyn El2Services) -> HostCallOutcome {
        let transmit = call[1];
        let receive = call[2];
        let page_word = call[3] as u32;
        if page_word == 0 || page_word > MAXIMUM_HOST_PAGES {
            return refuse(call, Refusal::InvalidPageCount(page_word));
        }
        let buffers = HostBuffers {
            transmit,
            receive,
            page_count: page_word,
        };
        for address in [transmit, receive] {
            let refusal = match self.layout.check_host_buffer(address, buffers.size()) {
                Ok(()) => continue,
                Err(BufferProblem::NotPageAligned) => Refusal::BufferNotPageAligned(address),
                Err(BufferProblem::OutsideHostMemory) => Refusal::BufferOutsideHostMemory(address),
                Err(BufferProblem::InProxyMemory) => Refusal::BufferInProxyMemory(address),
                Err(BufferProblem::InEl2Memory) => Refusal::BufferInEl2Memory(address),
            };
            return refuse(call, refusal);
        }
        if MemoryRange::new(transmit, buffers.size())
            .overlaps(&MemoryRange::new(receive, buffers.size()))
        {
            return refuse(call, Refusal::BuffersOverlap);
        }
        if self.host_buffers.is_some() {
            return refuse(call, Refusal::AlreadyMapped);
        }
        // The pages become EL2's to write (pinned while mapped): the host
        // must own them alone.
        if let Err(error) = self.sharing.share_mailbox(&buffers) {
            return refuse(call, Refusal::BufferNotHostOwned(error));
        }
        if !self.mailbox_mapped {
            // The monitor gets the proxy's pair, never the host's.
            let mailbox = self.layout.mailbox;
            let answer = monitor(
                el2,
                &reply::call(
                    FFA_RXTX_MAP_64,
                    &[
                        mailbox.transmit,
                        mailbox.receive,
                        u64::from(mailbox.page_count),
                    ],
                ),
            );
            let kind = reply::kind(&answer);
            if !kind.is_success() {
                self.sharing.unshare_mailbox(&buffers);
                return refuse(call, Refusal::ProxyMailboxRefused(kind));
            }
            self.mailbox_mapped = true;
            self.make_host_bitmap(el2);
        }
        self.host_buffers = Some(buffers);
        handled(reply::success(call), Handled::HostBuffersRecorded(buffers))
    }

    fn unmap_call(&mut self, call: &Registers, el2: &mut dyn El2Services) -> HostCallOutcome {
        let word = call[1] as u32;
        if word != 0 {
            return refuse(call, Refusal::NonZeroEndpointId(word));
        }
        let Some(buffers) = self.host_buffers.take() else {
            return refuse(call, Refusal::NothingMapped);
        };
        self.sharing.unshare_mailbox(&buffers);
        // The proxy's pair goes with the host's, so the monitor keeps no RX
        // buffer owned for a pair the host gave up.
        if self.host_bitmap {
            match messages::destroy_host_bitmap(el2) {
                answer if answer.is_success() => {
                    self.host_bitmap = false;
                    defmt::info!("el2 proxy: the host's notification bitmap destroyed");
                }
                answer => defmt::warn!(
                    "el2 proxy: the monitor answered {} to destroying the host's notification bitmap (bindings left?)",
                    answer
                ),
            }
        }
        let answer = reply::kind(&monitor(el2, &reply::call(FFA_RXTX_UNMAP, &[])));
        if answer.is_success() {
            self.mailbox_mapped = false;
        }
        handled(
            reply::success(call),
            Handled::HostBuffersForgotten { monitor: answer },
        )
    }

    fn partition_info_call(
        &mut self,
        call: &Registers,
        version: Version,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        let Some(host) = self.host_buffers else {
            return refuse(call, Refusal::NoHostReceiveBuffer);
        };
        let flags = call[5] as u32;
        let arguments =
            [call[1], call[2], call[3], call[4], call[5]].map(|word| word & 0xFFFF_FFFF);
        let answer = monitor(el2, &reply::call(FFA_PARTITION_INFO_GET, &arguments));
        let unchanged = handled(answer, Handled::PartitionInfoAnswered);
        if !reply::kind(&answer).is_success() {
            return unchanged;
        }
        let count = answer[2] as u32;
        if count == 0 {
            return unchanged;
        }
        let descriptor_size = if version > Version::V1_0 {
            if flags & COUNT_ONLY != 0 {
                return unchanged;
            }
            answer[3] as u32
        } else {
            VERSION_1_0_DESCRIPTOR_SIZE
        };
        let bytes = u64::from(count) * u64::from(descriptor_size);
        let room = self.layout.mailbox.size().min(host.size());
        let refusal = if bytes > room {
            Some(Refusal::PartitionInfoTooLarge { bytes })
        } else if el2
            .copy(host.receive, self.layout.mailbox.receive, bytes as usize)
            .is_err()
        {
            Some(Refusal::CopyFailed)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            // The monitor handed the proxy's RX buffer over; the host will
            // not release it, since it gets an error: release it here.
            monitor(el2, &reply::call(FFA_RX_RELEASE, &[]));
            return refuse(call, refusal);
        }
        handled(answer, Handled::PartitionInfoCopied { count, bytes })
    }
}

impl Proxy {
    fn features_call(&mut self, call: &Registers, el2: &mut dyn El2Services) -> HostCallOutcome {
        features_call(call, self.sharing.ownership().is_some(), el2)
    }

    /// `FFA_MEM_SHARE`, `FFA_MEM_LEND`, `FFA_MEM_FRAG_TX`, `FFA_MEM_RECLAIM` of the host.
    fn memory_call(
        &mut self,
        function_id: u32,
        call: &Registers,
        version: Version,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        if self.sharing.ownership().is_none() {
            return refuse(call, Refusal::NotMediated);
        }
        let host = self.host_buffers;
        let mailbox = self.layout.mailbox;
        let result = match function_id {
            FFA_MEM_FRAG_TX => self.sharing.fragment(call, host, mailbox, el2),
            FFA_MEM_RECLAIM => self.sharing.reclaim(call, el2),
            _ => self
                .sharing
                .send(function_id, call, version, host, mailbox, el2),
        };
        match result {
            Ok((answer, event)) => handled(answer, Handled::Memory(event)),
            Err(refusal) => refuse(call, Refusal::Memory(refusal)),
        }
    }

    /// Makes the host's notification bitmap (the hypervisor's job), when
    /// the host negotiated v1.1 or later and the monitor offers it.
    fn make_host_bitmap(&mut self, el2: &mut dyn El2Services) {
        if self.host_bitmap || self.host_version().is_none_or(|v| v < Version::V1_1) {
            return;
        }
        match messages::create_host_bitmap(el2, self.host_cores) {
            answer if answer.is_success() => {
                self.host_bitmap = true;
                defmt::info!(
                    "el2 proxy: the host's notification bitmap created (VM 0, {=u16} vCPU(s): one per host core)",
                    self.host_cores
                );
            }
            answer => defmt::info!(
                "el2 proxy: no notification bitmap for the host: the monitor answered {}",
                answer
            ),
        }
    }

    /// `BIND`, `UNBIND`, `SET`, `GET` of the host.
    fn notification_call(
        &mut self,
        function_id: u32,
        call: &Registers,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        let word = call[1] as u32;
        if let Err(reason) = messages::check_endpoints(function_id, word) {
            return refuse(call, Refusal::ForeignEndpoint(word, reason));
        }
        let mut answer = monitor(el2, call);
        if function_id != FFA_NOTIFICATION_GET {
            return handled(
                answer,
                Handled::NotificationForwarded {
                    function: function_id,
                },
            );
        }
        let delivery = messages::deliver(&mut answer, self.host_buffers, self.layout.mailbox, el2);
        let what = match delivery {
            Delivery::None => Handled::NotificationForwarded {
                function: function_id,
            },
            Delivery::Copied(bytes) => Handled::MessageDelivered { bytes },
            Delivery::Dropped(reason) => Handled::MessageDropped(reason),
        };
        handled(answer, what)
    }

    /// `FFA_MSG_SEND2` of the host.
    fn send2_call(
        &mut self,
        call: &Registers,
        version: Version,
        el2: &mut dyn El2Services,
    ) -> HostCallOutcome {
        let word = call[1] as u32;
        if word != 0 {
            return refuse(call, Refusal::SenderNamed(word));
        }
        let Some(host) = self.host_buffers.filter(|_| self.mailbox_mapped) else {
            return refuse(call, Refusal::NoHostBuffers);
        };
        match messages::send2(call, version, host, self.layout.mailbox, el2) {
            Ok((answer, bytes)) => {
                let monitor = reply::kind(&answer);
                handled(answer, Handled::MessageSent { bytes, monitor })
            }
            Err(reason) => refuse(call, Refusal::MalformedMessage(reason)),
        }
    }
}

/// `Ok` if `answer` to the proxy's `function` is `FFA_SUCCESS`.
fn success_or_problem(function: u32, answer: &Registers) -> Result<(), SetUpProblem> {
    match reply::kind(answer) {
        ReplyKind::Success(_) => Ok(()),
        answer => Err(SetUpProblem::CallFailed { function, answer }),
    }
}

/// Whether `function_id` is a memory transaction call the proxy mediates.
const fn is_memory_call(function_id: u32) -> bool {
    matches!(
        function_id,
        FFA_MEM_SHARE_32
            | FFA_MEM_SHARE_64
            | FFA_MEM_LEND_32
            | FFA_MEM_LEND_64
            | FFA_MEM_FRAG_TX
            | FFA_MEM_RECLAIM
    )
}

fn features_call(
    call: &Registers,
    mediates_memory: bool,
    el2: &mut dyn El2Services,
) -> HostCallOutcome {
    let queried = without_sve_hint(call[1] as u32);
    if is_memory_call(queried) {
        if !mediates_memory {
            return handled(
                reply::error(call, Status::NotSupported),
                Handled::FeaturesFiltered { queried },
            );
        }
        let mut answer = monitor(el2, call);
        Sharing::filter_features(&mut answer);
        return handled(answer, Handled::FeaturesForwarded { queried });
    }
    let refused = if queried & function::FAST_CALL != 0 {
        function::in_ffa_range(queried) && function::mediation(queried) == Mediation::Refused
    } else {
        // The interrupts partitions use; the schedule receiver interrupt
        // is the host's (it schedules).
        queried == FEATURE_NOTIFICATION_PENDING_INTERRUPT
            || queried == ffa_abi::notification::FEATURE_MANAGED_EXIT_INTERRUPT
    };
    if refused {
        return handled(
            reply::error(call, Status::NotSupported),
            Handled::FeaturesFiltered { queried },
        );
    }
    handled(monitor(el2, call), Handled::FeaturesForwarded { queried })
}

fn handled(reply: Registers, what: Handled) -> HostCallOutcome {
    HostCallOutcome {
        reply,
        disposition: Disposition::Handled(what),
    }
}

fn refuse(call: &Registers, refusal: Refusal) -> HostCallOutcome {
    let reply = if refusal.replies_with_minus_one() {
        reply::not_supported(call)
    } else {
        reply::error(call, refusal.error())
    };
    HostCallOutcome {
        reply,
        disposition: Disposition::Refused(refusal),
    }
}

/// An ownership error, as a log line says it.
struct OwnershipText(OwnershipError);

impl defmt::Format for OwnershipText {
    fn format(&self, formatter: defmt::Formatter) {
        match self.0 {
            OwnershipError::BadRange => {
                defmt::write!(formatter, "not whole 4 KiB pages, or wrapping")
            }
            OwnershipError::OutsideHostMemory(address) => {
                defmt::write!(formatter, "{=u64:#x} is not host memory", address)
            }
            OwnershipError::WrongState { address, state } => defmt::write!(
                formatter,
                "page {=u64:#x} is {=str}, not the host's alone",
                address,
                state.name()
            ),
        }
    }
}

fn format_memory_refusal(formatter: defmt::Formatter, refusal: &MemoryRefusal) {
    match refusal {
        MemoryRefusal::DynamicBuffer => defmt::write!(
            formatter,
            "w3/w4 name a buffer other than TX; the proxy reads only the host's TX"
        ),
        MemoryRefusal::NoHostBuffers => {
            defmt::write!(formatter, "the host has no RX/TX pair mapped")
        }
        MemoryRefusal::FragmentTooLong(length) => defmt::write!(
            formatter,
            "a {=u32}-byte fragment does not fit the TX buffers",
            *length
        ),
        MemoryRefusal::TransactionInFlight(handle) => defmt::write!(
            formatter,
            "transaction {=u64:#x} is still being sent in fragments",
            *handle
        ),
        MemoryRefusal::TooManyTransactions => defmt::write!(
            formatter,
            "the proxy tracks {=usize} transactions already",
            crate::sharing::MAX_TRANSACTIONS
        ),
        MemoryRefusal::TooManyRanges => defmt::write!(
            formatter,
            "the proxy tracks {=usize} address ranges already",
            crate::sharing::MAX_RANGES
        ),
        MemoryRefusal::CopyFailed => {
            defmt::write!(formatter, "copying the host's TX into the proxy's failed")
        }
        MemoryRefusal::Descriptor(problem) => defmt::write!(
            formatter,
            "the descriptor: {=str} ({})",
            problem.describe(),
            problem
        ),
        MemoryRefusal::Overlap(address) => defmt::write!(
            formatter,
            "two constituents name page {=u64:#x}",
            *address
        ),
        MemoryRefusal::NotOwned(error) => defmt::write!(
            formatter,
            "the transaction's pages: {}; nothing was given",
            OwnershipText(*error)
        ),
        MemoryRefusal::Stage2(address) => defmt::write!(
            formatter,
            "no stage-2 table left to unmap {=u64:#x} from the host; nothing was given",
            *address
        ),
        MemoryRefusal::UnknownHandle(handle) => defmt::write!(
            formatter,
            "handle {=u64:#x} is no transaction of the host's (the proxy records every one it forwarded)",
            *handle
        ),
        MemoryRefusal::SenderNamed(word) => defmt::write!(
            formatter,
            "w4 = {=u32:#x} names a sender; only a hypervisor may",
            *word
        ),
        MemoryRefusal::MonitorProtocol(answer) => defmt::write!(
            formatter,
            "the monitor answered {} outside the protocol; the pages stay given (quarantined)",
            *answer
        ),
    }
}

fn format_memory_event(formatter: defmt::Formatter, event: &MemoryEvent) {
    match event {
        MemoryEvent::Sent {
            operation,
            handle,
            pages,
            ranges,
            complete,
        } => defmt::write!(
            formatter,
            "{=str} of {=u64} page(s) in {=u32} range(s) checked and given{=str}, forwarded from the proxy's TX: handle {=u64:#x}{=str}",
            operation.name(),
            *pages,
            *ranges,
            if *operation == crate::sharing::Operation::Lend {
                " (unmapped from the host's stage 2)"
            } else {
                ""
            },
            handle.unwrap_or(0),
            if *complete { ", complete" } else { ", more fragments to come" }
        ),
        MemoryEvent::RolledBack {
            operation,
            pages,
            monitor,
        } => defmt::write!(
            formatter,
            "the monitor refused the {=str} ({}): its {=u64} page(s) are the host's again",
            operation.name(),
            *monitor,
            *pages
        ),
        MemoryEvent::Reclaimed {
            handle,
            operation,
            pages,
        } => defmt::write!(
            formatter,
            "FFA_MEM_RECLAIM of handle {=u64:#x}: the monitor agreed; the {=str}'s {=u64} page(s) are the host's again",
            *handle,
            operation.name(),
            *pages
        ),
        MemoryEvent::ReclaimRefused { handle, monitor } => defmt::write!(
            formatter,
            "FFA_MEM_RECLAIM of handle {=u64:#x}: the monitor answered {}; the pages stay given",
            *handle,
            *monitor
        ),
    }
}
