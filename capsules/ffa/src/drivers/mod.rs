//! Partition drivers: one module per secure service, each a
//! [`PartitionDriver`](crate::bus::PartitionDriver), and the memory checks
//! the echo driver runs with the test partitions ([`memory_check`]). The
//! echo, notifier, scheduling and per-CPU drivers serve the test
//! partitions (the model's, and `tools/test-partition`); a board wires
//! only what it needs, and links nothing it does not wire.

pub mod echo;
pub mod memory_check;
pub mod notifier;
pub mod per_cpu;
pub mod scheduling;
