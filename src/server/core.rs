//! The core: one task that owns the tree, the sessions and every
//! connection's outbox, and processes requests strictly in arrival order —
//! which is what gives each session its in-order replies and every client a
//! single zxid order. Connection tasks only move bytes.
//!
//! Write path: request → `prep` (txn with the next zxid) → [durability step
//! plugs in here] → `apply` → watch notifications, then the reply. A watch
//! event is queued to its connection before the reply that reveals the
//! change, so clients see them in ZooKeeper's order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};

use super::outbox::{OutboxTx, Overflow};
use super::pipeline::{Queued, Then, WriteKind};
use super::stats::Stats;
use super::ServerOptions;
use crate::proto::connect::Connect;
use crate::proto::jute::Jute;
use crate::proto::ops::perms;
use crate::proto::records::data::Id;
use crate::proto::records::proto::{ReplyHeader, WatcherEvent};
use crate::proto::response::Response;
use crate::proto::{multi::MultiResult, ErrorCode, OpCode, Request};
use crate::session::{SessionId, SessionTracker};
use crate::tree::prep::{Prep, PrepCtx};
use crate::tree::read::{self, ReadCtx};
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::watch::STATE_SYNC_CONNECTED;
use crate::tree::{ApplyResult, DataTree, Notification};

/// The hash map of the per-request lookups (connections, sessions): the
/// std hasher (SipHash) showed up at ~3% of the read path in callgrind.
pub(crate) type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// Messages the core handles per wake-up before it looks at timers and
/// durability reports again.
const MESSAGE_BATCH: usize = 64;

/// Server-assigned connection number.
pub type ConnId = u64;

/// What the core sends a connection's writer.
#[derive(Debug)]
pub enum Out {
    /// A complete frame (length prefix included) that answers no request:
    /// the handshake reply, a watch notification.
    Frame(Bytes),
    /// The reply to a request; writing it frees one of the connection's
    /// in-flight request slots.
    Reply(Bytes),
    /// Flush what is queued, then close.
    Close,
}

/// What connections (and the listener) send the core.
#[allow(missing_docs)]
#[derive(Debug)]
pub enum CoreMsg {
    /// A handshake arrived.
    Connect {
        conn: ConnId,
        connect: Connect,
        peer: SocketAddr,
        out: OutboxTx<Out>,
    },
    /// A request frame (header split off).
    Request {
        conn: ConnId,
        xid: i32,
        op: i32,
        body: Bytes,
    },
    /// The connection is gone.
    Closed { conn: ConnId },
    /// Something happened on the quorum network (ensemble members only).
    Quorum(super::quorum_net::NetEvent),
    /// A four-letter word.
    FourLetter {
        cmd: String,
        reply: oneshot::Sender<String>,
    },
}

/// Per-connection state.
pub(crate) struct Conn {
    pub(crate) session: i64,
    /// Auth ids in ZooKeeper's iteration order (see `java_order::auth_order`).
    pub(crate) auth: Vec<Id>,
    /// The same ids in the order they were added.
    pub(super) auth_inserted: Vec<Id>,
    pub(crate) out: OutboxTx<Out>,
    pub(crate) peer: SocketAddr,
    pub(crate) received: u64,
    pub(crate) sent: u64,
    pub(crate) timeout_ms: u32,
}

/// The core's state.
pub struct Core {
    pub(crate) opts: ServerOptions,
    pub(crate) tree: DataTree,
    pub(super) prep: Prep,
    pub(crate) sessions: SessionTracker,
    pub(crate) conns: FastMap<ConnId, Conn>,
    /// Which connection currently carries each session.
    pub(super) session_conn: FastMap<i64, ConnId>,
    pub(super) next_zxid: i64,
    pub(super) epoch: Instant,
    pub(crate) stats: Stats,
    pub(super) last_container_check_ms: u64,
    /// Transactions waiting to be durable, and sessions waiting on them.
    pub(super) pipeline: super::pipeline::Pipeline,
    /// Digest of the applied tree (the last applied TxnDigest).
    pub(super) applied_digest: i64,
    /// The snapshot being written, if any.
    pub(super) snapshot: Option<super::snapshot::SnapshotJob>,
    /// Where snapshots go (none when running in memory).
    pub(super) snapshots: Option<Box<dyn super::snapshot::SnapshotFactory>>,
    /// Group-commit counters of the log thread.
    pub(crate) sync_stats: std::sync::Arc<super::durability::SyncStats>,
    /// Reports from the log thread.
    durable_rx: Option<mpsc::UnboundedReceiver<super::durability::LogEvent>>,
    /// The log thread, joined when the log must be closed (TRUNC).
    log_thread: Option<std::thread::JoinHandle<()>>,
    /// Replication, when this server is a member of an ensemble.
    pub(crate) replica: Option<super::replica::Replica>,
}

pub(super) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Encodes `ReplyHeader` + body as one frame.
fn frame(hdr: &ReplyHeader, body: Option<&Response>) -> Bytes {
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

impl Core {
    /// A core with an empty tree.
    pub fn new(opts: ServerOptions) -> Core {
        let epoch = Instant::now();
        let tree = DataTree::new(opts.extended_types);
        let digest = crate::tree::digest::tree_digest(&tree);
        let prep = Prep::new(
            opts.extended_types,
            opts.skip_acl,
            opts.reconfig_enabled,
            digest,
        );
        let sessions = SessionTracker::new(opts.server_id, opts.tick_ms, wall_ms() as u64);
        Core {
            opts,
            tree,
            prep,
            sessions,
            conns: FastMap::default(),
            session_conn: FastMap::default(),
            next_zxid: 1,
            epoch,
            stats: Stats::default(),
            last_container_check_ms: 0,
            pipeline: Default::default(),
            sync_stats: Default::default(),
            snapshot: None,
            snapshots: None,
            applied_digest: digest,
            durable_rx: None,
            log_thread: None,
            replica: None,
        }
    }

    /// A core serving a recovered database: the tree as loaded, and the
    /// sessions that were alive (they expire normally from now on).
    pub fn restored(
        opts: ServerOptions,
        tree: DataTree,
        sessions: &std::collections::BTreeMap<i64, i32>,
        digest: i64,
    ) -> Core {
        let mut core = Core::new(opts);
        core.next_zxid = tree.last_zxid + 1;
        core.prep = Prep::new(
            core.opts.extended_types,
            core.opts.skip_acl,
            core.opts.reconfig_enabled,
            digest,
        );
        core.tree = tree;
        core.applied_digest = digest;
        let now = core.now_ms();
        for (&id, &timeout) in sessions {
            core.sessions.add(SessionId(id), timeout.max(0) as u32, now);
        }
        core
    }

    /// Sends every transaction through a transaction log before applying
    /// it (without this the core runs in memory).
    pub fn with_log(mut self, sink: Box<dyn super::durability::TxnSink>) -> Core {
        self.start_log(sink);
        self
    }

    /// Starts the log thread on `sink` with a fresh report channel (reports
    /// of a previous thread must never be mistaken for this one's).
    pub(super) fn start_log(&mut self, sink: Box<dyn super::durability::TxnSink>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let snap_count = u64::from(self.opts.snap_count);
        let (log, thread) = super::durability::spawn(sink, tx, self.sync_stats.clone(), snap_count);
        self.pipeline.log = Some(log);
        self.durable_rx = Some(rx);
        self.log_thread = Some(thread);
    }

    /// Stops the log thread after it has made everything sent durable.
    pub(super) fn stop_log(&mut self) {
        self.pipeline.log = None;
        if let Some(t) = self.log_thread.take() {
            let _ = t.join();
        }
        self.durable_rx = None;
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

    /// Makes this server a member of an ensemble.
    pub(crate) fn with_replica(mut self, replica: super::replica::Replica) -> Core {
        self.replica = Some(replica);
        self.zab_outputs();
        self
    }

    /// The log rolled: take a snapshot.
    pub(super) fn snapshot_due(&mut self) {
        self.start_snapshot();
    }

    /// Writes snapshots through `factory` when the log rolls.
    pub fn with_snapshots(mut self, factory: Box<dyn super::snapshot::SnapshotFactory>) -> Core {
        self.snapshots = Some(factory);
        self
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Runs until every sender is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<CoreMsg>) {
        // One timer, re-armed only when the deadline moves (creating a
        // timer per loop showed in the profile).
        let sleep = tokio::time::sleep_until(self.epoch.into());
        tokio::pin!(sleep);
        let mut armed_for = None;
        loop {
            let mut deadline = self.next_timer_ms();
            if let Some(r) = &self.replica {
                deadline = deadline.min(r.peer.deadline());
            }
            if armed_for != Some(deadline) {
                let at = self.epoch + std::time::Duration::from_millis(deadline);
                sleep.as_mut().reset(at.into());
                armed_for = Some(deadline);
            }
            let durable = async {
                match self.durable_rx.as_mut() {
                    Some(d) => d.recv().await,
                    None => std::future::pending().await,
                }
            };
            let snapshotting = self.snapshot.is_some();
            let stalled = self.snapshot.as_ref().is_some_and(|j| j.stalled);
            // Snapshot work per loop: a little after each message, a chunk
            // when idle, so requests never wait long behind it.
            let mut snapshot_budget = super::snapshot::CHUNK;
            tokio::select! {
                biased;
                msg = rx.recv() => match msg {
                    Some(m) => {
                        self.handle(m);
                        // Whatever else is queued goes in the same turn: one
                        // wake-up, one select and one timer check per batch.
                        for _ in 1..MESSAGE_BATCH {
                            match rx.try_recv() {
                                Ok(m) => self.handle(m),
                                Err(_) => break,
                            }
                        }
                        snapshot_budget = 32;
                    }
                    None => return,
                },
                Some(event) = durable => self.on_log_event(event),
                _ = &mut sleep => armed_for = None,
                // Idle with a snapshot in progress: keep writing it, or give
                // a writer that is behind a millisecond.
                _ = std::future::ready(()), if snapshotting && !stalled => {}
                _ = tokio::time::sleep(std::time::Duration::from_millis(1)), if stalled => {}
            }
            // Durability reports that queued meanwhile: the biased select
            // would otherwise let a steady stream of requests delay them.
            while let Some(event) = self.durable_rx.as_mut().and_then(|d| d.try_recv().ok()) {
                self.on_log_event(event);
            }
            if snapshotting {
                self.advance_snapshot(snapshot_budget);
            }
            self.zab_tick();
            self.on_timer();
        }
    }

    fn on_log_event(&mut self, event: super::durability::LogEvent) {
        match event {
            super::durability::LogEvent::Durable(zxid) if self.replica.is_some() => {
                self.zab_persisted(zxid)
            }
            super::durability::LogEvent::Durable(zxid) => self.on_durable(zxid),
            super::durability::LogEvent::SnapshotDue => self.snapshot_due(),
        }
    }

    pub(super) fn take_zxid(&mut self) -> i64 {
        let z = self.next_zxid;
        self.next_zxid += 1;
        z
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
    ) {
        if is_write_opcode(op) {
            let zxid = self.take_zxid();
            let ctx = PrepCtx {
                session,
                cxid: xid,
                zxid,
                time: wall_ms(),
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
        }
    }

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
        }
        self.deliver(&notes);
        rc
    }

    /// Sends watch events to their connections. An event for a node the
    /// connection may not READ is dropped (the watch was used up all the
    /// same), as ZooKeeper's ServerCnxn.process does since CVE-2024-23944.
    pub(super) fn deliver(&mut self, notes: &[Notification]) {
        let skip_acl = self.opts.skip_acl;
        let mut overflowed = Vec::new();
        for n in notes {
            if let Some(c) = self.conns.get_mut(&n.watcher) {
                if crate::tree::acl::check(&n.acl, perms::READ, &c.auth, skip_acl).is_err() {
                    continue;
                }
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
                c.sent += 1;
                let size = out.len();
                if let Err(e) = c.out.push(Out::Frame(out.freeze()), size) {
                    overflowed.push((n.watcher, e));
                }
            }
        }
        for (conn, e) in overflowed {
            self.overflowed(conn, e);
        }
    }

    pub(super) fn send(&mut self, conn: ConnId, hdr: ReplyHeader, body: Option<&Response>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sent += 1;
            self.stats.sent += 1;
            // Replies are bounded by the connection's in-flight slots.
            c.out.push_uncounted(Out::Reply(frame(&hdr, body)));
        }
    }

    /// A connection whose client does not read what is queued for it: drop
    /// it now, queue and all (the session lives on; the client reconnects
    /// and re-registers its watches, which fire for what it missed).
    fn overflowed(&mut self, conn: ConnId, e: Overflow) {
        if let Some(c) = self.conns.get(&conn) {
            tracing::warn!(
                peer = %c.peer,
                session = format_args!("0x{:x}", c.session),
                "closing connection: {e} (the client is not reading)"
            );
            c.out.abort();
            self.stats.overflow_closes += 1;
        }
        self.close_conn(conn);
    }

    pub(super) fn close_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            c.out.push_uncounted(Out::Close);
            if self.session_conn.get(&c.session) == Some(&conn) {
                self.session_conn.remove(&c.session);
            }
        }
        self.tree.data_watches.remove_watcher(conn);
        self.tree.child_watches.remove_watcher(conn);
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: CoreMsg) {
        match msg {
            CoreMsg::Connect {
                conn,
                connect,
                peer,
                out,
            } => self.on_connect(conn, connect, peer, out),
            CoreMsg::Request {
                conn,
                xid,
                op,
                body,
            } => self.on_request(conn, xid, op, body),
            CoreMsg::Closed { conn } => self.close_conn(conn),
            CoreMsg::Quorum(ev) => self.on_quorum(ev),
            CoreMsg::FourLetter { cmd, reply } => {
                let _ = reply.send(super::fourlw::run(self, &cmd));
            }
        }
    }

    pub(super) fn on_request(&mut self, conn: ConnId, xid: i32, op: i32, body: Bytes) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.received += 1;
        self.stats.received += 1;
        let session = c.session;
        if self.must_wait(session, is_write_opcode(op)) {
            self.queue(
                session,
                Queued {
                    conn,
                    xid,
                    op,
                    body,
                },
            );
            return;
        }
        self.process(conn, session, xid, op, body);
    }

    /// Serves a request whose turn has come.
    pub(super) fn process(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        op: i32,
        mut body: Bytes,
    ) {
        let now = self.now_ms();
        let started = Instant::now();
        let last = self.tree.last_zxid;
        if let Some(r) = self.replica.as_mut().filter(|r| !r.is_leader()) {
            // The leader hears of this session's activity in our next PING
            // answer (it touches its own clients' sessions directly).
            if let Some(c) = self.conns.get(&conn) {
                r.touched.insert(session, c.timeout_ms);
            }
            if super::forward::goes_to_leader(op) {
                self.forward(conn, session, xid, op, body);
                return;
            }
        }
        if let Some(err) = null_path_error(op, &body) {
            // Jute decodes a null path (length -1) as "", but ZooKeeper sees
            // Java's null and fails in op-specific ways; kazoo sends "" as
            // null, so clients do hit this.
            self.fail_early(conn, session, xid, op, err);
            return;
        }
        let req = match Request::decode(op, &mut body) {
            Ok(r) => r,
            Err(e) => {
                // ZooKeeper decodes bodies late, in its processors: a bad body
                // gets MARSHALLINGERROR and the connection stays.
                tracing::warn!("undecodable request body (op {op}): {e}");
                self.fail_early(conn, session, xid, op, ErrorCode::MarshallingError);
                return;
            }
        };
        if !matches!(req, Request::CloseSession) && !self.sessions.touch(SessionId(session), now) {
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
            Request::Ping => {
                self.send(
                    conn,
                    ReplyHeader {
                        xid: crate::proto::ops::XID_PING,
                        zxid: last,
                        err: 0,
                    },
                    None,
                );
            }
            Request::Auth(a) => {
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
                        self.send(
                            conn,
                            ReplyHeader {
                                xid,
                                zxid: 0,
                                err: 0,
                            },
                            None,
                        );
                    }
                    Err(e) => {
                        self.send(
                            conn,
                            ReplyHeader {
                                xid,
                                zxid: 0,
                                err: e.code(),
                            },
                            None,
                        );
                        self.close_conn(conn);
                    }
                }
            }
            Request::Unknown(_) | Request::Unsupported(_) => {
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
            Request::CloseSession => {
                let txn = self.close_session_txn(session, xid);
                self.submit(txn, Then::ClientClosed { conn, xid });
            }
            req if req.is_write() && !self.owns_here(session) => {
                // The session moved to another member (ZooKeeper's checkSession).
                self.fail_early(conn, session, xid, op, ErrorCode::SessionMoved)
            }
            req if req.is_write() => self.write(conn, session, xid, &req),
            Request::Sync(r) if self.replica.is_some() => {
                self.local_sync(conn, session, xid, r.path)
            }
            req => {
                // Disjoint field borrows: no copy of the auth list per read.
                let ctx = ReadCtx {
                    session,
                    watcher: conn,
                    auth: &self.conns[&conn].auth,
                    skip_acl: self.opts.skip_acl,
                };
                let mut notes = Vec::new();
                let res = read::read(&mut self.tree, &ctx, &req, &mut notes);
                self.deliver(&notes);
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
            }
        }
        self.stats.record_latency(started.elapsed());
    }

    pub(super) fn write(&mut self, conn: ConnId, session: i64, xid: i32, req: &Request) {
        let zxid = self.take_zxid();
        let ctx = PrepCtx {
            session,
            cxid: xid,
            zxid,
            time: wall_ms(),
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
            },
        );
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

/// Opcodes whose requests become transactions.
pub(super) fn is_write_opcode(op: i32) -> bool {
    matches!(
        OpCode::from_i32(op),
        Some(
            OpCode::Create
                | OpCode::Create2
                | OpCode::CreateContainer
                | OpCode::CreateTtl
                | OpCode::Delete
                | OpCode::SetData
                | OpCode::SetAcl
                | OpCode::Check
                | OpCode::Multi
                | OpCode::Reconfig
                | OpCode::DeleteContainer
        )
    )
}

pub(super) fn multi_result(r: ApplyResult) -> MultiResult {
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
