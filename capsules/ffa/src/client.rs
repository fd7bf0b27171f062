//! The FF-A client: core set-up in the order the specification requires, and the
//! operations built on it.
//!
//! [`FfaClient::initialize`] runs the set-up once: `SMCCC_VERSION` ≥ 1.2,
//! `FFA_VERSION` negotiation, `FFA_ID_GET`, `FFA_FEATURES`, then
//! `FFA_RXTX_MAP` of the board's buffers. Each step needs the proof the
//! previous one returns, so the order cannot be changed by mistake. The
//! resulting [`Session`] is kept, and every later operation needs it.
//!
//! A step the callee refuses for now (`BUSY`, `RETRY`, `NOT_READY`:
//! [`ClientError::is_transient`]) fails `initialize`, which keeps what the
//! earlier steps established: called again (the FF-A root does so after a
//! back-off on the alarm), it carries on from the step that was refused.
//!
//! ```ignore
//! let client = FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT);
//! let session = client.initialize()?;
//! let reply = client.direct_request(partition, Uuid::NIL, &DirectMessage32::new([1, 2, 3, 4, 5]))?;
//! ```

use crate::conduit::{FfaConduit, ReplyRegisters, Request};
use crate::discovery;
use crate::error::ClientError;
use crate::features::{self, FeatureSet};
pub use crate::mailbox::RxTxSize;
use crate::mailbox::{BufferGeometry, Mailbox};
use crate::memory::{MemoryConfig, MemoryState};
use crate::messaging::{self, DirectMessage, RetryPolicy};
use crate::partition::PartitionInfo;
use crate::version::{self, NegotiatedVersion, Smccc12, SupportedVersion};
use ffa_abi::FunctionId;
use ffa_abi::Uuid;
use ffa_abi::{PartitionId, Version};
use kernel::cells::OptionalCell;
use kernel::hil::shared_memory::SharedBuffer;
use kernel::hil::smccc::SmcccConduit;

/// What the board configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ClientConfig {
    /// The version to request in `FFA_VERSION`.
    pub requested_version: SupportedVersion,
    /// Retry and resumption limits for messaging.
    pub retry: RetryPolicy,
    /// How memory is shared, lent and donated.
    pub memory: MemoryConfig,
    /// How much of the board's RX/TX buffers to map.
    pub rxtx_size: RxTxSize,
}

impl ClientConfig {
    /// Request v1.2 with the default retry policy; map the minimum granule.
    pub const DEFAULT: ClientConfig = ClientConfig {
        requested_version: SupportedVersion::NEWEST,
        retry: RetryPolicy::DEFAULT,
        memory: MemoryConfig::DEFAULT,
        rxtx_size: RxTxSize::Minimum,
    };
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig::DEFAULT
    }
}

/// What set-up established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Session {
    /// The SMCCC version the conduit reported.
    pub smccc_version: Version,
    /// The negotiated FF-A version.
    pub version: NegotiatedVersion,
    /// This endpoint's own FF-A ID.
    pub own_id: PartitionId,
    /// The optional ABIs the callee offers.
    pub features: FeatureSet,
    /// The mapped RX/TX buffers.
    pub buffers: BufferGeometry,
}

impl Session {
    /// Whether `FFA_MSG_SEND_DIRECT_REQ2` may be used: v1.2, and the callee offers it.
    pub fn offers_direct_request_2(&self) -> bool {
        self.version.at_least(SupportedVersion::V1_2) && self.features.direct_request_2
    }
}

/// What set-up has established so far (kept across a transient refusal).
struct Progress {
    smccc: OptionalCell<Smccc12>,
    version: OptionalCell<NegotiatedVersion>,
    own_id: OptionalCell<PartitionId>,
    features: OptionalCell<FeatureSet>,
}

/// The FF-A client capsule.
pub struct FfaClient<'a> {
    conduit: FfaConduit<'a>,
    mailbox: Mailbox<'a>,
    config: ClientConfig,
    session: OptionalCell<Session>,
    progress: Progress,
    memory: MemoryState,
}

/// The value of `cell`, or what `step` makes (then kept in `cell`).
fn kept<T: Copy>(
    cell: &OptionalCell<T>,
    step: impl FnOnce() -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = step()?;
    cell.set(value);
    Ok(value)
}

/// `FFA_ID_GET`: this endpoint's own ID.
pub fn id_get(
    conduit: &FfaConduit<'_>,
    _version: &NegotiatedVersion,
) -> Result<PartitionId, ClientError> {
    let registers = conduit.call_expecting_success(&Request::new(FunctionId::IdGet))?;
    Ok(PartitionId::new(registers.word(2) as u16))
}

impl<'a> FfaClient<'a> {
    /// A client over the board's conduit and statically allocated RX/TX buffers.
    pub fn new(
        conduit: &'a dyn SmcccConduit,
        rx: &'a dyn SharedBuffer,
        tx: &'a dyn SharedBuffer,
        config: ClientConfig,
    ) -> FfaClient<'a> {
        FfaClient {
            conduit: FfaConduit::new(conduit),
            mailbox: Mailbox::new(rx, tx),
            config,
            session: OptionalCell::empty(),
            progress: Progress {
                smccc: OptionalCell::empty(),
                version: OptionalCell::empty(),
                own_id: OptionalCell::empty(),
                features: OptionalCell::empty(),
            },
            memory: MemoryState::new(),
        }
    }

    /// The board's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The established session, once [`initialize`](FfaClient::initialize) succeeded.
    pub fn session(&self) -> Option<Session> {
        self.session.get()
    }

    fn require_session(&self) -> Result<Session, ClientError> {
        self.session.get().ok_or(ClientError::NotInitialized)
    }

    /// The conduit, for components that need raw calls.
    pub fn conduit(&self) -> &FfaConduit<'a> {
        &self.conduit
    }

    /// The RX/TX mailbox.
    pub fn mailbox(&self) -> &Mailbox<'a> {
        &self.mailbox
    }

    /// Memory management's state (what the callee offers, the transactions made).
    pub fn memory(&self) -> &MemoryState {
        &self.memory
    }

    /// Runs the core set-up, once; later calls return the same session. A
    /// call after a transient refusal carries on where that one stopped.
    pub fn initialize(&self) -> Result<Session, ClientError> {
        if let Some(session) = self.session.get() {
            return Ok(session);
        }
        let progress = &self.progress;
        let smccc = kept(&progress.smccc, || version::check_smccc(&self.conduit))?;
        let version = kept(&progress.version, || {
            version::negotiate(&self.conduit, &smccc, self.config.requested_version)
        })?;
        let own_id = kept(&progress.own_id, || {
            id_get(&self.conduit, &version).inspect_err(|error| {
                if !error.is_transient() {
                    defmt::error!("ffa: FFA_ID_GET failed: {}", error)
                }
            })
        })?;
        let features = kept(&progress.features, || {
            features::discover(&self.conduit, &version)
        })?;
        let buffers = match self.mailbox.geometry() {
            Some(buffers) => buffers,
            None => self
                .mailbox
                .map(&self.conduit, &version, &features, self.config.rxtx_size)?,
        };
        let session = Session {
            smccc_version: smccc.version(),
            version,
            own_id,
            features,
            buffers,
        };
        defmt::info!(
            "ffa: set up: v{=u16}.{=u16}, ID {=u16:#06x}, {=usize}-byte RX/TX buffers",
            version.version().major(),
            version.version().minor(),
            own_id.raw(),
            buffers.size
        );
        self.session.set(session);
        Ok(session)
    }

    /// Unmaps the RX/TX buffers and forgets the session. If unmapping fails
    /// the buffers are still mapped, so the session is kept and teardown can
    /// be tried again.
    pub fn teardown(&self) -> Result<(), ClientError> {
        self.require_session()?;
        self.mailbox.unmap(&self.conduit)?;
        self.session.clear();
        self.progress.smccc.clear();
        self.progress.version.clear();
        self.progress.own_id.clear();
        self.progress.features.clear();
        self.memory.forget_offers();
        Ok(())
    }

    /// Discovers the partitions matching `uuid` (nil for all), at most `capacity` of them.
    pub fn discover(
        &self,
        uuid: Uuid,
        capacity: usize,
        sink: &mut dyn FnMut(PartitionInfo),
    ) -> Result<usize, ClientError> {
        let session = self.require_session()?;
        discovery::discover(
            &self.conduit,
            &self.mailbox,
            &session.version,
            &session.features,
            uuid,
            capacity,
            sink,
        )
    }

    /// Sends `message` to `receiver` (to its service `service`, for a
    /// `REQ2`; the other kinds ignore it) and returns the response.
    /// `REQ2` needs v1.2 and the callee's support, or it is
    /// [`ClientError::Unsupported`].
    pub fn direct_request<M: DirectMessage>(
        &self,
        receiver: PartitionId,
        service: Uuid,
        message: &M,
    ) -> Result<M, ClientError> {
        self.direct_request_reply(receiver, service, message)
            .map(|registers| M::decode(&registers))
    }

    /// [`direct_request`](FfaClient::direct_request), returning every
    /// register of the response (checked as for `direct_request`).
    pub fn direct_request_reply<M: DirectMessage>(
        &self,
        receiver: PartitionId,
        service: Uuid,
        message: &M,
    ) -> Result<ReplyRegisters, ClientError> {
        let session = self.require_session()?;
        if M::REQUEST == FunctionId::DirectRequest2 && !session.offers_direct_request_2() {
            return Err(ClientError::Unsupported);
        }
        messaging::direct_request_reply(
            &self.conduit,
            &self.config.retry,
            session.own_id,
            receiver,
            service,
            message,
        )
    }
}
