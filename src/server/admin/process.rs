//! The commands about the process: `environment`, `system_properties`,
//! `get_trace_mask`, `set_trace_mask` — the ones ZooKeeper answers
//! whatever the server's state.
//!
//! `environment` is the `envi` word's list (ZooKeeper's
//! `Environment.list()`). `system_properties` is the JVM's property table
//! in ZooKeeper; ferrozk has no JVM, so it reports the properties that
//! describe the process the same way (`os.*`, `user.*`, `file.separator`,
//! …, from the same sources as `environment`) and, as ZooKeeper does for
//! zoo.cfg keys it does not consume itself, every key of the
//! configuration file as `zookeeper.<key>` — the `java.*`/`sun.*`/`jdk.*`
//! properties of a JVM have no counterpart and are left out. The trace
//! mask is the process-wide one `gtmk`/`stmk` read and set.

use std::collections::BTreeMap;

use serde::Serialize;

use super::commands::{Answer, View};
use super::json::{self, Entries};
use crate::config::{properties, toml_source, ConfigText};
use crate::server::fourlw;

/// `environment`.
pub fn environment(_v: &View<'_>) -> Entries<&'static str, String> {
    Entries(fourlw::environment())
}

/// `system_properties`: sorted by name, as ZooKeeper sorts them.
pub fn system_properties(v: &View<'_>) -> Entries<String, String> {
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    for (k, val) in fourlw::environment() {
        if !val.is_empty() && val != "<NA>" && !k.starts_with("java.") && !k.contains("memory") {
            props.insert(k.to_owned(), val);
        }
    }
    props.remove("zookeeper.version");
    props.remove("host.name");
    for (k, val) in [
        ("file.separator", "/"),
        ("path.separator", ":"),
        ("line.separator", "\n"),
        ("file.encoding", "UTF-8"),
        ("native.encoding", "UTF-8"),
    ] {
        props.insert(k.to_owned(), val.to_owned());
    }
    props.insert(
        "java.io.tmpdir".to_owned(),
        std::env::temp_dir().display().to_string(),
    );
    for (k, val) in config_keys(v.core.opts.admin.config_text.as_ref()) {
        props.insert(format!("zookeeper.{k}"), val);
    }
    Entries(props.into_iter().collect())
}

/// The zoo.cfg keys `QuorumPeerConfig.parseProperties` consumes itself;
/// every other key becomes the system property `zookeeper.<key>`.
const CONSUMED: &[&str] = &[
    "dataDir",
    "dataLogDir",
    "clientPort",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "clientPortAddress",
    "clientPortListenBacklog",
    "secureClientPort",
    "secureClientPortAddress",
    "observerMasterPort",
    "tickTime",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "electionAlg",
    "quorumListenOnAllIPs",
    "peerType",
    "syncEnabled",
    "dynamicConfigFile",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "standaloneEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.enableSasl",
    "quorum.auth.serverRequireSasl",
    "quorum.auth.learnerRequireSasl",
    "quorum.auth.learner.saslLoginContext",
    "quorum.auth.server.saslLoginContext",
    "quorum.auth.kerberos.servicePrincipal",
    "quorum.cnxn.threads.size",
    "jvm.pause.info-threshold.ms",
    "jvm.pause.warn-threshold.ms",
    "jvm.pause.sleep.time.ms",
    "jvm.pause.monitor",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckTimeoutMs",
    "multiAddress.reachabilityCheckEnabled",
    "oraclePath",
];

fn consumed(key: &str) -> bool {
    CONSUMED.contains(&key)
        || ["server.", "group", "weight", "metricsProvider."]
            .iter()
            .any(|p| key.starts_with(p))
}

/// The keys of the configuration file that ZooKeeper turns into system
/// properties, with their values, as the configuration reader sees them
/// (zoo.cfg with Java's `Properties` rules; a TOML file's keys flattened
/// to ZooKeeper's dotted names).
fn config_keys(text: Option<&ConfigText>) -> Vec<(String, String)> {
    let pairs = match text {
        None => Vec::new(),
        Some(ConfigText::Properties(t)) => properties::parse(t)
            .map(|entries| entries.into_iter().map(|e| (e.key, e.value)).collect())
            .unwrap_or_default(),
        Some(ConfigText::Toml(t)) => toml_source::flatten(t).unwrap_or_default(),
    };
    let trim = |s: &str| s.trim_matches(|c: char| c <= ' ').to_owned();
    pairs
        .into_iter()
        .map(|(k, val)| (trim(&k), trim(&val)))
        .filter(|(k, _)| !consumed(k))
        .collect()
}

/// `get_trace_mask`.
#[derive(Serialize)]
pub struct TraceMask {
    tracemask: i64,
}

pub fn get_trace_mask(_v: &View<'_>) -> TraceMask {
    TraceMask {
        tracemask: fourlw::trace::mask(),
    }
}

/// `set_trace_mask?traceMask=N`: sets the process's trace mask (an
/// atomic, as ZooKeeper's static `ZooTrace` field: nothing of the core
/// changes) and answers it.
pub fn set_trace_mask(v: &View<'_>, p: &str) -> Answer {
    let body = match v.param("traceMask") {
        None => json::data_error(p, "setTraceMask requires long traceMask argument"),
        Some(s) => match s.parse::<i64>() {
            Ok(mask) => {
                fourlw::trace::set_mask(mask);
                json::ok(p, &TraceMask { tracemask: mask })
            }
            Err(_) => json::data_error(
                p,
                &format!("setTraceMask requires long traceMask argument, got {s}"),
            ),
        },
    };
    Answer { body, reset: None }
}
