//! A third-party Rust client, the `zookeeper-client` crate, against Apache
//! ZooKeeper 3.8 and ferrozk: CRUD, one-shot and persistent watches, multi,
//! ephemerals, auth and its Curator-compatible lock recipe.

mod common;

use std::time::Duration;

use common::{kinds_under_test, ServerKind, TestServer};
use zookeeper_client as zk;

const WAIT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

async fn connect(addr: &str) -> zk::Client {
    // Declare 3.8 so the crate does not send calls 3.8 lacks.
    within(
        "connect",
        zk::Client::connector()
            .with_server_version(3, 8, 0)
            .connect(addr),
    )
    .await
    .expect("connect")
}

async fn scenario(kind: ServerKind, addr: &str) {
    let client = connect(addr).await;
    let open = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let eph = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());

    // CRUD and stats.
    let (_, stat_watcher) = client.check_and_watch_stat("/app").await.unwrap();
    let (stat, _) = client.create("/app", b"v1", &open).await.unwrap();
    assert_eq!((stat.version, stat.data_length), (0, 2), "{kind:?}");
    let ev = within("NodeCreated", stat_watcher.changed()).await;
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (zk::EventType::NodeCreated, "/app"),
        "{kind:?}"
    );
    let stat = client.set_data("/app", b"v2", Some(0)).await.unwrap();
    assert_eq!(stat.version, 1, "{kind:?}");
    assert_eq!(
        client.set_data("/app", b"v3", Some(0)).await.unwrap_err(),
        zk::Error::BadVersion,
        "{kind:?}"
    );
    assert_eq!(client.get_data("/app").await.unwrap().0, b"v2", "{kind:?}");
    assert_eq!(
        client.create("/app", b"", &open).await.unwrap_err(),
        zk::Error::NodeExists,
        "{kind:?}"
    );
    assert_eq!(
        client.get_data("/missing").await.unwrap_err(),
        zk::Error::NoNode,
        "{kind:?}"
    );

    // Children, a child watch, ephemerals.
    let (_, _, child_watcher) = client.get_and_watch_children("/app").await.unwrap();
    client.create("/app/e", b"", &eph).await.unwrap();
    let ev = within("NodeChildrenChanged", child_watcher.changed()).await;
    assert_eq!(
        ev.event_type,
        zk::EventType::NodeChildrenChanged,
        "{kind:?}"
    );
    assert_eq!(
        client.list_ephemerals("/").await.unwrap(),
        vec!["/app/e".to_string()],
        "{kind:?}"
    );
    assert_eq!(
        client.count_descendants_number("/app").await.unwrap(),
        1,
        "{kind:?}"
    );

    // A persistent recursive watch sees every change below it.
    let mut persistent = client
        .watch("/app", zk::AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    client.create("/app/x", b"", &open).await.unwrap();
    client.set_data("/app/x", b"1", None).await.unwrap();
    client.delete("/app/x", None).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let ev = within("persistent event", persistent.changed()).await;
        seen.push((ev.event_type, ev.path));
    }
    assert_eq!(
        seen,
        vec![
            (zk::EventType::NodeCreated, "/app/x".to_string()),
            (zk::EventType::NodeDataChanged, "/app/x".to_string()),
            (zk::EventType::NodeDeleted, "/app/x".to_string()),
        ],
        "{kind:?}"
    );

    // Multi: all or nothing.
    let mut w = client.new_multi_writer();
    w.add_create("/app/m1", b"", &open).unwrap();
    w.add_check_version("/app", 7).unwrap();
    assert!(
        w.commit().await.is_err(),
        "{kind:?}: a failed check aborts the multi"
    );
    assert_eq!(
        client.check_stat("/app/m1").await.unwrap(),
        None,
        "{kind:?}: nothing applied"
    );
    let mut w = client.new_multi_writer();
    w.add_create("/app/m1", b"", &open).unwrap();
    w.add_set_data("/app", b"v3", Some(1)).unwrap();
    assert_eq!(w.commit().await.unwrap().len(), 2, "{kind:?}");

    // Auth identities.
    client.auth("digest", b"user:secret").await.unwrap();
    let users = client.list_auth_users().await.unwrap();
    assert!(
        users
            .iter()
            .any(|u| u.scheme() == "digest" && u.user() == "user"),
        "{kind:?}: {users:?}"
    );

    // The Curator-compatible lock: a second client waits for the first.
    let other = connect(addr).await;
    let prefix = || zk::LockPrefix::new_curator("/locks", "lock-").unwrap();
    let options = || {
        zk::LockOptions::new(zk::Acls::anyone_all())
            .with_ancestor_options(zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all()))
            .unwrap()
    };
    let held = within("first lock", client.lock(prefix(), b"", options()))
        .await
        .unwrap();
    let waiter = other.clone();
    let contender = tokio::spawn(async move {
        let lock = waiter.lock(prefix(), b"", options()).await.unwrap();
        lock.create(
            "/app/owner",
            b"second",
            &zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all()),
        )
        .await
        .unwrap();
    });
    held.create("/app/owner", b"first", &eph).await.unwrap();
    assert!(
        !contender.is_finished(),
        "{kind:?}: the second client must wait"
    );
    held.delete("/app/owner", None).await.unwrap();
    drop(held);
    within("second lock", contender).await.unwrap();
    assert_eq!(
        client.get_data("/app/owner").await.unwrap().0,
        b"second",
        "{kind:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_rust_client_works_against_both_servers() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        scenario(kind, &server.addr()).await;
    }
}
