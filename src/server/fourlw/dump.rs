//! `dump`: sessions, ephemeral nodes and connections, as ZooKeeper's
//! `DumpCommand` prints them.
//!
//! Sessions: a standalone server or a leader prints its session expiry
//! queue (`SessionTrackerImpl.dumpSessions`: the tick buckets in time
//! order, each with its sessions); a follower or observer, which does not
//! expire sessions, its table of global sessions and their timeouts
//! (`LearnerSessionTracker.dumpSessions`). Connections: ZooKeeper's
//! `NIOServerCnxnFactory` keeps connections in an expiry queue too,
//! bucketed by `zookeeper.nio.sessionlessCnxnTimeout` (10 s) and moved on
//! every read to `last read + session timeout` (10 s for a connection
//! without a session, like the asking one); ferrozk computes the same
//! buckets from each connection's last read. ZooKeeper keeps a bucket a
//! touch has emptied until its time comes (printed as `0 expire at`);
//! ferrozk's queues drop empty buckets at once, so it never prints those.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::super::core::Core;
use super::stat::java_socket_address;
use super::{mode, Asker};
use crate::tree::java_order::{hash_set_order, string_hash};

/// ZooKeeper's `sessionlessCnxnTimeout`: the connection queue's bucket
/// width and the timeout of a connection without a session.
const CNXN_INTERVAL_MS: u64 = 10_000;

/// `dump`.
pub(super) fn dump(core: &Core, from: Option<&Asker>) -> String {
    let mut s = String::from("SessionTracker dump:\n");
    sessions(core, &mut s);
    s.push_str("ephemeral nodes dump:\n");
    ephemerals(core, &mut s);
    s.push_str("Connections dump:\n");
    connections(core, from, &mut s);
    s
}

fn sessions(core: &Core, s: &mut String) {
    if matches!(mode(core), "follower" | "observer") {
        let _ = writeln!(s, "Global Sessions({}):", core.sessions.len());
        for sess in core.sessions.sessions() {
            let _ = writeln!(s, "0x{:x}\t{}ms", sess.id.0, sess.timeout_ms);
        }
        return;
    }
    let buckets: Vec<(u64, Vec<i64>)> = core
        .sessions
        .buckets()
        .map(|(t, ids)| (t, ids.map(|id| id.0).collect()))
        .collect();
    let queued: usize = buckets.iter().map(|(_, ids)| ids.len()).sum();
    let _ = writeln!(s, "Session Sets ({})/({queued}):", buckets.len());
    for (t, ids) in buckets {
        let _ = writeln!(s, "{} expire at {}:", ids.len(), date_of(core, t));
        for id in ids {
            let _ = writeln!(s, "\t0x{id:x}");
        }
    }
}

/// `DataTree.dumpEphemerals`: sessions in `ConcurrentHashMap<Long, _>`
/// order, each session's paths in `HashSet<String>` order.
fn ephemerals(core: &Core, s: &mut String) {
    let all = core.tree.all_ephemerals();
    let _ = writeln!(s, "Sessions with Ephemerals ({}):", all.len());
    let sessions: Vec<i64> = hash_set_order(all.keys().map(|&sid| (long_hash(sid), sid)).collect());
    for sid in sessions {
        let _ = writeln!(s, "0x{sid:x}:");
        let mut by_creation: Vec<(i64, &String)> = all[&sid]
            .iter()
            .map(|p| (core.tree.get(p).map_or(i64::MAX, |n| n.stat.czxid), p))
            .collect();
        by_creation.sort();
        let ordered = hash_set_order(
            by_creation
                .into_iter()
                .map(|(_, p)| (string_hash(p), p))
                .collect(),
        );
        for p in ordered {
            let _ = writeln!(s, "\t{p}");
        }
    }
}

/// Java's `Long.hashCode`: `(int) (v ^ (v >>> 32))`.
fn long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

fn connections(core: &Core, from: Option<&Asker>, s: &mut String) {
    let round = |t: u64| (t / CNXN_INTERVAL_MS + 1) * CNXN_INTERVAL_MS;
    let mut buckets: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for c in core.connections() {
        let at = round(c.stats.last_read_ms + u64::from(c.timeout_ms));
        let line = format!(
            "ip: {} sessionId: 0x{:x}",
            java_socket_address(c.peer),
            c.session
        );
        buckets.entry(at).or_default().push(line);
    }
    if let Some(a) = from {
        let at = round(core.clock().mono_ms + CNXN_INTERVAL_MS);
        let line = format!("ip: {} sessionId: 0x0", java_socket_address(a.peer));
        buckets.entry(at).or_default().push(line);
    }
    let count: usize = buckets.values().map(Vec::len).sum();
    let _ = writeln!(s, "Connections Sets ({})/({count}):", buckets.len());
    for (t, lines) in buckets {
        let _ = writeln!(s, "{} expire at {}:", lines.len(), date_of(core, t));
        for line in lines {
            let _ = writeln!(s, "\t{line}");
        }
    }
}

/// The wall-clock date of a time on the core's monotonic clock, as Java's
/// `Date.toString` prints it (`Time.elapsedTimeToDate`).
fn date_of(core: &Core, mono_ms: u64) -> String {
    let now = core.clock();
    let wall_ms = now.wall_ms + (mono_ms as i64 - now.mono_ms as i64);
    java_date(wall_ms.div_euclid(1000))
}

/// Java's `Date.toString()` of `secs` since the epoch, in the local time
/// zone: `Thu Dec 03 17:34:38 UTC 2026`.
pub fn java_date(secs: i64) -> String {
    extern "C" {
        /// POSIX tzset(3) (not in the libc crate): loads the zone from TZ.
        fn tzset();
    }
    let t = secs as libc::time_t;
    // SAFETY: tzset reads the TZ environment; localtime_r and strftime
    // write only into the buffers given, which outlive the calls.
    unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        let mut buf = [0u8; 64];
        let fmt = c"%a %b %d %H:%M:%S %Z %Y";
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}
