//! A UART whose input a test types: the receive HIL for console tests.
//!
//! ```
//! use kernel::hil::uart::{Receive, ReceiveErrors};
//! use testbed::ScriptedUart;
//!
//! let uart = ScriptedUart::new();
//! assert!(!uart.is_receiving());
//! // A client lends a buffer with `receive_buffer`, then the test types:
//! assert_eq!(uart.deliver(b"help\r", ReceiveErrors::NONE), 0, "nobody is receiving yet");
//! ```

use std::cell::Cell;

use kernel::cells::{OptionalCell, TakeCell};
use kernel::hil::uart::{Receive, ReceiveClient, ReceiveErrors};
use kernel::ErrorCode;

use crate::deferred::run_pending;

/// A UART that hands the client what the test types.
#[derive(Default)]
pub struct ScriptedUart {
    client: OptionalCell<&'static dyn ReceiveClient>,
    buffer: TakeCell<'static, [u8]>,
    length: Cell<usize>,
    busy_calls: Cell<usize>,
}

impl ScriptedUart {
    /// A UART nobody receives from yet.
    pub fn new() -> ScriptedUart {
        ScriptedUart::default()
    }

    /// Whether the client has lent a buffer (is taking input).
    pub fn is_receiving(&self) -> bool {
        self.buffer.is_some()
    }

    /// How many times the client asked to receive while it already was.
    pub fn busy_calls(&self) -> usize {
        self.busy_calls.get()
    }

    /// Delivers as much of `bytes` as the lent buffer takes, with `errors`;
    /// returns how many were taken (0 if nobody is taking input).
    pub fn deliver(&self, bytes: &[u8], errors: ReceiveErrors) -> usize {
        let Some(buffer) = self.buffer.take() else {
            return 0;
        };
        let count = bytes.len().min(self.length.get());
        buffer[..count].copy_from_slice(&bytes[..count]);
        self.client
            .map(|client| client.received_buffer(buffer, count, Ok(()), errors));
        count
    }

    /// Types all of `bytes`, running deferred calls (as the kernel's main
    /// loop would) whenever the client stops taking input, and after.
    ///
    /// # Panics
    ///
    /// If the client stops taking input and no deferred call is pending.
    pub fn type_in(&self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let taken = self.deliver(bytes, ReceiveErrors::NONE);
            bytes = &bytes[taken..];
            if taken == 0 {
                assert!(run_pending() > 0, "the receiver stalled with input left");
            }
        }
        run_pending();
    }
}

impl Receive<'static> for ScriptedUart {
    fn set_receive_client(&self, client: &'static dyn ReceiveClient) {
        self.client.set(client);
    }

    fn receive_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])> {
        if self.buffer.is_some() {
            self.busy_calls.set(self.busy_calls.get() + 1);
            return Err((ErrorCode::BUSY, buffer));
        }
        if length == 0 || length > buffer.len() {
            return Err((ErrorCode::SIZE, buffer));
        }
        self.length.set(length);
        self.buffer.replace(buffer);
        Ok(())
    }
}
