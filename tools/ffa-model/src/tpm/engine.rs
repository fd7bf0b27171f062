//! A small TPM 2.0 that really computes: the commands a measured boot
//! needs, over one SHA-256 PCR bank of 24 PCRs.
//!
//! | command | code | what it does here |
//! |---|---|---|
//! | `TPM2_Startup` | 0x144 | `TPM_SU_CLEAR`: PCRs 0–16 and 23 to zeros, 17–22 to ones; a second one, or `TPM_SU_STATE` (nothing was saved) is refused |
//! | `TPM2_SelfTest` | 0x143 | passes (there is nothing to test) |
//! | `TPM2_GetCapability` | 0x17A | `TPM_CAP_PCRS` (the SHA-256 bank, all 24 PCRs), `TPM_CAP_TPM_PROPERTIES` (from [`PROPERTIES`]) |
//! | `TPM2_PCR_Read` | 0x17E | the selected SHA-256 PCRs, at most 8 per answer, with the update counter |
//! | `TPM2_PCR_Extend` | 0x182 | `new = SHA-256(old ‖ digest)` for the SHA-256 digest; other allocated-nowhere banks are skipped; one empty-password session (`TPM_RS_PW`) |
//! | `TPM2_GetRandom` | 0x17B | up to 32 bytes from a deterministic DRBG (below) |
//!
//! Anything malformed gets the response code a TPM gives, never a panic:
//! `TPM_RC_BAD_TAG`, `TPM_RC_COMMAND_SIZE` (the size field is not the
//! length received), `TPM_RC_COMMAND_CODE`, `TPM_RC_INITIALIZE` (before
//! `TPM2_Startup`), format-1 codes naming the parameter, handle or session
//! (`TPM_RC_VALUE`, `TPM_RC_HANDLE`, `TPM_RC_HASH`, `TPM_RC_SIZE`,
//! `TPM_RC_INSUFFICIENT`), `TPM_RC_AUTH_MISSING` (an extend without a
//! session), `TPM_RC_AUTHSIZE`, `TPM_RC_LOCALITY` (PCRs 17–22 below
//! locality 2).
//!
//! **GetRandom is not random.** The model's DRBG is SHA-256 in counter
//! mode: block *i* = SHA-256(`"ffa-model TPM2_GetRandom DRBG v1"` ‖ *i* as
//! 8 big-endian bytes), *i* from 0, a stream that starts again at every
//! boot of the model. Deterministic on purpose, so
//! scenarios can check it; a real TPM's DRBG is seeded from its entropy
//! source.

use sha2::{Digest, Sha256};

/// Number of PCRs in the bank.
pub const PCR_COUNT: usize = 24;
/// Size of a SHA-256 digest.
pub const DIGEST_SIZE: usize = 32;
/// Size of a command or response header.
pub const HEADER_SIZE: usize = 10;
/// Most bytes `TPM2_GetRandom` returns at once (the largest digest).
pub const MAXIMUM_RANDOM: usize = DIGEST_SIZE;
/// Most PCRs one `TPM2_PCR_Read` answer carries (as real TPMs limit it).
pub const MAXIMUM_PCRS_PER_READ: usize = 8;

/// The seed string of the model's deterministic DRBG.
pub const DRBG_SEED: &[u8] = b"ffa-model TPM2_GetRandom DRBG v1";

/// Structure tags.
pub mod tag {
    /// `TPM_ST_NO_SESSIONS`.
    pub const NO_SESSIONS: u16 = 0x8001;
    /// `TPM_ST_SESSIONS`.
    pub const SESSIONS: u16 = 0x8002;
}

/// Command codes.
pub mod command_code {
    /// `TPM2_SelfTest`.
    pub const SELF_TEST: u32 = 0x143;
    /// `TPM2_Startup`.
    pub const STARTUP: u32 = 0x144;
    /// `TPM2_GetCapability`.
    pub const GET_CAPABILITY: u32 = 0x17A;
    /// `TPM2_GetRandom`.
    pub const GET_RANDOM: u32 = 0x17B;
    /// `TPM2_PCR_Read`.
    pub const PCR_READ: u32 = 0x17E;
    /// `TPM2_PCR_Extend`.
    pub const PCR_EXTEND: u32 = 0x182;
}

/// Response codes.
pub mod response_code {
    /// `TPM_RC_SUCCESS`.
    pub const SUCCESS: u32 = 0x000;
    /// `TPM_RC_BAD_TAG`.
    pub const BAD_TAG: u32 = 0x01E;
    /// `TPM_RC_INITIALIZE`: Startup missing, or done already.
    pub const INITIALIZE: u32 = 0x100;
    /// `TPM_RC_AUTH_MISSING`.
    pub const AUTH_MISSING: u32 = 0x125;
    /// `TPM_RC_COMMAND_SIZE`.
    pub const COMMAND_SIZE: u32 = 0x142;
    /// `TPM_RC_COMMAND_CODE`.
    pub const COMMAND_CODE: u32 = 0x143;
    /// `TPM_RC_AUTHSIZE`.
    pub const AUTHSIZE: u32 = 0x144;
    /// `TPM_RC_AUTH_CONTEXT`.
    pub const AUTH_CONTEXT: u32 = 0x145;
    /// `TPM_RC_LOCALITY` (a warning).
    pub const LOCALITY: u32 = 0x907;
    /// `TPM_RC_CANCELED` (a warning).
    pub const CANCELED: u32 = 0x909;
    /// Format-1 `TPM_RC_HASH`.
    pub const HASH: u32 = 0x083;
    /// Format-1 `TPM_RC_VALUE`.
    pub const VALUE: u32 = 0x084;
    /// Format-1 `TPM_RC_HANDLE`.
    pub const HANDLE: u32 = 0x08B;
    /// Format-1 `TPM_RC_AUTH_FAIL`.
    pub const AUTH_FAIL: u32 = 0x08E;
    /// Format-1 `TPM_RC_SIZE`.
    pub const SIZE: u32 = 0x095;
    /// Format-1 `TPM_RC_INSUFFICIENT`.
    pub const INSUFFICIENT: u32 = 0x09A;

    /// A format-1 code about parameter `number` (1–15).
    pub const fn parameter(code: u32, number: u32) -> u32 {
        code | 0x040 | (number << 8)
    }

    /// A format-1 code about handle `number` (1–7).
    pub const fn handle(code: u32, number: u32) -> u32 {
        code | (number << 8)
    }

    /// A format-1 code about session `number` (1–7).
    pub const fn session(code: u32, number: u32) -> u32 {
        code | 0x800 | (number << 8)
    }
}

/// Algorithm IDs.
pub mod algorithm {
    /// `TPM_ALG_SHA1`.
    pub const SHA1: u16 = 0x0004;
    /// `TPM_ALG_SHA256`.
    pub const SHA256: u16 = 0x000B;
    /// `TPM_ALG_SHA384`.
    pub const SHA384: u16 = 0x000C;
    /// `TPM_ALG_SHA512`.
    pub const SHA512: u16 = 0x000D;

    /// The digest size of hash `algorithm`, if the model knows it.
    pub const fn digest_size(algorithm: u16) -> Option<usize> {
        match algorithm {
            SHA1 => Some(20),
            SHA256 => Some(32),
            SHA384 => Some(48),
            SHA512 => Some(64),
            _ => None,
        }
    }
}

/// Capabilities.
pub mod capability {
    /// `TPM_CAP_PCRS`.
    pub const PCRS: u32 = 5;
    /// `TPM_CAP_TPM_PROPERTIES`.
    pub const TPM_PROPERTIES: u32 = 6;
}

/// `TPM_RS_PW`: the password session.
pub const PASSWORD_SESSION: u32 = 0x4000_0009;

/// The fixed properties `TPM_CAP_TPM_PROPERTIES` reports, in property order.
pub const PROPERTIES: [(u32, u32); 9] = [
    (0x100, 0x322E_3000), // TPM_PT_FAMILY_INDICATOR: "2.0"
    (0x101, 0),           // TPM_PT_LEVEL
    (0x102, 159),         // TPM_PT_REVISION: 1.59
    (0x105, 0x4646_414D), // TPM_PT_MANUFACTURER: "FFAM" (the FF-A model)
    (0x106, 0x4D4F_4445), // TPM_PT_VENDOR_STRING_1: "MODE"
    (0x107, 0x4C20_5450), // TPM_PT_VENDOR_STRING_2: "L TP"
    (0x108, 0x4D00_0000), // TPM_PT_VENDOR_STRING_3: "M"
    (0x112, 24),          // TPM_PT_PCR_COUNT
    (0x116, 32),          // TPM_PT_MAX_DIGEST
];

/// The TPM's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tpm2 {
    started: bool,
    self_tested: bool,
    pcrs: [[u8; DIGEST_SIZE]; PCR_COUNT],
    update_counter: u32,
    drbg_block: u64,
    drbg_used: usize,
}

impl Default for Tpm2 {
    fn default() -> Self {
        Self::new()
    }
}

/// A big-endian reader over a command.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], position: usize) -> Reader<'a> {
        Reader { bytes, position }
    }

    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        let end = self.position.checked_add(length)?;
        let slice = self.bytes.get(self.position..end)?;
        self.position = end;
        Some(slice)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|bytes| bytes[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2)
            .map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|bytes| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn is_done(&self) -> bool {
        self.position == self.bytes.len()
    }
}

/// A big-endian writer into a response.
struct Writer<'a> {
    bytes: &'a mut [u8],
    position: usize,
    overflowed: bool,
}

impl<'a> Writer<'a> {
    fn new(bytes: &'a mut [u8]) -> Writer<'a> {
        Writer {
            bytes,
            position: HEADER_SIZE,
            overflowed: false,
        }
    }

    fn put(&mut self, data: &[u8]) {
        match self
            .position
            .checked_add(data.len())
            .filter(|end| *end <= self.bytes.len())
        {
            Some(end) => {
                self.bytes[self.position..end].copy_from_slice(data);
                self.position = end;
            }
            None => self.overflowed = true,
        }
    }

    fn u8(&mut self, value: u8) {
        self.put(&[value]);
    }

    fn u16(&mut self, value: u16) {
        self.put(&value.to_be_bytes());
    }

    fn u32(&mut self, value: u32) {
        self.put(&value.to_be_bytes());
    }
}

/// Why a command was refused: its response code.
type Refusal = u32;

/// Writes an error response (10 bytes, `TPM_ST_NO_SESSIONS`) into `response`.
fn error_response(response: &mut [u8], code: u32) -> usize {
    if response.len() < HEADER_SIZE {
        return 0;
    }
    response[0..2].copy_from_slice(&tag::NO_SESSIONS.to_be_bytes());
    response[2..6].copy_from_slice(&(HEADER_SIZE as u32).to_be_bytes());
    response[6..10].copy_from_slice(&code.to_be_bytes());
    HEADER_SIZE
}

impl Tpm2 {
    /// A TPM that has not seen `TPM2_Startup`.
    pub const fn new() -> Tpm2 {
        Tpm2 {
            started: false,
            self_tested: false,
            pcrs: [[0; DIGEST_SIZE]; PCR_COUNT],
            update_counter: 0,
            drbg_block: 0,
            drbg_used: DIGEST_SIZE,
        }
    }

    /// Whether `TPM2_Startup` succeeded.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Whether `TPM2_SelfTest` ran.
    pub fn is_self_tested(&self) -> bool {
        self.self_tested
    }

    /// PCR `index` of the SHA-256 bank.
    pub fn pcr(&self, index: usize) -> Option<[u8; DIGEST_SIZE]> {
        self.pcrs.get(index).copied()
    }

    /// The PCR update counter (extends so far).
    pub fn update_counter(&self) -> u32 {
        self.update_counter
    }

    /// Executes `command` from `locality` and writes the response into
    /// `response` (at least [`HEADER_SIZE`] bytes); returns its length.
    pub fn execute(&mut self, command: &[u8], locality: u8, response: &mut [u8]) -> usize {
        match self.dispatch(command, locality, response) {
            Ok(length) => length,
            Err(code) => error_response(response, code),
        }
    }

    fn dispatch(
        &mut self,
        command: &[u8],
        locality: u8,
        response: &mut [u8],
    ) -> Result<usize, Refusal> {
        let mut reader = Reader::new(command, 0);
        let (Some(command_tag), Some(size), Some(code)) =
            (reader.u16(), reader.u32(), reader.u32())
        else {
            return Err(response_code::COMMAND_SIZE);
        };
        if command_tag != tag::NO_SESSIONS && command_tag != tag::SESSIONS {
            return Err(response_code::BAD_TAG);
        }
        if size as usize != command.len() {
            return Err(response_code::COMMAND_SIZE);
        }
        let known = matches!(
            code,
            command_code::STARTUP
                | command_code::SELF_TEST
                | command_code::GET_CAPABILITY
                | command_code::GET_RANDOM
                | command_code::PCR_READ
                | command_code::PCR_EXTEND
        );
        if !known {
            return Err(response_code::COMMAND_CODE);
        }
        if !self.started && code != command_code::STARTUP {
            return Err(response_code::INITIALIZE);
        }
        let sessions = command_tag == tag::SESSIONS;
        if sessions && code != command_code::PCR_EXTEND {
            // None of the other commands here takes an authorisation.
            return Err(response_code::BAD_TAG);
        }
        let mut writer = Writer::new(response);
        let response_tag = match code {
            command_code::STARTUP => self.startup(&mut reader)?,
            command_code::SELF_TEST => self.self_test(&mut reader)?,
            command_code::GET_CAPABILITY => self.get_capability(&mut reader, &mut writer)?,
            command_code::GET_RANDOM => self.get_random(&mut reader, &mut writer)?,
            command_code::PCR_READ => self.pcr_read(&mut reader, &mut writer)?,
            _ => self.pcr_extend(&mut reader, &mut writer, sessions, locality)?,
        };
        if writer.overflowed {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        let length = writer.position;
        let bytes = writer.bytes;
        bytes[0..2].copy_from_slice(&response_tag.to_be_bytes());
        bytes[2..6].copy_from_slice(&(length as u32).to_be_bytes());
        bytes[6..10].copy_from_slice(&response_code::SUCCESS.to_be_bytes());
        Ok(length)
    }

    fn startup(&mut self, reader: &mut Reader<'_>) -> Result<u16, Refusal> {
        let kind = reader
            .u16()
            .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        if self.started {
            return Err(response_code::INITIALIZE);
        }
        if kind != 0 {
            // TPM_SU_STATE needs a saved state; this TPM never saved one.
            return Err(response_code::parameter(response_code::VALUE, 1));
        }
        for (index, pcr) in self.pcrs.iter_mut().enumerate() {
            *pcr = if (17..=22).contains(&index) {
                [0xFF; DIGEST_SIZE]
            } else {
                [0; DIGEST_SIZE]
            };
        }
        self.update_counter = 0;
        self.started = true;
        Ok(tag::NO_SESSIONS)
    }

    fn self_test(&mut self, reader: &mut Reader<'_>) -> Result<u16, Refusal> {
        let full = reader
            .u8()
            .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        if full > 1 {
            return Err(response_code::parameter(response_code::VALUE, 1));
        }
        self.self_tested = true;
        Ok(tag::NO_SESSIONS)
    }

    fn get_capability(
        &mut self,
        reader: &mut Reader<'_>,
        writer: &mut Writer<'_>,
    ) -> Result<u16, Refusal> {
        let (Some(which), Some(property), Some(count)) = (reader.u32(), reader.u32(), reader.u32())
        else {
            return Err(response_code::parameter(response_code::INSUFFICIENT, 1));
        };
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        match which {
            capability::PCRS => {
                writer.u8(0); // moreData
                writer.u32(capability::PCRS);
                writer.u32(1);
                writer.u16(algorithm::SHA256);
                writer.u8(3);
                writer.put(&[0xFF, 0xFF, 0xFF]);
            }
            capability::TPM_PROPERTIES => {
                let matching = PROPERTIES.iter().filter(|(tag, _)| *tag >= property);
                let available = matching.clone().count();
                let given = available.min(count as usize);
                writer.u8(u8::from(given < available));
                writer.u32(capability::TPM_PROPERTIES);
                writer.u32(given as u32);
                for (tag, value) in matching.take(given) {
                    writer.u32(*tag);
                    writer.u32(*value);
                }
            }
            _ => return Err(response_code::parameter(response_code::VALUE, 1)),
        }
        Ok(tag::NO_SESSIONS)
    }

    fn get_random(
        &mut self,
        reader: &mut Reader<'_>,
        writer: &mut Writer<'_>,
    ) -> Result<u16, Refusal> {
        let requested = reader
            .u16()
            .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        let count = usize::from(requested).min(MAXIMUM_RANDOM);
        let mut bytes = [0u8; MAXIMUM_RANDOM];
        for byte in bytes.iter_mut().take(count) {
            *byte = self.next_random_byte();
        }
        writer.u16(count as u16);
        writer.put(&bytes[..count]);
        Ok(tag::NO_SESSIONS)
    }

    fn next_random_byte(&mut self) -> u8 {
        if self.drbg_used == DIGEST_SIZE {
            self.drbg_block += 1;
            self.drbg_used = 0;
        }
        let mut hasher = Sha256::new();
        hasher.update(DRBG_SEED);
        hasher.update((self.drbg_block - 1).to_be_bytes());
        let block: [u8; DIGEST_SIZE] = hasher.finalize().into();
        let byte = block[self.drbg_used];
        self.drbg_used += 1;
        byte
    }

    fn pcr_read(
        &mut self,
        reader: &mut Reader<'_>,
        writer: &mut Writer<'_>,
    ) -> Result<u16, Refusal> {
        let selections = reader
            .u32()
            .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
        if selections > 16 {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        // What was read: (hash, select bytes) per selection, and the PCRs.
        let mut read_selections = [(0u16, 0u8, [0u8; 4]); 16];
        let mut indices = [0usize; MAXIMUM_PCRS_PER_READ];
        let mut read = 0usize;
        for slot in read_selections.iter_mut().take(selections as usize) {
            let (Some(hash), Some(size)) = (reader.u16(), reader.u8()) else {
                return Err(response_code::parameter(response_code::INSUFFICIENT, 1));
            };
            if size > 4 {
                return Err(response_code::parameter(response_code::VALUE, 1));
            }
            let select = reader
                .take(usize::from(size))
                .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
            if algorithm::digest_size(hash).is_none() {
                return Err(response_code::parameter(response_code::HASH, 1));
            }
            let mut granted = [0u8; 4];
            if hash == algorithm::SHA256 {
                for (byte, bits) in select.iter().enumerate() {
                    for bit in 0..8 {
                        let index = byte * 8 + bit;
                        if bits & (1 << bit) != 0 && index < PCR_COUNT && read < indices.len() {
                            indices[read] = index;
                            read += 1;
                            granted[byte] |= 1 << bit;
                        }
                    }
                }
            }
            *slot = (hash, size, granted);
        }
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        writer.u32(self.update_counter);
        writer.u32(selections);
        for (hash, size, granted) in read_selections.iter().take(selections as usize) {
            writer.u16(*hash);
            writer.u8(*size);
            writer.put(&granted[..usize::from(*size)]);
        }
        writer.u32(read as u32);
        for index in &indices[..read] {
            writer.u16(DIGEST_SIZE as u16);
            writer.put(&self.pcrs[*index]);
        }
        Ok(tag::NO_SESSIONS)
    }

    fn pcr_extend(
        &mut self,
        reader: &mut Reader<'_>,
        writer: &mut Writer<'_>,
        sessions: bool,
        locality: u8,
    ) -> Result<u16, Refusal> {
        let handle = reader
            .u32()
            .ok_or(response_code::handle(response_code::VALUE, 1))?;
        if !sessions {
            return Err(response_code::AUTH_MISSING);
        }
        let index = handle as usize;
        if index >= PCR_COUNT {
            return Err(response_code::handle(response_code::HANDLE, 1));
        }
        let authorization_size = reader.u32().ok_or(response_code::AUTHSIZE)? as usize;
        let start = reader.position;
        let session = reader.u32().ok_or(response_code::AUTHSIZE)?;
        if session != PASSWORD_SESSION {
            return Err(response_code::AUTH_CONTEXT);
        }
        let nonce = reader.u16().ok_or(response_code::AUTHSIZE)?;
        reader
            .take(usize::from(nonce))
            .ok_or(response_code::AUTHSIZE)?;
        reader.u8().ok_or(response_code::AUTHSIZE)?;
        let password = reader.u16().ok_or(response_code::AUTHSIZE)?;
        reader
            .take(usize::from(password))
            .ok_or(response_code::AUTHSIZE)?;
        if reader.position - start != authorization_size {
            return Err(response_code::AUTHSIZE);
        }
        if password != 0 {
            // The PCRs' authorisation value is empty.
            return Err(response_code::session(response_code::AUTH_FAIL, 1));
        }
        let count = reader
            .u32()
            .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
        if count > 16 {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        let mut sha256 = None;
        for _ in 0..count {
            let hash = reader
                .u16()
                .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
            let size = algorithm::digest_size(hash)
                .ok_or(response_code::parameter(response_code::HASH, 1))?;
            let digest = reader
                .take(size)
                .ok_or(response_code::parameter(response_code::INSUFFICIENT, 1))?;
            if hash == algorithm::SHA256 {
                sha256 = Some(digest);
            }
        }
        if !reader.is_done() {
            return Err(response_code::parameter(response_code::SIZE, 1));
        }
        if (17..=22).contains(&index) && locality < 2 {
            return Err(response_code::LOCALITY);
        }
        if let Some(digest) = sha256 {
            let mut hasher = Sha256::new();
            hasher.update(self.pcrs[index]);
            hasher.update(digest);
            self.pcrs[index] = hasher.finalize().into();
            self.update_counter = self.update_counter.wrapping_add(1);
        }
        writer.u32(0); // parameterSize
        writer.u16(0); // nonceTPM
        writer.u8(0x01); // sessionAttributes: continueSession
        writer.u16(0); // hmac
        Ok(tag::SESSIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn command(tag: u16, code: u32, body: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&tag.to_be_bytes());
        bytes.extend_from_slice(&((HEADER_SIZE + body.len()) as u32).to_be_bytes());
        bytes.extend_from_slice(&code.to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    fn run(tpm: &mut Tpm2, bytes: &[u8]) -> Vec<u8> {
        let mut response = [0u8; 512];
        let length = tpm.execute(bytes, 0, &mut response);
        response[..length].to_vec()
    }

    fn code_of(response: &[u8]) -> u32 {
        u32::from_be_bytes(response[6..10].try_into().unwrap())
    }

    #[test]
    fn startup_once_then_initialize() {
        let mut tpm = Tpm2::new();
        let read = command(tag::NO_SESSIONS, command_code::GET_RANDOM, &[0, 4]);
        assert_eq!(code_of(&run(&mut tpm, &read)), response_code::INITIALIZE);
        let startup = command(tag::NO_SESSIONS, command_code::STARTUP, &[0, 0]);
        assert_eq!(
            run(&mut tpm, &startup),
            [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0]
        );
        assert_eq!(code_of(&run(&mut tpm, &startup)), response_code::INITIALIZE);
        assert_eq!(tpm.pcr(17), Some([0xFF; 32]));
        assert_eq!(tpm.pcr(0), Some([0; 32]));
    }

    #[test]
    fn malformed_headers_get_codes() {
        let mut tpm = Tpm2::new();
        assert_eq!(
            code_of(&run(&mut tpm, &[0x80])),
            response_code::COMMAND_SIZE
        );
        let mut startup = command(tag::NO_SESSIONS, command_code::STARTUP, &[0, 0]);
        startup[5] = 13;
        assert_eq!(
            code_of(&run(&mut tpm, &startup)),
            response_code::COMMAND_SIZE
        );
        let bad_tag = command(0x1234, command_code::STARTUP, &[0, 0]);
        assert_eq!(code_of(&run(&mut tpm, &bad_tag)), response_code::BAD_TAG);
        let unknown = command(tag::NO_SESSIONS, 0x1FF, &[]);
        assert_eq!(
            code_of(&run(&mut tpm, &unknown)),
            response_code::COMMAND_CODE
        );
        let mut tiny = [0u8; 4];
        assert_eq!(
            tpm.execute(&unknown, 0, &mut tiny),
            0,
            "no room for a header"
        );
    }
}
