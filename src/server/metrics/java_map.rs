//! The iteration order of a `java.util.concurrent.ConcurrentHashMap` of
//! string keys, reproduced so that `mntr` lists its keys in the order
//! Apache ZooKeeper prints them.
//!
//! ZooKeeper's default metrics provider keeps its gauges, counters and
//! summaries in `ConcurrentHashMap`s keyed by name, and `mntr` walks them:
//! the order is bucket order of the spread `String.hashCode`, insertion
//! order inside a bucket — except that a resize rebuilds each bucket with
//! the "last run" kept and the nodes before it reversed, so a bucket's
//! order depends on the map's history. This model replays that history
//! (inserts, removals, resizes) exactly as `ConcurrentHashMap` 8+ does for
//! maps that stay small (no bucket reaches the treeify threshold of 8).

use crate::tree::java_order::string_hash;

/// `ConcurrentHashMap.spread`: the hash with its high half folded in,
/// sign bit cleared.
fn spread(h: i32) -> u32 {
    ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as u32
}

/// A key set with `ConcurrentHashMap`'s iteration order.
#[derive(Debug, Clone, Default)]
pub struct JavaMap {
    /// The table: each bucket's keys in list order (empty until the first
    /// insertion, as Java allocates it lazily).
    bins: Vec<Vec<(u32, String)>>,
    count: usize,
}

impl JavaMap {
    /// An empty map (`new ConcurrentHashMap<>()`).
    pub fn new() -> JavaMap {
        JavaMap::default()
    }

    /// A map after inserting `keys` in order.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> JavaMap {
        let mut m = JavaMap::new();
        for k in keys {
            m.insert(k);
        }
        m
    }

    /// `put`/`computeIfAbsent`: a new key goes to the tail of its bucket;
    /// an existing key keeps its place.
    pub fn insert(&mut self, key: &str) {
        if self.bins.is_empty() {
            self.bins = vec![Vec::new(); 16];
        }
        let h = spread(string_hash(key));
        let n = self.bins.len();
        let bin = &mut self.bins[h as usize & (n - 1)];
        if bin.iter().any(|(_, k)| k == key) {
            return;
        }
        bin.push((h, key.to_owned()));
        self.count += 1;
        // addCount: resize once the count reaches sizeCtl (3/4 of the table).
        if self.count >= n - (n >> 2) {
            self.resize();
        }
    }

    /// `remove`: the key leaves its bucket (the table never shrinks).
    pub fn remove(&mut self, key: &str) {
        for bin in &mut self.bins {
            if let Some(i) = bin.iter().position(|(_, k)| k == key) {
                bin.remove(i);
                self.count -= 1;
                return;
            }
        }
    }

    /// `transfer`: each bucket splits into a low and a high bucket; the
    /// longest tail run with the same split bit is moved as it is, the
    /// nodes before it are prepended one by one (so their order reverses).
    fn resize(&mut self) {
        let n = self.bins.len();
        let mut next = vec![Vec::new(); 2 * n];
        for (i, bin) in std::mem::take(&mut self.bins).into_iter().enumerate() {
            if bin.is_empty() {
                continue;
            }
            let bit = |h: u32| h as usize & n != 0;
            let mut last_run = 0;
            for j in 1..bin.len() {
                if bit(bin[j].0) != bit(bin[j - 1].0) {
                    last_run = j;
                }
            }
            let run_high = bit(bin[last_run].0);
            let (mut lo, mut hi): (Vec<_>, Vec<_>) = (Vec::new(), Vec::new());
            let tail = bin[last_run..].to_vec();
            for node in bin[..last_run].iter().rev() {
                if bit(node.0) {
                    hi.push(node.clone());
                } else {
                    lo.push(node.clone());
                }
            }
            // `lo`/`hi` hold the prefix nodes last-first: the prepends.
            if run_high {
                hi.extend(tail);
            } else {
                lo.extend(tail);
            }
            next[i] = lo;
            next[i + n] = hi;
        }
        self.bins = next;
    }

    /// The keys in iteration order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.bins.iter().flatten().map(|(_, k)| k.as_str())
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_maps_iterate_in_bucket_order() {
        // "b" (98) lands in bucket 2, "a" (97) in bucket 1.
        let m = JavaMap::from_keys(["b", "a"]);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn the_table_grows_at_three_quarters() {
        let names: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
        let mut m = JavaMap::new();
        for n in &names[..11] {
            m.insert(n);
        }
        assert_eq!(m.bins.len(), 16);
        m.insert(&names[11]);
        assert_eq!(m.bins.len(), 32);
        assert_eq!(m.len(), 12);
    }

    #[test]
    fn a_resize_reverses_the_nodes_before_the_last_run() {
        // Three keys of bucket 0 in a 16-table whose bit 16 is 0, 0, 1:
        // the last run is the third; the first two are prepended in turn.
        let mut m = JavaMap::new();
        m.bins = vec![Vec::new(); 16];
        m.bins[0] = vec![(0, "x".into()), (32, "y".into()), (16, "z".into())];
        m.count = 3;
        m.resize();
        assert_eq!(m.bins[0], vec![(32, "y".into()), (0, "x".into())]);
        assert_eq!(m.bins[16], vec![(16, "z".into())]);
    }

    #[test]
    fn removal_keeps_the_others_in_place() {
        let mut m = JavaMap::from_keys(["learners", "uptime", "znode_count"]);
        let before: Vec<String> = m.keys().map(str::to_owned).collect();
        m.remove("uptime");
        let after: Vec<&str> = m.keys().collect();
        let expected: Vec<&str> = before
            .iter()
            .map(String::as_str)
            .filter(|k| *k != "uptime")
            .collect();
        assert_eq!(after, expected);
    }
}
