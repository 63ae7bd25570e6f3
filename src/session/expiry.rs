//! Tick-bucketed expiry, after Apache ZooKeeper's `ExpiryQueue`.
//!
//! Elements are grouped in buckets whose times are multiples of the
//! expiration interval (the tick). Rounding every deadline *up* to a bucket
//! gives each element a grace period of up to one tick and lets one timer
//! wake-up expire a whole batch. Time is an argument; this holds no clock.

use std::collections::{BTreeMap, BTreeSet};

/// Elements in time-sorted, fixed-width buckets.
#[derive(Debug, Clone)]
pub struct ExpiryQueue<T: Ord + Copy> {
    interval_ms: u64,
    /// element → the bucket it is in.
    deadlines: BTreeMap<T, u64>,
    /// bucket time → its elements. Never holds an empty bucket, so the first
    /// key is always the next time anything expires.
    buckets: BTreeMap<u64, BTreeSet<T>>,
}

impl<T: Ord + Copy> ExpiryQueue<T> {
    /// A queue with buckets `interval_ms` wide.
    ///
    /// # Panics
    /// If `interval_ms` is zero: buckets must have a width.
    pub fn new(interval_ms: u64) -> Self {
        assert!(interval_ms > 0, "expiry interval must be positive");
        ExpiryQueue {
            interval_ms,
            deadlines: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// The bucket a deadline of `time_ms` falls in: ZooKeeper's
    /// `roundToNextInterval`, `(time / interval + 1) * interval`. Note the
    /// `+ 1`: a time that is already a multiple goes to the *next* bucket.
    pub fn round_to_next_interval(&self, time_ms: u64) -> u64 {
        (time_ms / self.interval_ms + 1) * self.interval_ms
    }

    /// Put `elem` in the bucket for `now_ms + timeout_ms`, moving it out of
    /// its old bucket. Returns the new bucket time, or `None` when the element
    /// was already there (as `ExpiryQueue.update` does).
    pub fn update(&mut self, elem: T, timeout_ms: u64, now_ms: u64) -> Option<u64> {
        let new_time = self.round_to_next_interval(now_ms.saturating_add(timeout_ms));
        let previous = self.deadlines.insert(elem, new_time);
        if previous == Some(new_time) {
            return None;
        }
        if let Some(old_time) = previous {
            self.remove_from_bucket(elem, old_time);
        }
        self.buckets.entry(new_time).or_default().insert(elem);
        Some(new_time)
    }

    /// Take `elem` out of the queue; returns the bucket time it had.
    pub fn remove(&mut self, elem: T) -> Option<u64> {
        let time = self.deadlines.remove(&elem)?;
        self.remove_from_bucket(elem, time);
        Some(time)
    }

    /// The bucket time of `elem`, if queued.
    pub fn deadline(&self, elem: T) -> Option<u64> {
        self.deadlines.get(&elem).copied()
    }

    /// Remove and return, in order, every element whose bucket time is at or
    /// before `now_ms` (ZooKeeper's `poll` expires a bucket once
    /// `now >= bucket time`).
    pub fn poll(&mut self, now_ms: u64) -> Vec<T> {
        let later = match now_ms.checked_add(1) {
            Some(bound) => self.buckets.split_off(&bound),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut self.buckets, later);
        let mut expired = Vec::new();
        for (_, elems) in due {
            for elem in elems {
                self.deadlines.remove(&elem);
                expired.push(elem);
            }
        }
        expired
    }

    /// The earliest bucket time, i.e. when the next `poll` can return
    /// something; `None` when the queue is empty.
    pub fn next_deadline(&self) -> Option<u64> {
        self.buckets.keys().next().copied()
    }

    /// Buckets in time order, for diagnostics (the `dump` command).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, &BTreeSet<T>)> {
        self.buckets.iter().map(|(t, set)| (*t, set))
    }

    /// Number of queued elements.
    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }

    fn remove_from_bucket(&mut self, elem: T, time: u64) {
        if let Some(set) = self.buckets.get_mut(&time) {
            set.remove(&elem);
            if set.is_empty() {
                self.buckets.remove(&time);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_strictly_up_to_next_tick() {
        let q = ExpiryQueue::<u32>::new(2000);
        assert_eq!(q.round_to_next_interval(0), 2000);
        assert_eq!(q.round_to_next_interval(1999), 2000);
        assert_eq!(
            q.round_to_next_interval(2000),
            4000,
            "a multiple goes to the next bucket"
        );
    }

    #[test]
    fn update_moves_element_and_drops_empty_bucket() {
        let mut q = ExpiryQueue::new(1000);
        assert_eq!(q.update(1u32, 5000, 100), Some(6000));
        assert_eq!(q.update(1, 5000, 2100), Some(8000));
        assert_eq!(q.buckets().map(|(t, _)| t).collect::<Vec<_>>(), vec![8000]);
    }

    #[test]
    fn update_within_same_bucket_reports_no_change() {
        let mut q = ExpiryQueue::new(1000);
        q.update(1u32, 5000, 100);
        assert_eq!(q.update(1, 5000, 900), None);
    }

    #[test]
    fn poll_returns_buckets_at_or_before_now_in_order() {
        let mut q = ExpiryQueue::new(1000);
        q.update(3u32, 1000, 0); // bucket 2000
        q.update(1, 0, 0); // bucket 1000
        q.update(2, 5000, 0); // bucket 6000
        assert!(q.poll(999).is_empty());
        assert_eq!(q.poll(2000), vec![1, 3]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_deadline(), Some(6000));
    }

    #[test]
    fn remove_forgets_element() {
        let mut q = ExpiryQueue::new(1000);
        q.update(1u32, 0, 0);
        assert_eq!(q.remove(1), Some(1000));
        assert_eq!(q.remove(1), None);
        assert_eq!(q.next_deadline(), None);
        assert!(q.poll(u64::MAX).is_empty());
    }
}
