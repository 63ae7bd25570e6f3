//! The quorum network: election-port connections between members
//! (ZooKeeper's `QuorumCnxManager`) and quorum-port links between a leader
//! and its learners. It only moves messages; every decision is Zab's, in
//! the core.
//!
//! Election port: one connection per pair of members, kept by the larger
//! id — a smaller id that connects sends its initiation message and hangs
//! up, and the larger one connects back (as ZooKeeper does, so ferrozk and
//! ZooKeeper members can pair up). A notification for a member without a
//! connection waits (only the newest, as ZooKeeper's one-slot send queue)
//! while a connection is attempted; FLE re-sends on its own timers.
//!
//! Quorum port: bound only while leading; each accepted or opened
//! connection is a [`LinkId`] whose packets go to the core in order.
//!
//! [`QuorumNet::shutdown`] (a graceful stop) closes both ports and every
//! connection, after writing what was queued for the election
//! connections (a departing leader's farewell vote): a departing member
//! can no longer be voted for, since nobody can reach it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::core::NetCmd;
use super::mailbox::CoreMsg;
use super::outbox::{outbox, OutboxTx};
use crate::zab::wire;
use crate::zab::{LinkId, Notification, Packet, Sid};

/// Bytes queued for one quorum link and not yet written before the link is
/// cut. A follower that stops reading would otherwise make the leader queue
/// every proposal (Apache ZooKeeper's LearnerHandler queue is unbounded; it
/// relies on syncLimit, which ferrozk enforces too, to drop the follower).
/// One packet larger than this (a SNAP image) still goes into an empty
/// queue.
const LINK_MAX_QUEUED_BYTES: usize = 256 * 1024 * 1024;

/// How long a connection attempt may take (`zookeeper.cnxTimeout`, 5 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a member listens.
#[derive(Debug, Clone)]
pub struct MemberAddrs {
    /// Quorum port (learners connect to the leader here).
    pub quorum: SocketAddr,
    /// Election port.
    pub election: SocketAddr,
    /// The election address as configured (`host:port`), sent in the
    /// initiation message.
    pub election_text: (String, u16),
}

pub use super::core::NetEvent;

enum Cmd {
    Notify {
        to: Sid,
        n: Notification,
    },
    Connect {
        to: Sid,
    },
    Send {
        link: LinkId,
        packet: Packet,
    },
    Close {
        link: LinkId,
    },
    Listen(bool),
    // Internal, from the network's own tasks.
    ElectionUp {
        sid: Sid,
        id: u64,
        tx: mpsc::UnboundedSender<Bytes>,
        writer: tokio::task::JoinHandle<()>,
    },
    ElectionDown {
        sid: Sid,
        id: u64,
    },
    ElectionDialDone {
        sid: Sid,
    },
    ElectionIncoming {
        stream: TcpStream,
    },
    Redial {
        sid: Sid,
    },
    LinkUp {
        link: LinkId,
        tx: OutboxTx<Option<Packet>>,
    },
    LinkDown {
        link: LinkId,
    },
    Shutdown(oneshot::Sender<()>),
}

/// The core's handle on the network.
#[derive(Clone)]
pub struct QuorumNet {
    cmd: mpsc::UnboundedSender<Cmd>,
}

impl QuorumNet {
    /// Sends an election notification.
    pub fn notify(&self, to: Sid, n: Notification) {
        let _ = self.cmd.send(Cmd::Notify { to, n });
    }

    /// Opens a quorum link to `to` (answered with Connected/ConnectFailed).
    pub fn connect(&self, to: Sid) {
        let _ = self.cmd.send(Cmd::Connect { to });
    }

    /// Sends a packet on a link.
    pub fn send(&self, link: LinkId, packet: Packet) {
        let _ = self.cmd.send(Cmd::Send { link, packet });
    }

    /// Closes a link.
    pub fn close(&self, link: LinkId) {
        let _ = self.cmd.send(Cmd::Close { link });
    }

    /// Binds (or unbinds) the quorum port.
    pub fn listen(&self, on: bool) {
        let _ = self.cmd.send(Cmd::Listen(on));
    }

    /// Stops the network: no more commands are carried out, the quorum and
    /// election ports close, every link closes, and each election
    /// connection is closed once what was queued for it is written. The
    /// answer comes when those writes are done (or after a few hundred
    /// milliseconds: a peer that does not read cannot hold the exit).
    pub fn shutdown(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = self.cmd.send(Cmd::Shutdown(tx));
        rx
    }

    /// Performs one of the core's network commands.
    pub fn perform(&self, c: NetCmd) {
        match c {
            NetCmd::Notify { to, n } => self.notify(to, n),
            NetCmd::Connect { to } => self.connect(to),
            NetCmd::Send { link, packet } => self.send(link, packet),
            NetCmd::Close { link } => self.close(link),
            NetCmd::Listen(on) => self.listen(on),
        }
    }
}

struct Net {
    me: Sid,
    members: BTreeMap<Sid, MemberAddrs>,
    core: mpsc::Sender<CoreMsg>,
    cmd_tx: mpsc::UnboundedSender<Cmd>,
    election: HashMap<
        Sid,
        (
            u64,
            mpsc::UnboundedSender<Bytes>,
            tokio::task::JoinHandle<()>,
        ),
    >,
    waiting: HashMap<Sid, Bytes>,
    dialing: HashSet<Sid>,
    links: HashMap<LinkId, OutboxTx<Option<Packet>>>,
    acceptor: Option<tokio::task::JoinHandle<()>>,
    /// The election port's accept loop.
    election_acceptor: Option<tokio::task::JoinHandle<()>>,
    ids: Arc<AtomicU64>,
    /// After [`QuorumNet::shutdown`]: everything is ignored.
    stopped: bool,
}

/// How long [`QuorumNet::shutdown`] waits for queued election frames.
const SHUTDOWN_FLUSH: Duration = Duration::from_millis(500);

/// Starts the network on an already bound election listener (binding is
/// the caller's, so a port in use fails start-up with a clear error).
pub fn start(
    me: Sid,
    members: BTreeMap<Sid, MemberAddrs>,
    election_listener: TcpListener,
    core: mpsc::Sender<CoreMsg>,
) -> QuorumNet {
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let mut net = Net {
        me,
        members,
        core,
        cmd_tx: cmd_tx.clone(),
        election: HashMap::new(),
        waiting: HashMap::new(),
        dialing: HashSet::new(),
        links: HashMap::new(),
        acceptor: None,
        election_acceptor: None,
        ids: Arc::new(AtomicU64::new(1)),
        stopped: false,
    };
    let accept_tx = cmd_tx.clone();
    net.election_acceptor = Some(tokio::spawn(async move {
        loop {
            match election_listener.accept().await {
                Ok((stream, _)) => {
                    if accept_tx.send(Cmd::ElectionIncoming { stream }).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!("election port accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }));
    tokio::spawn(async move {
        while let Some(c) = cmd_rx.recv().await {
            net.handle(c);
        }
    });
    QuorumNet { cmd: cmd_tx }
}

impl Net {
    fn handle(&mut self, c: Cmd) {
        if self.stopped {
            // Incoming streams drop here; late commands do nothing.
            return;
        }
        match c {
            Cmd::Shutdown(done) => self.shutdown(done),
            Cmd::Notify { to, n } => {
                let mut b = BytesMut::new();
                wire::encode_notification(&n, &mut b);
                let bytes = b.freeze();
                if let Some((_, tx, _)) = self.election.get(&to) {
                    if tx.send(bytes.clone()).is_ok() {
                        return;
                    }
                }
                self.waiting.insert(to, bytes);
                self.dial(to);
            }
            Cmd::ElectionUp {
                sid,
                id,
                tx,
                writer,
            } => {
                if let Some(bytes) = self.waiting.remove(&sid) {
                    let _ = tx.send(bytes);
                }
                // A newer connection replaces the old one (its writer ends).
                self.election.insert(sid, (id, tx, writer));
            }
            Cmd::ElectionDown { sid, id } => {
                if self.election.get(&sid).is_some_and(|(i, _, _)| *i == id) {
                    self.election.remove(&sid);
                }
            }
            Cmd::ElectionDialDone { sid } => {
                self.dialing.remove(&sid);
            }
            Cmd::ElectionIncoming { stream } => self.incoming(stream),
            Cmd::Redial { sid } => self.dial(sid),
            Cmd::Connect { to } => self.connect_link(to),
            Cmd::Send { link, packet } => {
                if let Some(tx) = self.links.get(&link) {
                    let size = wire_size(&packet);
                    if let Err(e) = tx.push(Some(packet), size) {
                        // The peer does not keep up: cut it off (the
                        // reader's end reports the link closed; a follower
                        // resynchronises when it comes back).
                        tracing::warn!("quorum link {link:?}: {e}; closing it");
                        tx.abort();
                        self.links.remove(&link);
                    }
                }
            }
            Cmd::Close { link } => {
                if let Some(tx) = self.links.remove(&link) {
                    tx.push_uncounted(None);
                }
            }
            Cmd::LinkUp { link, tx } => {
                self.links.insert(link, tx);
            }
            Cmd::LinkDown { link } => {
                self.links.remove(&link);
            }
            Cmd::Listen(on) => self.listen(on),
        }
    }

    /// See [`QuorumNet::shutdown`].
    fn shutdown(&mut self, done: oneshot::Sender<()>) {
        self.stopped = true;
        for task in [self.acceptor.take(), self.election_acceptor.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        for (_, tx) in self.links.drain() {
            tx.push_uncounted(None);
        }
        self.waiting.clear();
        // Dropping the senders ends each writer once its queue is written;
        // it then shuts its half of the connection down.
        let writers: Vec<_> = self.election.drain().map(|(_, (_, _, w))| w).collect();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(SHUTDOWN_FLUSH, async {
                for w in writers {
                    let _ = w.await;
                }
            })
            .await;
            let _ = done.send(());
        });
    }

    /// Opens an election connection to `sid` unless one is being opened.
    fn dial(&mut self, sid: Sid) {
        if self.dialing.contains(&sid) || sid == self.me {
            return;
        }
        let Some(addr) = self.members.get(&sid).map(|m| m.election) else {
            return;
        };
        let (host, port) = self.members[&self.me].election_text.clone();
        self.dialing.insert(sid);
        let (me, cmd, core, ids) = (
            self.me,
            self.cmd_tx.clone(),
            self.core.clone(),
            self.ids.clone(),
        );
        tokio::spawn(async move {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await;
            if let Ok(Ok(mut stream)) = stream {
                let _ = stream.set_nodelay(true);
                let mut b = BytesMut::new();
                wire::Initiation::v1(me, wire::PeerAddress { host, port }).encode(&mut b);
                if stream.write_all(&b).await.is_ok() {
                    if sid > me {
                        // The larger id keeps the connection: it will call back.
                        let _ = stream.shutdown().await;
                    } else {
                        let id = ids.fetch_add(1, Ordering::Relaxed);
                        run_election_conn(sid, stream, BytesMut::new(), id, cmd.clone(), core);
                    }
                }
            }
            let _ = cmd.send(Cmd::ElectionDialDone { sid });
        });
    }

    /// An election-port connection from another member.
    fn incoming(&mut self, stream: TcpStream) {
        let (me, cmd, core, ids) = (
            self.me,
            self.cmd_tx.clone(),
            self.core.clone(),
            self.ids.clone(),
        );
        let known: HashSet<Sid> = self.members.keys().copied().collect();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut framed = FramedRead::new(stream, wire::InitiationCodec);
            let first = tokio::time::timeout(CONNECT_TIMEOUT, framed.next()).await;
            let Ok(Some(Ok(init))) = first else { return };
            let sid = init.sid;
            if !known.contains(&sid) || sid == me {
                tracing::warn!("election connection from server {sid}, not a member; closed");
                return;
            }
            let parts = framed.into_parts();
            if sid < me {
                // We keep connections to smaller ids: hang up, call back.
                drop(parts.io);
                let _ = cmd.send(Cmd::Redial { sid });
                return;
            }
            let id = ids.fetch_add(1, Ordering::Relaxed);
            run_election_conn(sid, parts.io, parts.read_buf, id, cmd, core);
        });
    }

    fn connect_link(&mut self, to: Sid) {
        let Some(addr) = self.members.get(&to).map(|m| m.quorum) else {
            return;
        };
        let (cmd, core, ids) = (self.cmd_tx.clone(), self.core.clone(), self.ids.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    let link = LinkId(ids.fetch_add(1, Ordering::Relaxed));
                    run_link(link, stream, cmd, core, Some(to)).await;
                }
                _ => {
                    let _ = core
                        .send(CoreMsg::Quorum(NetEvent::ConnectFailed { to }))
                        .await;
                }
            }
        });
    }

    fn listen(&mut self, on: bool) {
        if !on {
            if let Some(a) = self.acceptor.take() {
                a.abort();
            }
            return;
        }
        if self.acceptor.is_some() {
            return;
        }
        let addr = self.members[&self.me].quorum;
        let (cmd, core, ids) = (self.cmd_tx.clone(), self.core.clone(), self.ids.clone());
        self.acceptor = Some(tokio::spawn(async move {
            let listener = match TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!("quorum port {addr}: cannot listen: {e}");
                    return;
                }
            };
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    let link = LinkId(ids.fetch_add(1, Ordering::Relaxed));
                    let (cmd, core) = (cmd.clone(), core.clone());
                    tokio::spawn(async move { run_link(link, stream, cmd, core, None).await });
                }
            }
        }));
    }
}

/// Runs one kept election connection: frames out from the queue, frames in
/// decoded and handed to the core.
fn run_election_conn(
    sid: Sid,
    stream: TcpStream,
    leftover: BytesMut,
    id: u64,
    cmd: mpsc::UnboundedSender<Cmd>,
    core: mpsc::Sender<CoreMsg>,
) {
    let (rd, wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let writer = tokio::spawn(async move {
        let mut w = FramedWrite::new(wr, wire::ElectionFrameCodec);
        while let Some(b) = rx.recv().await {
            if w.send(b).await.is_err() {
                break;
            }
        }
        let _ = w.into_inner().shutdown().await;
    });
    let _ = cmd.send(Cmd::ElectionUp {
        sid,
        id,
        tx,
        writer,
    });
    tokio::spawn(async move {
        let mut r = FramedRead::new(rd, wire::ElectionFrameCodec);
        r.read_buffer_mut().extend_from_slice(&leftover);
        while let Some(Ok(frame)) = r.next().await {
            match wire::decode_notification(&frame) {
                Ok(n) => {
                    if core
                        .send(CoreMsg::Quorum(NetEvent::Note { from: sid, n }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => tracing::warn!("malformed notification from server {sid}: {e}"),
            }
        }
        let _ = cmd.send(Cmd::ElectionDown { sid, id });
    });
}

/// Runs one quorum link until either side closes it.
async fn run_link(
    link: LinkId,
    stream: TcpStream,
    cmd: mpsc::UnboundedSender<Cmd>,
    core: mpsc::Sender<CoreMsg>,
    to: Option<Sid>,
) {
    let peer = stream.peer_addr().ok();
    let (rd, wr) = stream.into_split();
    let (tx, mut rx) = outbox::<Option<Packet>>(LINK_MAX_QUEUED_BYTES);
    let _ = cmd.send(Cmd::LinkUp { link, tx });
    let opened = match to {
        Some(to) => NetEvent::Connected { to, link },
        None => NetEvent::Accepted { link, peer },
    };
    if core.send(CoreMsg::Quorum(opened)).await.is_err() {
        return;
    }
    let role = if to.is_some() {
        wire::Role::Learner
    } else {
        wire::Role::Leader
    };
    let writer = tokio::spawn(async move {
        let mut w = FramedWrite::new(wr, wire::QuorumCodec::new(role));
        while let Some((Some(p), len)) = rx.recv().await {
            tokio::select! {
                r = w.send(p) => if let Err(e) = r {
                    tracing::debug!("quorum link {link:?}: write failed: {e}");
                    break;
                },
                _ = rx.aborted() => break,
            }
            rx.written(len);
        }
        let _ = w.into_inner().shutdown().await;
    });
    let mut r = FramedRead::new(rd, wire::QuorumCodec::new(role));
    loop {
        match r.next().await {
            Some(Ok(Err(e))) => tracing::warn!("quorum link {link:?}: skipped a packet: {e}"),
            Some(Ok(Ok(packet))) => {
                if let Err(e) = check_txn(&packet) {
                    // The leader's history cannot be followed past this
                    // entry: drop the link; the follower looks for a leader
                    // again and resynchronises.
                    tracing::warn!("quorum link {link:?}: {e}; closing it");
                    break;
                }
                if core
                    .send(CoreMsg::Quorum(NetEvent::Packet { link, packet }))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Some(Err(e)) => {
                tracing::warn!("quorum link {link:?}: {e}; closing it");
                break;
            }
            None => break,
        }
    }
    writer.abort();
    let _ = cmd.send(Cmd::LinkDown { link });
    let _ = core.send(CoreMsg::Quorum(NetEvent::Closed { link })).await;
}

/// Roughly the bytes a packet takes on the wire (its payloads plus the
/// record's fixed fields), for the link's queue bound.
fn wire_size(p: &Packet) -> usize {
    const FIXED: usize = 32;
    FIXED
        + match p {
            Packet::Snap { image, .. } => image.len(),
            Packet::NewLeader { config, .. } => config.len(),
            Packet::Proposal { txn, .. } | Packet::Inform { txn, .. } => txn.len(),
            Packet::Request { data, authinfo } => {
                data.len()
                    + authinfo
                        .iter()
                        .map(|a| 8 + a.scheme.len() + a.id.len())
                        .sum::<usize>()
            }
            Packet::Ping { data, .. } | Packet::Revalidate { data } => data.len(),
            _ => 0,
        }
}

/// A PROPOSAL or INFORM whose transaction cannot be applied (undecodable,
/// or with a path no prep could have written) is refused here, on the
/// link's own task, before the core logs or applies it.
fn check_txn(packet: &Packet) -> Result<(), String> {
    match packet {
        Packet::Proposal { zxid, txn } | Packet::Inform { zxid, txn } => {
            crate::storage::entry::unmarshal(txn.clone())
                .map(drop)
                .map_err(|e| format!("transaction {zxid} from the leader is invalid: {e}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::records::txn::{CreateTxn, TxnHeader};
    use crate::tree::txn::{Txn, TxnBody};
    use crate::zab::Zxid;

    fn txn_bytes(path: &str) -> Bytes {
        let txn = Txn {
            hdr: TxnHeader {
                client_id: 1,
                cxid: 1,
                zxid: 0x1_0000_0001,
                time: 0,
                r#type: crate::proto::OpCode::Create.code(),
            },
            body: TxnBody::Create(CreateTxn {
                path: path.into(),
                data: None,
                acl: crate::tree::acl::open_acl_unsafe(),
                ephemeral: false,
                parent_c_version: -1,
            }),
            digest: None,
        };
        let mut out = bytes::BytesMut::new();
        crate::storage::entry::marshal(&txn, &mut out);
        out.freeze()
    }

    #[test]
    fn proposals_and_informs_with_invalid_transactions_are_refused() {
        let zxid = Zxid(0x1_0000_0001);
        for txn in [
            txn_bytes("abc"),
            txn_bytes("/"),
            Bytes::from_static(b"\0\0"),
        ] {
            let p = Packet::Proposal {
                zxid,
                txn: txn.clone(),
            };
            assert!(check_txn(&p).is_err(), "{p:?}");
            let i = Packet::Inform { zxid, txn };
            assert!(check_txn(&i).is_err(), "{i:?}");
        }
        let good = Packet::Proposal {
            zxid,
            txn: txn_bytes("/a"),
        };
        assert_eq!(check_txn(&good), Ok(()));
        assert_eq!(check_txn(&Packet::Commit { zxid }), Ok(()));
    }
}
