//! The proxy between a host and the project's FF-A secure-world model (`ffa-model`), as on QEMU but on the host.

use std::cell::Cell;

use capsule_ffa_proxy::function as function_id;
use capsule_ffa_proxy::memory::ProxyLayout;
use capsule_ffa_proxy::{
    Disposition, FailureReason, FinalisationStatus, FinalisationStep, Handled, Proxy, Refusal,
    Registers, REGISTER_COUNT,
};
use ffa_abi::{ReplyKind, Status, Version};
use ffa_model::mailbox::ReceiveOwner;
use ffa_model::{FaultConfig, PartitionInfoFault, Personality};
use kernel::hil::hypervisor::{El2Memory, MemoryRange};
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
use testbed::el2::ModelServices;
use testbed::{Memory, ModelMonitor};

const MEMORY_BASE: u64 = 0x4000_0000;
const MEMORY_SIZE: usize = 4 << 20;
const CARVE_OUT: MemoryRange = MemoryRange::new(0x4010_0000, 0x1_0000);
const PROXY_TRANSMIT: u64 = 0x4010_0000;
const PROXY_RECEIVE: u64 = 0x4010_1000;
const HOST_TRANSMIT: u64 = 0x4020_0000;
const HOST_RECEIVE: u64 = 0x4020_1000;

/// The machine: the model as the monitor (over memory it shares with the
/// proxy's copies, its clock advancing 1 ms a call, for the readiness
/// fault), and the proxy.
struct Machine {
    monitor: ModelMonitor,
    proxy: Proxy,
    trapping: Cell<bool>,
}

impl Machine {
    fn new(config: FaultConfig) -> Machine {
        let memory = Memory::new();
        memory.add_region(MEMORY_BASE, MEMORY_SIZE);
        Machine {
            monitor: ModelMonitor::with_clock_step(config, memory, 1_000),
            proxy: Proxy::new(),
            trapping: Cell::new(false),
        }
    }

    /// An SMC that reaches the monitor (from the proxy, or from a host that
    /// is not trapped yet).
    fn monitor(&self, call: &Registers) -> Registers {
        self.monitor.call(&SmcccRegisters { x: *call }).x
    }

    fn memory(&self) -> &Memory {
        self.monitor.memory()
    }

    fn finalise(&mut self) -> FinalisationStatus {
        let layout = ProxyLayout::with_mailbox_in(
            MemoryRange::new(MEMORY_BASE, MEMORY_SIZE as u64),
            CARVE_OUT,
            El2Memory::EMPTY,
        );
        self.proxy.start_finalisation(layout).unwrap();
        let mut status = self.proxy.status();
        let mut services = ModelServices::new(&self.monitor, El2Memory::EMPTY, &self.trapping);
        for _ in 0..64 {
            status = self.proxy.finalise_step(&mut services);
            if !matches!(status, FinalisationStatus::InProgress { .. }) {
                break;
            }
        }
        status
    }

    /// An SMC of the host, trapped by the proxy.
    fn host(&mut self, values: &[u64]) -> (Registers, Disposition) {
        let mut call = [0u64; REGISTER_COUNT];
        call[..values.len()].copy_from_slice(values);
        let mut services = ModelServices::new(&self.monitor, El2Memory::EMPTY, &self.trapping);
        let outcome = self.proxy.handle_host_call(&call, &mut services);
        (outcome.reply, outcome.disposition)
    }
}

fn assert_success(reply: &Registers) {
    assert!(
        ReplyKind::of(reply[0], reply[2]).is_success(),
        "not FFA_SUCCESS: {reply:x?}"
    );
}

fn assert_ffa_error(reply: &Registers, error: Status) {
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
    // Nothing but the version yet: no pair at the monitor.
    assert_eq!(machine.monitor.world().buffer_pair(), None);

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
    assert_ffa_error(&reply, Status::NotSupported);
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
    let pair = machine.monitor.world().buffer_pair().unwrap();
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
    let host_rx = machine.memory().read(HOST_RECEIVE, 72);
    assert_eq!(host_rx, machine.memory().read(PROXY_RECEIVE, 72));
    let ids: Vec<u16> = host_rx
        .chunks(24)
        .map(|descriptor| u16::from_le_bytes([descriptor[0], descriptor[1]]))
        .collect();
    assert_eq!(ids, [0x8001, 0x8002, 0x8003]);
    assert_eq!(
        machine.monitor.world().receive_owner(),
        ReceiveOwner::Caller
    );
    // The host's RX_RELEASE passes through and frees the proxy's RX at the monitor.
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_RX_RELEASE)]);
    assert_success(&reply);
    assert_eq!(disposition, Disposition::PassedThrough);
    assert_eq!(
        machine.monitor.world().receive_owner(),
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

    // Unmap forgets the host's pair, and unmaps the proxy's at the monitor.
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_RXTX_UNMAP), 0]);
    assert_success(&reply);
    assert_eq!(machine.monitor.world().buffer_pair(), None);

    // In all of this, the monitor saw one RXTX_MAP: the proxy's.
    let maps: Vec<Registers> = machine
        .monitor
        .calls()
        .iter()
        .filter(|call| call.x[0] as u32 == function_id::FFA_RXTX_MAP_64)
        .map(|call| call.x)
        .collect();
    assert_eq!(maps.len(), 1);
    assert_eq!(&maps[0][1..4], &[PROXY_TRANSMIT, PROXY_RECEIVE, 1]);
}

#[test]
fn a_client_that_runs_before_finalisation_makes_the_open_check_fail() {
    let mut machine = Machine::new(FaultConfig::default_config());
    // The order https://lore.kernel.org/all/20260505095409.1948371-3-yeoreum.yun@arm.com/
    // fixes (Linux's FF-A driver initialised before pKVM was finalised): the
    // FF-A client sets up while SMCs are not trapped yet.
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
    // The proxy's v1.2 is the client's, so accepted; v1.0 is not: fixed.
    assert_eq!(failure.step, FinalisationStep::OpenCheck);
    assert_eq!(failure.reason, FailureReason::VersionAlreadyFixed);
    assert!(failure
        .explanation()
        .contains("before the proxy was finalised"));
    // Nothing is trapped: the host's calls are forwarded as they were.
    let (_, disposition) = machine.host(&[u64::from(function_id::FFA_ID_GET)]);
    assert_eq!(disposition, Disposition::Forwarded);
}

#[test]
fn a_v1_0_or_v1_1_host_is_served_by_an_spmc_that_fixes_the_version() {
    // Hafnium refuses a version change after any other FF-A call: the proxy
    // makes none before the host's FFA_VERSION.
    for (requested, descriptor_size) in [(Version::V1_1, 48u64), (Version::V1_0, 8)] {
        let mut machine = Machine::new(FaultConfig::as_personality(Personality::Hafnium));
        assert_eq!(
            machine.finalise(),
            FinalisationStatus::Finalised {
                version: Some(Version::V1_2)
            }
        );
        let (reply, disposition) = machine.host(&[
            u64::from(function_id::FFA_VERSION),
            u64::from(requested.raw()),
        ]);
        assert_eq!(reply[0], u64::from(requested.raw()), "{disposition:?}");
        assert_eq!(machine.monitor.world().negotiated_version(), requested);
        assert_eq!(machine.proxy.host_version(), Some(requested));
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
    }
}

#[test]
fn the_proxy_pair_comes_and_goes_with_the_host_pair() {
    let mut machine = Machine::new(FaultConfig::default_config());
    machine.finalise();
    machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    let map = [
        u64::from(function_id::FFA_RXTX_MAP_64),
        HOST_TRANSMIT,
        HOST_RECEIVE,
        1,
    ];
    let info = [
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        0,
    ];
    assert_success(&machine.host(&map).0);
    // The host reads partition information and unmaps without releasing RX.
    assert_success(&machine.host(&info).0);
    assert_eq!(
        machine.monitor.world().receive_owner(),
        ReceiveOwner::Caller
    );
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_RXTX_UNMAP), 0]);
    assert_success(&reply);
    assert!(matches!(
        disposition,
        Disposition::Handled(Handled::HostBuffersForgotten {
            monitor: ReplyKind::Success(_)
        })
    ));
    assert_eq!(machine.monitor.world().buffer_pair(), None);
    // Mapped again, nothing is stale: discovery is not stuck on BUSY.
    assert_success(&machine.host(&map).0);
    assert_success(&machine.host(&info).0);
}

#[test]
fn a_denied_proxy_pair_is_the_host_s_answer() {
    let mut config = FaultConfig::default_config();
    config.deny_rxtx_map = true;
    let mut machine = Machine::new(config);
    assert!(matches!(
        machine.finalise(),
        FinalisationStatus::Finalised { .. }
    ));
    machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_RXTX_MAP_64),
        HOST_TRANSMIT,
        HOST_RECEIVE,
        1,
    ]);
    assert_ffa_error(&reply, Status::Denied);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::ProxyMailboxRefused(ReplyKind::Error(
            Status::Denied
        )))
    );
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
            machine.memory().read(HOST_RECEIVE, bytes),
            machine.memory().read(PROXY_RECEIVE, bytes)
        );
        // A downgrade is put to the monitor, whose version finalisation
        // left open: the proxy adopts it.
        if expected == Version::V1_1 {
            let mut fresh = Machine::new(config);
            fresh.finalise();
            let (reply, _) = fresh.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0000]);
            assert_eq!(reply[0], 0x0001_0000);
            assert_eq!(fresh.monitor.world().negotiated_version(), Version::V1_0);
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
    // Three NOT_READY answers, then the version and the open check.
    let versions = machine.monitor.count(function_id::FFA_VERSION);
    assert_eq!(versions, 5);
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
    let before = machine.memory().read(HOST_RECEIVE, 64);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        0,
    ]);
    assert_ffa_error(&reply, Status::Aborted);
    assert!(matches!(
        disposition,
        Disposition::Refused(Refusal::PartitionInfoTooLarge { .. })
    ));
    assert_eq!(
        machine.memory().read(HOST_RECEIVE, 64),
        before,
        "nothing copied"
    );
    assert_eq!(
        machine.monitor.world().receive_owner(),
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
