//! The bring-up of secondary cores against scripted cores: started in
//! order, waited for on the alarm (bounded), work after the board's
//! conditions, and the init queue kept from settling meanwhile.

use std::cell::RefCell;

use capsule_cores::{BringUpConfig, CoreBringUp, CoreEntry, CoreWorkClient};
use kernel::hil::cores::{CoreReport, CoreWork, Cores, StartError};
use kernel::hil::time::Alarm;
use kernel::init_queue::{ConditionSet, EntryState, InitQueue, Queue};
use kernel::ErrorCode;
use testbed::alarm::ManualAlarm;

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// What a scripted core does when started.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    /// Comes online after this many alarm polls.
    OnlineAfter(u32),
    /// Never comes online (the TF-A-rpi4 pen race).
    Lost,
    /// The firmware refuses the start.
    Refused(StartError),
}

struct ScriptedCores {
    scripts: [Script; 4],
    polls: RefCell<[Option<u32>; 4]>,
    started: RefCell<Vec<usize>>,
    posted: RefCell<[Option<CoreWork>; 4]>,
}

impl ScriptedCores {
    fn new(scripts: [Script; 4]) -> ScriptedCores {
        ScriptedCores {
            scripts,
            polls: RefCell::new([None; 4]),
            started: RefCell::new(Vec::new()),
            posted: RefCell::new([None; 4]),
        }
    }
}

impl Cores for ScriptedCores {
    fn count(&self) -> usize {
        4
    }
    fn boot_core(&self) -> usize {
        0
    }
    fn mpidr(&self, core: usize) -> Option<u64> {
        (core < 4).then_some(0x8000_0000 | core as u64)
    }
    fn start(&self, core: usize) -> Result<(), StartError> {
        self.started.borrow_mut().push(core);
        match self.scripts[core] {
            Script::Refused(error) => Err(error),
            _ => {
                self.polls.borrow_mut()[core] = Some(0);
                Ok(())
            }
        }
    }
    fn online(&self, core: usize) -> Option<CoreReport> {
        let mut polls = self.polls.borrow_mut();
        let count = polls[core].as_mut()?;
        *count += 1;
        match self.scripts[core] {
            Script::OnlineAfter(needed) if *count > needed => Some(CoreReport {
                mpidr: 0x8000_0000 | core as u64,
                entry_exception_level: 2,
            }),
            _ => None,
        }
    }
    fn post(&self, core: usize, work: CoreWork) -> Result<(), ErrorCode> {
        self.posted.borrow_mut()[core] = Some(work);
        Ok(())
    }
    fn take_result(&self, core: usize) -> Option<u64> {
        // The core runs its work "on itself" between two polls.
        self.posted.borrow_mut()[core]
            .take()
            .map(|work| (work.function)(work.argument + core as u64))
    }
}

#[derive(Default)]
struct Judge {
    results: RefCell<Vec<(usize, u64)>>,
}

impl CoreWorkClient for Judge {
    fn work_done(&self, core: usize, result: u64) -> Result<(), ErrorCode> {
        self.results.borrow_mut().push((core, result));
        if result == 0xbad {
            Err(ErrorCode::FAIL)
        } else {
            Ok(())
        }
    }
}

fn times_ten(value: u64) -> u64 {
    value * 10
}

struct Board {
    queue: &'static InitQueue<'static, 8, 12>,
    alarm: &'static ManualAlarm,
    cores: &'static ScriptedCores,
    bring_up: &'static CoreBringUp<'static, ManualAlarm>,
    entries: Vec<kernel::init_queue::EntryId>,
    judge: &'static Judge,
    ffa_ready: kernel::init_queue::ConditionId,
}

fn board(scripts: [Script; 4], work: bool, work_after_ffa: bool) -> Board {
    let queue: &'static InitQueue<'static, 8, 12> = leak(InitQueue::new());
    let ffa_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let alarm = leak(ManualAlarm::new());
    let cores = leak(ScriptedCores::new(scripts));
    let config = BringUpConfig {
        work: work.then_some(CoreWork {
            function: times_ten,
            argument: 100,
        }),
        work_after: if work_after_ffa {
            ConditionSet::of(ffa_ready)
        } else {
            ConditionSet::empty()
        },
        ..BringUpConfig::DEFAULT
    };
    let bring_up = leak(CoreBringUp::new(cores, alarm, queue, config));
    alarm.set_alarm_client(bring_up);
    let judge = leak(Judge::default());
    bring_up.set_client(judge);
    let mut entries = Vec::new();
    for (core, name) in [(1, "cpu1"), (2, "cpu2"), (3, "cpu3")] {
        let online = queue.declare_condition("online").unwrap();
        let done = queue.declare_condition("done").unwrap();
        bring_up.assign(core, online, done);
        let entry = leak(CoreEntry::new());
        entry.bind(bring_up, core);
        entries.push(queue.add(name, entry, None).unwrap());
    }
    Board {
        queue,
        alarm,
        cores,
        bring_up,
        entries,
        judge,
        ffa_ready,
    }
}

/// Services the queue and fires the alarm until nothing is left to do.
fn run(board: &Board) {
    for _ in 0..10_000 {
        board.queue.service();
        if !board.alarm.fire() && !board.queue.has_work() {
            return;
        }
    }
    panic!("the bring-up never finished");
}

#[test]
fn every_secondary_comes_online_and_the_queue_waits_for_them() {
    let board = board([Script::OnlineAfter(3); 4], false, false);
    board.queue.service();
    assert_eq!(
        *board.cores.started.borrow(),
        [1, 2, 3],
        "the boot core is never started"
    );
    assert!(!board.queue.is_settled(), "cores are coming online");
    run(&board);
    assert!(board.queue.is_settled());
    for (index, core) in [1, 2, 3].into_iter().enumerate() {
        assert_eq!(board.queue.state(board.entries[index]), EntryState::Ready);
        assert!(board.bring_up.is_up(core));
    }
    assert!(!board.bring_up.is_up(0));
    assert_eq!(board.bring_up.secondaries().collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn a_lost_core_is_dropped_at_the_deadline_and_the_others_carry_on() {
    let board = board(
        [
            Script::OnlineAfter(0),
            Script::OnlineAfter(2),
            Script::Lost,
            Script::OnlineAfter(5),
        ],
        false,
        false,
    );
    run(&board);
    assert_eq!(board.queue.state(board.entries[0]), EntryState::Ready);
    assert_eq!(
        board.queue.state(board.entries[1]),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert_eq!(board.queue.state(board.entries[2]), EntryState::Ready);
    // The wait was bounded by the deadline: 1 s of 1 ms polls at 1 MHz.
    let now = kernel::hil::time::Time::now(board.alarm);
    assert!((1_000_000..1_010_000).contains(&now), "{now}");
    assert!(board.queue.is_settled());
}

#[test]
fn a_refused_start_fails_that_entry_only() {
    let board = board(
        [
            Script::OnlineAfter(0),
            Script::Refused(StartError::InvalidParameters),
            Script::OnlineAfter(1),
            Script::OnlineAfter(1),
        ],
        false,
        false,
    );
    run(&board);
    assert_eq!(
        board.queue.state(board.entries[0]),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert_eq!(board.queue.state(board.entries[1]), EntryState::Ready);
    assert_eq!(board.queue.state(board.entries[2]), EntryState::Ready);
}

#[test]
fn work_waits_for_the_boards_condition_then_runs_on_each_core() {
    let board = board([Script::OnlineAfter(1); 4], true, true);
    run(&board);
    // Online, but FF-A is not ready: every core waits on it, settled.
    assert!(board.queue.is_settled());
    for entry in &board.entries {
        assert_eq!(
            board.queue.state(*entry),
            EntryState::Waiting(ConditionSet::of(board.ffa_ready))
        );
    }
    assert!(board.judge.results.borrow().is_empty());
    board.queue.signal(board.ffa_ready);
    run(&board);
    let mut results = board.judge.results.borrow().clone();
    results.sort();
    assert_eq!(results, [(1, 1010), (2, 1020), (3, 1030)]);
    for entry in &board.entries {
        assert_eq!(board.queue.state(*entry), EntryState::Ready);
    }
}

#[test]
fn a_bad_result_fails_the_entry() {
    fn bad(_: u64) -> u64 {
        0xbad
    }
    let queue: &'static InitQueue<'static, 8, 12> = leak(InitQueue::new());
    let alarm = leak(ManualAlarm::new());
    let cores = leak(ScriptedCores::new([Script::OnlineAfter(0); 4]));
    let bring_up = leak(CoreBringUp::new(
        cores,
        alarm,
        queue,
        BringUpConfig {
            work: Some(CoreWork {
                function: bad,
                argument: 0,
            }),
            ..BringUpConfig::DEFAULT
        },
    ));
    alarm.set_alarm_client(bring_up);
    let judge = leak(Judge::default());
    bring_up.set_client(judge);
    let online = queue.declare_condition("online").unwrap();
    let done = queue.declare_condition("done").unwrap();
    bring_up.assign(1, online, done);
    let entry = leak(CoreEntry::new());
    entry.bind(bring_up, 1);
    let id = queue.add("cpu1", entry, None).unwrap();
    for _ in 0..100 {
        queue.service();
        if !alarm.fire() && !queue.has_work() {
            break;
        }
    }
    assert_eq!(queue.state(id), EntryState::Failed(ErrorCode::FAIL));
    assert_eq!(*judge.results.borrow(), [(1, 0xbad)]);
}
