//! The simulated world: servers with disks, a network of election
//! datagrams and FIFO quorum links, a virtual clock and an event queue.
//!
//! Everything random comes from one seeded generator, and events at the
//! same instant run in insertion order, so a seed replays exactly.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use bytes::Bytes;

use super::checks::Checker;
use crate::rng::SplitMix64 as Rng;
use crate::zab::election::ElectionTiming;
use crate::zab::peer::{Config, DurableState, LinkId, Output, Peer};
use crate::zab::quorum::{Ensemble, Member};
use crate::zab::types::{Entry, Notification, Packet, ServerState, Sid, Zxid};

/// A server's disk: what survives a crash.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub accepted: u32,
    pub current: u32,
    /// The newest snapshot: an applied prefix of the history.
    pub snapshot: Vec<Entry>,
    /// Log entries that have been fsync'd.
    pub log: Vec<Entry>,
    /// Written but not yet fsync'd (lost on power failure).
    pub unsynced: Vec<Entry>,
}

impl Disk {
    /// The tree as recovery rebuilds it: snapshot, then the log after it.
    pub fn replay(&self) -> Vec<Entry> {
        let mut state = self.snapshot.clone();
        let base = state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
        for e in self.log.iter().chain(&self.unsynced) {
            if e.zxid > base && state.last().is_none_or(|l| e.zxid > l.zxid) {
                state.push(e.clone());
            }
        }
        state
    }

    fn all_log(&self) -> impl Iterator<Item = &Entry> {
        self.log.iter().chain(&self.unsynced)
    }
}

pub struct Node {
    pub peer: Option<Peer>,
    pub disk: Disk,
    /// The tree: applied entries in order.
    pub state: Vec<Entry>,
    /// An fsync is scheduled.
    fsync_pending: bool,
    /// Incarnation, so events for a dead process are dropped.
    pub life: u64,
}

#[derive(Debug, Clone)]
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
    Client,
}

struct Link {
    a: Sid,
    b: Sid,
    alive: bool,
    /// Last scheduled delivery time per direction, for FIFO.
    last_at: [u64; 2],
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
    pub nodes: BTreeMap<Sid, Node>,
    pub cfg_template: Config,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    seq: u64,
    links: BTreeMap<LinkId, Link>,
    next_link: u64,
    /// Pairs that cannot talk.
    pub cut: BTreeSet<(Sid, Sid)>,
    pub faults: Faults,
    pub check: Checker,
    /// Writes proposed, by txn payload → who answers the client.
    next_write: u64,
    pub client_enabled: bool,
    pub trace: Vec<String>,
    pub tracing: bool,
}

pub const TICK_STEP: u64 = 10;

impl World {
    pub fn new(seed: u64, voters: u64, observers: u64, faults: Faults) -> World {
        let members: Vec<(Sid, Member)> = (1..=voters)
            .map(|s| (s, Member::Participant))
            .chain((voters + 1..=voters + observers).map(|s| (s, Member::Observer)))
            .collect();
        let ensemble = Ensemble::new(members.clone());
        let cfg = Config {
            me: 0,
            ensemble,
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
            nodes: BTreeMap::new(),
            cfg_template: cfg,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            seq: 0,
            links: BTreeMap::new(),
            next_link: 1,
            cut: BTreeSet::new(),
            faults,
            check: Checker::default(),
            next_write: 0,
            client_enabled: true,
            trace: Vec::new(),
            tracing: false,
        };
        for (sid, _) in members {
            w.nodes.insert(
                sid,
                Node {
                    peer: None,
                    disk: Disk::default(),
                    state: vec![],
                    fsync_pending: false,
                    life: 0,
                },
            );
            w.start(sid);
        }
        w.schedule(0, Event::Client);
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
        self.nodes[&sid].peer.is_some()
    }

    fn reachable(&self, a: Sid, b: Sid) -> bool {
        a == b || !(self.cut.contains(&(a, b)) || self.cut.contains(&(b, a)))
    }

    fn delay(&mut self) -> u64 {
        1 + self.rng.below(self.faults.max_delay)
    }

    /// Boots (or reboots) a server from its disk.
    pub fn start(&mut self, sid: Sid) {
        let node = self.nodes.get_mut(&sid).expect("node");
        node.state = node.disk.replay();
        node.life += 1;
        let life = node.life;
        let cfg = Config {
            me: sid,
            ..self.cfg_template.clone()
        };
        let keep = cfg.commit_log_count;
        let disk = DurableState {
            accepted_epoch: node.disk.accepted,
            current_epoch: node.disk.current,
            last_zxid: node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO),
            recent: node.state.iter().rev().take(keep).rev().cloned().collect(),
        };
        node.peer = Some(Peer::new(cfg, disk, self.now));
        self.log(|| format!("start {sid}"));
        self.schedule(self.now + TICK_STEP, Event::Tick(sid, life));
        self.run_outputs(sid);
    }

    /// kill -9 (or power failure when the faults allow disk loss).
    pub fn crash(&mut self, sid: Sid) {
        let power = self.faults.disk_loss && self.rng.chance(0.5);
        let node = self.nodes.get_mut(&sid).expect("node");
        if node.peer.take().is_none() {
            return;
        }
        node.fsync_pending = false;
        if power {
            // A prefix of the unsynced writes may have reached the platter.
            let keep = self.rng.below(node.disk.unsynced.len() as u64 + 1) as usize;
            let node = self.nodes.get_mut(&sid).expect("node");
            let lost = node.disk.unsynced[keep..]
                .iter()
                .filter(|e| self.check.acked.contains_key(&e.zxid))
                .count();
            self.check.acked_copies_lost += lost as u64;
            node.disk.unsynced.truncate(keep);
        }
        let node = self.nodes.get_mut(&sid).expect("node");
        let unsynced = std::mem::take(&mut node.disk.unsynced);
        node.disk.log.extend(unsynced);
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
            let life = self.nodes[&end].life;
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

    /// Separates `group` from everyone else.
    pub fn partition(&mut self, group: &[Sid]) {
        let all: Vec<Sid> = self.nodes.keys().copied().collect();
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

    fn peer(&mut self, sid: Sid) -> Option<&mut Peer> {
        self.nodes.get_mut(&sid).and_then(|n| n.peer.as_mut())
    }

    fn handle(&mut self, e: Event) {
        let now = self.now;
        match e {
            Event::Tick(sid, life) => {
                if self.nodes[&sid].life != life || !self.alive(sid) {
                    return;
                }
                self.peer(sid).expect("alive").tick(now);
                self.run_outputs(sid);
                self.schedule(now + TICK_STEP, Event::Tick(sid, life));
            }
            Event::Note { to, from, n } => {
                if self.alive(to) && self.reachable(from, to) {
                    self.peer(to).expect("alive").notification(now, from, n);
                    self.run_outputs(to);
                }
            }
            Event::Connected {
                from,
                to,
                link,
                life,
            } => {
                let ok = self.nodes[&from].life == life
                    && self.alive(from)
                    && self.alive(to)
                    && self.links.get(&link).is_some_and(|l| l.alive)
                    && self.reachable(from, to)
                    && self.nodes[&to]
                        .peer
                        .as_ref()
                        .is_some_and(|p| p.state() == ServerState::Leading);
                if !ok {
                    self.break_link(link);
                    if self.alive(from) && self.nodes[&from].life == life {
                        self.peer(from).expect("alive").connect_failed(now, to);
                        self.run_outputs(from);
                    }
                    return;
                }
                self.peer(to).expect("alive").accepted(now, link);
                self.run_outputs(to);
                self.peer(from).expect("alive").connected(now, to, link);
                self.run_outputs(from);
            }
            Event::ConnectFailed { from, to, life } => {
                if self.nodes[&from].life == life && self.alive(from) {
                    self.peer(from).expect("alive").connect_failed(now, to);
                    self.run_outputs(from);
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
                    self.peer(to).expect("alive").packet(now, link, packet);
                    self.run_outputs(to);
                }
            }
            Event::LinkClosed { to, link, life } => {
                if self.nodes[&to].life == life && self.alive(to) {
                    self.peer(to).expect("alive").link_closed(now, link);
                    self.run_outputs(to);
                }
            }
            Event::Fsync(sid, life) => {
                let node = self.nodes.get_mut(&sid).expect("node");
                if node.life != life || node.peer.is_none() {
                    return;
                }
                node.fsync_pending = false;
                let synced = std::mem::take(&mut node.disk.unsynced);
                let Some(last) = synced.last().map(|e| e.zxid) else {
                    return;
                };
                node.disk.log.extend(synced);
                node.peer.as_mut().expect("alive").persisted(now, last);
                self.run_outputs(sid);
            }
            Event::Client => {
                if self.client_enabled {
                    self.client_write();
                }
                let d = 5 + self.rng.below(40);
                self.schedule(now + d, Event::Client);
            }
        }
    }

    /// A client write: to the leader directly, or through a follower.
    fn client_write(&mut self) {
        let serving: Vec<Sid> = self
            .nodes
            .iter()
            .filter(|(_, n)| n.peer.as_ref().is_some_and(|p| p.is_serving()))
            .map(|(s, _)| *s)
            .collect();
        if serving.is_empty() {
            return;
        }
        let at = serving[self.rng.below(serving.len() as u64) as usize];
        self.next_write += 1;
        let payload = Bytes::from(format!("w{}", self.next_write));
        let peer = self.peer(at).expect("alive");
        if peer.state() == ServerState::Leading {
            self.propose(at, payload, at);
        } else {
            // The "request" names the server that answers the client.
            let mut data = at.to_be_bytes().to_vec();
            data.extend_from_slice(&payload);
            let _ = peer.forward(Bytes::from(data), vec![]);
            self.run_outputs(at);
        }
    }

    fn propose(&mut self, leader: Sid, payload: Bytes, answer_by: Sid) {
        let now = self.now;
        let peer = self.peer(leader).expect("alive");
        let Some(zxid) = peer.next_zxid() else { return };
        let mut txn = answer_by.to_be_bytes().to_vec();
        txn.extend_from_slice(&payload);
        if peer
            .propose(
                now,
                Entry {
                    zxid,
                    txn: Bytes::from(txn),
                },
            )
            .is_ok()
        {
            self.run_outputs(leader);
        }
    }

    /// Performs a server's outputs in order.
    fn run_outputs(&mut self, sid: Sid) {
        loop {
            let Some(peer) = self.peer(sid) else { return };
            let outs = peer.take_outputs();
            if outs.is_empty() {
                return;
            }
            for o in outs {
                self.output(sid, o);
            }
        }
    }

    fn output(&mut self, sid: Sid, o: Output) {
        let now = self.now;
        if !matches!(o, Output::Notify { .. } | Output::Send { .. }) {
            self.log(|| format!("{sid} {o:?}").chars().take(200).collect());
        }
        match o {
            Output::Notify { to, n } => {
                if self.rng.chance(self.faults.note_loss) {
                    return;
                }
                let d = self.delay();
                self.schedule(now + d, Event::Note { to, from: sid, n });
            }
            Output::Connect { to } => {
                let life = self.nodes[&sid].life;
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
                    self.schedule(
                        now + d,
                        Event::Connected {
                            from: sid,
                            to,
                            link,
                            life,
                        },
                    );
                } else {
                    self.schedule(
                        now + d,
                        Event::ConnectFailed {
                            from: sid,
                            to,
                            life,
                        },
                    );
                }
            }
            Output::Send { link, packet } => self.send(sid, link, packet),
            Output::SendSnapshot { link, zxid } => {
                let state = &self.nodes[&sid].state;
                let at = state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                assert_eq!(
                    at, zxid,
                    "server {sid}: snapshot asked at {zxid} but tree is at {at}"
                );
                let image = super::encode_entries(state);
                self.send(sid, link, Packet::Snap { zxid, image });
            }
            Output::Close { link } => self.break_link(link),
            Output::Persist(e) => {
                let node = self.nodes.get_mut(&sid).expect("node");
                node.disk.unsynced.push(e);
                if !node.fsync_pending {
                    node.fsync_pending = true;
                    let life = node.life;
                    let d = if self.faults.slow_disk && self.rng.chance(0.3) {
                        20 + self.rng.below(80)
                    } else {
                        1 + self.rng.below(8)
                    };
                    self.schedule(now + d, Event::Fsync(sid, life));
                }
            }
            Output::Truncate(zxid) => {
                let node = self.nodes.get_mut(&sid).expect("node");
                node.disk.log.retain(|e| e.zxid <= zxid);
                node.disk.unsynced.retain(|e| e.zxid <= zxid);
                if node.disk.snapshot.last().is_some_and(|e| e.zxid > zxid) {
                    self.check.truncated_below_snapshot += 1;
                    node.disk.snapshot.retain(|e| e.zxid <= zxid);
                }
                node.state = node.disk.replay();
                let at = node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                if at != zxid {
                    self.check.fail(format!(
                        "server {sid}: TRUNC to {zxid} leaves the tree at {at}"
                    ));
                }
            }
            Output::InstallSnapshot { zxid, image } => {
                let node = self.nodes.get_mut(&sid).expect("node");
                node.state = super::decode_entries(&image);
                let at = node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                assert_eq!(at, zxid);
            }
            Output::SaveSnapshot { zxid } => {
                let node = self.nodes.get_mut(&sid).expect("node");
                let at = node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                assert_eq!(
                    at, zxid,
                    "server {sid}: snapshot at {zxid} but tree at {at}"
                );
                node.disk.snapshot = node.state.clone();
            }
            Output::Reload => {
                let node = self.nodes.get_mut(&sid).expect("node");
                node.state = node.disk.replay();
                let keep = self.cfg_template.commit_log_count;
                let node = &self.nodes[&sid];
                let disk = DurableState {
                    accepted_epoch: node.disk.accepted,
                    current_epoch: node.disk.current,
                    last_zxid: node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO),
                    recent: node.state.iter().rev().take(keep).rev().cloned().collect(),
                };
                self.peer(sid).expect("alive").reload(now, disk);
            }
            Output::SetAcceptedEpoch(e) => {
                self.nodes.get_mut(&sid).expect("node").disk.accepted = e
            }
            Output::SetCurrentEpoch(e) => self.nodes.get_mut(&sid).expect("node").disk.current = e,
            Output::Deliver(e) => {
                let node = self.nodes.get_mut(&sid).expect("node");
                if let Some(last) = node.state.last() {
                    if e.zxid <= last.zxid {
                        let msg = format!("server {sid}: delivered {} after {}", e.zxid, last.zxid);
                        self.check.fail(msg);
                        return;
                    }
                }
                node.state.push(e.clone());
                self.check.committed(sid, &e);
                let answer_by = Sid::from_be_bytes(e.txn[..8].try_into().expect("8 bytes"));
                if answer_by == sid {
                    self.check.acknowledged(&e);
                    self.durable_on_quorum(&e);
                }
            }
            Output::FastForward { through } => {
                let node = self.nodes.get_mut(&sid).expect("node");
                let last = node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                let more: Vec<Entry> = node
                    .disk
                    .all_log()
                    .filter(|e| e.zxid > last && e.zxid <= through)
                    .cloned()
                    .collect();
                node.state.extend(more);
                let at = node.state.last().map(|e| e.zxid).unwrap_or(Zxid::ZERO);
                if at != through {
                    self.check.fail(format!(
                        "server {sid}: fast-forward to {through} reached {at}"
                    ));
                }
            }
            Output::Established { epoch, through } => {
                let state = self.nodes[&sid].state.clone();
                self.check.established(sid, epoch, through, &state);
            }
            Output::Role { .. } | Output::Warn(_) | Output::Info(_) | Output::Touches { .. } => {}
            Output::PingFromLeader => self.peer(sid).expect("alive").learner_ping(Bytes::new()),
            Output::LearnerRequest { data, .. } => {
                let answer_by = Sid::from_be_bytes(data[..8].try_into().expect("8 bytes"));
                self.propose(sid, data.slice(8..), answer_by);
            }
            Output::Revalidate { .. }
            | Output::RevalidateReply { .. }
            | Output::SyncDone { .. } => {}
        }
    }

    /// An acknowledged write must already be on the disks of a quorum:
    /// that is what lets it survive any minority of failures.
    fn durable_on_quorum(&mut self, e: &Entry) {
        let holders: BTreeSet<Sid> = self
            .nodes
            .iter()
            .filter(|(_, n)| {
                let has =
                    |l: &Vec<Entry>| l.iter().rev().any(|x| x.zxid == e.zxid && x.txn == e.txn);
                has(&n.disk.log) || has(&n.disk.snapshot)
            })
            .map(|(s, _)| *s)
            .collect();
        if !self.cfg_template.ensemble.is_quorum(&holders) {
            self.check.fail(format!(
                "write {} acknowledged but durable only on {holders:?}",
                e.zxid
            ));
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
}
