//! The secure monitor as a conduit: the model ([`ModelMonitor`]), or a
//! script of hand-written replies ([`ScriptedConduit`]).
//!
//! ```
//! use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
//! use testbed::monitor::ScriptedConduit;
//!
//! let conduit = ScriptedConduit::new(&[&[0x0001_0002]]);
//! assert_eq!(conduit.call(&SmcccRegisters::with_function(0x8400_0063)).x[0], 0x0001_0002);
//! assert_eq!(conduit.call(&SmcccRegisters::with_function(0x8400_0063)).x[0], u64::MAX);
//! assert_eq!(conduit.functions(), [0x8400_0063, 0x8400_0063]);
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;

use ffa_model::{FaultConfig, Outcome, Platform, SecureWorld};
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};

use crate::memory::Memory;

/// The calls a conduit received, in order.
#[derive(Default)]
pub struct CallLog(RefCell<Vec<SmcccRegisters>>);

impl CallLog {
    /// Records `call`.
    fn record(&self, call: &SmcccRegisters) {
        self.0.borrow_mut().push(*call);
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<SmcccRegisters> {
        self.0.borrow().clone()
    }

    /// The function IDs (w0) of every call so far.
    pub fn functions(&self) -> Vec<u32> {
        self.0
            .borrow()
            .iter()
            .map(|call| call.x[0] as u32)
            .collect()
    }

    /// How many calls used function `id`.
    pub fn count(&self, id: u32) -> usize {
        self.0
            .borrow()
            .iter()
            .filter(|call| call.x[0] as u32 == id)
            .count()
    }

    /// Forgets the calls so far.
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// The machine the model runs on in host tests: a clock the test sets (and
/// that may move by itself at each reading), the interrupts the model
/// raised for the normal world (pending until the test serves them, as the
/// chip's interrupt controller keeps them), and the secure timer.
#[derive(Default)]
pub struct HostMachine {
    /// Microseconds.
    pub now_us: u64,
    /// Microseconds each reading of the clock adds.
    pub step_us: u64,
    /// Every interrupt raised, in order.
    pub raised: Vec<u32>,
    /// Interrupts pending for the normal world.
    pub pending: Vec<u32>,
    /// The secure timer's deadline.
    pub timer_us: Option<u64>,
}

impl Platform for HostMachine {
    fn now_microseconds(&mut self) -> u64 {
        self.now_us += self.step_us;
        self.now_us
    }

    fn non_secure_interrupt_pending(&mut self) -> bool {
        !self.pending.is_empty()
    }

    fn raise_non_secure_interrupt(&mut self, id: u32) {
        self.raised.push(id);
        if !self.pending.contains(&id) {
            self.pending.push(id);
        }
    }

    fn set_secure_timer(&mut self, deadline_microseconds: Option<u64>) {
        self.timer_us = deadline_microseconds;
    }
}

/// A reply rewriter: given the call and the model's reply, returns the reply to hand back.
pub type Rewriter = Box<dyn FnMut(&SmcccRegisters, SmcccRegisters) -> SmcccRegisters>;

/// The FF-A model as the secure monitor: every call goes to
/// `ffa_model::SecureWorld`, over shared simulated memory. The model's
/// clock (for its readiness faults) is set by the test, and may also
/// advance by a fixed step before every call.
pub struct ModelMonitor {
    world: RefCell<SecureWorld>,
    memory: Memory,
    machine: RefCell<HostMachine>,
    clock_step_us: u64,
    log: CallLog,
    rewriter: RefCell<Option<Rewriter>>,
}

impl ModelMonitor {
    /// The model configured by `config`, over `memory`; its clock stays
    /// where the test sets it.
    pub fn new(config: FaultConfig, memory: Memory) -> ModelMonitor {
        ModelMonitor::with_clock_step(config, memory, 0)
    }

    /// The same, with a clock that advances `step_us` before every call.
    pub fn with_clock_step(config: FaultConfig, memory: Memory, step_us: u64) -> ModelMonitor {
        ModelMonitor {
            world: RefCell::new(SecureWorld::new(config)),
            memory,
            machine: RefCell::new(HostMachine::default()),
            clock_step_us: step_us,
            log: CallLog::default(),
            rewriter: RefCell::new(None),
        }
    }

    /// The model's memory.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// The model itself, for assertions on its state.
    pub fn world(&self) -> std::cell::Ref<'_, SecureWorld> {
        self.world.borrow()
    }

    /// The model itself, to save or restore its state.
    pub fn world_mut(&self) -> std::cell::RefMut<'_, SecureWorld> {
        self.world.borrow_mut()
    }

    /// Sets the model's clock (microseconds).
    pub fn set_clock_us(&self, now: u64) {
        self.machine.borrow_mut().now_us = now;
    }

    /// The machine the model runs on (its clock, interrupts and timer).
    pub fn machine(&self) -> std::cell::RefMut<'_, HostMachine> {
        self.machine.borrow_mut()
    }

    /// The normal world takes every interrupt the model raised and left
    /// pending (as the kernel's interrupt controller would); returns them.
    pub fn take_interrupts(&self) -> Vec<u32> {
        std::mem::take(&mut self.machine.borrow_mut().pending)
    }

    /// Lets the secure timer expire, if armed (the clock moves to its
    /// deadline). Returns whether it was armed.
    pub fn expire_secure_timer(&self) -> bool {
        let mut machine = self.machine.borrow_mut();
        let Some(deadline) = machine.timer_us.take() else {
            return false;
        };
        machine.now_us = machine.now_us.max(deadline);
        self.memory.with(|memory| {
            self.world
                .borrow_mut()
                .secure_timer_expired(memory, &mut *machine)
        });
        true
    }

    /// Rewrites every later reply with `rewriter` (to inject malformed answers).
    pub fn rewrite(
        &self,
        rewriter: impl FnMut(&SmcccRegisters, SmcccRegisters) -> SmcccRegisters + 'static,
    ) {
        *self.rewriter.borrow_mut() = Some(Box::new(rewriter));
    }

    /// Stops rewriting replies.
    pub fn stop_rewriting(&self) {
        *self.rewriter.borrow_mut() = None;
    }

    /// The calls so far.
    pub fn log(&self) -> &CallLog {
        &self.log
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<SmcccRegisters> {
        self.log.calls()
    }

    /// The function IDs (w0) of every call so far.
    pub fn functions(&self) -> Vec<u32> {
        self.log.functions()
    }

    /// How many calls used function `id`.
    pub fn count(&self, id: u32) -> usize {
        self.log.count(id)
    }

    /// Forgets the calls so far.
    pub fn clear_calls(&self) {
        self.log.clear();
    }
}

impl SmcccConduit for ModelMonitor {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.call_from(0, arguments)
    }
}

impl ModelMonitor {
    /// A call made on core `core` (MPIDR Aff0): as [`SmcccConduit::call`],
    /// the model seeing it come from that core.
    pub fn call_from(&self, core: usize, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.log.record(arguments);
        let outcome = {
            let mut machine = self.machine.borrow_mut();
            machine.now_us += self.clock_step_us;
            self.memory.with(|memory| {
                self.world
                    .borrow_mut()
                    .handle_from_core(core, &arguments.x, memory, &mut *machine)
            })
        };
        let reply = match outcome {
            Outcome::Return(registers) => SmcccRegisters { x: registers },
            other => panic!("unexpected model outcome {other:?}"),
        };
        match self.rewriter.borrow_mut().as_mut() {
            Some(rewriter) => rewriter(arguments, reply),
            None => reply,
        }
    }
}

/// A conduit answering from a script of register files (and recording calls).
pub struct ScriptedConduit {
    replies: RefCell<VecDeque<SmcccRegisters>>,
    log: CallLog,
    /// Answered once the script runs out: x0 = -1.
    fallback: SmcccRegisters,
}

impl ScriptedConduit {
    /// A conduit that answers `replies` in order (each the first registers
    /// of a reply, the rest zero), then x0 = -1.
    pub fn new(replies: &[&[u64]]) -> ScriptedConduit {
        ScriptedConduit {
            replies: RefCell::new(
                replies
                    .iter()
                    .map(|reply| SmcccRegisters::from_slice(reply))
                    .collect(),
            ),
            log: CallLog::default(),
            fallback: SmcccRegisters::from_slice(&[u64::MAX]),
        }
    }

    /// The function IDs (w0) of every call so far.
    pub fn functions(&self) -> Vec<u32> {
        self.log.functions()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<SmcccRegisters> {
        self.log.calls()
    }
}

impl SmcccConduit for ScriptedConduit {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Hvc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.log.record(arguments);
        self.replies
            .borrow_mut()
            .pop_front()
            .unwrap_or(self.fallback)
    }
}
