//! Durability under crashes: writers keep many requests in flight while the
//! server is killed with SIGKILL at a different moment each round; after a
//! restart on the same data directory every acknowledged write must be
//! there, and no multi may be half applied. Runs against ferrozk and, with
//! fewer rounds, against Apache ZooKeeper (which must pass the same test).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{kinds_under_test, ServerKind, TestServer};
use ferrozk::client::{acls, Client, CreateMode, MultiResult, Op};
use tokio::sync::Notify;

const WRITERS: usize = 8;
const SNAPSHOTS_OFTEN: &[(&str, &str)] = &[("snapCount", "64")];
const WAIT: Duration = Duration::from_secs(30);

/// Acknowledged writes: (path, data), and multis as (path a, path b).
#[derive(Default)]
struct Acked {
    nodes: Vec<(String, Vec<u8>)>,
    pairs: Vec<(String, String)>,
}

/// Writes until the connection fails, recording what was acknowledged.
async fn writer(
    client: Client,
    round: usize,
    w: usize,
    acked: Arc<Mutex<Acked>>,
    progress: Arc<Notify>,
) {
    let open = acls::open_unsafe();
    for i in 0.. {
        let data = format!("r{round}-w{w}-{i}").into_bytes();
        if i % 4 == 3 {
            let a = format!("/crash/m-{round}-{w}-{i}-a");
            let b = format!("/crash/m-{round}-{w}-{i}-b");
            let ops = vec![
                Op::create(&a, &data, open.clone(), CreateMode::Persistent),
                Op::create(&b, &data, open.clone(), CreateMode::Persistent),
            ];
            match client.multi(ops).await {
                Ok(r) if r.iter().all(|x| !matches!(x, MultiResult::Error(_))) => {
                    acked.lock().unwrap().pairs.push((a, b));
                    progress.notify_one();
                }
                _ => return,
            }
        } else {
            let path = format!("/crash/n-{round}-{w}-{i}");
            match client
                .create(&path, &data, &open, CreateMode::Persistent)
                .await
            {
                Ok(_) => {
                    acked.lock().unwrap().nodes.push((path, data));
                    progress.notify_one();
                }
                Err(_) => return,
            }
        }
    }
}

fn acked_count(a: &Mutex<Acked>) -> usize {
    let a = a.lock().unwrap();
    a.nodes.len() + a.pairs.len()
}

fn crash_rounds(kind: ServerKind, rounds: usize) {
    let root = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let mut all = Acked::default();
    for round in 0..rounds {
        // A small snapCount: fuzzy snapshots are taken while the writers run,
        // so recovery goes through snapshot + log replay.
        let server = TestServer::start_in(kind, SNAPSHOTS_OFTEN, root.path());
        let addr = server.addr();
        let acked = Arc::new(Mutex::new(Acked::default()));
        let progress = Arc::new(Notify::new());
        // Kill after a different number of acknowledged writes each round.
        let kill_after = 50 + (round * 7919) % 400;
        rt.block_on(async {
            let c = common::connect_client(&addr).await;
            // Exists already after the first round.
            let _ = c
                .create("/crash", b"", &acls::open_unsafe(), CreateMode::Persistent)
                .await;
            let mut tasks = Vec::new();
            for w in 0..WRITERS {
                let client = common::connect_client(&addr).await;
                tasks.push(tokio::spawn(writer(
                    client,
                    round,
                    w,
                    acked.clone(),
                    progress.clone(),
                )));
            }
            while acked_count(&acked) < kill_after {
                tokio::time::timeout(WAIT, progress.notified())
                    .await
                    .unwrap_or_else(|_| panic!("{kind:?}: writes stalled"));
            }
            drop(server); // SIGKILL with writes in flight
            for t in tasks {
                let _ = tokio::time::timeout(WAIT, t).await;
            }
        });
        let a = Arc::try_unwrap(acked)
            .ok()
            .expect("writers done")
            .into_inner()
            .unwrap();
        all.nodes.extend(a.nodes);
        all.pairs.extend(a.pairs);
        // Restart and check everything acknowledged so far, every round.
        let server = TestServer::start_in(kind, SNAPSHOTS_OFTEN, root.path());
        // Fuzzy snapshots carry the end-of-walk digest: replay over them must
        // agree with every logged TxnDigest from there on.
        assert!(
            !server.log_tail().contains("digest mismatch"),
            "{kind:?} round {round}:\n{}",
            server.log_tail()
        );
        rt.block_on(async {
            let c = common::connect_client(&server.addr()).await;
            for (path, data) in &all.nodes {
                let got = c.get_data(path, false).await;
                let (d, _) = got.unwrap_or_else(|e| {
                    panic!("{kind:?} round {round}: acknowledged {path} lost: {e}")
                });
                assert_eq!(d.as_deref(), Some(&data[..]), "{kind:?}: {path}");
            }
            for (a, b) in &all.pairs {
                assert!(
                    c.exists(a, false).await.unwrap().is_some(),
                    "{kind:?}: acknowledged multi lost {a}"
                );
                assert!(
                    c.exists(b, false).await.unwrap().is_some(),
                    "{kind:?}: acknowledged multi lost {b}"
                );
            }
            // No multi is half applied, acknowledged or not.
            let children = c.get_children("/crash", false).await.unwrap();
            for name in children
                .iter()
                .filter(|n| n.starts_with("m-") && n.ends_with("-a"))
            {
                let twin = format!("{}-b", name.trim_end_matches("-a"));
                assert!(
                    children.contains(&twin),
                    "{kind:?}: half-applied multi {name}"
                );
            }
        });
        drop(server);
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    for kind in kinds_under_test() {
        let rounds = if kind == ServerKind::Apache { 2 } else { 12 };
        crash_rounds(kind, rounds);
    }
}
