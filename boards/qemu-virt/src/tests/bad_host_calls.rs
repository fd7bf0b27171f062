//! `scenario-bad-host-calls`: what a misbehaving host gets from the EL2
//! proxy. Right after finalisation (in the same deferred call, before
//! anything else can call FF-A), each call is made as the host (an `SMC`,
//! trapped by EL2) and its answer checked; each check logs one line.
//! Answers are read from w0, as SMC32 results are (TF-A's SPMD, for one,
//! answers a refused `FFA_VERSION` with a 32-bit -1).
//!
//! Checks 4 and 5 are the sequence issue 9 reported: after
//! `FFA_VERSION(1.2)`, `FFA_RXTX_MAP_64(TX = 0x6000_f000, RX = 0x6000_2000, 1)`
//! named EL2's own code as the host's buffers and was accepted, and the next
//! `FFA_PARTITION_INFO_GET` copied descriptors over EL2's exception-entry
//! code: EL2 died on the way back. Now the map is refused and the partition
//! information has nowhere to go.

use armv8a::conduit::SecureMonitorCall;
use armv8a::shared_page::SharedPages;
use capsule_ffa_proxy::finaliser::FinaliserClient;
use capsule_ffa_proxy::function;
use capsule_ffa_proxy::memory;
use ffa_abi::{ReplyKind, Status};
use kernel::hil::hypervisor::MemoryRange;
use kernel::hil::shared_memory::SharedBuffer;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

/// The proxy's carve-out, as the board configures it.
const CARVE_OUT: MemoryRange = MemoryRange::new(0x5FE0_0000, 0x1_0000);

/// Pages the checks may name as a host buffer (never written: the checks
/// make no call that fills RX). Writable memory of the kernel's, as host
/// buffers are: an immutable `static` would sit in read-only data, which
/// EL2 executes from and the proxy refuses.
static SCRATCH: [SharedPages<4096>; 2] = [SharedPages::new(), SharedPages::new()];

/// The checks, run when the proxy is finalised.
pub(super) struct Checks;

/// The finaliser's client that runs the checks.
pub(super) static CHECKS: Checks = Checks;

impl FinaliserClient for Checks {
    fn finalised(&self) {
        run();
    }
}

/// What a check expects back.
#[derive(Clone, Copy)]
enum Expected {
    /// `FFA_ERROR` with this status.
    Error(Status),
    /// x0 = -1.
    MinusOne,
    /// `FFA_SUCCESS`.
    Success,
    /// A v1.x version in x0.
    Version,
}

fn matches(expected: Expected, reply: &SmcccRegisters) -> bool {
    let kind = ReplyKind::of(reply.x[0], reply.x[2]);
    match expected {
        Expected::Error(status) => kind == ReplyKind::Error(status),
        Expected::MinusOne => reply.x[0] as u32 == u32::MAX,
        Expected::Success => kind.is_success(),
        Expected::Version => (reply.x[0] as u32) >> 16 == 1,
    }
}

fn describe(expected: Expected) -> &'static str {
    match expected {
        Expected::Error(status) => status.name(),
        Expected::MinusOne => "NOT_SUPPORTED (x0 = -1)",
        Expected::Success => "FFA_SUCCESS",
        Expected::Version => "a v1.x version",
    }
}

/// One check: what it is, the call's x0–x3, the answer expected.
type Check = (&'static str, [u64; 4], Expected);

/// Runs the checks the scenario's feature asks for.
fn run() {
    if cfg!(feature = "scenario-el2-overwrite") {
        run_checks(&el2_overwrite());
    } else {
        run_checks(&bad_host_calls());
    }
}

/// `scenario-el2-overwrite`: the sequence issue 9 reported, nothing else.
/// Before, the map was accepted and the partition information copied over
/// EL2's exception-entry code at 0x6000_2000; EL2 died on the way back.
fn el2_overwrite() -> [Check; 3] {
    [
        (
            "FFA_VERSION(1.2)",
            [u64::from(function::FFA_VERSION), 0x0001_0002, 0, 0],
            Expected::Version,
        ),
        (
            "FFA_RXTX_MAP_64(TX 0x6000f000, RX 0x60002000, 1 page): EL2's code",
            [
                u64::from(function::FFA_RXTX_MAP_64),
                0x6000_f000,
                0x6000_2000,
                1,
            ],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_PARTITION_INFO_GET: nowhere to copy",
            [u64::from(function::FFA_PARTITION_INFO_GET), 0, 0, 0],
            Expected::Error(Status::Busy),
        ),
    ]
}

/// `scenario-bad-host-calls`: what a misbehaving host tries.
fn bad_host_calls() -> [Check; 12] {
    let first = SCRATCH[0].physical_address();
    let second = SCRATCH[1].physical_address();
    let mailbox = memory::mailbox_for(CARVE_OUT);
    let map_64 = u64::from(function::FFA_RXTX_MAP_64);
    [
        (
            "FFA_ID_GET before FFA_VERSION",
            [u64::from(function::FFA_ID_GET), 0, 0, 0],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_VERSION(2.0)",
            [u64::from(function::FFA_VERSION), 0x0002_0000, 0, 0],
            Expected::MinusOne,
        ),
        (
            "FFA_VERSION(1.2)",
            [u64::from(function::FFA_VERSION), 0x0001_0002, 0, 0],
            Expected::Version,
        ),
        (
            "FFA_RXTX_MAP_64 naming EL2's code (TX 0x6000f000, RX 0x60002000)",
            [map_64, 0x6000_f000, 0x6000_2000, 1],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_PARTITION_INFO_GET with no RX buffer recorded",
            [u64::from(function::FFA_PARTITION_INFO_GET), 0, 0, 0],
            Expected::Error(Status::Busy),
        ),
        (
            "32-bit FFA_RXTX_MAP",
            [u64::from(function::FFA_RXTX_MAP_32), first, second, 1],
            Expected::Error(Status::NotSupported),
        ),
        (
            "FFA_RXTX_MAP_64 of the proxy's own RX/TX pages",
            [map_64, mailbox.transmit, mailbox.receive, 1],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_RXTX_MAP_64 with a misaligned TX buffer",
            [map_64, first + 8, second, 1],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_RXTX_MAP_64",
            [map_64, first, second, 1],
            Expected::Success,
        ),
        (
            "FFA_RXTX_MAP_64 a second time",
            [map_64, first, second, 1],
            Expected::Error(Status::Denied),
        ),
        (
            "FFA_MEM_SHARE_64 of an empty descriptor",
            [u64::from(function::FFA_MEM_SHARE_64), 0x100, 0x100, 0],
            Expected::Error(Status::InvalidParameters),
        ),
        (
            "FFA_RXTX_UNMAP",
            [u64::from(function::FFA_RXTX_UNMAP), 0, 0, 0],
            Expected::Success,
        ),
    ]
}

/// Makes each call as the host (an SMC, trapped by EL2) and checks the answer.
fn run_checks(checks: &[Check]) {
    let mut passed = 0usize;
    for (number, (description, registers, expected)) in checks.iter().enumerate() {
        let reply = SecureMonitorCall.call(&SmcccRegisters::from_slice(registers));
        if matches(*expected, &reply) {
            passed += 1;
            defmt::info!(
                "protected: bad-host check {=usize}/{=usize}: {=str} -> {=str}: ok",
                number + 1,
                checks.len(),
                *description,
                describe(*expected)
            );
        } else {
            defmt::error!(
                "protected: bad-host check {=usize}/{=usize} FAILED: {=str}: expected {=str}, got x0 {=u64:#x} w2 {=u64:#x}",
                number + 1,
                checks.len(),
                *description,
                describe(*expected),
                reply.x[0],
                reply.x[2]
            );
        }
    }
    defmt::info!(
        "protected: bad-host checks: {=usize} of {=usize} answered as expected",
        passed,
        checks.len()
    );
}
