#![doc = include_str!("../README.md")]
//!
//! What each component does, and the boot order they enforce, is in
//! `ARCHITECTURE.md` at the repository's root.

#![no_std]
#![no_main]

mod tests;

use armv8a::carve_out::CarveOutWindow;
use armv8a::conduit::SecureMonitorCall;
use armv8a::image::KernelImage;
use armv8a::page_pool::StaticPages;
use armv8a::shared_page::SharedPages;
use armv8a::smp::SecondaryCores;
use armv8a::timer::GenericTimer;
use capsule_cores::BringUpConfig;
use capsule_ffa::memory::rules::SpmcRules;
use capsule_ffa::memory::MemoryConfig;
use capsule_ffa::readiness::ReadinessConfig;
use capsule_ffa::version::SupportedVersion;
use capsule_ffa::ClientConfig;
use components::alarm::{AlarmMuxComponent, VirtualAlarmComponent};
use components::boot::BootComponent;
use components::cores::{CoresComponent, PerCoreFfaCheckComponent};
use components::ffa::FfaComponent;
use components::ffa_async::{AsyncFfaComponent, CoreRequestsComponent};
use components::init_queue::InitQueueComponent;
use components::main_loop::MainLoopComponent;
use components::memory::PagePoolComponent;
use components::optee::{OpteeComponent, SelfTestChoice};
use components::readiness::ReadinessComponent;
use components::tpm::{MeasuredBootComponent, TpmComponent};
use components::SetupError;
use ffa_abi::tpm_service::{CrbRegion, QEMU_VIRT_CRB};
use kernel::component::Component;
use kernel::init_queue::ConditionSet;
use kernel::static_init;
use kernel::virtual_alarm::VirtualAlarm;
use qemu_virt::QemuVirt;

/// The alarm each capsule gets: a virtual alarm on the generic timer.
type BoardAlarm = VirtualAlarm<'static, GenericTimer<'static>>;

armv8a::entry!(main, qemu_virt::memory_map::MEMORY_LAYOUT);

/// A virtual alarm of its own on the board's one alarm mux `$alarms`. A
/// macro, not a function: each virtual alarm needs static memory of its
/// own, and each expansion of the `static_buf!` inside has its own.
macro_rules! virtual_alarm {
    ($alarms:expr) => {
        VirtualAlarmComponent::new($alarms).finalize(components::virtual_alarm_component_static!(
            GenericTimer<'static>
        ))
    };
}

/// Capacity of the board's init queue (room for 8 cores' entries).
const INIT_ENTRIES: usize = 24;
/// Readiness conditions the board can declare (two per secondary core).
const INIT_CONDITIONS: usize = 28;
/// Partition devices the FF-A bus can hold.
const FFA_PARTITIONS: usize = 8;
/// Cores that get a request engine of their own (the test firmware's most:
/// QEMU `-smp` up to 8).
const FFA_CORES: usize = 8;
/// Size of each FF-A RX/TX buffer (the minimum granule; the client checks
/// it against what `FFA_FEATURES(RXTX_MAP)` asks for).
const MAILBOX_SIZE: usize = 4096;
/// Notification bindings (and partitions sending indirect messages) the
/// kernel keeps track of.
const NOTIFICATION_BINDINGS: usize = 8;
/// The largest indirect message the kernel receives (the rest are refused).
const MESSAGE_BUFFER: usize = 512;
/// The FF-A client's configuration (readiness asks for the same version):
/// v1.2, or an older version with `ffa-v1-1`/`ffa-v1-0` (a v1.1 host; TF-A
/// 2.12's EL3 SPMC takes memory transactions only from v1.0 and v1.1
/// callers).
///
/// The SPMC rules the client checks before giving memory
/// ([`SpmcRules`]) are a board setting: FF-A gives a caller no way to learn
/// which SPMC answers, so only whoever builds the board for one can say.
/// This board boots under the test firmware in every personality and under
/// real TF-A, so it checks the specification's rules only and lets each
/// SPMC's own refusal speak (the client names the likely cause). A board
/// built for one SPMC sets its rules here, e.g. `SpmcRules::TfAEl3`.
const CLIENT: ClientConfig = ClientConfig {
    requested_version: if cfg!(feature = "ffa-v1-0") {
        SupportedVersion::V1_0
    } else if cfg!(feature = "ffa-v1-1") {
        SupportedVersion::V1_1
    } else {
        SupportedVersion::NEWEST
    },
    memory: MemoryConfig {
        rules: SpmcRules::Specification,
        ..MemoryConfig::DEFAULT
    },
    ..ClientConfig::DEFAULT
};
/// Pages of the pool the kernel shares from: room for the plan (the
/// scattered share takes every other page of twice its ranges).
const POOL_PAGES: usize = if cfg!(feature = "memory-fragments") {
    528
} else {
    16
};

/// Where the TPM partition's CRB is: the region the platform's firmware
/// describes (what an ACPI TPM2 table's control area address or a
/// device-tree node's `reg` would carry), defined once in `ffa-abi` for
/// the test firmware and this board: five 4 KiB pages at 0x5FD0_0000.
const TPM_CRB: CrbRegion = QEMU_VIRT_CRB;
// The CRB must stay clear of protected mode's EL2 carve-out (0x5FE0_0000,
// 64 KiB) and the test firmware's configuration blobs (0x5FF0_0000).
const _: () = assert!(TPM_CRB.base + TPM_CRB.size() <= 0x5FE0_0000);

/// The buffer the secure world writes into (partition information, messages).
static RX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();
/// The buffer the kernel writes for the secure world.
static TX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();
/// Kernel-owned pages lent to the secure world (`kernel::page_pool`).
static POOL: StaticPages<POOL_PAGES> = StaticPages::new();
/// The SMCCC conduit: `SMC` (standard TF-A and the test firmware both use
/// it; in protected mode, EL2 traps it).
static CONDUIT: SecureMonitorCall = SecureMonitorCall;
fn main(boot: armv8a::BootInfo) -> ! {
    defmt::info!(
        "boot: qemu-virt kernel entered at EL{=u8}, device tree at {=u64:#x}",
        boot.entry_exception_level,
        boot.device_tree_address
    );
    let chip = static_init!(QemuVirt<'static>, QemuVirt::new());
    chip.initialise();
    let cores = static_init!(
        SecondaryCores,
        qemu_virt::platform::cores(boot.device_tree_address)
    );

    let queue = InitQueueComponent::<INIT_ENTRIES, INIT_CONDITIONS>::new().finalize(
        components::init_queue_component_static!(INIT_ENTRIES, INIT_CONDITIONS),
    );
    let alarms = AlarmMuxComponent::new(&chip.timer).finalize(
        components::alarm_mux_component_static!(GenericTimer<'static>),
    );
    let readiness = ReadinessComponent::new(
        queue,
        virtual_alarm!(alarms),
        &CONDUIT,
        ReadinessConfig::matching(&CLIENT),
    )
    .finalize(components::readiness_component_static!(BoardAlarm))
    .unwrap_or_else(setup_failed);
    let ffa = FfaComponent::new(
        queue,
        &CONDUIT,
        &RX_BUFFER,
        &TX_BUFFER,
        CLIENT,
        ConditionSet::of(readiness.monitor_ready),
    )
    .finalize(components::ffa_component_static!(FFA_PARTITIONS))
    .unwrap_or_else(setup_failed);
    #[cfg(feature = "protected-mode")]
    let start_cores_after =
        protected_mode::finalize(queue, ffa, &boot, kernel::hil::cores::Cores::count(cores));
    #[cfg(not(feature = "protected-mode"))]
    let start_cores_after = ConditionSet::empty();
    let message_buffer = static_init!([u8; MESSAGE_BUFFER], [0; MESSAGE_BUFFER]);
    let async_ffa = AsyncFfaComponent::new(queue, ffa, alarms, chip, message_buffer)
        .finalize(components::async_ffa_component_static!(
            GenericTimer<'static>,
            FFA_PARTITIONS,
            NOTIFICATION_BINDINGS
        ))
        .unwrap_or_else(setup_failed);
    let core_engines = CoreRequestsComponent::<_, _, FFA_PARTITIONS, FFA_CORES>::new(
        ffa, alarms, cores,
    )
    .finalize(components::core_requests_component_static!(
        GenericTimer<'static>,
        FFA_PARTITIONS,
        FFA_CORES
    ));
    // Per-vCPU notifications of a secondary's vCPU are got on that core.
    async_ffa.notifications.set_core_engines(core_engines);
    let pool = PagePoolComponent::new(&POOL)
        .finalize(components::page_pool_component_static!())
        .unwrap_or_else(setup_failed);
    #[cfg(feature = "test-partition-drivers")]
    test_partitions::finalize_drivers(queue, ffa, chip, alarms, pool, cores);
    let per_core_check = PerCoreFfaCheckComponent::<SecureMonitorCall, FFA_PARTITIONS>::new(ffa)
        .finalize(components::per_core_ffa_check_component_static!());
    let bring_up = CoresComponent::new(
        queue,
        cores,
        virtual_alarm!(alarms),
        BringUpConfig {
            start_after: start_cores_after,
            work: Some(per_core_check.work),
            work_after: ConditionSet::of(ffa.root_ready),
            ..BringUpConfig::DEFAULT
        },
        Some(per_core_check.judge),
    )
    .finalize(components::cores_component_static!(BoardAlarm))
    .unwrap_or_else(setup_failed);
    // OP-TEE (bound by its UUID when the secure world has it), with its
    // device enumeration, console commands and, for the scenarios, the
    // self-test against the model's test pseudo TA.
    let optee = OpteeComponent::new(
        queue,
        ffa,
        pool,
        virtual_alarm!(alarms),
        if cfg!(feature = "optee-self-test") {
            SelfTestChoice::Run
        } else {
            SelfTestChoice::Skip
        },
    )
    .finalize(components::optee_component_static!())
    .unwrap_or_else(setup_failed);
    #[cfg(feature = "test-partition-drivers")]
    test_partitions::finalize_per_cpu(queue, ffa, cores, bring_up.online_conditions());
    #[cfg(not(feature = "test-partition-drivers"))]
    let _ = bring_up;
    let crb = CarveOutWindow::claim(TPM_CRB.base, TPM_CRB.size() as usize)
        .map_err(|error| SetupError::new("claiming the TPM's CRB", error))
        .unwrap_or_else(setup_failed);
    let crb = static_init!(CarveOutWindow, crb);
    let tpm = TpmComponent::new(queue, ffa, crb, virtual_alarm!(alarms))
        .finalize(components::tpm_component_static!())
        .unwrap_or_else(setup_failed);
    let measured_boot = MeasuredBootComponent::new(queue, tpm, ffa, &KernelImage)
        .finalize(components::measured_boot_component_static!())
        .unwrap_or_else(setup_failed);
    let boot_completion = BootComponent::new(queue, readiness, ffa, tests::boot_hooks(cores))
        .finalize(components::boot_component_static!(FFA_PARTITIONS))
        .unwrap_or_else(setup_failed);
    boot_completion
        .add_report_section(tpm.driver)
        .map_err(|error| SetupError::new("adding the TPM to the boot report", error))
        .unwrap_or_else(setup_failed);
    boot_completion
        .add_report_section(measured_boot)
        .map_err(|error| SetupError::new("adding measured boot to the boot report", error))
        .unwrap_or_else(setup_failed);
    boot_completion
        .add_report_section(optee.driver)
        .map_err(|error| SetupError::new("adding OP-TEE to the boot report", error))
        .unwrap_or_else(setup_failed);
    #[cfg(all(feature = "console", not(feature = "exit-when-settled")))]
    console::finalize(chip, queue, ffa, pool, tpm, measured_boot, optee);
    #[cfg(not(all(feature = "console", not(feature = "exit-when-settled"))))]
    let _ = (tpm, measured_boot);

    defmt::info!("boot: entering the main loop");
    MainLoopComponent::new(chip, queue)
        .finalize(components::main_loop_component_static!(QemuVirt<'static>))
        .run()
}

/// The drivers of the test partitions (the model's, and
/// `tools/test-partition` under real TF-A): the echo drivers (and the
/// memory checks), the notifier, scheduling and per-CPU drivers. Left out
/// without `test-partition-drivers`, so that an image for partitions of
/// its own links none of them.
#[cfg(feature = "test-partition-drivers")]
mod test_partitions {
    use super::*;
    use capsule_ffa::drivers::echo::{EchoDriver, PREEMPTED_ECHO_PARTITION_UUID};
    use capsule_ffa::drivers::memory_check::MemoryCheckPlan;
    use capsule_ffa::drivers::notifier::NotifierDriver;
    use capsule_ffa::drivers::per_cpu::PerCpuDriver;
    use capsule_ffa::drivers::scheduling::SchedulingDriver;
    use capsule_ffa::Uuid;
    use components::memory::MemoryCheckComponent;
    use components::partition_driver::PartitionDriverComponent;
    use kernel::hil::cores::Cores;
    use kernel::init_queue::Queue;
    use kernel::page_pool::PagePool;
    use kernel::virtual_alarm::MuxAlarm;

    /// The interrupt the scheduling partition rings while it works: a spare SPI.
    const SCHEDULING_DOORBELL: u32 = 130;
    /// What the echo driver checks with memory: a share, a lend and a donation;
    /// with `memory-fragments` also a share of 256 single-page ranges, whose
    /// descriptor needs two TX buffers.
    const MEMORY_CHECKS: MemoryCheckPlan = if cfg!(feature = "memory-fragments") {
        MemoryCheckPlan::BOOT.with_scattered(256)
    } else {
        MemoryCheckPlan::BOOT
    };
    /// Partitions the second echo driver binds: the test firmware's partition
    /// that is preempted (`FFA_INTERRUPT`/`FFA_YIELD`) before it echoes.
    static PREEMPTED_ECHO_UUIDS: [Uuid; 1] = [PREEMPTED_ECHO_PARTITION_UUID];

    /// The echo drivers (the first with the memory checks, from `pool`),
    /// the notifier (its per-vCPU notification for the last of `cores`)
    /// and the scheduling drivers.
    pub(super) fn finalize_drivers(
        queue: &'static dyn Queue<'static>,
        ffa: components::ffa::Ffa<FFA_PARTITIONS>,
        chip: &'static QemuVirt<'static>,
        alarms: &'static MuxAlarm<'static, GenericTimer<'static>>,
        pool: &'static PagePool<'static>,
        cores: &'static dyn Cores,
    ) {
        let memory_checks = MemoryCheckComponent::new(pool, MEMORY_CHECKS)
            .finalize(components::memory_check_component_static!())
            .unwrap_or_else(setup_failed);
        PartitionDriverComponent::new(
            queue,
            ffa,
            EchoDriver::new().with_memory_checks(memory_checks),
        )
        .finalize(components::partition_driver_component_static!(
            EchoDriver<'static>
        ))
        .unwrap_or_else(setup_failed);
        PartitionDriverComponent::new(
            queue,
            ffa,
            EchoDriver::for_partitions("ffa-preempted-echo", &PREEMPTED_ECHO_UUIDS),
        )
        .finalize(components::partition_driver_component_static!(
            EchoDriver<'static>
        ))
        .unwrap_or_else(setup_failed);
        // The per-vCPU notification for the last core: got on that core.
        let last_core = cores.count().saturating_sub(1) as u16;
        let notifier = NotifierDriver::new(virtual_alarm!(alarms)).with_per_vcpu_on(last_core);
        PartitionDriverComponent::new(queue, ffa, notifier)
            .finalize(components::partition_driver_component_static!(
                NotifierDriver<'static>
            ))
            .unwrap_or_else(setup_failed);
        let scheduling = if cfg!(feature = "scenario-blocking-client") {
            SchedulingDriver::blocking
        } else {
            SchedulingDriver::new
        };
        PartitionDriverComponent::new(
            queue,
            ffa,
            scheduling(virtual_alarm!(alarms), chip, SCHEDULING_DOORBELL),
        )
        .finalize(components::partition_driver_component_static!(
            SchedulingDriver<'static>
        ))
        .unwrap_or_else(setup_failed);
    }

    /// The per-CPU driver, once the secondaries are `online`.
    pub(super) fn finalize_per_cpu(
        queue: &'static dyn Queue<'static>,
        ffa: components::ffa::Ffa<FFA_PARTITIONS>,
        cores: &'static dyn Cores,
        online: ConditionSet,
    ) {
        PartitionDriverComponent::new(queue, ffa, PerCpuDriver::new(cores))
            .after(online)
            .finalize(components::partition_driver_component_static!(
                PerCpuDriver<'static>
            ))
            .unwrap_or_else(setup_failed);
    }
}

/// The console on UART0, with the system, `ffa`, `ffa` memory (scratch
/// regions from the page pool the echo driver shares from), `ffa notify`
/// and `ffa msg` (the notification service), `tpm` and
/// `optee` commands. Not in
/// `exit-when-settled` images: those power off once booted, and their
/// scenarios judge the boot alone.
#[cfg(all(feature = "console", not(feature = "exit-when-settled")))]
mod console {
    use capsule_console::CommandGroup;
    use capsule_tpm::measured_boot::MeasuredBoot;
    use components::console::{
        ConsoleComponent, FfaCommandsComponent, FfaMemoryCommandsComponent,
        FfaNotificationCommandsComponent, SystemCommandsComponent,
    };
    use components::ffa::Ffa;
    use components::optee::Optee;
    use components::tpm::{Tpm, TpmCommandsComponent};
    use kernel::component::Component;
    use kernel::init_queue::Queue;
    use kernel::page_pool::PagePool;
    use kernel::static_init;
    use qemu_virt::psci::Psci;
    use qemu_virt::QemuVirt;

    /// Power control for `reboot` and `poweroff`.
    static PSCI: Psci = Psci;

    /// What `version` says.
    const ABOUT: &str = if cfg!(feature = "protected-mode") {
        concat!(
            env!("CARGO_PKG_NAME"),
            " ",
            env!("CARGO_PKG_VERSION"),
            ", protected mode (EL2 FF-A proxy)"
        )
    } else {
        concat!(
            env!("CARGO_PKG_NAME"),
            " ",
            env!("CARGO_PKG_VERSION"),
            ", direct mode"
        )
    };

    /// Builds the command groups and starts the console.
    pub(super) fn finalize(
        chip: &'static QemuVirt<'static>,
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<{ super::FFA_PARTITIONS }>,
        pool: &'static PagePool<'static>,
        tpm: Tpm,
        measured_boot: &'static MeasuredBoot<'static>,
        optee: Optee,
    ) {
        let system = SystemCommandsComponent::new(queue, &PSCI, ABOUT)
            .finalize(components::system_commands_component_static!());
        let ffa_commands = FfaCommandsComponent::new(ffa, queue, &chip.timer).finalize(
            components::ffa_commands_component_static!({ super::FFA_PARTITIONS }),
        );
        let memory_commands = FfaMemoryCommandsComponent::new(ffa, pool).finalize(
            components::ffa_memory_commands_component_static!({ super::FFA_PARTITIONS }),
        );
        let notification_commands = FfaNotificationCommandsComponent::new(ffa).finalize(
            components::ffa_notification_commands_component_static!({ super::FFA_PARTITIONS }),
        );
        let tpm_commands = TpmCommandsComponent::new(tpm, measured_boot)
            .finalize(components::tpm_commands_component_static!());
        let groups = static_init!(
            [&'static dyn CommandGroup; 6],
            [
                system,
                ffa_commands,
                memory_commands,
                notification_commands,
                tpm_commands,
                optee.commands
            ]
        );
        ConsoleComponent::new(&chip.uart0, groups)
            .finalize(components::console_component_static!())
            .unwrap_or_else(super::setup_failed);
    }
}

/// Protected mode's wiring: the EL2 runtime, the proxy's memory, the order.
#[cfg(feature = "protected-mode")]
mod protected_mode {
    use armv8a::conduit::HypervisorCall;
    use armv8a::el2::El2Runtime;
    use capsule_ffa_proxy::finaliser::{FinaliserConfig, Order};
    use components::ffa::Ffa;
    use components::protected_mode::ProtectedModeComponent;
    use kernel::component::Component;
    use kernel::hil::hypervisor::MemoryRange;
    use kernel::init_queue::{ConditionSet, Queue};

    /// `HVC #0`: how the kernel reaches its own EL2.
    static HYPERVISOR_CALL: HypervisorCall = HypervisorCall;

    /// The most DRAM whose pages EL2 tracks the ownership of: 1 GiB (the
    /// runner gives QEMU 1 GiB), 64 KiB of page states in EL2's memory.
    const HOST_MEMORY_MAX: u64 = 1 << 30;
    /// The proxy's carve-out: 64 KiB just below the test firmware's
    /// configuration blob (0x5FF0_0000), above the device tree and below
    /// the kernel image; the kernel never uses it, and EL2 unmaps it from
    /// the kernel's stage 2.
    const CARVE_OUT: MemoryRange = MemoryRange::new(0x5FE0_0000, 0x1_0000);

    /// Where the proxy's memory is: host memory from the device tree's
    /// memory node (at most [`HOST_MEMORY_MAX`]), the carve-out and the
    /// devices from the board's layout.
    /// The host's cores come from the device tree at boot.
    fn finaliser_config(boot: &armv8a::BootInfo, host_cores: usize) -> FinaliserConfig {
        let host_cores = u16::try_from(host_cores).unwrap_or(u16::MAX);
        let (dram, source) = qemu_virt::memory_map::dram(boot.device_tree_address);
        let host_memory = MemoryRange::new(dram.base, dram.size.min(HOST_MEMORY_MAX));
        defmt::info!(
            "protected: host memory {=u64:#x}+{=u64:#x} ({}); EL2 tracks the ownership of its pages",
            host_memory.base,
            host_memory.size,
            source
        );
        if host_memory.size < dram.size {
            defmt::warn!(
                "protected: the device tree has {=u64:#x} bytes of DRAM; EL2 tracks and maps the first {=u64:#x} only",
                dram.size,
                host_memory.size
            );
        }
        FinaliserConfig {
            host_memory,
            carve_out: CARVE_OUT,
            devices: qemu_virt::memory_map::DEVICES,
            // The TPM partition reads and writes its CRB too: the kernel
            // may use it, never give it away.
            firmware_shared: MemoryRange::new(super::TPM_CRB.base, super::TPM_CRB.size()),
            order: if cfg!(feature = "protected-mode-early-ffa") {
                Order::AfterFfaRoot
            } else {
                Order::BeforeFfaRoot
            },
            host_cores,
        }
    }

    /// Builds protected mode for the FF-A root of `ffa`; returns what the
    /// secondary cores wait on before they are started (the proxy relays
    /// their `CPU_ON` only once it traps the host's SMCs).
    pub(super) fn finalize(
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<{ super::FFA_PARTITIONS }>,
        boot: &armv8a::BootInfo,
        host_cores: usize,
    ) -> ConditionSet {
        let finaliser = ProtectedModeComponent::new(
            queue,
            ffa,
            &El2Runtime,
            &HYPERVISOR_CALL,
            boot.kept_el2(),
            finaliser_config(boot, host_cores),
        )
        .finalize(components::protected_mode_component_static!(
            HOST_MEMORY_MAX
        ))
        .unwrap_or_else(super::setup_failed);
        super::tests::protected_mode_hooks(finaliser);
        finaliser.root_prerequisites(ConditionSet::empty())
    }
}

/// A fatal board set-up error: logged, then power off with a failure status
/// (never returns; generic so that `unwrap_or_else` takes it for any output).
fn setup_failed<T>(error: SetupError) -> T {
    components::fatal::setup_failed(error, qemu_virt::psci::system_off)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    components::fatal::panicked(info, qemu_virt::psci::system_off)
}
