//! The connect handshake: the first frame of every connection.
//!
//! `ConnectRequest` may be followed by one `readOnly` boolean (clients since
//! 3.4 send it). The server answers `ConnectResponse`, followed by its own
//! `readOnly` boolean only if the client sent one ("old clients" get the
//! bare record), exactly as Apache ZooKeeper does.

use bytes::{Bytes, BytesMut};

use super::jute::{DecodeError, Jute};
use super::records::proto::{ConnectRequest, ConnectResponse};

/// A decoded handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The Jute record.
    pub req: ConnectRequest,
    /// `Some(flag)` if the client sent the trailing readOnly byte.
    pub read_only: Option<bool>,
}

impl Connect {
    /// Decodes the first frame of a connection.
    pub fn decode(mut src: Bytes) -> Result<Connect, DecodeError> {
        let req = ConnectRequest::decode(&mut src)?;
        let read_only = if src.is_empty() {
            None
        } else {
            Some(bool::decode(&mut src)?)
        };
        Ok(Connect { req, read_only })
    }

    /// Encodes a handshake (client side).
    pub fn encode(&self, out: &mut BytesMut) {
        self.req.encode(out);
        if let Some(ro) = self.read_only {
            ro.encode(out);
        }
    }
}

/// Encodes the handshake reply; `read_only` is `None` for old clients.
pub fn encode_response(rsp: &ConnectResponse, read_only: Option<bool>, out: &mut BytesMut) {
    rsp.encode(out);
    if let Some(ro) = read_only {
        ro.encode(out);
    }
}

/// Decodes a handshake reply (client side).
pub fn decode_response(mut src: Bytes) -> Result<(ConnectResponse, bool), DecodeError> {
    let rsp = ConnectResponse::decode(&mut src)?;
    let ro = if src.is_empty() {
        false
    } else {
        bool::decode(&mut src)?
    };
    Ok((rsp, ro))
}

/// Decodes a handshake reply keeping whether the readOnly byte was present
/// (for byte-exact re-encoding).
pub fn decode_response_exact(
    mut src: Bytes,
) -> Result<(ConnectResponse, Option<bool>), DecodeError> {
    let rsp = ConnectResponse::decode(&mut src)?;
    let ro = if src.is_empty() {
        None
    } else {
        Some(bool::decode(&mut src)?)
    };
    Ok((rsp, ro))
}
