//! Memory transactions through the proxy against an adversarial monitor:
//! the ownership invariants under random transactions (properties), and a
//! fuzzer of the proxy's host-call handling (random registers, random TX
//! contents, random monitor answers: never a panic, never a page owned
//! twice).
//!
//! The invariants, checked after every call:
//!
//! 1. Every page a monitor transaction may hold (accepted, or answered
//!    outside the protocol, and not reclaimed) is shared with or lent to
//!    the secure world in the proxy's table: never the host's alone, never
//!    EL2's RX/TX.
//! 2. No page is in two of the monitor's transactions.
//! 3. A lent page is unmapped from the host's stage 2; every other page
//!    the host owns is mapped.
//! 4. The pages EL2 holds as the host's RX/TX are exactly the mapped pair.
//! 5. EL2's pages (code, data, carve-out) are never in a transaction.
//! 6. A refused `FFA_MEM_SHARE`/`FFA_MEM_LEND` (by the proxy or the
//!    monitor) changes no page's state and no stage-2 mapping.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU8;

use capsule_ffa_proxy::descriptor::{self, Constituent};
use capsule_ffa_proxy::function::{
    FFA_ERROR, FFA_FEATURES, FFA_ID_GET, FFA_MEM_DONATE_64, FFA_MEM_FRAG_RX, FFA_MEM_FRAG_TX,
    FFA_MEM_LEND_64, FFA_MEM_RECLAIM, FFA_MEM_SHARE_32, FFA_MEM_SHARE_64, FFA_RXTX_MAP_64,
    FFA_RXTX_UNMAP, FFA_SUCCESS_32, FFA_VERSION,
};
use capsule_ffa_proxy::memory::ProxyLayout;
use capsule_ffa_proxy::ownership::{storage_bytes, PageState};
use capsule_ffa_proxy::sharing::MemoryEvent;
use capsule_ffa_proxy::{Disposition, FinalisationStatus, Handled, Proxy, Refusal, Registers};
use ffa_abi::Version;
use kernel::hil::hypervisor::{El2Memory, El2Services, HostAccess, MemoryRange};
use kernel::hil::smccc::SmcccRegisters;
use kernel::ErrorCode;
use proptest::prelude::*;

const PAGE: u64 = 4096;
const BASE: u64 = 0x4000_0000;
/// Host memory: 64 pages.
const PAGES: u64 = 64;
const HOST: MemoryRange = MemoryRange::new(BASE, PAGES * PAGE);
/// EL2's code: pages 48–51; its data: 52–55; the carve-out: 56–57.
const CODE: MemoryRange = MemoryRange::new(BASE + 48 * PAGE, 4 * PAGE);
const DATA: MemoryRange = MemoryRange::new(BASE + 52 * PAGE, 4 * PAGE);
const CARVE_OUT: MemoryRange = MemoryRange::new(BASE + 56 * PAGE, 2 * PAGE);
/// What the firmware shares with the secure world (a TPM's CRB): pages 60–61.
const FIRMWARE: MemoryRange = MemoryRange::new(BASE + 60 * PAGE, 2 * PAGE);
/// The host's RX/TX pair while mapped: pages 0 and 1.
const HOST_TX: u64 = BASE;
const HOST_RX: u64 = BASE + PAGE;

/// How the monitor answers the next memory call.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Accept,
    Refuse,
    /// Something outside the protocol (a function ID no memory call answers).
    Garbage,
    /// `FFA_MEM_FRAG_RX` with the wrong offset (or `FFA_SUCCESS` too early).
    WrongOffset,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => Just(Answer::Accept),
        2 => Just(Answer::Refuse),
        1 => Just(Answer::Garbage),
        1 => Just(Answer::WrongOffset),
    ]
}

/// The normal world's memory, EL2's stage 2 and an adversarial monitor.
struct World {
    memory: BTreeMap<u64, Vec<u8>>,
    stage2: BTreeMap<u64, HostAccess>,
    /// The monitor's complete transactions (or those it answered outside
    /// the protocol): handle -> pages a partition may (come to) access.
    /// A transaction still being received is not here: nobody can
    /// retrieve it, and only the proxy could complete it.
    held: BTreeMap<u64, BTreeSet<u64>>,
    /// A fragmented transaction being received: handle, bytes so far, total.
    receiving: Option<(u64, Vec<u8>, usize)>,
    next_handle: u64,
    answer: Answer,
}

impl World {
    fn new() -> World {
        let mut memory = BTreeMap::new();
        for page in 0..PAGES {
            memory.insert(BASE + page * PAGE, vec![0; PAGE as usize]);
        }
        World {
            memory,
            stage2: BTreeMap::new(),
            held: BTreeMap::new(),
            receiving: None,
            next_handle: 0xffff_fff0,
            answer: Answer::Accept,
        }
    }

    fn bytes(&self, address: u64, length: usize) -> Option<Vec<u8>> {
        let page = address - address % PAGE;
        let offset = (address - page) as usize;
        let bytes = self.memory.get(&page)?;
        bytes.get(offset..offset + length).map(<[u8]>::to_vec)
    }

    fn write(&mut self, address: u64, source: &[u8]) {
        let page = address - address % PAGE;
        let offset = (address - page) as usize;
        self.memory.get_mut(&page).unwrap()[offset..offset + source.len()].copy_from_slice(source);
    }

    /// The pages the constituents in `bytes` from `first` name.
    fn pages_in(bytes: &[u8], first: usize) -> BTreeSet<u64> {
        let mut pages = BTreeSet::new();
        let mut offset = first;
        while offset + 16 <= bytes.len() {
            if let Ok(constituent) = Constituent::read(&mut &bytes[..], offset as u32) {
                for page in 0..u64::from(constituent.pages).min(1024) {
                    pages.insert(constituent.address + page * PAGE);
                }
            }
            offset += 16;
        }
        pages
    }

    fn hold(&mut self, handle: u64, bytes: &[u8]) {
        let first = descriptor::parse_header(Version::V1_2, bytes.len() as u32, &mut &bytes[..])
            .map(|header| header.first_constituent as usize)
            .unwrap_or(96);
        let pages = World::pages_in(bytes, first);
        self.held.entry(handle).or_default().extend(pages);
    }

    fn reply(x: &[u64]) -> SmcccRegisters {
        SmcccRegisters::from_slice(x)
    }

    fn mailbox_tx(&self) -> u64 {
        CARVE_OUT.base
    }

    fn memory_call(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        let function = call.x[0] as u32;
        match function {
            FFA_MEM_RECLAIM => {
                let handle = (call.x[1] & 0xFFFF_FFFF) | (call.x[2] & 0xFFFF_FFFF) << 32;
                if matches!(self.answer, Answer::Accept) && self.held.remove(&handle).is_some() {
                    World::reply(&[u64::from(FFA_SUCCESS_32)])
                } else {
                    World::reply(&[u64::from(FFA_ERROR), 0, (-6i32) as u32 as u64])
                }
            }
            FFA_MEM_FRAG_TX => {
                let length = call.x[3] as usize;
                if length as u64 > PAGE && !matches!(self.answer, Answer::Garbage) {
                    // Longer than the proxy's TX: refused, and the
                    // transaction dropped (as TF-A's EL3 SPMC does).
                    self.receiving = None;
                    return World::reply(&[u64::from(FFA_ERROR), 0, (-2i32) as u32 as u64]);
                }
                let fragment = self.bytes(self.mailbox_tx(), length).unwrap_or_default();
                let Some((handle, mut bytes, total)) = self.receiving.take() else {
                    return World::reply(&[u64::from(FFA_ERROR), 0, (-2i32) as u32 as u64]);
                };
                bytes.extend_from_slice(&fragment);
                self.respond(handle, bytes, total)
            }
            _ => {
                let total = call.x[1] as usize;
                let length = call.x[2] as usize;
                let bytes = self.bytes(self.mailbox_tx(), length).unwrap_or_default();
                let handle = self.next_handle;
                self.next_handle += 1;
                self.respond(handle, bytes, total)
            }
        }
    }

    /// The answer to a fragment that brings the transaction to `bytes`.
    fn respond(&mut self, handle: u64, bytes: Vec<u8>, total: usize) -> SmcccRegisters {
        let complete = bytes.len() >= total;
        match self.answer {
            Answer::Refuse => World::reply(&[u64::from(FFA_ERROR), 0, (-2i32) as u32 as u64]),
            Answer::Garbage => {
                // It may hold whatever it was sent.
                self.hold(handle, &bytes);
                World::reply(&[0x8400_0070, handle & 0xFFFF_FFFF, handle >> 32])
            }
            Answer::WrongOffset => {
                self.hold(handle, &bytes);
                if complete {
                    World::reply(&[
                        u64::from(FFA_MEM_FRAG_RX),
                        handle & 0xFFFF_FFFF,
                        handle >> 32,
                        bytes.len() as u64,
                    ])
                } else {
                    World::reply(&[
                        u64::from(FFA_MEM_FRAG_RX),
                        handle & 0xFFFF_FFFF,
                        handle >> 32,
                        bytes.len() as u64 - 16,
                    ])
                }
            }
            Answer::Accept if complete => {
                self.hold(handle, &bytes);
                World::reply(&[
                    u64::from(FFA_SUCCESS_32),
                    0,
                    handle & 0xFFFF_FFFF,
                    handle >> 32,
                ])
            }
            Answer::Accept => {
                // Partly sent: nobody can retrieve it until it is complete.
                let offset = bytes.len() as u64;
                self.receiving = Some((handle, bytes, total));
                World::reply(&[
                    u64::from(FFA_MEM_FRAG_RX),
                    handle & 0xFFFF_FFFF,
                    handle >> 32,
                    offset,
                ])
            }
        }
    }
}

impl El2Services for World {
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        match call.x[0] as u32 {
            FFA_VERSION => World::reply(&[0x0001_0002]),
            FFA_ID_GET | FFA_FEATURES | FFA_RXTX_MAP_64 | FFA_RXTX_UNMAP => {
                World::reply(&[u64::from(FFA_SUCCESS_32)])
            }
            FFA_MEM_SHARE_64 | FFA_MEM_SHARE_32 | FFA_MEM_LEND_64 | 0x8400_0072
            | FFA_MEM_FRAG_TX | FFA_MEM_RECLAIM => self.memory_call(call),
            _ => World::reply(&[u64::from(FFA_SUCCESS_32)]),
        }
    }

    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode> {
        let bytes = self.bytes(source, length).ok_or(ErrorCode::INVAL)?;
        self.bytes(destination, length).ok_or(ErrorCode::INVAL)?;
        self.write(destination, &bytes);
        Ok(())
    }

    fn read(&mut self, source: u64, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let bytes = self
            .bytes(source, destination.len())
            .ok_or(ErrorCode::INVAL)?;
        destination.copy_from_slice(&bytes);
        Ok(())
    }

    fn trap_host_smcs(&mut self) {}

    fn el2_memory(&self) -> El2Memory {
        El2Memory::EMPTY.with(CODE).unwrap().with(DATA).unwrap()
    }

    fn set_host_access(&mut self, range: MemoryRange, access: HostAccess) -> Result<(), ErrorCode> {
        for page in (range.base..range.base + range.size).step_by(PAGE as usize) {
            self.stage2.insert(page, access);
        }
        Ok(())
    }
}

fn page_states() -> &'static [AtomicU8] {
    Box::leak(
        (0..storage_bytes(HOST.size))
            .map(|_| AtomicU8::new(0))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// A finalised proxy whose host negotiated v1.2 and mapped pages 0/1.
fn ready(world: &mut World) -> Proxy {
    let layout = ProxyLayout::with_mailbox_in(HOST, CARVE_OUT, world.el2_memory())
        .with_el2_code(CODE)
        .with_firmware_shared(FIRMWARE);
    let mut proxy = Proxy::with_page_states(page_states());
    proxy.start_finalisation(layout, 1).unwrap();
    for _ in 0..8 {
        if matches!(
            proxy.finalise_step(world),
            FinalisationStatus::Finalised { .. }
        ) {
            break;
        }
    }
    assert!(proxy.is_finalised());
    host(&mut proxy, world, &[u64::from(FFA_VERSION), 0x0001_0002]);
    let map = map_mailbox(&mut proxy, world);
    assert_eq!(map[0], u64::from(FFA_SUCCESS_32));
    proxy
}

fn host(proxy: &mut Proxy, world: &mut World, x: &[u64]) -> Registers {
    let mut call = [0u64; 18];
    call[..x.len()].copy_from_slice(x);
    proxy.handle_host_call(&call, world).reply
}

/// The host's `FFA_RXTX_MAP_64` of its pair (TX page 0, RX page 1).
fn map_mailbox(proxy: &mut Proxy, world: &mut World) -> Registers {
    host(
        proxy,
        world,
        &[u64::from(FFA_RXTX_MAP_64), HOST_TX, HOST_RX, 1],
    )
}

/// The host's `FFA_MEM_SHARE_64`/`FFA_MEM_LEND_64` of a descriptor already
/// in its TX: `total` bytes, `fragment` of them in this call.
fn send(
    proxy: &mut Proxy,
    world: &mut World,
    function: u32,
    total: u64,
    fragment: u64,
) -> Registers {
    host(proxy, world, &[u64::from(function), total, fragment])
}

/// The host's `FFA_MEM_RECLAIM` of `handle`.
fn reclaim(proxy: &mut Proxy, world: &mut World, handle: u64) -> Registers {
    host(
        proxy,
        world,
        &[
            u64::from(FFA_MEM_RECLAIM),
            handle & 0xFFFF_FFFF,
            handle >> 32,
        ],
    )
}

/// The host's `FFA_MEM_FRAG_TX` of `length` bytes (already in its TX) for `handle`.
fn frag_tx(proxy: &mut Proxy, world: &mut World, handle: u64, length: u64) -> Registers {
    host(
        proxy,
        world,
        &[
            u64::from(FFA_MEM_FRAG_TX),
            handle & 0xFFFF_FFFF,
            handle >> 32,
            length,
        ],
    )
}

/// A v1.2 descriptor to `receiver` of `ranges` (page index, pages).
fn descriptor(receiver: u16, lend: bool, ranges: &[(u64, u32)]) -> Vec<u8> {
    let mut bytes = vec![0u8; 96 + 16 * ranges.len()];
    bytes[2] = if lend { 0 } else { 0x2f };
    bytes[24] = 32;
    bytes[28] = 1;
    bytes[32] = 48;
    bytes[48..50].copy_from_slice(&receiver.to_le_bytes());
    bytes[50] = 2;
    bytes[52] = 80;
    let pages: u32 = ranges.iter().map(|range| range.1).sum();
    bytes[80..84].copy_from_slice(&pages.to_le_bytes());
    bytes[84..88].copy_from_slice(&(ranges.len() as u32).to_le_bytes());
    for (index, (page, count)) in ranges.iter().enumerate() {
        let at = 96 + 16 * index;
        bytes[at..at + 8].copy_from_slice(&(BASE + page * PAGE).to_le_bytes());
        bytes[at + 8..at + 12].copy_from_slice(&count.to_le_bytes());
    }
    bytes
}

/// Every page's state and stage-2 access.
fn snapshot(proxy: &Proxy, world: &World) -> Vec<(Option<PageState>, HostAccess)> {
    let table = proxy.sharing().ownership().unwrap();
    (0..PAGES)
        .map(|page| {
            let address = BASE + page * PAGE;
            (
                table.state(address).ok(),
                world
                    .stage2
                    .get(&address)
                    .copied()
                    .unwrap_or(HostAccess::ReadWrite),
            )
        })
        .collect()
}

/// Invariants 1–5.
fn check_invariants(proxy: &Proxy, world: &World, mapped: bool) -> Result<(), TestCaseError> {
    let table = proxy.sharing().ownership().unwrap();
    let mut seen = BTreeSet::new();
    for pages in world.held.values() {
        for page in pages {
            prop_assert!(seen.insert(*page), "page {:#x} in two transactions", page);
            let state = table.state(*page);
            prop_assert!(
                matches!(
                    state,
                    Ok(PageState::SharedWithSecure | PageState::LentToSecure)
                ),
                "page {:#x} held by the monitor is {:?}",
                page,
                state
            );
        }
    }
    for page in 0..PAGES {
        let address = BASE + page * PAGE;
        let state = table.state(address).unwrap();
        let access = world
            .stage2
            .get(&address)
            .copied()
            .unwrap_or(HostAccess::ReadWrite);
        match state {
            PageState::LentToSecure => prop_assert_eq!(access, HostAccess::None),
            PageState::Owned | PageState::SharedWithSecure | PageState::SharedWithEl2 => {
                prop_assert_eq!(access, HostAccess::ReadWrite, "page {:#x}", address)
            }
            PageState::El2Code | PageState::El2Private => {
                prop_assert!(!seen.contains(&address), "EL2's page {:#x} given", address)
            }
            PageState::FirmwareShared => {
                prop_assert_eq!(access, HostAccess::ReadWrite, "page {:#x}", address);
                prop_assert!(
                    !seen.contains(&address),
                    "the firmware's page {:#x} given",
                    address
                )
            }
        }
        let is_mailbox = mapped && (address == HOST_TX || address == HOST_RX);
        prop_assert_eq!(
            state == PageState::SharedWithEl2,
            is_mailbox,
            "page {:#x}",
            address
        );
    }
    Ok(())
}

/// One thing the host does.
#[derive(Clone, Debug)]
enum Step {
    /// Share or lend these ranges (page index 0–69, 1–3 pages) to a
    /// receiver, in one fragment or split after `split` constituents.
    Send {
        lend: bool,
        receiver: u16,
        ranges: Vec<(u64, u32)>,
        split: Option<usize>,
        answer: Answer,
    },
    /// The next fragment of the last split transaction.
    Fragment { answer: Answer },
    /// Reclaim a handle (the n-th the proxy holds, or a made-up one).
    Reclaim { which: usize, accept: bool },
    /// Unmap the RX/TX pair, or map it again.
    ToggleMailbox,
    /// Any registers at all, after writing any bytes into the host's TX.
    Raw {
        registers: Vec<u64>,
        tx: Vec<u8>,
        answer: Answer,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let ranges = proptest::collection::vec((0u64..70, 1u32..4), 1..6);
    let function = prop_oneof![
        Just(u64::from(FFA_MEM_SHARE_64)),
        Just(u64::from(FFA_MEM_LEND_64)),
        Just(u64::from(FFA_MEM_FRAG_TX)),
        Just(u64::from(FFA_MEM_RECLAIM)),
        Just(u64::from(FFA_MEM_DONATE_64)),
        Just(u64::from(FFA_RXTX_MAP_64)),
        Just(u64::from(FFA_RXTX_UNMAP)),
        Just(u64::from(FFA_FEATURES)),
        any::<u32>().prop_map(u64::from),
    ];
    prop_oneof![
        5 => (any::<bool>(), prop_oneof![Just(0x8001u16), Just(0x8002), Just(0), Just(1)], ranges,
              proptest::option::of(1usize..5), answer())
            .prop_map(|(lend, receiver, ranges, split, answer)| Step::Send { lend, receiver, ranges, split, answer }),
        2 => answer().prop_map(|answer| Step::Fragment { answer }),
        3 => (0usize..8, any::<bool>()).prop_map(|(which, accept)| Step::Reclaim { which, accept }),
        1 => Just(Step::ToggleMailbox),
        2 => (function, proptest::collection::vec(any::<u64>(), 1..8),
              proptest::collection::vec(any::<u8>(), 0..200), answer())
            .prop_map(|(function, mut registers, tx, answer)| {
                registers[0] = function;
                if registers.len() > 2 && registers[1] % 3 == 0 {
                    // Plausible lengths, some of the time.
                    registers[1] &= 0x1F0;
                    registers[2] = registers[1];
                }
                Step::Raw { registers, tx, answer }
            }),
    ]
}

/// Runs `steps`, checking the invariants after each.
fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let mut mapped = true;
    let mut pending: Option<(Vec<u8>, usize)> = None;
    for step in steps {
        match step {
            Step::Send {
                lend,
                receiver,
                ranges,
                split,
                answer,
            } => {
                world.answer = answer;
                let bytes = descriptor(receiver, lend, &ranges);
                let first = match split {
                    Some(count) if count < ranges.len() => 96 + 16 * count,
                    _ => bytes.len(),
                };
                if mapped {
                    world.write(HOST_TX, &bytes[..first]);
                }
                let before = snapshot(&proxy, &world);
                let function = if lend {
                    FFA_MEM_LEND_64
                } else {
                    FFA_MEM_SHARE_64
                };
                let mut call = [0u64; 18];
                call[0] = u64::from(function);
                call[1] = bytes.len() as u64;
                call[2] = first as u64;
                let outcome = proxy.handle_host_call(&call, &mut world);
                let refused = match outcome.disposition {
                    Disposition::Refused(Refusal::Memory(
                        capsule_ffa_proxy::sharing::MemoryRefusal::MonitorProtocol(_),
                    )) => false,
                    Disposition::Refused(_) => true,
                    Disposition::Handled(Handled::Memory(MemoryEvent::RolledBack { .. })) => true,
                    _ => false,
                };
                if refused {
                    // Invariant 6.
                    prop_assert_eq!(&before, &snapshot(&proxy, &world));
                }
                if first < bytes.len() && proxy.sharing().in_flight().is_some() {
                    pending = Some((bytes, first));
                }
            }
            Step::Fragment { answer } => {
                world.answer = answer;
                let Some(handle) = proxy.sharing().in_flight() else {
                    continue;
                };
                let Some((bytes, sent)) = pending.take() else {
                    continue;
                };
                let length = (bytes.len() - sent).min(32);
                if mapped {
                    world.write(HOST_TX, &bytes[sent..sent + length]);
                }
                frag_tx(&mut proxy, &mut world, handle, length as u64);
                if sent + length < bytes.len() && proxy.sharing().in_flight() == Some(handle) {
                    pending = Some((bytes, sent + length));
                }
            }
            Step::Reclaim { which, accept } => {
                world.answer = if accept {
                    Answer::Accept
                } else {
                    Answer::Refuse
                };
                let handles: Vec<u64> = proxy.sharing().handles().collect();
                let handle = handles.get(which).copied().unwrap_or(0x1234 + which as u64);
                let before = snapshot(&proxy, &world);
                let reply = reclaim(&mut proxy, &mut world, handle);
                if reply[0] != u64::from(FFA_SUCCESS_32) {
                    prop_assert_eq!(&before, &snapshot(&proxy, &world));
                }
            }
            Step::ToggleMailbox => {
                if mapped {
                    host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
                    mapped = false;
                } else {
                    let reply = map_mailbox(&mut proxy, &mut world);
                    mapped = reply[0] == u64::from(FFA_SUCCESS_32);
                }
            }
            Step::Raw {
                registers,
                tx,
                answer,
            } => {
                world.answer = answer;
                if mapped {
                    world.write(HOST_TX, &tx);
                }
                let reply = host(&mut proxy, &mut world, &registers);
                let function = registers[0] as u32;
                if function == FFA_RXTX_UNMAP && reply[0] == u64::from(FFA_SUCCESS_32) {
                    mapped = false;
                }
                if function == FFA_RXTX_MAP_64 && reply[0] == u64::from(FFA_SUCCESS_32) {
                    // A pair of the fuzzer's own: take it down again, so
                    // invariant 4 keeps naming pages 0/1.
                    host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
                    mapped = false;
                }
                pending = None;
            }
        }
        check_invariants(&proxy, &world, mapped)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random transactions, fragments, reclaims, remaps and raw calls
    /// against a monitor that accepts, refuses or answers nonsense: no
    /// panic, and no page is ever owned by two parties.
    #[test]
    fn no_page_is_ever_owned_twice(steps in proptest::collection::vec(step(), 1..40)) {
        run(steps)?;
    }
}

#[test]
fn share_reclaim_share_again_and_a_lend_that_faults_until_reclaimed() {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let share = descriptor(0x8001, false, &[(4, 2)]);
    world.write(HOST_TX, &share);
    let length = share.len() as u64;
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    let handle = reply[2] | reply[3] << 32;
    let table = proxy.sharing().ownership().unwrap();
    assert_eq!(
        table.state(BASE + 5 * PAGE),
        Ok(PageState::SharedWithSecure)
    );
    // Sharing it again is refused; reclaiming a handle never given too.
    let again = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(again[2] as u32 as i32, -6);
    let unknown = reclaim(&mut proxy, &mut world, 0x77);
    assert_eq!(unknown[2] as u32 as i32, -2);
    let reply = reclaim(&mut proxy, &mut world, handle);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    let lend = descriptor(0x8001, true, &[(10, 1)]);
    world.write(HOST_TX, &lend);
    let length = lend.len() as u64;
    let reply = send(&mut proxy, &mut world, FFA_MEM_LEND_64, length, length);
    let lent = reply[2] | reply[3] << 32;
    assert_eq!(
        world.stage2.get(&(BASE + 10 * PAGE)),
        Some(&HostAccess::None)
    );
    // The monitor refuses the first reclaim: still lent, still unmapped.
    world.answer = Answer::Refuse;
    let reply = reclaim(&mut proxy, &mut world, lent);
    assert_eq!(reply[0], u64::from(FFA_ERROR));
    assert_eq!(
        world.stage2.get(&(BASE + 10 * PAGE)),
        Some(&HostAccess::None)
    );
    world.answer = Answer::Accept;
    reclaim(&mut proxy, &mut world, lent);
    assert_eq!(
        world.stage2.get(&(BASE + 10 * PAGE)),
        Some(&HostAccess::ReadWrite)
    );
    check_invariants(&proxy, &world, true).unwrap();
}

#[test]
fn a_fragmented_share_is_checked_fragment_by_fragment() {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let ranges: Vec<(u64, u32)> = (0..6).map(|index| (4 + 2 * index, 1)).collect();
    let bytes = descriptor(0x8001, false, &ranges);
    world.write(HOST_TX, &bytes[..128]);
    let total = bytes.len() as u64;
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, total, 128);
    assert_eq!(reply[0] as u32, FFA_MEM_FRAG_RX);
    let handle = reply[1] | reply[2] << 32;
    assert_eq!(proxy.sharing().in_flight(), Some(handle));
    // A second transaction waits for this one.
    let busy = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, total, 128);
    assert_eq!(busy[2] as u32 as i32, -4);
    // The next fragment names EL2's code: refused, and the whole
    // transaction's pages are the host's again.
    let mut bad = bytes[128..160].to_vec();
    bad[..8].copy_from_slice(&CODE.base.to_le_bytes());
    world.write(HOST_TX, &bad);
    let reply = frag_tx(&mut proxy, &mut world, handle, 32);
    assert_eq!(reply[2] as u32 as i32, -6);
    assert_eq!(proxy.sharing().in_flight(), None);
    assert!(
        world.receiving.is_none(),
        "the monitor dropped the incomplete transaction"
    );
    let table = *proxy.sharing().ownership().unwrap();
    assert_eq!(table.count(PageState::SharedWithSecure), 0);
    // Done right, fragment by fragment.
    world.write(HOST_TX, &bytes[..128]);
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, total, 128);
    let handle = reply[1] | reply[2] << 32;
    world.write(HOST_TX, &bytes[128..]);
    let reply = frag_tx(&mut proxy, &mut world, handle, total - 128);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    assert_eq!(table.count(PageState::SharedWithSecure), 6);
    check_invariants(&proxy, &world, true).unwrap();
}

/// What the firmware shares with the secure world (a TPM's CRB) is the
/// host's to use, never to give: a share, a lend or an RX/TX map of it is
/// refused, and it stays mapped.
#[test]
fn the_firmware_s_shared_pages_are_never_the_host_s_to_give() {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    for (function, lend) in [(FFA_MEM_SHARE_64, false), (FFA_MEM_LEND_64, true)] {
        let bytes = descriptor(0x8001, lend, &[(59, 2)]);
        world.write(HOST_TX, &bytes);
        let length = bytes.len() as u64;
        let reply = send(&mut proxy, &mut world, function, length, length);
        assert_eq!(reply[2] as u32 as i32, -6, "{function:#x}");
    }
    let table = *proxy.sharing().ownership().unwrap();
    assert_eq!(table.state(FIRMWARE.base), Ok(PageState::FirmwareShared));
    assert_eq!(table.state(BASE + 59 * PAGE), Ok(PageState::Owned));
    assert_eq!(world.stage2.get(&FIRMWARE.base), None, "still mapped");
    host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
    let reply = host(
        &mut proxy,
        &mut world,
        &[u64::from(FFA_RXTX_MAP_64), FIRMWARE.base, HOST_RX, 1],
    );
    assert_eq!(reply[0], u64::from(FFA_ERROR), "the CRB as TX");
    let write = kernel::hil::hypervisor::Stage2Fault {
        ipa: FIRMWARE.base,
        syndrome: 0,
        host_address: 0,
        write: true,
        fetch: false,
    };
    assert_eq!(
        proxy.host_stage2_fault(&write).0,
        kernel::hil::hypervisor::FaultDecision::Retry,
        "the host may write it"
    );
}

#[test]
fn the_host_s_rx_tx_cannot_be_shared_and_shared_pages_cannot_be_its_rx_tx() {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let share = descriptor(0x8001, false, &[(0, 1)]);
    world.write(HOST_TX, &share);
    let length = share.len() as u64;
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(reply[2] as u32 as i32, -6, "the host's own TX");
    host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
    world.write(HOST_TX, &descriptor(0x8001, false, &[(8, 1)]));
    // Now the pair is unmapped, the descriptor cannot be read from it.
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(reply[2] as u32 as i32, -2);
    let reply = map_mailbox(&mut proxy, &mut world);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    let reply = send(&mut proxy, &mut world, FFA_MEM_SHARE_64, length, length);
    assert_eq!(reply[0], u64::from(FFA_SUCCESS_32));
    host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
    // A shared page as RX: refused.
    let reply = host(
        &mut proxy,
        &mut world,
        &[u64::from(FFA_RXTX_MAP_64), HOST_TX, BASE + 8 * PAGE, 1],
    );
    assert_eq!(reply[2] as u32 as i32, -2);
    assert_eq!(
        proxy.sharing().ownership().unwrap().state(HOST_TX),
        Ok(PageState::Owned),
        "the refused map gave the TX page back"
    );
}

/// A loop-based fuzzer of the proxy's host-call handling: 20 000 calls with
/// random registers (function IDs drawn from the FF-A range and anywhere),
/// random bytes in the host's TX and random monitor answers, on one proxy
/// whose host mapped its pair: no panic, and the invariants hold throughout.
#[test]
fn fuzzing_host_calls_never_panics_nor_breaks_ownership() {
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut mapped = true;
    let (mut given, mut rolled_back, mut reclaimed) = (0u32, 0u32, 0u32);
    for round in 0..20_000u32 {
        let mut registers = [0u64; 18];
        for register in registers.iter_mut() {
            *register = match random() % 4 {
                0 => random(),
                1 => random() % 0x200,
                2 => BASE + (random() % 80) * PAGE,
                _ => 0,
            };
        }
        registers[0] = match random() % 4 {
            0 => u64::from(0x8400_0060 + (random() % 0x90) as u32),
            1 => u64::from(0xC400_0060 + (random() % 0x90) as u32),
            2 => u64::from(
                [
                    FFA_MEM_SHARE_64,
                    FFA_MEM_LEND_64,
                    FFA_MEM_FRAG_TX,
                    FFA_MEM_RECLAIM,
                ][(random() % 4) as usize],
            ),
            _ => random(),
        };
        // Mostly a monitor that follows the protocol: an answer outside it
        // quarantines the pages (and the proxy's slot) for good.
        world.answer = match random() % 1000 {
            0 => Answer::Garbage,
            1 => Answer::WrongOffset,
            2..=150 => Answer::Refuse,
            _ => Answer::Accept,
        };
        if mapped {
            let mut bytes = [0u8; 256];
            for byte in bytes.iter_mut() {
                *byte = random() as u8;
            }
            // Often a well-formed call, so the checks past the first run too.
            if random() % 2 == 0 {
                let ranges: Vec<(u64, u32)> = (0..1 + random() % 3)
                    .map(|_| (random() % 70, 1 + (random() % 3) as u32))
                    .collect();
                let good = descriptor(0x8001, random() % 2 == 0, &ranges);
                bytes[..good.len()].copy_from_slice(&good);
                let function = registers[0] as u32;
                if function == FFA_MEM_SHARE_64 || function == FFA_MEM_LEND_64 {
                    registers[1] = good.len() as u64;
                    registers[2] = if random() % 3 == 0 {
                        112
                    } else {
                        good.len() as u64
                    };
                    registers[3..8].fill(0);
                }
            }
            world.write(HOST_TX, &bytes);
        }
        if registers[0] as u32 == FFA_MEM_RECLAIM && random() % 2 == 0 {
            let handles: Vec<u64> = proxy.sharing().handles().collect();
            if let Some(handle) = handles.get((random() % 4) as usize) {
                registers[1] = handle & 0xFFFF_FFFF;
                registers[2] = handle >> 32;
                registers[3] = 0;
            }
        }
        if registers[0] as u32 == FFA_MEM_FRAG_TX && random() % 2 == 0 {
            if let Some(handle) = proxy.sharing().in_flight() {
                registers[1] = handle & 0xFFFF_FFFF;
                registers[2] = handle >> 32;
                registers[3] = 16 * (1 + random() % 2);
                registers[4] = 0;
            }
        }
        let outcome = proxy.handle_host_call(&registers, &mut world);
        match outcome.disposition {
            Disposition::Handled(Handled::Memory(MemoryEvent::Sent { .. })) => given += 1,
            Disposition::Handled(Handled::Memory(MemoryEvent::RolledBack { .. })) => {
                rolled_back += 1
            }
            Disposition::Handled(Handled::Memory(MemoryEvent::Reclaimed { .. })) => reclaimed += 1,
            _ => {}
        }
        let function = registers[0] as u32;
        if outcome.reply[0] == u64::from(FFA_SUCCESS_32) {
            if function == FFA_RXTX_UNMAP {
                mapped = false;
            } else if function == FFA_RXTX_MAP_64 {
                host(&mut proxy, &mut world, &[u64::from(FFA_RXTX_UNMAP)]);
                mapped = false;
            }
        }
        if !mapped && round % 50 == 0 {
            let reply = map_mailbox(&mut proxy, &mut world);
            mapped = reply[0] == u64::from(FFA_SUCCESS_32);
        }
        check_invariants(&proxy, &world, mapped)
            .unwrap_or_else(|error| panic!("round {round}, call {registers:x?}: {error}"));
    }
    // The fuzzer got past the checks, both ways, and back.
    println!("fuzzer: {given} fragments given, {rolled_back} rolled back, {reclaimed} reclaimed");
    assert!(
        given > 100 && rolled_back > 10 && reclaimed > 0,
        "{given} {rolled_back} {reclaimed}"
    );
}

/// A stage-2 fault on a page the host may touch that way (a race with a
/// change of the table) is retried, a bounded number of times; any other is
/// injected.
#[test]
fn stage2_faults_are_retried_only_where_the_host_may_touch() {
    use kernel::hil::hypervisor::{FaultDecision, Stage2Fault};
    let mut world = World::new();
    let mut proxy = ready(&mut world);
    let fault = |ipa: u64, write: bool, fetch: bool| Stage2Fault {
        ipa,
        syndrome: 0,
        host_address: 0,
        write,
        fetch,
    };
    let decide =
        |proxy: &mut Proxy, ipa, write, fetch| proxy.host_stage2_fault(&fault(ipa, write, fetch)).0;
    // The host's own page: read or write, retried (three times in a row at most).
    let own = BASE + 20 * PAGE;
    assert_eq!(decide(&mut proxy, own, true, false), FaultDecision::Retry);
    assert_eq!(
        decide(&mut proxy, own + 8, false, false),
        FaultDecision::Retry
    );
    assert_eq!(decide(&mut proxy, own, true, false), FaultDecision::Retry);
    assert_eq!(
        decide(&mut proxy, own, true, false),
        FaultDecision::Inject,
        "the stage 2 disagrees for good"
    );
    // Never executable: the host's data.
    assert_eq!(
        decide(&mut proxy, BASE + 21 * PAGE, false, true),
        FaultDecision::Inject
    );
    // EL2's code: read and fetch are the host's, writes are not.
    assert_eq!(
        decide(&mut proxy, CODE.base, false, true),
        FaultDecision::Retry
    );
    assert_eq!(
        decide(&mut proxy, CODE.base, true, false),
        FaultDecision::Inject
    );
    // EL2's data, the carve-out, memory past host memory: never.
    for ipa in [DATA.base, CARVE_OUT.base, BASE + PAGES * PAGE] {
        assert_eq!(
            decide(&mut proxy, ipa, false, false),
            FaultDecision::Inject,
            "{ipa:#x}"
        );
    }
    // A lent page: injected until reclaimed.
    let lend = descriptor(0x8001, true, &[(30, 1)]);
    world.write(HOST_TX, &lend);
    let length = lend.len() as u64;
    let reply = send(&mut proxy, &mut world, FFA_MEM_LEND_64, length, length);
    let handle = reply[2] | reply[3] << 32;
    assert_eq!(
        decide(&mut proxy, BASE + 30 * PAGE, false, false),
        FaultDecision::Inject
    );
    reclaim(&mut proxy, &mut world, handle);
    assert_eq!(
        decide(&mut proxy, BASE + 30 * PAGE, false, false),
        FaultDecision::Retry
    );
}
