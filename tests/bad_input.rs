//! Bad input: each malformed or hostile frame affects at most its own
//! connection, gets Apache ZooKeeper's answer, and the server keeps serving
//! everyone else. Every case runs against Apache ZooKeeper 3.8 and ferrozk.

mod common;

use bytes::Bytes;
use common::raw::Raw;
use common::{kinds_under_test, ServerKind, TestServer};
use ferrozk::proto::records::proto::*;
use ferrozk::proto::{ErrorCode, Jute, OpCode};

/// Runs `case` against each server, then checks the server still serves a
/// session opened before and one opened after.
fn each_server(case: impl Fn(&TestServer, ServerKind)) {
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[]);
        let mut witness = Raw::session(&server.addr());
        assert_eq!(witness.create(1, "/witness", b"w").err, 0, "{kind:?}");
        case(&server, kind);
        let (h, mut body) = witness.get_data(2, "/witness");
        assert_eq!(h.err, 0, "{kind:?}: the earlier session still works");
        assert_eq!(
            GetDataResponse::decode(&mut body).unwrap().data.as_deref(),
            Some(&b"w"[..])
        );
        let mut fresh = Raw::session(&server.addr());
        assert_eq!(
            fresh.get_data(1, "/witness").0.err,
            0,
            "{kind:?}: new sessions still work"
        );
    }
}

#[test]
fn negative_frame_length_closes_only_that_connection() {
    each_server(|s, kind| {
        let mut r = Raw::open(&s.addr());
        r.send_raw(&(-5i32).to_be_bytes());
        r.expect_closed(&format!("{kind:?} negative length"));
    });
}

#[test]
fn oversized_frame_length_closes_only_that_connection() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        r.send_raw(&0x7fff_fff0i32.to_be_bytes());
        r.expect_closed(&format!("{kind:?} huge length"));
    });
}

#[test]
fn data_of_one_mib_plus_one_closes_the_connection() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        let req = SetDataRequest {
            path: "/witness".into(),
            data: Some(Bytes::from(vec![7u8; 1024 * 1024 + 1])),
            version: -1,
        };
        r.request(5, OpCode::SetData.code(), &req.to_bytes());
        r.expect_closed(&format!("{kind:?} 1 MiB + 1"));
    });
}

#[test]
fn truncated_frame_then_eof_closes_the_connection() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        r.send_raw(&100i32.to_be_bytes());
        r.send_raw(&[1, 2, 3, 4, 5]);
        r.sock.shutdown(std::net::Shutdown::Write).unwrap();
        r.expect_closed(&format!("{kind:?} truncated"));
    });
}

#[test]
fn unknown_opcode_gets_unimplemented_then_the_connection_closes() {
    // ZooKeeper's UnimplementedRequestProcessor answers UNIMPLEMENTED (zxid
    // -1) and closes the connection; the session itself lives on.
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        r.request(7, 999, &[]);
        let (h, _) = r.reply().expect("reply");
        assert_eq!(
            (h.xid, h.zxid, h.err),
            (7, -1, ErrorCode::Unimplemented.code()),
            "{kind:?}"
        );
        r.expect_closed(&format!("{kind:?} after UNIMPLEMENTED"));
    });
}

#[test]
fn malformed_body_gets_marshalling_error_and_the_connection_survives() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        // getData whose path length claims more bytes than the frame has.
        r.request(3, OpCode::GetData.code(), &[0, 0, 0, 50, b'/']);
        let (h, _) = r.reply().expect("reply");
        assert_eq!(
            (h.xid, h.err),
            (3, ErrorCode::MarshallingError.code()),
            "{kind:?} read"
        );
        r.request(4, OpCode::Create.code(), &[0, 0, 0, 9]);
        let (h, _) = r.reply().expect("reply");
        assert_eq!(
            (h.xid, h.err),
            (4, ErrorCode::MarshallingError.code()),
            "{kind:?} write"
        );
        assert_eq!(r.get_data(5, "/witness").0.err, 0, "{kind:?}: still usable");
    });
}

#[test]
fn trailing_bytes_after_a_valid_request_are_ignored() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        let mut body = GetDataRequest {
            path: "/witness".into(),
            watch: false,
        }
        .to_bytes()
        .to_vec();
        body.extend_from_slice(b"garbage");
        r.request(3, OpCode::GetData.code(), &body);
        assert_eq!(r.reply().expect("reply").0.err, 0, "{kind:?}");
    });
}

#[test]
fn invalid_paths_get_bad_arguments() {
    each_server(|s, kind| {
        let mut r = Raw::session(&s.addr());
        // Checked in ZooKeeper's order: the parent must exist before the
        // full path is validated, so a bad path under a missing parent is
        // NONODE, under an existing one BADARGUMENTS.
        let cases: [(&str, ErrorCode); 9] = [
            ("noslash", ErrorCode::BadArguments),
            ("/witness/", ErrorCode::BadArguments),
            ("/witness/.", ErrorCode::BadArguments),
            ("/witness/..", ErrorCode::BadArguments),
            ("/wit\u{0}ness", ErrorCode::BadArguments),
            ("/zz\u{1}", ErrorCode::BadArguments),
            ("/\u{1F600}", ErrorCode::BadArguments),
            ("/a/", ErrorCode::NoNode),
            ("/a//b", ErrorCode::NoNode),
        ];
        for (i, (p, want)) in cases.iter().enumerate() {
            let h = r.create(10 + i as i32, p, b"");
            assert_eq!(h.err, want.code(), "{kind:?} create {p:?}");
        }
        // A deep path whose parents do not exist: NONODE, nothing created.
        let deep = "/deep".repeat(500);
        assert_eq!(
            r.create(30, &deep, b"").err,
            ErrorCode::NoNode.code(),
            "{kind:?}"
        );
    });
}

#[test]
fn garbage_handshake_closes_the_connection() {
    each_server(|s, kind| {
        let mut r = Raw::open(&s.addr());
        r.send_frame(&[1, 2, 3]);
        r.expect_closed(&format!("{kind:?} garbage handshake"));
    });
}

#[test]
fn a_client_that_never_reads_its_replies_does_not_stall_others() {
    each_server(|s, kind| {
        let mut flood = Raw::session(&s.addr());
        flood
            .sock
            .set_write_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let get = GetDataRequest {
            path: "/witness".into(),
            watch: false,
        }
        .to_bytes();
        let mut frame = Vec::new();
        for xid in 0..200 {
            let mut f = bytes::BytesMut::new();
            RequestHeader {
                xid,
                r#type: OpCode::GetData.code(),
            }
            .encode(&mut f);
            f.extend_from_slice(&get);
            frame.extend_from_slice(&(f.len() as i32).to_be_bytes());
            frame.extend_from_slice(&f);
        }
        // Pipeline requests until the server stops reading (the write times
        // out) or 100k are queued; never read a reply.
        let mut sent = 0;
        while sent < 100_000 {
            if std::io::Write::write_all(&mut flood.sock, &frame).is_err() {
                break;
            }
            sent += 200;
        }
        let mut other = Raw::session(&s.addr());
        assert_eq!(
            other.get_data(1, "/witness").0.err,
            0,
            "{kind:?}: others are served"
        );
    });
}

/// A client that holds a watch and stops reading while 100 000 watched
/// nodes change: the events queue up for it. ferrozk bounds the bytes it
/// queues per connection (`ferrozk.connection.maxQueuedBytes`, here 1 MiB)
/// and closes the connection past that; its session survives and the
/// server goes on serving others. Apache ZooKeeper 3.8 queues every event
/// (its outgoing queue is unbounded) and keeps the connection: the stalled
/// client gets all of them when it reads again (a documented difference).
#[test]
fn a_client_that_stops_reading_its_watch_events_is_cut_off_past_the_limit() {
    const NODES: usize = 100_000;
    const PER_MULTI: usize = 500;
    let limit = (1u32 << 20).to_string();
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, &[("ferrozk.connection.maxQueuedBytes", &limit)]);
        let mut stalled = Raw::session(&server.addr());
        stalled.send(
            1,
            &ferrozk::proto::Request::AddWatch(AddWatchRequest {
                path: "/w".into(),
                mode: 1,
            }),
        );
        assert_eq!(stalled.reply().expect("addWatch answered").0.err, 0);
        // Long names make each event ~240 bytes: ~24 MB in all, far more
        // than the socket buffers on both ends hold.
        let name = "n".repeat(200);
        let rt = common::runtime();
        rt.block_on(async {
            let c = common::connect_client(&server.addr()).await;
            let open = ferrozk::client::acls::open_unsafe();
            c.create("/w", b"", &open, ferrozk::client::CreateMode::Persistent)
                .await
                .unwrap();
            let batches = (0..NODES / PER_MULTI).map(|b| {
                let ops: Vec<ferrozk::client::Op> = (0..PER_MULTI)
                    .map(|i| {
                        ferrozk::client::Op::create(
                            &format!("/w/{name}{}", b * PER_MULTI + i),
                            b"",
                            open.clone(),
                            ferrozk::client::CreateMode::Persistent,
                        )
                    })
                    .collect();
                let c = &c;
                async move { c.multi(ops).await.expect("multi") }
            });
            futures_util::future::join_all(batches).await;
            // Others are served meanwhile and after.
            assert_eq!(
                c.get_all_children_number("/w").await.unwrap(),
                NODES as i32,
                "{kind:?}"
            );
        });
        // Now read what the stalled connection was sent.
        let mut events = 0;
        let closed = loop {
            match stalled.frame_within(std::time::Duration::from_secs(5)) {
                Ok(Some(_)) => events += 1,
                Ok(None) => break true,
                Err(()) => break false,
            }
        };
        match kind {
            ServerKind::Ferrozk => {
                assert!(closed, "ferrozk closes the stalled connection");
                assert!(events < NODES, "{events} events before the close");
                assert!(
                    server.log_tail().contains("not reading"),
                    "{}",
                    server.log_tail()
                );
            }
            ServerKind::Apache => {
                assert!(!closed, "Apache keeps the connection");
                // NodeCreated /w, then one per child.
                assert_eq!(events, NODES + 1, "Apache queued every event");
            }
        }
        // The session itself survives on both.
        let again = Raw::resume(&server.addr(), stalled.session_id, stalled.passwd.clone());
        assert!(again.is_some(), "{kind:?}: the session survives");
    }
}
