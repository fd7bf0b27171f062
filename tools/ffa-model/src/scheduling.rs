//! The scheduling partition (0x8005): long work that an interrupt of the
//! normal world preempts, and yields with a timeout. Its protocol is
//! `ffa_abi::test_services::scheduling`.
//!
//! **Work** (`WORK`, w4 = microseconds, w5 = a doorbell interrupt, w6 = its
//! period): the partition runs until it has worked that long. Whenever an
//! interrupt the normal world enabled is pending ([`Platform`]), it stops
//! and the SPMC answers `FFA_INTERRUPT` (w1 = partition << 16 | vCPU 0), as
//! an SPMC preempts a partition for a non-secure interrupt; `FFA_RUN`
//! resumes it. The doorbell is an SPI the partition makes pending for the
//! normal world at the start and then every period of work, standing in for
//! a device of the normal world that interrupts while the partition runs.
//! A client that resumes without serving the interrupt finds it still
//! pending: the partition is preempted again at once and never gets
//! further (a livelock the answer's "resumptions that found an interrupt
//! pending" counts). Time only passes for the work while the partition
//! runs.
//!
//! **Yield** (`YIELD`, w4 = timeout in microseconds, w5 = times): the
//! partition answers `FFA_YIELD` with the timeout in nanoseconds in w2
//! (bits 0–31) and w3 (bits 32–63), that many times; each `FFA_RUN` that
//! comes before the timeout has passed is counted as early.
//!
//! Responses: w3 = 0 and the results of the protocol, or w3 =
//! `INVALID_PARAMETERS` for an unknown command or a doorbell outside
//! `scheduling::DOORBELLS`.

use crate::platform::Platform;
use ffa_abi::test_services::scheduling;
use ffa_abi::Status;

/// Most polls of the clock and the interrupt controller in one run of the
/// work (a bound on the loop).
pub const MAXIMUM_POLLS: u32 = 50_000_000;
/// Polls in a row that find the clock where it was before the work stops:
/// the clock stands still (a caller with no time, [`crate::platform::FixedClock`]).
pub const STANDSTILL_POLLS: u32 = 10_000;

/// What the scheduling partition is doing for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// Nothing (every other partition).
    None,
    /// Preemptible work.
    Work(Work),
    /// Yields with a timeout.
    Yield(Yielding),
}

/// Preemptible work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Work {
    total_us: u64,
    worked_us: u64,
    doorbell: Option<u32>,
    period_us: u64,
    next_doorbell_us: u64,
    preemptions: u32,
    doorbells: u32,
    unserved_resumptions: u32,
}

/// Yields with a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Yielding {
    timeout_us: u64,
    remaining: u32,
    yields: u32,
    yielded_at_us: u64,
    early: u32,
    shortest_wait_us: u64,
}

/// Where a run of the partition ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Preempted by a non-secure interrupt: answer `FFA_INTERRUPT`.
    Preempted,
    /// Yielded: answer `FFA_YIELD` with this timeout in nanoseconds.
    Yielded(u64),
    /// Done: respond with this payload (w3–w7).
    Respond([u64; 5]),
}

const fn error_payload(status: Status) -> [u64; 5] {
    [status.code() as u32 as u64, 0, 0, 0, 0]
}

/// The job a request `payload` (w3–w7) asks for, or the response to a bad one.
pub(crate) fn accept(payload: &[u64]) -> Result<Job, [u64; 5]> {
    let word = |index: usize| payload.get(index).copied().unwrap_or(0);
    match word(0) as u32 {
        scheduling::WORK => {
            let doorbell = match word(2) as u32 {
                0 => None,
                id if scheduling::DOORBELLS.contains(&id) => Some(id),
                _ => return Err(error_payload(Status::InvalidParameters)),
            };
            Ok(Job::Work(Work {
                total_us: word(1),
                worked_us: 0,
                doorbell,
                period_us: word(3),
                next_doorbell_us: 0,
                preemptions: 0,
                doorbells: 0,
                unserved_resumptions: 0,
            }))
        }
        scheduling::YIELD => Ok(Job::Yield(Yielding {
            timeout_us: word(1),
            remaining: word(2) as u32,
            yields: 0,
            yielded_at_us: 0,
            early: 0,
            shortest_wait_us: u64::MAX,
        })),
        _ => Err(error_payload(Status::InvalidParameters)),
    }
}

/// Runs `job` (first run if `resumed` is false, else an `FFA_RUN`).
pub(crate) fn run(job: &mut Job, resumed: bool, platform: &mut dyn Platform) -> Step {
    match job {
        Job::None => Step::Respond([0; 5]),
        Job::Work(work) => run_work(work, resumed, platform),
        Job::Yield(yielding) => run_yield(yielding, resumed, platform),
    }
}

fn run_work(work: &mut Work, resumed: bool, platform: &mut dyn Platform) -> Step {
    if resumed && platform.non_secure_interrupt_pending() {
        work.unserved_resumptions = work.unserved_resumptions.saturating_add(1);
        work.preemptions = work.preemptions.saturating_add(1);
        return Step::Preempted;
    }
    let mut last = platform.now_microseconds();
    let mut standing_still = 0;
    for _ in 0..MAXIMUM_POLLS {
        if let Some(doorbell) = work.doorbell {
            if work.worked_us >= work.next_doorbell_us {
                platform.raise_non_secure_interrupt(doorbell);
                work.doorbells = work.doorbells.saturating_add(1);
                work.next_doorbell_us = match work.period_us {
                    0 => u64::MAX,
                    period => work.next_doorbell_us.saturating_add(period),
                };
            }
        }
        if platform.non_secure_interrupt_pending() {
            work.preemptions = work.preemptions.saturating_add(1);
            return Step::Preempted;
        }
        let now = platform.now_microseconds();
        standing_still = if now == last { standing_still + 1 } else { 0 };
        work.worked_us = work.worked_us.saturating_add(now.saturating_sub(last));
        last = now;
        if work.worked_us >= work.total_us || standing_still >= STANDSTILL_POLLS {
            break;
        }
    }
    Step::Respond([
        0,
        u64::from(work.preemptions),
        u64::from(work.doorbells),
        u64::from(work.unserved_resumptions),
        work.worked_us / 1000,
    ])
}

fn run_yield(yielding: &mut Yielding, resumed: bool, platform: &mut dyn Platform) -> Step {
    let now = platform.now_microseconds();
    if resumed {
        let waited = now.saturating_sub(yielding.yielded_at_us);
        if waited < yielding.timeout_us {
            yielding.early = yielding.early.saturating_add(1);
        }
        yielding.shortest_wait_us = yielding.shortest_wait_us.min(waited);
    }
    if yielding.remaining > 0 {
        yielding.remaining -= 1;
        yielding.yields = yielding.yields.saturating_add(1);
        yielding.yielded_at_us = now;
        return Step::Yielded(yielding.timeout_us.saturating_mul(1000));
    }
    let shortest = match yielding.shortest_wait_us {
        u64::MAX => 0,
        shortest => shortest,
    };
    Step::Respond([
        0,
        u64::from(yielding.early),
        shortest,
        u64::from(yielding.yields),
        0,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::FixedClock;

    /// A clock that moves 10 µs per reading, with an interrupt pending
    /// from a given reading on until it is served.
    struct Ticking {
        now: u64,
        pending_from: Option<u64>,
        raised: std::vec::Vec<u32>,
    }

    impl Platform for Ticking {
        fn now_microseconds(&mut self) -> u64 {
            self.now += 10;
            self.now
        }
        fn non_secure_interrupt_pending(&mut self) -> bool {
            self.pending_from.is_some_and(|from| self.now >= from)
        }
        fn raise_non_secure_interrupt(&mut self, id: u32) {
            self.raised.push(id);
        }
        fn set_secure_timer(&mut self, _: Option<u64>) {}
    }

    #[test]
    fn work_is_preempted_until_the_interrupt_is_served() {
        let mut job = accept(&[u64::from(scheduling::WORK), 1000, 130, 400]).unwrap();
        let mut platform = Ticking {
            now: 0,
            pending_from: Some(200),
            raised: std::vec::Vec::new(),
        };
        assert_eq!(run(&mut job, false, &mut platform), Step::Preempted);
        assert_eq!(platform.raised, [130]);
        // Resumed without serving: preempted again at once.
        assert_eq!(run(&mut job, true, &mut platform), Step::Preempted);
        platform.pending_from = None;
        let Step::Respond(payload) = run(&mut job, true, &mut platform) else {
            panic!("not done");
        };
        assert_eq!(payload[0], 0);
        assert_eq!(payload[1], 2, "preemptions");
        assert_eq!(payload[3], 1, "one resumption found it pending");
        assert!(payload[2] >= 3, "doorbells every 400 µs of 1000");
    }

    #[test]
    fn yields_count_early_resumptions() {
        let mut job = accept(&[u64::from(scheduling::YIELD), 50, 2]).unwrap();
        let mut platform = Ticking {
            now: 0,
            pending_from: None,
            raised: std::vec::Vec::new(),
        };
        assert_eq!(run(&mut job, false, &mut platform), Step::Yielded(50_000));
        // The next reading is only 10 µs later: early.
        assert_eq!(run(&mut job, true, &mut platform), Step::Yielded(50_000));
        platform.now += 100;
        let Step::Respond(payload) = run(&mut job, true, &mut platform) else {
            panic!("not done");
        };
        assert_eq!(payload[1], 1, "one early");
        assert_eq!(payload[3], 2, "two yields");
    }

    #[test]
    fn bad_commands_and_doorbells_are_refused() {
        assert!(accept(&[99]).is_err());
        assert!(accept(&[u64::from(scheduling::WORK), 10, 33]).is_err());
        let mut job = accept(&[u64::from(scheduling::WORK), 10, 0]).unwrap();
        // A clock that stands still: the bound ends the work.
        assert!(matches!(
            run(&mut job, false, &mut FixedClock(5)),
            Step::Respond(_)
        ));
    }
}
