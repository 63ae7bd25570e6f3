//! The `multi` and `multiRead` encodings, which the IDL cannot express.
//!
//! Request (`MultiOperationRecord`): a sequence of
//! `MultiHeader{type, done=false, err=-1}` + the op's request record, ended by
//! `MultiHeader{type=-1, done=true, err=-1}`.
//!
//! Response (`MultiResponse`): per op `MultiHeader{type, done=false, err}`
//! followed by the result record (create: CreateResponse; create2,
//! createTTL, createContainer: Create2Response; setData: SetDataResponse;
//! delete and check: nothing; getChildren: GetChildrenResponse; getData:
//! GetDataResponse; error: ErrorResponse), ended by
//! `MultiHeader{-1, true, -1}`.

use bytes::{Bytes, BytesMut};

use super::jute::{DecodeError, Jute};
use super::ops::OpCode;
use super::records::data::Stat;
use super::records::proto::*;

/// One operation inside a multi or multiRead request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// create, create2 or createContainer (the opcode tells which).
    Create(OpCode, CreateRequest),
    /// createTTL.
    CreateTtl(CreateTTLRequest),
    /// delete.
    Delete(DeleteRequest),
    /// setData.
    SetData(SetDataRequest),
    /// check: a version condition.
    Check(CheckVersionRequest),
    /// getChildren (multiRead only).
    GetChildren(GetChildrenRequest),
    /// getData (multiRead only).
    GetData(GetDataRequest),
}

/// Why a multi request could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultiDecodeError {
    /// A record inside the multi was malformed.
    #[error(transparent)]
    Record(#[from] DecodeError),
    /// An op type that may not appear inside a multi.
    #[error("invalid op type {0} inside multi")]
    BadOp(i32),
}

impl MultiOp {
    /// The opcode this op carries in its MultiHeader.
    pub fn opcode(&self) -> OpCode {
        match self {
            MultiOp::Create(op, _) => *op,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }

    /// The path the op acts on.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(_, r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }

    fn encode_body(&self, out: &mut BytesMut) {
        match self {
            MultiOp::Create(_, r) => r.encode(out),
            MultiOp::CreateTtl(r) => r.encode(out),
            MultiOp::Delete(r) => r.encode(out),
            MultiOp::SetData(r) => r.encode(out),
            MultiOp::Check(r) => r.encode(out),
            MultiOp::GetChildren(r) => r.encode(out),
            MultiOp::GetData(r) => r.encode(out),
        }
    }
}

fn end_header() -> MultiHeader {
    MultiHeader {
        r#type: -1,
        done: true,
        err: -1,
    }
}

/// Encodes the ops of a multi request.
pub fn encode_request(ops: &[MultiOp], out: &mut BytesMut) {
    for op in ops {
        MultiHeader {
            r#type: op.opcode().code(),
            done: false,
            err: -1,
        }
        .encode(out);
        op.encode_body(out);
    }
    end_header().encode(out);
}

/// Decodes the ops of a multi request.
pub fn decode_request(src: &mut Bytes) -> Result<Vec<MultiOp>, MultiDecodeError> {
    let mut ops = Vec::new();
    loop {
        let h = MultiHeader::decode(src)?;
        if h.done {
            return Ok(ops);
        }
        let op = match OpCode::from_i32(h.r#type) {
            Some(code @ (OpCode::Create | OpCode::Create2 | OpCode::CreateContainer)) => {
                MultiOp::Create(code, CreateRequest::decode(src)?)
            }
            Some(OpCode::CreateTtl) => MultiOp::CreateTtl(CreateTTLRequest::decode(src)?),
            // Not deleteContainer: Java's MultiOperationRecord refuses it
            // ("Invalid type of op"), so the multi is a MARSHALLINGERROR.
            Some(OpCode::Delete) => MultiOp::Delete(DeleteRequest::decode(src)?),
            Some(OpCode::SetData) => MultiOp::SetData(SetDataRequest::decode(src)?),
            Some(OpCode::Check) => MultiOp::Check(CheckVersionRequest::decode(src)?),
            Some(OpCode::GetChildren) => MultiOp::GetChildren(GetChildrenRequest::decode(src)?),
            Some(OpCode::GetData) => MultiOp::GetData(GetDataRequest::decode(src)?),
            _ => return Err(MultiDecodeError::BadOp(h.r#type)),
        };
        ops.push(op);
    }
}

/// The result of one op of a multi or multiRead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    /// create: the created path.
    Create(String),
    /// create2 / createTTL / createContainer: path and stat.
    Create2(OpCode, String, Stat),
    /// delete.
    Delete,
    /// setData: the new stat.
    SetData(Stat),
    /// check.
    Check,
    /// getChildren.
    GetChildren(Vec<String>),
    /// getData: data and stat.
    GetData(Option<Bytes>, Stat),
    /// An error result (`ErrorResult`): 0 for ops rolled back before the
    /// failing one, the error for the failing one, RUNTIMEINCONSISTENCY after.
    Error(i32),
}

/// Encodes the results of a multi or multiRead response.
pub fn encode_response(results: &[MultiResult], out: &mut BytesMut) {
    for r in results {
        let (code, err) = match r {
            MultiResult::Create(_) => (OpCode::Create, 0),
            MultiResult::Create2(op, _, _) => (*op, 0),
            MultiResult::Delete => (OpCode::Delete, 0),
            MultiResult::SetData(_) => (OpCode::SetData, 0),
            MultiResult::Check => (OpCode::Check, 0),
            MultiResult::GetChildren(_) => (OpCode::GetChildren, 0),
            MultiResult::GetData(..) => (OpCode::GetData, 0),
            MultiResult::Error(e) => (OpCode::Error, *e),
        };
        MultiHeader {
            r#type: code.code(),
            done: false,
            err,
        }
        .encode(out);
        match r {
            MultiResult::Create(path) => path.encode(out),
            MultiResult::Create2(_, path, stat) => {
                path.encode(out);
                stat.encode(out);
            }
            MultiResult::SetData(stat) => stat.encode(out),
            MultiResult::GetChildren(children) => children.encode(out),
            MultiResult::GetData(data, stat) => {
                data.encode(out);
                stat.encode(out);
            }
            MultiResult::Error(e) => e.encode(out),
            MultiResult::Delete | MultiResult::Check => {}
        }
    }
    end_header().encode(out);
}

/// Decodes the results of a multi or multiRead response.
pub fn decode_response(src: &mut Bytes) -> Result<Vec<MultiResult>, MultiDecodeError> {
    let mut results = Vec::new();
    loop {
        let h = MultiHeader::decode(src)?;
        if h.done {
            return Ok(results);
        }
        let r = match OpCode::from_i32(h.r#type) {
            Some(OpCode::Create) => MultiResult::Create(String::decode(src)?),
            Some(code @ (OpCode::Create2 | OpCode::CreateTtl | OpCode::CreateContainer)) => {
                MultiResult::Create2(code, String::decode(src)?, Stat::decode(src)?)
            }
            Some(OpCode::Delete | OpCode::DeleteContainer) => MultiResult::Delete,
            Some(OpCode::SetData) => MultiResult::SetData(Stat::decode(src)?),
            Some(OpCode::Check) => MultiResult::Check,
            Some(OpCode::GetChildren) => MultiResult::GetChildren(Vec::decode(src)?),
            Some(OpCode::GetData) => {
                MultiResult::GetData(Option::<Bytes>::decode(src)?, Stat::decode(src)?)
            }
            Some(OpCode::Error) => MultiResult::Error(i32::decode(src)?),
            _ => return Err(MultiDecodeError::BadOp(h.r#type)),
        };
        results.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips() {
        let ops = vec![
            MultiOp::Create(
                OpCode::Create,
                CreateRequest {
                    path: "/a".into(),
                    data: Some(Bytes::from_static(b"x")),
                    acl: vec![],
                    flags: 0,
                },
            ),
            MultiOp::Check(CheckVersionRequest {
                path: "/a".into(),
                version: 3,
            }),
            MultiOp::Delete(DeleteRequest {
                path: "/b".into(),
                version: -1,
            }),
        ];
        let mut out = BytesMut::new();
        encode_request(&ops, &mut out);
        assert_eq!(decode_request(&mut out.freeze()).unwrap(), ops);
    }

    #[test]
    fn response_round_trips() {
        let rs = vec![
            MultiResult::Error(0),
            MultiResult::Error(-101),
            MultiResult::Error(-2),
            MultiResult::Create2(OpCode::Create2, "/x".into(), Stat::default()),
            MultiResult::GetData(None, Stat::default()),
        ];
        let mut out = BytesMut::new();
        encode_response(&rs, &mut out);
        assert_eq!(decode_response(&mut out.freeze()).unwrap(), rs);
    }

    #[test]
    fn sync_inside_multi_is_rejected() {
        let mut out = BytesMut::new();
        MultiHeader {
            r#type: OpCode::Sync.code(),
            done: false,
            err: -1,
        }
        .encode(&mut out);
        SyncRequest { path: "/".into() }.encode(&mut out);
        end_header().encode(&mut out);
        assert_eq!(
            decode_request(&mut out.freeze()),
            Err(MultiDecodeError::BadOp(9))
        );
    }
}
