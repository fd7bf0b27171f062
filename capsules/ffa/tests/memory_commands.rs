//! The console's memory commands against the FF-A model: share, lend,
//! memory check, reclaim and share again; a reclaim the relayer denies
//! keeps the region lent; and every error (unknown partition, a callee that
//! does not offer the ABI, an exhausted pool, every scratch region in use,
//! an unknown handle, a bad number) before any memory call.

mod common;

use capsule_console::command::CommandError;
use capsule_ffa::client::ClientConfig;
use capsule_ffa::commands::memory::{MemoryCommands, SCRATCH_REGIONS};
use capsule_ffa::memory::{DataAccess, Receiver, TransferOptions};
use capsule_ffa::version::SupportedVersion;
use common::{bus, fixture, ids, leak, run_line, Fixture};
use ffa_abi::memory_check::pattern;
use ffa_abi::{PartitionId, Status};
use ffa_model::{FaultConfig, MemoryFault, MemoryPhase, Personality};
use kernel::hil::smccc::SmcccRegisters;
use kernel::page_pool::PagePool;

const POOL_BASE: u64 = 0x4100_0000;
const POOL_PAGES: usize = 16;

struct Board {
    fixture: Fixture,
    pool: &'static PagePool<'static>,
    commands: &'static MemoryCommands<'static, 8>,
}

/// The memory commands over a bus whose root has set FF-A up (unless
/// `probe` is false), with a pool of `pages` pages.
fn board_over(fixture: Fixture, probe: bool, pages: usize) -> Board {
    let (_, bus) = bus(fixture.client, probe);
    let pool = leak(PagePool::new(leak(fixture.memory.pool_pages(POOL_BASE, pages))).unwrap());
    let commands = leak(MemoryCommands::new(bus, pool));
    fixture.conduit.log().clear();
    Board {
        fixture,
        pool,
        commands,
    }
}

fn board(config: FaultConfig) -> Board {
    board_over(fixture(config, ClientConfig::DEFAULT), true, POOL_PAGES)
}

impl Board {
    fn run(&self, line: &'static str) -> Result<(), CommandError<'static>> {
        run_line(&[self.commands], line)
    }

    fn calls(&self, id: u32) -> usize {
        self.fixture.conduit.log().count(id)
    }

    /// The handle of the last scratch region the console took.
    fn newest_handle(&self) -> u64 {
        self.commands
            .scratch_handles()
            .iter()
            .flatten()
            .last()
            .expect("a scratch region")
            .0
    }

    /// Runs `command` with `handle` as its argument.
    fn run_with(&self, command: &str, handle: u64) -> Result<(), CommandError<'static>> {
        self.run(leak(format!("{command} {handle:#x}")).as_str())
    }

    /// Live transactions the model holds.
    fn transactions(&self) -> usize {
        self.fixture.conduit.world().memory_transactions().count()
    }

    /// Whether `pages` pages at `address` hold `seed`'s pattern.
    fn holds(&self, address: u64, pages: usize, seed: u64) -> bool {
        let bytes = self.fixture.memory.read(address, pages * 4096);
        pattern::first_mismatch(seed, 0, &bytes).is_none()
    }
}

/// The patterns of the console's first scratch region (serial 1).
const P1: u64 = 0x5EED_C0DE_0000_0001;
const Q1: u64 = !P1;

#[test]
fn share_check_reclaim_and_share_again() {
    let board = board(FaultConfig::default());
    assert_eq!(board.run("ffa share 0x8001 2"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MEM_SHARE_64), 1);
    let handle = board.newest_handle();
    assert_eq!(board.pool.free_pages(), POOL_PAGES - 2);
    assert!(board.holds(POOL_BASE, 2, P1), "the kernel wrote pattern P");
    assert_eq!(board.run("ffa mem"), Ok(()));

    // The echo partition retrieves, checks P, writes Q and relinquishes.
    assert_eq!(board.run_with("ffa memcheck", handle), Ok(()));
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_64), 1);
    assert!(
        board.holds(POOL_BASE, 2, Q1),
        "the partition wrote pattern Q"
    );
    // Again: it now finds Q and writes P back.
    assert_eq!(board.run_with("ffa memcheck", handle), Ok(()));
    assert!(board.holds(POOL_BASE, 2, P1));

    assert_eq!(board.run_with("ffa reclaim", handle), Ok(()));
    assert_eq!(board.calls(ids::FFA_MEM_RECLAIM), 1);
    assert_eq!(board.commands.scratch_count(), 0);
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
    assert_eq!(board.transactions(), 0);
    // Reclaimed: the handle is no longer the console's.
    assert_eq!(
        board.run_with("ffa reclaim", handle),
        Err(CommandError::Reported)
    );
    assert_eq!(board.calls(ids::FFA_MEM_RECLAIM), 1);

    // The same pages again, with a new handle and new patterns.
    assert_eq!(board.run("ffa share 0x8001 2"), Ok(()));
    let again = board.newest_handle();
    assert_ne!(again, handle);
    assert!(board.holds(POOL_BASE, 2, P1 + 1));
    assert_eq!(board.run_with("ffa memcheck", again), Ok(()));
    assert_eq!(board.run_with("ffa reclaim", again), Ok(()));
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
}

#[test]
fn a_denied_reclaim_keeps_the_region_lent() {
    let board = board(FaultConfig {
        memory_fault: MemoryFault::DeniedReclaim,
        ..FaultConfig::default()
    });
    assert_eq!(board.run("ffa lend 0x8001 3"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MEM_LEND_64), 1);
    let handle = board.newest_handle();
    assert_eq!(board.run_with("ffa memcheck", handle), Ok(()));
    assert!(board.holds(POOL_BASE, 3, Q1));

    assert_eq!(
        board.run_with("ffa reclaim", handle),
        Err(CommandError::Reported)
    );
    // Still lent: the console holds the handle, the pages stay out of the
    // pool, and the relayer still has the transaction.
    assert_eq!(
        board.commands.scratch_handles()[0].map(|h| h.0),
        Some(handle)
    );
    assert_eq!(board.pool.free_pages(), POOL_PAGES - 3);
    assert_eq!(board.transactions(), 1);
    assert_eq!(board.run("ffa mem"), Ok(()));

    assert_eq!(board.run_with("ffa reclaim", handle), Ok(()));
    assert_eq!(board.calls(ids::FFA_MEM_RECLAIM), 2);
    assert_eq!(board.commands.scratch_count(), 0);
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
    assert_eq!(board.transactions(), 0);
}

#[test]
fn a_reclaim_while_the_partition_holds_the_memory_is_denied_by_the_model() {
    let board = board(FaultConfig::default());
    assert_eq!(board.run("ffa lend 0x8001 1"), Ok(()));
    let handle = board.newest_handle();
    // The partition retrieves and keeps it: a borrower that holds on.
    let conduit = board.fixture.conduit;
    conduit
        .memory()
        .with(|memory| {
            conduit
                .world_mut()
                .partition_retrieve(memory, 0x8001, handle, 0, 0xC0DE_0001, 0x06)
        })
        .unwrap();
    assert_eq!(
        board.run_with("ffa reclaim", handle),
        Err(CommandError::Reported)
    );
    assert_eq!(board.commands.scratch_count(), 1);
    assert_eq!(board.pool.free_pages(), POOL_PAGES - 1);
    // Once it relinquishes, the reclaim goes through.
    conduit
        .memory()
        .with(|memory| {
            conduit
                .world_mut()
                .partition_relinquish(memory, 0x8001, handle)
        })
        .unwrap();
    assert_eq!(board.run_with("ffa reclaim", handle), Ok(()));
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
}

#[test]
fn bad_input_is_refused_before_any_call() {
    let board = board(FaultConfig::default());
    for (line, expected) in [
        ("ffa share 0x8001 0", "0"),
        ("ffa share 0x8001 65", "65"),
        ("ffa lend 0x8001 many", "many"),
        ("ffa share banana 1", "banana"),
        ("ffa reclaim not-a-handle", "not-a-handle"),
        (
            "ffa memcheck 0x1_0000_0000_0000_0000",
            "0x1_0000_0000_0000_0000",
        ),
    ] {
        assert!(
            matches!(board.run(line), Err(CommandError::BadNumber { argument, .. }) if argument == expected),
            "{line}"
        );
    }
    assert!(matches!(
        board.run("ffa share 0x9999 1"),
        Err(CommandError::Unknown {
            what: "partition",
            argument: "0x9999"
        })
    ));
    assert_eq!(board.run("ffa share 0x8001"), Err(CommandError::Usage));
    assert_eq!(board.run("ffa lend 0x8001 1 2"), Err(CommandError::Usage));
    assert_eq!(board.run("ffa reclaim"), Err(CommandError::Usage));
    assert_eq!(board.run("ffa mem now"), Err(CommandError::Usage));
    assert_eq!(
        board.run("ffa reclaim 0xfffffffe"),
        Err(CommandError::Reported),
        "an unknown handle"
    );
    assert_eq!(
        board.run("ffa memcheck 0xfffffffe"),
        Err(CommandError::Reported)
    );
    assert!(
        board.fixture.conduit.log().functions().is_empty(),
        "{:?}",
        board.fixture.conduit.log().functions()
    );
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
}

#[test]
fn a_handle_the_console_did_not_give_is_not_reclaimed() {
    let board = board(FaultConfig::default());
    // A driver's share, not the console's.
    let region = board.pool.allocate(1).unwrap();
    let shared = board
        .fixture
        .client
        .share(
            region,
            &[Receiver::new(
                PartitionId::new(0x8001),
                DataAccess::ReadWrite,
            )],
            &TransferOptions::DEFAULT,
        )
        .unwrap();
    board.fixture.conduit.log().clear();
    let line = leak(format!("ffa reclaim {:#x}", shared.handle().0));
    assert_eq!(board.run(line), Err(CommandError::Reported));
    assert_eq!(board.calls(ids::FFA_MEM_RECLAIM), 0);
    drop(shared.reclaim().unwrap());
}

#[test]
fn the_pool_and_the_scratch_regions_are_bounded() {
    let small = board_over(
        fixture(FaultConfig::default(), ClientConfig::DEFAULT),
        true,
        4,
    );
    assert_eq!(small.run("ffa share 0x8001 5"), Err(CommandError::Reported));
    assert_eq!(small.calls(ids::FFA_MEM_SHARE_64), 0);
    assert_eq!(small.pool.free_pages(), 4);

    let board = board(FaultConfig::default());
    for _ in 0..SCRATCH_REGIONS {
        assert_eq!(board.run("ffa share 0x8001 1"), Ok(()));
    }
    assert_eq!(board.run("ffa lend 0x8001 1"), Err(CommandError::Reported));
    assert_eq!(board.calls(ids::FFA_MEM_SHARE_64), SCRATCH_REGIONS);
    assert_eq!(board.calls(ids::FFA_MEM_LEND_64), 0);
    assert_eq!(board.pool.free_pages(), POOL_PAGES - SCRATCH_REGIONS);
    for handle in board.commands.scratch_handles().into_iter().flatten() {
        assert_eq!(board.run_with("ffa reclaim", handle.0), Ok(()));
    }
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
}

#[test]
fn a_callee_that_does_not_offer_the_abi_keeps_the_pages_in_the_pool() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    // As the EL2 proxy in protected mode answers: no memory sharing.
    fixture.conduit.rewrite(|call, original| {
        let asks_about_memory = call.x[0] as u32 == ids::FFA_FEATURES
            && matches!(
                call.x[1] as u32,
                ids::FFA_MEM_SHARE_32
                    | ids::FFA_MEM_SHARE_64
                    | ids::FFA_MEM_LEND_32
                    | ids::FFA_MEM_LEND_64
            );
        if asks_about_memory {
            SmcccRegisters::from_slice(&[
                ids::FFA_ERROR as u64,
                0,
                Status::NotSupported.code() as u32 as u64,
            ])
        } else {
            original
        }
    });
    let board = board_over(fixture, true, POOL_PAGES);
    assert_eq!(board.run("ffa share 0x8001 1"), Err(CommandError::Reported));
    assert_eq!(board.run("ffa lend 0x8001 1"), Err(CommandError::Reported));
    assert_eq!(board.calls(ids::FFA_MEM_SHARE_64), 0);
    assert_eq!(board.calls(ids::FFA_MEM_SHARE_32), 0);
    assert_eq!(board.calls(ids::FFA_MEM_LEND_64), 0);
    assert_eq!(board.commands.scratch_count(), 0);
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
}

#[test]
fn a_refused_share_gives_the_pages_back() {
    let board = board(FaultConfig {
        memory_fault: MemoryFault::NoMemory,
        ..FaultConfig::default()
    });
    assert_eq!(board.run("ffa share 0x8001 2"), Err(CommandError::Reported));
    assert_eq!(board.calls(ids::FFA_MEM_SHARE_64), 1);
    assert_eq!(board.commands.scratch_count(), 0);
    assert_eq!(board.pool.free_pages(), POOL_PAGES);
    assert_eq!(board.run("ffa share 0x8001 2"), Ok(()));
}

#[test]
fn memcheck_needs_a_partition_that_takes_64_bit_requests() {
    let board = board(FaultConfig::default());
    // 0x8002 runs AArch32: it may borrow memory, but takes no 64-bit request.
    assert_eq!(board.run("ffa share 0x8002 1"), Ok(()));
    let handle = board.newest_handle();
    assert_eq!(
        board.run_with("ffa memcheck", handle),
        Err(CommandError::Reported)
    );
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_64), 0);
    assert_eq!(board.run_with("ffa reclaim", handle), Ok(()));
}

#[test]
fn without_a_session_nothing_is_given() {
    let board = board_over(
        fixture(FaultConfig::default(), ClientConfig::DEFAULT),
        false,
        POOL_PAGES,
    );
    assert_eq!(board.run("ffa mem"), Ok(()));
    // No partition is on the bus before the root probes.
    assert!(matches!(
        board.run("ffa share 0x8001 1"),
        Err(CommandError::Unknown { .. })
    ));
    assert!(board.fixture.conduit.log().functions().is_empty());
}

#[test]
fn every_personality_and_layout_shares_and_lends_through_the_console() {
    let configurations = [
        (
            FaultConfig::as_personality(Personality::Hafnium),
            SupportedVersion::V1_2,
        ),
        (
            FaultConfig::as_personality(Personality::OpTee),
            SupportedVersion::V1_2,
        ),
        (
            FaultConfig::as_personality(Personality::TfAEl3Spmc),
            SupportedVersion::V1_1,
        ),
        (
            FaultConfig {
                spmc_version: (1, 0),
                ..FaultConfig::default()
            },
            SupportedVersion::V1_2,
        ),
    ];
    for (config, requested) in configurations {
        let client = ClientConfig {
            requested_version: requested,
            ..ClientConfig::DEFAULT
        };
        let board = board_over(fixture(config, client), true, POOL_PAGES);
        for line in ["ffa share 0x8001 2", "ffa lend 0x8001 1"] {
            assert_eq!(board.run(line), Ok(()), "{config:?}: {line}");
            let handle = board.newest_handle();
            assert_eq!(board.run_with("ffa memcheck", handle), Ok(()), "{config:?}");
            assert_eq!(board.run_with("ffa reclaim", handle), Ok(()), "{config:?}");
        }
        assert_eq!(board.pool.free_pages(), POOL_PAGES, "{config:?}");
        assert!(board
            .fixture
            .conduit
            .world()
            .memory_transactions()
            .all(|transaction| transaction.phase != MemoryPhase::Complete));
    }
}
