//! The command table (name, zkCli's option string, flags) and the
//! dispatch of a parsed command to its module:
//!
//! - [`local`]: commands of the shell itself (history, redo, printwatches,
//!   connect, quit), which run without a connection.
//! - [`nodes`]: create, delete, deleteall, set, get, ls, stat, sync,
//!   getAllChildrenNumber, getEphemerals.
//! - [`acl`]: getAcl, setAcl, addauth, whoami.
//! - [`quota`]: setquota, listquota, delquota.
//! - [`ensemble`]: config, reconfig, version, close.
//! - [`watches`]: addWatch, removewatches.
//! - [`extra`]: ferrozk's own: tree, dump, load, watch.

pub mod acl;
pub mod ensemble;
pub mod extra;
pub mod local;
pub mod nodes;
pub mod quota;
pub mod watches;

use crate::error::CliError;
use crate::shell::{Reply, Shell};
use crate::words::{parse_flags, FlagSpec, Parsed};

/// A command: its name, the option string zkCli prints in usage and
/// error messages, and its flags.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// What the user types.
    pub name: &'static str,
    /// zkCli's `getOptionStr()`: the usage is `name + " " + options`.
    pub options: &'static str,
    /// The flags it takes.
    pub flags: FlagSpec,
    /// Whether it runs without a live session.
    pub local: bool,
}

impl Spec {
    /// zkCli's `getUsageStr()`.
    pub fn usage(&self) -> String {
        format!("{} {}", self.name, self.options)
    }
}

const fn flags(plain: &'static str, valued: &'static str) -> FlagSpec {
    FlagSpec {
        plain,
        valued,
        named: &[],
        long: &[],
    }
}

const fn spec(name: &'static str, options: &'static str, flags: FlagSpec) -> Spec {
    Spec {
        name,
        options,
        flags,
        local: false,
    }
}

const fn local(name: &'static str, options: &'static str) -> Spec {
    Spec {
        name,
        options,
        flags: FlagSpec::NONE,
        local: true,
    }
}

/// Every command, zkCli's first (with their 3.8 option strings), then
/// ferrozk's own.
pub const COMMANDS: &[Spec] = &[
    local("connect", "host:port"),
    local("history", ""),
    local("redo", "cmdno"),
    local("printwatches", "on|off"),
    local("quit", ""),
    spec("close", "", FlagSpec::NONE),
    spec(
        "create",
        "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
        flags("sec", "tf"),
    ),
    spec("delete", "[-v version] path", flags("", "v")),
    spec("deleteall", "path [-b batch size]", flags("", "b")),
    spec("set", "[-s] [-v version] path data", flags("s", "vf")),
    spec(
        "get",
        "[-s] [-w] path",
        FlagSpec {
            plain: "sw",
            valued: "",
            named: &[],
            long: &[("raw", false)],
        },
    ),
    spec("ls", "[-s] [-w] [-R] path", flags("swR?", "")),
    spec("getAcl", "[-s] path", flags("s", "")),
    spec(
        "setAcl",
        "[-s] [-v version] [-R] path acl",
        flags("sR", "v"),
    ),
    spec("stat", "[-w] path", flags("w", "")),
    spec("sync", "path", FlagSpec::NONE),
    spec("setquota", "-n|-b|-N|-B val path", flags("", "nbNB")),
    spec("listquota", "path", FlagSpec::NONE),
    spec("delquota", "[-n|-b|-N|-B] path", flags("nbNB", "")),
    spec("addauth", "scheme auth", FlagSpec::NONE),
    spec(
        "reconfig",
        "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | \
[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
        FlagSpec {
            plain: "s",
            valued: "v",
            named: &["file", "members", "add", "remove"],
            long: &[],
        },
    ),
    spec("config", "[-c] [-w] [-s]", flags("cws", "")),
    spec("removewatches", "path [-c|-d|-a] [-l]", flags("cdal", "")),
    spec("getEphemerals", "path", FlagSpec::NONE),
    spec("getAllChildrenNumber", "path", FlagSpec::NONE),
    spec("version", "", FlagSpec::NONE),
    spec(
        "addWatch",
        "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is \
PERSISTENT_RECURSIVE",
        flags("", "m"),
    ),
    spec("whoami", "", FlagSpec::NONE),
    spec("tree", "[-d depth] [path]", flags("", "d")),
    spec("dump", "path [> file]", flags("", "o")),
    spec("load", "file [path]", FlagSpec::NONE),
    spec("watch", "path", FlagSpec::NONE),
];

/// The command named `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.name == name)
}

/// zkCli's `usage()`: every command with its options, sorted by name.
pub fn usage_text() -> String {
    let mut specs: Vec<&Spec> = COMMANDS.iter().collect();
    specs.sort_by_key(|s| s.name);
    let mut out = String::from(
        "ZooKeeper -server host:port -client-configuration properties-file cmd args\n",
    );
    for s in specs {
        out.push_str(&format!("\t{} {}\n", s.name, s.options));
    }
    out
}

/// Runs one command (`words[0]` is its name), as zkCli's `processZKCmd`.
pub async fn dispatch(sh: &mut Shell, words: Vec<String>) -> Result<Reply, CliError> {
    let name = words[0].clone();
    let Some(spec) = find(&name) else {
        if !sh.json() {
            eprint!("{}", usage_text());
        }
        return Err(CliError::NotFound(format!("Command not found {name}")));
    };
    if spec.local {
        return local::run(sh, &name, words).await;
    }
    if !sh.alive() {
        let mut r = Reply::new();
        r.line("Not connected");
        return Ok(r.with_json(serde_json::json!({"error": "Not connected"})));
    }
    let p = parse_flags(&spec.flags, &words)?;
    run(sh, spec, &p).await
}

async fn run(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    match spec.name {
        "close" => ensemble::close(sh, spec, p).await,
        "create" => nodes::create(sh, spec, p).await,
        "delete" => nodes::delete(sh, spec, p).await,
        "deleteall" => nodes::deleteall(sh, spec, p).await,
        "set" => nodes::set(sh, spec, p).await,
        "get" => nodes::get(sh, spec, p).await,
        "ls" => nodes::ls(sh, spec, p).await,
        "stat" => nodes::stat(sh, spec, p).await,
        "sync" => nodes::sync(sh, spec, p).await,
        "getAllChildrenNumber" => nodes::get_all_children_number(sh, spec, p).await,
        "getEphemerals" => nodes::get_ephemerals(sh, spec, p).await,
        "getAcl" => acl::get_acl(sh, spec, p).await,
        "setAcl" => acl::set_acl(sh, spec, p).await,
        "addauth" => acl::addauth(sh, spec, p).await,
        "whoami" => acl::whoami(sh, spec, p).await,
        "setquota" => quota::setquota(sh, spec, p).await,
        "listquota" => quota::listquota(sh, spec, p).await,
        "delquota" => quota::delquota(sh, spec, p).await,
        "config" => ensemble::config(sh, spec, p).await,
        "reconfig" => ensemble::reconfig(sh, spec, p).await,
        "version" => ensemble::version(sh, spec, p).await,
        "addWatch" => watches::add_watch(sh, spec, p).await,
        "removewatches" => watches::remove_watches(sh, spec, p).await,
        "tree" => extra::tree(sh, spec, p).await,
        "dump" => extra::dump(sh, spec, p).await,
        "load" => extra::load(sh, spec, p).await,
        "watch" => extra::watch(sh, spec, p).await,
        other => unreachable!("{other} is in COMMANDS but not dispatched"),
    }
}

/// The client of a live session (dispatch checked `alive()`).
pub(crate) fn client(sh: &Shell) -> &ferrozk_client::Client {
    sh.client().expect("dispatch checks the session is alive")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_unique() {
        let mut names: Vec<_> = COMMANDS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }
}
