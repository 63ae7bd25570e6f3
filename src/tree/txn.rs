//! Transactions: what a write request becomes after `prep`, and what the
//! log (later: the quorum) carries. Bodies are the Jute `txn` records, so a
//! transaction encodes exactly as Apache ZooKeeper logs it.
//!
//! The header's `type` is the request opcode (create vs create2 share a
//! body), or -1 (`error`) for a request that failed in prep: ZooKeeper logs
//! failed writes as error transactions, consuming a zxid, and so do we.

use bytes::{Bytes, BytesMut};

use crate::proto::jute::{DecodeError, Jute};
use crate::proto::path::{self, InvalidPath};
use crate::proto::records::txn::*;
use crate::proto::OpCode;

/// A typed transaction body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TxnBody {
    /// create / create2 (header type tells which).
    Create(CreateTxn),
    CreateTtl(CreateTTLTxn),
    CreateContainer(CreateContainerTxn),
    /// delete / deleteContainer.
    Delete(DeleteTxn),
    SetData(SetDataTxn),
    SetAcl(SetACLTxn),
    Check(CheckVersionTxn),
    CreateSession(CreateSessionTxn),
    CloseSession(CloseSessionTxn),
    Error(ErrorTxn),
    /// The ops of a multi, each with its own type.
    Multi(Vec<SubTxn>),
}

/// One op of a multi transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubTxn {
    /// Opcode of the op, or -1 for an error.
    pub op: i32,
    /// Its body.
    pub body: TxnBody,
}

/// A transaction: header + body (+ the tree digest ZooKeeper 3.8 logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// Session, cxid, zxid, time, type.
    pub hdr: TxnHeader,
    /// The change.
    pub body: TxnBody,
    /// Digest of the tree after the txn, if computed.
    pub digest: Option<TxnDigest>,
}

impl TxnBody {
    /// Encodes the body record (for a multi, the `MultiTxn` record).
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            TxnBody::Create(t) => t.encode(out),
            TxnBody::CreateTtl(t) => t.encode(out),
            TxnBody::CreateContainer(t) => t.encode(out),
            TxnBody::Delete(t) => t.encode(out),
            TxnBody::SetData(t) => t.encode(out),
            TxnBody::SetAcl(t) => t.encode(out),
            TxnBody::Check(t) => t.encode(out),
            TxnBody::CreateSession(t) => t.encode(out),
            TxnBody::CloseSession(t) => t.encode(out),
            TxnBody::Error(t) => t.encode(out),
            TxnBody::Multi(subs) => {
                let txns: Vec<crate::proto::records::txn::Txn> = subs
                    .iter()
                    .map(|s| crate::proto::records::txn::Txn {
                        r#type: s.op,
                        data: Some(s.body.to_bytes()),
                    })
                    .collect();
                MultiTxn { txns }.encode(out)
            }
        }
    }

    /// Bytes of paths and data in the body (the variable part of its
    /// encoding), to size buffers.
    pub fn payload_hint(&self) -> usize {
        let data = |d: &Option<Bytes>| d.as_ref().map_or(0, |b| b.len());
        match self {
            TxnBody::Create(t) => t.path.len() + data(&t.data) + 32 * t.acl.len(),
            TxnBody::CreateTtl(t) => t.path.len() + data(&t.data) + 32 * t.acl.len(),
            TxnBody::CreateContainer(t) => t.path.len() + data(&t.data) + 32 * t.acl.len(),
            TxnBody::Delete(t) => t.path.len(),
            TxnBody::SetData(t) => t.path.len() + data(&t.data),
            TxnBody::SetAcl(t) => t.path.len() + 32 * t.acl.len(),
            TxnBody::Check(t) => t.path.len(),
            TxnBody::CloseSession(t) => t.paths2_delete.iter().map(|p| p.len() + 4).sum(),
            TxnBody::CreateSession(_) | TxnBody::Error(_) => 0,
            TxnBody::Multi(subs) => subs.iter().map(|s| 16 + s.body.payload_hint()).sum(),
        }
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }

    /// Decodes the body of a transaction whose header type is `op`, and
    /// checks its paths (see [`TxnBody::check_paths`]): a transaction comes
    /// from a leader's PROPOSAL or from a log file, and is input like any
    /// request, so `apply` can rely on well-formed paths.
    pub fn decode(op: i32, src: &mut Bytes) -> Result<TxnBody, DecodeError> {
        let body = Self::decode_unchecked(op, src)?;
        body.check_paths()?;
        Ok(body)
    }

    /// Checks that every path is one ZooKeeper's prep could have written:
    /// valid by its path rules, and for a create or delete not the root.
    /// (The sub-transactions of a multi were checked as they were decoded.)
    pub fn check_paths(&self) -> Result<(), InvalidPath> {
        fn node(p: &str) -> Result<(), InvalidPath> {
            path::validate(p, false)?;
            if p == "/" {
                return Err(InvalidPath {
                    path: p.to_string(),
                    reason: "the root cannot be created or deleted",
                });
            }
            Ok(())
        }
        match self {
            TxnBody::Create(t) => node(&t.path),
            TxnBody::CreateTtl(t) => node(&t.path),
            TxnBody::CreateContainer(t) => node(&t.path),
            TxnBody::Delete(t) => node(&t.path),
            TxnBody::SetData(t) => path::validate(&t.path, false),
            TxnBody::SetAcl(t) => path::validate(&t.path, false),
            TxnBody::Check(t) => path::validate(&t.path, false),
            TxnBody::CloseSession(t) => t.paths2_delete.iter().try_for_each(|p| node(p)),
            TxnBody::CreateSession(_) | TxnBody::Error(_) | TxnBody::Multi(_) => Ok(()),
        }
    }

    fn decode_unchecked(op: i32, src: &mut Bytes) -> Result<TxnBody, DecodeError> {
        Ok(match OpCode::from_i32(op) {
            Some(OpCode::Create | OpCode::Create2) => TxnBody::Create(CreateTxn::decode(src)?),
            Some(OpCode::CreateTtl) => TxnBody::CreateTtl(CreateTTLTxn::decode(src)?),
            Some(OpCode::CreateContainer) => {
                TxnBody::CreateContainer(CreateContainerTxn::decode(src)?)
            }
            Some(OpCode::Delete | OpCode::DeleteContainer) => {
                TxnBody::Delete(DeleteTxn::decode(src)?)
            }
            Some(OpCode::SetData | OpCode::Reconfig) => TxnBody::SetData(SetDataTxn::decode(src)?),
            Some(OpCode::SetAcl) => TxnBody::SetAcl(SetACLTxn::decode(src)?),
            Some(OpCode::Check) => TxnBody::Check(CheckVersionTxn::decode(src)?),
            Some(OpCode::CreateSession) => TxnBody::CreateSession(CreateSessionTxn::decode(src)?),
            Some(OpCode::CloseSession) => {
                // Older logs carry no body for closeSession.
                if src.is_empty() {
                    TxnBody::CloseSession(CloseSessionTxn::default())
                } else {
                    TxnBody::CloseSession(CloseSessionTxn::decode(src)?)
                }
            }
            Some(OpCode::Error) => TxnBody::Error(ErrorTxn::decode(src)?),
            Some(OpCode::Multi) => {
                let multi = MultiTxn::decode(src)?;
                let mut subs = Vec::with_capacity(multi.txns.len());
                for t in multi.txns {
                    let mut data = t.data.unwrap_or_default();
                    subs.push(SubTxn {
                        op: t.r#type,
                        body: TxnBody::decode(t.r#type, &mut data)?,
                    });
                }
                TxnBody::Multi(subs)
            }
            _ => return Err(DecodeError::UnknownType(op)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::records::data::ACL;

    fn create(path: &str) -> TxnBody {
        TxnBody::Create(CreateTxn {
            path: path.into(),
            data: None,
            acl: Vec::<ACL>::new(),
            ephemeral: false,
            parent_c_version: -1,
        })
    }

    fn decode(op: OpCode, body: &TxnBody) -> Result<TxnBody, DecodeError> {
        TxnBody::decode(op.code(), &mut body.to_bytes())
    }

    #[test]
    fn well_formed_transactions_decode() {
        for body in [
            create("/a"),
            create("/a/b0000000001"),
            TxnBody::Delete(DeleteTxn { path: "/a".into() }),
            TxnBody::SetData(SetDataTxn {
                path: "/".into(),
                data: None,
                version: 1,
            }),
        ] {
            let op = match body {
                TxnBody::Create(_) => OpCode::Create,
                TxnBody::Delete(_) => OpCode::Delete,
                _ => OpCode::SetData,
            };
            assert_eq!(decode(op, &body).unwrap(), body);
        }
    }

    #[test]
    fn paths_no_prep_writes_are_refused_where_decoded() {
        let cases = [
            (OpCode::Create, create("abc")),
            (OpCode::Create, create("/")),
            (OpCode::Create, create("/a/")),
            (OpCode::Create, create("/a//b")),
            (OpCode::Create, create("")),
            (
                OpCode::Delete,
                TxnBody::Delete(DeleteTxn { path: "/".into() }),
            ),
            (
                OpCode::SetData,
                TxnBody::SetData(SetDataTxn {
                    path: "x".into(),
                    data: None,
                    version: 0,
                }),
            ),
            (
                OpCode::CloseSession,
                TxnBody::CloseSession(CloseSessionTxn {
                    paths2_delete: vec!["/e".into(), "e".into()],
                }),
            ),
            (
                OpCode::Multi,
                TxnBody::Multi(vec![
                    SubTxn {
                        op: OpCode::Create.code(),
                        body: create("/ok"),
                    },
                    SubTxn {
                        op: OpCode::Create.code(),
                        body: create("bad"),
                    },
                ]),
            ),
        ];
        for (op, body) in cases {
            assert!(
                matches!(decode(op, &body), Err(DecodeError::InvalidPath(_))),
                "{body:?}"
            );
        }
    }
}
