//! The tree digest of Apache ZooKeeper 3.8 (DigestCalculator, version 2;
//! NodeHashMapImpl; AdHash), logged after each transaction (TxnDigest) and
//! after each snapshot (ZxidDigest) so replicas and restarts can detect a
//! diverging tree.
//!
//! ```text
//! node digest = CRC32( path bytes (UTF-8; the root as "")
//!                      ‖ data (nothing if null)
//!                      ‖ czxid, mzxid, pzxid, ctime, mtime  (8 bytes each, big-endian)
//!                      ‖ version, cversion, aversion        (4 bytes each)
//!                      ‖ ephemeralOwner                     (8 bytes) )
//!               as an unsigned 32-bit value
//! tree digest = wrapping 64-bit sum of the node digests of every node
//!               whose path does not start with "/zookeeper/"
//!               (so "/" and "/zookeeper" count, "/zookeeper/quota",
//!               "/zookeeper/config" and quota nodes do not)
//! ```
//!
//! Note the stat order differs from StatPersisted's field order, and the
//! stored (not the client-visible) cversion is used.
//!
//! Keeping the digest current costs O(nodes touched) per transaction:
//! [`apply_tracked`] subtracts the digests of the nodes a transaction can
//! change, applies it, and adds them back.

use std::collections::BTreeSet;

use crate::proto::path;
use crate::tree::node::Node;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::{ApplyResult, DataTree, Notification};

pub use crate::tree::digest::{node_digest, tree_digest, EXCLUDED_PREFIX};

fn digest_of(path: &str, node: &Node) -> i64 {
    node_digest(path, node.data.as_deref(), &node.stat)
}

/// The nodes a transaction may change: each path it names and its parent;
/// for closeSession also the session's ephemerals and their parents.
pub fn touched_paths(tree: &DataTree, txn: &Txn) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect(tree, txn.hdr.client_id, &txn.body, &mut out);
    out
}

fn collect(tree: &DataTree, session: i64, body: &TxnBody, out: &mut BTreeSet<String>) {
    let mut add = |p: &str| {
        if !p.is_empty() {
            out.insert(path::parent(p).to_string());
            out.insert(p.to_string());
        }
    };
    match body {
        TxnBody::Create(t) => add(&t.path),
        TxnBody::CreateTtl(t) => add(&t.path),
        TxnBody::CreateContainer(t) => add(&t.path),
        TxnBody::Delete(t) => add(&t.path),
        TxnBody::SetData(t) => add(&t.path),
        TxnBody::SetAcl(t) => add(&t.path),
        TxnBody::Check(_) | TxnBody::CreateSession(_) | TxnBody::Error(_) => {}
        TxnBody::CloseSession(t) => {
            for p in &t.paths2_delete {
                add(p);
            }
            for p in tree.ephemerals(session) {
                add(p);
            }
        }
        TxnBody::Multi(subs) => {
            for s in subs {
                collect(tree, session, &s.body, out);
            }
        }
    }
}

/// Sum of the digests of those of `paths` that exist.
pub fn digest_of_paths(tree: &DataTree, paths: &BTreeSet<String>) -> i64 {
    paths
        .iter()
        .filter_map(|p| tree.get(p).map(|n| digest_of(p, n)))
        .fold(0i64, i64::wrapping_add)
}

/// Applies `txn` (through `change`, which may also adjust the tree, e.g.
/// the replay fix-ups) and updates `digest` incrementally.
pub fn apply_tracked(
    tree: &mut DataTree,
    txn: &Txn,
    digest: &mut i64,
    change: impl FnOnce(&mut DataTree, &Txn, &mut Vec<Notification>) -> ApplyResult,
    out: &mut Vec<Notification>,
) -> ApplyResult {
    let paths = touched_paths(tree, txn);
    let before = digest_of_paths(tree, &paths);
    let rc = change(tree, txn, out);
    let after = digest_of_paths(tree, &paths);
    *digest = digest.wrapping_sub(before).wrapping_add(after);
    rc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::records::data::StatPersisted;

    #[test]
    fn system_subtree_is_excluded_but_zookeeper_node_is_not() {
        let stat = StatPersisted::default();
        assert_eq!(node_digest("/zookeeper/quota", Some(b""), &stat), 0);
        assert_ne!(node_digest("/zookeeper", Some(b""), &stat), 0);
        assert_eq!(
            node_digest("/", None, &stat),
            node_digest("", None, &stat),
            "the root digests as \"\""
        );
    }

    #[test]
    fn empty_tree_digest_is_root_plus_zookeeper_node() {
        // A fresh tree: "" and "/zookeeper" with zeroed stats and empty data.
        let t = DataTree::new(false);
        let zero = StatPersisted::default();
        let want = node_digest("", Some(b""), &zero) + node_digest("/zookeeper", Some(b""), &zero);
        assert_eq!(tree_digest(&t), want);
    }
}
