//! The ACL-list cache (ZooKeeper's ReferenceCountedACLCache): nodes store a
//! small id, snapshots store the id → list map.
//!
//! Lists are held as `Arc<[ACL]>` so that a watch notification can carry
//! the ACL of the node it names past the node's deletion (the event is
//! filtered by READ permission when it is delivered, after `apply`), for
//! the price of a reference count.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use super::acl::open_acl_unsafe;
use crate::proto::records::data::ACL;

/// ACL id reserved for `OPEN_ACL_UNSAFE`, never stored in the cache map
/// (ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID).
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

/// The shared `OPEN_ACL_UNSAFE` list.
fn open_shared() -> &'static Arc<[ACL]> {
    static OPEN: OnceLock<Arc<[ACL]>> = OnceLock::new();
    OPEN.get_or_init(|| open_acl_unsafe().into())
}

/// Interns ACL lists with a reference count per list.
#[derive(Debug, Default, Clone)]
pub struct AclCache {
    by_id: BTreeMap<i64, (Arc<[ACL]>, u64)>,
    by_acl: HashMap<Arc<[ACL]>, i64>,
    next_id: i64,
}

impl AclCache {
    /// Returns the id for `acl`, adding one reference.
    /// Like ZooKeeper, only nodes the server creates itself use
    /// [`OPEN_UNSAFE_ACL_ID`]; a client's open ACL gets an ordinary id.
    pub fn intern(&mut self, acl: &[ACL]) -> i64 {
        if let Some(&id) = self.by_acl.get(acl) {
            self.by_id.get_mut(&id).expect("acl cache maps agree").1 += 1;
            return id;
        }
        self.next_id += 1;
        let id = self.next_id;
        let list: Arc<[ACL]> = acl.into();
        self.by_acl.insert(list.clone(), id);
        self.by_id.insert(id, (list, 1));
        id
    }

    /// Drops one reference to `id`, forgetting the list at zero.
    pub fn release(&mut self, id: i64) {
        if id == OPEN_UNSAFE_ACL_ID {
            return;
        }
        if let Some(entry) = self.by_id.get_mut(&id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                let (acl, _) = self.by_id.remove(&id).expect("present");
                self.by_acl.remove(&acl);
            }
        }
    }

    /// The list for `id` (empty for an unknown id, as ZooKeeper's
    /// `convertLong` answers for a node whose id is not in the cache).
    pub fn get(&self, id: i64) -> Vec<ACL> {
        self.with(id, <[ACL]>::to_vec)
    }

    /// The list for `id`, shared (see the module comment).
    pub fn shared(&self, id: i64) -> Arc<[ACL]> {
        if id == OPEN_UNSAFE_ACL_ID {
            return open_shared().clone();
        }
        match self.by_id.get(&id) {
            Some(e) => e.0.clone(),
            None => Arc::from([]),
        }
    }

    /// Borrows the list for `id`.
    pub fn with<R>(&self, id: i64, f: impl FnOnce(&[ACL]) -> R) -> R {
        if id == OPEN_UNSAFE_ACL_ID {
            return f(open_shared());
        }
        match self.by_id.get(&id) {
            Some(e) => f(&e.0),
            None => f(&[]),
        }
    }

    /// The id → list map, as snapshots store it.
    pub fn map(&self) -> BTreeMap<i64, Vec<ACL>> {
        self.by_id
            .iter()
            .map(|(&id, (acl, _))| (id, acl.to_vec()))
            .collect()
    }

    /// Replaces the contents with a snapshot's map, every reference count
    /// at zero until [`AclCache::add_usage`]; the next new id stays above
    /// every loaded one (ReferenceCountedACLCache.deserialize).
    pub fn load(&mut self, map: BTreeMap<i64, Vec<ACL>>) {
        self.by_id.clear();
        self.by_acl.clear();
        for (id, acl) in map {
            self.next_id = self.next_id.max(id);
            let list: Arc<[ACL]> = acl.into();
            self.by_acl.insert(list.clone(), id);
            self.by_id.insert(id, (list, 0));
        }
    }

    /// Counts one more node using `id`; false (and nothing counted) if the
    /// cache has no such list (addUsage ignores it the same way).
    pub fn add_usage(&mut self, id: i64) -> bool {
        if id == OPEN_UNSAFE_ACL_ID {
            return true;
        }
        match self.by_id.get_mut(&id) {
            Some(entry) => {
                entry.1 += 1;
                true
            }
            None => false,
        }
    }

    /// Forgets lists no node uses (purgeUnused, after loading a snapshot).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .by_id
            .iter()
            .filter(|(_, (_, refs))| *refs == 0)
            .map(|(&id, _)| id)
            .collect();
        for id in unused {
            if let Some((acl, _)) = self.by_id.remove(&id) {
                if self.by_acl.get(&acl) == Some(&id) {
                    self.by_acl.remove(&acl);
                }
            }
        }
    }

    /// Number of distinct lists held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the cache holds no list.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::acl::read_acl_unsafe;

    #[test]
    fn cache_interns_and_releases() {
        let mut c = AclCache::default();
        let acl = read_acl_unsafe();
        let a = c.intern(&acl);
        let b = c.intern(&acl);
        assert_eq!(a, b);
        assert_eq!(c.intern(&open_acl_unsafe()), 2);
        c.release(2);
        c.release(a);
        assert_eq!(c.get(a), acl);
        c.release(a);
        assert!(c.is_empty());
    }

    #[test]
    fn a_shared_list_outlives_its_last_release() {
        let mut c = AclCache::default();
        let acl = read_acl_unsafe();
        let a = c.intern(&acl);
        let held = c.shared(a);
        c.release(a);
        assert!(c.is_empty());
        assert_eq!(&held[..], &acl[..]);
        assert_eq!(&c.shared(OPEN_UNSAFE_ACL_ID)[..], &open_acl_unsafe()[..]);
    }
}
