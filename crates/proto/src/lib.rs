//! The client wire protocol: Jute encoding, generated records, opcodes,
//! error codes, and the hand-written parts (connect handshake, multi, request
//! decoding, path rules) that do not fit the IDL.
//!
//! Framing: every message in either direction is a 4-byte big-endian length
//! followed by that many bytes. Client → server after the handshake:
//! `RequestHeader{xid, type}` + body. Server → client: `ReplyHeader{xid,
//! zxid, err}` + body (no body when err != 0), and watch notifications as
//! `ReplyHeader{xid=-1, zxid=-1, err=0}` + `WatcherEvent`.
//!
//! Also [`rng`], the small deterministic generator that the simulator and
//! the load generator share: it lives here because every ferrozk crate
//! depends on this one.
#![warn(missing_docs)]

pub mod class;
pub mod connect;
pub mod error;
pub mod jute;
pub mod multi;
pub mod ops;
pub mod path;
pub mod records;
pub mod request;
pub mod response;
pub mod rng;

pub use class::{Classified, OpClass, ReadRequest, SessionRequest, WriteRequest};
pub use error::ErrorCode;
pub use jute::{DecodeError, Jute};
pub use ops::OpCode;
pub use request::Request;

/// Apache ZooKeeper's default `jute.maxbuffer`: the largest frame accepted.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;
