//! The differential harness: scripts of raw requests from several
//! sessions, run against Apache ZooKeeper 3.8 and ferrozk, with the decoded
//! replies and notifications compared line by line (see
//! tests/differential.rs for what is normalised and why).
//!
//! A step's line shows the reply header (xid offset, zxid, error) and the
//! decoded body; after every step a round trip on each other session
//! collects the notifications the step triggered there, in order.

use std::collections::HashMap;

use bytes::Bytes;
use ferrozk::proto::multi::MultiResult;
use ferrozk::proto::records::data::{Id, Stat, ACL};
use ferrozk::proto::records::proto::*;
use ferrozk::proto::response::Response;
use ferrozk::proto::{OpCode, Request};

use super::raw::Raw;
use super::{kinds_under_test, ServerKind, TestServer};

/// One step: which session sends what.
pub enum Step {
    Send(usize, Request),
    /// Raw opcode + body (for requests our types cannot express).
    Raw(usize, i32, Vec<u8>),
}

pub fn open() -> Vec<ACL> {
    ferrozk::tree::acl::open_acl_unsafe()
}

pub fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

pub fn data(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

pub fn create(path: &str, d: Option<Bytes>, acl: Vec<ACL>, flags: i32) -> Request {
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

pub fn create2(path: &str, flags: i32) -> Request {
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

pub fn mk(path: &str) -> Request {
    create(path, data("x"), open(), 0)
}

pub fn delete(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version,
    })
}

pub fn set(path: &str, d: &str, version: i32) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: data(d),
        version,
    })
}

pub fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest {
        path: path.into(),
        watch,
    })
}

pub fn exists(path: &str, watch: bool) -> Request {
    Request::Exists(ExistsRequest {
        path: path.into(),
        watch,
    })
}

pub fn children(path: &str, watch: bool, two: bool) -> Request {
    Request::GetChildren(
        GetChildrenRequest {
            path: path.into(),
            watch,
        },
        two,
    )
}

pub fn auth(user_pass: &str) -> Request {
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
pub fn run(server: &TestServer, sessions: usize, steps: &[Step]) -> Vec<String> {
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
            Some((h, _)) if !ops[who].contains_key(&h.xid) => format!(
                "#{n} s{who} {what} -> reply with an xid never sent: {} zxid={:#x} err={}",
                h.xid, h.zxid, h.err
            ),
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

pub fn compare(name: &str, sessions: usize, extra: &[(&str, &str)], steps: Vec<Step>) {
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
            let diff = super::diff_lines(&a.join("\n"), &b.join("\n"), 40);
            panic!("{name}: {ka:?} and {kb:?} differ:\n{diff}");
        }
    }
    assert!(
        transcripts.iter().all(|(_, t)| t.len() >= steps.len()),
        "{name}: every step answered"
    );
}

pub fn add_watch(path: &str, mode: i32) -> Request {
    Request::AddWatch(AddWatchRequest {
        path: path.into(),
        mode,
    })
}

pub fn check_watches(path: &str, r#type: i32) -> Request {
    Request::CheckWatches(CheckWatchesRequest {
        path: path.into(),
        r#type,
    })
}

pub fn remove_watches(path: &str, r#type: i32) -> Request {
    Request::RemoveWatches(RemoveWatchesRequest {
        path: path.into(),
        r#type,
    })
}
