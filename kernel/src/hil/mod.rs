//! Hardware interface layers: the traits that chips implement and capsules use.

pub mod cores;
pub mod hypervisor;
pub mod image;
pub mod interrupt;
pub mod mmio_window;
pub mod page_pool;
pub mod power;
pub mod shared_memory;
pub mod smccc;
pub mod tee;
pub mod time;
pub mod tpm;
pub mod uart;
