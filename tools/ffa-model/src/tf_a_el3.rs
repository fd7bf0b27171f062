//! TF-A's EL3 SPMC as the normal world sees it, where it differs from the model's defaults.
//!
//! Selected by [`crate::Personality::TfAEl3Spmc`]. Each rule was read in
//! TF-A 2.12.1 (`services/std_svc/spm/el3_spmc/spmc_main.c`,
//! `services/std_svc/spmd/spmd_main.c`) and seen on QEMU with TF-A built
//! `SPD=spmd SPMC_AT_EL3=1` by `cargo xtask peer`:
//!
//! 1. **Reserved registers keep the caller's values.** The SPMC writes only
//!    the registers an answer defines (`SMC_RET1`/`SMC_RET4`), so x1–x7 of
//!    `FFA_VERSION`, and of the `FFA_SUCCESS` answers to `FFA_FEATURES`,
//!    `FFA_RXTX_MAP`, `FFA_RXTX_UNMAP` and `FFA_RX_RELEASE`, and x4–x7 of
//!    `FFA_PARTITION_INFO_GET`'s, are whatever the caller passed (seen:
//!    `FFA_RXTX_MAP_64` answered with x1/x2 = the buffer addresses, x3 = the
//!    page count). The specification makes them reserved, zero; the model
//!    zeroes them. A client must not read them.
//! 2. **Error codes are sign-extended.** `FFA_ERROR` carries the status in x2
//!    as a 64-bit value (-2 is `0xffff_ffff_ffff_fffe`); the model writes w2
//!    with the upper half zero. Both are the same 32-bit w2.
//! 3. **`FFA_VERSION` with bit 31 set** answers x0 = `0xffff_ffff` (a 32-bit
//!    -1, upper half zero; the SPMD casts to `uint32_t`); the model answers
//!    the 64-bit -1 of an unknown SMC.
//! 4. **The version is never fixed.** Every `FFA_VERSION` records the
//!    caller's version, whenever it comes; the model (like Hafnium) fixes it
//!    at the first other FF-A call and refuses a different one afterwards.
//!    A caller that never called `FFA_VERSION` has version 0, which the EL3
//!    SPMC treats as "not v1.0": v1.1 layouts (the model: v1.0).
//! 6. **No notifications and no indirect messaging**: the `FFA_NOTIFICATION_*`
//!    calls and `FFA_MSG_SEND2` are `NOT_SUPPORTED` (also in `FFA_FEATURES`,
//!    and so is the schedule receiver interrupt), as the EL3 SPMC read in
//!    TF-A's 2022 tree answers them [not checked against 2.12.1].
//! 5. **No v1.2 messaging ABIs.** `FFA_MSG_SEND_DIRECT_REQ2` and
//!    `FFA_PARTITION_INFO_GET_REGS` are `NOT_SUPPORTED` (also in
//!    `FFA_FEATURES`), and partitions never advertise `DIRECT_REQ2` (the
//!    manifest's `messaging-method` may only hold bits 0 and 1).
//!    `FFA_FEATURES(FFA_RXTX_MAP)` states no maximum buffer size (w2 = 0).
//!
//! Memory management's differences (v1.0/v1.1 callers only, no donation,
//! byte-stream fragments, handles from 0xffff_ffc0, ...) are TF-A's
//! [`crate::Personality`], which this mode selects (see `memory_rules.rs`).
//! Not modelled: the SPMC's single partition (the model's partitions stay
//! the model's).

use crate::call::{Call, Reply};
use crate::function_id::*;
use crate::partition::{properties, PartitionInfo};
use crate::Registers;
use ffa_abi::{Status, Version};

/// Whether the EL3 SPMC implements `function_id` for the normal world at all (rules 5 and 6).
pub(crate) const fn implements(function_id: u32) -> bool {
    !matches!(
        function_id,
        FFA_MSG_SEND_DIRECT_REQ2
            | FFA_PARTITION_INFO_GET_REGS
            | FFA_MSG_SEND2
            | FFA_NOTIFICATION_BITMAP_CREATE
            | FFA_NOTIFICATION_BITMAP_DESTROY
            | FFA_NOTIFICATION_BIND
            | FFA_NOTIFICATION_UNBIND
            | FFA_NOTIFICATION_SET
            | FFA_NOTIFICATION_GET
            | FFA_NOTIFICATION_INFO_GET_32
            | FFA_NOTIFICATION_INFO_GET_64
    )
}

/// `FFA_FEATURES` as the EL3 SPMC answers it where the model differs (rule 5), else `None`.
pub(crate) fn features(call: &Call<'_>) -> Option<Reply> {
    match call.word(1) {
        queried if !implements(queried) => Some(Reply::error(Status::NotSupported)),
        FFA_RXTX_MAP_32 | FFA_RXTX_MAP_64 => Some(Reply::success_32()),
        _ => None,
    }
}

/// The version whose layouts apply to a caller that asked for `requested` (rule 4).
pub(crate) fn negotiated(requested: Option<Version>, own: Version) -> Version {
    requested.unwrap_or(own).min(own)
}

/// A partition as the EL3 SPMC describes it: no `DIRECT_REQ2` bits (rule 5).
pub(crate) const fn as_described(information: &PartitionInfo) -> PartitionInfo {
    PartitionInfo {
        properties: information.properties
            & !(properties::DIRECT_REQUEST2_RECEIVE | properties::DIRECT_REQUEST2_SEND),
        ..*information
    }
}

/// How many of x0–x7 the EL3 SPMC writes in its answer `reply` to `function_id` (rule 1).
fn registers_written(function_id: u32, reply: &Registers) -> usize {
    let answer = reply[0];
    let success = answer == u64::from(FFA_SUCCESS_32);
    match function_id {
        FFA_VERSION => 1,
        FFA_FEATURES | FFA_RXTX_MAP_32 | FFA_RXTX_MAP_64 | FFA_RXTX_UNMAP | FFA_RX_RELEASE
            if success =>
        {
            1
        }
        FFA_PARTITION_INFO_GET if success => 4,
        _ => 8,
    }
}

/// Rewrites the model's finished answer to `call` the way the EL3 SPMC leaves the registers (rules 1–3).
pub(crate) fn finish(call: &Call<'_>, mut reply: Registers) -> Registers {
    let function_id = call.function_id();
    if function_id == FFA_VERSION && call.word(1) & (1 << 31) != 0 {
        let mut answer = [0; crate::SMCCC_REGISTER_COUNT];
        answer[0] = u64::from(u32::MAX);
        answer[8..].copy_from_slice(&call.registers()[8..]);
        return answer;
    }
    if reply[0] == u64::from(FFA_ERROR) {
        reply[2] = reply[2] as u32 as i32 as i64 as u64;
        return reply;
    }
    let written = registers_written(function_id, &reply);
    reply[written..8].copy_from_slice(&call.registers()[written..8]);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registers(values: &[u64]) -> Registers {
        let mut registers = [0u64; crate::SMCCC_REGISTER_COUNT];
        registers[..values.len()].copy_from_slice(values);
        registers
    }

    #[test]
    fn success_answers_keep_the_callers_registers() {
        let call_registers = registers(&[
            u64::from(FFA_RXTX_MAP_64),
            0x6003_0000,
            0x6002_0000,
            1,
            0xdead,
        ]);
        let call = Call::new(&call_registers);
        let reply = finish(&call, registers(&[u64::from(FFA_SUCCESS_32)]));
        assert_eq!(
            &reply[..5],
            &[0x8400_0061, 0x6003_0000, 0x6002_0000, 1, 0xdead]
        );
        let info_call = registers(&[u64::from(FFA_PARTITION_INFO_GET), 1, 2, 3, 4, 5, 6, 7]);
        let reply = finish(&Call::new(&info_call), registers(&[0x8400_0061, 0, 3, 24]));
        assert_eq!(&reply[..8], &[0x8400_0061, 0, 3, 24, 4, 5, 6, 7]);
    }

    #[test]
    fn errors_are_sign_extended_and_complete() {
        let call_registers = registers(&[u64::from(FFA_RXTX_MAP_64), 7, 7, 7]);
        let reply = Reply::error(Status::Denied).finish(&Call::new(&call_registers));
        let reply = finish(&Call::new(&call_registers), reply);
        assert_eq!(&reply[..4], &[0x8400_0060, 0, 0xffff_ffff_ffff_fffa, 0]);
    }

    #[test]
    fn version_with_bit_31_answers_a_32_bit_minus_one() {
        let call_registers = registers(&[u64::from(FFA_VERSION), 0x8001_0000]);
        let reply = finish(&Call::new(&call_registers), registers(&[u64::MAX]));
        assert_eq!(&reply[..2], &[0xffff_ffff, 0]);
    }

    #[test]
    fn an_unnegotiated_caller_gets_the_spmc_s_layouts() {
        assert_eq!(negotiated(None, Version::V1_2), Version::V1_2);
        assert_eq!(
            negotiated(Some(Version::V1_0), Version::V1_2),
            Version::V1_0
        );
        assert_eq!(
            negotiated(Some(Version::new(1, 5)), Version::V1_2),
            Version::V1_2
        );
    }

    #[test]
    fn partitions_lose_the_direct_request_2_bits() {
        let echo = crate::partition::HOSTED_PARTITIONS[0];
        assert_eq!(echo.properties, 0x301);
        assert_eq!(as_described(&echo).properties, 0x101);
        assert!(!implements(FFA_MSG_SEND_DIRECT_REQ2));
        assert!(implements(FFA_MSG_SEND_DIRECT_REQ_64));
    }
}
