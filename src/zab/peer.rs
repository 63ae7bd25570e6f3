//! One ensemble member's Zab state machine: inputs in, [`Output`]s out.
//!
//! No sockets, clock or disk: the driver (or the simulation) passes the
//! time with every call, performs the outputs in order, and reports back
//! what the outside world did (a packet arrived, a link closed, the disk
//! synced). Outputs marked *synchronous* must be complete before the
//! driver performs the next output; everything else may be queued.
//!
//! Roles follow `QuorumPeer.run`: LOOKING runs [`election`](super::election);
//! the winner leads ([`leader`](super::leader)), the others follow or
//! observe ([`learner`](super::learner)); any failure goes back to LOOKING.

use std::collections::VecDeque;

use bytes::Bytes;

use super::election::{Candidate, Election, ElectionTiming, Step, Vote, NO_VOTE};
use super::history::History;
use super::leader::Leader;
use super::learner::Learner;
use super::quorum::Ensemble;
use super::types::{Entry, LearnerKind, Notification, Packet, ServerState, Sid, Zxid};

/// A quorum-port connection, named by the driver. Packets from a link the
/// state machine no longer uses are ignored, so a late packet on an old
/// connection can never be mistaken for one on the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u64);

/// Static settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our id.
    pub me: Sid,
    /// The members.
    pub ensemble: Ensemble,
    /// `tickTime` in ms.
    pub tick_ms: u64,
    /// `initLimit` in ticks: discovery and synchronization.
    pub init_limit: u64,
    /// `syncLimit` in ticks: how long a silent peer stays trusted.
    pub sync_limit: u64,
    /// Election timers.
    pub election: ElectionTiming,
    /// How many applied entries a leader keeps for DIFFs
    /// (`zookeeper.commitLogCount`, 500).
    pub commit_log_count: usize,
    /// The quorum configuration text sent in notifications and NEWLEADER.
    pub config_text: Bytes,
}

/// What the disk held at start-up.
#[derive(Debug, Clone, Default)]
pub struct DurableState {
    /// `acceptedEpoch` file.
    pub accepted_epoch: u32,
    /// `currentEpoch` file.
    pub current_epoch: u32,
    /// Last zxid in the log (or the snapshot when the log is empty).
    pub last_zxid: Zxid,
    /// The newest entries of the log, oldest first, ending at `last_zxid`.
    pub recent: Vec<Entry>,
}

/// Whom a sync answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncTarget {
    /// A learner's forwarded sync: answer with a SYNC packet.
    Learner(LinkId),
    /// The leader's own client; the token comes back in [`Output::SyncDone`].
    Local(u64),
}

/// Something for the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send an election notification.
    Notify {
        /// Recipient.
        to: Sid,
        /// The notification.
        n: Notification,
    },
    /// Open a quorum connection to the leader; answer with
    /// [`Peer::connected`] or [`Peer::connect_failed`].
    Connect {
        /// The leader.
        to: Sid,
    },
    /// Send a packet on a quorum link (FIFO per link).
    Send {
        /// The link.
        link: LinkId,
        /// The packet.
        packet: Packet,
    },
    /// Send a SNAP of the tree as it is now (everything delivered so far
    /// applied, nothing more) on this link.
    SendSnapshot {
        /// The link.
        link: LinkId,
        /// The zxid the image must reflect (checks the driver's state).
        zxid: Zxid,
    },
    /// Close a quorum link.
    Close {
        /// The link.
        link: LinkId,
    },
    /// Append an entry to the log; report with [`Peer::persisted`] once
    /// it is fsync'd.
    Persist(Entry),
    /// *Synchronous.* Cut the log after `zxid` and rebuild the tree from
    /// disk so that it reflects exactly that prefix.
    Truncate(Zxid),
    /// Replace the tree with a leader's image (not yet durable).
    InstallSnapshot {
        /// Image zxid.
        zxid: Zxid,
        /// The image.
        image: Bytes,
    },
    /// *Synchronous.* Write a snapshot of the tree (at `zxid`) to disk.
    SaveSnapshot {
        /// The tree's zxid.
        zxid: Zxid,
    },
    /// *Synchronous.* Rebuild the tree from disk, then call [`Peer::reload`].
    Reload,
    /// *Synchronous.* Write the `acceptedEpoch` file.
    SetAcceptedEpoch(u32),
    /// *Synchronous.* Write the `currentEpoch` file.
    SetCurrentEpoch(u32),
    /// Apply a committed transaction.
    Deliver(Entry),
    /// Apply every logged entry not applied yet (they may be uncommitted:
    /// ZooKeeper's `fastForwardDataBase`), up to `through`.
    FastForward {
        /// Last logged zxid.
        through: Zxid,
    },
    /// Our role changed.
    Role {
        /// The new state.
        state: ServerState,
        /// The epoch (for LEADING/FOLLOWING/OBSERVING once serving).
        epoch: u32,
        /// The leader, when known.
        leader: Option<Sid>,
    },
    /// The leader has a quorum: every entry up to `through` is committed
    /// and proposals may start at `Zxid::new(epoch, 1)`.
    Established {
        /// The new epoch.
        epoch: u32,
        /// Last entry of the adopted history.
        through: Zxid,
    },
    /// Learner side: the leader pinged; answer with [`Peer::learner_ping`].
    PingFromLeader,
    /// Leader side: a learner's session touches (PING data).
    Touches {
        /// The learner.
        from: Sid,
        /// (sessionId, timeout)* as ZooKeeper encodes them.
        data: Bytes,
    },
    /// Leader side: a write forwarded by a learner.
    LearnerRequest {
        /// The learner's link (for replies such as revalidation).
        link: LinkId,
        /// The learner.
        from: Sid,
        /// The serialized request.
        data: Bytes,
        /// Its auth ids.
        authinfo: Vec<crate::proto::records::data::Id>,
    },
    /// Leader side: a learner asks whether a session is valid; answer with
    /// [`Peer::reply_revalidate`].
    Revalidate {
        /// The learner's link.
        link: LinkId,
        /// The learner.
        from: Sid,
        /// sessionId + timeout.
        data: Bytes,
    },
    /// Learner side: the leader's answer to a REVALIDATE.
    RevalidateReply {
        /// sessionId + valid.
        data: Bytes,
    },
    /// A sync completed: for a learner the oldest pending one, for the
    /// leader the one with this token.
    SyncDone {
        /// Leader-local token; `None` on a learner.
        token: Option<u64>,
    },
    /// Something an operator should see in the log: a peer broke the
    /// protocol, a leader gave up; the state machine has already recovered
    /// (by dropping the link or going back to LOOKING).
    Warn(String),
    /// A protocol event worth an info line (how a learner was synced).
    Info(String),
    /// [`Peer::step_down`] is done: this member has left the ensemble
    /// (its links are closed; the quorum port must be unbound). A leader
    /// names the follower it voted for as its successor.
    Left {
        /// The follower the departing leader voted for, if any was
        /// eligible.
        successor: Option<Sid>,
    },
}

/// Why a write could not be proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposeError {
    /// Not an established leader.
    NotLeader,
    /// The zxid is not the next one.
    OutOfOrder {
        /// What was expected.
        expected: Zxid,
    },
    /// The counter would overflow; a new election (and epoch) is forced.
    Exhausted,
}

pub(super) enum Role {
    Looking(Election),
    Leading(Box<Leader>),
    Learning(Box<Learner>),
    /// Waiting for [`Peer::reload`] after an [`Output::Reload`].
    Reloading,
    /// Left the ensemble ([`Peer::step_down`]): every input is ignored.
    Stopped,
}

/// State shared by every role.
pub(super) struct Shared {
    pub cfg: Config,
    pub accepted_epoch: u32,
    pub current_epoch: u32,
    pub log: History,
    pub out: Vec<Output>,
    /// Our current vote, reported to servers that are looking.
    pub vote: Vote,
    /// FLE's logical clock.
    pub round: i64,
}

impl Shared {
    pub fn send(&mut self, link: LinkId, packet: Packet) {
        self.out.push(Output::Send { link, packet });
    }

    pub fn warn(&mut self, what: String) {
        self.out.push(Output::Warn(what));
    }

    pub fn set_accepted_epoch(&mut self, e: u32) {
        self.accepted_epoch = e;
        self.out.push(Output::SetAcceptedEpoch(e));
    }

    pub fn set_current_epoch(&mut self, e: u32) {
        self.current_epoch = e;
        self.out.push(Output::SetCurrentEpoch(e));
    }

    pub fn is_observer(&self) -> bool {
        !self.cfg.ensemble.is_voter(self.cfg.me)
    }

    fn candidate(&self) -> Candidate {
        if self.is_observer() {
            Candidate {
                id: NO_VOTE,
                zxid: NO_VOTE,
                epoch: NO_VOTE,
            }
        } else {
            Candidate {
                id: self.cfg.me as i64,
                zxid: self.log.logged().0,
                epoch: self.current_epoch as i64,
            }
        }
    }

    fn state(role: &Role) -> ServerState {
        match role {
            Role::Looking(_) | Role::Reloading | Role::Stopped => ServerState::Looking,
            Role::Leading(_) => ServerState::Leading,
            Role::Learning(l) => match l.kind() {
                LearnerKind::Follower => ServerState::Following,
                LearnerKind::Observer => ServerState::Observing,
            },
        }
    }
}

/// What a role asks of the peer after handling an input.
pub(super) enum Next {
    Stay,
    /// Give up the role and elect again.
    Look,
    /// Give up the role; the tree must be rebuilt from disk first.
    Reload,
}

/// One member of an ensemble.
pub struct Peer {
    s: Shared,
    role: Role,
    /// Notifications addressed to ourselves, handled after the current input.
    loopback: VecDeque<Notification>,
}

impl Peer {
    /// A peer that has just started (or restarted) with what its disk
    /// holds; it begins by looking for a leader.
    pub fn new(cfg: Config, disk: DurableState, now: u64) -> Peer {
        let log = History::new(disk.last_zxid, disk.recent, cfg.commit_log_count);
        let me = cfg.me;
        let mut p = Peer {
            s: Shared {
                cfg,
                accepted_epoch: disk.accepted_epoch,
                current_epoch: disk.current_epoch,
                log,
                out: Vec::new(),
                vote: Vote {
                    leader: me,
                    zxid: disk.last_zxid,
                    round: 0,
                    peer_epoch: disk.current_epoch as i64,
                    state: ServerState::Looking,
                },
                round: 0,
            },
            role: Role::Reloading,
            loopback: VecDeque::new(),
        };
        p.look(now);
        p
    }

    /// Takes the outputs produced so far, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.s.out)
    }

    /// Our state as election notifications report it.
    pub fn state(&self) -> ServerState {
        Shared::state(&self.role)
    }

    /// Whether this server may serve clients: an established leader or a
    /// learner that received UPTODATE.
    pub fn is_serving(&self) -> bool {
        match &self.role {
            Role::Leading(l) => l.is_established(),
            Role::Learning(l) => l.is_up_to_date(),
            _ => false,
        }
    }

    /// On a leader, how many followers receive the broadcast (`mntr`'s
    /// `zk_synced_followers`).
    pub fn synced_followers(&self) -> Option<usize> {
        match &self.role {
            Role::Leading(l) => Some(l.synced_followers()),
            _ => None,
        }
    }

    /// On a leader, the observers that receive the broadcast, by id (the
    /// AdminServer's `observers`).
    pub fn synced_observers(&self) -> Option<Vec<Sid>> {
        match &self.role {
            Role::Leading(l) => Some(l.synced_observers()),
            _ => None,
        }
    }

    /// The leader we follow or are, once known.
    pub fn leader(&self) -> Option<Sid> {
        match &self.role {
            Role::Leading(_) => Some(self.s.cfg.me),
            Role::Learning(l) => Some(l.leader()),
            _ => None,
        }
    }

    /// Our id.
    pub fn id(&self) -> Sid {
        self.s.cfg.me
    }

    /// `acceptedEpoch`.
    pub fn accepted_epoch(&self) -> u32 {
        self.s.accepted_epoch
    }

    /// `currentEpoch`.
    pub fn current_epoch(&self) -> u32 {
        self.s.current_epoch
    }

    /// Last logged zxid.
    pub fn last_logged(&self) -> Zxid {
        self.s.log.logged()
    }

    /// Last applied zxid.
    pub fn last_applied(&self) -> Zxid {
        self.s.log.applied()
    }

    /// The zxid the next proposal must carry, on an established leader.
    pub fn next_zxid(&self) -> Option<Zxid> {
        match &self.role {
            Role::Leading(l) if l.is_established() => Some(l.last_proposed().next()),
            _ => None,
        }
    }

    /// The earliest time [`Peer::tick`] has something to do.
    pub fn deadline(&self) -> u64 {
        match &self.role {
            Role::Looking(e) => e.deadline(),
            Role::Leading(l) => l.deadline(),
            Role::Learning(l) => l.deadline(&self.s),
            Role::Reloading | Role::Stopped => u64::MAX,
        }
    }

    // ----- inputs -----

    /// Timers.
    pub fn tick(&mut self, now: u64) {
        let next = match &mut self.role {
            Role::Looking(e) => {
                let mut steps = Vec::new();
                e.tick(
                    self.s.round,
                    &self.s.cfg.ensemble,
                    &self.s.cfg.config_text,
                    now,
                    &mut steps,
                );
                self.election_steps(steps, now);
                Next::Stay
            }
            Role::Leading(l) => l.tick(&mut self.s, now),
            Role::Learning(l) => l.tick(&mut self.s, now),
            Role::Reloading | Role::Stopped => Next::Stay,
        };
        self.follow(next, now);
    }

    /// An election notification from `from`.
    pub fn notification(&mut self, now: u64, from: Sid, n: Notification) {
        self.on_notification(now, from, n);
        self.drain_loopback(now);
    }

    fn on_notification(&mut self, now: u64, from: Sid, n: Notification) {
        let ens = &self.s.cfg.ensemble;
        if !ens.contains(from) || matches!(self.role, Role::Stopped) {
            return;
        }
        let state = self.state();
        // WorkerReceiver: a non-voter gets our current vote straight back.
        if !ens.is_voter(from) {
            let reply = self.current_notification(state);
            self.s.out.push(Output::Notify { to: from, n: reply });
            return;
        }
        match &mut self.role {
            Role::Looking(e) => {
                if n.state == ServerState::Looking && n.round < self.s.round {
                    let reply = Notification {
                        state: ServerState::Looking,
                        ..notification_of(&e.proposal(self.s.round), &self.s.cfg.config_text)
                    };
                    self.s.out.push(Output::Notify { to: from, n: reply });
                }
                if !ens.is_voter(n.leader) {
                    return;
                }
                let mut steps = Vec::new();
                e.receive(
                    from,
                    &n,
                    &mut self.s.round,
                    &self.s.cfg.ensemble,
                    &self.s.cfg.config_text,
                    now,
                    &mut steps,
                );
                self.election_steps(steps, now);
            }
            Role::Learning(l) if n.state == ServerState::Looking && l.leader() == from => {
                // Our leader is looking: it no longer leads (it stepped
                // down, or restarted before we saw its link close). Look
                // too, and take its notification as a vote of the new
                // round.
                let next = l.leave();
                self.s.out.push(Output::Info(format!(
                    "leader {from} is looking for a leader: following it no more"
                )));
                self.follow(next, now);
                if matches!(self.role, Role::Looking(_)) {
                    self.on_notification(now, from, n);
                }
            }
            _ => {
                if n.state == ServerState::Looking {
                    let reply = self.current_notification(state);
                    self.s.out.push(Output::Notify { to: from, n: reply });
                }
            }
        }
    }

    fn current_notification(&self, state: ServerState) -> Notification {
        let vote = match &self.role {
            Role::Looking(e) => e.proposal(self.s.round),
            _ => self.s.vote,
        };
        let round = if matches!(self.role, Role::Looking(_)) {
            self.s.round
        } else {
            vote.round
        };
        Notification {
            state,
            round,
            ..notification_of(&vote, &self.s.cfg.config_text)
        }
    }

    /// A quorum packet on `link`.
    pub fn packet(&mut self, now: u64, link: LinkId, packet: Packet) {
        let next = match &mut self.role {
            Role::Leading(l) => l.packet(&mut self.s, now, link, packet),
            Role::Learning(l) => l.packet(&mut self.s, now, link, packet),
            _ => {
                self.s.out.push(Output::Close { link });
                Next::Stay
            }
        };
        self.follow(next, now);
    }

    /// A leader accepted a learner connection (leader side), or nothing to
    /// do on other roles (the link is closed).
    pub fn accepted(&mut self, now: u64, link: LinkId) {
        match &mut self.role {
            Role::Leading(l) => l.accepted(&mut self.s, now, link),
            _ => self.s.out.push(Output::Close { link }),
        }
    }

    /// The connection asked for by [`Output::Connect`] is open.
    pub fn connected(&mut self, now: u64, to: Sid, link: LinkId) {
        let next = match &mut self.role {
            Role::Learning(l) if l.leader() == to => l.connected(&mut self.s, now, link),
            _ => {
                self.s.out.push(Output::Close { link });
                Next::Stay
            }
        };
        self.follow(next, now);
    }

    /// The connection asked for by [`Output::Connect`] could not be made.
    pub fn connect_failed(&mut self, now: u64, to: Sid) {
        let next = match &mut self.role {
            Role::Learning(l) if l.leader() == to => l.connect_failed(&self.s, now),
            _ => Next::Stay,
        };
        self.follow(next, now);
    }

    /// A quorum link closed (either side, any reason).
    pub fn link_closed(&mut self, now: u64, link: LinkId) {
        let next = match &mut self.role {
            Role::Leading(l) => l.link_closed(&mut self.s, now, link),
            Role::Learning(l) => l.link_closed(&mut self.s, now, link),
            _ => Next::Stay,
        };
        self.follow(next, now);
    }

    /// The disk synced every entry up to `zxid`.
    pub fn persisted(&mut self, now: u64, zxid: Zxid) {
        self.s.log.persisted(zxid);
        let next = match &mut self.role {
            Role::Leading(l) => l.persisted(&mut self.s, now),
            Role::Learning(l) => l.persisted(&mut self.s, now),
            _ => Next::Stay,
        };
        self.follow(next, now);
    }

    /// After [`Output::Reload`]: what the disk holds now.
    pub fn reload(&mut self, now: u64, disk: DurableState) {
        self.s.log = History::new(disk.last_zxid, disk.recent, self.s.cfg.commit_log_count);
        self.s.accepted_epoch = disk.accepted_epoch;
        self.s.current_epoch = disk.current_epoch;
        self.look(now);
    }

    /// Leader: propose a transaction (its zxid must be [`Peer::next_zxid`]).
    pub fn propose(&mut self, now: u64, entry: Entry) -> Result<(), ProposeError> {
        let r = match &mut self.role {
            Role::Leading(l) if l.is_established() => l.propose(&mut self.s, now, entry),
            _ => Err(ProposeError::NotLeader),
        };
        if r == Err(ProposeError::Exhausted) {
            self.follow(Next::Look, now);
        }
        r
    }

    /// Leader: answer `target` once everything proposed so far is committed.
    pub fn sync(&mut self, now: u64, target: SyncTarget) -> Result<(), ProposeError> {
        let _ = now;
        match &mut self.role {
            Role::Leading(l) if l.is_established() => {
                l.sync(&mut self.s, target);
                Ok(())
            }
            _ => Err(ProposeError::NotLeader),
        }
    }

    /// Leader: the answer to an [`Output::Revalidate`].
    pub fn reply_revalidate(&mut self, link: LinkId, data: Bytes) {
        if let Role::Leading(l) = &self.role {
            if l.has_link(link) {
                self.s.send(link, Packet::Revalidate { data });
            }
        }
    }

    /// Learner: forward a client write (or sync) to the leader.
    pub fn forward(
        &mut self,
        data: Bytes,
        authinfo: Vec<crate::proto::records::data::Id>,
    ) -> Result<(), ProposeError> {
        match &mut self.role {
            Role::Learning(l) if l.is_up_to_date() => {
                l.send_to_leader(&mut self.s, Packet::Request { data, authinfo });
                Ok(())
            }
            _ => Err(ProposeError::NotLeader),
        }
    }

    /// Learner: ask the leader to revalidate a session.
    pub fn revalidate(&mut self, data: Bytes) -> Result<(), ProposeError> {
        match &mut self.role {
            Role::Learning(l) if l.has_link() => {
                l.send_to_leader(&mut self.s, Packet::Revalidate { data });
                Ok(())
            }
            _ => Err(ProposeError::NotLeader),
        }
    }

    /// Leader: whether nothing is in flight — every proposal committed and
    /// every synced follower has acknowledged the last one — so that a
    /// [`step_down`](Self::step_down) now finds a successor holding our
    /// whole history. Other roles have nothing to wait for.
    pub fn quiescent(&self) -> bool {
        match &self.role {
            Role::Leading(l) => l.quiescent(),
            _ => true,
        }
    }

    /// Leaves the ensemble for good (a graceful shutdown): a leader closes
    /// its learner links (the followers look for a new leader at once
    /// instead of after `syncLimit` ticks of silence) and votes, in the
    /// next round, for the follower that holds its whole history — the
    /// one FLE would pick among the remaining members (highest zxid, then
    /// id), as ZooKeeper's leader designates a successor when a reconfig
    /// removes it (`Leader.getDesignatedLeader`). With that vote the
    /// remaining voters hear from every voter and decide without the
    /// finalize wait (see `election`). A learner closes its leader link.
    /// Afterwards every input is ignored and [`Output::Left`] says so.
    pub fn step_down(&mut self, now: u64) {
        let _ = now;
        let role = std::mem::replace(&mut self.role, Role::Stopped);
        self.loopback.clear();
        let successor = match role {
            Role::Leading(l) => {
                let successor = l.successor();
                // What the successor's candidacy says: it holds all we logged.
                let last = self.s.log.logged();
                l.close_all(&mut self.s);
                if let Some(sid) = successor {
                    let n = Notification {
                        leader: sid,
                        zxid: last,
                        round: self.s.round + 1,
                        state: ServerState::Looking,
                        peer_epoch: self.s.current_epoch as i64,
                        config: self.s.cfg.config_text.clone(),
                    };
                    let me = self.s.cfg.me;
                    for to in self.s.cfg.ensemble.voters().filter(|v| *v != me) {
                        self.s.out.push(Output::Notify { to, n: n.clone() });
                    }
                }
                successor
            }
            Role::Learning(l) => {
                l.close(&mut self.s);
                None
            }
            Role::Looking(_) | Role::Reloading | Role::Stopped => None,
        };
        self.s.out.push(Output::Left { successor });
    }

    /// Learner: answer the leader's PING with our session touches.
    pub fn learner_ping(&mut self, data: Bytes) {
        if let Role::Learning(l) = &mut self.role {
            l.answer_ping(&mut self.s, data);
        }
    }

    // ----- role changes -----

    fn look(&mut self, now: u64) {
        let mut steps = Vec::new();
        let e = Election::start(
            self.s.candidate(),
            &mut self.s.round,
            &self.s.cfg.ensemble,
            &self.s.cfg.config_text,
            self.s.cfg.election,
            now,
            &mut steps,
        );
        self.role = Role::Looking(e);
        self.s.out.push(Output::Role {
            state: ServerState::Looking,
            epoch: self.s.current_epoch,
            leader: None,
        });
        self.election_steps(steps, now);
        self.drain_loopback(now);
    }

    fn follow(&mut self, next: Next, now: u64) {
        match next {
            Next::Stay => {}
            Next::Look => {
                self.leave_role();
                self.look(now);
            }
            Next::Reload => {
                self.leave_role();
                self.role = Role::Reloading;
                self.s.out.push(Output::Reload);
            }
        }
        self.drain_loopback(now);
    }

    /// Closes links and fast-forwards the tree over logged entries, as
    /// ZooKeeper's `shutdown` of a leader or learner does.
    fn leave_role(&mut self) {
        let role = std::mem::replace(&mut self.role, Role::Reloading);
        match role {
            Role::Leading(l) => l.close_all(&mut self.s),
            Role::Learning(l) => l.close(&mut self.s),
            _ => {}
        }
        if self.s.log.applied() < self.s.log.logged() {
            let through = self.s.log.fast_forward();
            self.s.out.push(Output::FastForward { through });
        }
    }

    fn election_steps(&mut self, steps: Vec<Step>, now: u64) {
        for step in steps {
            match step {
                Step::Send(to, n) if to == self.s.cfg.me => self.loopback.push_back(n),
                Step::Send(to, n) => self.s.out.push(Output::Notify { to, n }),
                Step::Decided(vote) => {
                    self.loopback.clear();
                    self.decided(vote, now);
                    return;
                }
            }
        }
    }

    fn decided(&mut self, vote: Vote, now: u64) {
        let me = self.s.cfg.me;
        self.s.vote = vote;
        if vote.leader == me {
            self.s.vote.state = ServerState::Leading;
            let l = Leader::start(&mut self.s, now);
            self.role = Role::Leading(Box::new(l));
            let next = match &mut self.role {
                Role::Leading(l) => l.check_progress(&mut self.s, now),
                _ => Next::Stay,
            };
            self.s.out.push(Output::Role {
                state: ServerState::Leading,
                epoch: self.s.current_epoch,
                leader: Some(me),
            });
            self.follow(next, now);
        } else {
            let kind = if self.s.is_observer() {
                LearnerKind::Observer
            } else {
                LearnerKind::Follower
            };
            self.s.vote.state = if kind == LearnerKind::Observer {
                ServerState::Observing
            } else {
                ServerState::Following
            };
            let l = Learner::start(&mut self.s, vote.leader, kind, now);
            self.role = Role::Learning(Box::new(l));
            let state = Shared::state(&self.role);
            self.s.out.push(Output::Role {
                state,
                epoch: self.s.current_epoch,
                leader: Some(vote.leader),
            });
        }
    }

    fn drain_loopback(&mut self, now: u64) {
        while let Some(n) = self.loopback.pop_front() {
            let me = self.s.cfg.me;
            self.on_notification(now, me, n);
        }
    }
}

pub(super) fn notification_of(v: &Vote, config: &Bytes) -> Notification {
    Notification {
        leader: v.leader,
        zxid: v.zxid,
        round: v.round,
        state: v.state,
        peer_epoch: v.peer_epoch,
        config: config.clone(),
    }
}
