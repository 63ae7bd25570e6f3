//! Java collection iteration orders, where ZooKeeper lets them reach the
//! wire or the log and clients can observe them.
//!
//! ZooKeeper deletes a closing session's ephemerals in `HashSet` order (so
//! that is the order their NodeDeleted events arrive in), and lists a
//! connection's auth ids in `ConcurrentHashMap` order (whoAmI, `auth` ACL
//! expansion). Both are bucket order of the element hashes — Java's
//! `String.hashCode` and the jute-generated `Id.hashCode` — with insertion
//! order inside a bucket. Matching them keeps ferrozk's observable
//! behaviour identical to ZooKeeper's, not merely equivalent.

use crate::proto::records::data::Id;

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The jute-generated `Id.hashCode`.
pub fn id_hash(id: &Id) -> i32 {
    let r = 37i32.wrapping_mul(17).wrapping_add(string_hash(&id.scheme));
    r.wrapping_mul(37).wrapping_add(string_hash(&id.id))
}

/// The bucket of a hash in a table of `bins` (a power of two), after the
/// `h ^ (h >>> 16)` spreading both HashMap and ConcurrentHashMap apply.
fn bucket(h: i32, bins: usize) -> usize {
    let spread = h ^ ((h as u32) >> 16) as i32;
    (spread & 0x7fff_ffff) as usize & (bins - 1)
}

/// Table size of a default-constructed Java hash table after `count`
/// insertions: 16, doubling once the count reaches `resize_at` of the
/// table (HashMap resizes past 3/4, ConcurrentHashMap at 3/4).
fn table_size(count: usize, resize_at_three_quarters: bool) -> usize {
    let mut bins = 16;
    loop {
        let limit = bins * 3 / 4;
        let full = if resize_at_three_quarters {
            count >= limit
        } else {
            count > limit
        };
        if !full {
            return bins;
        }
        bins *= 2;
    }
}

/// Iteration order of a Java hash table of `bins` buckets holding `items`
/// (given in insertion order, with their hashes): by bucket, then by
/// insertion within a bucket.
fn bucket_order<T>(items: Vec<(i32, T)>, bins: usize) -> Vec<(i32, T)> {
    let mut keyed: Vec<(usize, usize, (i32, T))> = items
        .into_iter()
        .enumerate()
        .map(|(i, (h, t))| (bucket(h, bins), i, (h, t)))
        .collect();
    keyed.sort_by_key(|&(b, i, _)| (b, i));
    keyed.into_iter().map(|(_, _, item)| item).collect()
}

/// Orders items, given in insertion order with their Java hashes, as a
/// `java.util.HashSet` built by inserting them would iterate.
pub fn hash_set_order<T>(items: Vec<(i32, T)>) -> Vec<T> {
    let bins = table_size(items.len(), false);
    bucket_order(items, bins)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// Java's `HashMap.tableSizeFor`: the smallest power of two >= `c` (>= 1).
fn table_size_for(c: usize) -> usize {
    c.max(1).next_power_of_two()
}

/// Orders items as iterating `set.clone()` does, where `set` is a
/// `java.util.HashSet` built by inserting `items` (given in insertion order
/// with their Java hashes). `clone()` re-inserts into a table sized for the
/// current count (`tableSizeFor(size / 0.75 + 1)`), which regroups buckets —
/// this is the order of ZooKeeper's `DataTree.getEphemerals(session)`.
pub fn cloned_hash_set_order<T>(items: Vec<(i32, T)>) -> Vec<T> {
    let (bins, clone_bins) = (
        table_size(items.len(), false),
        table_size_for((items.len() as f32 / 0.75 + 1.0) as usize),
    );
    let original = bucket_order(items, bins);
    bucket_order(original, clone_bins)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// Orders auth ids, given in insertion order, as ZooKeeper's
/// ConcurrentHashMap-backed `authInfo` set iterates them.
pub fn auth_order(inserted: &[Id]) -> Vec<Id> {
    let bins = table_size(inserted.len(), true);
    let hashed = inserted
        .iter()
        .map(|id| (id_hash(id), id.clone()))
        .collect();
    bucket_order(hashed, bins)
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // "hello".hashCode() == 99162322 in Java.
        assert_eq!(string_hash("hello"), 99_162_322);
        assert_eq!(string_hash(""), 0);
    }

    #[test]
    fn auth_ids_iterate_in_zookeepers_order() {
        let id = |s: &str, i: &str| Id {
            scheme: s.into(),
            id: i.into(),
        };
        // Order observed from Apache ZooKeeper 3.8's whoAmI.
        let ins = [
            id("ip", "127.0.0.1"),
            id("digest", "u1:fpT/y03U+EjItKZOSLGvjnJlyng="),
            id("digest", "u2:o9NxcCGDPOlcV7JVhmKHOf5ctVE="),
        ];
        let order: Vec<String> = auth_order(&ins).into_iter().map(|i| i.id).collect();
        assert_eq!(
            order,
            [ins[2].id.clone(), ins[1].id.clone(), ins[0].id.clone()]
        );
    }

    #[test]
    fn cloned_set_regroups_like_java() {
        // Checked with Java 17: a HashSet of these two iterates
        // [/e/one, /e/seq-0000000001]; its clone the other way round.
        let items = vec![
            (string_hash("/e/one"), "/e/one"),
            (string_hash("/e/seq-0000000001"), "/e/seq-0000000001"),
        ];
        assert_eq!(
            hash_set_order(items.clone()),
            ["/e/one", "/e/seq-0000000001"]
        );
        assert_eq!(
            cloned_hash_set_order(items),
            ["/e/seq-0000000001", "/e/one"]
        );
    }

    #[test]
    fn table_grows_like_java() {
        assert_eq!(table_size(12, false), 16);
        assert_eq!(table_size(13, false), 32);
        assert_eq!(table_size(12, true), 32);
    }
}
