//! Direct messaging: `FFA_MSG_SEND_DIRECT_REQ` (32/64-bit) and `FFA_MSG_SEND_DIRECT_REQ2`.
//!
//! A request goes to one partition and the call returns its response. On the
//! way, the callee may be preempted (`FFA_INTERRUPT`) or yield (`FFA_YIELD`):
//! the partition they name is resumed with `FFA_RUN` up to a bounded number
//! of times.
//! `BUSY` and `RETRY` re-send the request a bounded number of times. The
//! response must come from the partition that was asked and be addressed to
//! this endpoint; anything else is an error.
//!
//! The payload types fix the width: a [`DirectMessage32`] can only carry
//! 32-bit words, so a 64-bit value cannot be silently truncated.
//!
//! ```compile_fail,E0308
//! use capsule_ffa::messaging::DirectMessage32;
//! let message = DirectMessage32::new([0x1_0000_0000u64, 0, 0, 0, 0]); // error: expected u32
//! ```

use crate::conduit::{FfaConduit, Reply, ReplyRegisters, Request};
use crate::error::ClientError;
use ffa_abi::{CallWidth, FunctionId};
use ffa_abi::{PartitionId, Status};

use ffa_abi::Uuid;

/// How often to retry and resume; chosen by the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct RetryPolicy {
    /// Times a request answered `BUSY` or `RETRY` is sent again.
    pub busy_retries: u16,
    /// Times a preempted or yielded partition is resumed with `FFA_RUN`.
    pub resumptions: u16,
}

impl RetryPolicy {
    /// A few retries and resumptions, suitable for boot-time requests.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        busy_retries: 8,
        resumptions: 32,
    };
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy::DEFAULT
    }
}

/// The payload of a 32-bit direct message: w3–w7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, defmt::Format)]
pub struct DirectMessage32 {
    /// w3 to w7.
    pub payload: [u32; 5],
}

impl DirectMessage32 {
    /// A message carrying `payload` in w3–w7.
    pub const fn new(payload: [u32; 5]) -> DirectMessage32 {
        DirectMessage32 { payload }
    }
}

/// The payload of a 64-bit direct message: x3–x7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, defmt::Format)]
pub struct DirectMessage64 {
    /// x3 to x7.
    pub payload: [u64; 5],
}

impl DirectMessage64 {
    /// A message carrying `payload` in x3–x7.
    pub const fn new(payload: [u64; 5]) -> DirectMessage64 {
        DirectMessage64 { payload }
    }
}

/// The payload of a `DIRECT_REQ2`/`DIRECT_RESP2` message: x4–x17.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, defmt::Format)]
pub struct DirectMessage2 {
    /// x4 to x17.
    pub payload: [u64; 14],
}

impl DirectMessage2 {
    /// A message carrying `payload` in x4–x17.
    pub const fn new(payload: [u64; 14]) -> DirectMessage2 {
        DirectMessage2 { payload }
    }
}

/// w1 of a direct message: sender in `[31:16]`, receiver in `[15:0]`.
pub const fn endpoints(sender: PartitionId, receiver: PartitionId) -> u64 {
    (((sender.raw() as u32) << 16) | receiver.raw() as u32) as u64
}

mod sealed {
    /// Only this module's message types are direct messages.
    pub trait Sealed {}
}

/// A direct message type: how it travels in registers, one way and back.
///
/// Implemented by [`DirectMessage32`] (`FFA_MSG_SEND_DIRECT_REQ_32`/`RESP_32`),
/// [`DirectMessage64`] (`_64`) and [`DirectMessage2`] (`REQ2`/`RESP2`);
/// [`direct_request`] sends any of them.
pub trait DirectMessage: sealed::Sealed + Copy + PartialEq {
    /// The request's function ID.
    const REQUEST: FunctionId;

    /// The registers of the request from `sender` to `receiver`. `service`
    /// is the UUID a `REQ2` addresses; `DIRECT_REQ` carries none and
    /// ignores it.
    fn encode(&self, sender: PartitionId, receiver: PartitionId, service: Uuid) -> Request;

    /// The message a response of this kind carries.
    fn decode(registers: &ReplyRegisters) -> Self;
}

impl sealed::Sealed for DirectMessage32 {}
impl sealed::Sealed for DirectMessage64 {}
impl sealed::Sealed for DirectMessage2 {}

/// The registers of a `DIRECT_REQ` (32- or 64-bit): endpoints in w1, w2
/// zero, the payload in x3–x7.
fn direct_request_registers(
    function: FunctionId,
    sender: PartitionId,
    receiver: PartitionId,
    payload: [u64; 5],
) -> Request {
    let mut arguments = [0u64; 7];
    arguments[0] = endpoints(sender, receiver);
    arguments[2..].copy_from_slice(&payload);
    Request::with_arguments(function, &arguments)
}

impl DirectMessage for DirectMessage32 {
    const REQUEST: FunctionId = FunctionId::DirectRequest32;

    fn encode(&self, sender: PartitionId, receiver: PartitionId, _service: Uuid) -> Request {
        let [a, b, c, d, e] = self.payload;
        let payload = [a as u64, b as u64, c as u64, d as u64, e as u64];
        direct_request_registers(Self::REQUEST, sender, receiver, payload)
    }

    fn decode(registers: &ReplyRegisters) -> Self {
        let x = &registers.raw().x;
        DirectMessage32::new([
            x[3] as u32,
            x[4] as u32,
            x[5] as u32,
            x[6] as u32,
            x[7] as u32,
        ])
    }
}

impl DirectMessage for DirectMessage64 {
    const REQUEST: FunctionId = FunctionId::DirectRequest64;

    fn encode(&self, sender: PartitionId, receiver: PartitionId, _service: Uuid) -> Request {
        direct_request_registers(Self::REQUEST, sender, receiver, self.payload)
    }

    fn decode(registers: &ReplyRegisters) -> Self {
        let x = &registers.raw().x;
        DirectMessage64::new([x[3], x[4], x[5], x[6], x[7]])
    }
}

impl DirectMessage for DirectMessage2 {
    const REQUEST: FunctionId = FunctionId::DirectRequest2;

    fn encode(&self, sender: PartitionId, receiver: PartitionId, service: Uuid) -> Request {
        let uuid_registers = service.to_register_pair();
        let mut arguments = [0u64; 17];
        arguments[0] = endpoints(sender, receiver);
        arguments[1] = uuid_registers[0];
        arguments[2] = uuid_registers[1];
        arguments[3..].copy_from_slice(&self.payload);
        Request::with_arguments(Self::REQUEST, &arguments)
    }

    fn decode(registers: &ReplyRegisters) -> Self {
        DirectMessage2::new(core::array::from_fn(|index| registers.register(4 + index)))
    }
}

/// Which response a request expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
enum Expected {
    Response(CallWidth),
    Response2,
}

impl Expected {
    /// The response to `request`.
    const fn to(request: FunctionId) -> Expected {
        match request {
            FunctionId::DirectRequest2 => Expected::Response2,
            other => Expected::Response(other.width()),
        }
    }
}

/// Checks w1 of a response: from `receiver` to `sender`.
fn check_endpoints(
    registers: &ReplyRegisters,
    sender: PartitionId,
    receiver: PartitionId,
) -> Result<(), ClientError> {
    let w1 = registers.word(1);
    let source = PartitionId::new((w1 >> 16) as u16);
    let destination = PartitionId::new(w1 as u16);
    if source != receiver {
        return Err(wrong_endpoint("from", source, receiver));
    }
    if destination != sender {
        return Err(wrong_endpoint("addressed to", destination, sender));
    }
    Ok(())
}

/// Logs a response's wrong endpoint (`which`: "from" or "addressed to").
#[cold]
#[inline(never)]
fn wrong_endpoint(which: &'static str, actual: PartitionId, expected: PartitionId) -> ClientError {
    defmt::error!(
        "ffa: response {=str} {=u16:#06x}, expected {=u16:#06x}",
        which,
        actual.raw(),
        expected.raw()
    );
    ClientError::WrongResponder { expected, actual }
}

/// w1 of the `FFA_RUN` that resumes after `FFA_INTERRUPT`/`FFA_YIELD`
/// `registers`: the endpoint and vCPU they name (`[31:16]`, `[15:0]`), which
/// may be another partition than `receiver` (one it called, on its behalf),
/// as Linux passes w1 back; `receiver` if they name none (endpoint 0).
fn run_target(registers: &ReplyRegisters, receiver: PartitionId) -> u64 {
    let target = registers.word(1);
    if target >> 16 == 0 {
        ((u32::from(receiver.raw()) << 16) | (target & 0xffff)) as u64
    } else {
        target as u64
    }
}

/// Sends `request` and drives it to the expected response under `policy`.
fn exchange(
    conduit: &FfaConduit<'_>,
    policy: &RetryPolicy,
    request: &Request,
    sender: PartitionId,
    receiver: PartitionId,
    expected: Expected,
) -> Result<ReplyRegisters, ClientError> {
    let mut retries_left = policy.busy_retries;
    let mut resumptions_left = policy.resumptions;
    // The request, or FFA_RUN once the partition was preempted.
    let mut resume: Option<Request> = None;
    // Every iteration uses up a retry or a resumption, or returns.
    let bound = policy.busy_retries as u32 + policy.resumptions as u32 + 1;
    for _ in 0..bound {
        match conduit.call(resume.as_ref().unwrap_or(request)) {
            Ok(Reply::DirectResponse(width, registers))
                if expected == Expected::Response(width) =>
            {
                check_endpoints(&registers, sender, receiver)?;
                if registers.word(2) & 0x8000_0000 != 0 {
                    defmt::error!("ffa: framework message where a partition response was due");
                    return Err(ClientError::MalformedReply);
                }
                return Ok(registers);
            }
            Ok(Reply::DirectResponse2(registers)) if expected == Expected::Response2 => {
                check_endpoints(&registers, sender, receiver)?;
                return Ok(registers);
            }
            Ok(Reply::Interrupt(registers)) | Ok(Reply::Yield(registers)) => {
                if resumptions_left == 0 {
                    defmt::error!(
                        "ffa: partition {=u16:#06x} still preempted after {=u16} resumptions",
                        receiver.raw(),
                        policy.resumptions
                    );
                    return Err(ClientError::ResumptionsExhausted);
                }
                resumptions_left -= 1;
                resume =
                    Some(Request::new(FunctionId::Run).with(1, run_target(&registers, receiver)));
            }
            Err(ClientError::Status(status @ (Status::Busy | Status::Retry))) => {
                if retries_left == 0 {
                    defmt::error!(
                        "ffa: partition {=u16:#06x} still {} after {=u16} retries",
                        receiver.raw(),
                        status,
                        policy.busy_retries
                    );
                    return Err(ClientError::RetriesExhausted);
                }
                retries_left -= 1;
            }
            Ok(other) => {
                let w0 = other.registers().word(0);
                defmt::error!("ffa: unexpected reply {=u32:#010x} to a direct request", w0);
                return Err(ClientError::UnexpectedFunction(w0));
            }
            Err(error) => {
                defmt::warn!(
                    "ffa: direct request to {=u16:#06x} failed: {}",
                    receiver.raw(),
                    error
                );
                return Err(error);
            }
        }
    }
    Err(ClientError::RetriesExhausted)
}

/// Sends `message` from `sender` to `receiver` (to its service `service`,
/// for a `REQ2`) and returns the response's message, driving preemption,
/// `BUSY` and `RETRY` under `policy`.
pub fn direct_request<M: DirectMessage>(
    conduit: &FfaConduit<'_>,
    policy: &RetryPolicy,
    sender: PartitionId,
    receiver: PartitionId,
    service: Uuid,
    message: &M,
) -> Result<M, ClientError> {
    direct_request_reply(conduit, policy, sender, receiver, service, message)
        .map(|registers| M::decode(&registers))
}

/// [`direct_request`], returning every register of the checked response
/// (for tools that show them: the console's `ffa send`).
pub fn direct_request_reply<M: DirectMessage>(
    conduit: &FfaConduit<'_>,
    policy: &RetryPolicy,
    sender: PartitionId,
    receiver: PartitionId,
    service: Uuid,
    message: &M,
) -> Result<ReplyRegisters, ClientError> {
    let request = message.encode(sender, receiver, service);
    let expected = Expected::to(M::REQUEST);
    exchange(conduit, policy, &request, sender, receiver, expected)
}
