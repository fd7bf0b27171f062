//! Measured boot (the kernel's IMA analogue): measurements go into a TCG
//! crypto-agile event log at once, in the order they are asked for, and are
//! extended into the TPM's SHA-256 PCRs, in that order, once the TPM is
//! up; then the PCRs are read back and compared with a replay of the log.
//!
//! What is measured, by whom:
//!
//! | PCR | event type | data | digest | asked by |
//! |---|---|---|---|---|
//! | 0 | `EV_EFI_PLATFORM_FIRMWARE_BLOB2` | `"kernel .text"` (or `.rodata`), base, length | SHA-256 of the segment's bytes in memory | the board, at set-up ([`MeasuredBoot::measure_image`]) |
//! | 1 | `EV_NONHOST_CONFIG` | the partition's descriptor as discovered, in the 24-byte v1.1 layout (ID, contexts, properties, UUID; little-endian) | SHA-256 of the data | the FF-A root, for each partition it discovers ([`DiscoveryObserver`]) |
//! | 0, 1 | `EV_SEPARATOR` | `00 00 00 00` | SHA-256 of the data | this capsule, when the TPM is up: the boot's measurements end |
//!
//! All of these are asked for before the TPM can be reached (the TPM
//! partition is found by the very discovery that is measured): they wait in
//! the log, and nothing is lost or reordered. The `measured-boot` init-queue
//! entry waits on `tpm-probed` (the TPM's bring-up has an outcome, which
//! waits on the TPM driver, which waits on the FF-A root, which waits on the
//! monitor's readiness and, in protected mode, on `proxy-finalised`). If the
//! TPM is up, it appends the separators, expects its `measured-boot-done`
//! signal (boot is not over until the log is replayed) and extends every
//! event not extended yet, one command at a time; then it reads the PCRs
//! the log touched back and compares each with the replay. Without a TPM
//! the entry is unbound and the report says why; with a broken one, failed.
//!
//! Measurements asked for later are logged and extended the same way.

use core::cell::Cell;

use capsule_ffa::boot::ReportSection;
use capsule_ffa::bus::DiscoveryObserver;
use capsule_ffa::partition::{PartitionInfo, PartitionKind};
use kernel::cells::{MapCell, TakeCell};
use kernel::hil::image::LoadedImage;
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::init_queue::{ConditionId, ConditionSet, Probe, ProbeResult, Queue};
use kernel::ErrorCode;

use crate::event_log::{
    self, EventLog, LogError, EV_EFI_PLATFORM_FIRMWARE_BLOB2, EV_NONHOST_CONFIG, EV_SEPARATOR,
};
use crate::hex::Hex;
use crate::startup::{Absence, StartupError, StartupStep, TpmStartup, TpmState};
use crate::tpm2::{
    self, PcrIndex, PcrSelection, PcrValues, ResponseError, Sha256Digest, MAXIMUM_PCRS_PER_READ,
};

/// The PCR the kernel image is measured into.
pub const IMAGE_PCR: u8 = 0;
/// The PCR partition discovery data is measured into.
pub const PARTITION_PCR: u8 = 1;
/// Size of the command buffer (a `TPM2_PCR_Read` of 8 PCRs answers 306 bytes).
pub const COMMAND_BUFFER_SIZE: usize = 512;
/// How much of the image a read copies at once while hashing.
const IMAGE_CHUNK: usize = 256;

/// Why measurement is unavailable, or stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MeasurementFailure {
    /// There is no TPM.
    NoTpm(Absence),
    /// The TPM's bring-up failed.
    TpmFailed(StartupStep, StartupError),
    /// An extend was not done (the event's number, the transport's error).
    ExtendTransport(usize, ErrorCode),
    /// An extend was refused or its response is not one.
    ExtendResponse(usize, ResponseError),
    /// Reading the PCRs back failed in the transport.
    ReadTransport(ErrorCode),
    /// Reading the PCRs back was refused or its response is not one.
    ReadResponse(ResponseError),
    /// The log does not parse (a bug: this capsule wrote it).
    Log(LogError),
    /// The TPM left out a PCR it was asked to read.
    PcrNotRead(PcrIndex),
}

/// Where measured boot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MeasurementState {
    /// Measurements are logged; the TPM is not up (yet).
    Queueing,
    /// Extending the logged events.
    Extending,
    /// Reading the PCRs back.
    Reading,
    /// Every PCR the log touched matches the replay.
    Verified,
    /// Some PCR does not match the replay.
    Mismatch,
    /// Measurement is unavailable or stopped.
    Failed(MeasurementFailure),
}

/// What the last verification found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verification {
    /// The PCRs compared.
    pub pcrs: PcrSelection,
    /// Their values as replayed from the log, by PCR index.
    pub replayed: [Sha256Digest; tpm2::PCR_COUNT],
    /// Their values as the TPM reported them, by PCR index.
    pub read: [Sha256Digest; tpm2::PCR_COUNT],
    /// The PCRs whose two values differ.
    pub mismatched: PcrSelection,
    /// Events replayed.
    pub events: usize,
}

/// The command in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InFlight {
    Extend(usize),
    Read(PcrSelection),
}

/// The measured-boot capsule.
pub struct MeasuredBoot<'a> {
    tpm: &'a dyn Tpm<'a>,
    startup: &'a TpmStartup<'a>,
    queue: &'a dyn Queue<'a>,
    tpm_probed: ConditionId,
    done: ConditionId,
    log: MapCell<EventLog<'static>>,
    buffer: TakeCell<'static, [u8]>,
    /// Events handled (extended, or skipped as `EV_NO_ACTION`).
    extended: Cell<usize>,
    in_flight: Cell<Option<InFlight>>,
    state: Cell<MeasurementState>,
    verification: Cell<Option<Verification>>,
    /// PCRs still to be read back in this verification.
    to_read: Cell<PcrSelection>,
    dropped: Cell<usize>,
}

impl<'a> MeasuredBoot<'a> {
    /// Measured boot on `tpm` (brought up by `startup`), its log in
    /// `log_buffer`, its commands in `command_buffer`; `tpm_probed` is the
    /// bring-up's outcome, `done` its own signal to the queue.
    pub fn new(
        tpm: &'a dyn Tpm<'a>,
        startup: &'a TpmStartup<'a>,
        queue: &'a dyn Queue<'a>,
        tpm_probed: ConditionId,
        done: ConditionId,
        log_buffer: &'static mut [u8],
        command_buffer: &'static mut [u8],
    ) -> MeasuredBoot<'a> {
        let log = MapCell::empty();
        match EventLog::new(log_buffer) {
            Ok(created) => log.put(created),
            Err(_) => defmt::error!("measured-boot: the log buffer cannot hold the Spec ID event"),
        }
        MeasuredBoot {
            tpm,
            startup,
            queue,
            tpm_probed,
            done,
            log,
            buffer: TakeCell::new(command_buffer),
            extended: Cell::new(0),
            in_flight: Cell::new(None),
            state: Cell::new(MeasurementState::Queueing),
            verification: Cell::new(None),
            to_read: Cell::new(PcrSelection::EMPTY),
            dropped: Cell::new(0),
        }
    }

    /// Where measured boot is.
    pub fn state(&self) -> MeasurementState {
        self.state.get()
    }

    /// The last verification, if one was made.
    pub fn verification(&self) -> Option<Verification> {
        self.verification.get()
    }

    /// How many events the log holds (after the Spec ID event).
    pub fn event_count(&self) -> usize {
        self.log.map_or(0, |log| log.event_count())
    }

    /// How many events were extended (or skipped as `EV_NO_ACTION`).
    pub fn extended_count(&self) -> usize {
        self.extended.get()
    }

    /// Measurements refused because the log was full.
    pub fn dropped(&self) -> usize {
        self.dropped.get()
    }

    /// Runs `visit` on the log's bytes.
    pub fn with_log<R>(&self, visit: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.log.map(|log| visit(log.bytes()))
    }

    /// Logs an event in `pcr` with `digest` and extends it as soon as the
    /// TPM can take it, after every earlier one. Returns the event's number.
    pub fn measure(
        &self,
        pcr: PcrIndex,
        event_type: u32,
        data: &[u8],
        digest: &Sha256Digest,
    ) -> Result<usize, ErrorCode> {
        let appended = self
            .log
            .map(|log| log.append(pcr, event_type, digest, data))
            .ok_or(ErrorCode::FAIL)?;
        let number = appended.map_err(|_| {
            self.dropped.set(self.dropped.get() + 1);
            defmt::error!(
                "measured-boot: the event log is full; a {=str} measurement in PCR {=u8} is lost",
                event_log::event_type_name(event_type),
                pcr.index()
            );
            ErrorCode::NOMEM
        })?;
        if matches!(
            self.state.get(),
            MeasurementState::Verified | MeasurementState::Mismatch
        ) {
            self.state.set(MeasurementState::Extending);
            self.next_command();
        }
        Ok(number)
    }

    /// Measures `data` itself: its SHA-256 is the digest.
    pub fn measure_data(
        &self,
        pcr: PcrIndex,
        event_type: u32,
        data: &[u8],
    ) -> Result<usize, ErrorCode> {
        self.measure(pcr, event_type, data, &event_log::sha256(data))
    }

    /// Measures each loaded segment of `image` into PCR 0.
    pub fn measure_image(&self, image: &dyn LoadedImage) -> Result<(), ErrorCode> {
        let pcr = PcrIndex::new(IMAGE_PCR).ok_or(ErrorCode::FAIL)?;
        for index in 0..image.segment_count() {
            let segment = image.segment(index).ok_or(ErrorCode::FAIL)?;
            let mut hasher = event_log::Hasher::new();
            let mut chunk = [0u8; IMAGE_CHUNK];
            let mut offset = 0;
            while offset < segment.length {
                let take = IMAGE_CHUNK.min(segment.length - offset);
                image.read(index, offset, &mut chunk[..take])?;
                hasher.update(&chunk[..take]);
                offset += take;
            }
            let digest = hasher.finish();
            // "kernel .text" and its NUL (UEFI firmware counts the NUL in
            // BlobDescriptionSize; tpm2_eventlog prints it as a string).
            let mut description = [0u8; 32];
            let prefix = b"kernel ";
            let name = segment.name.as_bytes();
            let name_length = name.len().min(description.len() - prefix.len() - 1);
            description[..prefix.len()].copy_from_slice(prefix);
            description[prefix.len()..prefix.len() + name_length]
                .copy_from_slice(&name[..name_length]);
            let mut data = [0u8; 64];
            let size = event_log::firmware_blob2(
                &description[..prefix.len() + name_length + 1],
                segment.base,
                segment.length as u64,
                &mut data,
            );
            defmt::info!(
                "measured-boot: kernel {=str} at {=u64:#x}, {=usize} bytes: sha256 {}",
                segment.name,
                segment.base,
                segment.length,
                Hex(&digest)
            );
            self.measure(pcr, EV_EFI_PLATFORM_FIRMWARE_BLOB2, &data[..size], &digest)?;
        }
        Ok(())
    }

    /// Sends the next command: the next extend, or the next read-back, or
    /// ends the verification.
    fn next_command(&self) {
        if self.in_flight.get().is_some() {
            return;
        }
        let event = self.log.map(|log| {
            event_log::events(log.bytes())
                .nth(self.extended.get())
                .map(|event| {
                    event.map(|event| (event.number, event.pcr, event.event_type, event.digest))
                })
        });
        match event.flatten() {
            Some(Err(error)) => self.stop(MeasurementFailure::Log(error)),
            Some(Ok((number, _, event_log::EV_NO_ACTION, _))) => {
                self.extended.set(number + 1);
                self.next_command();
            }
            Some(Ok((number, pcr, _, digest))) => {
                self.state.set(MeasurementState::Extending);
                self.send(InFlight::Extend(number), |buffer| {
                    tpm2::pcr_extend(buffer, pcr, &digest)
                });
            }
            None => self.read_back(),
        }
    }

    /// Reads back the next PCRs the log touched (8 at a time), or concludes.
    fn read_back(&self) {
        if self.state.get() == MeasurementState::Extending {
            let replay = match self.log.map(|log| event_log::replay(log.bytes())) {
                Some(Ok(replay)) => replay,
                Some(Err(error)) => return self.stop(MeasurementFailure::Log(error)),
                None => return self.stop(MeasurementFailure::Log(LogError::BadSpecId)),
            };
            self.verification.set(Some(Verification {
                pcrs: replay.extended,
                replayed: replay.values,
                read: [[0; tpm2::SHA256_SIZE]; tpm2::PCR_COUNT],
                mismatched: PcrSelection::EMPTY,
                events: replay.events,
            }));
            self.to_read.set(replay.extended);
            self.state.set(MeasurementState::Reading);
        }
        let remaining = self.to_read.get();
        let chunk = remaining
            .iter()
            .take(MAXIMUM_PCRS_PER_READ)
            .fold(PcrSelection::EMPTY, PcrSelection::with);
        if chunk.is_empty() {
            self.conclude();
            return;
        }
        self.send(InFlight::Read(chunk), |buffer| {
            tpm2::pcr_read(buffer, chunk)
        });
    }

    fn send(
        &self,
        command: InFlight,
        build: impl FnOnce(&mut [u8]) -> Result<usize, tpm2::BufferTooSmall>,
    ) {
        let Some(buffer) = self.buffer.take() else {
            return;
        };
        let Ok(length) = build(buffer) else {
            self.buffer.replace(buffer);
            return self.stop(MeasurementFailure::ReadTransport(ErrorCode::SIZE));
        };
        self.in_flight.set(Some(command));
        if let Err((error, buffer)) = self.tpm.send_command(buffer, length, Locality::ZERO) {
            self.buffer.replace(buffer);
            self.in_flight.set(None);
            self.stop(match command {
                InFlight::Extend(number) => MeasurementFailure::ExtendTransport(number, error),
                InFlight::Read(_) => MeasurementFailure::ReadTransport(error),
            });
        }
    }

    fn conclude(&self) {
        let Some(verification) = self.verification.get() else {
            return;
        };
        for pcr in verification.pcrs.iter() {
            let index = usize::from(pcr.index());
            let matches = !verification.mismatched.contains(pcr);
            defmt::info!(
                "measured-boot: PCR {=u8} sha256 {} (replay of the log: {=str})",
                pcr.index(),
                Hex(&verification.read[index]),
                if matches { "matches" } else { "MISMATCH" }
            );
            if !matches {
                defmt::error!(
                    "measured-boot: PCR {=u8} replays to {}",
                    pcr.index(),
                    Hex(&verification.replayed[index])
                );
            }
        }
        let state = if verification.mismatched.is_empty() {
            defmt::info!(
                "measured-boot: replay of {=usize} events matches the {=usize} PCRs read back",
                verification.events,
                verification.pcrs.len()
            );
            MeasurementState::Verified
        } else {
            defmt::error!(
                "measured-boot: replay does NOT match the TPM in {=usize} PCR(s)",
                verification.mismatched.len()
            );
            MeasurementState::Mismatch
        };
        self.state.set(state);
        self.print_log();
        self.queue.signal(self.done);
        if self.extended.get() < self.event_count() {
            // Measured while the PCRs were being read: extend those too.
            self.state.set(MeasurementState::Extending);
            self.next_command();
        }
    }

    fn stop(&self, failure: MeasurementFailure) {
        defmt::error!("measured-boot: stopped: {}", failure);
        self.state.set(MeasurementState::Failed(failure));
        self.queue.signal(self.done);
    }

    /// Logs each event, then the log's bytes in hexadecimal, 32 per line.
    pub fn print_log(&self) {
        self.log.map(|log| {
            let bytes = log.bytes();
            defmt::info!(
                "measured-boot: TCG event log: {=usize} bytes, Spec ID event and {=usize} events",
                bytes.len(),
                log.event_count()
            );
            for event in event_log::events(bytes).flatten() {
                defmt::info!(
                    "measured-boot: event {=usize}: PCR {=u8} {=str} sha256 {} data {=usize} bytes",
                    event.number,
                    event.pcr.index(),
                    event_log::event_type_name(event.event_type),
                    Hex(&event.digest),
                    event.data.len()
                );
            }
            for (line, chunk) in bytes.chunks(32).enumerate() {
                defmt::info!("measured-boot: log {=usize:04x}: {}", line * 32, Hex(chunk));
            }
        });
    }
}

impl TpmClient for MeasuredBoot<'_> {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        let in_flight = self.in_flight.take();
        let response = &buffer[..response_length.min(buffer.len())];
        let outcome = match (in_flight, result) {
            (None, _) => Ok(()),
            (Some(InFlight::Extend(number)), Err(error)) => {
                Err(MeasurementFailure::ExtendTransport(number, error))
            }
            (Some(InFlight::Extend(number)), Ok(())) => tpm2::parse_pcr_extend(response)
                .map(|()| self.extended.set(number + 1))
                .map_err(|error| MeasurementFailure::ExtendResponse(number, error)),
            (Some(InFlight::Read(_)), Err(error)) => Err(MeasurementFailure::ReadTransport(error)),
            (Some(InFlight::Read(asked)), Ok(())) => tpm2::parse_pcr_read(response, asked)
                .map_err(MeasurementFailure::ReadResponse)
                .and_then(|values| self.record(asked, &values)),
        };
        self.buffer.replace(buffer);
        match outcome {
            Err(failure) => self.stop(failure),
            Ok(()) if in_flight.is_some() => self.next_command(),
            Ok(()) => {}
        }
    }
}

impl MeasuredBoot<'_> {
    /// Records PCRs read back, asked as `asked`.
    fn record(&self, asked: PcrSelection, values: &PcrValues) -> Result<(), MeasurementFailure> {
        let Some(mut verification) = self.verification.get() else {
            return Ok(());
        };
        for pcr in asked.iter() {
            let value = values.get(pcr).ok_or(MeasurementFailure::PcrNotRead(pcr))?;
            let index = usize::from(pcr.index());
            verification.read[index] = *value;
            if *value != verification.replayed[index] {
                verification.mismatched = verification.mismatched.with(pcr);
            }
        }
        self.verification.set(Some(verification));
        let remaining = asked.iter().fold(self.to_read.get(), |left, pcr| {
            PcrSelection::without(left, pcr)
        });
        self.to_read.set(remaining);
        Ok(())
    }
}

impl DiscoveryObserver for MeasuredBoot<'_> {
    fn partition_discovered(&self, slot: usize, info: &PartitionInfo) {
        let field = match info.kind {
            PartitionKind::Endpoint { execution_contexts } => execution_contexts,
            PartitionKind::DependentPeripheral { proxy } => proxy.raw(),
            _ => 0,
        };
        let mut descriptor = [0u8; 24];
        descriptor[0..2].copy_from_slice(&info.id.raw().to_le_bytes());
        descriptor[2..4].copy_from_slice(&field.to_le_bytes());
        descriptor[4..8].copy_from_slice(&info.properties.raw().to_le_bytes());
        descriptor[8..24].copy_from_slice(info.uuid.as_bytes());
        let Some(pcr) = PcrIndex::new(PARTITION_PCR) else {
            return;
        };
        match self.measure_data(pcr, EV_NONHOST_CONFIG, &descriptor) {
            Ok(number) => defmt::info!(
                "measured-boot: arm-ffa-{=usize} (partition {=u16:#06x}) measured as event {=usize}{=str}",
                slot + 1,
                info.id.raw(),
                number,
                if self.startup.is_ready() { "" } else { ", queued until the TPM is up" }
            ),
            Err(error) => defmt::error!(
                "measured-boot: partition {=u16:#06x} not measured: {}",
                info.id.raw(),
                error
            ),
        }
    }
}

impl Probe for MeasuredBoot<'_> {
    fn probe(&self) -> ProbeResult {
        match self.state.get() {
            MeasurementState::Verified => return ProbeResult::Ready,
            MeasurementState::Mismatch => return ProbeResult::Failed(ErrorCode::FAIL),
            MeasurementState::Failed(MeasurementFailure::NoTpm(_)) => return ProbeResult::Unbound,
            MeasurementState::Failed(_) => return ProbeResult::Failed(ErrorCode::FAIL),
            MeasurementState::Extending | MeasurementState::Reading => {
                return ProbeResult::Defer(ConditionSet::of(self.done))
            }
            MeasurementState::Queueing => {}
        }
        let probed = ConditionSet::of(self.tpm_probed);
        if !self.queue.missing(probed).is_empty() {
            return ProbeResult::Defer(probed);
        }
        match self.startup.state() {
            TpmState::Ready { .. } => {}
            TpmState::Absent(absence) => {
                defmt::warn!(
                    "measured-boot: measurement unavailable: {=str}",
                    absence.explanation()
                );
                self.state
                    .set(MeasurementState::Failed(MeasurementFailure::NoTpm(absence)));
                return ProbeResult::Unbound;
            }
            TpmState::Failed(step, error) => {
                let failure = MeasurementFailure::TpmFailed(step, error);
                defmt::error!(
                    "measured-boot: measurement unavailable: the TPM failed: {}",
                    failure
                );
                self.state.set(MeasurementState::Failed(failure));
                return ProbeResult::Failed(ErrorCode::NODEVICE);
            }
            TpmState::Waiting | TpmState::Starting(_) => return ProbeResult::Defer(probed),
        }
        for pcr in [IMAGE_PCR, PARTITION_PCR]
            .into_iter()
            .filter_map(PcrIndex::new)
        {
            if let Err(error) = self.measure_data(pcr, EV_SEPARATOR, &[0; 4]) {
                defmt::error!(
                    "measured-boot: separator in PCR {=u8} not logged: {}",
                    pcr.index(),
                    error
                );
            }
        }
        defmt::info!(
            "measured-boot: the TPM is up; extending {=usize} logged events in order",
            self.event_count() - self.extended.get()
        );
        self.state.set(MeasurementState::Extending);
        self.queue.expect_signal(self.done);
        self.next_command();
        if self.queue.is_signalled(self.done) {
            // Failed at once (already logged).
            return self.probe();
        }
        ProbeResult::Defer(ConditionSet::of(self.done))
    }
}

impl ReportSection for MeasuredBoot<'_> {
    fn log_report(&self) {
        let events = self.event_count();
        match self.state.get() {
            MeasurementState::Verified | MeasurementState::Mismatch => {
                let Some(verification) = self.verification.get() else {
                    return;
                };
                let bytes = self.with_log(|log| log.len()).unwrap_or(0);
                defmt::info!(
                    "measured-boot report: {=usize} events ({=usize} bytes of TCG log), {=usize} extended; replay {=str}",
                    events,
                    bytes,
                    self.extended.get(),
                    if verification.mismatched.is_empty() { "matches the TPM" } else { "does NOT match the TPM" }
                );
                for pcr in verification.pcrs.iter() {
                    defmt::info!(
                        "measured-boot report: PCR {=u8} = {}",
                        pcr.index(),
                        Hex(&verification.read[usize::from(pcr.index())])
                    );
                }
            }
            MeasurementState::Failed(MeasurementFailure::NoTpm(absence)) => defmt::info!(
                "measured-boot report: measurement unavailable: {=str}; {=usize} measurements logged, none extended",
                absence.explanation(),
                events
            ),
            MeasurementState::Failed(failure) => defmt::error!(
                "measured-boot report: measurement FAILED: {}; {=usize} events logged, {=usize} extended",
                failure,
                events,
                self.extended.get()
            ),
            state => defmt::warn!(
                "measured-boot report: not finished ({}); {=usize} events logged, {=usize} extended",
                state,
                events,
                self.extended.get()
            ),
        }
    }
}
