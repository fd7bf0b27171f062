//! QEMU scenarios against real TF-A: the SPMD with TF-A's EL3 SPMC and our partition, and plain TF-A.
//!
//! Each scenario builds the board with its features, packs a flash image
//! around it ([`crate::peer::Peer::flash_image`]), boots it, and checks the
//! decoded log: the kernel's defmt log (`[kernel]`), TF-A's text on the same
//! UART (`[serial0]`) and the partition's log on the secure UART
//! (`[secure] [sp] ...`), with the same rules as the model's scenarios (in
//! order per source, forbidden lines nowhere). A failure prints all three.
//!
//! Under TF-A, PSCI `SYSTEM_OFF` always ends QEMU with status 0 (TF-A powers
//! off through the secure GPIO and ignores the kernel's status), so these
//! scenarios judge by the log alone; a panic is caught by its line.
//!
//! Memory sharing (`tf-a-spmc-memory*`): the echo driver's memory checks
//! (`capsules/ffa/src/drivers/memory_check.rs`) share and lend regions filled
//! with pattern P and send the partition the memory-check command of
//! `ffa_abi::memory_check` (retrieve, check P, write Q, relinquish), then
//! check Q and reclaim; donation is not offered by the EL3 SPMC. TF-A
//! 2.12.1 takes memory transactions only from v1.0 and v1.1 callers, so
//! these boards ask for v1.1 (`ffa-v1-1`) or v1.0 (`ffa-v1-0`): the two
//! descriptor layouts it accepts; `tf-a-spmc-memory-v1.2-refused` shows the
//! refusal of the default v1.2 board.

use std::time::Duration;

use crate::error::Result;
use crate::logs::MALFORMED_FRAME_WARNING;
use crate::peer::Peer;
use crate::qemu::QemuInvocation;
use crate::scenarios::{self, ScenarioReport, DEFAULT_TIMEOUT};
use crate::tf_a::Configuration;
use crate::workspace::Workspace;

/// One boot of the board under real TF-A, with what its log must (not) show.
#[derive(Debug, Clone)]
pub struct PeerScenario {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// One line saying what the scenario shows.
    pub description: &'static str,
    /// Cargo features of the board package.
    pub board_features: &'static [&'static str],
    /// Which TF-A build to boot.
    pub configuration: Configuration,
    /// Substrings that must appear, in order per source.
    pub expected_lines: &'static [&'static str],
    /// Substrings that must appear on no line.
    pub forbidden_lines: &'static [&'static str],
    /// After this long QEMU is killed and the scenario fails as a hang.
    pub timeout: Duration,
}

/// Lines no real-TF-A boot may show: panics of the kernel or the partition,
/// broken frames, the partition failing to start, TF-A failing to load or
/// to set up the partition.
///
/// Not TF-A's `PANIC at PC`: its QEMU power-off drives the secure GPIO and
/// then calls `panic()`, so when QEMU is slow to exit the crash console (the
/// secure UART) sometimes shows `PANIC at PC : 0x...` after a clean
/// `SYSTEM_OFF`. A real TF-A panic stops the boot before the expected lines.
const TF_A_FORBIDDEN: &[&str] = &[
    "panicked",
    MALFORMED_FRAME_WARNING,
    "[sp] FATAL",
    "[sp] set-up failed",
    "[sp] giving up",
    "failed to initialize",
    "Failed to load",
    "Error in SP",
];

/// What no healthy real-TF-A memory scenario may show: [`TF_A_FORBIDDEN`],
/// a failed or skipped share or lend, a kernel error, and (in protected
/// mode) a stage-2 fault.
const TF_A_MEMORY_FORBIDDEN: &[&str] = &[
    "panicked",
    MALFORMED_FRAME_WARNING,
    "[sp] FATAL",
    "[sp] set-up failed",
    "[sp] giving up",
    "failed to initialize",
    "Failed to load",
    "Error in SP",
    "FAILED",
    "share skipped",
    "lend skipped",
    "refused",
    "[kernel] ERROR",
    "stage-2 fault",
];

/// Every real-TF-A scenario, in the order `cargo xtask test` runs them.
pub const PEER_SCENARIOS: &[PeerScenario] = &[
    PeerScenario {
        name: "tf-a-spmc-boot",
        description: "real TF-A (SPMD + EL3 SPMC): BL2 loads our partition and its manifest, the SPMC starts it at S-EL1 with the FF-A boot information; the kernel boots as BL33 at EL2 and discovery finds the partition",
        board_features: &["exit-when-settled"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[serial0] NOTICE:  BL1: v2.12",
            "[serial0] NOTICE:  BL31: v2.12",
            "[secure] [sp] test-partition entered at EL1 on core 0, boot information at 0x",
            "[secure] [sp] boot information: FF-A v1.2, ",
            "[secure] [sp] manifest: device tree at 0x",
            "[secure] [sp] test-partition 0x8001: SPMC FF-A v1.2, using v1.2, RX/TX mapped (1 page(s)",
            "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64 offered",
            "[secure] [sp] ready; FFA_MSG_WAIT",
            "[kernel] INFO boot: qemu-virt kernel entered at EL2",
            "secure monitor answers FF-A v1.2",
            "ffa: requested v1.2, callee v1.2, using v1.2",
            "ffa: set up: v1.2, ID 0x0000, 4096-byte RX/TX buffers",
            "ffa: root ready, 1 partition devices",
            "arm-ffa-1: partition 0x8001 uuid fa791f17-febd-4861-81d0-4b5dae9cb9cb",
            "init: arm-ffa ready",
            "ffa report: root Ready, FF-A v1.2 (SMCCC 1.5), own ID 0x0000, RX/TX 4096 bytes (1 pages), 1 partitions",
            "arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 32 properties 0x101 direct-receive aarch64 driver ffa-echo",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-echo",
        description: "real TF-A (SPMD + EL3 SPMC): the kernel's echo driver binds to our partition by UUID; 32- and 64-bit direct request round trips pass, REQ2 is skipped (the EL3 SPMC does not offer it)",
        board_features: &["exit-when-settled"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] ready; FFA_MSG_WAIT",
            "[secure] [sp] DIRECT_REQ_32 from 0x0000: echo",
            "[secure] [sp] DIRECT_REQ_64 from 0x0000: echo",
            "init: arm-ffa ready",
            // TF-A's EL3 SPMC offers no notifications (FFA_FEATURES).
            "ffa: notifications not offered",
            "init: ffa-notifications unbound: nothing to drive",
            "ffa: ffa-echo bound to partition 0x8001",
            "init: ffa-echo ready",
            // The EL3 SPMC hosts a single partition: the model's preempting
            // one is not there, which is normal: unbound, not an error.
            "ffa: ffa-preempted-echo unbound: no partition implements its UUIDs",
            "init: ffa-preempted-echo unbound: nothing to drive",
            "init: settled: 2 ready, 0 failed, 0 waiting, 0 timed out, 9 unbound",
            // The echo's round trips are split-phase: done after binding.
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "boot: over: FfaReady",
            "boot: exit-when-settled, powering off with status 0",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            "[sp] FATAL",
            "[sp] set-up failed",
            "[sp] giving up",
            "failed to initialize",
            "Failed to load",
            "Error in SP",
            "[kernel] ERROR",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-protected-mode",
        description: "real TF-A (SPMD + EL3 SPMC) in protected mode: the EL2 proxy finalises against the real SPMC, then discovery and echo go through the proxy",
        board_features: &["exit-when-settled", "protected-mode"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] ready; FFA_MSG_WAIT",
            "[secure] [sp] DIRECT_REQ_32 from 0x0000: echo",
            "[secure] [sp] DIRECT_REQ_64 from 0x0000: echo",
            "protected: finalising the EL2 proxy (its RX/TX pair: TX 0x5fe00000, RX 0x5fe01000)",
            "protected: finalisation HVC 1 done, next step 3/4",
            "protected: finalisation HVC 2 done, next step 4/4",
            "el2: proxy finalised with FF-A v1.2; host SMCs now trap to EL2",
            "protected: EL2 proxy finalised after 3 HVCs: FF-A v1.2",
            "init: ffa-proxy ready",
            "el2 proxy: host negotiated FF-A: asked v1.2, answered v1.2",
            "el2 proxy: host RX/TX recorded at EL2",
            "el2 proxy: FFA_PARTITION_INFO_GET: 1 descriptor(s), 24 bytes copied from the proxy's RX into the host's RX",
            "init: arm-ffa ready",
            "init: settled: 3 ready, 0 failed, 0 waiting, 0 timed out, 9 unbound",
            "ffa-echo: partition 0x8001: DIRECT_REQ32 Passed, DIRECT_REQ64 Passed, DIRECT_REQ2 Skipped",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-protected-mode-memory",
        description: "real TF-A (SPMD + EL3 SPMC) in protected mode, the kernel asking for v1.1: the client's share and lend go through the EL2 proxy (descriptor copied into its TX and checked, pages given, the lent page unmapped from the kernel's stage 2) to TF-A's EL3 SPMC and our partition, which retrieves, checks, writes and relinquishes; the proxy reclaims from its own record (TF-A refuses pKVM's hypervisor retrieve request) and gives the pages back",
        board_features: &["exit-when-settled", "protected-mode", "ffa-v1-1"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc0, sender 0x0000, tag 0x7a60001, type share, read-write access",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc0: done",
            "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc1, sender 0x0000, tag 0x7a60002, type lend, read-write access",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc1: done",
            "el2: host stage 2 on: host memory 0x40000000+0x40000000 read-write",
            "el2 proxy: host negotiated FF-A: asked v1.1, answered v1.1",
            "el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0xffffffc0, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffc0: the monitor agreed; the share's 2 page(s) are the host's again",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xffffffc0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "el2 proxy: lend of 1 page(s) in 1 range(s) checked and given (unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0xffffffc1, complete",
            "el2 proxy: FFA_MEM_RECLAIM of handle 0xffffffc1: the monitor agreed; the lend's 1 page(s) are the host's again",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffc1, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it",
            "ffa report: memory handle 0xffffffc0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffc1: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-memory",
        description: "real TF-A (SPMD + EL3 SPMC), the kernel asking for v1.1: it shares and lends pages to our partition, which retrieves them, checks pattern P, writes pattern Q and relinquishes; the kernel reads Q back and reclaims; donation is not offered",
        board_features: &["exit-when-settled", "ffa-v1-1"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc0, sender 0x0000, tag 0x7a60001, type share, read-write access",
            "[secure] [sp] share from 0x0000: handle 0xffffffc0, tag 0x7a60001",
            "[secure] [sp] 8192 bytes hold pattern 0x5eed000000000100",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc0: done",
            "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc1, sender 0x0000, tag 0x7a60002, type lend, read-write access",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc1: done",
            "ffa: requested v1.1, callee v1.2, using v1.1",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xffffffc0, v1.1 layout, 96 bytes in 1 fragment(s) (FFA_MEM_SHARE_64)",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xffffffc0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffc1, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: donate skipped: the callee does not offer it",
            "ffa report: memory handle 0xffffffc0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "ffa report: memory handle 0xffffffc1: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-memory-fragments",
        description: "real TF-A (SPMD + EL3 SPMC), v1.1: a share of 256 single-page ranges, whose 4176-byte descriptor goes to the SPMC in the minimum of 2 fragments and reaches our partition in 2 fragments; the bytes go there and back",
        board_features: &["exit-when-settled", "ffa-v1-1", "memory-fragments"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] descriptor of handle 0xffffffc2: 4176 bytes in 2 fragment(s)",
            "[secure] [sp] 1048576 bytes hold pattern 0x5eed000000000400",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc2: done",
            "ffa: share of 256 pages (256 ranges) to 0x8001: handle 0xffffffc2, v1.1 layout, 4176 bytes in 2 fragment(s) (FFA_MEM_SHARE_64)",
            "memory-check: scattered share of 256 page(s) with 0x8001, handle 0xffffffc2, 2 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0xffffffc2: share to 0x8001 (1 receiver(s)), 256 pages in 256 range(s), v1.1 layout, 2 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-memory-v1.0",
        description: "real TF-A (SPMD + EL3 SPMC), the kernel asking for v1.0: descriptors in the v1.0 layout (the EL3 SPMC converts them for our v1.2 partition); share and lend go there and back",
        board_features: &["exit-when-settled", "ffa-v1-0"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc0: done",
            "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc1: done",
            "ffa: requested v1.0, callee v1.2, using v1.0",
            "ffa: share of 2 pages (1 ranges) to 0x8001: handle 0xffffffc0, v1.0 layout, 80 bytes in 1 fragment(s)",
            "memory-check: share of 2 page(s) with 0x8001, handle 0xffffffc0, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "memory-check: lend of 1 page(s) with 0x8001, handle 0xffffffc1, 1 fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
            "ffa report: memory handle 0xffffffc0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.0 layout, 1 fragment(s): Reclaimed",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_MEMORY_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-spmc-memory-v1.2-refused",
        description: "real TF-A (SPMD + EL3 SPMC) with the default v1.2 board: the EL3 SPMC refuses memory transactions from v1.2 callers (INVALID_PARAMETERS); the kernel says why and what to do, keeps its pages and boots on",
        board_features: &["exit-when-settled"],
        configuration: Configuration::Spmc,
        expected_lines: &[
            "ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS (an SPMC that takes memory transactions only from v1.0/v1.1 callers, as TF-A 2.12's EL3 SPMC, answers this at v1.2: request v1.1 for it)",
            "memory-check: share with 0x8001 failed: Give(Status(InvalidParameters))",
            "memory-check: lend with 0x8001 failed: Give(Status(InvalidParameters))",
            "memory-check: donate skipped: the callee does not offer it",
            "ffa: ffa-echo bound to partition 0x8001",
            "ffa report: memory (no handle): share to 0x8001, 2 pages in 1 range(s): Refused(Status(InvalidParameters))",
            "boot: exit-when-settled, powering off",
        ],
        forbidden_lines: TF_A_FORBIDDEN,
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-plain",
        description: "plain TF-A (no SPMD): FFA_VERSION is an unknown SMC, the kernel reports FF-A absent once, the FF-A root and drivers stay pending, clean power-off",
        board_features: &["exit-when-settled"],
        configuration: Configuration::Plain,
        expected_lines: &[
            "[serial0] NOTICE:  BL31: v2.12",
            "[kernel] INFO boot: qemu-virt kernel entered at EL2",
            "FF-A is not available (NotImplemented); not polling further",
            "boot: FF-A is absent (FFA_VERSION not supported); carrying on without it",
            "init: settled: 0 ready, 0 failed, 11 waiting, 0 timed out, 0 unbound",
            "ffa report: root Waiting, no FF-A session",
            "init: arm-ffa waits on secure-monitor-ready",
            "boot: exit-when-settled, powering off",
            "[serial0] ERROR:   QEMU System Power off: with GPIO.",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[secure] [sp]",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
    PeerScenario {
        name: "tf-a-plain-protected-mode",
        description: "plain TF-A in protected mode: the EL2 proxy finalises without FF-A, PSCI still passes through, the FF-A root stays pending",
        board_features: &["exit-when-settled", "protected-mode"],
        configuration: Configuration::Plain,
        expected_lines: &[
            "protected: EL2 proxy finalised after 3 HVCs without FF-A",
            "init: ffa-proxy ready",
            "init: arm-ffa waits on secure-monitor-ready",
            "boot: exit-when-settled, powering off",
            "[serial0] ERROR:   QEMU System Power off: with GPIO.",
        ],
        forbidden_lines: &[
            "panicked",
            MALFORMED_FRAME_WARNING,
            " ERROR ",
            "[secure] [sp]",
        ],
        timeout: DEFAULT_TIMEOUT,
    },
];

/// The real-TF-A scenario called `name`.
pub fn find(name: &str) -> Option<&'static PeerScenario> {
    PEER_SCENARIOS.iter().find(|scenario| scenario.name == name)
}

/// Builds the kernel with the scenario's features, packs its flash image, boots it and checks the log.
pub fn run(
    workspace: &Workspace,
    peer: &Peer,
    scenario: &PeerScenario,
    echo: bool,
) -> Result<ScenarioReport> {
    let (directory, kernel) =
        scenarios::prepare_kernel(workspace, scenario.name, scenario.board_features)?;
    let layout_problems = scenarios::el2_layout_problems(&kernel)?;
    let invocation = QemuInvocation {
        bios: peer.flash_image(scenario.configuration, &kernel, &directory)?,
        kernel,
        config_blob: None,
        secure_log: directory.join("secure.log"),
        cores: 1,
    };
    scenarios::boot_and_check(
        workspace,
        &invocation,
        scenario.timeout,
        echo,
        |ending, log| {
            let mut problems = layout_problems;
            problems.extend(scenarios::check_log(
                0,
                scenario.expected_lines,
                scenario.forbidden_lines,
                ending,
                log,
            ));
            problems
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::SCENARIOS;

    #[test]
    fn names_are_unique_across_both_tables() {
        for (index, scenario) in PEER_SCENARIOS.iter().enumerate() {
            assert!(PEER_SCENARIOS[..index]
                .iter()
                .all(|other| other.name != scenario.name));
            assert!(SCENARIOS.iter().all(|other| other.name != scenario.name));
            assert_eq!(
                find(scenario.name).map(|found| found.name),
                Some(scenario.name)
            );
        }
    }

    #[test]
    fn every_scenario_forbids_panics_and_broken_frames() {
        for scenario in PEER_SCENARIOS {
            assert!(
                scenario.forbidden_lines.contains(&"panicked"),
                "{}",
                scenario.name
            );
            assert!(
                scenario.forbidden_lines.contains(&MALFORMED_FRAME_WARNING),
                "{}",
                scenario.name
            );
        }
    }

    #[test]
    fn a_partition_that_never_starts_fails_the_boot_scenario() {
        let scenario = find("tf-a-spmc-boot").unwrap();
        let log: Vec<String> = [
            "[serial0] NOTICE:  BL1: v2.12.1(release):",
            "[serial0] NOTICE:  BL31: v2.12.1(release):",
            "[serial0] ERROR:   SP (0x8001) failed to initialize (8).",
        ]
        .iter()
        .map(|line| line.to_string())
        .collect();
        let problems = scenarios::check_log(
            0,
            scenario.expected_lines,
            scenario.forbidden_lines,
            crate::qemu::Ending::Exited(0),
            &log,
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("missing expected line 3 of 18"));
        assert!(problems[1].starts_with("forbidden \"failed to initialize\""));
    }
}
