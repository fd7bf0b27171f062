//! Partition drivers: one module per secure service, each a
//! [`PartitionDriver`](crate::bus::PartitionDriver), and the memory checks
//! the echo driver runs with the test partitions ([`memory_check`]).

pub mod echo;
pub mod memory_check;
pub mod notifier;
pub mod scheduling;
