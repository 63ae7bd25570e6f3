//! Differential tests of request bodies that no well-behaved client sends
//! but ZooKeeper answers in a defined way, against Apache ZooKeeper 3.8 and
//! ferrozk (harness: tests/common/script.rs):
//!
//! - strings that are not UTF-8 (Java decodes them with U+FFFD replacement
//!   characters, then path validation or the lookup decides);
//! - vector counts below -1 (Java's `startVector` reads them as empty);
//! - string and buffer lengths below -1 (Java refuses them);
//! - server-internal opcodes sent by a client (deleteContainer,
//!   createSession, error, notification) and SASL without a SASL server.

mod common;

use common::script::*;
use ferrozk::proto::OpCode;

use Step::Raw as R;
use Step::Send as S;

/// A Jute string from raw bytes (not necessarily UTF-8).
fn jstr(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as i32).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

fn ji32(n: i32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// One open ACL entry: perms, scheme, id.
fn jacl(perms: i32, scheme: &[u8], id: &[u8]) -> Vec<u8> {
    [ji32(perms), jstr(scheme), jstr(id)].concat()
}

/// A CreateRequest body with an explicit ACL count and entries.
fn create_body(path: &[u8], acl_count: i32, acls: &[Vec<u8>], flags: i32) -> Vec<u8> {
    [
        jstr(path),
        jstr(b"d"),
        ji32(acl_count),
        acls.concat(),
        ji32(flags),
    ]
    .concat()
}

fn open_entry() -> Vec<u8> {
    jacl(31, b"world", b"anyone")
}

const BAD: &[u8] = b"/\xff\xfe";

#[test]
fn paths_that_are_not_utf8() {
    let op = |o: OpCode| o.code();
    let watch = |p: &[u8]| [jstr(p), vec![1]].concat();
    let steps = vec![
        S(0, mk("/u")),
        R(
            0,
            op(OpCode::Create),
            create_body(BAD, 1, &[open_entry()], 0),
        ),
        R(
            0,
            op(OpCode::Create2),
            create_body(b"/u/\xc3", 1, &[open_entry()], 0),
        ),
        R(0, op(OpCode::GetData), watch(BAD)),
        R(0, op(OpCode::Exists), watch(BAD)),
        R(0, op(OpCode::GetChildren2), watch(BAD)),
        R(0, op(OpCode::Delete), [jstr(BAD), ji32(-1)].concat()),
        R(
            0,
            op(OpCode::SetData),
            [jstr(BAD), jstr(b"x"), ji32(-1)].concat(),
        ),
        R(0, op(OpCode::GetAcl), jstr(BAD)),
        R(0, op(OpCode::Sync), jstr(BAD)),
        R(0, op(OpCode::AddWatch), [jstr(BAD), ji32(0)].concat()),
        R(0, op(OpCode::CheckWatches), [jstr(BAD), ji32(2)].concat()),
        // The replacement characters are what the watch was set on.
        R(0, op(OpCode::Exists), watch(b"/\xef\xbf\xbd\xef\xbf\xbd")),
        // An ACL id that is not UTF-8: the digest check sees U+FFFD.
        R(
            0,
            op(OpCode::Create),
            create_body(b"/u/acl", 1, &[jacl(31, b"digest", b"\xff:x")], 0),
        ),
        R(
            0,
            op(OpCode::Create),
            create_body(b"/u/acl2", 1, &[jacl(31, b"w\xffrld", b"anyone")], 0),
        ),
        // Invalid UTF-8 in an auth credential.
        R(
            0,
            op(OpCode::Auth),
            [ji32(0), jstr(b"digest"), jstr(b"u\xff:p")].concat(),
        ),
        S(0, ferrozk::proto::Request::WhoAmI),
        S(0, children("/u", false, true)),
    ];
    compare("not utf-8", 1, &[], steps);
}

#[test]
fn negative_counts_and_lengths() {
    let op = |o: OpCode| o.code();
    let steps = vec![
        S(0, mk("/n")),
        // An ACL count below -1 is an empty list: INVALIDACL.
        R(0, op(OpCode::Create), create_body(b"/n/a", -5, &[], 0)),
        R(
            0,
            op(OpCode::Create),
            create_body(b"/n/b", i32::MIN, &[], 0),
        ),
        // -1 is a null list: the same.
        R(0, op(OpCode::Create), create_body(b"/n/c", -1, &[], 0)),
        R(
            0,
            op(OpCode::SetAcl),
            [jstr(b"/n"), ji32(-5), ji32(-1)].concat(),
        ),
        // A string length below -1 is refused.
        R(
            0,
            op(OpCode::Create),
            [ji32(-5), jstr(b"d"), ji32(1), open_entry(), ji32(0)].concat(),
        ),
        S(0, get("/n", false)),
        R(
            0,
            op(OpCode::SetData),
            [jstr(b"/n"), ji32(-7), ji32(-1)].concat(),
        ),
        S(0, get("/n", false)),
        // setWatches lists with counts below -1: empty lists.
        R(
            0,
            op(OpCode::SetWatches),
            [0i64.to_be_bytes().to_vec(), ji32(-3), ji32(-3), ji32(-3)].concat(),
        ),
        S(0, get("/n", false)),
        // Entries after a count below -1 are not part of the list: the
        // decoder reads them as the fields that follow (flags = 31).
        R(
            0,
            op(OpCode::Create2),
            create_body(b"/n/d", -2, &[open_entry()], 0),
        ),
        S(0, children("/n", false, true)),
    ];
    compare("negative counts", 1, &[], steps);
}

#[test]
fn server_internal_opcodes_sent_by_a_client() {
    let del = OpCode::DeleteContainer.code();
    let steps = vec![
        S(0, mk("/k")),
        S(
            0,
            ferrozk::proto::Request::Create(
                OpCode::CreateContainer,
                ferrozk::proto::records::proto::CreateRequest {
                    path: "/k/box".into(),
                    data: data("b"),
                    acl: open(),
                    flags: 4,
                },
            ),
        ),
        // Every shape of body: a Jute string naming the empty container, a
        // plain node, a missing node; the bare path bytes; nothing.
        R(0, del, jstr(b"/k/box")),
        R(0, del, jstr(b"/k")),
        R(0, del, jstr(b"/k/none")),
        R(0, del, b"/k/box".to_vec()),
        R(0, del, vec![]),
        S(0, children("/k", false, true)),
        S(0, get("/k", false)),
    ];
    compare("deleteContainer", 1, &[], steps);
    // Opcodes ZooKeeper's request pipeline does not serve: UNIMPLEMENTED,
    // and the connection closes (each on a fresh session).
    for code in [OpCode::Error.code(), OpCode::Notification.code()] {
        let steps = vec![
            R(0, code, jstr(b"/k")),
            S(0, get("/zookeeper", false)),
            S(1, get("/zookeeper", false)),
        ];
        compare(&format!("opcode {code}"), 2, &[], steps);
    }
}

/// deleteContainer inside a multi is decoded as a plain delete (Java's
/// MultiOperationRecord maps both opcodes to Op.delete).
#[test]
fn delete_container_inside_a_multi_is_a_delete() {
    let multi_header = |op: i32, done: bool| [ji32(op), vec![u8::from(done)], ji32(-1)].concat();
    let del = |p: &[u8]| {
        [
            multi_header(OpCode::DeleteContainer.code(), false),
            jstr(p),
            ji32(-1),
        ]
        .concat()
    };
    let steps = vec![
        S(0, mk("/m")),
        S(0, mk("/m/plain")),
        R(
            0,
            OpCode::Multi.code(),
            [del(b"/m/plain"), multi_header(-1, true)].concat(),
        ),
        R(
            0,
            OpCode::Multi.code(),
            [del(b"/m/none"), multi_header(-1, true)].concat(),
        ),
        S(0, children("/m", false, true)),
    ];
    compare("deleteContainer in multi", 1, &[], steps);
}

/// Documented differences (docs/differences.md), both halves checked: a
/// client's createSession (-10) makes Apache ZooKeeper 3.8 create a second
/// session and answer with a connect response on the open connection, and
/// its SASL opcode (102) without a configured SASL server gets an empty OK
/// (a NullPointerException caught in processSasl); ferrozk answers both
/// UNIMPLEMENTED and closes the connection.
#[test]
fn create_session_and_sasl_from_a_client() {
    for code in [OpCode::CreateSession.code(), OpCode::Sasl.code()] {
        let steps = vec![R(0, code, jstr(b"/k")), S(0, get("/zookeeper", false))];
        for kind in common::kinds_under_test() {
            let server = common::TestServer::start(kind, &[]);
            let t = run(&server, 1, &steps);
            let closed = t[1].ends_with("connection closed");
            match kind {
                common::ServerKind::Apache => {
                    assert!(!closed, "opcode {code} on {kind:?}: {t:#?}");
                    assert!(
                        !t[0].contains("err=-6"),
                        "opcode {code} on {kind:?}: {t:#?}"
                    );
                }
                common::ServerKind::Ferrozk => {
                    assert!(closed, "opcode {code} on {kind:?}: {t:#?}");
                    assert!(t[0].contains("err=-6"), "opcode {code} on {kind:?}: {t:#?}");
                }
            }
        }
    }
}
