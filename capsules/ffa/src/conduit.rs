//! Typed FF-A calls over the raw SMCCC registers, and the decoding of every reply.
//!
//! [`FfaConduit`] wraps the board's [`SmcccConduit`]. A [`Request`] names its
//! [`FunctionId`] so the function ID is never a bare number at call sites;
//! the reply is decoded into a [`Reply`] whose function ID in w0 has been
//! checked. Anything else in x0 is an [`ClientError::UnexpectedFunction`], and
//! `FFA_ERROR` becomes [`ClientError::Status`].
//!
//! ```
//! use capsule_ffa::conduit::{FfaConduit, Reply, Request};
//! use ffa_abi::FunctionId;
//! use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
//!
//! struct AlwaysSuccess;
//! impl SmcccConduit for AlwaysSuccess {
//!     fn kind(&self) -> ConduitKind { ConduitKind::Smc }
//!     fn call(&self, _: &SmcccRegisters) -> SmcccRegisters {
//!         SmcccRegisters::from_slice(&[0x8400_0061, 0, 0x8001])
//!     }
//! }
//! let conduit = FfaConduit::new(&AlwaysSuccess);
//! let reply = conduit.call(&Request::new(FunctionId::IdGet)).unwrap();
//! assert!(matches!(reply, Reply::Success(registers) if registers.word(2) == 0x8001));
//! ```

use crate::error::ClientError;
use ffa_abi::{CallWidth, FunctionId, ReplyKind, Status};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};

/// The registers of a call about to be made. x0 always holds a known function ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    function: FunctionId,
    registers: SmcccRegisters,
}

impl Request {
    /// A call of `function` with every argument register zero.
    pub const fn new(function: FunctionId) -> Request {
        Request {
            function,
            registers: SmcccRegisters::with_function(function.raw()),
        }
    }

    /// A call of `function` whose argument registers x1… are `arguments` (at most 17; the rest zero).
    pub fn with_arguments(function: FunctionId, arguments: &[u64]) -> Request {
        let mut registers = SmcccRegisters::with_function(function.raw());
        let count = arguments.len().min(registers.x.len() - 1);
        registers.x[1..=count].copy_from_slice(&arguments[..count]);
        Request {
            function,
            registers,
        }
    }

    /// Sets argument register `index` (1–17) to `value`; out-of-range indices are ignored.
    pub const fn with(mut self, index: usize, value: u64) -> Request {
        if index >= 1 && index < self.registers.x.len() {
            self.registers.x[index] = value;
        }
        self
    }

    /// The function this request calls.
    pub const fn function(&self) -> FunctionId {
        self.function
    }

    /// The raw register file.
    pub const fn registers(&self) -> &SmcccRegisters {
        &self.registers
    }
}

/// The registers of a reply whose function ID has been checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyRegisters {
    registers: SmcccRegisters,
}

impl ReplyRegisters {
    /// `registers`, whose function ID the caller checked.
    pub(crate) const fn checked(registers: SmcccRegisters) -> ReplyRegisters {
        ReplyRegisters { registers }
    }

    /// The full 64-bit register `index` (0–17); 0 if out of range.
    pub fn register(&self, index: usize) -> u64 {
        self.registers.x.get(index).copied().unwrap_or(0)
    }

    /// The low 32 bits of register `index` (a w register).
    pub fn word(&self, index: usize) -> u32 {
        self.register(index) as u32
    }

    /// The raw register file.
    pub const fn raw(&self) -> &SmcccRegisters {
        &self.registers
    }
}

/// A decoded FF-A reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `FFA_SUCCESS` (32- or 64-bit).
    Success(ReplyRegisters),
    /// `FFA_INTERRUPT`: w1 holds the preempted endpoint and vCPU.
    Interrupt(ReplyRegisters),
    /// `FFA_YIELD`: w1 holds the yielding endpoint and vCPU.
    Yield(ReplyRegisters),
    /// `FFA_MSG_SEND_DIRECT_RESP` in the given width.
    DirectResponse(CallWidth, ReplyRegisters),
    /// `FFA_MSG_SEND_DIRECT_RESP2`.
    DirectResponse2(ReplyRegisters),
}

impl Reply {
    /// Decodes `registers` as an FF-A reply, after the shared
    /// classification ([`ReplyKind`]): `FFA_ERROR` and a bare
    /// `NOT_SUPPORTED` become [`ClientError::Status`] (an `FFA_ERROR` whose
    /// code is not negative is a [`ClientError::MalformedReply`]), anything
    /// this capsule does not expect an [`ClientError::UnexpectedFunction`].
    pub fn decode(registers: &SmcccRegisters) -> Result<Reply, ClientError> {
        let checked = ReplyRegisters {
            registers: *registers,
        };
        match ReplyKind::of(registers.x[0], registers.x[2]) {
            ReplyKind::Success(_) => Ok(Reply::Success(checked)),
            ReplyKind::Error(Status::Unknown(code)) if code >= 0 => {
                defmt::warn!("ffa: FFA_ERROR with non-negative code {=i32}", code);
                Err(ClientError::MalformedReply)
            }
            ReplyKind::Error(status) => Err(ClientError::Status(status)),
            ReplyKind::NotSupported => Err(ClientError::Status(Status::NotSupported)),
            ReplyKind::Function(FunctionId::Interrupt) => Ok(Reply::Interrupt(checked)),
            ReplyKind::Function(FunctionId::Yield) => Ok(Reply::Yield(checked)),
            ReplyKind::Function(FunctionId::DirectResponse32) => {
                Ok(Reply::DirectResponse(CallWidth::Bits32, checked))
            }
            ReplyKind::Function(FunctionId::DirectResponse64) => {
                Ok(Reply::DirectResponse(CallWidth::Bits64, checked))
            }
            ReplyKind::Function(FunctionId::DirectResponse2) => Ok(Reply::DirectResponse2(checked)),
            ReplyKind::Function(_) | ReplyKind::Value(_) => {
                let w0 = registers.x[0] as u32;
                defmt::warn!("ffa: unexpected function ID {=u32:#010x} in x0", w0);
                Err(ClientError::UnexpectedFunction(w0))
            }
        }
    }

    /// The registers, whatever the kind of reply.
    pub fn registers(&self) -> &ReplyRegisters {
        match self {
            Reply::Success(registers)
            | Reply::Interrupt(registers)
            | Reply::Yield(registers)
            | Reply::DirectResponse(_, registers)
            | Reply::DirectResponse2(registers) => registers,
        }
    }

    /// The registers if this is `FFA_SUCCESS`, otherwise an
    /// [`ClientError::UnexpectedFunction`] naming what came back.
    pub fn expect_success(self) -> Result<ReplyRegisters, ClientError> {
        match self {
            Reply::Success(registers) => Ok(registers),
            other => {
                let w0 = other.registers().word(0);
                defmt::warn!("ffa: expected FFA_SUCCESS, got {=u32:#010x}", w0);
                Err(ClientError::UnexpectedFunction(w0))
            }
        }
    }
}

/// The FF-A view of an SMCCC conduit.
#[derive(Clone, Copy)]
pub struct FfaConduit<'a> {
    smccc: &'a dyn SmcccConduit,
}

impl<'a> FfaConduit<'a> {
    /// Wraps the board's conduit (SMC or HVC).
    pub const fn new(smccc: &'a dyn SmcccConduit) -> FfaConduit<'a> {
        FfaConduit { smccc }
    }

    /// Which instruction carries the calls.
    pub fn kind(&self) -> ConduitKind {
        self.smccc.kind()
    }

    /// Issues `request` and returns the raw registers, for the few calls
    /// (`SMCCC_VERSION`, `FFA_VERSION`) whose reply is a bare value in w0.
    ///
    /// Every call is logged at `debug` level (compiled out at the default
    /// `info`): `cargo xtask run --timeline` builds with it, to mark each
    /// FF-A call on the boot timeline.
    pub fn call_raw(&self, request: &Request) -> SmcccRegisters {
        let reply = self.smccc.call(request.registers());
        defmt::debug!(
            "ffa call: {=str} -> {}",
            request.function().name(),
            ReplyKind::of(reply.x[0], reply.x[2])
        );
        reply
    }

    /// Issues `request` and decodes the reply.
    pub fn call(&self, request: &Request) -> Result<Reply, ClientError> {
        Reply::decode(&self.call_raw(request))
    }

    /// Issues `request` and requires `FFA_SUCCESS`.
    pub fn call_expecting_success(&self, request: &Request) -> Result<ReplyRegisters, ClientError> {
        self.call(request)?.expect_success()
    }
}
