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

use bytes::Bytes;
use common::script::*;
use ferrozk::proto::multi::MultiOp;
use ferrozk::proto::records::proto::*;
use ferrozk::proto::{OpCode, Request};
use ferrozk::tree::acl::generate_digest;

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
                MultiOp::Delete(DeleteRequest {
                    path: "/m/a".into(),
                    version: -1,
                }),
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
                MultiOp::Delete(DeleteRequest {
                    path: "/m/a/b".into(),
                    version: -1,
                }),
                MultiOp::Delete(DeleteRequest {
                    path: "/m/a".into(),
                    version: -1,
                }),
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
