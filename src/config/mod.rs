//! Server configuration: `zoo.cfg` (Java properties) or TOML, same keys.
//!
//! Where it sits: `main` loads a [`Config`] once at startup and hands it to
//! the server; nothing else reads files or environment for settings.
//!
//! The flow is: text → `(key, value)` pairs ([`properties`] or
//! [`toml_source`]) → [`keys::apply`] each pair onto a [`Config`] (errors name
//! the key, the value and what was expected) → derived defaults
//! ([`keys::finish`]) → cross-field checks ([`Config::validate`]).
//!
//! Compatibility rule: every file Apache ZooKeeper 3.8 accepts means the same
//! here (same defaults, same derived values, e.g. clientPort without
//! clientPortAddress binds all interfaces), and every file it refuses is
//! refused (a file without dataDir too: "dataDir is not set"). Running with
//! no file at all uses ferrozk's defaults (127.0.0.1:2181, ./data); a file
//! without clientPort in standalone mode serves on 127.0.0.1:2181 (ZooKeeper
//! starts with no client port at all). Keys ZooKeeper reads as
//! `zookeeper.*` system properties may be written with or without that
//! prefix.

mod error;
mod four_letter;
mod keys;
pub mod properties;
mod server;
pub mod toml_source;
mod validate;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use four_letter::{FourLetterWords, KNOWN_COMMANDS};
pub use server::{ClientAddress, PeerType, QuorumServer};

/// Settings of one server. Field docs give the config key and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `tickTime`: the basic time unit in ms (session buckets, limits). 2000.
    pub tick_time_ms: u32,
    /// `dataDir`: snapshots (and the log unless `dataLogDir`). `./data`.
    pub data_dir: PathBuf,
    /// `dataLogDir`: transaction log directory; `None` means `data_dir`.
    pub data_log_dir: Option<PathBuf>,
    /// `clientPort`. `None` only in an ensemble whose `server.N` lines carry
    /// client addresses. Default 2181.
    pub client_port: Option<u16>,
    /// `clientPortAddress`: address to bind. `127.0.0.1` by default; a file
    /// that sets `clientPort` without it binds `0.0.0.0`, as ZooKeeper does.
    pub client_port_address: String,
    /// `secureClientPort` (TLS). Accepted but not supported: a warning.
    pub secure_client_port: Option<u16>,
    /// `secureClientPortAddress`. Accepted, unused.
    pub secure_client_port_address: Option<String>,
    /// `maxClientCnxns`: connections per client IP; 0 = unlimited. 60.
    pub max_client_cnxns: u32,
    /// `minSessionTimeout`; `None` = 2 × tick. See [`Config::min_session_timeout_ms`].
    pub min_session_timeout_ms: Option<u32>,
    /// `maxSessionTimeout`; `None` = 20 × tick. See [`Config::max_session_timeout_ms`].
    pub max_session_timeout_ms: Option<u32>,
    /// `initLimit`: ticks a follower may take to connect and sync. 0 = unset.
    pub init_limit: u32,
    /// `syncLimit`: ticks a follower may lag. 0 = unset.
    pub sync_limit: u32,
    /// `server.N` lines by id.
    pub servers: BTreeMap<u64, QuorumServer>,
    /// `peerType`: this server's role. Participant.
    pub peer_type: PeerType,
    /// `snapCount`: transactions between snapshots. 100000.
    pub snap_count: u32,
    /// `preAllocSize`: txn log preallocation in KiB; 0 = none. 65536.
    pub pre_alloc_size_kb: u64,
    /// `txnLogSizeLimitInKb`: a log file larger than this (on disk, its
    /// preallocation included) is rolled after the next sync, without a
    /// snapshot (FileTxnLog); 0 = no limit (ZooKeeper's -1). 0.
    pub txn_log_size_limit_kb: u64,
    /// `snapSizeLimitInKb`: snapshot once the logs since the last one pass
    /// half of this plus a random share of the other half
    /// (SyncRequestProcessor); 0 = off. 4194304 (4 GiB).
    pub snap_size_limit_kb: u64,
    /// `forceSync` (yes/no): fsync the log before acknowledging. yes.
    pub force_sync: bool,
    /// `autopurge.snapRetainCount`: snapshots kept by purging (≥ 3). 3.
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval`: hours between purges; 0 = off. 0.
    pub autopurge_purge_interval_hours: u32,
    /// `4lw.commands.whitelist`. `srvr` only (plus `isro` in read-only mode).
    pub four_letter_words: FourLetterWords,
    /// `admin.enableServer`: run the AdminServer (HTTP). true, as ZooKeeper.
    pub admin_enable_server: bool,
    /// `admin.serverAddress`. `0.0.0.0` when a file omits it (as
    /// ZooKeeper); `127.0.0.1` without a file.
    pub admin_server_address: String,
    /// `admin.serverPort`. 8080.
    pub admin_server_port: u16,
    /// `admin.commandURL`. `/commands`.
    pub admin_command_url: String,
    /// `admin.idleTimeout`: ms an AdminServer connection may be idle
    /// before it is closed (Jetty's connector idle timeout). 30000.
    pub admin_idle_timeout_ms: u64,
    /// `extendedTypesEnabled`: TTL nodes. false.
    pub extended_types_enabled: bool,
    /// `emulate353TTLNodes`: read 3.5.3's TTL owner encoding. false.
    pub emulate_353_ttl_nodes: bool,
    /// `znode.container.checkIntervalMs`. 60000.
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute`: container/TTL deletions per minute. 10000.
    pub container_max_per_minute: u32,
    /// `jute.maxbuffer`: largest packet in bytes. 0xfffff.
    pub jute_max_buffer: u32,
    /// `ferrozk.connection.maxQueuedBytes` (ferrozk only): watch events
    /// queued for one client connection and not yet written to its
    /// socket; past it the connection is closed (a client that stopped
    /// reading). 64 MiB.
    pub max_queued_bytes: u64,
    /// `superDigest` / `DigestAuthenticationProvider.superDigest`:
    /// `user:base64(sha1(user:password))` of the super user. None.
    pub super_digest: Option<String>,
    /// `skipACL` (yes/no). no.
    pub skip_acl: bool,
    /// `standaloneEnabled`. true.
    pub standalone_enabled: bool,
    /// `reconfigEnabled`. false.
    pub reconfig_enabled: bool,
    /// `globalOutstandingLimit`: queued requests before throttling. 1000.
    pub global_outstanding_limit: u32,
    /// `metricsProvider.*`, keyed by the part after the prefix (e.g.
    /// `className`). Accepted, unused.
    pub metrics_provider: BTreeMap<String, String>,
    /// `authProvider.*`, keyed by the part after the prefix. Accepted, unused.
    pub auth_providers: BTreeMap<String, String>,
    /// `quorumListenOnAllIPs`. false.
    pub quorum_listen_on_all_ips: bool,
    /// `localSessionsEnabled`. false.
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled`. false.
    pub local_sessions_upgrading_enabled: bool,
    /// `readonlymode.enabled`. false.
    pub read_only_mode_enabled: bool,
    /// `syncEnabled`: observers log and snapshot like followers. true.
    pub sync_enabled: bool,
    /// Keys ferrozk does not use, as written (after trimming), with values.
    pub extra: BTreeMap<String, String>,
    /// The file this configuration was read from, as read (the
    /// AdminServer's `initial_configuration` and `system_properties`);
    /// none for the embedded default. Not part of the settings: two
    /// configurations with the same settings are equal whatever their text.
    pub file_text: ConfigSource,
}

/// Where a configuration came from (see [`Config::file_text`]).
#[derive(Debug, Clone, Default)]
pub struct ConfigSource(pub Option<ConfigText>);

impl PartialEq for ConfigSource {
    fn eq(&self, _: &ConfigSource) -> bool {
        true
    }
}

impl Eq for ConfigSource {}

/// A configuration file's text, by syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigText {
    /// zoo.cfg (Java properties).
    Properties(String),
    /// TOML.
    Toml(String),
}

impl ConfigText {
    /// The text.
    pub fn text(&self) -> &str {
        match self {
            ConfigText::Properties(t) | ConfigText::Toml(t) => t,
        }
    }
}

impl Default for Config {
    /// A standalone server on 127.0.0.1:2181 with data in `./data`.
    fn default() -> Self {
        Config {
            tick_time_ms: 2000,
            data_dir: PathBuf::from("./data"),
            data_log_dir: None,
            client_port: Some(2181),
            client_port_address: "127.0.0.1".to_owned(),
            secure_client_port: None,
            secure_client_port_address: None,
            max_client_cnxns: 60,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            init_limit: 0,
            sync_limit: 0,
            servers: BTreeMap::new(),
            peer_type: PeerType::Participant,
            snap_count: 100_000,
            pre_alloc_size_kb: 65_536,
            txn_log_size_limit_kb: 0,
            snap_size_limit_kb: 4_194_304,
            force_sync: true,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            four_letter_words: FourLetterWords::default(),
            admin_enable_server: true,
            admin_server_address: "127.0.0.1".to_owned(),
            admin_server_port: 8080,
            admin_command_url: "/commands".to_owned(),
            admin_idle_timeout_ms: 30_000,
            extended_types_enabled: false,
            emulate_353_ttl_nodes: false,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            jute_max_buffer: 0xfffff,
            max_queued_bytes: 64 * 1024 * 1024,
            super_digest: None,
            skip_acl: false,
            standalone_enabled: true,
            reconfig_enabled: false,
            global_outstanding_limit: 1000,
            metrics_provider: BTreeMap::new(),
            auth_providers: BTreeMap::new(),
            quorum_listen_on_all_ips: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            read_only_mode_enabled: false,
            sync_enabled: true,
            extra: BTreeMap::new(),
            file_text: ConfigSource::default(),
        }
    }
}

impl Config {
    /// Read, parse and validate a config file. `.toml` is TOML; `.cfg`,
    /// `.conf` and `.properties` are zoo.cfg syntax. Errors carry the path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let is_toml = match ext.to_ascii_lowercase().as_str() {
            "toml" => true,
            "cfg" | "conf" | "properties" => false,
            _ => {
                return Err(ConfigError::UnknownFormat {
                    path: path.to_owned(),
                })
            }
        };
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = properties::decode(&bytes);
        let parsed = if is_toml {
            Config::from_toml_str(&text)
        } else {
            Config::from_properties_str(&text)
        };
        let file_text = if is_toml {
            ConfigText::Toml(text)
        } else {
            ConfigText::Properties(text)
        };
        parsed
            .map(|mut c| {
                c.file_text = ConfigSource(Some(file_text));
                c
            })
            .map_err(|error| ConfigError::InFile {
                path: path.to_owned(),
                error: Box::new(error),
            })
    }

    /// Parse and validate zoo.cfg text.
    pub fn from_properties_str(text: &str) -> Result<Config, ConfigError> {
        let entries = properties::parse(text)?;
        Config::from_pairs(entries.into_iter().map(|e| (e.key, e.value)))
    }

    /// Parse and validate TOML text (tables flatten to dotted keys).
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        Config::from_pairs(toml_source::flatten(text)?)
    }

    /// Build a validated config from `(key, value)` pairs. Keys and values
    /// are trimmed; a later duplicate key replaces an earlier one; keys are
    /// then applied in sorted order so warnings come out reproducibly.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let trim = |s: &str| s.trim_matches(|c: char| c <= ' ').to_owned();
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (trim(&k), trim(&v)))
            .collect();
        let mut builder = keys::Builder::default();
        for (key, value) in &map {
            builder.apply(key, value)?;
        }
        let config = builder.finish()?;
        config.validate()?;
        Ok(config)
    }

    /// Cross-field checks; every error names the keys involved. Parsing runs
    /// this; call it again after changing a config in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }

    /// The effective minimum session timeout: set, or 2 × tickTime.
    pub fn min_session_timeout_ms(&self) -> u32 {
        self.min_session_timeout_ms
            .unwrap_or(self.tick_time_ms.saturating_mul(2))
    }

    /// The effective maximum session timeout: set, or 20 × tickTime.
    pub fn max_session_timeout_ms(&self) -> u32 {
        self.max_session_timeout_ms
            .unwrap_or(self.tick_time_ms.saturating_mul(20))
    }

    /// Where the transaction log goes: `dataLogDir`, else `dataDir`.
    pub fn data_log_dir(&self) -> &Path {
        self.data_log_dir.as_deref().unwrap_or(&self.data_dir)
    }

    /// Number of voting members among `server.N`.
    pub fn participants(&self) -> usize {
        let voting = |s: &&QuorumServer| s.peer_type == PeerType::Participant;
        self.servers.values().filter(voting).count()
    }

    /// Whether this is an ensemble rather than a standalone server
    /// (`QuorumPeerConfig.isDistributed`): more than one voter, or
    /// standalone mode disabled.
    pub fn is_distributed(&self) -> bool {
        !self.standalone_enabled || self.participants() > 1
    }

    /// The client listen address as `host:port` (IPv6 hosts bracketed), if a
    /// client port is configured.
    pub fn client_listen_address(&self) -> Option<String> {
        let port = self.client_port?;
        let host = &self.client_port_address;
        Some(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        })
    }
}

#[cfg(test)]
mod tests;
