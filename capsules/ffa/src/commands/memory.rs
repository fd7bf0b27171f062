//! The console's memory commands: `ffa share`, `ffa lend`, `ffa reclaim`,
//! `ffa memcheck` and `ffa mem`, on scratch regions of the kernel's page
//! pool.
//!
//! `ffa share <id> <pages>` takes a region of `pages` contiguous pages from
//! the pool, fills it with pattern P (of [`ffa_abi::memory_check::pattern`])
//! and shares it with the partition (`FFA_MEM_SHARE`, through the client,
//! in the negotiated version's layout); `ffa lend` lends it instead. The
//! console keeps what it gave as the client's typed handles: a
//! [`Shared`] region the kernel may still read, a [`Lent`] one it cannot
//! touch. `ffa reclaim <handle>` gives the handle back to the client's
//! `reclaim`, which returns the region only when the relayer agrees: a
//! `DENIED` answer (a borrower still holds the memory) keeps it shared or
//! lent, and the console says so and keeps the handle for another try.
//! Once back, the console says which pattern the pages hold, and they go
//! back to the pool.
//!
//! `ffa memcheck <handle>` runs the test partitions' memory-check round trip
//! ([`ffa_abi::memory_check`]: the model's echo partition and
//! `tools/test-partition` speak it) on a scratch region: the partition
//! retrieves it, checks the pattern the region holds, writes the other one
//! and relinquishes it. A shared region is read back at once; a lent one
//! only after `ffa reclaim`.
//!
//! `ffa mem` shows the pool, the client's memory transactions since boot
//! in the boot report's words (so they can be compared with it), and the
//! console's scratch regions with their handles and states.
//!
//! Everything is bounded: at most [`SCRATCH_REGIONS`] regions at once, of
//! at most [`MAXIMUM_SCRATCH_PAGES`] pages each; every call goes through
//! the client, whose memory calls and direct requests are bounded.
//!
//! ```text
//! console> ffa share 0x8001 2
//! ffa share: handle 0x100000001: 2 pages at 0x60021000 shared with 0x8001 (read-write), 1 fragment(s), holding pattern P; scratch 1 of 4
//! console> ffa memcheck 0x100000001
//! ffa memcheck: handle 0x100000001: partition 0x8001 retrieved 8192 bytes (1 constituent(s), 1 fragment(s)), found pattern P, wrote pattern Q and relinquished them
//! ffa memcheck: the kernel read pattern Q back from the shared pages
//! console> ffa reclaim 0x100000001
//! ffa reclaim: handle 0x100000001: 2 pages at 0x60021000 are the kernel's again, holding pattern Q (the partition's reply); back in the pool (15 of 16 pages free)
//! ```

use core::cell::Cell;

use capsule_console::command::{Arguments, Command, CommandError, CommandGroup};
use ffa_abi::memory_check::{Flags, MemoryCheck, Report};
use ffa_abi::{PartitionId, Status, Uuid};
use kernel::page_pool::{PagePool, Region};

use super::{device, direct_request_64_obstacle, not_supported_by, session_of};
use crate::bus::FfaBus;
use crate::drivers::memory_check::{fill, first_mismatch};
use crate::error::ClientError;
use crate::memory::transfer::MemoryHandle;
use crate::memory::{
    DataAccess, Lent, MemoryFailure, Operation, Receiver, Shared, TransferOptions,
};
use crate::messaging::DirectMessage64;
use crate::report::RecordSummary;

/// Scratch regions the console holds at most at once.
pub const SCRATCH_REGIONS: usize = 4;
/// Pages of one scratch region at most.
pub const MAXIMUM_SCRATCH_PAGES: u64 = 64;

/// What `ffa share` and `ffa lend` take: a page count.
const PAGE_COUNT: &str = "a page count from 1 to 64";
/// What `ffa reclaim` and `ffa memcheck` take: a handle.
const HANDLE: &str = "a 64-bit memory handle such as 0xfffffffe";

/// The patterns' seeds: P of scratch region `serial` is `SEED | serial`, Q is `!P`.
const SEED: u64 = 0x5EED_C0DE_0000_0000;
/// The transactions' tags: `TAG | serial`.
const TAG: u64 = 0xC0DE_0000;

/// The memory commands, in `help`'s order.
static MEMORY_COMMANDS: [Command; 5] = [
    Command::new(
        "ffa share",
        "<id> <pages>",
        "shares a scratch region of pool pages, filled with pattern P, with the partition (FFA_MEM_SHARE); prints its handle",
    ),
    Command::new(
        "ffa lend",
        "<id> <pages>",
        "lends one instead (FFA_MEM_LEND): the kernel cannot touch it until ffa reclaim succeeds",
    ),
    Command::new(
        "ffa reclaim",
        "<handle>",
        "takes a scratch region back (FFA_MEM_RECLAIM) and says which pattern it holds; DENIED keeps it shared or lent",
    ),
    Command::new(
        "ffa memcheck",
        "<handle>",
        "the test partitions' round trip: the partition retrieves the region, checks its pattern, writes the other and relinquishes it",
    ),
    Command::new(
        "ffa mem",
        "",
        "the page pool, the memory transactions since boot (as the boot report lists them), the console's scratch regions",
    ),
];

/// What `ffa share` and `ffa lend` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Giving {
    /// `FFA_MEM_SHARE`.
    Share,
    /// `FFA_MEM_LEND`.
    Lend,
}

impl Giving {
    /// The command's name.
    fn command(self) -> &'static str {
        match self {
            Giving::Share => "ffa share",
            Giving::Lend => "ffa lend",
        }
    }

    /// The client's operation.
    fn operation(self) -> Operation {
        match self {
            Giving::Share => Operation::Share,
            Giving::Lend => Operation::Lend,
        }
    }
}

/// What the console gave: the client's typed handle on the region.
enum Given<'a> {
    /// Shared: the kernel may still read and write it.
    Shared(Shared<'a>),
    /// Lent: no method reaches its pages until it is reclaimed.
    Lent(Lent<'a>),
}

impl<'a> Given<'a> {
    fn handle(&self) -> MemoryHandle {
        match self {
            Given::Shared(shared) => shared.handle(),
            Given::Lent(lent) => lent.handle(),
        }
    }

    fn receiver(&self) -> PartitionId {
        match self {
            Given::Shared(shared) => shared.receiver(),
            Given::Lent(lent) => lent.receiver(),
        }
    }

    fn pages(&self) -> usize {
        match self {
            Given::Shared(shared) => shared.pages(),
            Given::Lent(lent) => lent.pages(),
        }
    }

    fn fragments(&self) -> u32 {
        match self {
            Given::Shared(shared) => shared.fragments(),
            Given::Lent(lent) => lent.fragments(),
        }
    }

    /// `shared with`, `lent to`.
    fn relation(&self) -> &'static str {
        match self {
            Given::Shared(_) => "shared with",
            Given::Lent(_) => "lent to",
        }
    }

    /// The state's name, as `ffa reclaim` says it stays.
    fn state(&self) -> &'static str {
        match self {
            Given::Shared(_) => "shared",
            Given::Lent(_) => "lent",
        }
    }

    /// `FFA_MEM_RECLAIM`: the region, or the refusal with the handle unchanged.
    fn reclaim(self) -> Result<Region<'a>, (ClientError, Given<'a>)> {
        match self {
            Given::Shared(shared) => shared
                .reclaim()
                .map_err(|refused| (refused.error, Given::Shared(refused.kept))),
            Given::Lent(lent) => lent
                .reclaim()
                .map_err(|refused| (refused.error, Given::Lent(refused.kept))),
        }
    }
}

/// Which of the scratch region's two patterns it holds (or should, while lent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pattern {
    /// P: what the kernel wrote.
    P,
    /// Q: what the partition wrote back in `ffa memcheck`.
    Q,
}

impl Pattern {
    fn seed(self, serial: u32) -> u64 {
        match self {
            Pattern::P => SEED | u64::from(serial),
            Pattern::Q => !(SEED | u64::from(serial)),
        }
    }

    fn other(self) -> Pattern {
        match self {
            Pattern::P => Pattern::Q,
            Pattern::Q => Pattern::P,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Pattern::P => "pattern P",
            Pattern::Q => "pattern Q",
        }
    }
}

/// A scratch region the console gave and may take back.
struct Scratch<'a> {
    given: Given<'a>,
    /// The console's number for it: picks its patterns and tag.
    serial: u32,
    /// The physical address of its first page.
    address: u64,
    /// The pattern it holds (shared) or should hold (lent).
    pattern: Pattern,
    /// The transaction could not be settled and reclaiming it failed: the
    /// relayer may hold it; only a reclaim ends it.
    stranded: bool,
    /// Why the last reclaim was refused, if it was.
    refused: Option<ClientError>,
}

/// The `ffa` memory commands: a command group over the FF-A bus and the
/// kernel's page pool.
pub struct MemoryCommands<'a, const PARTITIONS: usize> {
    bus: &'a FfaBus<'a, PARTITIONS>,
    pool: &'a PagePool<'a>,
    scratch: [Cell<Option<Scratch<'a>>>; SCRATCH_REGIONS],
    serial: Cell<u32>,
}

impl<'a, const PARTITIONS: usize> MemoryCommands<'a, PARTITIONS> {
    /// The commands over `bus`, with scratch regions from `pool`.
    pub fn new(
        bus: &'a FfaBus<'a, PARTITIONS>,
        pool: &'a PagePool<'a>,
    ) -> MemoryCommands<'a, PARTITIONS> {
        MemoryCommands {
            bus,
            pool,
            scratch: [const { Cell::new(None) }; SCRATCH_REGIONS],
            serial: Cell::new(0),
        }
    }

    /// How many scratch regions the console holds.
    pub fn scratch_count(&self) -> usize {
        (0..SCRATCH_REGIONS)
            .filter(|slot| self.with_slot(*slot, |scratch| scratch.is_some()))
            .count()
    }

    /// The handles of the scratch regions the console holds, in slot order.
    pub fn scratch_handles(&self) -> [Option<MemoryHandle>; SCRATCH_REGIONS] {
        let mut handles = [None; SCRATCH_REGIONS];
        for (slot, handle) in handles.iter_mut().enumerate() {
            *handle = self.with_slot(slot, |scratch| scratch.map(|held| held.given.handle()));
        }
        handles
    }

    /// Runs `visit` on slot `slot`'s region (taken out and put back).
    fn with_slot<R>(&self, slot: usize, visit: impl FnOnce(Option<&Scratch<'a>>) -> R) -> R {
        let scratch = self.scratch[slot].take();
        let result = visit(scratch.as_ref());
        self.scratch[slot].set(scratch);
        result
    }

    /// Takes the scratch region with `handle` out of its slot.
    fn take(&self, handle: u64) -> Option<(usize, Scratch<'a>)> {
        for (slot, cell) in self.scratch.iter().enumerate() {
            match cell.take() {
                Some(scratch) if scratch.given.handle().0 == handle => {
                    return Some((slot, scratch));
                }
                other => cell.set(other),
            }
        }
        None
    }

    /// The scratch region with the handle argument `index` names, taken out
    /// of its slot, or the error for an unknown handle.
    fn scratch<'l>(
        &self,
        arguments: &Arguments<'l>,
        index: usize,
    ) -> Result<(usize, Scratch<'a>), CommandError<'l>> {
        let handle = arguments.number(index, 0, u64::MAX, HANDLE)?;
        if let Some(found) = self.take(handle) {
            return Ok(found);
        }
        let mut record = None;
        self.bus.client().for_each_memory_record(|each| {
            if each.handle == Some(MemoryHandle(handle)) {
                record = Some(*each);
            }
        });
        match record {
            Some(record) => defmt::println!(
                "error: unknown memory handle '{=str}': not a scratch region of the console's (the client's record: {}); ffa mem lists them",
                arguments.get(index).unwrap_or(""),
                RecordSummary(record)
            ),
            None => defmt::println!(
                "error: unknown memory handle '{=str}': the console holds no scratch region with it; ffa mem lists them",
                arguments.get(index).unwrap_or("")
            ),
        }
        Err(CommandError::Reported)
    }

    /// `ffa share <id> <pages>` and `ffa lend <id> <pages>`.
    fn give<'l>(&self, giving: Giving, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(2, 2)?;
        let (_, device) = device(self.bus, arguments, 0)?;
        let pages = arguments.number(1, 1, MAXIMUM_SCRATCH_PAGES, PAGE_COUNT)? as usize;
        session_of(self.bus)?;
        let command = giving.command();
        let Some(slot) = (0..SCRATCH_REGIONS).find(|slot| self.with_slot(*slot, |s| s.is_none()))
        else {
            defmt::println!(
                "error: {=str}: the console holds {=usize} scratch regions already, its most; ffa reclaim one first (ffa mem lists them)",
                command,
                SCRATCH_REGIONS
            );
            return Err(CommandError::Reported);
        };
        let region = match self.pool.allocate(pages) {
            Ok(region) => region,
            Err(_) => {
                defmt::println!(
                    "error: {=str}: page pool exhausted: no run of {=usize} free pages ({=usize} of {=usize} pages free, the longest run {=usize})",
                    command,
                    pages,
                    self.pool.free_pages(),
                    self.pool.page_count(),
                    self.pool.longest_free_run()
                );
                return Err(CommandError::Reported);
            }
        };
        let serial = self.serial.get().wrapping_add(1);
        self.serial.set(serial);
        let address = region.ranges().next().map_or(0, |range| range.address);
        if let Err(error) = fill(region.len(), Pattern::P.seed(serial), |offset, bytes| {
            region.write(offset, bytes)
        }) {
            defmt::println!(
                "error: {=str}: cannot write pattern P to the region: {}",
                command,
                error
            );
            return Err(CommandError::Reported);
        }
        let client = self.bus.client();
        let receivers = [Receiver::new(device.info.id, DataAccess::ReadWrite)];
        let options = TransferOptions::tagged(TAG | u64::from(serial));
        let given = match giving {
            Giving::Share => client
                .share(region, &receivers, &options)
                .map(Given::Shared),
            Giving::Lend => client.lend(region, &receivers, &options).map(Given::Lent),
        };
        let scratch = match given {
            Ok(given) => Scratch {
                given,
                serial,
                address,
                pattern: Pattern::P,
                stranded: false,
                refused: None,
            },
            Err(MemoryFailure::Refused { error, region }) => {
                drop(region);
                return refused(command, giving.operation(), error);
            }
            Err(MemoryFailure::Stranded { error, lent }) => {
                defmt::println!(
                    "error: {=str}: {} and the transaction could not be settled: handle {=u64:#x} keeps the {=usize} pages out of reach until ffa reclaim {=u64:#x} succeeds",
                    command,
                    error,
                    lent.handle().0,
                    lent.pages(),
                    lent.handle().0
                );
                self.scratch[slot].set(Some(Scratch {
                    given: Given::Lent(lent),
                    serial,
                    address,
                    pattern: Pattern::P,
                    stranded: true,
                    refused: Some(error),
                }));
                return Err(CommandError::Reported);
            }
        };
        defmt::println!(
            "{=str}: handle {=u64:#x}: {=usize} pages at {=u64:#x} {=str} {=u16:#06x} (read-write), {=u32} fragment(s), holding pattern P; scratch {=usize} of {=usize}",
            command,
            scratch.given.handle().0,
            scratch.given.pages(),
            address,
            scratch.given.relation(),
            scratch.given.receiver().raw(),
            scratch.given.fragments(),
            slot + 1,
            SCRATCH_REGIONS
        );
        if matches!(scratch.given, Given::Lent(_)) {
            defmt::println!(
                "{=str}: the kernel cannot touch the pages until ffa reclaim {=u64:#x} succeeds",
                command,
                scratch.given.handle().0
            );
        }
        self.scratch[slot].set(Some(scratch));
        Ok(())
    }

    /// `ffa reclaim <handle>`.
    fn reclaim<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(1, 1)?;
        let (slot, scratch) = self.scratch(arguments, 0)?;
        let Scratch {
            given,
            serial,
            address,
            pattern,
            stranded,
            ..
        } = scratch;
        let handle = given.handle();
        let state = given.state();
        match given.reclaim() {
            Ok(region) => {
                let pages = region.pages();
                let holds = holding(&region, serial, pattern);
                drop(region);
                defmt::println!(
                    "ffa reclaim: handle {=u64:#x}: {=usize} pages at {=u64:#x} are the kernel's again{=str}, {=str}; back in the pool ({=usize} of {=usize} pages free)",
                    handle.0,
                    pages,
                    address,
                    if stranded { " (the stranded transaction is settled)" } else { "" },
                    holds,
                    self.pool.free_pages(),
                    self.pool.page_count()
                );
                Ok(())
            }
            Err((error, given)) => {
                if error == ClientError::Status(Status::Denied) {
                    defmt::println!(
                        "error: ffa reclaim: handle {=u64:#x}: DENIED: a borrower still holds the memory; it stays {=str} (scratch {=usize}); reclaim it once the partition relinquishes it",
                        handle.0,
                        state,
                        slot + 1
                    );
                } else {
                    defmt::println!(
                        "error: ffa reclaim: handle {=u64:#x} failed: {}; it stays {=str} (scratch {=usize})",
                        handle.0,
                        error,
                        state,
                        slot + 1
                    );
                }
                self.scratch[slot].set(Some(Scratch {
                    given,
                    serial,
                    address,
                    pattern,
                    stranded,
                    refused: Some(error),
                }));
                Err(CommandError::Reported)
            }
        }
    }

    /// `ffa memcheck <handle>`.
    fn memcheck<'l>(&self, arguments: &Arguments<'l>) -> Result<(), CommandError<'l>> {
        arguments.expect_count(1, 1)?;
        let (slot, mut scratch) = self.scratch(arguments, 0)?;
        let result = self.check(&mut scratch);
        self.scratch[slot].set(Some(scratch));
        result
    }

    /// The memory-check round trip on `scratch`.
    fn check<'l>(&self, scratch: &mut Scratch<'a>) -> Result<(), CommandError<'l>> {
        let handle = scratch.given.handle();
        let receiver = scratch.given.receiver();
        if scratch.stranded {
            defmt::println!(
                "error: ffa memcheck: handle {=u64:#x} is stranded (its transaction was never settled): ffa reclaim it",
                handle.0
            );
            return Err(CommandError::Reported);
        }
        let mut info = None;
        self.bus.for_each_device(|_, device| {
            if device.info.id == receiver {
                info = Some(device.info);
            }
        });
        let Some(info) = info else {
            defmt::println!(
                "error: ffa memcheck: partition {=u16:#06x} is no longer on the bus",
                receiver.raw()
            );
            return Err(CommandError::Reported);
        };
        if let Some(why) = direct_request_64_obstacle(&info) {
            return not_supported_by(receiver, why);
        }
        let expect = match scratch.given {
            Given::Shared(_) => Flags::EXPECT_SHARE,
            Given::Lent(_) => Flags::EXPECT_LEND,
        };
        let holds = scratch.pattern;
        let writes = holds.other();
        let request = MemoryCheck {
            handle: handle.0,
            check_seed: holds.seed(scratch.serial),
            reply_seed: writes.seed(scratch.serial),
            tag: TAG | u64::from(scratch.serial),
            flags: Flags(Flags::WRITE_REPLY | expect),
        };
        let response = match self.bus.client().direct_request(
            receiver,
            Uuid::NIL,
            &DirectMessage64::new(request.encode()),
        ) {
            Ok(response) => response,
            Err(error) => {
                defmt::println!(
                    "error: ffa memcheck: the request to partition {=u16:#06x} failed: {}",
                    receiver.raw(),
                    error
                );
                return Err(CommandError::Reported);
            }
        };
        let Some(report) = Report::decode(&response.payload) else {
            defmt::println!(
                "error: ffa memcheck: partition {=u16:#06x} did not answer with a memory-check report (x3={=u64:#x}): it does not speak the test partitions' protocol",
                receiver.raw(),
                response.payload[0]
            );
            return Err(CommandError::Reported);
        };
        if report.outcome != ffa_abi::memory_check::Outcome::Passed || report.handle != handle.0 {
            defmt::println!(
                "error: ffa memcheck: partition {=u16:#06x} reports {=str} for handle {=u64:#x} (FF-A status {=i16}, {=u64} bytes checked, first difference at {=u64:#x})",
                receiver.raw(),
                report.outcome.name(),
                report.handle,
                report.status,
                report.bytes_checked,
                report.first_mismatch
            );
            return Err(CommandError::Reported);
        }
        scratch.pattern = writes;
        defmt::println!(
            "ffa memcheck: handle {=u64:#x}: partition {=u16:#06x} retrieved {=u64} bytes ({=u32} constituent(s), {=u16} fragment(s)), found {=str}, wrote {=str} and relinquished them",
            handle.0,
            receiver.raw(),
            report.bytes_checked,
            report.constituents,
            report.fragments,
            holds.name(),
            writes.name()
        );
        match &scratch.given {
            Given::Shared(shared) => {
                let seed = writes.seed(scratch.serial);
                match first_mismatch(shared.len(), seed, |offset, bytes| {
                    shared.read(offset, bytes)
                }) {
                    Ok(None) => {
                        defmt::println!(
                            "ffa memcheck: the kernel read {=str} back from the shared pages",
                            writes.name()
                        );
                        Ok(())
                    }
                    Ok(Some(offset)) => {
                        defmt::println!(
                            "error: ffa memcheck: the shared pages do not hold {=str}: first difference at offset {=u64:#x}",
                            writes.name(),
                            offset
                        );
                        Err(CommandError::Reported)
                    }
                    Err(error) => {
                        defmt::println!(
                            "error: ffa memcheck: cannot read the shared pages: {}",
                            error
                        );
                        Err(CommandError::Reported)
                    }
                }
            }
            Given::Lent(_) => {
                defmt::println!(
                    "ffa memcheck: the kernel cannot read lent pages; ffa reclaim {=u64:#x} shows what they hold",
                    handle.0
                );
                Ok(())
            }
        }
    }

    /// `ffa mem`.
    fn mem(&self) {
        defmt::println!(
            "ffa mem: page pool: {=usize} pages at {=u64:#x}, {=usize} free, the longest free run {=usize} pages",
            self.pool.page_count(),
            self.pool.physical_address(),
            self.pool.free_pages(),
            self.pool.longest_free_run()
        );
        let client = self.bus.client();
        if client.session().is_some() {
            let total = client.memory().log.total();
            defmt::println!("ffa mem: {=usize} memory transaction(s)", total);
            let mut kept = 0usize;
            client.for_each_memory_record(|record| {
                kept += 1;
                defmt::println!("ffa mem: {}", RecordSummary(*record));
            });
            if total > kept {
                defmt::println!(
                    "ffa mem: ... and {=usize} more memory transaction(s)",
                    total - kept
                );
            }
        } else {
            defmt::println!(
                "ffa mem: no FF-A session (the FF-A root is {}): nothing was shared",
                self.bus.state()
            );
        }
        defmt::println!(
            "ffa mem: scratch regions: {=usize} of {=usize} held",
            self.scratch_count(),
            SCRATCH_REGIONS
        );
        for slot in 0..SCRATCH_REGIONS {
            self.with_slot(slot, |scratch| {
                if let Some(scratch) = scratch {
                    print_scratch(slot, scratch);
                }
            });
        }
    }
}

/// One scratch region, for `ffa mem`.
fn print_scratch(slot: usize, scratch: &Scratch<'_>) {
    let given = &scratch.given;
    let (access, holds) = match (given, scratch.stranded) {
        (_, true) => (
            "stranded: the relayer may hold the transaction; only ffa reclaim ends it",
            "",
        ),
        (Given::Shared(_), false) => ("the kernel may read and write them", ", holding "),
        (Given::Lent(_), false) => (
            "the kernel cannot touch them until ffa reclaim succeeds",
            ", expected to hold ",
        ),
    };
    defmt::println!(
        "ffa mem: scratch {=usize}: handle {=u64:#x}: {=usize} pages at {=u64:#x} {=str} {=u16:#06x}, {=u32} fragment(s); {=str}{=str}{=str}",
        slot + 1,
        given.handle().0,
        given.pages(),
        scratch.address,
        given.relation(),
        given.receiver().raw(),
        given.fragments(),
        access,
        holds,
        if scratch.stranded { "" } else { scratch.pattern.name() }
    );
    if let Some(error) = scratch.refused {
        defmt::println!(
            "ffa mem: scratch {=usize}: the last reclaim was refused: {}",
            slot + 1,
            error
        );
    }
}

/// Which pattern `region` holds, as `ffa reclaim` says it.
fn holding(region: &Region<'_>, serial: u32, expected: Pattern) -> &'static str {
    let read = |offset: usize, bytes: &mut [u8]| region.read(offset, bytes);
    for pattern in [expected, expected.other()] {
        if let Ok(None) = first_mismatch(region.len(), pattern.seed(serial), read) {
            return match pattern {
                Pattern::P => "holding pattern P",
                Pattern::Q => "holding pattern Q (the partition's reply)",
            };
        }
    }
    "holding neither pattern P nor Q (someone else wrote them)"
}

/// A share or lend that did not go through; the pages are back in the pool.
fn refused<'l>(
    command: &'static str,
    operation: Operation,
    error: ClientError,
) -> Result<(), CommandError<'l>> {
    match error {
        ClientError::Status(Status::NotSupported) => defmt::println!(
            "error: not supported by the callee: it offers neither {=str} nor {=str} (FFA_FEATURES); the pages stay the kernel's",
            operation.function(ffa_abi::CallWidth::Bits64).name(),
            operation.function(ffa_abi::CallWidth::Bits32).name()
        ),
        ClientError::Transaction(why) => defmt::println!(
            "error: {=str}: not sent: {}; the pages stay the kernel's",
            command,
            why
        ),
        error => defmt::println!(
            "error: {=str}: refused: {}; the pages are back in the pool",
            command,
            error
        ),
    }
    Err(CommandError::Reported)
}

impl<const PARTITIONS: usize> CommandGroup for MemoryCommands<'_, PARTITIONS> {
    fn commands(&self) -> &'static [Command] {
        &MEMORY_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "ffa share" => self.give(Giving::Share, arguments),
            "ffa lend" => self.give(Giving::Lend, arguments),
            "ffa reclaim" => self.reclaim(arguments),
            "ffa memcheck" => self.memcheck(arguments),
            "ffa mem" => {
                arguments.expect_count(0, 0)?;
                self.mem();
                Ok(())
            }
            _ => Err(CommandError::Usage),
        }
    }
}
