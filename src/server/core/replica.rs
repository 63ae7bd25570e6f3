//! The core's side of replication: it drives the Zab state machine
//! ([`crate::zab::Peer`]) and performs its outputs against the tree, the
//! log thread and the quorum network.
//!
//! Everything happens on the core task, in output order, which is what
//! Zab's "synchronous" outputs need: a TRUNC or SNAP is complete before the
//! next packet is handled, an epoch file is written before the ACK that
//! depends on it is sent.
//!
//! Writes: a leader turns requests into txns as a standalone server does
//! and *proposes* them; [`Output::Deliver`] (quorum-acknowledged) completes
//! them. A follower forwards client writes to the leader (`forward.rs`) and
//! answers its client when the commit comes back.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::pipeline::{Pending, Then};
use super::{ConnId, Core, CoreError, Database, Durability, Effect, LogItem, NetCmd, NetEvent};
use crate::server::metrics::quorum::{self, QuorumMarks, SyncKind};
use crate::server::metrics::{observe, Counter, Summary};
use crate::session::{SessionId, SessionTracker};
use crate::storage::{self, EpochFile, StorageError};
use crate::tree::prep::Prep;
use crate::tree::txn::{Txn, TxnBody};
use crate::zab::{Entry, Output, Packet, Peer, ServerState, Zxid};

/// How many recent log entries a restarted server keeps for DIFFs
/// (`zookeeper.commitLogCount`).
pub const COMMIT_LOG_COUNT: usize = 500;

/// Replication state owned by the core.
pub struct Replica {
    pub(crate) peer: Peer,
    /// Txns logged but not applied (leader proposals, follower proposals).
    pub(super) inflight: BTreeMap<i64, Arc<Txn>>,
    /// Follower: forwarded requests awaiting their commit, per session, in
    /// order (cxid, what to do).
    pub(super) forwarded: HashMap<i64, VecDeque<(i32, Then)>>,
    /// Follower: sessions touched since the leader's last PING.
    pub(super) touched: HashMap<i64, u32>,
    /// Syncs waiting for the leader: (connection, xid, path).
    pub(super) syncs: VecDeque<(ConnId, i32, String)>,
    /// Leader: which member each session's client is connected to
    /// (ZooKeeper's session owner); a write from elsewhere is SESSIONMOVED.
    pub(super) owners: HashMap<i64, crate::zab::Sid>,
    /// Learner: reconnecting clients waiting for the leader's REVALIDATE
    /// answer, per session: (connection, timeout, readOnly byte).
    pub(super) revalidating: HashMap<i64, Vec<(ConnId, u32, Option<bool>)>>,
    /// Leader: local syncs by token.
    pub(super) local_syncs: HashMap<u64, (ConnId, i32, String)>,
    pub(super) next_token: u64,
    /// Whether clients were being served after the last output batch.
    pub(super) serving: bool,
    /// What Zab's latency and sync metrics are measured from.
    pub(super) marks: QuorumMarks,
}

impl Replica {
    /// Leader: the link of the learner with id `sid` as the admin
    /// `observers` command reports it.
    pub fn learner_link(
        &self,
        sid: crate::zab::Sid,
    ) -> Option<&crate::server::metrics::quorum::LinkInfo> {
        self.marks.learner(sid)
    }

    /// Replication state around a Zab peer.
    pub fn new(peer: Peer) -> Replica {
        Replica {
            peer,
            inflight: BTreeMap::new(),
            forwarded: HashMap::new(),
            touched: HashMap::new(),
            syncs: VecDeque::new(),
            local_syncs: HashMap::new(),
            owners: HashMap::new(),
            revalidating: HashMap::new(),
            next_token: 1,
            serving: false,
            marks: QuorumMarks::default(),
        }
    }

    pub(crate) fn is_leader(&self) -> bool {
        self.peer.state() == ServerState::Leading
    }
}

impl Core {
    pub(crate) fn replica_mut(&mut self) -> &mut Replica {
        self.replica.as_mut().expect("replicated")
    }

    /// Whether this server expires sessions and reaps containers: a
    /// standalone server or the established leader.
    pub(super) fn owns_sessions(&self) -> bool {
        self.replica
            .as_ref()
            .is_none_or(|r| r.is_leader() && r.peer.is_serving())
    }

    /// A network event for Zab.
    pub(super) fn on_quorum(&mut self, ev: NetEvent) {
        let now = self.now_ms();
        observe::quorum_event(&self.metrics, &ev);
        self.time_quorum_event(&ev);
        let peer = &mut self.replica_mut().peer;
        match ev {
            NetEvent::Note { from, n } => peer.notification(now, from, n),
            NetEvent::Accepted { link, .. } => peer.accepted(now, link),
            NetEvent::Connected { to, link } => peer.connected(now, to, link),
            NetEvent::ConnectFailed { to } => peer.connect_failed(now, to),
            NetEvent::Packet { link, packet } => peer.packet(now, link, packet),
            NetEvent::Closed { link } => peer.link_closed(now, link),
        }
        self.zab_outputs();
    }

    /// Zab's timers.
    pub(super) fn zab_tick(&mut self) {
        if self.replica.is_none() {
            return;
        }
        let now = self.now_ms();
        if let Some(r) = self.replica.as_mut() {
            if now >= r.peer.deadline() {
                r.peer.tick(now);
                self.zab_outputs();
            }
        }
    }

    /// The log thread synced everything up to `zxid`.
    pub(super) fn zab_persisted(&mut self, zxid: i64) {
        let now = self.now_ms();
        self.own_acks(zxid);
        self.replica_mut().peer.persisted(now, Zxid(zxid));
        self.zab_outputs();
    }

    /// This server's log has everything through `zxid`: a voting member
    /// makes its ACKs (`AckRequestProcessor` on the leader,
    /// `SendAckRequestProcessor` on a follower), timed for the metrics.
    fn own_acks(&mut self, zxid: i64) {
        let wall = self.wall_ms();
        let r = self.replica.as_mut().expect("replicated");
        match r.peer.state() {
            ServerState::Leading => {
                let me = r.peer.id();
                let inflight = &r.inflight;
                r.marks
                    .leader_persisted(&self.metrics, zxid, me, wall, |z| inflight.contains_key(&z));
            }
            ServerState::Following => r.marks.follower_persisted(&self.metrics, zxid, wall),
            ServerState::Observing | ServerState::Looking => r.marks.observer_persisted(zxid),
        }
    }

    /// What Zab's metrics learn from a quorum event, before Zab sees it: a
    /// leader learns its learners' ids, times their ACKs and sees their
    /// syncs end.
    fn time_quorum_event(&mut self, ev: &NetEvent) {
        use crate::zab::Packet;
        let wall = self.wall_ms();
        let r = self.replica.as_mut().expect("replicated");
        match ev {
            NetEvent::Closed { link } => r.marks.link_closed(*link),
            NetEvent::Accepted { link, peer } => r.marks.link_accepted(*link, *peer, wall),
            NetEvent::Packet { link, packet } if r.is_leader() => {
                r.marks.link_received(*link, packet);
                match packet {
                    Packet::LearnerInfo { sid, .. } => r.marks.learner_info(*link, *sid),
                    Packet::Ack { zxid } => {
                        let stamp = r.inflight.get(&zxid.0).map(|t| t.hdr.time);
                        r.marks
                            .ack_received(&self.metrics, *link, *zxid, stamp, wall);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// What Zab's metrics learn from a packet this server sends: a leader
    /// starts syncing a learner by DIFF or TRUNC.
    fn time_sent(&mut self, link: crate::zab::LinkId, packet: &Packet) {
        let r = self.replica.as_mut().expect("replicated");
        r.marks.link_sent(link, packet);
        if matches!(packet, Packet::Diff { .. } | Packet::Trunc { .. }) && r.is_leader() {
            r.marks.sync_started(&self.metrics, link, SyncKind::Diff);
        }
    }

    /// Leader: proposes a prepared txn (already queued in the pipeline).
    pub(super) fn propose(&mut self, txn: Arc<Txn>) {
        let now = self.now_ms();
        let zxid = txn.hdr.zxid;
        // Marshalled once: these bytes go to the quorum and to the log.
        let entry = Entry {
            zxid: Zxid(zxid),
            txn: storage::entry::marshalled(&txn),
        };
        self.stats.proposal_sizes.record(entry.txn.len());
        self.metrics.proposal();
        let r = self.replica_mut();
        r.inflight.insert(zxid, txn);
        if let Err(e) = r.peer.propose(now, entry) {
            // Only an established leader prepares txns; losing leadership
            // in between is handled by the role change that follows.
            tracing::warn!("proposal 0x{zxid:x} refused: {e:?}");
        }
        self.zab_outputs();
    }

    /// Performs Zab's outputs, in order, until it has nothing more to say —
    /// or until one needs a reload, whose answer ([`super::Input::Reloaded`])
    /// resumes the rest.
    pub(super) fn zab_outputs(&mut self) {
        loop {
            if self.reloading.is_some() {
                return;
            }
            if let Some(o) = self.deferred.pop_front() {
                self.zab_output(o);
                continue;
            }
            let outs = self.replica_mut().peer.take_outputs();
            if outs.is_empty() {
                break;
            }
            self.deferred.extend(outs);
        }
        let serving = self.serving();
        let now = self.now_ms();
        let r = self.replica.as_mut().expect("replicated");
        if r.serving != serving {
            self.metrics.serving(serving, r.is_leader(), now);
        }
        if r.serving && !serving {
            r.serving = false;
            self.stop_serving();
        } else if !r.serving && serving {
            r.serving = true;
            tracing::info!(
                "serving clients as {} of epoch {}",
                r.peer.state().role_name(),
                r.peer.current_epoch()
            );
        }
    }

    fn zab_output(&mut self, o: Output) {
        let now = self.now_ms();
        match o {
            Output::Notify { to, n } => self.emit(Effect::Net(Box::new(NetCmd::Notify { to, n }))),
            Output::Connect { to } => self.emit(Effect::Net(Box::new(NetCmd::Connect { to }))),
            Output::Send { link, packet } => {
                observe::packet_sent(&self.metrics, &packet);
                self.time_sent(link, &packet);
                self.emit(Effect::Net(Box::new(NetCmd::Send { link, packet })))
            }
            Output::Close { link } => self.emit(Effect::Net(Box::new(NetCmd::Close { link }))),
            Output::SendSnapshot { link, zxid } => {
                self.metrics.count(Counter::SnapCount, 1);
                if let Some(r) = self.replica.as_mut() {
                    r.marks.sync_started(&self.metrics, link, SyncKind::Snap);
                }
                if self.tree.last_zxid != zxid.0 {
                    tracing::warn!(
                        "SNAP at {zxid} but the tree is at 0x{:x}",
                        self.tree.last_zxid
                    );
                }
                let image = storage::image::encode_image(&self.tree, &self.session_list());
                let packet = Packet::Snap { zxid, image };
                self.emit(Effect::Net(Box::new(NetCmd::Send { link, packet })));
            }
            Output::Persist(entry) => {
                self.metrics.count(Counter::SyncProcessorRequestQueued, 1);
                // A follower's proposal is decoded here, to be applied at
                // its commit (the link checked that it decodes); a leader's
                // own is in flight already.
                let known = self.replica_mut().inflight.contains_key(&entry.zxid.0);
                let decoded = (!known).then(|| storage::entry::unmarshal(entry.txn.clone()));
                match decoded {
                    Some(Ok(t)) => {
                        self.replica_mut()
                            .inflight
                            .insert(entry.zxid.0, Arc::new(t));
                    }
                    Some(Err(e)) => {
                        return self.fatal(CoreError::Replication(format!(
                            "undecodable txn {} from the leader: {e}",
                            entry.zxid
                        )))
                    }
                    None => {}
                }
                self.time_logged(entry.zxid.0, !known);
                match self.durability {
                    Durability::Log => self.emit(Effect::Persist(LogItem::Marshalled {
                        zxid: entry.zxid.0,
                        bytes: entry.txn,
                    })),
                    Durability::Memory => {
                        let z = entry.zxid;
                        self.own_acks(z.0);
                        self.replica_mut().peer.persisted(now, z);
                    }
                }
            }
            Output::Truncate(zxid) => self.reload(Some(zxid), false),
            Output::Reload => self.reload(None, true),
            Output::InstallSnapshot { zxid, image } => self.install_image(zxid, &image),
            Output::SaveSnapshot { zxid } => {
                let sessions = self.session_list();
                if let Some(store) = self.snapshots.as_mut() {
                    if let Err(source) = store.save(zxid.0, &self.tree, &sessions) {
                        self.fatal(CoreError::Storage {
                            what: "writing the snapshot from the leader".into(),
                            source,
                        });
                    }
                }
            }
            Output::SetAcceptedEpoch(epoch) => self.emit(Effect::WriteEpoch {
                file: EpochFile::Accepted,
                epoch,
            }),
            Output::SetCurrentEpoch(epoch) => self.emit(Effect::WriteEpoch {
                file: EpochFile::Current,
                epoch,
            }),
            Output::Deliver(entry) => self.deliver_committed(entry),
            Output::FastForward { through } => self.fast_forward(through),
            Output::Role {
                state,
                epoch,
                leader,
            } => {
                self.metrics.zab_role(state, now);
                self.emit(Effect::Net(Box::new(NetCmd::Listen(
                    state == ServerState::Leading,
                ))));
                tracing::info!(
                    "role: {} (epoch {epoch}, leader {leader:?})",
                    state.role_name()
                );
            }
            Output::Established { epoch, through } => self.established(epoch, through),
            Output::PingFromLeader => {
                let r = self.replica_mut();
                let mut data = BytesMut::with_capacity(r.touched.len() * 12);
                for (id, timeout) in r.touched.drain() {
                    data.put_i64(id);
                    data.put_i32(timeout as i32);
                }
                r.peer.learner_ping(data.freeze());
            }
            Output::Touches { data, .. } => {
                let mut d = data;
                while d.remaining() >= 12 {
                    let id = d.get_i64();
                    let _timeout = d.get_i32();
                    self.sessions.touch(SessionId(id), now);
                }
            }
            Output::LearnerRequest {
                link,
                from,
                data,
                authinfo,
            } => self.learner_request(link, from, data, authinfo),
            Output::Revalidate { link, from, data } => {
                // Leader.revalidateSession: valid if the session is alive;
                // the asking learner becomes its owner.
                let mut d = data.clone();
                if d.remaining() < 8 {
                    return;
                }
                let id = d.get_i64();
                let valid = self.sessions.touch(SessionId(id), now);
                if valid {
                    self.replica_mut().owners.insert(id, from);
                }
                let mut reply = BytesMut::with_capacity(9);
                reply.put_i64(id);
                reply.put_u8(valid as u8);
                self.replica_mut()
                    .peer
                    .reply_revalidate(link, reply.freeze());
            }
            Output::RevalidateReply { data } => self.revalidated(data),
            Output::SyncDone { token } => self.sync_done(token),
            Output::Warn(w) => tracing::warn!("{w}"),
            Output::Info(i) => tracing::info!("{i}"),
            Output::Left { successor } => {
                self.emit(Effect::Net(Box::new(NetCmd::Listen(false))));
                match successor {
                    Some(s) => tracing::info!("left the ensemble; voted for server {s} to lead"),
                    None => tracing::info!("left the ensemble"),
                }
            }
        }
    }

    /// A transaction goes to this server's log (`received`: a proposal
    /// from the leader): its stamp is kept until its ACK is made, and a
    /// follower in the broadcast phase times the proposal's way here
    /// (`proposal_latency`, `Follower.processPacket`).
    fn time_logged(&mut self, zxid: i64, received: bool) {
        let wall = self.wall_ms();
        let r = self.replica.as_mut().expect("replicated");
        let Some(stamp) = r.inflight.get(&zxid).map(|t| t.hdr.time) else {
            return;
        };
        r.marks.logged(zxid, stamp);
        if received && r.peer.state() == ServerState::Following && r.peer.is_serving() {
            quorum::latency(&self.metrics, Summary::ProposalLatency, stamp, wall);
        }
    }

    /// Leader established: proposals continue at `epoch`'s first zxid; the
    /// sessions it learned about as a follower start their timeouts now.
    fn established(&mut self, epoch: u32, through: Zxid) {
        debug_assert_eq!(self.tree.last_zxid, through.0);
        self.next_zxid = Zxid::new(epoch, 1).0;
        self.reset_prep();
        let now = self.now_ms();
        let ids: Vec<SessionId> = self.sessions.sessions().map(|s| s.id).collect();
        for id in ids {
            self.sessions.touch(id, now);
        }
        tracing::info!("leading epoch {epoch} from zxid {through}");
    }

    /// A committed txn: the leader completes its pending proposal; a
    /// follower applies it and answers the client that sent it here.
    fn deliver_committed(&mut self, entry: Entry) {
        let zxid = entry.zxid.0;
        let wall = self.wall_ms();
        if self.replica_mut().is_leader() {
            self.metrics.count(Counter::CommitCount, 1);
            if let Some(t) = self.replica_mut().inflight.remove(&zxid) {
                // Leader.tryToCommit: a quorum acknowledged it.
                quorum::latency(&self.metrics, Summary::QuorumAckLatency, t.hdr.time, wall);
            }
            self.on_durable(zxid);
            return;
        }
        let txn = match self.replica_mut().inflight.remove(&zxid) {
            Some(t) => t,
            None => match storage::entry::unmarshal(entry.txn) {
                Ok(t) => Arc::new(t),
                Err(e) => {
                    return self.fatal(CoreError::Replication(format!(
                        "undecodable committed txn {}: {e}",
                        entry.zxid
                    )))
                }
            },
        };
        // FollowerZooKeeperServer.commit (an observer's INFORM alike).
        quorum::latency(
            &self.metrics,
            Summary::CommitPropagationLatency,
            txn.hdr.time,
            wall,
        );
        let (session, cxid) = (txn.hdr.client_id, txn.hdr.cxid);
        let then = {
            let r = self.replica_mut();
            match r.forwarded.get_mut(&session) {
                Some(q) if q.front().is_some_and(|(c, _)| *c == cxid) => {
                    let then = q.pop_front().map(|(_, t)| t).expect("front");
                    if q.is_empty() {
                        r.forwarded.remove(&session);
                    }
                    then
                }
                _ => Then::Nothing,
            }
        };
        let closes = matches!(txn.body, TxnBody::CloseSession(_));
        let answered_close = matches!(then, Then::ClientClosed { .. });
        if let Some(s) = self.complete(Pending { txn, then }) {
            self.resume_session(s);
        }
        if closes && !answered_close {
            // Expired or closed elsewhere: drop the client if it is here.
            if let Some(&conn) = self.session_conn.get(&session) {
                self.close_conn(conn);
            }
        }
    }

    /// Applies logged but unapplied txns (leaving a role), answering no one.
    fn fast_forward(&mut self, through: Zxid) {
        // Leader: its pending proposals are exactly those txns.
        while let Some(p) = self.pipeline.pop_durable(through.0) {
            self.commit(&p.txn);
        }
        let txns: Vec<Arc<Txn>> = {
            let r = self.replica_mut();
            let keep = r.inflight.split_off(&(through.0 + 1));
            std::mem::replace(&mut r.inflight, keep)
                .into_values()
                .collect()
        };
        for t in txns {
            if t.hdr.zxid > self.tree.last_zxid {
                self.commit(&t);
            }
        }
    }

    /// Stopped serving: every client is disconnected (it reconnects to a
    /// server that serves), and whatever waited for a commit is dropped.
    fn stop_serving(&mut self) {
        tracing::info!("not serving clients until a leader is established");
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for c in conns {
            self.close_conn(c);
        }
        let r = self.replica_mut();
        r.forwarded.clear();
        r.syncs.clear();
        r.local_syncs.clear();
        r.touched.clear();
        r.owners.clear();
        r.revalidating.clear();
        self.pipeline.clear_flows();
    }

    /// SNAP: the leader's image replaces the tree and the sessions.
    fn install_image(&mut self, zxid: Zxid, image: &Bytes) {
        let img = match storage::image::decode_image(image, self.opts.extended_types) {
            Ok(i) => i,
            Err(e) => {
                return self.fatal(CoreError::Replication(format!(
                    "decoding the leader's snapshot: {e}"
                )))
            }
        };
        let mut tree = img.tree;
        tree.last_zxid = zxid.0;
        self.set_database(tree, img.sessions.iter().map(|(id, t)| (*id, *t)));
        self.replica_mut().inflight.clear();
        self.replica_mut().marks.clear_logged();
        self.pipeline.clear_pending();
    }

    /// Starts `prep` afresh on the tree as it is, its running digest
    /// recomputed: after the tree changed under it (a new database) or
    /// before a new leader prepares its first transaction.
    fn reset_prep(&mut self) {
        let digest = crate::tree::digest::tree_digest(&self.tree);
        self.applied_digest = digest;
        self.prep = Prep::new(
            self.opts.extended_types,
            self.opts.skip_acl,
            self.opts.reconfig_enabled,
            digest,
        );
    }

    /// Replaces the tree and sessions (SNAP, TRUNC, reload).
    fn set_database(
        &mut self,
        tree: crate::tree::DataTree,
        sessions: impl Iterator<Item = (i64, i32)>,
    ) {
        self.tree = tree;
        self.reset_prep();
        let now = self.now_ms();
        self.sessions = SessionTracker::new(
            self.opts.server_id,
            self.opts.tick_ms,
            self.wall_ms() as u64,
        );
        for (id, timeout) in sessions {
            self.sessions.add(SessionId(id), timeout.max(0) as u32, now);
        }
    }

    /// TRUNC (cut the log after `zxid` first) or a reload: the runtime
    /// stops the log, rebuilds the database from disk and restarts the log;
    /// Zab's later outputs wait for its answer.
    fn reload(&mut self, truncate: Option<Zxid>, durable: bool) {
        self.reloading = Some(durable);
        self.emit(Effect::Reload { truncate, durable });
    }

    /// The runtime's answer to [`Effect::Reload`].
    pub(super) fn reloaded(&mut self, db: Result<Database, StorageError>) {
        let Some(durable) = self.reloading.take() else {
            panic!("invariant: a reload answer with no reload asked for");
        };
        let db = match db {
            Ok(db) => db,
            Err(source) => {
                return self.fatal(CoreError::Storage {
                    what: "reloading the database".into(),
                    source,
                })
            }
        };
        self.set_database(db.tree, db.sessions.into_iter());
        self.replica_mut().inflight.clear();
        self.replica_mut().marks.clear_logged();
        self.pipeline.clear_pending();
        if durable {
            let Some(d) = db.durable else {
                panic!("invariant: a reload for Zab came back without its durable state");
            };
            let now = self.now_ms();
            self.replica_mut().peer.reload(now, d);
        }
        self.zab_outputs();
    }

    fn sync_done(&mut self, token: Option<u64>) {
        let r = self.replica_mut();
        let waiting = match token {
            None => r.syncs.pop_front(),
            Some(t) => r.local_syncs.remove(&t),
        };
        let Some((conn, xid, path)) = waiting else {
            return;
        };
        self.answer_sync(conn, xid, path);
    }
}

impl Core {
    /// A leader's syncs waiting for their commit (`pending_syncs`).
    pub(crate) fn pending_syncs(&self) -> usize {
        self.replica
            .as_ref()
            .map_or(0, |r| r.local_syncs.len() + r.syncs.len())
    }
}
