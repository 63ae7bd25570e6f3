//! The commands about the server itself: `configuration`, `connections`,
//! `stats`/`server_stats`, `dirs`, `last_snapshot`,
//! `initial_configuration`, `is_read_only` — each a struct whose fields
//! are ZooKeeper's keys in ZooKeeper's order (Jackson writes a bean's
//! properties in its getter order, a map in insertion order).

use std::net::SocketAddr;
use std::path::Path;

use serde::Serialize;

use super::commands::View;
use crate::server::core::stats::{BufferStats, ConnView};
use crate::server::metrics::MonitorValue;
use crate::storage::datadir;

/// A response with no data of its own (`ruok`, the resets).
#[derive(Serialize)]
pub struct Nothing {}

/// `configuration`: `ZooKeeperServerConf.toMap`.
#[derive(Serialize)]
pub struct Configuration {
    client_port: u16,
    data_dir: String,
    data_log_dir: String,
    tick_time: u32,
    max_client_cnxns: u32,
    min_session_timeout: u32,
    max_session_timeout: u32,
    server_id: u64,
    client_port_listen_backlog: i32,
}

/// The absolute `version-2` directory under `dir`, as Java's
/// `File.getAbsolutePath` makes it (joined to the working directory, not
/// normalised or resolved).
fn version_dir(dir: &Path) -> String {
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(dir)
    };
    datadir::version_dir(&dir).display().to_string()
}

pub fn configuration(v: &View<'_>) -> Configuration {
    let o = &v.core.opts;
    Configuration {
        client_port: o.listen.port(),
        data_dir: version_dir(&o.data_dir),
        data_log_dir: version_dir(&o.data_log_dir),
        tick_time: o.tick_ms,
        max_client_cnxns: o.max_client_cnxns,
        min_session_timeout: o.min_session_timeout_ms,
        max_session_timeout: o.max_session_timeout_ms,
        // A standalone ZooKeeper reports 0; ferrozk's standalone session
        // ids use 1 (ServerOptions::server_id), so ask the ensemble.
        server_id: o.ensemble.as_ref().map_or(0, |e| e.my_id),
        // clientPortListenBacklog is not supported: ZooKeeper's "unset".
        client_port_listen_backlog: -1,
    }
}

/// One connection (`ServerCnxn.getConnectionInfo`): the brief form, and
/// the rest when asked in full.
#[derive(Serialize)]
pub struct ConnectionInfo {
    remote_socket_address: String,
    interest_ops: i32,
    outstanding_requests: u64,
    packets_received: u64,
    packets_sent: u64,
    #[serde(flatten)]
    full: Option<ConnectionDetail>,
}

/// The fields only `connections` shows.
#[derive(Serialize)]
pub struct ConnectionDetail {
    session_id: i64,
    last_operation: Option<&'static str>,
    established: i64,
    session_timeout: u32,
    last_cxid: i64,
    last_zxid: i64,
    last_response_time: u64,
    last_latency: u64,
    min_latency: u64,
    avg_latency: u64,
    max_latency: u64,
}

/// Jackson's `InetSocketAddress` form: `127.0.0.1:38912`,
/// `[0:0:0:0:0:0:0:1]:2181` (Java's uncompressed IPv6 text) — Java's
/// `toString()` without its leading `/`.
pub fn socket_address(a: SocketAddr) -> String {
    let java = crate::server::fourlw::java_socket_address(a);
    java.strip_prefix('/').unwrap_or(&java).to_owned()
}

fn connection_info(c: &ConnView<'_>, brief: bool) -> ConnectionInfo {
    let st = c.stats;
    ConnectionInfo {
        remote_socket_address: socket_address(c.peer),
        // ferrozk reads every connection (ZooKeeper's OP_READ).
        interest_ops: 1,
        outstanding_requests: st.outstanding(),
        packets_received: st.packets_received,
        packets_sent: st.packets_sent,
        full: (!brief).then(|| ConnectionDetail {
            session_id: c.session,
            last_operation: st.last_op,
            established: st.established_ms,
            session_timeout: c.timeout_ms,
            last_cxid: st.last_cxid,
            last_zxid: st.last_zxid,
            last_response_time: st.last_response_ms,
            last_latency: st.last_latency_ms,
            min_latency: st.min_latency_ms(),
            avg_latency: st.avg_latency_ms(),
            max_latency: st.max_latency_ms,
        }),
    }
}

/// `connections`: every client connection in full. ferrozk has no TLS
/// port, so `secure_connections` is empty, as on a ZooKeeper without one.
#[derive(Serialize)]
pub struct Connections {
    connections: Vec<ConnectionInfo>,
    secure_connections: Vec<ConnectionInfo>,
}

pub fn connections(v: &View<'_>) -> Connections {
    Connections {
        connections: all_connections(v, false),
        secure_connections: Vec::new(),
    }
}

fn all_connections(v: &View<'_>, brief: bool) -> Vec<ConnectionInfo> {
    v.core
        .connections()
        .iter()
        .map(|c| connection_info(c, brief))
        .collect()
}

/// ZooKeeper's `BufferStats` as a bean.
#[derive(Serialize)]
pub struct Buffer {
    last_buffer_size: i64,
    min_buffer_size: i64,
    max_buffer_size: i64,
}

impl From<BufferStats> for Buffer {
    fn from(b: BufferStats) -> Buffer {
        Buffer {
            last_buffer_size: b.last,
            min_buffer_size: b.min,
            max_buffer_size: b.max,
        }
    }
}

/// `ServerStats` as Jackson writes it (the order of a standalone 3.8;
/// Java's reflection order of the getters, which is not the same on every
/// run of a JVM: a quorum member printed the same keys in another order).
#[derive(Serialize)]
pub struct ServerStats {
    packets_sent: u64,
    packets_received: u64,
    fsync_threshold_exceed_count: i64,
    client_response_stats: Buffer,
    data_dir_size: u64,
    log_dir_size: u64,
    provider_null: bool,
    server_state: &'static str,
    last_processed_zxid: i64,
    outstanding_requests: u64,
    avg_latency: f64,
    max_latency: u64,
    min_latency: u64,
    num_alive_client_connections: usize,
    uptime: i64,
    auth_failed_count: i64,
    non_mtlsremote_conn_count: i64,
    non_mtlslocal_conn_count: i64,
}

/// `server_stats` (`srvr`).
#[derive(Serialize)]
pub struct ServerStatsBody {
    version: String,
    read_only: bool,
    server_stats: ServerStats,
    client_response: Buffer,
    /// Only on a leader.
    #[serde(skip_serializing_if = "Option::is_none")]
    proposal_stats: Option<Buffer>,
    node_count: usize,
}

/// `stats` (`stat`): `server_stats` and the connections, brief.
#[derive(Serialize)]
pub struct StatsBody {
    #[serde(flatten)]
    server: ServerStatsBody,
    connections: Vec<ConnectionInfo>,
    secure_connections: Vec<ConnectionInfo>,
}

/// The monitor values by name, for the figures `ServerStats` shares with
/// `mntr` (uptime, fsync warnings, auth failures, response sizes): one
/// source, so the two never disagree.
struct Monitor(Vec<(String, MonitorValue)>);

impl Monitor {
    fn int(&self, name: &str, default: i64) -> i64 {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| match v {
                MonitorValue::Int(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(default)
    }

    fn client_response(&self) -> Buffer {
        Buffer {
            last_buffer_size: self.int("last_client_response_size", -1),
            min_buffer_size: self.int("min_client_response_size", -1),
            max_buffer_size: self.int("max_client_response_size", -1),
        }
    }
}

pub fn server_stats(v: &View<'_>) -> ServerStatsBody {
    let core = v.core;
    let stats = core.stats();
    let m = Monitor(crate::server::metrics::monitor(core, v.log));
    let (data_dir_size, log_dir_size) = dir_sizes(v);
    let role = crate::server::fourlw::mode(core);
    ServerStatsBody {
        version: crate::server::fourlw::full_version(),
        read_only: false,
        server_stats: ServerStats {
            packets_sent: stats.sent,
            packets_received: stats.received,
            fsync_threshold_exceed_count: m.int("fsync_threshold_exceed_count", 0),
            client_response_stats: m.client_response(),
            data_dir_size,
            log_dir_size,
            provider_null: false,
            server_state: role,
            last_processed_zxid: core.tree.last_zxid,
            outstanding_requests: core.outstanding_requests(),
            avg_latency: stats.latency.avg_ms(),
            max_latency: stats.latency.max_ms(),
            min_latency: stats.latency.min_ms(),
            num_alive_client_connections: core.connections().len(),
            uptime: m.int("uptime", 0),
            auth_failed_count: m.int("auth_failed_count", 0),
            non_mtlsremote_conn_count: m.int("non_mtls_remote_conn_count", 0),
            non_mtlslocal_conn_count: m.int("non_mtls_local_conn_count", 0),
        },
        client_response: m.client_response(),
        proposal_stats: (role == "leader").then(|| stats.proposal_sizes.into()),
        node_count: core.node_count(),
    }
}

pub fn stats(v: &View<'_>) -> StatsBody {
    StatsBody {
        server: server_stats(v),
        connections: all_connections(v, true),
        secure_connections: Vec::new(),
    }
}

/// `dirs`.
#[derive(Serialize)]
pub struct Dirs {
    datadir_size: u64,
    logdir_size: u64,
}

pub fn dirs(v: &View<'_>) -> Dirs {
    let (datadir_size, logdir_size) = dir_sizes(v);
    Dirs {
        datadir_size,
        logdir_size,
    }
}

/// ZooKeeper's `getDataDirSize` / `getLogDirSize`, with their names as
/// ZooKeeper has them: the "data dir" size is the transaction log's
/// `version-2` (FileTxnSnapLog's `dataDir`), the "log dir" size the
/// snapshots' — the same figure when one directory holds both.
fn dir_sizes(v: &View<'_>) -> (u64, u64) {
    let o = &v.core.opts;
    (
        crate::server::fourlw::dir_size(&datadir::version_dir(&o.data_log_dir)),
        crate::server::fourlw::dir_size(&datadir::version_dir(&o.data_dir)),
    )
}

/// `last_snapshot`: the newest complete snapshot file (ZooKeeper reports
/// the one it last wrote or started from; ferrozk reads the directory,
/// which gives the same file once a snapshot is complete).
#[derive(Serialize)]
pub struct LastSnapshot {
    /// The zxid in hex without `0x` (`Long.toHexString`): `ffffffffffffffff`
    /// when there is none.
    zxid: String,
    /// The file's modification time, seconds since the epoch; -1 if none.
    timestamp: i64,
}

pub fn last_snapshot(v: &View<'_>) -> LastSnapshot {
    let newest = datadir::valid_snapshots(&v.core.opts.data_dir, 1)
        .ok()
        .and_then(|s| s.into_iter().next());
    let (zxid, timestamp) = match newest {
        Some((zxid, path)) => {
            let mtime = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(-1, |d| d.as_secs() as i64);
            (zxid, mtime)
        }
        None => (-1, -1),
    };
    LastSnapshot {
        zxid: format!("{:x}", zxid as u64),
        timestamp,
    }
}

/// `initial_configuration`: the configuration file's text as it was read
/// (null when the server runs without a file).
#[derive(Serialize)]
pub struct InitialConfiguration {
    initial_configuration: Option<String>,
}

pub fn initial_configuration(v: &View<'_>) -> InitialConfiguration {
    InitialConfiguration {
        initial_configuration: v
            .core
            .opts
            .admin
            .config_text
            .as_ref()
            .map(|t| t.text().to_owned()),
    }
}

/// `is_read_only`: ferrozk has no read-only mode.
#[derive(Serialize)]
pub struct IsReadOnly {
    read_only: bool,
}

pub fn is_read_only() -> IsReadOnly {
    IsReadOnly { read_only: false }
}
