//! The two ways peer bytes can fail to decode, kept apart because Apache
//! ZooKeeper treats them differently.
//!
//! - [`WireError`]: the byte stream itself cannot be followed (an absurd
//!   length, a broken handshake, a SNAP image without its signature). The
//!   connection must be dropped: nothing after the fault can be framed.
//! - [`MessageError`]: one message was framed correctly but is not one we
//!   understand (an unknown packet type, a reconfiguration packet, a short
//!   notification). The stream is still in sync; Apache logs such messages
//!   and carries on (`Follower.processPacket`, `LearnerHandler.run`,
//!   `FastLeaderElection.WorkerReceiver`), so the caller decides.

/// The stream cannot be followed any further: drop the connection.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A length prefix outside what Apache ZooKeeper accepts.
    #[error("{field}: length {len} is outside 0..={max}")]
    Length {
        /// Which length (e.g. `"QuorumPacket.data"`, `"election frame"`).
        field: &'static str,
        /// The length as sent.
        len: i64,
        /// The largest length accepted.
        max: usize,
    },
    /// A structure that Apache ZooKeeper would also refuse.
    #[error("{what}: {reason}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A connection-initiation message with an unknown protocol version.
    #[error("connection initiation: unknown protocol version {0}")]
    ProtocolVersion(i64),
    /// A connection-initiation address that is not `host:port`.
    #[error("connection initiation: badly formed address {0:?}")]
    Address(String),
    /// The SNAP image was not followed by the "BenWasHere" string.
    #[error("SNAP image not followed by the \"BenWasHere\" signature: {0}")]
    Signature(String),
    /// The socket failed (only when the codecs are used with tokio-util).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One framed message that we cannot use; the stream is still in sync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A QuorumPacket type no ZooKeeper 3.8 sends.
    #[error("unknown quorum packet type {0}")]
    UnknownPacketType(i32),
    /// A dynamic-reconfiguration packet (COMMITANDACTIVATE,
    /// INFORMANDACTIVATE): ferrozk has no reconfiguration.
    #[error("quorum packet {name} ({code}) belongs to dynamic reconfiguration, which ferrozk does not support")]
    Unsupported {
        /// Its type number.
        code: i32,
        /// Its name in `Leader.java`.
        name: &'static str,
    },
    /// A known message whose fields do not fit it.
    #[error("{what}: {reason}")]
    Malformed {
        /// Which message (e.g. `"LEADERINFO"`, `"notification"`).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A notification shorter than the 28 bytes of the oldest format.
    #[error("notification of {0} bytes is shorter than the 28 every format has")]
    ShortNotification(usize),
    /// A notification whose state is not a `ServerState` ordinal.
    #[error("notification state {0} is not a ServerState ordinal")]
    UnknownState(i32),
}
