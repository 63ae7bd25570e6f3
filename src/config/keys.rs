//! The key table: what each config key sets, and the defaults that depend on
//! other keys. Key names and meanings follow `QuorumPeerConfig.parseProperties`
//! and the `zookeeper.*` system properties that zoo.cfg keys turn into.

use tracing::warn;

use super::error::ConfigError;
use super::four_letter::FourLetterWords;
use super::server::{PeerType, QuorumServer};
use super::values::{boolean, number, port, yes_no};
use super::Config;

/// Every exact key `apply` understands, for alias matching in TOML.
pub const KNOWN_KEYS: &[&str] = &[
    "tickTime",
    "dataDir",
    "dataLogDir",
    "clientPort",
    "clientPortAddress",
    "secureClientPort",
    "secureClientPortAddress",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "peerType",
    "snapCount",
    "preAllocSize",
    "txnLogSizeLimitInKb",
    "snapSizeLimitInKb",
    "electionAlg",
    "forceSync",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "4lw.commands.whitelist",
    "admin.enableServer",
    "admin.serverAddress",
    "admin.serverPort",
    "admin.commandURL",
    "admin.idleTimeout",
    "extendedTypesEnabled",
    "emulate353TTLNodes",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "jute.maxbuffer",
    "superDigest",
    "DigestAuthenticationProvider.superDigest",
    "skipACL",
    "standaloneEnabled",
    "reconfigEnabled",
    "globalOutstandingLimit",
    "quorumListenOnAllIPs",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "readonlymode.enabled",
    "syncEnabled",
    "ferrozk.connection.maxQueuedBytes",
];

/// Prefixes of key families `apply` understands.
pub const KNOWN_PREFIXES: &[&str] = &["server.", "metricsProvider.", "authProvider."];

/// ZooKeeper settings ferrozk recognises but does not implement: kept in
/// `extra` with a warning that says so, rather than "unknown key".
const UNSUPPORTED_PREFIXES: &[&str] = &[
    "observerMasterPort",
    "clientPortListenBacklog",
    "connectToLearnerMasterLimit",
    "dynamicConfigFile",
    "sslQuorum",
    "portUnification",
    "quorum.auth.",
    "quorum.cnxn.threads.size",
    "multiAddress.",
    "group.",
    "weight.",
    "oraclePath",
    "jvm.pause.",
    "audit.enable",
    "serverCnxnFactory",
    "ssl.",
    "maxCnxns",
    "learner.",
    "fips-mode",
];

/// Applies keys to a [`Config`], remembering which ones were present where
/// that changes a default.
#[derive(Debug, Default)]
pub struct Builder {
    config: Config,
    client_port: Option<u16>,
    client_port_address: Option<String>,
    data_dir_set: bool,
    admin_address_set: bool,
}

impl Builder {
    /// Apply one trimmed `key=value`.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let c = &mut self.config;
        // zoo.cfg keys become `zookeeper.<key>` system properties in
        // ZooKeeper; accept that spelling too.
        let name = match key.strip_prefix("zookeeper.") {
            Some(rest) if is_known(rest) => rest,
            _ => key,
        };
        match name {
            "tickTime" => c.tick_time_ms = number(key, value)?,
            "dataDir" => {
                c.data_dir = path(key, value)?;
                self.data_dir_set = true;
            }
            "dataLogDir" => c.data_log_dir = Some(path(key, value)?),
            "clientPort" => self.client_port = Some(port(key, value)?),
            "clientPortAddress" => self.client_port_address = Some(host(key, value)?),
            "secureClientPort" => {
                warn!(
                    key,
                    "TLS client connections are not supported; ignoring the secure port"
                );
                c.secure_client_port = Some(port(key, value)?);
            }
            "secureClientPortAddress" => c.secure_client_port_address = Some(host(key, value)?),
            "maxClientCnxns" => c.max_client_cnxns = number(key, value)?,
            "minSessionTimeout" => c.min_session_timeout_ms = optional_ms(key, value)?,
            "maxSessionTimeout" => c.max_session_timeout_ms = optional_ms(key, value)?,
            "initLimit" => c.init_limit = number(key, value)?,
            "syncLimit" => c.sync_limit = number(key, value)?,
            "peerType" => c.peer_type = PeerType::parse(key, value)?,
            // System properties in ZooKeeper (`zookeeper.<key>`), read with
            // Integer.getInteger / Long.getLong / String.equals: a bad value
            // is a warning and the default, never a refusal.
            "snapCount" => {
                let n: u32 = lenient(key, value, 100_000);
                c.snap_count = if n < 2 {
                    warn!(key, value, "snapCount should be 2 or more; using 2");
                    2
                } else {
                    n
                };
            }
            // QuorumPeerConfig: "Invalid electionAlg value. Only 3 is supported."
            "electionAlg" => {
                if number::<u32>(key, value).ok() != Some(3) {
                    return Err(ConfigError::invalid(
                        key,
                        value,
                        "3 (fast leader election, the only one ZooKeeper 3.8 supports)",
                    ));
                }
            }
            "preAllocSize" => c.pre_alloc_size_kb = lenient(key, value, 65_536),
            "txnLogSizeLimitInKb" => {
                c.txn_log_size_limit_kb = lenient_signed(key, value, -1).max(0) as u64
            }
            "snapSizeLimitInKb" => {
                c.snap_size_limit_kb = lenient_signed(key, value, 4_194_304).max(0) as u64
            }
            "forceSync" => {
                // FileTxnLog: anything but "no" syncs.
                c.force_sync = yes_no(key, value).unwrap_or_else(|_| {
                    warn!(
                        key,
                        value, "not yes or no; syncing (only \"no\" turns fsync off)"
                    );
                    true
                })
            }
            "autopurge.snapRetainCount" => c.autopurge_snap_retain_count = number(key, value)?,
            "autopurge.purgeInterval" => c.autopurge_purge_interval_hours = number(key, value)?,
            "4lw.commands.whitelist" => {
                let (words, unknown) = FourLetterWords::parse(value);
                for command in unknown {
                    warn!(key, command, "not a ZooKeeper four-letter word");
                }
                c.four_letter_words = words;
            }
            "admin.enableServer" => c.admin_enable_server = boolean(key, value)?,
            "admin.serverAddress" => {
                c.admin_server_address = host(key, value)?;
                self.admin_address_set = true;
            }
            "admin.serverPort" => c.admin_server_port = port(key, value)?,
            "admin.commandURL" => c.admin_command_url = value.to_owned(),
            "admin.idleTimeout" => c.admin_idle_timeout_ms = number(key, value)?,
            "extendedTypesEnabled" => c.extended_types_enabled = boolean(key, value)?,
            "emulate353TTLNodes" => c.emulate_353_ttl_nodes = boolean(key, value)?,
            "znode.container.checkIntervalMs" => {
                c.container_check_interval_ms = positive(key, value)?
            }
            "znode.container.maxPerMinute" => c.container_max_per_minute = positive(key, value)?,
            "jute.maxbuffer" => {
                c.jute_max_buffer = jute_max_buffer(key, value).unwrap_or_else(|e| {
                    warn!("{e}; using the default {}", 0xfffff);
                    0xfffff
                })
            }
            "ferrozk.connection.maxQueuedBytes" => {
                c.max_queued_bytes = match number::<u64>(key, value)? {
                    0 => return Err(ConfigError::invalid(key, value, "a positive byte count")),
                    n => n,
                }
            }
            "superDigest" | "DigestAuthenticationProvider.superDigest" => {
                c.super_digest = Some(super_digest(key, value)?)
            }
            "skipACL" => {
                // ZooKeeperServer: only "yes" skips ACL checks.
                c.skip_acl = yes_no(key, value).unwrap_or_else(|_| {
                    warn!(
                        key,
                        value, "not yes or no; checking ACLs (only \"yes\" skips them)"
                    );
                    false
                })
            }
            "standaloneEnabled" => c.standalone_enabled = boolean(key, value)?,
            "reconfigEnabled" => c.reconfig_enabled = boolean(key, value)?,
            "globalOutstandingLimit" => c.global_outstanding_limit = lenient(key, value, 1000),
            "quorumListenOnAllIPs" => c.quorum_listen_on_all_ips = boolean(key, value)?,
            "localSessionsEnabled" => c.local_sessions_enabled = boolean(key, value)?,
            "localSessionsUpgradingEnabled" => {
                c.local_sessions_upgrading_enabled = boolean(key, value)?
            }
            "readonlymode.enabled" => c.read_only_mode_enabled = boolean(key, value)?,
            "syncEnabled" => c.sync_enabled = boolean(key, value)?,
            _ => return self.apply_family(key, name, value),
        }
        Ok(())
    }

    /// Prefixed key families, then the unknown.
    fn apply_family(&mut self, key: &str, name: &str, value: &str) -> Result<(), ConfigError> {
        let c = &mut self.config;
        if name.starts_with("server.") {
            let server = QuorumServer::parse(name, value)?;
            c.servers.insert(server.id, server);
        } else if let Some(rest) = name.strip_prefix("metricsProvider.") {
            c.metrics_provider.insert(rest.to_owned(), value.to_owned());
        } else if let Some(rest) = name.strip_prefix("authProvider.") {
            c.auth_providers.insert(rest.to_owned(), value.to_owned());
        } else {
            if UNSUPPORTED_PREFIXES.iter().any(|p| name.starts_with(p)) {
                warn!(key, "ZooKeeper setting not supported by ferrozk; ignored");
            } else {
                warn!(key, "unknown config key; ignored");
            }
            c.extra.insert(key.to_owned(), value.to_owned());
        }
        Ok(())
    }

    /// Fill in defaults that depend on which keys were present.
    pub fn finish(self) -> Result<Config, ConfigError> {
        let Builder {
            mut config,
            client_port,
            client_port_address,
            data_dir_set,
            admin_address_set,
        } = self;
        // A file that does not say where the AdminServer listens gets
        // ZooKeeper's wildcard; running with no file at all keeps it on
        // loopback, like the client port.
        if !admin_address_set {
            config.admin_server_address = "0.0.0.0".to_owned();
        }
        // QuorumPeerConfig refuses a file without dataDir; only running with
        // no file at all uses ferrozk's ./data.
        if !data_dir_set {
            return Err(ConfigError::missing(
                "dataDir",
                "every configuration file must say where the data lives",
            ));
        }
        match (client_port, client_port_address) {
            (Some(port), address) => {
                config.client_port = Some(port);
                // ZooKeeper: clientPort alone binds the wildcard address.
                config.client_port_address = address.unwrap_or_else(|| "0.0.0.0".to_owned());
            }
            (None, Some(_)) => {
                return Err(ConfigError::missing(
                    "clientPort",
                    "clientPortAddress is set but clientPort is not",
                ))
            }
            (None, None) if config.is_distributed() => config.client_port = None,
            (None, None) => {} // standalone: ferrozk's default 127.0.0.1:2181
        }
        if config.secure_client_port_address.is_some() && config.secure_client_port.is_none() {
            return Err(ConfigError::missing(
                "secureClientPort",
                "secureClientPortAddress is set but secureClientPort is not",
            ));
        }
        if config.autopurge_snap_retain_count < MIN_SNAP_RETAIN_COUNT {
            warn!(
                key = "autopurge.snapRetainCount",
                value = config.autopurge_snap_retain_count,
                "below the minimum; using {MIN_SNAP_RETAIN_COUNT}"
            );
            config.autopurge_snap_retain_count = MIN_SNAP_RETAIN_COUNT;
        }
        config.four_letter_words.enable("srvr");
        if config.read_only_mode_enabled {
            config.four_letter_words.enable("isro");
        }
        Ok(config)
    }
}

/// `PurgeTxnLog` never keeps fewer snapshots than this.
pub const MIN_SNAP_RETAIN_COUNT: u32 = 3;

/// Whether `name` is a key or key family `apply` handles.
pub fn is_known(name: &str) -> bool {
    KNOWN_KEYS.contains(&name) || KNOWN_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn path(key: &str, value: &str) -> Result<std::path::PathBuf, ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::invalid(key, value, "a directory path"));
    }
    Ok(value.into())
}

fn host(key: &str, value: &str) -> Result<String, ConfigError> {
    let bare = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
    let host = bare.unwrap_or(value);
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(ConfigError::invalid(
            key,
            value,
            "a host name or IP address",
        ));
    }
    Ok(host.to_owned())
}

/// A number read as ZooKeeper reads a system property (`Integer.getInteger`,
/// `Long.getLong`): a value that does not parse is a warning, and the
/// default is used (the words of FilePadding's "is not a valid value for").
fn lenient<T: std::str::FromStr + std::fmt::Display>(key: &str, value: &str, default: T) -> T {
    number(key, value).unwrap_or_else(|_| {
        warn!("{value} is not a valid value for {key}; using the default {default}");
        default
    })
}

/// [`lenient`] for a signed setting (`-1` or `0` turn a limit off).
fn lenient_signed(key: &str, value: &str, default: i64) -> i64 {
    match value.parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            warn!("{value} is not a valid value for {key}; using the default {default}");
            default
        }
    }
}

fn positive<T: std::str::FromStr + PartialEq + Default>(
    key: &str,
    value: &str,
) -> Result<T, ConfigError> {
    let n: T = number(key, value)?;
    if n == T::default() {
        return Err(ConfigError::invalid(key, value, "a number greater than 0"));
    }
    Ok(n)
}

/// Session timeout bounds: `-1` means unset, as in ZooKeeper.
fn optional_ms(key: &str, value: &str) -> Result<Option<u32>, ConfigError> {
    if value == "-1" {
        return Ok(None);
    }
    number(key, value).map(Some).map_err(|_| {
        ConfigError::invalid(
            key,
            value,
            "milliseconds as a non-negative whole number (or -1 for the default)",
        )
    })
}

/// `jute.maxbuffer`: ZooKeeper reads it with `Integer.getInteger`, which
/// decodes `0x` hex as well as decimal (we do not copy its octal reading of a
/// leading `0`).
fn jute_max_buffer(key: &str, value: &str) -> Result<u32, ConfigError> {
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => number::<u32>(key, value).ok(),
    };
    match parsed {
        Some(n) if n > 0 && n <= i32::MAX as u32 => Ok(n),
        _ => Err(ConfigError::invalid(
            key,
            value,
            "a positive byte count (decimal or 0x hex)",
        )),
    }
}

/// `user:base64(sha1("user:password"))`, as `DigestAuthenticationProvider`
/// compares it (a 20-byte SHA-1 digest is 28 base64 characters).
pub fn super_digest(key: &str, value: &str) -> Result<String, ConfigError> {
    use base64::Engine;
    let expected = "user:digest where digest is base64(sha1(\"user:password\"))";
    let (user, digest) = value
        .rsplit_once(':')
        .ok_or_else(|| ConfigError::invalid(key, value, expected))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(digest);
    match decoded {
        Ok(bytes) if !user.is_empty() && bytes.len() == 20 => Ok(value.to_owned()),
        _ => Err(ConfigError::invalid(key, value, expected)),
    }
}
