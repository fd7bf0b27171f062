//! The direct-request protocol of the project's test partitions: echo, and
//! "retrieve, check, reply, relinquish".
//!
//! Spoken by `tools/test-partition` (our S-EL1 partition under TF-A's EL3
//! SPMC), by the echo partition of `tools/ffa-model`, and by the kernel's
//! memory-check driver (`capsule_ffa::drivers::memory_check`), so it lives in
//! the one crate all three share. Plain data, like the rest of this crate.
//!
//! ## Echo
//!
//! Every `FFA_MSG_SEND_DIRECT_REQ_32` is answered with
//! `FFA_MSG_SEND_DIRECT_RESP_32` carrying w3–w7 unchanged, and every
//! `FFA_MSG_SEND_DIRECT_REQ_64` that is not a command (below) with
//! `FFA_MSG_SEND_DIRECT_RESP_64` carrying x3–x7 unchanged — the behaviour of
//! the echo partition of `tools/ffa-model` (ID 0x8001, UUID
//! `fa791f17-febd-4861-81d0-4b5dae9cb9cb`), so the kernel's echo driver
//! works against either. w1 of the response is `0x8001 << 16 | requester`.
//!
//! ## Memory check command
//!
//! A normal-world driver that has shared or lent memory to the partition
//! asks it to retrieve, check, answer and relinquish that memory with one
//! 64-bit direct request:
//!
//! | register | request | response (`FFA_MSG_SEND_DIRECT_RESP_64`) |
//! |---|---|---|
//! | x3 | `[63:32]` [`COMMAND_MAGIC`] (`"TPCM"`), `[31:16]` flags, `[15:0]` opcode 1 | `[63:32]` [`RESPONSE_MAGIC`] (`"TPRS"`), `[31:16]` FF-A status of the failing call (i16, 0 if none), `[15:0]` [`Outcome`] |
//! | x4 | memory handle H | H |
//! | x5 | seed P of the pattern the memory must hold | bytes checked |
//! | x6 | seed Q of the pattern to write back | region offset of the first byte that differs from P, or `u64::MAX` |
//! | x7 | the transaction's tag | `[31:0]` constituents, `[47:32]` descriptor fragments received |
//!
//! Flags: bit 0 [`Flags::WRITE_REPLY`] — after a successful check, fill the
//! region with pattern Q (the partition asks for read-write access);
//! bit 1 [`Flags::EXPECT_SHARE`] / bit 2 [`Flags::EXPECT_LEND`] — name the
//! transaction type in the retrieve request, so the SPMC refuses the other
//! type (neither: any type); bit 3 [`Flags::EXPECT_DONATE`] — the region is
//! donated: the partition keeps it instead of relinquishing it (partitions
//! whose SPMC takes no donations ignore the bit). Patterns are defined in
//! [`pattern`].
//!
//! The sender of the transaction is taken to be the requester (w1
//! `[31:16]` of the request). The partition then:
//! 1. writes a retrieve request (handle H, tag, sender, its own endpoint with
//!    the access it needs) in TX and calls `FFA_MEM_RETRIEVE_REQ_64`;
//! 2. copies the `FFA_MEM_RETRIEVE_RESP` fragment out of RX, releases RX and,
//!    while bytes are missing, calls `FFA_MEM_FRAG_RX` for the rest;
//! 3. checks the descriptor (handle, tag, sender, type, its own access, the
//!    composite region), and that every constituent lies in non-secure DRAM;
//! 4. checks the whole region against P and, if asked and it matched, writes Q;
//! 5. writes a relinquish descriptor in TX and calls `FFA_MEM_RELINQUISH`
//!    (also after a failed check, so the sender can reclaim).
//!
//! Any other opcode under [`COMMAND_MAGIC`] is answered with
//! [`Outcome::UnknownCommand`]. The partition logs each step on its UART.

/// x3 `[63:32]` of a command: `"TPCM"` (test partition command).
pub const COMMAND_MAGIC: u32 = 0x5450_434D;
/// x3 `[63:32]` of a command's response: `"TPRS"` (test partition response).
pub const RESPONSE_MAGIC: u32 = 0x5450_5253;
/// Opcode of the memory check command.
pub const OPCODE_MEMORY_CHECK: u16 = 1;
/// x6 of a response when no byte differed.
pub const NO_MISMATCH: u64 = u64::MAX;

/// Flags of the memory check command (x3 `[31:16]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Flags(pub u16);

impl Flags {
    /// Write pattern Q after a successful check.
    pub const WRITE_REPLY: u16 = 1 << 0;
    /// Retrieve as a share: the SPMC refuses a lent region.
    pub const EXPECT_SHARE: u16 = 1 << 1;
    /// Retrieve as a lend: the SPMC refuses a shared region.
    pub const EXPECT_LEND: u16 = 1 << 2;
    /// The region is donated: retrieve it as such and keep it (no relinquish).
    pub const EXPECT_DONATE: u16 = 1 << 3;

    /// Whether every bit of `flag` is set.
    pub const fn has(self, flag: u16) -> bool {
        self.0 & flag == flag
    }
}

/// A memory check request, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MemoryCheck {
    /// The memory handle.
    pub handle: u64,
    /// Seed of the pattern the region must hold.
    pub check_seed: u64,
    /// Seed of the pattern to write back.
    pub reply_seed: u64,
    /// The transaction's tag.
    pub tag: u64,
    /// Flags.
    pub flags: Flags,
}

/// What a direct request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Request {
    /// Echo the payload.
    Echo,
    /// The memory check command.
    MemoryCheck(MemoryCheck),
    /// A command with an opcode this partition does not know.
    Unknown(u16),
}

/// The payload x3–x7 of a direct request or response.
pub type Payload = [u64; 5];

impl Request {
    /// What a 64-bit direct request's payload asks for (32-bit requests always echo).
    pub const fn decode_64(payload: &Payload) -> Request {
        let command = payload[0];
        if (command >> 32) as u32 != COMMAND_MAGIC {
            return Request::Echo;
        }
        let opcode = command as u16;
        if opcode != OPCODE_MEMORY_CHECK {
            return Request::Unknown(opcode);
        }
        Request::MemoryCheck(MemoryCheck {
            handle: payload[1],
            check_seed: payload[2],
            reply_seed: payload[3],
            tag: payload[4],
            flags: Flags((command >> 16) as u16),
        })
    }
}

impl MemoryCheck {
    /// The request payload (x3–x7) a normal-world driver sends.
    pub const fn encode(&self) -> Payload {
        let command =
            (COMMAND_MAGIC as u64) << 32 | (self.flags.0 as u64) << 16 | OPCODE_MEMORY_CHECK as u64;
        [
            command,
            self.handle,
            self.check_seed,
            self.reply_seed,
            self.tag,
        ]
    }
}

/// How a command ended (x3 `[15:0]` of the response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// 0: the region held pattern P (and pattern Q was written if asked); relinquished.
    Passed,
    /// 1: a byte differed from pattern P (x6 says where); nothing written; relinquished.
    PatternMismatch,
    /// 2: `FFA_MEM_RETRIEVE_REQ` failed (x3 `[31:16]` holds the status).
    RetrieveFailed,
    /// 3: `FFA_MEM_FRAG_RX` failed or a fragment was refused.
    FragmentFailed,
    /// 4: the descriptor was inconsistent or not what was asked for; relinquished.
    BadDescriptor,
    /// 5: a constituent lies outside non-secure DRAM; nothing touched; relinquished.
    OutsideNonSecureMemory,
    /// 6: the reply was asked for but the partition was not granted write access; relinquished.
    NotWritable,
    /// 7: `FFA_MEM_RELINQUISH` failed (x3 `[31:16]` holds the status).
    RelinquishFailed,
    /// 8: `FFA_RX_RELEASE` failed.
    RxReleaseFailed,
    /// 9: the opcode is unknown.
    UnknownCommand,
}

impl Outcome {
    /// The code in x3 `[15:0]`.
    pub const fn code(self) -> u16 {
        match self {
            Outcome::Passed => 0,
            Outcome::PatternMismatch => 1,
            Outcome::RetrieveFailed => 2,
            Outcome::FragmentFailed => 3,
            Outcome::BadDescriptor => 4,
            Outcome::OutsideNonSecureMemory => 5,
            Outcome::NotWritable => 6,
            Outcome::RelinquishFailed => 7,
            Outcome::RxReleaseFailed => 8,
            Outcome::UnknownCommand => 9,
        }
    }

    /// The outcome with this code.
    pub const fn from_code(code: u16) -> Option<Outcome> {
        Some(match code {
            0 => Outcome::Passed,
            1 => Outcome::PatternMismatch,
            2 => Outcome::RetrieveFailed,
            3 => Outcome::FragmentFailed,
            4 => Outcome::BadDescriptor,
            5 => Outcome::OutsideNonSecureMemory,
            6 => Outcome::NotWritable,
            7 => Outcome::RelinquishFailed,
            8 => Outcome::RxReleaseFailed,
            9 => Outcome::UnknownCommand,
            _ => return None,
        })
    }

    /// A name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::PatternMismatch => "pattern mismatch",
            Outcome::RetrieveFailed => "retrieve failed",
            Outcome::FragmentFailed => "fragment failed",
            Outcome::BadDescriptor => "bad descriptor",
            Outcome::OutsideNonSecureMemory => "outside non-secure memory",
            Outcome::NotWritable => "not writable",
            Outcome::RelinquishFailed => "relinquish failed",
            Outcome::RxReleaseFailed => "RX release failed",
            Outcome::UnknownCommand => "unknown command",
        }
    }
}

/// The response to a command, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Report {
    /// How it ended.
    pub outcome: Outcome,
    /// The FF-A status code of the call that failed (0 if none).
    pub status: i16,
    /// The memory handle.
    pub handle: u64,
    /// Bytes checked against pattern P.
    pub bytes_checked: u64,
    /// Region offset of the first byte that differed, or [`NO_MISMATCH`].
    pub first_mismatch: u64,
    /// Constituents in the region.
    pub constituents: u32,
    /// Descriptor fragments received.
    pub fragments: u16,
}

impl Report {
    /// A report of `outcome` for `handle` with nothing checked yet.
    pub const fn new(outcome: Outcome, handle: u64) -> Report {
        Report {
            outcome,
            status: 0,
            handle,
            bytes_checked: 0,
            first_mismatch: NO_MISMATCH,
            constituents: 0,
            fragments: 0,
        }
    }

    /// The response payload (x3–x7).
    pub const fn encode(&self) -> Payload {
        [
            (RESPONSE_MAGIC as u64) << 32
                | (self.status as u16 as u64) << 16
                | self.outcome.code() as u64,
            self.handle,
            self.bytes_checked,
            self.first_mismatch,
            self.constituents as u64 | (self.fragments as u64) << 32,
        ]
    }

    /// Decodes a response payload; `None` if it is not a command response.
    pub const fn decode(payload: &Payload) -> Option<Report> {
        if (payload[0] >> 32) as u32 != RESPONSE_MAGIC {
            return None;
        }
        let outcome = match Outcome::from_code(payload[0] as u16) {
            Some(outcome) => outcome,
            None => return None,
        };
        Some(Report {
            outcome,
            status: (payload[0] >> 16) as u16 as i16,
            handle: payload[1],
            bytes_checked: payload[2],
            first_mismatch: payload[3],
            constituents: payload[4] as u32,
            fragments: (payload[4] >> 32) as u16,
        })
    }
}

pub mod pattern {
    //! The byte patterns of the memory checks: one 64-bit seed names the contents of a whole region.
    //!
    //! The byte at offset `o` of a region (offsets count across all its
    //! constituents, in order) is byte `o % 8` (little-endian) of
    //! [`word(seed, o / 8)`](word), a SplitMix64 mix of the seed and the word
    //! index. Any two seeds give different contents, every word differs from its
    //! neighbours, and a writer and a checker need only agree on the seed —
    //! the normal-world driver computes the same bytes from this module.
    //!
    //! ```
    //! use ffa_abi::memory_check::pattern;
    //!
    //! let mut page = [0u8; 64];
    //! pattern::fill(0x1234, 4096, &mut page);
    //! assert_eq!(pattern::first_mismatch(0x1234, 4096, &page), None);
    //! page[10] ^= 1;
    //! assert_eq!(pattern::first_mismatch(0x1234, 4096, &page), Some(4106));
    //! ```

    /// The pattern word with index `index` (bytes `8 * index .. 8 * index + 8`) of `seed`'s pattern.
    pub const fn word(seed: u64, index: u64) -> u64 {
        let mut mixed =
            seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// The pattern byte at region offset `offset`.
    pub const fn byte(seed: u64, offset: u64) -> u8 {
        word(seed, offset / 8).to_le_bytes()[(offset % 8) as usize]
    }

    /// Fills `bytes` with the pattern as it is at region offset `offset` onwards.
    pub fn fill(seed: u64, offset: u64, bytes: &mut [u8]) {
        let mut position = 0usize;
        while position < bytes.len() {
            let at = offset + position as u64;
            let word = word(seed, at / 8).to_le_bytes();
            let from = (at % 8) as usize;
            let take = (8 - from).min(bytes.len() - position);
            bytes[position..position + take].copy_from_slice(&word[from..from + take]);
            position += take;
        }
    }

    /// The region offset of the first byte of `bytes` (at region offset `offset`
    /// onwards) that differs from the pattern, or `None` if all match.
    pub fn first_mismatch(seed: u64, offset: u64, bytes: &[u8]) -> Option<u64> {
        let mut position = 0usize;
        while position < bytes.len() {
            let at = offset + position as u64;
            let word = word(seed, at / 8).to_le_bytes();
            let from = (at % 8) as usize;
            let take = (8 - from).min(bytes.len() - position);
            if bytes[position..position + take] != word[from..from + take] {
                let within = (0..take)
                    .find(|index| bytes[position + index] != word[from + index])
                    .unwrap_or(0);
                return Some(at + within as u64);
            }
            position += take;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_reports_round_trip() {
        let check = MemoryCheck {
            handle: 0x1_0000_0002,
            check_seed: 3,
            reply_seed: 4,
            tag: 5,
            flags: Flags(Flags::WRITE_REPLY | Flags::EXPECT_LEND),
        };
        assert_eq!(check.encode()[0], 0x5450_434D_0005_0001);
        assert_eq!(
            Request::decode_64(&check.encode()),
            Request::MemoryCheck(check)
        );
        let report = Report::new(Outcome::PatternMismatch, 9);
        assert_eq!(Report::decode(&report.encode()), Some(report));
        assert_eq!(Report::decode(&[0; 5]), None);
        assert_eq!(Request::decode_64(&[1, 2, 3, 4, 5]), Request::Echo);
    }

    #[test]
    fn the_pattern_is_pinned() {
        assert_eq!(pattern::word(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(pattern::byte(0, 7), 0xE2);
        let mut bytes = [0u8; 24];
        pattern::fill(42, 8, &mut bytes);
        assert_eq!(pattern::first_mismatch(42, 8, &bytes), None);
        bytes[3] ^= 1;
        assert_eq!(pattern::first_mismatch(42, 8, &bytes), Some(11));
    }
}
