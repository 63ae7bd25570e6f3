//! The client wire protocol: Jute encoding, generated records, opcodes,
//! error codes, and the hand-written parts (connect handshake, multi, request
//! decoding) that do not fit the IDL.

pub mod error;
pub mod jute;
pub mod ops;
pub mod records;

pub use error::ErrorCode;
pub use jute::{DecodeError, Jute};
pub use ops::OpCode;
