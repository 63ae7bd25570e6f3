//! Zab: the replication protocol that orders every write of an ensemble
//! into one zxid sequence.
//!
//! - [`types`]: zxids, votes, states, the typed quorum messages;
//! - [`peer`]: one member's state machine (inputs in, outputs out, no IO),
//!   built from [`election`] (fast leader election), [`leader`] and
//!   [`learner`] (discovery, synchronization, broadcast), [`history`] (what
//!   Zab knows of the local log) and [`quorum`] (who votes);
//! - [`wire`]: those messages in Apache ZooKeeper 3.8's encodings (election
//!   port handshake and notifications, QuorumPacket on the quorum port).
//!
//! See docs/replication.md for the protocol as implemented.

pub mod election;
pub mod history;
pub mod leader;
pub mod learner;
pub mod peer;
pub mod quorum;
pub mod types;
pub mod wire;

#[cfg(test)]
mod transcript;

pub use peer::{Config, DurableState, LinkId, Output, Peer, ProposeError, SyncTarget};
pub use quorum::{Ensemble, Member};
pub use types::{Entry, LearnerKind, Notification, Packet, ServerState, Sid, Zxid};
