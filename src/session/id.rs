//! Session ids: what they are and how a server allocates them.
//!
//! A session id is a Java `long` on the wire (`ConnectRequest.sessionId`,
//! `Stat.ephemeralOwner`), so it is an `i64` here. Ids embed the id of the
//! server that created them in the high byte, which keeps ids from different
//! servers of an ensemble apart without coordination.

use std::fmt;

/// A ZooKeeper session id. Ordered so that maps keyed by it iterate in a
/// reproducible order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    /// `0x` + unsigned hex, as ZooKeeper logs ids (`Long.toHexString`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0 as u64)
    }
}

/// The `ephemeralOwner` value that marks a container node
/// (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`): no session may have this id.
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;

/// The first session id a server hands out, as
/// `SessionTrackerImpl.initializeNextSessionId` computes it:
/// `((now_ms << 24) >>> 8) | (server_id << 56)`.
///
/// The high byte is the server id; the next five bytes are the low 40 bits of
/// the clock; the low two bytes are zero, leaving 65 536 ids before the clock
/// bits are touched. `now_ms` is whatever clock the caller trusts: ZooKeeper
/// 3.8 passes `System.nanoTime() / 1_000_000` (an arbitrary origin), older
/// versions wall-clock milliseconds, which makes a restarted server less
/// likely to reuse an id. Only the low 8 bits of `server_id` survive the shift,
/// as in Java.
pub fn initial_session_id(server_id: u64, now_ms: u64) -> SessionId {
    let mut id = ((now_ms << 24) >> 8) | (server_id << 56);
    if id as i64 == CONTAINER_EPHEMERAL_OWNER {
        // ZooKeeper's guard: this id would make the session's ephemerals look
        // like container nodes.
        id += 1;
    }
    SessionId(id as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed with Java: ((now << 24) >>> 8) | (sid << 56).
    #[test]
    fn initial_id_matches_java_formula() {
        let now = 1_700_000_000_123;
        assert_eq!(initial_session_id(5, now), SessionId(399641576159772672));
        assert_eq!(
            initial_session_id(200, now),
            SessionId(-3995871660153831424)
        );
    }

    #[test]
    fn initial_id_has_server_id_in_high_byte_and_zero_low_bytes() {
        let id = initial_session_id(7, u64::MAX).0 as u64;
        assert_eq!(id >> 56, 7, "server id must own the whole high byte");
        assert_eq!(id & 0xffff, 0);
    }

    #[test]
    fn initial_id_skips_container_marker() {
        assert_eq!(initial_session_id(0x80, 0), SessionId(i64::MIN + 1));
    }

    #[test]
    fn display_is_unsigned_hex() {
        assert_eq!(SessionId(-1).to_string(), "0xffffffffffffffff");
        assert_eq!(SessionId(0x1f).to_string(), "0x1f");
    }
}
