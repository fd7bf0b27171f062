//! Alarms: the mux that shares the chip's alarm, and the virtual alarms
//! each capsule gets (readiness polling, core bring-up).
//!
//! ```ignore
//! let mux = AlarmMuxComponent::new(&chip.timer)
//!     .finalize(alarm_mux_component_static!(GenericTimer<'static>));
//! let alarm = VirtualAlarmComponent::new(mux)
//!     .finalize(virtual_alarm_component_static!(GenericTimer<'static>));
//! ```

use core::mem::MaybeUninit;

use kernel::component::Component;
use kernel::hil::time::Alarm;
use kernel::virtual_alarm::{MuxAlarm, VirtualAlarm};

/// Static memory for [`AlarmMuxComponent`] over alarm type `$A`.
#[macro_export]
macro_rules! alarm_mux_component_static {
    ($A:ty $(,)?) => {
        $crate::kernel::static_buf!($crate::kernel::virtual_alarm::MuxAlarm<'static, $A>)
    };
}

/// Static memory for [`VirtualAlarmComponent`] over alarm type `$A`.
#[macro_export]
macro_rules! virtual_alarm_component_static {
    ($A:ty $(,)?) => {
        $crate::kernel::static_buf!($crate::kernel::virtual_alarm::VirtualAlarm<'static, $A>)
    };
}

/// Builds the mux over the chip's alarm (and makes it the alarm's client).
pub struct AlarmMuxComponent<A: Alarm<'static> + 'static> {
    alarm: &'static A,
}

impl<A: Alarm<'static> + 'static> AlarmMuxComponent<A> {
    /// The mux over `alarm`.
    pub fn new(alarm: &'static A) -> Self {
        AlarmMuxComponent { alarm }
    }
}

impl<A: Alarm<'static> + 'static> Component for AlarmMuxComponent<A> {
    type StaticInput = &'static mut MaybeUninit<MuxAlarm<'static, A>>;
    type Output = &'static MuxAlarm<'static, A>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let mux: &'static MuxAlarm<'static, A> = memory.write(MuxAlarm::new(self.alarm));
        self.alarm.set_alarm_client(mux);
        mux
    }
}

/// Builds one virtual alarm on a mux.
pub struct VirtualAlarmComponent<A: Alarm<'static> + 'static> {
    mux: &'static MuxAlarm<'static, A>,
}

impl<A: Alarm<'static> + 'static> VirtualAlarmComponent<A> {
    /// A virtual alarm on `mux`.
    pub fn new(mux: &'static MuxAlarm<'static, A>) -> Self {
        VirtualAlarmComponent { mux }
    }
}

impl<A: Alarm<'static> + 'static> Component for VirtualAlarmComponent<A> {
    type StaticInput = &'static mut MaybeUninit<VirtualAlarm<'static, A>>;
    type Output = &'static VirtualAlarm<'static, A>;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let alarm: &'static VirtualAlarm<'static, A> = memory.write(VirtualAlarm::new(self.mux));
        alarm.setup();
        alarm
    }
}
