//! Fuzzy snapshots without stopping writes.
//!
//! When the log rolls, the core starts a snapshot job: it records the last
//! applied zxid Z (the snapshot's name), the sessions and the ACL map, and
//! then walks the tree depth-first a chunk of nodes at a time between
//! requests, handing each node to a writer thread that does the IO. Writes
//! keep being applied meanwhile, so the snapshot is "fuzzy" exactly as
//! ZooKeeper's: replaying the log from Z+1 over it converges on the true
//! state, because replay tolerates effects already present.
//!
//! Two rules keep the file loadable by both servers: a node created after Z
//! is left out (its create is replayed), and a node whose ACL list was
//! interned after Z is written with the open ACL id -1, which is always
//! valid (the setACL that gave it the new list comes after Z and is
//! replayed). Parents are always written before their children.
//!
//! The digest trailer records the zxid and tree digest at the moment the
//! walk *ends*, as ZooKeeper's does: replaying up to that zxid makes the
//! tree exact again, so digest checks during recovery start there (before
//! it, the fuzzy snapshot legitimately differs from any single zxid).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::Core;
use crate::proto::records::data::{StatPersisted, ACL};
use crate::storage::StorageError;
use crate::tree::acl::OPEN_UNSAFE_ACL_ID;
use crate::tree::data_tree::join;
use crate::tree::DataTree;

/// One piece of a snapshot, handed to its writer.
#[derive(Debug)]
pub enum SnapPiece {
    /// A node (written in this order).
    Node {
        /// Full path ("/" for the root).
        path: String,
        /// Data.
        data: Option<Bytes>,
        /// ACL id, present in the header's map (or -1).
        acl: i64,
        /// Persisted stat.
        stat: StatPersisted,
    },
    /// All nodes sent: finish and publish the file, recording the zxid
    /// and tree digest at this moment (see the module doc).
    Done(Option<(i64, i64)>),
}

/// Why a writer did not take a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterBusy {
    /// It is behind: offer the piece again later.
    Full,
    /// It is gone (the snapshot failed: nothing is lost, the log has every
    /// transaction).
    Gone,
}

/// Takes the pieces of one fuzzy snapshot without blocking the core (the
/// disk implementation hands them to a writer thread).
pub trait SnapshotWriter: Send {
    /// Takes a piece, or says why not.
    fn try_put(&mut self, piece: SnapPiece) -> Result<(), WriterBusy>;
}

/// Where snapshots go.
pub trait SnapshotStore: Send {
    /// Starts a fuzzy snapshot named for `zxid`, with these sessions and
    /// ACLs (the header), whose nodes follow through the writer.
    fn begin(
        &mut self,
        zxid: i64,
        sessions: Vec<(i64, i32)>,
        acls: BTreeMap<i64, Vec<ACL>>,
    ) -> Box<dyn SnapshotWriter>;
    /// Writes a complete snapshot of `tree` now (after a SNAP from the
    /// leader: the log starts after it).
    fn save(
        &mut self,
        zxid: i64,
        tree: &DataTree,
        sessions: &[(i64, i32)],
    ) -> Result<(), StorageError>;
    /// Reports to the server's metrics from now on (`snapshottime`, and
    /// what loading the database it was recovered from took). Stores that
    /// measure nothing (the simulator's) ignore it.
    fn attach(&mut self, _metrics: std::sync::Arc<crate::server::metrics::ServerMetrics>) {}
}

/// A snapshot in progress.
pub(super) struct SnapshotJob {
    zxid: i64,
    max_acl_id: i64,
    stack: Vec<String>,
    writer: Box<dyn SnapshotWriter>,
    /// The writer was behind at the last step: the runtime waits a little
    /// instead of retrying at once (which spun the loop).
    pub(super) stalled: bool,
}

/// Nodes handed over per step when idle; small enough to keep request
/// latency flat.
pub const CHUNK: usize = 512;

impl Core {
    /// Lets the snapshot store report to this server's metrics (the
    /// runtime calls it once, before it runs the core).
    pub fn attach_store_metrics(&mut self) {
        if let Some(store) = self.snapshots.as_mut() {
            store.attach(self.metrics.clone());
        }
    }

    /// Starts a snapshot unless one is running.
    pub(super) fn start_snapshot(&mut self) {
        if self.snapshot.is_some() {
            tracing::warn!("log rolled while a snapshot is still being written; skipping this one");
            return;
        }
        let zxid = self.tree.last_zxid;
        let sessions = self.session_list();
        let acls = self.tree.acls.map();
        let max_acl_id = acls.keys().next_back().copied().unwrap_or(0);
        let Some(store) = self.snapshots.as_mut() else {
            return;
        };
        let writer = store.begin(zxid, sessions, acls);
        self.snapshot = Some(SnapshotJob {
            zxid,
            max_acl_id,
            stack: vec!["/".to_string()],
            writer,
            stalled: false,
        });
        tracing::info!("snapshot 0x{zxid:x} started");
    }

    /// Hands up to `budget` nodes to the writer; true while work remains.
    pub(super) fn advance_snapshot(&mut self, budget: usize) -> bool {
        let Some(job) = self.snapshot.as_mut() else {
            return false;
        };
        for _ in 0..budget {
            let Some(path) = job.stack.pop() else {
                let end = Some((self.tree.last_zxid, self.applied_digest));
                let _ = job.writer.try_put(SnapPiece::Done(end));
                self.snapshot = None;
                return false;
            };
            let Some(node) = self.tree.get(&path) else {
                continue;
            };
            if node.stat.czxid > job.zxid {
                continue;
            }
            let acl = if node.acl > job.max_acl_id {
                OPEN_UNSAFE_ACL_ID
            } else {
                node.acl
            };
            let piece = SnapPiece::Node {
                path: path.clone(),
                data: node.data.clone(),
                acl,
                stat: node.stat.clone(),
            };
            match job.writer.try_put(piece) {
                Ok(()) => {
                    job.stalled = false;
                    job.stack.extend(
                        self.tree
                            .children(&path)
                            .into_iter()
                            .rev()
                            .map(|c| join(&path, c)),
                    )
                }
                Err(WriterBusy::Full) => {
                    // The writer is behind: yield to requests, retry later.
                    job.stack.push(path);
                    job.stalled = true;
                    return true;
                }
                Err(WriterBusy::Gone) => {
                    self.snapshot = None;
                    return false;
                }
            }
        }
        true
    }
}
