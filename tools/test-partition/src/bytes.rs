//! Little-endian field access on byte slices that never panics: out of range is `None`.

/// The `N` bytes at `offset`, if they are all inside `bytes`.
pub(crate) fn array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    bytes.get(offset..end)?.try_into().ok()
}

/// The `u16` at `offset`.
pub(crate) fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    array(bytes, offset).map(u16::from_le_bytes)
}

/// The `u32` at `offset`.
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    array(bytes, offset).map(u32::from_le_bytes)
}

/// The `u64` at `offset`.
pub(crate) fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    array(bytes, offset).map(u64::from_le_bytes)
}

/// Writes `value` at `offset`; `None` (and nothing written) if it does not fit.
pub(crate) fn put(bytes: &mut [u8], offset: usize, value: &[u8]) -> Option<()> {
    let end = offset.checked_add(value.len())?;
    bytes.get_mut(offset..end)?.copy_from_slice(value);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_refuses_out_of_range() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(u16_at(&bytes, 0), Some(0x0201));
        assert_eq!(u32_at(&bytes, 5), Some(0x0908_0706));
        assert_eq!(u64_at(&bytes, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(u32_at(&bytes, 6), None);
        assert_eq!(u64_at(&bytes, usize::MAX - 2), None);
    }

    #[test]
    fn writes_only_when_it_fits() {
        let mut bytes = [0u8; 4];
        assert_eq!(put(&mut bytes, 2, &[7, 8]), Some(()));
        assert_eq!(bytes, [0, 0, 7, 8]);
        assert_eq!(put(&mut bytes, 3, &[1, 1]), None);
        assert_eq!(bytes, [0, 0, 7, 8]);
    }
}
