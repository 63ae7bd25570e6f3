//! Server metrics: the values `mntr` prints, the AdminServer's `monitor`
//! command answers and the Prometheus endpoint exports, under Apache
//! ZooKeeper's names (its `ServerMetrics` and `ZooKeeperServer`'s monitor
//! values), so scrapers and dashboards read ferrozk unchanged.

pub mod gauges;
pub mod http;
pub mod java_map;
pub mod names;
pub mod observe;
mod order;
pub mod prom;
pub mod quorum;
pub mod recovery;
pub mod registry;
pub mod summary;

use super::core::Core;
use super::durability::SyncStats;
pub use http::ProviderOptions;
pub use names::{Counter, Level, Summary, SummarySet};
pub use registry::{Role, ServerMetrics};
use summary::SummaryView;

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
            MonitorValue::Float(x) => f.write_str(&super::core::stats::java_double(*x)),
            MonitorValue::Text(s) => f.write_str(s),
        }
    }
}

/// The monitor values of this server, in the order `mntr` prints them;
/// names without mntr's `zk_` prefix (the admin `monitor` command's keys).
///
/// ZooKeeper's `MonitorCommand`: `dumpMonitorValues` (version, state,
/// and on an ensemble member the peer state), then its default metrics
/// provider's dump — gauges, gauge sets, counters, counter sets, basic
/// summaries, summaries, basic summary sets, summary sets — each kind in
/// the iteration order of the `ConcurrentHashMap` ZooKeeper keeps it in.
pub fn monitor(core: &Core, _log: &SyncStats) -> Vec<(String, MonitorValue)> {
    use MonitorValue::{Float, Int, Text};
    let m = &core.metrics;
    let mut v: Vec<(String, MonitorValue)> = vec![
        ("version".into(), Text(super::fourlw::VERSION.into())),
        (
            "server_state".into(),
            Text(super::fourlw::mode(core).into()),
        ),
    ];
    if let Some(r) = &core.replica {
        v.push((
            "peer_state".into(),
            Text(peer_state(r.peer.state(), core.serving())),
        ));
    }
    let fds = gauges::Fds::now();
    for name in m.gauges().1 {
        if let Some(value) = gauges::value(core, m, fds, &name) {
            v.push((name, value));
        }
    }
    let order = order::get();
    for &c in &order.counters {
        v.push((c.name().into(), Int(m.counter(c) as i64)));
    }
    let summary = |v: &mut Vec<(String, MonitorValue)>, name: &str, s: SummaryView| {
        v.push((format!("avg_{name}"), Float(s.avg)));
        v.push((format!("min_{name}"), Int(s.min)));
        v.push((format!("max_{name}"), Int(s.max)));
        v.push((format!("cnt_{name}"), Int(s.count as i64)));
        v.push((format!("sum_{name}"), Int(s.sum)));
        if let Some([p50, p95, p99, p999]) = s.percentiles {
            v.push((format!("p50_{name}"), Int(p50)));
            v.push((format!("p95_{name}"), Int(p95)));
            v.push((format!("p99_{name}"), Int(p99)));
            v.push((format!("p999_{name}"), Int(p999)));
        }
    };
    for &s in order.basic.iter().chain(&order.advanced) {
        summary(&mut v, s.name(), m.summary(s));
    }
    for &set in order.basic_sets.iter().chain(&order.advanced_sets) {
        for (key, s) in m.set_views(set) {
            summary(&mut v, &format!("{key}_{}", set.name()), s);
        }
    }
    v
}

/// `QuorumPeer.getDetailedPeerState`: the peer state, and the Zab phase
/// unless electing (ferrozk's learners have synced when they serve, so
/// there is no sync mode left to print then).
fn peer_state(state: crate::zab::ServerState, serving: bool) -> String {
    use crate::zab::ServerState as S;
    let peer = match state {
        S::Looking => return "looking".into(),
        S::Following => "following",
        S::Leading => "leading",
        S::Observing => "observing",
    };
    let zab = if serving {
        "broadcast"
    } else {
        "synchronization"
    };
    format!("{peer} - {zab}")
}

/// The gauges registered now, as numbers (what a `/metrics` scrape
/// samples).
pub fn gauge_samples(core: &Core) -> Vec<(String, f64)> {
    let m = &core.metrics;
    let fds = gauges::Fds::now();
    m.gauges()
        .1
        .into_iter()
        .filter_map(|name| {
            let v = match gauges::value(core, m, fds, &name)? {
                MonitorValue::Int(n) => n as f64,
                MonitorValue::Float(x) => x,
                MonitorValue::Text(_) => return None,
            };
            Some((name, v))
        })
        .collect()
}
