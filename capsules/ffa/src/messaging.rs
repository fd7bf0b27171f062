//! Direct messaging: `FFA_MSG_SEND_DIRECT_REQ` (32/64-bit) and `FFA_MSG_SEND_DIRECT_REQ2`.
//!
//! A request goes to one partition and its response comes back. On the
//! way, the callee may be preempted (`FFA_INTERRUPT`: an interrupt of this
//! world is pending) or yield (`FFA_YIELD`, with a timeout hint): the
//! partition they name is resumed with `FFA_RUN` ([`RunTarget`], whose vCPU
//! is the core the request is made from, [`Vcpu`]) up to a bounded number
//! of times. `BUSY` and `RETRY` re-send the request a bounded number of
//! times, after a [`Backoff`]. The response must come from the partition
//! that was asked and be addressed to this endpoint; anything else is an
//! error.
//!
//! [`Exchange`] is that state machine, free of time and of the main loop:
//! it reads one reply and says what comes [`Next`]. The split-phase engine
//! (`crate::requests`) returns to the main loop after `FFA_INTERRUPT` and
//! waits on the alarm after `FFA_YIELD` and `BUSY`; the blocking
//! [`direct_request`] does the same steps at once.
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
use ffa_abi::function;
use ffa_abi::{CallWidth, FunctionId};
use kernel::hil::smccc::SmcccRegisters;

use ffa_abi::{PartitionId, Status};

use ffa_abi::Uuid;

/// How long to wait before sending a request again after `BUSY` or
/// `RETRY`: `first_us` after the first, doubling each time, at most
/// `maximum_us`. Chosen by the board.
///
/// ```
/// use capsule_ffa::messaging::Backoff;
///
/// let backoff = Backoff { first_us: 100, maximum_us: 1_000 };
/// assert_eq!(backoff.delay_us(0), 100);
/// assert_eq!(backoff.delay_us(2), 400);
/// assert_eq!(backoff.delay_us(9), 1_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Backoff {
    /// Wait after the first refusal, in microseconds.
    pub first_us: u32,
    /// Longest wait, in microseconds.
    pub maximum_us: u32,
}

impl Backoff {
    /// 100 µs, doubling up to 10 ms.
    pub const DEFAULT: Backoff = Backoff {
        first_us: 100,
        maximum_us: 10_000,
    };

    /// The wait before retry number `attempt` (0 for the first).
    pub const fn delay_us(&self, attempt: u16) -> u64 {
        let shift = if attempt > 20 { 20 } else { attempt as u32 };
        let delay = (self.first_us as u64) << shift;
        if delay > self.maximum_us as u64 {
            self.maximum_us as u64
        } else {
            delay
        }
    }
}

/// How often to retry and resume, and how long to wait; chosen by the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct RetryPolicy {
    /// Times a request (or a set-up step) answered `BUSY` or `RETRY` is made again.
    pub busy_retries: u16,
    /// Times a preempted or yielded partition is resumed with `FFA_RUN`.
    pub resumptions: u16,
    /// How long to wait before making a refused call again (split-phase
    /// requests and set-up; the blocking helper retries at once).
    pub backoff: Backoff,
    /// How long to let a partition that yields without a timeout (0) wait
    /// before `FFA_RUN`, in microseconds.
    pub yield_default_us: u32,
}

impl RetryPolicy {
    /// A few retries and resumptions, suitable for boot-time requests.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        busy_retries: 8,
        resumptions: 32,
        backoff: Backoff::DEFAULT,
        yield_default_us: 1_000,
    };
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy::DEFAULT
    }
}

/// The execution context (vCPU) a request runs on: the index of the core
/// it is made from. `FFA_RUN` names it when the partition's answer does
/// not (Hafnium requires the caller's core index for a multi-context
/// partition; a single-context one takes 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Vcpu(pub u16);

impl Vcpu {
    /// The boot core.
    pub const BOOT: Vcpu = Vcpu(0);
}

/// What `FFA_RUN` resumes: an endpoint and one of its execution contexts
/// (w1 = endpoint `[31:16]` | vCPU `[15:0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct RunTarget {
    /// The partition to run.
    pub endpoint: PartitionId,
    /// Its execution context.
    pub vcpu: u16,
}

impl RunTarget {
    /// The target an `FFA_INTERRUPT`/`FFA_YIELD` reply names in w1: the
    /// endpoint and vCPU it gives, which may be another partition than
    /// `receiver` (one it called on its behalf) and which w1 must carry back
    /// unchanged (OP-TEE reads the vCPU field as its thread); `receiver` on
    /// `vcpu` if it names no endpoint.
    pub fn named_by(registers: &ReplyRegisters, receiver: PartitionId, vcpu: Vcpu) -> RunTarget {
        let target = registers.word(1);
        match (target >> 16) as u16 {
            0 => RunTarget {
                endpoint: receiver,
                vcpu: vcpu.0,
            },
            endpoint => RunTarget {
                endpoint: PartitionId::new(endpoint),
                vcpu: target as u16,
            },
        }
    }

    /// w1 of `FFA_RUN`.
    pub const fn word(&self) -> u64 {
        ((self.endpoint.raw() as u32) << 16 | self.vcpu as u32) as u64
    }

    /// The `FFA_RUN` call.
    pub fn request(&self) -> Request {
        Request::new(FunctionId::Run).with(1, self.word())
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
    fn decode(registers: &ReplyRegisters) -> Self {
        Self::from_response(registers.raw())
    }

    /// The message in the registers of a response of this kind, which the
    /// caller checked (as [`Exchange::is_plain_response`] does).
    fn from_response(registers: &SmcccRegisters) -> Self;

    /// The message as one of any kind.
    fn into_any(self) -> AnyDirectMessage;

    /// The message, if `any` is of this kind.
    fn from_any(any: AnyDirectMessage) -> Option<Self>;
}

/// A direct message of any kind: what a split-phase response carries
/// (`crate::requests`), turned back into its kind with
/// [`DirectMessage::from_any`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum AnyDirectMessage {
    /// A 32-bit `DIRECT_REQ`/`RESP` message.
    Bits32(DirectMessage32),
    /// A 64-bit `DIRECT_REQ`/`RESP` message.
    Bits64(DirectMessage64),
    /// A `REQ2`/`RESP2` message.
    Two(DirectMessage2),
}

impl AnyDirectMessage {
    /// The message a response to a request of function `request` carries.
    pub fn decode(request: FunctionId, registers: &ReplyRegisters) -> AnyDirectMessage {
        match request {
            FunctionId::DirectRequest2 => AnyDirectMessage::Two(DirectMessage2::decode(registers)),
            FunctionId::DirectRequest64 => {
                AnyDirectMessage::Bits64(DirectMessage64::decode(registers))
            }
            _ => AnyDirectMessage::Bits32(DirectMessage32::decode(registers)),
        }
    }
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

    fn from_response(registers: &SmcccRegisters) -> Self {
        let x = &registers.x;
        DirectMessage32::new([
            x[3] as u32,
            x[4] as u32,
            x[5] as u32,
            x[6] as u32,
            x[7] as u32,
        ])
    }

    fn into_any(self) -> AnyDirectMessage {
        AnyDirectMessage::Bits32(self)
    }

    fn from_any(any: AnyDirectMessage) -> Option<Self> {
        match any {
            AnyDirectMessage::Bits32(message) => Some(message),
            _ => None,
        }
    }
}

impl DirectMessage for DirectMessage64 {
    const REQUEST: FunctionId = FunctionId::DirectRequest64;

    fn encode(&self, sender: PartitionId, receiver: PartitionId, _service: Uuid) -> Request {
        direct_request_registers(Self::REQUEST, sender, receiver, self.payload)
    }

    fn from_response(registers: &SmcccRegisters) -> Self {
        let x = &registers.x;
        DirectMessage64::new([x[3], x[4], x[5], x[6], x[7]])
    }

    fn into_any(self) -> AnyDirectMessage {
        AnyDirectMessage::Bits64(self)
    }

    fn from_any(any: AnyDirectMessage) -> Option<Self> {
        match any {
            AnyDirectMessage::Bits64(message) => Some(message),
            _ => None,
        }
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

    fn from_response(registers: &SmcccRegisters) -> Self {
        DirectMessage2::new(core::array::from_fn(|index| registers.x[4 + index]))
    }

    fn into_any(self) -> AnyDirectMessage {
        AnyDirectMessage::Two(self)
    }

    fn from_any(any: AnyDirectMessage) -> Option<Self> {
        match any {
            AnyDirectMessage::Two(message) => Some(message),
            _ => None,
        }
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

    /// The response's function ID (the table's constants, which need no
    /// inlining across crates to be folded into the check).
    const fn function_id(self) -> u32 {
        match self {
            Expected::Response(CallWidth::Bits32) => function::FFA_MSG_SEND_DIRECT_RESP_32,
            Expected::Response(CallWidth::Bits64) => function::FFA_MSG_SEND_DIRECT_RESP_64,
            Expected::Response2 => function::FFA_MSG_SEND_DIRECT_RESP2,
        }
    }
}

/// Whether `raw` is the `expected` response from `receiver` to `sender`,
/// and (for `DIRECT_RESP`) no framework message.
#[inline]
fn is_plain_response(
    expected: Expected,
    sender: PartitionId,
    receiver: PartitionId,
    raw: &SmcccRegisters,
) -> bool {
    let endpoints = u32::from(receiver.raw()) << 16 | u32::from(sender.raw());
    raw.x[0] as u32 == expected.function_id()
        && raw.x[1] as u32 == endpoints
        && (expected == Expected::Response2 || raw.x[2] as u32 & 0x8000_0000 == 0)
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

/// What a direct request needs next, once a reply came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// It is over: the response's registers, or why it failed.
    Done(Result<ReplyRegisters, ClientError>),
    /// `FFA_INTERRUPT`: an interrupt of this world is pending. Serve it
    /// (return to the main loop), then resume the target with `FFA_RUN`.
    ResumeAfterInterrupt(RunTarget),
    /// `FFA_YIELD`: resume the target with `FFA_RUN` after `timeout_ns`
    /// (w2/w3 of the yield; 0: whenever convenient).
    ResumeAfterYield {
        /// What to resume.
        target: RunTarget,
        /// The partition's hint, in nanoseconds.
        timeout_ns: u64,
    },
    /// `BUSY` or `RETRY`: send the request again after a back-off; this is
    /// retry number `attempt` (from 0).
    Resend {
        /// What the callee answered.
        status: Status,
        /// The retry's number.
        attempt: u16,
    },
}

/// One direct request's progress: which response it expects from whom,
/// and how many retries and resumptions it has left. Both the blocking
/// [`direct_request`] and the split-phase engine (`crate::requests`) feed
/// it every reply and do what [`Exchange::on_reply`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    sender: PartitionId,
    receiver: PartitionId,
    expected: Expected,
    vcpu: Vcpu,
    policy: RetryPolicy,
    retries: u16,
    resumptions: u16,
}

impl Exchange {
    /// A request of kind `M` from `sender` to `receiver`, made on `vcpu`, under `policy`.
    pub fn new<M: DirectMessage>(
        policy: &RetryPolicy,
        sender: PartitionId,
        receiver: PartitionId,
        vcpu: Vcpu,
    ) -> Exchange {
        Exchange {
            sender,
            receiver,
            expected: const { Expected::to(M::REQUEST) },
            vcpu,
            policy: *policy,
            retries: 0,
            resumptions: 0,
        }
    }

    /// The partition asked.
    pub fn receiver(&self) -> PartitionId {
        self.receiver
    }

    /// The policy it runs under.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Resumptions so far.
    pub fn resumptions(&self) -> u16 {
        self.resumptions
    }

    /// Retries so far.
    pub fn retries(&self) -> u16 {
        self.retries
    }

    /// The message of a response this exchange accepted.
    #[inline]
    pub fn response_message(&self, registers: &ReplyRegisters) -> AnyDirectMessage {
        self.message_in(registers.raw())
    }

    /// The message in `raw`, the registers of a response this exchange
    /// accepted ([`Exchange::is_plain_response`]), read in place rather
    /// than copied into a [`ReplyRegisters`] first.
    #[inline]
    pub(crate) fn message_in(&self, raw: &SmcccRegisters) -> AnyDirectMessage {
        match self.expected {
            Expected::Response(CallWidth::Bits32) => {
                AnyDirectMessage::Bits32(DirectMessage32::from_response(raw))
            }
            Expected::Response(CallWidth::Bits64) => {
                AnyDirectMessage::Bits64(DirectMessage64::from_response(raw))
            }
            Expected::Response2 => AnyDirectMessage::Two(DirectMessage2::from_response(raw)),
        }
    }

    /// Whether `raw` is the response due, as it most often is: the
    /// expected function ID, from the receiver to the sender, and (for
    /// `DIRECT_RESP`) no framework message. Then it needs no more decoding
    /// or checking ([`ReplyRegisters::checked`]); anything else goes
    /// through [`Exchange::on_reply`], which says what it is.
    #[inline]
    pub fn is_plain_response(&self, raw: &SmcccRegisters) -> bool {
        is_plain_response(self.expected, self.sender, self.receiver, raw)
    }

    /// Follows the raw reply to the request or to its last `FFA_RUN`: the
    /// fast path for the plain response, [`Exchange::on_reply`] otherwise.
    #[inline]
    pub fn on_raw_reply(&mut self, raw: SmcccRegisters) -> Next {
        if self.is_plain_response(&raw) {
            Next::Done(Ok(ReplyRegisters::checked(raw)))
        } else {
            self.on_reply(Reply::decode(&raw))
        }
    }

    /// Reads the reply to the request or to its last `FFA_RUN`, and says what comes next.
    #[inline]
    pub fn on_reply(&mut self, reply: Result<Reply, ClientError>) -> Next {
        match reply {
            Ok(Reply::DirectResponse(width, registers))
                if self.expected == Expected::Response(width) =>
            {
                Next::Done(self.check_response(registers, true))
            }
            Ok(Reply::DirectResponse2(registers)) if self.expected == Expected::Response2 => {
                Next::Done(self.check_response(registers, false))
            }
            other => self.on_other_reply(other),
        }
    }

    /// The endpoints of a response, and (for `DIRECT_RESP`) that it is no framework message.
    #[inline]
    fn check_response(
        &self,
        registers: ReplyRegisters,
        framework_bit: bool,
    ) -> Result<ReplyRegisters, ClientError> {
        check_endpoints(&registers, self.sender, self.receiver)?;
        if framework_bit && registers.word(2) & 0x8000_0000 != 0 {
            defmt::error!("ffa: framework message where a partition response was due");
            return Err(ClientError::MalformedReply);
        }
        Ok(registers)
    }

    /// Everything but the expected response.
    #[cold]
    #[inline(never)]
    fn on_other_reply(&mut self, reply: Result<Reply, ClientError>) -> Next {
        match reply {
            Ok(Reply::Interrupt(registers)) | Ok(Reply::Yield(registers)) => {
                if self.resumptions >= self.policy.resumptions {
                    defmt::error!(
                        "ffa: partition {=u16:#06x} still preempted after {=u16} resumptions",
                        self.receiver.raw(),
                        self.policy.resumptions
                    );
                    return Next::Done(Err(ClientError::ResumptionsExhausted));
                }
                self.resumptions += 1;
                let target = RunTarget::named_by(&registers, self.receiver, self.vcpu);
                if registers.word(0) == FunctionId::Interrupt.raw() {
                    Next::ResumeAfterInterrupt(target)
                } else {
                    let timeout_ns =
                        u64::from(registers.word(2)) | u64::from(registers.word(3)) << 32;
                    Next::ResumeAfterYield { target, timeout_ns }
                }
            }
            Err(ClientError::Status(status @ (Status::Busy | Status::Retry))) => {
                if self.retries >= self.policy.busy_retries {
                    defmt::error!(
                        "ffa: partition {=u16:#06x} still {} after {=u16} retries",
                        self.receiver.raw(),
                        status,
                        self.policy.busy_retries
                    );
                    return Next::Done(Err(ClientError::RetriesExhausted));
                }
                let attempt = self.retries;
                self.retries += 1;
                Next::Resend { status, attempt }
            }
            Ok(other) => {
                let w0 = other.registers().word(0);
                defmt::error!("ffa: unexpected reply {=u32:#010x} to a direct request", w0);
                Next::Done(Err(ClientError::UnexpectedFunction(w0)))
            }
            Err(error) => {
                defmt::warn!(
                    "ffa: direct request to {=u16:#06x} failed: {}",
                    self.receiver.raw(),
                    error
                );
                Next::Done(Err(error))
            }
        }
    }
}

/// Sends `message` from `sender` to `receiver` (to its service `service`,
/// for a `REQ2`) and returns the response's message: the blocking helper,
/// for boot-time and console use. It drives the same [`Exchange`] as the
/// split-phase engine, but without a main loop to return to: after
/// `FFA_INTERRUPT` or `FFA_YIELD` it resumes at once, after `BUSY`/`RETRY`
/// it sends again at once, within `policy`'s bounds. Prefer the
/// split-phase requests of `crate::requests` once the main loop runs.
pub fn direct_request<M: DirectMessage>(
    conduit: &FfaConduit<'_>,
    policy: &RetryPolicy,
    sender: PartitionId,
    receiver: PartitionId,
    service: Uuid,
    message: &M,
) -> Result<M, ClientError> {
    let request = message.encode(sender, receiver, service);
    let raw = conduit.call_raw(&request);
    // Fast path: the response to the request itself, checked as the
    // exchange would check it ([`Exchange::is_plain_response`]); the
    // exchange itself is only needed on the way to any other reply.
    if is_plain_response(const { Expected::to(M::REQUEST) }, sender, receiver, &raw) {
        return Ok(M::from_response(&raw));
    }
    // The message is read here, not in the continuation: the result is
    // then built in the caller's slot on both ways (returned from the
    // continuation, it was built in a temporary and copied, piecewise).
    direct_request_after::<M>(conduit, policy, sender, receiver, &request, &raw)
        .map(|registers| M::decode(&registers))
}

/// [`direct_request`] after a first reply that is not the plain response:
/// the exchange reads it and the blocking helper follows it.
#[cold]
#[inline(never)]
fn direct_request_after<M: DirectMessage>(
    conduit: &FfaConduit<'_>,
    policy: &RetryPolicy,
    sender: PartitionId,
    receiver: PartitionId,
    request: &Request,
    raw: &SmcccRegisters,
) -> Result<ReplyRegisters, ClientError> {
    let mut exchange = Exchange::new::<M>(policy, sender, receiver, Vcpu::BOOT);
    let next = exchange.on_reply(Reply::decode(raw));
    finish_blocking(conduit, &mut exchange, request, next)
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
    let mut exchange = Exchange::new::<M>(policy, sender, receiver, Vcpu::BOOT);
    let next = exchange.on_raw_reply(conduit.call_raw(&request));
    finish_blocking(conduit, &mut exchange, &request, next)
}

/// The blocking helper after the first reply: resumes after `FFA_INTERRUPT`
/// and `FFA_YIELD`, sends `request` again after `BUSY`/`RETRY`, at once,
/// until the exchange is done or its bounds are used up.
#[cold]
#[inline(never)]
fn finish_blocking(
    conduit: &FfaConduit<'_>,
    exchange: &mut Exchange,
    request: &Request,
    mut next: Next,
) -> Result<ReplyRegisters, ClientError> {
    // Every turn uses up a retry or a resumption, or ends.
    let policy = exchange.policy();
    let bound = u32::from(policy.busy_retries) + u32::from(policy.resumptions) + 1;
    for _ in 0..bound {
        let call = match next {
            Next::Done(result) => return result,
            Next::ResumeAfterInterrupt(target) | Next::ResumeAfterYield { target, .. } => {
                target.request()
            }
            Next::Resend { .. } => *request,
        };
        next = exchange.on_raw_reply(conduit.call_raw(&call));
    }
    match next {
        Next::Done(result) => result,
        _ => Err(ClientError::RetriesExhausted),
    }
}
