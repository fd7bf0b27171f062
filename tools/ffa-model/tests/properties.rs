//! Property tests: random call sequences never panic and always get well-formed replies;
//! the configuration blob round-trips and parsing random bytes never panics.

mod common;

use common::{Harness, MEMORY_BASE};
use ffa_abi::Status;
use ffa_abi::Version;
use ffa_model::function_id::*;
use ffa_model::partition::{ECHO_PARTITION_UUID, INTERRUPTING_PARTITION_UUID};
use ffa_model::{
    FaultConfig, MemoryFault, Outcome, PartitionInfoFault, Personality, ReadinessError, Registers,
};
use proptest::prelude::*;

const FUNCTIONS: &[u32] = &[
    FFA_VERSION,
    FFA_FEATURES,
    FFA_ID_GET,
    FFA_SPM_ID_GET,
    FFA_RXTX_MAP_32,
    FFA_RXTX_MAP_64,
    FFA_RXTX_UNMAP,
    FFA_RX_RELEASE,
    FFA_RX_ACQUIRE,
    FFA_PARTITION_INFO_GET,
    FFA_PARTITION_INFO_GET_REGS,
    FFA_MSG_SEND_DIRECT_REQ_32,
    FFA_MSG_SEND_DIRECT_REQ_64,
    FFA_MSG_SEND_DIRECT_REQ2,
    FFA_RUN,
    FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_WAIT,
    FFA_YIELD,
    FFA_ERROR,
    FFA_SUCCESS_32,
    FFA_MEM_SHARE_64,
    FFA_MEM_RECLAIM,
    FFA_NOTIFICATION_BIND,
    FFA_MSG_SEND2,
    0x8400_00EF,
    SMCCC_VERSION,
    SMCCC_ARCH_FEATURES,
    PSCI_VERSION,
    PSCI_FEATURES,
    PSCI_SYSTEM_OFF,
    PSCI_SYSTEM_RESET,
    PSCI_CPU_ON_64,
];

/// Values that make calls interesting: versions, partition targets, buffer
/// addresses and page counts, UUID words, flags.
fn interesting_value() -> impl Strategy<Value = u64> {
    let [echo_low, echo_high] = ECHO_PARTITION_UUID.to_register_pair();
    let [interrupting_low, _] = INTERRUPTING_PARTITION_UUID.to_register_pair();
    prop_oneof![
        Just(0u64),
        Just(1u64),
        Just(2u64),
        Just(0x1_0000u64),
        Just(0x1_0001u64),
        Just(0x1_0002u64),
        Just(0x8001u64),
        Just(0x8002u64),
        Just(0x8003u64),
        Just(0x8003_0000u64),
        Just(MEMORY_BASE),
        Just(MEMORY_BASE + 0x1_0000),
        Just(echo_low),
        Just(echo_high),
        Just(interrupting_low),
        Just(ECHO_PARTITION_UUID.to_words()[0] as u64),
        Just(u64::MAX),
        any::<u64>(),
        any::<u32>().prop_map(u64::from),
    ]
}

fn function_id() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => prop::sample::select(FUNCTIONS).prop_map(u64::from),
        1 => (prop::sample::select(FUNCTIONS), any::<u32>())
            .prop_map(|(id, upper)| u64::from(upper) << 32 | u64::from(id)),
        1 => any::<u64>(),
    ]
}

fn call() -> impl Strategy<Value = Registers> {
    (
        function_id(),
        prop::collection::vec(interesting_value(), 17),
    )
        .prop_map(|(x0, rest)| {
            let mut registers = [0u64; 18];
            registers[0] = x0;
            registers[1..].copy_from_slice(&rest);
            registers
        })
}

fn fault_config() -> impl Strategy<Value = FaultConfig> {
    (
        (
            prop::bool::weighted(0.1),
            prop::sample::select(vec![(1u16, 0u16), (1, 1), (1, 2), (1, 3), (2, 0)]),
            0u32..3,
            0u64..50,
            any::<bool>(),
            prop::bool::weighted(0.1),
            0u32..4,
        ),
        (
            any::<bool>(),
            0u32..3,
            0u32..3,
            0u32..3,
            0u32..3,
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (absent, version, calls, microseconds, busy, deny, fault),
                (wrong, busy_storm, retry_storm, interrupts, yields, trace, el1),
            )| FaultConfig {
                ffa_absent: absent,
                spmc_version: version,
                not_ready_calls: calls,
                not_ready_microseconds: microseconds,
                not_ready_error: if busy {
                    ReadinessError::Busy
                } else {
                    ReadinessError::NotReady
                },
                deny_rxtx_map: deny,
                partition_info_fault: match fault {
                    0 => PartitionInfoFault::NoFault,
                    1 => PartitionInfoFault::HugeCount,
                    2 => PartitionInfoFault::WrongDescriptorSize,
                    _ => PartitionInfoFault::ExtendedDescriptorSize,
                },
                wrong_responder: wrong,
                busy_storm,
                retry_storm,
                interrupt_count: interrupts,
                yield_count: yields,
                setup_busy_calls: busy_storm as u16,
                trace,
                enter_normal_world_at_el1: el1,
                // Checked against the specification's register rules, which
                // TF-A's profile breaks on purpose (tests/tf_a_el3.rs); the
                // other personalities keep them, memory rules included.
                personality: match busy_storm {
                    0 => Personality::Specification,
                    1 => Personality::Hafnium,
                    _ => Personality::OpTee,
                },
                memory_fault: MemoryFault::None,
                memory_fault_after: 0,
                optee_fault: ffa_model::OpteeFault::None,
            },
        )
}

const FFA_REPLIES: [u32; 8] = [
    FFA_SUCCESS_32,
    FFA_SUCCESS_64,
    FFA_ERROR,
    FFA_INTERRUPT,
    FFA_YIELD,
    FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_SEND_DIRECT_RESP_64,
    FFA_MSG_SEND_DIRECT_RESP2,
];

fn check_reply(
    config: &FaultConfig,
    call: &Registers,
    outcome: &Outcome,
) -> Result<(), TestCaseError> {
    let function = call[0] as u32;
    let result = match outcome {
        Outcome::SystemOff { status } => {
            prop_assert_eq!(function, PSCI_SYSTEM_OFF);
            prop_assert_eq!(*status, call[1] as u32);
            return Ok(());
        }
        Outcome::SystemReset => {
            prop_assert_eq!(function, PSCI_SYSTEM_RESET);
            return Ok(());
        }
        Outcome::CpuOn { .. } | Outcome::CpuOff => {
            // One core in these tests: CPU_ON can only fail, CPU_OFF is denied.
            prop_assert!(false, "power outcome {:?} on one core", outcome);
            return Ok(());
        }
        Outcome::Return(result) => result,
    };
    prop_assert!(function != PSCI_SYSTEM_OFF && function != PSCI_SYSTEM_RESET);
    let x0 = result[0];
    match function {
        SMCCC_VERSION => prop_assert_eq!(x0, 0x1_0002),
        PSCI_VERSION => prop_assert_eq!(x0, 0x1_0001),
        SMCCC_ARCH_FEATURES | PSCI_FEATURES => prop_assert!(x0 == 0 || x0 == u64::MAX),
        // The power calls answer PSCI codes (sign-extended): on one core
        // CPU_ON can only fail, AFFINITY_INFO names state 0-2 or fails,
        // CPU_OFF of the last core is denied.
        PSCI_CPU_ON_32
        | PSCI_CPU_ON_64
        | PSCI_CPU_OFF
        | PSCI_AFFINITY_INFO_32
        | PSCI_AFFINITY_INFO_64 => {
            let code = x0 as i64;
            prop_assert!(
                (-9..=2).contains(&code),
                "x0 = {:#x} for {:#x}",
                x0,
                function
            );
            prop_assert!(
                function == PSCI_AFFINITY_INFO_32 || function == PSCI_AFFINITY_INFO_64 || code < 0
            );
            return Ok(());
        }
        FFA_VERSION if x0 != FFA_ERROR as u64 => {
            let own = Version::new(config.spmc_version.0, config.spmc_version.1).raw();
            prop_assert!(x0 == u64::from(own) || x0 == u64::MAX, "x0 = {:#x}", x0);
        }
        _ => prop_assert!(
            x0 == u64::MAX || FFA_REPLIES.contains(&(x0 as u32)) && x0 >> 32 == 0,
            "x0 = {:#x} for {:#x}",
            x0,
            function
        ),
    }
    if x0 == u64::MAX {
        prop_assert_eq!(&result[1..4], &[0, 0, 0]);
    }
    if x0 == FFA_ERROR as u64 {
        prop_assert_eq!(result[1], 0);
        prop_assert!(Status::KNOWN.contains(&Status::from_code_or_unknown(result[2] as u32 as i32)));
        prop_assert_eq!(result[2] >> 32, 0);
        prop_assert_eq!(&result[3..8], &[0; 5]);
    }
    if is_ffa(x0 as u32) && x0 >> 32 == 0 && !is_64_bit(x0 as u32) {
        for (index, value) in result.iter().enumerate().take(8).skip(1) {
            prop_assert_eq!(value >> 32, 0, "x{} of an SMC32 reply", index);
        }
    }
    let extended = x0 == FFA_SUCCESS_64 as u64 || x0 == FFA_MSG_SEND_DIRECT_RESP2 as u64;
    if !extended {
        prop_assert_eq!(&result[8..], &call[8..], "x8-x17 are preserved");
    }
    if !is_ffa(function) && x0 != FFA_ERROR as u64 {
        prop_assert_eq!(&result[4..], &call[4..], "SMCCC replies preserve x4-x17");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_call_sequences_get_well_formed_replies(
        config in fault_config(),
        negotiate in prop::option::of(prop::sample::select(vec![0x1_0000u64, 0x1_0001, 0x1_0002])),
        map in any::<bool>(),
        calls in prop::collection::vec(call(), 1..40),
    ) {
        let mut harness = Harness::new(config);
        if let Some(version) = negotiate {
            harness.call(&[FFA_VERSION as u64, version]);
        }
        if map {
            harness.call(&[FFA_RXTX_MAP_64 as u64, MEMORY_BASE, MEMORY_BASE + 0x1_0000, 1]);
        }
        for (step, call) in calls.iter().enumerate() {
            harness.now = step as u64 * 10;
            let outcome = harness.outcome_of(call);
            check_reply(&config, call, &outcome)?;
        }
        prop_assert_eq!(
            harness.world.partitions(),
            ffa_model::partition::partitions_of(config.personality)
        );
    }

    #[test]
    fn fault_config_round_trips(
        config in fault_config(),
        major in 1u16..=0x7FFF,
        minor in any::<u16>(),
        counts in any::<[u32; 6]>(),
        microseconds in any::<u64>(),
    ) {
        let config = FaultConfig {
            spmc_version: (major, minor),
            not_ready_calls: counts[0],
            not_ready_microseconds: microseconds,
            busy_storm: counts[1],
            retry_storm: counts[2],
            interrupt_count: counts[3],
            yield_count: counts[4],
            setup_busy_calls: counts[5] as u16,
            ..config
        };
        prop_assert_eq!(FaultConfig::from_bytes(&config.to_bytes()), Ok(config));
    }

    #[test]
    fn from_bytes_on_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
        if let Ok(config) = FaultConfig::from_bytes(&bytes) {
            prop_assert_eq!(&config.to_bytes()[..], &bytes[..FaultConfig::BLOB_SIZE]);
        }
    }

    #[test]
    fn from_bytes_on_corrupted_blobs_never_panics(
        config in fault_config(),
        flips in prop::collection::vec((0usize..64, any::<u8>()), 1..4),
    ) {
        let mut bytes = config.to_bytes();
        for (index, value) in flips {
            bytes[index] ^= value;
        }
        if let Ok(parsed) = FaultConfig::from_bytes(&bytes) {
            prop_assert_eq!(parsed.to_bytes(), bytes);
        }
    }
}
