#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`memory`]: simulated normal-world memory, seen by the model (as
//!   `NormalWorldMemory`), by a capsule (as `SharedBuffer` pages, as the
//!   `PageMemory` of a page pool, or as a device's `MmioWindow`, a TPM's
//!   CRB) and by EL2 (as copies);
//! - [`monitor`]: the model behind an SMCCC conduit ([`ModelMonitor`]), and a
//!   conduit that answers from a script ([`ScriptedConduit`]);
//! - [`el2`]: a simulated EL2 with a `HostCallHandler` installed
//!   ([`SimulatedEl2`]): the kernel's `HVC` and `SMC` conduits, and the
//!   `El2Services` the handler acts with;
//! - [`alarm`]: an alarm a test advances by hand ([`ManualAlarm`]);
//! - [`cores`]: secondary cores whose calls reach the model from their core
//!   ([`ModelCores`]);
//! - [`interrupt`]: interrupt lines lent to capsules, raised by hand or by
//!   the model ([`HostInterruptLines`]);
//! - [`uart`]: a UART whose input the test types ([`ScriptedUart`]);
//! - [`deferred`]: deferred calls, one test at a time;
//! - [`random`]: a deterministic generator for fuzzers ([`Random`]).
//!
//! ```
//! use testbed::memory::Memory;
//! use testbed::monitor::ModelMonitor;
//! use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
//!
//! let memory = Memory::new();
//! let monitor = ModelMonitor::new(ffa_model::FaultConfig::default_config(), memory);
//! let reply = monitor.call(&SmcccRegisters::from_slice(&[0x8400_0063, 0x0001_0002]));
//! assert_eq!(reply.x[0], 0x0001_0002); // FFA_VERSION: v1.2
//! ```

pub mod alarm;
pub mod cores;
pub mod deferred;
pub mod el2;
pub mod interrupt;
pub mod memory;
pub mod monitor;
pub mod random;
pub mod uart;

pub use alarm::ManualAlarm;
pub use cores::ModelCores;
pub use el2::SimulatedEl2;
pub use interrupt::HostInterruptLines;
pub use memory::{Memory, PoolPages, SharedPage};
pub use monitor::{ModelMonitor, ScriptedConduit};
pub use random::Random;
pub use uart::ScriptedUart;

/// Leaks `value` for the `'static` references kernel components hold.
pub fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}
