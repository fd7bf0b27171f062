//! Probe attempts and wall time of the deferred-init queue against a
//! Linux-style "retry every deferred entry after each success" baseline.
//!
//! Run with `cargo bench -p kernel --bench init_queue`.
//!
//! The workload is the worst registration order for a chain: entry `i` can
//! only initialise once entry `i + 1` has, the last entry is ready at once,
//! and entries are added in the order `0, 1, …, N - 1`. Every entry has a
//! condition of its own (no sharing of conditions between entries): for
//! `N = 100` and `N = 1000` the queue uses wider condition sets (2 and 16
//! words). Both sides call the very same probe objects, so they pay the same
//! price per attempt; the attempt counts are what matters once probes do
//! real work (an SMC round trip, a register poll), the times show the
//! bookkeeping cost with probes that do nothing.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use kernel::init_queue::{ConditionId, InitQueue, Probe, WideConditionSet, WideProbeResult};

/// Entry `index` of the chain: ready once entry `index + 1` is.
struct Link<'w> {
    index: usize,
    /// Which entries are initialised (shared by the whole chain).
    ready: &'w [Cell<bool>],
    /// The condition entry `index + 1` provides, if there is one.
    waits_on: Option<ConditionId>,
    /// Probe calls, over the whole chain.
    attempts: &'w Cell<usize>,
}

impl Link<'_> {
    fn try_initialise(&self) -> Option<ConditionId> {
        self.attempts.set(self.attempts.get() + 1);
        let next_is_up = self.ready.get(self.index + 1).is_none_or(|next| next.get());
        if next_is_up {
            self.ready[self.index].set(true);
            None
        } else {
            self.waits_on
        }
    }
}

impl<const WORDS: usize> Probe<WORDS> for Link<'_> {
    fn probe(&self) -> WideProbeResult<WORDS> {
        match self.try_initialise() {
            None => WideProbeResult::Ready,
            Some(condition) => WideProbeResult::Defer(WideConditionSet::of(condition)),
        }
    }
}

/// One side's result for one `N`.
struct Measurement {
    attempts: usize,
    median: Duration,
}

/// The chain's state for one run: fresh `ready` flags and attempt counter.
struct World {
    ready: Vec<Cell<bool>>,
    attempts: Cell<usize>,
}

impl World {
    fn new(entries: usize) -> Self {
        World {
            ready: (0..entries).map(|_| Cell::new(false)).collect(),
            attempts: Cell::new(0),
        }
    }

    fn links(&self, conditions: &[ConditionId]) -> Vec<Link<'_>> {
        (0..self.ready.len())
            .map(|index| Link {
                index,
                ready: &self.ready,
                waits_on: conditions.get(index + 1).copied(),
                attempts: &self.attempts,
            })
            .collect()
    }

    fn all_ready(&self) -> bool {
        self.ready.iter().all(Cell::get)
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Our queue: add every entry, then service until settled.
fn measure_ours<const N: usize, const WORDS: usize>(repetitions: usize) -> Measurement {
    let mut times = Vec::with_capacity(repetitions);
    let mut attempts = 0;
    for _ in 0..repetitions {
        let world = World::new(N);
        let queue: Box<InitQueue<'_, N, N, WORDS>> = Box::new(InitQueue::new());
        let conditions: Vec<ConditionId> = (0..N)
            .map(|_| queue.declare_condition("link").expect("condition capacity"))
            .collect();
        let links = world.links(&conditions);

        let start = Instant::now();
        for (link, condition) in links.iter().zip(&conditions) {
            queue
                .add("link", link, Some(*condition))
                .expect("entry capacity");
        }
        queue.service();
        times.push(start.elapsed());

        black_box(&queue);
        assert!(world.all_ready() && queue.is_settled());
        assert_eq!(queue.attempts(), world.attempts.get());
        attempts = queue.attempts();
    }
    Measurement {
        attempts,
        median: median(times),
    }
}

/// The baseline: probe each entry as it is registered; keep the deferred
/// ones on a list; after every successful probe, retry every deferred entry
/// (and again after each success during that retry), as Linux does with
/// `-EPROBE_DEFER`.
fn measure_baseline<const N: usize>(repetitions: usize, conditions: &[ConditionId]) -> Measurement {
    let mut times = Vec::with_capacity(repetitions);
    let mut attempts = 0;
    for _ in 0..repetitions {
        let world = World::new(N);
        let links = world.links(conditions);

        let start = Instant::now();
        let mut deferred: Vec<&Link<'_>> = Vec::with_capacity(N);
        for link in &links {
            let succeeded = black_box(link).try_initialise().is_none();
            if !succeeded {
                deferred.push(link);
                continue;
            }
            // A success: retry the whole deferred list, and keep retrying
            // while a pass makes progress.
            loop {
                let before = deferred.len();
                deferred.retain(|waiting| black_box(*waiting).try_initialise().is_some());
                if deferred.len() == before {
                    break;
                }
            }
        }
        times.push(start.elapsed());

        assert!(world.all_ready() && deferred.is_empty());
        attempts = world.attempts.get();
    }
    Measurement {
        attempts,
        median: median(times),
    }
}

/// Condition ids for `N` entries, taken from a scratch queue of the same width.
fn condition_ids<const N: usize, const WORDS: usize>() -> Vec<ConditionId> {
    let queue: Box<InitQueue<'_, 0, N, WORDS>> = Box::new(InitQueue::new());
    (0..N)
        .map(|_| queue.declare_condition("link").expect("condition capacity"))
        .collect()
}

fn row<const N: usize, const WORDS: usize>(repetitions: usize) {
    let ours = measure_ours::<N, WORDS>(repetitions);
    let baseline = measure_baseline::<N>(repetitions, &condition_ids::<N, WORDS>());
    assert_eq!(
        ours.attempts,
        2 * N - 1,
        "ours: entries + signals waited on"
    );
    assert_eq!(baseline.attempts, N + N * (N - 1) / 2);
    let nanoseconds = |duration: Duration| duration.as_nanos().max(1) as f64;
    println!(
        "{:>5} | {:>5} | {:>13} | {:>17} | {:>9.1}x | {:>12.2} | {:>16.2} | {:>9.2}x",
        N,
        WORDS,
        ours.attempts,
        baseline.attempts,
        baseline.attempts as f64 / ours.attempts as f64,
        nanoseconds(ours.median) / 1000.0,
        nanoseconds(baseline.median) / 1000.0,
        nanoseconds(baseline.median) / nanoseconds(ours.median),
    );
}

fn main() {
    println!("init queue vs Linux-style deferred probing: worst-order chain");
    println!(
        "(entry i waits on the condition entry i+1 provides; added 0..N-1; one condition \
         per entry, none shared; times are medians of repeated runs, in microseconds, \
         covering registration and probing; ratios are baseline / ours)"
    );
    if let Some(filter) = option_env!("DEFMT_LOG") {
        println!("note: built with DEFMT_LOG={filter}; log calls are part of the timings");
    }
    println!();
    println!(
        "{:>5} | {:>5} | {:>13} | {:>17} | {:>10} | {:>12} | {:>16} | {:>10}",
        "N",
        "words",
        "attempts ours",
        "attempts baseline",
        "ratio",
        "time ours µs",
        "time baseline µs",
        "ratio"
    );
    println!("{}", "-".repeat(110));
    row::<10, 1>(2001);
    row::<100, 2>(201);
    row::<1000, 16>(21);
}
