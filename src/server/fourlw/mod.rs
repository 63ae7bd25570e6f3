//! Four-letter words: plain-text status commands on the client port,
//! answered as Apache ZooKeeper 3.8 answers them (its
//! `server/command/*Command.java`), line for line.
//!
//! A connection whose first four bytes spell a known word
//! ([`is_command`]) sends it to the driver, which runs [`answer`] against
//! a view of the core and writes the text back; the connection is then
//! closed. A word runs only if `4lw.commands.whitelist` enables it;
//! otherwise the answer is ZooKeeper's "is not executed" line. Words that
//! need a serving server answer ZooKeeper's "not currently serving" line
//! while this one is electing or syncing. Words only read; what they
//! change (`srst`, `crst`, and the packet counters, which count the word
//! itself as ZooKeeper's do) goes back to the core as inputs
//! ([`Answer::inputs`]). One module per group of words.

mod conf;
mod dump;
mod env;
mod hash;
mod stat;
pub mod trace;
mod watches;

use std::net::SocketAddr;

use super::core::{ConnId, Core, Input, Reset};
use super::durability::SyncStats;

pub use conf::dir_size;
pub use env::environment;
pub use stat::{connection_count, connection_info, java_socket_address};

/// Whether `word` is one of ZooKeeper 3.8's four-letter words
/// ([`crate::config::KNOWN_COMMANDS`]), so the first bytes of the
/// connection are not a frame length.
pub fn is_command(word: &str) -> bool {
    crate::config::KNOWN_COMMANDS.contains(&word)
}

/// The version string clients and tools see.
pub const VERSION: &str = concat!("3.8.0-ferrozk-", env!("CARGO_PKG_VERSION"));

/// `Version.getFullVersion()`: what `srvr`, `stat` and `envi` print after
/// "version". ZooKeeper adds its build date; ferrozk says what it is.
pub fn full_version() -> String {
    format!("{VERSION}, built by ferrozk")
}

/// ZooKeeper's answer while the server is not serving (electing, syncing).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// ZooKeeper's `PrintWriter` over `SendBufferWriter` sends an answer in
/// chunks of its 8192-character buffer; each is one packet sent.
const CHUNK: usize = 8192;

/// The connection a word came in on: ZooKeeper lists it among the
/// connections (`cons`, `stat`, `dump`) and counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asker {
    /// Its connection number.
    pub conn: ConnId,
    /// The client's address.
    pub peer: SocketAddr,
}

/// A word as a connection read it.
#[derive(Debug, Clone)]
pub struct Asked {
    /// The word.
    pub word: String,
    /// Where it came from.
    pub from: Asker,
    /// `stmk`'s argument: the 8-byte big-endian trace mask after the word.
    pub mask: Option<i64>,
}

/// A command's answer, and what it changes (the runtime passes that to
/// the core as inputs: words only read a view of the core).
#[derive(Debug)]
pub struct Answer {
    /// What the client is sent.
    pub text: String,
    /// `srst` / `crst`.
    pub reset: Option<Reset>,
}

impl Answer {
    /// The inputs that follow the answer: the reset, if any, then the
    /// packets the answer is sent in.
    pub fn inputs(&self) -> Vec<Input> {
        let mut v: Vec<Input> = self.reset.into_iter().map(Input::Reset).collect();
        v.push(Input::WordPackets {
            received: 0,
            sent: self.text.len().div_ceil(CHUNK) as u64,
        });
        v
    }
}

/// The input that counts a word as a packet received, before it runs
/// (ZooKeeper counts it first, so `srvr` includes itself).
pub fn received() -> Input {
    Input::WordPackets {
        received: 1,
        sent: 0,
    }
}

/// Runs a word as if asked by no connection (tools, tests).
pub fn run(core: &Core, log: &SyncStats, cmd: &str) -> Answer {
    compute(core, log, cmd, None, None)
}

/// Runs a word a connection sent.
pub fn answer(core: &Core, log: &SyncStats, asked: &Asked) -> Answer {
    compute(core, log, &asked.word, Some(&asked.from), asked.mask)
}

fn compute(
    core: &Core,
    log: &SyncStats,
    cmd: &str,
    from: Option<&Asker>,
    mask: Option<i64>,
) -> Answer {
    let allowed = core.opts.four_letter_words.allows(cmd);
    let serving = core.serving();
    let reset = match cmd {
        "srst" if allowed && serving => Some(Reset::Stats),
        "crst" if allowed && serving => Some(Reset::Connections),
        _ => None,
    };
    let text = if allowed {
        text(core, log, cmd, from, mask)
    } else {
        format!("{cmd} is not executed because it is not in the whitelist.\n")
    };
    Answer { text, reset }
}

fn text(
    core: &Core,
    log: &SyncStats,
    cmd: &str,
    from: Option<&Asker>,
    mask: Option<i64>,
) -> String {
    // ruok, envi, gtmk and stmk answer whatever the server's state.
    match cmd {
        "ruok" => return "imok".into(),
        "envi" => return env::envi(),
        "gtmk" => return trace::mask().to_string(),
        "stmk" => return trace::stmk(mask),
        _ => {}
    }
    if !core.serving() {
        return match cmd {
            "isro" => "null".into(),
            // DigestCommand prints it without a line end.
            "hash" => NOT_SERVING.into(),
            _ => format!("{NOT_SERVING}\n"),
        };
    }
    match cmd {
        "isro" => "rw".into(),
        "srvr" => stat::srvr(core, from, false),
        "stat" => stat::srvr(core, from, true),
        "cons" => stat::cons(core, from),
        "conf" => conf::conf(core),
        "dirs" => conf::dirs(core),
        "dump" => dump::dump(core, from),
        "wchs" => watches::wchs(core),
        "wchc" => watches::wchc(core),
        "wchp" => watches::wchp(core),
        "hash" => hash::hash(core),
        "srst" => "Server stats reset.\n".into(),
        "crst" => "Connection stats reset.\n".into(),
        "mntr" => {
            use std::fmt::Write as _;
            let mut s = String::new();
            for (k, mut v) in super::metrics::monitor(core, log) {
                // The asking connection is one of ZooKeeper's ServerCnxns
                // (the admin `monitor` command's HTTP request is not).
                if k == "num_alive_connections" {
                    v = super::metrics::MonitorValue::Int(stat::connection_count(core, from) as i64);
                }
                let _ = writeln!(s, "zk_{k}\t{v}");
            }
            s
        }
        _ => unreachable!("is_command() gates this"),
    }
}

/// What `srvr` calls our role: `standalone`, or the Zab role.
pub(crate) fn mode(core: &Core) -> &'static str {
    match &core.replica {
        None => "standalone",
        Some(r) => r.peer.state().role_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_sent_in_chunks_of_8192_characters() {
        let sent = |len: usize| {
            let a = Answer {
                text: "x".repeat(len),
                reset: None,
            };
            match a.inputs().last() {
                Some(Input::WordPackets { sent, .. }) => *sent,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(sent(0), 0, "an empty answer (hash) sends nothing");
        assert_eq!(sent(4), 1);
        assert_eq!(sent(8192), 1);
        assert_eq!(sent(8193), 2);
    }

    #[test]
    fn every_zookeeper_word_is_recognised() {
        for w in ["dirs", "gtmk", "stmk", "hash", "ruok", "mntr"] {
            assert!(is_command(w), "{w}");
        }
        assert!(!is_command("icfg") && !is_command("sysp"));
    }

    #[test]
    fn dates_print_as_java_dates() {
        let d = dump::java_date(0);
        let f: Vec<&str> = d.split(' ').collect();
        assert_eq!(f.len(), 6, "{d}");
        assert!(f[5] == "1970" || f[5] == "1969", "{d}");
    }
}
