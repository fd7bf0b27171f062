//! The init queue, with the boot log attached (each probe result and each
//! settling is logged; see `kernel::init_queue::BootLog`).
//!
//! ```ignore
//! let queue = InitQueueComponent::new().finalize(init_queue_component_static!(16, 16));
//! ```

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use kernel::component::Component;
use kernel::init_queue::{BootLog, InitQueue, Queue};

/// The journal every board's queue logs through.
static BOOT_LOG: BootLog = BootLog;

/// Static memory for [`InitQueueComponent`]: `ENTRIES` entries, `CONDITIONS` conditions.
#[macro_export]
macro_rules! init_queue_component_static {
    ($entries:expr, $conditions:expr $(,)?) => {
        $crate::kernel::static_buf!(
            $crate::kernel::init_queue::InitQueue<'static, $entries, $conditions>
        )
    };
}

/// Builds the init queue.
pub struct InitQueueComponent<const ENTRIES: usize, const CONDITIONS: usize> {
    capacity: PhantomData<[(); ENTRIES]>,
}

impl<const ENTRIES: usize, const CONDITIONS: usize> InitQueueComponent<ENTRIES, CONDITIONS> {
    /// A queue of `ENTRIES` entries and `CONDITIONS` conditions.
    pub const fn new() -> Self {
        InitQueueComponent {
            capacity: PhantomData,
        }
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize> Default
    for InitQueueComponent<ENTRIES, CONDITIONS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const ENTRIES: usize, const CONDITIONS: usize> Component
    for InitQueueComponent<ENTRIES, CONDITIONS>
{
    type StaticInput = &'static mut MaybeUninit<InitQueue<'static, ENTRIES, CONDITIONS>>;
    type Output = &'static InitQueue<'static, ENTRIES, CONDITIONS>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let queue: &'static InitQueue<'static, ENTRIES, CONDITIONS> =
            memory.write(InitQueue::new());
        queue.set_journal(&BOOT_LOG);
        queue
    }
}
