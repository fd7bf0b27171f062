//! The serialised FaultConfig: layout, round trips and rejection of bad blobs.

use ffa_model::{
    ConfigError, FaultConfig, MemoryFault, PartitionInfoFault, Personality, ReadinessError,
};

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811C_9DC5u32, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// Re-seal a modified blob with a correct checksum.
fn reseal(mut bytes: [u8; 64]) -> [u8; 64] {
    let checksum = fnv1a(&bytes[..60]);
    bytes[60..].copy_from_slice(&checksum.to_le_bytes());
    bytes
}

fn everything() -> FaultConfig {
    FaultConfig {
        ffa_absent: true,
        spmc_version: (1, 1),
        not_ready_calls: 0x0102_0304,
        not_ready_microseconds: 0x0506_0708_090A_0B0C,
        not_ready_error: ReadinessError::Busy,
        deny_rxtx_map: true,
        partition_info_fault: PartitionInfoFault::ExtendedDescriptorSize,
        wrong_responder: true,
        busy_storm: 11,
        retry_storm: 12,
        interrupt_count: 13,
        yield_count: 14,
        setup_busy_calls: 2,
        trace: true,
        enter_normal_world_at_el1: true,
        personality: Personality::Hafnium,
        memory_fault: MemoryFault::AbortedFragment,
        memory_fault_after: 9,
    }
}

#[test]
fn default_trait_matches_default_config() {
    assert_eq!(FaultConfig::default(), FaultConfig::default_config());
    let config = FaultConfig::default_config();
    assert!(!config.ffa_absent);
    assert_eq!(config.spmc_version, (1, 2));
    assert_eq!((config.interrupt_count, config.yield_count), (1, 1));
}

#[test]
fn layout_is_as_documented() {
    let bytes = everything().to_bytes();
    assert_eq!(FaultConfig::BLOB_SIZE, 64);
    assert_eq!(&bytes[0..4], b"FFAM");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 5);
    assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 64);
    assert_eq!(&bytes[8..12], &[1, 0, 1, 0]);
    assert_eq!(
        u32::from_le_bytes(bytes[12..16].try_into().unwrap()),
        0b1_1111
    );
    assert_eq!(&bytes[16..20], &[4, 3, 2, 1]);
    assert_eq!(&bytes[20..28], &[0x0C, 0x0B, 0x0A, 9, 8, 7, 6, 5]);
    assert_eq!(i32::from_le_bytes(bytes[28..32].try_into().unwrap()), -4);
    assert_eq!(u32::from_le_bytes(bytes[32..36].try_into().unwrap()), 3);
    assert_eq!(
        &bytes[36..52],
        &[11, 0, 0, 0, 12, 0, 0, 0, 13, 0, 0, 0, 14, 0, 0, 0]
    );
    assert_eq!(&bytes[52..56], &[2, 0, 0, 0], "Hafnium");
    assert_eq!(bytes[56], 3, "aborted fragment");
    assert_eq!(bytes[57], 9, "memory fault after 9 calls");
    assert_eq!(&bytes[58..60], &[2, 0], "setup_busy_calls");
    assert_eq!(
        u32::from_le_bytes(bytes[60..64].try_into().unwrap()),
        fnv1a(&bytes[..60])
    );
    let default = FaultConfig::default_config().to_bytes();
    assert_eq!(i32::from_le_bytes(default[28..32].try_into().unwrap()), -10);
}

#[test]
fn round_trips() {
    for config in [FaultConfig::default_config(), everything()] {
        assert_eq!(FaultConfig::from_bytes(&config.to_bytes()), Ok(config));
    }
    for fault in [
        PartitionInfoFault::NoFault,
        PartitionInfoFault::HugeCount,
        PartitionInfoFault::WrongDescriptorSize,
        PartitionInfoFault::ExtendedDescriptorSize,
    ] {
        let config = FaultConfig {
            partition_info_fault: fault,
            ..FaultConfig::default_config()
        };
        assert_eq!(FaultConfig::from_bytes(&config.to_bytes()), Ok(config));
    }
}

#[test]
fn trailing_bytes_are_ignored() {
    let mut longer = everything().to_bytes().to_vec();
    longer.extend_from_slice(&[0xFF; 100]);
    assert_eq!(FaultConfig::from_bytes(&longer), Ok(everything()));
}

#[test]
fn rejects_bad_blobs() {
    let good = FaultConfig::default_config().to_bytes();
    assert_eq!(
        FaultConfig::from_bytes(&good[..63]),
        Err(ConfigError::TooShort)
    );
    assert_eq!(FaultConfig::from_bytes(&[]), Err(ConfigError::TooShort));

    let mut bytes = good;
    bytes[0] = b'X';
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::BadMagic)
    );

    let mut bytes = good;
    bytes[4] = 1;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::UnsupportedFormatVersion)
    );

    let mut bytes = good;
    bytes[6] = 63;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::BadSize)
    );

    let mut bytes = good;
    bytes[44] ^= 1;
    assert_eq!(
        FaultConfig::from_bytes(&bytes),
        Err(ConfigError::BadChecksum)
    );

    let mut bytes = good;
    bytes[12] = 0x20;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::UnknownFlags)
    );

    let mut bytes = good;
    bytes[28..32].copy_from_slice(&(-2i32).to_le_bytes());
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::InvalidReadinessError)
    );

    let mut bytes = good;
    bytes[32] = 4;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::InvalidPartitionInfoFault)
    );

    let mut bytes = good;
    bytes[56] = 5;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::InvalidMemoryFault)
    );

    let mut bytes = good;
    bytes[52] = 4;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)),
        Err(ConfigError::InvalidPersonality)
    );

    let mut bytes = good;
    bytes[58] = 3;
    assert_eq!(
        FaultConfig::from_bytes(&reseal(bytes)).map(|config| config.setup_busy_calls),
        Ok(3)
    );

    for major in [0u16, 0x8000, 0xFFFF] {
        let mut bytes = good;
        bytes[8..10].copy_from_slice(&major.to_le_bytes());
        assert_eq!(
            FaultConfig::from_bytes(&reseal(bytes)),
            Err(ConfigError::InvalidSpmcVersion),
            "major {major:#x}"
        );
    }
}

#[test]
fn other_valid_versions_are_accepted() {
    for version in [(1, 0), (1, 3), (2, 0), (0x7FFF, 0xFFFF)] {
        let config = FaultConfig {
            spmc_version: version,
            ..FaultConfig::default_config()
        };
        assert_eq!(FaultConfig::from_bytes(&config.to_bytes()), Ok(config));
    }
}
