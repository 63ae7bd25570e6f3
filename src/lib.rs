//! ferrozk: a ZooKeeper-compatible coordination server.
//!
//! A map of the crate, in the order a request flows through it:
//!
//! - [`proto`]: bytes on the wire ⇄ typed requests and replies (Jute records
//!   generated from `jute/*.jute` by `crates/proto/build.rs`, opcodes, error codes, the
//!   connect handshake, multi, path rules).
//! - [`server`]: tokio. The listener, one task per connection (framing and
//!   four-letter words), and the core task that owns the tree and the
//!   sessions and orders every request.
//! - [`tree`]: the ZNode tree, with no IO. `prep` turns a write request into
//!   a transaction, `DataTree::apply` applies one; `read` serves reads; ACLs,
//!   watches and the Java iteration orders ZooKeeper exposes live beside it.
//! - [`storage`]: the transaction log, snapshots and recovery, in Apache
//!   ZooKeeper 3.8's on-disk formats (the only module that touches disk).
//! - [`session`]: session ids, passwords and tick-bucket expiry; time is an
//!   input.
//! - [`config`]: zoo.cfg and TOML configuration.
//! - [`client`]: an async client library (tests, later the shell and bench).
//! - [`cli`]: the `ferrozk` command line.
//! - [`zab`]: replication: leader election, discovery, synchronization and
//!   broadcast as a pure state machine, and its wire encodings.
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod server;
pub mod session;
pub mod storage;
pub mod tree;
pub mod zab;

/// The async client (the `ferrozk-client` crate), re-exported.
pub use ferrozk_client as client;
/// The wire formats (the `ferrozk-proto` crate), re-exported: the server's
/// own modules and its tests name them `crate::proto` / `ferrozk::proto`.
pub use ferrozk_proto as proto;
/// The deterministic generator the simulator shares with the load generator.
pub use ferrozk_proto::rng;
