//! Cutting the transaction log back to a zxid, for Zab's TRUNC: a follower
//! whose log runs past the leader's committed history drops the extra
//! transactions before it takes the leader's (Learner.syncWithLeader →
//! ZKDatabase.truncateLog → FileTxnSnapLog.truncateLog → FileTxnLog.truncate).
//!
//! After [`truncate_log`]`(dir, z)` the log holds exactly the entries it
//! held with zxid <= z. If the log has the entry `z`, its file is cut right
//! after it (dropping the preallocated zeros and any torn tail, as Apache's
//! cut does); otherwise the file holding the first entry above `z` is cut
//! where that entry starts, or removed if it was its first. Every later log
//! file is removed. A new writer starts a new file, so a cut file is never
//! appended to.
//!
//! Crash safety: files are removed newest first, each removal made durable
//! before the next, and the cut comes last and is fsynced, so at every
//! point the log on disk is a prefix of the log before the call. A crash
//! part-way leaves a longer log that the next TRUNC cuts again.
//!
//! Differences from Apache ZooKeeper 3.8, whose FileTxnLog.truncate reads
//! forward to the first entry with zxid >= z and cuts *after* it:
//! - When no entry has zxid exactly `z` (z falls between two entries, or
//!   before the first), Apache keeps the first entry above `z`; we do not.
//!   Keeping it would leave a transaction the leader never sent, which the
//!   next restart would replay.
//! - Apache removes later files but never fsyncs; we fsync the cut file
//!   and the directory.
//! - Damage met before the entry `z` is an error here, not just `false`;
//!   damage after it is cut away with the rest (Apache never reads past
//!   the entry `z`).
//!
//! Snapshots: Apache leaves them alone — FileTxnSnapLog.truncateLog touches
//! only the logs and ZKDatabase.truncateLog then reloads from the newest
//! snapshot, even one newer than `z`. So do we: [`truncate_log`] never
//! touches snapshots. Normally none is newer than `z`: a follower's
//! snapshots hold only transactions it applied, and TRUNC does not go below
//! committed ones. [`snapshots_after`] lists any that are, for the caller
//! to report.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use super::datadir::{self, LOG_PREFIX, SNAPSHOT_PREFIX};
use super::error::StorageError;
use super::logread::TxnLogReader;
use super::txnlog::{sync_dir, HEADER_LEN};

/// Where the log gets cut: the first byte dropped.
struct Cut {
    file: PathBuf,
    offset: u64,
}

/// Truncates the log in `<log_dir>/version-2` so that it holds exactly the
/// entries with zxid <= `zxid`.
///
/// Returns `Ok(false)`, changing nothing, when the log holds no entry with
/// zxid >= `zxid` (no log at all, or it ends before `zxid`): Apache's
/// truncate fails there ("No log files found to truncate!", or its reader
/// runs off the end) and the Learner exits. `Ok(true)` otherwise.
/// Corruption found while reading the part of the log at and after `zxid`
/// is an error.
pub fn truncate_log(log_dir: &Path, zxid: i64) -> Result<bool, StorageError> {
    let Some(cut) = find_cut(log_dir, zxid)? else {
        return Ok(false);
    };
    let dir = datadir::version_dir(log_dir);
    let logs = datadir::list(&dir, LOG_PREFIX)?;
    let at = logs
        .iter()
        .position(|(_, p)| *p == cut.file)
        .expect("the reader found the cut file in this listing");
    for (_, later) in logs[at + 1..].iter().rev() {
        remove_durably(&dir, later)?;
    }
    if cut.offset <= HEADER_LEN {
        remove_durably(&dir, &cut.file)?;
    } else {
        let f = OpenOptions::new()
            .write(true)
            .open(&cut.file)
            .map_err(StorageError::io("open", &cut.file))?;
        f.set_len(cut.offset)
            .map_err(StorageError::io("truncate", &cut.file))?;
        f.sync_all().map_err(StorageError::io("fsync", &cut.file))?;
    }
    tracing::info!(
        "truncated the log to {zxid:#x}: {} cut at {}, {} later file(s) removed",
        cut.file.display(),
        cut.offset,
        logs.len() - at - 1
    );
    Ok(true)
}

/// Where to cut: the end of the entry `zxid` if the log has it, else the
/// start of the first entry above `zxid`; `None` if no entry reaches
/// `zxid`. Damage met after
/// the entry `zxid` does not matter (it is cut away); damage before it is
/// an error.
fn find_cut(log_dir: &Path, zxid: i64) -> Result<Option<Cut>, StorageError> {
    // Yields the entries >= zxid, starting in the file that holds zxid.
    let reader = TxnLogReader::open(log_dir, zxid.saturating_sub(1))?;
    let mut last_kept: Option<Cut> = None;
    for entry in reader {
        let entry = match (entry, &last_kept) {
            (Ok(e), _) => e,
            (
                Err(e @ (StorageError::CorruptLog { .. } | StorageError::BadMagic { .. })),
                Some(_),
            ) => {
                tracing::warn!("cutting away damage after {zxid:#x}: {e}");
                break;
            }
            (Err(e), _) => return Err(e),
        };
        if entry.txn.hdr.zxid > zxid {
            // Right after the entry zxid if we read it (so a file ending
            // there loses its zeros, as in Apache), else where this starts.
            return Ok(Some(last_kept.unwrap_or(Cut {
                file: entry.file,
                offset: entry.offset,
            })));
        }
        last_kept = Some(Cut {
            file: entry.file,
            offset: entry.end,
        });
    }
    Ok(last_kept)
}

fn remove_durably(dir: &Path, file: &Path) -> Result<(), StorageError> {
    fs::remove_file(file).map_err(StorageError::io("remove", file))?;
    sync_dir(dir)
}

/// Snapshots in `<data_dir>/version-2` named after a zxid above `zxid`,
/// ascending: after a TRUNC to `zxid` these hold transactions the log no
/// longer has. [`truncate_log`] leaves them, as Apache does.
pub fn snapshots_after(data_dir: &Path, zxid: i64) -> Result<Vec<PathBuf>, StorageError> {
    Ok(
        datadir::list(&datadir::version_dir(data_dir), SNAPSHOT_PREFIX)?
            .into_iter()
            .filter(|(z, _)| *z > zxid)
            .map(|(_, p)| p)
            .collect(),
    )
}
