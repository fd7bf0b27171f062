//! Per-core state: what a secondary core reports when it comes online, and
//! the one-slot mailboxes through which the boot core gives it work (a
//! function to run) and SMCCC calls to make from itself.
//!
//! Each field has one writer: the core itself writes its report and its
//! results, the boot core writes requests. Everything is an atomic with
//! acquire/release ordering, so the state is sound across cores; the EL1
//! MMU is on (Normal memory) on both sides. The logic is host-tested with
//! threads standing in for cores.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel::hil::cores::{CoreReport, CoreWork};
use kernel::hil::smccc::{ConduitKind, SmcccRegisters};
use kernel::ErrorCode;

/// One core's state.
pub struct PerCpu {
    online: AtomicBool,
    mpidr: AtomicU64,
    entry_exception_level: AtomicU8,
    work: WorkSlot,
    calls: CallSlot,
}

impl PerCpu {
    /// A core that has not come online.
    pub const fn new() -> PerCpu {
        PerCpu {
            online: AtomicBool::new(false),
            mpidr: AtomicU64::new(0),
            entry_exception_level: AtomicU8::new(0),
            work: WorkSlot::new(),
            calls: CallSlot::new(),
        }
    }

    /// On the core itself: it is online, with this MPIDR, entered at this EL.
    pub fn report_online(&self, mpidr: u64, entry_exception_level: u8) {
        self.mpidr.store(mpidr, Ordering::Relaxed);
        self.entry_exception_level
            .store(entry_exception_level, Ordering::Relaxed);
        self.online.store(true, Ordering::Release);
    }

    /// The core's report, once it is online.
    pub fn report(&self) -> Option<CoreReport> {
        self.online.load(Ordering::Acquire).then(|| CoreReport {
            mpidr: self.mpidr.load(Ordering::Relaxed),
            entry_exception_level: self.entry_exception_level.load(Ordering::Relaxed),
        })
    }

    /// The core's work slot.
    pub fn work(&self) -> &WorkSlot {
        &self.work
    }

    /// The core's call slot.
    pub fn calls(&self) -> &CallSlot {
        &self.calls
    }
}

impl Default for PerCpu {
    fn default() -> Self {
        Self::new()
    }
}

/// A one-slot mailbox: a request posted by the boot core, served by the
/// core, its reply taken by the boot core.
///
/// Requests are numbered: `posted` (boot core) counts requests, `served`
/// (the core) the requests it has finished, `taken` (boot core) the
/// replies taken. A new request may be posted only when the last reply
/// was taken.
pub struct Mailbox<Q: Copy, A: Copy> {
    posted: AtomicU32,
    served: AtomicU32,
    taken: AtomicU32,
    request: UnsafeCell<Option<Q>>,
    reply: UnsafeCell<Option<A>>,
}

// SAFETY: `request` is written only by `post`, on the boot core, while the
// mailbox is idle (`posted == taken`, so the core has finished with the
// last request: `served == posted`), and published by the release store of
// `posted`; the core reads it only after the acquire load of `posted`
// shows a request it has not served, and the boot core does not write it
// again until that request's reply was taken. `reply` is written only by
// the core while it serves (before its release store of `served`) and read
// by the boot core only after the acquire load of `served` shows it, and
// the core does not write it again before the next request, which the
// boot core posts only after taking the reply. So no two accesses to
// either cell ever overlap; the values themselves (`Send`) move between
// cores.
unsafe impl<Q: Copy + Send, A: Copy + Send> Sync for Mailbox<Q, A> {}

impl<Q: Copy, A: Copy> Mailbox<Q, A> {
    /// An idle mailbox.
    pub const fn new() -> Self {
        Mailbox {
            posted: AtomicU32::new(0),
            served: AtomicU32::new(0),
            taken: AtomicU32::new(0),
            request: UnsafeCell::new(None),
            reply: UnsafeCell::new(None),
        }
    }

    /// On the boot core: posts `request`. `Err(BUSY)` while the previous
    /// request's reply has not been taken.
    pub fn post(&self, request: Q) -> Result<(), ErrorCode> {
        let posted = self.posted.load(Ordering::Relaxed);
        if posted != self.taken.load(Ordering::Relaxed) {
            return Err(ErrorCode::BUSY);
        }
        // SAFETY: see `Mailbox`: it is idle, so the core does not read
        // `request` now.
        unsafe { *self.request.get() = Some(request) };
        self.posted.store(posted.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// On the core: answers the pending request with `serve`, if there is
    /// one; returns whether it served one.
    pub fn serve(&self, serve: impl FnOnce(Q) -> A) -> bool {
        let posted = self.posted.load(Ordering::Acquire);
        if posted == self.served.load(Ordering::Relaxed) {
            return false;
        }
        // SAFETY: see `Mailbox`: a request is published and not served, so
        // the boot core writes neither cell now.
        let request = unsafe { *self.request.get() };
        let reply = request.map(serve);
        // SAFETY: as above.
        unsafe { *self.reply.get() = reply };
        self.served.store(posted, Ordering::Release);
        true
    }

    /// On the boot core: the reply to the last request, once served (once).
    pub fn take(&self) -> Option<A> {
        let served = self.served.load(Ordering::Acquire);
        if served != self.posted.load(Ordering::Relaxed)
            || served == self.taken.load(Ordering::Relaxed)
        {
            return None;
        }
        // SAFETY: see `Mailbox`: served and not taken, so the core does not
        // write `reply` until the next post, which needs this take first.
        let reply = unsafe { *self.reply.get() };
        self.taken.store(served, Ordering::Relaxed);
        reply
    }
}

impl<Q: Copy, A: Copy> Default for Mailbox<Q, A> {
    fn default() -> Self {
        Self::new()
    }
}

/// The mailbox of [`CoreWork`]: the core runs the function and its result
/// comes back.
pub struct WorkSlot(Mailbox<CoreWork, u64>);

impl WorkSlot {
    /// An idle slot.
    pub const fn new() -> WorkSlot {
        WorkSlot(Mailbox::new())
    }

    /// On the boot core: posts `work`. `Err(BUSY)` while the previous
    /// request's result has not been taken.
    pub fn post(&self, work: CoreWork) -> Result<(), ErrorCode> {
        self.0.post(work)
    }

    /// On the core: runs the pending request, if any; returns whether it
    /// ran one.
    pub fn serve(&self) -> bool {
        self.0.serve(|work| (work.function)(work.argument))
    }

    /// On the boot core: the result of the last request, once served (once).
    pub fn take_result(&self) -> Option<u64> {
        self.0.take()
    }
}

impl Default for WorkSlot {
    fn default() -> Self {
        Self::new()
    }
}

/// The mailbox of SMCCC calls a core makes itself (the kernel's
/// `CoreCalls`): the registers and the conduit's kind go in, the callee's
/// registers come back.
pub struct CallSlot(Mailbox<(ConduitKind, SmcccRegisters), SmcccRegisters>);

impl CallSlot {
    /// An idle slot.
    pub const fn new() -> CallSlot {
        CallSlot(Mailbox::new())
    }

    /// On the boot core: posts `call`, to be made through a conduit of
    /// `kind`. `Err(BUSY)` while the previous call's reply has not been
    /// taken.
    pub fn post(&self, kind: ConduitKind, call: &SmcccRegisters) -> Result<(), ErrorCode> {
        self.0.post((kind, *call))
    }

    /// On the core: makes the pending call with `call` (the conduit of
    /// that kind), if any; returns whether it made one.
    pub fn serve(&self, call: impl FnOnce(ConduitKind, &SmcccRegisters) -> SmcccRegisters) -> bool {
        self.0.serve(|(kind, registers)| call(kind, &registers))
    }

    /// On the boot core: the reply to the last call, once made (once).
    pub fn take_reply(&self) -> Option<SmcccRegisters> {
        self.0.take()
    }
}

impl Default for CallSlot {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn double(value: u64) -> u64 {
        value * 2
    }

    #[test]
    fn a_core_reports_once_online() {
        let state = PerCpu::new();
        assert_eq!(state.report(), None);
        state.report_online(0x8000_0002, 2);
        assert_eq!(
            state.report(),
            Some(CoreReport {
                mpidr: 0x8000_0002,
                entry_exception_level: 2
            })
        );
    }

    #[test]
    fn one_request_at_a_time_and_each_result_once() {
        let slot = WorkSlot::new();
        assert!(!slot.serve(), "nothing posted");
        assert_eq!(slot.take_result(), None);
        slot.post(CoreWork {
            function: double,
            argument: 21,
        })
        .unwrap();
        let again = slot.post(CoreWork {
            function: double,
            argument: 1,
        });
        assert_eq!(again, Err(ErrorCode::BUSY));
        assert_eq!(slot.take_result(), None, "not served yet");
        assert!(slot.serve());
        assert!(!slot.serve(), "served once");
        assert_eq!(slot.take_result(), Some(42));
        assert_eq!(slot.take_result(), None, "taken once");
        slot.post(CoreWork {
            function: double,
            argument: 5,
        })
        .unwrap();
        assert!(slot.serve());
        assert_eq!(slot.take_result(), Some(10));
    }

    #[test]
    fn another_thread_serves_every_request_in_order() {
        static SLOT: WorkSlot = WorkSlot::new();
        static STOP: AtomicBool = AtomicBool::new(false);
        let core = std::thread::spawn(|| {
            while !STOP.load(Ordering::Acquire) {
                if !SLOT.serve() {
                    std::thread::yield_now();
                }
            }
        });
        for argument in 0..2_000u64 {
            SLOT.post(CoreWork {
                function: double,
                argument,
            })
            .unwrap();
            let result = loop {
                if let Some(result) = SLOT.take_result() {
                    break result;
                }
                std::thread::yield_now();
            };
            assert_eq!(result, argument * 2);
        }
        STOP.store(true, Ordering::Release);
        core.join().unwrap();
    }

    #[test]
    fn calls_come_back_with_the_callees_registers_once() {
        let slot = CallSlot::new();
        assert_eq!(slot.take_reply(), None);
        let call = SmcccRegisters::from_slice(&[0x8400_0069, 7]);
        slot.post(ConduitKind::Smc, &call).unwrap();
        assert_eq!(slot.post(ConduitKind::Smc, &call), Err(ErrorCode::BUSY));
        assert_eq!(slot.take_reply(), None, "not made yet");
        let mut seen = None;
        assert!(slot.serve(|kind, registers| {
            seen = Some((kind, *registers));
            SmcccRegisters::from_slice(&[0x8400_0061, 0, registers.x[1] + 1])
        }));
        assert_eq!(seen, Some((ConduitKind::Smc, call)));
        assert!(!slot.serve(|_, _| unreachable!("served once")));
        assert_eq!(
            slot.take_reply(),
            Some(SmcccRegisters::from_slice(&[0x8400_0061, 0, 8]))
        );
        assert_eq!(slot.take_reply(), None, "taken once");
        slot.post(ConduitKind::Hvc, &call).unwrap();
    }

    #[test]
    fn another_thread_makes_every_call_in_order() {
        static SLOT: CallSlot = CallSlot::new();
        static STOP: AtomicBool = AtomicBool::new(false);
        let core = std::thread::spawn(|| {
            while !STOP.load(Ordering::Acquire) {
                let served = SLOT.serve(|_, registers| {
                    let mut reply = *registers;
                    reply
                        .x
                        .iter_mut()
                        .for_each(|value| *value = value.wrapping_mul(3));
                    reply
                });
                if !served {
                    std::thread::yield_now();
                }
            }
        });
        for round in 0..2_000u64 {
            let call = SmcccRegisters {
                x: core::array::from_fn(|index| round + index as u64),
            };
            SLOT.post(ConduitKind::Smc, &call).unwrap();
            let reply = loop {
                if let Some(reply) = SLOT.take_reply() {
                    break reply;
                }
                std::thread::yield_now();
            };
            let expected: [u64; 18] = core::array::from_fn(|index| (round + index as u64) * 3);
            assert_eq!(reply.x, expected, "every register of round {round}");
        }
        STOP.store(true, Ordering::Release);
        core.join().unwrap();
    }
}
