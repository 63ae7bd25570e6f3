//! Four-letter words: plain-text status commands on the client port.
//!
//! A command runs only if `4lw.commands.whitelist` lists it (or is `*`);
//! otherwise the answer is ZooKeeper's "is not executed" line.

use std::fmt::Write as _;

use super::core::{Core, Reset};
use super::durability::SyncStats;

const COMMANDS: &[&str] = &[
    "ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "wchc", "wchp", "dump", "isro",
    "srst", "crst",
];

/// Whether `word` is a four-letter word (so the first bytes are not a length).
pub fn is_command(word: &str) -> bool {
    COMMANDS.contains(&word)
}

/// The version string clients and tools see.
pub const VERSION: &str = concat!("3.8.0-ferrozk-", env!("CARGO_PKG_VERSION"));

/// A command's answer, and the counters it resets (the runtime passes
/// that to the core as an input: words only read a view of the core).
#[derive(Debug)]
pub struct Answer {
    /// What the client is sent.
    pub text: String,
    /// `srst` / `crst`.
    pub reset: Option<Reset>,
}

/// Runs a command against a view of the core's state.
pub fn run(core: &Core, log: &SyncStats, cmd: &str) -> Answer {
    let reset = match cmd {
        "srst" if core.opts.four_letter_words.allows(cmd) => Some(Reset::Stats),
        "crst" if core.opts.four_letter_words.allows(cmd) => Some(Reset::Connections),
        _ => None,
    };
    Answer {
        text: text(core, log, cmd),
        reset,
    }
}

fn text(core: &Core, log: &SyncStats, cmd: &str) -> String {
    if !core.opts.four_letter_words.allows(cmd) {
        return format!("{cmd} is not executed because it is not in the whitelist.\n");
    }
    let mut s = String::new();
    let needs_serving = !matches!(cmd, "ruok" | "conf" | "envi" | "isro" | "srst" | "crst");
    if needs_serving && !core.serving() {
        // ZooKeeper's answer while electing or syncing.
        return "This ZooKeeper instance is not currently serving requests\n".into();
    }
    match cmd {
        "ruok" => s.push_str("imok"),
        "isro" => s.push_str("rw"),
        "srvr" | "stat" => {
            let _ = writeln!(s, "Zookeeper version: {VERSION}, built by ferrozk");
            if cmd == "stat" {
                s.push_str("Clients:\n");
                for c in core.conns.values() {
                    let _ = writeln!(
                        s,
                        " /{}[1](queued=0,recved={},sent={})",
                        c.peer, c.received, c.sent
                    );
                }
                s.push('\n');
            }
            let _ = writeln!(s, "Latency min/avg/max: {}", core.stats.latency_line());
            let _ = writeln!(s, "Received: {}", core.stats.received);
            let _ = writeln!(s, "Sent: {}", core.stats.sent);
            let _ = writeln!(s, "Connections: {}", core.conns.len());
            let _ = writeln!(s, "Outstanding: 0");
            let _ = writeln!(s, "Zxid: 0x{:x}", core.tree.last_zxid);
            let _ = writeln!(s, "Mode: {}", mode(core));
            let _ = writeln!(s, "Node count: {}", core.tree.len());
        }
        "mntr" => {
            for (k, v) in super::metrics::monitor(core, log) {
                let _ = writeln!(s, "zk_{k}\t{v}");
            }
        }
        "conf" => {
            let o = &core.opts;
            let _ = writeln!(s, "clientPort={}", o.listen.port());
            let _ = writeln!(s, "clientPortAddress={}", o.listen.ip());
            let _ = writeln!(s, "dataDir={}", o.data_dir.display());
            let _ = writeln!(s, "tickTime={}", o.tick_ms);
            let _ = writeln!(s, "maxClientCnxns={}", o.max_client_cnxns);
            let _ = writeln!(s, "minSessionTimeout={}", o.min_session_timeout_ms);
            let _ = writeln!(s, "maxSessionTimeout={}", o.max_session_timeout_ms);
            let _ = writeln!(s, "serverId={}", o.server_id);
        }
        "envi" => {
            s.push_str("Environment:\n");
            let _ = writeln!(s, "zookeeper.version={VERSION}");
            let _ = writeln!(s, "os.name={}", std::env::consts::OS);
            let _ = writeln!(s, "os.arch={}", std::env::consts::ARCH);
            if let Ok(d) = std::env::current_dir() {
                let _ = writeln!(s, "user.dir={}", d.display());
            }
        }
        "cons" => {
            for (id, c) in &core.conns {
                let _ = writeln!(
                    s,
                    " /{}[1](queued=0,recved={},sent={},sid=0x{:x},lop=NA,est=0,to={},conn={id})",
                    c.peer, c.received, c.sent, c.session, c.timeout_ms
                );
            }
            s.push('\n');
        }
        "wchs" => {
            let t = &core.tree;
            let conns: std::collections::BTreeSet<u64> = t
                .data_watches
                .by_watcher()
                .iter()
                .chain(t.child_watches.by_watcher())
                .filter(|(_, p)| !p.is_empty())
                .map(|(w, _)| *w)
                .collect();
            let _ = writeln!(
                s,
                "{} connections watching {} paths\nTotal watches:{}",
                conns.len(),
                t.data_watches.paths() + t.child_watches.paths(),
                t.data_watches.len() + t.child_watches.len()
            );
        }
        "wchc" | "wchp" => {
            let t = &core.tree;
            let mut by: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
                Default::default();
            for table in [&t.data_watches, &t.child_watches] {
                for (w, paths) in table.by_watcher() {
                    for p in paths {
                        let session = core.conns.get(w).map_or(0, |c| c.session);
                        let (k, v) = if cmd == "wchc" {
                            (format!("0x{session:x}"), p.clone())
                        } else {
                            (p.clone(), format!("0x{session:x}"))
                        };
                        by.entry(k).or_default().insert(v);
                    }
                }
            }
            for (k, vs) in by {
                let _ = writeln!(s, "{k}");
                for v in vs {
                    let _ = writeln!(s, "\t{v}");
                }
            }
        }
        "dump" => {
            s.push_str("SessionTracker dump:\n");
            let _ = writeln!(s, "Global Sessions({}):", core.sessions.len());
            for sess in core.sessions.sessions() {
                let _ = writeln!(s, "0x{:x}\t{}ms", sess.id.0, sess.timeout_ms);
            }
            s.push_str("ephemeral nodes dump:\n");
            let _ = writeln!(
                s,
                "Sessions with Ephemerals ({}):",
                core.tree.all_ephemerals().len()
            );
            for (sid, paths) in core.tree.all_ephemerals() {
                let _ = writeln!(s, "0x{sid:x}:");
                for p in paths {
                    let _ = writeln!(s, "\t{p}");
                }
            }
        }
        "srst" => s.push_str("Server stats reset.\n"),
        "crst" => s.push_str("Connection stats reset.\n"),
        _ => unreachable!("is_command() gates this"),
    }
    s
}

/// What `srvr` calls our role: `standalone`, or the Zab role.
pub(crate) fn mode(core: &Core) -> &'static str {
    match &core.replica {
        None => "standalone",
        Some(r) => r.peer.state().role_name(),
    }
}
