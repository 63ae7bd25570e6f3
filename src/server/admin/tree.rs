//! The commands about the tree's bookkeeping: `dump` (sessions by expiry,
//! ephemerals by session), `watches`, `watches_by_path`, `watch_summary`
//! and `hash`.
//!
//! ZooKeeper builds these answers in Java `HashMap`s and `HashSet`s, so
//! their keys and members come out in Java's hash order; ferrozk orders
//! them the same way (`tree::java_order`), so that the same state prints
//! the same JSON. Like ZooKeeper's, the watch commands list data watches
//! (getData/exists) only: child watches live in a second table that these
//! reports do not read.

use std::collections::BTreeMap;

use serde::Serialize;

use super::commands::View;
use super::json::Entries;
use crate::tree::java_order::{hash_set_order, string_hash};

/// Java's `Long.hashCode`.
fn long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// Session ids as a `HashSet<Long>` iterates them.
fn session_set(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    hash_set_order(ids.into_iter().map(|id| (long_hash(id), id)).collect())
}

/// Paths as a `HashSet<String>` iterates them.
fn path_set<'a>(paths: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    hash_set_order(
        paths
            .into_iter()
            .map(|p| (string_hash(p), p.as_str()))
            .collect(),
    )
}

/// A `HashMap<Long, V>`'s entries in Java's order (keys as JSON strings,
/// as Jackson writes map keys).
fn by_session<V>(entries: Vec<(i64, V)>) -> Entries<String, V> {
    let ordered = hash_set_order(
        entries
            .into_iter()
            .map(|(k, v)| (long_hash(k), (k, v)))
            .collect(),
    );
    Entries(
        ordered
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// `dump`.
#[derive(Serialize)]
pub struct Dump<'a> {
    /// Expiry time (ms, the server's monotonic clock, rounded up to a
    /// tick as ZooKeeper's `ExpiryQueue` does) → the sessions expiring then.
    expiry_time_to_session_ids: Entries<String, Vec<i64>>,
    session_id_to_ephemeral_paths: Entries<String, Vec<&'a str>>,
}

pub fn dump<'a>(v: &View<'a>) -> Dump<'a> {
    let core = v.core;
    let expiry = by_session(
        core.sessions
            .buckets()
            .map(|(at, ids)| (at as i64, session_set(ids.map(|s| s.0))))
            .collect(),
    );
    let ephemerals = by_session(
        core.tree
            .all_ephemerals()
            .iter()
            .filter(|(_, paths)| !paths.is_empty())
            .map(|(&sid, paths)| (sid, path_set(paths)))
            .collect(),
    );
    Dump {
        expiry_time_to_session_ids: expiry,
        session_id_to_ephemeral_paths: ephemerals,
    }
}

/// The session of each data watcher, and the paths it watches.
fn data_watches<'a>(v: &View<'a>) -> Vec<(i64, &'a std::collections::BTreeSet<String>)> {
    let core = v.core;
    core.tree
        .data_watches
        .by_watcher()
        .iter()
        .filter(|(_, paths)| !paths.is_empty())
        .map(|(w, paths)| (core.conns.get(w).map_or(0, |c| c.session), paths))
        .collect()
}

/// `watches` (`wchc`).
#[derive(Serialize)]
pub struct Watches<'a> {
    session_id_to_watched_paths: Entries<String, Vec<&'a str>>,
}

pub fn watches<'a>(v: &View<'a>) -> Watches<'a> {
    Watches {
        session_id_to_watched_paths: by_session(
            data_watches(v)
                .into_iter()
                .map(|(sid, paths)| (sid, path_set(paths)))
                .collect(),
        ),
    }
}

/// `watches_by_path` (`wchp`).
#[derive(Serialize)]
pub struct WatchesByPath<'a> {
    path_to_session_ids: Entries<&'a str, Vec<i64>>,
}

pub fn watches_by_path<'a>(v: &View<'a>) -> WatchesByPath<'a> {
    let mut by_path: BTreeMap<&'a str, Vec<i64>> = BTreeMap::new();
    for (sid, paths) in data_watches(v) {
        for p in paths {
            by_path.entry(p.as_str()).or_default().push(sid);
        }
    }
    let ordered = hash_set_order(
        by_path
            .into_iter()
            .map(|(p, sids)| (string_hash(p), (p, session_set(sids))))
            .collect(),
    );
    WatchesByPath {
        path_to_session_ids: Entries(ordered),
    }
}

/// `watch_summary` (`wchs`): `WatchesSummary.toMap`.
#[derive(Serialize)]
pub struct WatchSummary {
    num_connections: usize,
    num_paths: usize,
    num_total_watches: usize,
}

pub fn watch_summary(v: &View<'_>) -> WatchSummary {
    let watches = data_watches(v);
    WatchSummary {
        num_connections: watches.len(),
        num_paths: v.core.tree.data_watches.paths(),
        num_total_watches: watches.iter().map(|(_, p)| p.len()).sum(),
    }
}

/// One entry of the digest log (`DataTree.ZxidDigest` as a bean).
#[derive(Serialize)]
pub struct ZxidDigest {
    zxid: i64,
    digest: i64,
    digest_version: i32,
}

/// `hash`.
#[derive(Serialize)]
pub struct Hash {
    digests: Vec<ZxidDigest>,
}

/// The digest version ZooKeeper 3.8 computes (`DigestCalculator`).
const DIGEST_VERSION: i32 = 2;

pub fn hash(v: &View<'_>) -> Hash {
    Hash {
        digests: v
            .core
            .digest_log
            .entries()
            .map(|(zxid, digest)| ZxidDigest {
                zxid,
                digest,
                digest_version: DIGEST_VERSION,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_hash_is_javas() {
        assert_eq!(long_hash(0), 0);
        assert_eq!(long_hash(1), 1);
        assert_eq!(long_hash(-1), 0);
        // 72059492247797760 = 0x0100_01b9_f620_0000: high ^ low halves.
        assert_eq!(
            long_hash(72059492247797760),
            (0x0100_01b9_u32 ^ 0xf620_0000) as i32
        );
        assert_eq!(long_hash(72059492247797760), -148897351);
    }
}
