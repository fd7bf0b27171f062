//! Splitting a line into words, and reading numbers from them. Pure.
//!
//! Words are separated by spaces; there is no quoting (no command needs
//! it). Numbers are decimal, or hexadecimal with `0x`; `_` may group
//! digits (`0xffff_0000`).
//!
//! ```
//! use capsule_console::words::{parse_number, Words};
//!
//! let words = Words::split("ffa  send 0x8001 7").unwrap();
//! assert_eq!(words.as_slice(), ["ffa", "send", "0x8001", "7"]);
//! assert_eq!(parse_number("0x8001"), Some(0x8001));
//! assert_eq!(parse_number("1_000"), Some(1000));
//! assert_eq!(parse_number("0x"), None);
//! ```

use heapless::Vec;

/// Most words a command line may have.
pub const MAX_WORDS: usize = 24;

/// A line has more than [`MAX_WORDS`] words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyWords;

/// The words of a line, borrowed from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Words<'l> {
    words: Vec<&'l str, MAX_WORDS>,
}

impl<'l> Words<'l> {
    /// Splits `line` at runs of spaces.
    pub fn split(line: &'l str) -> Result<Words<'l>, TooManyWords> {
        let mut words = Vec::new();
        for word in line.split(' ').filter(|word| !word.is_empty()) {
            words.push(word).map_err(|_| TooManyWords)?;
        }
        Ok(Words { words })
    }

    /// The words, in order.
    pub fn as_slice(&self) -> &[&'l str] {
        &self.words
    }
}

/// Reads a decimal or `0x` hexadecimal number; `None` if `text` is not
/// one or does not fit in 64 bits.
pub fn parse_number(text: &str) -> Option<u64> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hexadecimal) => (hexadecimal, 16),
        None => (text, 10),
    };
    let mut value: u64 = 0;
    let mut seen_digit = false;
    for character in digits.chars() {
        if character == '_' && seen_digit {
            continue;
        }
        let digit = character.to_digit(radix)?;
        value = value.checked_mul(radix as u64)?.checked_add(digit as u64)?;
        seen_digit = true;
    }
    seen_digit.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_decimal_and_hexadecimal() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("32769"), Some(0x8001));
        assert_eq!(parse_number("0X8001"), Some(0x8001));
        assert_eq!(parse_number("0xFFFF_FFFF_FFFF_FFFF"), Some(u64::MAX));
        assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn what_is_not_a_number() {
        for text in [
            "",
            "0x",
            "_1",
            "0x_",
            "-1",
            "+1",
            "1.5",
            "0x1g",
            "banana",
            "0b101",
            "18446744073709551616",
            "0x1_0000_0000_0000_0000",
        ] {
            assert_eq!(parse_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn words_are_separated_by_runs_of_spaces() {
        assert_eq!(Words::split("").unwrap().as_slice(), [] as [&str; 0]);
        assert_eq!(
            Words::split("  ffa   list ").unwrap().as_slice(),
            ["ffa", "list"]
        );
        let many = "x ".repeat(MAX_WORDS);
        assert_eq!(Words::split(&many).unwrap().as_slice().len(), MAX_WORDS);
        let too_many = "x ".repeat(MAX_WORDS + 1);
        assert_eq!(Words::split(&too_many), Err(TooManyWords));
    }
}
