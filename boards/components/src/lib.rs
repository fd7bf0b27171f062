#![doc = include_str!("../README.md")]
//!
//! ## The pattern
//!
//! Each component takes what it needs from the board in `new` (chip
//! objects as HIL trait objects or generic types, the init queue, the
//! outputs of other components), and its static memory from a
//! `..._component_static!` macro expanded in the board. `finalize` builds
//! the capsules, wires their clients, registers their deferred calls and
//! init-queue entries, and returns `&'static` references (or a
//! [`SetupError`] naming what could not be done). Components are generic
//! over chip types, so every board uses the same ones.
//!
//! The components, in the order a board calls them:
//!
//! 1. [`init_queue`]: the init queue, with the boot log attached; [`alarm`]:
//!    the alarm mux and a virtual alarm for each capsule that waits;
//! 2. [`readiness`]: `secure-monitor-ready`, and the poller that signals it;
//! 3. [`ffa`]: the FF-A client, the bus and its root entry (`arm-ffa`,
//!    providing `ffa-root-ready`);
//!    then [`ffa_async`]: set-up retries, split-phase requests and the
//!    notification service (entry `ffa-notifications`);
//! 4. [`protected_mode`]: the EL2 FF-A proxy, installed at EL2, and its
//!    finaliser (entry `ffa-proxy`, providing `proxy-finalised`, which the
//!    root then waits on);
//! 5. [`memory`]: the page pool of kernel-owned pages to share, and the
//!    memory checks a test-partition driver runs with it;
//! 6. [`partition_driver`]: one per partition driver (entry named after the
//!    driver, waiting on `ffa-root-ready`); [`optee`]: the OP-TEE driver
//!    (its entry `optee`, device enumeration, console commands, self-test),
//!    on a virtual alarm of [`alarm`]'s mux;
//! 7. [`tpm`]: the TPM over FF-A (entries `tpm-crb-ffa`, `tpm`), measured
//!    boot (entry `measured-boot`) and the console's `tpm` commands;
//! 8. [`cores`]: the secondary cores, one entry each (with the per-core
//!    FF-A check on an FF-A board);
//! 9. [`boot`]: boot completion, the boot report, the board's hook;
//! 10. [`console`]: the command groups, then the console on the UART (a
//!    board feature: it prints its prompt and takes input from here on);
//! 11. [`main_loop`]: the main loop, servicing the init queue.
//!
//! `boards/qemu-virt/src/main.rs` is the example to follow.

#![no_std]
#![forbid(unsafe_code)]

pub mod alarm;
pub mod boot;
pub mod console;
pub mod cores;
pub mod fatal;
pub mod ffa;
pub mod ffa_async;
pub mod init_queue;
pub mod main_loop;
pub mod memory;
pub mod optee;
pub mod partition_driver;
pub mod protected_mode;
pub mod readiness;
pub mod tpm;

use kernel::ErrorCode;

// The crates the `..._component_static!` macros name, so that a board
// expanding them needs no dependency of its own on them.
#[doc(hidden)]
pub use {
    capsule_console, capsule_cores, capsule_ffa, capsule_ffa_proxy, capsule_optee, capsule_tpm,
    kernel,
};

/// A board could not be set up: what failed, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct SetupError {
    /// What the component was doing, for the log line.
    pub what: &'static str,
    /// Why it failed.
    pub error: ErrorCode,
}

impl SetupError {
    /// `error`, while doing `what`.
    pub const fn new(what: &'static str, error: ErrorCode) -> SetupError {
        SetupError { what, error }
    }
}

/// Adds context to a `Result<_, ErrorCode>`.
trait Context<T> {
    /// The error, while doing `what`.
    fn context(self, what: &'static str) -> Result<T, SetupError>;
}

impl<T> Context<T> for Result<T, ErrorCode> {
    fn context(self, what: &'static str) -> Result<T, SetupError> {
        self.map_err(|error| SetupError::new(what, error))
    }
}
