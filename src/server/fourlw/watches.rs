//! `wchs`, `wchc`, `wchp`: the watches, as ZooKeeper's `WatchCommand`
//! prints them. ZooKeeper's `DataTree.dumpWatches*` look at its data-watch
//! manager only, so child watches (getChildren) are not listed — nor are
//! they in `Total watches`, which is why it differs from `zk_watch_count`.
//!
//! Orders: ZooKeeper iterates Java hash tables. Paths come in `HashMap` /
//! `HashSet` order of their `String.hashCode`, which ferrozk reproduces;
//! connections are keyed by object identity (no stable order), so they are
//! listed by session id.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::super::core::Core;
use crate::tree::java_order::{hash_set_order, string_hash};

/// `wchs`: `WatchManager.toString` and a line end.
pub(super) fn wchs(core: &Core) -> String {
    let by_session = by_session(core);
    let total: usize = by_session.values().map(Vec::len).sum();
    format!(
        "{} connections watching {} paths\nTotal watches:{total}\n",
        by_session.len(),
        core.tree.data_watches.paths()
    )
}

/// `wchc`: each connection's session, then its watched paths; an empty
/// line at the end.
pub(super) fn wchc(core: &Core) -> String {
    let mut s = String::new();
    for (session, paths) in by_session(core) {
        let _ = writeln!(s, "0x{session:x}");
        for p in java_path_order(paths) {
            let _ = writeln!(s, "\t{p}");
        }
    }
    s.push('\n');
    s
}

/// `wchp`: each watched path, then the sessions watching it; an empty
/// line at the end.
pub(super) fn wchp(core: &Core) -> String {
    let sessions = |w: &u64| core.conns.get(w).map_or(0, |c| c.session);
    let by_path = core.tree.data_watches.by_path();
    let mut s = String::new();
    for p in java_path_order(by_path.keys().map(String::as_str).collect()) {
        let _ = writeln!(s, "{p}");
        let mut watching: Vec<i64> = by_path[p].keys().map(sessions).collect();
        watching.sort_unstable();
        for session in watching {
            let _ = writeln!(s, "\t0x{session:x}");
        }
    }
    s.push('\n');
    s
}

/// Data watches by the session of the watching connection (connections
/// whose watches all fired are gone, as from ZooKeeper's `watch2Paths`).
fn by_session(core: &Core) -> BTreeMap<i64, Vec<&str>> {
    let mut out: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for (w, paths) in core.tree.data_watches.by_watcher() {
        if paths.is_empty() {
            continue;
        }
        let session = core.conns.get(w).map_or(0, |c| c.session);
        out.entry(session)
            .or_default()
            .extend(paths.iter().map(String::as_str));
    }
    out
}

/// Paths in the order a Java `HashSet<String>` holding them iterates.
fn java_path_order(mut paths: Vec<&str>) -> Vec<&str> {
    paths.sort_unstable();
    hash_set_order(paths.into_iter().map(|p| (string_hash(p), p)).collect())
}
