//! Protected mode: the EL2 FF-A proxy (`capsule_ffa_proxy`), installed in
//! the chip's EL2 runtime, and its finaliser at EL1.
//!
//! `finalize` declares `proxy-finalised` (and the finaliser's own
//! `proxy-finaliser-stopped`), installs the proxy at EL2 if the kernel kept
//! EL2, starts finalisation (its steps run from deferred calls, before the
//! init queue is first serviced), adds the `ffa-proxy` entry (after the
//! FF-A root's, which matters only in the regression order), and makes the
//! FF-A root wait for `proxy-finalised`.
//!
//! ```ignore
//! let finaliser = ProtectedModeComponent::new(queue, ffa, &El2Runtime, &HYPERVISOR_CALL,
//!     boot.kept_el2(),
//!     FinaliserConfig { host_memory, carve_out, devices, firmware_shared: tpm_crb,
//!         order: Order::BeforeFfaRoot, host_cores: 4 })
//!     .finalize(protected_mode_component_static!(1 << 30))?;
//! ```

use core::mem::MaybeUninit;
use core::sync::atomic::AtomicU8;

use capsule_ffa_proxy::el2::El2Proxy;
use capsule_ffa_proxy::finaliser::{
    El2Access, FinaliserConditions, FinaliserConfig, ProxyFinaliser,
};
use kernel::component::Component;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::hypervisor::Hypervisor;
use kernel::hil::smccc::SmcccConduit;
use kernel::init_queue::{ConditionSet, Queue};

use crate::ffa::Ffa;
use crate::{Context, SetupError};

/// Static memory for [`ProtectedModeComponent`]: `$host_memory` is the
/// most host memory (bytes) whose pages EL2 tracks the ownership of (two
/// bits per 4 KiB page, in EL2's private memory).
#[macro_export]
macro_rules! protected_mode_component_static {
    ($host_memory:expr $(,)?) => {{
        /// The page-state table: EL2's, zero (every page the host's) in BSS.
        #[link_section = ".bss.el2.page_states"]
        static PAGE_STATES: [::core::sync::atomic::AtomicU8;
            $crate::capsule_ffa_proxy::ownership::storage_bytes($host_memory)] =
            [const { ::core::sync::atomic::AtomicU8::new(0) };
                $crate::capsule_ffa_proxy::ownership::storage_bytes($host_memory)];
        (
            // The proxy's state is EL2's: in EL2's data, which the host may
            // never name as a buffer, nor reach (the board's linker script;
            // EL2 unmaps it from the host's stage 2).
            $crate::kernel::static_buf!(
                $crate::capsule_ffa_proxy::el2::El2Proxy,
                in_section ".bss.el2.proxy"
            ),
            $crate::kernel::static_buf!(
                $crate::capsule_ffa_proxy::finaliser::ProxyFinaliser<'static>
            ),
            &PAGE_STATES[..],
        )
    }};
}

/// Builds protected mode.
pub struct ProtectedModeComponent<H: Hypervisor + 'static, const PARTITIONS: usize> {
    queue: &'static dyn Queue<'static>,
    ffa: Ffa<PARTITIONS>,
    hypervisor: &'static H,
    hypervisor_call: &'static dyn SmcccConduit,
    kept_el2: bool,
    config: FinaliserConfig,
}

impl<H: Hypervisor + 'static, const PARTITIONS: usize> ProtectedModeComponent<H, PARTITIONS> {
    /// Protected mode for the FF-A root of `ffa`: the proxy goes into
    /// `hypervisor` (the chip's EL2 runtime), the kernel reaches it through
    /// `hypervisor_call` (`HVC #0`), and only if `kept_el2` (the kernel was
    /// entered at EL2).
    pub fn new(
        queue: &'static dyn Queue<'static>,
        ffa: Ffa<PARTITIONS>,
        hypervisor: &'static H,
        hypervisor_call: &'static dyn SmcccConduit,
        kept_el2: bool,
        config: FinaliserConfig,
    ) -> Self {
        ProtectedModeComponent {
            queue,
            ffa,
            hypervisor,
            hypervisor_call,
            kept_el2,
            config,
        }
    }
}

impl<H: Hypervisor + 'static, const PARTITIONS: usize> Component
    for ProtectedModeComponent<H, PARTITIONS>
{
    type StaticInput = (
        &'static mut MaybeUninit<El2Proxy>,
        &'static mut MaybeUninit<ProxyFinaliser<'static>>,
        &'static [AtomicU8],
    );
    type Output = Result<&'static ProxyFinaliser<'static>, SetupError>;

    fn finalize(self, (proxy, finaliser, page_states): Self::StaticInput) -> Self::Output {
        let finalised = self
            .queue
            .declare_condition("proxy-finalised")
            .context("declaring proxy-finalised")?;
        let stopped = self
            .queue
            .declare_condition("proxy-finaliser-stopped")
            .context("declaring proxy-finaliser-stopped")?;
        let access = if self.kept_el2 {
            // From here on the proxy is EL2's: nothing at EL1 holds it.
            self.hypervisor
                .install(proxy.write(El2Proxy::with_page_states(page_states)))
                .context("installing the FF-A proxy at EL2")?;
            El2Access::Owned(self.hypervisor_call)
        } else {
            El2Access::EnteredAtEl1
        };
        let finaliser: &'static ProxyFinaliser<'static> = finaliser.write(ProxyFinaliser::new(
            access,
            self.queue,
            FinaliserConditions { finalised, stopped },
            self.config,
        ));
        finaliser.register();
        // The root's prerequisites so far say when the monitor answers FF-A.
        finaliser.set_monitor_ready(self.ffa.bus.prerequisites());
        finaliser.start();
        self.queue
            .add("ffa-proxy", finaliser, Some(finalised))
            .context("adding the EL2 proxy to the init queue")?;
        self.ffa
            .bus
            .require(finaliser.root_prerequisites(ConditionSet::empty()));
        Ok(finaliser)
    }
}
