//! Following and observing (`Learner`, `Follower`, `Observer`).
//!
//! Handshake: connect to the leader, FOLLOWERINFO (or OBSERVERINFO) with our
//! accepted epoch, LEADERINFO with the new epoch (accepted, and written,
//! before we answer ACKEPOCH with our current epoch and last zxid). Then
//! the sync: DIFF, TRUNC or SNAP, proposals and commits, NEWLEADER.
//!
//! Two orderings here are stricter than ZooKeeper 3.8 on purpose: the
//! entries received during sync are fsync'd *before* `currentEpoch` is
//! written and NEWLEADER is acknowledged (3.8 acknowledges first and can
//! lose committed entries when a follower crashes right after:
//! ZOOKEEPER-4643/4646), and a follower acknowledges a proposal only
//! after its fsync, as ZooKeeper does.

use std::collections::VecDeque;

use bytes::Bytes;

use super::peer::{LinkId, Next, Output, Shared};
use super::types::{Entry, LearnerKind, Packet, ServerState, Sid, Zxid, PROTOCOL_VERSION};

/// How long to wait between connection attempts to the leader
/// (`zookeeper.leaderConnectDelayDuringRetryMs`, 100 ms in ZooKeeper 3.8):
/// the new leader usually opens its quorum port a moment after the
/// election, and a full second here made fail-over take ~1.2 s instead of
/// ~0.4 s (measured by the ensemble benchmark).
fn retry_ms(tick_ms: u64) -> u64 {
    tick_ms.min(100)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Diff,
    Trunc,
    Snap,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Waiting for the connection (or to retry at `retry_at`).
    Connecting { retry_at: Option<u64> },
    /// FOLLOWERINFO sent.
    AwaitLeaderInfo,
    /// ACKEPOCH sent; waiting for DIFF/TRUNC/SNAP.
    AwaitSyncMode,
    /// Receiving the sync stream until NEWLEADER.
    Syncing(Mode),
    /// NEWLEADER received; acknowledging once our log is durable up to
    /// `through`.
    AwaitDurable { newleader: Zxid, through: Zxid },
    /// NEWLEADER acknowledged; waiting for UPTODATE.
    AwaitUpToDate,
    /// Serving.
    Broadcast,
}

/// A follower's or observer's state.
#[derive(Debug)]
pub struct Learner {
    leader: Sid,
    kind: LearnerKind,
    link: Option<LinkId>,
    phase: Phase,
    new_epoch: u32,
    /// Give up connecting/syncing at this time (initLimit).
    give_up_at: u64,
    last_heard: u64,
    /// Entries received during sync, logged at NEWLEADER.
    sync_entries: Vec<Entry>,
    /// Logged proposals not yet committed, in zxid order.
    pending: VecDeque<Entry>,
    /// Highest zxid committed by the leader that we hold in `pending`.
    committed: Option<Zxid>,
    /// Highest zxid we have acknowledged.
    acked: Zxid,
    /// An installed SNAP image not yet written to disk.
    unsaved_snapshot: bool,
}

impl Learner {
    pub(super) fn start(s: &mut Shared, leader: Sid, kind: LearnerKind, now: u64) -> Learner {
        s.out.push(Output::Connect { to: leader });
        Learner {
            leader,
            kind,
            link: None,
            phase: Phase::Connecting { retry_at: None },
            new_epoch: 0,
            give_up_at: now + s.cfg.init_limit * s.cfg.tick_ms,
            last_heard: now,
            sync_entries: Vec::new(),
            pending: VecDeque::new(),
            committed: None,
            acked: Zxid::ZERO,
            unsaved_snapshot: false,
        }
    }

    pub(super) fn kind(&self) -> LearnerKind {
        self.kind
    }

    pub(super) fn leader(&self) -> Sid {
        self.leader
    }

    pub(super) fn is_up_to_date(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    pub(super) fn has_link(&self) -> bool {
        self.link.is_some()
    }

    pub(super) fn deadline(&self, s: &Shared) -> u64 {
        match self.phase {
            Phase::Connecting { retry_at: Some(t) } => t.min(self.give_up_at),
            Phase::AwaitUpToDate | Phase::Broadcast => {
                self.last_heard + s.cfg.sync_limit * s.cfg.tick_ms + 1
            }
            _ => self.give_up_at,
        }
    }

    pub(super) fn close(self, s: &mut Shared) {
        if let Some(link) = self.link {
            s.out.push(Output::Close { link });
        }
    }

    /// How the role ends: reload if the tree holds an image the disk has not.
    pub(super) fn leave(&self) -> Next {
        if self.unsaved_snapshot {
            Next::Reload
        } else {
            Next::Look
        }
    }

    pub(super) fn send_to_leader(&mut self, s: &mut Shared, packet: Packet) {
        if let Some(link) = self.link {
            s.send(link, packet);
        }
    }

    pub(super) fn answer_ping(&mut self, s: &mut Shared, data: Bytes) {
        if self.phase == Phase::Broadcast {
            let zxid = s.log.logged();
            self.send_to_leader(s, Packet::Ping { zxid, data });
        }
    }

    pub(super) fn connected(&mut self, s: &mut Shared, now: u64, link: LinkId) -> Next {
        if !matches!(self.phase, Phase::Connecting { .. }) || self.link.is_some() {
            s.out.push(Output::Close { link });
            return Next::Stay;
        }
        self.link = Some(link);
        self.last_heard = now;
        self.phase = Phase::AwaitLeaderInfo;
        s.send(
            link,
            Packet::LearnerInfo {
                kind: self.kind,
                accepted_epoch: s.accepted_epoch,
                sid: s.cfg.me,
                protocol_version: PROTOCOL_VERSION,
                config_version: 0,
            },
        );
        Next::Stay
    }

    pub(super) fn connect_failed(&mut self, s: &Shared, now: u64) -> Next {
        if now >= self.give_up_at {
            return self.leave();
        }
        self.phase = Phase::Connecting {
            retry_at: Some(now + retry_ms(s.cfg.tick_ms)),
        };
        Next::Stay
    }

    pub(super) fn link_closed(&mut self, s: &mut Shared, _now: u64, link: LinkId) -> Next {
        if self.link == Some(link) {
            self.link = None;
            s.warn(format!(
                "server {} lost its connection to leader {}",
                s.cfg.me, self.leader
            ));
            return self.leave();
        }
        Next::Stay
    }

    pub(super) fn tick(&mut self, s: &mut Shared, now: u64) -> Next {
        match self.phase {
            Phase::Connecting { retry_at: Some(t) } if now >= t && now < self.give_up_at => {
                self.phase = Phase::Connecting { retry_at: None };
                s.out.push(Output::Connect { to: self.leader });
                Next::Stay
            }
            Phase::AwaitUpToDate | Phase::Broadcast => {
                if now > self.last_heard + s.cfg.sync_limit * s.cfg.tick_ms {
                    s.warn(format!(
                        "server {}: leader {} silent for syncLimit",
                        s.cfg.me, self.leader
                    ));
                    self.leave()
                } else {
                    Next::Stay
                }
            }
            _ if now >= self.give_up_at => {
                s.warn(format!(
                    "server {}: no sync with leader {} within initLimit",
                    s.cfg.me, self.leader
                ));
                self.leave()
            }
            _ => Next::Stay,
        }
    }

    pub(super) fn persisted(&mut self, s: &mut Shared, _now: u64) -> Next {
        self.after_durable(s);
        Next::Stay
    }

    fn protocol_error(&mut self, s: &mut Shared, what: String) -> Next {
        s.warn(format!(
            "server {}: leader {} broke the protocol: {what}",
            s.cfg.me, self.leader
        ));
        self.leave()
    }

    pub(super) fn packet(
        &mut self,
        s: &mut Shared,
        now: u64,
        link: LinkId,
        packet: Packet,
    ) -> Next {
        if self.link != Some(link) {
            s.out.push(Output::Close { link });
            return Next::Stay;
        }
        self.last_heard = now;
        let phase = self.phase.clone();
        match (phase, packet) {
            (Phase::AwaitLeaderInfo, Packet::LeaderInfo { new_epoch, .. }) => {
                let current = if new_epoch > s.accepted_epoch {
                    let current = s.current_epoch;
                    s.set_accepted_epoch(new_epoch);
                    Some(current)
                } else if new_epoch == s.accepted_epoch {
                    None
                } else {
                    let accepted = s.accepted_epoch;
                    return self.protocol_error(
                        s,
                        format!("epoch {new_epoch} is less than accepted epoch {accepted}"),
                    );
                };
                self.new_epoch = new_epoch;
                self.phase = Phase::AwaitSyncMode;
                s.send(
                    link,
                    Packet::AckEpoch {
                        last_zxid: s.log.logged(),
                        current_epoch: current,
                    },
                );
            }
            (Phase::AwaitSyncMode, Packet::Diff { .. }) => self.phase = Phase::Syncing(Mode::Diff),
            (Phase::AwaitSyncMode, Packet::Trunc { zxid }) => {
                if zxid > s.log.logged() {
                    // The leader believes we hold history we do not: cutting
                    // the log there is impossible (ZooKeeper exits on it).
                    // Input from a peer: refuse it and look again.
                    return self.protocol_error(
                        s,
                        format!("TRUNC to {zxid}, beyond our log's end {}", s.log.logged()),
                    );
                }
                s.out.push(Output::Truncate(zxid));
                s.log.truncate(zxid);
                self.phase = Phase::Syncing(Mode::Trunc);
            }
            (Phase::AwaitSyncMode, Packet::Snap { zxid, image }) => {
                s.out.push(Output::InstallSnapshot { zxid, image });
                s.log.reset(zxid);
                self.unsaved_snapshot = true;
                self.phase = Phase::Syncing(Mode::Snap);
            }
            (Phase::Syncing(_), Packet::Proposal { zxid, txn }) => {
                self.sync_entries.push(Entry { zxid, txn });
            }
            // An Apache leader registers an observer before it queues
            // NEWLEADER, so an INFORM may arrive first: it is a committed
            // entry of the sync (Learner.syncWithLeader, case INFORM).
            (Phase::Syncing(_), Packet::Inform { zxid, txn }) if s.is_observer() => {
                self.sync_entries.push(Entry { zxid, txn });
                self.committed = Some(zxid);
            }
            (Phase::Syncing(_), Packet::Commit { zxid }) => {
                // A DIFF commits each proposal right after sending it.
                if !self.sync_entries.iter().rev().any(|e| e.zxid == zxid) {
                    return self.protocol_error(s, format!("commit of {zxid} never proposed"));
                }
                self.committed = Some(zxid);
            }
            (Phase::Syncing(mode), Packet::NewLeader { zxid, .. }) => {
                if zxid.epoch() != self.new_epoch {
                    return self.protocol_error(
                        s,
                        format!("NEWLEADER {zxid} is not of epoch {}", self.new_epoch),
                    );
                }
                if mode == Mode::Snap {
                    s.out.push(Output::SaveSnapshot {
                        zxid: s.log.applied(),
                    });
                    self.unsaved_snapshot = false;
                }
                for e in std::mem::take(&mut self.sync_entries) {
                    if e.zxid <= s.log.logged() {
                        return self.protocol_error(
                            s,
                            format!("sync entry {} not after {}", e.zxid, s.log.logged()),
                        );
                    }
                    s.log.append(e.clone());
                    s.out.push(Output::Persist(e.clone()));
                    self.pending.push_back(e);
                }
                self.phase = Phase::AwaitDurable {
                    newleader: zxid,
                    through: s.log.logged(),
                };
                self.after_durable(s);
            }
            (
                Phase::AwaitDurable { .. } | Phase::AwaitUpToDate | Phase::Broadcast,
                Packet::Proposal { zxid, txn },
            ) if self.kind == LearnerKind::Follower => {
                if zxid <= s.log.logged() {
                    return self.protocol_error(
                        s,
                        format!("proposal {zxid} not after {}", s.log.logged()),
                    );
                }
                let e = Entry { zxid, txn };
                s.log.append(e.clone());
                s.out.push(Output::Persist(e.clone()));
                self.pending.push_back(e);
            }
            (Phase::AwaitDurable { .. } | Phase::AwaitUpToDate, Packet::Commit { zxid }) => {
                // `pending` is in zxid order (appends are checked).
                if self
                    .pending
                    .binary_search_by_key(&zxid, |e| e.zxid)
                    .is_err()
                {
                    return self.protocol_error(s, format!("commit of {zxid} never proposed"));
                }
                self.committed = Some(zxid);
            }
            (Phase::AwaitUpToDate, Packet::UpToDate) => {
                self.deliver_committed(s);
                self.phase = Phase::Broadcast;
                s.vote.peer_epoch = self.new_epoch as i64;
                s.send(
                    link,
                    Packet::Ack {
                        zxid: Zxid::new(self.new_epoch, 0),
                    },
                );
                let state = match self.kind {
                    LearnerKind::Follower => ServerState::Following,
                    LearnerKind::Observer => ServerState::Observing,
                };
                s.out.push(Output::Role {
                    state,
                    epoch: self.new_epoch,
                    leader: Some(self.leader),
                });
            }
            (Phase::Broadcast, Packet::Commit { zxid }) if self.kind == LearnerKind::Follower => {
                match self.pending.front() {
                    Some(e) if e.zxid == zxid => {
                        let e = self.pending.pop_front().expect("front");
                        s.log.applied_to(zxid);
                        s.out.push(Output::Deliver(e));
                    }
                    other => {
                        let next = other.map(|e| e.zxid);
                        return self.protocol_error(
                            s,
                            format!("commit of {zxid} but next pending is {next:?}"),
                        );
                    }
                }
            }
            (
                Phase::AwaitDurable { .. } | Phase::AwaitUpToDate | Phase::Broadcast,
                Packet::Inform { zxid, txn },
            ) if self.kind == LearnerKind::Observer => {
                if zxid <= s.log.logged() {
                    return self
                        .protocol_error(s, format!("inform {zxid} not after {}", s.log.logged()));
                }
                let e = Entry { zxid, txn };
                s.log.append(e.clone());
                s.out.push(Output::Persist(e.clone()));
                if self.phase == Phase::Broadcast {
                    s.log.applied_to(zxid);
                    s.out.push(Output::Deliver(e));
                } else {
                    self.pending.push_back(e);
                    self.committed = Some(zxid);
                }
            }
            (Phase::Broadcast, Packet::Ping { .. }) => s.out.push(Output::PingFromLeader),
            (Phase::Broadcast, Packet::Sync) => s.out.push(Output::SyncDone { token: None }),
            (Phase::AwaitUpToDate | Phase::Broadcast, Packet::Revalidate { data }) => {
                s.out.push(Output::RevalidateReply { data });
            }
            // ZooKeeper's sync loop ignores pings before UPTODATE.
            (_, Packet::Ping { .. }) => {}
            (phase, p) => {
                return self.protocol_error(
                    s,
                    format!("unexpected packet type {} in {phase:?}", p.type_code()),
                );
            }
        }
        Next::Stay
    }

    /// Delivers pending entries up to the last commit seen (at UPTODATE).
    fn deliver_committed(&mut self, s: &mut Shared) {
        let Some(upto) = self.committed.take() else {
            return;
        };
        while let Some(e) = self.pending.front() {
            if e.zxid > upto {
                break;
            }
            let e = self.pending.pop_front().expect("front");
            s.log.applied_to(e.zxid);
            s.out.push(Output::Deliver(e));
        }
    }

    /// Sends what waited for the disk: the NEWLEADER ack (after writing
    /// `currentEpoch`), then ACKs of durable proposals.
    fn after_durable(&mut self, s: &mut Shared) {
        let Some(link) = self.link else { return };
        if let Phase::AwaitDurable { newleader, through } = self.phase {
            if s.log.durable() < through {
                return;
            }
            s.set_current_epoch(self.new_epoch);
            s.send(link, Packet::Ack { zxid: newleader });
            self.phase = Phase::AwaitUpToDate;
        }
        if self.kind != LearnerKind::Follower
            || !matches!(self.phase, Phase::AwaitUpToDate | Phase::Broadcast)
        {
            return;
        }
        let durable = s.log.durable();
        let acked = self.acked;
        for e in self
            .pending
            .iter()
            // In zxid order: skip what was acknowledged, stop at the disk.
            .skip_while(|e| e.zxid <= acked)
            .take_while(|e| e.zxid <= durable)
        {
            s.out.push(Output::Send {
                link,
                packet: Packet::Ack { zxid: e.zxid },
            });
            self.acked = e.zxid;
        }
    }
}
