//! Memory management: sends in every layout and in fragments, retrieve and
//! relinquish by partitions, reclaim, ownership and overlap checks, the SPMC
//! personalities and the injected faults. Descriptors are written by hand
//! here (the vectors of `/work/notes/memory-management.md` §8), so the model
//! is checked independently of the client's builder.

mod common;

use common::*;
use ffa_abi::memory_check::{pattern, Flags, MemoryCheck, Outcome, Report};
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::{FaultConfig, MemoryFault, MemoryPhase, MemoryTransactionType, Personality};
use proptest::prelude::*;

/// Where test regions live (inside the test memory, clear of RX/TX).
const REGION: u64 = MEMORY_BASE + 0x8_0000;
const ECHO: u16 = 0x8001;
const OTHER: u16 = 0x8002;

/// A hand-written transaction descriptor.
#[derive(Clone)]
struct Desc {
    layout: Version,
    sender: u16,
    attributes: u16,
    flags: u32,
    tag: u64,
    receivers: Vec<(u16, u8, [u8; 16])>,
    ranges: Vec<(u64, u32)>,
}

impl Desc {
    fn share(layout: Version, ranges: &[(u64, u32)]) -> Desc {
        Desc {
            layout,
            sender: 0,
            attributes: 0x2F,
            flags: 0,
            tag: 0,
            receivers: vec![(ECHO, 0x02, [0; 16])],
            ranges: ranges.to_vec(),
        }
    }

    fn lend(layout: Version, ranges: &[(u64, u32)]) -> Desc {
        Desc {
            attributes: 0,
            ..Desc::share(layout, ranges)
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let v1_0 = self.layout == Version::V1_0;
        let header = if v1_0 { 32 } else { 48 };
        let access = if self.layout >= Version::V1_2 { 32 } else { 16 };
        let composite = header + access * self.receivers.len();
        let mut bytes = vec![0u8; composite + 16 + 16 * self.ranges.len()];
        bytes[0..2].copy_from_slice(&self.sender.to_le_bytes());
        if v1_0 {
            bytes[2] = self.attributes as u8;
        } else {
            bytes[2..4].copy_from_slice(&self.attributes.to_le_bytes());
            bytes[24..28].copy_from_slice(&(access as u32).to_le_bytes());
            bytes[32..36].copy_from_slice(&(header as u32).to_le_bytes());
        }
        bytes[4..8].copy_from_slice(&self.flags.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.tag.to_le_bytes());
        bytes[28..32].copy_from_slice(&(self.receivers.len() as u32).to_le_bytes());
        for (index, (id, permissions, impdef)) in self.receivers.iter().enumerate() {
            let at = header + index * access;
            bytes[at..at + 2].copy_from_slice(&id.to_le_bytes());
            bytes[at + 2] = *permissions;
            bytes[at + 4..at + 8].copy_from_slice(&(composite as u32).to_le_bytes());
            if access == 32 {
                bytes[at + 8..at + 24].copy_from_slice(impdef);
            }
        }
        let pages: u32 = self.ranges.iter().map(|(_, pages)| pages).sum();
        bytes[composite..composite + 4].copy_from_slice(&pages.to_le_bytes());
        bytes[composite + 4..composite + 8]
            .copy_from_slice(&(self.ranges.len() as u32).to_le_bytes());
        for (index, (address, pages)) in self.ranges.iter().enumerate() {
            let at = composite + 16 + index * 16;
            bytes[at..at + 8].copy_from_slice(&address.to_le_bytes());
            bytes[at + 8..at + 12].copy_from_slice(&pages.to_le_bytes());
        }
        bytes
    }
}

/// A harness that negotiated `version` and mapped one page of RX/TX.
fn world(config: FaultConfig, version: Version) -> Harness {
    let mut harness = Harness::negotiated(config, version);
    harness.map(1);
    harness
}

fn write_tx(harness: &mut Harness, bytes: &[u8]) {
    let start = (TRANSMIT_ADDRESS - MEMORY_BASE) as usize;
    harness.memory.bytes[start..start + bytes.len()].copy_from_slice(bytes);
}

/// Sends `bytes` whole with `function`.
fn send(harness: &mut Harness, function: u32, bytes: &[u8]) -> ffa_model::Registers {
    write_tx(harness, bytes);
    harness.call(&[function as u64, bytes.len() as u64, bytes.len() as u64])
}

fn handle_of(result: &ffa_model::Registers) -> u64 {
    expect_success(result);
    result[2] | result[3] << 32
}

fn reclaim(harness: &mut Harness, handle: u64) -> ffa_model::Registers {
    harness.call(&[
        FFA_MEM_RECLAIM as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        0,
    ])
}

/// Asks the echo partition to check `seed` and write `reply` over `handle`'s region.
fn memory_check(
    harness: &mut Harness,
    handle: u64,
    flags: u16,
    seed: u64,
    reply: u64,
    tag: u64,
) -> Report {
    let check = MemoryCheck {
        handle,
        check_seed: seed,
        reply_seed: reply,
        tag,
        flags: Flags(flags),
    };
    let payload = check.encode();
    let mut values = vec![FFA_MSG_SEND_DIRECT_REQ_64 as u64, u64::from(ECHO), 0];
    values.extend_from_slice(&payload);
    let result = harness.call(&values);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64, "{result:x?}");
    assert_eq!(result[1], u64::from(ECHO) << 16);
    Report::decode(&[result[3], result[4], result[5], result[6], result[7]]).expect("a report")
}

fn fill_pattern(harness: &mut Harness, ranges: &[(u64, u32)], seed: u64) {
    let mut offset = 0u64;
    for (address, pages) in ranges {
        let size = *pages as usize * 4096;
        let start = (address - MEMORY_BASE) as usize;
        pattern::fill(seed, offset, &mut harness.memory.bytes[start..start + size]);
        offset += size as u64;
    }
}

fn holds_pattern(harness: &Harness, ranges: &[(u64, u32)], seed: u64) -> bool {
    let mut offset = 0u64;
    ranges.iter().all(|(address, pages)| {
        let size = *pages as usize * 4096;
        let bytes = harness.read(*address, size);
        let ok = pattern::first_mismatch(seed, offset, &bytes).is_none();
        offset += size as u64;
        ok
    })
}

#[test]
fn the_v1_1_vector_of_the_notes_is_accepted_and_round_trips() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    let ranges = [(REGION + 0x1000, 1)];
    let descriptor = Desc::share(Version::V1_1, &ranges).bytes();
    assert_eq!(descriptor.len(), 0x60);
    fill_pattern(&mut harness, &ranges, 7);
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &descriptor));
    let report = memory_check(
        &mut harness,
        handle,
        Flags::WRITE_REPLY | Flags::EXPECT_SHARE,
        7,
        8,
        0,
    );
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    assert_eq!(report.bytes_checked, 4096);
    assert!(holds_pattern(&harness, &ranges, 8));
    expect_success(&reclaim(&mut harness, handle));
    expect_error(&reclaim(&mut harness, handle), Status::InvalidParameters);
}

#[test]
fn every_operation_in_every_layout_round_trips() {
    for spmc in [(1, 0), (1, 1), (1, 2)] {
        for caller in [Version::V1_0, Version::V1_1, Version::V1_2] {
            let config = FaultConfig {
                spmc_version: spmc,
                ..FaultConfig::default_config()
            };
            let mut harness = world(config, caller);
            let layout = caller.min(Version::new(spmc.0, spmc.1));
            for (index, (function, flags)) in [
                (FFA_MEM_SHARE_32, Flags::EXPECT_SHARE),
                (FFA_MEM_LEND_64, Flags::EXPECT_LEND),
                (FFA_MEM_DONATE_32, Flags::EXPECT_DONATE),
            ]
            .into_iter()
            .enumerate()
            {
                let ranges = [
                    (REGION + index as u64 * 0x4000, 2),
                    (REGION + 0x30000 + index as u64 * 0x2000, 1),
                ];
                let mut descriptor = match function {
                    FFA_MEM_SHARE_32 => Desc::share(layout, &ranges),
                    _ => Desc::lend(layout, &ranges),
                };
                descriptor.tag = 0x1234 + index as u64;
                if function == FFA_MEM_DONATE_32 {
                    descriptor.receivers[0].1 = 0;
                }
                fill_pattern(&mut harness, &ranges, 100 + index as u64);
                let handle = handle_of(&send(&mut harness, function, &descriptor.bytes()));
                let report = memory_check(
                    &mut harness,
                    handle,
                    flags | Flags::WRITE_REPLY,
                    100 + index as u64,
                    200 + index as u64,
                    descriptor.tag,
                );
                assert_eq!(
                    report.outcome,
                    Outcome::Passed,
                    "spmc {spmc:?} caller {caller:?} {function:#x}: {report:?}"
                );
                assert_eq!(report.bytes_checked, 3 * 4096);
                assert_eq!(report.constituents, 2);
                assert!(holds_pattern(&harness, &ranges, 200 + index as u64));
                if function == FFA_MEM_DONATE_32 {
                    // The partition owns it now: no reclaim, and the sender cannot give it again.
                    expect_error(&reclaim(&mut harness, handle), Status::InvalidParameters);
                    let again = send(
                        &mut harness,
                        FFA_MEM_SHARE_32,
                        &Desc::share(layout, &ranges[..1]).bytes(),
                    );
                    expect_error(&again, Status::Denied);
                } else {
                    expect_success(&reclaim(&mut harness, handle));
                }
            }
        }
    }
}

#[test]
fn a_reset_world_is_a_fresh_one_whatever_it_went_through() {
    // Half a fragmented share (a live transaction, the descriptor being
    // assembled), a partition's request answered, the TPM made absent.
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    let descriptor =
        Desc::share(Version::V1_1, &[(REGION + 0x1000, 2), (REGION + 0x8000, 1)]).bytes();
    write_tx(&mut harness, &descriptor[..0x60]);
    let answer = harness.call(&[FFA_MEM_SHARE_32 as u64, 0x70, 0x60]);
    assert_eq!(answer[0], FFA_MEM_FRAG_RX as u64);
    harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, u64::from(ECHO), 0, 1, 2]);
    harness
        .world
        .configure_tpm(ffa_model::tpm::config::TpmConfig {
            absent: true,
            ..ffa_model::tpm::config::TpmConfig::healthy()
        });
    assert_ne!(
        harness.world,
        ffa_model::SecureWorld::new(FaultConfig::default_config())
    );
    let configs = [
        FaultConfig {
            memory_fault: MemoryFault::NoMemory,
            memory_fault_after: 2,
            ..FaultConfig::as_personality(Personality::OpTee)
        },
        FaultConfig::default_config(),
    ];
    for config in configs {
        harness.world.reset(config);
        assert_eq!(harness.world, ffa_model::SecureWorld::new(config));
    }
}

#[test]
fn fragments_are_reassembled_and_the_offset_reported() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    // The 8.4 vector: two constituents, sent as 0x60 + 0x10 bytes.
    let ranges = [(REGION + 0x1000, 2), (REGION + 0x8000, 1)];
    let descriptor = Desc::share(Version::V1_1, &ranges).bytes();
    assert_eq!(descriptor.len(), 0x70);
    write_tx(&mut harness, &descriptor[..0x60]);
    let answer = harness.call(&[FFA_MEM_SHARE_32 as u64, 0x70, 0x60]);
    assert_eq!(answer[0], FFA_MEM_FRAG_RX as u64);
    let handle = answer[1] | answer[2] << 32;
    assert_eq!(answer[3], 0x60);
    assert_eq!(answer[4], 0, "the specification's model answers w4 = 0");
    expect_error(&reclaim(&mut harness, handle), Status::InvalidParameters);
    // A wrong handle, then the real fragment.
    write_tx(&mut harness, &descriptor[0x60..]);
    let wrong = harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        (handle + 1) & 0xFFFF_FFFF,
        (handle + 1) >> 32,
        0x10,
    ]);
    expect_error(&wrong, Status::InvalidParameters);
    let done = harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        0x10,
    ]);
    assert_eq!(handle_of(&done), handle);
    let info = harness.world.memory_transactions().next().unwrap();
    assert_eq!(
        (
            info.phase,
            info.fragments,
            info.constituents,
            info.total_pages
        ),
        (MemoryPhase::Complete, 2, 2, 3)
    );
    // Too much in a fragment drops the transaction.
    let mut harness = self::world(FaultConfig::default_config(), Version::V1_1);
    write_tx(&mut harness, &descriptor[..0x60]);
    let answer = harness.call(&[FFA_MEM_SHARE_32 as u64, 0x70, 0x60]);
    let handle = answer[1] | answer[2] << 32;
    let too_much = harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        0x20,
    ]);
    expect_error(&too_much, Status::InvalidParameters);
    assert_eq!(harness.world.memory_transactions().count(), 0);
}

#[test]
fn a_large_descriptor_retrieves_in_fragments_too() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_2);
    harness.memory.bytes.resize(4 << 20, 0xEE);
    let ranges: Vec<(u64, u32)> = (0..260).map(|index| (REGION + index * 0x2000, 1)).collect();
    let descriptor = Desc::share(Version::V1_2, &ranges).bytes();
    assert!(descriptor.len() > 4096);
    fill_pattern(&mut harness, &ranges, 3);
    write_tx(&mut harness, &descriptor[..4096]);
    let answer = harness.call(&[FFA_MEM_SHARE_64 as u64, descriptor.len() as u64, 4096]);
    assert_eq!(answer[0], FFA_MEM_FRAG_RX as u64);
    let handle = answer[1] | answer[2] << 32;
    let rest = descriptor.len() - 4096;
    write_tx(&mut harness, &descriptor[4096..]);
    let done = harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        rest as u64,
    ]);
    assert_eq!(handle_of(&done), handle);
    let report = memory_check(
        &mut harness,
        handle,
        Flags::EXPECT_SHARE | Flags::WRITE_REPLY,
        3,
        4,
        0,
    );
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    assert_eq!((report.constituents, report.fragments), (260, 2));
    assert!(holds_pattern(&harness, &ranges, 4));
    expect_success(&reclaim(&mut harness, handle));
}

#[test]
fn reclaim_is_denied_while_a_borrower_holds_the_region() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_2);
    let ranges = [(REGION, 1)];
    let mut descriptor = Desc::lend(Version::V1_2, &ranges);
    descriptor.tag = 9;
    let handle = handle_of(&send(&mut harness, FFA_MEM_LEND_64, &descriptor.bytes()));
    let Harness { world, memory, .. } = &mut harness;
    assert_eq!(
        world.partition_retrieve(memory, ECHO, handle, 0, 8, 0x06),
        Err(Status::InvalidParameters),
        "wrong tag"
    );
    assert_eq!(
        world.partition_retrieve(memory, OTHER, handle, 0, 9, 0x06),
        Err(Status::InvalidParameters),
        "not a receiver"
    );
    assert_eq!(
        world
            .partition_retrieve(memory, ECHO, handle, 0, 9, 0x06)
            .map(|(_, fragments)| fragments),
        Ok(1)
    );
    expect_error(&reclaim(&mut harness, handle), Status::Denied);
    let Harness { world, memory, .. } = &mut harness;
    assert_eq!(world.partition_relinquish(memory, ECHO, handle), Ok(()));
    assert_eq!(
        world.partition_relinquish(memory, ECHO, handle),
        Err(Status::InvalidParameters)
    );
    expect_success(&reclaim(&mut harness, handle));
}

#[test]
fn a_read_only_grant_is_not_widened() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    let mut descriptor = Desc::share(Version::V1_1, &[(REGION, 1)]);
    descriptor.receivers[0].1 = 0x01;
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &descriptor.bytes()));
    let Harness { world, memory, .. } = &mut harness;
    assert_eq!(
        world.partition_retrieve(memory, ECHO, handle, 0, 0, 0x02),
        Err(Status::Denied)
    );
    let report = memory_check(
        &mut harness,
        handle,
        Flags::EXPECT_SHARE | Flags::WRITE_REPLY,
        1,
        2,
        0,
    );
    assert_eq!(report.outcome, Outcome::RetrieveFailed);
    assert_eq!(report.status, Status::Denied.code() as i16);
}

#[test]
fn ownership_and_overlaps_are_checked() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    let share = |ranges: &[(u64, u32)]| Desc::share(Version::V1_1, ranges).bytes();
    // Ranges overlapping each other.
    expect_error(
        &send(
            &mut harness,
            FFA_MEM_SHARE_64,
            &share(&[(REGION, 2), (REGION + 0x1000, 1)]),
        ),
        Status::InvalidParameters,
    );
    // Memory that is not there, and the caller's own TX buffer.
    expect_error(
        &send(&mut harness, FFA_MEM_SHARE_64, &share(&[(0x1000_0000, 1)])),
        Status::Denied,
    );
    expect_error(
        &send(
            &mut harness,
            FFA_MEM_SHARE_64,
            &share(&[(TRANSMIT_ADDRESS, 1)]),
        ),
        Status::Denied,
    );
    // A page already shared cannot be shared again until reclaimed.
    let handle = handle_of(&send(
        &mut harness,
        FFA_MEM_SHARE_64,
        &share(&[(REGION, 2)]),
    ));
    expect_error(
        &send(
            &mut harness,
            FFA_MEM_SHARE_64,
            &share(&[(REGION + 0x1000, 1)]),
        ),
        Status::Denied,
    );
    expect_success(&reclaim(&mut harness, handle));
    let again = handle_of(&send(
        &mut harness,
        FFA_MEM_SHARE_64,
        &share(&[(REGION + 0x1000, 1)]),
    ));
    assert_ne!(again, handle);
}

#[test]
fn the_notes_negative_vectors() {
    let base = Desc::share(Version::V1_1, &[(REGION + 0x1000, 1)]);
    type Mutation = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Desc, Mutation, Status)> = vec![
        (
            "sender 1",
            Desc {
                sender: 1,
                ..base.clone()
            },
            Box::new(|_| {}),
            Status::Denied,
        ),
        (
            "zero flag on share",
            Desc {
                flags: 1,
                ..base.clone()
            },
            Box::new(|_| {}),
            Status::InvalidParameters,
        ),
        (
            "RW + NX",
            base.clone(),
            Box::new(|bytes| bytes[0x32] = 0x06),
            Status::InvalidParameters,
        ),
        (
            "NS bit",
            Desc {
                attributes: 0x6F,
                ..base.clone()
            },
            Box::new(|_| {}),
            Status::InvalidParameters,
        ),
        (
            "array at 0x40",
            base.clone(),
            Box::new(|bytes| bytes[0x20] = 0x44),
            Status::InvalidParameters,
        ),
        (
            "total pages 2",
            base.clone(),
            Box::new(|bytes| bytes[0x40] = 2),
            Status::InvalidParameters,
        ),
        (
            "handle set",
            base.clone(),
            Box::new(|bytes| bytes[8] = 1),
            Status::InvalidParameters,
        ),
        (
            "unknown receiver",
            base.clone(),
            Box::new(|bytes| bytes[0x31] = 0x90),
            Status::InvalidParameters,
        ),
        (
            "empty constituent",
            base.clone(),
            Box::new(|bytes| bytes[0x58] = 0),
            Status::InvalidParameters,
        ),
        (
            "misaligned",
            base.clone(),
            Box::new(|bytes| bytes[0x50] = 0x10),
            Status::InvalidParameters,
        ),
        (
            "no memory type",
            Desc {
                attributes: 0,
                ..base.clone()
            },
            Box::new(|_| {}),
            Status::InvalidParameters,
        ),
    ];
    for (name, descriptor, mutate, expected) in cases {
        let mut harness = world(FaultConfig::default_config(), Version::V1_1);
        let mut bytes = descriptor.bytes();
        mutate(&mut bytes);
        expect_error(&send(&mut harness, FFA_MEM_SHARE_64, &bytes), expected);
        assert_eq!(harness.world.memory_transactions().count(), 0, "{name}");
    }
    // Dynamically allocated buffers are not taken.
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    write_tx(&mut harness, &base.bytes());
    let answer = harness.call(&[FFA_MEM_SHARE_64 as u64, 0x60, 0x60, REGION, 1]);
    expect_error(&answer, Status::InvalidParameters);
    // Two receivers, and a duplicate.
    let mut two = base.clone();
    two.receivers.push((OTHER, 0x01, [0; 16]));
    expect_success(&send(&mut harness, FFA_MEM_SHARE_64, &two.bytes()));
    let mut duplicate = Desc::share(Version::V1_1, &[(REGION + 0x9000, 1)]);
    duplicate.receivers.push((ECHO, 0x01, [0; 16]));
    expect_error(
        &send(&mut harness, FFA_MEM_SHARE_64, &duplicate.bytes()),
        Status::InvalidParameters,
    );
}

#[test]
fn v1_2_impdef_values_must_be_repeated() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_2);
    let mut descriptor = Desc::share(Version::V1_2, &[(REGION, 1)]);
    descriptor.receivers[0].2 = [0x5A; 16];
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &descriptor.bytes()));
    // The model partition's request carries no impdef value: refused.
    let Harness { world, memory, .. } = &mut harness;
    assert_eq!(
        world.partition_retrieve(memory, ECHO, handle, 0, 0, 0x02),
        Err(Status::InvalidParameters)
    );
    // A v1.1 caller cannot send 32-byte access descriptors.
    let mut harness = self::world(FaultConfig::default_config(), Version::V1_1);
    let mut bytes = Desc::share(Version::V1_1, &[(REGION, 1)]).bytes();
    bytes[24] = 32;
    expect_error(
        &send(&mut harness, FFA_MEM_SHARE_64, &bytes),
        Status::InvalidParameters,
    );
}

#[test]
fn personalities_answer_as_their_spmcs() {
    let with = FaultConfig::as_personality;
    let outer = Desc {
        attributes: 0x2E,
        ..Desc::share(Version::V1_1, &[(REGION, 1)])
    };
    for (rules, expected) in [
        (Personality::Hafnium, Some(Status::Denied)),
        (Personality::OpTee, Some(Status::InvalidParameters)),
        (Personality::TfAEl3Spmc, None),
        (Personality::Specification, None),
    ] {
        let mut harness = world(with(rules), Version::V1_1);
        let result = send(&mut harness, FFA_MEM_SHARE_64, &outer.bytes());
        match expected {
            Some(status) => expect_error(&result, status),
            None => expect_success(&result),
        }
    }
    // TF-A: v1.2 callers may not send, donate is not offered, handles count from 0xffff_ffc0.
    let mut harness = world(with(Personality::TfAEl3Spmc), Version::V1_2);
    let refused = send(
        &mut harness,
        FFA_MEM_SHARE_64,
        &Desc::share(Version::V1_2, &[(REGION, 1)]).bytes(),
    );
    assert_eq!(
        (refused[0], refused[2] as u32),
        (FFA_ERROR as u64, Status::InvalidParameters.code() as u32),
        "TF-A's personality sign-extends w2"
    );
    // Hafnium takes descriptors in TX only: a buffer named by address
    // (w3/w4) is INVALID_PARAMETERS, and FFA_FEATURES says so (w2 bit 0 clear).
    let mut harness = world(with(Personality::Hafnium), Version::V1_1);
    write_tx(&mut harness, &outer.bytes());
    let by_address = harness.call(&[FFA_MEM_SHARE_64 as u64, 0x60, 0x60, REGION + 0x20000, 1]);
    expect_error(&by_address, Status::InvalidParameters);
    let features = harness.call(&[FFA_FEATURES as u64, FFA_MEM_SHARE_64 as u64]);
    assert_eq!((features[0], features[2] & 1), (FFA_SUCCESS_32 as u64, 0));
    let mut harness = harness_tf_a();
    let handle = handle_of(&send(
        &mut harness,
        FFA_MEM_SHARE_64,
        &Desc::share(Version::V1_1, &[(REGION, 1)]).bytes(),
    ));
    assert_eq!(handle, 0xFFFF_FFC0);
    let donate = send(
        &mut harness,
        FFA_MEM_DONATE_64,
        &Desc::lend(Version::V1_1, &[(REGION + 0x4000, 1)]).bytes(),
    );
    assert_eq!(
        donate[2] as u32,
        Status::NotSupported.code() as u32,
        "TF-A sign-extends w2"
    );
    let features = harness.call(&[FFA_FEATURES as u64, FFA_MEM_DONATE_64 as u64]);
    assert_eq!(
        (features[0], features[2] as u32),
        (FFA_ERROR as u64, Status::NotSupported.code() as u32)
    );
    let flagged = harness.call(&[
        FFA_MEM_RECLAIM as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        1,
    ]);
    assert_eq!(
        (flagged[0], flagged[2] as u32),
        (FFA_ERROR as u64, Status::InvalidParameters.code() as u32)
    );
    // TF-A takes any byte split, and answers w4 = sender << 16.
    let descriptor = Desc::lend(
        Version::V1_1,
        &[(REGION + 0x10000, 1), (REGION + 0x12000, 1)],
    )
    .bytes();
    write_tx(&mut harness, &descriptor[..0x55]);
    let answer = harness.call(&[FFA_MEM_LEND_64 as u64, 0x70, 0x55]);
    assert_eq!(
        (answer[0], answer[3], answer[4]),
        (FFA_MEM_FRAG_RX as u64, 0x55, 0)
    );
    let handle = answer[1] | answer[2] << 32;
    write_tx(&mut harness, &descriptor[0x55..]);
    expect_success(&harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        0x1B,
    ]));
    // OP-TEE acknowledges whole constituents only, and handles carry bit 44.
    let mut harness = world(with(Personality::OpTee), Version::V1_1);
    write_tx(&mut harness, &descriptor[..0x58]);
    let answer = harness.call(&[FFA_MEM_LEND_64 as u64, 0x70, 0x58]);
    assert_eq!(answer[3], 0x50, "the partial constituent is not taken");
    let handle = answer[1] | answer[2] << 32;
    assert_eq!(handle >> 44, 1);
    write_tx(&mut harness, &descriptor[0x50..]);
    expect_success(&harness.call(&[
        FFA_MEM_FRAG_TX as u64,
        handle & 0xFFFF_FFFF,
        handle >> 32,
        0x20,
    ]));
    // Hafnium wants whole constituents in later fragments, and w4 = sender << 16 first.
    let mut harness = world(with(Personality::Hafnium), Version::V1_1);
    write_tx(&mut harness, &descriptor[..0x60]);
    let answer = harness.call(&[FFA_MEM_LEND_64 as u64, 0x70, 0x60]);
    assert_eq!(answer[0], FFA_MEM_FRAG_RX as u64);
    assert_eq!(
        answer[2] << 32 | answer[1],
        0,
        "Hafnium's handle is the slot index"
    );
}

fn harness_tf_a() -> Harness {
    world(
        FaultConfig::as_personality(Personality::TfAEl3Spmc),
        Version::V1_1,
    )
}

#[test]
fn injected_faults_fire_once() {
    let with = |fault| FaultConfig {
        memory_fault: fault,
        ..FaultConfig::default_config()
    };
    let share = Desc::share(Version::V1_2, &[(REGION, 1)]).bytes();
    let mut harness = world(with(MemoryFault::NoMemory), Version::V1_2);
    expect_error(
        &send(&mut harness, FFA_MEM_SHARE_64, &share),
        Status::NoMemory,
    );
    expect_success(&send(&mut harness, FFA_MEM_SHARE_64, &share));

    let mut harness = world(with(MemoryFault::BadAttributes), Version::V1_2);
    expect_error(
        &send(&mut harness, FFA_MEM_SHARE_64, &share),
        Status::InvalidParameters,
    );
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &share));

    let mut harness = world(with(MemoryFault::DeniedReclaim), Version::V1_2);
    let handle_denied = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &share));
    expect_error(&reclaim(&mut harness, handle_denied), Status::Denied);
    expect_success(&reclaim(&mut harness, handle_denied));
    let _ = handle;

    let mut harness = world(with(MemoryFault::AbortedFragment), Version::V1_2);
    let descriptor = Desc::share(Version::V1_2, &[(REGION, 1), (REGION + 0x2000, 1)]).bytes();
    write_tx(&mut harness, &descriptor[..0x70]);
    let answer = harness.call(&[FFA_MEM_SHARE_64 as u64, 0x80, 0x70]);
    let handle = answer[1] | answer[2] << 32;
    write_tx(&mut harness, &descriptor[0x70..]);
    expect_error(
        &harness.call(&[
            FFA_MEM_FRAG_TX as u64,
            handle & 0xFFFF_FFFF,
            handle >> 32,
            0x10,
        ]),
        Status::Aborted,
    );
    assert_eq!(
        harness.world.memory_transactions().count(),
        0,
        "an aborted transaction is dropped"
    );
    expect_success(&send(&mut harness, FFA_MEM_SHARE_64, &descriptor));
}

#[test]
fn an_injected_fault_lets_the_calls_it_was_told_to_through_first() {
    let config = FaultConfig {
        memory_fault: MemoryFault::DeniedReclaim,
        memory_fault_after: 2,
        ..FaultConfig::default_config()
    };
    let share = Desc::share(Version::V1_2, &[(REGION, 1)]).bytes();
    let mut harness = world(config, Version::V1_2);
    for _ in 0..2 {
        let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &share));
        expect_success(&reclaim(&mut harness, handle));
    }
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &share));
    expect_error(&reclaim(&mut harness, handle), Status::Denied);
    expect_success(&reclaim(&mut harness, handle));
    // It fired once: later reclaims go through.
    let handle = handle_of(&send(&mut harness, FFA_MEM_SHARE_64, &share));
    expect_success(&reclaim(&mut harness, handle));
}

#[test]
fn features_and_calls_only_partitions_make() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_2);
    for function in [
        FFA_MEM_SHARE_64,
        FFA_MEM_LEND_32,
        FFA_MEM_DONATE_64,
        FFA_MEM_FRAG_TX,
        FFA_MEM_RECLAIM,
    ] {
        expect_success(&harness.call(&[FFA_FEATURES as u64, function as u64]));
    }
    for function in [
        FFA_MEM_RETRIEVE_REQ_64,
        FFA_MEM_RELINQUISH,
        FFA_MEM_FRAG_RX,
        FFA_MEM_OP_PAUSE,
    ] {
        expect_error(
            &harness.call(&[FFA_FEATURES as u64, function as u64]),
            Status::NotSupported,
        );
        expect_error(&harness.call(&[function as u64]), Status::NotSupported);
    }
    let info = MemoryTransactionType::Lend;
    assert_eq!(info.code(), 2);
}

#[test]
fn capacity_is_bounded() {
    let mut harness = world(FaultConfig::default_config(), Version::V1_1);
    for index in 0..16u64 {
        expect_success(&send(
            &mut harness,
            FFA_MEM_SHARE_64,
            &Desc::share(Version::V1_1, &[(REGION + index * 0x1000, 1)]).bytes(),
        ));
    }
    expect_error(
        &send(
            &mut harness,
            FFA_MEM_SHARE_64,
            &Desc::share(Version::V1_1, &[(REGION + 0x20000, 1)]).bytes(),
        ),
        Status::NoMemory,
    );
    let mut harness = self::world(FaultConfig::default_config(), Version::V1_1);
    write_tx(&mut harness, &[0; 48]);
    expect_error(
        &harness.call(&[FFA_MEM_SHARE_64 as u64, 10_000, 48]),
        Status::NoMemory,
    );
}

proptest! {
    /// Any bytes as a descriptor, in any layout, in any split: an answer, never a panic.
    #[test]
    fn arbitrary_descriptors_are_answered(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        caller in 0u16..3,
        split in 1usize..400,
        function in prop::sample::select(vec![FFA_MEM_SHARE_64, FFA_MEM_LEND_32, FFA_MEM_DONATE_64]),
        rules in prop::sample::select(vec![Personality::Specification, Personality::Hafnium, Personality::OpTee, Personality::TfAEl3Spmc]),
    ) {
        let config = FaultConfig::as_personality(rules);
        let mut harness = world(config, Version::new(1, caller));
        let total = bytes.len().max(1);
        let first = split.min(total);
        let mut padded = bytes.clone();
        padded.resize(total, 0);
        write_tx(&mut harness, &padded[..first]);
        let answer = harness.call(&[function as u64, total as u64, first as u64]);
        if answer[0] == FFA_MEM_FRAG_RX as u64 {
            let handle = answer[1] | answer[2] << 32;
            let offset = answer[3] as usize;
            prop_assert!(offset <= first);
            write_tx(&mut harness, &padded[offset..]);
            let rest = harness.call(&[FFA_MEM_FRAG_TX as u64, handle & 0xFFFF_FFFF, handle >> 32, (total - offset) as u64]);
            prop_assert!(rest[0] == FFA_SUCCESS_32 as u64 || rest[0] == FFA_ERROR as u64 || rest[0] == FFA_MEM_FRAG_RX as u64);
        }
        // Whatever was accepted can be checked by the partition without a panic.
        let handles: Vec<u64> = harness.world.memory_transactions().map(|info| info.handle).collect();
        for handle in handles {
            let _ = memory_check(&mut harness, handle, Flags::WRITE_REPLY, 1, 2, 0);
        }
    }
}
