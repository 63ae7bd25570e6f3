//! ferrozk: a ZooKeeper-compatible coordination server.
//!
//! A map of the crate, in the order a request flows through it:
//!
//! - [`proto`]: bytes on the wire ⇄ typed requests and replies (Jute records
//!   generated from `jute/*.jute`, opcodes, error codes, framing).
//! - `tree`: the ZNode tree. `prep` turns a write request into a transaction,
//!   `apply` applies a transaction as a pure function; ACLs and watches live
//!   beside it. No IO.
//! - `session`: session tracking in tick buckets; time is an input.
//! - `server`: tokio: the listener, one task per connection, and the core
//!   task that owns the tree and orders every request.
//! - `client`: an async client library (used by the tests, shell and bench).
//! - `config`: zoo.cfg and TOML configuration.
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod config;
pub mod proto;
pub mod server;
pub mod session;
pub mod tree;
