//! The log thread: appends transactions to the log and makes them durable in
//! groups, then tells the core how far durability reached.
//!
//! Group commit: the thread blocks for one transaction, then takes every
//! transaction that queued up meanwhile (while the previous fsync ran),
//! appends them all and syncs once. So under load one fsync covers many
//! transactions, and under light load a lone write is synced at once.
//!
//! Snapshots follow ZooKeeper's SyncRequestProcessor: after appending a
//! transaction, once more than `snapCount/2 + randRoll` transactions or
//! (with `snapSizeLimitInKb`) more than `snapSize/2 + randSize` bytes of log
//! were written since the last snapshot, the thread starts a new log file
//! and asks the core for a snapshot; `randRoll` and `randSize` are drawn
//! anew each time from `[0, snapCount/2)` and `[0, snapSize/2)`, so that the
//! servers of an ensemble do not snapshot at the same moment. The draws
//! come from a seed the runtime passes in ([`RollLimits::seed`]). Apart from
//! that, `txnLogSizeLimitInKb` rolls a file (no snapshot) after the sync
//! that took it past the limit (FileTxnLog.commit).
//!
//! A storage failure ends the thread with [`LogEvent::Failed`]: the runtime
//! stops the server, since acknowledging a write that may not be on disk is
//! the one thing it must never do.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Instant;

use tokio::sync::mpsc;

use super::core::{LogItem, LogReport};
use super::metrics::{observe, ServerMetrics};
use crate::storage::StorageError;

/// Where transactions go to become durable (the transaction log).
pub trait TxnSink: Send + 'static {
    /// Buffers one transaction.
    fn append(&mut self, item: &LogItem) -> Result<(), StorageError>;
    /// Writes what is buffered and makes it durable.
    fn sync(&mut self) -> Result<(), StorageError>;
    /// Makes the next append start a new log file.
    fn roll(&mut self) -> Result<(), StorageError>;
    /// Size of the current log file on disk (preallocation included); 0
    /// when there is none, or for sinks that do not track it.
    fn file_size(&self) -> u64 {
        0
    }
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
    /// The server's metrics (fsync time, group sizes, queue times).
    pub metrics: Arc<ServerMetrics>,
}

impl SyncStats {
    /// Counters that also feed the server's metrics.
    pub fn with_metrics(metrics: Arc<ServerMetrics>) -> SyncStats {
        SyncStats {
            syncs: AtomicU64::new(0),
            txns: AtomicU64::new(0),
            metrics,
        }
    }
}

/// Largest group of transactions one sync covers; bounds latency of the
/// first one in a huge burst.
const MAX_GROUP: usize = 10_000;

/// When the log rolls: the limits of the options, and the seed of the
/// randomised snapshot points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollLimits {
    /// snapCount (at least 2, as ZooKeeperServer.getSnapCount).
    pub snap_count: u64,
    /// snapSizeLimitInKb in bytes; 0 = no size trigger.
    pub snap_size_bytes: u64,
    /// txnLogSizeLimitInKb in bytes; 0 = no limit.
    pub file_limit_bytes: u64,
    /// Seeds randRoll/randSize (the runtime's clock; a test's constant).
    pub seed: u64,
}

impl RollLimits {
    /// The limits of `opts`, seeded from the wall clock.
    pub fn from_options(opts: &super::ServerOptions) -> RollLimits {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        RollLimits {
            snap_count: u64::from(opts.snap_count),
            snap_size_bytes: opts.snap_size_bytes,
            file_limit_bytes: opts.txn_log_size_limit_bytes,
            seed,
        }
    }
}

/// ZooKeeper's snapshot and roll decisions (see the module doc), counted
/// since the last snapshot.
struct RollPolicy {
    limits: RollLimits,
    /// Transactions appended since the last snapshot (`txnCount`).
    count: u64,
    /// Bytes of the files rolled by size since then (`prevLogsRunningTotal`).
    rolled_bytes: u64,
    rand_roll: u64,
    rand_size: u64,
    seed: u64,
}

impl RollPolicy {
    fn new(limits: RollLimits) -> RollPolicy {
        let mut p = RollPolicy {
            limits: RollLimits {
                snap_count: limits.snap_count.max(2),
                ..limits
            },
            count: 0,
            rolled_bytes: 0,
            rand_roll: 0,
            rand_size: 0,
            seed: limits.seed | 1,
        };
        p.reset();
        p
    }

    fn next(&mut self) -> u64 {
        // xorshift64: the only randomness needed is "not the same as the
        // other servers", so no RNG crate.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// `resetSnapshotStats` plus the counters `rollLog` resets.
    fn reset(&mut self) {
        let half = self.limits.snap_count / 2;
        self.rand_roll = self.next() % half.max(1);
        let half_size = self.limits.snap_size_bytes / 2;
        self.rand_size = self.next() % half_size.max(1);
        self.count = 0;
        self.rolled_bytes = 0;
    }

    /// Counts one appended transaction (`file_size`: the current file
    /// now); true when it is time to roll and snapshot (`shouldSnapshot`).
    fn appended(&mut self, file_size: u64) -> bool {
        self.count += 1;
        let by_count = self.count > self.limits.snap_count / 2 + self.rand_roll;
        let size = self.limits.snap_size_bytes;
        let by_size = size > 0 && self.rolled_bytes + file_size > size / 2 + self.rand_size;
        if by_count || by_size {
            self.reset();
            true
        } else {
            false
        }
    }

    /// After a sync: true when the current file passed
    /// `txnLogSizeLimitInKb` and must be rolled (no snapshot).
    fn synced(&mut self, file_size: u64) -> bool {
        let limit = self.limits.file_limit_bytes;
        if limit > 0 && file_size > limit {
            self.rolled_bytes += file_size;
            true
        } else {
            false
        }
    }
}

/// A transaction in the log thread's queue, with when it was queued
/// (SyncRequestProcessor's `syncQueueStartTime`).
struct Queued {
    item: LogItem,
    at: Instant,
}

/// The log thread's queue, as the runtime sends into it: each
/// transaction is stamped with the time it was queued, and the queue's
/// depth is counted (the log thread's queue metrics).
pub struct LogQueue {
    tx: std_mpsc::Sender<Queued>,
    depth: Arc<AtomicUsize>,
}

impl LogQueue {
    /// Queues a transaction; it comes back if the thread has ended.
    pub fn send(&self, item: LogItem) -> Result<(), std_mpsc::SendError<LogItem>> {
        self.depth.fetch_add(1, Ordering::Relaxed);
        let queued = Queued {
            item,
            at: Instant::now(),
        };
        self.tx.send(queued).map_err(|e| {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            std_mpsc::SendError(e.0.item)
        })
    }
}

/// The log thread's end of the queue.
struct Taker {
    rx: std_mpsc::Receiver<Queued>,
    depth: Arc<AtomicUsize>,
    metrics: Arc<ServerMetrics>,
    /// A sample of the depth taken before the last (failed) poll stands
    /// for the blocking wait that follows it, as in SyncRequestProcessor
    /// (one sample per turn of its loop).
    sampled: bool,
}

impl Taker {
    fn sample(&mut self) {
        observe::sync_queue(&self.metrics, self.depth.load(Ordering::Relaxed));
    }

    fn took(&self, q: &Queued) {
        self.depth.fetch_sub(1, Ordering::Relaxed);
        observe::sync_taken(&self.metrics, q.at);
    }

    /// Waits for the next transaction (none: every sender is gone).
    fn wait(&mut self) -> Option<Queued> {
        if !std::mem::take(&mut self.sampled) {
            self.sample();
        }
        let q = self.rx.recv().ok()?;
        self.took(&q);
        Some(q)
    }

    /// The next transaction if one is queued.
    fn poll(&mut self) -> Option<Queued> {
        self.sample();
        match self.rx.try_recv() {
            Ok(q) => {
                self.took(&q);
                Some(q)
            }
            Err(_) => {
                self.sampled = true;
                None
            }
        }
    }
}

/// Starts the log thread. Transactions sent to the returned queue are
/// made durable in order; after each group the zxid of its last
/// transaction is reported on `events`. Dropping the queue stops the
/// thread once everything sent is durable (join the handle to wait).
pub fn spawn(
    mut sink: Box<dyn TxnSink>,
    events: mpsc::UnboundedSender<LogEvent>,
    stats: Arc<SyncStats>,
    limits: RollLimits,
) -> (LogQueue, std::thread::JoinHandle<()>) {
    let (tx, rx) = std_mpsc::channel::<Queued>();
    let depth = Arc::new(AtomicUsize::new(0));
    let queue = LogQueue {
        tx,
        depth: depth.clone(),
    };
    let mut taker = Taker {
        rx,
        depth,
        metrics: stats.metrics.clone(),
        sampled: false,
    };
    let mut policy = RollPolicy::new(limits);
    let thread = std::thread::Builder::new()
        .name("ferrozk-log".into())
        .spawn(move || {
            let fail = |what: &'static str, source: StorageError| {
                tracing::error!("transaction log {what} failed: {source}; stopping (no unsynced write is acknowledged)");
                let _ = events.send(LogEvent::Failed { what, source });
            };
            // The transaction that reaches the limit is the last of its
            // file, as in SyncRequestProcessor (append, then roll).
            let append = |item: &LogItem, sink: &mut Box<dyn TxnSink>, policy: &mut RollPolicy| {
                sink.append(item).map_err(|e| ("append", e))?;
                if policy.appended(sink.file_size()) {
                    sink.roll().map_err(|e| ("roll", e))?;
                    let _ = events.send(LogEvent::Report(LogReport::SnapshotDue));
                }
                Ok(())
            };
            // When each transaction of the group was queued (reused).
            let mut queued: Vec<Instant> = Vec::new();
            while let Some(first) = taker.wait() {
                let started = Instant::now();
                let mut last = first.item.zxid();
                queued.clear();
                queued.push(first.at);
                let mut group = append(&first.item, &mut sink, &mut policy);
                while group.is_ok() && queued.len() < MAX_GROUP {
                    match taker.poll() {
                        Some(q) => {
                            last = q.item.zxid();
                            queued.push(q.at);
                            group = append(&q.item, &mut sink, &mut policy);
                        }
                        None => break,
                    }
                }
                let count = queued.len() as u64;
                let flushing = Instant::now();
                if let Err((what, e)) = group.and_then(|()| sink.sync().map_err(|e| ("sync", e))) {
                    return fail(what, e);
                }
                observe::synced(&stats.metrics, &queued, started, flushing);
                if policy.synced(sink.file_size()) {
                    tracing::debug!("log size limit reached: {} bytes", sink.file_size());
                    if let Err(e) = sink.roll() {
                        return fail("roll", e);
                    }
                }
                stats.syncs.fetch_add(1, Ordering::Relaxed);
                stats.txns.fetch_add(count, Ordering::Relaxed);
                if events.send(LogEvent::Report(LogReport::Durable(last))).is_err() {
                    return;
                }
            }
        })
        .expect("spawn the log thread");
    (queue, thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(snap_count: u64, snap_size_bytes: u64, file_limit_bytes: u64) -> RollLimits {
        RollLimits {
            snap_count,
            snap_size_bytes,
            file_limit_bytes,
            seed: 42,
        }
    }

    /// Gaps between snapshots, counting transactions appended with
    /// `bytes` each to one growing file.
    fn gaps(p: &mut RollPolicy, txns: usize, bytes: u64) -> Vec<u64> {
        let (mut gaps, mut n, mut size) = (Vec::new(), 0, 0);
        for _ in 0..txns {
            n += 1;
            size += bytes;
            if p.appended(size) {
                gaps.push(n);
                n = 0;
                size = 0;
            }
        }
        gaps
    }

    /// Transactions until the first snapshot.
    fn gaps_of(p: &mut RollPolicy) -> u64 {
        (1..).find(|_| p.appended(0)).expect("rolls")
    }

    /// SyncRequestProcessor: logCount > snapCount/2 + randRoll, randRoll in
    /// [0, snapCount/2): the snapshot comes at the 51st to 100th txn.
    #[test]
    fn snapshots_between_half_and_all_of_snap_count() {
        let mut p = RollPolicy::new(limits(100, 0, 0));
        let gaps = gaps(&mut p, 10_000, 100);
        assert!(gaps.len() > 100);
        assert!(gaps.iter().all(|&g| (51..=100).contains(&g)), "{gaps:?}");
        assert!(gaps.iter().any(|&g| g != gaps[0]), "randomised");
        let mut tiny = RollPolicy::new(limits(1, 0, 0));
        assert_eq!(gaps_of(&mut tiny), 2, "snapCount below 2 counts as 2");
    }

    /// `snapSizeLimitInKb`: logSize > snapSize/2 + randSize.
    #[test]
    fn snapshots_by_log_size_between_half_and_all_of_the_limit() {
        let mut p = RollPolicy::new(limits(1_000_000, 10_000, 0));
        let gaps = gaps(&mut p, 10_000, 100);
        // 100 bytes a txn: past 5000 + [0, 5000) bytes, the 51st to 100th.
        assert!(gaps.iter().all(|&g| (51..=100).contains(&g)), "{gaps:?}");
        assert!(gaps.iter().any(|&g| g != gaps[0]), "randomised");
    }

    /// `txnLogSizeLimitInKb`: a roll without a snapshot once the file is
    /// past the limit after a sync; the rolled bytes still count towards
    /// the size-triggered snapshot.
    #[test]
    fn file_size_limit_rolls_and_counts_towards_the_snapshot_size() {
        let mut p = RollPolicy::new(limits(1_000_000, 0, 4096));
        assert!(!p.synced(4096), "at the limit: not past it");
        assert!(p.synced(4097));
        assert_eq!(p.rolled_bytes, 4097);
        let mut off = RollPolicy::new(limits(1_000_000, 0, 0));
        assert!(!off.synced(u64::MAX), "0 = no limit");
        let mut both = RollPolicy::new(limits(1_000_000, 2, 4096));
        assert!(both.synced(5000));
        assert!(both.appended(0), "5000 rolled bytes are past 1 + randSize");
        assert_eq!(both.rolled_bytes, 0, "a snapshot resets the running total");
    }
}
