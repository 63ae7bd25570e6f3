//! Session and node lifecycle in the core: the handshake (new sessions,
//! resumed sessions, refusals), session close and expiry, and the reaper
//! that deletes empty containers and expired TTL nodes. All of it goes
//! through transactions, like any client write.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;

use super::core::{wall_ms, Conn, ConnId, Core, Out};
use crate::proto::connect::{self, Connect};
use crate::proto::records::data::Id;
use crate::proto::records::proto::ConnectResponse;
use crate::proto::{OpCode, Request};
use crate::session::{self, SessionId};
use crate::tree::node::NodeKind;
use crate::tree::prep::PrepCtx;
use crate::tree::txn::TxnBody;

impl Core {
    pub(super) fn next_timer_ms(&self) -> u64 {
        let containers = self.last_container_check_ms + self.opts.container_check_interval_ms;
        match self.sessions.next_deadline() {
            Some(d) => d.min(containers),
            None => containers,
        }
    }

    /// Expires sessions and reaps containers whose time has come.
    pub(super) fn on_timer(&mut self) {
        let now = self.now_ms();
        for id in self.sessions.expire(now) {
            tracing::info!("expiring session 0x{:x}", id.0);
            self.close_session(id.0, 0);
            if let Some(&conn) = self.session_conn.get(&id.0) {
                self.close_conn(conn);
            }
        }
        if now >= self.last_container_check_ms + self.opts.container_check_interval_ms {
            self.last_container_check_ms = now;
            self.reap_containers();
        }
    }

    /// ContainerManager: deletes empty containers that once had children and
    /// expired TTL nodes, through ordinary deleteContainer transactions.
    pub(super) fn reap_containers(&mut self) {
        let now = wall_ms();
        let mut candidates = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.stat.cversion > 0 && n.children.is_empty() {
                    candidates.push(p.clone());
                }
            }
        }
        for p in self.tree.ttls() {
            if let Some(n) = self.tree.get(p) {
                if let NodeKind::Ttl(ttl) = NodeKind::of(n.stat.ephemeral_owner, true) {
                    if n.children.is_empty() && now - n.stat.mtime > ttl {
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
                time: wall_ms(),
                auth: &[],
            };
            let (txn, _) = self.prep.delete_container(&self.tree, &ctx, &p);
            self.commit(&txn);
        }
    }

    pub(super) fn on_connect(
        &mut self,
        conn: ConnId,
        c: Connect,
        peer: SocketAddr,
        out: mpsc::UnboundedSender<Out>,
    ) {
        let req = &c.req;
        if req.last_zxid_seen > self.tree.last_zxid {
            tracing::info!(
                %peer,
                "refusing session: client has seen zxid 0x{:x}, our last zxid is 0x{:x}",
                req.last_zxid_seen,
                self.tree.last_zxid
            );
            let _ = out.send(Out::Close);
            return;
        }
        let timeout = session::negotiate(
            req.time_out,
            self.opts.min_session_timeout_ms,
            self.opts.max_session_timeout_ms,
        );
        let now = self.now_ms();
        let (session, valid) = if req.session_id == 0 {
            let id = self.sessions.create(timeout, now);
            // createSession is a transaction: it consumes a zxid.
            let zxid = self.take_zxid();
            let ctx = PrepCtx {
                session: id.0,
                cxid: 0,
                zxid,
                time: wall_ms(),
                auth: &[],
            };
            let body = crate::proto::records::txn::CreateSessionTxn {
                time_out: timeout as i32,
            };
            let (txn, _) = ctx.finish(
                OpCode::CreateSession.code(),
                Ok(TxnBody::CreateSession(body)),
            );
            self.commit(&txn);
            (id.0, true)
        } else {
            let id = req.session_id;
            let pw_ok = req.passwd.as_deref() == Some(&session::password(id)[..]);
            let live = pw_ok && self.sessions.touch(SessionId(id), now);
            (id, live)
        };
        let read_only_reply = c.read_only.map(|_| false);
        let mut body = BytesMut::new();
        body.put_i32(0);
        let rsp = if valid {
            ConnectResponse {
                protocol_version: 0,
                time_out: timeout as i32,
                session_id: session,
                passwd: Some(Bytes::copy_from_slice(&session::password(session))),
            }
        } else {
            ConnectResponse {
                protocol_version: 0,
                time_out: 0,
                session_id: 0,
                passwd: Some(Bytes::from_static(&[0; 16])),
            }
        };
        connect::encode_response(&rsp, read_only_reply, &mut body);
        let len = (body.len() - 4) as i32;
        body[..4].copy_from_slice(&len.to_be_bytes());
        let _ = out.send(Out::Frame(body.freeze()));
        if !valid {
            let _ = out.send(Out::Close);
            return;
        }
        // A reconnect moves the session: its old connection is closed.
        if let Some(old) = self.session_conn.insert(session, conn) {
            if old != conn {
                self.close_conn(old);
                self.session_conn.insert(session, conn);
            }
        }
        let auth_inserted = vec![Id {
            scheme: "ip".into(),
            id: peer.ip().to_string(),
        }];
        self.conns.insert(
            conn,
            Conn {
                session,
                auth: auth_inserted.clone(),
                auth_inserted,
                out,
                peer,
                received: 1,
                sent: 1,
                timeout_ms: timeout,
            },
        );
    }

    /// Closes a session: deletes its ephemerals through a closeSession
    /// transaction. The caller closes the connection.
    pub(super) fn close_session(&mut self, session: i64, cxid: i32) {
        self.sessions.set_closing(SessionId(session));
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session,
            cxid,
            zxid,
            time: wall_ms(),
            auth: &[],
        };
        let (txn, _) = self.prep.prep(&self.tree, &ctx, &Request::CloseSession);
        self.commit(&txn);
        self.sessions.remove(SessionId(session));
    }
}
