//! OP-TEE's ABI over FF-A: the direct-message functions, `struct
//! optee_msg_arg` in shared memory, its parameters, commands, RPCs, result
//! codes, and the pseudo trusted applications the kernel talks to.
//!
//! Spoken by the kernel's OP-TEE driver (`capsules/optee`) and by the model
//! of OP-TEE in `tools/ffa-model` (`src/optee/`), so the numbers live in the
//! one crate both share. Written from OP-TEE's `core/arch/arm/include/optee_ffa.h`,
//! `core/include/optee_msg.h`, `optee_rpc_cmd.h`, `core/arch/arm/kernel/thread_spmc.c`
//! and `core/tee/entry_std.c`, and Linux's `drivers/tee/optee/ffa_abi.c`
//! (the reference normal-world client); the numbers are OP-TEE's, the
//! prose is ours.
//!
//! ## Direct messages
//!
//! Every call is an `FFA_MSG_SEND_DIRECT_REQ_32` to OP-TEE's partition
//! (UUID [`OPTEE_UUID`]) with w3 the [`function`] and w4–w7 its arguments;
//! the answer is an `FFA_MSG_SEND_DIRECT_RESP_32` with results in w3–w7.
//!
//! | w3 of the request | w4–w7 | w3–w7 of the response |
//! |---|---|---|
//! | [`function::GET_API_VERSION`] | – | w3 major, w4 minor |
//! | [`function::GET_OS_VERSION`] | – | w3 major, w4 minor, w5 build ID (top 32 bits of the git SHA-1, or 0) |
//! | [`function::EXCHANGE_CAPABILITIES`] | – | w3 0 or an error, w4 `[7:0]` parameters an RPC argument struct holds, w5 [`capabilities`], w6 highest asynchronous notification value (0: unstated) |
//! | [`function::UNREGISTER_SHM`] | w4/w5 handle low/high | w3 0 (also for an unknown handle), or an FF-A error code when the memory is in use |
//! | [`function::YIELDING_CALL_WITH_ARG`] | w4/w5 handle of the memory holding the argument struct, w6 its offset | see below |
//! | [`function::YIELDING_CALL_RESUME`] | w7 the thread the last RPC named | see below |
//!
//! A yielding call answers w3 = 0 and w4 = one of [`yielding`]: done (the
//! results are in the argument struct), an RPC to serve (its own argument
//! struct follows the call's: [`message::rpc_offset`]), or a foreign
//! interrupt; w7 names the OP-TEE thread to resume. A non-zero w3 means OP-TEE
//! did not run the call: [`TeeResult::BUSY`] when every OP-TEE thread is taken
//! (the SMC ABI calls it `ETHREAD_LIMIT`), [`TeeResult::BAD_PARAMETERS`] when it
//! cannot use the memory or the offset, [`TeeResult::NOT_IMPLEMENTED`] for an
//! unknown command.

use crate::uuid::Uuid;

const fn uuid(text: &str) -> Uuid {
    match Uuid::parse(text) {
        Some(uuid) => uuid,
        None => panic!("invalid UUID constant"),
    }
}

/// OP-TEE's FF-A partition UUID (also its "OS UUID"): `486178e0-e7f8-11e3-bc5e-0002a5d5c51b`.
pub const OPTEE_UUID: Uuid = uuid("486178e0-e7f8-11e3-bc5e-0002a5d5c51b");

/// The major version of OP-TEE's FF-A ABI this vocabulary describes.
pub const API_MAJOR: u32 = 1;
/// The minor version of OP-TEE's FF-A ABI this vocabulary describes.
pub const API_MINOR: u32 = 0;

/// The functions of w3. Bit 31 set: a yielding call (runs on an OP-TEE thread).
pub mod function {
    /// The ABI's version: w3 major, w4 minor.
    pub const GET_API_VERSION: u32 = 0;
    /// OP-TEE's own version and build.
    pub const GET_OS_VERSION: u32 = 1;
    /// Capabilities both ways.
    pub const EXCHANGE_CAPABILITIES: u32 = 2;
    /// Stop using a memory handle (before the owner reclaims it).
    pub const UNREGISTER_SHM: u32 = 3;
    /// Turn on asynchronous notifications with the value in w4.
    pub const ENABLE_ASYNC_NOTIF: u32 = 5;
    /// Bit 31: the call is a yielding one.
    pub const YIELDING_CALL_BIT: u32 = 1 << 31;
    /// Run the argument struct at (w4/w5 handle, w6 offset).
    pub const YIELDING_CALL_WITH_ARG: u32 = YIELDING_CALL_BIT;
    /// Resume the thread in w7 after an RPC or a foreign interrupt.
    pub const YIELDING_CALL_RESUME: u32 = YIELDING_CALL_BIT | 1;

    /// A short name of `function`, for logs.
    pub const fn name(function: u32) -> &'static str {
        match function {
            GET_API_VERSION => "GET_API_VERSION",
            GET_OS_VERSION => "GET_OS_VERSION",
            EXCHANGE_CAPABILITIES => "EXCHANGE_CAPABILITIES",
            UNREGISTER_SHM => "UNREGISTER_SHM",
            ENABLE_ASYNC_NOTIF => "ENABLE_ASYNC_NOTIF",
            YIELDING_CALL_WITH_ARG => "YIELDING_CALL_WITH_ARG",
            YIELDING_CALL_RESUME => "YIELDING_CALL_RESUME",
            _ => "unknown",
        }
    }
}

/// w4 of a yielding call's answer.
pub mod yielding {
    /// The call is over; its results are in the argument struct.
    pub const DONE: u32 = 0;
    /// OP-TEE asks the normal world to serve an RPC, then resume (w7).
    pub const RPC: u32 = 1;
    /// A normal-world interrupt preempted the thread; resume it (w7).
    pub const INTERRUPT: u32 = 2;
}

/// Bits of w5 in the answer to `EXCHANGE_CAPABILITIES`.
pub mod capabilities {
    /// w6 of a yielding call may be non-zero: several argument structs per page.
    pub const ARG_OFFSET: u32 = 1 << 0;
    /// OP-TEE signals the normal world with FF-A notifications.
    pub const ASYNC_NOTIF: u32 = 1 << 1;
    /// OP-TEE uses the RPMB probe RPCs.
    pub const RPMB_PROBE: u32 = 1 << 2;
    /// Protected memory (lent, not shared).
    pub const PROTECTED_MEMORY: u32 = 1 << 3;
    /// Every bit this vocabulary knows.
    pub const KNOWN: u32 = ARG_OFFSET | ASYNC_NOTIF | RPMB_PROBE | PROTECTED_MEMORY;
}

/// A TEE result code (`TEE_SUCCESS`, `TEE_ERROR_*`): `arg.ret`, an RPC's
/// answer, or w3 of a yielding call OP-TEE did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TeeResult(pub u32);

impl TeeResult {
    /// Success.
    pub const SUCCESS: TeeResult = TeeResult(0);
    /// A failure with no better code.
    pub const GENERIC: TeeResult = TeeResult(0xFFFF_0000);
    /// Access denied.
    pub const ACCESS_DENIED: TeeResult = TeeResult(0xFFFF_0001);
    /// The operation was cancelled.
    pub const CANCEL: TeeResult = TeeResult(0xFFFF_0002);
    /// Concurrent accesses conflict.
    pub const ACCESS_CONFLICT: TeeResult = TeeResult(0xFFFF_0003);
    /// Too much data for the request.
    pub const EXCESS_DATA: TeeResult = TeeResult(0xFFFF_0004);
    /// Badly formatted input.
    pub const BAD_FORMAT: TeeResult = TeeResult(0xFFFF_0005);
    /// A parameter is invalid.
    pub const BAD_PARAMETERS: TeeResult = TeeResult(0xFFFF_0006);
    /// Not valid in the current state.
    pub const BAD_STATE: TeeResult = TeeResult(0xFFFF_0007);
    /// The item (a trusted application, a session) does not exist.
    pub const ITEM_NOT_FOUND: TeeResult = TeeResult(0xFFFF_0008);
    /// Not implemented.
    pub const NOT_IMPLEMENTED: TeeResult = TeeResult(0xFFFF_0009);
    /// Not supported.
    pub const NOT_SUPPORTED: TeeResult = TeeResult(0xFFFF_000A);
    /// No data.
    pub const NO_DATA: TeeResult = TeeResult(0xFFFF_000B);
    /// Out of memory.
    pub const OUT_OF_MEMORY: TeeResult = TeeResult(0xFFFF_000C);
    /// Busy: for a yielding call, every OP-TEE thread is taken (`ETHREAD_LIMIT`).
    pub const BUSY: TeeResult = TeeResult(0xFFFF_000D);
    /// Communication with the other side failed.
    pub const COMMUNICATION: TeeResult = TeeResult(0xFFFF_000E);
    /// A security fault.
    pub const SECURITY: TeeResult = TeeResult(0xFFFF_000F);
    /// The output buffer is too small; its memref's size says how much is needed.
    pub const SHORT_BUFFER: TeeResult = TeeResult(0xFFFF_0010);
    /// Cancelled from outside.
    pub const EXTERNAL_CANCEL: TeeResult = TeeResult(0xFFFF_0011);
    /// Timed out.
    pub const TIMEOUT: TeeResult = TeeResult(0xFFFF_3001);
    /// The trusted application is dead.
    pub const TARGET_DEAD: TeeResult = TeeResult(0xFFFF_3024);
    /// Secure storage is not available yet (OP-TEE's own code).
    pub const STORAGE_NOT_AVAILABLE: TeeResult = TeeResult(0xF010_0003);

    /// Whether this is success.
    pub const fn is_success(self) -> bool {
        self.0 == 0
    }

    /// The code's name, for logs (`"unknown"` for codes this vocabulary lacks).
    pub const fn name(self) -> &'static str {
        match self {
            TeeResult::SUCCESS => "TEE_SUCCESS",
            TeeResult::GENERIC => "TEE_ERROR_GENERIC",
            TeeResult::ACCESS_DENIED => "TEE_ERROR_ACCESS_DENIED",
            TeeResult::CANCEL => "TEE_ERROR_CANCEL",
            TeeResult::ACCESS_CONFLICT => "TEE_ERROR_ACCESS_CONFLICT",
            TeeResult::EXCESS_DATA => "TEE_ERROR_EXCESS_DATA",
            TeeResult::BAD_FORMAT => "TEE_ERROR_BAD_FORMAT",
            TeeResult::BAD_PARAMETERS => "TEE_ERROR_BAD_PARAMETERS",
            TeeResult::BAD_STATE => "TEE_ERROR_BAD_STATE",
            TeeResult::ITEM_NOT_FOUND => "TEE_ERROR_ITEM_NOT_FOUND",
            TeeResult::NOT_IMPLEMENTED => "TEE_ERROR_NOT_IMPLEMENTED",
            TeeResult::NOT_SUPPORTED => "TEE_ERROR_NOT_SUPPORTED",
            TeeResult::NO_DATA => "TEE_ERROR_NO_DATA",
            TeeResult::OUT_OF_MEMORY => "TEE_ERROR_OUT_OF_MEMORY",
            TeeResult::BUSY => "TEE_ERROR_BUSY",
            TeeResult::COMMUNICATION => "TEE_ERROR_COMMUNICATION",
            TeeResult::SECURITY => "TEE_ERROR_SECURITY",
            TeeResult::SHORT_BUFFER => "TEE_ERROR_SHORT_BUFFER",
            TeeResult::EXTERNAL_CANCEL => "TEE_ERROR_EXTERNAL_CANCEL",
            TeeResult::TIMEOUT => "TEE_ERROR_TIMEOUT",
            TeeResult::TARGET_DEAD => "TEE_ERROR_TARGET_DEAD",
            TeeResult::STORAGE_NOT_AVAILABLE => "TEE_ERROR_STORAGE_NOT_AVAILABLE",
            _ => "unknown",
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for TeeResult {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        match self.name() {
            "unknown" => defmt::write!(formatter, "TEE result {=u32:#010x}", self.0),
            name => defmt::write!(formatter, "{=str}", name),
        }
    }
}

/// Who produced a result (`arg.ret_origin`).
pub mod origin {
    /// The client API.
    pub const API: u32 = 1;
    /// The communication between the worlds.
    pub const COMMUNICATION: u32 = 2;
    /// The TEE (OP-TEE's core).
    pub const TEE: u32 = 3;
    /// The trusted application.
    pub const TRUSTED_APPLICATION: u32 = 4;

    /// A short name, for logs.
    pub const fn name(origin: u32) -> &'static str {
        match origin {
            API => "API",
            COMMUNICATION => "COMMS",
            TEE => "TEE",
            TRUSTED_APPLICATION => "TA",
            _ => "unknown",
        }
    }
}

/// A parameter's attribute word (`param.attr`).
pub mod attribute {
    /// No parameter.
    pub const NONE: u64 = 0x0;
    /// A value the trusted application reads.
    pub const VALUE_INPUT: u64 = 0x1;
    /// A value the trusted application writes.
    pub const VALUE_OUTPUT: u64 = 0x2;
    /// A value both ways.
    pub const VALUE_INOUT: u64 = 0x3;
    /// FF-A memory (a window of a shared handle) the trusted application reads.
    pub const FMEM_INPUT: u64 = 0x5;
    /// FF-A memory the trusted application writes.
    pub const FMEM_OUTPUT: u64 = 0x6;
    /// FF-A memory both ways.
    pub const FMEM_INOUT: u64 = 0x7;
    /// Bits `[7:0]`: the type.
    pub const TYPE_MASK: u64 = 0xFF;
    /// Bit 8: a meta parameter (open session's UUIDs and login), not the TA's.
    pub const META: u64 = 1 << 8;
}

/// `arg.cmd` of a normal-world call.
pub mod command {
    /// Open a session: two meta parameters, then the TA's.
    pub const OPEN_SESSION: u32 = 0;
    /// Invoke a command of an open session.
    pub const INVOKE_COMMAND: u32 = 1;
    /// Close a session (no parameters).
    pub const CLOSE_SESSION: u32 = 2;
    /// Cancel the call with `cancel_id` of a session (no parameters).
    pub const CANCEL: u32 = 3;
    /// The bottom half of an asynchronous notification.
    pub const DO_BOTTOM_HALF: u32 = 6;
    /// The normal world stops taking asynchronous notifications.
    pub const STOP_ASYNC_NOTIF: u32 = 7;

    /// A short name, for logs.
    pub const fn name(command: u32) -> &'static str {
        match command {
            OPEN_SESSION => "OPEN_SESSION",
            INVOKE_COMMAND => "INVOKE_COMMAND",
            CLOSE_SESSION => "CLOSE_SESSION",
            CANCEL => "CANCEL",
            DO_BOTTOM_HALF => "DO_BOTTOM_HALF",
            STOP_ASYNC_NOTIF => "STOP_ASYNC_NOTIF",
            _ => "unknown",
        }
    }
}

/// Login methods (`value.c` of open session's second meta parameter).
pub mod login {
    /// No identity.
    pub const PUBLIC: u32 = 0;
    /// A user.
    pub const USER: u32 = 1;
    /// A group.
    pub const GROUP: u32 = 2;
    /// An application.
    pub const APPLICATION: u32 = 4;
    /// An application and its user.
    pub const APPLICATION_USER: u32 = 5;
    /// An application and its group.
    pub const APPLICATION_GROUP: u32 = 6;
    /// The normal-world kernel itself (OP-TEE gives it a nil client UUID).
    pub const REE_KERNEL: u32 = 0x8000_0000;
}

/// RPCs: `arg.cmd` of the argument struct OP-TEE hands the normal world.
pub mod rpc {
    /// Load a trusted application (tee-supplicant).
    pub const LOAD_TA: u32 = 0;
    /// Replay-protected memory (tee-supplicant).
    pub const RPMB: u32 = 1;
    /// The normal world's file system (tee-supplicant).
    pub const FS: u32 = 2;
    /// The normal world's time: out value a seconds, b nanoseconds.
    pub const GET_TIME: u32 = 3;
    /// OP-TEE's wait queues: value a [`NOTIFICATION_WAIT`] or [`NOTIFICATION_SEND`], b the key, c a timeout in ms (0: none).
    pub const NOTIFICATION: u32 = 4;
    /// Sleep: value a milliseconds.
    pub const SUSPEND: u32 = 5;
    /// Allocate shared memory: value a type, b size, c alignment; answered with an FF-A memref.
    pub const SHM_ALLOC: u32 = 6;
    /// Free shared memory from [`SHM_ALLOC`]: value a type, b the handle.
    pub const SHM_FREE: u32 = 7;
    /// Wait until the key is sent.
    pub const NOTIFICATION_WAIT: u64 = 0;
    /// Wake whoever waits on the key.
    pub const NOTIFICATION_SEND: u64 = 1;
    /// Memory a normal-world application may see (tee-supplicant's).
    pub const SHM_TYPE_APPLICATION: u64 = 0;
    /// Memory only the normal-world kernel sees.
    pub const SHM_TYPE_KERNEL: u64 = 1;
    /// Memory kept for the life of OP-TEE.
    pub const SHM_TYPE_GLOBAL: u64 = 2;

    /// A short name, for logs.
    pub const fn name(command: u32) -> &'static str {
        match command {
            LOAD_TA => "LOAD_TA",
            RPMB => "RPMB",
            FS => "FS",
            GET_TIME => "GET_TIME",
            NOTIFICATION => "NOTIFICATION",
            SUSPEND => "SUSPEND",
            SHM_ALLOC => "SHM_ALLOC",
            SHM_FREE => "SHM_FREE",
            _ => "unknown",
        }
    }
}

/// The layout of `struct optee_msg_arg` and its parameters (little-endian).
///
/// | offset | field |
/// |---|---|
/// | 0 | `cmd` |
/// | 4 | `func` (TA command; RPC: unused) |
/// | 8 | `session` |
/// | 12 | `cancel_id` |
/// | 16 | pad |
/// | 20 | `ret` |
/// | 24 | `ret_origin` |
/// | 28 | `num_params` |
/// | 32 | `params[num_params]`, 32 bytes each: `attr` (u64), then a, b, c (u64) |
///
/// An FF-A memory reference keeps its fields in a, b, c: a `[31:0]` offset
/// low, `[47:32]` offset high, `[63:48]` offset inside the first page; b the
/// size; c the FF-A handle ([`FMEM_NULL_HANDLE`]: none).
pub mod message {
    /// Size of the header.
    pub const HEADER_SIZE: usize = 32;
    /// Size of one parameter.
    pub const PARAMETER_SIZE: usize = 32;
    /// Offset of `cmd`.
    pub const CMD: usize = 0;
    /// Offset of `func`.
    pub const FUNC: usize = 4;
    /// Offset of `session`.
    pub const SESSION: usize = 8;
    /// Offset of `cancel_id`.
    pub const CANCEL_ID: usize = 12;
    /// Offset of `ret`.
    pub const RET: usize = 20;
    /// Offset of `ret_origin`.
    pub const RET_ORIGIN: usize = 24;
    /// Offset of `num_params`.
    pub const NUM_PARAMS: usize = 28;
    /// The handle of an FF-A memory reference that names no memory.
    pub const FMEM_NULL_HANDLE: u64 = u64::MAX;
    /// Parameters of a normal-world call OP-TEE accepts at most: the TA's
    /// four, and open session's two meta parameters.
    pub const MAXIMUM_PARAMETERS: usize = 6;
    /// Parameters a trusted application takes.
    pub const TA_PARAMETERS: usize = 4;

    /// Size of an argument struct with `parameters` parameters.
    pub const fn size(parameters: usize) -> usize {
        HEADER_SIZE + PARAMETER_SIZE * parameters
    }

    /// Where the RPC argument struct of a call at `offset` with
    /// `parameters` parameters lies: right after it.
    pub const fn rpc_offset(offset: usize, parameters: usize) -> usize {
        offset + size(parameters)
    }

    /// The header of an argument struct.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Header {
        /// The command.
        pub cmd: u32,
        /// The TA's command (invoke).
        pub func: u32,
        /// The session.
        pub session: u32,
        /// The cancellation ID.
        pub cancel_id: u32,
        /// The result.
        pub ret: u32,
        /// Who produced the result.
        pub ret_origin: u32,
        /// The number of parameters that follow.
        pub num_params: u32,
    }

    impl Header {
        /// The header's 32 bytes.
        pub fn encode(&self) -> [u8; HEADER_SIZE] {
            let mut bytes = [0u8; HEADER_SIZE];
            let fields = [
                (CMD, self.cmd),
                (FUNC, self.func),
                (SESSION, self.session),
                (CANCEL_ID, self.cancel_id),
                (RET, self.ret),
                (RET_ORIGIN, self.ret_origin),
                (NUM_PARAMS, self.num_params),
            ];
            for (offset, value) in fields {
                bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
            }
            bytes
        }

        /// The header in `bytes` (the padding is ignored).
        pub fn decode(bytes: &[u8; HEADER_SIZE]) -> Header {
            let word = |offset: usize| {
                u32::from_le_bytes([
                    bytes[offset],
                    bytes[offset + 1],
                    bytes[offset + 2],
                    bytes[offset + 3],
                ])
            };
            Header {
                cmd: word(CMD),
                func: word(FUNC),
                session: word(SESSION),
                cancel_id: word(CANCEL_ID),
                ret: word(RET),
                ret_origin: word(RET_ORIGIN),
                num_params: word(NUM_PARAMS),
            }
        }
    }

    /// One parameter as it lies in memory: the attribute and three words.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct RawParameter {
        /// `attr`.
        pub attribute: u64,
        /// Value a, or an FF-A memref's offsets.
        pub a: u64,
        /// Value b, or an FF-A memref's size.
        pub b: u64,
        /// Value c, or an FF-A memref's handle.
        pub c: u64,
    }

    impl RawParameter {
        /// A value parameter of type `attribute`.
        pub const fn value(attribute: u64, a: u64, b: u64, c: u64) -> RawParameter {
            RawParameter { attribute, a, b, c }
        }

        /// An FF-A memory reference of type `attribute`: `size` bytes at
        /// `offset` of the memory with `handle`, starting `internal_offset`
        /// bytes into its first page.
        pub const fn memory(
            attribute: u64,
            offset: u64,
            size: u64,
            handle: u64,
            internal_offset: u16,
        ) -> RawParameter {
            let low = offset & 0xFFFF_FFFF;
            let high = (offset >> 32) & 0xFFFF;
            RawParameter {
                attribute,
                a: low | high << 32 | (internal_offset as u64) << 48,
                b: size,
                c: handle,
            }
        }

        /// The type bits.
        pub const fn kind(&self) -> u64 {
            self.attribute & super::attribute::TYPE_MASK
        }

        /// Whether the meta bit is set.
        pub const fn is_meta(&self) -> bool {
            self.attribute & super::attribute::META != 0
        }

        /// Whether the type is an FF-A memory reference.
        pub const fn is_memory(&self) -> bool {
            matches!(self.kind(), 0x5..=0x7)
        }

        /// An FF-A memref's offset into its memory (48 bits).
        pub const fn memory_offset(&self) -> u64 {
            self.a & 0xFFFF_FFFF_FFFF
        }

        /// An FF-A memref's offset inside its first page.
        pub const fn internal_offset(&self) -> u16 {
            (self.a >> 48) as u16
        }

        /// An FF-A memref's size.
        pub const fn memory_size(&self) -> u64 {
            self.b
        }

        /// An FF-A memref's handle.
        pub const fn memory_handle(&self) -> u64 {
            self.c
        }

        /// The parameter's 32 bytes.
        pub fn encode(&self) -> [u8; PARAMETER_SIZE] {
            let mut bytes = [0u8; PARAMETER_SIZE];
            for (index, value) in [self.attribute, self.a, self.b, self.c]
                .into_iter()
                .enumerate()
            {
                bytes[index * 8..index * 8 + 8].copy_from_slice(&value.to_le_bytes());
            }
            bytes
        }

        /// The parameter in `bytes`.
        pub fn decode(bytes: &[u8; PARAMETER_SIZE]) -> RawParameter {
            let word = |index: usize| {
                let mut value = [0u8; 8];
                value.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
                u64::from_le_bytes(value)
            };
            RawParameter {
                attribute: word(0),
                a: word(1),
                b: word(2),
                c: word(3),
            }
        }
    }

    /// A UUID as open session's meta value: its 16 bytes read as two
    /// little-endian words (OP-TEE reads the bytes back as they lie), the
    /// same pair `DIRECT_REQ2` carries.
    pub const fn uuid_to_values(uuid: &crate::Uuid) -> (u64, u64) {
        let [a, b] = uuid.to_register_pair();
        (a, b)
    }

    /// The UUID a meta value carries.
    pub const fn values_to_uuid(a: u64, b: u64) -> crate::Uuid {
        crate::Uuid::from_register_pair([a, b])
    }
}

/// OP-TEE's device-enumeration pseudo TA (`core/pta/device.c`):
/// `7011a688-ddde-4053-a5a9-7b3c4ddf13b8`.
///
/// Its commands take one FF-A memref output (and nothing else) and write
/// the 16-byte UUIDs of the trusted applications that want a normal-world
/// driver. Too small a buffer (a null one of size 0 included) is answered
/// with [`TeeResult::SHORT_BUFFER`] and the size needed in the memref.
pub mod device_pta {
    /// The pseudo TA's UUID.
    pub const UUID: crate::Uuid = super::uuid("7011a688-ddde-4053-a5a9-7b3c4ddf13b8");
    /// TAs that need no tee-supplicant.
    pub const GET_DEVICES: u32 = 0;
    /// TAs that need tee-supplicant.
    pub const GET_DEVICES_SUPPLICANT: u32 = 1;
    /// TAs that need replay-protected memory.
    pub const GET_DEVICES_RPMB: u32 = 2;
    /// Bytes per UUID in the answer.
    pub const UUID_SIZE: usize = 16;
}

/// The test pseudo TA of `tools/ffa-model`'s OP-TEE (ours, modelled on
/// OP-TEE's `invoke_tests` PTA): `5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001`.
/// It is listed by the device-enumeration PTA, as OP-TEE lists its test PTA.
///
/// | command | parameters | what it does |
/// |---|---|---|
/// | [`ADD`] | value in (a, b), value out | out.a = a + b (64-bit, wrapping), out.b = a ^ b |
/// | [`FILL`] | memref out, value in (seed, length) | fills `length` bytes with [`pattern`]`(seed)`; a memref shorter than `length` gets [`TeeResult::SHORT_BUFFER`](super::TeeResult::SHORT_BUFFER) and the size needed |
/// | [`CHECKSUM`] | memref in, value out | out.a = the sum of the bytes, out.b = their count |
/// | [`WAIT_QUEUE`] | value in (key) | RPC notification send(key), then wait(key): a wake-up that comes first is kept |
/// | [`SLEEP`] | value in (milliseconds) | RPC suspend; answers [`TeeResult::CANCEL`](super::TeeResult::CANCEL) if the call was cancelled meanwhile |
/// | [`SHM_ROUND_TRIP`] | value in (size), value out | RPC shared-memory allocation (kernel type), writes [`pattern`] in it, reads it back, RPC free; out.a = the sum of its bytes |
/// | [`UNKNOWN_RPC`] | value out | issues an RPC the normal world cannot know; out.a = the result it answered |
/// | [`WAIT`] | value in (key, timeout ms) | RPC notification wait(key) alone: the result is the answer (`TEE_ERROR_TIMEOUT` if nobody sends the key) |
/// | [`WAKE`] | value in (key) | RPC notification send(key) alone |
pub mod test_pta {
    /// The pseudo TA's UUID.
    pub const UUID: crate::Uuid = super::uuid("5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001");
    /// Add two values.
    pub const ADD: u32 = 0;
    /// Fill an output memref.
    pub const FILL: u32 = 1;
    /// Sum an input memref.
    pub const CHECKSUM: u32 = 2;
    /// A wait queue's send, then wait.
    pub const WAIT_QUEUE: u32 = 3;
    /// Sleep through an RPC.
    pub const SLEEP: u32 = 4;
    /// Shared memory from the normal world, through RPCs.
    pub const SHM_ROUND_TRIP: u32 = 5;
    /// An RPC the normal world does not know.
    pub const UNKNOWN_RPC: u32 = 6;
    /// A wait-queue wait alone.
    pub const WAIT: u32 = 7;
    /// A wait-queue send alone.
    pub const WAKE: u32 = 8;
    /// The RPC command [`UNKNOWN_RPC`] issues.
    pub const UNKNOWN_RPC_COMMAND: u32 = 0x4F50_5421;

    /// Byte `index` of the fill pattern of `seed`.
    pub const fn pattern(seed: u64, index: u64) -> u8 {
        let mixed =
            (seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (mixed >> 56) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::message::{self, Header, RawParameter};
    use super::*;

    #[test]
    fn the_uuids_have_their_register_words() {
        // PARTITION_INFO_GET w1..w4 for OP-TEE (as optee_os hard-codes them).
        assert_eq!(
            OPTEE_UUID.to_words(),
            [0xe078_6148, 0xe311_f8e7, 0x0200_5ebc, 0x1bc5_d5a5]
        );
        assert_eq!(
            message::uuid_to_values(&device_pta::UUID),
            (0x5340_dedd_88a6_1170, 0xb813_df4d_3c7b_a9a5)
        );
        let (a, b) = message::uuid_to_values(&test_pta::UUID);
        assert_eq!(message::values_to_uuid(a, b), test_pta::UUID);
    }

    #[test]
    fn headers_and_parameters_round_trip() {
        let header = Header {
            cmd: command::INVOKE_COMMAND,
            func: 7,
            session: 3,
            cancel_id: 9,
            ret: TeeResult::SHORT_BUFFER.0,
            ret_origin: origin::TEE,
            num_params: 4,
        };
        let bytes = header.encode();
        assert_eq!(&bytes[28..32], &[4, 0, 0, 0]);
        assert_eq!(Header::decode(&bytes), header);
        let memref = RawParameter::memory(
            attribute::FMEM_OUTPUT,
            0x1_2345_6789,
            64,
            0x1000_0000_0003,
            5,
        );
        assert_eq!(memref.memory_offset(), 0x1_2345_6789);
        assert_eq!(memref.internal_offset(), 5);
        assert!(memref.is_memory() && !memref.is_meta());
        assert_eq!(RawParameter::decode(&memref.encode()), memref);
        assert_eq!(message::size(6), 224);
        assert_eq!(message::rpc_offset(384, 2), 480);
    }

    #[test]
    fn result_names() {
        assert_eq!(TeeResult::BUSY.name(), "TEE_ERROR_BUSY");
        assert_eq!(TeeResult(1).name(), "unknown");
        assert!(TeeResult::SUCCESS.is_success());
    }
}
