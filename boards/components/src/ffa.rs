//! The FF-A client and bus: declares `ffa-root-ready` and adds the root
//! entry, `arm-ffa`, which waits on the given prerequisites (the monitor's
//! readiness; in protected mode, [`protected_mode`](crate::protected_mode)
//! adds `proxy-finalised`) and provides `ffa-root-ready` once set-up and
//! discovery succeed. It also declares `ffa-root-probed`, which the root
//! signals once set-up has an outcome, ready or failed: partition drivers
//! wait on that one, so each learns either.
//!
//! ```ignore
//! let ffa = FfaComponent::new(queue, &CONDUIT, &RX_BUFFER, &TX_BUFFER, ClientConfig::DEFAULT,
//!     ConditionSet::of(readiness.monitor_ready))
//!     .finalize(ffa_component_static!(8))?;
//! ```

use core::mem::MaybeUninit;

use capsule_ffa::{ClientConfig, FfaBus, FfaClient};
use kernel::component::Component;
use kernel::hil::shared_memory::SharedBuffer;
use kernel::hil::smccc::SmcccConduit;
use kernel::init_queue::{ConditionId, ConditionSet, Queue};

use crate::{Context, SetupError};

/// Static memory for [`FfaComponent`] with room for `$partitions` partition devices.
#[macro_export]
macro_rules! ffa_component_static {
    ($partitions:expr $(,)?) => {
        (
            $crate::kernel::static_buf!($crate::capsule_ffa::FfaClient<'static>),
            $crate::kernel::static_buf!($crate::capsule_ffa::FfaBus<'static, $partitions>),
        )
    };
}

/// What the FF-A component gives the board: the bus, the condition its root
/// provides, and the one it signals when set-up has an outcome (partition
/// drivers wait on it).
#[derive(Clone, Copy)]
pub struct Ffa<const PARTITIONS: usize> {
    /// The FF-A bus (root and partition devices).
    pub bus: &'static FfaBus<'static, PARTITIONS>,
    /// `ffa-root-ready`.
    pub root_ready: ConditionId,
    /// Signalled once the root's set-up succeeded or failed.
    pub root_probed: ConditionId,
}

/// Builds the FF-A client and bus.
pub struct FfaComponent<const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    conduit: &'static dyn SmcccConduit,
    rx: &'static dyn SharedBuffer,
    tx: &'static dyn SharedBuffer,
    config: ClientConfig,
    prerequisites: ConditionSet,
}

impl<const PARTITIONS: usize> FfaComponent<PARTITIONS> {
    /// The client over `conduit` with the RX/TX buffers `rx` and `tx`; its
    /// root waits on `prerequisites`.
    pub fn new(
        queue: &'static dyn Queue<'static>,
        conduit: &'static dyn SmcccConduit,
        rx: &'static dyn SharedBuffer,
        tx: &'static dyn SharedBuffer,
        config: ClientConfig,
        prerequisites: ConditionSet,
    ) -> Self {
        FfaComponent {
            queue,
            conduit,
            rx,
            tx,
            config,
            prerequisites,
        }
    }
}

impl<const PARTITIONS: usize> Component for FfaComponent<PARTITIONS> {
    type StaticInput = (
        &'static mut MaybeUninit<FfaClient<'static>>,
        &'static mut MaybeUninit<FfaBus<'static, PARTITIONS>>,
    );
    type Output = Result<Ffa<PARTITIONS>, SetupError>;

    fn finalize(self, (client, bus): Self::StaticInput) -> Self::Output {
        let root_ready = self
            .queue
            .declare_condition("ffa-root-ready")
            .context("declaring ffa-root-ready")?;
        let root_probed = self
            .queue
            .declare_condition("ffa-root-probed")
            .context("declaring ffa-root-probed")?;
        let client: &'static FfaClient<'static> =
            client.write(FfaClient::new(self.conduit, self.rx, self.tx, self.config));
        let bus: &'static FfaBus<'static, PARTITIONS> =
            bus.write(FfaBus::new(client, self.queue, self.prerequisites));
        bus.signal_on_outcome(root_probed);
        self.queue
            .add("arm-ffa", bus, Some(root_ready))
            .context("adding the FF-A root to the init queue")?;
        Ok(Ffa {
            bus,
            root_ready,
            root_probed,
        })
    }
}
