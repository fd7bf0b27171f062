//! The whole chain on the host, against the model, shared by the chain's
//! test binaries (each has its own deferred-call table): readiness → the
//! FF-A root → the TPM driver (bound by UUID) → the TPM's bring-up →
//! measured boot, on the kernel's init queue, with the model's TPM
//! partition behind the CRB in simulated memory. The driver's service
//! calls go through the split-phase request engine, and the notification
//! service takes the schedule receiver interrupt, as on the board; the
//! host's main loop runs deferred calls, the queue, the alarm, the model's
//! interrupts and its secure timer on one clock.
#![allow(dead_code)]

use std::cell::Cell;

use capsule_ffa::bus::{DriverEntry, FfaBus, PartitionDriver};
use capsule_ffa::client::{ClientConfig, FfaClient};
use capsule_ffa::notifications::Notifications;
use capsule_ffa::requests::DirectRequests;
use capsule_tpm::driver::{Timing, TpmCrbFfa};
use capsule_tpm::measured_boot::MeasuredBoot;
use capsule_tpm::mux::{TpmMux, TpmUser};
use capsule_tpm::startup::{StartupConditions, TpmStartup};
use ffa_abi::tpm_service::QEMU_VIRT_CRB;
use ffa_model::tpm::config::TpmConfig;
use ffa_model::FaultConfig;
use kernel::deferred_call::DeferredCallClient;
use kernel::hil::image::{LoadedImage, Segment};
use kernel::hil::mmio_window::MmioWindow;
use kernel::hil::time::{Alarm, Time};
use kernel::hil::tpm::{Tpm, TpmClient};
use kernel::init_queue::{ConditionSet, EntryId, InitQueue, Queue as _};
use kernel::virtual_alarm::{MuxAlarm, VirtualAlarm};
use kernel::ErrorCode;
use sha2::{Digest, Sha256};
use testbed::{leak, HostInterruptLines, ManualAlarm, Memory, ModelMonitor, SharedPage};

pub type Queue = InitQueue<'static, 16, 16>;

/// The partitions the model hosts: each one is measured when discovered.
pub const PARTITIONS: usize = ffa_model::partition::HOSTED_PARTITIONS.len();
/// The events a healthy measured boot extends: the image's two segments,
/// every partition, and the separators of PCRs 0 and 1.
pub const EXTENDED: usize = 2 + PARTITIONS + 2;

/// A kernel image of two segments, in host memory.
pub struct FakeImage {
    pub text: Vec<u8>,
    pub rodata: Vec<u8>,
}

impl LoadedImage for FakeImage {
    fn segment_count(&self) -> usize {
        2
    }

    fn segment(&self, index: usize) -> Option<Segment> {
        match index {
            0 => Some(Segment {
                name: ".text",
                base: 0x6000_0000,
                length: self.text.len(),
            }),
            1 => Some(Segment {
                name: ".rodata",
                base: 0x6001_0000,
                length: self.rodata.len(),
            }),
            _ => None,
        }
    }

    fn read(&self, index: usize, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        let bytes = match index {
            0 => &self.text,
            1 => &self.rodata,
            _ => return Err(ErrorCode::INVAL),
        };
        let source = bytes
            .get(offset..offset + destination.len())
            .ok_or(ErrorCode::SIZE)?;
        destination.copy_from_slice(source);
        Ok(())
    }
}

pub fn image() -> FakeImage {
    FakeImage {
        text: (0..5000u32).map(|value| (value * 7) as u8).collect(),
        rodata: b"read-only data of the kernel".to_vec(),
    }
}

/// A CRB window that can hide the TPM's completion (CTRL_START stays set),
/// or show an interface ID that is not a CRB's (InterfaceType 0: FIFO).
pub struct StuckWindow {
    pub inner: &'static SharedPage,
    pub stuck: Cell<bool>,
    pub not_crb: Cell<bool>,
}

impl MmioWindow for StuckWindow {
    fn physical_address(&self) -> u64 {
        self.inner.physical_address()
    }
    fn len(&self) -> usize {
        MmioWindow::len(self.inner)
    }
    fn read_u32(&self, offset: usize) -> Result<u32, ErrorCode> {
        if self.stuck.get() && offset == ffa_abi::tpm_service::crb::CTRL_START {
            return Ok(1);
        }
        if self.not_crb.get() && offset % 0x1000 == ffa_abi::tpm_service::crb::INTF_ID {
            let interface = self.inner.read_u32(offset)?;
            return Ok(interface & !ffa_abi::tpm_service::crb::intf_id::TYPE_MASK);
        }
        self.inner.read_u32(offset)
    }
    fn write_u32(&self, offset: usize, value: u32) -> Result<(), ErrorCode> {
        self.inner.write_u32(offset, value)
    }
    fn read(&self, offset: usize, destination: &mut [u8]) -> Result<(), ErrorCode> {
        MmioWindow::read(self.inner, offset, destination)
    }
    fn write(&self, offset: usize, source: &[u8]) -> Result<(), ErrorCode> {
        MmioWindow::write(self.inner, offset, source)
    }
    fn fence(&self) {}
}

pub struct Board {
    pub monitor: &'static ModelMonitor,
    pub queue: &'static Queue,
    pub alarm: &'static ManualAlarm,
    pub lines: &'static HostInterruptLines,
    pub window: &'static StuckWindow,
    pub driver: &'static TpmCrbFfa<'static>,
    pub requests: &'static DirectRequests<'static, 8>,
    pub console: &'static TpmUser<'static>,
    pub startup: &'static TpmStartup<'static>,
    pub measured: &'static MeasuredBoot<'static>,
    pub monitor_ready: kernel::init_queue::ConditionId,
    pub tpm_entry: EntryId,
    pub measured_entry: EntryId,
    pub settled: &'static Cell<usize>,
}

struct SettleCounter(&'static Cell<usize>);

impl kernel::init_queue::InitQueueClient for SettleCounter {
    fn settled(&self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A board with the SPMC healthy and the client's defaults, booted, its
/// TPM partition as `tpm` says.
pub fn booted(tpm: TpmConfig) -> Board {
    let board = board(FaultConfig::default(), tpm, ClientConfig::DEFAULT);
    board.boot();
    board
}

pub fn board(config: FaultConfig, tpm: TpmConfig, client_config: ClientConfig) -> Board {
    let memory = Memory::new();
    let rx = leak(memory.page(0x4010_0000, 4096));
    let tx = leak(memory.page(0x4020_0000, 4096));
    let crb = leak(memory.page(QEMU_VIRT_CRB.base, QEMU_VIRT_CRB.size() as usize));
    let monitor = leak(ModelMonitor::new(config, memory.clone()));
    monitor.world_mut().configure_tpm(tpm);
    let client = leak(FfaClient::new(monitor, rx, tx, client_config));
    let queue: &'static Queue = leak(InitQueue::new());
    let settled = leak(Cell::new(0));
    queue.set_client(leak(SettleCounter(settled)));
    let monitor_ready = queue.declare_condition("secure-monitor-ready").unwrap();
    let root_ready = queue.declare_condition("ffa-root-ready").unwrap();
    let root_probed = queue.declare_condition("ffa-root-probed").unwrap();
    let transport_probed = queue.declare_condition("tpm-crb-ffa-probed").unwrap();
    let tpm_ready = queue.declare_condition("tpm-ready").unwrap();
    let tpm_probed = queue.declare_condition("tpm-probed").unwrap();
    let started = queue.declare_condition("tpm-started").unwrap();
    let done = queue.declare_condition("measured-boot-done").unwrap();
    let bus = leak(FfaBus::<'static, 8>::new(
        client,
        queue,
        ConditionSet::of(monitor_ready),
    ));
    bus.signal_on_outcome(root_probed);
    let alarm = leak(ManualAlarm::new());
    let mux: &'static MuxAlarm<'static, ManualAlarm> = leak(MuxAlarm::new(alarm));
    alarm.set_alarm_client(mux);
    let virtual_alarm = || -> &'static VirtualAlarm<'static, ManualAlarm> {
        let alarm = leak(VirtualAlarm::new(mux));
        alarm.setup();
        alarm
    };
    // The bus's split-phase requests and notification service, as
    // `components::ffa_async` builds them.
    let request_alarm = virtual_alarm();
    let requests: &'static DirectRequests<'static, 8> =
        leak(DirectRequests::new(*client.conduit(), request_alarm));
    request_alarm.set_alarm_client(requests);
    requests.register();
    requests.set_idle_client(bus);
    bus.set_requests(requests);
    let lines = leak(HostInterruptLines::new());
    let notifications: &'static Notifications<'static, 8> = leak(Notifications::new(
        client,
        lines,
        queue,
        root_probed,
        Box::leak(Box::new([0u8; 512])),
    ));
    notifications.setup();
    notifications.register();
    bus.set_notifications(notifications);
    let window = leak(StuckWindow {
        inner: crb,
        stuck: Cell::new(false),
        not_crb: Cell::new(false),
    });
    let driver: &'static TpmCrbFfa<'static> =
        leak(TpmCrbFfa::new(window, virtual_alarm(), Timing::LINUX));
    driver.setup();
    driver.register();
    let mux = leak(TpmMux::new(driver));
    driver.set_client(mux);
    kernel::deferred_call::DeferredCallClient::register(mux);
    let user = || {
        let user: &'static TpmUser<'static> = leak(TpmUser::new(mux));
        user.setup();
        user
    };
    let (startup_tpm, measured_tpm, console) = (user(), user(), user());
    let driver_entry = leak(DriverEntry::new(bus, driver, root_probed));
    driver_entry.signal_on_outcome(transport_probed);
    let startup = leak(TpmStartup::new(
        startup_tpm,
        queue,
        StartupConditions {
            transport_probed,
            started,
            probed: tpm_probed,
        },
        Box::leak(Box::new([0u8; 64])),
    ));
    startup_tpm.set_client(startup);
    let measured = leak(MeasuredBoot::new(
        measured_tpm,
        startup,
        queue,
        tpm_probed,
        done,
        Box::leak(Box::new([0u8; 4096])),
        Box::leak(Box::new([0u8; 512])),
    ));
    measured_tpm.set_client(measured);
    bus.set_discovery_observer(measured);
    // The board measures its image at set-up, long before any TPM.
    measured.measure_image(&image()).unwrap();
    // Worst order on purpose: the dependants first.
    let measured_entry = queue.add("measured-boot", measured, None).unwrap();
    let tpm_entry = queue.add("tpm", startup, Some(tpm_ready)).unwrap();
    let transport_entry = queue.add("tpm-crb-ffa", driver_entry, None).unwrap();
    startup.set_transport_entry(transport_entry);
    queue.add("arm-ffa", bus, Some(root_ready)).unwrap();
    queue.add("ffa-notifications", notifications, None).unwrap();
    Board {
        monitor,
        queue,
        alarm,
        lines,
        window,
        driver,
        requests,
        console,
        startup,
        measured,
        monitor_ready,
        tpm_entry,
        measured_entry,
        settled,
    }
}

impl Board {
    /// The main loop until idle: the model's secure timer and the
    /// interrupts it raised, deferred calls, the queue; then time moves to
    /// the next deadline (the kernel's alarm or the secure timer).
    pub fn run(&self) {
        for _ in 0..200_000 {
            let now = self.alarm.now();
            self.monitor.set_clock_us(now);
            let timer = self.monitor.machine().timer_us;
            if timer.is_some_and(|deadline| deadline <= now) {
                self.monitor.expire_secure_timer();
                continue;
            }
            let raised = self.monitor.take_interrupts();
            if !raised.is_empty() {
                self.lines.deliver(&raised);
                continue;
            }
            if testbed::deferred::run_pending() > 0 {
                continue;
            }
            if kernel::main_loop::LoopService::has_work(self.queue) {
                kernel::main_loop::LoopService::service(self.queue);
                continue;
            }
            match (self.alarm.armed_at(), timer) {
                (None, None) => return,
                (Some(alarm), Some(timer)) if timer < alarm => self.alarm.advance_to(timer),
                (Some(_), _) => {
                    self.alarm.fire();
                }
                (None, Some(timer)) => self.alarm.advance_to(timer),
            }
        }
        panic!("the board never went idle");
    }

    pub fn boot(&self) {
        self.run();
        assert_eq!(
            self.monitor.world().tpm().commands(),
            0,
            "nothing before the monitor"
        );
        self.queue.signal(self.monitor_ready);
        self.run();
    }

    pub fn pcr(&self, index: usize) -> [u8; 32] {
        self.monitor.world().tpm().engine().pcr(index).unwrap()
    }
}

pub fn extend(pcr: &mut [u8; 32], digest: &[u8]) {
    let mut hasher = Sha256::new();
    hasher.update(*pcr);
    hasher.update(digest);
    *pcr = hasher.finalize().into();
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// One TCG_PCR_EVENT2, decoded here from the bytes (little-endian).
#[derive(Debug)]
pub struct Decoded {
    pub pcr: u32,
    pub event_type: u32,
    pub digest: [u8; 32],
    pub data: Vec<u8>,
}

/// Decodes a crypto-agile log per the TCG PC Client PFP layout, refusing
/// anything else (as `tpm2_eventlog` would).
pub fn decode(log: &[u8]) -> Vec<Decoded> {
    let u32_at = |offset: usize| u32::from_le_bytes(log[offset..offset + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0, "Spec ID event in PCR 0");
    assert_eq!(u32_at(4), 3, "EV_NO_ACTION");
    assert_eq!(&log[8..28], &[0; 20], "zero SHA-1 digest");
    let size = u32_at(28) as usize;
    assert_eq!(size, 33);
    assert_eq!(&log[32..48], b"Spec ID Event03\0");
    assert_eq!(u32_at(48), 0, "platform class: client");
    assert_eq!(
        &log[52..56],
        &[0, 2, 2, 1],
        "spec 2.0 errata 2, uintnSize 1"
    );
    assert_eq!(u32_at(56), 1, "one algorithm");
    assert_eq!(&log[60..64], &[0x0B, 0x00, 0x20, 0x00], "SHA-256, 32 bytes");
    assert_eq!(log[64], 0, "no vendor data");
    let mut offset = 65;
    let mut events = Vec::new();
    while offset < log.len() {
        let pcr = u32_at(offset);
        let event_type = u32_at(offset + 4);
        assert_eq!(u32_at(offset + 8), 1, "one digest");
        assert_eq!(&log[offset + 12..offset + 14], &[0x0B, 0x00]);
        let digest: [u8; 32] = log[offset + 14..offset + 46].try_into().unwrap();
        let size = u32_at(offset + 46) as usize;
        let data = log[offset + 50..offset + 50 + size].to_vec();
        offset += 50 + size;
        events.push(Decoded {
            pcr,
            event_type,
            digest,
            data,
        });
    }
    assert_eq!(offset, log.len(), "no trailing bytes");
    events
}

pub fn board_with_root_down() -> Board {
    let board = board(
        FaultConfig {
            deny_rxtx_map: true,
            ..FaultConfig::default()
        },
        TpmConfig::healthy(),
        ClientConfig::DEFAULT,
    );
    board.boot();
    board
}

/// Records the completions it gets.
#[derive(Default)]
pub struct Recorder {
    pub completions: Cell<Vec<(usize, Result<(), ErrorCode>)>>,
}

impl TpmClient for Recorder {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        let mut completions = self.completions.take();
        completions.push((response_length, result));
        self.completions.set(completions);
        let _ = buffer;
    }
}
