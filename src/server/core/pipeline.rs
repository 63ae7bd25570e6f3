//! The write pipeline: a prepared transaction waits here until it is
//! durable (the log reports it, or Zab delivers it), then it is applied and
//! answered — in zxid order.
//!
//! A session's requests are answered in the order they were sent, so while
//! a session has writes in the pipeline its later reads wait in a per-session
//! queue (ZooKeeper's CommitProcessor does the same); its later writes may
//! enter the pipeline behind the earlier ones. Other sessions are not held up.
//!
//! [`Pipeline`] owns that state and decides; the core performs: it submits,
//! asks for the completions up to a zxid, applies and answers them, and asks
//! which queued requests may go now.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::{ConnId, Core, Durability, Effect, FastMap, LogItem};
use crate::proto::multi::MultiResult;
use crate::proto::records::proto::{Create2Response, CreateResponse, ReplyHeader};
use crate::proto::response::Response;
use crate::proto::{ErrorCode, OpClass, OpCode, WriteRequest};
use crate::server::metrics::{observe, Summary};
use crate::session::SessionId;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::ApplyResult;

/// How a successful write is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WriteKind {
    /// create: the path.
    Create,
    /// create2 / createContainer / createTTL: path and stat.
    Create2,
    /// delete: no body.
    Delete,
    /// setData / setACL / check: a stat.
    Stat,
    /// multi: per-op results.
    Multi,
}

impl WriteKind {
    pub(super) fn of(req: &WriteRequest) -> WriteKind {
        match req {
            WriteRequest::Create(OpCode::Create, _) => WriteKind::Create,
            WriteRequest::Create(..) | WriteRequest::CreateTtl(_) => WriteKind::Create2,
            WriteRequest::Delete(_) => WriteKind::Delete,
            WriteRequest::Multi(_) => WriteKind::Multi,
            WriteRequest::SetData(_)
            | WriteRequest::SetAcl(_)
            | WriteRequest::Check(_)
            | WriteRequest::Reconfig(_)
            | WriteRequest::DeleteContainer => WriteKind::Stat,
        }
    }
}

/// What to do once a transaction is applied.
#[derive(Debug)]
pub(super) enum Then {
    /// Answer a client's write.
    Reply {
        conn: ConnId,
        xid: i32,
        kind: WriteKind,
        failure: Option<ErrorCode>,
        received_us: u64,
    },
    /// Answer a client's request that failed before prep (an error txn).
    Error {
        conn: ConnId,
        xid: i32,
        err: ErrorCode,
    },
    /// A new session exists: complete its handshake.
    Connected {
        conn: ConnId,
        timeout_ms: u32,
        read_only: Option<bool>,
    },
    /// The client closed its session: answer, then close the connection.
    ClientClosed {
        conn: ConnId,
        xid: i32,
        received_us: u64,
    },
    /// The session expired: close its connection, if any.
    Expired,
    /// Server-internal (container reaper, a learner's request).
    Nothing,
}

impl Then {
    /// Whether this answers a request of the transaction's session (and so
    /// holds that session's later reads back until it is applied).
    pub(super) fn answers_session(&self) -> bool {
        matches!(
            self,
            Then::Reply { .. }
                | Then::Error { .. }
                | Then::Connected { .. }
                | Then::ClientClosed { .. }
        )
    }
}

/// A transaction in the pipeline.
#[derive(Debug)]
pub(super) struct Pending {
    /// Shared with the log: a write is never deep-copied to be logged.
    pub(super) txn: Arc<Txn>,
    pub(super) then: Then,
}

/// A request that must wait for its session's earlier writes.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) conn: ConnId,
    pub(super) xid: i32,
    pub(super) op: i32,
    pub(super) body: Bytes,
    pub(super) received_us: u64,
}

/// Per-session pipeline state.
#[derive(Debug, Default)]
struct SessionFlow {
    /// Transactions (or forwarded writes) of this session not yet answered.
    in_pipeline: usize,
    /// Requests waiting behind them.
    queued: VecDeque<Queued>,
}

/// Transactions waiting to be durable, and sessions waiting on them.
#[derive(Debug, Default)]
pub(super) struct Pipeline {
    pending: VecDeque<Pending>,
    flows: FastMap<i64, SessionFlow>,
}

impl Pipeline {
    /// Whether a request of `session` must wait behind earlier ones.
    pub(super) fn must_wait(&self, session: i64, is_write: bool) -> bool {
        match self.flows.get(&session) {
            None => false,
            Some(f) => !f.queued.is_empty() || (!is_write && f.in_pipeline > 0),
        }
    }

    /// Parks a request behind its session's writes.
    pub(super) fn queue(&mut self, session: i64, q: Queued) {
        self.flows.entry(session).or_default().queued.push_back(q);
    }

    /// Counts a request that will be answered later (a transaction that
    /// answers its session, a follower's forwarded write), so that the
    /// session's later reads wait for it.
    pub(super) fn hold(&mut self, session: i64) {
        self.flows.entry(session).or_default().in_pipeline += 1;
    }

    /// Releases what [`hold`](Self::hold) counted.
    pub(super) fn release(&mut self, session: i64) {
        if let Some(f) = self.flows.get_mut(&session) {
            f.in_pipeline = f.in_pipeline.saturating_sub(1);
        }
    }

    /// Adds a prepared transaction, in zxid order.
    pub(super) fn push(&mut self, p: Pending) {
        if p.then.answers_session() {
            self.hold(p.txn.hdr.client_id);
        }
        self.pending.push_back(p);
    }

    /// The next transaction that is durable once `zxid` is.
    pub(super) fn pop_durable(&mut self, zxid: i64) -> Option<Pending> {
        if self.pending.front()?.txn.hdr.zxid <= zxid {
            self.pending.pop_front()
        } else {
            None
        }
    }

    /// The next queued request of `session` that may go now (`None` also
    /// forgets a session with nothing left).
    pub(super) fn next_ready(&mut self, session: i64) -> Option<Queued> {
        let flow = self.flows.get_mut(&session)?;
        match flow.queued.front().map(|q| OpClass::is_write(q.op)) {
            None => {
                if flow.in_pipeline == 0 {
                    self.flows.remove(&session);
                }
                None
            }
            Some(false) if flow.in_pipeline > 0 => None,
            Some(_) => flow.queued.pop_front(),
        }
    }

    /// Whether no transaction waits to be durable (or committed).
    pub(super) fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// Drops every transaction waiting (a new database replaced the tree).
    pub(super) fn clear_pending(&mut self) {
        self.pending.clear();
    }

    /// Drops every session's queue (clients are disconnected).
    pub(super) fn clear_flows(&mut self) {
        self.flows.clear();
    }
}

impl Core {
    /// Sends a transaction to the log (or Zab); it is applied once durable.
    pub(super) fn submit(&mut self, txn: Txn, then: Then) {
        observe::prepared(&self.metrics, &txn);
        let txn = Arc::new(txn);
        self.pipeline.push(Pending {
            txn: txn.clone(),
            then,
        });
        if self.replica.is_some() {
            // Replicated: the txn is proposed; Zab persists it and reports
            // the commit (`Output::Deliver`), which completes it here.
            self.propose(txn);
            return;
        }
        match self.durability {
            Durability::Log => self.emit(Effect::Persist(LogItem::Txn(txn))),
            Durability::Memory => self.on_durable(txn.hdr.zxid),
        }
    }

    /// Applies and answers every pending transaction up to `zxid`, then lets
    /// waiting requests of the affected sessions proceed.
    pub(super) fn on_durable(&mut self, zxid: i64) {
        let mut touched = Vec::new();
        while let Some(p) = self.pipeline.pop_durable(zxid) {
            if let Some(session) = self.complete(p) {
                touched.push(session);
            }
        }
        for session in touched {
            self.resume_session(session);
        }
    }

    /// Applies one transaction, answers whoever waits for it, and releases
    /// its session's slot; returns the session to resume, if one waited.
    pub(super) fn complete(&mut self, p: Pending) -> Option<i64> {
        let session = p.txn.hdr.client_id;
        let counted = p.then.answers_session();
        self.finish(p);
        if counted {
            self.pipeline.release(session);
            return Some(session);
        }
        None
    }

    /// Serves the requests of `session` that may go now.
    pub(super) fn resume_session(&mut self, session: i64) {
        while let Some(q) = self.pipeline.next_ready(session) {
            if self.conns.contains_key(&q.conn) {
                self.process(q.conn, session, q.xid, q.op, q.body, q.received_us);
            }
        }
    }

    /// Applies one durable transaction and does what follows it.
    fn finish(&mut self, p: Pending) {
        let rc = self.commit(&p.txn);
        let here = self.replica.as_ref().map(|r| r.is_leader());
        let (wall, prepared_here) = (self.wall_ms(), here.unwrap_or(true));
        observe::committed(
            &self.metrics,
            &p.txn,
            rc.err,
            wall,
            prepared_here,
            here.is_some(),
        );
        let zxid = p.txn.hdr.zxid;
        let session = p.txn.hdr.client_id;
        match p.then {
            Then::Reply {
                conn,
                xid,
                kind,
                failure,
                received_us,
            } => {
                self.answer_write(conn, xid, zxid, kind, failure, &p.txn, rc);
                self.record_latency(received_us);
                self.metrics
                    .latency(Summary::UpdateLatency, self.now.mono_us, received_us);
            }
            // ZooKeeper reports SESSIONMOVED by closing the connection.
            Then::Error {
                conn,
                err: ErrorCode::SessionMoved,
                ..
            } => self.close_conn(conn),
            Then::Error { conn, xid, err } => self.send(
                conn,
                ReplyHeader {
                    xid,
                    zxid,
                    err: err.code(),
                },
                None,
            ),
            Then::Connected {
                conn,
                timeout_ms,
                read_only,
            } => self.complete_handshake(conn, session, timeout_ms, read_only),
            Then::ClientClosed {
                conn,
                xid,
                received_us,
            } => {
                self.sessions.remove(SessionId(session));
                self.send(conn, ReplyHeader { xid, zxid, err: 0 }, None);
                self.record_latency(received_us);
                self.metrics
                    .latency(Summary::UpdateLatency, self.now.mono_us, received_us);
                self.close_conn(conn);
            }
            Then::Expired => {
                self.sessions.remove(SessionId(session));
                if let Some(&conn) = self.session_conn.get(&session) {
                    self.close_conn(conn);
                }
            }
            Then::Nothing => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn answer_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        zxid: i64,
        kind: WriteKind,
        failure: Option<ErrorCode>,
        txn: &Txn,
        rc: ApplyResult,
    ) {
        if rc.err == ErrorCode::SessionMoved.code() {
            // A learner's forwarded write for a session that moved: ZooKeeper
            // closes the connection instead of answering.
            self.close_conn(conn);
            return;
        }
        let hdr = |err: i32| ReplyHeader { xid, zxid, err };
        // A multi's per-op failures travel in its results; a write that
        // failed as a whole is an error reply.
        if let Some(e) = failure {
            if !matches!(txn.body, TxnBody::Multi(_)) {
                self.send(conn, hdr(e.code()), None);
                return;
            }
        }
        if rc.err != 0 && kind != WriteKind::Multi {
            self.send(conn, hdr(rc.err), None);
            return;
        }
        let rsp = match kind {
            WriteKind::Create => Response::Create(CreateResponse { path: rc.path }),
            WriteKind::Create2 => Response::Create2(Create2Response {
                path: rc.path,
                stat: rc.stat.unwrap_or_default(),
            }),
            WriteKind::Delete => Response::Empty,
            WriteKind::Stat => Response::Stat(rc.stat.unwrap_or_default()),
            WriteKind::Multi => Response::Multi(rc.multi.into_iter().map(multi_result).collect()),
        };
        self.send(conn, hdr(0), Some(&rsp));
    }
}

/// A multi's per-operation result as the reply carries it.
fn multi_result(r: ApplyResult) -> MultiResult {
    if r.op == OpCode::Error.code() {
        return MultiResult::Error(r.err);
    }
    match OpCode::from_i32(r.op) {
        Some(OpCode::Create) => MultiResult::Create(r.path),
        // ZooKeeper's CreateResult with a stat always carries type create2.
        Some(OpCode::Create2 | OpCode::CreateTtl | OpCode::CreateContainer) => {
            MultiResult::Create2(OpCode::Create2, r.path, r.stat.unwrap_or_default())
        }
        Some(OpCode::Delete | OpCode::DeleteContainer) => MultiResult::Delete,
        Some(OpCode::SetData) => MultiResult::SetData(r.stat.unwrap_or_default()),
        Some(OpCode::Check) => MultiResult::Check,
        _ => MultiResult::Error(r.err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(op: OpCode) -> Queued {
        Queued {
            conn: 1,
            xid: 1,
            op: op.code(),
            body: Bytes::new(),
            received_us: 0,
        }
    }

    #[test]
    fn reads_wait_behind_their_sessions_writes_but_writes_do_not() {
        let mut p = Pipeline::default();
        assert!(!p.must_wait(7, false));
        p.hold(7);
        assert!(p.must_wait(7, false), "a read waits for the pending write");
        assert!(
            !p.must_wait(7, true),
            "a write may follow it into the pipeline"
        );
        assert!(!p.must_wait(8, false), "other sessions are not held up");
        p.queue(7, queued(OpCode::GetData));
        assert!(p.must_wait(7, true), "nothing overtakes a queued request");
    }

    #[test]
    fn queued_requests_go_in_order_once_released() {
        let mut p = Pipeline::default();
        p.hold(7);
        p.queue(7, queued(OpCode::GetData));
        p.queue(7, queued(OpCode::SetData));
        p.queue(7, queued(OpCode::Exists));
        assert!(p.next_ready(7).is_none(), "the read still waits");
        p.release(7);
        assert_eq!(p.next_ready(7).map(|q| q.op), Some(OpCode::GetData.code()));
        assert_eq!(p.next_ready(7).map(|q| q.op), Some(OpCode::SetData.code()));
        // The core would count the write it just prepared.
        p.hold(7);
        assert!(p.next_ready(7).is_none(), "the read behind the write waits");
        p.release(7);
        assert_eq!(p.next_ready(7).map(|q| q.op), Some(OpCode::Exists.code()));
        assert!(p.next_ready(7).is_none());
        assert!(!p.must_wait(7, false), "the session's flow is forgotten");
    }
}
