//! The Zab epoch files, kept as Apache ZooKeeper 3.8's QuorumPeer keeps
//! them. `acceptedEpoch` is the newest epoch this server promised to follow
//! (written before it sends ACKEPOCH); `currentEpoch` is the epoch of the
//! leader whose history it last took on (written before it ACKs NEWLEADER).
//! Elections and discovery compare them, so each must be durable before the
//! message that depends on it leaves.
//!
//! ```text
//! <dataDir>/version-2/acceptedEpoch      Long.toString(epoch): decimal ASCII, no newline
//! <dataDir>/version-2/currentEpoch       the same
//! <dataDir>/version-2/<name>.tmp         an atomic write of <name> in progress
//! ```
//!
//! They live in the *snapshot* directory: QuorumPeer reads and writes them
//! under `logFactory.getSnapDir()`, which is `dataDir/version-2` even when
//! `dataLogDir` is set.
//!
//! Reading is QuorumPeer.readLongFromFile: the first line (up to '\n' or
//! '\r') parsed as a Java long, so a trailing newline is fine but spaces
//! are not. Writing is AtomicFileWritingIdiom: write `<name>.tmp`, fsync
//! it, rename it over `<name>`. We also fsync the directory so the rename
//! itself survives a crash (Apache does not).
//!
//! Epochs are the high 32 bits of a zxid, so they are `u32` here (Apache
//! keeps them in a long; a file holding a value outside 0..=u32::MAX is
//! rejected).

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::datadir;
use super::error::StorageError;
use super::txnlog::sync_dir;

/// Suffix of the file an atomic write goes through
/// (AtomicFileOutputStream.TMP_EXTENSION).
pub const TMP_SUFFIX: &str = ".tmp";

/// Which epoch file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochFile {
    /// `acceptedEpoch` (QuorumPeer.ACCEPTED_EPOCH_FILENAME).
    Accepted,
    /// `currentEpoch` (QuorumPeer.CURRENT_EPOCH_FILENAME).
    Current,
}

impl EpochFile {
    /// The file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            EpochFile::Accepted => "acceptedEpoch",
            EpochFile::Current => "currentEpoch",
        }
    }
}

/// Both epochs, as loaded at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epochs {
    /// The newest epoch this server promised to follow.
    pub accepted: u32,
    /// The epoch of the history this server holds.
    pub current: u32,
}

/// `<data_dir>/version-2/<file name>`.
pub fn epoch_path(data_dir: &Path, which: EpochFile) -> PathBuf {
    datadir::version_dir(data_dir).join(which.file_name())
}

/// The epoch half of a zxid (ZxidUtils.getEpochFromZxid).
pub fn epoch_of_zxid(zxid: i64) -> u32 {
    (zxid >> 32) as u32
}

/// Reads an epoch file: `None` if it does not exist.
pub fn read_epoch(data_dir: &Path, which: EpochFile) -> Result<Option<u32>, StorageError> {
    read_epoch_at(&epoch_path(data_dir, which))
}

/// Writes an epoch file atomically and durably: once this returns Ok the
/// new value survives a crash; a crash during the call leaves the old
/// value, perhaps with a `.tmp` holding the new one (see [`load_epochs`]).
pub fn write_epoch(data_dir: &Path, which: EpochFile, epoch: u32) -> Result<(), StorageError> {
    let dir = datadir::version_dir(data_dir);
    fs::create_dir_all(&dir).map_err(StorageError::io("create", &dir))?;
    write_atomic(&dir.join(which.file_name()), epoch.to_string().as_bytes())
}

/// Loads both epochs after the database is recovered up to `last_zxid`,
/// as QuorumPeer.loadDataBase does:
///
/// 1. `currentEpoch` missing: it becomes the epoch of `last_zxid` and is
///    written (a fresh server, or one upgraded from before epoch files).
/// 2. The epoch of `last_zxid` above `currentEpoch`: the server crashed
///    while raising it. If `currentEpoch.tmp` exists its value is taken
///    and written as `currentEpoch` (ZOOKEEPER-4269; Apache does not check
///    that value against the zxid, nor do we); otherwise
///    [`StorageError::CurrentEpochBehind`]. (The `updatingEpoch` marker
///    file of ZOOKEEPER-2354 never reached 3.8; this is its 3.8 form.)
/// 3. `acceptedEpoch` missing: it becomes the epoch of `last_zxid` (not
///    `currentEpoch`) and is written.
/// 4. `acceptedEpoch` below `currentEpoch`: [`StorageError::AcceptedEpochBehind`]
///    (after step 3 has written the file, as in Apache).
pub fn load_epochs(data_dir: &Path, last_zxid: i64) -> Result<Epochs, StorageError> {
    let zxid_epoch = epoch_of_zxid(last_zxid);
    let current_path = epoch_path(data_dir, EpochFile::Current);
    let mut current = match read_epoch_at(&current_path)? {
        Some(e) => e,
        None => derive(data_dir, EpochFile::Current, zxid_epoch)?,
    };
    if zxid_epoch > current {
        let tmp = tmp_path(&current_path);
        let Some(raised) = read_epoch_at(&tmp)? else {
            return Err(StorageError::CurrentEpochBehind {
                path: current_path,
                current,
                last_zxid,
            });
        };
        tracing::info!(
            "{} found: an update of the current epoch was cut short; setting it to {raised}",
            tmp.display()
        );
        write_epoch(data_dir, EpochFile::Current, raised)?;
        current = raised;
    }
    let accepted = match read_epoch(data_dir, EpochFile::Accepted)? {
        Some(e) => e,
        None => derive(data_dir, EpochFile::Accepted, zxid_epoch)?,
    };
    if accepted < current {
        return Err(StorageError::AcceptedEpochBehind {
            path: epoch_path(data_dir, EpochFile::Accepted),
            accepted,
            current,
        });
    }
    Ok(Epochs { accepted, current })
}

/// Writes a missing epoch file with the epoch of the last zxid.
fn derive(data_dir: &Path, which: EpochFile, zxid_epoch: u32) -> Result<u32, StorageError> {
    tracing::info!(
        "{} not found; creating it with the epoch of the last zxid, {zxid_epoch} \
         (expected only on a new server or one upgraded from a version without epoch files)",
        which.file_name()
    );
    write_epoch(data_dir, which, zxid_epoch)?;
    Ok(zxid_epoch)
}

fn read_epoch_at(path: &Path) -> Result<Option<u32>, StorageError> {
    let Some(line) = read_first_line(path)? else {
        return Ok(None);
    };
    match line.parse::<i64>().ok().map(u32::try_from) {
        Some(Ok(epoch)) => Ok(Some(epoch)),
        _ => Err(StorageError::BadEpochFile {
            path: path.to_path_buf(),
            found: line,
        }),
    }
}

/// The first line of a file as Java's `BufferedReader.readLine` returns it
/// (up to '\n' or '\r', not trimmed; "" for an empty file), or `None` if
/// the file does not exist. `str::parse::<i64>` then accepts what
/// `Long.parseLong` accepts for ASCII input: an optional sign and digits.
pub(crate) fn read_first_line(path: &Path) -> Result<Option<String>, StorageError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", path)(e)),
    };
    let end = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    Ok(Some(String::from_utf8_lossy(&bytes[..end]).into_owned()))
}

/// `<path>.tmp`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TMP_SUFFIX);
    PathBuf::from(name)
}

/// Replaces `path` with `contents` atomically (AtomicFileOutputStream):
/// `<path>.tmp` written and fsynced, renamed over `path`, the directory
/// fsynced. A failed write removes the temp file (`abort`); a failed
/// rename leaves it, synced, as Apache does.
fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), StorageError> {
    let tmp = tmp_path(path);
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(StorageError::io("create", &tmp))
        .and_then(|mut f| {
            f.write_all(contents)
                .map_err(StorageError::io("write", &tmp))?;
            f.sync_all().map_err(StorageError::io("fsync", &tmp))
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(StorageError::io("rename", &tmp))?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}
