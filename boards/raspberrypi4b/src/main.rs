#![doc = include_str!("../README.md")]
//!
//! The wiring follows `boards/qemu-virt/src/main.rs`; what differs is the
//! chip, and that the SMCCC conduit comes from the device tree (no `/psci`:
//! no monitor, and FF-A is reported absent).

#![no_std]
#![no_main]

mod tests;

use armv8a::shared_page::SharedPages;
use armv8a::smp::SecondaryCores;
use armv8a::timer::GenericTimer;
use bcm2711::platform::Platform;
use bcm2711::Bcm2711;
use capsule_cores::BringUpConfig;
use capsule_ffa::readiness::ReadinessConfig;
use capsule_ffa::ClientConfig;
use components::alarm::{AlarmMuxComponent, VirtualAlarmComponent};
use components::boot::BootComponent;
use components::cores::CoresComponent;
use components::ffa::FfaComponent;
use components::init_queue::InitQueueComponent;
use components::main_loop::MainLoopComponent;
use components::readiness::ReadinessComponent;
use components::SetupError;
use kernel::component::Component;
use kernel::init_queue::ConditionSet;
use kernel::static_init;
use kernel::virtual_alarm::VirtualAlarm;

/// The alarm each capsule gets: a virtual alarm on the generic timer.
type BoardAlarm = VirtualAlarm<'static, GenericTimer<'static>>;

armv8a::entry!(main, bcm2711::memory_map::MEMORY_LAYOUT);

/// Capacity of the board's init queue.
const INIT_ENTRIES: usize = 16;
/// Readiness conditions the board can declare.
const INIT_CONDITIONS: usize = 16;
/// Partition devices the FF-A bus can hold.
const FFA_PARTITIONS: usize = 8;
/// Size of each FF-A RX/TX buffer.
const MAILBOX_SIZE: usize = 4096;
/// The FF-A client's configuration (readiness asks for the same version).
const CLIENT: ClientConfig = ClientConfig::DEFAULT;

/// The buffer the secure world writes into.
static RX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();
/// The buffer the kernel writes for the secure world.
static TX_BUFFER: SharedPages<MAILBOX_SIZE> = SharedPages::new();

fn main(boot: armv8a::BootInfo) -> ! {
    let console = bcm2711::console::initialise();
    defmt::info!(
        "boot: raspberrypi4b kernel entered at EL{=u8}, device tree at {=u64:#x}",
        boot.entry_exception_level,
        boot.device_tree_address
    );
    if let Err(error) = console {
        defmt::warn!("boot: console line not set: {}", error);
    }
    let platform = Platform::discover(boot.device_tree_address);
    let conduit = platform.monitor_conduit();
    let chip = static_init!(Bcm2711<'static>, Bcm2711::new());
    chip.initialise();
    let cores = static_init!(SecondaryCores, platform.cores());
    let alarms = AlarmMuxComponent::new(&chip.timer).finalize(
        components::alarm_mux_component_static!(GenericTimer<'static>),
    );
    let readiness_alarm = VirtualAlarmComponent::new(alarms).finalize(
        components::virtual_alarm_component_static!(GenericTimer<'static>),
    );
    let cores_alarm = VirtualAlarmComponent::new(alarms).finalize(
        components::virtual_alarm_component_static!(GenericTimer<'static>),
    );

    let queue = InitQueueComponent::<INIT_ENTRIES, INIT_CONDITIONS>::new().finalize(
        components::init_queue_component_static!(INIT_ENTRIES, INIT_CONDITIONS),
    );
    let readiness = ReadinessComponent::new(
        queue,
        readiness_alarm,
        conduit,
        ReadinessConfig::matching(&CLIENT),
    )
    .finalize(components::readiness_component_static!(BoardAlarm))
    .unwrap_or_else(setup_failed);
    let ffa = FfaComponent::new(
        queue,
        conduit,
        &RX_BUFFER,
        &TX_BUFFER,
        CLIENT,
        ConditionSet::of(readiness.monitor_ready),
    )
    .finalize(components::ffa_component_static!(FFA_PARTITIONS))
    .unwrap_or_else(setup_failed);
    // No partition driver: the drivers this kernel has serve test partitions
    // (the model's, `tools/test-partition`), which no Pi firmware runs, so
    // none is linked into the image.
    // The secondaries come online and park: there is no per-core work
    // without a secure world to ask.
    CoresComponent::new(queue, cores, cores_alarm, BringUpConfig::DEFAULT, None)
        .finalize(components::cores_component_static!(BoardAlarm))
        .unwrap_or_else(setup_failed);
    BootComponent::new(queue, readiness, ffa, tests::boot_hooks())
        .finalize(components::boot_component_static!(FFA_PARTITIONS))
        .unwrap_or_else(setup_failed);
    #[cfg(all(feature = "console", not(feature = "exit-when-settled")))]
    console::finalize(chip, queue, ffa);

    defmt::info!("boot: entering the main loop");
    MainLoopComponent::new(chip, queue)
        .finalize(components::main_loop_component_static!(Bcm2711<'static>))
        .run()
}

/// The console on UART0, with the system and `ffa` commands (no memory
/// commands: there is no SPMC to share pages with, so no page pool). Not
/// in `exit-when-settled` images: those power off once booted, and their
/// scenarios judge the boot alone.
#[cfg(all(feature = "console", not(feature = "exit-when-settled")))]
mod console {
    use bcm2711::power::Power;
    use bcm2711::Bcm2711;
    use capsule_console::CommandGroup;
    use components::console::{ConsoleComponent, FfaCommandsComponent, SystemCommandsComponent};
    use components::ffa::Ffa;
    use kernel::component::Component;
    use kernel::init_queue::Queue;
    use kernel::static_init;

    /// Power control for `reboot` and `poweroff`: PSCI under TF-A,
    /// otherwise the PM watchdog.
    static POWER: Power = Power;

    /// What `version` says.
    const ABOUT: &str = concat!(
        env!("CARGO_PKG_NAME"),
        " ",
        env!("CARGO_PKG_VERSION"),
        ", direct mode"
    );

    /// Builds the command groups and starts the console.
    pub(super) fn finalize(
        chip: &'static Bcm2711<'static>,
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<{ super::FFA_PARTITIONS }>,
    ) {
        let system = SystemCommandsComponent::new(queue, &POWER, ABOUT)
            .finalize(components::system_commands_component_static!());
        let ffa_commands = FfaCommandsComponent::new(ffa, queue, &chip.timer).finalize(
            components::ffa_commands_component_static!({ super::FFA_PARTITIONS }),
        );
        let groups = static_init!([&'static dyn CommandGroup; 2], [system, ffa_commands]);
        ConsoleComponent::new(&chip.uart0, groups)
            .finalize(components::console_component_static!())
            .unwrap_or_else(super::setup_failed);
    }
}

/// A fatal board set-up error: logged, then power off with a failure status
/// (never returns; generic so that `unwrap_or_else` takes it for any output).
fn setup_failed<T>(error: SetupError) -> T {
    components::fatal::setup_failed(error, bcm2711::power::system_off)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    components::fatal::panicked(info, bcm2711::power::system_off)
}
