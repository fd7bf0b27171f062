//! Monitor readiness: polls on an alarm until the secure monitor answers FF-A,
//! then signals a board-declared init-queue condition.
//!
//! With pKVM (or any EL2 proxy) FF-A must not be set up before the proxy
//! is in place, and a secure monitor may answer `NOT_READY` or `BUSY` while
//! it boots. [`MonitorReadiness`] asks `SMCCC_VERSION` (must be ≥ 1.2) and
//! `FFA_VERSION` every poll interval until a version comes back, then signals
//! its condition; the FF-A root waits on that condition. If FF-A is absent
//! (`FFA_VERSION` answers `NOT_SUPPORTED`) it says so once and stops: the
//! condition is never signalled and the root stays pending; so it does at
//! once, without a call, when the board has no conduit at all (no secure
//! monitor: `ConduitKind::Absent`). If the deadline
//! passes it logs and tells its [`ReadinessClient`], so the board can
//! `expire()` the init queue.
//!
//! Boards wire it with `components::readiness`; `components::boot` starts
//! it and expires the queue at the deadline.

use crate::client::ClientConfig;
use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use crate::version::{self, SupportedVersion, VersionAnswer};
use core::cell::Cell;
use ffa_abi::FunctionId;
use ffa_abi::{Status, Version};
use kernel::cells::OptionalCell;
use kernel::hil::smccc::{ConduitKind, SmcccConduit};
use kernel::hil::time::{Alarm, AlarmClient};
use kernel::init_queue::{ConditionId, Queue};
use kernel::ErrorCode;

/// Why FF-A will never be available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Absence {
    /// The board has no secure monitor to call (`ConduitKind::Absent`).
    NoMonitor,
    /// `FFA_VERSION` answered `NOT_SUPPORTED`.
    NotImplemented,
    /// The callee implements a different FF-A major version.
    IncompatibleVersion(Version),
}

/// The board-facing outcomes of readiness.
pub trait ReadinessClient {
    /// The monitor answered with `version`; the condition was signalled.
    fn monitor_ready(&self, _version: Version) {}

    /// FF-A is absent; polling stopped and the condition will not be signalled.
    fn monitor_absent(&self, _absence: Absence) {}

    /// The deadline passed before the monitor answered; polling stopped.
    /// A board typically calls `expire()` on its init queue here.
    fn deadline_expired(&self);
}

/// Poll interval and deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct ReadinessConfig {
    /// Time between polls, in milliseconds.
    pub poll_interval_ms: u64,
    /// Time from `start()` after which polling gives up, in milliseconds.
    pub deadline_ms: u64,
    /// The version sent in `FFA_VERSION` (the same the client will request).
    pub requested_version: SupportedVersion,
}

impl ReadinessConfig {
    /// Poll every 10 ms for up to 5 s, requesting v1.2.
    pub const DEFAULT: ReadinessConfig = ReadinessConfig {
        poll_interval_ms: 10,
        deadline_ms: 5_000,
        requested_version: SupportedVersion::NEWEST,
    };

    /// The default timing, requesting the same version as the client will.
    pub const fn matching(client: &ClientConfig) -> ReadinessConfig {
        ReadinessConfig {
            requested_version: client.requested_version,
            ..ReadinessConfig::DEFAULT
        }
    }
}

/// What the last poll saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Observation {
    /// Nothing polled yet.
    Nothing,
    /// `SMCCC_VERSION` reported a version below 1.2 (major, minor; 1.0 if not implemented).
    SmcccTooOld(u16, u16),
    /// `FFA_VERSION` answered with this status.
    Status(Status),
    /// `FFA_VERSION` answered with a version.
    FfaVersion(Version),
}

/// Where readiness is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ReadinessState {
    /// `start()` not called.
    Idle,
    /// Polling.
    Polling,
    /// The monitor answered; the condition was signalled.
    Ready(Version),
    /// FF-A is absent; stopped.
    Absent(Absence),
    /// The deadline passed; stopped.
    TimedOut,
}

/// Polls until the secure monitor answers FF-A, then signals `condition`.
pub struct MonitorReadiness<'a, A: Alarm<'a>> {
    alarm: &'a A,
    conduit: FfaConduit<'a>,
    queue: &'a dyn Queue<'a>,
    condition: ConditionId,
    config: ReadinessConfig,
    client: OptionalCell<&'a dyn ReadinessClient>,
    state: Cell<ReadinessState>,
    last: Cell<Observation>,
    polls: Cell<u32>,
    deadline: Cell<u64>,
}

/// One poll's verdict.
enum Verdict {
    Ready(Version),
    Absent(Absence),
    NotYet,
}

impl<'a, A: Alarm<'a>> MonitorReadiness<'a, A> {
    /// A poller on `alarm` and `conduit` that signals `condition` on `queue`.
    pub fn new(
        alarm: &'a A,
        conduit: &'a dyn SmcccConduit,
        queue: &'a dyn Queue<'a>,
        condition: ConditionId,
        config: ReadinessConfig,
    ) -> MonitorReadiness<'a, A> {
        MonitorReadiness {
            alarm,
            conduit: FfaConduit::new(conduit),
            queue,
            condition,
            config,
            client: OptionalCell::empty(),
            state: Cell::new(ReadinessState::Idle),
            last: Cell::new(Observation::Nothing),
            polls: Cell::new(0),
            deadline: Cell::new(0),
        }
    }

    /// Sets the board's client for the outcomes.
    pub fn set_client(&self, client: &'a dyn ReadinessClient) {
        self.client.set(client);
    }

    /// Where readiness is.
    pub fn state(&self) -> ReadinessState {
        self.state.get()
    }

    /// What the last poll saw.
    pub fn last_observation(&self) -> Observation {
        self.last.get()
    }

    /// How many polls were made.
    pub fn polls(&self) -> u32 {
        self.polls.get()
    }

    /// Starts polling; the first poll runs from the alarm, never inside this call.
    pub fn start(&self) -> Result<(), ErrorCode> {
        if self.state.get() != ReadinessState::Idle {
            return Err(ErrorCode::ALREADY);
        }
        let now = self.alarm.now();
        self.deadline
            .set(now.saturating_add(self.alarm.ticks_from_ms(self.config.deadline_ms)));
        self.state.set(ReadinessState::Polling);
        self.alarm.set_alarm(now, 0);
        Ok(())
    }

    fn poll(&self) -> Verdict {
        if self.conduit.kind() == ConduitKind::Absent {
            return Verdict::Absent(Absence::NoMonitor);
        }
        let smccc = self
            .conduit
            .call_raw(&Request::new(FunctionId::SmcccVersion));
        if let Err(ClientError::SmcccTooOld { major, minor }) =
            version::decode_smccc_version(smccc.x[0])
        {
            self.last.set(Observation::SmcccTooOld(major, minor));
            return Verdict::NotYet;
        }
        match version::query_version(&self.conduit, self.config.requested_version) {
            VersionAnswer::Version(callee) => {
                self.last.set(Observation::FfaVersion(callee));
                if callee.major() == 1 {
                    Verdict::Ready(callee)
                } else {
                    Verdict::Absent(Absence::IncompatibleVersion(callee))
                }
            }
            VersionAnswer::Status(status) => {
                self.last.set(Observation::Status(status));
                match status {
                    Status::NotSupported => Verdict::Absent(Absence::NotImplemented),
                    _ => Verdict::NotYet,
                }
            }
        }
    }
}

impl<'a, A: Alarm<'a>> AlarmClient for MonitorReadiness<'a, A> {
    fn alarm(&self) {
        if self.state.get() != ReadinessState::Polling {
            return;
        }
        self.polls.set(self.polls.get().saturating_add(1));
        match self.poll() {
            Verdict::Ready(version) => {
                self.state.set(ReadinessState::Ready(version));
                defmt::info!(
                    "ffa: secure monitor answers FF-A v{=u16}.{=u16} after {=u32} polls",
                    version.major(),
                    version.minor(),
                    self.polls.get()
                );
                self.queue.signal(self.condition);
                self.client.map(|client| client.monitor_ready(version));
            }
            Verdict::Absent(absence) => {
                self.state.set(ReadinessState::Absent(absence));
                defmt::warn!(
                    "ffa: FF-A is not available ({}); not polling further",
                    absence
                );
                self.client.map(|client| client.monitor_absent(absence));
            }
            Verdict::NotYet => {
                let now = self.alarm.now();
                if now >= self.deadline.get() {
                    self.state.set(ReadinessState::TimedOut);
                    defmt::error!(
                        "ffa: secure monitor not ready after {=u64} ms ({=u32} polls, last: {})",
                        self.config.deadline_ms,
                        self.polls.get(),
                        self.last.get()
                    );
                    self.client.map(|client| client.deadline_expired());
                } else {
                    let interval = self
                        .alarm
                        .ticks_from_ms(self.config.poll_interval_ms)
                        .max(1);
                    self.alarm.set_alarm(now, interval);
                }
            }
        }
    }
}
