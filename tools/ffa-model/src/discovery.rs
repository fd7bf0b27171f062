//! Setup and discovery calls: `FFA_VERSION`, `FFA_FEATURES`, `FFA_ID_GET`, `FFA_SPM_ID_GET`.
//!
//! `FFA_FEATURES` (w1 = function or feature ID; the input properties in w2 are ignored):
//! * bit 31 clear: a feature ID. The schedule receiver interrupt (2) →
//!   `FFA_SUCCESS_32` with w2 = its interrupt ID
//!   ([`crate::notifications::SCHEDULE_RECEIVER_INTERRUPT`]) for a v1.1+
//!   caller of an SPMC with notifications; the notification pending and
//!   managed exit interrupts (1, 3) are for partitions, and anything else
//!   unknown → `NOT_SUPPORTED`;
//! * a function ID the caller may invoke at its negotiated version →
//!   `FFA_SUCCESS_32` with w2 = 0, except `FFA_RXTX_MAP_32/64`: w2 bits `[1:0]` = 0
//!   (minimum size and alignment 4 KiB) and, for v1.2 callers, bits `[31:16]` =
//!   the maximum page count the personality states
//!   ([`crate::Personality::reported_maximum_rxtx_pages`]);
//! * anything else → `NOT_SUPPORTED`.
//!
//! Supported function IDs: from v1.0 `FFA_ERROR`, `FFA_SUCCESS_32/64`,
//! `FFA_INTERRUPT`, `FFA_VERSION`, `FFA_FEATURES`, `FFA_RX_RELEASE`,
//! `FFA_RXTX_MAP_32/64`, `FFA_RXTX_UNMAP`, `FFA_PARTITION_INFO_GET`,
//! `FFA_ID_GET`, `FFA_RUN`, `FFA_MSG_SEND_DIRECT_REQ_32/64`; from v1.1
//! `FFA_SPM_ID_GET`, `FFA_RX_ACQUIRE`, the notification calls (Hafnium:
//! not `FFA_NOTIFICATION_INFO_GET_32`), `FFA_MSG_SEND2` (not OP-TEE); from
//! v1.2 `FFA_PARTITION_INFO_GET_REGS`, `FFA_MSG_SEND_DIRECT_REQ2`. The
//! memory-management IDs the normal world may call (`FFA_MEM_SHARE`/`LEND`/
//! `DONATE` 32/64, `FFA_MEM_FRAG_TX`, `FFA_MEM_RECLAIM`, from v1.0) are
//! answered by `memory_sharing::features`, which knows the SPMC's memory
//! rules (no donations under OP-TEE's or TF-A's).

use crate::call::{Call, Reply};
use crate::error_code::SMCCC_NOT_SUPPORTED;
use crate::function_id::*;
use crate::notifications;
use crate::personality::Personality;
use crate::version::{Negotiation, VersionAnswer};
use crate::{NORMAL_WORLD_ENDPOINT_ID, SPMC_ID};
use ffa_abi::Status;
use ffa_abi::Version;

/// `FFA_VERSION` for an SPMC of version `own` (rules in [`crate::version`]).
/// The answer is in w0 alone; `NOT_SUPPORTED` is x0 = -1 as a 64-bit register,
/// as real firmware returns it.
pub(crate) fn version(negotiation: &mut Negotiation, own: Version, call: &Call<'_>) -> Reply {
    match negotiation.answer(call.word(1), own) {
        VersionAnswer::Version(value) => Reply::ffa(value),
        VersionAnswer::NotSupported => Reply::ffa(0).with(0, SMCCC_NOT_SUPPORTED),
    }
}

/// The lowest negotiated version at which the caller may invoke `function_id`,
/// or `None` if the model does not implement it for the normal world.
pub(crate) fn introduced_in(function_id: u32) -> Option<Version> {
    match function_id {
        FFA_ERROR
        | FFA_SUCCESS_32
        | FFA_SUCCESS_64
        | FFA_INTERRUPT
        | FFA_VERSION
        | FFA_FEATURES
        | FFA_RX_RELEASE
        | FFA_RXTX_MAP_32
        | FFA_RXTX_MAP_64
        | FFA_RXTX_UNMAP
        | FFA_PARTITION_INFO_GET
        | FFA_ID_GET
        | FFA_RUN
        | FFA_MSG_SEND_DIRECT_REQ_32
        | FFA_MSG_SEND_DIRECT_REQ_64 => Some(Version::V1_0),
        FFA_SPM_ID_GET | FFA_RX_ACQUIRE | FFA_MSG_SEND2 => Some(Version::V1_1),
        _ if notifications::handles(function_id) => Some(Version::V1_1),
        FFA_PARTITION_INFO_GET_REGS | FFA_MSG_SEND_DIRECT_REQ2 => Some(Version::V1_2),
        _ => None,
    }
}

/// `FFA_FEATURES` for a caller whose negotiated version is `version`.
pub(crate) fn features(version: Version, personality: Personality, call: &Call<'_>) -> Reply {
    let queried = call.word(1);
    let with_notifications = notifications::offered(personality, FFA_NOTIFICATION_INFO_GET_64);
    if queried & FAST_CALL == 0 {
        return match queried {
            ffa_abi::notification::FEATURE_SCHEDULE_RECEIVER_INTERRUPT
                if version >= Version::V1_1 && with_notifications =>
            {
                Reply::success_32().with(2, u64::from(notifications::SCHEDULE_RECEIVER_INTERRUPT))
            }
            _ => Reply::error(Status::NotSupported),
        };
    }
    let offered = match queried {
        FFA_MSG_SEND2 => !matches!(personality, Personality::OpTee | Personality::TfAEl3Spmc),
        _ if notifications::handles(queried) => notifications::offered(personality, queried),
        _ => true,
    };
    match introduced_in(queried) {
        Some(introduced) if introduced <= version && offered => {
            let properties = match queried {
                FFA_RXTX_MAP_32 | FFA_RXTX_MAP_64 => {
                    u64::from(personality.reported_maximum_rxtx_pages(version)) << 16
                }
                _ => 0,
            };
            Reply::success_32().with(2, properties)
        }
        _ => Reply::error(Status::NotSupported),
    }
}

/// `FFA_ID_GET`: the caller is the non-secure endpoint 0.
pub(crate) fn id_get() -> Reply {
    Reply::success_32().with(2, u64::from(NORMAL_WORLD_ENDPOINT_ID))
}

/// `FFA_SPM_ID_GET` (v1.1): the SPMC's ID.
pub(crate) fn spm_id_get(version: Version) -> Reply {
    if version < Version::V1_1 {
        return Reply::error(Status::NotSupported);
    }
    Reply::success_32().with(2, u64::from(SPMC_ID))
}
