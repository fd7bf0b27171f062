//! Where real SPMCs are stricter than the specification: rules a board can
//! ask the client to check before sending, so a refusal is a clear error
//! on this side rather than an `INVALID_PARAMETERS` or `DENIED` from the
//! other.
//!
//! | rule | Hafnium | OP-TEE (S-EL1 SPMC) | TF-A EL3 SPMC |
//! |---|---|---|---|
//! | `FFA_MEM_DONATE` from the normal world | yes | `NOT_SUPPORTED` | not implemented |
//! | callers that may share | any v1.x | any v1.x | v1.0 and v1.1 only (2.12: `INVALID_PARAMETERS` for v1.2) |
//! | share attributes | Normal write-back inner shareable, else `DENIED` | exactly 0x2F, else `INVALID_PARAMETERS` | not checked |
//! | lend attributes | unspecified for one borrower | exactly 0 | not checked |
//! | receiver permissions | as the specification | exactly read-write (0x02) | not checked |
//! | zero-memory flag | lend/donate only | ignored | refused (flags must be 0 or the type) |
//! | receivers per transaction | 2 | 1 (its own endpoint) | any |
//! | reclaim with zeroing | honoured | refused (`w3` must be 0) | refused (`w3` must be 0) |
//!
//! (Read from Hafnium's `ffa_memory.c`, OP-TEE's `thread_spmc.c` and TF-A
//! 2.12.1's `spmc_shared_mem.c`; see `/work/notes/memory-management.md` §4.)
//! [`SpmcRules::Specification`] (the default) checks nothing beyond the
//! specification.
//!
//! The rules are a board setting (`ClientConfig::memory`), never guessed:
//! nothing in FF-A tells a caller which SPMC answers it (`FFA_VERSION` and
//! `FFA_FEATURES` describe what it offers, not who it is), so only a board
//! built for one SPMC can name it. A board that boots under several keeps
//! the specification's rules, and each SPMC's own refusal comes back as an
//! error the client logs with its likely cause.
//!
//! ```
//! use capsule_ffa::memory::attributes::{DataAccess, MemoryType, Operation, Receiver, TransferOptions};
//! use capsule_ffa::memory::rules::{Rule, SpmcRules};
//! use ffa_abi::{PartitionId, Version};
//!
//! let receivers = [Receiver::new(PartitionId::new(0x8001), DataAccess::ReadWrite)];
//! let normal = MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE;
//! let check = |rules: SpmcRules, version| rules.check(Operation::Share, version, &receivers, normal, &TransferOptions::DEFAULT);
//! assert_eq!(check(SpmcRules::TfAEl3, Version::V1_2), Err(Rule::CallerVersion));
//! assert_eq!(check(SpmcRules::TfAEl3, Version::V1_1), Ok(()));
//! assert_eq!(check(SpmcRules::OpTee, Version::V1_2), Ok(()));
//! ```

use super::attributes::{
    DataAccess, MemoryType, Operation, Receiver, TransferOptions, MAXIMUM_RECEIVERS,
};
use ffa_abi::Version;

/// Which SPMC's rules the client checks besides the specification's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum SpmcRules {
    /// The specification's rules only (always checked).
    Specification,
    /// Hafnium as the SPMC at S-EL2.
    Hafnium,
    /// OP-TEE as the SPMC at S-EL1.
    OpTee,
    /// TF-A's EL3 SPMC.
    TfAEl3,
}

/// An SPMC rule that refuses a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Rule {
    /// The SPMC does not take this operation from the normal world.
    OperationNotOffered(Operation),
    /// The SPMC takes memory transactions only from v1.0 and v1.1 callers.
    CallerVersion,
    /// Share only Normal write-back inner-shareable memory.
    ShareNeedsNormalWriteBackInnerShareable,
    /// Lend with the memory type unspecified.
    LendNeedsUnspecifiedType,
    /// Every receiver gets read-write access.
    ReadWriteOnly,
    /// The zero-memory flag is refused.
    NoZeroing,
    /// More receivers than the SPMC takes.
    TooManyReceivers(u8),
    /// Reclaim without the zero-memory flag.
    NoReclaimZeroing,
}

impl Rule {
    /// A sentence for logs.
    pub const fn describe(self) -> &'static str {
        match self {
            Rule::OperationNotOffered(_) => "the SPMC does not take this operation from the normal world",
            Rule::CallerVersion => "the SPMC takes memory transactions only from FF-A v1.0 and v1.1 callers (request v1.1)",
            Rule::ShareNeedsNormalWriteBackInnerShareable => "the SPMC shares only Normal write-back inner-shareable memory",
            Rule::LendNeedsUnspecifiedType => "the SPMC lends only with the memory type unspecified",
            Rule::ReadWriteOnly => "the SPMC gives receivers read-write access only",
            Rule::NoZeroing => "the SPMC refuses the zero-memory flag",
            Rule::TooManyReceivers(_) => "the SPMC takes fewer receivers",
            Rule::NoReclaimZeroing => "the SPMC refuses to zero memory on reclaim",
        }
    }
}

impl SpmcRules {
    /// The most receivers a transaction may name under these rules.
    pub const fn maximum_receivers(self) -> usize {
        match self {
            SpmcRules::Specification | SpmcRules::TfAEl3 => MAXIMUM_RECEIVERS,
            SpmcRules::Hafnium => 2,
            SpmcRules::OpTee => 1,
        }
    }

    /// Checks a transaction the specification allows against these rules;
    /// `version` is the negotiated version.
    pub fn check(
        self,
        operation: Operation,
        version: Version,
        receivers: &[Receiver],
        memory_type: MemoryType,
        options: &TransferOptions,
    ) -> Result<(), Rule> {
        if receivers.len() > self.maximum_receivers() {
            return Err(Rule::TooManyReceivers(self.maximum_receivers() as u8));
        }
        match self {
            SpmcRules::Specification => Ok(()),
            SpmcRules::Hafnium => {
                if operation == Operation::Share
                    && memory_type != MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE
                {
                    return Err(Rule::ShareNeedsNormalWriteBackInnerShareable);
                }
                Ok(())
            }
            SpmcRules::OpTee => {
                match operation {
                    Operation::Donate => return Err(Rule::OperationNotOffered(operation)),
                    Operation::Share
                        if memory_type != MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE =>
                    {
                        return Err(Rule::ShareNeedsNormalWriteBackInnerShareable)
                    }
                    Operation::Lend if memory_type != MemoryType::Unspecified => {
                        return Err(Rule::LendNeedsUnspecifiedType)
                    }
                    _ => {}
                }
                if receivers
                    .iter()
                    .any(|receiver| receiver.permissions.data != DataAccess::ReadWrite)
                {
                    return Err(Rule::ReadWriteOnly);
                }
                Ok(())
            }
            SpmcRules::TfAEl3 => {
                if operation == Operation::Donate {
                    return Err(Rule::OperationNotOffered(operation));
                }
                if version > Version::V1_1 {
                    return Err(Rule::CallerVersion);
                }
                if options.zero_memory {
                    return Err(Rule::NoZeroing);
                }
                Ok(())
            }
        }
    }

    /// Checks a reclaim's flags against these rules.
    pub const fn check_reclaim(self, zero_memory: bool) -> Result<(), Rule> {
        match self {
            SpmcRules::OpTee | SpmcRules::TfAEl3 if zero_memory => Err(Rule::NoReclaimZeroing),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffa_abi::PartitionId;

    #[test]
    fn each_spmc_refuses_what_it_refuses() {
        let rw = [Receiver::new(
            PartitionId::new(0x8001),
            DataAccess::ReadWrite,
        )];
        let ro = [Receiver::new(
            PartitionId::new(0x8001),
            DataAccess::ReadOnly,
        )];
        let normal = MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE;
        let outer = MemoryType::Normal(
            super::super::attributes::Cacheability::WriteBack,
            super::super::attributes::Shareability::OuterShareable,
        );
        let plain = TransferOptions::DEFAULT;
        let zero = TransferOptions {
            zero_memory: true,
            ..plain
        };
        let v12 = Version::V1_2;
        assert_eq!(
            SpmcRules::Hafnium.check(Operation::Share, v12, &rw, outer, &plain),
            Err(Rule::ShareNeedsNormalWriteBackInnerShareable)
        );
        assert_eq!(
            SpmcRules::TfAEl3.check(Operation::Share, Version::V1_1, &rw, outer, &plain),
            Ok(())
        );
        assert_eq!(
            SpmcRules::OpTee.check(Operation::Lend, v12, &ro, MemoryType::Unspecified, &plain),
            Err(Rule::ReadWriteOnly)
        );
        assert_eq!(
            SpmcRules::OpTee.check(Operation::Donate, v12, &rw, MemoryType::Unspecified, &plain),
            Err(Rule::OperationNotOffered(Operation::Donate))
        );
        assert_eq!(
            SpmcRules::TfAEl3.check(
                Operation::Lend,
                Version::V1_0,
                &rw,
                MemoryType::Unspecified,
                &zero
            ),
            Err(Rule::NoZeroing)
        );
        let two = [
            rw[0],
            Receiver::new(PartitionId::new(0x8002), DataAccess::ReadWrite),
        ];
        assert_eq!(
            SpmcRules::OpTee.check(Operation::Share, v12, &two, normal, &plain),
            Err(Rule::TooManyReceivers(1))
        );
        assert_eq!(
            SpmcRules::TfAEl3.check_reclaim(true),
            Err(Rule::NoReclaimZeroing)
        );
        assert_eq!(SpmcRules::Hafnium.check_reclaim(true), Ok(()));
        for operation in Operation::ALL {
            let receivers: &[Receiver] = if operation == Operation::Donate {
                &[Receiver::new(
                    PartitionId::new(0x8001),
                    DataAccess::Unspecified,
                )]
            } else {
                &rw
            };
            let memory_type = operation.default_memory_type(1);
            assert_eq!(
                SpmcRules::Specification.check(operation, v12, receivers, memory_type, &plain),
                Ok(())
            );
        }
    }
}
