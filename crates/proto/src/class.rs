//! How a server handles each request: the one table that sorts opcodes into
//! reads, writes, session control and refusals ([`OpClass::of`]), and the
//! typed split of a decoded [`Request`] along the same lines
//! ([`Request::classify`]), so that every dispatch is a match the compiler
//! checks for completeness — a new opcode cannot fall into a catch-all arm.

use super::multi::MultiOp;
use super::ops::OpCode;
use super::records::proto::*;
use super::request::Request;

/// The class of an opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpClass {
    /// Answered from the tree where the connection lives (watch
    /// registration and `sync` included: they change no node).
    Read,
    /// Becomes a transaction (a failed one too: an error txn).
    Write,
    /// Session control: ping, auth, closeSession.
    Session,
    /// Not served to clients: UNIMPLEMENTED, then the connection closes.
    Refused,
}

impl OpClass {
    /// The class of a wire opcode (unknown ones are refused).
    pub fn of(op: i32) -> OpClass {
        use OpCode::*;
        match OpCode::from_i32(op) {
            Some(
                Exists | GetData | GetChildren | GetChildren2 | GetAcl | GetAllChildrenNumber
                | GetEphemerals | Sync | MultiRead | SetWatches | SetWatches2 | AddWatch
                | CheckWatches | RemoveWatches | WhoAmI,
            ) => OpClass::Read,
            Some(
                Create | Create2 | CreateContainer | CreateTtl | Delete | SetData | SetAcl | Check
                | Multi | Reconfig | DeleteContainer,
            ) => OpClass::Write,
            Some(Ping | Auth | CloseSession) => OpClass::Session,
            Some(Sasl | Notification | CreateSession | Error) | None => OpClass::Refused,
        }
    }

    /// Whether a wire opcode is a write (goes through the pipeline, and
    /// through the leader on a follower).
    pub fn is_write(op: i32) -> bool {
        OpClass::of(op) == OpClass::Write
    }
}

/// A request that is answered from the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ReadRequest {
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    /// getChildren (false) or getChildren2 (true).
    GetChildren(GetChildrenRequest, bool),
    GetAcl(GetACLRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    GetEphemerals(GetEphemeralsRequest),
    Sync(SyncRequest),
    MultiRead(Vec<MultiOp>),
    /// setWatches (false) or setWatches2 (true).
    SetWatches(SetWatches2, bool),
    AddWatch(AddWatchRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    WhoAmI,
}

/// A request that becomes a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum WriteRequest {
    /// create, create2 or createContainer (the opcode tells which).
    Create(OpCode, CreateRequest),
    CreateTtl(CreateTTLRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    SetAcl(SetACLRequest),
    Check(CheckVersionRequest),
    Multi(Vec<MultiOp>),
    Reconfig(ReconfigRequest),
    /// See [`Request::DeleteContainer`]: always BADARGUMENTS from a client.
    DeleteContainer,
}

/// Session control.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SessionRequest {
    Ping,
    Auth(AuthPacket),
    CloseSession,
}

/// A decoded request, sorted by [`OpClass`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Classified {
    Read(ReadRequest),
    Write(WriteRequest),
    Session(SessionRequest),
    /// The opcode, answered UNIMPLEMENTED.
    Refused(i32),
}

impl Request {
    /// Sorts the request into its class (agreeing with [`OpClass::of`] on
    /// its opcode; a test checks every opcode).
    pub fn classify(self) -> Classified {
        use Classified as C;
        match self {
            Request::Exists(r) => C::Read(ReadRequest::Exists(r)),
            Request::GetData(r) => C::Read(ReadRequest::GetData(r)),
            Request::GetChildren(r, two) => C::Read(ReadRequest::GetChildren(r, two)),
            Request::GetAcl(r) => C::Read(ReadRequest::GetAcl(r)),
            Request::GetAllChildrenNumber(r) => C::Read(ReadRequest::GetAllChildrenNumber(r)),
            Request::GetEphemerals(r) => C::Read(ReadRequest::GetEphemerals(r)),
            Request::Sync(r) => C::Read(ReadRequest::Sync(r)),
            Request::MultiRead(ops) => C::Read(ReadRequest::MultiRead(ops)),
            Request::SetWatches(w, two) => C::Read(ReadRequest::SetWatches(w, two)),
            Request::AddWatch(r) => C::Read(ReadRequest::AddWatch(r)),
            Request::CheckWatches(r) => C::Read(ReadRequest::CheckWatches(r)),
            Request::RemoveWatches(r) => C::Read(ReadRequest::RemoveWatches(r)),
            Request::WhoAmI => C::Read(ReadRequest::WhoAmI),
            Request::Create(op, r) => C::Write(WriteRequest::Create(op, r)),
            Request::CreateTtl(r) => C::Write(WriteRequest::CreateTtl(r)),
            Request::Delete(r) => C::Write(WriteRequest::Delete(r)),
            Request::SetData(r) => C::Write(WriteRequest::SetData(r)),
            Request::SetAcl(r) => C::Write(WriteRequest::SetAcl(r)),
            Request::Check(r) => C::Write(WriteRequest::Check(r)),
            Request::Multi(ops) => C::Write(WriteRequest::Multi(ops)),
            Request::Reconfig(r) => C::Write(WriteRequest::Reconfig(r)),
            Request::DeleteContainer => C::Write(WriteRequest::DeleteContainer),
            Request::Ping => C::Session(SessionRequest::Ping),
            Request::Auth(a) => C::Session(SessionRequest::Auth(a)),
            Request::CloseSession => C::Session(SessionRequest::CloseSession),
            Request::Unsupported(op) => C::Refused(op.code()),
            Request::Unknown(op) => C::Refused(op),
        }
    }
}

impl WriteRequest {
    /// The opcode the write was sent with.
    pub fn opcode(&self) -> OpCode {
        match self {
            WriteRequest::Create(op, _) => *op,
            WriteRequest::CreateTtl(_) => OpCode::CreateTtl,
            WriteRequest::Delete(_) => OpCode::Delete,
            WriteRequest::SetData(_) => OpCode::SetData,
            WriteRequest::SetAcl(_) => OpCode::SetAcl,
            WriteRequest::Check(_) => OpCode::Check,
            WriteRequest::Multi(_) => OpCode::Multi,
            WriteRequest::Reconfig(_) => OpCode::Reconfig,
            WriteRequest::DeleteContainer => OpCode::DeleteContainer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn class_of(c: &Classified) -> OpClass {
        match c {
            Classified::Read(_) => OpClass::Read,
            Classified::Write(_) => OpClass::Write,
            Classified::Session(_) => OpClass::Session,
            Classified::Refused(_) => OpClass::Refused,
        }
    }

    /// The opcode table and the typed split agree for every opcode (the
    /// bodies are minimal valid ones, or whatever decodes).
    #[test]
    fn the_table_and_the_split_agree_on_every_opcode() {
        let path = |watch: bool| {
            let mut b = vec![0, 0, 0, 2, b'/', b'a'];
            if watch {
                b.push(0);
            }
            b
        };
        let bodies: Vec<Vec<u8>> = vec![
            vec![],
            path(false),
            path(true),
            [path(false), vec![0; 16]].concat(),
            [path(false), vec![0, 0, 0, 0]].concat(),
            [path(false), vec![0, 0, 0, 1]].concat(),
            [
                path(false),
                vec![255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0],
            ]
            .concat(),
            [
                path(false),
                vec![
                    255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
            ]
            .concat(),
            vec![0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0],
            vec![0; 64],
            vec![255, 255, 255, 255, 1, 255, 255, 255, 255],
        ];
        for op in -20..=120 {
            let mut decoded = false;
            for b in &bodies {
                if let Ok(req) = Request::decode(op, &mut Bytes::from(b.clone())) {
                    assert_eq!(class_of(&req.classify()), OpClass::of(op), "opcode {op}");
                    decoded = true;
                }
            }
            assert!(decoded, "opcode {op}: no test body decodes");
        }
    }
}
