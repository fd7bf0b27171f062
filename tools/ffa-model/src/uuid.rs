//! UUIDs and their FF-A register and memory encodings.
//!
//! A UUID is kept as its 16 bytes in the standard (RFC 4122 string) order:
//! `486178e0-e7f8-11e3-bc5e-0002a5d5c51b` is `[0x48, 0x61, 0x78, 0xe0, ...]`.
//! FF-A encodes it as follows (DEN0077A; the same convention everywhere):
//! * in w1–w4 (`FFA_PARTITION_INFO_GET`): four little-endian 32-bit words of
//!   those bytes, so the example is w1 = 0xe0786148, w2 = 0xe311f8e7,
//!   w3 = 0x02005ebc, w4 = 0x1bc5d5a5;
//! * in a register pair (x1/x2 of `FFA_PARTITION_INFO_GET_REGS`, x2/x3 of
//!   `FFA_MSG_SEND_DIRECT_REQ2`): two little-endian 64-bit words, the low
//!   register holding bytes 0–7 (= w1 | w2 << 32) and the high one bytes 8–15;
//! * in memory (partition information descriptors): the 16 bytes in order,
//!   which is the same as storing w1–w4 little-endian.

use core::fmt;

/// A UUID, as its 16 bytes in standard order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

const fn hex_digit(character: u8) -> Option<u8> {
    match character {
        b'0'..=b'9' => Some(character - b'0'),
        b'a'..=b'f' => Some(character - b'a' + 10),
        b'A'..=b'F' => Some(character - b'A' + 10),
        _ => None,
    }
}

impl Uuid {
    /// The nil UUID (all zero), which means "all partitions" in discovery calls.
    pub const NIL: Uuid = Uuid([0; 16]);

    /// A UUID from its bytes in standard order.
    pub const fn from_bytes(bytes: [u8; 16]) -> Uuid {
        Uuid(bytes)
    }

    /// The bytes in standard order.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Whether this is the nil UUID.
    pub const fn is_nil(self) -> bool {
        let mut index = 0;
        while index < 16 {
            if self.0[index] != 0 {
                return false;
            }
            index += 1;
        }
        true
    }

    /// Parse the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    pub const fn parse(text: &str) -> Option<Uuid> {
        let text = text.as_bytes();
        if text.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut byte_index = 0;
        let mut position = 0;
        while position < 36 {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                if text[position] != b'-' {
                    return None;
                }
                position += 1;
                continue;
            }
            let (Some(high), Some(low)) =
                (hex_digit(text[position]), hex_digit(text[position + 1]))
            else {
                return None;
            };
            bytes[byte_index] = (high << 4) | low;
            byte_index += 1;
            position += 2;
        }
        Some(Uuid(bytes))
    }

    /// The UUID from the four 32-bit register words (w1–w4 of `FFA_PARTITION_INFO_GET`).
    pub const fn from_words(words: [u32; 4]) -> Uuid {
        let mut bytes = [0u8; 16];
        let mut word = 0;
        while word < 4 {
            let little_endian = words[word].to_le_bytes();
            let mut byte = 0;
            while byte < 4 {
                bytes[word * 4 + byte] = little_endian[byte];
                byte += 1;
            }
            word += 1;
        }
        Uuid(bytes)
    }

    /// The four 32-bit register words (w1–w4 of `FFA_PARTITION_INFO_GET`).
    pub const fn to_words(self) -> [u32; 4] {
        let bytes = self.0;
        [
            u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
            u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]),
        ]
    }

    /// The UUID from a 64-bit register pair (low = bytes 0–7, high = bytes 8–15).
    pub const fn from_register_pair(low: u64, high: u64) -> Uuid {
        let low = low.to_le_bytes();
        let high = high.to_le_bytes();
        let mut bytes = [0u8; 16];
        let mut index = 0;
        while index < 8 {
            bytes[index] = low[index];
            bytes[index + 8] = high[index];
            index += 1;
        }
        Uuid(bytes)
    }

    /// The 64-bit register pair `(low, high)` (low = bytes 0–7, high = bytes 8–15).
    pub const fn to_register_pair(self) -> (u64, u64) {
        let bytes = self.0;
        (
            u64::from_le_bytes([
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            ]),
            u64::from_le_bytes([
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14],
                bytes[15],
            ]),
        )
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                formatter.write_str("-")?;
            }
            write!(formatter, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const OPTEE: &str = "486178e0-e7f8-11e3-bc5e-0002a5d5c51b";

    #[test]
    fn words_match_the_specification_example() {
        let uuid = Uuid::parse(OPTEE).unwrap();
        assert_eq!(
            uuid.to_words(),
            [0xe078_6148, 0xe311_f8e7, 0x0200_5ebc, 0x1bc5_d5a5]
        );
        assert_eq!(Uuid::from_words(uuid.to_words()), uuid);
    }

    #[test]
    fn register_pair_matches_words() {
        let uuid = Uuid::parse(OPTEE).unwrap();
        let (low, high) = uuid.to_register_pair();
        assert_eq!(low, 0xe311_f8e7_e078_6148);
        assert_eq!(high, 0x1bc5_d5a5_0200_5ebc);
        assert_eq!(Uuid::from_register_pair(low, high), uuid);
    }

    #[test]
    fn text_round_trips() {
        assert_eq!(Uuid::parse(OPTEE).unwrap().to_string(), OPTEE);
        assert_eq!(Uuid::parse("not-a-uuid"), None);
        assert_eq!(Uuid::parse("486178e0-e7f8-11e3-bc5e_0002a5d5c51b"), None);
        assert_eq!(Uuid::parse("g86178e0-e7f8-11e3-bc5e-0002a5d5c51b"), None);
        assert!(Uuid::NIL.is_nil());
        assert!(!Uuid::parse(OPTEE).unwrap().is_nil());
    }
}
