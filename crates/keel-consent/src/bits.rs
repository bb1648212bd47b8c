//! Bit-level reading and writing of IAB consent segments.
//!
//! TCF and GPP segments are bit strings written six bits per base64url character, most significant
//! bit first, with no byte alignment; a standard base64 decoder (which works on bytes and rejects
//! lengths that do not fill whole bytes) does not fit, so the 6-bit mapping is done here.

use crate::error::{DecodeError, DecodeErrorKind};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Reads fields from one base64url-encoded segment.
#[derive(Debug, Clone)]
pub(crate) struct BitReader {
    bits: Vec<bool>,
    pos: usize,
}

impl BitReader {
    /// Decodes the base64url characters of one segment into bits.
    pub(crate) fn from_base64url(segment: &str) -> Result<Self, DecodeError> {
        if segment.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::Empty));
        }
        let mut bits = Vec::with_capacity(segment.len() * 6);
        for (position, c) in segment.chars().enumerate() {
            let value = u8::try_from(c)
                .ok()
                .and_then(sextet)
                .ok_or(DecodeError::new(DecodeErrorKind::InvalidBase64url {
                    character: c,
                    position,
                }))?;
            for shift in (0..6).rev() {
                bits.push((value >> shift) & 1 == 1);
            }
        }
        Ok(Self { bits, pos: 0 })
    }

    /// The current bit offset.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bits not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bits.len() - self.pos
    }

    /// Reads an unsigned integer of `width` bits (at most 64).
    pub(crate) fn int(&mut self, width: usize, field: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        if self.remaining() < width {
            return Err(DecodeError::new(DecodeErrorKind::Truncated {
                needed: width,
                available: self.remaining(),
            })
            .at(field, start));
        }
        let mut value = 0u64;
        for &bit in &self.bits[start..start + width] {
            value = (value << 1) | u64::from(bit);
        }
        self.pos += width;
        Ok(value)
    }

    /// Reads an integer of at most 16 bits.
    pub(crate) fn u16(&mut self, width: usize, field: &'static str) -> Result<u16, DecodeError> {
        debug_assert!(width <= 16);
        // Cannot fail: a value of at most 16 bits fits.
        Ok(u16::try_from(self.int(width, field)?).unwrap_or(u16::MAX))
    }

    /// Reads an integer of at most 8 bits.
    pub(crate) fn u8(&mut self, width: usize, field: &'static str) -> Result<u8, DecodeError> {
        debug_assert!(width <= 8);
        Ok(u8::try_from(self.int(width, field)?).unwrap_or(u8::MAX))
    }

    /// Reads one bit as a boolean.
    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.int(1, field)? == 1)
    }

    /// Reads a bitfield of `len` bits and returns the 1-based ids of the set bits.
    pub(crate) fn bitfield_ids(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Vec<u16>, DecodeError> {
        let start = self.pos;
        if self.remaining() < len {
            return Err(DecodeError::new(DecodeErrorKind::Truncated {
                needed: len,
                available: self.remaining(),
            })
            .at(field, start));
        }
        let ids = self.bits[start..start + len]
            .iter()
            .enumerate()
            .filter(|(_, set)| **set)
            .map(|(i, _)| u16::try_from(i + 1).unwrap_or(u16::MAX))
            .collect();
        self.pos += len;
        Ok(ids)
    }

    /// Reads a Fibonacci-coded positive integer (Zeckendorf bits, least significant first, ended by `11`).
    pub(crate) fn fibonacci(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let (mut a, mut b) = (1u64, 2u64);
        let mut value = 0u64;
        let mut previous = false;
        loop {
            let Some(&bit) = self.bits.get(self.pos) else {
                return Err(DecodeError::new(DecodeErrorKind::Truncated {
                    needed: 1,
                    available: 0,
                })
                .at(field, start));
            };
            self.pos += 1;
            if bit && previous {
                return Ok(value);
            }
            if bit {
                value = value
                    .checked_add(a)
                    .ok_or(DecodeError::new(DecodeErrorKind::InvalidFibonacci).at(field, start))?;
            }
            previous = bit;
            let next = a.checked_add(b);
            a = b;
            b = match next {
                Some(n) => n,
                None => {
                    return Err(
                        DecodeError::new(DecodeErrorKind::InvalidFibonacci).at(field, start)
                    );
                }
            };
        }
    }

    /// Checks that whatever is left is zero padding.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        let rest = &self.bits[self.pos..];
        if rest.iter().any(|bit| *bit) {
            return Err(
                DecodeError::new(DecodeErrorKind::TrailingData { bits: rest.len() })
                    .at("padding", self.pos),
            );
        }
        Ok(())
    }
}

/// Writes fields into a bit string and renders it as base64url.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Writes the low `width` bits of `value`, most significant first.
    pub(crate) fn int(&mut self, value: u64, width: usize) {
        for shift in (0..width).rev() {
            self.bits.push((value >> shift) & 1 == 1);
        }
    }

    /// Writes one bit.
    pub(crate) fn bool(&mut self, value: bool) {
        self.bits.push(value);
    }

    /// Writes a bitfield of `len` bits with the given 1-based ids set.
    pub(crate) fn bitfield_ids(&mut self, ids: &[u16], len: usize) {
        let start = self.bits.len();
        self.bits.resize(start + len, false);
        for &id in ids {
            let id = usize::from(id);
            if (1..=len).contains(&id) {
                self.bits[start + id - 1] = true;
            }
        }
    }

    /// Writes a positive integer in Fibonacci coding.
    pub(crate) fn fibonacci(&mut self, mut value: u64) {
        let mut fibs = vec![1u64, 2];
        while let Some(next) = fibs[fibs.len() - 2].checked_add(fibs[fibs.len() - 1]) {
            if next > value {
                break;
            }
            fibs.push(next);
        }
        while fibs.last().is_some_and(|f| *f > value) && fibs.len() > 1 {
            fibs.pop();
        }
        let mut out = vec![false; fibs.len()];
        for (i, f) in fibs.iter().enumerate().rev() {
            if *f <= value {
                out[i] = true;
                value -= f;
            }
        }
        self.bits.extend(out);
        self.bits.push(true);
    }

    /// Pads with zeros to whole base64url characters and renders the string.
    pub(crate) fn to_base64url(&self) -> String {
        let mut out = String::with_capacity(self.bits.len().div_ceil(6));
        for chunk in self.bits.chunks(6) {
            let mut value = 0usize;
            for i in 0..6 {
                value = (value << 1) | usize::from(chunk.get(i).copied().unwrap_or(false));
            }
            out.push(char::from(ALPHABET[value]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fibonacci_round_trips() {
        for value in [1u64, 2, 3, 4, 5, 6, 7, 8, 12, 13, 100, 1000, 65_535] {
            let mut w = BitWriter::new();
            w.fibonacci(value);
            w.int(0, 6);
            let mut r = BitReader::from_base64url(&w.to_base64url()).unwrap();
            assert_eq!(r.fibonacci("x").unwrap(), value, "value {value}");
        }
    }

    #[test]
    fn fibonacci_known_codes() {
        // 1 = "11", 2 = "011", 3 = "0011", 4 = "1011" per the GPP specification's table.
        let mut w = BitWriter::new();
        w.fibonacci(4);
        assert_eq!(w.bits, vec![true, false, true, true]);
    }

    #[test]
    fn rejects_bad_characters() {
        let err = BitReader::from_base64url("AB+C").unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::InvalidBase64url {
                character: '+',
                position: 2
            }
        );
    }

    #[test]
    fn truncation_names_field_and_offset() {
        let mut r = BitReader::from_base64url("A").unwrap();
        r.int(4, "a").unwrap();
        let err = r.int(6, "b").unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::Truncated {
                needed: 6,
                available: 2
            }
        );
        assert_eq!((err.field, err.bit_offset), (Some("b"), Some(4)));
    }
}
