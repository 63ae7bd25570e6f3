//! Storage errors: every variant names the file (and where useful the byte
//! offset and zxid) so an operator can find what is wrong on disk.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::proto::DecodeError;

/// Why a stored byte sequence is not a valid log entry or snapshot part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    /// The file ended inside an entry (or inside the file header).
    Truncated,
    /// The entry length is negative.
    BadLength(i32),
    /// The byte after the entry is not the end-of-record mark 0x42 ('B').
    MissingEor(u8),
    /// The stored Adler32 does not match the entry bytes.
    Checksum {
        /// Checksum stored in the file.
        stored: i64,
        /// Checksum of the bytes read.
        computed: i64,
    },
    /// A zero length (the end-of-log mark) with a valid entry after it: a
    /// zeroed hole in the middle of the log.
    ZeroedHole,
    /// The checksum matched but the entry does not decode.
    Decode(DecodeError),
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Truncated => write!(f, "file ends inside the entry"),
            Defect::BadLength(n) => write!(f, "invalid entry length {n}"),
            Defect::MissingEor(b) => write!(f, "end-of-record byte is {b:#04x}, not 0x42"),
            Defect::Checksum { stored, computed } => {
                write!(
                    f,
                    "Adler32 mismatch (stored {stored:#x}, computed {computed:#x})"
                )
            }
            Defect::ZeroedHole => write!(
                f,
                "zeroed bytes (end-of-log mark) before more valid entries"
            ),
            Defect::Decode(e) => write!(f, "checksum ok but entry does not decode: {e}"),
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An IO call failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing ("open", "write", "fsync", ...).
        op: &'static str,
        /// On which file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A file does not start with the expected magic number.
    #[error("{path}: bad magic {found:#010x} (expected {expected:#010x})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// What it starts with.
        found: i32,
        /// "ZKLG" or "ZKSN".
        expected: i32,
    },
    /// A damaged log entry with valid data after it, or in a log file that
    /// is not the last: the log cannot be trusted, refuse to start.
    #[error(
        "transaction log corrupt at {file}:{offset} (after zxid {last_good_zxid:#x}): {defect}{}",
        match next_valid_offset { Some(o) => format!("; a valid entry follows at offset {o}"), None => String::new() }
    )]
    CorruptLog {
        /// The log file.
        file: PathBuf,
        /// Byte offset of the bad entry.
        offset: u64,
        /// zxid of the last good entry before it (0 if none).
        last_good_zxid: i64,
        /// What is wrong with it.
        defect: Defect,
        /// Where the next valid entry starts, if one was found.
        next_valid_offset: Option<u64>,
    },
    /// A snapshot file is unreadable or fails its checksum.
    #[error("snapshot {path}: {reason}")]
    BadSnapshot {
        /// The snapshot.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A compressed snapshot (gz, snappy) — not supported yet.
    #[error("snapshot {path} is compressed with {method}, which ferrozk cannot read (set zookeeper.snapshot.compression.method to none in Apache ZooKeeper and take a new snapshot)")]
    UnsupportedCompression {
        /// The snapshot.
        path: PathBuf,
        /// "gz" or "snappy".
        method: String,
    },
    /// Snapshots exist but none is valid.
    #[error("no valid snapshot in {dir}: {}", tried.iter().map(|(p, r)| format!("{} ({r})", p.display())).collect::<Vec<_>>().join(", "))]
    NoValidSnapshot {
        /// The snapshot directory.
        dir: PathBuf,
        /// Each snapshot tried and why it was rejected.
        tried: Vec<(PathBuf, String)>,
    },
    /// Transaction logs but no snapshot (ZooKeeper refuses this too unless
    /// `zookeeper.snapshot.trust.empty` is set).
    #[error("{dir} has transaction logs but no snapshot; refusing to start on a possibly incomplete database")]
    LogsWithoutSnapshot {
        /// The log directory.
        dir: PathBuf,
    },
    /// A snapshot describes a tree that cannot be built (a node before its
    /// parent).
    #[error("snapshot {path}: {reason}")]
    BadTree {
        /// The snapshot.
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },
    /// Misuse of the writer API.
    #[error("{0}")]
    Usage(String),
    /// A TRUNC to a zxid the log does not reach (the leader believes this
    /// server holds history that it does not).
    #[error("cannot truncate the log in {dir} to zxid {zxid:#x}: the log does not reach it")]
    TruncateBeyondLog {
        /// The log directory.
        dir: PathBuf,
        /// The zxid asked for.
        zxid: i64,
    },
    /// An epoch file that does not hold one decimal epoch on its first
    /// line (QuorumPeer.readLongFromFile: "Found <line> in <file>").
    #[error("{path}: found {found:?} where an epoch (a decimal number from 0 to 4294967295) was expected")]
    BadEpochFile {
        /// `acceptedEpoch`, `currentEpoch` or `currentEpoch.tmp`.
        path: PathBuf,
        /// The first line of the file ("" if the file is empty).
        found: String,
    },
    /// The log holds a transaction of a later epoch than `currentEpoch`
    /// says this server has synced to, and no `currentEpoch.tmp` shows an
    /// update was cut short (QuorumPeer.loadDataBase).
    #[error("the current epoch, {current:#x}, is older than the last zxid, {last_zxid:#x} ({path}; no {path}.tmp to recover from)")]
    CurrentEpochBehind {
        /// The `currentEpoch` file.
        path: PathBuf,
        /// Its value.
        current: u32,
        /// The last zxid of the recovered database.
        last_zxid: i64,
    },
    /// `acceptedEpoch` below `currentEpoch`: a server never syncs to a
    /// leader whose epoch it has not accepted (QuorumPeer.loadDataBase).
    #[error(
        "the accepted epoch, {accepted:#x}, is less than the current epoch, {current:#x} ({path})"
    )]
    AcceptedEpochBehind {
        /// The `acceptedEpoch` file.
        path: PathBuf,
        /// Its value.
        accepted: u32,
        /// The current epoch.
        current: u32,
    },
    /// No `myid` file in dataDir (QuorumPeerConfig: "myid file is missing").
    #[error("myid file is missing: {path}")]
    MyIdMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The first line of `myid` is not a server id (QuorumPeerConfig:
    /// "serverid <line> is not a number").
    #[error("serverid {found} is not a number (a decimal integer, 0 or more), in {path}")]
    BadMyId {
        /// The `myid` file.
        path: PathBuf,
        /// Its first line ("" if the file is empty).
        found: String,
    },
}

impl StorageError {
    /// Wraps an IO error with what we were doing and where.
    pub fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StorageError + 'a {
        move |source| StorageError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
