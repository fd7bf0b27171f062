//! Bytes as lowercase hexadecimal in log lines (`{}` with [`Hex`]): digests
//! and the event log, readable and comparable with `sha256sum` or
//! `tpm2_pcrread` output.

/// Formats its bytes as contiguous lowercase hexadecimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex<'b>(pub &'b [u8]);

impl defmt::Format for Hex<'_> {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        for byte in self.0 {
            defmt::write!(formatter, "{=u8:02x}", *byte);
        }
    }
}
