//! The byte patterns of the memory checks: one 64-bit seed names the contents of a whole region.
//!
//! The byte at offset `o` of a region (offsets count across all its
//! constituents, in order) is byte `o % 8` (little-endian) of
//! [`word(seed, o / 8)`](word), a SplitMix64 mix of the seed and the word
//! index. Any two seeds give different contents, every word differs from its
//! neighbours, and a writer and a checker need only agree on the seed —
//! the normal-world driver computes the same bytes from this module.
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

/// The pattern word with index `index` (bytes `8 * index .. 8 * index + 8`) of `seed`'s pattern.
pub const fn word(seed: u64, index: u64) -> u64 {
    let mut mixed = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^ (mixed >> 31)
}

/// The pattern byte at region offset `offset`.
pub const fn byte(seed: u64, offset: u64) -> u8 {
    word(seed, offset / 8).to_le_bytes()[(offset % 8) as usize]
}

/// Fills `bytes` with the pattern as it is at region offset `offset` onwards.
pub fn fill(seed: u64, offset: u64, bytes: &mut [u8]) {
    for (position, target) in bytes.iter_mut().enumerate() {
        *target = byte(seed, offset + position as u64);
    }
}

/// The region offset of the first byte of `bytes` (at region offset `offset`
/// onwards) that differs from the pattern, or `None` if all match.
pub fn first_mismatch(seed: u64, offset: u64, bytes: &[u8]) -> Option<u64> {
    bytes
        .iter()
        .enumerate()
        .find(|(position, value)| **value != byte(seed, offset + *position as u64))
        .map(|(position, _)| offset + position as u64)
}

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
