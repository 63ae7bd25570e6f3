//! The session table: which sessions exist, their timeouts, and when each
//! expires. A port of the semantics of Apache ZooKeeper's `SessionTrackerImpl`
//! without its thread: the driver calls [`SessionTracker::expire`] when
//! [`SessionTracker::next_deadline`] passes and turns each returned id into a
//! `closeSession` transaction.
//!
//! Lifecycle of a session: `create`/`add` → (`touch`)* → closing (after
//! `expire` returned it, or `set_closing` for a client's close request) →
//! `remove` once the close transaction has been applied.

use std::collections::BTreeMap;

use thiserror::Error;

use super::expiry::ExpiryQueue;
use super::id::{initial_session_id, SessionId};

/// One tracked session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// The negotiated timeout.
    pub timeout_ms: u32,
    /// Set once the session is being closed; it can no longer be touched.
    pub closing: bool,
}

/// Why a request may not use a session (ZooKeeper's `checkSession`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SessionError {
    /// The id is not tracked (`UnknownSessionException`).
    #[error("unknown session {0}")]
    Unknown(SessionId),
    /// The session is closing or has expired (`SessionExpiredException`).
    #[error("session {0} is closing")]
    Closing(SessionId),
}

/// Sessions and their expiry buckets. Time is passed in as `now_ms`, a
/// monotonic millisecond clock of the caller's choosing.
#[derive(Debug, Clone)]
pub struct SessionTracker {
    next_id: i64,
    sessions: BTreeMap<SessionId, Session>,
    queue: ExpiryQueue<SessionId>,
}

impl SessionTracker {
    /// A tracker for server `server_id`, bucketing by `tick_ms`. `now_ms`
    /// seeds the id allocator (see [`initial_session_id`]).
    ///
    /// # Panics
    /// If `tick_ms` is zero (config validation rejects `tickTime=0`).
    pub fn new(server_id: u64, tick_ms: u32, now_ms: u64) -> Self {
        SessionTracker {
            next_id: initial_session_id(server_id, now_ms).0,
            sessions: BTreeMap::new(),
            queue: ExpiryQueue::new(u64::from(tick_ms)),
        }
    }

    /// Allocate the next id (`nextSessionId.getAndIncrement()`) and track a
    /// session with it.
    pub fn create(&mut self, timeout_ms: u32, now_ms: u64) -> SessionId {
        let id = SessionId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.add(id, timeout_ms, now_ms);
        id
    }

    /// Track a session whose id was allocated elsewhere: restored from a
    /// snapshot, or created by a transaction from the leader
    /// (`trackSession`). Returns `false` if it was already tracked; then, as in
    /// ZooKeeper, its stored timeout is kept but its deadline is refreshed
    /// from `timeout_ms`.
    pub fn add(&mut self, id: SessionId, timeout_ms: u32, now_ms: u64) -> bool {
        let added = !self.sessions.contains_key(&id);
        if added {
            let session = Session {
                id,
                timeout_ms,
                closing: false,
            };
            self.sessions.insert(id, session);
        }
        self.queue.update(id, u64::from(timeout_ms), now_ms);
        added
    }

    /// Record activity: move the session to the bucket for
    /// `now_ms + timeout`. Returns `false` (and changes nothing) if the
    /// session is unknown or closing — the caller should then treat the
    /// session as expired.
    pub fn touch(&mut self, id: SessionId, now_ms: u64) -> bool {
        match self.sessions.get(&id) {
            Some(s) if !s.closing => {
                self.queue.update(id, u64::from(s.timeout_ms), now_ms);
                true
            }
            _ => false,
        }
    }

    /// Mark a session closing, e.g. when its client asks to close it. It
    /// stays in its bucket, so if the close never completes `expire` still
    /// reports it (ZooKeeper behaves the same).
    pub fn set_closing(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    /// Forget a session entirely, once its close has been applied.
    pub fn remove(&mut self, id: SessionId) -> Option<Session> {
        self.queue.remove(id);
        self.sessions.remove(&id)
    }

    /// Every session whose bucket time is at or before `now_ms`, in bucket
    /// then id order. Each is marked closing and leaves the expiry queue;
    /// it stays in the table until [`remove`](Self::remove).
    pub fn expire(&mut self, now_ms: u64) -> Vec<SessionId> {
        let expired = self.queue.poll(now_ms);
        for id in &expired {
            self.set_closing(*id);
        }
        expired
    }

    /// When the next bucket is due: the driver's timer. `None` when no
    /// session is waiting to expire.
    pub fn next_deadline(&self) -> Option<u64> {
        self.queue.next_deadline()
    }

    /// The bucket time of one session, if it is queued.
    pub fn deadline(&self, id: SessionId) -> Option<u64> {
        self.queue.deadline(id)
    }

    /// May a request use this session? (`checkSession` without the owner
    /// check, which belongs to the quorum layer.)
    pub fn check(&self, id: SessionId) -> Result<&Session, SessionError> {
        match self.sessions.get(&id) {
            None => Err(SessionError::Unknown(id)),
            Some(s) if s.closing => Err(SessionError::Closing(id)),
            Some(s) => Ok(s),
        }
    }

    /// A tracked session, closing or not.
    pub fn get(&self, id: SessionId) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// All tracked sessions in id order (for snapshots and `cons`/`dump`).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// Expiry buckets in time order, each with its session ids (`dump`).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, impl Iterator<Item = SessionId> + '_)> {
        self.queue
            .buckets()
            .map(|(t, set)| (t, set.iter().copied()))
    }

    /// Number of tracked sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: u32 = 2000;

    fn tracker() -> SessionTracker {
        SessionTracker::new(1, TICK, 1_000_000)
    }

    #[test]
    fn create_allocates_consecutive_ids_from_initial() {
        let mut t = tracker();
        let first = t.create(10_000, 0);
        assert_eq!(first, initial_session_id(1, 1_000_000));
        assert_eq!(t.create(10_000, 0), SessionId(first.0 + 1));
    }

    #[test]
    fn session_lands_in_next_tick_bucket_after_timeout() {
        let mut t = tracker();
        let id = t.create(5000, 10_100);
        assert_eq!(t.deadline(id), Some(16_000));
        let id2 = t.create(6000, 10_000);
        assert_eq!(
            t.deadline(id2),
            Some(18_000),
            "exact multiple rounds up a bucket"
        );
    }

    #[test]
    fn touch_moves_session_to_later_bucket() {
        let mut t = tracker();
        let id = t.create(5000, 0);
        assert!(t.touch(id, 4000));
        assert_eq!(t.deadline(id), Some(10_000));
        assert!(t.expire(9_999).is_empty());
        assert_eq!(t.expire(10_000), vec![id]);
    }

    #[test]
    fn expire_returns_all_overdue_buckets_and_marks_closing() {
        let mut t = tracker();
        let a = t.create(2000, 0); // bucket 4000
        let b = t.create(1000, 0); // bucket 2000
        let c = t.create(20_000, 0); // bucket 22000
        assert_eq!(t.expire(5000), vec![b, a]);
        assert_eq!(t.check(a), Err(SessionError::Closing(a)));
        assert!(t.check(c).is_ok());
        assert_eq!(t.len(), 3, "expired sessions stay until removed");
        assert_eq!(t.next_deadline(), Some(22_000));
    }

    #[test]
    fn closing_session_cannot_be_touched() {
        let mut t = tracker();
        let id = t.create(2000, 0);
        t.expire(10_000);
        assert!(!t.touch(id, 10_000));
        assert_eq!(t.deadline(id), None);
    }

    #[test]
    fn set_closing_keeps_session_in_its_bucket() {
        let mut t = tracker();
        let id = t.create(2000, 0);
        t.set_closing(id);
        assert!(!t.touch(id, 1000));
        assert_eq!(t.expire(4000), vec![id]);
    }

    #[test]
    fn touch_unknown_session_fails() {
        let mut t = tracker();
        assert!(!t.touch(SessionId(42), 0));
        assert_eq!(
            t.check(SessionId(42)),
            Err(SessionError::Unknown(SessionId(42)))
        );
    }

    #[test]
    fn remove_forgets_session_and_its_deadline() {
        let mut t = tracker();
        let id = t.create(2000, 0);
        assert_eq!(t.remove(id).map(|s| s.timeout_ms), Some(2000));
        assert!(t.is_empty());
        assert_eq!(t.next_deadline(), None);
        assert!(t.expire(u64::MAX).is_empty());
    }

    #[test]
    fn add_restores_session_and_reports_duplicates() {
        let mut t = tracker();
        assert!(t.add(SessionId(7), 4000, 0));
        assert!(!t.add(SessionId(7), 8000, 0));
        assert_eq!(t.get(SessionId(7)).map(|s| s.timeout_ms), Some(4000));
        assert_eq!(t.deadline(SessionId(7)), Some(10_000), "deadline refreshed");
    }

    #[test]
    fn buckets_list_sessions_in_time_order() {
        let mut t = tracker();
        let a = t.create(4000, 0);
        let b = t.create(1000, 0);
        let got: Vec<(u64, Vec<SessionId>)> = t
            .buckets()
            .map(|(time, ids)| (time, ids.collect()))
            .collect();
        assert_eq!(got, vec![(2000, vec![b]), (6000, vec![a])]);
    }
}
