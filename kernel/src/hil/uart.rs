//! A byte-stream UART transmit and receive interface, split-phase.
//!
//! Buffers are lent to the driver and always come back: through the
//! completion callback on success, and in the `Err` value on failure.
//!
//! Receiving delivers what has arrived, at least one byte and at most the
//! length asked for, so a line-oriented client (a console) lends a small
//! buffer and gets keystrokes as they come. A driver may keep a bounded
//! ring of received bytes between deliveries; what was lost or garbled on
//! the way is reported with the next delivery as [`ReceiveErrors`].

use crate::ErrorCode;

/// Receives transmit completions.
pub trait TransmitClient {
    /// `buffer` is returned after `length` bytes were sent (or `result` is an error).
    fn transmitted_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        result: Result<(), ErrorCode>,
    );
}

/// What went wrong on the receive path since the previous delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct ReceiveErrors {
    /// Times the hardware receive FIFO overran: input was lost (an unknown
    /// number of bytes each time) because the driver could not keep up.
    pub overruns: u32,
    /// Bytes that arrived garbled (framing or parity error, or a break)
    /// and were dropped.
    pub garbled: u32,
}

impl ReceiveErrors {
    /// No error.
    pub const NONE: ReceiveErrors = ReceiveErrors {
        overruns: 0,
        garbled: 0,
    };

    /// Whether nothing went wrong.
    pub const fn is_none(&self) -> bool {
        self.overruns == 0 && self.garbled == 0
    }
}

/// Receives received data.
pub trait ReceiveClient {
    /// `buffer` is returned holding `length` received bytes (on success, at
    /// least one); `errors` says what was lost or garbled since the
    /// previous delivery.
    fn received_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        result: Result<(), ErrorCode>,
        errors: ReceiveErrors,
    );
}

/// Split-phase transmit.
pub trait Transmit<'a> {
    /// Sets the client for transmit completions.
    fn set_transmit_client(&self, client: &'a dyn TransmitClient);

    /// Starts sending the first `length` bytes of `buffer`. On error the
    /// buffer comes back with the error code.
    fn transmit_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])>;
}

/// Split-phase receive.
pub trait Receive<'a> {
    /// Sets the client for receive completions.
    fn set_receive_client(&self, client: &'a dyn ReceiveClient);

    /// Starts receiving up to `length` bytes into `buffer`: the client is
    /// called back (never from inside this call) once at least one byte
    /// has arrived. On error the buffer comes back with the error code:
    /// `BUSY` if a receive is already in progress, `SIZE` if `length` is 0
    /// or larger than the buffer.
    fn receive_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])>;
}
