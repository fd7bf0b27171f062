//! A record of the memory transactions the client made, for the boot report.
//!
//! The first [`RECORDS`] transactions are kept (handle, operation, first
//! receiver, pages, ranges, fragments, and what became of them); later ones
//! are only counted. The boot report prints one line each.

use super::attributes::Operation;
use super::descriptor::Layout;
use super::transfer::MemoryHandle;
use crate::error::ClientError;
use core::cell::Cell;
use ffa_abi::PartitionId;

/// How many transactions are kept.
pub const RECORDS: usize = 8;

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RecordState {
    /// Shared: the receivers may use it, the kernel too.
    Shared,
    /// Lent: the receivers may use it, the kernel may not.
    Lent,
    /// Donated: the receiver owns it.
    Donated,
    /// Reclaimed: the kernel's again.
    Reclaimed,
    /// Refused, or ended incomplete: never given.
    Refused(ClientError),
    /// The relayer may hold it and reclaiming failed: unreachable until reclaimed.
    Stranded(ClientError),
    /// Dropped without a reclaim: the pages stay out of the pool.
    Abandoned,
}

/// One transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MemoryRecord {
    /// The handle, if the relayer allocated one.
    pub handle: Option<MemoryHandle>,
    /// Share, lend or donate.
    pub operation: Operation,
    /// The first receiver.
    pub receiver: PartitionId,
    /// Number of receivers.
    pub receivers: u8,
    /// Pages.
    pub pages: u32,
    /// Address ranges (constituents).
    pub ranges: u32,
    /// The descriptor layout.
    pub layout: Layout,
    /// Fragments the descriptor went out in (0 if it never did).
    pub fragments: u32,
    /// What became of it.
    pub state: RecordState,
}

/// The transactions so far.
pub struct MemoryLog {
    records: [Cell<Option<MemoryRecord>>; RECORDS],
    total: Cell<usize>,
}

impl MemoryLog {
    /// No transaction yet.
    pub const fn new() -> MemoryLog {
        MemoryLog {
            records: [const { Cell::new(None) }; RECORDS],
            total: Cell::new(0),
        }
    }

    /// Records `record`; returns its slot, or `None` once the log is full.
    pub fn add(&self, record: MemoryRecord) -> Option<usize> {
        let slot = self.total.get();
        self.total.set(slot + 1);
        let cell = self.records.get(slot)?;
        cell.set(Some(record));
        Some(slot)
    }

    /// Sets the state of the record in `slot`.
    pub fn update(&self, slot: Option<usize>, state: RecordState) {
        if let Some(cell) = slot.and_then(|slot| self.records.get(slot)) {
            if let Some(mut record) = cell.get() {
                record.state = state;
                cell.set(Some(record));
            }
        }
    }

    /// Calls `visit` with every kept record, in order.
    pub fn for_each(&self, mut visit: impl FnMut(&MemoryRecord)) {
        for cell in self.records.iter() {
            if let Some(record) = cell.get() {
                visit(&record);
            }
        }
    }

    /// Transactions made, including those not kept.
    pub fn total(&self) -> usize {
        self.total.get()
    }
}

impl Default for MemoryLog {
    fn default() -> MemoryLog {
        MemoryLog::new()
    }
}
