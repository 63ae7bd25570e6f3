//! Reading the transaction log (FileTxnLog.FileTxnIterator), with the
//! torn-tail vs corruption distinction ZooKeeper does not make.
//!
//! Grammar: see txnlog.rs (`FileHeader Entry* ZeroPad`) and entry.rs.
//!
//! Which files: the newest log file whose name is at or below the start
//! zxid, and every later one, in zxid order; entries at or below the start
//! zxid are read and checked but not returned.
//!
//! The end of a file is its physical end or a zero length field (the
//! preallocated zeros). Anything else that is not a valid entry — a length
//! running past the end, a missing 0x42, an Adler32 mismatch — is a *bad
//! entry*. A bad entry is a **torn tail** (a write cut short by a crash,
//! never acknowledged; safe to cut off) only if it is in the newest log file
//! and no valid entry can be found anywhere after it in that file.
//! Otherwise the log is **corrupt** ([`StorageError::CorruptLog`]): cutting
//! there would drop transactions that were acknowledged. A zero length
//! followed by a valid entry is corruption too (a zeroed hole), and a
//! checksum-valid entry that does not decode is always corruption.
//!
//! Apache ZooKeeper instead stops reading a file silently at a short read
//! and refuses to start on any checksum mismatch.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::datadir::{self, LOG_PREFIX};
use super::entry::{self, EOR};
use super::error::{Defect, StorageError};
use super::txnlog::{sync_dir, HEADER_LEN, LOG_MAGIC};
use crate::tree::txn::Txn;

/// A transaction read from the log, with where it was found.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// The transaction.
    pub txn: Txn,
    /// The log file.
    pub file: PathBuf,
    /// Offset of its framed entry in the file.
    pub offset: u64,
    /// Offset just past its framed entry (its end-of-record byte): where
    /// the next entry, or the end of the log, starts.
    pub end: u64,
}

/// A torn write at the end of the newest log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The log file.
    pub file: PathBuf,
    /// Where the bad entry starts (= end of the last good one).
    pub offset: u64,
    /// Length of the file.
    pub file_len: u64,
    /// zxid of the last good entry (0 if none).
    pub last_good_zxid: i64,
    /// What was wrong with the entry.
    pub defect: Defect,
}

struct Cursor {
    path: PathBuf,
    reader: BufReader<File>,
    pos: u64,
    len: u64,
    is_last: bool,
}

/// Iterates over logged transactions with zxid > `after`, in log order.
/// Yields an error (and then stops) on corruption; a torn tail ends the
/// iteration and is reported by [`TxnLogReader::torn_tail`].
pub struct TxnLogReader {
    files: VecDeque<PathBuf>,
    newest: Option<PathBuf>,
    cur: Option<Cursor>,
    after: i64,
    last_good_zxid: i64,
    torn: Option<TornTail>,
    done: bool,
}

impl TxnLogReader {
    /// Opens the logs of `<log_dir>/version-2` for reading transactions
    /// after `after` (a snapshot's zxid).
    pub fn open(log_dir: &Path, after: i64) -> Result<TxnLogReader, StorageError> {
        let all = datadir::list(&datadir::version_dir(log_dir), LOG_PREFIX)?;
        let newest = all.last().map(|(_, p)| p.clone());
        let files = datadir::logs_from(&all, after.saturating_add(1))
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        Ok(TxnLogReader {
            files,
            newest,
            cur: None,
            after,
            last_good_zxid: 0,
            torn: None,
            done: false,
        })
    }

    /// The torn tail that ended the iteration, if any.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// zxid of the last valid entry read (returned or skipped).
    pub fn last_good_zxid(&self) -> i64 {
        self.last_good_zxid
    }

    fn open_file(&mut self, path: PathBuf) -> Result<Option<Cursor>, StorageError> {
        let file = File::open(&path).map_err(StorageError::io("open", &path))?;
        let len = file
            .metadata()
            .map_err(StorageError::io("stat", &path))?
            .len();
        let is_last = self.newest.as_ref() == Some(&path);
        let mut c = Cursor {
            path,
            reader: BufReader::with_capacity(256 * 1024, file),
            pos: 0,
            len,
            is_last,
        };
        let mut hdr = [0u8; HEADER_LEN as usize];
        if len < HEADER_LEN || read_exact(&mut c, &mut hdr)?.iter().all(|&b| b == 0) {
            // A file cut before its header was written.
            return self.bad_entry(c, 0, Defect::Truncated).map(|()| None);
        }
        let magic = i32::from_be_bytes(hdr[..4].try_into().expect("4 bytes"));
        if magic != LOG_MAGIC {
            return Err(StorageError::BadMagic {
                path: c.path,
                found: magic,
                expected: LOG_MAGIC,
            });
        }
        Ok(Some(c))
    }

    /// Handles a bad entry at `offset`: torn tail or corruption.
    fn bad_entry(
        &mut self,
        mut c: Cursor,
        offset: u64,
        defect: Defect,
    ) -> Result<(), StorageError> {
        let next_valid = find_valid_entry_after(&mut c, offset)?;
        if c.is_last && next_valid.is_none() {
            self.torn = Some(TornTail {
                file: c.path,
                offset,
                file_len: c.len,
                last_good_zxid: self.last_good_zxid,
                defect,
            });
            self.files.clear();
            return Ok(());
        }
        Err(StorageError::CorruptLog {
            file: c.path,
            offset,
            last_good_zxid: self.last_good_zxid,
            defect,
            next_valid_offset: next_valid,
        })
    }

    /// Reads the next entry of the current file: `Ok(None)` at its end.
    fn next_in_file(&mut self, c: &mut Cursor) -> Result<Step, StorageError> {
        let offset = c.pos;
        let remaining = c.len - offset;
        if remaining < 12 {
            let mut rest = vec![0u8; remaining as usize];
            read_exact(c, &mut rest)?;
            return Ok(if rest.iter().all(|&b| b == 0) {
                Step::End
            } else {
                Step::Bad(offset, Defect::Truncated)
            });
        }
        let mut head = [0u8; 12];
        read_exact(c, &mut head)?;
        let stored = i64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(head[8..].try_into().expect("4 bytes"));
        if len == 0 && stored == 0 {
            // The preallocated zeros: the end, if nothing valid follows.
            return Ok(match find_valid_entry_after(c, offset)? {
                None => Step::End,
                Some(_) => Step::Bad(offset, Defect::ZeroedHole),
            });
        }
        if len <= 0 {
            return Ok(Step::Bad(offset, Defect::BadLength(len)));
        }
        if (len as u64) + 1 > remaining - 12 {
            return Ok(Step::Bad(offset, Defect::Truncated));
        }
        let mut body = vec![0u8; len as usize + 1];
        read_exact(c, &mut body)?;
        let eor = body.pop().expect("one extra byte");
        let computed = entry::checksum(&body);
        if computed != stored {
            return Ok(Step::Bad(offset, Defect::Checksum { stored, computed }));
        }
        if eor != EOR {
            return Ok(Step::Bad(offset, Defect::MissingEor(eor)));
        }
        match entry::unmarshal(Bytes::from(body)) {
            Ok(txn) => Ok(Step::Entry(offset, txn)),
            Err(e) => Err(StorageError::CorruptLog {
                file: c.path.clone(),
                offset,
                last_good_zxid: self.last_good_zxid,
                defect: Defect::Decode(e),
                next_valid_offset: None,
            }),
        }
    }

    fn advance(&mut self) -> Result<Option<LogEntry>, StorageError> {
        loop {
            let mut c = match self.cur.take() {
                Some(c) => c,
                None => {
                    let Some(path) = self.files.pop_front() else {
                        return Ok(None);
                    };
                    match self.open_file(path)? {
                        Some(c) => c,
                        None => continue,
                    }
                }
            };
            match self.next_in_file(&mut c)? {
                Step::End => continue,
                Step::Bad(offset, defect) => {
                    self.bad_entry(c, offset, defect)?;
                    continue;
                }
                Step::Entry(offset, txn) => {
                    let zxid = txn.hdr.zxid;
                    let file = c.path.clone();
                    let end = c.pos;
                    self.cur = Some(c);
                    self.last_good_zxid = zxid;
                    if zxid > self.after {
                        return Ok(Some(LogEntry {
                            txn,
                            file,
                            offset,
                            end,
                        }));
                    }
                }
            }
        }
    }
}

enum Step {
    Entry(u64, Txn),
    Bad(u64, Defect),
    End,
}

impl Iterator for TxnLogReader {
    type Item = Result<LogEntry, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

fn read_exact<'a>(c: &mut Cursor, buf: &'a mut [u8]) -> Result<&'a [u8], StorageError> {
    c.reader
        .read_exact(buf)
        .map_err(StorageError::io("read", &c.path))?;
    c.pos += buf.len() as u64;
    Ok(buf)
}

/// Bytes examined per step of the scan for a valid entry.
const SCAN_WINDOW: usize = 8 << 20;
/// Largest entry the scan recognises (ZooKeeper's jute.maxbuffer default is
/// 1 MiB, so real entries are smaller).
const SCAN_MAX_ENTRY: usize = 4 << 20;

/// Offset of the first valid entry starting after `offset` in the file, if
/// any: a scan of the rest of the file, window by window, skipping zero
/// runs quickly. The cursor is spent afterwards (callers stop reading).
fn find_valid_entry_after(c: &mut Cursor, offset: u64) -> Result<Option<u64>, StorageError> {
    c.pos = c.len;
    let file = c.reader.get_ref();
    let mut base = offset + 1;
    let mut buf = Vec::new();
    while base + 12 < c.len {
        // Preallocation leaves a hole (ZooKeeper and ferrozk both extend the
        // file without writing zeros). A valid entry lies wholly in written
        // data, so only data regions are read: reading a hole only makes
        // the kernel zero-fill pages.
        let Some(data) = seek(file, base, libc::SEEK_DATA) else {
            break;
        };
        base = base.max(data);
        let end = match seek(file, base, libc::SEEK_HOLE) {
            Some(hole) if hole > base => hole.min(c.len),
            _ => c.len,
        };
        if base + 12 >= end {
            base = end;
            continue;
        }
        let n = ((end - base) as usize).min(SCAN_WINDOW + SCAN_MAX_ENTRY + 13);
        buf.resize(n, 0);
        file.read_exact_at(&mut buf, base)
            .map_err(StorageError::io("read", &c.path))?;
        // Entries starting in the first SCAN_WINDOW bytes (or all, at the
        // end of the region).
        let starts = if base + n as u64 == end {
            n
        } else {
            SCAN_WINDOW
        };
        if let Some(i) = scan_for_entry(&buf, starts) {
            return Ok(Some(base + i as u64));
        }
        base += starts as u64;
    }
    Ok(None)
}

/// Index (below `starts`) of the first position in `buf` holding a complete
/// entry with a matching checksum and end mark.
fn scan_for_entry(buf: &[u8], starts: usize) -> Option<usize> {
    let n = buf.len();
    let mut i = 0;
    while i < starts && i + 12 < n {
        let len = i32::from_be_bytes(buf[i + 8..i + 12].try_into().expect("4 bytes"));
        if len == 0 {
            // Skip to the first position whose length field reaches the
            // next non-zero byte.
            match first_nonzero(&buf[i + 8..]) {
                Some(k) => i = (i + 8 + k).saturating_sub(11).max(i + 1),
                None => return None,
            }
            continue;
        }
        if len >= 32 && (len as usize) <= SCAN_MAX_ENTRY && i + 13 + len as usize <= n {
            let end = i + 12 + len as usize;
            let stored = i64::from_be_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
            if buf[end] == EOR && stored == entry::checksum(&buf[i + 12..end]) {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// lseek(2) with SEEK_DATA or SEEK_HOLE: the next offset at or after
/// `from` in data or in a hole (the end of the file counts as a hole);
/// `None` when SEEK_DATA finds only a hole. Where the file system cannot
/// tell, all of the file is data, which is merely slower.
fn seek(file: &File, from: u64, whence: libc::c_int) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let Ok(offset) = libc::off_t::try_from(from) else {
        return Some(from);
    };
    // SAFETY: lseek on a descriptor this File owns; it moves only the
    // descriptor's offset, and the scan reads at explicit offsets.
    let at = unsafe { libc::lseek(file.as_raw_fd(), offset, whence) };
    if at >= 0 {
        return Some(at as u64);
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ENXIO) => None,
        _ if whence == libc::SEEK_HOLE => None,
        _ => Some(from),
    }
}

/// Index of the first non-zero byte. Every log file ends in tens of MiB of
/// preallocated zeros that recovery scans (for valid entries beyond a
/// hole): 64-byte blocks are OR-reduced, which the compiler vectorises,
/// where a byte-wise search cost a tenth of a 1M-znode restart.
fn first_nonzero(bytes: &[u8]) -> Option<usize> {
    let mut blocks = bytes.chunks_exact(64);
    for (n, block) in blocks.by_ref().enumerate() {
        if block.iter().fold(0u8, |acc, &b| acc | b) != 0 {
            return block.iter().position(|&b| b != 0).map(|k| n * 64 + k);
        }
    }
    let done = bytes.len() - blocks.remainder().len();
    blocks
        .remainder()
        .iter()
        .position(|&b| b != 0)
        .map(|k| done + k)
}

/// Cuts the newest log file at the end of its last good entry (or removes
/// it if none is left), and fsyncs. The next writer starts a new file, so
/// the missing preallocation of the cut file does not matter.
pub fn truncate_torn_tail(tail: &TornTail) -> Result<(), StorageError> {
    if tail.offset <= HEADER_LEN {
        std::fs::remove_file(&tail.file).map_err(StorageError::io("remove", &tail.file))?;
    } else {
        let f = OpenOptions::new()
            .write(true)
            .open(&tail.file)
            .map_err(StorageError::io("open", &tail.file))?;
        f.set_len(tail.offset)
            .map_err(StorageError::io("truncate", &tail.file))?;
        f.sync_all()
            .map_err(StorageError::io("fsync", &tail.file))?;
    }
    if let Some(dir) = tail.file.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Reads every transaction after `after`: the transactions and the torn
/// tail, if any (for tools and tests; recovery streams instead).
pub fn read_all(log_dir: &Path, after: i64) -> Result<(Vec<Txn>, Option<TornTail>), StorageError> {
    let mut reader = TxnLogReader::open(log_dir, after)?;
    let mut txns = Vec::new();
    for e in reader.by_ref() {
        txns.push(e?.txn);
    }
    Ok((txns, reader.torn.clone()))
}

#[cfg(test)]
mod tests {
    use super::first_nonzero;

    #[test]
    fn first_nonzero_finds_the_first_set_byte_anywhere() {
        for len in [0, 1, 63, 64, 65, 200] {
            assert_eq!(first_nonzero(&vec![0u8; len]), None, "len {len}");
            for at in 0..len {
                let mut b = vec![0u8; len];
                b[at] = 0x80;
                if at + 1 < len {
                    b[len - 1] = 1;
                }
                assert_eq!(first_nonzero(&b), Some(at), "len {len} at {at}");
            }
        }
    }
}
