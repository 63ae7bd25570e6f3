//! Server metrics: the values `mntr` prints, the AdminServer's `monitor`
//! command answers and the Prometheus endpoint exports, under Apache
//! ZooKeeper's names (its `ServerMetrics` and `ZooKeeperServer`'s monitor
//! values), so scrapers and dashboards read ferrozk unchanged.

use std::sync::atomic::Ordering;

use super::core::Core;
use super::durability::SyncStats;

/// One monitor value, typed as ZooKeeper reports it (mntr prints each as
/// text; the admin `monitor` command as a JSON number or string).
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorValue {
    /// A counter or integral gauge.
    Int(i64),
    /// An average or a ratio.
    Float(f64),
    /// A string (version, server state).
    Text(String),
}

impl std::fmt::Display for MonitorValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorValue::Int(n) => write!(f, "{n}"),
            MonitorValue::Float(x) => write!(f, "{x:.4}"),
            MonitorValue::Text(s) => f.write_str(s),
        }
    }
}

/// The monitor values of this server, in the order `mntr` prints them;
/// names without mntr's `zk_` prefix (the admin `monitor` command's keys).
pub fn monitor(core: &Core, log: &SyncStats) -> Vec<(String, MonitorValue)> {
    use MonitorValue::{Float, Int, Text};
    let watches = core.tree.data_watches.len() + core.tree.child_watches.len();
    let eph: usize = core.tree.all_ephemerals().values().map(|s| s.len()).sum();
    let syncs = log.syncs.load(Ordering::Relaxed);
    let logged = log.txns.load(Ordering::Relaxed);
    let avg = if core.stats.count == 0 {
        0.0
    } else {
        core.stats.total_us as f64 / core.stats.count as f64 / 1000.0
    };
    let epochs = core.replica.as_ref().map(|r| &r.peer);
    let mut v: Vec<(String, MonitorValue)> = vec![
        ("version".into(), Text(super::fourlw::VERSION.into())),
        ("server_state".into(), Text(super::fourlw::mode(core).into())),
        ("avg_latency".into(), Float(avg)),
        ("max_latency".into(), Int((core.stats.max_us / 1000) as i64)),
        ("min_latency".into(), Int((core.stats.min_us / 1000) as i64)),
        ("packets_received".into(), Int(core.stats.received as i64)),
        ("packets_sent".into(), Int(core.stats.sent as i64)),
        ("num_alive_connections".into(), Int(core.conns.len() as i64)),
        ("outstanding_requests".into(), Int(0)),
        ("znode_count".into(), Int(core.tree.len() as i64)),
        ("watch_count".into(), Int(watches as i64)),
        ("ephemerals_count".into(), Int(eph as i64)),
        ("global_sessions".into(), Int(core.sessions.len() as i64)),
        ("last_zxid".into(), Int(core.tree.last_zxid)),
        (
            "ferrozk_current_epoch".into(),
            Int(epochs.map_or(0, |p| p.current_epoch()) as i64),
        ),
        (
            "ferrozk_accepted_epoch".into(),
            Int(epochs.map_or(0, |p| p.accepted_epoch()) as i64),
        ),
        // Group commit: fsyncs, and transactions they covered.
        ("cnt_fsynctime".into(), Int(syncs as i64)),
        ("ferrozk_logged_txns".into(), Int(logged as i64)),
    ];
    if let Some(n) = epochs.and_then(|p| p.synced_followers()) {
        v.push(("synced_followers".into(), Int(n as i64)));
    }
    v
}
