//! A request's way through the core: ordering behind its session's writes,
//! decoding, the dispatch by [`Classified`] (every class and every request
//! in it matched explicitly), reads answered at once, writes prepared into
//! transactions for the pipeline.

use bytes::Bytes;

use super::pipeline::{Queued, Then, WriteKind};
use super::{ConnId, Core};
use crate::proto::records::proto::ReplyHeader;
use crate::proto::{
    Classified, ErrorCode, OpClass, OpCode, ReadRequest, Request, SessionRequest, WriteRequest,
};
use crate::server::metrics::{observe, Counter, Summary};
use crate::session::SessionId;
use crate::tree::prep::PrepCtx;
use crate::tree::read::{self, ReadCtx};

impl Core {
    pub(super) fn on_request(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: i32,
        body: Bytes,
        received_us: u64,
    ) {
        // ZooKeeper's packetReceived: the frame, its length prefix included.
        self.metrics
            .count(Counter::BytesReceivedCount, 12 + body.len() as u64);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.request_read(xid, op, received_us);
        self.stats.received += 1;
        let session = c.session;
        if self.pipeline.must_wait(session, OpClass::is_write(op)) {
            self.pipeline.queue(
                session,
                Queued {
                    conn,
                    xid,
                    op,
                    body,
                    received_us,
                },
            );
            return;
        }
        self.process(conn, session, xid, op, body, received_us);
    }

    /// Serves a request whose turn has come.
    pub(super) fn process(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        op: i32,
        mut body: Bytes,
        received_us: u64,
    ) {
        let now = self.now_ms();
        let last = self.tree.last_zxid;
        if let Some(r) = self.replica.as_mut().filter(|r| !r.is_leader()) {
            // The leader hears of this session's activity in our next PING
            // answer (it touches its own clients' sessions directly).
            if let Some(c) = self.conns.get(&conn) {
                r.touched.insert(session, c.timeout_ms);
            }
            if super::forward::goes_to_leader(op) {
                self.forward(conn, session, xid, op, body, received_us);
                return;
            }
        }
        if self.replica.as_ref().is_none_or(|r| r.is_leader()) {
            let queued_ms = (self.now.mono_us / 1000).saturating_sub(received_us / 1000);
            observe::prep(&self.metrics, queued_ms as i64, self.replica.is_none());
        }
        if let Some(err) = null_path_error(op, &body) {
            // Jute decodes a null path (length -1) as "", but ZooKeeper sees
            // Java's null and fails in op-specific ways; kazoo sends "" as
            // null, so clients do hit this.
            self.fail_early(conn, session, xid, op, err, received_us);
            return;
        }
        let req = match Request::decode(op, &mut body) {
            Ok(r) => r.classify(),
            Err(e) => {
                // ZooKeeper decodes bodies late, in its processors: a bad body
                // gets MARSHALLINGERROR and the connection stays.
                tracing::warn!("undecodable request body (op {op}): {e}");
                self.fail_early(
                    conn,
                    session,
                    xid,
                    op,
                    ErrorCode::MarshallingError,
                    received_us,
                );
                return;
            }
        };
        let closing = matches!(req, Classified::Session(SessionRequest::CloseSession));
        if !closing && !self.sessions.touch(SessionId(session), now) {
            self.send(
                conn,
                ReplyHeader {
                    xid,
                    zxid: last,
                    err: ErrorCode::SessionExpired.code(),
                },
                None,
            );
            return;
        }
        match req {
            Classified::Session(s) => self.session_request(conn, session, xid, s, received_us),
            Classified::Refused(_) => {
                // UnimplementedRequestProcessor: answer, then close the
                // connection (the session survives, the client reconnects).
                self.send(
                    conn,
                    ReplyHeader {
                        xid,
                        zxid: -1,
                        err: ErrorCode::Unimplemented.code(),
                    },
                    None,
                );
                self.close_conn(conn);
            }
            Classified::Write(_) if !self.owns_here(session) => {
                // The session moved to another member (ZooKeeper's checkSession).
                self.fail_early(conn, session, xid, op, ErrorCode::SessionMoved, received_us)
            }
            Classified::Write(w) => self.write(conn, session, xid, &w, received_us),
            Classified::Read(ReadRequest::Sync(r)) if self.replica.is_some() => {
                self.local_sync(conn, session, xid, r.path)
            }
            Classified::Read(r) => self.read(conn, session, xid, &r, received_us),
        }
    }

    fn read(&mut self, conn: ConnId, session: i64, xid: i32, req: &ReadRequest, received_us: u64) {
        let last = self.tree.last_zxid;
        // Disjoint field borrows: no copy of the auth list per read.
        let ctx = ReadCtx {
            session,
            watcher: conn,
            auth: &self.conns[&conn].auth,
            skip_acl: self.opts.skip_acl,
        };
        let mut notes = Vec::new();
        let res = read::read(&mut self.tree, &ctx, req, &mut notes);
        self.deliver(&notes);
        if let Ok(rsp) = &res {
            observe::read(&self.metrics, req, rsp);
        }
        match res {
            Ok(rsp) => self.send(
                conn,
                ReplyHeader {
                    xid,
                    zxid: last,
                    err: 0,
                },
                Some(&rsp),
            ),
            Err(e) => self.send(
                conn,
                ReplyHeader {
                    xid,
                    zxid: last,
                    err: e.code(),
                },
                None,
            ),
        }
        self.record_latency(received_us);
        self.metrics
            .latency(Summary::ReadLatency, self.now.mono_us, received_us);
    }

    fn session_request(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        req: SessionRequest,
        received_us: u64,
    ) {
        match req {
            SessionRequest::Ping => {
                let zxid = self.tree.last_zxid;
                self.send(
                    conn,
                    ReplyHeader {
                        xid: crate::proto::ops::XID_PING,
                        zxid,
                        err: 0,
                    },
                    None,
                );
                self.record_latency(received_us);
                self.metrics
                    .latency(Summary::ReadLatency, self.now.mono_us, received_us);
            }
            SessionRequest::Auth(a) => {
                let peer_ip = self.conns[&conn].peer.ip().to_string();
                match crate::tree::acl::authenticate(
                    &a.scheme,
                    a.auth.as_deref().unwrap_or(&[]),
                    &peer_ip,
                    self.opts.super_digest.as_deref(),
                ) {
                    Ok(ids) => {
                        let c = self.conns.get_mut(&conn).expect("present");
                        for id in ids {
                            if !c.auth_inserted.contains(&id) {
                                c.auth_inserted.push(id);
                            }
                        }
                        c.auth = crate::tree::java_order::auth_order(&c.auth_inserted);
                        let hdr = ReplyHeader {
                            xid,
                            zxid: 0,
                            err: 0,
                        };
                        self.send(conn, hdr, None);
                    }
                    Err(e) => {
                        self.metrics.auth_failed();
                        let hdr = ReplyHeader {
                            xid,
                            zxid: 0,
                            err: e.code(),
                        };
                        self.send(conn, hdr, None);
                        self.close_conn(conn);
                    }
                }
            }
            SessionRequest::CloseSession => {
                let txn = self.close_session_txn(session, xid);
                self.submit(
                    txn,
                    Then::ClientClosed {
                        conn,
                        xid,
                        received_us,
                    },
                );
            }
        }
    }

    fn write(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        req: &WriteRequest,
        received_us: u64,
    ) {
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session,
            cxid: xid,
            zxid,
            time: self.wall_ms(),
            auth: &self.conns[&conn].auth,
        };
        let (txn, failure) = self.prep.prep(&self.tree, &ctx, req);
        self.submit(
            txn,
            Then::Reply {
                conn,
                xid,
                kind: WriteKind::of(req),
                failure,
                received_us,
            },
        );
    }

    /// Answers a request that failed before it could be decoded or
    /// prepared. A write's failure is still an error transaction consuming a
    /// zxid, as in ZooKeeper, whose processors fail after assigning one.
    pub(super) fn fail_early(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        op: i32,
        err: ErrorCode,
        received_us: u64,
    ) {
        if OpClass::is_write(op) {
            let zxid = self.take_zxid();
            let ctx = PrepCtx {
                session,
                cxid: xid,
                zxid,
                time: self.wall_ms(),
                auth: &[],
            };
            let (txn, _) = ctx.finish(OpCode::Error.code(), Err(err));
            self.submit(txn, Then::Error { conn, xid, err });
        } else {
            let zxid = self.tree.last_zxid;
            self.send(
                conn,
                ReplyHeader {
                    xid,
                    zxid,
                    err: err.code(),
                },
                None,
            );
            self.record_latency(received_us);
            self.metrics
                .latency(Summary::ReadLatency, self.now.mono_us, received_us);
        }
    }

    /// Whether this server's clients may write for `session`: always
    /// standalone; on a leader, unless the session moved to a learner.
    fn owns_here(&mut self, session: i64) -> bool {
        match self.replica.as_ref() {
            Some(r) if r.is_leader() => {
                let me = r.peer.id();
                self.owns(session, me)
            }
            _ => true,
        }
    }

    /// Counts a request answered now that the connection read at
    /// `received_us` (ZooKeeper measures from the request's arrival too).
    pub(super) fn record_latency(&mut self, received_us: u64) {
        let us = self.now.mono_us.saturating_sub(received_us);
        self.stats.record_latency_us(us);
    }
}

/// The error ZooKeeper answers for a request whose leading path field is
/// null (jute length -1), for the ops whose first field is the path: a
/// NullPointerException (MARSHALLINGERROR) where the path is used before it
/// is validated, BADARGUMENTS where `validatePath` sees it first.
fn null_path_error(op: i32, body: &Bytes) -> Option<ErrorCode> {
    if body.len() < 4 || body[..4] != [0xff; 4] {
        return None;
    }
    match OpCode::from_i32(op)? {
        OpCode::SetData | OpCode::SetAcl | OpCode::Check => Some(ErrorCode::BadArguments),
        OpCode::Create
        | OpCode::Create2
        | OpCode::CreateContainer
        | OpCode::CreateTtl
        | OpCode::Delete
        | OpCode::Exists
        | OpCode::GetData
        | OpCode::GetChildren
        | OpCode::GetChildren2
        | OpCode::GetAcl
        | OpCode::GetAllChildrenNumber => Some(ErrorCode::MarshallingError),
        _ => None,
    }
}
