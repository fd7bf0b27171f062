//! Memory checks with the test partitions: proof that bytes really travel.
//!
//! Against a partition that speaks the memory-check protocol of
//! [`ffa_abi::memory_check`] (the model's echo partition, and
//! `tools/test-partition` under real TF-A), [`MemoryChecks::run`] does, for
//! each operation its [`MemoryCheckPlan`] names:
//!
//! 1. takes a region from the kernel's page pool and fills it with pattern P;
//! 2. shares, lends or donates it to the partition (through the driver's
//!    [`PartitionHandle`], so the partition is the only receiver);
//! 3. asks the partition, with one 64-bit direct request, to retrieve the
//!    memory, check P, write pattern Q and relinquish it (a donated region
//!    it keeps);
//! 4. checks Q: through the [`Shared`](crate::memory::Shared) handle while
//!    shared, after the reclaim when lent (a lent region cannot be read);
//! 5. reclaims it; a `DENIED` reclaim (the partition still holds it) keeps
//!    it lent and is retried once.
//!
//! The scattered share gives a region of many single-page ranges, whose
//! descriptor needs more than one TX buffer: fragments. Each check logs one
//! line, and the results are kept for the boot report and tests. A callee
//! that does not offer memory sharing (`NOT_SUPPORTED`, as the EL2 proxy in
//! protected mode answers) makes a check `Skipped`, not failed.

use crate::bus::PartitionHandle;
use crate::error::ClientError;
use crate::memory::{DataAccess, MemoryFailure, TransferOptions};
use crate::messaging::DirectMessage64;
use core::cell::Cell;
use ffa_abi::memory_check::{pattern, Flags, MemoryCheck, Outcome, Report};
use ffa_abi::Status;
use kernel::page_pool::{PagePool, Region};
use kernel::ErrorCode;

/// What to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MemoryCheckPlan {
    /// Pages of the shared region (0: no share check).
    pub share_pages: usize,
    /// Pages of the lent region (0: no lend check).
    pub lend_pages: usize,
    /// Pages of the donated region (0: no donate check). Donated pages
    /// never come back to the pool.
    pub donate_pages: usize,
    /// Single-page ranges of the scattered share (0: none); the pool needs
    /// twice as many free pages.
    pub scattered_ranges: usize,
}

impl MemoryCheckPlan {
    /// What a boot checks: a 2-page share, a 1-page lend and a 1-page donation.
    pub const BOOT: MemoryCheckPlan = MemoryCheckPlan {
        share_pages: 2,
        lend_pages: 1,
        donate_pages: 1,
        scattered_ranges: 0,
    };

    /// The same plan with a scattered share of `ranges` single-page ranges.
    pub const fn with_scattered(mut self, ranges: usize) -> MemoryCheckPlan {
        self.scattered_ranges = ranges;
        self
    }
}

/// Why a check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CheckFailure {
    /// The pool had no region that large.
    Allocate(ErrorCode),
    /// Sharing, lending or donating failed.
    Give(ClientError),
    /// The direct request to the partition failed.
    Request(ClientError),
    /// The partition answered something that is not a report.
    NoReport,
    /// The partition's check failed: its outcome and the FF-A status of its failing call.
    Partition(Outcome, i16),
    /// The reply pattern was wrong at this region offset.
    Reply(u64),
    /// The region could not be read or written.
    Access(ErrorCode),
    /// The reclaim failed (after one retry if `DENIED`).
    Reclaim(ClientError),
}

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Not in the plan, or not run yet.
    NotRun,
    /// The callee does not offer the operation.
    Skipped(ClientError),
    /// The bytes went there and back.
    Passed {
        /// The transaction's handle.
        handle: u64,
        /// Descriptor fragments the kernel sent.
        fragments: u32,
    },
    /// It failed.
    Failed(CheckFailure),
}

impl defmt::Format for CheckOutcome {
    fn format(&self, formatter: defmt::Formatter<'_>) {
        match self {
            CheckOutcome::NotRun => defmt::write!(formatter, "not run"),
            CheckOutcome::Skipped(error) => defmt::write!(formatter, "skipped ({})", error),
            CheckOutcome::Passed { handle, fragments } => defmt::write!(
                formatter,
                "passed (handle {=u64:#x}, {=u32} fragment(s))",
                handle,
                fragments
            ),
            CheckOutcome::Failed(failure) => defmt::write!(formatter, "FAILED ({})", failure),
        }
    }
}

impl CheckOutcome {
    /// Whether the check passed, was skipped, or was not run.
    pub const fn is_acceptable(self) -> bool {
        !matches!(self, CheckOutcome::Failed(_))
    }
}

/// The results of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct MemoryCheckResults {
    /// The share.
    pub share: CheckOutcome,
    /// The lend.
    pub lend: CheckOutcome,
    /// The donation.
    pub donate: CheckOutcome,
    /// The scattered (fragmented) share.
    pub scattered: CheckOutcome,
}

impl MemoryCheckResults {
    /// Nothing run.
    pub const NOT_RUN: MemoryCheckResults = MemoryCheckResults {
        share: CheckOutcome::NotRun,
        lend: CheckOutcome::NotRun,
        donate: CheckOutcome::NotRun,
        scattered: CheckOutcome::NotRun,
    };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Share,
    Lend,
    Donate,
    Scattered,
}

impl Kind {
    const fn name(self) -> &'static str {
        match self {
            Kind::Share => "share",
            Kind::Lend => "lend",
            Kind::Donate => "donate",
            Kind::Scattered => "scattered share",
        }
    }

    const fn index(self) -> u64 {
        match self {
            Kind::Share => 1,
            Kind::Lend => 2,
            Kind::Donate => 3,
            Kind::Scattered => 4,
        }
    }

    const fn flags(self) -> u16 {
        Flags::WRITE_REPLY
            | match self {
                Kind::Share | Kind::Scattered => Flags::EXPECT_SHARE,
                Kind::Lend => Flags::EXPECT_LEND,
                Kind::Donate => Flags::EXPECT_DONATE,
            }
    }
}

/// Bytes moved per pattern fill or check.
const CHUNK: usize = 256;

/// Fills `length` bytes from offset 0 with `seed`'s pattern through `write`.
pub(crate) fn fill(
    length: usize,
    seed: u64,
    write: impl Fn(usize, &[u8]) -> Result<(), ErrorCode>,
) -> Result<(), ErrorCode> {
    let mut chunk = [0u8; CHUNK];
    let mut offset = 0;
    while offset < length {
        let take = (length - offset).min(CHUNK);
        pattern::fill(seed, offset as u64, &mut chunk[..take]);
        write(offset, &chunk[..take])?;
        offset += take;
    }
    Ok(())
}

/// The first offset of `length` bytes read through `read` that differs from `seed`'s pattern.
pub(crate) fn first_mismatch(
    length: usize,
    seed: u64,
    read: impl Fn(usize, &mut [u8]) -> Result<(), ErrorCode>,
) -> Result<Option<u64>, ErrorCode> {
    let mut chunk = [0u8; CHUNK];
    let mut offset = 0;
    while offset < length {
        let take = (length - offset).min(CHUNK);
        read(offset, &mut chunk[..take])?;
        if let Some(at) = pattern::first_mismatch(seed, offset as u64, &chunk[..take]) {
            return Ok(Some(at));
        }
        offset += take;
    }
    Ok(None)
}

/// The memory checks a driver runs with its partition.
pub struct MemoryChecks<'a> {
    pool: &'a PagePool<'a>,
    plan: MemoryCheckPlan,
    results: Cell<MemoryCheckResults>,
}

impl<'a> MemoryChecks<'a> {
    /// Checks of `plan`, with regions from `pool`.
    pub fn new(pool: &'a PagePool<'a>, plan: MemoryCheckPlan) -> MemoryChecks<'a> {
        MemoryChecks {
            pool,
            plan,
            results: Cell::new(MemoryCheckResults::NOT_RUN),
        }
    }

    /// The plan.
    pub fn plan(&self) -> MemoryCheckPlan {
        self.plan
    }

    /// The results of the last run.
    pub fn results(&self) -> MemoryCheckResults {
        self.results.get()
    }

    /// Runs the plan with the partition behind `handle`.
    pub fn run(&self, handle: &PartitionHandle<'a>) -> MemoryCheckResults {
        let plan = self.plan;
        let mut results = MemoryCheckResults::NOT_RUN;
        let mut offered = true;
        let mut step = |kind: Kind, pages: usize| {
            if pages == 0 {
                return CheckOutcome::NotRun;
            }
            if !offered {
                return CheckOutcome::Skipped(ClientError::Status(Status::NotSupported));
            }
            let outcome = self.check(handle, kind, pages);
            self.log(handle, kind, pages, outcome);
            if kind == Kind::Share
                && outcome == CheckOutcome::Skipped(ClientError::Status(Status::NotSupported))
            {
                // Sharing is the least an SPMC offers; without it, do not knock on every door.
                offered = false;
            }
            outcome
        };
        results.share = step(Kind::Share, plan.share_pages);
        results.lend = step(Kind::Lend, plan.lend_pages);
        results.scattered = step(Kind::Scattered, plan.scattered_ranges);
        results.donate = step(Kind::Donate, plan.donate_pages);
        self.results.set(results);
        defmt::info!(
            "memory-check: partition {=u16:#06x}: share {}, lend {}, scattered share {}, donate {}",
            handle.id().raw(),
            results.share,
            results.lend,
            results.scattered,
            results.donate
        );
        results
    }

    fn log(&self, handle: &PartitionHandle<'a>, kind: Kind, pages: usize, outcome: CheckOutcome) {
        match outcome {
            CheckOutcome::Passed {
                handle: memory,
                fragments,
            } if kind == Kind::Donate => defmt::info!(
                "memory-check: donate of {=usize} page(s) to {=u16:#06x}, handle {=u64:#x}, {=u32} fragment(s): the partition checked pattern P, wrote pattern Q and keeps the pages",
                pages,
                handle.id().raw(),
                memory,
                fragments
            ),
            CheckOutcome::Passed { handle: memory, fragments } => defmt::info!(
                "memory-check: {=str} of {=usize} page(s) with {=u16:#06x}, handle {=u64:#x}, {=u32} fragment(s): the partition checked pattern P and wrote pattern Q; the kernel read Q back",
                kind.name(),
                pages,
                handle.id().raw(),
                memory,
                fragments
            ),
            CheckOutcome::Skipped(error) => defmt::warn!(
                "memory-check: {=str} skipped: the callee does not offer it ({})",
                kind.name(),
                error
            ),
            CheckOutcome::Failed(failure) => defmt::warn!(
                "memory-check: {=str} with {=u16:#06x} failed: {}",
                kind.name(),
                handle.id().raw(),
                failure
            ),
            CheckOutcome::NotRun => {}
        }
    }

    /// A region of `pages` pages: contiguous, or (scattered) every other page of twice as many.
    fn region(&self, kind: Kind, pages: usize) -> Result<Region<'a>, ErrorCode> {
        if kind != Kind::Scattered {
            return self.pool.allocate(pages);
        }
        let mut rest = self.pool.allocate(pages * 2)?;
        let mut kept: Option<Region<'a>> = None;
        for _ in 0..pages {
            // Keep one page, return the next to the pool (dropped), and so on.
            let (page, remainder) = rest.split(1).map_err(|_| ErrorCode::FAIL)?;
            kept = Some(match kept {
                Some(region) => region.join(page).map_err(|_| ErrorCode::FAIL)?,
                None => page,
            });
            rest = match remainder.split(1) {
                Ok((_gap, remainder)) => remainder,
                Err(last_gap) => {
                    drop(last_gap);
                    break;
                }
            };
        }
        kept.ok_or(ErrorCode::FAIL)
    }

    /// Asks the partition to check `handle`'s memory.
    fn ask(
        &self,
        partition: &PartitionHandle<'a>,
        kind: Kind,
        memory: u64,
        tag: u64,
    ) -> Result<Report, CheckFailure> {
        let check = MemoryCheck {
            handle: memory,
            check_seed: seed(kind, false),
            reply_seed: seed(kind, true),
            tag,
            flags: Flags(kind.flags()),
        };
        let response = partition
            .direct_request(&DirectMessage64::new(check.encode()))
            .map_err(CheckFailure::Request)?;
        let report = Report::decode(&response.payload).ok_or(CheckFailure::NoReport)?;
        if report.outcome != Outcome::Passed || report.handle != memory {
            return Err(CheckFailure::Partition(report.outcome, report.status));
        }
        Ok(report)
    }

    fn check(&self, partition: &PartitionHandle<'a>, kind: Kind, pages: usize) -> CheckOutcome {
        let region = match self.region(kind, pages) {
            Ok(region) => region,
            Err(error) => return CheckOutcome::Failed(CheckFailure::Allocate(error)),
        };
        let length = region.len();
        if let Err(error) = fill(length, seed(kind, false), |offset, bytes| {
            region.write(offset, bytes)
        }) {
            return CheckOutcome::Failed(CheckFailure::Access(error));
        }
        let tag = 0x7A6_0000 | kind.index();
        let options = TransferOptions::tagged(tag);
        let refused = |failure: MemoryFailure<'a>| match failure.error() {
            ClientError::Status(Status::NotSupported) => CheckOutcome::Skipped(failure.error()),
            error => CheckOutcome::Failed(CheckFailure::Give(error)),
        };
        match kind {
            Kind::Share | Kind::Scattered => {
                let shared = match partition.share(region, DataAccess::ReadWrite, &options) {
                    Ok(shared) => shared,
                    Err(failure) => return refused(failure),
                };
                let memory = shared.handle().0;
                let fragments = shared.fragments();
                let asked = self.ask(partition, kind, memory, tag);
                // Shared memory stays readable: check the reply before the reclaim.
                let reply = first_mismatch(length, seed(kind, true), |offset, bytes| {
                    shared.read(offset, bytes)
                });
                let region = match reclaim_with_retry(shared) {
                    Ok(region) => region,
                    Err(error) => return CheckOutcome::Failed(CheckFailure::Reclaim(error)),
                };
                drop(region);
                finish(asked, reply, memory, fragments)
            }
            Kind::Lend => {
                let lent = match partition.lend(region, DataAccess::ReadWrite, &options) {
                    Ok(lent) => lent,
                    Err(failure) => return refused(failure),
                };
                let memory = lent.handle().0;
                let fragments = lent.fragments();
                let asked = self.ask(partition, kind, memory, tag);
                // A lent region cannot be read: only once it is back.
                let region = match reclaim_with_retry(lent) {
                    Ok(region) => region,
                    Err(error) => return CheckOutcome::Failed(CheckFailure::Reclaim(error)),
                };
                let reply = first_mismatch(length, seed(kind, true), |offset, bytes| {
                    region.read(offset, bytes)
                });
                finish(asked, reply, memory, fragments)
            }
            Kind::Donate => {
                let donated = match partition.donate(region, &options) {
                    Ok(donated) => donated,
                    Err(failure) => return refused(failure),
                };
                let fragments = donated.fragments;
                // The pages are the partition's now: its report is all there is.
                match self.ask(partition, kind, donated.handle.0, tag) {
                    Ok(_) => CheckOutcome::Passed {
                        handle: donated.handle.0,
                        fragments,
                    },
                    Err(failure) => CheckOutcome::Failed(failure),
                }
            }
        }
    }
}

/// The pattern seed of a check: P (what the kernel writes) or Q (the reply).
const fn seed(kind: Kind, reply: bool) -> u64 {
    let base = 0x5EED_0000_0000_0000 | kind.index() << 8;
    if reply {
        !base
    } else {
        base
    }
}

fn finish(
    asked: Result<Report, CheckFailure>,
    reply: Result<Option<u64>, ErrorCode>,
    handle: u64,
    fragments: u32,
) -> CheckOutcome {
    if let Err(failure) = asked {
        return CheckOutcome::Failed(failure);
    }
    match reply {
        Err(error) => CheckOutcome::Failed(CheckFailure::Access(error)),
        Ok(Some(offset)) => CheckOutcome::Failed(CheckFailure::Reply(offset)),
        Ok(None) => CheckOutcome::Passed { handle, fragments },
    }
}

/// Something that can be reclaimed, giving the region back or itself.
trait Reclaim<'a>: Sized {
    fn try_reclaim(self) -> Result<Region<'a>, (ClientError, Self)>;
}

impl<'a> Reclaim<'a> for crate::memory::Shared<'a> {
    fn try_reclaim(self) -> Result<Region<'a>, (ClientError, Self)> {
        self.reclaim()
            .map_err(|refused| (refused.error, refused.kept))
    }
}

impl<'a> Reclaim<'a> for crate::memory::Lent<'a> {
    fn try_reclaim(self) -> Result<Region<'a>, (ClientError, Self)> {
        self.reclaim()
            .map_err(|refused| (refused.error, refused.kept))
    }
}

/// Reclaims; a `DENIED` answer (the partition still holds it) keeps it
/// given and is retried once. If the retry fails too the handle is dropped:
/// its pages stay out of the pool.
fn reclaim_with_retry<'a, T: Reclaim<'a>>(given: T) -> Result<Region<'a>, ClientError> {
    match given.try_reclaim() {
        Ok(region) => Ok(region),
        Err((ClientError::Status(Status::Denied), kept)) => {
            defmt::info!(
                "memory-check: the reclaim was DENIED; the region stays given; retrying once"
            );
            kept.try_reclaim().map_err(|(error, _dropped)| error)
        }
        Err((error, _dropped)) => Err(error),
    }
}
