//! The QuorumPacket record as it travels on the quorum port, keeping the
//! null/empty distinction that the generated `QuorumPacket` loses.
//!
//! ```text
//! type      int
//! zxid      long
//! data      buffer: int length (-1 = null), then the bytes
//! authinfo  vector<Id>: int count (-1 = null), then count × Id{scheme ustring, id ustring}
//! ```
//!
//! There is no frame around it: Learner.writePacket and LearnerHandler
//! call `BinaryOutputArchive.writeRecord` straight onto the socket, and
//! the reader reads field by field. So the only way to know where a
//! packet ends is to walk its length prefixes, which [`RawPacket::scan`]
//! does without copying. Apache refuses a buffer or string longer than
//! `jute.maxbuffer` + `zookeeper.jute.maxbuffer.extrasize` (both 0xfffff
//! by default: BinaryInputArchive.checkLength); vector counts are not
//! checked there, we bound them by what the limit could hold.
//!
//! Apache writes `null` (not an empty buffer) wherever it has no data and
//! a null authinfo on everything but REQUEST; [`put_header`] and friends
//! let the packet encoder reproduce that byte for byte.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{MessageError, WireError};
use crate::proto::jute::Jute;
use crate::proto::records::data::Id;

/// Apache's default limit on one buffer or string: `jute.maxbuffer`
/// (0xfffff) plus the default extra allowance (the same again).
pub const JUTE_MAX_LENGTH: usize = 0xfffff + 0xfffff;

/// One QuorumPacket, fields as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPacket {
    /// Packet type (`Leader.PROPOSAL` etc.).
    pub kind: i32,
    /// zxid field.
    pub zxid: i64,
    /// data buffer; `None` = null.
    pub data: Option<Bytes>,
    /// authinfo vector; `None` = null.
    pub authinfo: Option<Vec<Id>>,
}

impl RawPacket {
    /// Appends the record.
    pub fn encode(&self, out: &mut BytesMut) {
        put_header(out, self.kind, self.zxid);
        put_buffer(out, self.data.as_deref());
        match &self.authinfo {
            None => out.put_i32(-1),
            Some(ids) => ids.encode(out),
        }
    }

    /// The length of the record at the front of `buf`, or `None` if it is
    /// not all there yet. Errors name the length that is out of bounds.
    pub fn scan(buf: &[u8], max_len: usize) -> Result<Option<usize>, WireError> {
        let mut at = 12;
        if skip_sized(buf, &mut at, "QuorumPacket.data", max_len)?.is_none() {
            return Ok(None);
        }
        let Some(count) = read_i32(buf, at) else {
            return Ok(None);
        };
        at += 4;
        // An Id is at least two 4-byte lengths.
        let max_count = max_len / 8;
        if count < -1 || count as i64 > max_count as i64 {
            return Err(WireError::Length {
                field: "QuorumPacket.authinfo",
                len: count.into(),
                max: max_count,
            });
        }
        for _ in 0..count.max(0) {
            for field in ["QuorumPacket.authinfo.scheme", "QuorumPacket.authinfo.id"] {
                if skip_sized(buf, &mut at, field, max_len)?.is_none() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(at))
    }

    /// Decodes exactly one record (the bytes [`scan`](Self::scan)
    /// measured). The lengths were checked by the scan, so nothing should
    /// fail here (strings that are not UTF-8 decode with replacement
    /// characters, as in Java); should it, the record's bytes are known, so
    /// that is a [`MessageError`], not a stream error.
    pub fn decode(mut src: Bytes) -> Result<RawPacket, MessageError> {
        let malformed = |e: crate::proto::jute::DecodeError| MessageError::Malformed {
            what: "QuorumPacket",
            reason: e.to_string(),
        };
        let kind = i32::decode(&mut src).map_err(malformed)?;
        let zxid = i64::decode(&mut src).map_err(malformed)?;
        let data = Option::<Bytes>::decode(&mut src).map_err(malformed)?;
        let count = i32::decode(&mut src).map_err(malformed)?;
        let authinfo = match count {
            -1 => None,
            n => {
                let mut ids = Vec::with_capacity(n.clamp(0, 16) as usize);
                for _ in 0..n {
                    ids.push(Id::decode(&mut src).map_err(malformed)?);
                }
                Some(ids)
            }
        };
        Ok(RawPacket {
            kind,
            zxid,
            data,
            authinfo,
        })
    }
}

/// Writes `type` and `zxid`.
pub fn put_header(out: &mut BytesMut, kind: i32, zxid: i64) {
    out.put_i32(kind);
    out.put_i64(zxid);
}

/// Writes a jute buffer; `None` as the null length -1.
pub fn put_buffer(out: &mut BytesMut, data: Option<&[u8]>) {
    match data {
        None => out.put_i32(-1),
        Some(b) => {
            out.put_i32(b.len() as i32);
            out.put_slice(b);
        }
    }
}

/// Writes a null authinfo vector.
pub fn put_null_authinfo(out: &mut BytesMut) {
    out.put_i32(-1);
}

pub(super) fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Steps over a length-prefixed buffer or string at `*at` (null allowed):
/// `Some(())` when it is all in `buf`, `None` when more bytes are needed.
pub(super) fn skip_sized(
    buf: &[u8],
    at: &mut usize,
    field: &'static str,
    max_len: usize,
) -> Result<Option<()>, WireError> {
    let Some(len) = read_i32(buf, *at) else {
        return Ok(None);
    };
    if len == -1 {
        *at += 4;
        return Ok(Some(()));
    }
    if len < 0 || len as usize > max_len {
        return Err(WireError::Length {
            field,
            len: len.into(),
            max: max_len,
        });
    }
    let end = *at + 4 + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    *at = end;
    Ok(Some(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RawPacket {
        RawPacket {
            kind: 1,
            zxid: -1,
            data: Some(Bytes::from_static(b"req")),
            authinfo: Some(vec![Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            }]),
        }
    }

    #[test]
    fn scan_measures_exactly_one_record() {
        for p in [
            sample(),
            RawPacket {
                data: None,
                authinfo: None,
                ..sample()
            },
        ] {
            let mut out = BytesMut::new();
            p.encode(&mut out);
            let len = out.len();
            out.put_slice(b"next");
            assert_eq!(RawPacket::scan(&out, JUTE_MAX_LENGTH).unwrap(), Some(len));
            for cut in 0..len {
                assert_eq!(RawPacket::scan(&out[..cut], JUTE_MAX_LENGTH).unwrap(), None);
            }
            assert_eq!(RawPacket::decode(out.split_to(len).freeze()).unwrap(), p);
        }
    }

    #[test]
    fn absurd_lengths_name_their_field() {
        let mut out = BytesMut::new();
        put_header(&mut out, 2, 0);
        out.put_i32(JUTE_MAX_LENGTH as i32 + 1);
        let err = RawPacket::scan(&out, JUTE_MAX_LENGTH).unwrap_err();
        assert!(
            matches!(
                err,
                WireError::Length {
                    field: "QuorumPacket.data",
                    ..
                }
            ),
            "{err}"
        );

        let mut out = BytesMut::new();
        put_header(&mut out, 2, 0);
        out.put_i32(-2);
        assert!(RawPacket::scan(&out, JUTE_MAX_LENGTH).is_err());

        let mut out = BytesMut::new();
        put_header(&mut out, 1, 0);
        put_buffer(&mut out, None);
        out.put_i32(i32::MAX);
        let err = RawPacket::scan(&out, JUTE_MAX_LENGTH).unwrap_err();
        assert!(
            matches!(
                err,
                WireError::Length {
                    field: "QuorumPacket.authinfo",
                    ..
                }
            ),
            "{err}"
        );

        let mut out = BytesMut::new();
        put_header(&mut out, 1, 0);
        put_buffer(&mut out, None);
        out.put_i32(1);
        out.put_i32(-7);
        let err = RawPacket::scan(&out, JUTE_MAX_LENGTH).unwrap_err();
        assert!(
            matches!(
                err,
                WireError::Length {
                    field: "QuorumPacket.authinfo.scheme",
                    len: -7,
                    ..
                }
            ),
            "{err}"
        );
    }
}
