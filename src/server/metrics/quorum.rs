//! Zab's latencies and sync counts in ZooKeeper's terms, measured from the
//! outputs and packets the core sees (no clock of its own: every time is
//! the core's wall clock, [`crate::server::core::Now::wall_ms`], compared
//! with the leader's stamp in the transaction header, as ZooKeeper's
//! `Request.logLatency` does).
//!
//! Where ZooKeeper records each:
//! - `proposal_latency`: a follower received a PROPOSAL in the broadcast
//!   phase (`Follower.processPacket`);
//! - `proposal_ack_creation_latency`: a transaction is on this server's
//!   disk and its ACK is made (`SendAckRequestProcessor` on a learner,
//!   `AckRequestProcessor` on the leader);
//! - `commit_propagation_latency`: a learner commits a transaction
//!   (`FollowerZooKeeperServer.commit`, `Observer`'s INFORM);
//! - `quorum_ack_latency`: the leader commits it (`Leader.tryToCommit`);
//! - `ack_latency` (keyed by server id): the leader takes an ACK for a
//!   proposal still outstanding, for zxids that are multiples of
//!   `zookeeper.leader.ackLoggingFrequency` (1000; `Leader.processAck`);
//! - `inflight_snap_count` / `inflight_diff_count`: a leader starts or
//!   finishes (NEWLEADER acknowledged) syncing a learner by SNAP or by
//!   DIFF/TRUNC, adding the number of syncs of that kind then in progress
//!   (`LearnerHandler` with its sync throttlers).
//!
//! The bookkeeping is state of the core (in its `Replica`), bounded by
//! what it tracks anyway: transactions logged and not yet acknowledged,
//! and the leader's learner links.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use super::names::{Summary, SummarySet};
use super::registry::ServerMetrics;
use crate::zab::{LinkId, Packet, Sid, Zxid};

/// `zookeeper.leader.ackLoggingFrequency`'s default: the leader times the
/// ACKs of every 1000th zxid.
pub const ACK_LOGGING_FREQUENCY: i64 = 1000;

/// How a leader syncs a learner (ZooKeeper keeps a throttler for each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// A SNAP (the whole tree).
    Snap,
    /// A DIFF or TRUNC (log entries).
    Diff,
}

/// What the core remembers to time Zab.
#[derive(Debug, Default)]
pub struct QuorumMarks {
    /// Transactions logged by this server and not yet acknowledged: zxid
    /// → the leader's stamp (`TxnHeader.time`, wall ms).
    unacked: BTreeMap<i64, i64>,
    /// Leader: each learner link's server id (from its LEARNERINFO).
    sids: HashMap<LinkId, Sid>,
    /// Leader: the links being synced, and how.
    syncing: HashMap<LinkId, SyncKind>,
    /// Leader: each learner link's counters (`LearnerHandler`'s).
    links: HashMap<LinkId, LinkInfo>,
}

/// One learner link as ZooKeeper's `LearnerHandler.getLearnerHandlerInfo`
/// reports it (the admin `observers` command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Where the learner connected from.
    pub peer: Option<SocketAddr>,
    /// When it connected (wall ms; Java's `Date` as Jackson writes it).
    pub established_ms: i64,
    /// Packets received once synced (ZooKeeper counts in its main loop,
    /// after the sync).
    pub packets_received: u64,
    /// Packets sent through the link's queue (everything but LEADERINFO
    /// and the SNAP image, which ZooKeeper writes directly).
    pub packets_sent: u64,
    /// REQUEST packets: writes the learner forwarded.
    pub requests: u64,
    /// The last positive zxid sent, -1 before any.
    pub last_zxid: i64,
    /// NEWLEADER was acknowledged.
    synced: bool,
}

/// `Request.logLatency`: the latency since the leader's stamp, unless the
/// clocks disagree (negative: not recorded).
fn since(stamp: i64, wall_ms: i64) -> Option<i64> {
    let latency = wall_ms - stamp;
    (latency >= 0).then_some(latency)
}

/// Records `s` for a transaction stamped at `stamp`.
pub fn latency(m: &ServerMetrics, s: Summary, stamp: i64, wall_ms: i64) {
    if let Some(l) = since(stamp, wall_ms) {
        m.observe(s, l);
    }
}

impl QuorumMarks {
    /// A transaction stamped at `stamp` goes to this server's log.
    pub fn logged(&mut self, zxid: i64, stamp: i64) {
        self.unacked.insert(zxid, stamp);
    }

    /// A follower's log has everything through `through`: the ACK of each
    /// transaction is made (`SendAckRequestProcessor`), and timed. Timed
    /// also when ferrozk's learner sends none because the commit came
    /// first: ZooKeeper's follower acknowledges every logged proposal.
    pub fn follower_persisted(&mut self, m: &ServerMetrics, through: i64, wall_ms: i64) {
        for stamp in self.take_through(through).into_values() {
            latency(m, Summary::ProposalAckCreationLatency, stamp, wall_ms);
        }
    }

    /// The leader's log has everything through `through`: its own ACKs are
    /// made (`AckRequestProcessor`), each timed, and — for a proposal
    /// still `outstanding` — an `ack_latency` under its own id.
    pub fn leader_persisted(
        &mut self,
        m: &ServerMetrics,
        through: i64,
        me: Sid,
        wall_ms: i64,
        outstanding: impl Fn(i64) -> bool,
    ) {
        for (zxid, stamp) in self.take_through(through) {
            latency(m, Summary::ProposalAckCreationLatency, stamp, wall_ms);
            if outstanding(zxid) {
                ack_latency(m, zxid, me, stamp, wall_ms);
            }
        }
    }

    /// An observer's log has everything through `through`: it makes no
    /// ACKs, so there is nothing to time.
    pub fn observer_persisted(&mut self, through: i64) {
        drop(self.take_through(through));
    }

    fn take_through(&mut self, through: i64) -> BTreeMap<i64, i64> {
        let rest = self.unacked.split_off(&(through + 1));
        std::mem::replace(&mut self.unacked, rest)
    }

    /// Forgets every logged transaction (a new database: TRUNC, SNAP,
    /// reload).
    pub fn clear_logged(&mut self) {
        self.unacked.clear();
    }

    /// Leader: a learner on `link` said who it is.
    pub fn learner_info(&mut self, link: LinkId, sid: Sid) {
        self.sids.insert(link, sid);
    }

    /// Leader: the ACK of `zxid` arrived on `link`, for a proposal stamped
    /// at `stamp` if it is still outstanding. NEWLEADER's ACK (a zxid with
    /// counter 0) ends the link's sync instead.
    pub fn ack_received(
        &mut self,
        m: &ServerMetrics,
        link: LinkId,
        zxid: Zxid,
        stamp: Option<i64>,
        wall_ms: i64,
    ) {
        if zxid.counter() == 0 {
            if let Some(kind) = self.syncing.remove(&link) {
                self.observe_inflight(m, kind);
            }
            if let Some(l) = self.links.get_mut(&link) {
                l.synced = true;
            }
            return;
        }
        if let (Some(stamp), Some(&sid)) = (stamp, self.sids.get(&link)) {
            ack_latency(m, zxid.0, sid, stamp, wall_ms);
        }
    }

    /// Leader: syncing the learner on `link` begins.
    pub fn sync_started(&mut self, m: &ServerMetrics, link: LinkId, kind: SyncKind) {
        self.syncing.insert(link, kind);
        self.observe_inflight(m, kind);
    }

    /// A link closed: a sync on it ends unrecorded (`LearnerHandler`'s
    /// `finally` releases the throttler without a metric).
    pub fn link_closed(&mut self, link: LinkId) {
        self.sids.remove(&link);
        self.syncing.remove(&link);
        self.links.remove(&link);
    }

    /// Leader: a learner connected on `link` from `peer` at `wall_ms`.
    pub fn link_accepted(&mut self, link: LinkId, peer: Option<SocketAddr>, wall_ms: i64) {
        let info = LinkInfo {
            peer,
            established_ms: wall_ms,
            packets_received: 0,
            packets_sent: 0,
            requests: 0,
            last_zxid: -1,
            synced: false,
        };
        self.links.insert(link, info);
    }

    /// A packet arrived on an accepted link.
    pub fn link_received(&mut self, link: LinkId, packet: &Packet) {
        if let Some(l) = self.links.get_mut(&link).filter(|l| l.synced) {
            l.packets_received += 1;
            if matches!(packet, Packet::Request { .. }) {
                l.requests += 1;
            }
        }
    }

    /// A packet was queued on an accepted link.
    pub fn link_sent(&mut self, link: LinkId, packet: &Packet) {
        if matches!(packet, Packet::LeaderInfo { .. }) {
            return;
        }
        if let Some(l) = self.links.get_mut(&link) {
            l.packets_sent += 1;
            if let Some(z) = packet_zxid(packet).filter(|z| *z > 0) {
                l.last_zxid = z;
            }
        }
    }

    /// The link of the learner with id `sid`, if it is connected.
    pub fn learner(&self, sid: Sid) -> Option<&LinkInfo> {
        let link = self.sids.iter().find(|(_, s)| **s == sid)?.0;
        self.links.get(link)
    }

    /// `resetObserverConnectionStats`: the counters and the last zxid.
    pub fn reset_link_stats(&mut self) {
        for l in self.links.values_mut() {
            l.packets_received = 0;
            l.packets_sent = 0;
            l.requests = 0;
            l.last_zxid = -1;
        }
    }

    fn observe_inflight(&self, m: &ServerMetrics, kind: SyncKind) {
        let n = self.syncing.values().filter(|k| **k == kind).count() as i64;
        let s = match kind {
            SyncKind::Snap => Summary::InflightSnapCount,
            SyncKind::Diff => Summary::InflightDiffCount,
        };
        m.observe(s, n);
    }
}

/// The zxid a packet carries on the wire (what `LearnerHandler` keeps as
/// its last zxid when it is positive), for what a leader sends.
fn packet_zxid(p: &Packet) -> Option<i64> {
    match p {
        Packet::Diff { zxid }
        | Packet::Trunc { zxid }
        | Packet::NewLeader { zxid, .. }
        | Packet::Proposal { zxid, .. }
        | Packet::Inform { zxid, .. }
        | Packet::Commit { zxid }
        | Packet::Ping { zxid, .. } => Some(zxid.0),
        _ => None,
    }
}

/// `Leader.processAck`'s sampled latency: every
/// [`ACK_LOGGING_FREQUENCY`]th zxid (Java's `zxid % 1000 == 0` on the whole
/// zxid, epoch included), keyed by the acknowledging server's id.
fn ack_latency(m: &ServerMetrics, zxid: i64, sid: Sid, stamp: i64, wall_ms: i64) {
    if zxid % ACK_LOGGING_FREQUENCY != 0 {
        return;
    }
    if let Some(l) = since(stamp, wall_ms) {
        m.observe_in(SummarySet::AckLatency, &sid.to_string(), l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cnt(m: &ServerMetrics, s: Summary) -> u64 {
        m.summary(s).count
    }

    #[test]
    fn a_follower_times_each_ack_once_from_the_leaders_stamp() {
        let m = ServerMetrics::default();
        let mut q = QuorumMarks::default();
        q.logged(7, 1_000);
        q.logged(8, 1_002);
        q.follower_persisted(&m, 7, 1_012);
        q.follower_persisted(&m, 7, 1_020);
        let s = m.summary(Summary::ProposalAckCreationLatency);
        assert_eq!((s.count, s.sum), (1, 12));
        q.observer_persisted(8);
        q.follower_persisted(&m, 8, 1_030);
        assert_eq!(m.summary(Summary::ProposalAckCreationLatency).count, 1);
    }

    #[test]
    fn a_negative_latency_is_not_recorded() {
        let m = ServerMetrics::default();
        latency(&m, Summary::ProposalLatency, 2_000, 1_999);
        assert_eq!(cnt(&m, Summary::ProposalLatency), 0);
    }

    #[test]
    fn the_leader_times_its_own_acks_and_samples_every_thousandth_zxid() {
        let m = ServerMetrics::default();
        let mut q = QuorumMarks::default();
        let base = Zxid::new(1, 0).0; // 4294967296: % 1000 == 296
        let hit = base + 704; // the first multiple of 1000 in epoch 1
        for z in [hit - 1, hit, hit + 1] {
            q.logged(z, 100);
        }
        q.leader_persisted(&m, hit, 3, 105, |_| true);
        assert_eq!(cnt(&m, Summary::ProposalAckCreationLatency), 2);
        let set = m.set_views(SummarySet::AckLatency);
        assert_eq!(set.len(), 1);
        assert_eq!(
            (set[0].0.as_str(), set[0].1.count, set[0].1.sum),
            ("3", 1, 5)
        );
        q.observer_persisted(hit + 1);
        q.leader_persisted(&m, hit + 1, 3, 105, |_| true);
        assert_eq!(cnt(&m, Summary::ProposalAckCreationLatency), 2, "forgotten");
    }

    #[test]
    fn acks_of_committed_proposals_are_not_sampled() {
        let m = ServerMetrics::default();
        let mut q = QuorumMarks::default();
        let hit = Zxid::new(1, 704).0;
        q.logged(hit, 100);
        q.leader_persisted(&m, hit, 1, 110, |_| false);
        q.learner_info(LinkId(4), 2);
        q.ack_received(&m, LinkId(4), Zxid(hit), None, 110);
        assert!(m.set_views(SummarySet::AckLatency).is_empty());
        q.ack_received(&m, LinkId(4), Zxid(hit), Some(100), 120);
        let set = m.set_views(SummarySet::AckLatency);
        assert_eq!((set[0].0.as_str(), set[0].1.sum), ("2", 20));
    }

    #[test]
    fn syncs_in_flight_are_counted_when_they_start_and_end() {
        let m = ServerMetrics::default();
        let mut q = QuorumMarks::default();
        q.sync_started(&m, LinkId(1), SyncKind::Diff);
        q.sync_started(&m, LinkId(2), SyncKind::Diff);
        q.sync_started(&m, LinkId(3), SyncKind::Snap);
        q.ack_received(&m, LinkId(1), Zxid::new(2, 0), None, 0);
        q.link_closed(LinkId(2));
        q.ack_received(&m, LinkId(2), Zxid::new(2, 0), None, 0);
        q.ack_received(&m, LinkId(3), Zxid::new(2, 0), None, 0);
        let diff = m.summary(Summary::InflightDiffCount);
        // Started: 1, 2; the first ended: 1 left; the second closed unrecorded.
        assert_eq!((diff.count, diff.sum, diff.max), (3, 4, 2));
        let snap = m.summary(Summary::InflightSnapCount);
        assert_eq!((snap.count, snap.sum), (2, 1));
    }
}
