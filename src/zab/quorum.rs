//! Who votes, and what counts as a quorum: ZooKeeper's `QuorumMaj`
//! (every participant weighs one; observers weigh nothing).

use std::collections::{BTreeMap, BTreeSet};

use super::types::Sid;

/// A member's part in the ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// Votes in elections and acknowledges proposals.
    Participant,
    /// Learns the committed stream; never counted.
    Observer,
}

/// The static ensemble (ferrozk has no dynamic reconfiguration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensemble {
    members: BTreeMap<Sid, Member>,
}

impl Ensemble {
    /// An ensemble from `server.N` entries.
    pub fn new(members: impl IntoIterator<Item = (Sid, Member)>) -> Ensemble {
        Ensemble {
            members: members.into_iter().collect(),
        }
    }

    /// Every member, voters and observers, in id order.
    pub fn all(&self) -> impl Iterator<Item = Sid> + '_ {
        self.members.keys().copied()
    }

    /// The voters in id order.
    pub fn voters(&self) -> impl Iterator<Item = Sid> + '_ {
        self.members
            .iter()
            .filter(|(_, m)| **m == Member::Participant)
            .map(|(s, _)| *s)
    }

    /// Whether `sid` votes (FLE's `validVoter`).
    pub fn is_voter(&self, sid: Sid) -> bool {
        self.members.get(&sid) == Some(&Member::Participant)
    }

    /// Whether `sid` is a member at all.
    pub fn contains(&self, sid: Sid) -> bool {
        self.members.contains_key(&sid)
    }

    /// Whether the voters among `set` are more than half of all voters
    /// (`QuorumMaj.containsQuorum`).
    pub fn is_quorum(&self, set: &BTreeSet<Sid>) -> bool {
        self.is_quorum_with(set, None)
    }

    /// [`is_quorum`](Self::is_quorum) of `set` plus `extra` (a leader's own
    /// vote), without building the union: this runs on every ACK.
    pub fn is_quorum_with(&self, set: &BTreeSet<Sid>, extra: Option<Sid>) -> bool {
        let total = self.voters().count();
        let mut have = set.iter().filter(|s| self.is_voter(**s)).count();
        if let Some(x) = extra {
            if !set.contains(&x) && self.is_voter(x) {
                have += 1;
            }
        }
        have * 2 > total
    }

    /// The configuration as ZooKeeper's `QuorumMaj.toString` writes it, sent
    /// in notifications: `server.N=...` lines then `version=0`.
    pub fn describe(&self, line: impl Fn(Sid) -> String) -> String {
        let mut s = String::new();
        for sid in self.all() {
            s.push_str(&format!("server.{sid}={}\n", line(sid)));
        }
        s.push_str("version=0");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_of_voters_only() {
        let e = Ensemble::new([
            (1, Member::Participant),
            (2, Member::Participant),
            (3, Member::Participant),
            (4, Member::Observer),
        ]);
        assert!(!e.is_quorum(&[1].into()));
        assert!(!e.is_quorum(&[1, 4].into()));
        assert!(e.is_quorum(&[1, 2].into()));
        assert!(e.is_quorum(&[3, 2, 4].into()));
        assert!(e.is_quorum_with(&[1].into(), Some(2)));
        assert!(!e.is_quorum_with(&[1].into(), Some(1)), "counted once");
        assert!(
            !e.is_quorum_with(&[1].into(), Some(4)),
            "observers never count"
        );
        assert_eq!(e.voters().collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
