//! The simulated world: whole servers (the production [`Core`] with its Zab
//! peer) on simulated disks, a network of election datagrams and FIFO
//! quorum links, clients, a virtual clock and an event queue. The world
//! performs the cores' [`Effect`]s as `server::driver` does, against
//! simulated devices.
//!
//! Everything random comes from one seeded generator, and events at the
//! same instant run in insertion order, so a seed replays exactly.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;

use super::checks::Checker;
use super::clients::{decode, Client, ClientState, Incoming};
use super::disk::{Disk, SharedDisk, SimSnapshots};
use crate::rng::SplitMix64 as Rng;
use crate::server::core::{
    ConnId, Core, Durability, Effect, FrameKind, Input, LogItem, LogReport, NetCmd, NetEvent, Now,
    Replica,
};
use crate::server::ServerOptions;
use crate::storage::EpochFile;
use crate::zab::election::ElectionTiming;
use crate::zab::{
    Config, Ensemble, Entry, LinkId, Member, Notification, Packet, Peer, ServerState, Sid,
};

/// One server: a process (while alive) and its disk.
pub struct Server {
    pub core: Option<Core>,
    pub disk: SharedDisk,
    fsync_pending: bool,
    /// Incarnation, so events for a dead process are dropped.
    pub life: u64,
}

#[derive(Debug)]
enum Event {
    Tick(Sid, u64),
    Note {
        to: Sid,
        from: Sid,
        n: Notification,
    },
    Connected {
        from: Sid,
        to: Sid,
        link: LinkId,
        life: u64,
    },
    ConnectFailed {
        from: Sid,
        to: Sid,
        life: u64,
    },
    Packet {
        to: Sid,
        link: LinkId,
        packet: Packet,
    },
    LinkClosed {
        to: Sid,
        link: LinkId,
        life: u64,
    },
    Fsync(Sid, u64),
    /// A client acts: connects, or sends its next write.
    Client(usize),
    /// A frame reaches a client.
    ToClient {
        conn: ConnId,
        frame: Bytes,
        kind: FrameKind,
    },
    /// A server closed (or lost) a client connection.
    ClientConnClosed {
        conn: ConnId,
    },
}

struct Link {
    a: Sid,
    b: Sid,
    alive: bool,
    /// Last scheduled delivery time per direction, for FIFO.
    last_at: [u64; 2],
}

/// A client connection: which server, which client, FIFO delivery.
struct ClientConn {
    server: Sid,
    client: usize,
    last_at: u64,
    open: bool,
}

/// Knobs for one run.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Probability an election datagram is lost.
    pub note_loss: f64,
    /// Max one-way delay (ms).
    pub max_delay: u64,
    /// Whether a crash may lose unsynced writes (power failure).
    pub disk_loss: bool,
    /// Whether fsyncs sometimes take tens of milliseconds.
    pub slow_disk: bool,
}

pub struct World {
    pub now: u64,
    pub rng: Rng,
    pub servers: BTreeMap<Sid, Server>,
    pub clients: Vec<Client>,
    cfg_template: Config,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    seq: u64,
    links: BTreeMap<LinkId, Link>,
    next_link: u64,
    conns: BTreeMap<ConnId, ClientConn>,
    next_conn: ConnId,
    /// Pairs that cannot talk.
    pub cut: BTreeSet<(Sid, Sid)>,
    pub faults: Faults,
    pub check: Checker,
    pub client_enabled: bool,
    pub trace: Vec<String>,
    pub tracing: bool,
}

pub const TICK_STEP: u64 = 10;

fn now_at(ms: u64) -> Now {
    Now {
        mono_ms: ms,
        mono_us: ms * 1000,
        wall_ms: 1_700_000_000_000 + ms as i64,
    }
}

impl World {
    pub fn new(seed: u64, voters: u64, observers: u64, clients: usize, faults: Faults) -> World {
        let members: Vec<(Sid, Member)> = (1..=voters)
            .map(|s| (s, Member::Participant))
            .chain((voters + 1..=voters + observers).map(|s| (s, Member::Observer)))
            .collect();
        let cfg = Config {
            me: 0,
            ensemble: Ensemble::new(members.clone()),
            tick_ms: 100,
            init_limit: 10,
            sync_limit: 5,
            election: ElectionTiming {
                finalize_wait: 50,
                min_interval: 50,
                max_interval: 800,
            },
            commit_log_count: 16,
            config_text: Bytes::from_static(b"sim"),
        };
        let mut w = World {
            now: 0,
            rng: Rng::new(seed),
            servers: BTreeMap::new(),
            clients: (0..clients).map(Client::new).collect(),
            cfg_template: cfg,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            seq: 0,
            links: BTreeMap::new(),
            next_link: 1,
            conns: BTreeMap::new(),
            next_conn: 1,
            cut: BTreeSet::new(),
            faults,
            check: Checker::default(),
            client_enabled: true,
            trace: Vec::new(),
            tracing: false,
        };
        for (sid, _) in members {
            w.servers.insert(
                sid,
                Server {
                    core: None,
                    disk: Arc::new(Mutex::new(Disk::default())),
                    fsync_pending: false,
                    life: 0,
                },
            );
            w.start(sid);
        }
        for c in 0..clients {
            w.schedule(c as u64, Event::Client(c));
        }
        w
    }

    fn log(&mut self, s: impl FnOnce() -> String) {
        if self.tracing {
            let line = format!("{:>6} {}", self.now, s());
            self.trace.push(line);
        }
    }

    fn schedule(&mut self, at: u64, e: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.events.insert(self.seq, e);
    }

    pub fn alive(&self, sid: Sid) -> bool {
        self.servers[&sid].core.is_some()
    }

    fn reachable(&self, a: Sid, b: Sid) -> bool {
        a == b || !(self.cut.contains(&(a, b)) || self.cut.contains(&(b, a)))
    }

    fn delay(&mut self) -> u64 {
        1 + self.rng.below(self.faults.max_delay)
    }

    fn options(sid: Sid) -> ServerOptions {
        ServerOptions {
            server_id: sid,
            tick_ms: 100,
            min_session_timeout_ms: 200,
            max_session_timeout_ms: 4000,
            ..ServerOptions::default()
        }
    }

    /// Boots (or reboots) a server from its disk.
    pub fn start(&mut self, sid: Sid) {
        let now = self.now;
        let cfg = Config {
            me: sid,
            ..self.cfg_template.clone()
        };
        let keep = cfg.commit_log_count;
        let server = self.servers.get_mut(&sid).expect("server");
        server.life += 1;
        let life = server.life;
        let disk = server.disk.clone();
        let db = match disk.lock().recover(false) {
            Ok(db) => db,
            Err(e) => {
                self.check
                    .fail(format!("server {sid}: its disk does not recover: {e}"));
                return;
            }
        };
        let durable = {
            let d = disk.lock();
            d.durable_state(db.tree.last_zxid, d.snapshot_zxid(), keep)
        };
        let core = Core::with_database(Self::options(sid), Durability::Log, now_at(now), db)
            .with_snapshots(Box::new(SimSnapshots(disk)))
            .with_replica(Replica::new(Peer::new(cfg, durable, now)));
        self.servers.get_mut(&sid).expect("server").core = Some(core);
        self.log(|| format!("start {sid}"));
        self.schedule(now + TICK_STEP, Event::Tick(sid, life));
        self.perform(sid);
    }

    /// kill -9 (or power failure when the faults allow disk loss).
    pub fn crash(&mut self, sid: Sid) {
        let power = self.faults.disk_loss && self.rng.chance(0.5);
        let server = self.servers.get_mut(&sid).expect("server");
        if server.core.take().is_none() {
            return;
        }
        server.fsync_pending = false;
        let disk = server.disk.clone();
        let mut d = disk.lock();
        if power {
            // A prefix of the unsynced writes may have reached the platter.
            let keep = self.rng.below(d.unsynced.len() as u64 + 1) as usize;
            let acked: BTreeSet<i64> = self.check.acked.values().copied().collect();
            let lost = d.unsynced[keep..]
                .iter()
                .filter(|e| acked.contains(&e.zxid.0))
                .count();
            self.check.acked_copies_lost += lost as u64;
            d.unsynced.truncate(keep);
        }
        let unsynced = std::mem::take(&mut d.unsynced);
        d.log.extend(unsynced);
        drop(d);
        self.log(|| format!("crash {sid} power={power}"));
        let dead: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.alive && (l.a == sid || l.b == sid))
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.break_link(id);
        }
        let conns: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.server == sid && c.open)
            .map(|(id, _)| *id)
            .collect();
        for conn in conns {
            self.close_client_conn(conn);
        }
    }

    /// Cuts a link: both ends hear of it after a delay; undelivered packets
    /// are lost.
    pub fn break_link(&mut self, id: LinkId) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        if !l.alive {
            return;
        }
        l.alive = false;
        let (a, b) = (l.a, l.b);
        for end in [a, b] {
            let life = self.servers[&end].life;
            let d = self.delay();
            self.schedule(
                self.now + d,
                Event::LinkClosed {
                    to: end,
                    link: id,
                    life,
                },
            );
        }
    }

    pub fn live_links(&self) -> Vec<LinkId> {
        self.links
            .iter()
            .filter(|(_, l)| l.alive)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Separates `group` from everyone else (clients reach every server).
    pub fn partition(&mut self, group: &[Sid]) {
        let all: Vec<Sid> = self.servers.keys().copied().collect();
        for a in group {
            for b in &all {
                if !group.contains(b) {
                    self.cut.insert((*a, *b));
                }
            }
        }
        let cut: Vec<LinkId> = self
            .links
            .iter()
            .filter(|(_, l)| l.alive && !self.reachable(l.a, l.b))
            .map(|(id, _)| *id)
            .collect();
        for id in cut {
            self.break_link(id);
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Runs events until `until`.
    pub fn run_until(&mut self, until: u64) {
        while let Some(Reverse((at, seq))) = self.queue.peek().copied() {
            if at > until {
                break;
            }
            self.queue.pop();
            self.now = at;
            let e = self.events.remove(&seq).expect("event");
            self.handle(e);
            if let Some(err) = &self.check.failure {
                panic!("invariant violated at {}: {err}", self.now);
            }
        }
        self.now = until;
    }

    /// Feeds an input to a live server and performs its effects.
    fn feed(&mut self, sid: Sid, input: Input) {
        let now = now_at(self.now);
        let Some(core) = self.servers.get_mut(&sid).and_then(|s| s.core.as_mut()) else {
            return;
        };
        core.handle(now, input);
        self.perform(sid);
    }

    /// Performs a server's effects in order, as the driver does; then
    /// checks what a serving leader must hold.
    fn perform(&mut self, sid: Sid) {
        loop {
            let Some(core) = self.servers.get_mut(&sid).and_then(|s| s.core.as_mut()) else {
                return;
            };
            let effects = core.take_effects();
            if effects.is_empty() {
                break;
            }
            for e in effects {
                self.effect(sid, e);
            }
        }
        let Some(core) = self.servers[&sid].core.as_ref() else {
            return;
        };
        if let Some(r) = &core.replica {
            if r.peer.state() == ServerState::Leading && r.peer.is_serving() {
                let epoch = r.peer.current_epoch();
                let tree = core.tree();
                let mut check = std::mem::take(&mut self.check);
                check.leading(sid, epoch, tree);
                self.check = check;
            }
        }
    }

    fn effect(&mut self, sid: Sid, e: Effect) {
        let now = self.now;
        match e {
            Effect::Frame { conn, frame, kind } => self.deliver_to_client(conn, frame, kind),
            Effect::Close { conn } => self.close_client_conn(conn),
            Effect::Persist(item) => {
                let entry = match item {
                    LogItem::Marshalled { zxid, bytes } => Entry {
                        zxid: crate::zab::Zxid(zxid),
                        txn: bytes,
                    },
                    LogItem::Txn(t) => Entry {
                        zxid: crate::zab::Zxid(t.hdr.zxid),
                        txn: crate::storage::entry::marshalled(&t),
                    },
                };
                let server = self.servers.get_mut(&sid).expect("server");
                server.disk.lock().unsynced.push(entry);
                if !server.fsync_pending {
                    server.fsync_pending = true;
                    let life = server.life;
                    let d = if self.faults.slow_disk && self.rng.chance(0.3) {
                        20 + self.rng.below(80)
                    } else {
                        1 + self.rng.below(8)
                    };
                    self.schedule(now + d, Event::Fsync(sid, life));
                }
            }
            Effect::Net(cmd) => self.net(sid, *cmd),
            Effect::WriteEpoch { file, epoch } => {
                let server = self.servers.get_mut(&sid).expect("server");
                let mut d = server.disk.lock();
                match file {
                    EpochFile::Accepted => d.accepted = epoch,
                    EpochFile::Current => d.current = epoch,
                }
            }
            Effect::Reload { truncate, durable } => {
                self.log(|| format!("{sid} reload truncate={truncate:?} durable={durable}"));
                let server = self.servers.get_mut(&sid).expect("server");
                // The driver stops the log first: what is written is synced.
                server.fsync_pending = false;
                let disk = server.disk.clone();
                let mut d = disk.lock();
                let unsynced = std::mem::take(&mut d.unsynced);
                d.log.extend(unsynced);
                if let Some(z) = truncate {
                    self.check.truncs += 1;
                    self.check.snapshots_dropped += d.truncate(z.0) as u64;
                }
                let db = d.recover(false).map(|mut db| {
                    if durable {
                        let keep = self.cfg_template.commit_log_count;
                        // As the server: a reload starts Zab with no
                        // recent entries (durable_state(last, last)).
                        let last = db.tree.last_zxid;
                        db.durable = Some(d.durable_state(last, last, keep));
                    }
                    db
                });
                drop(d);
                if let (Some(z), Ok(db)) = (truncate, &db) {
                    if db.tree.last_zxid != z.0 {
                        self.check.fail(format!(
                            "server {sid}: TRUNC to {z} leaves the tree at {:#x}",
                            db.tree.last_zxid
                        ));
                    }
                }
                let core = self.servers.get_mut(&sid).and_then(|s| s.core.as_mut());
                if let Some(core) = core {
                    core.handle(now_at(now), Input::Reloaded(Box::new(db)));
                }
            }
            Effect::Stop(e) => {
                self.check.fail(format!("server {sid} stopped: {e}"));
            }
        }
    }

    fn net(&mut self, sid: Sid, cmd: NetCmd) {
        let now = self.now;
        match cmd {
            NetCmd::Notify { to, n } => {
                if self.rng.chance(self.faults.note_loss) {
                    return;
                }
                let d = self.delay();
                self.schedule(now + d, Event::Note { to, from: sid, n });
            }
            NetCmd::Connect { to } => {
                let life = self.servers[&sid].life;
                let d = self.delay();
                if self.alive(to) && self.reachable(sid, to) {
                    let link = LinkId(self.next_link);
                    self.next_link += 1;
                    self.links.insert(
                        link,
                        Link {
                            a: sid,
                            b: to,
                            alive: true,
                            last_at: [0, 0],
                        },
                    );
                    let ev = Event::Connected {
                        from: sid,
                        to,
                        link,
                        life,
                    };
                    self.schedule(now + d, ev);
                } else {
                    let ev = Event::ConnectFailed {
                        from: sid,
                        to,
                        life,
                    };
                    self.schedule(now + d, ev);
                }
            }
            NetCmd::Send { link, packet } => {
                if let Packet::Snap { zxid, .. } = &packet {
                    self.check.snaps += 1;
                    let z = *zxid;
                    self.log(|| format!("{sid} SNAP at {z} on {link:?}"));
                }
                self.send(sid, link, packet)
            }
            NetCmd::Close { link } => self.break_link(link),
            NetCmd::Listen(_) => {}
        }
    }

    fn send(&mut self, from: Sid, link: LinkId, packet: Packet) {
        let d = self.delay();
        let now = self.now;
        let Some(l) = self.links.get_mut(&link) else {
            return;
        };
        if !l.alive {
            return;
        }
        let (to, dir) = if l.a == from { (l.b, 0) } else { (l.a, 1) };
        let at = (now + d).max(l.last_at[dir]);
        l.last_at[dir] = at;
        self.schedule(at, Event::Packet { to, link, packet });
    }

    fn deliver_to_client(&mut self, conn: ConnId, frame: Bytes, kind: FrameKind) {
        let d = self.delay();
        let now = self.now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.open {
            return;
        }
        let at = (now + d).max(c.last_at);
        c.last_at = at;
        self.schedule(at, Event::ToClient { conn, frame, kind });
    }

    /// The server end of a client connection closes: the client hears of
    /// it after the frames already on their way.
    fn close_client_conn(&mut self, conn: ConnId) {
        let d = self.delay();
        let now = self.now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.open {
            return;
        }
        c.open = false;
        let at = (now + d).max(c.last_at);
        c.last_at = at;
        self.schedule(at, Event::ClientConnClosed { conn });
    }

    fn handle(&mut self, e: Event) {
        let now = self.now;
        match e {
            Event::Tick(sid, life) => {
                if self.servers[&sid].life != life || !self.alive(sid) {
                    return;
                }
                self.feed(sid, Input::Tick);
                self.schedule(now + TICK_STEP, Event::Tick(sid, life));
            }
            Event::Note { to, from, n } => {
                if self.alive(to) && self.reachable(from, to) {
                    self.feed(to, Input::Quorum(NetEvent::Note { from, n }));
                }
            }
            Event::Connected {
                from,
                to,
                link,
                life,
            } => {
                let leading = self.servers[&to]
                    .core
                    .as_ref()
                    .and_then(|c| c.replica.as_ref())
                    .is_some_and(|r| r.peer.state() == ServerState::Leading);
                let ok = self.servers[&from].life == life
                    && self.alive(from)
                    && leading
                    && self.links.get(&link).is_some_and(|l| l.alive)
                    && self.reachable(from, to);
                if !ok {
                    self.break_link(link);
                    if self.alive(from) && self.servers[&from].life == life {
                        self.feed(from, Input::Quorum(NetEvent::ConnectFailed { to }));
                    }
                    return;
                }
                self.feed(to, Input::Quorum(NetEvent::Accepted { link, peer: None }));
                self.feed(from, Input::Quorum(NetEvent::Connected { to, link }));
            }
            Event::ConnectFailed { from, to, life } => {
                if self.servers[&from].life == life && self.alive(from) {
                    self.feed(from, Input::Quorum(NetEvent::ConnectFailed { to }));
                }
            }
            Event::Packet { to, link, packet } => {
                if self.links.get(&link).is_some_and(|l| l.alive) && self.alive(to) {
                    self.log(|| {
                        format!("{to} <- {link:?} {packet:?}")
                            .chars()
                            .take(160)
                            .collect()
                    });
                    self.feed(to, Input::Quorum(NetEvent::Packet { link, packet }));
                }
            }
            Event::LinkClosed { to, link, life } => {
                if self.servers[&to].life == life && self.alive(to) {
                    self.feed(to, Input::Quorum(NetEvent::Closed { link }));
                }
            }
            Event::Fsync(sid, life) => {
                let server = self.servers.get_mut(&sid).expect("server");
                if server.life != life || server.core.is_none() {
                    return;
                }
                server.fsync_pending = false;
                let mut d = server.disk.lock();
                let synced = std::mem::take(&mut d.unsynced);
                let Some(last) = synced.last().map(|e| e.zxid) else {
                    return;
                };
                d.log.extend(synced);
                drop(d);
                self.feed(sid, Input::Log(LogReport::Durable(last.0)));
            }
            Event::Client(i) => {
                if self.client_enabled {
                    self.client_acts(i);
                }
                let d = 5 + self.rng.below(40);
                self.schedule(now + d, Event::Client(i));
            }
            Event::ToClient { conn, frame, kind } => self.client_receives(conn, frame, kind),
            Event::ClientConnClosed { conn } => {
                let Some(c) = self.conns.remove(&conn) else {
                    return;
                };
                let client = &mut self.clients[c.client];
                if client_conn(&client.state) == Some(conn) {
                    client.outstanding = None;
                    let wait = 10 + self.rng.below(100);
                    self.clients[c.client].state = ClientState::Idle { from: now + wait };
                }
            }
        }
    }

    fn client_acts(&mut self, i: usize) {
        let now = self.now;
        match self.clients[i].state.clone() {
            ClientState::Idle { from } if now >= from => {
                let serving: Vec<Sid> = self
                    .servers
                    .iter()
                    .filter(|(_, s)| s.core.as_ref().is_some_and(|c| c.serving()))
                    .map(|(sid, _)| *sid)
                    .collect();
                if serving.is_empty() {
                    return;
                }
                let server = serving[self.rng.below(serving.len() as u64) as usize];
                let conn = self.next_conn;
                self.next_conn += 1;
                self.conns.insert(
                    conn,
                    ClientConn {
                        server,
                        client: i,
                        last_at: now,
                        open: true,
                    },
                );
                self.clients[i].state = ClientState::Connecting { conn, server };
                let connect = self.clients[i].connect_request();
                let peer = format!("10.0.0.{}:{}", i + 1, 4000 + conn)
                    .parse()
                    .expect("literal address");
                self.feed(
                    server,
                    Input::Connect {
                        conn,
                        connect,
                        peer,
                    },
                );
            }
            ClientState::Connected { conn, server } if self.clients[i].outstanding.is_none() => {
                let (xid, op, body, path) = self.clients[i].next_write();
                self.log(|| format!("client {i} -> {server} create {path}"));
                self.feed(
                    server,
                    Input::Request {
                        conn,
                        xid,
                        op,
                        body,
                        received_us: now * 1000,
                    },
                );
            }
            _ => {}
        }
    }

    fn client_receives(&mut self, conn: ConnId, frame: Bytes, kind: FrameKind) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (i, server) = (c.client, c.server);
        let state = self.clients[i].state.clone();
        let handshake = kind == FrameKind::Handshake;
        match (state, decode(&frame, handshake)) {
            (ClientState::Connecting { conn: at, .. }, Some(Incoming::Handshake(rsp)))
                if at == conn =>
            {
                let client = &mut self.clients[i];
                if rsp.time_out > 0 {
                    if client.session != 0 && client.session == rsp.session_id {
                        self.check.resumed += 1;
                    }
                    client.session = rsp.session_id;
                    client.passwd = rsp.passwd.unwrap_or_default();
                    client.state = ClientState::Connected { conn, server };
                } else {
                    // Expired, or not known here: start a new session.
                    client.session = 0;
                    client.passwd = Bytes::from_static(&[0; 16]);
                }
            }
            (ClientState::Connected { conn: at, .. }, Some(Incoming::Reply(h))) if at == conn => {
                let client = &mut self.clients[i];
                let Some((xid, path)) = client.outstanding.clone() else {
                    return;
                };
                if h.xid != xid {
                    return;
                }
                client.outstanding = None;
                if h.err == crate::proto::ErrorCode::SessionExpired.code() {
                    client.session = 0;
                    client.passwd = Bytes::from_static(&[0; 16]);
                }
                if h.err == 0 {
                    self.acknowledged(server, path, h.zxid);
                }
            }
            _ => {}
        }
    }

    /// A create was answered OK with `zxid`: it must be on a quorum's disks.
    fn acknowledged(&mut self, server: Sid, path: String, zxid: i64) {
        self.log(|| format!("acked {path} at {zxid:#x} by {server}"));
        let bytes = self.servers.values().find_map(|s| {
            let d = s.disk.lock();
            let found = d
                .all_log()
                .rev()
                .find(|e| e.zxid.0 == zxid)
                .map(|e| e.txn.clone());
            found
        });
        let holders: BTreeSet<Sid> = match &bytes {
            Some(b) => self
                .servers
                .iter()
                .filter(|(_, s)| s.disk.lock().holds(zxid, b))
                .map(|(sid, _)| *sid)
                .collect(),
            None => BTreeSet::new(),
        };
        if !self.cfg_template.ensemble.is_quorum(&holders) {
            self.check.fail(format!(
                "create {path} ({zxid:#x}) acknowledged by {server} but durable only on {holders:?}"
            ));
        }
        self.check.acked.insert(path, zxid);
    }
}

fn client_conn(s: &ClientState) -> Option<ConnId> {
    match s {
        ClientState::Idle { .. } => None,
        ClientState::Connecting { conn, .. } | ClientState::Connected { conn, .. } => Some(*conn),
    }
}
