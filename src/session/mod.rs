//! Session tracking: ids, passwords, timeouts and tick-bucketed expiry.
//!
//! Where it sits: the connection layer negotiates a timeout with
//! [`negotiate`] and answers a new client with an id from
//! [`SessionTracker::create`] and its [`password`]; every request or ping
//! [`touch`](SessionTracker::touch)es the session; the driver sleeps until
//! [`next_deadline`](SessionTracker::next_deadline) and turns what
//! [`expire`](SessionTracker::expire) returns into `closeSession`
//! transactions. Semantics follow Apache ZooKeeper's `SessionTrackerImpl`,
//! `ExpiryQueue` and `ZooKeeperServer.generatePasswd`.
//!
//! No IO, no clock, no randomness: time arrives as `now_ms` arguments.

mod expiry;
mod id;
mod password;
mod tracker;

pub use expiry::ExpiryQueue;
pub use id::{initial_session_id, SessionId, CONTAINER_EPHEMERAL_OWNER};
pub use password::{password, JavaRandom, PASSWORD_LEN};
pub use tracker::{Session, SessionError, SessionTracker};

/// The timeout a session gets: the client's request clamped into
/// `[min_ms, max_ms]`, exactly as `ZooKeeperServer.processConnectRequest`
/// does (raise to the minimum first, then cap at the maximum, so the maximum
/// wins if a misconfiguration puts it below the minimum). A negative request
/// — the wire field is a signed int — gets the minimum.
pub fn negotiate(requested_ms: i32, min_ms: u32, max_ms: u32) -> u32 {
    let mut timeout = u32::try_from(requested_ms).unwrap_or(0);
    if timeout < min_ms {
        timeout = min_ms;
    }
    if timeout > max_ms {
        timeout = max_ms;
    }
    timeout
}

#[cfg(test)]
mod tests {
    use super::negotiate;

    #[test]
    fn negotiate_keeps_request_within_bounds() {
        assert_eq!(negotiate(10_000, 4000, 40_000), 10_000);
    }

    #[test]
    fn negotiate_raises_to_min() {
        assert_eq!(negotiate(100, 4000, 40_000), 4000);
        assert_eq!(negotiate(-5, 4000, 40_000), 4000);
    }

    #[test]
    fn negotiate_caps_at_max() {
        assert_eq!(negotiate(i32::MAX, 4000, 40_000), 40_000);
    }

    #[test]
    fn negotiate_max_wins_when_bounds_cross() {
        assert_eq!(negotiate(1, 5000, 3000), 3000);
    }
}
