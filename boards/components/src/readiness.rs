//! Secure-monitor readiness: declares `secure-monitor-ready`, and builds
//! the poller that signals it once the monitor answers FF-A
//! (`capsule_ffa::readiness`). [`boot`](crate::boot) starts it, last of
//! all; its first poll runs from the alarm, in the main loop.
//!
//! ```ignore
//! let readiness = ReadinessComponent::new(queue, &chip.timer, &CONDUIT, ReadinessConfig::DEFAULT)
//!     .finalize(readiness_component_static!(GenericTimer<'static>))?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::readiness::{MonitorReadiness, ReadinessConfig};
use kernel::component::Component;
use kernel::hil::smccc::SmcccConduit;
use kernel::hil::time::Alarm;
use kernel::init_queue::{ConditionId, Queue};

use crate::{Context, SetupError};

/// Static memory for [`ReadinessComponent`] on alarm type `$A`.
#[macro_export]
macro_rules! readiness_component_static {
    ($A:ty $(,)?) => {
        $crate::kernel::static_buf!($crate::capsule_ffa::readiness::MonitorReadiness<'static, $A>)
    };
}

/// What the readiness component gives the board.
#[derive(Clone, Copy)]
pub struct Readiness<A: Alarm<'static> + 'static> {
    /// The poller.
    pub poller: &'static MonitorReadiness<'static, A>,
    /// `secure-monitor-ready`, which the poller signals.
    pub monitor_ready: ConditionId,
}

/// Builds readiness.
pub struct ReadinessComponent<A: Alarm<'static> + 'static> {
    queue: &'static dyn Queue<'static>,
    alarm: &'static A,
    conduit: &'static dyn SmcccConduit,
    config: ReadinessConfig,
}

impl<A: Alarm<'static> + 'static> ReadinessComponent<A> {
    /// Readiness polling on `alarm` through `conduit` (the one the FF-A
    /// client will use), signalling on `queue`.
    pub fn new(
        queue: &'static dyn Queue<'static>,
        alarm: &'static A,
        conduit: &'static dyn SmcccConduit,
        config: ReadinessConfig,
    ) -> Self {
        ReadinessComponent {
            queue,
            alarm,
            conduit,
            config,
        }
    }
}

impl<A: Alarm<'static> + 'static> Component for ReadinessComponent<A> {
    type StaticInput = &'static mut MaybeUninit<MonitorReadiness<'static, A>>;
    type Output = Result<Readiness<A>, SetupError>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let monitor_ready = self
            .queue
            .declare_condition("secure-monitor-ready")
            .context("declaring secure-monitor-ready")?;
        let poller: &'static MonitorReadiness<'static, A> = memory.write(MonitorReadiness::new(
            self.alarm,
            self.conduit,
            self.queue,
            monitor_ready,
            self.config,
        ));
        self.alarm.set_alarm_client(poller);
        Ok(Readiness {
            poller,
            monitor_ready,
        })
    }
}
