//! A simulated server's disk: epoch files, snapshots (in the SNAP image
//! format) and the transaction log as marshalled entries, with a write
//! cache that a power failure may lose. Recovery rebuilds the database as
//! `storage::recover` does: the newest snapshot, then the log after it.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::server::core::{Database, SnapshotStore, SnapshotWriter, WriterBusy};
use crate::storage::{self, StorageError};
use crate::tree::DataTree;
use crate::zab::{DurableState, Entry, Zxid};

/// What survives a crash (and what a power failure may lose).
#[derive(Debug, Default)]
pub struct Disk {
    pub accepted: u32,
    pub current: u32,
    /// Snapshots, oldest first: (zxid, image).
    pub snapshots: Vec<(i64, Bytes)>,
    /// Log entries that have been fsync'd.
    pub log: Vec<Entry>,
    /// Written but not yet fsync'd.
    pub unsynced: Vec<Entry>,
}

/// A disk shared by a server's core (its snapshot store) and the world.
pub type SharedDisk = Arc<Mutex<Disk>>;

impl Disk {
    /// Every log entry, synced or not (what a process that did not lose
    /// power reads back).
    pub fn all_log(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.log.iter().chain(&self.unsynced)
    }

    /// Whether `zxid` with these bytes is on the platter (synced log or a
    /// snapshot that covers it).
    pub fn holds(&self, zxid: i64, bytes: &Bytes) -> bool {
        self.log
            .iter()
            .rev()
            .any(|e| e.zxid.0 == zxid && e.txn == *bytes)
            || self.snapshots.last().is_some_and(|(z, _)| *z >= zxid)
    }

    /// Cuts the log after `zxid` and drops snapshots beyond it (as
    /// `storage::truncate_log` and `snapshots_after`); returns how many
    /// snapshots went.
    pub fn truncate(&mut self, zxid: i64) -> usize {
        self.log.retain(|e| e.zxid.0 <= zxid);
        self.unsynced.retain(|e| e.zxid.0 <= zxid);
        let before = self.snapshots.len();
        self.snapshots.retain(|(z, _)| *z <= zxid);
        before - self.snapshots.len()
    }

    /// The database recovery builds: newest snapshot, then the log after it.
    pub fn recover(&self, extended_types: bool) -> Result<Database, StorageError> {
        let (mut tree, sessions, base) = match self.snapshots.last() {
            Some((z, image)) => {
                let img = storage::image::decode_image(image, extended_types)?;
                let mut tree = img.tree;
                tree.last_zxid = *z;
                let sessions: std::collections::BTreeMap<i64, i32> =
                    img.sessions.into_iter().collect();
                (tree, sessions, *z)
            }
            None => (
                DataTree::new(extended_types),
                std::collections::BTreeMap::new(),
                0,
            ),
        };
        let mut sessions = sessions;
        let mut notes = Vec::new();
        for e in self.all_log().filter(|e| e.zxid.0 > base) {
            let txn = storage::entry::unmarshal(e.txn.clone())
                .map_err(|d| StorageError::Usage(format!("simulated log entry {}: {d}", e.zxid)))?;
            match &txn.body {
                crate::tree::txn::TxnBody::CreateSession(c) => {
                    sessions.insert(txn.hdr.client_id, c.time_out);
                }
                crate::tree::txn::TxnBody::CloseSession(_) => {
                    sessions.remove(&txn.hdr.client_id);
                }
                _ => {}
            }
            tree.apply(&txn, &mut notes);
            notes.clear();
        }
        let digest = crate::tree::digest::tree_digest(&tree);
        Ok(Database {
            tree,
            sessions: sessions.into_iter().collect(),
            digest,
            durable: None,
        })
    }

    /// The zxid of the newest snapshot (recovery's base), 0 without one.
    pub fn snapshot_zxid(&self) -> i64 {
        self.snapshots.last().map_or(0, |(z, _)| *z)
    }

    /// What Zab starts from: the epochs, the last zxid and the newest
    /// `keep` log entries after `after` and up to `last_zxid` — as
    /// `persist::durable_state` reads them: only entries after the
    /// snapshot recovery used, since the log before it may have gaps (what
    /// a SNAP brought is in no log).
    pub fn durable_state(&self, last_zxid: i64, after: i64, keep: usize) -> DurableState {
        let upto: Vec<&Entry> = self
            .all_log()
            .filter(|e| e.zxid.0 > after && e.zxid.0 <= last_zxid)
            .collect();
        let recent = upto
            .iter()
            .rev()
            .take(keep)
            .rev()
            .map(|e| (*e).clone())
            .collect();
        DurableState {
            accepted_epoch: self.accepted,
            current_epoch: self.current,
            last_zxid: Zxid(last_zxid),
            recent,
        }
    }
}

/// The core's snapshot store on a simulated disk. Fuzzy snapshots are not
/// simulated (the simulation never rolls its log); a SNAP's snapshot is
/// saved whole, as the server does.
pub struct SimSnapshots(pub SharedDisk);

struct NoWriter;

impl SnapshotWriter for NoWriter {
    fn try_put(&mut self, _: crate::server::core::SnapPiece) -> Result<(), WriterBusy> {
        Err(WriterBusy::Gone)
    }
}

impl SnapshotStore for SimSnapshots {
    fn begin(
        &mut self,
        _zxid: i64,
        _sessions: Vec<(i64, i32)>,
        _acls: std::collections::BTreeMap<i64, Vec<crate::proto::records::data::ACL>>,
    ) -> Box<dyn SnapshotWriter> {
        Box::new(NoWriter)
    }

    fn save(
        &mut self,
        zxid: i64,
        tree: &DataTree,
        sessions: &[(i64, i32)],
    ) -> Result<(), StorageError> {
        let image = storage::image::encode_image(tree, sessions);
        self.0.lock().snapshots.push((zxid, image));
        Ok(())
    }
}
