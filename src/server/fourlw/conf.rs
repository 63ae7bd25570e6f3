//! `conf` and `dirs`: the configuration the server runs with and the sizes
//! of its data directories, as ZooKeeper's `ZooKeeperServer.dumpConf`
//! (`QuorumZooKeeperServer.dumpConf` in an ensemble) and `DirsCommand`
//! print them.
//!
//! ZooKeeper's directories are its `FileTxnSnapLog`'s: `<dataDir>/version-2`
//! for snapshots and `<dataLogDir>/version-2` for the log. Its
//! `getDataDirSize` measures the *log* directory and `getLogDirSize` the
//! *snapshot* directory (the names are swapped in its source); `conf`'s
//! `dataDirSize`/`dataLogSize` and `dirs` print them that way round, and
//! so does ferrozk, so tools see the same numbers. With one directory for
//! both, as usual, the two are equal anyway.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::super::core::Core;
use crate::config::PeerType;
use crate::storage::datadir::VERSION_DIR;

/// `conf`.
pub(super) fn conf(core: &Core) -> String {
    let o = &core.opts;
    let snap_dir = version_dir(&o.data_dir);
    let log_dir = version_dir(&o.data_log_dir);
    let mut s = String::new();
    let _ = writeln!(s, "clientPort={}", o.listen.port());
    // ferrozk serves no TLS port (a configured one is ignored with a
    // warning): -1 is ZooKeeper's "none".
    let _ = writeln!(s, "secureClientPort=-1");
    let _ = writeln!(s, "dataDir={}", snap_dir.display());
    let _ = writeln!(s, "dataDirSize={}", dir_size(&log_dir));
    let _ = writeln!(s, "dataLogDir={}", log_dir.display());
    let _ = writeln!(s, "dataLogSize={}", dir_size(&snap_dir));
    let _ = writeln!(s, "tickTime={}", o.tick_ms);
    let _ = writeln!(s, "maxClientCnxns={}", o.max_client_cnxns);
    let _ = writeln!(s, "minSessionTimeout={}", o.min_session_timeout_ms);
    let _ = writeln!(s, "maxSessionTimeout={}", o.max_session_timeout_ms);
    // The listen backlog is the runtime's default, ZooKeeper's -1.
    let _ = writeln!(s, "clientPortListenBacklog=-1");
    let Some(e) = &o.ensemble else {
        // A standalone ZooKeeperServer has server id 0.
        let _ = writeln!(s, "serverId=0");
        return s;
    };
    let _ = writeln!(s, "serverId={}", e.my_id);
    let _ = writeln!(s, "initLimit={}", e.init_limit);
    let _ = writeln!(s, "syncLimit={}", e.sync_limit);
    // Fast leader election, the only algorithm ZooKeeper 3.8 has.
    let _ = writeln!(s, "electionAlg=3");
    let me = e.servers.iter().find(|q| q.id == e.my_id);
    let (election, quorum, observer) = me.map_or((0, 0, false), |q| {
        (
            q.election_port,
            q.quorum_port,
            q.peer_type == PeerType::Observer,
        )
    });
    let _ = writeln!(s, "electionPort={election}");
    let _ = writeln!(s, "quorumPort={quorum}");
    // LearnerType's ordinal: PARTICIPANT 0, OBSERVER 1.
    let _ = writeln!(s, "peerType={}", u8::from(observer));
    s.push_str("membership: \n");
    // QuorumMaj.toString, which ends without a line break; the version
    // of a static configuration is 0.
    for q in &e.servers {
        let _ = writeln!(s, "server.{}={q}", q.id);
    }
    s.push_str("version=0");
    s
}

/// `dirs`.
pub(super) fn dirs(core: &Core) -> String {
    let o = &core.opts;
    format!(
        "datadir_size: {}\nlogdir_size: {}\n",
        dir_size(&version_dir(&o.data_log_dir)),
        dir_size(&version_dir(&o.data_dir))
    )
}

/// `<dir>/version-2`, absolute as Java's `File.getAbsolutePath` makes it
/// (joined to the working directory, not resolved).
fn version_dir(dir: &Path) -> PathBuf {
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    dir.join(VERSION_DIR)
}

/// ZooKeeper's `getDirSize`: the lengths of the files below `path`,
/// recursively (directories count nothing; unreadable entries neither).
pub fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path).map_or(0, |entries| {
        entries.flatten().map(|e| dir_size(&e.path())).sum()
    })
}
