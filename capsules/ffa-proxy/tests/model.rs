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

/// How many partitions the model hosts.
const PARTITIONS: usize = ffa_model::partition::HOSTED_PARTITIONS.len();
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
    /// The host's cores, as finalisation is told.
    host_cores: u16,
    stage2: std::cell::RefCell<testbed::el2::SimulatedStage2>,
}

impl Machine {
    fn new(config: FaultConfig) -> Machine {
        let memory = Memory::new();
        memory.add_region(MEMORY_BASE, MEMORY_SIZE);
        Machine {
            monitor: ModelMonitor::with_clock_step(config, memory, 1_000),
            proxy: Proxy::new(),
            trapping: Cell::new(false),
            host_cores: 4,
            stage2: Default::default(),
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
        self.proxy
            .start_finalisation(layout, self.host_cores)
            .unwrap();
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
        let mut services = ModelServices::new(&self.monitor, El2Memory::EMPTY, &self.trapping)
            .with_stage2(&self.stage2);
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
    assert_eq!(reply[2], PARTITIONS as u64);
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0,
        0,
        0,
        0,
        0,
    ]);
    assert_success(&reply);
    assert_eq!((reply[2], reply[3]), (PARTITIONS as u64, 24));
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::PartitionInfoCopied {
            count: PARTITIONS as u32,
            bytes: 24 * PARTITIONS as u64
        })
    );
    let host_rx = machine.memory().read(HOST_RECEIVE, 144);
    assert_eq!(host_rx, machine.memory().read(PROXY_RECEIVE, 144));
    let ids: Vec<u16> = host_rx
        .chunks(24)
        .map(|descriptor| u16::from_le_bytes([descriptor[0], descriptor[1]]))
        .collect();
    assert_eq!(ids, [0x8001, 0x8002, 0x8003, 0x8004, 0x8005, 0x8006]);
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
                count: PARTITIONS as u32,
                bytes: PARTITIONS as u64 * descriptor_size
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
                count: PARTITIONS as u32,
                bytes: PARTITIONS as u64 * descriptor_size
            })
        );
        let bytes = (PARTITIONS as u64 * descriptor_size) as usize;
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

/// A finalised machine whose v1.2 host has mapped its pair (so the proxy
/// made the host's notification bitmap).
fn host_with_mailbox() -> Machine {
    host_of_cores_with_mailbox(4)
}

/// [`host_with_mailbox`] for a host of `cores` cores.
fn host_of_cores_with_mailbox(cores: u16) -> Machine {
    let mut machine = Machine::new(FaultConfig::default_config());
    machine.host_cores = cores;
    machine.finalise();
    machine.host(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]);
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_RXTX_MAP_64),
        HOST_TRANSMIT,
        HOST_RECEIVE,
        1,
    ]);
    assert_success(&reply);
    machine
}

/// The host's `FFA_NOTIFICATION_GET` of its partitions' and the SPM's
/// notifications (vCPU 0).
fn host_get(machine: &mut Machine) -> (Registers, Disposition) {
    machine.host(&[u64::from(function_id::FFA_NOTIFICATION_GET), 0, 0b101])
}

/// A v1.2 message header: sender `sender`, receiver `receiver`, payload
/// of `size` bytes at `offset`.
fn message_header(offset: u32, sender: u16, receiver: u16, size: u32) -> [u8; 40] {
    let mut header = [0u8; 40];
    header[8..12].copy_from_slice(&offset.to_le_bytes());
    header[12..16].copy_from_slice(&(u32::from(sender) << 16 | u32::from(receiver)).to_le_bytes());
    header[16..20].copy_from_slice(&size.to_le_bytes());
    header
}

#[test]
fn the_host_binds_sets_and_gets_notifications_through_the_proxy_s_bitmap() {
    let mut machine = host_with_mailbox();
    let creations: Vec<Registers> = machine
        .monitor
        .calls()
        .iter()
        .filter(|call| call.x[0] as u32 == function_id::FFA_NOTIFICATION_BITMAP_CREATE)
        .map(|call| call.x)
        .collect();
    assert_eq!(creations.len(), 1, "made by the proxy with the host's pair");
    assert_eq!(&creations[0][1..3], &[0, 4], "VM 0, a vCPU per host core");
    // The host's own BITMAP_CREATE and RX_ACQUIRE are a hypervisor's calls.
    for refused in [
        function_id::FFA_NOTIFICATION_BITMAP_CREATE,
        function_id::FFA_RX_ACQUIRE,
    ] {
        let (reply, disposition) = machine.host(&[u64::from(refused), 0, 1]);
        assert_ffa_error(&reply, Status::NotSupported);
        assert_eq!(disposition, Disposition::Refused(Refusal::NotMediated));
    }

    // BIND ID 3 from the notifier (0x8004) to the host (0): passed on.
    let (reply, disposition) = machine.host(&[
        u64::from(function_id::FFA_NOTIFICATION_BIND),
        0x8004_0000,
        0,
        1 << 3,
        0,
    ]);
    assert_success(&reply);
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::NotificationForwarded {
            function: function_id::FFA_NOTIFICATION_BIND
        })
    );
    // Endpoints that are not the host's are refused before the monitor.
    let calls = machine.monitor.calls().len();
    for (function, w1) in [
        (function_id::FFA_NOTIFICATION_BIND, 0x8004_0001u64), // for VM 1
        (function_id::FFA_NOTIFICATION_BIND, 0x0001_0000),    // from a VM
        (function_id::FFA_NOTIFICATION_SET, 0x0001_8004),     // as VM 1
        (function_id::FFA_NOTIFICATION_SET, 0x0000_0001),     // to a VM
        (function_id::FFA_NOTIFICATION_GET, 0x0000_0002),     // VM 2's
    ] {
        let (reply, disposition) = machine.host(&[u64::from(function), w1, 0, 1 << 3, 0]);
        assert_ffa_error(&reply, Status::InvalidParameters);
        assert!(
            matches!(
                disposition,
                Disposition::Refused(Refusal::ForeignEndpoint(word, _)) if u64::from(word) == w1
            ),
            "{function:#x} {w1:#x}: {disposition:?}"
        );
    }
    assert_eq!(
        machine.monitor.calls().len(),
        calls,
        "none reached the monitor"
    );

    // SET ID 3 for the notifier: it sets ID 3 back for the host, the SRI
    // is raised, and GET returns it.
    let (reply, _) = machine.host(&[
        u64::from(function_id::FFA_NOTIFICATION_SET),
        0x0000_8004,
        0,
        1 << 3,
        0,
    ]);
    assert_success(&reply);
    assert!(machine.monitor.take_interrupts().contains(&8), "the SRI");
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_NOTIFICATION_INFO_GET_64)]);
    assert_success(&reply);
    let (reply, disposition) = host_get(&mut machine);
    assert_success(&reply);
    assert_eq!(reply[2], 1 << 3, "the partitions' bitmap");
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::NotificationForwarded {
            function: function_id::FFA_NOTIFICATION_GET
        })
    );

    // Unmapping the pair destroys the bitmap.
    machine.host(&[u64::from(function_id::FFA_RXTX_UNMAP), 0]);
    assert_eq!(
        machine
            .monitor
            .count(function_id::FFA_NOTIFICATION_BITMAP_DESTROY),
        1
    );
}

#[test]
fn msg_send2_is_copied_into_the_proxy_s_tx_and_the_echo_into_the_host_s_rx() {
    let mut machine = host_with_mailbox();
    let payload = b"through EL2";
    machine.memory().write(
        HOST_TRANSMIT,
        &message_header(40, 0, 0x8004, payload.len() as u32),
    );
    machine.memory().write(HOST_TRANSMIT + 40, payload);
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0, 0]);
    assert_success(&reply);
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::MessageSent {
            bytes: 40 + payload.len() as u64,
            monitor: ReplyKind::Success(ffa_abi::CallWidth::Bits32)
        })
    );
    // The monitor read the proxy's TX, which holds the host's message.
    assert_eq!(
        machine.memory().read(PROXY_TRANSMIT + 40, payload.len()),
        payload
    );
    // The notifier echoed it into the proxy's RX; GET announces it and the
    // proxy copies it into the host's.
    assert!(machine.monitor.take_interrupts().contains(&8));
    let (reply, disposition) = host_get(&mut machine);
    assert_success(&reply);
    assert_eq!(reply[6] & 1, 1, "RX buffer full, for the host");
    let bytes = 40 + payload.len() as u64;
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::MessageDelivered { bytes })
    );
    assert_eq!(
        machine.memory().read(HOST_RECEIVE, bytes as usize),
        machine.memory().read(PROXY_RECEIVE, bytes as usize)
    );
    assert_eq!(
        machine.memory().read(HOST_RECEIVE + 40, payload.len()),
        payload
    );
    // The host's release passes on and frees the proxy's RX at the monitor.
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_RX_RELEASE)]);
    assert_success(&reply);
    assert_eq!(
        machine.monitor.world().receive_owner(),
        ReceiveOwner::Producer
    );
}

#[test]
fn a_msg_send2_the_proxy_cannot_vouch_for_never_reaches_the_monitor() {
    let mut machine = host_with_mailbox();
    let sends = |machine: &Machine| machine.monitor.count(function_id::FFA_MSG_SEND2);
    // A sender in w1: a hypervisor's right.
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0x8004, 0]);
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::SenderNamed(0x8004))
    );
    for (header, why) in [
        (
            message_header(40, 5, 0x8004, 4),
            "a sender other than the host",
        ),
        (
            message_header(20, 0, 0x8004, 4),
            "a v1.1 offset from a v1.2 host",
        ),
        (
            message_header(40, 0, 0x8004, 4096),
            "past the end of the buffers",
        ),
        (
            message_header(u32::MAX, 0, 0x8004, 2),
            "an offset that overflows",
        ),
    ] {
        machine.memory().write(HOST_TRANSMIT, &header);
        let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0, 0]);
        assert_ffa_error(&reply, Status::InvalidParameters);
        assert!(
            matches!(
                disposition,
                Disposition::Refused(Refusal::MalformedMessage(_))
            ),
            "{why}: {disposition:?}"
        );
    }
    let mut flags = message_header(40, 0, 0x8004, 4);
    flags[0] = 1;
    machine.memory().write(HOST_TRANSMIT, &flags);
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0, 0]);
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(sends(&machine), 0);

    // Without the host's pair, there is nothing to copy from.
    machine.host(&[u64::from(function_id::FFA_RXTX_UNMAP), 0]);
    let (reply, disposition) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0, 0]);
    assert_ffa_error(&reply, Status::Denied);
    assert_eq!(disposition, Disposition::Refused(Refusal::NoHostBuffers));
}

#[test]
fn a_message_in_the_proxy_s_rx_that_does_not_pass_is_dropped_and_released() {
    let mut machine = host_with_mailbox();
    let payload = b"spoiled";
    machine.memory().write(
        HOST_TRANSMIT,
        &message_header(40, 0, 0x8004, payload.len() as u32),
    );
    machine.memory().write(HOST_TRANSMIT + 40, payload);
    let (reply, _) = machine.host(&[u64::from(function_id::FFA_MSG_SEND2), 0, 0]);
    assert_success(&reply);
    // The echo waits in the proxy's RX; make it claim to be for VM 3.
    machine
        .memory()
        .write(PROXY_RECEIVE + 12, &(0x8004_0003u32).to_le_bytes());
    let before = machine.memory().read(HOST_RECEIVE, 64);
    let (reply, disposition) = host_get(&mut machine);
    assert_success(&reply);
    assert_eq!(reply[6] & 1, 0, "hidden from the host");
    assert!(matches!(
        disposition,
        Disposition::Handled(Handled::MessageDropped(_))
    ));
    assert_eq!(
        machine.memory().read(HOST_RECEIVE, 64),
        before,
        "nothing copied"
    );
    assert_eq!(
        machine.monitor.world().receive_owner(),
        ReceiveOwner::Producer,
        "the proxy released its RX at the monitor"
    );
}

#[test]
fn the_host_s_bitmap_has_a_vcpu_per_host_core() {
    use ffa_abi::test_services::notifier;
    for (cores, vcpu_3_exists) in [(4u16, true), (1, false)] {
        let mut machine = host_of_cores_with_mailbox(cores);
        assert_eq!(machine.proxy.host_cores(), cores);
        let created = machine
            .monitor
            .calls()
            .iter()
            .find(|call| call.x[0] as u32 == function_id::FFA_NOTIFICATION_BITMAP_CREATE)
            .map(|call| call.x[2]);
        assert_eq!(created, Some(u64::from(cores)));
        // ID 40 from the notifier, per vCPU.
        let (reply, _) = machine.host(&[
            u64::from(function_id::FFA_NOTIFICATION_BIND),
            0x8004_0000,
            1,
            0,
            1 << 8,
        ]);
        assert_success(&reply);
        // The notifier sets it for vCPU 3: there is one only on 4 cores.
        let (reply, _) = machine.host(&[
            u64::from(function_id::FFA_MSG_SEND_DIRECT_REQ_32),
            0x8004,
            0,
            u64::from(notifier::NOTIFY_NOW),
            0,
            1 << 8,
            1 | 3 << 16,
        ]);
        assert_eq!(reply[0] as u32, function_id::FFA_MSG_SEND_DIRECT_RESP_32);
        let status = reply[4] as u32 as i32;
        if vcpu_3_exists {
            assert_eq!(status, 0, "{cores} cores");
        } else {
            assert_eq!(status, Status::InvalidParameters.code(), "{cores} cores");
        }
    }
}

/// Storage for a page-state table over the machine's memory.
fn page_states() -> &'static [std::sync::atomic::AtomicU8] {
    Box::leak(
        (0..capsule_ffa_proxy::ownership::storage_bytes(MEMORY_SIZE as u64))
            .map(|_| std::sync::atomic::AtomicU8::new(0))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// A descriptor in `version`'s layout: one receiver, 0x8001, one range of
/// `pages` at `address`; a share says Normal write-back (0x2f), a lend
/// leaves the attributes to the receiver.
fn memory_descriptor(version: Version, lend: bool, address: u64, pages: u32) -> Vec<u8> {
    let (array, size) = match version {
        Version::V1_0 => (32usize, 16usize),
        Version::V1_1 => (48, 16),
        _ => (48, 32),
    };
    let composite = array + size;
    let mut bytes = vec![0u8; composite + 32];
    bytes[2] = if lend { 0 } else { 0x2f };
    bytes[28] = 1;
    if version > Version::V1_0 {
        bytes[24] = size as u8;
        bytes[32] = 48;
    }
    bytes[array..array + 2].copy_from_slice(&0x8001u16.to_le_bytes());
    bytes[array + 2] = 0x02;
    bytes[array + 4] = composite as u8;
    bytes[composite..composite + 4].copy_from_slice(&pages.to_le_bytes());
    bytes[composite + 4] = 1;
    bytes[composite + 16..composite + 24].copy_from_slice(&address.to_le_bytes());
    bytes[composite + 24..composite + 28].copy_from_slice(&pages.to_le_bytes());
    bytes
}

/// Share, reclaim, share again, lend, reclaim, through the proxy, against
/// the model as each SPMC: the reclaim comes from the proxy's own record
/// (TF-A's EL3 SPMC and OP-TEE refuse the hypervisor retrieve request pKVM
/// sends first), and the pages are the host's again after each; and in
/// the v1.0 layout, from a v1.0 SPMC and from a v1.0 host of a v1.2 SPMC
/// (the `protected-mode-memory-spmc-v1.0` and `-caller-v1.0` scenarios).
#[test]
fn memory_goes_there_and_back_through_the_proxy_under_every_spmc() {
    use capsule_ffa_proxy::ownership::PageState;
    let v1_0_spmc = {
        let mut config = FaultConfig::default_config();
        config.spmc_version = (1, 0);
        config
    };
    for (personality, config, version) in [
        (
            "specification",
            FaultConfig::as_personality(Personality::Specification),
            Version::V1_2,
        ),
        (
            "TF-A's EL3 SPMC",
            FaultConfig::as_personality(Personality::TfAEl3Spmc),
            Version::V1_1,
        ),
        (
            "OP-TEE",
            FaultConfig::as_personality(Personality::OpTee),
            Version::V1_1,
        ),
        (
            "Hafnium",
            FaultConfig::as_personality(Personality::Hafnium),
            Version::V1_2,
        ),
        ("a v1.0 SPMC", v1_0_spmc, Version::V1_0),
        (
            "a v1.0 host of a v1.2 SPMC",
            FaultConfig::default_config(),
            Version::V1_0,
        ),
    ] {
        let mut machine = Machine::new(config);
        machine.proxy = Proxy::with_page_states(page_states());
        assert!(
            matches!(machine.finalise(), FinalisationStatus::Finalised { .. }),
            "{personality:?}"
        );
        let (reply, _) = machine.host(&[
            u64::from(function_id::FFA_VERSION),
            u64::from(version.raw()),
        ]);
        assert_eq!(reply[0] >> 16, 1, "{personality:?}");
        let (reply, _) = machine.host(&[
            u64::from(function_id::FFA_RXTX_MAP_64),
            HOST_TRANSMIT,
            HOST_RECEIVE,
            1,
        ]);
        assert_success(&reply);
        let page = MEMORY_BASE + 0x30_0000;
        for lend in [false, false, true] {
            let bytes = memory_descriptor(version, lend, page, 2);
            machine.memory().write(HOST_TRANSMIT, &bytes);
            let function = if lend {
                function_id::FFA_MEM_LEND_64
            } else {
                function_id::FFA_MEM_SHARE_64
            };
            let length = bytes.len() as u64;
            let (reply, disposition) = machine.host(&[u64::from(function), length, length]);
            assert!(
                ReplyKind::of(reply[0], reply[2]).is_success(),
                "{personality:?}, lend {lend}: {reply:x?} {disposition:?}"
            );
            assert!(
                matches!(disposition, Disposition::Handled(Handled::Memory(_))),
                "{personality:?}: {disposition:?}"
            );
            let state = machine.proxy.sharing().ownership().unwrap().state(page);
            let expected = if lend {
                PageState::LentToSecure
            } else {
                PageState::SharedWithSecure
            };
            assert_eq!(state, Ok(expected), "{personality:?}");
            let handle = (reply[2] & 0xFFFF_FFFF) | (reply[3] & 0xFFFF_FFFF) << 32;
            let (reply, _) = machine.host(&[
                u64::from(function_id::FFA_MEM_RECLAIM),
                handle & 0xFFFF_FFFF,
                handle >> 32,
            ]);
            assert_success(&reply);
            let state = machine
                .proxy
                .sharing()
                .ownership()
                .unwrap()
                .state(page + 0x1000);
            assert_eq!(state, Ok(PageState::Owned), "{personality:?}");
            assert_eq!(
                machine.stage2.borrow().access(page),
                kernel::hil::hypervisor::HostAccess::ReadWrite,
                "{personality:?}: mapped back"
            );
        }
        assert_eq!(machine.proxy.sharing().handles().count(), 0);
    }
}
