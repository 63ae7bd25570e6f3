//! Typed [`Packet`]s to QuorumPacket fields and back, filled exactly as
//! Apache ZooKeeper 3.8 fills them (Leader, LearnerHandler, Learner).
//!
//! | packet | zxid | data | sent by |
//! |---|---|---|---|
//! | FOLLOWERINFO 11 / OBSERVERINFO 16 | makeZxid(acceptedEpoch, 0) | LearnerInfo{sid long, protocolVersion int, configVersion long} | learner |
//! | LEADERINFO 17 | makeZxid(newEpoch, 0) | protocol version int (0x10000) | leader |
//! | ACKEPOCH 18 | last logged zxid | current epoch int, -1 = already accepted | learner |
//! | DIFF 13, TRUNC 14, SNAP 15 | see [`Packet`] | null | leader |
//! | NEWLEADER 10 | makeZxid(newEpoch, 0) | quorum verifier text (never null in Zab 1.0) | leader |
//! | UPTODATE 12 | -1 | null | leader |
//! | PROPOSAL 2, INFORM 8 | txn zxid | serialized txn | leader |
//! | ACK 3, COMMIT 4 | zxid | null | learner / leader |
//! | REQUEST 1 | -1 | sessionId, cxid, type, request | learner (authinfo: the client's ids) |
//! | PING 5 | leader: last proposed; learner: echoed | leader: null; learner: (sessionId long, timeout int)* | both |
//! | REVALIDATE 6 | -1 | learner: sessionId, timeout; leader: sessionId, valid | both |
//! | SYNC 7 | 0 | null | leader |
//!
//! Every packet but REQUEST carries a null authinfo. PING is the one
//! message whose bytes depend on the direction: a leader sends null data,
//! a learner must send a (possibly empty) buffer because LearnerHandler
//! reads it without a null check. So encoding takes the sender's [`Role`].
//!
//! COMMITANDACTIVATE (9) and INFORMANDACTIVATE (19) are refused as
//! unsupported; other unknown types are reported as unknown. Both leave
//! the stream in sync.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::MessageError;
use super::quorum_packet::{put_buffer, put_header, put_null_authinfo, RawPacket};
use crate::proto::jute::Jute;
use crate::zab::types::{LearnerKind, Packet, Zxid};

/// Which end of a quorum-port connection writes the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The leader (LearnerHandler's side).
    Leader,
    /// A follower or observer (Learner's side).
    Learner,
}

/// The string Apache writes after a SNAP image (LearnerHandler.run).
pub const SNAP_SIGNATURE: &str = "BenWasHere";

/// `LearnerHandler.version` when a LearnerInfo is too short to carry one.
const DEFAULT_LEARNER_PROTOCOL: i32 = 0x1;

/// Appends `p` as `sender` writes it, SNAP's image and signature included.
pub fn encode_packet(p: &Packet, sender: Role, out: &mut BytesMut) {
    let code = p.type_code();
    let (zxid, data): (i64, Option<&[u8]>) = match p {
        Packet::LearnerInfo {
            accepted_epoch,
            sid,
            protocol_version,
            config_version,
            ..
        } => {
            put_header(out, code, Zxid::new(*accepted_epoch, 0).0);
            out.put_i32(20);
            out.put_i64(*sid as i64);
            out.put_i32(*protocol_version);
            out.put_i64(*config_version);
            put_null_authinfo(out);
            return;
        }
        Packet::LeaderInfo {
            new_epoch,
            protocol_version,
        } => {
            put_header(out, code, Zxid::new(*new_epoch, 0).0);
            put_buffer(out, Some(&protocol_version.to_be_bytes()));
            put_null_authinfo(out);
            return;
        }
        Packet::AckEpoch {
            last_zxid,
            current_epoch,
        } => {
            let epoch = current_epoch.map_or(-1, |e| e as i32);
            put_header(out, code, last_zxid.0);
            put_buffer(out, Some(&epoch.to_be_bytes()));
            put_null_authinfo(out);
            return;
        }
        Packet::Snap { zxid, image } => {
            put_header(out, code, zxid.0);
            put_buffer(out, None);
            put_null_authinfo(out);
            out.put_slice(image);
            out.put_i32(SNAP_SIGNATURE.len() as i32);
            out.put_slice(SNAP_SIGNATURE.as_bytes());
            return;
        }
        Packet::Request { data, authinfo } => {
            put_header(out, code, -1);
            put_buffer(out, Some(data));
            authinfo.encode(out);
            return;
        }
        Packet::Diff { zxid } | Packet::Trunc { zxid } => (zxid.0, None),
        Packet::Ack { zxid } | Packet::Commit { zxid } => (zxid.0, None),
        Packet::NewLeader { zxid, config } => (zxid.0, Some(config)),
        Packet::UpToDate => (-1, None),
        Packet::Proposal { zxid, txn } | Packet::Inform { zxid, txn } => (zxid.0, Some(txn)),
        Packet::Ping { zxid, data } => match sender {
            Role::Leader if data.is_empty() => (zxid.0, None),
            _ => (zxid.0, Some(data)),
        },
        Packet::Revalidate { data } => (-1, Some(data)),
        Packet::Sync => (0, None),
    };
    put_header(out, code, zxid);
    put_buffer(out, data);
    put_null_authinfo(out);
}

/// Interprets one received record. SNAP comes back with an empty image:
/// the image follows the record on the stream and the codec reads it.
pub fn decode_packet(raw: RawPacket) -> Result<Packet, MessageError> {
    let zxid = Zxid(raw.zxid);
    let data = raw.data.unwrap_or_default();
    Ok(match raw.kind {
        11 | 16 => {
            let kind = match raw.kind {
                11 => LearnerKind::Follower,
                _ => LearnerKind::Observer,
            };
            learner_info(kind, zxid, &data)?
        }
        17 => Packet::LeaderInfo {
            new_epoch: zxid.epoch(),
            protocol_version: int_data("LEADERINFO", &data)?,
        },
        18 => Packet::AckEpoch {
            last_zxid: zxid,
            current_epoch: match int_data("ACKEPOCH", &data)? {
                -1 => None,
                e if e < 0 => return Err(malformed("ACKEPOCH", format!("epoch {e}"))),
                e => Some(e as u32),
            },
        },
        13 => Packet::Diff { zxid },
        14 => Packet::Trunc { zxid },
        15 => Packet::Snap {
            zxid,
            image: Bytes::new(),
        },
        10 => Packet::NewLeader { zxid, config: data },
        12 => Packet::UpToDate,
        2 => Packet::Proposal { zxid, txn: data },
        3 => Packet::Ack { zxid },
        4 => Packet::Commit { zxid },
        8 => Packet::Inform { zxid, txn: data },
        1 => Packet::Request {
            data,
            authinfo: raw.authinfo.unwrap_or_default(),
        },
        5 => Packet::Ping { zxid, data },
        6 => Packet::Revalidate { data },
        7 => Packet::Sync,
        9 => return Err(unsupported(9, "COMMITANDACTIVATE")),
        19 => return Err(unsupported(19, "INFORMANDACTIVATE")),
        other => return Err(MessageError::UnknownPacketType(other)),
    })
}

/// LearnerHandler reads what is there: sid from 8 bytes, the protocol
/// version from 12, the config version from 20.
fn learner_info(kind: LearnerKind, zxid: Zxid, data: &[u8]) -> Result<Packet, MessageError> {
    let what = match kind {
        LearnerKind::Follower => "FOLLOWERINFO",
        LearnerKind::Observer => "OBSERVERINFO",
    };
    let Some(sid) = data.get(..8) else {
        return Err(malformed(
            what,
            format!("LearnerInfo of {} bytes has no sid", data.len()),
        ));
    };
    let protocol_version = data.get(8..12).map_or(DEFAULT_LEARNER_PROTOCOL, |b| {
        i32::from_be_bytes(b.try_into().expect("4"))
    });
    let config_version = data
        .get(12..20)
        .map_or(0, |b| i64::from_be_bytes(b.try_into().expect("8")));
    Ok(Packet::LearnerInfo {
        kind,
        accepted_epoch: zxid.epoch(),
        sid: u64::from_be_bytes(sid.try_into().expect("8")),
        protocol_version,
        config_version,
    })
}

fn int_data(what: &'static str, data: &[u8]) -> Result<i32, MessageError> {
    match data.get(..4) {
        Some(b) => Ok(i32::from_be_bytes(b.try_into().expect("4"))),
        None => Err(malformed(
            what,
            format!("data of {} bytes, need an int", data.len()),
        )),
    }
}

fn malformed(what: &'static str, reason: String) -> MessageError {
    MessageError::Malformed { what, reason }
}

fn unsupported(code: i32, name: &'static str) -> MessageError {
    MessageError::Unsupported { code, name }
}
