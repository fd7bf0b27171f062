//! Differential tests of memory management against the `arm-ffa` crate
//! (0.5, which implements the v1.1 descriptors): the same transaction gives
//! the same bytes, and the register forms of the calls and answers mean the
//! same to both.

mod common;

use arm_ffa::interface_args::{SuccessArgs, TargetInfo};
use arm_ffa::memory_management::{
    ConstituentMemRegion, DataAccessPerm, Handle, InstuctionAccessPerm, MemAccessPerm,
    MemReclaimFlags, MemRegionAttributes, MemTransactionDesc, MemTransactionFlags,
    SuccessArgsMemOp,
};
use arm_ffa::{Interface, Version as OracleVersion};
use capsule_ffa::conduit::{FfaConduit, Request};
use capsule_ffa::memory::attributes::{MemoryType, Receiver, TransferOptions};
use capsule_ffa::memory::descriptor::{Descriptor, Layout};
use capsule_ffa::memory::transfer::{decode_send_reply, MemoryHandle, SendReply};
use capsule_ffa::memory::{DataAccess, Operation};
use ffa_abi::{CallWidth, FunctionId, PartitionId};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::page_pool::PageRange;
use proptest::prelude::*;
use std::cell::RefCell;

const V1_1: OracleVersion = OracleVersion(1, 1);

fn ours(
    operation: Operation,
    receivers: &[Receiver],
    options: &TransferOptions,
    ranges: &[PageRange],
) -> Vec<u8> {
    let descriptor = Descriptor::new(
        Layout::V1_1,
        PartitionId::new(0),
        operation,
        receivers,
        options,
        ranges,
    )
    .unwrap();
    let mut bytes = vec![0u8; descriptor.total_length()];
    descriptor
        .write_range(0, bytes.len(), |offset: usize, piece: &[u8]| {
            bytes[offset..offset + piece.len()].copy_from_slice(piece);
            Ok(())
        })
        .unwrap();
    bytes
}

fn theirs(
    attributes: u16,
    flags: u32,
    tag: u64,
    receivers: &[Receiver],
    ranges: &[PageRange],
) -> Vec<u8> {
    let description = MemTransactionDesc {
        sender_id: 0,
        mem_region_attr: MemRegionAttributes::try_from(attributes).unwrap(),
        flags: MemTransactionFlags(flags),
        handle: Handle(0),
        tag,
    };
    let access: Vec<MemAccessPerm> = receivers
        .iter()
        .map(|receiver| MemAccessPerm {
            endpoint_id: receiver.id.raw(),
            instr_access: InstuctionAccessPerm::NotSpecified,
            data_access: match receiver.permissions.data {
                DataAccess::ReadOnly => DataAccessPerm::ReadOnly,
                DataAccess::ReadWrite => DataAccessPerm::ReadWrite,
                DataAccess::Unspecified => DataAccessPerm::NotSpecified,
            },
            flags: 0,
        })
        .collect();
    let constituents: Vec<ConstituentMemRegion> = ranges
        .iter()
        .map(|range| ConstituentMemRegion {
            address: range.address,
            page_cnt: range.pages,
        })
        .collect();
    let mut buffer = vec![0u8; 64 * 1024];
    let length = arm_ffa::memory_management::MemTransactionDesc::pack(
        &description,
        &constituents,
        &access,
        &mut buffer,
    );
    buffer.truncate(length);
    buffer
}

fn receivers() -> impl Strategy<Value = Vec<Receiver>> {
    prop::collection::btree_set(0x8001u16..0x8100, 1..5).prop_flat_map(|ids| {
        let ids: Vec<u16> = ids.into_iter().collect();
        let count = ids.len();
        prop::collection::vec(any::<bool>(), count).prop_map(move |read_only| {
            ids.iter()
                .zip(read_only)
                .map(|(id, read_only)| {
                    Receiver::new(
                        PartitionId::new(*id),
                        if read_only {
                            DataAccess::ReadOnly
                        } else {
                            DataAccess::ReadWrite
                        },
                    )
                })
                .collect()
        })
    })
}

fn ranges() -> impl Strategy<Value = Vec<PageRange>> {
    prop::collection::vec((any::<u64>(), 1u32..100_000), 1..300).prop_map(|ranges| {
        ranges
            .into_iter()
            .map(|(address, pages)| PageRange::new(address & !0xFFF, pages))
            .collect()
    })
}

/// Records the registers of every call and answers FFA_SUCCESS.
#[derive(Default)]
struct Recorder(RefCell<Vec<SmcccRegisters>>);

impl SmcccConduit for Recorder {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }
    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.0.borrow_mut().push(*arguments);
        SmcccRegisters::from_slice(&[0x8400_0061])
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Share and lend descriptors in the v1.1 layout are byte for byte those `arm-ffa` packs.
    #[test]
    fn v1_1_descriptors_are_the_oracles(
        receivers in receivers(),
        ranges in ranges(),
        tag in any::<u64>(),
        lend in any::<bool>(),
        zero in any::<bool>(),
        memory_type in prop::sample::select(vec![0x2Fu16, 0x2E, 0x2C, 0x27, 0x14, 0x10, 0x1C]),
    ) {
        let total: u64 = ranges.iter().map(|range| u64::from(range.pages)).sum();
        prop_assume!(total <= u64::from(u32::MAX));
        let (operation, attributes, zero) = if lend && receivers.len() == 1 {
            (Operation::Lend, 0u16, zero)
        } else if lend {
            (Operation::Lend, memory_type, zero)
        } else {
            (Operation::Share, memory_type, false)
        };
        let options = TransferOptions {
            memory_type: Some(MemoryType::decode(attributes).unwrap()),
            tag,
            zero_memory: zero,
        };
        let ours = ours(operation, &receivers, &options, &ranges);
        let theirs = theirs(attributes, u32::from(zero), tag, &receivers, &ranges);
        prop_assert_eq!(&ours, &theirs);
        // And the oracle reads ours back as what was meant.
        let (description, access, constituents) = MemTransactionDesc::unpack(&ours).unwrap();
        prop_assert_eq!(description.tag, tag);
        prop_assert_eq!(u16::from(description.mem_region_attr), attributes);
        let access: Vec<MemAccessPerm> = access.map(Result::unwrap).collect();
        prop_assert_eq!(access.len(), receivers.len());
        for (theirs, ours) in access.iter().zip(&receivers) {
            prop_assert_eq!(theirs.endpoint_id, ours.id.raw());
        }
        let constituents: Vec<ConstituentMemRegion> = constituents.unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(constituents.len(), ranges.len());
        for (theirs, ours) in constituents.iter().zip(&ranges) {
            prop_assert_eq!((theirs.address, theirs.page_cnt), (ours.address, ours.pages));
        }
    }

    /// The answers `arm-ffa` encodes decode to the same handle and offset here.
    #[test]
    fn oracle_answers_decode_alike(handle in any::<u64>(), offset in any::<u32>(), endpoint in any::<u16>()) {
        let mut registers = SmcccRegisters::default();
        Interface::Success {
            target_info: TargetInfo::default(),
            args: SuccessArgs::from(SuccessArgsMemOp { handle: Handle(handle) }),
        }
        .to_regs(V1_1, &mut registers.x);
        prop_assert_eq!(decode_send_reply(&registers), Ok(SendReply::Complete(MemoryHandle(handle))));
        let mut registers = SmcccRegisters::default();
        Interface::MemFragRx { handle: Handle(handle), frag_offset: offset, endpoint_id: endpoint }.to_regs(V1_1, &mut registers.x);
        prop_assert_eq!(
            decode_send_reply(&registers),
            Ok(SendReply::MoreExpected { handle: MemoryHandle(handle), offset, sender: endpoint })
        );
    }

    /// The calls this side makes mean the same to `arm-ffa`.
    #[test]
    fn calls_decode_alike(handle in any::<u64>(), length in 1u32..4096) {
        let handle = MemoryHandle(handle);
        let recorder = Recorder::default();
        let conduit = FfaConduit::new(&recorder);
        capsule_ffa::memory::transfer::reclaim(&conduit, handle, false).unwrap();
        let calls = recorder.0.borrow().clone();
        let decoded = Interface::from_regs(V1_1, &calls[0].x).unwrap();
        prop_assert_eq!(decoded, Interface::MemReclaim { handle: Handle(handle.0), flags: MemReclaimFlags::try_from(0).unwrap() });
        let frag_tx = Request::new(FunctionId::MemoryFragmentTransmit)
            .with(1, u64::from(handle.low()))
            .with(2, u64::from(handle.high()))
            .with(3, u64::from(length));
        prop_assert_eq!(
            Interface::from_regs(V1_1, &frag_tx.registers().x).unwrap(),
            Interface::MemFragTx { handle: Handle(handle.0), frag_len: length, endpoint_id: 0 }
        );
        for (operation, width) in [(Operation::Share, CallWidth::Bits64), (Operation::Lend, CallWidth::Bits32), (Operation::Donate, CallWidth::Bits64)] {
            let request = Request::new(operation.function(width)).with(1, 0x1060).with(2, u64::from(length));
            let decoded = Interface::from_regs(V1_1, &request.registers().x).unwrap();
            let expected = match operation {
                Operation::Share => Interface::MemShare { total_len: 0x1060, frag_len: length, buf: None },
                Operation::Lend => Interface::MemLend { total_len: 0x1060, frag_len: length, buf: None },
                Operation::Donate => Interface::MemDonate { total_len: 0x1060, frag_len: length, buf: None },
            };
            prop_assert_eq!(decoded, expected);
        }
    }
}

#[test]
fn the_notes_vectors_are_the_oracles_too() {
    // /work/notes/memory-management.md 8.1 (share, one page) and 8.3 (lend, two ranges).
    let receivers = [Receiver::new(
        PartitionId::new(0x8001),
        DataAccess::ReadWrite,
    )];
    let share = ours(
        Operation::Share,
        &receivers,
        &TransferOptions::DEFAULT,
        &[PageRange::new(0x4000_1000, 1)],
    );
    assert_eq!(share.len(), 0x60);
    assert_eq!(
        share,
        theirs(0x2F, 0, 0, &receivers, &[PageRange::new(0x4000_1000, 1)])
    );
    let lend_ranges = [
        PageRange::new(0x4000_1000, 2),
        PageRange::new(0x4000_8000, 1),
    ];
    let lend = ours(
        Operation::Lend,
        &receivers,
        &TransferOptions::DEFAULT,
        &lend_ranges,
    );
    assert_eq!(lend.len(), 0x70);
    assert_eq!(&lend[0x40..0x48], &[3, 0, 0, 0, 2, 0, 0, 0]);
    assert_eq!(lend, theirs(0, 0, 0, &receivers, &lend_ranges));
}
