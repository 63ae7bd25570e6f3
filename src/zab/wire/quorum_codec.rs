//! The quorum-port codec: [`Packet`]s in and out of a byte stream, for
//! `tokio_util::codec::Framed` or for calling by hand.
//!
//! Decoding yields `Ok(None)` until a whole packet is buffered (for SNAP:
//! the record, the image and the signature), then
//! `Some(Ok(packet))`, or `Some(Err(MessageError))` for a whole record we
//! cannot use (unknown or reconfiguration type, bad LearnerInfo...), whose
//! bytes are consumed so the caller may carry on as Apache does. A
//! [`WireError`] means the stream can no longer be followed.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::{MessageError, WireError};
use super::packet::{decode_packet, encode_packet, Role};
use super::quorum_packet::{RawPacket, JUTE_MAX_LENGTH};
use super::snap_image::{ImageScan, SIGNATURE_LEN};
use crate::zab::types::{Packet, Zxid};

/// One end of a quorum-port connection.
#[derive(Debug, Clone)]
pub struct QuorumCodec {
    role: Role,
    max_len: usize,
    snap: Option<(Zxid, ImageScan)>,
}

impl QuorumCodec {
    /// A codec for the side that plays `role` (it encodes as `role` sends).
    pub fn new(role: Role) -> QuorumCodec {
        QuorumCodec {
            role,
            max_len: JUTE_MAX_LENGTH,
            snap: None,
        }
    }

    /// Changes the largest buffer or string accepted (default
    /// [`JUTE_MAX_LENGTH`], Apache's default).
    pub fn with_max_len(mut self, max_len: usize) -> QuorumCodec {
        self.max_len = max_len;
        self
    }

    /// The role this codec encodes for.
    pub fn role(&self) -> Role {
        self.role
    }
}

impl Decoder for QuorumCodec {
    type Item = Result<Packet, MessageError>;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, WireError> {
        if self.snap.is_none() {
            let Some(len) = RawPacket::scan(src, self.max_len)? else {
                return Ok(None);
            };
            let decoded = RawPacket::decode(src.split_to(len).freeze()).and_then(decode_packet);
            match decoded {
                Ok(Packet::Snap { zxid, .. }) => {
                    self.snap = Some((zxid, ImageScan::new(self.max_len)));
                }
                other => return Ok(Some(other)),
            }
        }
        let (zxid, scan) = self.snap.as_mut().expect("a SNAP image is being read");
        let zxid = *zxid;
        let Some(image_len) = scan.advance(src)? else {
            return Ok(None);
        };
        self.snap = None;
        let image = src.split_to(image_len).freeze();
        src.advance(SIGNATURE_LEN);
        Ok(Some(Ok(Packet::Snap { zxid, image })))
    }
}

impl Encoder<&Packet> for QuorumCodec {
    type Error = WireError;

    fn encode(&mut self, p: &Packet, dst: &mut BytesMut) -> Result<(), WireError> {
        encode_packet(p, self.role, dst);
        Ok(())
    }
}

impl Encoder<Packet> for QuorumCodec {
    type Error = WireError;

    fn encode(&mut self, p: Packet, dst: &mut BytesMut) -> Result<(), WireError> {
        encode_packet(&p, self.role, dst);
        Ok(())
    }
}
