//! The log thread: appends transactions to the log and makes them durable in
//! groups, then tells the core how far durability reached.
//!
//! Group commit: the thread blocks for one transaction, then takes every
//! transaction that queued up meanwhile (while the previous fsync ran),
//! appends them all and syncs once. So under load one fsync covers many
//! transactions, and under light load a lone write is synced at once.
//!
//! Every `snapCount/2 + random(snapCount/2)` transactions (ZooKeeper's
//! randomised roll, so that servers of an ensemble do not snapshot at the
//! same moment) the thread starts a new log file and asks the core for a
//! snapshot.
//!
//! A storage failure ends the thread with [`LogEvent::Failed`]: the runtime
//! stops the server, since acknowledging a write that may not be on disk is
//! the one thing it must never do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};

use tokio::sync::mpsc;

use super::core::{LogItem, LogReport};
use crate::storage::StorageError;

/// Where transactions go to become durable (the transaction log).
pub trait TxnSink: Send + 'static {
    /// Buffers one transaction.
    fn append(&mut self, item: &LogItem) -> Result<(), StorageError>;
    /// Writes what is buffered and makes it durable.
    fn sync(&mut self) -> Result<(), StorageError>;
    /// Makes the next append start a new log file.
    fn roll(&mut self) -> Result<(), StorageError>;
}

/// What the log thread tells the runtime.
#[derive(Debug)]
pub enum LogEvent {
    /// For the core.
    Report(LogReport),
    /// The log failed (the thread has ended): the server must stop.
    Failed {
        /// What the thread was doing.
        what: &'static str,
        /// The failure.
        source: StorageError,
    },
}

/// Counters of the log thread (for `mntr` and the benchmark).
#[derive(Debug, Default)]
pub struct SyncStats {
    /// Number of syncs (fsyncs when forceSync is on).
    pub syncs: AtomicU64,
    /// Transactions made durable.
    pub txns: AtomicU64,
}

/// Largest group of transactions one sync covers; bounds latency of the
/// first one in a huge burst.
const MAX_GROUP: usize = 10_000;

/// When to roll the log and snapshot: after `snap_count / 2 + r` appended
/// transactions, `r` drawn anew in `[0, snap_count / 2)` each time.
struct RollPolicy {
    snap_count: u64,
    since_roll: u64,
    threshold: u64,
    seed: u64,
}

impl RollPolicy {
    fn new(snap_count: u64, seed: u64) -> RollPolicy {
        let mut p = RollPolicy {
            snap_count: snap_count.max(2),
            since_roll: 0,
            threshold: 0,
            seed: seed | 1,
        };
        p.draw();
        p
    }

    fn draw(&mut self) {
        // xorshift64: the only randomness needed is "not the same as the
        // other servers", so no RNG crate.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = self.snap_count / 2;
        self.threshold = half + self.seed % half.max(1);
        self.since_roll = 0;
    }

    /// Counts one transaction; true when the log should roll now.
    fn count(&mut self) -> bool {
        self.since_roll += 1;
        if self.since_roll > self.threshold {
            self.draw();
            true
        } else {
            false
        }
    }
}

/// Starts the log thread. Transactions sent to the returned channel are
/// made durable in order; after each group the zxid of its last
/// transaction is reported on `events`. Dropping the channel stops the
/// thread once everything sent is durable (join the handle to wait).
pub fn spawn(
    mut sink: Box<dyn TxnSink>,
    events: mpsc::UnboundedSender<LogEvent>,
    stats: Arc<SyncStats>,
    snap_count: u64,
) -> (std_mpsc::Sender<LogItem>, std::thread::JoinHandle<()>) {
    let (tx, rx) = std_mpsc::channel::<LogItem>();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut policy = RollPolicy::new(snap_count, seed);
    let thread = std::thread::Builder::new()
        .name("ferrozk-log".into())
        .spawn(move || {
            let fail = |what: &'static str, source: StorageError| {
                tracing::error!("transaction log {what} failed: {source}; stopping (no unsynced write is acknowledged)");
                let _ = events.send(LogEvent::Failed { what, source });
            };
            let mut append = |item: &LogItem, sink: &mut Box<dyn TxnSink>| {
                if policy.count() {
                    sink.roll().map_err(|e| ("roll", e))?;
                    let _ = events.send(LogEvent::Report(LogReport::SnapshotDue));
                }
                sink.append(item).map_err(|e| ("append", e))
            };
            while let Ok(first) = rx.recv() {
                let mut last = first.zxid();
                let mut count = 1u64;
                let mut group = append(&first, &mut sink);
                while group.is_ok() && (count as usize) < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(item) => {
                            last = item.zxid();
                            count += 1;
                            group = append(&item, &mut sink);
                        }
                        Err(_) => break,
                    }
                }
                if let Err((what, e)) = group.and_then(|()| sink.sync().map_err(|e| ("sync", e))) {
                    return fail(what, e);
                }
                stats.syncs.fetch_add(1, Ordering::Relaxed);
                stats.txns.fetch_add(count, Ordering::Relaxed);
                if events.send(LogEvent::Report(LogReport::Durable(last))).is_err() {
                    return;
                }
            }
        })
        .expect("spawn the log thread");
    (tx, thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_between_half_and_all_of_snap_count() {
        let mut p = RollPolicy::new(100, 42);
        let mut gaps = Vec::new();
        let mut n = 0;
        for _ in 0..10_000 {
            n += 1;
            if p.count() {
                gaps.push(n);
                n = 0;
            }
        }
        assert!(gaps.len() > 50);
        assert!(gaps.iter().all(|&g| (51..=101).contains(&g)), "{gaps:?}");
        assert!(gaps.iter().any(|&g| g != gaps[0]), "randomised");
    }
}
