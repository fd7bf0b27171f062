//! Property tests of memory management: every decoder takes any input
//! without a panic, and the builder, given random regions and receivers in
//! every layout and TX size, sends the minimum number of fragments that
//! reassemble to a descriptor describing every page of the region exactly
//! once.

mod common;

use capsule_ffa::client::ClientConfig;
use capsule_ffa::memory::attributes::{MemoryType, Permissions, Receiver, TransferOptions};
use capsule_ffa::memory::descriptor::{minimum_fragments, Constituents, Descriptor, Layout};
use capsule_ffa::memory::transfer::{self, decode_send_reply, FragmentPolicy, SendReply};
use capsule_ffa::memory::{DataAccess, Operation};
use capsule_ffa::version::SupportedVersion;
use capsule_ffa::FfaClient;
use common::{buffers, leak, Memory, TX_ADDRESS};
use ffa_abi::{CallWidth, PartitionId};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::page_pool::{PagePool, PageRange, Region};
use proptest::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// A relayer that answers set-up, takes every fragment whole, and keeps
/// the reassembled descriptor and the calls' registers.
struct Relayer {
    memory: Memory,
    assembled: RefCell<Vec<u8>>,
    total: Cell<usize>,
    calls: RefCell<Vec<SmcccRegisters>>,
}

const HANDLE: u64 = 0x0001_2345_6789_abcd;

impl SmcccConduit for Relayer {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.calls.borrow_mut().push(*arguments);
        let function = arguments.x[0] as u32;
        let success = SmcccRegisters::from_slice(&[0x8400_0061]);
        let take = |length: usize| {
            let bytes = self.memory.read(TX_ADDRESS, length);
            self.assembled.borrow_mut().extend_from_slice(&bytes);
            let filled = self.assembled.borrow().len();
            if filled < self.total.get() {
                SmcccRegisters::from_slice(&[
                    0x8400_007A,
                    HANDLE & 0xFFFF_FFFF,
                    HANDLE >> 32,
                    filled as u64,
                ])
            } else {
                SmcccRegisters::from_slice(&[0x8400_0061, 0, HANDLE & 0xFFFF_FFFF, HANDLE >> 32])
            }
        };
        match function {
            0x8000_0000 | 0x8400_0063 => SmcccRegisters::from_slice(&[0x0001_0002]),
            0x8400_0071..=0x8400_0073 | 0xC400_0071..=0xC400_0073 => {
                self.assembled.borrow_mut().clear();
                self.total.set(arguments.x[1] as usize);
                take(arguments.x[2] as usize)
            }
            0x8400_007B => take(arguments.x[3] as usize),
            _ => success,
        }
    }
}

fn relayed_client(
    version: SupportedVersion,
    tx_size: usize,
) -> (&'static Relayer, &'static FfaClient<'static>, Memory) {
    let memory = Memory::new();
    let (rx, tx) = buffers(&memory, tx_size);
    let relayer = leak(Relayer {
        memory: memory.clone(),
        assembled: RefCell::new(Vec::new()),
        total: Cell::new(0),
        calls: RefCell::new(Vec::new()),
    });
    let config = ClientConfig {
        requested_version: version,
        ..ClientConfig::DEFAULT
    };
    let client = leak(FfaClient::new(relayer, rx, tx, config));
    client.initialize().unwrap();
    (relayer, client, memory)
}

/// What an independent reading of a descriptor finds.
struct Parsed {
    receivers: Vec<(u16, u8)>,
    ranges: Vec<PageRange>,
    total_pages: u32,
}

fn parse(bytes: &[u8], layout: Layout) -> Parsed {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let (offset, size) = match layout {
        Layout::V1_0 => (32, 16),
        _ => (u32_at(32) as usize, u32_at(24) as usize),
    };
    let count = u32_at(28) as usize;
    let receivers = (0..count)
        .map(|index| {
            (
                u16_at(offset + index * size),
                bytes[offset + index * size + 2],
            )
        })
        .collect();
    let composite = u32_at(offset + 4) as usize;
    let ranges = (0..u32_at(composite + 4) as usize)
        .map(|index| {
            let at = composite + 16 + index * 16;
            PageRange::new(u64_at(at), u32_at(at + 8))
        })
        .collect();
    Parsed {
        receivers,
        ranges,
        total_pages: u32_at(composite),
    }
}

fn layout_of(version: SupportedVersion) -> Layout {
    match version {
        SupportedVersion::V1_0 => Layout::V1_0,
        SupportedVersion::V1_1 => Layout::V1_1,
        SupportedVersion::V1_2 => Layout::V1_2,
    }
}

/// Builds a region of the pool's pages chosen by `pick` (one bit per page), in
/// as many ranges as the bits make, by splitting the whole pool and joining.
fn region_of<'a>(pool: &'a PagePool<'a>, pick: &[bool]) -> Option<Region<'a>> {
    let mut rest = Some(pool.allocate(pick.len()).ok()?);
    let mut kept: Option<Region<'a>> = None;
    let mut dropped = Vec::new();
    for (index, keep) in pick.iter().enumerate() {
        let whole = rest.take()?;
        let (page, remainder) = if index + 1 == pick.len() {
            (whole, None)
        } else {
            let (page, remainder) = whole.split(1).ok()?;
            (page, Some(remainder))
        };
        rest = remainder;
        if *keep {
            kept = Some(match kept {
                Some(region) => region.join(page).ok()?,
                None => page,
            });
        } else {
            dropped.push(page);
        }
    }
    kept
}

fn versions() -> impl Strategy<Value = SupportedVersion> {
    prop::sample::select(vec![
        SupportedVersion::V1_0,
        SupportedVersion::V1_1,
        SupportedVersion::V1_2,
    ])
}

fn receivers() -> impl Strategy<Value = Vec<Receiver>> {
    prop::collection::btree_set(0x8001u16..0x8040, 1..5).prop_flat_map(|ids| {
        let ids: Vec<u16> = ids.into_iter().collect();
        let count = ids.len();
        prop::collection::vec(any::<bool>(), count).prop_map(move |read_only| {
            ids.iter()
                .zip(read_only)
                .map(|(id, read_only)| {
                    let access = if read_only {
                        DataAccess::ReadOnly
                    } else {
                        DataAccess::ReadWrite
                    };
                    Receiver::new(PartitionId::new(*id), access)
                })
                .collect()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random regions of a pool, random receivers, every layout and TX size:
    /// the fragments are as few as possible, reassemble to the whole
    /// descriptor, and describe every page of the region exactly once.
    #[test]
    fn regions_are_described_exactly_in_the_fewest_fragments(
        pick in prop::collection::vec(any::<bool>(), 1..700),
        version in versions(),
        tx_pages in 1usize..4,
        receivers in receivers(),
        operation in prop::sample::select(vec![Operation::Share, Operation::Lend]),
        width in prop::sample::select(vec![CallWidth::Bits32, CallWidth::Bits64]),
        tag in any::<u64>(),
    ) {
        prop_assume!(pick.iter().any(|keep| *keep));
        let (relayer, client, memory) = relayed_client(version, tx_pages * 4096);
        let pool = leak(PagePool::new(leak(memory.pool_pages(0x4100_0000, 1024))).unwrap());
        let region = region_of(pool, &pick).unwrap();
        let layout = layout_of(version);
        let options = TransferOptions::tagged(tag);
        let descriptor = Descriptor::new(layout, PartitionId::new(0), operation, &receivers, &options, &region).unwrap();
        let total = descriptor.total_length();
        let tx_size = client.mailbox().geometry().unwrap().size;
        relayer.calls.borrow_mut().clear();
        let sent = transfer::send(client.conduit(), client.mailbox(), operation, width, &descriptor, FragmentPolicy::ConstituentBoundaries).unwrap();
        prop_assert_eq!(sent.handle.0, HANDLE);
        prop_assert_eq!(sent.fragments as usize, minimum_fragments(total, tx_size));
        prop_assert_eq!(relayer.calls.borrow().len(), sent.fragments as usize);
        let assembled = relayer.assembled.borrow().clone();
        let mut whole = vec![0u8; total];
        descriptor.write_range(0, total, |offset: usize, bytes: &[u8]| {
            whole[offset..offset + bytes.len()].copy_from_slice(bytes);
            Ok(())
        }).unwrap();
        prop_assert_eq!(&assembled, &whole);
        let parsed = parse(&assembled, layout);
        prop_assert_eq!(parsed.receivers.len(), receivers.len());
        for (parsed, receiver) in parsed.receivers.iter().zip(&receivers) {
            prop_assert_eq!(*parsed, (receiver.id.raw(), receiver.permissions.bits()));
        }
        // Every page of the region in exactly one constituent, and nothing else.
        let mut seen = BTreeSet::new();
        for range in &parsed.ranges {
            for page in 0..u64::from(range.pages) {
                let address = range.address + page * 4096;
                prop_assert!(region.contains(address), "{address:#x} is not the region's");
                prop_assert!(seen.insert(address), "{address:#x} twice");
            }
        }
        prop_assert_eq!(seen.len(), region.pages());
        prop_assert_eq!(parsed.total_pages as usize, region.pages());
        prop_assert_eq!(parsed.ranges.len(), region.range_count());
        // Each fragment after the first ends on a constituent boundary.
        let fixed = descriptor.fixed_length();
        prop_assert!(fixed <= tx_size);
        let mut boundary = tx_size;
        while boundary < total {
            prop_assert_eq!((boundary - fixed) % 16, 0);
            boundary += tx_size;
        }
    }

    /// Any list of ranges (adjacent, repeated, huge): no panic; whatever the
    /// builder accepts it writes the same through any split.
    #[test]
    fn any_range_list_builds_or_is_refused(
        ranges in prop::collection::vec((any::<u64>(), any::<u32>()), 0..40),
        version in versions(),
        split in 1usize..2000,
    ) {
        let ranges: Vec<PageRange> = ranges.into_iter().map(|(address, pages)| PageRange::new(address & !0xFFF, pages)).collect();
        let receivers = [Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite)];
        let options = TransferOptions::DEFAULT;
        if let Ok(descriptor) = Descriptor::new(layout_of(version), PartitionId::new(0), Operation::Share, &receivers, &options, &ranges[..]) {
            let total = descriptor.total_length();
            let mut whole = vec![0u8; total];
            descriptor.write_range(0, total, |offset: usize, bytes: &[u8]| { whole[offset..offset + bytes.len()].copy_from_slice(bytes); Ok(()) }).unwrap();
            let mut pieces = vec![0u8; total];
            let mut start = 0;
            while start < total {
                let end = (start + split).min(total);
                descriptor.write_range(start, end, |offset: usize, bytes: &[u8]| {
                    pieces[start + offset..start + offset + bytes.len()].copy_from_slice(bytes);
                    Ok(())
                }).unwrap();
                start = end;
            }
            prop_assert_eq!(pieces, whole);
            prop_assert_eq!(Constituents::ranges(&ranges[..]).count(), ranges.len());
        }
    }

    /// Any registers decode to an answer or an error, consistently with w0.
    #[test]
    fn send_replies_decode_without_panic(
        w0 in prop::sample::select(vec![0x8400_0061u64, 0xC400_0061, 0x8400_007A, 0x8400_0060, 0x8400_0078, u64::MAX, 0x0001_0002]),
        rest in prop::array::uniform17(any::<u64>()),
    ) {
        let mut registers = SmcccRegisters::default();
        registers.x[0] = w0;
        registers.x[1..].copy_from_slice(&rest);
        match decode_send_reply(&registers) {
            Ok(SendReply::Complete(handle)) => {
                prop_assert!(w0 as u32 == 0x8400_0061 || w0 as u32 == 0xC400_0061);
                prop_assert_eq!(handle.0, (rest[2] as u32 as u64) << 32 | rest[1] as u32 as u64);
            }
            Ok(SendReply::MoreExpected { handle, offset, sender }) => {
                prop_assert_eq!(w0, 0x8400_007A);
                prop_assert_eq!(handle.0, (rest[1] as u32 as u64) << 32 | rest[0] as u32 as u64);
                prop_assert_eq!(offset, rest[2] as u32);
                prop_assert_eq!(sender, (rest[3] >> 16) as u16);
            }
            Err(_) => prop_assert!(w0 as u32 != 0x8400_0061 && w0 as u32 != 0xC400_0061 && w0 != 0x8400_007A),
        }
    }

    /// Any attribute or permission bits: decoded back to themselves, or refused.
    #[test]
    fn attributes_decode_without_panic(attributes in any::<u16>(), permissions in any::<u8>()) {
        if let Ok(memory_type) = MemoryType::decode(attributes) {
            prop_assert_eq!(memory_type.bits(), attributes);
        }
        if let Ok(decoded) = Permissions::decode(permissions) {
            prop_assert_eq!(decoded.bits(), permissions);
        }
    }

    /// A relayer that acknowledges anything in FRAG_RX cannot make the sender
    /// loop, overrun or panic: it ends, and the region's fate is decided.
    #[test]
    fn lying_relayers_end_cleanly(offsets in prop::collection::vec(any::<u32>(), 0..12), complete_early in any::<bool>()) {
        let memory = Memory::new();
        let (rx, tx) = buffers(&memory, 4096);
        let mut script: Vec<Vec<u64>> = vec![vec![0x0001_0002], vec![0x0001_0002]];
        // FFA_ID_GET, FFA_FEATURES x 11, FFA_RXTX_MAP.
        script.extend(std::iter::repeat_n(vec![0x8400_0061], 13));
        for offset in &offsets {
            script.push(vec![0x8400_007A, 1, 0, u64::from(*offset)]);
        }
        if complete_early {
            script.push(vec![0x8400_0061, 0, 1, 0]);
        }
        let slices: Vec<&[u64]> = script.iter().map(Vec::as_slice).collect();
        let conduit = leak(common::ScriptedConduit::new(&slices));
        let client = leak(FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT));
        client.initialize().unwrap();
        let pool = leak(PagePool::new(leak(memory.pool_pages(0x4100_0000, 1024))).unwrap());
        let pick: Vec<bool> = (0..700).map(|index| index % 2 == 0).collect();
        let region = region_of(pool, &pick).unwrap();
        let receivers = [Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite)];
        let _ = client.share(region, &receivers, &TransferOptions::DEFAULT);
        prop_assert!(conduit.calls().len() < 40);
    }
}
