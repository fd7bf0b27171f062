//! Host tests of the init queue: order, deferral, the attempt bound on
//! worst-order chains, diamonds, cycles, capacity, misbehaving probes,
//! expiry, the journal, and random dependency graphs (property test).

use super::*;
use crate::ErrorCode;
use core::cell::{Cell, RefCell};
use std::vec::Vec;

/// The order probes were called in.
#[derive(Default)]
struct ProbeOrder {
    names: RefCell<Vec<&'static str>>,
}

impl ProbeOrder {
    fn names(&self) -> Vec<&'static str> {
        self.names.borrow().clone()
    }
}

/// Ready (or failed) once every condition it needs is signalled; defers
/// on all of them until then.
struct Needs<'q> {
    name: &'static str,
    queue: &'q dyn Queue<'q>,
    needs: ConditionSet,
    failure: Option<ErrorCode>,
    calls: Cell<usize>,
    order: Option<&'q ProbeOrder>,
}

impl<'q> Needs<'q> {
    fn new(name: &'static str, queue: &'q dyn Queue<'q>, needs: ConditionSet) -> Self {
        Needs {
            name,
            queue,
            needs,
            failure: None,
            calls: Cell::new(0),
            order: None,
        }
    }

    fn recorded_in(mut self, order: &'q ProbeOrder) -> Self {
        self.order = Some(order);
        self
    }

    fn failing(mut self, error: ErrorCode) -> Self {
        self.failure = Some(error);
        self
    }
}

impl Probe for Needs<'_> {
    fn probe(&self) -> ProbeResult {
        self.calls.set(self.calls.get() + 1);
        if let Some(order) = self.order {
            order.names.borrow_mut().push(self.name);
        }
        if self.needs.iter().all(|c| self.queue.is_signalled(c)) {
            self.failure.map_or(ProbeResult::Ready, ProbeResult::Failed)
        } else {
            ProbeResult::Defer(self.needs)
        }
    }
}

/// Returns a fixed result every time.
struct Fixed {
    result: ProbeResult,
    calls: Cell<usize>,
}

impl Fixed {
    fn new(result: ProbeResult) -> Self {
        Fixed {
            result,
            calls: Cell::new(0),
        }
    }
}

impl Probe for Fixed {
    fn probe(&self) -> ProbeResult {
        self.calls.set(self.calls.get() + 1);
        self.result
    }
}

/// Counts `settled()` calls.
#[derive(Default)]
struct SettledCounter {
    calls: Cell<usize>,
}

impl InitQueueClient for SettledCounter {
    fn settled(&self) {
        self.calls.set(self.calls.get() + 1);
    }
}

fn states<const E: usize, const C: usize>(
    queue: &InitQueue<'_, E, C>,
) -> Vec<(EntryId, &'static str, EntryState)> {
    let mut states = Vec::new();
    queue.for_each_entry(|id, name, state| states.push((id, name, state)));
    states
}

#[test]
fn condition_set_operations() {
    let [a, b, c] = [ConditionId(0), ConditionId(5), ConditionId(63)];
    let set = ConditionSet::of(a).with(c);
    assert!(set.contains(a) && set.contains(c) && !set.contains(b));
    assert!(!set.is_empty() && ConditionSet::empty().is_empty());
    assert_eq!(set.len(), 2);
    assert_eq!(set.union(ConditionSet::of(b)).len(), 3);
    assert_eq!(set.difference(ConditionSet::of(a)), ConditionSet::of(c));
    assert_eq!(
        set.intersection(ConditionSet::of(c).with(b)),
        ConditionSet::of(c)
    );
    assert_eq!(set.without(a).without(c), ConditionSet::default());
    assert!(ConditionSet::of(a).is_subset(set));
    assert_eq!(set.lowest(), Some(a));
    assert_eq!(set.iter().collect::<Vec<_>>(), [a, c]);
    assert_eq!([c, a].into_iter().collect::<ConditionSet>(), set);
    assert_eq!(std::format!("{set:?}"), "{0, 63}");
    assert_eq!(
        [0, 1, 2]
            .map(ConditionId)
            .into_iter()
            .collect::<ConditionSet>()
            .len(),
        3
    );
}

#[test]
fn probes_in_registration_order() {
    let order = ProbeOrder::default();
    let queue = InitQueue::<4, 4>::new();
    let probes = ["uart", "timer", "interrupts"]
        .map(|name| Needs::new(name, &queue, ConditionSet::empty()).recorded_in(&order));
    for probe in &probes {
        queue.add(probe.name, probe, None).unwrap();
    }
    assert!(queue.has_work() && !queue.is_settled());
    queue.service();
    assert_eq!(order.names(), ["uart", "timer", "interrupts"]);
    assert_eq!(queue.attempts(), 3);
    assert!(queue.is_settled());
    assert!(states(&queue)
        .iter()
        .all(|(_, _, state)| *state == EntryState::Ready));
}

#[test]
fn deferral_and_retry_on_signal() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let firmware = queue.declare_condition("firmware").unwrap();
    let driver = Needs::new("driver", &queue, ConditionSet::of(firmware));
    let entry = queue.add("driver", &driver, None).unwrap();
    assert_eq!(queue.state(entry), EntryState::NotProbed);

    queue.service();
    assert_eq!(
        queue.state(entry),
        EntryState::Waiting(ConditionSet::of(firmware))
    );
    assert!(queue.is_settled());
    queue.service();
    assert_eq!(driver.calls.get(), 1, "retried without a signal");

    queue.signal(firmware);
    assert_eq!(driver.calls.get(), 1, "signal() must not probe");
    assert!(queue.has_work());
    queue.service();
    assert_eq!(queue.state(entry), EntryState::Ready);
    assert_eq!(driver.calls.get(), 2);
    // Signalling again changes nothing.
    queue.signal(firmware);
    assert!(queue.is_settled());
}

/// Entry `i` needs the condition entry `i + 1` provides; the last needs
/// nothing. Added in that (worst) order.
fn check_worst_order_chain<const N: usize>() {
    let queue: InitQueue<'_, N, N> = InitQueue::new();
    let conditions: Vec<ConditionId> = (0..N)
        .map(|_| queue.declare_condition("link").unwrap())
        .collect();
    let probes: Vec<Needs<'_>> = (0..N)
        .map(|index| {
            let needs = if index + 1 < N {
                ConditionSet::of(conditions[index + 1])
            } else {
                ConditionSet::empty()
            };
            Needs::new("link", &queue, needs)
        })
        .collect();
    for (index, probe) in probes.iter().enumerate() {
        queue.add("link", probe, Some(conditions[index])).unwrap();
    }
    queue.service();
    assert!(states(&queue)
        .iter()
        .all(|(_, _, state)| *state == EntryState::Ready));
    // Bound: entries + signals of conditions waited on (N - 1 of them).
    let bound = N + (N - 1);
    assert!(queue.attempts() <= bound);
    assert_eq!(queue.attempts(), bound);
    assert!(probes[..N - 1].iter().all(|probe| probe.calls.get() == 2));
    assert_eq!(probes[N - 1].calls.get(), 1);
}

#[test]
fn chain_of_dependencies() {
    check_worst_order_chain::<6>();
}

#[test]
fn attempts_bound_for_a_worst_order_chain() {
    check_worst_order_chain::<1>();
    check_worst_order_chain::<2>();
    check_worst_order_chain::<64>();
}

#[test]
fn diamond_of_dependencies() {
    let order = ProbeOrder::default();
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let base = queue.declare_condition("base").unwrap();
    let left = queue.declare_condition("left").unwrap();
    let right = queue.declare_condition("right").unwrap();
    let top_probe =
        Needs::new("top", &queue, ConditionSet::of(left).with(right)).recorded_in(&order);
    let left_probe = Needs::new("left", &queue, ConditionSet::of(base)).recorded_in(&order);
    let right_probe = Needs::new("right", &queue, ConditionSet::of(base)).recorded_in(&order);
    let base_probe = Needs::new("base", &queue, ConditionSet::empty()).recorded_in(&order);
    let top = queue.add("top", &top_probe, None).unwrap();
    queue.add("left", &left_probe, Some(left)).unwrap();
    queue.add("right", &right_probe, Some(right)).unwrap();
    queue.add("base", &base_probe, Some(base)).unwrap();

    queue.service();
    assert_eq!(
        order.names(),
        ["top", "left", "right", "base", "left", "right", "top"]
    );
    assert_eq!(queue.state(top), EntryState::Ready);
    // The top is not retried when only one side is up.
    assert_eq!(top_probe.calls.get(), 2);
    // Bound: 4 entries + top waited on 2 signals + left and right on 1 each.
    assert!(queue.attempts() <= 4 + 2 + 1 + 1);
}

#[test]
fn failure_is_final_and_signals_nothing() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let transport = queue.declare_condition("transport").unwrap();
    let monitor = Needs::new("monitor", &queue, ConditionSet::empty()).failing(ErrorCode::NODEVICE);
    let client = Needs::new("client", &queue, ConditionSet::of(transport));
    let client_entry = queue.add("client", &client, None).unwrap();
    let monitor_entry = queue.add("monitor", &monitor, Some(transport)).unwrap();
    queue.service();
    assert_eq!(
        queue.state(monitor_entry),
        EntryState::Failed(ErrorCode::NODEVICE)
    );
    assert!(!queue.is_signalled(transport));
    assert_eq!(
        queue.state(client_entry),
        EntryState::Waiting(ConditionSet::of(transport))
    );
    assert!(queue.is_settled());
    queue.service();
    assert_eq!(queue.attempts(), 2);
    assert_eq!(monitor.calls.get(), 1);
}

#[test]
fn never_signalled_condition_settles() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let never = queue.declare_condition("never").unwrap();
    let waiter = Needs::new("waiter", &queue, ConditionSet::of(never));
    let entry = queue.add("waiter", &waiter, None).unwrap();
    queue.service();
    queue.service();
    assert!(queue.is_settled());
    assert_eq!(
        queue.state(entry),
        EntryState::Waiting(ConditionSet::of(never))
    );
    assert_eq!(queue.attempts(), 1);
    queue.report_pending();
}

#[test]
fn cycle_settles_with_both_waiting() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let a = queue.declare_condition("a").unwrap();
    let b = queue.declare_condition("b").unwrap();
    let needs_b = Needs::new("provides-a", &queue, ConditionSet::of(b));
    let needs_a = Needs::new("provides-b", &queue, ConditionSet::of(a));
    queue.add("provides-a", &needs_b, Some(a)).unwrap();
    queue.add("provides-b", &needs_a, Some(b)).unwrap();
    queue.service();
    assert!(queue.is_settled());
    assert_eq!(queue.attempts(), 2);
    assert_eq!(
        states(&queue),
        [
            (
                EntryId(0),
                "provides-a",
                EntryState::Waiting(ConditionSet::of(b))
            ),
            (
                EntryId(1),
                "provides-b",
                EntryState::Waiting(ConditionSet::of(a))
            ),
        ]
    );
    queue.report_pending();
}

#[test]
fn entry_capacity_overflow_is_an_error() {
    let queue: InitQueue<'_, 2, 2> = InitQueue::new();
    let probe = Fixed::new(ProbeResult::Ready);
    assert_eq!(queue.add("first", &probe, None), Ok(EntryId(0)));
    assert_eq!(queue.add("second", &probe, None), Ok(EntryId(1)));
    assert_eq!(queue.add("third", &probe, None), Err(ErrorCode::NOMEM));
    assert_eq!(queue.entry_count(), 2);

    // A condition this queue never declared cannot be provided.
    let other: InitQueue<'_, 1, 4> = InitQueue::new();
    let foreign = (0..3)
        .map(|_| other.declare_condition("foreign").unwrap())
        .last()
        .unwrap();
    let roomy: InitQueue<'_, 2, 2> = InitQueue::new();
    assert_eq!(roomy.add("x", &probe, Some(foreign)), Err(ErrorCode::INVAL));
    assert_eq!(roomy.entry_count(), 0);
    queue.service();
    assert_eq!(queue.attempts(), 2);
}

#[test]
fn condition_capacity_overflow_is_an_error() {
    let queue: InitQueue<'_, 1, 2> = InitQueue::new();
    assert_eq!(queue.declare_condition("a"), Ok(ConditionId(0)));
    assert_eq!(queue.declare_condition("b"), Ok(ConditionId(1)));
    assert_eq!(queue.declare_condition("c"), Err(ErrorCode::NOMEM));
    assert_eq!(queue.condition_count(), 2);

    // A queue holds 64 conditions, whatever CONDITIONS says.
    let narrow: InitQueue<'_, 1, 100> = InitQueue::new();
    assert_eq!(InitQueue::<'_, 1, 100>::CONDITION_CAPACITY, 64);
    for _ in 0..64 {
        narrow.declare_condition("narrow").unwrap();
    }
    assert_eq!(
        narrow.declare_condition("one too many"),
        Err(ErrorCode::NOMEM)
    );
}

#[test]
fn pending_report_and_entry_listing() {
    let queue: InitQueue<'_, 8, 8> = InitQueue::new();
    let firmware = queue.declare_condition("firmware").unwrap();
    let carveout = queue.declare_condition("carveout").unwrap();
    let ready = Fixed::new(ProbeResult::Ready);
    let broken = Fixed::new(ProbeResult::Failed(ErrorCode::NOSUPPORT));
    let waiter = Needs::new("ffa", &queue, ConditionSet::of(firmware).with(carveout));
    queue.add("uart", &ready, None).unwrap();
    queue.add("ffa", &waiter, None).unwrap();
    queue.add("gpu", &broken, None).unwrap();
    queue.service();
    queue.signal(carveout);
    queue.add("late", &ready, None).unwrap();

    assert_eq!(
        states(&queue),
        [
            (EntryId(0), "uart", EntryState::Ready),
            (
                EntryId(1),
                "ffa",
                EntryState::Waiting(ConditionSet::of(firmware).with(carveout))
            ),
            (EntryId(2), "gpu", EntryState::Failed(ErrorCode::NOSUPPORT)),
            (EntryId(3), "late", EntryState::NotProbed),
        ]
    );
    // What report_pending names for "ffa": only the unsignalled condition.
    let EntryState::Waiting(waits) = queue.state(EntryId(1)) else {
        panic!("ffa is not waiting");
    };
    let missing = waits.difference(queue.signalled());
    assert_eq!(missing, ConditionSet::of(firmware));
    assert_eq!(
        missing
            .iter()
            .map(|c| queue.condition_name(c))
            .collect::<Vec<_>>(),
        ["firmware"]
    );
    assert_eq!(queue.entry_name(EntryId(1)), "ffa");
    queue.report_pending();
}

#[test]
fn misbehaving_probes_fail_instead_of_hanging() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let done = queue.declare_condition("done").unwrap();
    queue.signal(done);
    let other: InitQueue<'_, 1, 8> = InitQueue::new();
    let undeclared = (0..5)
        .map(|_| other.declare_condition("elsewhere").unwrap())
        .last()
        .unwrap();

    let on_nothing = Fixed::new(ProbeResult::Defer(ConditionSet::empty()));
    let on_signalled = Fixed::new(ProbeResult::Defer(ConditionSet::of(done)));
    let on_undeclared = Fixed::new(ProbeResult::Defer(ConditionSet::of(undeclared)));
    let entries = [
        queue.add("on-nothing", &on_nothing, None).unwrap(),
        queue.add("on-signalled", &on_signalled, None).unwrap(),
        queue.add("on-undeclared", &on_undeclared, None).unwrap(),
    ];
    queue.service();
    queue.service();
    assert!(queue.is_settled());
    for entry in entries {
        assert_eq!(queue.state(entry), EntryState::Failed(ErrorCode::INVAL));
    }
    assert_eq!(queue.attempts(), 3);
}

#[test]
fn expire_times_out_waiting_entries_only() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let never = queue.declare_condition("never").unwrap();
    let late = queue.declare_condition("late").unwrap();
    let stuck = Needs::new("stuck", &queue, ConditionSet::of(never).with(late));
    let due = Needs::new("due", &queue, ConditionSet::of(late));
    let done = Fixed::new(ProbeResult::Ready);
    let stuck_entry = queue.add("stuck", &stuck, None).unwrap();
    let due_entry = queue.add("due", &due, None).unwrap();
    let done_entry = queue.add("done", &done, None).unwrap();
    queue.service();
    // "late" arrives just before the deadline; "due" has not been retried.
    queue.signal(late);
    queue.expire();
    assert_eq!(
        queue.state(stuck_entry),
        EntryState::TimedOut(ConditionSet::of(never))
    );
    assert_eq!(queue.state(done_entry), EntryState::Ready);
    assert!(queue.has_work());
    queue.service();
    assert_eq!(queue.state(due_entry), EntryState::Ready);

    // A timed-out entry is never retried, even if its condition shows up.
    queue.signal(never);
    assert!(queue.is_settled());
    queue.service();
    assert_eq!(stuck.calls.get(), 1);
    assert_eq!(
        queue.state(stuck_entry),
        EntryState::TimedOut(ConditionSet::of(never))
    );
    queue.report_pending();
}

#[test]
fn settled_client_told_once_per_settling() {
    let counter = SettledCounter::default();
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    queue.set_client(&counter);
    let firmware = queue.declare_condition("firmware").unwrap();
    let waiter = Needs::new("waiter", &queue, ConditionSet::of(firmware));
    let ready = Fixed::new(ProbeResult::Ready);

    queue.service();
    assert_eq!(counter.calls.get(), 0, "a queue that never had work");
    queue.add("waiter", &waiter, None).unwrap();
    queue.add("ready", &ready, None).unwrap();
    queue.service();
    assert_eq!(counter.calls.get(), 1);
    queue.service();
    assert_eq!(counter.calls.get(), 1);

    queue.signal(firmware);
    assert!(!queue.is_settled());
    queue.service();
    assert_eq!(counter.calls.get(), 2);

    // A signal nobody waits on does not unsettle the queue.
    let spare = queue.declare_condition("spare").unwrap();
    queue.signal(spare);
    queue.service();
    assert_eq!(counter.calls.get(), 2);

    queue.add("another", &ready, None).unwrap();
    queue.service();
    queue.service();
    assert_eq!(counter.calls.get(), 3);
}

/// Signals a condition from inside its probe (say, it enabled an
/// interface that others poll), then reports ready.
struct Signaller<'q> {
    queue: &'q InitQueue<'q, 4, 4>,
    condition: ConditionId,
}

impl Probe for Signaller<'_> {
    fn probe(&self) -> ProbeResult {
        self.queue.signal(self.condition);
        // Calling service from a probe is harmless.
        self.queue.service();
        ProbeResult::Ready
    }
}

#[test]
fn probe_may_signal_and_call_service() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let interface = queue.declare_condition("interface").unwrap();
    let user = Needs::new("user", &queue, ConditionSet::of(interface));
    let signaller = Signaller {
        queue: &queue,
        condition: interface,
    };
    let user_entry = queue.add("user", &user, None).unwrap();
    let signaller_entry = queue.add("signaller", &signaller, None).unwrap();
    queue.service();
    assert_eq!(queue.state(signaller_entry), EntryState::Ready);
    assert_eq!(queue.state(user_entry), EntryState::Ready);
    assert_eq!(queue.attempts(), 3);
    assert!(queue.is_settled());
}

#[test]
fn foreign_ids_are_harmless() {
    let big: InitQueue<'_, 4, 4> = InitQueue::new();
    let ready = Fixed::new(ProbeResult::Ready);
    let foreign_entry = (0..3)
        .map(|_| big.add("x", &ready, None).unwrap())
        .last()
        .unwrap();
    let foreign_condition = (0..3)
        .map(|_| big.declare_condition("x").unwrap())
        .last()
        .unwrap();
    let small: InitQueue<'_, 1, 1> = InitQueue::new();
    assert_eq!(
        small.state(foreign_entry),
        EntryState::Failed(ErrorCode::INVAL)
    );
    assert_eq!(small.entry_name(foreign_entry), "<unknown>");
    assert_eq!(small.condition_name(foreign_condition), "<undeclared>");
    small.signal(foreign_condition);
    assert!(!small.is_signalled(foreign_condition));
    assert!(small.signalled().is_empty());
}

/// Records what the queue tells its journal.
#[derive(Default)]
struct Recorder {
    events: RefCell<Vec<(&'static str, EntryState)>>,
    signals: RefCell<Vec<&'static str>>,
    settlings: Cell<usize>,
}

impl Journal for Recorder {
    fn probed(&self, queue: &dyn Queue<'_>, entry: EntryId, state: EntryState) {
        self.events
            .borrow_mut()
            .push((queue.entry_name(entry), state));
    }

    fn signalled(&self, queue: &dyn Queue<'_>, condition: ConditionId) {
        assert!(queue.is_signalled(condition));
        self.signals
            .borrow_mut()
            .push(queue.condition_name(condition));
    }

    fn settled(&self, queue: &dyn Queue<'_>) {
        assert!(queue.is_settled());
        self.settlings.set(self.settlings.get() + 1);
    }
}

#[test]
fn the_journal_is_told_each_result_in_order_and_each_settling() {
    let recorder = Recorder::default();
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    queue.set_journal(&recorder);
    let firmware = queue.declare_condition("firmware").unwrap();
    let driver = Needs::new("driver", &queue, ConditionSet::of(firmware));
    let broken = Fixed::new(ProbeResult::Failed(ErrorCode::NODEVICE));
    queue.add("driver", &driver, None).unwrap();
    queue.add("broken", &broken, None).unwrap();
    queue.service();
    queue.signal(firmware);
    queue.service();
    assert_eq!(
        *recorder.events.borrow(),
        [
            ("driver", EntryState::Waiting(ConditionSet::of(firmware))),
            ("broken", EntryState::Failed(ErrorCode::NODEVICE)),
            ("driver", EntryState::Ready),
        ]
    );
    assert_eq!(recorder.settlings.get(), 2);
    assert_eq!(
        queue.counts(),
        EntryCounts {
            ready: 1,
            failed: 1,
            ..EntryCounts::default()
        }
    );
}

#[test]
fn the_journal_is_told_each_condition_signalled_once() {
    let recorder = Recorder::default();
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    queue.set_journal(&recorder);
    let firmware = queue.declare_condition("firmware").unwrap();
    let root_ready = queue.declare_condition("root-ready").unwrap();
    let root = Needs::new("root", &queue, ConditionSet::of(firmware));
    queue.add("root", &root, Some(root_ready)).unwrap();
    queue.service();
    assert!(recorder.signals.borrow().is_empty());
    queue.signal(firmware);
    queue.signal(firmware);
    queue.service();
    assert_eq!(*recorder.signals.borrow(), ["firmware", "root-ready"]);
}

#[test]
fn entries_conditions_and_what_each_provides_can_be_walked_through_the_trait() {
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let firmware = queue.declare_condition("firmware").unwrap();
    let root_ready = queue.declare_condition("root-ready").unwrap();
    let root = Needs::new("root", &queue, ConditionSet::of(firmware));
    let driver = Needs::new("driver", &queue, ConditionSet::of(root_ready));
    queue.add("root", &root, Some(root_ready)).unwrap();
    queue.add("driver", &driver, None).unwrap();
    let dynamic: &dyn Queue<'_> = &queue;
    let walked: Vec<(&str, Option<ConditionId>)> = (0..)
        .map_while(|index| dynamic.entry(index))
        .map(|entry| (dynamic.entry_name(entry), dynamic.provides(entry)))
        .collect();
    assert_eq!(walked, [("root", Some(root_ready)), ("driver", None)]);
    assert_eq!(
        dynamic.declared(),
        ConditionSet::of(firmware).with(root_ready)
    );
    assert_eq!(dynamic.entry(2), None);
}

#[test]
fn the_boot_log_journal_logs_without_disturbing_the_queue() {
    static BOOT_LOG: BootLog = BootLog;
    let queue: InitQueue<'_, 2, 2> = InitQueue::new();
    queue.set_journal(&BOOT_LOG);
    let firmware = queue.declare_condition("firmware").unwrap();
    let driver = Needs::new("driver", &queue, ConditionSet::of(firmware));
    let entry = queue.add("driver", &driver, None).unwrap();
    queue.service();
    queue.signal(firmware);
    queue.service();
    assert_eq!(queue.state(entry), EntryState::Ready);
    assert_eq!(queue.attempts(), 2);
}

#[test]
fn a_queue_holds_64_conditions_and_a_64_link_chain_settles_in_127_probes() {
    check_worst_order_chain::<64>();
    let queue: InitQueue<'_, 1, 100> = InitQueue::new();
    assert_eq!(InitQueue::<'_, 1, 100>::CONDITION_CAPACITY, 64);
    let last = (0..64)
        .map(|_| queue.declare_condition("c").unwrap())
        .last()
        .unwrap();
    assert_eq!(last.index(), 63);
    queue.signal(last);
    assert!(queue.is_signalled(last));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const MAXIMUM_ENTRIES: usize = 12;
    const CONDITION_COUNT: usize = 8;

    #[derive(Clone, Debug)]
    struct Node {
        needs: u8,
        provides: Option<u8>,
        fails: bool,
        /// Defer on every needed condition, or only on the missing ones.
        defer_on_all: bool,
    }

    fn node() -> impl Strategy<Value = Node> {
        (
            // Each condition needed with probability 1/4: sparse graphs
            // with chains, diamonds and cycles, as well as dense ones.
            (any::<u8>(), any::<u8>()).prop_map(|(first, second)| first & second),
            prop::option::weighted(0.8, 0..CONDITION_COUNT as u8),
            prop::bool::weighted(0.15),
            any::<bool>(),
        )
            .prop_map(|(needs, provides, fails, defer_on_all)| Node {
                needs,
                provides,
                fails,
                defer_on_all,
            })
    }

    fn set_of(mask: u8) -> ConditionSet {
        (0..CONDITION_COUNT as u8)
            .filter(|bit| mask & (1 << bit) != 0)
            .map(ConditionId)
            .collect()
    }

    struct GraphProbe<'q> {
        queue: &'q dyn Queue<'q>,
        node: Node,
        calls: Cell<usize>,
        waited_on: Cell<ConditionSet>,
    }

    impl Probe for GraphProbe<'_> {
        fn probe(&self) -> ProbeResult {
            self.calls.set(self.calls.get() + 1);
            let needs = set_of(self.node.needs);
            let missing: ConditionSet = needs
                .iter()
                .filter(|c| !self.queue.is_signalled(*c))
                .collect();
            if missing.is_empty() {
                if self.node.fails {
                    ProbeResult::Failed(ErrorCode::FAIL)
                } else {
                    ProbeResult::Ready
                }
            } else {
                let deferred_on = if self.node.defer_on_all {
                    needs
                } else {
                    missing
                };
                self.waited_on.set(self.waited_on.get().union(deferred_on));
                ProbeResult::Defer(deferred_on)
            }
        }
    }

    /// The conditions that end up provided: the external ones, plus
    /// those of entries that succeed once theirs are (least fixpoint).
    fn provided(nodes: &[Node], external: u8) -> u8 {
        let mut provided = external;
        loop {
            let before = provided;
            for node in nodes {
                if !node.fails && node.needs & !provided == 0 {
                    if let Some(condition) = node.provides {
                        provided |= 1 << condition;
                    }
                }
            }
            if provided == before {
                return provided;
            }
        }
    }

    proptest! {
        #[test]
        fn random_dependency_graphs(
            nodes in prop::collection::vec(node(), 1..=MAXIMUM_ENTRIES),
            external in any::<u8>(),
            external_first in any::<bool>(),
        ) {
            let queue: InitQueue<'_, MAXIMUM_ENTRIES, CONDITION_COUNT> = InitQueue::new();
            let conditions: Vec<ConditionId> = (0..CONDITION_COUNT)
                .map(|_| queue.declare_condition("condition").unwrap())
                .collect();
            let probes: Vec<GraphProbe<'_>> = nodes
                .iter()
                .map(|node| GraphProbe {
                    queue: &queue,
                    node: node.clone(),
                    calls: Cell::new(0),
                    waited_on: Cell::new(ConditionSet::empty()),
                })
                .collect();
            let counter = SettledCounter::default();
            queue.set_client(&counter);
            for probe in &probes {
                let provides = probe.node.provides.map(|c| conditions[usize::from(c)]);
                queue.add("node", probe, provides).unwrap();
            }
            let signal_external = || {
                for condition in set_of(external).iter() {
                    queue.signal(condition);
                }
            };
            if external_first {
                signal_external();
            }
            queue.service();
            prop_assert!(queue.is_settled());
            signal_external();
            queue.service();
            prop_assert!(queue.is_settled());
            prop_assert!(counter.calls.get() >= 1 && counter.calls.get() <= 2);

            let signalled = queue.signalled();
            let mut bound = nodes.len();
            for probe in &probes {
                let useful_signals = probe.waited_on.get().intersection(signalled).len();
                prop_assert!(probe.calls.get() <= 1 + useful_signals);
                bound += useful_signals;
            }
            prop_assert!(queue.attempts() <= bound);
            prop_assert_eq!(
                queue.attempts(),
                probes.iter().map(|probe| probe.calls.get()).sum::<usize>()
            );

            let provided = provided(&nodes, external);
            prop_assert_eq!(signalled, set_of(provided));
            for (index, node) in nodes.iter().enumerate() {
                let state = queue.state(EntryId(index as u16));
                if node.needs & !provided == 0 {
                    let expected = if node.fails {
                        EntryState::Failed(ErrorCode::FAIL)
                    } else {
                        EntryState::Ready
                    };
                    prop_assert_eq!(state, expected);
                } else {
                    prop_assert!(
                        matches!(state, EntryState::Waiting(set) if !set.is_subset(signalled)),
                        "entry {} is {:?}", index, state
                    );
                }
            }
        }
    }
}

#[test]
fn work_in_flight_keeps_the_queue_from_settling() {
    use std::cell::Cell;
    struct Settled(Cell<usize>);
    impl InitQueueClient for Settled {
        fn settled(&self) {
            self.0.set(self.0.get() + 1);
        }
    }
    struct WaitsForCore(ConditionId);
    impl Probe for WaitsForCore {
        fn probe(&self) -> ProbeResult {
            ProbeResult::Defer(ConditionSet::of(self.0))
        }
    }
    let queue: InitQueue<'_, 2, 2> = InitQueue::new();
    let online = queue.declare_condition("cpu1-online").unwrap();
    let probe = WaitsForCore(online);
    let settled = Settled(Cell::new(0));
    queue.set_client(&settled);
    queue.add("cpu1", &probe, None).unwrap();
    queue.begin_work();
    queue.service();
    assert!(!queue.is_settled(), "a core is still coming online");
    assert_eq!(settled.0.get(), 0);
    assert!(
        !queue.has_work(),
        "nothing to do meanwhile: the loop may sleep"
    );
    queue.end_work();
    assert!(
        queue.has_work(),
        "the end of the work is noticed at the next service"
    );
    queue.service();
    assert!(queue.is_settled());
    assert_eq!(settled.0.get(), 1);
    // An unmatched end is ignored.
    queue.end_work();
    queue.service();
    assert_eq!(settled.0.get(), 1);
}

#[test]
fn an_entry_with_nothing_to_drive_is_unbound_not_failed_and_not_retried() {
    let recorder = Recorder::default();
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    queue.set_journal(&recorder);
    let bound = queue.declare_condition("driver-bound").unwrap();
    let driver = Fixed::new(ProbeResult::Unbound);
    let user = Needs::new("user", &queue, ConditionSet::of(bound));
    let entry = queue.add("driver", &driver, Some(bound)).unwrap();
    queue.add("user", &user, None).unwrap();
    queue.service();
    assert_eq!(queue.state(entry), EntryState::Unbound);
    assert!(
        !queue.is_signalled(bound),
        "nothing to drive provides nothing"
    );
    assert!(queue.is_settled());
    assert_eq!(driver.calls.get(), 1);
    assert_eq!(
        queue.counts(),
        EntryCounts {
            waiting: 1,
            unbound: 1,
            ..EntryCounts::default()
        }
    );
    assert_eq!(recorder.events.borrow()[0], ("driver", EntryState::Unbound));
}

/// Starts asynchronous work at its first probe (expecting `done`), and is
/// ready once `done` is signalled.
struct StartsWork<'q> {
    queue: &'q dyn Queue<'q>,
    done: ConditionId,
    started: Cell<bool>,
}

impl Probe for StartsWork<'_> {
    fn probe(&self) -> ProbeResult {
        if self.queue.is_signalled(self.done) {
            return ProbeResult::Ready;
        }
        self.started.set(true);
        self.queue.expect_signal(self.done);
        ProbeResult::Defer(ConditionSet::of(self.done))
    }
}

/// Counts the settlings it is told of.
#[derive(Default)]
struct SettleCounter {
    settled: Cell<usize>,
}

impl InitQueueClient for SettleCounter {
    fn settled(&self) {
        self.settled.set(self.settled.get() + 1);
    }
}

#[test]
fn work_under_way_keeps_the_queue_from_settling() {
    use crate::main_loop::LoopService;
    let queue: InitQueue<'_, 4, 4> = InitQueue::new();
    let done = queue.declare_condition("transfer-done").unwrap();
    let ready = queue.declare_condition("device-ready").unwrap();
    let counter = SettleCounter::default();
    queue.set_client(&counter);
    let device = StartsWork {
        queue: &queue,
        done,
        started: Cell::new(false),
    };
    let user = Needs::new("user", &queue, ConditionSet::of(ready));
    let device_entry = queue.add("device", &device, Some(ready)).unwrap();
    queue.add("user", &user, None).unwrap();
    queue.service();
    assert!(device.started.get());
    assert_eq!(queue.expected(), ConditionSet::of(done));
    assert!(!queue.is_settled(), "a transfer is under way");
    assert_eq!(counter.settled.get(), 0);
    assert!(!LoopService::has_work(&queue), "nothing to probe meanwhile");

    // The transfer completes (from an alarm, say): the device is probed again.
    queue.signal(done);
    assert!(queue.expected().is_empty());
    assert!(LoopService::has_work(&queue));
    queue.service();
    assert_eq!(queue.state(device_entry), EntryState::Ready);
    assert_eq!(user.calls.get(), 2, "woken by device-ready");
    assert!(queue.is_settled());
    assert_eq!(counter.settled.get(), 1, "told once, at the end");
    assert!(!LoopService::has_work(&queue));
}

#[test]
fn an_expected_signal_nobody_waits_on_still_reports_the_settling() {
    use crate::main_loop::LoopService;
    let queue: InitQueue<'_, 2, 2> = InitQueue::new();
    let done = queue.declare_condition("measured").unwrap();
    let counter = SettleCounter::default();
    queue.set_client(&counter);
    let idle = Needs::new("idle", &queue, ConditionSet::empty());
    queue.add("idle", &idle, None).unwrap();
    queue.expect_signal(done);
    queue.service();
    assert_eq!(counter.settled.get(), 0);
    assert!(!LoopService::has_work(&queue));
    queue.signal(done);
    assert!(LoopService::has_work(&queue), "the settling is due");
    queue.service();
    assert_eq!(counter.settled.get(), 1);
    assert!(!LoopService::has_work(&queue));
    // expire() gives up on an expectation that never comes.
    let other = queue.declare_condition("never").unwrap();
    queue.expect_signal(other);
    assert!(!queue.is_settled());
    queue.expire();
    assert!(queue.is_settled());
}
