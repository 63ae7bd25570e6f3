//! The gauges: values read from the server's state when asked (ZooKeeper
//! registers them as callbacks), by their ZooKeeper names.

use super::registry::ServerMetrics;
use super::MonitorValue::{self, Float, Int};
use crate::config::PeerType;
use crate::server::core::Core;

/// File descriptors of this process (`OSMXBean`'s open and max counts),
/// read from /proc once per `mntr` or scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fds {
    /// Open file descriptors.
    pub open: i64,
    /// The soft limit on them.
    pub max: i64,
}

impl Fds {
    /// This process's descriptors now.
    pub fn now() -> Fds {
        let p = metrics_process::collector::collect();
        Fds {
            open: p.open_fds.map_or(-1, |n| n as i64),
            max: p.max_fds.map_or(-1, |n| n as i64),
        }
    }
}

/// `DataTree.approximateDataSize`: the length of every key of ZooKeeper's
/// node map (Java `String.length`, UTF-16 units) plus its data length.
/// The map holds the root twice (`""` and `"/"`), so the root's data
/// counts twice and its path once.
fn approximate_data_size(core: &Core) -> i64 {
    let tree = core.tree();
    let len = |n: &crate::tree::node::Node| n.data.as_ref().map_or(0, |d| d.len());
    let root = tree.get("/").map_or(0, len);
    let nodes: usize = tree
        .iter()
        .map(|(path, n)| path.encode_utf16().count() + len(n))
        .sum();
    (nodes + root) as i64
}

/// The value of gauge `name` on this server now; `None` for a gauge
/// whose source is gone (ZooKeeper's leader gauges without a leader),
/// which `mntr` leaves out.
pub fn value(core: &Core, m: &ServerMetrics, fds: Fds, name: &str) -> Option<MonitorValue> {
    let stats = &core.stats;
    let tree = core.tree();
    let leader = core.replica.as_ref().filter(|r| r.is_leader());
    let (uptime, leader_uptime) = m.uptimes();
    let responses = m.client_responses();
    let proposals = core.stats.proposal_sizes;
    Some(match name {
        "avg_latency" => Float(stats.latency.avg_ms()),
        "max_latency" => Int(stats.latency.max_ms() as i64),
        "min_latency" => Int(stats.latency.min_ms() as i64),
        "packets_received" => Int(stats.received as i64),
        "packets_sent" => Int(stats.sent as i64),
        "num_alive_connections" => Int(core.conns.len() as i64),
        "outstanding_requests" => Int(core.outstanding_requests() as i64),
        "uptime" => Int(uptime as i64),
        "znode_count" => Int(core.node_count() as i64),
        "watch_count" => Int((tree.data_watches.len() + tree.child_watches.len()) as i64),
        "ephemerals_count" => Int(tree
            .all_ephemerals()
            .values()
            .map(|s| s.len())
            .sum::<usize>() as i64),
        "approximate_data_size" => Int(approximate_data_size(core)),
        "global_sessions" => Int(core.sessions.len() as i64),
        // ferrozk has no local sessions (localSessionsEnabled is off).
        "local_sessions" => Int(0),
        "open_file_descriptor_count" => Int(fds.open),
        "max_file_descriptor_count" => Int(fds.max),
        // No connection throttling: nothing is ever dropped by chance.
        "connection_drop_probability" => Float(0.0),
        "last_client_response_size" => Int(responses.last),
        "max_client_response_size" => Int(responses.max),
        "min_client_response_size" => Int(responses.min),
        // No TLS on the client port yet, so no handshake and no non-mTLS
        // connection to count; no auth provider reports failures.
        "outstanding_tls_handshake" => Int(0),
        "auth_failed_count" => Int(m.counter_auth_failed() as i64),
        "non_mtls_remote_conn_count" | "non_mtls_local_conn_count" => Int(0),
        "quorum_size" => Int(core.opts.ensemble.as_ref().map_or(0, |e| {
            e.servers
                .iter()
                .filter(|s| s.peer_type == PeerType::Participant)
                .count()
        }) as i64),
        "learners" => Int(leader.map(|_| m.learner_links())? as i64),
        "synced_followers" => Int(leader.and_then(|r| r.peer.synced_followers())? as i64),
        // ferrozk has no reconfig, so no non-voting followers.
        "synced_non_voting_followers" => Int(leader.map(|_| 0)?),
        // A leader's synced observers; a follower is no observer master
        // (ZooKeeper's gauge is null there, and mntr leaves it out).
        "synced_observers" => Int(leader.map(|_| m.synced_observers())? as i64),
        "pending_syncs" => Int(leader.map(|_| core.pending_syncs())? as i64),
        "leader_uptime" => Int(leader.and(leader_uptime)? as i64),
        "last_proposal_size" => Int(leader.map(|_| proposals.last)?),
        "max_proposal_size" => Int(leader.map(|_| proposals.max)?),
        "min_proposal_size" => Int(leader.map(|_| proposals.min)?),
        _ => return None,
    })
}
