//! Boot completion (`capsule_ffa::boot`): made the init queue's and the
//! readiness poller's client, it logs the boot report once both are done
//! and tells the board's [`BootClient`], if any. `finalize` also starts
//! readiness polling, the last thing a board does before its main loop.
//!
//! ```ignore
//! BootComponent::new(queue, readiness, ffa, Some(&HOOKS))
//!     .finalize(boot_component_static!(8))?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::boot::{BootClient, BootCompletion};
use kernel::component::Component;
use kernel::hil::time::Alarm;
use kernel::init_queue::Queue;

use crate::ffa::Ffa;
use crate::readiness::Readiness;
use crate::{Context, SetupError};

/// Static memory for [`BootComponent`] with a bus of `$partitions` partition devices.
#[macro_export]
macro_rules! boot_component_static {
    ($partitions:expr $(,)?) => {
        $crate::kernel::static_buf!($crate::capsule_ffa::boot::BootCompletion<'static, $partitions>)
    };
}

/// Builds boot completion.
pub struct BootComponent<A: Alarm<'static> + 'static, const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    readiness: Readiness<A>,
    ffa: Ffa<PARTITIONS>,
    client: Option<&'static dyn BootClient>,
}

impl<A: Alarm<'static> + 'static, const PARTITIONS: usize> BootComponent<A, PARTITIONS> {
    /// Completion of the boot of `ffa`, waiting for `readiness` and `queue`;
    /// `client` is told when boot is over.
    pub fn new(
        queue: &'static dyn Queue<'static>,
        readiness: Readiness<A>,
        ffa: Ffa<PARTITIONS>,
        client: Option<&'static dyn BootClient>,
    ) -> Self {
        BootComponent {
            queue,
            readiness,
            ffa,
            client,
        }
    }
}

impl<A: Alarm<'static> + 'static, const PARTITIONS: usize> Component
    for BootComponent<A, PARTITIONS>
{
    type StaticInput = &'static mut MaybeUninit<BootCompletion<'static, PARTITIONS>>;
    type Output = Result<&'static BootCompletion<'static, PARTITIONS>, SetupError>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let completion: &'static BootCompletion<'static, PARTITIONS> =
            memory.write(BootCompletion::new(self.queue, self.ffa.bus));
        self.queue.set_client(completion);
        self.ffa.bus.set_idle_client(completion);
        self.readiness.poller.set_client(completion);
        if let Some(client) = self.client {
            completion.set_client(client);
        }
        self.readiness
            .poller
            .start()
            .context("starting secure-monitor readiness polling")?;
        Ok(completion)
    }
}
