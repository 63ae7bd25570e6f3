//! The ZNode tree and everything that decides what a request does to it.
//!
//! Flow of a write: [`prep::Prep`] validates it against the tree plus the
//! outstanding (prepared, unapplied) changes and emits a [`txn::Txn`]; once
//! the transaction is durable, [`data_tree::DataTree::apply`] applies it and
//! reports the watch notifications it triggers. Reads go straight to
//! [`read::read`]. Nothing here does IO or reads a clock.

pub mod acl;
pub mod acl_cache;
pub mod arena;
pub mod data_tree;
pub mod digest;
pub mod java_order;
pub mod node;
pub mod prep;
pub mod read;
pub mod txn;
pub mod watch;

#[cfg(test)]
mod model_tests;

pub use data_tree::{ApplyResult, DataTree, Notification};
