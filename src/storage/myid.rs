//! The `myid` file: which `server.N` of the ensemble this node is, as
//! QuorumPeerConfig.setupMyId reads it.
//!
//! ```text
//! <dataDir>/myid      the server id in decimal ASCII; only the first line counts
//! ```
//!
//! It sits in dataDir itself, not in `version-2`. The first line (up to
//! '\n' or '\r') is parsed as a Java long without trimming: `echo 3 > myid`
//! works, `3 ` does not, in Apache ZooKeeper as here. A standalone server
//! needs no `myid`; whether one is required is the caller's decision.
//!
//! Apache accepts a negative id (and treats -1 as "unset", so `-1` reports
//! "myid file is missing"); ferrozk's server ids are `u64`, so any negative
//! value is refused as not a number.

use std::path::{Path, PathBuf};

use super::epoch::read_first_line;
use super::error::StorageError;

/// The name of the file.
pub const MYID_FILE: &str = "myid";

/// `<data_dir>/myid`.
pub fn myid_path(data_dir: &Path) -> PathBuf {
    data_dir.join(MYID_FILE)
}

/// Reads the server id from `<data_dir>/myid`.
pub fn read_myid(data_dir: &Path) -> Result<u64, StorageError> {
    let path = myid_path(data_dir);
    // QuorumPeerConfig ignores a myid that is not a regular file.
    if !path.is_file() {
        return Err(StorageError::MyIdMissing { path });
    }
    let Some(line) = read_first_line(&path)? else {
        return Err(StorageError::MyIdMissing { path });
    };
    match line.parse::<i64>().ok().map(u64::try_from) {
        Some(Ok(id)) => Ok(id),
        _ => Err(StorageError::BadMyId { path, found: line }),
    }
}
