//! `ferrozk shell` beyond zkCli's text: JSON output, binary data (shown as
//! hex, `get --raw`, `-f FILE`), commands from stdin, chroots, and
//! failover between the hosts of a connect string — against ferrozk and
//! Apache ZooKeeper alike. (The zkCli-compatible text of every command is
//! tests/shell_zkcli.rs; the interactive mode is tests/shell_interactive.rs.)

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use common::cluster::{Cluster, ELECTION_TIMEOUT};
use common::*;
use serde_json::Value;

const SHELL_TIMEOUT: Duration = Duration::from_secs(30);

fn shell(server: &str, words: &[&str]) -> Output {
    run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_ferrozk"))
            .args(["shell", "-timeout", "5000", "-server", server])
            .args(words),
        SHELL_TIMEOUT,
    )
}

fn ok(server: &str, words: &[&str]) -> Output {
    let out = shell(server, words);
    assert!(
        out.success(),
        "`{}` failed:\n{}",
        words.join(" "),
        out.describe()
    );
    out
}

fn json(server: &str, words: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(words);
    let out = shell(server, &all);
    let docs: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(docs.len(), 1, "one JSON document:\n{}", out.describe());
    serde_json::from_str(docs[0]).unwrap_or_else(|e| panic!("{e}:\n{}", out.describe()))
}

#[test]
fn json_output_is_one_document_per_command() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let addr = server.addr();
        let created = json(&addr, &["create", "/j", "hello"]);
        assert_eq!(created["created"], "/j", "[{}] {created}", kind.name());
        let got = json(&addr, &["get", "-s", "/j"]);
        assert_eq!(got["data"]["text"], "hello", "[{}] {got}", kind.name());
        assert_eq!(got["stat"]["dataLength"], 5);
        assert_eq!(got["stat"]["version"], 0);
        ok(&addr, &["create", "/j/b"]);
        ok(&addr, &["create", "/j/a"]);
        let ls = json(&addr, &["ls", "/j"]);
        assert_eq!(
            ls["children"],
            serde_json::json!(["a", "b"]),
            "[{}]",
            kind.name()
        );
        let acl = json(&addr, &["getAcl", "/j"]);
        assert_eq!(
            acl["acl"][0]["scheme"],
            "world",
            "[{}] getAcl JSON: {acl}",
            kind.name()
        );
        // The command's own --json flag works as the launch option does.
        let out = shell(&addr, &["stat", "/j", "--json"]);
        let doc: Value = serde_json::from_str(out.stdout.trim()).expect("stat --json");
        assert_eq!(doc["stat"]["numChildren"], 2);
        // A failure is a JSON document too, with zkCli's exit code.
        let out = shell(&addr, &["--json", "get", "/missing"]);
        assert_eq!(out.code(), Some(1), "{}", out.describe());
        let err: Value = serde_json::from_str(out.stdout.trim()).expect("error JSON");
        assert_eq!(err["error"], "Node does not exist: /missing");
        assert_eq!(err["code"], "NoNode");
    }
}

#[test]
fn binary_data_is_shown_as_hex_and_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.bin");
    let bytes: Vec<u8> = (0..=255u8).collect();
    std::fs::write(&input, &bytes).unwrap();
    let input = input.display().to_string();
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let addr = server.addr();
        ok(&addr, &["create", "/bin", "-f", &input]);
        let shown = ok(&addr, &["get", "/bin"]);
        assert!(
            shown.stdout.starts_with("0x000102030405"),
            "[{}] binary data as hex:\n{}",
            kind.name(),
            shown.describe()
        );
        // --raw: the exact bytes on stdout (through a file: Output is text).
        let raw = dir.path().join(format!("raw-{}.bin", kind.name()));
        let out = run_with_timeout(
            Command::new("sh").arg("-c").arg(format!(
                "{} shell -server {addr} get --raw /bin > {}",
                env!("CARGO_BIN_EXE_ferrozk"),
                raw.display()
            )),
            SHELL_TIMEOUT,
        );
        assert!(out.success(), "{}", out.describe());
        assert_eq!(
            std::fs::read(&raw).unwrap(),
            bytes,
            "[{}] get --raw",
            kind.name()
        );
        let doc = json(&addr, &["get", "/bin"]);
        let b64 = doc["data"]["base64"]
            .as_str()
            .expect("base64 for binary data");
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
            bytes
        );
        // set -f replaces the data from a file; text shows as text.
        let text = dir.path().join("text.txt");
        std::fs::write(&text, "line one\nline two").unwrap();
        ok(&addr, &["set", "/bin", "-f", &text.display().to_string()]);
        let shown = ok(&addr, &["get", "/bin"]);
        assert_eq!(shown.stdout, "line one\nline two\n", "[{}]", kind.name());
        let missing = shell(&addr, &["set", "/bin", "-f", "/nonexistent/file"]);
        assert_eq!(missing.code(), Some(1));
        assert!(
            missing.stderr.contains("/nonexistent/file"),
            "{}",
            missing.describe()
        );
    }
}

/// Lines on stdin run in order; the exit code is the last command's, and
/// `quit` ends the script.
#[test]
fn commands_from_stdin() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let run = |script: &str| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_ferrozk"))
                .args(["shell", "-server", &server.addr()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (code, out, err) =
            run("create /s one\ncreate -e /s/eph x\ngetEphemerals /s\nget /s/eph\nget /nope\n");
        assert_eq!(
            code,
            Some(1),
            "[{}] last command failed: {out}{err}",
            kind.name()
        );
        assert!(
            out.contains("[/s/eph]"),
            "[{}] one session: {out}",
            kind.name()
        );
        assert!(err.contains("Node does not exist: /nope"), "{err}");
        let (code, out, _) = run("get /nope\nget /s\n");
        assert_eq!(code, Some(0), "[{}] {out}", kind.name());
        let (code, out, _) = run("get /s\nquit\nget /nope\n");
        assert_eq!(
            code,
            Some(0),
            "[{}] quit stops the script: {out}",
            kind.name()
        );
    }
}

#[test]
fn chroot_and_failover_between_hosts() {
    for kind in kinds_under_test() {
        let mut cluster = Cluster::start(kind, 3, 0);
        cluster.wait_for_leader(ELECTION_TIMEOUT);
        let all = cluster.connect_string();
        ok(&all, &["create", "/app", "root"]);
        ok(&format!("{all}/app"), &["create", "/inside", "x"]);
        let ls = ok(&all, &["ls", "/app"]);
        assert_eq!(ls.stdout, "[inside]\n", "[{}]", kind.name());
        let got = ok(&format!("{all}/app"), &["get", "/inside"]);
        assert_eq!(got.stdout, "x\n");
        // With the first listed member down, the shell reaches another one.
        cluster.members[0].kill();
        let dead_first = format!(
            "{},{}",
            cluster.members[0].addr(),
            cluster.running_connect_string()
        );
        let out = ok(&dead_first, &["sync", "/app"]);
        assert_eq!(out.stdout, "Sync is OK\n", "[{}]", kind.name());
        let out = ok(&dead_first, &["get", "/app/inside"]);
        assert_eq!(out.stdout, "x\n");
    }
}
