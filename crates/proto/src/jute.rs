//! The Jute binary encoding: the primitives every record is built from.
//!
//! Jute is Apache ZooKeeper's serialization: big-endian fixed-width integers,
//! `boolean` as one byte, and length-prefixed strings, byte buffers and
//! vectors, where a length of -1 means "null". Generated records
//! (`records.rs`, from `jute/*.jute`) encode field by field through this
//! trait, so this file is the single place the wire encoding is written.
//!
//! Decoding works on `Bytes` so buffers are zero-copy slices of the frame.
//! A null `ustring` or `vector` decodes as empty (ZooKeeper treats the two
//! alike everywhere a client can send them); a null `buffer` stays `None`,
//! because ZooKeeper keeps and returns null node data distinctly from empty.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Why a Jute record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("record truncated: needed {needed} more bytes, {available} left")]
    Truncated {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length prefix was negative (other than the -1 that means null).
    #[error("invalid length {0}")]
    BadLength(i32),
    /// A type tag (e.g. a transaction type) that no record is defined for.
    #[error("unknown record type {0}")]
    UnknownType(i32),
    /// A record decoded, but a path in it breaks ZooKeeper's path rules
    /// (or names the root where a node is created or deleted): no write
    /// ZooKeeper prepares carries one, so the record is damaged or forged.
    #[error("{0}")]
    InvalidPath(#[from] super::path::InvalidPath),
}

/// A value with a Jute encoding.
pub trait Jute: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut BytesMut);
    /// Reads one value from the front of `src`, advancing it.
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError>;

    /// Encodes `self` into a fresh buffer.
    fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }
}

fn need(src: &Bytes, n: usize) -> Result<(), DecodeError> {
    if src.remaining() < n {
        Err(DecodeError::Truncated {
            needed: n,
            available: src.remaining(),
        })
    } else {
        Ok(())
    }
}

/// Reads a length prefix: `None` for null (-1), an error for other negatives
/// or for lengths larger than what is left (so a hostile length never makes
/// us allocate).
fn length(src: &mut Bytes, elem_min: usize) -> Result<Option<usize>, DecodeError> {
    let len = i32::decode(src)?;
    if len == -1 {
        return Ok(None);
    }
    if len < 0 {
        return Err(DecodeError::BadLength(len));
    }
    let len = len as usize;
    need(src, len.saturating_mul(elem_min))?;
    Ok(Some(len))
}

impl Jute for i32 {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(*self);
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        need(src, 4)?;
        Ok(src.get_i32())
    }
}

impl Jute for i64 {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i64(*self);
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        need(src, 8)?;
        Ok(src.get_i64())
    }
}

impl Jute for bool {
    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(u8::from(*self));
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        need(src, 1)?;
        Ok(src.get_u8() != 0)
    }
}

impl Jute for String {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        out.put_slice(self.as_bytes());
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        match length(src, 1)? {
            None => Ok(String::new()),
            Some(n) => {
                // As Java's `new String(bytes, UTF_8)`: malformed sequences
                // become U+FFFD, and path rules or lookups decide the rest
                // (a create of such a path is BADARGUMENTS, a read NONODE).
                let raw = src.split_to(n);
                Ok(String::from_utf8_lossy(&raw).into_owned())
            }
        }
    }
}

impl Jute for Option<Bytes> {
    fn encode(&self, out: &mut BytesMut) {
        match self {
            None => out.put_i32(-1),
            Some(b) => {
                out.put_i32(b.len() as i32);
                out.put_slice(b);
            }
        }
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(length(src, 1)?.map(|n| src.split_to(n)))
    }
}

impl<T: Jute> Jute for Vec<T> {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(src: &mut Bytes) -> Result<Self, DecodeError> {
        // Java's `startVector` takes -1 as null and any other negative count
        // as an empty list (its loop runs while index < count), so a create
        // with an ACL count of -5 is INVALIDACL there, not a decode error.
        let n = i32::decode(src)?;
        if n < 0 {
            return Ok(Vec::new());
        }
        // Every element takes at least one byte, which bounds the allocation.
        need(src, n as usize)?;
        (0..n).map(|_| T::decode(src)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_buffer_round_trips_as_minus_one() {
        let v: Option<Bytes> = None;
        let b = v.to_bytes();
        assert_eq!(&b[..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(Option::<Bytes>::decode(&mut b.clone()).unwrap(), None);
    }

    #[test]
    fn hostile_vector_length_is_rejected_without_allocating() {
        let mut b = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        assert!(matches!(
            Vec::<String>::decode(&mut b),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn negative_string_length_is_an_error() {
        let mut b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(String::decode(&mut b), Err(DecodeError::BadLength(-2)));
    }

    #[test]
    fn string_is_length_prefixed_utf8() {
        let s = "/zk/ü".to_string();
        let b = s.to_bytes();
        assert_eq!(&b[..4], &[0, 0, 0, 6]);
        assert_eq!(String::decode(&mut b.clone()).unwrap(), s);
    }

    #[test]
    fn malformed_utf8_becomes_replacement_characters_as_in_java() {
        let mut b = Bytes::from_static(&[0, 0, 0, 3, b'/', 0xff, 0xfe]);
        assert_eq!(String::decode(&mut b).unwrap(), "/\u{fffd}\u{fffd}");
    }

    #[test]
    fn vector_counts_below_minus_one_are_empty_as_in_java() {
        for n in [-1i32, -5, i32::MIN] {
            let mut b = Bytes::copy_from_slice(&n.to_be_bytes());
            assert_eq!(Vec::<i32>::decode(&mut b).unwrap(), Vec::<i32>::new());
            assert!(b.is_empty(), "only the count is consumed");
        }
    }
}
