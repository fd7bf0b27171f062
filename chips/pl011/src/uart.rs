//! The Arm PL011 UART: polled transmit for logs and panics, the
//! split-phase [`Transmit`] HIL, and interrupt-driven [`Receive`].
//!
//! QEMU's PL011 needs no clock or baud set-up; on real boards firmware has
//! usually configured it already. [`Pl011::initialise`] only turns the
//! FIFOs on (QEMU resets with them off: a one-byte holding register) and
//! enables the UART.
//!
//! # Receiving
//!
//! Once a client asks to receive, the receive and receive-timeout
//! interrupts are enabled. Each interrupt (serviced from the main loop)
//! moves what the hardware FIFO holds into a bounded ring of
//! [`RECEIVE_RING_CAPACITY`] bytes, and hands the client as much as its
//! buffer takes. The ring is slack for the time the client is busy (a
//! console running a command does not take input).
//!
//! When the ring is full, the receive interrupts are masked until the
//! client takes bytes again: input waits in the hardware FIFO. Under QEMU
//! that is flow control (QEMU offers the next byte only when the FIFO has
//! room), so nothing is lost however fast input comes; on a real UART the
//! FIFO overruns, which the PL011 flags on the next byte read and the
//! client is told as [`ReceiveErrors::overruns`]. Bytes with a framing or
//! parity error, or a break, are dropped and counted as
//! [`ReceiveErrors::garbled`]. An interrupt never waits for input and
//! moves at most [`RECEIVE_BURST`] bytes, so a flood cannot hold the main
//! loop.
//!
//! ```ignore
//! let uart = static_init!(Pl011, Pl011::new(memory_map::UART0_BASE));
//! uart.initialise();
//! uart.register(); // its deferred call
//! uart.write_bytes(b"hello\n");
//! ```

use core::cell::{Cell, RefCell};

use heapless::Deque;
use kernel::cells::{OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::uart::{Receive, ReceiveClient, ReceiveErrors, Transmit, TransmitClient};
use kernel::ErrorCode;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields![u32,
    /// UARTDR, as read: the byte and its error flags.
    Data [
        Byte OFFSET(0) NUMBITS(8) [],
        FramingError OFFSET(8) NUMBITS(1) [],
        ParityError OFFSET(9) NUMBITS(1) [],
        BreakError OFFSET(10) NUMBITS(1) [],
        OverrunError OFFSET(11) NUMBITS(1) []
    ],
    /// UARTFR.
    Flags [
        Busy OFFSET(3) NUMBITS(1) [],
        ReceiveFifoEmpty OFFSET(4) NUMBITS(1) [],
        TransmitFifoFull OFFSET(5) NUMBITS(1) []
    ],
    /// UARTLCR_H.
    LineControl [
        FifoEnable OFFSET(4) NUMBITS(1) [],
        WordLength OFFSET(5) NUMBITS(2) [
            Eight = 0b11
        ]
    ],
    /// UARTCR.
    Control [
        Enable OFFSET(0) NUMBITS(1) [],
        TransmitEnable OFFSET(8) NUMBITS(1) [],
        ReceiveEnable OFFSET(9) NUMBITS(1) []
    ],
    /// UARTIFLS.
    FifoLevels [
        /// 0b000: interrupt when the receive FIFO is 1/8 full.
        Receive OFFSET(3) NUMBITS(3) []
    ],
    /// UARTIMSC, UARTICR: the interrupts the driver uses.
    Interrupts [
        Receive OFFSET(4) NUMBITS(1) [],
        ReceiveTimeout OFFSET(6) NUMBITS(1) [],
        FramingError OFFSET(7) NUMBITS(1) [],
        ParityError OFFSET(8) NUMBITS(1) [],
        BreakError OFFSET(9) NUMBITS(1) [],
        OverrunError OFFSET(10) NUMBITS(1) []
    ]
];

register_structs! {
    /// PL011 registers.
    pub Pl011Registers {
        (0x000 => data: ReadWrite<u32, Data::Register>),
        (0x004 => _reserved0),
        (0x018 => flags: ReadOnly<u32, Flags::Register>),
        (0x01c => _reserved1),
        (0x02c => line_control: ReadWrite<u32, LineControl::Register>),
        (0x030 => control: ReadWrite<u32, Control::Register>),
        (0x034 => fifo_levels: ReadWrite<u32, FifoLevels::Register>),
        (0x038 => interrupt_mask: ReadWrite<u32, Interrupts::Register>),
        (0x03c => _reserved2),
        (0x044 => interrupt_clear: WriteOnly<u32, Interrupts::Register>),
        (0x048 => @END),
    }
}

/// Bound on polling a full transmit FIFO for one byte (the UART is local
/// hardware, but a wedged device must not hang the kernel).
const TRANSMIT_SPIN_LIMIT: u32 = 1_000_000;

/// Bound on waiting for the UART to finish sending before it is
/// reconfigured.
const IDLE_SPIN_LIMIT: u32 = 1_000_000;

/// Bytes of received input the driver keeps for a busy client.
pub const RECEIVE_RING_CAPACITY: usize = 256;

/// Most bytes one receive interrupt moves from the FIFO into the ring.
pub const RECEIVE_BURST: usize = 64;

/// Writes bytes to the PL011 at `base`, polling the FIFO. Used by the logger
/// and the panic path, which cannot wait for the main loop.
pub fn write_bytes_polled(base: usize, bytes: &[u8]) {
    let registers = registers_at(base);
    for byte in bytes {
        let mut spins = 0;
        while registers.flags.is_set(Flags::TransmitFifoFull) && spins < TRANSMIT_SPIN_LIMIT {
            spins += 1;
        }
        registers.data.set(*byte as u32);
    }
}

/// The registers of the PL011 at `base`.
fn registers_at(base: usize) -> &'static Pl011Registers {
    // SAFETY: `base` is the address of a PL011 from the chip's memory map,
    // device memory in the identity map, and the register block is only
    // accessed through `tock-registers` volatile cells.
    unsafe { &*(base as *const Pl011Registers) }
}

/// A PL011 driver implementing the transmit and receive HILs.
pub struct Pl011<'a> {
    base: usize,
    transmit_client: OptionalCell<&'a dyn TransmitClient>,
    transmit_buffer: TakeCell<'static, [u8]>,
    transmit_length: Cell<usize>,
    receive_client: OptionalCell<&'a dyn ReceiveClient>,
    receive_buffer: TakeCell<'static, [u8]>,
    receive_length: Cell<usize>,
    /// Received bytes no client has taken yet (borrowed only inside this
    /// driver's methods, never across a call to the client).
    ring: RefCell<Deque<u8, RECEIVE_RING_CAPACITY>>,
    /// What went wrong since the last delivery.
    receive_errors: Cell<ReceiveErrors>,
    /// Whether a client has asked to receive (the interrupts are on).
    receiving: Cell<bool>,
    /// Whether the receive interrupts are masked because the ring is full.
    paused: Cell<bool>,
    deferred_call: DeferredCall,
}

impl<'a> Pl011<'a> {
    /// The PL011 at `base` (from the chip's memory map).
    pub fn new(base: usize) -> Self {
        Pl011 {
            base,
            transmit_client: OptionalCell::empty(),
            transmit_buffer: TakeCell::empty(),
            transmit_length: Cell::new(0),
            receive_client: OptionalCell::empty(),
            receive_buffer: TakeCell::empty(),
            receive_length: Cell::new(0),
            ring: RefCell::new(Deque::new()),
            receive_errors: Cell::new(ReceiveErrors::NONE),
            receiving: Cell::new(false),
            paused: Cell::new(false),
            deferred_call: DeferredCall::new(),
        }
    }

    fn registers(&self) -> &'static Pl011Registers {
        registers_at(self.base)
    }

    /// Turns the FIFOs on if firmware left them off (8-bit words; the baud
    /// rate is left as it is) and enables the UART for transmit and
    /// receive. Receive interrupts stay off until a client receives.
    pub fn initialise(&self) {
        let registers = self.registers();
        if !registers.line_control.is_set(LineControl::FifoEnable) {
            // The line control register may only change while the UART is
            // disabled and idle.
            let mut spins = 0;
            while registers.flags.is_set(Flags::Busy) && spins < IDLE_SPIN_LIMIT {
                spins += 1;
            }
            registers.control.set(0);
            registers
                .line_control
                .write(LineControl::FifoEnable::SET + LineControl::WordLength::Eight);
        }
        registers.fifo_levels.modify(FifoLevels::Receive.val(0));
        registers.control.write(
            Control::Enable::SET + Control::TransmitEnable::SET + Control::ReceiveEnable::SET,
        );
    }

    /// Writes bytes synchronously.
    pub fn write_bytes(&self, bytes: &[u8]) {
        write_bytes_polled(self.base, bytes);
    }

    /// Handles the UART's interrupt: moves received bytes into the ring and
    /// hands them to the client. Called by the chip's interrupt dispatch,
    /// from the main loop.
    pub fn handle_interrupt(&self) {
        let registers = self.registers();
        let mut errors = self.receive_errors.get();
        for _ in 0..RECEIVE_BURST {
            if registers.flags.is_set(Flags::ReceiveFifoEmpty) {
                break;
            }
            if self.ring.borrow().is_full() {
                self.pause();
                break;
            }
            let word = registers.data.extract();
            if word.is_set(Data::OverrunError) {
                // The FIFO was full and input was lost after this byte,
                // which itself is good.
                errors.overruns = errors.overruns.saturating_add(1);
            }
            if word.is_set(Data::FramingError)
                || word.is_set(Data::ParityError)
                || word.is_set(Data::BreakError)
            {
                errors.garbled = errors.garbled.saturating_add(1);
                continue;
            }
            // Checked above: the ring has room.
            let _ = self
                .ring
                .borrow_mut()
                .push_back(word.read(Data::Byte) as u8);
        }
        self.receive_errors.set(errors);
        // The receive interrupts clear themselves as the FIFO is read below
        // its level; clearing them here would lose the interrupt for bytes
        // still in the FIFO (QEMU raises it again only when the FIFO fills
        // from empty). Only the error interrupts, which the driver does not
        // enable, are cleared.
        registers.interrupt_clear.write(
            Interrupts::FramingError::SET
                + Interrupts::ParityError::SET
                + Interrupts::BreakError::SET
                + Interrupts::OverrunError::SET,
        );
        self.deliver();
    }

    /// Masks the receive interrupts: the ring is full.
    fn pause(&self) {
        if !self.paused.replace(true) {
            defmt::debug!("pl011: receive ring full; input waits in the FIFO");
            self.registers()
                .interrupt_mask
                .modify(Interrupts::Receive::CLEAR + Interrupts::ReceiveTimeout::CLEAR);
        }
    }

    /// Unmasks the receive interrupts (also how receiving starts).
    fn resume(&self) {
        self.paused.set(false);
        self.registers()
            .interrupt_mask
            .modify(Interrupts::Receive::SET + Interrupts::ReceiveTimeout::SET);
    }

    /// Gives the client what the ring holds, if it is waiting for input.
    fn deliver(&self) {
        if self.ring.borrow().is_empty() {
            return;
        }
        let Some(buffer) = self.receive_buffer.take() else {
            return;
        };
        let wanted = self.receive_length.get().min(buffer.len());
        let mut length = 0;
        {
            let mut ring = self.ring.borrow_mut();
            while length < wanted {
                let Some(byte) = ring.pop_front() else {
                    break;
                };
                buffer[length] = byte;
                length += 1;
            }
        }
        let errors = self.receive_errors.replace(ReceiveErrors::NONE);
        if self.paused.get() {
            self.resume();
        }
        self.receive_client
            .map(|client| client.received_buffer(buffer, length, Ok(()), errors));
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

impl<'a> Receive<'a> for Pl011<'a> {
    fn set_receive_client(&self, client: &'a dyn ReceiveClient) {
        self.receive_client.set(client);
    }

    fn receive_buffer(
        &self,
        buffer: &'static mut [u8],
        length: usize,
    ) -> Result<(), (ErrorCode, &'static mut [u8])> {
        if self.receive_buffer.is_some() {
            return Err((ErrorCode::BUSY, buffer));
        }
        if length == 0 || length > buffer.len() {
            return Err((ErrorCode::SIZE, buffer));
        }
        self.receive_length.set(length);
        self.receive_buffer.replace(buffer);
        if !self.receiving.replace(true) {
            self.resume();
        }
        if !self.ring.borrow().is_empty() {
            // Input is already here: hand it over from the main loop, never
            // from inside this call.
            self.deferred_call.set();
        }
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
        self.deliver();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}
