//! The ZNode tree and `apply`: a transaction in, changes and watch
//! notifications out. No IO, no clock: time comes in the transaction header.
//!
//! Nodes live in an [`Arena`] (why not ZooKeeper's flat path map: see
//! there); ephemerals are indexed by owner session, containers and TTL
//! nodes by path for the reaper.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use super::acl::{self, AclCache, OPEN_UNSAFE_ACL_ID};
use super::arena::{self, Arena, ROOT};
use super::node::{Node, NodeKind};
use super::txn::{Txn, TxnBody};
use super::watch::{EventType, WatchTable, WatcherId};
use crate::proto::path;
use crate::proto::records::data::{Stat, StatPersisted, ACL};
use crate::proto::{ErrorCode, OpCode};

/// A watch notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The connection to notify.
    pub watcher: WatcherId,
    /// What happened.
    pub event: EventType,
    /// Where.
    pub path: String,
    /// The ACL of the node the event names, as it was at the change (the
    /// parent's for NodeChildrenChanged). The event reaches the watcher
    /// only if its connection may READ under this list (CVE-2024-23944,
    /// checked where the connection's ids are known: the server core).
    /// Empty for events that are not filtered (setWatches catch-up, as
    /// ZooKeeper delivers those with a null ACL).
    pub acl: Arc<[ACL]>,
}

/// The outcome of applying one transaction (ProcessTxnResult).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyResult {
    /// The transaction (or sub-op) type.
    pub op: i32,
    /// 0, or the error code.
    pub err: i32,
    /// The path acted on.
    pub path: String,
    /// The node's stat after the change, for ops that return one.
    pub stat: Option<Stat>,
    /// Per-op results of a multi.
    pub multi: Vec<ApplyResult>,
}

/// The tree, its ACL cache, its indexes and its watch tables.
#[derive(Debug)]
pub struct DataTree {
    /// The nodes.
    nodes: Arena,
    /// Interned ACL lists.
    pub acls: AclCache,
    ephemerals: BTreeMap<i64, BTreeSet<String>>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    /// Data and exist watches.
    pub data_watches: WatchTable,
    /// Child watches.
    pub child_watches: WatchTable,
    /// zxid of the last applied transaction.
    pub last_zxid: i64,
    /// Whether TTL encodings of `ephemeralOwner` are recognised.
    pub extended_types: bool,
}

impl DataTree {
    /// An empty tree with ZooKeeper's system nodes: `/zookeeper`,
    /// `/zookeeper/quota` and `/zookeeper/config` (read-only for the world,
    /// with aversion -1, as DataTree.addConfigNode leaves it).
    pub fn new(extended_types: bool) -> DataTree {
        let empty = || Node::new(Some(Bytes::new()), OPEN_UNSAFE_ACL_ID, 0, 0, 0);
        let mut t = DataTree {
            nodes: Arena::new(empty()),
            acls: AclCache::default(),
            ephemerals: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            data_watches: WatchTable::default(),
            child_watches: WatchTable::default(),
            last_zxid: 0,
            extended_types,
        };
        let mut config = empty();
        config.acl = t.acls.intern(&acl::read_acl_unsafe());
        config.stat.aversion = -1;
        let zk = t.add_child(ROOT, "/zookeeper", empty());
        t.add_child(zk, "/zookeeper/quota", empty());
        t.add_child(zk, "/zookeeper/config", config);
        t
    }

    /// Paths ZooKeeper refuses to delete (DataTree.isSpecialPath).
    pub fn is_special_path(path: &str) -> bool {
        matches!(
            path,
            "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config"
        )
    }

    /// The node at `path`. As in ZooKeeper's node map, "" is an alias of
    /// the root (reads of "" see the root; writes never get here with it).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.find(path).map(|id| self.nodes.node(id))
    }

    /// The names of the children of the node at `path`, in name order
    /// (ZooKeeper lists them in HashSet order; any order is allowed, and a
    /// sorted one is the same on every member and after every restart).
    pub fn children(&self, path: &str) -> Vec<&str> {
        self.with_children(path).map(|(_, c)| c).unwrap_or_default()
    }

    /// The node at `path` and its children's names (as
    /// [`children`](Self::children)), found with one lookup.
    pub fn with_children(&self, path: &str) -> Option<(&Node, Vec<&str>)> {
        let id = self.nodes.find(path)?;
        let mut names: Vec<&str> = self.nodes.children(id).map(|(_, n)| n).collect();
        names.sort_unstable();
        Some((self.nodes.node(id), names))
    }

    /// Adds the node at `path` under `parent` and counts it there.
    fn add_child(&mut self, parent: arena::NodeId, path: &str, node: Node) -> arena::NodeId {
        self.nodes.node_mut(parent).num_children += 1;
        self.nodes.insert(parent, path, node)
    }

    /// Number of nodes, root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree is empty (never: the root always exists).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The ACL list of a node.
    pub fn acl_of(&self, node: &Node) -> Vec<ACL> {
        self.acls.get(node.acl)
    }

    /// Ephemeral paths owned by `session`.
    pub fn ephemerals(&self, session: i64) -> impl Iterator<Item = &String> {
        self.ephemerals.get(&session).into_iter().flatten()
    }

    /// Ephemeral paths of `session` in the order ZooKeeper iterates them
    /// (a clone of a Java HashSet filled in creation order); closeSession
    /// deletes in this order and getEphemerals lists in it.
    pub fn ephemerals_java_order(&self, session: i64) -> Vec<String> {
        let mut by_creation: Vec<(i64, &String)> = self
            .ephemerals(session)
            .map(|p| (self.get(p).map_or(i64::MAX, |n| n.stat.czxid), p))
            .collect();
        by_creation.sort();
        let hashed = by_creation
            .into_iter()
            .map(|(_, p)| (super::java_order::string_hash(p), p.clone()));
        super::java_order::cloned_hash_set_order(hashed.collect())
    }

    /// All sessions owning ephemerals, with their paths.
    pub fn all_ephemerals(&self) -> &BTreeMap<i64, BTreeSet<String>> {
        &self.ephemerals
    }

    /// Container node paths.
    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    /// TTL node paths.
    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// Number of descendants of `path` (getAllChildrenNumber).
    pub fn descendants(&self, path: &str) -> usize {
        if path.is_empty() {
            // ZooKeeper counts keys starting with "/": the root's "/" alias
            // and every other node.
            return self.nodes.len();
        }
        let Some(id) = self.nodes.find(path) else {
            return 0;
        };
        let mut count = 0;
        let mut stack: Vec<arena::NodeId> = self.nodes.children(id).map(|(c, _)| c).collect();
        while let Some(c) = stack.pop() {
            count += 1;
            stack.extend(self.nodes.children(c).map(|(g, _)| g));
        }
        count
    }

    /// Iterates over all nodes with their paths, parents before children
    /// (digests, tests; snapshots walk with [`children`](Self::children)).
    pub fn iter(&self) -> impl Iterator<Item = (String, &Node)> {
        self.nodes.iter()
    }

    /// Applies a transaction, pushing the watch notifications it triggers.
    pub fn apply(&mut self, txn: &Txn, out: &mut Vec<Notification>) -> ApplyResult {
        let h = &txn.hdr;
        if h.zxid > self.last_zxid {
            self.last_zxid = h.zxid;
        }
        self.apply_body(h.r#type, h.client_id, h.zxid, h.time, &txn.body, out)
    }

    fn apply_body(
        &mut self,
        op: i32,
        session: i64,
        zxid: i64,
        time: i64,
        body: &TxnBody,
        out: &mut Vec<Notification>,
    ) -> ApplyResult {
        let mut rc = ApplyResult {
            op,
            ..Default::default()
        };
        let res = match body {
            TxnBody::Create(_) | TxnBody::CreateTtl(_) | TxnBody::CreateContainer(_) => {
                // The three create bodies differ only in how the owner is
                // encoded (session, TTL, container marker).
                let (path, data, acl, owner, parent_cversion) = match body {
                    TxnBody::Create(t) => {
                        let owner = if t.ephemeral { session } else { 0 };
                        (&t.path, &t.data, &t.acl, owner, t.parent_c_version)
                    }
                    TxnBody::CreateTtl(t) => (
                        &t.path,
                        &t.data,
                        &t.acl,
                        NodeKind::ttl_owner(t.ttl),
                        t.parent_c_version,
                    ),
                    TxnBody::CreateContainer(t) => (
                        &t.path,
                        &t.data,
                        &t.acl,
                        super::node::CONTAINER_OWNER,
                        t.parent_c_version,
                    ),
                    _ => unreachable!("matched above"),
                };
                rc.path = path.clone();
                self.create(path, data, acl, owner, parent_cversion, zxid, time, out)
            }
            TxnBody::Delete(t) => {
                rc.path = t.path.clone();
                self.delete(&t.path, zxid, out).map(|()| None)
            }
            TxnBody::SetData(t) => {
                rc.path = t.path.clone();
                self.set_data(&t.path, &t.data, t.version, zxid, time, out)
                    .map(Some)
            }
            TxnBody::SetAcl(t) => {
                rc.path = t.path.clone();
                self.set_acl(&t.path, &t.acl, t.version).map(Some)
            }
            TxnBody::Check(t) => {
                rc.path = t.path.clone();
                Ok(None)
            }
            TxnBody::CreateSession(_) => Ok(None),
            TxnBody::CloseSession(t) => {
                self.kill_session(session, zxid, &t.paths2_delete, out);
                Ok(None)
            }
            TxnBody::Error(t) => Err(t.err),
            TxnBody::Multi(subs) => {
                // A multi that failed in prep carries error sub-txns; ZooKeeper
                // then reports OK for the ops before the failing one and
                // RUNTIMEINCONSISTENCY after it, and changes nothing.
                let failed = subs.iter().any(|s| s.op == OpCode::Error.code());
                let mut post_failed = false;
                for sub in subs {
                    let r = if failed {
                        let err = match &sub.body {
                            TxnBody::Error(e) => {
                                post_failed = true;
                                e.err
                            }
                            _ if post_failed => ErrorCode::RuntimeInconsistency.code(),
                            _ => 0,
                        };
                        ApplyResult {
                            op: OpCode::Error.code(),
                            err,
                            ..Default::default()
                        }
                    } else {
                        self.apply_body(sub.op, session, zxid, time, &sub.body, out)
                    };
                    if r.err != 0 && rc.err == 0 {
                        rc.err = r.err;
                    }
                    rc.multi.push(r);
                }
                Ok(None)
            }
        };
        match res {
            Ok(stat) => rc.stat = stat,
            Err(e) => rc.err = e,
        }
        rc
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        path: &str,
        data: &Option<Bytes>,
        acl: &[ACL],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        out: &mut Vec<Notification>,
    ) -> Result<Option<Stat>, i32> {
        let parent_path = path::parent(path);
        let parent = self
            .nodes
            .find(parent_path)
            .ok_or(ErrorCode::NoNode.code())?;
        if self.nodes.find(path).is_some() {
            return Err(ErrorCode::NodeExists.code());
        }
        advance_cversion(&mut self.nodes.node_mut(parent).stat, parent_cversion, zxid);
        let acl_id = self.acls.intern(acl);
        let node = Node::new(owned(data.as_deref()), acl_id, zxid, time, owner);
        let stat = node.stat();
        self.add_child(parent, path, node);
        match NodeKind::of(owner, self.extended_types) {
            NodeKind::Container => {
                self.containers.insert(path.to_string());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(path.to_string());
            }
            NodeKind::Ephemeral(s) => {
                self.ephemerals
                    .entry(s)
                    .or_default()
                    .insert(path.to_string());
            }
            NodeKind::Persistent => {}
        }
        let fired = self.data_watches.trigger(path, EventType::NodeCreated);
        if !fired.is_empty() {
            let acl = self.acls.shared(acl_id);
            notify(&fired, EventType::NodeCreated, path, &acl, out);
        }
        self.notify_children_changed(parent, parent_path, out);
        Ok(Some(stat))
    }

    fn delete(&mut self, path: &str, zxid: i64, out: &mut Vec<Notification>) -> Result<(), i32> {
        let parent_path = path::parent(path);
        let parent = self
            .nodes
            .find(parent_path)
            .ok_or(ErrorCode::NoNode.code())?;
        // As DataTree.deleteNode, the parent's pzxid moves even if the child
        // is gone (a fuzzy snapshot may have missed it).
        let p = self.nodes.node_mut(parent);
        if zxid > p.stat.pzxid {
            p.stat.pzxid = zxid;
        }
        let id = self.nodes.find(path).ok_or(ErrorCode::NoNode.code())?;
        if self.nodes.node(id).num_children > 0 {
            // Never from a prepared txn (NOTEMPTY); possible when replaying
            // the log over a fuzzy snapshot that holds nodes created later.
            // The descendants go first, through their indexes; the log
            // recreates whatever of them it should.
            let children: Vec<String> = self
                .nodes
                .children(id)
                .map(|(_, n)| join(path, n))
                .collect();
            for c in children {
                let _ = self.delete(&c, zxid, out);
            }
        }
        let node = self.nodes.remove(id);
        self.nodes.node_mut(parent).num_children -= 1;
        let acl_list = self.acls.shared(node.acl);
        self.acls.release(node.acl);
        match NodeKind::of(node.stat.ephemeral_owner, self.extended_types) {
            NodeKind::Container => {
                self.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            NodeKind::Ephemeral(s) => {
                if let Some(set) = self.ephemerals.get_mut(&s) {
                    set.remove(path);
                    if set.is_empty() {
                        self.ephemerals.remove(&s);
                    }
                }
            }
            NodeKind::Persistent => {}
        }
        let data_fired = self.data_watches.trigger(path, EventType::NodeDeleted);
        let mut child_fired = self.child_watches.trigger(path, EventType::NodeDeleted);
        // One NodeDeleted per watcher even if it watched both data and children.
        child_fired.retain(|w| !data_fired.contains(w));
        if !data_fired.is_empty() || !child_fired.is_empty() {
            // The list outlives the release above through the Arc.
            let acl = acl_list;
            notify(&data_fired, EventType::NodeDeleted, path, &acl, out);
            notify(&child_fired, EventType::NodeDeleted, path, &acl, out);
        }
        self.notify_children_changed(parent, parent_path, out);
        Ok(())
    }

    fn set_data(
        &mut self,
        path: &str,
        data: &Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        out: &mut Vec<Notification>,
    ) -> Result<Stat, i32> {
        let id = self.nodes.find(path).ok_or(ErrorCode::NoNode.code())?;
        let node = self.nodes.node_mut(id);
        node.data = owned(data.as_deref());
        node.stat.mtime = time;
        node.stat.mzxid = zxid;
        node.stat.version = version;
        let stat = node.stat();
        let acl_id = node.acl;
        let fired = self.data_watches.trigger(path, EventType::NodeDataChanged);
        if !fired.is_empty() {
            let acl = self.acls.shared(acl_id);
            notify(&fired, EventType::NodeDataChanged, path, &acl, out);
        }
        Ok(stat)
    }

    /// NodeChildrenChanged for `parent`, filtered by the parent's ACL.
    fn notify_children_changed(
        &mut self,
        parent: arena::NodeId,
        parent_path: &str,
        out: &mut Vec<Notification>,
    ) {
        let fired = self
            .child_watches
            .trigger(parent_path, EventType::NodeChildrenChanged);
        if !fired.is_empty() {
            let acl = self.acls.shared(self.nodes.node(parent).acl);
            notify(
                &fired,
                EventType::NodeChildrenChanged,
                parent_path,
                &acl,
                out,
            );
        }
    }

    fn set_acl(&mut self, path: &str, acl: &[ACL], version: i32) -> Result<Stat, i32> {
        let id = self.nodes.find(path).ok_or(ErrorCode::NoNode.code())?;
        let node = self.nodes.node_mut(id);
        let old = node.acl;
        node.stat.aversion = version;
        let new = self.acls.intern(acl);
        self.acls.release(old);
        let node = self.nodes.node_mut(id);
        node.acl = new;
        Ok(node.stat())
    }

    fn kill_session(
        &mut self,
        session: i64,
        zxid: i64,
        paths: &[String],
        out: &mut Vec<Notification>,
    ) {
        // The txn names the paths to delete (ZooKeeper 3.6+ CloseSessionTxn);
        // fall back to the index for old transactions without a list.
        let paths: Vec<String> = if paths.is_empty() {
            self.ephemerals
                .get(&session)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default()
        } else {
            paths.to_vec()
        };
        for p in paths {
            // A path that is already gone is ignored, as in ZooKeeper.
            let _ = self.delete(&p, zxid, out);
        }
        self.ephemerals.remove(&session);
    }
}

/// Rebuilds a tree from snapshot nodes (DataTree.deserialize): the caller
/// inserts nodes parents first, then calls [`Restore::finish`].
///
/// As in ZooKeeper, the snapshot replaces everything, including the
/// `/zookeeper` system nodes `DataTree::new` makes; children sets, the
/// ephemeral/container/TTL indexes and ACL reference counts are rebuilt
/// from the nodes, and ACL lists no node uses are dropped at the end.
#[derive(Debug)]
pub struct Restore {
    tree: DataTree,
    /// Whether the snapshot's root has been inserted.
    has_root: bool,
    /// The last parent looked up: snapshots list siblings one after another
    /// (depth first), so most nodes skip the parent's lookup.
    last_parent: (String, arena::NodeId),
}

impl Restore {
    /// Starts from the snapshot's ACL map. New ACL ids continue above the
    /// largest loaded one (and above 1, which a fresh ZooKeeper tree has
    /// already used for `/zookeeper/config`).
    pub fn new(extended_types: bool, acls: BTreeMap<i64, Vec<ACL>>) -> Restore {
        let mut tree = DataTree::new(extended_types);
        tree.nodes = Arena::new(Node::new(None, 0, 0, 0, 0));
        tree.acls.load(acls);
        Restore {
            tree,
            has_root: false,
            last_parent: ("/".to_string(), ROOT),
        }
    }

    /// Inserts one node; `path` is "/" for the root. Fails if the parent
    /// has not been inserted.
    pub fn insert(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), String> {
        let data = owned(data);
        let t = &mut self.tree;
        let id = if path == "/" {
            self.has_root = true;
            ROOT
        } else {
            if !path.starts_with('/') {
                return Err(format!("node path {path:?} is not absolute"));
            }
            let parent_path = path::parent(path);
            let parent = if self.last_parent.0 == parent_path {
                self.last_parent.1
            } else {
                let id = t
                    .nodes
                    .find(parent_path)
                    .ok_or_else(|| format!("node {path} comes before its parent"))?;
                self.last_parent.0.clear();
                self.last_parent.0.push_str(parent_path);
                self.last_parent.1 = id;
                id
            };
            match t.nodes.find(path) {
                Some(id) => id,
                None => t.add_child(parent, path, Node::new(None, 0, 0, 0, 0)),
            }
        };
        if !t.acls.add_usage(acl) {
            tracing::warn!("node {path} uses ACL id {acl}, which the snapshot does not define");
        }
        match NodeKind::of(stat.ephemeral_owner, t.extended_types) {
            NodeKind::Container => {
                t.containers.insert(path.to_string());
            }
            NodeKind::Ttl(_) => {
                t.ttls.insert(path.to_string());
            }
            NodeKind::Ephemeral(s) => {
                t.ephemerals.entry(s).or_default().insert(path.to_string());
            }
            NodeKind::Persistent => {}
        }
        // A path the snapshot repeats replaces the earlier node (as the
        // map put in DataTree.deserialize does), keeping its children.
        let node = t.nodes.node_mut(id);
        node.data = data;
        node.acl = acl;
        node.stat = stat;
        Ok(())
    }

    /// The restored tree, with `last_zxid` set to the snapshot's zxid.
    pub fn finish(mut self, zxid: i64) -> Result<DataTree, String> {
        if !self.has_root {
            return Err("the snapshot has no root node".into());
        }
        self.tree.acls.purge_unused();
        self.tree.last_zxid = zxid;
        Ok(self.tree)
    }
}

impl DataTree {
    /// Raises a node's stored cversion to `cversion` (-1: by one) and sets
    /// its pzxid, if that is an increase (DataTree.setCversionPzxid). Used
    /// when replaying a create whose node a fuzzy snapshot already holds.
    /// False if there is no such node.
    pub fn set_cversion_pzxid(&mut self, path: &str, cversion: i32, zxid: i64) -> bool {
        let Some(id) = self.nodes.find(path) else {
            return false;
        };
        advance_cversion(&mut self.nodes.node_mut(id).stat, cversion, zxid);
        true
    }
}

/// ZooKeeper's rule for a parent's cversion when a child is created (also
/// DataTree.setCversionPzxid): -1 means "one more"; it only moves forward,
/// and pzxid moves with it.
fn advance_cversion(stat: &mut StatPersisted, cversion: i32, zxid: i64) {
    let cversion = if cversion == -1 {
        // Java's int arithmetic wraps; so does a replayed txn's here.
        stat.cversion.wrapping_add(1)
    } else {
        cversion
    };
    if cversion > stat.cversion {
        stat.cversion = cversion;
        stat.pzxid = zxid;
    }
}

fn notify(
    fired: &BTreeSet<WatcherId>,
    event: EventType,
    path: &str,
    acl: &Arc<[ACL]>,
    out: &mut Vec<Notification>,
) {
    out.extend(fired.iter().map(|&watcher| Notification {
        watcher,
        event,
        path: path.to_string(),
        acl: acl.clone(),
    }));
}

/// A node's own copy of its data. Data arrives as a slice of a larger
/// buffer (a request frame, a whole snapshot file); keeping the slice would
/// keep that whole buffer alive for as long as the node lives.
fn owned(data: Option<&[u8]>) -> Option<Bytes> {
    data.map(|d| {
        if d.is_empty() {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(d)
        }
    })
}

/// Joins a parent path and a child name.
pub fn join(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::records::txn::{CreateTxn, DeleteTxn, TxnHeader};

    fn apply(t: &mut DataTree, zxid: i64, op: OpCode, session: i64, body: TxnBody) -> i32 {
        let txn = Txn {
            hdr: TxnHeader {
                client_id: session,
                cxid: 0,
                zxid,
                time: zxid,
                r#type: op.code(),
            },
            body,
            digest: None,
        };
        t.apply(&txn, &mut Vec::new()).err
    }

    fn create(t: &mut DataTree, zxid: i64, path: &str, ephemeral_of: Option<i64>) -> i32 {
        let body = TxnBody::Create(CreateTxn {
            path: path.into(),
            data: Some(Bytes::from_static(b"d")),
            acl: acl::open_acl_unsafe(),
            ephemeral: ephemeral_of.is_some(),
            parent_c_version: -1,
        });
        apply(t, zxid, OpCode::Create, ephemeral_of.unwrap_or(0), body)
    }

    fn delete(t: &mut DataTree, zxid: i64, path: &str) -> i32 {
        let body = TxnBody::Delete(DeleteTxn { path: path.into() });
        apply(t, zxid, OpCode::Delete, 0, body)
    }

    /// Replaying the log over a fuzzy snapshot can delete a node that holds
    /// children created later (the snapshot saw the future): they go too,
    /// with their index entries, and the log's later creates bring them back.
    #[test]
    fn a_replayed_delete_of_a_node_with_children_removes_them_consistently() {
        let mut t = DataTree::new(false);
        assert_eq!(create(&mut t, 1, "/p", None), 0);
        assert_eq!(create(&mut t, 2, "/p/c", None), 0);
        assert_eq!(create(&mut t, 3, "/p/c/e", Some(7)), 0);
        assert_eq!(delete(&mut t, 4, "/p"), 0);
        assert!(t.get("/p").is_none() && t.get("/p/c").is_none() && t.get("/p/c/e").is_none());
        assert_eq!(t.ephemerals(7).count(), 0);
        assert_eq!(t.len(), 4, "root and the three system nodes");
        assert_eq!(t.children("/"), ["zookeeper"]);
        assert_eq!(create(&mut t, 5, "/p", None), 0);
        assert_eq!(create(&mut t, 6, "/p/c", None), 0);
        assert_eq!(t.children("/p"), ["c"]);
        assert_eq!(t.get("/p").unwrap().stat().num_children, 1);
    }

    /// A snapshot node whose path is not absolute is refused (ZooKeeper's
    /// DataTree.deserialize fails there too), as is one before its parent.
    #[test]
    fn restore_refuses_relative_paths_and_orphans() {
        let mut r = Restore::new(false, BTreeMap::new());
        let stat = Node::new(None, 0, 0, 0, 0).stat;
        r.insert("/", None, 0, stat.clone()).unwrap();
        let e = r.insert("abc", None, 0, stat.clone()).unwrap_err();
        assert!(e.contains("not absolute"), "{e}");
        let e = r.insert("/a/b", None, 0, stat.clone()).unwrap_err();
        assert!(e.contains("before its parent"), "{e}");
        r.insert("/a", Some(b"x"), 0, stat).unwrap();
        let t = r.finish(1).unwrap();
        assert_eq!(t.children("/"), ["a"]);
        assert_eq!(t.get("/a").unwrap().data.as_deref(), Some(&b"x"[..]));
    }

    /// As DataTree.deleteNode: a delete of a missing child still moves the
    /// parent's pzxid, and fails with NONODE.
    #[test]
    fn deleting_a_missing_child_moves_the_parents_pzxid() {
        let mut t = DataTree::new(false);
        assert_eq!(create(&mut t, 1, "/p", None), 0);
        assert_eq!(delete(&mut t, 9, "/p/gone"), ErrorCode::NoNode.code());
        assert_eq!(t.get("/p").unwrap().stat.pzxid, 9);
    }
}
