//! The `FFA_NOTIFICATION_INFO_GET` decoder: the specification's example,
//! every slot of both widths (the last one included, which Linux's parser
//! misses), counts that do not fit, and properties against the `arm-ffa`
//! crate as an oracle.

use arm_ffa::interface_args::SuccessArgs;
use arm_ffa::notification::{SuccessArgsNotificationInfoGet32, SuccessArgsNotificationInfoGet64};
use capsule_ffa::error::ClientError;
use capsule_ffa::notification_info::NotificationInfo;
use ffa_abi::CallWidth;
use proptest::prelude::*;

/// The decoded lists as (endpoint, vCPUs) pairs.
fn lists(info: &NotificationInfo) -> Vec<(u16, Vec<u16>)> {
    info.lists()
        .iter()
        .map(|list| (list.endpoint.raw(), list.vcpus().to_vec()))
        .collect()
}

/// x2-x7 of a 64-bit answer: `flags`, then `ids` packed four per register.
fn registers_64(flags: u64, ids: &[u16]) -> [u64; 6] {
    let mut registers = [flags, 0, 0, 0, 0, 0];
    for (index, id) in ids.iter().enumerate() {
        registers[1 + index / 4] |= u64::from(*id) << (16 * (index % 4));
    }
    registers
}

/// x2-x7 of a 32-bit answer: `flags`, then `ids` packed two per register.
fn registers_32(flags: u64, ids: &[u16]) -> [u64; 6] {
    let mut registers = [flags, 0, 0, 0, 0, 0];
    for (index, id) in ids.iter().enumerate() {
        registers[1 + index / 2] |= u64::from(*id) << (16 * (index % 2));
    }
    registers
}

/// Flags announcing lists with these vCPU counts.
fn flags(vcpu_counts: &[u64], more_pending: bool) -> u64 {
    let mut flags = (vcpu_counts.len() as u64) << 7 | u64::from(more_pending);
    for (index, count) in vcpu_counts.iter().enumerate() {
        flags |= count << (12 + 2 * index);
    }
    flags
}

#[test]
fn the_specification_s_example_decodes_in_both_widths() {
    let expected = vec![
        (0, vec![0, 2, 3]),
        (0, vec![4, 6]),
        (2, vec![]),
        (3, vec![1]),
    ];
    let ids = [0, 0, 2, 3, 0, 4, 6, 2, 3, 1];
    let flags = flags(&[3, 2, 0, 1], false);
    assert_eq!(flags, 0x4B200);
    let info = NotificationInfo::decode(registers_64(flags, &ids), CallWidth::Bits64).unwrap();
    assert_eq!(lists(&info), expected);
    let info = NotificationInfo::decode(registers_32(flags, &ids), CallWidth::Bits32).unwrap();
    assert_eq!(lists(&info), expected);
    assert!(info.lists()[2].is_global());
    assert!(!info.lists()[0].is_global());
}

#[test]
fn all_twenty_slots_of_the_64_bit_answer_are_read() {
    // Twenty endpoints with global notifications: the twentieth sits in
    // the top half-word of x7, the slot Linux's parser stops before.
    let ids: Vec<u16> = (1..=20).map(|n| 0x8000 + n).collect();
    let info =
        NotificationInfo::decode(registers_64(flags(&[0; 20], true), &ids), CallWidth::Bits64)
            .unwrap();
    assert_eq!(info.lists().len(), 20);
    assert_eq!(info.lists()[19].endpoint.raw(), 0x8014);
    assert!(info.more_pending());

    // Five endpoints with three vCPUs each: the last vCPU in the last slot.
    let ids: Vec<u16> = (0..20)
        .map(|n| if n % 4 == 0 { 0x8000 + n } else { n })
        .collect();
    let info =
        NotificationInfo::decode(registers_64(flags(&[3; 5], false), &ids), CallWidth::Bits64)
            .unwrap();
    assert_eq!(lists(&info)[4], (0x8010, vec![17, 18, 19]));
}

#[test]
fn all_ten_slots_of_the_32_bit_answer_are_read_and_upper_halves_ignored() {
    let ids: Vec<u16> = (1..=10).collect();
    let mut registers = registers_32(flags(&[0; 10], false), &ids);
    // What a 64-bit register holds above a 32-bit answer is not part of it.
    for register in registers.iter_mut() {
        *register |= 0xDEAD_BEEF << 32;
    }
    let info = NotificationInfo::decode(registers, CallWidth::Bits32).unwrap();
    assert_eq!(
        lists(&info),
        (1..=10).map(|id| (id, vec![])).collect::<Vec<_>>()
    );
    assert!(!info.more_pending());
}

#[test]
fn counts_that_do_not_fit_the_slots_are_malformed() {
    let malformed = |registers, width| {
        matches!(
            NotificationInfo::decode(registers, width),
            Err(ClientError::Malformed(_))
        )
    };
    // 21 lists in the 64-bit answer, 11 in the 32-bit one.
    assert!(malformed(registers_64(21 << 7, &[]), CallWidth::Bits64));
    assert!(malformed(registers_32(11 << 7, &[]), CallWidth::Bits32));
    // The list count's largest value.
    assert!(malformed(registers_64(31 << 7, &[]), CallWidth::Bits64));
    // Lists whose vCPU IDs run past the last slot.
    assert!(malformed(
        registers_64(flags(&[3, 3, 3, 3, 3, 1], false), &[]),
        CallWidth::Bits64
    ));
    assert!(malformed(
        registers_32(flags(&[3, 3, 2], false), &[]),
        CallWidth::Bits32
    ));
    // Just fitting is not malformed.
    assert!(!malformed(
        registers_32(flags(&[3, 3, 1], false), &[]),
        CallWidth::Bits32
    ));
}

#[test]
fn no_lists_is_an_empty_answer_and_reserved_flag_bits_are_ignored() {
    let info = NotificationInfo::decode([0b111_1110, 1, 2, 3, 4, 5], CallWidth::Bits64).unwrap();
    assert!(info.lists().is_empty());
    assert!(!info.more_pending());
}

/// What the oracle makes of the same registers.
fn oracle(registers: [u64; 6], width: CallWidth) -> Option<Vec<(u16, Vec<u16>)>> {
    match width {
        CallWidth::Bits64 => {
            let mut args = [0u64; 16];
            args[..6].copy_from_slice(&registers);
            SuccessArgsNotificationInfoGet64::try_from(SuccessArgs::Args64(args))
                .ok()
                .map(|info| {
                    info.iter()
                        .map(|(endpoint, vcpus)| (endpoint, vcpus.to_vec()))
                        .collect()
                })
        }
        CallWidth::Bits32 => {
            let args = registers.map(|register| register as u32);
            SuccessArgsNotificationInfoGet32::try_from(SuccessArgs::Args32(args))
                .ok()
                .map(|info| {
                    info.iter()
                        .map(|(endpoint, vcpus)| (endpoint, vcpus.to_vec()))
                        .collect()
                })
        }
    }
}

fn width() -> impl Strategy<Value = CallWidth> {
    prop_oneof![Just(CallWidth::Bits32), Just(CallWidth::Bits64)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever the registers hold, the decoder answers (never panics) and
    /// agrees with the oracle on whether they are well formed and on every
    /// list.
    #[test]
    fn any_registers_decode_as_the_oracle_decodes_them(
        registers in any::<[u64; 6]>(),
        width in width(),
    ) {
        let ours = NotificationInfo::decode(registers, width).ok().map(|info| lists(&info));
        prop_assert_eq!(ours, oracle(registers, width));
    }

    /// Registers with a plausible list count (the uniform case above is
    /// mostly malformed) decode as the oracle decodes them.
    #[test]
    fn plausible_answers_decode_as_the_oracle_decodes_them(
        count in 0u64..=21,
        vcpu_bits in any::<u64>(),
        more in any::<bool>(),
        ids in any::<[u64; 5]>(),
        width in width(),
    ) {
        let mut registers = [0u64; 6];
        registers[0] = (vcpu_bits << 12) | (count << 7) | u64::from(more);
        registers[1..].copy_from_slice(&ids);
        let ours = NotificationInfo::decode(registers, width).ok();
        let expected = oracle(registers, width);
        prop_assert_eq!(ours.map(|info| lists(&info)), expected);
        if let Some(info) = ours {
            prop_assert_eq!(info.more_pending(), more);
        }
    }

    /// Lists the oracle packs come back unchanged.
    #[test]
    fn lists_the_oracle_packs_come_back(
        wanted in proptest::collection::vec(
            (any::<u16>(), proptest::collection::vec(any::<u16>(), 0..=3)),
            0..=20,
        ),
        more in any::<bool>(),
    ) {
        let mut packed = SuccessArgsNotificationInfoGet64::default();
        packed.more_pending_notifications = more;
        let mut fitted = Vec::new();
        for (endpoint, vcpus) in &wanted {
            if packed.add_list(*endpoint, vcpus).is_ok() {
                fitted.push((*endpoint, vcpus.clone()));
            }
        }
        let SuccessArgs::Args64(args) = SuccessArgs::from(packed) else {
            unreachable!("a 64-bit answer");
        };
        let registers: [u64; 6] = args[..6].try_into().unwrap();
        let info = NotificationInfo::decode(registers, CallWidth::Bits64).unwrap();
        prop_assert_eq!(lists(&info), fitted);
        prop_assert_eq!(info.more_pending(), more);
    }
}
