//! Secondary cores: start them, see them come online, and give them work.
//!
//! The kernel is single-threaded in the Tock way: the main loop, every
//! capsule and every `Cell` live on the boot core. Secondary cores run no
//! capsule code; once started (PSCI `CPU_ON`, or a spin table's release
//! word) each sets up its own stack, vectors and MMU, reports itself online
//! in its per-core state and parks in `wfe`, waking only to run
//! [`CoreWork`] the boot core posts to it.
//!
//! A piece of core work is a plain `fn(u64) -> u64`: it can touch no
//! capsule's state (safe code reaches only `Sync` statics, and capsules
//! hold their state in `Cell`s, which are not), so running it on another
//! core is sound by construction. Its result comes back through the
//! per-core state; the boot core polls for it (from an alarm), never spins.
//!
//! A secondary also makes SMCCC calls *from itself* for the boot core
//! ([`CoreCalls`]): FF-A runs a partition's execution context N on core N,
//! so a request that must run there has to be made there. The boot core
//! posts the call's registers, the parked core wakes, makes the call
//! through the board's conduit and stores the callee's registers, and the
//! boot core takes them later (polled from an alarm, as results are). At
//! most one call per core is in flight: the slot refuses a second one
//! until the first one's reply is taken.
//!
//! ```ignore
//! cores.start(1)?;                                  // returns at once
//! // later, from an alarm: cores.is_online(1)
//! cores.post(1, CoreWork { function: check, argument: 0 })?;
//! // later: cores.take_result(1) == Some(...)
//! ```

use crate::hil::smccc::SmcccRegisters;
use crate::ErrorCode;

/// Why a core could not be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum StartError {
    /// No such core (the index is outside the board's table, or it is the
    /// boot core).
    NoSuchCore,
    /// The board has no way to start it (no PSCI, no spin table).
    NoMethod,
    /// PSCI `INVALID_PARAMETERS`: the firmware knows no such core.
    InvalidParameters,
    /// PSCI `ALREADY_ON`.
    AlreadyOn,
    /// PSCI `ON_PENDING`: started already, not running yet.
    OnPending,
    /// PSCI `INVALID_ADDRESS`: the entry point was refused.
    InvalidAddress,
    /// PSCI `DENIED`.
    Denied,
    /// PSCI `NOT_SUPPORTED`: the firmware has no `CPU_ON`.
    NotSupported,
    /// Another PSCI status.
    Firmware(i32),
}

impl StartError {
    /// The error a PSCI `CPU_ON` status means (`None`: success).
    pub fn from_psci(status: i32) -> Option<StartError> {
        match status {
            0 => None,
            -1 => Some(StartError::NotSupported),
            -2 => Some(StartError::InvalidParameters),
            -3 => Some(StartError::Denied),
            -4 => Some(StartError::AlreadyOn),
            -5 => Some(StartError::OnPending),
            -9 => Some(StartError::InvalidAddress),
            other => Some(StartError::Firmware(other)),
        }
    }
}

/// Work for a secondary core: `function(argument)` runs there, and its
/// result comes back to the boot core.
#[derive(Clone, Copy, Debug)]
pub struct CoreWork {
    /// What to run.
    pub function: fn(u64) -> u64,
    /// Its argument.
    pub argument: u64,
}

/// What is known of a core that came online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct CoreReport {
    /// Its MPIDR_EL1.
    pub mpidr: u64,
    /// The exception level it was entered at (2, or 1).
    pub entry_exception_level: u8,
}

/// The board's cores, as the boot core sees them.
pub trait Cores {
    /// How many cores the board has (the boot core included).
    fn count(&self) -> usize;

    /// The boot core's index.
    fn boot_core(&self) -> usize;

    /// The MPIDR of core `core`, if it exists.
    fn mpidr(&self, core: usize) -> Option<u64>;

    /// Starts core `core`; returns as soon as the start is requested.
    fn start(&self, core: usize) -> Result<(), StartError>;

    /// The core's report once it is online (running kernel code, parked).
    fn online(&self, core: usize) -> Option<CoreReport>;

    /// Posts `work` to an online core. `Err(BUSY)` while earlier work's
    /// result has not been taken, `Err(OFF)` if the core is not online.
    fn post(&self, core: usize, work: CoreWork) -> Result<(), ErrorCode>;

    /// The result of the work posted last, once the core has finished it
    /// (once: it is taken).
    fn take_result(&self, core: usize) -> Option<u64>;
}

/// Judges the result of a core's work (the board's per-core check).
pub trait CoreWorkClient {
    /// Core `core` finished its work with `result`; an error fails the
    /// core's bring-up.
    fn work_done(&self, core: usize, result: u64) -> Result<(), ErrorCode>;
}

/// SMCCC calls a secondary core makes from itself, for the boot core.
pub trait CoreCalls {
    /// Posts `call` for core `core` to make through the board's conduit;
    /// returns at once. `Err(INVAL)` for the boot core (it makes its own
    /// calls) or a core the board does not have, `Err(OFF)` if the core is
    /// not online, `Err(BUSY)` while its previous call's reply has not been
    /// taken.
    fn post_call(&self, core: usize, call: &SmcccRegisters) -> Result<(), ErrorCode>;

    /// The callee's registers for the call posted last to `core`, once the
    /// core has made it (once: they are taken).
    fn take_reply(&self, core: usize) -> Option<SmcccRegisters>;
}
