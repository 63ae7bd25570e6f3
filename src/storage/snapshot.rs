//! The snapshot writer, byte-compatible with Apache ZooKeeper 3.8's FileSnap
//! (FileSnap.serialize, SerializeUtils.serializeSnapshot, DataTree.serialize,
//! ReferenceCountedACLCache.serialize, DataNode.serialize, SnapStream).
//!
//! ```text
//! Snapshot (uncompressed; every byte through one running Adler32):
//!     FileHeader   magic int ("ZKSN" = 0x5a4b534e), version int (2), dbid long (-1)
//!     sessions     count int, then count × { id long, timeout int }
//!     acl cache    count int, then count × { id long, acls vector<ACL> }
//!     nodes        ( path ustring, DataNode )*, parents before children,
//!                  the root written with path "" (not "/")
//!     end          path ustring "/"
//!     seal         Adler32 of everything above, long; then ustring "/"
//!     ZxidDigest   zxid long, digestVersion int (2), digest long
//!                  (zxid 0 = no digest); written when digests are enabled
//!     seal         Adler32 of everything above (including the first seal), long; ustring "/"
//! DataNode:        data buffer, acl long (cache id, -1 = OPEN_ACL_UNSAFE),
//!                  StatPersisted { czxid, mzxid, ctime, mtime long,
//!                                  version, cversion, aversion int,
//!                                  ephemeralOwner, pzxid long }
//! ```
//!
//! A file ends in the 5 bytes `00 00 00 01 2f` (a one-character "/"):
//! that is ZooKeeper's cheap completeness test (SnapStream.isValidSnapshot).
//!
//! Fuzzy snapshots: the name carries the last zxid applied when the
//! snapshot *started*; nodes are written while later transactions keep
//! being applied, so the content may be ahead of the name. Recovery replays
//! from name + 1 and tolerates what it finds (recover.rs). The ZxidDigest
//! should be the tree digest as of the last transaction applied when the
//! nodes were done; replay checks it when it reaches that zxid.
//!
//! The writer streams: [`SnapshotWriter::header`], then
//! [`SnapshotWriter::node`] as often as needed, then
//! [`SnapshotWriter::finish`], which fsyncs the file and renames
//! `snapshot.<zxid>.tmp` to `snapshot.<zxid>` (ZooKeeper's
//! AtomicFileOutputStream uses the same `.tmp` name).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bytes::{BufMut, BytesMut};

use super::datadir;
use super::digest;
use super::error::StorageError;
use super::txnlog::{sync_dir, FORMAT_VERSION};
use crate::proto::jute::Jute;
use crate::proto::records::data::{StatPersisted, ACL};
use crate::tree::data_tree::join;
use crate::tree::node::Node;
use crate::tree::DataTree;

/// "ZKSN" (FileSnap.SNAP_MAGIC).
pub const SNAP_MAGIC: i32 = i32::from_be_bytes(*b"ZKSN");
/// The dbid ZooKeeper writes in snapshot headers.
pub const SNAP_DBID: i64 = -1;
/// DigestCalculator.DIGEST_VERSION.
pub const DIGEST_VERSION: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Nodes,
}

/// A snapshot being written.
pub struct SnapshotWriter {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
    adler: adler2::Adler32,
    scratch: BytesMut,
    stage: Stage,
    finished: bool,
}

impl SnapshotWriter {
    /// Starts `<snap_dir>/version-2/snapshot.<zxid>.tmp`; `zxid` is the last
    /// transaction applied before the first node is written.
    pub fn create(snap_dir: &Path, zxid: i64) -> Result<SnapshotWriter, StorageError> {
        let dir = datadir::version_dir(snap_dir);
        std::fs::create_dir_all(&dir).map_err(StorageError::io("create", &dir))?;
        let path = dir.join(datadir::snapshot_name(zxid));
        let tmp = dir.join(format!("{}.tmp", datadir::snapshot_name(zxid)));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(StorageError::io("create", &tmp))?;
        Ok(SnapshotWriter {
            tmp,
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            adler: adler2::Adler32::new(),
            scratch: BytesMut::with_capacity(4096),
            stage: Stage::Header,
            finished: false,
        })
    }

    /// The name the snapshot will have once finished.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn emit(&mut self) -> Result<(), StorageError> {
        self.adler.write_slice(&self.scratch);
        self.out
            .write_all(&self.scratch)
            .map_err(StorageError::io("write", &self.tmp))?;
        self.scratch.clear();
        Ok(())
    }

    /// Writes the file header, the sessions (id, timeout in ms) and the ACL
    /// cache (id → list). Must come first, once.
    pub fn header(
        &mut self,
        sessions: &[(i64, i32)],
        acls: &BTreeMap<i64, Vec<ACL>>,
    ) -> Result<(), StorageError> {
        if self.stage != Stage::Header {
            return Err(StorageError::Usage("snapshot header written twice".into()));
        }
        let b = &mut self.scratch;
        b.put_i32(SNAP_MAGIC);
        b.put_i32(FORMAT_VERSION);
        b.put_i64(SNAP_DBID);
        b.put_i32(sessions.len() as i32);
        for &(id, timeout) in sessions {
            b.put_i64(id);
            b.put_i32(timeout);
        }
        b.put_i32(acls.len() as i32);
        for (&id, list) in acls {
            b.put_i64(id);
            list.encode(b);
        }
        self.emit()?;
        self.stage = Stage::Nodes;
        Ok(())
    }

    /// Writes one node. Parents must come before their children; the root
    /// may be given as "/" or "".
    pub fn node(&mut self, path: &str, node: &Node) -> Result<(), StorageError> {
        self.node_parts(path, node.data.as_deref(), node.acl, &node.stat)
    }

    /// Writes one node from its parts (for callers holding a copy).
    pub fn node_parts(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), StorageError> {
        if self.stage != Stage::Nodes {
            return Err(StorageError::Usage("snapshot node before header".into()));
        }
        let path = if path == "/" { "" } else { path };
        let b = &mut self.scratch;
        b.put_i32(path.len() as i32);
        b.put_slice(path.as_bytes());
        match data {
            Some(d) => {
                b.put_i32(d.len() as i32);
                b.put_slice(d);
            }
            None => b.put_i32(-1),
        }
        b.put_i64(acl);
        stat.encode(b);
        self.emit()
    }

    fn seal(&mut self) -> Result<(), StorageError> {
        let sum = i64::from(self.adler.checksum());
        self.scratch.put_i64(sum);
        "/".to_string().encode(&mut self.scratch);
        self.emit()
    }

    /// Ends the node list, writes both seals and the digest
    /// (`(zxid, tree digest)`, or none), fsyncs and renames into place.
    /// Returns the final path.
    pub fn finish(mut self, digest: Option<(i64, i64)>) -> Result<PathBuf, StorageError> {
        if self.stage != Stage::Nodes {
            return Err(StorageError::Usage(
                "snapshot finished before header".into(),
            ));
        }
        "/".to_string().encode(&mut self.scratch);
        self.emit()?;
        self.seal()?;
        let (zxid, value) = digest.unwrap_or((0, 0));
        self.scratch.put_i64(zxid);
        self.scratch.put_i32(DIGEST_VERSION);
        self.scratch.put_i64(value);
        self.emit()?;
        self.seal()?;
        self.out
            .flush()
            .map_err(StorageError::io("write", &self.tmp))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(StorageError::io("fsync", &self.tmp))?;
        std::fs::rename(&self.tmp, &self.path).map_err(StorageError::io("rename", &self.tmp))?;
        self.finished = true;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        Ok(self.path.clone())
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.finished {
            // An abandoned snapshot leaves no partial file behind.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes a whole tree at once (tools and tests; the server streams).
/// Nodes go depth first, children in name order; the digest is the tree's.
pub fn write_snapshot(
    snap_dir: &Path,
    zxid: i64,
    tree: &DataTree,
    sessions: &[(i64, i32)],
) -> Result<PathBuf, StorageError> {
    let mut w = SnapshotWriter::create(snap_dir, zxid)?;
    w.header(sessions, &tree.acls.map())?;
    let mut stack = vec!["/".to_string()];
    while let Some(path) = stack.pop() {
        let Some(node) = tree.get(&path) else {
            continue;
        };
        w.node(&path, node)?;
        stack.extend(
            tree.children(&path)
                .into_iter()
                .rev()
                .map(|c| join(&path, c)),
        );
    }
    w.finish(Some((tree.last_zxid, digest::tree_digest(tree))))
}
