//! The client against the secure worlds people run, where they differ from
//! the specification's reading (the model's personalities, and hand-written
//! replies for what the model does not host): Hafnium's v1.3 descriptors
//! and 1-page RX/TX limit, OP-TEE's count-only answers, SEPIDs, and
//! preemption that names another endpoint.

mod common;

use capsule_ffa::client::{ClientConfig, RxTxSize};
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::DirectMessage32;
use capsule_ffa::partition::{
    DescriptorLayout, ExecutionState, PartitionInfo, PartitionKind, PartitionProperties,
    PropertiesRevision,
};
use capsule_ffa::version::SupportedVersion;
use common::{fixture, fixture_with_buffers, ids, Fixture};
use ffa_abi::{PartitionId, Status, Uuid};
use ffa_model::partition::HOSTED_PARTITIONS;
use ffa_model::{FaultConfig, Personality};
use kernel::hil::smccc::SmcccRegisters;

const SUCCESS_64: u64 = ids::FFA_SUCCESS_64 as u64;

fn requesting(version: SupportedVersion) -> ClientConfig {
    ClientConfig {
        requested_version: version,
        ..ClientConfig::DEFAULT
    }
}

fn discover_all(fixture: &Fixture) -> Result<Vec<PartitionInfo>, ClientError> {
    let mut found = Vec::new();
    fixture
        .client
        .discover(Uuid::NIL, 8, &mut |info| found.push(info))?;
    Ok(found)
}

fn check_ids_and_uuids(partitions: &[PartitionInfo]) {
    check_table(partitions, &HOSTED_PARTITIONS);
}

fn check_table(partitions: &[PartitionInfo], table: &[ffa_model::PartitionInfo]) {
    let ids: Vec<u16> = partitions.iter().map(|info| info.id.raw()).collect();
    let expected: Vec<u16> = table.iter().map(|hosted| hosted.id).collect();
    assert_eq!(ids, expected);
    for (info, hosted) in partitions.iter().zip(table.iter()) {
        assert_eq!(info.uuid.as_bytes(), &hosted.uuid);
        assert_eq!(
            info.kind,
            PartitionKind::Endpoint {
                execution_contexts: hosted.execution_context_count
            }
        );
    }
}

/// Replaces the reply to every call of `function` with what `reply` makes of the call.
fn forge(fixture: &Fixture, function: u32, reply: impl Fn(&SmcccRegisters) -> Vec<u64> + 'static) {
    fixture.conduit.rewrite(move |call, original| {
        if call.x[0] as u32 == function {
            SmcccRegisters::from_slice(&reply(call))
        } else {
            original
        }
    });
}

// ---- item 2: PARTITION_INFO_GET_REGS with the descriptor size the callee reports

#[test]
fn hafnium_s_48_byte_descriptors_are_read_from_registers_two_per_call() {
    let fixture = fixture(
        FaultConfig::as_personality(Personality::Hafnium),
        ClientConfig::DEFAULT,
    );
    let session = fixture.client.initialize().unwrap();
    assert!(session.features.partition_info_get_registers);
    fixture.conduit.clear_calls();
    let partitions = discover_all(&fixture).unwrap();
    check_ids_and_uuids(&partitions);
    let calls = ffa_model::partition::HOSTED_PARTITIONS.len().div_ceil(2);
    assert_eq!(
        fixture.conduit.functions(),
        vec![ids::FFA_PARTITION_INFO_GET_REGS; calls],
        "two descriptors of 48 bytes per call"
    );
    assert_eq!(fixture.conduit.calls()[1].x[3] & 0xFFFF, 2, "from index 2");
    assert_eq!(fixture.conduit.calls()[2].x[3] & 0xFFFF, 4, "from index 4");
    assert_eq!(partitions[0].properties.raw(), 0x301);
    assert!(partitions[0].properties.receives_direct_requests_2());
}

#[test]
fn hafnium_s_48_byte_descriptors_are_read_through_rx_below_v1_2() {
    let fixture = fixture(
        FaultConfig::as_personality(Personality::Hafnium),
        requesting(SupportedVersion::V1_1),
    );
    fixture.client.initialize().unwrap();
    let partitions = discover_all(&fixture).unwrap();
    check_ids_and_uuids(&partitions);
    assert!(!fixture.client.mailbox().rx_owned());
}

#[test]
fn register_descriptor_sizes_must_be_whole_registers_of_at_least_24_bytes() {
    for size in [0u64, 8, 16, 28, 44, 128] {
        let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
        fixture.client.initialize().unwrap();
        forge(&fixture, ids::FFA_PARTITION_INFO_GET_REGS, move |_| {
            // One partition, current index 0, of `size` bytes.
            vec![
                SUCCESS_64,
                0,
                size << 48,
                0x0000_0301_0004_8001,
                1,
                2,
                3,
                4,
                5,
                6,
            ]
        });
        assert_eq!(
            discover_all(&fixture),
            Err(ClientError::DescriptorSize(size as u32)),
            "size {size}"
        );
    }
}

#[test]
fn more_register_descriptors_than_fit_x3_to_x17_are_refused() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    // Three 48-byte descriptors would need 18 registers.
    forge(&fixture, ids::FFA_PARTITION_INFO_GET_REGS, |_| {
        vec![SUCCESS_64, 0, 48 << 48 | 2 << 16 | 2]
    });
    assert_eq!(discover_all(&fixture), Err(ClientError::MalformedReply));
}

#[test]
fn a_40_byte_register_descriptor_is_five_registers_and_read_in_part() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    fixture.client.initialize().unwrap();
    let uuid = Uuid::parse("fa791f17-febd-4861-81d0-4b5dae9cb9cb").unwrap();
    let [low, high] = uuid.to_register_pair();
    forge(&fixture, ids::FFA_PARTITION_INFO_GET_REGS, move |_| {
        let mut reply = vec![SUCCESS_64, 0, 40 << 48 | 1 << 16 | 1];
        for id in [0x8001u64, 0x8003] {
            reply.extend([0x0000_0101_0001_0000 | id, low, high, 0xAAAA, 0xBBBB]);
        }
        reply
    });
    let partitions = discover_all(&fixture).unwrap();
    let ids: Vec<u16> = partitions.iter().map(|info| info.id.raw()).collect();
    assert_eq!(ids, [0x8001, 0x8003]);
    assert_eq!(partitions[1].uuid, uuid);
}

// ---- item 2: v1.3 property bits 9 to 13

#[test]
fn v1_3_properties_are_read_as_v1_3_defines_them() {
    let raw = 1 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12 | 1 << 13;
    let properties = PartitionProperties::new(raw, PropertiesRevision::V1_3);
    assert!(properties.receives_direct_requests_2());
    assert!(properties.sends_direct_requests_2());
    assert!(properties.supports_live_activation());
    assert!(properties.requires_cpu_rendezvous_for_live_activation());
    assert!(properties.supports_smc64_cpu_cycle_management());
    // At v1.2 bits 11 to 13 are reserved: not read.
    let properties = PartitionProperties::new(raw, PropertiesRevision::V1_2);
    assert!(properties.receives_direct_requests_2());
    assert!(!properties.supports_live_activation());
    assert!(!properties.requires_cpu_rendezvous_for_live_activation());
    assert!(!properties.supports_smc64_cpu_cycle_management());
    // Bit 13 means something only for an AArch64 partition.
    let aarch32 = PartitionProperties::new(1 << 13, PropertiesRevision::V1_3);
    assert_eq!(aarch32.execution_state(), ExecutionState::AArch32);
    assert!(!aarch32.supports_smc64_cpu_cycle_management());
}

#[test]
fn a_48_byte_descriptor_is_read_with_v1_3_properties() {
    let layout = DescriptorLayout::for_version(SupportedVersion::V1_2);
    let mut descriptor = [0u8; 48];
    descriptor[0..2].copy_from_slice(&0x8001u16.to_le_bytes());
    descriptor[2..4].copy_from_slice(&4u16.to_le_bytes());
    descriptor[4..8].copy_from_slice(&(1u32 | 1 << 8 | 1 << 11).to_le_bytes());
    let info = layout.decode(&descriptor, 48);
    assert!(info.properties.supports_live_activation());
    let info = layout.decode(&descriptor[..24], 24);
    assert!(!info.properties.supports_live_activation());
}

// ---- item 3: SEPIDs

#[test]
fn sepids_are_peripheral_devices_and_a_dependent_one_names_its_proxy() {
    let layout = DescriptorLayout::for_version(SupportedVersion::V1_2);
    let descriptor = |id: u16, field: u16, properties: u32| {
        let mut bytes = [0u8; 24];
        bytes[0..2].copy_from_slice(&id.to_le_bytes());
        bytes[2..4].copy_from_slice(&field.to_le_bytes());
        bytes[4..8].copy_from_slice(&properties.to_le_bytes());
        bytes
    };
    let endpoint = layout.decode(&descriptor(0x8001, 4, 0x101), 24);
    assert_eq!(
        endpoint.kind,
        PartitionKind::Endpoint {
            execution_contexts: 4
        }
    );
    assert_eq!(endpoint.execution_contexts(), Some(4));
    let independent = layout.decode(&descriptor(0x8100, 0, 0b01 << 4), 24);
    assert_eq!(independent.kind, PartitionKind::IndependentPeripheral);
    assert_eq!(independent.execution_contexts(), None);
    let dependent = layout.decode(&descriptor(0x8101, 0x8001, 0b10 << 4 | 0xF), 24);
    assert_eq!(
        dependent.kind,
        PartitionKind::DependentPeripheral {
            proxy: PartitionId::new(0x8001)
        }
    );
    // Bits [3:0] are reserved for anything but a PE endpoint.
    assert!(!dependent.properties.receives_direct_requests());
    let auxiliary = layout.decode(&descriptor(0x8102, 0, 0b11 << 4), 24);
    assert_eq!(auxiliary.kind, PartitionKind::Auxiliary);
    // v1.0 descriptors have no type: every ID is a PE endpoint.
    let old = DescriptorLayout::for_version(SupportedVersion::V1_0);
    assert_eq!(
        old.decode(&descriptor(0x8001, 2, 0b10 << 4)[..8], 8).kind,
        PartitionKind::Endpoint {
            execution_contexts: 2
        }
    );
}

// ---- item 4: RX/TX size

#[test]
fn the_minimum_granule_is_mapped_unless_the_board_asks_for_more() {
    // Hafnium below v1.2 states no maximum and refuses more than a page.
    let fixture = fixture(
        FaultConfig::as_personality(Personality::Hafnium),
        requesting(SupportedVersion::V1_1),
    );
    let session = fixture.client.initialize().expect("set-up");
    assert_eq!((session.buffers.pages, session.buffers.size), (1, 4096));
    assert_eq!(fixture.conduit.count(ids::FFA_RXTX_MAP_64), 1);
    assert_eq!(fixture.client.mailbox().refused_pages(), None);
    assert_eq!(fixture.client.mailbox().capacity(), 64 * 1024);
}

#[test]
fn more_pages_are_asked_for_when_the_board_wants_them_and_the_callee_allows_them() {
    let wants_eight = ClientConfig {
        rxtx_size: RxTxSize::AtMost(8 * 4096),
        ..ClientConfig::DEFAULT
    };
    let fixture = fixture(FaultConfig::default(), wants_eight);
    assert_eq!(fixture.client.initialize().unwrap().buffers.pages, 8);
    // Hafnium at v1.2 says 1 page at most: only one is asked for.
    let fixture = fixture_with_buffers(
        FaultConfig::as_personality(Personality::Hafnium),
        wants_eight,
        64 * 1024,
    );
    assert_eq!(fixture.client.initialize().unwrap().buffers.pages, 1);
    assert_eq!(fixture.conduit.count(ids::FFA_RXTX_MAP_64), 1);
}

#[test]
fn a_refused_larger_map_is_retried_once_at_the_minimum() {
    let fixture = fixture(
        FaultConfig::as_personality(Personality::Hafnium),
        ClientConfig {
            requested_version: SupportedVersion::V1_1,
            rxtx_size: RxTxSize::AtMost(4 * 4096),
            ..ClientConfig::DEFAULT
        },
    );
    let session = fixture.client.initialize().expect("set-up");
    assert_eq!(session.buffers.pages, 1);
    assert_eq!(
        fixture.client.mailbox().refused_pages(),
        Some(4),
        "the console's ffa status says what was refused"
    );
    let maps: Vec<u64> = fixture
        .conduit
        .calls()
        .iter()
        .filter(|call| call.x[0] as u32 == ids::FFA_RXTX_MAP_64)
        .map(|call| call.x[3])
        .collect();
    assert_eq!(maps, [4, 1]);

    // Refused at the minimum too: the error stands, no third try.
    let fixture = fixture_with_buffers(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default()
        },
        ClientConfig {
            rxtx_size: RxTxSize::AtMost(4 * 4096),
            ..ClientConfig::DEFAULT
        },
        64 * 1024,
    );
    assert_eq!(
        fixture.client.initialize(),
        Err(ClientError::Status(Status::Denied))
    );
    assert_eq!(
        fixture.conduit.count(ids::FFA_RXTX_MAP_64),
        1,
        "DENIED is not retried"
    );
}

// ---- OP-TEE

#[test]
fn op_tee_is_set_up_at_v1_1_and_an_unknown_uuid_finds_nothing() {
    let fixture = fixture(
        FaultConfig::as_personality(Personality::OpTee),
        ClientConfig::DEFAULT,
    );
    let session = fixture.client.initialize().unwrap();
    assert_eq!(session.version.supported(), SupportedVersion::V1_1);
    assert!(!session.features.partition_info_get_registers);
    // OP-TEE itself first (0x8001), then the partitions it hosts.
    check_table(
        &discover_all(&fixture).unwrap(),
        &ffa_model::partition::OP_TEE_PARTITIONS,
    );
    let unknown = Uuid::parse("01234567-89ab-cdef-0123-456789abcdef").unwrap();
    let mut found = 0;
    assert_eq!(
        fixture.client.discover(unknown, 8, &mut |_| found += 1),
        Ok(0)
    );
    assert_eq!(found, 0);
    assert!(!fixture.client.mailbox().rx_owned());
}

// ---- item 5: FFA_INTERRUPT and FFA_YIELD naming another endpoint or vCPU

#[test]
fn preemption_naming_another_endpoint_resumes_the_one_named() {
    for preempted in [ids::FFA_INTERRUPT, ids::FFA_YIELD] {
        let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
        fixture.client.initialize().unwrap();
        fixture.conduit.clear_calls();
        // The echo partition's request is preempted while 0x8002 (which it
        // called) runs on vCPU 1; resuming 0x8002 lets the echo answer.
        forge_preemption(&fixture, preempted);
        let message = DirectMessage32::new([1, 2, 3, 4, 5]);
        assert_eq!(
            fixture
                .client
                .direct_request(PartitionId::new(0x8001), Uuid::NIL, &message),
            Ok(message),
            "{preempted:#x}"
        );
        let runs: Vec<u64> = fixture
            .conduit
            .calls()
            .iter()
            .filter(|call| call.x[0] as u32 == ids::FFA_RUN)
            .map(|call| call.x[1])
            .collect();
        assert_eq!(runs, [0x8002_0001], "w1 passed back to FFA_RUN");
    }
}

/// The echo partition's request is answered `preempted` naming 0x8002's
/// vCPU 1, and `FFA_RUN` then answers the echo partition's response.
fn forge_preemption(fixture: &Fixture, preempted: u32) {
    fixture
        .conduit
        .rewrite(move |call, original| match call.x[0] as u32 {
            ids::FFA_MSG_SEND_DIRECT_REQ_32 => {
                SmcccRegisters::from_slice(&[u64::from(preempted), 0x8002_0001])
            }
            ids::FFA_RUN => SmcccRegisters::from_slice(&[
                u64::from(ids::FFA_MSG_SEND_DIRECT_RESP_32),
                0x8001_0000,
                0,
                1,
                2,
                3,
                4,
                5,
            ]),
            _ => original,
        });
}
