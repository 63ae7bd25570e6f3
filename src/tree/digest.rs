//! The tree digest of Apache ZooKeeper 3.8 (DigestCalculator version 2):
//! a CRC32 per node, summed over the tree. Pure functions, used by `prep`
//! (the digest after each transaction, logged as TxnDigest) and by storage
//! (snapshots, recovery checks); `crate::storage::digest` documents the
//! byte layout.

use crate::proto::records::data::StatPersisted;

use super::data_tree::DataTree;

/// DigestCalculator's version, logged with each digest.
pub const DIGEST_VERSION: i32 = 2;

/// Paths under this prefix are left out of the digest.
pub const EXCLUDED_PREFIX: &str = "/zookeeper/";

/// Digest of one node (0 for excluded paths).
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if path.starts_with(EXCLUDED_PREFIX) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut b = [0u8; 60];
    let fields8 = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
    for (i, v) in fields8.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    for (i, v) in [stat.version, stat.cversion, stat.aversion]
        .iter()
        .enumerate()
    {
        b[40 + i * 4..44 + i * 4].copy_from_slice(&v.to_be_bytes());
    }
    b[52..60].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(path.as_bytes());
    if let Some(d) = data {
        h.update(d);
    }
    h.update(&b);
    i64::from(h.finalize())
}

/// Digest of the node at `path` in `tree` (0 if absent or excluded).
pub fn digest_of_node(tree: &DataTree, path: &str) -> i64 {
    tree.get(path)
        .map_or(0, |n| node_digest(path, n.data.as_deref(), &n.stat))
}

/// Digest of a whole tree (NodeHashMapImpl.getDigest).
pub fn tree_digest(tree: &DataTree) -> i64 {
    tree.iter().fold(0i64, |acc, (p, n)| {
        acc.wrapping_add(node_digest(&p, n.data.as_deref(), &n.stat))
    })
}
