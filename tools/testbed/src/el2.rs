//! A simulated EL2: the services a chip's EL2 runtime gives its handler
//! ([`ModelServices`], over the model as the monitor), and the runtime
//! itself ([`SimulatedEl2`]): a board installs a handler in it, the kernel
//! reaches it through `HVC` and (trapped or not) `SMC` conduits.
//!
//! ```
//! use kernel::hil::hypervisor::{El2Memory, El2Services, HostCallHandler, Hypervisor};
//! use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
//! use testbed::el2::SimulatedEl2;
//! use testbed::{leak, Memory, ModelMonitor};
//!
//! /// Counts HVCs; asks for traps at the first; answers trapped SMCs itself.
//! struct Counter(u64);
//! impl HostCallHandler for Counter {
//!     fn hypervisor_call(&mut self, _: u16, _: &SmcccRegisters, el2: &mut dyn El2Services) -> SmcccRegisters {
//!         self.0 += 1;
//!         el2.trap_host_smcs();
//!         SmcccRegisters::from_slice(&[self.0])
//!     }
//!     fn trapped_smc(&mut self, _: u16, _: &SmcccRegisters, _: &mut dyn El2Services) -> SmcccRegisters {
//!         SmcccRegisters::from_slice(&[0xE12])
//!     }
//! }
//!
//! let monitor = leak(ModelMonitor::new(ffa_model::FaultConfig::default_config(), Memory::new()));
//! let el2 = SimulatedEl2::with_handler(Counter(0), monitor, El2Memory::EMPTY);
//! let smc = SmcccRegisters::with_function(0x8400_0063);
//! assert_ne!(el2.smc().call(&smc).x[0], 0xE12, "not trapped yet: the monitor answers");
//! assert_eq!(el2.call(&SmcccRegisters::with_function(0xC600_0000)).x[0], 1);
//! assert_eq!(el2.smc().call(&smc).x[0], 0xE12, "trapped");
//! ```

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use kernel::hil::hypervisor::{
    El2Memory, El2Services, HostAccess, HostCallHandler, HostMemoryMap, Hypervisor, MemoryRange,
    Stage2Fault, Stage2Summary,
};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::ErrorCode;

use crate::monitor::ModelMonitor;

/// The host's stage 2 as a simulated EL2 keeps it: the map it was built
/// from, and every page whose access changed since.
#[derive(Debug, Default, Clone)]
pub struct SimulatedStage2 {
    /// The map [`El2Services::protect_host`] was given (`None`: not built).
    pub map: Option<HostMemoryMap>,
    /// Pages whose access [`El2Services::set_host_access`] changed.
    pub pages: BTreeMap<u64, HostAccess>,
    /// How many more page changes succeed (`None`: all); then `NOMEM`, as
    /// a runtime out of tables answers.
    pub tables_left: Option<usize>,
}

impl SimulatedStage2 {
    /// What the host may do with the page at `address`.
    pub fn access(&self, address: u64) -> HostAccess {
        let page = address - address % 4096;
        if let Some(access) = self.pages.get(&page) {
            return *access;
        }
        let Some(map) = &self.map else {
            return HostAccess::ReadWrite;
        };
        let at = MemoryRange::new(page, 4096);
        if map.private.overlaps(&at) {
            HostAccess::None
        } else if map.shared_code.overlaps(&at) {
            HostAccess::ReadExecute
        } else if map.memory.contains(&at) {
            HostAccess::ReadWrite
        } else if map.devices.contains(&at) {
            HostAccess::Device
        } else {
            HostAccess::None
        }
    }
}

/// What a simulated EL2 runtime does for its handler: calls to the model,
/// copies in the model's memory, a trap switch and a stage 2 record.
pub struct ModelServices<'m> {
    monitor: &'m ModelMonitor,
    el2_memory: El2Memory,
    trapping: &'m Cell<bool>,
    stage2: Option<&'m RefCell<SimulatedStage2>>,
    /// Copies fail while this is set.
    pub fail_copies: bool,
}

impl<'m> ModelServices<'m> {
    /// Services over `monitor` (and its memory); EL2 owns `el2_memory`;
    /// `trapping` records [`El2Services::trap_host_smcs`].
    pub fn new(
        monitor: &'m ModelMonitor,
        el2_memory: El2Memory,
        trapping: &'m Cell<bool>,
    ) -> ModelServices<'m> {
        ModelServices {
            monitor,
            el2_memory,
            trapping,
            stage2: None,
            fail_copies: false,
        }
    }

    /// The same services, keeping the host's stage 2 in `stage2`.
    pub fn with_stage2(mut self, stage2: &'m RefCell<SimulatedStage2>) -> ModelServices<'m> {
        self.stage2 = Some(stage2);
        self
    }
}

impl El2Services for ModelServices<'_> {
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        self.monitor.call(call)
    }

    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode> {
        if self.fail_copies {
            return Err(ErrorCode::INVAL);
        }
        self.monitor.memory().copy(destination, source, length)
    }

    fn read(&mut self, source: u64, destination: &mut [u8]) -> Result<(), ErrorCode> {
        if self.fail_copies {
            return Err(ErrorCode::INVAL);
        }
        let bytes = self
            .monitor
            .memory()
            .try_read(source, destination.len())
            .ok_or(ErrorCode::INVAL)?;
        destination.copy_from_slice(&bytes);
        Ok(())
    }

    fn trap_host_smcs(&mut self) {
        self.trapping.set(true);
    }

    fn el2_memory(&self) -> El2Memory {
        self.el2_memory
    }

    fn protect_host(&mut self, map: &HostMemoryMap) -> Result<Stage2Summary, ErrorCode> {
        let stage2 = self.stage2.ok_or(ErrorCode::NOSUPPORT)?;
        let mut stage2 = stage2.borrow_mut();
        if stage2.map.is_some() {
            return Err(ErrorCode::ALREADY);
        }
        stage2.map = Some(*map);
        Ok(Stage2Summary {
            tables_used: 1,
            tables_total: 1,
        })
    }

    fn set_host_access(&mut self, range: MemoryRange, access: HostAccess) -> Result<(), ErrorCode> {
        let stage2 = self.stage2.ok_or(ErrorCode::NOSUPPORT)?;
        let mut stage2 = stage2.borrow_mut();
        if range.is_empty() || !range.base.is_multiple_of(4096) || !range.size.is_multiple_of(4096)
        {
            return Err(ErrorCode::INVAL);
        }
        if let Some(left) = stage2.tables_left.as_mut() {
            if *left == 0 {
                return Err(ErrorCode::NOMEM);
            }
            *left -= 1;
        }
        for page in (range.base..range.base + range.size).step_by(4096) {
            stage2.pages.insert(page, access);
        }
        Ok(())
    }
}

/// A CPU's EL2 with the model as the monitor: the chip's runtime, as a
/// board sees it (`Hypervisor::install`) and as the kernel sees it (as a
/// conduit, `HVC #0`; [`SimulatedEl2::smc`] is its `SMC #0`). Until a
/// handler is installed, every HVC gets x0 = -1, as the boot stub answers.
pub struct SimulatedEl2 {
    handler: RefCell<Option<&'static mut dyn HostCallHandler>>,
    monitor: &'static ModelMonitor,
    el2_memory: El2Memory,
    trapping: Cell<bool>,
    stage2: RefCell<SimulatedStage2>,
}

impl SimulatedEl2 {
    /// EL2 with no handler yet, over `monitor`; EL2 owns `el2_memory`.
    pub fn new(monitor: &'static ModelMonitor, el2_memory: El2Memory) -> SimulatedEl2 {
        SimulatedEl2 {
            handler: RefCell::new(None),
            monitor,
            el2_memory,
            trapping: Cell::new(false),
            stage2: RefCell::new(SimulatedStage2::default()),
        }
    }

    /// The host's stage 2, as the handler set it up.
    pub fn stage2(&self) -> std::cell::Ref<'_, SimulatedStage2> {
        self.stage2.borrow()
    }

    /// Makes later stage-2 changes fail with `NOMEM` after `tables` more.
    pub fn limit_stage2_tables(&self, tables: usize) {
        self.stage2.borrow_mut().tables_left = Some(tables);
    }

    /// The host touches `address` (a write if `write`): if its stage 2
    /// refuses, the fault goes to the handler, which decides.
    pub fn host_access(&self, address: u64, write: bool) -> Result<(), Stage2Fault> {
        let access = self.stage2.borrow().access(address);
        let allowed = match access {
            HostAccess::None => false,
            HostAccess::ReadExecute => !write,
            HostAccess::ReadWrite | HostAccess::Device => true,
        };
        if allowed {
            return Ok(());
        }
        let fault = Stage2Fault {
            ipa: address,
            syndrome: (0x24 << 26) | (u64::from(write) << 6),
            host_address: 0,
            write,
            fetch: false,
        };
        if let Some(handler) = self.handler.borrow_mut().as_deref_mut() {
            handler.host_stage2_fault(&fault);
        }
        Err(fault)
    }

    /// EL2 with `handler` installed (leaked for `'static`).
    pub fn with_handler(
        handler: impl HostCallHandler + 'static,
        monitor: &'static ModelMonitor,
        el2_memory: El2Memory,
    ) -> SimulatedEl2 {
        let el2 = SimulatedEl2::new(monitor, el2_memory);
        el2.install(Box::leak(Box::new(handler)))
            .expect("a new EL2 has no handler");
        el2
    }

    /// The monitor behind EL2.
    pub fn monitor(&self) -> &'static ModelMonitor {
        self.monitor
    }

    /// Whether the handler asked for the host's SMCs to trap.
    pub fn is_trapping(&self) -> bool {
        self.trapping.get()
    }

    /// The kernel's `SMC #0`: to the handler once it traps SMCs, otherwise
    /// straight to the monitor.
    pub fn smc(&self) -> HostSmc<'_> {
        HostSmc(self)
    }

    fn services(&self) -> ModelServices<'_> {
        ModelServices::new(self.monitor, self.el2_memory, &self.trapping).with_stage2(&self.stage2)
    }
}

impl Hypervisor for SimulatedEl2 {
    fn install(&self, handler: &'static mut dyn HostCallHandler) -> Result<(), ErrorCode> {
        let mut slot = self.handler.borrow_mut();
        if slot.is_some() {
            return Err(ErrorCode::ALREADY);
        }
        *slot = Some(handler);
        Ok(())
    }
}

impl SmcccConduit for SimulatedEl2 {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Hvc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        match self.handler.borrow_mut().as_deref_mut() {
            Some(handler) => handler.hypervisor_call(0, arguments, &mut self.services()),
            None => {
                let mut reply = *arguments;
                reply.x[0] = u64::MAX;
                reply
            }
        }
    }
}

/// The kernel's `SMC #0` on a [`SimulatedEl2`].
pub struct HostSmc<'e>(&'e SimulatedEl2);

impl SmcccConduit for HostSmc<'_> {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        let el2 = self.0;
        if el2.is_trapping() {
            if let Some(handler) = el2.handler.borrow_mut().as_deref_mut() {
                return handler.trapped_smc(0, arguments, &mut el2.services());
            }
        }
        el2.monitor.call(arguments)
    }
}
