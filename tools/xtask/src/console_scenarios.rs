//! Scenarios that drive the kernel console through scripts: every command,
//! every error message, line editing, a line longer than the buffer, binary
//! garbage, a burst of input faster than the console drains it; against the
//! FF-A model (also as each real SPMC it can answer as: TF-A's EL3 SPMC,
//! Hafnium, OP-TEE) and against real TF-A. And one check across every
//! fault and personality scenario of [`crate::scenarios`]: the console's
//! `ffa list`, `ffa info`, `ffa status` and `init` agree with the boot
//! report and the init queue's boot log.
//!
//! These boot the board with its default features (the console is in; no
//! `exit-when-settled`), type their script once the console prompts
//! ([`crate::script`]), and end with `poweroff`, whose status QEMU exits
//! with under the test firmware. Without `exit-when-settled` a boot whose
//! FF-A root is down does not exit with status 3 by itself: the console
//! stays up to say why, and the script's `poweroff` chooses the status.
//! Expected lines are checked as for every scenario: in order among the
//! kernel's lines. Protected-mode images also get the EL2 image check
//! ([`crate::el2_layout`]), as every scenario's do.

use std::collections::VecDeque;
use std::fs;

use crate::error::{Context, Result};
use crate::faults::{Fault, FaultKind, FirmwareSettings};
use crate::logs::MALFORMED_FRAME_WARNING;
use crate::peer::Peer;
use crate::qemu::{Input, QemuInvocation};
use crate::scenarios::{self, ScenarioReport, DEFAULT_TIMEOUT, SCENARIOS};
use crate::script::{LineScript, Next, Script, Step, BOOT_OVER};
use crate::tf_a::Configuration;
use crate::timeline::kernel_message;
use crate::workspace::Workspace;

/// Which secure world a console scenario boots on.
#[derive(Debug, Clone, Copy)]
pub enum SecureWorld {
    /// The test firmware with the FF-A model, so configured.
    Model(FirmwareSettings<'static>),
    /// Real TF-A in this configuration (`cargo xtask peer`).
    TfA(Configuration),
}

/// A scripted console session and what its log must (not) show.
#[derive(Debug, Clone)]
pub struct ConsoleScenario {
    /// Name used on the command line and in reports.
    pub name: &'static str,
    /// One line saying what the scenario shows.
    pub description: &'static str,
    /// Board features besides the default ones (the console is a default).
    pub board_features: &'static [&'static str],
    /// What the kernel talks to.
    pub secure_world: SecureWorld,
    /// The script.
    pub script: fn() -> Vec<Step>,
    /// Substrings that must appear, in order per source.
    pub expected_lines: fn() -> Vec<String>,
    /// Substrings that must appear on no line.
    pub forbidden_lines: &'static [&'static str],
    /// QEMU's exit status: what the script's `poweroff` asks for (under
    /// real TF-A always 0).
    pub exit_status: i32,
}

/// No console session may show these.
const CONSOLE_FORBIDDEN: &[&str] = &["panicked", MALFORMED_FRAME_WARNING, " ERROR "];

/// A personality session: errors are expected (an unknown UUID), a root that
/// is down is not.
const PERSONALITY_FORBIDDEN: &[&str] = &[
    "panicked",
    MALFORMED_FRAME_WARNING,
    "boot: over, but the FF-A root is not up",
    "FFA_RXTX_MAP failed",
];

/// A session without a single error message.
const CLEAN_SESSION: &[&str] = &["panicked", MALFORMED_FRAME_WARNING, " ERROR ", "] error: "];

fn lines(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|line| line.to_string()).collect()
}

/// `WaitFor(boot over)`, then each line as a step, then `poweroff`.
fn session(commands: &[&str]) -> Vec<Step> {
    std::iter::once(Step::WaitFor(BOOT_OVER.into()))
        .chain(commands.iter().map(|command| Step::line(command)))
        .chain(std::iter::once(Step::line("poweroff")))
        .collect()
}

/// Every command, against a healthy model.
const COMMANDS: &[&str] = &[
    "help",
    "help ffa send",
    "version",
    "init",
    "ffa",
    "ffa status",
    "ffa list",
    "ffa info 0x8001",
    "ffa info b4399eff-6a76-400b-bfa8-2c063889c6ee",
    "ffa discover",
    "ffa discover --count",
    "ffa discover fa791f17-febd-4861-81d0-4b5dae9cb9cb",
    "ffa ping 0x8001",
    "ffa ping 0x8003",
    "ffa send 0x8001 1 2 3 4 0xffffffff",
    "ffa send 0x8002 7",
    "ffa send64 0x8001 0x1_0000_0001 2",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1 2 3",
    "ffa share 0x8001 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa lend 0x8001 1",
    "ffa reclaim $handle",
    "ffa mem",
    "ffa notify",
    "ffa msg",
    "console",
];

fn commands_expected() -> Vec<String> {
    lines(&[
        "[kernel] console: 35 commands; type help",
        "[kernel] console: ready",
        "[kernel] console> help",
        "[kernel] help: help [command] - lists the commands",
        "[kernel] help: console - what the console received",
        "[kernel] help: version - the kernel image",
        "[kernel] help: poweroff [status] - switches the system off",
        "[kernel] help: ffa - the FF-A session and partitions again",
        "[kernel] help: ffa send2 <id> <uuid> <x4> [x5..x17] - a DIRECT_REQ2",
        "[kernel] help: numbers are decimal or 0x-hexadecimal",
        "[kernel] console> help ffa send",
        "[kernel] help: ffa send <id> <w3> [w4..w7] - a 32-bit direct request",
        "[kernel] console: ready",
        "[kernel] console> version",
        "[kernel] version: qemu-virt-board 0.1.0, direct mode; console 0.1.0",
        "[kernel] console> init",
        "[kernel] init: arm-ffa: ready, provides ffa-root-ready",
        "[kernel] init: ffa-notifications: ready",
        "[kernel] init: ffa-echo: ready",
        "[kernel] init: ffa-preempted-echo: ready",
        "[kernel] init: ffa-notify: ready",
        "[kernel] init: ffa-scheduling: ready",
        "[kernel] init: ffa-per-cpu: ready",
        "[kernel] init: condition secure-monitor-ready: signalled",
        "[kernel] init: condition ffa-root-ready: signalled",
        "[kernel] init: condition ffa-root-probed: signalled",
        "[kernel] init: 10 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound, 0 not probed; settled",
        "[kernel] console> ffa",
        "[kernel] ffa status: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 7 partitions",
        "[kernel] console> ffa status",
        "[kernel] ffa status: the client asks for v1.2; calls go through Smc",
        "[kernel] ffa status: the root waits on secure-monitor-ready: signalled",
        "[kernel] ffa status: the root signals ffa-root-probed once set up or failed (partition drivers wait on it): signalled",
        "[kernel] ffa status: RX/TX size asked for: the minimum (the SPMC's granule); the buffers hold 4096 bytes",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC maps at most 16 pages",
        "[kernel] ffa status: the SPMC offers 6 optional ABIs: FFA_MSG_SEND_DIRECT_REQ2 FFA_PARTITION_INFO_GET_REGS FFA_MEM_SHARE FFA_MEM_LEND FFA_NOTIFICATION_BIND FFA_MSG_SEND2; RX/TX granule 4096 bytes",
        // The drivers' 15 and the TPM's (how many FINISH_NOTIFIED there
        // are depends on QEMU's timing, see the measured-boot scenario).
        "[kernel] ffa status: requests: ",
        "[kernel] ffa status: notifications: SRI 8, ",
        "[kernel] ffa status: notification binding: 0x206 from 0x8004 (global)",
        "[kernel] ffa status: notification binding: 0x10000000000 from 0x8004 (per-vCPU)",
        "[kernel] ffa status: notification binding: 0x10000 from 0x8010 (global)",
        "[kernel] arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo",
        "[kernel] console> ffa list",
        "[kernel] arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo",
        "[kernel] arm-ffa-2: ID 0x8002 UUID 88886b1c-15ad-4435-a3f8-e2919eacb5b7 contexts 1 properties 0x1 direct-receive aarch32 driver (none)",
        "[kernel] arm-ffa-3: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee contexts 1 properties 0x301 direct-receive req2-receive aarch64 driver ffa-preempted-echo",
        "[kernel] arm-ffa-4: ID 0x8004 UUID 5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd contexts 4 properties 0x10d direct-receive indirect notifications aarch64 driver ffa-notify",
        "[kernel] arm-ffa-5: ID 0x8005 UUID 09d90fb6-cd9b-41f4-9613-8aeffa5e310f contexts 1 properties 0x101 direct-receive aarch64 driver ffa-scheduling",
        "[kernel] arm-ffa-6: ID 0x8006 UUID c2b67ad3-85fe-452b-870b-b8fef632eae3 contexts 4 properties 0x101 direct-receive aarch64 driver ffa-per-cpu",
        "[kernel] console> ffa info 0x8001",
        "[kernel] arm-ffa-1: ID 0x8001 UUID fa791f17",
        "[kernel] arm-ffa-1: kind: a PE endpoint (a partition that runs) with 4 execution contexts",
        "[kernel] arm-ffa-1: properties 0x301 read as FF-A v1.2 defines them",
        "[kernel] arm-ffa-1: ID type PeEndpoint, execution state AArch64, sends direct requests false",
        "[kernel] arm-ffa-1: told of VM creation false, of VM destruction false",
        "[kernel] arm-ffa-1: v1.3: live activation, CPU rendezvous, SMC64 CPU cycle management: not reported (properties read as v1.2)",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 yes",
        "[kernel] console> ffa info b4399eff-6a76-400b-bfa8-2c063889c6ee",
        "[kernel] arm-ffa-3: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee",
        "[kernel] console> ffa discover",
        "[kernel] ffa discover: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301",
        "[kernel] ffa discover: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee",
        "[kernel] ffa discover: the SPMC reports 7 partition descriptors for UUID 00000000-0000-0000-0000-000000000000 now (7 of them on the bus, which holds 7 from boot)",
        "[kernel] console> ffa discover --count",
        "[kernel] ffa discover: the SPMC counts 7 partition descriptors for UUID 00000000-0000-0000-0000-000000000000 (the bus holds 7)",
        "[kernel] console> ffa discover fa791f17-febd-4861-81d0-4b5dae9cb9cb",
        "[kernel] ffa discover: the SPMC reports 1 partition descriptors for UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb now",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] ffa ping: 0x8001 answered in ",
        "[kernel] console> ffa ping 0x8003",
        "[kernel] ffa ping: 0x8003 answered in ",
        "[kernel] console> ffa send 0x8001 1 2 3 4 0xffffffff",
        " w3=0x1 w4=0x2 w5=0x3 w6=0x4 w7=0xffffffff",
        "[kernel] console> ffa send 0x8002 7",
        "[kernel] ffa send: 0x8002 answered in ",
        "[kernel] console> ffa send64 0x8001 0x1_0000_0001 2",
        "us: x0=0xc4000070 x1=0x80010000 x2=0x0 x3=0x100000001 x4=0x2 x5=0x0",
        "[kernel] console> ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1 2 3",
        "x0=0xc400008e x1=0x80010000 x2=0x0 x3=0x0 x4=0x1 x5=0x2 x6=0x3 x7=0x0",
        "[kernel] ffa send2: x8=0x0 x9=0x0",
        "[kernel] console> ffa share 0x8001 1",
        "[kernel] ffa share: handle 0x100000001: 1 pages at 0x",
        "[kernel] console> ffa memcheck 0x100000001",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] console> ffa reclaim 0x100000001",
        " are the kernel's again, holding pattern Q (the partition's reply); back in the pool (15 of 16 pages free)",
        "[kernel] console> ffa lend 0x8001 1",
        "[kernel] ffa lend: handle 0x100000002: 1 pages at 0x",
        "[kernel] console> ffa reclaim 0x100000002",
        " are the kernel's again, holding pattern P; back in the pool (15 of 16 pages free)",
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: 5 memory transaction(s)",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] console> ffa notify",
        "[kernel] ffa notify: SRI 8, ",
        "[kernel] ffa notify: binding 0x206 from 0x8004 (global), a driver's",
        "[kernel] console> ffa msg",
        "[kernel] ffa msg: indirect messages 2 received, 1 sent, 0 dropped",
        "[kernel] console> console",
        " commands; discarded 0 too long, 0 not text (0 bytes), 0 cancelled, 0 with lost input; UART: 0 overruns, 0 garbled bytes",
        "[kernel] console> poweroff",
        "[kernel] poweroff: switching the system off, status 0",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// Every error message a user can get from a healthy system.
const ERRORS: &[&str] = &[
    "bogus",
    "ffa bogus",
    "help bogus",
    "version now",
    "ffa list extra",
    "ffa ping",
    "ffa ping banana",
    "ffa ping 0x10000",
    "ffa ping 0x9999",
    "ffa info 00000000-0000-0000-0000-00000000beef",
    "ffa info nonsense",
    "ffa send 0x8001 0x1_0000_0000",
    "ffa send 0x8001 1 2 3 4 5 6",
    "ffa send64 0x8002 1",
    "ffa send2 0x8002 88886b1c-15ad-4435-a3f8-e2919eacb5b7 1",
    "ffa send2 0x8001 not-a-uuid 1",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb",
    "ffa discover --count --count",
    "poweroff 0x1_0000_0000",
    "w x y z a b c d e f g h i j k l m n o p q r s t u",
];

fn errors_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> bogus",
        "[kernel] error: unknown command 'bogus'; help lists the commands",
        "[kernel] error: unknown command 'ffa bogus'; help ffa lists the ffa commands",
        "[kernel] error: no command starts with 'bogus'; help lists the commands",
        "[kernel] error: usage: version",
        "[kernel] error: usage: ffa list",
        "[kernel] error: usage: ffa ping <id>",
        "[kernel] error: bad number 'banana': expected a 16-bit partition ID such as 0x8001",
        "[kernel] error: bad number '0x10000': expected a 16-bit partition ID such as 0x8001",
        "[kernel] error: unknown partition '0x9999'",
        "[kernel] error: unknown partition '00000000-0000-0000-0000-00000000beef'",
        "[kernel] error: bad argument 'nonsense': expected a partition ID (0x8001) or a UUID",
        "[kernel] error: bad number '0x1_0000_0000': expected a 32-bit value",
        "[kernel] error: usage: ffa send <id> <w3> [w4..w7]",
        "[kernel] error: not supported by partition 0x8002: it runs in AArch32, so 64-bit direct requests do not reach it",
        "[kernel] error: not supported by partition 0x8002: it does not receive DIRECT_REQ2 (properties bit 9)",
        "[kernel] error: bad argument 'not-a-uuid': expected a UUID such as fa791f17-febd-4861-81d0-4b5dae9cb9cb",
        "[kernel] error: usage: ffa send2 <id> <uuid> <x4> [x5..x17]",
        "[kernel] error: bad argument '--count': expected --count or a UUID",
        "[kernel] error: bad number '0x1_0000_0000': expected a 32-bit exit status",
        "[kernel] error: too many words (at most 24); discarded",
        "[kernel] console> poweroff",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// What an older SPMC cannot do.
const OLDER_SPMC: &[&str] = &[
    "ffa status",
    "ffa info 0x8001",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1",
    "ffa discover --count",
    "ffa discover",
    "ffa ping 0x8001",
];

fn older_spmc_expected() -> Vec<String> {
    lines(&[
        "[kernel] ffa status: root Ready, FF-A v1.0 (SMCCC 1.2)",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC states no maximum",
        "[kernel] ffa status: the SPMC offers 2 optional ABIs: FFA_MEM_SHARE FFA_MEM_LEND; RX/TX granule 4096 bytes",
        "[kernel] arm-ffa-1: kind: a PE endpoint (a partition that runs) with 4 execution contexts",
        "[kernel] arm-ffa-1: properties 0x1 read as FF-A v1.0 defines them",
        "[kernel] arm-ffa-1: ID type Unreported, execution state Unreported",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 DIRECT_REQ2 needs FF-A v1.2",
        "[kernel] arm-ffa-1: v1.0 descriptors carry no UUID",
        "[kernel] error: not supported at the negotiated version: FFA_MSG_SEND_DIRECT_REQ2 needs FF-A v1.2, this session negotiated v1.0",
        "[kernel] error: not supported at the negotiated version: count-only discovery (FFA_PARTITION_INFO_GET, flag 1) needs FF-A v1.1, this session negotiated v1.0",
        "[kernel] ffa discover: ID 0x8001 UUID 00000000-0000-0000-0000-000000000000",
        "[kernel] ffa discover: the SPMC reports 7 partition descriptors",
        "[kernel] ffa ping: 0x8001 answered in ",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// Without FF-A, and with a secure world that stays busy.
const NO_FFA: &[&str] = &[
    "init",
    "ffa status",
    "ffa list",
    "ffa discover",
    "ffa ping 0x8001",
    "poweroff 7",
];

fn no_ffa_expected() -> Vec<String> {
    lines(&[
        "[kernel] init: arm-ffa: waiting on secure-monitor-ready",
        "[kernel] init: ffa-echo: waiting on ffa-root-probed",
        "[kernel] init: condition secure-monitor-ready: not signalled",
        "[kernel] init: condition ffa-root-probed: not signalled",
        "[kernel] init: 0 ready, 0 failed, 11 waiting, 0 timed out, 0 unbound, 0 not probed; settled",
        "[kernel] ffa status: root Waiting, no FF-A session",
        "[kernel] ffa status: the root waits on secure-monitor-ready: not signalled yet",
        "[kernel] ffa status: the root signals ffa-root-probed once set up or failed (partition drivers wait on it): not signalled yet",
        "[kernel] ffa status: RX/TX size chosen: none, not mapped",
        "[kernel] ffa list: no partitions (root Waiting)",
        "[kernel] error: FF-A is not set up (the FF-A root is Waiting); see ffa status and init",
        "[kernel] error: unknown partition '0x8001'",
        "[kernel] poweroff: switching the system off, status 7",
        "[secure] [fw] PSCI SYSTEM_OFF, status 7",
    ])
}

/// With an FF-A root that failed (`FFA_RXTX_MAP` denied): what `init` and
/// `ffa status` say, and that the console stays up. Under
/// `exit-when-settled` this boot exits with status 3; here the script
/// powers off with that status itself.
const ROOT_DOWN: &[&str] = &[
    "init",
    "ffa status",
    "ffa discover",
    "ffa ping 0x8001",
    "poweroff 3",
];

fn root_down_expected() -> Vec<String> {
    lines(&[
        "[kernel] ERROR boot: over, but the FF-A root is not up: RootDown(Failed(Status(Denied)))",
        "[kernel] console> init",
        "[kernel] init: arm-ffa: failed (RESERVE)",
        "[kernel] init: ffa-echo: failed (NODEVICE)",
        "[kernel] init: ffa-preempted-echo: failed (NODEVICE)",
        "[kernel] init: condition ffa-root-ready: not signalled",
        "[kernel] init: condition ffa-root-probed: signalled",
        "[kernel] init: 0 ready, 9 failed, 0 waiting, 0 timed out, 2 unbound, 0 not probed; settled",
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Failed(Status(Denied)), no FF-A session",
        "[kernel] ffa status: the root signals ffa-root-probed once set up or failed (partition drivers wait on it): signalled",
        "[kernel] ffa status: RX/TX size chosen: none, not mapped",
        "[kernel] ffa list: no partitions (root Failed(Status(Denied)))",
        "[kernel] console> ffa discover",
        "[kernel] error: FF-A is not set up (the FF-A root is Failed(Status(Denied))); see ffa status and init",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] error: unknown partition '0x8001'",
        "[kernel] poweroff: switching the system off, status 3",
        "[secure] [fw] PSCI SYSTEM_OFF, status 3",
    ])
}

/// What each SPMC personality of the model shows through the console.
const PERSONALITY: &[&str] = &[
    "ffa status",
    "ffa info 0x8001",
    "ffa discover",
    "ffa discover --count",
    "ffa discover 00000000-0000-0000-0000-00000000beef",
    "ffa ping 0x8001",
    "ffa send64 0x8001 0x1_0000_0001 2",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1",
    "init",
    "ffa share 0x8001 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
];

fn hafnium_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 7 partitions",
        "[kernel] ffa status: RX/TX size asked for: the minimum (the SPMC's granule); the buffers hold 4096 bytes",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC maps at most 1 pages",
        "[kernel] ffa status: the SPMC offers 6 optional ABIs: FFA_MSG_SEND_DIRECT_REQ2 FFA_PARTITION_INFO_GET_REGS FFA_MEM_SHARE FFA_MEM_LEND FFA_NOTIFICATION_BIND FFA_MSG_SEND2",
        "[kernel] console> ffa info 0x8001",
        "[kernel] arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 4 properties 0x301 direct-receive req2-receive aarch64 driver ffa-echo",
        "[kernel] arm-ffa-1: kind: a PE endpoint (a partition that runs) with 4 execution contexts",
        "[kernel] arm-ffa-1: properties 0x301 read as FF-A v1.3 defines them (the SPMC gave v1.3's 48-byte descriptors, newer than the negotiated version)",
        "[kernel] arm-ffa-1: v1.3: live activation false, needs a CPU rendezvous for it false, SMC64 CPU cycle management ABIs false",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 yes",
        "[kernel] console> ffa discover",
        "[kernel] ffa discover: ID 0x8003 UUID b4399eff-6a76-400b-bfa8-2c063889c6ee contexts 1 properties 0x301",
        "[kernel] ffa discover: the SPMC reports 7 partition descriptors for UUID 00000000-0000-0000-0000-000000000000 now (7 of them on the bus, which holds 7 from boot)",
        "[kernel] ffa discover: the SPMC counts 7 partition descriptors",
        "[kernel] console> ffa discover 00000000-0000-0000-0000-00000000beef",
        "[kernel] error: ffa discover failed: Status(InvalidParameters)",
        "[kernel] ffa ping: 0x8001 answered in ",
        "x1=0x80010000 x2=0x0 x3=0x100000001 x4=0x2",
        "[kernel] ffa send2: 0x8001 answered in ",
        "[kernel] init: 10 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound, 0 not probed; settled",
        // Hafnium's handles are slot indices; the boot's donation keeps slot 0.
        "[kernel] ffa share: handle 0x1: 1 pages at 0x",
        "[kernel] ffa memcheck: handle 0x1: partition 0x8001 retrieved 4096 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] ffa reclaim: handle 0x1: 1 pages at 0x",
        "[kernel] ffa mem: memory handle 0x1: share to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// Under OP-TEE's SPMC, OP-TEE itself is 0x8001 and the echo partition 0x8002.
const OP_TEE_PERSONALITY: &[&str] = &[
    "ffa status",
    "ffa info 0x8001",
    "ffa discover",
    "ffa discover --count",
    "ffa discover 00000000-0000-0000-0000-00000000beef",
    "ffa ping 0x8002",
    "ffa send64 0x8002 0x1_0000_0001 2",
    "ffa send2 0x8002 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1",
    "init",
    "ffa share 0x8002 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
];

fn op_tee_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Ready, FF-A v1.1 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 8 partitions",
        "[kernel] ffa status: the client asks for v1.2",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC states no maximum",
        "[kernel] ffa status: the SPMC offers 3 optional ABIs: FFA_MEM_SHARE FFA_MEM_LEND FFA_NOTIFICATION_BIND; RX/TX granule 4096 bytes",
        // OP-TEE itself: first, at 0x8001, direct requests both ways.
        "[kernel] console> ffa info 0x8001",
        "[kernel] arm-ffa-1: kind: a PE endpoint (a partition that runs) with 4 execution contexts",
        "[kernel] arm-ffa-1: properties 0x103 read as FF-A v1.1 defines them",
        "[kernel] arm-ffa-1: v1.3: live activation, CPU rendezvous, SMC64 CPU cycle management: not reported (properties read as v1.1)",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 DIRECT_REQ2 needs FF-A v1.2",
        "[kernel] ffa discover: ID 0x8001 UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b contexts 4 properties 0x103",
        "[kernel] ffa discover: the SPMC reports 8 partition descriptors",
        "[kernel] ffa discover: the SPMC counts 8 partition descriptors",
        // OP-TEE answers a UUID it does not know with none, not an error.
        "[kernel] ffa discover: the SPMC reports 0 partition descriptors for UUID 00000000-0000-0000-0000-00000000beef now",
        "[kernel] ffa ping: 0x8002 answered in ",
        "x1=0x80020000 x2=0x0 x3=0x100000001 x4=0x2",
        "[kernel] error: not supported at the negotiated version: FFA_MSG_SEND_DIRECT_REQ2 needs FF-A v1.2, this session negotiated v1.1",
        "[kernel] init: 11 ready, 0 failed, 0 waiting, 0 timed out, 0 unbound, 0 not probed; settled",
        // OP-TEE's handles carry bit 44; v1.1 descriptors. Handle 0 is the
        // OP-TEE driver's argument page, still shared.
        "[kernel] ffa share: handle 0x100000000001: 1 pages at 0x",
        "[kernel] ffa memcheck: handle 0x100000000001: partition 0x8002 retrieved 4096 bytes",
        "[kernel] ffa reclaim: handle 0x100000000001: 1 pages at 0x",
        "[kernel] ffa mem: memory handle 0x100000000000: share to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Shared",
        "[kernel] ffa mem: memory handle 0x100000000001: share to 0x8002 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

fn tf_a_el3_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 7 partitions",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC states no maximum",
        "[kernel] ffa status: the SPMC offers 2 optional ABIs: FFA_MEM_SHARE FFA_MEM_LEND; RX/TX granule 4096 bytes",
        "[kernel] console> ffa info 0x8001",
        "[kernel] arm-ffa-1: properties 0x101 read as FF-A v1.2 defines them",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 the SPMC does not offer FFA_MSG_SEND_DIRECT_REQ2",
        "[kernel] ffa discover: the SPMC reports 7 partition descriptors",
        "[kernel] ffa discover: the SPMC counts 7 partition descriptors",
        "[kernel] error: ffa discover failed: Status(InvalidParameters)",
        "[kernel] ffa ping: 0x8001 answered in ",
        "x1=0x80010000 x2=0x0 x3=0x100000001 x4=0x2",
        "[kernel] error: not supported by the SPMC: it does not offer FFA_MSG_SEND_DIRECT_REQ2",
        "[kernel] init: 9 ready, 0 failed, 0 waiting, 0 timed out, 2 unbound, 0 not probed; settled",
        // TF-A 2.12's EL3 SPMC takes memory transactions only from v1.0/v1.1 callers.
        "[kernel] console> ffa share 0x8001 1",
        "[kernel] WARN ffa: FFA_MEM_SHARE_64 refused: INVALID_PARAMETERS (an SPMC that takes memory transactions only from v1.0/v1.1 callers, as TF-A 2.12's EL3 SPMC, answers this at v1.2: request v1.1 for it)",
        "[kernel] error: ffa share: refused: Status(InvalidParameters); the pages are back in the pool",
        ", 16 free, the longest free run 16 pages",
        "[kernel] ffa mem: memory (no handle): share to 0x8001, 1 pages in 1 range(s): Refused(Status(InvalidParameters))",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// The model answering as the personality `kind` names.
const fn personality(kind: &'static [Fault]) -> SecureWorld {
    SecureWorld::Model(FirmwareSettings {
        faults: kind,
        trace: false,
        enter_normal_world_at_el1: false,
    })
}

const BUSY: &[&str] = &["ffa ping 0x8001", "ffa ping 0x8001"];

fn busy_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> ffa ping 0x8001",
        "still Busy after 8 retries",
        " us: RetriesExhausted",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] error: ffa ping: partition 0x8001 failed after ",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// `reboot`, the one command a session cannot go on after.
fn reboot_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("reboot now"),
        Step::line("reboot"),
    ]
}

fn reboot_expected() -> Vec<String> {
    lines(&[
        "[kernel] error: usage: reboot",
        "[kernel] console> reboot",
        "[kernel] reboot: resetting the system",
        "[secure] [fw] PSCI SYSTEM_RESET: ending the run",
    ])
}

/// Line editing, an overlong line, Ctrl-C and binary garbage.
fn editing_script() -> Vec<Step> {
    let garbage = garbage(3000);
    let overlong = "x".repeat(500);
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::bytes(b"versiox\x7fn\r", 1),
        Step::bytes(b"ffa lisx\x08t\r\n", 1),
        Step::bytes(b"junk\x15init\r", 1),
        Step::bytes(b"in\x1b[A\x1b[1;5D\x1bOPit\r", 1),
        Step::bytes(b"\r", 1),
        Step::bytes(b"poweroff\x03", 1),
        Step::bytes(format!("{overlong}\r").as_bytes(), 1),
        Step::bytes(
            format!("{overlong}{}version\r", "\x7f".repeat(500)).as_bytes(),
            1,
        ),
        Step::bytes(&garbage, lines_ended(&garbage)),
        Step::bytes(b"\r", 1),
        Step::line("ffa ping 0x8001"),
        Step::line("console"),
        Step::line("poweroff"),
    ]
}

fn editing_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> version",
        "[kernel] version: qemu-virt-board",
        "[kernel] console> ffa list",
        "[kernel] arm-ffa-1: ID 0x8001",
        "[kernel] console> init",
        "[kernel] init: arm-ffa: ready",
        "[kernel] console> init",
        "[kernel] console: line cancelled",
        "[kernel] error: line too long (500 characters, at most 384); discarded",
        "[kernel] console> version",
        " bytes that are not text (printable ASCII)",
        "[kernel] console> ffa ping 0x8001",
        "[kernel] ffa ping: 0x8001 answered in ",
        " cancelled, 0 with lost input; UART: 0 overruns, 0 garbled bytes",
        "[kernel] console> poweroff",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// Deterministic pseudo-random bytes, all 256 values (xorshift).
pub fn garbage(length: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// How many lines `bytes` end in the console's line editor (so how many
/// prompts it answers them with): each CR, each LF not right after a CR,
/// each Ctrl-C.
pub fn lines_ended(bytes: &[u8]) -> usize {
    let mut ended = 0;
    let mut after_carriage_return = false;
    for &byte in bytes {
        match byte {
            b'\r' | 0x03 => ended += 1,
            b'\n' if !after_carriage_return => ended += 1,
            _ => {}
        }
        after_carriage_return = byte == b'\r';
    }
    ended
}

/// Lines of the burst: distinct unknown commands between real ones.
fn burst_lines() -> Vec<String> {
    (0..300)
        .map(|index| match index % 3 {
            0 => "ffa ping 0x8001".to_string(),
            1 => format!("burst-{index:04}"),
            _ => "ffa list".to_string(),
        })
        .collect()
}

fn burst_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::burst(&burst_lines()),
        Step::line("console"),
        Step::line("poweroff"),
    ]
}

fn burst_expected() -> Vec<String> {
    let lines = burst_lines();
    let typed: usize = lines.iter().map(|line| line.len() + 1).sum::<usize>() + "console\r".len();
    let mut expected: Vec<String> = lines
        .iter()
        .map(|line| format!("[kernel] console> {line}"))
        .collect();
    expected.push(format!(
        "[kernel] console: received {typed} bytes, {} commands; discarded 0 too long, 0 not text (0 bytes), 0 cancelled, 0 with lost input; UART: 0 overruns, 0 garbled bytes",
        lines.len() + 1
    ));
    expected.push("[secure] [fw] PSCI SYSTEM_OFF, status 0".into());
    expected
}

const PROTECTED: &[&str] = &[
    "version",
    "init",
    "ffa status",
    "ffa ping 0x8001",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 5",
    "ffa discover",
    "ffa share 0x8001 2",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa lend 0x8001 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
];

fn protected_expected() -> Vec<String> {
    lines(&[
        "[kernel] version: qemu-virt-board 0.1.0, protected mode (EL2 FF-A proxy)",
        "[kernel] init: ffa-proxy: ready, provides proxy-finalised",
        "[kernel] init: condition ffa-root-probed: signalled",
        "[kernel] init: condition proxy-finalised: signalled",
        "[kernel] init: 11 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound, 0 not probed; settled",
        "[kernel] ffa status: the root waits on proxy-finalised: signalled",
        "[kernel] ffa ping: 0x8001 answered in ",
        "[kernel] error: not supported by the SPMC: it does not offer FFA_MSG_SEND_DIRECT_REQ2",
        "[kernel] ffa discover: the SPMC reports 7 partition descriptors",
        // Memory through the proxy: shared, checked by the partition,
        // reclaimed; lent (unmapped from the kernel's stage 2), reclaimed.
        "[kernel] console> ffa share 0x8001 2",
        "[kernel] INFO el2 proxy: share of 2 page(s) in 1 range(s) checked and given, forwarded from the proxy's TX: handle 0x100000000, complete",
        " shared with 0x8001 (read-write), 1 fragment(s), holding pattern P; scratch 1 of 4",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] INFO el2 proxy: FFA_MEM_RECLAIM of handle 0x100000000: the monitor agreed; the share's 2 page(s) are the host's again",
        " are the kernel's again, holding pattern Q (the partition's reply)",
        "[kernel] console> ffa lend 0x8001 1",
        "(unmapped from the host's stage 2), forwarded from the proxy's TX: handle 0x100000001, complete",
        "[kernel] ffa memcheck: handle 0x100000001: partition 0x8001 retrieved 4096 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] INFO el2 proxy: FFA_MEM_RECLAIM of handle 0x100000001: the monitor agreed; the lend's 1 page(s) are the host's again",
        "[kernel] ffa mem: 4 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0x100000001: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

const TF_A: &[&str] = &[
    "init",
    "ffa status",
    "ffa list",
    "ffa info 0x8001",
    "ffa discover",
    "ffa discover --count",
    "ffa ping 0x8001",
    "ffa send 0x8001 1 2 3 4 5",
    "ffa send64 0x8001 0x1_0000_0000 7",
    "ffa send2 0x8001 fa791f17-febd-4861-81d0-4b5dae9cb9cb 1",
    "ffa share 0x8001 1",
    "ffa mem",
];

fn tf_a_expected() -> Vec<String> {
    lines(&[
        // Real TF-A hosts one partition: the second echo driver has nothing to drive.
        "[kernel] init: ffa-echo: ready",
        "[kernel] init: ffa-preempted-echo: unbound: nothing to drive",
        "[kernel] init: 2 ready, 0 failed, 0 waiting, 0 timed out, 9 unbound, 0 not probed; settled",
        "[kernel] ffa status: root Ready, FF-A v1.2 (SMCCC 1.5), own ID 0x0000, RX/TX 4096 bytes (1 pages), 1 partitions",
        "[kernel] ffa status: the SPMC offers 2 optional ABIs: FFA_MEM_SHARE FFA_MEM_LEND; RX/TX granule 4096 bytes",
        "[kernel] arm-ffa-1: ID 0x8001 UUID fa791f17-febd-4861-81d0-4b5dae9cb9cb contexts 32 properties 0x101 direct-receive aarch64 driver ffa-echo",
        "[kernel] arm-ffa-1: reaches it: DIRECT_REQ_32 yes, DIRECT_REQ_64 yes, DIRECT_REQ2 the SPMC does not offer FFA_MSG_SEND_DIRECT_REQ2",
        "[kernel] ffa discover: the SPMC reports 1 partition descriptors",
        "[kernel] ffa discover: the SPMC counts 1 partition descriptors",
        "[kernel] ffa ping: 0x8001 answered in ",
        "w1=0x80010000 w2=0x0 w3=0x1 w4=0x2 w5=0x3 w6=0x4 w7=0x5",
        "x1=0x80010000 x2=0x0 x3=0x100000000 x4=0x7",
        "[kernel] error: not supported by the SPMC: it does not offer FFA_MSG_SEND_DIRECT_REQ2",
        // The real EL3 SPMC refuses memory from a v1.2 caller (tf-a-spmc-console-memory asks for v1.1).
        "[kernel] console> ffa share 0x8001 1",
        "[kernel] error: ffa share: refused: Status(InvalidParameters); the pages are back in the pool",
        "[kernel] ffa mem: memory (no handle): share to 0x8001, 1 pages in 1 range(s): Refused(Status(InvalidParameters))",
        "[kernel] poweroff: switching the system off, status 0",
        "[secure] [sp] DIRECT_REQ_32 from 0x0000: echo",
    ])
}

/// Memory from the console against a healthy model: share, check,
/// reclaim, share again; lend, check, reclaim; every memory error.
const MEMORY: &[&str] = &[
    "ffa mem",
    "ffa share 0x8001 2",
    "ffa mem",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa share 0x8001 2",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa lend 0x8001 3",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa reclaim 0xfffffffe",
    "ffa reclaim 0x1234",
    "ffa memcheck 0x1234",
    "ffa share 0x8001 16",
    "ffa share 0x8001 0",
    "ffa lend 0x8001 lots",
    "ffa share 0x9999 1",
    "ffa reclaim not-a-handle",
    "ffa share 0x8002 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
];

fn memory_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: page pool: 16 pages at 0x",
        // The boot's transactions (the echo driver's memory checks), as the report lists them.
        "[kernel] ffa mem: 3 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: memory handle 0x100000000: donate to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Donated",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] console> ffa share 0x8001 2",
        " shared with 0x8001 (read-write), 1 fragment(s), holding pattern P; scratch 1 of 4",
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: 4 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0x100000001: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Shared",
        "[kernel] ffa mem: scratch regions: 1 of 4 held",
        " shared with 0x8001, 1 fragment(s); the kernel may read and write them, holding pattern P",
        "[kernel] console> ffa memcheck 0x100000001",
        "[kernel] ffa memcheck: handle 0x100000001: partition 0x8001 retrieved 8192 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] console> ffa reclaim 0x100000001",
        "[kernel] INFO ffa: FFA_MEM_RECLAIM of handle 0x100000001: the shared region is the kernel's again",
        " are the kernel's again, holding pattern Q (the partition's reply); back in the pool (15 of 16 pages free)",
        // The same pages again, with a new handle.
        "[kernel] console> ffa share 0x8001 2",
        "[kernel] ffa share: handle 0x100000002: 2 pages at 0x",
        "[kernel] console> ffa memcheck 0x100000002",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] console> ffa reclaim 0x100000002",
        "[kernel] ffa reclaim: handle 0x100000002: 2 pages at 0x",
        "[kernel] console> ffa lend 0x8001 3",
        " lent to 0x8001 (read-write), 1 fragment(s), holding pattern P; scratch 1 of 4",
        "[kernel] ffa lend: the kernel cannot touch the pages until ffa reclaim 0x100000003 succeeds",
        "[kernel] console> ffa memcheck 0x100000003",
        "[kernel] ffa memcheck: handle 0x100000003: partition 0x8001 retrieved 12288 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] ffa memcheck: the kernel cannot read lent pages; ffa reclaim 0x100000003 shows what they hold",
        "[kernel] console> ffa reclaim 0x100000003",
        "[kernel] INFO ffa: FFA_MEM_RECLAIM of handle 0x100000003: the lent region is the kernel's again",
        " are the kernel's again, holding pattern Q (the partition's reply); back in the pool (15 of 16 pages free)",
        "[kernel] console> ffa reclaim 0xfffffffe",
        "[kernel] error: unknown memory handle '0xfffffffe': not a scratch region of the console's (the client's record: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed); ffa mem lists them",
        "[kernel] error: unknown memory handle '0x1234': the console holds no scratch region with it; ffa mem lists them",
        "[kernel] error: unknown memory handle '0x1234': the console holds no scratch region with it; ffa mem lists them",
        "[kernel] error: ffa share: page pool exhausted: no run of 16 free pages (15 of 16 pages free, the longest run 15)",
        "[kernel] error: bad number '0': expected a page count from 1 to 64",
        "[kernel] error: bad number 'lots': expected a page count from 1 to 64",
        "[kernel] error: unknown partition '0x9999'",
        "[kernel] error: bad number 'not-a-handle': expected a 64-bit memory handle such as 0xfffffffe",
        "[kernel] console> ffa share 0x8002 1",
        " shared with 0x8002 (read-write)",
        "[kernel] error: not supported by partition 0x8002: it runs in AArch32, so 64-bit direct requests do not reach it",
        "[kernel] console> ffa reclaim 0x100000004",
        " are the kernel's again, holding pattern P; back in the pool (15 of 16 pages free)",
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: 7 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0x100000003: lend to 0x8001 (1 receiver(s)), 3 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: memory handle 0x100000004: share to 0x8002 (1 receiver(s)), 1 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] poweroff: switching the system off, status 0",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// A lent region whose first reclaim the relayer denies.
const MEMORY_DENIED: &[&str] = &[
    "ffa lend 0x8001 2",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
    "ffa reclaim $handle",
    "ffa mem",
];

fn memory_denied_expected() -> Vec<String> {
    lines(&[
        // The boot's two reclaims go through (the fault lets them).
        "[kernel] INFO ffa: FFA_MEM_RECLAIM of handle 0xfffffffe: the shared region is the kernel's again",
        "[kernel] INFO ffa: FFA_MEM_RECLAIM of handle 0xffffffff: the lent region is the kernel's again",
        "[kernel] console> ffa lend 0x8001 2",
        "[kernel] ffa lend: handle 0x100000001: 2 pages at 0x",
        "[kernel] console> ffa memcheck 0x100000001",
        "found pattern P, wrote pattern Q and relinquished them",
        "[kernel] console> ffa reclaim 0x100000001",
        "[kernel] WARN ffa: FFA_MEM_RECLAIM of handle 0x100000001: DENIED, a borrower still holds it; it stays lent",
        "[kernel] error: ffa reclaim: handle 0x100000001: DENIED: a borrower still holds the memory; it stays lent (scratch 1); reclaim it once the partition relinquishes it",
        "[kernel] console> ffa mem",
        ", 13 free, the longest free run 13 pages",
        "[kernel] ffa mem: memory handle 0x100000001: lend to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Lent",
        "[kernel] ffa mem: scratch regions: 1 of 4 held",
        " lent to 0x8001, 1 fragment(s); the kernel cannot touch them until ffa reclaim succeeds, expected to hold pattern Q",
        "[kernel] ffa mem: scratch 1: the last reclaim was refused: Status(Denied)",
        "[kernel] console> ffa reclaim 0x100000001",
        "[kernel] INFO ffa: FFA_MEM_RECLAIM of handle 0x100000001: the lent region is the kernel's again",
        " are the kernel's again, holding pattern Q (the partition's reply); back in the pool (15 of 16 pages free)",
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: memory handle 0x100000001: lend to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] poweroff: switching the system off, status 0",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// Memory from the console against real TF-A, the kernel asking for v1.1
/// (TF-A 2.12's EL3 SPMC takes memory transactions only from v1.0/v1.1
/// callers).
const TF_A_MEMORY: &[&str] = &[
    "ffa status",
    "ffa mem",
    "ffa share 0x8001 2",
    "ffa mem",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa share 0x8001 2",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa lend 0x8001 1",
    "ffa memcheck $handle",
    "ffa reclaim $handle",
    "ffa mem",
];

fn tf_a_memory_expected() -> Vec<String> {
    lines(&[
        "[kernel] ffa status: root Ready, FF-A v1.1 (SMCCC 1.5), own ID 0x0000, RX/TX 4096 bytes (1 pages), 1 partitions",
        "[kernel] ffa status: the SPMC offers 2 optional ABIs: FFA_MEM_SHARE FFA_MEM_LEND",
        // The boot's share and lend (the echo driver's checks), from TF-A's first handles.
        "[kernel] ffa mem: 2 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0xffffffc0: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: memory handle 0xffffffc1: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
        "[kernel] console> ffa share 0x8001 2",
        "[kernel] ffa share: handle 0xffffffc2: 2 pages at 0x",
        "[kernel] ffa mem: memory handle 0xffffffc2: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.1 layout, 1 fragment(s): Shared",
        "[kernel] console> ffa memcheck 0xffffffc2",
        "[kernel] ffa memcheck: handle 0xffffffc2: partition 0x8001 retrieved 8192 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] console> ffa reclaim 0xffffffc2",
        " are the kernel's again, holding pattern Q (the partition's reply); back in the pool (16 of 16 pages free)",
        "[kernel] console> ffa share 0x8001 2",
        "[kernel] ffa share: handle 0xffffffc3: 2 pages at 0x",
        "[kernel] ffa memcheck: the kernel read pattern Q back from the shared pages",
        "[kernel] console> ffa reclaim 0xffffffc3",
        "[kernel] console> ffa lend 0x8001 1",
        "[kernel] ffa lend: handle 0xffffffc4: 1 pages at 0x",
        "[kernel] ffa memcheck: handle 0xffffffc4: partition 0x8001 retrieved 4096 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them",
        "[kernel] console> ffa reclaim 0xffffffc4",
        " are the kernel's again, holding pattern Q (the partition's reply)",
        "[kernel] ffa mem: 5 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0xffffffc4: lend to 0x8001 (1 receiver(s)), 1 pages in 1 range(s), v1.1 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] poweroff: switching the system off, status 0",
        // Our partition saw the console's patterns (P of scratch regions 1 to 3) and tags.
        "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc2, sender 0x0000, tag 0xc0de0001, type share, read-write access",
        "[secure] [sp] 8192 bytes hold pattern 0x5eedc0de00000001",
        "[secure] [sp] FFA_MEM_RELINQUISH of handle 0xffffffc2: done",
        "[secure] [sp] FFA_MEM_RETRIEVE_REQ_64: handle 0xffffffc4, sender 0x0000, tag 0xc0de0003, type lend, read-write access",
        "[secure] [sp] 4096 bytes hold pattern 0x5eedc0de00000003",
    ])
}

/// The test pseudo TA of the model's OP-TEE.
const TEST_PTA: &str = "5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001";

/// The `optee` commands against the model as OP-TEE's SPMC. An invocation
/// answers after the prompt (it is split-phase), so the script waits for
/// its result before it types on.
fn optee_script() -> Vec<Step> {
    let invoke = format!("optee invoke {TEST_PTA} 0 2 3");
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("help optee"),
        Step::line("optee version"),
        Step::line("optee devices"),
        Step::line(&invoke),
        Step::WaitFor("optee invoke: command 0 of".into()),
        Step::line("optee invoke 01234567-89ab-cdef-0123-456789abcdef 0 1 1"),
        Step::WaitFor("optee invoke: open session failed".into()),
        Step::line("optee invoke not-a-uuid 0 1 2"),
        Step::line(&format!("optee invoke {TEST_PTA} 0 2")),
        Step::line(&format!("optee invoke {TEST_PTA} 0x1_0000_0000 1 2")),
        Step::line("poweroff"),
    ]
}

/// The `tpm` commands against the model's TPM: each answer comes after the
/// prompt (the TPM answers from the driver's alarm), so the script waits
/// for it before the next command.
fn tpm_session() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("tpm"),
        Step::line("tpm pcrread 0"),
        Step::WaitFor("tpm pcrread: PCR 0 =".into()),
        Step::line("tpm pcrread"),
        Step::WaitFor("tpm pcrread: PCR 23 =".into()),
        Step::line("tpm random 40"),
        Step::WaitFor("tpm random: 40 bytes:".into()),
        Step::line("tpm random 65"),
        Step::line("tpm pcrread 24"),
        Step::line("tpm log"),
        Step::line("poweroff"),
    ]
}

fn optee_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> help optee",
        "[kernel] help: optee version - OP-TEE's partition, API and OS versions",
        "[kernel] help: optee invoke <uuid> <command> <a> <b> - open a session to <uuid>",
        "[kernel] console> optee version",
        "[kernel] optee: partition 0x8001: API v1.0, OP-TEE 4.4, build ID 0x4d4f444c",
        "[kernel] optee: capabilities 0x1, 4 RPC parameters, 4 call slot(s); Ready",
        "[kernel] console> optee devices",
        "[kernel] optee: 1 device(s)",
        "[kernel] optee: optee-ta-5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001",
        "[kernel] console> optee invoke 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001 0 2 3",
        "[kernel] optee invoke: command 0 of 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001: success, out a=5 (0x5) b=1",
        "[kernel] console> optee invoke 01234567-89ab-cdef-0123-456789abcdef 0 1 1",
        "[kernel] optee invoke: open session failed: Tee { code: 4294901768, origin: Tee }",
        "[kernel] console> optee invoke not-a-uuid 0 1 2",
        "[kernel] error: bad argument 'not-a-uuid': expected a TA UUID such as 5ce0c0de-0b7e-4e5a-9f3c-7e57ba5e0001",
        "[kernel] error: usage: optee invoke <uuid> <command> <a> <b>",
        "[kernel] error: bad number '0x1_0000_0000': expected a 32-bit command ID",
        "[kernel] console> poweroff",
    ])
}

fn tpm_expected() -> Vec<String> {
    lines(&[
        "[kernel] tpm: measured boot Verified, 11 events logged, 11 extended, 0 lost",
        "[kernel] tpm: PCR 0: TPM ",
        "[kernel] tpm: PCR 1: TPM ",
        "[kernel] tpm pcrread: PCR 0 = ",
        "[kernel] tpm pcrread: PCR 1 = 3a8ebef734c878b4aa3b67f8efe9973cb27665e7fec13ac68097a99b7a479b6b (update counter 11)",
        "[kernel] tpm pcrread: PCR 17 = ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "[kernel] tpm pcrread: PCR 23 = 0000000000000000000000000000000000000000000000000000000000000000",
        // The model's documented DRBG: SHA-256("ffa-model TPM2_GetRandom DRBG v1" || 0 || ...).
        "[kernel] tpm random: 40 bytes: ",
        "[kernel] error: bad number '65': expected a count from 1 to 64",
        "[kernel] error: bad number '24': expected a PCR from 0 to 23",
        "[kernel] tpm log: 853 bytes",
        "[kernel] tpm log: event 0: PCR 0 EV_EFI_PLATFORM_FIRMWARE_BLOB2 sha256 ",
        "[kernel] tpm log: event 8: PCR 1 EV_NONHOST_CONFIG sha256 75976a91476ee8957591c814bf5f40c7e76283bbccb9a137cc441862c095e7e8 data 108001000903000017b862a418064faf86b3089a58353861",
        "[kernel] tpm log: 0300: ",
        "[kernel] poweroff: switching the system off, status 0",
    ])
}

/// Without a TPM partition, the `tpm` commands say so.
fn tpm_absent_session() -> Vec<Step> {
    session(&["tpm", "tpm pcrread 0", "tpm random 4", "tpm log"])
}

fn tpm_absent_expected() -> Vec<String> {
    lines(&[
        "[kernel] tpm: measured boot Failed(NoTpm(NoPartition)), 8 events logged, 0 extended, 0 lost",
        "[kernel] error: not supported: there is no TPM",
        "[kernel] error: not supported: there is no TPM",
        "[kernel] tpm log: 671 bytes",
        "[kernel] poweroff: switching the system off, status 0",
    ])
}

/// Notifications and indirect messages from the console, against the
/// model's notifier partition (0x8004): it lets the normal world set its
/// notifications 0-15 and sets the same IDs back, and sends every indirect
/// message back unchanged.
fn notify_script() -> Vec<Step> {
    vec![
        Step::WaitFor(BOOT_OVER.into()),
        Step::line("help ffa notify"),
        Step::line("help ffa msg"),
        Step::line("ffa notify"),
        Step::line("ffa notify bind 0x8004 5"),
        Step::line("ffa notify set 0x8004 5"),
        Step::WaitFor("ffa notify: notification 0x20 arrived from 0x8004".into()),
        Step::line("ffa notify bind 0x8004 6 --per-vcpu"),
        Step::line("ffa notify get"),
        Step::line("ffa notify"),
        Step::line("ffa msg send 0x8004 hello from the console"),
        // The notifier echoes it back: wait for the kernel to have it.
        Step::WaitFor("ffa: indirect message 3 received".into()),
        Step::line("ffa msg"),
        Step::line("ffa msg send 0x8004 0x48690aff"),
        Step::WaitFor("ffa: indirect message 4 received".into()),
        Step::line("ffa msg recv"),
        Step::line("ffa notify unbind 0x8004 5"),
        Step::line("ffa notify unbind 0x8004 6"),
        // The errors.
        Step::line("ffa notify unbind 0x8004 1"),
        Step::line("ffa notify unbind 0x8004 5"),
        Step::line("ffa notify bind 0x8004 16"),
        Step::line("ffa notify set 0x8004 20"),
        Step::line("ffa notify set 0x8004 1 9"),
        Step::line("ffa notify bind 0x8001 3"),
        Step::line("ffa notify bind 0x8004 64"),
        Step::line("ffa notify bind 0x8004 3 --global"),
        Step::line("ffa notify bogus"),
        Step::line("ffa msg send 0x8002 hi"),
        Step::line("ffa msg send 0x8004 0x123"),
        Step::line("ffa msg send 0x9999 hi"),
        Step::line("ffa msg send 0x8004"),
        Step::line("ffa notify"),
        Step::line("poweroff"),
    ]
}

fn notify_expected() -> Vec<String> {
    lines(&[
        "[kernel] console> help ffa notify",
        "[kernel] help: ffa notify bind <id> <bit> [--per-vcpu] - binds notification <bit> of this endpoint to partition <id> (FFA_NOTIFICATION_BIND), delivered to the console",
        "[kernel] help: ffa notify get - FFA_NOTIFICATION_GET on this core's vCPU now",
        "[kernel] console> help ffa msg",
        "[kernel] help: ffa msg send <id> <text|0xhex> - sends an indirect message (FFA_MSG_SEND2) with the negotiated version's header",
        "[kernel] console> ffa notify",
        "[kernel] ffa notify: SRI 8, ",
        "[kernel] ffa notify: binding 0x206 from 0x8004 (global), a driver's",
        "[kernel] ffa notify: binding 0x10000000000 from 0x8004 (per-vCPU), a driver's",
        "[kernel] ffa notify: binding 0x10000 from 0x8010 (global), a driver's",
        "[kernel] ffa notify: 3 bindings, 0 of 4 console bindings held; 0 IDs reached the console",
        "[kernel] console> ffa notify bind 0x8004 5",
        "[kernel] ffa notify bind: notification 5 (0x20) of this endpoint bound to 0x8004 (global), delivered to the console",
        "[kernel] console> ffa notify set 0x8004 5",
        "[kernel] ffa notify set: notification 5 (0x20) of 0x8004 set (global)",
        // The notifier sets it back; the SRI brings it to the console.
        "[kernel] ffa notify: notification 0x20 arrived from 0x8004 (global), bound at the console",
        "[kernel] console> ffa notify bind 0x8004 6 --per-vcpu",
        "[kernel] ffa notify bind: notification 6 (0x40) of this endpoint bound to 0x8004 (per-vCPU), delivered to the console",
        "[kernel] console> ffa notify get",
        "[kernel] ffa notify get: vCPU 0: partitions' notifications 0x0, framework 0x0 (nothing pending)",
        "[kernel] console> ffa notify",
        "[kernel] ffa notify: binding 0x20 from 0x8004 (global), bound at the console",
        "[kernel] ffa notify: binding 0x40 from 0x8004 (per-vCPU), bound at the console",
        "[kernel] ffa notify: 5 bindings, 2 of 4 console bindings held; 1 IDs reached the console",
        "[kernel] ffa notify: the last to reach the console: 0x20 from 0x8004 (global)",
        "[kernel] console> ffa msg send 0x8004 hello from the console",
        "[kernel] ffa msg send: 22 bytes to 0x8004 (FFA_MSG_SEND2, v1.2 header of 40 bytes, service 5b06cbcc-7ca5-40e5-b0ed-c99b2df0c2dd)",
        // The boot's two and the echo.
        "[kernel] INFO ffa: indirect message 3 received: 22 bytes from 0x8004",
        "[kernel] console> ffa msg",
        "[kernel] ffa msg: indirect messages 3 received, 2 sent, 0 dropped",
        "[kernel] ffa msg: the last received: 22 bytes from 0x8004 for service 00000000-0000-0000-0000-000000000000: \"hello from the console\"",
        "[kernel] console> ffa msg send 0x8004 0x48690aff",
        "[kernel] ffa msg send: 4 bytes to 0x8004 (FFA_MSG_SEND2, v1.2 header of 40 bytes",
        "[kernel] INFO ffa: indirect message 4 received: 4 bytes from 0x8004",
        "[kernel] console> ffa msg recv",
        "[kernel] ffa msg: indirect messages 4 received, 3 sent, 0 dropped",
        "[kernel] ffa msg: the last received: 4 bytes from 0x8004 for service 00000000-0000-0000-0000-000000000000: [0x48, 0x69, 0x0a, 0xff]",
        "[kernel] console> ffa notify unbind 0x8004 5",
        "[kernel] ffa notify unbind: notification 5 (0x20) from 0x8004 unbound",
        "[kernel] ffa notify unbind: notification 6 (0x40) from 0x8004 unbound",
        "[kernel] error: ffa notify unbind: notification 1 from 0x8004 is a driver's binding; only the console's bindings are unbound here (ffa notify shows them)",
        "[kernel] error: ffa notify unbind: notification 5 from 0x8004 is not bound; only the console's bindings are unbound here (ffa notify shows them)",
        "[kernel] error: ffa notify bind: notification 16 is bound already (to 0x8010); ffa notify shows the bindings",
        "[kernel] error: ffa notify set (FFA_NOTIFICATION_SET) failed: Status(Denied)",
        "[kernel] error: ffa notify set: partition 0x8004 has 4 execution contexts, so no vCPU 9",
        "[kernel] error: not supported by partition 0x8001: it does not receive notifications (properties bit 3)",
        "[kernel] error: bad number '64': expected a notification ID from 0 to 63",
        "[kernel] error: bad argument '--global': expected --per-vcpu",
        "[kernel] error: unknown command 'ffa notify bogus'; help ffa lists the ffa commands",
        "[kernel] error: not supported by partition 0x8002: it does not receive indirect messages (properties bit 2)",
        "[kernel] error: bad argument '0x123': expected text, or bytes in hex after 0x (an even number of digits, such as 0x48690a)",
        "[kernel] error: unknown partition '0x9999'",
        "[kernel] error: usage: ffa msg send <id> <text|0xhex>",
        "[kernel] console> ffa notify",
        "[kernel] ffa notify: 3 bindings, 0 of 4 console bindings held; 1 IDs reached the console",
        "[kernel] console> poweroff",
        // What reached the secure world, in order: nothing for a refused line
        // but the SET the notifier denies.
        "[secure] [smc] FFA_NOTIFICATION_BIND x1=0x80040000 x2=0x0 x3=0x20 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_NOTIFICATION_SET x1=0x8004 x2=0x0 x3=0x20 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_NOTIFICATION_GET x1=0x0 x2=0x5 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x20 x3=0x0",
        "[secure] [smc] FFA_NOTIFICATION_BIND x1=0x80040000 x2=0x1 x3=0x40 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_NOTIFICATION_GET x1=0x0 x2=0x5 x3=0x0 x4=0x0 -> FFA_SUCCESS_32 x1=0x0 x2=0x0 x3=0x0",
        "[secure] [smc] FFA_MSG_SEND2 x1=0x0 x2=0x0 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_RX_RELEASE",
        "[secure] [smc] FFA_MSG_SEND2 x1=0x0 x2=0x0 x3=0x0 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_RX_RELEASE",
        "[secure] [smc] FFA_NOTIFICATION_UNBIND x1=0x80040000 x2=0x0 x3=0x20 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_NOTIFICATION_UNBIND x1=0x80040000 x2=0x0 x3=0x40 x4=0x0 -> FFA_SUCCESS_32",
        "[secure] [smc] FFA_NOTIFICATION_SET x1=0x8004 x2=0x0 x3=0x100000 x4=0x0 -> FFA_ERROR DENIED (-6)",
        "[secure] [fw] PSCI SYSTEM_OFF, status 0",
    ])
}

/// The console scenarios, in the order `cargo xtask test` runs them.
pub const CONSOLE_SCENARIOS: &[ConsoleScenario] = &[
    ConsoleScenario {
        name: "console-tpm",
        description: "the tpm commands against the model's TPM: measured boot's state and PCRs compared, PCR 0 and all 24 PCRs read from the TPM, 40 random bytes (two TPM2_GetRandom), the event log decoded and in hex; numbers out of range refused",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: tpm_session,
        expected_lines: tpm_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-tpm-absent",
        description: "no TPM partition: tpm says measured boot had no TPM, tpm pcrread and tpm random are refused clearly, tpm log shows what was logged but never extended",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::TpmAbsent,
                amount: None,
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: tpm_absent_session,
        expected_lines: tpm_absent_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-commands",
        description: "every console command once against a healthy model: help, version, init, ffa status/list/info/discover/ping/send/send64/send2, ffa share/memcheck/reclaim/lend/mem, ffa notify, ffa msg, console, poweroff",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: || session(COMMANDS),
        expected_lines: commands_expected,
        forbidden_lines: CLEAN_SESSION,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-errors",
        description: "every error a user can make: unknown command and subcommand, usage, bad number, bad argument, unknown partition, not supported by the partition, too many words",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: || session(ERRORS),
        expected_lines: errors_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-older-spmc",
        description: "a v1.0 SPMC: what the negotiated version lacks (REQ2, count-only discovery) is refused with the version named; descriptors without UUIDs",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::SpmcVersion1_0,
                amount: None,
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: || session(OLDER_SPMC),
        expected_lines: older_spmc_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-without-ffa",
        description: "no FF-A: init and ffa status say what waits on what, calls are refused clearly, poweroff passes its status",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::FfaAbsent,
                amount: None,
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: || session(NO_FFA),
        expected_lines: no_ffa_expected,
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING],
        exit_status: 7,
    },
    ConsoleScenario {
        name: "console-root-down",
        description: "an FF-A root that failed (FFA_RXTX_MAP denied): init shows every driver failed with the root and ffa-root-probed signalled, ffa status says why, FF-A commands are refused; the console stays up and poweroff passes status 3",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::RxtxMapDenied,
                amount: None,
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: || session(ROOT_DOWN),
        expected_lines: root_down_expected,
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING],
        exit_status: 3,
    },
    ConsoleScenario {
        name: "console-spmc-hafnium",
        description: "the model answering as Hafnium (v1.3): ffa status shows the 1-page RX/TX maximum, ffa info reads the properties as v1.3 (48-byte descriptors), discovery through registers, REQ2 works; share, memcheck and reclaim with a slot-index handle",
        board_features: &[],
        secure_world: personality(&[Fault {
            kind: FaultKind::Hafnium,
            amount: None,
        }]),
        script: || session(PERSONALITY),
        expected_lines: hafnium_expected,
        forbidden_lines: PERSONALITY_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-spmc-op-tee",
        description: "the model answering as OP-TEE (v1.1 whatever is asked): no RX/TX maximum stated, OP-TEE itself at 0x8001 and the echo partition at 0x8002, v1.1 properties, an unknown UUID discovers nothing instead of an error, REQ2 refused at the version; share, memcheck and reclaim in the v1.1 layout with a bit-44 handle (handle 0 is the OP-TEE driver's argument page)",
        board_features: &[],
        secure_world: personality(&[Fault {
            kind: FaultKind::OpTee,
            amount: None,
        }]),
        script: || session(OP_TEE_PERSONALITY),
        expected_lines: op_tee_expected,
        forbidden_lines: PERSONALITY_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-spmc-tf-a-el3",
        description: "the model answering as TF-A's EL3 SPMC: no REQ2 or PARTITION_INFO_GET_REGS (discovery through RX), REQ2 refused as not offered, 64-bit requests echo; a share from a v1.2 caller refused (INVALID_PARAMETERS) with the reason",
        board_features: &[],
        secure_world: personality(&[Fault {
            kind: FaultKind::TfAEl3Spmc,
            amount: None,
        }]),
        script: || session(PERSONALITY),
        expected_lines: tf_a_el3_expected,
        forbidden_lines: PERSONALITY_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-busy-partition",
        description: "a partition that stays BUSY: ffa ping gives up after the retry bound with a clear error, and the console carries on",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::BusyStorm,
                amount: Some(1000),
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: || session(BUSY),
        expected_lines: busy_expected,
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING],
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-reboot",
        description: "reboot resets the system through PSCI SYSTEM_RESET (the test firmware ends the run, as QEMU runs with -no-reboot)",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: reboot_script,
        expected_lines: reboot_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-line-editing",
        description: "backspace/DEL, Ctrl-U, arrow keys, CR LF, an empty line, Ctrl-C, a line longer than the buffer, 3000 bytes of binary garbage: the console recovers each time",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: editing_script,
        expected_lines: editing_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-burst",
        description: "300 lines typed at once, faster than the console runs them: input waits in the UART ring and FIFO, every line runs in order, nothing is lost",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: burst_script,
        expected_lines: burst_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-protected-mode",
        description: "protected mode: init shows the proxy's entry and condition, and the console's FF-A calls go through the EL2 proxy (which does not pass REQ2 on); the console's memory commands work through it: share, memcheck, reclaim, lend (unmapped from the kernel's stage 2), memcheck, reclaim",
        board_features: &["protected-mode"],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: || session(PROTECTED),
        expected_lines: protected_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-optee",
        description: "the optee commands against the model as OP-TEE's SPMC: help, version (partition, API and OS versions, build ID, capabilities), devices (what enumeration found), an invocation of the test pseudo TA's ADD (session opened, value in and out, session closed; its result comes after the prompt), an unknown TA, a bad UUID, a missing argument, a command ID out of range",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault::new(FaultKind::OpTee)],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: optee_script,
        expected_lines: optee_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-memory",
        description: "memory from the console against a healthy model: ffa share, ffa mem, ffa memcheck (the partition retrieves, checks pattern P, writes Q, relinquishes), ffa reclaim, share again; lend, check, reclaim; every memory error (unknown handle, a boot handle, pool exhausted, bad numbers, unknown partition, a partition without 64-bit requests)",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings::HEALTHY),
        script: || session(MEMORY),
        expected_lines: memory_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-notifications",
        description: "ffa notify and ffa msg against the model's notifier partition: bind a notification at the console, set it (the notifier sets it back, the SRI brings it to the console), a per-vCPU binding, GET on demand, indirect messages as text and hex echoed back (the v1.2 header), unbind; each error: a driver's binding, one not bound, bound already, an ID the notifier refuses, a vCPU out of range, partitions without notifications or indirect messages, bad numbers and hex",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            trace: true,
            ..FirmwareSettings::HEALTHY
        }),
        script: notify_script,
        expected_lines: notify_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "console-memory-reclaim-denied",
        description: "a lent region whose reclaim the model denies (memory-reclaim-denied after the boot's two reclaims): it stays lent, ffa mem says so, the next reclaim brings it back holding the partition's pattern Q",
        board_features: &[],
        secure_world: SecureWorld::Model(FirmwareSettings {
            faults: &[Fault {
                kind: FaultKind::MemoryReclaimDenied,
                amount: Some(2),
            }],
            trace: false,
            enter_normal_world_at_el1: false,
        }),
        script: || session(MEMORY_DENIED),
        expected_lines: memory_denied_expected,
        forbidden_lines: CONSOLE_FORBIDDEN,
        exit_status: 0,
    },
    ConsoleScenario {
        name: "tf-a-spmc-console-memory",
        description: "real TF-A (SPMD + EL3 SPMC), the kernel asking for v1.1: the console shares pool pages with our partition, which retrieves them, checks the pattern, writes the other and relinquishes; reclaim, share again, lend, check, reclaim",
        board_features: &["ffa-v1-1"],
        secure_world: SecureWorld::TfA(Configuration::Spmc),
        script: || session(TF_A_MEMORY),
        expected_lines: tf_a_memory_expected,
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, "[sp] FATAL", " ERROR "],
        exit_status: 0,
    },
    ConsoleScenario {
        name: "tf-a-spmc-console",
        description: "real TF-A (SPMD + EL3 SPMC): the console lists, discovers and pings our partition, sends 32- and 64-bit requests; REQ2 is refused as not offered, and a share from this v1.2 caller is refused by the SPMC (INVALID_PARAMETERS), its pages back in the pool",
        board_features: &[],
        secure_world: SecureWorld::TfA(Configuration::Spmc),
        script: || session(TF_A),
        expected_lines: tf_a_expected,
        forbidden_lines: &["panicked", MALFORMED_FRAME_WARNING, "[sp] FATAL"],
        exit_status: 0,
    },
];

/// The check across the fault scenarios.
pub const AGREEMENT: &str = "console-agrees-with-boot-report";
/// What it shows.
pub const AGREEMENT_DESCRIPTION: &str = "for every fault and SPMC personality scenario's secure world: ffa status, ffa list and ffa info show what the boot report shows (RX/TX size included), ffa mem its memory transactions (handles, states), init what the init queue's boot log shows (unbound drivers, ffa-root-probed)";

/// The console scenario called `name` (or the agreement check).
pub fn find(name: &str) -> Option<&'static str> {
    CONSOLE_SCENARIOS
        .iter()
        .map(|scenario| scenario.name)
        .chain(std::iter::once(AGREEMENT))
        .find(|known| *known == name)
}

/// Whether the scenario needs real TF-A.
pub fn needs_tf_a(scenario: &ConsoleScenario) -> bool {
    matches!(scenario.secure_world, SecureWorld::TfA(_))
}

/// Builds the board, boots the scenario's secure world and types its script.
pub fn run(
    workspace: &Workspace,
    firmware_binary: &std::path::Path,
    peer: Option<&Peer>,
    scenario: &ConsoleScenario,
    echo: bool,
) -> Result<ScenarioReport> {
    let (directory, kernel) =
        scenarios::prepare_kernel(workspace, scenario.name, scenario.board_features)?;
    let layout_problems = scenarios::el2_layout_problems(&kernel)?;
    let (bios, config_blob) = match scenario.secure_world {
        SecureWorld::Model(settings) => {
            let blob = directory.join("firmware-config.bin");
            fs::write(&blob, settings.config_blob()?)
                .with_context(|| format!("cannot write {}", blob.display()))?;
            (firmware_binary.to_path_buf(), Some(blob))
        }
        SecureWorld::TfA(configuration) => {
            let peer = peer.ok_or_else(|| {
                crate::error::Error::new("this console scenario needs real TF-A (cargo xtask peer)")
            })?;
            (peer.flash_image(configuration, &kernel, &directory)?, None)
        }
    };
    let invocation = QemuInvocation {
        bios,
        kernel,
        config_blob,
        secure_log: directory.join("secure.log"),
        cores: 1,
    };
    let expected = (scenario.expected_lines)();
    let script = LineScript::new((scenario.script)());
    scenarios::boot_typing_and_check(
        workspace,
        &invocation,
        DEFAULT_TIMEOUT,
        echo,
        Input::Script(Box::new(script)),
        |ending, log| {
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            let mut problems = layout_problems;
            problems.extend(scenarios::check_log(
                scenario.exit_status,
                &expected,
                scenario.forbidden_lines,
                ending,
                log,
            ));
            problems
        },
    )
}

/// A script that lists the partitions, asks for the status and each
/// partition the boot report names, shows the init queue and the memory
/// transactions, then powers off.
struct AgreementScript {
    stage: usize,
    infos: VecDeque<String>,
}

impl Script for AgreementScript {
    fn next(&mut self, log: &[String]) -> Next {
        self.stage += 1;
        match self.stage {
            1 => Next::Step(Step::WaitFor(BOOT_OVER.into())),
            2 => Next::Step(Step::line("ffa list")),
            3 => {
                // The report came before `ffa list` ran: it is all in the log.
                self.infos = boot_report(log)
                    .partitions
                    .iter()
                    .filter_map(|fields| fields.split_whitespace().nth(2).map(str::to_string))
                    .map(|id| format!("ffa info {id}"))
                    .collect();
                Next::Step(Step::line("ffa status"))
            }
            _ => match self.infos.pop_front() {
                Some(line) => Next::Step(Step::line(&line)),
                None if self.stage < 1000 => {
                    self.stage = 1000;
                    Next::Step(Step::line("init"))
                }
                None if self.stage == 1001 => Next::Step(Step::line("ffa mem")),
                None if self.stage == 1002 => Next::Step(Step::line("poweroff")),
                None => Next::Done,
            },
        }
    }
}

/// What the boot report says: its session line (after `root`) and one
/// entry per partition (`arm-ffa-N: ID ... driver ...`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReportFacts {
    /// `Ready, FF-A v1.2 (SMCCC 1.2), own ID ...` or `Waiting, no FF-A session`.
    pub root: Option<String>,
    /// `arm-ffa-1: ID 0x8001 UUID ... driver ffa-echo`.
    pub partitions: Vec<String>,
    /// The memory transactions made at boot: `3 memory transaction(s)`,
    /// then `memory handle 0xfffffffe: share to 0x8001 ...: Reclaimed` each.
    pub memory: Vec<String>,
    /// The init queue's counts when it last settled (`3 ready, 0 failed,
    /// 0 waiting, 0 timed out, 0 unbound`).
    pub settled: Option<String>,
}

/// The boot report's facts in `log`.
pub fn boot_report(log: &[String]) -> ReportFacts {
    let mut facts = ReportFacts::default();
    for message in log.iter().filter_map(|line| kernel_message(line)) {
        if let Some(rest) = message.strip_prefix("ffa report: ") {
            if let Some(root) = rest.strip_prefix("root ") {
                facts.root = Some(root.to_string());
            } else if rest.starts_with("arm-ffa-") {
                facts.partitions.push(rest.to_string());
            } else if is_memory_line(rest) {
                facts.memory.push(rest.to_string());
            }
        } else if let Some(counts) = message.strip_prefix("init: settled: ") {
            // Before the console runs `init` (whose lines carry no level).
            if facts.root.is_none() {
                facts.settled = Some(counts.to_string());
            }
        }
    }
    facts
}

/// Whether a boot report line (after `ffa report: `) or an `ffa mem` line
/// (after `ffa mem: `) is one of the memory transaction lines they share.
fn is_memory_line(line: &str) -> bool {
    line.starts_with("memory ") || line.ends_with(" memory transaction(s)")
}

/// Where the console's output of `command` is: the lines after its echo up
/// to the next prompt.
fn console_output<'l>(log: &'l [String], command: &str) -> Vec<Vec<&'l str>> {
    let echo = format!("[kernel] console> {command}");
    let mut outputs = Vec::new();
    let mut lines = log.iter();
    while lines.any(|line| *line == echo) {
        let output: Vec<&str> = lines
            .by_ref()
            .take_while(|line| !crate::script::is_prompt(line))
            .filter_map(|line| line.strip_prefix("[kernel] "))
            .collect();
        outputs.push(output);
    }
    outputs
}

/// What is wrong with the console's account of the bus, against the boot
/// report (an empty list if they agree).
pub fn disagreements(log: &[String]) -> Vec<String> {
    let report = boot_report(log);
    let mut problems = Vec::new();
    let Some(root) = &report.root else {
        return vec!["no boot report in the log".into()];
    };
    let list = console_output(log, "ffa list");
    let Some(list) = list.first() else {
        return vec!["no output of `ffa list`".into()];
    };
    let listed: Vec<&str> = list
        .iter()
        .copied()
        .filter(|line| line.starts_with("arm-ffa-"))
        .collect();
    if listed != report.partitions {
        problems.push(format!(
            "ffa list shows {listed:?}, the boot report {:?}",
            report.partitions
        ));
    }
    if report.partitions.is_empty()
        && !list
            .iter()
            .any(|line| line.starts_with("ffa list: no partitions"))
    {
        problems.push(format!(
            "ffa list does not say there are no partitions: {list:?}"
        ));
    }
    match console_output(log, "ffa status").first() {
        Some(status) if status.first() == Some(&format!("ffa status: root {root}").as_str()) => {}
        Some(status) => problems.push(format!(
            "ffa status begins {:?}, the boot report says root {root}",
            status.first()
        )),
        None => problems.push("no output of `ffa status`".into()),
    }
    if let Some(status) = console_output(log, "ffa status").first() {
        // The size set-up chose: the report's `RX/TX N bytes (P pages)`.
        let chosen = match root.split_once("RX/TX ") {
            Some((_, rest)) => rest
                .split_once(')')
                .map(|(size, _)| format!("ffa status: RX/TX size chosen: {size})")),
            None => Some("ffa status: RX/TX size chosen: none".to_string()),
        };
        if let Some(chosen) = chosen {
            if !status.iter().any(|line| line.starts_with(&chosen)) {
                problems.push(format!(
                    "ffa status does not say {chosen:?}, as the boot report's root {root:?} does: {status:?}"
                ));
            }
        }
    }
    for partition in &report.partitions {
        let Some(id) = partition.split_whitespace().nth(2) else {
            continue;
        };
        let outputs = console_output(log, &format!("ffa info {id}"));
        match outputs.first() {
            Some(info) if info.first() == Some(&partition.as_str()) => {
                let slot = partition.split(':').next().unwrap_or_default();
                if !info
                    .iter()
                    .any(|line| line.starts_with(&format!("{slot}: kind: ")))
                {
                    problems.push(format!("ffa info {id} does not say what kind of ID it is"));
                }
            }
            Some(info) => problems.push(format!(
                "ffa info {id} begins {:?}, the boot report says {partition:?}",
                info.first()
            )),
            None => problems.push(format!("no output of `ffa info {id}`")),
        }
    }
    problems.extend(init_disagreements(log, &report));
    problems.extend(memory_disagreements(log, &report));
    problems
}

/// What is wrong with the console's `ffa mem` against the boot report: the
/// memory transactions it lists (before the console made any) must be the
/// report's, line for line.
fn memory_disagreements(log: &[String], report: &ReportFacts) -> Vec<String> {
    let Some(mem) = console_output(log, "ffa mem").into_iter().next() else {
        return vec!["no output of `ffa mem`".into()];
    };
    let shown: Vec<&str> = mem
        .iter()
        .filter_map(|line| line.strip_prefix("ffa mem: "))
        .filter(|line| is_memory_line(line))
        .collect();
    if shown != report.memory {
        return vec![format!(
            "ffa mem shows the memory transactions {shown:?}, the boot report {:?}",
            report.memory
        )];
    }
    Vec::new()
}

/// What is wrong with the console's `init` against the boot log: its
/// counts must be those the queue settled with, and the FF-A root's
/// conditions signalled as the report's root state says.
fn init_disagreements(log: &[String], report: &ReportFacts) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(init) = console_output(log, "init").into_iter().next() else {
        return vec!["no output of `init`".into()];
    };
    match &report.settled {
        Some(counts) => {
            let expected = format!("init: {counts}, ");
            if !init.iter().any(|line| line.starts_with(&expected)) {
                problems.push(format!(
                    "init does not count {counts:?} as the boot log did: {init:?}"
                ));
            }
        }
        None => problems.push("the boot log has no `init: settled:` line".into()),
    }
    let root = report.root.as_deref().unwrap_or_default();
    let (ready, probed) = if root.starts_with("Ready") {
        (true, true)
    } else if root.starts_with("Failed") {
        (false, true)
    } else {
        (false, false)
    };
    for (condition, signalled) in [("ffa-root-ready", ready), ("ffa-root-probed", probed)] {
        let expected = format!(
            "init: condition {condition}: {}",
            if signalled {
                "signalled"
            } else {
                "not signalled"
            }
        );
        if !init.contains(&expected.as_str()) {
            problems.push(format!(
                "init does not say {expected:?} for root {root:?}: {init:?}"
            ));
        }
    }
    problems
}

/// Board features an agreement boot keeps from a fault scenario: the image
/// is the plain or the protected-mode board, the client perhaps asking for
/// v1.1 or v1.0 or sharing in fragments. A scenario's other features make
/// its own test image (a deliberate panic, the OP-TEE self-test, hostile
/// host calls...): the agreement boot leaves them out and keeps the
/// scenario's secure world (`exit-when-settled` is dropped for the console).
const AGREEMENT_FEATURES: &[&str] = &["protected-mode", "ffa-v1-1", "ffa-v1-0", "memory-fragments"];

/// The board features of `scenario`'s agreement boot: its own, less those
/// that make a test image of their own (see [`AGREEMENT_FEATURES`]).
/// A scenario's protected-mode image is still a protected-mode image.
pub fn agreement_features(scenario: &scenarios::Scenario) -> Vec<&'static str> {
    let mut features: Vec<&'static str> = scenario
        .board_features
        .iter()
        .copied()
        .filter(|feature| AGREEMENT_FEATURES.contains(feature))
        .collect();
    let protected = scenario
        .board_features
        .iter()
        .any(|feature| implies_protected_mode(feature));
    if protected && !features.contains(&"protected-mode") {
        features.insert(0, "protected-mode");
    }
    features
}

/// Whether the qemu-virt board's `feature` turns `protected-mode` on with
/// it, as the board's Cargo.toml says (`feature = [..., "protected-mode"]`).
fn implies_protected_mode(feature: &str) -> bool {
    const MANIFEST: &str = include_str!("../../../boards/qemu-virt/Cargo.toml");
    MANIFEST
        .lines()
        .filter_map(|line| line.split_once(" = "))
        .any(|(name, value)| name.trim() == feature && value.contains("\"protected-mode\""))
}

/// Boots every model scenario's secure world (every fault and every SPMC
/// personality of the model) with the console and checks that the console
/// agrees with the boot report; one report for all. Two scenarios that come
/// to the same console image and secure world are booted once.
pub fn run_agreement(
    workspace: &Workspace,
    firmware_binary: &std::path::Path,
    echo: bool,
) -> Result<ScenarioReport> {
    let started = std::time::Instant::now();
    let mut problems = Vec::new();
    let mut log = Vec::new();
    let mut timestamps = Vec::new();
    let mut last = None;
    let mut checked = 0usize;
    let mut booted: Vec<(Vec<&str>, Vec<u8>)> = Vec::new();
    for fault_scenario in SCENARIOS {
        let features = agreement_features(fault_scenario);
        let config = fault_scenario.firmware.config_blob()?;
        if booted.iter().any(|(seen_features, seen_config)| {
            *seen_features == features && *seen_config == config
        }) {
            continue;
        }
        booted.push((features.clone(), config.clone()));
        let name = format!("{AGREEMENT}/{}", fault_scenario.name);
        let (directory, kernel) = scenarios::prepare_kernel(workspace, &name, &features)?;
        let layout_problems = scenarios::el2_layout_problems(&kernel)?;
        let blob = directory.join("firmware-config.bin");
        fs::write(&blob, config).with_context(|| format!("cannot write {}", blob.display()))?;
        let invocation = QemuInvocation {
            bios: firmware_binary.to_path_buf(),
            kernel,
            config_blob: Some(blob),
            secure_log: directory.join("secure.log"),
            cores: 1,
        };
        let script = AgreementScript {
            stage: 0,
            infos: VecDeque::new(),
        };
        let report = scenarios::boot_typing_and_check(
            workspace,
            &invocation,
            DEFAULT_TIMEOUT,
            echo,
            Input::Script(Box::new(script)),
            |ending, log| {
                let mut problems = layout_problems;
                problems.extend(scenarios::check_log(
                    0,
                    &[],
                    &["panicked", MALFORMED_FRAME_WARNING],
                    ending,
                    log,
                ));
                problems.extend(disagreements(log));
                problems
            },
        )?;
        checked += 1;
        problems.extend(
            report
                .problems
                .iter()
                .map(|problem| format!("{}: {problem}", fault_scenario.name)),
        );
        if !report.problems.is_empty() {
            log.push(format!("--- {} ---", fault_scenario.name));
            log.extend(report.log.iter().cloned());
            timestamps.extend(report.timestamps.iter().copied());
            timestamps.push(None);
        }
        last = Some(report);
    }
    let last = last.ok_or_else(|| crate::error::Error::new("no fault scenario to check"))?;
    if problems.is_empty() {
        log.push(format!(
            "[xtask] the console agrees with the boot report in {checked} fault and personality scenarios"
        ));
        timestamps.push(None);
    }
    Ok(ScenarioReport {
        problems,
        log,
        timestamps,
        timeline_file: last.timeline_file,
        log_file: last.log_file,
        duration: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| line.to_string()).collect()
    }

    #[test]
    fn names_are_unique_across_every_table() {
        let mut names: Vec<&str> = CONSOLE_SCENARIOS
            .iter()
            .map(|scenario| scenario.name)
            .collect();
        names.push(AGREEMENT);
        names.extend(SCENARIOS.iter().map(|scenario| scenario.name));
        names.extend(
            crate::peer_scenarios::PEER_SCENARIOS
                .iter()
                .map(|scenario| scenario.name),
        );
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(find(AGREEMENT), Some(AGREEMENT));
        assert_eq!(find("console-burst"), Some("console-burst"));
    }

    #[test]
    fn scripts_end_the_run_after_waiting_for_the_boot() {
        for scenario in CONSOLE_SCENARIOS {
            let steps = (scenario.script)();
            assert_eq!(
                steps.first(),
                Some(&Step::WaitFor(BOOT_OVER.into())),
                "{}",
                scenario.name
            );
            assert!(
                [Step::line("poweroff"), Step::line("reboot")].contains(steps.last().unwrap()),
                "{}",
                scenario.name
            );
            assert!(!(scenario.expected_lines)().is_empty());
        }
    }

    #[test]
    fn garbage_holds_every_kind_of_byte_and_its_line_ends_are_counted() {
        let garbage = garbage(3000);
        for byte in [0u8, b'\r', b'\n', 0x03, 0x1b, 0x7f, 0xff, b'a'] {
            assert!(garbage.contains(&byte), "{byte:#x}");
        }
        assert_eq!(lines_ended(b"a\rb\r\nc\nd\x03\r\r\n"), 6);
        assert!(lines_ended(&garbage) > 10);
    }

    const REPORT: &[&str] = &[
        "[kernel] INFO init: settled: 2 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound (kernel/src/init_queue/report.rs:80)",
        "[kernel] INFO ffa report: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 2 partitions (capsules/ffa/src/report.rs:71)",
        "[kernel] INFO ffa report: arm-ffa-1: ID 0x8001 UUID a contexts 4 properties 0x1 direct-receive driver ffa-echo (capsules/ffa/src/report.rs:86)",
        "[kernel] INFO ffa report: arm-ffa-2: ID 0x8100 UUID b SEPID of an independent peripheral device properties 0x10 driver (none) (capsules/ffa/src/report.rs:86)",
        "[kernel] INFO ffa report: 2 memory transaction(s) (capsules/ffa/src/report.rs:181)",
        "[kernel] INFO ffa report: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed (capsules/ffa/src/report.rs:186)",
        "[kernel] INFO ffa report: memory (no handle): lend to 0x8001, 1 pages in 1 range(s): Refused(Status(NoMemory)) (capsules/ffa/src/report.rs:186)",
        "[kernel] console: ready",
        "[kernel] console> ffa list",
        "[kernel] arm-ffa-1: ID 0x8001 UUID a contexts 4 properties 0x1 direct-receive driver ffa-echo",
        "[kernel] arm-ffa-2: ID 0x8100 UUID b SEPID of an independent peripheral device properties 0x10 driver (none)",
        "[kernel] console: ready",
        "[kernel] console> ffa status",
        "[kernel] ffa status: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 2 partitions",
        "[kernel] ffa status: RX/TX size chosen: 4096 bytes (1 pages): granule 4096 bytes, the SPMC maps at most 16 pages",
        "[kernel] console: ready",
        "[kernel] console> ffa info 0x8001",
        "[kernel] arm-ffa-1: ID 0x8001 UUID a contexts 4 properties 0x1 direct-receive driver ffa-echo",
        "[kernel] arm-ffa-1: kind: a PE endpoint (a partition that runs) with 4 execution contexts",
        "[kernel] arm-ffa-1: ID type PeEndpoint",
        "[kernel] console: ready",
        "[kernel] console> ffa info 0x8100",
        "[kernel] arm-ffa-2: ID 0x8100 UUID b SEPID of an independent peripheral device properties 0x10 driver (none)",
        "[kernel] arm-ffa-2: kind: a SEPID (stream endpoint ID) of an independent peripheral device; it runs nothing, so no message reaches it",
        "[kernel] console: ready",
        "[kernel] console> init",
        "[kernel] init: arm-ffa: ready, provides ffa-root-ready",
        "[kernel] init: ffa-tpm: unbound: nothing to drive",
        "[kernel] init: condition ffa-root-ready: signalled",
        "[kernel] init: condition ffa-root-probed: signalled",
        "[kernel] init: 2 ready, 0 failed, 0 waiting, 0 timed out, 1 unbound, 0 not probed; settled",
        "[kernel] console: ready",
        "[kernel] console> ffa mem",
        "[kernel] ffa mem: page pool: 16 pages at 0x60020000, 15 free, the longest free run 15 pages",
        "[kernel] ffa mem: 2 memory transaction(s)",
        "[kernel] ffa mem: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Reclaimed",
        "[kernel] ffa mem: memory (no handle): lend to 0x8001, 1 pages in 1 range(s): Refused(Status(NoMemory))",
        "[kernel] ffa mem: scratch regions: 0 of 4 held",
        "[kernel] console: ready",
    ];

    #[test]
    fn agreement_holds_when_the_console_repeats_the_report() {
        assert_eq!(disagreements(&log(REPORT)), Vec::<String>::new());
        let facts = boot_report(&log(REPORT));
        assert_eq!(facts.partitions.len(), 2);
        assert!(facts.root.unwrap().starts_with("Ready, FF-A v1.2"));
    }

    /// `REPORT` with line `index` replaced by `line`.
    fn changed(index: usize, line: &str) -> Vec<String> {
        let mut changed = log(REPORT);
        changed[index] = line.into();
        changed
    }

    #[test]
    fn disagreement_is_found_in_list_info_and_status() {
        let mut changed = log(REPORT);
        changed[10] = "[kernel] arm-ffa-2: ID 0x8100 UUID b contexts 2 properties 0x1 direct-receive driver (none)".into();
        changed[13] = "[kernel] ffa status: root Waiting, no FF-A session".into();
        changed[22] = "[kernel] arm-ffa-2: ID 0x8100 UUID c".into();
        let problems = disagreements(&changed);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        let missing = log(&REPORT[..4]);
        assert_eq!(disagreements(&missing), ["no output of `ffa list`"]);
    }

    #[test]
    fn disagreement_is_found_in_the_rx_tx_size_and_the_kind_of_id() {
        let problems = disagreements(&changed(
            14,
            "[kernel] ffa status: RX/TX size chosen: 8192 bytes (2 pages): granule 4096 bytes",
        ));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("RX/TX size chosen: 4096 bytes (1 pages)"));
        let problems = disagreements(&changed(
            23,
            "[kernel] arm-ffa-2: ID type IndependentPeripheral",
        ));
        assert_eq!(
            problems,
            ["ffa info 0x8100 does not say what kind of ID it is"]
        );
    }

    #[test]
    fn disagreement_is_found_in_init_counts_and_the_root_s_conditions() {
        // Unbound counted as failed, say.
        let problems = disagreements(&changed(
            30,
            "[kernel] init: 2 ready, 1 failed, 0 waiting, 0 timed out, 0 unbound, 0 not probed; settled",
        ));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("1 unbound"));
        // The drivers' condition not signalled although the root is ready.
        let problems = disagreements(&changed(
            29,
            "[kernel] init: condition ffa-root-probed: not signalled",
        ));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("ffa-root-probed: signalled"));
        let without_init = log(&REPORT[..25]);
        assert_eq!(
            disagreements(&without_init),
            ["no output of `init`", "no output of `ffa mem`"]
        );
    }

    #[test]
    fn disagreement_is_found_in_the_memory_transactions() {
        // A state the report does not say.
        let problems = disagreements(&changed(
            35,
            "[kernel] ffa mem: memory handle 0xfffffffe: share to 0x8001 (1 receiver(s)), 2 pages in 1 range(s), v1.2 layout, 1 fragment(s): Shared",
        ));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains("ffa mem shows"), "{problems:#?}");
        // A transaction left out, and a count that differs.
        let mut fewer = log(REPORT);
        fewer.remove(36);
        assert_eq!(disagreements(&fewer).len(), 1);
        let problems = disagreements(&changed(34, "[kernel] ffa mem: 3 memory transaction(s)"));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        // The report's memory lines are not partitions.
        assert_eq!(boot_report(&log(REPORT)).memory.len(), 3);
    }

    #[test]
    fn a_failed_root_has_probed_but_is_not_ready() {
        let failed = log(&[
            "[kernel] INFO init: settled: 0 ready, 3 failed, 0 waiting, 0 timed out, 0 unbound (kernel/src/init_queue/report.rs:80)",
            "[kernel] INFO ffa report: root Failed(Status(Denied)), no FF-A session (capsules/ffa/src/report.rs:71)",
            "[kernel] console> ffa list",
            "[kernel] ffa list: no partitions (root Failed(Status(Denied)))",
            "[kernel] console: ready",
            "[kernel] console> ffa status",
            "[kernel] ffa status: root Failed(Status(Denied)), no FF-A session",
            "[kernel] ffa status: RX/TX size chosen: none, not mapped",
            "[kernel] console: ready",
            "[kernel] console> init",
            "[kernel] init: condition ffa-root-ready: not signalled",
            "[kernel] init: condition ffa-root-probed: signalled",
            "[kernel] init: 0 ready, 3 failed, 0 waiting, 0 timed out, 0 unbound, 0 not probed; settled",
            "[kernel] console: ready",
            "[kernel] console> ffa mem",
            "[kernel] ffa mem: page pool: 16 pages at 0x60020000, 16 free, the longest free run 16 pages",
            "[kernel] ffa mem: no FF-A session (the FF-A root is Failed(Status(Denied))): nothing was shared",
            "[kernel] ffa mem: scratch regions: 0 of 4 held",
            "[kernel] console: ready",
        ]);
        assert_eq!(disagreements(&failed), Vec::<String>::new());
    }

    #[test]
    fn an_agreement_boot_drops_a_test_image_s_features_but_not_protected_mode() {
        let optee = scenarios::find("optee-invoke").expect("optee-invoke");
        assert_eq!(agreement_features(optee), Vec::<&str>::new());
        let el2 = scenarios::find("protected-mode-el2-overwrite").expect("el2-overwrite");
        assert_eq!(agreement_features(el2), vec!["protected-mode"]);
        let v1_1 = scenarios::find("memory-tf-a-el3-v1.1").expect("memory-tf-a-el3-v1.1");
        assert_eq!(agreement_features(v1_1), vec!["ffa-v1-1"]);
    }

    #[test]
    fn the_features_that_imply_protected_mode_are_read_from_the_board() {
        for feature in [
            "scenario-el2-overwrite",
            "scenario-host-memory",
            "protected-mode-early-ffa",
        ] {
            assert!(implies_protected_mode(feature), "{feature}");
        }
        for feature in [
            "protected-mode",
            "optee-self-test",
            "scenario-panic",
            "console",
            "no-such-feature",
        ] {
            assert!(!implies_protected_mode(feature), "{feature}");
        }
    }

    #[test]
    fn every_personality_of_the_model_is_in_the_agreement_check() {
        let personalities: Vec<FaultKind> = SCENARIOS
            .iter()
            .flat_map(|scenario| scenario.firmware.faults.iter().map(|fault| fault.kind))
            .filter(|kind| {
                matches!(
                    kind,
                    FaultKind::TfAEl3Spmc | FaultKind::Hafnium | FaultKind::OpTee
                )
            })
            .collect();
        for personality in [FaultKind::TfAEl3Spmc, FaultKind::Hafnium, FaultKind::OpTee] {
            assert!(
                personalities.contains(&personality),
                "{personality:?} is not checked"
            );
        }
        // Hafnium also through the proxy, with a v1.1 host.
        assert!(SCENARIOS
            .iter()
            .any(|scenario| scenario.name == "protected-mode-hafnium-v1-1"));
        // And the console scenarios boot each personality too.
        for personality in [FaultKind::TfAEl3Spmc, FaultKind::Hafnium, FaultKind::OpTee] {
            assert!(CONSOLE_SCENARIOS.iter().any(|scenario| matches!(
                scenario.secure_world,
                SecureWorld::Model(settings)
                    if settings.faults.iter().any(|fault| fault.kind == personality)
            )));
        }
    }

    #[test]
    fn the_agreement_script_asks_for_each_partition_of_the_report() {
        let mut script = AgreementScript {
            stage: 0,
            infos: VecDeque::new(),
        };
        let log = log(REPORT);
        assert_eq!(
            script.next(&log),
            Next::Step(Step::WaitFor(BOOT_OVER.into()))
        );
        assert_eq!(script.next(&log), Next::Step(Step::line("ffa list")));
        assert_eq!(script.next(&log), Next::Step(Step::line("ffa status")));
        assert_eq!(script.next(&log), Next::Step(Step::line("ffa info 0x8001")));
        assert_eq!(script.next(&log), Next::Step(Step::line("ffa info 0x8100")));
        assert_eq!(script.next(&log), Next::Step(Step::line("init")));
        assert_eq!(script.next(&log), Next::Step(Step::line("ffa mem")));
        assert_eq!(script.next(&log), Next::Step(Step::line("poweroff")));
        assert_eq!(script.next(&log), Next::Done);
    }
}
