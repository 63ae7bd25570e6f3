//! The AdminServer's `observers` and `observer_connection_stat_reset` on
//! the leader of an ensemble with an observer, on Apache ZooKeeper 3.8 and
//! on ferrozk: three voters and one observer of each kind, writes through
//! the leader, then the leader's view of its observer link — the same keys
//! in the same order and types, the observer's id and address, when it
//! connected, packets sent and received, the last zxid sent — and the
//! reset zeroing the counters.

mod common;
#[path = "ops_admin_support/json.rs"]
#[allow(dead_code)]
mod json;
#[path = "ops_admin_support/node.rs"]
#[allow(dead_code)]
mod node;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{four_letter_at, free_port, free_ports, Problems, ServerKind};
use ferrozk::client::CreateMode;
use json::J;
use node::Node;

/// Three voters (ids 1-3) and an observer (id 4), admin servers on.
fn ensemble(kind: ServerKind, root: &Path) -> Vec<Node> {
    let ports = free_ports(12);
    let line = |i: usize| {
        let role = if i == 3 { ":observer" } else { "" };
        format!("127.0.0.1:{}:{}{role}", ports[4 + i], ports[8 + i])
    };
    (0..4)
        .map(|i| {
            let dir = root.join(format!("s{}", i + 1));
            std::fs::create_dir_all(dir.join("data")).unwrap();
            std::fs::write(dir.join("data/myid"), format!("{}\n", i + 1)).unwrap();
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
                ("admin.serverPort", free_port().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            if i == 3 {
                cfg.push(("peerType".into(), "observer".into()));
            }
            cfg.extend((0..4).map(|j| (format!("server.{}", j + 1), line(j))));
            Node::spawn(kind, &dir, &cfg)
        })
        .collect()
}

fn int(j: &J, path: &str) -> i64 {
    match j.at(path) {
        Some(J::Int(n)) => *n,
        other => panic!("{path}: {other:?} in {j:?}"),
    }
}

/// The leader's `observers` once it lists the observer (it does after the
/// observer's sync).
fn observers_of(leader: &Node) -> J {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = leader.json("observers");
        if j.at("synced_observers") == Some(&J::Int(1)) {
            return j;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the leader never listed its observer: {j:?}",
            leader.kind.name()
        );
        // Polling the leader's view until the observer has synced.
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_leader_reports_its_observer_link_as_apache() {
    let mut p = Problems::default();
    let mut shapes = Vec::new();
    for kind in [ServerKind::Apache, ServerKind::Ferrozk] {
        let name = kind.name();
        let root = tempfile::tempdir().unwrap();
        let mut nodes = ensemble(kind, root.path());
        for n in nodes.iter_mut() {
            n.wait_serving(true);
        }
        let leader = nodes
            .iter()
            .find(|n| n.mode().as_deref() == Some("leader"))
            .expect("a leader");
        // Writes through the leader: proposals, commits and INFORMs.
        let rt = common::runtime();
        let acl = ferrozk::tree::acl::open_acl_unsafe();
        rt.block_on(async {
            let c = common::connect_client(&leader.client_addr()).await;
            for i in 0..20 {
                c.create(&format!("/obs-{i}"), b"x", &acl, CreateMode::Persistent)
                    .await
                    .unwrap();
            }
        });
        let srvr = four_letter_at(&leader.client_addr(), "srvr", Duration::from_secs(5)).unwrap();
        let zxid_after = srvr
            .lines()
            .find_map(|l| l.strip_prefix("Zxid: 0x"))
            .map(|z| i64::from_str_radix(z.trim(), 16).unwrap())
            .expect("srvr has a Zxid");
        let j = observers_of(leader);
        shapes.push((kind, j.shape()));
        let o = "observers/0";
        if int(&j, &format!("{o}/sid")) != 4 {
            p.add(format!("{name}: observer sid {j:?}"));
        }
        match j.at(&format!("{o}/remote_socket_address")) {
            // Java's SocketAddress.toString(): "/127.0.0.1:port".
            Some(J::Str(a)) if a.starts_with("/127.0.0.1:") => {}
            other => p.add(format!("{name}: remote_socket_address {other:?}")),
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let est = int(&j, &format!("{o}/established"));
        if !(now_ms - 120_000..=now_ms).contains(&est) {
            p.add(format!("{name}: established {est}, now {now_ms}"));
        }
        if int(&j, &format!("{o}/packets_sent")) < 20 {
            p.add(format!("{name}: packets_sent after 20 writes: {j:?}"));
        }
        if int(&j, &format!("{o}/last_zxid")) < zxid_after {
            p.add(format!("{name}: last_zxid below 0x{zxid_after:x}: {j:?}"));
        }
        // The reset zeroes the counters; pings go on, so a few may follow.
        let reset = leader.json("observer_connection_stat_reset");
        if reset.at("error") != Some(&J::Null) {
            p.add(format!("{name}: orst {reset:?}"));
        }
        let after = leader.json("observers");
        if int(&after, &format!("{o}/packets_sent")) >= int(&j, &format!("{o}/packets_sent")) {
            p.add(format!(
                "{name}: packets_sent not reset: {j:?} then {after:?}"
            ));
        }
    }
    if let [(_, a), (_, f)] = shapes.as_slice() {
        if a != f {
            p.add(format!("observers shape: apache {a} vs ferrozk {f}"));
        }
    }
    p.check("the_leader_reports_its_observer_link_as_apache");
}
