//! The main loop: the chip's interrupts, deferred calls, then the init queue.
//!
//! ```ignore
//! let main_loop = MainLoopComponent::new(chip, queue).finalize(main_loop_component_static!(QemuVirt<'static>));
//! main_loop.run()
//! ```

use core::mem::MaybeUninit;

use kernel::component::Component;
use kernel::main_loop::{LoopService, MainLoop};
use kernel::platform::chip::Chip;

/// Static memory for [`MainLoopComponent`] on chip type `$C`.
#[macro_export]
macro_rules! main_loop_component_static {
    ($C:ty $(,)?) => {
        (
            $crate::kernel::static_buf!([&'static dyn $crate::kernel::main_loop::LoopService; 1]),
            $crate::kernel::static_buf!($crate::kernel::main_loop::MainLoop<'static, $C>),
        )
    };
}

/// Builds the main loop.
pub struct MainLoopComponent<C: Chip + 'static> {
    chip: &'static C,
    init_queue: &'static dyn LoopService,
}

impl<C: Chip + 'static> MainLoopComponent<C> {
    /// The main loop of `chip`, servicing `init_queue`.
    pub fn new(chip: &'static C, init_queue: &'static dyn LoopService) -> Self {
        MainLoopComponent { chip, init_queue }
    }
}

impl<C: Chip + 'static> Component for MainLoopComponent<C> {
    type StaticInput = (
        &'static mut MaybeUninit<[&'static dyn LoopService; 1]>,
        &'static mut MaybeUninit<MainLoop<'static, C>>,
    );
    type Output = &'static MainLoop<'static, C>;

    fn finalize(self, (services, main_loop): Self::StaticInput) -> Self::Output {
        let services: &'static [&'static dyn LoopService; 1] = services.write([self.init_queue]);
        main_loop.write(MainLoop::new(self.chip, services))
    }
}
