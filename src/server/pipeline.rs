//! The write pipeline of the core: a prepared transaction waits here until
//! the log thread reports it durable, then it is applied and answered —
//! in zxid order.
//!
//! A session's requests are answered in the order they were sent, so while
//! a session has writes in the pipeline its later reads wait in a per-session
//! queue (ZooKeeper's CommitProcessor does the same); its later writes may
//! enter the pipeline behind the earlier ones. Other sessions are not held up.

use std::collections::VecDeque;

use bytes::Bytes;

use super::core::{multi_result, ConnId, Core};
use crate::proto::records::proto::{Create2Response, CreateResponse, ReplyHeader};
use crate::proto::response::Response;
use crate::proto::{ErrorCode, OpCode, Request};
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
    pub(super) fn of(req: &Request) -> WriteKind {
        match req {
            Request::Create(OpCode::Create, _) => WriteKind::Create,
            Request::Create(..) | Request::CreateTtl(_) => WriteKind::Create2,
            Request::Delete(_) => WriteKind::Delete,
            Request::Multi(_) => WriteKind::Multi,
            _ => WriteKind::Stat,
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
    ClientClosed { conn: ConnId, xid: i32 },
    /// The session expired: close its connection, if any.
    Expired,
    /// Server-internal (container reaper).
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
    /// Shared with the log thread: a write is never deep-copied to be logged.
    pub(super) txn: std::sync::Arc<Txn>,
    pub(super) then: Then,
}

/// A request that must wait for its session's earlier writes.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) conn: ConnId,
    pub(super) xid: i32,
    pub(super) op: i32,
    pub(super) body: Bytes,
}

/// Per-session pipeline state.
#[derive(Debug, Default)]
pub(super) struct SessionFlow {
    /// Transactions of this session not yet applied.
    pub(super) in_pipeline: usize,
    /// Requests waiting behind them.
    pub(super) queued: VecDeque<Queued>,
}

/// The pipeline's state inside the core.
#[derive(Debug, Default)]
pub(super) struct Pipeline {
    pub(super) pending: VecDeque<Pending>,
    pub(super) flows: super::core::FastMap<i64, SessionFlow>,
    /// The log thread; `None` runs in memory (each txn applies at once).
    pub(super) log: Option<std::sync::mpsc::Sender<std::sync::Arc<Txn>>>,
}

impl Core {
    /// Whether a request of `session` must wait behind earlier ones.
    pub(super) fn must_wait(&self, session: i64, is_write: bool) -> bool {
        match self.pipeline.flows.get(&session) {
            None => false,
            Some(f) => !f.queued.is_empty() || (!is_write && f.in_pipeline > 0),
        }
    }

    /// Parks a request behind its session's writes.
    pub(super) fn queue(&mut self, session: i64, q: Queued) {
        self.pipeline
            .flows
            .entry(session)
            .or_default()
            .queued
            .push_back(q);
    }

    /// Sends a transaction to the log; it is applied once durable.
    pub(super) fn submit(&mut self, txn: Txn, then: Then) {
        let txn = std::sync::Arc::new(txn);
        if then.answers_session() {
            self.pipeline
                .flows
                .entry(txn.hdr.client_id)
                .or_default()
                .in_pipeline += 1;
        }
        if self.replica.is_some() {
            // Replicated: the txn is proposed; Zab persists it and reports
            // the commit (`Output::Deliver`), which completes it here.
            self.pipeline.pending.push_back(Pending {
                txn: txn.clone(),
                then,
            });
            self.propose(txn);
            return;
        }
        match &self.pipeline.log {
            Some(log) => {
                if log.send(txn.clone()).is_err() {
                    tracing::error!("the log thread is gone; stopping");
                    std::process::exit(1);
                }
                self.pipeline.pending.push_back(Pending { txn, then });
            }
            None => {
                let zxid = txn.hdr.zxid;
                self.pipeline.pending.push_back(Pending { txn, then });
                self.on_durable(zxid);
            }
        }
    }

    /// Applies and answers every pending transaction up to `zxid`, then lets
    /// waiting requests of the affected sessions proceed.
    pub(super) fn on_durable(&mut self, zxid: i64) {
        let mut touched = Vec::new();
        while self
            .pipeline
            .pending
            .front()
            .is_some_and(|p| p.txn.hdr.zxid <= zxid)
        {
            let p = self.pipeline.pending.pop_front().expect("checked");
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
            if let Some(f) = self.pipeline.flows.get_mut(&session) {
                f.in_pipeline -= 1;
                return Some(session);
            }
        }
        None
    }

    /// Counts a request that will be answered later (a follower's forwarded
    /// write), so that the session's later reads wait for it.
    pub(super) fn hold_session(&mut self, session: i64) {
        self.pipeline.flows.entry(session).or_default().in_pipeline += 1;
    }

    pub(super) fn resume_session(&mut self, session: i64) {
        loop {
            let Some(flow) = self.pipeline.flows.get_mut(&session) else {
                return;
            };
            let next_is_write = flow
                .queued
                .front()
                .map(|q| super::core::is_write_opcode(q.op));
            match next_is_write {
                None => {
                    if flow.in_pipeline == 0 {
                        self.pipeline.flows.remove(&session);
                    }
                    return;
                }
                Some(false) if flow.in_pipeline > 0 => return,
                Some(_) => {
                    let q = flow.queued.pop_front().expect("checked");
                    if self.conns.contains_key(&q.conn) {
                        self.process(q.conn, session, q.xid, q.op, q.body);
                    }
                }
            }
        }
    }

    /// Applies one durable transaction and does what follows it.
    fn finish(&mut self, p: Pending) {
        let rc = self.commit(&p.txn);
        let zxid = p.txn.hdr.zxid;
        let session = p.txn.hdr.client_id;
        match p.then {
            Then::Reply {
                conn,
                xid,
                kind,
                failure,
            } => self.answer_write(conn, xid, zxid, kind, failure, &p.txn, rc),
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
            Then::ClientClosed { conn, xid } => {
                self.sessions.remove(SessionId(session));
                self.send(conn, ReplyHeader { xid, zxid, err: 0 }, None);
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
