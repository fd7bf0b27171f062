//! The pseudo TAs in the model's OP-TEE core: device enumeration
//! (`core/pta/device.c`) and the test PTA ([`ffa_abi::optee::test_pta`]),
//! whose commands issue every RPC the kernel serves, on purpose.
//!
//! An invocation is resumable: [`invoke`] runs until the PTA needs an RPC
//! or is done, and is called again with the answer.

use super::entry::{RpcAnswer, RpcRequest, TaParameter};
use super::shm::{MemoryView, SharedObjects};
use super::{OpteeFault, Pta, Session};
use ffa_abi::optee::message::{RawParameter, FMEM_NULL_HANDLE, TA_PARAMETERS};
use ffa_abi::optee::{attribute, device_pta, rpc, test_pta, TeeResult};
use ffa_abi::Uuid;

/// The largest buffer the test PTA fills or allocates.
pub const TEST_BUFFER_LIMIT: u64 = 64 * 1024;
/// How long the test PTA's wait-queue wait lasts at most, in milliseconds.
pub const WAIT_TIMEOUT_MS: u64 = 1000;
/// The seed of the pattern the test PTA writes into memory it allocated.
const ALLOCATION_SEED: u64 = 0x5A;

/// How far an invocation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pta: Pta,
    command: u32,
    step: u8,
}

impl State {
    /// Command `command` of `pta`, not started.
    pub(crate) fn new(pta: Pta, command: u32) -> State {
        State {
            pta,
            command,
            step: 0,
        }
    }
}

/// What a PTA may touch.
pub(crate) struct PtaContext<'c, 'w> {
    pub(crate) view: &'c mut MemoryView<'w>,
    pub(crate) objects: &'c mut SharedObjects,
    pub(crate) parameters: &'c mut [TaParameter; TA_PARAMETERS],
    pub(crate) session: &'c mut Session,
    pub(crate) fault: OpteeFault,
}

/// How a step of a PTA ended.
pub(crate) enum PtaProgress {
    /// It needs this RPC.
    Rpc(RpcRequest),
    /// It is done.
    Done(TeeResult),
}

/// Runs `state`'s command on; `answer` is the answer to its last RPC.
pub(crate) fn invoke(
    context: &mut PtaContext<'_, '_>,
    state: &mut State,
    answer: Option<RpcAnswer>,
) -> PtaProgress {
    match state.pta {
        Pta::DeviceEnumeration => PtaProgress::Done(devices(context, state.command)),
        Pta::Test => test(context, state, answer),
    }
}

fn types(parameters: &[TaParameter; TA_PARAMETERS]) -> [u64; TA_PARAMETERS] {
    parameters.map(|parameter| parameter.kind())
}

const IN: u64 = attribute::VALUE_INPUT;
const OUT: u64 = attribute::VALUE_OUTPUT;
const MEM_IN: u64 = attribute::FMEM_INPUT;
const MEM_OUT: u64 = attribute::FMEM_OUTPUT;

/// `PTA_CMD_GET_DEVICES*`: the UUIDs into the one output memref.
fn devices(context: &mut PtaContext<'_, '_>, command: u32) -> TeeResult {
    if types(context.parameters) != [MEM_OUT, 0, 0, 0] {
        return TeeResult::BAD_PARAMETERS;
    }
    let listed: &[Uuid] = match command {
        device_pta::GET_DEVICES if context.fault == OpteeFault::NoDevices => &[],
        device_pta::GET_DEVICES => &[test_pta::UUID],
        device_pta::GET_DEVICES_SUPPLICANT | device_pta::GET_DEVICES_RPMB => &[],
        _ => return TeeResult::NOT_IMPLEMENTED,
    };
    let Some((cookie, offset, size)) = memory(context, 0) else {
        return TeeResult::BAD_PARAMETERS;
    };
    let needed = (listed.len() * device_pta::UUID_SIZE) as u64;
    set_memory_size(context, 0, needed);
    if size < needed {
        return TeeResult::SHORT_BUFFER;
    }
    for (index, uuid) in listed.iter().enumerate() {
        let at = offset + (index * device_pta::UUID_SIZE) as u64;
        if write(context, cookie, at, uuid.as_bytes()).is_err() {
            return TeeResult::BAD_PARAMETERS;
        }
    }
    TeeResult::SUCCESS
}

fn write(context: &mut PtaContext<'_, '_>, cookie: u64, at: u64, bytes: &[u8]) -> Result<(), ()> {
    if cookie == FMEM_NULL_HANDLE {
        return Err(());
    }
    let slot = context.objects.slot(cookie).ok_or(())?;
    context
        .objects
        .write(context.view.memory, slot, at, bytes)
        .map_err(|_| ())
}

fn read(
    context: &mut PtaContext<'_, '_>,
    cookie: u64,
    at: u64,
    bytes: &mut [u8],
) -> Result<(), ()> {
    if cookie == FMEM_NULL_HANDLE {
        return Err(());
    }
    let slot = context.objects.slot(cookie).ok_or(())?;
    context
        .objects
        .read(context.view.memory, slot, at, bytes)
        .map_err(|_| ())
}

fn value(context: &PtaContext<'_, '_>, index: usize) -> (u64, u64) {
    match context.parameters[index] {
        TaParameter::Value { a, b, .. } => (a, b),
        _ => (0, 0),
    }
}

fn set_value(context: &mut PtaContext<'_, '_>, index: usize, a: u64, b: u64) {
    if let TaParameter::Value { kind, .. } = context.parameters[index] {
        context.parameters[index] = TaParameter::Value { kind, a, b };
    }
}

/// The memory reference in parameter `index`: its handle, offset and size.
fn memory(context: &PtaContext<'_, '_>, index: usize) -> Option<(u64, u64, u64)> {
    match context.parameters[index] {
        TaParameter::Memory {
            cookie,
            offset,
            size,
            ..
        } => Some((cookie, offset, size)),
        _ => None,
    }
}

/// Tells the normal world the size of memory reference `index`: what was
/// written, or what is needed.
fn set_memory_size(context: &mut PtaContext<'_, '_>, index: usize, size: u64) {
    if let TaParameter::Memory { size: old, .. } = &mut context.parameters[index] {
        *old = size;
    }
}

fn notification(operation: u64, key: u64, timeout: u64) -> RpcRequest {
    RpcRequest::new(
        rpc::NOTIFICATION,
        &[RawParameter::value(IN, operation, key, timeout)],
    )
}

/// The test PTA.
fn test(
    context: &mut PtaContext<'_, '_>,
    state: &mut State,
    answer: Option<RpcAnswer>,
) -> PtaProgress {
    let kinds = types(context.parameters);
    let done = PtaProgress::Done;
    match (state.command, state.step) {
        (test_pta::ADD, _) => {
            if kinds != [IN, OUT, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            let (a, b) = value(context, 0);
            set_value(context, 1, a.wrapping_add(b), a ^ b);
            done(TeeResult::SUCCESS)
        }
        (test_pta::FILL, _) => done(fill(context, kinds)),
        (test_pta::CHECKSUM, _) => done(checksum(context, kinds)),
        (test_pta::WAIT_QUEUE, 0) => {
            if kinds != [IN, 0, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            state.step = 1;
            PtaProgress::Rpc(notification(rpc::NOTIFICATION_SEND, value(context, 0).0, 0))
        }
        (test_pta::WAIT_QUEUE, 1) => {
            let result = answer.map_or(TeeResult::GENERIC.0, |answer| answer.result);
            if result != 0 {
                return done(TeeResult(result));
            }
            state.step = 2;
            PtaProgress::Rpc(notification(
                rpc::NOTIFICATION_WAIT,
                value(context, 0).0,
                WAIT_TIMEOUT_MS,
            ))
        }
        (test_pta::WAIT_QUEUE, _) => done(TeeResult(
            answer.map_or(TeeResult::GENERIC.0, |answer| answer.result),
        )),
        (test_pta::WAIT, 0) => {
            if kinds != [IN, 0, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            let (key, timeout) = value(context, 0);
            state.step = 1;
            PtaProgress::Rpc(notification(rpc::NOTIFICATION_WAIT, key, timeout))
        }
        (test_pta::WAKE, 0) => {
            if kinds != [IN, 0, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            state.step = 1;
            PtaProgress::Rpc(notification(rpc::NOTIFICATION_SEND, value(context, 0).0, 0))
        }
        (test_pta::WAIT | test_pta::WAKE, _) => done(TeeResult(
            answer.map_or(TeeResult::GENERIC.0, |answer| answer.result),
        )),
        (test_pta::SLEEP, 0) => {
            if kinds != [IN, 0, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            state.step = 1;
            PtaProgress::Rpc(RpcRequest::new(
                rpc::SUSPEND,
                &[RawParameter::value(IN, value(context, 0).0, 0, 0)],
            ))
        }
        (test_pta::SLEEP, _) => {
            if context.session.cancelled {
                context.session.cancelled = false;
                return done(TeeResult::CANCEL);
            }
            done(TeeResult(
                answer.map_or(TeeResult::GENERIC.0, |answer| answer.result),
            ))
        }
        (test_pta::SHM_ROUND_TRIP, 0) => {
            let size = value(context, 0).0;
            if kinds != [IN, OUT, 0, 0] || size == 0 || size > TEST_BUFFER_LIMIT {
                return done(TeeResult::BAD_PARAMETERS);
            }
            state.step = 1;
            PtaProgress::Rpc(RpcRequest::new(
                rpc::SHM_ALLOC,
                &[RawParameter::value(IN, rpc::SHM_TYPE_KERNEL, size, 8)],
            ))
        }
        (test_pta::SHM_ROUND_TRIP, 1) => {
            let size = value(context, 0).0;
            let Some(answer) = answer else {
                return done(TeeResult::OUT_OF_MEMORY);
            };
            let allocated = answer.parameters[0];
            if answer.result != 0 || answer.count != 1 || allocated.attribute != MEM_OUT {
                return done(TeeResult::OUT_OF_MEMORY);
            }
            let cookie = allocated.memory_handle();
            let Some(slot) = context.objects.get(context.view, cookie) else {
                return done(TeeResult::OUT_OF_MEMORY);
            };
            let start = u64::from(allocated.internal_offset());
            if start + size > context.objects.size(slot) {
                context.objects.drop_own(context.view, cookie);
                return done(TeeResult::OUT_OF_MEMORY);
            }
            let sum = round_trip(context, cookie, start, size);
            set_value(context, 1, sum.unwrap_or(0), size);
            // `thread_rpc_free`: drop it first, then ask the normal world to free it.
            context.objects.drop_own(context.view, cookie);
            state.step = if sum.is_some() { 2 } else { 3 };
            PtaProgress::Rpc(RpcRequest::new(
                rpc::SHM_FREE,
                &[RawParameter::value(IN, rpc::SHM_TYPE_KERNEL, cookie, 0)],
            ))
        }
        (test_pta::SHM_ROUND_TRIP, 2) => done(TeeResult::SUCCESS),
        (test_pta::SHM_ROUND_TRIP, _) => done(TeeResult::BAD_PARAMETERS),
        (test_pta::UNKNOWN_RPC, 0) => {
            if kinds != [OUT, 0, 0, 0] {
                return done(TeeResult::BAD_PARAMETERS);
            }
            state.step = 1;
            PtaProgress::Rpc(RpcRequest::new(
                test_pta::UNKNOWN_RPC_COMMAND,
                &[RawParameter::value(IN, 1, 2, 3)],
            ))
        }
        (test_pta::UNKNOWN_RPC, _) => {
            let result = answer.map_or(TeeResult::GENERIC.0, |answer| answer.result);
            set_value(context, 0, u64::from(result), 0);
            done(TeeResult::SUCCESS)
        }
        _ => done(TeeResult::BAD_PARAMETERS),
    }
}

/// Writes the allocation pattern over `size` bytes at `start` of `cookie`,
/// reads them back and sums them.
fn round_trip(context: &mut PtaContext<'_, '_>, cookie: u64, start: u64, size: u64) -> Option<u64> {
    let mut chunk = [0u8; 256];
    let mut done = 0u64;
    while done < size {
        let take = (size - done).min(chunk.len() as u64) as usize;
        for (index, byte) in chunk[..take].iter_mut().enumerate() {
            *byte = test_pta::pattern(ALLOCATION_SEED, done + index as u64);
        }
        write(context, cookie, start + done, &chunk[..take]).ok()?;
        done += take as u64;
    }
    let mut sum = 0u64;
    let mut done = 0u64;
    while done < size {
        let take = (size - done).min(chunk.len() as u64) as usize;
        read(context, cookie, start + done, &mut chunk[..take]).ok()?;
        sum = chunk[..take]
            .iter()
            .fold(sum, |sum, byte| sum.wrapping_add(u64::from(*byte)));
        done += take as u64;
    }
    Some(sum)
}

/// `FILL`: the pattern of the seed into the output memref.
fn fill(context: &mut PtaContext<'_, '_>, kinds: [u64; TA_PARAMETERS]) -> TeeResult {
    if kinds != [MEM_OUT, IN, 0, 0] {
        return TeeResult::BAD_PARAMETERS;
    }
    let (seed, length) = value(context, 1);
    if length > TEST_BUFFER_LIMIT {
        return TeeResult::BAD_PARAMETERS;
    }
    let Some((cookie, offset, size)) = memory(context, 0) else {
        return TeeResult::BAD_PARAMETERS;
    };
    set_memory_size(context, 0, length);
    if size < length {
        return TeeResult::SHORT_BUFFER;
    }
    let mut chunk = [0u8; 256];
    let mut done = 0u64;
    while done < length {
        let take = (length - done).min(chunk.len() as u64) as usize;
        for (index, byte) in chunk[..take].iter_mut().enumerate() {
            *byte = test_pta::pattern(seed, done + index as u64);
        }
        if write(context, cookie, offset + done, &chunk[..take]).is_err() {
            return TeeResult::BAD_PARAMETERS;
        }
        done += take as u64;
    }
    TeeResult::SUCCESS
}

/// `CHECKSUM`: the sum of the input memref's bytes.
fn checksum(context: &mut PtaContext<'_, '_>, kinds: [u64; TA_PARAMETERS]) -> TeeResult {
    if kinds != [MEM_IN, OUT, 0, 0] {
        return TeeResult::BAD_PARAMETERS;
    }
    let Some((cookie, offset, size)) = memory(context, 0) else {
        return TeeResult::BAD_PARAMETERS;
    };
    let mut chunk = [0u8; 256];
    let mut sum = 0u64;
    let mut done = 0u64;
    while done < size {
        let take = (size - done).min(chunk.len() as u64) as usize;
        if read(context, cookie, offset + done, &mut chunk[..take]).is_err() {
            return TeeResult::BAD_PARAMETERS;
        }
        sum = chunk[..take]
            .iter()
            .fold(sum, |sum, byte| sum.wrapping_add(u64::from(*byte)));
        done += take as u64;
    }
    set_value(context, 1, sum, size);
    TeeResult::SUCCESS
}
