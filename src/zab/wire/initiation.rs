//! The connection-initiation message: the first bytes on every
//! election-port connection, from the side that opened it
//! (QuorumCnxManager.startConnection; parsed by handleConnection and
//! InitialMessage.parse in Apache ZooKeeper 3.8).
//!
//! ```text
//! versioned (ZooKeeper ≥ 3.5):
//!     protocolVersion  long   -65536 (V1: one address) or -65535 (V2: several,
//!                             sent only with zookeeper.multiAddress.enabled)
//!     sid              long
//!     length           int    1..=2048 (InitialMessage's maxBuffer)
//!     addresses        length bytes of "host:port" joined by '|'
//!                      (an IPv6 host in brackets: "[::1]:3888")
//! old (before 3.5):
//!     sid              long   a first long >= 0 is the sid and nothing follows
//! ```
//!
//! 3.8 sends V1 unless multi-address is enabled and accepts both. The
//! receiver connects back to these addresses when it wins the tie-break
//! (see [`tiebreak`](super::tiebreak)). Wildcard hosts (0.0.0.0, ::) are
//! dropped, as Apache drops them.

use std::net::IpAddr;

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::WireError;
use crate::zab::types::Sid;

/// The protocol version 3.5+ sends (one address).
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// The protocol version with several '|'-separated addresses (3.6+).
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// The largest address string Apache reads (`QuorumCnxManager.maxBuffer`).
pub const MAX_ADDRESS_BYTES: usize = 2048;

/// Which of the three layouts a message used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiationFormat {
    /// Before 3.5: the sid alone.
    BareSid,
    /// [`PROTOCOL_VERSION_V1`].
    V1,
    /// [`PROTOCOL_VERSION_V2`].
    V2,
}

/// One election address, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddress {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

/// A parsed connection-initiation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiation {
    /// Layout.
    pub format: InitiationFormat,
    /// The sender's id (the bits of Java's long).
    pub sid: Sid,
    /// Where the sender's election port listens; empty for
    /// [`InitiationFormat::BareSid`] and when only wildcards were sent.
    pub addresses: Vec<PeerAddress>,
}

impl Initiation {
    /// What 3.8 sends by default: V1 with one address.
    pub fn v1(sid: Sid, address: PeerAddress) -> Initiation {
        Initiation {
            format: InitiationFormat::V1,
            sid,
            addresses: vec![address],
        }
    }

    /// Appends the message to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let version = match self.format {
            InitiationFormat::BareSid => {
                out.put_i64(self.sid as i64);
                return;
            }
            InitiationFormat::V1 => PROTOCOL_VERSION_V1,
            InitiationFormat::V2 => PROTOCOL_VERSION_V2,
        };
        let text = self
            .addresses
            .iter()
            .map(|a| match a.host.contains(':') {
                true => format!("[{}]:{}", a.host, a.port),
                false => format!("{}:{}", a.host, a.port),
            })
            .collect::<Vec<_>>()
            .join("|");
        out.put_i64(version);
        out.put_i64(self.sid as i64);
        out.put_i32(text.len() as i32);
        out.put_slice(text.as_bytes());
    }

    /// Parses a message from the front of `buf`: `Ok(None)` until it is
    /// complete, then the message and how many bytes it took.
    pub fn decode(buf: &[u8]) -> Result<Option<(Initiation, usize)>, WireError> {
        let Some(first) = read_i64(buf, 0) else {
            return Ok(None);
        };
        if first >= 0 {
            let msg = Initiation {
                format: InitiationFormat::BareSid,
                sid: first as Sid,
                addresses: Vec::new(),
            };
            return Ok(Some((msg, 8)));
        }
        let format = match first {
            PROTOCOL_VERSION_V1 => InitiationFormat::V1,
            PROTOCOL_VERSION_V2 => InitiationFormat::V2,
            v => return Err(WireError::ProtocolVersion(v)),
        };
        let (Some(sid), Some(len)) = (read_i64(buf, 8), read_i32(buf, 16)) else {
            return Ok(None);
        };
        if len <= 0 || len as usize > MAX_ADDRESS_BYTES {
            return Err(WireError::Length {
                field: "initiation addresses",
                len: len.into(),
                max: MAX_ADDRESS_BYTES,
            });
        }
        let end = 20 + len as usize;
        let Some(raw) = buf.get(20..end) else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(raw);
        let mut addresses = Vec::new();
        for part in text.split('|') {
            let addr = parse_address(part)?;
            let wildcard = addr
                .host
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
            if !wildcard {
                addresses.push(addr);
            }
        }
        let msg = Initiation {
            format,
            sid: sid as Sid,
            addresses,
        };
        Ok(Some((msg, end)))
    }
}

/// `ConfigUtils.getHostAndPort` followed by the port check: "host:port" or
/// "[v6]:port", exactly one port.
fn parse_address(s: &str) -> Result<PeerAddress, WireError> {
    let bad = || WireError::Address(s.to_string());
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
            (host, tail.strip_prefix(':').ok_or_else(bad)?)
        }
        None => s.split_once(':').ok_or_else(bad)?,
    };
    if port.contains(':') {
        return Err(bad());
    }
    let port = port.parse::<u16>().map_err(|_| bad())?;
    Ok(PeerAddress {
        host: host.to_string(),
        port,
    })
}

fn read_i64(buf: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// The initiation message as a tokio-util codec: a driver reads it with
/// `FramedRead::new(sock, InitiationCodec)` and then switches to
/// [`ElectionFrameCodec`](super::ElectionFrameCodec) with `map_decoder`,
/// keeping whatever was already buffered.
#[derive(Debug, Clone, Copy, Default)]
pub struct InitiationCodec;

impl Decoder for InitiationCodec {
    type Item = Initiation;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Initiation>, WireError> {
        match Initiation::decode(src)? {
            None => Ok(None),
            Some((msg, used)) => {
                src.advance(used);
                Ok(Some(msg))
            }
        }
    }
}

impl Encoder<&Initiation> for InitiationCodec {
    type Error = WireError;

    fn encode(&mut self, msg: &Initiation, dst: &mut BytesMut) -> Result<(), WireError> {
        msg.encode(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Option<(Initiation, usize)>, WireError> {
        Initiation::decode(bytes)
    }

    #[test]
    fn v1_golden_bytes_as_start_connection_writes_them() {
        // writeLong(-65536), writeLong(1), writeInt(14), "127.0.0.1:3888".
        let mut want = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00];
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 14]);
        want.extend_from_slice(b"127.0.0.1:3888");
        let msg = Initiation::v1(
            1,
            PeerAddress {
                host: "127.0.0.1".into(),
                port: 3888,
            },
        );
        let mut out = BytesMut::new();
        msg.encode(&mut out);
        assert_eq!(&out[..], &want[..]);
        assert_eq!(decode_all(&want).unwrap(), Some((msg, want.len())));
    }

    #[test]
    fn v2_carries_several_addresses_and_ipv6_in_brackets() {
        let msg = Initiation {
            format: InitiationFormat::V2,
            sid: 7,
            addresses: vec![
                PeerAddress {
                    host: "10.0.0.1".into(),
                    port: 1,
                },
                PeerAddress {
                    host: "::1".into(),
                    port: 2,
                },
            ],
        };
        let mut out = BytesMut::new();
        msg.encode(&mut out);
        assert_eq!(&out[20..], b"10.0.0.1:1|[::1]:2");
        assert_eq!(decode_all(&out).unwrap(), Some((msg, out.len())));
    }

    #[test]
    fn a_non_negative_first_long_is_a_bare_sid() {
        let got = decode_all(&5i64.to_be_bytes()).unwrap().unwrap();
        assert_eq!(got.0.format, InitiationFormat::BareSid);
        assert_eq!((got.0.sid, got.1), (5, 8));
        let got = decode_all(&0i64.to_be_bytes()).unwrap().unwrap();
        assert_eq!(got.0.sid, 0);
    }

    #[test]
    fn unknown_versions_and_bad_lengths_are_refused() {
        assert!(matches!(
            decode_all(&(-65534i64).to_be_bytes()),
            Err(WireError::ProtocolVersion(-65534))
        ));
        for len in [0i32, -1, 2049] {
            let mut b = BytesMut::new();
            b.put_i64(PROTOCOL_VERSION_V1);
            b.put_i64(1);
            b.put_i32(len);
            assert!(
                matches!(decode_all(&b), Err(WireError::Length { len: l, .. }) if l == len as i64),
                "length {len}"
            );
        }
    }

    #[test]
    fn wildcards_are_dropped_and_malformed_addresses_refused() {
        let msg = |text: &str| {
            let mut b = BytesMut::new();
            b.put_i64(PROTOCOL_VERSION_V1);
            b.put_i64(1);
            b.put_i32(text.len() as i32);
            b.put_slice(text.as_bytes());
            b
        };
        let got = decode_all(&msg("0.0.0.0:3888|[::]:1")).unwrap().unwrap();
        assert!(got.0.addresses.is_empty());
        for bad in [
            "host", "host:", "a:1:2", "[::1]", "[::1]x1", "h:99999", "h:-1",
        ] {
            assert!(
                matches!(decode_all(&msg(bad)), Err(WireError::Address(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_prefix_asks_for_more() {
        let mut out = BytesMut::new();
        Initiation::v1(
            3,
            PeerAddress {
                host: "localhost".into(),
                port: 2,
            },
        )
        .encode(&mut out);
        for cut in 0..out.len() {
            assert!(decode_all(&out[..cut]).unwrap().is_none(), "cut {cut}");
        }
    }
}
