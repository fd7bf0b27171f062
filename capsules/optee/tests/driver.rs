//! The OP-TEE driver against the model of OP-TEE: probe, device
//! enumeration, every command through the TEE HIL, and the HIL's rules.

mod common;

use capsule_optee::driver::{DriverState, EnumerationState, NotDriven, CALL_SLOTS};
use common::{boot, boot_with, buffer, op_tee, Event, POOL_PAGES, TEST_PTA};
use ffa_abi::optee::{test_pta, TeeResult};
use ffa_model::optee::{BUILD_ID, OS_VERSION};
use ffa_model::OpteeFault;
use kernel::hil::tee::{
    Direction, Login, Origin, Parameter, SessionId, TaUuid, Tee, TeeError, NO_PARAMETERS,
};
use kernel::ErrorCode;

fn tee_error(code: TeeResult, origin: Origin) -> TeeError {
    TeeError::Tee {
        code: code.0,
        origin,
    }
}

#[test]
fn probe_reads_the_versions_and_capabilities_shares_the_argument_page_and_lists_devices() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    assert_eq!(optee.driver.state(), DriverState::Ready);
    let info = optee.driver.info().unwrap();
    assert_eq!(info.partition.raw(), 0x8001);
    assert_eq!((info.api.major, info.api.minor), (1, 0));
    assert_eq!((info.os.major, info.os.minor), OS_VERSION);
    assert_eq!(info.os.build, BUILD_ID);
    let capabilities = info.capabilities.unwrap();
    assert!(capabilities.arg_offset());
    assert_eq!(capabilities.rpc_parameters, 4);
    assert_eq!(info.layout.unwrap().entries, CALL_SLOTS);
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    let mut devices = Vec::new();
    optee.driver.for_each_device(|device| devices.push(*device));
    assert_eq!(devices, [TEST_PTA]);
    // Only the argument page is still shared; OP-TEE holds it (it used it).
    assert_eq!(optee.transactions(), 1);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
    let summary = optee.monitor.world().optee();
    assert_eq!(
        summary.open_sessions, 0,
        "the enumeration session was closed"
    );
    assert_eq!(summary.held_handles, 1);
    assert_eq!(optee.driver.outstanding_regions(), (0, 0));
    let counters = optee.driver.counters();
    assert_eq!(counters.calls, 4, "open, size, list, close");
    assert_eq!(
        counters.shares,
        1 + 1,
        "the argument page and one bounce region"
    );
    assert_eq!(counters.reclaims, 1);
    assert!(!optee.bus.is_busy(), "enumeration released the bus");
    // The driver asks OP-TEE with 32-bit direct requests only.
    let functions = optee.monitor.functions();
    assert!(functions.contains(&ffa_abi::function::FFA_MSG_SEND_DIRECT_REQ_32));
    assert!(!functions.contains(&ffa_abi::function::FFA_MSG_SEND_DIRECT_REQ_64));
}

#[test]
fn an_empty_device_list_is_valid() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::NoDevices));
    assert_eq!(optee.driver.state(), DriverState::Ready);
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(0));
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
}

#[test]
fn an_incompatible_api_major_is_refused_before_any_memory_is_shared() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::ApiMajor2));
    assert!(matches!(
        optee.driver.state(),
        DriverState::NotDriven(NotDriven::IncompatibleApi(api)) if api.major == 2
    ));
    assert_eq!(optee.transactions(), 0);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES);
    assert_eq!(optee.driver.enumeration(), EnumerationState::NotRun);
    let (user, _) = optee.user("late");
    assert_eq!(
        user.open_session(TEST_PTA, Login::ReeKernel, NO_PARAMETERS, None)
            .map_err(|(error, _)| error),
        Err(ErrorCode::OFF)
    );
}

#[test]
fn a_refused_share_leaves_the_versions_known_and_the_driver_unbound() {
    let _guard = testbed::deferred::exclusive();
    // As the EL2 proxy answers today: memory sharing NOT_SUPPORTED.
    let optee = boot_with(op_tee(OpteeFault::None), false, |monitor| {
        monitor.rewrite(|call, reply| {
            let function = call.x[0] as u32;
            if matches!(function, 0x8400_0073 | 0xC400_0073) {
                let mut refused = reply;
                refused.x = [0; 18];
                refused.x[0] = 0x8400_0060;
                refused.x[2] = (-1i32) as u32 as u64;
                refused
            } else {
                reply
            }
        });
    });
    assert!(matches!(
        optee.driver.state(),
        DriverState::NotDriven(NotDriven::MemorySharingRefused(_))
    ));
    let info = optee.driver.info().unwrap();
    assert_eq!((info.os.major, info.os.minor), OS_VERSION);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES, "the page came back");
    assert!(!optee.bus.is_busy());
}

#[test]
fn sessions_values_and_memory_references_go_there_and_back() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder, session) = optee.open_test_session("test");
    assert_eq!(optee.monitor.world().optee().open_sessions, 1);

    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::value_input(40, 2);
    parameters[1] = Parameter::value_output();
    user.invoke(session, test_pta::ADD, parameters, None)
        .unwrap();
    optee.settle();
    match recorder.take().as_slice() {
        [Event::Completed(_, Ok(()), parameters, None)] => {
            assert_eq!(parameters[1].values(), (42, 40 ^ 2))
        }
        other => panic!("{other:?}"),
    }

    // A memref window in the middle of the buffer; the rest is untouched.
    let parameters = common::fill(100, 300, 9, 300);
    let bytes = buffer(5000);
    bytes.fill(0xAB);
    user.invoke(session, test_pta::FILL, parameters, Some(bytes))
        .unwrap();
    optee.settle();
    match recorder.take().as_slice() {
        [Event::Completed(_, Ok(()), parameters, Some(bytes))] => {
            assert_eq!(
                parameters[0],
                Parameter::memref(Direction::Output, 100, 300)
            );
            assert!(bytes[..100].iter().all(|byte| *byte == 0xAB));
            assert!(bytes[400..].iter().all(|byte| *byte == 0xAB));
            for (index, byte) in bytes[100..400].iter().enumerate() {
                assert_eq!(*byte, test_pta::pattern(9, index as u64));
            }
        }
        other => panic!("{other:?}"),
    }

    // An input memref: OP-TEE reads what the kernel wrote.
    let bytes = recorder.buffer().unwrap();
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = (index % 7) as u8;
    }
    let expected: u64 = bytes[10..4010].iter().map(|byte| u64::from(*byte)).sum();
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::memref(Direction::Input, 10, 4000);
    parameters[1] = Parameter::value_output();
    user.invoke(session, test_pta::CHECKSUM, parameters, Some(bytes))
        .unwrap();
    optee.settle();
    match recorder.take().as_slice() {
        [Event::Completed(_, Ok(()), parameters, Some(_))] => {
            assert_eq!(parameters[1].values(), (expected, 4000))
        }
        other => panic!("{other:?}"),
    }

    // Too small a window: SHORT_BUFFER and the size needed, nothing copied past it.
    let bytes = recorder.buffer().unwrap();
    bytes.fill(0);
    let parameters = common::fill(0, 8, 1, 64);
    user.invoke(session, test_pta::FILL, parameters, Some(bytes))
        .unwrap();
    optee.settle();
    match recorder.take().as_slice() {
        [Event::Completed(_, Err(error), parameters, Some(bytes))] => {
            assert_eq!(
                *error,
                tee_error(TeeResult::SHORT_BUFFER, Origin::TrustedApplication)
            );
            assert_eq!(parameters[0], Parameter::memref(Direction::Output, 0, 64));
            assert!(bytes[8..].iter().all(|byte| *byte == 0));
        }
        other => panic!("{other:?}"),
    }

    user.close_session(session).unwrap();
    optee.settle();
    assert_eq!(recorder.take(), [Event::Closed(session, Ok(()))]);
    assert_eq!(optee.monitor.world().optee().open_sessions, 0);
    // Every bounce region came back; only the argument page is shared.
    assert_eq!(optee.transactions(), 1);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
    assert_eq!(optee.driver.busy_slots(), 0);
}

#[test]
fn tee_errors_carry_their_origin() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder) = optee.user("test");
    // A TA OP-TEE lacks: it asks the normal world to load it (LOAD_TA,
    // refused: no tee-supplicant), then ITEM_NOT_FOUND from the TEE.
    user.open_session(TaUuid([7; 16]), Login::ReeKernel, NO_PARAMETERS, None)
        .unwrap();
    optee.settle();
    assert!(matches!(
        recorder.take().as_slice(),
        [Event::Opened(Err(error), ..)] if *error == tee_error(TeeResult::ITEM_NOT_FOUND, Origin::Tee)
    ));
    assert_eq!(
        optee.monitor.world().optee().last_rpc_result,
        TeeResult::COMMUNICATION.0
    );
    // An invocation on a session that is not open.
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::value_input(1, 2);
    parameters[1] = Parameter::value_output();
    user.invoke(SessionId(77), test_pta::ADD, parameters, None)
        .unwrap();
    optee.settle();
    assert!(matches!(
        recorder.take().as_slice(),
        [Event::Completed(_, Err(error), ..)] if *error == tee_error(TeeResult::BAD_PARAMETERS, Origin::Tee)
    ));
    // Closing it: ITEM_NOT_FOUND.
    user.close_session(SessionId(77)).unwrap();
    optee.settle();
    assert_eq!(
        recorder.take(),
        [Event::Closed(
            SessionId(77),
            Err(tee_error(TeeResult::ITEM_NOT_FOUND, Origin::Tee))
        )]
    );
}

#[test]
fn the_hil_refuses_what_it_cannot_start_and_gives_the_buffer_back() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot(op_tee(OpteeFault::None));
    let (user, recorder) = optee.user("test");
    assert_eq!(user.cancel(SessionId(1)), Err(ErrorCode::ALREADY));
    let mut parameters = NO_PARAMETERS;
    parameters[0] = Parameter::memref(Direction::Output, 60, 8);
    let (error, back) = user
        .open_session(TEST_PTA, Login::ReeKernel, parameters, Some(buffer(64)))
        .unwrap_err();
    assert_eq!(error, ErrorCode::INVAL, "the window ends past the buffer");
    assert_eq!(back.map(|buffer| buffer.len()), Some(64));
    let (error, _) = user
        .open_session(
            TEST_PTA,
            Login::ReeKernel,
            NO_PARAMETERS,
            Some(buffer(70_000)),
        )
        .unwrap_err();
    assert_eq!(error, ErrorCode::SIZE);
    user.open_session(TEST_PTA, Login::ReeKernel, NO_PARAMETERS, None)
        .unwrap();
    let (error, back) = user
        .open_session(TEST_PTA, Login::Public, NO_PARAMETERS, Some(buffer(8)))
        .unwrap_err();
    assert_eq!((error, back.is_some()), (ErrorCode::BUSY, true));
    assert!(recorder.take().is_empty(), "nothing from inside the calls");
    optee.settle();
    assert_eq!(recorder.take().len(), 1);
}

#[test]
fn the_self_test_passes_every_check() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot_with(op_tee(OpteeFault::None), true, |_| {});
    let results = optee.self_test.unwrap().results();
    assert!(results.finished);
    assert_eq!((results.passed, results.failed), (14, 0), "{results:?}");
    assert!(!optee.bus.is_busy());
    // RPC allocations were freed and reclaimed; sessions closed.
    assert_eq!(optee.driver.outstanding_regions(), (0, 0));
    assert_eq!(optee.transactions(), 1);
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
    let summary = optee.monitor.world().optee();
    assert_eq!(summary.open_sessions, 0);
    assert_eq!(summary.suspended_threads, 0);
    assert!(summary.rpcs >= 6, "{summary:?}");
}

#[test]
fn bind_returns_at_once_and_the_probe_runs_split_phase_through_the_request_engine() {
    let _guard = testbed::deferred::exclusive();
    let optee = common::boot_unsettled(op_tee(OpteeFault::None));
    // Bound, its first call (GET_API_VERSION) sent, not answered yet.
    assert!(optee.driver.is_split_phase());
    assert_eq!(optee.driver.state(), DriverState::Probing);
    assert!(optee.bus.is_busy(), "the probe holds boot completion");
    assert!(optee.driver.info().is_none());
    optee.settle();
    assert_eq!(optee.driver.state(), DriverState::Ready);
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    assert!(!optee.bus.is_busy());
    let (engine, _) = optee.requests.unwrap();
    let counters = capsule_ffa::requests::SplitPhaseRequests::counters(engine);
    // 3 probe calls; open, size, list and close (each a yielding call
    // answered at once); one UNREGISTER_SHM for the list's bounce region.
    assert_eq!(counters.sent, 3 + 4 + 1);
    assert_eq!(counters.answered, counters.sent);
    assert_eq!(counters.failed, 0);
}

#[test]
fn without_a_request_engine_the_same_calls_run_blocking() {
    let _guard = testbed::deferred::exclusive();
    let optee = common::boot_blocking_with(op_tee(OpteeFault::None), true, |_| {});
    assert!(!optee.driver.is_split_phase());
    assert_eq!(optee.driver.state(), DriverState::Ready);
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    let results = optee.self_test.unwrap().results();
    assert!(results.finished);
    assert_eq!((results.passed, results.failed), (14, 0), "{results:?}");
    assert_eq!(optee.driver.outstanding_regions(), (0, 0));
    assert_eq!(optee.transactions(), 1, "only the argument page");
    // A probe that fails in bind fails the binding.
    let refused = common::boot_blocking_with(op_tee(OpteeFault::ApiMajor2), false, |_| {});
    assert!(matches!(
        refused.driver.state(),
        DriverState::NotDriven(NotDriven::IncompatibleApi(_))
    ));
}
