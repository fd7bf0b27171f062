//! The OP-TEE driver against every fault the model of OP-TEE injects:
//! each is survived, reported, and leaves no shared memory behind.

mod common;

use capsule_optee::driver::{DriverState, EnumerationState, MAXIMUM_BUSY_TRIES};
use common::{boot, op_tee, POOL_PAGES};
use ffa_abi::optee::TeeResult;
use ffa_model::optee::{BUSY_CALLS, INTERRUPTS_PER_CALL};
use ffa_model::{FaultConfig, MemoryFault, OpteeFault};
use kernel::hil::tee::{Origin, TeeError};
use kernel::hil::time::Time;

/// Only the argument page is still shared, and every other page is back.
fn nothing_left_behind(optee: &common::Optee) {
    assert_eq!(optee.transactions(), 1, "only the argument page");
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
    assert_eq!(optee.driver.outstanding_regions(), (0, 0));
    assert_eq!(optee.driver.busy_slots(), 0);
    assert!(!optee.bus.is_busy());
    let counters = optee.driver.counters();
    assert_eq!(counters.shares, counters.reclaims + 1);
    assert_eq!(counters.abandoned, 0);
}

#[test]
fn busy_threads_are_waited_for_and_the_call_goes_through() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::Busy));
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    assert_eq!(optee.driver.counters().busy_retries, BUSY_CALLS);
    assert_eq!(optee.monitor.world().optee().busy_answers, BUSY_CALLS);
    assert!(optee.alarm.now() > 0, "the back-off went through the alarm");
    nothing_left_behind(&optee);
}

#[test]
fn exhausted_threads_fail_the_call_after_bounded_tries() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::ThreadsExhausted));
    assert_eq!(optee.driver.state(), DriverState::Ready);
    assert_eq!(
        optee.driver.enumeration(),
        EnumerationState::Failed(TeeError::Tee {
            code: TeeResult::BUSY.0,
            origin: Origin::Communication
        })
    );
    assert_eq!(
        optee.monitor.world().optee().busy_answers,
        u32::from(MAXIMUM_BUSY_TRIES)
    );
    nothing_left_behind(&optee);
}

#[test]
fn bad_parameters_in_w3_end_the_call_with_that_code() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::BadParameters));
    assert_eq!(
        optee.driver.enumeration(),
        EnumerationState::Failed(TeeError::Tee {
            code: TeeResult::BAD_PARAMETERS.0,
            origin: Origin::Communication
        })
    );
    nothing_left_behind(&optee);
}

#[test]
fn an_unknown_rpc_is_answered_not_implemented_and_the_call_goes_on() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::UnknownRpc));
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    let summary = optee.monitor.world().optee();
    assert_eq!(summary.last_rpc_result, TeeResult::NOT_IMPLEMENTED.0);
    // Every call asked one: open, size, list, close.
    assert_eq!(summary.rpcs, 4);
    assert_eq!(optee.driver.counters().rpcs, 4);
    nothing_left_behind(&optee);
}

#[test]
fn foreign_interrupts_are_resumed() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::Interrupts));
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    assert_eq!(optee.driver.counters().interrupts, 4 * INTERRUPTS_PER_CALL);
    nothing_left_behind(&optee);
}

#[test]
fn a_denied_reclaim_is_tried_again_once_a_call_ends() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(FaultConfig {
        memory_fault: MemoryFault::DeniedReclaim,
        ..op_tee(OpteeFault::None)
    });
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    // The bounce region's first reclaim was DENIED, kept, and reclaimed
    // when the close call ended.
    nothing_left_behind(&optee);
}

#[test]
fn the_bus_torn_down_mid_call_ends_the_call_once_and_strands_nothing_silently() {
    use capsule_ffa::requests::SplitPhaseRequests;
    use ffa_abi::optee::test_pta;
    use kernel::deferred_call::DeferredCall;
    use kernel::hil::tee::Tee;

    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("teardown");
    // A FILL with a memory reference: its bounce region is shared, its
    // yielding call sent; the bus is torn down before the answer is read.
    let (engine, _) = optee.requests.unwrap();
    let sent = engine.counters().sent;
    let parameters = common::fill(0, 64, 0x5a, 64);
    user.invoke(
        session,
        test_pta::FILL,
        parameters,
        Some(common::buffer(64)),
    )
    .unwrap();
    while engine.counters().sent == sent {
        assert!(
            DeferredCall::service_next_pending(),
            "the call was never sent"
        );
    }
    optee.bus.teardown().unwrap();
    optee.settle();
    let events = recorder.take();
    assert_eq!(events.len(), 1, "one outcome: {events:?}");
    // The answer was in before the teardown: the call succeeded and its
    // output came back.
    assert!(matches!(
        &events[0],
        common::Event::Completed(_, Ok(()), _, Some(bytes))
            if bytes.iter().enumerate().all(|(index, byte)| *byte == test_pta::pattern(0x5a, index as u64))
    ));
    assert_eq!(optee.driver.busy_slots(), 0);
    // Its region's UNREGISTER_SHM and reclaim found no FF-A session: the
    // region is kept (said so in the log), not forgotten.
    assert_eq!(optee.driver.outstanding_regions(), (1, 0));
    // Every region shared is reclaimed, kept for later or given up (and
    // said so): none is forgotten.
    let counters = optee.driver.counters();
    let (pending, allocations) = optee.driver.outstanding_regions();
    assert_eq!(
        u64::from(counters.shares),
        u64::from(counters.reclaims + counters.abandoned)
            + 1 // the argument page
            + pending as u64
            + allocations as u64,
        "{counters:?}"
    );
}
