//! `hash`: the digest history, as ZooKeeper's `DigestCommand` prints it —
//! one `<zxid in hex>: <digest>` line per entry of the tree's digest log
//! (the tree digest after every 128th zxid, the latest 1024), empty until
//! the first such zxid. The log starts empty when the server starts:
//! ZooKeeper also fills it while replaying its log at start-up; ferrozk
//! records the transactions it applies while running.

use std::fmt::Write as _;

use super::super::core::Core;

/// `hash`.
pub(super) fn hash(core: &Core) -> String {
    let mut s = String::new();
    for (zxid, digest) in core.digest_log.entries() {
        let _ = writeln!(s, "{zxid:x}: {digest}");
    }
    s
}
