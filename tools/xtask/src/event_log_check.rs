//! The measured-boot check of every scenario whose kernel printed its TCG
//! event log: the log is put back together from its `measured-boot: log`
//! lines, decoded here per the TCG PC Client crypto-agile layout (not with
//! the kernel's code), replayed with SHA-256, and compared with
//!
//! - the PCR values the kernel read back from the TPM and reported
//!   (`measured-boot report: PCR n = ...`);
//! - the kernel image: the digests of the `kernel .text` and `kernel
//!   .rodata` events must be SHA-256 of those ranges of the ELF file that
//!   was booted (from its `__el2_text_start`, `__text_end`,
//!   `__rodata_start`, `__rodata_end` symbols);
//! - `tpm2_eventlog` (tpm2-tools), if it is installed: it must parse the
//!   log and replay it to the same PCR values.
//!
//! The log is also saved as `eventlog.bin` beside the scenario's log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};
use sha2::{Digest, Sha256};

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The PCR.
    pub pcr: u32,
    /// The event type.
    pub event_type: u32,
    /// The SHA-256 digest.
    pub digest: [u8; 32],
    /// The event data.
    pub data: Vec<u8>,
}

/// `EV_NO_ACTION`.
const EV_NO_ACTION: u32 = 3;
/// `EV_EFI_PLATFORM_FIRMWARE_BLOB2`.
const EV_EFI_PLATFORM_FIRMWARE_BLOB2: u32 = 0x8000_000A;

/// The log's bytes from the kernel's `measured-boot: log OFFSET: HEX` lines.
pub fn log_bytes(log: &[String]) -> Result<Option<Vec<u8>>, String> {
    let mut bytes = Vec::new();
    let mut found = false;
    for line in log {
        let Some((_, rest)) = line.split_once("measured-boot: log ") else {
            continue;
        };
        let Some((offset, hex)) = rest.split_once(": ") else {
            continue;
        };
        let offset = usize::from_str_radix(offset.trim(), 16)
            .map_err(|_| format!("event log line with a bad offset: {line}"))?;
        if offset != bytes.len() {
            return Err(format!(
                "event log line at offset {offset:#x}, expected {:#x}",
                bytes.len()
            ));
        }
        let hex = hex.split_whitespace().next().unwrap_or("");
        if hex.len() % 2 != 0 {
            return Err(format!("event log line with odd hex: {line}"));
        }
        for index in (0..hex.len()).step_by(2) {
            bytes.push(
                u8::from_str_radix(&hex[index..index + 2], 16)
                    .map_err(|_| format!("event log line with bad hex: {line}"))?,
            );
        }
        found = true;
    }
    Ok(found.then_some(bytes))
}

fn word(bytes: &[u8], offset: usize) -> Result<u32, String> {
    bytes
        .get(offset..offset + 4)
        .map(|word| u32::from_le_bytes(word.try_into().unwrap()))
        .ok_or_else(|| format!("the log ends inside a field at {offset:#x}"))
}

/// Decodes a SHA-256-only crypto-agile log.
pub fn decode(log: &[u8]) -> Result<Vec<Event>, String> {
    if word(log, 0)? != 0 || word(log, 4)? != EV_NO_ACTION || log.get(8..28) != Some(&[0; 20]) {
        return Err(
            "the first event is not an EV_NO_ACTION in PCR 0 with a zero SHA-1 digest".into(),
        );
    }
    let size = word(log, 28)? as usize;
    let spec = log
        .get(32..32 + size)
        .ok_or("the Spec ID event runs past the log")?;
    if spec.len() < 33 || &spec[..16] != b"Spec ID Event03\0" {
        return Err("no \"Spec ID Event03\" signature".into());
    }
    if word(spec, 24)? != 1 || spec[28..32] != [0x0B, 0x00, 0x20, 0x00] {
        return Err("the Spec ID event does not name SHA-256 alone".into());
    }
    let mut offset = 32 + size;
    let mut events = Vec::new();
    while offset < log.len() {
        let pcr = word(log, offset)?;
        let event_type = word(log, offset + 4)?;
        if word(log, offset + 8)? != 1 || log.get(offset + 12..offset + 14) != Some(&[0x0B, 0x00]) {
            return Err(format!("event at {offset:#x}: not one SHA-256 digest"));
        }
        let digest: [u8; 32] = log
            .get(offset + 14..offset + 46)
            .ok_or("a digest runs past the log")?
            .try_into()
            .unwrap();
        let size = word(log, offset + 46)? as usize;
        let data = log
            .get(offset + 50..offset + 50 + size)
            .ok_or("event data runs past the log")?
            .to_vec();
        if pcr > 23 {
            return Err(format!("event at {offset:#x}: PCR {pcr}"));
        }
        offset += 50 + size;
        events.push(Event {
            pcr,
            event_type,
            digest,
            data,
        });
    }
    Ok(events)
}

/// The PCRs the events extend, replayed from reset.
pub fn replay(events: &[Event]) -> BTreeMap<u32, [u8; 32]> {
    let mut pcrs = BTreeMap::new();
    for event in events
        .iter()
        .filter(|event| event.event_type != EV_NO_ACTION)
    {
        let reset = if (17..=22).contains(&event.pcr) {
            [0xFF; 32]
        } else {
            [0; 32]
        };
        let value = pcrs.entry(event.pcr).or_insert(reset);
        let mut hasher = Sha256::new();
        hasher.update(*value);
        hasher.update(event.digest);
        *value = hasher.finalize().into();
    }
    pcrs
}

/// The PCR values the kernel reported (`measured-boot report: PCR n = HEX`).
pub fn reported(log: &[String]) -> BTreeMap<u32, String> {
    log.iter()
        .filter_map(|line| {
            let (_, rest) = line.split_once("measured-boot report: PCR ")?;
            let (pcr, value) = rest.split_once(" = ")?;
            Some((
                pcr.trim().parse().ok()?,
                value.split_whitespace().next()?.to_string(),
            ))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// SHA-256 of `[start_symbol, end_symbol)` of the ELF `kernel`.
fn image_digest(elf: &object::File<'_>, start: &str, end: &str) -> Result<[u8; 32], String> {
    let address = |name: &str| {
        elf.symbols()
            .find(|symbol| symbol.name() == Ok(name))
            .map(|symbol| symbol.address())
            .ok_or_else(|| format!("the kernel has no symbol {name}"))
    };
    let (from, to) = (address(start)?, address(end)?);
    let mut hasher = Sha256::new();
    let mut at = from;
    while at < to {
        let section = elf
            .sections()
            .find(|section| section.address() <= at && at < section.address() + section.size())
            .ok_or_else(|| format!("no section holds {at:#x}"))?;
        let data = section.data().map_err(|error| error.to_string())?;
        let offset = (at - section.address()) as usize;
        let take = ((to - at) as usize).min(data.len() - offset);
        hasher.update(&data[offset..offset + take]);
        at += take as u64;
        if take == 0 {
            return Err(format!("no bytes at {at:#x}"));
        }
    }
    Ok(hasher.finalize().into())
}

/// What `tpm2_eventlog` replays `file` to, if it is installed: `None` if it is not.
fn tpm2_eventlog(file: &Path) -> Option<Result<BTreeMap<u32, String>, String>> {
    let output = Command::new("tpm2_eventlog").arg(file).output().ok()?;
    if !output.status.success() {
        return Some(Err(format!(
            "tpm2_eventlog refused the log: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let pcrs = text
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("sha256:"))
        .skip(1)
        .filter_map(|line| {
            let (pcr, value) = line.split_once(':')?;
            let value = value.trim().strip_prefix("0x")?;
            Some((pcr.trim().parse().ok()?, value.to_string()))
        })
        .collect();
    Some(Ok(pcrs))
}

/// The problems of the measured-boot log in `log`, booted from `kernel`;
/// none if the kernel printed no log.
pub fn problems(log: &[String], kernel: &Path, directory: &Path) -> Vec<String> {
    let bytes = match log_bytes(log) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Vec::new(),
        Err(problem) => return vec![format!("event log: {problem}")],
    };
    let mut problems = Vec::new();
    let events = match decode(&bytes) {
        Ok(events) => events,
        Err(problem) => return vec![format!("event log: not a TCG crypto-agile log: {problem}")],
    };
    let replayed = replay(&events);
    let reported = reported(log);
    for (pcr, value) in &reported {
        match replayed.get(pcr) {
            Some(replay) if hex(replay) == *value => {}
            Some(replay) => problems.push(format!(
                "event log: PCR {pcr}: the TPM reported {value}, the log replays to {}",
                hex(replay)
            )),
            None => problems.push(format!("event log: PCR {pcr} reported but never extended")),
        }
    }
    if let Ok(elf) = std::fs::read(kernel) {
        if let Ok(file) = object::File::parse(&*elf) {
            for event in events
                .iter()
                .filter(|event| event.event_type == EV_EFI_PLATFORM_FIRMWARE_BLOB2)
            {
                let length = usize::from(event.data.first().copied().unwrap_or(0));
                let description = event.data.get(1..1 + length).unwrap_or(&[]);
                let range = match description {
                    b"kernel .text\0" => ("__el2_text_start", "__text_end"),
                    b"kernel .rodata\0" => ("__rodata_start", "__rodata_end"),
                    _ => continue,
                };
                match image_digest(&file, range.0, range.1) {
                    Ok(digest) if digest == event.digest => {}
                    Ok(digest) => problems.push(format!(
                        "event log: {} digest {} is not the booted ELF's {}",
                        String::from_utf8_lossy(description).trim_end_matches('\0'),
                        hex(&event.digest),
                        hex(&digest)
                    )),
                    Err(problem) => problems.push(format!("event log: {problem}")),
                }
            }
        }
    }
    let file = directory.join("eventlog.bin");
    if std::fs::write(&file, &bytes).is_ok() {
        match tpm2_eventlog(&file) {
            None => {}
            Some(Err(problem)) => problems.push(format!("event log: {problem}")),
            Some(Ok(pcrs)) => {
                for (pcr, value) in &replayed {
                    if pcrs.get(pcr) != Some(&hex(value)) {
                        problems.push(format!(
                            "event log: tpm2_eventlog replays PCR {pcr} to {:?}, this check to {}",
                            pcrs.get(pcr),
                            hex(value)
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of the Spec ID event and one separator in PCR 7, written by hand.
    fn separator_log() -> Vec<u8> {
        let mut log = vec![0u8; 32];
        log[4] = 3;
        log[28] = 33;
        log.extend_from_slice(b"Spec ID Event03\0");
        log.extend_from_slice(&[0, 0, 0, 0, 0, 2, 2, 1, 1, 0, 0, 0, 0x0B, 0, 0x20, 0, 0]);
        log.extend_from_slice(&7u32.to_le_bytes());
        log.extend_from_slice(&4u32.to_le_bytes());
        log.extend_from_slice(&1u32.to_le_bytes());
        log.extend_from_slice(&[0x0B, 0]);
        log.extend_from_slice(&Sha256::digest([0u8; 4]));
        log.extend_from_slice(&4u32.to_le_bytes());
        log.extend_from_slice(&[0; 4]);
        log
    }

    #[test]
    fn a_separator_replays_to_the_known_answer() {
        let events = decode(&separator_log()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            hex(&replay(&events)[&7]),
            "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"
        );
        let mut broken = separator_log();
        broken.push(0);
        assert!(decode(&broken).is_err(), "trailing bytes");
    }

    #[test]
    fn the_log_is_put_back_together_from_its_lines() {
        let log = separator_log();
        let lines: Vec<String> = log
            .chunks(32)
            .enumerate()
            .map(|(index, chunk)| {
                format!(
                    "[kernel] INFO measured-boot: log {:04x}: {} (x.rs:1)",
                    index * 32,
                    hex(chunk)
                )
            })
            .chain([format!(
                "[kernel] INFO measured-boot report: PCR 7 = {} (x.rs:2)",
                "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"
            )])
            .collect();
        assert_eq!(log_bytes(&lines).unwrap(), Some(log));
        assert_eq!(reported(&lines).len(), 1);
        let directory = std::env::temp_dir();
        assert_eq!(
            problems(&lines, Path::new("/nonexistent"), &directory),
            Vec::<String>::new()
        );
        let mut wrong = lines.clone();
        let last = wrong.len() - 1;
        wrong[last] = wrong[last].replace("3d45", "0000");
        assert_eq!(
            problems(&wrong, Path::new("/nonexistent"), &directory).len(),
            1
        );
        let mut gap = lines;
        gap.remove(1);
        assert!(!problems(&gap, Path::new("/nonexistent"), &directory).is_empty());
    }
}
