//! Secondary cores (`capsule_cores`): one init-queue entry per secondary
//! (`cpu1`, `cpu2`, ...), each with its conditions `cpuN-online` and
//! `cpuN-work-done`, the bring-up polling on its own alarm, and, if the
//! board gives one, the per-core work and its judge (on an FF-A board,
//! `FFA_ID_GET` from each core, [`PerCoreFfaCheckComponent`]).
//!
//! ```ignore
//! let check = PerCoreFfaCheckComponent::<SecureMonitorCall>::new(ffa)
//!     .finalize(per_core_ffa_check_component_static!());
//! CoresComponent::new(queue, cores, alarm, BringUpConfig {
//!     work: Some(check.work), work_after: ConditionSet::of(ffa.root_ready), ..BringUpConfig::DEFAULT
//! }, Some(check.judge))
//! .finalize(cores_component_static!(VirtualAlarm<'static, GenericTimer<'static>>))?;
//! ```

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use capsule_cores::{BringUpConfig, CoreBringUp, CoreEntry, MAXIMUM_CORES};
use capsule_ffa::per_cpu::{id_get_on_this_core, PerCoreCheck};
use kernel::component::Component;
use kernel::hil::cores::{CoreWork, CoreWorkClient, Cores};
use kernel::hil::smccc::SmcccConduit;
use kernel::hil::time::Alarm;
use kernel::init_queue::Queue;

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Entry and condition names, by core index.
const NAMES: [(&str, &str, &str); MAXIMUM_CORES] = [
    ("cpu0", "cpu0-online", "cpu0-work-done"),
    ("cpu1", "cpu1-online", "cpu1-work-done"),
    ("cpu2", "cpu2-online", "cpu2-work-done"),
    ("cpu3", "cpu3-online", "cpu3-work-done"),
    ("cpu4", "cpu4-online", "cpu4-work-done"),
    ("cpu5", "cpu5-online", "cpu5-work-done"),
    ("cpu6", "cpu6-online", "cpu6-work-done"),
    ("cpu7", "cpu7-online", "cpu7-work-done"),
];

/// Static memory for [`CoresComponent`] with alarm type `$A`.
#[macro_export]
macro_rules! cores_component_static {
    ($A:ty $(,)?) => {
        (
            $crate::kernel::static_buf!($crate::capsule_cores::CoreBringUp<'static, $A>),
            $crate::kernel::static_buf!(
                [$crate::capsule_cores::CoreEntry<'static, $A>;
                    $crate::capsule_cores::MAXIMUM_CORES]
            ),
        )
    };
}

/// Builds the bring-up of the secondary cores.
pub struct CoresComponent<A: Alarm<'static> + 'static> {
    queue: &'static dyn Queue<'static>,
    cores: &'static dyn Cores,
    alarm: &'static A,
    config: BringUpConfig,
    judge: Option<&'static dyn CoreWorkClient>,
}

impl<A: Alarm<'static> + 'static> CoresComponent<A> {
    /// The bring-up of `cores`' secondaries on `alarm` (the bring-up's own),
    /// configured by `config`; `judge` checks each core's work.
    pub fn new(
        queue: &'static dyn Queue<'static>,
        cores: &'static dyn Cores,
        alarm: &'static A,
        config: BringUpConfig,
        judge: Option<&'static dyn CoreWorkClient>,
    ) -> Self {
        CoresComponent {
            queue,
            cores,
            alarm,
            config,
            judge,
        }
    }
}

impl<A: Alarm<'static> + 'static> Component for CoresComponent<A> {
    type StaticInput = (
        &'static mut MaybeUninit<CoreBringUp<'static, A>>,
        &'static mut MaybeUninit<[CoreEntry<'static, A>; MAXIMUM_CORES]>,
    );
    type Output = Result<&'static CoreBringUp<'static, A>, SetupError>;

    fn finalize(self, (bring_up, entries): Self::StaticInput) -> Self::Output {
        let bring_up: &'static CoreBringUp<'static, A> = bring_up.write(CoreBringUp::new(
            self.cores,
            self.alarm,
            self.queue,
            self.config,
        ));
        self.alarm.set_alarm_client(bring_up);
        if let Some(judge) = self.judge {
            bring_up.set_client(judge);
        }
        let entries: &'static [CoreEntry<'static, A>; MAXIMUM_CORES] =
            entries.write([const { CoreEntry::new() }; MAXIMUM_CORES]);
        for core in bring_up.secondaries() {
            let (name, online, work_done) = NAMES[core];
            let online = self
                .queue
                .declare_condition(online)
                .context("declaring a core's online condition")?;
            let work_done = self
                .queue
                .declare_condition(work_done)
                .context("declaring a core's work-done condition")?;
            bring_up.assign(core, online, work_done);
            entries[core].bind(bring_up, core);
            self.queue
                .add(name, &entries[core], None)
                .context("adding a secondary core to the init queue")?;
        }
        Ok(bring_up)
    }
}

/// The per-core FF-A check: the work and its judge.
#[derive(Clone, Copy)]
pub struct PerCoreFfaCheck {
    /// `FFA_ID_GET` from the core, through the board's conduit type.
    pub work: CoreWork,
    /// Compares each answer with the boot core's session.
    pub judge: &'static dyn CoreWorkClient,
}

/// Static memory for [`PerCoreFfaCheckComponent`].
#[macro_export]
macro_rules! per_core_ffa_check_component_static {
    () => {
        $crate::kernel::static_buf!($crate::capsule_ffa::per_cpu::PerCoreCheck<'static>)
    };
}

/// Builds the per-core FF-A check over conduit type `C` (the board's, e.g.
/// `SMC #0`): every core builds its own `C` to make its call.
pub struct PerCoreFfaCheckComponent<C: SmcccConduit + Default, const PARTITIONS: usize> {
    ffa: Ffa<PARTITIONS>,
    conduit: PhantomData<C>,
}

impl<C: SmcccConduit + Default, const PARTITIONS: usize> PerCoreFfaCheckComponent<C, PARTITIONS> {
    /// The check against `ffa`'s client.
    pub fn new(ffa: Ffa<PARTITIONS>) -> Self {
        PerCoreFfaCheckComponent {
            ffa,
            conduit: PhantomData,
        }
    }
}

impl<C: SmcccConduit + Default, const PARTITIONS: usize> Component
    for PerCoreFfaCheckComponent<C, PARTITIONS>
{
    type StaticInput = &'static mut MaybeUninit<PerCoreCheck<'static>>;
    type Output = PerCoreFfaCheck;

    fn finalize(self, memory: Self::StaticInput) -> Self::Output {
        let judge: &'static PerCoreCheck<'static> =
            memory.write(PerCoreCheck::new(self.ffa.bus.client()));
        PerCoreFfaCheck {
            work: CoreWork {
                function: id_get_on_this_core::<C>,
                argument: 0,
            },
            judge,
        }
    }
}
