//! TPM 2.0 wire formats (TPM 2.0 Library, Part 3): the commands measured
//! boot and the console send, built into a buffer, and their responses,
//! parsed strictly. Big-endian throughout. Pure: no hardware, no state.
//!
//! Every parser takes the bytes the transport returned and refuses, with
//! a [`Malformed`] naming what is wrong, anything that is not a well-formed
//! response: a size field that is not the length received, a tag that is
//! not one, fields that run past the end, trailing bytes, more digests
//! than PCRs selected. A response that is well formed but carries a TPM
//! error is [`ResponseError::Tpm`], with its [`ResponseCode`].
//!
//! ```
//! use capsule_tpm::tpm2::{self, PcrIndex};
//!
//! let mut buffer = [0u8; 80];
//! let length = tpm2::pcr_extend(&mut buffer, PcrIndex::new(0).unwrap(), &[0xAB; 32]).unwrap();
//! assert_eq!(length, 65);
//! assert_eq!(&buffer[..10], &[0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82]);
//! let response = [0x80, 0x02, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
//! assert_eq!(tpm2::parse_pcr_extend(&response), Ok(()));
//! ```

/// Size of a command or response header.
pub const HEADER_SIZE: usize = 10;
/// Size of a SHA-256 digest.
pub const SHA256_SIZE: usize = 32;
/// A SHA-256 digest.
pub type Sha256Digest = [u8; SHA256_SIZE];
/// How many PCRs a PC-client TPM has.
pub const PCR_COUNT: usize = 24;
/// Most digests one `TPM2_PCR_Read` response carries (the TPM's limit).
pub const MAXIMUM_PCRS_PER_READ: usize = 8;
/// Most bytes asked of one `TPM2_GetRandom` (a digest's worth; TPMs cap it).
pub const MAXIMUM_RANDOM: usize = 32;

/// `TPM_ST_NO_SESSIONS`.
pub const TAG_NO_SESSIONS: u16 = 0x8001;
/// `TPM_ST_SESSIONS`.
pub const TAG_SESSIONS: u16 = 0x8002;
/// `TPM_ALG_SHA256`.
pub const ALGORITHM_SHA256: u16 = 0x000B;
/// `TPM_RS_PW`, the password session.
pub const PASSWORD_SESSION: u32 = 0x4000_0009;
/// `TPM_CAP_PCRS`.
pub const CAPABILITY_PCRS: u32 = 5;
/// `TPM_CAP_TPM_PROPERTIES`.
pub const CAPABILITY_PROPERTIES: u32 = 6;
/// `TPM_PT_MANUFACTURER`.
pub const PROPERTY_MANUFACTURER: u32 = 0x105;

/// Command codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CommandCode {
    /// `TPM2_Startup`, 0x144.
    Startup,
    /// `TPM2_SelfTest`, 0x143.
    SelfTest,
    /// `TPM2_GetCapability`, 0x17A.
    GetCapability,
    /// `TPM2_GetRandom`, 0x17B.
    GetRandom,
    /// `TPM2_PCR_Read`, 0x17E.
    PcrRead,
    /// `TPM2_PCR_Extend`, 0x182.
    PcrExtend,
}

impl CommandCode {
    /// The 32-bit code.
    pub const fn raw(self) -> u32 {
        match self {
            CommandCode::Startup => 0x144,
            CommandCode::SelfTest => 0x143,
            CommandCode::GetCapability => 0x17A,
            CommandCode::GetRandom => 0x17B,
            CommandCode::PcrRead => 0x17E,
            CommandCode::PcrExtend => 0x182,
        }
    }

    /// The command's name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            CommandCode::Startup => "TPM2_Startup",
            CommandCode::SelfTest => "TPM2_SelfTest",
            CommandCode::GetCapability => "TPM2_GetCapability",
            CommandCode::GetRandom => "TPM2_GetRandom",
            CommandCode::PcrRead => "TPM2_PCR_Read",
            CommandCode::PcrExtend => "TPM2_PCR_Extend",
        }
    }

    /// The code in a command's header, if it is one of these.
    pub fn of_command(command: &[u8]) -> Option<CommandCode> {
        let code = u32::from_be_bytes(command.get(6..10)?.try_into().ok()?);
        [
            CommandCode::Startup,
            CommandCode::SelfTest,
            CommandCode::GetCapability,
            CommandCode::GetRandom,
            CommandCode::PcrRead,
            CommandCode::PcrExtend,
        ]
        .into_iter()
        .find(|candidate| candidate.raw() == code)
    }
}

/// A PCR index (0–23): made only by [`PcrIndex::new`], which refuses the
/// PCRs a TPM does not have, so a command can never name PCR 24.
///
/// ```compile_fail,E0423
/// use capsule_tpm::tpm2::PcrIndex;
/// let pcr = PcrIndex(30); // error: the field is private
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, defmt::Format)]
pub struct PcrIndex(u8);

impl PcrIndex {
    /// PCR `index`, if it exists.
    pub const fn new(index: u8) -> Option<PcrIndex> {
        if (index as usize) < PCR_COUNT {
            Some(PcrIndex(index))
        } else {
            None
        }
    }

    /// Its number.
    pub const fn index(self) -> u8 {
        self.0
    }
}

/// A set of PCRs (bit n: PCR n).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, defmt::Format)]
pub struct PcrSelection(u32);

impl PcrSelection {
    /// No PCR.
    pub const EMPTY: PcrSelection = PcrSelection(0);

    /// This set with `pcr` added.
    pub const fn with(self, pcr: PcrIndex) -> PcrSelection {
        PcrSelection(self.0 | 1 << pcr.0)
    }

    /// This set without `pcr`.
    pub const fn without(self, pcr: PcrIndex) -> PcrSelection {
        PcrSelection(self.0 & !(1 << pcr.0))
    }

    /// Whether `pcr` is in the set.
    pub const fn contains(self, pcr: PcrIndex) -> bool {
        self.0 & (1 << pcr.0) != 0
    }

    /// How many PCRs.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether it is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The PCRs, lowest first.
    pub fn iter(self) -> impl Iterator<Item = PcrIndex> {
        (0..PCR_COUNT as u8)
            .filter(move |index| self.0 & (1 << index) != 0)
            .map(PcrIndex)
    }

    /// The selection's bitmap bytes (`sizeofSelect` = 3).
    const fn bytes(self) -> [u8; 3] {
        [self.0 as u8, (self.0 >> 8) as u8, (self.0 >> 16) as u8]
    }
}

/// A TPM response code (`TPM_RC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ResponseCode(pub u32);

impl ResponseCode {
    /// `TPM_RC_SUCCESS`.
    pub const SUCCESS: ResponseCode = ResponseCode(0);
    /// `TPM_RC_INITIALIZE`: Startup not done yet, or done already.
    pub const INITIALIZE: ResponseCode = ResponseCode(0x100);
    /// `TPM_RC_TESTING`: the self test is still running.
    pub const TESTING: ResponseCode = ResponseCode(0x90A);
    /// `TPM_RC_RETRY`.
    pub const RETRY: ResponseCode = ResponseCode(0x922);
    /// `TPM_RC_CANCELED`.
    pub const CANCELED: ResponseCode = ResponseCode(0x909);

    /// A name for logs: the base code's, without the parameter, handle or
    /// session number of a format-1 code.
    pub const fn name(self) -> &'static str {
        let code = self.0;
        if code & 0x080 != 0 {
            return match code & 0x0BF {
                0x083 => "TPM_RC_HASH",
                0x084 => "TPM_RC_VALUE",
                0x08B => "TPM_RC_HANDLE",
                0x08E => "TPM_RC_AUTH_FAIL",
                0x095 => "TPM_RC_SIZE",
                0x09A => "TPM_RC_INSUFFICIENT",
                _ => "a format-1 error",
            };
        }
        match code {
            0x000 => "TPM_RC_SUCCESS",
            0x01E => "TPM_RC_BAD_TAG",
            0x100 => "TPM_RC_INITIALIZE",
            0x101 => "TPM_RC_FAILURE",
            0x125 => "TPM_RC_AUTH_MISSING",
            0x142 => "TPM_RC_COMMAND_SIZE",
            0x143 => "TPM_RC_COMMAND_CODE",
            0x144 => "TPM_RC_AUTHSIZE",
            0x145 => "TPM_RC_AUTH_CONTEXT",
            0x907 => "TPM_RC_LOCALITY",
            0x909 => "TPM_RC_CANCELED",
            0x90A => "TPM_RC_TESTING",
            0x922 => "TPM_RC_RETRY",
            _ => "a TPM error",
        }
    }
}

/// What is wrong with a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Malformed {
    /// Fewer bytes than a header.
    Truncated,
    /// The tag is neither `TPM_ST_NO_SESSIONS` nor `TPM_ST_SESSIONS`.
    BadTag(u16),
    /// The size field is not the number of bytes received.
    SizeMismatch {
        /// The size field.
        field: u32,
        /// The bytes received.
        received: u32,
    },
    /// A field runs past the end.
    ShortField,
    /// Bytes left after the last field.
    TrailingBytes,
    /// A value the command cannot produce (a digest of the wrong size, more
    /// digests than PCRs selected, a selection of another bank).
    UnexpectedValue,
}

/// Why a response gives no result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ResponseError {
    /// Well formed, but the TPM refused: its response code.
    Tpm(ResponseCode),
    /// Not a well-formed response.
    Malformed(Malformed),
}

impl From<Malformed> for ResponseError {
    fn from(malformed: Malformed) -> ResponseError {
        ResponseError::Malformed(malformed)
    }
}

/// A command being written.
struct CommandWriter<'b> {
    buffer: &'b mut [u8],
    position: usize,
}

impl<'b> CommandWriter<'b> {
    fn new(buffer: &'b mut [u8], tag: u16, code: CommandCode) -> Option<CommandWriter<'b>> {
        let mut writer = CommandWriter {
            buffer,
            position: 0,
        };
        writer.u16(tag)?;
        writer.u32(0)?; // size, filled in by `finish`
        writer.u32(code.raw())?;
        Some(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.position.checked_add(bytes.len())?;
        self.buffer
            .get_mut(self.position..end)?
            .copy_from_slice(bytes);
        self.position = end;
        Some(())
    }

    fn u8(&mut self, value: u8) -> Option<()> {
        self.put(&[value])
    }

    fn u16(&mut self, value: u16) -> Option<()> {
        self.put(&value.to_be_bytes())
    }

    fn u32(&mut self, value: u32) -> Option<()> {
        self.put(&value.to_be_bytes())
    }

    fn finish(self) -> Option<usize> {
        let length = self.position;
        self.buffer[2..6].copy_from_slice(&(length as u32).to_be_bytes());
        Some(length)
    }
}

/// Why a command could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct BufferTooSmall;

fn built(length: Option<usize>) -> Result<usize, BufferTooSmall> {
    length.ok_or(BufferTooSmall)
}

/// `TPM2_Startup(TPM_SU_CLEAR)` (12 bytes).
pub fn startup_clear(buffer: &mut [u8]) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_NO_SESSIONS, CommandCode::Startup)?;
        writer.u16(0)?;
        writer.finish()
    })())
}

/// `TPM2_SelfTest(fullTest)` (11 bytes).
pub fn self_test(buffer: &mut [u8], full: bool) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_NO_SESSIONS, CommandCode::SelfTest)?;
        writer.u8(u8::from(full))?;
        writer.finish()
    })())
}

/// `TPM2_GetCapability(capability, property, count)` (22 bytes).
pub fn get_capability(
    buffer: &mut [u8],
    capability: u32,
    property: u32,
    count: u32,
) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_NO_SESSIONS, CommandCode::GetCapability)?;
        writer.u32(capability)?;
        writer.u32(property)?;
        writer.u32(count)?;
        writer.finish()
    })())
}

/// `TPM2_GetRandom(bytesRequested)` (12 bytes).
pub fn get_random(buffer: &mut [u8], count: u16) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_NO_SESSIONS, CommandCode::GetRandom)?;
        writer.u16(count)?;
        writer.finish()
    })())
}

/// `TPM2_PCR_Read` of `pcrs` in the SHA-256 bank (20 bytes).
pub fn pcr_read(buffer: &mut [u8], pcrs: PcrSelection) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_NO_SESSIONS, CommandCode::PcrRead)?;
        writer.u32(1)?;
        writer.u16(ALGORITHM_SHA256)?;
        writer.u8(3)?;
        writer.put(&pcrs.bytes())?;
        writer.finish()
    })())
}

/// `TPM2_PCR_Extend` of `pcr` with one SHA-256 `digest`, authorised by an
/// empty password session (65 bytes).
pub fn pcr_extend(
    buffer: &mut [u8],
    pcr: PcrIndex,
    digest: &Sha256Digest,
) -> Result<usize, BufferTooSmall> {
    built((|| {
        let mut writer = CommandWriter::new(buffer, TAG_SESSIONS, CommandCode::PcrExtend)?;
        writer.u32(u32::from(pcr.0))?;
        writer.u32(9)?; // authorizationSize
        writer.u32(PASSWORD_SESSION)?;
        writer.u16(0)?; // nonce
        writer.u8(0)?; // sessionAttributes
        writer.u16(0)?; // hmac: the empty password
        writer.u32(1)?; // TPML_DIGEST_VALUES.count
        writer.u16(ALGORITHM_SHA256)?;
        writer.put(digest)?;
        writer.finish()
    })())
}

/// A response being read.
struct ResponseReader<'r> {
    bytes: &'r [u8],
    position: usize,
}

impl<'r> ResponseReader<'r> {
    fn take(&mut self, length: usize) -> Result<&'r [u8], Malformed> {
        let end = self
            .position
            .checked_add(length)
            .ok_or(Malformed::ShortField)?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(Malformed::ShortField)?;
        self.position = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn end(&self) -> Result<(), Malformed> {
        if self.position == self.bytes.len() {
            Ok(())
        } else {
            Err(Malformed::TrailingBytes)
        }
    }
}

/// A response's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ResponseHeader {
    /// The tag.
    pub tag: u16,
    /// The size field (the whole response).
    pub size: u32,
    /// The response code.
    pub code: ResponseCode,
}

/// The header of `response` (exactly the bytes received): the tag must be
/// one, the size field the length. The code is not judged here.
pub fn parse_header(response: &[u8]) -> Result<ResponseHeader, Malformed> {
    if response.len() < HEADER_SIZE {
        return Err(Malformed::Truncated);
    }
    let tag = u16::from_be_bytes([response[0], response[1]]);
    let size = u32::from_be_bytes([response[2], response[3], response[4], response[5]]);
    let code = u32::from_be_bytes([response[6], response[7], response[8], response[9]]);
    if tag != TAG_NO_SESSIONS && tag != TAG_SESSIONS {
        return Err(Malformed::BadTag(tag));
    }
    if size as usize != response.len() {
        return Err(Malformed::SizeMismatch {
            field: size,
            received: response.len() as u32,
        });
    }
    Ok(ResponseHeader {
        tag,
        size,
        code: ResponseCode(code),
    })
}

/// The parameters of a successful response, after its header.
fn success(response: &[u8]) -> Result<ResponseReader<'_>, ResponseError> {
    let header = parse_header(response)?;
    if header.code != ResponseCode::SUCCESS {
        if response.len() != HEADER_SIZE {
            // An error response is a bare header.
            return Err(Malformed::TrailingBytes.into());
        }
        return Err(ResponseError::Tpm(header.code));
    }
    Ok(ResponseReader {
        bytes: response,
        position: HEADER_SIZE,
    })
}

/// A response that carries nothing but its code (`TPM2_Startup`, `TPM2_SelfTest`).
pub fn parse_empty(response: &[u8]) -> Result<(), ResponseError> {
    success(response)?.end().map_err(Into::into)
}

/// A `TPM2_PCR_Extend` response: parameter size 0 and one password
/// session's answer (any session attributes).
pub fn parse_pcr_extend(response: &[u8]) -> Result<(), ResponseError> {
    let mut reader = success(response)?;
    if parse_header(response)?.tag != TAG_SESSIONS {
        return Err(Malformed::UnexpectedValue.into());
    }
    if reader.u32()? != 0 {
        return Err(Malformed::UnexpectedValue.into());
    }
    let nonce = reader.u16()?;
    reader.take(usize::from(nonce))?;
    reader.u8()?;
    let hmac = reader.u16()?;
    reader.take(usize::from(hmac))?;
    reader.end().map_err(Into::into)
}

/// What `TPM2_PCR_Read` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcrValues {
    /// The TPM's PCR update counter.
    pub update_counter: u32,
    /// The PCRs read (the TPM may read fewer than asked).
    pub read: PcrSelection,
    /// Their values, lowest PCR first.
    pub digests: [Sha256Digest; MAXIMUM_PCRS_PER_READ],
}

impl PcrValues {
    /// The value of `pcr`, if it was read.
    pub fn get(&self, pcr: PcrIndex) -> Option<&Sha256Digest> {
        self.read
            .iter()
            .position(|read| read == pcr)
            .map(|position| &self.digests[position])
    }
}

/// A `TPM2_PCR_Read` response to a read of `asked` in the SHA-256 bank.
pub fn parse_pcr_read(response: &[u8], asked: PcrSelection) -> Result<PcrValues, ResponseError> {
    let mut reader = success(response)?;
    let update_counter = reader.u32()?;
    if reader.u32()? != 1 || reader.u16()? != ALGORITHM_SHA256 {
        return Err(Malformed::UnexpectedValue.into());
    }
    let size = usize::from(reader.u8()?);
    let bytes = reader.take(size)?;
    let mut read = PcrSelection::EMPTY;
    for (byte_index, byte) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if byte & (1 << bit) == 0 {
                continue;
            }
            let pcr =
                PcrIndex::new((byte_index * 8 + bit) as u8).ok_or(Malformed::UnexpectedValue)?;
            read = read.with(pcr);
        }
    }
    if read.0 & !asked.0 != 0 || read.len() > MAXIMUM_PCRS_PER_READ {
        return Err(Malformed::UnexpectedValue.into());
    }
    let count = reader.u32()? as usize;
    if count != read.len() {
        return Err(Malformed::UnexpectedValue.into());
    }
    let mut digests = [[0u8; SHA256_SIZE]; MAXIMUM_PCRS_PER_READ];
    for digest in digests.iter_mut().take(count) {
        if usize::from(reader.u16()?) != SHA256_SIZE {
            return Err(Malformed::UnexpectedValue.into());
        }
        digest.copy_from_slice(reader.take(SHA256_SIZE)?);
    }
    reader.end()?;
    Ok(PcrValues {
        update_counter,
        read,
        digests,
    })
}

/// A `TPM2_GetRandom` response: the bytes (at most `asked`), copied into
/// `destination`; returns how many.
pub fn parse_get_random(
    response: &[u8],
    asked: usize,
    destination: &mut [u8],
) -> Result<usize, ResponseError> {
    let mut reader = success(response)?;
    let count = usize::from(reader.u16()?);
    if count > asked || count > destination.len() {
        return Err(Malformed::UnexpectedValue.into());
    }
    destination[..count].copy_from_slice(reader.take(count)?);
    reader.end()?;
    Ok(count)
}

/// The PCR banks a `TPM2_GetCapability(TPM_CAP_PCRS)` response reports:
/// the PCRs of the SHA-256 bank, if it has one, and how many banks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct PcrBanks {
    /// The SHA-256 bank's PCRs, if there is one.
    pub sha256: Option<PcrSelection>,
    /// How many banks are allocated.
    pub banks: u32,
}

/// A `TPM2_GetCapability(TPM_CAP_PCRS)` response.
pub fn parse_pcr_banks(response: &[u8]) -> Result<PcrBanks, ResponseError> {
    let mut reader = success(response)?;
    reader.u8()?; // moreData
    if reader.u32()? != CAPABILITY_PCRS {
        return Err(Malformed::UnexpectedValue.into());
    }
    let banks = reader.u32()?;
    if banks > 16 {
        return Err(Malformed::UnexpectedValue.into());
    }
    let mut sha256 = None;
    for _ in 0..banks {
        let hash = reader.u16()?;
        let size = usize::from(reader.u8()?);
        let bytes = reader.take(size)?;
        if hash == ALGORITHM_SHA256 {
            let mut selection = 0u32;
            for (index, byte) in bytes.iter().take(3).enumerate() {
                selection |= u32::from(*byte) << (8 * index);
            }
            sha256 = Some(PcrSelection(selection));
        }
    }
    reader.end()?;
    Ok(PcrBanks { sha256, banks })
}

/// A `TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES)` response: the value of
/// `property`, if the response lists it.
pub fn parse_property(response: &[u8], property: u32) -> Result<Option<u32>, ResponseError> {
    let mut reader = success(response)?;
    reader.u8()?; // moreData
    if reader.u32()? != CAPABILITY_PROPERTIES {
        return Err(Malformed::UnexpectedValue.into());
    }
    let count = reader.u32()?;
    if count > 256 {
        return Err(Malformed::UnexpectedValue.into());
    }
    let mut value = None;
    for _ in 0..count {
        let tag = reader.u32()?;
        let found = reader.u32()?;
        if tag == property {
            value = Some(found);
        }
    }
    reader.end()?;
    Ok(value)
}
