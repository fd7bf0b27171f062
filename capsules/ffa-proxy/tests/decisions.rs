//! Which host calls the proxy handles, forwards or refuses, and the version rules, against hand-written monitor replies.

use capsule_ffa_proxy::function::{self as function_id, Mediation};
use capsule_ffa_proxy::memory::ProxyLayout;
use capsule_ffa_proxy::{
    Disposition, FinalisationStatus, Handled, HostBuffers, Proxy, Refusal, Registers, SetUpProblem,
    StartError, REGISTER_COUNT,
};
use ffa_abi::{Status, Version};
use kernel::hil::hypervisor::{El2Memory, El2Services, MemoryRange};
use kernel::hil::smccc::SmcccRegisters;
use kernel::ErrorCode;

const HOST_MEMORY: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);
const CARVE_OUT: MemoryRange = MemoryRange::new(0x5fe0_0000, 0x1_0000);
const EL2_STACK: MemoryRange = MemoryRange::new(0x6010_0000, 0x4000);
const PROXY_TRANSMIT: u64 = 0x5fe0_0000;
const PROXY_RECEIVE: u64 = 0x5fe0_1000;
const HOST_TRANSMIT: u64 = 0x6020_0000;
const HOST_RECEIVE: u64 = 0x6020_1000;

/// EL2's image as the board's linker script lays it out: its code and
/// read-only data from the image's start, then its data, BSS and stack.
const EL2_CODE: MemoryRange = MemoryRange::new(0x6000_0000, 0x2_0000);

fn el2_memory() -> El2Memory {
    El2Memory::EMPTY
        .with(EL2_CODE)
        .and_then(|el2| el2.with(EL2_STACK))
        .unwrap()
}

fn layout() -> ProxyLayout {
    ProxyLayout::with_mailbox_in(HOST_MEMORY, CARVE_OUT, el2_memory())
}

fn call(values: &[u64]) -> Registers {
    let mut registers: Registers = core::array::from_fn(|index| 0x1000 + index as u64);
    registers[..values.len()].copy_from_slice(values);
    for register in registers.iter_mut().take(8).skip(values.len()) {
        *register = 0;
    }
    registers
}

fn function(id: u32) -> Registers {
    call(&[u64::from(id)])
}

/// A scripted monitor: answers by function ID and records every call; and
/// EL2's copies, recorded (or failed, when told to).
struct Monitor {
    calls: Vec<Registers>,
    /// Copies made: (destination, source, length).
    copies: Vec<(u64, u64, usize)>,
    fail_copies: bool,
    version: u32,
    partition_count: u32,
    descriptor_size: u32,
    /// `FFA_VERSION` answers -1 when asked for anything but this.
    accepts_only: Option<u32>,
    partition_info_error: Option<Status>,
}

impl Monitor {
    fn new() -> Monitor {
        Monitor {
            calls: Vec::new(),
            copies: Vec::new(),
            fail_copies: false,
            version: 0x0001_0002,
            partition_count: 3,
            descriptor_size: 24,
            accepts_only: None,
            partition_info_error: None,
        }
    }

    fn answer(&mut self, call: &Registers) -> Registers {
        self.calls.push(*call);
        let mut reply = [0u64; REGISTER_COUNT];
        let function = call[0] as u32;
        reply[0] = match function {
            function_id::FFA_VERSION => match self.accepts_only {
                Some(accepted) if accepted != call[1] as u32 => u64::MAX,
                _ => u64::from(self.version),
            },
            function_id::FFA_PARTITION_INFO_GET => match self.partition_info_error {
                Some(error) => {
                    reply[2] = error.register_value();
                    u64::from(function_id::FFA_ERROR)
                }
                None => {
                    reply[2] = u64::from(self.partition_count);
                    reply[3] = u64::from(self.descriptor_size);
                    u64::from(function_id::FFA_SUCCESS_32)
                }
            },
            function_id::FFA_ID_GET | function_id::FFA_FEATURES | function_id::FFA_RXTX_MAP_64 => {
                u64::from(function_id::FFA_SUCCESS_32)
            }
            _ if function_id::in_ffa_range(function) => {
                // A recognisable reply that uses every register.
                for (index, register) in reply.iter_mut().enumerate().skip(1) {
                    *register = 0xAB00 + index as u64;
                }
                u64::from(function_id::FFA_SUCCESS_32)
            }
            _ => 0x0001_0002, // SMCCC_VERSION 1.2, PSCI 1.2, ...
        };
        reply
    }

    fn functions(&self) -> Vec<u32> {
        self.calls.iter().map(|call| call[0] as u32).collect()
    }
}

impl El2Services for Monitor {
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        SmcccRegisters {
            x: self.answer(&call.x),
        }
    }

    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), ErrorCode> {
        if self.fail_copies {
            return Err(ErrorCode::INVAL);
        }
        self.copies.push((destination, source, length));
        Ok(())
    }

    fn trap_host_smcs(&mut self) {}

    fn el2_memory(&self) -> El2Memory {
        el2_memory()
    }
}

/// A monitor answering from a function: its copies fail.
struct Answering<F: FnMut(&Registers) -> Registers>(F);

impl<F: FnMut(&Registers) -> Registers> El2Services for Answering<F> {
    fn call_monitor(&mut self, call: &SmcccRegisters) -> SmcccRegisters {
        SmcccRegisters {
            x: (self.0)(&call.x),
        }
    }

    fn copy(&mut self, _: u64, _: u64, _: usize) -> Result<(), ErrorCode> {
        Err(ErrorCode::INVAL)
    }

    fn trap_host_smcs(&mut self) {}

    fn el2_memory(&self) -> El2Memory {
        el2_memory()
    }
}

fn finalised(monitor: &mut Monitor) -> Proxy {
    let mut proxy = Proxy::new();
    proxy.start_finalisation(layout(), 1).unwrap();
    for _ in 0..capsule_ffa_proxy::FinalisationStep::COUNT {
        proxy.finalise_step(monitor);
    }
    assert!(proxy.is_finalised(), "{:?}", proxy.status());
    monitor.calls.clear();
    proxy
}

fn handle(
    proxy: &mut Proxy,
    monitor: &mut Monitor,
    registers: &Registers,
) -> (Registers, Disposition) {
    let outcome = proxy.handle_host_call(registers, monitor);
    (outcome.reply, outcome.disposition)
}

fn negotiated(monitor: &mut Monitor) -> Proxy {
    let mut proxy = finalised(monitor);
    let (reply, _) = handle(
        &mut proxy,
        monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
    );
    assert_eq!(reply[0], 0x0001_0002);
    monitor.calls.clear();
    proxy
}

fn assert_ffa_error(reply: &Registers, error: Status) {
    assert_eq!(
        reply[0],
        u64::from(function_id::FFA_ERROR),
        "not FFA_ERROR: {reply:x?}"
    );
    assert_eq!(reply[2] as u32 as i32, error.code(), "{reply:x?}");
}

fn map(transmit: u64, receive: u64, pages: u64) -> Registers {
    call(&[
        u64::from(function_id::FFA_RXTX_MAP_64),
        transmit,
        receive,
        pages,
    ])
}

#[test]
fn finalisation_negotiates_the_version_and_nothing_else() {
    let mut monitor = Monitor::new();
    let mut proxy = Proxy::new();
    assert_eq!(proxy.status(), FinalisationStatus::NotStarted);
    proxy.start_finalisation(layout(), 1).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(proxy.finalise_step(&mut monitor));
    }
    assert!(matches!(statuses[0], FinalisationStatus::InProgress { .. }));
    assert_eq!(
        statuses[2],
        FinalisationStatus::Finalised {
            version: Some(Version::V1_2)
        }
    );
    // FFA_VERSION only: any other call would fix endpoint 0's version at an
    // SPMC that follows the specification, before the host asks for its own.
    assert_eq!(
        monitor.functions(),
        [function_id::FFA_VERSION, function_id::FFA_VERSION]
    );
    assert_eq!(monitor.calls[0][1], 0x0001_0002);
    assert_eq!(
        monitor.calls[1][1], 0x0001_0000,
        "is the version still open?"
    );
    assert!(
        !proxy.mailbox_mapped(),
        "mapped with the host's pair, not now"
    );
    // Further steps change nothing and call nothing.
    assert_eq!(
        proxy.finalise_step(&mut monitor),
        FinalisationStatus::Finalised {
            version: Some(Version::V1_2)
        }
    );
    assert_eq!(monitor.calls.len(), 2);
}

#[test]
fn the_version_is_settled_before_id_get_and_features_reach_the_monitor() {
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    let (reply, _) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
    );
    assert_eq!(reply[0], 0x0001_0002);
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_VERSION,
            function_id::FFA_ID_GET,
            function_id::FFA_FEATURES
        ]
    );
    assert_eq!(monitor.calls[0][1], 0x0001_0002, "the version set again");
    assert_eq!(monitor.calls[2][1], u64::from(function_id::FFA_RXTX_MAP_64));
}

#[test]
fn a_monitor_unusable_once_the_version_is_settled_is_refused_and_may_be_asked_again() {
    let problems = [
        (
            Status::Busy,
            0,
            SetUpProblem::CallFailed {
                function: function_id::FFA_ID_GET,
                answer: ffa_abi::ReplyKind::Error(Status::Busy),
            },
        ),
        (
            Status::NotSupported,
            7,
            SetUpProblem::UnexpectedEndpointId(7),
        ),
        (Status::NotSupported, 0, SetUpProblem::UnsupportedGranule(2)),
    ];
    for (index, (id_get_error, id, expected)) in problems.into_iter().enumerate() {
        let mut monitor = Monitor::new();
        let mut proxy = finalised(&mut monitor);
        let mut answers = Answering(move |call: &Registers| {
            let mut reply = [0u64; REGISTER_COUNT];
            reply[0] = match call[0] as u32 {
                function_id::FFA_VERSION => 0x0001_0002,
                function_id::FFA_ID_GET if index == 0 => {
                    reply[2] = id_get_error.register_value();
                    u64::from(function_id::FFA_ERROR)
                }
                function_id::FFA_ID_GET => {
                    reply[2] = id;
                    u64::from(function_id::FFA_SUCCESS_32)
                }
                _ => {
                    reply[2] = 2; // a 16 KiB granule
                    u64::from(function_id::FFA_SUCCESS_32)
                }
            };
            reply
        });
        let outcome = proxy.handle_host_call(
            &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
            &mut answers,
        );
        assert_eq!(outcome.reply[0], u64::MAX);
        assert_eq!(
            outcome.disposition,
            Disposition::Refused(Refusal::MonitorSetUpFailed(expected))
        );
        assert_eq!(proxy.host_version(), None);
    }
    // A monitor that answers after all: the host's second FFA_VERSION negotiates.
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    let (reply, _) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
    );
    assert_eq!(reply[0], 0x0001_0002);
}

#[test]
fn finalisation_starts_once_and_only_with_a_sound_layout() {
    let mut proxy = Proxy::new();
    let mut bad = layout();
    bad.mailbox.receive = bad.mailbox.transmit;
    assert!(matches!(
        proxy.start_finalisation(bad, 1),
        Err(StartError::Layout(_))
    ));
    for cores in [0, 9] {
        assert_eq!(
            proxy.start_finalisation(layout(), cores),
            Err(StartError::HostCores(cores)),
            "a host of {cores} cores"
        );
    }
    proxy.start_finalisation(layout(), 8).unwrap();
    assert_eq!(proxy.host_cores(), 8);
    assert_eq!(
        proxy.start_finalisation(layout(), 1),
        Err(StartError::AlreadyStarted)
    );
}

#[test]
fn before_finalisation_everything_is_forwarded_unchanged() {
    let mut monitor = Monitor::new();
    let mut proxy = Proxy::new();
    for registers in [
        function(function_id::FFA_ID_GET),
        map(0x1, 0x2, 99),
        function(0x8400_0000),
    ] {
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_eq!(disposition, Disposition::Forwarded);
        assert_eq!(monitor.calls.last(), Some(&registers));
        assert_ne!(reply[0], u64::from(function_id::FFA_ERROR));
    }
}

#[test]
fn non_ffa_calls_are_forwarded_unchanged_after_finalisation() {
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    for id in [
        0x8000_0000u32,
        0x8400_0000,
        0x8400_0008,
        0x8400_00F0,
        0xC200_0001,
        0x0400_0063,
    ] {
        let registers = call(&[u64::from(id), 1, 2, 3]);
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_eq!(disposition, Disposition::Forwarded, "{id:#x}");
        assert_eq!(monitor.calls.last(), Some(&registers));
        assert_eq!(reply[0], 0x0001_0002);
    }
}

#[test]
fn ffa_calls_before_version_negotiation_get_invalid_parameters() {
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    for id in [
        function_id::FFA_ID_GET,
        function_id::FFA_FEATURES,
        function_id::FFA_RXTX_MAP_64,
        function_id::FFA_RXTX_MAP_32,
        function_id::FFA_PARTITION_INFO_GET,
        function_id::FFA_MSG_SEND_DIRECT_REQ_32,
        function_id::FFA_MEM_SHARE_64,
    ] {
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &function(id));
        assert_ffa_error(&reply, Status::InvalidParameters);
        assert_eq!(
            disposition,
            Disposition::Refused(Refusal::VersionNotNegotiated)
        );
    }
    assert!(monitor.calls.is_empty(), "nothing reaches the monitor");
    assert_eq!(proxy.host_version(), None);
}

#[test]
fn version_rules_follow_pkvm() {
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    let version = |proxy: &mut Proxy, monitor: &mut Monitor, requested: u64| {
        handle(
            proxy,
            monitor,
            &call(&[u64::from(function_id::FFA_VERSION), requested]),
        )
    };
    // Incompatible majors and bit 31: NOT_SUPPORTED (x0 = -1), nothing negotiated.
    for requested in [0x0002_0000, 0x0000_0009, 0x8001_0002] {
        let (reply, disposition) = version(&mut proxy, &mut monitor, requested);
        assert_eq!(reply[0], u64::MAX);
        assert!(matches!(
            disposition,
            Disposition::Refused(Refusal::IncompatibleVersion(_))
        ));
    }
    assert_eq!(proxy.host_version(), None);
    // A newer minor gets the proxy's version and negotiates.
    let (reply, disposition) = version(&mut proxy, &mut monitor, 0x0001_0005);
    assert_eq!(reply[0], 0x0001_0002);
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::VersionNegotiated {
            requested: Version::new(1, 5),
            answered: Version::V1_2
        })
    );
    assert_eq!(proxy.host_version(), Some(Version::V1_2));
    monitor.calls.clear();
    // After negotiation: same or newer is answered, older is refused.
    assert_eq!(
        version(&mut proxy, &mut monitor, 0x0001_0002).0[0],
        0x0001_0002
    );
    assert_eq!(
        version(&mut proxy, &mut monitor, 0x0001_0003).0[0],
        0x0001_0002
    );
    let (reply, disposition) = version(&mut proxy, &mut monitor, 0x0001_0001);
    assert_eq!(reply[0], u64::MAX);
    assert!(matches!(
        disposition,
        Disposition::Refused(Refusal::DowngradeAfterNegotiation { .. })
    ));
    assert!(
        monitor.calls.is_empty(),
        "after negotiation the monitor is not asked again"
    );
}

#[test]
fn a_downgrade_before_negotiation_is_put_to_the_monitor() {
    // The monitor accepts v1.1: the proxy adopts it.
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    let (reply, _) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0001]),
    );
    assert_eq!(reply[0], 0x0001_0001);
    assert_eq!(monitor.functions()[0], function_id::FFA_VERSION);
    assert_eq!(monitor.calls[0][1], 0x0001_0001);
    assert_eq!(proxy.host_version(), Some(Version::V1_1));

    // The monitor refuses v1.0 (its version is fixed): so does the proxy.
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    monitor.accepts_only = Some(0x0001_0002);
    let (reply, disposition) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0000]),
    );
    assert_eq!(reply[0], u64::MAX);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::VersionRefusedByMonitor {
            requested: Version::V1_0
        })
    );
    assert_eq!(proxy.host_version(), None);
    // The host may still negotiate the proxy's version.
    let (reply, _) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
    );
    assert_eq!(reply[0], 0x0001_0002);
}

#[test]
fn pass_through_calls_reach_the_monitor_unchanged_and_come_back_unchanged() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    for id in [
        function_id::FFA_ID_GET,
        function_id::FFA_RX_RELEASE,
        function_id::FFA_MSG_SEND_DIRECT_REQ_32,
        function_id::FFA_MSG_SEND_DIRECT_REQ_64,
        function_id::FFA_RUN,
        function_id::FFA_SPM_ID_GET,
    ] {
        assert_eq!(function_id::mediation(id), Mediation::PassedThrough);
        let registers = call(&[u64::from(id), 0x8001, 0, 1, 2, 3, 4, 5, 6]);
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_eq!(disposition, Disposition::PassedThrough);
        assert_eq!(monitor.calls.last(), Some(&registers));
        assert_eq!(
            reply,
            monitor.answer(&registers),
            "the monitor's x0–x17 are returned"
        );
    }
}

#[test]
fn calls_the_proxy_does_not_mediate_get_not_supported() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    for id in [
        function_id::FFA_RXTX_MAP_32,
        function_id::FFA_MEM_SHARE_32,
        function_id::FFA_MEM_SHARE_64,
        function_id::FFA_MEM_LEND_64,
        function_id::FFA_MEM_DONATE_64,
        function_id::FFA_MEM_RECLAIM,
        function_id::FFA_MEM_FRAG_TX,
        function_id::FFA_MSG_SEND_DIRECT_REQ2,
        function_id::FFA_MSG_SEND_DIRECT_RESP_32,
        function_id::FFA_PARTITION_INFO_GET_REGS,
        function_id::FFA_NOTIFICATION_BITMAP_CREATE,
        function_id::FFA_NOTIFICATION_BITMAP_DESTROY,
        function_id::FFA_CONSOLE_LOG_64,
        function_id::FFA_MSG_WAIT,
        function_id::FFA_RX_ACQUIRE,
        0x8400_00E0,
    ] {
        let registers = call(&[u64::from(id), HOST_TRANSMIT, HOST_RECEIVE, 1]);
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_ffa_error(&reply, Status::NotSupported);
        assert_eq!(
            disposition,
            Disposition::Refused(Refusal::NotMediated),
            "{id:#x}"
        );
        assert_eq!(&reply[8..], &registers[8..], "x8–x17 preserved");
    }
    assert!(monitor.calls.is_empty());
    assert_eq!(
        proxy.host_buffers(),
        None,
        "the 32-bit map recorded nothing"
    );
}

#[test]
fn features_are_filtered() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    let features = |proxy: &mut Proxy, monitor: &mut Monitor, queried: u32| {
        handle(
            proxy,
            monitor,
            &call(&[u64::from(function_id::FFA_FEATURES), u64::from(queried)]),
        )
    };
    for queried in [
        function_id::FFA_MEM_SHARE_64,
        function_id::FFA_MEM_LEND_64,
        function_id::FFA_MSG_SEND_DIRECT_REQ2,
        function_id::FFA_PARTITION_INFO_GET_REGS,
        function_id::FFA_RXTX_MAP_32,
        function_id::FFA_NOTIFICATION_BITMAP_CREATE,
        function_id::FFA_RX_ACQUIRE,
        1,
        3,
    ] {
        let (reply, disposition) = features(&mut proxy, &mut monitor, queried);
        assert_ffa_error(&reply, Status::NotSupported);
        assert_eq!(
            disposition,
            Disposition::Handled(Handled::FeaturesFiltered { queried })
        );
    }
    assert!(monitor.calls.is_empty());
    for queried in [
        function_id::FFA_RXTX_MAP_64,
        function_id::FFA_MSG_SEND_DIRECT_REQ_32,
        function_id::FFA_PARTITION_INFO_GET,
        function_id::FFA_NOTIFICATION_BIND,
        function_id::FFA_MSG_SEND2,
        2,
        0x8000_0000,
    ] {
        let (reply, disposition) = features(&mut proxy, &mut monitor, queried);
        assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32));
        assert_eq!(
            disposition,
            Disposition::Handled(Handled::FeaturesForwarded { queried })
        );
        assert_eq!(monitor.calls.last().unwrap()[1], u64::from(queried));
    }
}

#[test]
fn the_host_pair_is_recorded_once_and_the_proxy_pair_mapped_with_it() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    assert!(!proxy.mailbox_mapped());
    let (reply, disposition) = handle(
        &mut proxy,
        &mut monitor,
        &map(HOST_TRANSMIT, HOST_RECEIVE, 1),
    );
    assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32));
    let recorded = HostBuffers {
        transmit: HOST_TRANSMIT,
        receive: HOST_RECEIVE,
        page_count: 1,
    };
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::HostBuffersRecorded(recorded))
    );
    assert_eq!(proxy.host_buffers(), Some(recorded));
    // The monitor got the proxy's pair, never the host's, and the host's
    // notification bitmap (a v1.2 host) was asked for.
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_RXTX_MAP_64,
            function_id::FFA_NOTIFICATION_BITMAP_CREATE
        ]
    );
    assert_eq!(&monitor.calls[1][1..3], &[0, 1], "VM 0, one vCPU");
    assert_eq!(&monitor.calls[0][1..4], &[PROXY_TRANSMIT, PROXY_RECEIVE, 1]);
    assert!(proxy.mailbox_mapped());
    monitor.calls.clear();
    // Twice: DENIED, and the first pair stays.
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &map(0x6030_0000, 0x6030_1000, 1));
    assert_ffa_error(&reply, Status::Denied);
    assert_eq!(disposition, Disposition::Refused(Refusal::AlreadyMapped));
    assert_eq!(proxy.host_buffers(), Some(recorded));
    assert!(monitor.calls.is_empty());
    // Unmap (the proxy's pair too, at the monitor), then map again.
    let unmap = |id: u64| call(&[u64::from(function_id::FFA_RXTX_UNMAP), id]);
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &unmap(0x0001_0000));
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::NonZeroEndpointId(0x0001_0000))
    );
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &unmap(0));
    assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32));
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::HostBuffersForgotten {
            monitor: ffa_abi::ReplyKind::Success(ffa_abi::CallWidth::Bits32)
        })
    );
    // The host's bitmap goes with the proxy's pair.
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_NOTIFICATION_BITMAP_DESTROY,
            function_id::FFA_RXTX_UNMAP
        ]
    );
    assert_eq!(monitor.calls[1][1], 0, "endpoint 0's pair");
    assert!(!proxy.mailbox_mapped());
    assert!(!proxy.host_bitmap());
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &unmap(0));
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(disposition, Disposition::Refused(Refusal::NothingMapped));
    monitor.calls.clear();
    let (reply, _) = handle(&mut proxy, &mut monitor, &map(0x6030_0000, 0x6030_2000, 2));
    assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32));
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_RXTX_MAP_64,
            function_id::FFA_NOTIFICATION_BITMAP_CREATE
        ]
    );
    assert_eq!(&monitor.calls[0][1..4], &[PROXY_TRANSMIT, PROXY_RECEIVE, 1]);
}

#[test]
fn a_refused_proxy_pair_is_reported_with_the_monitor_s_answer() {
    for (answer, host_error) in [
        (Status::Denied, Status::Denied),
        (Status::NoMemory, Status::NoMemory),
    ] {
        let mut monitor = Monitor::new();
        let mut proxy = negotiated(&mut monitor);
        let mut refusing = Answering(move |call: &Registers| {
            let mut reply = [0u64; REGISTER_COUNT];
            reply[0] = u64::from(function_id::FFA_ERROR);
            reply[2] = answer.register_value();
            assert_eq!(call[0] as u32, function_id::FFA_RXTX_MAP_64);
            reply
        });
        let outcome = proxy.handle_host_call(&map(HOST_TRANSMIT, HOST_RECEIVE, 1), &mut refusing);
        assert_ffa_error(&outcome.reply, host_error);
        let refusal = Refusal::ProxyMailboxRefused(ffa_abi::ReplyKind::Error(answer));
        assert_eq!(outcome.disposition, Disposition::Refused(refusal));
        // What happened, not a guess at an FF-A client that ran early.
        let explanation = refusal.explanation().unwrap();
        assert!(explanation.contains("the monitor refused the proxy's own RX/TX pair"));
        assert!(!explanation.contains("client"), "{explanation}");
        assert_eq!(proxy.host_buffers(), None);
        assert!(!proxy.mailbox_mapped());
    }
}

#[test]
fn the_sve_hint_is_not_part_of_a_function_id() {
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    let hint = u64::from(function_id::SVE_HINT);
    let (reply, disposition) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION) | hint, 0x0001_0002]),
    );
    assert_eq!(reply[0], 0x0001_0002, "{disposition:?}");
    assert!(matches!(
        disposition,
        Disposition::Handled(Handled::VersionNegotiated { .. })
    ));
    let (reply, disposition) = handle(
        &mut proxy,
        &mut monitor,
        &call(&[
            u64::from(function_id::FFA_RXTX_MAP_64) | hint,
            HOST_TRANSMIT,
            HOST_RECEIVE,
            1,
        ]),
    );
    assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32));
    assert!(matches!(
        disposition,
        Disposition::Handled(Handled::HostBuffersRecorded(_))
    ));
    // Passed through as the host made it: the monitor masks the hint itself.
    monitor.calls.clear();
    let (_, disposition) = handle(
        &mut proxy,
        &mut monitor,
        &function(function_id::FFA_ID_GET | 1 << 16),
    );
    assert_eq!(disposition, Disposition::PassedThrough);
    assert_eq!(
        monitor.calls[0][0],
        u64::from(function_id::FFA_ID_GET | 1 << 16)
    );
}

#[test]
fn the_host_may_not_name_el2_s_image_exactly_as_the_issue_reproduced_it() {
    // FFA_VERSION(1.2), FFA_RXTX_MAP_64(TX = 0x6000_f000, RX = 0x6000_2000, 1),
    // FFA_PARTITION_INFO_GET: accepted before, the copy overwrote EL2's
    // exception-entry code and EL2 died on the way back.
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &map(0x6000_f000, 0x6000_2000, 1));
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::BufferInEl2Memory(0x6000_f000))
    );
    assert!(
        monitor.calls.is_empty(),
        "not even the proxy's pair is mapped"
    );
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &partition_info(0));
    assert_ffa_error(&reply, Status::Busy);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::NoHostReceiveBuffer)
    );
    assert!(monitor.copies.is_empty(), "EL2 copied nothing");
    // Each of EL2's ranges, as the runtime reports them, and their edges.
    for (transmit, receive, refused) in [
        (0x6001_f000, HOST_RECEIVE, Some(0x6001_f000)),
        (
            HOST_TRANSMIT,
            EL2_STACK.base + 0x3000,
            Some(EL2_STACK.base + 0x3000),
        ),
        (0x6002_0000, HOST_RECEIVE, None),
    ] {
        let mut monitor = Monitor::new();
        let mut proxy = negotiated(&mut monitor);
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &map(transmit, receive, 1));
        match refused {
            Some(address) => {
                assert_ffa_error(&reply, Status::InvalidParameters);
                assert_eq!(
                    disposition,
                    Disposition::Refused(Refusal::BufferInEl2Memory(address))
                );
            }
            None => assert_eq!(reply[0], u64::from(function_id::FFA_SUCCESS_32)),
        }
    }
}

#[test]
fn bad_host_pairs_are_refused_with_invalid_parameters() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    let cases = [
        (
            map(HOST_TRANSMIT, HOST_RECEIVE, 0),
            Refusal::InvalidPageCount(0),
        ),
        (
            map(HOST_TRANSMIT, HOST_RECEIVE, 64),
            Refusal::InvalidPageCount(64),
        ),
        (
            map(HOST_TRANSMIT, HOST_RECEIVE, 0x101),
            Refusal::InvalidPageCount(0x101),
        ),
        (
            map(HOST_TRANSMIT + 8, HOST_RECEIVE, 1),
            Refusal::BufferNotPageAligned(HOST_TRANSMIT + 8),
        ),
        (map(0, HOST_RECEIVE, 1), Refusal::BufferNotPageAligned(0)),
        (
            map(HOST_TRANSMIT, 0x1000, 1),
            Refusal::BufferOutsideHostMemory(0x1000),
        ),
        (
            map(HOST_TRANSMIT, 0x7fff_f000, 2),
            Refusal::BufferOutsideHostMemory(0x7fff_f000),
        ),
        (
            map(PROXY_TRANSMIT, HOST_RECEIVE, 1),
            Refusal::BufferInProxyMemory(PROXY_TRANSMIT),
        ),
        (
            map(HOST_TRANSMIT, PROXY_RECEIVE, 1),
            Refusal::BufferInProxyMemory(PROXY_RECEIVE),
        ),
        (
            map(HOST_TRANSMIT, 0x5fe0_8000, 1),
            Refusal::BufferInProxyMemory(0x5fe0_8000),
        ),
        (
            map(0x6010_2000, HOST_RECEIVE, 1),
            Refusal::BufferInEl2Memory(0x6010_2000),
        ),
        (
            map(HOST_TRANSMIT, HOST_TRANSMIT + 0x1000, 2),
            Refusal::BuffersOverlap,
        ),
        (
            map(HOST_TRANSMIT, HOST_TRANSMIT, 1),
            Refusal::BuffersOverlap,
        ),
    ];
    for (registers, refusal) in cases {
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_ffa_error(&reply, Status::InvalidParameters);
        assert_eq!(disposition, Disposition::Refused(refusal));
    }
    assert_eq!(proxy.host_buffers(), None);
    assert!(monitor.calls.is_empty());
}

fn partition_info(flags: u64) -> Registers {
    call(&[
        u64::from(function_id::FFA_PARTITION_INFO_GET),
        0xFFFF_FFFF_0000_0001,
        2,
        3,
        4,
        flags,
    ])
}

#[test]
fn partition_information_is_copied_from_the_proxy_rx_into_the_host_rx() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    // No host RX yet: BUSY, and the monitor is not asked.
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &partition_info(0));
    assert_ffa_error(&reply, Status::Busy);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::NoHostReceiveBuffer)
    );
    assert!(monitor.calls.is_empty());

    handle(
        &mut proxy,
        &mut monitor,
        &map(HOST_TRANSMIT, HOST_RECEIVE, 1),
    );
    monitor.copies.clear();
    monitor.calls.clear();
    let outcome = proxy.handle_host_call(&partition_info(0), &mut monitor);
    assert_eq!(outcome.reply[0], u64::from(function_id::FFA_SUCCESS_32));
    assert_eq!((outcome.reply[2], outcome.reply[3]), (3, 24));
    assert_eq!(
        outcome.disposition,
        Disposition::Handled(Handled::PartitionInfoCopied {
            count: 3,
            bytes: 72
        })
    );
    assert_eq!(monitor.copies, [(HOST_RECEIVE, PROXY_RECEIVE, 72)]);
    // The forwarded call carries the UUID and flags as 32-bit words only.
    assert_eq!(
        &monitor.calls[0][..6],
        &[
            u64::from(function_id::FFA_PARTITION_INFO_GET),
            1,
            2,
            3,
            4,
            0
        ]
    );
    assert_eq!(monitor.calls[0][6..], [0; 12]);

    // Count only: nothing copied.
    monitor.copies.clear();
    let outcome = proxy.handle_host_call(&partition_info(1), &mut monitor);
    assert_eq!(
        outcome.disposition,
        Disposition::Handled(Handled::PartitionInfoAnswered)
    );
    assert!(monitor.copies.is_empty());

    // The monitor's error goes back unchanged.
    monitor.partition_info_error = Some(Status::InvalidParameters);
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &partition_info(0));
    assert_ffa_error(&reply, Status::InvalidParameters);
    assert_eq!(
        disposition,
        Disposition::Handled(Handled::PartitionInfoAnswered)
    );
}

#[test]
fn too_much_partition_information_is_aborted_and_the_proxy_rx_released() {
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    handle(&mut proxy, &mut monitor, &map(0x6030_0000, 0x6030_4000, 4));
    monitor.calls.clear();
    monitor.partition_count = 0x0100_0000;
    let (reply, disposition) = handle(&mut proxy, &mut monitor, &partition_info(0));
    assert_ffa_error(&reply, Status::Aborted);
    assert_eq!(
        disposition,
        Disposition::Refused(Refusal::PartitionInfoTooLarge {
            bytes: 0x0100_0000 * 24
        })
    );
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_PARTITION_INFO_GET,
            function_id::FFA_RX_RELEASE
        ]
    );
    // 170 descriptors of 24 bytes (4080 bytes) fit the proxy's one page; 171 do not.
    monitor.calls.clear();
    monitor.partition_count = 170;
    assert!(matches!(
        handle(&mut proxy, &mut monitor, &partition_info(0)).1,
        Disposition::Handled(_)
    ));
    monitor.partition_count = 171;
    assert!(matches!(
        handle(&mut proxy, &mut monitor, &partition_info(0)).1,
        Disposition::Refused(_)
    ));

    // A failed copy also releases the proxy's RX.
    monitor.calls.clear();
    monitor.partition_count = 3;
    monitor.fail_copies = true;
    let outcome = proxy.handle_host_call(&partition_info(0), &mut monitor);
    assert_ffa_error(&outcome.reply, Status::Aborted);
    assert_eq!(
        outcome.disposition,
        Disposition::Refused(Refusal::CopyFailed)
    );
    assert_eq!(
        monitor.functions(),
        [
            function_id::FFA_PARTITION_INFO_GET,
            function_id::FFA_RX_RELEASE
        ]
    );
}

#[test]
fn at_v1_0_descriptors_are_eight_bytes_and_flags_are_not_read() {
    let mut monitor = Monitor::new();
    monitor.version = 0x0001_0000;
    let mut proxy = finalised(&mut monitor);
    handle(
        &mut proxy,
        &mut monitor,
        &call(&[u64::from(function_id::FFA_VERSION), 0x0001_0002]),
    );
    assert_eq!(proxy.host_version(), Some(Version::V1_0));
    handle(
        &mut proxy,
        &mut monitor,
        &map(HOST_TRANSMIT, HOST_RECEIVE, 1),
    );
    monitor.descriptor_size = 0; // v1.0 has no size in w3
    monitor.copies.clear();
    let outcome = proxy.handle_host_call(&partition_info(1), &mut monitor);
    assert_eq!(
        outcome.disposition,
        Disposition::Handled(Handled::PartitionInfoCopied {
            count: 3,
            bytes: 24
        })
    );
    assert_eq!(monitor.copies, [(HOST_RECEIVE, PROXY_RECEIVE, 24)]);
}

#[test]
fn without_ffa_at_the_monitor_every_ffa_call_gets_minus_one() {
    let mut monitor = Monitor::new();
    monitor.version = u32::MAX;
    let mut proxy = Proxy::new();
    proxy.start_finalisation(layout(), 1).unwrap();
    // VERSION and ID_GET both answer -1 (the scripted monitor answers
    // SUCCESS to ID_GET, so use a monitor without any FF-A).
    let mut no_ffa = Answering(|call: &Registers| {
        let mut reply = [0u64; REGISTER_COUNT];
        reply[0] = if function_id::in_ffa_range(call[0] as u32) {
            u64::MAX
        } else {
            0x0001_0002
        };
        reply
    });
    let mut status = proxy.status();
    for _ in 0..3 {
        status = proxy.finalise_step(&mut no_ffa);
    }
    assert_eq!(status, FinalisationStatus::Finalised { version: None });
    for id in [
        function_id::FFA_VERSION,
        function_id::FFA_ID_GET,
        function_id::FFA_RXTX_MAP_64,
    ] {
        let outcome = proxy.handle_host_call(&call(&[u64::from(id), 0x0001_0002]), &mut no_ffa);
        assert_eq!(outcome.reply[0], u64::MAX);
        assert_eq!(
            outcome.disposition,
            Disposition::Refused(Refusal::FfaUnavailable)
        );
    }
    let outcome = proxy.handle_host_call(&function(0x8400_0000), &mut no_ffa);
    assert_eq!(outcome.disposition, Disposition::Forwarded);
    assert_eq!(outcome.reply[0], 0x0001_0002);
}

#[test]
fn a_failed_finalisation_traps_nothing() {
    let mut proxy = Proxy::new();
    proxy.start_finalisation(layout(), 1).unwrap();
    // An FF-A client fixed v1.2 before the proxy: v1.0 is refused.
    let mut fixed = Answering(|call: &Registers| {
        let mut reply = [0u64; REGISTER_COUNT];
        match call[0] as u32 {
            function_id::FFA_VERSION if call[1] == 0x0001_0002 => reply[0] = 0x0001_0002,
            function_id::FFA_VERSION => reply[0] = u64::MAX,
            _ => reply[0] = u64::from(function_id::FFA_SUCCESS_32),
        }
        reply
    });
    let mut status = proxy.status();
    for _ in 0..4 {
        status = proxy.finalise_step(&mut fixed);
    }
    let FinalisationStatus::Failed(failure) = status else {
        panic!("expected failure, got {status:?}");
    };
    assert_eq!(failure.step, capsule_ffa_proxy::FinalisationStep::OpenCheck);
    assert!(!proxy.is_finalised());
    let outcome = proxy.handle_host_call(&function(function_id::FFA_ID_GET), &mut fixed);
    assert_eq!(outcome.disposition, Disposition::Forwarded);
    assert_eq!(proxy.finalise_step(&mut fixed), status, "failure is final");
}

#[test]
fn arbitrary_host_input_never_panics_and_never_reaches_proxy_memory() {
    let interesting = [
        u64::MAX,
        0,
        PROXY_TRANSMIT,
        PROXY_RECEIVE,
        HOST_TRANSMIT,
        HOST_RECEIVE,
        0x6010_2000,
        0xFFFF_FFFF_FFFF_F000,
        63,
        64,
        0x0001_0001,
    ];
    let mut random = testbed::Random::new(0x9E37_79B9_7F4A_7C15);
    let mut monitor = Monitor::new();
    let mut proxy = finalised(&mut monitor);
    for round in 0u32..20_000 {
        let mut registers = [0u64; REGISTER_COUNT];
        let ffa_number = 0x60 + random.next() % 0x90;
        registers[0] = match random.next() % 4 {
            0 => random.next(),
            1 => 0x8400_0000 | ffa_number,
            2 => 0xC400_0000 | ffa_number,
            _ => u64::from(function_id::FFA_VERSION),
        };
        for register in registers.iter_mut().skip(1) {
            *register = if random.next().is_multiple_of(2) {
                interesting[(random.next() % interesting.len() as u64) as usize]
            } else {
                random.next()
            };
        }
        if round.is_multiple_of(1000) {
            monitor.partition_count = (random.next() % 400) as u32;
        }
        monitor.copies.clear();
        let outcome = proxy.handle_host_call(&registers, &mut monitor);
        for (destination, _, length) in monitor.copies.drain(..) {
            let host = proxy.host_buffers().expect("copies need a host pair");
            assert_eq!(destination, host.receive);
            assert!(length as u64 <= host.size().min(4096));
        }
        if let Some(buffers) = proxy.host_buffers() {
            for address in [buffers.transmit, buffers.receive] {
                let range = MemoryRange::new(address, buffers.size());
                assert!(!range.overlaps(&CARVE_OUT) && !el2_memory().overlaps(&range));
                assert!(HOST_MEMORY.contains(&range));
            }
        }
        if let Disposition::Refused(refusal) = outcome.disposition {
            assert!(
                outcome.reply[0] == u64::MAX
                    || outcome.reply[2] as u32 as i32 == refusal.error().code()
            );
        }
        monitor.calls.clear();
    }
}

#[test]
fn secondary_entry_point_registration_is_a_secure_world_call_and_is_refused() {
    // FFA_SECONDARY_EP_REGISTER lets a partition (or an S-EL1 SPMC) name
    // where its execution contexts start on a new core; TF-A refuses it to
    // the normal world and pKVM forwards it untouched. The proxy does not
    // mediate it: NOT_SUPPORTED, and the monitor never sees it.
    let mut monitor = Monitor::new();
    let mut proxy = negotiated(&mut monitor);
    for id in [
        function_id::FFA_SECONDARY_EP_REGISTER_32,
        function_id::FFA_SECONDARY_EP_REGISTER_64,
    ] {
        let registers = call(&[u64::from(id), 0x6000_0000]);
        let (reply, disposition) = handle(&mut proxy, &mut monitor, &registers);
        assert_ffa_error(&reply, Status::NotSupported);
        assert_eq!(disposition, Disposition::Refused(Refusal::NotMediated));
    }
    assert!(monitor.calls.is_empty());
}
