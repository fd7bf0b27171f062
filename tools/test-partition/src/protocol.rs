//! The direct-request protocol of the test partition: echo, and "retrieve, check, reply, relinquish".
//!
//! The protocol is shared with the model's echo partition and the kernel's
//! memory-check driver, so it lives in `ffa-abi` ([`ffa_abi::memory_check`],
//! where it is documented) and is re-exported here; this module adds how a
//! request's payload is read from the partition's registers.

use crate::abi::Registers;

pub use ffa_abi::memory_check::{
    Flags, MemoryCheck, Outcome, Report, Request, COMMAND_MAGIC, NO_MISMATCH, OPCODE_MEMORY_CHECK,
    RESPONSE_MAGIC,
};

/// The payload x3–x7 of a direct request or response.
pub type Payload = [u64; 5];

/// The payload (x3–x7) of a direct request's registers.
pub fn payload(registers: &Registers) -> Payload {
    [
        registers[3],
        registers[4],
        registers[5],
        registers[6],
        registers[7],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_echo_driver_payloads_are_echoed() {
        // capsules/ffa/src/drivers/echo.rs PAYLOAD_64.
        let payload = [
            0x0123_4567_89ab_cdef,
            0xfedc_ba98_7654_3210,
            0x8000_0000_0000_0001,
            0xffff_ffff_0000_0000,
            0x0000_0001_0000_0000,
        ];
        assert_eq!(Request::decode_64(&payload), Request::Echo);
    }

    #[test]
    fn commands_are_recognised_by_their_magic() {
        let check = MemoryCheck {
            handle: 0x1_0000_0002,
            check_seed: 3,
            reply_seed: 4,
            tag: 5,
            flags: Flags(Flags::WRITE_REPLY | Flags::EXPECT_LEND),
        };
        let payload = check.encode();
        assert_eq!(payload[0], 0x5450_434D_0005_0001);
        assert_eq!(Request::decode_64(&payload), Request::MemoryCheck(check));
        let mut unknown = payload;
        unknown[0] = (COMMAND_MAGIC as u64) << 32 | 42;
        assert_eq!(Request::decode_64(&unknown), Request::Unknown(42));
    }

    #[test]
    fn reports_carry_status_and_counters() {
        let report = Report {
            outcome: Outcome::RetrieveFailed,
            status: -2,
            handle: 9,
            bytes_checked: 0,
            first_mismatch: NO_MISMATCH,
            constituents: 0,
            fragments: 0,
        };
        let payload = report.encode();
        assert_eq!(payload[0], 0x5450_5253_FFFE_0002);
        assert_eq!(Report::decode(&payload), Some(report));
        assert_eq!(Report::decode(&[0; 5]), None);
    }

    proptest! {
        #[test]
        fn memory_checks_round_trip(handle in any::<u64>(), p in any::<u64>(), q in any::<u64>(), tag in any::<u64>(), flags in any::<u16>()) {
            let check = MemoryCheck { handle, check_seed: p, reply_seed: q, tag, flags: Flags(flags) };
            prop_assert_eq!(Request::decode_64(&check.encode()), Request::MemoryCheck(check));
        }

        #[test]
        fn reports_round_trip(code in 0u16..10, status in any::<i16>(), handle in any::<u64>(), bytes in any::<u64>(), at in any::<u64>(), constituents in any::<u32>(), fragments in any::<u16>()) {
            let report = Report {
                outcome: Outcome::from_code(code).unwrap(),
                status, handle, bytes_checked: bytes, first_mismatch: at, constituents, fragments,
            };
            prop_assert_eq!(Report::decode(&report.encode()), Some(report));
        }

        /// Any payload decodes to something; only the magic makes it a command.
        #[test]
        fn any_payload_decodes(payload in any::<[u64; 5]>()) {
            let request = Request::decode_64(&payload);
            prop_assert_eq!(request == Request::Echo, (payload[0] >> 32) as u32 != COMMAND_MAGIC);
        }
    }
}
