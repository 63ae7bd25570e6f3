//! The properties every simulated run must keep, checked as it runs.

use std::collections::BTreeMap;

use crate::tree::DataTree;
use crate::zab::Sid;

#[derive(Debug, Default)]
pub struct Checker {
    pub failure: Option<String>,
    /// Creates whose client got an OK: path → zxid.
    pub acked: BTreeMap<String, i64>,
    /// The server established as leader of each epoch.
    pub leaders: BTreeMap<u32, Sid>,
    /// TRUNCs carried out, snapshots saved from SNAPs, sessions resumed on
    /// another server, TRUNCs that had to drop a snapshot.
    pub truncs: u64,
    pub snaps: u64,
    pub resumed: u64,
    pub snapshots_dropped: u64,
    /// Copies of acknowledged writes lost in power failures (a server may
    /// lose what it had not synced; a quorum must still hold it).
    pub acked_copies_lost: u64,
}

impl Checker {
    pub fn fail(&mut self, what: String) {
        if self.failure.is_none() {
            self.failure = Some(what);
        }
    }

    /// `sid` serves as leader of `epoch` with `tree`: one leader per epoch,
    /// and its tree holds every acknowledged write.
    pub fn leading(&mut self, sid: Sid, epoch: u32, tree: &DataTree) {
        match self.leaders.insert(epoch, sid) {
            Some(other) if other != sid => {
                self.fail(format!(
                    "two leaders established in epoch {epoch}: {other} and {sid}"
                ));
            }
            Some(_) => {}
            None => self.tree_holds_acked(sid, tree, "new leader"),
        }
    }

    /// Every acknowledged create is in `tree`, with its data.
    pub fn tree_holds_acked(&mut self, sid: Sid, tree: &DataTree, who: &str) {
        for (path, zxid) in &self.acked {
            let ok = tree
                .get(path)
                .is_some_and(|n| n.data.as_deref() == Some(path.as_bytes()));
            if !ok {
                let msg = format!("{who} {sid} lost acknowledged create {path} (zxid {zxid:#x})");
                self.fail(msg);
                return;
            }
        }
    }
}
