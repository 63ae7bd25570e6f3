//! Durability: the transaction log and snapshots, in Apache ZooKeeper 3.8's
//! on-disk formats, so a ZooKeeper dataDir opens in ferrozk and the other
//! way round. This is the only module that touches the disk.
//!
//! Flow: a write becomes a [`Txn`](crate::tree::txn::Txn) in `prep`; the log
//! thread [`TxnLog::append`]s it and [`TxnLog::sync`]s a group; only then is
//! it applied and answered. Every `snapCount` transactions the server
//! streams the tree through a [`SnapshotWriter`] and [`TxnLog::roll`]s the
//! log. At startup [`recover`] loads the newest valid snapshot and replays
//! the log after it; [`purge`] keeps disk use bounded.
//!
//! Files, one format each (each documents its grammar at the top):
//! - [`entry`]: one log entry (header, body, digest) and its framing;
//! - [`txnlog`]: the log writer (file header, preallocation, group sync);
//! - [`logread`]: the log reader, torn tails vs corruption;
//! - [`snapshot`] / [`snapshot_read`]: the snapshot writer and reader;
//! - [`digest`]: ZooKeeper's tree digest (CRC32 per node, summed);
//! - [`datadir`]: file naming, listing, purge;
//! - [`recover`]: snapshot + replay into a `DataTree`.
//!
//! See docs/storage.md for the formats in prose.

pub mod datadir;
pub mod digest;
pub mod entry;
pub mod epoch;
pub mod error;
pub mod image;
pub mod logread;
pub mod myid;
pub mod recover;
pub mod snapshot;
pub mod snapshot_read;
pub mod truncate;
pub mod txnlog;

#[cfg(test)]
mod epoch_tests;
#[cfg(test)]
mod image_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod truncate_tests;

pub use datadir::{purge, Purged};
pub use epoch::{epoch_of_zxid, load_epochs, read_epoch, write_epoch, EpochFile, Epochs};
pub use error::{Defect, StorageError};
pub use image::{decode_image, encode_image, image_len, Image};
pub use logread::{read_all, truncate_torn_tail, LogEntry, TornTail, TxnLogReader};
pub use myid::read_myid;
pub use recover::{recover, recover_with, DigestMismatch, RecoverOptions, Recovered};
pub use snapshot::{write_snapshot, SnapshotWriter};
pub use snapshot_read::{read_snapshot, SnapNode, Snapshot, ZxidDigest};
pub use truncate::{snapshots_after, truncate_log};
pub use txnlog::{TxnLog, TxnLogOptions};
