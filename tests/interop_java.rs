//! Java client interop tests: Apache ZooKeeper's own shell (zkCli.sh,
//! one-shot commands) and a Java program using the ZooKeeper 3.8 client and
//! Curator 5.4 recipes (tests/java/FerrozkInterop.java, compiled with javac
//! at test time). Each runs against Apache ZooKeeper 3.8 and ferrozk; the
//! normalised zkCli transcripts must be equal, and the Java program must
//! pass every check on both servers.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const ZKCLI_TIMEOUT: Duration = Duration::from_secs(60);
const JAVA_TIMEOUT: Duration = Duration::from_secs(300);

fn require_java_tools() {
    require_tool("java", &["-version"]);
    require_tool("javac", &["-version"]);
    require_file(ZKCLI, "Debian package zookeeper");
    require_file(ZK_JAR, "Debian package libzookeeper-java");
    for jar in CURATOR_JARS {
        require_file(jar, "Debian packages libcurator-*-java");
    }
}

#[test]
fn java_tools_are_installed() {
    require_java_tools();
}

// ---------------------------------------------------------------- zkCli.sh

/// One-shot zkCli commands, run in order against a fresh server.
const ZKCLI_COMMANDS: &[&str] = &[
    "ls /",
    "ls -R /zookeeper",
    "create /cli hello",
    "create /cli again",
    "create bad-path x",
    "create /missing/child x",
    "get /cli",
    "get -s /cli",
    "set /cli world",
    "set -v 7 /cli stale",
    "stat /cli",
    "create -s /cli/seq- a",
    "create -s /cli/seq- b",
    "create -e /cli/eph e",
    "create -c /cli/container",
    "ls /cli",
    "ls -s /cli",
    "getAcl /cli",
    "setAcl /cli world:anyone:rwa",
    "getAcl -s /cli",
    "delete /cli",
    "delete /cli/seq-0000000000",
    "delete -v 9 /cli/seq-0000000001",
    "create /secret s digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa",
    "get /secret",
    "getAcl /secret",
    "addauth digest alice:secret",
    "setAcl /cli world:anyone:cdrwa",
    "deleteall /cli",
    "stat /cli",
    "get /nope",
    "ls /nope",
    "delete /nope",
    "ls /",
];

/// Strip connection chatter and make zxids, times and session ids
/// server-independent (zxids become ordinals in order of appearance).
fn normalise_zkcli(text: &str, zxids: &mut BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_end();
        if l.is_empty()
            || l.starts_with("SLF4J:")
            || l.starts_with("Connecting to ")
            || l == "WATCHER::"
            || l.starts_with("WatchedEvent state:SyncConnected type:None")
        {
            continue;
        }
        if let Some((key, value)) = l.split_once(" = ") {
            let v = match key {
                "cZxid" | "mZxid" | "pZxid" => {
                    if value == "0x0" {
                        "0".to_string()
                    } else {
                        let n = zxids.len() + 1;
                        format!("z{}", zxids.entry(value.to_string()).or_insert(n))
                    }
                }
                "ctime" | "mtime" => {
                    if value.contains("1970") {
                        "epoch".into()
                    } else {
                        "<time>".into()
                    }
                }
                "ephemeralOwner" => {
                    if value == "0x0" {
                        "0".into()
                    } else {
                        "<session>".into()
                    }
                }
                _ => value.to_string(),
            };
            out.push(format!("{key} = {v}"));
            continue;
        }
        if l.starts_with('[') && l.ends_with(']') {
            // children lists: Apache ZooKeeper's order is a hash-set order
            let mut items: Vec<&str> = l[1..l.len() - 1]
                .split(", ")
                .filter(|s| !s.is_empty())
                .collect();
            items.sort();
            out.push(format!("[{}]", items.join(", ")));
            continue;
        }
        out.push(l.to_string());
    }
    out
}

fn zkcli_transcript(server: &TestServer) -> Vec<String> {
    let mut zxids = BTreeMap::new();
    let mut transcript = Vec::new();
    for cmd in ZKCLI_COMMANDS {
        let out = run_with_timeout(
            Command::new(ZKCLI)
                .arg("-server")
                .arg(server.addr())
                .args(cmd.split(' '))
                .env("CLIENT_JVMFLAGS", "-XX:TieredStopAtLevel=1"),
            ZKCLI_TIMEOUT,
        );
        assert!(
            !out.timed_out,
            "zkCli `{cmd}` timed out:\n{}",
            out.describe()
        );
        transcript.push(format!("$ {cmd}  (exit {:?})", out.code()));
        for l in normalise_zkcli(&out.stdout, &mut zxids) {
            transcript.push(format!("  out: {l}"));
        }
        for l in normalise_zkcli(&out.stderr, &mut zxids) {
            transcript.push(format!("  err: {l}"));
        }
    }
    transcript
}

/// Key expectations, so a wrong server fails even without the reference.
fn check_zkcli(kind: ServerKind, t: &[String], problems: &mut Problems) {
    let text = t.join("\n");
    for needle in [
        "$ create /cli again  (exit Some(1))\n  err: Node already exists: /cli",
        "$ get /cli  (exit Some(0))\n  out: hello",
        "  err: Created /cli/seq-0000000001",
        "$ set -v 7 /cli stale  (exit Some(1))\n  err: version No is not valid : /cli",
        "$ delete /cli  (exit Some(1))\n  err: Node not empty: /cli",
        "$ get /secret  (exit Some(1))\n  err: Insufficient permission : /secret",
        "$ get /nope  (exit Some(1))\n  err: Node does not exist: /nope",
        "$ ls /  (exit Some(0))\n  out: [secret, zookeeper]",
    ] {
        if !text.contains(needle) {
            problems.add(format!(
                "[{}] zkCli transcript lacks:\n{needle}\n--- transcript ---\n{text}",
                kind.name()
            ));
        }
    }
}

#[test]
fn zkcli_one_shot_commands() {
    require_java_tools();
    let mut problems = Problems::default();
    let kinds = kinds_under_test();
    // The two servers are independent: run their command lists in parallel.
    let results: Vec<(ServerKind, Result<Vec<String>, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = kinds
            .iter()
            .map(|&kind| {
                s.spawn(move || {
                    let r = try_start(kind, &[]).map(|server| zkcli_transcript(&server));
                    (kind, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("zkCli thread"))
            .collect()
    });
    let mut transcripts = Vec::new();
    for (kind, r) in results {
        match r {
            Ok(t) => {
                check_zkcli(kind, &t, &mut problems);
                transcripts.push((kind, t));
            }
            Err(e) => problems.add(format!("[{}] server did not start: {e}", kind.name())),
        }
    }
    if let [(k1, a), (k2, b)] = &transcripts[..] {
        if a != b {
            problems.add(format!(
                "zkCli transcripts differ (- {}, + {}):\n{}",
                k1.name(),
                k2.name(),
                diff_lines(&a.join("\n"), &b.join("\n"), 60)
            ));
        }
    }
    problems.check("zkcli_one_shot_commands");
}

// ------------------------------------------------- Java client + Curator

fn classpath() -> String {
    let mut cp = vec![ZK_JAR.to_string(), SLF4J_NOP_JAR.to_string()];
    cp.extend(CURATOR_JARS.iter().map(|s| s.to_string()));
    cp.join(":")
}

/// tests/java/FerrozkInterop.java, compiled once per test process.
fn compiled_classes() -> PathBuf {
    compile_java("FerrozkInterop.java", &classpath())
}

fn run_java_program(kind: ServerKind) -> Result<Vec<String>, String> {
    let server =
        try_start(kind, &[]).map_err(|e| format!("[{}] server did not start: {e}", kind.name()))?;
    let classes = compiled_classes();
    let out = run_with_timeout(
        Command::new("java")
            .arg("-Xmx256m")
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-cp")
            .arg(format!("{}:{}", classes.display(), classpath()))
            .arg("FerrozkInterop")
            .arg(server.addr()),
        JAVA_TIMEOUT,
    );
    let lines: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL ") || *l == "DONE")
        .map(String::from)
        .collect();
    if !out.success()
        || lines.iter().any(|l| l.starts_with("FAIL "))
        || lines.last().map(String::as_str) != Some("DONE")
    {
        return Err(format!(
            "[{}] Java interop program failed:\n{}\n--- server log ---\n{}",
            kind.name(),
            out.describe(),
            server.log_tail()
        ));
    }
    Ok(lines)
}

#[test]
fn java_client_and_curator_recipes() {
    require_java_tools();
    compiled_classes();
    let mut problems = Problems::default();
    let mut results = Vec::new();
    for kind in kinds_under_test() {
        match run_java_program(kind) {
            Ok(lines) => results.push((kind, lines)),
            Err(e) => problems.add(e),
        }
    }
    for (kind, lines) in &results {
        if lines.len() < 14 {
            problems.add(format!("[{}] too few checks ran: {lines:?}", kind.name()));
        }
    }
    if let [(k1, a), (k2, b)] = &results[..] {
        if a != b {
            problems.add(format!(
                "check lists differ: {} {a:?} vs {} {b:?}",
                k1.name(),
                k2.name()
            ));
        }
    }
    problems.check("java_client_and_curator_recipes");
}
