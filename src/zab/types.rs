//! The vocabulary of Zab: zxids, votes, server states and the typed quorum
//! messages the state machine consumes and produces.
//!
//! These types say what a message *means*; `wire` turns them into Apache
//! ZooKeeper 3.8's bytes (QuorumPacket on the quorum port, the notification
//! layout on the election port) and back.

use std::fmt;

use bytes::Bytes;

/// A server id (`myid`, the N of `server.N`).
pub type Sid = u64;

/// A ZooKeeper transaction id: epoch in the high 32 bits, a counter in the
/// low 32 (`ZxidUtils`). Ordered as ZooKeeper orders them (signed 64-bit),
/// which for every zxid a server can produce is the (epoch, counter) order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Zxid(pub i64);

impl Zxid {
    /// The zxid of an empty history.
    pub const ZERO: Zxid = Zxid(0);

    /// `ZxidUtils.makeZxid(epoch, counter)`.
    pub fn new(epoch: u32, counter: u32) -> Zxid {
        Zxid(((epoch as i64) << 32) | counter as i64)
    }

    /// The epoch half.
    pub fn epoch(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The counter half.
    pub fn counter(self) -> u32 {
        self.0 as u32
    }

    /// The next zxid in the same epoch.
    pub fn next(self) -> Zxid {
        Zxid(self.0 + 1)
    }
}

impl fmt::Debug for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// A server's role as it reports it in election notifications
/// (`QuorumPeer.ServerState`, by ordinal on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Electing a leader.
    Looking,
    /// Following an elected leader.
    Following,
    /// Leading.
    Leading,
    /// Observing (a non-voting learner).
    Observing,
}

impl ServerState {
    /// The ordinal ZooKeeper puts on the wire.
    pub fn ordinal(self) -> i32 {
        match self {
            ServerState::Looking => 0,
            ServerState::Following => 1,
            ServerState::Leading => 2,
            ServerState::Observing => 3,
        }
    }

    /// From the wire ordinal; `None` for values ZooKeeper ignores.
    pub fn from_ordinal(v: i32) -> Option<ServerState> {
        Some(match v {
            0 => ServerState::Looking,
            1 => ServerState::Following,
            2 => ServerState::Leading,
            3 => ServerState::Observing,
            _ => return None,
        })
    }

    /// The lower-case name `srvr`/`mntr` print (`leader`, `follower`, ...).
    pub fn role_name(self) -> &'static str {
        match self {
            ServerState::Looking => "looking",
            ServerState::Following => "follower",
            ServerState::Leading => "leader",
            ServerState::Observing => "observer",
        }
    }
}

/// A fast-leader-election notification: the sender's current vote and
/// state. `round` is FLE's logical clock (`electionEpoch`); `peer_epoch`
/// is the proposed leader's epoch, the first key of the vote order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Proposed leader.
    pub leader: Sid,
    /// Proposed leader's last zxid.
    pub zxid: Zxid,
    /// The sender's election round (logical clock).
    pub round: i64,
    /// Sender's state.
    pub state: ServerState,
    /// Proposed leader's epoch.
    pub peer_epoch: i64,
    /// The sender's quorum configuration as text (message version 2); kept
    /// opaque here, ferrozk has no dynamic reconfiguration.
    pub config: Bytes,
}

/// What a learner says it is in its first packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerKind {
    /// A voting follower (FOLLOWERINFO).
    Follower,
    /// A non-voting observer (OBSERVERINFO).
    Observer,
}

/// ZooKeeper's Zab 1.0 protocol version, sent in LEADERINFO and
/// FOLLOWERINFO's LearnerInfo.
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// One quorum-port message, typed. The comment on each variant gives the
/// QuorumPacket type number and how ZooKeeper fills `zxid` and `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// 11/16 FOLLOWERINFO/OBSERVERINFO: zxid = makeZxid(acceptedEpoch, 0),
    /// data = LearnerInfo(sid, protocol version, config version).
    LearnerInfo {
        /// Follower or observer.
        kind: LearnerKind,
        /// The learner's accepted epoch.
        accepted_epoch: u32,
        /// The learner's id.
        sid: Sid,
        /// Its protocol version (0x10000).
        protocol_version: i32,
        /// Its quorum config version (0 without reconfig).
        config_version: i64,
    },
    /// 17 LEADERINFO: zxid = makeZxid(newEpoch, 0), data = protocol version.
    LeaderInfo {
        /// The epoch the leader proposes.
        new_epoch: u32,
        /// The leader's protocol version.
        protocol_version: i32,
    },
    /// 18 ACKEPOCH: zxid = the learner's last logged zxid, data = its
    /// current epoch as a 4-byte int, or -1 when it had already accepted
    /// this epoch.
    AckEpoch {
        /// Learner's last logged zxid.
        last_zxid: Zxid,
        /// Learner's current epoch; `None` is the -1 sentinel.
        current_epoch: Option<u32>,
    },
    /// 13 DIFF: the proposals and commits that follow bring the learner up
    /// to `zxid` (the leader's last committed zxid).
    Diff {
        /// Leader's last committed zxid when the diff was cut.
        zxid: Zxid,
    },
    /// 14 TRUNC: the learner must cut its log after `zxid`.
    Trunc {
        /// Last zxid the learner keeps.
        zxid: Zxid,
    },
    /// 15 SNAP, followed on the stream by the serialized database and the
    /// "BenWasHere" signature; `image` holds that database (opaque here).
    Snap {
        /// The zxid the image reflects.
        zxid: Zxid,
        /// The serialized database (sessions, ACL cache, nodes; no digest).
        image: Bytes,
    },
    /// 10 NEWLEADER: zxid = makeZxid(newEpoch, 0); data = quorum config
    /// text (opaque, may be empty).
    NewLeader {
        /// makeZxid(newEpoch, 0).
        zxid: Zxid,
        /// Quorum verifier text, as the leader sends it.
        config: Bytes,
    },
    /// 12 UPTODATE: the learner may start serving.
    UpToDate,
    /// 2 PROPOSAL: data = serialized txn (header, record, digest).
    Proposal {
        /// The txn's zxid.
        zxid: Zxid,
        /// Serialized txn as in the log.
        txn: Bytes,
    },
    /// 3 ACK: the learner has the proposal `zxid` on disk (or, for
    /// makeZxid(newEpoch,0), has synced with NEWLEADER / UPTODATE).
    Ack {
        /// Acknowledged zxid.
        zxid: Zxid,
    },
    /// 4 COMMIT: zxid is committed.
    Commit {
        /// Committed zxid.
        zxid: Zxid,
    },
    /// 8 INFORM (to observers): a committed txn with its body.
    Inform {
        /// Txn zxid.
        zxid: Zxid,
        /// Serialized txn.
        txn: Bytes,
    },
    /// 1 REQUEST (learner → leader): a client write, serialized as
    /// sessionId, cxid, type, request bytes; authinfo carried alongside.
    Request {
        /// Serialized request, opaque to Zab.
        data: Bytes,
        /// The client's authentication ids, encoded as jute `Id`s.
        authinfo: Vec<crate::proto::records::data::Id>,
    },
    /// 5 PING: leader → learner with zxid = last proposed; learner →
    /// leader with data = session touches (sessionId, timeout)*.
    Ping {
        /// Leader's last proposed zxid (learner echoes what it likes).
        zxid: Zxid,
        /// Session touches from a learner; empty from the leader.
        data: Bytes,
    },
    /// 6 REVALIDATE: session revalidation, learner ⇄ leader, opaque data.
    Revalidate {
        /// sessionId + timeout (request) or sessionId + valid (reply).
        data: Bytes,
    },
    /// 7 SYNC (leader → learner): every commit queued before it has been
    /// sent; the learner answers its oldest pending sync.
    Sync,
}

impl Packet {
    /// The QuorumPacket type number.
    pub fn type_code(&self) -> i32 {
        match self {
            Packet::LearnerInfo {
                kind: LearnerKind::Follower,
                ..
            } => 11,
            Packet::LearnerInfo {
                kind: LearnerKind::Observer,
                ..
            } => 16,
            Packet::LeaderInfo { .. } => 17,
            Packet::AckEpoch { .. } => 18,
            Packet::Diff { .. } => 13,
            Packet::Trunc { .. } => 14,
            Packet::Snap { .. } => 15,
            Packet::NewLeader { .. } => 10,
            Packet::UpToDate => 12,
            Packet::Proposal { .. } => 2,
            Packet::Ack { .. } => 3,
            Packet::Commit { .. } => 4,
            Packet::Inform { .. } => 8,
            Packet::Request { .. } => 1,
            Packet::Ping { .. } => 5,
            Packet::Revalidate { .. } => 6,
            Packet::Sync => 7,
        }
    }
}

/// One entry of a server's history: a txn as logged and proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its zxid.
    pub zxid: Zxid,
    /// The serialized txn (opaque to Zab).
    pub txn: Bytes,
}
