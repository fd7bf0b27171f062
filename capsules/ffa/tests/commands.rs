//! The console's `ffa` commands against the FF-A model: what each one
//! calls, and each error (bad number, unknown partition, not supported by
//! the partition or the negotiated version, no session, an ID that names
//! no partition) before any call; against each SPMC personality.

mod common;

use capsule_console::command::CommandError;
use capsule_ffa::client::ClientConfig;
use capsule_ffa::commands::FfaCommands;
use common::{bus, fixture, ids, leak, run_line, Fixture, ManualAlarm};
use ffa_abi::Uuid;
use ffa_model::{FaultConfig, Personality};
use kernel::hil::smccc::SmcccRegisters;

struct Board {
    fixture: Fixture,
    commands: &'static FfaCommands<'static, 8>,
}

/// The commands over a bus whose root has set FF-A up (or not, if `probe`
/// is false).
fn board(config: FaultConfig, probe: bool) -> Board {
    board_over(fixture(config, ClientConfig::DEFAULT), probe)
}

/// The commands over a bus on `fixture` (whose replies a test may have
/// forged), its root probed if `probe`.
fn board_over(fixture: Fixture, probe: bool) -> Board {
    let (queue, bus) = bus(fixture.client, probe);
    let commands = leak(FfaCommands::new(bus, queue, leak(ManualAlarm::new())));
    fixture.conduit.log().clear();
    Board { fixture, commands }
}

impl Board {
    /// Runs the command line `line`.
    fn run(&self, line: &'static str) -> Result<(), CommandError<'static>> {
        run_line(&[self.commands], line)
    }

    fn calls(&self, id: u32) -> usize {
        self.fixture.conduit.log().count(id)
    }

    fn no_calls(&self) -> bool {
        self.fixture.conduit.log().functions().is_empty()
    }
}

#[test]
fn listing_and_info_read_the_bus_without_calling_the_secure_world() {
    let board = board(FaultConfig::default(), true);
    for line in [
        "ffa",
        "ffa status",
        "ffa list",
        "ffa info 0x8001",
        "ffa info 32770",
        "ffa info fa791f17-febd-4861-81d0-4b5dae9cb9cb",
    ] {
        assert_eq!(board.run(line), Ok(()), "{line}");
    }
    assert!(
        board.no_calls(),
        "{:?}",
        board.fixture.conduit.log().functions()
    );
}

#[test]
fn ping_and_send_make_one_direct_request_each() {
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa ping 0x8001"), Ok(()));
    assert_eq!(board.run("ffa send 0x8001 1 2 3 4 0xffffffff"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_32), 2);
    assert_eq!(board.run("ffa send64 0x8001 0x1_0000_0000"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_64), 1);
    assert_eq!(
        board.run("ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1 2 3 4 5 6 7 8 9 10 11 12 13 14"),
        Ok(())
    );
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ2), 1);
    // The preempted partition is resumed with FFA_RUN, within the retry policy.
    assert_eq!(board.run("ffa ping 0x8003"), Ok(()));
    assert!(board.calls(ids::FFA_RUN) >= 1);
}

#[test]
fn discovery_asks_the_secure_world_again() {
    let board = board(FaultConfig::default(), true);
    assert_eq!(board.run("ffa discover"), Ok(()));
    assert_eq!(board.run("ffa discover --count"), Ok(()));
    assert_eq!(
        board.run("ffa discover b4399eff-6a76-400b-bfa8-2c063889c6ee"),
        Ok(())
    );
    assert!(board.calls(ids::FFA_PARTITION_INFO_GET_REGS) >= 2);
    assert_eq!(board.calls(ids::FFA_PARTITION_INFO_GET), 1);
}

#[test]
fn bad_input_is_refused_before_any_call() {
    let board = board(FaultConfig::default(), true);
    assert!(matches!(
        board.run("ffa ping banana"),
        Err(CommandError::BadNumber {
            argument: "banana",
            ..
        })
    ));
    assert!(matches!(
        board.run("ffa ping 0x10000"),
        Err(CommandError::BadNumber { .. })
    ));
    assert!(matches!(
        board.run("ffa ping 0x9999"),
        Err(CommandError::Unknown {
            argument: "0x9999",
            ..
        })
    ));
    assert!(matches!(
        board.run("ffa info 00000000-0000-0000-0000-00000000beef"),
        Err(CommandError::Unknown { .. })
    ));
    assert!(matches!(
        board.run("ffa info not-a-partition"),
        Err(CommandError::BadArgument { .. })
    ));
    assert!(matches!(
        board.run("ffa send 0x8001 0x1_0000_0000"),
        Err(CommandError::BadNumber { .. })
    ));
    assert_eq!(board.run("ffa send 0x8001"), Err(CommandError::Usage));
    assert_eq!(
        board.run("ffa send 0x8001 1 2 3 4 5 6"),
        Err(CommandError::Usage)
    );
    assert_eq!(board.run("ffa ping"), Err(CommandError::Usage));
    assert_eq!(board.run("ffa list extra"), Err(CommandError::Usage));
    assert!(matches!(
        board.run("ffa send2 0x8001 not-a-uuid 1"),
        Err(CommandError::BadArgument { .. })
    ));
    assert!(matches!(
        board.run("ffa discover --count --count"),
        Err(CommandError::BadArgument { .. })
    ));
    assert!(board.no_calls());
}

#[test]
fn what_the_partition_does_not_receive_is_refused_before_any_call() {
    let board = board(FaultConfig::default(), true);
    // 0x8002 runs AArch32 and does not receive DIRECT_REQ2.
    assert_eq!(
        board.run("ffa send64 0x8002 1"),
        Err(CommandError::Reported)
    );
    assert_eq!(
        board.run("ffa send2 0x8002 88886b1c-15ad-4435-a3f8-e2919eacb5b7 1"),
        Err(CommandError::Reported)
    );
    assert!(board.no_calls());
    assert_eq!(board.run("ffa send 0x8002 1"), Ok(()));
}

#[test]
fn what_the_negotiated_version_lacks_is_refused_before_any_call() {
    let v1_0 = board(
        FaultConfig {
            spmc_version: (1, 0),
            ..FaultConfig::default()
        },
        true,
    );
    assert_eq!(
        v1_0.run("ffa discover --count"),
        Err(CommandError::Reported)
    );
    assert_eq!(
        v1_0.run("ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1"),
        Err(CommandError::Reported)
    );
    assert!(v1_0.no_calls());
    let v1_1 = board(
        FaultConfig {
            spmc_version: (1, 1),
            ..FaultConfig::default()
        },
        true,
    );
    assert_eq!(
        v1_1.run("ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1"),
        Err(CommandError::Reported)
    );
    assert!(v1_1.no_calls());
    assert_eq!(v1_1.run("ffa discover --count"), Ok(()));
}

#[test]
fn without_a_session_calls_are_refused_and_listing_says_why() {
    let board = board(FaultConfig::default(), false);
    assert_eq!(board.run("ffa list"), Ok(()));
    assert_eq!(board.run("ffa status"), Ok(()));
    assert_eq!(board.run("ffa discover"), Err(CommandError::Reported));
    // No partition is on the bus yet.
    assert!(matches!(
        board.run("ffa ping 0x8001"),
        Err(CommandError::Unknown { .. })
    ));
    assert!(board.no_calls());
}

#[test]
fn a_partition_that_stays_busy_costs_a_bounded_number_of_calls() {
    let board = board(
        FaultConfig {
            busy_storm: 1000,
            ..FaultConfig::default()
        },
        true,
    );
    board.fixture.conduit.log().clear();
    assert_eq!(board.run("ffa ping 0x8001"), Err(CommandError::Reported));
    let policy = ClientConfig::DEFAULT.retry;
    assert_eq!(
        board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_32),
        policy.busy_retries as usize + 1
    );
}

#[test]
fn every_personality_s_session_is_shown_without_calling_the_secure_world() {
    for personality in [
        Personality::TfAEl3Spmc,
        Personality::Hafnium,
        Personality::OpTee,
    ] {
        let board = board(FaultConfig::as_personality(personality), true);
        for line in [
            "ffa status",
            "ffa list",
            "ffa info 0x8001",
            "ffa info 0x8002",
        ] {
            assert_eq!(board.run(line), Ok(()), "{personality:?}: {line}");
        }
        assert!(board.no_calls(), "{personality:?}");
        assert_eq!(board.run("ffa ping 0x8001"), Ok(()), "{personality:?}");
    }
}

#[test]
fn op_tee_discovers_nothing_for_an_unknown_uuid_where_the_others_refuse_it() {
    let unknown = "ffa discover 00000000-0000-0000-0000-00000000beef";
    let op_tee = board(FaultConfig::as_personality(Personality::OpTee), true);
    assert_eq!(op_tee.run(unknown), Ok(()));
    let hafnium = board(FaultConfig::as_personality(Personality::Hafnium), true);
    assert_eq!(hafnium.run(unknown), Err(CommandError::Reported));
    // Hafnium's 48-byte descriptors, through registers, two per call.
    assert_eq!(hafnium.run("ffa discover"), Ok(()));
    assert!(hafnium.calls(ids::FFA_PARTITION_INFO_GET_REGS) >= 2);
}

/// `FFA_SUCCESS_64`, as a register value.
const SUCCESS_64: u64 = ids::FFA_SUCCESS_64 as u64;

#[test]
fn ids_that_name_no_partition_take_no_message() {
    let fixture = fixture(FaultConfig::default(), ClientConfig::DEFAULT);
    let echo = Uuid::parse("fa791f17-febd-4861-81d0-4b5dae9cb9cb").unwrap();
    let [low, high] = echo.to_register_pair();
    // The echo partition, a SEPID of a dependent peripheral device whose
    // proxy it is, one of an independent device, and an auxiliary ID.
    fixture.conduit.rewrite(move |call, original| {
        if call.x[0] as u32 != ids::FFA_PARTITION_INFO_GET_REGS {
            return original;
        }
        SmcccRegisters::from_slice(&[
            SUCCESS_64,
            0,
            24 << 48 | 3 << 16 | 3,
            0x0000_0301_0004_8001,
            low,
            high,
            0x0000_0020_8001_8101,
            0,
            0,
            0x0000_0010_0000_8100,
            0,
            0,
            0x0000_0030_0000_8102,
            0,
            0,
        ])
    });
    let board = board_over(fixture, true);
    for line in [
        "ffa list",
        "ffa info 0x8101",
        "ffa info 0x8100",
        "ffa info 0x8102",
    ] {
        assert_eq!(board.run(line), Ok(()), "{line}");
    }
    for line in [
        "ffa ping 0x8101",
        "ffa send 0x8100 1",
        "ffa send64 0x8102 1",
        "ffa send2 0x8101 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1",
    ] {
        assert_eq!(board.run(line), Err(CommandError::Reported), "{line}");
    }
    assert!(
        board.no_calls(),
        "{:?}",
        board.fixture.conduit.log().functions()
    );
    // The proxy partition itself takes messages.
    assert_eq!(board.run("ffa ping 0x8001"), Ok(()));
    assert_eq!(board.calls(ids::FFA_MSG_SEND_DIRECT_REQ_32), 1);
}
