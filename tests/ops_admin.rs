//! The AdminServer (`admin.*`), differentially against Apache ZooKeeper
//! 3.8 with its Jetty admin server: the same state on a fresh server of
//! each kind, every command (and alias) fetched over HTTP, and compared —
//! status, content type, the JSON's keys, nesting, order and types, and
//! the values that must be equal; the command list page byte for byte;
//! Jetty's answers to other paths and methods; the idle timeout. Then the
//! ensemble view (`leader`, `voting_view`, `zabstate`, `observers`) on the
//! leader and a follower of a 3-member ensemble of each kind, one of whose
//! members cannot bind its admin port (an ensemble member serves without
//! it, as Apache's does); a standalone server with a busy admin port exits
//! with status 4 (ERROR_STARTING_ADMIN_SERVER) on both; and
//! `admin.enableServer=false` binds nothing.
//!
//! The harness servers of the other tests run with the admin server off;
//! these start their own, on free ports, with Jetty on Apache's classpath.

mod common;
#[path = "ops_admin_support/json.rs"]
mod json;
#[path = "ops_admin_support/node.rs"]
mod node;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{free_ports, run_with_timeout, Problems, ServerKind};
use ferrozk::client::CreateMode;
use json::J;
use node::{http, server_command, standalone_cfg, Node, Reply};

/// Every command and alias ZooKeeper 3.8 registers, and 3.9's two.
const COMMANDS: &[&str] = &[
    "configuration",
    "conf",
    "config",
    "connections",
    "cons",
    "dirs",
    "dump",
    "environment",
    "env",
    "envi",
    "get_trace_mask",
    "gtmk",
    "hash",
    "initial_configuration",
    "icfg",
    "is_read_only",
    "isro",
    "last_snapshot",
    "lsnp",
    "leader",
    "lead",
    "monitor",
    "mntr",
    "observers",
    "obsr",
    "ruok",
    "server_stats",
    "srvr",
    "stats",
    "stat",
    "system_properties",
    "sysp",
    "voting_view",
    "watch_summary",
    "wchs",
    "watches",
    "wchc",
    "watches_by_path",
    "wchp",
    "zabstate",
    "set_trace_mask",
    "stmk",
    "snapshot",
    "restore",
    "nope",
    "connection_stat_reset",
    "crst",
    "stat_reset",
    "srst",
    "observer_connection_stat_reset",
    "orst",
];

/// Commands whose values must be equal on both servers for the same
/// state (beyond the shape), by path; `*` compares the whole body.
const EQUAL: &[(&str, &[&str])] = &[
    (
        "configuration",
        &[
            "tick_time",
            "max_client_cnxns",
            "min_session_timeout",
            "max_session_timeout",
            "server_id",
            "client_port_listen_backlog",
        ],
    ),
    (
        "connections",
        &["connections/0/session_timeout", "secure_connections"],
    ),
    ("dump", &["session_id_to_ephemeral_paths"]),
    ("is_read_only", &["*"]),
    ("leader", &["*"]),
    ("observers", &["*"]),
    ("voting_view", &["*"]),
    ("zabstate", &["*"]),
    ("watch_summary", &["*"]),
    ("watches", &["session_id_to_watched_paths"]),
    ("watches_by_path", &["path_to_session_ids"]),
    ("hash", &["*"]),
    ("last_snapshot", &["zxid"]),
    ("get_trace_mask", &["*"]),
    ("ruok", &["*"]),
    ("set_trace_mask", &["*"]),
    ("snapshot", &["*"]),
    ("restore", &["*"]),
    ("nope", &["*"]),
    ("stat_reset", &["*"]),
    ("connection_stat_reset", &["*"]),
    ("observer_connection_stat_reset", &["*"]),
    (
        "server_stats",
        &[
            "read_only",
            "node_count",
            "server_stats/server_state",
            "server_stats/num_alive_client_connections",
            "server_stats/provider_null",
        ],
    ),
    (
        "stats",
        &[
            "node_count",
            "server_stats/server_state",
            "secure_connections",
        ],
    ),
    (
        "monitor",
        &[
            "server_state",
            "znode_count",
            "watch_count",
            "ephemerals_count",
            "num_alive_connections",
            "global_sessions",
        ],
    ),
];

/// Replaces session ids in keys and values by their order of appearance.
fn without_sessions(j: &J, sessions: &[i64]) -> J {
    let rename = |n: i64| sessions.iter().position(|&s| s == n).map(|i| i as i64);
    match j {
        J::Int(n) => J::Int(rename(*n).map_or(*n, |i| -1000 - i)),
        J::Arr(v) => J::Arr(v.iter().map(|x| without_sessions(x, sessions)).collect()),
        J::Obj(kv) => J::Obj(
            kv.iter()
                .map(|(k, v)| {
                    let k = match k.parse::<i64>().ok().and_then(rename) {
                        Some(i) => format!("session{i}"),
                        None => k.clone(),
                    };
                    (k, without_sessions(v, sessions))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What one server answered for every command, after the same state.
struct Answers {
    replies: Vec<(String, Reply)>,
    session: i64,
    list: Reply,
    elsewhere: Vec<(String, Reply)>,
    after_set: Vec<(String, J)>,
    idle_closed_after: Option<Duration>,
}

/// Starts `kind`, builds the state (one session: /a, /a/b, an ephemeral
/// /eph, a data watch on /a, an exists watch on /a/b, a child watch on
/// /a) and fetches everything.
fn collect(kind: ServerKind) -> Answers {
    let dir = tempfile::Builder::new()
        .prefix(&format!("ferrozk-admin-{}-", kind.name()))
        .tempdir()
        .unwrap();
    let ports = free_ports(2);
    let cfg = standalone_cfg(dir.path(), ports[0], ports[1]);
    let mut node = Node::spawn(kind, dir.path(), &cfg);
    node.wait_serving(true);
    let rt = common::runtime();
    let acl = ferrozk::tree::acl::open_acl_unsafe();
    let client = rt.block_on(async {
        let c = common::connect_client(&node.client_addr()).await;
        c.create("/a", b"hello", &acl, CreateMode::Persistent)
            .await
            .unwrap();
        c.create("/a/b", &[b'x'; 100], &acl, CreateMode::Persistent)
            .await
            .unwrap();
        c.create("/eph", b"", &acl, CreateMode::Ephemeral)
            .await
            .unwrap();
        c.get_data("/a", true).await.unwrap();
        c.exists("/a/b", true).await.unwrap();
        c.get_children("/a", true).await.unwrap();
        c
    });
    let session = client.session_id();
    let mut replies = Vec::new();
    for c in COMMANDS {
        replies.push((c.to_string(), node.get(&format!("/commands/{c}"))));
    }
    let list = node.get("/commands");
    let mut elsewhere = Vec::new();
    for (method, path) in [
        ("GET", "/commands/"),
        ("GET", "/nope"),
        ("GET", "/"),
        ("HEAD", "/commands/ruok"),
        ("POST", "/commands/ruok"),
        ("TRACE", "/commands/ruok"),
        ("GET", "/commands/set_trace_mask?traceMask=abc"),
    ] {
        let r = http(node.admin_port, method, path).unwrap();
        elsewhere.push((format!("{method} {path}"), r));
    }
    let after_set = vec![
        (
            "set 99".to_string(),
            node.json("set_trace_mask?traceMask=99"),
        ),
        ("get".to_string(), node.json("get_trace_mask")),
        (
            "set back".to_string(),
            node.json("set_trace_mask?traceMask=306"),
        ),
    ];
    let idle_closed_after = idle_close(node.admin_port);
    rt.block_on(async { drop(client) });
    Answers {
        replies,
        session,
        list,
        elsewhere,
        after_set,
        idle_closed_after,
    }
}

/// How long an idle connection to the admin port stays open (the
/// configured admin.idleTimeout is 1.5 s); `None` if still open at 15 s.
fn idle_close(port: u16) -> Option<Duration> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => Some(start.elapsed()),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(start.elapsed()),
        _ => None,
    }
}

fn compare_command(p: &mut Problems, cmd: &str, a: &Reply, f: &Reply, sa: i64, sf: i64) {
    if a.status != f.status {
        p.add(format!(
            "{cmd}: status {} (apache) vs {} (ferrozk)",
            a.status, f.status
        ));
    }
    if a.header("content-type") != f.header("content-type") {
        p.add(format!(
            "{cmd}: content type {:?} vs {:?}",
            a.header("content-type"),
            f.header("content-type")
        ));
    }
    let (Ok(ja), Ok(jf)) = (J::parse(&a.body), J::parse(&f.body)) else {
        p.add(format!("{cmd}: not JSON:\n{}\n---\n{}", a.body, f.body));
        return;
    };
    let primary = ja.at("command").cloned();
    if primary != jf.at("command").cloned() {
        p.add(format!(
            "{cmd}: command {primary:?} vs {:?}",
            jf.at("command")
        ));
    }
    let name = match &primary {
        Some(J::Str(s)) if !s.contains(' ') => s.clone(),
        _ => cmd.to_string(),
    };
    match name.as_str() {
        // A JVM's properties; ferrozk's are a subset with the same names.
        "system_properties" => {
            let ka = ja.keys();
            for k in jf.keys() {
                if !ka.contains(&k) {
                    p.add(format!("system_properties: {k} is not an Apache key"));
                }
            }
            let zk = |j: &J| -> Vec<(String, J)> {
                match j {
                    J::Obj(kv) => kv
                        .iter()
                        .filter(|(k, _)| k.starts_with("zookeeper."))
                        .cloned()
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let (za, zf) = (zk(&ja), zk(&jf));
            // The admin port differs; the keys and other values do not.
            let names = |z: &[(String, J)]| z.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            if names(&za) != names(&zf) {
                p.add(format!(
                    "system_properties: zookeeper.* {:?} vs {:?}",
                    names(&za),
                    names(&zf)
                ));
            }
        }
        // Apache's ServerStats bean keys come in JVM reflection order,
        // which differs between runs: compare them as a set.
        "server_stats" | "stats" => {
            let sorted = |j: &J| {
                let mut k: Vec<String> = j
                    .at("server_stats")
                    .map(|s| s.keys().iter().map(|k| k.to_string()).collect())
                    .unwrap_or_default();
                k.sort();
                k
            };
            if sorted(&ja) != sorted(&jf) {
                p.add(format!(
                    "{cmd}: server_stats keys {:?} vs {:?}",
                    sorted(&ja),
                    sorted(&jf)
                ));
            }
            if ja.keys() != jf.keys() {
                p.add(format!("{cmd}: keys {:?} vs {:?}", ja.keys(), jf.keys()));
            }
            let conns = |j: &J| j.at("connections").map(J::shape);
            if conns(&ja) != conns(&jf) {
                p.add(format!(
                    "{cmd}: connections {:?} vs {:?}",
                    conns(&ja),
                    conns(&jf)
                ));
            }
        }
        // The metrics helper's key set; here the types of the keys both
        // have, and the keys scrapers read.
        "monitor" => {
            for k in [
                "version",
                "server_state",
                "znode_count",
                "watch_count",
                "ephemerals_count",
                "approximate_data_size",
                "avg_latency",
                "max_latency",
                "min_latency",
                "packets_received",
                "packets_sent",
                "num_alive_connections",
                "outstanding_requests",
                "open_file_descriptor_count",
                "max_file_descriptor_count",
                "uptime",
            ] {
                match (ja.at(k), jf.at(k)) {
                    (Some(x), Some(y)) if x.shape() == y.shape() => {}
                    (x, y) => p.add(format!("monitor: {k}: {x:?} vs {y:?}")),
                }
            }
        }
        _ => {
            if ja.shape() != jf.shape() {
                p.add(format!(
                    "{cmd}: shape\n  apache:  {}\n  ferrozk: {}",
                    ja.shape(),
                    jf.shape()
                ));
            }
        }
    }
    let equal = EQUAL
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, v)| *v)
        .unwrap_or(&[]);
    let (na, nf) = (without_sessions(&ja, &[sa]), without_sessions(&jf, &[sf]));
    for path in equal {
        let (x, y) = if *path == "*" {
            (Some(&na), Some(&nf))
        } else {
            (na.at(path), nf.at(path))
        };
        if x != y {
            p.add(format!("{cmd}: {path}: {x:?} (apache) vs {y:?} (ferrozk)"));
        }
    }
}

#[test]
fn every_command_answers_as_apache_for_the_same_state() {
    let (a, f) = std::thread::scope(|s| {
        let a = s.spawn(|| collect(ServerKind::Apache));
        let f = s.spawn(|| collect(ServerKind::Ferrozk));
        (a.join().unwrap(), f.join().unwrap())
    });
    let mut p = Problems::default();
    for ((cmd, ra), (_, rf)) in a.replies.iter().zip(&f.replies) {
        compare_command(&mut p, cmd, ra, rf, a.session, f.session);
    }
    // Values ferrozk must get right on its own.
    let fj =
        |cmd: &str| J::parse(&f.replies.iter().find(|(c, _)| c == cmd).unwrap().1.body).unwrap();
    let conf = fj("configuration");
    for key in ["data_dir", "data_log_dir"] {
        match conf.at(key) {
            Some(J::Str(d)) if d.ends_with("/data/version-2") && d.starts_with('/') => {}
            other => p.add(format!("configuration {key}: {other:?}")),
        }
    }
    if fj("connections").at("connections/0/session_id") != Some(&J::Int(f.session)) {
        p.add("connections: the client's session id".to_string());
    }
    if fj("dump")
        .at(&format!("session_id_to_ephemeral_paths/{}", f.session))
        .is_none()
    {
        p.add("dump: the client's ephemerals under its session id".to_string());
    }
    if a.list.body != f.list.body || a.list.status != f.list.status {
        p.add(format!(
            "list page:\n{}",
            common::diff_lines(&a.list.body, &f.list.body, 20)
        ));
    }
    if a.list.header("content-type") != f.list.header("content-type") {
        p.add(format!(
            "list content type {:?} vs {:?}",
            a.list.header("content-type"),
            f.list.header("content-type")
        ));
    }
    for ((what, ra), (_, rf)) in a.elsewhere.iter().zip(&f.elsewhere) {
        if ra.status != rf.status {
            p.add(format!("{what}: status {} vs {}", ra.status, rf.status));
        }
        if ra.header("content-type") != rf.header("content-type") {
            p.add(format!(
                "{what}: content type {:?} vs {:?}",
                ra.header("content-type"),
                rf.header("content-type")
            ));
        }
        let json = |r: &Reply| J::parse(&r.body).ok();
        if ra.status == 200 && json(ra) != json(rf) {
            p.add(format!("{what}: {:?} vs {:?}", ra.body, rf.body));
        }
        if what.starts_with("HEAD")
            && (!rf.body.is_empty() || rf.header("content-length") != ra.header("content-length"))
        {
            p.add(format!(
                "HEAD: body {:?}, length {:?} vs {:?}",
                rf.body,
                rf.header("content-length"),
                ra.header("content-length")
            ));
        }
    }
    if a.after_set != f.after_set {
        p.add(format!(
            "trace mask: {:?} vs {:?}",
            a.after_set, f.after_set
        ));
    }
    for (kind, idle) in [
        ("apache", a.idle_closed_after),
        ("ferrozk", f.idle_closed_after),
    ] {
        match idle {
            Some(d) if d >= Duration::from_millis(1000) => {}
            other => p.add(format!(
                "{kind}: an idle admin connection closed after {other:?} (admin.idleTimeout=1500)"
            )),
        }
    }
    p.check("every_command_answers_as_apache_for_the_same_state");
}

/// A 3-member ensemble of `kind` with admin servers; member 1's admin
/// port is held by `busy`, so it must serve without its AdminServer.
fn ensemble(kind: ServerKind, root: &Path, busy: &TcpListener) -> Vec<Node> {
    let ports = free_ports(9);
    let busy_port = busy.local_addr().unwrap().port();
    let servers: Vec<(String, String)> = (0..3)
        .map(|i| {
            (
                format!("server.{}", i + 1),
                format!("127.0.0.1:{}:{}", ports[3 + i], ports[6 + i]),
            )
        })
        .collect();
    (0..3)
        .map(|i| {
            let dir = root.join(format!("s{}", i + 1));
            std::fs::create_dir_all(dir.join("data")).unwrap();
            std::fs::write(dir.join("data/myid"), format!("{}\n", i + 1)).unwrap();
            let admin = if i == 0 {
                busy_port
            } else {
                common::free_port()
            };
            let mut cfg: Vec<(String, String)> = [
                ("tickTime", "500".to_string()),
                ("initLimit", "10".into()),
                ("syncLimit", "5".into()),
                ("dataDir", dir.join("data").display().to_string()),
                ("clientPort", ports[i].to_string()),
                ("clientPortAddress", "127.0.0.1".into()),
                ("maxClientCnxns", "0".into()),
                ("4lw.commands.whitelist", "*".into()),
                ("admin.enableServer", "true".into()),
                ("admin.serverAddress", "127.0.0.1".into()),
                ("admin.serverPort", admin.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            cfg.extend(servers.iter().cloned());
            Node::spawn(kind, &dir, &cfg)
        })
        .collect()
}

/// One member's ensemble commands.
struct MemberView {
    sid: u64,
    leader: bool,
    /// Command → body with the ports replaced by names (`Q1`, `E2`,
    /// `CLIENT`) and the zxids left out, so the two kinds compare.
    bodies: Vec<(String, J)>,
    /// Command → shape.
    shapes: Vec<(String, String)>,
}

fn member_view(n: &Node, sid: u64, leader: bool, q: &[u16], e: &[u16]) -> MemberView {
    let (mut bodies, mut shapes) = (Vec::new(), Vec::new());
    for cmd in ["leader", "voting_view", "zabstate", "observers"] {
        let raw = J::parse(&n.get(&format!("/commands/{cmd}")).body).unwrap();
        shapes.push((cmd.to_string(), raw.shape()));
        let mut names: Vec<(String, String)> = Vec::new();
        for (i, (qp, ep)) in q.iter().zip(e).enumerate() {
            names.push((qp.to_string(), format!("Q{}", i + 1)));
            names.push((ep.to_string(), format!("E{}", i + 1)));
        }
        names.push((n.client_port.to_string(), "CLIENT".into()));
        // Zxids differ (Apache's follower reports 0x0, its leader the new
        // epoch): their shape is compared, not their values.
        let j = match rename_ports(&raw, &names) {
            J::Obj(kv) => J::Obj(
                kv.into_iter()
                    .filter(|(k, _)| !k.starts_with("zab_") && k != "last_zxid")
                    .collect(),
            ),
            other => other,
        };
        bodies.push((cmd.to_string(), j));
    }
    MemberView {
        sid,
        leader,
        bodies,
        shapes,
    }
}

/// `j` with port numbers (in strings, and as numbers) replaced by names.
fn rename_ports(j: &J, names: &[(String, String)]) -> J {
    match j {
        J::Str(x) => {
            let mut x = x.clone();
            for (port, name) in names {
                x = x.replace(port, name);
            }
            J::Str(x)
        }
        J::Int(n) => match names.iter().find(|(p, _)| *p == n.to_string()) {
            Some((_, name)) => J::Str(name.clone()),
            None => J::Int(*n),
        },
        J::Arr(v) => J::Arr(v.iter().map(|x| rename_ports(x, names)).collect()),
        J::Obj(kv) => J::Obj(
            kv.iter()
                .map(|(k, v)| (k.clone(), rename_ports(v, names)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a member must answer, whatever the kind.
fn check_member(p: &mut Problems, kind: &str, m: &MemberView, leader_sid: u64) {
    let body = |cmd: &str| &m.bodies.iter().find(|(c, _)| c == cmd).unwrap().1;
    let who = format!("{kind} member {}", m.sid);
    let s = |x: &str| J::Str(x.to_string());
    let leader = body("leader");
    if leader.at("is_leader") != Some(&J::Bool(m.leader))
        || leader.at("leader_id") != Some(&J::Int(leader_sid as i64))
        || leader.at("leader_ip") != Some(&s("127.0.0.1"))
    {
        p.add(format!("{who}: leader {leader:?}"));
    }
    let view = body("voting_view");
    for sid in 1..=3u64 {
        let at = |k: &str| view.at(&format!("current_config/{sid}/{k}")).cloned();
        let client = if sid == m.sid {
            s("127.0.0.1:CLIENT")
        } else {
            s("")
        };
        if at("server_addresses") != Some(J::Arr(vec![s(&format!("127.0.0.1:Q{sid}"))]))
            || at("election_addresses") != Some(J::Arr(vec![s(&format!("127.0.0.1:E{sid}"))]))
            || at("client_address") != Some(client)
            || at("learner_type") != Some(s("participant"))
        {
            p.add(format!("{who}: voting_view server {sid}: {view:?}"));
        }
    }
    let zab = body("zabstate");
    let me = m.sid;
    if zab.at("myid") != Some(&J::Int(me as i64))
        || zab.at("is_leader") != Some(&J::Bool(m.leader))
        || zab.at("voting") != Some(&J::Bool(true))
        || zab.at("zabstate") != Some(&s("broadcast"))
        || zab.at("quorum_address/one") != Some(&s(&format!("127.0.0.1:Q{me}")))
        || zab.at("election_address/one") != Some(&s(&format!("127.0.0.1:E{me}")))
        || zab.at("client_address") != Some(&s("127.0.0.1:CLIENT"))
    {
        p.add(format!("{who}: zabstate {zab:?}"));
    }
    let obs = body("observers");
    if obs.at("synced_observers") != Some(&J::Int(0))
        || obs.at("observers") != Some(&J::Arr(vec![]))
    {
        p.add(format!("{who}: observers {obs:?}"));
    }
}

/// Runs a 3-member ensemble of `kind` and reads the ensemble commands of
/// its leader and a follower (not member 1, which has no AdminServer);
/// returns them and member 1's log.
fn ensemble_views(kind: ServerKind) -> (Vec<MemberView>, u64, String) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("ferrozk-admin-ens-{}-", kind.name()))
        .tempdir()
        .unwrap();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut nodes = ensemble(kind, dir.path(), &busy);
    for (i, n) in nodes.iter_mut().enumerate() {
        // Member 1 serves without an AdminServer.
        n.wait_serving(i != 0);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let leader = loop {
        let modes: Vec<Option<String>> = nodes.iter().map(Node::mode).collect();
        let leaders: Vec<usize> = (0..3)
            .filter(|&i| modes[i].as_deref() == Some("leader"))
            .collect();
        if leaders.len() == 1 && modes.iter().all(Option::is_some) {
            break leaders[0];
        }
        assert!(
            Instant::now() < deadline,
            "{}: no leader: {modes:?}",
            kind.name()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let cfg = std::fs::read_to_string(dir.path().join("s2/zoo.cfg")).unwrap();
    let ports = |from_end: usize| -> Vec<u16> {
        (1..=3)
            .map(|i| {
                let line = cfg
                    .lines()
                    .find(|l| l.starts_with(&format!("server.{i}=")))
                    .unwrap();
                line.rsplit(':').nth(from_end).unwrap().parse().unwrap()
            })
            .collect()
    };
    let (q, e) = (ports(1), ports(0));
    let views = (1..3)
        .map(|i| member_view(&nodes[i], i as u64 + 1, i == leader, &q, &e))
        .collect();
    (views, leader as u64 + 1, nodes[0].log_tail())
}

#[test]
fn ensemble_members_report_leader_voting_view_and_zabstate_as_apache() {
    let ((va, la, _), (vf, lf, log1)) = std::thread::scope(|s| {
        let a = s.spawn(|| ensemble_views(ServerKind::Apache));
        let f = s.spawn(|| ensemble_views(ServerKind::Ferrozk));
        (a.join().unwrap(), f.join().unwrap())
    });
    let mut p = Problems::default();
    for m in &va {
        check_member(&mut p, "apache", m, la);
    }
    for m in &vf {
        check_member(&mut p, "ferrozk", m, lf);
    }
    // The same role answers with the same keys and types on both kinds,
    // and (when the same member leads) the same values.
    for role in [true, false] {
        let (Some(a), Some(f)) = (
            va.iter().find(|m| m.leader == role),
            vf.iter().find(|m| m.leader == role),
        ) else {
            continue;
        };
        if a.shapes != f.shapes {
            p.add(format!(
                "leader={role}: shapes\n  apache:  {:?}\n  ferrozk: {:?}",
                a.shapes, f.shapes
            ));
        }
        if la == lf && a.sid == f.sid && a.bodies != f.bodies {
            p.add(format!(
                "member {}: bodies\n  apache:  {:?}\n  ferrozk: {:?}",
                a.sid, a.bodies, f.bodies
            ));
        }
    }
    if !log1.contains("admin.serverPort") {
        p.add(format!(
            "ferrozk member 1 should warn naming admin.serverPort:\n{log1}"
        ));
    }
    p.check("ensemble_members_report_leader_voting_view_and_zabstate_as_apache");
}

#[test]
fn a_busy_admin_port_stops_a_standalone_server_with_status_4() {
    let mut p = Problems::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = [ServerKind::Apache, ServerKind::Ferrozk]
            .into_iter()
            .map(|kind| {
                s.spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
                    let client = common::free_port();
                    let cfg = standalone_cfg(dir.path(), client, busy.local_addr().unwrap().port());
                    let text: String = cfg.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                    std::fs::create_dir_all(dir.path().join("data")).unwrap();
                    let path = dir.path().join("zoo.cfg");
                    std::fs::write(&path, text).unwrap();
                    let out = run_with_timeout(
                        server_command(kind, &path).current_dir(dir.path()),
                        Duration::from_secs(60),
                    );
                    drop(busy);
                    (kind, out)
                })
            })
            .collect();
        for h in handles {
            let (kind, out) = h.join().unwrap();
            if out.code() != Some(4) {
                p.add(format!(
                    "{}: expected exit status 4: {}",
                    kind.name(),
                    out.describe()
                ));
            }
            if kind == ServerKind::Ferrozk && !out.stderr.contains("admin.serverPort") {
                p.add(format!(
                    "ferrozk's message names admin.serverPort: {}",
                    out.describe()
                ));
            }
        }
    });
    p.check("a_busy_admin_port_stops_a_standalone_server_with_status_4");
}

#[test]
fn a_disabled_admin_server_binds_nothing() {
    std::thread::scope(|s| {
        for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
            s.spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let ports = free_ports(2);
                let mut cfg = standalone_cfg(dir.path(), ports[0], ports[1]);
                for (k, v) in &mut cfg {
                    if k == "admin.enableServer" {
                        *v = "false".into();
                    }
                }
                let mut node = Node::spawn(kind, dir.path(), &cfg);
                node.wait_serving(false);
                assert!(
                    TcpStream::connect(("127.0.0.1", ports[1])).is_err(),
                    "{}: admin.enableServer=false, yet port {} answers",
                    kind.name(),
                    ports[1]
                );
            });
        }
    });
}
