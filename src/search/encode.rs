//! Compact, JSON-safe encodings of the index's number lists.
//!
//! Posting lists are long runs of small numbers; as JSON arrays they would cost
//! three or four bytes a number. Here every number is written in base 32 with one
//! character per five bits, most significant group first, in a 64-character
//! alphabet that needs no escaping in JSON or URLs: the character's value is the
//! five bits plus 32 when more characters of the same number follow. A gap below 32
//! takes one character. The client's `decodeNumbers` reads it back.

/// The 64 digits: `A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`.
pub const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends one number.
pub fn push_number(out: &mut String, n: u64) {
    let mut groups = [0u8; 13];
    let mut len = 0;
    let mut rest = n;
    loop {
        groups[len] = (rest & 31) as u8;
        len += 1;
        rest >>= 5;
        if rest == 0 {
            break;
        }
    }
    for i in (0..len).rev() {
        let more = if i > 0 { 32 } else { 0 };
        out.push(ALPHABET[(groups[i] | more) as usize] as char);
    }
}

/// Appends one digit (0–63), for lists of small values such as weights.
pub fn push_digit(out: &mut String, d: u8) {
    out.push(ALPHABET[usize::from(d.min(63))] as char);
}

/// Encodes strictly increasing numbers (document indexes) as the first number,
/// then each gap less one.
pub fn ascending(numbers: impl IntoIterator<Item = u32>) -> String {
    let mut out = String::new();
    push_ascending(&mut out, numbers);
    out
}

/// Appends strictly increasing numbers as [`ascending`] encodes them.
pub fn push_ascending(out: &mut String, numbers: impl IntoIterator<Item = u32>) {
    let mut previous: Option<u32> = None;
    for n in numbers {
        let value = match previous {
            None => u64::from(n),
            Some(p) => u64::from(n - p - 1),
        };
        push_number(out, value);
        previous = Some(n);
    }
}

/// The value of a digit of [`ALPHABET`], `None` for any other byte.
#[inline]
pub fn digit_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Decodes a list written with [`push_number`]; `None` if it is malformed. Used by
/// tests: the client has its own decoder.
pub fn decode_numbers(text: &str) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    let mut n: u64 = 0;
    let mut open = false;
    for b in text.bytes() {
        let v = u64::from(digit_value(b)?);
        n = n.checked_mul(32)? + (v & 31);
        open = true;
        if v < 32 {
            out.push(n);
            n = 0;
            open = false;
        }
    }
    (!open).then_some(out)
}

/// Decodes a list written with [`ascending`].
pub fn decode_ascending(text: &str) -> Option<Vec<u64>> {
    let raw = decode_numbers(text)?;
    let mut out = Vec::with_capacity(raw.len());
    for (i, v) in raw.into_iter().enumerate() {
        out.push(if i == 0 { v } else { out[i - 1] + v + 1 });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_values_are_positions_in_the_alphabet() {
        for (i, &d) in ALPHABET.iter().enumerate() {
            assert_eq!(digit_value(d), Some(i as u8));
        }
        for b in (0..=255u8).filter(|b| !ALPHABET.contains(b)) {
            assert_eq!(digit_value(b), None);
        }
    }

    #[test]
    fn small_numbers_take_one_character() {
        let mut s = String::new();
        for n in [0, 1, 31] {
            push_number(&mut s, n);
        }
        assert_eq!(s, "ABf");
        let mut s = String::new();
        push_number(&mut s, 32);
        assert_eq!(s, "hA");
    }

    #[test]
    fn round_trips() {
        let numbers = [0u64, 5, 31, 32, 33, 1023, 1024, 99_999, u64::from(u32::MAX)];
        let mut s = String::new();
        for n in numbers {
            push_number(&mut s, n);
        }
        assert!(s.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(decode_numbers(&s).unwrap(), numbers);
        let ids = [3u32, 4, 10, 500, 501, 100_000];
        let encoded = ascending(ids);
        assert_eq!(decode_ascending(&encoded).unwrap(), ids.map(u64::from));
        assert_eq!(&encoded[..2], "DA");
        assert!(decode_numbers("h").is_none());
    }
}
