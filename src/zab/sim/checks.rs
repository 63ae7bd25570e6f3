//! The safety properties every simulated run must keep.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::zab::types::{Entry, Sid, Zxid};

#[derive(Debug, Default)]
pub struct Checker {
    pub failure: Option<String>,
    /// Every zxid some server delivered as committed, with its txn.
    pub committed: BTreeMap<Zxid, Bytes>,
    /// Writes whose client got an answer.
    pub acked: BTreeMap<Zxid, Bytes>,
    /// The server established as leader of each epoch.
    pub leaders: BTreeMap<u32, Sid>,
    /// Times a TRUNC went below a saved snapshot (a ZooKeeper corner case
    /// the simulator repairs by cutting the snapshot; counted, not hidden).
    pub truncated_below_snapshot: u64,
    /// Copies of acknowledged writes lost in power failures (only a
    /// server that acknowledged before its fsync can lose one).
    pub acked_copies_lost: u64,
}

impl Checker {
    pub fn fail(&mut self, what: String) {
        if self.failure.is_none() {
            self.failure = Some(what);
        }
    }

    /// A server applied `e` as committed: the same zxid must always be the
    /// same transaction.
    pub fn committed(&mut self, sid: Sid, e: &Entry) {
        match self.committed.get(&e.zxid) {
            Some(t) if *t != e.txn => {
                let msg = format!(
                    "server {sid} committed {} as {:?}, elsewhere {:?}",
                    e.zxid, e.txn, t
                );
                self.fail(msg);
            }
            Some(_) => {}
            None => {
                self.committed.insert(e.zxid, e.txn.clone());
            }
        }
    }

    pub fn acknowledged(&mut self, e: &Entry) {
        self.acked.insert(e.zxid, e.txn.clone());
    }

    /// A leader was established with `state` as its history: one leader per
    /// epoch, and its history holds every acknowledged write.
    pub fn established(&mut self, sid: Sid, epoch: u32, through: Zxid, state: &[Entry]) {
        if let Some(other) = self.leaders.insert(epoch, sid) {
            if other != sid {
                self.fail(format!(
                    "two leaders established in epoch {epoch}: {other} and {sid}"
                ));
                return;
            }
        }
        let at = state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
        if at != through {
            self.fail(format!(
                "leader {sid} established through {through} with tree at {at}"
            ));
            return;
        }
        self.history_holds_acked(sid, state, "new leader");
        for e in state {
            self.committed(sid, e);
        }
    }

    pub fn history_holds_acked(&mut self, sid: Sid, state: &[Entry], who: &str) {
        let have: BTreeMap<Zxid, &Bytes> = state.iter().map(|e| (e.zxid, &e.txn)).collect();
        for (z, t) in self.acked.clone() {
            if have.get(&z) != Some(&&t) {
                self.fail(format!("{who} {sid} lost acknowledged write {z} ({t:?})"));
                return;
            }
        }
    }
}
