//! Memory management: share, lend and donate kernel-owned pages with
//! partitions, and take them back, with the ownership in types.
//!
//! ```text
//! let region = pool.allocate(2)?;                       // kernel::page_pool::Region: the kernel owns it
//! region.write(0, &request)?;
//! let shared = handle.share(region, DataAccess::ReadWrite, &TransferOptions::tagged(7))
//!     .map_err(|failure| failure.error())?;             // the region is back in the failure
//! partition.direct_request(...)?;                      // tell it the handle
//! shared.read(0, &mut answer)?;                         // shared: still the kernel's to read
//! let region = shared.reclaim().map_err(|refused| refused.error)?; // DENIED keeps it shared
//! ```
//!
//! The layers, bottom up:
//!
//! - [`attributes`]: operations, memory region attributes, access
//!   permissions, receivers, and the specification's rules per operation;
//! - [`rules`]: the stricter rules of real SPMCs (Hafnium, OP-TEE, TF-A's EL3
//!   SPMC), checked when the board names one;
//! - [`descriptor`]: the transaction descriptor in the negotiated version's
//!   layout (v1.0, v1.1, v1.2/v1.3), written straight into TX;
//! - [`transfer`]: sending it in the minimum number of fragments
//!   (`FFA_MEM_FRAG_RX`/`FFA_MEM_FRAG_TX`), reply decoding, `FFA_MEM_RECLAIM`;
//! - [`ownership`]: [`Shared`], [`Lent`], [`Donated`]: what the owner holds
//!   afterwards, and reclaiming;
//! - [`record`]: the transactions made, for the boot report.
//!
//! [`FfaClient::share`], [`FfaClient::lend`] and [`FfaClient::donate`] are
//! the operations; partition drivers use the narrower ones of their
//! [`PartitionHandle`](crate::bus::PartitionHandle), which name their own
//! partition as the only receiver. The function ID's width is the 64-bit
//! form when the callee offers it in `FFA_FEATURES` (set-up already asks
//! about the 64-bit share and lend), else the 32-bit one (as Linux chooses;
//! only w3, unused here, differs); the descriptor always
//! goes through TX (w3 = w4 = 0), the one place every SPMC accepts it.

pub mod attributes;
pub mod descriptor;
pub mod ownership;
pub mod record;
pub mod rules;
pub mod transfer;

pub use attributes::{DataAccess, MemoryType, Operation, Receiver, TransferOptions};
pub use ownership::{Donated, Lent, MemoryFailure, ReclaimError, Shared};
pub use transfer::{FragmentPolicy, MemoryHandle};

use crate::client::FfaClient;
use crate::conduit::Request;
use crate::error::ClientError;
use attributes::TransactionError;
use core::cell::Cell;
use descriptor::{Descriptor, Layout};
use ffa_abi::{CallWidth, FunctionId, Status, Version};
use kernel::page_pool::Region;
use record::{MemoryLog, MemoryRecord, RecordState};
use rules::SpmcRules;
use transfer::SendFailure;

/// Which form of the function IDs to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum WidthChoice {
    /// The 64-bit form if `FFA_FEATURES` offers it, else the 32-bit one.
    Negotiate,
    /// Always this form.
    Fixed(CallWidth),
}

/// How the client gives memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MemoryConfig {
    /// Which function IDs.
    pub width: WidthChoice,
    /// Where fragments may end.
    pub fragments: FragmentPolicy,
    /// Which SPMC's rules to check before sending.
    pub rules: SpmcRules,
}

impl MemoryConfig {
    /// Negotiated width, fragments on constituent boundaries, the specification's rules.
    pub const DEFAULT: MemoryConfig = MemoryConfig {
        width: WidthChoice::Negotiate,
        fragments: FragmentPolicy::ConstituentBoundaries,
        rules: SpmcRules::Specification,
    };
}

impl Default for MemoryConfig {
    fn default() -> MemoryConfig {
        MemoryConfig::DEFAULT
    }
}

/// What `FFA_FEATURES` said about one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Offer {
    NotAsked,
    Offered(CallWidth),
    NotOffered,
}

/// The client's memory-management state: what the callee offers, and the log.
pub struct MemoryState {
    offers: [Cell<Offer>; 3],
    /// The transactions made.
    pub log: MemoryLog,
}

impl MemoryState {
    /// Nothing asked, nothing made.
    pub const fn new() -> MemoryState {
        MemoryState {
            offers: [const { Cell::new(Offer::NotAsked) }; 3],
            log: MemoryLog::new(),
        }
    }

    /// Forgets what the callee offered (after teardown).
    pub fn forget_offers(&self) {
        for offer in self.offers.iter() {
            offer.set(Offer::NotAsked);
        }
    }
}

impl Default for MemoryState {
    fn default() -> MemoryState {
        MemoryState::new()
    }
}

fn operation_index(operation: Operation) -> usize {
    match operation {
        Operation::Share => 0,
        Operation::Lend => 1,
        Operation::Donate => 2,
    }
}

/// A transaction that went through, before it is wrapped for its owner.
struct Given {
    handle: MemoryHandle,
    record: Option<usize>,
    fragments: u32,
}

impl<'a> FfaClient<'a> {
    /// Shares `region` with `receivers`: they may retrieve it, and the kernel
    /// keeps access. Fails with the region back unless the relayer may hold
    /// a transaction this side could not settle.
    pub fn share(
        &'a self,
        region: Region<'a>,
        receivers: &[Receiver],
        options: &TransferOptions,
    ) -> Result<Shared<'a>, MemoryFailure<'a>> {
        let given = self.give(Operation::Share, &region, receivers, options);
        let receiver = receivers
            .first()
            .map(|receiver| receiver.id)
            .unwrap_or_default();
        match given {
            Ok(given) => Ok(Shared::new(
                self,
                region,
                given.handle,
                receiver,
                given.record,
                given.fragments,
            )),
            Err(failure) => Err(self.settle(failure, region, receiver)),
        }
    }

    /// Lends `region` to `receivers`: the kernel loses access until a
    /// reclaim succeeds.
    pub fn lend(
        &'a self,
        region: Region<'a>,
        receivers: &[Receiver],
        options: &TransferOptions,
    ) -> Result<Lent<'a>, MemoryFailure<'a>> {
        let given = self.give(Operation::Lend, &region, receivers, options);
        let receiver = receivers
            .first()
            .map(|receiver| receiver.id)
            .unwrap_or_default();
        match given {
            Ok(given) => Ok(Lent::new(
                self,
                region,
                given.handle,
                receiver,
                given.record,
                given.fragments,
            )),
            Err(failure) => Err(self.settle(failure, region, receiver)),
        }
    }

    /// Donates `region` to `receiver` (whose data access must be
    /// unspecified): its pages leave the kernel for good.
    pub fn donate(
        &'a self,
        region: Region<'a>,
        receiver: Receiver,
        options: &TransferOptions,
    ) -> Result<Donated, MemoryFailure<'a>> {
        match self.give(Operation::Donate, &region, &[receiver], options) {
            Ok(given) => {
                let pages = region.pages();
                region.retire();
                Ok(Donated {
                    handle: given.handle,
                    receiver: receiver.id,
                    pages,
                    fragments: given.fragments,
                })
            }
            Err(failure) => Err(self.settle(failure, region, receiver.id)),
        }
    }

    /// The memory transactions made so far.
    pub fn for_each_memory_record(&self, visit: impl FnMut(&MemoryRecord)) {
        self.memory().log.for_each(visit)
    }

    /// The function ID width for `operation`: configured, or from `FFA_FEATURES`.
    fn width_for(&self, operation: Operation) -> Result<CallWidth, ClientError> {
        let choice = self.config().memory.width;
        if let WidthChoice::Fixed(width) = choice {
            return Ok(width);
        }
        let cell = &self.memory().offers[operation_index(operation)];
        let offer = match cell.get() {
            Offer::NotAsked => {
                // Set-up already asked about the 64-bit share and lend.
                let known = self.session().is_some_and(|session| match operation {
                    Operation::Share => session.features.memory_share,
                    Operation::Lend => session.features.memory_lend,
                    Operation::Donate => false,
                });
                let offered = |width: CallWidth| {
                    let request = Request::new(FunctionId::Features)
                        .with(1, u64::from(operation.function(width).raw()));
                    self.conduit().call_expecting_success(&request).is_ok()
                };
                let offer = if known || offered(CallWidth::Bits64) {
                    Offer::Offered(CallWidth::Bits64)
                } else if offered(CallWidth::Bits32) {
                    Offer::Offered(CallWidth::Bits32)
                } else {
                    Offer::NotOffered
                };
                cell.set(offer);
                offer
            }
            known => known,
        };
        match offer {
            Offer::Offered(width) => Ok(width),
            _ => Err(ClientError::Status(Status::NotSupported)),
        }
    }

    /// Checks and sends one transaction of `region`'s pages.
    fn give(
        &self,
        operation: Operation,
        region: &Region<'a>,
        receivers: &[Receiver],
        options: &TransferOptions,
    ) -> Result<Given, (SendFailure, Option<usize>)> {
        let refuse = |error: ClientError| (SendFailure::Refused(error), None);
        let session = self.session().ok_or(refuse(ClientError::NotInitialized))?;
        let memory_type = options
            .memory_type
            .unwrap_or(operation.default_memory_type(receivers.len()));
        let layout = Layout::of(&session.version);
        let checked =
            attributes::validate(operation, session.own_id, receivers, memory_type, options)
                .and_then(|()| {
                    let version = session.version.version();
                    self.config()
                        .memory
                        .rules
                        .check(operation, version, receivers, memory_type, options)
                        .map_err(TransactionError::SpmcRule)
                })
                .and_then(|()| {
                    Descriptor::new(
                        layout,
                        session.own_id,
                        operation,
                        receivers,
                        options,
                        region,
                    )
                });
        let descriptor = match checked {
            Ok(descriptor) => descriptor,
            Err(error) => {
                if let TransactionError::SpmcRule(rule) = error {
                    defmt::warn!(
                        "ffa: {=str} not sent: {=str}",
                        operation.name(),
                        rule.describe()
                    );
                } else {
                    defmt::warn!("ffa: {=str} not sent: {}", operation.name(), error);
                }
                return Err(refuse(ClientError::Transaction(error)));
            }
        };
        let width = self.width_for(operation).map_err(|error| {
            defmt::warn!(
                "ffa: {=str}: FFA_FEATURES: the callee offers neither {=str} nor {=str} (an EL2 proxy that does not mediate memory sharing, or an SPMC without the operation); the region stays the kernel's",
                operation.name(),
                operation.function(CallWidth::Bits64).name(),
                operation.function(CallWidth::Bits32).name()
            );
            refuse(error)
        })?;
        let function = operation.function(width);
        let mut record = MemoryRecord {
            handle: None,
            operation,
            receiver: receivers
                .first()
                .map(|receiver| receiver.id)
                .unwrap_or_default(),
            receivers: receivers.len() as u8,
            pages: descriptor.total_pages(),
            ranges: descriptor.range_count(),
            layout,
            fragments: 0,
            state: RecordState::Refused(ClientError::NotInitialized),
        };
        let sent = transfer::send(
            self.conduit(),
            self.mailbox(),
            operation,
            width,
            &descriptor,
            self.config().memory.fragments,
        );
        match sent {
            Ok(sent) => {
                defmt::info!(
                    "ffa: {=str} of {=u32} pages ({=u32} ranges) to {=u16:#06x}: handle {=u64:#x}, {=str} layout, {=usize} bytes in {=u32} fragment(s) ({=str})",
                    operation.name(),
                    record.pages,
                    record.ranges,
                    record.receiver.raw(),
                    sent.handle.0,
                    layout.name(),
                    descriptor.total_length(),
                    sent.fragments,
                    function.name()
                );
                record.handle = Some(sent.handle);
                record.fragments = sent.fragments;
                record.state = match operation {
                    Operation::Share => RecordState::Shared,
                    Operation::Lend => RecordState::Lent,
                    Operation::Donate => RecordState::Donated,
                };
                let slot = self.memory().log.add(record);
                Ok(Given {
                    handle: sent.handle,
                    record: slot,
                    fragments: sent.fragments,
                })
            }
            Err(failure) => {
                explain(function, failure.error(), session.version.version());
                record.state = RecordState::Refused(failure.error());
                if let SendFailure::Aborted {
                    handle, fragment, ..
                } = failure
                {
                    record.handle = Some(handle);
                    record.fragments = fragment;
                }
                if let SendFailure::Unsettled { handle, .. } = failure {
                    record.handle = Some(handle);
                }
                let slot = self.memory().log.add(record);
                Err((failure, slot))
            }
        }
    }

    /// Turns a failed send into what the caller gets back: the region when
    /// no receiver can retrieve it, else (after a failed reclaim) a [`Lent`].
    fn settle(
        &'a self,
        (failure, slot): (SendFailure, Option<usize>),
        region: Region<'a>,
        receiver: ffa_abi::PartitionId,
    ) -> MemoryFailure<'a> {
        match failure {
            SendFailure::Refused(error) | SendFailure::Aborted { error, .. } => {
                MemoryFailure::Refused { error, region }
            }
            SendFailure::Unsettled { error, handle } => {
                match transfer::reclaim(self.conduit(), handle, false) {
                    Ok(()) => {
                        defmt::warn!(
                            "ffa: reclaimed the unsettled transaction {=u64:#x}; the region is back",
                            handle.0
                        );
                        self.memory().log.update(slot, RecordState::Refused(error));
                        MemoryFailure::Refused { error, region }
                    }
                    Err(reclaim) => {
                        defmt::error!(
                            "ffa: transaction {=u64:#x} is unsettled and its reclaim failed ({}): the region stays unreachable until a reclaim succeeds",
                            handle.0,
                            reclaim
                        );
                        self.memory().log.update(slot, RecordState::Stranded(error));
                        MemoryFailure::Stranded {
                            error,
                            lent: Lent::new(self, region, handle, receiver, slot, 0),
                        }
                    }
                }
            }
        }
    }
}

/// Logs why `function` failed, with what usually causes it.
fn explain(function: FunctionId, error: ClientError, version: Version) {
    match error {
        ClientError::Status(Status::NotSupported) => defmt::warn!(
            "ffa: {=str} refused: NOT_SUPPORTED: the callee does not mediate or implement memory sharing (an EL2 proxy that does not, or an SPMC without it)",
            function.name()
        ),
        ClientError::Status(Status::InvalidParameters) if version >= Version::V1_2 => {
            defmt::warn!(
                "ffa: {=str} refused: INVALID_PARAMETERS (an SPMC that takes memory transactions only from v1.0/v1.1 callers, as TF-A 2.12's EL3 SPMC, answers this at v{=u16}.{=u16}: request v1.1 for it)",
                function.name(),
                version.major(),
                version.minor()
            )
        }
        error => defmt::warn!("ffa: {=str} refused: {}", function.name(), error),
    }
}
