//! The `ferrozk::client` library against a real server: every call, watch
//! ordering, reconnect with the same session, and session expiry.
//!
//! Every test runs twice: against Apache ZooKeeper 3.8 (the reference, so
//! the expectations are checked) and against ferrozk.
//! Each test starts its own standalone server on a free port (killed on
//! drop). Connection faults go through [`Proxy`], a small TCP proxy that can
//! cut, freeze, or refuse connections without touching the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{ServerKind, TestServer};
use ferrozk::client::{
    acls, AddWatchMode, Client, CreateMode, Error, ErrorCode, EventType, KeeperState, MultiResult,
    Op, WatchedEvent, WatcherType,
};
use ferrozk::proto::ops::perms;
use ferrozk::proto::records::data::{Id, ACL};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- server

/// The server under test, one per test. tickTime 200 ms lets sessions be
/// 0.4–4 s long.
fn start_server(kind: ServerKind) -> TestServer {
    TestServer::start(
        kind,
        &[("tickTime", "200"), ("extendedTypesEnabled", "true")],
    )
}

// ---------------------------------------------------------------- proxy

/// A TCP proxy in front of the server. `cut()` closes every open
/// connection; `freeze(true)` stops forwarding bytes (held, not dropped);
/// `refuse(true)` closes new connections at once.
struct Proxy {
    port: u16,
    ctl: watch::Sender<(u64, bool)>,
    refuse: Arc<AtomicBool>,
    /// Bytes read from clients (held ones included while frozen).
    from_clients: Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (ctl, _) = watch::channel((0u64, false));
        let refuse = Arc::new(AtomicBool::new(false));
        let from_clients = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (ctl2, refuse2, counter) = (ctl.clone(), refuse.clone(), from_clients.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if refuse2.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let gen = ctl2.borrow().0;
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let (a, b) = (ctl2.subscribe(), ctl2.subscribe());
                let counter = counter.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = pump(cr, sw, a, gen, Some(counter)) => {}
                        _ = pump(sr, cw, b, gen, None) => {}
                    }
                });
            }
        });
        Proxy {
            port,
            ctl,
            refuse,
            from_clients,
        }
    }

    /// Bytes the proxy has read from clients so far.
    fn client_bytes(&self) -> u64 {
        self.from_clients.load(Ordering::SeqCst)
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        self.ctl.send_modify(|(gen, frozen)| {
            *gen += 1;
            *frozen = false;
        });
    }

    fn freeze(&self, on: bool) {
        self.ctl.send_modify(|(_, frozen)| *frozen = on);
    }

    fn refuse(&self, on: bool) {
        self.refuse.store(on, Ordering::SeqCst);
    }
}

async fn pump(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    mut ctl: watch::Receiver<(u64, bool)>,
    gen: u64,
    counter: Option<Arc<std::sync::atomic::AtomicU64>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = rd.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
            _ = ctl.wait_for(|c| c.0 != gen) => return,
        };
        if let Some(c) = &counter {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
        match ctl.wait_for(|c| c.0 != gen || !c.1).await {
            Ok(c) if c.0 == gen => {}
            _ => return,
        }
        if wr.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------- helpers

async fn connect(addr: &str) -> (Client, mpsc::UnboundedReceiver<WatchedEvent>) {
    connect_with(addr, Duration::from_secs(4)).await
}

async fn connect_with(
    addr: &str,
    timeout: Duration,
) -> (Client, mpsc::UnboundedReceiver<WatchedEvent>) {
    let c = Client::builder(addr, timeout)
        .connect_timeout(WAIT)
        .connect()
        .await
        .unwrap();
    let mut ev = c.events();
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::SyncConnected)
    );
    (c, ev)
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<WatchedEvent>) -> WatchedEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no event in time")
        .expect("event stream ended")
}

fn state_event(s: KeeperState) -> WatchedEvent {
    WatchedEvent {
        event_type: EventType::None,
        keeper_state: s,
        path: None,
        zxid: -1,
    }
}

/// Asserts the next event is `ty` on `path`.
async fn expect_node_event(
    rx: &mut mpsc::UnboundedReceiver<WatchedEvent>,
    ty: EventType,
    path: &str,
) {
    let ev = next_event(rx).await;
    assert_eq!(
        (ev.event_type, ev.path.as_deref()),
        (ty, Some(path)),
        "{ev:?}"
    );
}

fn code(r: Result<impl std::fmt::Debug, Error>) -> ErrorCode {
    match r {
        Err(e) => e.code().unwrap_or_else(|| panic!("no error code in {e:?}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn open() -> Vec<ACL> {
    acls::open_unsafe()
}

// ---------------------------------------------------------------- node calls

async fn create_read_update_delete(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;

    assert_eq!(
        c.create("/a", b"one", &open(), CreateMode::Persistent)
            .await
            .unwrap(),
        "/a"
    );
    let (path, stat) = c
        .create2("/a/b", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    assert_eq!(
        (path.as_str(), stat.version, stat.data_length),
        ("/a/b", 0, 0)
    );
    let (data, stat) = c.get_data("/a", false).await.unwrap();
    assert_eq!((data.as_deref(), stat.num_children), (Some(&b"one"[..]), 1));

    let stat = c.set_data("/a", b"two", 0).await.unwrap();
    assert_eq!(stat.version, 1);
    assert_eq!(code(c.set_data("/a", b"x", 0).await), ErrorCode::BadVersion);
    assert_eq!(c.exists("/a", false).await.unwrap().unwrap().version, 1);
    assert_eq!(c.exists("/nope", false).await.unwrap(), None);

    c.create_opt("/a/null", None, &open(), CreateMode::Persistent, false)
        .await
        .unwrap();
    assert_eq!(c.get_data("/a/null", false).await.unwrap().0, None);

    let mut kids = c.get_children("/a", false).await.unwrap();
    kids.sort();
    assert_eq!(kids, ["b", "null"]);
    let (kids, stat) = c.get_children2("/a", false).await.unwrap();
    assert_eq!((kids.len(), stat.num_children), (2, 2));
    assert_eq!(c.get_all_children_number("/a").await.unwrap(), 2);

    match c.create("/a", b"", &open(), CreateMode::Persistent).await {
        Err(Error::Zk { code, op, path }) => {
            assert_eq!(
                (code, op, path.as_str()),
                (ErrorCode::NodeExists, ferrozk::proto::OpCode::Create, "/a")
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(code(c.delete("/a", -1).await), ErrorCode::NotEmpty);
    c.delete("/a/b", 0).await.unwrap();
    c.delete("/a/null", -1).await.unwrap();
    c.delete("/a", 1).await.unwrap();
    assert_eq!(code(c.get_data("/a", false).await), ErrorCode::NoNode);
    c.sync("/").await.unwrap();
    assert!(matches!(
        c.exists("bad", false).await,
        Err(Error::InvalidPath(_))
    ));
}

async fn create_modes_map_to_flags_and_opcodes(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;

    let e = c
        .create("/e", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(
        c.exists(&e, false).await.unwrap().unwrap().ephemeral_owner,
        c.session_id()
    );
    let s1 = c
        .create("/s-", b"", &open(), CreateMode::PersistentSequential)
        .await
        .unwrap();
    let s2 = c
        .create("/s-", b"", &open(), CreateMode::EphemeralSequential)
        .await
        .unwrap();
    assert_eq!(s1.len(), "/s-".len() + 10, "{s1}");
    assert!(s2 > s1, "{s2} after {s1}");

    // Containers and TTL nodes go out under their own opcodes (a wrong
    // opcode/flags pair is refused); their internal ephemeralOwner markers
    // are shown to clients as 0.
    c.create2("/box", b"", &open(), CreateMode::Container)
        .await
        .unwrap();
    let owner = c
        .exists("/box", false)
        .await
        .unwrap()
        .unwrap()
        .ephemeral_owner;
    assert_eq!(owner, 0);
    let (path, _) = c
        .create2("/ttl", b"", &open(), CreateMode::PersistentWithTtl(60_000))
        .await
        .unwrap();
    assert_eq!(path, "/ttl");
    let owner = c
        .exists("/ttl", false)
        .await
        .unwrap()
        .unwrap()
        .ephemeral_owner;
    assert_eq!(owner, 0);
    let p = c
        .create(
            "/ttl-",
            b"",
            &open(),
            CreateMode::PersistentSequentialWithTtl(60_000),
        )
        .await
        .unwrap();
    assert_eq!(p.len(), "/ttl-".len() + 10);
    assert_eq!(
        code(
            c.create("/bad-ttl", b"", &open(), CreateMode::PersistentWithTtl(0))
                .await
        ),
        ErrorCode::BadArguments
    );

    let mut eph = c.get_ephemerals("/").await.unwrap();
    eph.sort();
    assert_eq!(eph, vec![e.clone(), s2.clone()]);
    assert_eq!(c.get_ephemerals("/s").await.unwrap(), vec![s2]);
}

async fn acls_and_auth(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;
    let (other, _ev2) = connect(&zk.addr()).await;

    c.add_auth("digest", b"alice:secret").await.unwrap();
    c.create("/mine", b"x", &acls::creator_all(), CreateMode::Persistent)
        .await
        .unwrap();
    let (acl, _) = c.get_acl("/mine").await.unwrap();
    assert_eq!(acl.len(), 1);
    assert_eq!(acl[0].id.scheme, "digest");
    assert!(acl[0].id.id.starts_with("alice:"));
    assert_eq!(
        code(other.get_data("/mine", false).await),
        ErrorCode::NoAuth
    );

    c.create("/pub", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    let read_only = vec![ACL {
        perms: perms::READ,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    assert_eq!(
        code(c.set_acl("/pub", &read_only, 3).await),
        ErrorCode::BadVersion
    );
    let stat = c.set_acl("/pub", &read_only, 0).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!(c.get_acl("/pub").await.unwrap().0, read_only);
    assert_eq!(
        code(other.set_data("/pub", b"y", -1).await),
        ErrorCode::NoAuth
    );
}

async fn who_am_i_lists_identities_or_is_unimplemented(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;
    c.add_auth("digest", b"bob:pw").await.unwrap();
    match c.who_am_i().await {
        Ok(ids) => assert!(
            ids.iter()
                .any(|i| i.auth_scheme == "digest" && i.user == "bob"),
            "{ids:?}"
        ),
        // Apache ZooKeeper before 3.9 does not know whoAmI.
        Err(e) => assert_eq!(e.code(), Some(ErrorCode::Unimplemented), "{e:?}"),
    }
}

async fn failed_auth_ends_the_session(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, mut ev) = connect(&zk.addr()).await;
    assert!(matches!(
        c.add_auth("no-such-scheme", b"x").await,
        Err(Error::AuthFailed)
    ));
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::AuthFailed)
    );
    assert!(matches!(c.exists("/", false).await, Err(Error::AuthFailed)));
}

async fn multi_applies_all_or_nothing(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;

    let rs = c
        .multi(vec![
            Op::create("/m", b"1", open(), CreateMode::Persistent),
            Op::create("/m/q-", b"", open(), CreateMode::PersistentSequential),
            Op::set_data("/m", b"2", 0),
            Op::check("/m", 1),
        ])
        .await
        .unwrap();
    assert!(matches!(&rs[0], MultiResult::Create(p) if p == "/m"));
    assert!(matches!(&rs[1], MultiResult::Create(p) if p.starts_with("/m/q-")));
    assert!(matches!(&rs[2], MultiResult::SetData(s) if s.version == 1));
    assert_eq!(rs[3], MultiResult::Check);

    let ops = vec![
        Op::set_data("/m", b"3", 1),
        Op::delete("/nope", -1),
        Op::check("/m", 1),
    ];
    let rs = c.multi(ops.clone()).await.unwrap();
    assert_eq!(
        rs,
        vec![
            MultiResult::Error(0),
            MultiResult::Error(-101),
            MultiResult::Error(-2)
        ]
    );
    match c.multi_checked(ops).await {
        Err(Error::Multi {
            code,
            index,
            results,
        }) => {
            assert_eq!((code, index, results.len()), (ErrorCode::NoNode, 1, 3))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.get_data("/m", false).await.unwrap().1.version,
        1,
        "nothing of the failed multi applied"
    );

    let rs = c
        .multi_read(vec![
            Op::get_data("/m"),
            Op::get_children("/nope"),
            Op::get_children("/m"),
        ])
        .await
        .unwrap();
    assert!(matches!(&rs[0], MultiResult::GetData(Some(d), s) if &d[..] == b"2" && s.version == 1));
    assert_eq!(rs[1], MultiResult::Error(ErrorCode::NoNode.code()));
    assert!(matches!(&rs[2], MultiResult::GetChildren(k) if k.len() == 1));
}

async fn many_outstanding_requests_are_answered_in_order(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;
    c.create("/p", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..2000 {
        let c = c.clone();
        set.spawn(async move {
            c.create(
                &format!("/p/n{i}"),
                &[i as u8],
                &open(),
                CreateMode::Persistent,
            )
            .await
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(c.get_all_children_number("/p").await.unwrap(), 2000);
    assert_eq!(
        c.get_data("/p/n1999", false).await.unwrap().0.unwrap()[..],
        [1999u32 as u8]
    );
}

async fn raw_request_passes_unknown_opcodes_through(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, mut ev) = connect(&zk.addr()).await;
    let (hdr, body) = c.raw_request(9999, &[]).await.unwrap();
    assert_eq!(hdr.err, ErrorCode::Unimplemented.code(), "{hdr:?}");
    assert!(body.is_empty());
    // Apache ZooKeeper then closes the connection (not the session), so the
    // client reconnects to the same session.
    let session = c.session_id();
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::Disconnected)
    );
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::SyncConnected)
    );
    assert_eq!(c.session_id(), session);
    c.exists("/", false).await.unwrap();
}

async fn chroot_is_applied_both_ways(kind: ServerKind) {
    let zk = start_server(kind);
    let (root, _ev) = connect(&zk.addr()).await;
    root.create("/app", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    let (c, mut ev) = connect(&format!("{}/app", zk.addr())).await;

    assert_eq!(
        c.create("/x", b"", &open(), CreateMode::Persistent)
            .await
            .unwrap(),
        "/x"
    );
    assert!(root.exists("/app/x", false).await.unwrap().is_some());
    assert_eq!(c.get_children("/", false).await.unwrap(), ["x"]);
    let rs = c
        .multi(vec![Op::create("/y", b"", open(), CreateMode::Persistent)])
        .await
        .unwrap();
    assert_eq!(rs, vec![MultiResult::Create("/y".into())]);
    let e = c
        .create("/e", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    assert_eq!(c.get_ephemerals("/").await.unwrap(), vec![e]);

    c.exists("/x", true).await.unwrap();
    root.set_data("/app/x", b"1", -1).await.unwrap();
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/x").await;
}

async fn reconfig_and_config_are_reachable(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, _ev) = connect(&zk.addr()).await;
    // A standalone server has reconfig disabled; the call must still round-trip.
    let r = c
        .reconfig(None, None, Some("server.1=127.0.0.1:2888:3888"), -1)
        .await;
    assert!(matches!(r, Err(Error::Zk { .. })), "{r:?}");
    let (_, stat) = c.get_config(false).await.unwrap();
    assert!(stat.czxid >= 0);
}

// ---------------------------------------------------------------- watches

async fn a_watch_event_arrives_before_the_reply_that_caused_it(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, mut ev) = connect(&zk.addr()).await;

    assert_eq!(c.exists("/w", true).await.unwrap(), None);
    c.create("/w", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    // ZooKeeper's guarantee: the notification precedes the reply, so it is
    // already queued when create returns.
    let got = ev
        .try_recv()
        .expect("NodeCreated queued before the create reply completed");
    assert_eq!(
        (got.event_type, got.path.as_deref()),
        (EventType::NodeCreated, Some("/w"))
    );

    c.get_data("/w", true).await.unwrap();
    c.get_children("/w", true).await.unwrap();
    c.set_data("/w", b"1", -1).await.unwrap();
    let got = ev.try_recv().expect("NodeDataChanged queued");
    assert_eq!(
        (got.event_type, got.path.as_deref()),
        (EventType::NodeDataChanged, Some("/w"))
    );
    c.create("/w/k", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    let got = ev.try_recv().expect("NodeChildrenChanged queued");
    assert_eq!(
        (got.event_type, got.path.as_deref()),
        (EventType::NodeChildrenChanged, Some("/w"))
    );

    // One-shot: a second change fires nothing; a fresh watch fires NodeDeleted.
    c.set_data("/w", b"2", -1).await.unwrap();
    c.exists("/w/k", true).await.unwrap();
    c.delete("/w/k", -1).await.unwrap();
    let got = ev.try_recv().expect("NodeDeleted queued");
    assert_eq!(
        (got.event_type, got.path.as_deref()),
        (EventType::NodeDeleted, Some("/w/k"))
    );
    assert!(ev.try_recv().is_err(), "no other event");
}

async fn persistent_watches_fire_repeatedly_until_removed(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, mut ev) = connect(&zk.addr()).await;
    c.create("/r", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();

    c.add_watch("/r", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    c.check_watches("/r", WatcherType::Any).await.unwrap();
    c.create("/r/a", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    expect_node_event(&mut ev, EventType::NodeCreated, "/r/a").await;
    c.set_data("/r/a", b"1", -1).await.unwrap();
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/r/a").await;
    c.set_data("/r/a", b"2", -1).await.unwrap();
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/r/a").await;

    c.add_watch("/r", AddWatchMode::Persistent).await.unwrap();
    c.remove_watches("/r", WatcherType::Any, false)
        .await
        .unwrap();
    expect_node_event(&mut ev, EventType::PersistentWatchRemoved, "/r").await;
    assert_eq!(
        code(c.check_watches("/r", WatcherType::Any).await),
        ErrorCode::NoWatcher
    );
    assert_eq!(
        code(c.remove_watches("/r", WatcherType::Any, false).await),
        ErrorCode::NoWatcher
    );
    c.set_data("/r/a", b"3", -1).await.unwrap();
    assert!(ev.try_recv().is_err(), "removed watches fire nothing");

    c.get_data("/r", true).await.unwrap();
    c.remove_watches("/r", WatcherType::Data, false)
        .await
        .unwrap();
    expect_node_event(&mut ev, EventType::DataWatchRemoved, "/r").await;
}

// ---------------------------------------------------------------- connection faults

async fn reconnect_keeps_the_session_and_its_watches(kind: ServerKind) {
    let zk = start_server(kind);
    let proxy = Proxy::start(zk.addr()).await;
    let (c, mut ev) = connect(&proxy.addr()).await;
    let (other, _ev2) = connect(&zk.addr()).await;
    let session = c.session_id();

    c.create("/eph", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    c.create("/x", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    c.create("/y", b"", &open(), CreateMode::Persistent)
        .await
        .unwrap();
    c.get_data("/x", true).await.unwrap();
    c.get_data("/y", true).await.unwrap();
    c.add_watch("/x", AddWatchMode::Persistent).await.unwrap();

    // Drop the TCP connection and keep the client out while /y changes.
    proxy.refuse(true);
    proxy.cut();
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::Disconnected)
    );
    other
        .set_data("/y", b"changed while away", -1)
        .await
        .unwrap();
    proxy.refuse(false);
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::SyncConnected)
    );
    assert_eq!(c.session_id(), session);

    // setWatches with the last zxid seen reports the missed change...
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/y").await;
    // ...and re-arms the others on the new connection.
    other.set_data("/x", b"1", -1).await.unwrap();
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/x").await;
    other.set_data("/x", b"2", -1).await.unwrap();
    expect_node_event(&mut ev, EventType::NodeDataChanged, "/x").await;
    assert!(
        c.exists("/eph", false).await.unwrap().is_some(),
        "the ephemeral survived"
    );
}

async fn requests_in_flight_fail_with_connection_loss(kind: ServerKind) {
    let zk = start_server(kind);
    let proxy = Proxy::start(zk.addr()).await;
    let (c, mut ev) = connect(&proxy.addr()).await;

    proxy.freeze(true);
    let before = proxy.client_bytes();
    let c2 = c.clone();
    let pending = tokio::spawn(async move { c2.exists("/", false).await });
    // The request must be on the wire (held by the frozen proxy) before
    // the cut, or the client could still send it on the next connection.
    let deadline = tokio::time::Instant::now() + WAIT;
    while proxy.client_bytes() == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never left the client"
        );
        tokio::task::yield_now().await;
    }
    proxy.cut();
    assert!(matches!(pending.await.unwrap(), Err(Error::ConnectionLoss)));
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::Disconnected)
    );
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::SyncConnected)
    );
    c.exists("/", false).await.unwrap();
}

async fn a_silent_connection_is_abandoned_and_an_expired_session_reported(kind: ServerKind) {
    let zk = start_server(kind);
    let proxy = Proxy::start(zk.addr()).await;
    let (c, mut ev) = connect_with(&proxy.addr(), Duration::from_millis(1000)).await;
    let (observer, mut oev) = connect(&zk.addr()).await;
    c.create("/eph", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    observer.exists("/eph", true).await.unwrap();

    // No bytes either way: the client gives up on the connection after its
    // read timeout, and the server expires the session.
    proxy.refuse(true);
    proxy.freeze(true);
    assert_eq!(
        next_event(&mut ev).await,
        state_event(KeeperState::Disconnected)
    );
    expect_node_event(&mut oev, EventType::NodeDeleted, "/eph").await;

    proxy.cut();
    proxy.refuse(false);
    assert_eq!(next_event(&mut ev).await, state_event(KeeperState::Expired));
    assert!(matches!(
        c.exists("/", false).await,
        Err(Error::SessionExpired)
    ));
}

async fn a_session_can_be_resumed_and_closed_from_another_client(kind: ServerKind) {
    let zk = start_server(kind);
    let proxy = Proxy::start(zk.addr()).await;
    let (a, mut aev) = connect(&proxy.addr()).await;
    let e = a
        .create("/e", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    // Keep a away, or it would take the session back (a server closes the
    // older connection when a session is re-attached).
    proxy.refuse(true);
    proxy.cut();
    assert_eq!(
        next_event(&mut aev).await,
        state_event(KeeperState::Disconnected)
    );

    let b = Client::builder(&zk.addr(), Duration::from_secs(4))
        .session(a.session_id(), a.session_password())
        .connect()
        .await
        .unwrap();
    assert_eq!(b.session_id(), a.session_id());
    assert_eq!(b.get_ephemerals("/").await.unwrap(), vec![e]);

    // Closing the session through b expires it for a.
    b.close().await.unwrap();
    assert!(matches!(b.exists("/", false).await, Err(Error::Closed)));
    proxy.refuse(false);
    assert_eq!(
        next_event(&mut aev).await,
        state_event(KeeperState::Expired)
    );
    assert!(matches!(
        a.exists("/", false).await,
        Err(Error::SessionExpired)
    ));

    let gone = Client::builder(&zk.addr(), Duration::from_secs(4))
        .session(a.session_id(), a.session_password())
        .connect()
        .await;
    assert!(matches!(gone, Err(Error::SessionExpired)), "{gone:?}");
}

async fn close_ends_the_session(kind: ServerKind) {
    let zk = start_server(kind);
    let (c, mut ev) = connect(&zk.addr()).await;
    let (observer, mut oev) = connect(&zk.addr()).await;
    c.create("/e", b"", &open(), CreateMode::Ephemeral)
        .await
        .unwrap();
    observer.exists("/e", true).await.unwrap();

    c.close().await.unwrap();
    assert_eq!(next_event(&mut ev).await, state_event(KeeperState::Closed));
    expect_node_event(&mut oev, EventType::NodeDeleted, "/e").await;
    assert!(matches!(c.get_data("/", false).await, Err(Error::Closed)));
    assert_eq!(c.state(), KeeperState::Closed);
}

/// Each test above, as one `#[tokio::test]` per server.
macro_rules! on_both_servers {
    ($($name:ident),* $(,)?) => {
        mod on_apache {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::ServerKind::Apache).await
                }
            )*
        }
        mod on_ferrozk {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::ServerKind::Ferrozk).await
                }
            )*
        }
    };
}

on_both_servers!(
    create_read_update_delete,
    create_modes_map_to_flags_and_opcodes,
    acls_and_auth,
    who_am_i_lists_identities_or_is_unimplemented,
    failed_auth_ends_the_session,
    multi_applies_all_or_nothing,
    many_outstanding_requests_are_answered_in_order,
    raw_request_passes_unknown_opcodes_through,
    chroot_is_applied_both_ways,
    reconfig_and_config_are_reachable,
    a_watch_event_arrives_before_the_reply_that_caused_it,
    persistent_watches_fire_repeatedly_until_removed,
    reconnect_keeps_the_session_and_its_watches,
    requests_in_flight_fail_with_connection_loss,
    a_silent_connection_is_abandoned_and_an_expired_session_reported,
    a_session_can_be_resumed_and_closed_from_another_client,
    close_ends_the_session,
);
