//! The kernel console and its command groups.
//!
//! [`SystemCommandsComponent`] (`version`, `init`, `reboot`, `poweroff`),
//! [`FfaCommandsComponent`] (the `ffa` commands) and
//! [`FfaMemoryCommandsComponent`] (`ffa share`, `lend`, `reclaim`,
//! `memcheck`, `mem`, with scratch regions from the page pool) and
//! [`FfaNotificationCommandsComponent`] (`ffa notify`, `ffa msg`, over the
//! bus's notification service) each build a command group; any capsule's group is built the same way. [`ConsoleComponent`] takes the
//! board's list of groups, makes the console the UART's receive client,
//! registers its deferred call and starts it (it prints its prompt).
//!
//! ```ignore
//! let system = SystemCommandsComponent::new(queue, &PSCI, "qemu-virt-board 0.1.0")
//!     .finalize(system_commands_component_static!());
//! let ffa_commands = FfaCommandsComponent::new(ffa, queue, &chip.timer)
//!     .finalize(ffa_commands_component_static!(8));
//! let memory_commands = FfaMemoryCommandsComponent::new(ffa, pool)
//!     .finalize(ffa_memory_commands_component_static!(8));
//! let groups = static_init!(
//!     [&'static dyn CommandGroup; 3],
//!     [system, ffa_commands, memory_commands]
//! );
//! ConsoleComponent::new(&chip.uart0, groups).finalize(console_component_static!())?;
//! ```
//!
//! A feature that brings commands (a TPM, OP-TEE) adds its
//! group to that list; neither the console nor its parser changes.

use core::mem::MaybeUninit;

use capsule_console::command::CommandGroup;
use capsule_console::console::{Console, RECEIVE_BUFFER_SIZE};
use capsule_console::system::SystemCommands;
use capsule_ffa::commands::memory::MemoryCommands;
use capsule_ffa::commands::notifications::NotificationCommands;
use capsule_ffa::commands::FfaCommands;
use kernel::component::Component;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::power::SystemPower;
use kernel::hil::time::Time;
use kernel::hil::uart::Receive;
use kernel::init_queue::Queue;
use kernel::page_pool::PagePool;

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Static memory for [`ConsoleComponent`].
#[macro_export]
macro_rules! console_component_static {
    () => {
        (
            $crate::kernel::static_buf!($crate::capsule_console::console::Console<'static>),
            $crate::kernel::static_buf!(
                [u8; $crate::capsule_console::console::RECEIVE_BUFFER_SIZE]
            ),
        )
    };
}

/// Static memory for [`SystemCommandsComponent`].
#[macro_export]
macro_rules! system_commands_component_static {
    () => {
        $crate::kernel::static_buf!($crate::capsule_console::system::SystemCommands<'static>)
    };
}

/// Static memory for [`FfaCommandsComponent`] on a bus of `$partitions` partition devices.
#[macro_export]
macro_rules! ffa_commands_component_static {
    ($partitions:expr $(,)?) => {
        $crate::kernel::static_buf!(
            $crate::capsule_ffa::commands::FfaCommands<'static, $partitions>
        )
    };
}

/// Static memory for [`FfaMemoryCommandsComponent`] on a bus of `$partitions` partition devices.
#[macro_export]
macro_rules! ffa_memory_commands_component_static {
    ($partitions:expr $(,)?) => {
        $crate::kernel::static_buf!(
            $crate::capsule_ffa::commands::memory::MemoryCommands<'static, $partitions>
        )
    };
}

/// Static memory for [`FfaNotificationCommandsComponent`] on a bus of `$partitions` partition devices.
#[macro_export]
macro_rules! ffa_notification_commands_component_static {
    ($partitions:expr $(,)?) => {
        $crate::kernel::static_buf!(
            $crate::capsule_ffa::commands::notifications::NotificationCommands<
                'static,
                $partitions,
            >
        )
    };
}

/// Builds the console on a UART.
pub struct ConsoleComponent {
    uart: &'static dyn Receive<'static>,
    groups: &'static [&'static dyn CommandGroup],
}

impl ConsoleComponent {
    /// The console reading `uart`, running the commands of `groups`.
    pub fn new(
        uart: &'static dyn Receive<'static>,
        groups: &'static [&'static dyn CommandGroup],
    ) -> Self {
        ConsoleComponent { uart, groups }
    }
}

impl Component for ConsoleComponent {
    type StaticInput = (
        &'static mut MaybeUninit<Console<'static>>,
        &'static mut MaybeUninit<[u8; RECEIVE_BUFFER_SIZE]>,
    );
    type Output = Result<&'static Console<'static>, SetupError>;

    fn finalize(self, (console, buffer): Self::StaticInput) -> Self::Output {
        let buffer: &'static mut [u8; RECEIVE_BUFFER_SIZE] = buffer.write([0; RECEIVE_BUFFER_SIZE]);
        let console: &'static Console<'static> =
            console.write(Console::new(self.uart, buffer, self.groups));
        self.uart.set_receive_client(console);
        console.register();
        console.start().context("starting the console")?;
        Ok(console)
    }
}

/// Builds the system commands.
pub struct SystemCommandsComponent {
    queue: &'static dyn Queue<'static>,
    power: &'static dyn SystemPower,
    about: &'static str,
}

impl SystemCommandsComponent {
    /// `version` (saying `about`), `init` (of `queue`), `reboot` and
    /// `poweroff` (through `power`).
    pub fn new(
        queue: &'static dyn Queue<'static>,
        power: &'static dyn SystemPower,
        about: &'static str,
    ) -> Self {
        SystemCommandsComponent {
            queue,
            power,
            about,
        }
    }
}

impl Component for SystemCommandsComponent {
    type StaticInput = &'static mut MaybeUninit<SystemCommands<'static>>;
    type Output = &'static SystemCommands<'static>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        memory.write(SystemCommands::new(self.queue, self.power, self.about))
    }
}

/// Builds the `ffa` commands.
pub struct FfaCommandsComponent<const PARTITIONS: usize> {
    ffa: Ffa<PARTITIONS>,
    queue: &'static dyn Queue<'static>,
    time: &'static dyn Time,
}

impl<const PARTITIONS: usize> FfaCommandsComponent<PARTITIONS> {
    /// The commands over the bus of `ffa`, whose readiness conditions are
    /// on `queue`; round trips are timed with `time`.
    pub fn new(
        ffa: Ffa<PARTITIONS>,
        queue: &'static dyn Queue<'static>,
        time: &'static dyn Time,
    ) -> Self {
        FfaCommandsComponent { ffa, queue, time }
    }
}

impl<const PARTITIONS: usize> Component for FfaCommandsComponent<PARTITIONS> {
    type StaticInput = &'static mut MaybeUninit<FfaCommands<'static, PARTITIONS>>;
    type Output = &'static FfaCommands<'static, PARTITIONS>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        memory.write(FfaCommands::new(self.ffa.bus, self.queue, self.time))
    }
}

/// Builds the `ffa` memory commands.
pub struct FfaMemoryCommandsComponent<const PARTITIONS: usize> {
    ffa: Ffa<PARTITIONS>,
    pool: &'static PagePool<'static>,
}

impl<const PARTITIONS: usize> FfaMemoryCommandsComponent<PARTITIONS> {
    /// The memory commands over the bus of `ffa`, with scratch regions
    /// from `pool` (the page pool the board's drivers share from).
    pub fn new(ffa: Ffa<PARTITIONS>, pool: &'static PagePool<'static>) -> Self {
        FfaMemoryCommandsComponent { ffa, pool }
    }
}

impl<const PARTITIONS: usize> Component for FfaMemoryCommandsComponent<PARTITIONS> {
    type StaticInput = &'static mut MaybeUninit<MemoryCommands<'static, PARTITIONS>>;
    type Output = &'static MemoryCommands<'static, PARTITIONS>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        memory.write(MemoryCommands::new(self.ffa.bus, self.pool))
    }
}

/// Builds the `ffa notify` and `ffa msg` commands.
pub struct FfaNotificationCommandsComponent<const PARTITIONS: usize> {
    ffa: Ffa<PARTITIONS>,
}

impl<const PARTITIONS: usize> FfaNotificationCommandsComponent<PARTITIONS> {
    /// The commands over the notification service of `ffa`'s bus (give the
    /// bus its service first, as the asynchronous FF-A component does).
    pub fn new(ffa: Ffa<PARTITIONS>) -> Self {
        FfaNotificationCommandsComponent { ffa }
    }
}

impl<const PARTITIONS: usize> Component for FfaNotificationCommandsComponent<PARTITIONS> {
    type StaticInput = &'static mut MaybeUninit<NotificationCommands<'static, PARTITIONS>>;
    type Output = &'static NotificationCommands<'static, PARTITIONS>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let commands: &'static NotificationCommands<'static, PARTITIONS> =
            memory.write(NotificationCommands::new(self.ffa.bus));
        commands.setup();
        commands
    }
}
