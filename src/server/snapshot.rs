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
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use bytes::Bytes;

use super::core::Core;
use crate::proto::records::data::{StatPersisted, ACL};
use crate::tree::acl::OPEN_UNSAFE_ACL_ID;
use crate::tree::data_tree::join;

/// One piece of a snapshot, sent to the writer thread.
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

/// What a snapshot writer does with the pieces (the storage layer).
pub trait SnapshotSink: Send + 'static {
    /// Starts a snapshot named for `zxid` with these sessions and ACLs.
    fn begin(
        &mut self,
        zxid: i64,
        sessions: &[(i64, i32)],
        acls: &BTreeMap<i64, Vec<ACL>>,
    ) -> Result<(), String>;
    /// Writes one node.
    fn node(
        &mut self,
        path: &str,
        data: Option<&Bytes>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), String>;
    /// Completes the file (checksum, digest trailer, fsync, rename).
    fn finish(&mut self, digest: Option<(i64, i64)>) -> Result<(), String>;
}

/// Makes snapshot sinks; one per snapshot.
pub trait SnapshotFactory: Send + 'static {
    /// A sink for the next snapshot.
    fn sink(&mut self) -> Box<dyn SnapshotSink>;
}

/// A snapshot in progress.
pub(super) struct SnapshotJob {
    zxid: i64,
    max_acl_id: i64,
    stack: Vec<String>,
    tx: SyncSender<SnapPiece>,
    /// The writer's queue was full at the last step: the core waits a
    /// little instead of retrying at once (which spun the core loop).
    pub(super) stalled: bool,
}

/// Nodes handed over per step; small enough to keep request latency flat.
pub(super) const CHUNK: usize = 512;

/// Runs one snapshot's IO on its own thread.
fn spawn_writer(
    mut sink: Box<dyn SnapshotSink>,
    rx: Receiver<SnapPiece>,
    zxid: i64,
    sessions: Vec<(i64, i32)>,
    acls: BTreeMap<i64, Vec<ACL>>,
) {
    std::thread::Builder::new()
        .name("ferrozk-snapshot".into())
        .spawn(move || {
            let result = (|| {
                sink.begin(zxid, &sessions, &acls)?;
                while let Ok(piece) = rx.recv() {
                    match piece {
                        SnapPiece::Node {
                            path,
                            data,
                            acl,
                            stat,
                        } => sink.node(&path, data.as_ref(), acl, &stat)?,
                        SnapPiece::Done(digest) => return sink.finish(digest),
                    }
                }
                Err("snapshot abandoned".to_string())
            })();
            match result {
                Ok(()) => tracing::info!("snapshot 0x{zxid:x} written"),
                // A failed snapshot loses nothing (the log has every
                // transaction); the next roll tries again.
                Err(e) => tracing::error!("snapshot 0x{zxid:x} failed: {e}"),
            }
        })
        .expect("spawn the snapshot thread");
}

impl Core {
    /// Starts a snapshot unless one is running.
    pub(crate) fn start_snapshot(&mut self) {
        if self.snapshot.is_some() {
            tracing::warn!("log rolled while a snapshot is still being written; skipping this one");
            return;
        }
        let Some(factory) = self.snapshots.as_mut() else {
            return;
        };
        let zxid = self.tree.last_zxid;
        let sessions: Vec<(i64, i32)> = self
            .sessions
            .sessions()
            .map(|s| (s.id.0, s.timeout_ms as i32))
            .collect();
        let acls = self.tree.acls.map();
        let max_acl_id = acls.keys().next_back().copied().unwrap_or(0);
        let (tx, rx) = sync_channel(4 * CHUNK);
        spawn_writer(factory.sink(), rx, zxid, sessions, acls);
        self.snapshot = Some(SnapshotJob {
            zxid,
            max_acl_id,
            stack: vec!["/".to_string()],
            tx,
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
                let _ = job.tx.send(SnapPiece::Done(end));
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
            match job.tx.try_send(piece) {
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
                Err(TrySendError::Full(_)) => {
                    // The writer is behind: yield to requests, retry later.
                    job.stack.push(path);
                    job.stalled = true;
                    return true;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.snapshot = None;
                    return false;
                }
            }
        }
        true
    }
}
