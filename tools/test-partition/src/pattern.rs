//! The byte patterns of the memory checks: one 64-bit seed names the contents of a whole region.
//!
//! Shared with the model's echo partition and the kernel's memory-check
//! driver: the functions are [`ffa_abi::memory_check::pattern`]'s
//! (documented there), re-exported here.
//!
//! ```
//! use test_partition::pattern;
//!
//! let mut page = [0u8; 64];
//! pattern::fill(0x1234, 4096, &mut page);
//! assert_eq!(pattern::first_mismatch(0x1234, 4096, &page), None);
//! page[10] ^= 1;
//! assert_eq!(pattern::first_mismatch(0x1234, 4096, &page), Some(4106));
//! ```

pub use ffa_abi::memory_check::pattern::{byte, fill, first_mismatch, word};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_pattern_is_fixed() {
        // Pinned values: the normal-world driver must compute the same bytes.
        assert_eq!(word(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(word(0x5EED, 7), word(0x5EED, 7));
        assert_ne!(word(1, 0), word(2, 0));
        assert_eq!(byte(0, 0), 0xAF);
        assert_eq!(byte(0, 7), 0xE2);
    }

    proptest! {
        /// Filling and checking agree for any seed, offset and length, and a
        /// single flipped byte is found at its exact offset.
        #[test]
        fn fill_then_check(seed in any::<u64>(), offset in 0u64..1 << 40, length in 1usize..300, flip in any::<usize>()) {
            let mut bytes = std::vec![0u8; length];
            fill(seed, offset, &mut bytes);
            prop_assert_eq!(first_mismatch(seed, offset, &bytes), None);
            let flip = flip % length;
            bytes[flip] ^= 0x80;
            prop_assert_eq!(first_mismatch(seed, offset, &bytes), Some(offset + flip as u64));
        }

        /// Checking a region in pieces finds what checking it whole finds.
        #[test]
        fn piecewise_equals_whole(seed in any::<u64>(), split in 1usize..63) {
            let mut bytes = [0u8; 64];
            fill(seed, 0, &mut bytes[..split]);
            fill(seed, split as u64, &mut bytes[split..]);
            let mut whole = [0u8; 64];
            fill(seed, 0, &mut whole);
            prop_assert_eq!(bytes, whole);
        }
    }
}
