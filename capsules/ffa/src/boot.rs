//! Boot completion: once readiness has finished (the monitor answered, FF-A
//! is absent, or the deadline passed) and the init queue has settled, log
//! the boot report and what is still pending, then tell the board.
//!
//! [`BootCompletion`] is the init queue's client and the readiness poller's
//! client at once; the board only supplies a [`BootClient`] for what it
//! does when boot is over (nothing, or a test hook).
//!
//! ```text
//! boot: init queue settled
//! ffa report: root Ready, FF-A v1.2 (SMCCC 1.2), own ID 0x0000, RX/TX 4096 bytes (1 pages), 3 partitions
//! ffa report: arm-ffa-1: ID 0x8001 UUID fa791f17-... driver ffa-echo
//! init: no entry is waiting
//! ```

use core::cell::Cell;

use crate::bus::FfaBus;
use crate::readiness::{Absence, ReadinessClient};
use crate::report;
use ffa_abi::Version;
use kernel::cells::OptionalCell;
use kernel::init_queue::{InitQueueClient, Queue};

/// Told when boot is over.
pub trait BootClient {
    /// Readiness has finished and the init queue settled; the boot report
    /// has been logged. Called once.
    fn boot_complete(&self);
}

/// Waits for readiness and the init queue, then reports boot.
pub struct BootCompletion<'a, const PARTITIONS: usize> {
    queue: &'a dyn Queue<'a>,
    bus: &'a FfaBus<'a, PARTITIONS>,
    readiness_finished: Cell<bool>,
    reported: Cell<bool>,
    client: OptionalCell<&'a dyn BootClient>,
}

impl<'a, const PARTITIONS: usize> BootCompletion<'a, PARTITIONS> {
    /// Completion of a boot whose FF-A bus is `bus`, on `queue`. Make it the
    /// queue's client and the readiness poller's client.
    pub fn new(queue: &'a dyn Queue<'a>, bus: &'a FfaBus<'a, PARTITIONS>) -> Self {
        BootCompletion {
            queue,
            bus,
            readiness_finished: Cell::new(false),
            reported: Cell::new(false),
            client: OptionalCell::empty(),
        }
    }

    /// Sets the client told when boot is over.
    pub fn set_client(&self, client: &'a dyn BootClient) {
        self.client.set(client);
    }

    /// Whether boot is over (and reported).
    pub fn is_complete(&self) -> bool {
        self.reported.get()
    }

    /// Reports boot once both readiness and the queue are done.
    fn finish_if_done(&self) {
        if !self.readiness_finished.get() || !self.queue.is_settled() || self.reported.replace(true)
        {
            return;
        }
        defmt::info!("boot: init queue settled");
        report::log_boot_report(self.bus);
        self.queue.report_pending();
        self.client.map(|client| client.boot_complete());
    }
}

impl<const PARTITIONS: usize> InitQueueClient for BootCompletion<'_, PARTITIONS> {
    fn settled(&self) {
        self.finish_if_done();
    }
}

impl<const PARTITIONS: usize> ReadinessClient for BootCompletion<'_, PARTITIONS> {
    fn monitor_ready(&self, _version: Version) {
        self.readiness_finished.set(true);
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
        self.readiness_finished.set(true);
        self.finish_if_done();
    }

    fn deadline_expired(&self) {
        defmt::error!("boot: the secure monitor did not become ready before the deadline");
        self.queue.expire();
        self.readiness_finished.set(true);
        self.finish_if_done();
    }
}
