//! Indirect-message headers: both layouts written as the specification
//! lays them out, every check on a received header, and properties (any
//! bytes parse to an error or to a header whose payload lies inside the
//! buffer; what we write, we read back).

use capsule_ffa::error::ClientError;
use capsule_ffa::indirect::{HeaderLayout, MessageHeader};
use capsule_ffa::version::SupportedVersion;
use ffa_abi::{PartitionId, Uuid};
use proptest::prelude::*;

const ME: PartitionId = PartitionId::new(0);
const PARTITION: PartitionId = PartitionId::new(0x8004);
const SERVICE: Uuid = Uuid::from_bytes([
    0x5b, 0x06, 0xcb, 0xcc, 0x7c, 0xa5, 0x40, 0xe5, 0xb0, 0xed, 0xc9, 0x9b, 0x2d, 0xf0, 0xc2, 0xdd,
]);

fn word(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

#[test]
fn the_layout_follows_the_negotiated_version() {
    assert_eq!(
        HeaderLayout::for_version(SupportedVersion::V1_0),
        HeaderLayout::V1_1
    );
    assert_eq!(
        HeaderLayout::for_version(SupportedVersion::V1_1),
        HeaderLayout::V1_1
    );
    assert_eq!(
        HeaderLayout::for_version(SupportedVersion::V1_2),
        HeaderLayout::V1_2
    );
    assert_eq!(HeaderLayout::V1_1.size(), 20);
    assert_eq!(HeaderLayout::V1_2.size(), 40);
}

#[test]
fn headers_are_written_as_the_specification_lays_them_out() {
    let v1_2 = MessageHeader::new(HeaderLayout::V1_2, ME, PARTITION, 100, SERVICE).encode();
    assert_eq!(word(&v1_2, 0), 0, "flags");
    assert_eq!(word(&v1_2, 4), 0, "reserved");
    assert_eq!(word(&v1_2, 8), 40, "payload offset");
    assert_eq!(
        word(&v1_2, 12),
        0x0000_8004,
        "sender 0 in [31:16], receiver in [15:0]"
    );
    assert_eq!(word(&v1_2, 16), 100, "payload size");
    assert_eq!(word(&v1_2, 20), 0, "reserved (v1.2)");
    assert_eq!(&v1_2[24..40], SERVICE.as_bytes());

    let v1_1 = MessageHeader::new(HeaderLayout::V1_1, ME, PARTITION, 7, SERVICE);
    assert_eq!(v1_1.service, Uuid::NIL, "v1.1 has no UUID");
    let bytes = v1_1.encode();
    assert_eq!(word(&bytes, 8), 20);
    assert_eq!(&bytes[20..40], &[0; 20], "nothing past v1.1's header");
}

/// A header for `ME` from `PARTITION`: `offset`, `size`, then `change`.
fn received(offset: u32, size: u32, change: impl FnOnce(&mut [u8; 40])) -> [u8; 40] {
    let mut bytes = [0u8; 40];
    bytes[8..12].copy_from_slice(&offset.to_le_bytes());
    bytes[12..16].copy_from_slice(&(0x8004u32 << 16).to_le_bytes());
    bytes[16..20].copy_from_slice(&size.to_le_bytes());
    change(&mut bytes);
    bytes
}

fn refusal(bytes: &[u8; 40], buffer: usize) -> Option<&'static str> {
    match MessageHeader::parse(bytes, buffer, ME) {
        Err(ClientError::Malformed(why)) => Some(why),
        Err(other) => panic!("not a Malformed error: {other:?}"),
        Ok(_) => None,
    }
}

#[test]
fn every_check_of_a_received_header() {
    // Good ones: v1.1 (no UUID read) and v1.2.
    let header = MessageHeader::parse(&received(20, 8, |_| {}), 4096, ME).unwrap();
    assert_eq!(
        (header.sender, header.offset, header.size),
        (PARTITION, 20, 8)
    );
    assert_eq!(header.service, Uuid::NIL);
    let header = MessageHeader::parse(
        &received(40, 8, |bytes| {
            bytes[24..40].copy_from_slice(SERVICE.as_bytes())
        }),
        4096,
        ME,
    )
    .unwrap();
    assert_eq!(header.service, SERVICE);
    // The payload may end exactly at the end of the buffer.
    assert!(refusal(&received(40, 4096 - 40, |_| {}), 4096).is_none());

    let bad: [(&str, [u8; 40]); 7] = [
        ("flags", received(40, 8, |bytes| bytes[0] = 1)),
        ("reserved", received(40, 8, |bytes| bytes[7] = 0x80)),
        ("another receiver", received(40, 8, |bytes| bytes[12] = 1)),
        ("offset inside the header", received(19, 8, |_| {})),
        ("past the end", received(40, 4096 - 39, |_| {})),
        (
            "offset and size overflow",
            received(u32::MAX, u32::MAX, |_| {}),
        ),
        ("v1.2 reserved word", received(40, 8, |bytes| bytes[20] = 1)),
    ];
    for (what, bytes) in bad {
        assert!(refusal(&bytes, 4096).is_some(), "{what}");
    }
    // A smaller RX buffer (a v1.0-sized one) bounds it too.
    assert!(refusal(&received(40, 100, |_| {}), 128).is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Any 40 bytes: an error, or a header addressed to us whose payload
    /// lies after v1.1's header and inside the buffer.
    #[test]
    fn any_bytes_parse_to_an_error_or_a_payload_inside_the_buffer(
        bytes in any::<[u8; 40]>(),
        buffer in 0usize..=65536,
    ) {
        if let Ok(header) = MessageHeader::parse(&bytes, buffer, ME) {
            prop_assert_eq!(header.receiver, ME);
            prop_assert!(header.offset as usize >= 20);
            prop_assert!(u64::from(header.offset) + u64::from(header.size) <= buffer as u64);
        }
    }

    /// Mostly well-formed headers (the uniform case above rarely is):
    /// accepted exactly when every check passes.
    #[test]
    fn plausible_headers_are_accepted_exactly_when_they_fit(
        offset in 0u32..64,
        size in 0u32..8192,
        receiver in prop_oneof![Just(0u16), any::<u16>()],
        nonzero_flags in any::<bool>(),
        buffer in 0usize..8192,
    ) {
        let bytes = received(offset, size, |bytes| {
            bytes[12..14].copy_from_slice(&receiver.to_le_bytes());
            if nonzero_flags {
                bytes[2] = 1;
            }
        });
        let fits = offset >= 20 && u64::from(offset) + u64::from(size) <= buffer as u64;
        let expected = fits && receiver == 0 && !nonzero_flags;
        prop_assert_eq!(MessageHeader::parse(&bytes, buffer, ME).is_ok(), expected);
    }

    /// What we write, a receiver reads back (from itself, for the test).
    #[test]
    fn written_headers_read_back(
        size in 0u32..4000,
        receiver in any::<u16>(),
        v1_2 in any::<bool>(),
        service in any::<[u8; 16]>(),
    ) {
        let layout = if v1_2 { HeaderLayout::V1_2 } else { HeaderLayout::V1_1 };
        let receiver = PartitionId::new(receiver);
        let header = MessageHeader::new(layout, PARTITION, receiver, size, Uuid::from_bytes(service));
        let parsed = MessageHeader::parse(&header.encode(), 4096, receiver).unwrap();
        prop_assert_eq!(parsed, header);
    }
}
