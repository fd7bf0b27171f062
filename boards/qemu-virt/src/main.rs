//! The QEMU `virt` board: wires the chip, alarm, init queue and the FF-A
//! client, then runs the main loop.
//!
//! Boot order, as the init queue enforces it:
//!
//! 1. the board declares the readiness conditions `secure-monitor-ready`
//!    and `ffa-root-ready`, and registers the FF-A root (`arm-ffa`, waits on
//!    `secure-monitor-ready`) and one entry per partition driver (each waits
//!    on `ffa-root-ready`, which the root provides when it succeeds);
//! 2. [`MonitorReadiness`] polls the secure monitor with the alarm until it
//!    answers FF-A, then signals `secure-monitor-ready`;
//! 3. the main loop probes the root (version, ID, features, RX/TX map,
//!    discovery), then the drivers;
//! 4. once readiness has finished (ready, absent or past its deadline) and
//!    the queue has settled, the board logs the boot report and whatever is
//!    still waiting.
//!
//! The image is a drop-in BL33 for standard TF-A on QEMU (linked at
//! 0x6000_0000, entered at EL2 or EL1 with the MMU off).

#![no_std]
#![no_main]

use armv8a::conduit::SecureMonitorCall;
use armv8a::shared_page::SharedPages;
use armv8a::timer::GenericTimer;
use capsule_ffa::drivers::echo::{EchoDriver, PREEMPTED_ECHO_PARTITION_UUID};
use capsule_ffa::readiness::{
    Absence, MonitorReadiness, ReadinessClient, ReadinessConfig, ReadinessState,
};
use capsule_ffa::Uuid;
use capsule_ffa::{ClientConfig, DriverEntry, FfaBus, FfaClient};
use core::cell::Cell;
use kernel::init_queue::{BootLog, ConditionSet, InitQueue, InitQueueClient, Queue};
use kernel::main_loop::{LoopService, MainLoop};
use kernel::static_init;
use qemu_virt::QemuVirt;

#[cfg(feature = "protected-mode")]
mod protected;

armv8a::entry!(main);

/// Capacity of the board's init queue.
const INIT_ENTRIES: usize = 16;
/// Readiness conditions the board can declare.
const INIT_CONDITIONS: usize = 16;
/// Partition devices the FF-A bus can hold.
const FFA_PARTITIONS: usize = 8;
/// Size of each FF-A RX/TX buffer (the minimum granule; the client checks
/// it against what `FFA_FEATURES(RXTX_MAP)` asks for).
const MAILBOX_SIZE: usize = 4096;

type BoardInitQueue = InitQueue<'static, INIT_ENTRIES, INIT_CONDITIONS>;
type BoardReadiness = MonitorReadiness<'static, GenericTimer<'static>>;

/// The buffer the secure world writes into (partition information, messages).
static RX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();
/// The buffer the kernel writes for the secure world.
static TX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();
/// The SMCCC conduit: `SMC` (standard TF-A and the test firmware both use it).
static CONDUIT: SecureMonitorCall = SecureMonitorCall;
/// Partitions the second echo driver binds: the test firmware's partition
/// that is preempted (`FFA_INTERRUPT`/`FFA_YIELD`) before it echoes.
static PREEMPTED_ECHO_UUIDS: [Uuid; 1] = [PREEMPTED_ECHO_PARTITION_UUID];

/// Logs each step of the init queue (deferred, ready, settled).
static BOOT_LOG: BootLog = BootLog;

/// Decides when boot is over: readiness has finished and the queue settled.
struct BootCoordinator {
    queue: &'static BoardInitQueue,
    bus: &'static FfaBus<'static, FFA_PARTITIONS>,
    readiness: Cell<Option<&'static BoardReadiness>>,
    reported: Cell<bool>,
}

impl BootCoordinator {
    fn readiness_finished(&self) -> bool {
        self.readiness
            .get()
            .is_none_or(|readiness| readiness.state() != ReadinessState::Polling)
    }

    /// Logs the boot report once both readiness and the queue are done.
    fn finish_if_done(&self) {
        if !self.readiness_finished() || !self.queue.is_settled() || self.reported.replace(true) {
            return;
        }
        defmt::info!("boot: init queue settled");
        capsule_ffa::report::log_boot_report(self.bus);
        self.queue.report_pending();
        if cfg!(feature = "scenario-fault") {
            armv8a::exceptions::provoke_translation_fault();
        }
        if cfg!(feature = "scenario-panic") {
            panic!("scenario-panic: panicking on purpose after boot");
        }
        if cfg!(feature = "exit-when-settled") {
            defmt::info!("boot: exit-when-settled, powering off");
            qemu_virt::psci::system_off(0);
        }
    }
}

impl InitQueueClient for BootCoordinator {
    fn settled(&self) {
        self.finish_if_done();
    }
}

impl ReadinessClient for BootCoordinator {
    fn monitor_absent(&self, absence: Absence) {
        match absence {
            Absence::NotImplemented => {
                defmt::warn!("boot: FF-A is absent (FFA_VERSION not supported); carrying on without it")
            }
            Absence::IncompatibleVersion(version) => defmt::warn!(
                "boot: the secure monitor implements FF-A v{=u16}.{=u16}, an incompatible major version; carrying on without FF-A",
                version.major(),
                version.minor()
            ),
        }
        self.finish_if_done();
    }

    fn deadline_expired(&self) {
        defmt::error!("boot: the secure monitor did not become ready before the deadline");
        self.queue.expire();
        self.finish_if_done();
    }
}

/// A fatal board set-up error: logged, then power off with a failure status.
fn setup_failed(what: &str) -> ! {
    defmt::error!("boot: board set-up failed: {=str}", what);
    qemu_virt::psci::system_off(2)
}

fn main(boot: armv8a::BootInfo) -> ! {
    defmt::info!(
        "boot: qemu-virt kernel entered at EL{=u8}, device tree at {=u64:#x}",
        boot.entry_exception_level,
        boot.device_tree_address
    );
    let chip = static_init!(QemuVirt<'static>, QemuVirt::new());
    chip.initialise();
    let alarm = &chip.timer;

    let queue = static_init!(BoardInitQueue, InitQueue::new());
    queue.set_journal(&BOOT_LOG);
    let Ok(monitor_ready) = queue.declare_condition("secure-monitor-ready") else {
        setup_failed("declaring secure-monitor-ready")
    };
    let Ok(root_ready) = queue.declare_condition("ffa-root-ready") else {
        setup_failed("declaring ffa-root-ready")
    };
    #[cfg(feature = "protected-mode")]
    let Ok(protected) = protected::ProtectedBoot::set_up(&boot, queue) else {
        setup_failed("setting up protected mode")
    };
    let root_prerequisites = ConditionSet::of(monitor_ready);
    #[cfg(feature = "protected-mode")]
    let root_prerequisites = protected.root_prerequisites(root_prerequisites);

    let client = static_init!(
        FfaClient<'static>,
        FfaClient::new(&CONDUIT, &RX_BUFFER, &TX_BUFFER, ClientConfig::DEFAULT)
    );
    let bus = static_init!(
        FfaBus<'static, FFA_PARTITIONS>,
        FfaBus::new(client, queue, root_prerequisites)
    );
    if queue.add("arm-ffa", bus, Some(root_ready)).is_err() {
        setup_failed("adding the FF-A root to the init queue");
    }
    #[cfg(feature = "protected-mode")]
    if protected
        .add_to_queue(ConditionSet::of(monitor_ready))
        .is_err()
    {
        setup_failed("adding the EL2 proxy to the init queue");
    }
    let echo = static_init!(EchoDriver<'static>, EchoDriver::new());
    let echo_entry = static_init!(
        DriverEntry<'static>,
        DriverEntry::new(bus, echo, root_ready)
    );
    if queue.add("ffa-echo", echo_entry, None).is_err() {
        setup_failed("adding the echo driver to the init queue");
    }
    let preempted_echo = static_init!(
        EchoDriver<'static>,
        EchoDriver::for_partitions("ffa-preempted-echo", &PREEMPTED_ECHO_UUIDS)
    );
    let preempted_echo_entry = static_init!(
        DriverEntry<'static>,
        DriverEntry::new(bus, preempted_echo, root_ready)
    );
    if queue
        .add("ffa-preempted-echo", preempted_echo_entry, None)
        .is_err()
    {
        setup_failed("adding the preempted echo driver to the init queue");
    }

    let coordinator = static_init!(
        BootCoordinator,
        BootCoordinator {
            queue,
            bus,
            readiness: Cell::new(None),
            reported: Cell::new(false),
        }
    );
    queue.set_client(coordinator);

    let readiness = static_init!(
        BoardReadiness,
        MonitorReadiness::new(
            alarm,
            &CONDUIT,
            queue,
            monitor_ready,
            ReadinessConfig::matching(client.config())
        )
    );
    coordinator.readiness.set(Some(readiness));
    kernel::hil::time::Alarm::set_alarm_client(alarm, readiness);
    readiness.set_client(coordinator);
    if readiness.start().is_err() {
        setup_failed("starting secure-monitor readiness polling");
    }

    let services = static_init!([&'static dyn LoopService; 1], [queue]);
    let main_loop = static_init!(
        MainLoop<'static, QemuVirt<'static>>,
        MainLoop::new(chip, services)
    );
    defmt::info!("boot: entering the main loop");
    main_loop.run()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(location) => defmt::error!(
            "panicked at {=str}:{=u32}: {}",
            location.file(),
            location.line(),
            defmt::Display2Format(&info.message())
        ),
        None => defmt::error!("panicked: {}", defmt::Display2Format(&info.message())),
    }
    qemu_virt::psci::system_off(1)
}
