//! QEMU scenarios of `cargo xtask test`: the table, the log matching and the runner.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build;
use crate::el2_layout;
use crate::error::{Context, Result};
use crate::event_log_check;
use crate::faults::{Fault, FaultKind, FirmwareSettings};
use crate::logs::{KernelLogFormat, MALFORMED_FRAME_WARNING};
use crate::qemu::{self, BootOptions, Ending, Input, Invocation, QemuInvocation};
use crate::timeline::Timeline;
use crate::workspace::Workspace;

/// How long a scenario may run before it counts as a hang. Generous: the
/// machine is shared, and this detects hangs, it does not measure speed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Lines that no scenario may show unless it says otherwise.
pub const USUALLY_FORBIDDEN: &[&str] = &["panicked", MALFORMED_FRAME_WARNING];

/// One boot of the board under given faults, with what its log must (not) show.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// One line saying what the scenario shows.
    pub description: &'static str,
    /// Cargo features of the board package.
    pub board_features: &'static [&'static str],
    /// Faults and switches handed to the test firmware.
    pub firmware: FirmwareSettings<'static>,
    /// QEMU's exit status: the status the kernel passed to PSCI SYSTEM_OFF.
    pub expected_exit_status: i32,
    /// Substrings that must appear in the decoded log, in order: each on a
    /// later line than the previous one matched from the same source.
    pub expected_lines: &'static [&'static str],
    /// Substrings that must appear on no line.
    pub forbidden_lines: &'static [&'static str],
    /// After this long QEMU is killed and the scenario fails as a hang.
    pub timeout: Duration,
}

/// Lines a healthy boot must not show.
const HEALTHY_FORBIDDEN: &[&str] = &["panicked", MALFORMED_FRAME_WARNING, " ERROR "];

/// What a healthy FF-A boot logs, in order (kernel lines).
const HEALTHY_FFA_LINES: &[&str] = &[
    "boot: entering the main loop",
    "secure monitor answers FF-A v1.2",
    "ffa: set up: v1.2, ID 0x0000, 4096-byte RX/TX buffers",
    "arm-ffa-1: partition 0x8001 uuid fa791f17-febd-4861-81d0-4b5dae9cb9cb",
    "init: arm-ffa ready",
    "ffa: notifications: the schedule receiver interrupt is 8",
    // The drivers bind at once; their requests complete while the main
    // loop runs on, and boot completion waits for them.
    "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
    "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
    // The TPM's bring-up and measured boot expect their signals: the queue
    // settles once measured boot is done.
    "tpm: completion notifications: ID 16 bound to the TPM partition and registered",
    "init: measured-boot ready",
    "init: settled: 10 ready, 0 failed, 0 waiting",
    "boot: init queue settled",
    "ffa report: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes",
    "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo",
    "arm-ffa-2: ID 0x8002 UUID 88886b1c-15ad-4435-a3f8-e2919eacb5b7 contexts 1 properties 0x1 direct-receive aarch32 driver (none)",
    "arm-ffa-3: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee contexts 1 properties 0x301 direct-receive req2-receive aarch64 driver ffa-preempted-echo",
    "arm-ffa-4: ID 0x8004 UUID 5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd contexts 4 properties 0x10d direct-receive indirect notifications aarch64 driver ffa-notify",
    "arm-ffa-5: ID 0x8005 UUID 09d90fb6-cd9b-41f4-9613-8aeffa5e310f contexts 1 properties 0x101 direct-receive aarch64 driver ffa-scheduling",
    "arm-ffa-6: ID 0x8006 UUID c2b67ad3-85fe-452b-870b-b8fef632eae3 contexts 4 properties 0x101 direct-receive aarch64 driver ffa-per-cpu",
    "arm-ffa-7: ID 0x8010 UUID 17b862a4-1806-4faf-86b3-089a58353861 contexts 1 properties 0x309 direct-receive notifications req2-receive aarch64 driver tpm-crb-ffa",
    "ffa report: requests: ",
    "ffa report: notifications: SRI 8,",
    "ffa report: notification binding: 0x206 from 0x8004 (global)",
    "ffa report: notification binding: 0x10000 from 0x8010 (global)",
    "tpm report: partition 0x8010 over FFA_MSG_SEND_DIRECT_REQ2, completion Notified(16): ",
    "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
    "boot: exit-when-settled, powering off",
];

/// What the healthy memory checks log, in order (kernel lines and the firmware's trace).
const MEMORY_LINES: &[&str] = &[
    "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xfffffffe x3=0x0",
    "[smc] FFA_MSG_SEND_DIRECT_REQ_64 x1=0x8001 x2=0x0 x3=0x5450434d00030001",
    "[smc] FFA_MEM_RECLAIM x1=0xfffffffe x2=0x0 x3=0x0",
    "[smc] FFA_MEM_LEND_64",
    "[smc] FFA_MEM_DONATE_64",
    "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.2 layout, 112 bytes in 1 fragment(s) (FFA_MEM_SHARE_64)",
    "ffa: FFA_MEM_RECLAIM of handle 0xfffffffe: the shared region is the kernel's again",
    "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
    "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffff, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
    "memory-check: donate of 1 page(s) to 0x8001, handle 0x100000000, 1 fragment(s): the partition checked pattern P, wrote pattern Q and keeps the pages",
    "ffa: ffa-echo bound to partition 0x8001",
    "ffa report: 3 memory transaction(s)",
    "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
    "ffa report: memory handle 0xffffffff: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
    "ffa report: memory handle 0x100000000: donate to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Donated",
    "boot: exit-when-settled, powering off",
];

/// What no healthy memory scenario may show.
const MEMORY_FORBIDDEN: &[&str] = &[
    "panicked",
    MALFORMED_FRAME_WARNING,
    " ERROR ",
    "FAILED",
    "skipped",
    "refused",
];

/// A scenario with the usual board features, exit status 0 and timeout.
const fn scenario(
    name: &'static str,
    description: &'static str,
    firmware: FirmwareSettings<'static>,
    expected_lines: &'static [&'static str],
    forbidden_lines: &'static [&'static str],
) -> Scenario {
    Scenario {
        name,
        description,
        board_features: &["exit-when-settled"],
        firmware,
        expected_exit_status: 0,
        expected_lines,
        forbidden_lines,
        timeout: DEFAULT_TIMEOUT,
    }
}

/// What no healthy protected-mode memory scenario may show: a failed
/// memory check (last, so that [`PROTECTED_MEMORY_FORBIDDEN`] can leave it
/// out), donation or pKVM's retrieve reaching the monitor (the proxy
/// refuses donation and reclaims from its own record), a stage-2 fault.
const PROTECTED_MEMORY_HEALTHY: &[&str] = &[
    "panicked",
    MALFORMED_FRAME_WARNING,
    " ERROR ",
    "stage-2 fault",
    "[smc] FFA_MEM_DONATE",
    "[smc] FFA_MEM_RETRIEVE_REQ",
    "FAILED",
];

/// [`PROTECTED_MEMORY_HEALTHY`] where a memory check fails on purpose.
const PROTECTED_MEMORY_FORBIDDEN: &[&str] = PROTECTED_MEMORY_HEALTHY
    .split_at(PROTECTED_MEMORY_HEALTHY.len() - 1)
    .0;

/// The client's memory checks in protected mode (the board's
/// `protected-mode` build, or `board_features`), against the model with
/// `faults` (another SPMC, or an injected failure), with the trace on.
const fn protected_memory_under(
    name: &'static str,
    description: &'static str,
    board_features: &'static [&'static str],
    faults: &'static [Fault],
    expected_lines: &'static [&'static str],
    forbidden_lines: &'static [&'static str],
) -> Scenario {
    Scenario {
        name,
        description,
        board_features,
        firmware: FirmwareSettings {
            faults,
            trace: true,
            enter_normal_world_at_el1: false,
        },
        expected_exit_status: 0,
        expected_lines,
        forbidden_lines,
        timeout: DEFAULT_TIMEOUT,
    }
}

/// The exit status under `exit-when-settled` of a boot whose FF-A root is
/// down (failed, timed out, or never started although the monitor answers
/// FF-A): `boards/qemu-virt/src/tests/mod.rs`'s `EXIT_FFA_ROOT_DOWN`.
pub const EXIT_FFA_ROOT_DOWN: i32 = 3;

/// A scenario whose FF-A root does not come up: it exits with
/// [`EXIT_FFA_ROOT_DOWN`].
const fn root_down(scenario: Scenario) -> Scenario {
    Scenario {
        expected_exit_status: EXIT_FFA_ROOT_DOWN,
        ..scenario
    }
}

/// Firmware settings with these faults and nothing else.
const fn faults(faults: &'static [Fault]) -> FirmwareSettings<'static> {
    FirmwareSettings {
        faults,
        trace: false,
        enter_normal_world_at_el1: false,
    }
}

/// A fault with an explicit amount (`MODE=N`).
const fn fault_with(kind: FaultKind, amount: u64) -> Fault {
    Fault {
        kind,
        amount: Some(amount),
    }
}

/// Every scenario, in the order `cargo xtask test` runs them.
pub const SCENARIOS: &[Scenario] = &[
    scenario(
        "boot",
        "boots at EL2, discovers the partitions, echoes with DIRECT_REQ 32/64 and REQ2, reports, powers off",
        FirmwareSettings::HEALTHY,
        HEALTHY_FFA_LINES,
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "el1-entry",
        "the firmware enters the kernel at EL1 (TF-A without EL2); FF-A works the same",
        FirmwareSettings {
            enter_normal_world_at_el1: true,
            ..FirmwareSettings::HEALTHY
        },
        &[
            "kernel entered at EL1",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
            "boot: init queue settled",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "trace",
        "the firmware traces every SMC of an FF-A session",
        FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        &[
            "[smc] SMCCC_VERSION",
            "[smc] FFA_VERSION x1=0x10002",
            "[smc] FFA_ID_GET",
            "[smc] FFA_RXTX_MAP_64",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001",
            "-> FFA_MSG_SEND_DIRECT_RESP2 x1=0x80010000",
            "[smc] FFA_RUN x1=0x80030000",
            "boot: init queue settled",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "not-ready",
        "readiness delayed (NOT_READY): the root defers, then probes; drivers follow",
        faults(&[Fault::new(FaultKind::NotReady)]),
        &[
            "init: arm-ffa deferred, waits on secure-monitor-ready",
            "init: ffa-echo deferred, waits on ffa-root-probed",
            "secure monitor answers FF-A v1.2 after",
            "init: arm-ffa ready",
            "init: ffa-echo ready",
            "boot: init queue settled",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "busy-at-boot",
        "readiness delayed (BUSY): the root defers, then probes; drivers follow",
        faults(&[Fault::new(FaultKind::BusyAtBoot)]),
        &[
            "init: arm-ffa deferred, waits on secure-monitor-ready",
            "secure monitor answers FF-A v1.2 after",
            "init: arm-ffa ready",
            "init: ffa-echo ready",
            "boot: init queue settled",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "ffa-absent",
        "no FF-A at all: reported once, the root and drivers stay pending, clean power-off",
        faults(&[Fault::new(FaultKind::FfaAbsent)]),
        &[
            "FF-A is absent",
            "boot: init queue settled",
            "ffa report: root Waiting, no FF-A session",
            "init: arm-ffa waits on secure-monitor-ready",
            "init: ffa-echo waits on ffa-root-probed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "spmc-v1.0",
        "a v1.0-only SPMC: v1.0 negotiated, 8-byte descriptors, drivers matched by UUID query",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::SpmcVersion1_0)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            "requested v1.2, callee v1.0, using v1.0",
            "[smc] FFA_PARTITION_INFO_GET",
            "[smc] FFA_RX_RELEASE",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "ffa report: root Ready, FF-A v1.0",
            "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "spmc-v1.1",
        "a v1.1 SPMC: discovery through the RX buffer with 24-byte descriptors, RX released",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::SpmcVersion1_1)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            "requested v1.2, callee v1.1, using v1.1",
            "[smc] FFA_PARTITION_INFO_GET",
            "[smc] FFA_RX_RELEASE",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "ffa report: root Ready, FF-A v1.1",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "spmc-v2.0",
        "an SPMC of major version 2: refused as incompatible, clean power-off",
        faults(&[Fault::new(FaultKind::SpmcVersion2_0)]),
        &[
            "an incompatible major version",
            "boot: init queue settled",
            "init: arm-ffa waits on secure-monitor-ready",
        ],
        HEALTHY_FORBIDDEN,
    ),
    root_down(scenario(
        "rxtx-map-denied",
        "FFA_RXTX_MAP denied: the root fails with a clear error, every driver is told so, and the boot exits with status 3",
        faults(&[Fault::new(FaultKind::RxtxMapDenied)]),
        &[
            "FFA_RXTX_MAP failed: Status(Denied)",
            "init: arm-ffa failed",
            "ffa: ffa-echo not bound: the FF-A root failed (Status(Denied))",
            "init: ffa-echo failed: NODEVICE",
            "ffa: ffa-preempted-echo not bound: the FF-A root failed (Status(Denied))",
            "init: ffa-preempted-echo failed: NODEVICE",
            "init: settled: 0 ready, 9 failed, 0 waiting, 0 timed out, 2 unbound",
            "ffa report: root Failed(Status(Denied))",
            "boot: over, but the FF-A root is not up: RootDown(Failed(Status(Denied)))",
            "boot: exit-when-settled, powering off with status 3",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            "waits on ffa-root-ready",
        ],
    )),
    root_down(scenario(
        "partition-info-overflow",
        "PARTITION_INFO_GET reports more partitions than fit: rejected, root fails cleanly",
        faults(&[
            Fault::new(FaultKind::SpmcVersion1_1),
            Fault::new(FaultKind::PartitionInfoOverflow),
        ]),
        &[
            "16777216 partitions reported",
            "init: arm-ffa failed",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    )),
    root_down(scenario(
        "partition-info-wrong-size",
        "PARTITION_INFO_GET reports a descriptor size too small: rejected, root fails cleanly",
        faults(&[
            Fault::new(FaultKind::SpmcVersion1_1),
            Fault::new(FaultKind::PartitionInfoWrongSize),
        ]),
        &[
            "partition descriptor size 16 is unusable",
            "init: arm-ffa failed",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    )),
    scenario(
        "partition-info-extended-size",
        "PARTITION_INFO_GET uses larger descriptors (legal): the client steps by the reported size",
        faults(&[
            Fault::new(FaultKind::SpmcVersion1_1),
            Fault::new(FaultKind::PartitionInfoExtendedSize),
        ]),
        &[
            "arm-ffa-1: partition 0x8001 uuid fa791f17-febd-4861-81d0-4b5dae9cb9cb",
            "arm-ffa-3: partition 0x8003 uuid b4399eff-6a76-400b-bfa8-2c063889c6ee",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "wrong-responder",
        "direct responses from another partition are rejected and the drivers fail to bind",
        faults(&[Fault::new(FaultKind::WrongResponder)]),
        &[
            "response from 0x8002, expected 0x8001",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Failed(WrongResponder",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "busy-storm-recovers",
        "a short BUSY storm is absorbed by the retry policy",
        faults(&[fault_with(FaultKind::BusyStorm, 3)]),
        &["ffa-echo: partition 0x8001: DIRECT_REQ32 Passed", "boot: init queue settled"],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "busy-storm",
        "a BUSY storm longer than the retry bound: the request fails, no hang",
        faults(&[fault_with(FaultKind::BusyStorm, 100)]),
        &[
            "still Busy after 8 retries",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Failed(RetriesExhausted)",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "retry-storm",
        "a RETRY storm longer than the retry bound: the request fails, no hang",
        faults(&[fault_with(FaultKind::RetryStorm, 100)]),
        &[
            "after 8 retries",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Failed(RetriesExhausted)",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "interrupt-loop",
        "a partition that keeps answering FFA_INTERRUPT: FFA_RUN is bounded, the driver fails",
        faults(&[fault_with(FaultKind::InterruptLoop, 100)]),
        &[
            "partition 0x8003 still preempted after 32 resumptions",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Failed(ResumptionsExhausted)",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "yield-loop",
        "a partition that keeps answering FFA_YIELD: FFA_RUN is bounded, the driver fails",
        faults(&[fault_with(FaultKind::YieldLoop, 100)]),
        &[
            "partition 0x8003 still preempted after 32 resumptions",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Failed(ResumptionsExhausted)",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    // ---- split-phase requests, notifications, indirect messages (issue 12)
    scenario(
        "interrupt-heavy-partition",
        "the scheduling partition works 100 ms and is preempted whenever an interrupt of the normal world is pending, its doorbell every 25 ms and the kernel's own timer; the client returns to the main loop each time, which serves the interrupt and keeps its 5 ms heartbeat alarm firing (count and lateness in the log), then resumes with FFA_RUN from a deferred call",
        FirmwareSettings::HEALTHY,
        &[
            "init: ffa-scheduling ready",
            // At least 100 ms: the last slice may overshoot on a loaded host.
            " ms of preemptible work done:",
            "ffa-scheduling: the main loop ran during the request: the heartbeat fired",
            "ffa report: requests: ",
            "boot: exit-when-settled, powering off with status 0",
        ],
        HEALTHY_FORBIDDEN,
    ),
    Scenario {
        name: "blocking-client-livelocks",
        description: "the control of interrupt-heavy-partition: the same request made with the blocking helper, which resumes at once without returning to the main loop, finds the doorbell still pending at every FFA_RUN and ends at the resumption bound; no heartbeat fires during it",
        board_features: &["exit-when-settled", "scenario-blocking-client"],
        firmware: FirmwareSettings::HEALTHY,
        expected_exit_status: 0,
        expected_lines: &[
            "partition 0x8005 still preempted after 32 resumptions",
            "ffa-scheduling: blocking: the work request failed (ResumptionsExhausted): the doorbell was never served, 0 of it served and 0 heartbeats during the request",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: USUALLY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "yield-with-timeout",
        "the scheduling partition yields three times with a 2 ms timeout (FFA_YIELD, w2/w3 in nanoseconds): each FFA_RUN comes from the alarm once the timeout has passed, and the partition counts none early",
        FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        &[
            "ffa-scheduling: 3 yields with a 2000 us timeout resumed, 0 early (none early)",
            "ffa report: requests: ",
            "-> FFA_YIELD x1=0x80050000 x2=0x1e8480 x3=0x0",
            "[smc] FFA_RUN x1=0x80050000",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "notifications-sri",
        "notifications through a real GIC interrupt: the SRI (SGI 8) from FFA_FEATURES claimed from the chip, raised by the model when the notifier sets notifications, now, per vCPU, in answer to the kernel's FFA_NOTIFICATION_SET and from its secure timer (a FIQ at EL3); each one got with INFO_GET and GET and handed to the driver that bound it",
        FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        &[
            "ffa: notifications: the schedule receiver interrupt is 8",
            "ffa-notify: partition 0x8004: bound notifications 0x206 (global) and 0x10000000000 (per-vCPU)",
            "ffa-notify: partition 0x8004: notifications: now Passed, per-vCPU Passed, answer to SET Passed, timer Passed",
            "ffa report: notifications: SRI 8,",
            "ffa report: notification binding: 0x206 from 0x8004 (global)",
            "ffa report: notification binding: 0x10000000000 from 0x8004 (per-vCPU)",
            "[smc] FFA_FEATURES x1=0x2 ",
            "[smc] FFA_NOTIFICATION_BIND x1=0x80040000 x2=0x0 x3=0x206",
            "[smc] FFA_NOTIFICATION_BIND x1=0x80040000 x2=0x1 x3=0x0 x4=0x100",
            "[smc] FFA_NOTIFICATION_INFO_GET_64",
            "[smc] FFA_NOTIFICATION_GET x1=0x0 x2=0x5",
            "[smc] FFA_NOTIFICATION_SET x1=0x8004 x2=0x0 x3=0x4",
            "[fiq] secure timer",
            "[smc] FFA_NOTIFICATION_INFO_GET_64",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "indirect-messages",
        "indirect messages both ways: FFA_MSG_SEND2 with the v1.2 header from TX, the notifier's echo and a message it sends on request arrive through RX with the RX-full framework notification, are checked, copied and released with FFA_RX_RELEASE",
        FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        &[
            "indirect messages: echo Passed, on request Passed",
            "ffa-notify: the partition counts 1 messages received, 2 sent",
            "indirect messages 2 received, 1 sent, 0 dropped",
            "[smc] FFA_MSG_SEND2 x1=0x0 x2=0x0",
            "[smc] FFA_NOTIFICATION_GET",
            "[smc] FFA_RX_RELEASE",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "setup-busy-retried",
        "the SPMC answers BUSY to the first three set-up calls once ready: the root defers on ffa-root-retry, the alarm retries after a growing back-off, set-up resumes where it stopped and the boot goes on",
        faults(&[fault_with(FaultKind::SetupBusy, 3)]),
        &[
            "ffa: set-up refused for now (Status(Busy)); trying again in 100 us (retry 1 of 8)",
            "init: arm-ffa deferred, waits on ffa-root-retry",
            "trying again in 200 us (retry 2 of 8)",
            "trying again in 400 us (retry 3 of 8)",
            "ffa: set up: v1.2, ID 0x0000, 4096-byte RX/TX buffers",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed",
            "init: settled: 10 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
    ),
    root_down(scenario(
        "setup-busy-exhausted",
        "an SPMC that keeps answering BUSY at set-up: the retries are bounded, the root fails cleanly and the boot exits with status 3",
        faults(&[fault_with(FaultKind::SetupBusy, 100)]),
        &[
            "retry 8 of 8",
            "ffa: set-up still refused (Status(Busy)) after 8 retries",
            "init: arm-ffa failed",
            "boot: exit-when-settled, powering off with status 3",
        ],
        USUALLY_FORBIDDEN,
    )),
    scenario(
        "spmc-tf-a-el3",
        "the model answering as TF-A's EL3 SPMC: no REQ2 or PARTITION_INFO_GET_REGS, the caller's values left in reserved registers; the kernel discovers and echoes as under real TF-A (compare tf-a-spmc-echo)",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::TfAEl3Spmc)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            // TF-A leaves the caller's x1 in place in FFA_FEATURES' answer.
            "[smc] FFA_FEATURES x1=0xc4000066 x2=0x0 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0xc4000066 x2=0x0",
            "[smc] FFA_FEATURES x1=0xc400008d x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR NOT_SUPPORTED",
            "[smc] FFA_FEATURES x1=0xc400008b x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR NOT_SUPPORTED",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            "[smc] FFA_PARTITION_INFO_GET ",
            "ffa: set up: v1.2, ID 0x0000, 4096-byte RX/TX buffers",
            "ffa: notifications not offered",
            "ffa-notify: partition 0x8004: notifications unavailable (Unsupported); nothing to exercise",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            // No notifications from this SPMC: the TPM driver polls.
            "tpm: completion notifications unavailable (Ffa(Unsupported)); polling the CRB every 1 ms",
            "init: settled: 9 ready, 0 failed, 0 waiting, 0 timed out, 2 unbound",
            "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x101 direct-receive aarch64 driver ffa-echo",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            "[smc] FFA_MSG_SEND_DIRECT_REQ2",
            "[smc] FFA_NOTIFICATION_BIND",
        ],
    ),
    // ---- memory management (capsules/ffa/src/memory, tools/ffa-model/src/memory_*.rs,
    // the echo driver's memory checks in capsules/ffa/src/drivers/memory_check.rs)
    scenario(
        "memory",
        "the echo driver shares, lends and donates kernel pages to the model's partition, which retrieves them, checks pattern P, writes pattern Q and relinquishes; the kernel reads Q back and reclaims; the boot report lists each transaction",
        FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        MEMORY_LINES,
        MEMORY_FORBIDDEN,
    ),
    Scenario {
        name: "memory-fragments",
        description: "a share of 256 single-page ranges: its 4192-byte descriptor goes out in the minimum of 2 fragments (FFA_MEM_FRAG_RX/FFA_MEM_FRAG_TX), the partition retrieves it in fragments too, and the bytes go there and back",
        board_features: &["exit-when-settled", "memory-fragments"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "[smc] FFA_MEM_SHARE_64 x1=0x1060 x2=0x1000 x3=0x0 x4=0x0 -> FFA_MEM_FRAG_RX x1=0x0 x2=0x1 x3=0x1000",
            "[smc] FFA_MEM_FRAG_TX x1=0x0 x2=0x1 x3=0x60 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x1",
            "ffa: share of 256 pages (256 ranges) to 0x8001: handle 0x100000000, v1.2 layout, 4192 bytes in 2 fragment(s) (FFA_MEM_SHARE_64)",
            "memory-check: scattered share of 256 page(s) with 0x8001, handle 0x100000000, 2 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0x100000000: share to 0x8001 (1 receiver(s)), 256 pages in 256 range(s), v1.2 layout, 2 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "memory-no-memory",
        "injected: the first FFA_MEM_SHARE answers NO_MEMORY; the region comes back to the kernel, the failure is reported, the lend and donation that follow work",
        faults(&[Fault::new(FaultKind::MemoryNoMemory)]),
        &[
            "ffa: FFA_MEM_SHARE_64 refused: Status(NoMemory)",
            "memory-check: share with 0x8001 failed: Give(Status(NoMemory))",
            "memory-check: lend of 1 page(s) with 0x8001",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(NoMemory))",
            "ffa report: memory handle 0xfffffffe: lend to 0x8001",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "memory-reclaim-denied",
        "injected: the first FFA_MEM_RECLAIM answers DENIED (as while the partition holds the memory): the region stays shared, the retry reclaims it",
        faults(&[Fault::new(FaultKind::MemoryReclaimDenied)]),
        &[
            "ffa: FFA_MEM_RECLAIM of handle 0xfffffffe: DENIED, a borrower still holds it; it stays shared",
            "memory-check: the reclaim was DENIED; the region stays given; retrying once",
            "ffa: FFA_MEM_RECLAIM of handle 0xfffffffe: the shared region is the kernel's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        ],
        USUALLY_FORBIDDEN,
    ),
    Scenario {
        name: "memory-aborted-fragment",
        description: "injected: the SPMC answers the first FFA_MEM_FRAG_TX with ABORTED in the middle of a fragmented share: the transaction ends, the region comes back, the failure is reported",
        board_features: &["exit-when-settled", "memory-fragments"],
        firmware: faults(&[Fault::new(FaultKind::MemoryAbortedFragment)]),
        expected_exit_status: 0,
        expected_lines: &[
            "ffa: share: transaction 0x100000000 ended at fragment 2: Status(Aborted)",
            "memory-check: scattered share with 0x8001 failed: Give(Status(Aborted))",
            "memory-check: donate of 1 page(s) to 0x8001",
            "ffa report: memory handle 0x100000000: share to 0x8001 (1 receiver(s)), 256 pages in 256 range(s), v1.2 layout, 2 fragment(s): Refused(Status(Aborted))",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: USUALLY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "memory-bad-attributes",
        "injected: the first FFA_MEM_SHARE answers INVALID_PARAMETERS as for bad memory attributes: the region comes back, the failure is reported",
        faults(&[Fault::new(FaultKind::MemoryBadAttributes)]),
        &[
            "ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS",
            "memory-check: share with 0x8001 failed: Give(Status(InvalidParameters))",
            "memory-check: lend of 1 page(s) with 0x8001",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(InvalidParameters))",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "memory-spmc-v1.0",
        "a v1.0 SPMC: descriptors in the v1.0 layout (32-byte header, 80 bytes for one range); share, lend and donation go there and back",
        faults(&[Fault::new(FaultKind::SpmcVersion1_0)]),
        &[
            "using v1.0",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.0 layout, 80 bytes in 1 fragment(s)",
            "memory-check: share of 2 page(s) with 0x8001",
            "memory-check: lend of 1 page(s) with 0x8001",
            "memory-check: donate of 1 page(s) to 0x8001",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
        ],
        MEMORY_FORBIDDEN,
    ),
    scenario(
        "memory-spmc-v1.1",
        "a v1.1 SPMC: descriptors in the v1.1 layout (16-byte access descriptors, 96 bytes for one range); share, lend and donation go there and back",
        faults(&[Fault::new(FaultKind::SpmcVersion1_1)]),
        &[
            "using v1.1",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.1 layout, 96 bytes in 1 fragment(s)",
            "memory-check: share of 2 page(s) with 0x8001",
            "memory-check: lend of 1 page(s) with 0x8001",
            "memory-check: donate of 1 page(s) to 0x8001",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
        ],
        MEMORY_FORBIDDEN,
    ),
    Scenario {
        name: "memory-caller-v1.0",
        description: "the kernel asks for v1.0 from a v1.2 SPMC: it sends v1.0 descriptors, the partition (v1.2) retrieves them in the v1.2 layout; bytes go there and back",
        board_features: &["exit-when-settled", "ffa-v1-0"],
        firmware: FirmwareSettings::HEALTHY,
        expected_exit_status: 0,
        expected_lines: &[
            "requested v1.0, callee v1.2, using v1.0",
            "v1.0 layout, 80 bytes in 1 fragment(s)",
            "memory-check: share of 2 page(s) with 0x8001",
            "memory-check: donate of 1 page(s) to 0x8001",
        ],
        forbidden_lines: MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "memory-tf-a-el3-v1.2",
        "the model as TF-A's EL3 SPMC with a v1.2 caller: it refuses memory transactions (as TF-A 2.12.1 does); the kernel says why and what to do, and boots on",
        faults(&[Fault::new(FaultKind::TfAEl3Spmc)]),
        &[
            "ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS (an SPMC that takes memory transactions only from v1.0/v1.1 callers, as TF-A 2.12's EL3 SPMC, answers this at v1.2: request v1.1 for it)",
            "memory-check: share with 0x8001 failed: Give(Status(InvalidParameters))",
            "memory-check: donate skipped: the callee does not offer it",
            "init: settled: 9 ready, 0 failed, 0 waiting, 0 timed out, 2 unbound",
            // A refused share is the driver's finding, not a failed FF-A root.
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
    ),
    Scenario {
        name: "memory-tf-a-el3-v1.1",
        description: "the model as TF-A's EL3 SPMC with the kernel asking for v1.1: share and lend work (handles from 0xffffffc0), donation is not offered",
        board_features: &["exit-when-settled", "ffa-v1-1"],
        firmware: faults(&[Fault::new(FaultKind::TfAEl3Spmc)]),
        expected_exit_status: 0,
        expected_lines: &[
            "using v1.1",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xffffffc0",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffc1",
            "memory-check: donate skipped: the callee does not offer it",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "FAILED"],
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "spmc-hafnium",
        "the model answering as Hafnium (FF-A v1.3): 48-byte descriptors, two per PARTITION_INFO_GET_REGS call, a 1-page RX/TX maximum; the kernel maps one page and reads every partition right; under Hafnium's memory rules share, lend and donation go there and back (handles are slot indices)",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::Hafnium)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            "[fw] config: loaded from 0x5ff00000; the SPMC answers as Hafnium, FF-A v1.3",
            "[smc] FFA_VERSION x1=0x10002 x2=0x0 x3=0x0 x4=0x0 -> 0x10003",
            "[smc] FFA_FEATURES x1=0xc4000066 x2=0x0 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x10000",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            // Hafnium's handles are slot indices (bit 63 clear: the SPMC allocated them).
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0",
            "[smc] FFA_MEM_DONATE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0",
            "ffa: requested v1.2, callee v1.3, using v1.2",
            "ffa: set up: v1.2, ID 0x0000, 4096-byte RX/TX buffers",
            "arm-ffa-1: partition 0x8001 uuid fa791f17-febd-4861-81d0-4b5dae9cb9cb",
            "arm-ffa-2: partition 0x8002 uuid 88886b1c-15ad-4435-a3f8-e2919eacb5b7",
            "arm-ffa-3: partition 0x8003 uuid b4399eff-6a76-400b-bfa8-2c063889c6ee",
            // Hafnium wants the normal world's bitmap made, which this
            // kernel does only as the hypervisor (protected mode).
            // Memory under Hafnium's rules: slot-index handles, all three
            // operations (blocking, at the echo driver's bind).
            "memory-check: share of 2 page(s) with 0x8001, handle 0x0,",
            "memory-check: lend of 1 page(s) with 0x8001",
            "memory-check: donate of 1 page(s) to 0x8001",
            "ffa-notify: partition 0x8004: notifications unavailable (Status(NotSupported)); nothing to exercise",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
            // Without a bitmap made for it (Hafnium needs one), the TPM driver polls.
            "tpm: completion notifications unavailable (Ffa(Status(NotSupported))); polling the CRB every 1 ms",
            "init: settled: 10 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "arm-ffa-2: ID 0x8002 UUID 88886b1c-15ad-4435-a3f8-e2919eacb5b7 contexts 1 properties 0x1 direct-receive aarch32",
            "ffa report: 3 memory transaction(s)",
            "ffa report: memory handle 0x0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0x0: donate to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Donated",
            "boot: exit-when-settled, powering off with status 0",
        ],
        MEMORY_FORBIDDEN,
    ),
    scenario(
        "spmc-op-tee",
        "the model answering as OP-TEE's S-EL1 SPMC: v1.1 whatever is asked, discovery through RX with 24-byte descriptors after a count-only query, no REQ2; OP-TEE itself first in the table (0x8001, UUID 486178e0-...), the partitions it hosts after it; under OP-TEE's memory rules a share goes to the echo partition and back in the v1.1 layout (handles carry bit 44), a lend to a partition other than OP-TEE is DENIED, and donation, which OP-TEE does not take from the normal world (NOT_SUPPORTED), is skipped with the reason logged; the OP-TEE driver binds 0x8001",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::OpTee)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            "[fw] config: loaded from 0x5ff00000; the SPMC answers as OP-TEE, FF-A v1.1",
            "[smc] FFA_VERSION x1=0x10002 x2=0x0 x3=0x0 x4=0x0 -> 0x10001",
            "[smc] FFA_PARTITION_INFO_GET ",
            "[smc] FFA_RX_RELEASE",
            // OP-TEE's handles carry bit 44 (w3 = 0x1000); it lends only to
            // itself and offers no donation.
            "[smc] FFA_MEM_SHARE_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x1000",
            "[smc] FFA_MEM_LEND_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_ERROR DENIED (-6)",
            "[smc] FFA_FEATURES x1=0xc4000071 x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR NOT_SUPPORTED (-1)",
            "[smc] FFA_FEATURES x1=0x84000071 x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR NOT_SUPPORTED (-1)",
            "ffa: requested v1.2, callee v1.1, using v1.1",
            "ffa: set up: v1.1, ID 0x0000, 4096-byte RX/TX buffers",
            "arm-ffa-1: partition 0x8001 uuid 486178e0-e7f8-11e3-bc5e-0002a5d5c51b",
            "arm-ffa-4: partition 0x8004 uuid b4399eff-6a76-400b-bfa8-2c063889c6ee",
            // Memory under OP-TEE's rules: handles carry bit 44, no donation,
            // and no lending to a partition other than OP-TEE (blocking, at
            // the echo driver's bind).
            "memory-check: share of 2 page(s) with 0x8002, handle 0x100000000000,",
            "memory-check: lend with 0x8002 failed: Give(Status(Denied))",
            "ffa: donate: FFA_FEATURES: the callee offers neither FFA_MEM_DONATE_64 nor FFA_MEM_DONATE_32",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa-notify: partition 0x8005: notifications unavailable (Status(InvalidParameters)); nothing to exercise",
            "ffa: optee bound to partition 0x8001",
            "ffa-echo: partition 0x8002: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            // OP-TEE's probe is split-phase too: after binding, beside the
            // other drivers' requests.
            "optee: partition 0x8001: API v1.0, OP-TEE revision 4.4 (build ID 0x4d4f444c)",
            // Without a bitmap made for it (OP-TEE needs one), the TPM driver polls.
            "tpm: completion notifications unavailable (Ffa(Status(InvalidParameters))); polling the CRB every 1 ms",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 0 unbound",
            "ffa report: root Ready, FF-A v1.1",
            "ffa report: arm-ffa-1: ID 0x8001 UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b contexts 4 properties 0x103 direct-receive direct-send aarch64 driver optee",
            "ffa report: memory handle 0x100000000000: share to 0x8002 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory (no handle): lend to 0x8002, 1 pages in 1 range(s): Refused(Status(Denied))",
            "optee report: partition 0x8001",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            "[smc] FFA_MEM_DONATE",
        ],
    ),
    // ---- the TPM over FF-A and measured boot (capsules/tpm, tools/ffa-model/src/tpm)
    scenario(
        "measured-boot",
        "the whole readiness chain: monitor → FF-A root → TPM driver (bound by UUID, DEN0138 over DIRECT_REQ2) → TPM bring-up → measured boot; the kernel image and the partitions, measured before the TPM was reachable, are extended in order, the log is printed and replayed, and the PCRs read back match (checked again from the printed log, against the ELF, and by tpm2_eventlog if installed)",
        faults(&[]),
        &[
            "measured-boot: kernel .text at 0x60000000",
            "measured-boot: kernel .rodata at 0x6",
            "boot: entering the main loop",
            "ffa: arm-ffa-7: partition 0x8010 uuid 17b862a4-1806-4faf-86b3-089a58353861",
            "measured-boot: arm-ffa-1 (partition 0x8001) measured as event 2, queued until the TPM is up",
            "measured-boot: arm-ffa-7 (partition 0x8010) measured as event 8, queued until the TPM is up",
            "tpm: TPM service at partition 0x8010, calls over FFA_MSG_SEND_DIRECT_REQ2, CRB at 0x5fd00000 (20480 bytes)",
            "init: tpm deferred, waits on tpm-started",
            "init: measured-boot deferred, waits on tpm-probed",
            "tpm: TPM service interface v1.0 over FFA_MSG_SEND_DIRECT_REQ2",
            "tpm: completion notifications: ID 16 bound to the TPM partition and registered",
            "tpm: TPM 2.0 ready: manufacturer",
            "init: tpm ready",
            "measured-boot: the TPM is up; extending 11 logged events in order",
            "init: measured-boot deferred, waits on measured-boot-done",
            "measured-boot: PCR 0 sha256",
            "measured-boot: PCR 1 sha256",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "measured-boot: TCG event log: 853 bytes, Spec ID event and 11 events",
            "measured-boot: event 10: PCR 1 EV_SEPARATOR sha256 df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
            "measured-boot: log 0300:",
            "init: measured-boot ready",
            "init: settled: 10 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "boot: init queue settled",
            "ffa report: arm-ffa-7: ID 0x8010 UUID 17b862a4-1806-4faf-86b3-089a58353861 contexts 1 properties 0x309 direct-receive notifications req2-receive aarch64 driver tpm-crb-ffa",
            // Every command (bring-up, extends, reads) waited for the
            // notification (a completion seen at once is still notified and
            // acknowledged; how many depends on QEMU's timing).
            "tpm report: partition 0x8010 over FFA_MSG_SEND_DIRECT_REQ2, completion Notified(16): 16 commands, 0 failed, ",
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "measured-boot report: PCR 0 = ",
            "measured-boot report: PCR 1 = ",
            "boot: exit-when-settled, powering off with status 0",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "tpm-late",
        "the TPM partition answers BUSY for 300 ms: the driver retries on its alarm (bounded, 2 s as Linux), measured boot waits (the queue does not settle meanwhile), then every queued measurement is extended in order and the replay matches",
        faults(&[Fault::new(FaultKind::TpmLate)]),
        &[
            "[fw] config: TPM partition present, late 300000 us",
            "measured-boot: arm-ffa-7 (partition 0x8010) measured as event 8, queued until the TPM is up",
            "tpm: the TPM partition is busy or not ready (Ffa(RetriesExhausted)) at Version; trying again for up to 2000 ms",
            "tpm: TPM service interface v1.0 over FFA_MSG_SEND_DIRECT_REQ2",
            "tpm: TPM 2.0 ready",
            "measured-boot: the TPM is up; extending 11 logged events in order",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "init: settled: 10 ready, 0 failed, 0 waiting",
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "tpm-not-ready",
        "the TPM partition answers NOT_READY for 300 ms: the same wait, nothing lost",
        faults(&[Fault::new(FaultKind::TpmNotReady)]),
        &[
            "tpm: the TPM partition is busy or not ready (Ffa(Status(NotReady))) at Version",
            "tpm: TPM 2.0 ready",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "tpm-absent",
        "no TPM partition: the TPM driver is unbound, the bring-up says there is no TPM and why, measured boot is unavailable (its measurements stay logged, none extended), and boot is healthy",
        faults(&[Fault::new(FaultKind::TpmAbsent)]),
        &[
            "[fw] config: TPM partition absent",
            "ffa: root ready, 6 partition devices",
            "ffa: tpm-crb-ffa unbound: no partition implements its UUIDs",
            "tpm: no TPM: no FF-A partition implements the TPM service (UUID 17b862a4-1806-4faf-86b3-089a58353861)",
            "measured-boot: measurement unavailable: no TPM: no FF-A partition implements the TPM service",
            "init: settled: 7 ready, 0 failed, 0 waiting, 0 timed out, 4 unbound",
            "measured-boot report: measurement unavailable: no TPM: no FF-A partition implements the TPM service (UUID 17b862a4-1806-4faf-86b3-089a58353861); 8 measurements logged, none extended",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        HEALTHY_FORBIDDEN,
    ),
    scenario(
        "tpm-not-crb",
        "the TPM's CRB says its interface is FIFO, not CRB: the driver finds out at its first locality, after it registered for completion notifications, so it gives the TPM up and withdraws the registration (UNREGISTER_FROM_NOTIFICATION, the notification ID unbound), as Linux's tpm_crb_ffa does on a failure after registering; measurement is unavailable, and boot is healthy otherwise",
        faults(&[Fault::new(FaultKind::TpmNotCrb)]),
        &[
            "[fw] config: TPM partition present, late 0 us, malformed None for command 0x0, completion notifications offered, commands run 200 us; interface ID FIFO, not CRB",
            "tpm: completion notifications: ID 16 bound to the TPM partition and registered",
            "tpm: command failed: Crb(Locality, NotCrb(",
            "tpm: the TPM is given up: UNREGISTER_FROM_NOTIFICATION answered OK; notification 16 unbound",
            "tpm report: partition 0x8010 over FFA_MSG_SEND_DIRECT_REQ2, completion Polled: 0 commands, 1 failed, 5 service calls",
            "measured-boot report: measurement FAILED: TpmFailed(Startup, Transport(FAIL)); 9 events logged, 0 extended",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, "UNREGISTER_FROM_NOTIFICATION refused", "not unbound"],
    ),
    scenario(
        "tpm-malformed-response",
        "the TPM's PCR_Read response claims 0xfffffff0 bytes: the driver refuses it (never reads past the buffer), gives the locality back and goes on; measured boot reports that it could not verify the PCRs",
        faults(&[Fault::new(FaultKind::TpmMalformedResponse)]),
        &[
            "tpm: TPM 2.0 ready",
            "measured-boot: the TPM is up; extending 11 logged events in order",
            "tpm: command failed: Crb(Execute, ResponseSize(4294967280))",
            "measured-boot: stopped: ReadTransport(FAIL)",
            "init: measured-boot failed: FAIL",
            "measured-boot report: measurement FAILED: ReadTransport(FAIL); 11 events logged, 11 extended",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, "replay of 11 events matches"],
    ),
    scenario(
        "tpm-malformed-startup",
        "the TPM's TPM2_Startup response has the tag 0x1234: the bring-up refuses it, the TPM entry fails, measured boot is unavailable and says why",
        faults(&[Fault::new(FaultKind::TpmMalformedStartup)]),
        &[
            "tpm: bring-up failed at Startup: Malformed(BadTag(4660))",
            "init: tpm failed: FAIL",
            "measured-boot: measurement unavailable: the TPM failed: TpmFailed(Startup, Malformed(BadTag(4660)))",
            "measured-boot report: measurement FAILED: TpmFailed(Startup, Malformed(BadTag(4660))); 9 events logged, 0 extended",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "tpm-polled",
        "the TPM partition offers no completion notifications (GET_FEATURE_INFO answers NOTSUP) and each command runs 3 ms after START: the driver binds no notification ID and polls the CRB on its alarm every millisecond, as Linux does; measured boot is the same",
        faults(&[Fault::new(FaultKind::TpmPolled)]),
        &[
            "[fw] config: TPM partition present, late 0 us, malformed None for command 0x0, completion notifications not offered, commands run 3000 us",
            "ffa: arm-ffa-7: partition 0x8010 uuid 17b862a4-1806-4faf-86b3-089a58353861",
            "tpm: TPM service interface v1.0 over FFA_MSG_SEND_DIRECT_REQ2",
            "tpm: completion notifications unavailable (Status(NotSupported)); polling the CRB every 1 ms",
            "tpm: TPM 2.0 ready",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "init: settled: 10 ready, 0 failed, 0 waiting",
            "ffa report: arm-ffa-7: ID 0x8010 UUID 17b862a4-1806-4faf-86b3-089a58353861 contexts 1 properties 0x301 direct-receive req2-receive aarch64 driver tpm-crb-ffa",
            "tpm report: partition 0x8010 over FFA_MSG_SEND_DIRECT_REQ2, completion Polled: 16 commands, 0 failed, 82 service calls, 0 notifications, ",
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "notification binding: 0x10000 from 0x8010",
            "completion notifications: ID",
        ],
    ),
    scenario(
        "tpm-in-start",
        "the TPM partition offers no completion notifications and completes each command within START (as Microsoft's TPM service does): the CRB says done when START returns, so the driver neither waits nor polls",
        faults(&[fault_with(FaultKind::TpmPolled, 0)]),
        &[
            "[fw] config: TPM partition present, late 0 us, malformed None for command 0x0, completion notifications not offered, commands run 0 us",
            "tpm: completion notifications unavailable (Status(NotSupported)); polling the CRB every 1 ms",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "tpm report: partition 0x8010 over FFA_MSG_SEND_DIRECT_REQ2, completion Polled: 16 commands, 0 failed, 82 service calls, 0 notifications, 0 polls, 0 busy answers",
            "boot: exit-when-settled, powering off with status 0",
        ],
        HEALTHY_FORBIDDEN,
    ),
    Scenario {
        name: "protected-mode-measured-boot",
        description: "measured boot in protected mode: the chain waits on proxy-finalised too; the proxy refuses DIRECT_REQ2, so the TPM driver falls back to DIRECT_REQ (as Linux does) through the proxy; the CRB is a fixed carve-out outside EL2's memory, so no memory ABI is needed; the replay matches",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings::HEALTHY,
        expected_exit_status: 0,
        expected_lines: &[
            "protected: EL2 proxy finalised after 3 HVCs: FF-A v1.2",
            "init: arm-ffa deferred, waits on proxy-finalised",
            "init: ffa-proxy ready",
            "init: arm-ffa ready",
            "tpm: TPM service at partition 0x8010, calls over FFA_MSG_SEND_DIRECT_REQ_64, CRB at 0x5fd00000",
            "tpm: TPM service interface v1.0 over FFA_MSG_SEND_DIRECT_REQ_64",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "init: settled: 11 ready, 0 failed, 0 waiting",
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    // ---- OP-TEE (capsules/optee, tools/ffa-model/src/optee, components::optee)
    scenario(
        "optee-probe",
        "the OP-TEE driver probes OP-TEE (the model as OP-TEE's SPMC) as Linux does: GET_API_VERSION, GET_OS_VERSION with the build ID, EXCHANGE_CAPABILITIES, the argument page shared with FFA_MEM_SHARE, then device enumeration through the device-enumeration pseudo TA (open, GET_DEVICES sized with an empty buffer, GET_DEVICES, close), its bounce region unregistered and reclaimed; the boot report shows the versions, capabilities and the device",
        FirmwareSettings {
            faults: &[Fault::new(FaultKind::OpTee)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        &[
            // Bound at once: the probe's calls are split-phase requests.
            "ffa: optee bound to partition 0x8001",
            "init: optee ready",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001 x2=0x0 x3=0x0 x4=0x0 -> FFA_MSG_SEND_DIRECT_RESP_32 x1=0x80010000 x2=0x0 x3=0x1",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001 x2=0x0 x3=0x1 x4=0x0 -> FFA_MSG_SEND_DIRECT_RESP_32 x1=0x80010000 x2=0x0 x3=0x4",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001 x2=0x0 x3=0x2 x4=0x0 -> FFA_MSG_SEND_DIRECT_RESP_32 x1=0x80010000 x2=0x0 x3=0x0",
            "[smc] FFA_MEM_SHARE_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
            // YIELDING_CALL_WITH_ARG with the argument page's handle in w4/w5.
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001 x2=0x0 x3=0x80000000 x4=0x0 -> FFA_MSG_SEND_DIRECT_RESP_32 x1=0x80010000 x2=0x0 x3=0x0",
            // The bounce region of GET_DEVICES: UNREGISTER_SHM, then reclaim.
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001 x2=0x0 x3=0x3 x4=0x1 -> FFA_MSG_SEND_DIRECT_RESP_32 x1=0x80010000 x2=0x0 x3=0x0",
            "[smc] FFA_MEM_RECLAIM x1=0x1 x2=0x1000 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
            "optee: partition 0x8001: API v1.0, OP-TEE revision 4.4 (build ID 0x4d4f444c)",
            "optee: capabilities 0x1 (arg-offset), 4 RPC parameters, 4 call slot(s) of 384 bytes",
            "optee: argument page shared with FFA_MEM_SHARE: handle 0x100000000000",
            "optee: device enumeration: 1 device(s)",
            "optee: device optee-ta-5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001",
            "boot: init queue settled",
            "ffa report: arm-ffa-1: ID 0x8001 UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b contexts 4 properties 0x103 direct-receive direct-send aarch64 driver optee",
            "optee report: partition 0x8001: API v1.0, OP-TEE 4.4 (build ID 0x4d4f444c), capabilities 0x1, 4 RPC parameters, 4 call slot(s), argument page 0x100000000000",
            "optee report: devices: 1",
            "optee report: device optee-ta-5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001",
            "optee report: 4 call(s), 0 RPC(s), 0 busy retries, 0 interrupt(s), 2 region(s) shared, 1 reclaimed, 0 given up",
            "boot: over: FfaReady",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "optee-self-test",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_64 x1=0x8001",
        ],
    ),
    Scenario {
        name: "optee-invoke",
        description: "the self-test's round trips through the TEE HIL to the model's test pseudo TA: a session with REE-kernel login, values added, a memory reference filled and one read (through bounce regions, unregistered and reclaimed), SHORT_BUFFER with the size needed, a wait-queue send and wait, an RPC suspend on the alarm, an RPC shared-memory allocation used and freed, an unknown RPC answered NOT_IMPLEMENTED, bad parameters refused by the TA, a cancelled invocation, a closed session, an unknown TA (OP-TEE's LOAD_TA refused: no tee-supplicant)",
        board_features: &["exit-when-settled", "optee-self-test"],
        firmware: faults(&[Fault::new(FaultKind::OpTee)]),
        expected_exit_status: 0,
        expected_lines: &[
            "optee: device enumeration: 1 device(s)",
            "optee-self-test: starting 14 checks against the test pseudo TA",
            "optee-self-test: Open: passed",
            "optee-self-test: Add: passed",
            "optee-self-test: Fill: passed",
            "optee-self-test: ShortBuffer: passed",
            "optee-self-test: Checksum: passed",
            "optee-self-test: WaitQueue: passed",
            "optee-self-test: Sleep: passed",
            "optee: RPC SHM_ALLOC: 6000 bytes shared with OP-TEE, handle 0x1000000",
            "optee: RPC SHM_FREE: 0x1000000",
            "optee-self-test: SharedMemory: passed",
            "optee: RPC 0x4f505421 from OP-TEE is not one the driver knows; answered TEE_ERROR_NOT_IMPLEMENTED",
            "optee-self-test: UnknownRpc: passed",
            "optee-self-test: BadParameters: passed",
            "optee-self-test: Cancel: passed",
            "optee-self-test: BadSession: passed",
            "optee-self-test: Close: passed",
            "optee: RPC LOAD_TA (0) is tee-supplicant's; this kernel has none: answered TEE_ERROR_COMMUNICATION",
            "optee-self-test: UnknownTa: passed",
            "optee-self-test: 14 checks: 14 passed, 0 failed",
            "boot: init queue settled",
            "optee report: devices: 1",
            " 0 given up",
            "boot: exit-when-settled, powering off with status 0",
        ],
        // The echo partition's lend is refused (OP-TEE lends only to
        // itself); a self-test failure reads "<check>: FAILED (...)".
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", ": FAILED ("],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "optee-busy",
        description: "injected: OP-TEE answers its first three yielding calls TEE_ERROR_BUSY (no thread free); the driver tries again after a back-off on the alarm, and enumeration and the self-test go through",
        board_features: &["exit-when-settled", "optee-self-test"],
        firmware: faults(&[Fault::new(FaultKind::OpteeBusy)]),
        expected_exit_status: 0,
        expected_lines: &[
            "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY); trying again when a call ends or in 2 ms (1 of 8)",
            "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY); trying again when a call ends or in 8 ms (3 of 8)",
            "optee: device enumeration: 1 device(s)",
            "optee-self-test: 14 checks: 14 passed, 0 failed",
            "optee report: devices: 1",
            "3 busy retries",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", ": FAILED ("],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "optee-threads-exhausted",
        description: "injected: OP-TEE's thread pool never frees (every yielding call TEE_ERROR_BUSY, the SMC ABI's ETHREAD_LIMIT): each call is tried 8 times with a growing back-off and then fails with TEE_ERROR_BUSY; device enumeration and the self-test say so, nothing but the argument page stays shared, boot completes",
        board_features: &["exit-when-settled", "optee-self-test"],
        firmware: faults(&[Fault::new(FaultKind::OpteeThreadsExhausted)]),
        expected_exit_status: 0,
        expected_lines: &[
            "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY); trying again when a call ends or in 128 ms (7 of 8)",
            "optee: OP-TEE's threads are all busy (TEE_ERROR_BUSY, the SMC ABI's ETHREAD_LIMIT) after 8 tries; the call fails",
            "optee: device enumeration failed: Tee { code: 4294901773, origin: Communication }",
            // The self-test's first call meets the same exhausted pool and says so.
            "optee-self-test: Open: FAILED (Err(Tee { code: 4294901773, origin: Communication }))",
            "optee-self-test: 1 checks: 0 passed, 1 failed",
            "optee report: devices: Failed(Tee { code: 4294901773, origin: Communication })",
            "optee report: 2 call(s), 0 RPC(s), 14 busy retries, 0 interrupt(s), 1 region(s) shared, 0 reclaimed, 0 given up",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING],
        timeout: DEFAULT_TIMEOUT,
    },
    scenario(
        "optee-bad-parameters",
        "injected: OP-TEE cannot find the memory of the argument struct (TEE_ERROR_BAD_PARAMETERS in w3, as optee_os answers an unknown handle): each call fails with that code, enumeration reports it, nothing stays shared but the argument page",
        faults(&[Fault::new(FaultKind::OpteeBadParameters)]),
        &[
            "ffa: optee bound to partition 0x8001",
            "optee: OP-TEE refused the call in slot 0: TEE_ERROR_BAD_PARAMETERS in w3",
            "optee: device enumeration failed: Tee { code: 4294901766, origin: Communication }",
            "optee report: devices: Failed(Tee { code: 4294901766, origin: Communication })",
            "optee report: 1 call(s), 0 RPC(s), 0 busy retries, 0 interrupt(s), 1 region(s) shared, 0 reclaimed, 0 given up",
            "boot: over: FfaReady",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
    ),
    scenario(
        "optee-unknown-rpc",
        "injected: every yielding call first asks for an RPC the driver does not know; it is answered TEE_ERROR_NOT_IMPLEMENTED (there is no tee-supplicant to pass it to), and each call goes on to its end",
        faults(&[Fault::new(FaultKind::OpteeUnknownRpc)]),
        &[
            "optee: RPC 0x4f505421 from OP-TEE is not one the driver knows; answered TEE_ERROR_NOT_IMPLEMENTED",
            "optee: device enumeration: 1 device(s)",
            "optee report: devices: 1",
            "optee report: 4 call(s), 4 RPC(s), 0 busy retries, 0 interrupt(s), 2 region(s) shared, 1 reclaimed, 0 given up",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
    ),
    scenario(
        "optee-interrupts",
        "injected: OP-TEE's threads are preempted by normal-world interrupts twice per yielding call (w4 = INTERRUPT); the driver resumes each from the main loop, and enumeration goes through",
        faults(&[Fault::new(FaultKind::OpteeInterrupts)]),
        &[
            "optee: device enumeration: 1 device(s)",
            "optee report: 4 call(s), 0 RPC(s), 0 busy retries, 8 interrupt(s), 2 region(s) shared, 1 reclaimed, 0 given up",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
    ),
    scenario(
        "optee-no-devices",
        "injected: OP-TEE's device enumeration lists nothing: the size query answers 0 bytes, an empty list is a valid answer, no second call is made",
        faults(&[Fault::new(FaultKind::OpteeNoDevices)]),
        &[
            "optee: device enumeration: no devices",
            "optee report: devices: 0",
            "optee report: 3 call(s), 0 RPC(s), 0 busy retries, 0 interrupt(s), 1 region(s) shared, 0 reclaimed, 0 given up",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "optee report: device optee-ta"],
    ),
    scenario(
        "optee-api-v2",
        "injected: OP-TEE reports its FF-A ABI as v2.0: the driver refuses an incompatible major before sharing anything (its probe is split-phase, so it stays bound to the partition, not driven), and boot completes",
        faults(&[Fault::new(FaultKind::OpteeApiMajor2)]),
        &[
            "ffa: optee bound to partition 0x8001",
            "optee: partition 0x8001 speaks OP-TEE's FF-A ABI v2.0: an incompatible major version (the driver speaks v1.x); not driven",
            "ffa report: arm-ffa-1: ID 0x8001 UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b contexts 4 properties 0x103 direct-receive direct-send aarch64 driver optee",
            "optee report: partition 0x8001: API v2.0",
            "optee report: not driven: IncompatibleApi",
            "boot: over: FfaReady",
        ],
        &["panicked", MALFORMED_FRAME_WARNING, "optee: argument page shared"],
    ),
    Scenario {
        name: "optee-protected-mode",
        description: "protected mode against OP-TEE's SPMC: the OP-TEE driver works unchanged through the EL2 proxy: OP-TEE's GET_* calls, the argument page shared through the proxy (which checks the pages are the host's and records the share), device enumeration with its bounce region shared and reclaimed, and the whole self-test (memory references both ways, RPC shared memory, wait queue, suspend, cancel); every region reclaimed, none given up",
        board_features: &["exit-when-settled", "protected-mode", "optee-self-test"],
        firmware: FirmwareSettings {
            faults: &[Fault::new(FaultKind::OpTee)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2: proxy finalised with FF-A v1.1; host SMCs now trap to EL2",
            "arm-ffa-1: partition 0x8001 uuid 486178e0-e7f8-11e3-bc5e-0002a5d5c51b",
            "ffa: optee bound to partition 0x8001",
            "optee: partition 0x8001: API v1.0, OP-TEE revision 4.4 (build ID 0x4d4f444c)",
            "optee: capabilities 0x1 (arg-offset), 4 RPC parameters, 4 call slot(s) of 384 bytes",
            "el2 proxy: share of 1 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000000, complete",
            "optee: argument page shared with FFA_MEM_SHARE: handle 0x100000000000",
            "optee: device enumeration: 1 device(s)",
            "optee-self-test: 14 checks: 14 passed, 0 failed",
            "optee report: partition 0x8001: API v1.0, OP-TEE 4.4 (build ID 0x4d4f444c)",
            "optee report: devices: 1",
            " 0 given up",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            ": FAILED (",
            "stage-2 fault",
            "optee report: not driven",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    // ---- protected mode (capsules/ffa-proxy, chips/armv8a/src/el2, boards/components/src/protected_mode.rs)
    Scenario {
        name: "protected-mode",
        description: "protected mode: the EL2 proxy finalises first and the FF-A root waits for it; discovery and echo then go through the proxy, and the monitor only ever sees the proxy's RX/TX pair",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2: EL2 owns 0x60000000+",
            "protected: finalising the EL2 proxy (its RX/TX pair: TX 0x5fe00000, RX 0x5fe01000)",
            "protected: finalisation HVC 1 done, next step 3/4",
            "protected: finalisation HVC 2 done, next step 4/4",
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "protected: EL2 proxy finalised after 3 HVCs: FF-A v1.2",
            "init: arm-ffa deferred, waits on",
            "init: ffa-proxy ready",
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.2",
            "el2 proxy: the host's notification bitmap created (VM 0, 1 vCPU(s): one per host core)",
            "el2 proxy: host RX/TX recorded at EL2",
            "el2 proxy: FFA_PARTITION_INFO_GET: 7 descriptor(s), 168 bytes copied from the proxy's RX into the host's RX",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "init: settled: 11 ready, 0 failed, 0 waiting",
            "boot: exit-when-settled, powering off",
            // Finalisation: the version, and whether it is still open; nothing else.
            "[smc] FFA_VERSION x1=0x10002",
            "[smc] FFA_VERSION x1=0x10000",
            // The host's FFA_VERSION settles it; the proxy's calls follow.
            "[smc] FFA_VERSION x1=0x10002",
            "[smc] FFA_ID_GET",
            "[smc] FFA_FEATURES x1=0xc4000066",
            // The proxy's pair, mapped when the host maps its own.
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000 x2=0x5fe01000 x3=0x1 ",
            "[smc] FFA_NOTIFICATION_BITMAP_CREATE x1=0x0 x2=0x1",
            "[smc] FFA_PARTITION_INFO_GET ",
            "[smc] FFA_MSG_SEND_DIRECT_REQ_32 x1=0x8001",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            // The host's own buffers (in the kernel image, from 0x6000_0000)
            // never reach the monitor: the proxy keeps them.
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            "[smc] FFA_RXTX_MAP_32",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-notifications",
        description: "protected mode: the proxy makes the host's notification bitmap with its mailbox, checks the endpoints of BIND/SET/GET, copies the host's FFA_MSG_SEND2 message into its own TX (the monitor never reads the host's) and the messages GET announces from its RX into the host's; notifications and messages work as in direct mode",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2 proxy: the host's notification bitmap created (VM 0, 1 vCPU(s): one per host core)",
            "ffa: notifications: the schedule receiver interrupt is 8",
            "el2 proxy: FFA_MSG_SEND2: 104 bytes copied from the host's TX into the proxy's TX; the monitor answered Success(Bits32)",
            "el2 proxy: indirect message of 104 bytes copied from the proxy's RX into the host's RX",
            "el2 proxy: indirect message of 140 bytes copied from the proxy's RX into the host's RX",
            "ffa-notify: partition 0x8004: notifications: now Passed, per-vCPU Passed, answer to SET Passed, timer Passed; indirect messages: echo Passed, on request Passed",
            "boot: exit-when-settled, powering off with status 0",
            "[smc] FFA_NOTIFICATION_BITMAP_CREATE x1=0x0 x2=0x1",
            "[smc] FFA_MSG_SEND2 x1=0x0 x2=0x0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-memory",
        description: "protected mode: the client's memory checks run unchanged through the EL2 proxy, which copies each descriptor into its own TX before checking it, moves the pages' ownership (the lent page leaves the kernel's stage 2), forwards from its TX and gives the pages back on the reclaim the monitor agrees to; donation is refused as pKVM refuses it",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2: host stage 2 on: host memory 0x40000000+0x40000000 read-write, devices 0x0+0x40000000, EL2's code 0x60000000+",
            "el2: page ownership tracked for 262144 pages of host memory in 65536 bytes",
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffff, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffff: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffff, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "ffa report: 2 memory transaction(s)",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffff: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
            // The monitor reads the proxy's copy from the proxy's TX.
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xfffffffe",
            "[smc] FFA_MEM_RECLAIM x1=0xfffffffe x2=0x0 x3=0x0",
            "[smc] FFA_MEM_LEND_64 x1=0x70 x2=0x70",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "FAILED",
            "stage-2 fault",
            // pKVM's reclaim path; this proxy reclaims from its own record.
            "[smc] FFA_MEM_RETRIEVE_REQ",
            "[smc] FFA_MEM_DONATE",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-memory-fragments",
        description: "protected mode: the client's share of 256 single-page ranges goes through the proxy in 2 fragments (FFA_MEM_FRAG_TX): each fragment copied into the proxy's TX, its ranges checked and given, the offset the monitor acknowledges checked; the partition retrieves all 256 pages and the reclaim gives them back",
        board_features: &["exit-when-settled", "protected-mode", "memory-fragments"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2 proxy: share of 250 page(s) in 250 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000, more fragments to come",
            "el2 proxy: share of 6 page(s) in 6 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000, complete",
            "ffa: share of 256 pages (256 ranges) to 0x8001: handle 0x100000000, v1.2 layout, 4192 bytes in 2 fragment(s) (FFA_MEM_SHARE_64)",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0x100000000: the monitor agreed; the share's 256 page(s) are the host's again",
            "memory-check: scattered share of 256 page(s) with 0x8001, handle 0x100000000, 2 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0x100000000: share to 0x8001 (1 receiver(s)), 256 pages in 256 range(s), v1.2 layout, 2 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
            "[smc] FFA_MEM_SHARE_64 x1=0x1060 x2=0x1000 x3=0x0 x4=0x0 -> FFA_MEM_FRAG_RX x1=0x0 x2=0x1 x3=0x1000",
            "[smc] FFA_MEM_FRAG_TX x1=0x0 x2=0x1 x3=0x60 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x1",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "FAILED",
            "stage-2 fault",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    protected_memory_under(
        "protected-mode-memory-op-tee",
        "protected mode against the model answering as OP-TEE (v1.1 whatever is asked): the client's memory checks run unchanged through the proxy, which reads the v1.1 layout the host negotiated and gives and takes back the pages of the share (bit-44 handles, reclaimed from the proxy's record, which OP-TEE needs: it has no hypervisor retrieve); OP-TEE lends only to itself, so the lend to the echo partition (0x8002) is DENIED and the proxy gives its page back to the host; the OP-TEE driver's argument page is shared through the proxy too; measured boot goes on beside it; a share of 256 ranges goes in 2 fragments (OP-TEE acknowledges what it consumed)",
        &["exit-when-settled", "protected-mode", "memory-fragments"],
        &[Fault::new(FaultKind::OpTee)],
        &[
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.1",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000000, complete",
            "[smc] FFA_MEM_SHARE_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x1000",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0x100000000000: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8002, handle 0x100000000000, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "[smc] FFA_MEM_LEND_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_ERROR DENIED (-6)",
            "el2 proxy: the monitor refused the lend (Error(Denied)): its 1 page(s) are the host's again",
            "memory-check: lend with 0x8002 failed: Give(Status(Denied))",
            // OP-TEE acknowledges the whole constituents it consumed: the
            // proxy's checked offset holds.
            "el2 proxy: share of 251 page(s) in 251 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000000, more fragments to come",
            "[smc] FFA_MEM_SHARE_64 x1=0x1050 x2=0x1000 x3=0x0 x4=0x0 -> FFA_MEM_FRAG_RX x1=0x0 x2=0x1000 x3=0x1000",
            "el2 proxy: share of 5 page(s) in 5 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000000, complete",
            "memory-check: scattered share of 256 page(s) with 0x8002, handle 0x100000000000, 2 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "optee: argument page shared with FFA_MEM_SHARE: handle 0x100000000000",
            "optee: device enumeration: 1 device(s)",
            "measured-boot: replay of 12 events matches the 2 PCRs read back",
            "init: settled: 12 ready, 0 failed, 0 waiting, 0 timed out, 0 unbound",
            "ffa report: root Ready, FF-A v1.1",
            "ffa report: memory handle 0x100000000000: share to 0x8002 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory (no handle): lend to 0x8002, 1 pages in 1 range(s): Refused(Status(Denied))",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_FORBIDDEN,
    ),
    protected_memory_under(
        "protected-mode-memory-hafnium",
        "protected mode against the model answering as Hafnium (v1.3; the host settles on v1.2): the client's memory checks run unchanged through the proxy, whose record follows Hafnium's slot-index handles (handle 0 given, reclaimed, and given again); donation is refused by the proxy, which Hafnium would take; a share of 256 ranges goes in 2 fragments",
        &["exit-when-settled", "protected-mode", "memory-fragments"],
        &[Fault::new(FaultKind::Hafnium)],
        &[
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.2",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0x0, complete",
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0x0: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0x0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0x0, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0x0: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0x0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: share of 250 page(s) in 250 range(s) checked and given, forwarded from the proxy's TX: handle 0x0, more fragments to come",
            "el2 proxy: share of 6 page(s) in 6 range(s) checked and given, forwarded from the proxy's TX: handle 0x0, complete",
            "memory-check: scattered share of 256 page(s) with 0x8001, handle 0x0, 2 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "measured-boot: replay of 11 events matches the 2 PCRs read back",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "ffa report: 3 memory transaction(s)",
            "ffa report: memory handle 0x0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0x0: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    protected_memory_under(
        "protected-mode-memory-reclaim-denied",
        "protected mode: the monitor denies the first FFA_MEM_RECLAIM (as while the partition holds the memory): the proxy passes DENIED on and keeps the share's pages given; the client's retry is forwarded, the monitor agrees, and only then are the pages the host's again",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::MemoryReclaimDenied)],
        &[
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor answered Error(Denied); the pages stay given",
            "ffa: FFA_MEM_RECLAIM of handle 0xfffffffe: DENIED, a borrower still holds it; it stays shared",
            "memory-check: the reclaim was DENIED; the region stays given; retrying once",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
            "[smc] FFA_MEM_RECLAIM x1=0xfffffffe x2=0x0 x3=0x0 x4=0x0 -> FFA_ERROR DENIED (-6)",
            "[smc] FFA_MEM_RECLAIM x1=0xfffffffe x2=0x0 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    protected_memory_under(
        "protected-mode-memory-aborted-fragment",
        "protected mode: the monitor answers the second fragment of the client's 256-range share with ABORTED: the proxy gives all 256 pages back (the monitor ended the transaction), the client reports the failure, and the boot goes on",
        &["exit-when-settled", "protected-mode", "memory-fragments"],
        &[Fault::new(FaultKind::MemoryAbortedFragment)],
        &[
            "el2 proxy: share of 250 page(s) in 250 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000, more fragments to come",
            "el2 proxy: the monitor refused the share (Error(Aborted)): its 256 page(s) are the host's again",
            "ffa: share: transaction 0x100000000 ended at fragment 2: Status(Aborted)",
            "memory-check: scattered share with 0x8001 failed: Give(Status(Aborted))",
            "ffa report: memory handle 0x100000000: share to 0x8001 (1 receiver(s)), 256 pages in 256 range(s), v1.2 layout, 2 fragment(s): Refused(Status(Aborted))",
            "boot: exit-when-settled, powering off with status 0",
            "[smc] FFA_MEM_FRAG_TX x1=0x0 x2=0x1 x3=0x60 x4=0x0 -> FFA_ERROR ABORTED (-8)",
        ],
        PROTECTED_MEMORY_FORBIDDEN,
    ),
    protected_memory_under(
        "protected-mode-memory-no-memory",
        "protected mode, twin of memory-no-memory: the monitor answers the first FFA_MEM_SHARE with NO_MEMORY; the proxy, which gave the share's pages before forwarding, gives them back to the host, the client reports the failure, and the lend that follows goes through the proxy and is reclaimed",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::MemoryNoMemory)],
        &[
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR NO_MEMORY (-3)",
            "el2 proxy: the monitor refused the share (Error(NoMemory)): its 2 page(s) are the host's again",
            "ffa: FFA_MEM_SHARE_64 refused: Status(NoMemory)",
            "memory-check: share with 0x8001 failed: Give(Status(NoMemory))",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(NoMemory))",
            "ffa report: memory handle 0xfffffffe: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_FORBIDDEN,
    ),
    protected_memory_under(
        "protected-mode-memory-bad-attributes",
        "protected mode, twin of memory-bad-attributes: the monitor answers the first FFA_MEM_SHARE with INVALID_PARAMETERS (as for bad memory attributes, which the proxy passes on unchecked, as pKVM does); the proxy gives the share's pages back to the host, the client reports the failure, and the lend that follows goes through the proxy and is reclaimed",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::MemoryBadAttributes)],
        &[
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR INVALID_PARAMETERS (-2)",
            "el2 proxy: the monitor refused the share (Error(InvalidParameters)): its 2 page(s) are the host's again",
            "ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS",
            "memory-check: share with 0x8001 failed: Give(Status(InvalidParameters))",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(InvalidParameters))",
            "ffa report: memory handle 0xfffffffe: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_FORBIDDEN,
    ),
    protected_memory_under(
        "protected-mode-memory-spmc-v1.0",
        "protected mode, twin of memory-spmc-v1.0: a v1.0 SPMC; the proxy finalises at v1.0 (as pKVM accepts a v1.0 SPMC), the host settles on v1.0, and the proxy reads, checks and forwards the v1.0 layout (32-byte header, 80 bytes for one range) from its TX; share and lend go there and back and their pages are the host's again after each reclaim; donation is refused by the proxy, as pKVM refuses it",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::SpmcVersion1_0)],
        &[
            "el2: proxy finalised with FF-A v1.0; host SMCs now trap to EL2",
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.0",
            "ffa: requested v1.2, callee v1.0, using v1.0",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.0 layout, 80 bytes in 1 fragment(s)",
            "[smc] FFA_MEM_SHARE_64 x1=0x50 x2=0x50 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xfffffffe",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffff, complete",
            "[smc] FFA_MEM_LEND_64 x1=0x50 x2=0x50 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xffffffff",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffff: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffff, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa report: root Ready, FF-A v1.0",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffff: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    protected_memory_under(
        "protected-mode-memory-spmc-v1.1",
        "protected mode, twin of memory-spmc-v1.1: a v1.1 SPMC; the proxy finalises at v1.1, the host settles on v1.1, and the proxy reads, checks and forwards the v1.1 layout (16-byte access descriptors at 48, 96 bytes for one range) from its TX; share and lend go there and back and their pages are the host's again after each reclaim; donation is refused by the proxy, as pKVM refuses it",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::SpmcVersion1_1)],
        &[
            "el2: proxy finalised with FF-A v1.1; host SMCs now trap to EL2",
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.1",
            "ffa: requested v1.2, callee v1.1, using v1.1",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.1 layout, 96 bytes in 1 fragment(s)",
            "[smc] FFA_MEM_SHARE_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xfffffffe",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffff, complete",
            "[smc] FFA_MEM_LEND_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xffffffff",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffff: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffff, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa report: root Ready, FF-A v1.1",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffff: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    protected_memory_under(
        "protected-mode-memory-caller-v1.0",
        "protected mode, twin of memory-caller-v1.0: the kernel asks for v1.0 from a v1.2 SPMC; the proxy (finalised at v1.2) puts the host's older version to the monitor, as pKVM's do_ffa_version does, and reads the host's descriptors in the v1.0 layout (80 bytes for one range); share and lend go there and back (the v1.2 partition retrieves them in its own layout) and their pages are the host's again after each reclaim; donation is refused by the proxy",
        &["exit-when-settled", "protected-mode", "ffa-v1-0"],
        &[],
        &[
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "el2 proxy: host negotiated FF-A: asked v1.0, answered v1.0",
            "ffa: requested v1.0, callee v1.0, using v1.0",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xfffffffe, complete",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xfffffffe, v1.0 layout, 80 bytes in 1 fragment(s)",
            "[smc] FFA_MEM_SHARE_64 x1=0x50 x2=0x50 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xfffffffe",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xfffffffe: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xfffffffe, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffff, complete",
            "[smc] FFA_MEM_LEND_64 x1=0x50 x2=0x50 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xffffffff",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffff: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffff, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa report: root Ready, FF-A v1.0",
            "ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffff: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    protected_memory_under(
        "protected-mode-memory-tf-a-el3-v1.2",
        "protected mode, twin of memory-tf-a-el3-v1.2: the model as TF-A's EL3 SPMC with a v1.2 host refuses memory transactions (INVALID_PARAMETERS, as TF-A 2.12.1 does); the proxy gives the share's pages and the lend's page (mapped back in the host's stage 2) back to the host, the client says why and what to do, and the boot goes on",
        &["exit-when-settled", "protected-mode"],
        &[Fault::new(FaultKind::TfAEl3Spmc)],
        &[
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.2",
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR INVALID_PARAMETERS (-2)",
            "el2 proxy: the monitor refused the share (Error(InvalidParameters)): its 2 page(s) are the host's again",
            "ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS (an SPMC that takes memory transactions only from v1.0/v1.1 callers, as TF-A 2.12's EL3 SPMC, answers this at v1.2: request v1.1 for it)",
            "memory-check: share with 0x8001 failed: Give(Status(InvalidParameters))",
            "[smc] FFA_MEM_LEND_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR INVALID_PARAMETERS (-2)",
            "el2 proxy: the monitor refused the lend (Error(InvalidParameters)): its 1 page(s) are the host's again",
            "memory-check: lend with 0x8001 failed: Give(Status(InvalidParameters))",
            "memory-check: donate skipped: the callee does not offer it",
            "init: settled: 10 ready, 0 failed, 0 waiting, 0 timed out, 2 unbound",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(InvalidParameters))",
            "ffa report: memory (no handle): lend to 0x8001, 1 pages in 1 range(s): Refused(Status(InvalidParameters))",
            // A refused share is the driver's finding, not a failed FF-A root.
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_FORBIDDEN,
    ),
    protected_memory_under(
        "protected-mode-memory-tf-a-el3-v1.1",
        "protected mode, twin of memory-tf-a-el3-v1.1: the model as TF-A's EL3 SPMC with the kernel asking for v1.1; the proxy (finalised at v1.2) puts v1.1 to the monitor and reads the v1.1 layout; share and lend go through it (TF-A's handles from 0xffffffc0), the proxy reclaims from its own record (TF-A refuses pKVM's hypervisor retrieve) and the pages are the host's again; donation is refused by the proxy, and TF-A would not take it either",
        &["exit-when-settled", "protected-mode", "ffa-v1-1"],
        &[Fault::new(FaultKind::TfAEl3Spmc)],
        &[
            "el2 proxy: host negotiated FF-A: asked v1.1, answered v1.1",
            "ffa: requested v1.1, callee v1.1, using v1.1",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xffffffc0, complete",
            "[smc] FFA_MEM_SHARE_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xffffffc0",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffc0: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xffffffc0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffc1, complete",
            "[smc] FFA_MEM_LEND_64 x1=0x60 x2=0x60 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0xffffffc1",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffc1: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffc1, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it (Status(NotSupported))",
            "ffa report: memory handle 0xffffffc0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffc1: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        PROTECTED_MEMORY_HEALTHY,
    ),
    Scenario {
        name: "protected-mode-host-memory",
        description: "protected mode takes memory away from the kernel: its writes to EL2's code, and its reads and writes of EL2's data and the proxy's TX, are stage-2 aborts EL2 reports (IPA, ESR) and injects (the kernel's fault report shows them, EL2 runs on); sharing EL2's pages, the carve-out, the TPM's CRB (the firmware shares it with the secure world), its own TX, memory past DRAM or overlapping ranges is refused; a share the monitor refuses gives the page back; share, reclaim, share again; a fragment naming EL2's code is refused, the transaction ended at the monitor too (an over-long fragment it refuses), so the next share goes through; a lent page faults until reclaimed",
        board_features: &["exit-when-settled", "scenario-host-memory"],
        firmware: FirmwareSettings {
            faults: &[Fault::new(FaultKind::MemoryBadAttributes)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        expected_exit_status: 0,
        expected_lines: &[
            // EL2's code: the write is a permission fault, reported and injected.
            "el2: host stage-2 fault: write at IPA 0x60001000, ESR_EL2 0x",
            "el2 proxy: the host may not write 0x60001000 (EL2's code): the fault goes to the host",
            "el2: the abort goes to the host's vector at 0x",
            "fault: expected by a probe, which returns it; the kernel runs on",
            "fault: synchronous (current EL): Data Abort (same EL)",
            "fault: Permission fault on write of address 0x60001000",
            "fault: injected by EL2: the kernel's stage 2 does not grant this access",
            "protected: host-memory check 1: EL2's code: the kernel reads it; its write is a stage-2 permission fault, injected: ok",
            "el2 proxy: the host may not read 0x",
            "fault: Translation fault on read or fetch of address 0x",
            "protected: host-memory check 2: EL2's data (its stack): read and write are stage-2 translation faults, injected: ok",
            "el2 proxy: the host may not read 0x5fe00000 (EL2's private memory)",
            "protected: host-memory check 3: the proxy's TX buffer (the carve-out): no access, injected: ok",
            "protected: host-memory check 4: the kernel's own page: read and write work: ok",
            "el2 proxy: FFA_MEM_SHARE_64 from the host refused with DENIED: the transaction's pages: page 0x60000000 is EL2's code, not the host's alone; nothing was given",
            "protected: host-memory check 7: FFA_MEM_SHARE of EL2's code: DENIED: ok",
            "is EL2's private memory, not the host's alone",
            "protected: host-memory check 8: FFA_MEM_SHARE of EL2's data: DENIED: ok",
            "protected: host-memory check 9: FFA_MEM_SHARE of the proxy's carve-out: DENIED: ok",
            "page 0x5fd00000 is shared with the secure world by the firmware, not the host's alone; nothing was given",
            "protected: host-memory check 10: FFA_MEM_LEND of the TPM's CRB (the firmware shares it with the secure world): DENIED: ok",
            "is the host's RX/TX, shared with EL2, not the host's alone",
            "protected: host-memory check 11: FFA_MEM_SHARE of the kernel's own TX buffer (EL2's while mapped): DENIED: ok",
            "0x80000000 is not host memory",
            "protected: host-memory check 12: FFA_MEM_LEND of memory past DRAM: DENIED: ok",
            "el2 proxy: FFA_MEM_SHARE_64 from the host refused with INVALID_PARAMETERS: two constituents name page 0x",
            "protected: host-memory check 13: FFA_MEM_SHARE of overlapping ranges: INVALID_PARAMETERS: ok",
            "protected: host-memory check 14: FFA_MEM_SHARE to the host itself (ID 0): INVALID_PARAMETERS: ok",
            "protected: host-memory check 15: FFA_MEM_DONATE: NOT_SUPPORTED (as pKVM): ok",
            "handle 0xfffffffe is no transaction of the host's",
            "protected: host-memory check 16: FFA_MEM_RECLAIM of a handle the kernel never had: INVALID_PARAMETERS: ok",
            "el2 proxy: the monitor refused the share (Error(InvalidParameters)): its 1 page(s) are the host's again",
            "protected: host-memory check 17: FFA_MEM_SHARE the monitor refuses: its page is the kernel's again: ok",
            "protected: host-memory check 18: FFA_MEM_SHARE of the same page again: accepted: ok",
            "protected: host-memory check 19: FFA_MEM_LEND of a page shared already: DENIED: ok",
            "protected: host-memory check 20: FFA_MEM_RECLAIM of the share: ok",
            "protected: host-memory check 21: FFA_MEM_SHARE after the reclaim: accepted: ok",
            "protected: host-memory check 22: FFA_MEM_RECLAIM of the second share: ok",
            "protected: host-memory check 23: FFA_MEM_SHARE in 2 fragments, the first naming the kernel's page: FFA_MEM_FRAG_RX: ok",
            "el2 proxy: transaction 0x100000000 ended at the monitor (its over-long fragment refused); its pages are the host's again",
            "protected: host-memory check 24: FFA_MEM_FRAG_TX naming EL2's code: DENIED, the transaction ended at the monitor too: ok",
            "protected: host-memory check 25: FFA_MEM_SHARE after the refused fragment: accepted (the page is the kernel's, the monitor holds no partial descriptor): ok",
            "protected: host-memory check 26: FFA_MEM_RECLAIM of that share: ok",
            "(unmapped from the host's stage 2)",
            "protected: host-memory check 27: FFA_MEM_LEND of the page: accepted, unmapped from the kernel: ok",
            "(lent to the secure world): the fault goes to the host",
            "protected: host-memory check 28: the lent page: read and write are stage-2 faults, injected: ok",
            "protected: host-memory check 29: FFA_MEM_RECLAIM of the lend: ok",
            "protected: host-memory check 30: the reclaimed page: read and write work again: ok",
            "protected: host-memory check 31: FFA_RXTX_UNMAP: ok",
            "protected: host-memory checks: 31 of 31 as expected",
            // EL2 survived every fault: FF-A comes up through it.
            "init: arm-ffa ready",
            "memory-check: share of 2 page(s) with 0x8001",
            "memory-check: lend of 1 page(s) with 0x8001",
            "boot: exit-when-settled, powering off with status 0",
            // Nothing the proxy refused reached the monitor; the refused
            // share did, once.
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR INVALID_PARAMETERS",
            "[smc] FFA_MEM_SHARE_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
            "[smc] FFA_MEM_SHARE_64 x1=0x80 x2=0x70 x3=0x0 x4=0x0 -> FFA_MEM_FRAG_RX x1=0x0 x2=0x1 x3=0x70",
            "[smc] FFA_MEM_FRAG_TX x1=0x0 x2=0x1 x3=0x1010 x4=0x0 -> FFA_ERROR INVALID_PARAMETERS (-2)",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            "FAILED",
            "el2: fatal exception",
            "el2: unexpected exception",
            "[smc] FFA_MEM_DONATE",
            "[smc] FFA_MEM_LEND_64 x1=0x70 x2=0x70 x3=0x0 x4=0x0 -> FFA_ERROR",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-early-ffa",
        description: "the order the Linux FF-A/pKVM readiness patch fixes (lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com), on purpose: the FF-A root probes before the EL2 proxy is finalised; its calls fix endpoint 0's version at the monitor, so the proxy's check that the version is still open is refused, and the failure is reported with the call, the answer and the cause",
        board_features: &["exit-when-settled", "protected-mode-early-ffa"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "protected: REGRESSION BUILD (protected-mode-early-ffa)",
            "init: arm-ffa ready",
            "protected: regression build: finalising the EL2 proxy now, after the FF-A root has already probed",
            "protected: EL2 proxy finalisation FAILED: step 3/4 (FFA_VERSION(v1.0): endpoint 0's version is still open (no FF-A client came first)) failed after 1 attempt(s): the monitor accepted FFA_VERSION(v1.2) but refused FFA_VERSION(v1.0): endpoint 0's version is fixed",
            "protected: likely cause: an FF-A client already made FF-A calls as endpoint 0 before the proxy was finalised",
            "protected: host SMCs are NOT trapped: FF-A calls reach the monitor unmediated",
            "init: ffa-proxy failed: FAIL",
            "init: settled: 10 ready, 1 failed, 0 waiting, 0 timed out, 1 unbound",
            "boot: exit-when-settled, powering off",
            // The client's own calls reached the monitor first...
            "[smc] FFA_ID_GET",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            // ...so the proxy's v1.2 is accepted (the same), but v1.0 is not.
            "[smc] FFA_VERSION x1=0x10002",
            "[smc] FFA_VERSION x1=0x10000 x2=0x0 x3=0x0 x4=0x0 -> NOT_SUPPORTED",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            // Nothing was trapped, so EL2 mediated no host call.
            "el2 proxy: ",
            // The proxy never got as far as its own pair.
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-bad-host-calls",
        description: "protected mode: a host that calls FF-A before FFA_VERSION, uses the 32-bit FFA_RXTX_MAP, names the proxy's own pages or maps RX/TX twice gets the proxy's errors; FF-A then works",
        board_features: &["exit-when-settled", "scenario-bad-host-calls"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2 proxy: FFA_ID_GET from the host refused with INVALID_PARAMETERS: FF-A call before FFA_VERSION negotiation",
            "protected: bad-host check 1/12: FFA_ID_GET before FFA_VERSION -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 2/12: FFA_VERSION(2.0) -> NOT_SUPPORTED (x0 = -1): ok",
            "protected: bad-host check 3/12: FFA_VERSION(1.2) -> a v1.x version: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with INVALID_PARAMETERS: buffer 0x6000f000 overlaps EL2's image (its code, data or stack)",
            "protected: bad-host check 4/12: FFA_RXTX_MAP_64 naming EL2's code (TX 0x6000f000, RX 0x60002000) -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 5/12: FFA_PARTITION_INFO_GET with no RX buffer recorded -> BUSY: ok",
            "el2 proxy: FFA_RXTX_MAP_32 from the host refused with NOT_SUPPORTED: not mediated by the proxy",
            "protected: bad-host check 6/12: 32-bit FFA_RXTX_MAP -> NOT_SUPPORTED: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with INVALID_PARAMETERS: buffer 0x5fe00000 overlaps memory the proxy owns",
            "protected: bad-host check 7/12: FFA_RXTX_MAP_64 of the proxy's own RX/TX pages -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 8/12: FFA_RXTX_MAP_64 with a misaligned TX buffer -> INVALID_PARAMETERS: ok",
            "el2 proxy: host RX/TX recorded at EL2",
            "protected: bad-host check 9/12: FFA_RXTX_MAP_64 -> FFA_SUCCESS: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with DENIED: the host's RX/TX pair is already mapped",
            "protected: bad-host check 10/12: FFA_RXTX_MAP_64 a second time -> DENIED: ok",
            "el2 proxy: FFA_MEM_SHARE_64 from the host refused with INVALID_PARAMETERS: the descriptor: an access-descriptor size the negotiated version does not use",
            "protected: bad-host check 11/12: FFA_MEM_SHARE_64 of an empty descriptor -> INVALID_PARAMETERS: ok",
            "el2 proxy: host RX/TX forgotten (FFA_RXTX_UNMAP); the proxy's pair unmapped at the monitor",
            "protected: bad-host check 12/12: FFA_RXTX_UNMAP -> FFA_SUCCESS: ok",
            "protected: bad-host checks: 12 of 12 answered as expected",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "boot: exit-when-settled, powering off",
            // The proxy's pair came and went with the host's, and came again.
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000",
            "[smc] FFA_RXTX_UNMAP",
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "el2: fatal exception",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            "[smc] FFA_RXTX_MAP_32",
            // The empty descriptor never reached the monitor.
            "[smc] FFA_MEM_SHARE_64 x1=0x100",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-el2-overwrite",
        description: "protected mode: the sequence issue 9 reported, FFA_VERSION(1.2), FFA_RXTX_MAP_64(TX 0x6000f000, RX 0x60002000) naming EL2's own code, FFA_PARTITION_INFO_GET, ends in the proxy's INVALID_PARAMETERS and BUSY instead of EL2 overwriting its exception-entry code; EL2 runs on and FF-A works",
        board_features: &["exit-when-settled", "scenario-el2-overwrite"],
        firmware: FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "el2: EL2 owns 0x60000000+",
            "protected: bad-host check 1/3: FFA_VERSION(1.2) -> a v1.x version: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with INVALID_PARAMETERS: buffer 0x6000f000 overlaps EL2's image (its code, data or stack)",
            "el2 proxy: EL2 would write the host's RX buffer: it may not lie in EL2's own code or data",
            "protected: bad-host check 2/3: FFA_RXTX_MAP_64(TX 0x6000f000, RX 0x60002000, 1 page): EL2's code -> INVALID_PARAMETERS: ok",
            "el2 proxy: FFA_PARTITION_INFO_GET from the host refused with BUSY: the host has no RX buffer mapped",
            "protected: bad-host check 3/3: FFA_PARTITION_INFO_GET: nowhere to copy -> BUSY: ok",
            "protected: bad-host checks: 3 of 3 answered as expected",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "el2: fatal exception",
            "el2: unexpected exception",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-hafnium-v1-1",
        description: "protected mode against the model answering as Hafnium (no version change after other calls) with a v1.1 host: the proxy negotiates only the version at finalisation, so the host's v1.1 is put to the monitor and accepted; ID_GET, FEATURES and the proxy's map come after; discovery copies Hafnium's 48-byte descriptors",
        board_features: &["exit-when-settled", "protected-mode", "ffa-v1-1"],
        firmware: FirmwareSettings {
            faults: &[Fault::new(FaultKind::Hafnium)],
            trace: true,
            enter_normal_world_at_el1: false,
        },
        expected_exit_status: 0,
        expected_lines: &[
            "protected: EL2 proxy finalised after 3 HVCs: FF-A v1.2",
            "el2 proxy: host negotiated FF-A: asked v1.1, answered v1.1",
            "ffa: requested v1.1, callee v1.1, using v1.1",
            "el2 proxy: host RX/TX recorded at EL2",
            "ffa: set up: v1.1, ID 0x0000, 4096-byte RX/TX buffers",
            "el2 proxy: FFA_PARTITION_INFO_GET: 7 descriptor(s), 336 bytes copied from the proxy's RX into the host's RX",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            // Through the proxy, which made the host's bitmap: Hafnium
            // refuses per-vCPU notifications (v1.3), the rest works with a
            // v1.1 host's 20-byte message headers; the TPM's completion
            // notification too.
            "tpm: completion notifications: ID 16 bound to the TPM partition and registered",
            "ffa-notify: partition 0x8004: notifications: now Passed, per-vCPU Skipped, answer to SET Passed, timer Passed; indirect messages: echo Passed, on request Passed",
            "init: settled: 11 ready, 0 failed, 0 waiting",
            "ffa report: root Ready, FF-A v1.1",
            "[fw] config: loaded from 0x5ff00000; the SPMC answers as Hafnium, FF-A v1.3",
            "[smc] FFA_VERSION x1=0x10002",
            "[smc] FFA_VERSION x1=0x10000",
            "[smc] FFA_VERSION x1=0x10001 x2=0x0 x3=0x0 x4=0x0 -> 0x10003",
            "[smc] FFA_ID_GET",
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000 x2=0x5fe01000 x3=0x1 ",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-not-ready",
        description: "protected mode with a monitor that answers NOT_READY at boot: finalisation pauses until readiness sees the monitor answer, then resumes; FF-A works through the proxy",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: faults(&[Fault::new(FaultKind::NotReady)]),
        expected_exit_status: 0,
        expected_lines: &[
            "protected: the monitor is busy or not ready at step 1/4",
            "init: ffa-proxy deferred, waits on secure-monitor-ready",
            "secure monitor answers FF-A v1.2",
            "protected: the monitor answers FF-A now; resuming finalisation",
            "protected: EL2 proxy finalised after 4 HVCs: FF-A v1.2",
            "init: ffa-proxy ready",
            "init: arm-ffa ready",
            "init: settled: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-ffa-absent",
        description: "protected mode over a monitor without FF-A (as standard TF-A without an SPMC): the proxy finalises without FF-A, PSCI still passes through, the root stays pending",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: faults(&[Fault::new(FaultKind::FfaAbsent)]),
        expected_exit_status: 0,
        expected_lines: &[
            "protected: EL2 proxy finalised after 3 HVCs without FF-A",
            "init: ffa-proxy ready",
            "init: arm-ffa waits on secure-monitor-ready",
            "boot: exit-when-settled, powering off",
            "PSCI SYSTEM_OFF, status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR "],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-el1-entry",
        description: "protected mode asked for but the kernel is entered at EL1: reported as unavailable, no HVC is made, the FF-A root waits for proxy-finalised; the monitor answers FF-A but the root never comes up, so the boot exits with status 3",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings {
            enter_normal_world_at_el1: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: EXIT_FFA_ROOT_DOWN,
        expected_lines: &[
            "protected: unavailable: the kernel was entered at EL1",
            "init: ffa-proxy failed: NODEVICE",
            "init: arm-ffa waits on proxy-finalised",
            "init: ffa-echo waits on ffa-root-probed",
            "boot: exit-when-settled, powering off with status 3",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "fault",
        description: "a data abort after boot: the fault report decodes ESR/FAR/ELR, then power-off with status 1",
        board_features: &["exit-when-settled", "scenario-fault"],
        firmware: FirmwareSettings::HEALTHY,
        expected_exit_status: 1,
        expected_lines: &[
            "fault: synchronous (current EL): Data Abort (same EL)",
            "fault: Translation fault on read or fetch of address 0x1000000000",
            "x00",
            "panicked at chips/armv8a/src/exceptions.rs",
            "PSCI SYSTEM_OFF, status 1",
        ],
        forbidden_lines: &[MALFORMED_FRAME_WARNING],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "panic",
        description: "panics on purpose after boot; the panic handler powers off with status 1",
        board_features: &["exit-when-settled", "scenario-panic"],
        firmware: FirmwareSettings::HEALTHY,
        expected_exit_status: 1,
        expected_lines: &[
            "panicked at boards/qemu-virt/src/tests/mod.rs",
            "PSCI SYSTEM_OFF, status 1",
        ],
        forbidden_lines: &[MALFORMED_FRAME_WARNING],
        timeout: DEFAULT_TIMEOUT,
    },
];

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|scenario| scenario.name == name)
}

/// The source of a log line: its leading `[...]` tag (`[kernel]`, `[secure]`, ...).
pub fn source(line: &str) -> &str {
    match line.find(']') {
        Some(end) if line.starts_with('[') => &line[..=end],
        _ => "",
    }
}

/// What is wrong with a finished boot, one sentence per problem; empty if it passed.
///
/// Expected lines must appear in order among the lines of the same source
/// (kernel, secure world); across sources their order is not checked.
pub fn check(scenario: &Scenario, ending: Ending, log: &[String]) -> Vec<String> {
    check_log(
        scenario.expected_exit_status,
        scenario.expected_lines,
        scenario.forbidden_lines,
        ending,
        log,
    )
}

/// [`check`] for any boot: the exit status, the expected lines (in order per
/// source) and the forbidden lines.
pub fn check_log(
    expected_exit_status: i32,
    expected_lines: &[&str],
    forbidden_lines: &[&str],
    ending: Ending,
    log: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    match ending {
        Ending::Exited(status) if status == expected_exit_status => {}
        Ending::Exited(status) => problems.push(format!(
            "exit status {status}, expected {expected_exit_status}"
        )),
        other => problems.push(format!(
            "{other}, expected exit status {expected_exit_status}"
        )),
    }
    // The kernel and the secure world log through two UARTs, so how their
    // lines interleave is only approximate: order is checked among the lines
    // of one source. `searched_up_to[source]` is the index after the line
    // that matched the previous expectation from that source.
    let mut searched_up_to: HashMap<&str, usize> = HashMap::new();
    for (index, expected) in expected_lines.iter().enumerate() {
        let found = log.iter().enumerate().find(|(number, line)| {
            line.contains(expected)
                && *number >= searched_up_to.get(source(line)).copied().unwrap_or(0)
        });
        match found {
            Some((number, line)) => {
                searched_up_to.insert(source(line), number + 1);
            }
            None => {
                let elsewhere = if log.iter().any(|line| line.contains(expected)) {
                    " (it appears, but before a line matched by an earlier expectation)"
                } else {
                    ""
                };
                problems.push(format!(
                    "missing expected line {} of {}: {expected:?}{elsewhere}",
                    index + 1,
                    expected_lines.len()
                ));
                break;
            }
        }
    }
    for forbidden in forbidden_lines {
        if let Some((number, line)) = log
            .iter()
            .enumerate()
            .find(|(_, line)| line.contains(forbidden))
        {
            problems.push(format!(
                "forbidden {forbidden:?} on log line {}: {line}",
                number + 1
            ));
        }
    }
    problems
}

/// The outcome of running one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// Problems found; empty if the scenario passed.
    pub problems: Vec<String>,
    /// The whole decoded log (empty if the build failed).
    pub log: Vec<String>,
    /// The kernel's timestamp of each line of `log`, if it has one.
    pub timestamps: Vec<Option<u64>>,
    /// Where the boot timeline drawn from the log was saved.
    pub timeline_file: PathBuf,
    /// Where the decoded log was saved.
    pub log_file: PathBuf,
    /// How long the boot took.
    pub duration: Duration,
}

/// Builds the kernel with the scenario's features, boots it and checks the log.
///
/// `firmware_binary` is the flash image of the test firmware, built once.
pub fn run(
    workspace: &Workspace,
    firmware_binary: &Path,
    scenario: &Scenario,
    echo: bool,
) -> Result<ScenarioReport> {
    let (directory, kernel) = prepare_kernel(workspace, scenario.name, scenario.board_features)?;
    let layout_problems = el2_layout_problems(&kernel)?;
    let config_blob = directory.join("firmware-config.bin");
    fs::write(&config_blob, scenario.firmware.config_blob()?)
        .with_context(|| format!("cannot write {}", config_blob.display()))?;
    let invocation = QemuInvocation {
        bios: firmware_binary.to_path_buf(),
        kernel: kernel.clone(),
        config_blob: Some(config_blob),
        secure_log: directory.join("secure.log"),
        cores: 1,
    };
    boot_and_check(
        workspace,
        &invocation,
        scenario.timeout,
        echo,
        |ending, log| {
            let mut problems = layout_problems;
            problems.extend(check(scenario, ending, log));
            problems.extend(event_log_check::problems(log, &kernel, &directory));
            problems
        },
    )
}

/// The problems of `kernel`'s EL2 layout (see [`el2_layout`]), each prefixed
/// to say where it comes from.
pub fn el2_layout_problems(kernel: &Path) -> Result<Vec<String>> {
    Ok(el2_layout::check_file(kernel)?
        .into_iter()
        .map(|problem| format!("EL2 image layout: {problem}"))
        .collect())
}

/// Creates `target/xtask/scenarios/NAME/` and builds the board with
/// `features` into it; returns the directory and the kernel ELF there (kept:
/// the next scenario's build overwrites cargo's copy).
pub fn prepare_kernel(
    workspace: &Workspace,
    name: &str,
    features: &[&str],
) -> Result<(PathBuf, PathBuf)> {
    let directory = workspace.xtask_directory().join("scenarios").join(name);
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let built = build::build_kernel(workspace, features)?;
    let kernel = directory.join(build::BOARD_PACKAGE);
    fs::copy(&built, &kernel).with_context(|| format!("cannot copy {}", built.display()))?;
    Ok((directory, kernel))
}

/// Boots `invocation`, saves the decoded log as `log.txt` (and the boot
/// timeline drawn from it as `timeline.svg`) beside its secure log, and
/// judges it with `judge` (see [`check_log`]).
pub fn boot_and_check(
    workspace: &Workspace,
    invocation: &dyn Invocation,
    timeout: Duration,
    echo: bool,
    judge: impl FnOnce(Ending, &[String]) -> Vec<String>,
) -> Result<ScenarioReport> {
    boot_typing_and_check(workspace, invocation, timeout, echo, Input::None, judge)
}

/// [`boot_and_check`], typing `input` into the kernel console.
pub fn boot_typing_and_check(
    workspace: &Workspace,
    invocation: &dyn Invocation,
    timeout: Duration,
    echo: bool,
    input: Input,
    judge: impl FnOnce(Ending, &[String]) -> Vec<String>,
) -> Result<ScenarioReport> {
    let log_file = invocation.secure_log().with_file_name("log.txt");
    let timeline_file = invocation.secure_log().with_file_name("timeline.svg");
    let kernel_log = KernelLogFormat::load(invocation.kernel(), &workspace.root)?;
    let options = BootOptions {
        timeout: Some(timeout),
        echo,
        ..BootOptions::default()
    };
    let boot = qemu::boot(invocation, &kernel_log, options, input)?;
    let mut saved = boot.log.join("\n");
    saved.push('\n');
    fs::write(&log_file, saved).with_context(|| format!("cannot write {}", log_file.display()))?;
    let title = format!(
        "Boot timeline: {}",
        invocation
            .secure_log()
            .parent()
            .and_then(Path::file_name)
            .map_or("scenario".into(), |name| name.to_string_lossy())
    );
    let drawn = Timeline::from_log(&boot.log, &boot.timestamps);
    fs::write(&timeline_file, drawn.to_svg(&title))
        .with_context(|| format!("cannot write {}", timeline_file.display()))?;
    Ok(ScenarioReport {
        problems: judge(boot.ending, &boot.log),
        log: boot.log,
        timestamps: boot.timestamps,
        timeline_file,
        log_file,
        duration: boot.duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| line.to_string()).collect()
    }

    /// A fixture with two expected lines, independent of the real table.
    fn boot_scenario() -> &'static Scenario {
        const FIXTURE: Scenario = Scenario {
            name: "fixture",
            description: "two expected lines",
            board_features: &["exit-when-settled"],
            firmware: FirmwareSettings::HEALTHY,
            expected_exit_status: 0,
            expected_lines: &["main loop", "init queue settled"],
            forbidden_lines: USUALLY_FORBIDDEN,
            timeout: DEFAULT_TIMEOUT,
        };
        &FIXTURE
    }

    #[test]
    fn names_are_unique_and_findable() {
        for (index, scenario) in SCENARIOS.iter().enumerate() {
            assert!(SCENARIOS[..index]
                .iter()
                .all(|other| other.name != scenario.name));
            assert!(find(scenario.name).is_some());
        }
        assert!(find("no-such-scenario").is_none());
    }

    #[test]
    fn passes_when_lines_appear_in_order() {
        let lines = log(&[
            "[secure] SPMC ready",
            "[kernel] INFO entering main loop (kernel/src/main_loop.rs:10)",
            "[kernel] INFO init queue settled: 3 clients",
        ]);
        assert_eq!(
            check(boot_scenario(), Ending::Exited(0), &lines),
            Vec::<String>::new()
        );
    }

    #[test]
    fn reports_lines_out_of_order() {
        let lines = log(&[
            "[kernel] INFO init queue settled",
            "[kernel] INFO main loop",
        ]);
        let problems = check(boot_scenario(), Ending::Exited(0), &lines);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("\"init queue settled\""));
        assert!(problems[0].contains("before a line matched by an earlier expectation"));
    }

    #[test]
    fn order_is_checked_within_a_source_only() {
        let scenario = Scenario {
            expected_lines: &["[secure] monitor up", "[kernel] first", "[kernel] second"],
            ..boot_scenario().clone()
        };
        let lines = log(&["[kernel] first", "[secure] monitor up", "[kernel] second"]);
        assert!(check(&scenario, Ending::Exited(0), &lines).is_empty());
        let swapped = log(&["[kernel] second", "[secure] monitor up", "[kernel] first"]);
        assert_eq!(check(&scenario, Ending::Exited(0), &swapped).len(), 1);
    }

    #[test]
    fn sources_are_leading_tags() {
        assert_eq!(source("[kernel] INFO x"), "[kernel]");
        assert_eq!(source("[secure] [fw] y"), "[secure]");
        assert_eq!(source("no tag]"), "");
    }

    #[test]
    fn each_expected_line_needs_its_own_log_line() {
        let lines = log(&["[kernel] main loop; init queue settled"]);
        let problems = check(boot_scenario(), Ending::Exited(0), &lines);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn reports_missing_lines_exit_status_and_forbidden_lines() {
        let lines = log(&[
            "[kernel] INFO main loop",
            "[kernel] ERROR panicked at kernel/src/lib.rs:3:5",
        ]);
        let problems = check(boot_scenario(), Ending::Exited(1), &lines);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0], "exit status 1, expected 0");
        assert!(problems[1].starts_with("missing expected line 2 of 2: \"init queue settled\""));
        assert!(problems[2].starts_with("forbidden \"panicked\" on log line 2"));
    }

    #[test]
    fn a_hang_fails() {
        let lines = log(&[
            "[kernel] INFO main loop",
            "[kernel] INFO init queue settled",
        ]);
        let problems = check(boot_scenario(), Ending::TimedOut(DEFAULT_TIMEOUT), &lines);
        assert_eq!(
            problems,
            ["still running after 60 s: hang, expected exit status 0"]
        );
    }

    #[test]
    fn the_panic_scenario_expects_status_one_and_allows_the_panic() {
        let panic = find("panic").unwrap();
        let lines = log(&[
            "[kernel] ERROR panicked at boards/qemu-virt/src/tests/mod.rs:9: on purpose",
            "[secure] [fw] PSCI SYSTEM_OFF, status 1",
        ]);
        assert!(check(panic, Ending::Exited(1), &lines).is_empty());
        assert!(!check(panic, Ending::Exited(0), &lines).is_empty());
    }
}
