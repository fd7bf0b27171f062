//! OP-TEE, as its S-EL1 SPMC runs it beside itself: the partition
//! `486178e0-e7f8-11e3-bc5e-0002a5d5c51b` (ID 0x8001) answering OP-TEE's
//! FF-A ABI ([`ffa_abi::optee`]), as `optee_os` does in
//! `core/arch/arm/kernel/thread_spmc.c` and `core/tee/entry_std.c`.
//!
//! Present when the model answers as OP-TEE ([`crate::Personality::OpTee`]):
//! direct requests (32- or 64-bit) to 0x8001, or to the SPMC's own ID
//! 0x8000, come here instead of to the hosted partitions.
//!
//! - Blocking calls: the API version (1.0), OP-TEE's version ([`OS_VERSION`],
//!   build ID [`BUILD_ID`]), the capabilities (four RPC parameters,
//!   `ARG_OFFSET`; no asynchronous notifications), `UNREGISTER_SHM`
//!   (`shm.rs`), `ENABLE_ASYNC_NOTIF` (`TEE_ERROR_NOT_IMPLEMENTED`: not
//!   ready), anything else `TEE_ERROR_BAD_PARAMETERS` in w3.
//! - Yielding calls run on one of [`THREAD_COUNT`] threads (none free:
//!   w3 = `TEE_ERROR_BUSY`). The argument struct is read from the memory
//!   handle in w4/w5 at the offset in w6, which OP-TEE retrieves on first
//!   use (`shm.rs`); an unknown handle, an offset outside it, more than six
//!   parameters, or no room for the RPC struct after it: w3 =
//!   `TEE_ERROR_BAD_PARAMETERS`. Commands (`entry.rs`): open session (meta
//!   parameters checked; a UUID that is no pseudo TA makes OP-TEE ask the
//!   normal world to load it, `LOAD_TA`, and then answer
//!   `TEE_ERROR_ITEM_NOT_FOUND`), invoke, close, cancel; anything else w3 =
//!   `TEE_ERROR_NOT_IMPLEMENTED`.
//! - A thread that needs the normal world suspends with an RPC (`w4 = 1`, its
//!   index in w7) and is resumed by `YIELDING_CALL_RESUME` with that index
//!   (another index: w3 = `TEE_ERROR_BAD_PARAMETERS`); the answer is read
//!   from the RPC struct.
//! - Pseudo TAs (`pta.rs`): device enumeration, and the test PTA whose
//!   commands issue every RPC on purpose.
//!
//! Faults ([`OpteeFault`], from the configuration blob) make it misbehave
//! the ways a client must survive.

mod entry;
mod pta;
mod shm;

use crate::call::{Call, Reply};
use crate::config::FaultConfig;
use crate::function_id::{
    FFA_MSG_SEND_DIRECT_REQ_32, FFA_MSG_SEND_DIRECT_REQ_64, FFA_MSG_SEND_DIRECT_RESP_32,
    FFA_MSG_SEND_DIRECT_RESP_64,
};
use crate::memory::NormalWorldMemory;
use crate::memory_partition::partition_layout;
use crate::memory_sharing::MemorySharing;
use crate::partition::OPTEE_PARTITION_ID;
use crate::personality::Personality;
use crate::{NORMAL_WORLD_ENDPOINT_ID, SPMC_ID};
use entry::Frame;
use ffa_abi::optee::{capabilities, function, yielding, TeeResult};
use ffa_abi::Status;
use shm::{MemoryView, SharedObjects};

pub use pta::{TEST_BUFFER_LIMIT, WAIT_TIMEOUT_MS};
pub use shm::{OBJECT_CAPACITY, RANGES_PER_OBJECT};

/// OP-TEE threads that run yielding calls (`CFG_NUM_THREADS`; small, so
/// that a client with several calls in flight meets `TEE_ERROR_BUSY`).
pub const THREAD_COUNT: usize = 2;
/// Sessions open at once.
pub const SESSION_CAPACITY: usize = 8;
/// The OS version `GET_OS_VERSION` reports.
pub const OS_VERSION: (u32, u32) = (4, 4);
/// The build ID `GET_OS_VERSION` reports (the top of a git SHA-1 in OP-TEE).
pub const BUILD_ID: u32 = 0x4d4f_444c;
/// Parameters of an RPC argument struct (`THREAD_RPC_MAX_NUM_PARAMS`).
pub const RPC_PARAMETERS: usize = 4;
/// Yielding calls answered `TEE_ERROR_BUSY` under [`OpteeFault::Busy`].
pub const BUSY_CALLS: u32 = 3;
/// Foreign interrupts per yielding call under [`OpteeFault::Interrupts`].
pub const INTERRUPTS_PER_CALL: u32 = 2;

/// A fault OP-TEE injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpteeFault {
    /// None.
    None,
    /// The first [`BUSY_CALLS`] yielding calls find every thread busy.
    Busy,
    /// Every yielding call finds every thread busy (`ETHREAD_LIMIT`).
    ThreadsExhausted,
    /// OP-TEE cannot find the memory of any argument struct: every
    /// yielding call answers w3 = `TEE_ERROR_BAD_PARAMETERS`.
    BadParameters,
    /// Every yielding call first issues an RPC the normal world cannot know.
    UnknownRpc,
    /// `GET_API_VERSION` answers major version 2.
    ApiMajor2,
    /// Every yielding call is preempted [`INTERRUPTS_PER_CALL`] times.
    Interrupts,
    /// The device-enumeration PTA lists no device.
    NoDevices,
}

impl OpteeFault {
    /// The value in the configuration blob.
    pub const fn encode(self) -> u8 {
        match self {
            OpteeFault::None => 0,
            OpteeFault::Busy => 1,
            OpteeFault::ThreadsExhausted => 2,
            OpteeFault::BadParameters => 3,
            OpteeFault::UnknownRpc => 4,
            OpteeFault::ApiMajor2 => 5,
            OpteeFault::Interrupts => 6,
            OpteeFault::NoDevices => 7,
        }
    }

    /// The fault a blob value names.
    pub const fn decode(value: u8) -> Option<OpteeFault> {
        Some(match value {
            0 => OpteeFault::None,
            1 => OpteeFault::Busy,
            2 => OpteeFault::ThreadsExhausted,
            3 => OpteeFault::BadParameters,
            4 => OpteeFault::UnknownRpc,
            5 => OpteeFault::ApiMajor2,
            6 => OpteeFault::Interrupts,
            7 => OpteeFault::NoDevices,
            _ => return None,
        })
    }
}

/// What a test can see of OP-TEE.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpteeSummary {
    /// Sessions open.
    pub open_sessions: usize,
    /// Memory handles OP-TEE holds (retrieved and not unregistered).
    pub held_handles: usize,
    /// Threads suspended in an RPC or an interrupt.
    pub suspended_threads: usize,
    /// Yielding calls started.
    pub calls: u32,
    /// Yielding calls answered `TEE_ERROR_BUSY`.
    pub busy_answers: u32,
    /// RPCs issued.
    pub rpcs: u32,
    /// The result the normal world answered the last RPC with.
    pub last_rpc_result: u32,
}

/// A trusted application OP-TEE runs in its core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pta {
    /// `core/pta/device.c`.
    DeviceEnumeration,
    /// The model's test PTA.
    Test,
}

/// An open session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) id: u32,
    pub(crate) pta: Pta,
    /// A `CANCEL` named this session since its last invocation began.
    pub(crate) cancelled: bool,
}

/// OP-TEE's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpTee {
    fault: OpteeFault,
    busy_left: u32,
    threads: [Option<Frame>; THREAD_COUNT],
    sessions: [Option<Session>; SESSION_CAPACITY],
    next_session: u32,
    objects: SharedObjects,
    summary: OpteeSummary,
}

impl OpTee {
    pub(crate) const fn new(config: &FaultConfig) -> OpTee {
        OpTee {
            fault: config.optee_fault,
            busy_left: if matches!(config.optee_fault, OpteeFault::Busy) {
                BUSY_CALLS
            } else {
                0
            },
            threads: [None; THREAD_COUNT],
            sessions: [None; SESSION_CAPACITY],
            next_session: 1,
            objects: SharedObjects::new(),
            summary: OpteeSummary {
                open_sessions: 0,
                held_handles: 0,
                suspended_threads: 0,
                calls: 0,
                busy_answers: 0,
                rpcs: 0,
                last_rpc_result: 0,
            },
        }
    }

    /// What a test can see.
    pub(crate) fn summary(&self) -> OpteeSummary {
        OpteeSummary {
            open_sessions: self.sessions.iter().flatten().count(),
            held_handles: self.objects.held(),
            suspended_threads: self.threads.iter().flatten().count(),
            ..self.summary
        }
    }

    /// Answers `call` if it is a direct request to OP-TEE (when the model
    /// is OP-TEE's SPMC); `None` leaves it to the rest of the model.
    pub(crate) fn intercept(
        &mut self,
        call: &Call<'_>,
        sharing: &mut MemorySharing,
        memory: &mut dyn NormalWorldMemory,
        config: &FaultConfig,
    ) -> Option<Reply> {
        let function_id = call.function_id();
        if config.personality != Personality::OpTee
            || !matches!(
                function_id,
                FFA_MSG_SEND_DIRECT_REQ_32 | FFA_MSG_SEND_DIRECT_REQ_64
            )
        {
            return None;
        }
        let endpoints = call.word(1);
        let (sender, receiver) = ((endpoints >> 16) as u16, endpoints as u16);
        if receiver != OPTEE_PARTITION_ID && receiver != SPMC_ID {
            return None;
        }
        if sender != NORMAL_WORLD_ENDPOINT_ID {
            return Some(Reply::error(Status::InvalidParameters));
        }
        // Framework messages: OP-TEE answers only the version request,
        // which the SPMD (not the normal world) sends.
        if call.word(2) & (1 << 31) != 0 {
            return Some(Reply::error(Status::NotSupported));
        }
        let blocking_function = if function_id == FFA_MSG_SEND_DIRECT_REQ_64 {
            FFA_MSG_SEND_DIRECT_RESP_64
        } else {
            FFA_MSG_SEND_DIRECT_RESP_32
        };
        let swapped = u64::from(receiver) << 16 | u64::from(sender);
        let mut view = MemoryView {
            sharing,
            memory,
            rules: config.personality,
            layout: partition_layout(config),
            own_id: OPTEE_PARTITION_ID,
        };
        if call.word(3) & function::YIELDING_CALL_BIT != 0 {
            // Yielding calls always answer in the 32-bit form (`thread_spmc_a64.S`).
            let results = self.yielding(&mut view, call);
            Some(reply(FFA_MSG_SEND_DIRECT_RESP_32, swapped, results))
        } else {
            let results = self.blocking(&mut view, call);
            Some(reply(blocking_function, swapped, results))
        }
    }

    /// A blocking call: w3–w7 of the answer.
    fn blocking(&mut self, view: &mut MemoryView<'_>, call: &Call<'_>) -> [u32; 5] {
        match call.word(3) {
            function::GET_API_VERSION => {
                let major = if self.fault == OpteeFault::ApiMajor2 {
                    2
                } else {
                    ffa_abi::optee::API_MAJOR
                };
                [major, ffa_abi::optee::API_MINOR, 0, 0, 0]
            }
            function::GET_OS_VERSION => [OS_VERSION.0, OS_VERSION.1, BUILD_ID, 0, 0],
            function::EXCHANGE_CAPABILITIES => {
                [0, RPC_PARAMETERS as u32, capabilities::ARG_OFFSET, 0, 0]
            }
            function::UNREGISTER_SHM => {
                let cookie = u64::from(call.word(4)) | u64::from(call.word(5)) << 32;
                [self.objects.unregister(view, cookie), 0, 0, 0, 0]
            }
            function::ENABLE_ASYNC_NOTIF => [TeeResult::NOT_IMPLEMENTED.0, 0, 0, 0, 0],
            _ => [TeeResult::BAD_PARAMETERS.0, 0, 0, 0, 0],
        }
    }

    /// A yielding call: w3–w7 of the answer.
    fn yielding(&mut self, view: &mut MemoryView<'_>, call: &Call<'_>) -> [u32; 5] {
        match call.word(3) {
            function::YIELDING_CALL_WITH_ARG => {
                self.summary.calls += 1;
                if self.fault == OpteeFault::ThreadsExhausted || self.busy_left > 0 {
                    self.busy_left = self.busy_left.saturating_sub(1);
                    self.summary.busy_answers += 1;
                    return [TeeResult::BUSY.0, 0, 0, 0, 0];
                }
                let Some(thread) = self.threads.iter().position(Option::is_none) else {
                    self.summary.busy_answers += 1;
                    return [TeeResult::BUSY.0, 0, 0, 0, 0];
                };
                let cookie = u64::from(call.word(4)) | u64::from(call.word(5)) << 32;
                let offset = u64::from(call.word(6));
                let frame = if self.fault == OpteeFault::BadParameters {
                    Err(TeeResult::BAD_PARAMETERS)
                } else {
                    Frame::start(view, &mut self.objects, cookie, offset, self.fault)
                };
                match frame {
                    Ok(frame) => self.run(view, thread, frame, None),
                    Err(result) => [result.0, 0, 0, 0, 0],
                }
            }
            function::YIELDING_CALL_RESUME => {
                let thread = call.word(7) as usize;
                match self.threads.get_mut(thread).and_then(Option::take) {
                    Some(frame) => {
                        let answer = frame.read_rpc_answer(view, &self.objects);
                        if let Some(answer) = answer {
                            self.summary.last_rpc_result = answer.result;
                        }
                        self.run(view, thread, frame, answer)
                    }
                    None => [TeeResult::BAD_PARAMETERS.0, 0, 0, 0, 0],
                }
            }
            // `__thread_std_smc_entry` runs only WITH_ARG; anything else ends
            // the thread it was given at once with FFA_DENIED.
            _ => [Status::Denied.code() as u32, 0, 0, 0, 0],
        }
    }

    /// Runs `frame` on `thread` until it needs the normal world or ends.
    fn run(
        &mut self,
        view: &mut MemoryView<'_>,
        thread: usize,
        mut frame: Frame,
        answer: Option<entry::RpcAnswer>,
    ) -> [u32; 5] {
        let mut context = entry::Context {
            view,
            objects: &mut self.objects,
            sessions: &mut self.sessions,
            next_session: &mut self.next_session,
            fault: self.fault,
        };
        match frame.step(&mut context, answer) {
            entry::Progress::Rpc(request) => {
                frame.write_rpc(context.view, context.objects, &request);
                self.summary.rpcs += 1;
                self.threads[thread] = Some(frame);
                [0, yielding::RPC, 0, 0, thread as u32]
            }
            entry::Progress::Interrupted => {
                self.threads[thread] = Some(frame);
                [0, yielding::INTERRUPT, 0, 0, thread as u32]
            }
            entry::Progress::Done(w3) => {
                frame.finish(context.objects);
                [w3, yielding::DONE, 0, 0, 0]
            }
        }
    }
}

/// A direct response `function` from OP-TEE (`endpoints` already swapped).
fn reply(function: u32, endpoints: u64, results: [u32; 5]) -> Reply {
    let mut reply = Reply::ffa(function).with(1, endpoints);
    for (index, value) in results.into_iter().enumerate() {
        reply = reply.with(3 + index, u64::from(value));
    }
    reply
}
