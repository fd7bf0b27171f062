//! QEMU scenarios of `cargo xtask test`: the table, the log matching and the runner.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build;
use crate::error::{Context, Result};
use crate::faults::{Fault, FaultKind, FirmwareSettings};
use crate::logs::{KernelLogFormat, MALFORMED_FRAME_WARNING};
use crate::qemu::{self, BootOptions, Ending, Invocation, QemuInvocation};
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
    "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
    "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Passed",
    "init: settled: 3 ready, 0 failed, 0 waiting",
    "boot: init queue settled",
    "ffa report: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes",
    "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo",
    "arm-ffa-2: ID 0x8002 UUID 88886b1c-15ad-4435-a3f8-e2919eacb5b7 contexts 1 properties 0x1 direct-receive aarch32 driver (none)",
    "arm-ffa-3: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee contexts 1 properties 0x301 direct-receive req2-receive aarch64 driver ffa-preempted-echo",
    "boot: exit-when-settled, powering off",
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
            "init: ffa-echo deferred, waits on ffa-root-ready",
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
            "init: ffa-echo waits on ffa-root-ready",
            "boot: exit-when-settled, powering off",
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
    scenario(
        "rxtx-map-denied",
        "FFA_RXTX_MAP denied: the root fails with a clear error, drivers are not bound",
        faults(&[Fault::new(FaultKind::RxtxMapDenied)]),
        &[
            "FFA_RXTX_MAP failed: Status(Denied)",
            "init: arm-ffa failed",
            "init: ffa-echo failed: NODEVICE",
            "ffa report: root Failed(Status(Denied))",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
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
    ),
    scenario(
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
    ),
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
            "init: ffa-echo failed: FAIL",
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
            "init: ffa-echo failed",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "retry-storm",
        "a RETRY storm longer than the retry bound: the request fails, no hang",
        faults(&[fault_with(FaultKind::RetryStorm, 100)]),
        &["after 8 retries", "init: ffa-echo failed", "boot: init queue settled"],
        USUALLY_FORBIDDEN,
    ),
    scenario(
        "interrupt-loop",
        "a partition that keeps answering FFA_INTERRUPT: FFA_RUN is bounded, the driver fails",
        faults(&[fault_with(FaultKind::InterruptLoop, 100)]),
        &[
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed",
            "partition 0x8003 still preempted after 32 resumptions",
            "init: ffa-preempted-echo failed",
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
            "init: ffa-preempted-echo failed",
            "boot: init queue settled",
        ],
        USUALLY_FORBIDDEN,
    ),
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
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "init: settled: 3 ready, 0 failed, 0 waiting",
            "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x101 direct-receive aarch64 driver ffa-echo",
        ],
        &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[smc] FFA_PARTITION_INFO_GET_REGS",
            "[smc] FFA_MSG_SEND_DIRECT_REQ2",
        ],
    ),
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
            "protected: finalising the EL2 proxy (its RX/TX pair: TX 0x5fe00000, RX 0x5fe01000)",
            "protected: finalisation HVC 1 done, next step 2/5",
            "protected: finalisation HVC 4 done, next step 5/5",
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "protected: EL2 proxy finalised after 5 HVCs: FF-A v1.2",
            "init: arm-ffa deferred, waits on",
            "init: ffa-proxy ready",
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.2",
            "el2 proxy: host RX/TX recorded at EL2",
            "el2 proxy: FFA_PARTITION_INFO_GET: 3 descriptor(s), 72 bytes copied from the proxy's RX into the host's RX",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "ffa-preempted-echo: partition 0x8003: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "init: settled: 4 ready, 0 failed, 0 waiting",
            "boot: exit-when-settled, powering off",
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000 x2=0x5fe01000 x3=0x1 ",
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
        name: "protected-mode-early-ffa",
        description: "the order the Linux FF-A/pKVM readiness patch fixes (lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com), on purpose: the FF-A root probes before the EL2 proxy is finalised; the proxy's FFA_RXTX_MAP is DENIED and the failure is reported with the call, the answer and the cause",
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
            "protected: EL2 proxy finalisation FAILED: step 4/5 (FFA_RXTX_MAP_64 of the proxy's own RX/TX pair) failed after 1 attempt(s): the monitor answered FFA_ERROR(DENIED(-6))",
            "protected: likely cause: the monitor already holds an RX/TX pair for endpoint 0, which the proxy shares with the host: an FF-A client mapped its own buffers before the proxy was finalised",
            "protected: host SMCs are NOT trapped: FF-A calls reach the monitor unmediated",
            "init: ffa-proxy failed: FAIL",
            "init: settled: 3 ready, 1 failed, 0 waiting",
            "boot: exit-when-settled, powering off",
            // The client's own map reached the monitor first...
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            // ...so the proxy's is refused.
            "[smc] FFA_RXTX_MAP_64 x1=0x5fe00000 x2=0x5fe01000 x3=0x1 x4=0x0 -> FFA_ERROR DENIED (-6)",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            // Nothing was trapped, so EL2 mediated no host call.
            "el2 proxy: ",
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
            "protected: bad-host check 1/10: FFA_ID_GET before FFA_VERSION -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 2/10: FFA_VERSION(2.0) -> NOT_SUPPORTED (x0 = -1): ok",
            "protected: bad-host check 3/10: FFA_VERSION(1.2) -> a v1.x version: ok",
            "el2 proxy: FFA_RXTX_MAP_32 from the host refused with NOT_SUPPORTED: not mediated by the proxy",
            "protected: bad-host check 4/10: 32-bit FFA_RXTX_MAP -> NOT_SUPPORTED: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with INVALID_PARAMETERS: buffer 0x5fe00000 overlaps memory the proxy owns",
            "protected: bad-host check 5/10: FFA_RXTX_MAP_64 of the proxy's own RX/TX pages -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 6/10: FFA_RXTX_MAP_64 with a misaligned TX buffer -> INVALID_PARAMETERS: ok",
            "protected: bad-host check 7/10: FFA_RXTX_MAP_64 -> FFA_SUCCESS: ok",
            "el2 proxy: FFA_RXTX_MAP_64 from the host refused with DENIED: the host's RX/TX pair is already mapped",
            "protected: bad-host check 8/10: FFA_RXTX_MAP_64 a second time -> DENIED: ok",
            "protected: bad-host check 9/10: FFA_MEM_SHARE_64 -> NOT_SUPPORTED: ok",
            "protected: bad-host check 10/10: FFA_RXTX_UNMAP -> FFA_SUCCESS: ok",
            "protected: bad-host checks: 10 of 10 answered as expected",
            "init: arm-ffa ready",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed",
            "init: settled: 4 ready, 0 failed, 0 waiting",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[smc] FFA_RXTX_MAP_64 x1=0x6",
            "[smc] FFA_RXTX_MAP_32",
            "[smc] FFA_MEM_SHARE",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    Scenario {
        name: "protected-mode-not-ready",
        description: "protected mode with a monitor that answers NOT_READY at boot: finalisation pauses until readiness sees the monitor answer, then resumes; FF-A works through the proxy",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: faults(&[Fault::new(FaultKind::NotReady)]),
        expected_exit_status: 0,
        expected_lines: &[
            "protected: the monitor is busy or not ready at step 1/5",
            "init: ffa-proxy deferred, waits on secure-monitor-ready",
            "secure monitor answers FF-A v1.2",
            "protected: the monitor answers FF-A now; resuming finalisation",
            "protected: EL2 proxy finalised after 6 HVCs: FF-A v1.2",
            "init: ffa-proxy ready",
            "init: arm-ffa ready",
            "init: settled: 4 ready, 0 failed, 0 waiting",
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
        description: "protected mode asked for but the kernel is entered at EL1: reported as unavailable, no HVC is made, the FF-A root waits for proxy-finalised, clean power-off",
        board_features: &["exit-when-settled", "protected-mode"],
        firmware: FirmwareSettings {
            enter_normal_world_at_el1: true,
            ..FirmwareSettings::HEALTHY
        },
        expected_exit_status: 0,
        expected_lines: &[
            "protected: unavailable: the kernel was entered at EL1",
            "init: ffa-proxy failed: NODEVICE",
            "init: arm-ffa waits on proxy-finalised",
            "boot: exit-when-settled, powering off",
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
    let config_blob = directory.join("firmware-config.bin");
    fs::write(&config_blob, scenario.firmware.config_blob()?)
        .with_context(|| format!("cannot write {}", config_blob.display()))?;
    let invocation = QemuInvocation {
        bios: firmware_binary.to_path_buf(),
        kernel,
        config_blob: Some(config_blob),
        secure_log: directory.join("secure.log"),
        cores: 1,
    };
    boot_and_check(
        workspace,
        &invocation,
        scenario.timeout,
        echo,
        |ending, log| check(scenario, ending, log),
    )
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

/// Boots `invocation`, saves the decoded log as `log.txt` beside its secure
/// log, and judges it with `judge` (see [`check_log`]).
pub fn boot_and_check(
    workspace: &Workspace,
    invocation: &dyn Invocation,
    timeout: Duration,
    echo: bool,
    judge: impl FnOnce(Ending, &[String]) -> Vec<String>,
) -> Result<ScenarioReport> {
    let log_file = invocation.secure_log().with_file_name("log.txt");
    let kernel_log = KernelLogFormat::load(invocation.kernel(), &workspace.root)?;
    let options = BootOptions {
        timeout: Some(timeout),
        echo,
        interactive: false,
    };
    let boot = qemu::boot(invocation, &kernel_log, options)?;
    let mut saved = boot.log.join("\n");
    saved.push('\n');
    fs::write(&log_file, saved).with_context(|| format!("cannot write {}", log_file.display()))?;
    Ok(ScenarioReport {
        problems: judge(boot.ending, &boot.log),
        log: boot.log,
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
