//! Simulated clients: each holds a session on some server, creates nodes
//! with unique paths one at a time, and on losing its connection
//! reconnects with its session id and password to another server — which
//! exercises session moves, revalidation by the leader and session
//! touches in learners' pings. A write counts as acknowledged when its
//! reply says OK; the checks then require it on a quorum of disks and in
//! every later leader's tree.

use bytes::{Buf, Bytes, BytesMut};

use crate::proto::connect::Connect;
use crate::proto::records::proto::{ConnectRequest, ConnectResponse, CreateRequest, ReplyHeader};
use crate::proto::{Jute, OpCode, Request};
use crate::server::core::ConnId;
use crate::zab::Sid;

/// Where a client stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    /// Not connected; may connect at the time given.
    Idle { from: u64 },
    /// Handshake sent on `conn` to `server`.
    Connecting { conn: ConnId, server: Sid },
    /// Session established on `conn`.
    Connected { conn: ConnId, server: Sid },
}

/// One client.
#[derive(Debug)]
pub struct Client {
    pub state: ClientState,
    pub session: i64,
    pub passwd: Bytes,
    /// The create in flight: (xid, path).
    pub outstanding: Option<(i32, String)>,
    next_xid: i32,
    next_node: u64,
    pub id: usize,
}

impl Client {
    pub fn new(id: usize) -> Client {
        Client {
            state: ClientState::Idle { from: 0 },
            session: 0,
            passwd: Bytes::from_static(&[0; 16]),
            outstanding: None,
            next_xid: 1,
            next_node: 0,
            id,
        }
    }

    /// The handshake for a (re)connection.
    pub fn connect_request(&self) -> Connect {
        Connect {
            req: ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                time_out: 3000,
                session_id: self.session,
                passwd: Some(self.passwd.clone()),
            },
            read_only: Some(false),
        }
    }

    /// The next create: (xid, opcode, body, path).
    pub fn next_write(&mut self) -> (i32, i32, Bytes, String) {
        let xid = self.next_xid;
        self.next_xid += 1;
        self.next_node += 1;
        let path = format!("/c{}-{}", self.id, self.next_node);
        let req = Request::Create(
            OpCode::Create,
            CreateRequest {
                path: path.clone(),
                data: Some(Bytes::from(path.clone().into_bytes())),
                acl: crate::tree::acl::open_acl_unsafe(),
                flags: 0,
            },
        );
        let mut body = BytesMut::new();
        req.encode(&mut body);
        self.outstanding = Some((xid, path.clone()));
        (xid, req.opcode(), body.freeze(), path)
    }
}

/// A frame a server sent a client, decoded.
#[derive(Debug)]
pub enum Incoming {
    /// The handshake reply (timeout 0: refused).
    Handshake(ConnectResponse),
    /// A reply: header.
    Reply(ReplyHeader),
    /// A watch event (the simulated clients set none).
    Event,
}

/// Decodes a frame (length prefix included).
pub fn decode(frame: &Bytes, handshake: bool) -> Option<Incoming> {
    let mut f = frame.clone();
    if f.remaining() < 4 {
        return None;
    }
    f.advance(4);
    if handshake {
        return crate::proto::connect::decode_response(f)
            .ok()
            .map(|(r, _)| Incoming::Handshake(r));
    }
    let h = ReplyHeader::decode(&mut f).ok()?;
    if h.xid == crate::proto::ops::XID_NOTIFICATION {
        return Some(Incoming::Event);
    }
    Some(Incoming::Reply(h))
}
