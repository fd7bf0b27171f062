#![doc = include_str!("../README.md")]
//!
//! ## What it answers
//!
//! The model answers SMC calls made by a non-secure FF-A endpoint (ID 0, the
//! kernel or hypervisor) the way an EL3 SPMD with an SPMC behind it would:
//!
//! * SMCCC v1.2 discovery and PSCI v1.1 basics (see [`smccc`]);
//! * FF-A v1.0, v1.1 and v1.2 setup, discovery and direct messaging, written
//!   from the specification (DEN0077A); the SPMC's own version comes from
//!   [`FaultConfig::spmc_version`];
//! * five hosted secure partitions (see [`partition`]): an echo partition,
//!   an AArch32-only partition, a partition that gets preempted, the
//!   notifier (notifications and indirect messages) and the scheduling
//!   partition (preemptible work, yields with a timeout);
//! * notifications with the schedule receiver interrupt (see
//!   [`notifications`]) and indirect messaging (`FFA_MSG_SEND2`), on a
//!   [`Platform`] that gives time, the normal world's interrupts and a
//!   secure timer;
//! * memory management (see `memory_sharing.rs`): sharing, lending and
//!   donating from the normal world in every layout and in fragments,
//!   retrieve/relinquish by the hosted partitions, reclaim, ownership and
//!   overlap checks, per-SPMC rules and injected faults; the echo partition
//!   checks and answers shared memory on request
//!   ([`ffa_abi::memory_check`], see `memory_partition.rs`);
//! * answering as OP-TEE's S-EL1 SPMC, OP-TEE itself as partition 0x8001
//!   (see `optee/`): OP-TEE's FF-A ABI ([`ffa_abi::optee`]), argument
//!   structs read from the memory it retrieves, sessions with a
//!   device-enumeration and a test pseudo TA, RPCs issued on purpose, and
//!   faults ([`OpteeFault`]);
//! * a TPM partition (see [`tpm`]): the TPM service over FF-A (Arm DEN0138)
//!   with its CRB in normal-world memory, in front of a small TPM 2.0 that
//!   computes (SHA-256 PCRs, a deterministic GetRandom), with its own
//!   faults ([`tpm::config::TpmConfig`]);
//! * fault injection selected by [`FaultConfig`], which also has a fixed-size
//!   little-endian serialised form so a test harness can hand it to firmware.
//!
//! It serves two users: the EL3 test firmware on QEMU (bare metal, no heap)
//! and host unit tests of the normal-world FF-A client. The crate therefore
//! has no heap, no MMIO and no unsafe code; normal-world memory (the RX/TX
//! buffers) is reached only through the [`NormalWorldMemory`] trait.
//!
//! Register conventions of the replies:
//! * FF-A replies define x0–x7 completely (reserved registers are zero);
//!   x8–x17 are preserved unless the ABI returns results in them
//!   (`FFA_PARTITION_INFO_GET_REGS`, `FFA_MSG_SEND_DIRECT_RESP2`), as
//!   SMCCC v1.2 requires.
//! * SMCCC and PSCI replies carry the result in x0, zero x1–x3 and preserve
//!   x4–x17.
//! * A function that is not implemented answers x0 = `u64::MAX` (SMCCC
//!   `NOT_SUPPORTED`, -1), like real firmware.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod config;
pub mod error_code;
pub mod function_id;
pub mod mailbox;
pub mod memory;
pub mod optee;
pub mod partition;
pub mod personality;
pub mod platform;
pub mod power;
pub mod smccc;
pub mod tpm;
pub mod trace;
pub mod version;

mod call;
mod discovery;
mod indirect;
mod memory_descriptor;
mod memory_partition;
mod memory_rules;
mod memory_sharing;
mod messaging;
pub mod notifications;
mod notifier;
mod partition_discovery;
mod partition_table;
mod readiness;
pub mod scheduling;
mod secure_world;
mod tf_a_el3;

pub use config::{ConfigError, FaultConfig, PartitionInfoFault, ReadinessError};
pub use memory::{MemoryError, NormalWorldMemory};
pub use memory_rules::MemoryFault;
pub use memory_sharing::{
    Phase as MemoryPhase, TransactionInfo as MemoryTransactionInfo,
    TransactionType as MemoryTransactionType,
};
pub use optee::{OpteeFault, OpteeSummary};
pub use partition::PartitionInfo;
pub use personality::Personality;
pub use platform::{FixedClock, Platform};
pub use secure_world::SecureWorld;
pub use trace::{
    describe_call, describe_outcome, describe_result, error_name, function_name, CallDescription,
    OutcomeDescription, ResultDescription,
};

/// Number of general-purpose registers (x0..x17) that carry SMCCC v1.2 arguments and results.
pub const SMCCC_REGISTER_COUNT: usize = 18;

/// The register file of one SMC: x0..x17 on entry (arguments) or on return (results).
pub type Registers = [u64; SMCCC_REGISTER_COUNT];

/// The ID of the non-secure FF-A endpoint that calls the model (the kernel or hypervisor).
pub const NORMAL_WORLD_ENDPOINT_ID: u16 = 0;

/// The FF-A ID of the SPMC, returned by `FFA_SPM_ID_GET`.
pub const SPMC_ID: u16 = 0x8000;

/// What the firmware must do after the model handled one SMC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Return to the caller with these registers in x0..x17.
    Return(Registers),
    /// The caller asked for `PSCI_SYSTEM_OFF`: power off.
    ///
    /// Quirk of this test firmware: x1 of the call carries the exit status
    /// QEMU should exit with (real firmware ignores x1).
    SystemOff {
        /// The exit status the caller put in w1.
        status: u32,
    },
    /// The caller asked for `PSCI_SYSTEM_RESET`: reset the system.
    SystemReset,
    /// `PSCI_CPU_ON` succeeded: release the core (it was marked on-pending),
    /// then return `reply` to the caller. Tell the model when the core has
    /// entered the normal world ([`SecureWorld::core_arrived`]).
    CpuOn {
        /// The core, its entry point and context ID.
        release: power::Release,
        /// What the caller gets back (`SUCCESS`).
        reply: Registers,
    },
    /// `PSCI_CPU_OFF` succeeded: the calling core is off; park it until a
    /// `CPU_ON` releases it again.
    CpuOff,
}
