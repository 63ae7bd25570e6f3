//! Session and node lifecycle in the core: the handshake (new sessions,
//! resumed sessions, refusals), session close and expiry, and the reaper
//! that deletes empty containers and expired TTL nodes. All of it goes
//! through transactions, like any client write.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};

use super::pipeline::Then;
use super::{Conn, ConnId, Core};
use crate::proto::connect::{self, Connect};
use crate::proto::records::data::Id;
use crate::proto::records::proto::ConnectResponse;
use crate::proto::OpCode;
use crate::server::metrics::observe;
use crate::session::{self, SessionId};
use crate::tree::node::NodeKind;
use crate::tree::prep::PrepCtx;
use crate::tree::txn::{Txn, TxnBody};

impl Core {
    /// Graceful shutdown, first half: whether every write this server
    /// accepted has been answered — nothing waits for the log or for a
    /// commit, a follower has no forwarded write or sync outstanding, and
    /// a leader has every proposal committed and acknowledged by its
    /// synced followers ([`crate::zab::Peer::quiescent`]). The runtime
    /// stops feeding requests first, so this becomes true unless a disk
    /// or a quorum is stuck (it then stops at a deadline anyway).
    pub fn drained(&self) -> bool {
        self.pipeline.is_idle()
            && self.replica.as_ref().is_none_or(|r| {
                r.forwarded.values().all(|q| q.is_empty())
                    && r.syncs.is_empty()
                    && r.peer.quiescent()
            })
    }

    /// Graceful shutdown, second half: closes every client connection
    /// (what is queued for it is written first; sessions live on, so
    /// their clients reconnect elsewhere or to this server when it is
    /// back, as after ZooKeeper's `closeAllConnections`), and in an
    /// ensemble leaves it ([`crate::zab::Peer::step_down`]): links
    /// closed, the quorum port unbound, and a departing leader's vote for
    /// its successor. The runtime then closes the election port, stops
    /// the log (its last fsync) and exits.
    pub fn leave(&mut self, now: super::Now) {
        self.now = now;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for c in conns {
            self.close_conn(c);
        }
        if let Some(r) = self.replica.as_mut() {
            r.peer.step_down(now.mono_ms);
            self.zab_outputs();
        }
    }

    pub(super) fn next_timer_ms(&self) -> u64 {
        let containers = self.last_container_check_ms + self.opts.container_check_interval_ms;
        if !self.owns_sessions() {
            return containers;
        }
        match self.sessions.next_deadline() {
            Some(d) => d.min(containers),
            None => containers,
        }
    }

    /// Expires sessions and reaps containers whose time has come.
    pub(super) fn on_timer(&mut self) {
        let now = self.now_ms();
        if !self.owns_sessions() {
            // Learners neither expire sessions nor reap: the leader does,
            // through transactions everyone applies.
            if now >= self.last_container_check_ms + self.opts.container_check_interval_ms {
                self.last_container_check_ms = now;
            }
            return;
        }
        // Runs after every message: look at the expiry queue only when a
        // bucket is due (polling it allocates).
        let due = self.sessions.next_deadline().is_some_and(|d| d <= now);
        for id in if due {
            self.sessions.expire(now)
        } else {
            Vec::new()
        } {
            tracing::info!("expiring session 0x{:x}", id.0);
            let txn = self.close_session_txn(id.0, 0);
            self.submit(txn, Then::Expired);
        }
        if now >= self.last_container_check_ms + self.opts.container_check_interval_ms {
            self.last_container_check_ms = now;
            self.reap_containers();
        }
    }

    /// ContainerManager: deletes empty containers that once had children and
    /// expired TTL nodes, through ordinary deleteContainer transactions.
    pub(super) fn reap_containers(&mut self) {
        let now = self.wall_ms();
        let mut candidates = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.stat.cversion > 0 && n.num_children() == 0 {
                    candidates.push(p.clone());
                }
            }
        }
        for p in self.tree.ttls() {
            if let Some(n) = self.tree.get(p) {
                if let NodeKind::Ttl(ttl) = NodeKind::of(n.stat.ephemeral_owner, true) {
                    if n.num_children() == 0 && now - n.stat.mtime > ttl {
                        candidates.push(p.clone());
                    }
                }
            }
        }
        candidates.truncate(self.opts.container_max_per_minute as usize);
        for p in candidates {
            let zxid = self.take_zxid();
            let ctx = PrepCtx {
                session: 0,
                cxid: 0,
                zxid,
                time: self.wall_ms(),
                auth: &[],
            };
            let (txn, _) = self.prep.delete_container(&self.tree, &ctx, &p);
            self.submit(txn, Then::Nothing);
        }
    }

    pub(super) fn on_connect(&mut self, conn: ConnId, c: Connect, peer: SocketAddr) {
        // The handshake is a packet received, refused or not (ZooKeeper
        // counts it before reading it).
        self.stats.received += 1;
        observe::connect_read(&self.metrics, &c, self.serving());
        let req = &c.req;
        if !self.serving() {
            tracing::info!(%peer, "refusing session: no leader established");
            self.close_conn(conn);
            return;
        }
        if req.last_zxid_seen > self.tree.last_zxid {
            tracing::info!(
                %peer,
                "refusing session: client has seen zxid 0x{:x}, our last zxid is 0x{:x}",
                req.last_zxid_seen,
                self.tree.last_zxid
            );
            self.close_conn(conn);
            return;
        }
        let timeout = session::negotiate(
            req.time_out,
            self.opts.min_session_timeout_ms,
            self.opts.max_session_timeout_ms,
        );
        let now = self.now_ms();
        let wall_ms = self.wall_ms();
        let auth_inserted = vec![Id {
            scheme: "ip".into(),
            id: peer.ip().to_string(),
        }];
        let conn_state = |session| Conn {
            session,
            auth: auth_inserted.clone(),
            auth_inserted: auth_inserted.clone(),
            peer,
            timeout_ms: timeout,
            stats: super::stats::ConnStats::new(wall_ms, now),
        };
        if req.session_id == 0 {
            // createSession is a transaction: the client hears back once it
            // is durable (and it consumes a zxid).
            let id = self.sessions.create(timeout, now).0;
            let mut state = conn_state(id);
            // Answered as ZooKeeper's createSession request (`SESS`).
            state.stats.session_pending(self.now.mono_us);
            self.conns.insert(conn, state);
            self.session_conn.insert(id, conn);
            if let Some(r) = self.replica.as_mut().filter(|r| r.is_leader()) {
                let me = r.peer.id();
                r.owners.insert(id, me);
            }
            if self.replica.as_ref().is_some_and(|r| !r.is_leader()) {
                // The session exists once the leader commits it.
                self.sessions.remove(SessionId(id));
                self.forward_create_session(conn, id, timeout, c.read_only.map(|_| false));
                return;
            }
            let txn = self.create_session_txn(id, timeout as i32);
            self.submit(
                txn,
                Then::Connected {
                    conn,
                    timeout_ms: timeout,
                    read_only: c.read_only.map(|_| false),
                },
            );
            return;
        }
        let id = req.session_id;
        let pw_ok = req.passwd.as_deref() == Some(&session::password(id)[..]);
        let read_only = c.read_only.map(|_| false);
        if pw_ok && self.replica.as_ref().is_some_and(|r| !r.is_leader()) {
            // A learner asks the leader, which owns the sessions (and makes
            // this member the session's owner).
            self.conns.insert(conn, conn_state(id));
            self.revalidate_session(conn, id, timeout, read_only);
            return;
        }
        if !(pw_ok && self.sessions.touch(SessionId(id), now)) {
            // Wrong password, unknown or expired: ZooKeeper answers with a
            // zero timeout and closes.
            self.send_handshake(conn, refusal_frame(read_only));
            self.close_conn(conn);
            return;
        }
        if let Some(r) = self.replica.as_mut() {
            let me = r.peer.id();
            r.owners.insert(id, me);
        }
        self.conns.insert(conn, conn_state(id));
        self.bind_session(conn, id);
        self.complete_handshake(conn, id, timeout, read_only);
    }

    /// Makes `conn` the session's connection on this server; a reconnect
    /// moves the session, so its old connection here is closed.
    pub(super) fn bind_session(&mut self, conn: ConnId, id: i64) {
        if let Some(old) = self.session_conn.insert(id, conn) {
            if old != conn {
                self.close_conn(old);
                self.session_conn.insert(id, conn);
            }
        }
    }

    /// Sends a valid handshake reply on `conn`.
    pub(super) fn complete_handshake(
        &mut self,
        conn: ConnId,
        session: i64,
        timeout_ms: u32,
        read_only: Option<bool>,
    ) {
        let rsp = ConnectResponse {
            protocol_version: 0,
            time_out: timeout_ms as i32,
            session_id: session,
            passwd: Some(Bytes::copy_from_slice(&session::password(session))),
        };
        if self.conns.contains_key(&conn) {
            self.send_handshake(conn, handshake_frame(&rsp, read_only));
        }
    }

    /// The createSession transaction of session `id` (cxid 0, sealed with
    /// the running digest), for a local client or a learner's request.
    pub(super) fn create_session_txn(&mut self, id: i64, timeout_ms: i32) -> Txn {
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session: id,
            cxid: 0,
            zxid,
            time: self.wall_ms(),
            auth: &[],
        };
        let body = crate::proto::records::txn::CreateSessionTxn {
            time_out: timeout_ms,
        };
        let (mut txn, _) = ctx.finish(
            OpCode::CreateSession.code(),
            Ok(TxnBody::CreateSession(body)),
        );
        self.prep.seal(&mut txn);
        txn
    }

    /// The closeSession transaction of a session (deleting its ephemerals
    /// when applied); marks the session closing so it cannot be touched.
    pub(super) fn close_session_txn(&mut self, session: i64, cxid: i32) -> Txn {
        self.sessions.set_closing(SessionId(session));
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session,
            cxid,
            zxid,
            time: self.wall_ms(),
            auth: &[],
        };
        self.prep.close_session_txn(&self.tree, &ctx)
    }
}

/// ZooKeeper's answer to a session it will not resume: timeout 0, id 0.
pub(super) fn refusal_frame(read_only: Option<bool>) -> Bytes {
    let rsp = ConnectResponse {
        protocol_version: 0,
        time_out: 0,
        session_id: 0,
        passwd: Some(Bytes::from_static(&[0; 16])),
    };
    handshake_frame(&rsp, read_only)
}

/// The handshake reply as one frame (readOnly byte only for clients that sent one).
fn handshake_frame(rsp: &ConnectResponse, read_only: Option<bool>) -> Bytes {
    let mut body = BytesMut::new();
    body.put_i32(0);
    connect::encode_response(rsp, read_only, &mut body);
    let len = (body.len() - 4) as i32;
    body[..4].copy_from_slice(&len.to_be_bytes());
    body.freeze()
}
