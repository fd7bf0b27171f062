//! Secondary cores on the host: [`ModelCores`] is the kernel's `Cores` and
//! `CoreCalls` for a machine of `count` cores whose calls go to the model
//! as made on that core.
//!
//! A posted call waits until the test (or its main loop) lets the cores
//! run ([`ModelCores::serve`]), as a parked core wakes some time after the
//! boot core's event; a core can be taken offline or stalled (it takes the
//! call and never answers) to test the boot core's bounds.
//!
//! ```
//! use kernel::hil::cores::CoreCalls;
//! use kernel::hil::smccc::SmcccRegisters;
//! use testbed::{leak, Memory, ModelCores, ModelMonitor};
//!
//! let monitor = leak(ModelMonitor::new(ffa_model::FaultConfig::default_config(), Memory::new()));
//! let cores = ModelCores::new(monitor, 4);
//! cores.post_call(2, &SmcccRegisters::from_slice(&[0x8400_0069])).unwrap(); // FFA_ID_GET
//! assert_eq!(cores.take_reply(2), None, "not made yet");
//! assert_eq!(cores.serve(), 1);
//! assert_eq!(cores.take_reply(2).unwrap().x[0], 0x8400_0061);
//! ```

use std::cell::RefCell;

use kernel::hil::cores::{CoreCalls, CoreReport, CoreWork, Cores, StartError};
use kernel::hil::smccc::SmcccRegisters;
use kernel::ErrorCode;

use crate::monitor::ModelMonitor;

/// One core's mailbox and state.
#[derive(Clone, Copy, Default)]
struct Core {
    online: bool,
    stalled: bool,
    posted: Option<SmcccRegisters>,
    reply: Option<SmcccRegisters>,
}

/// `count` cores (core 0 boots) whose calls reach `monitor` from their core.
pub struct ModelCores {
    monitor: &'static ModelMonitor,
    cores: RefCell<Vec<Core>>,
    made: RefCell<Vec<(usize, SmcccRegisters)>>,
}

impl ModelCores {
    /// `count` cores, every secondary online.
    pub fn new(monitor: &'static ModelMonitor, count: usize) -> ModelCores {
        let online = Core {
            online: true,
            ..Core::default()
        };
        ModelCores {
            monitor,
            cores: RefCell::new(vec![online; count]),
            made: RefCell::new(Vec::new()),
        }
    }

    /// Takes core `core` online or offline.
    pub fn set_online(&self, core: usize, online: bool) {
        if let Some(state) = self.cores.borrow_mut().get_mut(core) {
            state.online = online;
        }
    }

    /// Stalls core `core`: it takes calls and never makes them (until unstalled).
    pub fn set_stalled(&self, core: usize, stalled: bool) {
        if let Some(state) = self.cores.borrow_mut().get_mut(core) {
            state.stalled = stalled;
        }
    }

    /// Every core with a posted call (and not stalled) makes it now, in
    /// core order; returns how many calls were made.
    pub fn serve(&self) -> usize {
        let mut made = 0;
        let count = self.cores.borrow().len();
        for core in 0..count {
            let posted = {
                let mut cores = self.cores.borrow_mut();
                let state = &mut cores[core];
                if state.stalled {
                    continue;
                }
                state.posted.take()
            };
            let Some(call) = posted else {
                continue;
            };
            let reply = self.monitor.call_from(core, &call);
            self.made.borrow_mut().push((core, call));
            self.cores.borrow_mut()[core].reply = Some(reply);
            made += 1;
        }
        made
    }

    /// Every call the cores made, with the core that made it.
    pub fn made(&self) -> Vec<(usize, SmcccRegisters)> {
        self.made.borrow().clone()
    }

    /// Whether a call is posted and not made yet, on any core.
    pub fn has_posted(&self) -> bool {
        self.cores
            .borrow()
            .iter()
            .any(|core| core.posted.is_some() && !core.stalled)
    }
}

impl Cores for ModelCores {
    fn count(&self) -> usize {
        self.cores.borrow().len()
    }

    fn boot_core(&self) -> usize {
        0
    }

    fn mpidr(&self, core: usize) -> Option<u64> {
        (core < self.count()).then_some(0x8000_0000 | core as u64)
    }

    fn start(&self, core: usize) -> Result<(), StartError> {
        if core == 0 || core >= self.count() {
            return Err(StartError::NoSuchCore);
        }
        Err(StartError::AlreadyOn)
    }

    fn online(&self, core: usize) -> Option<CoreReport> {
        let cores = self.cores.borrow();
        let state = cores.get(core).filter(|_| core != 0)?;
        state.online.then_some(CoreReport {
            mpidr: 0x8000_0000 | core as u64,
            entry_exception_level: 2,
        })
    }

    fn post(&self, _core: usize, _work: CoreWork) -> Result<(), ErrorCode> {
        Err(ErrorCode::NOSUPPORT)
    }

    fn take_result(&self, _core: usize) -> Option<u64> {
        None
    }
}

impl CoreCalls for ModelCores {
    fn post_call(&self, core: usize, call: &SmcccRegisters) -> Result<(), ErrorCode> {
        let mut cores = self.cores.borrow_mut();
        let state = cores
            .get_mut(core)
            .filter(|_| core != 0)
            .ok_or(ErrorCode::INVAL)?;
        if !state.online {
            return Err(ErrorCode::OFF);
        }
        if state.posted.is_some() || state.reply.is_some() {
            return Err(ErrorCode::BUSY);
        }
        state.posted = Some(*call);
        Ok(())
    }

    fn take_reply(&self, core: usize) -> Option<SmcccRegisters> {
        self.cores.borrow_mut().get_mut(core)?.reply.take()
    }
}
