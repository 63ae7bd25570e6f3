//! One transaction-log entry, as Apache ZooKeeper 3.8 writes it
//! (Util.marshallTxnEntry / Util.writeTxnBytes / SerializeUtils.deserializeTxn).
//!
//! ```text
//! Framed entry (what the log file holds, see txnlog.rs):
//!     checksum  long   Adler32 of `entry`, as an unsigned 32-bit value in a long
//!     length    int    byte length of `entry`
//!     entry     length bytes
//!     EOR       byte   0x42 ('B')
//!
//! entry:
//!     TxnHeader   { clientId long, cxid int, zxid long, time long, type int }
//!     body        the record for `type` (absent for none of the 3.8 types):
//!                   create, create2          CreateTxn
//!                   createTTL                CreateTTLTxn
//!                   createContainer          CreateContainerTxn
//!                   delete, deleteContainer  DeleteTxn
//!                   setData, reconfig        SetDataTxn
//!                   setACL                   SetACLTxn
//!                   createSession            CreateSessionTxn { timeOut int }
//!                   closeSession             CloseSessionTxn { paths2Delete vector<ustring> }
//!                                            (empty before 3.6: no body at all)
//!                   error (-1)               ErrorTxn { err int }
//!                   multi                    MultiTxn { vector<Txn{type int, data buffer}> },
//!                                            each data the body record of its type
//!     TxnDigest?  { version int (2), treeDigest long }  present when the writer
//!                 had digests enabled (3.8 default); readers take it if 12 bytes remain
//! ```
//!
//! A `create` written by ZooKeeper before 3.3 lacks `parentCVersion`; like
//! ZooKeeper we read it as -1, which `apply` turns into "parent's + 1".

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::jute::{DecodeError, Jute};
use crate::proto::records::txn::{CreateTxn, TxnDigest, TxnHeader};
use crate::proto::OpCode;
use crate::tree::txn::{Txn, TxnBody};

/// End-of-record mark after every entry.
pub const EOR: u8 = 0x42;
/// Bytes of framing around an entry: checksum, length, EOR.
pub const FRAME_OVERHEAD: usize = 8 + 4 + 1;
/// Length of an encoded [`TxnDigest`].
const DIGEST_LEN: usize = 4 + 8;

/// Appends the entry bytes (header, body, digest) of `txn` to `out`.
pub fn marshal(txn: &Txn, out: &mut BytesMut) {
    txn.hdr.encode(out);
    txn.body.encode(out);
    if let Some(d) = &txn.digest {
        d.encode(out);
    }
}

/// Adler32 of `bytes` as ZooKeeper stores it (`Checksum.getValue()`, a long).
pub fn checksum(bytes: &[u8]) -> i64 {
    i64::from(adler2::adler32_slice(bytes))
}

/// Appends the framed entry (checksum, length, entry, EOR) of `txn`,
/// marshalling it straight into `out`.
pub fn frame(txn: &Txn, out: &mut BytesMut) {
    let start = out.len();
    out.put_i64(0);
    out.put_i32(0);
    let body = out.len();
    marshal(txn, out);
    let len = out.len() - body;
    let sum = checksum(&out[body..]);
    out[start..start + 8].copy_from_slice(&sum.to_be_bytes());
    out[start + 8..body].copy_from_slice(&(len as i32).to_be_bytes());
    out.put_u8(EOR);
}

/// Appends the framed entry of a transaction already marshalled (the bytes
/// a leader proposed, as a follower received them).
pub fn frame_marshalled(entry: &[u8], out: &mut BytesMut) {
    out.reserve(entry.len() + 13);
    out.put_i64(checksum(entry));
    out.put_i32(entry.len() as i32);
    out.put_slice(entry);
    out.put_u8(EOR);
}

/// The marshalled bytes of `txn`, as the log and the quorum carry them.
pub fn marshalled(txn: &Txn) -> Bytes {
    // Header, digest and the record's fixed fields fit in 128 bytes; the
    // rest is the path and data, so one allocation nearly always does.
    let mut b = BytesMut::with_capacity(128 + txn.body.payload_hint());
    marshal(txn, &mut b);
    b.freeze()
}

/// Decodes entry bytes (without framing) into a transaction.
pub fn unmarshal(mut src: Bytes) -> Result<Txn, DecodeError> {
    let hdr = TxnHeader::decode(&mut src)?;
    let body = decode_body(hdr.r#type, &mut src)?;
    let digest = if src.len() >= DIGEST_LEN {
        Some(TxnDigest::decode(&mut src)?)
    } else {
        None
    };
    Ok(Txn { hdr, body, digest })
}

fn decode_body(op: i32, src: &mut Bytes) -> Result<TxnBody, DecodeError> {
    let saved = src.clone();
    match TxnBody::decode(op, src) {
        Err(DecodeError::Truncated { .. }) if op == OpCode::Create.code() => {
            *src = saved;
            decode_create_v0(src)
        }
        other => other,
    }
}

/// CreateTxnV0: path, data, acl, ephemeral (no parentCVersion).
fn decode_create_v0(src: &mut Bytes) -> Result<TxnBody, DecodeError> {
    let body = TxnBody::Create(CreateTxn {
        path: String::decode(src)?,
        data: Option::<Bytes>::decode(src)?,
        acl: Vec::decode(src)?,
        ephemeral: bool::decode(src)?,
        parent_c_version: -1,
    });
    body.check_paths()?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::records::data::{Id, ACL};
    use crate::proto::records::txn::*;
    use crate::tree::txn::{SubTxn, Txn};

    fn acl() -> Vec<ACL> {
        vec![ACL {
            perms: 31,
            id: Id {
                scheme: "digest".into(),
                id: "u:x".into(),
            },
        }]
    }

    fn hdr(op: OpCode) -> TxnHeader {
        TxnHeader {
            client_id: 0x1234_5678_9abc,
            cxid: 7,
            zxid: 0x1_0000_0005,
            time: 1_700_000_000_000,
            r#type: op.code(),
        }
    }

    /// One transaction of every type ZooKeeper 3.8 logs.
    pub(crate) fn every_type() -> Vec<Txn> {
        let data = Some(Bytes::from_static(b"payload"));
        let bodies = vec![
            (
                OpCode::Create,
                TxnBody::Create(CreateTxn {
                    path: "/a".into(),
                    data: data.clone(),
                    acl: acl(),
                    ephemeral: true,
                    parent_c_version: 3,
                }),
            ),
            (
                OpCode::Create2,
                TxnBody::Create(CreateTxn {
                    path: "/b".into(),
                    data: None,
                    acl: acl(),
                    ephemeral: false,
                    parent_c_version: 4,
                }),
            ),
            (
                OpCode::CreateTtl,
                TxnBody::CreateTtl(CreateTTLTxn {
                    path: "/t".into(),
                    data: data.clone(),
                    acl: acl(),
                    parent_c_version: 5,
                    ttl: 1000,
                }),
            ),
            (
                OpCode::CreateContainer,
                TxnBody::CreateContainer(CreateContainerTxn {
                    path: "/c".into(),
                    data: data.clone(),
                    acl: acl(),
                    parent_c_version: 6,
                }),
            ),
            (
                OpCode::Delete,
                TxnBody::Delete(DeleteTxn { path: "/a".into() }),
            ),
            (
                OpCode::DeleteContainer,
                TxnBody::Delete(DeleteTxn { path: "/c".into() }),
            ),
            (
                OpCode::SetData,
                TxnBody::SetData(SetDataTxn {
                    path: "/b".into(),
                    data: data.clone(),
                    version: 2,
                }),
            ),
            (
                OpCode::SetAcl,
                TxnBody::SetAcl(SetACLTxn {
                    path: "/b".into(),
                    acl: acl(),
                    version: 1,
                }),
            ),
            (
                OpCode::CreateSession,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            ),
            (
                OpCode::CloseSession,
                TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: vec!["/e1".into(), "/e2".into()],
                }),
            ),
            (OpCode::Error, TxnBody::Error(ErrorTxn { err: -110 })),
            (
                OpCode::Multi,
                TxnBody::Multi(vec![
                    SubTxn {
                        op: OpCode::Create.code(),
                        body: TxnBody::Create(CreateTxn {
                            path: "/m".into(),
                            data: None,
                            acl: acl(),
                            ephemeral: false,
                            parent_c_version: 9,
                        }),
                    },
                    SubTxn {
                        op: OpCode::Check.code(),
                        body: TxnBody::Check(CheckVersionTxn {
                            path: "/m".into(),
                            version: 0,
                        }),
                    },
                    SubTxn {
                        op: OpCode::Error.code(),
                        body: TxnBody::Error(ErrorTxn { err: -101 }),
                    },
                ]),
            ),
        ];
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, (op, body))| Txn {
                hdr: hdr(op),
                body,
                digest: (i % 2 == 0).then_some(TxnDigest {
                    version: 2,
                    tree_digest: -(i as i64) * 0x1_0000_0001,
                }),
            })
            .collect()
    }

    #[test]
    fn every_txn_type_round_trips_with_and_without_digest() {
        for txn in every_type() {
            let mut out = BytesMut::new();
            marshal(&txn, &mut out);
            assert_eq!(unmarshal(out.freeze()).unwrap(), txn);
        }
    }

    #[test]
    fn frame_is_checksum_length_entry_eor() {
        let txn = &every_type()[4];
        let mut entry = BytesMut::new();
        marshal(txn, &mut entry);
        let mut framed = BytesMut::new();
        frame(txn, &mut framed);
        assert_eq!(framed.len(), entry.len() + FRAME_OVERHEAD);
        assert_eq!(&framed[..8], &checksum(&entry).to_be_bytes());
        assert_eq!(&framed[8..12], &(entry.len() as i32).to_be_bytes());
        assert_eq!(&framed[12..12 + entry.len()], &entry[..]);
        assert_eq!(framed[framed.len() - 1], EOR);
    }

    #[test]
    fn close_session_without_body_is_an_empty_close() {
        // Logs from before ZooKeeper 3.6 carry no CloseSessionTxn.
        let mut out = BytesMut::new();
        hdr(OpCode::CloseSession).encode(&mut out);
        let txn = unmarshal(out.freeze()).unwrap();
        assert_eq!(txn.body, TxnBody::CloseSession(CloseSessionTxn::default()));
        assert_eq!(txn.digest, None);
    }

    #[test]
    fn create_v0_reads_parent_cversion_as_minus_one() {
        let mut out = BytesMut::new();
        hdr(OpCode::Create).encode(&mut out);
        "/old".to_string().encode(&mut out);
        Some(Bytes::from_static(b"d")).encode(&mut out);
        acl().encode(&mut out);
        false.encode(&mut out);
        let txn = unmarshal(out.freeze()).unwrap();
        match txn.body {
            TxnBody::Create(c) => {
                assert_eq!(c.path, "/old");
                assert_eq!(c.parent_c_version, -1);
            }
            other => panic!("not a create: {other:?}"),
        }
    }

    #[test]
    fn adler32_matches_java() {
        // java.util.zip.Adler32 over "Wikipedia" is 0x11E60398.
        assert_eq!(checksum(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(checksum(b""), 1);
    }
}
