//! What loading the database from disk took, as ZooKeeper's
//! `ZKDatabase.loadDataBase` and `FileTxnSnapLog.restore` report it: at
//! start-up, and again whenever a learner reloads (after a TRUNC).

use super::names::{Counter, Summary};
use super::registry::ServerMetrics;

/// One load of the database (measured by `server::persist`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryTimes {
    /// The whole load: snapshot, log replay, dead sessions (`dbinittime`).
    pub db_init_ms: i64,
    /// Finding, reading and building the snapshot
    /// (`startup_snap_load_time`).
    pub snap_load_ms: i64,
    /// Replaying the log after it (`startup_txns_load_time`).
    pub txns_load_ms: i64,
    /// Transactions replayed from the log after the snapshot
    /// (`startup_txns_loaded`).
    pub txns_loaded: u64,
    /// Digests that did not match during the replay
    /// (`digest_mismatches_count`).
    pub digest_mismatches: u64,
    /// The snapshot written because there was none (`snapshottime`).
    pub snapshot_ms: Option<i64>,
}

impl RecoveryTimes {
    /// Records this load. As in `fastForwardFromEdits`, the replay's
    /// summary is recorded only when the log had transactions to replay.
    pub fn record(&self, m: &ServerMetrics) {
        m.observe(Summary::DbInitTime, self.db_init_ms);
        m.observe(Summary::StartupSnapLoadTime, self.snap_load_ms);
        if self.txns_loaded > 0 {
            m.observe(Summary::StartupTxnsLoaded, self.txns_loaded as i64);
            m.observe(Summary::StartupTxnsLoadTime, self.txns_load_ms);
        }
        m.count(Counter::DigestMismatchesCount, self.digest_mismatches);
        if let Some(ms) = self.snapshot_ms {
            m.observe(Summary::SnapshotTime, ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_replay_records_no_txns_summary() {
        let m = ServerMetrics::default();
        RecoveryTimes {
            db_init_ms: 3,
            ..Default::default()
        }
        .record(&m);
        assert_eq!(m.summary(Summary::DbInitTime).count, 1);
        assert_eq!(m.summary(Summary::StartupTxnsLoaded).count, 0);
        RecoveryTimes {
            txns_loaded: 7,
            digest_mismatches: 1,
            snapshot_ms: Some(2),
            ..Default::default()
        }
        .record(&m);
        assert_eq!(m.summary(Summary::StartupTxnsLoaded).sum, 7);
        assert_eq!(m.counter(Counter::DigestMismatchesCount), 1);
        assert_eq!(m.summary(Summary::SnapshotTime).count, 1);
    }
}
