//! The TPM over FF-A and measured boot (`capsule_tpm`).
//!
//! [`TpmComponent`] builds the CRB-over-FF-A driver on the chip's MMIO
//! window and alarm, the mux that shares it, and two init-queue entries:
//! `tpm-crb-ffa` (the partition driver on the FF-A bus, waiting on
//! `ffa-root-probed`, signalling `tpm-crb-ffa-probed` whatever its
//! outcome) and `tpm` (the TPM's bring-up, waiting on that, providing
//! `tpm-ready` and signalling `tpm-probed` either way). [`MeasuredBootComponent`]
//! builds measured boot: it measures the kernel image at once (queued until
//! the TPM is up), is told of every partition the FF-A root discovers, and
//! adds the `measured-boot` entry, which waits on `tpm-probed`.
//!
//! ```ignore
//! let window = static_init!(CarveOutWindow, CarveOutWindow::claim(CRB.base, CRB.size() as usize)?);
//! let tpm = TpmComponent::new(queue, ffa, window, tpm_alarm)
//!     .finalize(components::tpm_component_static!())?;
//! let measured = MeasuredBootComponent::new(queue, tpm, ffa, &KernelImage)
//!     .finalize(components::measured_boot_component_static!())?;
//! boot.add_report_section(tpm.driver)?;
//! boot.add_report_section(measured)?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::bus::PartitionDriver as _;
use capsule_ffa::DriverEntry;
use capsule_tpm::driver::{Timing, TpmCrbFfa};
use capsule_tpm::measured_boot::{MeasuredBoot, COMMAND_BUFFER_SIZE};
use capsule_tpm::mux::{TpmMux, TpmUser};
use capsule_tpm::startup::{StartupConditions, TpmStartup, STARTUP_BUFFER_SIZE};
use kernel::component::Component;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::image::LoadedImage;
use kernel::hil::mmio_window::MmioWindow;
use kernel::hil::time::Alarm;
use kernel::hil::tpm::Tpm as _;
use kernel::init_queue::{ConditionId, Queue};

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Size of measured boot's event log.
pub const EVENT_LOG_SIZE: usize = 4096;

/// Static memory for [`TpmComponent`].
#[macro_export]
macro_rules! tpm_component_static {
    () => {
        (
            $crate::kernel::static_buf!($crate::capsule_tpm::driver::TpmCrbFfa<'static>),
            $crate::kernel::static_buf!($crate::capsule_tpm::mux::TpmMux<'static>),
            $crate::kernel::static_buf!($crate::capsule_ffa::DriverEntry<'static>),
            $crate::kernel::static_buf!($crate::capsule_tpm::mux::TpmUser<'static>),
            $crate::kernel::static_buf!($crate::capsule_tpm::startup::TpmStartup<'static>),
            $crate::kernel::static_buf!([u8; $crate::capsule_tpm::startup::STARTUP_BUFFER_SIZE]),
        )
    };
}

/// Static memory for [`MeasuredBootComponent`].
#[macro_export]
macro_rules! measured_boot_component_static {
    () => {
        (
            $crate::kernel::static_buf!($crate::capsule_tpm::mux::TpmUser<'static>),
            $crate::kernel::static_buf!($crate::capsule_tpm::measured_boot::MeasuredBoot<'static>),
            $crate::kernel::static_buf!([u8; $crate::tpm::EVENT_LOG_SIZE]),
            $crate::kernel::static_buf!(
                [u8; $crate::capsule_tpm::measured_boot::COMMAND_BUFFER_SIZE]
            ),
        )
    };
}

/// What the TPM component gives the board.
#[derive(Clone, Copy)]
pub struct Tpm {
    /// The driver (also a boot report section).
    pub driver: &'static TpmCrbFfa<'static>,
    /// The mux its users share.
    pub mux: &'static TpmMux<'static>,
    /// The bring-up (the `tpm` entry).
    pub startup: &'static TpmStartup<'static>,
    /// `tpm-ready`: the TPM takes commands.
    pub ready: ConditionId,
    /// `tpm-probed`: the bring-up has an outcome.
    pub probed: ConditionId,
}

/// Builds the TPM driver, its mux and bring-up.
pub struct TpmComponent<const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    ffa: Ffa<PARTITIONS>,
    window: &'static dyn MmioWindow,
    alarm: &'static dyn Alarm<'static>,
}

impl<const PARTITIONS: usize> TpmComponent<PARTITIONS> {
    /// The TPM behind the FF-A bus of `ffa`, its CRB in `window` (the region
    /// firmware describes), waiting on `alarm` (the driver's own).
    pub fn new(
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<PARTITIONS>,
        window: &'static dyn MmioWindow,
        alarm: &'static dyn Alarm<'static>,
    ) -> Self {
        TpmComponent {
            queue,
            ffa,
            window,
            alarm,
        }
    }
}

impl<const PARTITIONS: usize> Component for TpmComponent<PARTITIONS> {
    type StaticInput = (
        &'static mut MaybeUninit<TpmCrbFfa<'static>>,
        &'static mut MaybeUninit<TpmMux<'static>>,
        &'static mut MaybeUninit<DriverEntry<'static>>,
        &'static mut MaybeUninit<TpmUser<'static>>,
        &'static mut MaybeUninit<TpmStartup<'static>>,
        &'static mut MaybeUninit<[u8; STARTUP_BUFFER_SIZE]>,
    );
    type Output = Result<Tpm, SetupError>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let (driver, mux, entry, user, startup, buffer) = memory;
        let declare = |name: &'static str| {
            self.queue
                .declare_condition(name)
                .context("declaring a TPM condition")
        };
        let transport_probed = declare("tpm-crb-ffa-probed")?;
        let started = declare("tpm-started")?;
        let ready = declare("tpm-ready")?;
        let probed = declare("tpm-probed")?;
        let driver: &'static TpmCrbFfa<'static> =
            driver.write(TpmCrbFfa::new(self.window, self.alarm, Timing::LINUX));
        driver.setup();
        driver.register();
        let mux: &'static TpmMux<'static> = mux.write(TpmMux::new(driver));
        driver.set_client(mux);
        mux.register();
        let entry: &'static DriverEntry<'static> =
            entry.write(DriverEntry::new(self.ffa.bus, driver, self.ffa.root_probed));
        entry.signal_on_outcome(transport_probed);
        let user: &'static TpmUser<'static> = user.write(TpmUser::new(mux));
        user.setup();
        let startup: &'static TpmStartup<'static> = startup.write(TpmStartup::new(
            user,
            self.queue,
            StartupConditions {
                transport_probed,
                started,
                probed,
            },
            buffer.write([0; STARTUP_BUFFER_SIZE]),
        ));
        user.set_client(startup);
        let transport = self
            .queue
            .add("tpm-crb-ffa", entry, None)
            .context("adding the TPM driver to the init queue")?;
        startup.set_transport_entry(transport);
        self.queue
            .add("tpm", startup, Some(ready))
            .context("adding the TPM's bring-up to the init queue")?;
        Ok(Tpm {
            driver,
            mux,
            startup,
            ready,
            probed,
        })
    }
}

/// Builds measured boot.
pub struct MeasuredBootComponent<const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    tpm: Tpm,
    ffa: Ffa<PARTITIONS>,
    image: &'static dyn LoadedImage,
}

impl<const PARTITIONS: usize> MeasuredBootComponent<PARTITIONS> {
    /// Measured boot on `tpm`, measuring `image` and the partitions the
    /// root of `ffa` discovers.
    pub fn new(
        queue: &'static dyn Queue<'static>,
        tpm: Tpm,
        ffa: Ffa<PARTITIONS>,
        image: &'static dyn LoadedImage,
    ) -> Self {
        MeasuredBootComponent {
            queue,
            tpm,
            ffa,
            image,
        }
    }
}

impl<const PARTITIONS: usize> Component for MeasuredBootComponent<PARTITIONS> {
    type StaticInput = (
        &'static mut MaybeUninit<TpmUser<'static>>,
        &'static mut MaybeUninit<MeasuredBoot<'static>>,
        &'static mut MaybeUninit<[u8; EVENT_LOG_SIZE]>,
        &'static mut MaybeUninit<[u8; COMMAND_BUFFER_SIZE]>,
    );
    type Output = Result<&'static MeasuredBoot<'static>, SetupError>;

    fn finalize(self, (user, measured, log, buffer): Self::StaticInput) -> Self::Output {
        let done = self
            .queue
            .declare_condition("measured-boot-done")
            .context("declaring measured-boot-done")?;
        let user: &'static TpmUser<'static> = user.write(TpmUser::new(self.tpm.mux));
        user.setup();
        let measured: &'static MeasuredBoot<'static> = measured.write(MeasuredBoot::new(
            user,
            self.tpm.startup,
            self.queue,
            self.tpm.probed,
            done,
            log.write([0; EVENT_LOG_SIZE]),
            buffer.write([0; COMMAND_BUFFER_SIZE]),
        ));
        user.set_client(measured);
        self.ffa.bus.set_discovery_observer(measured);
        measured
            .measure_image(self.image)
            .context("measuring the kernel image")?;
        self.queue
            .add("measured-boot", measured, None)
            .context("adding measured boot to the init queue")?;
        Ok(measured)
    }
}

/// Static memory for [`TpmCommandsComponent`].
#[macro_export]
macro_rules! tpm_commands_component_static {
    () => {
        (
            $crate::kernel::static_buf!($crate::capsule_tpm::mux::TpmUser<'static>),
            $crate::kernel::static_buf!($crate::capsule_tpm::commands::TpmCommands<'static>),
            $crate::kernel::static_buf!([u8; $crate::capsule_tpm::commands::COMMANDS_BUFFER_SIZE]),
        )
    };
}

/// Builds the console's `tpm` commands (a command group for
/// `components::console`).
pub struct TpmCommandsComponent {
    tpm: Tpm,
    measured: &'static MeasuredBoot<'static>,
}

impl TpmCommandsComponent {
    /// The commands over `tpm` and `measured`.
    pub fn new(tpm: Tpm, measured: &'static MeasuredBoot<'static>) -> Self {
        TpmCommandsComponent { tpm, measured }
    }
}

impl Component for TpmCommandsComponent {
    type StaticInput = (
        &'static mut MaybeUninit<TpmUser<'static>>,
        &'static mut MaybeUninit<capsule_tpm::commands::TpmCommands<'static>>,
        &'static mut MaybeUninit<[u8; capsule_tpm::commands::COMMANDS_BUFFER_SIZE]>,
    );
    type Output = &'static capsule_tpm::commands::TpmCommands<'static>;

    fn finalize(self, (user, commands, buffer): Self::StaticInput) -> Self::Output {
        let user: &'static TpmUser<'static> = user.write(TpmUser::new(self.tpm.mux));
        user.setup();
        let commands: &'static capsule_tpm::commands::TpmCommands<'static> =
            commands.write(capsule_tpm::commands::TpmCommands::new(
                user,
                self.measured,
                buffer.write([0; capsule_tpm::commands::COMMANDS_BUFFER_SIZE]),
            ));
        user.set_client(commands);
        commands
    }
}
