//! Four-letter words against Apache ZooKeeper 3.8 and ferrozk: the same
//! client operations (one kazoo session: /a, /a/b, an ephemeral /eph,
//! 125 more nodes so the digest log has an entry, three watches) on a
//! fresh server of each kind, then every word on both, compared line by
//! line. Values that differ by nature (session ids, client ports, times,
//! latencies, paths under the test's temporary directories, directory
//! sizes) are masked by position and shape — the line stays, its shape is
//! checked; everything else must be equal: counts, zxids, node counts,
//! watch listings, the connection fields, the whitelist's and the
//! not-serving answers. `mntr` belongs to the metrics tests.
//!
//! Orders that ZooKeeper leaves to Java identity hashes (connections in
//! `cons`/`stat`/`dump`, the members of an expiry bucket) are compared as
//! sets; ZooKeeper also keeps emptied expiry buckets (`0 expire at`),
//! which ferrozk does not, so bucket headers are compared by shape.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::cluster::{Cluster, ELECTION_TIMEOUT};
use common::{
    diff_lines, four_letter_at, require_kazoo, run_with_timeout, Problems, ServerKind, TestServer,
    PYTHON,
};

/// Creates the state on one server and runs words on several; prints
/// `[[label, word, answer], ...]` as JSON.
const SCRIPT: &str = r#"
import sys, json, socket, struct
from kazoo.client import KazooClient

def word(port, w):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if w.startswith("stmk:"):
        s.sendall(b"stmk" + struct.pack(">q", int(w[5:])))
    else:
        s.sendall(w.encode())
    b = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        b += x
    s.close()
    return b.decode()

spec = json.loads(sys.argv[1])
out = []
zk = None
if spec["state"]:
    zk = KazooClient(hosts="127.0.0.1:%d" % spec["state"], timeout=30)
    zk.start()
    for _, port in spec["targets"]:
        word(port, "srst")
    zk.create("/a", b"hello")
    zk.create("/a/b", b"x" * 100)
    zk.create("/eph", b"", ephemeral=True)
    for i in range(spec["nodes"]):
        zk.create("/n%d" % i)
    zk.get("/a", watch=lambda e: None)
    zk.exists("/a/b", watch=lambda e: None)
    zk.get_children("/a", watch=lambda e: None)
for label, port in spec["targets"]:
    for w in spec["words"]:
        out.append([label, w, word(port, w)])
if zk:
    zk.stop()
print(json.dumps(out))
"#;

/// Every word, in an order that exercises the resets and the trace mask.
const ALL_WORDS: &[&str] = &[
    "ruok",
    "isro",
    "gtmk",
    "srvr",
    "stat",
    "cons",
    "conf",
    "envi",
    "dirs",
    "dump",
    "wchs",
    "wchc",
    "wchp",
    "hash",
    "stmk:1234",
    "gtmk",
    "crst",
    "cons",
    "srst",
    "srvr",
];

/// Runs the script: `state` is the client port to build the state on
/// (none: only the words), `targets` the (label, port) to ask.
fn run_words(
    state: Option<u16>,
    targets: &[(&str, u16)],
    words: &[&str],
    nodes: usize,
) -> Vec<(String, String, String)> {
    let spec = serde_json::json!({
        "state": state,
        "targets": targets,
        "words": words,
        "nodes": nodes,
    });
    let out = run_with_timeout(
        Command::new(PYTHON)
            .arg("-B")
            .arg("-c")
            .arg(SCRIPT)
            .arg(spec.to_string()),
        Duration::from_secs(60),
    );
    assert!(out.success(), "kazoo script: {}", out.describe());
    let rows: Vec<(String, String, String)> =
        serde_json::from_str(out.stdout.trim()).expect("script prints JSON");
    if std::env::var_os("FOURLW_SHOW").is_some() {
        for (label, word, text) in &rows {
            eprintln!("--- {label} {word}\n{text}");
        }
    }
    rows
}

/// Masks the token after `key` up to the next delimiter, after checking
/// that it is a number.
fn mask_number_after(text: &str, key: &str, problems: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        if end == 0 {
            problems.push(format!("no number after {key:?} in {text:?}"));
        }
        out.push('N');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Masks hex runs of 13 or more digits after `0x` (session ids; zxids
/// are shorter, except -1 which both print the same).
fn mask_session_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if end >= 13 && &rest[..end] != "ffffffffffffffff" {
            out.push_str("SID");
        } else {
            out.push_str(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `s` is a Java `Date.toString()`: `Thu Dec 03 17:34:38 UTC 2026`.
fn is_java_date(s: &str) -> bool {
    let f: Vec<&str> = s.split(' ').collect();
    f.len() == 6
        && f[0].len() == 3
        && f[1].len() == 3
        && f[2].len() == 2
        && f[3].len() == 8
        && f[5].len() == 4
        && f[5].chars().all(|c| c.is_ascii_digit())
}

/// The latency line's value: `min/avg/max` with Java's double.
fn is_latency(v: &str) -> bool {
    let p: Vec<&str> = v.split('/').collect();
    p.len() == 3
        && p[0].parse::<u64>().is_ok()
        && p[2].parse::<u64>().is_ok()
        && p[1].contains('.')
        && p[1]
            .replace("E-", "")
            .replace('.', "")
            .parse::<u64>()
            .is_ok()
}

/// One answer, masked where the servers differ by nature; shape problems
/// are reported into `problems`. `counts`: whether the server's packet
/// counts are comparable (they are once the script's `srst` ran; before,
/// they include the harness's readiness probes).
fn normalise(word: &str, text: &str, counts: bool, problems: &mut Vec<String>) -> String {
    let mut t = mask_session_ids(text);
    t = mask_number_after(&t, "/127.0.0.1:", problems);
    for key in ["est=", "lresp=", "llat=", "minlat=", "avglat=", "maxlat="] {
        t = mask_number_after(&t, key, problems);
    }
    let mut lines: Vec<String> = Vec::new();
    for line in t.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let masked = mask_line(word, body, counts, problems);
        if let Some(m) = masked {
            lines.push(format!("{m}{end}"));
        }
    }
    if matches!(word, "cons" | "stat" | "dump") {
        // Connections (and bucket members) come in Java identity order.
        let mut sorted = lines.clone();
        sorted.sort();
        return sorted.concat();
    }
    lines.concat()
}

/// A line with its varying value masked; `None` drops it (ZooKeeper's
/// emptied expiry buckets).
fn mask_line(word: &str, line: &str, counts: bool, problems: &mut Vec<String>) -> Option<String> {
    let mut bad = |what: &str| problems.push(format!("{word}: {what}: {line:?}"));
    if let Some((n, date)) = line.split_once(" expire at ") {
        if n == "0" {
            return None;
        }
        if !date.strip_suffix(':').is_some_and(is_java_date) {
            bad("not a Java date");
        }
        return Some("BUCKET expire at DATE:".into());
    }
    if let Some(rest) = line.strip_prefix("Session Sets (") {
        let total = rest.split_once(")/(").map(|(_, t)| t);
        return Some(format!("Session Sets (B)/({}", total.unwrap_or("?")));
    }
    if let Some(rest) = line.strip_prefix("Connections Sets (") {
        let total = rest.split_once(")/(").map(|(_, t)| t);
        return Some(format!("Connections Sets (B)/({}", total.unwrap_or("?")));
    }
    let Some((key, value)) = line.split_once(['=', ':']) else {
        return Some(line.to_owned());
    };
    let sep = &line[key.len()..key.len() + 1];
    let value = value.trim_start();
    let masked = match (word, key) {
        (_, "Zookeeper version") | ("envi", "zookeeper.version") => "VERSION".to_owned(),
        (_, "Latency min/avg/max") => {
            if !is_latency(value) {
                bad("latency shape");
            }
            "L/A/M".to_owned()
        }
        (_, "Received" | "Sent") if !counts => {
            if value.parse::<u64>().is_err() {
                bad("not a number");
            }
            "N".to_owned()
        }
        ("conf", "clientPort" | "electionPort" | "quorumPort")
        | ("conf", "dataDirSize" | "dataLogSize")
        | ("dirs", _) => {
            if value.parse::<u64>().is_err() {
                bad("not a number");
            }
            "N".to_owned()
        }
        ("conf", "dataDir" | "dataLogDir") => {
            if !value.ends_with("/data/version-2") {
                bad("not <dataDir>/version-2");
            }
            "DIR/data/version-2".to_owned()
        }
        ("conf", k) if k.starts_with("server.") => {
            // host:quorum:election:type — the ports are the member's.
            let f: Vec<&str> = value.split(':').collect();
            format!("{}:Q:E:{}", f[0], f.get(3).unwrap_or(&"?"))
        }
        ("envi", k) if k.starts_with("java.") && k != "java.io.tmpdir" => "JAVA".to_owned(),
        ("envi", "user.dir") => "DIR".to_owned(),
        ("envi", k) if k.starts_with("os.memory.") => {
            if value
                .strip_suffix("MB")
                .is_none_or(|n| n.parse::<u64>().is_err())
            {
                bad("not <n>MB");
            }
            "NMB".to_owned()
        }
        ("hash", _) => {
            if value.parse::<i64>().is_err() {
                bad("digest not a long");
            }
            "DIGEST".to_owned()
        }
        _ => return Some(line.to_owned()),
    };
    let space = if sep == ":" && line[key.len() + 1..].starts_with(' ') {
        " "
    } else {
        ""
    };
    Some(format!("{key}{sep}{space}{masked}"))
}

/// Compares every answer of the two runs (same labels and words, in
/// order), after normalisation (`counts`: see [`normalise`]).
fn compare(
    what: &str,
    apache: &[(String, String, String)],
    ferrozk: &[(String, String, String)],
    counts: bool,
    problems: &mut Problems,
) {
    assert_eq!(apache.len(), ferrozk.len(), "{what}: same words asked");
    for (a, f) in apache.iter().zip(ferrozk) {
        assert_eq!((&a.0, &a.1), (&f.0, &f.1), "{what}: same order");
        let mut shape = Vec::new();
        let na = normalise(&a.1, &a.2, counts, &mut shape);
        for p in shape.drain(..) {
            problems.add(format!("{what} {} (apache, a harness problem): {p}", a.0));
        }
        let nf = normalise(&f.1, &f.2, counts, &mut shape);
        for p in shape {
            problems.add(format!("{what} {} ferrozk: {p}", f.0));
        }
        if na != nf {
            problems.add(format!(
                "{what} {} `{}` differs (- apache, + ferrozk):\n{}\nraw apache:\n{}\nraw ferrozk:\n{}",
                a.0,
                a.1,
                diff_lines(&na, &nf, 40),
                a.2,
                f.2
            ));
        }
    }
}

/// Answers that must not be masked at all, as a spot check of the masks
/// (a mask that hid everything would pass every comparison).
fn spot_checks(rows: &[(String, String, String)], problems: &mut Problems, kind: &str) {
    let get = |word: &str| -> Vec<&str> {
        rows.iter()
            .filter(|r| r.1 == word)
            .map(|r| r.2.as_str())
            .collect()
    };
    let srvr = get("srvr");
    let expect_in = |text: &str, needle: &str, problems: &mut Problems| {
        if !text.contains(needle) {
            problems.add(format!("{kind}: {needle:?} not in:\n{text}"));
        }
    };
    if let Some(first) = srvr.first() {
        // ZooKeeper's 5 on a fresh server (it counts the root twice),
        // then /a, /a/b, /eph and 125 more.
        expect_in(first, "Node count: 133\n", problems);
        expect_in(first, "Latency min/avg/max: ", problems);
    }
    if let Some(cons) = get("cons").first() {
        expect_in(cons, "[0](queued=0,recved=1,sent=0)\n", problems);
        expect_in(cons, ",lop=GETC,", problems);
    }
    if let Some(w) = get("wchs").first() {
        expect_in(
            w,
            "1 connections watching 2 paths\nTotal watches:2\n",
            problems,
        );
    }
    if let Some(h) = get("hash").first() {
        expect_in(h, "80: ", problems);
    }
}

#[test]
fn standalone_words_match_apache() {
    require_kazoo();
    let mut runs = BTreeMap::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let server = TestServer::start(kind, &[]);
        let rows = run_words(
            Some(server.port()),
            &[("standalone", server.port())],
            ALL_WORDS,
            125,
        );
        runs.insert(kind.name(), rows);
    }
    let mut problems = Problems::default();
    spot_checks(&runs["ferrozk"], &mut problems, "ferrozk");
    spot_checks(&runs["apache"], &mut problems, "apache");
    compare(
        "standalone",
        &runs["apache"],
        &runs["ferrozk"],
        true,
        &mut problems,
    );
    problems.check("standalone_words_match_apache");
}

#[test]
fn whitelist_and_refusals_match_apache() {
    require_kazoo();
    let words: Vec<&str> = ferrozk::config::KNOWN_COMMANDS
        .iter()
        .map(|w| if *w == "stmk" { "stmk:7" } else { w })
        .collect();
    let mut runs = BTreeMap::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        // Trimmed names, an unknown one, and srvr always on.
        let server = TestServer::start(kind, &[("4lw.commands.whitelist", " ruok, stat ,bogus")]);
        let rows = run_words(None, &[("listed", server.port())], &words, 0);
        runs.insert(kind.name(), rows);
    }
    let mut problems = Problems::default();
    for (_, word, text) in &runs["ferrozk"] {
        let listed = matches!(word.as_str(), "ruok" | "stat" | "srvr");
        let refusal = format!(
            "{} is not executed because it is not in the whitelist.\n",
            word.split(':').next().unwrap_or(word)
        );
        if listed == (text == &refusal) {
            problems.add(format!("ferrozk {word}: {text:?}"));
        }
    }
    // No srst (it is not listed): the counts include readiness probes.
    compare(
        "whitelist",
        &runs["apache"],
        &runs["ferrozk"],
        false,
        &mut problems,
    );
    problems.check("whitelist_and_refusals_match_apache");
}

/// The words a member answers before it serves, then conf/srvr/stat/cons
/// and the rest on a leader and a follower.
#[test]
fn ensemble_words_match_apache() {
    require_kazoo();
    let mut lone = BTreeMap::new();
    let mut serving = BTreeMap::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let mut c = Cluster::configure(kind, 3, 0);
        // One member of three: no quorum, so it never serves.
        c.restart(0);
        let port = c.members[0].client_port;
        c.wait_until("the lone member answers ruok", ELECTION_TIMEOUT, || {
            four_letter_at(&c.members[0].addr(), "ruok", Duration::from_secs(2))
                .ok()
                .filter(|a| a == "imok")
        });
        let words: Vec<&str> = ferrozk::config::KNOWN_COMMANDS
            .iter()
            .map(|w| if *w == "stmk" { "stmk:306" } else { w })
            .collect();
        lone.insert(
            kind.name(),
            run_words(None, &[("looking", port)], &words, 0),
        );
        c.restart(1);
        c.restart(2);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let follower = (leader + 1) % 3;
        let (lp, fp) = (
            c.members[leader].client_port,
            c.members[follower].client_port,
        );
        let words = [
            "conf", "srvr", "stat", "cons", "dump", "wchs", "wchc", "wchp", "dirs", "isro", "hash",
        ];
        let rows = run_words(Some(fp), &[("follower", fp), ("leader", lp)], &words, 125);
        serving.insert(kind.name(), rows);
    }
    let mut problems = Problems::default();
    for (_, word, text) in &lone["ferrozk"] {
        let gated = !matches!(word.as_str(), "ruok" | "envi" | "gtmk" | "isro" | "hash")
            && !word.starts_with("stmk");
        let not_serving = "This ZooKeeper instance is not currently serving requests\n";
        if gated && text != not_serving {
            problems.add(format!("looking ferrozk {word}: {text:?}"));
        }
    }
    compare(
        "looking",
        &lone["apache"],
        &lone["ferrozk"],
        false,
        &mut problems,
    );
    compare(
        "ensemble",
        &serving["apache"],
        &serving["ferrozk"],
        true,
        &mut problems,
    );
    let leader_srvr = serving["ferrozk"]
        .iter()
        .find(|r| r.0 == "leader" && r.1 == "srvr")
        .map(|r| r.2.clone())
        .unwrap_or_default();
    if !leader_srvr.contains("Proposal sizes last/min/max: ") {
        problems.add(format!(
            "leader srvr without proposal sizes:\n{leader_srvr}"
        ));
    }
    problems.check("ensemble_words_match_apache");
}
