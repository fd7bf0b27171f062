//! The TCG crypto-agile event log (TCG PC Client Platform Firmware Profile,
//! as TF-A writes it and `tpm2_eventlog` reads it), in a buffer the caller
//! lends (a static one in the kernel): little-endian throughout.
//!
//! The log starts with the Spec ID event, a `TCG_PCR_EVENT` in the SHA-1
//! format (PCR 0, `EV_NO_ACTION`, a zero 20-byte digest) whose data is the
//! `TCG_EfiSpecIDEvent`: signature `"Spec ID Event03\0"`, platform class 0
//! (client), spec version 2.0 errata 2, `uintnSize` 1, one algorithm
//! (SHA-256, 32 bytes), no vendor data: 32 + 33 = 65 bytes. Every later
//! event is a `TCG_PCR_EVENT2`: PCR index, event type, one digest (count
//! 1, SHA-256), the event data's size and the data: 50 bytes plus the data.
//! The log is exactly the bytes written ([`EventLog::bytes`]): no padding,
//! which parsers refuse.
//!
//! [`events`] reads a log back (every field checked against the buffer:
//! the reader of a log in host tests, the console and replay) and
//! [`replay`] computes the PCR values it implies.
//!
//! ```
//! use capsule_tpm::event_log::{self, EventLog, EV_SEPARATOR};
//! use capsule_tpm::tpm2::PcrIndex;
//!
//! let mut buffer = [0u8; 256];
//! let mut log = EventLog::new(&mut buffer).unwrap();
//! assert_eq!(log.bytes().len(), 65);
//! let digest = event_log::sha256(&[0, 0, 0, 0]);
//! log.append(PcrIndex::new(0).unwrap(), EV_SEPARATOR, &digest, &[0, 0, 0, 0]).unwrap();
//! assert_eq!(log.bytes().len(), 65 + 50 + 4);
//! let pcrs = event_log::replay(log.bytes()).unwrap();
//! assert_eq!(pcrs.values[0][..4], [0x3d, 0x45, 0x8c, 0xfe]);
//! ```

use crate::tpm2::{PcrIndex, PcrSelection, Sha256Digest, ALGORITHM_SHA256, PCR_COUNT, SHA256_SIZE};
use sha2::{Digest, Sha256};

/// `EV_POST_CODE`.
pub const EV_POST_CODE: u32 = 0x1;
/// `EV_NO_ACTION`: recorded, never extended; digests are zero.
pub const EV_NO_ACTION: u32 = 0x3;
/// `EV_SEPARATOR`.
pub const EV_SEPARATOR: u32 = 0x4;
/// `EV_NONHOST_CONFIG`: configuration of a component that is not the host
/// (a secure partition's discovery data).
pub const EV_NONHOST_CONFIG: u32 = 0x10;
/// `EV_EFI_PLATFORM_FIRMWARE_BLOB2`: data = description size (u8), the
/// description, base (u64), length (u64).
pub const EV_EFI_PLATFORM_FIRMWARE_BLOB2: u32 = 0x8000_000A;

/// The name of event type `event_type`, for logs.
pub const fn event_type_name(event_type: u32) -> &'static str {
    match event_type {
        EV_POST_CODE => "EV_POST_CODE",
        EV_NO_ACTION => "EV_NO_ACTION",
        EV_SEPARATOR => "EV_SEPARATOR",
        EV_NONHOST_CONFIG => "EV_NONHOST_CONFIG",
        EV_EFI_PLATFORM_FIRMWARE_BLOB2 => "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
        _ => "EV_(other)",
    }
}

/// The Spec ID event's signature.
pub const SPEC_ID_SIGNATURE: [u8; 16] = *b"Spec ID Event03\0";
/// Size of the Spec ID event's data with one algorithm and no vendor data.
pub const SPEC_ID_DATA_SIZE: usize = 33;
/// Size of the whole first event.
pub const SPEC_ID_EVENT_SIZE: usize = 32 + SPEC_ID_DATA_SIZE;
/// Size of a `TCG_PCR_EVENT2` with one SHA-256 digest, before its data.
pub const EVENT2_HEADER_SIZE: usize = 4 + 4 + 4 + 2 + SHA256_SIZE + 4;

/// SHA-256 in pieces, for every hash the capsule computes (the image's
/// segments, events, the replay): one copy of the hash's code, not one
/// inlined at each use.
pub struct Hasher(Sha256);

impl Hasher {
    /// A hash of nothing yet.
    #[inline(never)]
    pub fn new() -> Hasher {
        Hasher(Sha256::new())
    }

    /// Hashes `data` next.
    #[inline(never)]
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything given.
    #[inline(never)]
    pub fn finish(self) -> Sha256Digest {
        self.0.finalize().into()
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Sha256Digest {
    let mut hasher = Hasher::new();
    hasher.update(data);
    hasher.finish()
}

/// Why the log could not take an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct LogFull;

/// A log being written, in a lent buffer.
pub struct EventLog<'b> {
    buffer: &'b mut [u8],
    length: usize,
    events: usize,
}

impl<'b> EventLog<'b> {
    /// A log in `buffer`, holding its Spec ID event; `Err` if the buffer
    /// cannot hold even that.
    pub fn new(buffer: &'b mut [u8]) -> Result<EventLog<'b>, LogFull> {
        if buffer.len() < SPEC_ID_EVENT_SIZE {
            return Err(LogFull);
        }
        let event = &mut buffer[..SPEC_ID_EVENT_SIZE];
        event.fill(0);
        event[4..8].copy_from_slice(&EV_NO_ACTION.to_le_bytes());
        // 8..28: the zero SHA-1 digest.
        event[28..32].copy_from_slice(&(SPEC_ID_DATA_SIZE as u32).to_le_bytes());
        let data = &mut event[32..];
        data[0..16].copy_from_slice(&SPEC_ID_SIGNATURE);
        // 16..20: platform class 0 (client).
        data[20] = 0; // spec version minor
        data[21] = 2; // spec version major
        data[22] = 2; // errata
        data[23] = 1; // uintnSize: UINT32
        data[24..28].copy_from_slice(&1u32.to_le_bytes());
        data[28..30].copy_from_slice(&ALGORITHM_SHA256.to_le_bytes());
        data[30..32].copy_from_slice(&(SHA256_SIZE as u16).to_le_bytes());
        // 32: vendorInfoSize 0.
        Ok(EventLog {
            buffer,
            length: SPEC_ID_EVENT_SIZE,
            events: 0,
        })
    }

    /// Appends an event; returns its number (0 for the first after the Spec ID event).
    pub fn append(
        &mut self,
        pcr: PcrIndex,
        event_type: u32,
        digest: &Sha256Digest,
        data: &[u8],
    ) -> Result<usize, LogFull> {
        let size = EVENT2_HEADER_SIZE.checked_add(data.len()).ok_or(LogFull)?;
        let end = self.length.checked_add(size).ok_or(LogFull)?;
        let event = self.buffer.get_mut(self.length..end).ok_or(LogFull)?;
        event[0..4].copy_from_slice(&u32::from(pcr.index()).to_le_bytes());
        event[4..8].copy_from_slice(&event_type.to_le_bytes());
        event[8..12].copy_from_slice(&1u32.to_le_bytes());
        event[12..14].copy_from_slice(&ALGORITHM_SHA256.to_le_bytes());
        if event_type == EV_NO_ACTION {
            event[14..46].fill(0);
        } else {
            event[14..46].copy_from_slice(digest);
        }
        event[46..50].copy_from_slice(&(data.len() as u32).to_le_bytes());
        event[50..].copy_from_slice(data);
        self.length = end;
        self.events += 1;
        Ok(self.events - 1)
    }

    /// The log as written: exactly its events.
    pub fn bytes(&self) -> &[u8] {
        &self.buffer[..self.length]
    }

    /// How many events follow the Spec ID event.
    pub fn event_count(&self) -> usize {
        self.events
    }

    /// How many bytes are free.
    pub fn free(&self) -> usize {
        self.buffer.len() - self.length
    }
}

/// What is wrong with a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum LogError {
    /// The first event is not a Spec ID event this reader knows (SHA-256 only).
    BadSpecId,
    /// An event runs past the end of the log.
    Truncated,
    /// An event has another digest count or algorithm than the Spec ID event says.
    BadDigests,
    /// A PCR index above 23.
    BadPcr,
    /// An `EV_NO_ACTION` event with a non-zero digest.
    NoActionDigest,
}

/// One event of a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'l> {
    /// Its number (0 for the first after the Spec ID event).
    pub number: usize,
    /// Its offset in the log.
    pub offset: usize,
    /// The PCR.
    pub pcr: PcrIndex,
    /// The event type.
    pub event_type: u32,
    /// The SHA-256 digest.
    pub digest: Sha256Digest,
    /// The event data.
    pub data: &'l [u8],
}

fn word(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(offset..offset + 4)?.try_into().ok()?,
    ))
}

/// Checks the Spec ID event at the start of `log`; returns where the
/// events after it start.
fn spec_id(log: &[u8]) -> Result<usize, LogError> {
    let header = log.get(..32).ok_or(LogError::BadSpecId)?;
    if word(header, 0) != Some(0)
        || word(header, 4) != Some(EV_NO_ACTION)
        || header[8..28].iter().any(|byte| *byte != 0)
    {
        return Err(LogError::BadSpecId);
    }
    let size = word(header, 28).ok_or(LogError::BadSpecId)? as usize;
    let end = 32usize.checked_add(size).ok_or(LogError::BadSpecId)?;
    let data = log.get(32..end).ok_or(LogError::BadSpecId)?;
    if size < SPEC_ID_DATA_SIZE
        || data[0..16] != SPEC_ID_SIGNATURE
        || word(data, 24) != Some(1)
        || data[28..30] != ALGORITHM_SHA256.to_le_bytes()
        || data[30..32] != (SHA256_SIZE as u16).to_le_bytes()
        || 33 + usize::from(data[32]) != size
    {
        return Err(LogError::BadSpecId);
    }
    Ok(end)
}

/// The events of `log` after its Spec ID event, each checked; stops at the
/// first error (yielded) or at the end.
pub fn events(log: &[u8]) -> impl Iterator<Item = Result<Event<'_>, LogError>> {
    let mut position = spec_id(log);
    let mut number = 0;
    core::iter::from_fn(move || {
        let offset = match position {
            Err(error) => {
                position = Ok(log.len());
                return Some(Err(error));
            }
            Ok(offset) if offset == log.len() => return None,
            Ok(offset) => offset,
        };
        let parsed = parse_event(log, offset, number);
        match parsed {
            Ok((event, end)) => {
                position = Ok(end);
                number += 1;
                Some(Ok(event))
            }
            Err(error) => {
                position = Ok(log.len());
                Some(Err(error))
            }
        }
    })
}

fn parse_event(log: &[u8], offset: usize, number: usize) -> Result<(Event<'_>, usize), LogError> {
    let header = log
        .get(offset..offset + EVENT2_HEADER_SIZE)
        .ok_or(LogError::Truncated)?;
    let pcr = word(header, 0).ok_or(LogError::Truncated)?;
    let event_type = word(header, 4).ok_or(LogError::Truncated)?;
    if word(header, 8) != Some(1) || header[12..14] != ALGORITHM_SHA256.to_le_bytes() {
        return Err(LogError::BadDigests);
    }
    let pcr = u8::try_from(pcr)
        .ok()
        .and_then(PcrIndex::new)
        .ok_or(LogError::BadPcr)?;
    let mut digest = [0u8; SHA256_SIZE];
    digest.copy_from_slice(&header[14..46]);
    if event_type == EV_NO_ACTION && digest != [0; SHA256_SIZE] {
        return Err(LogError::NoActionDigest);
    }
    let size = word(header, 46).ok_or(LogError::Truncated)? as usize;
    let start = offset + EVENT2_HEADER_SIZE;
    let end = start.checked_add(size).ok_or(LogError::Truncated)?;
    let data = log.get(start..end).ok_or(LogError::Truncated)?;
    Ok((
        Event {
            number,
            offset,
            pcr,
            event_type,
            digest,
            data,
        },
        end,
    ))
}

/// The PCR values a log implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replay {
    /// Every PCR's value: the reset value (zeros; ones for 17–22) extended
    /// with the digest of each event in it, in order.
    pub values: [Sha256Digest; PCR_COUNT],
    /// The PCRs some event extended.
    pub extended: PcrSelection,
    /// How many events were replayed (`EV_NO_ACTION` ones are not extended).
    pub events: usize,
}

/// Replays `log`: the PCR values after `TPM2_Startup(CLEAR)` and every
/// event's extend, in order.
pub fn replay(log: &[u8]) -> Result<Replay, LogError> {
    let mut values = [[0u8; SHA256_SIZE]; PCR_COUNT];
    for value in values.iter_mut().take(23).skip(17) {
        *value = [0xFF; SHA256_SIZE];
    }
    let mut extended = PcrSelection::EMPTY;
    let mut count = 0;
    for event in events(log) {
        let event = event?;
        count += 1;
        if event.event_type == EV_NO_ACTION {
            continue;
        }
        let value = &mut values[usize::from(event.pcr.index())];
        let mut hasher = Hasher::new();
        hasher.update(value);
        hasher.update(&event.digest);
        *value = hasher.finish();
        extended = extended.with(event.pcr);
    }
    Ok(Replay {
        values,
        extended,
        events: count,
    })
}

/// The data of an `EV_EFI_PLATFORM_FIRMWARE_BLOB2` event for a segment
/// described as `description` at `base`, `length` bytes long, written into
/// `destination`; returns its size.
pub fn firmware_blob2(description: &[u8], base: u64, length: u64, destination: &mut [u8]) -> usize {
    let description = &description[..description
        .len()
        .min(255)
        .min(destination.len().saturating_sub(17))];
    let size = 1 + description.len() + 16;
    destination[0] = description.len() as u8;
    destination[1..1 + description.len()].copy_from_slice(description);
    destination[1 + description.len()..9 + description.len()].copy_from_slice(&base.to_le_bytes());
    destination[9 + description.len()..size].copy_from_slice(&length.to_le_bytes());
    size
}
