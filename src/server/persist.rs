//! Where the runtime meets storage (`crate::storage`, ZooKeeper's on-disk
//! formats): recovering the database at start and after a TRUNC or reload,
//! the durable Zab state, and the adapters through which the log thread and
//! the snapshot writer threads write.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use super::core::{Database, LogItem, SnapPiece, SnapshotStore, SnapshotWriter, WriterBusy};
use super::durability::TxnSink;
use super::metrics::recovery::RecoveryTimes;
use super::metrics::{ServerMetrics, Summary};
use super::ServerOptions;
use crate::proto::records::data::ACL;
use crate::storage::recover::Recovered;
use crate::storage::snapshot::{write_snapshot, SnapshotWriter as FileWriter};
use crate::storage::txnlog::{TxnLog, TxnLogOptions};
use crate::storage::{self, StorageError};
use crate::tree::DataTree;
use crate::zab::{DurableState, Entry, Zxid};

use super::core::COMMIT_LOG_COUNT;

impl TxnSink for TxnLog {
    fn append(&mut self, item: &LogItem) -> Result<(), StorageError> {
        match item {
            LogItem::Txn(t) => TxnLog::append(self, t),
            LogItem::Marshalled { zxid, bytes } => TxnLog::append_marshalled(self, *zxid, bytes),
        }
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        TxnLog::sync(self)
    }
    fn roll(&mut self) -> Result<(), StorageError> {
        TxnLog::roll(self)
    }
    fn file_size(&self) -> u64 {
        TxnLog::file_size(self)
    }
}

/// Whole milliseconds since `t` (ZooKeeper times these in ms).
fn ms_since(t: Instant) -> i64 {
    t.elapsed().as_millis() as i64
}

/// Snapshots into `<dataDir>/version-2`: each fuzzy snapshot is written by
/// its own thread, fed through a bounded queue, and timed
/// (`snapshottime`: from its start to its file's publication).
pub struct SnapshotDir {
    dir: PathBuf,
    metrics: Option<Arc<ServerMetrics>>,
    /// What loading the database took, reported once the metrics are
    /// attached (the registry is made with the core, after recovery).
    recovered: Option<RecoveryTimes>,
}

impl SnapshotDir {
    /// Snapshots into `data_dir`.
    pub fn new(data_dir: PathBuf) -> SnapshotDir {
        SnapshotDir {
            dir: data_dir,
            metrics: None,
            recovered: None,
        }
    }

    /// Snapshots into `data_dir`, whose database `rec` was just loaded:
    /// its times go to the metrics the store is attached to.
    pub fn recovered(data_dir: PathBuf, rec: &Recovery) -> SnapshotDir {
        SnapshotDir {
            recovered: Some(rec.times),
            ..SnapshotDir::new(data_dir)
        }
    }
}

/// Nodes queued for a snapshot writer thread before the core is told to
/// wait.
const WRITER_QUEUE: usize = 4 * super::core::SNAPSHOT_CHUNK;

struct ThreadWriter(SyncSender<SnapPiece>);

impl SnapshotWriter for ThreadWriter {
    fn try_put(&mut self, piece: SnapPiece) -> Result<(), WriterBusy> {
        match self.0.try_send(piece) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(WriterBusy::Full),
            Err(TrySendError::Disconnected(_)) => Err(WriterBusy::Gone),
        }
    }
}

impl SnapshotStore for SnapshotDir {
    fn begin(
        &mut self,
        zxid: i64,
        sessions: Vec<(i64, i32)>,
        acls: BTreeMap<i64, Vec<ACL>>,
    ) -> Box<dyn SnapshotWriter> {
        let (tx, rx) = sync_channel(WRITER_QUEUE);
        let dir = self.dir.clone();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let spawned = std::thread::Builder::new()
            .name("ferrozk-snapshot".into())
            .spawn(
                move || match write_pieces(&dir, zxid, &sessions, &acls, rx) {
                    Ok(()) => {
                        let ms = ms_since(started);
                        tracing::info!("snapshot 0x{zxid:x} written in {ms} ms");
                        if let Some(m) = metrics {
                            m.observe(Summary::SnapshotTime, ms);
                        }
                    }
                    // A failed snapshot loses nothing (the log has every
                    // transaction); the next roll tries again.
                    Err(e) => tracing::error!("snapshot 0x{zxid:x} failed: {e}"),
                },
            );
        if let Err(e) = spawned {
            // The receiver is gone with the closure: the writer reports it.
            tracing::error!("snapshot 0x{zxid:x}: cannot start its thread: {e}");
        }
        Box::new(ThreadWriter(tx))
    }

    fn save(
        &mut self,
        zxid: i64,
        tree: &DataTree,
        sessions: &[(i64, i32)],
    ) -> Result<(), StorageError> {
        let started = Instant::now();
        write_snapshot(&self.dir, zxid, tree, sessions)?;
        if let Some(m) = &self.metrics {
            m.observe(Summary::SnapshotTime, ms_since(started));
        }
        Ok(())
    }

    fn attach(&mut self, metrics: Arc<ServerMetrics>) {
        if let Some(times) = self.recovered.take() {
            times.record(&metrics);
        }
        self.metrics = Some(metrics);
    }
}

fn write_pieces(
    dir: &std::path::Path,
    zxid: i64,
    sessions: &[(i64, i32)],
    acls: &BTreeMap<i64, Vec<ACL>>,
    rx: Receiver<SnapPiece>,
) -> Result<(), StorageError> {
    let mut w = FileWriter::create(dir, zxid)?;
    w.header(sessions, acls)?;
    while let Ok(piece) = rx.recv() {
        match piece {
            SnapPiece::Node {
                path,
                data,
                acl,
                stat,
            } => w.node_parts(&path, data.as_ref().map(|b| &b[..]), acl, &stat)?,
            SnapPiece::Done(digest) => return w.finish(digest).map(drop),
        }
    }
    Err(StorageError::Usage("snapshot abandoned".into()))
}

/// A database loaded from disk, and what loading it took.
#[derive(Debug)]
pub struct Recovery {
    /// What recovery found.
    pub rec: Recovered,
    /// Its times and counts, for the metrics.
    pub times: RecoveryTimes,
}

impl std::ops::Deref for Recovery {
    type Target = Recovered;
    fn deref(&self) -> &Recovered {
        &self.rec
    }
}

/// Loads the database from the data directories, reporting what recovery
/// repaired, and timing it (ZooKeeper's `dbinittime`). On an empty
/// directory this writes `snapshot.0` at once, so the logs that follow
/// always have a snapshot to start from; after a replay the server
/// snapshots in the background once it serves (ZooKeeper does it before
/// serving — same files, faster restart).
pub fn recover(opts: &ServerOptions) -> Result<Recovery, StorageError> {
    let started = Instant::now();
    let rec = storage::recover::recover(&opts.data_dir, &opts.data_log_dir, opts.extended_types)?;
    let db_init_ms = ms_since(started);
    if let Some(t) = &rec.torn_tail {
        tracing::warn!(
            "torn tail in {} at offset {} ({}): cut off; the log ends at zxid 0x{:x}",
            t.file.display(),
            t.offset,
            t.defect,
            t.last_good_zxid
        );
    }
    for (path, why) in &rec.rejected_snapshots {
        tracing::warn!("snapshot {} skipped: {why}", path.display());
    }
    for m in &rec.digest_mismatches {
        tracing::warn!(
            "tree digest mismatch at zxid 0x{:x}: expected {:x}, computed {:x}",
            m.zxid,
            m.expected,
            m.actual
        );
    }
    if !rec.dead_sessions.is_empty() {
        tracing::info!(
            "removed the ephemerals of {} sessions that expired while down",
            rec.dead_sessions.len()
        );
    }
    tracing::info!(
        "recovered zxid 0x{:x}: {} nodes, {} sessions, {} transactions replayed{}",
        rec.last_zxid,
        rec.tree.len(),
        rec.sessions.len(),
        rec.txns_replayed,
        rec.snapshot
            .as_ref()
            .map(|p| format!(" after {}", p.display()))
            .unwrap_or_default()
    );
    let mut snapshot_ms = None;
    if rec.snapshot.is_none() {
        // The logs that follow need a snapshot to start from.
        let started = Instant::now();
        let sessions: Vec<(i64, i32)> = rec.sessions.iter().map(|(&id, &t)| (id, t)).collect();
        write_snapshot(&opts.data_dir, rec.last_zxid, &rec.tree, &sessions)?;
        snapshot_ms = Some(ms_since(started));
    }
    let times = RecoveryTimes {
        db_init_ms,
        snap_load_ms: rec.snapshot_load.as_millis() as i64,
        txns_load_ms: rec.txns_load.as_millis() as i64,
        txns_loaded: rec.txns_replayed,
        digest_mismatches: rec.digest_mismatches.len() as u64,
        snapshot_ms,
    };
    Ok(Recovery { rec, times })
}

/// The zxid of the snapshot recovery started from (0 without one).
pub fn snapshot_zxid(rec: &Recovered) -> i64 {
    rec.snapshot
        .as_ref()
        .and_then(|p| p.file_name()?.to_str().map(str::to_owned))
        .and_then(|n| storage::datadir::zxid_from_name(&n, storage::datadir::SNAPSHOT_PREFIX))
        .unwrap_or(0)
}

/// The recovered database as the core takes it.
pub fn database(rec: Recovery, durable: Option<DurableState>) -> Database {
    let rec = rec.rec;
    Database {
        tree: rec.tree,
        sessions: rec.sessions.into_iter().collect(),
        digest: rec.digest,
        durable,
    }
}

/// Opens the transaction log for appending.
pub fn open_log(opts: &ServerOptions) -> Result<TxnLog, StorageError> {
    TxnLog::open(
        &opts.data_log_dir,
        TxnLogOptions {
            prealloc_bytes: opts.prealloc_bytes,
            force_sync: opts.force_sync,
            dbid: 0,
        },
    )
}

/// What the disk holds, for a (re)starting Zab peer: epochs, the last
/// zxid and the newest log entries after `replayed_after`.
pub fn durable_state(
    opts: &ServerOptions,
    last_zxid: i64,
    replayed_after: i64,
) -> Result<DurableState, StorageError> {
    let epochs = storage::load_epochs(&opts.data_dir, last_zxid)?;
    // Streamed, keeping only the newest entries: the log after the snapshot
    // can hold up to snapCount transactions.
    let mut recent = std::collections::VecDeque::with_capacity(COMMIT_LOG_COUNT);
    for e in storage::TxnLogReader::open(&opts.data_log_dir, replayed_after)? {
        let t = e?.txn;
        if t.hdr.zxid > last_zxid {
            break;
        }
        if recent.len() == COMMIT_LOG_COUNT {
            recent.pop_front();
        }
        recent.push_back(t);
    }
    let recent = recent
        .iter()
        .map(|t| Entry {
            zxid: Zxid(t.hdr.zxid),
            txn: storage::entry::marshalled(t),
        })
        .collect();
    Ok(DurableState {
        accepted_epoch: epochs.accepted,
        current_epoch: epochs.current,
        last_zxid: Zxid(last_zxid),
        recent,
    })
}

/// A TRUNC (cut the log after `truncate`) and/or a reload: the log must be
/// closed by the caller first and reopened after. The load is recorded in
/// `metrics` (ZooKeeper's `truncateLog` reloads through `loadDataBase`).
pub fn reload(
    opts: &ServerOptions,
    truncate: Option<Zxid>,
    durable: bool,
    metrics: &ServerMetrics,
) -> Result<Database, StorageError> {
    if let Some(z) = truncate {
        match storage::truncate_log(&opts.data_log_dir, z.0)? {
            true => {}
            false if z.0 == 0 => {}
            false => {
                return Err(StorageError::TruncateBeyondLog {
                    dir: opts.data_log_dir.clone(),
                    zxid: z.0,
                })
            }
        }
        for s in storage::snapshots_after(&opts.data_dir, z.0).unwrap_or_default() {
            // A snapshot ahead of the cut would resurrect what was cut.
            tracing::warn!("removing snapshot {} (after TRUNC to {z})", s.display());
            let _ = std::fs::remove_file(&s);
        }
    }
    let rec = recover(opts)?;
    rec.times.record(metrics);
    let state = if durable {
        let last = rec.tree.last_zxid;
        Some(durable_state(opts, last, last)?)
    } else {
        None
    };
    Ok(database(rec, state))
}
