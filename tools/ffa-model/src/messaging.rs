//! Direct messaging (`FFA_MSG_SEND_DIRECT_REQ` 32/64, `FFA_MSG_SEND_DIRECT_REQ2`) and `FFA_RUN`.
//!
//! Checks of a direct request, in order:
//! 1. `DIRECT_REQ2` needs a negotiated version of v1.2 or later → else `NOT_SUPPORTED`.
//! 2. `DIRECT_REQ` 32/64: w2 (x2) must be zero (partition message; framework
//!    messages from the normal world are not supported) → else `INVALID_PARAMETERS`.
//! 3. w1 = sender << 16 | receiver; the sender must be 0 (the caller) → else
//!    `INVALID_PARAMETERS`.
//! 4. The receiver must be a hosted partition → else `INVALID_PARAMETERS`.
//! 5. It must advertise receipt of this request form (bit 0, or bit 9 for
//!    `DIRECT_REQ2`) → else `DENIED`.
//! 6. `DIRECT_REQ_64` to an AArch32 partition → `INVALID_PARAMETERS` (its
//!    registers cannot carry 64-bit values; callers must use the 32-bit form).
//! 7. `DIRECT_REQ2`: x2/x3 hold the target UUID as a little-endian register
//!    pair (x2 = bytes 0–7, x3 = bytes 8–15); it must be nil (the partition's
//!    own UUID) or the partition's UUID → else `INVALID_PARAMETERS`.
//! 8. A partition preempted in the middle of a request → `BUSY`.
//! 9. Busy storm, then retry storm (fault injection) → `BUSY` / `RETRY`.
//!
//! The response has the request's form: `FFA_MSG_SEND_DIRECT_RESP_32` (w3–w7),
//! `_64` (x3–x7) or `FFA_MSG_SEND_DIRECT_RESP2` (x4–x17, x2/x3 zero), with
//! w1 = responder << 16 | 0.
//!
//! Partition 0x8003 first answers `FFA_INTERRUPT` (w1 = 0x8003 << 16 | vCPU 0,
//! w2 = 0) `interrupt_count` times, then `FFA_YIELD` (w1 likewise, w2/w3 =
//! timeout 0) `yield_count` times; each is resumed with `FFA_RUN`
//! (w1 = 0x8003 << 16 | 0). `FFA_RUN` on an unknown partition or an execution
//! context index not below the partition's count → `INVALID_PARAMETERS`; on a
//! partition that is not preempted → `DENIED`.
//!
//! Partition 0x8005 runs the job its request asks for (`crate::scheduling`):
//! preempted (`FFA_INTERRUPT`) while an interrupt of the normal world is
//! pending, or yielding (`FFA_YIELD`, w2/w3 = the timeout in nanoseconds).
//! Partition 0x8004 answers its commands (`crate::notifier`): the dispatcher
//! serves them ([`Progress::Serve`]), since they reach the notification and
//! indirect-messaging state.

use crate::call::{Call, Reply};
use crate::config::FaultConfig;
use crate::function_id::{
    FFA_INTERRUPT, FFA_MSG_SEND_DIRECT_REQ2, FFA_MSG_SEND_DIRECT_REQ_32,
    FFA_MSG_SEND_DIRECT_REQ_64, FFA_MSG_SEND_DIRECT_RESP2, FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_SEND_DIRECT_RESP_64, FFA_YIELD,
};
use crate::partition::properties;
use crate::partition_table::{
    Behaviour, Execution, PartitionTable, PendingRequest, RequestKind, MAXIMUM_PAYLOAD_REGISTERS,
};
use crate::platform::Platform;
use crate::scheduling::{self, Job, Step};
use crate::NORMAL_WORLD_ENDPOINT_ID;
use ffa_abi::test_services::per_cpu;
use ffa_abi::Status;
use ffa_abi::Uuid;
use ffa_abi::Version;

/// Remaining injected `BUSY` and `RETRY` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Storms {
    busy_remaining: u32,
    retry_remaining: u32,
}

impl Storms {
    pub(crate) const fn new(config: &FaultConfig) -> Storms {
        Storms {
            busy_remaining: config.busy_storm,
            retry_remaining: config.retry_storm,
        }
    }

    fn next(&mut self) -> Option<Status> {
        if self.busy_remaining > 0 {
            self.busy_remaining -= 1;
            Some(Status::Busy)
        } else if self.retry_remaining > 0 {
            self.retry_remaining -= 1;
            Some(Status::Retry)
        } else {
            None
        }
    }
}

fn request_kind(function_id: u32) -> Option<RequestKind> {
    match function_id {
        FFA_MSG_SEND_DIRECT_REQ_32 => Some(RequestKind::Direct32),
        FFA_MSG_SEND_DIRECT_REQ_64 => Some(RequestKind::Direct64),
        FFA_MSG_SEND_DIRECT_REQ2 => Some(RequestKind::Direct2),
        _ => None,
    }
}

/// What handling a direct request or `FFA_RUN` came to.
pub(crate) enum Progress {
    /// The answer to the caller.
    Reply(Reply),
    /// The partition at `index` must answer `pending` itself (the notifier):
    /// the dispatcher computes its response payload and calls [`respond`].
    Serve {
        /// The partition's index in the table.
        index: usize,
        /// The request.
        pending: PendingRequest,
    },
}

/// Handle a direct request of any form, made on core `core`.
pub(crate) fn direct_request(
    table: &mut PartitionTable,
    storms: &mut Storms,
    config: &FaultConfig,
    version: Version,
    call: &Call<'_>,
    core: usize,
    platform: &mut dyn Platform,
) -> Progress {
    match validate_and_accept(table, storms, config, version, call, core) {
        Ok((index, pending)) => advance(table, index, pending, config, false, platform),
        Err(error) => Progress::Reply(Reply::error(error)),
    }
}

fn validate_and_accept(
    table: &mut PartitionTable,
    storms: &mut Storms,
    config: &FaultConfig,
    version: Version,
    call: &Call<'_>,
    core: usize,
) -> Result<(usize, PendingRequest), Status> {
    let kind = request_kind(call.function_id()).ok_or(Status::NotSupported)?;
    if kind == RequestKind::Direct2 && version < Version::V1_2 {
        return Err(Status::NotSupported);
    }
    if kind != RequestKind::Direct2 && call.register(2) != 0 {
        return Err(Status::InvalidParameters);
    }
    let endpoints = call.word(1);
    let sender = (endpoints >> 16) as u16;
    let receiver = endpoints as u16;
    if sender != NORMAL_WORLD_ENDPOINT_ID {
        return Err(Status::InvalidParameters);
    }
    let index = table.find(receiver).ok_or(Status::InvalidParameters)?;
    let information = *table.information_at(index);
    let receive_bit = match kind {
        RequestKind::Direct2 => properties::DIRECT_REQUEST2_RECEIVE,
        _ => properties::DIRECT_REQUEST_RECEIVE,
    };
    if information.properties & receive_bit == 0 {
        return Err(Status::Denied);
    }
    if kind == RequestKind::Direct64 && !information.is_aarch64() {
        return Err(Status::InvalidParameters);
    }
    if kind == RequestKind::Direct2 {
        let target = Uuid::from_register_pair([call.register(2), call.register(3)]);
        if !target.is_nil() && target != information.uuid() {
            return Err(Status::InvalidParameters);
        }
    }
    // The context that runs on this core: an MP partition has none for a
    // core beyond its count.
    let vcpu = table
        .context_for_core(index, core)
        .ok_or(Status::InvalidParameters)?;
    let entry = table.entry_mut(index);
    if matches!(entry.executions[usize::from(vcpu)], Execution::Preempted(_)) {
        return Err(Status::Busy);
    }
    if let Some(error) = storms.next() {
        return Err(error);
    }
    let mut payload = [0u64; MAXIMUM_PAYLOAD_REGISTERS];
    let first = kind.first_payload_register();
    for (offset, value) in payload.iter_mut().take(kind.payload_length()).enumerate() {
        *value = call.register(first + offset);
    }
    let interrupting = entry.behaviour == Behaviour::Interrupting;
    let preemptions = match entry.behaviour {
        Behaviour::Interrupting => config.interrupt_count,
        // WHO_AM_I: w4 asks for preemptions (bounded).
        Behaviour::PerCpu if payload[0] as u32 == per_cpu::WHO_AM_I => {
            (payload[1] as u32).min(per_cpu::MAXIMUM_PREEMPTIONS)
        }
        _ => 0,
    };
    let job = if entry.behaviour == Behaviour::Scheduling {
        match scheduling::accept(&payload[..kind.payload_length()]) {
            Ok(job) => job,
            Err(response) => {
                payload[..5].copy_from_slice(&response);
                Job::None
            }
        }
    } else {
        Job::None
    };
    let pending = PendingRequest {
        kind,
        sender,
        payload,
        interrupts_remaining: preemptions,
        yields_remaining: if interrupting { config.yield_count } else { 0 },
        execution_context: vcpu,
        job,
    };
    Ok((index, pending))
}

/// Run the partition at `index` on `pending` until it is preempted or
/// responds (`resumed`: by `FFA_RUN`).
fn advance(
    table: &mut PartitionTable,
    index: usize,
    mut pending: PendingRequest,
    config: &FaultConfig,
    resumed: bool,
    platform: &mut dyn Platform,
) -> Progress {
    let id = table.information_at(index).id;
    let target = u64::from(id) << 16 | u64::from(pending.execution_context);
    let vcpu = usize::from(pending.execution_context);
    let entry = table.entry_mut(index);
    if pending.interrupts_remaining > 0 {
        pending.interrupts_remaining -= 1;
        entry.executions[vcpu] = Execution::Preempted(pending);
        return Progress::Reply(Reply::ffa(FFA_INTERRUPT).with(1, target));
    }
    if pending.yields_remaining > 0 {
        pending.yields_remaining -= 1;
        entry.executions[vcpu] = Execution::Preempted(pending);
        return Progress::Reply(Reply::ffa(FFA_YIELD).with(1, target));
    }
    if pending.job != Job::None {
        match scheduling::run(&mut pending.job, resumed, platform) {
            Step::Preempted => {
                entry.executions[vcpu] = Execution::Preempted(pending);
                return Progress::Reply(Reply::ffa(FFA_INTERRUPT).with(1, target));
            }
            Step::Yielded(timeout_ns) => {
                entry.executions[vcpu] = Execution::Preempted(pending);
                return Progress::Reply(
                    Reply::ffa(FFA_YIELD)
                        .with(1, target)
                        .with(2, timeout_ns & 0xFFFF_FFFF)
                        .with(3, timeout_ns >> 32),
                );
            }
            Step::Respond(payload) => pending.payload[..5].copy_from_slice(&payload),
        }
    }
    entry.executions[vcpu] = Execution::Idle;
    entry.answered[vcpu] = entry.answered[vcpu].wrapping_add(1);
    if entry.behaviour == Behaviour::Notifier {
        return Progress::Serve { index, pending };
    }
    let mut payload = pending.payload;
    if entry.behaviour == Behaviour::PerCpu {
        let contexts = table.information_at(index).execution_context_count;
        let answered = table.entry_mut(index).answered[vcpu];
        payload[..5].copy_from_slice(&per_cpu_answer(&pending, answered, contexts));
    } else {
        entry
            .behaviour
            .respond(&mut payload[..pending.kind.payload_length()]);
    }
    Progress::Reply(respond(table, index, &payload, pending, config))
}

/// The response of the partition at `index` to `pending`, carrying
/// `payload` (the request's form decides how much of it).
pub(crate) fn respond(
    table: &PartitionTable,
    index: usize,
    payload: &[u64; MAXIMUM_PAYLOAD_REGISTERS],
    pending: PendingRequest,
    config: &FaultConfig,
) -> Reply {
    let responder = if config.wrong_responder {
        table.next_id(index)
    } else {
        table.information_at(index).id
    };
    let endpoints = u64::from(responder) << 16 | u64::from(pending.sender);
    let length = pending.kind.payload_length();
    let (function_id, mask) = match pending.kind {
        RequestKind::Direct32 => (FFA_MSG_SEND_DIRECT_RESP_32, 0xFFFF_FFFF),
        RequestKind::Direct64 => (FFA_MSG_SEND_DIRECT_RESP_64, u64::MAX),
        RequestKind::Direct2 => (FFA_MSG_SEND_DIRECT_RESP2, u64::MAX),
    };
    let mut reply = Reply::ffa(function_id).with(1, endpoints);
    if pending.kind == RequestKind::Direct2 {
        reply = reply.with_extended_results();
    }
    let first = pending.kind.first_payload_register();
    for (offset, value) in payload[..length].iter().enumerate() {
        reply = reply.with(first + offset, value & mask);
    }
    reply
}

/// The per-CPU partition's answer to `pending` on its context, which has
/// now answered `answered` requests: [status, vCPU, answered, contexts, 0],
/// or `INVALID_PARAMETERS` for an unknown command.
fn per_cpu_answer(pending: &PendingRequest, answered: u32, contexts: u16) -> [u64; 5] {
    if pending.payload[0] as u32 != per_cpu::WHO_AM_I {
        let invalid = Status::InvalidParameters.code() as u32 as u64;
        return [invalid, 0, 0, 0, 0];
    }
    [
        0,
        u64::from(pending.execution_context),
        u64::from(answered),
        u64::from(contexts),
        0,
    ]
}

/// Handle `FFA_RUN` made on core `core`: the target names a UP partition's
/// vCPU 0, or an MP partition's vCPU of this very core (Hafnium refuses
/// any other with `INVALID_PARAMETERS`).
pub(crate) fn run(
    table: &mut PartitionTable,
    config: &FaultConfig,
    call: &Call<'_>,
    core: usize,
    platform: &mut dyn Platform,
) -> Progress {
    let target = call.word(1);
    let id = (target >> 16) as u16;
    let execution_context = target as u16;
    let error = |status| Progress::Reply(Reply::error(status));
    let Some(index) = table.find(id) else {
        return error(Status::InvalidParameters);
    };
    if table.context_for_core(index, core) != Some(execution_context) {
        return error(Status::InvalidParameters);
    }
    match table.entry_mut(index).executions[usize::from(execution_context)] {
        Execution::Idle => error(Status::Denied),
        Execution::Preempted(pending) if pending.execution_context != execution_context => {
            error(Status::InvalidParameters)
        }
        Execution::Preempted(pending) => advance(table, index, pending, config, true, platform),
    }
}
