//! Kernel-owned pages to share with the secure world: the page pool over
//! the chip's static pages (`kernel::page_pool::PagePool`), and the memory
//! checks a test-partition driver runs with it
//! (`capsule_ffa::drivers::memory_check`).
//!
//! ```ignore
//! static POOL_PAGES: StaticPages<16> = StaticPages::new();
//! let pool = PagePoolComponent::new(&POOL_PAGES).finalize(page_pool_component_static!())?;
//! let checks = MemoryCheckComponent::new(pool, MemoryCheckPlan::BOOT)
//!     .finalize(memory_check_component_static!())?;
//! let echo = EchoDriver::new().with_memory_checks(checks);
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::drivers::memory_check::{MemoryCheckPlan, MemoryChecks};
use kernel::component::Component;
use kernel::hil::page_pool::PageMemory;
use kernel::page_pool::PagePool;

use crate::{Context, SetupError};

/// Static memory for [`PagePoolComponent`].
#[macro_export]
macro_rules! page_pool_component_static {
    () => {
        $crate::kernel::static_buf!($crate::kernel::page_pool::PagePool<'static>)
    };
}

/// Static memory for [`MemoryCheckComponent`].
#[macro_export]
macro_rules! memory_check_component_static {
    () => {
        $crate::kernel::static_buf!(
            $crate::capsule_ffa::drivers::memory_check::MemoryChecks<'static>
        )
    };
}

/// Builds the kernel's page pool over the chip's pages.
pub struct PagePoolComponent {
    memory: &'static dyn PageMemory,
}

impl PagePoolComponent {
    /// A pool over `memory` (statically allocated, page-aligned pages).
    pub fn new(memory: &'static dyn PageMemory) -> Self {
        PagePoolComponent { memory }
    }
}

impl Component for PagePoolComponent {
    type StaticInput = &'static mut MaybeUninit<PagePool<'static>>;
    type Output = Result<&'static PagePool<'static>, SetupError>;

    fn finalize(self, slot: Self::StaticInput) -> Self::Output {
        let pool = PagePool::new(self.memory).context("checking the page pool's memory")?;
        Ok(slot.write(pool))
    }
}

/// Builds the memory checks of a test-partition driver.
pub struct MemoryCheckComponent {
    pool: &'static PagePool<'static>,
    plan: MemoryCheckPlan,
}

impl MemoryCheckComponent {
    /// Checks of `plan`, with regions from `pool`.
    pub fn new(pool: &'static PagePool<'static>, plan: MemoryCheckPlan) -> Self {
        MemoryCheckComponent { pool, plan }
    }
}

impl Component for MemoryCheckComponent {
    type StaticInput = &'static mut MaybeUninit<MemoryChecks<'static>>;
    type Output = Result<&'static MemoryChecks<'static>, SetupError>;

    fn finalize(self, slot: Self::StaticInput) -> Self::Output {
        Ok(slot.write(MemoryChecks::new(self.pool, self.plan)))
    }
}
