//! OP-TEE's direct messages in registers: the requests the driver sends
//! (w3–w7 of an `FFA_MSG_SEND_DIRECT_REQ_32`) and the answers it reads,
//! each checked before anything is taken from it.
//!
//! Every decoder takes the five words of a response and either returns
//! what they say or a [`ReplyError`] naming the word that is wrong; none
//! can panic, whatever OP-TEE (or a lying secure world) put there.
//!
//! ```
//! use capsule_optee::abi::{ApiVersion, YieldingReply, YieldingOutcome};
//!
//! assert_eq!(ApiVersion::decode([1, 0, 0, 0, 0]), ApiVersion { major: 1, minor: 0 });
//! assert_eq!(
//!     YieldingReply::decode([0, 1, 0, 0, 3]),
//!     Ok(YieldingReply::Ran(YieldingOutcome::Rpc { thread: 3 }))
//! );
//! ```

use ffa_abi::optee::{capabilities, function, yielding, TeeResult};

/// A reply the driver refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ReplyError {
    /// A word that must be zero is not: (register, value).
    NotZero(u8, u32),
    /// w4 of a yielding call's answer is no return code OP-TEE defines.
    UnknownReturnCode(u32),
    /// The RPC parameter count OP-TEE asks the driver to reserve is out of range.
    RpcParameterCount(u32),
}

/// The requests.
pub mod request {
    use super::function;

    /// `GET_API_VERSION`.
    pub const fn api_version() -> [u32; 5] {
        [function::GET_API_VERSION, 0, 0, 0, 0]
    }

    /// `GET_OS_VERSION`.
    pub const fn os_version() -> [u32; 5] {
        [function::GET_OS_VERSION, 0, 0, 0, 0]
    }

    /// `EXCHANGE_CAPABILITIES` (the normal world offers none).
    pub const fn exchange_capabilities() -> [u32; 5] {
        [function::EXCHANGE_CAPABILITIES, 0, 0, 0, 0]
    }

    /// `UNREGISTER_SHM` of `handle`.
    pub const fn unregister(handle: u64) -> [u32; 5] {
        [
            function::UNREGISTER_SHM,
            handle as u32,
            (handle >> 32) as u32,
            0,
            0,
        ]
    }

    /// `YIELDING_CALL_WITH_ARG` of the argument struct at `offset` of `handle`.
    pub const fn with_argument(handle: u64, offset: u32) -> [u32; 5] {
        [
            function::YIELDING_CALL_WITH_ARG,
            handle as u32,
            (handle >> 32) as u32,
            offset,
            0,
        ]
    }

    /// `YIELDING_CALL_RESUME` of `thread`.
    pub const fn resume(thread: u32) -> [u32; 5] {
        [function::YIELDING_CALL_RESUME, 0, 0, 0, thread]
    }
}

/// OP-TEE's FF-A ABI version (`GET_API_VERSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ApiVersion {
    /// Major: the driver speaks [`ffa_abi::optee::API_MAJOR`] only.
    pub major: u32,
    /// Minor: any.
    pub minor: u32,
}

impl ApiVersion {
    /// The version in w3/w4.
    pub const fn decode(words: [u32; 5]) -> ApiVersion {
        ApiVersion {
            major: words[0],
            minor: words[1],
        }
    }

    /// Whether the driver can speak it (same major; any minor, as Linux).
    pub const fn is_compatible(&self) -> bool {
        self.major == ffa_abi::optee::API_MAJOR
    }
}

/// OP-TEE's version and build (`GET_OS_VERSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct OsVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// The top 32 bits of the git SHA-1 it was built from (0: not given).
    pub build: u32,
}

impl OsVersion {
    /// The version in w3–w5.
    pub const fn decode(words: [u32; 5]) -> OsVersion {
        OsVersion {
            major: words[0],
            minor: words[1],
            build: words[2],
        }
    }
}

/// The most RPC parameters the driver reserves room for.
pub const MAXIMUM_RPC_PARAMETERS: u32 = 8;

/// What `EXCHANGE_CAPABILITIES` answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Capabilities {
    /// Parameters to reserve in every RPC argument struct.
    pub rpc_parameters: u8,
    /// The capability bits ([`ffa_abi::optee::capabilities`]).
    pub bits: u32,
    /// The highest asynchronous notification value (0: unstated; Linux
    /// then takes 255).
    pub maximum_notification: u32,
}

impl Capabilities {
    /// The capabilities in w3–w6: `Err` if w3 is an error (OP-TEE refused:
    /// the code) or the parameter count is unusable.
    pub fn decode(words: [u32; 5]) -> Result<Result<Capabilities, ReplyError>, TeeResult> {
        if words[0] != 0 {
            return Err(TeeResult(words[0]));
        }
        let count = words[1] & 0xFF;
        if count == 0 || count > MAXIMUM_RPC_PARAMETERS {
            return Ok(Err(ReplyError::RpcParameterCount(count)));
        }
        Ok(Ok(Capabilities {
            rpc_parameters: count as u8,
            bits: words[2],
            maximum_notification: words[3],
        }))
    }

    /// Whether several argument structs may share a page (`ARG_OFFSET`).
    pub const fn arg_offset(&self) -> bool {
        self.bits & capabilities::ARG_OFFSET != 0
    }

    /// The highest notification key the driver takes: the stated one, or
    /// 255 as Linux takes when none is stated.
    pub const fn notification_keys(&self) -> u32 {
        if self.maximum_notification == 0 {
            255
        } else {
            self.maximum_notification
        }
    }
}

/// How a yielding call OP-TEE ran stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum YieldingOutcome {
    /// Over: the results are in the argument struct.
    Done,
    /// An RPC waits in the RPC argument struct; resume `thread` after it.
    Rpc {
        /// The thread to resume.
        thread: u32,
    },
    /// A normal-world interrupt preempted `thread`; resume it.
    Interrupted {
        /// The thread to resume.
        thread: u32,
    },
}

/// The answer to a yielding call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum YieldingReply {
    /// OP-TEE ran the call (w3 = 0).
    Ran(YieldingOutcome),
    /// OP-TEE did not run it: w3 ([`TeeResult::BUSY`]: every thread is taken).
    Refused(TeeResult),
}

impl YieldingReply {
    /// The answer in w3–w7.
    pub fn decode(words: [u32; 5]) -> Result<YieldingReply, ReplyError> {
        let [error, code, w5, w6, thread] = words;
        if error != 0 {
            return Ok(YieldingReply::Refused(TeeResult(error)));
        }
        let outcome = match code {
            yielding::DONE => YieldingOutcome::Done,
            yielding::RPC => YieldingOutcome::Rpc { thread },
            yielding::INTERRUPT => YieldingOutcome::Interrupted { thread },
            other => return Err(ReplyError::UnknownReturnCode(other)),
        };
        // OP-TEE leaves w5/w6 zero in every yielding answer.
        if w5 != 0 {
            return Err(ReplyError::NotZero(5, w5));
        }
        if w6 != 0 {
            return Err(ReplyError::NotZero(6, w6));
        }
        Ok(YieldingReply::Ran(outcome))
    }
}

/// What `UNREGISTER_SHM` answered in w3: 0, or OP-TEE's reason.
pub const fn unregistered(words: [u32; 5]) -> Result<(), u32> {
    match words[0] {
        0 => Ok(()),
        code => Err(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_checked() {
        assert_eq!(
            Capabilities::decode([0, 4, 1, 0, 0]),
            Ok(Ok(Capabilities {
                rpc_parameters: 4,
                bits: 1,
                maximum_notification: 0
            }))
        );
        assert_eq!(
            Capabilities::decode([0, 0x104, 1, 0, 0])
                .unwrap()
                .unwrap()
                .rpc_parameters,
            4,
            "only bits [7:0] count"
        );
        assert_eq!(
            Capabilities::decode([0, 0, 1, 0, 0]),
            Ok(Err(ReplyError::RpcParameterCount(0)))
        );
        assert_eq!(
            Capabilities::decode([0xFFFF_0006, 4, 1, 0, 0]),
            Err(TeeResult::BAD_PARAMETERS)
        );
    }

    #[test]
    fn yielding_answers_are_read_word_by_word() {
        assert_eq!(
            YieldingReply::decode([0xFFFF_000D, 0, 0, 0, 0]),
            Ok(YieldingReply::Refused(TeeResult::BUSY))
        );
        assert_eq!(
            YieldingReply::decode([0, 2, 0, 0, 1]),
            Ok(YieldingReply::Ran(YieldingOutcome::Interrupted {
                thread: 1
            }))
        );
        assert_eq!(
            YieldingReply::decode([0, 7, 0, 0, 1]),
            Err(ReplyError::UnknownReturnCode(7))
        );
        assert_eq!(
            YieldingReply::decode([0, 0, 9, 0, 0]),
            Err(ReplyError::NotZero(5, 9))
        );
        assert_eq!(
            request::with_argument(0x1000_0000_0003, 384),
            [0x8000_0000, 3, 0x1000, 384, 0]
        );
    }
}
