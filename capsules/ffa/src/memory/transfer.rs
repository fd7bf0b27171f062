//! Sending a transaction descriptor (in fragments when it does not fit TX),
//! decoding the relayer's answers, and `FFA_MEM_RECLAIM`.
//!
//! ```text
//! client                                            relayer (SPMC)
//!   TX[0..f1) = descriptor[0..f1)
//!   FFA_MEM_SHARE(w1 = total, w2 = f1, w3 = w4 = 0) -->
//!                              <-- FFA_MEM_FRAG_RX(w1/w2 = handle, w3 = offset)    (more expected)
//!   TX[0..f2) = descriptor[offset..offset + f2)
//!   FFA_MEM_FRAG_TX(w1/w2 = handle, w3 = f2, w4 = 0) -->
//!                              <-- FFA_MEM_FRAG_RX ... or FFA_SUCCESS(w2/w3 = handle)
//! ```
//!
//! Fragments are as large as TX allows, so a descriptor goes out in the
//! minimum number of calls, ⌈total / TX size⌉, unless the relayer
//! acknowledges less than was sent (OP-TEE consumes whole constituents
//! only): the next fragment then starts at the offset it reports. Some
//! SPMCs (Hafnium, OP-TEE, pKVM's proxy) also need fragments to end on
//! constituent boundaries and the header, access descriptors and composite
//! header in the first; TX sizes are whole pages and every structure is a
//! multiple of 16 bytes, so a fragment that fills TX always ends on a
//! constituent boundary once the fixed part is out, and the two needs
//! agree. They only part when the fixed part alone is larger than TX: then
//! [`FragmentPolicy::ConstituentBoundaries`] (the default) refuses the
//! transaction, and [`FragmentPolicy::ByteStream`] (enough for TF-A's EL3
//! SPMC) cuts through it.
//!
//! The TX buffer is held (a [`TxGuard`](crate::mailbox::TxGuard)) from
//! writing a fragment until its call returns, so nothing else can write TX
//! while a fragment is in flight. Every loop is bounded by the number of
//! 16-byte units in the descriptor. An error from the relayer, or an answer
//! this side cannot accept, in the middle of the fragments ends the
//! transaction: the relayer either dropped it (TF-A, Hafnium) or keeps an
//! incomplete one, which no receiver can retrieve and no SPMC lets anyone
//! reclaim; either way the memory was never given. Only a relayer that
//! claims the transaction complete before every byte arrived leaves it
//! unsettled ([`SendFailure::Unsettled`]): the caller must reclaim before
//! reusing the memory.

use super::attributes::Operation;
use super::descriptor::{Constituents, Descriptor, UNIT};
use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use crate::mailbox::Mailbox;
use ffa_abi::{CallWidth, FunctionId, ReplyKind, Status};
use kernel::hil::smccc::SmcccRegisters;

/// A memory transaction's handle, allocated by the relayer: 64 opaque bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, defmt::Format)]
pub struct MemoryHandle(pub u64);

impl MemoryHandle {
    /// The handle from its two register halves, low word first.
    pub const fn from_words(low: u32, high: u32) -> MemoryHandle {
        MemoryHandle((high as u64) << 32 | low as u64)
    }

    /// The low word.
    pub const fn low(self) -> u32 {
        self.0 as u32
    }

    /// The high word.
    pub const fn high(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Bit 63: set when a hypervisor allocated the handle, clear for the SPMC.
    pub const fn allocated_by_hypervisor(self) -> bool {
        self.0 >> 63 != 0
    }
}

/// Where fragments may end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum FragmentPolicy {
    /// The first fragment holds the header, every access descriptor and the
    /// composite header; later fragments hold whole constituents (every SPMC,
    /// and pKVM's proxy).
    ConstituentBoundaries,
    /// Any byte may end a fragment (TF-A's EL3 SPMC reassembles a byte stream).
    ByteStream,
}

/// What the relayer answered to one fragment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum SendReply {
    /// `FFA_SUCCESS`: the transaction is complete.
    Complete(MemoryHandle),
    /// `FFA_MEM_FRAG_RX`: more is expected from `offset` on.
    MoreExpected {
        /// The handle the relayer allocated.
        handle: MemoryHandle,
        /// Bytes of the descriptor it has taken so far.
        offset: u32,
        /// w4 `[31:16]`: the sender ID, when a hypervisor relays (0 otherwise).
        sender: u16,
    },
}

/// Decodes the answer to `FFA_MEM_SHARE`/`LEND`/`DONATE` or `FFA_MEM_FRAG_TX`.
pub fn decode_send_reply(registers: &SmcccRegisters) -> Result<SendReply, ClientError> {
    let word = |index: usize| registers.x[index] as u32;
    match ReplyKind::of(registers.x[0], registers.x[2]) {
        ReplyKind::Success(_) => Ok(SendReply::Complete(MemoryHandle::from_words(
            word(2),
            word(3),
        ))),
        ReplyKind::Function(FunctionId::MemoryFragmentReceive) => Ok(SendReply::MoreExpected {
            handle: MemoryHandle::from_words(word(1), word(2)),
            offset: word(3),
            sender: (word(4) >> 16) as u16,
        }),
        ReplyKind::Error(Status::Unknown(code)) if code >= 0 => Err(ClientError::MalformedReply),
        ReplyKind::Error(status) => Err(ClientError::Status(status)),
        ReplyKind::NotSupported => Err(ClientError::Status(Status::NotSupported)),
        ReplyKind::Function(_) | ReplyKind::Value(_) => {
            Err(ClientError::UnexpectedFunction(word(0)))
        }
    }
}

/// A descriptor that reached the relayer whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Sent {
    /// The transaction's handle.
    pub handle: MemoryHandle,
    /// Calls made: the first, then one `FFA_MEM_FRAG_TX` per further fragment.
    pub fragments: u32,
}

/// Why sending failed, and what the relayer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum SendFailure {
    /// Nothing was sent, or the relayer refused the first fragment: it holds nothing.
    Refused(ClientError),
    /// The relayer refused a later fragment, or answered something this side
    /// cannot accept, after allocating `handle`: the transaction ended
    /// incomplete, so no receiver can retrieve the memory.
    Aborted {
        /// Why.
        error: ClientError,
        /// The handle of the incomplete transaction.
        handle: MemoryHandle,
        /// The fragment (1-based) whose answer ended it.
        fragment: u32,
    },
    /// The relayer claims a complete transaction this side does not
    /// recognise (done before every byte was sent, or another handle):
    /// receivers may retrieve it, so the memory must be reclaimed first.
    Unsettled {
        /// Why.
        error: ClientError,
        /// The handle the relayer reported.
        handle: MemoryHandle,
    },
}

impl SendFailure {
    /// The error, whatever the relayer holds.
    pub const fn error(&self) -> ClientError {
        match self {
            SendFailure::Refused(error)
            | SendFailure::Aborted { error, .. }
            | SendFailure::Unsettled { error, .. } => *error,
        }
    }
}

/// Sends `descriptor` as `operation` through TX, in fragments if needed,
/// with the `width` form of the function ID.
pub fn send<C: Constituents + ?Sized>(
    conduit: &FfaConduit<'_>,
    mailbox: &Mailbox<'_>,
    operation: Operation,
    width: CallWidth,
    descriptor: &Descriptor<'_, C>,
    policy: FragmentPolicy,
) -> Result<Sent, SendFailure> {
    let total = descriptor.total_length();
    let tx_size = mailbox
        .geometry()
        .ok_or(SendFailure::Refused(ClientError::NotInitialized))?
        .size
        / UNIT
        * UNIT;
    if policy == FragmentPolicy::ConstituentBoundaries && descriptor.fixed_length() > tx_size {
        return Err(SendFailure::Refused(ClientError::Transaction(
            super::attributes::TransactionError::HeaderDoesNotFitTx {
                needed: descriptor.fixed_length(),
                available: tx_size,
            },
        )));
    }
    let first = total.min(tx_size);
    let reply = transmit(
        conduit,
        mailbox,
        descriptor,
        0,
        first,
        Request::new(operation.function(width))
            .with(1, total as u64)
            .with(2, first as u64),
    )
    .map_err(SendFailure::Refused)?;
    let (handle, mut offset) = match reply {
        SendReply::Complete(handle) if first == total => {
            return Ok(Sent {
                handle,
                fragments: 1,
            })
        }
        SendReply::Complete(handle) => {
            defmt::error!(
                "ffa: {=str}: the relayer reported handle {=u64:#x} complete after {=usize} of {=usize} bytes",
                operation.name(),
                handle.0,
                first,
                total
            );
            return Err(SendFailure::Unsettled {
                error: ClientError::MalformedReply,
                handle,
            });
        }
        SendReply::MoreExpected { handle, offset, .. } => (handle, offset as usize),
    };
    let mut sent_end = first;
    let mut fragments = 1u32;
    // Each round trip must move the offset forward by at least one byte;
    // bound by the units, so a relayer that keeps acknowledging little
    // still ends.
    let limit = total / UNIT + 2;
    loop {
        let abort = |error: ClientError, fragment: u32| {
            defmt::warn!(
                "ffa: {=str}: transaction {=u64:#x} ended at fragment {=u32}: {}; the relayer holds at most an incomplete descriptor, which no receiver can retrieve",
                operation.name(),
                handle.0,
                fragment,
                error
            );
            SendFailure::Aborted {
                error,
                handle,
                fragment,
            }
        };
        if offset == 0 || offset > sent_end || fragments as usize >= limit {
            defmt::warn!(
                "ffa: FFA_MEM_FRAG_RX offset {=usize} after {=usize} bytes sent",
                offset,
                sent_end
            );
            return Err(abort(ClientError::MalformedReply, fragments));
        }
        let length = (total - offset).min(tx_size);
        fragments += 1;
        let reply = transmit(
            conduit,
            mailbox,
            descriptor,
            offset,
            offset + length,
            Request::new(FunctionId::MemoryFragmentTransmit)
                .with(1, u64::from(handle.low()))
                .with(2, u64::from(handle.high()))
                .with(3, length as u64),
        )
        .map_err(|error| abort(error, fragments))?;
        sent_end = offset + length;
        match reply {
            SendReply::Complete(done) if done == handle && sent_end == total => {
                return Ok(Sent { handle, fragments })
            }
            SendReply::Complete(done) => {
                defmt::error!(
                    "ffa: {=str}: the relayer reported handle {=u64:#x} complete (transaction {=u64:#x}, {=usize} of {=usize} bytes sent)",
                    operation.name(),
                    done.0,
                    handle.0,
                    sent_end,
                    total
                );
                return Err(SendFailure::Unsettled {
                    error: ClientError::MalformedReply,
                    handle: done,
                });
            }
            SendReply::MoreExpected {
                handle: answered,
                offset: next,
                ..
            } => {
                if answered != handle {
                    defmt::warn!(
                        "ffa: FFA_MEM_FRAG_RX names handle {=u64:#x}, not {=u64:#x}",
                        answered.0,
                        handle.0
                    );
                    return Err(abort(ClientError::MalformedReply, fragments));
                }
                if next as usize <= offset {
                    defmt::warn!(
                        "ffa: FFA_MEM_FRAG_RX offset {=u32} does not move past {=usize}",
                        next,
                        offset
                    );
                    return Err(abort(ClientError::MalformedReply, fragments));
                }
                offset = next as usize;
            }
        }
    }
}

/// Writes descriptor bytes `[start, end)` at TX offset 0 and makes `request`
/// while holding TX; returns the decoded answer.
fn transmit<C: Constituents + ?Sized>(
    conduit: &FfaConduit<'_>,
    mailbox: &Mailbox<'_>,
    descriptor: &Descriptor<'_, C>,
    start: usize,
    end: usize,
    request: Request,
) -> Result<SendReply, ClientError> {
    let tx = mailbox.tx()?;
    descriptor.write_range(start, end, |offset, bytes| tx.write(offset, bytes))?;
    let reply = decode_send_reply(&conduit.call_raw(&request));
    drop(tx);
    reply
}

/// `FFA_MEM_RECLAIM` of `handle`; flags bit 0 asks the relayer to zero the
/// memory before giving it back. `DENIED`: a borrower still holds it;
/// `INVALID_PARAMETERS`: no such (complete) transaction of this owner.
pub fn reclaim(
    conduit: &FfaConduit<'_>,
    handle: MemoryHandle,
    zero_memory: bool,
) -> Result<(), ClientError> {
    let request = Request::new(FunctionId::MemoryReclaim)
        .with(1, u64::from(handle.low()))
        .with(2, u64::from(handle.high()))
        .with(3, u64::from(zero_memory));
    conduit.call_expecting_success(&request).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_per_the_register_layout() {
        let success = SmcccRegisters::from_slice(&[0x8400_0061, 0, 0x5678_def0, 0x1234_abcd]);
        assert_eq!(
            decode_send_reply(&success),
            Ok(SendReply::Complete(MemoryHandle(0x1234_abcd_5678_def0)))
        );
        let wide = SmcccRegisters::from_slice(&[0xC400_0061, 0, 1, 0]);
        assert_eq!(
            decode_send_reply(&wide),
            Ok(SendReply::Complete(MemoryHandle(1)))
        );
        let more =
            SmcccRegisters::from_slice(&[0x8400_007A, 0xccccdddd, 0xaaaabbbb, 0x60, 0xabcd_0000]);
        assert_eq!(
            decode_send_reply(&more),
            Ok(SendReply::MoreExpected {
                handle: MemoryHandle(0xaaaa_bbbb_cccc_dddd),
                offset: 0x60,
                sender: 0xabcd
            })
        );
        let error = SmcccRegisters::from_slice(&[0x8400_0060, 0, 0xFFFF_FFFD]);
        assert_eq!(
            decode_send_reply(&error),
            Err(ClientError::Status(Status::NoMemory))
        );
        let pause = SmcccRegisters::from_slice(&[0x8400_0078, 1, 2]);
        assert_eq!(
            decode_send_reply(&pause),
            Err(ClientError::UnexpectedFunction(0x8400_0078))
        );
        assert_eq!(MemoryHandle(0xFFFF_FFFF_0000_0001).high(), 0xFFFF_FFFF);
        assert!(MemoryHandle(1 << 63).allocated_by_hypervisor());
    }
}
