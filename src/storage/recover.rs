//! Recovery at startup (FileTxnSnapLog.restore + ZooKeeperServer.loadData):
//! the newest valid snapshot, then every logged transaction after it.
//!
//! 1. Snapshots newest first; one that fails its checks is skipped with a
//!    warning and the next older one is tried (FileSnap.deserialize tries
//!    up to 100). A compressed snapshot stops recovery with a clear error
//!    rather than silently falling back.
//! 2. No snapshot: an empty tree at zxid 0 if there are no logs either;
//!    logs without a snapshot are refused (ZooKeeper's
//!    `zookeeper.snapshot.trust.empty`, here [`RecoverOptions::trust_empty_snapshot`]).
//! 3. Replay of every transaction with zxid above the snapshot's, through
//!    `DataTree::apply`, tolerant of a fuzzy snapshot that already holds
//!    some of their effects: errors are ignored, and a `create` (opcode 1
//!    only, as in ZooKeeper) that finds its node raises the parent's
//!    cversion/pzxid instead (DataTree.processTxn). createSession and
//!    closeSession add and remove sessions.
//! 4. A torn tail of the newest log is cut off (with a warning); corruption
//!    anywhere else is an error.
//! 5. Ephemerals whose owner has no session are deleted, as ZooKeeper's
//!    loadData does ("clean up dead sessions"). This change is not logged:
//!    like ZooKeeper, the server should take a snapshot after recovery.
//!
//! Digests are checked as ZooKeeper does: the snapshot's digest when replay
//! reaches its zxid (until then the tree is "fuzzy" and per-transaction
//! digests are not compared), then each logged TxnDigest. Mismatches are
//! reported, not fatal (ZooKeeper only logs them too).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::datadir::{self, LOG_PREFIX, SNAPSHOT_PREFIX};
use super::digest::{self, apply_tracked};
use super::error::StorageError;
use super::logread::{truncate_torn_tail, TornTail, TxnLogReader};
use super::snapshot::DIGEST_VERSION;
use super::snapshot_read::{self, read_snapshot, Snapshot, ZxidDigest};
use crate::proto::path;
use crate::proto::records::txn::{CloseSessionTxn, TxnHeader};
use crate::proto::{ErrorCode, OpCode};
use crate::tree::data_tree::Restore;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::DataTree;

/// How many snapshots recovery tries before giving up (FileSnap).
const MAX_SNAPSHOTS_TRIED: usize = 100;

/// Recovery settings.
#[derive(Debug, Clone, Default)]
pub struct RecoverOptions {
    /// TTL nodes enabled (`extendedTypesEnabled`).
    pub extended_types: bool,
    /// Report a torn tail without cutting it (read-only tools).
    pub keep_torn_tail: bool,
    /// Accept logs without any snapshot (`zookeeper.snapshot.trust.empty`).
    pub trust_empty_snapshot: bool,
}

/// A digest that did not match during replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestMismatch {
    /// After which transaction.
    pub zxid: i64,
    /// What the log or snapshot says.
    pub expected: i64,
    /// What our tree has.
    pub actual: i64,
}

/// The state recovered from disk.
#[derive(Debug)]
pub struct Recovered {
    /// The tree.
    pub tree: DataTree,
    /// Live sessions and their timeouts (ms).
    pub sessions: BTreeMap<i64, i32>,
    /// Highest zxid in the snapshot name or the replayed log (0 if empty).
    pub last_zxid: i64,
    /// The snapshot used, if any.
    pub snapshot: Option<PathBuf>,
    /// Newer snapshots that were rejected, and why.
    pub rejected_snapshots: Vec<(PathBuf, String)>,
    /// Transactions replayed from the log.
    pub txns_replayed: u64,
    /// The torn tail found at the end of the log (cut off unless
    /// `keep_torn_tail`).
    pub torn_tail: Option<TornTail>,
    /// The tree digest at the end.
    pub digest: i64,
    /// Digests compared (snapshot and transaction digests).
    pub digests_checked: u64,
    /// Digests that did not match.
    pub digest_mismatches: Vec<DigestMismatch>,
    /// Sessions whose ephemerals were deleted because the session is gone.
    pub dead_sessions: Vec<i64>,
    /// How long finding, reading and building the snapshot took
    /// (ZooKeeper's `startup_snap_load_time`).
    pub snapshot_load: std::time::Duration,
    /// How long replaying the log took (`startup_txns_load_time`).
    pub txns_load: std::time::Duration,
}

/// Recovers with default options (torn tails are cut).
pub fn recover(
    data_dir: &Path,
    data_log_dir: &Path,
    extended_types: bool,
) -> Result<Recovered, StorageError> {
    recover_with(
        data_dir,
        data_log_dir,
        &RecoverOptions {
            extended_types,
            ..Default::default()
        },
    )
}

/// Recovers the tree and sessions from `data_dir` (snapshots) and
/// `data_log_dir` (logs).
pub fn recover_with(
    data_dir: &Path,
    data_log_dir: &Path,
    opts: &RecoverOptions,
) -> Result<Recovered, StorageError> {
    let snap_started = std::time::Instant::now();
    let (snap, rejected) = newest_valid_snapshot(data_dir, opts.extended_types)?;
    let snapshot_load = snap_started.elapsed();
    let mut rec = Recovered {
        tree: DataTree::new(opts.extended_types),
        sessions: BTreeMap::new(),
        last_zxid: 0,
        snapshot: None,
        rejected_snapshots: rejected,
        txns_replayed: 0,
        torn_tail: None,
        digest: 0,
        digests_checked: 0,
        digest_mismatches: Vec::new(),
        dead_sessions: Vec::new(),
        snapshot_load,
        txns_load: std::time::Duration::ZERO,
    };
    let mut pending: Option<ZxidDigest> = None;
    match snap {
        Some((tree, s)) => {
            rec.tree = tree;
            rec.sessions = s.sessions.iter().copied().collect();
            rec.last_zxid = s.zxid;
            rec.snapshot = Some(s.path.clone());
            pending = s.digest.filter(|d| d.zxid >= s.zxid);
        }
        None => {
            let logs = datadir::list(&datadir::version_dir(data_log_dir), LOG_PREFIX)?;
            if !logs.is_empty() && !opts.trust_empty_snapshot {
                return Err(StorageError::LogsWithoutSnapshot {
                    dir: data_log_dir.to_path_buf(),
                });
            }
        }
    }
    rec.digest = digest::tree_digest(&rec.tree);
    let start = rec.last_zxid;
    check_snapshot_digest(&mut rec, &mut pending, start);

    let txns_started = std::time::Instant::now();
    let mut reader = TxnLogReader::open(data_log_dir, rec.last_zxid)?;
    for entry in reader.by_ref() {
        let entry = entry?;
        replay(&mut rec, &entry.txn);
        check_snapshot_digest(&mut rec, &mut pending, entry.txn.hdr.zxid);
        if pending.is_none() {
            if let Some(d) = entry.txn.digest.filter(|d| d.version == DIGEST_VERSION) {
                compare(&mut rec, entry.txn.hdr.zxid, d.tree_digest);
            }
        }
    }
    rec.txns_load = txns_started.elapsed();
    if let Some(tail) = reader.torn_tail() {
        tracing::warn!(
            "torn write at the end of {} at offset {} ({}); {}",
            tail.file.display(),
            tail.offset,
            tail.defect,
            if opts.keep_torn_tail {
                "left in place"
            } else {
                "cutting it off"
            }
        );
        if !opts.keep_torn_tail {
            truncate_torn_tail(tail)?;
        }
        rec.torn_tail = Some(tail.clone());
    }
    if let Some(p) = pending {
        tracing::warn!(
            "replay ended at {:#x} before the snapshot digest's zxid {:#x}",
            rec.last_zxid,
            p.zxid
        );
    }
    kill_dead_sessions(&mut rec);
    Ok(rec)
}

/// The newest snapshot that reads and builds, and the rejected newer ones.
#[allow(clippy::type_complexity)]
fn newest_valid_snapshot(
    data_dir: &Path,
    extended_types: bool,
) -> Result<(Option<(DataTree, Snapshot)>, Vec<(PathBuf, String)>), StorageError> {
    let mut all = datadir::list(&datadir::version_dir(data_dir), SNAPSHOT_PREFIX)?;
    all.reverse();
    let mut rejected = Vec::new();
    let mut tried = 0;
    for (_, path) in all {
        if !snapshot_read::looks_complete(&path) {
            rejected.push((path, "incomplete: no end seal".to_string()));
            continue;
        }
        if tried == MAX_SNAPSHOTS_TRIED {
            break;
        }
        tried += 1;
        let reason = match read_snapshot(&path) {
            Ok(s) => match build_tree(&s, extended_types) {
                Ok(tree) => return Ok((Some((tree, s)), rejected)),
                Err(e) => e,
            },
            Err(e @ StorageError::UnsupportedCompression { .. }) => return Err(e),
            Err(e) => e.to_string(),
        };
        tracing::warn!("skipping snapshot {}: {reason}", path.display());
        rejected.push((path, reason));
    }
    if tried > 0 {
        return Err(StorageError::NoValidSnapshot {
            dir: data_dir.to_path_buf(),
            tried: rejected,
        });
    }
    Ok((None, rejected))
}

/// A tree from a snapshot's nodes (no log replay).
pub fn build_tree(s: &Snapshot, extended_types: bool) -> Result<DataTree, String> {
    let mut r = Restore::new(extended_types, s.acls.clone());
    for n in &s.nodes {
        r.insert(&n.path, n.data.as_deref(), n.acl, n.stat.clone())?;
    }
    r.finish(s.zxid)
}

/// Applies one logged transaction as ZooKeeper's replay does.
fn replay(rec: &mut Recovered, txn: &Txn) {
    let h = &txn.hdr;
    match &txn.body {
        TxnBody::CreateSession(cs) => {
            rec.sessions.insert(h.client_id, cs.time_out);
        }
        TxnBody::CloseSession(_) => {
            rec.sessions.remove(&h.client_id);
        }
        _ => {}
    }
    let mut out = Vec::new();
    apply_tracked(
        &mut rec.tree,
        txn,
        &mut rec.digest,
        |tree, txn, out| {
            let rc = tree.apply(txn, out);
            if let (true, TxnBody::Create(c)) = (
                h.r#type == OpCode::Create.code() && rc.err == ErrorCode::NodeExists.code(),
                &txn.body,
            ) {
                tree.set_cversion_pzxid(path::parent(&c.path), c.parent_c_version, h.zxid);
            }
            rc
        },
        &mut out,
    );
    rec.txns_replayed += 1;
    rec.last_zxid = rec.last_zxid.max(h.zxid);
}

fn compare(rec: &mut Recovered, zxid: i64, expected: i64) {
    rec.digests_checked += 1;
    if expected != rec.digest {
        tracing::error!(
            "digest mismatch after {zxid:#x}: logged {expected}, tree {}",
            rec.digest
        );
        rec.digest_mismatches.push(DigestMismatch {
            zxid,
            expected,
            actual: rec.digest,
        });
    }
}

/// DataTree.compareSnapshotDigests: compares once replay reaches the
/// snapshot digest's zxid, ending the fuzzy phase.
fn check_snapshot_digest(rec: &mut Recovered, pending: &mut Option<ZxidDigest>, zxid: i64) {
    if let Some(d) = *pending {
        if d.zxid == zxid {
            if d.version == DIGEST_VERSION {
                compare(rec, zxid, d.digest);
            }
            *pending = None;
        }
    }
}

fn kill_dead_sessions(rec: &mut Recovered) {
    let dead: Vec<i64> = rec
        .tree
        .all_ephemerals()
        .keys()
        .copied()
        .filter(|s| !rec.sessions.contains_key(s))
        .collect();
    for session in dead {
        tracing::info!("deleting the ephemerals of dead session {session:#x}");
        let txn = Txn {
            hdr: TxnHeader {
                client_id: session,
                cxid: 0,
                zxid: rec.last_zxid,
                time: 0,
                r#type: OpCode::CloseSession.code(),
            },
            body: TxnBody::CloseSession(CloseSessionTxn::default()),
            digest: None,
        };
        let mut out = Vec::new();
        apply_tracked(
            &mut rec.tree,
            &txn,
            &mut rec.digest,
            |t, txn, out| t.apply(txn, out),
            &mut out,
        );
        rec.dead_sessions.push(session);
    }
}
