//! What a memory transaction says about the memory: the operation, the
//! memory region attributes, and each receiver's access permissions, with
//! the rules the specification gives each operation.
//!
//! | | `FFA_MEM_SHARE` | `FFA_MEM_LEND` | `FFA_MEM_DONATE` |
//! |---|---|---|---|
//! | receivers | ≥ 1 | ≥ 1 | exactly 1 |
//! | the owner keeps access | yes | no, until reclaimed | no, never |
//! | memory type (header) | specified | unspecified for one receiver, specified for several | unspecified |
//! | data access (each receiver) | read-only or read-write | read-only or read-write | unspecified |
//! | instruction access | unspecified (the relayer grants not-executable) | unspecified (the borrower asks) | unspecified (the receiver asks) |
//! | zero the memory (flags bit 0) | not allowed | allowed | allowed |
//!
//! (DEN0077A v1.0 §5.11/§5.12, v1.1 chapter 10; DEN0140 for v1.2 and later.)
//! [`validate`] checks a transaction against this table before anything is
//! written to TX; an SPMC's own, stricter rules are in
//! [`rules`](super::rules).
//!
//! ```
//! use capsule_ffa::memory::attributes::{Cacheability, DataAccess, MemoryType, Permissions, Shareability};
//!
//! assert_eq!(MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE.bits(), 0x2F);
//! assert_eq!(MemoryType::decode(0x2F), Ok(MemoryType::Normal(Cacheability::WriteBack, Shareability::InnerShareable)));
//! assert!(MemoryType::decode(0x6F).is_err()); // the NS bit is the relayer's to set
//! assert_eq!(Permissions::data(DataAccess::ReadWrite).bits(), 0x02);
//! ```

use ffa_abi::{CallWidth, FunctionId, PartitionId};

/// The three ways of giving memory to other endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Operation {
    /// `FFA_MEM_SHARE`: the owner keeps access.
    Share,
    /// `FFA_MEM_LEND`: the owner loses access until it reclaims the memory.
    Lend,
    /// `FFA_MEM_DONATE`: ownership moves to the receiver for good.
    Donate,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 3] = [Operation::Share, Operation::Lend, Operation::Donate];

    /// The function ID in the given width.
    pub const fn function(self, width: CallWidth) -> FunctionId {
        match (self, width) {
            (Operation::Share, CallWidth::Bits32) => FunctionId::MemoryShare32,
            (Operation::Share, CallWidth::Bits64) => FunctionId::MemoryShare64,
            (Operation::Lend, CallWidth::Bits32) => FunctionId::MemoryLend32,
            (Operation::Lend, CallWidth::Bits64) => FunctionId::MemoryLend64,
            (Operation::Donate, CallWidth::Bits32) => FunctionId::MemoryDonate32,
            (Operation::Donate, CallWidth::Bits64) => FunctionId::MemoryDonate64,
        }
    }

    /// A short name for logs ("share", "lend", "donate").
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Share => "share",
            Operation::Lend => "lend",
            Operation::Donate => "donate",
        }
    }

    /// The transaction type as a retrieve request's flags `[4:3]` name it.
    pub const fn transaction_type(self) -> u32 {
        let value = match self {
            Operation::Share => 1,
            Operation::Lend => 2,
            Operation::Donate => 3,
        };
        value << 3
    }

    /// The memory type to send when the caller does not choose one:
    /// Normal write-back inner shareable where the operation needs one,
    /// unspecified where it must not be given.
    pub const fn default_memory_type(self, receivers: usize) -> MemoryType {
        if self.memory_type_required(receivers) {
            MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE
        } else {
            MemoryType::Unspecified
        }
    }

    /// Whether the sender must specify the memory type (share, or lend to
    /// several borrowers); otherwise it must leave it unspecified.
    pub const fn memory_type_required(self, receivers: usize) -> bool {
        match self {
            Operation::Share => true,
            Operation::Lend => receivers > 1,
            Operation::Donate => false,
        }
    }
}

/// Cacheability of Normal memory, attributes bits `[3:2]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Cacheability {
    /// 0b01.
    NonCacheable,
    /// 0b11.
    WriteBack,
}

/// Shareability of Normal memory, attributes bits `[1:0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Shareability {
    /// 0b00.
    NonShareable,
    /// 0b10.
    OuterShareable,
    /// 0b11.
    InnerShareable,
}

/// Ordering of Device memory, attributes bits `[3:2]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DeviceOrdering {
    /// Device-nGnRnE (0b00).
    NonGatheringNonReorderingNoEarlyAck,
    /// Device-nGnRE (0b01).
    NonGatheringNonReordering,
    /// Device-nGRE (0b10).
    NonGathering,
    /// Device-GRE (0b11).
    Gathering,
}

/// The memory region attributes of a transaction (header offset 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum MemoryType {
    /// Type bits `[5:4]` = 0b00: the relayer (or the receiver) chooses.
    Unspecified,
    /// Device memory (0b01).
    Device(DeviceOrdering),
    /// Normal memory (0b10).
    Normal(Cacheability, Shareability),
}

/// Why memory region attributes or permissions cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum AttributeError {
    /// Memory type 0b11 is reserved.
    ReservedMemoryType,
    /// Normal memory with cacheability 0b00 or 0b10.
    ReservedCacheability,
    /// Normal memory with shareability 0b01.
    ReservedShareability,
    /// Device memory or an unspecified type with bits `[1:0]` set.
    ShareabilityNotAllowed,
    /// An unspecified type with bits `[3:2]` set.
    CacheabilityNotAllowed,
    /// Bit 6, non-secure: the relayer sets it in retrieve responses; a sender must not.
    NonSecureBit,
    /// Reserved bits (`[15:7]`, or `[7:4]` of permissions) are set.
    ReservedBits,
    /// Data access 0b11 is reserved.
    ReservedDataAccess,
    /// Instruction access 0b11 is reserved.
    ReservedInstructionAccess,
}

impl MemoryType {
    /// Normal, write-back, inner shareable (0x2F): what Linux shares and OP-TEE requires.
    pub const NORMAL_WRITE_BACK_INNER_SHAREABLE: MemoryType =
        MemoryType::Normal(Cacheability::WriteBack, Shareability::InnerShareable);

    /// The attribute bits as written in a transaction descriptor.
    pub const fn bits(self) -> u16 {
        match self {
            MemoryType::Unspecified => 0,
            MemoryType::Device(ordering) => {
                let ordering = match ordering {
                    DeviceOrdering::NonGatheringNonReorderingNoEarlyAck => 0,
                    DeviceOrdering::NonGatheringNonReordering => 1,
                    DeviceOrdering::NonGathering => 2,
                    DeviceOrdering::Gathering => 3,
                };
                0b01 << 4 | ordering << 2
            }
            MemoryType::Normal(cacheability, shareability) => {
                let cacheability = match cacheability {
                    Cacheability::NonCacheable => 0b01,
                    Cacheability::WriteBack => 0b11,
                };
                let shareability = match shareability {
                    Shareability::NonShareable => 0b00,
                    Shareability::OuterShareable => 0b10,
                    Shareability::InnerShareable => 0b11,
                };
                0b10 << 4 | cacheability << 2 | shareability
            }
        }
    }

    /// Decodes attribute bits as a sender may write them (no NS bit, no reserved values).
    pub const fn decode(bits: u16) -> Result<MemoryType, AttributeError> {
        if bits >> 7 != 0 {
            return Err(AttributeError::ReservedBits);
        }
        if bits & (1 << 6) != 0 {
            return Err(AttributeError::NonSecureBit);
        }
        let low = bits & 0b11;
        let middle = (bits >> 2) & 0b11;
        match (bits >> 4) & 0b11 {
            0b00 if middle != 0 => Err(AttributeError::CacheabilityNotAllowed),
            0b00 if low != 0 => Err(AttributeError::ShareabilityNotAllowed),
            0b00 => Ok(MemoryType::Unspecified),
            0b01 if low != 0 => Err(AttributeError::ShareabilityNotAllowed),
            0b01 => Ok(MemoryType::Device(match middle {
                0 => DeviceOrdering::NonGatheringNonReorderingNoEarlyAck,
                1 => DeviceOrdering::NonGatheringNonReordering,
                2 => DeviceOrdering::NonGathering,
                _ => DeviceOrdering::Gathering,
            })),
            0b10 => {
                let cacheability = match middle {
                    0b01 => Cacheability::NonCacheable,
                    0b11 => Cacheability::WriteBack,
                    _ => return Err(AttributeError::ReservedCacheability),
                };
                let shareability = match low {
                    0b00 => Shareability::NonShareable,
                    0b10 => Shareability::OuterShareable,
                    0b11 => Shareability::InnerShareable,
                    _ => return Err(AttributeError::ReservedShareability),
                };
                Ok(MemoryType::Normal(cacheability, shareability))
            }
            _ => Err(AttributeError::ReservedMemoryType),
        }
    }
}

/// Data access permission, bits `[1:0]` of the permissions byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum DataAccess {
    /// 0b00: not specified (donate).
    Unspecified,
    /// 0b01.
    ReadOnly,
    /// 0b10.
    ReadWrite,
}

/// Instruction access permission, bits `[3:2]` of the permissions byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum InstructionAccess {
    /// 0b00: not specified (what a sender writes).
    Unspecified,
    /// 0b01: not executable.
    NotExecutable,
    /// 0b10: executable.
    Executable,
}

/// A receiver's memory access permissions (EMAD offset 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Permissions {
    /// Data access.
    pub data: DataAccess,
    /// Instruction access.
    pub instruction: InstructionAccess,
}

impl Permissions {
    /// `data` access, instruction access unspecified (what a sender writes).
    pub const fn data(data: DataAccess) -> Permissions {
        Permissions {
            data,
            instruction: InstructionAccess::Unspecified,
        }
    }

    /// The permissions byte.
    pub const fn bits(self) -> u8 {
        let data = match self.data {
            DataAccess::Unspecified => 0,
            DataAccess::ReadOnly => 1,
            DataAccess::ReadWrite => 2,
        };
        let instruction = match self.instruction {
            InstructionAccess::Unspecified => 0,
            InstructionAccess::NotExecutable => 1,
            InstructionAccess::Executable => 2,
        };
        data | instruction << 2
    }

    /// Decodes a permissions byte.
    pub const fn decode(bits: u8) -> Result<Permissions, AttributeError> {
        if bits >> 4 != 0 {
            return Err(AttributeError::ReservedBits);
        }
        let data = match bits & 0b11 {
            0 => DataAccess::Unspecified,
            1 => DataAccess::ReadOnly,
            2 => DataAccess::ReadWrite,
            _ => return Err(AttributeError::ReservedDataAccess),
        };
        let instruction = match (bits >> 2) & 0b11 {
            0 => InstructionAccess::Unspecified,
            1 => InstructionAccess::NotExecutable,
            2 => InstructionAccess::Executable,
            _ => return Err(AttributeError::ReservedInstructionAccess),
        };
        Ok(Permissions { data, instruction })
    }
}

/// One receiver of a transaction: its ID, its permissions and (v1.2 layout
/// and later) the sender's implementation-defined value for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct Receiver {
    /// The receiver's endpoint ID.
    pub id: PartitionId,
    /// The access it is given.
    pub permissions: Permissions,
    /// The 16-byte implementation-defined value of a v1.2 endpoint memory
    /// access descriptor (the receiver repeats it in its retrieve request).
    /// Must be zero below v1.2, where the layout has no room for it.
    pub impdef: [u8; 16],
}

impl Receiver {
    /// `id` with `data` access, no implementation-defined value.
    pub const fn new(id: PartitionId, data: DataAccess) -> Receiver {
        Receiver {
            id,
            permissions: Permissions::data(data),
            impdef: [0; 16],
        }
    }

    /// The same receiver with an implementation-defined value (v1.2 layout).
    pub const fn with_impdef(mut self, impdef: [u8; 16]) -> Receiver {
        self.impdef = impdef;
        self
    }
}

/// The most receivers one transaction may name.
pub const MAXIMUM_RECEIVERS: usize = 8;

/// What a caller chooses about a transaction besides its receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct TransferOptions {
    /// The memory type; `None` takes [`Operation::default_memory_type`].
    pub memory_type: Option<MemoryType>,
    /// The tag: a value the receivers must repeat when they retrieve.
    pub tag: u64,
    /// Flags bit 0: the relayer zeroes the memory before a borrower maps it
    /// (lend and donate only).
    pub zero_memory: bool,
}

impl TransferOptions {
    /// Defaults: the operation's memory type, tag 0, no zeroing.
    pub const DEFAULT: TransferOptions = TransferOptions {
        memory_type: None,
        tag: 0,
        zero_memory: false,
    };

    /// The defaults with `tag`.
    pub const fn tagged(tag: u64) -> TransferOptions {
        TransferOptions {
            tag,
            ..TransferOptions::DEFAULT
        }
    }
}

impl Default for TransferOptions {
    fn default() -> TransferOptions {
        TransferOptions::DEFAULT
    }
}

/// Why a transaction cannot be sent as described.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum TransactionError {
    /// No receivers.
    NoReceivers,
    /// More receivers than [`MAXIMUM_RECEIVERS`].
    TooManyReceivers,
    /// The same receiver twice.
    DuplicateReceiver(PartitionId),
    /// The sender names itself as a receiver.
    SenderIsReceiver,
    /// Donate has exactly one receiver.
    DonateNeedsOneReceiver,
    /// The operation needs the memory type specified (share, lend to several).
    MemoryTypeRequired(Operation),
    /// The operation needs the memory type unspecified (donate, lend to one).
    MemoryTypeNotAllowed(Operation),
    /// Share and lend need read-only or read-write data access for every receiver.
    DataAccessRequired(Operation),
    /// Donate leaves data access to the receiver.
    DataAccessNotAllowed,
    /// Instruction access is the borrower's to ask for; a sender leaves it unspecified.
    InstructionAccessNotAllowed,
    /// Zeroing is for lend and donate; shared memory stays the owner's.
    ZeroingNotAllowed,
    /// An implementation-defined value needs the v1.2 layout.
    ImpdefNeedsV1_2,
    /// The region has no pages, or a range of it has none.
    EmptyRegion,
    /// A range does not start on a 4 KiB page (its address).
    Misaligned(u64),
    /// The descriptor would exceed 32-bit lengths or page counts.
    TooLarge,
    /// The header, access descriptors and composite header do not fit one TX
    /// buffer, and the fragment policy keeps them in the first fragment.
    HeaderDoesNotFitTx {
        /// Bytes of the fixed part.
        needed: usize,
        /// Bytes of TX.
        available: usize,
    },
    /// Refused by the configured SPMC's own rules (see [`super::rules`]).
    SpmcRule(super::rules::Rule),
}

/// Checks a transaction against the specification's rules for `operation`
/// (the table above), before anything is written.
pub fn validate(
    operation: Operation,
    sender: PartitionId,
    receivers: &[Receiver],
    memory_type: MemoryType,
    options: &TransferOptions,
) -> Result<(), TransactionError> {
    if receivers.is_empty() {
        return Err(TransactionError::NoReceivers);
    }
    if receivers.len() > MAXIMUM_RECEIVERS {
        return Err(TransactionError::TooManyReceivers);
    }
    if operation == Operation::Donate && receivers.len() != 1 {
        return Err(TransactionError::DonateNeedsOneReceiver);
    }
    for (index, receiver) in receivers.iter().enumerate() {
        if receiver.id == sender {
            return Err(TransactionError::SenderIsReceiver);
        }
        if receivers[..index]
            .iter()
            .any(|other| other.id == receiver.id)
        {
            return Err(TransactionError::DuplicateReceiver(receiver.id));
        }
        if receiver.permissions.instruction != InstructionAccess::Unspecified {
            return Err(TransactionError::InstructionAccessNotAllowed);
        }
        match (operation, receiver.permissions.data) {
            (Operation::Donate, DataAccess::Unspecified) => {}
            (Operation::Donate, _) => return Err(TransactionError::DataAccessNotAllowed),
            (_, DataAccess::Unspecified) => {
                return Err(TransactionError::DataAccessRequired(operation))
            }
            _ => {}
        }
    }
    let specified = memory_type != MemoryType::Unspecified;
    let required = operation.memory_type_required(receivers.len());
    if required && !specified {
        return Err(TransactionError::MemoryTypeRequired(operation));
    }
    if !required && specified {
        return Err(TransactionError::MemoryTypeNotAllowed(operation));
    }
    if options.zero_memory && operation == Operation::Share {
        return Err(TransactionError::ZeroingNotAllowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENDER: PartitionId = PartitionId::new(0);
    const SP: PartitionId = PartitionId::new(0x8001);

    #[test]
    fn every_attribute_byte_decodes_to_what_encodes_it_or_is_refused() {
        let mut valid = 0;
        for bits in 0..=u16::MAX {
            if let Ok(memory_type) = MemoryType::decode(bits) {
                assert_eq!(memory_type.bits(), bits);
                valid += 1;
            }
        }
        // unspecified, 4 device orderings, 2 cacheabilities x 3 shareabilities.
        assert_eq!(valid, 1 + 4 + 6);
        for bits in 0..=u8::MAX {
            if let Ok(permissions) = Permissions::decode(bits) {
                assert_eq!(permissions.bits(), bits);
            }
        }
        assert_eq!(
            MemoryType::decode(0x2D),
            Err(AttributeError::ReservedShareability)
        );
        assert_eq!(
            MemoryType::decode(0x2B),
            Err(AttributeError::ReservedCacheability)
        );
        assert_eq!(
            Permissions::decode(0x03),
            Err(AttributeError::ReservedDataAccess)
        );
    }

    #[test]
    fn operations_follow_the_specification_table() {
        let rw = [Receiver::new(SP, DataAccess::ReadWrite)];
        let none = [Receiver::new(SP, DataAccess::Unspecified)];
        let normal = MemoryType::NORMAL_WRITE_BACK_INNER_SHAREABLE;
        let plain = TransferOptions::DEFAULT;
        let zero = TransferOptions {
            zero_memory: true,
            ..plain
        };
        assert_eq!(
            validate(Operation::Share, SENDER, &rw, normal, &plain),
            Ok(())
        );
        assert_eq!(
            validate(
                Operation::Share,
                SENDER,
                &rw,
                MemoryType::Unspecified,
                &plain
            ),
            Err(TransactionError::MemoryTypeRequired(Operation::Share))
        );
        assert_eq!(
            validate(Operation::Share, SENDER, &rw, normal, &zero),
            Err(TransactionError::ZeroingNotAllowed)
        );
        assert_eq!(
            validate(Operation::Lend, SENDER, &rw, MemoryType::Unspecified, &zero),
            Ok(())
        );
        assert_eq!(
            validate(Operation::Lend, SENDER, &rw, normal, &plain),
            Err(TransactionError::MemoryTypeNotAllowed(Operation::Lend))
        );
        let two = [
            rw[0],
            Receiver::new(PartitionId::new(0x8002), DataAccess::ReadOnly),
        ];
        assert_eq!(
            validate(Operation::Lend, SENDER, &two, normal, &plain),
            Ok(())
        );
        assert_eq!(
            validate(
                Operation::Donate,
                SENDER,
                &two,
                MemoryType::Unspecified,
                &plain
            ),
            Err(TransactionError::DonateNeedsOneReceiver)
        );
        assert_eq!(
            validate(
                Operation::Donate,
                SENDER,
                &rw,
                MemoryType::Unspecified,
                &plain
            ),
            Err(TransactionError::DataAccessNotAllowed)
        );
        assert_eq!(
            validate(
                Operation::Donate,
                SENDER,
                &none,
                MemoryType::Unspecified,
                &zero
            ),
            Ok(())
        );
        assert_eq!(
            validate(
                Operation::Lend,
                SENDER,
                &none,
                MemoryType::Unspecified,
                &plain
            ),
            Err(TransactionError::DataAccessRequired(Operation::Lend))
        );
        let executable = [Receiver {
            permissions: Permissions {
                data: DataAccess::ReadOnly,
                instruction: InstructionAccess::Executable,
            },
            ..rw[0]
        }];
        assert_eq!(
            validate(Operation::Share, SENDER, &executable, normal, &plain),
            Err(TransactionError::InstructionAccessNotAllowed)
        );
        assert_eq!(
            validate(Operation::Share, SENDER, &[rw[0], rw[0]], normal, &plain),
            Err(TransactionError::DuplicateReceiver(SP))
        );
        assert_eq!(
            validate(Operation::Share, SP, &rw, normal, &plain),
            Err(TransactionError::SenderIsReceiver)
        );
        assert_eq!(
            validate(Operation::Share, SENDER, &[], normal, &plain),
            Err(TransactionError::NoReceivers)
        );
    }
}
