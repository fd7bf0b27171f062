//! Memory management through the model: every operation in every layout,
//! fragments, reclaim refusals, faults, what protected mode answers, the
//! SPMC rules, the bus's narrow handles, the memory-check driver and the
//! boot report's records.

mod common;

use capsule_ffa::bus::{DriverEntry, FfaBus};
use capsule_ffa::client::ClientConfig;
use capsule_ffa::drivers::echo::EchoDriver;
use capsule_ffa::drivers::memory_check::{
    CheckFailure, CheckOutcome, MemoryCheckPlan, MemoryChecks,
};
use capsule_ffa::error::ClientError;
use capsule_ffa::memory::attributes::{Receiver, TransactionError};
use capsule_ffa::memory::descriptor::Layout;
use capsule_ffa::memory::record::RecordState;
use capsule_ffa::memory::rules::{Rule, SpmcRules};
use capsule_ffa::memory::{
    DataAccess, MemoryConfig, MemoryFailure, Operation, TransferOptions, WidthChoice,
};
use capsule_ffa::messaging::DirectMessage64;
use capsule_ffa::report::BootReport;
use capsule_ffa::version::SupportedVersion;
use capsule_ffa::FfaClient;
use common::{fixture, fixture_with_buffers, ids, leak, Fixture, Memory, ScriptedConduit};
use ffa_abi::memory_check::{pattern, Flags, MemoryCheck, Outcome, Report};
use ffa_abi::{CallWidth, PartitionId, Status, Uuid};
use ffa_model::{FaultConfig, MemoryFault, MemoryPhase, Personality};
use kernel::init_queue::{ConditionSet, InitQueue, Queue as _};
use kernel::page_pool::{PagePool, Region};

const ECHO: PartitionId = PartitionId::new(0x8001);
const POOL_BASE: u64 = 0x4100_0000;

fn new_pool(memory: &Memory, pages: usize) -> &'static PagePool<'static> {
    leak(PagePool::new(leak(memory.pool_pages(POOL_BASE, pages))).unwrap())
}

fn requesting(version: SupportedVersion) -> ClientConfig {
    ClientConfig {
        requested_version: version,
        ..ClientConfig::DEFAULT
    }
}

fn fill(region: &Region<'_>, seed: u64) {
    let mut bytes = vec![0u8; region.len()];
    pattern::fill(seed, 0, &mut bytes);
    region.write(0, &bytes).unwrap();
}

fn holds(
    read: impl Fn(usize, &mut [u8]) -> Result<(), kernel::ErrorCode>,
    length: usize,
    seed: u64,
) -> bool {
    let mut bytes = vec![0u8; length];
    read(0, &mut bytes).unwrap();
    pattern::first_mismatch(seed, 0, &bytes).is_none()
}

/// Asks the model's echo partition to check `seed` and write `reply` over `handle`'s memory.
fn check(
    client: &FfaClient<'_>,
    handle: u64,
    flags: u16,
    seed: u64,
    reply: u64,
    tag: u64,
) -> Report {
    let request = MemoryCheck {
        handle,
        check_seed: seed,
        reply_seed: reply,
        tag,
        flags: Flags(flags),
    };
    let response = client
        .direct_request(ECHO, Uuid::NIL, &DirectMessage64::new(request.encode()))
        .unwrap();
    Report::decode(&response.payload).expect("a report")
}

fn rw() -> [Receiver; 1] {
    [Receiver::new(ECHO, DataAccess::ReadWrite)]
}

#[test]
fn every_operation_in_every_layout_round_trips_through_the_model() {
    for spmc in [(1, 0), (1, 1), (1, 2)] {
        for requested in [
            SupportedVersion::V1_0,
            SupportedVersion::V1_1,
            SupportedVersion::V1_2,
        ] {
            let config = FaultConfig {
                spmc_version: spmc,
                ..FaultConfig::default()
            };
            let fixture = fixture(config, requesting(requested));
            let pool = new_pool(&fixture.memory, 16);
            let session = fixture.client.initialize().unwrap();
            let layout = Layout::of(&session.version);
            let options = TransferOptions::tagged(0x77);

            let region = pool.allocate(3).unwrap();
            fill(&region, 1);
            let shared = fixture.client.share(region, &rw(), &options).unwrap();
            let report = check(
                fixture.client,
                shared.handle().0,
                Flags::WRITE_REPLY | Flags::EXPECT_SHARE,
                1,
                2,
                0x77,
            );
            assert_eq!(
                report.outcome,
                Outcome::Passed,
                "{spmc:?} {requested:?}: {report:?}"
            );
            assert_eq!(report.bytes_checked, 3 * 4096);
            assert!(
                holds(|offset, bytes| shared.read(offset, bytes), shared.len(), 2),
                "the kernel reads the reply while shared"
            );
            let region = shared.reclaim().unwrap();

            fill(&region, 3);
            let lent = fixture.client.lend(region, &rw(), &options).unwrap();
            let report = check(
                fixture.client,
                lent.handle().0,
                Flags::WRITE_REPLY | Flags::EXPECT_LEND,
                3,
                4,
                0x77,
            );
            assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
            let region = lent.reclaim().unwrap();
            assert!(holds(
                |offset, bytes| region.read(offset, bytes),
                region.len(),
                4
            ));

            fill(&region, 5);
            let donated = fixture
                .client
                .donate(
                    region,
                    Receiver::new(ECHO, DataAccess::Unspecified),
                    &options,
                )
                .unwrap();
            let report = check(
                fixture.client,
                donated.handle.0,
                Flags::WRITE_REPLY | Flags::EXPECT_DONATE,
                5,
                6,
                0x77,
            );
            assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
            assert_eq!(pool.free_pages(), 13, "donated pages never come back");
            let world = fixture.conduit.world();
            let kept: Vec<_> = world.memory_transactions().collect();
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].phase, MemoryPhase::Donated);
            drop(world);

            let mut records = Vec::new();
            fixture
                .client
                .for_each_memory_record(|record| records.push(*record));
            assert_eq!(records.len(), 3);
            assert!(records
                .iter()
                .all(|record| record.layout == layout && record.fragments == 1));
            assert_eq!(
                records
                    .iter()
                    .map(|record| record.state)
                    .collect::<Vec<_>>(),
                [
                    RecordState::Reclaimed,
                    RecordState::Reclaimed,
                    RecordState::Donated
                ]
            );
        }
    }
}

/// A region of `ranges` single pages, every other page of the pool.
fn scattered(pool: &'static PagePool<'static>, ranges: usize) -> Region<'static> {
    let mut rest = pool.allocate(ranges * 2).unwrap();
    let mut kept: Option<Region<'static>> = None;
    let mut gaps: Vec<Region<'static>> = Vec::new();
    for _ in 0..ranges {
        let (page, remainder) = rest.split(1).map_err(|_| ()).unwrap();
        kept = Some(match kept {
            Some(region) => region.join(page).map_err(|_| ()).unwrap(),
            None => page,
        });
        match remainder.split(1) {
            Ok((gap, remainder)) => {
                gaps.push(gap);
                rest = remainder;
            }
            Err(last) => {
                gaps.push(last);
                break;
            }
        }
    }
    drop(gaps);
    kept.unwrap()
}

#[test]
fn a_descriptor_larger_than_tx_goes_in_the_minimum_number_of_fragments() {
    for requested in [
        SupportedVersion::V1_0,
        SupportedVersion::V1_1,
        SupportedVersion::V1_2,
    ] {
        let fixture = fixture_with_buffers(FaultConfig::default(), requesting(requested), 4096);
        let pool = new_pool(&fixture.memory, 600);
        fixture.client.initialize().unwrap();
        let region = scattered(pool, 290);
        assert_eq!(region.range_count(), 290);
        fill(&region, 9);
        fixture.conduit.clear_calls();
        let shared = fixture
            .client
            .share(region, &rw(), &TransferOptions::DEFAULT)
            .unwrap();
        let layout_overhead = match requested {
            SupportedVersion::V1_0 => 32 + 16 + 16,
            SupportedVersion::V1_1 => 48 + 16 + 16,
            SupportedVersion::V1_2 => 48 + 32 + 16,
        };
        let total: usize = layout_overhead + 290 * 16;
        assert_eq!(shared.fragments() as usize, total.div_ceil(4096));
        assert_eq!(fixture.conduit.count(ids::FFA_MEM_FRAG_TX), 1);
        let report = check(
            fixture.client,
            shared.handle().0,
            Flags::WRITE_REPLY | Flags::EXPECT_SHARE,
            9,
            10,
            0,
        );
        assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
        assert_eq!(report.constituents, 290);
        assert_eq!(
            report.fragments, 2,
            "the partition retrieved it in fragments too"
        );
        assert!(holds(
            |offset, bytes| shared.read(offset, bytes),
            shared.len(),
            10
        ));
        let _ = shared.reclaim().unwrap();
    }
}

#[test]
fn a_denied_reclaim_keeps_the_region_lent() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    let lent = fixture
        .client
        .lend(
            pool.allocate(1).unwrap(),
            &rw(),
            &TransferOptions::tagged(5),
        )
        .unwrap();
    let handle = lent.handle().0;
    fixture
        .conduit
        .memory()
        .with(|memory| {
            fixture
                .conduit
                .world_mut()
                .partition_retrieve(memory, 0x8001, handle, 0, 5, 0x06)
        })
        .unwrap();
    let refused = lent.reclaim().unwrap_err();
    assert!(refused.still_held());
    let lent = refused.kept;
    assert_eq!(lent.handle().0, handle, "still lent, same handle");
    fixture
        .conduit
        .memory()
        .with(|memory| {
            fixture
                .conduit
                .world_mut()
                .partition_relinquish(memory, 0x8001, handle)
        })
        .unwrap();
    let region = lent.reclaim().unwrap();
    assert_eq!(region.pages(), 1);
    // The same pages can be given again once they are back.
    let shared = fixture
        .client
        .share(region, &rw(), &TransferOptions::DEFAULT)
        .unwrap();
    drop(shared);
    assert_eq!(
        pool.free_pages(),
        3,
        "dropped without a reclaim: the page stays out of the pool"
    );
    let mut states = Vec::new();
    fixture
        .client
        .for_each_memory_record(|record| states.push(record.state));
    assert_eq!(states, [RecordState::Reclaimed, RecordState::Abandoned]);
}

#[test]
fn injected_faults_give_the_region_back() {
    for (fault, fragments, expected) in [
        (MemoryFault::NoMemory, false, Status::NoMemory),
        (MemoryFault::BadAttributes, false, Status::InvalidParameters),
        (MemoryFault::AbortedFragment, true, Status::Aborted),
    ] {
        let config = FaultConfig {
            memory_fault: fault,
            ..FaultConfig::default()
        };
        let fixture = fixture_with_buffers(config, ClientConfig::DEFAULT, 4096);
        let pool = new_pool(&fixture.memory, 600);
        fixture.client.initialize().unwrap();
        let region = if fragments {
            scattered(pool, 260)
        } else {
            pool.allocate(2).unwrap()
        };
        let pages = region.pages();
        let failure = fixture
            .client
            .share(region, &rw(), &TransferOptions::DEFAULT)
            .unwrap_err();
        assert_eq!(failure.error(), ClientError::Status(expected), "{fault:?}");
        let region = failure.into_region().expect("the region comes back");
        assert_eq!(region.pages(), pages);
        let mut records = Vec::new();
        fixture
            .client
            .for_each_memory_record(|record| records.push(*record));
        assert_eq!(
            records[0].state,
            RecordState::Refused(ClientError::Status(expected))
        );
        // The fault fires once: the same region goes through now.
        let shared = fixture
            .client
            .share(region, &rw(), &TransferOptions::DEFAULT)
            .unwrap();
        let _ = shared.reclaim().unwrap();
    }
    let config = FaultConfig {
        memory_fault: MemoryFault::DeniedReclaim,
        ..FaultConfig::default()
    };
    let fixture = fixture(config, ClientConfig::DEFAULT);
    let pool = new_pool(&fixture.memory, 2);
    fixture.client.initialize().unwrap();
    let lent = fixture
        .client
        .lend(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap();
    let lent = lent.reclaim().unwrap_err().kept;
    assert!(lent.reclaim().is_ok());
}

#[test]
fn what_the_specification_forbids_is_refused_before_any_call() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let zeroing = TransferOptions {
        zero_memory: true,
        ..TransferOptions::DEFAULT
    };
    let failure = fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &zeroing)
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Transaction(TransactionError::ZeroingNotAllowed)
    );
    let region = failure.into_region().unwrap();
    let failure = fixture
        .client
        .donate(region, rw()[0], &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Transaction(TransactionError::DataAccessNotAllowed)
    );
    let region = failure.into_region().unwrap();
    let two = [rw()[0], rw()[0]];
    let failure = fixture
        .client
        .lend(region, &two, &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Transaction(TransactionError::DuplicateReceiver(ECHO))
    );
    let region = failure.into_region().unwrap();
    let impdef = [Receiver::new(ECHO, DataAccess::ReadWrite).with_impdef([1; 16])];
    assert!(
        fixture
            .client
            .share(region, &impdef, &TransferOptions::DEFAULT)
            .is_ok(),
        "v1.2 has room for it"
    );
    assert!(fixture
        .conduit
        .functions()
        .iter()
        .all(|function| *function != ids::FFA_MEM_LEND_64 && *function != ids::FFA_MEM_DONATE_64));
}

#[test]
fn tf_a_refuses_v1_2_callers_and_the_client_can_say_so_first() {
    let tf_a = FaultConfig::as_personality(Personality::TfAEl3Spmc);
    // Without the rules: the SPMC's INVALID_PARAMETERS.
    let fixture = fixture(tf_a, ClientConfig::DEFAULT);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    let failure = fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Status(Status::InvalidParameters)
    );
    // With TF-A's rules: refused before the call.
    let config = ClientConfig {
        memory: MemoryConfig {
            rules: SpmcRules::TfAEl3,
            ..MemoryConfig::DEFAULT
        },
        ..ClientConfig::DEFAULT
    };
    let fixture = fixture_with_buffers(tf_a, config, 65536);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    let failure = fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Transaction(TransactionError::SpmcRule(Rule::CallerVersion))
    );
    assert!(fixture.conduit.functions().is_empty());
    // Requesting v1.1, as a board does for this SPMC: it works, donation is not offered.
    let config = ClientConfig {
        requested_version: SupportedVersion::V1_1,
        ..config
    };
    let fixture = fixture_with_buffers(tf_a, config, 65536);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    let shared = fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap();
    assert_eq!(shared.handle().0, 0xFFFF_FFC0);
    let report = check(
        fixture.client,
        shared.handle().0,
        Flags::WRITE_REPLY | Flags::EXPECT_SHARE,
        0,
        1,
        0,
    );
    assert_eq!(
        report.outcome,
        Outcome::PatternMismatch,
        "nothing was written first"
    );
    let _ = shared.reclaim().unwrap();
    let failure = fixture
        .client
        .donate(
            pool.allocate(1).unwrap(),
            Receiver::new(ECHO, DataAccess::Unspecified),
            &TransferOptions::DEFAULT,
        )
        .unwrap_err();
    assert_eq!(
        failure.error(),
        ClientError::Transaction(TransactionError::SpmcRule(Rule::OperationNotOffered(
            Operation::Donate
        )))
    );
}

#[test]
fn the_function_width_follows_ffa_features() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    // The model offers the 64-bit form, as set-up learnt: it is used without asking again.
    fixture.conduit.clear_calls();
    fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap()
        .reclaim()
        .map(drop)
        .unwrap();
    fixture
        .client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap()
        .reclaim()
        .map(drop)
        .unwrap();
    assert_eq!(fixture.conduit.count(ids::FFA_MEM_SHARE_64), 2);
    assert_eq!(fixture.conduit.count(ids::FFA_FEATURES), 0);
    // Donation was not asked about at set-up: asked once, then known.
    for _ in 0..2 {
        let region = pool.allocate(1).unwrap();
        let donated = fixture.client.donate(
            region,
            Receiver::new(ECHO, DataAccess::Unspecified),
            &TransferOptions::DEFAULT,
        );
        assert!(donated.is_ok());
    }
    assert_eq!(fixture.conduit.count(ids::FFA_FEATURES), 1);
    assert_eq!(fixture.conduit.count(ids::FFA_MEM_DONATE_64), 2);
    // A fixed width is used as configured.
    let config = ClientConfig {
        memory: MemoryConfig {
            width: WidthChoice::Fixed(CallWidth::Bits32),
            ..MemoryConfig::DEFAULT
        },
        ..ClientConfig::DEFAULT
    };
    let fixture = fixture_with_buffers(FaultConfig::default(), config, 65536);
    let pool = new_pool(&fixture.memory, 4);
    fixture.client.initialize().unwrap();
    fixture.conduit.clear_calls();
    fixture
        .client
        .lend(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap()
        .reclaim()
        .map(drop)
        .unwrap();
    assert_eq!(fixture.conduit.functions()[0], ids::FFA_MEM_LEND_32);
}

const SUCCESS: &[u64] = &[0x8400_0061, 0, 0];
const NOT_SUPPORTED: &[u64] = &[0x8400_0060, 0, 0xFFFF_FFFF];

/// A v1.2 client with 4 KiB buffers over a script: set-up's replies (with
/// the 64-bit share and lend offered or not), then `replies`.
fn scripted_client(
    memory_offered: bool,
    replies: &[&[u64]],
) -> (
    &'static ScriptedConduit,
    &'static FfaClient<'static>,
    &'static PagePool<'static>,
) {
    let memory = Memory::new();
    let (rx, tx) = common::buffers(&memory, 4096);
    let pool = new_pool(&memory, 600);
    let offer = if memory_offered {
        SUCCESS
    } else {
        NOT_SUPPORTED
    };
    // SMCCC_VERSION, FFA_VERSION, FFA_ID_GET, FFA_FEATURES x 8 (RXTX_MAP,
    // MEM_SHARE_64, MEM_LEND_64, three interrupts, BIND, MSG_SEND2,
    // INFO_GET_64, REQ2, REGS), FFA_RXTX_MAP.
    let mut script: Vec<&[u64]> = vec![
        &[0x0001_0002],
        &[0x0001_0002],
        SUCCESS,
        SUCCESS,
        offer,
        offer,
    ];
    script.extend([NOT_SUPPORTED; 8]);
    script.push(SUCCESS);
    script.extend_from_slice(replies);
    let conduit = leak(ScriptedConduit::new(&script));
    let client = leak(FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT));
    client.initialize().unwrap();
    assert_eq!(*conduit.functions().last().unwrap(), ids::FFA_RXTX_MAP_64);
    (conduit, client, pool)
}

#[test]
fn protected_mode_refusing_memory_is_reported_and_the_region_kept() {
    // FFA_FEATURES says no for both widths (as the EL2 proxy does): nothing is sent.
    let (conduit, client, pool) = scripted_client(false, &[NOT_SUPPORTED]);
    let failure = client
        .share(pool.allocate(1).unwrap(), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(failure.error(), ClientError::Status(Status::NotSupported));
    assert!(failure.into_region().is_some());
    assert!(!conduit.functions().contains(&ids::FFA_MEM_SHARE_64));
}

#[test]
fn a_relayer_that_acknowledges_less_gets_the_rest_again() {
    // FEATURES ok; first fragment -> FRAG_RX at 0x60 (less than the 4096 sent); the rest -> SUCCESS.
    let (conduit, client, pool) = scripted_client(
        true,
        &[
            &[0x8400_007A, 0x10, 0x2, 0x60],
            &[0x8400_007A, 0x10, 0x2, 0x60 + 4096],
            &[0x8400_0061, 0, 0x10, 0x2],
        ],
    );
    let region = scattered(pool, 290);
    let shared = client
        .share(region, &rw(), &TransferOptions::DEFAULT)
        .unwrap();
    assert_eq!(shared.handle().0, 0x2_0000_0010);
    assert_eq!(shared.fragments(), 3);
    let calls = conduit.calls();
    let fragments: Vec<_> = calls
        .iter()
        .filter(|call| call.x[0] as u32 == ids::FFA_MEM_FRAG_TX)
        .collect();
    assert_eq!(fragments.len(), 2);
    assert_eq!(
        (fragments[0].x[1], fragments[0].x[2], fragments[0].x[3]),
        (0x10, 0x2, 4096)
    );
    let total = 48 + 32 + 16 + 290 * 16;
    assert_eq!(fragments[1].x[3] as usize, total - 0x60 - 4096);
    drop(shared);
}

#[test]
fn a_relayer_that_claims_completion_early_is_reclaimed_or_stranded() {
    // SUCCESS after the first of two fragments; the reclaim succeeds: the region comes back.
    let (_, client, pool) = scripted_client(true, &[&[0x8400_0061, 0, 7, 0], &[0x8400_0061]]);
    let failure = client
        .share(scattered(pool, 290), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(failure.error(), ClientError::MalformedReply);
    assert!(matches!(failure, MemoryFailure::Refused { .. }));
    // The reclaim fails: the region stays unreachable, as if lent.
    let (_, client, pool) = scripted_client(
        true,
        &[
            &[0x8400_0061, 0, 7, 0],
            &[0x8400_0060, 0, 0xFFFF_FFFA],
            &[0x8400_0061],
        ],
    );
    let failure = client
        .share(scattered(pool, 290), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    let MemoryFailure::Stranded { lent, .. } = failure else {
        panic!("expected stranded, got {failure:?}");
    };
    assert_eq!(lent.handle().0, 7);
    assert!(lent.reclaim().is_ok());
    // An error on a later fragment, or a FRAG_RX that does not move, aborts it: the region is back.
    let (_, client, pool) = scripted_client(
        true,
        &[&[0x8400_007A, 1, 0, 4096], &[0x8400_0060, 0, 0xFFFF_FFF8]],
    );
    let failure = client
        .share(scattered(pool, 290), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(failure.error(), ClientError::Status(Status::Aborted));
    assert!(failure.into_region().is_some());
    let (_, client, pool) = scripted_client(
        true,
        &[&[0x8400_007A, 1, 0, 4096], &[0x8400_007A, 1, 0, 4096]],
    );
    let failure = client
        .share(scattered(pool, 290), &rw(), &TransferOptions::DEFAULT)
        .unwrap_err();
    assert_eq!(failure.error(), ClientError::MalformedReply);
    assert!(failure.into_region().is_some());
}

type Queue = InitQueue<'static, 8, 8>;

fn boot_with_checks(
    config: FaultConfig,
    client: ClientConfig,
    plan: MemoryCheckPlan,
) -> (
    Fixture,
    &'static FfaBus<'static, 8>,
    &'static MemoryChecks<'static>,
    &'static PagePool<'static>,
) {
    let fixture = fixture_with_buffers(config, client, 4096);
    let pool = new_pool(&fixture.memory, 600);
    let queue: &'static Queue = leak(InitQueue::new());
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let root_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        fixture.client,
        queue,
        ConditionSet::of(monitor_ready),
    ));
    let checks = leak(MemoryChecks::new(pool, plan));
    let echo = leak(EchoDriver::new().with_memory_checks(checks));
    queue
        .add(
            "ffa-echo",
            leak(DriverEntry::new(bus, echo, root_ready)),
            None,
        )
        .unwrap();
    queue.add("arm-ffa", bus, Some(root_ready)).unwrap();
    queue.signal(monitor_ready);
    queue.service();
    assert!(queue.is_settled());
    (fixture, bus, checks, pool)
}

#[test]
fn the_memory_check_driver_proves_the_bytes_travel_and_the_report_lists_them() {
    let plan = MemoryCheckPlan::BOOT.with_scattered(256);
    let (fixture, bus, checks, pool) =
        boot_with_checks(FaultConfig::default(), ClientConfig::DEFAULT, plan);
    let results = checks.results();
    for outcome in [results.share, results.lend, results.donate] {
        assert!(
            matches!(outcome, CheckOutcome::Passed { fragments: 1, .. }),
            "{results:?}"
        );
    }
    assert!(
        matches!(results.scattered, CheckOutcome::Passed { fragments: 2, .. }),
        "{results:?}"
    );
    assert_eq!(
        pool.free_pages(),
        599,
        "everything but the donated page came back"
    );
    let report = BootReport::collect(bus);
    assert_eq!(report.memory_total, 4);
    assert_eq!(report.memory[0].receiver, ECHO);
    assert!(report
        .memory
        .iter()
        .take(3)
        .all(|record| record.state == RecordState::Reclaimed));
    assert_eq!(report.memory[3].state, RecordState::Donated);
    report.log();
    // Every transaction went to the driver's own partition.
    assert!(fixture
        .conduit
        .world()
        .memory_transactions()
        .all(|info| info.receivers[0].0 == 0x8001 && info.receiver_count == 1));
}

#[test]
fn the_memory_check_driver_reports_refusals_and_retries_a_denied_reclaim() {
    let denied = FaultConfig {
        memory_fault: MemoryFault::DeniedReclaim,
        ..FaultConfig::default()
    };
    let (_, _, checks, _) = boot_with_checks(denied, ClientConfig::DEFAULT, MemoryCheckPlan::BOOT);
    assert!(
        matches!(checks.results().share, CheckOutcome::Passed { .. }),
        "the retry succeeds"
    );
    let no_memory = FaultConfig {
        memory_fault: MemoryFault::NoMemory,
        ..FaultConfig::default()
    };
    let (_, _, checks, pool) =
        boot_with_checks(no_memory, ClientConfig::DEFAULT, MemoryCheckPlan::BOOT);
    assert_eq!(
        checks.results().share,
        CheckOutcome::Failed(CheckFailure::Give(ClientError::Status(Status::NoMemory)))
    );
    assert!(matches!(checks.results().lend, CheckOutcome::Passed { .. }));
    assert_eq!(pool.free_pages(), 599);
    let tf_a = FaultConfig::as_personality(Personality::TfAEl3Spmc);
    let (_, _, checks, _) = boot_with_checks(tf_a, ClientConfig::DEFAULT, MemoryCheckPlan::BOOT);
    assert_eq!(
        checks.results().share,
        CheckOutcome::Failed(CheckFailure::Give(ClientError::Status(
            Status::InvalidParameters
        )))
    );
    assert_eq!(
        checks.results().donate,
        CheckOutcome::Skipped(ClientError::Status(Status::NotSupported))
    );
    let (_, _, checks, _) = boot_with_checks(
        tf_a,
        requesting(SupportedVersion::V1_1),
        MemoryCheckPlan::BOOT,
    );
    assert!(matches!(
        checks.results().share,
        CheckOutcome::Passed { .. }
    ));
    assert!(matches!(checks.results().lend, CheckOutcome::Passed { .. }));
}
