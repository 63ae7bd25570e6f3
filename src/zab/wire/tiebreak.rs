//! Which election-port connection survives when two servers dial each
//! other: only a connection opened by the larger sid is kept
//! (QuorumCnxManager.startConnection for the side that dialled,
//! handleConnection for the side that accepted).
//!
//! The dialler always sends its initiation message first, then:
//! - dialler's sid < peer's sid: the dialler closes; the peer will dial;
//! - accepter's sid > dialler's sid: the accepter closes and dials back
//!   (to the addresses in the initiation message, else to its config);
//! - equal sids: a misconfiguration; Apache logs it and uses the
//!   connection for nothing;
//! - otherwise both keep it, and each side starts sending notifications.
//!
//! Sids compare as Java longs. An accepted connection from
//! `OBSERVER_ID` (Long.MAX_VALUE, what a pre-3.5 observer announced) is
//! renumbered by Apache to a negative id, which always loses.

use crate::zab::types::Sid;

/// `QuorumPeer.OBSERVER_ID`.
pub const OBSERVER_ID: Sid = i64::MAX as Sid;

/// Which end opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// We dialled the peer.
    ByUs,
    /// The peer dialled us.
    ByPeer,
}

/// What to do with a connection once both sids are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Use it for notifications in both directions.
    Keep,
    /// We dialled a larger sid: close it and wait for the peer to dial us.
    CloseAndWait,
    /// A smaller sid dialled us: close it and dial the peer ourselves.
    CloseAndDialBack,
    /// The peer claims our own sid: a configuration error; do not use it.
    SameSid,
}

/// The tie-break for a connection between `me` and `peer`.
pub fn verdict(me: Sid, peer: Sid, opened: Opened) -> Verdict {
    let me = me as i64;
    let peer = match (opened, peer) {
        (Opened::ByPeer, OBSERVER_ID) => -1,
        _ => peer as i64,
    };
    match opened {
        _ if peer == me => Verdict::SameSid,
        Opened::ByUs if peer > me => Verdict::CloseAndWait,
        Opened::ByPeer if peer < me => Verdict::CloseAndDialBack,
        _ => Verdict::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_larger_sids_connection_survives() {
        // 1 dials 3: 1 gives up, 3 dials 1 and both keep that one.
        assert_eq!(verdict(1, 3, Opened::ByUs), Verdict::CloseAndWait);
        assert_eq!(verdict(3, 1, Opened::ByPeer), Verdict::CloseAndDialBack);
        assert_eq!(verdict(3, 1, Opened::ByUs), Verdict::Keep);
        assert_eq!(verdict(1, 3, Opened::ByPeer), Verdict::Keep);
        assert_eq!(verdict(2, 2, Opened::ByPeer), Verdict::SameSid);
        assert_eq!(verdict(2, 2, Opened::ByUs), Verdict::SameSid);
    }

    #[test]
    fn sids_compare_as_java_longs() {
        let negative = -5i64 as Sid;
        assert_eq!(
            verdict(1, negative, Opened::ByPeer),
            Verdict::CloseAndDialBack
        );
        assert_eq!(
            verdict(1, OBSERVER_ID, Opened::ByPeer),
            Verdict::CloseAndDialBack
        );
        assert_eq!(verdict(1, OBSERVER_ID, Opened::ByUs), Verdict::CloseAndWait);
    }
}
