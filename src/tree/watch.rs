//! Watch registrations and triggering, as ZooKeeper's WatchManager does it.
//!
//! The tree owns two tables: *data* watches (set by getData/exists, fired by
//! NodeCreated, NodeDataChanged, NodeDeleted) and *child* watches (set by
//! getChildren, fired by NodeChildrenChanged and NodeDeleted). A watcher is a
//! connection ([`WatcherId`]); each (watcher, path) pair has one mode.
//! Standard watches fire once and are removed; persistent watches stay;
//! persistent-recursive watches also fire for every descendant, but never
//! for NodeChildrenChanged. Like ZooKeeper 3.8, a later standard watch on the
//! same path by the same watcher replaces a persistent one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Identifies a watcher: the server-side connection that registered it.
pub type WatcherId = u64;

pub use crate::proto::ops::EventType;

/// `KeeperState.SyncConnected`, the state of every server-sent event.
pub const STATE_SYNC_CONNECTED: i32 = 3;

/// How a watch behaves once triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// One-shot.
    Standard,
    /// Fires on every change of the path, stays.
    Persistent,
    /// Fires on every change of the path or a descendant (except child
    /// lists), stays.
    PersistentRecursive,
}

impl WatchMode {
    /// The AddWatchMode wire value (0 persistent, 1 recursive).
    pub fn from_add_watch_mode(mode: i32) -> Option<WatchMode> {
        match mode {
            0 => Some(WatchMode::Persistent),
            1 => Some(WatchMode::PersistentRecursive),
            _ => None,
        }
    }
}

/// `WatcherType` of checkWatches/removeWatches. ZooKeeper 3.8 knows only
/// these three; other values are a marshalling error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherType {
    /// Child watches.
    Children = 1,
    /// Data (and exist) watches.
    Data = 2,
    /// Any watch.
    Any = 3,
}

impl WatcherType {
    /// Maps the wire value.
    pub fn from_i32(v: i32) -> Option<WatcherType> {
        Some(match v {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            _ => return None,
        })
    }
}

/// One watch table (data or child).
#[derive(Debug, Default)]
pub struct WatchTable {
    by_path: HashMap<String, BTreeMap<WatcherId, WatchMode>>,
    by_watcher: HashMap<WatcherId, BTreeSet<String>>,
    recursive: usize,
}

impl WatchTable {
    /// Registers (or re-moded) a watch.
    pub fn add(&mut self, path: &str, watcher: WatcherId, mode: WatchMode) {
        let old = self
            .by_path
            .entry(path.to_string())
            .or_default()
            .insert(watcher, mode);
        if old == Some(WatchMode::PersistentRecursive) {
            self.recursive -= 1;
        }
        if mode == WatchMode::PersistentRecursive {
            self.recursive += 1;
        }
        self.by_watcher
            .entry(watcher)
            .or_default()
            .insert(path.to_string());
    }

    /// Fires the watches `event` on `path` triggers; returns the watchers to
    /// notify (each once), removing the one-shot ones.
    pub fn trigger(&mut self, path: &str, event: EventType) -> BTreeSet<WatcherId> {
        let mut fired = BTreeSet::new();
        self.trigger_at(path, event, true, &mut fired);
        if self.recursive > 0 {
            let mut p = path;
            while p != "/" {
                p = crate::proto::path::parent(p);
                self.trigger_at(p, event, false, &mut fired);
            }
        }
        fired
    }

    fn trigger_at(
        &mut self,
        at: &str,
        event: EventType,
        exact: bool,
        fired: &mut BTreeSet<WatcherId>,
    ) {
        let Some(watchers) = self.by_path.get_mut(at) else {
            return;
        };
        let mut removed = Vec::new();
        for (&w, &mode) in watchers.iter() {
            match mode {
                WatchMode::PersistentRecursive if event != EventType::NodeChildrenChanged => {
                    fired.insert(w);
                }
                WatchMode::Persistent if exact => {
                    fired.insert(w);
                }
                WatchMode::Standard if exact => {
                    fired.insert(w);
                    removed.push(w);
                }
                _ => {}
            }
        }
        for w in removed {
            watchers.remove(&w);
            if let Some(paths) = self.by_watcher.get_mut(&w) {
                paths.remove(at);
            }
        }
        if watchers.is_empty() {
            self.by_path.remove(at);
        }
    }

    /// The mode of `watcher`'s watch on `path`, if any.
    pub fn mode(&self, path: &str, watcher: WatcherId) -> Option<WatchMode> {
        self.by_path
            .get(path)
            .and_then(|m| m.get(&watcher))
            .copied()
    }

    /// Removes `watcher`'s watch on `path` if `filter` accepts its mode.
    pub fn remove(
        &mut self,
        path: &str,
        watcher: WatcherId,
        filter: impl Fn(WatchMode) -> bool,
    ) -> bool {
        let Some(watchers) = self.by_path.get_mut(path) else {
            return false;
        };
        match watchers.get(&watcher) {
            Some(&mode) if filter(mode) => {
                watchers.remove(&watcher);
                if mode == WatchMode::PersistentRecursive {
                    self.recursive -= 1;
                }
                if watchers.is_empty() {
                    self.by_path.remove(path);
                }
                if let Some(paths) = self.by_watcher.get_mut(&watcher) {
                    paths.remove(path);
                }
                true
            }
            _ => false,
        }
    }

    /// Drops every watch of a closed connection.
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        for path in self.by_watcher.remove(&watcher).unwrap_or_default() {
            if let Some(watchers) = self.by_path.get_mut(&path) {
                if watchers.remove(&watcher) == Some(WatchMode::PersistentRecursive) {
                    self.recursive -= 1;
                }
                if watchers.is_empty() {
                    self.by_path.remove(&path);
                }
            }
        }
    }

    /// Number of (path, watcher) registrations.
    pub fn len(&self) -> usize {
        self.by_path.values().map(BTreeMap::len).sum()
    }

    /// Whether there is no registration.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Paths with at least one watch.
    pub fn paths(&self) -> usize {
        self.by_path.len()
    }

    /// Registrations by watcher (for the `wchc` four-letter word).
    pub fn by_watcher(&self) -> &HashMap<WatcherId, BTreeSet<String>> {
        &self.by_watcher
    }

    /// Registrations by path (for the `wchp` four-letter word).
    pub fn by_path(&self) -> &HashMap<String, BTreeMap<WatcherId, WatchMode>> {
        &self.by_path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_watch_fires_once() {
        let mut t = WatchTable::default();
        t.add("/a", 1, WatchMode::Standard);
        assert_eq!(
            t.trigger("/a", EventType::NodeDataChanged),
            BTreeSet::from([1])
        );
        assert!(t.trigger("/a", EventType::NodeDataChanged).is_empty());
        assert!(t.is_empty());
    }

    #[test]
    fn persistent_watch_stays() {
        let mut t = WatchTable::default();
        t.add("/a", 1, WatchMode::Persistent);
        assert_eq!(t.trigger("/a", EventType::NodeDataChanged).len(), 1);
        assert_eq!(t.trigger("/a", EventType::NodeChildrenChanged).len(), 1);
        assert!(t.trigger("/a/b", EventType::NodeCreated).is_empty());
    }

    #[test]
    fn recursive_watch_covers_descendants_but_not_child_events() {
        let mut t = WatchTable::default();
        t.add("/a", 7, WatchMode::PersistentRecursive);
        assert_eq!(
            t.trigger("/a/b/c", EventType::NodeCreated),
            BTreeSet::from([7])
        );
        assert_eq!(t.trigger("/a", EventType::NodeDeleted), BTreeSet::from([7]));
        assert!(t.trigger("/a/b", EventType::NodeChildrenChanged).is_empty());
        assert!(t.trigger("/ab", EventType::NodeCreated).is_empty());
        t.add("/", 8, WatchMode::PersistentRecursive);
        assert_eq!(t.trigger("/x", EventType::NodeCreated), BTreeSet::from([8]));
    }

    #[test]
    fn standard_watch_downgrades_persistent_like_zookeeper() {
        let mut t = WatchTable::default();
        t.add("/a", 1, WatchMode::Persistent);
        t.add("/a", 1, WatchMode::Standard);
        assert_eq!(t.trigger("/a", EventType::NodeDataChanged).len(), 1);
        assert!(t.trigger("/a", EventType::NodeDataChanged).is_empty());
    }

    #[test]
    fn closing_a_connection_drops_its_watches() {
        let mut t = WatchTable::default();
        t.add("/a", 1, WatchMode::PersistentRecursive);
        t.add("/b", 1, WatchMode::Standard);
        t.add("/b", 2, WatchMode::Standard);
        t.remove_watcher(1);
        assert_eq!(t.len(), 1);
        assert!(t.trigger("/a/x", EventType::NodeCreated).is_empty());
    }
}
