//! Connections as the core sees them: frames out (replies, watch events),
//! closing, and applying a transaction with the watch events it fires.
//! Every frame leaves as an [`Effect::Frame`] in call order, which is what
//! puts a watch event before the reply that reveals its change.

use bytes::{BufMut, Bytes, BytesMut};

use super::{ConnId, Core, Effect, FrameKind};
use crate::proto::jute::Jute;
use crate::proto::ops::perms;
use crate::proto::records::proto::{ReplyHeader, WatcherEvent};
use crate::proto::response::Response;
use crate::server::metrics::{observe, Summary};
use crate::session::SessionId;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::watch::STATE_SYNC_CONNECTED;
use crate::tree::{ApplyResult, Notification};

/// Encodes `ReplyHeader` + body as one frame.
pub(super) fn frame(hdr: &ReplyHeader, body: Option<&Response>) -> Bytes {
    let mut out = BytesMut::with_capacity(20 + body.map_or(0, Response::size_hint));
    out.put_i32(0);
    hdr.encode(&mut out);
    if let Some(b) = body {
        b.encode(&mut out);
    }
    let len = (out.len() - 4) as i32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.freeze()
}

fn event_frame(n: &Notification) -> Bytes {
    let hdr = ReplyHeader {
        xid: crate::proto::ops::XID_NOTIFICATION,
        zxid: -1,
        err: 0,
    };
    let mut out = BytesMut::new();
    out.put_i32(0);
    hdr.encode(&mut out);
    WatcherEvent {
        r#type: n.event as i32,
        state: STATE_SYNC_CONNECTED,
        path: n.path.clone(),
    }
    .encode(&mut out);
    let len = (out.len() - 4) as i32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.freeze()
}

impl Core {
    /// Applies a transaction and delivers its notifications.
    pub(super) fn commit(&mut self, txn: &Txn) -> ApplyResult {
        let mut notes = Vec::new();
        let rc = self.tree.apply(txn, &mut notes);
        self.prep.applied(txn.hdr.zxid);
        if self.replica.is_some() {
            // Every member tracks every session (the leader expires them).
            let id = SessionId(txn.hdr.client_id);
            match &txn.body {
                TxnBody::CreateSession(c) if self.sessions.get(id).is_none() => {
                    let now = self.now_ms();
                    self.sessions.add(id, c.time_out.max(0) as u32, now);
                }
                TxnBody::CloseSession(_) => {
                    self.sessions.remove(id);
                }
                _ => {}
            }
        }
        if let Some(d) = &txn.digest {
            self.applied_digest = d.tree_digest;
            self.digest_log.applied(txn.hdr.zxid, d.tree_digest);
        }
        observe::watches_fired(&self.metrics, &notes);
        self.deliver(&notes);
        rc
    }

    /// Sends watch events to their connections. An event for a node the
    /// connection may not READ is dropped (the watch was used up all the
    /// same), as ZooKeeper's ServerCnxn.process does since CVE-2024-23944.
    pub(super) fn deliver(&mut self, notes: &[Notification]) {
        let skip_acl = self.opts.skip_acl;
        for n in notes {
            let Some(c) = self.conns.get_mut(&n.watcher) else {
                continue;
            };
            if crate::tree::acl::check(&n.acl, perms::READ, &c.auth, skip_acl).is_err() {
                continue;
            }
            c.stats.packets_sent += 1;
            self.stats.sent += 1;
            let frame = event_frame(n);
            observe::event_sent(&self.metrics, frame.len());
            self.effects.push(Effect::Frame {
                conn: n.watcher,
                frame,
                kind: FrameKind::Event,
            });
        }
    }

    /// Answers a request on `conn`, and counts the answer in the
    /// connection's and the server's statistics (ZooKeeper's
    /// FinalRequestProcessor `updateStats`, then `packetSent`).
    pub(super) fn send(&mut self, conn: ConnId, hdr: ReplyHeader, body: Option<&Response>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            let now_us = self.now.mono_us;
            if let Some(ms) = c.stats.replied(hdr.xid, hdr.zxid, hdr.err, now_us) {
                self.stats.latency.add(ms);
            }
            self.stats.sent += 1;
            let frame = frame(&hdr, body);
            observe::reply_sent(&self.metrics, frame.len());
            self.effects.push(Effect::Frame {
                conn,
                frame,
                kind: FrameKind::Reply,
            });
        }
    }

    /// A frame that is not a reply (handshakes): sent whether or not the
    /// connection is in the table yet.
    pub(super) fn send_handshake(&mut self, conn: ConnId, frame: Bytes) {
        let zxid = self.tree.last_zxid;
        let now_us = self.now.mono_us;
        if let Some(c) = self.conns.get_mut(&conn) {
            if let Some(ms) = c.stats.handshake_sent(zxid, now_us) {
                self.stats.latency.add(ms);
                self.metrics.observe(Summary::UpdateLatency, ms as i64);
            }
        }
        self.stats.sent += 1;
        self.effects.push(Effect::Frame {
            conn,
            frame,
            kind: FrameKind::Handshake,
        });
    }

    /// Closes a connection (after what is queued for it) and forgets its
    /// watches; the session lives on.
    pub(super) fn close_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            if self.session_conn.get(&c.session) == Some(&conn) {
                self.session_conn.remove(&c.session);
            }
        }
        self.effects.push(Effect::Close { conn });
        self.tree.data_watches.remove_watcher(conn);
        self.tree.child_watches.remove_watcher(conn);
    }

    /// A connection whose client does not read what is queued for it: the
    /// runtime dropped it, queue and all; forget it (the session lives on;
    /// the client reconnects and re-registers its watches, which fire for
    /// what it missed).
    pub(super) fn overflowed(&mut self, conn: ConnId, detail: &str) {
        if let Some(c) = self.conns.get(&conn) {
            tracing::warn!(
                peer = %c.peer,
                session = format_args!("0x{:x}", c.session),
                "closing connection: {detail} (the client is not reading)"
            );
            self.stats.overflow_closes += 1;
        }
        self.close_conn(conn);
    }
}
