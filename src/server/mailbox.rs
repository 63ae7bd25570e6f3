//! What the IO tasks (connections, the listener, the quorum network) send
//! the driver, and what the driver sends a connection's writer. Its own
//! module so that the IO tasks and the driver depend on these messages,
//! not on each other.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::core::{ConnId, NetEvent};
use super::outbox::OutboxTx;
use crate::proto::connect::Connect;

/// What a connection's writer is sent.
#[derive(Debug)]
pub enum Out {
    /// A complete frame (length prefix included) that answers no request:
    /// the handshake reply, a watch notification.
    Frame(Bytes),
    /// The reply to a request; writing it frees one of the connection's
    /// in-flight request slots.
    Reply(Bytes),
    /// Flush what is queued, then close.
    Close,
}

/// What connections, the quorum network and the listener send the driver.
#[allow(missing_docs)]
#[derive(Debug)]
pub enum CoreMsg {
    /// A handshake arrived.
    Connect {
        conn: ConnId,
        connect: Connect,
        peer: SocketAddr,
        out: OutboxTx<Out>,
    },
    /// A request frame (header split off), read at `at`.
    Request {
        conn: ConnId,
        xid: i32,
        op: i32,
        body: Bytes,
        at: Instant,
    },
    /// The connection is gone.
    Closed { conn: ConnId },
    /// Something happened on the quorum network (ensemble members only).
    Quorum(NetEvent),
    /// A four-letter word, and where it came from.
    FourLetter {
        asked: super::fourlw::Asked,
        reply: oneshot::Sender<String>,
    },
    /// A `/metrics` scrape: the gauges, sampled now.
    Gauges {
        reply: oneshot::Sender<Vec<(String, f64)>>,
    },
    /// An AdminServer command (a name or alias, as asked, and the query
    /// parameters); the answer is its JSON body.
    Admin {
        name: String,
        params: Vec<(String, String)>,
        reply: oneshot::Sender<String>,
    },
}
