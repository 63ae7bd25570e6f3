//! The core driven by hand: inputs with explicit times, effects checked as
//! values — no sockets, threads or clocks. Each test names the ZooKeeper
//! guarantee or rule it checks.

use bytes::{Buf, Bytes, BytesMut};

use super::*;
use crate::proto::records::proto::*;
use crate::proto::{Jute, OpCode, Request};

/// A core and its clock.
struct Harness {
    core: Core,
    now: Now,
    next_xid: i32,
}

fn at(ms: u64) -> Now {
    Now {
        mono_ms: ms,
        mono_us: ms * 1000,
        wall_ms: 1_700_000_000_000 + ms as i64,
    }
}

/// What a frame effect says.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Reply { conn: ConnId, xid: i32, err: i32 },
    Event { conn: ConnId, path: String },
    Handshake { conn: ConnId, timeout: i32 },
    Close { conn: ConnId },
    Persist(i64),
    Other,
}

fn seen(e: &Effect) -> Seen {
    match e {
        Effect::Frame { conn, frame, kind } => {
            let mut f = frame.clone();
            f.advance(4);
            match kind {
                FrameKind::Handshake => {
                    let (rsp, _) = crate::proto::connect::decode_response(f).expect("handshake");
                    Seen::Handshake {
                        conn: *conn,
                        timeout: rsp.time_out,
                    }
                }
                FrameKind::Event => {
                    let _ = ReplyHeader::decode(&mut f).expect("header");
                    let ev = WatcherEvent::decode(&mut f).expect("event");
                    Seen::Event {
                        conn: *conn,
                        path: ev.path,
                    }
                }
                FrameKind::Reply => {
                    let h = ReplyHeader::decode(&mut f).expect("header");
                    Seen::Reply {
                        conn: *conn,
                        xid: h.xid,
                        err: h.err,
                    }
                }
            }
        }
        Effect::Close { conn } => Seen::Close { conn: *conn },
        Effect::Persist(item) => Seen::Persist(item.zxid()),
        _ => Seen::Other,
    }
}

impl Harness {
    fn new(durability: Durability) -> Harness {
        let opts = ServerOptions {
            tick_ms: 100,
            min_session_timeout_ms: 200,
            max_session_timeout_ms: 2000,
            ..ServerOptions::default()
        };
        Harness {
            core: Core::new(opts, durability, at(0)),
            now: at(0),
            next_xid: 1,
        }
    }

    fn input(&mut self, i: Input) -> Vec<Seen> {
        self.core.handle(self.now, i);
        self.core.take_effects().iter().map(seen).collect()
    }

    fn advance(&mut self, ms: u64) -> Vec<Seen> {
        self.now = at(self.now.mono_ms + ms);
        self.input(Input::Tick)
    }

    /// Opens `conn` with a new session of `timeout` ms; returns what the
    /// handshake produced.
    fn connect(&mut self, conn: ConnId, timeout: i32) -> Vec<Seen> {
        let connect = Connect {
            req: ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                time_out: timeout,
                session_id: 0,
                passwd: Some(Bytes::from_static(&[0; 16])),
            },
            read_only: Some(false),
        };
        self.input(Input::Connect {
            conn,
            connect,
            peer: "127.0.0.1:5000".parse().unwrap(),
        })
    }

    fn request(&mut self, conn: ConnId, req: Request) -> (i32, Vec<Seen>) {
        let xid = self.next_xid;
        self.next_xid += 1;
        let mut body = BytesMut::new();
        req.encode(&mut body);
        let out = self.input(Input::Request {
            conn,
            xid,
            op: req.opcode(),
            body: body.freeze(),
            received_us: self.now.mono_us,
        });
        (xid, out)
    }
}

fn create(path: &str) -> Request {
    Request::Create(
        OpCode::Create,
        CreateRequest {
            path: path.into(),
            data: Some(Bytes::from_static(b"x")),
            acl: crate::tree::acl::open_acl_unsafe(),
            flags: 0,
        },
    )
}

fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest {
        path: path.into(),
        watch,
    })
}

fn set(path: &str) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(Bytes::from_static(b"y")),
        version: -1,
    })
}

/// A new session is a transaction: the handshake is answered only once
/// the createSession txn is durable (ZooKeeper's session establishment).
#[test]
fn a_session_is_answered_once_its_create_session_is_durable() {
    let mut h = Harness::new(Durability::Log);
    assert_eq!(h.connect(1, 1000), vec![Seen::Persist(1)]);
    assert_eq!(
        h.input(Input::Log(LogReport::Durable(1))),
        vec![Seen::Handshake {
            conn: 1,
            timeout: 1000
        }]
    );
}

/// A write is acknowledged only after it is durable; a read sent after it
/// on the same session is answered after it (per-session FIFO), while
/// another session's read is answered at once.
#[test]
fn a_write_is_answered_after_its_fsync_and_reads_behind_it_wait() {
    let mut h = Harness::new(Durability::Log);
    h.connect(1, 1000);
    h.connect(2, 1000);
    h.input(Input::Log(LogReport::Durable(2)));
    let (w, out) = h.request(1, create("/a"));
    assert_eq!(
        out,
        vec![Seen::Persist(3)],
        "nothing answered before the fsync"
    );
    let (r, out) = h.request(1, get("/a", false));
    assert!(out.is_empty(), "the read waits behind its session's write");
    let (other, out) = h.request(2, get("/zookeeper", false));
    assert_eq!(
        out,
        vec![Seen::Reply {
            conn: 2,
            xid: other,
            err: 0
        }],
        "other sessions are not held up"
    );
    assert_eq!(
        h.input(Input::Log(LogReport::Durable(3))),
        vec![
            Seen::Reply {
                conn: 1,
                xid: w,
                err: 0
            },
            Seen::Reply {
                conn: 1,
                xid: r,
                err: 0
            }
        ]
    );
}

/// A watch event is queued before the reply that reveals its change
/// (ZooKeeper's ordering guarantee), and a one-shot watch fires once.
#[test]
fn the_watch_event_comes_before_the_reply_that_reveals_the_change() {
    let mut h = Harness::new(Durability::Memory);
    h.connect(1, 1000);
    h.connect(2, 1000);
    h.request(1, create("/w"));
    h.request(2, get("/w", true));
    let (x, out) = h.request(1, set("/w"));
    assert_eq!(
        out,
        vec![
            Seen::Event {
                conn: 2,
                path: "/w".into()
            },
            Seen::Reply {
                conn: 1,
                xid: x,
                err: 0
            }
        ]
    );
    let (y, out) = h.request(1, set("/w"));
    assert_eq!(
        out,
        vec![Seen::Reply {
            conn: 1,
            xid: y,
            err: 0
        }],
        "one-shot"
    );
}

/// A session that is not heard from within its timeout expires: the
/// leader (here the standalone server) logs a closeSession and closes the
/// session's connection once it is durable. Time is an input.
#[test]
fn a_silent_session_expires_when_its_deadline_passes() {
    let mut h = Harness::new(Durability::Log);
    h.connect(1, 400);
    h.input(Input::Log(LogReport::Durable(1)));
    assert!(h.advance(300).is_empty(), "not yet");
    assert_eq!(
        h.advance(300),
        vec![Seen::Persist(2)],
        "closeSession logged"
    );
    assert_eq!(
        h.input(Input::Log(LogReport::Durable(2))),
        vec![Seen::Close { conn: 1 }]
    );
    assert!(h.core.sessions.is_empty());
}

/// A client whose outbox overflowed is forgotten with its watches; its
/// session lives on.
#[test]
fn an_overflowed_connection_loses_its_watches_but_not_its_session() {
    let mut h = Harness::new(Durability::Memory);
    h.connect(1, 1000);
    h.connect(2, 1000);
    h.request(1, create("/w"));
    h.request(2, get("/w", true));
    let out = h.input(Input::Overflowed {
        conn: 2,
        detail: "over".into(),
    });
    assert_eq!(out, vec![Seen::Close { conn: 2 }]);
    let (x, out) = h.request(1, set("/w"));
    assert_eq!(
        out,
        vec![Seen::Reply {
            conn: 1,
            xid: x,
            err: 0
        }],
        "no event for the dropped connection"
    );
    assert_eq!(h.core.sessions.len(), 2, "both sessions still exist");
    assert_eq!(h.core.stats.overflow_closes, 1);
}

/// An opcode the server does not serve is answered UNIMPLEMENTED and the
/// connection closed (UnimplementedRequestProcessor), consuming no zxid.
#[test]
fn a_refused_opcode_is_unimplemented_and_closes_the_connection() {
    let mut h = Harness::new(Durability::Memory);
    h.connect(1, 1000);
    let last = h.core.tree().last_zxid;
    let out = h.input(Input::Request {
        conn: 1,
        xid: 9,
        op: 55,
        body: Bytes::new(),
        received_us: 0,
    });
    assert_eq!(
        out,
        vec![
            Seen::Reply {
                conn: 1,
                xid: 9,
                err: crate::proto::ErrorCode::Unimplemented.code()
            },
            Seen::Close { conn: 1 }
        ]
    );
    assert_eq!(h.core.tree().last_zxid, last);
}

/// Four-letter words read a view of the core; `srst` resets through an
/// input.
#[test]
fn four_letter_words_read_a_view_and_reset_through_an_input() {
    let mut h = Harness::new(Durability::Memory);
    h.connect(1, 1000);
    h.request(1, get("/zookeeper", false));
    assert!(h.core.stats.received > 0);
    let log = crate::server::durability::SyncStats::default();
    let mut opts = h.core.options().clone();
    opts.four_letter_words = crate::config::FourLetterWords::All;
    h.core.opts = opts;
    let a = crate::server::fourlw::run(&h.core, &log, "srst");
    assert_eq!(a.reset, Some(Reset::Stats));
    assert!(
        h.core.stats.received > 0,
        "running the word changed nothing"
    );
    h.input(Input::Reset(Reset::Stats));
    assert_eq!(h.core.stats.received, 0);
}

/// The latency of a request runs from when the connection read it to its
/// answer, on the input clock.
#[test]
fn latency_is_measured_on_the_input_clock() {
    let mut h = Harness::new(Durability::Log);
    h.connect(1, 1000);
    h.input(Input::Log(LogReport::Durable(1)));
    h.core.stats.reset();
    let (_, _) = h.request(1, create("/l"));
    h.now = at(h.now.mono_ms + 7);
    h.input(Input::Log(LogReport::Durable(2)));
    assert_eq!(h.core.stats.count, 1);
    assert_eq!(h.core.stats.max_us, 7000);
}
