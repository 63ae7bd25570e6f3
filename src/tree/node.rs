//! A znode: data, ACL id, persisted stat and child count. Its name and
//! children are its place in the [`Arena`](super::arena::Arena).

use bytes::Bytes;

use crate::proto::records::data::{Stat, StatPersisted};

/// `ephemeralOwner` of container nodes (EphemeralType.CONTAINER).
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// High byte marking an extended ephemeral type (TTL) in `ephemeralOwner`.
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;
/// Largest TTL ZooKeeper accepts (EphemeralType.MAX_TTL).
pub const MAX_TTL_MS: i64 = 0x00ff_ffff_ffff;

/// What kind of node an `ephemeralOwner` value denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Persistent (owner 0).
    Persistent,
    /// Ephemeral, owned by a session.
    Ephemeral(i64),
    /// Container: deleted once its last child is.
    Container,
    /// TTL: deleted when childless and unmodified for this long.
    Ttl(i64),
}

impl NodeKind {
    /// Decodes an `ephemeralOwner` (EphemeralType.get). TTL encodings are only
    /// recognised when extended types are enabled, as in ZooKeeper.
    pub fn of(owner: i64, extended_types: bool) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if extended_types && owner & EXTENDED_MASK == EXTENDED_MASK {
            NodeKind::Ttl(owner & !EXTENDED_MASK)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }

    /// The `ephemeralOwner` encoding of a TTL node.
    pub fn ttl_owner(ttl_ms: i64) -> i64 {
        EXTENDED_MASK | ttl_ms
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The data; `None` if the creator sent a null buffer (ZooKeeper returns
    /// null back).
    pub data: Option<Bytes>,
    /// Id of its ACL list in the [`AclCache`](super::acl::AclCache).
    pub acl: i64,
    /// The persisted part of the stat.
    pub stat: StatPersisted,
    /// How many children it has (kept by the tree).
    pub(super) num_children: u32,
}

impl Node {
    /// A fresh node as DataTree.createStat makes it.
    pub fn new(data: Option<Bytes>, acl: i64, zxid: i64, time: i64, owner: i64) -> Node {
        Node {
            data,
            acl,
            stat: StatPersisted {
                czxid: zxid,
                mzxid: zxid,
                ctime: time,
                mtime: time,
                version: 0,
                cversion: 0,
                aversion: 0,
                ephemeral_owner: owner,
                pzxid: zxid,
            },
            num_children: 0,
        }
    }

    /// How many children the node has.
    pub fn num_children(&self) -> usize {
        self.num_children as usize
    }

    /// The client-visible stat, as DataNode.copyStat derives it:
    /// - the stored cversion counts child *creations* (it also names
    ///   sequential children); clients see creations plus deletions, which
    ///   is `2 * cversion - numChildren`;
    /// - containers and TTL nodes show ephemeralOwner 0 (only real
    ///   ephemerals show their session).
    pub fn stat(&self) -> Stat {
        let s = &self.stat;
        let num_children = self.num_children as i32;
        let owner = s.ephemeral_owner;
        let ephemeral_owner = if owner == CONTAINER_OWNER || owner & EXTENDED_MASK == EXTENDED_MASK
        {
            0
        } else {
            owner
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner,
            data_length: self.data.as_ref().map_or(0, |d| d.len() as i32),
            num_children,
            pzxid: s.pzxid,
        }
    }
}
