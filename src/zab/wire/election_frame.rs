//! Election-port framing after the initiation message: every message is
//! an int length followed by that many bytes (QuorumCnxManager.SendWorker
//! writes `writeInt(capacity)` + the buffer; RecvWorker refuses a length
//! `<= 0` or `> PACKETMAXSIZE` (512 KiB) and closes the connection).
//!
//! The payload is a notification (see [`notification`](super::notification));
//! a frame that does not parse as one is skipped by Apache, so this codec
//! yields raw frames and the caller decodes them.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::WireError;
use super::notification::{encode_notification, notification_len};
use crate::zab::types::Notification;

/// `QuorumCnxManager.PACKETMAXSIZE`.
pub const MAX_ELECTION_FRAME: usize = 512 * 1024;

/// Length-prefixed election messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct ElectionFrameCodec;

impl Decoder for ElectionFrameCodec {
    type Item = Bytes;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, WireError> {
        let Some(head) = src.get(..4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes(head.try_into().expect("4 bytes"));
        if len <= 0 || len as usize > MAX_ELECTION_FRAME {
            return Err(WireError::Length {
                field: "election frame",
                len: len.into(),
                max: MAX_ELECTION_FRAME,
            });
        }
        let total = 4 + len as usize;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len as usize).freeze()))
    }
}

impl Encoder<&Notification> for ElectionFrameCodec {
    type Error = WireError;

    fn encode(&mut self, n: &Notification, dst: &mut BytesMut) -> Result<(), WireError> {
        let len = notification_len(n);
        dst.reserve(4 + len);
        dst.put_i32(len as i32);
        encode_notification(n, dst);
        Ok(())
    }
}

impl Encoder<Bytes> for ElectionFrameCodec {
    type Error = WireError;

    fn encode(&mut self, msg: Bytes, dst: &mut BytesMut) -> Result<(), WireError> {
        if msg.is_empty() || msg.len() > MAX_ELECTION_FRAME {
            return Err(WireError::Length {
                field: "election frame",
                len: msg.len() as i64,
                max: MAX_ELECTION_FRAME,
            });
        }
        dst.reserve(4 + msg.len());
        dst.put_i32(msg.len() as i32);
        dst.put_slice(&msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_at_their_length_and_wait_for_the_rest() {
        let mut codec = ElectionFrameCodec;
        let mut buf = BytesMut::new();
        codec.encode(Bytes::from_static(b"abc"), &mut buf).unwrap();
        codec.encode(Bytes::from_static(b"de"), &mut buf).unwrap();
        assert_eq!(&buf[..], b"\0\0\0\x03abc\0\0\0\x02de");
        for cut in 0..7 {
            let mut part = BytesMut::from(&buf[..cut]);
            assert!(codec.decode(&mut part).unwrap().is_none(), "cut {cut}");
        }
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"abc"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"de"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
    }

    #[test]
    fn lengths_apache_refuses_are_errors() {
        for len in [0i32, -1, i32::MIN, (MAX_ELECTION_FRAME + 1) as i32] {
            let mut buf = BytesMut::new();
            buf.put_i32(len);
            let err = ElectionFrameCodec.decode(&mut buf).unwrap_err();
            assert!(
                matches!(err, WireError::Length { field: "election frame", len: l, .. } if l == len as i64),
                "{len}: {err}"
            );
        }
        let mut buf = BytesMut::new();
        buf.put_i32(MAX_ELECTION_FRAME as i32);
        assert!(ElectionFrameCodec.decode(&mut buf).unwrap().is_none());
    }
}
