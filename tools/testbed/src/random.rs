//! A small deterministic pseudo-random generator (xorshift64*) for the
//! fuzzers of the host tests: no dependency, and every run the same.
//!
//! ```
//! use testbed::Random;
//!
//! let mut random = Random::new(7);
//! let first = random.next();
//! assert_eq!(Random::new(7).next(), first, "the same seed, the same run");
//! assert!(random.below(10) < 10);
//! assert_eq!(random.pick(&[3, 3]), 3);
//! ```

/// An xorshift64* generator.
#[derive(Clone, Debug)]
pub struct Random(u64);

impl Random {
    /// A generator seeded with `seed` (0 is replaced: xorshift stays at 0).
    pub const fn new(seed: u64) -> Random {
        Random(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `bound` (which must not be 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// One of `choices` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[self.below(choices.len() as u64) as usize]
    }
}
