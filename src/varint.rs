//! Variable-length numbers (LEB128): seven bits a byte, low bits first, the
//! high bit set on every byte but the last. Small numbers, the usual case for
//! lengths and gaps, take one byte. Used by the search index's pair lists and
//! the stored documents of `.annals-cache/`.

/// Appends `n`.
#[inline]
pub fn push(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a number from the bytes `next` gives; `None` if they end first or
/// the number runs past 64 bits.
#[inline]
pub fn read_with(mut next: impl FnMut() -> Option<u8>) -> Option<u64> {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let b = next()?;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Reads a number at `at` in `bytes`, moving `at` past it.
#[inline]
pub fn read(bytes: &[u8], at: &mut usize) -> Option<u64> {
    read_with(|| {
        let b = *bytes.get(*at)?;
        *at += 1;
        Some(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_as_written() {
        let numbers = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut bytes = Vec::new();
        for n in numbers {
            push(&mut bytes, n);
        }
        let mut at = 0;
        for n in numbers {
            assert_eq!(read(&bytes, &mut at), Some(n));
        }
        assert_eq!(at, bytes.len());
        assert_eq!(read(&bytes, &mut at), None);
        // Cut short, or longer than 64 bits: no number.
        assert_eq!(read(&[0x80], &mut 0), None);
        assert_eq!(read(&[0xff; 11], &mut 0), None);
    }
}
