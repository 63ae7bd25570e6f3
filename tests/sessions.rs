//! Session lifecycle on the wire, against Apache ZooKeeper 3.8 and ferrozk:
//! expiry (ephemerals deleted, watchers told), resuming with the right and
//! the wrong password, a client that has seen the future, and the per-IP
//! connection limit.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::raw::Raw;
use common::{kinds_under_test, TestServer};
use ferrozk::proto::records::proto::*;
use ferrozk::proto::{Jute, OpCode, Request};

/// tickTime 200 ms: sessions are capped at 20 ticks = 4 s.
const FAST_TICKS: &[(&str, &str)] = &[("tickTime", "200")];

#[test]
fn expiry_deletes_ephemerals_and_notifies_watchers() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, FAST_TICKS);
        let mut owner = Raw::session(&server.addr());
        let mut watcher = Raw::session(&server.addr());
        let acl = ferrozk::tree::acl::open_acl_unsafe();
        let eph = CreateRequest {
            path: "/eph".into(),
            data: None,
            acl,
            flags: 1,
        };
        owner.send(1, &Request::Create(OpCode::Create, eph));
        assert_eq!(owner.reply().expect("reply").0.err, 0, "{kind:?}");
        watcher.send(
            1,
            &Request::Exists(ExistsRequest {
                path: "/eph".into(),
                watch: true,
            }),
        );
        assert_eq!(watcher.reply().expect("reply").0.err, 0, "{kind:?}");
        // The owner vanishes without closing its session.
        drop(owner);
        let started = Instant::now();
        // Wait for the event, pinging once a second so that the watcher's
        // own session stays alive meanwhile.
        let ev = loop {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{kind:?}: no NodeDeleted"
            );
            match watcher.frame_within(Duration::from_secs(1)) {
                Err(()) => watcher.ping(),
                Ok(None) => panic!("{kind:?}: watcher's connection closed"),
                Ok(Some(mut f)) => {
                    let h = ReplyHeader::decode(&mut f).unwrap();
                    if h.xid == -1 {
                        break WatcherEvent::decode(&mut f).unwrap();
                    }
                }
            }
        };
        assert_eq!(
            (ev.r#type, ev.path.as_str()),
            (2, "/eph"),
            "{kind:?}: NodeDeleted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "{kind:?}: expired within the 4 s cap plus a tick"
        );
        watcher.send(
            2,
            &Request::Exists(ExistsRequest {
                path: "/eph".into(),
                watch: false,
            }),
        );
        assert_eq!(
            watcher.reply().expect("reply").0.err,
            -101,
            "{kind:?}: gone"
        );
    }
}

#[test]
fn a_session_resumes_with_its_password_and_not_without() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let mut first = Raw::session(&server.addr());
        let (id, pw) = (first.session_id, first.passwd.clone());
        assert_eq!(pw.len(), 16, "{kind:?}");
        assert!(
            Raw::resume(&server.addr(), id, Bytes::from_static(&[7; 16])).is_none(),
            "{kind:?}: a wrong password is refused"
        );
        let mut second = Raw::resume(&server.addr(), id, pw).expect("resumed");
        assert_eq!(second.session_id, id, "{kind:?}");
        // The session moved: its old connection is closed by the server.
        first.expect_closed(&format!("{kind:?}: old connection"));
        assert_eq!(
            second.create(3, "/moved", b"").err,
            0,
            "{kind:?}: the session works"
        );
        assert!(
            Raw::resume(&server.addr(), 0x7777, Bytes::from_static(&[0; 16])).is_none(),
            "{kind:?}: unknown id"
        );
    }
}

#[test]
fn a_closed_session_cannot_be_resumed() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let mut s = Raw::session(&server.addr());
        let (id, pw) = (s.session_id, s.passwd.clone());
        s.send(9, &Request::CloseSession);
        assert_eq!(s.reply().expect("reply").0.err, 0, "{kind:?}");
        s.expect_closed(&format!("{kind:?}: closed after closeSession"));
        assert!(
            Raw::resume(&server.addr(), id, pw).is_none(),
            "{kind:?}: expired"
        );
    }
}

#[test]
fn a_client_ahead_of_the_server_is_turned_away() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let req = Raw::connect_request(30000, 0x7_0000_0000, 0, Bytes::from_static(&[0; 16]));
        let mut r = Raw::send_connect(&server.addr(), req);
        r.expect_closed(&format!("{kind:?}: lastZxidSeen ahead"));
    }
}

#[test]
fn negotiated_timeout_is_clamped_to_tick_bounds() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, FAST_TICKS);
        for (asked, got) in [(1, 400), (1000, 1000), (100_000, 4000)] {
            let req = Raw::connect_request(asked, 0, 0, Bytes::from_static(&[0; 16]));
            let mut r = Raw::send_connect(&server.addr(), req);
            let frame = r.read_frame().expect("reply");
            let (rsp, _) = ferrozk::proto::connect::decode_response(frame).unwrap();
            assert_eq!(rsp.time_out, got, "{kind:?}: asked {asked}");
        }
    }
}

#[test]
fn connections_beyond_max_client_cnxns_are_closed() {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[("maxClientCnxns", "2")]);
        let _a = Raw::session(&server.addr());
        let _b = Raw::session(&server.addr());
        // The third from the same address never gets a session.
        let req = Raw::connect_request(30000, 0, 0, Bytes::from_static(&[0; 16]));
        let mut c = Raw::send_connect(&server.addr(), req);
        c.expect_closed(&format!("{kind:?}: third connection"));
    }
}

/// Pings and waits for the ping's reply, keeping the session alive; watch
/// events that arrive before the ping's reply are appended to `events`
/// (an expiry can fire while the ping is in flight: dropping its event
/// made the restart test below flaky under load).
fn keepalive(r: &mut Raw, events: &mut Vec<WatcherEvent>) {
    r.ping();
    while let Some((h, _)) = r.reply_collecting(events) {
        if h.xid == -2 {
            return;
        }
    }
    panic!("connection closed while pinging");
}

#[test]
fn sessions_survive_a_restart_and_expire_afterwards() {
    for kind in kinds_under_test() {
        let root = tempfile::tempdir().unwrap();
        let server = TestServer::start_in(kind, FAST_TICKS, root.path());
        let acl = ferrozk::tree::acl::open_acl_unsafe();
        let eph = |p: &str| {
            Request::Create(
                OpCode::Create,
                CreateRequest {
                    path: p.into(),
                    data: None,
                    acl: acl.clone(),
                    flags: 1,
                },
            )
        };
        let mut a = Raw::session(&server.addr());
        let mut b = Raw::session(&server.addr());
        a.send(1, &eph("/a-eph"));
        assert_eq!(a.reply().expect("reply").0.err, 0);
        b.send(1, &eph("/b-eph"));
        assert_eq!(b.reply().expect("reply").0.err, 0);
        let (id, pw) = (a.session_id, a.passwd.clone());
        drop((a, b));
        drop(server); // SIGKILL

        let server = TestServer::start_in(kind, FAST_TICKS, root.path());
        let mut a = Raw::resume(&server.addr(), id, pw)
            .unwrap_or_else(|| panic!("{kind:?}: session survives the restart"));
        assert_eq!(
            a.get_data(2, "/a-eph").0.err,
            0,
            "{kind:?}: its ephemeral too"
        );
        let mut w = Raw::session(&server.addr());
        w.send(
            1,
            &Request::Exists(ExistsRequest {
                path: "/b-eph".into(),
                watch: true,
            }),
        );
        assert_eq!(
            w.reply().expect("reply").0.err,
            0,
            "{kind:?}: b's ephemeral is back after the restart"
        );
        // b never comes back: its session expires and its ephemeral goes.
        let started = Instant::now();
        let mut events: Vec<WatcherEvent> = Vec::new();
        loop {
            if let Some(ev) = events.first() {
                assert_eq!((ev.r#type, ev.path.as_str()), (2, "/b-eph"), "{kind:?}");
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{kind:?}: b's session never expired"
            );
            match w.frame_within(Duration::from_millis(800)) {
                Err(()) => {
                    keepalive(&mut w, &mut events);
                    keepalive(&mut a, &mut Vec::new());
                }
                Ok(None) => panic!("{kind:?}: watcher closed"),
                Ok(Some(mut f)) => {
                    let h = ReplyHeader::decode(&mut f).unwrap();
                    if h.xid == -1 {
                        events.push(WatcherEvent::decode(&mut f).unwrap());
                    }
                }
            }
        }
        assert_eq!(
            a.get_data(3, "/a-eph").0.err,
            0,
            "{kind:?}: the live session keeps its ephemeral"
        );
    }
}
