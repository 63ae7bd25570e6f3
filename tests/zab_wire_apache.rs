//! `ferrozk::zab::wire` against a real Apache ZooKeeper 3.8 (Debian
//! package): we play a peer on its election port and an observer on its
//! quorum port. Every message we send is made by our encoders, every
//! message received is decoded by our decoders, and every received
//! message must re-encode to exactly the bytes Apache sent.
//!
//! - election port, larger sid: Apache (sid 1) keeps our connection (sid
//!   3), sends its vote, and switches to our better vote;
//! - election port, smaller sid: Apache drops our connection (sid 0) and
//!   dials back to the address in our initiation message;
//! - quorum port: an observer registers with the leader of a 2-member
//!   ensemble, is synced by SNAP (whose image our snapshot reader reads),
//!   acknowledges NEWLEADER and UPTODATE, answers PINGs and receives an
//!   INFORM for a later write.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use common::cluster::Cluster;
use common::raw::Raw;
use common::ServerKind;
use ferrozk::proto::records::txn::CreateTxn;
use ferrozk::tree::txn::TxnBody;
use ferrozk::zab::wire::{
    decode_notification, encode_notification, ElectionFrameCodec, Initiation, InitiationCodec,
    InitiationFormat, PeerAddress, QuorumCodec, Role,
};
use ferrozk::zab::{LearnerKind, Notification, Packet, ServerState, Zxid};
use tokio_util::codec::{Decoder, Encoder};

/// How long Apache may take to start, elect, or answer.
const STARTUP: Duration = Duration::from_secs(40);
const ANSWER: Duration = Duration::from_secs(15);

/// Reads more bytes into `buf`; `false` on EOF or reset. Panics when
/// nothing arrives before `deadline`.
fn fill(sock: &mut TcpStream, buf: &mut BytesMut, deadline: Instant, what: &str) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    assert!(!left.is_zero(), "timed out waiting for {what}");
    sock.set_read_timeout(Some(left)).unwrap();
    let mut chunk = [0u8; 16 * 1024];
    match sock.read(&mut chunk) {
        Ok(0) => false,
        Ok(n) => {
            buf.put_slice(&chunk[..n]);
            true
        }
        Err(e) if e.kind() == ErrorKind::ConnectionReset => false,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            panic!("timed out waiting for {what}")
        }
        Err(e) => panic!("reading {what}: {e}"),
    }
}

/// Connects to `port`, retrying while the server is not listening yet.
fn connect_when_listening(port: u16, apache: &Cluster) -> TcpStream {
    apache.wait_until("election port", STARTUP, || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    })
}

/// A 3-member Apache ensemble of which only server.1 runs.
fn lone_member() -> Cluster {
    let mut apache = Cluster::configure(ServerKind::Apache, 3, 0);
    apache.restart(0);
    apache
}

/// One election-port connection, after the initiation message.
struct ElectionLink {
    sock: TcpStream,
    buf: BytesMut,
}

impl ElectionLink {
    fn new(sock: TcpStream) -> ElectionLink {
        ElectionLink {
            sock,
            buf: BytesMut::new(),
        }
    }

    fn send_initiation(&mut self, msg: &Initiation) {
        let mut out = BytesMut::new();
        InitiationCodec.encode(msg, &mut out).unwrap();
        self.sock.write_all(&out).unwrap();
    }

    fn send(&mut self, n: &Notification) {
        let mut out = BytesMut::new();
        ElectionFrameCodec.encode(n, &mut out).unwrap();
        self.sock.write_all(&out).unwrap();
    }

    /// The peer's initiation message and the bytes it took.
    fn recv_initiation(&mut self) -> (Initiation, Bytes) {
        let deadline = Instant::now() + ANSWER;
        loop {
            let before = self.buf.clone();
            if let Some(msg) = InitiationCodec.decode(&mut self.buf).unwrap() {
                let used = before.len() - self.buf.len();
                return (msg, before.freeze().slice(..used));
            }
            let open = fill(&mut self.sock, &mut self.buf, deadline, "initiation");
            assert!(open, "closed before a whole initiation message");
        }
    }

    /// The next notification; checks that it re-encodes to its bytes.
    fn recv(&mut self) -> Notification {
        let deadline = Instant::now() + ANSWER;
        loop {
            if let Some(frame) = ElectionFrameCodec.decode(&mut self.buf).unwrap() {
                let n = decode_notification(&frame)
                    .unwrap_or_else(|e| panic!("notification {frame:?}: {e}"));
                let mut again = BytesMut::new();
                encode_notification(&n, &mut again);
                assert_eq!(&again[..], &frame[..], "re-encoding of {n:?}");
                return n;
            }
            let open = fill(&mut self.sock, &mut self.buf, deadline, "notification");
            assert!(open, "closed while waiting for a notification");
        }
    }

    fn expect_closed(&mut self) {
        let deadline = Instant::now() + ANSWER;
        while fill(&mut self.sock, &mut self.buf, deadline, "close") {}
        assert!(
            self.buf.is_empty(),
            "got bytes before the close: {:?}",
            self.buf
        );
    }
}

fn looking_vote(leader: u64, round: i64) -> Notification {
    Notification {
        leader,
        zxid: Zxid::ZERO,
        round,
        state: ServerState::Looking,
        peer_epoch: 0,
        config: Bytes::new(),
    }
}

fn loopback(port: u16) -> PeerAddress {
    PeerAddress {
        host: "127.0.0.1".into(),
        port,
    }
}

/// A larger sid's connection is kept: Apache (sid 1) sends us its vote
/// for itself, and after our vote for sid 3 (better by sid, all else
/// equal) it sends its changed vote.
#[test]
fn election_larger_sid_is_kept_and_votes_are_exchanged() {
    let apache = lone_member();
    let sock = connect_when_listening(apache.members[0].election_port, &apache);
    let mut link = ElectionLink::new(sock);
    link.send_initiation(&Initiation::v1(
        3,
        loopback(apache.members[2].election_port),
    ));

    let first = link.recv();
    assert_eq!(first.state, ServerState::Looking, "{first:?}");
    assert_eq!(
        (first.leader, first.zxid, first.peer_epoch),
        (1, Zxid::ZERO, 0)
    );
    assert!(first.round >= 1, "{first:?}");
    let config = String::from_utf8(first.config.to_vec()).expect("config is text");
    for sid in 1..=3 {
        assert!(config.contains(&format!("server.{sid}=")), "{config}");
    }

    link.send(&looking_vote(3, first.round));
    let deadline = Instant::now() + ANSWER;
    let switched = loop {
        let n = link.recv();
        if n.leader == 3 {
            break n;
        }
        assert_eq!(n.leader, 1, "{n:?}");
        assert!(Instant::now() < deadline, "Apache never adopted our vote");
    };
    assert_eq!(switched.state, ServerState::Looking, "{switched:?}");
    assert_eq!(switched.round, first.round);
    assert_eq!((switched.zxid, switched.peer_epoch), (Zxid::ZERO, 0));
    drop(apache);
}

/// A smaller sid's connection is dropped, and Apache dials back to the
/// address we announced, with its own initiation message (V1: 3.8's
/// default), then answers a non-voter's notification with its vote.
#[test]
fn election_smaller_sid_is_dropped_and_dialled_back() {
    let apache = lone_member();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let our_port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();

    let sock = connect_when_listening(apache.members[0].election_port, &apache);
    let mut ours = ElectionLink::new(sock);
    ours.send_initiation(&Initiation::v1(0, loopback(our_port)));
    ours.expect_closed();

    let back = apache.wait_until("a connection back", ANSWER, || match listener.accept() {
        Ok((s, _)) => Some(s),
        Err(e) if e.kind() == ErrorKind::WouldBlock => None,
        Err(e) => panic!("accept: {e}"),
    });
    back.set_nonblocking(false).unwrap();
    let mut back = ElectionLink::new(back);
    let (hello, raw) = back.recv_initiation();
    assert_eq!(hello.format, InitiationFormat::V1);
    assert_eq!(hello.sid, 1);
    assert_eq!(
        hello.addresses,
        vec![loopback(apache.members[0].election_port)]
    );
    let mut again = BytesMut::new();
    hello.encode(&mut again);
    assert_eq!(&again[..], &raw[..], "re-encoding of {hello:?}");

    back.send(&looking_vote(0, 1));
    let n = back.recv();
    assert_eq!((n.state, n.leader), (ServerState::Looking, 1), "{n:?}");
    drop(apache);
}

/// The observer's side of a quorum-port connection.
struct QuorumLink {
    sock: TcpStream,
    codec: QuorumCodec,
    buf: BytesMut,
    /// Every byte received, to compare re-encodings with.
    received: Vec<u8>,
    decoded_upto: usize,
}

impl QuorumLink {
    fn connect(port: u16) -> QuorumLink {
        QuorumLink {
            sock: TcpStream::connect(("127.0.0.1", port)).expect("connect to quorum port"),
            codec: QuorumCodec::new(Role::Learner),
            buf: BytesMut::new(),
            received: Vec::new(),
            decoded_upto: 0,
        }
    }

    fn send(&mut self, p: &Packet) {
        let mut out = BytesMut::new();
        self.codec.encode(p, &mut out).unwrap();
        self.sock.write_all(&out).unwrap();
    }

    /// The next packet; checks that the leader's encoding of it is
    /// exactly the bytes it took on the stream.
    fn recv(&mut self) -> Packet {
        let deadline = Instant::now() + ANSWER;
        loop {
            if let Some(got) = self.codec.decode(&mut self.buf).unwrap() {
                let p = got.unwrap_or_else(|e| panic!("undecodable packet: {e}"));
                let end = self.received.len() - self.buf.len();
                let raw = &self.received[self.decoded_upto..end];
                self.decoded_upto = end;
                let mut again = BytesMut::new();
                QuorumCodec::new(Role::Leader)
                    .encode(&p, &mut again)
                    .unwrap();
                assert!(
                    &again[..] == raw,
                    "re-encoding of {p:?} differs from {raw:?}"
                );
                return p;
            }
            let before = self.buf.len();
            let open = fill(&mut self.sock, &mut self.buf, deadline, "a quorum packet");
            assert!(open, "the leader closed the connection");
            self.received.extend_from_slice(&self.buf[before..]);
        }
    }

    /// Waits for a PING (nothing else may come) and answers it.
    fn answer_next_ping(&mut self) {
        match self.recv() {
            Packet::Ping { zxid, data } => {
                assert!(data.is_empty());
                self.send(&Packet::Ping {
                    zxid,
                    data: Bytes::new(),
                });
            }
            p => panic!("expected a PING, got {p:?}"),
        }
    }

    /// The next packet that is not a PING; PINGs are answered as
    /// Learner.ping does (zxid echoed, empty session table).
    fn recv_answering_pings(&mut self) -> Packet {
        loop {
            match self.recv() {
                Packet::Ping { zxid, data } => {
                    assert!(data.is_empty());
                    self.send(&Packet::Ping {
                        zxid,
                        data: Bytes::new(),
                    });
                }
                p => return p,
            }
        }
    }
}

/// Wraps a SNAP image into a snapshot file (FileSnap adds the header and
/// the seal) so that our snapshot reader can check its contents.
fn read_image(zxid: Zxid, image: &[u8]) -> ferrozk::storage::Snapshot {
    let mut file = BytesMut::new();
    file.put_slice(b"ZKSN");
    file.put_i32(2);
    file.put_i64(-1);
    file.put_slice(image);
    let seal = adler2::adler32_slice(&file);
    file.put_i64(i64::from(seal));
    file.put_i32(1);
    file.put_slice(b"/");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("snapshot.{:x}", zxid.0));
    std::fs::write(&path, &file).unwrap();
    ferrozk::storage::read_snapshot(&path).expect("SNAP image reads as a snapshot")
}

/// Servers 1 and 2 of an ensemble whose server.3 is an observer (the
/// test plays it), with a leader elected; returns them and its index.
fn ensemble_with_leader() -> (Cluster, usize) {
    let mut members = Cluster::configure(ServerKind::Apache, 2, 1);
    members.restart(0);
    members.restart(1);
    let leader = members.wait_for_leader(STARTUP);
    (members, leader)
}

/// Creates `nodes` through a client session; returns it and the zxids.
fn write_nodes(addr: &str, nodes: &[(&str, &str)]) -> (Raw, Vec<Zxid>) {
    let mut client = Raw::session(addr);
    let zxids = (1..)
        .zip(nodes)
        .map(|(xid, (path, data))| {
            let h = client.create(xid, path, data.as_bytes());
            assert_eq!(h.err, 0, "create {path}");
            Zxid(h.zxid)
        })
        .collect();
    (client, zxids)
}

/// Discovery as Learner.registerWithLeader does it for observer 3 with
/// nothing accepted yet: OBSERVERINFO, LEADERINFO, ACKEPOCH claiming
/// `last_zxid`. Returns the new epoch.
fn register_observer(link: &mut QuorumLink, last_zxid: Zxid) -> u32 {
    link.send(&Packet::LearnerInfo {
        kind: LearnerKind::Observer,
        accepted_epoch: 0,
        sid: 3,
        protocol_version: ferrozk::zab::types::PROTOCOL_VERSION,
        config_version: 0,
    });
    let new_epoch = match link.recv() {
        Packet::LeaderInfo {
            new_epoch,
            protocol_version,
        } => {
            assert_eq!(protocol_version, 0x10000);
            new_epoch
        }
        p => panic!("expected LEADERINFO, got {p:?}"),
    };
    assert!(new_epoch >= 1);
    link.send(&Packet::AckEpoch {
        last_zxid,
        current_epoch: Some(0),
    });
    new_epoch
}

/// The end of synchronization (Learner.syncWithLeader): NEWLEADER (queued
/// before the sender thread starts, so nothing comes between it and the
/// sync), ACK, UPTODATE, ACK.
fn finish_sync(link: &mut QuorumLink, new_epoch: u32) {
    let new_leader_zxid = Zxid::new(new_epoch, 0);
    match link.recv() {
        Packet::NewLeader { zxid, config } => {
            assert_eq!(zxid, new_leader_zxid);
            let text = String::from_utf8(config.to_vec()).unwrap();
            assert!(
                text.contains("server.3=") && text.contains(":observer"),
                "{text}"
            );
        }
        p => panic!("expected NEWLEADER, got {p:?}"),
    }
    link.send(&Packet::Ack {
        zxid: new_leader_zxid,
    });
    match link.recv_answering_pings() {
        Packet::UpToDate => {}
        p => panic!("expected UPTODATE, got {p:?}"),
    }
    link.send(&Packet::Ack {
        zxid: new_leader_zxid,
    });
}

/// Checks that `txn` is the logged create of `path` with `data` at `zxid`.
fn assert_create(txn: Bytes, zxid: Zxid, path: &str, data: &str) {
    let txn = ferrozk::storage::entry::unmarshal(txn).expect("a logged txn");
    assert_eq!(txn.hdr.zxid, zxid.0);
    match txn.body {
        TxnBody::Create(CreateTxn {
            path: p, data: d, ..
        }) => {
            assert_eq!(p, path);
            assert_eq!(d.as_deref(), Some(data.as_bytes()));
        }
        other => panic!("expected a create of {path}, got {other:?}"),
    }
}

/// An observer registers with a real leader, is synced by SNAP (claiming
/// an empty history: the leader's txn log starts after zxid 0, so it
/// cannot diff and falls back to a snapshot), completes the handshake,
/// receives a later write as an INFORM and answers PINGs.
#[test]
fn quorum_observer_snap_sync_then_inform() {
    let (members, leader) = ensemble_with_leader();
    let leader = &members.members[leader];
    let (mut client, _) = write_nodes(&leader.addr(), &[("/wire-a", "alpha"), ("/wire-b", "beta")]);

    let mut link = QuorumLink::connect(leader.quorum_port);
    let new_epoch = register_observer(&mut link, Zxid::ZERO);
    let (snap_zxid, image) = match link.recv() {
        Packet::Snap { zxid, image } => (zxid, image),
        p => panic!("expected SNAP, got {p:?}"),
    };
    assert_eq!(snap_zxid.epoch(), new_epoch);
    let snap = read_image(snap_zxid, &image);
    let node = |path: &str| {
        snap.nodes
            .iter()
            .find(|n| n.path == path)
            .unwrap_or_else(|| panic!("{path} not in the image"))
    };
    assert_eq!(node("/wire-a").data.as_deref(), Some(&b"alpha"[..]));
    assert_eq!(node("/wire-b").data.as_deref(), Some(&b"beta"[..]));
    assert!(snap.sessions.iter().any(|&(id, _)| id == client.session_id));
    finish_sync(&mut link, new_epoch);

    let written = Zxid(client.create(10, "/wire-after", b"later").zxid);
    match link.recv_answering_pings() {
        Packet::Inform { zxid, txn } => {
            assert_eq!(zxid, written);
            assert_create(txn, written, "/wire-after", "later");
        }
        p => panic!("expected INFORM, got {p:?}"),
    }

    // Three PINGs in a row, each answered: a rejected reply would have
    // closed the link before the next PING.
    for _ in 0..3 {
        link.answer_next_ping();
    }
    drop(members);
}

/// Claiming a zxid inside the leader's committed log gets a DIFF followed
/// by PROPOSAL+COMMIT for each later txn; claiming one beyond it (same
/// epoch) gets a TRUNC to the leader's last committed zxid.
#[test]
fn quorum_observer_diff_and_trunc_sync() {
    let (members, leader) = ensemble_with_leader();
    let leader = &members.members[leader];
    let (_client, zxids) = write_nodes(
        &leader.addr(),
        &[
            ("/wire-a", "alpha"),
            ("/wire-b", "beta"),
            ("/wire-c", "gamma"),
        ],
    );

    let mut link = QuorumLink::connect(leader.quorum_port);
    let new_epoch = register_observer(&mut link, zxids[0]);
    assert_eq!(link.recv(), Packet::Diff { zxid: zxids[2] });
    for (zxid, (path, data)) in zxids[1..]
        .iter()
        .zip([("/wire-b", "beta"), ("/wire-c", "gamma")])
    {
        match link.recv() {
            Packet::Proposal { zxid: z, txn } => {
                assert_eq!(z, *zxid);
                assert_create(txn, *zxid, path, data);
            }
            p => panic!("expected PROPOSAL {zxid:?}, got {p:?}"),
        }
        assert_eq!(link.recv(), Packet::Commit { zxid: *zxid });
    }
    finish_sync(&mut link, new_epoch);
    drop(link);

    let mut link = QuorumLink::connect(leader.quorum_port);
    let ahead = Zxid::new(zxids[2].epoch(), zxids[2].counter() + 10);
    let new_epoch = register_observer(&mut link, ahead);
    assert_eq!(link.recv(), Packet::Trunc { zxid: zxids[2] });
    finish_sync(&mut link, new_epoch);
    drop(members);
}
