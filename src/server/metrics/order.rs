//! The fixed part of `mntr`'s order: ZooKeeper's counters, summaries and
//! summary sets never leave their maps, so their iteration order is that
//! of the maps built by the `ServerMetrics` constructor — computed once.

use std::sync::OnceLock;

use super::java_map::JavaMap;
use super::names::{Counter, Level, Summary, SummarySet};

/// Each kind's names in ZooKeeper's iteration order.
pub(super) struct Order {
    pub(super) counters: Vec<Counter>,
    pub(super) basic: Vec<Summary>,
    pub(super) advanced: Vec<Summary>,
    pub(super) basic_sets: Vec<SummarySet>,
    pub(super) advanced_sets: Vec<SummarySet>,
}

/// Orders `all` (in registration order) as a map of their names iterates.
fn ordered<T: Copy>(all: impl Iterator<Item = T> + Clone, name: fn(T) -> &'static str) -> Vec<T> {
    let map = JavaMap::from_keys(all.clone().map(name));
    map.keys()
        .filter_map(|k| all.clone().find(|&t| name(t) == k))
        .collect()
}

/// The orders (computed on first use).
pub(super) fn get() -> &'static Order {
    static ORDER: OnceLock<Order> = OnceLock::new();
    ORDER.get_or_init(|| {
        let summaries = |l: Level| Summary::ALL.iter().copied().filter(move |s| s.level() == l);
        let sets = |l: Level| {
            SummarySet::ALL
                .iter()
                .copied()
                .filter(move |s| s.level() == l)
        };
        Order {
            counters: ordered(Counter::ALL.iter().copied(), Counter::name),
            basic: ordered(summaries(Level::Basic), Summary::name),
            advanced: ordered(summaries(Level::Advanced), Summary::name),
            basic_sets: ordered(sets(Level::Basic), SummarySet::name),
            advanced_sets: ordered(sets(Level::Advanced), SummarySet::name),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::java_map::JavaMap;
    use super::super::names::SERVER_GAUGES;
    use super::*;

    /// The order Apache ZooKeeper 3.8.0's standalone `mntr` printed its
    /// gauges and first counters in (a capture on this machine).
    #[test]
    fn standalone_order_is_apaches() {
        let map = JavaMap::from_keys(SERVER_GAUGES.iter().copied());
        let gauges: Vec<&str> = map.keys().collect();
        assert_eq!(
            gauges[..8],
            [
                "ephemerals_count",
                "num_alive_connections",
                "avg_latency",
                "outstanding_requests",
                "znode_count",
                "global_sessions",
                "non_mtls_remote_conn_count",
                "last_client_response_size",
            ]
        );
        assert_eq!(gauges.last(), Some(&"non_mtls_local_conn_count"));
        let o = get();
        let first: Vec<&str> = o.counters[..3].iter().map(|c| c.name()).collect();
        assert_eq!(
            first,
            [
                "proposal_count",
                "watch_bytes",
                "outstanding_changes_removed"
            ]
        );
        assert_eq!(o.basic[0].name(), "socket_closing_time");
        assert_eq!(o.advanced[0].name(), "prep_processor_queue_time_ms");
        let sets: Vec<&str> = o.basic_sets.iter().map(|s| s.name()).collect();
        assert_eq!(sets[..2], ["learner_handler_qp_size", "read_per_namespace"]);
    }
}
