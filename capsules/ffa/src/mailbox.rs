//! The RX/TX buffer pair: mapping, and ownership expressed as guards.
//!
//! The board lends two statically allocated [`SharedBuffer`]s. Once mapped
//! with `FFA_RXTX_MAP`, the RX buffer belongs to the other side except
//! between a call that fills it and `FFA_RX_RELEASE`. That window is an
//! [`RxGuard`]: the only way to read RX, returned by the call that filled it,
//! and releasing RX when dropped, so every path (error paths included) gives
//! the buffer back. The TX buffer is written through a [`TxGuard`], which the
//! call that reads TX consumes: nothing can write TX while that call is in
//! flight.
//!
//! ```ignore
//! let (reply, rx) = mailbox.call_filling_rx(&conduit, &request)?;
//! let mut header = [0u8; 8];
//! rx.read(0, &mut header)?;
//! drop(rx); // FFA_RX_RELEASE
//! ```
//!
//! RX cannot be read after it was released:
//!
//! ```compile_fail,E0382
//! fn misuse(rx: capsule_ffa::mailbox::RxGuard<'_, '_>) {
//!     rx.release();
//!     let mut byte = [0u8; 1];
//!     let _ = rx.read(0, &mut byte); // error: use of moved value
//! }
//! ```
//!
//! TX cannot be written once it was handed to a call:
//!
//! ```compile_fail,E0382
//! use capsule_ffa::conduit::{FfaConduit, Request};
//! use capsule_ffa::mailbox::{Mailbox, TxGuard};
//! fn misuse(mailbox: &Mailbox<'_>, conduit: &FfaConduit<'_>, tx: TxGuard<'_, '_>, request: Request) {
//!     let _ = mailbox.call_with_tx(conduit, tx, &request);
//!     let _ = tx.write(0, &[1, 2, 3]); // error: use of moved value
//! }
//! ```
//!
//! A guard cannot outlive the mailbox whose RX it reads:
//!
//! ```compile_fail,E0515
//! use capsule_ffa::conduit::{FfaConduit, Request};
//! use capsule_ffa::mailbox::{Mailbox, RxGuard};
//! use kernel::hil::shared_memory::SharedBuffer;
//! fn escape<'a>(
//!     conduit: &'a FfaConduit<'a>,
//!     rx: &'a dyn SharedBuffer,
//!     tx: &'a dyn SharedBuffer,
//!     request: &Request,
//! ) -> RxGuard<'a, 'a> {
//!     let mailbox = Mailbox::new(rx, tx);
//!     mailbox.call_filling_rx(conduit, request).unwrap().1 // error: borrows a local
//! }
//! ```
//!
//! And a guard cannot be forged to read RX without a call that filled it:
//!
//! ```compile_fail,E0451
//! use capsule_ffa::mailbox::{Mailbox, RxGuard};
//! fn forge<'m, 'a>(mailbox: &'m Mailbox<'a>) -> RxGuard<'m, 'a> {
//!     RxGuard { mailbox, conduit: todo!(), released: false }
//! }
//! ```

use crate::conduit::{FfaConduit, Reply, ReplyRegisters, Request};
use crate::error::ClientError;
use crate::features::{FeatureSet, RxTxGranule};
use crate::version::NegotiatedVersion;
use core::cell::Cell;
use ffa_abi::{FunctionId, Status};
use kernel::cells::OptionalCell;
use kernel::hil::shared_memory::SharedBuffer;

/// `FFA_RXTX_MAP` counts pages in 4 KiB units.
pub const PAGE_SIZE: usize = 4096;
/// The page count field of `FFA_RXTX_MAP` is 6 bits wide (`w3[5:0]`).
pub const MAXIMUM_PAGES: usize = 63;

/// How large the RX/TX buffers the client maps should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RxTxSize {
    /// The callee's minimum granule (4 KiB on every SPMC seen): what every
    /// callee accepts. Hafnium, for one, maps a single page by default and
    /// refuses more, without saying so below v1.2.
    Minimum,
    /// Up to this many bytes, if the board's buffers hold them and the
    /// callee allows them (rounded down to the granule). A callee that
    /// states no maximum and refuses the map with `INVALID_PARAMETERS` is
    /// asked once more, for the minimum.
    AtMost(usize),
}

/// The mapped size of the RX/TX pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct BufferGeometry {
    /// Bytes mapped in each buffer.
    pub size: usize,
    /// The same in 4 KiB pages, as passed to `FFA_RXTX_MAP`.
    pub pages: u32,
    /// The callee's granule the size was chosen for.
    pub granule: RxTxGranule,
}

/// The board's RX and TX buffers and who owns them.
pub struct Mailbox<'a> {
    rx: &'a dyn SharedBuffer,
    tx: &'a dyn SharedBuffer,
    mapping: OptionalCell<BufferGeometry>,
    refused_pages: Cell<Option<u32>>,
    rx_owned: Cell<bool>,
    tx_lent: Cell<bool>,
}

impl<'a> Mailbox<'a> {
    /// A mailbox over the board's statically allocated buffers (not yet mapped).
    pub fn new(rx: &'a dyn SharedBuffer, tx: &'a dyn SharedBuffer) -> Mailbox<'a> {
        Mailbox {
            rx,
            tx,
            mapping: OptionalCell::empty(),
            refused_pages: Cell::new(None),
            rx_owned: Cell::new(false),
            tx_lent: Cell::new(false),
        }
    }

    /// The mapped geometry, or `None` before `FFA_RXTX_MAP` succeeded.
    pub fn geometry(&self) -> Option<BufferGeometry> {
        self.mapping.get()
    }

    /// The bytes the board's buffers hold (the smaller of the two): the
    /// most [`Mailbox::plan`] maps.
    pub fn capacity(&self) -> usize {
        self.rx.len().min(self.tx.len())
    }

    /// The pages of the larger map the callee refused (with
    /// `INVALID_PARAMETERS`) before the last successful map fell back to
    /// the granule, if it did.
    pub fn refused_pages(&self) -> Option<u32> {
        self.refused_pages.get()
    }

    /// Whether this side currently owns the RX buffer.
    pub fn rx_owned(&self) -> bool {
        self.rx_owned.get()
    }

    /// Checks the buffers against the callee's granule and chooses the mapped size:
    /// the granule, or for [`RxTxSize::AtMost`] up to that many bytes, no
    /// more than the smaller buffer holds, 63 pages and the callee's
    /// `maximum_pages`, rounded down to the granule.
    pub fn plan(
        &self,
        granule: RxTxGranule,
        maximum_pages: Option<u16>,
        wanted: RxTxSize,
    ) -> Result<BufferGeometry, ClientError> {
        let alignment = granule.bytes();
        let available = self.rx.len().min(self.tx.len());
        if available < alignment {
            defmt::error!(
                "ffa: RX/TX buffers of {=usize} bytes are below the {=usize}-byte minimum",
                available,
                alignment
            );
            return Err(ClientError::BufferTooSmall {
                required: alignment,
                available,
            });
        }
        for address in [self.rx.physical_address(), self.tx.physical_address()] {
            if address % alignment as u64 != 0 {
                defmt::error!(
                    "ffa: buffer at {=u64:#x} is not aligned to {=usize} bytes",
                    address,
                    alignment
                );
                return Err(ClientError::BufferMisaligned { alignment });
            }
        }
        let size = match wanted {
            RxTxSize::Minimum => alignment,
            RxTxSize::AtMost(bytes) => {
                let pages = maximum_pages
                    .map_or(MAXIMUM_PAGES, |pages| (pages as usize).min(MAXIMUM_PAGES));
                let largest = pages * PAGE_SIZE;
                (bytes.min(available).min(largest) / alignment * alignment).max(alignment)
            }
        };
        Ok(BufferGeometry {
            size,
            pages: (size / PAGE_SIZE) as u32,
            granule,
        })
    }

    /// Maps the buffers with the 64-bit `FFA_RXTX_MAP`, sized by [`Mailbox::plan`]
    /// for what `features` reported. If the callee refuses a map larger than
    /// the granule with `INVALID_PARAMETERS` (as Hafnium does above its
    /// maximum, which it states only from v1.2), it is asked once more for
    /// the granule.
    pub fn map(
        &self,
        conduit: &FfaConduit<'_>,
        _version: &NegotiatedVersion,
        features: &FeatureSet,
        wanted: RxTxSize,
    ) -> Result<BufferGeometry, ClientError> {
        if self.mapping.is_some() {
            return Err(ClientError::AlreadyDone);
        }
        let geometry = self.plan(features.rxtx_granule, features.rxtx_maximum_pages, wanted)?;
        let mut refused = None;
        let geometry = match self.map_pages(conduit, geometry) {
            Err(ClientError::Status(Status::InvalidParameters))
                if geometry.size > features.rxtx_granule.bytes() =>
            {
                defmt::warn!(
                    "ffa: FFA_RXTX_MAP of {=u32} pages refused with INVALID_PARAMETERS; mapping the minimum",
                    geometry.pages
                );
                refused = Some(geometry.pages);
                let minimum =
                    self.plan(features.rxtx_granule, features.rxtx_maximum_pages, RxTxSize::Minimum)?;
                self.map_pages(conduit, minimum).map(|()| minimum)
            }
            other => other.map(|()| geometry),
        }
        .inspect_err(|error| defmt::error!("ffa: FFA_RXTX_MAP failed: {}", error))?;
        self.refused_pages.set(refused);
        self.mapping.set(geometry);
        self.rx_owned.set(false);
        Ok(geometry)
    }

    /// One `FFA_RXTX_MAP_64` of `geometry.pages` pages.
    fn map_pages(
        &self,
        conduit: &FfaConduit<'_>,
        geometry: BufferGeometry,
    ) -> Result<(), ClientError> {
        let request = Request::new(FunctionId::RxTxMap64)
            .with(1, self.tx.physical_address())
            .with(2, self.rx.physical_address())
            .with(3, geometry.pages as u64);
        conduit.call_expecting_success(&request).map(|_| ())
    }

    /// Unmaps the buffers with `FFA_RXTX_UNMAP`. The RX buffer must not be held.
    pub fn unmap(&self, conduit: &FfaConduit<'_>) -> Result<(), ClientError> {
        if self.mapping.is_none() {
            return Err(ClientError::NotInitialized);
        }
        if self.rx_owned.get() || self.tx_lent.get() {
            return Err(ClientError::RxBusy);
        }
        // w1[31:16] (the ID) must be zero when called by a non-secure physical endpoint.
        conduit
            .call_expecting_success(&Request::new(FunctionId::RxTxUnmap))
            .inspect_err(|error| defmt::error!("ffa: FFA_RXTX_UNMAP failed: {}", error))?;
        self.mapping.clear();
        Ok(())
    }

    /// Issues a call that fills the RX buffer on success and returns the reply
    /// with the guard that owns RX until it is dropped or released.
    pub fn call_filling_rx<'m>(
        &'m self,
        conduit: &'m FfaConduit<'a>,
        request: &Request,
    ) -> Result<(ReplyRegisters, RxGuard<'m, 'a>), ClientError> {
        let geometry = self.mapping.get().ok_or(ClientError::NotInitialized)?;
        if self.rx_owned.get() {
            return Err(ClientError::RxBusy);
        }
        let registers = conduit.call_expecting_success(request)?;
        self.rx_owned.set(true);
        Ok((
            registers,
            RxGuard {
                mailbox: self,
                conduit,
                size: geometry.size,
                released: false,
            },
        ))
    }

    /// The RX buffer the other side filled with an indirect message (the
    /// "RX buffer full" framework notification says so): the guard that
    /// owns it until dropped or released, as for a call that fills RX.
    pub fn message_in_rx<'m>(
        &'m self,
        conduit: &'m FfaConduit<'a>,
    ) -> Result<RxGuard<'m, 'a>, ClientError> {
        let geometry = self.mapping.get().ok_or(ClientError::NotInitialized)?;
        if self.rx_owned.get() {
            return Err(ClientError::RxBusy);
        }
        self.rx_owned.set(true);
        Ok(RxGuard {
            mailbox: self,
            conduit,
            size: geometry.size,
            released: false,
        })
    }

    /// Lends the TX buffer for writing. Fails if it is already lent.
    pub fn tx(&self) -> Result<TxGuard<'_, 'a>, ClientError> {
        let geometry = self.mapping.get().ok_or(ClientError::NotInitialized)?;
        if self.tx_lent.get() {
            return Err(ClientError::TxBusy);
        }
        self.tx_lent.set(true);
        Ok(TxGuard {
            mailbox: self,
            size: geometry.size,
        })
    }

    /// Issues a call that reads the TX buffer. The guard is consumed, so TX
    /// cannot be written while the other side reads it.
    pub fn call_with_tx(
        &self,
        conduit: &FfaConduit<'_>,
        tx: TxGuard<'_, 'a>,
        request: &Request,
    ) -> Result<Reply, ClientError> {
        let reply = conduit.call(request);
        drop(tx);
        reply
    }

    fn release_rx(&self, conduit: &FfaConduit<'_>) -> Result<(), ClientError> {
        // Whatever the callee answers, this side stops reading RX now.
        self.rx_owned.set(false);
        conduit
            .call_expecting_success(&Request::new(FunctionId::RxRelease))
            .map(|_| ())
    }
}

/// Checks that `length` bytes at `offset` fit in a buffer of `size` bytes.
fn check_range(offset: usize, length: usize, size: usize) -> Result<(), ClientError> {
    let end = offset
        .checked_add(length)
        .ok_or(ClientError::CountOverflow(u32::MAX))?;
    if end > size {
        return Err(ClientError::BufferTooSmall {
            required: end,
            available: size,
        });
    }
    Ok(())
}

/// Ownership of the filled RX buffer: read it, then drop or [`release`](RxGuard::release) it.
#[must_use = "dropping the guard releases the RX buffer at once"]
pub struct RxGuard<'m, 'a> {
    mailbox: &'m Mailbox<'a>,
    conduit: &'m FfaConduit<'a>,
    size: usize,
    released: bool,
}

impl RxGuard<'_, '_> {
    /// Bytes of RX that may be read.
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether the mapped RX buffer is empty (never, once mapped).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Copies `destination.len()` bytes from RX at `offset`.
    pub fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ClientError> {
        check_range(offset, destination.len(), self.size)?;
        self.mailbox
            .rx
            .read(offset, destination)
            .map_err(ClientError::Memory)
    }

    /// Releases RX with `FFA_RX_RELEASE` and reports the callee's answer.
    pub fn release(mut self) -> Result<(), ClientError> {
        self.released = true;
        self.mailbox.release_rx(self.conduit)
    }
}

impl Drop for RxGuard<'_, '_> {
    fn drop(&mut self) {
        if !self.released {
            self.released = true;
            if let Err(error) = self.mailbox.release_rx(self.conduit) {
                defmt::warn!("ffa: FFA_RX_RELEASE failed: {}", error);
            }
        }
    }
}

/// The TX buffer, lent for writing until the call that reads it consumes the guard.
#[must_use = "write the message, then pass the guard to the call that sends it"]
pub struct TxGuard<'m, 'a> {
    mailbox: &'m Mailbox<'a>,
    size: usize,
}

impl TxGuard<'_, '_> {
    /// Bytes of TX that may be written.
    pub fn len(&self) -> usize {
        self.size
    }

    /// Whether the mapped TX buffer is empty (never, once mapped).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Copies `source` into TX at `offset`.
    pub fn write(&self, offset: usize, source: &[u8]) -> Result<(), ClientError> {
        check_range(offset, source.len(), self.size)?;
        self.mailbox
            .tx
            .write(offset, source)
            .map_err(ClientError::Memory)
    }
}

impl Drop for TxGuard<'_, '_> {
    fn drop(&mut self) {
        self.mailbox.tx_lent.set(false);
    }
}
