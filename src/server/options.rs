//! What a server runs with: the options derived from a validated
//! configuration (`config::Config`), in the form the core and the runtime
//! use. Plain data: the core takes them as given.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::storage::StorageError;

/// Why a configuration cannot be served (all exit status 2, as ZooKeeper's
/// "Invalid config, exiting abnormally").
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// A key's value cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The `myid` file is missing or not a number.
    #[error(transparent)]
    MyId(#[from] StorageError),
    /// `myid` names a server the `server.N` lines do not list.
    #[error("myid: {0} has no server.{0} line")]
    NoServerLine(u64),
}

/// What the server needs to know, derived from the configuration.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Client port address.
    pub listen: SocketAddr,
    /// Data directory (snapshots).
    pub data_dir: PathBuf,
    /// Transaction log directory (dataLogDir, else dataDir).
    pub data_log_dir: PathBuf,
    /// preAllocSize in bytes: log files grow in blocks of this size.
    pub prealloc_bytes: u64,
    /// forceSync: fsync the log before acknowledging.
    pub force_sync: bool,
    /// autopurge.snapRetainCount.
    pub snap_retain_count: u32,
    /// autopurge.purgeInterval in hours (0 = no purging).
    pub purge_interval_hours: u32,
    /// tickTime.
    pub tick_ms: u32,
    /// Session timeout bounds.
    pub min_session_timeout_ms: u32,
    /// Session timeout bounds.
    pub max_session_timeout_ms: u32,
    /// Connections per client IP (0 = unlimited).
    pub max_client_cnxns: u32,
    /// TTL nodes enabled.
    pub extended_types: bool,
    /// Container/TTL reaper period.
    pub container_check_interval_ms: u64,
    /// Reaper deletions per pass.
    pub container_max_per_minute: u32,
    /// jute.maxbuffer: largest accepted frame.
    pub max_buffer: usize,
    /// Bytes queued for one client connection before it is closed.
    pub max_queued_bytes: usize,
    /// The super user's digest (`user:base64hash`).
    pub super_digest: Option<String>,
    /// skipACL.
    pub skip_acl: bool,
    /// reconfigEnabled.
    pub reconfig_enabled: bool,
    /// Allowed four-letter words.
    pub four_letter_words: crate::config::FourLetterWords,
    /// This server's id (session id prefix).
    pub server_id: u64,
    /// snapCount: transactions between snapshots (randomised).
    pub snap_count: u32,
    /// snapSizeLimitInKb in bytes: log bytes between snapshots
    /// (randomised); 0 = no size trigger.
    pub snap_size_bytes: u64,
    /// txnLogSizeLimitInKb in bytes: a log file past this is rolled after
    /// the next sync; 0 = no limit.
    pub txn_log_size_limit_bytes: u64,
    /// Ensemble membership; `None` runs standalone.
    pub ensemble: Option<EnsembleOptions>,
    /// `metricsProvider.*`: which provider, and the Prometheus endpoint's
    /// settings.
    pub metrics_provider: super::metrics::ProviderOptions,
    /// `admin.*`: the AdminServer (off by default here; on by default in a
    /// configuration file, as ZooKeeper).
    pub admin: super::admin::AdminOptions,
}

/// What a member of an ensemble needs beyond a standalone server.
#[derive(Debug, Clone)]
pub struct EnsembleOptions {
    /// Our id (the `myid` file).
    pub my_id: u64,
    /// Every `server.N` line.
    pub servers: Vec<crate::config::QuorumServer>,
    /// initLimit, in ticks.
    pub init_limit: u32,
    /// syncLimit, in ticks.
    pub sync_limit: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: "127.0.0.1:2181".parse().expect("literal"),
            data_dir: PathBuf::from("data"),
            data_log_dir: PathBuf::from("data"),
            prealloc_bytes: 64 * 1024 * 1024,
            force_sync: true,
            snap_retain_count: 3,
            purge_interval_hours: 0,
            tick_ms: 2000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40000,
            max_client_cnxns: 60,
            extended_types: false,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            max_buffer: crate::proto::DEFAULT_MAX_BUFFER,
            max_queued_bytes: 64 * 1024 * 1024,
            super_digest: None,
            skip_acl: false,
            reconfig_enabled: false,
            four_letter_words: Default::default(),
            server_id: 1,
            snap_count: 100_000,
            snap_size_bytes: 4_194_304 * 1024,
            txn_log_size_limit_bytes: 0,
            ensemble: None,
            metrics_provider: Default::default(),
            admin: Default::default(),
        }
    }
}

impl ServerOptions {
    /// Derives the options from a validated configuration.
    pub fn from_config(c: &crate::config::Config) -> Result<ServerOptions, OptionsError> {
        let listen = c
            .client_listen_address()
            .ok_or_else(|| ConfigError::missing("clientPort", "a server needs a client port"))?;
        let listen: SocketAddr = match listen.parse() {
            Ok(a) => a,
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&listen)
                .map_err(|e| {
                    ConfigError::invalid(
                        "clientPortAddress",
                        &listen,
                        format!("a resolvable host ({e})"),
                    )
                })?
                .next()
                .ok_or_else(|| {
                    ConfigError::invalid(
                        "clientPortAddress",
                        &listen,
                        "a host that resolves to an address",
                    )
                })?,
        };
        let ensemble = if c.is_distributed() {
            let my_id = crate::storage::read_myid(&c.data_dir)?;
            if !c.servers.contains_key(&my_id) {
                return Err(OptionsError::NoServerLine(my_id));
            }
            Some(EnsembleOptions {
                my_id,
                servers: c.servers.values().cloned().collect(),
                init_limit: c.init_limit,
                sync_limit: c.sync_limit,
            })
        } else {
            None
        };
        Ok(ServerOptions {
            listen,
            data_dir: c.data_dir.clone(),
            data_log_dir: c.data_log_dir().to_path_buf(),
            prealloc_bytes: c.pre_alloc_size_kb * 1024,
            force_sync: c.force_sync,
            snap_retain_count: c.autopurge_snap_retain_count,
            purge_interval_hours: c.autopurge_purge_interval_hours,
            tick_ms: c.tick_time_ms,
            min_session_timeout_ms: c.min_session_timeout_ms(),
            max_session_timeout_ms: c.max_session_timeout_ms(),
            max_client_cnxns: c.max_client_cnxns,
            extended_types: c.extended_types_enabled,
            container_check_interval_ms: c.container_check_interval_ms,
            container_max_per_minute: c.container_max_per_minute,
            max_buffer: c.jute_max_buffer as usize,
            max_queued_bytes: usize::try_from(c.max_queued_bytes).unwrap_or(usize::MAX),
            super_digest: c.super_digest.clone(),
            skip_acl: c.skip_acl,
            reconfig_enabled: c.reconfig_enabled,
            four_letter_words: c.four_letter_words.clone(),
            server_id: ensemble.as_ref().map_or(1, |e| e.my_id),
            snap_count: c.snap_count,
            snap_size_bytes: c.snap_size_limit_kb.saturating_mul(1024),
            txn_log_size_limit_bytes: c.txn_log_size_limit_kb.saturating_mul(1024),
            ensemble,
            metrics_provider: super::metrics::ProviderOptions::from_keys(&c.metrics_provider),
            admin: super::admin::AdminOptions::from_config(c),
        })
    }
}
