//! One yielding call on an OP-TEE thread: the argument struct read from
//! shared memory, the command (`entry_std.c`), the parameters copied in
//! and out, and the RPCs it suspends on.
//!
//! A [`Frame`] is the thread's whole state: where the argument struct is,
//! what it asked, the TA parameters as OP-TEE's core hands them to a TA,
//! and how far the call got ([`Stage`]), so that it can be suspended at an
//! RPC or a foreign interrupt and resumed later.

use super::pta::{self, PtaProgress};
use super::shm::{MemoryView, SharedObjects};
use super::{OpteeFault, Pta, Session, RPC_PARAMETERS, SESSION_CAPACITY};
use ffa_abi::optee::message::{
    self, Header, RawParameter, HEADER_SIZE, MAXIMUM_PARAMETERS, PARAMETER_SIZE, TA_PARAMETERS,
};
use ffa_abi::optee::{attribute, command, device_pta, login, origin, rpc, test_pta, TeeResult};

/// A TA parameter after OP-TEE's core copied it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaParameter {
    /// None.
    None,
    /// A value: its type (1–3) and words a, b.
    Value { kind: u64, a: u64, b: u64 },
    /// FF-A memory: its type (5–7), the handle (`FMEM_NULL_HANDLE`: a null
    /// reference), the offset into it and the size.
    Memory {
        kind: u64,
        cookie: u64,
        offset: u64,
        size: u64,
    },
}

impl TaParameter {
    /// The TEE parameter type (`TEE_PARAM_TYPE_*`; the message types' numbers).
    pub(crate) fn kind(&self) -> u64 {
        match *self {
            TaParameter::None => 0,
            TaParameter::Value { kind, .. } | TaParameter::Memory { kind, .. } => kind,
        }
    }
}

/// An RPC OP-TEE asks the normal world to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RpcRequest {
    pub(crate) command: u32,
    pub(crate) parameters: [RawParameter; RPC_PARAMETERS],
    pub(crate) count: usize,
}

impl RpcRequest {
    /// An RPC with `parameters`.
    pub(crate) fn new(command: u32, parameters: &[RawParameter]) -> RpcRequest {
        let mut request = RpcRequest {
            command,
            parameters: [RawParameter::default(); RPC_PARAMETERS],
            count: parameters.len().min(RPC_PARAMETERS),
        };
        request.parameters[..request.count].copy_from_slice(&parameters[..request.count]);
        request
    }
}

/// What the normal world answered an RPC with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RpcAnswer {
    pub(crate) result: u32,
    pub(crate) parameters: [RawParameter; RPC_PARAMETERS],
    pub(crate) count: usize,
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not started: the faults that come first.
    Prologue,
    /// Waiting for the answer to the fault's unknown RPC.
    FaultRpc,
    /// The command is to run.
    Command,
    /// Open session: waiting for the answer to `LOAD_TA`.
    LoadTa,
    /// Invoke: the PTA runs, on session `session`.
    Invoke { session: u32, state: pta::State },
}

/// How a step ended.
pub(crate) enum Progress {
    /// The thread waits for this RPC.
    Rpc(RpcRequest),
    /// A normal-world interrupt preempted the thread.
    Interrupted,
    /// The call is over; w3 of the answer (0 once the results are in the
    /// argument struct).
    Done(u32),
}

/// What a call may touch.
pub(crate) struct Context<'c, 'w> {
    pub(crate) view: &'c mut MemoryView<'w>,
    pub(crate) objects: &'c mut SharedObjects,
    pub(crate) sessions: &'c mut [Option<Session>; SESSION_CAPACITY],
    pub(crate) next_session: &'c mut u32,
    pub(crate) fault: OpteeFault,
}

/// Handles a call holds (its argument memory and its memrefs').
const HELD_CAPACITY: usize = 1 + TA_PARAMETERS;

/// A thread's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    cookie: u64,
    offset: u64,
    rpc_offset: u64,
    header: Header,
    raw: [RawParameter; MAXIMUM_PARAMETERS],
    parameters: [TaParameter; TA_PARAMETERS],
    /// Where the TA's parameters start in `raw` (2 for open session).
    first_ta: usize,
    ta_count: usize,
    stage: Stage,
    interrupts_left: u32,
    unknown_rpc_sent: bool,
    awaiting_rpc: bool,
    held: [u64; HELD_CAPACITY],
    held_count: usize,
}

impl Frame {
    /// Reads the argument struct at `offset` of `cookie`'s memory, as
    /// `yielding_call_with_arg` does: `Err` is w3 of the answer.
    pub(crate) fn start(
        view: &mut MemoryView<'_>,
        objects: &mut SharedObjects,
        cookie: u64,
        offset: u64,
        fault: OpteeFault,
    ) -> Result<Frame, TeeResult> {
        let slot = objects.get(view, cookie).ok_or(TeeResult::BAD_PARAMETERS)?;
        let mut bytes = [0u8; HEADER_SIZE];
        objects
            .read(view.memory, slot, offset, &mut bytes)
            .map_err(|_| TeeResult::BAD_PARAMETERS)?;
        let header = Header::decode(&bytes);
        let count = header.num_params as usize;
        if count > MAXIMUM_PARAMETERS {
            return Err(TeeResult::BAD_PARAMETERS);
        }
        let rpc_offset = offset + message::size(count) as u64;
        let rpc_end = rpc_offset + message::size(RPC_PARAMETERS) as u64;
        if rpc_end > objects.size(slot) {
            return Err(TeeResult::BAD_PARAMETERS);
        }
        let mut raw = [RawParameter::default(); MAXIMUM_PARAMETERS];
        for (index, parameter) in raw.iter_mut().enumerate().take(count) {
            let mut bytes = [0u8; PARAMETER_SIZE];
            objects
                .read(
                    view.memory,
                    slot,
                    offset + message::size(index) as u64,
                    &mut bytes,
                )
                .map_err(|_| TeeResult::BAD_PARAMETERS)?;
            *parameter = RawParameter::decode(&bytes);
        }
        objects.hold(slot);
        Ok(Frame {
            cookie,
            offset,
            rpc_offset,
            header,
            raw,
            parameters: [TaParameter::None; TA_PARAMETERS],
            first_ta: 0,
            ta_count: 0,
            stage: Stage::Prologue,
            interrupts_left: if fault == OpteeFault::Interrupts {
                super::INTERRUPTS_PER_CALL
            } else {
                0
            },
            unknown_rpc_sent: false,
            awaiting_rpc: false,
            held: [cookie, 0, 0, 0, 0],
            held_count: 1,
        })
    }

    /// Runs the call on until it needs the normal world or ends. `answer`
    /// is the answer to the RPC it last asked for.
    pub(crate) fn step(
        &mut self,
        context: &mut Context<'_, '_>,
        mut answer: Option<RpcAnswer>,
    ) -> Progress {
        self.awaiting_rpc = false;
        loop {
            match self.stage {
                Stage::Prologue => {
                    if self.interrupts_left > 0 {
                        self.interrupts_left -= 1;
                        return Progress::Interrupted;
                    }
                    if context.fault == OpteeFault::UnknownRpc && !self.unknown_rpc_sent {
                        self.unknown_rpc_sent = true;
                        self.stage = Stage::FaultRpc;
                        return self.ask(RpcRequest::new(
                            test_pta::UNKNOWN_RPC_COMMAND,
                            &[RawParameter::value(attribute::VALUE_INPUT, 1, 2, 3)],
                        ));
                    }
                    self.stage = Stage::Command;
                }
                Stage::FaultRpc => {
                    answer = None;
                    self.stage = Stage::Command;
                }
                Stage::Command => match self.header.cmd {
                    command::OPEN_SESSION => match self.open_session(context) {
                        Some(progress) => return progress,
                        None => continue,
                    },
                    command::INVOKE_COMMAND => match self.start_invoke(context) {
                        Some(progress) => return progress,
                        None => continue,
                    },
                    command::CLOSE_SESSION => return self.close_session(context),
                    command::CANCEL => return self.cancel(context),
                    // `__tee_entry_std`: an unknown command leaves the
                    // argument struct alone and answers in w3.
                    _ => return Progress::Done(TeeResult::NOT_IMPLEMENTED.0),
                },
                Stage::LoadTa => {
                    // Nothing can be loaded from a normal world without
                    // tee-supplicant; whatever it answered, there is no TA.
                    let _ = answer.take();
                    return self.complete(context, TeeResult::ITEM_NOT_FOUND, origin::TEE, 0);
                }
                Stage::Invoke { session, mut state } => {
                    let Some(index) = find_session(context.sessions, session) else {
                        return self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0);
                    };
                    let Some(mut current) = context.sessions[index] else {
                        return self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0);
                    };
                    let mut pta_context = pta::PtaContext {
                        view: &mut *context.view,
                        objects: &mut *context.objects,
                        parameters: &mut self.parameters,
                        session: &mut current,
                        fault: context.fault,
                    };
                    let progress = pta::invoke(&mut pta_context, &mut state, answer.take());
                    context.sessions[index] = Some(current);
                    self.stage = Stage::Invoke { session, state };
                    return match progress {
                        PtaProgress::Rpc(request) => self.ask(request),
                        PtaProgress::Done(result) => {
                            self.copy_out(context);
                            self.complete(context, result, origin::TRUSTED_APPLICATION, 0)
                        }
                    };
                }
            }
        }
    }

    fn ask(&mut self, request: RpcRequest) -> Progress {
        self.awaiting_rpc = true;
        Progress::Rpc(request)
    }

    /// Open session (`entry_open_session`): `None` to go on with `stage`.
    fn open_session(&mut self, context: &mut Context<'_, '_>) -> Option<Progress> {
        let count = self.header.num_params as usize;
        let meta = attribute::META | attribute::VALUE_INPUT;
        if count < 2 || self.raw[0].attribute != meta || self.raw[1].attribute != meta {
            return Some(self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0));
        }
        let login = self.raw[1].c as u32;
        if !matches!(
            login,
            login::PUBLIC
                | login::REE_KERNEL
                | login::USER
                | login::GROUP
                | login::APPLICATION
                | login::APPLICATION_USER
                | login::APPLICATION_GROUP
        ) {
            return Some(self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0));
        }
        if let Err(result) = self.copy_in(context, 2) {
            return Some(self.complete(context, result, origin::TEE, 0));
        }
        let uuid = message::values_to_uuid(self.raw[0].a, self.raw[0].b);
        let pta = if uuid == device_pta::UUID {
            Pta::DeviceEnumeration
        } else if uuid == test_pta::UUID {
            Pta::Test
        } else {
            // Not built in: ask the normal world to load it.
            self.stage = Stage::LoadTa;
            return Some(self.ask(RpcRequest::new(
                rpc::LOAD_TA,
                &[
                    RawParameter::value(attribute::VALUE_INPUT, self.raw[0].a, self.raw[0].b, 0),
                    RawParameter::memory(
                        attribute::FMEM_OUTPUT,
                        0,
                        0,
                        message::FMEM_NULL_HANDLE,
                        0,
                    ),
                ],
            )));
        };
        let Some(free) = context.sessions.iter().position(Option::is_none) else {
            return Some(self.complete(context, TeeResult::OUT_OF_MEMORY, origin::TEE, 0));
        };
        let id = *context.next_session;
        *context.next_session = id.wrapping_add(1).max(1);
        context.sessions[free] = Some(Session {
            id,
            pta,
            cancelled: false,
        });
        self.copy_out(context);
        Some(self.complete(context, TeeResult::SUCCESS, origin::TEE, id))
    }

    /// Invoke (`entry_invoke_command`), up to the TA: `None` to go on with `stage`.
    fn start_invoke(&mut self, context: &mut Context<'_, '_>) -> Option<Progress> {
        if let Err(result) = self.copy_in(context, 0) {
            return Some(self.complete(context, result, origin::TEE, 0));
        }
        let Some(index) = find_session(context.sessions, self.header.session) else {
            return Some(self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0));
        };
        let Some(session) = context.sessions[index].as_mut() else {
            return Some(self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0));
        };
        session.cancelled = false;
        self.stage = Stage::Invoke {
            session: session.id,
            state: pta::State::new(session.pta, self.header.func),
        };
        None
    }

    fn close_session(&mut self, context: &mut Context<'_, '_>) -> Progress {
        if self.header.num_params != 0 {
            return self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0);
        }
        match find_session(context.sessions, self.header.session) {
            Some(index) => {
                context.sessions[index] = None;
                self.complete(context, TeeResult::SUCCESS, origin::TEE, 0)
            }
            None => self.complete(context, TeeResult::ITEM_NOT_FOUND, origin::TEE, 0),
        }
    }

    fn cancel(&mut self, context: &mut Context<'_, '_>) -> Progress {
        if self.header.num_params != 0 {
            return self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0);
        }
        match find_session(context.sessions, self.header.session) {
            Some(index) => {
                if let Some(session) = context.sessions[index].as_mut() {
                    session.cancelled = true;
                }
                self.complete(context, TeeResult::SUCCESS, origin::TEE, 0)
            }
            None => self.complete(context, TeeResult::BAD_PARAMETERS, origin::TEE, 0),
        }
    }

    /// `copy_in_params` of the parameters from `first` on.
    fn copy_in(&mut self, context: &mut Context<'_, '_>, first: usize) -> Result<(), TeeResult> {
        let count = (self.header.num_params as usize).saturating_sub(first);
        self.first_ta = first;
        if count > TA_PARAMETERS {
            return Err(TeeResult::BAD_PARAMETERS);
        }
        self.ta_count = count;
        for index in 0..count {
            let raw = self.raw[first + index];
            if raw.is_meta() {
                return Err(TeeResult::BAD_PARAMETERS);
            }
            self.parameters[index] = match raw.kind() {
                attribute::NONE => TaParameter::None,
                kind @ (attribute::VALUE_INPUT
                | attribute::VALUE_OUTPUT
                | attribute::VALUE_INOUT) => TaParameter::Value {
                    kind,
                    a: raw.a,
                    b: raw.b,
                },
                kind @ (attribute::FMEM_INPUT | attribute::FMEM_OUTPUT | attribute::FMEM_INOUT) => {
                    let cookie = raw.memory_handle();
                    let size = raw.memory_size();
                    if cookie == message::FMEM_NULL_HANDLE && size == 0 {
                        TaParameter::Memory {
                            kind,
                            cookie,
                            offset: 0,
                            size: 0,
                        }
                    } else {
                        if raw.internal_offset() != 0 {
                            return Err(TeeResult::BAD_PARAMETERS);
                        }
                        let slot = context
                            .objects
                            .get(context.view, cookie)
                            .ok_or(TeeResult::BAD_PARAMETERS)?;
                        let offset = raw.memory_offset();
                        match offset.checked_add(size) {
                            Some(end) if end <= context.objects.size(slot) => {}
                            _ => return Err(TeeResult::SECURITY),
                        }
                        if self.held_count < HELD_CAPACITY {
                            context.objects.hold(slot);
                            self.held[self.held_count] = cookie;
                            self.held_count += 1;
                        }
                        TaParameter::Memory {
                            kind,
                            cookie,
                            offset,
                            size,
                        }
                    }
                }
                _ => return Err(TeeResult::BAD_PARAMETERS),
            };
        }
        Ok(())
    }

    /// `copy_out_param`: output values and memref sizes back into the struct.
    fn copy_out(&mut self, context: &mut Context<'_, '_>) {
        for index in 0..self.ta_count {
            let at = self.first_ta + index;
            let mut raw = self.raw[at];
            match self.parameters[index] {
                TaParameter::Value { kind, a, b } if kind != attribute::VALUE_INPUT => {
                    raw.a = a;
                    raw.b = b;
                }
                TaParameter::Memory { kind, size, .. } if kind != attribute::FMEM_INPUT => {
                    raw.b = size;
                }
                _ => continue,
            }
            self.raw[at] = raw;
            self.write(context, message::size(at) as u64, &raw.encode());
        }
    }

    /// Writes the result (and the session, for open) and ends the call.
    fn complete(
        &mut self,
        context: &mut Context<'_, '_>,
        result: TeeResult,
        result_origin: u32,
        session: u32,
    ) -> Progress {
        if self.header.cmd == command::OPEN_SESSION {
            self.write(context, message::SESSION as u64, &session.to_le_bytes());
        }
        self.write(context, message::RET as u64, &result.0.to_le_bytes());
        self.write(
            context,
            message::RET_ORIGIN as u64,
            &result_origin.to_le_bytes(),
        );
        Progress::Done(0)
    }

    /// Writes `bytes` at `at` of the argument struct.
    fn write(&self, context: &mut Context<'_, '_>, at: u64, bytes: &[u8]) {
        if let Some(slot) = context.objects.slot(self.cookie) {
            let _ = context
                .objects
                .write(context.view.memory, slot, self.offset + at, bytes);
        }
    }

    /// Writes `request` as the RPC argument struct (`get_rpc_arg`).
    pub(crate) fn write_rpc(
        &self,
        view: &mut MemoryView<'_>,
        objects: &mut SharedObjects,
        request: &RpcRequest,
    ) {
        let Some(slot) = objects.slot(self.cookie) else {
            return;
        };
        let mut area = [0u8; message::size(RPC_PARAMETERS)];
        let header = Header {
            cmd: request.command,
            ret: TeeResult::GENERIC.0,
            num_params: request.count as u32,
            ..Header::default()
        };
        area[..HEADER_SIZE].copy_from_slice(&header.encode());
        for (index, parameter) in request.parameters[..request.count].iter().enumerate() {
            let at = message::size(index);
            area[at..at + PARAMETER_SIZE].copy_from_slice(&parameter.encode());
        }
        let _ = objects.write(view.memory, slot, self.rpc_offset, &area);
    }

    /// Reads the normal world's answer to the RPC this call waits for
    /// (`None` if it waits for none: it was interrupted).
    pub(crate) fn read_rpc_answer(
        &self,
        view: &mut MemoryView<'_>,
        objects: &SharedObjects,
    ) -> Option<RpcAnswer> {
        if !self.awaiting_rpc {
            return None;
        }
        let slot = objects.slot(self.cookie)?;
        let mut area = [0u8; message::size(RPC_PARAMETERS)];
        if objects
            .read(view.memory, slot, self.rpc_offset, &mut area)
            .is_err()
        {
            return Some(RpcAnswer {
                result: TeeResult::GENERIC.0,
                parameters: [RawParameter::default(); RPC_PARAMETERS],
                count: 0,
            });
        }
        let mut header_bytes = [0u8; HEADER_SIZE];
        header_bytes.copy_from_slice(&area[..HEADER_SIZE]);
        let header = Header::decode(&header_bytes);
        let mut parameters = [RawParameter::default(); RPC_PARAMETERS];
        for (index, parameter) in parameters.iter_mut().enumerate() {
            let at = message::size(index);
            let mut bytes = [0u8; PARAMETER_SIZE];
            bytes.copy_from_slice(&area[at..at + PARAMETER_SIZE]);
            *parameter = RawParameter::decode(&bytes);
        }
        Some(RpcAnswer {
            result: header.ret,
            parameters,
            count: (header.num_params as usize).min(RPC_PARAMETERS),
        })
    }

    /// The call is over: its memory is no longer in use.
    pub(crate) fn finish(&self, objects: &mut SharedObjects) {
        for cookie in &self.held[..self.held_count] {
            objects.release(*cookie);
        }
    }
}

fn find_session(sessions: &[Option<Session>; SESSION_CAPACITY], id: u32) -> Option<usize> {
    sessions
        .iter()
        .position(|session| session.is_some_and(|session| session.id == id))
}
