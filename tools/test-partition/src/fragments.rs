//! Reassembly of a memory transaction descriptor that the relayer sends in fragments.
//!
//! `FFA_MEM_RETRIEVE_RESP` reports the descriptor's total length (w1) and
//! the length of the fragment in RX (w2). While fragments are missing, the
//! borrower releases RX and calls `FFA_MEM_FRAG_RX` with the handle and the
//! offset it has reached; the relayer answers `FFA_MEM_FRAG_TX` with the next
//! fragment's length (w3). [`Reassembly`] collects the fragments into a
//! buffer the caller owns, refusing anything that would not fit or that
//! makes no progress, so the loop that drives it is bounded.

/// Why a fragment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentError {
    /// The total length is zero, or larger than the reassembly buffer.
    BadTotal {
        /// The total length announced.
        total: u32,
        /// The buffer's capacity.
        capacity: usize,
    },
    /// A fragment has no bytes: no progress.
    Empty,
    /// A fragment runs past the announced total.
    TooLong {
        /// Bytes received before this fragment.
        received: usize,
        /// This fragment's length.
        length: u32,
        /// The announced total.
        total: u32,
    },
    /// The fragment is longer than the RX buffer it was read from.
    LongerThanBuffer {
        /// This fragment's length.
        length: u32,
        /// The RX buffer's size.
        buffer: usize,
    },
    /// Fragments keep coming after the limit.
    TooManyFragments(u32),
}

impl core::fmt::Display for FragmentError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FragmentError::BadTotal { total, capacity } => {
                write!(formatter, "total length {total} is not in 1..={capacity}")
            }
            FragmentError::Empty => write!(formatter, "an empty fragment"),
            FragmentError::TooLong {
                received,
                length,
                total,
            } => write!(
                formatter,
                "a {length}-byte fragment after {received} bytes runs past the total {total}"
            ),
            FragmentError::LongerThanBuffer { length, buffer } => write!(
                formatter,
                "a {length}-byte fragment does not fit the {buffer}-byte RX buffer"
            ),
            FragmentError::TooManyFragments(limit) => {
                write!(formatter, "more than {limit} fragments")
            }
        }
    }
}

/// A descriptor being reassembled into a caller-owned buffer.
#[derive(Debug)]
pub struct Reassembly<'a> {
    buffer: &'a mut [u8],
    total: usize,
    received: usize,
    fragments: u32,
    limit: u32,
}

impl<'a> Reassembly<'a> {
    /// Starts reassembling a descriptor of `total` bytes into `buffer`,
    /// accepting at most `limit` fragments.
    pub fn start(buffer: &'a mut [u8], total: u32, limit: u32) -> Result<Self, FragmentError> {
        if total == 0 || total as usize > buffer.len() {
            return Err(FragmentError::BadTotal {
                total,
                capacity: buffer.len(),
            });
        }
        Ok(Reassembly {
            buffer,
            total: total as usize,
            received: 0,
            fragments: 0,
            limit,
        })
    }

    /// Adds the next fragment: the first `length` bytes of `rx`.
    pub fn add(&mut self, rx: &[u8], length: u32) -> Result<(), FragmentError> {
        if self.fragments >= self.limit {
            return Err(FragmentError::TooManyFragments(self.limit));
        }
        if length == 0 {
            return Err(FragmentError::Empty);
        }
        if length as usize > rx.len() {
            return Err(FragmentError::LongerThanBuffer {
                length,
                buffer: rx.len(),
            });
        }
        if length as usize > self.total - self.received {
            return Err(FragmentError::TooLong {
                received: self.received,
                length,
                total: self.total as u32,
            });
        }
        let end = self.received + length as usize;
        self.buffer[self.received..end].copy_from_slice(&rx[..length as usize]);
        self.received = end;
        self.fragments += 1;
        Ok(())
    }

    /// Bytes received so far: the offset to ask `FFA_MEM_FRAG_RX` for next.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Fragments received so far.
    pub fn fragments(&self) -> u32 {
        self.fragments
    }

    /// Whether every byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.received == self.total
    }

    /// The whole descriptor, once complete.
    pub fn finish(self) -> Option<&'a [u8]> {
        if self.is_complete() {
            let total = self.total;
            Some(&self.buffer[..total])
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn collects_fragments_in_order() {
        let mut buffer = [0u8; 16];
        let mut reassembly = Reassembly::start(&mut buffer, 10, 8).unwrap();
        reassembly.add(&[1, 2, 3, 4, 0xAA], 4).unwrap();
        assert_eq!(reassembly.received(), 4);
        assert!(!reassembly.is_complete());
        reassembly.add(&[5, 6, 7, 8, 9, 10], 6).unwrap();
        assert_eq!(reassembly.fragments(), 2);
        assert_eq!(
            reassembly.finish(),
            Some(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10][..])
        );
    }

    #[test]
    fn refuses_what_would_not_fit_or_not_progress() {
        let mut buffer = [0u8; 8];
        assert_eq!(
            Reassembly::start(&mut buffer, 9, 4).unwrap_err(),
            FragmentError::BadTotal {
                total: 9,
                capacity: 8
            }
        );
        assert!(Reassembly::start(&mut buffer, 0, 4).is_err());
        let mut reassembly = Reassembly::start(&mut buffer, 8, 2).unwrap();
        assert_eq!(reassembly.add(&[1; 4], 0), Err(FragmentError::Empty));
        assert_eq!(
            reassembly.add(&[1; 4], 5),
            Err(FragmentError::LongerThanBuffer {
                length: 5,
                buffer: 4
            })
        );
        assert_eq!(
            reassembly.add(&[1; 16], 9),
            Err(FragmentError::TooLong {
                received: 0,
                length: 9,
                total: 8
            })
        );
        reassembly.add(&[1; 4], 1).unwrap();
        reassembly.add(&[1; 4], 1).unwrap();
        assert_eq!(
            reassembly.add(&[1; 4], 1),
            Err(FragmentError::TooManyFragments(2))
        );
        assert_eq!(reassembly.finish(), None);
    }

    proptest! {
        /// Any split of a descriptor into fragments reassembles to the original.
        #[test]
        fn any_split_reassembles(
            descriptor in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec(1usize..700, 0..20),
        ) {
            let mut buffer = std::vec![0u8; 4096];
            let mut reassembly = Reassembly::start(&mut buffer, descriptor.len() as u32, 64).unwrap();
            let mut offset = 0;
            let mut cuts = cuts.into_iter();
            while offset < descriptor.len() {
                let length = cuts.next().unwrap_or(usize::MAX).min(descriptor.len() - offset);
                let rx: Vec<u8> = descriptor[offset..offset + length].to_vec();
                reassembly.add(&rx, length as u32).unwrap();
                offset += length;
            }
            prop_assert_eq!(reassembly.finish().unwrap(), &descriptor[..]);
        }

        /// Whatever lengths the relayer reports, the reassembly never writes past its
        /// buffer and never claims more than the total.
        #[test]
        fn hostile_lengths_are_contained(total in any::<u32>(), lengths in proptest::collection::vec(any::<u32>(), 0..10)) {
            let mut buffer = [0u8; 512];
            let rx = [7u8; 256];
            if let Ok(mut reassembly) = Reassembly::start(&mut buffer, total, 8) {
                for length in lengths {
                    let _ = reassembly.add(&rx, length);
                    prop_assert!(reassembly.received() <= total as usize);
                }
            }
        }
    }
}
