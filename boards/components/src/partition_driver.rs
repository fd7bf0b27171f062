//! A partition driver: its init-queue entry (named after the driver) waits
//! for the FF-A root, then binds the driver to every partition whose UUID
//! it handles. Any driver (`capsule_ffa::PartitionDriver`) on any bus.
//!
//! A driver that needs more than the root (the secondary cores online)
//! waits on the board's conditions too ([`PartitionDriverComponent::after`]).
//!
//! ```ignore
//! let echo = PartitionDriverComponent::new(queue, ffa, EchoDriver::new())
//!     .finalize(partition_driver_component_static!(EchoDriver<'static>))?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::{DriverEntry, PartitionDriver};
use kernel::component::Component;
use kernel::init_queue::{ConditionSet, Queue};

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Static memory for [`PartitionDriverComponent`] of driver type `$D`.
#[macro_export]
macro_rules! partition_driver_component_static {
    ($D:ty $(,)?) => {
        (
            $crate::kernel::static_buf!($D),
            $crate::kernel::static_buf!($crate::capsule_ffa::DriverEntry<'static>),
        )
    };
}

/// Builds a partition driver and its entry.
pub struct PartitionDriverComponent<D: PartitionDriver<'static> + 'static, const PARTITIONS: usize>
{
    queue: &'static dyn Queue<'static>,
    ffa: Ffa<PARTITIONS>,
    driver: D,
    after: ConditionSet,
}

impl<D: PartitionDriver<'static> + 'static, const PARTITIONS: usize>
    PartitionDriverComponent<D, PARTITIONS>
{
    /// `driver`, on the bus of `ffa`.
    pub fn new(queue: &'static dyn Queue<'static>, ffa: Ffa<PARTITIONS>, driver: D) -> Self {
        PartitionDriverComponent {
            queue,
            ffa,
            driver,
            after: ConditionSet::empty(),
        }
    }

    /// The same, binding only once `conditions` are signalled too.
    pub fn after(self, conditions: ConditionSet) -> Self {
        PartitionDriverComponent {
            after: self.after.union(conditions),
            ..self
        }
    }
}

impl<D: PartitionDriver<'static> + 'static, const PARTITIONS: usize> Component
    for PartitionDriverComponent<D, PARTITIONS>
{
    type StaticInput = (
        &'static mut MaybeUninit<D>,
        &'static mut MaybeUninit<DriverEntry<'static>>,
    );
    type Output = Result<&'static D, SetupError>;

    fn finalize(self, (driver, entry): Self::StaticInput) -> Self::Output {
        let driver: &'static D = driver.write(self.driver);
        driver.setup();
        let entry: &'static DriverEntry<'static> =
            entry.write(DriverEntry::new(self.ffa.bus, driver, self.ffa.root_probed));
        entry.also_after(self.after);
        self.queue
            .add(driver.name(), entry, None)
            .context("adding a partition driver to the init queue")?;
        Ok(driver)
    }
}
