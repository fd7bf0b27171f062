//! What the owner holds once memory is given: the region's ownership in types.
//!
//! | operation | the caller gets | the kernel's access | to get the region back |
//! |---|---|---|---|
//! | share | [`Shared`] | still reads and writes it ([`Shared::read`], [`Shared::write`]) | [`Shared::reclaim`] |
//! | lend | [`Lent`] | none: no method reaches the pages | [`Lent::reclaim`] |
//! | donate | [`Donated`] | none, ever: the pages left the kernel | — |
//!
//! `reclaim` consumes the handle and gives the [`Region`] back only when the
//! relayer agrees; when it refuses (`DENIED`: a borrower still holds the
//! memory) the handle comes back in the [`ReclaimError`], still shared or
//! lent, to try again later. A handle dropped without a successful reclaim
//! keeps its pages out of the pool for good (the other side may still use
//! them) and says so in the log.
//!
//! A lent region cannot be touched:
//!
//! ```compile_fail,E0599
//! fn touch(lent: &capsule_ffa::memory::Lent<'_>) {
//!     let mut byte = [0u8; 1];
//!     let _ = lent.read(0, &mut byte); // error: no method `read` on `Lent`
//! }
//! ```
//!
//! ```compile_fail,E0616
//! fn reach(lent: &capsule_ffa::memory::Lent<'_>) {
//!     let _ = &lent.region; // error: private field
//! }
//! ```
//!
//! nor a region used once it was lent:
//!
//! ```compile_fail,E0382
//! use capsule_ffa::memory::attributes::DataAccess;
//! fn lend_then_write<'a>(handle: &capsule_ffa::PartitionHandle<'a>, region: kernel::page_pool::Region<'a>) {
//!     let _lent = handle.lend(region, DataAccess::ReadWrite, &Default::default());
//!     let _ = region.write(0, &[1]); // error: use of moved value
//! }
//! ```
//!
//! A handle cannot be reclaimed twice:
//!
//! ```compile_fail,E0382
//! fn twice(shared: capsule_ffa::memory::Shared<'_>) {
//!     let _ = shared.reclaim();
//!     let _ = shared.reclaim(); // error: use of moved value
//! }
//! ```
//!
//! And a region cannot be shared twice at once:
//!
//! ```compile_fail,E0382
//! use capsule_ffa::memory::attributes::DataAccess;
//! fn share_twice<'a>(handle: &capsule_ffa::PartitionHandle<'a>, region: kernel::page_pool::Region<'a>) {
//!     let _first = handle.share(region, DataAccess::ReadWrite, &Default::default());
//!     let _second = handle.share(region, DataAccess::ReadOnly, &Default::default()); // error: use of moved value
//! }
//! ```

use super::record::RecordState;
use super::transfer::{self, MemoryHandle};
use crate::client::FfaClient;
use crate::error::ClientError;
use ffa_abi::{PartitionId, Status};
use kernel::page_pool::Region;

/// Memory shared with other endpoints: the kernel keeps access.
#[must_use = "dropping a shared region keeps its pages out of the pool for good; reclaim it"]
pub struct Shared<'a> {
    client: &'a FfaClient<'a>,
    region: Option<Region<'a>>,
    handle: MemoryHandle,
    receiver: PartitionId,
    record: Option<usize>,
    fragments: u32,
}

/// Memory lent to other endpoints: the kernel has no access until it reclaims it.
#[must_use = "dropping a lent region keeps its pages out of the pool for good; reclaim it"]
pub struct Lent<'a> {
    client: &'a FfaClient<'a>,
    region: Option<Region<'a>>,
    handle: MemoryHandle,
    receiver: PartitionId,
    record: Option<usize>,
    fragments: u32,
}

/// Memory donated to another endpoint: a record of it; the pages are gone.
#[derive(Debug, PartialEq, Eq, defmt::Format)]
pub struct Donated {
    /// The transaction's handle.
    pub handle: MemoryHandle,
    /// The receiver that owns the pages now.
    pub receiver: PartitionId,
    /// Pages donated.
    pub pages: usize,
    /// Descriptor fragments the transaction went out in.
    pub fragments: u32,
}

/// A reclaim the relayer refused: the handle, still shared or lent.
#[derive(Debug)]
pub struct ReclaimError<T> {
    /// Why (`Status(Denied)`: a borrower still holds the memory).
    pub error: ClientError,
    /// The handle, unchanged: try again later.
    pub kept: T,
}

impl<T> ReclaimError<T> {
    /// Whether a borrower still holds the memory (`DENIED`): worth retrying.
    pub fn still_held(&self) -> bool {
        self.error == ClientError::Status(Status::Denied)
    }
}

/// A share, lend or donate that did not go through.
pub enum MemoryFailure<'a> {
    /// The region is back: the relayer holds no transaction a receiver could
    /// retrieve.
    Refused {
        /// Why.
        error: ClientError,
        /// The region, untouched by anyone else.
        region: Region<'a>,
    },
    /// The relayer may hold a complete transaction this side could not
    /// settle, and reclaiming it failed: the memory stays unreachable,
    /// as if lent, until a reclaim succeeds.
    Stranded {
        /// Why.
        error: ClientError,
        /// The transaction, to reclaim later.
        lent: Lent<'a>,
    },
}

impl<'a> MemoryFailure<'a> {
    /// The error.
    pub fn error(&self) -> ClientError {
        match self {
            MemoryFailure::Refused { error, .. } | MemoryFailure::Stranded { error, .. } => *error,
        }
    }

    /// The region, if it came back.
    pub fn into_region(self) -> Option<Region<'a>> {
        match self {
            MemoryFailure::Refused { region, .. } => Some(region),
            MemoryFailure::Stranded { .. } => None,
        }
    }
}

impl core::fmt::Debug for MemoryFailure<'_> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MemoryFailure::Refused { error, .. } => write!(formatter, "Refused({error:?})"),
            MemoryFailure::Stranded { error, lent } => {
                write!(formatter, "Stranded({error:?}, {:#x})", lent.handle.0)
            }
        }
    }
}

/// Reclaims `handle` for `client`, logs and records the outcome.
fn reclaim_for(
    client: &FfaClient<'_>,
    handle: MemoryHandle,
    record: Option<usize>,
    what: &'static str,
) -> Result<(), ClientError> {
    let rules = client.config().memory.rules;
    if let Err(rule) = rules.check_reclaim(false) {
        defmt::warn!("ffa: FFA_MEM_RECLAIM: {=str}", rule.describe());
    }
    match transfer::reclaim(client.conduit(), handle, false) {
        Ok(()) => {
            defmt::info!(
                "ffa: FFA_MEM_RECLAIM of handle {=u64:#x}: the {=str} region is the kernel's again",
                handle.0,
                what
            );
            client.memory().log.update(record, RecordState::Reclaimed);
            Ok(())
        }
        Err(error) => {
            if error == ClientError::Status(Status::Denied) {
                defmt::warn!(
                    "ffa: FFA_MEM_RECLAIM of handle {=u64:#x}: DENIED, a borrower still holds it; it stays {=str}",
                    handle.0,
                    what
                );
            } else {
                defmt::warn!(
                    "ffa: FFA_MEM_RECLAIM of handle {=u64:#x} failed: {}; it stays {=str}",
                    handle.0,
                    error,
                    what
                );
            }
            Err(error)
        }
    }
}

macro_rules! given_region {
    ($name:ident, $what:literal) => {
        impl<'a> $name<'a> {
            pub(crate) fn new(
                client: &'a FfaClient<'a>,
                region: Region<'a>,
                handle: MemoryHandle,
                receiver: PartitionId,
                record: Option<usize>,
                fragments: u32,
            ) -> $name<'a> {
                $name {
                    client,
                    region: Some(region),
                    handle,
                    receiver,
                    record,
                    fragments,
                }
            }

            /// Descriptor fragments the transaction went out in.
            pub fn fragments(&self) -> u32 {
                self.fragments
            }

            /// The transaction's handle (what the receivers retrieve with).
            pub fn handle(&self) -> MemoryHandle {
                self.handle
            }

            /// The first receiver.
            pub fn receiver(&self) -> PartitionId {
                self.receiver
            }

            /// Pages in the region.
            pub fn pages(&self) -> usize {
                self.region.as_ref().map_or(0, Region::pages)
            }

            /// Takes the region back with `FFA_MEM_RECLAIM`. On refusal the
            /// handle comes back unchanged in the error.
            pub fn reclaim(mut self) -> Result<Region<'a>, ReclaimError<$name<'a>>> {
                match reclaim_for(self.client, self.handle, self.record, $what) {
                    Ok(()) => match self.region.take() {
                        Some(region) => Ok(region),
                        None => Err(ReclaimError {
                            error: ClientError::NotFound,
                            kept: self,
                        }),
                    },
                    Err(error) => Err(ReclaimError { error, kept: self }),
                }
            }
        }

        impl Drop for $name<'_> {
            fn drop(&mut self) {
                if let Some(region) = self.region.take() {
                    defmt::warn!(
                        "ffa: handle {=u64:#x} dropped without a reclaim: its {=usize} pages stay out of the pool",
                        self.handle.0,
                        region.pages()
                    );
                    self.client
                        .memory()
                        .log
                        .update(self.record, RecordState::Abandoned);
                    region.retire();
                }
            }
        }

        impl core::fmt::Debug for $name<'_> {
            fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(
                    formatter,
                    concat!(stringify!($name), "({:#x} to {:#06x}, {} pages)"),
                    self.handle.0,
                    self.receiver.raw(),
                    self.pages()
                )
            }
        }
    };
}

given_region!(Shared, "shared");
given_region!(Lent, "lent");

impl Shared<'_> {
    /// Copies `destination.len()` bytes from region offset `offset`: shared
    /// memory stays the kernel's to read.
    pub fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), kernel::ErrorCode> {
        self.region
            .as_ref()
            .ok_or(kernel::ErrorCode::FAIL)?
            .read(offset, destination)
    }

    /// Copies `source` to region offset `offset`: shared memory stays the
    /// kernel's to write.
    pub fn write(&self, offset: usize, source: &[u8]) -> Result<(), kernel::ErrorCode> {
        self.region
            .as_ref()
            .ok_or(kernel::ErrorCode::FAIL)?
            .write(offset, source)
    }

    /// Size of the region in bytes.
    pub fn len(&self) -> usize {
        self.region.as_ref().map_or(0, Region::len)
    }

    /// Whether the region is empty (never).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
