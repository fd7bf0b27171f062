//! Cost of building and sending a share of N ranges (N = 1, 16, 256) in the
//! v1.1 layout through 4 KiB TX buffers, side by side in one run: the
//! capsule (the descriptor written straight into TX, fragment by fragment,
//! `capsule_ffa::memory::transfer::send`) against the `arm-ffa` crate
//! (`MemTransactionDesc::pack` into a buffer, each fragment then copied
//! into TX). Both send through the same relayer conduit, which acknowledges
//! every fragment, and decode its answers with their own code; both write
//! TX through the same `SharedBuffer`. Every run checks that the number of
//! calls is the minimum, ⌈descriptor bytes / TX size⌉.
//!
//! Run with `cargo bench -p capsule-ffa --bench memory_share`. Without
//! `--bench` (as under `cargo test --benches`) it runs a short smoke pass.

use arm_ffa::interface_args::SuccessArgs;
use arm_ffa::memory_management::{
    ConstituentMemRegion, DataAccessPerm, Handle, InstuctionAccessPerm, MemAccessPerm,
    MemRegionAttributes, MemTransactionDesc, MemTransactionFlags, SuccessArgsMemOp,
};
use arm_ffa::{Interface, Version as OracleVersion};
use capsule_ffa::client::ClientConfig;
use capsule_ffa::conduit::Request;
use capsule_ffa::memory::attributes::{DataAccess, Operation, Receiver, TransferOptions};
use capsule_ffa::memory::descriptor::{minimum_fragments, Descriptor, Layout};
use capsule_ffa::memory::transfer::{self, FragmentPolicy};
use capsule_ffa::version::SupportedVersion;
use capsule_ffa::FfaClient;
use ffa_abi::{CallWidth, FunctionId, PartitionId};
use kernel::hil::shared_memory::SharedBuffer;
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::page_pool::PageRange;
use kernel::ErrorCode;
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::time::Instant;

const TX_SIZE: usize = 4096;
const HANDLE: u64 = 0x0000_0001_ffff_ffc0;

/// A buffer in plain host memory, as fast as a copy can be.
struct Buffer {
    address: u64,
    bytes: RefCell<Vec<u8>>,
}

impl SharedBuffer for Buffer {
    fn physical_address(&self) -> u64 {
        self.address
    }
    fn len(&self) -> usize {
        TX_SIZE
    }
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let bytes = self.bytes.borrow();
        let source = bytes
            .get(offset..offset + destination.len())
            .ok_or(ErrorCode::SIZE)?;
        destination.copy_from_slice(source);
        Ok(())
    }
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        let mut bytes = self.bytes.borrow_mut();
        bytes
            .get_mut(offset..offset + source.len())
            .ok_or(ErrorCode::SIZE)?
            .copy_from_slice(source);
        Ok(())
    }
}

/// Answers set-up, then acknowledges every fragment of a descriptor
/// (`FFA_MEM_FRAG_RX` with the bytes so far, `FFA_SUCCESS` at the end).
struct Relayer {
    total: Cell<u64>,
    filled: Cell<u64>,
    calls: Cell<u64>,
}

impl Relayer {
    fn acknowledge(&self, length: u64) -> SmcccRegisters {
        self.calls.set(self.calls.get() + 1);
        self.filled.set(self.filled.get() + length);
        let mut reply = SmcccRegisters::default();
        if self.filled.get() < self.total.get() {
            reply.x[0] = 0x8400_007A;
            reply.x[1] = HANDLE & 0xFFFF_FFFF;
            reply.x[2] = HANDLE >> 32;
            reply.x[3] = self.filled.get();
        } else {
            reply.x[0] = 0x8400_0061;
            reply.x[2] = HANDLE & 0xFFFF_FFFF;
            reply.x[3] = HANDLE >> 32;
        }
        reply
    }
}

impl SmcccConduit for Relayer {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        match arguments.x[0] as u32 {
            0x8000_0000 => SmcccRegisters::from_slice(&[0x0001_0002]),
            0x8400_0063 => SmcccRegisters::from_slice(&[0x0001_0001]),
            0x8400_0073 | 0xC400_0073 => {
                self.total.set(arguments.x[1]);
                self.filled.set(0);
                self.acknowledge(arguments.x[2])
            }
            0x8400_007B => self.acknowledge(arguments.x[3]),
            _ => SmcccRegisters::from_slice(&[0x8400_0061]),
        }
    }
}

/// Times `capsule` and `oracle` in alternating rounds of `iterations`
/// each (so drift of a shared machine falls on both) and returns the
/// median ns per share of each.
fn side_by_side(
    label: &str,
    iterations: u64,
    rounds: usize,
    mut capsule: impl FnMut(u64),
    mut oracle: impl FnMut(u64),
) -> (f64, f64) {
    for index in 0..iterations / 4 {
        capsule(index);
        oracle(index);
    }
    let time = |operation: &mut dyn FnMut(u64)| {
        let start = Instant::now();
        for index in 0..iterations {
            operation(index);
        }
        start.elapsed().as_nanos() as f64 / iterations as f64
    };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..rounds {
        ours.push(time(&mut capsule));
        theirs.push(time(&mut oracle));
    }
    let median = |mut samples: Vec<f64>| {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    };
    let (ours, theirs) = (median(ours), median(theirs));
    println!("{label:<44} capsule-ffa {ours:>8.1} ns   arm-ffa {theirs:>8.1} ns   arm-ffa/capsule {:>5.2}", theirs / ours);
    (ours, theirs)
}

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let rx = Box::leak(Box::new(Buffer {
        address: 0x4010_0000,
        bytes: RefCell::new(vec![0; TX_SIZE]),
    }));
    let tx = Box::leak(Box::new(Buffer {
        address: 0x4020_0000,
        bytes: RefCell::new(vec![0; TX_SIZE]),
    }));
    let relayer = Box::leak(Box::new(Relayer {
        total: Cell::new(0),
        filled: Cell::new(0),
        calls: Cell::new(0),
    }));
    let config = ClientConfig {
        requested_version: SupportedVersion::V1_1,
        ..ClientConfig::DEFAULT
    };
    // The board's view: the conduit and buffers as trait objects.
    let client: &'static FfaClient<'static> =
        Box::leak(Box::new(FfaClient::new(relayer, rx, tx, config)));
    let session = client.initialize().expect("set-up");
    assert_eq!(Layout::of(&session.version), Layout::V1_1);
    let receivers = [Receiver::new(
        PartitionId::new(0x8001),
        DataAccess::ReadWrite,
    )];
    let access = [MemAccessPerm {
        endpoint_id: 0x8001,
        instr_access: InstuctionAccessPerm::NotSpecified,
        data_access: DataAccessPerm::ReadWrite,
        flags: 0,
    }];
    let oracle = OracleVersion(1, 1);
    let mut scratch = vec![0u8; 64 * 1024];
    // The oracle writes TX through the same trait object the client holds.
    let tx_buffer: &dyn SharedBuffer = black_box(tx);
    let mut ratios = Vec::new();
    println!(
        "share of N ranges, v1.1 layout, {TX_SIZE}-byte TX, one receiver, through an acknowledging relayer (median of alternating rounds)"
    );
    for ranges in [1usize, 16, 256] {
        let (iterations, rounds) = if full {
            (40_000 / ranges as u64 + 500, 41)
        } else {
            (50, 1)
        };
        let constituents: Vec<PageRange> = (0..ranges)
            .map(|index| PageRange::new(0x4100_0000 + index as u64 * 0x2000, 1))
            .collect();
        let oracle_constituents: Vec<ConstituentMemRegion> = constituents
            .iter()
            .map(|range| ConstituentMemRegion {
                address: range.address,
                page_cnt: range.pages,
            })
            .collect();
        let total = 48 + 16 + 16 + 16 * ranges;
        let minimum = minimum_fragments(total, TX_SIZE) as u64;

        let options = TransferOptions::DEFAULT;
        let capsule = |index: u64| {
            let before = relayer.calls.get();
            let descriptor = Descriptor::new(
                Layout::V1_1,
                PartitionId::new(0),
                Operation::Share,
                &receivers,
                &options,
                black_box(&constituents[..]),
            )
            .expect("descriptor");
            let sent = transfer::send(
                client.conduit(),
                client.mailbox(),
                Operation::Share,
                CallWidth::Bits64,
                &descriptor,
                FragmentPolicy::ConstituentBoundaries,
            )
            .expect("sent");
            assert_eq!(sent.handle.0, HANDLE);
            assert_eq!(relayer.calls.get() - before, minimum, "minimal fragments");
            black_box((sent, index));
        };
        let oracle = |index: u64| {
            let before = relayer.calls.get();
            let description = MemTransactionDesc {
                sender_id: 0,
                mem_region_attr: MemRegionAttributes::try_from(0x2Fu16).expect("attributes"),
                flags: MemTransactionFlags(0),
                handle: Handle(0),
                tag: 0,
            };
            let length = description.pack(black_box(&oracle_constituents), &access, &mut scratch);
            assert_eq!(length, total);
            let mut offset = 0;
            let mut handle = Handle(0);
            loop {
                let fragment = (length - offset).min(TX_SIZE);
                tx_buffer
                    .write(0, &scratch[offset..offset + fragment])
                    .expect("TX");
                let request = if offset == 0 {
                    Request::new(FunctionId::MemoryShare64)
                        .with(1, length as u64)
                        .with(2, fragment as u64)
                } else {
                    let [low, high]: [u32; 2] = handle.into();
                    Request::new(FunctionId::MemoryFragmentTransmit)
                        .with(1, u64::from(low))
                        .with(2, u64::from(high))
                        .with(3, fragment as u64)
                };
                let reply = client.conduit().call_raw(&request);
                match Interface::from_regs(oracle, &reply.x).expect("reply") {
                    Interface::MemFragRx {
                        handle: next,
                        frag_offset,
                        ..
                    } => {
                        handle = next;
                        offset = frag_offset as usize;
                    }
                    Interface::Success {
                        args: args @ SuccessArgs::Args32(_),
                        ..
                    } => {
                        let done = SuccessArgsMemOp::try_from(args).expect("handle");
                        assert_eq!(done.handle, Handle(HANDLE));
                        break;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(relayer.calls.get() - before, minimum, "minimal fragments");
            black_box(index);
        };
        let label = format!("N = {ranges:>3} ({total} bytes, {minimum} fragment(s))");
        let (ours, theirs) = side_by_side(&label, iterations, rounds, capsule, oracle);
        ratios.push((ranges, theirs / ours));
    }
    for (ranges, ratio) in ratios {
        println!(
            "N = {ranges:>3}: arm-ffa / capsule-ffa = {ratio:.2} (above 1: the capsule is faster)"
        );
    }
}
