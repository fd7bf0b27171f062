//! UUIDs as FF-A passes them: bytes in RFC 4122 order, registers as little-endian words.
//!
//! FF-A names partitions and services by UUID. In memory (partition
//! information descriptors) the 16 bytes are stored in RFC 4122 order; in
//! registers the same bytes are loaded as little-endian words, so
//! `486178e0-e7f8-11e3-bc5e-0002a5d5c51b` travels as
//! `w1=0xe0786148, w2=0xe311f8e7, w3=0x02005ebc, w4=0x1bc5d5a5`.
//!
//! ```
//! use ffa_abi::Uuid;
//!
//! const OPTEE: Uuid = Uuid::from_fields(
//!     0x486178e0, 0xe7f8, 0x11e3, [0xbc, 0x5e, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b],
//! );
//! assert_eq!(OPTEE.to_words(), [0xe0786148, 0xe311f8e7, 0x02005ebc, 0x1bc5d5a5]);
//! assert_eq!(Uuid::parse("486178e0-e7f8-11e3-bc5e-0002a5d5c51b"), Some(OPTEE));
//! ```

use core::fmt;

/// A 128-bit universally unique identifier.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Uuid {
    bytes: [u8; 16],
}

impl Uuid {
    /// The nil UUID, which FF-A uses to mean "all partitions".
    pub const NIL: Uuid = Uuid { bytes: [0; 16] };

    /// A UUID from its 16 bytes in RFC 4122 (big-endian field) order.
    pub const fn from_bytes(bytes: [u8; 16]) -> Uuid {
        Uuid { bytes }
    }

    /// A UUID from its textual fields: `time_low-time_mid-time_high-clock_and_node`.
    pub const fn from_fields(time_low: u32, time_mid: u16, time_high: u16, rest: [u8; 8]) -> Uuid {
        let low = time_low.to_be_bytes();
        let mid = time_mid.to_be_bytes();
        let high = time_high.to_be_bytes();
        Uuid {
            bytes: [
                low[0], low[1], low[2], low[3], mid[0], mid[1], high[0], high[1], rest[0], rest[1],
                rest[2], rest[3], rest[4], rest[5], rest[6], rest[7],
            ],
        }
    }

    /// Parses the canonical `8-4-4-4-12` hexadecimal form; `None` if malformed.
    pub const fn parse(text: &str) -> Option<Uuid> {
        let text = text.as_bytes();
        if text.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut input = 0;
        let mut output = 0;
        while input < 36 {
            if input == 8 || input == 13 || input == 18 || input == 23 {
                if text[input] != b'-' {
                    return None;
                }
                input += 1;
                continue;
            }
            let high = match hex_value(text[input]) {
                Some(value) => value,
                None => return None,
            };
            let low = match hex_value(text[input + 1]) {
                Some(value) => value,
                None => return None,
            };
            bytes[output] = (high << 4) | low;
            output += 1;
            input += 2;
        }
        Some(Uuid { bytes })
    }

    /// The 16 bytes in RFC 4122 order (the in-memory FF-A layout).
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    /// Whether this is the nil UUID.
    pub const fn is_nil(&self) -> bool {
        let mut index = 0;
        while index < 16 {
            if self.bytes[index] != 0 {
                return false;
            }
            index += 1;
        }
        true
    }

    /// The four 32-bit register words (w1–w4 of `FFA_PARTITION_INFO_GET`).
    pub const fn to_words(&self) -> [u32; 4] {
        let b = &self.bytes;
        [
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        ]
    }

    /// The UUID carried by four 32-bit register words.
    pub const fn from_words(words: [u32; 4]) -> Uuid {
        let a = words[0].to_le_bytes();
        let b = words[1].to_le_bytes();
        let c = words[2].to_le_bytes();
        let d = words[3].to_le_bytes();
        Uuid {
            bytes: [
                a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], c[0], c[1], c[2], c[3], d[0], d[1],
                d[2], d[3],
            ],
        }
    }

    /// The two 64-bit registers (x2/x3 of `FFA_MSG_SEND_DIRECT_REQ2`, x1/x2 of
    /// `FFA_PARTITION_INFO_GET_REGS`): bytes 0–7, then bytes 8–15, each
    /// little-endian.
    pub const fn to_register_pair(&self) -> [u64; 2] {
        let words = self.to_words();
        [
            (words[0] as u64) | ((words[1] as u64) << 32),
            (words[2] as u64) | ((words[3] as u64) << 32),
        ]
    }

    /// The UUID carried by two 64-bit registers.
    pub const fn from_register_pair(registers: [u64; 2]) -> Uuid {
        Uuid::from_words([
            registers[0] as u32,
            (registers[0] >> 32) as u32,
            registers[1] as u32,
            (registers[1] >> 32) as u32,
        ])
    }
}

const fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, byte) in self.bytes.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                formatter.write_str("-")?;
            }
            write!(formatter, "{:02x}", byte)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Uuid {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        let b = &self.bytes;
        let node = u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]]);
        defmt::write!(
            formatter,
            "{=u32:08x}-{=u16:04x}-{=u16:04x}-{=u16:04x}-{=u64:012x}",
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]),
            u16::from_be_bytes([b[8], b[9]]),
            node
        );
    }
}
