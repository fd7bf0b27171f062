//! The register file of one SMC a partition makes, and how it reads the answers.
//!
//! TF-A's EL3 SPMC reads x0–x7 of a partition's SMC and writes x0–x7 of the
//! answer (`SMC_RET8`), so a call here is eight registers each way. The
//! words — function IDs (the borrower side of memory management included),
//! status codes, versions, endpoint IDs — are `ffa-abi`'s, re-exported here.

pub use ffa_abi::function::{
    FFA_ERROR, FFA_FEATURES, FFA_ID_GET, FFA_INTERRUPT, FFA_MEM_FRAG_RX, FFA_MEM_FRAG_TX,
    FFA_MEM_RELINQUISH, FFA_MEM_RETRIEVE_REQ_64, FFA_MEM_RETRIEVE_RESP, FFA_MSG_SEND_DIRECT_REQ_32,
    FFA_MSG_SEND_DIRECT_REQ_64, FFA_MSG_SEND_DIRECT_RESP_32, FFA_MSG_SEND_DIRECT_RESP_64,
    FFA_MSG_WAIT, FFA_RXTX_MAP_64, FFA_RX_RELEASE, FFA_SUCCESS_32, FFA_SUCCESS_64, FFA_VERSION,
};
pub use ffa_abi::{FunctionId, PartitionId, Status, Version};

/// x0–x7 of one SMC, on entry or on return.
pub type Registers = [u64; 8];

/// The call `function` with arguments x1.. (missing ones zero).
pub fn call(function: u32, arguments: &[u64]) -> Registers {
    let mut registers = [0u64; 8];
    registers[0] = u64::from(function);
    for (register, argument) in registers[1..].iter_mut().zip(arguments) {
        *register = *argument;
    }
    registers
}

/// The function ID in w0 of `registers`.
pub const fn function(registers: &Registers) -> u32 {
    registers[0] as u32
}

/// The status of an `FFA_ERROR` answer (w2), or `None` for any other answer.
pub fn error_status(registers: &Registers) -> Option<Status> {
    (function(registers) == FFA_ERROR)
        .then(|| Status::from_code_or_unknown(registers[2] as u32 as i32))
}

/// Whether `registers` is an `FFA_SUCCESS` answer of either width.
pub const fn is_success(registers: &Registers) -> bool {
    let function = function(registers);
    function == FFA_SUCCESS_32 || function == FFA_SUCCESS_64
}

/// The name of an answer's function ID for logs.
pub fn answer_name(registers: &Registers) -> &'static str {
    FunctionId::from_raw(function(registers))
        .map(FunctionId::name)
        .unwrap_or("an unexpected function")
}

/// Why a call the partition made did not give the answer it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The SPMC answered `FFA_ERROR` with this status.
    Refused(Status),
    /// The SPMC answered with another function (its raw ID in w0).
    Unexpected(u32),
}

impl CallError {
    /// The FF-A status code to report (`FFA_ERROR`'s, or 0 for an unexpected answer).
    pub const fn status_code(self) -> i32 {
        match self {
            CallError::Refused(status) => status.code(),
            CallError::Unexpected(_) => 0,
        }
    }
}

impl core::fmt::Display for CallError {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallError::Refused(status) => {
                write!(formatter, "FFA_ERROR {} ({})", status.name(), status.code())
            }
            CallError::Unexpected(function) => {
                write!(formatter, "unexpected answer {function:#010x}")
            }
        }
    }
}

/// `Ok` if `registers` answers with `expected` in w0, else why not.
pub fn expect(registers: &Registers, expected: u32) -> Result<(), CallError> {
    if function(registers) == expected {
        return Ok(());
    }
    match error_status(registers) {
        Some(status) => Err(CallError::Refused(status)),
        None => Err(CallError::Unexpected(function(registers))),
    }
}

/// `Ok` if `registers` is `FFA_SUCCESS` of either width, else why not.
pub fn expect_success(registers: &Registers) -> Result<(), CallError> {
    if is_success(registers) {
        Ok(())
    } else {
        expect(registers, FFA_SUCCESS_32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_put_the_function_in_w0_and_arguments_after() {
        assert_eq!(
            call(FFA_MEM_FRAG_RX, &[1, 2, 3]),
            [0x8400_007A, 1, 2, 3, 0, 0, 0, 0]
        );
    }

    #[test]
    fn answers_are_classified() {
        let error = call(FFA_ERROR, &[0, Status::Denied.register_value()]);
        assert_eq!(error_status(&error), Some(Status::Denied));
        assert_eq!(
            expect(&error, FFA_MEM_RETRIEVE_RESP),
            Err(CallError::Refused(Status::Denied))
        );
        assert_eq!(
            expect_success(&call(FFA_MSG_WAIT, &[])),
            Err(CallError::Unexpected(FFA_MSG_WAIT))
        );
        assert!(expect_success(&call(FFA_SUCCESS_64, &[])).is_ok());
        assert_eq!(answer_name(&call(FFA_MEM_FRAG_TX, &[])), "FFA_MEM_FRAG_TX");
        assert_eq!(answer_name(&call(FFA_ERROR, &[])), "FFA_ERROR");
        assert_eq!(CallError::Refused(Status::Busy).status_code(), -4);
    }
}
