//! The transaction log writer, byte-compatible with Apache ZooKeeper 3.8's
//! FileTxnLog.
//!
//! ```text
//! LogFile:  FileHeader Entry* ZeroPad
//! FileHeader: magic int ("ZKLG" = 0x5a4b4c47), version int (2), dbid long (0)
//! Entry:    checksum long, length int, entry bytes, 0x42   (see entry.rs)
//! ZeroPad:  zeros to the end of the file (preallocation)
//! ```
//!
//! Files are `version-2/log.<hex zxid of the first entry>`. A writer always
//! starts a new file for its first append, and again after [`TxnLog::roll`]
//! (called after a snapshot), so an existing directory is continued, never
//! appended to in place.
//!
//! Preallocation (FilePadding): before each entry, if the write position is
//! within 4 KiB of the preallocated size, the file is grown to the next
//! multiple of `prealloc_size` (or by `prealloc_size` if still inside it)
//! by writing one zero byte at the new end. Readers take a zero length as
//! the end of the log, so the zeros are never mistaken for entries.
//!
//! Appends are buffered; [`TxnLog::sync`] writes the buffer and, with
//! `force_sync`, fdatasyncs every file written since the last sync.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::{BufMut, BytesMut};

use super::datadir;
use super::entry;
use super::error::StorageError;
use crate::tree::txn::Txn;

/// "ZKLG" (FileTxnLog.TXNLOG_MAGIC).
pub const LOG_MAGIC: i32 = i32::from_be_bytes(*b"ZKLG");
/// Format version of log and snapshot files.
pub const FORMAT_VERSION: i32 = 2;
/// Length of the file header.
pub const HEADER_LEN: u64 = 16;
/// ZooKeeper's default preallocation: 64 MiB (`zookeeper.preAllocSize`, KiB).
pub const DEFAULT_PREALLOC_BYTES: u64 = 64 * 1024 * 1024;

/// How the log writes.
#[derive(Debug, Clone)]
pub struct TxnLogOptions {
    /// Preallocation block in bytes; 0 disables preallocation.
    pub prealloc_bytes: u64,
    /// fdatasync on every [`TxnLog::sync`] (`forceSync`; off only for tests
    /// and benchmarks that accept losing acknowledged writes).
    pub force_sync: bool,
    /// The header's dbid (ZooKeeper always writes 0).
    pub dbid: i64,
}

impl Default for TxnLogOptions {
    fn default() -> Self {
        TxnLogOptions {
            prealloc_bytes: DEFAULT_PREALLOC_BYTES,
            force_sync: true,
            dbid: 0,
        }
    }
}

/// The new size of a preallocated file (FilePadding.calculateFileSizeWithPadding).
pub fn padded_size(position: u64, file_size: u64, prealloc: u64) -> u64 {
    if prealloc > 0 && position + 4096 >= file_size {
        if position > file_size {
            let size = position + prealloc;
            size - size % prealloc
        } else {
            file_size + prealloc
        }
    } else {
        file_size
    }
}

struct Current {
    path: PathBuf,
    file: File,
    /// Bytes written or buffered so far (the logical end of the log).
    position: u64,
    /// Preallocated size.
    size: u64,
}

/// The transaction log writer.
pub struct TxnLog {
    dir: PathBuf,
    opts: TxnLogOptions,
    current: Option<Current>,
    buf: BytesMut,
    /// Files written since the last sync that still need an fdatasync
    /// (the previous file after a roll, and the current one).
    unsynced: Vec<(PathBuf, File)>,
    /// Whether anything was written since the last sync.
    dirty: bool,
    last_zxid: i64,
}

impl TxnLog {
    /// Opens the log in `<log_dir>/version-2`, creating it if needed. The
    /// first append starts a new file.
    pub fn open(log_dir: &Path, opts: TxnLogOptions) -> Result<TxnLog, StorageError> {
        let dir = datadir::version_dir(log_dir);
        std::fs::create_dir_all(&dir).map_err(StorageError::io("create", &dir))?;
        Ok(TxnLog {
            dir,
            opts,
            current: None,
            buf: BytesMut::with_capacity(64 * 1024),
            unsynced: Vec::new(),
            dirty: false,
            last_zxid: 0,
        })
    }

    /// The version-2 directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file being written, if any.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(|c| c.path.as_path())
    }

    /// Size of the file being written as it stands on disk (its
    /// preallocation included, as `File.length()` reports it to
    /// ZooKeeper's size checks), buffered entries counted; 0 when no file
    /// is open (before the first append and after a roll).
    pub fn file_size(&self) -> u64 {
        self.current.as_ref().map_or(0, |c| c.size.max(c.position))
    }

    /// zxid of the last appended transaction (0 before any).
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Buffers one transaction. Nothing is durable until [`TxnLog::sync`].
    pub fn append(&mut self, txn: &Txn) -> Result<(), StorageError> {
        self.append_with(txn.hdr.zxid, |buf| entry::frame(txn, buf))
    }

    /// Buffers one transaction given as its marshalled bytes (`zxid` is its
    /// header's): a write is marshalled once, for the quorum and the log.
    pub fn append_marshalled(&mut self, zxid: i64, bytes: &[u8]) -> Result<(), StorageError> {
        self.append_with(zxid, |buf| entry::frame_marshalled(bytes, buf))
    }

    fn append_with(
        &mut self,
        zxid: i64,
        frame: impl FnOnce(&mut BytesMut),
    ) -> Result<(), StorageError> {
        if zxid <= self.last_zxid {
            tracing::warn!(
                "appending zxid {zxid:#x} after {:#x}: zxids should increase",
                self.last_zxid
            );
        } else {
            self.last_zxid = zxid;
        }
        if self.current.is_none() {
            self.start_file(zxid)?;
        }
        let cur = self.current.as_mut().expect("a file is open");
        let size = padded_size(cur.position, cur.size, self.opts.prealloc_bytes);
        if size != cur.size {
            // One zero byte at the new end, as FilePadding does; the hole
            // before it reads as zeros.
            cur.file
                .write_at(&[0], size - 1)
                .map_err(StorageError::io("preallocate", &cur.path))?;
            cur.size = size;
        }
        let before = self.buf.len();
        frame(&mut self.buf);
        cur.position += (self.buf.len() - before) as u64;
        Ok(())
    }

    fn start_file(&mut self, zxid: i64) -> Result<(), StorageError> {
        let path = self.dir.join(datadir::log_name(zxid));
        // A file of this name can exist only if a crash came right after it
        // was created (a roll), before any entry in it was synced: recovery
        // read every valid entry, and none has this zxid. Like ZooKeeper's
        // FileOutputStream, start it afresh.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(StorageError::io("create", &path))?;
        let mut hdr = BytesMut::with_capacity(HEADER_LEN as usize);
        hdr.put_i32(LOG_MAGIC);
        hdr.put_i32(FORMAT_VERSION);
        hdr.put_i64(self.opts.dbid);
        file.write_all(&hdr)
            .map_err(StorageError::io("write", &path))?;
        let sync_handle = file.try_clone().map_err(StorageError::io("open", &path))?;
        self.unsynced.push((path.clone(), sync_handle));
        self.dirty = true;
        sync_dir(&self.dir)?;
        tracing::info!("creating new log file {}", path.display());
        self.current = Some(Current {
            path,
            file,
            position: HEADER_LEN,
            size: HEADER_LEN,
        });
        Ok(())
    }

    /// Writes the buffered entries and fdatasyncs (unless `force_sync` is
    /// off). When it returns Ok, every appended transaction is durable.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        self.flush()?;
        if !self.dirty {
            return Ok(());
        }
        if self.opts.force_sync {
            for (path, file) in &self.unsynced {
                file.sync_data()
                    .map_err(StorageError::io("fdatasync", path))?;
            }
        }
        // Keep only the current file's handle for the next sync.
        let current = self.current.as_ref().map(|c| c.path.clone());
        self.unsynced.retain(|(p, _)| Some(p) == current.as_ref());
        self.dirty = false;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let cur = self
            .current
            .as_mut()
            .expect("buffered entries imply an open file");
        cur.file
            .write_all(&self.buf)
            .map_err(StorageError::io("write", &cur.path))?;
        self.buf.clear();
        self.dirty = true;
        Ok(())
    }

    /// Makes the next append start a new file (after a snapshot). Buffered
    /// entries go to the old file; the next [`TxnLog::sync`] syncs both.
    pub fn roll(&mut self) -> Result<(), StorageError> {
        self.flush()?;
        self.current = None;
        Ok(())
    }
}

/// fsyncs a directory so a created or renamed entry in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(StorageError::io("fsync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_matches_file_padding() {
        // Values from ZooKeeper's FilePaddingTest.
        assert_eq!(padded_size(1, 2, 0), 2, "disabled");
        assert_eq!(
            padded_size(16, 16, 1000),
            1016,
            "within 4 KiB of the end: grow"
        );
        assert_eq!(
            padded_size(10_000, 4000, 1000),
            11_000,
            "past the end: round up"
        );
        assert_eq!(
            padded_size(100, 10_000, 1000),
            10_000,
            "far from the end: keep"
        );
        assert_eq!(padded_size(4096, 8192, 65536), 73_728);
    }

    #[test]
    fn header_magic_is_zklg() {
        assert_eq!(LOG_MAGIC, 0x5a4b_4c47);
    }
}
