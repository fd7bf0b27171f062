//! The SMCCC "not supported" return value (FF-A status codes are the shared [`ffa_abi::Status`]).

/// The value an SMCCC implementation returns in x0 for a function it does not
/// implement: -1 as a 64-bit register, as real firmware does.
pub const SMCCC_NOT_SUPPORTED: u64 = u64::MAX;
