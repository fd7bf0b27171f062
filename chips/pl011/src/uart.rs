//! The Arm PL011 UART: polled transmit for logs and panics, and the
//! split-phase [`Transmit`] HIL for capsules.
//!
//! QEMU's PL011 needs no clock or baud set-up; on real boards firmware has
//! usually configured it already.
//!
//! ```ignore
//! let uart = static_init!(Pl011, Pl011::new(memory_map::UART0_BASE));
//! uart.write_bytes(b"hello\n");
//! ```

use kernel::cells::{OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::uart::{Transmit, TransmitClient};
use kernel::ErrorCode;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite};
use tock_registers::{register_bitfields, register_structs};

register_bitfields![u32,
    /// UARTFR.
    Flags [
        TransmitFifoFull OFFSET(5) NUMBITS(1) [],
        Busy OFFSET(3) NUMBITS(1) []
    ],
    /// UARTCR.
    Control [
        Enable OFFSET(0) NUMBITS(1) [],
        TransmitEnable OFFSET(8) NUMBITS(1) [],
        ReceiveEnable OFFSET(9) NUMBITS(1) []
    ]
];

register_structs! {
    /// PL011 registers.
    pub Pl011Registers {
        (0x000 => data: ReadWrite<u32>),
        (0x004 => _reserved0),
        (0x018 => flags: ReadOnly<u32, Flags::Register>),
        (0x01c => _reserved1),
        (0x030 => control: ReadWrite<u32, Control::Register>),
        (0x034 => @END),
    }
}

/// Bound on polling a full transmit FIFO for one byte (the UART is local
/// hardware, but a wedged device must not hang the kernel).
const TRANSMIT_SPIN_LIMIT: u32 = 1_000_000;

/// Writes bytes to the PL011 at `base`, polling the FIFO. Used by the logger
/// and the panic path, which cannot wait for the main loop.
pub fn write_bytes_polled(base: usize, bytes: &[u8]) {
    // SAFETY: `base` is the address of a PL011 from the chip's memory map,
    // device memory in the identity map.
    let registers = unsafe { &*(base as *const Pl011Registers) };
    for byte in bytes {
        let mut spins = 0;
        while registers.flags.is_set(Flags::TransmitFifoFull) && spins < TRANSMIT_SPIN_LIMIT {
            spins += 1;
        }
        registers.data.set(*byte as u32);
    }
}

/// A PL011 driver implementing the transmit HIL.
pub struct Pl011<'a> {
    base: usize,
    transmit_client: OptionalCell<&'a dyn TransmitClient>,
    transmit_buffer: TakeCell<'static, [u8]>,
    transmit_length: core::cell::Cell<usize>,
    deferred_call: DeferredCall,
}

impl<'a> Pl011<'a> {
    /// The PL011 at `base` (from [`crate::memory_map`]).
    pub fn new(base: usize) -> Self {
        Pl011 {
            base,
            transmit_client: OptionalCell::empty(),
            transmit_buffer: TakeCell::empty(),
            transmit_length: core::cell::Cell::new(0),
            deferred_call: DeferredCall::new(),
        }
    }

    /// Enables the UART for transmit and receive.
    pub fn initialise(&self) {
        // SAFETY: `base` is a PL011 of the chip's memory map.
        let registers = unsafe { &*(self.base as *const Pl011Registers) };
        registers.control.write(
            Control::Enable::SET + Control::TransmitEnable::SET + Control::ReceiveEnable::SET,
        );
    }

    /// Writes bytes synchronously.
    pub fn write_bytes(&self, bytes: &[u8]) {
        write_bytes_polled(self.base, bytes);
    }
}

impl<'a> Transmit<'a> for Pl011<'a> {
    fn set_transmit_client(&self, client: &'a dyn TransmitClient) {
        self.transmit_client.set(client);
    }

    fn transmit_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])> {
        if self.transmit_buffer.is_some() {
            return Err((ErrorCode::BUSY, buffer));
        }
        if length == 0 || length > buffer.len() {
            return Err((ErrorCode::SIZE, buffer));
        }
        self.write_bytes(&buffer[..length]);
        self.transmit_length.set(length);
        self.transmit_buffer.replace(buffer);
        // The completion is delivered from the main loop, never from here.
        self.deferred_call.set();
        Ok(())
    }
}

impl DeferredCallClient for Pl011<'_> {
    fn handle_deferred_call(&self) {
        if let Some(buffer) = self.transmit_buffer.take() {
            let length = self.transmit_length.get();
            self.transmit_client
                .map(|client| client.transmitted_buffer(buffer, length, Ok(())));
        }
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}
