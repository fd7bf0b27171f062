//! The kernel's main loop: interrupts first, then deferred calls, then the
//! loop services (such as the init queue), then sleep.
//!
//! Each turn of the loop does one unit of work and starts again from the
//! top, so a pending interrupt never waits behind more than one deferred
//! call or one service.
//!
//! The kernel thread runs with IRQs masked and polls the interrupt
//! controller, so nothing can become pending between "there is no work" and
//! the `wfi` in [`Chip::sleep`] except a hardware interrupt, and `wfi` wakes
//! on a pending interrupt even while it is masked: checking, then sleeping,
//! is race-free.
//!
//! ```no_run
//! use kernel::init_queue::InitQueue;
//! use kernel::main_loop::{LoopService, MainLoop};
//! use kernel::platform::chip::Chip;
//! use kernel::static_init;
//!
//! /// Stands in for the board's chip.
//! struct Soc;
//!
//! impl Chip for Soc {
//!     fn service_pending_interrupts(&self) {}
//!     fn has_pending_interrupts(&self) -> bool {
//!         false
//!     }
//!     fn sleep(&self) {} // `wfi` on hardware
//! }
//!
//! let chip = static_init!(Soc, Soc);
//! let init_queue = static_init!(InitQueue<'static, 16, 16>, InitQueue::new());
//! // ... declare conditions and add entries to the init queue ...
//! let services = static_init!([&'static dyn LoopService; 1], [init_queue]);
//! MainLoop::new(chip, services).run()
//! ```

use crate::deferred_call::DeferredCall;
use crate::platform::chip::Chip;

/// Work the main loop polls after interrupts and deferred calls.
pub trait LoopService {
    /// Whether [`LoopService::service`] has something to do now.
    fn has_work(&self) -> bool;

    /// Does the pending work. Called from the main loop only when
    /// [`LoopService::has_work`] returned `true`.
    fn service(&self);
}

/// The main loop of a board.
pub struct MainLoop<'a, C: Chip> {
    chip: &'a C,
    services: &'a [&'a dyn LoopService],
}

impl<'a, C: Chip> MainLoop<'a, C> {
    /// A main loop for `chip`, polling `services` in order after interrupts
    /// and deferred calls.
    pub const fn new(chip: &'a C, services: &'a [&'a dyn LoopService]) -> Self {
        MainLoop { chip, services }
    }

    /// Does one unit of work, the first that applies of: service the pending
    /// interrupts; run one deferred call; service the first loop service that
    /// has work. Returns `false` if there was nothing to do.
    pub fn run_once(&self) -> bool {
        if self.chip.has_pending_interrupts() {
            self.chip.service_pending_interrupts();
            return true;
        }
        if DeferredCall::service_next_pending() {
            return true;
        }
        match self.services.iter().find(|service| service.has_work()) {
            Some(service) => {
                service.service();
                true
            }
            None => false,
        }
    }

    /// Runs forever: [`MainLoop::run_once`], and when there was nothing to
    /// do, [`Chip::sleep`] until an interrupt is pending.
    pub fn run(&self) -> ! {
        loop {
            if !self.run_once() {
                self.chip.sleep();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deferred_call::tests::{exclusive, leaked_log, recorder};
    use crate::deferred_call::DeferredCallClient;
    use core::cell::Cell;
    use std::vec::Vec;

    /// Records what the main loop did, in order.
    #[derive(Default)]
    struct Journal {
        events: core::cell::RefCell<Vec<&'static str>>,
    }

    impl Journal {
        fn record(&self, event: &'static str) {
            self.events.borrow_mut().push(event);
        }

        fn events(&self) -> Vec<&'static str> {
            self.events.borrow().clone()
        }
    }

    struct FakeChip<'j> {
        pending_interrupts: Cell<usize>,
        sleeps: Cell<usize>,
        /// Interrupts that arrive when the chip sleeps.
        interrupts_on_wake: Cell<usize>,
        journal: &'j Journal,
    }

    impl<'j> FakeChip<'j> {
        fn new(journal: &'j Journal) -> Self {
            FakeChip {
                pending_interrupts: Cell::new(0),
                sleeps: Cell::new(0),
                interrupts_on_wake: Cell::new(0),
                journal,
            }
        }
    }

    impl Chip for FakeChip<'_> {
        fn service_pending_interrupts(&self) {
            self.pending_interrupts.set(0);
            self.journal.record("interrupts");
        }

        fn has_pending_interrupts(&self) -> bool {
            self.pending_interrupts.get() != 0
        }

        fn sleep(&self) {
            self.sleeps.set(self.sleeps.get() + 1);
            self.journal.record("sleep");
            let arriving = self.interrupts_on_wake.replace(0);
            if arriving == 0 {
                panic!("slept with nothing left to wake it");
            }
            self.pending_interrupts.set(arriving);
        }
    }

    struct FakeService<'j> {
        name: &'static str,
        work: Cell<usize>,
        journal: &'j Journal,
    }

    impl LoopService for FakeService<'_> {
        fn has_work(&self) -> bool {
            self.work.get() != 0
        }

        fn service(&self) {
            self.work.set(self.work.get() - 1);
            self.journal.record(self.name);
        }
    }

    #[test]
    fn nothing_to_do() {
        let _guard = exclusive();
        let journal = Journal::default();
        let chip = FakeChip::new(&journal);
        let main_loop = MainLoop::new(&chip, &[]);
        assert!(!main_loop.run_once());
        assert!(journal.events().is_empty());
    }

    #[test]
    fn one_unit_of_work_per_turn_in_priority_order() {
        let _guard = exclusive();
        let journal = Journal::default();
        let chip = FakeChip::new(&journal);
        let first = FakeService {
            name: "first",
            work: Cell::new(1),
            journal: &journal,
        };
        let second = FakeService {
            name: "second",
            work: Cell::new(2),
            journal: &journal,
        };
        let services: [&dyn LoopService; 2] = [&first, &second];
        let main_loop = MainLoop::new(&chip, &services);

        let log = leaked_log();
        let deferred = recorder(9, log);
        deferred.register();
        deferred.call.set();
        chip.pending_interrupts.set(1);

        assert!(main_loop.run_once());
        assert_eq!(journal.events(), ["interrupts"]);
        assert!(main_loop.run_once());
        assert_eq!(log.recorded(), [9]);
        assert_eq!(journal.events(), ["interrupts"]);
        assert!(main_loop.run_once());
        // An interrupt that arrives between turns goes before services.
        chip.pending_interrupts.set(1);
        assert!(main_loop.run_once());
        assert!(main_loop.run_once());
        assert!(main_loop.run_once());
        assert!(!main_loop.run_once());
        assert_eq!(
            journal.events(),
            ["interrupts", "first", "interrupts", "second", "second"]
        );
    }

    #[test]
    fn run_sleeps_only_when_idle() {
        let _guard = exclusive();
        let journal = Journal::default();
        let chip = FakeChip::new(&journal);
        let service = FakeService {
            name: "service",
            work: Cell::new(2),
            journal: &journal,
        };
        let services: [&dyn LoopService; 1] = [&service];
        let main_loop = MainLoop::new(&chip, &services);
        chip.interrupts_on_wake.set(1);

        let outcome = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| main_loop.run()));
        assert!(outcome.is_err(), "run() returned");
        assert_eq!(
            journal.events(),
            ["service", "service", "sleep", "interrupts", "sleep"]
        );
        assert_eq!(chip.sleeps.get(), 2);
    }

    #[test]
    fn drives_an_init_queue() {
        use crate::init_queue::{ConditionSet, EntryState, InitQueue, Probe, ProbeResult, Queue};

        struct Waits {
            ready: Cell<bool>,
            condition: crate::init_queue::ConditionId,
        }
        impl Probe for Waits {
            fn probe(&self) -> ProbeResult {
                if self.ready.get() {
                    ProbeResult::Ready
                } else {
                    ProbeResult::Defer(ConditionSet::of(self.condition))
                }
            }
        }

        let _guard = exclusive();
        let journal = Journal::default();
        let chip = FakeChip::new(&journal);
        let queue: InitQueue<'_, 2, 2> = InitQueue::new();
        let condition = queue.declare_condition("firmware").unwrap();
        let waits = Waits {
            ready: Cell::new(false),
            condition,
        };
        let entry = queue.add("driver", &waits, None).unwrap();
        let services: [&dyn LoopService; 1] = [&queue];
        let main_loop = MainLoop::new(&chip, &services);

        assert!(main_loop.run_once());
        assert!(!main_loop.run_once());
        assert_eq!(
            queue.state(entry),
            EntryState::Waiting(ConditionSet::of(condition))
        );
        // An interrupt handler learns that the firmware answered.
        waits.ready.set(true);
        queue.signal(condition);
        assert!(main_loop.run_once());
        assert_eq!(queue.state(entry), EntryState::Ready);
        assert!(!main_loop.run_once());
        assert_eq!(queue.attempts(), 2);
    }
}
