//! Differential tests against the `arm-ffa` crate (Trusted Firmware's Rust FF-A types), for the
//! register forms and descriptors both implement: what this capsule encodes, `arm-ffa` decodes to
//! the same meaning, and what `arm-ffa` encodes, this capsule decodes to the same meaning.

mod common;

use arm_ffa::interface_args::{DirectMsg2Args, DirectMsgArgs, SuccessArgs, TargetInfo};
use arm_ffa::partition_info::{
    PartitionIdType, PartitionInfo as OraclePartitionInfo, PartitionInfoIterator,
    PartitionProperties as OracleProperties, SuccessArgsPartitionInfoGetRegs,
};
use arm_ffa::{FfaError as OracleError, Interface, UuidHelper, Version as OracleVersion};
use capsule_ffa::conduit::{Reply, Request};
use capsule_ffa::discovery;
use capsule_ffa::error::ClientError;
use capsule_ffa::messaging::{DirectMessage, DirectMessage2, DirectMessage32, DirectMessage64};
use capsule_ffa::partition::{DescriptorLayout, ExecutionState};
use capsule_ffa::version::SupportedVersion;
use ffa_abi::FunctionId;
use ffa_abi::Uuid;
use ffa_abi::{PartitionId, Status, Version};
use kernel::hil::smccc::SmcccRegisters;
use proptest::prelude::*;

const V1_2: OracleVersion = OracleVersion(1, 2);

fn oracle_decode(request: &Request) -> Interface {
    Interface::from_regs(V1_2, &request.registers().x)
        .expect("arm-ffa decodes the capsule's registers")
}

fn oracle_encode(interface: &Interface) -> SmcccRegisters {
    let mut registers = SmcccRegisters::default();
    interface.to_regs(V1_2, &mut registers.x);
    registers
}

fn same_uuid(ours: Uuid, theirs: &impl AsRef<[u8]>) -> bool {
    ours.as_bytes().as_slice() == theirs.as_ref()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn direct_request_32_registers_agree(sender in any::<u16>(), receiver in any::<u16>(), payload in prop::array::uniform5(any::<u32>())) {
        let request = DirectMessage32::new(payload).encode(PartitionId::new(sender), PartitionId::new(receiver), Uuid::NIL);
        let decoded = oracle_decode(&request);
        prop_assert_eq!(decoded, Interface::MsgSendDirectReq { src_id: sender, dst_id: receiver, args: DirectMsgArgs::Args32(payload) });
    }

    #[test]
    fn direct_request_64_registers_agree(sender in any::<u16>(), receiver in any::<u16>(), payload in prop::array::uniform5(any::<u64>())) {
        let request = DirectMessage64::new(payload).encode(PartitionId::new(sender), PartitionId::new(receiver), Uuid::NIL);
        let mut expected = [0u64; 15];
        expected[..5].copy_from_slice(&payload);
        prop_assert_eq!(oracle_decode(&request), Interface::MsgSendDirectReq { src_id: sender, dst_id: receiver, args: DirectMsgArgs::Args64(expected) });
    }

    #[test]
    fn direct_request_2_registers_agree(
        sender in any::<u16>(),
        receiver in any::<u16>(),
        uuid in prop::array::uniform16(any::<u8>()),
        payload in prop::array::uniform14(any::<u64>()),
    ) {
        let uuid = Uuid::from_bytes(uuid);
        let request = DirectMessage2::new(payload).encode(PartitionId::new(sender), PartitionId::new(receiver), uuid);
        match oracle_decode(&request) {
            Interface::MsgSendDirectReq2 { src_id, dst_id, uuid: theirs, args } => {
                prop_assert_eq!((src_id, dst_id), (sender, receiver));
                prop_assert!(same_uuid(uuid, theirs.as_bytes()));
                prop_assert_eq!(args, DirectMsg2Args(payload));
            }
            other => prop_assert!(false, "decoded as {:?}", other),
        }
    }

    #[test]
    fn direct_responses_from_the_oracle_decode_alike(responder in any::<u16>(), payload32 in prop::array::uniform5(any::<u32>()), payload64 in prop::array::uniform5(any::<u64>()), payload2 in prop::array::uniform14(any::<u64>())) {
        let response = oracle_encode(&Interface::MsgSendDirectResp { src_id: responder, dst_id: 0, args: DirectMsgArgs::Args32(payload32) });
        match Reply::decode(&response) {
            Ok(Reply::DirectResponse(_, registers)) => {
                prop_assert_eq!(registers.word(1) >> 16, responder as u32);
                prop_assert_eq!(DirectMessage32::decode(&registers).payload, payload32);
            }
            other => prop_assert!(false, "{:?}", other),
        }
        let mut wide = [0u64; 15];
        wide[..5].copy_from_slice(&payload64);
        let response = oracle_encode(&Interface::MsgSendDirectResp { src_id: responder, dst_id: 0, args: DirectMsgArgs::Args64(wide) });
        match Reply::decode(&response) {
            Ok(Reply::DirectResponse(_, registers)) => prop_assert_eq!(DirectMessage64::decode(&registers).payload, payload64),
            other => prop_assert!(false, "{:?}", other),
        }
        let response = oracle_encode(&Interface::MsgSendDirectResp2 { src_id: responder, dst_id: 0, args: DirectMsg2Args(payload2) });
        match Reply::decode(&response) {
            Ok(Reply::DirectResponse2(registers)) => prop_assert_eq!(DirectMessage2::decode(&registers).payload, payload2),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn version_words_agree(raw in any::<u32>()) {
        let ours = Version::from_raw(raw);
        let theirs = OracleVersion::try_from(raw);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok());
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            prop_assert_eq!((ours.major(), ours.minor()), (theirs.0, theirs.1));
            prop_assert_eq!(ours.raw(), u32::from(theirs));
        }
    }

    #[test]
    fn uuid_register_words_agree(bytes in prop::array::uniform16(any::<u8>())) {
        let ours = Uuid::from_bytes(bytes);
        let theirs = UuidHelper::from_bytes(bytes);
        prop_assert_eq!(ours.to_words(), UuidHelper::to_u32_regs(theirs));
        prop_assert_eq!(ours.to_register_pair(), UuidHelper::to_u64_regs(theirs));
    }

    #[test]
    fn partition_info_descriptors_agree(
        id in any::<u16>(),
        contexts in any::<u16>(),
        flags in prop::array::uniform8(any::<bool>()),
        uuid in prop::array::uniform16(any::<u8>()),
        v1_2 in any::<bool>(),
    ) {
        let version = if v1_2 { OracleVersion(1, 2) } else { OracleVersion(1, 1) };
        let properties = OracleProperties {
            support_direct_req_rec: flags[0],
            support_direct_req_send: flags[1],
            support_indirect_msg: flags[2],
            support_notif_rec: flags[3],
            is_aarch64: flags[4],
            support_direct_req2_rec: v1_2.then_some(flags[5]),
            support_direct_req2_send: v1_2.then_some(flags[6]),
            subscribe_vm_created: false,
            subscribe_vm_destroyed: false,
        };
        let descriptor = OraclePartitionInfo {
            uuid: UuidHelper::from_bytes(uuid),
            partition_id: id,
            partition_id_type: PartitionIdType::PeEndpoint { execution_ctx_count: contexts },
            props: properties,
        };
        let mut buffer = [0u8; 48];
        OraclePartitionInfo::pack(version, &[descriptor, descriptor], &mut buffer, flags[7]);
        let layout = DescriptorLayout::for_version(if v1_2 { SupportedVersion::V1_2 } else { SupportedVersion::V1_1 });
        let (stride, copied) = layout.accept_reported_size(OraclePartitionInfo::DESC_SIZE as u32).unwrap();
        prop_assert_eq!(stride, 24);
        let ours = layout.decode(&buffer[stride..stride + copied], stride);
        prop_assert_eq!(ours.id.raw(), id);
        prop_assert_eq!(ours.execution_contexts(), Some(contexts));
        prop_assert_eq!(ours.uuid, if flags[7] { Uuid::from_bytes(uuid) } else { Uuid::NIL });
        let p = ours.properties;
        prop_assert_eq!(p.receives_direct_requests(), flags[0]);
        prop_assert_eq!(p.sends_direct_requests(), flags[1]);
        prop_assert_eq!(p.indirect_messaging(), flags[2]);
        prop_assert_eq!(p.notifications(), flags[3]);
        prop_assert_eq!(p.execution_state() == ExecutionState::AArch64, flags[4]);
        prop_assert_eq!(p.receives_direct_requests_2(), v1_2 && flags[5]);
        prop_assert_eq!(p.sends_direct_requests_2(), v1_2 && flags[6]);

        // And the other way: arm-ffa reads the bytes as we read them.
        let decoded: Vec<_> = PartitionInfoIterator::new(version, &buffer, 2).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(decoded[1].partition_id, ours.id.raw());
        prop_assert_eq!(decoded[1].props.is_aarch64, p.accepts_64_bit_requests() && p.execution_state() == ExecutionState::AArch64);
    }
}

#[test]
fn partition_info_get_registers_agree() {
    let uuid = Uuid::parse("fa791f17-febd-4861-81d0-4b5dae9cb9cb").unwrap();
    for count_only in [false, true] {
        match oracle_decode(&discovery::encode_partition_info_get(uuid, count_only)) {
            Interface::PartitionInfoGet {
                uuid: theirs,
                flags,
            } => {
                assert!(same_uuid(uuid, theirs.as_bytes()));
                assert_eq!(flags.count_only, count_only);
            }
            other => panic!("{other:?}"),
        }
    }
    match oracle_decode(&discovery::encode_partition_info_get_registers(uuid, 5, 7)) {
        Interface::PartitionInfoGetRegs {
            uuid: theirs,
            start_index,
            info_tag,
        } => {
            assert!(same_uuid(uuid, theirs.as_bytes()));
            assert_eq!((start_index, info_tag), (5, 7));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn set_up_calls_decode_alike() {
    let version =
        Request::new(FunctionId::Version).with(1, SupportedVersion::V1_2.version().raw() as u64);
    assert!(matches!(
        oracle_decode(&version),
        Interface::Version {
            input_version: OracleVersion(1, 2),
            ..
        }
    ));
    assert_eq!(
        oracle_decode(&Request::new(FunctionId::IdGet)),
        Interface::IdGet
    );
    let features = Request::new(FunctionId::Features).with(1, FunctionId::RxTxMap64.raw() as u64);
    match oracle_decode(&features) {
        Interface::Features { feat_id, .. } => {
            assert_eq!(u32::from(feat_id), FunctionId::RxTxMap64.raw())
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        oracle_decode(&Request::new(FunctionId::RxRelease)),
        Interface::RxRelease { vm_id: 0 }
    ));
    assert!(matches!(
        oracle_decode(&Request::new(FunctionId::RxTxUnmap)),
        Interface::RxTxUnmap { id: 0 }
    ));
}

#[test]
fn the_rxtx_map_the_client_sends_decodes_alike() {
    let fixture = common::fixture(
        ffa_model::FaultConfig::default(),
        capsule_ffa::ClientConfig::DEFAULT,
    );
    fixture.client.initialize().unwrap();
    let calls = fixture.conduit.calls();
    let map = calls
        .iter()
        .find(|call| call.x[0] as u32 == FunctionId::RxTxMap64.raw())
        .unwrap();
    match Interface::from_regs(V1_2, &map.x).unwrap() {
        Interface::RxTxMap { addr, page_cnt } => {
            assert_eq!(page_cnt, 1, "the minimum granule");
            assert_eq!(
                addr,
                arm_ffa::interface_args::RxTxAddr::Addr64 {
                    rx: common::RX_ADDRESS,
                    tx: common::TX_ADDRESS
                }
            );
        }
        other => panic!("{other:?}"),
    }
    let run = Request::new(FunctionId::Run).with(1, 0x8003 << 16 | 2);
    assert_eq!(
        oracle_decode(&run),
        Interface::Run {
            target_info: TargetInfo {
                endpoint_id: 0x8003,
                vcpu_id: 2
            },
            is_32bit: true
        }
    );
}

#[test]
fn oracle_error_codes_decode_alike() {
    let codes = [
        (OracleError::NotSupported, Status::NotSupported),
        (OracleError::InvalidParameters, Status::InvalidParameters),
        (OracleError::NoMemory, Status::NoMemory),
        (OracleError::Busy, Status::Busy),
        (OracleError::Interrupted, Status::Interrupted),
        (OracleError::Denied, Status::Denied),
        (OracleError::Retry, Status::Retry),
        (OracleError::Aborted, Status::Aborted),
        (OracleError::NoData, Status::NoData),
    ];
    for (theirs, ours) in codes {
        let registers = oracle_encode(&Interface::error(theirs, true));
        assert_eq!(Reply::decode(&registers), Err(ClientError::Status(ours)));
        assert_eq!(i32::from(theirs), ours.code());
    }
    let success = oracle_encode(&Interface::success32_noargs());
    assert!(matches!(Reply::decode(&success), Ok(Reply::Success(_))));
    let interrupt = oracle_encode(&Interface::Interrupt {
        target_info: TargetInfo {
            endpoint_id: 0x8003,
            vcpu_id: 0,
        },
        interrupt_id: 0,
        is_32bit: true,
    });
    assert!(
        matches!(Reply::decode(&interrupt), Ok(Reply::Interrupt(registers)) if registers.word(1) == 0x8003 << 16)
    );
}

#[test]
fn register_discovery_reads_what_the_oracle_packs() {
    // Two partitions packed by arm-ffa as PARTITION_INFO_GET_REGS registers.
    let uuid = Uuid::parse("b4399eff-6a76-400b-bfa8-2c063889c6ee").unwrap();
    let properties = OracleProperties {
        support_direct_req_rec: true,
        is_aarch64: true,
        support_direct_req2_rec: Some(true),
        support_direct_req2_send: Some(false),
        ..OracleProperties::default()
    };
    let descriptor = OraclePartitionInfo {
        uuid: UuidHelper::from_bytes(*uuid.as_bytes()),
        partition_id: 0x8042,
        partition_id_type: PartitionIdType::PeEndpoint {
            execution_ctx_count: 8,
        },
        props: properties,
    };
    let mut packed = [0u8; 120];
    OraclePartitionInfo::pack(V1_2, &[descriptor, descriptor], &mut packed, true);
    let args = SuccessArgsPartitionInfoGetRegs {
        last_index: 1,
        current_index: 1,
        info_tag: 0,
        descriptor_data: packed,
    };
    let reply = oracle_encode(&Interface::Success {
        target_info: TargetInfo::default(),
        args: SuccessArgs::from(args),
    });

    let fixture = common::fixture(
        ffa_model::FaultConfig::default(),
        capsule_ffa::ClientConfig::DEFAULT,
    );
    fixture.client.initialize().unwrap();
    fixture.conduit.rewrite(move |_, _| reply);
    let mut found = Vec::new();
    fixture
        .client
        .discover(Uuid::NIL, 4, &mut |info| found.push(info))
        .unwrap();
    assert_eq!(found.len(), 2);
    for info in found {
        assert_eq!(info.id, PartitionId::new(0x8042));
        assert_eq!(info.execution_contexts(), Some(8));
        assert_eq!(info.uuid, uuid);
        assert!(info.properties.receives_direct_requests_2());
        assert_eq!(info.properties.execution_state(), ExecutionState::AArch64);
    }
}
