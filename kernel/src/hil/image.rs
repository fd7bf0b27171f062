//! The running kernel image's loaded segments, as the linker laid them out:
//! what measured boot hashes.
//!
//! The chip implements it from the board's linker symbols (reading the
//! image is `unsafe` there: the bytes are the kernel's own code and
//! read-only data); capsules see segments by index and copy bytes out.
//! Only segments that do not change while the kernel runs belong here
//! (code, read-only data): a digest of them is the same at every boot of
//! the same image, and a verifier can compute it from the image file.
//!
//! ```ignore
//! for index in 0..image.segment_count() {
//!     let segment = image.segment(index).unwrap();
//!     let mut chunk = [0u8; 256];
//!     image.read(index, 0, &mut chunk)?;
//! }
//! ```

use crate::ErrorCode;

/// One loaded segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Segment {
    /// Its name (`".text"`).
    pub name: &'static str,
    /// Its physical address.
    pub base: u64,
    /// Its length in bytes.
    pub length: usize,
}

/// The loaded image.
pub trait LoadedImage {
    /// How many segments there are.
    fn segment_count(&self) -> usize;

    /// Segment `index`, if there is one.
    fn segment(&self, index: usize) -> Option<Segment>;

    /// Copies `destination.len()` bytes of segment `index` from `offset`.
    /// `Err(INVAL)` for no such segment, `Err(SIZE)` past its end.
    fn read(&self, index: usize, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode>;
}
