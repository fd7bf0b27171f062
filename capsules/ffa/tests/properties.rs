//! Property-based tests: random register files and random RX contents fed to every decoder.
//! Whatever comes back from the other side, the capsule returns a value or an error, never panics
//! or loops, and never reports more than it can hold.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_ffa::conduit::Reply;
use capsule_ffa::features::RxTxGranule;
use capsule_ffa::messaging::{DirectMessage2, DirectMessage32, DirectMessage64, RetryPolicy};
use capsule_ffa::partition::{DescriptorLayout, PartitionProperties};
use capsule_ffa::version::{self, SupportedVersion};
use common::{fixture, ids, RX_ADDRESS};
use ffa_abi::Uuid;
use ffa_abi::{PartitionId, Version};
use ffa_model::FaultConfig;
use kernel::hil::smccc::SmcccRegisters;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

const KNOWN_REPLIES: [u32; 12] = [
    ids::FFA_ERROR,
    ids::FFA_SUCCESS_32,
    ids::FFA_SUCCESS_64,
    ids::FFA_INTERRUPT,
    ids::FFA_YIELD,
    ids::FFA_MSG_SEND_DIRECT_RESP_32,
    ids::FFA_MSG_SEND_DIRECT_RESP_64,
    ids::FFA_MSG_SEND_DIRECT_RESP2,
    ids::FFA_RUN,
    ids::FFA_VERSION,
    0xffff_ffff,
    0x8000_0000,
];

/// A register file whose x0 is often a function ID the capsule knows, and
/// whose w1 often names the echo partition, so decoding goes deep.
fn register_file() -> impl Strategy<Value = SmcccRegisters> {
    (
        prop_oneof![
            prop::sample::select(KNOWN_REPLIES.to_vec()).prop_map(u64::from),
            any::<u64>()
        ],
        prop_oneof![Just(0x8001u64 << 16), Just(0x8003u64 << 16), any::<u64>()],
        prop_oneof![
            (-12i32..=1).prop_map(|code| code as u32 as u64),
            any::<u64>()
        ],
        prop::array::uniform15(any::<u64>()),
    )
        .prop_map(|(x0, x1, x2, rest)| {
            let mut registers = SmcccRegisters::from_slice(&[x0, x1, x2]);
            registers.x[3..].copy_from_slice(&rest);
            registers
        })
}

fn supported_version() -> impl Strategy<Value = SupportedVersion> {
    prop::sample::select(vec![
        SupportedVersion::V1_0,
        SupportedVersion::V1_1,
        SupportedVersion::V1_2,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reply_decoding_never_panics(registers in register_file()) {
        match Reply::decode(&registers) {
            Ok(reply) => {
                let registers = reply.registers();
                prop_assert!(ffa_abi::FunctionId::from_raw(registers.word(0)).is_some());
                let _ = reply.expect_success();
            }
            Err(error) => {
                let _ = kernel::ErrorCode::from(error);
            }
        }
    }

    #[test]
    fn version_decoders_never_panic(x0 in any::<u64>(), x2 in any::<u64>(), requested in supported_version()) {
        let _ = version::decode_smccc_version(x0);
        let _ = Version::from_raw(x0 as u32);
        match version::decode_version_answer(&SmcccRegisters::from_slice(&[x0, 0, x2])) {
            version::VersionAnswer::Version(callee) => {
                if let Ok(negotiated) = version::agree(requested, callee) {
                    prop_assert!(negotiated.supported() <= requested);
                    prop_assert_eq!(callee.major(), 1);
                }
            }
            version::VersionAnswer::Status(status) => prop_assert!(status.code() < 0),
        }
        let _ = RxTxGranule::from_properties(x0 as u32);
    }

    #[test]
    fn descriptor_decoding_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        reported in any::<u32>(),
        registers in prop::array::uniform3(any::<u64>()),
        version in supported_version(),
        size in any::<u16>(),
    ) {
        let layout = DescriptorLayout::for_version(version);
        let info = layout.decode(&bytes, usize::from(size));
        if bytes.len() < 8 + 16 || version == SupportedVersion::V1_0 {
            // Missing UUID bytes read as zero; v1.0 reads no UUID at all.
            if version == SupportedVersion::V1_0 { prop_assert!(info.uuid.is_nil()); }
        }
        if let Ok((stride, copied)) = layout.accept_reported_size(reported) {
            prop_assert!(stride >= layout.size());
            prop_assert_eq!(copied, layout.size());
        }
        let info = layout.decode_registers(registers, usize::from(size));
        prop_assert_eq!(info.id.raw(), registers[0] as u16);
        let properties = PartitionProperties::new(registers[0] as u32, version.into());
        if version != SupportedVersion::V1_2 {
            prop_assert!(!properties.receives_direct_requests_2());
        }
        // A register descriptor is whole registers, 24 to 120 bytes.
        let accepted = DescriptorLayout::accept_register_size(size);
        prop_assert_eq!(
            accepted.is_ok(),
            size % 8 == 0 && (24..=120).contains(&size)
        );
        if let Ok(registers_each) = accepted {
            prop_assert_eq!(registers_each * 8, usize::from(size));
        }
    }

    #[test]
    fn uuid_register_forms_round_trip(bytes in prop::array::uniform16(any::<u8>())) {
        let uuid = Uuid::from_bytes(bytes);
        prop_assert_eq!(Uuid::from_words(uuid.to_words()), uuid);
        prop_assert_eq!(Uuid::from_register_pair(uuid.to_register_pair()), uuid);
        let text = uuid.to_string();
        prop_assert_eq!(Uuid::parse(&text), Some(uuid));
    }

    #[test]
    fn uuid_parsing_never_panics(text in "\\PC{0,40}") {
        let _ = Uuid::parse(&text);
    }

    #[test]
    fn random_replies_to_set_up_give_errors_not_panics(replies in prop::collection::vec(register_file(), 0..16)) {
        let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
        let replies = Rc::new(RefCell::new(replies.into_iter()));
        // The first two replies are real (so set-up gets past SMCCC and the version sometimes).
        let mut real = 0;
        fixture.conduit.rewrite(move |_, original| {
            real += 1;
            if real <= 2 { original } else { replies.borrow_mut().next().unwrap_or(original) }
        });
        if let Ok(session) = fixture.client.initialize() {
            prop_assert!(session.buffers.size <= common::BUFFER_SIZE);
            prop_assert!(session.buffers.size >= session.features.rxtx_granule.bytes());
        }
    }

    #[test]
    fn random_replies_to_requests_give_errors_not_panics(
        replies in prop::collection::vec(register_file(), 1..24),
        version in supported_version(),
    ) {
        let fixture = fixture(
            FaultConfig::default(),
            ClientConfig { requested_version: version, retry: RetryPolicy { busy_retries: 3, resumptions: 3, ..RetryPolicy::DEFAULT }, ..ClientConfig::DEFAULT },
        );
        fixture.client.initialize().unwrap();
        let replies = Rc::new(RefCell::new(replies.into_iter()));
        let source = replies.clone();
        fixture.conduit.rewrite(move |_, original| source.borrow_mut().next().unwrap_or(original));
        let echo = PartitionId::new(0x8001);
        let mut found = 0usize;
        let discovered = fixture.client.discover(Uuid::NIL, 4, &mut |_| found += 1);
        if let Ok(count) = discovered {
            prop_assert_eq!(count, found);
        }
        prop_assert!(found <= 4);
        let _ = fixture.client.direct_request(echo, Uuid::NIL, &DirectMessage32::default());
        let _ = fixture.client.direct_request(echo, Uuid::NIL, &DirectMessage64::default());
        let _ = fixture.client.direct_request(echo, Uuid::NIL, &DirectMessage2::default());
        // Bounded: at most 1 + 3 + 3 calls per request, plus discovery's few.
        prop_assert!(fixture.conduit.functions().len() <= 64);
        prop_assert!(!fixture.client.mailbox().rx_owned());
    }

    #[test]
    fn random_rx_contents_give_errors_not_panics(
        rx in prop::collection::vec(any::<u8>(), 0..512),
        count in prop_oneof![0u64..40, any::<u64>()],
        size in prop_oneof![Just(24u64), Just(8u64), Just(32u64), 0u64..64, any::<u64>()],
        version in prop::sample::select(vec![SupportedVersion::V1_0, SupportedVersion::V1_1]),
    ) {
        let fixture = fixture(
            FaultConfig::default(),
            ClientConfig { requested_version: version, ..ClientConfig::DEFAULT },
        );
        fixture.client.initialize().unwrap();
        let memory = fixture.memory.clone();
        fixture.conduit.rewrite(move |call, original| {
            if call.x[0] as u32 != ids::FFA_PARTITION_INFO_GET {
                return original;
            }
            if call.x[5] & 1 == 0 {
                memory.with(|memory| memory.write(RX_ADDRESS, &rx)).unwrap();
            }
            // Keep the model's RX ownership consistent: it handed RX over in `original`.
            if original.x[0] as u32 != ids::FFA_SUCCESS_32 {
                return original;
            }
            SmcccRegisters::from_slice(&[ids::FFA_SUCCESS_32 as u64, 0, count, size])
        });
        let mut found = Vec::new();
        let result = fixture.client.discover(Uuid::NIL, 16, &mut |info| found.push(info));
        if let Ok(reported) = result {
            prop_assert_eq!(reported, found.len());
            prop_assert!(reported <= 16);
        }
        prop_assert!(!fixture.client.mailbox().rx_owned());
        prop_assert_eq!(fixture.conduit.world().receive_owner(), ffa_model::mailbox::ReceiveOwner::Producer);
    }
}
