//! What the state machine knows of the local transaction history.
//!
//! The log itself lives on disk, owned by the driver. Zab needs three
//! positions in it and a window of recent entries: `logged` (the last entry
//! handed to the disk, what votes and ACKEPOCH report, ZooKeeper's
//! `getLastLoggedZxid`), `durable` (the last entry known fsync'd: only up
//! to here may a server acknowledge), `applied` (the last entry applied to
//! the tree). The window is ZooKeeper's `committedLog`: the last
//! `capacity` applied entries, from which a leader sends DIFFs; entries not
//! yet applied are always kept.

use std::collections::VecDeque;

use super::types::{Entry, Zxid};

/// Positions in, and a recent window of, the local history.
#[derive(Debug, Clone)]
pub struct History {
    window: VecDeque<Entry>,
    capacity: usize,
    logged: Zxid,
    durable: Zxid,
    applied: Zxid,
}

impl History {
    /// A history whose disk holds everything up to `last` (all applied,
    /// as ZooKeeper replays its whole log at start-up); `recent` are the
    /// newest entries, oldest first, ending at `last` (may be empty).
    pub fn new(last: Zxid, recent: Vec<Entry>, capacity: usize) -> History {
        let mut window: VecDeque<Entry> = recent.into();
        while window.len() > capacity {
            window.pop_front();
        }
        History {
            window,
            capacity,
            logged: last,
            durable: last,
            applied: last,
        }
    }

    /// Last entry handed to the disk.
    pub fn logged(&self) -> Zxid {
        self.logged
    }

    /// Last entry known to be on disk.
    pub fn durable(&self) -> Zxid {
        self.durable
    }

    /// Last entry applied to the tree.
    pub fn applied(&self) -> Zxid {
        self.applied
    }

    /// Whether everything handed to the disk is on it.
    pub fn all_durable(&self) -> bool {
        self.durable >= self.logged
    }

    /// Records an entry handed to the disk.
    pub fn append(&mut self, e: Entry) {
        self.logged = e.zxid;
        self.window.push_back(e);
        self.trim();
    }

    /// The disk reports everything up to `zxid` synced.
    pub fn persisted(&mut self, zxid: Zxid) {
        if zxid > self.durable {
            self.durable = zxid.min(self.logged);
        }
    }

    /// Everything up to `zxid` is now applied.
    pub fn applied_to(&mut self, zxid: Zxid) {
        if zxid > self.applied {
            self.applied = zxid;
        }
        self.trim();
    }

    /// Applies every logged entry (ZooKeeper's `fastForwardDataBase` when
    /// a server stops following or leading). Returns the new position.
    pub fn fast_forward(&mut self) -> Zxid {
        self.applied_to(self.logged);
        self.logged
    }

    /// TRUNC: forget everything after `zxid`.
    pub fn truncate(&mut self, zxid: Zxid) {
        self.window.retain(|e| e.zxid <= zxid);
        self.logged = zxid;
        self.durable = self.durable.min(zxid);
        self.applied = self.applied.min(zxid);
    }

    /// SNAP: the state is now an image at `zxid`; no entries are known.
    pub fn reset(&mut self, zxid: Zxid) {
        self.window.clear();
        self.logged = zxid;
        self.durable = zxid;
        self.applied = zxid;
    }

    /// Applied entries in the window, oldest first (the leader's
    /// `committedLog`).
    pub fn committed(&self) -> impl Iterator<Item = &Entry> + '_ {
        let applied = self.applied;
        self.window.iter().take_while(move |e| e.zxid <= applied)
    }

    /// The entry with this zxid, if still in the window.
    pub fn get(&self, zxid: Zxid) -> Option<&Entry> {
        let i = self.window.partition_point(|e| e.zxid < zxid);
        self.window.get(i).filter(|e| e.zxid == zxid)
    }

    fn trim(&mut self) {
        while self.window.len() > self.capacity {
            match self.window.front() {
                Some(e) if e.zxid <= self.applied => {
                    self.window.pop_front();
                }
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(c: u32) -> Entry {
        Entry {
            zxid: Zxid::new(1, c),
            txn: bytes::Bytes::from(vec![c as u8]),
        }
    }

    #[test]
    fn window_keeps_unapplied_entries() {
        let mut h = History::new(Zxid::ZERO, vec![], 2);
        for c in 1..=4 {
            h.append(e(c));
        }
        assert_eq!(h.logged(), Zxid::new(1, 4));
        assert_eq!(h.committed().count(), 0);
        assert!(
            h.get(Zxid::new(1, 1)).is_some(),
            "nothing applied, nothing dropped"
        );
        h.applied_to(Zxid::new(1, 3));
        assert_eq!(
            h.committed().map(|e| e.zxid.counter()).collect::<Vec<_>>(),
            vec![3]
        );
        h.persisted(Zxid::new(1, 9));
        assert_eq!(h.durable(), Zxid::new(1, 4), "never beyond what was logged");
        h.truncate(Zxid::new(1, 2));
        assert_eq!(
            (h.logged(), h.applied()),
            (Zxid::new(1, 2), Zxid::new(1, 2))
        );
    }
}
