//! Requests that cross servers: a follower forwards its clients' writes,
//! session creations and closes, and syncs to the leader (ZooKeeper's
//! `FollowerRequestProcessor`); the leader prepares what learners forward
//! (`LearnerHandler` REQUEST → `PrepRequestProcessor`).
//!
//! A forwarded request is the REQUEST packet's data as ZooKeeper lays it
//! out (`Learner.request`): sessionId long, cxid int, type int, then the
//! request body as the client sent it; the client's auth ids travel in the
//! packet's authinfo.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::pipeline::{Then, WriteKind};
use super::{ConnId, Core};
use crate::proto::records::data::Id;
use crate::proto::records::proto::{ReplyHeader, SyncResponse};
use crate::proto::response::Response;
use crate::proto::{Classified, ErrorCode, OpClass, OpCode, ReadRequest, Request};
use crate::session::SessionId;
use crate::tree::prep::PrepCtx;
use crate::zab::peer::SyncTarget;
use crate::zab::LinkId;

/// Whether a follower must send this request to the leader.
pub(super) fn goes_to_leader(op: i32) -> bool {
    OpClass::is_write(op) || op == OpCode::CloseSession.code() || op == OpCode::Sync.code()
}

fn request_data(session: i64, cxid: i32, op: i32, body: &[u8]) -> Bytes {
    let mut d = BytesMut::with_capacity(16 + body.len());
    d.put_i64(session);
    d.put_i32(cxid);
    d.put_i32(op);
    d.put_slice(body);
    d.freeze()
}

impl Core {
    /// Follower: sends a client's request to the leader and remembers how to
    /// answer it when its commit (or SYNC) comes back.
    pub(super) fn forward(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        op: i32,
        body: Bytes,
        received_us: u64,
    ) {
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let data = request_data(session, xid, op, &body);
        let sent = self.replica_mut().peer.forward(data, auth);
        self.zab_outputs();
        if sent.is_err() {
            // The leader is gone: the client reconnects elsewhere.
            self.close_conn(conn);
            return;
        }
        if op == OpCode::Sync.code() {
            let path = match Request::decode(op, &mut body.clone()).map(Request::classify) {
                Ok(Classified::Read(ReadRequest::Sync(s))) => s.path,
                _ => String::new(),
            };
            self.pipeline.hold(session);
            self.replica_mut().syncs.push_back((conn, xid, path));
            return;
        }
        let then = if op == OpCode::CloseSession.code() {
            self.sessions.set_closing(SessionId(session));
            Then::ClientClosed {
                conn,
                xid,
                received_us,
            }
        } else {
            let kind = match Request::decode(op, &mut body.clone()).map(Request::classify) {
                Ok(Classified::Write(w)) => WriteKind::of(&w),
                _ => WriteKind::Stat,
            };
            Then::Reply {
                conn,
                xid,
                kind,
                failure: None,
                received_us,
            }
        };
        self.pipeline.hold(session);
        self.replica_mut()
            .forwarded
            .entry(session)
            .or_default()
            .push_back((xid, then));
    }

    /// Follower: a new session is created by the leader (a createSession
    /// request carrying the id this server chose and the timeout).
    pub(super) fn forward_create_session(
        &mut self,
        conn: ConnId,
        session: i64,
        timeout_ms: u32,
        read_only: Option<bool>,
    ) {
        let data = request_data(
            session,
            0,
            OpCode::CreateSession.code(),
            &(timeout_ms as i32).to_be_bytes(),
        );
        let sent = self.replica_mut().peer.forward(data, vec![]);
        self.zab_outputs();
        if sent.is_err() {
            self.close_conn(conn);
            return;
        }
        self.pipeline.hold(session);
        self.replica_mut()
            .forwarded
            .entry(session)
            .or_default()
            .push_back((
                0,
                Then::Connected {
                    conn,
                    timeout_ms,
                    read_only,
                },
            ));
    }

    /// Leader: a local client's sync completes once every proposal made
    /// before it is committed.
    pub(super) fn local_sync(&mut self, conn: ConnId, session: i64, xid: i32, path: String) {
        let now = self.now_ms();
        self.pipeline.hold(session);
        let r = self.replica_mut();
        let token = r.next_token;
        r.next_token += 1;
        r.local_syncs.insert(token, (conn, xid, path));
        if r.peer.sync(now, SyncTarget::Local(token)).is_err() {
            r.local_syncs.remove(&token);
            self.close_conn(conn);
        }
        self.zab_outputs();
    }

    /// Answers a completed sync and lets the session's later requests run.
    pub(super) fn answer_sync(&mut self, conn: ConnId, xid: i32, path: String) {
        let zxid = self.tree.last_zxid;
        let session = self.conns.get(&conn).map(|c| c.session);
        self.send(
            conn,
            ReplyHeader { xid, zxid, err: 0 },
            Some(&Response::Sync(SyncResponse { path })),
        );
        if let Some(session) = session {
            self.pipeline.release(session);
            self.resume_session(session);
        }
    }

    /// Learner: a client resumes a session here; ask the leader whether it
    /// is alive (REVALIDATE: sessionId, timeout).
    pub(super) fn revalidate_session(
        &mut self,
        conn: ConnId,
        id: i64,
        timeout: u32,
        read_only: Option<bool>,
    ) {
        let mut d = BytesMut::with_capacity(12);
        d.put_i64(id);
        d.put_i32(timeout as i32);
        let asked = self.replica_mut().peer.revalidate(d.freeze());
        self.zab_outputs();
        if asked.is_err() {
            self.close_conn(conn);
            return;
        }
        self.replica_mut()
            .revalidating
            .entry(id)
            .or_default()
            .push((conn, timeout, read_only));
    }

    /// Learner: the leader's answer (sessionId, valid).
    pub(super) fn revalidated(&mut self, data: Bytes) {
        let mut d = data;
        if d.remaining() < 9 {
            return;
        }
        let id = d.get_i64();
        let valid = d.get_u8() != 0;
        let waiting = self
            .replica_mut()
            .revalidating
            .remove(&id)
            .unwrap_or_default();
        let now = self.now_ms();
        for (conn, timeout, read_only) in waiting {
            if !self.conns.contains_key(&conn) {
                continue;
            }
            if !valid {
                self.send_handshake(conn, super::lifecycle::refusal_frame(read_only));
                self.close_conn(conn);
                continue;
            }
            if self.sessions.get(SessionId(id)).is_none() {
                self.sessions.add(SessionId(id), timeout, now);
            }
            self.bind_session(conn, id);
            self.complete_handshake(conn, id, timeout, read_only);
        }
    }

    /// Leader: whether `member` may write for `session` (ZooKeeper's
    /// `checkSession` owner test); the first member to write owns it.
    pub(super) fn owns(&mut self, session: i64, member: crate::zab::Sid) -> bool {
        let owners = &mut self.replica_mut().owners;
        *owners.entry(session).or_insert(member) == member
    }

    /// Leader: a request forwarded by a learner.
    pub(super) fn learner_request(
        &mut self,
        link: LinkId,
        from: crate::zab::Sid,
        data: Bytes,
        authinfo: Vec<Id>,
    ) {
        let mut d = data;
        if d.remaining() < 16 {
            tracing::warn!("short REQUEST from a learner ({} bytes)", d.remaining());
            return;
        }
        let session = d.get_i64();
        let cxid = d.get_i32();
        let op = d.get_i32();
        let now = self.now_ms();
        if op == OpCode::Sync.code() {
            let _ = self.replica_mut().peer.sync(now, SyncTarget::Learner(link));
            self.zab_outputs();
            return;
        }
        if op == OpCode::CreateSession.code() {
            let timeout = if d.remaining() >= 4 { d.get_i32() } else { 0 };
            self.sessions
                .add(SessionId(session), timeout.max(0) as u32, now);
            self.replica_mut().owners.insert(session, from);
            let txn = self.create_session_txn(session, timeout);
            self.submit(txn, Then::Nothing);
            return;
        }
        if op == OpCode::CloseSession.code() {
            let txn = self.close_session_txn(session, cxid);
            self.submit(txn, Then::Nothing);
            return;
        }
        let known = self.sessions.touch(SessionId(session), now);
        let moved = known && !self.owns(session, from);
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session,
            cxid,
            zxid,
            time: self.wall_ms(),
            auth: &authinfo,
        };
        let txn = match (known, Request::decode(op, &mut d).map(Request::classify)) {
            (false, _) => {
                ctx.finish(OpCode::Error.code(), Err(ErrorCode::SessionExpired))
                    .0
            }
            (true, _) if moved => {
                ctx.finish(OpCode::Error.code(), Err(ErrorCode::SessionMoved))
                    .0
            }
            (true, Ok(Classified::Write(req))) => self.prep.prep(&self.tree, &ctx, &req).0,
            (true, _) => {
                ctx.finish(OpCode::Error.code(), Err(ErrorCode::MarshallingError))
                    .0
            }
        };
        self.submit(txn, Then::Nothing);
    }
}
