//! RPCs from OP-TEE, issued on purpose by the model's test pseudo TA, and
//! calls in flight at once: waits, wake-ups across calls, sleeps on the
//! alarm, shared-memory allocation, cancellation, and OP-TEE's thread pool
//! running out.

mod common;

use capsule_optee::driver::{MAXIMUM_SLEEP_MS, MAXIMUM_WAIT_MS};
use common::{boot, op_tee, Event, Recorder, POOL_PAGES};
use ffa_abi::optee::{test_pta, TeeResult};
use ffa_model::OpteeFault;
use kernel::hil::tee::{Origin, Parameter, Parameters, Tee, TeeError, NO_PARAMETERS};
use kernel::hil::time::Time;

fn value(a: u64, b: u64) -> Parameters {
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::value_input(a, b);
    parameters
}

fn completed(recorder: &Recorder) -> (Result<(), TeeError>, Parameters) {
    match recorder.take().as_slice() {
        [Event::Completed(_, result, parameters, _)] => (*result, *parameters),
        other => panic!("{other:?}"),
    }
}

fn tee(code: TeeResult) -> TeeError {
    TeeError::Tee {
        code: code.0,
        origin: Origin::TrustedApplication,
    }
}

#[test]
fn a_wait_queue_send_then_wait_completes_at_once() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    user.invoke(session, test_pta::WAIT_QUEUE, value(3, 0), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(recorder).0, Ok(()));
    assert_eq!(optee.alarm.now(), 0, "no wait was needed");
}

#[test]
fn a_wait_ends_when_another_call_sends_the_key_or_times_out() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (waiter, waited, first) = optee.open_test_session("waiter");
    let (waker, woke, second) = optee.open_test_session("waker");
    waiter
        .invoke(first, test_pta::WAIT, value(9, 1000), None)
        .unwrap();
    // Let the wait reach the driver before anyone sends the key.
    for _ in 0..4 {
        testbed::deferred::run_pending();
    }
    waker
        .invoke(second, test_pta::WAKE, value(9, 0), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(woke).0, Ok(()));
    assert_eq!(completed(waited).0, Ok(()), "woken by the other call");
    assert!(optee.alarm.now() < 1000 * 1000, "before the timeout");

    // Nobody sends key 10: TEE_ERROR_TIMEOUT after the timeout.
    let start = optee.alarm.now();
    waiter
        .invoke(first, test_pta::WAIT, value(10, 30), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(waited).0, Err(tee(TeeResult::TIMEOUT)));
    assert!(optee.alarm.now() - start >= 30_000);
    // A wait "forever" (0) is bounded too.
    let start = optee.alarm.now();
    waiter
        .invoke(first, test_pta::WAIT, value(11, 0), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(waited).0, Err(tee(TeeResult::TIMEOUT)));
    assert_eq!(optee.alarm.now() - start, MAXIMUM_WAIT_MS * 1000);
}

#[test]
fn a_suspend_sleeps_on_the_alarm_and_a_long_one_is_cut() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    user.invoke(session, test_pta::SLEEP, value(20, 0), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(recorder).0, Ok(()));
    assert_eq!(optee.alarm.now(), 20_000);
    user.invoke(session, test_pta::SLEEP, value(3_600_000, 0), None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(recorder).0, Ok(()));
    assert_eq!(optee.alarm.now(), 20_000 + MAXIMUM_SLEEP_MS * 1000);
}

#[test]
fn shared_memory_allocated_through_an_rpc_is_freed_and_reclaimed() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    let mut parameters = value(10_000, 0);
    parameters[1] = Parameter::value_output();
    user.invoke(session, test_pta::SHM_ROUND_TRIP, parameters, None)
        .unwrap();
    optee.settle();
    let (result, parameters) = completed(recorder);
    assert_eq!(result, Ok(()));
    let expected = (0..10_000u64).fold(0u64, |sum, index| {
        sum.wrapping_add(u64::from(test_pta::pattern(0x5A, index)))
    });
    assert_eq!(parameters[1].values(), (expected, 10_000));
    assert_eq!(optee.driver.outstanding_regions(), (0, 0));
    assert_eq!(optee.transactions(), 1);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);

    // With the pool empty OP-TEE gets TEE_ERROR_OUT_OF_MEMORY and says so.
    let hoard = optee.pool.allocate(optee.pool.free_pages()).unwrap();
    let mut parameters = value(100, 0);
    parameters[1] = Parameter::value_output();
    user.invoke(session, test_pta::SHM_ROUND_TRIP, parameters, None)
        .unwrap();
    optee.settle();
    assert_eq!(completed(recorder).0, Err(tee(TeeResult::OUT_OF_MEMORY)));
    drop(hoard);
}

#[test]
fn an_unknown_rpc_gets_not_implemented() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::value_output();
    user.invoke(session, test_pta::UNKNOWN_RPC, parameters, None)
        .unwrap();
    optee.settle();
    let (result, parameters) = completed(recorder);
    assert_eq!(result, Ok(()));
    assert_eq!(
        parameters[0].values().0,
        u64::from(TeeResult::NOT_IMPLEMENTED.0)
    );
}

#[test]
fn a_cancellation_reaches_the_running_invocation() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    user.invoke(session, test_pta::SLEEP, value(500, 0), None)
        .unwrap();
    user.cancel(session).unwrap();
    assert_eq!(user.cancel(session), Err(kernel::ErrorCode::BUSY));
    optee.settle();
    let events = recorder.take();
    assert!(
        events.contains(&Event::CancelSent(session, Ok(()))),
        "{events:?}"
    );
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::Completed(_, Err(error), ..) if *error == tee(TeeResult::CANCEL)
        )),
        "{events:?}"
    );
}

#[test]
fn more_calls_than_op_tee_threads_wait_for_a_free_one() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let users: Vec<_> = ["first", "second", "third"]
        .into_iter()
        .map(|name| optee.open_test_session(name))
        .collect();
    // The model's OP-TEE has two threads; three sleep at once.
    for (user, _, session) in &users {
        user.invoke(*session, test_pta::SLEEP, value(50, 0), None)
            .unwrap();
    }
    optee.settle();
    for (_, recorder, _) in &users {
        assert_eq!(completed(recorder).0, Ok(()));
    }
    assert!(optee.driver.counters().busy_retries >= 1);
    assert!(optee.monitor.world().optee().busy_answers >= 1);
    assert_eq!(optee.driver.busy_slots(), 0);
}
