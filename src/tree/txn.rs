//! Transactions: what a write request becomes after `prep`, and what the
//! log (later: the quorum) carries. Bodies are the Jute `txn` records, so a
//! transaction encodes exactly as Apache ZooKeeper logs it.
//!
//! The header's `type` is the request opcode (create vs create2 share a
//! body), or -1 (`error`) for a request that failed in prep: ZooKeeper logs
//! failed writes as error transactions, consuming a zxid, and so do we.

use bytes::{Bytes, BytesMut};

use crate::proto::jute::{DecodeError, Jute};
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

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }

    /// Decodes the body of a transaction whose header type is `op`.
    pub fn decode(op: i32, src: &mut Bytes) -> Result<TxnBody, DecodeError> {
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
