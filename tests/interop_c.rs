//! C client interop tests: Apache ZooKeeper's C shell `cli_mt` (batch mode,
//! one command per process) against Apache ZooKeeper 3.8 and ferrozk; the
//! normalised transcripts must be equal, and key results are checked.
//!
//! cli_mt quirks (see /work/shared/ENVIRONMENT.md): its exit code is always
//! 0, so results are read from its `rc = N` lines (on stderr); `create` stores
//! the data "new" and takes everything after the path as part of the name;
//! `exists` never exits, so it runs under a short deadline.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// (command, deadline); commands that never exit get a short deadline.
const COMMANDS: &[(&str, u64)] = &[
    ("ls /", 30),
    ("create /c", 30),
    ("create /c", 30),
    ("get /c", 30),
    ("set /c newdata", 30),
    ("get /c", 30),
    ("ls2 /c", 30),
    ("create +s /c/s-", 30),
    ("create +s /c/s-", 30),
    ("create +e /c/eph", 30),
    ("create +c /ctr", 30),
    ("create /c/with space", 30),
    ("create2 /c2", 30),
    ("create /missing/x", 30),
    ("ls /c", 30),
    ("get /nope", 30),
    ("set /nope x", 30),
    ("delete /nope", 30),
    ("delete /c", 30),
    ("sync /c", 30),
    ("exists /nope", 3),
    ("delete /c/s-0000000000", 30),
    ("delete /c/with space", 30),
    ("ls /c", 30),
    ("ls /", 30),
];

fn normalise(text: &str, zxids: &mut BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        // The session event is printed by cli_mt's completion thread and
        // interleaves at random with the main thread's "Creating ..." line.
        if l.is_empty()
            || l.contains("ZOO_")
            || l.starts_with("Got a new session id")
            || l.starts_with("time = ")
            || l.starts_with("Watcher SESSION_EVENT")
        {
            continue;
        }
        let l = if let Some(v) = l
            .strip_prefix("czxid=")
            .or_else(|| l.strip_prefix("mzxid="))
        {
            let n = zxids.len() + 1;
            format!("{}z{}", &l[..6], zxids.entry(v.to_string()).or_insert(n))
        } else if l.starts_with("ctime = ") || l.starts_with("mtime=") {
            format!("{}<time>", &l[..l.find('=').unwrap() + 1])
        } else if let Some(v) = l.strip_prefix("ephemeralOwner = ") {
            if v == "0" {
                l.to_string()
            } else {
                "ephemeralOwner = <session>".into()
            }
        } else {
            l.to_string()
        };
        out.push(l);
    }
    out
}

fn run_cli(server: &TestServer, cmd: &str, deadline_s: u64) -> Output {
    // Apache ZooKeeper sometimes drops a connection whose first request is
    // pipelined behind the ConnectRequest while the session is still being
    // created (seen right after startup): cli_mt then reports rc = -4
    // before any session exists. Only that handshake failure is retried.
    let mut last = None;
    for _ in 0..3 {
        let out = run_with_timeout(
            Command::new(CLI_MT)
                .arg("-h")
                .arg(server.addr())
                .arg("-c")
                .arg(cmd),
            Duration::from_secs(deadline_s),
        );
        let handshake_lost =
            !out.stderr.contains("Got a new session id") && out.stderr.contains("rc = -4");
        if !handshake_lost {
            return out;
        }
        last = Some(out);
    }
    last.unwrap()
}

fn transcript(server: &TestServer) -> Vec<String> {
    let mut zxids = BTreeMap::new();
    let mut t = Vec::new();
    for (cmd, deadline_s) in COMMANDS {
        let out = run_cli(server, cmd, *deadline_s);
        t.push(format!("$ {cmd}"));
        let mut lines: Vec<String> = normalise(&out.stdout, &mut zxids);
        lines.extend(normalise(&out.stderr, &mut zxids));
        if cmd.starts_with("ls ") {
            // children lines come from a hash set in Apache ZooKeeper
            let (mut kids, rest): (Vec<String>, Vec<String>) = lines.into_iter().partition(|l| {
                !l.contains(':') && !l.starts_with("Batch") && !l.starts_with("Watcher")
            });
            kids.sort();
            lines = rest;
            lines.extend(kids);
        }
        t.extend(lines.into_iter().map(|l| format!("  {l}")));
    }
    t
}

fn check(kind: ServerKind, t: &[String], problems: &mut Problems) {
    let text = t.join("\n");
    for needle in [
        "$ create /c\n  Batch mode: create /c\n  Creating [/c] node (mode: 0)\n  [/c]: rc = 0\n  name = /c",
        "[/c]: rc = -110",
        "/c: rc = 0\n  value_len = 7\n  newdata",
        "name = /c/s-0000000001",
        "[/missing/x]: rc = -101",
        "/c: rc = -111",
        "/nope: rc = -101",
        "name = /c/with space",
    ] {
        if !text.contains(needle) {
            problems.add(format!("[{}] cli_mt transcript lacks:\n{needle}\n--- transcript ---\n{text}", kind.name()));
        }
    }
}

#[test]
fn cli_mt_is_installed() {
    require_file(CLI_MT, "Debian package zookeeper-bin");
}

#[test]
fn cli_mt_batch_commands() {
    require_file(CLI_MT, "Debian package zookeeper-bin");
    let mut problems = Problems::default();
    let mut transcripts = Vec::new();
    for kind in kinds_under_test() {
        match try_start(kind, &[]) {
            Ok(server) => {
                let t = transcript(&server);
                check(kind, &t, &mut problems);
                transcripts.push((kind, t));
            }
            Err(e) => problems.add(format!("[{}] server did not start: {e}", kind.name())),
        }
    }
    if let [(k1, a), (k2, b)] = &transcripts[..] {
        if a != b {
            problems.add(format!(
                "cli_mt transcripts differ (- {}, + {}):\n{}",
                k1.name(),
                k2.name(),
                diff_lines(&a.join("\n"), &b.join("\n"), 60)
            ));
        }
    }
    problems.check("cli_mt_batch_commands");
}
