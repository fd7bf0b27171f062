//! A byte-stream UART transmit and receive interface, split-phase.
//!
//! Buffers are lent to the driver and always come back: through the
//! completion callback on success, and in the `Err` value on failure.

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

/// Receives received data.
pub trait ReceiveClient {
    /// `buffer` is returned holding `length` received bytes.
    fn received_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        result: Result<(), ErrorCode>,
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

    /// Starts receiving up to `length` bytes into `buffer`. On error the
    /// buffer comes back with the error code.
    fn receive_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])>;
}
