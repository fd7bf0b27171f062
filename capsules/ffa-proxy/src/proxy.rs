//! The proxy: its state, finalisation driver, and the mediation of host calls.
//!
//! Once finalised, [`Proxy::handle_host_call`] receives every SMC of the
//! host (trapped by the runtime) and decides, the way pKVM's proxy does:
//!
//! - **Not FF-A** (PSCI, SMCCC, vendor calls): forwarded unchanged.
//! - **Before version negotiation**: every FF-A call but `FFA_VERSION` gets
//!   `FFA_ERROR(INVALID_PARAMETERS)`.
//! - **`FFA_VERSION`**: a major other than 1 gets `NOT_SUPPORTED`. Before
//!   negotiation, a request for an older minor than the proxy's version is
//!   first put to the monitor (if it refuses, so does the proxy; otherwise
//!   the proxy adopts it); the first successful `FFA_VERSION` negotiates.
//!   After negotiation, an older minor gets `NOT_SUPPORTED`; the same or a
//!   newer one gets the proxy's version.
//! - **`FFA_FEATURES`**: `NOT_SUPPORTED` for a function the proxy refuses and
//!   for the notification interrupts; otherwise forwarded.
//! - **`FFA_RXTX_MAP_64`**: the host's pair is checked (page count 1–63,
//!   page-aligned, in host memory, outside proxy memory, not overlapping)
//!   and recorded; never forwarded: the monitor keeps the proxy's own pair.
//!   A second map while one is recorded gets `DENIED`.
//! - **`FFA_RXTX_UNMAP`**: w1 must be 0 and a pair recorded; it is forgotten.
//! - **`FFA_PARTITION_INFO_GET`**: forwarded (the monitor fills the proxy's
//!   RX buffer); on success the descriptors are copied into the host's RX
//!   buffer. The host releases with `FFA_RX_RELEASE`, which is passed through
//!   and releases the proxy's RX buffer, the one the monitor filled.
//! - **Passed through**: `FFA_ID_GET`, `FFA_RX_RELEASE`,
//!   `FFA_MSG_SEND_DIRECT_REQ_32/64`, `FFA_RUN`, `FFA_SPM_ID_GET`.
//! - **Everything else in the FF-A range**: `FFA_ERROR(NOT_SUPPORTED)`.
//!
//! Bad input never panics: each refusal is a [`Refusal`] with its FF-A error,
//! for the runtime to log.

use crate::finalisation::{self, FinalisationError, FinalisationStatus, Progress, StepResult};
use crate::function::{
    self, Mediation, FEATURE_NOTIFICATION_PENDING_INTERRUPT, FEATURE_SCHEDULE_RECEIVER_INTERRUPT,
    FFA_FEATURES, FFA_PARTITION_INFO_GET, FFA_RXTX_MAP_64, FFA_RXTX_UNMAP, FFA_RX_RELEASE,
    FFA_VERSION,
};
use crate::memory::{BufferProblem, LayoutError, ProxyLayout, PAGE_SIZE};
use crate::reply;
use crate::Registers;
use ffa_abi::{ReplyKind, Status, Version};
use kernel::hil::hypervisor::{El2Services, MemoryRange};
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
    /// `FFA_RXTX_MAP_64`: the host's pair is recorded.
    HostBuffersRecorded(HostBuffers),
    /// `FFA_RXTX_UNMAP`: the host's pair is forgotten.
    HostBuffersForgotten,
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
                "host RX/TX recorded at EL2 (TX {=u64:#x}, RX {=u64:#x}, {=u32} page(s)); the monitor keeps the proxy's pair",
                buffers.transmit,
                buffers.receive,
                buffers.page_count
            ),
            Handled::HostBuffersForgotten => {
                defmt::write!(formatter, "host RX/TX forgotten (FFA_RXTX_UNMAP)")
            }
            Handled::PartitionInfoCopied { count, bytes } => defmt::write!(
                formatter,
                "FFA_PARTITION_INFO_GET: {=u32} descriptor(s), {=u64} bytes copied from the proxy's RX into the host's RX",
                *count,
                *bytes
            ),
            Handled::PartitionInfoAnswered => {
                defmt::write!(formatter, "FFA_PARTITION_INFO_GET answered without a copy")
            }
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
    /// `FFA_VERSION` asking for an older minor that the monitor refused: `NOT_SUPPORTED`.
    DowngradeRefusedByMonitor {
        /// What the host asked for.
        requested: Version,
    },
    /// `FFA_RXTX_MAP_64` with a page count of 0, above 63, or with w3\[31:6\]
    /// set (w3 shown): `INVALID_PARAMETERS`.
    InvalidPageCount(u32),
    /// A buffer that is not 4 KiB aligned (or at 0): `INVALID_PARAMETERS`.
    BufferNotPageAligned(u64),
    /// A buffer outside host memory: `INVALID_PARAMETERS`.
    BufferOutsideHostMemory(u64),
    /// A buffer in memory the proxy owns: `INVALID_PARAMETERS`.
    BufferInProxyMemory(u64),
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
}

impl Refusal {
    /// The FF-A error the host gets.
    pub const fn error(&self) -> Status {
        match self {
            Refusal::FfaUnavailable
            | Refusal::NotMediated
            | Refusal::IncompatibleVersion(_)
            | Refusal::DowngradeAfterNegotiation { .. }
            | Refusal::DowngradeRefusedByMonitor { .. } => Status::NotSupported,
            Refusal::VersionNotNegotiated
            | Refusal::InvalidPageCount(_)
            | Refusal::BufferNotPageAligned(_)
            | Refusal::BufferOutsideHostMemory(_)
            | Refusal::BufferInProxyMemory(_)
            | Refusal::BuffersOverlap
            | Refusal::NothingMapped
            | Refusal::NonZeroEndpointId(_) => Status::InvalidParameters,
            Refusal::AlreadyMapped => Status::Denied,
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
                | Refusal::DowngradeRefusedByMonitor { .. }
        )
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
            Refusal::DowngradeRefusedByMonitor { requested } => {
                defmt::write!(
                    formatter,
                    "the monitor refused the downgrade to {}",
                    requested
                )
            }
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
        }
    }

    /// Starts finalisation with `layout` (checked). The steps run in
    /// [`Proxy::finalise_step`]. Only once: a second start is refused.
    pub fn start_finalisation(&mut self, layout: ProxyLayout) -> Result<(), StartError> {
        if self.phase != Phase::Idle {
            return Err(StartError::AlreadyStarted);
        }
        layout.check().map_err(StartError::Layout)?;
        self.layout = layout;
        self.phase = Phase::Finalising(Progress::START);
        Ok(())
    }

    /// Performs the next finalisation step (at most one call to the
    /// monitor, through `el2`) and returns where finalisation is. When this
    /// returns [`FinalisationStatus::Finalised`] for the first time, the
    /// host's SMCs must start to trap ([`El2Services::trap_host_smcs`]).
    /// Outside finalisation it does nothing and returns the status.
    pub fn finalise_step(&mut self, el2: &mut dyn El2Services) -> FinalisationStatus {
        if let Phase::Finalising(progress) = self.phase {
            let mut call_monitor = |call: &Registers| monitor(el2, call);
            match finalisation::run_step(progress, &self.layout.mailbox, &mut call_monitor) {
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
        let function_id = call[0] as u32;
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
                FFA_FEATURES => features_call(call, el2),
                FFA_RXTX_MAP_64 => self.map_call(call),
                FFA_RXTX_UNMAP => self.unmap_call(call),
                FFA_PARTITION_INFO_GET => self.partition_info_call(call, version, el2),
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
        let mut answered = version;
        if requested.minor() < version.minor() {
            // A host that wants an older version: ask the monitor first.
            let answer = monitor(el2, &reply::call(FFA_VERSION, &[u64::from(word)]));
            let accepted = matches!(
                reply::kind(&answer),
                ReplyKind::Value(value) if Version::from_raw(value).is_ok_and(Version::is_compatible)
            );
            if !accepted {
                return refuse(call, Refusal::DowngradeRefusedByMonitor { requested });
            }
            answered = requested;
            self.version = Some(requested);
        }
        self.host_negotiated = true;
        handled(
            reply::version(call, answered),
            Handled::VersionNegotiated {
                requested,
                answered,
            },
        )
    }

    fn map_call(&mut self, call: &Registers) -> HostCallOutcome {
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
            match self.layout.check_host_buffer(address, buffers.size()) {
                Ok(()) => {}
                Err(BufferProblem::NotPageAligned) => {
                    return refuse(call, Refusal::BufferNotPageAligned(address))
                }
                Err(BufferProblem::OutsideHostMemory) => {
                    return refuse(call, Refusal::BufferOutsideHostMemory(address))
                }
                Err(BufferProblem::InProxyMemory) => {
                    return refuse(call, Refusal::BufferInProxyMemory(address))
                }
            }
        }
        if MemoryRange::new(transmit, buffers.size())
            .overlaps(&MemoryRange::new(receive, buffers.size()))
        {
            return refuse(call, Refusal::BuffersOverlap);
        }
        if self.host_buffers.is_some() {
            return refuse(call, Refusal::AlreadyMapped);
        }
        self.host_buffers = Some(buffers);
        handled(reply::success(call), Handled::HostBuffersRecorded(buffers))
    }

    fn unmap_call(&mut self, call: &Registers) -> HostCallOutcome {
        let word = call[1] as u32;
        if word != 0 {
            return refuse(call, Refusal::NonZeroEndpointId(word));
        }
        if self.host_buffers.take().is_none() {
            return refuse(call, Refusal::NothingMapped);
        }
        handled(reply::success(call), Handled::HostBuffersForgotten)
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

fn features_call(call: &Registers, el2: &mut dyn El2Services) -> HostCallOutcome {
    let queried = call[1] as u32;
    let refused = if queried & function::FAST_CALL != 0 {
        function::in_ffa_range(queried) && function::mediation(queried) == Mediation::Refused
    } else {
        queried == FEATURE_NOTIFICATION_PENDING_INTERRUPT
            || queried == FEATURE_SCHEDULE_RECEIVER_INTERRUPT
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
