//! `struct optee_msg_arg` in the shared argument page: where each call's
//! struct and its RPC struct lie, writing a call, and reading back what
//! OP-TEE wrote — every field checked, every read inside the page.
//!
//! The page is cut into entries, one per call slot, as Linux cuts its
//! argument pages when OP-TEE grants `ARG_OFFSET`: a call's struct with
//! room for [`MAXIMUM_PARAMETERS`] parameters, then the RPC struct OP-TEE
//! writes right after it, with room for the parameters OP-TEE asked the
//! driver to reserve. Without `ARG_OFFSET` only the entry at offset 0 is
//! used.
//!
//! OP-TEE (or whatever answers in its place) may write anything into the
//! page; [`read_result`] and [`read_rpc`] never read outside it, never
//! panic, and refuse a struct whose shape changed ([`MessageError`]).

use ffa_abi::optee::message::{
    self, Header, RawParameter, HEADER_SIZE, MAXIMUM_PARAMETERS, PARAMETER_SIZE,
};
use ffa_abi::optee::TeeResult;
use kernel::ErrorCode;

use crate::abi::MAXIMUM_RPC_PARAMETERS;

/// Bytes the driver reads and writes by offset: the shared argument page.
pub trait Bytes {
    /// Copies `destination.len()` bytes from `offset`.
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode>;
    /// Copies `source` to `offset`.
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode>;
}

impl Bytes for capsule_ffa::memory::Shared<'_> {
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        capsule_ffa::memory::Shared::read(self, offset, destination)
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        capsule_ffa::memory::Shared::write(self, offset, source)
    }
}

/// Why a struct OP-TEE wrote was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MessageError {
    /// The struct does not fit in the page.
    OutOfBounds,
    /// `num_params` is not what the driver sent (or, in an RPC, more than reserved).
    ParameterCount(u32),
    /// A parameter's type changed (its index).
    ParameterType(u8),
}

/// Where the call slots' structs lie in the argument page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ArgumentLayout {
    /// Bytes per entry: a call struct and its RPC struct.
    pub entry_size: usize,
    /// Parameters OP-TEE may put in an RPC struct.
    pub rpc_parameters: usize,
    /// Entries in use (1 without `ARG_OFFSET`).
    pub entries: usize,
}

impl ArgumentLayout {
    /// The layout of a `page_size`-byte page for OP-TEE's `rpc_parameters`,
    /// with `arg_offset` (several entries) or not, at most `slots` entries.
    pub fn new(
        page_size: usize,
        rpc_parameters: u8,
        arg_offset: bool,
        slots: usize,
    ) -> ArgumentLayout {
        let rpc_parameters = usize::from(rpc_parameters).min(MAXIMUM_RPC_PARAMETERS as usize);
        // Entries stay 8-byte aligned, as the structs need.
        let entry_size =
            (message::size(MAXIMUM_PARAMETERS) + message::size(rpc_parameters)).next_multiple_of(8);
        let fit = page_size / entry_size;
        let entries = if arg_offset {
            fit.min(slots)
        } else {
            fit.min(1)
        };
        ArgumentLayout {
            entry_size,
            rpc_parameters,
            entries,
        }
    }

    /// The offset of entry `slot`'s call struct.
    pub const fn offset(&self, slot: usize) -> usize {
        slot * self.entry_size
    }
}

/// A call's struct as the driver writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The header (`num_params` is set from `count`).
    pub header: Header,
    /// The parameters.
    pub parameters: [RawParameter; MAXIMUM_PARAMETERS],
    /// How many parameters there are.
    pub count: usize,
}

impl Outgoing {
    /// Where the RPC struct of this call lies when it sits at `offset`.
    pub const fn rpc_offset(&self, offset: usize) -> usize {
        message::rpc_offset(offset, self.count)
    }
}

/// Writes `call` at `offset`, clearing the RPC struct that follows it.
pub fn write_call(
    bytes: &dyn Bytes,
    offset: usize,
    call: &Outgoing,
    layout: &ArgumentLayout,
) -> Result<(), ErrorCode> {
    let count = call.count.min(MAXIMUM_PARAMETERS);
    let header = Header {
        num_params: count as u32,
        ..call.header
    };
    let mut area =
        [0u8; message::size(MAXIMUM_PARAMETERS) + message::size(MAXIMUM_RPC_PARAMETERS as usize)];
    let used = message::size(count) + message::size(layout.rpc_parameters);
    area[..HEADER_SIZE].copy_from_slice(&header.encode());
    for (index, parameter) in call.parameters[..count].iter().enumerate() {
        let at = message::size(index);
        area[at..at + PARAMETER_SIZE].copy_from_slice(&parameter.encode());
    }
    bytes.write(offset, &area[..used.min(area.len())])
}

/// What OP-TEE wrote back into a call's struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// `ret`.
    pub result: TeeResult,
    /// `ret_origin`.
    pub origin: u32,
    /// `session` (open session's new session).
    pub session: u32,
    /// The parameters, as OP-TEE left them.
    pub parameters: [RawParameter; MAXIMUM_PARAMETERS],
}

fn read_header(bytes: &dyn Bytes, offset: usize) -> Result<Header, MessageError> {
    let mut raw = [0u8; HEADER_SIZE];
    bytes
        .read(offset, &mut raw)
        .map_err(|_| MessageError::OutOfBounds)?;
    Ok(Header::decode(&raw))
}

fn read_parameter(bytes: &dyn Bytes, offset: usize) -> Result<RawParameter, MessageError> {
    let mut raw = [0u8; PARAMETER_SIZE];
    bytes
        .read(offset, &mut raw)
        .map_err(|_| MessageError::OutOfBounds)?;
    Ok(RawParameter::decode(&raw))
}

/// Reads the results of `sent` at `offset`: the same parameter count and
/// types, or a [`MessageError`].
pub fn read_result(
    bytes: &dyn Bytes,
    offset: usize,
    sent: &Outgoing,
) -> Result<Incoming, MessageError> {
    let header = read_header(bytes, offset)?;
    if header.num_params as usize != sent.count {
        return Err(MessageError::ParameterCount(header.num_params));
    }
    let mut parameters = [RawParameter::default(); MAXIMUM_PARAMETERS];
    for (index, parameter) in parameters.iter_mut().enumerate().take(sent.count) {
        let read = read_parameter(bytes, offset + message::size(index))?;
        if read.attribute != sent.parameters[index].attribute {
            return Err(MessageError::ParameterType(index as u8));
        }
        *parameter = read;
    }
    Ok(Incoming {
        result: TeeResult(header.ret),
        origin: header.ret_origin,
        session: header.session,
        parameters,
    })
}

/// An RPC request OP-TEE wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcRequest {
    /// The RPC command ([`ffa_abi::optee::rpc`]).
    pub command: u32,
    /// Its parameters.
    pub parameters: [RawParameter; MAXIMUM_RPC_PARAMETERS as usize],
    /// How many.
    pub count: usize,
}

/// Reads the RPC struct at `offset`, whose parameters may number at most `reserved`.
pub fn read_rpc(
    bytes: &dyn Bytes,
    offset: usize,
    reserved: usize,
) -> Result<RpcRequest, MessageError> {
    let header = read_header(bytes, offset)?;
    let count = header.num_params as usize;
    if count > reserved.min(MAXIMUM_RPC_PARAMETERS as usize) {
        return Err(MessageError::ParameterCount(header.num_params));
    }
    let mut parameters = [RawParameter::default(); MAXIMUM_RPC_PARAMETERS as usize];
    for (index, parameter) in parameters.iter_mut().enumerate().take(count) {
        *parameter = read_parameter(bytes, offset + message::size(index))?;
    }
    Ok(RpcRequest {
        command: header.cmd,
        parameters,
        count,
    })
}

/// Writes the answer to an RPC at `offset`: its result and origin, and
/// the parameters the driver filled in (`count` of them, the count OP-TEE gave).
pub fn write_rpc_answer(
    bytes: &dyn Bytes,
    offset: usize,
    result: TeeResult,
    origin: u32,
    parameters: &[RawParameter],
) -> Result<(), ErrorCode> {
    bytes.write(offset + message::RET, &result.0.to_le_bytes())?;
    bytes.write(offset + message::RET_ORIGIN, &origin.to_le_bytes())?;
    for (index, parameter) in parameters.iter().enumerate() {
        bytes.write(offset + message::size(index), &parameter.encode())?;
    }
    Ok(())
}
