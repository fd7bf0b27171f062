//! FF-A without blocking: the root's set-up retried after a transient
//! refusal (declares `ffa-root-retry`, on an alarm of its own), the
//! split-phase request engine the partition handles send through (on
//! another alarm, one slot per partition device), and the notification and
//! indirect-message service (init-queue entry `ffa-notifications`, after
//! `ffa-root-probed`; it claims the schedule receiver interrupt from the
//! chip's lent interrupt lines).
//!
//! Call it after [`ffa`](crate::ffa) and before the partition drivers. On
//! a board with several cores, [`CoreRequestsComponent`] adds an engine per
//! secondary core, whose calls that core makes.
//!
//! ```ignore
//! let ffa_async = AsyncFfaComponent::new(queue, ffa, mux, chip, scratch)
//!     .finalize(components::async_ffa_component_static!(GenericTimer<'static>, 8, 16))?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::notifications::Notifications;
use capsule_ffa::requests::{DirectRequests, SplitPhaseRequests};
use kernel::component::Component;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::cores::{CoreCalls, Cores};
use kernel::hil::interrupt::InterruptLines;
use kernel::hil::time::Alarm;
use kernel::init_queue::Queue;
use kernel::virtual_alarm::{MuxAlarm, VirtualAlarm};

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Static memory for [`AsyncFfaComponent`] over alarm type `$A`, with
/// `$partitions` request slots (the bus's partition devices) and
/// `$bindings` notification bindings.
#[macro_export]
macro_rules! async_ffa_component_static {
    ($A:ty, $partitions:expr, $bindings:expr $(,)?) => {
        (
            $crate::kernel::static_buf!($crate::kernel::virtual_alarm::VirtualAlarm<'static, $A>),
            $crate::kernel::static_buf!($crate::kernel::virtual_alarm::VirtualAlarm<'static, $A>),
            $crate::kernel::static_buf!(
                $crate::capsule_ffa::requests::DirectRequests<'static, $partitions>
            ),
            $crate::kernel::static_buf!(
                $crate::capsule_ffa::notifications::Notifications<'static, $bindings>
            ),
        )
    };
}

/// What the component gives the board.
pub struct AsyncFfa<const PARTITIONS: usize, const BINDINGS: usize> {
    /// The split-phase request engine.
    pub requests: &'static DirectRequests<'static, PARTITIONS>,
    /// The notification and indirect-message service.
    pub notifications: &'static Notifications<'static, BINDINGS>,
}

/// Builds set-up retries, the request engine and the notification service
/// (with room for `BINDINGS` notification bindings).
pub struct AsyncFfaComponent<
    A: Alarm<'static> + 'static,
    const PARTITIONS: usize,
    const BINDINGS: usize,
> {
    queue: &'static dyn Queue<'static>,
    ffa: Ffa<PARTITIONS>,
    mux: &'static MuxAlarm<'static, A>,
    lines: &'static dyn InterruptLines<'static>,
    scratch: &'static mut [u8],
}

impl<A: Alarm<'static> + 'static, const PARTITIONS: usize, const BINDINGS: usize>
    AsyncFfaComponent<A, PARTITIONS, BINDINGS>
{
    /// For the bus of `ffa`, with alarms on `mux`, the schedule receiver
    /// interrupt from `lines`, and `scratch` for received indirect messages
    /// (the largest one the kernel takes).
    pub fn new(
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<PARTITIONS>,
        mux: &'static MuxAlarm<'static, A>,
        lines: &'static dyn InterruptLines<'static>,
        scratch: &'static mut [u8],
    ) -> Self {
        AsyncFfaComponent {
            queue,
            ffa,
            mux,
            lines,
            scratch,
        }
    }
}

impl<A: Alarm<'static> + 'static, const PARTITIONS: usize, const BINDINGS: usize> Component
    for AsyncFfaComponent<A, PARTITIONS, BINDINGS>
{
    type StaticInput = (
        &'static mut MaybeUninit<VirtualAlarm<'static, A>>,
        &'static mut MaybeUninit<VirtualAlarm<'static, A>>,
        &'static mut MaybeUninit<DirectRequests<'static, PARTITIONS>>,
        &'static mut MaybeUninit<Notifications<'static, BINDINGS>>,
    );
    type Output = Result<AsyncFfa<PARTITIONS, BINDINGS>, SetupError>;

    fn finalize(
        self,
        (retry_alarm, request_alarm, requests, notifications): Self::StaticInput,
    ) -> Self::Output {
        let component = self;
        let bus = component.ffa.bus;
        let retry = component
            .queue
            .declare_condition("ffa-root-retry")
            .context("declaring ffa-root-retry")?;
        let retry_alarm: &'static VirtualAlarm<'static, A> =
            retry_alarm.write(VirtualAlarm::new(component.mux));
        retry_alarm.setup();
        retry_alarm.set_alarm_client(bus);
        bus.retry_on(retry_alarm, retry);

        let request_alarm: &'static VirtualAlarm<'static, A> =
            request_alarm.write(VirtualAlarm::new(component.mux));
        request_alarm.setup();
        let requests: &'static DirectRequests<'static, PARTITIONS> =
            requests.write(DirectRequests::new(*bus.client().conduit(), request_alarm));
        request_alarm.set_alarm_client(requests);
        requests.register();
        requests.set_idle_client(bus);
        bus.set_requests(requests);

        let notifications: &'static Notifications<'static, BINDINGS> =
            notifications.write(Notifications::new(
                bus.client(),
                component.lines,
                component.queue,
                component.ffa.root_probed,
                component.scratch,
            ));
        notifications.setup();
        notifications.register();
        bus.set_notifications(notifications);
        component
            .queue
            .add("ffa-notifications", notifications, None)
            .context("adding the notification service to the init queue")?;
        Ok(AsyncFfa {
            requests,
            notifications,
        })
    }
}

/// Static memory for [`CoreRequestsComponent`] over alarm type `$A`, with
/// `$partitions` request slots per engine and room for `$cores` cores.
#[macro_export]
macro_rules! core_requests_component_static {
    ($A:ty, $partitions:expr, $cores:expr $(,)?) => {
        (
            $crate::kernel::static_buf!(
                [$crate::kernel::virtual_alarm::VirtualAlarm<'static, $A>; $cores]
            ),
            $crate::kernel::static_buf!(
                [$crate::capsule_ffa::requests::DirectRequests<'static, $partitions>; $cores]
            ),
            $crate::kernel::static_buf!(
                [Option<&'static dyn $crate::capsule_ffa::requests::SplitPhaseRequests<'static>>;
                    $cores]
            ),
        )
    };
}

/// Builds a request engine for each secondary core the board has (at most
/// `CORES` cores in all), each on a virtual alarm of its own and making its
/// calls on its core (`CoreCalls`), and gives them to the bus, so that a
/// driver may make a request from any core (`PartitionHandle::send_on`).
/// Call it after [`AsyncFfaComponent`] (the boot core's engine).
///
/// ```ignore
/// CoreRequestsComponent::<_, _, 8, 4>::new(ffa, mux, cores)
///     .finalize(components::core_requests_component_static!(GenericTimer<'static>, 8, 4));
/// ```
pub struct CoreRequestsComponent<
    A: Alarm<'static> + 'static,
    C: Cores + CoreCalls + 'static,
    const PARTITIONS: usize,
    const CORES: usize,
> {
    ffa: Ffa<PARTITIONS>,
    mux: &'static MuxAlarm<'static, A>,
    cores: &'static C,
}

impl<
        A: Alarm<'static> + 'static,
        C: Cores + CoreCalls + 'static,
        const PARTITIONS: usize,
        const CORES: usize,
    > CoreRequestsComponent<A, C, PARTITIONS, CORES>
{
    /// Engines for `cores`' secondaries, on the bus of `ffa`, with alarms on `mux`.
    pub fn new(
        ffa: Ffa<PARTITIONS>,
        mux: &'static MuxAlarm<'static, A>,
        cores: &'static C,
    ) -> Self {
        CoreRequestsComponent { ffa, mux, cores }
    }
}

impl<
        A: Alarm<'static> + 'static,
        C: Cores + CoreCalls + 'static,
        const PARTITIONS: usize,
        const CORES: usize,
    > Component for CoreRequestsComponent<A, C, PARTITIONS, CORES>
{
    type StaticInput = (
        &'static mut MaybeUninit<[VirtualAlarm<'static, A>; CORES]>,
        &'static mut MaybeUninit<[DirectRequests<'static, PARTITIONS>; CORES]>,
        &'static mut MaybeUninit<[Option<&'static dyn SplitPhaseRequests<'static>>; CORES]>,
    );
    /// The engines by core index (none for the boot core and for cores the
    /// board does not have).
    type Output = &'static [Option<&'static dyn SplitPhaseRequests<'static>>; CORES];

    fn finalize(self, (alarms, engines, table): Self::StaticInput) -> Self::Output {
        let mux = self.mux;
        let alarms: &'static [VirtualAlarm<'static, A>; CORES] =
            alarms.write(core::array::from_fn(|_| VirtualAlarm::new(mux)));
        let calls: &'static dyn CoreCalls = self.cores;
        let engines: &'static [DirectRequests<'static, PARTITIONS>; CORES] =
            engines.write(core::array::from_fn(|core| {
                DirectRequests::on_core(calls, core, &alarms[core])
            }));
        let boot = self.cores.boot_core();
        let present = |core: usize| core != boot && self.cores.mpidr(core).is_some();
        let bus = self.ffa.bus;
        for (core, (alarm, engine)) in alarms.iter().zip(engines.iter()).enumerate() {
            if !present(core) {
                continue;
            }
            alarm.setup();
            alarm.set_alarm_client(engine);
            engine.register();
            engine.set_idle_client(bus);
        }
        let table: &'static [Option<&'static dyn SplitPhaseRequests<'static>>; CORES] = table
            .write(core::array::from_fn(|core| {
                present(core).then_some(&engines[core] as &'static dyn SplitPhaseRequests<'static>)
            }));
        bus.set_core_requests(table);
        table
    }
}
