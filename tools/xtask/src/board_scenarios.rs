//! QEMU scenarios of the boards and machines beyond the single-core `virt`
//! of [`crate::scenarios`]: the Raspberry Pi 4 on QEMU's `raspi4b`, and
//! `virt` with several cores.
//!
//! Each builds its board with the scenario's features, boots it, and
//! checks the exit status and the decoded log with the same rules as the
//! `virt` scenarios (in order per source, forbidden lines nowhere). On the
//! Pi, the status comes through semihosting (the board feature
//! `semihosting-exit`, emulation only) except in the scenario that checks
//! the real power-off: the PM watchdog's halt, which QEMU ends with 0.
//!
//! A scenario may also type a session into the kernel console once the
//! board has booted ([`ConsoleSession`]): the console on the Pi's UART0,
//! its receive interrupt on the GIC-400, its `reboot` through the PM
//! watchdog or PSCI, and the console on `virt` with several cores.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::build::Board;
use crate::error::{Context, Result};
use crate::faults::{Fault, FaultKind, FirmwareSettings};
use crate::logs::MALFORMED_FRAME_WARNING;
use crate::qemu::{Input, QemuInvocation, RaspiInvocation};
use crate::raspberry_pi;
use crate::run::RASPI_EMULATION_FEATURE;
use crate::scenarios::{self, ScenarioReport, DEFAULT_TIMEOUT};
use crate::script::{LineScript, Step, BOOT_OVER};
use crate::workspace::Workspace;

/// The machine a scenario boots.
#[derive(Debug, Clone, Copy)]
pub enum Machine {
    /// QEMU `virt` with the test firmware, on this many cores.
    Virt {
        /// `-smp`.
        cores: u8,
        /// The firmware's faults and switches.
        firmware: FirmwareSettings<'static>,
    },
    /// QEMU `raspi4b`, booting `kernel8.img` as the Pi's stock firmware does.
    Raspi {
        /// Hand the kernel xtask's Pi device tree (`-dtb`); without it, x0
        /// points at ATAGs and the kernel uses the chip's table.
        device_tree: bool,
        /// Power-off ends QEMU with the kernel's status (semihosting).
        status_through_semihosting: bool,
        /// Boot TF-A's `rpi4` BL31 (Debian's) as the armstub: the kernel is
        /// its BL33, PSCI is there.
        tf_a: bool,
    },
}

impl Machine {
    /// The board this machine runs.
    pub const fn board(self) -> Board {
        match self {
            Machine::Virt { .. } => Board::QemuVirt,
            Machine::Raspi { .. } => Board::RaspberryPi4b,
        }
    }
}

/// One boot of a board on a machine, with what its log must (not) show.
#[derive(Debug, Clone)]
pub struct BoardScenario {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// One line saying what the scenario shows.
    pub description: &'static str,
    /// What it boots.
    pub machine: Machine,
    /// Cargo features of the board package.
    pub board_features: &'static [&'static str],
    /// QEMU's exit status.
    pub expected_exit_status: i32,
    /// Substrings that must appear, in order per source.
    pub expected_lines: &'static [&'static str],
    /// Substrings that must appear on no line.
    pub forbidden_lines: &'static [&'static str],
    /// Substrings that must each appear on some line, in any order: what
    /// cores or drivers do concurrently, whose lines interleave differently
    /// from boot to boot.
    pub unordered_lines: &'static [&'static str],
    /// After this long QEMU is killed and the scenario fails as a hang.
    pub timeout: Duration,
    /// What is typed into the kernel console once the board has booted
    /// (the console is a default feature; `exit-when-settled` leaves it out).
    pub console: Option<ConsoleSession>,
}

/// A session typed into the kernel console, and what it must show.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSession {
    /// The steps, each typed once the console answered the previous one.
    pub script: fn() -> Vec<Step>,
    /// Substrings that must appear after the scenario's expected lines, in
    /// order per source.
    pub expected_lines: fn() -> Vec<String>,
}

fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| line.to_string()).collect()
}

/// Lines typed at once on the Pi: more than the UART's ring and FIFO hold
/// (input waits in the FIFO while the ring is full), each a real command.
fn pi_burst_lines() -> Vec<String> {
    (0..90)
        .map(|index: usize| match index % 3 {
            0 => "version".to_string(),
            1 => "ffa list".to_string(),
            _ => "help ffa ping".to_string(),
        })
        .collect()
}

fn pi_console_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("help"),
        Step::line("version"),
        Step::line("init"),
        Step::line("ffa status"),
        Step::line("ffa ping 0x8001"),
        Step::burst(&pi_burst_lines()),
        Step::line("console"),
        Step::line("reboot"),
    ]
}

fn pi_console_expected() -> Vec<String> {
    let burst = pi_burst_lines();
    let single = [
        "help",
        "version",
        "init",
        "ffa status",
        "ffa ping 0x8001",
        "console",
    ];
    let typed: usize = single.iter().map(|line| line.len() + 1).sum::<usize>()
        + burst.iter().map(|line| line.len() + 1).sum::<usize>();
    let mut expected = lines(&[
        "[kernel] console> help",
        "[kernel] help: reboot - resets the system",
        "[kernel] help: ffa ping <id>",
        "[kernel] console> version",
        "[kernel] version: raspberrypi4b-board 0.1.0, direct mode",
        "[kernel] console> init",
        "[kernel] init: arm-ffa: waiting on secure-monitor-ready",
        "[kernel] init: cpu1: ready",
        "[kernel] init: cpu3: ready",
        "[kernel] init: condition secure-monitor-ready: not signalled",
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Waiting, no FF-A session",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] error: unknown partition '0x8001'",
    ]);
    expected.extend(burst.iter().map(|line| format!("[kernel] console> {line}")));
    expected.push(format!(
        "[kernel] console: received {typed} bytes, {} commands; discarded 0 too long, 0 not text (0 bytes), 0 cancelled, 0 with lost input; UART: 0 overruns, 0 garbled bytes",
        burst.len() + single.len()
    ));
    expected.extend(lines(&[
        "[kernel] reboot: resetting the system",
        "power: resetting through the PM watchdog",
    ]));
    expected
}

fn pi_tf_a_console_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("version"),
        Step::line("ffa status"),
        Step::line("reboot"),
    ]
}

fn pi_tf_a_console_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> version",
        "[kernel] version: raspberrypi4b-board 0.1.0, direct mode",
        "[kernel] console> ffa status",
        "[kernel] console> reboot",
        "[kernel] reboot: resetting the system",
        "[serial0] INFO:    rpi3: PSCI_SYSTEM_RESET: Invoking watchdog reset",
    ])
}

fn smp_console_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("init"),
        Step::line("ffa ping 0x8001"),
        Step::line("poweroff 4"),
    ]
}

fn smp_console_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> init",
        "[kernel] init: arm-ffa: ready, provides ffa-root-ready",
        "[kernel] init: cpu1: ready",
        "[kernel] init: cpu2: ready",
        "[kernel] init: cpu3: ready",
        "[kernel] init: condition cpu3-work-done: signalled",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] ffa ping: 0x8001 answered",
        "[kernel] console> poweroff 4",
        "[secure] [fw] PSCI SYSTEM_OFF, status 4",
    ])
}

/// Lines a healthy boot must not show.
const HEALTHY_FORBIDDEN: &[&str] = &["panicked", MALFORMED_FRAME_WARNING, " ERROR "];

/// The Pi with its device tree and the status through semihosting.
const PI: Machine = Machine::Raspi {
    device_tree: true,
    status_through_semihosting: true,
    tf_a: false,
};

/// Every board scenario, in the order `cargo xtask test` runs them.
pub const BOARD_SCENARIOS: &[BoardScenario] = &[
    BoardScenario {
        name: "rpi4-boot",
        description: "Raspberry Pi 4 (QEMU raspi4b, booted as the stock firmware does): entered at EL2 at 0x80000, the device tree has no /psci, so no SMC is ever made and FF-A is reported absent once; the rest of the kernel runs and powers off cleanly",
        machine: PI,
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "boot: raspberrypi4b kernel entered at EL2, device tree at 0x8000000",
            "bcm2711: no PSCI firmware: no secure monitor, no SMC; 4 cores; power-off through the PM watchdog",
            "boot: entering the main loop",
            "ffa: FF-A is not available (NoMonitor); not polling further",
            "boot: FF-A is absent (no secure monitor to call); carrying on without it",
            "MPIDR 0x80000001, entered at EL2, parked in wfe",
            "init: settled: 3 ready, 0 failed, 1 waiting",
            "boot: init queue settled",
            "ffa report: root Waiting, no FF-A session",
            "init: arm-ffa waits on secure-monitor-ready",
            "boot: exit-when-settled, powering off with status 0",
            "power: off with status 0 (semihosting exit)",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "rpi4-power-off",
        description: "Raspberry Pi 4 without a device tree (x0 points at ATAGs): the chip's own table is used; power-off is the real one, the PM watchdog with partition 63 (halt), which QEMU ends as a shutdown",
        machine: Machine::Raspi {
            device_tree: false,
            status_through_semihosting: false,
            tf_a: false,
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "device tree at 0x100",
            "bcm2711: no device tree at 0x100; using the chip's table",
            "bcm2711: no PSCI firmware: no secure monitor, no SMC; 4 cores",
            "boot: FF-A is absent (no secure monitor to call)",
            "boot: exit-when-settled, powering off with status 0",
            "power: halting through the PM watchdog (partition 63; status 0 is not carried)",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-4-cores",
        description: "virt on 4 cores: the test firmware holds cores 1-3 in its pen, the kernel starts them with PSCI CPU_ON, each comes online on its own stack and, once the FF-A root is ready, calls FFA_ID_GET from itself; boot completes only after every core",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "[secure] [fw] 4 cores; cores 1-3 wait in the pen for CPU_ON",
            "[secure] [fw] CPU_ON from core 0: core 1 released",
            "[secure] [fw] core 2 entering the normal world at 0x600",
            "qemu-virt: 4 core(s) in the device tree; secondaries start with PSCI CPU_ON",
            "init: arm-ffa ready",
            "ffa: cpu1: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "init: settled: 13 ready, 0 failed, 0 waiting",
            "boot: init queue settled",
            // The TPM over FF-A and measured boot, on several cores too.
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-per-cpu-requests",
        description: "virt on 4 cores: direct requests from every core at once, one request engine per core, each secondary's calls made on that core: the per-CPU partition (4 execution contexts) answers each from the vCPU of the core that asked, with that vCPU's own count, after a preemption each core resumes with FFA_RUN of its own vCPU (the model refuses any other)",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings {
                faults: &[],
                trace: true,
                enter_normal_world_at_el1: false,
            },
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "init: arm-ffa ready",
            "ffa: ffa-per-cpu bound to partition 0x8006",
            "ffa-per-cpu: cpu1: vCPU 1 answered, its request 1",
            "ffa-per-cpu: cpu1: vCPU 1 answered, its request 2",
            "ffa-per-cpu: partition 0x8006 (4 execution contexts): 4 of 4 cores answered from their own vCPU, 2 requests each",
            "boot: init queue settled",
            // Cores 1-3, two rounds, the request and one FFA_RUN each.
            "; 13 calls made on secondary cores",
            "boot: exit-when-settled, powering off with status 0",
            "[secure] [fw] CPU_ON from core 0: core 3 released",
            "[secure] [smc] FFA_RUN x1=0x80060003 x2=0x0 x3=0x0 x4=0x0 -> FFA_MSG_SEND_DIRECT_RESP_64",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "WARN ffa-per-cpu",
        ],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-optee",
        description: "virt on 4 cores under OP-TEE's SPMC (the model's OP-TEE personality): the cores start with CPU_ON, the OP-TEE driver probes OP-TEE (versions, capabilities, the argument page shared, device enumeration) and its self-test's 14 round trips pass, while the per-CPU partition (0x8007 there) answers every core from its own vCPU and each secondary's FFA_ID_GET matches the boot core's, whatever order the cores come up in",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings {
                faults: &[Fault::new(FaultKind::OpTee)],
                trace: false,
                enter_normal_world_at_el1: false,
            },
        },
        board_features: &["exit-when-settled", "optee-self-test"],
        expected_exit_status: 0,
        expected_lines: &[
            "[secure] [fw] 4 cores; cores 1-3 wait in the pen for CPU_ON",
            "qemu-virt: 4 core(s) in the device tree; secondaries start with PSCI CPU_ON",
            "init: arm-ffa ready",
            "ffa: optee bound to partition 0x8001",
            "optee: partition 0x8001: API v1.0, OP-TEE revision 4.4 (build ID 0x4d4f444c)",
            "optee: device enumeration: 1 device(s)",
            "optee-self-test: 14 checks: 14 passed, 0 failed",
            "boot: init queue settled",
            "ffa report: arm-ffa-1: ID 0x8001 UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b contexts 4 properties 0x103 direct-receive direct-send aarch64 driver optee",
            "ffa report: arm-ffa-7: ID 0x8007 UUID c2b67ad3-85fe-452b-870b-b8fef632eae3 contexts 4 properties 0x101 direct-receive aarch64 driver ffa-per-cpu",
            // The TPM and measured boot too (OP-TEE's table has one more
            // partition to measure than the other SPMCs').
            "measured-boot report: 12 events (927 bytes of TCG log), 12 extended; replay matches the TPM",
            "optee report: devices: 1",
            " 0 given up",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            ": FAILED (",
            "WARN ffa-per-cpu",
            "Wrong {",
            "optee report: not driven",
        ],
        // The cores come up, and the per-CPU requests interleave with
        // OP-TEE's calls, in whatever order the host schedules them.
        unordered_lines: &[
            "[secure] [fw] CPU_ON from core 0: core 1 released",
            "[secure] [fw] CPU_ON from core 0: core 2 released",
            "[secure] [fw] CPU_ON from core 0: core 3 released",
            "cpu1: online after",
            "cpu2: online after",
            "cpu3: online after",
            "ffa: cpu1: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa: cpu2: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa: cpu3: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa: ffa-per-cpu bound to partition 0x8007",
            "ffa-per-cpu: cpu3: vCPU 3 answered, its request 2",
            "ffa-per-cpu: partition 0x8007 (4 execution contexts): 4 of 4 cores answered from their own vCPU, 2 requests each",
            "init: settled: 14 ready, 0 failed, 0 waiting",
        ],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-per-cpu-6-cores",
        description: "virt on 6 cores and a partition with 4 execution contexts: cores 0-3 are answered by their own vCPU; cores 4 and 5 have none, so their requests are refused before any call, each with the partition, its count and the core named",
        machine: Machine::Virt {
            cores: 6,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "qemu-virt: 6 core(s) in the device tree",
            "ffa: partition 0x8006 has 4 execution contexts: none for cpu4; request refused",
            "ffa: partition 0x8006 has 4 execution contexts: none for cpu5; request refused",
            "ffa-per-cpu: cpu4: Refused(",
            "ffa-per-cpu: cpu5: Refused(",
            "ffa-per-cpu: partition 0x8006 (4 execution contexts): 4 of 6 cores answered from their own vCPU, 2 requests each",
            "ffa-per-cpu: 2 cores refused before any call (no execution context, no engine), 0 failed or answered wrong",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, "Wrong {", "Failed("],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-per-vcpu-notifications",
        description: "virt on 4 cores: the notifier sets the kernel's per-vCPU notification for vCPU 3; the SRI comes to the boot core, NOTIFICATION_INFO_GET lists vCPU 3, and core 3's request engine makes the NOTIFICATION_GET of its vCPU on core 3 (the caller names its own vCPU), whose answer reaches the driver with vCPU 3",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "ffa-notify: partition 0x8004: bound notifications 0x206 (global) and 0x10000000000 (per-vCPU)",
            "ffa: per-vCPU notifications pending on vCPU 3: got on cpu3",
            "ffa-notify: per-vCPU notification 0x10000000000 arrived for vCPU 3",
            "ffa-notify: partition 0x8004: notifications: now Passed, per-vCPU Passed, answer to SET Passed, timer Passed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "left pending"],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-protected-mode-per-vcpu-notifications",
        description: "protected mode on 4 cores: the EL2 proxy makes the host's notification bitmap with a vCPU per host core, so the notifier's per-vCPU notification for vCPU 3 exists, and core 3's GET of it, trapped on core 3, goes through the proxy",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "protected-mode"],
        expected_exit_status: 0,
        expected_lines: &[
            "el2 proxy: the host's notification bitmap created (VM 0, 4 vCPU(s): one per host core)",
            "ffa: per-vCPU notifications pending on vCPU 3: got on cpu3",
            "ffa-notify: per-vCPU notification 0x10000000000 arrived for vCPU 3",
            "ffa-notify: partition 0x8004: notifications: now Passed, per-vCPU Passed, answer to SET Passed, timer Passed",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "left pending"],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-core-before-ffa",
        description: "virt on 4 cores with a secure monitor that answers NOT_READY at first: the cores come online before FF-A is ready and their FF-A work waits on ffa-root-ready, as the partition drivers do",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings {
                // Not ready for 2 s: far longer than the cores take to come
                // online, however loaded the host.
                faults: &[crate::faults::Fault {
                    kind: crate::faults::FaultKind::NotReady,
                    amount: Some(2_000_000),
                }],
                trace: false,
                enter_normal_world_at_el1: false,
            },
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "init: arm-ffa deferred, waits on secure-monitor-ready",
            "MPIDR 0x80000001, entered at EL2, parked in wfe",
            "init: cpu1 deferred, waits on ffa-root-ready",
            "secure monitor answers FF-A v1.2 after",
            "init: arm-ffa ready",
            "ffa: cpu1: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "init: settled: 13 ready, 0 failed, 0 waiting",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-cpu-on-invalid",
        description: "virt on 4 cores: after boot, PSCI CPU_ON to a core the firmware does not have and to an MPIDR with Aff1 set answers INVALID_PARAMETERS, to a core already on ALREADY_ON",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "scenario-cpu-on-invalid"],
        expected_exit_status: 0,
        expected_lines: &[
            "init: settled: 13 ready",
            "smp: CPU_ON(MPIDR 0x7, no such core) -> -2, expected -2: ok",
            "smp: CPU_ON(MPIDR 0x100, Aff1 set) -> -2, expected -2: ok",
            "smp: CPU_ON(core 1 again, already on) -> -4, expected -4: ok",
            "smp: CPU_ON refusals: 3 of 3 as PSCI names them",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-protected-mode",
        description: "protected mode on 4 cores, as pKVM's PSCI relay: the cores start only once the EL2 proxy traps SMCs; each host CPU_ON is taken by the proxy, which starts the core at its own EL2 entry (EL2 set up with the trap on that core) and then enters the host at EL1 at the saved entry point; each core's FFA_ID_GET goes through the proxy",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "protected-mode"],
        expected_exit_status: 0,
        expected_lines: &[
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "init: ffa-proxy ready",
            // The host runs on every core behind the same stage 2.
            "el2: core 1: EL2's MMU on, the host's stage 2 on",
            "el2 proxy: core 1 up at EL2 (SMCs trapped); entering the host at 0x600",
            "MPIDR 0x80000001, entered at EL1, parked in wfe",
            "ffa: cpu1: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "init: settled: 14 ready, 0 failed, 0 waiting",
            // The TPM over FF-A and measured boot through the proxy.
            "measured-boot report: 11 events (853 bytes of TCG log), 11 extended; replay matches the TPM",
            "boot: exit-when-settled, powering off with status 0",
            // The monitor releases the cores at the proxy's EL2 entry, not
            // at the host's.
            "[secure] [fw] CPU_ON from core 0: core 1 released at 0x600",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "without a CPU_ON through the proxy",
            "CPU_ON refused",
        ],
        unordered_lines: &[
            // Logged by the boot core once the monitor's CPU_ON returns:
            // core 1 may have logged its own lines by then.
            "el2 proxy: CPU_ON relayed: core 1 starts at EL2, then the host at 0x600",
        ],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-optee-protected-mode",
        description: "protected mode on 4 cores under OP-TEE's SPMC: the cores start through the EL2 proxy's PSCI relay, the OP-TEE driver probes OP-TEE and its self-test passes with every region it shares checked and recorded by the proxy, while the per-CPU partition answers each core's requests, trapped on that core, from its own vCPU",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings {
                faults: &[Fault::new(FaultKind::OpTee)],
                trace: false,
                enter_normal_world_at_el1: false,
            },
        },
        board_features: &["exit-when-settled", "protected-mode", "optee-self-test"],
        expected_exit_status: 0,
        expected_lines: &[
            "el2: proxy finalised with FF-A v1.1; host SMCs now trap to EL2",
            "el2 proxy: the host's notification bitmap created (VM 0, 4 vCPU(s): one per host core)",
            "ffa: optee bound to partition 0x8001",
            "optee: partition 0x8001: API v1.0, OP-TEE revision 4.4 (build ID 0x4d4f444c)",
            "el2 proxy: share of 1 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000000, complete",
            "optee: argument page shared with FFA_MEM_SHARE: handle 0x100000000000",
            "optee: device enumeration: 1 device(s)",
            "optee-self-test: 14 checks: 14 passed, 0 failed",
            "boot: init queue settled",
            "ffa report: arm-ffa-7: ID 0x8007 UUID c2b67ad3-85fe-452b-870b-b8fef632eae3 contexts 4 properties 0x101 direct-receive aarch64 driver ffa-per-cpu",
            "optee report: devices: 1",
            " 0 given up",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            ": FAILED (",
            "WARN ffa-per-cpu",
            "Wrong {",
            "stage-2 fault",
            "optee report: not driven",
            "without a CPU_ON through the proxy",
            "CPU_ON refused",
        ],
        unordered_lines: &[
            "el2 proxy: CPU_ON relayed: core 1 starts at EL2",
            "el2 proxy: CPU_ON relayed: core 2 starts at EL2",
            "el2 proxy: CPU_ON relayed: core 3 starts at EL2",
            "el2 proxy: core 1 up at EL2 (SMCs trapped)",
            "el2 proxy: core 2 up at EL2 (SMCs trapped)",
            "el2 proxy: core 3 up at EL2 (SMCs trapped)",
            "ffa: cpu1: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa: cpu2: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa: cpu3: FFA_ID_GET from this core answers 0x0000, as on the boot core",
            "ffa-per-cpu: partition 0x8007 (4 execution contexts): 4 of 4 cores answered from their own vCPU, 2 requests each",
            "init: settled: 15 ready, 0 failed, 0 waiting",
        ],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-protected-mode-per-cpu",
        description: "protected mode on 4 cores: every core's direct requests and FFA_RUNs trap to the EL2 proxy on that core and reach the monitor from it, so the per-CPU partition answers each core from that core's own vCPU, as without the proxy",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "protected-mode"],
        expected_exit_status: 0,
        expected_lines: &[
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "el2 proxy: the host's notification bitmap created (VM 0, 4 vCPU(s): one per host core)",
            "el2 proxy: core 3 up at EL2 (SMCs trapped)",
            "ffa: ffa-per-cpu bound to partition 0x8006",
            "ffa-per-cpu: cpu3: vCPU 3 answered, its request 2",
            "ffa-per-cpu: partition 0x8006 (4 execution contexts): 4 of 4 cores answered from their own vCPU, 2 requests each",
            "; 13 calls made on secondary cores",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "WARN ffa-per-cpu",
            "without a CPU_ON through the proxy",
        ],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-protected-mode-cpu-on-invalid",
        description: "protected mode on 4 cores: after boot, the host's CPU_ON with an entry point in EL2's data (its stacks, the proxy's state) or at EL2's own entry for the cores is refused by the proxy's PSCI relay with INVALID_ADDRESS before the monitor sees it; bad MPIDRs and a core already on get the monitor's answers through the relay",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "protected-mode", "scenario-cpu-on-invalid"],
        expected_exit_status: 0,
        expected_lines: &[
            "el2: EL2 owns 0x60000000+",
            "el2 proxy: core 1 up at EL2 (SMCs trapped)",
            "init: settled: 14 ready, 0 failed, 0 waiting",
            "smp: CPU_ON(MPIDR 0x7, no such core) -> -2, expected -2: ok",
            "el2 proxy: CPU_ON refused: Refused(UnknownCore(256))",
            "smp: CPU_ON(MPIDR 0x100, Aff1 set) -> -2, expected -2: ok",
            "InEl2Memory))",
            "smp: CPU_ON(core 2, entry in EL2's data) -> -9, expected -9: ok",
            "el2 proxy: CPU_ON refused: Refused(EntryPointIsEl2s(",
            "smp: CPU_ON(core 2, entry at EL2's own entry) -> -9, expected -9: ok",
            "smp: CPU_ON(core 1 again, already on) -> -4, expected -4: ok",
            "smp: CPU_ON refusals: 5 of 5 as PSCI names them",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "without a CPU_ON through the proxy",
            "WRONG",
        ],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "smp-1-core-cpu-on",
        description: "virt on 1 core: the device tree names one core, nothing is started, and CPU_ON to core 1 (which the firmware does not have) answers INVALID_PARAMETERS",
        machine: Machine::Virt {
            cores: 1,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &["exit-when-settled", "scenario-cpu-on-invalid"],
        expected_exit_status: 0,
        expected_lines: &[
            "qemu-virt: 1 core(s) in the device tree",
            "init: settled: 10 ready, 0 failed, 0 waiting",
            "smp: CPU_ON(MPIDR 0x7, no such core) -> -2, expected -2: ok",
            "smp: CPU_ON refusals: 2 of 2 as PSCI names them",
        ],
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "cpu1"],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "rpi4-tf-a",
        description: "Raspberry Pi 4 under TF-A's rpi4 BL31 (Debian bookworm's 2.8, with its header filled in as the GPU firmware would): BL31 adds /psci to the device tree, the kernel finds PSCI and SMCCC but no FF-A (FFA_VERSION answers -1), starts the cores with PSCI CPU_ON, and powers off with PSCI SYSTEM_OFF",
        machine: Machine::Raspi {
            device_tree: true,
            status_through_semihosting: false,
            tf_a: true,
        },
        board_features: &["exit-when-settled"],
        expected_exit_status: 0,
        expected_lines: &[
            "[serial0] NOTICE:  BL31: v2.8",
            "boot: raspberrypi4b kernel entered at EL2, device tree at 0x3000000",
            "bcm2711: PSCI firmware present (method Smc); 4 cores; power-off through PSCI",
            "ffa: FF-A is not available (NotImplemented); not polling further",
            "boot: FF-A is absent (FFA_VERSION not supported); carrying on without it",
            "MPIDR 0x80000001, entered at EL2, parked in wfe",
            "init: settled: 3 ready, 0 failed, 1 waiting",
            "boot: exit-when-settled, powering off with status 0",
            "[serial0] INFO:    rpi3: PSCI_SYSTEM_OFF: Invoking watchdog reset",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "rpi4-panic",
        description: "Raspberry Pi 4: a panic after boot is logged and powers off with status 1",
        machine: PI,
        board_features: &["scenario-panic"],
        expected_exit_status: 1,
        expected_lines: &[
            "boot: init queue settled",
            "panicked at boards/raspberrypi4b/src/tests/mod.rs",
            "power: off with status 1 (semihosting exit)",
        ],
        forbidden_lines: &[MALFORMED_FRAME_WARNING],
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: None,
    },
    BoardScenario {
        name: "rpi4-console",
        description: "Raspberry Pi 4 (QEMU raspi4b): the kernel console on UART0, its receive interrupt (SPI 121) on the GIC-400: the system and ffa commands (FF-A absent: no partitions), 90 lines typed at once with nothing lost, and reboot through the PM watchdog",
        machine: PI,
        board_features: &[],
        expected_exit_status: 0,
        expected_lines: &[
            "[kernel] console: 15 commands; type help",
            "boot: over: FfaAbsent",
        ],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: Some(ConsoleSession {
            script: pi_console_script,
            expected_lines: pi_console_expected,
        }),
    },
    BoardScenario {
        name: "rpi4-tf-a-console",
        description: "Raspberry Pi 4 under TF-A's rpi4 BL31: the console's reboot goes through PSCI SYSTEM_RESET",
        machine: Machine::Raspi {
            device_tree: true,
            status_through_semihosting: false,
            tf_a: true,
        },
        board_features: &[],
        expected_exit_status: 0,
        expected_lines: &["bcm2711: PSCI firmware present (method Smc)"],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: Some(ConsoleSession {
            script: pi_tf_a_console_script,
            expected_lines: pi_tf_a_console_expected,
        }),
    },
    BoardScenario {
        name: "smp-console",
        description: "virt on 4 cores with the kernel console: init shows every core's entry and condition, a direct request works, poweroff 4 is QEMU's exit status",
        machine: Machine::Virt {
            cores: 4,
            firmware: FirmwareSettings::HEALTHY,
        },
        board_features: &[],
        expected_exit_status: 4,
        expected_lines: &["init: settled: 13 ready, 0 failed, 0 waiting"],
        forbidden_lines: HEALTHY_FORBIDDEN,
        unordered_lines: &[],
        timeout: DEFAULT_TIMEOUT,
        console: Some(ConsoleSession {
            script: smp_console_script,
            expected_lines: smp_console_expected,
        }),
    },
];

/// The board scenario called `name`.
pub fn find(name: &str) -> Option<&'static BoardScenario> {
    BOARD_SCENARIOS
        .iter()
        .find(|scenario| scenario.name == name)
}

/// What a board scenario needs prepared once: the test firmware (for
/// `virt`) and a QEMU with `raspi4b` (for the Pi).
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The test firmware's flash image.
    pub firmware: Option<std::path::PathBuf>,
    /// The QEMU program with `raspi4b`.
    pub raspi_qemu: Option<std::path::PathBuf>,
    /// TF-A's `rpi4` BL31, as Debian ships it.
    pub tf_a_rpi4: Option<std::path::PathBuf>,
}

/// Builds the board with the scenario's features, boots it and checks the log.
pub fn run(
    workspace: &Workspace,
    prepared: &Prepared,
    scenario: &BoardScenario,
    echo: bool,
) -> Result<ScenarioReport> {
    // Every protected-mode kernel's EL2 image is checked, as in the `virt`
    // scenarios (a kernel without the EL2 runtime has nothing to check).
    let mut expected: Vec<String> = lines(scenario.expected_lines);
    if let Some(session) = &scenario.console {
        expected.extend((session.expected_lines)());
    }
    let input = || match &scenario.console {
        Some(session) => Input::Script(Box::new(LineScript::new((session.script)()))),
        None => Input::None,
    };
    // Besides the lines: the EL2 layout of the kernel, and a measured-boot
    // log the kernel printed, replayed and checked against the kernel
    // booted (as the `virt` scenarios check theirs).
    let judge = |layout_problems: Vec<String>, kernel: PathBuf, directory: PathBuf| {
        move |ending, log: &[String]| {
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            let mut problems = layout_problems;
            problems.extend(scenarios::check_log(
                scenario.expected_exit_status,
                &expected,
                scenario.forbidden_lines,
                ending,
                log,
            ));
            problems.extend(unordered_problems(scenario.unordered_lines, log));
            problems.extend(crate::event_log_check::problems(log, &kernel, &directory));
            problems
        }
    };
    match scenario.machine {
        Machine::Virt { cores, firmware } => {
            let bios = prepared
                .firmware
                .as_deref()
                .ok_or_else(|| crate::error::Error::new("the test firmware was not built"))?;
            let (directory, kernel) =
                scenarios::prepare_kernel(workspace, scenario.name, scenario.board_features)?;
            let layout_problems = scenarios::el2_layout_problems(&kernel)?;
            let config_blob = directory.join("firmware-config.bin");
            fs::write(&config_blob, firmware.config_blob()?)
                .with_context(|| format!("cannot write {}", config_blob.display()))?;
            let invocation = QemuInvocation {
                bios: bios.to_path_buf(),
                kernel: kernel.clone(),
                config_blob: Some(config_blob),
                secure_log: directory.join("secure.log"),
                cores,
            };
            scenarios::boot_typing_and_check(
                workspace,
                &invocation,
                scenario.timeout,
                echo,
                input(),
                judge(layout_problems, kernel, directory),
            )
        }
        Machine::Raspi {
            device_tree,
            status_through_semihosting,
            tf_a,
        } => {
            let program = prepared
                .raspi_qemu
                .clone()
                .ok_or_else(|| crate::error::Error::new("no QEMU with raspi4b was prepared"))?;
            let directory = workspace
                .xtask_directory()
                .join("scenarios")
                .join(scenario.name);
            let mut features: Vec<&str> = scenario.board_features.to_vec();
            if status_through_semihosting {
                features.push(RASPI_EMULATION_FEATURE);
            }
            let (built, kernel_image) =
                raspberry_pi::kernel_image(workspace, &features, &directory)?;
            let kernel = directory.join(Board::RaspberryPi4b.package());
            fs::copy(&built, &kernel)
                .with_context(|| format!("cannot copy {}", built.display()))?;
            let layout_problems = scenarios::el2_layout_problems(&kernel)?;
            let tree = if device_tree {
                let path = directory.join("raspberrypi4b.dtb");
                fs::write(&path, raspberry_pi::device_tree()?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Some(path)
            } else {
                None
            };
            let tf_a = if tf_a {
                let bl31 = prepared
                    .tf_a_rpi4
                    .as_deref()
                    .ok_or_else(|| crate::error::Error::new("TF-A's rpi4 BL31 was not fetched"))?;
                let original =
                    fs::read(bl31).with_context(|| format!("cannot read {}", bl31.display()))?;
                let filled = raspberry_pi::fill_armstub_header(
                    &original,
                    raspberry_pi::TF_A_DEVICE_TREE_ADDRESS,
                    Board::RaspberryPi4b.load_address() as u32,
                )?;
                let path = directory.join("bl31.bin");
                fs::write(&path, filled)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Some(path)
            } else {
                None
            };
            let invocation = RaspiInvocation {
                program,
                kernel: kernel.clone(),
                kernel_image,
                device_tree: tree,
                tf_a,
                secure_log: directory.join("serial1.log"),
            };
            scenarios::boot_typing_and_check(
                workspace,
                &invocation,
                scenario.timeout,
                echo,
                input(),
                judge(layout_problems, kernel, directory),
            )
        }
    }
}

/// The lines of `unordered` that appear on no line of `log`.
fn unordered_problems(unordered: &[&str], log: &[String]) -> Vec<String> {
    unordered
        .iter()
        .filter(|expected| !log.iter().any(|line| line.contains(*expected)))
        .map(|expected| format!("missing expected line (in any order): {expected:?}"))
        .collect()
}

/// Whether any of `scenarios` boots the Pi under TF-A.
pub fn uses_tf_a_rpi4(scenarios: &[&BoardScenario]) -> bool {
    scenarios
        .iter()
        .any(|scenario| matches!(scenario.machine, Machine::Raspi { tf_a: true, .. }))
}

/// Whether any of `scenarios` boots `board`.
pub fn uses(scenarios: &[&BoardScenario], board: Board) -> bool {
    scenarios
        .iter()
        .any(|scenario| scenario.machine.board() == board)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console_scenarios::CONSOLE_SCENARIOS;
    use crate::peer_scenarios::PEER_SCENARIOS;
    use crate::scenarios::SCENARIOS;

    #[test]
    fn names_are_unique_across_every_table() {
        for (index, scenario) in BOARD_SCENARIOS.iter().enumerate() {
            assert!(BOARD_SCENARIOS[..index]
                .iter()
                .all(|other| other.name != scenario.name));
            assert!(SCENARIOS.iter().all(|other| other.name != scenario.name));
            assert!(PEER_SCENARIOS
                .iter()
                .all(|other| other.name != scenario.name));
            assert!(CONSOLE_SCENARIOS
                .iter()
                .all(|other| other.name != scenario.name));
            assert!(find(scenario.name).is_some());
        }
    }

    #[test]
    fn pi_scenarios_boot_the_pi() {
        let pi: Vec<&BoardScenario> = BOARD_SCENARIOS
            .iter()
            .filter(|scenario| scenario.name.starts_with("rpi4"))
            .collect();
        assert!(pi.len() >= 3);
        assert!(uses(&pi, Board::RaspberryPi4b));
        assert!(!uses(&pi, Board::QemuVirt));
    }

    #[test]
    fn unordered_lines_are_found_in_any_order_and_missing_ones_named() {
        let log = lines(&["[kernel] cpu3: online", "[kernel] cpu1: online"]);
        assert!(unordered_problems(&["cpu1: online", "cpu3: online"], &log).is_empty());
        assert_eq!(
            unordered_problems(&["cpu1: online", "cpu2: online"], &log),
            vec!["missing expected line (in any order): \"cpu2: online\"".to_string()]
        );
    }
}
