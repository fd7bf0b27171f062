//! The TPM partition: the TPM 2.0 against known answers computed
//! independently (Python's hashlib, written down in the test), the DEN0138
//! service over every direct-request form, the CRB, the faults, and
//! property tests that no command or call makes it panic.

mod common;

use common::{expect_error, registers, TestPlatform, MEMORY_BASE, MEMORY_SIZE};
use ffa_abi::tpm_service::{crb, function, ServiceStatus, QEMU_VIRT_CRB, TPM_SERVICE_UUID};
use ffa_abi::{Status, Version};
use ffa_model::function_id::*;
use ffa_model::tpm::config::{MalformedResponse, TpmConfig};
use ffa_model::tpm::engine::{response_code, Tpm2};
use ffa_model::tpm::TPM_PARTITION_ID;
use ffa_model::{FaultConfig, MemoryError, NormalWorldMemory, Outcome, Registers, SecureWorld};
use proptest::prelude::*;

/// `hex` as bytes.
fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
        .collect()
}

/// A healthy TPM whose commands complete within `START`.
fn in_start() -> TpmConfig {
    TpmConfig {
        background_microseconds: 0,
        ..TpmConfig::healthy()
    }
}

/// SHA-256("abc"), as FIPS 180-2 gives it.
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn execute(tpm: &mut Tpm2, command: &[u8]) -> Vec<u8> {
    let mut response = [0u8; 4096];
    let length = tpm.execute(command, 0, &mut response);
    response[..length].to_vec()
}

fn started() -> Tpm2 {
    let mut tpm = Tpm2::new();
    assert_eq!(
        execute(&mut tpm, &hex("8001 0000000c 00000144 0000")),
        hex("8001 0000000a 00000000")
    );
    tpm
}

/// PCR_Extend of `pcr` with one SHA-256 digest, as the notes spell it out.
fn extend_command(pcr: u32, digest: &[u8]) -> Vec<u8> {
    let mut command = hex("8002 00000041 00000182");
    command.extend_from_slice(&pcr.to_be_bytes());
    command.extend_from_slice(&hex("00000009 40000009 0000 00 0000 00000001 000b"));
    command.extend_from_slice(digest);
    command
}

fn read_pcr(tpm: &mut Tpm2, pcr: usize) -> Vec<u8> {
    let mut select = [0u8; 3];
    select[pcr / 8] = 1 << (pcr % 8);
    let mut command = hex("8001 00000014 0000017e 00000001 000b 03");
    command.extend_from_slice(&select);
    let response = execute(tpm, &command);
    assert_eq!(&response[6..10], &[0; 4], "PCR_Read succeeds");
    // header, update counter, the selection (4 + 2 + 1 + 3), digest count, TPM2B size.
    assert_eq!(&response[24..28], &[0, 0, 0, 1]);
    assert_eq!(&response[28..30], &[0, 32]);
    response[30..62].to_vec()
}

#[test]
fn extends_match_independently_computed_answers() {
    let mut tpm = started();
    let abc = hex(SHA256_ABC);
    assert_eq!(
        execute(&mut tpm, &extend_command(0, &abc)),
        hex("8002 00000013 00000000 00000000 0000 01 0000"),
        "the 19-byte response of the notes (continueSession echoed)"
    );
    assert_eq!(
        read_pcr(&mut tpm, 0),
        hex("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d")
    );
    execute(&mut tpm, &extend_command(0, &abc));
    assert_eq!(
        read_pcr(&mut tpm, 0),
        hex("bdeb6c6dc63852834c89f67066194207ce7d3806ea40ca58dc079246ef58a926")
    );
    execute(&mut tpm, &extend_command(10, &[0; 32]));
    assert_eq!(
        read_pcr(&mut tpm, 10),
        hex("f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b")
    );
    let separator = hex("df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119");
    execute(&mut tpm, &extend_command(7, &separator));
    assert_eq!(
        read_pcr(&mut tpm, 7),
        hex("3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969")
    );
    let empty = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    execute(&mut tpm, &extend_command(23, &empty));
    assert_eq!(
        read_pcr(&mut tpm, 23),
        hex("1c9ecec90e28d2461650418635878a5c91e49f47586ecf75f2b0cbb94e897112")
    );
    assert_eq!(
        read_pcr(&mut tpm, 17),
        vec![0xFF; 32],
        "DRTM PCRs start at ones"
    );
    assert_eq!(tpm.update_counter(), 5);
}

#[test]
fn the_notes_pcr_read_command_reads_pcr_0() {
    let mut tpm = started();
    let response = execute(
        &mut tpm,
        &hex("8001 00000014 0000017E 00000001 000B 03 010000"),
    );
    assert_eq!(
        &response[..10],
        hex("8001 0000003e 00000000").as_slice(),
        "10 + 4 + 10 + 4 + 2 + 32 bytes"
    );
    assert_eq!(&response[14..24], hex("00000001 000b 03 010000").as_slice());
    assert_eq!(&response[24..28], hex("00000001").as_slice());
}

#[test]
fn capabilities_report_the_sha256_bank_and_properties() {
    let mut tpm = started();
    let response = execute(
        &mut tpm,
        &hex("8001 00000016 0000017a 00000005 00000000 00000001"),
    );
    assert_eq!(
        response,
        hex("8001 00000019 00000000 00 00000005 00000001 000b 03 ffffff")
    );
    let response = execute(
        &mut tpm,
        &hex("8001 00000016 0000017a 00000006 00000105 00000002"),
    );
    assert_eq!(
        response,
        hex("8001 00000023 00000000 01 00000006 00000002 00000105 4646414d 00000106 4d4f4445")
    );
    let response = execute(
        &mut tpm,
        &hex("8001 00000016 0000017a 00000001 00000000 00000001"),
    );
    assert_eq!(
        &response[6..10],
        &0x1C4u32.to_be_bytes(),
        "VALUE on parameter 1"
    );
}

#[test]
fn get_random_is_the_documented_drbg() {
    use sha2::{Digest, Sha256};
    let mut tpm = started();
    let response = execute(&mut tpm, &hex("8001 0000000c 0000017b 0040"));
    assert_eq!(&response[10..12], &[0, 32], "at most one digest's worth");
    let mut first = Sha256::new();
    first.update(b"ffa-model TPM2_GetRandom DRBG v1");
    first.update(0u64.to_be_bytes());
    assert_eq!(&response[12..44], first.finalize().as_slice());
    let next = execute(&mut tpm, &hex("8001 0000000c 0000017b 0004"));
    let mut second = Sha256::new();
    second.update(b"ffa-model TPM2_GetRandom DRBG v1");
    second.update(1u64.to_be_bytes());
    assert_eq!(&next[12..16], &second.finalize()[..4], "the stream goes on");
}

#[test]
fn malformed_commands_get_tpm_response_codes() {
    let mut tpm = started();
    let code = |response: Vec<u8>| u32::from_be_bytes(response[6..10].try_into().unwrap());
    // An extend without a session.
    let mut no_session = extend_command(0, &[0; 32]);
    no_session[1] = 0x01;
    assert_eq!(
        code(execute(&mut tpm, &no_session)),
        response_code::AUTH_MISSING
    );
    // PCR 24 does not exist.
    assert_eq!(
        code(execute(&mut tpm, &extend_command(24, &[0; 32]))),
        0x18B,
        "HANDLE on handle 1"
    );
    // An unknown hash algorithm.
    let mut bad_hash = extend_command(0, &[0; 32]);
    bad_hash[32] = 0x77;
    assert_eq!(
        code(execute(&mut tpm, &bad_hash)),
        0x1C3,
        "HASH on parameter 1"
    );
    // The authorisation size lies.
    let mut bad_auth = extend_command(0, &[0; 32]);
    bad_auth[17] = 10;
    assert_eq!(code(execute(&mut tpm, &bad_auth)), response_code::AUTHSIZE);
    // A DRTM PCR from locality 0.
    assert_eq!(
        code(execute(&mut tpm, &extend_command(17, &[0; 32]))),
        response_code::LOCALITY
    );
    // A digest cut short: the size field is right, the digest is not.
    let mut short = extend_command(0, &[0; 32]);
    short.truncate(60);
    short[2..6].copy_from_slice(&60u32.to_be_bytes());
    assert_eq!(
        code(execute(&mut tpm, &short)),
        0x1DA,
        "INSUFFICIENT on parameter 1"
    );
    // Startup twice.
    assert_eq!(
        code(execute(&mut tpm, &hex("8001 0000000c 00000144 0000"))),
        response_code::INITIALIZE
    );
    assert_eq!(read_pcr(&mut tpm, 0), vec![0; 32], "nothing was extended");
}

/// Normal-world memory with the test's 1 MiB and the CRB's five pages.
struct CrbMemory {
    low: common::TestMemory,
    crb: Vec<u8>,
}

impl CrbMemory {
    fn new() -> CrbMemory {
        CrbMemory {
            low: common::TestMemory::new(),
            crb: vec![0xEE; QEMU_VIRT_CRB.size() as usize],
        }
    }

    fn crb_range(&self, address: u64, length: usize) -> Option<core::ops::Range<usize>> {
        let start = usize::try_from(address.checked_sub(QEMU_VIRT_CRB.base)?).ok()?;
        let end = start.checked_add(length)?;
        (end <= self.crb.len()).then_some(start..end)
    }

    fn register(&self, locality: u8, offset: usize) -> u32 {
        let at = (QEMU_VIRT_CRB.locality_base(locality) - QEMU_VIRT_CRB.base) as usize + offset;
        u32::from_le_bytes(self.crb[at..at + 4].try_into().unwrap())
    }

    fn set_register(&mut self, locality: u8, offset: usize, value: u32) {
        let at = (QEMU_VIRT_CRB.locality_base(locality) - QEMU_VIRT_CRB.base) as usize + offset;
        self.crb[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn data(&mut self, locality: u8) -> &mut [u8] {
        let at = (QEMU_VIRT_CRB.locality_base(locality) - QEMU_VIRT_CRB.base) as usize
            + crb::DATA_BUFFER;
        &mut self.crb[at..at + crb::DATA_BUFFER_SIZE]
    }
}

impl NormalWorldMemory for CrbMemory {
    fn read(&self, address: u64, destination: &mut [u8]) -> Result<(), MemoryError> {
        match self.crb_range(address, destination.len()) {
            Some(range) => {
                destination.copy_from_slice(&self.crb[range]);
                Ok(())
            }
            None => self.low.read(address, destination),
        }
    }

    fn write(&mut self, address: u64, source: &[u8]) -> Result<(), MemoryError> {
        match self.crb_range(address, source.len()) {
            Some(range) => {
                self.crb[range].copy_from_slice(source);
                Ok(())
            }
            None => self.low.write(address, source),
        }
    }
}

/// The secure world with the TPM partition configured, over `CrbMemory`.
struct TpmHarness {
    world: SecureWorld,
    memory: CrbMemory,
    platform: TestPlatform,
}

impl TpmHarness {
    fn new(tpm: TpmConfig) -> TpmHarness {
        TpmHarness::with(FaultConfig::default_config(), tpm)
    }

    fn with(config: FaultConfig, tpm: TpmConfig) -> TpmHarness {
        let mut world = SecureWorld::new(config);
        world.configure_tpm(tpm);
        let mut memory = CrbMemory::new();
        world.boot_partitions(&mut memory);
        let mut harness = TpmHarness {
            world,
            memory,
            platform: TestPlatform::default(),
        };
        harness.call(&[FFA_VERSION as u64, Version::V1_2.raw() as u64]);
        harness
    }

    fn call(&mut self, values: &[u64]) -> Registers {
        match self
            .world
            .handle_on(&registers(values), &mut self.memory, &mut self.platform)
        {
            Outcome::Return(result) => result,
            other => panic!("expected a return, got {other:?}"),
        }
    }

    /// One service call over a 32-bit direct request: (x0, w4 status, w5).
    fn service(&mut self, function: u32, arguments: [u64; 3]) -> (u64, u32, u64) {
        let result = self.call(&[
            FFA_MSG_SEND_DIRECT_REQ_32 as u64,
            u64::from(TPM_PARTITION_ID),
            0,
            0,
            u64::from(function),
            arguments[0],
            arguments[1],
            arguments[2],
        ]);
        (result[0], result[4] as u32, result[5])
    }

    fn start(&mut self, qualifier: u64, locality: u64) -> u32 {
        self.service(function::START, [qualifier, locality, 0]).1
    }

    /// Lets the secure timer expire, if armed (time moves to its deadline).
    fn expire_timer(&mut self) -> bool {
        let Some(deadline) = self.platform.timer.take() else {
            return false;
        };
        self.platform.now = self.platform.now.max(deadline);
        self.world
            .secure_timer_expired(&mut self.memory, &mut self.platform);
        true
    }

    /// Requests `locality`, runs `command` through the CRB, returns the response.
    fn run(&mut self, locality: u8, command: &[u8]) -> Vec<u8> {
        self.memory
            .set_register(locality, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
        assert_eq!(self.start(1, u64::from(locality)), ServiceStatus::Ok.code());
        self.memory
            .set_register(locality, crb::CTRL_REQ, crb::ctrl_req::COMMAND_READY);
        assert_eq!(self.start(0, u64::from(locality)), ServiceStatus::Ok.code());
        self.memory.data(locality)[..command.len()].copy_from_slice(command);
        self.memory.set_register(locality, crb::CTRL_START, 1);
        assert_eq!(self.start(0, u64::from(locality)), ServiceStatus::Ok.code());
        if self.memory.register(locality, crb::CTRL_START) != 0 {
            assert!(self.expire_timer(), "a command in the background");
        }
        assert_eq!(self.memory.register(locality, crb::CTRL_START), 0, "done");
        let size = u32::from_be_bytes(self.memory.data(locality)[2..6].try_into().unwrap());
        let response = self.memory.data(locality)[..(size as usize).min(64)].to_vec();
        self.memory
            .set_register(locality, crb::LOC_CTRL, crb::loc_ctrl::RELINQUISH);
        assert_eq!(self.start(1, u64::from(locality)), ServiceStatus::Ok.code());
        response
    }
}

#[test]
fn the_service_answers_every_direct_request_form() {
    let mut harness = TpmHarness::new(TpmConfig::healthy());
    let (x0, status, version) = harness.service(function::GET_INTERFACE_VERSION, [0; 3]);
    assert_eq!(x0, FFA_MSG_SEND_DIRECT_RESP_32 as u64);
    assert_eq!(status, ServiceStatus::OkResultsReturned.code());
    assert_eq!(version, 0x0001_0000);
    let result = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ_64 as u64,
        u64::from(TPM_PARTITION_ID),
        0,
        0,
        u64::from(function::GET_INTERFACE_VERSION),
    ]);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP_64 as u64);
    assert_eq!(result[1], u64::from(TPM_PARTITION_ID) << 16);
    assert_eq!((result[4], result[5]), (0x0500_0002, 0x0001_0000));
    let [low, high] = TPM_SERVICE_UUID.to_register_pair();
    let result = harness.call(&[
        FFA_MSG_SEND_DIRECT_REQ2 as u64,
        u64::from(TPM_PARTITION_ID),
        low,
        high,
        u64::from(function::GET_INTERFACE_VERSION),
    ]);
    assert_eq!(result[0], FFA_MSG_SEND_DIRECT_RESP2 as u64);
    assert_eq!((result[4], result[5]), (0x0500_0002, 0x0001_0000));
    assert_eq!(&result[8..], &[0; 10], "REQ2's results are x4-x17");
    // REQ2 to another service's UUID, and a framework message, are refused.
    let other = harness.call(&[FFA_MSG_SEND_DIRECT_REQ2 as u64, 0x8010, 1, 2, 0]);
    expect_error(&other, Status::InvalidParameters);
    let framework = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8010, 0x8000_0000]);
    expect_error(&framework, Status::InvalidParameters);
}

#[test]
fn service_arguments_are_checked_as_arm_s_acs_expects() {
    let mut harness = TpmHarness::new(TpmConfig::healthy());
    let invalid = ServiceStatus::InvalidArgument.code();
    assert_eq!(harness.start(0x100, 0), invalid, "qualifier above 0xFF");
    assert_eq!(harness.start(2, 0), invalid, "unknown qualifier");
    assert_eq!(harness.start(0, 5), invalid, "locality above 4");
    assert_eq!(
        harness.start(0, 0),
        ServiceStatus::Denied.code(),
        "a command from a locality not granted"
    );
    assert_eq!(
        harness.service(0x0F00_0601, [0; 3]).1,
        ServiceStatus::NoFunction.code()
    );
    let feature =
        |harness: &mut TpmHarness, id| harness.service(function::GET_FEATURE_INFO, [id, 0, 0]).1;
    assert_eq!(feature(&mut harness, 0xFEA7_0000), ServiceStatus::Ok.code());
    assert_eq!(
        feature(&mut harness, 0xFEA7_0001),
        invalid,
        "unknown feature"
    );
    let register = |harness: &mut TpmHarness, kind, id| {
        harness
            .service(function::REGISTER_FOR_NOTIFICATION, [kind, id, 0])
            .1
    };
    assert_eq!(
        harness
            .service(function::UNREGISTER_FROM_NOTIFICATION, [0; 3])
            .1,
        ServiceStatus::Denied.code()
    );
    assert_eq!(register(&mut harness, 0, 64), invalid, "ID of 64");
    assert_eq!(register(&mut harness, 1 << 16, 5), invalid, "not global");
    assert_eq!(register(&mut harness, 1, 5), invalid, "low bits set");
    assert_eq!(register(&mut harness, 0, 5), ServiceStatus::Ok.code());
    assert_eq!(register(&mut harness, 0, 5), ServiceStatus::Already.code());
    assert_eq!(
        harness.service(function::FINISH_NOTIFIED, [0; 3]).1,
        ServiceStatus::Denied.code(),
        "nothing outstanding"
    );
    assert_eq!(
        harness
            .service(function::UNREGISTER_FROM_NOTIFICATION, [0; 3])
            .1,
        ServiceStatus::Ok.code()
    );

    // A partition that does not offer notifications says so to each of them.
    let mut harness = TpmHarness::new(TpmConfig {
        notifications: false,
        ..TpmConfig::healthy()
    });
    let not_supported = ServiceStatus::NotSupported.code();
    assert_eq!(feature(&mut harness, 0xFEA7_0000), not_supported);
    assert_eq!(register(&mut harness, 0, 5), not_supported);
    for function in [
        function::UNREGISTER_FROM_NOTIFICATION,
        function::FINISH_NOTIFIED,
    ] {
        assert_eq!(harness.service(function, [0; 3]).1, not_supported);
    }
    let tpm = harness.world.partitions().iter().find(|p| p.id == 0x8010);
    assert!(!tpm.unwrap().notifications(), "nor has the property");
}

/// Binds notification `id` of the normal world to the TPM partition.
fn bind_to_tpm(harness: &mut TpmHarness, id: u32) {
    let reply = harness.call(&[
        FFA_NOTIFICATION_BIND as u64,
        u64::from(TPM_PARTITION_ID) << 16,
        0,
        1 << id,
    ]);
    assert_eq!(reply[0], FFA_SUCCESS_32 as u64, "{reply:x?}");
}

#[test]
fn a_registered_caller_is_notified_when_its_command_completes() {
    let mut harness = TpmHarness::new(TpmConfig::healthy());
    bind_to_tpm(&mut harness, 5);
    let registered = harness.service(function::REGISTER_FOR_NOTIFICATION, [0, 5, 0]);
    assert_eq!(registered.1, ServiceStatus::Ok.code());
    assert_eq!(harness.world.tpm().registered_notification(), Some(5));
    harness
        .memory
        .set_register(0, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
    assert_eq!(harness.start(1, 0), ServiceStatus::Ok.code());
    assert_eq!(
        harness.memory.register(0, crb::LOC_STS),
        crb::loc_sts::GRANTED,
        "control requests complete within START"
    );
    harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
    harness.memory.set_register(0, crb::CTRL_START, 1);
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert_eq!(
        harness.memory.register(0, crb::CTRL_START),
        1,
        "runs in the background"
    );
    assert_eq!(
        harness.platform.timer,
        Some(200),
        "200 us later, on the secure timer"
    );
    assert!(harness.platform.serve().is_empty(), "nothing told yet");
    // A START while it runs changes nothing.
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert!(harness.expire_timer());
    assert_eq!(harness.memory.register(0, crb::CTRL_START), 0, "completed");
    assert_eq!(&harness.memory.data(0)[..10], hex("8001 0000000a 00000000"));
    assert_eq!(
        harness.platform.serve(),
        [8],
        "the schedule receiver interrupt"
    );
    let got = harness.call(&[FFA_NOTIFICATION_GET as u64, 0, 0b1]);
    assert_eq!(got[0], FFA_SUCCESS_32 as u64);
    assert_eq!(got[2], 1 << 5, "notification 5 from the partition");
    // One outstanding at a time: the next completion is not notified
    // until the caller finished with this one.
    harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
    harness.memory.set_register(0, crb::CTRL_START, 1);
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert!(harness.expire_timer());
    assert!(harness.platform.serve().is_empty(), "one outstanding");
    let finish = |harness: &mut TpmHarness| harness.service(function::FINISH_NOTIFIED, [0; 3]).1;
    assert_eq!(finish(&mut harness), ServiceStatus::Ok.code());
    assert_eq!(finish(&mut harness), ServiceStatus::Denied.code());
    // A cancel ends a background command at once.
    harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
    harness.memory.set_register(0, crb::CTRL_START, 1);
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    harness.memory.set_register(0, crb::CTRL_CANCEL, 1);
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert_eq!(harness.memory.register(0, crb::CTRL_START), 0);
    assert_eq!(
        &harness.memory.data(0)[6..10],
        &0x909u32.to_be_bytes(),
        "CANCELED"
    );
    assert_eq!(harness.platform.timer, None, "nothing left to run");
}

#[test]
fn an_unregistered_caller_polls_a_slow_command() {
    let mut harness = TpmHarness::new(TpmConfig {
        notifications: false,
        background_microseconds: 3_000,
        ..TpmConfig::healthy()
    });
    harness
        .memory
        .set_register(0, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
    assert_eq!(harness.start(1, 0), ServiceStatus::Ok.code());
    harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
    harness.memory.set_register(0, crb::CTRL_START, 1);
    harness.platform.now = 1_000;
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert_eq!(harness.platform.timer, Some(4_000));
    assert_eq!(
        harness.memory.register(0, crb::CTRL_START),
        1,
        "still running"
    );
    assert!(harness.expire_timer());
    assert_eq!(
        harness.memory.register(0, crb::CTRL_START),
        0,
        "done, untold"
    );
    assert!(harness.platform.serve().is_empty());
    assert!(harness.world.tpm().engine().is_started());
}

#[test]
fn localities_are_granted_one_at_a_time() {
    let mut harness = TpmHarness::new(TpmConfig::healthy());
    for locality in 0..5 {
        assert_eq!(
            harness.memory.register(locality, crb::LOC_STATE),
            crb::loc_state::VALID
        );
        assert_eq!(
            harness.memory.register(locality, crb::CTRL_CMD_PA_LOW) as u64,
            QEMU_VIRT_CRB.locality_base(locality) + crb::DATA_BUFFER as u64
        );
    }
    harness
        .memory
        .set_register(3, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
    assert_eq!(harness.start(1, 3), ServiceStatus::Ok.code());
    assert_eq!(
        harness.memory.register(3, crb::LOC_STS),
        crb::loc_sts::GRANTED
    );
    assert_eq!(
        harness.memory.register(0, crb::LOC_STATE),
        crb::loc_state::VALID | crb::loc_state::ASSIGNED | 3 << 2,
        "LOC_STATE is the same in every page"
    );
    harness
        .memory
        .set_register(1, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
    assert_eq!(harness.start(1, 1), ServiceStatus::Ok.code());
    assert_eq!(harness.memory.register(1, crb::LOC_STS), 0, "1 waits for 3");
    assert_eq!(harness.world.tpm().active_locality(), Some(3));
    harness
        .memory
        .set_register(3, crb::LOC_CTRL, crb::loc_ctrl::RELINQUISH);
    assert_eq!(harness.start(1, 3), ServiceStatus::Ok.code());
    assert_eq!(harness.world.tpm().active_locality(), None);
    // A DRTM PCR extends from locality 3, not from 0.
    let response = harness.run(3, &hex("8001 0000000c 00000144 0000"));
    assert_eq!(&response[6..10], &[0; 4]);
    let response = harness.run(3, &extend_command(17, &[0; 32]));
    assert_eq!(&response[6..10], &[0; 4]);
    let response = harness.run(0, &extend_command(17, &[0; 32]));
    assert_eq!(&response[6..10], &response_code::LOCALITY.to_be_bytes());
}

#[test]
fn commands_run_through_the_crb() {
    let mut harness = TpmHarness::new(in_start());
    assert_eq!(
        harness.run(0, &hex("8001 0000000c 00000144 0000")),
        hex("8001 0000000a 00000000")
    );
    harness.run(0, &extend_command(0, &hex(SHA256_ABC)));
    assert_eq!(
        harness.world.tpm().engine().pcr(0).unwrap().to_vec(),
        hex("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d")
    );
    // Buffers pointing outside the locality's data buffer are refused.
    harness
        .memory
        .set_register(0, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
    harness.start(1, 0);
    harness
        .memory
        .set_register(0, crb::CTRL_CMD_PA_LOW, 0x4000_0000);
    harness.memory.set_register(0, crb::CTRL_START, 1);
    assert_eq!(
        harness.start(0, 0),
        ServiceStatus::InvalidCrbControlData.code()
    );
    // Cancelled: answered TPM_RC_CANCELED, not run.
    let data = (QEMU_VIRT_CRB.base + crb::DATA_BUFFER as u64) as u32;
    harness.memory.set_register(0, crb::CTRL_CMD_PA_LOW, data);
    harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 0000017b 0004"));
    harness.memory.set_register(0, crb::CTRL_CANCEL, 1);
    assert_eq!(harness.start(0, 0), ServiceStatus::Ok.code());
    assert_eq!(
        &harness.memory.data(0)[6..10],
        &response_code::CANCELED.to_be_bytes()
    );
    // goIdle sets tpmIdle.
    harness
        .memory
        .set_register(0, crb::CTRL_REQ, crb::ctrl_req::GO_IDLE);
    harness.start(0, 0);
    assert_eq!(harness.memory.register(0, crb::CTRL_REQ), 0);
    assert_eq!(
        harness.memory.register(0, crb::CTRL_STS) & crb::ctrl_sts::IDLE,
        crb::ctrl_sts::IDLE
    );
}

#[test]
fn faults_absent_late_and_malformed() {
    let absent = TpmConfig {
        absent: true,
        ..in_start()
    };
    let mut harness = TpmHarness::new(absent);
    expect_error(
        &harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8010, 0, 0, 1]),
        Status::InvalidParameters,
    );
    assert!(harness.world.partitions().iter().any(|p| p.id == 0x8010));
    let [low, high] = TPM_SERVICE_UUID.to_register_pair();
    let count = harness.call(&[FFA_PARTITION_INFO_GET_REGS as u64, low, high]);
    expect_error(&count, Status::InvalidParameters);

    let late = TpmConfig {
        late_microseconds: 1000,
        late_error: Status::NotReady,
        ..in_start()
    };
    let mut harness = TpmHarness::new(late);
    harness.platform.now = 5_000;
    let result = harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8010, 0, 0, 0x0F00_0001]);
    expect_error(&result, Status::NotReady);
    harness.platform.now = 5_999;
    expect_error(
        &harness.call(&[FFA_MSG_SEND_DIRECT_REQ_32 as u64, 0x8010, 0, 0, 0x0F00_0001]),
        Status::NotReady,
    );
    harness.platform.now = 6_000;
    assert_eq!(
        harness.service(function::GET_INTERFACE_VERSION, [0; 3]).1,
        ServiceStatus::OkResultsReturned.code()
    );

    for (kind, field, expected) in [
        (MalformedResponse::SizeBeyondBuffer, 2..6, hex("fffffff0")),
        (MalformedResponse::SizeBelowHeader, 2..6, hex("00000004")),
        (MalformedResponse::WrongTag, 0..2, hex("1234")),
    ] {
        let mut harness = TpmHarness::new(TpmConfig {
            malformed: kind,
            malformed_command: 0x144,
            ..in_start()
        });
        harness
            .memory
            .set_register(0, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
        harness.start(1, 0);
        harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
        harness.memory.set_register(0, crb::CTRL_START, 1);
        harness.start(0, 0);
        assert_eq!(harness.memory.data(0)[field].to_vec(), expected, "{kind:?}");
    }
    let mut harness = TpmHarness::new(TpmConfig {
        malformed: MalformedResponse::FatalError,
        malformed_command: 0x144,
        ..in_start()
    });
    let response = {
        harness
            .memory
            .set_register(0, crb::LOC_CTRL, crb::loc_ctrl::REQUEST_ACCESS);
        harness.start(1, 0);
        harness.memory.data(0)[..12].copy_from_slice(&hex("8001 0000000c 00000144 0000"));
        harness.memory.set_register(0, crb::CTRL_START, 1);
        harness.start(0, 0)
    };
    assert_eq!(response, ServiceStatus::Ok.code());
    assert_eq!(harness.memory.register(0, crb::CTRL_STS) & 1, 1, "tpmSts");
    assert!(!harness.world.tpm().engine().is_started(), "not executed");
}

#[test]
fn the_tpm_partition_is_discovered_with_its_uuid() {
    let mut harness = TpmHarness::new(TpmConfig::healthy());
    let [low, high] = TPM_SERVICE_UUID.to_register_pair();
    let result = harness.call(&[FFA_PARTITION_INFO_GET_REGS as u64, low, high]);
    assert_eq!(result[0], FFA_SUCCESS_64 as u64);
    assert_eq!(result[3], 0x0000_0309_0001_8010, "notifications offered");
    assert!(MEMORY_BASE + MEMORY_SIZE as u64 <= QEMU_VIRT_CRB.base);
}

proptest! {
    /// Whatever bytes arrive as a command, the TPM answers with a response
    /// whose size field is its length, and never panics.
    #[test]
    fn any_command_gets_a_well_formed_answer(
        started_first in any::<bool>(),
        code in prop::sample::select(vec![0x143u32, 0x144, 0x17A, 0x17B, 0x17E, 0x182, 0x1FF]),
        tag in prop::sample::select(vec![0x8001u16, 0x8002, 0x1234]),
        body in prop::collection::vec(any::<u8>(), 0..96),
        lie in prop::option::of(any::<u32>()),
    ) {
        let mut tpm = if started_first { started() } else { Tpm2::new() };
        let mut command = tag.to_be_bytes().to_vec();
        let size = lie.unwrap_or((10 + body.len()) as u32);
        command.extend_from_slice(&size.to_be_bytes());
        command.extend_from_slice(&code.to_be_bytes());
        command.extend_from_slice(&body);
        let mut response = [0u8; 4096];
        let length = tpm.execute(&command, (body.len() % 5) as u8, &mut response);
        prop_assert!(length >= 10);
        prop_assert_eq!(u32::from_be_bytes(response[2..6].try_into().unwrap()) as usize, length);
        let tag = u16::from_be_bytes([response[0], response[1]]);
        prop_assert!(tag == 0x8001 || tag == 0x8002);
    }

    /// Any service call with any arguments, in any order, with any CRB
    /// contents: answered with a status, never a panic.
    #[test]
    fn any_service_call_is_answered(
        calls in prop::collection::vec(
            (prop::sample::select(vec![0x0F00_0001u32, 0x0F00_0101, 0x0F00_0201, 0x0F00_0301, 0x0F00_0401, 0x0F00_0501, 0x0F00_0601]),
             0u64..0x200, 0u64..8, any::<u32>(), any::<u32>(), any::<u32>()),
            1..16),
    ) {
        let mut harness = TpmHarness::new(TpmConfig::healthy());
        for (function, first, second, loc_ctrl, request, start) in calls {
            let locality = (second % 5) as u8;
            harness.memory.set_register(locality, crb::LOC_CTRL, loc_ctrl & 3);
            harness.memory.set_register(locality, crb::CTRL_REQ, request & 3);
            harness.memory.set_register(locality, crb::CTRL_START, start & 1);
            let (x0, status, _) = harness.service(function, [first % 3, second, 0]);
            prop_assert_eq!(x0, FFA_MSG_SEND_DIRECT_RESP_32 as u64);
            prop_assert!(ServiceStatus::from_code(status).is_some(), "{status:#x}");
        }
    }
}
