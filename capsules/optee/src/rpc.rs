//! RPCs from OP-TEE: what each asks, checked, and what the driver does.
//!
//! | RPC | the driver |
//! |---|---|
//! | `GET_TIME` (one value out) | seconds and nanoseconds since boot (the kernel has no wall clock) |
//! | `NOTIFICATION` send (value: 1, key) | wakes the call waiting on the key, or remembers the key for the next wait |
//! | `NOTIFICATION` wait (value: 0, key, timeout ms) | a key already sent: at once; else the call sleeps until the key is sent or the timeout (0: at most [`crate::driver::MAXIMUM_WAIT_MS`]), then `TEE_ERROR_TIMEOUT` |
//! | `SUSPEND` (value: ms) | the call sleeps on the alarm (at most [`crate::driver::MAXIMUM_SLEEP_MS`]) |
//! | `SHM_ALLOC` (value: type, size, alignment) | pages of the pool shared with OP-TEE; answered with an FF-A memref (`TEE_ERROR_OUT_OF_MEMORY` if none) |
//! | `SHM_FREE` (value: type, handle) | `UNREGISTER_SHM` (not for application memory, which OP-TEE already dropped) and `FFA_MEM_RECLAIM` |
//! | `LOAD_TA`, `RPMB`, `FS` and the other tee-supplicant services | `TEE_ERROR_COMMUNICATION`: this kernel has no tee-supplicant |
//! | anything else | `TEE_ERROR_NOT_IMPLEMENTED`, logged |
//!
//! A request whose parameters do not match what its command needs is
//! answered `TEE_ERROR_BAD_PARAMETERS`. Every answer's origin is
//! "communication", as Linux answers.

use ffa_abi::optee::message::RawParameter;
use ffa_abi::optee::{attribute, rpc, TeeResult};

use crate::message::RpcRequest;

/// What to do for an RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcAction {
    /// Answer at once with this result (no parameter changes).
    Answer(TeeResult),
    /// Answer with the time.
    GetTime,
    /// Sleep, then answer success.
    Suspend {
        /// How long, in milliseconds.
        milliseconds: u64,
    },
    /// Wake `key`'s waiter (or remember it), then answer success.
    Send {
        /// The key.
        key: u32,
    },
    /// Wait until `key` is sent.
    Wait {
        /// The key.
        key: u32,
        /// How long at most, in milliseconds (0: no limit given).
        timeout_milliseconds: u64,
    },
    /// Share `size` bytes of memory of `kind` with OP-TEE.
    Allocate {
        /// The memory's type.
        kind: u64,
        /// Bytes.
        size: u64,
    },
    /// Take back the memory of `handle`.
    Free {
        /// The memory's type.
        kind: u64,
        /// Its FF-A handle.
        handle: u64,
    },
}

fn answer(result: TeeResult) -> RpcAction {
    RpcAction::Answer(result)
}

/// Whether `request` carries exactly one parameter of type `kind`.
fn one(request: &RpcRequest, kind: u64) -> Option<RawParameter> {
    (request.count == 1 && request.parameters[0].attribute == kind).then_some(request.parameters[0])
}

/// The tee-supplicant's services.
const fn is_supplicant_service(command: u32) -> bool {
    matches!(command, rpc::LOAD_TA | rpc::RPMB | rpc::FS) || matches!(command, 8..=20)
}

/// What to do for `request`; wait-queue keys above `highest_key` are refused.
pub fn decide(request: &RpcRequest, highest_key: u32) -> RpcAction {
    let bad = answer(TeeResult::BAD_PARAMETERS);
    match request.command {
        rpc::GET_TIME => match one(request, attribute::VALUE_OUTPUT) {
            Some(_) => RpcAction::GetTime,
            None => bad,
        },
        rpc::NOTIFICATION => {
            let Some(parameter) = one(request, attribute::VALUE_INPUT) else {
                return bad;
            };
            let Ok(key) = u32::try_from(parameter.b) else {
                return bad;
            };
            if key > highest_key {
                return bad;
            }
            match parameter.a {
                rpc::NOTIFICATION_SEND => RpcAction::Send { key },
                rpc::NOTIFICATION_WAIT => RpcAction::Wait {
                    key,
                    timeout_milliseconds: parameter.c,
                },
                _ => bad,
            }
        }
        rpc::SUSPEND => match one(request, attribute::VALUE_INPUT) {
            Some(parameter) => RpcAction::Suspend {
                milliseconds: parameter.a,
            },
            None => bad,
        },
        rpc::SHM_ALLOC => match one(request, attribute::VALUE_INPUT) {
            Some(parameter) => RpcAction::Allocate {
                kind: parameter.a,
                size: parameter.b,
            },
            None => bad,
        },
        rpc::SHM_FREE => match one(request, attribute::VALUE_INPUT) {
            Some(parameter) => RpcAction::Free {
                kind: parameter.a,
                handle: parameter.b,
            },
            None => bad,
        },
        command if is_supplicant_service(command) => {
            defmt::info!(
                "optee: RPC {=str} ({=u32}) is tee-supplicant's; this kernel has none: answered TEE_ERROR_COMMUNICATION",
                rpc::name(command),
                command
            );
            answer(TeeResult::COMMUNICATION)
        }
        command => {
            defmt::warn!(
                "optee: RPC {=u32:#x} from OP-TEE is not one the driver knows; answered TEE_ERROR_NOT_IMPLEMENTED",
                command
            );
            answer(TeeResult::NOT_IMPLEMENTED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(command: u32, parameters: &[RawParameter]) -> RpcRequest {
        let mut all = [RawParameter::default(); crate::abi::MAXIMUM_RPC_PARAMETERS as usize];
        all[..parameters.len()].copy_from_slice(parameters);
        RpcRequest {
            command,
            parameters: all,
            count: parameters.len(),
        }
    }

    #[test]
    fn each_rpc_is_checked() {
        let value = |a, b, c| RawParameter::value(attribute::VALUE_INPUT, a, b, c);
        assert_eq!(
            decide(&request(rpc::NOTIFICATION, &[value(1, 7, 0)]), 255),
            RpcAction::Send { key: 7 }
        );
        assert_eq!(
            decide(&request(rpc::NOTIFICATION, &[value(0, 7, 10)]), 255),
            RpcAction::Wait {
                key: 7,
                timeout_milliseconds: 10
            }
        );
        assert!(matches!(
            decide(&request(rpc::NOTIFICATION, &[value(0, 300, 0)]), 255),
            RpcAction::Answer(TeeResult::BAD_PARAMETERS)
        ));
        assert!(matches!(
            decide(&request(rpc::SUSPEND, &[]), 255),
            RpcAction::Answer(TeeResult::BAD_PARAMETERS)
        ));
        assert!(matches!(
            decide(&request(rpc::LOAD_TA, &[]), 255),
            RpcAction::Answer(TeeResult::COMMUNICATION)
        ));
        assert!(matches!(
            decide(&request(0x4F50_5421, &[value(1, 2, 3)]), 255),
            RpcAction::Answer(TeeResult::NOT_IMPLEMENTED)
        ));
        assert_eq!(
            decide(&request(rpc::SHM_ALLOC, &[value(1, 4096, 8)]), 255),
            RpcAction::Allocate {
                kind: 1,
                size: 4096
            }
        );
    }
}
