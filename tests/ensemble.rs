//! Replication with real processes on loopback: ensembles of ferrozk and,
//! for the same scenarios, of Apache ZooKeeper 3.8 (the reference for what
//! a client sees). Set FERROZK_TEST_ONLY=ferrozk|apache to run one kind.
//!
//! Every wait is a bounded poll of the processes' observable state (srvr,
//! client results) with a generous deadline: a 2-core machine running 3–5
//! servers plus clients can starve an election for seconds.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{Cluster, ELECTION_TIMEOUT};
use common::{kinds_under_test, runtime};
use ferrozk::client::{acls, Client, CreateMode, Error};
use parking_lot::Mutex;

fn open() -> Vec<ferrozk::proto::records::data::ACL> {
    acls::open_unsafe()
}

/// Connects to `hosts` (any member may answer), retrying while the
/// ensemble elects.
async fn connect(hosts: &str) -> Client {
    let deadline = Instant::now() + ELECTION_TIMEOUT;
    loop {
        match tokio::time::timeout(
            Duration::from_secs(20),
            Client::connect(hosts, Duration::from_secs(10)),
        )
        .await
        {
            Ok(Ok(c)) => return c,
            _ if Instant::now() < deadline => continue,
            other => panic!("cannot connect to {hosts}: {other:?}"),
        }
    }
}

/// Node counts (srvr) of the running members, once they all agree.
fn wait_converged(c: &Cluster) -> String {
    c.wait_until("every member at the same zxid", ELECTION_TIMEOUT, || {
        let zxids: Vec<Option<String>> = c
            .members
            .iter()
            .filter(|m| m.running())
            .map(|m| m.srvr_field("Zxid"))
            .collect();
        (zxids.iter().all(|z| z.is_some()) && zxids.windows(2).all(|w| w[0] == w[1]))
            .then(|| zxids[0].clone().unwrap_or_default())
    })
}

#[test]
fn three_members_elect_one_leader_and_replicate() {
    for kind in kinds_under_test() {
        let c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let follower = (leader + 1) % 3;
        runtime().block_on(async {
            let w = connect(&c.members[follower].addr()).await;
            w.create("/r", b"root", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            for i in 0..20 {
                w.create(
                    &format!("/r/n{i}"),
                    format!("v{i}").as_bytes(),
                    &open(),
                    CreateMode::Persistent,
                )
                .await
                .unwrap();
            }
            let eph = w
                .create("/r/eph", b"", &open(), CreateMode::Ephemeral)
                .await
                .unwrap();
            for m in &c.members {
                let r = connect(&m.addr()).await;
                r.sync("/r").await.unwrap();
                let mut kids = r.get_children("/r", false).await.unwrap();
                kids.sort();
                assert_eq!(kids.len(), 21, "{} member {}: {kids:?}", kind.name(), m.sid);
                let (data, _) = r.get_data("/r/n7", false).await.unwrap();
                assert_eq!(data.as_deref(), Some(&b"v7"[..]));
                assert!(r.exists(&eph, false).await.unwrap().is_some());
                r.close().await.unwrap();
            }
            w.close().await.unwrap();
            // The writer's session is closed everywhere: its ephemeral is gone.
            let r = connect(&c.members[leader].addr()).await;
            r.sync("/r").await.unwrap();
            assert!(
                r.exists(&eph, false).await.unwrap().is_none(),
                "{}",
                kind.name()
            );
        });
        let zxid = wait_converged(&c);
        assert_ne!(zxid, "0x0");
    }
}

/// Writers through every member; the leader is killed -9 mid-load. No
/// write that was acknowledged may be missing afterwards, a new leader
/// must take over, and the old one must rejoin when restarted.
#[test]
fn leader_killed_under_load_loses_no_acknowledged_write() {
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let hosts = c.connect_string();
        let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let rt = runtime();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (hosts, acked, stop) = (hosts.clone(), acked.clone(), stop.clone());
                rt.spawn(async move {
                    let client = connect(&hosts).await;
                    let _ = client
                        .create("/load", b"", &open(), CreateMode::Persistent)
                        .await;
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let data = format!("{w}-{n}");
                        match client
                            .create(
                                "/load/w-",
                                data.as_bytes(),
                                &open(),
                                CreateMode::PersistentSequential,
                            )
                            .await
                        {
                            Ok(path) => acked
                                .lock()
                                .push((format!("{path}={data}"), Instant::now())),
                            Err(Error::ConnectionLoss) | Err(Error::Timeout) => {}
                            Err(e) => panic!("writer {w}: {e}"),
                        }
                    }
                    client.close().await.ok();
                })
            })
            .collect();
        let count = || acked.lock().len();
        c.wait_until("200 writes acknowledged", ELECTION_TIMEOUT, || {
            (count() >= 200).then_some(())
        });
        c.members[leader].kill();
        let killed = Instant::now();
        let resumed = c.wait_until(
            "writes acknowledged after the kill",
            ELECTION_TIMEOUT,
            || {
                acked
                    .lock()
                    .iter()
                    .find(|(_, t)| *t > killed)
                    .map(|(_, t)| *t - killed)
            },
        );
        eprintln!(
            "{}: first write acknowledged {resumed:?} after the leader was killed",
            kind.name()
        );
        // "A new leader serving within a few seconds" (both measure under
        // 1 s here with tickTime 500); the bound only catches a stall.
        assert!(
            resumed < Duration::from_secs(10),
            "{}: fail-over took {resumed:?}",
            kind.name()
        );
        let before = count();
        c.wait_until("200 more writes", ELECTION_TIMEOUT, || {
            (count() >= before + 200).then_some(())
        });
        stop.store(true, Ordering::Relaxed);
        rt.block_on(async {
            for w in writers {
                w.await.unwrap();
            }
        });
        c.wait_for_leader(ELECTION_TIMEOUT);
        let acked: Vec<String> = acked.lock().iter().map(|(p, _)| p.clone()).collect();
        c.restart(leader);
        c.wait_for_leader(ELECTION_TIMEOUT);
        wait_converged(&c);
        rt.block_on(async {
            for m in &c.members {
                let r = connect(&m.addr()).await;
                r.sync("/load").await.unwrap();
                let kids: std::collections::HashSet<String> = r
                    .get_children("/load", false)
                    .await
                    .unwrap()
                    .into_iter()
                    .collect();
                let mut missing = Vec::new();
                for a in &acked {
                    let (path, data) = a.split_once('=').unwrap();
                    let name = path.trim_start_matches("/load/");
                    if !kids.contains(name) {
                        missing.push(path.to_string());
                    } else if missing.is_empty() && name.ends_with('7') {
                        let (d, _) = r.get_data(path, false).await.unwrap();
                        assert_eq!(
                            d.as_deref(),
                            Some(data.as_bytes()),
                            "{path} on member {}",
                            m.sid
                        );
                    }
                }
                assert!(
                    missing.is_empty(),
                    "{}: member {} lacks {} of {} acknowledged writes, e.g. {:?}",
                    kind.name(),
                    m.sid,
                    missing.len(),
                    acked.len(),
                    &missing[..missing.len().min(5)]
                );
                r.close().await.ok();
            }
        });
    }
}

/// Five voters tolerate two failures; with three down the rest stop
/// serving; one coming back restores service with the data intact.
#[test]
fn five_members_survive_two_failures_and_stop_without_quorum() {
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 5, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let rt = runtime();
        rt.block_on(async {
            let w = connect(&c.connect_string()).await;
            w.create("/five", b"1", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            w.close().await.ok();
        });
        let other = (leader + 1) % 5;
        c.members[leader].kill();
        c.members[other].kill();
        c.wait_for_leader(ELECTION_TIMEOUT);
        rt.block_on(async {
            let w = connect(&c.running_connect_string()).await;
            w.set_data("/five", b"2", -1).await.unwrap();
            w.close().await.ok();
        });
        let third = (0..5).find(|&i| c.members[i].running()).unwrap();
        c.members[third].kill();
        c.wait_until(
            "the two survivors to stop serving",
            ELECTION_TIMEOUT,
            || {
                c.members
                    .iter()
                    .filter(|m| m.running())
                    .all(|m| m.mode().is_none())
                    .then_some(())
            },
        );
        c.restart(third);
        c.wait_for_leader(ELECTION_TIMEOUT);
        rt.block_on(async {
            let r = connect(&c.running_connect_string()).await;
            r.sync("/five").await.unwrap();
            let (d, _) = r.get_data("/five", false).await.unwrap();
            assert_eq!(d.as_deref(), Some(&b"2"[..]), "{}", kind.name());
            r.close().await.ok();
        });
    }
}

/// A follower frozen (SIGSTOP) while writes go on is dropped by the
/// leader; thawed, it resynchronises and ends with the same data.
#[test]
fn frozen_follower_catches_up() {
    for kind in kinds_under_test() {
        let c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let frozen = (leader + 1) % 3;
        let live = (leader + 2) % 3;
        c.members[frozen].signal("STOP");
        // The leader gives up on it after syncLimit ticks.
        c.wait_until(
            "the leader to drop the frozen follower",
            ELECTION_TIMEOUT,
            || {
                let mntr = common::four_letter_at(
                    &c.members[leader].addr(),
                    "mntr",
                    Duration::from_secs(2),
                )
                .ok()?;
                mntr.lines()
                    .any(|l| l == "zk_synced_followers\t1")
                    .then_some(())
            },
        );
        let rt = runtime();
        rt.block_on(async {
            let w = connect(&c.members[live].addr()).await;
            w.create("/frozen", b"", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            for i in 0..100 {
                w.create(
                    &format!("/frozen/n{i}"),
                    b"x",
                    &open(),
                    CreateMode::Persistent,
                )
                .await
                .unwrap();
            }
            w.close().await.ok();
        });
        c.members[frozen].signal("CONT");
        wait_converged(&c);
        rt.block_on(async {
            let r = connect(&c.members[frozen].addr()).await;
            r.sync("/frozen").await.unwrap();
            assert_eq!(
                r.get_children("/frozen", false).await.unwrap().len(),
                100,
                "{}",
                kind.name()
            );
            r.close().await.ok();
        });
    }
}

/// An observer serves reads and forwards writes, but does not vote: two
/// participants down out of three stop the service even with it up.
#[test]
fn observer_serves_but_does_not_vote() {
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 3, 1);
        c.wait_for_leader(ELECTION_TIMEOUT);
        assert_eq!(
            c.members[3].mode().as_deref(),
            Some("observer"),
            "{}",
            kind.name()
        );
        let rt = runtime();
        rt.block_on(async {
            let w = connect(&c.members[3].addr()).await;
            w.create("/obs", b"via observer", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            let r = connect(&c.members[0].addr()).await;
            r.sync("/obs").await.unwrap();
            let (d, _) = r.get_data("/obs", false).await.unwrap();
            assert_eq!(d.as_deref(), Some(&b"via observer"[..]));
            w.close().await.ok();
            r.close().await.ok();
        });
        c.members[0].kill();
        c.members[1].kill();
        c.wait_until(
            "no quorum without two participants",
            ELECTION_TIMEOUT,
            || (c.members[3].mode().is_none() && c.members[2].mode().is_none()).then_some(()),
        );
    }
}

/// A client's session outlives the leader: the ephemeral stays while the
/// client is connected, and goes once a session dies without closing,
/// after a leader change, when the new leader expires it.
#[test]
fn sessions_survive_a_leader_change_and_still_expire() {
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let follower = (leader + 1) % 3;
        let rt = runtime();
        let kept = rt.block_on(async {
            let kept = connect(&c.connect_string()).await;
            kept.create("/kept", b"", &open(), CreateMode::Ephemeral)
                .await
                .unwrap();
            kept
        });
        let id_before = kept.session_id();
        // A session that will die without closing: a raw 4 s session on a
        // follower whose socket is simply dropped.
        {
            use ferrozk::proto::jute::Jute;
            use ferrozk::proto::records::proto::CreateRequest;
            let req =
                common::raw::Raw::connect_request(4000, 0, 0, bytes::Bytes::from_static(&[0; 16]));
            let mut raw = common::raw::Raw::send_connect(&c.members[follower].addr(), req);
            assert!(raw.read_frame().is_some(), "{}: handshake", kind.name());
            let create = CreateRequest {
                path: "/orphan".into(),
                data: None,
                acl: open(),
                flags: 1,
            };
            raw.request(1, ferrozk::proto::OpCode::Create.code(), &create.to_bytes());
            assert_eq!(raw.reply().expect("reply").0.err, 0, "{}", kind.name());
        }
        c.members[leader].kill();
        c.wait_for_leader(ELECTION_TIMEOUT);
        rt.block_on(async {
            kept.set_data("/kept", b"still here", -1).await.unwrap();
            assert_eq!(
                kept.session_id(),
                id_before,
                "{}: same session",
                kind.name()
            );
            let r = connect(&c.running_connect_string()).await;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                r.sync("/").await.unwrap();
                if r.exists("/orphan", false).await.unwrap().is_none() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{}: /orphan never expired",
                    kind.name()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert!(
                r.exists("/kept", false).await.unwrap().is_some(),
                "{}",
                kind.name()
            );
            r.close().await.ok();
            kept.close().await.ok();
        });
    }
}

/// A leader logs proposals no follower acknowledged (both are frozen, then
/// killed: what sat in their socket buffers is lost with them), and dies.
/// The followers restart and elect a new leader without those proposals;
/// when the old leader comes back its log is cut (TRUNC) and the
/// unacknowledged writes exist nowhere.
#[test]
fn a_returning_leader_is_truncated_to_the_new_history() {
    for kind in kinds_under_test() {
        let mut c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let followers = [(leader + 1) % 3, (leader + 2) % 3];
        let rt = runtime();
        let client = rt.block_on(async {
            let w = connect(&c.members[leader].addr()).await;
            w.create("/base", b"", &open(), CreateMode::Persistent)
                .await
                .unwrap();
            w
        });
        for f in followers {
            c.members[f].signal("STOP");
        }
        // Writes the leader logs but cannot commit; their replies never come.
        let pending: Vec<_> = (0..5)
            .map(|i| {
                let w = client.clone();
                rt.spawn(async move {
                    let _ = w
                        .create(&format!("/lost-{i}"), b"x", &open(), CreateMode::Persistent)
                        .await;
                })
            })
            .collect();
        c.wait_until(
            "the leader to log the unacknowledged writes",
            ELECTION_TIMEOUT,
            || {
                (0..5)
                    .all(|i| c.members[leader].log_contains(format!("/lost-{i}").as_bytes()))
                    .then_some(())
            },
        );
        for f in followers {
            c.members[f].kill();
        }
        c.members[leader].kill();
        for f in followers {
            c.restart(f);
        }
        c.wait_for_leader(ELECTION_TIMEOUT);
        c.restart(leader);
        c.wait_for_leader(ELECTION_TIMEOUT);
        for p in pending {
            p.abort();
        }
        rt.block_on(async {
            let w = connect(&c.running_connect_string()).await;
            w.create("/after", b"", &open(), CreateMode::Persistent)
                .await
                .unwrap();
        });
        // (Apache's leader reports the new epoch's zxid until a write.)
        wait_converged(&c);
        rt.block_on(async {
            for m in &c.members {
                let r = connect(&m.addr()).await;
                r.sync("/").await.unwrap();
                assert!(
                    r.exists("/base", false).await.unwrap().is_some(),
                    "{} member {}",
                    kind.name(),
                    m.sid
                );
                assert!(
                    r.exists("/after", false).await.unwrap().is_some(),
                    "{} member {}",
                    kind.name(),
                    m.sid
                );
                for i in 0..5 {
                    assert!(
                        r.exists(&format!("/lost-{i}"), false)
                            .await
                            .unwrap()
                            .is_none(),
                        "{}: /lost-{i} survived on member {} (the old leader was {}); logs:\n{}",
                        kind.name(),
                        m.sid,
                        c.members[leader].sid,
                        c.members
                            .iter()
                            .map(|m| format!("--- member {}\n{}\n", m.sid, m.log_tail()))
                            .collect::<String>()
                    );
                }
                r.close().await.ok();
            }
        });
        if kind == common::ServerKind::Ferrozk {
            let logs: String = c.members.iter().map(|m| m.log_tail()).collect();
            assert!(
                logs.contains("TRUNC to"),
                "the returning leader was truncated:\n{logs}"
            );
        }
        drop(client);
    }
}

/// A session that reconnects through another member moves there (the
/// member asks the leader to revalidate it): a write through its old
/// connection on the first member fails (SESSIONMOVED: the connection is
/// closed), the new connection writes.
#[test]
fn a_session_moves_between_members() {
    for kind in kinds_under_test() {
        let c = Cluster::start(kind, 3, 0);
        let leader = c.wait_for_leader(ELECTION_TIMEOUT);
        let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);
        let mut old = common::raw::Raw::session(&c.members[a].addr());
        assert_eq!(old.create(1, "/first", b"").err, 0, "{}", kind.name());
        let mut new =
            common::raw::Raw::resume(&c.members[b].addr(), old.session_id, old.passwd.clone())
                .unwrap_or_else(|| {
                    panic!("{}: the session resumes on another member", kind.name())
                });
        // xids continue across the reconnect, as real clients' do: a
        // learner matches a commit to its pending request by (session, xid).
        assert_eq!(new.create(10, "/second", b"").err, 0, "{}", kind.name());
        // The old connection still answers pings, but a write through it
        // fails with SESSIONMOVED, which ZooKeeper reports by closing the
        // connection without a reply.
        old.ping();
        assert!(
            old.reply().is_some(),
            "{}: the old connection is still open",
            kind.name()
        );
        {
            use ferrozk::proto::jute::Jute;
            let req = ferrozk::proto::records::proto::CreateRequest {
                path: "/third".into(),
                data: None,
                acl: open(),
                flags: 0,
            };
            old.request(2, ferrozk::proto::OpCode::Create.code(), &req.to_bytes());
            let reply = old.reply();
            assert!(
                reply.is_none(),
                "{}: the old connection answered {reply:?}",
                kind.name()
            );
        }
        assert_eq!(new.create(11, "/fourth", b"").err, 0, "{}", kind.name());
    }
}
