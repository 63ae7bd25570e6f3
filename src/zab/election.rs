//! Fast leader election (`FastLeaderElection.lookForLeader`), as events.
//!
//! ZooKeeper runs election as a blocking loop over a queue with timeouts;
//! here the same decisions are taken one notification or one timer at a
//! time, so the simulation can drive it. The rules kept exactly:
//!
//! - votes are ordered by (peer epoch, zxid, server id) — `totalOrderPredicate`;
//! - a notification from a later round resets the vote set and adopts the
//!   better of the sender's vote and our own initial vote;
//! - once a quorum agrees with our proposal we wait `finalizeWait` for a
//!   better vote; notifications that are not better are dropped while we
//!   wait, as ZooKeeper's inner poll loop drops them;
//! - one addition: once *every* voter has voted for our proposal in this
//!   round we decide at once. Each voter's vote is at least as good as its
//!   own candidacy, so no better vote can come and the wait could not
//!   change the outcome. It matters when a leader steps down
//!   (`Peer::step_down`): its farewell vote for its successor completes
//!   the set, and the others elect without the 200 ms wait;
//! - FOLLOWING/LEADING notifications let a late server join an established
//!   ensemble, but only if the leader itself says it is leading
//!   (`checkLeader`);
//! - with nothing received, notifications are re-sent with exponential
//!   back-off up to `maxNotificationInterval`.

use std::collections::{BTreeMap, BTreeSet};

use super::quorum::Ensemble;
use super::types::{Notification, ServerState, Sid, Zxid};

/// The "no candidate" id, zxid and epoch an observer starts with
/// (`Long.MIN_VALUE` in ZooKeeper): every voter's vote beats it.
pub const NO_VOTE: i64 = i64::MIN;

/// A vote as FLE compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// Proposed leader (`NO_VOTE` as u64 from an observer).
    pub leader: Sid,
    /// Its last zxid.
    pub zxid: Zxid,
    /// The election round the vote belongs to.
    pub round: i64,
    /// The proposed leader's epoch.
    pub peer_epoch: i64,
    /// The voter's state.
    pub state: ServerState,
}

impl Vote {
    /// `Vote.equals`: LOOKING votes must match in every field; votes of
    /// servers out of election only in leader and epoch (ZOOKEEPER-1805).
    pub fn same_as(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.leader == other.leader
                && self.zxid == other.zxid
                && self.round == other.round
                && self.peer_epoch == other.peer_epoch
        } else {
            self.leader == other.leader && self.peer_epoch == other.peer_epoch
        }
    }
}

/// Election timing, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionTiming {
    /// How long a quorum must stand unchallenged (`finalizeWait`, 200).
    pub finalize_wait: u64,
    /// First re-send interval (`minNotificationInterval`, 200).
    pub min_interval: u64,
    /// Back-off cap (`maxNotificationInterval`, 60000).
    pub max_interval: u64,
}

impl Default for ElectionTiming {
    fn default() -> Self {
        ElectionTiming {
            finalize_wait: 200,
            min_interval: 200,
            max_interval: 60_000,
        }
    }
}

/// Our own candidacy: what we vote for when nothing better is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Our id, or `NO_VOTE` for an observer.
    pub id: i64,
    /// Our last logged zxid (`NO_VOTE` for an observer).
    pub zxid: i64,
    /// Our current epoch (`NO_VOTE` for an observer).
    pub epoch: i64,
}

/// What the election asks of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this notification to that voter (possibly ourselves).
    Send(Sid, Notification),
    /// Election over: follow, lead or observe `vote.leader`.
    Decided(Vote),
}

/// One election in progress.
#[derive(Debug, Clone)]
pub struct Election {
    me: Candidate,
    proposal: (i64, i64, i64),
    /// Votes of this round (`recvset`).
    recvset: BTreeMap<Sid, Vote>,
    /// Votes of servers that are following or leading (`outofelection`).
    out_of_election: BTreeMap<Sid, Vote>,
    interval: u64,
    resend_at: u64,
    finalize_until: Option<u64>,
    timing: ElectionTiming,
}

/// A LOOKING notification as the vote it is.
fn looking_vote(n: &Notification) -> Vote {
    Vote {
        leader: n.leader,
        zxid: n.zxid,
        round: n.round,
        peer_epoch: n.peer_epoch,
        state: ServerState::Looking,
    }
}

/// `totalOrderPredicate`: is (id, zxid, epoch) a better vote than cur?
fn better(ens: &Ensemble, new: (i64, i64, i64), cur: (i64, i64, i64)) -> bool {
    let (new_id, new_zxid, new_epoch) = new;
    let (cur_id, cur_zxid, cur_epoch) = cur;
    if new_id < 0 || !ens.is_voter(new_id as Sid) {
        return false;
    }
    (new_epoch, new_zxid, new_id) > (cur_epoch, cur_zxid, cur_id)
}

impl Election {
    /// Starts a round: bumps `round` (FLE's logical clock) and announces
    /// our own candidacy to every voter.
    pub fn start(
        me: Candidate,
        round: &mut i64,
        ens: &Ensemble,
        config: &bytes::Bytes,
        timing: ElectionTiming,
        now: u64,
        out: &mut Vec<Step>,
    ) -> Election {
        *round += 1;
        let e = Election {
            me,
            proposal: (me.id, me.zxid, me.epoch),
            recvset: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            interval: timing.min_interval,
            resend_at: now + timing.min_interval,
            finalize_until: None,
            timing,
        };
        e.send_all(*round, ens, config, out);
        e
    }

    /// The vote we currently propose, as a LOOKING vote of `round`.
    pub fn proposal(&self, round: i64) -> Vote {
        Vote {
            leader: self.proposal.0 as Sid,
            zxid: Zxid(self.proposal.1),
            round,
            peer_epoch: self.proposal.2,
            state: ServerState::Looking,
        }
    }

    fn send_all(&self, round: i64, ens: &Ensemble, config: &bytes::Bytes, out: &mut Vec<Step>) {
        for sid in ens.voters() {
            out.push(Step::Send(
                sid,
                Notification {
                    leader: self.proposal.0 as Sid,
                    zxid: Zxid(self.proposal.1),
                    round,
                    state: ServerState::Looking,
                    peer_epoch: self.proposal.2,
                    config: config.clone(),
                },
            ));
        }
    }

    /// The next instant `tick` has work to do.
    pub fn deadline(&self) -> u64 {
        self.finalize_until.unwrap_or(self.resend_at)
    }

    /// Timers: decide after an unchallenged finalize wait, otherwise
    /// re-send with back-off.
    pub fn tick(
        &mut self,
        round: i64,
        ens: &Ensemble,
        config: &bytes::Bytes,
        now: u64,
        out: &mut Vec<Step>,
    ) {
        if let Some(until) = self.finalize_until {
            if now >= until {
                self.finalize_until = None;
                out.push(Step::Decided(self.proposal(round)));
            }
            return;
        }
        if now >= self.resend_at {
            self.send_all(round, ens, config, out);
            self.interval = (self.interval * 2).min(self.timing.max_interval);
            self.resend_at = now + self.interval;
        }
    }

    /// One notification from voter `from` (already checked to be a voter
    /// voting for a voter).
    #[allow(clippy::too_many_arguments)]
    pub fn receive(
        &mut self,
        from: Sid,
        n: &Notification,
        round: &mut i64,
        ens: &Ensemble,
        config: &bytes::Bytes,
        now: u64,
        out: &mut Vec<Step>,
    ) {
        let theirs = (n.leader as i64, n.zxid.0, n.peer_epoch);
        if self.finalize_until.is_some() {
            // The finalize poll: only a better vote interrupts it.
            if !better(ens, theirs, self.proposal) {
                // Kept for the every-voter check (ZooKeeper drops it). A
                // voter already following our proposal answers a LOOKING
                // notification with a FOLLOWING one of the same round;
                // `same_as` compares those by leader and epoch.
                if n.state != ServerState::Observing && n.round == *round {
                    let vote = Vote {
                        state: n.state,
                        ..looking_vote(n)
                    };
                    self.recvset.insert(from, vote);
                    if self.all_voters_agree(*round, ens) {
                        self.finalize_until = None;
                        out.push(Step::Decided(self.proposal(*round)));
                        return;
                    }
                }
                // ZooKeeper polls again for another finalizeWait.
                self.finalize_until = Some(now + self.timing.finalize_wait);
                return;
            }
            self.finalize_until = None;
        }
        match n.state {
            ServerState::Looking => self.looking(from, n, round, ens, config, now, out),
            ServerState::Observing => {}
            ServerState::Following | ServerState::Leading => {
                self.following(from, n, round, ens, out);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn looking(
        &mut self,
        from: Sid,
        n: &Notification,
        round: &mut i64,
        ens: &Ensemble,
        config: &bytes::Bytes,
        now: u64,
        out: &mut Vec<Step>,
    ) {
        let theirs = (n.leader as i64, n.zxid.0, n.peer_epoch);
        let mine = (self.me.id, self.me.zxid, self.me.epoch);
        if n.round > *round {
            *round = n.round;
            self.recvset.clear();
            self.proposal = if better(ens, theirs, mine) {
                theirs
            } else {
                mine
            };
            self.send_all(*round, ens, config, out);
        } else if n.round < *round {
            return;
        } else if better(ens, theirs, self.proposal) {
            self.proposal = theirs;
            self.send_all(*round, ens, config, out);
        }
        self.recvset.insert(from, looking_vote(n));
        let target = self.proposal(*round);
        if self.all_voters_agree(*round, ens) {
            out.push(Step::Decided(target));
        } else if self.agreeing(&self.recvset, &target, ens) {
            self.finalize_until = Some(now + self.timing.finalize_wait);
        }
    }

    /// Whether every voter of the ensemble has voted for our proposal in
    /// `round` (see the module doc: no better vote can come).
    fn all_voters_agree(&self, round: i64, ens: &Ensemble) -> bool {
        let target = self.proposal(round);
        ens.voters().all(|v| {
            self.recvset
                .get(&v)
                .is_some_and(|vote| vote.same_as(&target))
        })
    }

    fn following(
        &mut self,
        from: Sid,
        n: &Notification,
        round: &mut i64,
        ens: &Ensemble,
        out: &mut Vec<Step>,
    ) {
        let vote = Vote {
            leader: n.leader,
            zxid: n.zxid,
            round: n.round,
            peer_epoch: n.peer_epoch,
            state: n.state,
        };
        if n.round == *round {
            self.recvset.insert(from, vote);
            if self.agreeing(&self.recvset, &vote, ens)
                && self.leader_says_so(&self.recvset, &vote, *round)
            {
                out.push(Step::Decided(vote));
                return;
            }
        }
        self.out_of_election.insert(from, vote);
        if self.agreeing(&self.out_of_election, &vote, ens)
            && self.leader_says_so(&self.out_of_election, &vote, *round)
        {
            *round = n.round;
            out.push(Step::Decided(vote));
        }
    }

    /// `getVoteTracker(...).hasAllQuorums()`.
    fn agreeing(&self, votes: &BTreeMap<Sid, Vote>, target: &Vote, ens: &Ensemble) -> bool {
        let acks: BTreeSet<Sid> = votes
            .iter()
            .filter(|(_, v)| v.same_as(target))
            .map(|(s, _)| *s)
            .collect();
        ens.is_quorum(&acks)
    }

    /// `checkLeader`: someone else must be confirmed LEADING by its own
    /// notification; we can only be named leader in our own round.
    fn leader_says_so(&self, votes: &BTreeMap<Sid, Vote>, vote: &Vote, round: i64) -> bool {
        if vote.leader as i64 != self.me.id {
            matches!(votes.get(&vote.leader), Some(v) if v.state == ServerState::Leading)
        } else {
            vote.round == round
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zab::quorum::Member;

    fn ens3() -> Ensemble {
        Ensemble::new((1..=3).map(|s| (s, Member::Participant)))
    }

    fn note(leader: Sid, zxid: i64, round: i64, epoch: i64, state: ServerState) -> Notification {
        Notification {
            leader,
            zxid: Zxid(zxid),
            round,
            state,
            peer_epoch: epoch,
            config: Default::default(),
        }
    }

    #[test]
    fn vote_order_is_epoch_then_zxid_then_id() {
        let e = ens3();
        assert!(better(&e, (1, 5, 2), (3, 9, 1)));
        assert!(better(&e, (1, 9, 1), (3, 5, 1)));
        assert!(better(&e, (3, 5, 1), (2, 5, 1)));
        assert!(!better(&e, (2, 5, 1), (2, 5, 1)));
        assert!(!better(&e, (9, 9, 9), (2, 5, 1)), "non-members never win");
    }

    #[test]
    fn two_looking_servers_agree_on_the_higher_zxid() {
        let e = ens3();
        let cfg = bytes::Bytes::new();
        let mut round = 0;
        let mut out = vec![];
        let me = Candidate {
            id: 1,
            zxid: 10,
            epoch: 1,
        };
        let mut el = Election::start(
            me,
            &mut round,
            &e,
            &cfg,
            ElectionTiming::default(),
            0,
            &mut out,
        );
        assert_eq!(round, 1);
        assert_eq!(out.len(), 3);
        out.clear();
        el.receive(
            1,
            &note(1, 10, 1, 1, ServerState::Looking),
            &mut round,
            &e,
            &cfg,
            0,
            &mut out,
        );
        el.receive(
            2,
            &note(2, 20, 1, 1, ServerState::Looking),
            &mut round,
            &e,
            &cfg,
            0,
            &mut out,
        );
        assert_eq!(el.proposal(round).leader, 2, "adopted the better vote");
        assert_eq!(out.len(), 3, "re-announced");
        out.clear();
        // Our own re-announcement comes back; with 2's vote that is a quorum.
        el.receive(
            1,
            &note(2, 20, 1, 1, ServerState::Looking),
            &mut round,
            &e,
            &cfg,
            0,
            &mut out,
        );
        assert_eq!(el.deadline(), 200, "finalize wait armed");
        el.tick(round, &e, &cfg, 199, &mut out);
        assert!(out.is_empty());
        el.tick(round, &e, &cfg, 200, &mut out);
        assert!(matches!(out[0], Step::Decided(v) if v.leader == 2));
    }

    #[test]
    fn late_joiner_needs_the_leader_to_confirm() {
        let e = ens3();
        let cfg = bytes::Bytes::new();
        let mut round = 0;
        let mut out = vec![];
        let me = Candidate {
            id: 3,
            zxid: 0,
            epoch: 0,
        };
        let mut el = Election::start(
            me,
            &mut round,
            &e,
            &cfg,
            ElectionTiming::default(),
            0,
            &mut out,
        );
        out.clear();
        el.receive(
            2,
            &note(1, 50, 4, 2, ServerState::Following),
            &mut round,
            &e,
            &cfg,
            0,
            &mut out,
        );
        assert!(out.is_empty());
        el.receive(
            1,
            &note(1, 50, 4, 2, ServerState::Leading),
            &mut round,
            &e,
            &cfg,
            0,
            &mut out,
        );
        assert!(matches!(out[0], Step::Decided(v) if v.leader == 1));
        assert_eq!(round, 4, "adopts the ensemble's round");
    }

    #[test]
    fn resends_back_off() {
        let e = ens3();
        let cfg = bytes::Bytes::new();
        let mut round = 0;
        let mut out = vec![];
        let me = Candidate {
            id: 1,
            zxid: 0,
            epoch: 0,
        };
        let t = ElectionTiming {
            finalize_wait: 200,
            min_interval: 200,
            max_interval: 500,
        };
        let mut el = Election::start(me, &mut round, &e, &cfg, t, 0, &mut out);
        out.clear();
        el.tick(round, &e, &cfg, 200, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(el.deadline(), 600);
        el.tick(round, &e, &cfg, 600, &mut out);
        assert_eq!(el.deadline(), 1100, "capped at max_interval");
    }
}
