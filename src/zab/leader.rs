//! Leading: discovery, synchronization and broadcast (`Leader`,
//! `LearnerHandler`), one learner link at a time.
//!
//! Phases, each bounded by `initLimit` ticks until established:
//! 1. *Discovery*: collect FOLLOWERINFO from a quorum (ourselves included),
//!    pick `max(acceptedEpoch) + 1`, send LEADERINFO, wait for a quorum of
//!    ACKEPOCH. A learner whose (currentEpoch, lastZxid) is ahead of ours
//!    is refused during discovery: it should have won the election. One
//!    that arrives later (an old leader) is synchronized, TRUNC included.
//! 2. *Synchronization*: bring each learner to our history with DIFF,
//!    TRUNC+DIFF or SNAP (`LearnerHandler.syncFollower`), then NEWLEADER;
//!    a quorum of ACKs of NEWLEADER — our own counted once our log is
//!    durable — commits our whole history and establishes the epoch.
//! 3. *Broadcast*: PROPOSAL to followers, COMMIT once a quorum (us
//!    included, after our fsync) has ACKed it and everything before it,
//!    INFORM to observers. A learner joining later goes through the same
//!    handshake and receives the outstanding proposals.
//!
//! Losing a quorum of live followers for `syncLimit` ticks ends the reign.

use std::collections::{BTreeMap, BTreeSet};

use super::peer::{LinkId, Next, Output, ProposeError, Shared, SyncTarget};
use super::types::{Entry, LearnerKind, Packet, ServerState, Sid, Zxid, PROTOCOL_VERSION};

/// Where a learner's handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connected; waiting for FOLLOWERINFO/OBSERVERINFO.
    Hello,
    /// Told us its accepted epoch; the new epoch is not decided yet.
    AwaitEpoch,
    /// LEADERINFO sent.
    AwaitAckEpoch,
    /// ACKEPOCH received; waiting for a quorum of them before syncing.
    AwaitEpochQuorum(Zxid),
    /// Sync packets and NEWLEADER sent.
    AwaitNewLeaderAck,
    /// NEWLEADER acknowledged; UPTODATE goes out once we are established.
    AwaitStart,
    /// UPTODATE sent: a full member of the broadcast.
    Active,
}

#[derive(Debug)]
struct Handler {
    sid: Sid,
    kind: LearnerKind,
    stage: Stage,
    last_heard: u64,
    /// Receives broadcasts (ZooKeeper's `startForwarding`).
    forwarding: bool,
    /// The learner's log holds our history up to here once it has
    /// acknowledged NEWLEADER (it ACKs that only after its fsync), and
    /// then each proposal it ACKs: who may succeed us (`successor`).
    through: Zxid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Discovery,
    Synchronization,
    Broadcast,
}

#[derive(Debug)]
struct Proposal {
    entry: Entry,
    acks: BTreeSet<Sid>,
}

/// A leader's state.
#[derive(Debug)]
pub struct Leader {
    phase: Phase,
    /// Ends the current phase if it has not completed (initLimit).
    phase_deadline: u64,
    /// The epoch being established, once decided.
    epoch: Option<u32>,
    /// Candidate epoch: max(accepted epochs seen) + 1.
    proposed_epoch: u32,
    connecting: BTreeSet<Sid>,
    epoch_acks: BTreeSet<Sid>,
    newleader_acks: BTreeSet<Sid>,
    /// (currentEpoch, last zxid) when we started leading.
    summary: (u32, Zxid),
    handlers: BTreeMap<LinkId, Handler>,
    outstanding: BTreeMap<Zxid, Proposal>,
    last_proposed: Zxid,
    pending_syncs: BTreeMap<Zxid, Vec<SyncTarget>>,
    next_ping: u64,
}

impl Leader {
    /// `Leader.lead`, up to waiting for followers.
    pub(super) fn start(s: &mut Shared, now: u64) -> Leader {
        debug_assert_eq!(
            s.log.applied(),
            s.log.logged(),
            "looking servers are fast-forwarded"
        );
        let me = s.cfg.me;
        Leader {
            phase: Phase::Discovery,
            phase_deadline: now + s.cfg.init_limit * s.cfg.tick_ms,
            epoch: None,
            proposed_epoch: s.accepted_epoch + 1,
            connecting: [me].into(),
            epoch_acks: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            summary: (s.current_epoch, s.log.logged()),
            handlers: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            last_proposed: s.log.logged(),
            pending_syncs: BTreeMap::new(),
            next_ping: now,
        }
    }

    pub(super) fn is_established(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    pub(super) fn last_proposed(&self) -> Zxid {
        self.last_proposed
    }

    /// Followers (not observers) receiving the broadcast.
    pub(super) fn synced_followers(&self) -> usize {
        self.handlers
            .values()
            .filter(|h| h.forwarding && h.kind == LearnerKind::Follower)
            .count()
    }

    /// Observers receiving the broadcast (the AdminServer's `observers`).
    pub(super) fn synced_observers(&self) -> Vec<Sid> {
        self.handlers
            .values()
            .filter(|h| h.forwarding && h.kind == LearnerKind::Observer)
            .map(|h| h.sid)
            .collect()
    }

    /// Synced followers: NEWLEADER acknowledged, so `through` is on disk.
    fn synced(&self) -> impl Iterator<Item = &Handler> {
        self.handlers.values().filter(|h| {
            h.kind == LearnerKind::Follower && matches!(h.stage, Stage::AwaitStart | Stage::Active)
        })
    }

    /// Every proposal committed and every synced follower up to date.
    pub(super) fn quiescent(&self) -> bool {
        self.outstanding.is_empty() && self.synced().all(|h| h.through >= self.last_proposed)
    }

    /// The follower to vote for when stepping down: one whose log holds
    /// everything we proposed (so it is as good a leader as we are; our
    /// epoch is its current epoch), the highest id among them (FLE's
    /// tie-break, so the others would pick it too). None if no follower is
    /// that far, or the epoch was never established.
    pub(super) fn successor(&self) -> Option<Sid> {
        if self.phase != Phase::Broadcast {
            return None;
        }
        self.synced()
            .filter(|h| h.through >= self.last_proposed)
            .map(|h| h.sid)
            .max()
    }

    pub(super) fn has_link(&self, link: LinkId) -> bool {
        self.handlers.contains_key(&link)
    }

    pub(super) fn deadline(&self) -> u64 {
        match self.phase {
            Phase::Broadcast => self.next_ping,
            _ => self.phase_deadline.min(self.next_ping),
        }
    }

    pub(super) fn accepted(&mut self, _s: &mut Shared, now: u64, link: LinkId) {
        self.handlers.insert(
            link,
            Handler {
                sid: 0,
                kind: LearnerKind::Follower,
                stage: Stage::Hello,
                last_heard: now,
                forwarding: false,
                through: Zxid::ZERO,
            },
        );
    }

    pub(super) fn close_all(self, s: &mut Shared) {
        for link in self.handlers.keys() {
            s.out.push(Output::Close { link: *link });
        }
    }

    fn drop_link(&mut self, s: &mut Shared, link: LinkId) {
        if self.forget(link) {
            s.out.push(Output::Close { link });
        }
    }

    pub(super) fn link_closed(&mut self, _s: &mut Shared, _now: u64, link: LinkId) -> Next {
        self.forget(link);
        Next::Stay
    }

    /// Removes a learner and withdraws its ACKs of outstanding proposals:
    /// when it reconnects, the sync may TRUNC exactly those entries (they
    /// are beyond our last commit) and it will log and ACK them again. An
    /// ACK kept from the old connection would count a copy that no longer
    /// exists (the simulation found this).
    fn forget(&mut self, link: LinkId) -> bool {
        let Some(h) = self.handlers.remove(&link) else {
            return false;
        };
        if h.stage != Stage::Hello {
            for p in self.outstanding.values_mut() {
                p.acks.remove(&h.sid);
            }
        }
        true
    }

    /// Our own votes in the quorums, counted only once our log is on disk.
    fn with_me(&self, s: &Shared, set: &BTreeSet<Sid>) -> bool {
        s.cfg.ensemble.is_quorum_with(set, Some(s.cfg.me))
    }

    /// Advances phases whose quorum is complete; called after any change.
    pub(super) fn check_progress(&mut self, s: &mut Shared, now: u64) -> Next {
        if self.epoch.is_none() && s.cfg.ensemble.is_quorum(&self.connecting) {
            let epoch = self.proposed_epoch;
            self.epoch = Some(epoch);
            s.set_accepted_epoch(epoch);
            self.last_proposed = Zxid::new(epoch, 0);
            self.phase_deadline = now + s.cfg.init_limit * s.cfg.tick_ms;
            let waiting: Vec<LinkId> = self
                .handlers
                .iter()
                .filter(|(_, h)| h.stage == Stage::AwaitEpoch)
                .map(|(l, _)| *l)
                .collect();
            for link in waiting {
                self.send_leader_info(s, link);
            }
        }
        let Some(epoch) = self.epoch else {
            return Next::Stay;
        };
        if self.phase == Phase::Discovery && self.with_me(s, &self.epoch_acks) {
            self.phase = Phase::Synchronization;
            s.set_current_epoch(epoch);
            self.phase_deadline = now + s.cfg.init_limit * s.cfg.tick_ms;
            let waiting: Vec<(LinkId, Zxid)> = self
                .handlers
                .iter()
                .filter_map(|(l, h)| match h.stage {
                    Stage::AwaitEpochQuorum(z) => Some((*l, z)),
                    _ => None,
                })
                .collect();
            for (link, peer_zxid) in waiting {
                self.sync_learner(s, link, peer_zxid);
            }
        }
        if self.phase == Phase::Synchronization
            && s.log.all_durable()
            && self.with_me(s, &self.newleader_acks)
        {
            self.establish(s, epoch, now);
        }
        Next::Stay
    }

    fn establish(&mut self, s: &mut Shared, epoch: u32, now: u64) {
        self.phase = Phase::Broadcast;
        self.next_ping = now;
        s.vote.peer_epoch = epoch as i64;
        let through = s.log.applied();
        s.out.push(Output::Established { epoch, through });
        s.out.push(Output::Role {
            state: ServerState::Leading,
            epoch,
            leader: Some(s.cfg.me),
        });
        let waiting: Vec<LinkId> = self
            .handlers
            .iter()
            .filter(|(_, h)| h.stage == Stage::AwaitStart)
            .map(|(l, _)| *l)
            .collect();
        for link in waiting {
            self.up_to_date(s, link);
        }
    }

    fn up_to_date(&mut self, s: &mut Shared, link: LinkId) {
        if let Some(h) = self.handlers.get_mut(&link) {
            h.stage = Stage::Active;
            s.send(link, Packet::UpToDate);
        }
    }

    fn send_leader_info(&mut self, s: &mut Shared, link: LinkId) {
        let Some(epoch) = self.epoch else { return };
        if let Some(h) = self.handlers.get_mut(&link) {
            h.stage = Stage::AwaitAckEpoch;
            s.send(
                link,
                Packet::LeaderInfo {
                    new_epoch: epoch,
                    protocol_version: PROTOCOL_VERSION,
                },
            );
        }
    }

    pub(super) fn packet(
        &mut self,
        s: &mut Shared,
        now: u64,
        link: LinkId,
        packet: Packet,
    ) -> Next {
        let Some(h) = self.handlers.get_mut(&link) else {
            s.out.push(Output::Close { link });
            return Next::Stay;
        };
        h.last_heard = now;
        let (stage, sid, kind) = (h.stage, h.sid, h.kind);
        match (stage, packet) {
            (
                Stage::Hello,
                Packet::LearnerInfo {
                    kind,
                    accepted_epoch,
                    sid,
                    ..
                },
            ) => {
                self.hello(s, link, kind, accepted_epoch, sid);
            }
            (
                Stage::AwaitAckEpoch,
                Packet::AckEpoch {
                    last_zxid,
                    current_epoch,
                },
            ) => {
                if let Some(ce) = current_epoch {
                    // Only while the epoch is being decided (waitForEpochAck
                    // returns at once once the election is finished): later,
                    // a learner ahead of us is an old leader with proposals
                    // nobody committed, and syncing TRUNCates them.
                    if self.phase == Phase::Discovery && (ce, last_zxid) > self.summary {
                        s.warn(format!(
                            "follower {sid} is ahead of the leader: epoch {ce} zxid {last_zxid} > {:?}",
                            self.summary
                        ));
                        self.drop_link(s, link);
                        return Next::Stay;
                    }
                    if kind == LearnerKind::Follower && last_zxid.0 != -1 {
                        self.epoch_acks.insert(sid);
                    }
                }
                if self.phase == Phase::Discovery {
                    if let Some(h) = self.handlers.get_mut(&link) {
                        h.stage = Stage::AwaitEpochQuorum(last_zxid);
                    }
                } else {
                    self.sync_learner(s, link, last_zxid);
                }
            }
            (Stage::AwaitNewLeaderAck, Packet::Ack { zxid }) => {
                if Some(zxid) != self.epoch.map(|e| Zxid::new(e, 0)) {
                    s.warn(format!("learner {sid} acked NEWLEADER with {zxid}"));
                    self.drop_link(s, link);
                    return Next::Stay;
                }
                if kind == LearnerKind::Follower {
                    self.newleader_acks.insert(sid);
                }
                if self.phase == Phase::Broadcast {
                    self.up_to_date(s, link);
                } else if let Some(h) = self.handlers.get_mut(&link) {
                    h.stage = Stage::AwaitStart;
                }
            }
            (Stage::AwaitStart | Stage::Active, Packet::Ack { zxid }) => {
                if kind == LearnerKind::Follower {
                    self.ack(s, sid, zxid);
                }
            }
            (Stage::AwaitStart | Stage::Active, Packet::Ping { data, .. }) => {
                if !data.is_empty() {
                    s.out.push(Output::Touches { from: sid, data });
                }
            }
            (Stage::Active, Packet::Request { data, authinfo }) => {
                s.out.push(Output::LearnerRequest {
                    link,
                    from: sid,
                    data,
                    authinfo,
                });
            }
            (Stage::AwaitStart | Stage::Active, Packet::Revalidate { data }) => {
                s.out.push(Output::Revalidate {
                    link,
                    from: sid,
                    data,
                });
            }
            (stage, p) => {
                s.warn(format!(
                    "unexpected {} from learner {sid} in {stage:?}",
                    p.type_code()
                ));
                self.drop_link(s, link);
            }
        }
        self.check_progress(s, now)
    }

    fn hello(&mut self, s: &mut Shared, link: LinkId, kind: LearnerKind, accepted: u32, sid: Sid) {
        let ens = &s.cfg.ensemble;
        let expected = if ens.is_voter(sid) {
            LearnerKind::Follower
        } else {
            LearnerKind::Observer
        };
        if !ens.contains(sid) || sid == s.cfg.me || kind != expected {
            s.warn(format!(
                "learner {sid} ({kind:?}) is not a {expected:?} of this ensemble"
            ));
            self.drop_link(s, link);
            return;
        }
        // A reconnecting learner replaces its old handler.
        let old: Vec<LinkId> = self
            .handlers
            .iter()
            .filter(|(l, h)| **l != link && h.sid == sid && h.stage != Stage::Hello)
            .map(|(l, _)| *l)
            .collect();
        for l in old {
            self.drop_link(s, l);
        }
        let Some(h) = self.handlers.get_mut(&link) else {
            return;
        };
        h.sid = sid;
        h.kind = kind;
        h.stage = Stage::AwaitEpoch;
        if self.epoch.is_none() {
            if kind == LearnerKind::Follower {
                self.connecting.insert(sid);
            }
            self.proposed_epoch = self.proposed_epoch.max(accepted + 1);
        } else {
            self.send_leader_info(s, link);
        }
    }

    /// `LearnerHandler.syncFollower` + `startForwarding` + NEWLEADER.
    fn sync_learner(&mut self, s: &mut Shared, link: LinkId, peer: Zxid) {
        let Some(epoch) = self.epoch else { return };
        let committed = s.log.applied();
        let window: Vec<&Entry> = s.log.committed().collect();
        let min_c = window.first().map(|e| e.zxid).unwrap_or(committed);
        let max_c = committed;
        let new_epoch_zxid = peer.counter() == 0;
        let mut packets: Vec<Packet> = Vec::new();
        let mut current = peer;
        let mut snap = true;
        if peer == committed {
            packets.push(Packet::Diff { zxid: peer });
            snap = false;
        } else if peer > max_c && !new_epoch_zxid {
            packets.push(Packet::Trunc { zxid: max_c });
            current = max_c;
            snap = false;
        } else if min_c <= peer && peer <= max_c {
            // queueCommittedProposals
            let mut need_op = true;
            let mut prev: Option<Zxid> = None;
            let mut queued = peer;
            let mut ok = true;
            for e in &window {
                if e.zxid < peer {
                    prev = Some(e.zxid);
                    continue;
                }
                if need_op {
                    if e.zxid == peer {
                        packets.push(Packet::Diff { zxid: max_c });
                        need_op = false;
                        continue;
                    }
                    if new_epoch_zxid {
                        packets.push(Packet::Diff { zxid: max_c });
                        need_op = false;
                    } else if e.zxid.epoch() != peer.epoch() || prev.is_none() {
                        ok = false;
                        break;
                    } else {
                        packets.push(Packet::Trunc {
                            zxid: prev.unwrap_or(Zxid::ZERO),
                        });
                        need_op = false;
                    }
                }
                if e.zxid <= queued {
                    continue;
                }
                packets.push(Packet::Proposal {
                    zxid: e.zxid,
                    txn: e.txn.clone(),
                });
                packets.push(Packet::Commit { zxid: e.zxid });
                queued = e.zxid;
            }
            if need_op && new_epoch_zxid && ok {
                packets.push(Packet::Diff { zxid: max_c });
                need_op = false;
            }
            if ok && !need_op {
                snap = false;
                current = queued;
            } else {
                packets.clear();
            }
        }
        let Some(h) = self.handlers.get_mut(&link) else {
            return;
        };
        let txns = packets
            .iter()
            .filter(|p| matches!(p, Packet::Proposal { .. }))
            .count();
        let how = match (snap, packets.first()) {
            (true, _) => format!("SNAP at {committed}"),
            (false, Some(Packet::Trunc { zxid })) => format!("TRUNC to {zxid}, then {txns} txns"),
            (false, _) => format!("DIFF of {txns} txns"),
        };
        s.out
            .push(Output::Info(format!("learner {} at {peer}: {how}", h.sid)));
        if snap {
            current = committed;
            s.out.push(Output::SendSnapshot {
                link,
                zxid: committed,
            });
        }
        for p in packets {
            s.send(link, p);
        }
        // startForwarding: outstanding proposals to followers.
        if h.kind == LearnerKind::Follower {
            for (z, p) in &self.outstanding {
                if *z > current {
                    s.send(
                        link,
                        Packet::Proposal {
                            zxid: *z,
                            txn: p.entry.txn.clone(),
                        },
                    );
                }
            }
        }
        h.forwarding = true;
        // Everything before NEWLEADER in its stream: the sync and the
        // outstanding proposals, i.e. all we have proposed.
        h.through = self.last_proposed;
        h.stage = Stage::AwaitNewLeaderAck;
        s.send(
            link,
            Packet::NewLeader {
                zxid: Zxid::new(epoch, 0),
                config: s.cfg.config_text.clone(),
            },
        );
    }

    pub(super) fn propose(
        &mut self,
        s: &mut Shared,
        _now: u64,
        entry: Entry,
    ) -> Result<(), ProposeError> {
        let expected = self.last_proposed.next();
        if self.last_proposed.counter() == u32::MAX - 1 {
            return Err(ProposeError::Exhausted);
        }
        if entry.zxid != expected {
            return Err(ProposeError::OutOfOrder { expected });
        }
        self.last_proposed = entry.zxid;
        for (link, h) in &self.handlers {
            if h.forwarding && h.kind == LearnerKind::Follower {
                s.out.push(Output::Send {
                    link: *link,
                    packet: Packet::Proposal {
                        zxid: entry.zxid,
                        txn: entry.txn.clone(),
                    },
                });
            }
        }
        s.log.append(entry.clone());
        s.out.push(Output::Persist(entry.clone()));
        self.outstanding.insert(
            entry.zxid,
            Proposal {
                entry,
                acks: BTreeSet::new(),
            },
        );
        Ok(())
    }

    pub(super) fn sync(&mut self, s: &mut Shared, target: SyncTarget) {
        if self.outstanding.is_empty() {
            self.sync_done(s, target);
        } else {
            self.pending_syncs
                .entry(self.last_proposed)
                .or_default()
                .push(target);
        }
    }

    fn sync_done(&mut self, s: &mut Shared, target: SyncTarget) {
        match target {
            SyncTarget::Learner(link) => {
                if self.handlers.contains_key(&link) {
                    s.send(link, Packet::Sync);
                }
            }
            SyncTarget::Local(token) => s.out.push(Output::SyncDone { token: Some(token) }),
        }
    }

    fn ack(&mut self, s: &mut Shared, sid: Sid, zxid: Zxid) {
        if self.phase != Phase::Broadcast || zxid.counter() == 0 {
            return;
        }
        if let Some(p) = self.outstanding.get_mut(&zxid) {
            p.acks.insert(sid);
        }
        for h in self.handlers.values_mut().filter(|h| h.sid == sid) {
            h.through = h.through.max(zxid);
        }
        self.try_commit(s);
    }

    pub(super) fn persisted(&mut self, s: &mut Shared, now: u64) -> Next {
        if self.phase == Phase::Broadcast {
            self.try_commit(s);
            Next::Stay
        } else {
            self.check_progress(s, now)
        }
    }

    /// Commits proposals in order while the oldest has a quorum.
    fn try_commit(&mut self, s: &mut Shared) {
        let me = s.cfg.me;
        while let Some((&zxid, p)) = self.outstanding.iter().next() {
            let mine = (s.log.durable() >= zxid).then_some(me);
            if !s.cfg.ensemble.is_quorum_with(&p.acks, mine) {
                break;
            }
            let p = self.outstanding.remove(&zxid).expect("present");
            for (link, h) in &self.handlers {
                if !h.forwarding {
                    continue;
                }
                let packet = match h.kind {
                    LearnerKind::Follower => Packet::Commit { zxid },
                    LearnerKind::Observer => Packet::Inform {
                        zxid,
                        txn: p.entry.txn.clone(),
                    },
                };
                s.out.push(Output::Send {
                    link: *link,
                    packet,
                });
            }
            s.log.applied_to(zxid);
            s.out.push(Output::Deliver(p.entry));
            if let Some(targets) = self.pending_syncs.remove(&zxid) {
                for t in targets {
                    self.sync_done(s, t);
                }
            }
        }
    }

    pub(super) fn tick(&mut self, s: &mut Shared, now: u64) -> Next {
        if self.phase != Phase::Broadcast && now >= self.phase_deadline {
            s.warn(format!(
                "leader {} gave up: no quorum in {:?} within initLimit",
                s.cfg.me, self.phase
            ));
            return Next::Look;
        }
        if now < self.next_ping {
            return Next::Stay;
        }
        let tick = s.cfg.tick_ms;
        self.next_ping = now + (tick / 2).max(1);
        // Drop silent learners (socket timeouts in ZooKeeper).
        let silent: Vec<LinkId> = self
            .handlers
            .iter()
            .filter(|(_, h)| {
                let limit = if h.stage == Stage::Active {
                    s.cfg.sync_limit
                } else {
                    s.cfg.init_limit
                };
                now > h.last_heard + limit * tick
            })
            .map(|(l, _)| *l)
            .collect();
        for l in silent {
            self.drop_link(s, l);
        }
        if self.phase == Phase::Broadcast {
            let mut synced: BTreeSet<Sid> = BTreeSet::new();
            synced.insert(s.cfg.me);
            for h in self.handlers.values() {
                if h.forwarding && h.kind == LearnerKind::Follower {
                    synced.insert(h.sid);
                }
            }
            if !s.cfg.ensemble.is_quorum(&synced) {
                s.warn(format!(
                    "leader {} lost its quorum (synced with {synced:?})",
                    s.cfg.me
                ));
                return Next::Look;
            }
            let zxid = self.last_proposed;
            for (link, h) in &self.handlers {
                if h.forwarding {
                    s.out.push(Output::Send {
                        link: *link,
                        packet: Packet::Ping {
                            zxid,
                            data: Default::default(),
                        },
                    });
                }
            }
        }
        Next::Stay
    }
}
