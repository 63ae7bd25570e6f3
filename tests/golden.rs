//! Golden bytes: frames captured between real clients (zkCli/the Java
//! client, kazoo, the C client) and Apache ZooKeeper 3.8.0 decode with our
//! generated records and re-encode byte for byte.
//!
//! Fixtures: `tests/golden/<client>/connNNN.txt`, one frame per line,
//! `C <hex>` for client→server and `S <hex>` for server→client (length
//! prefix stripped), recorded by a pass-through proxy (see tests/README.md).

use std::collections::HashMap;
use std::path::Path;

use bytes::{Bytes, BytesMut};
use ferrozk::proto::connect::{self, Connect};
use ferrozk::proto::records::proto::{ReplyHeader, RequestHeader, WatcherEvent};
use ferrozk::proto::response::Response;
use ferrozk::proto::{Jute, Request};

fn hex(s: &str) -> Bytes {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

/// Checks one captured connection; returns how many frames were verified.
fn check_conversation(file: &Path) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let mut ops: HashMap<i32, i32> = HashMap::new();
    let (mut saw_connect, mut saw_connect_reply) = (false, false);
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let (dir, h) = line.split_once(' ').expect("direction and hex");
        let frame = hex(h);
        let at = format!("{}:{}", file.display(), n + 1);
        let mut out = BytesMut::new();
        match dir {
            "C" if !saw_connect => {
                saw_connect = true;
                Connect::decode(frame.clone())
                    .unwrap_or_else(|e| panic!("{at}: {e}"))
                    .encode(&mut out);
            }
            "C" => {
                let mut b = frame.clone();
                let hdr = RequestHeader::decode(&mut b).unwrap();
                let req =
                    Request::decode(hdr.r#type, &mut b).unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(
                    b.is_empty(),
                    "{at}: {} bytes left after the request",
                    b.len()
                );
                assert_eq!(req.opcode(), hdr.r#type, "{at}");
                ops.insert(hdr.xid, hdr.r#type);
                hdr.encode(&mut out);
                req.encode(&mut out);
            }
            "S" if !saw_connect_reply => {
                saw_connect_reply = true;
                let (rsp, ro) = connect::decode_response_exact(frame.clone()).unwrap();
                connect::encode_response(&rsp, ro, &mut out);
            }
            "S" => {
                let mut b = frame.clone();
                let hdr = ReplyHeader::decode(&mut b).unwrap();
                hdr.encode(&mut out);
                if hdr.xid == -1 {
                    WatcherEvent::decode(&mut b).unwrap().encode(&mut out);
                } else if hdr.err == 0 {
                    let op = *ops
                        .get(&hdr.xid)
                        .unwrap_or_else(|| panic!("{at}: reply to unknown xid {}", hdr.xid));
                    Response::decode(op, &mut b)
                        .unwrap_or_else(|e| panic!("{at}: {e}"))
                        .encode(&mut out);
                }
                assert!(b.is_empty(), "{at}: {} bytes left after the reply", b.len());
            }
            other => panic!("{at}: bad direction {other}"),
        }
        assert_eq!(&out[..], &frame[..], "{at}: re-encoding differs");
        checked += 1;
    }
    checked
}

fn check_dir(client: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(client);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files.iter().map(|f| check_conversation(f)).sum()
}

#[test]
fn java_client_frames_round_trip() {
    assert!(check_dir("zkcli") > 50);
}

#[test]
fn kazoo_frames_round_trip() {
    assert!(check_dir("kazoo") > 50);
}

#[test]
fn c_client_frames_round_trip() {
    assert!(check_dir("cclient") > 20);
}
