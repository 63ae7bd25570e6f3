//! The client's record of the watches the server holds for it, so they can
//! be re-registered with `setWatches` after a reconnect (as
//! `ZKWatchManager` + `ClientCnxn.primeConnection` do).
//!
//! Paths are server paths (chroot included). A one-shot watch is recorded
//! when the reply that set it succeeds (exists on a missing node records an
//! exist watch), and forgotten when its notification arrives; persistent
//! watches stay until removed. All of it runs in the connection's reader, in
//! arrival order, so the table always matches what the server has seen.

use std::collections::BTreeSet;

use bytes::Bytes;

use ferrozk_proto::error::ErrorCode;
use ferrozk_proto::jute::Jute;
use ferrozk_proto::ops::OpCode;
use ferrozk_proto::records::proto::{SetWatches, SetWatches2};

use super::types::{AddWatchMode, EventType, WatcherType};

/// Split `setWatches` so no request carries more than this many path bytes
/// (`ClientCnxn.SET_WATCHES_MAX_LENGTH`).
pub const SET_WATCHES_MAX_LENGTH: usize = 128 * 1024;

/// What a request does to the watch table once its reply arrives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WatchReg {
    /// Nothing.
    #[default]
    None,
    /// exists with watch: a data watch if the node exists, else an exist watch.
    Exists(String),
    /// getData with watch.
    Data(String),
    /// getChildren/getChildren2 with watch.
    Child(String),
    /// addWatch.
    Add(String, AddWatchMode),
    /// removeWatches (on success).
    Remove(String, WatcherType),
}

/// The watches registered on the server, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchTable {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
    persistent: BTreeSet<String>,
    recursive: BTreeSet<String>,
}

impl WatchTable {
    /// Records the effect of a reply with error code `err`. Returns the
    /// removal events a successful removeWatches produces.
    pub fn on_reply(&mut self, reg: &WatchReg, err: i32) -> Vec<EventType> {
        let ok = err == 0;
        match reg {
            WatchReg::None => {}
            WatchReg::Exists(p) if ok => {
                self.data.insert(p.clone());
            }
            WatchReg::Exists(p) if err == ErrorCode::NoNode.code() => {
                self.exist.insert(p.clone());
            }
            WatchReg::Data(p) if ok => {
                self.data.insert(p.clone());
            }
            WatchReg::Child(p) if ok => {
                self.child.insert(p.clone());
            }
            WatchReg::Add(p, AddWatchMode::Persistent) if ok => {
                self.persistent.insert(p.clone());
            }
            WatchReg::Add(p, AddWatchMode::PersistentRecursive) if ok => {
                self.recursive.insert(p.clone());
            }
            WatchReg::Remove(p, ty) if ok => return self.remove(p, *ty),
            _ => {}
        }
        Vec::new()
    }

    /// Forgets the one-shot watches a notification fired
    /// (`ZKWatchManager.materialize`).
    pub fn on_event(&mut self, event: EventType, path: &str) {
        match event {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data.remove(path);
                self.exist.remove(path);
            }
            EventType::NodeChildrenChanged => {
                self.child.remove(path);
            }
            EventType::NodeDeleted => {
                self.data.remove(path);
                self.exist.remove(path);
                self.child.remove(path);
            }
            _ => {}
        }
    }

    /// Removes the watches of `ty` on `path`; returns one removal event type
    /// per kind removed (empty if nothing matched).
    pub fn remove(&mut self, path: &str, ty: WatcherType) -> Vec<EventType> {
        let mut events = Vec::new();
        let (child, data, persistent) = match ty {
            WatcherType::Children => (true, false, false),
            WatcherType::Data => (false, true, false),
            WatcherType::Any => (true, true, true),
            WatcherType::Persistent | WatcherType::PersistentRecursive => (false, false, true),
        };
        if child && self.child.remove(path) {
            events.push(EventType::ChildWatchRemoved);
        }
        if data {
            let d = self.data.remove(path);
            let e = self.exist.remove(path);
            if d || e {
                events.push(EventType::DataWatchRemoved);
            }
        }
        if persistent {
            let p = ty != WatcherType::PersistentRecursive && self.persistent.remove(path);
            let r = ty != WatcherType::Persistent && self.recursive.remove(path);
            if p || r {
                events.push(EventType::PersistentWatchRemoved);
            }
        }
        events
    }

    /// Whether no watch is recorded.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    /// The requests that re-register every watch: `(opcode, body)` pairs of
    /// at most about [`SET_WATCHES_MAX_LENGTH`] path bytes each. Batches
    /// without persistent watches use the old `setWatches` so old servers
    /// understand them, as the Java client does.
    pub fn set_watches(&self, relative_zxid: i64) -> Vec<(OpCode, Bytes)> {
        let mut lists = [
            &self.data,
            &self.exist,
            &self.child,
            &self.persistent,
            &self.recursive,
        ]
        .map(|s| s.iter().peekable());
        let mut out = Vec::new();
        while lists.iter_mut().any(|l| l.peek().is_some()) {
            let mut batch: [Vec<String>; 5] = Default::default();
            let mut len = 0;
            'fill: while len < SET_WATCHES_MAX_LENGTH {
                for (i, list) in lists.iter_mut().enumerate() {
                    if let Some(p) = list.next() {
                        len += p.len();
                        batch[i].push(p.clone());
                        continue 'fill;
                    }
                }
                break;
            }
            let [data_watches, exist_watches, child_watches, persistent_watches, persistent_recursive_watches] =
                batch;
            out.push(
                if persistent_watches.is_empty() && persistent_recursive_watches.is_empty() {
                    let r = SetWatches {
                        relative_zxid,
                        data_watches,
                        exist_watches,
                        child_watches,
                    };
                    (OpCode::SetWatches, r.to_bytes())
                } else {
                    let r = SetWatches2 {
                        relative_zxid,
                        data_watches,
                        exist_watches,
                        child_watches,
                        persistent_watches,
                        persistent_recursive_watches,
                    };
                    (OpCode::SetWatches2, r.to_bytes())
                },
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode2(b: &Bytes) -> SetWatches2 {
        SetWatches2::decode(&mut b.clone()).unwrap()
    }

    #[test]
    fn exists_on_missing_node_records_an_exist_watch() {
        let mut t = WatchTable::default();
        t.on_reply(&WatchReg::Exists("/a".into()), ErrorCode::NoNode.code());
        t.on_reply(&WatchReg::Exists("/b".into()), 0);
        let sw = t.set_watches(7);
        assert_eq!(sw.len(), 1);
        assert_eq!(sw[0].0, OpCode::SetWatches);
        let r = SetWatches::decode(&mut sw[0].1.clone()).unwrap();
        assert_eq!(r.relative_zxid, 7);
        assert_eq!(r.exist_watches, vec!["/a".to_string()]);
        assert_eq!(r.data_watches, vec!["/b".to_string()]);
    }

    #[test]
    fn failed_reads_record_nothing() {
        let mut t = WatchTable::default();
        t.on_reply(&WatchReg::Data("/a".into()), ErrorCode::NoNode.code());
        t.on_reply(&WatchReg::Child("/a".into()), ErrorCode::NoAuth.code());
        assert!(t.is_empty());
    }

    #[test]
    fn events_consume_one_shot_watches_but_not_persistent_ones() {
        let mut t = WatchTable::default();
        t.on_reply(&WatchReg::Data("/a".into()), 0);
        t.on_reply(&WatchReg::Child("/a".into()), 0);
        t.on_reply(&WatchReg::Add("/a".into(), AddWatchMode::Persistent), 0);
        t.on_event(EventType::NodeDataChanged, "/a");
        let sw = t.set_watches(0);
        let r = decode2(&sw[0].1);
        assert!(r.data_watches.is_empty());
        assert_eq!(r.child_watches, vec!["/a".to_string()]);
        assert_eq!(r.persistent_watches, vec!["/a".to_string()]);
        t.on_event(EventType::NodeDeleted, "/a");
        assert_eq!(
            decode2(&t.set_watches(0)[0].1).child_watches,
            Vec::<String>::new()
        );
    }

    #[test]
    fn remove_reports_what_it_removed() {
        let mut t = WatchTable::default();
        t.on_reply(&WatchReg::Exists("/a".into()), ErrorCode::NoNode.code());
        t.on_reply(&WatchReg::Child("/a".into()), 0);
        t.on_reply(
            &WatchReg::Add("/a".into(), AddWatchMode::PersistentRecursive),
            0,
        );
        assert_eq!(t.remove("/a", WatcherType::Persistent), vec![]);
        assert_eq!(
            t.remove("/a", WatcherType::Data),
            vec![EventType::DataWatchRemoved]
        );
        assert_eq!(
            t.on_reply(&WatchReg::Remove("/a".into(), WatcherType::Any), 0),
            vec![
                EventType::ChildWatchRemoved,
                EventType::PersistentWatchRemoved
            ]
        );
        assert!(t.is_empty());
    }

    #[test]
    fn set_watches_is_split_into_bounded_batches() {
        let mut t = WatchTable::default();
        let long = "x".repeat(1000);
        for i in 0..300 {
            t.on_reply(&WatchReg::Data(format!("/{long}{i}")), 0);
        }
        let sw = t.set_watches(0);
        assert_eq!(sw.len(), 3);
        let total: usize = sw
            .iter()
            .map(|(_, b)| {
                SetWatches::decode(&mut b.clone())
                    .unwrap()
                    .data_watches
                    .len()
            })
            .sum();
        assert_eq!(total, 300);
    }
}
