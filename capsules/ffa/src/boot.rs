//! Boot completion: once readiness has finished (the monitor answered, FF-A
//! is absent, or the deadline passed), the init queue has settled and the
//! FF-A bus has no work under way (drivers' split-phase requests and the
//! work they hold open), log the boot report and what is still pending,
//! then tell the board.
//!
//! [`BootCompletion`] is the init queue's client and the readiness poller's
//! client at once; the board only supplies a [`BootClient`] for what it
//! does when boot is over (nothing, or a test hook), told how it ended: a
//! [`BootOutcome`].
//!
//! ```text
//! boot: init queue settled
//! ffa report: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 3 partitions
//! ffa report: arm-ffa-1: ID 0x8001 UUID fa791f17-... driver ffa-echo
//! init: no entry is waiting
//! ```

use core::cell::Cell;

use crate::bus::{BusIdleClient, FfaBus, RootState};
use crate::readiness::{Absence, ReadinessClient};
use crate::report;
use ffa_abi::Version;
use kernel::cells::OptionalCell;
use kernel::init_queue::{InitQueueClient, Queue};
use kernel::ErrorCode;

/// How boot ended for FF-A.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum BootOutcome {
    /// The FF-A root is up.
    FfaReady,
    /// The secure monitor has no FF-A, or one of another major version:
    /// there was nothing to set up (a system without a secure world).
    FfaAbsent,
    /// The monitor answered FF-A, but the root is not up: it failed, or it
    /// still waits on a condition that will not come (the state it is in).
    RootDown(RootState),
    /// The monitor did not answer before the readiness deadline: the root
    /// timed out.
    TimedOut,
}

impl BootOutcome {
    /// Whether FF-A came up, or was never there to come up.
    pub const fn is_healthy(&self) -> bool {
        matches!(self, BootOutcome::FfaReady | BootOutcome::FfaAbsent)
    }
}

/// A part of the boot report another capsule contributes (measured boot:
/// what was measured, or why measurement is unavailable).
pub trait ReportSection {
    /// Logs the section's lines. Called once, after the FF-A report.
    fn log_report(&self);
}

/// How many report sections a boot completion holds.
pub const REPORT_SECTIONS: usize = 4;

/// Told when boot is over.
pub trait BootClient {
    /// Readiness has finished and the init queue settled; the boot report
    /// has been logged. Called once, with how boot ended.
    fn boot_complete(&self, outcome: BootOutcome);
}

/// How readiness finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Readiness {
    Polling,
    Answered,
    Absent,
    Expired,
}

/// Waits for readiness and the init queue, then reports boot.
pub struct BootCompletion<'a, const PARTITIONS: usize> {
    queue: &'a dyn Queue<'a>,
    bus: &'a FfaBus<'a, PARTITIONS>,
    readiness: Cell<Readiness>,
    reported: Cell<bool>,
    client: OptionalCell<&'a dyn BootClient>,
    sections: [OptionalCell<&'a dyn ReportSection>; REPORT_SECTIONS],
}

impl<'a, const PARTITIONS: usize> BootCompletion<'a, PARTITIONS> {
    /// Completion of a boot whose FF-A bus is `bus`, on `queue`. Make it the
    /// queue's client and the readiness poller's client.
    pub fn new(queue: &'a dyn Queue<'a>, bus: &'a FfaBus<'a, PARTITIONS>) -> Self {
        BootCompletion {
            queue,
            bus,
            readiness: Cell::new(Readiness::Polling),
            reported: Cell::new(false),
            client: OptionalCell::empty(),
            sections: [const { OptionalCell::empty() }; REPORT_SECTIONS],
        }
    }

    /// Adds `section` to the boot report, after the FF-A lines.
    /// `Err(NOMEM)` once [`REPORT_SECTIONS`] are added.
    pub fn add_report_section(&self, section: &'a dyn ReportSection) -> Result<(), ErrorCode> {
        let slot = self
            .sections
            .iter()
            .find(|slot| slot.is_none())
            .ok_or(ErrorCode::NOMEM)?;
        slot.set(section);
        Ok(())
    }

    /// Sets the client told when boot is over.
    pub fn set_client(&self, client: &'a dyn BootClient) {
        self.client.set(client);
    }

    /// Whether boot is over (and reported).
    pub fn is_complete(&self) -> bool {
        self.reported.get()
    }

    /// How boot ended, once readiness has finished.
    pub fn outcome(&self) -> Option<BootOutcome> {
        match (self.readiness.get(), self.bus.state()) {
            (Readiness::Polling, _) => None,
            (_, RootState::Ready) => Some(BootOutcome::FfaReady),
            (Readiness::Absent, RootState::Waiting) => Some(BootOutcome::FfaAbsent),
            (Readiness::Expired, RootState::Waiting) => Some(BootOutcome::TimedOut),
            (_, state) => Some(BootOutcome::RootDown(state)),
        }
    }

    /// Reports boot once readiness and the queue are done and the bus has
    /// no work under way (set-up retrying, requests in flight, drivers'
    /// work).
    fn finish_if_done(&self) {
        let Some(outcome) = self.outcome() else {
            return;
        };
        if !self.queue.is_settled() || self.bus.is_busy() || self.reported.replace(true) {
            return;
        }
        defmt::info!("boot: init queue settled");
        report::log_boot_report(self.bus);
        for section in self.sections.iter() {
            section.map(|section| section.log_report());
        }
        self.queue.report_pending();
        match outcome {
            BootOutcome::FfaReady | BootOutcome::FfaAbsent => {
                defmt::info!("boot: over: {}", outcome)
            }
            BootOutcome::RootDown(_) | BootOutcome::TimedOut => {
                defmt::error!("boot: over, but the FF-A root is not up: {}", outcome)
            }
        }
        self.client.map(|client| client.boot_complete(outcome));
    }
}

impl<const PARTITIONS: usize> BusIdleClient for BootCompletion<'_, PARTITIONS> {
    fn bus_idle(&self) {
        self.finish_if_done();
    }
}

impl<const PARTITIONS: usize> InitQueueClient for BootCompletion<'_, PARTITIONS> {
    fn settled(&self) {
        self.finish_if_done();
    }
}

impl<const PARTITIONS: usize> ReadinessClient for BootCompletion<'_, PARTITIONS> {
    fn monitor_ready(&self, _version: Version) {
        self.readiness.set(Readiness::Answered);
        self.finish_if_done();
    }

    fn monitor_absent(&self, absence: Absence) {
        match absence {
            Absence::NoMonitor => {
                defmt::warn!("boot: FF-A is absent (no secure monitor to call); carrying on without it")
            }
            Absence::NotImplemented => {
                defmt::warn!("boot: FF-A is absent (FFA_VERSION not supported); carrying on without it")
            }
            Absence::IncompatibleVersion(version) => defmt::warn!(
                "boot: the secure monitor implements FF-A v{=u16}.{=u16}, an incompatible major version; carrying on without FF-A",
                version.major(),
                version.minor()
            ),
        }
        self.readiness.set(Readiness::Absent);
        self.finish_if_done();
    }

    fn deadline_expired(&self) {
        defmt::error!("boot: the secure monitor did not become ready before the deadline");
        self.queue.expire();
        self.readiness.set(Readiness::Expired);
        self.finish_if_done();
    }
}
