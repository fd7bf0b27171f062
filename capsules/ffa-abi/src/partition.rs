//! Endpoint IDs: the 16-bit IDs FF-A gives partitions, VMs and the normal-world kernel.
//!
//! ```
//! use ffa_abi::PartitionId;
//!
//! assert!(PartitionId::new(0x8001).is_secure());
//! assert_eq!(PartitionId::NORMAL_WORLD, PartitionId::new(0));
//! ```

/// An FF-A endpoint ID (a partition, a VM, or the normal-world kernel itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PartitionId(u16);

impl PartitionId {
    /// ID 0: the non-secure physical FF-A instance (the kernel, or an EL2
    /// proxy on its behalf; both are endpoint 0 to the secure world).
    pub const NORMAL_WORLD: PartitionId = PartitionId(0);

    /// An ID from its raw value.
    #[inline]
    pub const fn new(raw: u16) -> PartitionId {
        PartitionId(raw)
    }

    /// The raw value.
    #[inline]
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// Whether bit 15 is set, which FF-A uses for secure-world endpoints.
    pub const fn is_secure(self) -> bool {
        self.0 & 0x8000 != 0
    }
}
