//! The TPM partition: a TPM service over FF-A (Arm DEN0138, as Linux's
//! `tpm_crb_ffa.c` uses it) in front of a small TPM 2.0 ([`engine`]), with
//! its CRB in normal-world memory at [`QEMU_VIRT_CRB`].
//!
//! | ID | UUID | contexts | state | direct messages |
//! |---|---|---|---|---|
//! | [`TPM_PARTITION_ID`] (0x8010) | `17b862a4-1806-4faf-86b3-089a58353861` ([`TPM_SERVICE_UUID`]) | 1 | AArch64 | REQ 32/64, REQ2 |
//!
//! A direct request from the normal world to the partition is one service
//! call (`ffa_abi::tpm_service`: the function in w4/x4, arguments in
//! w5–w7); the response carries the status in w4/x4 and results after it,
//! in the request's form (`DIRECT_RESP` 32/64 with w3 zero, or
//! `DIRECT_RESP2`). The checks a direct request passes first are the same
//! as for the other partitions (the sender is the normal world, w2 is zero
//! for `DIRECT_REQ`, `REQ2` needs v1.2 and names the partition's UUID or
//! the nil UUID); then:
//!
//! - `GET_INTERFACE_VERSION` → `OK_RESULTS_RETURNED`, w5 = 1.0;
//! - `GET_FEATURE_INFO` of the notification feature (`0xFEA70000`) → `OK`
//!   when the partition offers completion notifications (its discovery
//!   properties then have the notifications bit, as Arm's ACS checks),
//!   `NOTSUP` when it does not ([`TpmConfig::notifications`]); any other
//!   feature → `INVARG`;
//! - `REGISTER_FOR_NOTIFICATION` (type `[31:16]` must be 0, global; low
//!   bits zero; ID < 64, else `INVARG`) → `OK`, `NOTSUP` without the
//!   feature, `ALREADY` if registered; `UNREGISTER_FROM_NOTIFICATION` →
//!   `OK`, `DENIED` if not registered; `FINISH_NOTIFIED` → `OK` when a
//!   notification is outstanding, else `DENIED` (the bookkeeping Arm's ACS
//!   checks; Linux polls instead);
//! - `START`: a qualifier above 0xFF, an unknown qualifier or a locality
//!   above 4 → `INVARG`. Qualifier 1 reads that locality's `LOC_CTRL`:
//!   `requestAccess` is granted if no other locality is active (else it
//!   waits: `LOC_STS.granted` stays clear), `relinquish` gives an active
//!   locality up; `LOC_STATE` (the same in every page) shows the active
//!   locality. Qualifier 0 needs the locality active (else `DENIED`), then
//!   acts on `CTRL_REQ` (`cmdReady`, `goIdle`: the TPM clears the bit and
//!   sets `CTRL_STS.tpmIdle` accordingly), and on `CTRL_START`: the command
//!   and response addresses must lie in this locality's data buffer (else
//!   `INV_CRB_CTRL_DATA`); the command runs (or, with `CTRL_CANCEL` set, is
//!   answered `TPM_RC_CANCELED`), the response is written and `CTRL_START`
//!   cleared: before `START` returns, or in the background (see below);
//! - anything else → `NOFUNC`.
//!
//! A command runs in the background when the caller registered for
//! notifications, or when [`TpmConfig::background_microseconds`] is set:
//! `START` returns `OK` with `CTRL_START` still set, and the command
//! completes that long later (at once for 0), from the secure timer
//! ([`TpmPartition::next_deadline`], [`TpmPartition::expire`]); a
//! registered caller is then notified (`FFA_NOTIFICATION_SET` from the
//! partition, one notification outstanding at a time, until the caller's
//! `FINISH_NOTIFIED`), an unregistered one polls. A `START` with
//! `CTRL_CANCEL` set while the command runs ends it at once (cancelled).
//! Control requests (locality, `cmdReady`, `goIdle`) always complete within
//! `START`.
//!
//! The partition sets its CRB up when the SPMC boots it
//! ([`crate::SecureWorld::boot_partitions`]), or at its first request if
//! the memory was not there then. Its faults ([`TpmConfig`]): absent, late
//! (`BUSY` or `NOT_READY` to every direct request for a while after the
//! first), one malformed response, and an interface ID that is not a CRB's.

pub mod config;
pub mod engine;

use crate::call::{Call, Reply};
use crate::function_id::{
    FFA_MSG_SEND_DIRECT_REQ2, FFA_MSG_SEND_DIRECT_REQ_32, FFA_MSG_SEND_DIRECT_REQ_64,
    FFA_MSG_SEND_DIRECT_RESP2, FFA_MSG_SEND_DIRECT_RESP_32, FFA_MSG_SEND_DIRECT_RESP_64,
};
use crate::memory::NormalWorldMemory;
use crate::partition::{properties, PartitionInfo};
use crate::platform::Platform;
use crate::NORMAL_WORLD_ENDPOINT_ID;
use config::{MalformedResponse, TpmConfig};
use engine::Tpm2;
use ffa_abi::tpm_service::{
    crb, function, ServiceStatus, StartQualifier, FEATURE_NOTIFICATION, INTERFACE_VERSION,
    LOCALITY_COUNT, QEMU_VIRT_CRB, TPM_SERVICE_UUID,
};
use ffa_abi::{Status, Uuid, Version};

/// The TPM partition's FF-A ID.
pub const TPM_PARTITION_ID: u16 = 0x8010;

/// The TPM partition as discovery reports it.
pub const TPM_PARTITION: PartitionInfo = PartitionInfo {
    id: TPM_PARTITION_ID,
    uuid: *TPM_SERVICE_UUID.as_bytes(),
    execution_context_count: 1,
    properties: properties::DIRECT_REQUEST_RECEIVE
        | properties::NOTIFICATIONS
        | properties::AARCH64_EXECUTION_STATE
        | properties::DIRECT_REQUEST2_RECEIVE,
};

/// The interface ID the CRB reports: CRB, interface version 1, more than
/// locality 0, CapCRB.
pub const INTERFACE_ID: u32 = crb::intf_id::TYPE_CRB
    | (1 << crb::intf_id::VERSION_SHIFT)
    | crb::intf_id::CAP_LOCALITY
    | crb::intf_id::CAP_CRB;
/// Vendor `[15:0]` and device `[31:16]` ID: "FM", 0x0001.
pub const VENDOR_DEVICE_ID: u32 = 0x0001_4D46;

/// The TPM partition's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmPartition {
    config: TpmConfig,
    crb_ready: bool,
    active: Option<u8>,
    idle: bool,
    /// The FF-A notification ID the caller registered.
    notification: Option<u8>,
    /// A notification was set and not yet acknowledged (`FINISH_NOTIFIED`).
    outstanding: bool,
    /// The command running in the background, if any.
    background: Option<Background>,
    first_request_microseconds: Option<u64>,
    malformed_done: bool,
    commands: u32,
    engine: Tpm2,
}

/// A command running in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Background {
    locality: u8,
    deadline_microseconds: u64,
}

/// What a service call answers: a status and up to three results.
type Answer = (ServiceStatus, [u64; 3]);

const fn status(status: ServiceStatus) -> Answer {
    (status, [0; 3])
}

/// The form of a direct request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Direct32,
    Direct64,
    Direct2,
}

impl TpmPartition {
    /// A partition with `config`, its CRB not set up yet.
    pub const fn new(config: TpmConfig) -> TpmPartition {
        TpmPartition {
            config,
            crb_ready: false,
            active: None,
            idle: true,
            notification: None,
            outstanding: false,
            background: None,
            first_request_microseconds: None,
            malformed_done: false,
            commands: 0,
            engine: Tpm2::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TpmConfig {
        &self.config
    }

    /// The TPM behind the service.
    pub fn engine(&self) -> &Tpm2 {
        &self.engine
    }

    /// The active locality, if any.
    pub fn active_locality(&self) -> Option<u8> {
        self.active
    }

    /// How many TPM commands ran.
    pub fn commands(&self) -> u32 {
        self.commands
    }

    /// The notification ID the caller registered, if any.
    pub fn registered_notification(&self) -> Option<u8> {
        self.notification
    }

    /// When the command running in the background completes, if one runs.
    pub fn next_deadline(&self) -> Option<u64> {
        self.background
            .map(|background| background.deadline_microseconds)
    }

    /// The secure timer expired at `now_microseconds`: a background command
    /// whose time has come completes. Returns the notification ID to set
    /// for the caller, if it registered one and none is outstanding.
    pub fn expire(
        &mut self,
        now_microseconds: u64,
        memory: &mut dyn NormalWorldMemory,
    ) -> Option<u8> {
        let background = self.background?;
        if now_microseconds < background.deadline_microseconds {
            return None;
        }
        self.background = None;
        let page = QEMU_VIRT_CRB.locality_base(background.locality);
        // The CRB is normal-world memory: if it vanished, nothing completes.
        self.execute(page, background.locality, memory).ok()?;
        self.notify()
    }

    /// The caller is to be told of a completion: the ID to set, if it
    /// registered one and none is outstanding.
    fn notify(&mut self) -> Option<u8> {
        let id = self.notification.filter(|_| !self.outstanding)?;
        self.outstanding = true;
        Some(id)
    }

    /// A notification the caller was to be told could not be set.
    pub(crate) fn notification_failed(&mut self) {
        self.outstanding = false;
    }

    /// The interface ID this CRB reports: [`INTERFACE_ID`], or with
    /// InterfaceType 0 (FIFO) under [`TpmConfig::not_crb`].
    fn interface_id(&self) -> u32 {
        if self.config.not_crb {
            INTERFACE_ID & !crb::intf_id::TYPE_MASK
        } else {
            INTERFACE_ID
        }
    }

    /// Sets the CRB up in `memory` (every locality's page: registers valid,
    /// idle, the buffers in the page's data buffer, the software-written
    /// registers cleared). Returns whether the memory was there.
    pub fn boot(&mut self, memory: &mut dyn NormalWorldMemory) -> bool {
        self.set_up_crb(memory, true)
    }

    /// Writes the TPM's registers of every page; the registers software
    /// writes (`LOC_CTRL`, `CTRL_REQ`, `CTRL_CANCEL`, `CTRL_START`) are
    /// cleared at boot, and kept when the CRB is set up late, at a first
    /// request (they hold that request).
    fn set_up_crb(&mut self, memory: &mut dyn NormalWorldMemory, clear_requests: bool) -> bool {
        if self.config.absent {
            return false;
        }
        for locality in 0..LOCALITY_COUNT {
            let base = QEMU_VIRT_CRB.locality_base(locality);
            let data = base + crb::DATA_BUFFER as u64;
            let mut registers = [
                (crb::LOC_STATE, crb::loc_state::VALID),
                (crb::LOC_STS, 0),
                (crb::INTF_ID, self.interface_id()),
                (crb::INTF_ID_HIGH, VENDOR_DEVICE_ID),
                (crb::CTRL_EXT, 0),
                (crb::CTRL_STS, crb::ctrl_sts::IDLE),
                (crb::CTRL_INT_ENABLE, 0),
                (crb::CTRL_INT_STS, 0),
                (crb::CTRL_CMD_SIZE, crb::DATA_BUFFER_SIZE as u32),
                (crb::CTRL_CMD_PA_LOW, data as u32),
                (crb::CTRL_CMD_PA_HIGH, (data >> 32) as u32),
                (crb::CTRL_RSP_SIZE, crb::DATA_BUFFER_SIZE as u32),
                (crb::CTRL_RSP_PA, data as u32),
                (crb::CTRL_RSP_PA + 4, (data >> 32) as u32),
                (crb::LOC_CTRL, 0),
                (crb::CTRL_REQ, 0),
                (crb::CTRL_CANCEL, 0),
                (crb::CTRL_START, 0),
            ];
            let count = if clear_requests {
                registers.len()
            } else {
                registers.len() - 4
            };
            for (offset, value) in registers.iter_mut().take(count) {
                if write_u32(memory, base + *offset as u64, *value).is_err() {
                    return false;
                }
            }
        }
        self.crb_ready = true;
        true
    }

    /// Answers `call` if it is a direct request to the TPM partition; `None`
    /// leaves it to the other partitions (or to the refusal of an unknown one).
    pub(crate) fn intercept(
        &mut self,
        call: &Call<'_>,
        version: Version,
        memory: &mut dyn NormalWorldMemory,
        platform: &mut dyn Platform,
    ) -> Option<Reply> {
        let form = match call.function_id() {
            FFA_MSG_SEND_DIRECT_REQ_32 => Form::Direct32,
            FFA_MSG_SEND_DIRECT_REQ_64 => Form::Direct64,
            FFA_MSG_SEND_DIRECT_REQ2 => Form::Direct2,
            _ => return None,
        };
        let endpoints = call.word(1);
        let (sender, receiver) = ((endpoints >> 16) as u16, endpoints as u16);
        if receiver != TPM_PARTITION_ID || self.config.absent {
            return None;
        }
        if let Err(error) = Self::check_request(call, form, version, sender) {
            return Some(Reply::error(error));
        }
        // Read only for the TPM's own requests: a reading may move the clock.
        let now_microseconds = platform.now_microseconds();
        let first = *self
            .first_request_microseconds
            .get_or_insert(now_microseconds);
        if now_microseconds.saturating_sub(first) < self.config.late_microseconds {
            return Some(Reply::error(self.config.late_error));
        }
        // w4/x4 in every form: DIRECT_REQ has w3 zero, REQ2 the UUID in x2/x3.
        let function = call.register(4) as u32;
        let arguments = [call.register(5), call.register(6), call.register(7)];
        let (service_status, results) = self.serve(function, arguments, memory, now_microseconds);
        let (response, mask) = match form {
            Form::Direct32 => (FFA_MSG_SEND_DIRECT_RESP_32, 0xFFFF_FFFF),
            Form::Direct64 => (FFA_MSG_SEND_DIRECT_RESP_64, u64::MAX),
            Form::Direct2 => (FFA_MSG_SEND_DIRECT_RESP2, u64::MAX),
        };
        let mut reply = Reply::ffa(response)
            .with(1, u64::from(TPM_PARTITION_ID) << 16 | u64::from(sender))
            .with(4, u64::from(service_status.code()));
        for (offset, value) in results.into_iter().enumerate() {
            reply = reply.with(5 + offset, value & mask);
        }
        if form == Form::Direct2 {
            reply = reply.with_extended_results();
        }
        Some(reply)
    }

    /// The checks every partition's direct requests pass (see `messaging`).
    fn check_request(
        call: &Call<'_>,
        form: Form,
        version: Version,
        sender: u16,
    ) -> Result<(), Status> {
        if form == Form::Direct2 && version < Version::V1_2 {
            return Err(Status::NotSupported);
        }
        if form != Form::Direct2 && call.register(2) != 0 {
            return Err(Status::InvalidParameters);
        }
        if sender != NORMAL_WORLD_ENDPOINT_ID {
            return Err(Status::InvalidParameters);
        }
        if form == Form::Direct2 {
            let target = Uuid::from_register_pair([call.register(2), call.register(3)]);
            if !target.is_nil() && target != TPM_SERVICE_UUID {
                return Err(Status::InvalidParameters);
            }
        }
        Ok(())
    }

    fn serve(
        &mut self,
        function: u32,
        arguments: [u64; 3],
        memory: &mut dyn NormalWorldMemory,
        now_microseconds: u64,
    ) -> Answer {
        let offered = self.config.notifications;
        let answer = match function {
            function::GET_INTERFACE_VERSION => {
                return (
                    ServiceStatus::OkResultsReturned,
                    [u64::from(INTERFACE_VERSION), 0, 0],
                )
            }
            function::GET_FEATURE_INFO if arguments[0] != u64::from(FEATURE_NOTIFICATION) => {
                ServiceStatus::InvalidArgument
            }
            function::GET_FEATURE_INFO if offered => ServiceStatus::Ok,
            function::REGISTER_FOR_NOTIFICATION => {
                let (kind, id) = (arguments[0], arguments[1]);
                if kind != 0 || id >= 64 {
                    ServiceStatus::InvalidArgument
                } else if !offered {
                    ServiceStatus::NotSupported
                } else if self.notification.is_some() {
                    ServiceStatus::Already
                } else {
                    self.notification = Some(id as u8);
                    self.outstanding = false;
                    ServiceStatus::Ok
                }
            }
            function::GET_FEATURE_INFO
            | function::UNREGISTER_FROM_NOTIFICATION
            | function::FINISH_NOTIFIED
                if !offered =>
            {
                ServiceStatus::NotSupported
            }
            function::UNREGISTER_FROM_NOTIFICATION if self.notification.is_some() => {
                self.notification = None;
                self.outstanding = false;
                ServiceStatus::Ok
            }
            function::FINISH_NOTIFIED if self.notification.is_some() && self.outstanding => {
                self.outstanding = false;
                ServiceStatus::Ok
            }
            function::UNREGISTER_FROM_NOTIFICATION | function::FINISH_NOTIFIED => {
                ServiceStatus::Denied
            }
            function::START => {
                return self.start(arguments[0], arguments[1], memory, now_microseconds)
            }
            _ => ServiceStatus::NoFunction,
        };
        status(answer)
    }

    fn start(
        &mut self,
        qualifier: u64,
        locality: u64,
        memory: &mut dyn NormalWorldMemory,
        now_microseconds: u64,
    ) -> Answer {
        if qualifier > 0xFF || locality >= u64::from(LOCALITY_COUNT) {
            return status(ServiceStatus::InvalidArgument);
        }
        let Some(qualifier) = StartQualifier::from_raw(qualifier) else {
            return status(ServiceStatus::InvalidArgument);
        };
        if !self.crb_ready && !self.set_up_crb(memory, false) {
            return status(ServiceStatus::InvalidCrbControlData);
        }
        let locality = locality as u8;
        let page = QEMU_VIRT_CRB.locality_base(locality);
        let result = match qualifier {
            StartQualifier::LocalityRequest => self.locality_request(page, locality, memory),
            StartQualifier::Command => self.command(page, locality, memory, now_microseconds),
        };
        match result {
            Ok(answer) => answer,
            // The CRB is normal-world memory: it vanished under the partition.
            Err(_) => status(ServiceStatus::InvalidCrbControlData),
        }
    }

    fn locality_request(
        &mut self,
        page: u64,
        locality: u8,
        memory: &mut dyn NormalWorldMemory,
    ) -> Result<Answer, crate::MemoryError> {
        let control = read_u32(memory, page + crb::LOC_CTRL as u64)?;
        write_u32(memory, page + crb::LOC_CTRL as u64, 0)?;
        if control & crb::loc_ctrl::RELINQUISH != 0 && self.active == Some(locality) {
            self.active = None;
            self.idle = true;
            write_u32(memory, page + crb::LOC_STS as u64, 0)?;
        }
        let free = self.active.is_none() || self.active == Some(locality);
        if control & crb::loc_ctrl::REQUEST_ACCESS != 0 && free {
            // Granted now; a request while another locality is active waits
            // (LOC_STS.granted stays clear until it asks again).
            self.active = Some(locality);
            write_u32(memory, page + crb::LOC_STS as u64, crb::loc_sts::GRANTED)?;
        }
        let state = match self.active {
            Some(active) => {
                crb::loc_state::VALID
                    | crb::loc_state::ASSIGNED
                    | (u32::from(active) << crb::loc_state::ACTIVE_SHIFT)
            }
            None => crb::loc_state::VALID,
        };
        for other in 0..LOCALITY_COUNT {
            write_u32(
                memory,
                QEMU_VIRT_CRB.locality_base(other) + crb::LOC_STATE as u64,
                state,
            )?;
        }
        Ok(status(ServiceStatus::Ok))
    }

    fn command(
        &mut self,
        page: u64,
        locality: u8,
        memory: &mut dyn NormalWorldMemory,
        now_microseconds: u64,
    ) -> Result<Answer, crate::MemoryError> {
        if self.active != Some(locality) {
            return Ok(status(ServiceStatus::Denied));
        }
        let register = |offset: usize| page + offset as u64;
        let request = read_u32(memory, register(crb::CTRL_REQ))?;
        if request & crb::ctrl_req::GO_IDLE != 0 {
            self.idle = true;
        }
        if request & crb::ctrl_req::COMMAND_READY != 0 {
            self.idle = false;
        }
        if request != 0 {
            write_u32(memory, register(crb::CTRL_REQ), 0)?;
        }
        let mut control_status = read_u32(memory, register(crb::CTRL_STS))?;
        if self.idle {
            control_status |= crb::ctrl_sts::IDLE;
        } else {
            control_status &= !crb::ctrl_sts::IDLE;
        }
        write_u32(memory, register(crb::CTRL_STS), control_status)?;
        if read_u32(memory, register(crb::CTRL_START))? & 1 == 0 {
            return Ok(status(ServiceStatus::Ok));
        }
        if let Some(background) = self.background {
            // The command runs: a cancel ends it now, anything else waits.
            if background.locality == locality
                && read_u32(memory, register(crb::CTRL_CANCEL))? & 1 != 0
            {
                self.background = None;
                self.execute(page, locality, memory)?;
            }
            return Ok(status(ServiceStatus::Ok));
        }
        // A command: a TPM that was idle wakes up for it (Linux before its
        // 2025 idle support never sent cmdReady over FF-A).
        self.idle = false;
        if !self.buffers_valid(page, memory)? {
            return Ok(status(ServiceStatus::InvalidCrbControlData));
        }
        let background = u64::from(self.config.background_microseconds);
        if self.notification.is_some() || background > 0 {
            self.background = Some(Background {
                locality,
                deadline_microseconds: now_microseconds.saturating_add(background),
            });
            return Ok(status(ServiceStatus::Ok));
        }
        self.execute(page, locality, memory)?;
        Ok(status(ServiceStatus::Ok))
    }

    /// Whether the command and response addresses lie in the page's data
    /// buffer and hold at least a header.
    fn buffers_valid(
        &self,
        page: u64,
        memory: &mut dyn NormalWorldMemory,
    ) -> Result<bool, crate::MemoryError> {
        let register = |offset: usize| page + offset as u64;
        let command_size = read_u32(memory, register(crb::CTRL_CMD_SIZE))? as usize;
        let command_address = u64::from(read_u32(memory, register(crb::CTRL_CMD_PA_LOW))?)
            | u64::from(read_u32(memory, register(crb::CTRL_CMD_PA_HIGH))?) << 32;
        let response_size = read_u32(memory, register(crb::CTRL_RSP_SIZE))? as usize;
        let response_address = read_u64(memory, register(crb::CTRL_RSP_PA))?;
        let data = page + crb::DATA_BUFFER as u64;
        let inside = |address: u64, size: usize| {
            address >= data
                && size >= engine::HEADER_SIZE
                && address
                    .checked_add(size as u64)
                    .is_some_and(|end| end <= data + crb::DATA_BUFFER_SIZE as u64)
        };
        Ok(inside(command_address, command_size) && inside(response_address, response_size))
    }

    /// Runs the command in locality `locality`'s page (checked by
    /// [`Self::buffers_valid`]), writes the response and clears `CTRL_START`.
    fn execute(
        &mut self,
        page: u64,
        locality: u8,
        memory: &mut dyn NormalWorldMemory,
    ) -> Result<(), crate::MemoryError> {
        let register = |offset: usize| page + offset as u64;
        if !self.buffers_valid(page, memory)? {
            // Changed under a running command: it ends without a response.
            return write_u32(memory, register(crb::CTRL_START), 0);
        }
        let command_size = read_u32(memory, register(crb::CTRL_CMD_SIZE))? as usize;
        let command_address = u64::from(read_u32(memory, register(crb::CTRL_CMD_PA_LOW))?)
            | u64::from(read_u32(memory, register(crb::CTRL_CMD_PA_HIGH))?) << 32;
        let response_size = read_u32(memory, register(crb::CTRL_RSP_SIZE))? as usize;
        let response_address = read_u64(memory, register(crb::CTRL_RSP_PA))?;
        let mut command = [0u8; crb::DATA_BUFFER_SIZE];
        let mut header = [0u8; engine::HEADER_SIZE];
        memory.read(command_address, &mut header)?;
        let claimed = u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize;
        let length = claimed.clamp(engine::HEADER_SIZE, command_size);
        memory.read(command_address, &mut command[..length])?;
        let mut response = [0u8; crb::DATA_BUFFER_SIZE];
        let code = u32::from_be_bytes([header[6], header[7], header[8], header[9]]);
        let cancelled = read_u32(memory, register(crb::CTRL_CANCEL))? & 1 != 0;
        let broken = !self.malformed_done
            && self.config.malformed != MalformedResponse::None
            && code == self.config.malformed_command;
        let written = if cancelled {
            let mut reply = [0u8; engine::HEADER_SIZE];
            reply[0..2].copy_from_slice(&engine::tag::NO_SESSIONS.to_be_bytes());
            reply[2..6].copy_from_slice(&(engine::HEADER_SIZE as u32).to_be_bytes());
            reply[6..10].copy_from_slice(&engine::response_code::CANCELED.to_be_bytes());
            response[..engine::HEADER_SIZE].copy_from_slice(&reply);
            engine::HEADER_SIZE
        } else if broken && self.config.malformed == MalformedResponse::FatalError {
            0
        } else {
            self.commands = self.commands.saturating_add(1);
            self.engine
                .execute(&command[..length], locality, &mut response[..response_size])
        };
        if broken {
            self.malformed_done = true;
            match self.config.malformed {
                MalformedResponse::SizeBeyondBuffer => {
                    response[2..6].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes())
                }
                MalformedResponse::SizeBelowHeader => {
                    response[2..6].copy_from_slice(&4u32.to_be_bytes())
                }
                MalformedResponse::WrongTag => {
                    response[0..2].copy_from_slice(&0x1234u16.to_be_bytes())
                }
                MalformedResponse::FatalError => {
                    write_u32(memory, register(crb::CTRL_STS), crb::ctrl_sts::ERROR)?;
                }
                MalformedResponse::None => {}
            }
        }
        memory.write(response_address, &response[..written])?;
        write_u32(memory, register(crb::CTRL_START), 0)
    }
}

fn read_u32(memory: &mut dyn NormalWorldMemory, address: u64) -> Result<u32, crate::MemoryError> {
    let mut bytes = [0u8; 4];
    memory.read(address, &mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

fn read_u64(memory: &mut dyn NormalWorldMemory, address: u64) -> Result<u64, crate::MemoryError> {
    let mut bytes = [0u8; 8];
    memory.read(address, &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

fn write_u32(
    memory: &mut dyn NormalWorldMemory,
    address: u64,
    value: u32,
) -> Result<(), crate::MemoryError> {
    memory.write(address, &value.to_le_bytes())
}
