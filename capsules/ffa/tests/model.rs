//! Every ABI path of the client, driven against the FF-A model (`ffa_model::SecureWorld`).

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_ffa::error::ClientError;
use capsule_ffa::features::RxTxGranule;
use capsule_ffa::messaging::{DirectMessage2, DirectMessage32, DirectMessage64, RetryPolicy};
use capsule_ffa::partition::{ExecutionState, PartitionInfo};
use capsule_ffa::version::SupportedVersion;
use common::{fixture, fixture_with_buffers, ids};
use ffa_abi::Uuid;
use ffa_abi::{PartitionId, Status, Version};
use ffa_model::config::PartitionInfoFault;
use ffa_model::mailbox::ReceiveOwner;
use ffa_model::partition::{
    AARCH32_PARTITION_ID, ECHO_PARTITION_ID, ECHO_PARTITION_UUID, INTERRUPTING_PARTITION_ID,
};
use ffa_model::{FaultConfig, ReadinessError};

const ECHO: PartitionId = PartitionId::new(ECHO_PARTITION_ID);
const AARCH32: PartitionId = PartitionId::new(AARCH32_PARTITION_ID);
const INTERRUPTING: PartitionId = PartitionId::new(INTERRUPTING_PARTITION_ID);

fn echo_uuid() -> Uuid {
    ECHO_PARTITION_UUID
}

fn config_requesting(version: SupportedVersion) -> ClientConfig {
    ClientConfig {
        requested_version: version,
        ..ClientConfig::DEFAULT
    }
}

fn discover_all(client: &capsule_ffa::FfaClient<'_>) -> Result<Vec<PartitionInfo>, ClientError> {
    let mut found = Vec::new();
    client.discover(Uuid::NIL, 8, &mut |info| found.push(info))?;
    Ok(found)
}

#[test]
fn set_up_negotiates_v1_2_and_maps_the_buffers_in_order() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let session = fixture.client.initialize().expect("set-up");
    assert_eq!(session.version.version(), Version::new(1, 2));
    assert_eq!(session.smccc_version, Version::new(1, 2));
    assert_eq!(session.own_id, PartitionId::new(0));
    assert_eq!(session.features.rxtx_granule, RxTxGranule::Size4K);
    assert_eq!(session.features.rxtx_maximum_pages, Some(16));
    assert!(session.features.direct_request_2);
    assert!(session.features.partition_info_get_registers);
    // The minimum granule: the board did not ask for more.
    assert_eq!(session.buffers.size, 4096);
    assert_eq!(session.buffers.pages, 1);
    let functions = fixture.conduit.functions();
    assert_eq!(
        &functions[..3],
        &[ids::SMCCC_VERSION, ids::FFA_VERSION, ids::FFA_ID_GET]
    );
    assert_eq!(*functions.last().unwrap(), ids::FFA_RXTX_MAP_64);
    let pair = fixture.conduit.world().buffer_pair().expect("mapped");
    assert_eq!(pair.receive_address, common::RX_ADDRESS);
    assert_eq!(pair.transmit_address, common::TX_ADDRESS);
    assert_eq!(pair.page_count, 1);
    // A second initialize is idempotent and makes no call.
    fixture.conduit.clear_calls();
    assert_eq!(fixture.client.initialize(), Ok(session));
    assert!(fixture.conduit.functions().is_empty());
}

#[test]
fn buffers_larger_than_the_callee_maximum_are_mapped_in_part() {
    let as_much_as_possible = ClientConfig {
        rxtx_size: capsule_ffa::client::RxTxSize::AtMost(128 * 1024),
        ..ClientConfig::DEFAULT
    };
    let fixture = fixture_with_buffers(FaultConfig::default(), as_much_as_possible, 128 * 1024);
    let session = fixture.client.initialize().unwrap();
    assert_eq!(session.buffers.pages, 16);
}

#[test]
fn buffers_smaller_than_the_granule_are_refused_before_mapping() {
    let fixture = fixture_with_buffers(FaultConfig::default(), ClientConfig::DEFAULT, 2048);
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::BufferTooSmall {
            required: 4096,
            available: 2048
        })
    );
    assert_eq!(fixture.conduit.count(ids::FFA_RXTX_MAP_64), 0);
    assert!(fixture.client.session().is_none());
}

#[test]
fn older_callees_are_accepted_at_their_version() {
    for (spmc, expected) in [
        ((1, 0), Version::new(1, 0)),
        ((1, 1), Version::new(1, 1)),
        ((1, 7), Version::new(1, 2)),
    ] {
        let fixture = fixture(
            FaultConfig {
                spmc_version: spmc,
                ..FaultConfig::default()
            },
            ClientConfig::DEFAULT,
        );
        let session = fixture.client.initialize().expect("set-up");
        assert_eq!(session.version.version(), expected, "SPMC {spmc:?}");
        assert_eq!(
            fixture.conduit.world().negotiated_version().minor(),
            expected.minor()
        );
        if expected < Version::new(1, 2) {
            assert!(!session.features.direct_request_2);
            assert!(!session.features.partition_info_get_registers);
        }
    }
}

#[test]
fn a_v1_0_caller_uses_v1_0_layouts_against_a_v1_2_callee() {
    let fixture = fixture(
        FaultConfig::default(),
        config_requesting(SupportedVersion::V1_0),
    );
    let session = fixture.client.initialize().unwrap();
    assert_eq!(session.version.supported(), SupportedVersion::V1_0);
    let partitions = discover_all(fixture.client).unwrap();
    assert_eq!(
        partitions.len(),
        ffa_model::partition::HOSTED_PARTITIONS.len()
    );
    for info in &partitions {
        assert!(info.uuid.is_nil(), "v1.0 descriptors carry no UUID");
        assert_eq!(
            info.properties.execution_state(),
            ExecutionState::Unreported
        );
    }
    // No count-only call at v1.0: a single PARTITION_INFO_GET with w5 = 0.
    let calls = fixture.conduit.calls();
    let gets: Vec<_> = calls
        .iter()
        .filter(|call| call.x[0] as u32 == ids::FFA_PARTITION_INFO_GET)
        .collect();
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].x[5], 0);
    assert_eq!(
        fixture.conduit.world().receive_owner(),
        ReceiveOwner::Producer
    );
}

#[test]
fn a_different_major_version_is_refused() {
    let fixture = fixture(
        FaultConfig {
            spmc_version: (2, 0),
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::IncompatibleVersion {
            requested: Version::new(1, 2),
            callee: Version::new(2, 0)
        })
    );
    assert_eq!(
        fixture.conduit.count(ids::FFA_ID_GET),
        0,
        "nothing after a failed negotiation"
    );
}

#[test]
fn absent_ffa_is_reported_as_not_supported() {
    let fixture = fixture(
        FaultConfig {
            ffa_absent: true,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::Status(Status::NotSupported))
    );
}

#[test]
fn a_callee_not_ready_yet_fails_set_up_with_its_status() {
    for (error, status) in [
        (ReadinessError::NotReady, Status::NotReady),
        (ReadinessError::Busy, Status::Busy),
    ] {
        let fixture = fixture(
            FaultConfig {
                not_ready_calls: 1,
                not_ready_error: error,
                ..FaultConfig::default()
            },
            ClientConfig::DEFAULT,
        );
        assert_eq!(
            fixture.client.initialize(),
            Err(ClientError::Status(status))
        );
        // Once ready, set-up succeeds.
        assert!(fixture.client.initialize().is_ok());
    }
}

#[test]
fn a_denied_mapping_fails_set_up() {
    let fixture = fixture(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::Status(Status::Denied))
    );
    assert!(fixture.client.session().is_none());
}

#[test]
fn teardown_unmaps_and_forgets_the_session() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    assert_eq!(fixture.client.teardown(), Ok(()));
    assert!(fixture.conduit.world().buffer_pair().is_none());
    assert_eq!(fixture.client.teardown(), Err(ClientError::NotInitialized));
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::NotInitialized)
    );
}

#[test]
fn operations_before_set_up_fail_without_a_call() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    assert_eq!(
        discover_all(fixture.client),
        Err(ClientError::NotInitialized)
    );
    assert!(fixture.conduit.functions().is_empty());
}

#[test]
fn discovery_through_registers_at_v1_2() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let partitions = discover_all(fixture.client).unwrap();
    // x3-x17 hold five descriptors: the model's others take a second call.
    assert_eq!(
        fixture.conduit.functions(),
        vec![
            ids::FFA_PARTITION_INFO_GET_REGS,
            ids::FFA_PARTITION_INFO_GET_REGS
        ]
    );
    check_hosted_partitions(&partitions, SupportedVersion::V1_2);
}

#[test]
fn discovery_through_rx_at_v1_1_counts_first_and_releases_rx() {
    let fixture = fixture(
        FaultConfig::default(),
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let partitions = discover_all(fixture.client).unwrap();
    assert_eq!(
        fixture.conduit.functions(),
        vec![
            ids::FFA_PARTITION_INFO_GET,
            ids::FFA_PARTITION_INFO_GET,
            ids::FFA_RX_RELEASE
        ]
    );
    assert_eq!(fixture.conduit.calls()[0].x[5], 1, "count only first");
    assert_eq!(
        fixture.conduit.world().receive_owner(),
        ReceiveOwner::Producer
    );
    check_hosted_partitions(&partitions, SupportedVersion::V1_1);
    assert!(!fixture.client.mailbox().rx_owned());
}

fn check_hosted_partitions(partitions: &[PartitionInfo], version: SupportedVersion) {
    assert_eq!(
        partitions.len(),
        ffa_model::partition::HOSTED_PARTITIONS.len()
    );
    for (info, hosted) in partitions
        .iter()
        .zip(ffa_model::partition::HOSTED_PARTITIONS.iter())
    {
        assert_eq!(info.id.raw(), hosted.id);
        assert_eq!(
            info.execution_contexts(),
            Some(hosted.execution_context_count)
        );
        assert_eq!(info.uuid.as_bytes(), &hosted.uuid);
        assert_eq!(
            info.properties.raw(),
            hosted.properties_for(ffa_abi::Version::new(1, version.version().minor()))
        );
    }
    assert_eq!(
        partitions[0].properties.execution_state(),
        ExecutionState::AArch64
    );
    assert_eq!(
        partitions[1].properties.execution_state(),
        ExecutionState::AArch32
    );
    assert_eq!(
        partitions[0].properties.receives_direct_requests_2(),
        version == SupportedVersion::V1_2
    );
}

#[test]
fn discovery_by_uuid_finds_one_partition_without_its_uuid() {
    let fixture = fixture(
        FaultConfig::default(),
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    let mut found = Vec::new();
    fixture
        .client
        .discover(echo_uuid(), 8, &mut |info| found.push(info))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ECHO);
    let unknown = Uuid::parse("00000000-0000-0000-0000-000000000001").unwrap();
    assert_eq!(
        fixture
            .client
            .discover(unknown, 8, &mut |_| panic!("no descriptor expected")),
        Err(ClientError::Status(Status::InvalidParameters))
    );
}

#[test]
fn registers_discovery_by_uuid() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    let mut found = Vec::new();
    fixture
        .client
        .discover(echo_uuid(), 8, &mut |info| found.push(info))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ECHO);
}

#[test]
fn an_extended_descriptor_size_is_strided_and_read_in_part() {
    let fixture = fixture(
        FaultConfig {
            partition_info_fault: PartitionInfoFault::ExtendedDescriptorSize,
            ..FaultConfig::default()
        },
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    let partitions = discover_all(fixture.client).unwrap();
    check_hosted_partitions(&partitions, SupportedVersion::V1_1);
}

#[test]
fn a_descriptor_size_too_small_is_refused_and_rx_released() {
    let fixture = fixture(
        FaultConfig {
            partition_info_fault: PartitionInfoFault::WrongDescriptorSize,
            ..FaultConfig::default()
        },
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    assert_eq!(
        discover_all(fixture.client),
        Err(ClientError::DescriptorSize(16))
    );
    assert_eq!(
        fixture.conduit.world().receive_owner(),
        ReceiveOwner::Producer
    );
    assert!(!fixture.client.mailbox().rx_owned());
}

#[test]
fn a_huge_count_is_refused_before_rx_is_read() {
    for version in [SupportedVersion::V1_0, SupportedVersion::V1_1] {
        let fixture = fixture(
            FaultConfig {
                partition_info_fault: PartitionInfoFault::HugeCount,
                ..FaultConfig::default()
            },
            config_requesting(version),
        );
        fixture.client.initialize().unwrap();
        let result = discover_all(fixture.client);
        match version {
            // v1.1: the count-only call already exceeds the table.
            SupportedVersion::V1_1 => {
                assert_eq!(result, Err(ClientError::TableFull { capacity: 8 }))
            }
            // v1.0 has no count-only call: count × 8 overflows the RX buffer.
            _ => assert_eq!(result, Err(ClientError::CountOverflow(0x0100_0000))),
        }
        assert_eq!(
            fixture.conduit.world().receive_owner(),
            ReceiveOwner::Producer
        );
    }
}

#[test]
fn more_partitions_than_the_table_holds_is_an_error() {
    for version in [
        SupportedVersion::V1_0,
        SupportedVersion::V1_1,
        SupportedVersion::V1_2,
    ] {
        let fixture = fixture(FaultConfig::default(), config_requesting(version));
        fixture.client.initialize().unwrap();
        assert_eq!(
            fixture.client.discover(Uuid::NIL, 2, &mut |_| {}),
            Err(ClientError::TableFull { capacity: 2 }),
            "{version:?}"
        );
        assert_eq!(
            fixture.conduit.world().receive_owner(),
            ReceiveOwner::Producer
        );
    }
}

#[test]
fn direct_requests_32_and_64_round_trip_to_the_echo_partition() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    let message = DirectMessage32::new([1, 2, 3, 0xffff_ffff, 0x8000_0000]);
    assert_eq!(
        fixture.client.direct_request(ECHO, Uuid::NIL, &message),
        Ok(message)
    );
    let message = DirectMessage64::new([u64::MAX, 1 << 63, 3, 4, 0x1234_5678_9abc_def0]);
    assert_eq!(
        fixture.client.direct_request(ECHO, Uuid::NIL, &message),
        Ok(message)
    );
    let call = *fixture.conduit.calls().last().unwrap();
    assert_eq!(call.x[0] as u32, ids::FFA_MSG_SEND_DIRECT_REQ_64);
    assert_eq!(
        call.x[1], ECHO_PARTITION_ID as u64,
        "w1 = sender 0 << 16 | receiver"
    );
    assert_eq!(call.x[2], 0);
}

#[test]
fn the_aarch32_partition_answers_32_bit_requests_and_refuses_64() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    let reply = fixture
        .client
        .direct_request(
            AARCH32,
            Uuid::NIL,
            &DirectMessage32::new([1, 2, 3, 4, u32::MAX]),
        )
        .unwrap();
    assert_eq!(reply.payload, [2, 3, 4, 5, 0]);
    assert_eq!(
        fixture
            .client
            .direct_request(AARCH32, Uuid::NIL, &DirectMessage64::default()),
        Err(ClientError::Status(Status::InvalidParameters))
    );
}

#[test]
fn direct_request_2_round_trips_with_the_uuid_in_x2_x3() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    let mut payload = [0u64; 14];
    for (index, word) in payload.iter_mut().enumerate() {
        *word = (index as u64 + 1) << 56 | index as u64;
    }
    let message = DirectMessage2::new(payload);
    assert_eq!(
        fixture.client.direct_request(ECHO, echo_uuid(), &message),
        Ok(message)
    );
    let call = *fixture.conduit.calls().last().unwrap();
    let [low, high] = ECHO_PARTITION_UUID.to_register_pair();
    assert_eq!((call.x[2], call.x[3]), (low, high));
    // A UUID the partition does not implement is refused by the callee.
    let other = Uuid::parse("88886b1c-15ad-4435-a3f8-e2919eacb5b7").unwrap();
    assert_eq!(
        fixture.client.direct_request(ECHO, other, &message),
        Err(ClientError::Status(Status::InvalidParameters))
    );
}

#[test]
fn direct_request_2_is_not_sent_below_v1_2() {
    let fixture = fixture(
        FaultConfig::default(),
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, echo_uuid(), &DirectMessage2::default()),
        Err(ClientError::Unsupported)
    );
    assert!(fixture.conduit.functions().is_empty());
}

#[test]
fn a_preempted_partition_is_resumed_with_run() {
    let fixture = fixture(
        FaultConfig {
            interrupt_count: 3,
            yield_count: 2,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let message = DirectMessage64::new([5, 6, 7, 8, 9]);
    assert_eq!(
        fixture
            .client
            .direct_request(INTERRUPTING, Uuid::NIL, &message),
        Ok(message)
    );
    assert_eq!(fixture.conduit.count(ids::FFA_RUN), 5);
    for call in fixture.conduit.calls().iter().skip(1) {
        assert_eq!(call.x[1], (INTERRUPTING_PARTITION_ID as u64) << 16);
    }
    // REQ2 goes through the same path.
    let message = DirectMessage2::new([42; 14]);
    let uuid = Uuid::parse("b4399eff-6a76-400b-bfa8-2c063889c6ee").unwrap();
    assert_eq!(
        fixture.client.direct_request(INTERRUPTING, uuid, &message),
        Ok(message)
    );
}

#[test]
fn resumptions_are_bounded() {
    let fixture = fixture(
        FaultConfig {
            interrupt_count: 10,
            yield_count: 0,
            ..FaultConfig::default()
        },
        ClientConfig {
            retry: RetryPolicy {
                busy_retries: 0,
                resumptions: 4,
                ..RetryPolicy::DEFAULT
            },
            ..ClientConfig::DEFAULT
        },
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    assert_eq!(
        fixture
            .client
            .direct_request(INTERRUPTING, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::ResumptionsExhausted)
    );
    assert_eq!(fixture.conduit.count(ids::FFA_RUN), 4);
    assert_eq!(fixture.conduit.functions().len(), 5);
}

#[test]
fn busy_and_retry_storms_are_retried_within_the_policy() {
    let fixture = fixture(
        FaultConfig {
            busy_storm: 3,
            retry_storm: 2,
            ..FaultConfig::default()
        },
        ClientConfig {
            retry: RetryPolicy {
                busy_retries: 5,
                resumptions: 0,
                ..RetryPolicy::DEFAULT
            },
            ..ClientConfig::DEFAULT
        },
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let message = DirectMessage32::new([9, 8, 7, 6, 5]);
    assert_eq!(
        fixture.client.direct_request(ECHO, Uuid::NIL, &message),
        Ok(message)
    );
    assert_eq!(fixture.conduit.count(ids::FFA_MSG_SEND_DIRECT_REQ_32), 6);
}

#[test]
fn a_busy_storm_longer_than_the_policy_gives_up() {
    let fixture = fixture(
        FaultConfig {
            busy_storm: 100,
            ..FaultConfig::default()
        },
        ClientConfig {
            retry: RetryPolicy {
                busy_retries: 3,
                resumptions: 0,
                ..RetryPolicy::DEFAULT
            },
            ..ClientConfig::DEFAULT
        },
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::RetriesExhausted)
    );
    assert_eq!(fixture.conduit.count(ids::FFA_MSG_SEND_DIRECT_REQ_32), 4);
}

#[test]
fn a_response_from_the_wrong_partition_is_an_error() {
    let fixture = fixture(
        FaultConfig {
            wrong_responder: true,
            ..FaultConfig::default()
        },
        ClientConfig::DEFAULT,
    );
    fixture.client.initialize().unwrap();
    assert_eq!(
        fixture
            .client
            .direct_request(ECHO, Uuid::NIL, &DirectMessage32::default()),
        Err(ClientError::WrongResponder {
            expected: ECHO,
            actual: AARCH32
        })
    );
    assert!(matches!(
        fixture
            .client
            .direct_request(ECHO, echo_uuid(), &DirectMessage2::default()),
        Err(ClientError::WrongResponder { .. })
    ));
}

#[test]
fn a_request_to_an_unknown_partition_is_refused_by_the_callee() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    assert_eq!(
        fixture.client.direct_request(
            PartitionId::new(0x8009),
            Uuid::NIL,
            &DirectMessage32::default()
        ),
        Err(ClientError::Status(Status::InvalidParameters))
    );
}

#[test]
fn rx_and_tx_guards_follow_ownership() {
    let fixture = fixture(
        FaultConfig::default(),
        config_requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    let mailbox = fixture.client.mailbox();
    let conduit = fixture.client.conduit();
    let request = capsule_ffa::conduit::Request::new(ffa_abi::FunctionId::PartitionInfoGet);
    {
        let (registers, rx) = mailbox.call_filling_rx(conduit, &request).unwrap();
        assert_eq!(
            registers.word(2) as usize,
            ffa_model::partition::HOSTED_PARTITIONS.len()
        );
        assert!(mailbox.rx_owned());
        assert_eq!(
            fixture.conduit.world().receive_owner(),
            ReceiveOwner::Caller
        );
        // While RX is held, a second call that fills it is refused without a call.
        fixture.conduit.clear_calls();
        assert!(matches!(
            mailbox.call_filling_rx(conduit, &request),
            Err(ClientError::RxBusy)
        ));
        assert!(fixture.conduit.functions().is_empty());
        assert_eq!(mailbox.unmap(conduit), Err(ClientError::RxBusy));
        let mut id = [0u8; 2];
        rx.read(0, &mut id).unwrap();
        assert_eq!(u16::from_le_bytes(id), ECHO_PARTITION_ID);
        assert!(matches!(
            rx.read(rx.len() - 1, &mut id),
            Err(ClientError::BufferTooSmall { .. })
        ));
        // Dropped here: released.
    }
    assert!(!mailbox.rx_owned());
    assert_eq!(
        fixture.conduit.world().receive_owner(),
        ReceiveOwner::Producer
    );
    // Explicit release reports the callee's answer.
    let (_, rx) = mailbox.call_filling_rx(conduit, &request).unwrap();
    assert_eq!(rx.release(), Ok(()));

    let tx = mailbox.tx().unwrap();
    assert!(matches!(mailbox.tx(), Err(ClientError::TxBusy)));
    tx.write(0, &[1, 2, 3]).unwrap();
    assert!(matches!(
        tx.write(tx.len(), &[1]),
        Err(ClientError::BufferTooSmall { .. })
    ));
    assert_eq!(fixture.memory.read(common::TX_ADDRESS, 3), [1, 2, 3]);
    let id_get = capsule_ffa::conduit::Request::new(ffa_abi::FunctionId::IdGet);
    assert!(mailbox.call_with_tx(conduit, tx, &id_get).is_ok());
    assert!(mailbox.tx().is_ok(), "TX is free again after the call");
}

#[test]
fn a_mailbox_is_mapped_once() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let session = fixture.client.initialize().unwrap();
    assert_eq!(
        fixture.client.mailbox().map(
            fixture.client.conduit(),
            &session.version,
            &session.features,
            capsule_ffa::client::RxTxSize::Minimum
        ),
        Err(ClientError::AlreadyDone)
    );
}
