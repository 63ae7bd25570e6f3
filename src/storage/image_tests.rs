//! Tests of the SNAP image (image.rs): round trips, the byte layout, where
//! an image ends in a stream, malformed input, and a cross-check with
//! Apache ZooKeeper 3.8's own DataTree and SerializeUtils
//! (tests/java/SnapImage.java), skipped with a message if Java is missing.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use bytes::{BufMut, Bytes, BytesMut};

use super::image::{decode_image, encode_image, image_len, ImageScan, SIGNATURE};
use crate::proto::jute::Jute;
use crate::proto::records::data::{Id, StatPersisted, ACL};
use crate::proto::records::txn::*;
use crate::proto::OpCode;
use crate::tree::digest::tree_digest;
use crate::tree::node::NodeKind;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::DataTree;

/// A tree built through transactions, in the script language
/// tests/java/SnapImage.java reads, so both servers build the same tree:
/// nested nodes, null and empty data, three distinct client ACL lists (one
/// equal to the system READ_ACL_UNSAFE), one freed by a delete, ephemerals
/// of two sessions, a container and a TTL node (owner 0xff00…ea60: 60 s),
/// a setData and a setACL.
const SCRIPT: &str = "\
session 72057594037927937 30000
session 72057594037927938 4000
create /app _ 0 2 1000 open
create /app/config 68656c6c6f 0 3 1001 31|digest|alice:abc=
create /app/config/db - 0 4 1002 1|world|anyone
create /app/lock 6c 72057594037927937 5 1003 open
create /queue _ -9223372036854775808 6 1004 open
create /queue/item 78 0 7 1005 open
create /ttl _ -72057594037867936 8 1006 open
setdata /app/config 776f726c64 1 9 1007
setacl /app 3|ip|10.0.0.0/8,1|world|anyone 1
create /app/tmp _ 0 10 1008 31|digest|alice:abc=
delete /app/tmp 11
create /app/e2 _ 72057594037927938 12 1009 open
";

fn parse_data(s: &str) -> Option<Bytes> {
    match s {
        "-" => None,
        "_" => Some(Bytes::new()),
        hex => Some(Bytes::from(unhex(hex))),
    }
}

fn parse_acl(s: &str) -> Vec<ACL> {
    if s == "open" {
        return crate::tree::acl::open_acl_unsafe();
    }
    s.split(',')
        .map(|one| {
            let p: Vec<&str> = one.splitn(3, '|').collect();
            ACL {
                perms: p[0].parse().unwrap(),
                id: Id {
                    scheme: p[1].into(),
                    id: p[2].into(),
                },
            }
        })
        .collect()
}

fn txn(op: OpCode, session: i64, zxid: i64, time: i64, body: TxnBody) -> Txn {
    Txn {
        hdr: TxnHeader {
            client_id: session,
            cxid: 0,
            zxid,
            time,
            r#type: op.code(),
        },
        body,
        digest: None,
    }
}

/// Runs a script on a fresh tree; every transaction must succeed.
fn build(script: &str, extended_types: bool) -> (DataTree, Vec<(i64, i32)>) {
    let mut tree = DataTree::new(extended_types);
    let mut sessions = Vec::new();
    for line in script.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let n = |i: usize| f[i].parse::<i64>().unwrap();
        let t = match f[0] {
            "session" => {
                sessions.push((n(1), n(2) as i32));
                continue;
            }
            "create" => {
                let (path, data, owner, acl) =
                    (f[1].to_string(), parse_data(f[2]), n(3), parse_acl(f[6]));
                let (op, body) = match NodeKind::of(owner, true) {
                    NodeKind::Container => (
                        OpCode::CreateContainer,
                        TxnBody::CreateContainer(CreateContainerTxn {
                            path,
                            data,
                            acl,
                            parent_c_version: -1,
                        }),
                    ),
                    NodeKind::Ttl(ttl) => (
                        OpCode::CreateTtl,
                        TxnBody::CreateTtl(CreateTTLTxn {
                            path,
                            data,
                            acl,
                            parent_c_version: -1,
                            ttl,
                        }),
                    ),
                    _ => (
                        OpCode::Create,
                        TxnBody::Create(CreateTxn {
                            path,
                            data,
                            acl,
                            ephemeral: owner != 0,
                            parent_c_version: -1,
                        }),
                    ),
                };
                txn(op, owner.max(1), n(4), n(5), body)
            }
            "setdata" => txn(
                OpCode::SetData,
                1,
                n(4),
                n(5),
                TxnBody::SetData(SetDataTxn {
                    path: f[1].into(),
                    data: parse_data(f[2]),
                    version: n(3) as i32,
                }),
            ),
            "setacl" => txn(
                OpCode::SetAcl,
                1,
                tree.last_zxid + 1,
                0,
                TxnBody::SetAcl(SetACLTxn {
                    path: f[1].into(),
                    acl: parse_acl(f[2]),
                    version: n(3) as i32,
                }),
            ),
            "delete" => txn(
                OpCode::Delete,
                1,
                n(2),
                0,
                TxnBody::Delete(DeleteTxn { path: f[1].into() }),
            ),
            other => panic!("bad script line {other:?}"),
        };
        let rc = tree.apply(&t, &mut Vec::new());
        assert_eq!(rc.err, 0, "script line {line:?} failed");
    }
    (tree, sessions)
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The tree as SnapImage.java dumps an Apache DataTree: sessions by id,
/// nodes by path with ACL id and list, data, stored stat and child count,
/// then the tree digest.
fn dump(tree: &DataTree, sessions: &[(i64, i32)]) -> String {
    let mut out = String::new();
    let mut sessions = sessions.to_vec();
    sessions.sort();
    for (id, timeout) in sessions {
        let _ = writeln!(out, "session {id} {timeout}");
    }
    let mut nodes: Vec<_> = tree.iter().collect();
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, node) in nodes {
        let acl: Vec<String> = tree
            .acl_of(node)
            .iter()
            .map(|a| format!("{}|{}|{}", a.perms, a.id.scheme, a.id.id))
            .collect();
        let data = match &node.data {
            None => "-".to_string(),
            Some(d) if d.is_empty() => "_".to_string(),
            Some(d) => hex(d),
        };
        let s = &node.stat;
        let _ = writeln!(
            out,
            "node {path} aclid={} acl={} data={data} stat={},{},{},{},{},{},{},{},{} children={}",
            node.acl,
            acl.join(","),
            s.czxid,
            s.mzxid,
            s.ctime,
            s.mtime,
            s.version,
            s.cversion,
            s.aversion,
            s.ephemeral_owner,
            s.pzxid,
            node.num_children()
        );
    }
    let _ = writeln!(out, "digest {}", tree_digest(tree));
    out
}

/// Same nodes (data, ACL list, stat, children), same digest, same indexes.
fn assert_same_tree(a: &DataTree, b: &DataTree) {
    assert_eq!(a.len(), b.len(), "node count");
    for (path, na) in a.iter() {
        let nb = b.get(&path).unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(na.data, nb.data, "data of {path}");
        assert_eq!(na.stat, nb.stat, "stat of {path}");
        assert_eq!(a.children(&path), b.children(&path), "children of {path}");
        assert_eq!(a.acl_of(na), b.acl_of(nb), "ACL of {path}");
    }
    assert_eq!(tree_digest(a), tree_digest(b), "tree digest");
    assert_eq!(a.all_ephemerals(), b.all_ephemerals(), "ephemerals");
    assert_eq!(a.containers(), b.containers(), "containers");
    assert_eq!(a.ttls(), b.ttls(), "TTL nodes");
}

#[test]
fn round_trip_keeps_every_node_acl_session_and_index() {
    let (tree, sessions) = build(SCRIPT, true);
    assert!(tree.acls.len() >= 3, "several distinct ACL lists");
    let image = decode_image(&encode_image(&tree, &sessions), true).unwrap();
    assert_same_tree(&tree, &image.tree);
    assert_eq!(dump(&tree, &sessions), dump(&image.tree, &image.sessions));
    assert_eq!(image.sessions, sessions, "sessions in image order");
    assert_eq!(image.tree.last_zxid, 0, "the zxid comes in the SNAP packet");
    assert!(image.tree.ttls().contains("/ttl"));
    assert!(image.tree.containers().contains("/queue"));
    assert_eq!(image.tree.ephemerals(0x100_0000_0000_0001).count(), 1);
}

#[test]
fn ttl_owner_without_extended_types_is_an_ephemeral_session() {
    // EphemeralType.get: the TTL encoding means nothing when extended
    // types are off; the owner is then an ordinary (negative) session.
    let (tree, sessions) = build(SCRIPT, true);
    let image = decode_image(&encode_image(&tree, &sessions), false).unwrap();
    assert!(image.tree.ttls().is_empty());
    let owner = tree.get("/ttl").unwrap().stat.ephemeral_owner;
    assert_eq!(image.tree.ephemerals(owner).collect::<Vec<_>>(), ["/ttl"]);
    assert!(image.tree.containers().contains("/queue"));
}

/// A fresh tree's image, written out field by field from the grammar.
#[test]
fn layout_is_sessions_acls_nodes_end_marker() {
    let tree = DataTree::new(false);
    let got = encode_image(&tree, &[(0x1234, 5000)]);
    let mut want = BytesMut::new();
    want.put_i32(1);
    want.put_i64(0x1234);
    want.put_i32(5000);
    want.put_i32(1); // one ACL list: READ_ACL_UNSAFE of /zookeeper/config
    want.put_i64(1);
    crate::tree::acl::read_acl_unsafe().encode(&mut want);
    let root_like = StatPersisted::default();
    for (path, acl, aversion) in [
        ("", -1, 0),
        ("/zookeeper", -1, 0),
        ("/zookeeper/config", 1, -1),
        ("/zookeeper/quota", -1, 0),
    ] {
        path.to_string().encode(&mut want);
        want.put_i32(0); // empty data
        want.put_i64(acl);
        StatPersisted {
            aversion,
            ..root_like.clone()
        }
        .encode(&mut want);
    }
    want.put_slice(&[0, 0, 0, 1, b'/']);
    assert_eq!(hex(&got), hex(&want));
}

#[test]
fn image_len_needs_the_end_marker_and_ignores_what_follows() {
    let (tree, sessions) = build(SCRIPT, true);
    let image = encode_image(&tree, &sessions);
    for n in 0..image.len() {
        assert_eq!(image_len(&image[..n]).unwrap(), None, "prefix of {n} bytes");
    }
    assert_eq!(image_len(&image).unwrap(), Some(image.len()));
    let mut stream = BytesMut::from(&image[..]);
    SIGNATURE.to_string().encode(&mut stream);
    assert_eq!(image_len(&stream).unwrap(), Some(image.len()));
}

#[test]
fn scan_fed_byte_by_byte_finds_the_same_end() {
    let (tree, sessions) = build(SCRIPT, true);
    let image = encode_image(&tree, &sessions);
    let mut scan = ImageScan::default();
    for n in 0..image.len() {
        assert_eq!(scan.feed(&image[..n]).unwrap(), None, "after {n} bytes");
    }
    assert_eq!(scan.feed(&image).unwrap(), Some(image.len()));
}

#[test]
fn decode_refuses_a_prefix_or_trailing_bytes() {
    let (tree, sessions) = build(SCRIPT, true);
    let image = encode_image(&tree, &sessions);
    for n in 0..image.len() {
        assert!(decode_image(&image[..n], true).is_err(), "prefix of {n}");
    }
    let mut longer = image.to_vec();
    longer.push(0);
    assert!(decode_image(&longer, true).is_err());
}

#[test]
fn damaged_bytes_give_errors_never_panics() {
    let (tree, sessions) = build(SCRIPT, true);
    let image = encode_image(&tree, &sessions);
    for pos in 0..image.len() {
        for value in [0x00, 0x7f, 0x80, 0xfe, 0xff, image[pos] ^ 0x01] {
            let mut bad = image.to_vec();
            bad[pos] = value;
            // Either result is fine (some bytes are data); no panic is not.
            let _ = image_len(&bad);
            let _ = decode_image(&bad, true);
        }
    }
}

/// An image with the given sessions/ACL part and node records.
fn image_of(acls: &[(i64, Option<Vec<ACL>>)], nodes: &[(Option<&str>, i32)]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i32(0);
    b.put_i32(acls.len() as i32);
    for (id, list) in acls {
        b.put_i64(*id);
        match list {
            Some(l) => l.encode(&mut b),
            None => b.put_i32(-1),
        }
    }
    for &(path, data_len) in nodes {
        match path {
            Some(p) => p.to_string().encode(&mut b),
            None => b.put_i32(-1),
        }
        b.put_i32(data_len);
        b.put_slice(&vec![b'x'; data_len.max(0) as usize]);
        b.put_i64(-1);
        StatPersisted::default().encode(&mut b);
    }
    b.put_slice(&[0, 0, 0, 1, b'/']);
    b.to_vec()
}

#[test]
fn structural_errors_are_reported_by_both_scan_and_decode() {
    let null_acl = image_of(&[(1, None)], &[(Some(""), 0)]);
    let null_path = image_of(&[], &[(None, 0)]);
    let bad_data_len = image_of(&[], &[(Some(""), -2)]);
    for (what, img) in [
        ("null ACL list", null_acl),
        ("null path", null_path),
        ("data length -2", bad_data_len),
    ] {
        assert!(image_len(&img).is_err(), "image_len: {what}");
        assert!(decode_image(&img, false).is_err(), "decode: {what}");
    }
}

#[test]
fn tree_errors_are_reported_by_decode() {
    let ok = image_of(&[], &[(Some(""), 0), (Some("/a"), 3), (Some("/a/b"), -1)]);
    assert!(decode_image(&ok, false).is_ok());
    for (what, img) in [
        (
            "child before parent",
            image_of(&[], &[(Some(""), 0), (Some("/a/b"), 0)]),
        ),
        ("no root", image_of(&[], &[])),
        (
            "relative path",
            image_of(&[], &[(Some(""), 0), (Some("a"), 0)]),
        ),
    ] {
        assert!(
            image_len(&img).unwrap().is_some(),
            "structure is fine: {what}"
        );
        let err = decode_image(&img, false).unwrap_err().to_string();
        assert!(err.contains("SNAP image"), "{what}: {err}");
    }
}

// ------------------------------------------------------------ Apache 3.8

const JARS: &[&str] = &[
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-nop.jar",
];

/// Compiles SnapImage.java, or says why it cannot.
fn apache_tool(dir: &Path) -> Result<String, String> {
    for tool in ["java", "javac"] {
        let ok = Command::new(tool)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("{tool} is not installed"));
        }
    }
    if let Some(jar) = JARS.iter().find(|j| !Path::new(j).exists()) {
        return Err(format!(
            "{jar} is missing (Debian packages zookeeper, libslf4j-java)"
        ));
    }
    let cp = JARS.join(":");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/SnapImage.java");
    let out = Command::new("javac")
        .args(["-nowarn", "-d"])
        .arg(dir)
        .args(["-cp", &cp])
        .arg(src)
        .output()
        .expect("run javac");
    assert!(
        out.status.success(),
        "javac SnapImage.java failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(format!("{}:{cp}", dir.display()))
}

/// Runs SnapImage in `mode` with `input` on stdin; its stdout.
fn apache(cp: &str, mode: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("java")
        .args([
            "-Dzookeeper.extendedTypesEnabled=true",
            "-cp",
            cp,
            "SnapImage",
            mode,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run java");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "SnapImage {mode} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An image cut into its records, each list sorted: Apache writes
/// sessions, ACL lists and children in Java hash order, we in key order.
fn records(image: &[u8]) -> [Vec<Vec<u8>>; 3] {
    let mut src = Bytes::copy_from_slice(image);
    let mut parts: [Vec<Vec<u8>>; 3] = Default::default();
    let mut cut = |src: &mut Bytes, part: usize, f: &dyn Fn(&mut Bytes)| {
        let before = src.clone();
        f(src);
        parts[part].push(before[..before.len() - src.len()].to_vec());
    };
    let n = i32::decode(&mut src).unwrap();
    for _ in 0..n {
        cut(&mut src, 0, &|s| {
            i64::decode(s).unwrap();
            i32::decode(s).unwrap();
        });
    }
    let n = i32::decode(&mut src).unwrap();
    for _ in 0..n {
        cut(&mut src, 1, &|s| {
            i64::decode(s).unwrap();
            Vec::<ACL>::decode(s).unwrap();
        });
    }
    while src[..] != [0, 0, 0, 1, b'/'] {
        cut(&mut src, 2, &|s| {
            String::decode(s).unwrap();
            Option::<Bytes>::decode(s).unwrap();
            i64::decode(s).unwrap();
            StatPersisted::decode(s).unwrap();
        });
    }
    for p in &mut parts {
        p.sort();
    }
    parts
}

/// For the same tree: Apache's bytes hold exactly our records (order
/// aside); we decode Apache's bytes into the tree Apache built; Apache
/// decodes our bytes into the tree it built (same ACL ids, stats, digest).
#[test]
fn matches_apache_zookeeper_3_8() {
    let dir = tempfile::tempdir().unwrap();
    let cp = match apache_tool(dir.path()) {
        Ok(cp) => cp,
        Err(why) => {
            eprintln!("skipping the Apache cross-check: {why}");
            return;
        }
    };
    let (tree, sessions) = build(SCRIPT, true);
    let ours = encode_image(&tree, &sessions);
    let theirs = unhex(apache(&cp, "encode", SCRIPT).trim());
    let apache_dump = apache(&cp, "dump", SCRIPT);

    assert_eq!(dump(&tree, &sessions), apache_dump, "the same tree built");
    assert_eq!(records(&ours), records(&theirs), "the same records");
    assert_eq!(image_len(&theirs).unwrap(), Some(theirs.len()));

    let decoded = decode_image(&theirs, true).unwrap();
    assert_same_tree(&tree, &decoded.tree);
    assert_eq!(dump(&decoded.tree, &decoded.sessions), apache_dump);

    assert_eq!(apache(&cp, "decode", &hex(&ours)), apache_dump);
}
