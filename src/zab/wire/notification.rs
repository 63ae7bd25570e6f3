//! A fast-leader-election notification as bytes (the payload of one
//! election frame): FastLeaderElection.buildMsg writes it,
//! FastLeaderElection.Messenger.WorkerReceiver reads it.
//!
//! ```text
//! state         int    ServerState ordinal (0 LOOKING .. 3 OBSERVING)
//! leader        long   proposed leader
//! zxid          long   proposed leader's last zxid
//! electionEpoch long   the sender's round
//! peerEpoch     long   proposed leader's epoch          (absent in the 28-byte form)
//! version       int    message version, 2 in 3.8         (ignored in the 40-byte form)
//! configLength  int    only when version > 1; 0..=message length
//! config        bytes  the sender's quorum config as text
//! ```
//!
//! What the reader accepts, as Apache does: fewer than 28 bytes is
//! refused; exactly 28 is the pre-3.4 form (peerEpoch = the zxid's epoch);
//! exactly 40 is read without its version (3.4.0–3.4.5 sent no version;
//! buildMsg's 40-byte test form has version 1 there, which is ignored
//! too); any other length must hold the version, and the config when the
//! version is above 1. Bytes after the config are ignored. Version 0/1
//! messages carry no config, which decodes as empty. We always send
//! version 2 with our config (44 + config bytes).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::error::MessageError;
use crate::zab::types::{Notification, ServerState, Sid, Zxid};

/// `FastLeaderElection.Notification.CURRENTVERSION`.
pub const NOTIFICATION_VERSION: i32 = 2;

/// Bytes [`encode_notification`] writes for `n`.
pub fn notification_len(n: &Notification) -> usize {
    44 + n.config.len()
}

/// Appends `n` as buildMsg lays it out (version 2, with config).
pub fn encode_notification(n: &Notification, out: &mut BytesMut) {
    out.reserve(notification_len(n));
    out.put_i32(n.state.ordinal());
    out.put_i64(n.leader as i64);
    out.put_i64(n.zxid.0);
    out.put_i64(n.round);
    out.put_i64(n.peer_epoch);
    out.put_i32(NOTIFICATION_VERSION);
    out.put_i32(n.config.len() as i32);
    out.put_slice(&n.config);
}

/// Reads one notification from a whole election frame.
pub fn decode_notification(msg: &Bytes) -> Result<Notification, MessageError> {
    let len = msg.len();
    if len < 28 {
        return Err(MessageError::ShortNotification(len));
    }
    let malformed = |reason: String| MessageError::Malformed {
        what: "notification",
        reason,
    };
    let mut src = msg.clone();
    let state = src.get_i32();
    let leader = src.get_i64();
    let zxid = src.get_i64();
    let round = src.get_i64();
    let (peer_epoch, version) = match len {
        28 => (zxid >> 32, 0),
        40 => (src.get_i64(), 0),
        _ if len < 40 => {
            return Err(malformed(format!(
                "{len} bytes: neither the 28- or 40-byte form nor long enough for a version"
            )))
        }
        _ => (src.get_i64(), src.get_i32()),
    };
    let mut config = Bytes::new();
    if version > 1 {
        if src.remaining() < 4 {
            return Err(malformed(format!(
                "version {version} without a config length"
            )));
        }
        let config_len = src.get_i32();
        if config_len < 0 || config_len as usize > len {
            return Err(malformed(format!(
                "config length {config_len} in {len} bytes"
            )));
        }
        if src.remaining() < config_len as usize {
            return Err(malformed(format!(
                "config of {config_len} bytes but {} left",
                src.remaining()
            )));
        }
        config = src.split_to(config_len as usize);
    }
    let state = ServerState::from_ordinal(state).ok_or(MessageError::UnknownState(state))?;
    Ok(Notification {
        leader: leader as Sid,
        zxid: Zxid(zxid),
        round,
        state,
        peer_epoch,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification {
            leader: 3,
            zxid: Zxid::new(1, 5),
            round: 2,
            state: ServerState::Looking,
            peer_epoch: 1,
            config: Bytes::from_static(b"server.1=127.0.0.1:2:3:participant\nversion=0"),
        }
    }

    #[test]
    fn golden_bytes_as_build_msg_writes_them() {
        let n = Notification {
            config: Bytes::from_static(b"v"),
            ..sample()
        };
        let mut out = BytesMut::new();
        encode_notification(&n, &mut out);
        let mut want = vec![0, 0, 0, 0]; // LOOKING
        want.extend_from_slice(&3i64.to_be_bytes());
        want.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 5]);
        want.extend_from_slice(&2i64.to_be_bytes());
        want.extend_from_slice(&1i64.to_be_bytes());
        want.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1, b'v']);
        assert_eq!(&out[..], &want[..]);
        assert_eq!(out.len(), notification_len(&n));
    }

    #[test]
    fn every_state_round_trips() {
        for state in [
            ServerState::Looking,
            ServerState::Following,
            ServerState::Leading,
            ServerState::Observing,
        ] {
            let n = Notification {
                state,
                leader: i64::MIN as u64, // an observer's "no vote"
                ..sample()
            };
            let mut out = BytesMut::new();
            encode_notification(&n, &mut out);
            assert_eq!(decode_notification(&out.freeze()).unwrap(), n);
        }
    }

    fn body(len: usize, version: i32) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_i32(2);
        b.put_i64(9);
        b.put_i64(Zxid::new(7, 1).0);
        b.put_i64(4);
        if len >= 36 {
            b.put_i64(6);
        }
        if len >= 40 {
            b.put_i32(version);
        }
        b.resize(len, 0);
        b
    }

    #[test]
    fn older_forms_are_read_as_apache_reads_them() {
        let n = decode_notification(&body(28, 0).freeze()).unwrap();
        assert_eq!((n.leader, n.peer_epoch, n.round), (9, 7, 4));
        assert_eq!(n.state, ServerState::Leading);
        // 40 bytes: the version int is not read, even when it says 2.
        let n = decode_notification(&body(40, 2).freeze()).unwrap();
        assert_eq!((n.peer_epoch, n.config.len()), (6, 0));
        // Version 1 with trailing bytes: no config.
        let n = decode_notification(&body(60, 1).freeze()).unwrap();
        assert!(n.config.is_empty());
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert_eq!(
            decode_notification(&body(27, 0).freeze()),
            Err(MessageError::ShortNotification(27))
        );
        for len in [29, 36, 39, 41, 43] {
            assert!(
                matches!(
                    decode_notification(&body(len, 2).freeze()),
                    Err(MessageError::Malformed { .. })
                ),
                "{len}"
            );
        }
        for config_len in [-1i32, 5, 1000] {
            let mut b = body(44, 2);
            b.truncate(40);
            b.put_i32(config_len);
            assert!(decode_notification(&b.freeze()).is_err(), "{config_len}");
        }
        let mut b = body(44, 2);
        b[0..4].copy_from_slice(&4i32.to_be_bytes());
        assert_eq!(
            decode_notification(&b.freeze()),
            Err(MessageError::UnknownState(4))
        );
    }
}
