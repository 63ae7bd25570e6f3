//! Cross-field checks, after `QuorumPeerConfig.parseProperties`,
//! `parseDynamicConfig` and `checkValidity`. Each error names the keys.

use tracing::warn;

use super::error::ConfigError;
use super::keys::{super_digest, MIN_SNAP_RETAIN_COUNT};
use super::server::PeerType;
use super::Config;

/// Check a whole config.
pub fn validate(c: &Config) -> Result<(), ConfigError> {
    single_values(c)?;
    session_bounds(c)?;
    ensemble(c)
}

/// Values a parsed file cannot produce but a config built in code can.
fn single_values(c: &Config) -> Result<(), ConfigError> {
    if c.tick_time_ms == 0 {
        return Err(ConfigError::invalid(
            "tickTime",
            "0",
            "a positive number of milliseconds",
        ));
    }
    if c.autopurge_snap_retain_count < MIN_SNAP_RETAIN_COUNT {
        let v = c.autopurge_snap_retain_count.to_string();
        return Err(ConfigError::invalid(
            "autopurge.snapRetainCount",
            &v,
            "at least 3",
        ));
    }
    if c.jute_max_buffer == 0 {
        return Err(ConfigError::invalid(
            "jute.maxbuffer",
            "0",
            "a positive byte count",
        ));
    }
    if let Some(digest) = &c.super_digest {
        super_digest("superDigest", digest)?;
    }
    Ok(())
}

fn session_bounds(c: &Config) -> Result<(), ConfigError> {
    let (min, max) = (c.min_session_timeout_ms(), c.max_session_timeout_ms());
    if min > max {
        return Err(ConfigError::conflict(
            "minSessionTimeout",
            "maxSessionTimeout",
            format!("minimum {min} ms is larger than maximum {max} ms (unset bounds are 2 and 20 ticks)"),
        ));
    }
    Ok(())
}

/// The `server.N` list against standalone mode, limits and client ports.
fn ensemble(c: &Config) -> Result<(), ConfigError> {
    let participants = c.participants();
    let first_observer = c
        .servers
        .values()
        .find(|s| s.peer_type == PeerType::Observer)
        .map(|s| format!("server.{}", s.id));

    if participants == 0 {
        if !c.standalone_enabled {
            return Err(ConfigError::missing(
                "server.N",
                "standaloneEnabled=false needs at least one participant",
            ));
        }
        if let Some(observer) = first_observer {
            return Err(ConfigError::conflict(
                &observer,
                "server.N",
                "observers need participants",
            ));
        }
        return Ok(());
    }
    if participants == 1 && c.standalone_enabled {
        // ZooKeeper logs this as an error but runs standalone.
        warn!(
            key = "server.N",
            "only one server listed; running standalone and ignoring it"
        );
        if let Some(observer) = first_observer {
            return Err(ConfigError::conflict(
                &observer,
                "standaloneEnabled",
                "observers need a quorum (set standaloneEnabled=false or add participants)",
            ));
        }
        return Ok(());
    }
    if participants <= 2 {
        warn!(
            participants,
            "no server failure will be tolerated; you need at least 3 servers"
        );
    } else if participants.is_multiple_of(2) {
        warn!(
            participants,
            "non-optimal configuration; consider an odd number of servers"
        );
    }
    if c.init_limit == 0 {
        return Err(ConfigError::missing(
            "initLimit",
            "required when server.N lists an ensemble",
        ));
    }
    if c.sync_limit == 0 {
        return Err(ConfigError::missing(
            "syncLimit",
            "required when server.N lists an ensemble",
        ));
    }
    if c.client_port.is_none() {
        if let Some(s) = c.servers.values().find(|s| s.client.is_none()) {
            return Err(ConfigError::missing(
                "clientPort",
                format!("server.{} has no ;clientPort of its own", s.id),
            ));
        }
    }
    Ok(())
}
