//! Metrics against Apache ZooKeeper 3.8 and ferrozk: `mntr` after the same
//! client operations (one kazoo session: /a, /a/b, an ephemeral /eph,
//! reads and three watches) on a standalone server and on the leader and
//! a follower of a 3-member ensemble of each kind — the same keys in the
//! same order, and the values that describe the state equal — and the
//! Prometheus endpoint read by real consumers: the Python client's text
//! parser (types of the families, counters that move under load) and the
//! Prometheus server scraping it.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, ELECTION_TIMEOUT};
use common::{
    diff_lines, four_letter_at, free_port, require_kazoo, require_tool, run_with_timeout, Problems,
    ServerKind, TestServer, PYTHON,
};

/// Creates the state through the server at `spec.state`, then prints
/// `[[label, mntr answer], ...]` for every target as JSON, the session
/// still open.
const SCRIPT: &str = r#"
import sys, json, socket
from kazoo.client import KazooClient

def word(port, w):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
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
zk = KazooClient(hosts="127.0.0.1:%d" % spec["state"], timeout=30)
zk.start()
zk.create("/a", b"hello")
zk.create("/a/b", b"x" * 100)
zk.create("/eph", b"", ephemeral=True)
zk.set("/a", b"hello again")
zk.get("/a", watch=lambda e: None)
zk.exists("/a/b", watch=lambda e: None)
zk.get_children("/a", watch=lambda e: None)
zk.sync("/a")
out = [[label, word(port, "mntr")] for label, port in spec["targets"]]
# Apache 3.8 keeps the quorum configuration in /zookeeper/config.
config = zk.get("/zookeeper/config")[0] or b""
out.append(["config_bytes", str(len(config))])
print(json.dumps(out))
zk.stop()
"#;

/// Runs [`SCRIPT`]; the `mntr` answers by label.
fn mntr_after_state(state: u16, targets: &[(&str, u16)]) -> BTreeMap<String, String> {
    let spec = serde_json::json!({ "state": state, "targets": targets });
    let out = run_with_timeout(
        Command::new(PYTHON)
            .arg("-c")
            .arg(SCRIPT)
            .arg(spec.to_string()),
        Duration::from_secs(90),
    );
    assert!(out.success(), "kazoo script: {}", out.describe());
    let rows: Vec<(String, String)> =
        serde_json::from_str(out.stdout.trim()).expect("the script prints JSON");
    rows.into_iter().collect()
}

/// `mntr`'s lines as (key, value), in order.
fn parse(mntr: &str) -> Vec<(String, String)> {
    mntr.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Keys whose values describe the state the script made, equal on both.
const EQUAL: &[&str] = &[
    "zk_server_state",
    "zk_peer_state",
    "zk_znode_count",
    "zk_watch_count",
    "zk_ephemerals_count",
    "zk_global_sessions",
    "zk_local_sessions",
    "zk_outstanding_requests",
    "zk_quorum_size",
    "zk_synced_followers",
    "zk_learners",
    "zk_synced_non_voting_followers",
    "zk_synced_observers",
    "zk_pending_syncs",
    "zk_connection_drop_probability",
    "zk_cnt_a_write_per_namespace",
    "zk_sum_a_write_per_namespace",
    "zk_cnt_a_read_per_namespace",
    "zk_sum_a_read_per_namespace",
];

/// Key families ferrozk does not report on an ensemble member, and why
/// (docs/operations.md, metrics): the per-learner queue summaries of
/// ZooKeeper's LearnerHandler threads (ferrozk's quorum links have no
/// such queue to sample), and the write ZooKeeper's leader makes to
/// `/zookeeper/config` (ferrozk leaves that node empty).
const ENSEMBLE_ABSENT: &[&str] = &["_learner_handler_qp_", "_zookeeper_write_per_namespace"];

/// `zk_approximate_data_size` less the data of `/zookeeper/config`.
fn data_size_less_config(mntr: &[(String, String)], config_bytes: i64) -> Option<i64> {
    let v = mntr.iter().find(|(k, _)| k == "zk_approximate_data_size")?;
    Some(v.1.parse::<i64>().ok()? - config_bytes)
}

/// Compares ferrozk's `mntr` with Apache's for one role; `config` is the
/// length of `/zookeeper/config` on each (apache, ferrozk), whose data
/// counts in the approximate data size.
fn compare(role: &str, apache: &str, ferrozk: &str, config: (i64, i64), problems: &mut Problems) {
    // A development aid: keep both answers to look at.
    if let Ok(dir) = std::env::var("FERROZK_METRICS_DUMP") {
        let _ = std::fs::write(format!("{dir}/{role}-apache.txt"), apache);
        let _ = std::fs::write(format!("{dir}/{role}-ferrozk.txt"), ferrozk);
    }
    let (mut a, f) = (parse(apache), parse(ferrozk));
    if role != "standalone" {
        a.retain(|(k, _)| !ENSEMBLE_ABSENT.iter().any(|p| k.contains(p)));
    }
    let (sa, sf) = (
        data_size_less_config(&a, config.0),
        data_size_less_config(&f, config.1),
    );
    if sa != sf {
        problems.add(format!(
            "{role}: approximate data size less /zookeeper/config: apache {sa:?}, ferrozk {sf:?}"
        ));
    }
    let keys = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let (ak, fk) = (keys(&a), keys(&f));
    if ak != fk {
        problems.add(format!(
            "{role}: mntr keys differ (apache {} keys, ferrozk {}):\n{}",
            ak.len(),
            fk.len(),
            diff_lines(&ak.join("\n"), &fk.join("\n"), 40)
        ));
    }
    let (am, fm): (BTreeMap<_, _>, BTreeMap<_, _>) =
        (a.iter().cloned().collect(), f.iter().cloned().collect());
    for k in EQUAL {
        if am.get(*k) != fm.get(*k) {
            problems.add(format!(
                "{role}: {k}: apache {:?}, ferrozk {:?}",
                am.get(*k),
                fm.get(*k)
            ));
        }
    }
    // Values scrapers parse: integers where Apache prints integers.
    for (k, v) in &f {
        let apache_int = am.get(k).is_some_and(|x| x.parse::<i64>().is_ok());
        if apache_int && v.parse::<i64>().is_err() {
            problems.add(format!(
                "{role}: {k}={v} is not an integer (apache: {:?})",
                am.get(k)
            ));
        }
    }
}

#[test]
fn standalone_mntr_matches_apache() {
    require_kazoo();
    let mut answers = BTreeMap::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let s = TestServer::start(kind, &[]);
        let mut got = mntr_after_state(s.port(), &[("standalone", s.port())]);
        answers.insert(kind.name(), got.remove("standalone").expect("answer"));
        answers.insert(
            if kind == ServerKind::Apache {
                "apache-config"
            } else {
                "ferrozk-config"
            },
            got.remove("config_bytes").expect("config length"),
        );
    }
    let mut problems = Problems::default();
    let config = (
        answers["apache-config"].parse().unwrap_or(0),
        answers["ferrozk-config"].parse().unwrap_or(0),
    );
    compare(
        "standalone",
        &answers["apache"],
        &answers["ferrozk"],
        config,
        &mut problems,
    );
    let f = parse(&answers["ferrozk"]);
    let get = |k: &str| f.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    if get("zk_cnt_fsynctime").and_then(|v| v.parse::<u64>().ok()) < Some(5) {
        problems.add(format!("fsyncs not counted: {:?}", get("zk_cnt_fsynctime")));
    }
    if get("zk_cnt_updatelatency").and_then(|v| v.parse::<u64>().ok()) < Some(5) {
        problems.add(format!(
            "writes not timed: {:?}",
            get("zk_cnt_updatelatency")
        ));
    }
    problems.check("standalone_mntr_matches_apache");
}

#[test]
fn ensemble_mntr_matches_apache() {
    require_kazoo();
    let mut answers: BTreeMap<(String, &str), String> = BTreeMap::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let follower = (leader + 1) % 3;
        let (lp, fp) = (
            c.members[leader].client_port,
            c.members[follower].client_port,
        );
        let got = mntr_after_state(fp, &[("leader", lp), ("follower", fp)]);
        for (role, text) in got {
            answers.insert((role, kind.name()), text);
        }
    }
    let mut problems = Problems::default();
    let bytes = |kind: &str| -> i64 {
        answers[&("config_bytes".to_string(), kind)]
            .parse()
            .unwrap_or(0)
    };
    let config = (bytes("apache"), bytes("ferrozk"));
    for role in ["leader", "follower"] {
        let a = &answers[&(role.to_string(), "apache")];
        let f = &answers[&(role.to_string(), "ferrozk")];
        compare(role, a, f, config, &mut problems);
    }
    problems.check("ensemble_mntr_matches_apache");
}

/// Reads `/metrics` with the Python client's parser: prints
/// `{family: [type, {sample name + labels: value}]}`.
const PARSE: &str = r#"
import sys, json, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
out = {}
for f in text_string_to_metric_families(text):
    samples = {}
    for s in f.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        samples[s.name + ("{" + labels + "}" if labels else "")] = s.value
    out[f.name] = [f.type, samples]
print(json.dumps(out))
"#;

type Families = BTreeMap<String, (String, BTreeMap<String, f64>)>;

fn scrape(url: &str) -> Families {
    let out = run_with_timeout(
        Command::new(PYTHON).arg("-c").arg(PARSE).arg(url),
        Duration::from_secs(30),
    );
    assert!(
        out.success(),
        "prometheus_client parser: {}",
        out.describe()
    );
    serde_json::from_str(out.stdout.trim()).expect("JSON")
}

fn require_prometheus_client() {
    let out = run_with_timeout(
        Command::new(PYTHON).args(["-c", "import prometheus_client.parser"]),
        Duration::from_secs(30),
    );
    assert!(
        out.success(),
        "python3-prometheus-client is required (apt-get install python3-prometheus-client): {}",
        out.describe()
    );
}

/// Writes `n` znodes through kazoo.
fn write_znodes(port: u16, n: usize) {
    let script = format!(
        "from kazoo.client import KazooClient\n\
         zk = KazooClient(hosts='127.0.0.1:{port}', timeout=30); zk.start()\n\
         zk.ensure_path('/load')\n\
         for i in range({n}): zk.create('/load/n%d' % i, b'v' * 10)\n\
         zk.stop()\n"
    );
    let out = run_with_timeout(
        Command::new(PYTHON).arg("-c").arg(script),
        Duration::from_secs(60),
    );
    assert!(out.success(), "kazoo load: {}", out.describe());
}

fn prometheus_server(http_port: u16) -> TestServer {
    let port = http_port.to_string();
    TestServer::start(
        ServerKind::Ferrozk,
        &[
            (
                "metricsProvider.className",
                "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
            ),
            ("metricsProvider.httpHost", "127.0.0.1"),
            ("metricsProvider.httpPort", &port),
            ("metricsProvider.exportJvmInfo", "false"),
        ],
    )
}

#[test]
fn prometheus_endpoint_parses_and_counters_move() {
    require_kazoo();
    require_prometheus_client();
    let http = free_port();
    let s = prometheus_server(http);
    let url = format!("http://127.0.0.1:{http}/metrics");
    let before = scrape(&url);
    let mut problems = Problems::default();
    let expect = [
        ("znode_count", "gauge"),
        ("watch_count", "gauge"),
        ("ephemerals_count", "gauge"),
        ("approximate_data_size", "gauge"),
        ("outstanding_requests", "gauge"),
        ("num_alive_connections", "gauge"),
        ("packets_received", "gauge"),
        ("packets_sent", "gauge"),
        ("uptime", "gauge"),
        ("bytes_received_count", "counter"),
        ("prep_processor_request_queued", "counter"),
        ("outstanding_changes_queued", "counter"),
        ("response_bytes", "counter"),
        ("fsynctime", "summary"),
        ("sync_processor_batch_size", "summary"),
        ("readlatency", "summary"),
        ("updatelatency", "summary"),
        ("election_time", "summary"),
        ("write_per_namespace", "summary"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("process_cpu_seconds", "counter"),
    ];
    let n = 50;
    write_znodes(s.port(), n);
    let after = scrape(&url);
    for (name, ty) in expect {
        match after.get(name) {
            None => problems.add(format!("family {name} missing")),
            Some((t, _)) if t != ty => problems.add(format!("{name}: type {t}, expected {ty}")),
            _ => {}
        }
    }
    // Advanced summaries carry three quantiles, basic ones the median.
    let quantiles = |fam: &str| -> Vec<String> {
        after.get(fam).map_or(Vec::new(), |(_, s)| {
            s.keys()
                .filter(|k| k.contains("quantile="))
                .cloned()
                .collect()
        })
    };
    if quantiles("updatelatency").len() != 3 {
        problems.add(format!(
            "updatelatency quantiles: {:?}",
            quantiles("updatelatency")
        ));
    }
    if quantiles("fsynctime").len() != 1 {
        problems.add(format!("fsynctime quantiles: {:?}", quantiles("fsynctime")));
    }
    let value = |f: &Families, fam: &str, sample: &str| -> f64 {
        f.get(fam)
            .and_then(|(_, s)| s.get(sample))
            .copied()
            .unwrap_or(-1.0)
    };
    let grew = |fam: &str, sample: &str, by: f64, problems: &mut Problems| {
        let (b, a) = (value(&before, fam, sample), value(&after, fam, sample));
        if a - b.max(0.0) < by || a.is_nan() {
            problems.add(format!(
                "{sample}: {b} -> {a}, expected growth of at least {by}"
            ));
        }
    };
    let n = n as f64;
    grew("packets_received", "packets_received", n, &mut problems);
    grew("znode_count", "znode_count", n, &mut problems);
    grew(
        "prep_processor_request_queued",
        "prep_processor_request_queued_total",
        n,
        &mut problems,
    );
    grew("updatelatency", "updatelatency_count", n, &mut problems);
    grew("fsynctime", "fsynctime_count", 1.0, &mut problems);
    grew(
        "write_per_namespace",
        "write_per_namespace_count{key=load}",
        n,
        &mut problems,
    );
    problems.check("prometheus_endpoint_parses_and_counters_move");
}

#[test]
fn prometheus_server_scrapes_ferrozk() {
    require_tool("/usr/bin/prometheus", &["--version"]);
    let http = free_port();
    let s = prometheus_server(http);
    let web = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ferrozk\n    \
             static_configs:\n      - targets: ['127.0.0.1:{http}']\n"
        ),
    )
    .unwrap();
    let mut prom = Command::new("/usr/bin/prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start prometheus");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _kill = Kill(&mut prom);
    let query = format!("http://127.0.0.1:{web}/api/v1/query?query=znode_count");
    let deadline = Instant::now() + Duration::from_secs(30);
    let expected = TestServer::four_letter(&s, "mntr")
        .lines()
        .find_map(|l| l.strip_prefix("zk_znode_count\t").map(str::to_string))
        .expect("zk_znode_count");
    loop {
        let out = run_with_timeout(
            Command::new(PYTHON).args([
                "-c",
                "import sys, urllib.request; \
                 print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())",
                &query,
            ]),
            Duration::from_secs(5),
        );
        if out.success() && out.stdout.contains(&format!("\"{expected}\"")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not report znode_count {expected} within 30 s: {}",
            out.stdout
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `zk_<key>` of a `mntr` answer as an integer (-1 when absent).
fn mntr_int(mntr: &str, key: &str) -> i64 {
    parse(mntr)
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(-1)
}

/// Writes `n` znodes through the leader (pipelined), reads through the
/// follower, closes both sessions, then prints `{label: mntr}` as JSON.
const QUORUM_LOAD: &str = r#"
import sys, json, socket
from kazoo.client import KazooClient

def word(port, w):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
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
zk = KazooClient(hosts="127.0.0.1:%d" % spec["leader"], timeout=30)
zk.start()
zk.ensure_path("/load")
ops = [zk.create_async("/load/n%d" % i, b"v") for i in range(spec["n"])]
for o in ops:
    o.get(timeout=60)
r = KazooClient(hosts="127.0.0.1:%d" % spec["follower"], timeout=30)
r.start()
for i in range(spec["reads"]):
    r.get("/load")
r.stop()
zk.stop()
print(json.dumps({label: word(port, "mntr") for label, port in spec["targets"]}))
"#;

/// Zab's latencies, the log thread's queue and the leader's syncs, where
/// Apache ZooKeeper records them: on the leader `quorum_ack_latency`, its
/// own `proposal_ack_creation_latency`, `ack_latency` per server (every
/// 1000th zxid: 1000 writes cross one), two `inflight_diff_count` (or
/// `inflight_snap_count`) observations per synced follower, the prep queue and closeSession
/// preps; on a follower `proposal_latency`, `commit_propagation_latency`,
/// its ACKs and its request queue; and none of the other role's.
#[test]
fn ensemble_zab_latencies_are_measured_where_apache_measures_them() {
    require_kazoo();
    let (n, reads) = (1000i64, 10i64);
    let mut problems = Problems::default();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let follower = (leader + 1) % 3;
        let (lp, fp) = (
            c.members[leader].client_port,
            c.members[follower].client_port,
        );
        let spec = serde_json::json!({
            "leader": lp, "follower": fp, "n": n, "reads": reads,
            "targets": [["leader", lp], ["follower", fp]],
        });
        let out = run_with_timeout(
            Command::new(PYTHON)
                .arg("-c")
                .arg(QUORUM_LOAD)
                .arg(spec.to_string()),
            Duration::from_secs(120),
        );
        assert!(out.success(), "kazoo load: {}", out.describe());
        let got: BTreeMap<String, String> =
            serde_json::from_str(out.stdout.trim()).expect("the script prints JSON");
        let name = kind.name();
        let mut expect = |role: &str, key: &str, min: i64, max: Option<i64>| {
            let v = mntr_int(&got[role], key);
            if v < min || max.is_some_and(|m| v > m) {
                problems.add(format!(
                    "{name} {role}: {key}={v}, expected {min}..={}",
                    max.map_or("".into(), |m| m.to_string())
                ));
            }
        };
        expect("leader", "zk_cnt_quorum_ack_latency", n, None);
        expect("leader", "zk_cnt_proposal_ack_creation_latency", n, None);
        expect("leader", "zk_cnt_proposal_latency", 0, Some(0));
        expect("leader", "zk_cnt_commit_propagation_latency", 0, Some(0));
        expect("leader", "zk_cnt_prep_processor_queue_size", n, None);
        expect("leader", "zk_cnt_close_session_prep_time", 2, None);
        expect("follower", "zk_cnt_proposal_latency", n, None);
        expect("follower", "zk_cnt_commit_propagation_latency", n, None);
        expect("follower", "zk_cnt_proposal_ack_creation_latency", n, None);
        expect("follower", "zk_cnt_quorum_ack_latency", 0, Some(0));
        expect(
            "follower",
            "zk_cnt_learner_request_processor_queue_size",
            reads,
            None,
        );
        for role in ["leader", "follower"] {
            for key in [
                "zk_cnt_sync_processor_queue_size",
                "zk_cnt_sync_processor_queue_time_ms",
                "zk_cnt_sync_processor_queue_and_flush_time_ms",
            ] {
                expect(role, key, n, None);
            }
        }
        let acks: Vec<(String, String)> = parse(&got["leader"])
            .into_iter()
            .filter(|(k, v)| k.starts_with("zk_cnt_") && k.ends_with("_ack_latency") && v != "0")
            .filter(|(k, _)| {
                let sid = &k["zk_cnt_".len()..k.len() - "_ack_latency".len()];
                sid.parse::<u64>().is_ok()
            })
            .collect();
        if acks.is_empty() {
            problems.add(format!(
                "{name} leader: no <sid>_ack_latency after {n} writes"
            ));
        }
        // Two observations per synced follower, of the sync it got: a DIFF
        // usually, a SNAP when a follower joins before the leader has a
        // history to diff against (seen on Apache under CI load).
        let syncs = mntr_int(&got["leader"], "zk_cnt_inflight_diff_count")
            + mntr_int(&got["leader"], "zk_cnt_inflight_snap_count");
        if syncs < 4 {
            problems.add(format!(
                "{name} leader: inflight diff + snap counts {syncs}, expected >= 4"
            ));
        }
    }
    problems.check("ensemble_zab_latencies_are_measured_where_apache_measures_them");
}

/// Creates `n` znodes in one session, then prints the server's zxid
/// (`srvr`'s `Zxid:`) once the session is closed.
fn write_and_zxid(port: u16, n: usize) -> i64 {
    write_znodes(port, n);
    let srvr = four_letter_at(
        &format!("127.0.0.1:{port}"),
        "srvr",
        Duration::from_secs(10),
    )
    .expect("srvr");
    let hex = srvr
        .lines()
        .find_map(|l| l.strip_prefix("Zxid: 0x"))
        .expect("srvr has Zxid");
    i64::from_str_radix(hex.trim(), 16).expect("hex zxid")
}

/// The zxid of the newest snapshot in `data_dir`.
fn newest_snapshot(data_dir: &std::path::Path) -> i64 {
    std::fs::read_dir(data_dir.join("version-2"))
        .expect("version-2")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            i64::from_str_radix(name.strip_prefix("snapshot.")?, 16).ok()
        })
        .max()
        .expect("a snapshot")
}

/// A restart loads the snapshot and replays the log after it, as
/// ZooKeeper's `loadDataBase` reports: one `dbinittime`, and one
/// `startup_txns_loaded` of exactly the transactions after the snapshot
/// (on both servers a standalone start writes a snapshot, counted in
/// `snapshottime`).
#[test]
fn restart_reports_the_database_load() {
    require_kazoo();
    let mut problems = Problems::default();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let root = tempfile::tempdir().expect("temp dir");
        let name = kind.name();
        let last = {
            let s = TestServer::start_in(kind, &[], root.path());
            let snaps = mntr_int(&s.four_letter("mntr"), "zk_cnt_snapshottime");
            if snaps < 1 {
                problems.add(format!("{name}: no start-up snapshot timed ({snaps})"));
            }
            write_and_zxid(s.port(), 30)
        };
        let snap = newest_snapshot(&root.path().join("data"));
        assert!(last > snap, "{name}: writes after the snapshot");
        let s = TestServer::start_in(kind, &[], root.path());
        let mntr = s.four_letter("mntr");
        for (key, want) in [
            ("zk_cnt_dbinittime", 1),
            ("zk_cnt_startup_txns_loaded", 1),
            ("zk_sum_startup_txns_loaded", last - snap),
        ] {
            let got = mntr_int(&mntr, key);
            if got != want {
                problems.add(format!(
                    "{name} after restart: {key}={got}, expected {want}"
                ));
            }
        }
    }
    problems.check("restart_reports_the_database_load");
}

/// With a small `snapCount` the log rolls and a snapshot is written and
/// timed every 6 to 10 transactions.
#[test]
fn snapshots_after_snap_count_writes_are_timed() {
    require_kazoo();
    let mut problems = Problems::default();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let s = TestServer::start(kind, &[("snapCount", "10")]);
        let before = mntr_int(&s.four_letter("mntr"), "zk_cnt_snapshottime");
        write_znodes(s.port(), 40);
        // Snapshots are written in the background: wait for the count.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut now = before;
        while now < before + 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            now = mntr_int(&s.four_letter("mntr"), "zk_cnt_snapshottime");
        }
        if now < before + 3 {
            problems.add(format!(
                "{}: snapshottime count {before} -> {now} after 40 writes with snapCount=10",
                kind.name()
            ));
        }
    }
    problems.check("snapshots_after_snap_count_writes_are_timed");
}
