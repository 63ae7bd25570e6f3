//! The AdminServer's commands: ZooKeeper 3.8's table (`admin.Commands`) —
//! each command's primary name, its aliases, and whether it needs a
//! serving server — and [`run`], which answers one from a view of the
//! core, on the driver, as the four-letter words do.
//!
//! 3.9's `snapshot` and `restore` are not in 3.8's table: asking for them
//! answers "Unknown command", as ZooKeeper 3.8 does.

use super::{json, process, quorum, server, tree};
use crate::server::core::{Core, Reset};
use crate::server::durability::SyncStats;

/// ZooKeeper's answer for a command that needs a serving server while
/// this one elects or syncs.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Which command it is (one variant per row of the table, so the
/// dispatch in [`run`] is checked to be complete).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ConnectionStatReset,
    Configuration,
    Connections,
    Hash,
    Dirs,
    Dump,
    Environment,
    GetTraceMask,
    InitialConfiguration,
    IsReadOnly,
    LastSnapshot,
    Leader,
    Monitor,
    ObserverConnectionStatReset,
    Ruok,
    SetTraceMask,
    ServerStats,
    Stats,
    StatReset,
    Observers,
    SystemProperties,
    VotingView,
    Watches,
    WatchesByPath,
    WatchSummary,
    ZabState,
}

/// One command of the table.
#[derive(Debug)]
pub struct Command {
    /// Which one.
    pub kind: Kind,
    /// The name responses carry (`"command"`) and the list page links.
    pub primary: &'static str,
    /// Every name it answers to, the primary first.
    pub names: &'static [&'static str],
    /// Refused with [`NOT_SERVING`] unless the server serves
    /// (`CommandBase.serverRequired`).
    pub server_required: bool,
}

const fn cmd(kind: Kind, names: &'static [&'static str], server_required: bool) -> Command {
    Command {
        kind,
        primary: names[0],
        names,
        server_required,
    }
}

/// ZooKeeper 3.8's commands, with their aliases (`Commands` static block).
pub const COMMANDS: &[Command] = &[
    cmd(
        Kind::ConnectionStatReset,
        &["connection_stat_reset", "crst"],
        true,
    ),
    cmd(
        Kind::Configuration,
        &["configuration", "conf", "config"],
        true,
    ),
    cmd(Kind::Connections, &["connections", "cons"], true),
    cmd(Kind::Hash, &["hash"], true),
    cmd(Kind::Dirs, &["dirs"], true),
    cmd(Kind::Dump, &["dump"], true),
    cmd(Kind::Environment, &["environment", "env", "envi"], false),
    cmd(Kind::GetTraceMask, &["get_trace_mask", "gtmk"], false),
    cmd(
        Kind::InitialConfiguration,
        &["initial_configuration", "icfg"],
        true,
    ),
    cmd(Kind::IsReadOnly, &["is_read_only", "isro"], true),
    cmd(Kind::LastSnapshot, &["last_snapshot", "lsnp"], true),
    cmd(Kind::Leader, &["leader", "lead"], true),
    cmd(Kind::Monitor, &["monitor", "mntr"], false),
    cmd(
        Kind::ObserverConnectionStatReset,
        &["observer_connection_stat_reset", "orst"],
        true,
    ),
    cmd(Kind::Ruok, &["ruok"], true),
    cmd(Kind::SetTraceMask, &["set_trace_mask", "stmk"], false),
    cmd(Kind::ServerStats, &["server_stats", "srvr"], true),
    cmd(Kind::Stats, &["stats", "stat"], true),
    cmd(Kind::StatReset, &["stat_reset", "srst"], true),
    cmd(Kind::Observers, &["observers", "obsr"], true),
    cmd(
        Kind::SystemProperties,
        &["system_properties", "sysp"],
        false,
    ),
    cmd(Kind::VotingView, &["voting_view"], true),
    cmd(Kind::Watches, &["watches", "wchc"], true),
    cmd(Kind::WatchesByPath, &["watches_by_path", "wchp"], true),
    cmd(Kind::WatchSummary, &["watch_summary", "wchs"], true),
    cmd(Kind::ZabState, &["zabstate"], false),
];

/// The command answering to `name` (a primary name or an alias).
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// The primary names, sorted (the list page's order).
pub fn primary_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = COMMANDS.iter().map(|c| c.primary).collect();
    v.sort_unstable();
    v
}

/// A command's answer, and what it changes (the driver feeds that to the
/// core as an input: commands only read a view of the core).
#[derive(Debug)]
pub struct Answer {
    /// The JSON body.
    pub body: String,
    /// `stat_reset` / `connection_stat_reset`.
    pub reset: Option<Reset>,
}

impl Answer {
    fn body(body: String) -> Answer {
        Answer { body, reset: None }
    }
}

/// What a command reads.
pub struct View<'a> {
    /// The core.
    pub core: &'a Core,
    /// The log thread's counters.
    pub log: &'a SyncStats,
    /// The query parameters, in order (the first of a repeated key counts).
    pub params: &'a [(String, String)],
}

impl View<'_> {
    /// The first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs command `name` (as asked) against a view of the core.
pub fn run(core: &Core, log: &SyncStats, name: &str, params: &[(String, String)]) -> Answer {
    let Some(c) = find(name) else {
        return Answer::body(json::refused(name, &format!("Unknown command: {name}")));
    };
    if c.server_required && !core.serving() {
        return Answer::body(json::refused(name, NOT_SERVING));
    }
    let v = View { core, log, params };
    let p = c.primary;
    let reset = |reset| Answer {
        body: json::ok(p, &server::Nothing {}),
        reset: Some(reset),
    };
    let body = match c.kind {
        Kind::Configuration => json::ok(p, &server::configuration(&v)),
        Kind::Connections => json::ok(p, &server::connections(&v)),
        Kind::Dirs => json::ok(p, &server::dirs(&v)),
        Kind::InitialConfiguration => json::ok(p, &server::initial_configuration(&v)),
        Kind::IsReadOnly => json::ok(p, &server::is_read_only()),
        Kind::LastSnapshot => json::ok(p, &server::last_snapshot(&v)),
        Kind::ServerStats => json::ok(p, &server::server_stats(&v)),
        Kind::Stats => json::ok(p, &server::stats(&v)),
        Kind::Ruok => json::ok(p, &server::Nothing {}),
        Kind::ObserverConnectionStatReset => return reset(Reset::Observers),
        Kind::StatReset => return reset(Reset::Stats),
        Kind::ConnectionStatReset => return reset(Reset::Connections),
        Kind::Monitor => monitor(&v, p),
        Kind::Dump => json::ok(p, &tree::dump(&v)),
        Kind::Hash => json::ok(p, &tree::hash(&v)),
        Kind::Watches => json::ok(p, &tree::watches(&v)),
        Kind::WatchesByPath => json::ok(p, &tree::watches_by_path(&v)),
        Kind::WatchSummary => json::ok(p, &tree::watch_summary(&v)),
        Kind::Leader => match quorum::leader(&v) {
            Some(l) => json::ok(p, &l),
            None => json::data_error(p, "server is not initialized"),
        },
        Kind::Observers => json::ok(p, &quorum::observers(&v)),
        Kind::VotingView => json::ok(p, &quorum::voting_view(&v)),
        Kind::ZabState => quorum::zabstate(&v, p),
        Kind::Environment => json::ok(p, &process::environment(&v)),
        Kind::SystemProperties => json::ok(p, &process::system_properties(&v)),
        Kind::GetTraceMask => json::ok(p, &process::get_trace_mask(&v)),
        Kind::SetTraceMask => return process::set_trace_mask(&v, p),
    };
    Answer::body(body)
}

/// `monitor`: the values `mntr` prints, typed. ZooKeeper 3.8 fails with a
/// NullPointerException (HTTP 500) while it does not serve; ferrozk
/// answers the not-serving error of the other commands instead.
fn monitor(v: &View<'_>, p: &str) -> String {
    use crate::server::metrics::{monitor, MonitorValue};
    if !v.core.serving() {
        return json::refused(p, NOT_SERVING);
    }
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Value<'a> {
        Int(i64),
        Float(f64),
        Text(&'a str),
    }
    let values = monitor(v.core, v.log);
    let entries = json::Entries(
        values
            .iter()
            .map(|(k, val)| {
                let val = match val {
                    MonitorValue::Int(n) => Value::Int(*n),
                    MonitorValue::Float(x) => Value::Float(*x),
                    MonitorValue::Text(s) => Value::Text(s),
                };
                (k.as_str(), val)
            })
            .collect(),
    );
    json::ok(p, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_zookeepers() {
        assert_eq!(COMMANDS.len(), 26);
        assert_eq!(find("mntr").map(|c| c.primary), Some("monitor"));
        assert_eq!(find("srvr").map(|c| c.primary), Some("server_stats"));
        assert_eq!(find("stat").map(|c| c.primary), Some("stats"));
        assert_eq!(find("config").map(|c| c.primary), Some("configuration"));
        assert!(find("snapshot").is_none() && find("restore").is_none());
        let names = primary_names();
        assert_eq!(names.first(), Some(&"configuration"));
        assert_eq!(names.last(), Some(&"zabstate"));
        let mut all: Vec<&str> = COMMANDS
            .iter()
            .flat_map(|c| c.names.iter().copied())
            .collect();
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n, "no name answers for two commands");
    }
}
