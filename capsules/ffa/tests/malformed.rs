//! Hand-written replies for malformed and hostile answers: each must give a clear error, never a panic or a hang.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{DirectMessage2, DirectMessage32, DirectMessage64};
use ffa_abi::{PartitionId, Status, Version};

use capsule_ffa::version::SupportedVersion;
use common::{fixture, ids, scripted, Fixture};
use ffa_abi::Uuid;
use ffa_model::FaultConfig;
use kernel::hil::smccc::SmcccRegisters;
use kernel::ErrorCode;

const ECHO: PartitionId = PartitionId::new(0x8001);
const ERROR: u64 = ids::FFA_ERROR as u64;
const SUCCESS: u64 = ids::FFA_SUCCESS_32 as u64;

fn negative(code: i32) -> u64 {
    code as u32 as u64
}

fn ready(version: SupportedVersion) -> Fixture {
    let fixture = fixture(
        FaultConfig::default(),
        ClientConfig {
            requested_version: version,
            ..ClientConfig::DEFAULT
        },
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    fixture
}

/// Replaces the reply to every call of `function` with `reply`.
fn forge(fixture: &Fixture, function: u32, reply: &[u64]) {
    let forged = SmcccRegisters::from_slice(reply);
    fixture.conduit.rewrite(move |call, original| {
        if call.x[0] as u32 == function {
            forged
        } else {
            original
        }
    });
}

#[test]
fn every_ffa_error_code_is_decoded() {
    let expected = [
        (-1, Status::NotSupported, ErrorCode::NOSUPPORT),
        (-2, Status::InvalidParameters, ErrorCode::INVAL),
        (-3, Status::NoMemory, ErrorCode::NOMEM),
        (-4, Status::Busy, ErrorCode::BUSY),
        (-5, Status::Interrupted, ErrorCode::CANCEL),
        (-6, Status::Denied, ErrorCode::RESERVE),
        (-7, Status::Retry, ErrorCode::BUSY),
        (-8, Status::Aborted, ErrorCode::CANCEL),
        (-9, Status::NoData, ErrorCode::FAIL),
        (-10, Status::NotReady, ErrorCode::OFF),
        (-77, Status::Unknown(-77), ErrorCode::FAIL),
    ];
    for (code, status, error_code) in expected {
        let (conduit, client) = scripted(&[&[0x1_0002], &[0x1_0002], &[ERROR, 0, negative(code)]]);
        assert_eq!(
            client.initialize(),
            Err(ClientError::Status(status)),
            "code {code}"
        );
        assert_eq!(ErrorCode::from(ClientError::Status(status)), error_code);
        assert_eq!(status.code(), code);
        assert_eq!(conduit.functions().last(), Some(&ids::FFA_ID_GET));
    }
}

#[test]
fn an_error_reply_with_a_non_negative_code_is_malformed() {
    for code in [0u64, 1, 0x7fff_ffff] {
        let (_, client) = scripted(&[&[0x1_0002], &[0x1_0002], &[ERROR, 0, code]]);
        assert_eq!(client.initialize(), Err(ClientError::MalformedReply));
    }
}

#[test]
fn smccc_older_than_1_2_is_refused_before_any_ffa_call() {
    for (reply, major, minor) in [(u64::MAX, 1, 0), (0x1_0001, 1, 1), (0x0_0002, 0, 2)] {
        let (conduit, client) = scripted(&[&[reply]]);
        assert_eq!(
            client.initialize(),
            Err(ClientError::SmcccTooOld { major, minor })
        );
        assert_eq!(conduit.functions(), vec![ids::SMCCC_VERSION]);
    }
}

#[test]
fn version_replies_with_bit_31_or_another_major_are_refused() {
    let cases: [(u64, ClientError); 5] = [
        (
            0x2_0000,
            ClientError::IncompatibleVersion {
                requested: Version::new(1, 2),
                callee: Version::new(2, 0),
            },
        ),
        (
            0x0_0009,
            ClientError::IncompatibleVersion {
                requested: Version::new(1, 2),
                callee: Version::new(0, 9),
            },
        ),
        (
            0x8001_0002,
            ClientError::Status(Status::Unknown(0x8001_0002u32 as i32)),
        ),
        (u64::MAX, ClientError::Status(Status::NotSupported)),
        (negative(-10), ClientError::Status(Status::NotReady)),
    ];
    for (reply, error) in cases {
        let (conduit, client) = scripted(&[&[0x1_0002], &[reply]]);
        assert_eq!(
            client.initialize(),
            Err(error),
            "FFA_VERSION answered {reply:#x}"
        );
        assert_eq!(
            conduit.functions(),
            vec![ids::SMCCC_VERSION, ids::FFA_VERSION]
        );
    }
    // FFA_ERROR in reply to FFA_VERSION (a booting callee) carries the status in w2.
    let (_, client) = scripted(&[&[0x1_0002], &[ERROR, 0, negative(-4)]]);
    assert_eq!(client.initialize(), Err(ClientError::Status(Status::Busy)));
}

#[test]
fn an_unexpected_function_id_in_x0_is_an_error() {
    for x0 in [
        ids::FFA_MSG_SEND_DIRECT_RESP_32 as u64,
        ids::FFA_INTERRUPT as u64,
        0x1234_5678,
        0x8400_00ff,
    ] {
        let (_, client) = scripted(&[&[0x1_0002], &[0x1_0002], &[x0, 0, 0x8000]]);
        assert_eq!(
            client.initialize(),
            Err(ClientError::UnexpectedFunction(x0 as u32)),
            "x0 = {x0:#x}"
        );
    }
}

#[test]
fn a_reserved_rxtx_granule_is_refused() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.conduit.rewrite(|call, reply| {
        if call.x[0] as u32 == ids::FFA_FEATURES && call.x[1] as u32 == ids::FFA_RXTX_MAP_64 {
            SmcccRegisters::from_slice(&[SUCCESS, 0, 3])
        } else {
            reply
        }
    });
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::MalformedReply)
    );
}

#[test]
fn a_64k_granule_needs_64k_aligned_buffers() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.conduit.rewrite(|call, reply| {
        if call.x[0] as u32 == ids::FFA_FEATURES && call.x[1] as u32 == ids::FFA_RXTX_MAP_64 {
            SmcccRegisters::from_slice(&[SUCCESS, 0, 1])
        } else {
            reply
        }
    });
    // The test buffers are 64 KiB and at 1 MiB-aligned addresses: accepted.
    assert_eq!(fixture.client.initialize().unwrap().buffers.size, 64 * 1024);

    let memory = common::Memory::new();
    let rx = common::leak(memory.page(0x4000_1000, 0x10000));
    let tx = common::leak(memory.page(0x4010_0000, 0x10000));
    let conduit = common::leak(common::ModelMonitor::new(FaultConfig::default(), memory));
    conduit.rewrite(|call, reply| {
        if call.x[0] as u32 == ids::FFA_FEATURES && call.x[1] as u32 == ids::FFA_RXTX_MAP_64 {
            SmcccRegisters::from_slice(&[SUCCESS, 0, 1])
        } else {
            reply
        }
    });
    let client = common::leak(capsule_ffa::FfaClient::new(
        conduit,
        rx,
        tx,
        ClientConfig::DEFAULT,
    ));
    assert_eq!(
        client.initialize(),
        Err(ClientError::BufferMisaligned {
            alignment: 64 * 1024
        })
    );
    assert_eq!(conduit.count(ids::FFA_RXTX_MAP_64), 0);
}

#[test]
fn unusable_descriptor_sizes_are_refused_and_rx_released() {
    for size in [0u64, 7, 8, 23, 0x2_0000] {
        let fixture = ready(SupportedVersion::V1_1);
        fixture.conduit.rewrite(move |call, mut reply| {
            if call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET && call.x[5] == 0 {
                reply.x[3] = size;
            }
            reply
        });
        let result = fixture.client.discover(Uuid::NIL, 8, &mut |_| {});
        assert_eq!(
            result,
            Err(ClientError::DescriptorSize(size as u32)),
            "size {size}"
        );
        assert_eq!(
            fixture.conduit.functions().last(),
            Some(&ids::FFA_RX_RELEASE)
        );
        assert!(!fixture.client.mailbox().rx_owned());
    }
}

#[test]
fn a_count_that_overflows_the_rx_buffer_is_refused_and_rx_released() {
    for count in [2731u64, 0xffff_ffff] {
        let fixture = ready(SupportedVersion::V1_1);
        fixture.conduit.rewrite(move |call, mut reply| {
            if call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET && call.x[5] == 0 {
                reply.x[2] = count;
            }
            reply
        });
        assert_eq!(
            fixture.client.discover(Uuid::NIL, 4096, &mut |_| {}),
            Err(ClientError::CountOverflow(count as u32))
        );
        assert_eq!(
            fixture.conduit.functions().last(),
            Some(&ids::FFA_RX_RELEASE)
        );
    }
}

#[test]
fn a_count_that_grows_between_the_two_calls_is_checked_again() {
    let fixture = ready(SupportedVersion::V1_1);
    fixture.conduit.rewrite(|call, mut reply| {
        if call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET && call.x[5] == 1 {
            reply.x[2] = 1;
        }
        reply
    });
    assert_eq!(
        fixture.client.discover(Uuid::NIL, 2, &mut |_| {}),
        Err(ClientError::TableFull { capacity: 2 })
    );
    assert_eq!(
        fixture.conduit.functions().last(),
        Some(&ids::FFA_RX_RELEASE)
    );
}

#[test]
fn a_failing_rx_release_is_reported() {
    let fixture = ready(SupportedVersion::V1_1);
    forge(&fixture, ids::FFA_RX_RELEASE, &[ERROR, 0, negative(-6)]);
    assert_eq!(
        fixture.client.discover(Uuid::NIL, 8, &mut |_| {}),
        Err(ClientError::Status(Status::Denied))
    );
    assert!(
        !fixture.client.mailbox().rx_owned(),
        "this side stops reading RX anyway"
    );
}

#[test]
fn malformed_register_discovery_replies_are_refused() {
    let summaries = [
        // last 2, current 3: current beyond last.
        2u64 | 3 << 16 | 24 << 48,
        // six partitions in one call.
        9 | 5 << 16 | 24 << 48,
        // three 48-byte descriptors in one call.
        9 | 2 << 16 | 48 << 48,
    ];
    for summary in summaries {
        let fixture = ready(SupportedVersion::V1_2);
        fixture.conduit.rewrite(move |call, mut reply| {
            if call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET_REGS {
                reply.x[2] = summary;
            }
            reply
        });
        assert_eq!(
            fixture.client.discover(Uuid::NIL, 16, &mut |_| {}),
            Err(ClientError::MalformedReply),
            "summary {summary:#x}"
        );
    }
    // A descriptor size that is not whole registers of 24 bytes or more.
    for size in [0u64, 8, 20, 26] {
        let fixture = ready(SupportedVersion::V1_2);
        fixture.conduit.rewrite(move |call, mut reply| {
            if call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET_REGS {
                reply.x[2] = 2 | 2 << 16 | size << 48;
            }
            reply
        });
        assert_eq!(
            fixture.client.discover(Uuid::NIL, 16, &mut |_| {}),
            Err(ClientError::DescriptorSize(size as u32)),
            "size {size}"
        );
    }
}

#[test]
fn register_discovery_that_never_ends_is_bounded_by_the_table() {
    let fixture = ready(SupportedVersion::V1_2);
    // Claims 65536 partitions, always "current = start".
    fixture.conduit.rewrite(|call, _| {
        let start = call.x[3] & 0xffff;
        SmcccRegisters::from_slice(&[
            ids::FFA_SUCCESS_64 as u64,
            0,
            0xffff | start << 16 | 24 << 48,
            0x8001,
        ])
    });
    assert_eq!(
        fixture.client.discover(Uuid::NIL, 8, &mut |_| {}),
        Err(ClientError::TableFull { capacity: 8 })
    );
    assert_eq!(fixture.conduit.functions().len(), 1);
}

#[test]
fn register_discovery_falls_back_to_rx_when_refused() {
    let fixture = ready(SupportedVersion::V1_2);
    forge(
        &fixture,
        ids::FFA_PARTITION_INFO_GET_REGS,
        &[ERROR, 0, negative(-1)],
    );
    let mut count = 0;
    fixture
        .client
        .discover(Uuid::NIL, 8, &mut |_| count += 1)
        .unwrap();
    assert_eq!(count, ffa_model::partition::HOSTED_PARTITIONS.len());
    assert_eq!(
        fixture.conduit.functions(),
        vec![
            ids::FFA_PARTITION_INFO_GET_REGS,
            ids::FFA_PARTITION_INFO_GET,
            ids::FFA_PARTITION_INFO_GET,
            ids::FFA_RX_RELEASE
        ]
    );
}

#[test]
fn direct_responses_from_or_to_the_wrong_endpoint_are_refused() {
    let fixture = ready(SupportedVersion::V1_2);
    forge(
        &fixture,
        ids::FFA_MSG_SEND_DIRECT_REQ_32,
        &[ids::FFA_MSG_SEND_DIRECT_RESP_32 as u64, 0x8002 << 16],
    );
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::WrongResponder {
            expected: ECHO,
            actual: PartitionId::new(0x8002)
        })
    );
    forge(
        &fixture,
        ids::FFA_MSG_SEND_DIRECT_REQ_32,
        &[ids::FFA_MSG_SEND_DIRECT_RESP_32 as u64, 0x8001 << 16 | 0x17],
    );
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::WrongResponder {
            expected: PartitionId::new(0),
            actual: PartitionId::new(0x17)
        })
    );
    forge(
        &fixture,
        ids::FFA_MSG_SEND_DIRECT_REQ2,
        &[ids::FFA_MSG_SEND_DIRECT_RESP2 as u64, 0x8003 << 16],
    );
    assert!(matches!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage2::default()),
        Err(ClientError::WrongResponder { .. })
    ));
}

#[test]
fn direct_responses_of_the_wrong_kind_are_refused() {
    let fixture = ready(SupportedVersion::V1_2);
    let cases: [(u32, u64); 4] = [
        (
            ids::FFA_MSG_SEND_DIRECT_REQ_32,
            ids::FFA_MSG_SEND_DIRECT_RESP_64 as u64,
        ),
        (
            ids::FFA_MSG_SEND_DIRECT_REQ_64,
            ids::FFA_MSG_SEND_DIRECT_RESP_32 as u64,
        ),
        (ids::FFA_MSG_SEND_DIRECT_REQ_64, SUCCESS),
        (
            ids::FFA_MSG_SEND_DIRECT_REQ2,
            ids::FFA_MSG_SEND_DIRECT_RESP_64 as u64,
        ),
    ];
    for (request, response) in cases {
        forge(&fixture, request, &[response, 0x8001 << 16]);
        let result = match request {
            ids::FFA_MSG_SEND_DIRECT_REQ_32 => fixture
                .client
                .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default())
                .map(|_| ()),
            ids::FFA_MSG_SEND_DIRECT_REQ_64 => fixture
                .client
                .direct_request(ECHO, Uuid::NIL, &DirectMessage64::default())
                .map(|_| ()),
            _ => fixture
                .client
                .direct_request(ECHO, Uuid::NIL, &DirectMessage2::default())
                .map(|_| ()),
        };
        assert_eq!(
            result,
            Err(ClientError::UnexpectedFunction(response as u32)),
            "{request:#x} answered {response:#x}"
        );
    }
}

#[test]
fn a_framework_message_in_place_of_a_response_is_refused() {
    let fixture = ready(SupportedVersion::V1_2);
    forge(
        &fixture,
        ids::FFA_MSG_SEND_DIRECT_REQ_32,
        &[
            ids::FFA_MSG_SEND_DIRECT_RESP_32 as u64,
            0x8001 << 16,
            0x8000_0002,
        ],
    );
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::MalformedReply)
    );
}

#[test]
fn preemption_naming_a_partition_that_is_not_preempted_ends_with_the_callee_s_error() {
    let fixture = ready(SupportedVersion::V1_2);
    forge(
        &fixture,
        ids::FFA_MSG_SEND_DIRECT_REQ_32,
        &[ids::FFA_INTERRUPT as u64, 0x8003 << 16],
    );
    // The client resumes the partition named (as Linux does); the model
    // knows 0x8003 is not preempted and refuses.
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::Status(Status::Denied))
    );
    let run = fixture
        .conduit
        .calls()
        .into_iter()
        .find(|call| call.x[0] as u32 == ids::FFA_RUN)
        .expect("FFA_RUN");
    assert_eq!(run.x[1], 0x8003 << 16);
}

#[test]
fn an_endless_yield_is_bounded() {
    let fixture = ready(SupportedVersion::V1_2);
    fixture
        .conduit
        .rewrite(|_, _| SmcccRegisters::from_slice(&[ids::FFA_YIELD as u64, 0x8001 << 16]));
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage64::default()),
        Err(ClientError::ResumptionsExhausted)
    );
    let policy = fixture.client.config().retry;
    assert_eq!(
        fixture.conduit.functions().len(),
        policy.resumptions as usize + 1
    );
}

#[test]
fn a_run_refused_by_the_callee_ends_the_request() {
    let fixture = ready(SupportedVersion::V1_2);
    fixture
        .conduit
        .rewrite(|call, reply| match call.x[0] as u32 {
            ids::FFA_MSG_SEND_DIRECT_REQ_32 => {
                SmcccRegisters::from_slice(&[ids::FFA_INTERRUPT as u64, 0x8001 << 16])
            }
            ids::FFA_RUN => SmcccRegisters::from_slice(&[ERROR, 0, negative(-6)]),
            _ => reply,
        });
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::Status(Status::Denied))
    );
}

#[test]
fn direct_request_errors_other_than_busy_are_not_retried() {
    for code in [-1, -2, -3, -5, -6, -8, -9, -10] {
        let fixture = ready(SupportedVersion::V1_2);
        forge(
            &fixture,
            ids::FFA_MSG_SEND_DIRECT_REQ_32,
            &[ERROR, 0, negative(code)],
        );
        assert!(matches!(
            fixture
                .client
                .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
            Err(ClientError::Status(_))
        ));
        assert_eq!(fixture.conduit.functions().len(), 1, "code {code}");
    }
}

#[test]
fn an_unknown_uuid_answered_with_a_count_of_0_leaves_rx_alone() {
    // OP-TEE answers a UUID no partition implements with success and a count
    // of 0 (the model answers INVALID_PARAMETERS). The count-only call already
    // says there is nothing to read, so RX is neither filled nor released.
    let fixture = ready(SupportedVersion::V1_1);
    forge(&fixture, ids::FFA_PARTITION_INFO_GET, &[SUCCESS, 0, 0, 0]);
    let unknown = Uuid::parse("00000000-0000-0000-0000-000000000001").unwrap();
    assert_eq!(
        fixture
            .client
            .discover(unknown, 8, &mut |_| panic!("no descriptor expected")),
        Ok(0)
    );
    assert_eq!(
        fixture.conduit.functions(),
        vec![ids::FFA_PARTITION_INFO_GET]
    );
    assert_eq!(fixture.conduit.calls()[0].x[5], 1, "count only");
    assert!(!fixture.client.mailbox().rx_owned());
}

#[test]
fn a_v1_0_count_of_0_releases_rx_whatever_w3_holds() {
    // At v1.0 there is no count-only call: OP-TEE fills nothing, hands RX over
    // and answers a count of 0. RX goes back; w3 (reserved at v1.0) is ignored.
    let fixture = ready(SupportedVersion::V1_0);
    fixture
        .conduit
        .rewrite(|call, reply| match call.x[0] as u32 {
            ids::FFA_PARTITION_INFO_GET => SmcccRegisters::from_slice(&[SUCCESS, 0, 0, 0xdead]),
            ids::FFA_RX_RELEASE => SmcccRegisters::from_slice(&[SUCCESS]),
            _ => reply,
        });
    let unknown = Uuid::parse("00000000-0000-0000-0000-000000000001").unwrap();
    assert_eq!(
        fixture
            .client
            .discover(unknown, 8, &mut |_| panic!("no descriptor expected")),
        Ok(0)
    );
    assert_eq!(
        fixture.conduit.functions(),
        vec![ids::FFA_PARTITION_INFO_GET, ids::FFA_RX_RELEASE]
    );
    assert!(!fixture.client.mailbox().rx_owned());
}

#[test]
fn a_count_of_0_needs_no_usable_descriptor_size() {
    // The count-only call promised descriptors, the filling call found none
    // and reported no size: nothing is read, RX is released, and that is not
    // an error.
    let fixture = ready(SupportedVersion::V1_1);
    fixture
        .conduit
        .rewrite(|call, mut reply| match call.x[0] as u32 {
            ids::FFA_PARTITION_INFO_GET if call.x[5] == 0 => {
                reply.x[2] = 0;
                reply.x[3] = 0;
                reply
            }
            _ => reply,
        });
    assert_eq!(
        fixture
            .client
            .discover(Uuid::NIL, 8, &mut |_| panic!("no descriptor expected")),
        Ok(0)
    );
    assert_eq!(
        fixture.conduit.functions().last(),
        Some(&ids::FFA_RX_RELEASE)
    );
    assert!(!fixture.client.mailbox().rx_owned());
}

#[test]
fn a_refused_unmap_keeps_the_session_so_teardown_can_be_retried() {
    let fixture = ready(SupportedVersion::V1_2);
    // The callee refuses the unmap and keeps the buffers mapped: the model's
    // state from before the call is put back after it.
    let before = fixture.conduit.world().clone();
    forge(&fixture, ids::FFA_RXTX_UNMAP, &[ERROR, 0, negative(-4)]);
    assert_eq!(
        fixture.client.teardown(),
        Err(ClientError::Status(Status::Busy))
    );
    *fixture.conduit.world_mut() = before;
    assert!(fixture.client.session().is_some());
    assert!(fixture.conduit.world().buffer_pair().is_some());
    fixture.conduit.stop_rewriting();
    assert_eq!(fixture.client.teardown(), Ok(()));
    assert!(fixture.client.session().is_none());
    assert!(fixture.conduit.world().buffer_pair().is_none());
    // Set-up can run again on the unmapped buffers.
    assert!(fixture.client.initialize().is_ok());
}
