//! Partition drivers: one module per secure service, each a [`PartitionDriver`](crate::bus::PartitionDriver).

pub mod echo;
pub mod notifier;
pub mod scheduling;
