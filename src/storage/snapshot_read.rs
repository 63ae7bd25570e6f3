//! Reading a snapshot (FileSnap.deserialize, SnapStream.checkSealIntegrity,
//! DataTree.deserializeZxidDigest). The grammar is in snapshot.rs.
//!
//! The whole file is read into memory and parsed from there; node data are
//! slices of that buffer (no copy). Both seals are checked: the first
//! covers everything before it, the second everything before it
//! (including the first seal and the digest). A snapshot without the
//! digest part (written before ZooKeeper 3.6, or with digests disabled)
//! ends after the first seal. Digest versions below 2 stored the digest as
//! a hex string; that is read too.
//!
//! Compressed snapshots (`snapshot.<zxid>.gz` / `.snappy`, Apache's
//! `zookeeper.snapshot.compression.method`) are recognised and refused with
//! [`StorageError::UnsupportedCompression`].

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::{Buf, Bytes};

use super::datadir::{self, SNAPSHOT_PREFIX};
use super::error::StorageError;
use super::snapshot::SNAP_MAGIC;
use crate::proto::jute::{DecodeError, Jute};
use crate::proto::records::data::{StatPersisted, ACL};

/// One node as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapNode {
    /// Full path; the root is "/" (stored as "").
    pub path: String,
    /// Data (`None` = null).
    pub data: Option<Bytes>,
    /// ACL cache id.
    pub acl: i64,
    /// Persisted stat.
    pub stat: StatPersisted,
}

/// The digest trailer of a snapshot (DataTree.ZxidDigest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZxidDigest {
    /// zxid the digest belongs to (0 = none recorded).
    pub zxid: i64,
    /// DigestCalculator version (2 in 3.8).
    pub version: i32,
    /// Tree digest at that zxid.
    pub digest: i64,
}

/// A snapshot's contents.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The file.
    pub path: PathBuf,
    /// zxid from the file name.
    pub zxid: i64,
    /// Sessions and their timeouts (ms), in file order.
    pub sessions: Vec<(i64, i32)>,
    /// ACL cache: id → list.
    pub acls: BTreeMap<i64, Vec<ACL>>,
    /// Nodes in file order (parents first).
    pub nodes: Vec<SnapNode>,
    /// The digest trailer, if present (zxid 0 counts as absent).
    pub digest: Option<ZxidDigest>,
}

/// The compression a snapshot file name announces (SnapStream.getStreamMode).
fn compression(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let parts: Vec<&str> = name.split('.').collect();
    let last = parts.last()?.to_ascii_lowercase();
    (parts.len() > 1 && (last == "gz" || last == "snappy")).then_some(last)
}

/// ZooKeeper's cheap validity test (SnapStream.isValidSnapshot): a
/// snapshot name, and for uncompressed files at least 10 bytes ending in a
/// one-character "/" string. Compressed files count as valid here so that
/// reading them reports the missing support instead of skipping them.
pub fn looks_complete(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if datadir::zxid_from_name(name, SNAPSHOT_PREFIX).is_none() {
        return false;
    }
    if compression(path).is_some() {
        return true;
    }
    let tail = (|| -> std::io::Result<Option<[u8; 5]>> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        if len < 10 {
            return Ok(None);
        }
        f.seek(SeekFrom::Start(len - 5))?;
        let mut t = [0u8; 5];
        f.read_exact(&mut t)?;
        Ok(Some(t))
    })();
    matches!(tail, Ok(Some([0, 0, 0, 1, b'/'])))
}

/// Reads and validates a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, StorageError> {
    if let Some(method) = compression(path) {
        return Err(StorageError::UnsupportedCompression {
            path: path.to_path_buf(),
            method,
        });
    }
    let zxid = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| datadir::zxid_from_name(n, SNAPSHOT_PREFIX))
        .ok_or_else(|| bad(path, "not a snapshot file name".into()))?;
    let raw = Bytes::from(std::fs::read(path).map_err(StorageError::io("read", path))?);
    if raw.starts_with(&[0x1f, 0x8b]) || raw.starts_with(b"\x82SNAPPY\0") {
        return Err(StorageError::UnsupportedCompression {
            path: path.to_path_buf(),
            method: if raw[0] == 0x1f { "gz" } else { "snappy" }.into(),
        });
    }
    parse(path, zxid, raw).map_err(|e| match e {
        ParseError::Decode(d) => bad(path, format!("malformed: {d}")),
        ParseError::Other(s) => bad(path, s),
    })
}

fn bad(path: &Path, reason: String) -> StorageError {
    StorageError::BadSnapshot {
        path: path.to_path_buf(),
        reason,
    }
}

enum ParseError {
    Decode(DecodeError),
    Other(String),
}

impl From<DecodeError> for ParseError {
    fn from(e: DecodeError) -> Self {
        ParseError::Decode(e)
    }
}

fn parse(path: &Path, zxid: i64, raw: Bytes) -> Result<Snapshot, ParseError> {
    let total = raw.len();
    let mut src = raw.clone();
    let magic = i32::decode(&mut src)?;
    if magic != SNAP_MAGIC {
        return Err(ParseError::Other(format!(
            "bad magic {magic:#010x} (expected {SNAP_MAGIC:#010x})"
        )));
    }
    let _version = i32::decode(&mut src)?;
    let _dbid = i64::decode(&mut src)?;
    let count = i32::decode(&mut src)?;
    let mut sessions = Vec::with_capacity(count.clamp(0, 1 << 16) as usize);
    for _ in 0..count.max(0) {
        sessions.push((i64::decode(&mut src)?, i32::decode(&mut src)?));
    }
    let count = i32::decode(&mut src)?;
    let mut acls = BTreeMap::new();
    for _ in 0..count.max(0) {
        let id = i64::decode(&mut src)?;
        acls.insert(id, Vec::<ACL>::decode(&mut src)?);
    }
    let mut nodes = Vec::new();
    loop {
        let p = String::decode(&mut src)?;
        if p == "/" {
            break;
        }
        nodes.push(SnapNode {
            path: if p.is_empty() { "/".into() } else { p },
            data: Option::<Bytes>::decode(&mut src)?,
            acl: i64::decode(&mut src)?,
            stat: StatPersisted::decode(&mut src)?,
        });
    }
    check_seal(&raw, total - src.remaining(), &mut src)?;
    let mut digest = None;
    if src.has_remaining() {
        let dzxid = i64::decode(&mut src)?;
        let version = i32::decode(&mut src)?;
        let value = if version < 2 {
            let hex = String::decode(&mut src)?;
            u64::from_str_radix(&hex, 16)
                .map_err(|_| ParseError::Other(format!("digest {hex:?} is not hex")))?
                as i64
        } else {
            i64::decode(&mut src)?
        };
        check_seal(&raw, total - src.remaining(), &mut src)?;
        if dzxid > 0 {
            digest = Some(ZxidDigest {
                zxid: dzxid,
                version,
                digest: value,
            });
        }
    }
    Ok(Snapshot {
        path: path.to_path_buf(),
        zxid,
        sessions,
        acls,
        nodes,
        digest,
    })
}

/// Reads a seal at `pos` and compares it with the Adler32 of `raw[..pos]`.
fn check_seal(raw: &[u8], pos: usize, src: &mut Bytes) -> Result<(), ParseError> {
    let stored = i64::decode(src)?;
    let _slash = String::decode(src)?;
    let computed = i64::from(adler2::adler32_slice(&raw[..pos]));
    if stored != computed {
        return Err(ParseError::Other(format!(
            "checksum mismatch at byte {pos}: stored {stored:#x}, computed {computed:#x}"
        )));
    }
    Ok(())
}
