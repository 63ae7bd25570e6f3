//! The data directory is Apache ZooKeeper's format both ways: a dataDir
//! written by Apache ZooKeeper 3.8 opens in ferrozk with an identical tree,
//! and one written by ferrozk opens in Apache ZooKeeper the same way —
//! compared node by node (data, every stat field, ACLs) through a client.

mod common;

use std::collections::BTreeMap;

use common::{ServerKind, TestServer};
use ferrozk::client::{acls, Client, CreateMode};
use ferrozk::proto::records::data::{Id, ACL};

const EXTRA: &[(&str, &str)] = &[("extendedTypesEnabled", "true"), ("snapCount", "500")];

/// A few thousand nodes of every kind; returns the session kept open so
/// its ephemerals are live when the server dies.
async fn populate(c: &Client, addr: &str) {
    let open = acls::open_unsafe();
    let digest = vec![ACL {
        perms: 31,
        id: Id {
            scheme: "digest".into(),
            id: ferrozk::tree::acl::generate_digest("u:p"),
        },
    }];
    let read_only = vec![ACL {
        perms: 1,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    c.create("/app", b"root", &open, CreateMode::Persistent)
        .await
        .unwrap();
    for i in 0..40 {
        let dir = format!("/app/d{i}");
        c.create(
            &dir,
            format!("dir {i}").as_bytes(),
            &open,
            CreateMode::Persistent,
        )
        .await
        .unwrap();
        for j in 0..50 {
            let data = vec![b'a' + (j % 26) as u8; (i * 37 + j) % 700];
            c.create(&format!("{dir}/n{j}"), &data, &open, CreateMode::Persistent)
                .await
                .unwrap();
        }
        c.create(
            &format!("{dir}/seq-"),
            b"s",
            &open,
            CreateMode::PersistentSequential,
        )
        .await
        .unwrap();
        c.create(&format!("{dir}/eph"), b"e", &open, CreateMode::Ephemeral)
            .await
            .unwrap();
        c.create(
            &format!("{dir}/eseq-"),
            b"e",
            &open,
            CreateMode::EphemeralSequential,
        )
        .await
        .unwrap();
        c.set_data(&format!("{dir}/n1"), b"changed", -1)
            .await
            .unwrap();
        c.delete(&format!("{dir}/n2"), -1).await.unwrap();
    }
    c.create("/app/box", b"c", &open, CreateMode::Container)
        .await
        .unwrap();
    c.create("/app/box/kid", b"k", &open, CreateMode::Persistent)
        .await
        .unwrap();
    c.create(
        "/app/ttl",
        b"t",
        &open,
        CreateMode::PersistentWithTtl(3_600_000),
    )
    .await
    .unwrap();
    c.create("/app/secret", b"x", &digest, CreateMode::Persistent)
        .await
        .unwrap();
    c.create("/app/ro", b"r", &read_only, CreateMode::Persistent)
        .await
        .unwrap();
    c.set_acl("/app/d0", &read_only, -1).await.unwrap();
    c.create("/app/null", b"", &open, CreateMode::Persistent)
        .await
        .unwrap();
    // A session that closes: a closeSession transaction deleting ephemerals.
    let gone = common::connect_client(addr).await;
    gone.create("/app/d1/gone", b"g", &open, CreateMode::Ephemeral)
        .await
        .unwrap();
    gone.close().await.unwrap();
}

/// Every node under `/` (including /zookeeper) with its data, full stat and ACL.
async fn dump(c: &Client) -> BTreeMap<String, String> {
    c.add_auth("digest", b"u:p").await.unwrap();
    let mut out = BTreeMap::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        let (data, stat) = c
            .get_data(&p, false)
            .await
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        let (acl, _) = c.get_acl(&p).await.unwrap();
        out.insert(p.clone(), format!("{data:?} {stat:?} {acl:?}"));
        for child in c.get_children(&p, false).await.unwrap() {
            stack.push(if p == "/" {
                format!("/{child}")
            } else {
                format!("{p}/{child}")
            });
        }
    }
    out
}

fn compare(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>, what: &str) {
    let missing: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).take(5).collect();
    let extra: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}"
    );
    for (k, v) in a {
        assert_eq!(v, &b[k], "{what}: node {k} differs");
    }
    assert!(
        a.len() > 2000,
        "{what}: the tree is as big as intended ({})",
        a.len()
    );
}

fn round_trip(writer: ServerKind, reader: ServerKind) {
    let root = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let first = TestServer::start_in(writer, EXTRA, root.path());
    let (before, keep) = rt.block_on(async {
        let c = common::connect_client(&first.addr()).await;
        populate(&c, &first.addr()).await;
        (dump(&c).await, c)
    });
    drop(first); // SIGKILL: the live session's ephemerals are in the log
    drop(keep);
    let second = TestServer::start_in(reader, EXTRA, root.path());
    let after = rt.block_on(async { dump(&common::connect_client(&second.addr()).await).await });
    compare(&before, &after, &format!("{writer:?} → {reader:?}"));
    if reader == ServerKind::Apache {
        // Apache checks the logged TxnDigests while replaying: ferrozk's must
        // equal what it computes for the same tree.
        let mntr = second.four_letter("mntr");
        assert!(
            mntr.contains("zk_digest_mismatches_count\t0"),
            "digest mismatches:\n{mntr}"
        );
    }
}

#[test]
fn apache_data_dir_opens_in_ferrozk() {
    round_trip(ServerKind::Apache, ServerKind::Ferrozk);
}

#[test]
fn ferrozk_data_dir_opens_in_apache() {
    round_trip(ServerKind::Ferrozk, ServerKind::Apache);
}

/// The reference against itself: shows the comparison is exact and stable.
#[test]
fn apache_data_dir_reopens_in_apache() {
    round_trip(ServerKind::Apache, ServerKind::Apache);
}

/// ferrozk's own fuzzy snapshots (taken while the tree was being written)
/// plus its log restore the exact tree.
#[test]
fn ferrozk_data_dir_reopens_in_ferrozk() {
    round_trip(ServerKind::Ferrozk, ServerKind::Ferrozk);
}
