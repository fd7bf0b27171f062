//! The public API other crates code against: names, constants and const construction.

use ffa_model::{
    FaultConfig, MemoryError, NormalWorldMemory, Outcome, PartitionInfo, Registers, SecureWorld,
    SMCCC_REGISTER_COUNT,
};

/// Firmware builds the model in a `static` initialiser.
static WORLD: SecureWorld = SecureWorld::new(FaultConfig::default_config());

struct NoMemory;

impl NormalWorldMemory for NoMemory {
    fn read(&self, _address: u64, _destination: &mut [u8]) -> Result<(), MemoryError> {
        Err(MemoryError)
    }

    fn write(&mut self, _address: u64, _source: &[u8]) -> Result<(), MemoryError> {
        Err(MemoryError)
    }
}

#[test]
fn constants_and_types() {
    assert_eq!(SMCCC_REGISTER_COUNT, 18);
    let registers: Registers = [0; 18];
    assert_eq!(registers.len(), SMCCC_REGISTER_COUNT);
    assert_eq!(FaultConfig::BLOB_SIZE, 64);
    assert_eq!(
        FaultConfig::default_config().to_bytes().len(),
        FaultConfig::BLOB_SIZE
    );
    assert_eq!(MemoryError, MemoryError);
}

#[test]
fn static_world_can_be_cloned_and_used() {
    let mut world = WORLD.clone();
    let partitions: &[PartitionInfo] = world.partitions();
    assert_eq!(partitions.len(), 7);
    assert_eq!(
        partitions
            .iter()
            .map(|partition| partition.id)
            .collect::<Vec<_>>(),
        [0x8001, 0x8002, 0x8003, 0x8004, 0x8005, 0x8006, 0x8010]
    );
    let mut call = [0u64; 18];
    call[0] = 0x8400_0063;
    call[1] = 0x1_0002;
    let outcome = world.handle(&call, &mut NoMemory, 0);
    match outcome {
        Outcome::Return(result) => assert_eq!(result[0], 0x1_0002),
        other => panic!("unexpected {other:?}"),
    }
}
