//! Properties of every field the driver reads from OP-TEE: its register
//! answers, the argument structs and RPC structs it writes into shared
//! memory, and a whole call against an OP-TEE that lies — no panic, no read
//! outside the shared page, one outcome per call, and every shared region
//! reclaimed or accounted for on every path.

mod common;

use std::cell::RefCell;

use capsule_optee::abi::{Capabilities, YieldingReply};
use capsule_optee::message::{self, ArgumentLayout, Bytes, Outgoing};
use capsule_optee::rpc::{self, RpcAction};
use common::{boot_with, buffer, op_tee, Event, Optee};
use ffa_abi::optee::message::{Header, RawParameter, MAXIMUM_PARAMETERS};
use ffa_abi::optee::test_pta;
use ffa_model::OpteeFault;
use kernel::hil::tee::{Direction, Login, Parameter, Tee, NO_PARAMETERS};
use kernel::ErrorCode;
use proptest::prelude::*;

/// A 4 KiB page that records every access and refuses any outside it.
struct Page {
    bytes: RefCell<Vec<u8>>,
    accesses: RefCell<Vec<(usize, usize)>>,
}

impl Page {
    fn new(bytes: Vec<u8>) -> Page {
        Page {
            bytes: RefCell::new(bytes),
            accesses: RefCell::new(Vec::new()),
        }
    }

    fn inside(&self) -> bool {
        let length = self.bytes.borrow().len();
        self.accesses
            .borrow()
            .iter()
            .all(|(offset, size)| offset.checked_add(*size).is_some_and(|end| end <= length))
    }
}

impl Bytes for Page {
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        self.accesses.borrow_mut().push((offset, destination.len()));
        let bytes = self.bytes.borrow();
        let source = bytes
            .get(offset..offset + destination.len())
            .ok_or(ErrorCode::SIZE)?;
        destination.copy_from_slice(source);
        Ok(())
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        self.accesses.borrow_mut().push((offset, source.len()));
        let mut bytes = self.bytes.borrow_mut();
        bytes
            .get_mut(offset..offset + source.len())
            .ok_or(ErrorCode::SIZE)?
            .copy_from_slice(source);
        Ok(())
    }
}

fn outgoing(count: usize, kinds: [u64; MAXIMUM_PARAMETERS]) -> Outgoing {
    let mut parameters = [RawParameter::default(); MAXIMUM_PARAMETERS];
    for (parameter, kind) in parameters.iter_mut().zip(kinds) {
        *parameter = RawParameter::value(kind, 1, 2, 3);
    }
    Outgoing {
        header: Header::default(),
        parameters,
        count,
    }
}

proptest! {
    #[test]
    fn register_answers_never_panic_and_w3_decides(words in any::<[u32; 5]>()) {
        match YieldingReply::decode(words) {
            Ok(YieldingReply::Refused(result)) => prop_assert_eq!(result.0, words[0]),
            Ok(YieldingReply::Ran(_)) => prop_assert_eq!(words[0], 0),
            Err(_) => prop_assert_eq!(words[0], 0),
        }
        if let Ok(Ok(capabilities)) = Capabilities::decode(words) {
            prop_assert!(capabilities.rpc_parameters >= 1);
            prop_assert!(u32::from(capabilities.rpc_parameters) <= capsule_optee::abi::MAXIMUM_RPC_PARAMETERS);
            prop_assert!(capabilities.notification_keys() >= 1);
        }
    }

    #[test]
    fn results_and_rpcs_are_read_inside_the_page_whatever_it_holds(
        bytes in proptest::collection::vec(any::<u8>(), 4096),
        rpc_parameters in 0u8..=255,
        arg_offset in any::<bool>(),
        slot in 0usize..8,
        count in 0usize..=MAXIMUM_PARAMETERS,
        kinds in any::<[u64; MAXIMUM_PARAMETERS]>(),
    ) {
        let layout = ArgumentLayout::new(4096, rpc_parameters, arg_offset, 4);
        prop_assert!(layout.entries >= 1 && layout.entries * layout.entry_size <= 4096);
        let slot = slot % layout.entries;
        let page = Page::new(bytes);
        let sent = outgoing(count, kinds);
        let offset = layout.offset(slot);
        if let Ok(incoming) = message::read_result(&page, offset, &sent) {
            for (parameter, kind) in incoming.parameters.iter().zip(kinds).take(count) {
                prop_assert_eq!(parameter.attribute, kind);
            }
        }
        if let Ok(request) = message::read_rpc(&page, sent.rpc_offset(offset), layout.rpc_parameters) {
            prop_assert!(request.count <= layout.rpc_parameters);
            let action = rpc::decide(&request, 255);
            if let RpcAction::Wait { key, .. } | RpcAction::Send { key } = action {
                prop_assert!(key <= 255);
            }
        }
        prop_assert!(message::write_call(&page, offset, &sent, &layout).is_ok());
        prop_assert!(page.inside(), "every access lies in the page");
    }
}

/// How the lying OP-TEE lies about one yielding answer.
#[derive(Debug, Clone)]
enum Lie {
    /// Replaces w3–w7 of the answer.
    Words([u32; 5]),
    /// Writes these bytes over the argument page at this offset.
    Memory(usize, Vec<u8>),
}

fn lie() -> impl Strategy<Value = Lie> {
    prop_oneof![
        any::<[u32; 5]>().prop_map(Lie::Words),
        (
            prop_oneof![Just(0u32), Just(1), Just(2), any::<u32>()],
            any::<u32>(),
            0u32..4
        )
            .prop_map(|(code, thread, error)| Lie::Words([
                [0, 0xFFFF_000D, 0xFFFF_0006, 1][error as usize],
                code,
                0,
                0,
                thread
            ])),
        (0usize..4096, proptest::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(offset, bytes)| Lie::Memory(offset, bytes)),
    ]
}

/// Which call the case makes.
fn command() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![
        test_pta::FILL,
        test_pta::CHECKSUM,
        test_pta::SHM_ROUND_TRIP,
        test_pta::WAIT_QUEUE,
        test_pta::SLEEP,
        test_pta::UNKNOWN_RPC,
    ])
}

#[test]
fn a_lying_op_tee_never_breaks_the_driver() {
    let _guard = testbed::deferred::exclusive();
    let lies: &'static RefCell<Option<(usize, Lie)>> = Box::leak(Box::new(RefCell::new(None)));
    let optee: Optee = boot_with(op_tee(OpteeFault::None), false, |_| {});
    // Where the argument page lies in memory: the pool's first page.
    let page_address = common::POOL_BASE;
    let memory = optee.memory.clone();
    optee.monitor.rewrite(move |call, reply| {
        let yielding = call.x[0] as u32 == 0x8400_006F && (call.x[3] as u32) & (1 << 31) != 0;
        let mut slot = lies.borrow_mut();
        let Some((answers_left, lie)) = slot.as_mut() else {
            return reply;
        };
        if !yielding {
            return reply;
        }
        if *answers_left > 0 {
            *answers_left -= 1;
            return reply;
        }
        let lie = lie.clone();
        *slot = None;
        match lie {
            Lie::Words(words) => {
                let mut forged = reply;
                for (index, word) in words.into_iter().enumerate() {
                    forged.x[3 + index] = u64::from(word);
                }
                forged
            }
            Lie::Memory(offset, bytes) => {
                let end = (offset + bytes.len()).min(4096);
                memory.write(page_address + offset as u64, &bytes[..end - offset]);
                reply
            }
        }
    });
    let snapshot = optee.monitor.world().clone();
    let (user, recorder) = optee.user("liar's client");
    let config = ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let cases = std::cell::Cell::new(0u32);
    proptest!(config, |(answers_before in 0usize..6, lie in lie(), command in command())| {
        cases.set(cases.get() + 1);
        *optee.monitor.world_mut() = snapshot.clone();
        recorder.take();
        // A session, made before the lie starts.
        user.open_session(common::TEST_PTA, Login::ReeKernel, NO_PARAMETERS, None).unwrap();
        optee.settle();
        let session = match recorder.take().as_slice() {
            [Event::Opened(Ok(session), ..)] => *session,
            other => panic!("{other:?}"),
        };
        *lies.borrow_mut() = Some((answers_before, lie));
        let mut parameters = NO_PARAMETERS;
        match command {
            test_pta::FILL => {
                parameters[0] = Parameter::memref(Direction::Output, 0, 512);
                parameters[1] = Parameter::value_input(3, 512);
            }
            test_pta::CHECKSUM => {
                parameters[0] = Parameter::memref(Direction::Input, 0, 512);
                parameters[1] = Parameter::value_output();
            }
            test_pta::UNKNOWN_RPC => parameters[0] = Parameter::value_output(),
            test_pta::SHM_ROUND_TRIP => {
                parameters[0] = Parameter::value_input(3000, 0);
                parameters[1] = Parameter::value_output();
            }
            _ => parameters[0] = Parameter::value_input(4, 0),
        }
        let bytes = recorder.buffer().unwrap_or_else(|| buffer(512));
        user.invoke(session, command, parameters, Some(bytes)).unwrap();
        optee.settle();
        *lies.borrow_mut() = None;
        let events = recorder.take();
        prop_assert_eq!(events.len(), 1, "one outcome: {:?}", events);
        prop_assert!(matches!(events[0], Event::Completed(..)));
        prop_assert_eq!(optee.driver.busy_slots(), 0);
        prop_assert!(!user.is_busy());
        let counters = optee.driver.counters();
        let (pending, allocations) = optee.driver.outstanding_regions();
        // Every region the driver shared is reclaimed, kept to reclaim,
        // lent to OP-TEE through an RPC, given up with a log, or the
        // argument page: none is lost.
        prop_assert_eq!(
            counters.shares,
            counters.reclaims + counters.abandoned + (pending + allocations) as u32 + 1
        );
        user.close_session(session).unwrap();
        optee.settle();
        recorder.take();
    });
    assert_eq!(cases.get(), 96);
}
