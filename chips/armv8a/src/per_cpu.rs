//! Per-core state: what a secondary core reports when it comes online, and
//! the one-slot mailbox through which the boot core gives it work.
//!
//! Each field has one writer: the core itself writes its report and its
//! results, the boot core writes requests. Everything is an atomic with
//! acquire/release ordering, so the state is sound across cores; the EL1
//! MMU is on (Normal memory) on both sides. The logic is host-tested with
//! threads standing in for cores.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel::hil::cores::{CoreReport, CoreWork};
use kernel::ErrorCode;

/// One core's state.
pub struct PerCpu {
    online: AtomicBool,
    mpidr: AtomicU64,
    entry_exception_level: AtomicU8,
    work: WorkSlot,
}

impl PerCpu {
    /// A core that has not come online.
    pub const fn new() -> PerCpu {
        PerCpu {
            online: AtomicBool::new(false),
            mpidr: AtomicU64::new(0),
            entry_exception_level: AtomicU8::new(0),
            work: WorkSlot::new(),
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
}

impl Default for PerCpu {
    fn default() -> Self {
        Self::new()
    }
}

/// A one-slot mailbox of [`CoreWork`]: posted by the boot core, served by
/// the core, its result taken by the boot core.
///
/// Requests are numbered: `posted` (boot core) counts requests, `served`
/// (the core) the requests it has finished, `taken` (boot core) the
/// results taken. A new request may be posted only when the last result
/// was taken.
pub struct WorkSlot {
    posted: AtomicU32,
    served: AtomicU32,
    taken: AtomicU32,
    request: UnsafeCell<Option<CoreWork>>,
    result: AtomicU64,
}

// SAFETY: `request` is written only by `post`, on the boot core, while the
// slot is idle (`posted == taken`, so the core has finished with the last
// request: `served == posted`), and published by the release store of
// `posted`; the core reads it only after the acquire load of `posted` shows
// a request it has not served, and the boot core does not write it again
// until that request's result was taken (after the core's release store of
// `served`). So the two never access it at the same time.
unsafe impl Sync for WorkSlot {}

impl WorkSlot {
    /// An idle slot.
    pub const fn new() -> WorkSlot {
        WorkSlot {
            posted: AtomicU32::new(0),
            served: AtomicU32::new(0),
            taken: AtomicU32::new(0),
            request: UnsafeCell::new(None),
            result: AtomicU64::new(0),
        }
    }

    /// On the boot core: posts `work`. `Err(BUSY)` while the previous
    /// request's result has not been taken.
    pub fn post(&self, work: CoreWork) -> Result<(), ErrorCode> {
        let posted = self.posted.load(Ordering::Relaxed);
        if posted != self.taken.load(Ordering::Relaxed) {
            return Err(ErrorCode::BUSY);
        }
        // SAFETY: see `WorkSlot`: the slot is idle, so the core does not
        // read `request` now.
        unsafe { *self.request.get() = Some(work) };
        self.posted.store(posted.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// On the core: runs the pending request, if any; returns whether it
    /// ran one.
    pub fn serve(&self) -> bool {
        let posted = self.posted.load(Ordering::Acquire);
        if posted == self.served.load(Ordering::Relaxed) {
            return false;
        }
        // SAFETY: see `WorkSlot`: a request is published and not served, so
        // the boot core does not write `request` now.
        let work = unsafe { *self.request.get() };
        let result = work.map_or(0, |work| (work.function)(work.argument));
        self.result.store(result, Ordering::Relaxed);
        self.served.store(posted, Ordering::Release);
        true
    }

    /// On the boot core: the result of the last request, once served (once).
    pub fn take_result(&self) -> Option<u64> {
        let served = self.served.load(Ordering::Acquire);
        if served != self.posted.load(Ordering::Relaxed)
            || served == self.taken.load(Ordering::Relaxed)
        {
            return None;
        }
        let result = self.result.load(Ordering::Relaxed);
        self.taken.store(served, Ordering::Relaxed);
        Some(result)
    }
}

impl Default for WorkSlot {
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
}
