//! The layout of a data directory, as Apache ZooKeeper 3.8 uses it
//! (FileTxnSnapLog, Util, FileSnap.findNValidSnapshots, PurgeTxnLog).
//!
//! ```text
//! <dataDir>/version-2/snapshot.<zxid>[.gz|.snappy]   snapshots (snapshot.rs)
//! <dataLogDir>/version-2/log.<zxid>                  transaction logs (txnlog.rs)
//! ```
//!
//! `<zxid>` is lowercase hex without padding (Java's `Long.toHexString`):
//! for a snapshot the last zxid applied when it started, for a log the zxid
//! of its first entry. Only names of exactly that form count (see
//! [`zxid_from_name`] for why that is stricter than ZooKeeper); a
//! `snapshot.<zxid>.tmp` being written, or an operator's `log.1.bak`, is
//! ignored. dataDir and dataLogDir are usually the same directory.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::StorageError;
use super::snapshot_read;

/// The subdirectory ZooKeeper keeps version-2 files in.
pub const VERSION_DIR: &str = "version-2";
/// Prefix of transaction log files.
pub const LOG_PREFIX: &str = "log";
/// Prefix of snapshot files.
pub const SNAPSHOT_PREFIX: &str = "snapshot";

/// `<dir>/version-2`.
pub fn version_dir(dir: &Path) -> PathBuf {
    dir.join(VERSION_DIR)
}

/// `log.<hex zxid>` (Util.makeLogName).
pub fn log_name(zxid: i64) -> String {
    format!("{LOG_PREFIX}.{:x}", zxid)
}

/// `snapshot.<hex zxid>` (Util.makeSnapshotName, uncompressed).
pub fn snapshot_name(zxid: i64) -> String {
    format!("{SNAPSHOT_PREFIX}.{:x}", zxid)
}

/// The zxid of a file named exactly as ZooKeeper names one with `prefix`:
/// `<prefix>.<zxid as Long.toHexString>` (lowercase hex, no padding, the
/// two's complement for a negative zxid), and for snapshots optionally a
/// `.gz` or `.snappy` suffix (SnapStream's compressed names). Any other
/// name is `None`.
///
/// Stricter than Java's `Util.getZxidFromName`, which reads `log.1.bak` as a
/// log of zxid 1: Apache ZooKeeper then replays an operator's stray copy
/// next to the real log (with digest-mismatch errors), and the real log's
/// torn tail is no longer at the end of the newest file. Here such files
/// take no part in recovery, purge or truncation; [`list`] warns about them.
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let hex = match rest.split_once('.') {
        None => rest,
        Some((hex, "gz" | "snappy")) if prefix == SNAPSHOT_PREFIX => hex,
        Some(_) => return None,
    };
    let value = u64::from_str_radix(hex, 16).ok()?;
    (format!("{value:x}") == hex).then_some(value as i64)
}

/// Files in `dir` (a version-2 directory) that ZooKeeper named with
/// `prefix` (see [`zxid_from_name`]), sorted by zxid ascending
/// (Util.sortDataDir). Other files starting with `<prefix>.` are left alone
/// with a warning. A missing directory has none.
pub fn list(dir: &Path, prefix: &str) -> Result<Vec<(i64, PathBuf)>, StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io("list", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StorageError::io("list", dir))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match zxid_from_name(&name, prefix) {
            Some(zxid) => out.push((zxid, path)),
            None if name.starts_with(prefix) && name[prefix.len()..].starts_with('.') => {
                tracing::warn!(
                    file = %path.display(),
                    "not a name ZooKeeper gives its {prefix} files; ignored"
                );
            }
            None => {}
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    Ok(out)
}

/// The log files that may hold transactions after `zxid`
/// (FileTxnLog.getLogFiles): the newest one starting at or before `zxid`
/// and every later one, ascending.
pub fn logs_from(logs: &[(i64, PathBuf)], zxid: i64) -> Vec<(i64, PathBuf)> {
    let start = logs
        .iter()
        .filter(|(z, _)| *z <= zxid)
        .map(|(z, _)| *z)
        .fold(0, i64::max);
    logs.iter().filter(|(z, _)| *z >= start).cloned().collect()
}

/// Up to `n` snapshots that pass the cheap validity check, newest first
/// (FileSnap.findNValidSnapshots).
pub fn valid_snapshots(snap_dir: &Path, n: usize) -> Result<Vec<(i64, PathBuf)>, StorageError> {
    let mut all = list(&version_dir(snap_dir), SNAPSHOT_PREFIX)?;
    all.reverse();
    Ok(all
        .into_iter()
        .filter(|(_, p)| snapshot_read::looks_complete(p))
        .take(n)
        .collect())
}

/// What [`purge`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Purged {
    /// Snapshot files deleted.
    pub snapshots: Vec<PathBuf>,
    /// Log files deleted.
    pub logs: Vec<PathBuf>,
}

/// What [`purge`] would delete, logs first then snapshots (the order
/// PurgeTxnLog prints them): keeping the newest `retain_count` valid
/// snapshots (FileSnap.findNValidSnapshots) and the logs needed to replay
/// from the oldest of them (FileTxnLog.getLogFiles: the newest log starting
/// at or before its zxid, and every later one), everything older goes.
/// Nothing goes while no snapshot is valid. Like ZooKeeper, refuses
/// `retain_count < 3` ("count should be greater than or equal to 3").
pub fn purge_plan(
    snap_dir: &Path,
    log_dir: &Path,
    retain_count: usize,
) -> Result<Purged, StorageError> {
    if retain_count < 3 {
        return Err(StorageError::Usage(
            "count should be greater than or equal to 3".into(),
        ));
    }
    let kept = valid_snapshots(snap_dir, retain_count)?;
    let Some(&(oldest_kept, _)) = kept.last() else {
        return Ok(Purged::default());
    };
    let logs = list(&version_dir(log_dir), LOG_PREFIX)?;
    let needed: Vec<PathBuf> = logs_from(&logs, oldest_kept)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let mut plan = Purged::default();
    for (zxid, path) in logs {
        if zxid < oldest_kept && !needed.contains(&path) {
            plan.logs.push(path);
        }
    }
    for (zxid, path) in list(&version_dir(snap_dir), SNAPSHOT_PREFIX)? {
        if zxid < oldest_kept {
            plan.snapshots.push(path);
        }
    }
    Ok(plan)
}

impl Purged {
    /// Every file, logs first.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.logs.iter().chain(&self.snapshots)
    }
}

/// Deletes what [`purge_plan`] lists (PurgeTxnLog.purge) and returns it.
pub fn purge(snap_dir: &Path, log_dir: &Path, retain_count: usize) -> Result<Purged, StorageError> {
    let plan = purge_plan(snap_dir, log_dir, retain_count)?;
    for path in plan.files() {
        fs::remove_file(path).map_err(StorageError::io("remove", path))?;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unpadded_lowercase_hex() {
        assert_eq!(log_name(0x1_0000_00ab), "log.1000000ab");
        assert_eq!(snapshot_name(0), "snapshot.0");
        assert_eq!(zxid_from_name("log.1000000ab", "log"), Some(0x1_0000_00ab));
        assert_eq!(zxid_from_name("snapshot.zz", "snapshot"), None);
        assert_eq!(zxid_from_name("logx.1", "log"), None);
        assert_eq!(zxid_from_name("log", "log"), None);
        assert_eq!(zxid_from_name(&log_name(-1), "log"), Some(-1));
    }

    #[test]
    fn only_names_zookeeper_writes_count() {
        for stray in [
            "log.1.bak",
            "log.01",
            "log.1A",
            "log.+1",
            "log.-1",
            "log.",
            "log.1.gz",
            "snapshot.1a.tmp",
            "snapshot.5.old",
        ] {
            let prefix = stray.split('.').next().unwrap();
            assert_eq!(zxid_from_name(stray, prefix), None, "{stray}");
        }
        assert_eq!(zxid_from_name("snapshot.5.gz", "snapshot"), Some(5));
        assert_eq!(zxid_from_name("snapshot.5.snappy", "snapshot"), Some(5));
    }

    #[test]
    fn list_ignores_stray_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "log.1",
            "log.1.bak",
            "log.a",
            "log.0a",
            "logs",
            "currentEpoch",
        ] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let names: Vec<String> = list(dir.path(), LOG_PREFIX)
            .unwrap()
            .into_iter()
            .map(|(_, p)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["log.1", "log.a"]);
    }

    #[test]
    fn logs_from_starts_at_the_file_covering_the_zxid() {
        let logs: Vec<(i64, PathBuf)> = [1, 10, 20]
            .iter()
            .map(|&z| (z, PathBuf::from(log_name(z))))
            .collect();
        let zs = |v: Vec<(i64, PathBuf)>| v.into_iter().map(|(z, _)| z).collect::<Vec<_>>();
        assert_eq!(zs(logs_from(&logs, 15)), vec![10, 20]);
        assert_eq!(zs(logs_from(&logs, 10)), vec![10, 20]);
        assert_eq!(zs(logs_from(&logs, 0)), vec![1, 10, 20]);
        assert_eq!(zs(logs_from(&logs, 99)), vec![20]);
    }
}
