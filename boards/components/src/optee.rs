//! The OP-TEE driver on the FF-A bus (`capsule_optee`): the driver and its
//! init-queue entry (`optee`, waiting for the FF-A root's outcome like any
//! partition driver), its device enumeration, the `optee` console command
//! group, and, when the board asks, the self-test against the model's test
//! pseudo TA. Every one of them is a user of the driver with an
//! [`OpteeClient`] of its own; a capsule that drives a trusted application
//! gets one the same way ([`Optee::user`]).
//!
//! ```ignore
//! let optee = OpteeComponent::new(queue, ffa, pool, optee_alarm, SelfTestChoice::Skip)
//!     .finalize(optee_component_static!())?;
//! boot.add_report_section(optee.driver)?;   // its part of the boot report
//! // the console's groups: [..., optee.commands]
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::{DriverEntry, PartitionDriver};
use capsule_optee::client::OpteeClient;
use capsule_optee::console::OpteeCommands;
use capsule_optee::driver::OpteeDriver;
use capsule_optee::enumeration::{self, Enumeration};
use capsule_optee::self_test::{self, SelfTest};
use kernel::component::Component;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::tee::Tee;
use kernel::hil::time::Alarm;
use kernel::init_queue::Queue;
use kernel::page_pool::PagePool;

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Static memory for [`OpteeComponent`].
#[macro_export]
macro_rules! optee_component_static {
    () => {
        (
            $crate::kernel::static_buf!($crate::capsule_optee::driver::OpteeDriver<'static>),
            $crate::kernel::static_buf!($crate::capsule_ffa::DriverEntry<'static>),
            (
                $crate::kernel::static_buf!($crate::capsule_optee::client::OpteeClient<'static>),
                $crate::kernel::static_buf!(
                    $crate::capsule_optee::enumeration::Enumeration<'static>
                ),
                $crate::kernel::static_buf!([u8; $crate::capsule_optee::enumeration::BUFFER_SIZE]),
            ),
            (
                $crate::kernel::static_buf!($crate::capsule_optee::client::OpteeClient<'static>),
                $crate::kernel::static_buf!($crate::capsule_optee::console::OpteeCommands<'static>),
            ),
            (
                $crate::kernel::static_buf!($crate::capsule_optee::client::OpteeClient<'static>),
                $crate::kernel::static_buf!($crate::capsule_optee::self_test::SelfTest<'static>),
                $crate::kernel::static_buf!([u8; $crate::capsule_optee::self_test::BUFFER_SIZE]),
            ),
        )
    };
}

/// Static memory for one more user of the driver ([`Optee::user`]).
#[macro_export]
macro_rules! optee_user_static {
    () => {
        $crate::kernel::static_buf!($crate::capsule_optee::client::OpteeClient<'static>)
    };
}

/// Whether the board runs the self-test once OP-TEE is probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTestChoice {
    /// Run it (the QEMU scenarios do, against the model's test pseudo TA).
    Run,
    /// Do not.
    Skip,
}

/// What the OP-TEE component gives the board.
#[derive(Clone, Copy)]
pub struct Optee {
    /// The driver (a boot-report section too).
    pub driver: &'static OpteeDriver<'static>,
    /// The `optee` console command group.
    pub commands: &'static OpteeCommands<'static>,
    /// The self-test, if the board runs it.
    pub self_test: Option<&'static SelfTest<'static>>,
}

impl Optee {
    /// One more user of the driver (for a capsule that drives a trusted
    /// application), named `name`; make the capsule its client.
    pub fn user(
        &self,
        name: &'static str,
        memory: &'static mut MaybeUninit<OpteeClient<'static>>,
    ) -> &'static OpteeClient<'static> {
        let user: &'static OpteeClient<'static> = memory.write(OpteeClient::new(self.driver, name));
        user.join();
        user
    }
}

/// Builds the OP-TEE driver and its users.
pub struct OpteeComponent<const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    ffa: Ffa<PARTITIONS>,
    pool: &'static PagePool<'static>,
    alarm: &'static dyn Alarm<'static>,
    self_test: SelfTestChoice,
}

impl<const PARTITIONS: usize> OpteeComponent<PARTITIONS> {
    /// The driver on the bus of `ffa`, sharing pages of `pool`, waiting on
    /// `alarm` (a virtual alarm of its own).
    pub fn new(
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<PARTITIONS>,
        pool: &'static PagePool<'static>,
        alarm: &'static dyn Alarm<'static>,
        self_test: SelfTestChoice,
    ) -> Self {
        OpteeComponent {
            queue,
            ffa,
            pool,
            alarm,
            self_test,
        }
    }
}

/// The static memory of [`OpteeComponent`], as [`optee_component_static!`] makes it.
pub type OpteeMemory = (
    &'static mut MaybeUninit<OpteeDriver<'static>>,
    &'static mut MaybeUninit<DriverEntry<'static>>,
    (
        &'static mut MaybeUninit<OpteeClient<'static>>,
        &'static mut MaybeUninit<Enumeration<'static>>,
        &'static mut MaybeUninit<[u8; enumeration::BUFFER_SIZE]>,
    ),
    (
        &'static mut MaybeUninit<OpteeClient<'static>>,
        &'static mut MaybeUninit<OpteeCommands<'static>>,
    ),
    (
        &'static mut MaybeUninit<OpteeClient<'static>>,
        &'static mut MaybeUninit<SelfTest<'static>>,
        &'static mut MaybeUninit<[u8; self_test::BUFFER_SIZE]>,
    ),
);

impl<const PARTITIONS: usize> Component for OpteeComponent<PARTITIONS> {
    type StaticInput = OpteeMemory;
    type Output = Result<Optee, SetupError>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let (driver_memory, entry_memory, enumeration_memory, console_memory, test_memory) = memory;
        let driver: &'static OpteeDriver<'static> =
            driver_memory.write(OpteeDriver::new(self.pool, self.alarm));
        // Its own request client: split-phase when the bus has a request engine.
        driver.setup();
        driver.register();
        self.alarm.set_alarm_client(driver);

        let (user, enumeration, buffer) = enumeration_memory;
        let user: &'static OpteeClient<'static> =
            user.write(OpteeClient::new(driver, "enumeration"));
        user.join();
        let buffer: &'static mut [u8] = buffer.write([0; enumeration::BUFFER_SIZE]);
        let enumeration: &'static Enumeration<'static> =
            enumeration.write(Enumeration::new(driver, user, buffer));
        user.set_client(enumeration);
        driver.set_enumeration(enumeration);

        let (user, commands) = console_memory;
        let user: &'static OpteeClient<'static> = user.write(OpteeClient::new(driver, "console"));
        user.join();
        let commands: &'static OpteeCommands<'static> =
            commands.write(OpteeCommands::new(driver, user));
        user.set_client(commands);

        let self_test = match self.self_test {
            SelfTestChoice::Skip => None,
            SelfTestChoice::Run => {
                let (user, test, buffer) = test_memory;
                let user: &'static OpteeClient<'static> =
                    user.write(OpteeClient::new(driver, "self-test"));
                user.join();
                let buffer: &'static mut [u8] = buffer.write([0; self_test::BUFFER_SIZE]);
                let test: &'static SelfTest<'static> =
                    test.write(SelfTest::new(driver, user, buffer));
                user.set_client(test);
                driver.set_probe_client(test);
                Some(test)
            }
        };

        let entry: &'static DriverEntry<'static> =
            entry_memory.write(DriverEntry::new(self.ffa.bus, driver, self.ffa.root_probed));
        self.queue
            .add("optee", entry, None)
            .context("adding the OP-TEE driver to the init queue")?;
        Ok(Optee {
            driver,
            commands,
            self_test,
        })
    }
}
