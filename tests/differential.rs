//! Differential test at the wire level: the same scripts of requests — from
//! several sessions, covering normal operation, edge cases, every error
//! path, watches, multi and ACLs — run against Apache ZooKeeper 3.8 and
//! against ferrozk, and the decoded replies (error codes, zxids, stats,
//! bodies) and watch notifications must be identical.
//!
//! Normalised: ctime/mtime (wall clock) become 0, session ids become
//! `session#N`, child lists are sorted (both servers return them in an
//! unspecified order). zxids are compared exactly: both servers start empty
//! and must consume zxids identically (sessions and failed writes included).

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use common::raw::Raw;
use common::{kinds_under_test, ServerKind, TestServer};
use ferrozk::proto::multi::{MultiOp, MultiResult};
use ferrozk::proto::records::data::{Id, Stat, ACL};
use ferrozk::proto::records::proto::*;
use ferrozk::proto::response::Response;
use ferrozk::proto::{OpCode, Request};
use ferrozk::tree::acl::generate_digest;

/// One step: which session sends what.
enum Step {
    Send(usize, Request),
    /// Raw opcode + body (for requests our types cannot express).
    Raw(usize, i32, Vec<u8>),
}

fn open() -> Vec<ACL> {
    ferrozk::tree::acl::open_acl_unsafe()
}

fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

fn data(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

fn create(path: &str, d: Option<Bytes>, acl: Vec<ACL>, flags: i32) -> Request {
    Request::Create(
        OpCode::Create,
        CreateRequest {
            path: path.into(),
            data: d,
            acl,
            flags,
        },
    )
}

fn create2(path: &str, flags: i32) -> Request {
    Request::Create(
        OpCode::Create2,
        CreateRequest {
            path: path.into(),
            data: data("v"),
            acl: open(),
            flags,
        },
    )
}

fn mk(path: &str) -> Request {
    create(path, data("x"), open(), 0)
}

fn delete(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version,
    })
}

fn set(path: &str, d: &str, version: i32) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: data(d),
        version,
    })
}

fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest {
        path: path.into(),
        watch,
    })
}

fn exists(path: &str, watch: bool) -> Request {
    Request::Exists(ExistsRequest {
        path: path.into(),
        watch,
    })
}

fn children(path: &str, watch: bool, two: bool) -> Request {
    Request::GetChildren(
        GetChildrenRequest {
            path: path.into(),
            watch,
        },
        two,
    )
}

fn auth(user_pass: &str) -> Request {
    Request::Auth(AuthPacket {
        r#type: 0,
        scheme: "digest".into(),
        auth: data(user_pass),
    })
}

struct Normalizer {
    sessions: HashMap<i64, usize>,
}

impl Normalizer {
    fn owner(&self, o: i64) -> String {
        match self.sessions.get(&o) {
            Some(n) => format!("session#{n}"),
            None => format!("{o:#x}"),
        }
    }
    fn stat(&self, s: &Stat) -> String {
        format!(
            "Stat(czxid={:#x} mzxid={:#x} pzxid={:#x} v={} cv={} av={} owner={} len={} kids={})",
            s.czxid,
            s.mzxid,
            s.pzxid,
            s.version,
            s.cversion,
            s.aversion,
            self.owner(s.ephemeral_owner),
            s.data_length,
            s.num_children
        )
    }
    fn children(&self, c: &[String]) -> String {
        let mut c = c.to_vec();
        c.sort();
        format!("{c:?}")
    }
    fn response(&self, r: &Response) -> String {
        match r {
            Response::Empty => "empty".into(),
            Response::Create(c) => format!("created {}", c.path),
            Response::Create2(c) => format!("created {} {}", c.path, self.stat(&c.stat)),
            Response::Stat(s) => self.stat(s),
            Response::GetData(g) => format!("data={:?} {}", g.data, self.stat(&g.stat)),
            Response::GetAcl(a) => format!("acl={:?} {}", a.acl, self.stat(&a.stat)),
            Response::GetChildren(c) => self.children(&c.children),
            Response::GetChildren2(c) => {
                format!("{} {}", self.children(&c.children), self.stat(&c.stat))
            }
            Response::AllChildrenNumber(n) => format!("total={}", n.total_number),
            Response::Ephemerals(e) => self.children(&e.ephemerals),
            Response::Sync(s) => format!("synced {}", s.path),
            Response::WhoAmI(w) => format!("{:?}", w.client_info),
            Response::ErrorBody(e) => format!("errbody={}", e.err),
            Response::Multi(rs) => {
                let parts: Vec<String> = rs
                    .iter()
                    .map(|r| match r {
                        MultiResult::Create2(op, p, s) => format!("{op:?} {p} {}", self.stat(s)),
                        MultiResult::SetData(s) => format!("set {}", self.stat(s)),
                        MultiResult::GetData(d, s) => format!("get {d:?} {}", self.stat(s)),
                        MultiResult::GetChildren(c) => format!("kids {}", self.children(c)),
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("multi[{}]", parts.join("; "))
            }
        }
    }
}

/// Runs `steps` with `sessions` sessions against a fresh server; returns
/// the transcript.
fn run(server: &TestServer, sessions: usize, steps: &[Step]) -> Vec<String> {
    let addr = server.addr();
    let mut conns: Vec<Option<Raw>> = (0..sessions).map(|_| Some(Raw::session(&addr))).collect();
    let mut norm = Normalizer {
        sessions: HashMap::new(),
    };
    let mut ops: Vec<HashMap<i32, i32>> = vec![HashMap::new(); sessions];
    for (i, c) in conns.iter().enumerate() {
        norm.sessions.insert(c.as_ref().unwrap().session_id, i);
    }
    let mut out = Vec::new();
    let mut xid = 100;
    for (n, step) in steps.iter().enumerate() {
        xid += 1;
        let (who, what) = match step {
            Step::Send(who, _) | Step::Raw(who, ..) if conns[*who].is_none() => {
                out.push(format!("#{n} s{who} skipped: connection closed"));
                continue;
            }
            Step::Send(who, req) => {
                let c = conns[*who].as_mut().expect("checked");
                c.send(xid, req);
                ops[*who].insert(xid, req.opcode());
                (*who, format!("{req:?}"))
            }
            Step::Raw(who, op, body) => {
                let c = conns[*who].as_mut().expect("checked");
                c.request(xid, *op, body);
                ops[*who].insert(xid, *op);
                (*who, format!("raw op {op} {body:?}"))
            }
        };
        let mut events = Vec::new();
        let line = match conns[who].as_mut().unwrap().reply_collecting(&mut events) {
            None => {
                conns[who] = None;
                format!("#{n} s{who} {what} -> connection closed")
            }
            Some((h, mut body)) => {
                let op = ops[who][&h.xid];
                if op == OpCode::CloseSession.code() {
                    conns[who] = None;
                }
                let shown = if h.err == 0 {
                    match Response::decode(op, &mut body) {
                        Ok(r) => norm.response(&r),
                        Err(e) => format!("undecodable body: {e}"),
                    }
                } else {
                    String::new()
                };
                let zxid = if h.zxid == -1 {
                    "-1".to_string()
                } else {
                    format!("{:#x}", h.zxid)
                };
                format!(
                    "#{n} s{who} {what} -> xid={} zxid={zxid} err={} {shown}",
                    h.xid - xid,
                    h.err
                )
            }
        };
        out.push(line);
        for e in events {
            out.push(format!(
                "   s{who} event type={} state={} path={}",
                e.r#type, e.state, e.path
            ));
        }
        // Barrier: a round trip on every other session collects the
        // notifications this step triggered there, in order.
        for (other, c) in conns.iter_mut().enumerate() {
            let Some(c) = c.as_mut() else { continue };
            if other == who {
                continue;
            }
            xid += 1;
            c.send(xid, &exists("/", false));
            let mut events = Vec::new();
            if c.reply_collecting(&mut events).is_none() {
                out.push(format!("   s{other} connection closed"));
                continue;
            }
            for e in events {
                out.push(format!(
                    "   s{other} event type={} state={} path={}",
                    e.r#type, e.state, e.path
                ));
            }
        }
    }
    out
}

fn compare(name: &str, sessions: usize, extra: &[(&str, &str)], steps: Vec<Step>) {
    let mut transcripts: Vec<(ServerKind, Vec<String>)> = Vec::new();
    for kind in kinds_under_test() {
        let server = TestServer::start(kind, extra);
        let t = run(&server, sessions, &steps);
        if std::env::var_os("FERROZK_DIFF_PRINT").is_some() {
            eprintln!("--- {name} on {kind:?}:\n{}", t.join("\n"));
        }
        transcripts.push((kind, t));
    }
    if let [(ka, a), (kb, b)] = &transcripts[..] {
        if a != b {
            let diff = common::diff_lines(&a.join("\n"), &b.join("\n"), 40);
            panic!("{name}: {ka:?} and {kb:?} differ:\n{diff}");
        }
    }
    assert!(
        transcripts.iter().all(|(_, t)| t.len() >= steps.len()),
        "{name}: every step answered"
    );
}

use Step::Send as S;

#[test]
fn creates_in_every_mode_and_their_errors() {
    let mut steps = vec![
        S(0, mk("/c")),
        S(0, create("/c/null", None, open(), 0)),
        S(0, get("/c/null", false)),
        S(0, create("/c/empty", data(""), open(), 0)),
        S(
            0,
            create("/c/big", Some(Bytes::from(vec![b'z'; 1024])), open(), 0),
        ),
        S(0, create2("/c/two", 0)),
        S(0, create2("/c/eph", 1)),
        S(0, create2("/c/seq-", 2)),
        S(0, create2("/c/seq-", 2)),
        S(0, create2("/c/eseq-", 3)),
        S(0, create2("/c/", 2)),
        S(0, create2("/", 2)),
        S(1, create2("/c/seq-", 2)),
        S(
            0,
            Request::Create(
                OpCode::CreateContainer,
                CreateRequest {
                    path: "/c/box".into(),
                    data: data("b"),
                    acl: open(),
                    flags: 4,
                },
            ),
        ),
        S(0, children("/c", false, true)),
        S(0, mk("/c")),
        S(0, mk("/")),
        S(0, mk("/nope/x")),
        S(0, mk("/c/eph/child")),
        S(0, mk("/c/box/child")),
        S(0, create("/c/flags7", data("x"), open(), 7)),
        S(0, create("/c/flagsneg", data("x"), open(), -1)),
        S(0, create("/c/ttl", data("x"), open(), 5)),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/c/ttl2".into(),
                data: data("x"),
                acl: open(),
                flags: 5,
                ttl: 1000,
            }),
        ),
        S(0, create("/c/noacl", data("x"), vec![], 0)),
        S(
            0,
            create("/c/badscheme", data("x"), vec![acl(31, "bogus", "x")], 0),
        ),
        S(
            0,
            create(
                "/c/worldother",
                data("x"),
                vec![acl(31, "world", "someone")],
                0,
            ),
        ),
        S(
            0,
            create(
                "/c/baddigest",
                data("x"),
                vec![acl(31, "digest", "nocolon")],
                0,
            ),
        ),
        S(
            0,
            create("/c/authnone", data("x"), vec![acl(31, "auth", "")], 0),
        ),
        S(
            0,
            create("/c/ipacl", data("x"), vec![acl(31, "ip", "10.0.0.0/8")], 0),
        ),
        S(
            0,
            create("/c/badip", data("x"), vec![acl(31, "ip", "10.0.0.0/99")], 0),
        ),
        S(
            0,
            create(
                "/c/dup",
                data("x"),
                vec![acl(31, "world", "anyone"), acl(31, "world", "anyone")],
                0,
            ),
        ),
        S(
            0,
            Request::GetAcl(GetACLRequest {
                path: "/c/dup".into(),
            }),
        ),
        S(0, mk("/zookeeper/mine")),
        S(0, mk("/zookeeper/config/x")),
        S(0, mk("relative")),
        S(0, mk("/c/./x")),
        S(0, mk("/c/x/")),
        S(0, mk("/c//x")),
        S(0, mk("/c/\u{1}")),
        S(0, mk("/c/\u{e000}")),
        S(0, mk("/c/ok\u{e9}")),
        S(
            0,
            Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: "/".into() }),
        ),
        S(
            0,
            Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: "/c".into() }),
        ),
        S(
            0,
            Request::GetAllChildrenNumber(GetAllChildrenNumberRequest {
                path: "/missing".into(),
            }),
        ),
        S(
            0,
            Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: "/".into(),
            }),
        ),
        S(
            0,
            Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: "/c/e".into(),
            }),
        ),
        S(
            1,
            Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: "".into(),
            }),
        ),
    ];
    for p in ["/zookeeper", "/zookeeper/config", "/zookeeper/quota", "/"] {
        steps.push(S(0, exists(p, false)));
        steps.push(S(0, get(p, false)));
        steps.push(S(0, Request::GetAcl(GetACLRequest { path: p.into() })));
        steps.push(S(0, delete(p, -1)));
        steps.push(S(0, set(p, "x", -1)));
    }
    compare("creates", 2, &[], steps);
}

#[test]
fn ttl_nodes_with_extended_types() {
    let steps = vec![
        S(0, mk("/t")),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/t/a".into(),
                data: data("x"),
                acl: open(),
                flags: 5,
                ttl: 100000,
            }),
        ),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/t/s-".into(),
                data: data("x"),
                acl: open(),
                flags: 6,
                ttl: 100000,
            }),
        ),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/t/zero".into(),
                data: data("x"),
                acl: open(),
                flags: 5,
                ttl: 0,
            }),
        ),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/t/huge".into(),
                data: data("x"),
                acl: open(),
                flags: 5,
                ttl: 1 << 40,
            }),
        ),
        S(
            0,
            Request::CreateTtl(CreateTTLRequest {
                path: "/t/notttl".into(),
                data: data("x"),
                acl: open(),
                flags: 0,
                ttl: 100,
            }),
        ),
        S(0, create("/t/ttlflag-no-ttl", data("x"), open(), 5)),
        S(0, mk("/t/a/child")),
        S(0, children("/t", false, true)),
        S(0, exists("/t/a", false)),
    ];
    compare("ttl", 1, &[("extendedTypesEnabled", "true")], steps);
}

#[test]
fn deletes_set_data_and_versions() {
    let steps = vec![
        S(0, mk("/d")),
        S(0, mk("/d/a")),
        S(0, set("/d/a", "1", 0)),
        S(0, set("/d/a", "2", 0)),
        S(0, set("/d/a", "3", -1)),
        S(0, set("/d/a", "4", 2)),
        S(
            0,
            Request::SetData(SetDataRequest {
                path: "/d/a".into(),
                data: None,
                version: -1,
            }),
        ),
        S(0, get("/d/a", false)),
        S(0, set("/d/missing", "x", -1)),
        S(0, set("bad", "x", -1)),
        S(0, set("/d/a/", "x", -1)),
        S(0, delete("/d", -1)),
        S(0, delete("/d/a", 1)),
        S(0, delete("/d/missing", -1)),
        S(0, delete("/d/a/", -1)),
        S(0, delete("nope", -1)),
        S(0, delete("/d/a", 4)),
        S(0, children("/d", false, true)),
        S(0, exists("/d", false)),
        S(0, delete("/d", 0)),
        S(0, get("/d", false)),
        S(0, children("/d", false, false)),
        S(0, Request::Sync(SyncRequest { path: "/".into() })),
        S(
            0,
            Request::Sync(SyncRequest {
                path: "/whatever".into(),
            }),
        ),
        // A successful bare check is left out: ZooKeeper fails to serialize
        // its reply (a null stat) and never answers (docs/differences.md).
        S(
            0,
            Request::Check(CheckVersionRequest {
                path: "/zookeeper".into(),
                version: 5,
            }),
        ),
        S(
            0,
            Request::Check(CheckVersionRequest {
                path: "/missing".into(),
                version: 0,
            }),
        ),
        S(
            0,
            Request::Reconfig(ReconfigRequest {
                joining_servers: "".into(),
                leaving_servers: "".into(),
                new_members: "".into(),
                cur_config_id: -1,
            }),
        ),
        S(0, Request::WhoAmI),
    ];
    compare("delete-set", 1, &[], steps);
}

#[test]
fn watches_fire_once_in_order_and_per_client() {
    let steps = vec![
        S(0, exists("/w", true)),
        S(1, exists("/w", true)),
        S(1, get("/w", true)),
        S(0, mk("/w")),
        S(0, get("/w", true)),
        S(1, get("/w", true)),
        S(1, children("/w", true, false)),
        S(2, children("/w", true, true)),
        S(0, set("/w", "a", -1)),
        S(0, set("/w", "b", -1)),
        S(2, mk("/w/k")),
        S(2, mk("/w/k2")),
        S(0, get("/w", true)),
        S(0, children("/w", true, false)),
        S(1, children("/w/k", true, false)),
        S(1, get("/w/k", true)),
        S(2, delete("/w/k", -1)),
        S(2, delete("/w/k2", -1)),
        S(1, delete("/w", -1)),
        S(
            0,
            Request::CheckWatches(CheckWatchesRequest {
                path: "/w".into(),
                r#type: 3,
            }),
        ),
        S(0, get("/gone", true)),
        S(0, exists("/x", true)),
        S(
            0,
            Request::CheckWatches(CheckWatchesRequest {
                path: "/x".into(),
                r#type: 2,
            }),
        ),
        S(
            0,
            Request::CheckWatches(CheckWatchesRequest {
                path: "/x".into(),
                r#type: 1,
            }),
        ),
        S(
            0,
            Request::RemoveWatches(RemoveWatchesRequest {
                path: "/x".into(),
                r#type: 1,
            }),
        ),
        S(
            0,
            Request::RemoveWatches(RemoveWatchesRequest {
                path: "/x".into(),
                r#type: 2,
            }),
        ),
        S(
            0,
            Request::RemoveWatches(RemoveWatchesRequest {
                path: "/x".into(),
                r#type: 2,
            }),
        ),
        S(0, mk("/x")),
        S(
            0,
            Request::AddWatch(AddWatchRequest {
                path: "/p".into(),
                mode: 0,
            }),
        ),
        S(
            1,
            Request::AddWatch(AddWatchRequest {
                path: "/p".into(),
                mode: 1,
            }),
        ),
        S(2, mk("/p")),
        S(2, mk("/p/c")),
        S(2, mk("/p/c/d")),
        S(2, set("/p/c/d", "x", -1)),
        S(2, set("/p", "x", -1)),
        S(2, delete("/p/c/d", -1)),
        S(
            0,
            Request::CheckWatches(CheckWatchesRequest {
                path: "/p".into(),
                r#type: 3,
            }),
        ),
        S(
            0,
            Request::CheckWatches(CheckWatchesRequest {
                path: "/p".into(),
                r#type: 4,
            }),
        ),
        S(0, get("/p", true)),
        S(2, set("/p", "y", -1)),
        S(2, set("/p", "z", -1)),
        S(
            1,
            Request::RemoveWatches(RemoveWatchesRequest {
                path: "/p".into(),
                r#type: 3,
            }),
        ),
        S(2, set("/p", "w", -1)),
        S(
            0,
            Request::AddWatch(AddWatchRequest {
                path: "/q".into(),
                mode: 7,
            }),
        ),
        S(
            0,
            Request::SetWatches(
                SetWatches2 {
                    relative_zxid: 1,
                    data_watches: vec!["/p".into(), "/nothere".into(), "/zookeeper".into()],
                    exist_watches: vec!["/p".into(), "/notyet".into()],
                    child_watches: vec!["/p".into(), "/zookeeper".into(), "/gone2".into()],
                    persistent_watches: vec!["/pw".into()],
                    persistent_recursive_watches: vec!["/prw".into()],
                },
                true,
            ),
        ),
        S(1, mk("/notyet")),
        S(1, mk("/pw")),
        S(1, mk("/prw")),
        S(1, mk("/prw/a")),
        S(
            0,
            Request::SetWatches(
                SetWatches2 {
                    relative_zxid: 0x1000,
                    data_watches: vec!["/p".into()],
                    exist_watches: vec![],
                    child_watches: vec!["/p".into()],
                    persistent_watches: vec![],
                    persistent_recursive_watches: vec![],
                },
                false,
            ),
        ),
        S(2, mk("/p/new")),
        S(2, set("/p", "v", -1)),
    ];
    compare("watches", 3, &[], steps);
}

#[test]
fn acls_auth_and_super() {
    let u1 = generate_digest("u1:p1");
    let steps = vec![
        S(0, auth("u1:p1")),
        S(0, Request::WhoAmI),
        S(0, create("/a", data("a"), vec![acl(31, "auth", "")], 0)),
        S(0, Request::GetAcl(GetACLRequest { path: "/a".into() })),
        S(1, Request::GetAcl(GetACLRequest { path: "/a".into() })),
        S(1, get("/a", false)),
        S(1, exists("/a", false)),
        S(1, set("/a", "x", -1)),
        S(1, mk("/a/child")),
        S(1, delete("/a", -1)),
        S(
            0,
            create(
                "/r",
                data("r"),
                vec![acl(1, "digest", &u1), acl(1, "world", "anyone")],
                0,
            ),
        ),
        S(1, Request::GetAcl(GetACLRequest { path: "/r".into() })),
        S(1, get("/r", false)),
        S(
            0,
            create(
                "/adm",
                data("r"),
                vec![acl(17, "digest", &u1), acl(1, "world", "anyone")],
                0,
            ),
        ),
        S(
            1,
            Request::GetAcl(GetACLRequest {
                path: "/adm".into(),
            }),
        ),
        S(
            0,
            Request::GetAcl(GetACLRequest {
                path: "/adm".into(),
            }),
        ),
        S(
            0,
            Request::SetAcl(SetACLRequest {
                path: "/adm".into(),
                acl: open(),
                version: 5,
            }),
        ),
        S(
            0,
            Request::SetAcl(SetACLRequest {
                path: "/adm".into(),
                acl: open(),
                version: 0,
            }),
        ),
        S(
            0,
            Request::SetAcl(SetACLRequest {
                path: "/adm".into(),
                acl: vec![],
                version: -1,
            }),
        ),
        S(
            0,
            Request::SetAcl(SetACLRequest {
                path: "/missing".into(),
                acl: open(),
                version: -1,
            }),
        ),
        S(
            1,
            Request::SetAcl(SetACLRequest {
                path: "/a".into(),
                acl: open(),
                version: -1,
            }),
        ),
        S(
            0,
            create("/ip", data("i"), vec![acl(31, "ip", "127.0.0.1")], 0),
        ),
        S(1, get("/ip", false)),
        S(
            0,
            create("/ipother", data("i"), vec![acl(31, "ip", "10.1.2.0/24")], 0),
        ),
        S(1, get("/ipother", false)),
        S(
            0,
            create("/ip6", data("i"), vec![acl(31, "ip", "::1/128")], 0),
        ),
        S(1, get("/ip6", false)),
        S(1, auth("u1:p1")),
        S(1, get("/a", false)),
        S(1, auth("u2:p2")),
        S(1, Request::WhoAmI),
        S(1, create("/both", data("b"), vec![acl(31, "auth", "")], 0)),
        S(
            1,
            Request::GetAcl(GetACLRequest {
                path: "/both".into(),
            }),
        ),
        S(
            0,
            Request::MultiRead(vec![
                MultiOp::GetData(GetDataRequest {
                    path: "/a".into(),
                    watch: false,
                }),
                MultiOp::GetData(GetDataRequest {
                    path: "/ipother".into(),
                    watch: false,
                }),
                MultiOp::GetChildren(GetChildrenRequest {
                    path: "/".into(),
                    watch: false,
                }),
                MultiOp::GetData(GetDataRequest {
                    path: "/missing".into(),
                    watch: false,
                }),
            ]),
        ),
        S(
            2,
            Request::Auth(AuthPacket {
                r#type: 0,
                scheme: "nosuch".into(),
                auth: data("x"),
            }),
        ),
    ];
    compare("acl", 3, &[], steps);
}

#[test]
fn super_digest_bypasses_acls() {
    let digest = generate_digest("super:secret");
    let steps = vec![
        S(0, auth("u1:p1")),
        S(
            0,
            create("/locked", data("l"), vec![acl(31, "auth", "")], 0),
        ),
        S(1, get("/locked", false)),
        S(1, auth("super:secret")),
        S(1, Request::WhoAmI),
        S(1, get("/locked", false)),
        S(
            1,
            Request::GetAcl(GetACLRequest {
                path: "/locked".into(),
            }),
        ),
        S(1, delete("/locked", -1)),
    ];
    compare(
        "super",
        2,
        &[("DigestAuthenticationProvider.superDigest", &digest)],
        steps,
    );
}

#[test]
fn multi_is_all_or_nothing() {
    let c = |p: &str| {
        MultiOp::Create(
            OpCode::Create,
            CreateRequest {
                path: p.into(),
                data: data("m"),
                acl: open(),
                flags: 0,
            },
        )
    };
    let steps = vec![
        S(0, mk("/m")),
        S(
            0,
            Request::Multi(vec![
                c("/m/a"),
                c("/m/a/b"),
                MultiOp::SetData(SetDataRequest {
                    path: "/m/a".into(),
                    data: data("s"),
                    version: 0,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: "/m/a".into(),
                    version: 1,
                }),
                MultiOp::Create(
                    OpCode::Create2,
                    CreateRequest {
                        path: "/m/s-".into(),
                        data: None,
                        acl: open(),
                        flags: 2,
                    },
                ),
                MultiOp::Create(
                    OpCode::CreateContainer,
                    CreateRequest {
                        path: "/m/box".into(),
                        data: None,
                        acl: open(),
                        flags: 4,
                    },
                ),
            ]),
        ),
        S(
            0,
            Request::Multi(vec![
                c("/m/x"),
                MultiOp::Delete(
                    OpCode::Delete,
                    DeleteRequest {
                        path: "/m/a".into(),
                        version: -1,
                    },
                ),
                c("/m/y"),
            ]),
        ),
        S(0, exists("/m/x", false)),
        S(
            0,
            Request::Multi(vec![
                MultiOp::Check(CheckVersionRequest {
                    path: "/m/a".into(),
                    version: 7,
                }),
                c("/m/z"),
            ]),
        ),
        S(
            0,
            Request::Multi(vec![
                MultiOp::Delete(
                    OpCode::Delete,
                    DeleteRequest {
                        path: "/m/a/b".into(),
                        version: -1,
                    },
                ),
                MultiOp::Delete(
                    OpCode::Delete,
                    DeleteRequest {
                        path: "/m/a".into(),
                        version: -1,
                    },
                ),
                c("/m/a"),
                MultiOp::SetData(SetDataRequest {
                    path: "/m/a".into(),
                    data: data("again"),
                    version: 0,
                }),
            ]),
        ),
        S(0, get("/m/a", false)),
        S(0, children("/m", false, true)),
        S(0, Request::Multi(vec![])),
        S(0, Request::Multi(vec![c("bad"), c("/m/q")])),
        S(0, Request::Multi(vec![c("/m/q"), c("/m/q")])),
        S(
            0,
            Request::Multi(vec![MultiOp::GetData(GetDataRequest {
                path: "/m".into(),
                watch: false,
            })]),
        ),
        S(0, Request::MultiRead(vec![c("/m/r")])),
        S(0, Request::MultiRead(vec![])),
        S(1, exists("/m/q", true)),
        S(
            0,
            Request::Multi(vec![
                c("/m/q"),
                MultiOp::SetData(SetDataRequest {
                    path: "/m/q".into(),
                    data: data("z"),
                    version: 0,
                }),
            ]),
        ),
    ];
    compare("multi", 2, &[], steps);
}

#[test]
fn close_session_deletes_ephemerals_and_notifies() {
    let steps = vec![
        S(0, mk("/e")),
        S(1, create("/e/one", data("1"), open(), 1)),
        S(1, create("/e/seq-", data("1"), open(), 3)),
        S(0, exists("/e/one", true)),
        S(0, children("/e", true, false)),
        S(2, get("/e/one", true)),
        S(
            1,
            Request::GetEphemerals(GetEphemeralsRequest {
                prefix_path: "/e".into(),
            }),
        ),
        S(1, Request::CloseSession),
        S(0, children("/e", false, true)),
        S(2, exists("/e/one", false)),
    ];
    compare("close", 3, &[], steps);
}

#[test]
fn malformed_and_unknown_requests() {
    let steps = vec![
        S(0, mk("/u")),
        Step::Raw(0, OpCode::GetData.code(), vec![0, 0, 0, 40, b'/']),
        Step::Raw(0, OpCode::SetData.code(), vec![0, 0, 0, 2, b'/', b'u']),
        Step::Raw(0, OpCode::Multi.code(), vec![0, 0, 0, 1, 0]),
        Step::Raw(0, OpCode::CheckWatches.code(), {
            let mut b = Vec::new();
            let mut m = bytes::BytesMut::new();
            ferrozk::proto::Jute::encode(
                &CheckWatchesRequest {
                    path: "/u".into(),
                    r#type: 9,
                },
                &mut m,
            );
            b.extend_from_slice(&m);
            b
        }),
        S(0, get("/u", false)),
        // A null path (length -1), as kazoo sends for "": per-op answers.
        Step::Raw(
            0,
            OpCode::Create.code(),
            vec![255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        Step::Raw(
            0,
            OpCode::Delete.code(),
            vec![255, 255, 255, 255, 255, 255, 255, 255],
        ),
        Step::Raw(
            0,
            OpCode::SetData.code(),
            vec![255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255],
        ),
        Step::Raw(0, OpCode::Exists.code(), vec![255, 255, 255, 255, 0]),
        Step::Raw(0, OpCode::GetData.code(), vec![255, 255, 255, 255, 0]),
        Step::Raw(0, OpCode::GetChildren2.code(), vec![255, 255, 255, 255, 0]),
        Step::Raw(0, OpCode::GetAcl.code(), vec![255, 255, 255, 255]),
        // The empty path is the root's alias in ZooKeeper's node map.
        S(0, exists("", false)),
        S(0, get("", false)),
        S(0, children("", false, true)),
        S(
            0,
            Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: "".into() }),
        ),
        S(0, mk("")),
        S(0, delete("", -1)),
        S(0, set("", "x", -1)),
        S(0, get("/u", false)),
        Step::Raw(0, 0, vec![]),
        Step::Raw(1, 55, vec![]),
    ];
    compare("malformed", 2, &[], steps);
}
