//! Execution contexts per core: a UP partition runs vCPU 0 wherever it is
//! called from, an MP partition vCPU N on core N only; each MP context is
//! preempted, resumed and counted on its own (the per-CPU partition says
//! which context answered and how many it has answered).

mod common;

use common::{expect_error, Harness};
use ffa_abi::test_services::per_cpu;
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::partition::{MAXIMUM_EXECUTION_CONTEXTS, PER_CPU_PARTITION_ID};
use ffa_model::{FaultConfig, Registers};

const PER_CPU: u64 = PER_CPU_PARTITION_ID as u64;
const INTERRUPTING: u64 = 0x8003;

fn harness() -> Harness {
    Harness::negotiated(
        FaultConfig {
            interrupt_count: 1,
            yield_count: 0,
            ..FaultConfig::default_config()
        },
        Version::V1_2,
    )
}

/// `WHO_AM_I` from core `core`, asking for `preemptions` first.
fn who_am_i(harness: &mut Harness, core: usize, preemptions: u64) -> Registers {
    harness.call_from(
        core,
        &[
            FFA_MSG_SEND_DIRECT_REQ_32 as u64,
            PER_CPU,
            0,
            u64::from(per_cpu::WHO_AM_I),
            preemptions,
        ],
    )
}

fn run_from(harness: &mut Harness, core: usize, target: u64) -> Registers {
    harness.call_from(core, &[FFA_RUN as u64, target])
}

/// The answer's vCPU and that vCPU's count.
fn answer(reply: &Registers) -> (u64, u64) {
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64, "{reply:x?}");
    assert_eq!(reply[1], PER_CPU << 16, "from the partition to the caller");
    assert_eq!(reply[3], 0, "status");
    assert_eq!(reply[6], MAXIMUM_EXECUTION_CONTEXTS as u64, "contexts");
    (reply[4], reply[5])
}

#[test]
fn each_core_reaches_its_own_context_with_its_own_count() {
    let mut harness = harness();
    for core in 0..MAXIMUM_EXECUTION_CONTEXTS {
        assert_eq!(answer(&who_am_i(&mut harness, core, 0)), (core as u64, 1));
    }
    assert_eq!(answer(&who_am_i(&mut harness, 2, 0)), (2, 2));
    assert_eq!(answer(&who_am_i(&mut harness, 2, 0)), (2, 3));
    assert_eq!(
        answer(&who_am_i(&mut harness, 1, 0)),
        (1, 2),
        "core 1's own"
    );
    // No context for a core beyond the partition's count.
    expect_error(
        &who_am_i(&mut harness, MAXIMUM_EXECUTION_CONTEXTS, 0),
        Status::InvalidParameters,
    );
}

#[test]
fn contexts_are_preempted_and_resumed_on_their_own_cores() {
    let mut harness = harness();
    let preempted_1 = who_am_i(&mut harness, 1, 1);
    assert_eq!(preempted_1[0], FFA_INTERRUPT as u64);
    assert_eq!(preempted_1[1], PER_CPU << 16 | 1, "vCPU 1 named");
    let preempted_2 = who_am_i(&mut harness, 2, 2);
    assert_eq!(preempted_2[1], PER_CPU << 16 | 2);
    // Core 1's context is busy; core 3's is free.
    expect_error(&who_am_i(&mut harness, 1, 0), Status::Busy);
    assert_eq!(answer(&who_am_i(&mut harness, 3, 0)), (3, 1));
    // FFA_RUN must name the calling core's own context.
    expect_error(
        &run_from(&mut harness, 2, PER_CPU << 16 | 1),
        Status::InvalidParameters,
    );
    expect_error(
        &run_from(&mut harness, 0, PER_CPU << 16 | 1),
        Status::InvalidParameters,
    );
    assert_eq!(
        answer(&run_from(&mut harness, 1, PER_CPU << 16 | 1)),
        (1, 1)
    );
    // Core 2's context still waits, preempted once more on resumption.
    let again = run_from(&mut harness, 2, PER_CPU << 16 | 2);
    assert_eq!(again[0], FFA_INTERRUPT as u64);
    assert_eq!(
        answer(&run_from(&mut harness, 2, PER_CPU << 16 | 2)),
        (2, 1)
    );
    // Idle now.
    expect_error(
        &run_from(&mut harness, 2, PER_CPU << 16 | 2),
        Status::Denied,
    );
}

#[test]
fn a_up_partition_runs_vcpu_0_from_any_core_and_one_request_at_a_time() {
    let mut harness = harness();
    let preempted = harness.call_from(2, &[FFA_MSG_SEND_DIRECT_REQ_32 as u64, INTERRUPTING]);
    assert_eq!(preempted[0], FFA_INTERRUPT as u64);
    assert_eq!(preempted[1], INTERRUPTING << 16, "vCPU 0, wherever it runs");
    // Its only context is busy, whichever core asks.
    expect_error(
        &harness.call_from(1, &[FFA_MSG_SEND_DIRECT_REQ_32 as u64, INTERRUPTING]),
        Status::Busy,
    );
    expect_error(
        &run_from(&mut harness, 2, INTERRUPTING << 16 | 2),
        Status::InvalidParameters,
    );
    // Migrated: resumed from another core.
    let reply = run_from(&mut harness, 3, INTERRUPTING << 16);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
}

#[test]
fn unknown_commands_are_refused_in_the_status_word() {
    let mut harness = harness();
    let reply = harness.call_from(1, &[FFA_MSG_SEND_DIRECT_REQ_32 as u64, PER_CPU, 0, 77]);
    assert_eq!(reply[0], FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(reply[3] as u32 as i32, Status::InvalidParameters.code());
}
