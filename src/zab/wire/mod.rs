//! Zab's messages in Apache ZooKeeper 3.8's bytes, so a ferrozk server
//! can join an ensemble of Apache servers and the reverse.
//!
//! Pure encoding: no sockets here. The server's peer connections wrap
//! these codecs around their streams and feed the decoded
//! [`Notification`](super::Notification)s and [`Packet`](super::Packet)s to
//! the state machine ([`Peer`](super::Peer)).
//!
//! Election port (QuorumCnxManager, FastLeaderElection):
//! - [`initiation`]: the first message on a connection (who is calling and
//!   where to call back), [`InitiationCodec`];
//! - [`tiebreak`]: only the larger sid's connection is kept;
//! - [`election_frame`]: int-length frames, [`ElectionFrameCodec`];
//! - [`notification`]: a vote as bytes, every format Apache accepts.
//!
//! Quorum port (Leader, LearnerHandler, Learner):
//! - [`quorum_packet`]: the QuorumPacket record, unframed on the stream;
//! - [`packet`]: typed packets to records and back, as Apache fills them;
//! - [`snap_image`]: where the database image after SNAP ends;
//! - [`quorum_codec`]: all of it as [`QuorumCodec`].
//!
//! Errors come in two kinds ([`error`]): a [`WireError`] ends the
//! connection; a [`MessageError`] skips one message.

pub mod election_frame;
pub mod error;
pub mod initiation;
pub mod notification;
pub mod packet;
pub mod quorum_codec;
pub mod quorum_packet;
pub mod snap_image;
pub mod tiebreak;

#[cfg(test)]
mod tests;

pub use election_frame::{ElectionFrameCodec, MAX_ELECTION_FRAME};
pub use error::{MessageError, WireError};
pub use initiation::{
    Initiation, InitiationCodec, InitiationFormat, PeerAddress, PROTOCOL_VERSION_V1,
    PROTOCOL_VERSION_V2,
};
pub use notification::{decode_notification, encode_notification};
pub use packet::{decode_packet, encode_packet, Role, SNAP_SIGNATURE};
pub use quorum_codec::QuorumCodec;
pub use quorum_packet::{RawPacket, JUTE_MAX_LENGTH};
pub use tiebreak::{verdict, Opened, Verdict, OBSERVER_ID};
