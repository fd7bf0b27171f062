//! OP-TEE answers the driver must not trust: refused or unusable
//! capabilities, no `ARG_OFFSET`, a failing direct request at probe, and a
//! results struct whose shape changed. Each ends in a clear state, with
//! every shared region back.

mod common;

use capsule_optee::driver::{DriverState, EnumerationState, NotDriven};
use common::{boot_with, op_tee, Event, POOL_PAGES};
use ffa_abi::optee::{function, test_pta};
use ffa_model::OpteeFault;
use kernel::hil::smccc::SmcccRegisters;
use kernel::hil::tee::{Login, Tee, TeeError, NO_PARAMETERS};
use kernel::ErrorCode;

const DIRECT_REQ_32: u32 = 0x8400_006F;

/// Rewrites OP-TEE's answers to the blocking `function` with `words` in w3–w7.
fn forge_blocking(
    words: [u32; 5],
    function: u32,
) -> impl FnMut(&SmcccRegisters, SmcccRegisters) -> SmcccRegisters {
    move |call, reply| {
        if call.x[0] as u32 == DIRECT_REQ_32 && call.x[3] as u32 == function {
            let mut forged = reply;
            for (index, word) in words.into_iter().enumerate() {
                forged.x[3 + index] = u64::from(word);
            }
            forged
        } else {
            reply
        }
    }
}

#[test]
fn refused_or_unusable_capabilities_leave_op_tee_undriven() {
    let _guard = testbed::deferred::exclusive();
    let refused = boot_with(op_tee(OpteeFault::None), false, |monitor| {
        monitor.rewrite(forge_blocking(
            [0xFFFF_0000, 0, 0, 0, 0],
            function::EXCHANGE_CAPABILITIES,
        ))
    });
    assert!(matches!(
        refused.driver.state(),
        DriverState::NotDriven(NotDriven::CapabilitiesRefused(_))
    ));
    assert_eq!(refused.pool.free_pages(), POOL_PAGES);
    let unusable = boot_with(op_tee(OpteeFault::None), false, |monitor| {
        monitor.rewrite(forge_blocking(
            [0, 0, 1, 0, 0],
            function::EXCHANGE_CAPABILITIES,
        ))
    });
    assert!(matches!(
        unusable.driver.state(),
        DriverState::NotDriven(NotDriven::CapabilitiesMalformed(_))
    ));
    assert_eq!(unusable.transactions(), 0);
}

#[test]
fn a_failing_direct_request_at_probe_is_a_transport_failure() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot_with(op_tee(OpteeFault::None), false, |monitor| {
        monitor.rewrite(|call, reply| {
            if call.x[0] as u32 == DIRECT_REQ_32 && call.x[3] == 0 {
                SmcccRegisters::from_slice(&[0x8400_0060, 0, (-6i32) as u32 as u64])
            } else {
                reply
            }
        })
    });
    assert!(matches!(
        optee.driver.state(),
        DriverState::NotDriven(NotDriven::Transport(_))
    ));
    assert_eq!(optee.driver.info(), None);
}

#[test]
fn without_arg_offset_one_slot_serves_every_user_in_turn() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot_with(op_tee(OpteeFault::None), false, |monitor| {
        monitor.rewrite(forge_blocking(
            [0, 4, 0, 0, 0],
            function::EXCHANGE_CAPABILITIES,
        ))
    });
    let layout = optee.driver.info().unwrap().layout.unwrap();
    assert_eq!(layout.entries, 1);
    assert_eq!(optee.driver.enumeration(), EnumerationState::Listed(1));
    let users: Vec<_> = (0..3).map(|_| optee.user("turn")).collect();
    for (user, _) in &users {
        user.open_session(common::TEST_PTA, Login::Public, NO_PARAMETERS, None)
            .unwrap();
    }
    optee.settle();
    for (_, recorder) in &users {
        assert!(matches!(
            recorder.take().as_slice(),
            [Event::Opened(Ok(_), ..)]
        ));
    }
    // Every call went in at offset 0.
    assert!(optee
        .monitor
        .calls()
        .iter()
        .filter(|call| call.x[0] as u32 == DIRECT_REQ_32
            && call.x[3] as u32 == function::YIELDING_CALL_WITH_ARG)
        .all(|call| call.x[6] == 0));
}

#[test]
fn a_results_struct_whose_shape_changed_is_refused_and_its_memory_reclaimed() {
    let _guard = testbed::deferred::exclusive();
    let optee = boot_with(op_tee(OpteeFault::None), false, |_| {});
    let (user, recorder, session) = optee.open_test_session("test");
    // OP-TEE "answers" with num_params = 6 in the struct of a 2-parameter call.
    let memory = optee.memory.clone();
    optee.monitor.rewrite(move |call, reply| {
        if call.x[0] as u32 == DIRECT_REQ_32 && call.x[3] as u32 == function::YIELDING_CALL_WITH_ARG
        {
            let slot = call.x[6];
            memory.write(common::POOL_BASE + slot + 28, &6u32.to_le_bytes());
        }
        reply
    });
    let parameters = common::fill(0, 64, 1, 64);
    user.invoke(
        session,
        test_pta::FILL,
        parameters,
        Some(common::buffer(64)),
    )
    .unwrap();
    optee.settle();
    optee.monitor.stop_rewriting();
    match recorder.take().as_slice() {
        [Event::Completed(_, Err(error), _, Some(_))] => {
            assert_eq!(*error, TeeError::Transport(ErrorCode::FAIL))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(optee.transactions(), 1, "the bounce region was reclaimed");
    assert_eq!(optee.pool.free_pages(), POOL_PAGES - 1);
}
