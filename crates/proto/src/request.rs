//! Client requests: a frame's `RequestHeader` + body decoded into one enum.
//!
//! The connection task decodes the header; the body is decoded here by
//! opcode. Opcodes ZooKeeper defines but that carry no body (ping,
//! closeSession, whoAmI, getEphemerals has one) are unit variants. An opcode
//! ZooKeeper does not define becomes [`Request::Unknown`] so the server can
//! answer UNIMPLEMENTED and keep the connection, as ZooKeeper does.

use bytes::{Bytes, BytesMut};

use super::jute::Jute;
use super::multi::{self, MultiDecodeError, MultiOp};
use super::ops::OpCode;
use super::records::proto::*;

/// A decoded client request body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Request {
    /// create, create2 or createContainer (the opcode tells which).
    Create(OpCode, CreateRequest),
    CreateTtl(CreateTTLRequest),
    Delete(DeleteRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetACLRequest),
    SetAcl(SetACLRequest),
    /// getChildren (false) or getChildren2 (true, replies with a stat).
    GetChildren(GetChildrenRequest, bool),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    GetEphemerals(GetEphemeralsRequest),
    Sync(SyncRequest),
    Check(CheckVersionRequest),
    Multi(Vec<MultiOp>),
    MultiRead(Vec<MultiOp>),
    Reconfig(ReconfigRequest),
    Auth(AuthPacket),
    /// setWatches (false) or setWatches2 (true); v1 carries no persistent lists.
    SetWatches(SetWatches2, bool),
    AddWatch(AddWatchRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    WhoAmI,
    Ping,
    CloseSession,
    /// deleteContainer sent by a client. Its body is ignored: ZooKeeper
    /// takes the path from the whole request buffer, request header
    /// included, so the "path" always begins with the xid's bytes and holds
    /// NULs, and prep refuses it with BADARGUMENTS as an error transaction
    /// (a zxid is consumed). The reaper's own deletions never come this way.
    DeleteContainer,
    /// SASL and the server-internal opcodes: defined, but not served to
    /// clients.
    Unsupported(OpCode),
    /// An opcode ZooKeeper does not define.
    Unknown(i32),
}

impl Request {
    /// Decodes the body of a request whose header carried `op`.
    pub fn decode(op: i32, body: &mut Bytes) -> Result<Request, MultiDecodeError> {
        let Some(code) = OpCode::from_i32(op) else {
            return Ok(Request::Unknown(op));
        };
        Ok(match code {
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer => {
                Request::Create(code, CreateRequest::decode(body)?)
            }
            OpCode::CreateTtl => Request::CreateTtl(CreateTTLRequest::decode(body)?),
            OpCode::Delete => Request::Delete(DeleteRequest::decode(body)?),
            OpCode::Exists => Request::Exists(ExistsRequest::decode(body)?),
            OpCode::GetData => Request::GetData(GetDataRequest::decode(body)?),
            OpCode::SetData => Request::SetData(SetDataRequest::decode(body)?),
            OpCode::GetAcl => Request::GetAcl(GetACLRequest::decode(body)?),
            OpCode::SetAcl => Request::SetAcl(SetACLRequest::decode(body)?),
            OpCode::GetChildren => Request::GetChildren(GetChildrenRequest::decode(body)?, false),
            OpCode::GetChildren2 => {
                let r = GetChildren2Request::decode(body)?;
                Request::GetChildren(
                    GetChildrenRequest {
                        path: r.path,
                        watch: r.watch,
                    },
                    true,
                )
            }
            OpCode::GetAllChildrenNumber => {
                Request::GetAllChildrenNumber(GetAllChildrenNumberRequest::decode(body)?)
            }
            OpCode::GetEphemerals => Request::GetEphemerals(GetEphemeralsRequest::decode(body)?),
            OpCode::Sync => Request::Sync(SyncRequest::decode(body)?),
            OpCode::Check => Request::Check(CheckVersionRequest::decode(body)?),
            OpCode::Multi => Request::Multi(multi::decode_request(body)?),
            OpCode::MultiRead => Request::MultiRead(multi::decode_request(body)?),
            OpCode::Reconfig => Request::Reconfig(ReconfigRequest::decode(body)?),
            OpCode::Auth => Request::Auth(AuthPacket::decode(body)?),
            OpCode::SetWatches => {
                let w = SetWatches::decode(body)?;
                Request::SetWatches(
                    SetWatches2 {
                        relative_zxid: w.relative_zxid,
                        data_watches: w.data_watches,
                        exist_watches: w.exist_watches,
                        child_watches: w.child_watches,
                        persistent_watches: vec![],
                        persistent_recursive_watches: vec![],
                    },
                    false,
                )
            }
            OpCode::SetWatches2 => Request::SetWatches(SetWatches2::decode(body)?, true),
            OpCode::AddWatch => Request::AddWatch(AddWatchRequest::decode(body)?),
            OpCode::CheckWatches => Request::CheckWatches(CheckWatchesRequest::decode(body)?),
            OpCode::RemoveWatches => Request::RemoveWatches(RemoveWatchesRequest::decode(body)?),
            OpCode::WhoAmI => Request::WhoAmI,
            OpCode::Ping => Request::Ping,
            OpCode::CloseSession => Request::CloseSession,
            OpCode::DeleteContainer => Request::DeleteContainer,
            OpCode::Sasl | OpCode::Notification | OpCode::CreateSession | OpCode::Error => {
                Request::Unsupported(code)
            }
        })
    }

    /// The opcode this request is sent with.
    pub fn opcode(&self) -> i32 {
        match self {
            Request::Create(op, _) => op.code(),
            Request::CreateTtl(_) => OpCode::CreateTtl.code(),
            Request::Delete(_) => OpCode::Delete.code(),
            Request::Exists(_) => OpCode::Exists.code(),
            Request::GetData(_) => OpCode::GetData.code(),
            Request::SetData(_) => OpCode::SetData.code(),
            Request::GetAcl(_) => OpCode::GetAcl.code(),
            Request::SetAcl(_) => OpCode::SetAcl.code(),
            Request::GetChildren(_, false) => OpCode::GetChildren.code(),
            Request::GetChildren(_, true) => OpCode::GetChildren2.code(),
            Request::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber.code(),
            Request::GetEphemerals(_) => OpCode::GetEphemerals.code(),
            Request::Sync(_) => OpCode::Sync.code(),
            Request::Check(_) => OpCode::Check.code(),
            Request::Multi(_) => OpCode::Multi.code(),
            Request::MultiRead(_) => OpCode::MultiRead.code(),
            Request::Reconfig(_) => OpCode::Reconfig.code(),
            Request::Auth(_) => OpCode::Auth.code(),
            Request::SetWatches(_, false) => OpCode::SetWatches.code(),
            Request::SetWatches(_, true) => OpCode::SetWatches2.code(),
            Request::AddWatch(_) => OpCode::AddWatch.code(),
            Request::CheckWatches(_) => OpCode::CheckWatches.code(),
            Request::RemoveWatches(_) => OpCode::RemoveWatches.code(),
            Request::WhoAmI => OpCode::WhoAmI.code(),
            Request::Ping => OpCode::Ping.code(),
            Request::CloseSession => OpCode::CloseSession.code(),
            Request::DeleteContainer => OpCode::DeleteContainer.code(),
            Request::Unsupported(op) => op.code(),
            Request::Unknown(op) => *op,
        }
    }

    /// Encodes the body (client side; the header is written separately).
    /// `DeleteContainer`, `Unsupported` and `Unknown` carry no body.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Request::Create(_, r) => r.encode(out),
            Request::CreateTtl(r) => r.encode(out),
            Request::Delete(r) => r.encode(out),
            Request::Exists(r) => r.encode(out),
            Request::GetData(r) => r.encode(out),
            Request::SetData(r) => r.encode(out),
            Request::GetAcl(r) => r.encode(out),
            Request::SetAcl(r) => r.encode(out),
            Request::GetChildren(r, _) => r.encode(out),
            Request::GetAllChildrenNumber(r) => r.encode(out),
            Request::GetEphemerals(r) => r.encode(out),
            Request::Sync(r) => r.encode(out),
            Request::Check(r) => r.encode(out),
            Request::Multi(ops) | Request::MultiRead(ops) => multi::encode_request(ops, out),
            Request::Reconfig(r) => r.encode(out),
            Request::Auth(r) => r.encode(out),
            Request::SetWatches(w, true) => w.encode(out),
            Request::SetWatches(w, false) => SetWatches {
                relative_zxid: w.relative_zxid,
                data_watches: w.data_watches.clone(),
                exist_watches: w.exist_watches.clone(),
                child_watches: w.child_watches.clone(),
            }
            .encode(out),
            Request::AddWatch(r) => r.encode(out),
            Request::CheckWatches(r) => r.encode(out),
            Request::RemoveWatches(r) => r.encode(out),
            Request::WhoAmI
            | Request::Ping
            | Request::CloseSession
            | Request::DeleteContainer
            | Request::Unsupported(_)
            | Request::Unknown(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes under any opcode decode or fail cleanly, never panic.
        #[test]
        fn decoding_arbitrary_bodies_never_panics(op in -20i32..120, body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Request::decode(op, &mut Bytes::from(body));
        }

        /// What decodes re-encodes to the same bytes (minus ignored trailing bytes).
        #[test]
        fn create_round_trips(path in "/[a-z]{1,8}(/[a-z]{1,8}){0,3}", data in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)), flags in 0i32..7) {
            let req = Request::Create(OpCode::Create2, CreateRequest {
                path,
                data: data.map(Bytes::from),
                acl: vec![crate::records::data::ACL { perms: 31, id: crate::records::data::Id { scheme: "world".into(), id: "anyone".into() } }],
                flags,
            });
            let mut out = BytesMut::new();
            req.encode(&mut out);
            let back = Request::decode(req.opcode(), &mut out.freeze()).unwrap();
            prop_assert_eq!(back, req);
        }
    }
}
