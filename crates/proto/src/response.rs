//! Reply bodies: what follows a `ReplyHeader` with err == 0.

use bytes::{Bytes, BytesMut};

use super::multi::MultiDecodeError;
use super::ops::OpCode;

use super::jute::Jute;
use super::multi::{self, MultiResult};
use super::records::data::Stat;
use super::records::proto::*;

/// A successful reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Response {
    /// No body (delete, setWatches, checkWatches, removeWatches, closeSession, auth).
    Empty,
    Create(CreateResponse),
    Create2(Create2Response),
    /// exists, setData, setACL and check reply with a bare Stat record.
    Stat(Stat),
    GetData(GetDataResponse),
    GetAcl(GetACLResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    AllChildrenNumber(GetAllChildrenNumberResponse),
    Ephemerals(GetEphemeralsResponse),
    Sync(SyncResponse),
    Multi(Vec<MultiResult>),
    WhoAmI(WhoAmIResponse),
    /// addWatch answers with an ErrorResponse(0) body.
    ErrorBody(ErrorResponse),
}

impl Response {
    /// Roughly how many bytes [`encode`](Self::encode) writes, so a reply
    /// buffer is allocated once instead of grown (node data dominates).
    pub fn size_hint(&self) -> usize {
        match self {
            Response::GetData(r) => 80 + r.data.as_ref().map_or(0, |d| d.len()),
            Response::GetChildren(r) => 8 + r.children.iter().map(|c| c.len() + 4).sum::<usize>(),
            Response::GetChildren2(r) => 88 + r.children.iter().map(|c| c.len() + 4).sum::<usize>(),
            _ => 96,
        }
    }

    /// Appends the body's encoding.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Response::Empty => {}
            Response::Create(r) => r.encode(out),
            Response::Create2(r) => r.encode(out),
            Response::Stat(r) => r.encode(out),
            Response::GetData(r) => r.encode(out),
            Response::GetAcl(r) => r.encode(out),
            Response::GetChildren(r) => r.encode(out),
            Response::GetChildren2(r) => r.encode(out),
            Response::AllChildrenNumber(r) => r.encode(out),
            Response::Ephemerals(r) => r.encode(out),
            Response::Sync(r) => r.encode(out),
            Response::Multi(r) => multi::encode_response(r, out),
            Response::WhoAmI(r) => r.encode(out),
            Response::ErrorBody(r) => r.encode(out),
        }
    }
}

impl Response {
    /// Decodes the body of a successful reply to a request sent with `op`
    /// (client side). Opcodes without a reply body decode as `Empty`.
    pub fn decode(op: i32, src: &mut Bytes) -> Result<Response, MultiDecodeError> {
        let Some(code) = OpCode::from_i32(op) else {
            return Ok(Response::Empty);
        };
        Ok(match code {
            OpCode::Create => Response::Create(CreateResponse::decode(src)?),
            OpCode::Create2 | OpCode::CreateTtl | OpCode::CreateContainer => {
                Response::Create2(Create2Response::decode(src)?)
            }
            OpCode::Exists | OpCode::SetData | OpCode::SetAcl | OpCode::Check => {
                Response::Stat(Stat::decode(src)?)
            }
            OpCode::GetData | OpCode::Reconfig => Response::GetData(GetDataResponse::decode(src)?),
            OpCode::GetAcl => Response::GetAcl(GetACLResponse::decode(src)?),
            OpCode::GetChildren => Response::GetChildren(GetChildrenResponse::decode(src)?),
            OpCode::GetChildren2 => Response::GetChildren2(GetChildren2Response::decode(src)?),
            OpCode::GetAllChildrenNumber => {
                Response::AllChildrenNumber(GetAllChildrenNumberResponse::decode(src)?)
            }
            OpCode::GetEphemerals => Response::Ephemerals(GetEphemeralsResponse::decode(src)?),
            OpCode::Sync => Response::Sync(SyncResponse::decode(src)?),
            OpCode::Multi | OpCode::MultiRead => Response::Multi(multi::decode_response(src)?),
            OpCode::WhoAmI => Response::WhoAmI(WhoAmIResponse::decode(src)?),
            OpCode::AddWatch => Response::ErrorBody(ErrorResponse::decode(src)?),
            _ => Response::Empty,
        })
    }
}
