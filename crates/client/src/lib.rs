//! An asynchronous ZooKeeper client over tokio, speaking the 3.9 client
//! protocol: used by the integration tests, the shell and the benchmark.
//!
//! Shape, per session:
//!
//! ```text
//!  Client (clonable) ──Command──▶ supervisor task ──▶ writer (batches frames, stamps xids)
//!      ▲   oneshot per call            │ owns the request channel across reconnects
//!      │                               ▼
//!      └──────────────────────── reader task (one per connection): replies in
//!  events() ◀── WatchedEvent ──── xid order, notifications, watch bookkeeping
//! ```
//!
//! - [`handle`]: `Client`, its builder, request plumbing, `close`, `raw_request`.
//! - [`api`]: the typed calls (create … whoAmI).
//! - `session`: connect/reconnect, priming (auth, setWatches), session states.
//! - `conn`: framing, handshake, the reader and writer loops.
//! - `watches`: the client-side record of watches, replayed on reconnect.
//! - [`hosts`], [`types`], [`error`]: connect strings and chroot, the
//!   vocabulary, the error type.
//!
//! There is no task per request: a call costs one frame buffer, one oneshot
//! and a channel send; the writer writes whatever has queued up in one
//! syscall, so many outstanding calls share round trips.
#![warn(missing_docs)]

pub mod api;
mod conn;
pub mod error;
pub mod handle;
pub mod hosts;
mod session;
pub mod types;
mod watches;

pub use error::{check_multi, Error};
pub use handle::{Client, ClientBuilder};
pub use hosts::{Chroot, ConnectString};
pub use types::{
    acls, AddWatchMode, CreateMode, EventType, KeeperState, Op, WatchedEvent, WatcherType,
};

pub use ferrozk_proto::multi::MultiResult;
pub use ferrozk_proto::records::data::{ClientInfo, Id, Stat, ACL};
pub use ferrozk_proto::ErrorCode;
