//! The core: the state machine of one server — the tree, the sessions, the
//! connections' bookkeeping, the write pipeline and the Zab peer — with no
//! IO inside, in the shape of [`crate::zab::Peer`]: every call takes the
//! time as an argument ([`Now`]) and its effects come back as values
//! ([`Effect`]) for the runtime (`server::driver`) to perform, in order.
//!
//! Processing requests strictly in arrival order is what gives each session
//! its in-order replies and every client a single zxid order. The path of a
//! write: [`Input::Request`] → `requests::process` → `tree::prep` (a txn
//! with the next zxid) → `pipeline::submit` → [`Effect::Persist`] (or a
//! Zab proposal) → [`Input::Log`] `Durable` (or Zab's `Deliver`) →
//! `pipeline::complete` → `tree::DataTree::apply` → watch events as
//! [`Effect::Frame`]s, then the reply. A read is answered inside the same
//! call (`requests::process` → `tree::read::read`), unless its session has
//! writes in the pipeline, behind which it waits.
//!
//! The runtime's side of the contract: perform the effects of one call in
//! order before the next call, and answer [`Effect::Reload`] with
//! [`Input::Reloaded`] before anything else (Zab needs a TRUNC, a reload or
//! a SNAP complete before the next packet is handled; effects in order
//! give "an epoch is written before the ACK that depends on it is sent").
//! The simulator (`server::sim`) and the unit tests drive this same code.

mod conns;
mod forward;
mod lifecycle;
mod pipeline;
mod replica;
mod requests;
mod snapshot;
pub mod stats;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

pub use replica::{Replica, COMMIT_LOG_COUNT};
pub use snapshot::{SnapPiece, SnapshotStore, SnapshotWriter, WriterBusy, CHUNK as SNAPSHOT_CHUNK};

use super::ServerOptions;
use crate::proto::connect::Connect;
use crate::proto::records::data::Id;
use crate::session::{SessionId, SessionTracker};
use crate::storage::{EpochFile, StorageError};
use crate::tree::prep::Prep;
use crate::tree::txn::Txn;
use crate::tree::DataTree;
use crate::zab::{DurableState, LinkId, Notification, Packet, Sid, Zxid};

/// The hash map of the per-request lookups (connections, sessions): the
/// std hasher (SipHash) showed up at ~3% of the read path in callgrind.
pub(crate) type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// Server-assigned connection number.
pub type ConnId = u64;

/// The time of a call: the monotonic clock drives timeouts, the wall clock
/// stamps transactions (ctime/mtime) and seeds session ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Now {
    /// Monotonic milliseconds since the runtime started.
    pub mono_ms: u64,
    /// Monotonic microseconds (latency statistics).
    pub mono_us: u64,
    /// Milliseconds since the Unix epoch.
    pub wall_ms: i64,
}

/// What the runtime tells the core.
#[derive(Debug)]
pub enum Input {
    /// A connection's handshake arrived.
    Connect {
        /// The connection.
        conn: ConnId,
        /// The handshake.
        connect: Connect,
        /// The client's address (its `ip` auth id).
        peer: SocketAddr,
    },
    /// A request frame (header split off), read at `received_us`.
    Request {
        /// The connection.
        conn: ConnId,
        /// The request's xid.
        xid: i32,
        /// The opcode.
        op: i32,
        /// The body.
        body: Bytes,
        /// When the connection read it ([`Now::mono_us`] scale).
        received_us: u64,
    },
    /// The connection is gone.
    Closed {
        /// The connection.
        conn: ConnId,
    },
    /// The connection's outbox refused a watch event: its client stopped
    /// reading. The runtime has dropped the socket already.
    Overflowed {
        /// The connection.
        conn: ConnId,
        /// What the outbox said.
        detail: String,
    },
    /// Something happened on the quorum network.
    Quorum(NetEvent),
    /// The transaction log reports.
    Log(LogReport),
    /// The answer to [`Effect::Reload`].
    Reloaded(Box<Result<Database, StorageError>>),
    /// Time passed (a deadline from [`Core::next_deadline`] came).
    Tick,
    /// Hand up to this many nodes of the running snapshot to its writer.
    SnapshotWork(usize),
    /// A four-letter word's reset (`srst`, `crst`).
    Reset(Reset),
    /// Packets of a four-letter-word connection: ZooKeeper counts the
    /// word as a packet received and each chunk of its answer as one sent.
    WordPackets {
        /// Packets read.
        received: u64,
        /// Packets written.
        sent: u64,
    },
}

/// What the quorum network tells the core.
#[derive(Debug)]
pub enum NetEvent {
    /// An election notification.
    Note {
        /// Sender.
        from: Sid,
        /// The notification.
        n: Notification,
    },
    /// A learner connected to our quorum port.
    Accepted {
        /// Its link.
        link: LinkId,
        /// Where it connected from (the admin `observers` command reports
        /// it); none in the simulator.
        peer: Option<SocketAddr>,
    },
    /// Our connection to the leader is open.
    Connected {
        /// The leader.
        to: Sid,
        /// The link.
        link: LinkId,
    },
    /// Our connection to the leader failed.
    ConnectFailed {
        /// The leader.
        to: Sid,
    },
    /// A packet arrived on a link.
    Packet {
        /// The link.
        link: LinkId,
        /// The packet.
        packet: Packet,
    },
    /// A link closed (or failed to decode: the peer is cut off).
    Closed {
        /// The link.
        link: LinkId,
    },
}

/// What the transaction log reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogReport {
    /// Every transaction up to this zxid is durable.
    Durable(i64),
    /// The log rolled: time for a snapshot.
    SnapshotDue,
}

/// The counters a four-letter word resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// `srst`: server statistics.
    Stats,
    /// `crst`: every connection's counters.
    Connections,
    /// The admin `observer_connection_stat_reset`: the leader's counters
    /// of its learner links.
    Observers,
}

/// What a frame is to the connection's outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// The reply to a request: frees one of the connection's in-flight
    /// request slots when written.
    Reply,
    /// A watch event: counts against the outbox's byte bound.
    Event,
    /// The handshake reply (or its refusal).
    Handshake,
}

/// What the core asks the runtime to do, in order.
#[derive(Debug)]
pub enum Effect {
    /// Queue a frame (length prefix included) on a connection.
    Frame {
        /// The connection.
        conn: ConnId,
        /// The frame.
        frame: Bytes,
        /// What it is.
        kind: FrameKind,
    },
    /// Flush what is queued for the connection, then close it.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Append a transaction to the log; [`LogReport::Durable`] follows.
    Persist(LogItem),
    /// A quorum-network command (boxed: rare, and large beside a frame).
    Net(Box<NetCmd>),
    /// Write an epoch file (before any later effect).
    WriteEpoch {
        /// Which file.
        file: EpochFile,
        /// The epoch.
        epoch: u32,
    },
    /// Stop the log, cut it after `truncate` (TRUNC) if given, reload the
    /// database from disk, restart the log, and answer with
    /// [`Input::Reloaded`] (with the durable Zab state if `durable`).
    Reload {
        /// TRUNC to this zxid first.
        truncate: Option<Zxid>,
        /// Also read the durable Zab state (epochs, recent log).
        durable: bool,
    },
    /// The server cannot go on (a storage failure, a broken invariant):
    /// the runtime stops it with this error.
    Stop(Box<CoreError>),
}

/// A transaction for the log: marshalled once, wherever that happened.
#[derive(Debug, Clone)]
pub enum LogItem {
    /// A standalone server's txn, marshalled by the log thread.
    Txn(Arc<Txn>),
    /// The bytes a leader proposed (a follower logs them as received).
    Marshalled {
        /// The txn's zxid.
        zxid: i64,
        /// Its bytes.
        bytes: Bytes,
    },
}

impl LogItem {
    /// The zxid of the transaction.
    pub fn zxid(&self) -> i64 {
        match self {
            LogItem::Txn(t) => t.hdr.zxid,
            LogItem::Marshalled { zxid, .. } => *zxid,
        }
    }
}

/// Quorum-network commands (performed by `server::quorum_net`).
#[derive(Debug)]
pub enum NetCmd {
    /// An election notification.
    Notify {
        /// To whom.
        to: Sid,
        /// The vote.
        n: Notification,
    },
    /// Open a quorum link to the leader.
    Connect {
        /// The leader.
        to: Sid,
    },
    /// Send a packet on a link.
    Send {
        /// The link.
        link: LinkId,
        /// The packet.
        packet: Packet,
    },
    /// Close a link.
    Close {
        /// The link.
        link: LinkId,
    },
    /// Bind (or unbind) the quorum port.
    Listen(bool),
}

/// A database read from disk (at start, after TRUNC or a reload).
#[derive(Debug)]
pub struct Database {
    /// The tree.
    pub tree: DataTree,
    /// Live sessions and their timeouts.
    pub sessions: Vec<(i64, i32)>,
    /// The tree digest.
    pub digest: i64,
    /// The durable Zab state, when asked for.
    pub durable: Option<DurableState>,
}

/// Why the core stopped the server.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A storage operation the core depends on failed.
    #[error("{what}: {source}")]
    Storage {
        /// What was being done.
        what: String,
        /// The failure.
        source: StorageError,
    },
    /// Replication cannot go on (e.g. the leader's SNAP image is damaged).
    #[error("{0}")]
    Replication(String),
}

/// Per-connection state.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) session: i64,
    /// Auth ids in ZooKeeper's iteration order (see `java_order::auth_order`).
    pub(crate) auth: Vec<Id>,
    /// The same ids in the order they were added.
    pub(crate) auth_inserted: Vec<Id>,
    pub(crate) peer: SocketAddr,
    pub(crate) timeout_ms: u32,
    /// Its counters (`cons`, the AdminServer's `connections`).
    pub(crate) stats: stats::ConnStats,
}

/// How transactions become durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Through the transaction log ([`Effect::Persist`]).
    Log,
    /// In memory: a transaction is durable when prepared (tests, tools).
    Memory,
}

/// The core's state.
pub struct Core {
    pub(crate) opts: ServerOptions,
    pub(crate) tree: DataTree,
    prep: Prep,
    pub(crate) sessions: SessionTracker,
    pub(crate) conns: FastMap<ConnId, Conn>,
    /// Which connection currently carries each session.
    session_conn: FastMap<i64, ConnId>,
    next_zxid: i64,
    now: Now,
    pub(crate) stats: stats::Stats,
    /// ZooKeeper's `ServerMetrics` for this server (shared with the log
    /// thread and the `/metrics` endpoint; updated as a side observation).
    pub(crate) metrics: Arc<crate::server::metrics::ServerMetrics>,
    last_container_check_ms: u64,
    /// Transactions waiting to be durable, and sessions waiting on them.
    pipeline: pipeline::Pipeline,
    durability: Durability,
    /// Digest of the applied tree (the last applied TxnDigest).
    applied_digest: i64,
    /// Digests of the applied tree at every 128th zxid (`hash`).
    pub(crate) digest_log: stats::DigestLog,
    /// The snapshot being written, if any.
    snapshot: Option<snapshot::SnapshotJob>,
    /// Where snapshots go (none when running in memory).
    snapshots: Option<Box<dyn SnapshotStore>>,
    /// Replication, when this server is a member of an ensemble.
    pub(crate) replica: Option<Replica>,
    /// Zab outputs held back while a reload is under way.
    deferred: VecDeque<crate::zab::Output>,
    /// A reload was asked for and not answered yet.
    reloading: Option<bool>,
    effects: Vec<Effect>,
}

impl Core {
    /// A core with an empty tree.
    pub fn new(opts: ServerOptions, durability: Durability, now: Now) -> Core {
        let tree = DataTree::new(opts.extended_types);
        let digest = crate::tree::digest::tree_digest(&tree);
        Core::with_database(
            opts,
            durability,
            now,
            Database {
                tree,
                sessions: Vec::new(),
                digest,
                durable: None,
            },
        )
    }

    /// A core serving a recovered database: the tree as loaded, and the
    /// sessions that were alive (they expire normally from now on).
    pub fn with_database(
        opts: ServerOptions,
        durability: Durability,
        now: Now,
        db: Database,
    ) -> Core {
        let prep = Prep::new(
            opts.extended_types,
            opts.skip_acl,
            opts.reconfig_enabled,
            db.digest,
        );
        let mut sessions = SessionTracker::new(opts.server_id, opts.tick_ms, now.wall_ms as u64);
        for &(id, timeout) in &db.sessions {
            sessions.add(SessionId(id), timeout.max(0) as u32, now.mono_ms);
        }
        let metrics = Arc::new(crate::server::metrics::ServerMetrics::new(
            crate::server::metrics::Role::initial(&opts),
            now.mono_ms,
            opts.metrics_provider.prometheus(),
        ));
        Core {
            opts,
            next_zxid: db.tree.last_zxid + 1,
            tree: db.tree,
            prep,
            sessions,
            conns: FastMap::default(),
            session_conn: FastMap::default(),
            now,
            stats: stats::Stats::default(),
            metrics,
            last_container_check_ms: now.mono_ms,
            pipeline: pipeline::Pipeline::default(),
            durability,
            applied_digest: db.digest,
            digest_log: stats::DigestLog::default(),
            snapshot: None,
            snapshots: None,
            replica: None,
            deferred: VecDeque::new(),
            reloading: None,
            effects: Vec::new(),
        }
    }

    /// Writes snapshots to `store` when the log rolls.
    pub fn with_snapshots(mut self, store: Box<dyn SnapshotStore>) -> Core {
        self.snapshots = Some(store);
        self
    }

    /// Makes this server a member of an ensemble (its first outputs are
    /// effects of the next call).
    pub fn with_replica(mut self, replica: Replica) -> Core {
        self.replica = Some(replica);
        self.zab_outputs();
        self
    }

    /// Handles one input at `now`. Its effects are in [`take_effects`](Self::take_effects).
    pub fn handle(&mut self, now: Now, input: Input) {
        self.now = now;
        if self.reloading.is_some() && !matches!(input, Input::Reloaded(_)) {
            // The runtime answers a reload before anything else.
            panic!("invariant: {input:?} arrived while a reload was pending");
        }
        match input {
            Input::Connect {
                conn,
                connect,
                peer,
            } => self.on_connect(conn, connect, peer),
            Input::Request {
                conn,
                xid,
                op,
                body,
                received_us,
            } => self.on_request(conn, xid, op, body, received_us),
            Input::Closed { conn } => self.close_conn(conn),
            Input::Overflowed { conn, detail } => self.overflowed(conn, &detail),
            Input::Quorum(ev) => self.on_quorum(ev),
            Input::Log(LogReport::Durable(zxid)) if self.replica.is_some() => {
                self.zab_persisted(zxid)
            }
            Input::Log(LogReport::Durable(zxid)) => self.on_durable(zxid),
            Input::Log(LogReport::SnapshotDue) => self.start_snapshot(),
            Input::Reloaded(db) => self.reloaded(*db),
            Input::Tick => {
                self.zab_tick();
                self.on_timer();
            }
            Input::SnapshotWork(budget) => {
                self.advance_snapshot(budget);
            }
            Input::WordPackets { received, sent } => {
                self.stats.received += received;
                self.stats.sent += sent;
            }
            Input::Reset(Reset::Stats) => {
                self.stats.reset();
                self.metrics.reset();
            }
            Input::Reset(Reset::Connections) => {
                for c in self.conns.values_mut() {
                    c.stats.reset();
                }
            }
            Input::Reset(Reset::Observers) => {
                if let Some(r) = self.replica.as_mut() {
                    r.marks.reset_link_stats();
                }
            }
        }
    }

    /// The effects of the calls so far, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Moves the effects into `out` (no allocation when `out` has room).
    pub fn drain_effects(&mut self, out: &mut Vec<Effect>) {
        out.append(&mut self.effects);
    }

    /// When the core next needs an [`Input::Tick`] ([`Now::mono_ms`]):
    /// session expiry, the container reaper and Zab's timers run only then.
    pub fn next_deadline(&self) -> u64 {
        let mut d = self.next_timer_ms();
        if let Some(r) = &self.replica {
            d = d.min(r.peer.deadline());
        }
        d
    }

    /// Whether a snapshot is being written, and whether its writer is
    /// behind (then the runtime waits a little before more
    /// [`Input::SnapshotWork`]).
    pub fn snapshot_progress(&self) -> Option<bool> {
        self.snapshot.as_ref().map(|j| j.stalled)
    }

    /// Whether a reload is pending (the runtime must answer it first).
    pub fn awaiting_reload(&self) -> Option<bool> {
        self.reloading
    }

    /// The tree (for snapshots taken by the runtime, tools and tests).
    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    /// The options the core runs with.
    pub fn options(&self) -> &ServerOptions {
        &self.opts
    }

    /// Live sessions and their timeouts, as snapshots store them.
    pub fn session_list(&self) -> Vec<(i64, i32)> {
        self.sessions
            .sessions()
            .map(|s| (s.id.0, s.timeout_ms as i32))
            .collect()
    }

    /// Whether clients may be served now.
    pub fn serving(&self) -> bool {
        self.replica.as_ref().is_none_or(|r| r.peer.is_serving())
    }

    fn emit(&mut self, e: Effect) {
        self.effects.push(e);
    }

    fn now_ms(&self) -> u64 {
        self.now.mono_ms
    }

    fn wall_ms(&self) -> i64 {
        self.now.wall_ms
    }

    fn take_zxid(&mut self) -> i64 {
        let z = self.next_zxid;
        self.next_zxid += 1;
        z
    }

    /// Stops the server with `e` (nothing after this is reliable).
    fn fatal(&mut self, e: CoreError) {
        tracing::error!("{e}; stopping");
        self.emit(Effect::Stop(Box::new(e)));
    }
}
