//! Quorum-port codec tests: every packet round-trips, a few packets match
//! bytes worked out by hand from Leader/Learner/LearnerHandler, every
//! truncation asks for more, garbage never panics.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

use super::*;
use crate::proto::jute::Jute;
use crate::proto::records::data::{Id, StatPersisted, ACL};
use crate::zab::types::{LearnerKind, Packet, Zxid};

/// A database image as SerializeUtils.serializeSnapshot writes it: two
/// sessions, one ACL list, the root, /a and /zookeeper, then "/".
fn image() -> Bytes {
    let mut b = BytesMut::new();
    b.put_i32(2);
    for (id, timeout) in [(0x100i64, 30_000i32), (0x101, 4_000)] {
        b.put_i64(id);
        b.put_i32(timeout);
    }
    b.put_i32(1);
    b.put_i64(1);
    vec![ACL {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
    .encode(&mut b);
    for (path, data) in [
        ("", None),
        ("/a", Some(&b"x"[..])),
        ("/zookeeper", Some(&b""[..])),
    ] {
        path.to_string().encode(&mut b);
        data.map(Bytes::copy_from_slice).encode(&mut b);
        b.put_i64(-1);
        StatPersisted::default().encode(&mut b);
    }
    "/".to_string().encode(&mut b);
    b.freeze()
}

fn id(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.into(),
        id: id.into(),
    }
}

/// One of every variant, with the role that sends it.
fn every_packet() -> Vec<(Packet, Role)> {
    let z = Zxid::new(3, 7);
    let txn = Bytes::from_static(b"txn bytes");
    vec![
        (
            Packet::LearnerInfo {
                kind: LearnerKind::Follower,
                accepted_epoch: 2,
                sid: 5,
                protocol_version: 0x10000,
                config_version: 0x100000000,
            },
            Role::Learner,
        ),
        (
            Packet::LearnerInfo {
                kind: LearnerKind::Observer,
                accepted_epoch: 0,
                sid: 3,
                protocol_version: 0x10000,
                config_version: 0,
            },
            Role::Learner,
        ),
        (
            Packet::LeaderInfo {
                new_epoch: 4,
                protocol_version: 0x10000,
            },
            Role::Leader,
        ),
        (
            Packet::AckEpoch {
                last_zxid: z,
                current_epoch: Some(3),
            },
            Role::Learner,
        ),
        (
            Packet::AckEpoch {
                last_zxid: z,
                current_epoch: None,
            },
            Role::Learner,
        ),
        (Packet::Diff { zxid: z }, Role::Leader),
        (Packet::Trunc { zxid: z }, Role::Leader),
        (
            Packet::Snap {
                zxid: z,
                image: image(),
            },
            Role::Leader,
        ),
        (
            Packet::NewLeader {
                zxid: Zxid::new(4, 0),
                config: Bytes::from_static(b"server.1=h:1:2:participant\nversion=0"),
            },
            Role::Leader,
        ),
        (
            Packet::NewLeader {
                zxid: Zxid::new(4, 0),
                config: Bytes::new(),
            },
            Role::Leader,
        ),
        (Packet::UpToDate, Role::Leader),
        (
            Packet::Proposal {
                zxid: z,
                txn: txn.clone(),
            },
            Role::Leader,
        ),
        (Packet::Ack { zxid: z }, Role::Learner),
        (Packet::Commit { zxid: z }, Role::Leader),
        (Packet::Inform { zxid: z, txn }, Role::Leader),
        (
            Packet::Request {
                data: Bytes::from_static(b"request"),
                authinfo: vec![id("ip", "127.0.0.1"), id("digest", "u:p")],
            },
            Role::Learner,
        ),
        (
            Packet::Request {
                data: Bytes::from_static(b"r"),
                authinfo: vec![],
            },
            Role::Learner,
        ),
        (
            Packet::Ping {
                zxid: z,
                data: Bytes::new(),
            },
            Role::Leader,
        ),
        (
            Packet::Ping {
                zxid: z,
                data: Bytes::new(),
            },
            Role::Learner,
        ),
        (
            Packet::Ping {
                zxid: z,
                data: Bytes::from_static(&[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x75, 0x30]),
            },
            Role::Learner,
        ),
        (
            Packet::Revalidate {
                data: Bytes::from_static(&[0, 0, 0, 0, 0, 0, 1, 0, 1]),
            },
            Role::Leader,
        ),
        (Packet::Sync, Role::Leader),
    ]
}

fn encode(p: &Packet, role: Role) -> BytesMut {
    let mut out = BytesMut::new();
    QuorumCodec::new(role).encode(p, &mut out).unwrap();
    out
}

fn decode_one(bytes: &[u8]) -> Result<Option<Result<Packet, MessageError>>, WireError> {
    QuorumCodec::new(Role::Learner).decode(&mut BytesMut::from(bytes))
}

#[test]
fn every_packet_round_trips_and_reencodes_to_the_same_bytes() {
    for (p, role) in every_packet() {
        let bytes = encode(&p, role);
        let mut buf = bytes.clone();
        buf.put_slice(b"\0\0\0\x03"); // the start of the next packet
        let got = QuorumCodec::new(role).decode(&mut buf).unwrap();
        assert_eq!(got, Some(Ok(p.clone())), "{p:?}");
        assert_eq!(&buf[..], b"\0\0\0\x03", "{p:?} left the rest alone");
        assert_eq!(encode(&p, role), bytes);
    }
}

#[test]
fn golden_bytes_worked_out_from_the_java_code() {
    let ff4 = [0xff; 4];
    let cases: Vec<(Packet, Role, Vec<u8>)> = vec![
        // Learner: new QuorumPacket(Leader.ACK, 0x100000001, null, null).
        (
            Packet::Ack {
                zxid: Zxid::new(1, 1),
            },
            Role::Learner,
            [&[0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1][..], &ff4, &ff4].concat(),
        ),
        // LearnerHandler: LEADERINFO, makeZxid(1, 0), data = int 0x10000.
        (
            Packet::LeaderInfo {
                new_epoch: 1,
                protocol_version: 0x10000,
            },
            Role::Leader,
            [
                &[0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0][..],
                &[0, 0, 0, 4, 0, 1, 0, 0],
                &ff4,
            ]
            .concat(),
        ),
        // Learner.registerWithLeader: OBSERVERINFO, makeZxid(0, 0),
        // LearnerInfo(3, 0x10000, 0) written as a record: 20 bytes.
        (
            Packet::LearnerInfo {
                kind: LearnerKind::Observer,
                accepted_epoch: 0,
                sid: 3,
                protocol_version: 0x10000,
                config_version: 0,
            },
            Role::Learner,
            [
                &[0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20][..],
                &[0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                &ff4,
            ]
            .concat(),
        ),
        // LearnerHandler: new QuorumPacket(Leader.UPTODATE, -1, null, null).
        (
            Packet::UpToDate,
            Role::Leader,
            [&[0, 0, 0, 12][..], &[0xff; 8], &ff4, &ff4].concat(),
        ),
        // Learner: ACKEPOCH with -1 when the epoch was already accepted.
        (
            Packet::AckEpoch {
                last_zxid: Zxid(0),
                current_epoch: None,
            },
            Role::Learner,
            [
                &[0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4][..],
                &ff4,
                &ff4,
            ]
            .concat(),
        ),
        // LearnerHandler.ping: PING with the last proposed zxid, null data.
        (
            Packet::Ping {
                zxid: Zxid::new(1, 2),
                data: Bytes::new(),
            },
            Role::Leader,
            [&[0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2][..], &ff4, &ff4].concat(),
        ),
        // Learner.ping: the reply echoes the zxid with an empty touch table.
        (
            Packet::Ping {
                zxid: Zxid::new(1, 2),
                data: Bytes::new(),
            },
            Role::Learner,
            [&[0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2][..], &[0; 4], &ff4].concat(),
        ),
        // Learner.request: REQUEST, -1, data, the client's auth ids.
        (
            Packet::Request {
                data: Bytes::from_static(b"rq"),
                authinfo: vec![id("ip", "h")],
            },
            Role::Learner,
            [
                &[0, 0, 0, 1][..],
                &[0xff; 8],
                &[0, 0, 0, 2, b'r', b'q', 0, 0, 0, 1],
                &[0, 0, 0, 2, b'i', b'p', 0, 0, 0, 1, b'h'],
            ]
            .concat(),
        ),
        // LearnerHandler: SNAP record, the image, writeString("BenWasHere").
        (
            Packet::Snap {
                zxid: Zxid::new(1, 3),
                image: image(),
            },
            Role::Leader,
            [
                &[0, 0, 0, 15, 0, 0, 0, 1, 0, 0, 0, 3][..],
                &ff4,
                &ff4,
                &image(),
                &[0, 0, 0, 10],
                b"BenWasHere",
            ]
            .concat(),
        ),
    ];
    for (p, role, want) in cases {
        assert_eq!(&encode(&p, role)[..], &want[..], "{p:?}");
        assert_eq!(decode_one(&want).unwrap(), Some(Ok(p)));
    }
}

#[test]
fn every_truncation_asks_for_more() {
    for (p, role) in every_packet() {
        let bytes = encode(&p, role);
        for cut in 0..bytes.len() {
            assert!(
                matches!(decode_one(&bytes[..cut]), Ok(None)),
                "{p:?} cut at {cut}"
            );
        }
        // Fed one byte at a time into one codec: exactly one packet, at the end.
        let mut codec = QuorumCodec::new(role);
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            buf.put_u8(*b);
            let got = codec.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i + 1 == bytes.len(), "{p:?} byte {i}");
        }
        assert!(buf.is_empty());
    }
}

fn raw(kind: i32, data: Option<&[u8]>) -> BytesMut {
    let mut out = BytesMut::new();
    RawPacket {
        kind,
        zxid: 1,
        data: data.map(Bytes::copy_from_slice),
        authinfo: None,
    }
    .encode(&mut out);
    out
}

#[test]
fn unknown_and_reconfig_packets_are_message_errors_that_keep_the_stream() {
    let mut buf = raw(99, Some(b"zz"));
    buf.unsplit(raw(9, None));
    buf.unsplit(raw(19, Some(b"cfg")));
    buf.unsplit(raw(4, None));
    let mut codec = QuorumCodec::new(Role::Learner);
    let mut next = || codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(next(), Err(MessageError::UnknownPacketType(99)));
    assert_eq!(
        next(),
        Err(MessageError::Unsupported {
            code: 9,
            name: "COMMITANDACTIVATE"
        })
    );
    assert!(matches!(
        next(),
        Err(MessageError::Unsupported { code: 19, .. })
    ));
    assert_eq!(next(), Ok(Packet::Commit { zxid: Zxid(1) }));
}

#[test]
fn non_utf8_authinfo_decodes_with_replacement_characters_as_in_java() {
    let mut buf = BytesMut::new();
    buf.put_i32(1);
    buf.put_i64(-1);
    buf.put_i32(-1);
    buf.put_i32(1);
    buf.put_i32(2);
    buf.put_slice(&[0xff, 0xfe]);
    buf.put_i32(0);
    buf.unsplit(raw(4, None));
    let mut codec = QuorumCodec::new(Role::Leader);
    let first = codec.decode(&mut buf).unwrap().unwrap();
    assert!(first.is_ok(), "{first:?}");
    let second = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(second, Ok(Packet::Commit { zxid: Zxid(1) }));
}

#[test]
fn short_learner_info_and_epoch_data_are_message_errors() {
    for (kind, data) in [
        (11, None),
        (16, Some(&[0u8; 7][..])),
        (17, Some(&[0; 3][..])),
        (18, None),
    ] {
        let got = decode_one(&raw(kind, data)).unwrap().unwrap();
        assert!(matches!(got, Err(MessageError::Malformed { .. })), "{kind}");
    }
    // 8 bytes is enough for LearnerHandler: protocol 0x1, config 0 implied.
    let got = decode_one(&raw(11, Some(&7u64.to_be_bytes())))
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Ok(Packet::LearnerInfo {
            kind: LearnerKind::Follower,
            accepted_epoch: 0,
            sid: 7,
            protocol_version: 1,
            config_version: 0,
        })
    );
}

#[test]
fn a_snap_image_with_a_wrong_signature_or_structure_is_a_wire_error() {
    let mut bytes = encode(
        &Packet::Snap {
            zxid: Zxid(1),
            image: image(),
        },
        Role::Leader,
    );
    let n = bytes.len();
    bytes[n - 1] = b'X';
    assert!(matches!(decode_one(&bytes), Err(WireError::Signature(_))));

    let mut head = raw(15, None);
    head.put_i32(-1); // session count
    assert!(matches!(
        decode_one(&head),
        Err(WireError::Malformed { .. })
    ));

    let mut head = raw(15, None);
    head.put_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // no sessions, no acls
    head.put_i32(JUTE_MAX_LENGTH as i32 + 1); // a node path
    assert!(matches!(
        decode_one(&head),
        Err(WireError::Length {
            field: "SNAP image node path",
            ..
        })
    ));
}

#[test]
fn limits_follow_the_configured_maximum() {
    let bytes = encode(
        &Packet::Proposal {
            zxid: Zxid(1),
            txn: Bytes::from(vec![0; 100]),
        },
        Role::Leader,
    );
    let mut codec = QuorumCodec::new(Role::Learner).with_max_len(99);
    assert!(matches!(
        codec.decode(&mut BytesMut::from(&bytes[..])),
        Err(WireError::Length {
            len: 100,
            max: 99,
            ..
        })
    ));
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut buf = BytesMut::from(&bytes[..]);
        let mut codec = QuorumCodec::new(Role::Learner);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
        let frame = Bytes::from(bytes.clone());
        let _ = decode_notification(&frame);
        let _ = Initiation::decode(&bytes);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(_)) = ElectionFrameCodec.decode(&mut buf) {}
    }

    #[test]
    fn damaged_packets_never_panic(which in 0usize..22, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let packets = every_packet();
        let (p, role) = &packets[which % packets.len()];
        let mut bytes = encode(p, *role);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let mut codec = QuorumCodec::new(Role::Learner);
        while let Ok(Some(_)) = codec.decode(&mut bytes) {}
    }
}
