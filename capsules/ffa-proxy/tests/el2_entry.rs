//! A fuzzer of the proxy's whole EL2 entry, as the chip's runtime calls it:
//! the kernel's control HVCs (with any immediate and any registers, before,
//! during and after finalisation), its trapped SMCs (any function, any
//! registers, any bytes in its TX buffer, well-formed memory transactions
//! among them) and its stage-2 faults (any address, any kind), against the
//! FF-A model as the monitor and a simulated stage 2. No call panics, and
//! after every one EL2's memory and the carve-out stay out of the host's
//! reach and out of every page the host may give away.

use std::cell::{Cell, RefCell};
use std::sync::atomic::AtomicU8;

use capsule_ffa_proxy::control;
use capsule_ffa_proxy::el2::El2Proxy;
use capsule_ffa_proxy::ownership::{storage_bytes, PageState};
use ffa_abi::function::{
    FFA_MEM_FRAG_TX, FFA_MEM_LEND_64, FFA_MEM_RECLAIM, FFA_MEM_SHARE_64, FFA_RXTX_MAP_64,
    FFA_RXTX_UNMAP, FFA_SUCCESS_32, FFA_VERSION,
};
use ffa_model::FaultConfig;
use kernel::hil::hypervisor::{El2Memory, HostAccess, HostCallHandler, MemoryRange, Stage2Fault};
use kernel::hil::smccc::SmcccRegisters;
use testbed::el2::{ModelServices, SimulatedStage2};
use testbed::{leak, Memory, ModelMonitor, Random};

const HOST_MEMORY: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);
const CARVE_OUT: MemoryRange = MemoryRange::new(0x5fe0_0000, 0x1_0000);
const DEVICES: MemoryRange = MemoryRange::new(0, 0x4000_0000);
const EL2_STACK: MemoryRange = MemoryRange::new(0x6010_0000, 0x4000);
const HOST_TX: u64 = 0x6020_0000;
const HOST_RX: u64 = 0x6020_1000;
/// Pages the host's well-formed transactions name: 0x6021_0000 onwards.
const SHARED_BASE: u64 = 0x6021_0000;

/// A v1.2 share or lend of `pages` single pages from [`SHARED_BASE`] to 0x8001.
fn descriptor(lend: bool, first: u64, pages: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; 96 + 16 * pages as usize];
    bytes[2] = if lend { 0 } else { 0x2f };
    bytes[24] = 32;
    bytes[28] = 1;
    bytes[32] = 48;
    bytes[48..50].copy_from_slice(&0x8001u16.to_le_bytes());
    bytes[50] = 0x02;
    bytes[52] = 80;
    bytes[80..84].copy_from_slice(&(pages as u32).to_le_bytes());
    bytes[84..88].copy_from_slice(&(pages as u32).to_le_bytes());
    for index in 0..pages {
        let at = 96 + 16 * index as usize;
        let address = SHARED_BASE + (first + index) * 4096;
        bytes[at..at + 8].copy_from_slice(&address.to_le_bytes());
        bytes[at + 8] = 1;
    }
    bytes
}

/// What one epoch of the fuzzer saw.
#[derive(Default, Debug)]
struct Seen {
    finalised: bool,
    shares_given: u32,
    reclaims: u32,
    faults: u32,
}

/// One proxy, from its first HVC, for `rounds` calls. With `start`, the
/// board's own START and steps come first, so most calls reach a finalised
/// proxy; without, finalisation happens only if the fuzzer's HVCs get it
/// right.
fn epoch(seed: u64, rounds: u32, start: bool) -> Seen {
    let memory = Memory::new();
    memory.add_region(0x5fe0_0000, 0x60_0000);
    let monitor = leak(ModelMonitor::new(FaultConfig::default_config(), memory));
    let storage: &'static [AtomicU8] = Box::leak(
        (0..storage_bytes(HOST_MEMORY.size))
            .map(|_| AtomicU8::new(0))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let proxy: &'static mut El2Proxy = Box::leak(Box::new(El2Proxy::with_page_states(storage)));
    let trapping = Cell::new(false);
    let stage2 = RefCell::new(SimulatedStage2::default());
    let el2_memory = El2Memory::EMPTY.with(EL2_STACK).unwrap();
    let mut services = ModelServices::new(monitor, el2_memory, &trapping).with_stage2(&stage2);
    let mut random = Random::new(seed);
    let mut seen = Seen::default();
    // The fragments of a split transaction not yet sent.
    let mut rest: Option<Vec<u8>> = None;
    let board_start = [
        u64::from(control::START_FINALISATION),
        HOST_MEMORY.base,
        HOST_MEMORY.size,
        CARVE_OUT.base,
        CARVE_OUT.size,
        DEVICES.base,
        DEVICES.size,
        // No firmware-shared memory; one host core.
        0,
        0,
        1,
    ];
    if start {
        let reply =
            proxy.hypervisor_call(0, &SmcccRegisters::from_slice(&board_start), &mut services);
        assert_eq!(reply.x[0], control::SUCCESS);
        for _ in 0..3 {
            proxy.hypervisor_call(
                0,
                &SmcccRegisters::with_function(control::FINALISATION_STEP),
                &mut services,
            );
        }
        assert!(proxy.proxy().is_finalised());
        // The host negotiates and maps its pair, as the FF-A root does.
        let version = [u64::from(FFA_VERSION), 0x0001_0002];
        proxy.trapped_smc(0, &SmcccRegisters::from_slice(&version), &mut services);
        let map = [u64::from(FFA_RXTX_MAP_64), HOST_TX, HOST_RX, 1];
        let reply = proxy.trapped_smc(0, &SmcccRegisters::from_slice(&map), &mut services);
        assert_eq!(reply.x[0], u64::from(FFA_SUCCESS_32));
    }
    let interesting = [
        0,
        u64::MAX,
        1,
        0x10,
        0x70,
        0x80,
        0x1000,
        HOST_TX,
        HOST_RX,
        SHARED_BASE,
        EL2_STACK.base,
        CARVE_OUT.base,
        HOST_MEMORY.base,
        HOST_MEMORY.size,
        0x0001_0002,
        0xFFFF_FFFF_FFFF_F000,
    ];
    for round in 0..rounds {
        let mut x = [0u64; 18];
        for register in x.iter_mut().skip(1) {
            *register = if random.below(2) == 0 {
                random.pick(&interesting)
            } else {
                random.next()
            };
        }
        match random.below(20) {
            // The control HVCs: any of them, any registers, now and then
            // another immediate or the board's own START again.
            0..=1 => {
                x[0] = match random.below(6) {
                    0 => u64::from(control::QUERY),
                    1 => u64::from(control::START_FINALISATION),
                    2 => u64::from(control::FINALISATION_STEP),
                    3 => u64::from(control::STATUS),
                    4 => 0xC600_0000 | random.below(0x10),
                    _ => random.next(),
                };
                if random.below(4) == 0 {
                    x[..board_start.len()].copy_from_slice(&board_start);
                }
                let immediate = if random.below(8) == 0 {
                    random.next() as u16
                } else {
                    0
                };
                proxy.hypervisor_call(immediate, &SmcccRegisters { x }, &mut services);
            }
            // The host touches memory its stage 2 refuses (or not).
            2..=4 => {
                let ipa = match random.below(4) {
                    0 => random.next(),
                    1 => EL2_STACK.base + random.below(EL2_STACK.size),
                    2 => CARVE_OUT.base + random.below(CARVE_OUT.size),
                    _ => SHARED_BASE + random.below(16) * 4096,
                };
                let write = random.below(2) == 0;
                let fault = Stage2Fault {
                    ipa,
                    syndrome: random.next(),
                    host_address: random.next(),
                    write,
                    fetch: !write && random.below(2) == 0,
                };
                proxy.host_stage2_fault(&fault);
                seen.faults += 1;
            }
            // A trapped SMC: the pair mapped, a well-formed transaction,
            // its reclaim, or anything at all.
            _ => {
                let function = match random.below(8) {
                    0 => {
                        x[1..4].copy_from_slice(&[HOST_TX, HOST_RX, 1]);
                        FFA_RXTX_MAP_64
                    }
                    1 => {
                        x[1] = 0;
                        FFA_RXTX_UNMAP
                    }
                    2 if proxy.proxy().sharing().in_flight().is_some() && rest.is_some() => {
                        // The rest of the fragmented transaction in flight.
                        let bytes = rest.take().unwrap_or_default();
                        let handle = proxy.proxy().sharing().in_flight().unwrap_or(0);
                        monitor.memory().write(HOST_TX, &bytes);
                        x[1..5].copy_from_slice(&[
                            handle & 0xFFFF_FFFF,
                            handle >> 32,
                            bytes.len() as u64,
                            0,
                        ]);
                        FFA_MEM_FRAG_TX
                    }
                    2 => {
                        let lend = random.below(2) == 0;
                        let pages = 1 + random.below(3);
                        let bytes = descriptor(lend, random.below(12), pages);
                        monitor.memory().write(HOST_TX, &bytes);
                        x[1] = bytes.len() as u64;
                        x[2] = if pages > 1 && random.below(4) == 0 {
                            rest = Some(bytes[112..].to_vec());
                            112
                        } else {
                            bytes.len() as u64
                        };
                        x[3..8].fill(0);
                        if lend {
                            FFA_MEM_LEND_64
                        } else {
                            FFA_MEM_SHARE_64
                        }
                    }
                    3 => {
                        let handles: Vec<u64> = proxy.proxy().sharing().handles().collect();
                        if let Some(handle) = handles.first() {
                            x[1] = handle & 0xFFFF_FFFF;
                            x[2] = handle >> 32;
                            x[3] = 0;
                        }
                        FFA_MEM_RECLAIM
                    }
                    4 => {
                        let mut bytes = [0u8; 64];
                        bytes
                            .iter_mut()
                            .for_each(|byte| *byte = random.next() as u8);
                        monitor.memory().write(HOST_TX, &bytes);
                        random.pick(&[FFA_MEM_SHARE_64, FFA_MEM_LEND_64, FFA_MEM_FRAG_TX])
                    }
                    5 => {
                        x[1] = 0x0001_0000 | random.below(4);
                        FFA_VERSION
                    }
                    6 => (0x8400_0060 + random.below(0x90)) as u32 | (random.below(2) as u32) << 30,
                    _ => random.next() as u32,
                };
                x[0] = u64::from(function);
                let immediate = if random.below(16) == 0 {
                    random.next() as u16
                } else {
                    0
                };
                let reply = proxy.trapped_smc(immediate, &SmcccRegisters { x }, &mut services);
                if immediate == 0 && reply.x[0] == u64::from(FFA_SUCCESS_32) {
                    match function {
                        FFA_MEM_SHARE_64 | FFA_MEM_LEND_64 | FFA_MEM_FRAG_TX => {
                            seen.shares_given += 1
                        }
                        FFA_MEM_RECLAIM => seen.reclaims += 1,
                        _ => {}
                    }
                }
            }
        }
        check(proxy, &stage2.borrow(), round);
    }
    seen.finalised = proxy.proxy().is_finalised();
    seen
}

/// After any call: once the host's stage 2 is built, EL2's stack and the
/// carve-out are unmapped from it, and no page of them is the host's to
/// give; a lent page is unmapped, a page the host owns or shares is mapped.
fn check(proxy: &El2Proxy, stage2: &SimulatedStage2, round: u32) {
    if stage2.map.is_none() {
        return;
    }
    for range in [EL2_STACK, CARVE_OUT] {
        for page in (range.base..range.base + range.size).step_by(4096) {
            assert_eq!(
                stage2.access(page),
                HostAccess::None,
                "round {round}: EL2's page {page:#x} reachable by the host"
            );
        }
    }
    let Some(table) = proxy.proxy().sharing().ownership() else {
        return;
    };
    for page in (HOST_TX..SHARED_BASE + 16 * 4096).step_by(4096) {
        let state = table.state(page).unwrap();
        let access = stage2.access(page);
        match state {
            PageState::LentToSecure | PageState::El2Private => {
                assert_eq!(
                    access,
                    HostAccess::None,
                    "round {round}: {page:#x} {state:?}"
                )
            }
            PageState::Owned | PageState::SharedWithEl2 | PageState::SharedWithSecure => {
                assert_eq!(
                    access,
                    HostAccess::ReadWrite,
                    "round {round}: {page:#x} {state:?}"
                )
            }
            PageState::El2Code => {}
            PageState::FirmwareShared => {
                assert_eq!(access, HostAccess::ReadWrite, "round {round}: {page:#x}")
            }
        }
    }
    for page in (EL2_STACK.base..EL2_STACK.end().unwrap()).step_by(4096) {
        assert_eq!(
            table.state(page),
            Ok(PageState::El2Private),
            "round {round}"
        );
    }
}

/// 4 epochs of 5 000 calls: one from a proxy nobody has started, three from
/// the board's finalisation. No panic; EL2's memory is never the host's.
#[test]
fn fuzzing_the_el2_entry_never_panics_nor_exposes_el2() {
    let mut total = Seen::default();
    for (index, seed) in [
        0x9E37_79B9_7F4A_7C15u64,
        0x1234_5678,
        0xDEAD_BEEF,
        0x0BAD_CAFE,
    ]
    .into_iter()
    .enumerate()
    {
        let seen = epoch(seed, 5_000, index != 0);
        println!("el2 entry fuzzer, epoch {index}: 5000 calls, {seen:?}");
        assert!(index == 0 || seen.finalised);
        total.finalised |= seen.finalised;
        total.shares_given += seen.shares_given;
        total.reclaims += seen.reclaims;
        total.faults += seen.faults;
    }
    println!("el2 entry fuzzer: 20000 calls in all, no panic; {total:?}");
    // The fuzzer reached the memory paths, both ways.
    assert!(
        total.shares_given > 50 && total.reclaims > 10 && total.faults > 1000,
        "{total:?}"
    );
}
