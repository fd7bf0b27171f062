//! `scenario-host-memory`: protected mode takes memory away from the
//! kernel, and gives it back only as page ownership allows. Right after the
//! EL2 proxy is finalised (before the FF-A root probes), the kernel, as a
//! misbehaving or merely curious host, touches and shares memory that is
//! not its own, each check logging one line:
//!
//! 1. **The stage 2** (probes: the access may fault, the kernel runs on):
//!    reading EL2's code works (the kernel runs it too), writing it faults;
//!    reading or writing EL2's data (its stack), or the proxy's TX, faults.
//!    Each fault is a stage-2 abort EL2 reports and injects: the kernel's
//!    own fault report shows it, and EL2 runs on.
//! 2. **Sharing what is not the host's**: `FFA_MEM_SHARE` of EL2's code, its
//!    data, the carve-out, the kernel's own TX buffer (EL2's to write while
//!    mapped), memory past DRAM, overlapping ranges, a receiver that is not
//!    a partition, and `FFA_MEM_DONATE` and the reclaim of a handle the
//!    kernel never had: refused before the monitor.
//! 3. **Ownership that moves and comes back**: the monitor refuses the
//!    first share (the firmware's `memory-bad-attributes` fault), so the
//!    page is the host's again and the same share then goes through;
//!    reclaim, share again; lend it, and reading it faults until the
//!    reclaim, after which it reads as before.
//!
//! Every value written while probing is the value read (or, where the read
//! faulted, a word of memory nobody uses: the bottom of EL2's stack), so a
//! broken stage 2 fails the check without breaking EL2.

use armv8a::conduit::SecureMonitorCall;
use armv8a::exceptions::{probe_read, probe_write};
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
/// The partition the shares go to (the model's echo partition).
const PARTITION: u16 = 0x8001;
/// A page past the runner's 1 GiB of DRAM.
const PAST_DRAM: u64 = 0x8000_0000;

/// The kernel's RX/TX pair for the checks.
static MAILBOX: [SharedPages<4096>; 2] = [SharedPages::new(), SharedPages::new()];
/// The page the checks share and lend.
static PAGE: SharedPages<4096> = SharedPages::new();

extern "C" {
    /// The first byte of EL2's code (the board's linker script).
    static __el2_text_start: u8;
    /// The lowest word of EL2's stack (never used unless it overflows).
    static armv8a_el2_stack_bottom: u8;
}

/// The checks, run when the proxy is finalised.
pub(super) struct Checks;

/// The finaliser's client that runs the checks.
pub(super) static CHECKS: Checks = Checks;

impl FinaliserClient for Checks {
    fn finalised(&self) {
        let mut run = Run::default();
        run.stage2();
        run.sharing();
        defmt::info!(
            "protected: host-memory checks: {=usize} of {=usize} as expected",
            run.passed,
            run.total
        );
    }
}

#[derive(Default)]
struct Run {
    passed: usize,
    total: usize,
}

/// What an FF-A call is expected to answer.
#[derive(Clone, Copy)]
enum Expected {
    Success,
    Error(Status),
    /// A v1.x version in w0 (`FFA_VERSION`'s answer).
    Version,
    /// `FFA_MEM_FRAG_RX`: the monitor waits for the next fragment.
    MoreFragments,
}

fn call(registers: &[u64]) -> SmcccRegisters {
    SecureMonitorCall.call(&SmcccRegisters::from_slice(registers))
}

/// A v1.2 descriptor of `function_id` (a share or lend) to `receiver` of
/// `ranges` (address, pages), written into the kernel's TX; returns its
/// length. A share says Normal write-back inner shareable (0x2f); a lend
/// to one partition leaves the attributes to the receiver (0), as FF-A asks.
fn write_descriptor(function_id: u32, receiver: u16, ranges: &[(u64, u32)]) -> u64 {
    let mut bytes = [0u8; 160];
    let total = 96 + 16 * ranges.len();
    bytes[2] = if function_id == function::FFA_MEM_LEND_64 {
        0
    } else {
        0x2f
    };
    bytes[24] = 32; // access descriptor size (v1.2)
    bytes[28] = 1; // one receiver
    bytes[32] = 48; // access descriptors at 48
    bytes[48..50].copy_from_slice(&receiver.to_le_bytes());
    bytes[50] = 0x02; // read-write
    bytes[52] = 80; // composite at 80
    let pages: u32 = ranges.iter().map(|range| range.1).sum();
    bytes[80..84].copy_from_slice(&pages.to_le_bytes());
    bytes[84..88].copy_from_slice(&(ranges.len() as u32).to_le_bytes());
    for (index, (address, pages)) in ranges.iter().enumerate() {
        let at = 96 + 16 * index;
        bytes[at..at + 8].copy_from_slice(&address.to_le_bytes());
        bytes[at + 8..at + 12].copy_from_slice(&pages.to_le_bytes());
    }
    if MAILBOX[0].write(0, &bytes[..total]).is_err() {
        defmt::error!("protected: host-memory checks: cannot write the descriptor");
    }
    total as u64
}

impl Run {
    fn record(&mut self, passed: bool, description: &str) {
        self.total += 1;
        if passed {
            self.passed += 1;
            defmt::info!(
                "protected: host-memory check {=usize}: {=str}: ok",
                self.total,
                description
            );
        } else {
            defmt::error!(
                "protected: host-memory check {=usize} FAILED: {=str}",
                self.total,
                description
            );
        }
    }

    /// An FF-A call and its expected answer; returns the reply.
    fn expect(
        &mut self,
        description: &str,
        registers: &[u64],
        expected: Expected,
    ) -> SmcccRegisters {
        let reply = call(registers);
        let kind = ReplyKind::of(reply.x[0], reply.x[2]);
        let passed = match expected {
            Expected::Success => kind.is_success(),
            Expected::Error(status) => kind == ReplyKind::Error(status),
            Expected::Version => (reply.x[0] as u32) >> 16 == 1,
            Expected::MoreFragments => reply.x[0] as u32 == function::FFA_MEM_FRAG_RX,
        };
        if !passed {
            defmt::error!(
                "protected: host-memory check: {=str}: got x0 {=u64:#x} w2 {=u64:#x}",
                description,
                reply.x[0],
                reply.x[2]
            );
        }
        self.record(passed, description);
        reply
    }

    /// A share (or lend) of `ranges` to `receiver`, expected to be answered so.
    fn send(
        &mut self,
        description: &str,
        function_id: u32,
        receiver: u16,
        ranges: &[(u64, u32)],
        expected: Expected,
    ) -> u64 {
        let length = write_descriptor(function_id, receiver, ranges);
        let reply = self.expect(
            description,
            &[u64::from(function_id), length, length, 0, 0],
            expected,
        );
        (reply.x[2] & 0xFFFF_FFFF) | (reply.x[3] & 0xFFFF_FFFF) << 32
    }

    fn reclaim(&mut self, description: &str, handle: u64, expected: Expected) {
        self.expect(
            description,
            &[
                u64::from(function::FFA_MEM_RECLAIM),
                handle & 0xFFFF_FFFF,
                handle >> 32,
                0,
            ],
            expected,
        );
    }

    /// Probes: a read, then a write of what was read.
    fn probe(&mut self, description: &str, address: u64, read_allowed: bool, write_allowed: bool) {
        let read = probe_read(address);
        let value = read.unwrap_or(0);
        let written = probe_write(address, value);
        let injected = |result: &Result<(), armv8a::fault_report::FaultReport>| matches!(result, Err(report) if report.injected_by_el2());
        let read_ok = match &read {
            Ok(_) => read_allowed,
            Err(report) => !read_allowed && report.injected_by_el2(),
        };
        let write_ok = if write_allowed {
            written.is_ok()
        } else {
            injected(&written)
        };
        self.record(read_ok && write_ok, description);
    }

    fn stage2(&mut self) {
        let code = core::ptr::addr_of!(__el2_text_start) as u64 + 0x1000;
        let stack = core::ptr::addr_of!(armv8a_el2_stack_bottom) as u64;
        let transmit = memory::mailbox_for(CARVE_OUT).transmit;
        let own = PAGE.physical_address();
        self.probe(
            "EL2's code: the kernel reads it; its write is a stage-2 permission fault, injected",
            code,
            true,
            false,
        );
        self.probe(
            "EL2's data (its stack): read and write are stage-2 translation faults, injected",
            stack,
            false,
            false,
        );
        self.probe(
            "the proxy's TX buffer (the carve-out): no access, injected",
            transmit,
            false,
            false,
        );
        self.probe(
            "the kernel's own page: read and write work",
            own,
            true,
            true,
        );
    }

    /// A share in two fragments whose second names EL2's code: refused,
    /// the kernel's page given back, and the monitor's partial descriptor
    /// dropped, so the next share goes through (the model, like an SPMC
    /// assembling a descriptor, would otherwise answer it BUSY).
    fn refused_fragment(&mut self, page: u64, code: u64) {
        let share = function::FFA_MEM_SHARE_64;
        let total = write_descriptor(share, PARTITION, &[(page, 1), (code, 1)]);
        let reply = self.expect(
            "FFA_MEM_SHARE in 2 fragments, the first naming the kernel's page: FFA_MEM_FRAG_RX",
            &[u64::from(share), total, total - 16, 0, 0],
            Expected::MoreFragments,
        );
        let handle = (reply.x[1] & 0xFFFF_FFFF) | (reply.x[2] & 0xFFFF_FFFF) << 32;
        let mut constituent = [0u8; 16];
        constituent[..8].copy_from_slice(&code.to_le_bytes());
        constituent[8] = 1;
        if MAILBOX[0].write(0, &constituent).is_err() {
            defmt::error!("protected: host-memory checks: cannot write the fragment");
        }
        self.expect(
            "FFA_MEM_FRAG_TX naming EL2's code: DENIED, the transaction ended at the monitor too",
            &[
                u64::from(function::FFA_MEM_FRAG_TX),
                handle & 0xFFFF_FFFF,
                handle >> 32,
                16,
                0,
            ],
            Expected::Error(Status::Denied),
        );
        let again = self.send(
            "FFA_MEM_SHARE after the refused fragment: accepted (the page is the kernel's, the monitor holds no partial descriptor)",
            share,
            PARTITION,
            &[(page, 1)],
            Expected::Success,
        );
        self.reclaim("FFA_MEM_RECLAIM of that share", again, Expected::Success);
    }

    fn sharing(&mut self) {
        let share = function::FFA_MEM_SHARE_64;
        let lend = function::FFA_MEM_LEND_64;
        let code = core::ptr::addr_of!(__el2_text_start) as u64;
        let stack = core::ptr::addr_of!(armv8a_el2_stack_bottom) as u64;
        let stack_page = stack - stack % 4096;
        let transmit = MAILBOX[0].physical_address();
        let receive = MAILBOX[1].physical_address();
        let page = PAGE.physical_address();
        let denied = Expected::Error(Status::Denied);
        let invalid = Expected::Error(Status::InvalidParameters);
        self.expect(
            "FFA_VERSION(1.2)",
            &[u64::from(function::FFA_VERSION), 0x0001_0002],
            Expected::Version,
        );
        self.expect(
            "FFA_RXTX_MAP_64 of the kernel's pair",
            &[u64::from(function::FFA_RXTX_MAP_64), transmit, receive, 1],
            Expected::Success,
        );
        self.send(
            "FFA_MEM_SHARE of EL2's code: DENIED",
            share,
            PARTITION,
            &[(code, 1)],
            denied,
        );
        self.send(
            "FFA_MEM_SHARE of EL2's data: DENIED",
            share,
            PARTITION,
            &[(stack_page, 1)],
            denied,
        );
        self.send(
            "FFA_MEM_SHARE of the proxy's carve-out: DENIED",
            share,
            PARTITION,
            &[(CARVE_OUT.base, 2)],
            denied,
        );
        self.send(
            "FFA_MEM_LEND of the TPM's CRB (the firmware shares it with the secure world): DENIED",
            lend,
            PARTITION,
            &[(crate::TPM_CRB.base, 1)],
            denied,
        );
        self.send(
            "FFA_MEM_SHARE of the kernel's own TX buffer (EL2's while mapped): DENIED",
            share,
            PARTITION,
            &[(transmit, 1)],
            denied,
        );
        self.send(
            "FFA_MEM_LEND of memory past DRAM: DENIED",
            lend,
            PARTITION,
            &[(PAST_DRAM, 1)],
            denied,
        );
        self.send(
            "FFA_MEM_SHARE of overlapping ranges: INVALID_PARAMETERS",
            share,
            PARTITION,
            &[(page, 1), (page, 1)],
            invalid,
        );
        self.send(
            "FFA_MEM_SHARE to the host itself (ID 0): INVALID_PARAMETERS",
            share,
            0,
            &[(page, 1)],
            invalid,
        );
        let length = write_descriptor(function::FFA_MEM_DONATE_64, PARTITION, &[(page, 1)]);
        self.expect(
            "FFA_MEM_DONATE: NOT_SUPPORTED (as pKVM)",
            &[u64::from(function::FFA_MEM_DONATE_64), length, length],
            Expected::Error(Status::NotSupported),
        );
        self.reclaim(
            "FFA_MEM_RECLAIM of a handle the kernel never had: INVALID_PARAMETERS",
            0xffff_fffe,
            invalid,
        );
        self.send(
            "FFA_MEM_SHARE the monitor refuses: its page is the kernel's again",
            share,
            PARTITION,
            &[(page, 1)],
            invalid,
        );
        let first = self.send(
            "FFA_MEM_SHARE of the same page again: accepted",
            share,
            PARTITION,
            &[(page, 1)],
            Expected::Success,
        );
        self.send(
            "FFA_MEM_LEND of a page shared already: DENIED",
            lend,
            PARTITION,
            &[(page, 1)],
            denied,
        );
        self.reclaim("FFA_MEM_RECLAIM of the share", first, Expected::Success);
        let second = self.send(
            "FFA_MEM_SHARE after the reclaim: accepted",
            share,
            PARTITION,
            &[(page, 1)],
            Expected::Success,
        );
        self.reclaim(
            "FFA_MEM_RECLAIM of the second share",
            second,
            Expected::Success,
        );
        self.refused_fragment(page, code);
        let lent = self.send(
            "FFA_MEM_LEND of the page: accepted, unmapped from the kernel",
            lend,
            PARTITION,
            &[(page, 1)],
            Expected::Success,
        );
        self.probe(
            "the lent page: read and write are stage-2 faults, injected",
            page,
            false,
            false,
        );
        self.reclaim("FFA_MEM_RECLAIM of the lend", lent, Expected::Success);
        self.probe(
            "the reclaimed page: read and write work again",
            page,
            true,
            true,
        );
        self.expect(
            "FFA_RXTX_UNMAP",
            &[u64::from(function::FFA_RXTX_UNMAP), 0],
            Expected::Success,
        );
    }
}
