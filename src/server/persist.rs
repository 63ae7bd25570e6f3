//! Where the server meets storage: recovering the database at start, and
//! the adapters that let the log thread and the snapshot thread write
//! ZooKeeper's on-disk formats (`crate::storage`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;

use super::durability::TxnSink;
use super::snapshot::{SnapshotFactory, SnapshotSink};
use super::ServerOptions;
use crate::proto::records::data::{StatPersisted, ACL};
use crate::storage::recover::Recovered;
use crate::storage::snapshot::{write_snapshot, SnapshotWriter};
use crate::storage::txnlog::{TxnLog, TxnLogOptions};
use crate::storage::StorageError;
use crate::tree::txn::Txn;

impl TxnSink for TxnLog {
    fn append(&mut self, txn: &Txn) -> Result<(), String> {
        TxnLog::append(self, txn).map_err(|e| e.to_string())
    }
    fn sync(&mut self) -> Result<(), String> {
        TxnLog::sync(self).map_err(|e| e.to_string())
    }
    fn roll(&mut self) -> Result<(), String> {
        TxnLog::roll(self).map_err(|e| e.to_string())
    }
}

/// Snapshots into `<dataDir>/version-2`.
pub struct SnapshotDir(pub PathBuf);

/// One snapshot in progress on disk.
struct DiskSnapshot {
    dir: PathBuf,
    writer: Option<SnapshotWriter>,
}

impl SnapshotFactory for SnapshotDir {
    fn sink(&mut self) -> Box<dyn SnapshotSink> {
        Box::new(DiskSnapshot {
            dir: self.0.clone(),
            writer: None,
        })
    }
}

impl SnapshotSink for DiskSnapshot {
    fn begin(
        &mut self,
        zxid: i64,
        sessions: &[(i64, i32)],
        acls: &BTreeMap<i64, Vec<ACL>>,
    ) -> Result<(), String> {
        let mut w = SnapshotWriter::create(&self.dir, zxid).map_err(|e| e.to_string())?;
        w.header(sessions, acls).map_err(|e| e.to_string())?;
        self.writer = Some(w);
        Ok(())
    }

    fn node(
        &mut self,
        path: &str,
        data: Option<&Bytes>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), String> {
        let w = self.writer.as_mut().ok_or("node before begin")?;
        w.node_parts(path, data.map(|b| &b[..]), acl, stat)
            .map_err(|e| e.to_string())
    }

    fn finish(&mut self, digest: Option<(i64, i64)>) -> Result<(), String> {
        let w = self.writer.take().ok_or("finish before begin")?;
        w.finish(digest).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Loads the database from the data directories, reporting what recovery
/// repaired. On an empty directory this writes `snapshot.0` at once, so the
/// logs that follow always have a snapshot to start from; after a replay
/// the server snapshots in the background once it serves (ZooKeeper does
/// it before serving — same files, faster restart).
pub fn recover(opts: &ServerOptions) -> Result<Recovered, StorageError> {
    let rec =
        crate::storage::recover::recover(&opts.data_dir, &opts.data_log_dir, opts.extended_types)?;
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
    if rec.snapshot.is_none() {
        // The logs that follow need a snapshot to start from.
        let sessions: Vec<(i64, i32)> = rec.sessions.iter().map(|(&id, &t)| (id, t)).collect();
        write_snapshot(&opts.data_dir, rec.last_zxid, &rec.tree, &sessions)?;
    }
    Ok(rec)
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
