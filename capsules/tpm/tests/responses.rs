//! Property tests of the TPM 2.0 response parsers: whatever bytes come
//! back, a parser answers with a result or a `Malformed`, never a panic;
//! a well-formed response whose size field lies, or that is cut short or
//! padded, is refused; and the driver's CRB check refuses response sizes
//! outside the buffer.

use capsule_tpm::tpm2::{self, Malformed, PcrIndex, PcrSelection, ResponseError};
use proptest::prelude::*;

fn pcr_read_response(pcrs: &[u8], counter: u32) -> Vec<u8> {
    let mut selection = [0u8; 3];
    for pcr in pcrs {
        selection[usize::from(*pcr / 8)] |= 1 << (pcr % 8);
    }
    let mut body = Vec::new();
    body.extend_from_slice(&counter.to_be_bytes());
    body.extend_from_slice(&[0, 0, 0, 1, 0, 0x0B, 3]);
    body.extend_from_slice(&selection);
    body.extend_from_slice(&(pcrs.len() as u32).to_be_bytes());
    for pcr in pcrs {
        body.extend_from_slice(&[0, 32]);
        body.extend_from_slice(&[*pcr; 32]);
    }
    let mut response = vec![0x80, 0x01];
    response.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
    response.extend_from_slice(&[0, 0, 0, 0]);
    response.extend_from_slice(&body);
    response
}

fn selection(pcrs: &[u8]) -> PcrSelection {
    pcrs.iter().fold(PcrSelection::EMPTY, |selection, pcr| {
        selection.with(PcrIndex::new(*pcr).unwrap())
    })
}

#[test]
fn a_well_formed_pcr_read_parses() {
    let response = pcr_read_response(&[0, 1, 10], 7);
    let values = tpm2::parse_pcr_read(&response, selection(&[0, 1, 10])).unwrap();
    assert_eq!(values.update_counter, 7);
    assert_eq!(values.get(PcrIndex::new(10).unwrap()), Some(&[10; 32]));
    assert_eq!(values.get(PcrIndex::new(2).unwrap()), None);
    // A PCR that was not asked for is refused.
    assert_eq!(
        tpm2::parse_pcr_read(&response, selection(&[0, 1])),
        Err(ResponseError::Malformed(Malformed::UnexpectedValue))
    );
    // An error response is the TPM's code.
    assert_eq!(
        tpm2::parse_pcr_read(&[0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x00], selection(&[0])),
        Err(ResponseError::Tpm(tpm2::ResponseCode(0x100)))
    );
}

proptest! {
    #[test]
    fn any_bytes_are_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..400), asked in any::<u32>()) {
        let asked = (0..24u8).filter(|pcr| asked & (1 << pcr) != 0).collect::<Vec<_>>();
        let _ = tpm2::parse_header(&bytes);
        let _ = tpm2::parse_empty(&bytes);
        let _ = tpm2::parse_pcr_extend(&bytes);
        let _ = tpm2::parse_pcr_read(&bytes, selection(&asked));
        let _ = tpm2::parse_pcr_banks(&bytes);
        let _ = tpm2::parse_property(&bytes, 0x105);
        let mut destination = [0u8; 32];
        let _ = tpm2::parse_get_random(&bytes, 32, &mut destination);
        let _ = capsule_tpm::event_log::replay(&bytes);
        let _ = capsule_tpm::event_log::events(&bytes).count();
    }

    #[test]
    fn a_lying_size_field_is_refused(
        pcrs in prop::collection::btree_set(0u8..24, 1..8),
        size in any::<u32>(),
    ) {
        let pcrs: Vec<u8> = pcrs.into_iter().collect();
        let mut response = pcr_read_response(&pcrs, 1);
        prop_assume!(size as usize != response.len());
        response[2..6].copy_from_slice(&size.to_be_bytes());
        let result = tpm2::parse_pcr_read(&response, selection(&pcrs));
        prop_assert!(
            matches!(result, Err(ResponseError::Malformed(Malformed::SizeMismatch { .. }))),
            "{result:?}"
        );
    }

    #[test]
    fn cut_or_padded_responses_are_refused(
        pcrs in prop::collection::btree_set(0u8..24, 1..8),
        cut in 1usize..64,
        padding in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let pcrs: Vec<u8> = pcrs.into_iter().collect();
        let good = pcr_read_response(&pcrs, 1);
        prop_assert!(tpm2::parse_pcr_read(&good, selection(&pcrs)).is_ok());
        // Cut short, with the size field made to agree: a field runs out.
        let mut short = good.clone();
        short.truncate(good.len().saturating_sub(cut).max(10));
        let length = short.len() as u32;
        short[2..6].copy_from_slice(&length.to_be_bytes());
        prop_assert!(tpm2::parse_pcr_read(&short, selection(&pcrs)).is_err());
        // Padded, with the size field made to agree: trailing bytes.
        let mut padded = good.clone();
        padded.extend_from_slice(&padding);
        let length = padded.len() as u32;
        padded[2..6].copy_from_slice(&length.to_be_bytes());
        prop_assert_eq!(
            tpm2::parse_pcr_read(&padded, selection(&pcrs)),
            Err(ResponseError::Malformed(Malformed::TrailingBytes))
        );
    }

    #[test]
    fn extend_responses_need_their_session_area(tail in prop::collection::vec(any::<u8>(), 0..12)) {
        let mut response = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0, 0];
        response.extend_from_slice(&tail);
        let length = response.len() as u32;
        response[2..6].copy_from_slice(&length.to_be_bytes());
        let good = [0u8, 0, 0, 0, 0, 0, 1, 0, 0];
        let result = tpm2::parse_pcr_extend(&response);
        if tail.len() == 9 && tail[..6] == good[..6] && tail[7..] == good[7..] {
            prop_assert_eq!(result, Ok(()));
        } else if tail.len() < 9 {
            prop_assert!(result.is_err());
        }
    }
}
