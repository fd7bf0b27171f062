//! SMCCC and PSCI calls, unknown function IDs and the register conventions of their replies.

mod common;

use common::{registers, Harness};
use ffa_model::function_id::*;
use ffa_model::{FaultConfig, FixedClock, Outcome, ReadinessError};

#[test]
fn smccc_version_is_1_2() {
    let mut harness = Harness::default_config();
    assert_eq!(harness.call(&[SMCCC_VERSION as u64])[0], 0x1_0002);
}

#[test]
fn smccc_arch_features() {
    let mut harness = Harness::default_config();
    let query =
        |harness: &mut Harness, id: u32| harness.call(&[SMCCC_ARCH_FEATURES as u64, id as u64])[0];
    assert_eq!(query(&mut harness, SMCCC_VERSION), 0);
    assert_eq!(query(&mut harness, SMCCC_ARCH_FEATURES), 0);
    assert_eq!(query(&mut harness, SMCCC_ARCH_SOC_ID), u64::MAX);
    assert_eq!(query(&mut harness, SMCCC_ARCH_WORKAROUND_1), u64::MAX);
    assert_eq!(query(&mut harness, FFA_VERSION), u64::MAX);
    assert_eq!(query(&mut harness, 0x1234_5678), u64::MAX);
}

#[test]
fn psci_version_is_1_1() {
    let mut harness = Harness::default_config();
    assert_eq!(harness.call(&[PSCI_VERSION as u64])[0], 0x1_0001);
}

#[test]
fn psci_features() {
    let mut harness = Harness::default_config();
    let query =
        |harness: &mut Harness, id: u32| harness.call(&[PSCI_FEATURES as u64, id as u64])[0];
    for implemented in [
        PSCI_VERSION,
        PSCI_FEATURES,
        PSCI_SYSTEM_OFF,
        PSCI_SYSTEM_RESET,
        PSCI_CPU_ON_32,
        PSCI_CPU_ON_64,
        PSCI_CPU_OFF,
        PSCI_AFFINITY_INFO_64,
    ] {
        assert_eq!(query(&mut harness, implemented), 0, "{implemented:#x}");
    }
    assert_eq!(
        query(&mut harness, SMCCC_VERSION),
        0,
        "SMCCC v1.1+ discovery"
    );
    for missing in [PSCI_CPU_SUSPEND_64, PSCI_SYSTEM_RESET2_32, FFA_VERSION, 0] {
        assert_eq!(query(&mut harness, missing), u64::MAX, "{missing:#x}");
    }
    // The upper half of x1 is ignored (SMC32 call).
    let result = harness.call(&[
        PSCI_FEATURES as u64,
        0xFFFF_0000_0000_0000 | PSCI_VERSION as u64,
    ]);
    assert_eq!(result[0], 0);
}

#[test]
fn system_off_carries_the_exit_status_from_w1() {
    let mut harness = Harness::default_config();
    assert_eq!(
        harness.outcome_of(&registers(&[PSCI_SYSTEM_OFF as u64, 0xDEAD_0000_0000_0003])),
        Outcome::SystemOff { status: 3 }
    );
    assert_eq!(
        harness.outcome_of(&registers(&[PSCI_SYSTEM_OFF as u64])),
        Outcome::SystemOff { status: 0 }
    );
}

#[test]
fn system_reset() {
    let mut harness = Harness::default_config();
    assert_eq!(
        harness.outcome_of(&registers(&[PSCI_SYSTEM_RESET as u64])),
        Outcome::SystemReset
    );
}

#[test]
fn unknown_functions_return_64_bit_minus_one() {
    let mut harness = Harness::default_config();
    for id in [
        PSCI_CPU_SUSPEND_64,
        PSCI_CPU_SUSPEND_32,
        SMCCC_ARCH_SOC_ID,
        0xC200_0000, // SiP service
        0x0400_0063, // yielding call with the FF-A number
        0x8400_00F0, // past the FF-A range
        0xFFFF_FFFF,
    ] {
        let result = harness.call(&[id as u64, 1, 2, 3]);
        assert_eq!(result[0], u64::MAX, "{id:#x}");
        assert_eq!(&result[1..4], &[0, 0, 0], "x1-x3 of {id:#x}");
    }
}

#[test]
fn smccc_replies_preserve_x4_to_x17() {
    let mut harness = Harness::default_config();
    let mut call: [u64; 18] = core::array::from_fn(|index| 0x1000 + index as u64);
    call[0] = SMCCC_VERSION as u64;
    let result = harness.call_registers(&call);
    assert_eq!(&result[..4], &[0x1_0002, 0, 0, 0]);
    assert_eq!(&result[4..], &call[4..]);
    call[0] = 0xC200_0001;
    let result = harness.call_registers(&call);
    assert_eq!(&result[..4], &[u64::MAX, 0, 0, 0]);
    assert_eq!(&result[4..], &call[4..]);
}

#[test]
fn upper_half_of_x0_is_ignored() {
    let mut harness = Harness::default_config();
    assert_eq!(
        harness.call(&[0xFFFF_FFFF_0000_0000 | SMCCC_VERSION as u64])[0],
        0x1_0002
    );
}

#[test]
fn smccc_and_psci_ignore_ffa_faults() {
    let config = FaultConfig {
        ffa_absent: true,
        not_ready_calls: 100,
        not_ready_error: ReadinessError::Busy,
        ..FaultConfig::default_config()
    };
    let mut harness = Harness::new(config);
    assert_eq!(harness.call(&[SMCCC_VERSION as u64])[0], 0x1_0002);
    assert_eq!(harness.call(&[PSCI_VERSION as u64])[0], 0x1_0001);
    let config = FaultConfig {
        not_ready_calls: 100,
        ..FaultConfig::default_config()
    };
    let mut harness = Harness::new(config);
    assert_eq!(harness.call(&[SMCCC_VERSION as u64])[0], 0x1_0002);
    assert_eq!(
        harness.outcome_of(&registers(&[PSCI_SYSTEM_OFF as u64, 7])),
        Outcome::SystemOff { status: 7 }
    );
}

#[test]
fn cpu_on_follows_psci_on_four_cores() {
    use ffa_model::power::{status, Release};
    let mut world = ffa_model::SecureWorld::new(FaultConfig::default());
    world.set_core_count(4);
    let mut memory = common::TestMemory::new();
    let mut call = |world: &mut ffa_model::SecureWorld, core: usize, values: &[u64]| {
        world.handle_from_core(core, &registers(values), &mut memory, &mut FixedClock(0))
    };
    let code = |outcome: Outcome| match outcome {
        Outcome::Return(reply) => reply[0] as i64 as i32,
        other => panic!("expected a return, got {other:?}"),
    };
    let on = PSCI_CPU_ON_64 as u64;
    let affinity = PSCI_AFFINITY_INFO_64 as u64;
    let Outcome::CpuOn { release, reply } = call(&mut world, 0, &[on, 1, 0x6000_2000, 0x11]) else {
        panic!("CPU_ON(1) did not release the core");
    };
    assert_eq!(
        release,
        Release {
            core: 1,
            entry: 0x6000_2000,
            context: 0x11
        }
    );
    assert_eq!(reply[0], 0);
    assert_eq!(
        code(call(&mut world, 0, &[on, 1, 0x6000_2000, 0])),
        status::ON_PENDING
    );
    assert_eq!(code(call(&mut world, 0, &[affinity, 1, 0])), 2);
    world.core_arrived(1);
    assert_eq!(code(call(&mut world, 0, &[affinity, 1, 0])), 0);
    assert_eq!(
        code(call(&mut world, 0, &[on, 1, 0x6000_2000, 0])),
        status::ALREADY_ON
    );
    assert_eq!(
        code(call(&mut world, 0, &[on, 7, 0x6000_2000, 0])),
        status::INVALID_PARAMETERS
    );
    assert_eq!(
        code(call(&mut world, 0, &[on, 0x100, 0x6000_2000, 0])),
        status::INVALID_PARAMETERS
    );
    // The 32-bit form takes w registers: bit 32 of the entry is ignored.
    assert!(matches!(
        call(&mut world, 0, &[PSCI_CPU_ON_32 as u64, 2, 0x1_6000_2000, 0]),
        Outcome::CpuOn {
            release: Release {
                core: 2,
                entry: 0x6000_2000,
                ..
            },
            ..
        }
    ));
    assert_eq!(call(&mut world, 1, &[PSCI_CPU_OFF as u64]), Outcome::CpuOff);
    assert_eq!(code(call(&mut world, 0, &[affinity, 1, 0])), 1);
}
