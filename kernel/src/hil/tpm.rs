//! A TPM that takes TPM 2.0 commands, split-phase: send a command buffer,
//! get the response in the same buffer through a callback.
//!
//! Any transport implements it: the CRB over FF-A (`capsule-tpm`), or a
//! future SPI or I²C TPM driver. Its users (measured boot, a console) know
//! TPM 2.0's wire format and nothing of the transport.
//!
//! The buffer is lent to the driver and always comes back: in the `Err` of
//! [`Tpm::send_command`] if the command was not started, otherwise through
//! [`TpmClient::command_complete`], never from inside `send_command` (a
//! driver that finishes at once uses a deferred call).
//!
//! ```ignore
//! tpm.set_client(&measurements);
//! let length = tpm2::pcr_extend(buffer, 0, &digest)?;
//! tpm.send_command(buffer, length, Locality::ZERO).map_err(|(error, buffer)| ...)?;
//! // later: measurements.command_complete(buffer, response_length, Ok(()))
//! ```

use crate::ErrorCode;

/// A TPM locality (0–4): who is asking, as the TPM's PCR policies see it.
/// Made only by [`Locality::new`], which refuses 5 and above.
///
/// ```compile_fail,E0423
/// use kernel::hil::tpm::Locality;
/// let locality = Locality(7); // error: the field is private
/// ```
///
/// A buffer sent is the driver's until it comes back:
///
/// ```compile_fail
/// use kernel::hil::tpm::{Locality, Tpm};
/// fn send(tpm: &dyn Tpm<'static>, buffer: &'static mut [u8]) {
///     let _ = tpm.send_command(buffer, 12, Locality::ZERO);
///     buffer[0] = 0x80; // error: `*buffer` was moved into the driver
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, defmt::Format)]
pub struct Locality(u8);

impl Locality {
    /// Locality 0: the operating system.
    pub const ZERO: Locality = Locality(0);
    /// The highest locality.
    pub const MAXIMUM: u8 = 4;

    /// Locality `value`, if it is one (0–4).
    pub const fn new(value: u8) -> Option<Locality> {
        if value <= Self::MAXIMUM {
            Some(Locality(value))
        } else {
            None
        }
    }

    /// Its number.
    pub const fn value(self) -> u8 {
        self.0
    }
}

/// Receives completed commands.
pub trait TpmClient {
    /// The command sent from `buffer` completed. On `Ok(())` the first
    /// `response_length` bytes of `buffer` hold the TPM's response (which
    /// may carry a TPM error code: the transport worked); on `Err` the
    /// transport failed (`NOACK`: no answer in time, `CANCEL` after [`Tpm::cancel`], `FAIL`
    /// for a response that is not one, `BUSY`, `NODEVICE`) and
    /// `response_length` is 0.
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    );
}

/// A TPM's command interface.
pub trait Tpm<'a> {
    /// Sets the client told of completed commands.
    fn set_client(&self, client: &'a dyn TpmClient);

    /// Whether the TPM takes commands: its transport is up and it is not
    /// broken. (A command may still be in flight.)
    fn is_available(&self) -> bool;

    /// The largest command or response the transport carries.
    fn maximum_command_size(&self) -> usize;

    /// Sends the first `length` bytes of `buffer` from `locality`; the
    /// response is written into `buffer`. `Err` gives the buffer back:
    /// `BUSY` (a command is in flight), `SIZE` (`length` exceeds the buffer
    /// or [`Tpm::maximum_command_size`], or is below a header), `OFF` (not
    /// available), `NODEVICE`.
    fn send_command(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        locality: Locality,
    ) -> Result<(), (ErrorCode, &'static mut [u8])>;

    /// Cancels the command in flight: it completes with `Err(CANCEL)` (or
    /// with the TPM's response, if it finished first). `Err(ALREADY)` if
    /// no command is in flight.
    fn cancel(&self) -> Result<(), ErrorCode>;
}
