//! The proxy between a host and the project's FF-A secure-world model (`ffa-model`), as on QEMU but on the host.

use std::cell::{Cell, RefCell};

use ffa_model::mailbox::ReceiveOwner;
use ffa_model::{
    FaultConfig, MemoryError as ModelMemoryError, NormalWorldMemory, Outcome, PartitionInfoFault,
    SecureWorld,
};
use ffa_proxy::function as function_id;
use ffa_proxy::memory::{MemoryError, MemoryRange, ProxyLayout, ProxyMemory};
use ffa_proxy::{
    Disposition, FailureReason, FfaError, FinalisationStatus, FinalisationStep, Handled, Proxy,
    Refusal, Registers, Version, REGISTER_COUNT,
};

const MEMORY_BASE: u64 = 0x4000_0000;
const MEMORY_SIZE: usize = 4 << 20;
const CARVE_OUT: MemoryRange = MemoryRange::new(0x4010_0000, 0x1_0000);
const PROXY_TRANSMIT: u64 = 0x4010_0000;
const PROXY_RECEIVE: u64 = 0x4010_1000;
const HOST_TRANSMIT: u64 = 0x4020_0000;
const HOST_RECEIVE: u64 = 0x4020_1000;

/// Normal-world memory shared by the model (which writes the proxy's RX)
/// and the proxy (which copies into the host's RX).
struct Memory {
    bytes: RefCell<Vec<u8>>,
}

impl Memory {
    fn new() -> Memory {
        Memory {
            bytes: RefCell::new(vec![0xEE; MEMORY_SIZE]),
        }
    }

    fn offset(address: u64, length: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(address.checked_sub(MEMORY_BASE)?).ok()?;
        let end = start.checked_add(length)?;
        (end <= MEMORY_SIZE).then_some(start..end)
    }

    fn read(&self, address: u64, length: usize) -> Vec<u8> {
        self.bytes.borrow()[Memory::offset(address, length).unwrap()].to_vec()
    }
}

/// A view of [`Memory`] implementing both sides' traits.
struct View<'m>(&'m Memory);

impl NormalWorldMemory for View<'_> {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), ModelMemoryError> {
        let range = Memory::offset(address, destination.len()).ok_or(ModelMemoryError)?;
        destination.copy_from_slice(&self.0.bytes.borrow()[range]);
        Ok(())
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), ModelMemoryError> {
        let range = Memory::offset(address, source.len()).ok_or(ModelMemoryError)?;
        self.0.bytes.borrow_mut()[range].copy_from_slice(source);
        Ok(())
    }
}

impl ProxyMemory for View<'_> {
    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), MemoryError> {
        let from = Memory::offset(source, length).ok_or(MemoryError)?;
        let to = Memory::offset(destination, length).ok_or(MemoryError)?;
        self.0.bytes.borrow_mut().copy_within(from, to.start);
        Ok(())
    }
}

/// The machine: model, memory, proxy, and a clock for the readiness fault.
struct Machine {
    world: RefCell<SecureWorld>,
    memory: Memory,
    proxy: Proxy,
    now: Cell<u64>,
    /// Every call the monitor received, in order.
    monitor_calls: RefCell<Vec<Registers>>,
}

impl Machine {
    fn new(config: FaultConfig) -> Machine {
        Machine {
            world: RefCell::new(SecureWorld::new(config)),
            memory: Memory::new(),
            proxy: Proxy::new(),
            now: Cell::new(0),
            monitor_calls: RefCell::new(Vec::new()),
        }
    }

    /// An SMC that reaches the monitor (from the proxy, or from a host that
    /// is not trapped yet).
    fn monitor(&self, call: &Registers) -> Registers {
        self.monitor_calls.borrow_mut().push(*call);
        self.now.set(self.now.get() + 1_000);
        match self
            .world
            .borrow_mut()
            .handle(call, &mut View(&self.memory), self.now.get())
        {
            Outcome::Return(reply) => reply,
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    fn finalise(&mut self) -> FinalisationStatus {
        let layout = ProxyLayout::with_mailbox_in(
            MemoryRange::new(MEMORY_BASE, MEMORY_SIZE as u64),
            CARVE_OUT,
            [MemoryRange::EMPTY; 2],
        );
        self.proxy.start_finalisation(layout).unwrap();
        let mut status = self.proxy.status();
        let mut proxy = self.proxy;
        for _ in 0..64 {
            status = proxy.finalise_step(&mut |call| self.monitor(call));
            if !matches!(status, FinalisationStatus::InProgress { .. }) {
                break;
            }
        }
        self.proxy = proxy;
        status
    }

    /// An SMC of the host, trapped by the proxy.
    fn host(&mut self, values: &[u64]) -> (Registers, Disposition) {
        let mut call = [0u64; REGISTER_COUNT];
        call[..values.len()].copy_from_slice(values);
        let mut proxy = self.proxy;
        let outcome = proxy.handle_host_call(&call, &mut View(&self.memory), &mut |call| {
            self.monitor(call)
        });
        self.proxy = proxy;
        (outcome.reply, outcome.disposition)
    }
}

fn assert_success(reply: &Registers) {
    assert!(
        function_id::is_success(reply[0]),
        "not FFA_SUCCESS: {reply:x?}"
    );
}

fn assert_ffa_error(reply: &Registers, error: FfaError) {
    assert_eq!(reply[0], u64::from(function_id::FFA_ERROR), "{reply:x?}");
    assert_eq!(reply[2] as u32 as i32, error.code(), "{reply:x?}");
}

#[test]
fn discovery_and_echo_messaging_work_through_the_proxy() {
    let mut machine = Machine::new(FaultConfig::default_config());
    assert_eq!(
        machine.finalise(),
        FinalisationStatus::Finalised {
            version: Some(Version::V1_2)
        }
    );
    // The monitor holds the proxy's pair.
    let pair = machine.world.borrow().buffer_pair().unwrap();
    assert_eq!(
        (pair.transmit_address, pair.receive_address),
        (PROXY_TRANSMIT, PROXY_RECEIVE)
    );

    // The host's set-up, as the FF-A client does it.
    assert_eq!(
        machine.host(&[0x8000_0000]).0[0],
        0x0001_0002,
        "SMCCC_VERSION passes"
    );
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    assert_eq!(reply[0], 0x0001_0002);
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_ID_GET)]);
    assert_success(&reply);
    assert_eq!(reply[2], 0);
    assert_eq!(disposition, Disposition::PassedThrough);
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_FEATURES),
        u64::from(function_id::FFA_RXTX_MAP_64),
    ]);
    assert_success(&reply);
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_FEATURES),
        u64::from(function_id::FFA_MEM_SHARE_64),
    ]);
    assert_ffa_error(&reply, FfaError::NotSupported);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_RXTX_MAP_64),
        HOST_TRANSMIT,
        HOST_RECEIVE,
        1,
    ]);
    assert_success(&reply);
    assert!(matches!(
        disposition,
        Disposition::Handled(Handled::HostBuffersRecorded(_))
    ));
    let pair = machine.world.borrow().buffer_pair().unwrap();
    assert_eq!(
        pair.receive_address, PROXY_RECEIVE,
        "the host's map never reached the monitor"
    );

    // Discovery: count, then descriptors copied into the host's RX.
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        1,
    ]);
    assert_success(&reply);
    assert_eq!(reply[2], 3);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        0,
    ]);
    assert_success(&reply);
    assert_eq!((reply[2], reply[3]), (3, 24));
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::PartitionInfoCopied {
            count: 3,
            bytes: 72
        })
    );
    let host_rx = machine.memory.read(HOST_RECEIVE, 72);
    assert_eq!(host_rx, machine.memory.read(PROXY_RECEIVE, 72));
    let ids: Vec<u16> = host_rx
        .chunks(24)
        .map(|descriptor| u16::from_le_bytes([descriptor[0], descriptor[1]]))
        .collect();
    assert_eq!(ids, [0x8001, 0x8002, 0x8003]);
    assert_eq!(machine.world.borrow().receive_owner(), ReceiveOwner::Caller);
    // The host's RX_RELEASE passes through and frees the proxy's RX at the monitor.
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_RX_RELEASE)]);
    assert_success(&reply);
    assert_eq!(disposition, Disposition::PassedThrough);
    assert_eq!(
        machine.world.borrow().receive_owner(),
        ReceiveOwner::Producer
    );

    // Echo: a 32-bit and a 64-bit direct request to partition 0x8001.
    for function in [
        function_id::FFA_MSG_SEND_DIRECT_REQ_32,
        function_id::FFA_MSG_SEND_DIRECT_REQ_64,
    ] {
        let (reply, disposition) =
            machine.host(&[u64::from(function), 0x8001, 0, 11, 22, 33, 44, 55]);
        assert_eq!(disposition, Disposition::PassedThrough);
        assert_eq!(
            reply[0] as u32 & 0xFFFF,
            0x70,
            "a direct response: {reply:x?}"
        );
        assert_eq!(&reply[3..8], &[11, 22, 33, 44, 55]);
    }
    // Partition 0x8003 interrupts and yields; FFA_RUN passes through.
    let (mut reply, _) = machine.host(&[
        u64::from(function_id::FFA_MSG_SEND_DIRECT_REQ_32),
        0x8003,
        0,
        7,
    ]);
    for _ in 0..4 {
        if reply[0] as u32 & 0xFFFF == 0x70 {
            break;
        }
        reply = machine
            .host(&[u64::from(function_id::FFA_RUN), 0x8003 << 16])
            .0;
    }
    assert_eq!(reply[0] as u32 & 0xFFFF, 0x70);
    assert_eq!(reply[3], 7);

    // Unmap forgets the host's pair; the proxy's stays mapped at the monitor.
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_RXTX_UNMAP), 0]);
    assert_success(&reply);
    assert!(machine.world.borrow().buffer_pair().is_some());

    // In all of this, the monitor saw one RXTX_MAP: the proxy's.
    let maps: Vec<Registers> = machine
        .monitor_calls
        .borrow()
        .iter()
        .filter(|call| call[0] as u32 == function_id::FFA_RXTX_MAP_64)
        .copied()
        .collect();
    assert_eq!(maps.len(), 1);
    assert_eq!(&maps[0][1..4], &[PROXY_TRANSMIT, PROXY_RECEIVE, 1]);
}

#[test]
fn a_client_that_runs_before_finalisation_makes_it_fail_at_the_mailbox_map() {
    let mut machine = Machine::new(FaultConfig::default_config());
    // The seed's bug: the FF-A client sets up while SMCs are not trapped yet.
    let direct = |machine: &Machine, values: &[u64]| {
        let mut call = [0u64; REGISTER_COUNT];
        call[..values.len()].copy_from_slice(values);
        machine.monitor(&call)
    };
    assert_eq!(
        direct(
            &machine,
            &[u64::from(function_id::FFA_VERSION), 0x0001_0002]
        )[0],
        0x0001_0002
    );
    assert_success(&direct(&machine, &[u64::from(function_id::FFA_ID_GET)]));
    assert_success(&direct(
        &machine,
        &[
            u64::from(function_id::FFA_RXTX_MAP_64),
            HOST_TRANSMIT,
            HOST_RECEIVE,
            1,
        ],
    ));
    let status = machine.finalise();
    let FinalisationStatus::Failed(failure) = status else {
        panic!("expected failure, got {status:?}");
    };
    assert_eq!(failure.step, FinalisationStep::RxTxMap);
    assert_eq!(
        failure.reason,
        FailureReason::MonitorError(FfaError::Denied)
    );
    assert!(failure
        .explanation()
        .contains("mapped its own buffers before the proxy was finalised"));
    // Nothing is trapped: the host's calls are forwarded as they were.
    let (_, disposition) = machine.host(&[u64::from(function_id::FFA_ID_GET)]);
    assert_eq!(disposition, Disposition::Forwarded);
}

#[test]
fn a_client_that_fixed_another_version_first_makes_step_one_fail() {
    let mut machine = Machine::new(FaultConfig::default_config());
    let mut call = [0u64; REGISTER_COUNT];
    call[0] = u64::from(function_id::FFA_VERSION);
    call[1] = 0x0001_0001;
    machine.monitor(&call);
    call = [0u64; REGISTER_COUNT];
    call[0] = u64::from(function_id::FFA_ID_GET);
    machine.monitor(&call); // fixes v1.1 at the model
    let status = machine.finalise();
    let FinalisationStatus::Failed(failure) = status else {
        panic!("expected failure, got {status:?}");
    };
    assert_eq!(failure.step, FinalisationStep::Version);
    assert_eq!(failure.reason, FailureReason::VersionRefused);
}

#[test]
fn an_older_spmc_sets_the_version_and_descriptor_layout() {
    for (spmc, expected, descriptor_size) in
        [((1, 1), Version::V1_1, 24u64), ((1, 0), Version::V1_0, 8)]
    {
        let mut config = FaultConfig::default_config();
        config.spmc_version = spmc;
        let mut machine = Machine::new(config);
        assert_eq!(
            machine.finalise(),
            FinalisationStatus::Finalised {
                version: Some(expected)
            }
        );
        let (reply, _) = machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
        assert_eq!(reply[0], u64::from(expected.raw()));
        machine.host(&[
            u64::from(function_id::FFA_RXTX_MAP_64),
            HOST_TRANSMIT,
            HOST_RECEIVE,
            1,
        ]);
        let (reply, disposition) = machine.host(&[
            u64::from(function_id::FFA_PARTITION_INFO_GET),
            0,
            0,
            0,
            0,
            0,
        ]);
        assert_success(&reply);
        assert_eq!(
            disposition,
            Disposition::Handled(Handled::PartitionInfoCopied {
                count: 3,
                bytes: 3 * descriptor_size
            })
        );
        let bytes = (3 * descriptor_size) as usize;
        assert_eq!(
            machine.memory.read(HOST_RECEIVE, bytes),
            machine.memory.read(PROXY_RECEIVE, bytes)
        );
        // A downgrade is put to the monitor, which refuses it now the
        // version is fixed: so does the proxy.
        if expected == Version::V1_1 {
            let mut fresh = Machine::new(config);
            fresh.finalise();
            let (reply, disposition) =
                fresh.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0000]);
            assert_eq!(reply[0], u64::MAX);
            assert!(matches!(
                disposition,
                Disposition::Refused(Refusal::DowngradeRefusedByMonitor { .. })
            ));
        }
    }
}

#[test]
fn an_incompatible_spmc_fails_finalisation() {
    let mut config = FaultConfig::default_config();
    config.spmc_version = (2, 0);
    let mut machine = Machine::new(config);
    let status = machine.finalise();
    assert!(matches!(
        status,
        FinalisationStatus::Failed(failure)
            if failure.reason == FailureReason::IncompatibleVersion(Version::new(2, 0))
    ));
}

#[test]
fn without_ffa_the_proxy_finalises_and_answers_minus_one() {
    let mut config = FaultConfig::default_config();
    config.ffa_absent = true;
    let mut machine = Machine::new(config);
    assert_eq!(
        machine.finalise(),
        FinalisationStatus::Finalised { version: None }
    );
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    assert_eq!(reply[0], u64::MAX);
    assert_eq!(disposition, Disposition::Refused(Refusal::FfaUnavailable));
    let (reply, disposition) = machine.host(&[0x8400_0000]);
    assert_eq!(disposition, Disposition::Forwarded);
    assert_ne!(reply[0], u64::MAX, "PSCI_VERSION still answers");
}

#[test]
fn a_monitor_not_ready_at_first_is_retried() {
    let mut config = FaultConfig::default_config();
    config.not_ready_calls = 3;
    let mut machine = Machine::new(config);
    assert_eq!(
        machine.finalise(),
        FinalisationStatus::Finalised {
            version: Some(Version::V1_2)
        }
    );
    let versions = machine
        .monitor_calls
        .borrow()
        .iter()
        .filter(|call| call[0] as u32 == function_id::FFA_VERSION)
        .count();
    assert_eq!(versions, 4);
}

#[test]
fn a_denied_mailbox_map_is_reported() {
    let mut config = FaultConfig::default_config();
    config.deny_rxtx_map = true;
    let mut machine = Machine::new(config);
    assert!(matches!(
        machine.finalise(),
        FinalisationStatus::Failed(failure)
            if failure.step == FinalisationStep::RxTxMap
                && failure.reason == FailureReason::MonitorError(FfaError::Denied)
    ));
}

#[test]
fn an_overflowing_partition_count_is_aborted_and_the_rx_buffer_released() {
    let mut config = FaultConfig::default_config();
    config.partition_info_fault = PartitionInfoFault::HugeCount;
    let mut machine = Machine::new(config);
    machine.finalise();
    machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    machine.host(&[
        u64::from(function_id::FFA_RXTX_MAP_64),
        HOST_TRANSMIT,
        HOST_RECEIVE,
        1,
    ]);
    let before = machine.memory.read(HOST_RECEIVE, 64);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        0,
    ]);
    assert_ffa_error(&reply, FfaError::Aborted);
    assert!(matches!(
        disposition,
        Disposition::Refused(Refusal::PartitionInfoTooLarge { .. })
    ));
    assert_eq!(
        machine.memory.read(HOST_RECEIVE, 64),
        before,
        "nothing copied"
    );
    assert_eq!(
        machine.world.borrow().receive_owner(),
        ReceiveOwner::Producer
    );
    // So the next discovery is not stuck on BUSY.
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        1,
    ]);
    assert_success(&reply);
}
