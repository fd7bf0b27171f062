//! Shared helpers for the integration tests: a Vec-backed normal-world memory and a call harness.
#![allow(dead_code)]

use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::{
    FaultConfig, MemoryError, NormalWorldMemory, Outcome, Platform, Registers, SecureWorld,
};

/// Where the test memory starts.
pub const MEMORY_BASE: u64 = 0x4000_0000;
/// Size of the test memory.
pub const MEMORY_SIZE: usize = 1 << 20;
/// Default TX buffer address.
pub const TRANSMIT_ADDRESS: u64 = MEMORY_BASE;
/// Default RX buffer address (16 pages after TX, so any page count fits).
pub const RECEIVE_ADDRESS: u64 = MEMORY_BASE + 0x1_0000;

/// Normal-world memory backed by a `Vec`, with an optional write failure.
pub struct TestMemory {
    pub bytes: Vec<u8>,
    pub fail_writes: bool,
}

impl TestMemory {
    pub fn new() -> TestMemory {
        TestMemory {
            bytes: vec![0xEE; MEMORY_SIZE],
            fail_writes: false,
        }
    }

    fn range(&self, address: u64, length: usize) -> Result<core::ops::Range<usize>, MemoryError> {
        let offset = address.checked_sub(MEMORY_BASE).ok_or(MemoryError)?;
        let start = usize::try_from(offset).map_err(|_| MemoryError)?;
        let end = start.checked_add(length).ok_or(MemoryError)?;
        if end > self.bytes.len() {
            return Err(MemoryError);
        }
        Ok(start..end)
    }
}

impl NormalWorldMemory for TestMemory {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
        let range = self.range(address, destination.len())?;
        destination.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError> {
        if self.fail_writes {
            return Err(MemoryError);
        }
        let range = self.range(address, source.len())?;
        self.bytes[range].copy_from_slice(source);
        Ok(())
    }
}

/// Build a register file from x0 and the following arguments.
pub fn registers(values: &[u64]) -> Registers {
    let mut registers = [0u64; 18];
    registers[..values.len()].copy_from_slice(values);
    registers
}

/// A machine for the model: a clock the test moves (and that may move by
/// itself at each reading), the interrupts raised for the normal world
/// (pending until the test serves them) and the secure timer.
#[derive(Default)]
pub struct TestPlatform {
    pub now: u64,
    /// Microseconds each reading of the clock adds.
    pub step: u64,
    /// Interrupts raised, in order.
    pub raised: Vec<u32>,
    /// Interrupts pending for the normal world.
    pub pending: Vec<u32>,
    /// The secure timer's deadline.
    pub timer: Option<u64>,
}

impl TestPlatform {
    /// The normal world takes every pending interrupt.
    pub fn serve(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.pending)
    }
}

impl Platform for TestPlatform {
    fn now_microseconds(&mut self) -> u64 {
        self.now += self.step;
        self.now
    }
    fn non_secure_interrupt_pending(&mut self) -> bool {
        !self.pending.is_empty()
    }
    fn raise_non_secure_interrupt(&mut self, id: u32) {
        self.raised.push(id);
        if !self.pending.contains(&id) {
            self.pending.push(id);
        }
    }
    fn set_secure_timer(&mut self, deadline: Option<u64>) {
        self.timer = deadline;
    }
}

/// A secure world, its memory and a clock.
pub struct Harness {
    pub world: SecureWorld,
    pub memory: TestMemory,
    pub now: u64,
    pub platform: TestPlatform,
}

impl Harness {
    pub fn new(config: FaultConfig) -> Harness {
        Harness {
            world: SecureWorld::new(config),
            memory: TestMemory::new(),
            now: 0,
            platform: TestPlatform::default(),
        }
    }

    pub fn default_config() -> Harness {
        Harness::new(FaultConfig::default_config())
    }

    /// A harness whose caller negotiated `version` (FF-A v1.2 SPMC unless configured).
    pub fn negotiated(config: FaultConfig, version: Version) -> Harness {
        let mut harness = Harness::new(config);
        harness.call(&[FFA_VERSION as u64, version.raw() as u64]);
        harness
    }

    pub fn outcome_of(&mut self, registers: &Registers) -> Outcome {
        self.platform.now = self.platform.now.max(self.now);
        let outcome = self
            .world
            .handle_on(registers, &mut self.memory, &mut self.platform);
        self.now = self.platform.now;
        outcome
    }

    /// Lets the secure timer expire (time moves to its deadline).
    pub fn expire_timer(&mut self) -> bool {
        let Some(deadline) = self.platform.timer.take() else {
            return false;
        };
        self.platform.now = self.platform.now.max(deadline);
        self.world
            .secure_timer_expired(&mut self.memory, &mut self.platform);
        self.now = self.platform.now;
        true
    }

    /// Write bytes of the test memory.
    pub fn write(&mut self, address: u64, bytes: &[u8]) {
        let start = (address - MEMORY_BASE) as usize;
        self.memory.bytes[start..start + bytes.len()].copy_from_slice(bytes);
    }

    /// Make a call that must return to the caller.
    pub fn call_registers(&mut self, registers: &Registers) -> Registers {
        match self.outcome_of(registers) {
            Outcome::Return(result) => result,
            other => panic!("expected a return, got {other:?}"),
        }
    }

    /// Make a call from x0 and arguments.
    pub fn call(&mut self, values: &[u64]) -> Registers {
        self.call_registers(&registers(values))
    }

    /// Make a call from x0 and arguments on core `core` (MPIDR Aff0).
    #[allow(dead_code)]
    pub fn call_from(&mut self, core: usize, values: &[u64]) -> Registers {
        self.platform.now = self.platform.now.max(self.now);
        let outcome = self.world.handle_from_core(
            core,
            &registers(values),
            &mut self.memory,
            &mut self.platform,
        );
        self.now = self.platform.now;
        match outcome {
            Outcome::Return(result) => result,
            other => panic!("expected a return, got {other:?}"),
        }
    }

    /// Map a buffer pair at the default addresses.
    pub fn map(&mut self, page_count: u64) {
        let result = self.call(&[
            FFA_RXTX_MAP_64 as u64,
            TRANSMIT_ADDRESS,
            RECEIVE_ADDRESS,
            page_count,
        ]);
        expect_success(&result);
    }

    /// Read bytes of the test memory.
    pub fn read(&self, address: u64, length: usize) -> Vec<u8> {
        let start = (address - MEMORY_BASE) as usize;
        self.memory.bytes[start..start + length].to_vec()
    }
}

/// Assert the result is `FFA_ERROR` with `error`, encoded as real firmware does.
#[track_caller]
pub fn expect_error(result: &Registers, error: Status) {
    assert_eq!(result[0], FFA_ERROR as u64, "x0 of {result:x?}");
    assert_eq!(result[1], 0, "w1 of FFA_ERROR");
    assert_eq!(result[2], error.code() as u32 as u64, "w2 of {result:x?}");
    assert_eq!(&result[3..8], &[0; 5], "w3-w7 of FFA_ERROR");
}

/// Assert the result is `FFA_SUCCESS_32`.
#[track_caller]
pub fn expect_success(result: &Registers) {
    assert_eq!(result[0], FFA_SUCCESS_32 as u64, "x0 of {result:x?}");
}
