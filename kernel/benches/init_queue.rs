//! Probe attempts and wall time of the deferred-init queue against a
//! Linux-style "retry every deferred entry after each success" baseline.
//!
//! Run with `cargo bench -p kernel --bench init_queue` (or `cargo xtask bench`).
//!
//! The workload is the worst registration order for a chain: entry `i` can
//! only initialise once entry `i + 1` has, the last entry is ready at once,
//! and entries are added in the order `0, 1, …, N - 1`. Every entry has a
//! condition of its own (no sharing of conditions between entries), so `N`
//! goes up to 64, the most conditions a queue holds.
//!
//! Both sides call the very same probe objects through `&dyn Probe` (as
//! Linux calls a driver's probe through a function pointer), so an attempt
//! costs both the same; the attempt counts are what matters once probes do
//! real work (an SMC round trip, a register poll), the times show the
//! bookkeeping cost with probes that do nothing. Neither side logs: the
//! queue logs only errors, and the boot log of its normal steps is a
//! journal a board attaches (`kernel::init_queue::BootLog`), which this
//! benchmark does not. Both sides have their lists allocated before the
//! clock starts (the queue is a board's static; Linux's deferred list is a
//! static list head), so both are timed from the first registration to the
//! last probe.
//!
//! A run takes about a tenth of a microsecond at `N = 10`, so each sample
//! times a batch of independent runs set up beforehand (keeping the clock's
//! own cost, tens of nanoseconds a reading, out), and the two sides' samples
//! alternate, so both see the same machine load.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use kernel::init_queue::{ConditionId, ConditionSet, InitQueue, Probe, ProbeResult, Queue};

/// Runs timed together in one sample.
const BATCH: usize = 8;

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

impl Probe for Link<'_> {
    fn probe(&self) -> ProbeResult {
        self.attempts.set(self.attempts.get() + 1);
        match self.waits_on {
            Some(condition) if !self.ready[self.index + 1].get() => {
                ProbeResult::Defer(ConditionSet::of(condition))
            }
            _ => {
                self.ready[self.index].set(true);
                ProbeResult::Ready
            }
        }
    }
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

/// One timed run of our queue: add every entry, then service until settled.
#[inline(never)]
fn run_ours<'w, const N: usize>(
    queue: &InitQueue<'w, N, N>,
    links: &'w [Link<'w>],
    conditions: &[ConditionId],
) {
    for (link, condition) in links.iter().zip(conditions) {
        queue
            .add("link", link, Some(*condition))
            .expect("entry capacity");
    }
    queue.service();
}

/// One timed run of the baseline: probe each entry as it is registered,
/// keep the deferred ones on a list, and after every success retry the
/// whole list, again and again while a pass makes progress (Linux's
/// `-EPROBE_DEFER`).
#[inline(never)]
fn run_baseline<'w>(links: &'w [Link<'w>], deferred: &mut Vec<&'w dyn Probe>) {
    let is_deferred = |probe: &dyn Probe| matches!(probe.probe(), ProbeResult::Defer(_));
    for link in links {
        let probe: &dyn Probe = black_box(link);
        if is_deferred(probe) {
            deferred.push(probe);
            continue;
        }
        loop {
            let before = deferred.len();
            deferred.retain(|waiting| is_deferred(*waiting));
            if deferred.len() == before {
                break;
            }
        }
    }
}

/// One sample of our queue: the time per run and the attempts of a run.
fn sample_ours<const N: usize>() -> (Duration, usize) {
    let worlds: Vec<World> = (0..BATCH).map(|_| World::new(N)).collect();
    let queues: Vec<Box<InitQueue<'_, N, N>>> =
        (0..BATCH).map(|_| Box::new(InitQueue::new())).collect();
    let conditions: Vec<Vec<ConditionId>> = queues
        .iter()
        .map(|queue| {
            (0..N)
                .map(|_| queue.declare_condition("link").expect("condition capacity"))
                .collect()
        })
        .collect();
    let links: Vec<Vec<Link<'_>>> = worlds
        .iter()
        .zip(&conditions)
        .map(|(world, conditions)| world.links(conditions))
        .collect();

    let start = Instant::now();
    for ((queue, links), conditions) in queues.iter().zip(&links).zip(&conditions) {
        run_ours(queue, links, conditions);
    }
    let time = start.elapsed() / BATCH as u32;

    let mut attempts = 0;
    for (queue, world) in queues.iter().zip(&worlds) {
        black_box(queue);
        assert!(world.all_ready() && queue.is_settled());
        assert_eq!(queue.attempts(), world.attempts.get());
        attempts = queue.attempts();
    }
    (time, attempts)
}

/// One sample of the baseline: the time per run and the attempts of a run.
fn sample_baseline<const N: usize>(conditions: &[ConditionId]) -> (Duration, usize) {
    let worlds: Vec<World> = (0..BATCH).map(|_| World::new(N)).collect();
    let links: Vec<Vec<Link<'_>>> = worlds.iter().map(|world| world.links(conditions)).collect();
    let mut lists: Vec<Vec<&dyn Probe>> = (0..BATCH).map(|_| Vec::with_capacity(N)).collect();

    let start = Instant::now();
    for (links, deferred) in links.iter().zip(lists.iter_mut()) {
        run_baseline(links, deferred);
    }
    let time = start.elapsed() / BATCH as u32;

    let mut attempts = 0;
    for (world, deferred) in worlds.iter().zip(&lists) {
        assert!(world.all_ready() && deferred.is_empty());
        attempts = world.attempts.get();
    }
    (time, attempts)
}

/// Condition ids for `N` entries, taken from a scratch queue.
fn condition_ids<const N: usize>() -> Vec<ConditionId> {
    let queue: Box<InitQueue<'_, 0, N>> = Box::new(InitQueue::new());
    (0..N)
        .map(|_| queue.declare_condition("link").expect("condition capacity"))
        .collect()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Measures both sides at `N`, alternating their samples, and prints a row.
fn row<const N: usize>(samples: usize) {
    let conditions = condition_ids::<N>();
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    let (mut ours_attempts, mut baseline_attempts) = (0, 0);
    for sample in 0..samples {
        // Alternate which side goes first, so neither always runs warmer.
        if sample % 2 == 0 {
            let (time, attempts) = sample_ours::<N>();
            ours.push(time);
            ours_attempts = attempts;
        }
        let (time, attempts) = sample_baseline::<N>(&conditions);
        baseline.push(time);
        baseline_attempts = attempts;
        if sample % 2 == 1 {
            let (time, attempts) = sample_ours::<N>();
            ours.push(time);
            ours_attempts = attempts;
        }
    }
    assert_eq!(
        ours_attempts,
        2 * N - 1,
        "ours: entries + signals waited on"
    );
    assert_eq!(baseline_attempts, N + N * (N - 1) / 2);
    let (ours, baseline) = (median(ours), median(baseline));
    let nanoseconds = |duration: Duration| duration.as_nanos().max(1) as f64;
    println!(
        "{:>5} | {:>13} | {:>17} | {:>9.1}x | {:>12.3} | {:>16.3} | {:>9.2}x",
        N,
        ours_attempts,
        baseline_attempts,
        baseline_attempts as f64 / ours_attempts as f64,
        nanoseconds(ours) / 1000.0,
        nanoseconds(baseline) / 1000.0,
        nanoseconds(baseline) / nanoseconds(ours),
    );
}

fn main() {
    println!("init queue vs Linux-style deferred probing: worst-order chain");
    println!(
        "(entry i waits on the condition entry i+1 provides; added 0..N-1; one condition \
         per entry, none shared; times per run in microseconds, medians of samples of \
         {BATCH} runs, the two sides' samples alternating; covering registration and \
         probing; ratios are baseline / ours)"
    );
    if let Some(filter) = option_env!("DEFMT_LOG") {
        println!(
            "note: built with DEFMT_LOG={filter}; the queue logs only errors (none here) and \
             no journal is attached, so no log call is timed"
        );
    }
    println!();
    println!(
        "{:>5} | {:>13} | {:>17} | {:>10} | {:>12} | {:>16} | {:>10}",
        "N",
        "attempts ours",
        "attempts baseline",
        "ratio",
        "time ours µs",
        "time baseline µs",
        "ratio"
    );
    println!("{}", "-".repeat(102));
    row::<10>(4001);
    row::<32>(1001);
    row::<64>(401);
}
