//! Function and error names and the one-line descriptions the firmware prints.

mod common;

use common::{registers, Harness};
use ffa_abi::Status;
use ffa_model::function_id::*;
use ffa_model::{
    describe_call, describe_outcome, describe_result, error_name, function_name,
    OutcomeDescription, ResultDescription,
};

#[test]
fn function_names() {
    assert_eq!(function_name(FFA_VERSION), "FFA_VERSION");
    assert_eq!(function_name(0x8400_0063), "FFA_VERSION");
    assert_eq!(function_name(PSCI_SYSTEM_OFF), "PSCI_SYSTEM_OFF");
    assert_eq!(function_name(0xC400_006F), "FFA_MSG_SEND_DIRECT_REQ_64");
    assert_eq!(function_name(0x8400_006F), "FFA_MSG_SEND_DIRECT_REQ_32");
    assert_eq!(
        function_name(FFA_MSG_SEND_DIRECT_REQ2),
        "FFA_MSG_SEND_DIRECT_REQ2"
    );
    assert_eq!(
        function_name(FFA_PARTITION_INFO_GET_REGS),
        "FFA_PARTITION_INFO_GET_REGS"
    );
    assert_eq!(function_name(SMCCC_VERSION), "SMCCC_VERSION");
    assert_eq!(function_name(FFA_SUCCESS_64), "FFA_SUCCESS_64");
    assert_eq!(function_name(0x8400_0090), "UNKNOWN");
    assert_eq!(function_name(0), "UNKNOWN");
}

#[test]
fn every_ffa_number_in_use_has_a_name() {
    for number in 0x60..=0x8E {
        let name = function_name(0x8400_0000 | number);
        let name64 = function_name(0xC400_0000 | number);
        assert!(
            name != "UNKNOWN" || name64 != "UNKNOWN",
            "function number {number:#x} has no name"
        );
    }
}

#[test]
fn error_names() {
    let expected = [
        "NOT_SUPPORTED",
        "INVALID_PARAMETERS",
        "NO_MEMORY",
        "BUSY",
        "INTERRUPTED",
        "DENIED",
        "RETRY",
        "ABORTED",
        "NO_DATA",
        "NOT_READY",
    ];
    for (index, name) in expected.iter().enumerate() {
        assert_eq!(error_name(-(index as i32) - 1), *name);
    }
    assert_eq!(error_name(0), "SUCCESS");
    assert_eq!(error_name(-11), "UNKNOWN");
    assert_eq!(error_name(5), "UNKNOWN");
}

#[test]
fn describes_calls_and_results() {
    let mut harness = Harness::default_config();
    let call = registers(&[FFA_VERSION as u64, 0x1_0002]);
    assert_eq!(
        describe_call(&call).to_string(),
        "FFA_VERSION x1=0x10002 x2=0x0 x3=0x0 x4=0x0"
    );
    let result = harness.call_registers(&call);
    assert_eq!(describe_result(&result), ResultDescription::Value(0x1_0002));
    assert_eq!(describe_result(&result).to_string(), "0x10002");

    let result = harness.call(&[FFA_RX_RELEASE as u64]);
    let description = describe_result(&result);
    assert_eq!(description.error(), Some(Status::Denied));
    assert_eq!(description.to_string(), "FFA_ERROR DENIED (-6)");

    let result = harness.call(&[FFA_ID_GET as u64]);
    assert_eq!(
        describe_result(&result).to_string(),
        "FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0"
    );

    let result = harness.call(&[0xC200_0000]);
    assert_eq!(describe_result(&result), ResultDescription::NotSupported);
    assert_eq!(describe_result(&result).to_string(), "NOT_SUPPORTED (-1)");
    assert_eq!(
        describe_call(&registers(&[0xC200_0000])).to_string(),
        "UNKNOWN(0xc2000000) x1=0x0 x2=0x0 x3=0x0 x4=0x0"
    );
}

#[test]
fn describes_outcomes() {
    let mut harness = Harness::default_config();
    let outcome = harness.outcome_of(&registers(&[PSCI_SYSTEM_OFF as u64, 9]));
    assert_eq!(describe_outcome(&outcome), OutcomeDescription::SystemOff(9));
    assert_eq!(
        describe_outcome(&outcome).to_string(),
        "SYSTEM_OFF status=9"
    );
    let outcome = harness.outcome_of(&registers(&[PSCI_SYSTEM_RESET as u64]));
    assert_eq!(describe_outcome(&outcome).to_string(), "SYSTEM_RESET");
    let outcome = harness.outcome_of(&registers(&[SMCCC_VERSION as u64]));
    assert_eq!(describe_outcome(&outcome).to_string(), "0x10002");
}
