//! Where the nodes live: a slab of slots addressed by [`NodeId`], and one
//! hash index from full path to id.
//!
//! Why not ZooKeeper's layout (one map from full path to node, each node
//! holding a set of child names)? Per znode that costs a map entry sized for
//! the whole node (the table is kept at most 7/8 full and doubles, so at a
//! million nodes it is half empty), a heap copy of the full path, and a
//! second heap copy of the name in the parent's set: with 64-byte payloads
//! ferrozk spent 548 bytes per znode that way. Here a node is one slot in a
//! chunk that is filled before the next is allocated (no half-empty
//! doubling, no realloc copy of all nodes), its name is stored inline when
//! short (most are), the index holds 4-byte ids, and children are an
//! intrusive list through the slots — no per-parent collection at all.
//!
//! A lookup hashes the whole path once and probes once; a candidate is
//! confirmed by matching its name, its parent's name and so on against the
//! path from the end (no scanning for '/'). Each slot keeps 32 bits of its
//! path's hash so the index can grow without rebuilding paths. The hash is
//! keyed per process (aHash with a random key): clients choose paths, so it
//! must resist collision flooding.

use compact_str::CompactString;
use hashbrown::HashTable;

use super::node::Node;

/// A slot in the arena. Ids of deleted nodes are reused.
pub type NodeId = u32;

/// The root's id ("/" — and "", which ZooKeeper's node map aliases to it).
pub const ROOT: NodeId = 0;
/// No node: the end of a sibling list, the root's parent, a free slot.
const NIL: u32 = u32::MAX;
/// Slots per chunk (a chunk is allocated whole, 2^12 × ~144 B ≈ 0.6 MB).
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A node plus its place in the tree.
#[derive(Debug)]
struct Slot {
    /// The last path component; empty for the root and for free slots.
    name: CompactString,
    /// NIL for the root; marks a free slot when it is also not ROOT's slot.
    parent: u32,
    /// The path's hash (see [`spread`]).
    hash: u32,
    first_child: u32,
    next_sibling: u32,
    prev_sibling: u32,
    node: Node,
}

impl Slot {
    /// A slot in no list and under no parent: the root's, or a free one.
    fn unlinked(node: Node) -> Slot {
        Slot {
            name: CompactString::default(),
            parent: NIL,
            hash: 0,
            first_child: NIL,
            next_sibling: NIL,
            prev_sibling: NIL,
            node,
        }
    }
}

/// The nodes of a tree; knows nothing of watches, ACLs or transactions.
#[derive(Debug)]
pub struct Arena {
    chunks: Vec<Vec<Slot>>,
    free: Vec<NodeId>,
    index: HashTable<NodeId>,
    hasher: ahash::RandomState,
    live: usize,
}

impl Arena {
    /// An arena holding only the root.
    pub fn new(root: Node) -> Arena {
        let mut a = Arena {
            chunks: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: ahash::RandomState::new(),
            live: 0,
        };
        let id = a.alloc(Slot::unlinked(root));
        debug_assert_eq!(id, ROOT);
        a
    }

    /// Number of nodes, root included.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Never true: the root always exists.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn slot(&self, id: NodeId) -> &Slot {
        &self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    fn slot_mut(&mut self, id: NodeId) -> &mut Slot {
        &mut self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    fn alloc(&mut self, slot: Slot) -> NodeId {
        self.live += 1;
        if let Some(id) = self.free.pop() {
            *self.slot_mut(id) = slot;
            return id;
        }
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            // Exactly one chunk's worth: a Vec that never grows.
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let n = self.chunks.len() - 1;
        let chunk = &mut self.chunks[n];
        chunk.push(slot);
        ((n << CHUNK_BITS) + chunk.len() - 1) as NodeId
    }

    /// 32 bits of the keyed hash of a full path.
    fn path_hash(&self, path: &str) -> u32 {
        self.hasher.hash_one(path) as u32
    }

    /// Whether slot `id` is the node at `path`, matching names from the end.
    fn is_at(&self, mut id: NodeId, path: &str) -> bool {
        let mut rest = path;
        while id != ROOT {
            let s = self.slot(id);
            match rest
                .strip_suffix(s.name.as_str())
                .and_then(|r| r.strip_suffix('/'))
            {
                Some(r) => rest = r,
                None => return false,
            }
            id = s.parent;
        }
        rest.is_empty()
    }

    /// The node at `path`: "/" and "" are the root; any other string is
    /// looked up as is (an invalid path is simply absent).
    pub fn find(&self, path: &str) -> Option<NodeId> {
        if path == "/" || path.is_empty() {
            return Some(ROOT);
        }
        let h = self.path_hash(path);
        self.index
            .find(spread(h), |&id| {
                self.slot(id).hash == h && self.is_at(id, path)
            })
            .copied()
    }

    /// The node in slot `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.slot(id).node
    }

    /// The node in slot `id`, to change.
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.slot_mut(id).node
    }

    /// Adds `node` at `path`, a child of `parent` (the node at the path's
    /// parent path) that does not exist yet. The node's child count is the
    /// caller's.
    pub fn insert(&mut self, parent: NodeId, path: &str, node: Node) -> NodeId {
        debug_assert!(self.find(path).is_none(), "{path} exists");
        let cut = path.rfind('/').expect("an absolute path");
        let name = &path[cut + 1..];
        debug_assert!(
            self.is_at(parent, &path[..cut]),
            "{path} is not under {parent}"
        );
        let h = self.path_hash(path);
        let first = self.slot(parent).first_child;
        let id = self.alloc(Slot {
            name: CompactString::from(name),
            parent,
            hash: h,
            first_child: NIL,
            next_sibling: first,
            prev_sibling: NIL,
            node,
        });
        if first != NIL {
            self.slot_mut(first).prev_sibling = id;
        }
        self.slot_mut(parent).first_child = id;
        let Arena { index, chunks, .. } = self;
        index.insert_unique(spread(h), id, |&other| stored_hash(chunks, other));
        id
    }

    /// Removes a node (not the root) and, should it have any, its
    /// descendants; returns the node.
    pub fn remove(&mut self, id: NodeId) -> Node {
        assert_ne!(id, ROOT, "the root is never removed");
        let mut child = self.slot(id).first_child;
        while child != NIL {
            let next = self.slot(child).next_sibling;
            self.remove(child);
            child = next;
        }
        let (parent, prev, next) = {
            let s = self.slot(id);
            (s.parent, s.prev_sibling, s.next_sibling)
        };
        if prev == NIL {
            self.slot_mut(parent).first_child = next;
        } else {
            self.slot_mut(prev).next_sibling = next;
        }
        if next != NIL {
            self.slot_mut(next).prev_sibling = prev;
        }
        let h = spread(self.slot(id).hash);
        if let Ok(entry) = self.index.find_entry(h, |&other| other == id) {
            entry.remove();
        }
        let slot = std::mem::replace(
            self.slot_mut(id),
            Slot::unlinked(Node::new(None, 0, 0, 0, 0)),
        );
        self.free.push(id);
        self.live -= 1;
        slot.node
    }

    /// A node's children, most recently added first.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            arena: self,
            at: self.slot(id).first_child,
        }
    }

    /// Every node with its path, parents before children.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            arena: self,
            stack: vec![(ROOT, "/".to_string())],
        }
    }
}

/// The table hash of a stored 32-bit path hash: hashbrown takes the bucket
/// from the low bits and a 7-bit tag from the top ones, so both halves carry
/// it (independent until a table of 2^25 buckets).
fn spread(h: u32) -> u64 {
    u64::from(h) | (u64::from(h) << 32)
}

/// The table hash of slot `id`, for the index to rehash with (a free
/// function: the index is borrowed mutably meanwhile).
fn stored_hash(chunks: &[Vec<Slot>], id: NodeId) -> u64 {
    spread(chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)].hash)
}

/// The children of a node: (id, name).
pub struct Children<'a> {
    arena: &'a Arena,
    at: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = (NodeId, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at == NIL {
            return None;
        }
        let id = self.at;
        let s = self.arena.slot(id);
        self.at = s.next_sibling;
        Some((id, s.name.as_str()))
    }
}

/// Depth-first walk of the whole tree, yielding each node's path.
pub struct Iter<'a> {
    arena: &'a Arena,
    stack: Vec<(NodeId, String)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (String, &'a Node);

    fn next(&mut self) -> Option<Self::Item> {
        let (id, path) = self.stack.pop()?;
        for (child, name) in self.arena.children(id) {
            self.stack
                .push((child, super::data_tree::join(&path, name)));
        }
        Some((path, self.arena.node(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(tag: i64) -> Node {
        Node::new(None, 0, tag, 0, 0)
    }

    #[test]
    fn paths_resolve_by_component() {
        let mut a = Arena::new(node(0));
        let x = a.insert(ROOT, "/x", node(1));
        let y = a.insert(x, "/x/y", node(2));
        assert_eq!(a.find("/"), Some(ROOT));
        assert_eq!(a.find(""), Some(ROOT));
        assert_eq!(a.find("/x"), Some(x));
        assert_eq!(a.find("/x/y"), Some(y));
        for absent in [
            "/y", "/x/", "//x", "x", "/x//y", "/x/y/z", "y", "/xy", "x/y",
        ] {
            assert_eq!(a.find(absent), None, "{absent}");
        }
        let paths: Vec<String> = a.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/", "/x", "/x/y"]);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn removal_unlinks_frees_and_reuses() {
        let mut a = Arena::new(node(0));
        let ids: Vec<NodeId> = (0..5)
            .map(|i| a.insert(ROOT, &format!("/c{i}"), node(i)))
            .collect();
        // Middle, first and last of the sibling list.
        a.remove(ids[2]);
        a.remove(ids[4]);
        a.remove(ids[0]);
        let mut names: Vec<&str> = a.children(ROOT).map(|(_, n)| n).collect();
        names.sort_unstable();
        assert_eq!(names, ["c1", "c3"]);
        assert_eq!(a.find("/c2"), None);
        let again = a.insert(ROOT, "/c2", node(9));
        assert!(ids.contains(&again), "a freed slot is reused");
        assert_eq!(a.node(a.find("/c2").unwrap()).stat.czxid, 9);
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn removing_a_parent_removes_its_subtree() {
        let mut a = Arena::new(node(0));
        let p = a.insert(ROOT, "/p", node(1));
        let q = a.insert(p, "/p/q", node(2));
        a.insert(q, "/p/q/r", node(3));
        a.remove(p);
        assert_eq!(a.len(), 1);
        assert_eq!(a.find("/p/q/r"), None);
        assert_eq!(a.children(ROOT).count(), 0);
    }

    #[test]
    fn many_nodes_span_chunks_and_survive_index_growth() {
        let mut a = Arena::new(node(0));
        let parents: Vec<NodeId> = (0..3)
            .map(|i| a.insert(ROOT, &format!("/p{i}"), node(i)))
            .collect();
        let n = 3 * CHUNK as i64;
        for i in 0..n {
            a.insert(
                parents[(i % 3) as usize],
                &format!("/p{}/n{i}", i % 3),
                node(i),
            );
        }
        for i in (0..n).step_by(97) {
            let id = a.find(&format!("/p{}/n{i}", i % 3)).expect("present");
            assert_eq!(a.node(id).stat.czxid, i);
        }
        assert_eq!(a.iter().count(), 1 + 3 + n as usize);
        let paths: Vec<String> = a.iter().map(|(p, _)| p).take(2).collect();
        assert_eq!(paths[0], "/");
    }
}
