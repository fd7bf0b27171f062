//! Split-phase direct requests: `send` returns at once, the response (or
//! the error) arrives through the sender's [`DirectRequestClient`], from a
//! deferred call, never from inside `send`.
//!
//! [`DirectRequests`] is the engine of one vCPU (one core). It holds one
//! request slot per partition handle (at most one request in flight per
//! handle: a second `send` gets `BUSY`) and runs one request at a time on
//! its vCPU, from the first call until the response: the others wait in
//! their slots, started in turn. A board with several cores has one engine
//! per core, all on the boot core (capsule state stays single-threaded);
//! each makes its calls where its [`CallPath`] says: the boot core's
//! engine through the conduit, at once; a secondary core's engine through
//! that core ([`CoreCalls`]: the core makes the call itself, so the secure
//! world sees the request come from it and runs the partition's execution
//! context of that core), its reply looked for on the engine's alarm
//! ([`CORE_CALL_POLL_US`] after the call, then at doubling intervals up to
//! [`CORE_CALL_POLL_MAX_US`]) for at most [`CORE_CALL_DEADLINE_US`]. Each request drives a
//! [`messaging::Exchange`](crate::messaging::Exchange) and does what it
//! says:
//!
//! | reply | state | then |
//! |---|---|---|
//! | the response, or an error | [`RequestState::Completed`] | the client's callback from the deferred call; the next waiting request starts |
//! | `FFA_INTERRUPT` | [`RequestState::ResumeAfterInterrupt`] | back to the main loop, which serves the pending interrupt first; `FFA_RUN` from the deferred call |
//! | `FFA_YIELD` | [`RequestState::WaitingForYield`] | `FFA_RUN` when the alarm fires, after the timeout the partition gave (w2/w3, nanoseconds; capped at [`MAXIMUM_YIELD_WAIT_US`]) or the board's default for 0 |
//! | `BUSY`, `RETRY` | [`RequestState::BackingOff`] | the request again when the alarm fires, after the policy's back-off |
//! | (a secondary's engine, before any reply) | [`RequestState::AwaitingCore`] | the reply taken from the core when the alarm finds it; the core's failure to take the call, or no reply by the deadline, completes the request with an error |
//!
//! Every path is bounded by the [`RetryPolicy`](crate::messaging::RetryPolicy)
//! (retries and resumptions). [`DirectRequests::cancel_all`] (the bus's
//! teardown) completes every unfinished request with
//! [`ClientError::Cancelled`]; an alarm or deferred call that was pending
//! for it then finds nothing to do. Every accepted `send` gets exactly one
//! callback.
//!
//! ```ignore
//! handle.set_request_client(&driver)?;
//! handle.send(&DirectMessage32::new([1, 2, 3, 4, 5]))?; // returns at once
//! // later, from the main loop: driver.response(0, Ok(AnyDirectMessage::Bits32(..)))
//! ```

use core::cell::Cell;

use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use crate::messaging::{AnyDirectMessage, Exchange, Next, RunTarget};
use kernel::cells::OptionalCell;
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::cores::CoreCalls;
use kernel::hil::smccc::SmcccRegisters;
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::ErrorCode;

/// The longest a yielded partition is left waiting, whatever timeout it
/// gave: one second.
pub const MAXIMUM_YIELD_WAIT_US: u64 = 1_000_000;

/// How soon a secondary core's engine first looks for the core's reply;
/// each look that finds none doubles the wait, up to
/// [`CORE_CALL_POLL_MAX_US`] (a slow call is looked at a few times, not
/// every 100 us: every look is a timer interrupt on the boot core, which
/// preempts whatever partition runs there).
pub const CORE_CALL_POLL_US: u64 = 100;

/// The longest wait between two looks for a core's reply.
pub const CORE_CALL_POLL_MAX_US: u64 = 10_000;

/// How long a secondary core may take to make one call and come back (the
/// secure world's time included): one second.
pub const CORE_CALL_DEADLINE_US: u64 = 1_000_000;

/// The boot core's index (its engine makes the calls itself).
pub const BOOT_CORE: usize = 0;

/// Told the outcome of a split-phase direct request.
pub trait DirectRequestClient {
    /// The response's message, or why the request failed, for the request
    /// made from core `core` (the boot core's engine: [`BOOT_CORE`]).
    /// Called once per accepted `send`, from a deferred call or the alarm,
    /// never from inside `send`.
    fn response(&self, core: usize, result: Result<AnyDirectMessage, ClientError>);
}

/// Where an engine's calls are made.
#[derive(Clone, Copy)]
pub enum CallPath<'a> {
    /// On this core (the boot core), through the conduit: every reply at once.
    Here(FfaConduit<'a>),
    /// On secondary core `core`, which makes every call itself: each reply
    /// later, taken by the engine's alarm.
    OnCore {
        /// The chip's cores.
        cores: &'a dyn CoreCalls,
        /// The core.
        core: usize,
    },
}

/// Told the callee's registers of a call an engine made on its core for
/// someone else ([`SplitPhaseRequests::call_on_core`]).
pub trait CoreCallClient {
    /// The registers the callee returned for the call made on core `core`,
    /// or why it was not made. Called once per accepted call, from a
    /// deferred call or the alarm.
    fn call_done(&self, core: usize, reply: Result<SmcccRegisters, ClientError>);
}

/// Told when no request is in flight any more.
pub trait RequestsIdleClient {
    /// Every accepted request has completed and its callback has run.
    fn requests_idle(&self);
}

/// Where a request slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RequestState {
    /// No request.
    Idle,
    /// Accepted; waits for the vCPU (another request runs).
    Queued,
    /// Preempted (`FFA_INTERRUPT`): `FFA_RUN` of this target once the main
    /// loop has served the interrupt.
    ResumeAfterInterrupt(RunTarget),
    /// Yielded (`FFA_YIELD`): `FFA_RUN` of this target at alarm time `until`.
    WaitingForYield {
        /// What to resume.
        target: RunTarget,
        /// When, in alarm ticks.
        until: u64,
    },
    /// Refused with `BUSY`/`RETRY`: sent again at alarm time `until`.
    BackingOff {
        /// When, in alarm ticks.
        until: u64,
    },
    /// The call is being made on the engine's (secondary) core: its reply
    /// is taken when the alarm finds it, or the request fails at alarm time
    /// `deadline`.
    AwaitingCore {
        /// When to give up, in alarm ticks.
        deadline: u64,
        /// The wait before the next look, in microseconds.
        poll_us: u64,
    },
    /// Over; the callback is due.
    Completed,
}

impl RequestState {
    /// Whether the request holds the vCPU (started, not completed).
    pub const fn is_running(&self) -> bool {
        matches!(
            self,
            RequestState::ResumeAfterInterrupt(_)
                | RequestState::WaitingForYield { .. }
                | RequestState::BackingOff { .. }
                | RequestState::AwaitingCore { .. }
        )
    }
}

/// What happened to the requests, for the boot report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, defmt::Format)]
pub struct RequestCounters {
    /// Requests accepted.
    pub sent: u32,
    /// Requests that completed with a response.
    pub answered: u32,
    /// Requests that failed (or were cancelled).
    pub failed: u32,
    /// `FFA_INTERRUPT`s served before the partition was resumed.
    pub interrupts: u32,
    /// `FFA_YIELD`s waited out.
    pub yields: u32,
    /// `BUSY`/`RETRY` answers backed off.
    pub backoffs: u32,
    /// Calls made on a secondary core (whose replies were awaited).
    pub core_calls: u32,
}

/// The split-phase requests as the bus uses them, whatever the number of slots.
pub trait SplitPhaseRequests<'a> {
    /// Sets the client told of the outcome of slot `slot`'s requests.
    fn set_client(&self, slot: usize, client: &'a dyn DirectRequestClient);

    /// Starts `request` (its replies read by `exchange`) on slot `slot`.
    /// `BUSY` if the slot has a request in flight, `INVAL` for a slot that
    /// does not exist, `OFF` if the slot has no client.
    fn send(&self, slot: usize, request: Request, exchange: Exchange) -> Result<(), ErrorCode>;

    /// Where slot `slot` is (`Idle` for a slot that does not exist).
    fn state(&self, slot: usize) -> RequestState;

    /// Completes every unfinished request with [`ClientError::Cancelled`].
    fn cancel_all(&self);

    /// Whether a request holds the vCPU, or waits, or waits for its callback.
    fn busy(&self) -> bool;

    /// Whether a request holds the vCPU (started, not completed).
    fn running(&self) -> bool;

    /// What happened so far.
    fn counters(&self) -> RequestCounters;

    /// Makes `call` on this engine's core (a call that must come from that
    /// core, such as `FFA_NOTIFICATION_GET` of its vCPU, which is no direct
    /// request) when no request holds the vCPU, and hands the callee's
    /// registers to `client`, never from inside this call. One at a time:
    /// `BUSY` while an earlier one is unfinished.
    fn call_on_core(&self, call: Request, client: &'a dyn CoreCallClient) -> Result<(), ErrorCode>;
}

/// The active-slot index of an engine's call for someone else.
const CORE_CALL_SLOT: usize = usize::MAX;

/// A call made on the engine's core for someone else.
struct CoreCallSlot<'a> {
    state: Cell<RequestState>,
    request: OptionalCell<Request>,
    client: OptionalCell<&'a dyn CoreCallClient>,
    result: OptionalCell<Result<SmcccRegisters, ClientError>>,
}

/// One handle's request.
struct Slot<'a> {
    client: OptionalCell<&'a dyn DirectRequestClient>,
    state: Cell<RequestState>,
    request: OptionalCell<Request>,
    exchange: OptionalCell<Exchange>,
    result: OptionalCell<Result<AnyDirectMessage, ClientError>>,
}

impl Slot<'_> {
    const fn new() -> Self {
        Slot {
            client: OptionalCell::empty(),
            state: Cell::new(RequestState::Idle),
            request: OptionalCell::empty(),
            exchange: OptionalCell::empty(),
            result: OptionalCell::empty(),
        }
    }
}

/// The split-phase request engine of one vCPU, with `SLOTS` request slots.
pub struct DirectRequests<'a, const SLOTS: usize> {
    path: CallPath<'a>,
    alarm: &'a dyn Alarm<'a>,
    deferred_call: DeferredCall,
    slots: [Slot<'a>; SLOTS],
    /// A call made for someone else (its active index: `CORE_CALL_SLOT`).
    core_call: CoreCallSlot<'a>,
    /// The slot whose request holds the vCPU.
    active: OptionalCell<usize>,
    /// Where the search for the next waiting request starts (round robin).
    next: Cell<usize>,
    counters: Cell<RequestCounters>,
    idle_client: OptionalCell<&'a dyn RequestsIdleClient>,
    was_busy: Cell<bool>,
}

impl<'a, const SLOTS: usize> DirectRequests<'a, SLOTS> {
    /// The boot core's engine over `conduit`, waiting on `alarm` (a
    /// virtual alarm of its own: make the engine its client). Register the
    /// deferred call once it is in its final place.
    pub fn new(conduit: FfaConduit<'a>, alarm: &'a dyn Alarm<'a>) -> Self {
        Self::with_path(CallPath::Here(conduit), alarm)
    }

    /// The engine of secondary core `core`, whose calls that core makes
    /// (`cores`), waiting on `alarm` (its own, as for [`Self::new`]).
    pub fn on_core(cores: &'a dyn CoreCalls, core: usize, alarm: &'a dyn Alarm<'a>) -> Self {
        Self::with_path(CallPath::OnCore { cores, core }, alarm)
    }

    fn with_path(path: CallPath<'a>, alarm: &'a dyn Alarm<'a>) -> Self {
        DirectRequests {
            path,
            alarm,
            deferred_call: DeferredCall::new(),
            slots: core::array::from_fn(|_| Slot::new()),
            core_call: CoreCallSlot {
                state: Cell::new(RequestState::Idle),
                request: OptionalCell::empty(),
                client: OptionalCell::empty(),
                result: OptionalCell::empty(),
            },
            active: OptionalCell::empty(),
            next: Cell::new(0),
            counters: Cell::new(RequestCounters::default()),
            idle_client: OptionalCell::empty(),
            was_busy: Cell::new(false),
        }
    }

    /// Sets the client told when no request is in flight any more.
    pub fn set_idle_client(&self, client: &'a dyn RequestsIdleClient) {
        self.idle_client.set(client);
    }

    /// The slot whose request holds the vCPU.
    pub fn active(&self) -> Option<usize> {
        self.active.get()
    }

    /// The core whose vCPU this engine runs requests on.
    pub fn core(&self) -> usize {
        match self.path {
            CallPath::Here(_) => BOOT_CORE,
            CallPath::OnCore { core, .. } => core,
        }
    }

    fn count(&self, update: impl FnOnce(&mut RequestCounters)) {
        let mut counters = self.counters.get();
        update(&mut counters);
        self.counters.set(counters);
    }

    /// Makes the call of the active slot `index`: here, following its
    /// reply at once, or on the engine's core, whose reply the alarm takes.
    fn call(&self, index: usize, call: &Request) {
        match self.path {
            CallPath::Here(conduit) => self.reply(index, conduit.call_raw(call)),
            CallPath::OnCore { cores, core } => self.post(index, cores, core, call),
        }
    }

    /// Follows the reply `raw` to the active slot `index`'s call.
    fn reply(&self, index: usize, raw: SmcccRegisters) {
        if index == CORE_CALL_SLOT {
            self.complete_core_call(Ok(raw));
            return;
        }
        let Some(slot) = self.slots.get(index) else {
            return;
        };
        let Some(mut exchange) = slot.exchange.get() else {
            return;
        };
        let next = exchange.on_raw_reply(raw);
        slot.exchange.set(exchange);
        self.follow(index, &exchange, next);
    }

    /// Posts the active slot `index`'s call to core `core`; if the core
    /// cannot take it, the request fails.
    #[cold]
    fn post(&self, index: usize, cores: &dyn CoreCalls, core: usize, call: &Request) {
        let mut posted = cores.post_call(core, call.registers());
        if posted == Err(ErrorCode::BUSY) {
            // The reply to a call given up on (timed out, cancelled) may
            // still be in the slot: drop it and post again.
            if cores.take_reply(core).is_some() {
                posted = cores.post_call(core, call.registers());
            }
        }
        match posted {
            Ok(()) => {
                self.count(|counters| counters.core_calls += 1);
                let now = self.alarm.now();
                let deadline = now.saturating_add(self.alarm.ticks_from_us(CORE_CALL_DEADLINE_US));
                self.set_state(
                    index,
                    RequestState::AwaitingCore {
                        deadline,
                        poll_us: CORE_CALL_POLL_US,
                    },
                );
                self.alarm
                    .set_alarm(now, self.alarm.ticks_from_us(CORE_CALL_POLL_US));
            }
            Err(code) => {
                defmt::warn!(
                    "ffa: cpu{=usize} cannot make the call ({}): the request fails",
                    core,
                    code
                );
                self.fail(index, ClientError::Core { core, code });
            }
        }
    }

    /// Where slot `index` (or the call for someone else) is.
    fn state_of(&self, index: usize) -> RequestState {
        if index == CORE_CALL_SLOT {
            return self.core_call.state.get();
        }
        self.slots
            .get(index)
            .map_or(RequestState::Idle, |slot| slot.state.get())
    }

    fn set_state(&self, index: usize, state: RequestState) {
        if index == CORE_CALL_SLOT {
            self.core_call.state.set(state);
        } else if let Some(slot) = self.slots.get(index) {
            slot.state.set(state);
        }
    }

    /// The call for someone else is over: its outcome is due.
    fn complete_core_call(&self, result: Result<SmcccRegisters, ClientError>) {
        self.core_call.result.set(result);
        self.core_call.state.set(RequestState::Completed);
        self.active.clear();
        self.deferred_call.set();
    }

    /// Completes the active slot `index` with `error`.
    fn fail(&self, index: usize, error: ClientError) {
        if index == CORE_CALL_SLOT {
            self.complete_core_call(Err(error));
            return;
        }
        let Some(exchange) = self.slots.get(index).and_then(|slot| slot.exchange.get()) else {
            return;
        };
        self.follow(index, &exchange, Next::Done(Err(error)));
    }

    /// Starts the request of slot `index` on the vCPU.
    fn start(&self, index: usize) {
        let request = if index == CORE_CALL_SLOT {
            self.core_call.request.get()
        } else {
            self.slots.get(index).and_then(|slot| slot.request.get())
        };
        let Some(request) = request else {
            return;
        };
        self.active.set(index);
        self.was_busy.set(true);
        self.call(index, &request);
    }

    /// Does what the exchange says after a reply.
    #[inline]
    fn follow(&self, index: usize, exchange: &Exchange, next: Next) {
        let Some(slot) = self.slots.get(index) else {
            return;
        };
        match next {
            Next::Done(result) => {
                self.complete(
                    slot,
                    result.map(|registers| exchange.response_message(&registers)),
                );
            }
            Next::ResumeAfterInterrupt(target) => {
                self.count(|counters| counters.interrupts += 1);
                slot.state.set(RequestState::ResumeAfterInterrupt(target));
                self.deferred_call.set();
            }
            Next::ResumeAfterYield { target, timeout_ns } => {
                self.count(|counters| counters.yields += 1);
                let wait_us = match timeout_ns {
                    0 => u64::from(exchange.policy().yield_default_us),
                    nanoseconds => nanoseconds.div_ceil(1000),
                }
                .min(MAXIMUM_YIELD_WAIT_US);
                let until = self.arm(wait_us);
                slot.state
                    .set(RequestState::WaitingForYield { target, until });
            }
            Next::Resend { status, attempt } => {
                self.count(|counters| counters.backoffs += 1);
                let wait_us = exchange.policy().backoff.delay_us(attempt);
                defmt::debug!(
                    "ffa: request to {=u16:#06x} answered {}; again in {=u64} us",
                    exchange.receiver().raw(),
                    status,
                    wait_us
                );
                let until = self.arm(wait_us);
                slot.state.set(RequestState::BackingOff { until });
            }
        }
    }

    /// The active `slot`'s request is over with `result`: its callback is
    /// due from the deferred call, and the vCPU is free.
    #[inline]
    fn complete(&self, slot: &Slot<'a>, result: Result<AnyDirectMessage, ClientError>) {
        self.count(|counters| match result {
            Ok(_) => counters.answered += 1,
            Err(_) => counters.failed += 1,
        });
        slot.result.set(result);
        slot.state.set(RequestState::Completed);
        self.active.clear();
        self.deferred_call.set();
    }

    /// Arms the alarm `wait_us` from now; returns when, in ticks.
    fn arm(&self, wait_us: u64) -> u64 {
        let now = self.alarm.now();
        let delta = self.alarm.ticks_from_us(wait_us);
        self.alarm.set_alarm(now, delta);
        now.saturating_add(delta)
    }

    /// The next waiting slot, round robin.
    fn next_queued(&self) -> Option<usize> {
        let start = self.next.get();
        (0..SLOTS)
            .map(|offset| (start + offset) % SLOTS.max(1))
            .find(|index| {
                self.slots
                    .get(*index)
                    .is_some_and(|slot| slot.state.get() == RequestState::Queued)
            })
    }

    /// Delivers every completed request's outcome (and the call's for
    /// someone else).
    fn deliver_completed(&self) {
        if self.core_call.state.get() == RequestState::Completed {
            self.core_call.state.set(RequestState::Idle);
            self.core_call.request.clear();
            let result = self
                .core_call
                .result
                .take()
                .unwrap_or(Err(ClientError::Cancelled));
            let core = self.core();
            if let Some(client) = self.core_call.client.take() {
                client.call_done(core, result);
            }
        }
        for slot in self.slots.iter() {
            if slot.state.get() != RequestState::Completed {
                continue;
            }
            slot.state.set(RequestState::Idle);
            slot.request.clear();
            slot.exchange.clear();
            // The slot is idle again: the client may send from its callback.
            // The outcome is moved from the slot straight into the call (one
            // copy: no default merged in first).
            let core = self.core();
            let result = slot.result.take();
            if let Some(client) = slot.client.get() {
                match result {
                    Some(result) => client.response(core, result),
                    None => client.response(core, Err(ClientError::Cancelled)),
                }
            }
        }
    }
}

impl<'a, const SLOTS: usize> SplitPhaseRequests<'a> for DirectRequests<'a, SLOTS> {
    fn set_client(&self, slot: usize, client: &'a dyn DirectRequestClient) {
        if let Some(slot) = self.slots.get(slot) {
            slot.client.set(client);
        }
    }

    fn send(&self, index: usize, request: Request, exchange: Exchange) -> Result<(), ErrorCode> {
        let slot = self.slots.get(index).ok_or(ErrorCode::INVAL)?;
        if slot.client.is_none() {
            return Err(ErrorCode::OFF);
        }
        if slot.state.get() != RequestState::Idle {
            return Err(ErrorCode::BUSY);
        }
        slot.state.set(RequestState::Queued);
        self.count(|counters| counters.sent += 1);
        let free = self.active.is_none() && !self.any_other_queued(index);
        match self.path {
            CallPath::Here(conduit) if free => {
                // The vCPU is free and nobody waits longer: the first call
                // now. Its outcome still arrives from the deferred call.
                self.active.set(index);
                self.was_busy.set(true);
                let raw = conduit.call_raw(&request);
                if exchange.is_plain_response(&raw) {
                    // The response itself, as most often: its message read
                    // in place, nothing kept but the outcome.
                    self.complete(slot, Ok(exchange.message_in(&raw)));
                } else {
                    self.first_reply(index, slot, &request, exchange, raw);
                }
            }
            CallPath::OnCore { .. } if free => {
                // Posted to the core now; the reply comes through the alarm.
                slot.request.set(request);
                slot.exchange.set(exchange);
                self.start(index);
            }
            _ => {
                slot.request.set(request);
                slot.exchange.set(exchange);
                self.deferred_call.set();
            }
        }
        Ok(())
    }

    fn state(&self, slot: usize) -> RequestState {
        self.slots
            .get(slot)
            .map_or(RequestState::Idle, |slot| slot.state.get())
    }

    fn cancel_all(&self) {
        let mut cancelled = false;
        if !matches!(
            self.core_call.state.get(),
            RequestState::Idle | RequestState::Completed
        ) {
            self.core_call.result.set(Err(ClientError::Cancelled));
            self.core_call.state.set(RequestState::Completed);
            cancelled = true;
        }
        for slot in self.slots.iter() {
            match slot.state.get() {
                RequestState::Idle | RequestState::Completed => {}
                _ => {
                    slot.result.set(Err(ClientError::Cancelled));
                    slot.state.set(RequestState::Completed);
                    self.count(|counters| counters.failed += 1);
                    cancelled = true;
                }
            }
        }
        self.active.clear();
        let _ = self.alarm.disarm();
        if cancelled {
            defmt::warn!("ffa: requests in flight cancelled");
        }
        self.deferred_call.set();
    }

    fn busy(&self) -> bool {
        self.core_call.state.get() != RequestState::Idle
            || self
                .slots
                .iter()
                .any(|slot| slot.state.get() != RequestState::Idle)
    }

    fn running(&self) -> bool {
        self.active.is_some()
    }

    fn counters(&self) -> RequestCounters {
        self.counters.get()
    }

    fn call_on_core(&self, call: Request, client: &'a dyn CoreCallClient) -> Result<(), ErrorCode> {
        if self.core_call.state.get() != RequestState::Idle {
            return Err(ErrorCode::BUSY);
        }
        self.core_call.request.set(call);
        self.core_call.client.set(client);
        self.core_call.state.set(RequestState::Queued);
        // Made from the deferred call once the vCPU is free.
        self.deferred_call.set();
        Ok(())
    }
}

impl<'a, const SLOTS: usize> DirectRequests<'a, SLOTS> {
    /// Follows the first reply `raw` to slot `index`'s `request` made at
    /// once from `send`, when it is not the plain response. The request is
    /// kept only if it may be sent again (BUSY/RETRY); resuming needs the
    /// exchange alone.
    #[cold]
    #[inline(never)]
    fn first_reply(
        &self,
        index: usize,
        slot: &Slot<'a>,
        request: &Request,
        mut exchange: Exchange,
        raw: SmcccRegisters,
    ) {
        let next = exchange.on_raw_reply(raw);
        match next {
            Next::Done(_) => {}
            Next::Resend { .. } => {
                slot.request.set(*request);
                slot.exchange.set(exchange);
            }
            _ => slot.exchange.set(exchange),
        }
        self.follow(index, &exchange, next);
    }

    fn any_other_queued(&self, index: usize) -> bool {
        self.core_call.state.get() == RequestState::Queued
            || self
                .slots
                .iter()
                .enumerate()
                .any(|(other, slot)| other != index && slot.state.get() == RequestState::Queued)
    }
}

impl<const SLOTS: usize> DeferredCallClient for DirectRequests<'static, SLOTS> {
    fn handle_deferred_call(&self) {
        // The main loop served pending interrupts before this call: resume
        // a preempted request (one FFA_RUN per deferred call, so that the
        // loop serves interrupts between two).
        if let Some(index) = self.active.get() {
            if let Some(RequestState::ResumeAfterInterrupt(target)) =
                self.slots.get(index).map(|slot| slot.state.get())
            {
                self.call(index, &target.request());
            }
        }
        self.deliver_completed();
        if self.active.is_none() {
            // A call for someone else first: it is one short call.
            if self.core_call.state.get() == RequestState::Queued {
                self.start(CORE_CALL_SLOT);
            } else if let Some(index) = self.next_queued() {
                self.next.set((index + 1) % SLOTS.max(1));
                self.start(index);
            }
        }
        if self.was_busy.get() && !self.busy() {
            self.was_busy.set(false);
            self.idle_client.map(|client| client.requests_idle());
        }
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

impl<const SLOTS: usize> AlarmClient for DirectRequests<'_, SLOTS> {
    fn alarm(&self) {
        let Some(index) = self.active.get() else {
            return; // Stale: cancelled, or nothing waits.
        };
        let now = self.alarm.now();
        match self.state_of(index) {
            RequestState::WaitingForYield { target, until } => {
                if now < until {
                    self.alarm.set_alarm(now, until - now);
                    return;
                }
                self.call(index, &target.request());
            }
            RequestState::BackingOff { until } => {
                if now < until {
                    self.alarm.set_alarm(now, until - now);
                    return;
                }
                if let Some(request) = self.slots.get(index).and_then(|slot| slot.request.get()) {
                    self.call(index, &request);
                }
            }
            RequestState::AwaitingCore { deadline, poll_us } => {
                let CallPath::OnCore { cores, core } = self.path else {
                    return;
                };
                if let Some(reply) = cores.take_reply(core) {
                    self.reply(index, reply);
                } else if now >= deadline {
                    defmt::error!(
                        "ffa: cpu{=usize} made no reply within {=u64} us: the request fails",
                        core,
                        CORE_CALL_DEADLINE_US
                    );
                    self.fail(index, ClientError::CoreTimedOut(core));
                } else {
                    let poll_us = poll_us.saturating_mul(2).min(CORE_CALL_POLL_MAX_US);
                    self.set_state(index, RequestState::AwaitingCore { deadline, poll_us });
                    let wait = self.alarm.ticks_from_us(poll_us).min(deadline - now);
                    self.alarm.set_alarm(now, wait);
                }
            }
            // Stale: the request moved on.
            _ => {}
        }
    }
}
