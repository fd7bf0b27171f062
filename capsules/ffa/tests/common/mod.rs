//! Test harness: the FF-A model behind a conduit, and simulated shared memory seen by both worlds.
//!
//! [`PhysicalMemory`] holds the RX/TX pages at fixed physical addresses. The
//! capsule reaches them through [`SharedPage`] ([`SharedBuffer`]); the model
//! reaches the very same bytes through [`NormalWorldMemory`]. [`ModelConduit`]
//! hands each SMC to `ffa_model::SecureWorld` and can rewrite replies to
//! inject malformed answers. [`ScriptedConduit`] answers from a list of
//! hand-written register files.

#![allow(dead_code)]

use capsule_ffa::client::{ClientConfig, FfaClient};
use core::cell::{Cell, RefCell};
use ffa_model::{FaultConfig, MemoryError, NormalWorldMemory, Outcome, SecureWorld};
use kernel::hil::shared_memory::SharedBuffer;
use kernel::hil::smccc::{ConduitKind, SmcccConduit, SmcccRegisters};
use kernel::hil::time::{Alarm, AlarmClient, Time};
use kernel::ErrorCode;
use std::boxed::Box;
use std::collections::VecDeque;
use std::rc::Rc;
use std::vec::Vec;

/// Physical address of the RX buffer in tests.
pub const RX_ADDRESS: u64 = 0x4010_0000;
/// Physical address of the TX buffer in tests.
pub const TX_ADDRESS: u64 = 0x4020_0000;
/// Size of each buffer in tests.
pub const BUFFER_SIZE: usize = 64 * 1024;

/// Regions of simulated normal-world physical memory.
#[derive(Default)]
pub struct PhysicalMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl PhysicalMemory {
    pub fn add_region(&mut self, base: u64, size: usize) {
        self.regions.push((base, vec![0u8; size]));
    }

    fn locate(&self, address: u64, length: usize) -> Option<(usize, usize)> {
        self.regions
            .iter()
            .enumerate()
            .find_map(|(index, (base, bytes))| {
                let offset = address.checked_sub(*base)? as usize;
                (offset.checked_add(length)? <= bytes.len()).then_some((index, offset))
            })
    }
}

impl NormalWorldMemory for PhysicalMemory {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
        let (index, offset) = self.locate(address, destination.len()).ok_or(MemoryError)?;
        destination.copy_from_slice(&self.regions[index].1[offset..offset + destination.len()]);
        Ok(())
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError> {
        let (index, offset) = self.locate(address, source.len()).ok_or(MemoryError)?;
        self.regions[index].1[offset..offset + source.len()].copy_from_slice(source);
        Ok(())
    }
}

/// Memory shared between the capsule and the model.
pub type SharedMemory = Rc<RefCell<PhysicalMemory>>;

/// One buffer of shared memory, as the capsule sees it.
pub struct SharedPage {
    pub memory: SharedMemory,
    pub base: u64,
    pub length: usize,
}

impl SharedBuffer for SharedPage {
    fn physical_address(&self) -> u64 {
        self.base
    }

    fn len(&self) -> usize {
        self.length
    }

    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        if offset
            .checked_add(destination.len())
            .is_none_or(|end| end > self.length)
        {
            return Err(ErrorCode::SIZE);
        }
        self.memory
            .borrow()
            .read(self.base + offset as u64, destination)
            .map_err(|_| ErrorCode::FAIL)
    }

    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        if offset
            .checked_add(source.len())
            .is_none_or(|end| end > self.length)
        {
            return Err(ErrorCode::SIZE);
        }
        self.memory
            .borrow_mut()
            .write(self.base + offset as u64, source)
            .map_err(|_| ErrorCode::FAIL)
    }
}

/// A reply rewriter: given the call and the model's reply, returns the reply to hand back.
pub type Rewriter = Box<dyn FnMut(&SmcccRegisters, SmcccRegisters) -> SmcccRegisters>;

/// A conduit that hands every call to the FF-A model.
pub struct ModelConduit {
    pub world: RefCell<SecureWorld>,
    pub memory: SharedMemory,
    pub clock_us: Cell<u64>,
    pub calls: RefCell<Vec<SmcccRegisters>>,
    pub rewriter: RefCell<Option<Rewriter>>,
}

impl ModelConduit {
    pub fn new(config: FaultConfig, memory: SharedMemory) -> ModelConduit {
        ModelConduit {
            world: RefCell::new(SecureWorld::new(config)),
            memory,
            clock_us: Cell::new(0),
            calls: RefCell::new(Vec::new()),
            rewriter: RefCell::new(None),
        }
    }

    /// Rewrites every later reply with `rewriter`.
    pub fn rewrite(
        &self,
        rewriter: impl FnMut(&SmcccRegisters, SmcccRegisters) -> SmcccRegisters + 'static,
    ) {
        *self.rewriter.borrow_mut() = Some(Box::new(rewriter));
    }

    /// The function IDs (w0) of every call so far.
    pub fn functions(&self) -> Vec<u32> {
        self.calls
            .borrow()
            .iter()
            .map(|call| call.x[0] as u32)
            .collect()
    }

    /// How many calls used function `id`.
    pub fn count(&self, id: u32) -> usize {
        self.functions()
            .iter()
            .filter(|function| **function == id)
            .count()
    }

    pub fn clear_calls(&self) {
        self.calls.borrow_mut().clear();
    }
}

impl SmcccConduit for ModelConduit {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Smc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.calls.borrow_mut().push(*arguments);
        let outcome = {
            let mut memory = self.memory.borrow_mut();
            self.world
                .borrow_mut()
                .handle(&arguments.x, &mut *memory, self.clock_us.get())
        };
        let reply = match outcome {
            Outcome::Return(registers) => SmcccRegisters { x: registers },
            other => panic!("unexpected model outcome {other:?}"),
        };
        match self.rewriter.borrow_mut().as_mut() {
            Some(rewriter) => rewriter(arguments, reply),
            None => reply,
        }
    }
}

/// A conduit answering from a script of register files (and recording calls).
pub struct ScriptedConduit {
    pub replies: RefCell<VecDeque<SmcccRegisters>>,
    pub calls: RefCell<Vec<SmcccRegisters>>,
    /// Answered once the script runs out.
    pub fallback: SmcccRegisters,
}

impl ScriptedConduit {
    pub fn new(replies: &[&[u64]]) -> ScriptedConduit {
        ScriptedConduit {
            replies: RefCell::new(
                replies
                    .iter()
                    .map(|reply| SmcccRegisters::from_slice(reply))
                    .collect(),
            ),
            calls: RefCell::new(Vec::new()),
            fallback: SmcccRegisters::from_slice(&[u64::MAX]),
        }
    }

    pub fn functions(&self) -> Vec<u32> {
        self.calls
            .borrow()
            .iter()
            .map(|call| call.x[0] as u32)
            .collect()
    }
}

impl SmcccConduit for ScriptedConduit {
    fn kind(&self) -> ConduitKind {
        ConduitKind::Hvc
    }

    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
        self.calls.borrow_mut().push(*arguments);
        self.replies
            .borrow_mut()
            .pop_front()
            .unwrap_or(self.fallback)
    }
}

/// Leaks `value` for the `'static` references kernel components hold.
pub fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Two buffers of `size` bytes at the test addresses.
pub fn buffers(memory: &SharedMemory, size: usize) -> (&'static SharedPage, &'static SharedPage) {
    memory.borrow_mut().add_region(RX_ADDRESS, size);
    memory.borrow_mut().add_region(TX_ADDRESS, size);
    let rx = leak(SharedPage {
        memory: memory.clone(),
        base: RX_ADDRESS,
        length: size,
    });
    let tx = leak(SharedPage {
        memory: memory.clone(),
        base: TX_ADDRESS,
        length: size,
    });
    (rx, tx)
}

/// A model-backed client with 64 KiB buffers.
pub struct Fixture {
    pub conduit: &'static ModelConduit,
    pub client: &'static FfaClient<'static>,
    pub memory: SharedMemory,
}

pub fn fixture(config: FaultConfig, client_config: ClientConfig) -> Fixture {
    fixture_with_buffers(config, client_config, BUFFER_SIZE)
}

pub fn fixture_with_buffers(
    config: FaultConfig,
    client_config: ClientConfig,
    size: usize,
) -> Fixture {
    let memory: SharedMemory = Rc::new(RefCell::new(PhysicalMemory::default()));
    let (rx, tx) = buffers(&memory, size);
    let conduit = leak(ModelConduit::new(config, memory.clone()));
    let client = leak(FfaClient::new(conduit, rx, tx, client_config));
    Fixture {
        conduit,
        client,
        memory,
    }
}

/// A client over a scripted conduit, with 64 KiB buffers.
pub fn scripted(replies: &[&[u64]]) -> (&'static ScriptedConduit, &'static FfaClient<'static>) {
    let memory: SharedMemory = Rc::new(RefCell::new(PhysicalMemory::default()));
    let (rx, tx) = buffers(&memory, BUFFER_SIZE);
    let conduit = leak(ScriptedConduit::new(replies));
    (
        conduit,
        leak(FfaClient::new(conduit, rx, tx, ClientConfig::DEFAULT)),
    )
}

/// A manually advanced alarm: `fire()` delivers the alarm if it is due.
pub struct FakeAlarm {
    pub now: Cell<u64>,
    pub armed_at: Cell<Option<u64>>,
    pub client: Cell<Option<&'static dyn AlarmClient>>,
}

impl FakeAlarm {
    pub fn new() -> FakeAlarm {
        FakeAlarm {
            now: Cell::new(0),
            armed_at: Cell::new(None),
            client: Cell::new(None),
        }
    }

    /// Advances time to the armed instant and fires. Returns false if not armed.
    pub fn fire(&self) -> bool {
        let Some(at) = self.armed_at.take() else {
            return false;
        };
        self.now.set(self.now.get().max(at));
        if let Some(client) = self.client.get() {
            client.alarm();
        }
        true
    }
}

impl Time for FakeAlarm {
    fn frequency(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        self.now.get()
    }
}

impl Alarm<'static> for FakeAlarm {
    fn set_alarm_client(&self, client: &'static dyn AlarmClient) {
        self.client.set(Some(client));
    }

    fn set_alarm(&self, reference: u64, delta: u64) {
        self.armed_at.set(Some(reference.saturating_add(delta)));
    }

    fn get_alarm(&self) -> u64 {
        self.armed_at.get().unwrap_or(0)
    }

    fn disarm(&self) -> Result<(), ErrorCode> {
        self.armed_at.take().map(|_| ()).ok_or(ErrorCode::ALREADY)
    }

    fn is_armed(&self) -> bool {
        self.armed_at.get().is_some()
    }
}

/// Function IDs used in assertions.
pub mod ids {
    pub const SMCCC_VERSION: u32 = 0x8000_0000;
    pub const FFA_ERROR: u32 = 0x8400_0060;
    pub const FFA_SUCCESS_32: u32 = 0x8400_0061;
    pub const FFA_SUCCESS_64: u32 = 0xC400_0061;
    pub const FFA_INTERRUPT: u32 = 0x8400_0062;
    pub const FFA_VERSION: u32 = 0x8400_0063;
    pub const FFA_FEATURES: u32 = 0x8400_0064;
    pub const FFA_RX_RELEASE: u32 = 0x8400_0065;
    pub const FFA_RXTX_MAP_64: u32 = 0xC400_0066;
    pub const FFA_RXTX_UNMAP: u32 = 0x8400_0067;
    pub const FFA_PARTITION_INFO_GET: u32 = 0x8400_0068;
    pub const FFA_ID_GET: u32 = 0x8400_0069;
    pub const FFA_YIELD: u32 = 0x8400_006C;
    pub const FFA_RUN: u32 = 0x8400_006D;
    pub const FFA_DIRECT_REQ_32: u32 = 0x8400_006F;
    pub const FFA_DIRECT_REQ_64: u32 = 0xC400_006F;
    pub const FFA_DIRECT_RESP_32: u32 = 0x8400_0070;
    pub const FFA_DIRECT_RESP_64: u32 = 0xC400_0070;
    pub const FFA_PARTITION_INFO_GET_REGS: u32 = 0xC400_008B;
    pub const FFA_DIRECT_REQ2: u32 = 0xC400_008D;
    pub const FFA_DIRECT_RESP2: u32 = 0xC400_008E;
}
