//! On-disk compatibility with Apache ZooKeeper 3.8 (src/storage).
//!
//! - A data dir written by Apache ZooKeeper (snapshots and logs, nodes of
//!   every kind, digests on) recovers in ferrozk to the tree Apache served,
//!   node by node, with every snapshot and transaction digest matching.
//! - Our digest of every logged transaction equals the one Apache logged.
//! - A snapshot and a log written by ferrozk are read by Apache's own tools
//!   (SnapshotFormatter, TxnLogToolkit) and an Apache server started on
//!   that dir serves the same tree and reports no digest mismatch.
//!
//! The workload is tests/kazoo/storage_tree.py (kazoo, /usr/bin/python3).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{run_with_timeout, ServerKind, TestServer, PYTHON, ZK_JAR};
use ferrozk::storage::{
    self, datadir, digest, entry, read_all, read_snapshot, TxnLog, TxnLogOptions,
};
use ferrozk::tree::DataTree;
use serde_json::Value;

const SLF4J_NOP: &str = "/usr/share/java/slf4j-nop.jar";

/// zoo.cfg for the workload: TTL nodes, a snapshot every 5–10 txns, small
/// preallocation.
fn apache_extra() -> Vec<(&'static str, &'static str)> {
    vec![
        ("extendedTypesEnabled", "true"),
        ("zookeeper.snapCount", "10"),
        ("zookeeper.preAllocSize", "64"),
    ]
}

fn script(addr: &str, mode: &str) -> Value {
    common::require_kazoo();
    let path = common::tests_dir().join("kazoo/storage_tree.py");
    let out = run_with_timeout(
        Command::new(PYTHON).arg(&path).arg(addr).arg(mode),
        Duration::from_secs(120),
    );
    assert!(out.success(), "storage_tree.py {mode}:\n{}", out.describe());
    serde_json::from_str(&out.stdout).expect("JSON from storage_tree.py")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs the workload on a fresh Apache ZooKeeper; returns a copy of its
/// data dir (taken while it runs, as a crash would leave it) and the tree
/// it served.
fn apache_workload() -> (tempfile::TempDir, Value) {
    let server = TestServer::start(ServerKind::Apache, &apache_extra());
    let doc = script(&server.addr(), "write");
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&server.dir().join("data"), copy.path());
    drop(server);
    (copy, doc)
}

/// Differences between a recovered tree and a dumped one.
fn compare(tree: &DataTree, dump: &Value) -> Vec<String> {
    let dump = dump.as_object().expect("tree object");
    let mut problems = Vec::new();
    let mut ours: Vec<String> = tree.iter().map(|(p, _)| p).collect();
    ours.sort();
    let mut theirs: Vec<String> = dump.keys().cloned().collect();
    theirs.sort();
    if ours != theirs {
        problems.push(format!(
            "paths differ:\n ours   {ours:?}\n theirs {theirs:?}"
        ));
    }
    for (path, want) in dump {
        let Some(node) = tree.get(path) else { continue };
        let data = node.data.as_ref().map(|d| hex(d));
        if want["data"].as_str().map(String::from) != data {
            problems.push(format!("{path}: data differs"));
        }
        let s = node.stat();
        let stat = vec![
            s.czxid,
            s.mzxid,
            s.ctime,
            s.mtime,
            s.version as i64,
            s.cversion as i64,
            s.aversion as i64,
            s.ephemeral_owner,
            s.data_length as i64,
            s.num_children as i64,
            s.pzxid,
        ];
        let want_stat: Vec<i64> = want["stat"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        if stat != want_stat {
            problems.push(format!("{path}: stat ours {stat:?} theirs {want_stat:?}"));
        }
        let mut acl: Vec<Value> = tree
            .acl_of(node)
            .iter()
            .map(|a| serde_json::json!([a.perms, a.id.scheme, a.id.id]))
            .collect();
        acl.sort_by_key(|v| v.to_string());
        let mut want_acl = want["acl"].as_array().unwrap().clone();
        want_acl.sort_by_key(|v| v.to_string());
        if acl != want_acl {
            problems.push(format!("{path}: acl ours {acl:?} theirs {want_acl:?}"));
        }
    }
    problems
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn files(dir: &Path, prefix: &str) -> Vec<(i64, PathBuf)> {
    datadir::list(&datadir::version_dir(dir), prefix).unwrap()
}

#[test]
fn apache_data_dir_recovers_to_the_tree_apache_served() {
    let (data, doc) = apache_workload();
    let snaps = files(data.path(), "snapshot");
    assert!(
        snaps.len() >= 3,
        "workload should leave several snapshots: {snaps:?}"
    );
    assert!(files(data.path(), "log").len() >= 2);

    let rec = storage::recover(data.path(), data.path(), true).expect("recover");
    let problems = compare(&rec.tree, &doc["tree"]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(rec.snapshot.as_ref(), Some(&snaps.last().unwrap().1));
    assert_eq!(rec.torn_tail, None);
    assert!(rec.digests_checked > 0, "no digest was compared");
    assert_eq!(
        rec.digest_mismatches,
        vec![],
        "digests disagree with Apache's"
    );
    let session = doc["session"].as_i64().unwrap();
    assert_eq!(
        rec.sessions.get(&session),
        Some(&30000),
        "{:?}",
        rec.sessions
    );
    assert!(rec.tree.ephemerals(session).count() >= 2);

    // Every snapshot Apache wrote parses and passes its checksums.
    for (_, p) in &snaps {
        read_snapshot(p).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn our_digest_of_every_logged_txn_equals_apaches() {
    let (data, _) = apache_workload();
    let (txns, torn) = read_all(data.path(), 0).unwrap();
    assert_eq!(torn, None);
    let mut tree = DataTree::new(true);
    let mut d = digest::tree_digest(&tree);
    let mut checked = 0;
    for t in &txns {
        digest::apply_tracked(
            &mut tree,
            t,
            &mut d,
            |tr, x, o| tr.apply(x, o),
            &mut Vec::new(),
        );
        // Apache logs no digest with error transactions (type -1).
        let Some(logged) = t.digest.as_ref() else {
            assert_eq!(t.hdr.r#type, -1, "txn {:#x} has no digest", t.hdr.zxid);
            continue;
        };
        assert_eq!(logged.version, 2);
        assert_eq!(logged.tree_digest, d, "digest after zxid {:#x}", t.hdr.zxid);
        assert_eq!(d, digest::tree_digest(&tree));
        checked += 1;
    }
    assert!(checked > 40, "only {checked} txns");
}

#[test]
fn apache_reads_a_data_dir_written_by_ferrozk() {
    let (apache_data, doc) = apache_workload();
    let (txns, _) = read_all(apache_data.path(), 0).unwrap();
    let ours = tempfile::tempdir().unwrap();

    // Replay the first half, snapshot it, log the second half.
    let half = txns.len() / 2;
    let mut tree = DataTree::new(true);
    let mut sessions = std::collections::BTreeMap::new();
    let mut d = digest::tree_digest(&tree);
    for t in &txns[..half] {
        track_sessions(&mut sessions, t);
        digest::apply_tracked(
            &mut tree,
            t,
            &mut d,
            |tr, x, o| tr.apply(x, o),
            &mut Vec::new(),
        );
    }
    let snap_zxid = txns[half - 1].hdr.zxid;
    let sessions: Vec<(i64, i32)> = sessions.into_iter().collect();
    let snap = storage::write_snapshot(ours.path(), snap_zxid, &tree, &sessions).unwrap();
    let mut log = TxnLog::open(
        ours.path(),
        TxnLogOptions {
            prealloc_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .unwrap();
    for t in &txns[half..] {
        let mut t = t.clone();
        digest::apply_tracked(
            &mut tree,
            &t,
            &mut d,
            |tr, x, o| tr.apply(x, o),
            &mut Vec::new(),
        );
        t.digest = Some(ferrozk::proto::records::txn::TxnDigest {
            version: 2,
            tree_digest: d,
        });
        log.append(&t).unwrap();
    }
    log.sync().unwrap();
    let log_file = log.current_file().unwrap().to_path_buf();
    drop(log);
    // Sanity: the bytes of an entry are Apache's (same marshalling).
    assert_eq!(entry::checksum(b"Wikipedia"), 0x11E6_0398);

    // Apache's tools read both files.
    let out = apache_tool(
        "org.apache.zookeeper.server.persistence.TxnLogToolkit",
        &log_file,
    );
    let expect = format!("EOF reached after {} txns.", txns.len() - half);
    assert!(
        out.contains(&expect) && !out.contains("CRC ERROR"),
        "TxnLogToolkit on our log:\n{out}"
    );
    let out = apache_tool("org.apache.zookeeper.server.SnapshotFormatter", &snap);
    assert!(
        out.contains(&format!("Last zxid: {snap_zxid:#x}")) && !out.contains("Exception"),
        "SnapshotFormatter on our snapshot:\n{out}"
    );

    // An Apache server on our data dir serves the same tree.
    let data_dir = ours.path().display().to_string();
    let mut extra = apache_extra();
    extra.push(("dataDir", &data_dir));
    let server = TestServer::start(ServerKind::Apache, &extra);
    let served = script(&server.addr(), "dump");
    let mntr = server.four_letter("mntr");
    drop(server);
    assert_eq!(
        served["tree"], doc["tree"],
        "Apache on our data dir serves a different tree"
    );
    assert!(
        mntr.lines().any(|l| l == "zk_digest_mismatches_count\t0"),
        "Apache reports digest mismatches:\n{mntr}"
    );
}

fn track_sessions(
    sessions: &mut std::collections::BTreeMap<i64, i32>,
    t: &ferrozk::tree::txn::Txn,
) {
    use ferrozk::tree::txn::TxnBody;
    match &t.body {
        TxnBody::CreateSession(c) => {
            sessions.insert(t.hdr.client_id, c.time_out);
        }
        TxnBody::CloseSession(_) => {
            sessions.remove(&t.hdr.client_id);
        }
        _ => {}
    }
}

/// Runs one of Apache ZooKeeper's command-line tools on a file.
fn apache_tool(class: &str, file: &Path) -> String {
    common::require_file(ZK_JAR, "Debian package zookeeper");
    let out = run_with_timeout(
        Command::new("java")
            .arg("-cp")
            .arg(format!("{ZK_JAR}:{SLF4J_NOP}"))
            .arg(class)
            .arg(file),
        Duration::from_secs(120),
    );
    assert!(
        out.success(),
        "{class} {}:\n{}",
        file.display(),
        out.describe()
    );
    format!("{}{}", out.stdout, out.stderr)
}

/// A log written by ferrozk and cut by `truncate_log` (Zab's TRUNC) reads
/// cleanly with Apache's TxnLogToolkit: the cut file ends right after the
/// kept entries (no padding, no partial entry) and holds exactly them.
#[test]
fn apache_reads_a_log_truncated_by_ferrozk() {
    use ferrozk::proto::records::txn::{CreateTxn, TxnHeader};
    use ferrozk::proto::OpCode;
    use ferrozk::tree::txn::{Txn, TxnBody};

    let create = |zxid: i64| Txn {
        hdr: TxnHeader {
            client_id: 0x100_0000_0001,
            cxid: 1,
            zxid,
            time: 1_700_000_000_000,
            r#type: OpCode::Create.code(),
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/n{zxid:x}"),
            data: Some(bytes::Bytes::from_static(b"data")),
            acl: ferrozk::tree::acl::open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: -1,
        }),
        digest: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut log = TxnLog::open(
        dir.path(),
        TxnLogOptions {
            prealloc_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .unwrap();
    for c in 1..=8 {
        if c == 5 {
            log.roll().unwrap();
        }
        log.append(&create((1 << 32) | c)).unwrap();
    }
    log.sync().unwrap();
    drop(log);
    assert_eq!(files(dir.path(), "log").len(), 2);

    assert!(storage::truncate_log(dir.path(), (1 << 32) | 6).unwrap());
    let logs = files(dir.path(), "log");
    assert_eq!(logs.len(), 2);
    let out = apache_tool(
        "org.apache.zookeeper.server.persistence.TxnLogToolkit",
        &logs[1].1,
    );
    assert!(
        out.contains("EOF reached after 2 txns.") && !out.contains("CRC ERROR"),
        "TxnLogToolkit on our truncated log:\n{out}"
    );
    assert!(
        out.contains("zxid 0x100000005") && out.contains("zxid 0x100000006"),
        "{out}"
    );
    assert!(!out.contains("zxid 0x100000007"), "{out}");

    // At a file boundary: the later file goes, the first loses its zeros.
    assert!(storage::truncate_log(dir.path(), (1 << 32) | 4).unwrap());
    let logs = files(dir.path(), "log");
    assert_eq!(logs.len(), 1);
    let out = apache_tool(
        "org.apache.zookeeper.server.persistence.TxnLogToolkit",
        &logs[0].1,
    );
    assert!(
        out.contains("EOF reached after 4 txns.") && !out.contains("CRC ERROR"),
        "TxnLogToolkit on our truncated log:\n{out}"
    );
}
